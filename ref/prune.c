/*
 * prune.c - removing history that no snapshot needs (format digest
 * section 9; DragonFly's PRUNE ioctl).
 *
 * A prune walks every record of one PFS and destroys historical ones
 * (delete_tid set) that the caller's element list lets go: a record whose
 * whole life [create_tid, delete_tid] falls inside one element's range and
 * one mod_tid slot of it is invisible at every TID the element keeps (its
 * end, where a snapshot sits), so no snapshot can see it.  With
 * HAMMER_PRUNE_ALL every historical record goes.  Live records are never
 * touched, so the current tree and every snapshot read exactly as before.
 *
 * The walk takes the mount lock one batch at a time (the file system stays
 * usable while it runs) and resumes after the last element it looked at;
 * each batch's removals go into the open flush cycle, so a crash leaves
 * some history pruned and the rest not, never a record half gone.  A
 * removal frees the record's data in the freemap.
 *
 * On a slave only history the slave has completed is pruned (delete_tid
 * at or below its sync_end_tid): what a mirror-write batch in progress
 * changed stays until the batch commits.
 */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PRUNE_SCAN	4096	/* elements looked at per lock hold */

static int should_prune(const struct hammer_btree_leaf_elm *el, unsigned flags,
			const struct hammer_prune_elm *elms, size_t n,
			hammer_tid_t limit)
{
	const struct hammer_base_elm *b = &el->base;
	if (b->delete_tid == 0 || b->delete_tid > limit)
		return 0;
	if (flags & HAMMER_PRUNE_ALL)
		return 1;
	for (size_t i = 0; i < n; i++) {
		const struct hammer_prune_elm *p = &elms[i];
		if (b->create_tid >= p->end_tid || b->delete_tid > p->end_tid)
			break;	/* descending: no later element covers it */
		if (b->create_tid >= p->beg_tid &&
		    (b->create_tid - p->beg_tid) / p->mod_tid ==
		    (b->delete_tid - p->beg_tid) / p->mod_tid)
			return 1;
	}
	return 0;
}

/* The caller's list: each element sane, in descending order, disjoint. */
static int elms_ok(const struct hammer_prune_elm *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (e[i].beg_tid >= e[i].end_tid || e[i].mod_tid == 0)
			return 0;
		if (i && e[i].end_tid > e[i - 1].beg_tid)
			return 0;
	}
	return 1;
}

/*
 * One batch: look at up to PRUNE_SCAN elements from *pos on, collect the
 * ones to destroy into out (at most PRUNE_SCAN).  *pos moves past the last
 * element looked at; *done is set at the end of the range.
 */
static int prune_batch(struct hammer_mount *m, uint32_t id,
		       struct hammer_base_elm *pos, int *done, unsigned flags,
		       const struct hammer_prune_elm *elms, size_t nelms,
		       hammer_tid_t limit, struct hammer_btree_leaf_elm *out,
		       size_t *nout, struct hammer_prune_stats *st)
{
	struct hammer_cursor c;
	struct hammer_err e = { 0 };
	maint_cursor(m, &c, &e, id, pos);
	size_t looked = 0;
	*nout = 0;
	int rc = hammer_btree_first(&c);
	while (rc == 0 && looked < PRUNE_SCAN) {
		const struct hammer_btree_leaf_elm *el = hammer_cursor_leaf(&c);
		looked++;
		st->scanned++;
		if (el->base.create_tid < st->oldest_tid || !st->oldest_tid)
			st->oldest_tid = el->base.create_tid;
		if (should_prune(el, flags, elms, nelms, limit))
			out[(*nout)++] = *el;
		*pos = el->base;
		rc = hammer_btree_next(&c);
	}
	return maint_cursor_end(m, &c, &e, rc, pos, done);
}

int hammer_prune(struct hammer_mount *m, uint32_t pfs_id, unsigned flags,
		 const struct hammer_prune_elm *elms, size_t nelms,
		 struct hammer_maint_ctl *ctl, struct hammer_prune_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (pfs_id > HAMMER_PFS_MAX_ID || (flags & ~HAMMER_PRUNE_ALL) ||
	    ((flags & HAMMER_PRUNE_ALL) && nelms) || (nelms && !elms) ||
	    nelms > HAMMER_PRUNE_MAX_ELMS || !elms_ok(elms, nelms))
		return -EINVAL;
	struct hammer_btree_leaf_elm *out = malloc(PRUNE_SCAN * sizeof(*out));
	if (!out)
		return -ENOMEM;
	struct hammer_base_elm pos;
	maint_start(ctl, pfs_id, &pos);
	int done = 0, rc = 0;
	if (ctl)
		ctl->stopped = 0;
	while (!done && !rc) {
		if (ctl && ctl->should_stop && ctl->should_stop(ctl->ctx)) {
			maint_stopped(ctl, &pos);
			break;
		}
		pthread_mutex_lock(&m->lock);
		uint8_t pst;
		hammer_tid_t limit = ASOF_LIVE;
		rc = maint_writable(m, pfs_id, &pst);
		if (!rc && (pst & PFS_SLAVE)) {
			struct hammer_pseudofs_data pd;
			rc = pfs_rec_get(m, pfs_id, &pd);
			limit = pd.sync_end_tid;
		}
		size_t n = 0;
		if (!rc)
			rc = prune_batch(m, pfs_id, &pos, &done, flags, elms, nelms,
					 limit, out, &n, st);
		if (!rc && n)
			rc = eng_begin(m);
		for (size_t i = 0; i < n && !rc; i++) {
			rc = rec_remove(m, &out[i], 1);
			if (rc) {
				m->broken = 1;
				break;
			}
			if (out[i].base.rec_type == HAMMER_RECTYPE_DIRENTRY)
				st->dirrecords++;
			else
				st->rawrecords++;
			if (out[i].data_len > 0)
				st->bytes += (uint64_t)out[i].data_len;
		}
		pthread_mutex_unlock(&m->lock);
	}
	free(out);
	return rc;
}
