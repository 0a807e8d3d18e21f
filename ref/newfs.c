/* newfs.c - format devices as a HAMMER file system (see newfs.h). */
#include "newfs.h"
#include "crc.h"
#include "volume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BB		((uint64_t)HAMMER_BIGBLOCK_SIZE)
#define L2_BBS		((uint64_t)HAMMER_BLOCKMAP_LAYER2)	/* big-blocks per layer-2 array */
#define GIG		(1024ULL * 1024 * 1024)
#define UNDO_MIN	((int64_t)BB * HAMMER_MIN_UNDO_BIGBLOCKS)
#define UNDO_MAX	((int64_t)BB * HAMMER_MAX_UNDO_BIGBLOCKS)
#define FIRST_TID	0x0000000100000000ULL
#define DATA_ALIGN(n)	(((n) + 15) & ~(uint64_t)15)
#define CHUNK		(1024 * 1024)	/* FIFO write unit */

/* Where everything goes, decided before the first write. */
struct vol_plan {
	struct hammer_bdev *bd;
	int64_t buf_beg;
	int64_t buf_end;
	uint64_t nbb;		/* whole big-blocks of buffer space */
	uint64_t nl2;		/* layer-2 arrays (one per 4 TB) */
	uint64_t boot_end;	/* big-blocks taken by the freemap */
	uint64_t alloc_end;	/* big-blocks taken by everything */
};

struct plan {
	unsigned version;
	int n;
	int64_t bot_beg, boot, memlog;
	uint64_t undo_bbs;
	uint64_t btree_bb, meta_bb;	/* on volume 0 */
	struct vol_plan v[HAMMER_MAX_VOLUMES];
};

/* A size as DragonFly's tools print it, without the leading padding. */
static const char *sizestr(uint64_t size, char buf[32])
{
	double d = (double)size;
	const char *unit;
	if (size < 512) {
		unit = "B";
	} else if (size < 512 * 1024) {
		d /= 1024;
		unit = "KB";
	} else if (size < 512 * 1024 * 1024) {
		d /= 1024 * 1024;
		unit = "MB";
	} else if (size < 512ULL * 1024 * 1024 * 1024) {
		d /= (double)GIG;
		unit = "GB";
	} else {
		d /= (double)GIG * 1024;
		unit = "TB";
	}
	snprintf(buf, 32, "%.2f%s", d, unit);
	return buf;
}

void hammer_newfs_opts_init(struct hammer_newfs_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->boot_size = HAMMER_NEWFS_UNSET;
	o->memlog_size = HAMMER_NEWFS_UNSET;
	o->undo_size = HAMMER_NEWFS_UNSET;
	o->version = HAMMER_VOL_VERSION_DEFAULT;
}

/* One area size: 16 KB multiple, max always enforced, min unless forced. */
static int check_area(const char *what, int64_t v, int64_t min, int64_t max,
		      int force, unsigned warn_bit, unsigned *warnings,
		      struct hammer_err *err)
{
	char a[32], b[32];
	if (v == HAMMER_NEWFS_UNSET)
		return 0;
	if (v < 0)
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "%s size %lld is negative",
				  what, (long long)v);
	if (v & HAMMER_BUFMASK)
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "%s size %lld is not an "
				  "integral multiple of %dK", what, (long long)v,
				  HAMMER_BUFSIZE / 1024);
	if (v > max)
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "The maximum %s size is %s "
				  "(%s asked)", what, sizestr((uint64_t)max, b),
				  sizestr((uint64_t)v, a));
	if (v < min) {
		if (!force)
			return HAMMER_ERR(err, -EINVAL, ~0ULL, "The minimum %s size "
					  "is %s (%s asked; only forced formats "
					  "may go below)", what,
					  sizestr((uint64_t)min, b),
					  sizestr((uint64_t)v, a));
		*warnings |= warn_bit;
	}
	return 0;
}

int hammer_newfs_check_opts(const struct hammer_newfs_opts *o,
			    unsigned *warnings, struct hammer_err *err)
{
	*warnings = 0;
	if (!o->label)
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "A filesystem label must be "
				  "specified");
	if (strlen(o->label) > HAMMER_NEWFS_LABEL_MAX)
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "label \"%.20s...\" is %zu "
				  "bytes long; at most %d fit", o->label,
				  strlen(o->label), HAMMER_NEWFS_LABEL_MAX);
	unsigned ver = o->version ? o->version : HAMMER_VOL_VERSION_DEFAULT;
	if (ver < HAMMER_VOL_VERSION_MIN || ver > HAMMER_VOL_VERSION_MAX)
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "I don't understand how to "
				  "format HAMMER version %u (versions %d to %d)",
				  o->version, HAMMER_VOL_VERSION_MIN,
				  HAMMER_VOL_VERSION_MAX);
	static const hammer_uuid_t nil;
	if (!memcmp(&o->fsid, &nil, sizeof(nil)))
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "the fsid is the nil UUID");
	int rc = check_area("boot area", o->boot_size, HAMMER_BOOT_MINBYTES,
			    HAMMER_BOOT_MAXBYTES, o->force,
			    HAMMER_NEWFS_WARN_BOOT_SMALL, warnings, err);
	if (!rc)
		rc = check_area("memory log", o->memlog_size, HAMMER_MEM_MINBYTES,
				(int64_t)HAMMER_MEM_MAXBYTES, o->force,
				HAMMER_NEWFS_WARN_MEMLOG_SMALL, warnings, err);
	if (!rc)
		rc = check_area("UNDO/REDO FIFO", o->undo_size, UNDO_MIN, UNDO_MAX,
				o->force, HAMMER_NEWFS_WARN_UNDO_SMALL, warnings,
				err);
	return rc;
}

int64_t hammer_newfs_undo_bytes(int64_t undo_opt, int64_t vol0_buf_bytes)
{
	int64_t undo = undo_opt > 0 ? undo_opt : 0;
	if (undo == 0) {
		undo = vol0_buf_bytes / 1000;
		if (undo < UNDO_MIN)
			undo = UNDO_MIN;
	}
	if (undo > UNDO_MAX)
		undo = UNDO_MAX;
	undo = (int64_t)(((uint64_t)undo + BB - 1) & ~(BB - 1));
	if (undo < (int64_t)BB)
		undo = (int64_t)BB;
	return undo;
}

/* Free big-blocks of a volume's layer-2 slice k, given what is taken. */
static uint64_t slice_free(const struct vol_plan *vp, uint64_t k)
{
	uint64_t beg = k * L2_BBS, end = beg + L2_BBS;
	if (end > vp->nbb)
		end = vp->nbb;
	if (beg < vp->alloc_end)
		beg = vp->alloc_end;
	return end > beg ? end - beg : 0;
}

static int plan_volumes(struct plan *p, struct hammer_bdev **bds, int n,
			const struct hammer_newfs_opts *o,
			struct hammer_newfs_result *res, struct hammer_err *err)
{
	char a[32];
	p->n = n;
	p->bot_beg = HAMMER_VOL_JUNK_SIZE;
	p->boot = o->boot_size == HAMMER_NEWFS_UNSET ? HAMMER_BOOT_MINBYTES : o->boot_size;
	p->memlog = o->memlog_size == HAMMER_NEWFS_UNSET ? HAMMER_MEM_MINBYTES
							 : o->memlog_size;
	int64_t buf_beg = p->bot_beg + p->boot + p->memlog;
	for (int i = 0; i < n; i++) {
		struct vol_plan *vp = &p->v[i];
		struct hammer_bdev *bd = bds[i];
		if (!bd)
			return HAMMER_ERR(err, -EINVAL, ~0ULL, "device %d is missing", i);
		for (int j = 0; j < i; j++)
			if (bds[j] == bd)
				return HAMMER_ERR(err, -EINVAL, ~0ULL, "%s is given "
						  "twice (volumes %d and %d)",
						  bd->name, j, i);
		if (bd->readonly)
			return HAMMER_ERR(err, -EROFS, ~0ULL, "%s (volume %d) is "
					  "read-only", bd->name, i);
		vp->bd = bd;
		vp->buf_beg = buf_beg;
		uint64_t end = bd->size & ~(uint64_t)HAMMER_BUFMASK;
		uint64_t need = (uint64_t)buf_beg + BB;
		/* zone offsets have 52 bits for the buffer space */
		if (end >= need && end - (uint64_t)buf_beg >= HAMMER_MAX_VOLUME_BYTES)
			return HAMMER_ERR(err, -EFBIG, ~0ULL, "%s (volume %d) is too "
					  "large: %s, a volume's buffer space must "
					  "stay below 4 PB", bd->name, i,
					  sizestr(bd->size, a));
		vp->buf_end = (int64_t)end;
		if (end < need)
			return HAMMER_ERR(err, -ENOSPC, ~0ULL, "%s (volume %d) is too "
					  "small: %llu bytes, a volume needs at least "
					  "%llu (header, boot area, memory log and one "
					  "8 MB big-block)", bd->name, i,
					  (unsigned long long)bd->size,
					  (unsigned long long)need);
		vp->nbb = (uint64_t)(vp->buf_end - buf_beg) / BB;
		vp->nl2 = (vp->nbb + L2_BBS - 1) / L2_BBS;
		vp->boot_end = vp->nl2 + (i == HAMMER_ROOT_VOLNO ? 1 : 0);
		vp->alloc_end = vp->boot_end;
		res->total_size += bd->size;
		res->freemap_bigblocks[i] = (int)vp->boot_end;
	}

	/* Volume 0 carries the UNDO FIFO, the root node and its data. */
	struct vol_plan *r = &p->v[HAMMER_ROOT_VOLNO];
	uint64_t freebbs = r->nbb > r->boot_end ? r->nbb - r->boot_end : 0;
	if (freebbs * BB < HAMMER_NEWFS_MIN_GIG * GIG && !o->force)
		return HAMMER_ERR(err, -ENOSPC, ~0ULL, "%s (volume 0): Cannot create "
				  "a HAMMER filesystem less than 10GB unless forced "
				  "(-f); volume 0 has %s of free big-blocks.  HAMMER "
				  "filesystems less than 50GB are not recommended.",
				  r->bd->name, sizestr(freebbs * BB, a));

	int64_t undo = hammer_newfs_undo_bytes(o->undo_size,
					       r->buf_end - r->buf_beg);
	p->undo_bbs = (uint64_t)undo / BB;
	p->btree_bb = r->boot_end + p->undo_bbs;
	p->meta_bb = p->btree_bb + 1;
	if (r->nbb < p->meta_bb + 1)
		return HAMMER_ERR(err, -ENOSPC, ~0ULL, "%s (volume 0) is too small "
				  "for the file system: it has %llu big-blocks of 8 MB, "
				  "the layout needs %llu (%llu freemap, %llu UNDO, "
				  "1 B-tree, 1 meta)", r->bd->name,
				  (unsigned long long)r->nbb,
				  (unsigned long long)(p->meta_bb + 1),
				  (unsigned long long)r->boot_end,
				  (unsigned long long)p->undo_bbs);
	r->alloc_end = p->meta_bb + 1;

	res->undo_size = undo;
	res->undo_bigblocks = (int)p->undo_bbs;
	res->boot_size = p->boot;
	res->memlog_size = p->memlog;
	res->preallocated = (r->boot_end + p->undo_bbs) * BB;
	return 0;
}

/* ---------------------------------------------------- on-disk encoders */
static void layer1_make(unsigned ver, struct hammer_blockmap_layer1 *l1,
			int64_t blocks_free, hammer_off_t phys)
{
	memset(l1, 0, sizeof(*l1));
	l1->blocks_free = blocks_free;
	l1->phys_offset = phys;
	hammer_layer1_swap(l1);
	l1->layer1_crc = htole32(hammer_datacrc(ver, l1, HAMMER_LAYER1_CRCSIZE));
}

static void layer2_make(unsigned ver, struct hammer_blockmap_layer2 *l2,
			unsigned zone, uint32_t append_off, int32_t bytes_free)
{
	memset(l2, 0, sizeof(*l2));
	l2->zone = (uint8_t)zone;
	l2->append_off = append_off;
	l2->bytes_free = bytes_free;
	hammer_layer2_swap(l2);
	l2->entry_crc = htole32(hammer_datacrc(ver, l2, HAMMER_LAYER2_CRCSIZE));
}

/* Host-order blockmap entry; entry_crc over its disk-order bytes. */
static void blockmap_make(unsigned ver, struct hammer_blockmap *bm,
			  hammer_off_t phys, hammer_off_t first,
			  hammer_off_t next, hammer_off_t alloc)
{
	memset(bm, 0, sizeof(*bm));
	bm->phys_offset = phys;
	bm->first_offset = first;
	bm->next_offset = next;
	bm->alloc_offset = alloc;
	struct hammer_blockmap d = *bm;
	hammer_blockmap_swap(&d);
	bm->entry_crc = hammer_datacrc(ver, &d, HAMMER_BLOCKMAP_CRCSIZE);
}

static int dev_write(struct vol_plan *vp, int vol_no, uint64_t off,
		     const void *buf, size_t len, const char *what,
		     struct hammer_err *err)
{
	int rc = hammer_bdev_write(vp->bd, off, buf, len);
	if (rc)
		return HAMMER_ERR(err, rc, off, "%s (volume %d): cannot write the "
				  "%s at byte %llu: %s", vp->bd->name, vol_no,
				  what, (unsigned long long)off, strerror(-rc));
	return 0;
}

static uint64_t bb_phys(const struct vol_plan *vp, uint64_t bb)
{
	return (uint64_t)vp->buf_beg + bb * BB;
}

static int write_layer1(struct plan *p, uint8_t *buf, struct hammer_err *err)
{
	struct hammer_blockmap_layer1 *l1 = (void *)buf;
	for (uint64_t i = 0; i < HAMMER_BLOCKMAP_LAYER1; i++)
		layer1_make(p->version, &l1[i], 0, HAMMER_BLOCKMAP_UNAVAIL);
	for (int v = 0; v < p->n; v++) {
		const struct vol_plan *vp = &p->v[v];
		uint64_t first_l2 = vp->boot_end - vp->nl2;
		for (uint64_t k = 0; k < vp->nl2; k++) {
			hammer_off_t l2 = hammer_encode(HAMMER_ZONE_RAW_BUFFER_INDEX,
							(unsigned)v,
							(first_l2 + k) * BB);
			uint64_t idx = hammer_layer1_index(
				hammer_encode(HAMMER_ZONE_RAW_BUFFER_INDEX,
					      (unsigned)v, k * L2_BBS * BB));
			layer1_make(p->version, &l1[idx],
				    (int64_t)slice_free(vp, k), l2);
		}
	}
	return dev_write(&p->v[0], 0, bb_phys(&p->v[0], 0), buf, BB,
			 "layer-1 freemap", err);
}

static void layer2_entry(const struct plan *p, int v, uint64_t bb,
			 struct hammer_blockmap_layer2 *l2)
{
	const struct vol_plan *vp = &p->v[v];
	const int32_t full = HAMMER_BIGBLOCK_SIZE;
	if (bb < vp->boot_end)
		layer2_make(p->version, l2, HAMMER_ZONE_FREEMAP_INDEX, full, 0);
	else if (v == 0 && bb < p->btree_bb)
		layer2_make(p->version, l2, HAMMER_ZONE_UNDO_INDEX, full, 0);
	else if (v == 0 && bb == p->btree_bb)
		layer2_make(p->version, l2, HAMMER_ZONE_BTREE_INDEX,
			    HAMMER_BTREE_NODE_SIZE, full - HAMMER_BTREE_NODE_SIZE);
	else if (v == 0 && bb == p->meta_bb) {
		uint32_t used = (uint32_t)(DATA_ALIGN(sizeof(struct hammer_inode_data)) +
					   DATA_ALIGN(sizeof(struct hammer_pseudofs_data)));
		layer2_make(p->version, l2, HAMMER_ZONE_META_INDEX, used,
			    full - (int32_t)used);
	} else if (bb < vp->nbb)
		layer2_make(p->version, l2, HAMMER_ZONE_FREE_INDEX, 0, full);
	else
		layer2_make(p->version, l2, HAMMER_ZONE_UNAVAIL_INDEX, full, 0);
}

static int write_layer2(struct plan *p, int v, uint8_t *buf, struct hammer_err *err)
{
	struct vol_plan *vp = &p->v[v];
	struct hammer_blockmap_layer2 *l2 = (void *)buf;
	uint64_t first_l2 = vp->boot_end - vp->nl2;
	for (uint64_t k = 0; k < vp->nl2; k++) {
		for (uint64_t j = 0; j < L2_BBS; j++)
			layer2_entry(p, v, k * L2_BBS + j, &l2[j]);
		int rc = dev_write(vp, v, bb_phys(vp, first_l2 + k), buf, BB,
				   "layer-2 freemap", err);
		if (rc)
			return rc;
	}
	return 0;
}

/* The whole FIFO as DUMMY records, sequence numbers counting from 0. */
static int write_undo(struct plan *p, uint8_t *buf, struct hammer_err *err)
{
	struct vol_plan *vp = &p->v[0];
	const uint32_t rec = HAMMER_UNDO_ALIGN;
	memset(buf, 0, rec);
	struct hammer_fifo_tail *t = (void *)(buf + rec - sizeof(*t));
	t->tail_signature = HAMMER_TAIL_SIGNATURE;
	t->tail_type = HAMMER_HEAD_TYPE_DUMMY;
	t->tail_size = rec;
	hammer_fifo_tail_swap(t);
	/* everything after the head is the same in every record */
	uint32_t body_crc = hammer_datacrc(p->version,
					   buf + sizeof(struct hammer_fifo_head),
					   rec - sizeof(struct hammer_fifo_head));
	for (uint32_t off = rec; off < CHUNK; off += rec)
		memcpy(buf + off, buf, rec);
	uint32_t seq = 0;
	for (uint64_t b = 0; b < p->undo_bbs; b++) {
		for (uint64_t c = 0; c < BB; c += CHUNK) {
			for (uint32_t off = 0; off < CHUNK; off += rec) {
				struct hammer_fifo_head h = {
					.hdr_signature = HAMMER_HEAD_SIGNATURE,
					.hdr_type = HAMMER_HEAD_TYPE_DUMMY,
					.hdr_size = rec,
					.hdr_seq = seq++,
				};
				hammer_fifo_head_swap(&h);
				h.hdr_crc = htole32(hammer_datacrc(p->version, &h,
							HAMMER_FIFO_HEAD_CRCOFF) ^
						    body_crc);
				memcpy(buf + off, &h, sizeof(h));
			}
			int rc = dev_write(vp, 0, bb_phys(vp, vp->boot_end + b) + c,
					   buf, CHUNK, "UNDO/REDO FIFO", err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Read-modify-write of one 16 KB buffer, as DragonFly's buffer cache does. */
static int rmw_buffer(struct vol_plan *vp, uint64_t phys, const void *data,
		      size_t len, uint8_t *buf, const char *what,
		      struct hammer_err *err)
{
	int rc = hammer_bdev_read(vp->bd, phys, buf, HAMMER_BUFSIZE);
	if (rc)
		return HAMMER_ERR(err, rc, phys, "%s (volume 0): cannot read byte "
				  "%llu: %s", vp->bd->name, (unsigned long long)phys,
				  strerror(-rc));
	memcpy(buf, data, len);
	return dev_write(vp, 0, phys, buf, HAMMER_BUFSIZE, what, err);
}

static int write_root(struct plan *p, const struct hammer_newfs_opts *o,
		      struct hammer_newfs_result *res, uint8_t *buf,
		      struct hammer_err *err)
{
	unsigned ver = p->version;
	hammer_tid_t create_tid = FIRST_TID + 1;	/* the first went to next_tid */
	hammer_off_t node_off = hammer_encode(HAMMER_ZONE_BTREE_INDEX, 0,
					      p->btree_bb * BB);
	hammer_off_t idata_off = hammer_encode(HAMMER_ZONE_META_INDEX, 0,
					       p->meta_bb * BB);
	hammer_off_t pfsd_off = idata_off +
				DATA_ALIGN(sizeof(struct hammer_inode_data));

	/* meta buffer: inode data then PFS data, 16-byte aligned */
	uint8_t meta[DATA_ALIGN(sizeof(struct hammer_inode_data)) +
		     sizeof(struct hammer_pseudofs_data)];
	memset(meta, 0, sizeof(meta));
	struct hammer_inode_data ino;
	memset(&ino, 0, sizeof(ino));
	ino.version = HAMMER_INODE_DATA_VERSION;
	ino.mode = 0755;
	ino.ctime = ino.mtime = ino.atime = o->ctime_us;
	ino.obj_type = HAMMER_OBJTYPE_DIRECTORY;
	ino.nlinks = 1;
	if (ver >= 2)
		ino.cap_flags |= HAMMER_INODE_CAP_DIR_LOCAL_INO;
	if (ver >= 6)
		ino.cap_flags |= HAMMER_INODE_CAP_DIRHASH_ALG1;
	hammer_inode_data_swap(&ino);
	memcpy(meta, &ino, sizeof(ino));

	struct hammer_pseudofs_data pfsd;
	memset(&pfsd, 0, sizeof(pfsd));
	pfsd.sync_low_tid = 1;
	pfsd.shared_uuid = o->pfs_uuid ? *o->pfs_uuid : o->fsid;
	pfsd.unique_uuid = pfsd.shared_uuid;
	snprintf(pfsd.label, sizeof(pfsd.label), "%s", o->label);
	hammer_pfsd_swap(&pfsd);
	uint8_t *pfs_bytes = meta + (pfsd_off - idata_off);
	memcpy(pfs_bytes, &pfsd, sizeof(pfsd));

	struct hammer_node_ondisk *node = calloc(1, sizeof(*node));
	if (!node)
		return HAMMER_ERR(err, -ENOMEM, ~0ULL, "out of memory");
	node->count = 2;
	node->type = HAMMER_BTREE_TYPE_LEAF;
	uint32_t ts = (uint32_t)(o->ctime_us / 1000000);
	struct hammer_btree_leaf_elm *e = &node->elms[0].leaf;
	e->base.obj_id = 1;
	e->base.create_tid = create_tid;
	e->base.rec_type = HAMMER_RECTYPE_INODE;
	e->base.obj_type = HAMMER_OBJTYPE_DIRECTORY;
	e->base.btype = HAMMER_BTREE_TYPE_RECORD;
	e->base.localization = hammer_pfs_localization(HAMMER_ROOT_PFSID) |
			       HAMMER_LOCALIZE_INODE;
	e->create_ts = ts;
	e->data_offset = idata_off;
	e->data_len = sizeof(struct hammer_inode_data);
	e->data_crc = hammer_datacrc(ver, meta, HAMMER_INODE_CRCSIZE);
	e = &node->elms[1].leaf;
	e->base.obj_id = 1;
	e->base.create_tid = create_tid;
	e->base.rec_type = HAMMER_RECTYPE_PFS;
	e->base.obj_type = HAMMER_OBJTYPE_DIRECTORY;
	e->base.btype = HAMMER_BTREE_TYPE_RECORD;
	e->base.localization = hammer_pfs_localization(HAMMER_ROOT_PFSID) |
			       HAMMER_LOCALIZE_MISC;
	e->create_ts = ts;
	e->data_offset = pfsd_off;
	e->data_len = sizeof(struct hammer_pseudofs_data);
	e->data_crc = hammer_datacrc(ver, pfs_bytes, sizeof(pfsd));
	hammer_node_swap(node);
	node->crc = htole32(hammer_datacrc(ver, (uint8_t *)node + HAMMER_BTREE_CRCOFF,
					   HAMMER_BTREE_CRCSIZE));

	struct vol_plan *r = &p->v[0];
	int rc = rmw_buffer(r, bb_phys(r, p->btree_bb), node, sizeof(*node), buf,
			    "root B-tree node", err);
	free(node);
	if (!rc)
		rc = rmw_buffer(r, bb_phys(r, p->meta_bb), meta, sizeof(meta), buf,
				"root inode and PFS data", err);
	res->btree_root = node_off;
	res->inode_data = idata_off;
	res->pfs_data = pfsd_off;
	res->create_tid = create_tid;
	return rc;
}

static void header_make(const struct plan *p, const struct hammer_newfs_opts *o,
			int v, struct hammer_volume_ondisk *h)
{
	const struct vol_plan *vp = &p->v[v];
	memset(h, 0, sizeof(*h));
	h->vol_signature = HAMMER_FSBUF_VOLUME;
	h->vol_bot_beg = p->bot_beg;
	h->vol_mem_beg = p->bot_beg + p->boot;
	h->vol_buf_beg = vp->buf_beg;
	h->vol_buf_end = vp->buf_end;
	h->vol_fsid = o->fsid;
	h->vol_fstype = hammer_fstype_uuid;
	snprintf(h->vol_label, sizeof(h->vol_label), "%s", o->label);
	h->vol_no = v;
	h->vol_count = p->n;
	h->vol_version = p->version;
	h->vol_rootvol = HAMMER_ROOT_VOLNO;
}

static void root_header_fill(const struct plan *p, struct hammer_volume_ondisk *h,
			     struct hammer_newfs_result *res)
{
	unsigned ver = p->version;
	int64_t stat = 0;
	for (int v = 0; v < p->n; v++) {
		const struct vol_plan *vp = &p->v[v];
		uint64_t nfree = vp->nbb - vp->boot_end;
		if (v == 0)
			nfree -= p->undo_bbs;
		stat += (int64_t)nfree;
	}
	h->vol0_stat_bigblocks = stat;
	h->vol0_stat_freebigblocks = stat - 2;	/* B-tree and meta */
	h->vol0_stat_inodes = 1;
	h->vol0_btree_root = res->btree_root;
	h->vol0_next_tid = FIRST_TID;

	hammer_off_t undo_base = hammer_encode(HAMMER_ZONE_UNDO_INDEX, 0, 0);
	blockmap_make(ver, &h->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX],
		      HAMMER_BLOCKMAP_UNAVAIL, undo_base, undo_base,
		      undo_base + p->undo_bbs * BB);
	blockmap_make(ver, &h->vol0_blockmap[HAMMER_ZONE_FREEMAP_INDEX],
		      hammer_encode(HAMMER_ZONE_RAW_BUFFER_INDEX, 0, 0), 0,
		      hammer_encode(HAMMER_ZONE_RAW_BUFFER_INDEX, 0, 0),
		      hammer_encode(HAMMER_ZONE_RAW_BUFFER_INDEX, 255, ~0ULL));
	for (unsigned z = HAMMER_ZONE_BTREE_INDEX; z < HAMMER_MAX_ZONES; z++) {
		hammer_off_t base = hammer_encode(z, 0, 0), next = base;
		if (z == HAMMER_ZONE_BTREE_INDEX)
			next = res->btree_root + HAMMER_BTREE_NODE_SIZE;
		else if (z == HAMMER_ZONE_META_INDEX)
			next = res->pfs_data +
			       DATA_ALIGN(sizeof(struct hammer_pseudofs_data));
		blockmap_make(ver, &h->vol0_blockmap[z], 0, base, next,
			      hammer_encode(z, 255, ~0ULL));
	}
	for (uint64_t i = 0; i < HAMMER_UNDO_LAYER2; i++)
		h->vol0_undo_array[i] = i < p->undo_bbs
			? hammer_encode(HAMMER_ZONE_RAW_BUFFER_INDEX, 0,
					(p->v[0].boot_end + i) * BB)
			: HAMMER_BLOCKMAP_UNAVAIL;
	res->stat_bigblocks = h->vol0_stat_bigblocks;
	res->stat_freebigblocks = h->vol0_stat_freebigblocks;
	res->next_tid = h->vol0_next_tid;
}

int hammer_newfs_format(struct hammer_bdev **bds, int n,
			const struct hammer_newfs_opts *o,
			struct hammer_newfs_result *res, struct hammer_err *err)
{
	memset(res, 0, sizeof(*res));
	if (n < 1)
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "You must specify at least "
				  "one special file (volume)");
	if (n > HAMMER_MAX_VOLUMES)
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "The maximum number of "
				  "volumes is %d (%d given)", HAMMER_MAX_VOLUMES, n);
	int rc = hammer_newfs_check_opts(o, &res->warnings, err);
	if (rc)
		return rc;
	struct plan *p = calloc(1, sizeof(*p));
	if (!p)
		return HAMMER_ERR(err, -ENOMEM, ~0ULL, "out of memory");
	p->version = o->version ? o->version : HAMMER_VOL_VERSION_DEFAULT;
	res->version = p->version;
	res->vol_count = n;
	rc = plan_volumes(p, bds, n, o, res, err);
	uint8_t *buf = NULL;
	struct hammer_volume_ondisk *h = NULL;
	if (rc)
		goto out;
	buf = malloc(BB);
	h = malloc(sizeof(*h));
	if (!buf || !h) {
		rc = HAMMER_ERR(err, -ENOMEM, ~0ULL, "out of memory");
		goto out;
	}
	rc = write_layer1(p, buf, err);
	for (int v = 0; !rc && v < n; v++)
		rc = write_layer2(p, v, buf, err);
	if (!rc)
		rc = write_undo(p, buf, err);
	if (!rc)
		rc = write_root(p, o, res, buf, err);
	/* the headers make the volumes HAMMER: write them last */
	for (int v = 0; !rc && v < n; v++) {
		int f = hammer_bdev_flush(p->v[v].bd);
		if (f)
			rc = HAMMER_ERR(err, f, ~0ULL, "%s (volume %d): flush failed: "
					"%s", p->v[v].bd->name, v, strerror(-f));
	}
	for (int v = 0; !rc && v < n; v++) {
		header_make(p, o, v, h);
		if (v == HAMMER_ROOT_VOLNO)
			root_header_fill(p, h, res);
		hammer_volume_header_encode(h, buf);
		rc = dev_write(&p->v[v], v, 0, buf, HAMMER_BUFSIZE,
			       "volume header", err);
	}
	for (int v = 0; !rc && v < n; v++) {
		int f = hammer_bdev_flush(p->v[v].bd);
		if (f)
			rc = HAMMER_ERR(err, f, ~0ULL, "%s (volume %d): flush failed: "
					"%s", p->v[v].bd->name, v, strerror(-f));
	}
out:
	free(h);
	free(buf);
	free(p);
	return rc;
}
