/*
 * mount.c - mount, unmount, the flusher, TIDs, statfs.
 *
 * A flush cycle, in DragonFly's order (format digest section 6):
 *   1. dirty inodes become INODE record versions (B-tree changes, UNDO);
 *   2. data buffers are written;
 *   3. (final) the allocator's blockmaps go into the in-memory header, and
 *      the header bytes that changed since the last write are logged as
 *      zone-1 UNDO;
 *   4. the UNDO/REDO buffers are written, then a barrier;
 *   5. the header gets the FIFO range (first, P) and vol0_next_tid, and is
 *      written;
 *   6. the meta-data buffers are written (no barrier: the next cycle's
 *      step 4 is it);
 *   7. (final) first := P in memory, duplicate-UNDO memory cleared, the
 *      allocator may release big-blocks freed two cycles ago.
 * first := P reaches the disk only with the next cycle's header, so a
 * durable sync is two cycles and a barrier (eng_sync_locked).
 *
 * Any failure inside a cycle, or in the middle of a call that changes
 * several records, marks the mount broken: further changes are refused with
 * -EIO and unmount writes nothing, so the disk keeps the last whole cycle
 * (which recovery restores).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "engine.h"
#include "crc.h"
#include "fscheck.h"
#include "planted.h"

void hammer_mount_opts_init(struct hammer_mount_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->fsync_mode = 3;
}

uint64_t eng_now(struct hammer_mount *m)
{
	if (m->o.clock)
		return m->o.clock(m->o.clock_ctx);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

hammer_tid_t eng_alloc_tid(struct hammer_mount *m)
{
	return m->next_tid++;
}

/* Remember the first error for hammer_mount_error(); pass rc through. */
int eng_err(struct hammer_mount *m, int rc, struct hammer_err *e)
{
	if (rc < 0 && m->err.code == 0) {
		if (e && e->code)
			m->err = *e;
		else
			m->err.code = rc;
	}
	return rc;
}

/* ---------------------------------------------------------- REDO */

/* The oldest REDO recovery may still have to run (0: none). */
static hammer_off_t redo_oldest(const struct hammer_mount *m)
{
	if (m->redo_pin)
		return m->redo_pin;
	for (int i = 2; i >= 0; i--)
		if (m->redo_first[i])
			return m->redo_first[i];
	return 0;
}

/*
 * Every cycle whose FIFO range may become recovery's [F, L) must hold a
 * REDO_SYNC while REDOs may be needed: lay one before the cycle's first
 * UNDO, or right after its first REDO.
 */
static int redo_sync_point(struct hammer_mount *m)
{
	if (m->redo_sync_laid || m->in_redo_sync)
		return 0;
	hammer_off_t e0 = redo_oldest(m);
	if (!e0)
		return 0;
	struct hammer_redo_rec r = { 0, e0, HAMMER_REDO_SYNC, 0 };
	struct hammer_err e = { 0 };
	m->in_redo_sync = 1;
	int rc = hammer_undo_redo(m->undo, &r, NULL, 0, NULL, &e);
	m->in_redo_sync = 0;
	if (rc)
		return eng_err(m, rc, &e);
	m->redo_sync_laid = 1;
	return 0;
}

static int term_add(struct hammer_mount *m, const struct eng_redo_term *t)
{
	if (m->nterms == m->terms_cap) {
		size_t ncap = m->terms_cap ? m->terms_cap * 2 : 256;
		struct eng_redo_term *n = realloc(m->terms, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		m->terms = n;
		m->terms_cap = ncap;
	}
	m->terms[m->nterms++] = *t;
	return 0;
}

int eng_redo(struct hammer_mount *m, struct hammer_inode *ip, uint32_t flags,
	     uint64_t off, const void *payload, size_t len)
{
	if (!ip->redo_on || !m->undo || m->version < 4)
		return 0;
	if (flags == HAMMER_REDO_WRITE &&
	    ip->redo_count + len > HAMMER_LIMIT_REDO) {
		ip->redo_on = 0;	/* the next fsync is a full one */
		return 0;
	}
	if (PLANTED(REDO_DROP) && flags == HAMMER_REDO_WRITE)
		return 1;
	const uint8_t *src = payload;
	size_t done = 0;
	do {
		/* one record per piece: a TERM names a piece by its offset */
		size_t n = 0;
		if (flags == HAMMER_REDO_WRITE) {
			n = hammer_undo_redo_room(m->undo);
			if (n > len - done)
				n = len - done;
		}
		struct hammer_redo_rec r = { ip->obj_id, off + done, flags,
					     ip->pfs_loc };
		struct eng_redo_term t = {
			ip->obj_id, ip->pfs_loc,
			flags == HAMMER_REDO_WRITE ? HAMMER_REDO_TERM_WRITE
						   : HAMMER_REDO_TERM_TRUNC,
			off + done, (uint32_t)n
		};
		hammer_off_t where = 0;
		struct hammer_err e = { 0 };
		/* the TERM slot first: a REDO without its TERM could run twice */
		if (term_add(m, &t)) {
			ip->redo_on = 0;
			return 0;
		}
		if (hammer_undo_redo(m->undo, &r, n ? src + done : NULL, n,
				     &where, &e)) {
			m->nterms--;	/* nothing was appended for this piece */
			ip->redo_on = 0;
			return 0;
		}
		if (!m->redo_first[0])
			m->redo_first[0] = where;
		if (redo_sync_point(m)) {
			ip->redo_on = 0;
			return 0;
		}
		done += n;
	} while (done < len);
	if (flags == HAMMER_REDO_WRITE)
		ip->redo_count += len;
	return 1;
}

/* TERMs for every REDO of the cycle being flushed (its meta-data now). */
static int redo_terms(struct hammer_mount *m)
{
	for (size_t i = 0; i < m->nterms; i++) {
		const struct eng_redo_term *t = &m->terms[i];
		struct hammer_redo_rec r = { t->objid, t->offset, t->flags, t->loc };
		struct hammer_err e = { 0 };
		int rc = redo_sync_point(m);
		if (!rc)
			rc = hammer_undo_redo(m->undo, &r, NULL, t->bytes, NULL, &e);
		if (rc)
			return eng_err(m, rc, &e);
	}
	m->nterms = 0;
	return 0;
}

/* UNDO hook: old bytes of a meta-data buffer, before they change. */
static int undo_hook(void *ctx, hammer_off_t zone2, const void *old, size_t len)
{
	struct hammer_mount *m = ctx;
	if (!m->hook_enabled)
		return 0;
	struct hammer_err e = { 0 };
	int rc = redo_sync_point(m);
	if (rc)
		return rc;
	if (PLANTED(UNDO_SKIP)) {
		static unsigned n;
		if (n++ % 4 == 1)
			return 0;
	}
	rc = hammer_undo_log(m->undo, zone2, old, len, &e);
	return eng_err(m, rc, &e);
}

static uint64_t dirty_bytes(struct hammer_mount *m)
{
	struct hammer_bufcache_stats st;
	hammer_bufcache_stats(m->bc, &st);
	uint64_t n = 0;
	for (int k = 0; k < HAMMER_BUF_KINDS; k++)
		n += st.dirty_bytes[k];
	return n;
}

/*
 * Log the header bytes that differ from the last written copy, except what
 * the flusher sets without UNDO (the FIFO range, vol0_next_tid, vol_crc).
 */
static int log_header(struct hammer_mount *m)
{
	uint8_t *a = calloc(2, HAMMER_BUFSIZE);	/* encode wants zeroed buffers */
	if (!a)
		return eng_err(m, -ENOMEM, NULL);
	uint8_t *b = a + HAMMER_BUFSIZE;
	int rc = 0;
	struct hammer_volume_ondisk cur = *hammer_volset_root(m->vs);
	struct hammer_volume_ondisk old = m->hdr_disk;
	/* neutralise the fields written without UNDO */
	cur.vol0_blockmap[HAMMER_ZONE_UNDO_INDEX] =
		old.vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	cur.vol0_next_tid = old.vol0_next_tid;
	hammer_volume_header_encode(&old, a);
	hammer_volume_header_encode(&cur, b);
	size_t crcoff = offsetof(struct hammer_volume_ondisk, vol_crc);
	size_t n = sizeof(struct hammer_volume_ondisk);
	size_t i = 0;
#define DIFFERS(k) (a[k] != b[k] && ((k) < crcoff || (k) >= crcoff + 4))
	while (i < n) {
		if (!DIFFERS(i)) {
			i++;
			continue;
		}
		/* one record per run, bridging gaps of up to 16 equal bytes */
		size_t last = i;
		for (size_t j = i + 1; j < n && j - last <= 16; j++)
			if (DIFFERS(j))
				last = j;
		struct hammer_err e = { 0 };
		hammer_off_t z1 = hammer_encode(HAMMER_ZONE_RAW_VOLUME_INDEX,
						HAMMER_ROOT_VOLNO, i);
		rc = redo_sync_point(m);
		if (rc)
			break;
		rc = hammer_undo_log(m->undo, z1, a + i, last + 1 - i, &e);
		if (rc) {
			eng_err(m, rc, &e);
			break;
		}
		i = last + 1;
	}
#undef DIFFERS
	free(a);
	return rc;
}

int eng_flush_locked(struct hammer_mount *m, int final)
{
	struct hammer_err e = { 0 };
	int rc = 0;
	if (m->readonly || m->broken)
		return m->broken ? -EIO : 0;
	m->in_flush = 1;
	/* 1. inodes */
	while (m->dirty && !rc) {
		struct hammer_inode *ip = m->dirty;
		m->dirty = ip->dnext;
		ip->on_dirty = 0;
		ip->dnext = NULL;
		rc = ino_sync(m, ip);
	}
	/* 1b. (final) the cycle's REDOs are terminated by its meta-data */
	if (!rc && final)
		rc = redo_terms(m);
	/* 2. data */
	if (!rc)
		rc = hammer_bufcache_flush_kind(m->bc, HAMMER_BUF_DATA, &e);
	/* 3. blockmaps and header UNDO */
	struct hammer_volume_ondisk *hdr = hammer_volset_root(m->vs);
	if (!rc && final) {
		hammer_blockmap_store(m->bm);
		rc = log_header(m);
	}
	/* 4. the FIFO, then a barrier */
	hammer_off_t P = hammer_undo_append_point(m->undo);
	if (!rc)
		rc = hammer_bufcache_flush_kind(m->bc, HAMMER_BUF_UNDO, &e);
	if (!rc && !PLANTED(NO_BARRIER))
		rc = hammer_volset_flush(m->vs);
	if (!rc)
		hammer_undo_seal(m->undo);
	/* 5. the volume header */
	if (!rc) {
		struct hammer_blockmap *z3 =
			&hdr->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
		z3->first_offset = hammer_undo_first(m->undo);
		z3->next_offset = P;
		z3->entry_crc = hammer_blockmap_entry_crc(m->version, z3);
		hammer_blockmap_set_entry(m->bm, HAMMER_ZONE_UNDO_INDEX, z3);
		if (hdr->vol0_next_tid < m->next_tid)
			hdr->vol0_next_tid = m->next_tid;
		rc = hammer_volset_write_header(m->vs, HAMMER_ROOT_VOLNO, &e);
	}
	/* 6. meta-data */
	if (!rc)
		rc = hammer_bufcache_flush_kind(m->bc, HAMMER_BUF_META, &e);
	m->in_flush = 0;
	if (rc) {
		m->broken = 1;
		return eng_err(m, rc, &e);
	}
	m->hdr_disk = *hdr;
	m->cycles++;
	/* 7. the cycle is over */
	if (final) {
		hammer_undo_set_first(m->undo, P);
		hammer_undo_cycle_end(m->undo);
		m->redo_first[2] = m->redo_first[1];
		m->redo_first[1] = m->redo_first[0];
		m->redo_first[0] = 0;
		m->redo_sync_laid = 0;
		m->redo_gen++;
		if (m->cycle_tid)
			m->flush_tid = m->cycle_tid;
		m->cycle_tid = 0;
		pthread_cond_broadcast(&m->flush_cv);
		uint64_t done = hammer_blockmap_seq(m->bm);
		hammer_blockmap_advance(m->bm, done);
		ino_cache_trim(m);
	}
	return 0;
}

int eng_sync_locked(struct hammer_mount *m)
{
	return eng_sync2(m, 1);
}

/* Two cycles; barrier: end with a disk cache flush (fsync_mode 1 does not). */
int eng_sync2(struct hammer_mount *m, int barrier)
{
	if (m->readonly)
		return 0;
	if (m->broken)
		return -EIO;
	int rc = eng_flush_locked(m, 1);
	if (!rc)
		rc = eng_flush_locked(m, 1);
	if (!rc && barrier) {
		rc = hammer_volset_flush(m->vs);
		if (rc) {
			m->broken = 1;
			eng_err(m, rc, NULL);
		}
	}
	if (!rc && barrier)
		m->synced = 1;
	return rc;
}

/*
 * Write the dirty large-data buffers now, outside a cycle.  Every one of
 * them holds a block allocated in the open cycle (large data is never
 * rewritten once a cycle committed it, and big-blocks are reused only two
 * cycles after their last free), so nothing durable refers to those bytes
 * yet: a crash recovers to a state that does not see them, exactly as if
 * step 2 of the coming cycle had written them.  DragonFly does the same
 * (its direct writes go out when the buffer cache writes the buffer, and
 * the flusher later commits the records).
 */
static int data_writeback(struct hammer_mount *m)
{
	struct hammer_err e = { 0 };
	int rc = hammer_bufcache_flush_kind(m->bc, HAMMER_BUF_DATA, &e);
	if (rc) {
		m->broken = 1;
		return eng_err(m, rc, &e);
	}
	m->early_data_writes++;
	return 0;
}

/*
 * Before a change, when memory or the FIFO is getting full.  Over the dirty
 * limit, the data goes out on its own first; a cycle runs only once the
 * rest (nodes, meta-data, FIFO) holds half the limit.  Random overwrites
 * thus cost one cycle per half-limit of B-tree and FIFO, not per limit of
 * data.
 */
int eng_maybe_flush(struct hammer_mount *m)
{
	uint64_t fifo = hammer_undo_size(m->undo);
	if (hammer_undo_free_bytes(m->undo) < fifo / 2)
		return eng_sync_locked(m);	/* two cycles free the FIFO */
	struct hammer_bufcache_stats st;
	hammer_bufcache_stats(m->bc, &st);
	uint64_t data = st.dirty_bytes[HAMMER_BUF_DATA];
	uint64_t rest = st.dirty_bytes[HAMMER_BUF_META] +
			st.dirty_bytes[HAMMER_BUF_UNDO];
	if (data + rest <= m->o.dirty_limit)
		return 0;
	if (rest > m->o.dirty_limit / 2 || !data)
		return eng_flush_locked(m, 1);
	return data_writeback(m);
}

int eng_begin(struct hammer_mount *m)
{
	if (m->readonly)
		return -EROFS;
	if (m->broken)
		return -EIO;
	int rc = eng_maybe_flush(m);
	if (rc)
		return rc;
	if (!m->cycle_tid)
		m->cycle_tid = eng_alloc_tid(m);
	m->synced = 0;
	return 0;
}

/* ---------------------------------------------------------- mount */

static hammer_tid_t tid_floor(struct hammer_mount *m)
{
	/* strictly above vol0_next_tid and every TID in the tree */
	hammer_tid_t t = hammer_volset_root(m->vs)->vol0_next_tid;
	struct hammer_node *n;
	struct hammer_err e = { 0 };
	if (m->io.ops->get(m->io.ctx, m->tree.root, &n, NULL, &e) == 0) {
		if (n->ondisk->mirror_tid > t)
			t = n->ondisk->mirror_tid;
		if (n->ondisk->type == HAMMER_BTREE_TYPE_LEAF) {
			for (int i = 0; i < n->ondisk->count; i++) {
				const struct hammer_base_elm *b =
					&n->ondisk->elms[i].leaf.base;
				if (b->create_tid > t)
					t = b->create_tid;
				if (b->delete_tid > t)
					t = b->delete_tid;
			}
		}
		m->io.ops->put(m->io.ctx, n);
	}
	return t + 1;
}

static void mount_free(struct hammer_mount *m)
{
	ino_cache_free(m);
	file_scratch_free(m);
	free(m->terms);
	free(m->ocache);
	free(m->asofs);
	free(m->asof_hidx);
	pfs_free(m);
	if (m->undo)
		hammer_undo_close(m->undo);
	if (m->bio)
		hammer_btree_bufio_close(m->bio);
	if (m->bm)
		hammer_blockmap_close(m->bm);
	if (m->bc)
		hammer_bufcache_close(m->bc);
	if (m->vs)
		hammer_volset_close(m->vs);
	pthread_cond_destroy(&m->flusher_cv);
	pthread_cond_destroy(&m->flush_cv);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* ---------------------------------------------------------- stage 2 */

struct redo_item {
	struct hammer_redo_rec r;
	size_t len;
	uint8_t *data;
};

struct redo_list {
	struct redo_item *v;
	size_t n, cap;
};

static int redo_collect(void *ctx, const struct hammer_redo_rec *r,
			const void *payload, size_t len)
{
	struct redo_list *l = ctx;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct redo_item *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	struct redo_item *it = &l->v[l->n];
	it->r = *r;
	it->len = payload ? len : 0;
	it->data = NULL;
	if (it->len) {
		it->data = malloc(it->len);
		if (!it->data)
			return -ENOMEM;
		memcpy(it->data, payload, it->len);
	}
	l->n++;
	return 0;
}

/* Re-execute one REDO as a normal write or truncate.  1: not applicable. */
static int redo_exec(struct hammer_mount *m, const struct redo_item *it)
{
	if (it->r.objid < 1 ||
	    (it->r.localization & ~HAMMER_LOCALIZE_PSEUDOFS_MASK) != 0)
		return 1;
	struct hammer_inode *ip;
	int rc = ino_live(m, it->r.objid, it->r.localization, &ip);
	if (rc == -ENOENT || rc == -ESTALE)
		return 1;	/* removed later: its REDO is moot */
	if (rc)
		return rc;
	if (ip->d.obj_type != HAMMER_OBJTYPE_REGFILE || (ip->flags & INO_GONE))
		return 1;
	rc = eng_begin(m);
	if (rc)
		return rc;
	ip->opens++;
	if (it->r.flags == HAMMER_REDO_WRITE) {
		size_t done = 0;
		if (it->r.offset > HAMMER_FILE_MAX ||
		    it->len > HAMMER_FILE_MAX - it->r.offset)
			rc = 1;
		else
			rc = file_write_locked(m, ip, it->r.offset, it->data,
					       it->len, &done);
	} else if (it->r.offset > HAMMER_FILE_MAX) {
		rc = 1;
	} else {
		rc = file_truncate(m, ip, it->r.offset);
		if (rc)
			m->broken = 1;
	}
	ip->opens--;
	if (rc == 0) {
		ip->d.mtime = ip->d.ctime = eng_now(m);
		ino_dirty(m, ip, INO_DIRTY);
	}
	return rc;
}

/*
 * Stage 2 (format digest 5.5): collect the REDOs stage 1 found a
 * REDO_SYNC for (all of them first: re-executing appends to the FIFO),
 * re-execute them, then a durable sync.  A crash before that sync ends
 * recovers the same way again: the header still names the same range.
 * skip_redo 1 goes on past errors, 0 fails the mount on them.
 */
static int redo_stage2(struct hammer_mount *m, struct hammer_err *err)
{
	struct redo_list l = { 0 };
	struct hammer_err e = { 0 };
	int rc = hammer_recover_redo_scan(m->vs, m->bc, &m->rinfo, redo_collect,
					  &l, &e);
	if (rc && m->o.skip_redo == 0) {
		if (e.code)
			*err = e;
		else
			HAMMER_ERR(err, rc, m->rinfo.redo_start,
				   "cannot collect the REDO records");
		goto out;
	}
	rc = 0;
	m->redo_pin = m->rinfo.redo_start;
	for (size_t i = 0; i < l.n && !rc; i++) {
		int x = redo_exec(m, &l.v[i]);
		if (x == 0)
			m->redo_replayed++;
		else if (x > 0 || m->o.skip_redo == 1)
			m->redo_skipped++;
		else
			rc = m->err.code ? (*err = m->err, x) :
			     HAMMER_ERR(err, x, ~0ULL, "REDO of object %lld at "
					"offset %llu failed",
					(long long)l.v[i].r.objid,
					(unsigned long long)l.v[i].r.offset);
	}
	if (!rc && (m->cycle_tid || m->dirty)) {
		rc = eng_sync_locked(m);
		if (rc)
			HAMMER_ERR(err, rc, ~0ULL, "cannot sync after REDO recovery");
	}
	m->redo_pin = 0;
out:
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].data);
	free(l.v);
	return rc;
}

static int mount_common(struct hammer_mount *m, struct hammer_err *err)
{
	int rc;
	struct hammer_recover_info ri;

	m->version = m->vs->version;
	uint64_t cache = m->o.cache_bytes ? m->o.cache_bytes
					  : HAMMER_BUFCACHE_DEFAULT;
	if (cache < HAMMER_BUFCACHE_MIN)
		cache = HAMMER_BUFCACHE_MIN;
	m->o.cache_bytes = cache;
	if (!m->o.dirty_limit)
		m->o.dirty_limit = cache / 4;
	if (m->o.dirty_limit > cache / 2)
		m->o.dirty_limit = cache / 2;
	rc = hammer_bufcache_open(m->vs, cache, &m->bc);
	if (rc)
		return HAMMER_ERR(err, rc, ~0ULL, "cannot set up the buffer cache");
	rc = hammer_recover_stage1(m->vs, m->bc, &ri, err);
	if (rc)
		return rc;
	m->rinfo = ri;
	rc = hammer_blockmap_open(m->vs, m->bc, &m->bm, err);
	if (rc)
		return rc;
	rc = hammer_btree_bufio_open(m->vs, m->bc, m->bm, &m->bio, &m->io);
	if (rc)
		return HAMMER_ERR(err, rc, ~0ULL, "cannot set up B-tree I/O");
	hammer_btree_open(&m->tree, &m->io, hammer_volset_root(m->vs)->vol0_btree_root);
	if (!hammer_btree_off_ok(m->tree.root))
		return HAMMER_CORRUPT(err, m->tree.root,
				      "vol0_btree_root %016llx is not a B-tree node address",
				      (unsigned long long)m->tree.root);
	m->next_tid = tid_floor(m);
	/* what is on disk at mount is durable: every TID below next_tid */
	m->flush_tid = m->next_tid - 1;
	m->synced = 1;		/* nothing to write until the first change */
	m->hdr_disk = *hammer_volset_root(m->vs);
	if (!m->readonly) {
		rc = hammer_undo_open(m->vs, m->bc, &m->undo, err);
		if (rc)
			return rc;
		struct hammer_buffer_hooks h = { undo_hook, m };
		hammer_bufcache_set_hooks(m->bc, &h);
		m->hook_enabled = 1;
	}
	/* the root directory must be there */
	struct hammer_inode_data d;
	rc = ino_load(m, 1, 0, m->o.asof ? m->o.asof : ASOF_LIVE, &d, NULL);
	if (rc == -ENOENT)
		return HAMMER_CORRUPT(err, m->tree.root,
				      "no root directory inode (object 1)");
	if (rc)
		return m->err.code ? (*err = m->err, rc) : HAMMER_ERR(err, rc, ~0ULL,
				"cannot read the root directory inode");
	if (d.obj_type != HAMMER_OBJTYPE_DIRECTORY)
		return HAMMER_CORRUPT(err, ~0ULL, "object 1 is not a directory");
	rc = pfs_load(m);
	if (rc)
		return m->err.code ? (*err = m->err, rc) : HAMMER_ERR(err, rc, ~0ULL,
				"cannot read the PFS records");
	if (!m->readonly && ri.redo_needed && m->o.skip_redo != 2 &&
	    m->version >= 4) {
		rc = redo_stage2(m, err);
		if (rc)
			return rc;
	}
	rc = pfs_resume(m);
	if (rc)
		return m->err.code ? (*err = m->err, rc) : HAMMER_ERR(err, rc, ~0ULL,
				"cannot finish an interrupted PFS destroy");
	return 0;
}

static int mount_alloc(const struct hammer_mount_opts *o, struct hammer_mount **mp)
{
	struct hammer_mount *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (o)
		m->o = *o;
	else
		hammer_mount_opts_init(&m->o);
	if (m->o.fsync_mode < 0 || m->o.fsync_mode > 4 || m->o.skip_redo < 0 ||
	    m->o.skip_redo > 2) {
		free(m);
		return -EINVAL;
	}
	if (m->o.asof)
		m->o.readonly = 1;
	m->readonly = m->o.readonly;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->flusher_cv, NULL);
	pthread_cond_init(&m->flush_cv, NULL);
	*mp = m;
	return 0;
}

int hammer_mount(const char *spec, const struct hammer_mount_opts *o,
		 struct hammer_mount **out, struct hammer_err *err)
{
	struct hammer_mount *m;
	*out = NULL;
	int rc = mount_alloc(o, &m);
	if (rc)
		return HAMMER_ERR(err, rc, ~0ULL, "bad mount options");
	rc = hammer_volset_open(spec, m->readonly ? HAMMER_VOLSET_RDONLY : 0,
				&m->vs, err);
	if (!rc)
		rc = mount_common(m, err);
	if (rc) {
		mount_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int hammer_mount_bdevs(struct hammer_bdev **bds, int n,
		       const struct hammer_mount_opts *o,
		       struct hammer_mount **out, struct hammer_err *err)
{
	struct hammer_mount *m;
	*out = NULL;
	int rc = mount_alloc(o, &m);
	if (rc) {
		for (int i = 0; i < n; i++)
			hammer_bdev_close(bds[i]);
		return HAMMER_ERR(err, rc, ~0ULL, "bad mount options");
	}
	rc = hammer_volset_open_bdevs(bds, n, m->readonly ? HAMMER_VOLSET_RDONLY : 0,
				      &m->vs, err);
	if (!rc)
		rc = mount_common(m, err);
	if (rc) {
		mount_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int hammer_unmount(struct hammer_mount *m)
{
	if (!m)
		return 0;
	hammer_flusher_stop(m);
	pthread_mutex_lock(&m->lock);
	int rc = 0;
	if (!m->readonly && !m->broken) {
		/* unlinked files still open go now */
		rc = ino_release_all(m);
		if (!rc && !(m->synced && !m->dirty && !m->cycle_tid))
			rc = eng_sync_locked(m);
	} else if (m->broken) {
		rc = -EIO;
	}
	pthread_mutex_unlock(&m->lock);
	mount_free(m);
	return rc;
}

const struct hammer_err *hammer_mount_error(const struct hammer_mount *m)
{
	return &m->err;
}

/* ---------------------------------------------------------- sync */

int hammer_flush(struct hammer_mount *m)
{
	pthread_mutex_lock(&m->lock);
	int rc = eng_flush_locked(m, 1);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_sync(struct hammer_mount *m)
{
	pthread_mutex_lock(&m->lock);
	int rc = eng_sync_locked(m);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/*
 * fsync per fsync_mode (format digest section 6):
 *   0  two cycles and a disk cache flush;
 *   1  two cycles, no final cache flush (durable at the next barrier);
 *   2  REDO: once an fsync has switched REDO on for the file, its writes
 *      and truncates lay REDO records and an fsync writes only the FIFO,
 *      then flushes the disk cache; anything REDO cannot replay (a new
 *      inode, other attribute changes, the per-file limit) means mode 0;
 *   3  as 2 without the cache flushes (relaxed: as durable as mode 1);
 *   4  nothing.
 * Versions below 4 have no REDO: 2 acts as 0 and 3 as 1.
 */
int hammer_fsync(struct hammer_mount *m, hammer_ino_t ino, int datasync)
{
	(void)datasync;		/* data and attributes go together */
	struct eng_view v;
	pthread_mutex_lock(&m->lock);
	int rc = eng_view(m, ino, &v);
	int mode = m->o.fsync_mode;
	if (rc || mode == 4 || m->readonly || !v.ip)
		goto out;
	if (m->broken) {
		rc = -EIO;
		goto out;
	}
	if (m->version < 4 && mode >= 2)
		mode -= 2;
	if (mode >= 2) {
		struct hammer_inode *ip = v.ip;
		if (ip->redo_on && !(ip->flags & INO_NEW) &&
		    ip->noredo_gen <= m->redo_gen) {
			/* the fast path: the FIFO holds everything needed */
			struct hammer_err e = { 0 };
			rc = hammer_bufcache_flush_kind(m->bc, HAMMER_BUF_UNDO, &e);
			if (!rc && mode == 2)
				rc = hammer_volset_flush(m->vs);
			if (rc) {
				m->broken = 1;
				eng_err(m, rc, &e);
				goto out;
			}
			/* records now on disk are never rewritten */
			hammer_undo_seal(m->undo);
			ip->redo_count = 0;
			m->fast_fsyncs++;
			goto out;
		}
		ip->redo_on = 1;
		ip->redo_count = 0;
		ip->opens++;	/* keep the REDO state through the flush */
		rc = eng_sync2(m, mode == 2);
		ip->opens--;
		goto out;
	}
	rc = eng_sync2(m, mode == 0);
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_synctid(struct hammer_mount *m, hammer_tid_t *tid)
{
	pthread_mutex_lock(&m->lock);
	int rc = 0;
	if (!m->readonly) {
		if (!m->broken && !m->cycle_tid)
			m->cycle_tid = eng_alloc_tid(m);
		rc = eng_sync_locked(m);
	}
	*tid = m->readonly ? (m->o.asof ? m->o.asof : m->next_tid - 1)
			   : m->flush_tid;
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static void *flusher_main(void *arg)
{
	struct hammer_mount *m = arg;
	pthread_mutex_lock(&m->lock);
	while (!m->flusher_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)m->flusher_ms * 1000000u;
		ts.tv_sec += (time_t)(ns / 1000000000u);
		ts.tv_nsec = (long)(ns % 1000000000u);
		pthread_cond_timedwait(&m->flusher_cv, &m->lock, &ts);
		if (m->flusher_stop)
			break;
		if (m->cycle_tid || m->dirty)
			eng_flush_locked(m, 1);
		else if (!m->synced && !m->broken)
			eng_sync_locked(m);	/* idle: make the last cycle durable */
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int hammer_flusher_start(struct hammer_mount *m, unsigned interval_ms)
{
	if (m->readonly)
		return 0;
	if (m->flusher_running)
		return -EBUSY;
	m->flusher_ms = interval_ms ? interval_ms : 30000;
	m->flusher_stop = 0;
	if (pthread_create(&m->flusher, NULL, flusher_main, m))
		return -EAGAIN;
	m->flusher_running = 1;
	return 0;
}

void hammer_flusher_stop(struct hammer_mount *m)
{
	if (!m->flusher_running)
		return;
	pthread_mutex_lock(&m->lock);
	m->flusher_stop = 1;
	pthread_cond_broadcast(&m->flusher_cv);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->flusher, NULL);
	m->flusher_running = 0;
}

/* ---------------------------------------------------------- info */

int hammer_check(struct hammer_mount *m, unsigned flags,
		 struct hammer_fscheck_report *r, struct hammer_err *err)
{
	struct hammer_fscheck_opts fo;
	hammer_fscheck_opts_init(&fo);
	fo.flags = flags;
	pthread_mutex_lock(&m->lock);
	/* records of the open cycle carry TIDs the header does not know yet */
	fo.next_tid = m->next_tid;
	fo.tree = &m->tree;
	int rc = 0;
	while (m->dirty && !rc && !m->readonly && !m->broken) {
		struct hammer_inode *ip = m->dirty;
		m->dirty = ip->dnext;
		ip->on_dirty = 0;
		ip->dnext = NULL;
		rc = ino_sync(m, ip);
	}
	if (!rc)
		rc = hammer_fscheck(m->vs, m->bc, &fo, r, err);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_statfs(struct hammer_mount *m, struct hammer_statfs *st)
{
	pthread_mutex_lock(&m->lock);
	const struct hammer_volume_ondisk *h = hammer_volset_root(m->vs);
	uint64_t per = HAMMER_BIGBLOCK_SIZE / HAMMER_BUFSIZE;
	memset(st, 0, sizeof(*st));
	st->bsize = HAMMER_BUFSIZE;
	st->blocks = (uint64_t)h->vol0_stat_bigblocks * per;
	st->bfree = (uint64_t)h->vol0_stat_freebigblocks * per;
	st->bavail = st->bfree;
	st->files = (uint64_t)h->vol0_stat_inodes;
	st->ffree = st->bfree;	/* inodes are not preallocated */
	st->namemax = HAMMER_NAME_MAX;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int hammer_mount_info(struct hammer_mount *m, struct hammer_mount_info *mi)
{
	pthread_mutex_lock(&m->lock);
	const struct hammer_volume_ondisk *h = hammer_volset_root(m->vs);
	memset(mi, 0, sizeof(*mi));
	mi->version = m->version;
	mi->nvolumes = m->vs->count;
	mi->readonly = m->readonly;
	mi->next_tid = m->next_tid;
	mi->flush_tid = m->flush_tid;
	mi->flush_cycles = m->cycles;
	mi->dirty_bytes = dirty_bytes(m);
	mi->fast_fsyncs = m->fast_fsyncs;
	mi->data_writebacks = m->early_data_writes;
	const struct hammer_blockmap *z3 = &h->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	uint64_t end = z3->alloc_offset & HAMMER_OFF_LONG_MASK;
	uint64_t first = z3->first_offset & HAMMER_OFF_LONG_MASK;
	uint64_t next = (m->undo ? hammer_undo_append_point(m->undo)
				 : z3->next_offset) & HAMMER_OFF_LONG_MASK;
	mi->undo_size = m->undo ? hammer_undo_size(m->undo) : end;
	mi->undo_used = first <= next ? next - first : end - first + next;
	mi->redo_replayed = m->redo_replayed;
	mi->redo_skipped = m->redo_skipped;
	memcpy(mi->label, h->vol_label, sizeof(mi->label) - 1);
	mi->fsid = h->vol_fsid;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int hammer_pfs_get(struct hammer_mount *m, uint32_t pfs_id,
		   struct hammer_pseudofs_data *out, struct hammer_err *err)
{
	if (pfs_id > 0xFFFFu)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&m->lock);
	struct hammer_btree_leaf_elm el;
	int had_err = m->err.code != 0;
	int rc = rec_lookup(m, HAMMER_LOCALIZE_MISC, 1, HAMMER_RECTYPE_PFS,
			    (int64_t)pfs_id << 16, m->o.asof ? m->o.asof : ASOF_LIVE,
			    &el);
	if (!rc) {
		size_t n = el.data_len < (int32_t)sizeof(*out) ?
			   (size_t)(el.data_len < 0 ? 0 : el.data_len) : sizeof(*out);
		rc = rec_read(m, &el, out, n);
	}
	/* the mount keeps its first error; this call's is the one to report */
	if (rc && rc != -ENOENT && err && !had_err && m->err.code)
		*err = m->err;
	pthread_mutex_unlock(&m->lock);
	if (rc) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	hammer_pfsd_swap(out);
	if (out->mirror_flags & HAMMER_PFSD_DELETED) {
		memset(out, 0, sizeof(*out));
		return -ENOENT;
	}
	return 0;
}
