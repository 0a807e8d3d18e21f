/*
 * mirror.c - mirroring: the scan that turns one PFS's B-tree into stream
 * records (mirror-read) and the code that applies them to a slave
 * (mirror-write).  The API and its rules are in hammer.h ("mirroring");
 * the stream encoding is ref/mstream.c.
 *
 * The scan.  A walk from the root over the PFS's key range.  Every
 * internal element carries the highest TID of any change below it
 * (mirror_tid, kept by btree.c); an element below tid_beg means nothing
 * under it changed since the slave's last sync, so the walk does not
 * enter it and sends a SKIP of its key range instead (consecutive ones
 * merged).  Leaves are sent element by element.  One call fills one
 * buffer under the mount lock and leaves a position (key_cur, at_key) for
 * the next; every call walks down from the root again, which costs a few
 * node visits per level and makes the scan immune to whatever changed in
 * the tree between calls (only records above tid_end can have appeared,
 * and those the scan ignores).
 *
 * The apply side keeps a tracking position on the slave: everything of
 * the slave between the previous stream record and the next one is what
 * the source no longer has, so it is marked deleted at tid_end.  A cursor
 * cannot stay open across a change to the tree, so the deletion scan
 * collects a batch of keys, closes the cursor, then marks them.
 */
#include "engine.h"
#include "mstream.h"
#include "ondisk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIRROR_DEL_BATCH	256

static uint32_t pfs_loc(uint32_t id)
{
	return id << 16;
}

/* The PFS's whole key range: [beg, end] (end inclusive). */
static void range_beg(uint32_t id, struct hammer_base_elm *k)
{
	memset(k, 0, sizeof(*k));
	k->localization = pfs_loc(id);
	k->obj_id = HAMMER_MIN_OBJID;
	k->rec_type = HAMMER_MIN_RECTYPE;
	k->key = HAMMER_MIN_KEY;
	k->create_tid = 1;
}

static void range_end(uint32_t id, struct hammer_base_elm *k)
{
	memset(k, 0, sizeof(*k));
	k->localization = pfs_loc(id) | HAMMER_LOCALIZE_MASK;
	k->obj_id = HAMMER_MAX_OBJID;
	k->rec_type = HAMMER_MAX_RECTYPE;
	k->key = HAMMER_MAX_KEY;
	k->create_tid = HAMMER_MAX_TID;
}

/* Only the key part of an element (what SKIP carries and cmp looks at). */
static struct hammer_base_elm key_of(const struct hammer_base_elm *e)
{
	struct hammer_base_elm k = *e;
	k.delete_tid = 0;
	k.obj_type = 0;
	k.btype = 0;
	return k;
}

/* ---------------------------------------------------------- reading */

void hammer_mirror_scan_init(struct hammer_mirror_scan *s, uint32_t pfs_id,
			     hammer_tid_t tid_beg, hammer_tid_t tid_end,
			     unsigned flags)
{
	memset(s, 0, sizeof(*s));
	s->pfs_id = pfs_id;
	s->tid_beg = tid_beg;
	s->tid_end = tid_end;
	s->flags = flags;
	range_beg(pfs_id, &s->key_cur);
	s->at_key = 1;
}

struct scan {
	struct hammer_mount *m;
	struct hammer_mirror_scan *s;
	struct hammer_err *err;
	uint8_t *buf;
	size_t size, len;
	struct hammer_base_elm end;	/* inclusive */
	/* a SKIP not yet written: [beg, end) */
	int skip_on;
	struct hammer_base_elm skip_beg, skip_end;
	int full;
	uint8_t *data;			/* HAMMER_XBUFSIZE scratch */
};

/* Is e at or past the resume position? */
static int after_start(const struct scan *x, const struct hammer_base_elm *e)
{
	int c = hammer_btree_cmp(e, &x->s->key_cur);
	return c > 0 || (c == 0 && x->s->at_key);
}

static int put_skip(struct scan *x)
{
	if (!x->skip_on)
		return 0;
	size_t n = hammer_mrec_put_skip(x->buf + x->len, x->size - x->len,
					&x->skip_beg, &x->skip_end);
	if (!n) {
		/* no room: the next call finds the same subtrees again */
		x->s->key_cur = x->skip_beg;
		x->s->at_key = 1;
		x->skip_on = 0;
		x->full = 1;
		return 1;
	}
	x->len += n;
	x->s->skips++;
	x->s->bytes += n;
	x->s->key_cur = x->skip_end;
	x->s->at_key = 1;		/* the record at skip_end is not skipped */
	x->skip_on = 0;
	return 0;
}

static int add_skip(struct scan *x, const struct hammer_base_elm *beg,
		    const struct hammer_base_elm *end)
{
	if (hammer_btree_cmp(beg, end) >= 0)
		return 0;
	if (x->skip_on && hammer_btree_cmp(&x->skip_end, beg) == 0) {
		x->skip_end = *end;
		return 0;
	}
	if (put_skip(x))
		return 1;
	x->skip_on = 1;
	x->skip_beg = *beg;
	x->skip_end = *end;
	return 0;
}

/* Read a leaf's data raw (CRC checked by the caller): 0, or -errno. */
static int read_data(struct scan *x, const struct hammer_btree_leaf_elm *el)
{
	struct hammer_mount *m = x->m;
	struct hammer_buffer *b;
	void *p;
	struct hammer_err e = { 0 };
	int rc = hammer_buffer_get(m->bc, el->data_offset, (size_t)el->data_len,
				   0, &b, &p, &e);
	if (rc) {
		if (e.code && x->err)
			*x->err = e;
		return eng_err(m, rc, &e);
	}
	memcpy(x->data, p, (size_t)el->data_len);
	hammer_buffer_put(m->bc, b);
	return 0;
}

static int emit_leaf(struct scan *x, const struct hammer_btree_leaf_elm *el)
{
	struct hammer_mirror_scan *s = x->s;
	if (el->base.create_tid > s->tid_end)
		return 0;			/* after the batch: not sent */
	if (x->skip_on && put_skip(x))
		return 1;
	size_t n;
	if (el->base.create_tid < s->tid_beg) {
		n = hammer_mrec_put_rec(x->buf + x->len, x->size - x->len,
					HAMMER_MREC_TYPE_PASS, el, NULL, 0);
		if (!n)
			goto full;
		s->passes++;
	} else {
		struct hammer_btree_leaf_elm l = *el;
		uint32_t type = HAMMER_MREC_TYPE_REC;
		size_t dlen = 0;
		if (l.base.delete_tid > s->tid_end)
			l.base.delete_tid = 0;
		if (l.data_len < 0 || l.data_len > HAMMER_XBUFSIZE ||
		    (l.data_len > 0 && l.data_offset == 0))
			return HAMMER_CORRUPT(x->err, l.data_offset,
					      "record of object %016llx type %04x "
					      "key %016llx: data_len %d",
					      (unsigned long long)l.base.obj_id,
					      l.base.rec_type,
					      (unsigned long long)l.base.key,
					      l.data_len);
		if (l.data_len > 0 && (s->flags & HAMMER_MIRROR_NODATA)) {
			type |= HAMMER_MRECF_NODATA;
		} else if (l.data_len > 0) {
			/* room first: no point reading what cannot go out */
			if (x->size - x->len < HAMMER_MREC_DOALIGN(
				    HAMMER_MREC_REC_SIZE + (uint32_t)l.data_len))
				goto full;
			int rc = read_data(x, &l);
			if (rc)
				return rc;
			dlen = (size_t)l.data_len;
			struct hammer_mrec r = { .type = type };
			r.u.leaf = l;
			r.data = x->data;
			r.data_len = (uint32_t)dlen;
			if (!hammer_mrec_data_crc_ok(x->m->version, &r))
				type |= HAMMER_MRECF_CRC_ERROR |
					HAMMER_MRECF_DATA_CRC_BAD;
		}
		n = hammer_mrec_put_rec(x->buf + x->len, x->size - x->len, type,
					&l, dlen ? x->data : NULL, dlen);
		if (!n)
			goto full;
		s->recs++;
		s->data_bytes += dlen;
	}
	x->len += n;
	s->bytes += n;
	s->key_cur = key_of(&el->base);
	s->at_key = 0;
	return 0;
full:
	s->key_cur = key_of(&el->base);
	s->at_key = 1;
	x->full = 1;
	return 1;
}

/*
 * Walk node `off` whose keys lie in [lo, hi).  Returns 0 to go on, 1 when
 * the buffer is full or the range ended, or -errno.
 */
static int walk(struct scan *x, hammer_off_t off, int depth)
{
	struct hammer_mount *m = x->m;
	if (depth >= HAMMER_BTREE_MAX_DEPTH)
		return HAMMER_CORRUPT(x->err, off,
				      "B-tree deeper than %d levels at node %016llx",
				      HAMMER_BTREE_MAX_DEPTH,
				      (unsigned long long)off);
	if (!hammer_btree_off_ok(off))
		return HAMMER_CORRUPT(x->err, off,
				      "B-tree element points at %016llx, not a node",
				      (unsigned long long)off);
	struct hammer_node *n;
	int why = 0;
	int rc = m->io.ops->get(m->io.ctx, off, &n, &why, x->err);
	if (rc)
		return eng_err(m, rc, x->err);
	const struct hammer_node_ondisk *d = n->ondisk;
	int ret = 0;
	if (d->type == HAMMER_BTREE_TYPE_INTERNAL) {
		for (int i = 0; i < d->count && !ret; i++) {
			const struct hammer_btree_internal_elm *ie =
				&d->elms[i].internal;
			const struct hammer_base_elm *cl = &ie->base;
			const struct hammer_base_elm *cr = &d->elms[i + 1].base;
			/* entirely before the resume position? */
			if (hammer_btree_cmp(cr, &x->s->key_cur) <= 0)
				continue;
			if (hammer_btree_cmp(cl, &x->end) > 0) {
				ret = 1;
				break;
			}
			if (ie->mirror_tid < x->s->tid_beg) {
				struct hammer_base_elm b = key_of(cl), e = key_of(cr);
				if (hammer_btree_cmp(&b, &x->s->key_cur) < 0)
					b = x->s->key_cur;
				if (hammer_btree_cmp(&e, &x->end) > 0)
					e = x->end;
				if (add_skip(x, &b, &e))
					ret = 1;
				continue;
			}
			ret = walk(x, ie->subtree_offset, depth + 1);
		}
	} else if (d->type == HAMMER_BTREE_TYPE_LEAF) {
		for (int i = 0; i < d->count && !ret; i++) {
			const struct hammer_btree_leaf_elm *el = &d->elms[i].leaf;
			if (!after_start(x, &el->base))
				continue;
			if (hammer_btree_cmp(&el->base, &x->end) > 0) {
				ret = 1;
				break;
			}
			ret = emit_leaf(x, el);
		}
	} else {
		ret = HAMMER_CORRUPT(x->err, off, "node %016llx has type %02x",
				     (unsigned long long)off, d->type);
	}
	m->io.ops->put(m->io.ctx, n);
	return ret;
}

int hammer_mirror_read(struct hammer_mount *m, struct hammer_mirror_scan *s,
		       void *buf, size_t size, size_t *len,
		       struct hammer_err *err)
{
	struct hammer_err e0 = { 0 };
	if (!err)
		err = &e0;
	*len = 0;
	if (s->pfs_id > HAMMER_PFS_MAX_ID || s->tid_beg > s->tid_end ||
	    size < HAMMER_MREC_MAX)
		return -EINVAL;
	if (s->done)
		return 0;
	struct scan x = { .m = m, .s = s, .err = err, .buf = buf, .size = size };
	x.data = malloc(HAMMER_XBUFSIZE);
	if (!x.data)
		return -ENOMEM;
	range_end(s->pfs_id, &x.end);
	pthread_mutex_lock(&m->lock);
	int rc;
	struct hammer_pseudofs_data pd;
	if (s->pfs_id == 0) {
		rc = 0;
	} else {
		rc = pfs_rec_get(m, s->pfs_id, &pd);
		if (!rc && (pd.mirror_flags & HAMMER_PFSD_DELETED))
			rc = -ENOENT;
	}
	if (!rc) {
		rc = walk(&x, m->tree.root, 0);
		if (rc >= 0 && !x.full) {
			/* the range is done: the last SKIP, if any */
			if (!put_skip(&x)) {
				s->done = 1;
				range_end(s->pfs_id, &s->key_cur);
				s->at_key = 0;
			}
		}
		if (rc > 0)
			rc = 0;
	}
	pthread_mutex_unlock(&m->lock);
	free(x.data);
	*len = x.len;
	return rc;
}

/* ---------------------------------------------------------- writing */

static int apply_writable(struct hammer_mount *m)
{
	if (m->readonly || m->o.asof)
		return -EROFS;
	if (m->broken)
		return -EIO;
	return 0;
}

/* Records a mirror never changes on the target. */
static int nomirror(const struct hammer_base_elm *b)
{
	return b->rec_type == HAMMER_RECTYPE_CONFIG ||
	       b->rec_type == HAMMER_RECTYPE_PFS;
}

/* The slave's live INODE count follows the records we add and delete. */
static void count_inode(struct hammer_mount *m, const struct hammer_base_elm *b,
			int delta)
{
	if (b->rec_type != HAMMER_RECTYPE_INODE)
		return;
	struct hammer_volume_ondisk *h = hammer_volset_root(m->vs);
	if (delta > 0)
		h->vol0_stat_inodes++;
	else if (h->vol0_stat_inodes > 0)
		h->vol0_stat_inodes--;
}

static int mark(struct hammer_mount *m, const struct hammer_base_elm *k,
		hammer_tid_t tid, uint32_t ts, struct hammer_err *err)
{
	int rc = eng_begin(m);
	if (rc)
		return rc;
	rc = hammer_btree_mark_deleted(&m->tree, k, tid, ts, err);
	if (!rc)
		count_inode(m, k, -1);
	return eng_err(m, rc, err);
}

/*
 * Mark deleted, at tid_end, the live records created before tid_end from
 * the tracking position up to `to` (exclusive; NULL: to the end of the
 * PFS).
 */
static int delete_to(struct hammer_mount *m, struct hammer_mirror_apply *w,
		     const struct hammer_base_elm *to, struct hammer_err *err)
{
	struct hammer_base_elm *keys = malloc(MIRROR_DEL_BATCH * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	struct hammer_base_elm from = w->key_cur;
	int skip_first = w->atedisk;
	uint32_t ts = (uint32_t)(eng_now(m) / 1000000u);
	int rc = 0;
	for (;;) {
		struct hammer_cursor c;
		hammer_cursor_init(&c, &m->tree, err);
		c.key_beg = from;
		if (to) {
			c.key_end = *to;
			c.flags = 0;
		} else {
			range_end(w->pfs_id, &c.key_end);
			c.flags = HAMMER_CURSOR_END_INCLUSIVE;
		}
		int n = 0, more = 0;
		rc = hammer_btree_first(&c);
		while (rc == 0) {
			const struct hammer_btree_leaf_elm *el = hammer_cursor_leaf(&c);
			if (skip_first && hammer_btree_cmp(&el->base, &from) == 0) {
				rc = hammer_btree_next(&c);
				continue;
			}
			if (!nomirror(&el->base) && el->base.delete_tid == 0 &&
			    el->base.create_tid < w->tid_end) {
				if (n == MIRROR_DEL_BATCH) {
					more = 1;
					break;
				}
				keys[n++] = el->base;
			}
			rc = hammer_btree_next(&c);
		}
		hammer_cursor_done(&c);
		if (rc == -ENOENT)
			rc = 0;
		if (rc) {
			rc = eng_err(m, rc, err);
			break;
		}
		for (int i = 0; i < n && !rc; i++) {
			rc = mark(m, &keys[i], w->tid_end, ts, err);
			if (!rc)
				w->deleted++;
		}
		if (rc || !more)
			break;
		from = keys[n - 1];
		skip_first = 1;
	}
	free(keys);
	return rc;
}

int hammer_mirror_write_begin(struct hammer_mount *m, uint32_t pfs_id,
			      const struct hammer_pseudofs_data *src,
			      struct hammer_mirror_apply *w,
			      struct hammer_err *err)
{
	struct hammer_err e0 = { 0 };
	if (!err)
		err = &e0;
	memset(w, 0, sizeof(*w));
	if (pfs_id == 0 || pfs_id > HAMMER_PFS_MAX_ID) {
		HAMMER_ERR(err, -EINVAL, ~0ULL,
			       "mirror-write: PFS #%u cannot be a slave", pfs_id);
		return -EINVAL;
	}
	pthread_mutex_lock(&m->lock);
	struct hammer_pseudofs_data pd;
	int rc = apply_writable(m);
	if (!rc)
		rc = pfs_rec_get(m, pfs_id, &pd);
	if (rc == -ENOENT || (!rc && (pd.mirror_flags & HAMMER_PFSD_DELETED))) {
		HAMMER_ERR(err, -ENOENT, ~0ULL,
			       "mirror-write: PFS #%u does not exist", pfs_id);
		rc = -ENOENT;
	} else if (!rc && !(pd.mirror_flags & HAMMER_PFSD_SLAVE)) {
		HAMMER_ERR(err, -EINVAL, ~0ULL,
			       "mirror-write: target must be in slave mode "
			       "(PFS #%u is a master)", pfs_id);
		rc = -EINVAL;
	} else if (!rc && memcmp(&pd.shared_uuid, &src->shared_uuid,
				 sizeof(pd.shared_uuid)) != 0) {
		HAMMER_ERR(err, -EINVAL, ~0ULL,
			       "mirror-write: source and target have different "
			       "shared-uuid's! (PFS #%u)", pfs_id);
		rc = -EINVAL;
	} else if (!rc && (src->sync_beg_tid > src->sync_end_tid ||
			   src->sync_end_tid == 0)) {
		HAMMER_ERR(err, -EINVAL, ~0ULL,
			       "mirror-write: the batch's TID range %016llx..%016llx "
			       "is empty or reversed",
			       (unsigned long long)src->sync_beg_tid,
			       (unsigned long long)src->sync_end_tid);
		rc = -EINVAL;
	} else if (!rc && src->sync_beg_tid > pd.sync_end_tid + 1) {
		HAMMER_ERR(err, -ERANGE, ~0ULL,
			       "mirror-write: the batch starts at TID %016llx but "
			       "the slave (PFS #%u) is at %016llx: the records in "
			       "between would be missing",
			       (unsigned long long)src->sync_beg_tid, pfs_id,
			       (unsigned long long)pd.sync_end_tid);
		rc = -ERANGE;
	} else if (!rc && src->sync_end_tid < pd.sync_end_tid) {
		HAMMER_ERR(err, -ERANGE, ~0ULL,
			       "mirror-write: the batch ends at TID %016llx, before "
			       "the slave's sync_end_tid %016llx (an old stream)",
			       (unsigned long long)src->sync_end_tid,
			       (unsigned long long)pd.sync_end_tid);
		rc = -ERANGE;
	}
	if (!rc) {
		w->pfs_id = pfs_id;
		w->tid_beg = src->sync_beg_tid;
		w->tid_end = src->sync_end_tid;
		range_beg(pfs_id, &w->key_cur);
		w->atedisk = 0;
		w->started = 1;
		/* every TID the slave will hold stays below the allocator */
		if (m->next_tid <= w->tid_end)
			m->next_tid = w->tid_end + 1;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* Checks of a REC/PASS element that do not depend on the slave. */
static int check_leaf(const struct hammer_mirror_apply *w,
		      const struct hammer_btree_leaf_elm *l, int is_rec,
		      char *why, size_t whysize)
{
	const struct hammer_base_elm *b = &l->base;
	uint32_t lt = b->localization & HAMMER_LOCALIZE_MASK;
	if (lt != HAMMER_LOCALIZE_INODE && lt != HAMMER_LOCALIZE_MISC) {
		snprintf(why, whysize, "localization %08x is neither INODE nor MISC",
			 b->localization);
		return -EINVAL;
	}
	/*
	 * INODE space: inodes, snapshots, config, directory entries (of
	 * DIR_LOCAL_INO directories); MISC space: data, directory entries of
	 * old directories, PFS records.
	 */
	int ok;
	switch (b->rec_type) {
	case HAMMER_RECTYPE_INODE:
	case HAMMER_RECTYPE_SNAPSHOT:
	case HAMMER_RECTYPE_CONFIG:
		ok = lt == HAMMER_LOCALIZE_INODE;
		break;
	case HAMMER_RECTYPE_DIRENTRY:
		ok = 1;
		break;
	default:
		ok = lt == HAMMER_LOCALIZE_MISC;
		break;
	}
	if (!ok) {
		snprintf(why, whysize, "record type %04x in localization %08x",
			 b->rec_type, b->localization);
		return -EINVAL;
	}
	if (b->create_tid == 0 || b->create_tid > w->tid_end) {
		snprintf(why, whysize,
			 "create_tid %016llx outside the batch (up to %016llx)",
			 (unsigned long long)b->create_tid,
			 (unsigned long long)w->tid_end);
		return -EINVAL;
	}
	if (b->delete_tid && b->delete_tid <= b->create_tid) {
		snprintf(why, whysize, "delete_tid %016llx not after create_tid %016llx",
			 (unsigned long long)b->delete_tid,
			 (unsigned long long)b->create_tid);
		return -EINVAL;
	}
	if (is_rec && (l->data_len < 0 || l->data_len > HAMMER_XBUFSIZE)) {
		snprintf(why, whysize, "data_len %d", l->data_len);
		return -EINVAL;
	}
	if (is_rec && b->rec_type == HAMMER_RECTYPE_INODE &&
	    l->data_len != (int32_t)sizeof(struct hammer_inode_data)) {
		snprintf(why, whysize, "inode record with data_len %d", l->data_len);
		return -EINVAL;
	}
	if (is_rec && b->rec_type == HAMMER_RECTYPE_DIRENTRY &&
	    (l->data_len <= HAMMER_DIRENTRY_HDRSIZE ||
	     l->data_len > HAMMER_DIRENTRY_HDRSIZE + HAMMER_MAX_NAMELEN)) {
		snprintf(why, whysize, "directory entry with data_len %d",
			 l->data_len);
		return -EINVAL;
	}
	return 0;
}

/* Insert a record of the source with its own TIDs and a copy of its data. */
static int insert(struct hammer_mount *m, struct hammer_mirror_apply *w,
		  struct hammer_btree_leaf_elm *l, const uint8_t *data,
		  struct hammer_err *err)
{
	int rc = eng_begin(m);
	if (rc)
		return rc;
	l->base.btype = HAMMER_BTREE_TYPE_RECORD;
	size_t len = (size_t)l->data_len;
	l->data_offset = 0;
	if (len) {
		uint8_t tmp[HAMMER_DIRENTRY_HDRSIZE + HAMMER_MAX_NAMELEN];
		const uint8_t *src = data;
		if (l->base.rec_type == HAMMER_RECTYPE_DIRENTRY) {
			/* the entry names an object of the slave's PFS */
			memcpy(tmp, data, len);
			struct hammer_direntry_data de;
			memcpy(&de, tmp, sizeof(de));
			de.localization = htole32(pfs_loc(w->pfs_id));
			memcpy(tmp, &de, sizeof(de));
			src = tmp;
		}
		rc = hammer_blockmap_alloc(m->bm,
					   rec_data_zone(l->base.rec_type, len),
					   (int)len, &l->data_offset, err);
		if (rc)
			return eng_err(m, rc, err);
		rc = rec_data_write(m, l->data_offset, src, len);
		if (rc) {
			struct hammer_err e2 = { 0 };
			hammer_blockmap_free(m->bm, l->data_offset, (int)len, &e2);
			return rc;
		}
		/* the slave's own CRC algorithm (its version may differ) */
		rec_seal(m, l, src);
	}
	/* the allocator stays above every TID and object id the tree holds */
	hammer_tid_t top = l->base.create_tid > l->base.delete_tid
			   ? l->base.create_tid : l->base.delete_tid;
	if (l->base.obj_id > 0 && (hammer_tid_t)l->base.obj_id > top)
		top = (hammer_tid_t)l->base.obj_id;
	if (m->next_tid <= top)
		m->next_tid = top + 1;
	rc = rec_commit(m, l);
	if (!rc) {
		if (l->base.delete_tid == 0)
			count_inode(m, &l->base, +1);
		w->inserted++;
		w->data_bytes += len;
	}
	return rc;
}

int hammer_mirror_write_rec(struct hammer_mount *m,
			    struct hammer_mirror_apply *w,
			    const struct hammer_mrec *r,
			    struct hammer_err *err)
{
	struct hammer_err e0 = { 0 };
	if (!err)
		err = &e0;
	if (!w->started)
		return -EINVAL;
	uint32_t type = hammer_mrec_base_type(r->type);
	char why[200] = "";
	int rc = 0;
	pthread_mutex_lock(&m->lock);
	rc = apply_writable(m);
	if (rc)
		goto out;
	if (type == HAMMER_MREC_TYPE_SKIP) {
		struct hammer_base_elm b = key_of(&r->u.skip.beg);
		struct hammer_base_elm e = key_of(&r->u.skip.end);
		b.localization = (b.localization & HAMMER_LOCALIZE_MASK) |
				 pfs_loc(w->pfs_id);
		e.localization = (e.localization & HAMMER_LOCALIZE_MASK) |
				 pfs_loc(w->pfs_id);
		int c = hammer_btree_cmp(&b, &w->key_cur);
		if (c < 0 || (c == 0 && w->atedisk) ||
		    hammer_btree_cmp(&e, &b) <= 0) {
			snprintf(why, sizeof(why),
				 "SKIP out of order (obj %016llx..%016llx)",
				 (unsigned long long)b.obj_id,
				 (unsigned long long)e.obj_id);
			rc = -EINVAL;
			goto out;
		}
		rc = delete_to(m, w, &b, err);
		if (!rc) {
			w->key_cur = e;
			w->atedisk = 0;
			w->skips++;
		}
		goto out;
	}
	if (type != HAMMER_MREC_TYPE_REC && type != HAMMER_MREC_TYPE_PASS) {
		snprintf(why, sizeof(why), "a %s record among the B-tree records",
			 hammer_mrec_type_name(r->type));
		rc = -EINVAL;
		goto out;
	}
	struct hammer_btree_leaf_elm l = r->u.leaf;
	l.base.localization = (l.base.localization & HAMMER_LOCALIZE_MASK) |
			      pfs_loc(w->pfs_id);
	int is_rec = type == HAMMER_MREC_TYPE_REC &&
		     !(r->type & (HAMMER_MRECF_NODATA | HAMMER_MRECF_CRC_ERROR));
	rc = check_leaf(w, &l, is_rec, why, sizeof(why));
	if (rc)
		goto out;
	struct hammer_base_elm k = key_of(&l.base);
	int c = hammer_btree_cmp(&k, &w->key_cur);
	if (c < 0 || (c == 0 && w->atedisk)) {
		snprintf(why, sizeof(why), "record out of order");
		rc = -EINVAL;
		goto out;
	}
	rc = delete_to(m, w, &k, err);
	if (rc)
		goto out;
	w->key_cur = k;
	w->atedisk = 1;
	if (nomirror(&l.base) ||
	    (type == HAMMER_MREC_TYPE_REC && !is_rec)) {
		/* never mirrored, or sent without usable data: DragonFly ignores */
		w->ignored++;
		goto out;
	}
	/* a deletion after the batch is not part of it */
	if (l.base.delete_tid > w->tid_end)
		l.base.delete_tid = 0;
	if (is_rec && l.data_len > 0) {
		if ((uint32_t)l.data_len != r->data_len || !r->data) {
			snprintf(why, sizeof(why), "data_len %d but %u bytes of data",
				 l.data_len, r->data_len);
			rc = -EINVAL;
			goto out;
		}
		struct hammer_mrec rr = *r;
		if (!hammer_mrec_data_crc_ok(7, &rr)) {
			snprintf(why, sizeof(why), "data crc mismatch on pipe");
			rc = -EINVAL;
			goto out;
		}
	}
	struct hammer_cursor cur;
	hammer_cursor_init(&cur, &m->tree, err);
	rc = hammer_btree_lookup(&cur, &k);
	struct hammer_btree_leaf_elm have = { 0 };
	if (!rc)
		have = *hammer_cursor_leaf(&cur);
	hammer_cursor_done(&cur);
	if (rc == 0) {
		if (type == HAMMER_MREC_TYPE_PASS)
			w->passes++;
		if (l.base.delete_tid && have.base.delete_tid != l.base.delete_tid) {
			rc = eng_begin(m);
			if (!rc)
				rc = eng_err(m, hammer_btree_mark_deleted(
						     &m->tree, &k, l.base.delete_tid,
						     l.delete_ts, err), err);
			if (!rc) {
				if (have.base.delete_tid == 0)
					count_inode(m, &k, -1);
				w->updated++;
			}
		}
	} else if (rc == -ENOENT) {
		rc = 0;
		if (type == HAMMER_MREC_TYPE_PASS)
			w->passes++;
		else if (l.base.create_tid >= w->tid_beg)
			rc = insert(m, w, &l, r->data, err);
		else
			w->ignored++;
	} else {
		rc = eng_err(m, rc, err);
	}
out:
	if (rc && why[0] && !err->code) {
		HAMMER_ERR(err, rc, ~0ULL, "mirror-write: %s: %s obj %016llx "
			       "rt %04x key %016llx", why,
			       hammer_mrec_type_name(r->type),
			       (unsigned long long)r->u.leaf.base.obj_id,
			       r->u.leaf.base.rec_type,
			       (unsigned long long)r->u.leaf.base.key);
	}
	if (rc == -EIO || rc == -EUCLEAN)
		m->broken = 1;	/* the tree may be half changed: no more writes */
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_mirror_write_sync(struct hammer_mount *m,
			     struct hammer_mirror_apply *w,
			     struct hammer_err *err)
{
	struct hammer_err e0 = { 0 };
	if (!err)
		err = &e0;
	if (!w->started)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	int rc = apply_writable(m);
	if (!rc)
		rc = delete_to(m, w, NULL, err);
	struct hammer_pseudofs_data pd;
	if (!rc)
		rc = pfs_rec_get(m, w->pfs_id, &pd);
	if (!rc && (!(pd.mirror_flags & HAMMER_PFSD_SLAVE) ||
		    (pd.mirror_flags & HAMMER_PFSD_DELETED))) {
		HAMMER_ERR(err, -EINVAL, ~0ULL,
			       "mirror-write: PFS #%u stopped being a slave "
			       "during the batch", w->pfs_id);
		rc = -EINVAL;
	}
	if (!rc && pd.sync_end_tid != w->tid_end) {
		pd.sync_end_tid = w->tid_end;
		pd.sync_end_ts = eng_now(m);
		rc = eng_begin(m);
		if (!rc)
			rc = pfs_rec_put(m, w->pfs_id, &pd);
	}
	if (!rc)
		rc = eng_sync_locked(m);
	if (!rc)
		w->started = 0;
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_wait_flush(struct hammer_mount *m, hammer_tid_t tid,
		      unsigned timeout_ms, hammer_tid_t *durable)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)timeout_ms * 1000000u;
	ts.tv_sec += (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	pthread_mutex_lock(&m->lock);
	int rc = 0;
	while (m->flush_tid <= tid && timeout_ms) {
		if (pthread_cond_timedwait(&m->flush_cv, &m->lock, &ts) != 0)
			break;
	}
	if (m->flush_tid > tid)
		rc = 1;
	if (durable)
		*durable = m->flush_tid;
	pthread_mutex_unlock(&m->lock);
	return rc;
}
