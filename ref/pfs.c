/*
 * pfs.c - pseudo-filesystems: create, update, upgrade, downgrade, destroy,
 * and what lookups need to enter one (format digest section 7).
 *
 * Every PFS n keeps its objects in localizations n << 16 | type; its
 * record (struct hammer_pseudofs_data) lives in PFS #0, object 1, MISC
 * localization, key n << 16.  The mount keeps one byte of state per id
 * (m->pfs_state: PFS_LIVE, PFS_SLAVE, PFS_BAD), loaded from the records
 * at mount and kept in step by the calls here, so entering a PFS, picking
 * a free id and refusing writes to a slave cost no B-tree search.
 *
 * Crash safety.  Everything a call changes goes into the open flush cycle,
 * so a crash shows the call whole or not at all, with two exceptions that
 * may need several cycles (they flush on the way when the dirty limit is
 * reached):
 *   - destroy marks the record DELETED in its first cycle, then removes
 *     the records.  A crash in between leaves a DELETED PFS with records;
 *     the next read-write mount finishes the removal (pfs_resume), and
 *     until then nothing can reach those records (the id is not live);
 *   - upgrade rolls the slave back before it clears SLAVE: a crash in
 *     between leaves a slave whose records past sync_end_tid are partly
 *     gone, which its as-of view never showed anyway.
 */
#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PFS_LINK_PREFIX	"@@PFS"
#define PFS_LINK_LEN	10		/* "@@PFS%05d" */
#define PFS_BATCH	512		/* records removed between flush checks */

static uint32_t pfs_loc(uint32_t id)
{
	return id << 16;
}

static uint8_t pfs_st(const struct hammer_mount *m, uint32_t id)
{
	if (id == 0)
		return PFS_LIVE;
	return m->pfs_state ? m->pfs_state[id] : 0;
}

/* ---------------------------------------------------------- the record */

/* The newest record of id (DELETED ones included).  -ENOENT: none. */
static int rec_get(struct hammer_mount *m, uint32_t id,
		   struct hammer_pseudofs_data *pd,
		   struct hammer_btree_leaf_elm *el)
{
	struct hammer_btree_leaf_elm e;
	if (!el)
		el = &e;
	memset(pd, 0, sizeof(*pd));
	int rc = rec_lookup(m, HAMMER_LOCALIZE_MISC, 1, HAMMER_RECTYPE_PFS,
			    (int64_t)id << 16, m->o.asof ? m->o.asof : ASOF_LIVE,
			    el);
	if (rc)
		return rc;
	if (el->data_len <= 0)
		return HAMMER_CORRUPT(&m->err, el->data_offset,
				      "PFS record %u: data_len %d", id,
				      el->data_len);
	size_t n = (size_t)el->data_len < sizeof(*pd) ? (size_t)el->data_len
						       : sizeof(*pd);
	/* rec_read checks the CRC over the whole record, then copies n */
	rc = rec_read(m, el, pd, n);
	if (rc)
		return rc;
	hammer_pfsd_swap(pd);
	return 0;
}

/* Replace (or create) the record of id with *pd, in the open cycle. */
static int rec_put(struct hammer_mount *m, uint32_t id,
		   const struct hammer_pseudofs_data *pd)
{
	struct hammer_btree_leaf_elm old;
	int rc = rec_lookup(m, HAMMER_LOCALIZE_MISC, 1, HAMMER_RECTYPE_PFS,
			    (int64_t)id << 16, ASOF_LIVE, &old);
	if (rc == 0)
		rc = rec_remove(m, &old, 0);
	else if (rc == -ENOENT)
		rc = 0;
	if (rc)
		return rc;
	struct hammer_pseudofs_data disk = *pd;
	hammer_pfsd_swap(&disk);
	rc = rec_insert(m, HAMMER_LOCALIZE_MISC, 1, HAMMER_RECTYPE_PFS,
			(int64_t)id << 16, HAMMER_OBJTYPE_DIRECTORY, &disk,
			sizeof(disk), NULL);
	if (rc)
		return rc;
	uint8_t st = 0;
	if (!(pd->mirror_flags & HAMMER_PFSD_DELETED))
		st |= PFS_LIVE;
	if (pd->mirror_flags & HAMMER_PFSD_SLAVE)
		st |= PFS_SLAVE;
	if (id)
		m->pfs_state[id] = st;
	return 0;
}

/* ---------------------------------------------------------- mount */

struct load_ctx {
	struct hammer_mount *m;
	int rc;
};

static int load_one(void *arg, const struct hammer_btree_leaf_elm *el)
{
	struct load_ctx *l = arg;
	struct hammer_mount *m = l->m;
	int64_t key = el->base.key;
	if (key < 0 || (key & 0xFFFF) || (key >> 16) > HAMMER_PFS_MAX_ID)
		return 0;	/* not a PFS record the engine can name: the checker reports it */
	uint32_t id = (uint32_t)(key >> 16);
	struct hammer_pseudofs_data pd;
	memset(&pd, 0, sizeof(pd));
	size_t n = el->data_len > 0 && (size_t)el->data_len < sizeof(pd)
			   ? (size_t)el->data_len : sizeof(pd);
	int rc = el->data_len > 0 ? rec_read(m, el, &pd, n) : -EUCLEAN;
	if (rc == -EUCLEAN || rc == -EIO) {
		if (id)
			m->pfs_state[id] = PFS_BAD;
		return 0;
	}
	if (rc) {
		l->rc = rc;
		return 1;
	}
	hammer_pfsd_swap(&pd);
	if (id == 0)
		return 0;
	uint8_t st = PFS_DELETED;
	if (!(pd.mirror_flags & HAMMER_PFSD_DELETED))
		st = PFS_LIVE;
	if (pd.mirror_flags & HAMMER_PFSD_SLAVE)
		st |= PFS_SLAVE;
	m->pfs_state[id] = st;
	return 0;
}

int pfs_load(struct hammer_mount *m)
{
	if (!m->pfs_state) {
		m->pfs_state = calloc(HAMMER_MAX_PFS, 1);
		if (!m->pfs_state)
			return -ENOMEM;
	}
	struct load_ctx l = { m, 0 };
	int rc = rec_scan(m, HAMMER_LOCALIZE_MISC, 1, HAMMER_RECTYPE_PFS,
			  HAMMER_RECTYPE_PFS, 0, HAMMER_MAX_KEY,
			  m->o.asof ? m->o.asof : ASOF_LIVE, load_one, &l);
	return rc ? rc : l.rc;
}

void pfs_free(struct hammer_mount *m)
{
	free(m->pfs_state);
	free(m->pfs_hold);
	m->pfs_state = NULL;
	m->pfs_hold = NULL;
}

/* ---------------------------------------------------------- range work */

/*
 * Up to `max` records of PFS id's localizations (all versions), from the
 * start of the range.  Returns how many, or a negative errno.
 */
static int range_batch(struct hammer_mount *m, uint32_t id,
		       struct hammer_btree_leaf_elm *out, int max,
		       hammer_tid_t trunc)
{
	struct hammer_cursor c;
	struct hammer_err e = { 0 };
	hammer_cursor_init(&c, &m->tree, &e);
	memset(&c.key_beg, 0, sizeof(c.key_beg));
	c.key_beg.localization = pfs_loc(id);
	c.key_beg.obj_id = INT64_MIN;
	c.key_beg.rec_type = 0;
	c.key_beg.key = INT64_MIN;
	c.key_beg.create_tid = 1;
	c.key_end = c.key_beg;
	c.key_end.localization = pfs_loc(id) | 0xFFFFu;
	c.key_end.obj_id = INT64_MAX;
	c.key_end.rec_type = 0xFFFF;
	c.key_end.key = INT64_MAX;
	c.key_end.create_tid = 0;
	c.flags = HAMMER_CURSOR_END_INCLUSIVE;
	int n = 0;
	int rc = hammer_btree_first(&c);
	while (rc == 0 && n < max) {
		const struct hammer_btree_leaf_elm *el = hammer_cursor_leaf(&c);
		/* trunc 0: everything; else what a rollback to trunc changes */
		if (trunc == 0 || el->base.create_tid > trunc ||
		    (el->base.delete_tid && el->base.delete_tid > trunc))
			out[n++] = *el;
		rc = hammer_btree_next(&c);
	}
	hammer_cursor_done(&c);
	if (rc == -ENOENT)
		rc = 0;
	if (rc)
		return eng_err(m, rc, &e);
	return n;
}

static void stat_inodes(struct hammer_mount *m, int delta)
{
	struct hammer_volume_ondisk *h = hammer_volset_root(m->vs);
	if (delta > 0)
		h->vol0_stat_inodes++;
	else if (h->vol0_stat_inodes > 0)
		h->vol0_stat_inodes--;
}

/*
 * Remove every record of PFS id (trunc 0), or roll it back to trunc:
 * records created after trunc go, deletions after trunc are undone.
 * Physical removal frees the data.  Flushes on the way when the dirty
 * limit is reached.
 */
static int range_rollback(struct hammer_mount *m, uint32_t id, hammer_tid_t trunc)
{
	struct hammer_btree_leaf_elm *b = malloc(PFS_BATCH * sizeof(*b));
	if (!b)
		return -ENOMEM;
	int rc;
	for (;;) {
		rc = eng_begin(m);
		if (rc)
			break;
		int n = range_batch(m, id, b, PFS_BATCH, trunc);
		if (n <= 0) {
			rc = n;
			break;
		}
		int changed = 0;
		for (int i = 0; i < n && !rc; i++) {
			/* the statfs inode count follows the live INODE records */
			int inode = b[i].base.rec_type == HAMMER_RECTYPE_INODE;
			if (trunc == 0 || b[i].base.create_tid > trunc) {
				rc = rec_remove(m, &b[i], 2);
				if (!rc && inode && b[i].base.delete_tid == 0)
					stat_inodes(m, -1);
				changed++;
			} else if (b[i].base.delete_tid > trunc) {
				struct hammer_err e = { 0 };
				rc = eng_err(m, hammer_btree_mark_deleted(
						     &m->tree, &b[i].base, 0, 0, &e),
					     &e);
				if (!rc && inode)
					stat_inodes(m, 1);
				changed++;
			}
		}
		if (rc)
			break;
		/*
		 * A rollback batch that only un-deleted records leaves them in
		 * the range; stop once a pass changes nothing more than that.
		 */
		if (trunc && n < PFS_BATCH)
			break;
		rc = eng_maybe_flush(m);
		if (rc || !changed)
			break;
	}
	free(b);
	if (rc)
		m->broken = 1;
	return rc;
}

/* Any record at all in PFS id's localizations? */
static int range_any(struct hammer_mount *m, uint32_t id)
{
	struct hammer_btree_leaf_elm el;
	return range_batch(m, id, &el, 1, 0);
}

/*
 * At a read-write mount: finish destroys a crash interrupted (DELETED
 * records whose PFS still has records).
 */
int pfs_resume(struct hammer_mount *m)
{
	if (m->readonly || !m->pfs_state)
		return 0;
	for (uint32_t id = 1; id <= HAMMER_PFS_MAX_ID; id++) {
		if (!(m->pfs_state[id] & PFS_DELETED))
			continue;	/* only ids with a DELETED record */
		struct hammer_pseudofs_data pd;
		if (rec_get(m, id, &pd, NULL) != 0 ||
		    !(pd.mirror_flags & HAMMER_PFSD_DELETED))
			continue;
		int rc = range_any(m, id);
		if (rc > 0)
			rc = range_rollback(m, id, 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------- busy */

static int pfs_busy(struct hammer_mount *m, uint32_t id)
{
	if (m->pfs_hold && m->pfs_hold[id])
		return 1;
	return ino_pfs_busy(m, pfs_loc(id));
}

/* ---------------------------------------------------------- lookups */

int pfs_enter(struct hammer_mount *m, uint32_t id, hammer_tid_t *asof)
{
	if (id > HAMMER_PFS_MAX_ID)
		return -ENOENT;
	uint8_t st = pfs_st(m, id);
	if (st & PFS_BAD)
		return HAMMER_CORRUPT(&m->err, ~0ULL,
				      "the record of PFS #%u is corrupt", id);
	if (!(st & PFS_LIVE))
		return -ENOENT;
	if ((st & PFS_SLAVE) && *asof == ASOF_LIVE) {
		struct hammer_pseudofs_data pd;
		int rc = rec_get(m, id, &pd, NULL);
		if (rc)
			return rc;
		if (pd.sync_end_tid == 0)
			return -ENOENT;
		*asof = pd.sync_end_tid;
	}
	return 0;
}

int pfs_link_text(struct hammer_mount *m, const char *stored, size_t n,
		  char *out, size_t size)
{
	if (n != PFS_LINK_LEN || memcmp(stored, PFS_LINK_PREFIX, 5) != 0)
		return -EINVAL;
	uint32_t id = 0;
	for (int i = 5; i < PFS_LINK_LEN; i++) {
		if (stored[i] < '0' || stored[i] > '9')
			return -EINVAL;
		id = id * 10 + (uint32_t)(stored[i] - '0');
	}
	if (id > HAMMER_PFS_MAX_ID || !(pfs_st(m, id) & PFS_LIVE))
		return -ENOENT;		/* shown raw, as DragonFly does */
	if (pfs_st(m, id) & PFS_SLAVE) {
		struct hammer_pseudofs_data pd;
		int rc = rec_get(m, id, &pd, NULL);
		if (rc)
			return rc;
		return snprintf(out, size, "@@0x%016llx:%05u",
				(unsigned long long)pd.sync_end_tid, id);
	}
	return snprintf(out, size, "@@-1:%05u", id);
}

/* ---------------------------------------------------------- API */

int hammer_pfs_status(struct hammer_mount *m, uint32_t pfs_id,
		      struct hammer_pseudofs_data *out, struct hammer_err *err)
{
	int rc = hammer_pfs_get(m, pfs_id, out, err);
	if (rc)
		return rc;
	if (!(out->mirror_flags & HAMMER_PFSD_SLAVE)) {
		pthread_mutex_lock(&m->lock);
		out->sync_end_tid = m->o.asof ? m->o.asof : m->flush_tid;
		pthread_mutex_unlock(&m->lock);
	}
	return 0;
}

int hammer_pfs_free_id(struct hammer_mount *m, uint32_t *pfs_id)
{
	pthread_mutex_lock(&m->lock);
	int rc = -ENOSPC;
	for (uint32_t id = 1; id <= HAMMER_PFS_MAX_ID; id++)
		if (!(pfs_st(m, id) & (PFS_LIVE | PFS_BAD))) {
			*pfs_id = id;
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static int writable(struct hammer_mount *m)
{
	if (m->readonly || m->o.asof)
		return -EROFS;
	if (m->broken)
		return -EIO;
	return 0;
}

/* The root directory of a new master, as DragonFly makes it. */
static int make_root(struct hammer_mount *m, uint32_t id)
{
	struct hammer_inode *ip = ino_new(m, 1, pfs_loc(id));
	if (!ip)
		return -ENOMEM;
	uint64_t now = eng_now(m);
	struct hammer_inode_data *d = &ip->d;
	d->version = HAMMER_INODE_DATA_VERSION;
	d->mode = 0755;
	d->obj_type = HAMMER_OBJTYPE_DIRECTORY;
	d->nlinks = 1;
	d->ctime = d->mtime = d->atime = now;
	if (m->version >= 2)
		d->cap_flags |= HAMMER_INODE_CAP_DIR_LOCAL_INO;
	if (m->version >= 6)
		d->cap_flags |= HAMMER_INODE_CAP_DIRHASH_ALG1;
	ino_dirty(m, ip, INO_NEW | INO_DIRTY);
	hammer_volset_root(m->vs)->vol0_stat_inodes++;
	return 0;
}

int hammer_pfs_create(struct hammer_mount *m, hammer_ino_t dir,
		      const char *name, size_t len, uint32_t pfs_id,
		      const struct hammer_pseudofs_data *pd, uint32_t uid,
		      uint32_t gid, struct hammer_attr *link)
{
	if (pfs_id == 0 || pfs_id > HAMMER_PFS_MAX_ID ||
	    (pd->mirror_flags & ~HAMMER_PFSD_SLAVE))
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	int rc = writable(m);
	if (rc)
		goto out;
	uint8_t st = pfs_st(m, pfs_id);
	if (st & PFS_BAD) {
		rc = HAMMER_CORRUPT(&m->err, ~0ULL,
				    "the record of PFS #%u is corrupt", pfs_id);
		goto out;
	}
	if (st & PFS_LIVE) {
		rc = -EEXIST;
		goto out;
	}
	struct eng_view dv;
	rc = eng_view(m, dir, &dv);
	if (rc)
		goto out;
	if (dv.d.obj_type != HAMMER_OBJTYPE_DIRECTORY) {
		rc = -ENOTDIR;
		goto out;
	}
	if (!dv.ip) {
		rc = -EROFS;
		goto out;
	}
	if (dv.pfs_loc != 0) {
		rc = -EXDEV;	/* links live in PFS #0 only */
		goto out;
	}
	rc = dir_find(m, dv.obj, 0, &dv.d, name, len, ASOF_LIVE, NULL, NULL);
	if (rc != -ENOENT) {
		rc = rc ? rc : -EEXIST;
		goto out;
	}
	/* an earlier destroy a crash interrupted leaves records: finish it */
	rc = range_any(m, pfs_id);
	if (rc > 0)
		rc = range_rollback(m, pfs_id, 0);
	if (rc < 0)
		goto out;
	rc = eng_begin(m);
	if (rc)
		goto out;
	rc = rec_put(m, pfs_id, pd);
	if (!rc && !(pd->mirror_flags & HAMMER_PFSD_SLAVE))
		rc = make_root(m, pfs_id);
	if (rc) {
		m->broken = 1;
		goto out;
	}
	char target[PFS_LINK_LEN + 1];
	snprintf(target, sizeof(target), PFS_LINK_PREFIX "%05u", pfs_id);
	rc = dir_create_locked(m, dir, name, len, S_IFLNK | 0755, 0, uid, gid,
			       target, PFS_LINK_LEN, link);
	if (rc) {
		/* the PFS is half made: keep the disk at the last cycle */
		m->broken = 1;
		goto out;
	}
	if (link) {
		char shown[40];
		int k = pfs_link_text(m, target, PFS_LINK_LEN, shown, sizeof(shown));
		if (k > 0)
			link->size = (uint64_t)k;
	}
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_pfs_update(struct hammer_mount *m, uint32_t pfs_id,
		      const struct hammer_pseudofs_data *pd)
{
	if (pfs_id > HAMMER_PFS_MAX_ID)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	struct hammer_pseudofs_data cur;
	int rc = writable(m);
	if (!rc)
		rc = rec_get(m, pfs_id, &cur, NULL);
	if (rc == -ENOENT && pfs_id == 0) {
		memset(&cur, 0, sizeof(cur));	/* PFS #0 without a record */
		rc = 0;
	}
	if (rc)
		goto out;
	if (cur.mirror_flags & HAMMER_PFSD_DELETED) {
		rc = -ENOENT;
		goto out;
	}
	if ((cur.mirror_flags ^ pd->mirror_flags) &
	    (HAMMER_PFSD_SLAVE | HAMMER_PFSD_DELETED) ||
	    (pd->mirror_flags & ~(HAMMER_PFSD_SLAVE | HAMMER_PFSD_DELETED))) {
		rc = -EINVAL;
		goto out;
	}
	rc = eng_begin(m);
	if (!rc)
		rc = rec_put(m, pfs_id, pd);
	if (rc)
		m->broken = 1;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* Common checks of upgrade, downgrade, destroy; *pd gets the record. */
static int pfs_change_begin(struct hammer_mount *m, uint32_t id,
			    struct hammer_pseudofs_data *pd)
{
	if (id == 0 || id > HAMMER_PFS_MAX_ID)
		return -EINVAL;
	int rc = writable(m);
	if (rc)
		return rc;
	if (pfs_st(m, id) & PFS_BAD)
		return HAMMER_CORRUPT(&m->err, ~0ULL,
				      "the record of PFS #%u is corrupt", id);
	if (!(pfs_st(m, id) & PFS_LIVE))
		return -ENOENT;
	rc = rec_get(m, id, pd, NULL);
	if (rc)
		return rc;
	if (pfs_busy(m, id))
		return -EBUSY;
	return 0;
}

int hammer_pfs_upgrade(struct hammer_mount *m, uint32_t pfs_id)
{
	struct hammer_pseudofs_data pd;
	pthread_mutex_lock(&m->lock);
	int rc = pfs_change_begin(m, pfs_id, &pd);
	if (rc || !(pd.mirror_flags & HAMMER_PFSD_SLAVE))
		goto out;
	/* sync_end_tid 0 would mean everything: a slave always has >= 1 */
	hammer_tid_t trunc = pd.sync_end_tid ? pd.sync_end_tid : 1;
	rc = range_rollback(m, pfs_id, trunc);
	if (rc)
		goto out;
	rc = eng_begin(m);
	if (rc)
		goto out;
	pd.mirror_flags &= ~HAMMER_PFSD_SLAVE;
	rc = rec_put(m, pfs_id, &pd);
	if (!rc) {
		struct hammer_inode *ip;
		rc = ino_live(m, 1, pfs_loc(pfs_id), &ip);
		if (rc == -ENOENT)
			rc = make_root(m, pfs_id);
	}
	if (rc)
		m->broken = 1;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_pfs_downgrade(struct hammer_mount *m, uint32_t pfs_id)
{
	struct hammer_pseudofs_data pd;
	pthread_mutex_lock(&m->lock);
	int rc = pfs_change_begin(m, pfs_id, &pd);
	if (rc || (pd.mirror_flags & HAMMER_PFSD_SLAVE))
		goto out;
	/* everything of the master durable, so sync_end_tid names it all */
	rc = eng_sync_locked(m);
	if (rc)
		goto out;
	ino_drop_pfs(m, pfs_loc(pfs_id));
	rc = eng_begin(m);
	if (rc)
		goto out;
	pd.mirror_flags |= HAMMER_PFSD_SLAVE;
	if (pd.sync_end_tid < m->flush_tid)
		pd.sync_end_tid = m->flush_tid;
	rc = rec_put(m, pfs_id, &pd);
	if (rc)
		m->broken = 1;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* The cached objects of loc whose INODE record is not in the tree yet. */
static void uncount_new_inodes(struct hammer_mount *m, uint32_t loc)
{
	for (size_t i = 0; i < m->ihash_size; i++)
		for (struct hammer_inode *ip = m->ihash[i]; ip; ip = ip->hnext)
			if (ip->pfs_loc == loc && !ip->rec_tid &&
			    !(ip->flags & INO_DESTROYED))
				stat_inodes(m, -1);
}

int hammer_pfs_destroy(struct hammer_mount *m, uint32_t pfs_id)
{
	struct hammer_pseudofs_data pd;
	pthread_mutex_lock(&m->lock);
	int rc = pfs_change_begin(m, pfs_id, &pd);
	if (rc)
		goto out;
	/*
	 * Objects made since the last flush were counted at their creation
	 * but have no INODE record for the removal below to count.
	 */
	uncount_new_inodes(m, pfs_loc(pfs_id));
	ino_drop_pfs(m, pfs_loc(pfs_id));
	rc = eng_begin(m);
	if (rc)
		goto out;
	pd.mirror_flags |= HAMMER_PFSD_DELETED;
	rc = rec_put(m, pfs_id, &pd);
	if (rc) {
		m->broken = 1;
		goto out;
	}
	rc = range_rollback(m, pfs_id, 0);
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_pfs_hold(struct hammer_mount *m, uint32_t pfs_id, int delta)
{
	if (pfs_id > HAMMER_PFS_MAX_ID || (delta != 1 && delta != -1))
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	int rc = 0;
	if (!m->pfs_hold) {
		m->pfs_hold = calloc(HAMMER_MAX_PFS, sizeof(*m->pfs_hold));
		if (!m->pfs_hold)
			rc = -ENOMEM;
	}
	if (!rc) {
		if (delta > 0 && !(pfs_st(m, pfs_id) & PFS_LIVE))
			rc = -ENOENT;
		else if (delta < 0 && m->pfs_hold[pfs_id] == 0)
			rc = -EINVAL;
		else
			m->pfs_hold[pfs_id] += (uint32_t)delta;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_ino_pfs(struct hammer_mount *m, hammer_ino_t ino, uint32_t *pfs_id)
{
	pthread_mutex_lock(&m->lock);
	int rc = 0;
	*pfs_id = 0;
	if (ino & HAMMER_INO_ASOF_BIT) {
		uint64_t i = ino & ~HAMMER_INO_ASOF_BIT;
		if (i == 0 || i > m->nasofs)
			rc = -ESTALE;
		else
			*pfs_id = m->asofs[i - 1].pfs_loc >> 16;
	} else if (ino == 0 || ino > (uint64_t)INT64_MAX) {
		rc = -ESTALE;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_pfs_root(struct hammer_mount *m, uint32_t pfs_id,
		    struct hammer_attr *a)
{
	pthread_mutex_lock(&m->lock);
	hammer_tid_t asof = ASOF_LIVE;
	int rc = pfs_enter(m, pfs_id, &asof);
	if (!rc) {
		hammer_ino_t h = eng_handle(m, 1, pfs_loc(pfs_id), asof);
		struct eng_view v;
		rc = h ? eng_view(m, h, &v) : -ENOMEM;
		if (!rc && v.d.obj_type != HAMMER_OBJTYPE_DIRECTORY)
			rc = HAMMER_CORRUPT(&m->err, ~0ULL,
					    "the root of PFS #%u is not a directory",
					    pfs_id);
		if (!rc)
			eng_view_attr(m, &v, a);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int pfs_rec_get(struct hammer_mount *m, uint32_t id,
		struct hammer_pseudofs_data *pd)
{
	return rec_get(m, id, pd, NULL);
}

int pfs_rec_put(struct hammer_mount *m, uint32_t id,
		const struct hammer_pseudofs_data *pd)
{
	return rec_put(m, id, pd);
}
