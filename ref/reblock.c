/*
 * reblock.c - moving what lives in under-filled big-blocks elsewhere, so
 * those big-blocks empty and return to the freemap (format digest section
 * 9; DragonFly's REBLOCK ioctl).
 *
 * A walk over one PFS's key range, a batch at a time under the mount
 * lock.  A record's data, or a B-tree node on the path to it, is moved
 * when its big-block has at least free_level bytes free (free_level =
 * 8 MB - fill% of 8 MB) and is not the one its zone is filling now (which
 * would only move the data next to itself), except with free_level 0,
 * which rewrites everything.  The kinds are chosen by flags: B-tree nodes,
 * INODE records, directory-like records (entries, symlink targets, PFS,
 * snapshot and config records) and file data.
 *
 * A data move: a new allocation in the same zone, the bytes copied (read
 * and CRC-checked: a record whose data fails its CRC stays where it is and
 * is counted), the leaf pointed at the copy, the old bytes freed.  A node
 * move: hammer_btree_move_node.  Everything goes into the open flush
 * cycle: the copy is written before the cycle's meta-data, and freed space
 * is not reused before the cycle is durable (the allocator appends within
 * a big-block and delays the reuse of freed big-blocks), so a crash shows
 * the old or the new location, never a record pointing at bytes that are
 * gone.  The live inode cache keeps the data address of each inode's
 * record; a moved INODE record updates it.
 */
#include "engine.h"
#include "planted.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RB_SCAN		1024	/* elements looked at per lock hold */
#define RB_NODES	64	/* nodes collected per batch at most */

struct rb_node {
	hammer_off_t off;
	struct hammer_base_elm key;
};

/* Node addresses already handled: never looked at twice (with free_level 0 every node qualifies, the new ones too). */
struct offset_set {
	hammer_off_t *v;
	size_t cap, n;
};

static size_t oset_slot(const struct offset_set *s, hammer_off_t off)
{
	uint64_t h = (off >> 12) * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 20) & (s->cap - 1);
}

static int oset_has(const struct offset_set *s, hammer_off_t off)
{
	if (!s->cap)
		return 0;
	for (size_t i = oset_slot(s, off); s->v[i]; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == off)
			return 1;
	return 0;
}

static int oset_add(struct offset_set *s, hammer_off_t off)
{
	if ((s->n + 1) * 2 > s->cap) {
		struct offset_set ns = { .cap = s->cap ? s->cap * 2 : 256 };
		ns.v = calloc(ns.cap, sizeof(*ns.v));
		if (!ns.v)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i]) {
				size_t j = oset_slot(&ns, s->v[i]);
				while (ns.v[j])
					j = (j + 1) & (ns.cap - 1);
				ns.v[j] = s->v[i];
				ns.n++;
			}
		free(s->v);
		*s = ns;
	}
	size_t i = oset_slot(s, off);
	while (s->v[i] && s->v[i] != off)
		i = (i + 1) & (s->cap - 1);
	if (!s->v[i]) {
		s->v[i] = off;
		s->n++;
	}
	return 0;
}

struct rb {
	struct hammer_mount *m;
	unsigned flags;
	int32_t free_level;
	struct hammer_reblock_stats *st;
	struct offset_set seen;	/* nodes looked at or made by this run */
};

/* Which flag covers a record of this type. */
static unsigned rec_flag(uint16_t rt)
{
	switch (rt) {
	case HAMMER_RECTYPE_INODE:
		return HAMMER_REBLOCK_INODES;
	case HAMMER_RECTYPE_DATA:
	case HAMMER_RECTYPE_DB:
		return HAMMER_REBLOCK_DATA;
	default:
		return HAMMER_REBLOCK_DIRS;
	}
}

/* The big-block at off is worth emptying.  <0: error. */
static int qualifies(struct rb *r, hammer_off_t off)
{
	struct hammer_blockmap_info bi;
	struct hammer_err e = { 0 };
	int rc = hammer_blockmap_lookup(r->m->bm, off, &bi, &e);
	if (rc)
		return eng_err(r->m, rc, &e);
	if (bi.layer2.bytes_free < r->free_level)
		return 0;
	if (r->free_level == 0)
		return 1;
	struct hammer_blockmap z;
	hammer_blockmap_get_entry(r->m->bm, hammer_zone_of(off), &z);
	return (z.next_offset & ~HAMMER_BIGBLOCK_MASK64) != (off & ~HAMMER_BIGBLOCK_MASK64);
}

/* One batch of the walk: what to move, collected under a cursor. */
static int rb_scan(struct rb *r, uint32_t id, struct hammer_base_elm *pos, int *done,
		   struct hammer_btree_leaf_elm *recs, size_t *nrecs,
		   struct rb_node *nodes, size_t *nnodes)
{
	struct hammer_mount *m = r->m;
	struct hammer_cursor c;
	struct hammer_err e = { 0 };
	maint_cursor(m, &c, &e, id, pos);
	size_t looked = 0;
	*nrecs = *nnodes = 0;
	int rc = hammer_btree_first(&c);
	while (rc == 0 && looked < RB_SCAN && *nnodes < RB_NODES) {
		const struct hammer_btree_leaf_elm *el = hammer_cursor_leaf(&c);
		looked++;
		r->st->records++;
		if ((r->flags & rec_flag(el->base.rec_type)) && el->data_len > 0 &&
		    el->data_offset) {
			r->st->data_elements++;
			r->st->data_byte_count += (uint64_t)el->data_len;
			int q = qualifies(r, el->data_offset);
			if (q < 0) {
				rc = q;
				break;
			}
			if (q)
				recs[(*nrecs)++] = *el;
		}
		if (r->flags & HAMMER_REBLOCK_BTREE) {
			for (int d = 0; d < c.depth; d++) {
				hammer_off_t no = c.path[d].node->offset;
				int seen = oset_has(&r->seen, no);
				for (size_t i = 0; i < *nnodes && !seen; i++)
					seen = nodes[i].off == no;
				if (seen)
					continue;
				/* counted once: made a member of the set below */
				int q = qualifies(r, no);
				if (q < 0) {
					rc = q;
					break;
				}
				if (oset_add(&r->seen, no)) {
					rc = -ENOMEM;
					break;
				}
				r->st->btree_nodes++;
				if (!q)
					continue;
				struct rb_node *nd = &nodes[(*nnodes)++];
				nd->off = no;
				const struct hammer_node_ondisk *on = c.path[d].node->ondisk;
				nd->key = on->type == HAMMER_BTREE_TYPE_INTERNAL
					  ? on->elms[0].base : el->base;
				if (*nnodes == RB_NODES)
					break;
			}
			if (rc)
				break;
		}
		*pos = el->base;
		rc = hammer_btree_next(&c);
	}
	return maint_cursor_end(m, &c, &e, rc, pos, done);
}

static int move_data(struct rb *r, const struct hammer_btree_leaf_elm *el, void *buf)
{
	struct hammer_mount *m = r->m;
	struct hammer_err e = { 0 };
	size_t len = (size_t)el->data_len;
	int rc = rec_read(m, el, buf, len);
	if (rc == -EUCLEAN) {
		r->st->data_skipped++;	/* bad CRC: left where it is */
		return 0;
	}
	if (rc)
		return rc;
	hammer_off_t noff;
	rc = hammer_blockmap_alloc(m->bm, hammer_zone_of(el->data_offset), (int)len,
				   &noff, &e);
	if (rc)
		return eng_err(m, rc, &e);
	rc = rec_data_write(m, noff, buf, len);
	if (!rc)
		rc = eng_err(m, hammer_btree_set_data(&m->tree, &el->base, noff, &e), &e);
	if (!rc && PLANTED(REBLOCK_SPLIT))
		rc = eng_flush_locked(m, 1);	/* the old bytes stay allocated on disk */
	if (!rc && PLANTED(REBLOCK_SPLIT))
		rc = eng_begin(m);
	if (!rc)
		rc = eng_err(m, hammer_blockmap_free(m->bm, el->data_offset, (int)len, &e), &e);
	if (rc)
		return rc;
	if (el->base.rec_type == HAMMER_RECTYPE_INODE && el->base.delete_tid == 0)
		ino_data_moved(m, el->base.obj_id,
			       el->base.localization & ~HAMMER_LOCALIZE_MASK,
			       el->base.create_tid, noff);
	r->st->data_moves++;
	r->st->data_bytes += len;
	return 0;
}

int hammer_reblock(struct hammer_mount *m, uint32_t pfs_id, unsigned flags,
		   unsigned fill_pct, struct hammer_maint_ctl *ctl,
		   struct hammer_reblock_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (pfs_id > HAMMER_PFS_MAX_ID || !flags || (flags & ~HAMMER_REBLOCK_ALL) ||
	    fill_pct > 100)
		return -EINVAL;
	struct rb r = {
		.m = m, .flags = flags, .st = st,
		.free_level = HAMMER_BIGBLOCK_SIZE -
			      (int32_t)((int64_t)fill_pct * HAMMER_BIGBLOCK_SIZE / 100),
	};
	struct hammer_btree_leaf_elm *recs = malloc(RB_SCAN * sizeof(*recs));
	struct rb_node *nodes = malloc(RB_NODES * sizeof(*nodes));
	void *buf = malloc(HAMMER_XBUFSIZE);
	int rc = 0, done = 0;
	if (!recs || !nodes || !buf)
		rc = -ENOMEM;
	struct hammer_base_elm pos;
	maint_start(ctl, pfs_id, &pos);
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
		size_t nrecs = 0, nnodes = 0;
		if (!rc)
			rc = rb_scan(&r, pfs_id, &pos, &done, recs, &nrecs, nodes, &nnodes);
		/*
		 * eng_begin before every move: a batch may copy far more than
		 * the buffer cache holds, so data is written back (or a cycle
		 * run) between moves, never inside one.
		 */
		for (size_t i = 0; i < nrecs && !rc; i++) {
			rc = eng_begin(m);
			if (!rc)
				rc = move_data(&r, &recs[i], buf);
		}
		for (size_t i = 0; i < nnodes && !rc; i++) {
			hammer_off_t noff;
			rc = eng_begin(m);
			if (rc)
				break;
			struct hammer_err e = { 0 };
			int mr = hammer_btree_move_node(&m->tree, nodes[i].off, &nodes[i].key,
							&noff, &e);
			if (mr == -ENOENT)
				continue;	/* gone with an earlier change */
			rc = eng_err(m, mr, &e);
			if (!rc)
				rc = oset_add(&r.seen, noff);
			if (!rc)
				st->btree_moves++;
		}
		if (rc && rc != -ENOSPC && rc != -EROFS && rc != -ENOENT && rc != -ENOMEM)
			m->broken = 1;
		pthread_mutex_unlock(&m->lock);
	}
	free(r.seen.v);
	free(recs);
	free(nodes);
	free(buf);
	return rc;
}
