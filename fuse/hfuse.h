/*
 * hfuse.h - hammer-fuse: the FUSE front end of the engine (ref/hammer.h).
 *
 * One process serves one mount: main.c parses options, mounts the volume
 * set (recovery runs there), mounts FUSE, starts the flusher and the control
 * socket, runs the session loop and unmounts.  ops.c maps every low-level
 * FUSE request onto one or a few engine calls.  ctl.c serves the `hammer`
 * command over a per-mount UNIX socket (ctl_proto.h).
 *
 * Node ids are engine handles: the object id for live objects of PFS #0,
 * bit 63 set for objects seen as of a TID and for objects of PFS n > 0.
 * FUSE's root node id 1 is the engine's root handle 1, except on a PFS
 * mount (-o pfs=N, or a pfs-mount session), where it is the PFS root's
 * handle (hfuse.root; ops.c translates both ways).  No table is needed and
 * forget has nothing to do.  The inode number reported is attr.obj_id
 * (hammer_report_ino: the PFS id in bits 48..63 for PFS n > 0).
 */
#ifndef HAMMER_FUSE_H
#define HAMMER_FUSE_H

#define FUSE_USE_VERSION 312	/* 3.12: fuse_session_loop_mt takes fuse_loop_cfg_create()'s config */

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "ref/hammer.h"

struct hfuse_opts {
	struct hammer_mount_opts eng;	/* ro, nohistory, fsync_mode, ... */
	unsigned flush_ms;		/* background flusher period; 0 = off */
	int foreground;			/* -f */
	int debug;			/* -d */
	int single_thread;		/* -s */
	int allow_other;		/* given, or implied for root */
	double entry_timeout;		/* live objects */
	double attr_timeout;
	int blkdev;			/* -1 auto (default), 0 noblkdev, 1 blkdev */
	long pfs;			/* -o pfs=N; -1 = none (the whole file system) */
	uint64_t readahead;		/* the mount's read-ahead, bytes; 0 = kernel's */
	struct hammer_bdev_bioq bioq;	/* -o bioq and the kern.bioq_reorder_* options */
};

#define HFUSE_MAX_WAITERS	16	/* unmount-wait clients at once */

struct hfuse_sub;

struct hfuse {
	struct hammer_mount *m;
	hammer_ino_t root;		/* handle behind node id 1 (HAMMER_ROOT_INO) */
	uint32_t pfs_id;		/* the PFS mounted (0: the whole file system) */
	int pfs_held;			/* hammer_pfs_hold(+1) done: release at unmount */
	int pfs_counted;		/* counted in pfs_shared (a pfs-mount session) */
	struct hfuse *parent;		/* a pfs-mount session: the daemon's main one */
	/*
	 * Sessions serving the same objects: pfs_shared[id] counts the
	 * pfs-mount sessions of PFS id, [HAMMER_PFS_MAX_ID + 1] all of them.
	 * Objects of such a PFS get no kernel caching (timeouts 0, no
	 * keep_cache, no negative entries): a change through one session
	 * would not invalidate the other's cache.  Shared by all sessions.
	 */
	atomic_uint *pfs_shared;
	/* pfs-mount sessions of this daemon (main.c; under sub_lock) */
	pthread_mutex_t sub_lock;
	struct hfuse_sub *subs;
	struct fuse_session *se;
	struct hfuse_opts o;
	const char *devs;		/* as given: dev[:dev...] */
	char *devs_abs;			/* the same with absolute paths (info) */
	char *mountpoint;		/* absolute */
	dev_t dev;			/* st_dev of the mount (from mountinfo) */
	uid_t owner;			/* may run privileged control commands */
	atomic_int corrupt_logged;	/* -EUCLEAN reported once */
	atomic_int inflight;		/* requests inside the engine (ops.c) */
	atomic_int closing;		/* set by hfuse_drain: no new ones */
	atomic_int ra_set;		/* hfuse_set_readahead has run */
	int ctl_fd;			/* listening control socket, -1 if none */
	char ctl_path[256];
	int ctl_running;
	pthread_t ctl_thread;
	int fuseblk;			/* mounted as fuseblk: the kernel sends DESTROY */
	/* the periodic sync (main.c), DragonFly's syncer: hammer_sync per period */
	pthread_t syncer;
	pthread_mutex_t syncer_lock;
	pthread_cond_t syncer_cv;
	int syncer_running, syncer_stop;
	/* unmount: hfuse_shutdown runs once, from DESTROY or from main */
	pthread_mutex_t down_lock;
	int down;
	int unmount_rc;			/* hammer_unmount's result */
	/* unmount-wait clients, told the final flush's result (ctl.c) */
	pthread_mutex_t wait_lock;
	int waiters[HFUSE_MAX_WAITERS];
	int nwaiters;
};

/*
 * Raise the mount's read-ahead (its bdi's read_ahead_kb) to o.readahead.
 * Only after INIT: the kernel lowers it to what INIT agreed (128 KiB).
 * Root only; others keep the kernel's.
 */
void hfuse_set_readahead(struct hfuse *h);

/* Messages: stderr in the foreground, syslog once daemonized. */
void hfuse_log(struct hfuse *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void hfuse_set_daemonized(void);

/*
 * Stop the control socket, flush and unmount the engine (the volume locks
 * go with it), then tell unmount-wait clients.  Runs once: from DESTROY
 * (fuseblk mounts, while the kernel's umount waits) or from main after the
 * session ends; later calls return at once.
 */
void hfuse_shutdown(struct hfuse *h);

/*
 * pfs-mount (control verb, see docs/DESIGN.md "PFS mounts"): serve PFS
 * pfs_id at mountpoint dir from this daemon in a second FUSE session with
 * its own thread, root, hold and control socket.  opts: "ro" or NULL.
 * 0, or -errno with a message in why.
 */
int hfuse_pfs_mount(struct hfuse *h, uint32_t pfs_id, const char *dir,
		    const char *opts, char *why, size_t wsize);

/* The control verb "pfs-mount ID ro|rw DIR": 0 or a positive errno. */
int hfuse_ctl_pfs_mount(struct hfuse *h, int priv, const char *args, char *msg,
			size_t msize);

/* ops.c */
extern const struct fuse_lowlevel_ops hfuse_ops;
/* Refuse new requests, wait for those inside the engine (hfuse_shutdown). */
void hfuse_drain(struct hfuse *h);
/* The session's reads and writes: answers FUSE_SYNCFS (fuse_session_custom_io). */
extern const struct fuse_custom_io hfuse_io;
/* errno for a negative engine result; -EUCLEAN becomes EIO and is logged */
int hfuse_errno(struct hfuse *h, int rc);

/* ctl.c */
/* Bind the socket (after the FUSE mount exists, before daemonizing). */
int hfuse_ctl_start(struct hfuse *h);
/* Serve it from a thread (after daemonizing: threads do not survive fork). */
int hfuse_ctl_run(struct hfuse *h);
/* Stop accepting and join the thread; unmount-wait clients stay. */
void hfuse_ctl_stop(struct hfuse *h);
/* Tell every unmount-wait client the unmount result (0 or -errno), close. */
void hfuse_ctl_notify(struct hfuse *h, int rc);

#endif
