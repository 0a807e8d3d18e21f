/*
 * snapshot.c - meta-data snapshots, the cleanup configuration record and
 * per-object history (format digest sections 4.6 and 9).
 *
 * A PFS keeps its snapshot list and its `hammer cleanup` configuration as
 * records of its root object (obj_id 1) in its INODE localization:
 * SNAPSHOT records keyed by the snapshot's TID (the key is signed, so the
 * B-tree order is signed; callers get unsigned order), one CONFIG record
 * at key 0.  Both are written into the open flush cycle like any other
 * change: a crash shows a call whole or not at all.  Removing a snapshot
 * and replacing the configuration destroy the old record physically (it
 * keeps no history), as DragonFly's kernel does; the removal still raises
 * mirror_tid along its path (rec_remove nohist 1).
 *
 * History lists the create and delete TIDs of an object's records (its
 * INODE records, or the DATA records over a byte range), every version,
 * not only the visible ones: what `hammer history` and undo(1) show.
 * Only durable TIDs are reported (those of the open cycle are not on disk
 * yet); their presence, or a dirty inode, marks the answer unsynced.
 */
#include "engine.h"
#include "planted.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_LOC(id)	(((uint32_t)(id) << 16) | HAMMER_LOCALIZE_INODE)

/* The PFS must exist; writers also need a writable master. */
static int pfs_check(struct hammer_mount *m, uint32_t id, int write)
{
	if (id > HAMMER_PFS_MAX_ID)
		return -EINVAL;
	if (m->version < 3)
		return -EOPNOTSUPP;
	uint8_t st = id ? m->pfs_state[id] : PFS_LIVE;
	if (!(st & PFS_LIVE))
		return -ENOENT;
	if (!write)
		return 0;
	if (m->readonly || m->o.asof || (st & PFS_SLAVE))
		return -EROFS;
	if (m->broken)
		return -EIO;
	return 0;
}

/* What a reader of PFS id sees: live, or a slave as of sync_end_tid. */
static int pfs_asof(struct hammer_mount *m, uint32_t id, hammer_tid_t *asof)
{
	*asof = m->o.asof ? m->o.asof : ASOF_LIVE;
	if (!id || !(m->pfs_state[id] & PFS_SLAVE))
		return 0;
	struct hammer_pseudofs_data pd;
	int rc = pfs_rec_get(m, id, &pd);
	if (rc)
		return rc;
	if (pd.sync_end_tid < *asof)
		*asof = pd.sync_end_tid;
	return 0;
}

/* ---------------------------------------------------------- snapshots */

static int snap_decode(struct hammer_mount *m, const struct hammer_btree_leaf_elm *el,
		       struct hammer_snapshot *s)
{
	struct hammer_snapshot_data d;
	if (el->data_len != (int32_t)sizeof(d))
		return HAMMER_CORRUPT(&m->err, el->data_offset,
				      "snapshot record 0x%016llx of localization "
				      "%08x: data_len %d, not %zu",
				      (unsigned long long)el->base.key,
				      el->base.localization, el->data_len,
				      sizeof(d));
	int rc = rec_read(m, el, &d, sizeof(d));
	if (rc)
		return rc;
	memset(s, 0, sizeof(*s));
	/*
	 * The key is what names the snapshot (DragonFly's GET answers the key
	 * when an old conversion left the two apart, so it can be deleted).
	 */
	s->tid = (hammer_tid_t)el->base.key;
	s->ts = le64toh(d.ts);
	memcpy(s->label, d.label, sizeof(s->label) - 1);
	s->label[sizeof(s->label) - 1] = '\0';
	return 0;
}

int hammer_snapshot_add(struct hammer_mount *m, uint32_t pfs_id,
			const struct hammer_snapshot *s)
{
	if (!memchr(s->label, '\0', sizeof(s->label)))
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	int rc = pfs_check(m, pfs_id, 1);
	if (rc)
		goto out;
	if (s->tid == 0 || s->tid > m->flush_tid || s->tid >= HAMMER_MAX_TID) {
		rc = -EINVAL;
		goto out;
	}
	rc = rec_lookup(m, SNAP_LOC(pfs_id), 1,
			HAMMER_RECTYPE_SNAPSHOT, (int64_t)s->tid, ASOF_LIVE, NULL);
	if (rc == 0)
		rc = -EEXIST;
	if (rc != -ENOENT)
		goto out;
	struct hammer_snapshot_data d;
	memset(&d, 0, sizeof(d));
	d.tid = htole64(s->tid);
	d.ts = htole64(s->ts);
	memcpy(d.label, s->label, strlen(s->label));
	rc = eng_begin(m);
	if (!rc)
		rc = rec_insert(m, SNAP_LOC(pfs_id), 1,
				HAMMER_RECTYPE_SNAPSHOT, (int64_t)s->tid, 0, &d,
				sizeof(d), NULL);
	if (rc && rc != -ENOSPC)
		m->broken = 1;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_snapshot_del(struct hammer_mount *m, uint32_t pfs_id,
			hammer_tid_t tid)
{
	pthread_mutex_lock(&m->lock);
	struct hammer_btree_leaf_elm el;
	int rc = pfs_check(m, pfs_id, 1);
	if (!rc)
		rc = rec_lookup(m, SNAP_LOC(pfs_id), 1,
				HAMMER_RECTYPE_SNAPSHOT, (int64_t)tid, ASOF_LIVE,
				&el);
	if (!rc)
		rc = eng_begin(m);
	if (!rc) {
		rc = rec_remove(m, &el, 1);
		if (rc)
			m->broken = 1;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

struct snap_list {
	struct hammer_mount *m;
	struct hammer_snapshot *v;
	size_t n, cap;
	int rc;
};

static int snap_visit(void *arg, const struct hammer_btree_leaf_elm *el)
{
	struct snap_list *l = arg;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct hammer_snapshot *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv) {
			l->rc = -ENOMEM;
			return 1;
		}
		l->v = nv;
		l->cap = ncap;
	}
	int rc = snap_decode(l->m, el, &l->v[l->n]);
	if (rc) {
		l->rc = rc;
		return 1;
	}
	l->n++;
	return 0;
}

static int snap_cmp(const void *a, const void *b)
{
	hammer_tid_t x = ((const struct hammer_snapshot *)a)->tid;
	hammer_tid_t y = ((const struct hammer_snapshot *)b)->tid;
	return x < y ? -1 : x > y;
}

int hammer_snapshot_list(struct hammer_mount *m, uint32_t pfs_id,
			 struct hammer_snapshot **out, size_t *n)
{
	struct snap_list l = { .m = m };
	hammer_tid_t asof;
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&m->lock);
	int rc = pfs_check(m, pfs_id, 0);
	if (!rc)
		rc = pfs_asof(m, pfs_id, &asof);
	if (!rc)
		rc = rec_scan(m, SNAP_LOC(pfs_id), 1,
			      HAMMER_RECTYPE_SNAPSHOT, HAMMER_RECTYPE_SNAPSHOT,
			      INT64_MIN, INT64_MAX, asof, snap_visit, &l);
	if (!rc)
		rc = l.rc;
	pthread_mutex_unlock(&m->lock);
	if (rc) {
		free(l.v);
		return rc;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), snap_cmp);
	*out = l.v;
	*n = l.n;
	return 0;
}

/* ---------------------------------------------------------- config */

static int config_read(struct hammer_mount *m, const struct hammer_btree_leaf_elm *el,
		       char *text)
{
	if (el->data_len != HAMMER_CONFIG_BYTES)
		return HAMMER_CORRUPT(&m->err, el->data_offset,
				      "config record of localization %08x: "
				      "data_len %d, not %d",
				      el->base.localization, el->data_len,
				      HAMMER_CONFIG_BYTES);
	int rc = rec_read(m, el, text, HAMMER_CONFIG_BYTES);
	if (rc)
		return rc;
	/* DragonFly's userland reads it as a string: never past the record */
	text[HAMMER_CONFIG_BYTES - 1] = '\0';
	return 0;
}

int hammer_config_get(struct hammer_mount *m, uint32_t pfs_id, char *text)
{
	struct hammer_btree_leaf_elm el;
	hammer_tid_t asof;
	text[0] = '\0';
	pthread_mutex_lock(&m->lock);
	int rc = pfs_check(m, pfs_id, 0);
	if (!rc)
		rc = pfs_asof(m, pfs_id, &asof);
	if (!rc)
		rc = rec_lookup(m, SNAP_LOC(pfs_id), 1,
				HAMMER_RECTYPE_CONFIG, 0, asof, &el);
	if (!rc)
		rc = config_read(m, &el, text);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_config_set(struct hammer_mount *m, uint32_t pfs_id,
		      const char *text)
{
	size_t len = strnlen(text, HAMMER_CONFIG_BYTES);
	if (len >= HAMMER_CONFIG_BYTES)
		return -EINVAL;
	struct hammer_config_data d;
	memset(&d, 0, sizeof(d));
	memcpy(d.text, text, len);
	struct hammer_btree_leaf_elm el;
	pthread_mutex_lock(&m->lock);
	int rc = pfs_check(m, pfs_id, 1);
	if (rc)
		goto out;
	rc = rec_lookup(m, SNAP_LOC(pfs_id), 1,
			HAMMER_RECTYPE_CONFIG, 0, ASOF_LIVE, &el);
	if (rc && rc != -ENOENT)
		goto out;
	int had = rc == 0;
	rc = eng_begin(m);
	if (!rc && had)
		rc = rec_remove(m, &el, 1);
	if (!rc && PLANTED(CONFIG_SPLIT))
		rc = eng_flush_locked(m, 1);	/* the remove alone reaches the disk */
	if (!rc && PLANTED(CONFIG_SPLIT))
		rc = eng_begin(m);
	if (!rc)
		rc = rec_insert(m, SNAP_LOC(pfs_id), 1,
				HAMMER_RECTYPE_CONFIG, 0, 0, &d, sizeof(d), NULL);
	if (rc && (rc != -ENOSPC || had))
		m->broken = 1;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ---------------------------------------------------------- history */

struct hist {
	struct hammer_mount *m;
	unsigned flags;
	uint64_t off, end;		/* ATKEY: byte range, end 0 = no end */
	struct hammer_history_ent *v;
	size_t n, cap;
	int unsynced;
	uint8_t obj_type;
	int found;
};

static int hist_add(struct hist *h, hammer_tid_t tid, uint32_t ts)
{
	if (tid > h->m->flush_tid) {	/* the open cycle: not on disk yet */
		h->unsynced = 1;
		return 0;
	}
	if (h->n && h->v[h->n - 1].tid == tid)
		return 0;
	if (h->n == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 64;
		struct hammer_history_ent *nv = realloc(h->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		h->v = nv;
		h->cap = ncap;
	}
	h->v[h->n].tid = tid;
	h->v[h->n].time32 = ts;
	h->n++;
	return 0;
}

/* Every version of the records in [beg, end] (no as-of filter). */
static int hist_scan(struct hist *h, uint32_t loc, int64_t obj, uint16_t rtype,
		     int64_t kbeg, int64_t kend)
{
	struct hammer_mount *m = h->m;
	struct hammer_cursor c;
	struct hammer_err e = { 0 };
	hammer_cursor_init(&c, &m->tree, &e);
	memset(&c.key_beg, 0, sizeof(c.key_beg));
	c.key_beg.localization = loc;
	c.key_beg.obj_id = obj;
	c.key_beg.rec_type = rtype;
	c.key_beg.key = kbeg;
	c.key_beg.create_tid = 1;
	c.key_end = c.key_beg;
	c.key_end.key = kend;
	c.key_end.create_tid = 0;	/* +infinity: every version of kend */
	c.flags = HAMMER_CURSOR_END_INCLUSIVE;
	int rc = hammer_btree_first(&c);
	while (rc == 0) {
		const struct hammer_btree_leaf_elm *el = hammer_cursor_leaf(&c);
		int take = 1;
		if (rtype == HAMMER_RECTYPE_INODE) {
			h->found = 1;
			h->obj_type = el->base.obj_type;
		} else {
			/* a DATA record covers [key - data_len, key) */
			uint64_t rend = (uint64_t)el->base.key;
			uint64_t rbeg = el->data_len > 0 && (uint64_t)el->data_len <= rend
					? rend - (uint64_t)el->data_len : rend;
			if (rend <= h->off || (h->end && rbeg >= h->end))
				take = 0;
		}
		if (take) {
			rc = hist_add(h, el->base.create_tid, el->create_ts);
			if (!rc && el->base.delete_tid)
				rc = hist_add(h, el->base.delete_tid, el->delete_ts);
			if (rc)
				break;
		}
		rc = hammer_btree_next(&c);
	}
	hammer_cursor_done(&c);
	if (rc == -ENOENT)
		return 0;
	return rc == -ENOMEM ? rc : eng_err(m, rc, &e);
}

int hammer_history(struct hammer_mount *m, uint32_t pfs_id, int64_t obj_id,
		   unsigned flags, uint64_t off, uint64_t len,
		   struct hammer_history_ent **out, size_t *n, int *unsynced)
{
	struct hist h = { .m = m, .flags = flags, .off = off };
	*out = NULL;
	*n = 0;
	*unsynced = 0;
	if (pfs_id > HAMMER_PFS_MAX_ID || obj_id <= 0 || (flags & ~HAMMER_HISTORY_ATKEY))
		return -EINVAL;
	if (len) {
		h.end = off + len;
		if (h.end < off)
			h.end = 0;	/* past the largest offset: no end */
	}
	uint32_t loc = (uint32_t)pfs_id << 16;
	pthread_mutex_lock(&m->lock);
	struct hammer_history_ent *inode_v = NULL;
	int rc = hist_scan(&h, loc | HAMMER_LOCALIZE_INODE, obj_id,
			   HAMMER_RECTYPE_INODE, 0, 0);
	if (!rc && !h.found) {
		/* made since the last flush: no version on disk yet */
		struct hammer_inode *ip = NULL;
		if (ino_live(m, obj_id, loc, &ip) == 0 && ip) {
			h.unsynced = 1;
			h.obj_type = ip->d.obj_type;
			h.found = 1;
		} else {
			rc = -ENOENT;
		}
	}
	if (!rc && (flags & HAMMER_HISTORY_ATKEY)) {
		if (h.obj_type != HAMMER_OBJTYPE_REGFILE) {
			rc = -EINVAL;
		} else {
			/* only the DATA records: drop what the INODE scan found */
			inode_v = h.v;
			h.v = NULL;
			h.n = h.cap = 0;
			int64_t kbeg = off >= (uint64_t)INT64_MAX ? INT64_MAX
								  : (int64_t)off + 1;
			/*
			 * Keys are end offsets and a DATA record holds at most
			 * HAMMER_XBUFSIZE bytes: past end + that, nothing
			 * reaches back into the range.
			 */
			int64_t kend = INT64_MAX;
			if (h.end && h.end < (uint64_t)INT64_MAX - HAMMER_XBUFSIZE)
				kend = (int64_t)(h.end + HAMMER_XBUFSIZE);
			rc = hist_scan(&h, loc | HAMMER_LOCALIZE_MISC, obj_id,
				       HAMMER_RECTYPE_DATA, kbeg, kend);
		}
	}
	if (!rc) {
		struct hammer_inode *ip = NULL;
		/* a live, cached inode with changes not flushed yet */
		if (ino_live(m, obj_id, loc, &ip) == 0 && ip && ip->on_dirty)
			h.unsynced = 1;
	}
	pthread_mutex_unlock(&m->lock);
	free(inode_v);
	if (rc) {
		free(h.v);
		return rc;
	}
	*out = h.v;
	*n = h.n;
	*unsynced = h.unsynced;
	return 0;
}
