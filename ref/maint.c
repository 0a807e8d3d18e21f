/*
 * maint.c - what the maintenance walks (prune.c, reblock.c, rebalance.c)
 * share: the checks before each batch and a cursor over one PFS's whole
 * key range from a position, with the position moved past what a batch
 * looked at.
 */
#include "engine.h"

#include <errno.h>

int maint_writable(struct hammer_mount *m, uint32_t pfs_id, uint8_t *pst)
{
	*pst = pfs_id ? m->pfs_state[pfs_id] : PFS_LIVE;
	if (m->readonly || m->o.asof)
		return -EROFS;
	if (m->broken)
		return -EIO;
	if (!(*pst & PFS_LIVE))
		return -ENOENT;
	return 0;
}

void maint_cursor(struct hammer_mount *m, struct hammer_cursor *c, struct hammer_err *e,
		  uint32_t pfs_id, const struct hammer_base_elm *pos)
{
	hammer_cursor_init(c, &m->tree, e);
	c->key_beg = *pos;
	memset(&c->key_end, 0, sizeof(c->key_end));
	c->key_end.localization = (pfs_id << 16) | HAMMER_LOCALIZE_MASK;
	c->key_end.obj_id = INT64_MAX;
	c->key_end.rec_type = 0xFFFF;
	c->key_end.key = INT64_MAX;
	c->key_end.create_tid = 0;	/* +infinity */
	c->flags = HAMMER_CURSOR_END_INCLUSIVE;
}

int maint_cursor_end(struct hammer_mount *m, struct hammer_cursor *c,
		     struct hammer_err *e, int rc, struct hammer_base_elm *pos, int *done)
{
	hammer_cursor_done(c);
	if (rc == -ENOENT) {
		*done = 1;
		return 0;
	}
	if (rc)
		return rc == -ENOMEM ? rc : eng_err(m, rc, e);
	/* resume just after the last element looked at (TIDs never reach max) */
	pos->create_tid++;
	pos->delete_tid = 0;
	return 0;
}
