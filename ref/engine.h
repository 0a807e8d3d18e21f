/*
 * engine.h - internals shared by the engine's files (mount.c, inode.c,
 * dir.c, file.c).  Not part of the public API (that is hammer.h).
 *
 * The model.  HAMMER keeps front-end changes in memory and lets the flusher
 * turn them into B-tree records.  Here the in-memory state is two things:
 *   - inodes (struct hammer_inode): their attributes change in memory only
 *     and become an INODE record version when a flush cycle syncs them;
 *   - dirty buffers: directory entries and file data go into the B-tree as
 *     soon as the call happens, but the B-tree nodes, the freemap and the
 *     data live in buffers that only the flusher writes, and every change to
 *     a meta-data buffer first logs its old bytes in the UNDO FIFO (the
 *     buffer cache's before_modify hook).
 * Every record written in one flush cycle carries that cycle's TID
 * (m->cycle_tid, taken at the first change of the cycle).  Replacing a
 * record created in the same cycle removes it physically, so no record ever
 * has delete_tid == create_tid.  A flush cycle runs under the mount lock,
 * between calls, so what reaches the disk is always a whole number of calls.
 */
#ifndef HAMMER_ENGINE_H
#define HAMMER_ENGINE_H

#include <pthread.h>
#include <string.h>

#include "blockmap.h"
#include "btree.h"
#include "btree_bufio.h"
#include "buffer.h"
#include "hammer.h"
#include "undo.h"
#include "volume.h"

/* inode flags */
#define INO_DIRTY	0x1u	/* needs a new INODE record version */
#define INO_TDIRTY	0x2u	/* only atime/mtime changed: update in place */
#define INO_NEW		0x4u	/* no INODE record on disk yet */
#define INO_GONE	0x8u	/* nlinks 0: remove at last release */
#define INO_DESTROYED	0x10u	/* records removed; the handle is dead */
#define INO_REDONE	0x20u	/* ino_dirty only: the change is covered by REDO */

/* Per-file REDO limit between fsyncs (vfs.hammer.limit_redo). */
#define HAMMER_LIMIT_REDO	(4u << 20)

/* A REDO laid in the open cycle, to be terminated when the cycle flushes. */
struct eng_redo_term {
	int64_t objid;
	uint32_t loc;
	uint32_t flags;			/* HAMMER_REDO_TERM_WRITE or _TERM_TRUNC */
	uint64_t offset;
	uint32_t bytes;
};

struct hammer_inode {
	int64_t obj_id;
	uint32_t pfs_loc;		/* pfs_id << 16 */
	struct hammer_inode_data d;	/* host order; what getattr reports */
	hammer_tid_t rec_tid;		/* create_tid of the INODE record on disk */
	hammer_off_t rec_data;		/* its data_offset */
	unsigned flags;
	int opens;
	/*
	 * REDO (fsync_mode 2 and 3): redo_on after the first fsync; writes and
	 * truncates then lay REDO records, and an fsync only writes the FIFO
	 * unless the inode has changes REDO cannot replay (noredo_gen above
	 * m->redo_gen: such a change is durable only after two final cycles).
	 */
	int redo_on;
	uint64_t redo_count;		/* REDO payload bytes since the last fsync */
	uint64_t noredo_gen;
	struct hammer_inode *hnext;
	struct hammer_inode *dnext;	/* dirty list */
	int on_dirty;
};

/*
 * Object ids come in blocks of 1024 reserved from the TID space for one
 * directory; the slot is picked from the top bits of the name's namekey,
 * so a directory's objects sit together and ids follow name order.
 */
#define OBJID_BULK		1024
#define OBJID_CACHES		256
struct eng_objid_cache {
	int64_t dir;			/* directory obj_id (0: free slot) */
	uint32_t dir_loc;
	hammer_tid_t base;		/* first id of the block */
	unsigned count;			/* ids handed out */
	uint64_t used;			/* LRU clock */
	uint32_t bm0;			/* bit i: word i of bm1 is full */
	uint32_t bm1[32];
};

/* An object seen as of a TID. */
struct hammer_asof_obj {
	int64_t obj_id;
	uint32_t pfs_loc;
	hammer_tid_t asof;
};

struct hammer_mount {
	pthread_mutex_t lock;
	struct hammer_mount_opts o;
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	struct hammer_bmap *bm;
	struct hammer_btree_bufio *bio;
	struct hammer_node_io io;
	struct hammer_btree tree;
	struct hammer_undo *undo;
	unsigned version;
	int readonly;

	hammer_tid_t next_tid;		/* TID and obj_id allocator */
	hammer_tid_t cycle_tid;		/* TID of the open cycle, 0 if none */
	hammer_tid_t flush_tid;		/* TID of the last finalized cycle */
	uint64_t cycles;
	uint64_t flush_seq;		/* for delayed reuse of big-blocks */
	int in_flush;
	int synced;			/* nothing changed since the last durable sync */
	int hook_enabled;

	/* header copy as last written: UNDO for header fields is a diff */
	struct hammer_volume_ondisk hdr_disk;

	/* live inode cache */
	struct hammer_inode **ihash;
	size_t ihash_size, ninodes;
	struct hammer_inode *dirty;	/* dirty inode list */

	/* object id blocks per directory (dir.c, objid_alloc) */
	struct eng_objid_cache *ocache;
	size_t nocache;
	uint64_t ocache_clock;

	/* as-of handles: index = handle & ~HAMMER_INO_ASOF_BIT, from 1 */
	struct hammer_asof_obj *asofs;
	size_t nasofs, asofs_cap;
	uint32_t *asof_hidx;		/* open addressing: index + 1, 0 = free */
	size_t asof_hcap;

	/* PFSs (pfs.c): PFS_* flags per id, and hold counts (PFS mounts) */
	uint8_t *pfs_state;
	uint32_t *pfs_hold;

	/*
	 * REDO bookkeeping.  redo_first[0] is the FIFO address of the first
	 * REDO of the open cycle, [1] and [2] of the last two final cycles (0:
	 * none).  A REDO_SYNC names the oldest of them: recovery may start as
	 * far back as the cycle before the last one (its header may be the
	 * last durable one), and TERMs keep older REDOs from running twice.
	 */
	hammer_off_t redo_first[3];
	int redo_sync_laid;		/* this cycle has its REDO_SYNC */
	int in_redo_sync;
	uint64_t redo_gen;		/* final cycles completed */
	struct eng_redo_term *terms;	/* REDOs of the open cycle */
	size_t nterms, terms_cap;
	struct hammer_recover_info rinfo;	/* what stage 1 found */
	/*
	 * During stage 2: the start of the REDOs being re-executed.  Every
	 * cycle until stage 2's sync completes names it in its REDO_SYNC, so
	 * a crash after a flush in the middle of re-execution (dirty limit,
	 * FIFO space) still replays them all.
	 */
	hammer_off_t redo_pin;
	uint64_t redo_replayed, redo_skipped;	/* stage 2 counts */
	uint64_t fast_fsyncs;			/* fsyncs that wrote only the FIFO */
	uint64_t early_data_writes;		/* data write-backs outside a cycle */
	struct file_scratch *fscratch;		/* file.c's per-call scratch */
	/* file.c's read-ahead: the last few sequential readers */
	struct eng_ra {
		int64_t obj;
		uint32_t pfs_loc;
		hammer_tid_t asof;
		uint64_t next;		/* where the next sequential read starts */
		uint64_t ahead;		/* prefetched up to this file offset */
		uint64_t window;	/* grows while the reads stay sequential */
		uint64_t used;		/* for replacing the least recent */
	} ra[4];
	uint64_t ra_clock;

	struct hammer_err err;		/* first error (corruption) seen */
	int broken;			/* a flush failed: refuse further writes */

	/* background flusher */
	pthread_t flusher;
	pthread_cond_t flusher_cv;
	pthread_cond_t flush_cv;	/* broadcast when a final cycle ends */
	int flusher_running, flusher_stop;
	unsigned flusher_ms;
};

#define ASOF_LIVE	(~(hammer_tid_t)0)
/* Largest file size: DATA keys are signed end offsets. */
#define HAMMER_FILE_MAX	(0x7FFFFFFFFFFFFFFFULL - 0xFFFFULL)

/* An object as a call sees it: live (ip set) or as of a TID (ip NULL). */
struct eng_view {
	hammer_ino_t h;
	int64_t obj;
	uint32_t pfs_loc;
	hammer_tid_t asof;		/* ASOF_LIVE for live objects */
	hammer_tid_t ctid;		/* create_tid of the INODE record */
	struct hammer_inode *ip;
	struct hammer_inode_data d;
};
int eng_view(struct hammer_mount *m, hammer_ino_t h, struct eng_view *v);
void eng_view_attr(struct hammer_mount *m, const struct eng_view *v,
		   struct hammer_attr *a);

/* mount.c */
int eng_begin(struct hammer_mount *m);		/* open a cycle if needed */
uint64_t eng_now(struct hammer_mount *m);	/* microseconds */
hammer_tid_t eng_alloc_tid(struct hammer_mount *m);
int eng_flush_locked(struct hammer_mount *m, int final);
int eng_sync_locked(struct hammer_mount *m);
int eng_maybe_flush(struct hammer_mount *m);
int eng_err(struct hammer_mount *m, int rc, struct hammer_err *e);
/*
 * Lay a REDO record for a live inode (WRITE: payload = the bytes written at
 * off; TRUNC: off = the new size).  Never fails the caller's change: if the
 * FIFO cannot take it, REDO is switched off for the inode (its next fsync
 * is a full one).  Returns 1 when the change is covered by REDO.
 */
int eng_redo(struct hammer_mount *m, struct hammer_inode *ip, uint32_t flags,
	     uint64_t off, const void *payload, size_t len);
int eng_sync2(struct hammer_mount *m, int barrier);

/* records (inode.c) */
int rec_lookup(struct hammer_mount *m, uint32_t loc, int64_t obj, uint16_t rtype,
	       int64_t key, hammer_tid_t asof, struct hammer_btree_leaf_elm *out);
int rec_insert(struct hammer_mount *m, uint32_t loc, int64_t obj, uint16_t rtype,
	       int64_t key, uint8_t obj_type, const void *data, size_t len,
	       struct hammer_btree_leaf_elm *out);
/*
 * nohist: 0 keep history (mark deleted), 1 remove physically (mirror_tid
 * still raised so mirrors see it), 2 remove physically, no mirror_tid
 * (PFS teardown).
 */
int rec_remove(struct hammer_mount *m, const struct hammer_btree_leaf_elm *e,
	       int nohist);
int rec_prepare(struct hammer_mount *m, uint32_t loc, int64_t obj,
		uint16_t rtype, int64_t key, uint8_t obj_type, const void *data,
		size_t len, struct hammer_btree_leaf_elm *el);
int rec_commit(struct hammer_mount *m, struct hammer_btree_leaf_elm *el);
/*
 * rec_prepare in two steps, for callers that build the data in its buffer:
 * rec_alloc fills the element and allocates data_len bytes (unwritten);
 * rec_seal sets data_crc from the final bytes.
 */
int rec_alloc(struct hammer_mount *m, uint32_t loc, int64_t obj,
	      uint16_t rtype, int64_t key, uint8_t obj_type, size_t len,
	      struct hammer_btree_leaf_elm *el);
void rec_seal(struct hammer_mount *m, struct hammer_btree_leaf_elm *el,
	      const void *data);
/* The zone a record's data goes to; write data at a fresh allocation. */
unsigned rec_data_zone(uint16_t rtype, size_t len);
int rec_data_write(struct hammer_mount *m, hammer_off_t off, const void *data,
		   size_t len);
/* fn returns 0 to go on, > 0 to stop; it must not change the tree. */
typedef int (*rec_visit_fn)(void *ctx, const struct hammer_btree_leaf_elm *el);
int rec_scan(struct hammer_mount *m, uint32_t loc, int64_t obj,
	     uint16_t rt_lo, uint16_t rt_hi, int64_t kbeg, int64_t kend,
	     hammer_tid_t asof, rec_visit_fn fn, void *ctx);
int rec_read(struct hammer_mount *m, const struct hammer_btree_leaf_elm *e,
	     void *buf, size_t len);
int rec_rewrite(struct hammer_mount *m, struct hammer_btree_leaf_elm *e,
		const void *data, size_t len);

/* inodes (inode.c) */
int ino_get(struct hammer_mount *m, hammer_ino_t h, struct hammer_inode **ip,
	    struct hammer_asof_obj *asof_out);
int ino_load(struct hammer_mount *m, int64_t obj, uint32_t pfs_loc,
	     hammer_tid_t asof, struct hammer_inode_data *d,
	     struct hammer_btree_leaf_elm *rec);
struct hammer_inode *ino_new(struct hammer_mount *m, int64_t obj_id,
			     uint32_t pfs_loc);
void ino_dirty(struct hammer_mount *m, struct hammer_inode *ip, unsigned how);
/* The per-file no-history flag (chflags): old versions are removed. */
static inline int ino_nohist(const struct hammer_inode *ip)
{
	return (ip->d.uflags & (HAMMER_UF_NOHISTORY | HAMMER_SF_NOHISTORY)) != 0;
}
int ino_sync(struct hammer_mount *m, struct hammer_inode *ip);
int ino_destroy(struct hammer_mount *m, struct hammer_inode *ip);
void ino_cache_free(struct hammer_mount *m);
void ino_cache_trim(struct hammer_mount *m);
int ino_release_all(struct hammer_mount *m);
/* Any open file among the cached live inodes of PFS localization loc? */
int ino_pfs_busy(struct hammer_mount *m, uint32_t loc);
/* Forget the cached live inodes of loc (unchanged since a sync, or doomed). */
void ino_drop_pfs(struct hammer_mount *m, uint32_t loc);
/* maintenance walks (prune.c, reblock.c, rebalance.c): where to begin */
static inline void maint_start(const struct hammer_maint_ctl *ctl, uint32_t pfs_id,
			       struct hammer_base_elm *pos)
{
	memset(pos, 0, sizeof(*pos));
	if (ctl && ctl->has_start) {
		*pos = ctl->start;
		pos->localization = (pfs_id << 16) | (ctl->start.localization & 0xFFFFu);
		if (pos->create_tid == 0)
			pos->create_tid = 1;
		return;
	}
	pos->localization = pfs_id << 16;
	pos->obj_id = INT64_MIN;
	pos->key = INT64_MIN;
	pos->create_tid = 1;
}

/* ... and where a stopped one ends: the next run resumes there. */
static inline void maint_stopped(struct hammer_maint_ctl *ctl,
				 const struct hammer_base_elm *pos)
{
	ctl->stopped = 1;
	ctl->resume = *pos;
	ctl->resume.localization &= 0xFFFFu;
}

/* maint.c: a batch may run (-EROFS, -EIO, -ENOENT); *pst the PFS's state */
int maint_writable(struct hammer_mount *m, uint32_t pfs_id, uint8_t *pst);
/* A cursor over the rest of PFS pfs_id's key range, from pos. */
void maint_cursor(struct hammer_mount *m, struct hammer_cursor *c, struct hammer_err *e,
		  uint32_t pfs_id, const struct hammer_base_elm *pos);
/*
 * After a batch's scan ended with rc: the cursor released, *done at the
 * end of the range, else pos moved past the last element looked at.
 */
int maint_cursor_end(struct hammer_mount *m, struct hammer_cursor *c,
		     struct hammer_err *e, int rc, struct hammer_base_elm *pos, int *done);

/* reblock moved the data of (obj, loc)'s INODE record created at ctid. */
void ino_data_moved(struct hammer_mount *m, int64_t obj, uint32_t loc,
		    hammer_tid_t ctid, hammer_off_t data_offset);
void ino_fill_attr(const struct hammer_inode_data *d, int64_t obj_id,
		   uint32_t pfs_loc, hammer_ino_t handle, hammer_tid_t asof,
		   hammer_tid_t ctid, struct hammer_attr *a);
hammer_ino_t asof_handle(struct hammer_mount *m, int64_t obj, uint32_t pfs_loc,
			 hammer_tid_t asof);
/* The handle of (obj, pfs_loc) at asof (ASOF_LIVE: live); 0 = no memory. */
hammer_ino_t eng_handle(struct hammer_mount *m, int64_t obj, uint32_t pfs_loc,
			hammer_tid_t asof);
/* The cached live inode of (obj, pfs_loc), loaded if needed. */
int ino_live(struct hammer_mount *m, int64_t obj, uint32_t pfs_loc,
	     struct hammer_inode **ipp);
uint32_t ino_mode(const struct hammer_inode_data *d);
uint8_t obj_type_of_mode(uint32_t mode);

/* uid/gid as HAMMER stores them */
void eng_id_to_uuid(uint32_t id, hammer_uuid_t *u);
uint32_t eng_uuid_to_id(const hammer_uuid_t *u);

/* directories (dir.c) */
int dir_find(struct hammer_mount *m, int64_t dir_obj, uint32_t pfs_loc,
	     const struct hammer_inode_data *dd, const char *name, size_t len,
	     hammer_tid_t asof, struct hammer_btree_leaf_elm *rec,
	     int64_t *target);
int dir_is_empty(struct hammer_mount *m, struct hammer_inode *dp);
/* hammer_mknod/mkdir/symlink with the mount lock held. */
int dir_create_locked(struct hammer_mount *m, hammer_ino_t dir,
		      const char *name, size_t len, uint32_t mode,
		      uint64_t rdev, uint32_t uid, uint32_t gid,
		      const char *target, size_t tlen, struct hammer_attr *a);
/* The PFS link text readlink shows for a stored "@@PFS%05d" (pfs.c). */
int pfs_link_text(struct hammer_mount *m, const char *stored, size_t n,
		  char *out, size_t size);

/* PFS state (pfs.c): per id, loaded at mount */
#define PFS_LIVE	0x1u	/* a record without DELETED */
#define PFS_SLAVE	0x2u
#define PFS_BAD		0x4u	/* its record could not be read */
#define PFS_DELETED	0x8u	/* a DELETED record: pfs_resume looks here */
int pfs_load(struct hammer_mount *m);
/* Read-write mounts: finish destroys a crash interrupted. */
int pfs_resume(struct hammer_mount *m);
void pfs_free(struct hammer_mount *m);
/*
 * Where a lookup of "@@<tid>:NNNNN" leads: fills *asof (a slave's live view
 * is its sync_end_tid).  -ENOENT when the PFS has no live record.
 */
int pfs_enter(struct hammer_mount *m, uint32_t pfs_id, hammer_tid_t *asof);
/* The newest record of PFS id (DELETED ones too) / replace it (open cycle). */
int pfs_rec_get(struct hammer_mount *m, uint32_t id,
		struct hammer_pseudofs_data *pd);
int pfs_rec_put(struct hammer_mount *m, uint32_t id,
		const struct hammer_pseudofs_data *pd);

/* files (file.c) */
int file_truncate(struct hammer_mount *m, struct hammer_inode *ip,
		  uint64_t size);
int file_remove_all(struct hammer_mount *m, struct hammer_inode *ip);
void file_scratch_free(struct hammer_mount *m);
/* The write loop of hammer_write, for REDO re-execution too. */
int file_write_locked(struct hammer_mount *m, struct hammer_inode *ip,
		      uint64_t off, const uint8_t *src, size_t len,
		      size_t *done);

#endif
