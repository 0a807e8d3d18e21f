/*
 * test_fscheck.c - the whole-file-system checker (ref/fscheck.c).
 *
 * File systems are built on a newfs'd RAM image by inserting records
 * straight into the B-tree through btree_bufio: inodes in localization 1,
 * directory entries keyed by hammer_namekey, file data allocated with
 * hammer_blockmap_alloc and CRC'd, a second PFS, history (deleted
 * versions), hard links, sparse and large files, short and long symlinks,
 * an old-layout (ALG0, MISC-localized) directory, and a seeded crowd of
 * small files that makes the tree several levels deep.
 *
 *   - clean: at versions 7, 6, 4 and 1 the checker finds nothing, first
 *     with every record only in dirty cache buffers (CHECKMAP_SKIPPED is
 *     then the one warning), then after a flush through a fresh cache
 *     (freemap check included);  the bare newfs image and every DragonFly
 *     reference image (when ../shared exists) are clean too;
 *   - one test per finding code: the clean build with exactly one problem
 *     planted, and exactly that code must come back;
 *   - pass-through of the B-tree checker and of checkmap;
 *   - robustness: seeded random corruption of nodes (with valid CRCs, so
 *     the garbage reaches the record checks) and of payloads; the check
 *     must finish (valgrind / ASan runs make crashes visible).
 *
 * Seeded: HAMMER_TEST_SEED overrides the seed; failures print it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ref/blockmap.h"
#include "ref/btree.h"
#include "ref/btree_bufio.h"
#include "ref/buffer.h"
#include "ref/checkmap.h"
#include "ref/crc.h"
#include "ref/fscheck.h"
#include "ref/namekey.h"
#include "ref/newfs.h"
#include "ref/volume.h"

static uint64_t seed = 20260522;
static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ------------------------------------------------------------ the stack */

struct fs {
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	struct hammer_bmap *bm;
	struct hammer_btree_bufio *bio;
	struct hammer_node_io io;
	struct hammer_btree t;
	unsigned version;
	hammer_tid_t tid;	/* next TID (and obj_id) to hand out */
	/* directory keys in use, for namekey collisions */
	struct { uint32_t loc; int64_t dir, key; } keys[2048];
	int nkeys;
};

#define FS_SIZE (128ULL << 20)

static void fs_open_stack(struct fs *fs)
{
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_bufcache_open(fs->vs, 8 << 20, &fs->bc), 0);
	int rc = hammer_blockmap_open(fs->vs, fs->bc, &fs->bm, &err);
	if (rc)
		fail_msg("blockmap: %s", err.msg);
	assert_int_equal(hammer_btree_bufio_open(fs->vs, fs->bc, fs->bm, &fs->bio,
						 &fs->io), 0);
	hammer_btree_open(&fs->t, &fs->io, hammer_volset_root(fs->vs)->vol0_btree_root);
}

static void fs_close_stack(struct fs *fs)
{
	hammer_btree_bufio_close(fs->bio);
	hammer_blockmap_close(fs->bm);
	hammer_bufcache_close(fs->bc);
}

static void fs_new(struct fs *fs, unsigned version)
{
	memset(fs, 0, sizeof(*fs));
	struct hammer_bdev *bd;
	assert_int_equal(hammer_bdev_ram_open(FS_SIZE, "fscheck", &bd), 0);
	struct hammer_newfs_opts o;
	hammer_newfs_opts_init(&o);
	o.label = "FSCK";
	o.force = 1;
	o.undo_size = 8 << 20;
	o.version = version;
	assert_int_equal(hammer_uuid_parse("a381fb52-b407-dc4f-b4be-5c83274d03cb",
					   &o.fsid), 0);
	o.ctime_us = 1795306471606999ULL;
	struct hammer_newfs_result res;
	struct hammer_err err = { 0 };
	int rc = hammer_newfs_format(&bd, 1, &o, &res, &err);
	if (rc)
		fail_msg("newfs: %s", err.msg);
	rc = hammer_volset_open_bdevs(&bd, 1, 0, &fs->vs, &err);
	if (rc)
		fail_msg("open: %s", err.msg);
	fs->version = fs->vs->version;
	fs_open_stack(fs);
	fs->tid = res.create_tid + 1;
}

static void fs_free(struct fs *fs)
{
	fs_close_stack(fs);
	hammer_volset_close(fs->vs);
}

/* Make the header agree with what was built (in memory only). */
static void fs_settle(struct fs *fs)
{
	struct hammer_volume_ondisk *root = hammer_volset_root(fs->vs);
	root->vol0_next_tid = fs->tid + 1;
	root->vol0_btree_root = fs->t.root;
}

/* Write everything, then read back through a fresh, empty cache. */
static void fs_flush_recache(struct fs *fs)
{
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_btree_bufio_pinned(fs->bio), 0);
	hammer_blockmap_store(fs->bm);
	fs_settle(fs);
	int rc = hammer_bufcache_flush_kind(fs->bc, HAMMER_BUF_DATA, &err);
	if (!rc)
		rc = hammer_bufcache_flush_kind(fs->bc, HAMMER_BUF_META, &err);
	if (!rc)
		rc = hammer_volset_write_header(fs->vs, 0, &err);
	if (!rc)
		rc = hammer_volset_flush(fs->vs);
	if (rc)
		fail_msg("flush: %s", err.msg);
	fs_close_stack(fs);
	fs_open_stack(fs);
}

/* --------------------------------------------------------- record makers */

/* Allocate `len` bytes in `zone` and write `data` there through the cache. */
static hammer_off_t put_data(struct fs *fs, unsigned zone, const void *data, size_t len)
{
	struct hammer_err err = { 0 };
	hammer_off_t off;
	int rc = hammer_blockmap_alloc(fs->bm, zone, (int)len, &off, &err);
	if (rc)
		fail_msg("alloc zone %u len %zu: %s", zone, len, err.msg);
	size_t done = 0;
	while (done < len) {
		hammer_off_t a = off + done;
		size_t piece = HAMMER_BUFSIZE - (size_t)(a & HAMMER_BUFMASK);
		if (piece > len - done)
			piece = len - done;
		struct hammer_buffer *b;
		void *p;
		rc = hammer_buffer_get(fs->bc, a, piece, 0, &b, &p, &err);
		if (rc)
			fail_msg("buffer %016llx: %s", (unsigned long long)a, err.msg);
		assert_int_equal(hammer_buffer_modify(fs->bc, b, p, piece), 0);
		memcpy(p, (const uint8_t *)data + done, piece);
		hammer_buffer_put(fs->bc, b);
		done += piece;
	}
	return off;
}

/* A record spec; tweaks let a test plant one problem. */
struct rs {
	uint32_t loc;
	int64_t obj;
	uint16_t rt;
	int64_t key;
	uint8_t ot;
	hammer_tid_t ctid, dtid;
	unsigned zone;		/* payload zone */
	const void *data;
	size_t len;		/* payload bytes */
	size_t crclen;		/* 0: len */
	int32_t data_len;	/* 0: len (a test may lie) */
	uint32_t crc_xor;	/* spoil the CRC */
	int no_offset;		/* data_offset 0 */
	hammer_off_t offset;	/* non-zero: use this data_offset, no allocation */
};

static struct hammer_btree_leaf_elm put_rec(struct fs *fs, const struct rs *s)
{
	struct hammer_btree_leaf_elm e;
	memset(&e, 0, sizeof(e));
	e.base.localization = s->loc;
	e.base.obj_id = s->obj;
	e.base.rec_type = s->rt;
	e.base.key = s->key;
	e.base.obj_type = s->ot;
	e.base.create_tid = s->ctid;
	e.base.delete_tid = s->dtid;
	e.create_ts = 1795306471;
	e.delete_ts = s->dtid ? 1795306472 : 0;
	if (s->len) {
		e.data_offset = s->offset ? s->offset
					  : put_data(fs, s->zone, s->data, s->len);
		e.data_crc = hammer_datacrc(fs->version, s->data,
					    s->crclen ? s->crclen : s->len) ^ s->crc_xor;
	}
	if (s->no_offset)
		e.data_offset = 0;
	e.data_len = s->data_len ? s->data_len : (int32_t)s->len;
	struct hammer_err err = { 0 };
	int rc = hammer_btree_insert(&fs->t, &e, &err);
	if (rc)
		fail_msg("insert lo=%08x obj=%llx rt=%x key=%llx: %d %s", s->loc,
			 (unsigned long long)s->obj, s->rt, (unsigned long long)s->key,
			 rc, err.msg);
	return e;
}

struct ino {
	uint8_t type, cap;
	uint64_t nlinks, size;
	int64_t parent;
	const char *symlink;	/* inline target */
	uint16_t version;	/* 0: 1 */
	uint8_t leaf_type;	/* 0: type */
	int32_t data_len;	/* 0: 128 */
	uint32_t crc_xor;
};

static void put_inode(struct fs *fs, uint16_t pfs, int64_t obj, const struct ino *in,
		      hammer_tid_t ctid, hammer_tid_t dtid)
{
	struct hammer_inode_data d;
	memset(&d, 0, sizeof(d));
	d.version = in->version ? in->version : HAMMER_INODE_DATA_VERSION;
	d.mode = 0644;
	d.ctime = d.mtime = d.atime = 1795306471606999ULL;
	d.parent_obj_id = in->parent;
	d.obj_type = in->type;
	d.cap_flags = in->cap;
	d.nlinks = in->nlinks;
	d.size = in->size;
	if (in->symlink)
		memcpy(d.ext.symlink, in->symlink, strlen(in->symlink));
	hammer_inode_data_swap(&d);	/* to disk order */
	struct rs s = {
		.loc = ((uint32_t)pfs << 16) | HAMMER_LOCALIZE_INODE, .obj = obj,
		.rt = HAMMER_RECTYPE_INODE, .key = 0,
		.ot = in->leaf_type ? in->leaf_type : in->type,
		.ctid = ctid, .dtid = dtid, .zone = HAMMER_ZONE_META_INDEX,
		.data = &d, .len = in->data_len ? (size_t)in->data_len : sizeof(d),
		.crclen = HAMMER_INODE_CRCSIZE, .crc_xor = in->crc_xor,
	};
	put_rec(fs, &s);
}

static int key_used(struct fs *fs, uint32_t loc, int64_t dir, int64_t key)
{
	for (int i = 0; i < fs->nkeys; i++)
		if (fs->keys[i].loc == loc && fs->keys[i].dir == dir &&
		    fs->keys[i].key == key)
			return 1;
	return 0;
}

struct ent {
	uint32_t loc_override;	/* 0: from the directory's cap */
	int64_t key_delta;	/* added to the free namekey */
	uint8_t ot_override;
	uint32_t tloc_override;	/* target localization field */
	unsigned zone;		/* 0: meta */
	uint32_t crc_xor;
};

/* Directory entry `name` in dir (pfs, dir, cap) naming (target, ttype). */
static int64_t put_entry_x(struct fs *fs, uint16_t pfs, int64_t dir, uint8_t cap,
			   const char *name, int64_t target, uint8_t ttype,
			   hammer_tid_t ctid, hammer_tid_t dtid, const struct ent *x)
{
	size_t nlen = strlen(name);
	uint8_t buf[16 + 256];
	uint64_t t = htole64((uint64_t)target);
	uint32_t tl = htole32(x && x->tloc_override ? x->tloc_override
						    : (uint32_t)pfs << 16);
	memset(buf, 0, 16);
	memcpy(buf, &t, 8);
	memcpy(buf + 8, &tl, 4);
	memcpy(buf + 16, name, nlen);
	uint32_t lim;
	int64_t key = hammer_namekey(cap, name, nlen, &lim);
	assert_true(key > 0);
	uint32_t loc = ((uint32_t)pfs << 16) |
		       ((cap & HAMMER_INODE_CAP_DIR_LOCAL_INO) ? HAMMER_LOCALIZE_INODE
							       : HAMMER_LOCALIZE_MISC);
	if (x && x->loc_override)
		loc = x->loc_override;
	while (key_used(fs, loc, dir, key))
		key++;
	if (x)
		key += x->key_delta;
	assert_true(fs->nkeys < 2048);
	fs->keys[fs->nkeys].loc = loc;
	fs->keys[fs->nkeys].dir = dir;
	fs->keys[fs->nkeys].key = key;
	fs->nkeys++;
	struct rs s = {
		.loc = loc, .obj = dir, .rt = HAMMER_RECTYPE_DIRENTRY, .key = key,
		.ot = x && x->ot_override ? x->ot_override : ttype,
		.ctid = ctid, .dtid = dtid,
		.zone = x && x->zone ? x->zone : HAMMER_ZONE_META_INDEX,
		.data = buf, .len = 16 + nlen, .crc_xor = x ? x->crc_xor : 0,
	};
	put_rec(fs, &s);
	return key;
}

static void put_entry(struct fs *fs, uint16_t pfs, int64_t dir, uint8_t cap,
		      const char *name, int64_t target, uint8_t ttype,
		      hammer_tid_t ctid, hammer_tid_t dtid)
{
	put_entry_x(fs, pfs, dir, cap, name, target, ttype, ctid, dtid, NULL);
}

/* File bytes [off, off + len) of obj: pattern derived from obj and off. */
static struct hammer_btree_leaf_elm
put_file_data_x(struct fs *fs, uint16_t pfs, int64_t obj, int64_t off, size_t len,
		hammer_tid_t ctid, hammer_tid_t dtid, unsigned zone, const struct rs *tw)
{
	static uint8_t buf[HAMMER_XBUFSIZE];
	assert_true(len <= sizeof(buf));
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((uint64_t)obj * 31 + (uint64_t)off + i * 7);
	if (!zone)
		zone = len >= HAMMER_BUFSIZE ? HAMMER_ZONE_LARGE_DATA_INDEX
					     : HAMMER_ZONE_SMALL_DATA_INDEX;
	struct rs s = {
		.loc = ((uint32_t)pfs << 16) | HAMMER_LOCALIZE_MISC, .obj = obj,
		.rt = HAMMER_RECTYPE_DATA, .key = off + (int64_t)len,
		.ot = HAMMER_OBJTYPE_REGFILE, .ctid = ctid, .dtid = dtid,
		.zone = zone, .data = buf, .len = len,
	};
	if (tw) {
		if (tw->loc)
			s.loc = tw->loc;
		if (tw->key)
			s.key = tw->key;
		if (tw->rt)
			s.rt = tw->rt;
		s.crc_xor = tw->crc_xor;
		s.no_offset = tw->no_offset;
		s.offset = tw->offset;
		if (tw->obj)
			s.obj = tw->obj;
	}
	return put_rec(fs, &s);
}

static void put_file_data(struct fs *fs, uint16_t pfs, int64_t obj, int64_t off,
			  size_t len, hammer_tid_t ctid, hammer_tid_t dtid)
{
	put_file_data_x(fs, pfs, obj, off, len, ctid, dtid, 0, NULL);
}

static hammer_tid_t tid(struct fs *fs)
{
	return fs->tid++;
}

/* Object ids come from the TID space, as in DragonFly. */
static int64_t newobj(struct fs *fs)
{
	fs->tid += rnd() % 3;
	return (int64_t)fs->tid++;
}

/* ------------------------------------------------------------ the build */

enum plant {
	P_NONE = 0,
	/* one per finding code, same numbers */
	P_IN_DATA_LEN = HAMMER_FSCK_IN_DATA_LEN,
	P_IN_CRC = HAMMER_FSCK_IN_CRC,
	P_IN_OBJTYPE = HAMMER_FSCK_IN_OBJTYPE,
	P_IN_VERSION = HAMMER_FSCK_IN_VERSION,
	P_IN_DIRHASH = HAMMER_FSCK_IN_DIRHASH,
	P_IN_DUP = HAMMER_FSCK_IN_DUP,
	P_IN_NLINKS = HAMMER_FSCK_IN_NLINKS,
	P_ORPHAN = HAMMER_FSCK_ORPHAN,
	P_REC_TID_ORDER = HAMMER_FSCK_REC_TID_ORDER,
	P_TID_RANGE = HAMMER_FSCK_TID_RANGE,
	P_REC_NO_INODE = HAMMER_FSCK_REC_NO_INODE,
	P_REC_TYPE = HAMMER_FSCK_REC_TYPE,
	P_REC_LOCALIZATION = HAMMER_FSCK_REC_LOCALIZATION,
	P_REC_DATA = HAMMER_FSCK_REC_DATA,
	P_REC_CRC = HAMMER_FSCK_REC_CRC,
	P_REC_ZONE = HAMMER_FSCK_REC_ZONE,
	P_DE_TARGET = HAMMER_FSCK_DE_TARGET,
	P_DE_OBJTYPE = HAMMER_FSCK_DE_OBJTYPE,
	P_DE_LOCALIZATION = HAMMER_FSCK_DE_LOCALIZATION,
	P_DE_KEY = HAMMER_FSCK_DE_KEY,
	P_DE_NAME = HAMMER_FSCK_DE_NAME,
	P_DE_DUP = HAMMER_FSCK_DE_DUP,
	P_DE_NOT_DIR = HAMMER_FSCK_DE_NOT_DIR,
	P_DIR_PARENT = HAMMER_FSCK_DIR_PARENT,
	P_DIR_LINKS = HAMMER_FSCK_DIR_LINKS,
	P_DATA_OVERLAP = HAMMER_FSCK_DATA_OVERLAP,
	P_DATA_EOF = HAMMER_FSCK_DATA_EOF,
	P_DATA_KEY = HAMMER_FSCK_DATA_KEY,
	P_SYMLINK = HAMMER_FSCK_SYMLINK,
	P_PFS_RECORD = HAMMER_FSCK_PFS_RECORD,	/* key with low bits set */
	P_PFS_NO_RECORD = HAMMER_FSCK_PFS_NO_RECORD, /* PFS 5: root, no record */
	P_PFS_ROOT = HAMMER_FSCK_PFS_ROOT,	/* master PFS 6 without root */
	P_PFS_LINK = HAMMER_FSCK_PFS_LINK,	/* "@@PFS0001x" */
	P_SNAPSHOT_RECORD = HAMMER_FSCK_SNAPSHOT_RECORD, /* data TID != key */
	P_CONFIG_RECORD = HAMMER_FSCK_CONFIG_RECORD,	/* config at key 5 */
	/* variants */
	P_VARIANTS = 1000,
	P_ORPHAN_UNLINKED,	/* nlinks 0: warning */
	P_TID_RANGE_OBJ,	/* obj_id beyond next_tid */
	P_REC_DATA_OFF,		/* offset beyond the volume */
	P_REC_DATA_LEN,		/* negative data_len */
	P_REC_CRC_ENTRY,	/* a directory entry's CRC */
	P_REC_ZONE_META,	/* a directory entry in a data zone */
	P_DE_KEY_BELOW,		/* key below the namekey */
	P_DE_NAME_LEN,		/* a 0-byte name */
	P_DE_LOC_TARGET,	/* target localization field of another PFS */
	P_DIR_LINKS_ROOT,	/* an entry naming the root */
	P_SYMLINK_LEN,		/* FIX record of the wrong length */
	P_IN_NLINKS_ROOT,	/* root nlinks 2 */
	P_DE_TARGET_DELETED,	/* entry naming a deleted inode */
	P_REC_NO_INODE_DELETED,	/* data of a deleted inode still live */
	P_DIR_PARENT_OLD,	/* parent check in the old-layout directory */
	P_PFS_REC_SHORT,	/* PFS 1's record: data_len 200 */
	P_PFS_REC_FLAGS,	/* PFS 1's mirror_flags with an unknown bit */
	P_PFS_REC_LABEL,	/* PFS 1's label without NUL */
	P_PFS_REC_SNAP,		/* PFS 1's snapshots path without NUL */
	P_PFS_REC_TIDS,		/* slave PFS 2: sync_beg_tid > sync_end_tid */
	P_PFS_REC_ROOT0,	/* PFS 0's record (new version) marked SLAVE */
	P_PFS_REC_ROOT0_DEL,	/* PFS 0's record (new version) marked DELETED */
	P_PFS_REC_PLACE,	/* a PFS record under object d1 */
	P_PFS_REC_PLACE_PFS,	/* a PFS record in PFS 1's MISC space, obj 1 */
	P_PFS_REC_PLACE_INO,	/* a PFS record in PFS 0's INODE space */
	P_PFS_REC_DUP,		/* a second live record for PFS 1 */
	P_PFS_NO_RECORD_DEL,	/* a record left in destroyed PFS 3 */
	P_PFS_ROOT_TYPE,	/* slave PFS 2 with a regular file as root */
	P_PFS_LINK_ZERO,	/* "@@PFS00000" */
	P_PFS_LINK_SHORT,	/* "@@PFS1" */
	P_PFS_LINK_FIX,		/* a 28-byte "@@PFS00001/..." in a FIX record */
	P_PFS_LINK_DANGLING,	/* "@@PFS00003" (deleted) and "@@PFS00009" (none) */
	P_PFS_SLAVE_ROOT,	/* clean: slave PFS 2 has its root directory */
	P_ORPHAN_PFS1,		/* an orphan in PFS 1 */
	P_IN_NLINKS_PFS1,	/* nlinks 2 of a file in PFS 1 */
	P_DIR_PARENT_PFS1,	/* a directory in PFS 1 with the wrong parent */
	P_ORPHAN_SLAVE,		/* slave PFS 2 with a root and an orphan */
	P_SNAP_LEN,		/* a snapshot record of 100 bytes */
	P_SNAP_LABEL,		/* a snapshot label without NUL */
	P_SNAP_OBJ,		/* a snapshot record of object d1 */
	P_SNAP_CRC,		/* a snapshot record's CRC spoiled */
	P_CONFIG_NUL,		/* config text without NUL */
	P_CONFIG_LEN,		/* a config record of 512 bytes */
};

struct built {
	int64_t d1, f1, f2, big, s2, olddir, oldfile, many;
	uint8_t dircap;
	hammer_tid_t f1_tid;	/* create_tid of f1's live inode */
};

static uint8_t dircap_for(unsigned v)
{
	return (uint8_t)((v >= 2 ? HAMMER_INODE_CAP_DIR_LOCAL_INO : 0) |
			 (v >= 6 ? HAMMER_INODE_CAP_DIRHASH_ALG1 : 0));
}

#define IS(x) (plant == (x))

/* PFS record for `id` (in PFS 0, obj 1, MISC), with tweaks. */
struct pfsrec {
	uint32_t flags;
	hammer_tid_t beg, end;
	int64_t key_or;		/* or'ed into the key */
	uint32_t loc;		/* 0: HAMMER_LOCALIZE_MISC */
	int64_t obj;		/* 0: 1 */
	int32_t data_len;	/* 0: 292 */
	int bad_label, bad_snap;
};

static void put_pfs(struct fs *fs, uint32_t id, hammer_tid_t t,
		    const struct pfsrec *x)
{
	struct hammer_pseudofs_data pd;
	memset(&pd, 0, sizeof(pd));
	pd.sync_low_tid = 1;
	pd.sync_beg_tid = x->beg;
	pd.sync_end_tid = x->end;
	pd.mirror_flags = x->flags;
	snprintf(pd.label, sizeof(pd.label), "pfs%u", id);
	if (x->bad_label)
		memset(pd.label, 'x', sizeof(pd.label));
	if (x->bad_snap)
		memset(pd.snapshots, 'y', sizeof(pd.snapshots));
	hammer_pfsd_swap(&pd);
	struct rs s = {
		.loc = x->loc ? x->loc : HAMMER_LOCALIZE_MISC, .obj = x->obj ? x->obj : 1,
		.rt = HAMMER_RECTYPE_PFS, .key = ((int64_t)id << 16) | x->key_or,
		.ot = HAMMER_OBJTYPE_DIRECTORY, .ctid = t,
		.zone = HAMMER_ZONE_META_INDEX, .data = &pd,
		.len = x->data_len ? (size_t)x->data_len : sizeof(pd),
	};
	put_rec(fs, &s);
}

/* A symlink in the root of PFS 0; long targets get their FIX record. */
static void put_symlink(struct fs *fs, uint8_t cap, const char *name,
			const char *target, hammer_tid_t t)
{
	size_t len = strlen(target);
	int64_t o = newobj(fs);
	struct ino in = { .type = HAMMER_OBJTYPE_SOFTLINK, .nlinks = 1,
			  .size = len, .parent = 1,
			  .symlink = len <= HAMMER_INODE_BASESYMLEN ? target : NULL };
	put_inode(fs, 0, o, &in, t, 0);
	put_entry(fs, 0, 1, cap, name, o, HAMMER_OBJTYPE_SOFTLINK, t, 0);
	if (len > HAMMER_INODE_BASESYMLEN) {
		struct rs s = {
			.loc = HAMMER_LOCALIZE_MISC, .obj = o, .rt = HAMMER_RECTYPE_FIX,
			.key = HAMMER_FIXKEY_SYMLINK, .ot = HAMMER_OBJTYPE_SOFTLINK,
			.ctid = t, .zone = HAMMER_ZONE_META_INDEX, .data = target,
			.len = len,
		};
		put_rec(fs, &s);
	}
}

static void build(struct fs *fs, int plant, int nmany, struct built *b)
{
	memset(b, 0, sizeof(*b));
	const uint8_t cap = dircap_for(fs->version);
	const uint8_t DIR = HAMMER_OBJTYPE_DIRECTORY, REG = HAMMER_OBJTYPE_REGFILE;
	b->dircap = cap;

	/* d1: a directory in the root */
	hammer_tid_t t = tid(fs);
	b->d1 = newobj(fs);
	b->olddir = newobj(fs);
	struct ino d1 = { .type = DIR, .cap = cap, .nlinks = IS(P_DIR_LINKS) ? 2 : 1,
			  .parent = IS(P_DIR_PARENT) ? b->olddir : 1 };
	put_inode(fs, 0, b->d1, &d1, t, 0);
	put_entry(fs, 0, 1, cap, "d1", b->d1, DIR, t, 0);

	/* f1: a small file (100 bytes, one record), with an older version */
	hammer_tid_t t1 = tid(fs), t2 = tid(fs);
	b->f1 = newobj(fs);
	struct ino f1old = { .type = REG, .nlinks = 1, .size = 50, .parent = 1 };
	put_inode(fs, 0, b->f1, &f1old, t1,
		  IS(P_REC_TID_ORDER) ? t1 : t2);
	put_file_data_x(fs, 0, b->f1, 0, 64, t1, t2, 0, NULL);
	struct ino f1 = { .type = REG, .nlinks = 1, .size = 100, .parent = 1 };
	if (IS(P_IN_DATA_LEN))
		f1.data_len = 120;
	if (IS(P_IN_CRC))
		f1.crc_xor = 0x10;
	if (IS(P_IN_OBJTYPE))
		f1.leaf_type = HAMMER_OBJTYPE_SOCKET;
	if (IS(P_IN_VERSION))
		f1.version = 2;
	if (IS(P_IN_DIRHASH))
		f1.cap = 0x02;
	if (IS(P_IN_NLINKS) || IS(P_DE_DUP))
		f1.nlinks = 2;
	b->f1_tid = IS(P_TID_RANGE) ? fs->tid + 1000 : t2;
	put_inode(fs, 0, b->f1, &f1, b->f1_tid, 0);
	if (IS(P_IN_DUP))
		put_inode(fs, 0, b->f1, &f1, t2 - 1 == t1 ? tid(fs) : t2 - 1, 0);
	struct ent de = { 0 };
	if (IS(P_DE_OBJTYPE))
		de.ot_override = DIR;
	if (IS(P_REC_CRC_ENTRY))
		de.crc_xor = 1;
	if (IS(P_REC_ZONE_META))
		de.zone = HAMMER_ZONE_SMALL_DATA_INDEX;
	if (IS(P_DE_LOCALIZATION))
		de.loc_override = (cap & HAMMER_INODE_CAP_DIR_LOCAL_INO) ?
				  HAMMER_LOCALIZE_MISC : HAMMER_LOCALIZE_INODE;
	if (IS(P_DE_LOC_TARGET))
		de.tloc_override = 5u << 16;
	int64_t f1key = put_entry_x(fs, 0, 1, cap, "f1", b->f1, REG, t1, 0, &de);
	if (IS(P_DE_DUP)) {
		/* the same name again, at the next free key */
		put_entry(fs, 0, 1, cap, "f1", b->f1, REG, t2, 0);
	}
	(void)f1key;
	struct rs tw = { 0 };
	if (IS(P_REC_CRC))
		tw.crc_xor = 0x100;
	if (IS(P_REC_DATA))
		tw.no_offset = 1;
	if (IS(P_REC_DATA_OFF))
		tw.offset = hammer_encode(HAMMER_ZONE_SMALL_DATA_INDEX, 0,
					  FS_SIZE * 4);
	put_file_data_x(fs, 0, b->f1, 0, 112, t2, 0, 0, &tw);
	if (IS(P_DATA_EOF))
		put_file_data(fs, 0, b->f1, 16384, 16384, t2, 0);
	if (IS(P_DATA_KEY)) {
		struct rs k = { .key = 100 };
		put_file_data_x(fs, 0, b->f1, 0, 112, t2, 0, 0, &k);
	}
	if (IS(P_REC_TYPE)) {
		struct rs k = { .rt = 0x30 };
		put_file_data_x(fs, 0, b->f1, 0, 16, t2, 0, HAMMER_ZONE_META_INDEX, &k);
	}
	if (IS(P_REC_LOCALIZATION)) {
		struct rs k = { .loc = HAMMER_LOCALIZE_INODE };
		put_file_data_x(fs, 0, b->f1, 0, 112, t2, 0, 0, &k);
	}
	if (IS(P_REC_DATA_LEN)) {
		/* a FIX record with an offset but data_len 0 */
		static const char x[16] = "xxxxxxxxxxxxxxx";
		struct rs s = {
			.loc = HAMMER_LOCALIZE_MISC, .obj = b->f1, .rt = HAMMER_RECTYPE_FIX,
			.key = 7, .ot = REG, .ctid = t2, .zone = HAMMER_ZONE_META_INDEX,
			.data = x, .len = 16, .data_len = -1,
		};
		put_rec(fs, &s);
	}

	/* f2: 20000 bytes in two 16 KB records, in d1, hard-linked from the root */
	t = tid(fs);
	b->f2 = newobj(fs);
	struct ino f2 = { .type = REG, .nlinks = 2, .size = 20000, .parent = b->d1 };
	put_inode(fs, 0, b->f2, &f2, t, 0);
	put_entry(fs, 0, b->d1, cap, "f2", b->f2, REG, t, 0);
	put_entry(fs, 0, 1, cap, "f2link", b->f2, REG, t, 0);
	put_file_data_x(fs, 0, b->f2, 0, 16384, t, 0,
			IS(P_REC_ZONE) ? HAMMER_ZONE_SMALL_DATA_INDEX : 0, NULL);
	if (IS(P_DATA_OVERLAP))
		put_file_data(fs, 0, b->f2, 8192, 16384, t, 0);
	put_file_data(fs, 0, b->f2, 16384, 16384, t, 0);

	/* big: sparse, across the 1 MB demarcation (16 KB then 64 KB blocks) */
	t = tid(fs);
	b->big = newobj(fs);
	struct ino big = { .type = REG, .nlinks = 1, .size = (1 << 20) + 70000,
			   .parent = 1 };
	put_inode(fs, 0, b->big, &big, t, 0);
	put_entry(fs, 0, 1, cap, "big-file.dat", b->big, REG, t, 0);
	put_file_data(fs, 0, b->big, 0, 16384, t, 0);
	put_file_data(fs, 0, b->big, (1 << 20) - 16384, 16384, t, 0);
	put_file_data(fs, 0, b->big, 1 << 20, 65536, t, 0);
	put_file_data(fs, 0, b->big, (1 << 20) + 65536, 65536, t, 0);

	/* symlinks: inline and FIX */
	t = tid(fs);
	int64_t s1 = newobj(fs);
	struct ino sl1 = { .type = HAMMER_OBJTYPE_SOFTLINK, .nlinks = 1, .size = 7,
			   .parent = 1, .symlink = "target1" };
	put_inode(fs, 0, s1, &sl1, t, 0);
	put_entry(fs, 0, 1, cap, "s1", s1, HAMMER_OBJTYPE_SOFTLINK, t, 0);
	b->s2 = newobj(fs);
	static const char longtarget[] = "a/rather/long/symlink/target/path/x";
	struct ino sl2 = { .type = HAMMER_OBJTYPE_SOFTLINK, .nlinks = 1,
			   .size = sizeof(longtarget) - 1, .parent = 1 };
	put_inode(fs, 0, b->s2, &sl2, t, 0);
	put_entry(fs, 0, 1, cap, "s2", b->s2, HAMMER_OBJTYPE_SOFTLINK, t, 0);
	if (!IS(P_SYMLINK)) {
		struct rs s = {
			.loc = HAMMER_LOCALIZE_MISC, .obj = b->s2, .rt = HAMMER_RECTYPE_FIX,
			.key = HAMMER_FIXKEY_SYMLINK, .ot = HAMMER_OBJTYPE_SOFTLINK,
			.ctid = t, .zone = HAMMER_ZONE_META_INDEX, .data = longtarget,
			.len = sizeof(longtarget) - 1 - (IS(P_SYMLINK_LEN) ? 1 : 0),
		};
		put_rec(fs, &s);
	}

	/* a FIFO and a device */
	t = tid(fs);
	int64_t p = newobj(fs);
	struct ino fifo = { .type = HAMMER_OBJTYPE_FIFO, .nlinks = 1, .parent = b->d1 };
	put_inode(fs, 0, p, &fifo, t, 0);
	put_entry(fs, 0, b->d1, cap, "pipe", p, HAMMER_OBJTYPE_FIFO, t, 0);
	int64_t cd = newobj(fs);
	struct ino cdev = { .type = HAMMER_OBJTYPE_CDEV, .nlinks = 1, .parent = b->d1 };
	put_inode(fs, 0, cd, &cdev, t, 0);
	put_entry(fs, 0, b->d1, cap, "tty0", cd, HAMMER_OBJTYPE_CDEV, t, 0);

	/* history: a file created and removed */
	t1 = tid(fs);
	t2 = tid(fs);
	int64_t gone = newobj(fs);
	struct ino g = { .type = REG, .nlinks = 1, .size = 5000, .parent = 1 };
	put_inode(fs, 0, gone, &g, t1, IS(P_DE_TARGET_DELETED) ? t2 : t2);
	put_entry(fs, 0, 1, cap, "gone", gone, REG, t1,
		  IS(P_DE_TARGET_DELETED) ? 0 : t2);
	put_file_data(fs, 0, gone, 0, 5008, t1, IS(P_REC_NO_INODE_DELETED) ? 0 : t2);

	/* an old-layout directory: ALG0, entries in the MISC localization */
	t = tid(fs);
	struct ino od = { .type = DIR, .cap = 0, .nlinks = 1,
			  .parent = IS(P_DIR_PARENT_OLD) ? b->d1 : 1 };
	put_inode(fs, 0, b->olddir, &od, t, 0);
	put_entry(fs, 0, 1, cap, "old", b->olddir, DIR, t, 0);
	b->oldfile = newobj(fs);
	struct ino of = { .type = REG, .nlinks = 1, .size = 0, .parent = b->olddir };
	put_inode(fs, 0, b->oldfile, &of, t, 0);
	put_entry(fs, 0, b->olddir, 0, "x", b->oldfile, REG, t, 0);
	if (IS(P_DIR_LINKS))
		put_entry(fs, 0, b->olddir, 0, "d1again", b->d1, DIR, t, 0);

	/* a crowd of small files in one directory (several tree levels) */
	t = tid(fs);
	b->many = newobj(fs);
	struct ino md = { .type = DIR, .cap = cap, .nlinks = 1, .parent = 1 };
	put_inode(fs, 0, b->many, &md, t, 0);
	put_entry(fs, 0, 1, cap, "many", b->many, DIR, t, 0);
	for (int i = 0; i < nmany; i++) {
		char name[40];
		snprintf(name, sizeof(name), "file-%d.%llx~v", i,
			 (unsigned long long)(rnd() & 0xFFFFF));
		int64_t o = newobj(fs);
		size_t sz = 1 + (size_t)(rnd() % 9000);
		struct ino fi = { .type = REG, .nlinks = 1, .size = sz, .parent = b->many };
		hammer_tid_t ft = tid(fs);
		put_inode(fs, 0, o, &fi, ft, 0);
		put_entry(fs, 0, b->many, cap, name, o, REG, ft, 0);
		if (sz <= 8192)
			put_file_data(fs, 0, o, 0, (sz + 15) & ~(size_t)15, ft, 0);
		else
			put_file_data(fs, 0, o, 0, 16384, ft, 0);
	}

	/*
	 * PFSs (v3+): 1 a master (root, a file, a subdirectory, link "pfs1");
	 * 2 a slave before its first mirroring (no root; link "pfs2"); 3
	 * destroyed (DELETED record, no records left, no link).
	 */
	if (fs->version >= 3) {
		t = tid(fs);
		struct ino pr = { .type = DIR, .cap = cap, .nlinks = 1, .parent = 0 };
		put_inode(fs, 1, 1, &pr, t, 0);
		int64_t pf = newobj(fs);
		struct ino pfi = { .type = REG, .nlinks = IS(P_IN_NLINKS_PFS1) ? 2 : 1,
				   .size = 3, .parent = 1 };
		put_inode(fs, 1, pf, &pfi, t, 0);
		put_entry(fs, 1, 1, cap, "in-pfs1", pf, REG, t, 0);
		put_file_data(fs, 1, pf, 0, 16, t, 0);
		int64_t pd1 = newobj(fs);
		struct ino pdi = { .type = DIR, .cap = cap, .nlinks = 1,
				   .parent = IS(P_DIR_PARENT_PFS1) ? b->d1 : 1 };
		put_inode(fs, 1, pd1, &pdi, t, 0);
		put_entry(fs, 1, 1, cap, "sub", pd1, DIR, t, 0);
		if (IS(P_ORPHAN_PFS1)) {
			struct ino o = { .type = REG, .nlinks = 1, .parent = pd1 };
			put_inode(fs, 1, newobj(fs), &o, t, 0);
		}

		/* meta-data snapshots of PFS 0 and 1, PFS 0's cleanup config */
		for (uint32_t p = 0; p < 2; p++) {
			struct hammer_snapshot_data sd;
			memset(&sd, 0, sizeof(sd));
			hammer_tid_t st = t - 1 - p;
			sd.tid = htole64(IS(P_SNAPSHOT_RECORD) && p ? st + 1 : st);
			sd.ts = htole64(1795306471000000ULL);
			snprintf(sd.label, sizeof(sd.label), "nightly %u", p);
			if (IS(P_SNAP_LABEL) && p)
				memset(sd.label, 'l', sizeof(sd.label));
			struct rs ss = {
				.loc = (p << 16) | HAMMER_LOCALIZE_INODE,
				.obj = IS(P_SNAP_OBJ) && p == 0 ? b->d1 : 1,
				.rt = HAMMER_RECTYPE_SNAPSHOT, .key = (int64_t)st,
				.ctid = t, .zone = HAMMER_ZONE_META_INDEX, .data = &sd,
				.len = IS(P_SNAP_LEN) && p ? 100 : sizeof(sd),
				.crc_xor = IS(P_SNAP_CRC) && p ? 0x10 : 0,
			};
			put_rec(fs, &ss);
		}
		static char cfg[HAMMER_CONFIG_BYTES];
		memset(cfg, 0, sizeof(cfg));
		snprintf(cfg, sizeof(cfg), "snapshots 1d 60d\nprune 1d 5m\n");
		if (IS(P_CONFIG_NUL))
			memset(cfg, 'c', sizeof(cfg));
		struct rs cs = {
			.loc = HAMMER_LOCALIZE_INODE, .obj = 1,
			.rt = HAMMER_RECTYPE_CONFIG, .key = IS(P_CONFIG_RECORD) ? 5 : 0,
			.ctid = t, .zone = HAMMER_ZONE_META_INDEX, .data = cfg,
			.len = IS(P_CONFIG_LEN) ? 512 : sizeof(cfg),
		};
		put_rec(fs, &cs);
		struct pfsrec p1 = { .end = 0 };
		if (IS(P_PFS_REC_SHORT))
			p1.data_len = 200;
		if (IS(P_PFS_REC_FLAGS))
			p1.flags = 0x2;
		p1.bad_label = IS(P_PFS_REC_LABEL);
		p1.bad_snap = IS(P_PFS_REC_SNAP);
		put_pfs(fs, 1, t, &p1);
		if (IS(P_PFS_REC_DUP))
			put_pfs(fs, 1, tid(fs), &p1);
		put_symlink(fs, cap, "pfs1", "@@PFS00001", t);

		/* the slave is seen as of sync_end_tid: its records (TID t) in it */
		struct pfsrec p2 = { .flags = HAMMER_PFSD_SLAVE, .beg = 1, .end = t };
		if (IS(P_PFS_REC_TIDS))
			p2.beg = t + 1;
		put_pfs(fs, 2, t, &p2);
		put_symlink(fs, cap, "pfs2", "@@PFS00002", t);
		if (IS(P_PFS_SLAVE_ROOT) || IS(P_PFS_ROOT_TYPE) || IS(P_ORPHAN_SLAVE)) {
			struct ino sr = { .type = IS(P_PFS_ROOT_TYPE) ? REG : DIR,
					  .cap = IS(P_PFS_ROOT_TYPE) ? 0 : cap,
					  .nlinks = 1, .parent = 0 };
			put_inode(fs, 2, 1, &sr, t, 0);
		}
		if (IS(P_PFS_SLAVE_ROOT) || IS(P_ORPHAN_SLAVE)) {
			int64_t sf = newobj(fs);
			struct ino sfi = { .type = REG, .nlinks = 1, .parent = 1 };
			put_inode(fs, 2, sf, &sfi, t, 0);
			if (!IS(P_ORPHAN_SLAVE))
				put_entry(fs, 2, 1, cap, "mirrored", sf, REG, t, 0);
		}

		struct pfsrec p3 = { .flags = HAMMER_PFSD_DELETED };
		hammer_tid_t t3 = tid(fs);
		put_pfs(fs, 3, t, &(struct pfsrec){ .flags = 0 });
		struct hammer_base_elm k3 = {
			.localization = HAMMER_LOCALIZE_MISC, .obj_id = 1,
			.rec_type = HAMMER_RECTYPE_PFS, .key = 3 << 16, .create_tid = t,
		};
		struct hammer_err err = { 0 };
		assert_int_equal(hammer_btree_mark_deleted(&fs->t, &k3, t3, 1795306472,
							   &err), 0);
		put_pfs(fs, 3, t3, &p3);
		if (IS(P_PFS_NO_RECORD_DEL)) {
			struct ino lr = { .type = DIR, .cap = cap, .nlinks = 1 };
			put_inode(fs, 3, 1, &lr, t3, 0);
		}

		if (IS(P_PFS_RECORD))
			put_pfs(fs, 1, t, &(struct pfsrec){ .key_or = 5 });
		if (IS(P_PFS_REC_PLACE))
			put_pfs(fs, 1, t, &(struct pfsrec){ .obj = b->d1 });
		if (IS(P_PFS_REC_PLACE_PFS))
			put_pfs(fs, 4, t, &(struct pfsrec){ .loc = (1u << 16) |
							    HAMMER_LOCALIZE_MISC });
		if (IS(P_PFS_REC_PLACE_INO))
			put_pfs(fs, 4, t, &(struct pfsrec){ .loc = HAMMER_LOCALIZE_INODE });
		if (IS(P_PFS_NO_RECORD)) {
			struct ino lr = { .type = DIR, .cap = cap, .nlinks = 1 };
			put_inode(fs, 5, 1, &lr, t, 0);
		}
		if (IS(P_PFS_ROOT))
			put_pfs(fs, 6, t, &(struct pfsrec){ .end = 0 });
		if (IS(P_PFS_LINK))
			put_symlink(fs, cap, "badlink", "@@PFS0001x", t);
		if (IS(P_PFS_LINK_ZERO))
			put_symlink(fs, cap, "badlink", "@@PFS00000", t);
		if (IS(P_PFS_LINK_SHORT))
			put_symlink(fs, cap, "badlink", "@@PFS1", t);
		if (IS(P_PFS_LINK_FIX))
			put_symlink(fs, cap, "badlink", "@@PFS00001/and/a/long/tail", t);
		if (IS(P_PFS_LINK_DANGLING)) {
			put_symlink(fs, cap, "pfs3", "@@PFS00003", t);
			put_symlink(fs, cap, "pfs9", "@@PFS00009", t);
		}
		if (IS(P_PFS_REC_ROOT0) || IS(P_PFS_REC_ROOT0_DEL)) {
			hammer_tid_t t0 = tid(fs);
			struct hammer_base_elm k0 = {
				.localization = HAMMER_LOCALIZE_MISC, .obj_id = 1,
				.rec_type = HAMMER_RECTYPE_PFS, .key = 0,
				.create_tid = 0x100000001ULL,
			};
			assert_int_equal(hammer_btree_mark_deleted(&fs->t, &k0, t0,
								   1795306472, &err), 0);
			put_pfs(fs, 0, t0, &(struct pfsrec){
				.flags = IS(P_PFS_REC_ROOT0) ? HAMMER_PFSD_SLAVE
							     : HAMMER_PFSD_DELETED });
		}
	}

	/* single plants that need their own objects */
	t = tid(fs);
	if (IS(P_ORPHAN) || IS(P_ORPHAN_UNLINKED)) {
		struct ino o = { .type = REG, .nlinks = IS(P_ORPHAN) ? 1 : 0, .parent = 1 };
		put_inode(fs, 0, newobj(fs), &o, t, 0);
	}
	if (IS(P_TID_RANGE_OBJ)) {
		struct ino o = { .type = REG, .nlinks = 1, .parent = 1 };
		int64_t far = (int64_t)fs->tid + 5000;
		put_inode(fs, 0, far, &o, t, 0);
		put_entry(fs, 0, 1, cap, "far", far, REG, t, 0);
	}
	if (IS(P_REC_NO_INODE))
		put_file_data(fs, 0, newobj(fs), 0, 16, t, 0);
	if (IS(P_DE_TARGET))
		put_entry(fs, 0, 1, cap, "dangling", newobj(fs), REG, t, 0);
	if (IS(P_DE_KEY)) {
		struct ent x = { .key_delta = (fs->version >= 6 ? 0x01000000LL
							       : 0x100000000LL) };
		int64_t o = newobj(fs);
		struct ino in = { .type = REG, .nlinks = 1, .parent = 1 };
		put_inode(fs, 0, o, &in, t, 0);
		put_entry_x(fs, 0, 1, cap, "far-key", o, REG, t, 0, &x);
	}
	if (IS(P_DE_KEY_BELOW)) {
		struct ent x = { .key_delta = -1 };
		int64_t o = newobj(fs);
		struct ino in = { .type = REG, .nlinks = 1, .parent = 1 };
		put_inode(fs, 0, o, &in, t, 0);
		put_entry_x(fs, 0, 1, cap, "low-key", o, REG, t, 0, &x);
	}
	if (IS(P_DE_NAME) || IS(P_DE_NAME_LEN)) {
		int64_t o = newobj(fs);
		struct ino in = { .type = REG, .nlinks = 1, .parent = 1 };
		put_inode(fs, 0, o, &in, t, 0);
		put_entry(fs, 0, 1, cap, IS(P_DE_NAME) ? "a/b" : "", o, REG, t, 0);
	}
	if (IS(P_DE_NOT_DIR)) {
		int64_t o = newobj(fs);
		struct ino in = { .type = REG, .nlinks = 1, .parent = b->f1 };
		put_inode(fs, 0, o, &in, t, 0);
		put_entry(fs, 0, b->f1, cap, "inside-a-file", o, REG, t, 0);
	}
	if (IS(P_DIR_LINKS_ROOT))
		put_entry(fs, 0, b->d1, cap, "loop-to-root", 1, DIR, t, 0);
	if (IS(P_IN_NLINKS_ROOT)) {
		/* a new root inode version with nlinks 2 */
		struct ino r = { .type = DIR, .cap = cap, .nlinks = 2, .parent = 0 };
		struct hammer_base_elm k = {
			.localization = HAMMER_LOCALIZE_INODE, .obj_id = 1,
			.rec_type = HAMMER_RECTYPE_INODE, .key = 0,
			.create_tid = 0x100000001ULL,
		};
		struct hammer_err err = { 0 };
		assert_int_equal(hammer_btree_mark_deleted(&fs->t, &k, t, 1795306472,
							   &err), 0);
		put_inode(fs, 0, 1, &r, t, 0);
	}
	fs_settle(fs);
}

/* ------------------------------------------------------------ checking */

static void dump(const struct hammer_fscheck_report *r)
{
	for (size_t i = 0; i < r->count; i++)
		print_message("  %s%s obj=%016llx off=%016llx %s\n",
			      hammer_fscheck_code_name(r->findings[i].code),
			      r->findings[i].severity ? " (warning)" : "",
			      (unsigned long long)r->findings[i].obj_id,
			      (unsigned long long)r->findings[i].offset,
			      r->findings[i].msg);
}

static void check(struct fs *fs, unsigned flags, struct hammer_fscheck_report *r)
{
	struct hammer_fscheck_opts o;
	hammer_fscheck_opts_init(&o);
	o.flags = flags;
	struct hammer_err err = { 0 };
	int rc = hammer_fscheck(fs->vs, fs->bc, &o, r, &err);
	if (rc) {
		dump(r);
		fail_msg("seed %llu: fscheck returned %d: %s",
			 (unsigned long long)seed, rc, err.msg);
	}
	assert_int_equal(hammer_btree_bufio_pinned(fs->bio), 0);
}

/* Every finding has `code`, and there is at least one. */
static void expect_only(const struct hammer_fscheck_report *r, int code,
			const char *what)
{
	int ok = r->count > 0 && r->dropped == 0;
	for (size_t i = 0; i < r->count; i++)
		if (r->findings[i].code != code)
			ok = 0;
	if (!ok) {
		dump(r);
		fail_msg("seed %llu, %s: want only %s, got %zu findings (above)",
			 (unsigned long long)seed, what,
			 hammer_fscheck_code_name(code), r->count);
	}
}

static void expect_clean(const struct hammer_fscheck_report *r, const char *what,
			 int allow_checkmap_skipped)
{
	int ok = 1;
	for (size_t i = 0; i < r->count; i++)
		if (!(allow_checkmap_skipped &&
		      r->findings[i].code == HAMMER_FSCK_CHECKMAP_SKIPPED))
			ok = 0;
	if (!ok || r->errors) {
		dump(r);
		fail_msg("seed %llu, %s: want no findings, got %zu",
			 (unsigned long long)seed, what, r->count);
	}
}

#define NMANY 300

static void clean_version(unsigned version)
{
	rng = seed * 0x9E3779B97F4A7C15ULL + version;
	struct fs fs;
	fs_new(&fs, version);
	struct built b;
	build(&fs, P_NONE, NMANY, &b);
	char what[64];

	/* everything still in dirty buffers */
	struct hammer_fscheck_report r;
	check(&fs, 0, &r);
	snprintf(what, sizeof(what), "v%u, dirty cache", version);
	expect_clean(&r, what, 1);
	assert_true(hammer_fscheck_find(&r, HAMMER_FSCK_CHECKMAP_SKIPPED) >= 0);
	assert_false(r.checkmap_run);
	assert_int_equal(r.errors, 0);
	assert_true(r.inodes >= NMANY + 10);
	assert_true(r.entries >= NMANY + 10);
	assert_true(r.directories >= 4);
	print_message("v%u: %llu nodes, %llu records, %llu inodes, table %llu bytes\n",
		      version, (unsigned long long)r.nodes,
		      (unsigned long long)r.records, (unsigned long long)r.inodes,
		      (unsigned long long)r.table_bytes);
	assert_true(r.nodes > 10);
	hammer_fscheck_report_free(&r);

	/* flushed, read back through a fresh cache: the freemap check runs */
	fs_flush_recache(&fs);
	check(&fs, 0, &r);
	snprintf(what, sizeof(what), "v%u, flushed", version);
	expect_clean(&r, what, 0);
	assert_true(r.checkmap_run);
	hammer_fscheck_report_free(&r);
	fs_free(&fs);
}

static void clean_v7(void **state) { (void)state; clean_version(7); }
static void clean_v6(void **state) { (void)state; clean_version(6); }
static void clean_v4(void **state) { (void)state; clean_version(4); }
static void clean_v1(void **state) { (void)state; clean_version(1); }

static void bare_newfs(void **state)
{
	(void)state;
	for (unsigned v = 1; v <= 7; v++) {
		struct fs fs;
		fs_new(&fs, v);
		struct hammer_fscheck_report r;
		check(&fs, 0, &r);
		expect_clean(&r, "bare newfs", 0);
		assert_int_equal(r.inodes, 1);
		assert_int_equal(r.records, 2);
		hammer_fscheck_report_free(&r);
		fs_free(&fs);
	}
}

/* Plant one problem; exactly its code must come back. */
static void plant_one(int plant, int code, unsigned version)
{
	rng = seed * 0x9E3779B97F4A7C15ULL + (uint64_t)plant;
	struct fs fs;
	fs_new(&fs, version);
	struct built b;
	build(&fs, plant, 40, &b);
	struct hammer_fscheck_report r;
	check(&fs, HAMMER_FSCK_NO_CHECKMAP, &r);
	char what[64];
	snprintf(what, sizeof(what), "plant %d at v%u", plant, version);
	expect_only(&r, code, what);
	hammer_fscheck_report_free(&r);
	fs_free(&fs);
}

static void plant_both(int plant, int code)
{
	plant_one(plant, code, 7);
	plant_one(plant, code, 5);	/* legacy CRC, ALG0 directories */
}

#define PLANT_TEST(name, plant, code) \
	static void name(void **state) { (void)state; plant_both(plant, code); }

PLANT_TEST(p_in_data_len, P_IN_DATA_LEN, HAMMER_FSCK_IN_DATA_LEN)
PLANT_TEST(p_in_crc, P_IN_CRC, HAMMER_FSCK_IN_CRC)
PLANT_TEST(p_in_objtype, P_IN_OBJTYPE, HAMMER_FSCK_IN_OBJTYPE)
PLANT_TEST(p_in_version, P_IN_VERSION, HAMMER_FSCK_IN_VERSION)
PLANT_TEST(p_in_dirhash, P_IN_DIRHASH, HAMMER_FSCK_IN_DIRHASH)
PLANT_TEST(p_in_dup, P_IN_DUP, HAMMER_FSCK_IN_DUP)
PLANT_TEST(p_in_nlinks, P_IN_NLINKS, HAMMER_FSCK_IN_NLINKS)
PLANT_TEST(p_in_nlinks_root, P_IN_NLINKS_ROOT, HAMMER_FSCK_IN_NLINKS)
PLANT_TEST(p_orphan, P_ORPHAN, HAMMER_FSCK_ORPHAN)
PLANT_TEST(p_rec_tid_order, P_REC_TID_ORDER, HAMMER_FSCK_REC_TID_ORDER)
PLANT_TEST(p_tid_range, P_TID_RANGE, HAMMER_FSCK_TID_RANGE)
PLANT_TEST(p_tid_range_obj, P_TID_RANGE_OBJ, HAMMER_FSCK_TID_RANGE)
PLANT_TEST(p_rec_no_inode, P_REC_NO_INODE, HAMMER_FSCK_REC_NO_INODE)
PLANT_TEST(p_rec_no_inode_deleted, P_REC_NO_INODE_DELETED, HAMMER_FSCK_REC_NO_INODE)
PLANT_TEST(p_rec_type, P_REC_TYPE, HAMMER_FSCK_REC_TYPE)
PLANT_TEST(p_rec_localization, P_REC_LOCALIZATION, HAMMER_FSCK_REC_LOCALIZATION)
PLANT_TEST(p_rec_data, P_REC_DATA, HAMMER_FSCK_REC_DATA)
PLANT_TEST(p_rec_data_off, P_REC_DATA_OFF, HAMMER_FSCK_REC_DATA)
PLANT_TEST(p_rec_data_len, P_REC_DATA_LEN, HAMMER_FSCK_REC_DATA)
PLANT_TEST(p_rec_crc, P_REC_CRC, HAMMER_FSCK_REC_CRC)
PLANT_TEST(p_rec_crc_entry, P_REC_CRC_ENTRY, HAMMER_FSCK_REC_CRC)
PLANT_TEST(p_rec_zone, P_REC_ZONE, HAMMER_FSCK_REC_ZONE)
PLANT_TEST(p_rec_zone_meta, P_REC_ZONE_META, HAMMER_FSCK_REC_ZONE)
PLANT_TEST(p_de_target, P_DE_TARGET, HAMMER_FSCK_DE_TARGET)
PLANT_TEST(p_de_target_deleted, P_DE_TARGET_DELETED, HAMMER_FSCK_DE_TARGET)
PLANT_TEST(p_de_objtype, P_DE_OBJTYPE, HAMMER_FSCK_DE_OBJTYPE)
PLANT_TEST(p_de_localization, P_DE_LOCALIZATION, HAMMER_FSCK_DE_LOCALIZATION)
PLANT_TEST(p_de_loc_target, P_DE_LOC_TARGET, HAMMER_FSCK_DE_LOCALIZATION)
PLANT_TEST(p_de_key, P_DE_KEY, HAMMER_FSCK_DE_KEY)
PLANT_TEST(p_de_key_below, P_DE_KEY_BELOW, HAMMER_FSCK_DE_KEY)
PLANT_TEST(p_de_name, P_DE_NAME, HAMMER_FSCK_DE_NAME)
PLANT_TEST(p_de_name_len, P_DE_NAME_LEN, HAMMER_FSCK_DE_NAME)
PLANT_TEST(p_de_dup, P_DE_DUP, HAMMER_FSCK_DE_DUP)
PLANT_TEST(p_de_not_dir, P_DE_NOT_DIR, HAMMER_FSCK_DE_NOT_DIR)
PLANT_TEST(p_dir_parent, P_DIR_PARENT, HAMMER_FSCK_DIR_PARENT)
PLANT_TEST(p_dir_parent_old, P_DIR_PARENT_OLD, HAMMER_FSCK_DIR_PARENT)
PLANT_TEST(p_dir_links, P_DIR_LINKS, HAMMER_FSCK_DIR_LINKS)
PLANT_TEST(p_dir_links_root, P_DIR_LINKS_ROOT, HAMMER_FSCK_DIR_LINKS)
PLANT_TEST(p_data_overlap, P_DATA_OVERLAP, HAMMER_FSCK_DATA_OVERLAP)
PLANT_TEST(p_data_eof, P_DATA_EOF, HAMMER_FSCK_DATA_EOF)
PLANT_TEST(p_data_key, P_DATA_KEY, HAMMER_FSCK_DATA_KEY)
PLANT_TEST(p_symlink, P_SYMLINK, HAMMER_FSCK_SYMLINK)
PLANT_TEST(p_symlink_len, P_SYMLINK_LEN, HAMMER_FSCK_SYMLINK)
PLANT_TEST(p_pfs_record_key, P_PFS_RECORD, HAMMER_FSCK_PFS_RECORD)
PLANT_TEST(p_pfs_record_short, P_PFS_REC_SHORT, HAMMER_FSCK_PFS_RECORD)
PLANT_TEST(p_pfs_record_flags, P_PFS_REC_FLAGS, HAMMER_FSCK_PFS_RECORD)
PLANT_TEST(p_pfs_record_label, P_PFS_REC_LABEL, HAMMER_FSCK_PFS_RECORD)
PLANT_TEST(p_pfs_record_snapshots, P_PFS_REC_SNAP, HAMMER_FSCK_PFS_RECORD)
PLANT_TEST(p_pfs_record_tids, P_PFS_REC_TIDS, HAMMER_FSCK_PFS_RECORD)
PLANT_TEST(p_pfs_record_root0_slave, P_PFS_REC_ROOT0, HAMMER_FSCK_PFS_RECORD)
PLANT_TEST(p_pfs_record_root0_deleted, P_PFS_REC_ROOT0_DEL, HAMMER_FSCK_PFS_RECORD)
PLANT_TEST(p_pfs_record_place_obj, P_PFS_REC_PLACE, HAMMER_FSCK_PFS_RECORD)
PLANT_TEST(p_pfs_record_place_pfs, P_PFS_REC_PLACE_PFS, HAMMER_FSCK_PFS_RECORD)
PLANT_TEST(p_pfs_record_place_inode, P_PFS_REC_PLACE_INO, HAMMER_FSCK_PFS_RECORD)
PLANT_TEST(p_pfs_record_dup, P_PFS_REC_DUP, HAMMER_FSCK_PFS_RECORD)
PLANT_TEST(p_pfs_no_record, P_PFS_NO_RECORD, HAMMER_FSCK_PFS_NO_RECORD)
PLANT_TEST(p_pfs_no_record_deleted, P_PFS_NO_RECORD_DEL, HAMMER_FSCK_PFS_NO_RECORD)
PLANT_TEST(p_pfs_root_missing, P_PFS_ROOT, HAMMER_FSCK_PFS_ROOT)
PLANT_TEST(p_pfs_root_type, P_PFS_ROOT_TYPE, HAMMER_FSCK_PFS_ROOT)
PLANT_TEST(p_pfs_link, P_PFS_LINK, HAMMER_FSCK_PFS_LINK)
PLANT_TEST(p_pfs_link_zero, P_PFS_LINK_ZERO, HAMMER_FSCK_PFS_LINK)
PLANT_TEST(p_pfs_link_short, P_PFS_LINK_SHORT, HAMMER_FSCK_PFS_LINK)
PLANT_TEST(p_pfs_link_fix, P_PFS_LINK_FIX, HAMMER_FSCK_PFS_LINK)
PLANT_TEST(p_orphan_pfs1, P_ORPHAN_PFS1, HAMMER_FSCK_ORPHAN)
PLANT_TEST(p_in_nlinks_pfs1, P_IN_NLINKS_PFS1, HAMMER_FSCK_IN_NLINKS)
PLANT_TEST(p_dir_parent_pfs1, P_DIR_PARENT_PFS1, HAMMER_FSCK_DIR_PARENT)
PLANT_TEST(p_orphan_slave, P_ORPHAN_SLAVE, HAMMER_FSCK_ORPHAN)
PLANT_TEST(p_snapshot_tid, P_SNAPSHOT_RECORD, HAMMER_FSCK_SNAPSHOT_RECORD)
PLANT_TEST(p_snapshot_len, P_SNAP_LEN, HAMMER_FSCK_SNAPSHOT_RECORD)
PLANT_TEST(p_snapshot_label, P_SNAP_LABEL, HAMMER_FSCK_SNAPSHOT_RECORD)
PLANT_TEST(p_snapshot_obj, P_SNAP_OBJ, HAMMER_FSCK_SNAPSHOT_RECORD)
PLANT_TEST(p_snapshot_crc, P_SNAP_CRC, HAMMER_FSCK_REC_CRC)
PLANT_TEST(p_config_key, P_CONFIG_RECORD, HAMMER_FSCK_CONFIG_RECORD)
PLANT_TEST(p_config_nul, P_CONFIG_NUL, HAMMER_FSCK_CONFIG_RECORD)
PLANT_TEST(p_config_len, P_CONFIG_LEN, HAMMER_FSCK_CONFIG_RECORD)

/* Build with `plant` at v7 and v5; return the report (caller frees). */
static void pfs_run(int plant, struct hammer_fscheck_report *r, unsigned version,
		    struct fs *fs)
{
	rng = seed * 0x9E3779B97F4A7C15ULL + (uint64_t)plant;
	fs_new(fs, version);
	struct built b;
	build(fs, plant, 40, &b);
	check(fs, HAMMER_FSCK_NO_CHECKMAP, r);
}

/*
 * Links naming a destroyed PFS (DELETED record) and a PFS that never had
 * a record: one warning each, no errors (a crash between pfs-destroy and
 * the removal of the link leaves this; readlink shows the raw text).
 */
static void p_pfs_link_dangling(void **state)
{
	(void)state;
	for (unsigned v = 5; v <= 7; v += 2) {
		struct fs fs;
		struct hammer_fscheck_report r;
		pfs_run(P_PFS_LINK_DANGLING, &r, v, &fs);
		expect_only(&r, HAMMER_FSCK_PFS_LINK, "dangling PFS links");
		assert_int_equal(r.errors, 0);
		assert_int_equal(r.warnings, 2);
		for (size_t i = 0; i < r.count; i++)
			assert_int_equal(r.findings[i].severity, HAMMER_FSCK_WARN);
		hammer_fscheck_report_free(&r);
		fs_free(&fs);
	}
}

/*
 * Good PFS images: the clean build has a master with its root, a slave
 * before its first mirroring (no root), a destroyed PFS (DELETED record,
 * no records left) and valid links; here also a slave whose root and a
 * file arrived, flushed and read back.  The PFS findings say where.
 */
static void pfs_clean(void **state)
{
	(void)state;
	for (unsigned v = 3; v <= 7; v++) {
		struct fs fs;
		struct hammer_fscheck_report r;
		pfs_run(P_NONE, &r, v, &fs);
		expect_clean(&r, "PFSs, clean build", 0);
		hammer_fscheck_report_free(&r);
		fs_free(&fs);
		pfs_run(P_PFS_SLAVE_ROOT, &r, v, &fs);
		expect_clean(&r, "slave with its root", 0);
		hammer_fscheck_report_free(&r);
		fs_flush_recache(&fs);
		check(&fs, 0, &r);
		expect_clean(&r, "slave with its root, flushed", 0);
		assert_true(r.checkmap_run);
		hammer_fscheck_report_free(&r);
		fs_free(&fs);
	}
}

/* Where the findings point: PFS and object of each new code. */
static void pfs_finding_fields(void **state)
{
	(void)state;
	struct fs fs;
	struct hammer_fscheck_report r;
	pfs_run(P_PFS_NO_RECORD, &r, 7, &fs);
	expect_only(&r, HAMMER_FSCK_PFS_NO_RECORD, "fields: no record");
	assert_int_equal(r.count, 1);
	assert_int_equal(r.findings[0].localization, 5u << 16);
	assert_int_equal(r.findings[0].obj_id, 1);
	assert_true(r.findings[0].has_elm);
	assert_int_equal(r.findings[0].elm.localization, (5u << 16) | HAMMER_LOCALIZE_INODE);
	hammer_fscheck_report_free(&r);
	fs_free(&fs);

	pfs_run(P_PFS_ROOT, &r, 7, &fs);
	expect_only(&r, HAMMER_FSCK_PFS_ROOT, "fields: root");
	assert_int_equal(r.count, 1);
	assert_int_equal(r.findings[0].localization, 6u << 16);
	assert_int_equal(r.findings[0].obj_id, 1);
	assert_int_equal(r.findings[0].severity, HAMMER_FSCK_ERROR);
	hammer_fscheck_report_free(&r);
	fs_free(&fs);

	assert_string_equal(hammer_fscheck_code_name(HAMMER_FSCK_PFS_RECORD), "PFS_RECORD");
	assert_string_equal(hammer_fscheck_code_name(HAMMER_FSCK_PFS_NO_RECORD),
			    "PFS_NO_RECORD");
	assert_string_equal(hammer_fscheck_code_name(HAMMER_FSCK_PFS_ROOT), "PFS_ROOT");
	assert_string_equal(hammer_fscheck_code_name(HAMMER_FSCK_PFS_LINK), "PFS_LINK");
}

/* An orphan with nlinks 0 (unlinked while open) is a warning only. */
static void p_orphan_unlinked(void **state)
{
	(void)state;
	struct fs fs;
	fs_new(&fs, 7);
	struct built b;
	build(&fs, P_ORPHAN_UNLINKED, 10, &b);
	struct hammer_fscheck_report r;
	check(&fs, HAMMER_FSCK_NO_CHECKMAP, &r);
	expect_only(&r, HAMMER_FSCK_ORPHAN, "unlinked orphan");
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.warnings, 1);
	assert_int_equal(r.findings[0].severity, HAMMER_FSCK_WARN);
	hammer_fscheck_report_free(&r);
	fs_free(&fs);
}

/* --------------------------------------------------------------- FIFO */

/* Rewrite FIFO record `idx` (512-byte DUMMYs from newfs) through the cache. */
static void fifo_poke(struct fs *fs, int idx, uint32_t seq, int spoil_crc)
{
	hammer_off_t a = hammer_encode(HAMMER_ZONE_UNDO_INDEX, 0, 0) +
			 (hammer_off_t)idx * HAMMER_UNDO_ALIGN;
	struct hammer_buffer *b;
	void *p;
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_buffer_get(fs->bc, a, HAMMER_UNDO_ALIGN, 0, &b, &p,
					   &err), 0);
	assert_int_equal(hammer_buffer_modify(fs->bc, b, p, HAMMER_UNDO_ALIGN), 0);
	uint8_t *rec = p;
	uint32_t s = htole32(seq);
	memcpy(rec + 8, &s, 4);
	uint32_t crc = hammer_datacrc2(fs->version, rec, HAMMER_FIFO_HEAD_CRCOFF,
				       rec + 16, HAMMER_UNDO_ALIGN - 16);
	if (spoil_crc)
		crc ^= 0x55;
	crc = htole32(crc);
	memcpy(rec + 12, &crc, 4);
	hammer_buffer_put(fs->bc, b);
}

static void set_fifo(struct fs *fs, hammer_off_t first, hammer_off_t next)
{
	struct hammer_blockmap *um =
		&hammer_volset_root(fs->vs)->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	um->first_offset = first;
	um->next_offset = next;
}

static void fifo_tests(void **state)
{
	(void)state;
	const hammer_off_t base = hammer_encode(HAMMER_ZONE_UNDO_INDEX, 0, 0);
	struct hammer_fscheck_report r;
	struct fs fs;
	struct built b;

	/* the newfs DUMMYs 0..5 between first and next: clean, 6 records */
	fs_new(&fs, 7);
	build(&fs, P_NONE, 5, &b);
	set_fifo(&fs, base, base + 6 * HAMMER_UNDO_ALIGN);
	check(&fs, HAMMER_FSCK_NO_CHECKMAP, &r);
	expect_clean(&r, "FIFO with 6 records", 0);
	assert_int_equal(r.fifo_records, 6);
	hammer_fscheck_report_free(&r);

	/* wrapping: first near the end, next near the start (seq continue) */
	hammer_off_t alloc = hammer_volset_root(fs.vs)->
		vol0_blockmap[HAMMER_ZONE_UNDO_INDEX].alloc_offset;
	int last = (int)((alloc - base) / HAMMER_UNDO_ALIGN) - 1;
	fifo_poke(&fs, 0, (uint32_t)last + 1, 0);
	fifo_poke(&fs, 1, (uint32_t)last + 2, 0);
	set_fifo(&fs, alloc - 2 * HAMMER_UNDO_ALIGN, base + 2 * HAMMER_UNDO_ALIGN);
	check(&fs, HAMMER_FSCK_NO_CHECKMAP, &r);
	expect_clean(&r, "wrapped FIFO", 0);
	assert_int_equal(r.fifo_records, 4);
	hammer_fscheck_report_free(&r);

	/* FIFO_SEQ: a gap in the sequence */
	fifo_poke(&fs, 3, 9, 0);
	set_fifo(&fs, base + 2 * HAMMER_UNDO_ALIGN, base + 6 * HAMMER_UNDO_ALIGN);
	check(&fs, HAMMER_FSCK_NO_CHECKMAP, &r);
	expect_only(&r, HAMMER_FSCK_FIFO_SEQ, "FIFO sequence gap");
	hammer_fscheck_report_free(&r);

	/* FIFO_RECORD: a bad CRC */
	fifo_poke(&fs, 3, 3, 1);
	check(&fs, HAMMER_FSCK_NO_CHECKMAP, &r);
	expect_only(&r, HAMMER_FSCK_FIFO_RECORD, "FIFO bad CRC");
	hammer_fscheck_report_free(&r);
	fifo_poke(&fs, 3, 3, 0);

	/* FIFO_RECORD: next in the middle of a record */
	fifo_poke(&fs, 0, 0, 0);
	fifo_poke(&fs, 1, 1, 0);
	set_fifo(&fs, base, base + 3 * HAMMER_UNDO_ALIGN + 256);
	check(&fs, HAMMER_FSCK_NO_CHECKMAP, &r);
	expect_only(&r, HAMMER_FSCK_FIFO_RECORD, "FIFO next inside a record");
	hammer_fscheck_report_free(&r);

	/* FIFO_BOUNDS: first at the end of the FIFO, next unaligned */
	set_fifo(&fs, alloc, base);
	check(&fs, HAMMER_FSCK_NO_CHECKMAP, &r);
	expect_only(&r, HAMMER_FSCK_FIFO_BOUNDS, "FIFO first out of range");
	hammer_fscheck_report_free(&r);
	set_fifo(&fs, base, base + 3);
	check(&fs, HAMMER_FSCK_NO_CHECKMAP, &r);
	expect_only(&r, HAMMER_FSCK_FIFO_BOUNDS, "FIFO next unaligned");
	hammer_fscheck_report_free(&r);
	struct hammer_blockmap *um =
		&hammer_volset_root(fs.vs)->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	hammer_off_t save = um->alloc_offset;
	um->alloc_offset = base + 1000;
	set_fifo(&fs, base, base);
	check(&fs, HAMMER_FSCK_NO_CHECKMAP, &r);
	expect_only(&r, HAMMER_FSCK_FIFO_BOUNDS, "FIFO end unaligned");
	hammer_fscheck_report_free(&r);
	um->alloc_offset = save;

	/* FIFO_RECORD: a FIFO big-block that vol0_undo_array does not map */
	hammer_off_t *ua = &hammer_volset_root(fs.vs)->vol0_undo_array[0];
	hammer_off_t saved_ua = *ua;
	*ua = HAMMER_OFF_BAD;
	set_fifo(&fs, base, base + 2 * HAMMER_UNDO_ALIGN);
	/* the tree (more than the newfs leaf since the PFSs) goes to disk ... */
	struct hammer_err ferr = { 0 };
	assert_int_equal(hammer_bufcache_flush_kind(fs.bc, HAMMER_BUF_DATA, &ferr), 0);
	assert_int_equal(hammer_bufcache_flush_kind(fs.bc, HAMMER_BUF_META, &ferr), 0);
	fs_close_stack(&fs);	/* ... no cached FIFO buffers either */
	fs_open_stack(&fs);
	check(&fs, HAMMER_FSCK_NO_CHECKMAP | HAMMER_FSCK_NO_BTREE_CHECK, &r);
	expect_only(&r, HAMMER_FSCK_FIFO_RECORD, "FIFO unmapped");
	hammer_fscheck_report_free(&r);
	*ua = saved_ua;
	set_fifo(&fs, base, base);
	fs_free(&fs);
}

/* TIDs must lie strictly below the allocator floor. */
static void tid_boundary(void **state)
{
	(void)state;
	struct fs fs;
	fs_new(&fs, 7);
	struct built b;
	build(&fs, P_NONE, 5, &b);
	hammer_tid_t t = tid(&fs);	/* above every TID and obj_id so far */
	put_file_data(&fs, 0, b.f1, 16384, 16, t, 0);	/* hole, then 16 bytes */
	struct hammer_fscheck_opts o;
	hammer_fscheck_opts_init(&o);
	o.flags = HAMMER_FSCK_NO_CHECKMAP;
	o.next_tid = t;
	struct hammer_fscheck_report r;
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_fscheck(fs.vs, fs.bc, &o, &r, &err), 0);
	/* (the record also lies past f1's EOF: DATA_EOF) */
	int ok = r.count == 2 && hammer_fscheck_find(&r, HAMMER_FSCK_TID_RANGE) >= 0 &&
		 hammer_fscheck_find(&r, HAMMER_FSCK_DATA_EOF) >= 0;
	if (!ok) {
		dump(&r);
		fail_msg("create_tid == next_tid: want TID_RANGE (+ DATA_EOF)");
	}
	hammer_fscheck_report_free(&r);
	o.next_tid = t + 1;
	assert_int_equal(hammer_fscheck(fs.vs, fs.bc, &o, &r, &err), 0);
	expect_only(&r, HAMMER_FSCK_DATA_EOF, "create_tid == next_tid - 1");
	hammer_fscheck_report_free(&r);
	fs_free(&fs);
}

/* checkmap refuses to run to the end: CHECKMAP_FAILED (with FIFO_BOUNDS) */
static void checkmap_failed(void **state)
{
	(void)state;
	struct fs fs;
	fs_new(&fs, 7);
	struct built b;
	build(&fs, P_NONE, 5, &b);
	fs_flush_recache(&fs);
	struct hammer_blockmap *um =
		&hammer_volset_root(fs.vs)->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	um->alloc_offset += 1000;
	struct hammer_fscheck_report r;
	check(&fs, 0, &r);
	int ok = r.count == 2 &&
		 hammer_fscheck_find(&r, HAMMER_FSCK_FIFO_BOUNDS) >= 0 &&
		 hammer_fscheck_find(&r, HAMMER_FSCK_CHECKMAP_FAILED) >= 0;
	if (!ok) {
		dump(&r);
		fail_msg("want FIFO_BOUNDS and CHECKMAP_FAILED");
	}
	hammer_fscheck_report_free(&r);
	um->alloc_offset -= 1000;
	fs_free(&fs);
}

/* ------------------------------------------ pass-through and skipping */

/* Change bytes of a node through the cache: XOR `x` into byte `at`, or
 * copy `src` there; the CRC is left stale or fixed. */
static void poke_bytes(struct fs *fs, hammer_off_t node, size_t at, uint8_t x,
		       const void *src, size_t len, int fix_crc)
{
	struct hammer_buffer *b;
	void *p;
	struct hammer_err err = { 0 };
	assert_true(at + len <= HAMMER_BTREE_NODE_SIZE);
	assert_int_equal(hammer_buffer_get(fs->bc, node, HAMMER_BTREE_NODE_SIZE, 0,
					   &b, &p, &err), 0);
	assert_int_equal(hammer_buffer_modify(fs->bc, b, p, HAMMER_BTREE_NODE_SIZE), 0);
	uint8_t *n = p;
	if (src)
		memcpy(n + at, src, len);
	else
		n[at] ^= x;
	if (fix_crc) {
		uint32_t c = htole32(hammer_datacrc(fs->version, n + HAMMER_BTREE_CRCOFF,
						    HAMMER_BTREE_CRCSIZE));
		memcpy(n, &c, 4);
	}
	hammer_buffer_put(fs->bc, b);
}

static void poke_node(struct fs *fs, hammer_off_t node, size_t at, uint8_t x,
		      int fix_crc)
{
	poke_bytes(fs, node, at, x, NULL, 1, fix_crc);
}

/* Every node address of the tree (DFS through the node I/O). */
static size_t all_nodes(struct fs *fs, hammer_off_t *out, size_t max, int leaves_only)
{
	hammer_off_t stack[4096];
	size_t sp = 0, n = 0;
	struct hammer_err err = { 0 };
	stack[sp++] = fs->t.root;
	while (sp) {
		hammer_off_t off = stack[--sp];
		struct hammer_node *nd;
		assert_int_equal(fs->io.ops->get(fs->io.ctx, off, &nd, NULL, &err), 0);
		int leaf = nd->ondisk->type == HAMMER_BTREE_TYPE_LEAF;
		if ((leaf || !leaves_only) && n < max)
			out[n++] = off;
		for (int i = 0; !leaf && i < nd->ondisk->count && sp < 4096; i++)
			stack[sp++] = nd->ondisk->elms[i].internal.subtree_offset;
		fs->io.ops->put(fs->io.ctx, nd);
	}
	return n;
}

/* A leaf of the tree. */
static hammer_off_t some_leaf(struct fs *fs, int which)
{
	hammer_off_t v[1024];
	size_t n = all_nodes(fs, v, 1024, 1);
	assert_true(n > 0);
	return v[(size_t)which % n];
}

static void btree_passthrough(void **state)
{
	(void)state;
	struct fs fs;
	fs_new(&fs, 7);
	struct built b;
	build(&fs, P_NONE, NMANY, &b);
	fs_flush_recache(&fs);
	/* a leaf with a bad CRC: BTREE_CRC, and the object checks are skipped */
	hammer_off_t leaf = some_leaf(&fs, 1);
	poke_node(&fs, leaf, 100, 0x01, 0);
	struct hammer_fscheck_report r;
	check(&fs, HAMMER_FSCK_NO_CHECKMAP, &r);
	assert_true(hammer_fscheck_find(&r, HAMMER_FSCK_BTREE_BASE +
					HAMMER_CHK_BTREE_CRC) >= 0);
	int i = hammer_fscheck_find(&r, HAMMER_FSCK_SCAN_INCOMPLETE);
	assert_true(i >= 0);
	assert_int_equal(r.findings[i].severity, HAMMER_FSCK_WARN);
	assert_true(r.incomplete);
	assert_int_equal(hammer_fscheck_find(&r, HAMMER_FSCK_ORPHAN), -1);
	assert_int_equal(hammer_fscheck_find(&r, HAMMER_FSCK_IN_NLINKS), -1);
	assert_string_equal(hammer_fscheck_code_name(r.findings[0].code), "BTREE_CRC");
	hammer_fscheck_report_free(&r);
	fs_free(&fs);
}

static void checkmap_passthrough(void **state)
{
	(void)state;
	struct fs fs;
	fs_new(&fs, 7);
	struct built b;
	build(&fs, P_NONE, 20, &b);
	fs_flush_recache(&fs);
	/* change the layer-2 bytes_free of the B-tree big-block (fresh CRC) */
	struct hammer_blockmap_info bi;
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_blockmap_lookup(fs.bm, fs.t.root, &bi, &err), 0);
	struct hammer_buffer *bf;
	void *p;
	assert_int_equal(hammer_buffer_get(fs.bc, bi.layer2_off, 16, 0, &bf, &p, &err), 0);
	assert_int_equal(hammer_buffer_modify(fs.bc, bf, p, 16), 0);
	struct hammer_blockmap_layer2 l2;
	memcpy(&l2, p, sizeof(l2));
	hammer_layer2_swap(&l2);
	l2.bytes_free -= 4096;
	hammer_layer2_swap(&l2);
	l2.entry_crc = htole32(hammer_datacrc(fs.version, &l2, HAMMER_LAYER2_CRCSIZE));
	memcpy(p, &l2, sizeof(l2));
	hammer_buffer_put(fs.bc, bf);
	/* dirty: skipped with a warning */
	struct hammer_fscheck_report r;
	check(&fs, 0, &r);
	expect_only(&r, HAMMER_FSCK_CHECKMAP_SKIPPED, "checkmap with a dirty cache");
	assert_int_equal(r.errors, 0);
	hammer_fscheck_report_free(&r);
	/* flushed: CM_FREE */
	assert_int_equal(hammer_bufcache_flush_kind(fs.bc, HAMMER_BUF_META, &err), 0);
	check(&fs, 0, &r);
	expect_only(&r, HAMMER_FSCK_CM_BASE + HAMMER_CM_FREE, "checkmap bytes_free");
	assert_string_equal(hammer_fscheck_code_name(r.findings[0].code), "CM_FREE");
	hammer_fscheck_report_free(&r);
	fs_free(&fs);
}

/* The callback sees every finding, and stops the check on request. */
static int count_cb(void *ctx, const struct hammer_fsck_finding *f)
{
	int *n = ctx;
	(void)f;
	return ++*n >= 3;
}

static void callback_and_limits(void **state)
{
	(void)state;
	struct fs fs;
	fs_new(&fs, 7);
	struct built b;
	build(&fs, P_NONE, 20, &b);
	/* 10 dangling entries */
	hammer_tid_t t = tid(&fs);
	for (int i = 0; i < 10; i++) {
		char name[16];
		snprintf(name, sizeof(name), "dangle%d", i);
		put_entry(&fs, 0, 1, b.dircap, name, newobj(&fs), HAMMER_OBJTYPE_REGFILE, t, 0);
	}
	fs_settle(&fs);
	struct hammer_fscheck_opts o;
	hammer_fscheck_opts_init(&o);
	o.flags = HAMMER_FSCK_NO_CHECKMAP;
	o.max_findings = 4;
	struct hammer_fscheck_report r;
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_fscheck(fs.vs, fs.bc, &o, &r, &err), 0);
	assert_int_equal(r.count, 4);
	assert_int_equal(r.dropped, 6);
	assert_int_equal(r.errors, 10);
	hammer_fscheck_report_free(&r);
	int n = 0;
	o.cb = count_cb;
	o.ctx = &n;
	assert_int_equal(hammer_fscheck(fs.vs, fs.bc, &o, &r, &err), -ECANCELED);
	assert_int_equal(n, 3);
	hammer_fscheck_report_free(&r);
	/* an engine passes its own tree and TID floor */
	o.cb = NULL;
	o.tree = &fs.t;
	o.next_tid = 0x100000000ULL + 2;	/* far too low: TID_RANGE everywhere */
	o.max_findings = 0;
	assert_int_equal(hammer_fscheck(fs.vs, fs.bc, &o, &r, &err), 0);
	assert_true(hammer_fscheck_find(&r, HAMMER_FSCK_TID_RANGE) >= 0);
	hammer_fscheck_report_free(&r);
	assert_string_equal(hammer_fscheck_code_name(HAMMER_FSCK_IN_NLINKS), "IN_NLINKS");
	assert_string_equal(hammer_fscheck_code_name(9999), "UNKNOWN");
	fs_free(&fs);
}

/* ---------------------------------------------------------- robustness */

static void corrupt_round(uint64_t s, int fix_crc)
{
	rng = s * 0x9E3779B97F4A7C15ULL + 17;
	struct fs fs;
	fs_new(&fs, 7);
	struct built b;
	build(&fs, P_NONE, 120, &b);
	fs_flush_recache(&fs);
	hammer_off_t nodes[1024];
	size_t nn = all_nodes(&fs, nodes, 1024, 0);
	int nflips = 1 + (int)(rnd() % 12);
	for (int i = 0; i < nflips; i++) {
		hammer_off_t node = nodes[rnd() % nn];
		size_t at = (size_t)(rnd() % HAMMER_BTREE_NODE_SIZE);
		if (rnd() % 4 == 0) {
			/* point a subtree at another node (loops, sharing) */
			at = 64 + 48 + 64 * (size_t)(rnd() % 8);
			uint64_t other = htole64(nodes[rnd() % nn]);
			poke_bytes(&fs, node, at, 0, &other, 8, 1);
			continue;
		}
		poke_node(&fs, node, at, (uint8_t)(1u << (rnd() % 8)), fix_crc);
	}
	struct hammer_fscheck_report r;
	struct hammer_fscheck_opts o;
	hammer_fscheck_opts_init(&o);
	o.flags = HAMMER_FSCK_NO_CHECKMAP;
	struct hammer_err err = { 0 };
	int rc = hammer_fscheck(fs.vs, fs.bc, &o, &r, &err);
	if (rc)
		fail_msg("corruption seed %llu fix_crc %d: rc %d %s",
			 (unsigned long long)s, fix_crc, rc, err.msg);
	assert_int_equal(hammer_btree_bufio_pinned(fs.bio), 0);
	char codes[256] = "";
	size_t cl = 0;
	for (size_t i = 0; i < r.count && cl < 200; i++) {
		const char *nm = hammer_fscheck_code_name(r.findings[i].code);
		if (!strstr(codes, nm))
			cl += (size_t)snprintf(codes + cl, sizeof(codes) - cl, " %s", nm);
	}
	print_message("corruption seed %llu (crc %s): %zu findings:%s\n",
		      (unsigned long long)s, fix_crc ? "fixed" : "stale", r.count, codes);
	hammer_fscheck_report_free(&r);
	fs_free(&fs);
}

static int scale(void)
{
	const char *s = getenv("HAMMER_TEST_SCALE");
	int v = s ? atoi(s) : 1;
	return v > 0 ? v : 1;
}

static void corruption(void **state)
{
	(void)state;
	int n = 6 * scale();
	for (int i = 0; i < n; i++)
		corrupt_round(seed + (uint64_t)i, i & 1);
}

/* ----------------------------------------------------- reference images */

static void reference_images(void **state)
{
	(void)state;
	const char *src = getenv("SRC");
	const char *shared = getenv("HAMMER_SHARED");
	if (!src || !shared || access(shared, R_OK) != 0) {
		print_message("no ../shared: reference images skipped\n");
		skip();
	}
	static const char *const names[] = {
		"v7-1vol-1g", "v6-1vol-1g", "v7-3vol", "v7-1vol-16g",
	};
	int done = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char cmd[1024], path[4096];
		snprintf(cmd, sizeof(cmd), "bash '%s/tests/refimg.sh' '%s'", src, names[i]);
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		if (!fgets(path, sizeof(path), p))
			path[0] = 0;
		int st = pclose(p);
		path[strcspn(path, "\n")] = 0;
		if (st != 0 || !path[0]) {
			print_message("%s: not available (status %d), skipped\n", names[i], st);
			continue;
		}
		struct hammer_volset *vs;
		struct hammer_bufcache *bc;
		struct hammer_err err = { 0 };
		if (hammer_volset_open(path, HAMMER_VOLSET_RDONLY, &vs, &err))
			fail_msg("%s: %s", path, err.msg);
		assert_int_equal(hammer_bufcache_open(vs, 4 << 20, &bc), 0);
		struct hammer_fscheck_report r;
		int rc = hammer_fscheck(vs, bc, NULL, &r, &err);
		if (rc || r.count) {
			dump(&r);
			fail_msg("%s: rc %d, %zu findings", names[i], rc, r.count);
		}
		assert_true(r.checkmap_run);
		assert_int_equal(r.inodes, 1);
		hammer_fscheck_report_free(&r);
		hammer_bufcache_close(bc);
		hammer_volset_close(vs);
		done++;
	}
	if (!done)
		skip();
}

int main(void)
{
	const char *s = getenv("HAMMER_TEST_SEED");
	if (s)
		seed = strtoull(s, NULL, 0);
	print_message("test_fscheck: seed %llu (HAMMER_TEST_SEED)\n",
		      (unsigned long long)seed);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bare_newfs),
		cmocka_unit_test(clean_v7),
		cmocka_unit_test(clean_v6),
		cmocka_unit_test(clean_v4),
		cmocka_unit_test(clean_v1),
		cmocka_unit_test(reference_images),
		cmocka_unit_test(p_in_data_len),
		cmocka_unit_test(p_in_crc),
		cmocka_unit_test(p_in_objtype),
		cmocka_unit_test(p_in_version),
		cmocka_unit_test(p_in_dirhash),
		cmocka_unit_test(p_in_dup),
		cmocka_unit_test(p_in_nlinks),
		cmocka_unit_test(p_in_nlinks_root),
		cmocka_unit_test(p_orphan),
		cmocka_unit_test(p_orphan_unlinked),
		cmocka_unit_test(p_rec_tid_order),
		cmocka_unit_test(p_tid_range),
		cmocka_unit_test(p_tid_range_obj),
		cmocka_unit_test(p_rec_no_inode),
		cmocka_unit_test(p_rec_no_inode_deleted),
		cmocka_unit_test(p_rec_type),
		cmocka_unit_test(p_rec_localization),
		cmocka_unit_test(p_rec_data),
		cmocka_unit_test(p_rec_data_off),
		cmocka_unit_test(p_rec_data_len),
		cmocka_unit_test(p_rec_crc),
		cmocka_unit_test(p_rec_crc_entry),
		cmocka_unit_test(p_rec_zone),
		cmocka_unit_test(p_rec_zone_meta),
		cmocka_unit_test(p_de_target),
		cmocka_unit_test(p_de_target_deleted),
		cmocka_unit_test(p_de_objtype),
		cmocka_unit_test(p_de_localization),
		cmocka_unit_test(p_de_loc_target),
		cmocka_unit_test(p_de_key),
		cmocka_unit_test(p_de_key_below),
		cmocka_unit_test(p_de_name),
		cmocka_unit_test(p_de_name_len),
		cmocka_unit_test(p_de_dup),
		cmocka_unit_test(p_de_not_dir),
		cmocka_unit_test(p_dir_parent),
		cmocka_unit_test(p_dir_parent_old),
		cmocka_unit_test(p_dir_links),
		cmocka_unit_test(p_dir_links_root),
		cmocka_unit_test(p_data_overlap),
		cmocka_unit_test(p_data_eof),
		cmocka_unit_test(p_data_key),
		cmocka_unit_test(p_symlink),
		cmocka_unit_test(p_symlink_len),
		cmocka_unit_test(p_snapshot_tid),
		cmocka_unit_test(p_snapshot_len),
		cmocka_unit_test(p_snapshot_label),
		cmocka_unit_test(p_snapshot_obj),
		cmocka_unit_test(p_snapshot_crc),
		cmocka_unit_test(p_config_key),
		cmocka_unit_test(p_config_nul),
		cmocka_unit_test(p_config_len),
		cmocka_unit_test(p_pfs_record_key),
		cmocka_unit_test(p_pfs_record_short),
		cmocka_unit_test(p_pfs_record_flags),
		cmocka_unit_test(p_pfs_record_label),
		cmocka_unit_test(p_pfs_record_snapshots),
		cmocka_unit_test(p_pfs_record_tids),
		cmocka_unit_test(p_pfs_record_root0_slave),
		cmocka_unit_test(p_pfs_record_root0_deleted),
		cmocka_unit_test(p_pfs_record_place_obj),
		cmocka_unit_test(p_pfs_record_place_pfs),
		cmocka_unit_test(p_pfs_record_place_inode),
		cmocka_unit_test(p_pfs_record_dup),
		cmocka_unit_test(p_pfs_no_record),
		cmocka_unit_test(p_pfs_no_record_deleted),
		cmocka_unit_test(p_pfs_root_missing),
		cmocka_unit_test(p_pfs_root_type),
		cmocka_unit_test(p_pfs_link),
		cmocka_unit_test(p_pfs_link_zero),
		cmocka_unit_test(p_pfs_link_short),
		cmocka_unit_test(p_pfs_link_fix),
		cmocka_unit_test(p_pfs_link_dangling),
		cmocka_unit_test(p_orphan_pfs1),
		cmocka_unit_test(p_in_nlinks_pfs1),
		cmocka_unit_test(p_dir_parent_pfs1),
		cmocka_unit_test(p_orphan_slave),
		cmocka_unit_test(pfs_clean),
		cmocka_unit_test(pfs_finding_fields),
		cmocka_unit_test(fifo_tests),
		cmocka_unit_test(btree_passthrough),
		cmocka_unit_test(checkmap_passthrough),
		cmocka_unit_test(checkmap_failed),
		cmocka_unit_test(tid_boundary),
		cmocka_unit_test(callback_and_limits),
		cmocka_unit_test(corruption),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
