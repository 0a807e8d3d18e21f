/*
 * file.c - file data as HAMMER stores it, read, write, truncate.
 *
 * Layout (format digest 4.5): DATA records keyed by their end offset; a
 * record covers [key - data_len, key).  Blocks are 16 KB below 1 MB and
 * 64 KB from 1 MB on; each record is one whole block, except that a file of
 * at most 8 KB is one record at offset 0 of its size rounded up to 16
 * bytes.  Bytes past EOF inside the last block are kept zero (truncate
 * rewrites that block), so a later extension reads zeros.  Holes have no
 * records.  Readers accept any non-overlapping layout (they copy whatever
 * overlaps the requested range), so files DragonFly wrote read the same.
 *
 * A block is replaced copy-on-write: the new data is allocated and written
 * first, then the old records are removed (delete_tid, or physically when
 * created in this cycle / no history), then the new element is inserted.
 * An -ENOSPC from the allocation therefore changes nothing.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "engine.h"

#define SMALL_FILE	8192
#define BLK_SMALL	16384ULL
#define BLK_LARGE	65536ULL
#define LARGE_FROM	(1ULL << 20)

static uint64_t blk_size(uint64_t off)
{
	return off < LARGE_FROM ? BLK_SMALL : BLK_LARGE;
}

static uint64_t blk_base(uint64_t off)
{
	return off & ~(blk_size(off) - 1);
}

/* Length of the record for the block at `base` of a file of `fsize` bytes. */
static size_t rec_len(uint64_t base, uint64_t fsize)
{
	if (base == 0 && fsize <= SMALL_FILE)
		return (size_t)((fsize + 15) & ~15ULL);
	return (size_t)blk_size(base);
}

/* ---------------------------------------------------------- scanning */

int rec_scan(struct hammer_mount *m, uint32_t loc, int64_t obj,
	     uint16_t rt_lo, uint16_t rt_hi, int64_t kbeg, int64_t kend,
	     hammer_tid_t asof, rec_visit_fn fn, void *ctx)
{
	struct hammer_cursor c;
	struct hammer_err e = { 0 };
	hammer_cursor_init(&c, &m->tree, &e);
	memset(&c.key_beg, 0, sizeof(c.key_beg));
	c.key_beg.localization = loc;
	c.key_beg.obj_id = obj;
	c.key_beg.rec_type = rt_lo;
	c.key_beg.key = kbeg;
	c.key_beg.create_tid = 1;
	c.key_end = c.key_beg;
	c.key_end.rec_type = rt_hi;
	c.key_end.key = kend;
	c.key_end.create_tid = 0;
	c.flags = HAMMER_CURSOR_ASOF | HAMMER_CURSOR_END_INCLUSIVE;
	c.asof = asof;
	int rc = hammer_btree_first(&c);
	while (rc == 0) {
		rc = fn(ctx, hammer_cursor_leaf(&c));
		if (rc)
			break;
		rc = hammer_btree_next(&c);
	}
	hammer_cursor_done(&c);
	if (rc == -ENOENT || rc > 0)
		return 0;
	return eng_err(m, rc, &e);
}

/* ---------------------------------------------------------- reading */

/*
 * Check a record's data CRC (once per granule: the buffer remembers what
 * it verified).  Before a read, and before a record's bytes change.
 */
static int data_crc_check(struct hammer_mount *m, const void *p,
			  const struct hammer_btree_leaf_elm *el)
{
	if (hammer_crc_check(m->version, p, (size_t)el->data_len,
			     el->data_crc) == HAMMER_CRC_BAD)
		return HAMMER_CORRUPT(&m->err, el->data_offset,
				      "data CRC mismatch: object %lld, "
				      "record ending at offset %lld, data at %016llx",
				      (long long)el->base.obj_id,
				      (long long)el->base.key,
				      (unsigned long long)el->data_offset);
	return 0;
}

static int data_verify(struct hammer_mount *m, struct hammer_buffer *b, void *p,
		       const struct hammer_btree_leaf_elm *el)
{
	size_t len = (size_t)el->data_len;
	int granular = (el->data_offset % HAMMER_BUF_GRANULE) == 0 &&
		       len % HAMMER_BUF_GRANULE == 0;
	if (granular && hammer_buffer_is_verified(b, p, len))
		return 0;
	int rc = data_crc_check(m, p, el);
	if (!rc && granular)
		hammer_buffer_set_verified(b, p, len);
	return rc;
}

/*
 * A whole record into dst, past the cache when nothing of it is cached
 * (-EAGAIN otherwise: the caller goes through the cache).
 */
static int rec_read_direct(struct hammer_mount *m,
			   const struct hammer_btree_leaf_elm *el, void *dst)
{
	struct hammer_err e = { 0 };
	int rc = hammer_bufcache_read_direct(m->bc, el->data_offset,
					     (size_t)el->data_len, dst, &e);
	if (rc == -EAGAIN || rc == -EINVAL)
		return -EAGAIN;
	if (rc)
		return eng_err(m, rc, &e);
	return data_crc_check(m, dst, el);
}

/* Copy bytes [roff, roff + n) of a record's data, CRC-checked. */
static int rec_read_part(struct hammer_mount *m,
			 const struct hammer_btree_leaf_elm *el, size_t roff,
			 void *dst, size_t n)
{
	struct hammer_buffer *b;
	void *p;
	struct hammer_err e = { 0 };
	size_t whole = (size_t)el->data_len;
	int rc = hammer_buffer_get(m->bc, el->data_offset, whole, 0, &b, &p, &e);
	if (rc)
		return eng_err(m, rc, &e);
	rc = data_verify(m, b, p, el);
	if (rc) {
		hammer_buffer_put(m->bc, b);
		return rc;
	}
	memcpy(dst, (uint8_t *)p + roff, n);
	hammer_buffer_put(m->bc, b);
	return 0;
}

struct read_ctx {
	struct hammer_mount *m;
	uint64_t off, end;
	uint64_t filled;		/* [off, filled) is written (data or zeros) */
	uint8_t *buf;
	int rc;
};

static int read_visit(void *vctx, const struct hammer_btree_leaf_elm *el)
{
	struct read_ctx *r = vctx;
	if (el->data_len <= 0 || el->base.key <= 0 ||
	    el->data_len > (int32_t)BLK_LARGE ||
	    el->base.key < el->data_len) {
		r->rc = HAMMER_CORRUPT(&r->m->err, el->data_offset,
				       "object %lld: DATA record key %lld len %d",
				       (long long)el->base.obj_id,
				       (long long)el->base.key, el->data_len);
		return 1;
	}
	uint64_t rend = (uint64_t)el->base.key;
	uint64_t rbeg = rend - (uint64_t)el->data_len;
	if (rbeg >= r->end)
		return 1;
	uint64_t lo = rbeg > r->off ? rbeg : r->off;
	uint64_t hi = rend < r->end ? rend : r->end;
	if (lo < hi) {
		/* the hole before this record: nothing earlier wrote there */
		if (lo > r->filled)
			memset(r->buf + (r->filled - r->off), 0,
			       (size_t)(lo - r->filled));
		/*
		 * A whole record goes straight in, past the cache: sequential
		 * reads, and the old block a write rebuilds, need it once.
		 */
		int rc = -EAGAIN;
		if (lo == rbeg && hi == rend)
			rc = rec_read_direct(r->m, el, r->buf + (lo - r->off));
		if (rc == -EAGAIN)
			rc = rec_read_part(r->m, el, (size_t)(lo - rbeg),
					   r->buf + (lo - r->off), (size_t)(hi - lo));
		if (rc) {
			r->rc = rc;
			return 1;
		}
		if (hi > r->filled)
			r->filled = hi;
	}
	return 0;
}

/*
 * Read [off, off + n) as the records say (zeros in holes); no EOF clamp.
 * Every byte of buf is written once: records are copied, only the holes
 * between them zeroed (no memset of the whole range first).
 */
static int read_range(struct hammer_mount *m, int64_t obj, uint32_t pfs_loc,
		      hammer_tid_t asof, uint64_t off, void *buf, size_t n)
{
	struct read_ctx r = { m, off, off + n, off, buf, 0 };
	if (!n)
		return 0;
	uint64_t kend = off + n + BLK_LARGE;
	if (kend > (uint64_t)INT64_MAX)
		kend = (uint64_t)INT64_MAX;
	int rc = rec_scan(m, pfs_loc | HAMMER_LOCALIZE_MISC, obj,
			  HAMMER_RECTYPE_DATA, HAMMER_RECTYPE_DATA,
			  (int64_t)off + 1, (int64_t)kend, asof, read_visit, &r);
	if (!rc)
		rc = r.rc;
	if (!rc && r.filled < r.end)
		memset(r.buf + (r.filled - off), 0, (size_t)(r.end - r.filled));
	return rc;
}

/*
 * Read-ahead.  A read that starts where an earlier read of the same
 * object ended is sequential; then the records of the next `window` bytes
 * are announced to the device (the page cache fetches them while we copy
 * and the kernel sends the next request), the window doubling up to
 * RA_MAX.  A new announcement goes out when less than half a window is
 * left ahead.  Only hints: errors are left to the reads themselves.
 */
#define RA_MIN	(256ULL * 1024)
#define RA_MAX	(4ULL * 1024 * 1024)

struct ra_ctx {
	struct hammer_mount *m;
	uint64_t end;
};

static int ra_visit(void *vctx, const struct hammer_btree_leaf_elm *el)
{
	struct ra_ctx *r = vctx;
	if (el->data_len <= 0 || el->data_len > (int32_t)BLK_LARGE ||
	    el->base.key < el->data_len)
		return 1;
	if ((uint64_t)(el->base.key - el->data_len) >= r->end)
		return 1;
	hammer_bufcache_prefetch(r->m->bc, el->data_offset, (size_t)el->data_len);
	return 0;
}

static void read_ahead(struct hammer_mount *m, const struct eng_view *v,
		       uint64_t off, size_t len)
{
	struct eng_ra *s = NULL, *old = &m->ra[0];
	uint64_t end = off + len;
	m->ra_clock++;
	for (size_t i = 0; i < sizeof(m->ra) / sizeof(m->ra[0]); i++) {
		struct eng_ra *r = &m->ra[i];
		if (r->obj == v->obj && r->pfs_loc == v->pfs_loc &&
		    r->asof == v->asof && r->next == off && r->used) {
			s = r;
			break;
		}
		if (r->used < old->used)
			old = r;
	}
	if (!s) {
		*old = (struct eng_ra){ v->obj, v->pfs_loc, v->asof, end, end,
					0, m->ra_clock };
		return;
	}
	s->used = m->ra_clock;
	s->next = end;
	s->window = s->window ? s->window * 2 : RA_MIN;
	if (s->window > RA_MAX)
		s->window = RA_MAX;
	if (s->ahead < end)
		s->ahead = end;
	uint64_t to = end + s->window;
	if (to > v->d.size)
		to = v->d.size;
	if (s->ahead >= to || s->ahead - end >= s->window / 2)
		return;
	struct ra_ctx r = { m, to };
	(void)rec_scan(m, v->pfs_loc | HAMMER_LOCALIZE_MISC, v->obj,
		       HAMMER_RECTYPE_DATA, HAMMER_RECTYPE_DATA,
		       (int64_t)s->ahead + 1, (int64_t)(to + BLK_LARGE),
		       v->asof, ra_visit, &r);
	s->ahead = to;
}

ssize_t hammer_read(struct hammer_mount *m, hammer_ino_t ino, uint64_t off,
		    void *buf, size_t len)
{
	struct eng_view v;
	pthread_mutex_lock(&m->lock);
	ssize_t rc = eng_view(m, ino, &v);
	if (rc)
		goto out;
	if (v.d.obj_type == HAMMER_OBJTYPE_DIRECTORY) {
		rc = -EISDIR;
		goto out;
	}
	if (v.d.obj_type != HAMMER_OBJTYPE_REGFILE &&
	    v.d.obj_type != HAMMER_OBJTYPE_DBFILE) {
		rc = -EINVAL;
		goto out;
	}
	if (off >= v.d.size) {
		rc = 0;
		goto out;
	}
	if (len > v.d.size - off)
		len = (size_t)(v.d.size - off);
	if (len > (size_t)SSIZE_MAX)
		len = (size_t)SSIZE_MAX;
	rc = read_range(m, v.obj, v.pfs_loc, v.asof, off, buf, len);
	if (!rc) {
		read_ahead(m, &v, off, len);
		rc = (ssize_t)len;
	}
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ---------------------------------------------------------- writing */

#define COLLECT_MAX 256

struct collect_ctx {
	uint64_t beg, end;		/* records overlapping [beg, end) */
	struct hammer_btree_leaf_elm el[COLLECT_MAX];
	int n;
};

/* Kept per mount: a write would otherwise malloc it for every block. */
struct file_scratch {
	struct collect_ctx c;
};

void file_scratch_free(struct hammer_mount *m)
{
	free(m->fscratch);
	m->fscratch = NULL;
}

static int collect_visit(void *vctx, const struct hammer_btree_leaf_elm *el)
{
	struct collect_ctx *c = vctx;
	uint64_t rend = (uint64_t)el->base.key;
	uint64_t rbeg = rend - (uint64_t)(el->data_len > 0 ? el->data_len : 0);
	if (rbeg >= c->end)
		return 1;
	if (rend > c->beg)
		c->el[c->n++] = *el;
	return c->n == COLLECT_MAX;
}

/* Live DATA records overlapping [beg, end), at most COLLECT_MAX. */
static int collect(struct hammer_mount *m, struct hammer_inode *ip,
		   uint64_t beg, uint64_t end, struct collect_ctx *c)
{
	c->beg = beg;
	c->end = end;
	c->n = 0;
	uint64_t kend = end + BLK_LARGE;
	if (kend > (uint64_t)INT64_MAX)
		kend = (uint64_t)INT64_MAX;
	return rec_scan(m, ip->pfs_loc | HAMMER_LOCALIZE_MISC, ip->obj_id,
			HAMMER_RECTYPE_DATA, HAMMER_RECTYPE_DATA, (int64_t)beg + 1,
			(int64_t)kend, ASOF_LIVE, collect_visit, c);
}

/*
 * What a block becomes: the live bytes of [base, base + keep), zeros up
 * to len, and src[0, n) at offset at on top.
 */
struct blk_new {
	uint64_t base;
	size_t len, keep, at, n;
	const uint8_t *src;
};

/* The CRC was computed from these very bytes: no need to check them again. */
static void data_trust(struct hammer_buffer *b, void *p,
		       const struct hammer_btree_leaf_elm *el)
{
	if ((el->data_offset % HAMMER_BUF_GRANULE) == 0 &&
	    el->data_len % HAMMER_BUF_GRANULE == 0)
		hammer_buffer_set_verified(b, p, (size_t)el->data_len);
}

/*
 * A record of this cycle with the block's exact shape: change its bytes in
 * place (nothing durable refers to them) and re-insert it with the new CRC.
 * Only writes come here (truncate removes the records past its new EOF
 * first), and bytes past the old EOF are zero already (the file's
 * invariant), so only the new bytes change.
 */
static int block_patch(struct hammer_mount *m, struct hammer_btree_leaf_elm *el,
		       const struct blk_new *w)
{
	struct hammer_buffer *b;
	void *vp;
	struct hammer_err e = { 0 };
	int rc = hammer_buffer_get(m->bc, el->data_offset, w->len, 0, &b, &vp, &e);
	if (rc)
		return eng_err(m, rc, &e);
	uint8_t *p = vp;
	/* nothing has changed until the bytes do */
	rc = data_verify(m, b, p, el);
	if (!rc && w->n)
		rc = eng_err(m, hammer_buffer_modify(m->bc, b, p + w->at, w->n), NULL);
	if (rc) {
		hammer_buffer_put(m->bc, b);
		return rc;
	}
	memcpy(p + w->at, w->src, w->n);
	rc = hammer_btree_delete(&m->tree, &el->base, &e);
	if (!rc) {
		rec_seal(m, el, p);
		data_trust(b, p, el);
		rc = hammer_btree_insert(&m->tree, el, &e);
	}
	hammer_buffer_put(m->bc, b);
	if (rc)
		m->broken = 1;
	return eng_err(m, rc, &e);
}

/*
 * Allocate the block's new record and build its bytes right in the new
 * buffer (the old bytes are read straight into it).  On success b is
 * pinned and the element sealed.
 */
static int block_build(struct hammer_mount *m, struct hammer_inode *ip,
		       const struct blk_new *w, struct hammer_btree_leaf_elm *nw)
{
	struct hammer_err e = { 0 };
	int rc = rec_alloc(m, ip->pfs_loc | HAMMER_LOCALIZE_MISC, ip->obj_id,
			   HAMMER_RECTYPE_DATA, (int64_t)(w->base + w->len),
			   ip->d.obj_type, w->len, nw);
	if (rc)
		return rc;
	/* whole fresh 16 KB units need no read (every byte is set below) */
	int fresh = w->len >= HAMMER_BUFSIZE;
	struct hammer_buffer *b;
	void *vp;
	rc = hammer_buffer_get(m->bc, nw->data_offset, w->len,
			       fresh ? HAMMER_BUF_NEW | HAMMER_BUF_UNINIT : 0,
			       &b, &vp, &e);
	if (rc) {
		eng_err(m, rc, &e);
		goto fail;
	}
	uint8_t *p = vp;
	rc = eng_err(m, hammer_buffer_modify(m->bc, b, p, w->len), NULL);
	if (!rc) {
		rc = read_range(m, ip->obj_id, ip->pfs_loc, ASOF_LIVE, w->base,
				p, w->keep);
		if (rc)		/* it is dirty: write no undefined bytes */
			memset(p, 0, w->len);
	}
	if (!rc) {
		memset(p + w->keep, 0, w->len - w->keep);
		memcpy(p + w->at, w->src, w->n);
		rec_seal(m, nw, p);
		data_trust(b, p, nw);
	}
	hammer_buffer_put(m->bc, b);
	if (!rc)
		return 0;
fail:
	{
		struct hammer_err e2 = { 0 };
		hammer_blockmap_free(m->bm, nw->data_offset, (int)w->len, &e2);
	}
	return rc;
}

/* Replace whatever covers [base, base + len) by one record, as w says. */
static int store_block(struct hammer_mount *m, struct hammer_inode *ip,
		       const struct blk_new *w)
{
	if (!m->fscratch) {
		m->fscratch = malloc(sizeof(*m->fscratch));
		if (!m->fscratch)
			return -ENOMEM;
	}
	struct collect_ctx *c = &m->fscratch->c;
	int rc = collect(m, ip, w->base, w->base + w->len, c);
	if (rc)
		return rc;
	/* same cycle, same shape: change it in place */
	if (c->n == 1 && c->el[0].base.create_tid == m->cycle_tid &&
	    (uint64_t)c->el[0].base.key == w->base + w->len &&
	    (size_t)c->el[0].data_len == w->len) {
		return block_patch(m, &c->el[0], w);
	}
	struct hammer_btree_leaf_elm nw;
	rc = block_build(m, ip, w, &nw);
	if (rc)
		return rc;
	for (;;) {
		for (int i = 0; i < c->n && !rc; i++)
			rc = rec_remove(m, &c->el[i], ino_nohist(ip));
		if (rc || c->n < COLLECT_MAX)
			break;
		rc = collect(m, ip, w->base, w->base + w->len, c);
	}
	if (!rc)
		rc = rec_commit(m, &nw);
	if (rc)
		m->broken = 1;
	return rc;
}

int file_write_locked(struct hammer_mount *m, struct hammer_inode *ip,
		      uint64_t off, const uint8_t *src, size_t len,
		      size_t *done)
{
	int rc = 0;
	*done = 0;
	while (*done < len) {
		rc = eng_begin(m);
		if (rc)
			break;
		uint64_t pos = off + *done;
		uint64_t base = blk_base(pos);
		uint64_t bsz = blk_size(pos);
		size_t n = (size_t)(base + bsz - pos);
		if (n > len - *done)
			n = len - *done;
		uint64_t newsize = ip->d.size > pos + n ? ip->d.size : pos + n;
		struct blk_new w = { base, rec_len(base, newsize), 0,
				     (size_t)(pos - base), n, src + *done };
		/* old contents of the block, up to the old EOF */
		if (!(pos == base && n >= w.len) && base < ip->d.size) {
			uint64_t keep = ip->d.size - base;
			w.keep = keep < w.len ? (size_t)keep : w.len;
		}
		rc = store_block(m, ip, &w);
		if (rc)
			break;
		ip->d.size = newsize;
		*done += n;
		unsigned how = INO_DIRTY;
		if (ip->redo_on &&
		    eng_redo(m, ip, HAMMER_REDO_WRITE, pos, src + *done - n, n))
			how |= INO_REDONE;
		ino_dirty(m, ip, how);
	}
	return rc;
}

ssize_t hammer_write(struct hammer_mount *m, hammer_ino_t ino, uint64_t off,
		     const void *buf, size_t len)
{
	struct eng_view v;
	pthread_mutex_lock(&m->lock);
	ssize_t rc = eng_view(m, ino, &v);
	if (rc)
		goto out;
	if (!v.ip) {
		rc = -EROFS;
		goto out;
	}
	if (v.d.obj_type == HAMMER_OBJTYPE_DIRECTORY) {
		rc = -EISDIR;
		goto out;
	}
	if (v.d.obj_type != HAMMER_OBJTYPE_REGFILE) {
		rc = -EINVAL;
		goto out;
	}
	if (off > HAMMER_FILE_MAX || len > HAMMER_FILE_MAX - off) {
		rc = -EFBIG;
		goto out;
	}
	if (len > (size_t)SSIZE_MAX)
		len = (size_t)SSIZE_MAX;
	if (len == 0) {
		rc = 0;
		goto out;
	}
	size_t done = 0;
	v.ip->opens++;		/* pinned: flushes inside the loop trim the cache */
	rc = file_write_locked(m, v.ip, off, buf, len, &done);
	v.ip->opens--;
	if (done) {
		uint64_t now = eng_now(m);
		v.ip->d.mtime = v.ip->d.ctime = now;
		/* times ride along: REDO replays the bytes, not the times */
		ino_dirty(m, v.ip, INO_DIRTY | INO_REDONE);
	}
	if (done)
		rc = (ssize_t)done;	/* a short write reports what landed */
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ---------------------------------------------------------- truncation */

int file_truncate(struct hammer_mount *m, struct hammer_inode *ip, uint64_t size)
{
	if (size >= ip->d.size) {
		ip->d.size = size;	/* holes need no records */
		return 0;
	}
	struct collect_ctx *c = malloc(sizeof(*c));
	uint8_t *blk = malloc(BLK_LARGE);
	int rc = (!c || !blk) ? -ENOMEM : 0;
	/* the block holding the new EOF keeps its head, zero tail */
	uint64_t base = blk_base(size);
	size_t rl = size ? rec_len(base, size) : 0;
	if (!rc && size > base) {
		memset(blk, 0, rl);
		rc = read_range(m, ip->obj_id, ip->pfs_loc, ASOF_LIVE, base, blk,
				(size_t)(size - base));
	}
	/* everything from the new EOF on goes */
	while (!rc) {
		rc = collect(m, ip, size, (uint64_t)INT64_MAX, c);
		if (rc || c->n == 0)
			break;
		for (int i = 0; i < c->n && !rc; i++)
			rc = rec_remove(m, &c->el[i], ino_nohist(ip));
	}
	if (!rc && size > base) {
		struct blk_new w = { base, rl, 0, 0, (size_t)(size - base), blk };
		rc = store_block(m, ip, &w);
	}
	if (!rc)
		ip->d.size = size;
	free(c);
	free(blk);
	return rc;
}

struct all_ctx {
	struct hammer_btree_leaf_elm el[COLLECT_MAX];
	int n;
};

static int all_visit(void *vctx, const struct hammer_btree_leaf_elm *el)
{
	struct all_ctx *a = vctx;
	a->el[a->n++] = *el;
	return a->n == COLLECT_MAX;
}

/* Remove every live record of the object in MISC space (data, FIX, ...). */
int file_remove_all(struct hammer_mount *m, struct hammer_inode *ip)
{
	struct all_ctx *a = malloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	int rc = 0;
	for (;;) {
		a->n = 0;
		rc = rec_scan(m, ip->pfs_loc | HAMMER_LOCALIZE_MISC, ip->obj_id, 0,
			      0xFFFF, INT64_MIN, INT64_MAX, ASOF_LIVE, all_visit, a);
		if (rc || a->n == 0)
			break;
		for (int i = 0; i < a->n && !rc; i++)
			rc = rec_remove(m, &a->el[i], ino_nohist(ip));
		if (rc)
			break;
	}
	free(a);
	return rc;
}
