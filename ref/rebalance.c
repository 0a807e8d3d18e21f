/*
 * rebalance.c - refilling B-tree leaves (format digest section 9;
 * DragonFly's REBALANCE ioctl).
 *
 * Deletions leave leaves sparse: a tree that once held many records keeps
 * its nodes.  A walk over one PFS's key range visits, batch by batch under
 * the mount lock, every internal node whose children are leaves (the node
 * above each leaf the walk passes) and packs those leaves' elements
 * 62 x saturation% to a leaf (as DragonFly's saturation) (hammer_btree_rebalance_leaves), freeing the
 * leaves that empty.  Keys, records and data do not move, so every view
 * (live, as of any TID, a slave's) reads the same.  Each group's changes
 * go into the open flush cycle: a crash shows a group before or after.
 */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RBL_SCAN	2048	/* elements looked at per lock hold */
#define RBL_GROUPS	32	/* parents collected per batch at most */

struct group {
	hammer_off_t off;
	struct hammer_base_elm key;	/* its left boundary */
};

static int rbl_scan(struct hammer_mount *m, uint32_t id, struct hammer_base_elm *pos,
		    int *done, struct group *g, size_t *ng, hammer_off_t *last,
		    struct hammer_rebalance_stats *st)
{
	struct hammer_cursor c;
	struct hammer_err e = { 0 };
	maint_cursor(m, &c, &e, id, pos);
	size_t looked = 0;
	*ng = 0;
	int rc = hammer_btree_first(&c);
	while (rc == 0 && looked < RBL_SCAN && *ng < RBL_GROUPS) {
		const struct hammer_btree_leaf_elm *el = hammer_cursor_leaf(&c);
		looked++;
		st->records++;
		if (c.depth >= 2) {
			struct hammer_node *p = c.path[c.depth - 2].node;
			if (p->offset != *last) {
				*last = p->offset;
				g[*ng].off = p->offset;
				g[*ng].key = p->ondisk->elms[0].base;
				(*ng)++;
			}
		}
		*pos = el->base;
		rc = hammer_btree_next(&c);
	}
	return maint_cursor_end(m, &c, &e, rc, pos, done);
}

int hammer_rebalance(struct hammer_mount *m, uint32_t pfs_id, unsigned saturation,
		     struct hammer_maint_ctl *ctl, struct hammer_rebalance_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (pfs_id > HAMMER_PFS_MAX_ID || saturation < 50 || saturation > 100)
		return -EINVAL;
	/* as DragonFly's userland computes it: of the 62 slots of an internal node */
	int target = (int)(HAMMER_BTREE_INT_ELMS * saturation / 100);
	struct group g[RBL_GROUPS];
	struct hammer_base_elm pos;
	maint_start(ctl, pfs_id, &pos);
	hammer_off_t last = 0;
	int rc = 0, done = 0;
	if (ctl)
		ctl->stopped = 0;
	while (!rc && !done) {
		if (ctl && ctl->should_stop && ctl->should_stop(ctl->ctx)) {
			maint_stopped(ctl, &pos);
			break;
		}
		pthread_mutex_lock(&m->lock);
		uint8_t pst;
		rc = maint_writable(m, pfs_id, &pst);
		size_t ng = 0;
		if (!rc)
			rc = rbl_scan(m, pfs_id, &pos, &done, g, &ng, &last, st);
		if (!rc && ng)
			rc = eng_begin(m);
		for (size_t i = 0; i < ng && !rc; i++) {
			struct hammer_err e = { 0 };
			int freed = 0, leaves = 0;
			int r = hammer_btree_rebalance_leaves(&m->tree, g[i].off, &g[i].key,
							      target, &freed, &leaves, &e);
			if (r == -ENOENT)
				continue;	/* changed under an earlier group */
			rc = eng_err(m, r, &e);
			st->groups++;
			st->nodes += (uint64_t)leaves + 1;
			st->leaves_freed += (uint64_t)freed;
			if (freed)
				st->rebalanced++;
		}
		if (rc && rc != -EROFS && rc != -ENOENT)
			m->broken = 1;
		pthread_mutex_unlock(&m->lock);
	}
	return rc;
}
