/*
 * hammer.h - the engine API every front end uses (FUSE, the hammer command,
 * the crash loop, tests).
 *
 * A mount is a volume set opened read-only or read-write.  Objects are named
 * by a 64-bit handle, hammer_ino_t:
 *   - for the live file system the handle is the object id (obj_id), which
 *     is also the inode number reported by getattr; the root is 1;
 *   - an object seen "as of" a transaction id (through a `name@@0x<tid>`
 *     lookup, or any lookup below such a directory) gets a handle with bit
 *     63 set, allocated by the engine and stable for the life of the mount;
 *     getattr still reports its obj_id as the inode number.
 * Handles stay valid until unmount (as-of handles are never recycled during
 * a mount; live handles are object ids and need no bookkeeping).
 *
 * Names are byte strings with a length (no NUL needed), 1..255 bytes, no
 * '/' and no NUL byte inside; "." and ".." are resolved by lookup but
 * cannot be created or removed.  A name of the form `x@@0x<16 hex>`,
 * `x@@-1`, `@@0x<16 hex>` (optionally with `:NNNNN`) is an as-of lookup
 * (ref/asof.h, the one parser every front end shares); such names can never
 * be created.
 *
 * Concurrency: every call takes the mount lock; any number of threads may
 * call in.  The background flusher (hammer_flusher_start) takes the same
 * lock.  Calls are atomic with respect to flushes: a flush never observes
 * half of a rename.
 *
 * Durability: changes are kept in memory (dirty buffers and inodes) until a
 * flush cycle writes them in DragonFly's order (data, UNDO/REDO + barrier,
 * volume header, meta-data).  hammer_sync runs two cycles and a barrier, so
 * everything before it survives any crash.  hammer_fsync follows the mount's
 * fsync_mode (see hammer_fsync in mount.c): modes 2 and 3 switch a file to
 * REDO at its first fsync, and later fsyncs of it only write the UNDO/REDO
 * FIFO (mode 2 then flushes the disk cache, mode 3 does not).
 *
 * Errors are negative POSIX errno values.  -EUCLEAN means corruption was
 * found; hammer_mount_error() then describes it (what and where).
 * Nothing here prints or exits.
 */
#ifndef HAMMER_HAMMER_H
#define HAMMER_HAMMER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bdev.h"
#include "error.h"
#include "ondisk.h"

typedef uint64_t hammer_ino_t;

#define HAMMER_ROOT_INO		((hammer_ino_t)1)
#define HAMMER_INO_ASOF_BIT	(1ULL << 63)
#define HAMMER_NAME_MAX		255
#define HAMMER_SYMLINK_MAX	1023		/* longest symlink target we write */

struct hammer_mount;

struct hammer_mount_opts {
	int readonly;
	int nohistory;			/* remove old records physically */
	int fsync_mode;			/* 0..4, as vfs.hammer.fsync_mode; default 3 */
	int skip_redo;			/* 0..2, as vfs.hammer.skip_redo */
	uint64_t cache_bytes;		/* buffer cache limit; 0 = default */
	uint64_t dirty_limit;		/* dirty bytes that trigger a flush; 0 = 1/4 cache */
	hammer_tid_t asof;		/* 0 = live; else mount read-only as of this TID */
	/*
	 * Clock in microseconds since the epoch; NULL = the real clock.  Tests
	 * pass a deterministic one.
	 */
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
};

void hammer_mount_opts_init(struct hammer_mount_opts *o);

/*
 * Mount "dev[:dev...]" (or already opened block devices, whose ownership
 * passes to the mount even on failure).  Runs stage 1 recovery, and stage 2
 * (REDO) on read-write mounts.  On failure *err names the problem.
 */
int hammer_mount(const char *spec, const struct hammer_mount_opts *o,
		 struct hammer_mount **out, struct hammer_err *err);
int hammer_mount_bdevs(struct hammer_bdev **bds, int n,
		       const struct hammer_mount_opts *o,
		       struct hammer_mount **out, struct hammer_err *err);
/*
 * Stage 2 (REDO) runs at read-write mounts only, after stage 1, unless
 * skip_redo is 2: a read-only mount shows the state before the REDOs (the
 * data of fast fsyncs since the last full flush is not visible there).
 */
/* Flush everything (read-write), release everything.  Returns the flush error. */
int hammer_unmount(struct hammer_mount *m);
/* The first error recorded on this mount (for messages). */
const struct hammer_err *hammer_mount_error(const struct hammer_mount *m);

/* ---------------------------------------------------------- attributes */

struct hammer_attr {
	hammer_ino_t ino;		/* the handle */
	uint64_t obj_id;		/* the inode number to report */
	uint32_t mode;			/* S_IFxxx | permission bits */
	uint64_t nlink;
	uint32_t uid, gid;
	uint64_t rdev;			/* makedev(rmajor, rminor) */
	uint64_t size;
	uint64_t blocks;		/* 512-byte units allocated */
	uint64_t atime, mtime, ctime;	/* microseconds since the epoch */
	uint32_t uflags;		/* chflags bits (HAMMER_UF_*) */
	hammer_tid_t create_tid;	/* of the inode record */
	hammer_tid_t asof;		/* 0 for live objects */
	uint32_t pfs_id;		/* the PFS the object lives in */
};

/*
 * The inode number a front end reports for object obj_id of PFS pfs_id.
 * PFS #0 reports the object id.  Every PFS has its own object 1 (its root)
 * and a slave's ids come from its master's TID space, so other PFSs put
 * the PFS id in bits 48..63: object ids are TIDs, which start at 2^32 and
 * grow by one per transaction, so they stay below 2^48 in practice and
 * the numbers of different PFSs never meet (a larger id, only seen on a
 * hostile image, may alias: harmless, the handle is what names objects).
 */
static inline uint64_t hammer_report_ino(int64_t obj_id, uint32_t pfs_id)
{
	if (pfs_id == 0 || (uint64_t)obj_id >= (1ULL << 48))
		return (uint64_t)obj_id;
	return (uint64_t)obj_id | ((uint64_t)pfs_id << 48);
}

#define HAMMER_UF_NODUMP	0x00000001u
#define HAMMER_UF_NOHISTORY	0x00000040u
#define HAMMER_SF_NOHISTORY	0x00400000u

/* setattr mask */
#define HAMMER_SET_MODE		0x01u
#define HAMMER_SET_UID		0x02u
#define HAMMER_SET_GID		0x04u
#define HAMMER_SET_SIZE		0x08u
#define HAMMER_SET_ATIME	0x10u
#define HAMMER_SET_MTIME	0x20u
#define HAMMER_SET_CTIME	0x40u
#define HAMMER_SET_UFLAGS	0x80u

int hammer_getattr(struct hammer_mount *m, hammer_ino_t ino,
		   struct hammer_attr *a);
/* Applies the fields selected by `mask`; *a is refreshed on success. */
int hammer_setattr(struct hammer_mount *m, hammer_ino_t ino,
		   struct hammer_attr *a, unsigned mask);

/* ---------------------------------------------------------- namespace */

int hammer_lookup(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		  size_t len, struct hammer_attr *a);
/*
 * Create a non-directory: mode carries the type (S_IFREG, S_IFIFO,
 * S_IFSOCK, S_IFCHR, S_IFBLK) and permission bits.
 */
int hammer_mknod(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		 size_t len, uint32_t mode, uint64_t rdev, uint32_t uid,
		 uint32_t gid, struct hammer_attr *a);
int hammer_mkdir(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		 size_t len, uint32_t mode, uint32_t uid, uint32_t gid,
		 struct hammer_attr *a);
int hammer_symlink(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		   size_t len, const char *target, size_t tlen, uint32_t uid,
		   uint32_t gid, struct hammer_attr *a);
/* Returns the target length (may exceed size; the copy is truncated). */
int hammer_readlink(struct hammer_mount *m, hammer_ino_t ino, char *buf,
		    size_t size);
int hammer_unlink(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		  size_t len);
int hammer_rmdir(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		 size_t len);
/* a: the linked object's refreshed attributes (nlink). */
int hammer_link(struct hammer_mount *m, hammer_ino_t ino, hammer_ino_t dir,
		const char *name, size_t len, struct hammer_attr *a);

#define HAMMER_RENAME_NOREPLACE	0x1u
#define HAMMER_RENAME_EXCHANGE	0x2u
/*
 * Atomic rename; replaces an existing target (a directory only by an empty
 * directory), refuses to move a directory into itself (-EINVAL).
 * HAMMER_RENAME_EXCHANGE swaps two existing names atomically.
 */
int hammer_rename(struct hammer_mount *m, hammer_ino_t sdir, const char *sname,
		  size_t slen, hammer_ino_t ddir, const char *dname,
		  size_t dlen, unsigned flags);

/*
 * readdir: calls fn for each entry from `cookie` on ("." is cookie 0, ".."
 * cookie 1, others the directory record key), passing the cookie of the
 * next entry; fn returns non-zero to stop.  Returns 0 or a negative errno.
 * Cookies stay valid across changes to the directory.
 */
typedef int (*hammer_readdir_fn)(void *ctx, const char *name, size_t len,
				 hammer_ino_t ino, uint32_t dtype,
				 uint64_t next_cookie);
int hammer_readdir(struct hammer_mount *m, hammer_ino_t dir, uint64_t cookie,
		   hammer_readdir_fn fn, void *ctx);

/* ---------------------------------------------------------- file data */

/* Returns bytes read (short at EOF) or a negative errno. */
ssize_t hammer_read(struct hammer_mount *m, hammer_ino_t ino, uint64_t off,
		    void *buf, size_t len);
/* Returns bytes written or a negative errno (-EFBIG past the format limit). */
ssize_t hammer_write(struct hammer_mount *m, hammer_ino_t ino, uint64_t off,
		     const void *buf, size_t len);

/*
 * Open counts: an unlinked object that is still open keeps its data until
 * the last release (the front end's open files).
 */
int hammer_open(struct hammer_mount *m, hammer_ino_t ino);
int hammer_release(struct hammer_mount *m, hammer_ino_t ino);

/* ---------------------------------------------------------- durability */

int hammer_fsync(struct hammer_mount *m, hammer_ino_t ino, int datasync);
int hammer_sync(struct hammer_mount *m);
/* One flush cycle (final).  The background flusher calls this. */
int hammer_flush(struct hammer_mount *m);
/* Background flusher thread: a cycle every interval_ms and when dirty. */
int hammer_flusher_start(struct hammer_mount *m, unsigned interval_ms);
void hammer_flusher_stop(struct hammer_mount *m);

/* ---------------------------------------------------------- file system */

struct hammer_statfs {
	uint64_t bsize;			/* 16384 */
	uint64_t blocks;		/* total, in bsize units */
	uint64_t bfree;
	uint64_t bavail;
	uint64_t files;			/* live inodes */
	uint64_t ffree;
	uint32_t namemax;
};
int hammer_statfs(struct hammer_mount *m, struct hammer_statfs *st);

struct hammer_mount_info {
	unsigned version;		/* on-disk version */
	int nvolumes;
	int readonly;
	hammer_tid_t next_tid;		/* the TID allocator */
	hammer_tid_t flush_tid;		/* last TID made durable by a flush */
	uint64_t flush_cycles;
	uint64_t dirty_bytes;
	uint64_t fast_fsyncs;		/* fsyncs that wrote only the UNDO/REDO FIFO */
	uint64_t data_writebacks;	/* dirty-limit data write-backs outside a cycle */
	uint64_t redo_replayed;		/* stage 2 at this mount: REDOs re-executed */
	uint64_t redo_skipped;		/* ... and not applicable (object gone) */
	/*
	 * The UNDO/REDO FIFO: its size and the bytes recovery could still
	 * need, as DragonFly's hammer_undo_used() counts them: from the
	 * first_offset the last flush put in the header up to the append
	 * point in memory.  They grow with every change, and the FIFO of a
	 * cycle is released only by the next cycle's header, so right after a
	 * sync (two cycles) only the second cycle's records remain.
	 * Read-only mounts report the header's range as recovery left it in
	 * memory (0 after a clean unmount: nothing to run).
	 */
	uint64_t undo_size;
	uint64_t undo_used;
	char label[64];
	hammer_uuid_t fsid;
};
int hammer_mount_info(struct hammer_mount *m, struct hammer_mount_info *mi);

/*
 * The PFS record of PFS pfs_id (0..65535), as stored in the root PFS
 * (obj_id 1, localization HAMMER_LOCALIZE_MISC of PFS 0, key pfs_id << 16),
 * in host byte order.  -ENOENT when there is none or it is marked DELETED;
 * -EINVAL for an id past 65535; a corrupt record fills *err.  A short
 * record (older kernels) is zero-extended.
 */
int hammer_pfs_get(struct hammer_mount *m, uint32_t pfs_id,
		   struct hammer_pseudofs_data *out, struct hammer_err *err);

/* ---------------------------------------------------------- PFS (pfs.c) */

/*
 * Pseudo-filesystems.  PFS #0 is the root PFS (always a master).  PFS n
 * (1..65535) keeps its objects in localization n << 16; its record lives
 * in PFS #0 (see hammer_pfs_get) and its link is a symlink in PFS #0 whose
 * stored target is "@@PFS%05d", shown by readlink as "@@-1:%05d" for a
 * master and "@@0x%016llx:%05d" (sync_end_tid) for a slave, as DragonFly
 * shows it.  Looking up "@@-1:NNNNN" in any directory enters the live root
 * of a master; for a slave it enters the root as of its sync_end_tid,
 * read-only (-EROFS to every change), and -ENOENT while it has no root
 * (before its first mirroring).  The objects of a master are writable.
 *
 * A PFS is busy while hammer_pfs_hold holds it (a PFS mount) or while one
 * of its files is open; upgrade, downgrade and destroy then answer -EBUSY.
 */
#define HAMMER_PFS_MAX_ID	65535

/*
 * As DragonFly's GET: the record of a live PFS, with a master's
 * sync_end_tid replaced by the last durable TID (flush_tid).  -ENOENT for
 * no record or a DELETED one.
 */
int hammer_pfs_status(struct hammer_mount *m, uint32_t pfs_id,
		      struct hammer_pseudofs_data *out, struct hammer_err *err);
/* The lowest id (from 1) with no live PFS; -ENOSPC when all are used. */
int hammer_pfs_free_id(struct hammer_mount *m, uint32_t *pfs_id);
/*
 * Create PFS pfs_id (1..65535) from *pd (SLAVE in mirror_flags makes a
 * slave; DELETED must be clear) and its link `name` in directory `dir`,
 * which must be a live directory of PFS #0 (-EXDEV otherwise), in one
 * call: the record, a master's root directory (mode 0755, owner 0, as
 * DragonFly's), and the symlink (owned by uid/gid) reach the disk in the
 * same flush cycle.  -EEXIST: the name exists or the PFS is live.  A
 * DELETED record of the id is replaced.  *link gets the link's attributes.
 */
int hammer_pfs_create(struct hammer_mount *m, hammer_ino_t dir,
		      const char *name, size_t len, uint32_t pfs_id,
		      const struct hammer_pseudofs_data *pd, uint32_t uid,
		      uint32_t gid, struct hammer_attr *link);
/*
 * pfs-update: replace the record of live PFS pfs_id with *pd.  The SLAVE
 * and DELETED flags cannot change here (-EINVAL: that is upgrade,
 * downgrade and destroy).  PFS #0 may be updated (never made a slave).
 */
int hammer_pfs_update(struct hammer_mount *m, uint32_t pfs_id,
		      const struct hammer_pseudofs_data *pd);
/*
 * Slave to master: every record of the PFS created after sync_end_tid is
 * removed and every deletion after it undone, then SLAVE is cleared (a
 * root directory is made if the slave never had one).  Already a master:
 * 0, nothing done.
 */
int hammer_pfs_upgrade(struct hammer_mount *m, uint32_t pfs_id);
/*
 * Master to slave: the PFS is synced, SLAVE set and sync_end_tid raised to
 * at least the durable TID.  Already a slave: 0.
 */
int hammer_pfs_downgrade(struct hammer_mount *m, uint32_t pfs_id);
/*
 * Destroy: every record of localizations pfs_id << 16 .. | 0xFFFF removed
 * physically (history included) and its space freed, then DELETED set in
 * the record (the id becomes free).  The link is the caller's to remove.
 * PFS #0: -EINVAL.
 */
int hammer_pfs_destroy(struct hammer_mount *m, uint32_t pfs_id);
/* Hold (+1) or release (-1) PFS pfs_id for a PFS mount. */
int hammer_pfs_hold(struct hammer_mount *m, uint32_t pfs_id, int delta);
/* The PFS a handle's object lives in. */
int hammer_ino_pfs(struct hammer_mount *m, hammer_ino_t ino, uint32_t *pfs_id);
/*
 * The handle of the root of PFS pfs_id as a PFS mount sees it: the live
 * root of a master, the root as of sync_end_tid of a slave (-ENOENT before
 * its first mirroring).
 */
int hammer_pfs_root(struct hammer_mount *m, uint32_t pfs_id,
		    struct hammer_attr *a);

/* ---------------------------------------------------------- mirroring (mirror.c) */

/*
 * Mirroring, as DragonFly's MIRROR_READ / MIRROR_WRITE ioctls do it (format
 * digest section 8; the stream itself is ref/mstream.h).
 *
 * Reading: a scan of one PFS's key range in B-tree order, emitting encoded
 * stream records into a caller's buffer a piece at a time (each call takes
 * the mount lock once; the caller writes the bytes out between calls).
 * Subtrees whose mirror_tid is below tid_beg are not entered: they go out
 * as one SKIP [left, right) each (adjacent ones merged), so an incremental
 * scan costs what changed, not the size of the tree.  In the leaves:
 * create_tid > tid_end: nothing; create_tid < tid_beg: PASS (the element
 * only, so the target can find what the source no longer has); otherwise
 * REC with its data (delete_tid > tid_end sent as 0; a payload failing its
 * CRC is sent flagged CRC_ERROR|DATA_CRC_BAD; HAMMER_MIRROR_NODATA sends
 * RECs flagged NODATA without payload, for the prescan).  tid_end must not
 * pass the durable TID (hammer_pfs_status's sync_end_tid for a master):
 * records up to it no longer change under the scan.  Unlike DragonFly's
 * flush TID, ours is the TID of the last durable cycle itself, so records
 * may carry exactly tid_end: a batch [tid_beg, tid_end] has work when
 * tid_beg <= tid_end (DragonFly's userland tests tid_beg >= tid_end).
 */
#define HAMMER_MIRROR_NODATA	0x1u

struct hammer_mirror_scan {
	uint32_t pfs_id;
	hammer_tid_t tid_beg, tid_end;
	unsigned flags;
	/* position: the next call starts after key_cur (or at it: at_key) */
	struct hammer_base_elm key_cur;
	int at_key;
	int done;			/* the whole range has been emitted */
	uint64_t recs, passes, skips;	/* records emitted so far */
	uint64_t bytes, data_bytes;	/* wire bytes, REC payload bytes */
};
void hammer_mirror_scan_init(struct hammer_mirror_scan *s, uint32_t pfs_id,
			     hammer_tid_t tid_beg, hammer_tid_t tid_end,
			     unsigned flags);
/*
 * Emit the next records into buf (at most size bytes, size >=
 * HAMMER_MREC_MAX from mstream.h); *len gets the bytes written.  *len 0 and
 * s->done: the range is exhausted.  -ENOENT: no live PFS pfs_id; -EINVAL:
 * a bad range; -EUCLEAN: corruption (err says where).
 */
int hammer_mirror_read(struct hammer_mount *m, struct hammer_mirror_scan *s,
		       void *buf, size_t size, size_t *len,
		       struct hammer_err *err);

/*
 * Writing: applies a batch to slave PFS pfs_id.  begin checks the target
 * (a live slave, not PFS #0, the source's shared-uuid) and the batch's TID
 * range (tid_beg <= tid_end, and tid_beg <= the slave's sync_end_tid + 1:
 * a gap would leave the records created in it missing, so it is refused
 * with -ERANGE) and starts the tracking position at the beginning of the
 * key space.  Each REC, PASS or SKIP then moves the
 * position forward (records must come in strictly increasing key order:
 * -EINVAL otherwise) and first marks deleted, at tid_end, every record of
 * the slave that is live, created before tid_end and lies between the old
 * position and the record (the source no longer has it).  REC: an existing
 * record may only gain its delete_tid; a missing one is inserted if
 * create_tid >= tid_beg (data copied to a new allocation after its CRC is
 * checked; a directory entry's localization rewritten to the slave's PFS).
 * PASS: the same without inserting.  SKIP: the deletion runs up to
 * skip_beg, the position jumps to skip_end.  CONFIG and PFS records are
 * never touched.  The slave's records beyond tid_end are never changed, and
 * its sync_end_tid moves only in hammer_mirror_write_sync: everything before
 * is invisible through the slave (seen as of sync_end_tid), so a cut
 * stream or a crash leaves the slave as it was at its last sync.
 */
struct hammer_mirror_apply {
	uint32_t pfs_id;
	hammer_tid_t tid_beg, tid_end;
	struct hammer_base_elm key_cur;	/* tracking position */
	int atedisk;			/* key_cur itself has been handled */
	int started;
	uint64_t inserted, updated, deleted, passes, skips, ignored;
	uint64_t data_bytes;
};
/* src: the batch's PFSD (sync_beg_tid..sync_end_tid = the TID range). */
int hammer_mirror_write_begin(struct hammer_mount *m, uint32_t pfs_id,
			      const struct hammer_pseudofs_data *src,
			      struct hammer_mirror_apply *w,
			      struct hammer_err *err);
struct hammer_mrec;
/* One decoded REC / PASS / SKIP (other types: -EINVAL). */
int hammer_mirror_write_rec(struct hammer_mount *m,
			    struct hammer_mirror_apply *w,
			    const struct hammer_mrec *r,
			    struct hammer_err *err);
/*
 * The batch's SYNC: the deletion runs to the end of the key space, then
 * sync_end_tid = tid_end (and sync_end_ts = now) and a durable sync.
 */
int hammer_mirror_write_sync(struct hammer_mount *m,
			     struct hammer_mirror_apply *w,
			     struct hammer_err *err);

/*
 * mirror-read-stream's wait: block until a flush makes a TID above `tid`
 * durable, or timeout_ms passes (0: do not wait).  Returns 1 when there is
 * something new (*durable gets the durable TID), 0 on timeout.
 */
int hammer_wait_flush(struct hammer_mount *m, hammer_tid_t tid,
		      unsigned timeout_ms, hammer_tid_t *durable);

/* ---------------------------------------------------------- snapshots (snapshot.c) */

/*
 * Meta-data snapshots and the cleanup configuration (on-disk version 3+),
 * as DragonFly's ADD/DEL/GET_SNAPSHOT and GET/SET_CONFIG ioctls keep them:
 * records of object 1 in the INODE localization of the PFS
 * ((pfs_id << 16) | 1), SNAPSHOT keyed by the TID (as a signed key), CONFIG
 * at key 0.  Both are written in the open flush cycle; a change is durable
 * once a sync returns.  Deleting a snapshot or replacing the config removes
 * the old record physically (no history), as DragonFly does.
 *
 * Errors: -ENOENT no such live PFS (or no such snapshot / no config
 * record); -EROFS a read-only mount, an as-of mount, or a slave PFS (a
 * slave gets its master's snapshots through mirroring); -EINVAL pfs_id past
 * 65535, a TID of 0 or above the durable TID (a snapshot must name a state
 * that is on disk), a label or text without its NUL; -EOPNOTSUPP a file
 * system older than version 3; -EEXIST a snapshot of that TID exists.  A
 * corrupt record fills the mount's error (hammer_mount_error) and answers
 * -EUCLEAN.
 */
struct hammer_snapshot {
	hammer_tid_t tid;
	uint64_t ts;			/* microseconds since the epoch */
	char label[64];			/* NUL-terminated */
};
int hammer_snapshot_add(struct hammer_mount *m, uint32_t pfs_id,
			const struct hammer_snapshot *s);
int hammer_snapshot_del(struct hammer_mount *m, uint32_t pfs_id,
			hammer_tid_t tid);
/*
 * Every snapshot record of the PFS (a slave's as of its sync_end_tid), in
 * unsigned TID order, into a malloc'd array (*out, *n; free() it).
 */
int hammer_snapshot_list(struct hammer_mount *m, uint32_t pfs_id,
			 struct hammer_snapshot **out, size_t *n);
/* text: HAMMER_CONFIG_BYTES bytes; get NUL-terminates it. */
int hammer_config_get(struct hammer_mount *m, uint32_t pfs_id, char *text);
int hammer_config_set(struct hammer_mount *m, uint32_t pfs_id,
		      const char *text);

/*
 * History of one object (DragonFly's GETHISTORY): the create and delete
 * TIDs of the object's INODE records, or with HAMMER_HISTORY_ATKEY of the
 * DATA records of a regular file that cover byte offsets [off, off + len)
 * (len 0: to the end), with their 32-bit time stamps (seconds), into a
 * malloc'd array in B-tree order (callers sort and merge; a TID may
 * repeat).  *unsynced: the live object has changes not yet flushed.
 * An object made since the last flush has no version yet: none listed,
 * unsynced.  -ENOENT: no such object in that PFS; -EINVAL: ATKEY on
 * anything but a regular file.
 */
#define HAMMER_HISTORY_ATKEY	0x1u
struct hammer_history_ent {
	hammer_tid_t tid;
	uint32_t time32;
};
int hammer_history(struct hammer_mount *m, uint32_t pfs_id, int64_t obj_id,
		   unsigned flags, uint64_t off, uint64_t len,
		   struct hammer_history_ent **out, size_t *n, int *unsynced);

/* ---------------------------------------------------------- prune (prune.c) */

/*
 * Prune one PFS (DragonFly's PRUNE ioctl): destroy historical records
 * (delete_tid set) that no kept TID can see.  Elements, in descending TID
 * order and disjoint: a record goes when create_tid >= beg_tid, delete_tid
 * <= end_tid and both fall in the same mod_tid slot counted from beg_tid.
 * HAMMER_PRUNE_ALL (no elements): every historical record goes.  Live
 * records stay; data of the destroyed records is freed.  A slave keeps
 * what happened after its sync_end_tid.  Runs in batches, the mount lock
 * taken per batch.  -EINVAL bad elements; -ENOENT no such live PFS;
 * -EROFS read-only or as-of mount.
 */
#define HAMMER_PRUNE_ALL	0x1u
/*
 * Long maintenance runs (prune, reblock, rebalance) poll should_stop
 * between batches (NULL: never); a non-zero answer ends the run early,
 * everything done so far kept and consistent, and sets stopped.
 */
struct hammer_maint_ctl {
	int (*should_stop)(void *ctx);
	void *ctx;
	int stopped;
	/*
	 * Resuming (DragonFly's cycle file): with has_start the walk begins at
	 * `start` (its localization's PFS bits are replaced by the PFS's; its
	 * type bits are kept); a stopped run leaves in `resume` the key the
	 * next run should start at (localization: type bits only).
	 */
	int has_start;
	struct hammer_base_elm start;
	struct hammer_base_elm resume;
};
#define HAMMER_PRUNE_MAX_ELMS	1024
struct hammer_prune_elm {
	hammer_tid_t beg_tid, end_tid, mod_tid;
};
struct hammer_prune_stats {
	uint64_t scanned;		/* elements looked at */
	uint64_t dirrecords;		/* directory entries destroyed */
	uint64_t rawrecords;		/* other records destroyed */
	uint64_t bytes;			/* their data freed */
	hammer_tid_t oldest_tid;	/* smallest create_tid seen */
};
int hammer_prune(struct hammer_mount *m, uint32_t pfs_id, unsigned flags,
		 const struct hammer_prune_elm *elms, size_t nelms,
		 struct hammer_maint_ctl *ctl, struct hammer_prune_stats *st);

/* ---------------------------------------------------------- reblock (reblock.c) */

/*
 * Reblock one PFS (DragonFly's REBLOCK ioctl): move B-tree nodes and
 * record data out of big-blocks with at least (100 - fill_pct)% of 8 MB
 * free (not the big-block a zone is filling now, unless fill_pct is 100,
 * which moves everything), so those big-blocks empty and return to the
 * freemap.  Flags choose what moves.  Runs in batches under the mount
 * lock, stoppable between them (ctl); a crash leaves every record at its
 * old or its new copy.  -EINVAL bad flags or fill; -ENOENT no such live
 * PFS; -EROFS read-only or as-of mount; -ENOSPC nowhere to move to.
 */
#define HAMMER_REBLOCK_BTREE	0x1u
#define HAMMER_REBLOCK_INODES	0x2u
#define HAMMER_REBLOCK_DATA	0x4u
#define HAMMER_REBLOCK_DIRS	0x8u
#define HAMMER_REBLOCK_ALL	0xFu
struct hammer_reblock_stats {
	uint64_t records;		/* elements looked at */
	uint64_t btree_nodes;		/* nodes looked at */
	uint64_t btree_moves;
	uint64_t data_elements;		/* records of the chosen kinds with data */
	uint64_t data_moves;
	uint64_t data_bytes;		/* bytes moved */
	uint64_t data_byte_count;	/* bytes of the data_elements */
	uint64_t data_skipped;		/* data failing its CRC, left in place */
};
int hammer_reblock(struct hammer_mount *m, uint32_t pfs_id, unsigned flags,
		   unsigned fill_pct, struct hammer_maint_ctl *ctl,
		   struct hammer_reblock_stats *st);

/*
 * Rebalance one PFS (DragonFly's REBALANCE ioctl): every group of sibling
 * leaves the walk passes is packed to 62 x saturation% elements a leaf
 * (saturation 50..100), freeing the leaves that empty.  No record or
 * data moves; every view reads the same.  Batches under the mount lock,
 * stoppable (ctl); errors as hammer_reblock.
 */
struct hammer_rebalance_stats {
	uint64_t records;		/* elements looked at */
	uint64_t groups;		/* parents whose leaves were looked at */
	uint64_t nodes;			/* those parents and their leaves */
	uint64_t rebalanced;		/* groups repacked */
	uint64_t leaves_freed;
};
int hammer_rebalance(struct hammer_mount *m, uint32_t pfs_id, unsigned saturation,
		     struct hammer_maint_ctl *ctl, struct hammer_rebalance_stats *st);

/*
 * Run the full checker (ref/fscheck.h) on the mounted file system, as it is
 * in memory (dirty inodes are synced into the tree first; read-write mounts
 * only change buffers, nothing is written).  Release r with
 * hammer_fscheck_report_free().
 */
struct hammer_fscheck_report;
/* flags: HAMMER_FSCK_* of ref/fscheck.h (0: everything). */
int hammer_check(struct hammer_mount *m, unsigned flags,
		 struct hammer_fscheck_report *r, struct hammer_err *err);

/*
 * synctid: flush (two cycles) and return the TID that now names the
 * durable state, usable in name@@0x<tid> lookups.
 */
int hammer_synctid(struct hammer_mount *m, hammer_tid_t *tid);

#endif
