/*
 * ondisk.h - every HAMMER (v1, on-disk versions 1..7) structure.
 *
 * Written from the format facts in docs/SPEC.md.  All on-disk integers are
 * little-endian.  The structs below describe the on-disk layout exactly
 * (fixed-width fields, named reserved fields, no implicit padding), and the
 * *_to_host / *_to_disk helpers swap every field in place at the buffer
 * boundary, so the code is correct on a big-endian host too (on x86 they
 * compile to nothing).  CRCs are always computed over disk-order bytes.
 */
#ifndef HAMMER_ONDISK_H
#define HAMMER_ONDISK_H

#include <stddef.h>
#include <stdint.h>
#include <endian.h>

typedef uint64_t hammer_off_t;
typedef uint64_t hammer_tid_t;
typedef uint32_t hammer_crc_t;

/* A UUID exactly as HAMMER stores it: 16 raw bytes (DCE layout). */
typedef struct hammer_uuid {
	uint8_t b[16];
} hammer_uuid_t;

/* ---------------------------------------------------------------- sizes */
#define HAMMER_BUFSIZE		16384
#define HAMMER_BUFMASK		(HAMMER_BUFSIZE - 1)
#define HAMMER_XBUFSIZE		65536
#define HAMMER_XBUFMASK		(HAMMER_XBUFSIZE - 1)
#define HAMMER_XDEMARC		(1024 * 1024)
#define HAMMER_BIGBLOCK_BITS	23
#define HAMMER_BIGBLOCK_SIZE	(1 << HAMMER_BIGBLOCK_BITS)	/* 8 MB */
#define HAMMER_BIGBLOCK_MASK64	((uint64_t)HAMMER_BIGBLOCK_SIZE - 1)
#define HAMMER_HINTBLOCK_SIZE	(HAMMER_BIGBLOCK_SIZE * 4)
#define HAMMER_MAX_VOLUMES	256
#define HAMMER_VOL_JUNK_SIZE	(HAMMER_BUFSIZE * 16)		/* 256 KB */
#define HAMMER_BOOT_MINBYTES	(32 * 1024)
#define HAMMER_BOOT_MAXBYTES	(256 * 1024 * 1024)
#define HAMMER_MEM_MINBYTES	(256 * 1024)
#define HAMMER_MEM_MAXBYTES	(64ULL * 1024 * 1024 * 1024)
#define HAMMER_MAX_VOLUME_BYTES	(1ULL << 52)
#define HAMMER_UNDO_LAYER2	128	/* entries in vol0_undo_array */
#define HAMMER_MIN_UNDO_BIGBLOCKS 64
#define HAMMER_MAX_UNDO_BIGBLOCKS HAMMER_UNDO_LAYER2

#define HAMMER_MIN_TID		0ULL
#define HAMMER_MAX_TID		0xFFFFFFFFFFFFFFFFULL
#define HAMMER_MIN_KEY		INT64_MIN
#define HAMMER_MAX_KEY		INT64_MAX
#define HAMMER_MIN_OBJID	HAMMER_MIN_KEY
#define HAMMER_MAX_OBJID	HAMMER_MAX_KEY
#define HAMMER_MIN_RECTYPE	0x0U
#define HAMMER_MAX_RECTYPE	0xFFFFU
/* The whole 32-bit on-disk localization range (DragonFly's "ONDISK" names;
 * its HAMMER_MAX_LOCALIZATION is the 16-bit type range, not this). */
#define HAMMER_MIN_ONDISK_LOCALIZATION	0x0U
#define HAMMER_MAX_ONDISK_LOCALIZATION	0xFFFFFFFFU

/* --------------------------------------------------------- offset codec */
#define HAMMER_OFF_ZONE_MASK	0xF000000000000000ULL
#define HAMMER_OFF_VOL_MASK	0x0FF0000000000000ULL
#define HAMMER_OFF_SHORT_MASK	0x000FFFFFFFFFFFFFULL
#define HAMMER_OFF_LONG_MASK	0x0FFFFFFFFFFFFFFFULL
#define HAMMER_OFF_BAD		0xFFFFFFFFFFFFFFFFULL

enum hammer_zone {
	HAMMER_ZONE_FREE_INDEX		= 0,
	HAMMER_ZONE_RAW_VOLUME_INDEX	= 1,
	HAMMER_ZONE_RAW_BUFFER_INDEX	= 2,
	HAMMER_ZONE_UNDO_INDEX		= 3,
	HAMMER_ZONE_FREEMAP_INDEX	= 4,
	HAMMER_ZONE_BTREE_INDEX		= 8,
	HAMMER_ZONE_META_INDEX		= 9,
	HAMMER_ZONE_LARGE_DATA_INDEX	= 10,
	HAMMER_ZONE_SMALL_DATA_INDEX	= 11,
	HAMMER_ZONE_UNAVAIL_INDEX	= 15,
};
#define HAMMER_MAX_ZONES	16

static inline hammer_off_t hammer_encode(unsigned zone, unsigned vol,
					 uint64_t off)
{
	return ((hammer_off_t)(zone & 15) << 60) |
	       ((hammer_off_t)(vol & 255) << 52) |
	       (off & HAMMER_OFF_SHORT_MASK);
}
static inline unsigned hammer_zone_of(hammer_off_t o) { return (unsigned)(o >> 60); }
static inline unsigned hammer_vol_of(hammer_off_t o) { return (unsigned)((o >> 52) & 255); }
static inline uint64_t hammer_short_of(hammer_off_t o) { return o & HAMMER_OFF_SHORT_MASK; }
/* Zones 2, 4 and 8..15 are the same address space with another nibble. */
static inline hammer_off_t hammer_xlate_zone(hammer_off_t o, unsigned zone)
{
	return (o & ~HAMMER_OFF_ZONE_MASK) | ((hammer_off_t)zone << 60);
}
static inline int hammer_zone_direct_xlated(unsigned zone)
{
	return zone == HAMMER_ZONE_RAW_BUFFER_INDEX ||
	       zone == HAMMER_ZONE_FREEMAP_INDEX ||
	       (zone >= HAMMER_ZONE_BTREE_INDEX && zone < HAMMER_MAX_ZONES);
}
static inline int hammer_zone_is_data(unsigned zone)
{
	return zone == HAMMER_ZONE_LARGE_DATA_INDEX ||
	       zone == HAMMER_ZONE_SMALL_DATA_INDEX;
}
const char *hammer_zone_name(unsigned zone);	/* "btree", "" if none */

/* ------------------------------------------------------ volume header */
#define HAMMER_FSBUF_VOLUME		0xC8414D4DC5523031ULL
#define HAMMER_FSBUF_VOLUME_REV		0x313052C54D4D41C8ULL
#define HAMMER_VOL_VERSION_MIN		1
#define HAMMER_VOL_VERSION_DEFAULT	7
#define HAMMER_VOL_VERSION_MAX		7
#define HAMMER_VOL_VERSION_WIP		8
#define HAMMER_VOLF_NEEDFLUSH		0x0004
#define HAMMER_ROOT_VOLNO		0

/* Per-zone blockmap entry in the volume header (40 bytes). */
struct hammer_blockmap {
	hammer_off_t	phys_offset;
	hammer_off_t	first_offset;
	hammer_off_t	next_offset;
	hammer_off_t	alloc_offset;
	uint32_t	reserved01;
	hammer_crc_t	entry_crc;
};
#define HAMMER_BLOCKMAP_CRCSIZE offsetof(struct hammer_blockmap, entry_crc)

struct hammer_volume_ondisk {
	uint64_t	vol_signature;
	int64_t		vol_bot_beg;
	int64_t		vol_mem_beg;
	int64_t		vol_buf_beg;
	int64_t		vol_buf_end;
	int64_t		vol_reserved01;
	hammer_uuid_t	vol_fsid;
	hammer_uuid_t	vol_fstype;
	char		vol_label[64];
	int32_t		vol_no;
	int32_t		vol_count;
	uint32_t	vol_version;
	hammer_crc_t	vol_crc;
	uint32_t	vol_flags;
	uint32_t	vol_rootvol;
	uint32_t	vol_reserved[8];
	int64_t		vol0_stat_bigblocks;
	int64_t		vol0_stat_freebigblocks;
	int64_t		vol0_reserved01;
	int64_t		vol0_stat_inodes;
	int64_t		vol0_reserved02;
	hammer_off_t	vol0_btree_root;
	hammer_tid_t	vol0_next_tid;
	hammer_off_t	vol0_reserved03;
	struct hammer_blockmap vol0_blockmap[HAMMER_MAX_ZONES];
	hammer_off_t	vol0_undo_array[HAMMER_UNDO_LAYER2];
};
#define HAMMER_VOL_CRCSIZE1 offsetof(struct hammer_volume_ondisk, vol_crc)
#define HAMMER_VOL_CRCSIZE2 (sizeof(struct hammer_volume_ondisk) - \
			     offsetof(struct hammer_volume_ondisk, vol_flags))

/* ------------------------------------------------------------ freemap */
struct hammer_blockmap_layer1 {
	int64_t		blocks_free;
	hammer_off_t	phys_offset;	/* zone-2 address of layer-2 array */
	hammer_off_t	reserved01;
	hammer_crc_t	layer2_crc;	/* unused, 0 */
	hammer_crc_t	layer1_crc;
};
#define HAMMER_LAYER1_CRCSIZE offsetof(struct hammer_blockmap_layer1, layer1_crc)

struct hammer_blockmap_layer2 {
	uint8_t		zone;
	uint8_t		reserved01;
	uint16_t	reserved02;
	uint32_t	append_off;
	int32_t		bytes_free;
	hammer_crc_t	entry_crc;
};
#define HAMMER_LAYER2_CRCSIZE offsetof(struct hammer_blockmap_layer2, entry_crc)

#define HAMMER_BLOCKMAP_LAYER1	(HAMMER_BIGBLOCK_SIZE / 32)	/* 262144 */
#define HAMMER_BLOCKMAP_LAYER2	(HAMMER_BIGBLOCK_SIZE / 16)	/* 524288 */
#define HAMMER_BLOCKMAP_LAYER1_MASK 0x0FFFFC0000000000ULL
#define HAMMER_BLOCKMAP_LAYER2_MASK 0x000003FFFF800000ULL
#define HAMMER_BLOCKMAP_LAYER2_SPAN (HAMMER_BLOCKMAP_LAYER2_MASK + HAMMER_BIGBLOCK_SIZE)	/* 4 TB */
#define HAMMER_BLOCKMAP_UNAVAIL	HAMMER_OFF_BAD

static inline uint64_t hammer_layer1_index(hammer_off_t zone2)
{
	return (zone2 & HAMMER_BLOCKMAP_LAYER1_MASK) >> 42;
}
static inline uint64_t hammer_layer2_index(hammer_off_t zone2)
{
	return (zone2 & HAMMER_BLOCKMAP_LAYER2_MASK) >> HAMMER_BIGBLOCK_BITS;
}
static inline hammer_off_t hammer_layer1_offset(hammer_off_t zone2)
{
	return hammer_layer1_index(zone2) * sizeof(struct hammer_blockmap_layer1);
}
static inline hammer_off_t hammer_layer2_offset(hammer_off_t zone2)
{
	return hammer_layer2_index(zone2) * sizeof(struct hammer_blockmap_layer2);
}

/* ------------------------------------------------------------- B-tree */
#define HAMMER_BTREE_TYPE_INTERNAL	((uint8_t)'I')
#define HAMMER_BTREE_TYPE_LEAF		((uint8_t)'L')
#define HAMMER_BTREE_TYPE_RECORD	((uint8_t)'R')
#define HAMMER_BTREE_TYPE_DELETED	((uint8_t)'D')
#define HAMMER_BTREE_TYPE_NONE		((uint8_t)0)

/* The key part of every element (40 bytes). */
struct hammer_base_elm {
	int64_t		obj_id;
	int64_t		key;
	hammer_tid_t	create_tid;
	hammer_tid_t	delete_tid;
	uint16_t	rec_type;
	uint8_t		obj_type;
	uint8_t		btype;
	uint32_t	localization;
};

struct hammer_btree_internal_elm {
	struct hammer_base_elm base;
	hammer_tid_t	mirror_tid;
	hammer_off_t	subtree_offset;
	int32_t		reserved01;
	int32_t		reserved02;
};

struct hammer_btree_leaf_elm {
	struct hammer_base_elm base;
	uint32_t	create_ts;
	uint32_t	delete_ts;
	hammer_off_t	data_offset;
	int32_t		data_len;
	hammer_crc_t	data_crc;
};

typedef union hammer_btree_elm {
	struct hammer_base_elm		base;
	struct hammer_btree_leaf_elm	leaf;
	struct hammer_btree_internal_elm internal;
} hammer_btree_elm_t;

#define HAMMER_BTREE_MAXELMS	63
#define HAMMER_BTREE_LEAF_ELMS	HAMMER_BTREE_MAXELMS
#define HAMMER_BTREE_INT_ELMS	(HAMMER_BTREE_MAXELMS - 1)

struct hammer_node_ondisk {
	hammer_crc_t	crc;
	uint32_t	reserved01;
	hammer_off_t	parent;
	int32_t		count;
	uint8_t		type;
	uint8_t		reserved02;
	uint16_t	reserved03;
	hammer_off_t	reserved04;
	hammer_off_t	reserved05;
	hammer_off_t	reserved06;
	hammer_off_t	reserved07;
	hammer_tid_t	mirror_tid;
	hammer_btree_elm_t elms[HAMMER_BTREE_MAXELMS];
};
#define HAMMER_BTREE_NODE_SIZE	4096
#define HAMMER_BTREE_CRCOFF	offsetof(struct hammer_node_ondisk, reserved01)
#define HAMMER_BTREE_CRCSIZE	(HAMMER_BTREE_NODE_SIZE - HAMMER_BTREE_CRCOFF)

/* ------------------------------------------------------------ records */
enum hammer_rectype {
	HAMMER_RECTYPE_UNKNOWN	= 0x0000,
	HAMMER_RECTYPE_INODE	= 0x0001,
	HAMMER_RECTYPE_DATA	= 0x0010,
	HAMMER_RECTYPE_DIRENTRY	= 0x0011,
	HAMMER_RECTYPE_DB	= 0x0012,
	HAMMER_RECTYPE_EXT	= 0x0013,
	HAMMER_RECTYPE_FIX	= 0x0014,
	HAMMER_RECTYPE_PFS	= 0x0015,
	HAMMER_RECTYPE_SNAPSHOT	= 0x0016,
	HAMMER_RECTYPE_CONFIG	= 0x0017,
	HAMMER_RECTYPE_MAX	= 0xFFFF,
};
#define HAMMER_FIXKEY_SYMLINK	1

enum hammer_objtype {
	HAMMER_OBJTYPE_UNKNOWN	= 0,
	HAMMER_OBJTYPE_DIRECTORY = 1,
	HAMMER_OBJTYPE_REGFILE	= 2,
	HAMMER_OBJTYPE_DBFILE	= 3,
	HAMMER_OBJTYPE_FIFO	= 4,
	HAMMER_OBJTYPE_CDEV	= 5,
	HAMMER_OBJTYPE_BDEV	= 6,
	HAMMER_OBJTYPE_SOFTLINK	= 7,
	HAMMER_OBJTYPE_PSEUDOFS	= 8,
	HAMMER_OBJTYPE_SOCKET	= 9,
};

#define HAMMER_LOCALIZE_INODE	0x00000001U
#define HAMMER_LOCALIZE_MISC	0x00000002U
#define HAMMER_LOCALIZE_MASK	0x0000FFFFU
#define HAMMER_LOCALIZE_PSEUDOFS_MASK 0xFFFF0000U
#define HAMMER_MAX_PFS		65536
#define HAMMER_ROOT_PFSID	0
static inline uint32_t hammer_pfs_localization(uint32_t pfs_id)
{
	return pfs_id << 16;
}

/* Inode data (128 bytes). */
#define HAMMER_INODE_DATA_VERSION	1
#define HAMMER_INODE_CRCSIZE		offsetof(struct hammer_inode_data, mtime)
#define HAMMER_INODE_BASESYMLEN		24
#define HAMMER_INODE_CAP_DIRHASH_MASK	0x03
#define HAMMER_INODE_CAP_DIRHASH_ALG0	0x00
#define HAMMER_INODE_CAP_DIRHASH_ALG1	0x01
#define HAMMER_INODE_CAP_DIR_LOCAL_INO	0x04

struct hammer_inode_data {
	uint16_t	version;
	uint16_t	mode;
	uint32_t	uflags;
	uint32_t	rmajor;
	uint32_t	rminor;
	uint64_t	ctime;
	int64_t		parent_obj_id;
	hammer_uuid_t	uid;
	hammer_uuid_t	gid;
	uint8_t		obj_type;
	uint8_t		cap_flags;
	uint16_t	reserved01;
	uint32_t	reserved02;
	uint64_t	nlinks;
	uint64_t	size;
	union {
		char	symlink[HAMMER_INODE_BASESYMLEN];
	} ext;
	uint64_t	mtime;	/* not covered by the leaf data_crc */
	uint64_t	atime;	/* not covered by the leaf data_crc */
};

/* Directory entry data: 16 bytes then the name (data_len - 16 bytes). */
struct hammer_direntry_data {
	int64_t		obj_id;
	uint32_t	localization;
	uint32_t	reserved01;
	char		name[];
};
#define HAMMER_DIRENTRY_HDRSIZE	16
#define HAMMER_MAX_NAMELEN	255

/* PFS data: packed, 292 bytes. */
#define HAMMER_PFSD_SLAVE	0x00000001U
#define HAMMER_PFSD_DELETED	0x80000000U
struct __attribute__((packed)) hammer_pseudofs_data {
	hammer_tid_t	sync_low_tid;
	hammer_tid_t	sync_beg_tid;
	hammer_tid_t	sync_end_tid;
	uint64_t	sync_beg_ts;
	uint64_t	sync_end_ts;
	hammer_uuid_t	shared_uuid;
	hammer_uuid_t	unique_uuid;
	int32_t		reserved01;
	uint32_t	mirror_flags;
	char		label[64];
	char		snapshots[64];
	int32_t		reserved02;
	int32_t		reserved03;
	int32_t		reserved04;
	int32_t		prune_min;
	int32_t		prune_max;
	int32_t		reserved[16];
};

/* Snapshot data (128 bytes). */
struct hammer_snapshot_data {
	hammer_tid_t	tid;
	uint64_t	ts;
	uint64_t	reserved01;
	uint64_t	reserved02;
	char		label[64];
	uint64_t	reserved03[4];
};

/* Config data: NUL-terminated text. */
#define HAMMER_CONFIG_BYTES	1024
struct hammer_config_data {
	char		text[HAMMER_CONFIG_BYTES];
};

/* ------------------------------------------------- UNDO/REDO FIFO */
#define HAMMER_HEAD_SIGNATURE	0xC84EU
#define HAMMER_TAIL_SIGNATURE	0xC74FU
#define HAMMER_HEAD_TYPE_PAD	0x8040U
#define HAMMER_HEAD_TYPE_DUMMY	0x0041U
#define HAMMER_HEAD_TYPE_UNDO	0x0043U
#define HAMMER_HEAD_TYPE_REDO	0x0044U
#define HAMMER_HEAD_ALIGN	8
#define HAMMER_HEAD_ALIGN_MASK	(HAMMER_HEAD_ALIGN - 1)
#define HAMMER_HEAD_DOALIGN(n)	(((n) + HAMMER_HEAD_ALIGN_MASK) & ~HAMMER_HEAD_ALIGN_MASK)
#define HAMMER_UNDO_ALIGN	512
#define HAMMER_UNDO_MASK	(HAMMER_UNDO_ALIGN - 1)
#define HAMMER_SEQ_DUMMY_XOR	0x40000000U

struct hammer_fifo_head {
	uint16_t	hdr_signature;
	uint16_t	hdr_type;
	uint32_t	hdr_size;
	uint32_t	hdr_seq;
	hammer_crc_t	hdr_crc;
};
#define HAMMER_FIFO_HEAD_CRCOFF	offsetof(struct hammer_fifo_head, hdr_crc)

struct hammer_fifo_tail {
	uint16_t	tail_signature;
	uint16_t	tail_type;
	uint32_t	tail_size;
};

struct hammer_fifo_undo {
	struct hammer_fifo_head head;
	hammer_off_t	undo_offset;
	int32_t		undo_data_bytes;
	int32_t		undo_reserved01;
	/* followed by the old bytes (8-aligned) and a tail */
};

#define HAMMER_REDO_WRITE	0x00000001U
#define HAMMER_REDO_TRUNC	0x00000002U
#define HAMMER_REDO_TERM_WRITE	0x00000004U
#define HAMMER_REDO_TERM_TRUNC	0x00000008U
#define HAMMER_REDO_SYNC	0x00000010U

struct hammer_fifo_redo {
	struct hammer_fifo_head head;
	int64_t		redo_objid;
	hammer_off_t	redo_offset;
	int32_t		redo_data_bytes;
	uint32_t	redo_flags;
	uint32_t	redo_localization;
	uint32_t	redo_reserved01;
	uint64_t	redo_reserved02;
	/* followed by the payload and a tail */
};

#define HAMMER_UNDO_TAIL_OVERHEAD (sizeof(struct hammer_fifo_undo) + sizeof(struct hammer_fifo_tail))
#define HAMMER_REDO_TAIL_OVERHEAD (sizeof(struct hammer_fifo_redo) + sizeof(struct hammer_fifo_tail))
#define HAMMER_UNDO_MAX_PAYLOAD	(HAMMER_UNDO_ALIGN - HAMMER_UNDO_TAIL_OVERHEAD)	/* 472 */
#define HAMMER_REDO_MAX_PAYLOAD	(HAMMER_UNDO_ALIGN - HAMMER_REDO_TAIL_OVERHEAD)	/* 448 */

/* ------------------------------------------------ mirror stream */
#define HAMMER_IOC_MRECORD_SIGNATURE		0x4DD97272U
#define HAMMER_IOC_MRECORD_SIGNATURE_REV	0x7272D94DU
enum hammer_mrec_type {
	HAMMER_MREC_TYPE_RESERVED = 0,
	HAMMER_MREC_TYPE_REC	= 1,
	HAMMER_MREC_TYPE_PFSD	= 2,
	HAMMER_MREC_TYPE_UPDATE	= 3,
	HAMMER_MREC_TYPE_SYNC	= 4,
	HAMMER_MREC_TYPE_SKIP	= 5,
	HAMMER_MREC_TYPE_PASS	= 6,
	HAMMER_MREC_TYPE_TERM	= 7,
	HAMMER_MREC_TYPE_IDLE	= 8,
};
#define HAMMER_MRECF_TYPE_LOMASK	0x000000FFU
#define HAMMER_MRECF_TYPE_MASK		0x800000FFU
#define HAMMER_MRECF_CRC_ERROR		0x80000000U
#define HAMMER_MRECF_DATA_CRC_BAD	0x40000000U
#define HAMMER_MRECF_RECD_CRC_BAD	0x20000000U
#define HAMMER_MRECF_NODATA		0x10000000U
#define HAMMER_MREC_HEADSIZE		16
#define HAMMER_MREC_ALIGN		8
#define HAMMER_MREC_DOALIGN(n)		(((n) + 7) & ~(uint32_t)7)
#define HAMMER_PFSD_VERSION		1

struct hammer_ioc_mrecord_head {
	uint32_t	signature;
	hammer_crc_t	rec_crc;	/* legacy CRC-32 of bytes [8, rec_size) */
	uint32_t	rec_size;
	uint32_t	type;
};
struct hammer_ioc_mrecord_rec {
	struct hammer_ioc_mrecord_head head;
	struct hammer_btree_leaf_elm leaf;
	/* followed by data_len bytes */
};
struct hammer_ioc_mrecord_pfs {
	struct hammer_ioc_mrecord_head head;
	uint32_t	version;
	uint32_t	reserved01;
	struct hammer_pseudofs_data pfsd;
};
struct hammer_ioc_mrecord_update {
	struct hammer_ioc_mrecord_head head;
	hammer_tid_t	tid;
};
struct hammer_ioc_mrecord_sync {
	struct hammer_ioc_mrecord_head head;
	hammer_tid_t	reserved01;
};
struct hammer_ioc_mrecord_skip {
	struct hammer_ioc_mrecord_head head;
	struct hammer_base_elm skip_beg;
	struct hammer_base_elm skip_end;
};

/* --------------------------------------------------- static checks */
#define HAMMER_SA(c, m) _Static_assert(c, m)
HAMMER_SA(sizeof(hammer_uuid_t) == 16, "uuid");
HAMMER_SA(sizeof(struct hammer_blockmap) == 40, "blockmap");
HAMMER_SA(offsetof(struct hammer_blockmap, entry_crc) == 36, "blockmap crc");
HAMMER_SA(sizeof(struct hammer_volume_ondisk) == 1928, "volume header");
HAMMER_SA(offsetof(struct hammer_volume_ondisk, vol_fsid) == 48, "vol_fsid");
HAMMER_SA(offsetof(struct hammer_volume_ondisk, vol_label) == 80, "vol_label");
HAMMER_SA(offsetof(struct hammer_volume_ondisk, vol_no) == 144, "vol_no");
HAMMER_SA(offsetof(struct hammer_volume_ondisk, vol_crc) == 156, "vol_crc");
HAMMER_SA(offsetof(struct hammer_volume_ondisk, vol_flags) == 160, "vol_flags");
HAMMER_SA(offsetof(struct hammer_volume_ondisk, vol0_stat_bigblocks) == 200, "stat");
HAMMER_SA(offsetof(struct hammer_volume_ondisk, vol0_btree_root) == 240, "root");
HAMMER_SA(offsetof(struct hammer_volume_ondisk, vol0_next_tid) == 248, "next_tid");
HAMMER_SA(offsetof(struct hammer_volume_ondisk, vol0_blockmap) == 264, "blockmap[]");
HAMMER_SA(offsetof(struct hammer_volume_ondisk, vol0_undo_array) == 904, "undo[]");
HAMMER_SA(sizeof(struct hammer_blockmap_layer1) == 32, "layer1");
HAMMER_SA(offsetof(struct hammer_blockmap_layer1, layer1_crc) == 28, "layer1 crc");
HAMMER_SA(sizeof(struct hammer_blockmap_layer2) == 16, "layer2");
HAMMER_SA(offsetof(struct hammer_blockmap_layer2, entry_crc) == 12, "layer2 crc");
HAMMER_SA(sizeof(struct hammer_base_elm) == 40, "base elm");
HAMMER_SA(offsetof(struct hammer_base_elm, localization) == 36, "localization");
HAMMER_SA(sizeof(struct hammer_btree_internal_elm) == 64, "internal elm");
HAMMER_SA(sizeof(struct hammer_btree_leaf_elm) == 64, "leaf elm");
HAMMER_SA(offsetof(struct hammer_btree_leaf_elm, data_offset) == 48, "data_offset");
HAMMER_SA(offsetof(struct hammer_btree_leaf_elm, data_crc) == 60, "data_crc");
HAMMER_SA(offsetof(struct hammer_btree_internal_elm, subtree_offset) == 48, "subtree");
HAMMER_SA(sizeof(hammer_btree_elm_t) == 64, "elm");
HAMMER_SA(sizeof(struct hammer_node_ondisk) == HAMMER_BTREE_NODE_SIZE, "node");
HAMMER_SA(offsetof(struct hammer_node_ondisk, count) == 16, "node count");
HAMMER_SA(offsetof(struct hammer_node_ondisk, type) == 20, "node type");
HAMMER_SA(offsetof(struct hammer_node_ondisk, mirror_tid) == 56, "node mirror");
HAMMER_SA(offsetof(struct hammer_node_ondisk, elms) == 64, "node elms");
HAMMER_SA(sizeof(struct hammer_inode_data) == 128, "inode data");
HAMMER_SA(offsetof(struct hammer_inode_data, uid) == 32, "inode uid");
HAMMER_SA(offsetof(struct hammer_inode_data, obj_type) == 64, "inode objtype");
HAMMER_SA(offsetof(struct hammer_inode_data, nlinks) == 72, "inode nlinks");
HAMMER_SA(offsetof(struct hammer_inode_data, ext) == 88, "inode ext");
HAMMER_SA(offsetof(struct hammer_inode_data, mtime) == 112, "inode mtime");
HAMMER_SA(sizeof(struct hammer_direntry_data) == 16, "direntry");
HAMMER_SA(sizeof(struct hammer_pseudofs_data) == 292, "pfsd");
HAMMER_SA(offsetof(struct hammer_pseudofs_data, shared_uuid) == 40, "pfsd shared");
HAMMER_SA(offsetof(struct hammer_pseudofs_data, mirror_flags) == 76, "pfsd flags");
HAMMER_SA(offsetof(struct hammer_pseudofs_data, label) == 80, "pfsd label");
HAMMER_SA(offsetof(struct hammer_pseudofs_data, prune_min) == 220, "pfsd prune");
HAMMER_SA(sizeof(struct hammer_snapshot_data) == 128, "snapshot");
HAMMER_SA(offsetof(struct hammer_snapshot_data, label) == 32, "snapshot label");
HAMMER_SA(sizeof(struct hammer_config_data) == 1024, "config");
HAMMER_SA(sizeof(struct hammer_fifo_head) == 16, "fifo head");
HAMMER_SA(sizeof(struct hammer_fifo_tail) == 8, "fifo tail");
HAMMER_SA(sizeof(struct hammer_fifo_undo) == 32, "fifo undo");
HAMMER_SA(sizeof(struct hammer_fifo_redo) == 56, "fifo redo");
HAMMER_SA(HAMMER_UNDO_MAX_PAYLOAD == 472, "undo payload");
HAMMER_SA(HAMMER_REDO_MAX_PAYLOAD == 448, "redo payload");
HAMMER_SA(sizeof(struct hammer_ioc_mrecord_head) == 16, "mrec head");
HAMMER_SA(sizeof(struct hammer_ioc_mrecord_rec) == 80, "mrec rec");
HAMMER_SA(sizeof(struct hammer_ioc_mrecord_pfs) == 316, "mrec pfsd");
HAMMER_SA(sizeof(struct hammer_ioc_mrecord_update) == 24, "mrec update");
HAMMER_SA(sizeof(struct hammer_ioc_mrecord_skip) == 96, "mrec skip");

/* ------------------------------------------- byte order at the boundary */
#define HLE16(x) ((x) = (__typeof__(x))le16toh((uint16_t)(x)))
#define HLE32(x) ((x) = (__typeof__(x))le32toh((uint32_t)(x)))
#define HLE64(x) ((x) = (__typeof__(x))le64toh((uint64_t)(x)))
/* le*toh and htole* are the same permutation, so one routine serves both. */
void hammer_volume_swap(struct hammer_volume_ondisk *v);
void hammer_blockmap_swap(struct hammer_blockmap *b);
void hammer_layer1_swap(struct hammer_blockmap_layer1 *l1);
void hammer_layer2_swap(struct hammer_blockmap_layer2 *l2);
void hammer_base_elm_swap(struct hammer_base_elm *b);
void hammer_node_swap(struct hammer_node_ondisk *n);
void hammer_inode_data_swap(struct hammer_inode_data *d);
void hammer_pfsd_swap(struct hammer_pseudofs_data *p);
void hammer_fifo_head_swap(struct hammer_fifo_head *h);
void hammer_fifo_tail_swap(struct hammer_fifo_tail *t);

#endif /* HAMMER_ONDISK_H */
