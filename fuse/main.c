/*
 * main.c - `hammer-fuse [-fdsh] [-o opt[,opt...]] DEV[:DEV...] MOUNTPOINT`.
 *
 * Order matters: the volume set is mounted (and recovered) before FUSE is,
 * so a bad or corrupt image is refused on the terminal with a message and a
 * non-zero exit; threads (flusher, control socket) start only after
 * daemonizing because fork keeps just the calling thread.  On the way out the
 * FUSE mount goes first, so no request can arrive while the engine flushes
 * and closes (hfuse_shutdown: hammer_unmount, then unmount-wait clients are
 * told).  A root mount whose volume 0 is a block device is a fuseblk mount:
 * the kernel then sends DESTROY at umount and waits for our answer, so
 * hfuse_shutdown runs inside every umount(2), fusermount3 -u included.
 */
#include "hfuse.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/loop.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#ifndef HAMMER_FUSE_VERSION
#define HAMMER_FUSE_VERSION "unknown"
#endif

static int daemonized;

void hfuse_set_daemonized(void)
{
	openlog("hammer-fuse", LOG_PID, LOG_DAEMON);
	daemonized = 1;
}

void hfuse_log(struct hfuse *h, const char *fmt, ...)
{
	(void)h;
	va_list ap;
	va_start(ap, fmt);
	if (daemonized) {
		vsyslog(LOG_ERR, fmt, ap);
	} else {
		fputs("hammer-fuse: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: hammer-fuse [-fdsh] [-V] [-o opt[,opt...]] dev[:dev...] mountpoint\n"
"  -f              stay in the foreground\n"
"  -d              FUSE debug output (implies -f)\n"
"  -s              serve requests from one thread\n"
"  -o ro           mount read-only (no recovery writes, no flusher)\n"
"  -o rw           mount read-write (the default)\n"
"  -o nohistory    do not keep history: old records are removed\n"
"  -o fsync_mode=N 0..4 as DragonFly's vfs.hammer.fsync_mode (default 3;\n"
"                  4 makes fsync a no-op)\n"
"  -o skip_redo=N  0..2 as DragonFly's vfs.hammer.skip_redo (default 0)\n"
"  -o cache=SIZE   buffer cache size (K, M, G suffixes; default the engine's)\n"
"  -o flush=SECS   background flush interval (default 30; 0 = only on sync,\n"
"                  fsync, memory pressure and unmount)\n"
"  -o readahead=SIZE  the kernel's read-ahead for this mount (root; default\n"
"                  4M; 0 = the kernel's 128K)\n"
"  -o allow_other, auto_unmount, fsname=, nosuid, nodev, noexec, noatime,\n"
"     sync, async, dirsync, [fs|def|root]context=: as for any FUSE mount\n"
"     (root mounts always get allow_other; every mount default_permissions)\n"
"  -o blkdev       mount as fuseblk (root, volume 0 a block device; the\n"
"                  default there): umount waits for the final flush\n"
"  -o noblkdev     a plain fuse mount even on a block device\n"
"  -o pfs=N        mount PFS N (0..65535) alone: its root is the mount's\n"
"                  root, and it stays busy (pfs-destroy/upgrade/downgrade\n"
"                  answer EBUSY) until unmount; a slave is read-only, as of\n"
"                  its last mirroring (see fuse/README.md, PFS mounts)\n"
"  -o bioq         order the daemon's own reads, writes and flushes with\n"
"                  DragonFly's bioq (default nobioq; see fuse/README.md)\n"
"  -o bioq_reorder_minor_bytes=SIZE, bioq_reorder_burst_bytes=SIZE,\n"
"     bioq_reorder_minor_interval=N, bioq_reorder_burst_interval=N:\n"
"                  its tunables, as DragonFly's kern.bioq_reorder_* sysctls\n"
"                  (the kern. prefix may be given; defaults 262144, 3000000,\n"
"                  5, 60)\n");
}

/* "64M", "1G", "65536": binary suffixes, optional trailing B or iB. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (shift && *end == 'i')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* FUSE and VFS options passed on to libfuse as they are. */
static const char *const fuse_passthrough[] = {
	"allow_other", "auto_unmount", "suid", "nosuid", "dev", "nodev", "exec",
	"noexec", "noatime", "sync", "async", "dirsync", NULL,
};
static const char *const fuse_passthrough_val[] = {
	"fsname=", "context=", "fscontext=", "defcontext=",
	"rootcontext=", NULL,
};
/* What mount(8) and fstab may hand a helper that means nothing here. */
static const char *const ignored[] = {
	"defaults", "auto", "noauto", "user", "nouser", "users", "owner",
	"group", "_netdev", "nofail", "default_permissions", NULL,
};

static int in_list(const char *const *list, const char *opt, int prefix)
{
	for (int i = 0; list[i]; i++) {
		size_t n = strlen(list[i]);
		if (prefix ? strncmp(opt, list[i], n) == 0 : strcmp(opt, list[i]) == 0)
			return 1;
	}
	return 0;
}

/* One -o item; 0, or -1 after printing why. */
static int parse_one(struct hfuse_opts *o, const char *opt, struct fuse_args *fo,
		     int *have_fsname)
{
	const char *eq = strchr(opt, '=');
	const char *val = eq ? eq + 1 : NULL;
	size_t klen = eq ? (size_t)(eq - opt) : strlen(opt);
	long v;
#define KEY(k) (klen == strlen(k) && strncmp(opt, k, klen) == 0)
	if (!*opt || in_list(ignored, opt, 0) || strncmp(opt, "x-", 2) == 0 ||
	    strncmp(opt, "comment=", 8) == 0)
		return 0;
	if (!val && KEY("ro")) {
		o->eng.readonly = 1;
		return 0;
	}
	if (!val && KEY("rw")) {
		o->eng.readonly = 0;
		return 0;
	}
	if (!val && KEY("nohistory")) {
		o->eng.nohistory = 1;
		return 0;
	}
	if (!val && (KEY("blkdev") || KEY("noblkdev"))) {
		o->blkdev = KEY("blkdev");
		return 0;
	}
	if (!val && KEY("debug")) {
		o->debug = 1;
		return 0;
	}
	if (val && KEY("fsync_mode")) {
		if (parse_int(val, 0, 4, &v))
			goto bad;
		o->eng.fsync_mode = (int)v;
		return 0;
	}
	if (val && KEY("skip_redo")) {
		if (parse_int(val, 0, 2, &v))
			goto bad;
		o->eng.skip_redo = (int)v;
		return 0;
	}
	if (val && KEY("cache")) {
		if (parse_size(val, &o->eng.cache_bytes) || o->eng.cache_bytes == 0)
			goto bad;
		return 0;
	}
	if (val && KEY("readahead")) {
		if (parse_size(val, &o->readahead) || o->readahead > (256u << 20))
			goto bad;
		return 0;
	}
	if (val && KEY("flush")) {
		if (parse_int(val, 0, 86400, &v))
			goto bad;
		o->flush_ms = (unsigned)v * 1000u;
		return 0;
	}
	if (!val && (KEY("bioq") || KEY("nobioq"))) {
		o->bioq.enable = KEY("bioq");
		return 0;
	}
	/* DragonFly's sysctl names, with or without the kern. prefix */
	if (val && strncmp(opt, "kern.", 5) == 0) {
		opt += 5;
		klen -= 5;
	}
	if (val && (KEY("bioq_reorder_minor_interval") || KEY("bioq_reorder_burst_interval"))) {
		if (parse_int(val, 1, 1000000, &v))
			goto bad;
		if (KEY("bioq_reorder_minor_interval"))
			o->bioq.minor_interval = (uint32_t)v;
		else
			o->bioq.burst_interval = (uint32_t)v;
		return 0;
	}
	if (val && (KEY("bioq_reorder_minor_bytes") || KEY("bioq_reorder_burst_bytes"))) {
		uint64_t b;
		if (parse_size(val, &b) || b == 0 || b > (1u << 30))
			goto bad;
		if (KEY("bioq_reorder_minor_bytes"))
			o->bioq.minor_bytes = b;
		else
			o->bioq.burst_bytes = b;
		return 0;
	}
	if (val && KEY("pfs")) {
		if (parse_int(val, 0, HAMMER_PFS_MAX_ID, &v))
			goto bad;
		o->pfs = v;
		return 0;
	}
	if (!val && in_list(fuse_passthrough, opt, 0)) {
		if (strcmp(opt, "allow_other") == 0)
			o->allow_other = 1;
		else
			fuse_opt_add_opt(&fo->argv[2], opt);
		return 0;
	}
	if (val && in_list(fuse_passthrough_val, opt, 1)) {
		if (KEY("fsname"))
			*have_fsname = 1;
		fuse_opt_add_opt_escaped(&fo->argv[2], opt);
		return 0;
	}
	fprintf(stderr, "hammer-fuse: unknown mount option '%s' (hammer-fuse -h lists them)\n",
		opt);
	return -1;
bad:
	fprintf(stderr, "hammer-fuse: bad value in mount option '%s'\n", opt);
	return -1;
#undef KEY
}

static int parse_opts(struct hfuse_opts *o, const char *list, struct fuse_args *fo,
		      int *have_fsname)
{
	char *copy = strdup(list);
	if (!copy)
		return -1;
	int rc = 0;
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t && !rc;
	     t = strtok_r(NULL, ",", &save))
		rc = parse_one(o, t, fo, have_fsname);
	free(copy);
	return rc;
}

void hfuse_set_readahead(struct hfuse *h)
{
	if (!h->o.readahead || geteuid() != 0 || !h->dev)
		return;
	char path[96], val[32];
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u%s/read_ahead_kb",
		 major(h->dev), minor(h->dev), h->fuseblk ? "-fuseblk" : "");
	int n = snprintf(val, sizeof(val), "%llu\n",
			 (unsigned long long)(h->o.readahead >> 10));
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, (size_t)n) != n)
		hfuse_log(h, "warning: cannot set the read-ahead (%s: %s); "
			  "sequential reads stay at the kernel's 128 KiB",
			  path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* The mount's st_dev, from the last mountinfo line for our mount point. */
static int find_dev(const char *mp, dev_t *dev)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	while (getline(&line, &cap, f) > 0) {
		unsigned maj, min;
		char path[PATH_MAX + 1], fstype[64];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*u %*u %u:%u %*s %4096s", &maj, &min, path) != 3 ||
		    sscanf(dash + 3, "%63s", fstype) != 1)
			continue;
		/* mountinfo escapes space, tab, newline and backslash as \ooo */
		char *w = path;
		for (char *r = path; *r; ) {
			if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
			    r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
				*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
				r += 4;
			} else {
				*w++ = *r++;
			}
		}
		*w = '\0';
		if (strcmp(path, mp) == 0 && (strcmp(fstype, "fuse.hammer") == 0 ||
					       strcmp(fstype, "fuseblk.hammer") == 0)) {
			*dev = makedev(maj, min);
			found = 1;
		}
	}
	free(line);
	fclose(f);
	return found ? 0 : -ENOENT;
}

static void block_signals(sigset_t *old)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &s, old);
}

/* "a:b" with each volume as an absolute path (the daemon chdirs to /). */
static char *abs_devs(const char *devs)
{
	size_t cap = strlen(devs) + 1, len = 0;
	char *out = malloc(cap);
	for (const char *p = devs; out && *p; ) {
		size_t n = strcspn(p, ":");
		char *v = strndup(p, n);
		char *r = v ? realpath(v, NULL) : NULL;
		const char *use = r ? r : v ? v : "";
		size_t k = strlen(use);
		char *grown = realloc(out, cap + k + 2);
		if (!grown) {
			free(out);
			out = NULL;
		} else {
			out = grown;
			cap += k + 2;
			if (len)
				out[len++] = ':';
			memcpy(out + len, use, k);
			len += k;
		}
		free(r);
		free(v);
		p += n;
		if (*p == ':')
			p++;
	}
	if (out)
		out[len] = '\0';
	return out;
}

/*
 * A loop device over the image `path` that detaches itself when its last
 * opener closes it: our *fd until the fuseblk mount holds it, then the
 * mount.  Returns its name, or NULL with the reason in why.
 */
static char *loop_attach(const char *path, int rdonly, int *fd, char *why,
			 size_t wsize)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		snprintf(why, wsize, "no loop devices (/dev/loop-control: %s)",
			 strerror(errno));
		return NULL;
	}
	int ffd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (ffd < 0) {
		snprintf(why, wsize, "%s: %s", path, strerror(errno));
		close(ctl);
		return NULL;
	}
	char *name = NULL;
	snprintf(why, wsize, "no free loop device");
	/* another program may take the free device first: try again */
	for (int tries = 0; tries < 16 && !name; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			snprintf(why, wsize, "no free loop device: %s", strerror(errno));
			break;
		}
		char dev[32];
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		int lfd = open(dev, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (lfd < 0) {
			snprintf(why, wsize, "%s: %s", dev, strerror(errno));
			continue;
		}
		struct loop_config cfg;
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (uint32_t)ffd;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (rdonly ? LO_FLAGS_READ_ONLY : 0);
		snprintf((char *)cfg.info.lo_file_name, LO_NAME_SIZE, "%s", path);
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0) {
			name = strdup(dev);
			if (name)
				*fd = lfd;
			else
				close(lfd);
			break;
		}
		int e = errno;
		close(lfd);
		snprintf(why, wsize, "%s: LOOP_CONFIGURE: %s", dev, strerror(e));
		if (e != EBUSY)
			break;
	}
	close(ffd);
	close(ctl);
	return name;
}

/*
 * The block device to mount fuseblk from: volume 0 of "dev[:dev...]" if it
 * is one, else a loop device over it.  NULL (reason in why) if neither.
 */
static char *vol0_blockdev(const char *devs, int rdonly, int *loopfd, char *why,
			   size_t wsize)
{
	char *v = strndup(devs, strcspn(devs, ":"));
	char *path = v ? realpath(v, NULL) : NULL;
	struct stat st;
	char *r = NULL;
	*loopfd = -1;
	if (!path || stat(path, &st) != 0)
		snprintf(why, wsize, "%s: %s", v ? v : devs, strerror(errno));
	else if (S_ISBLK(st.st_mode))
		r = strdup(path);
	else
		r = loop_attach(path, rdonly, loopfd, why, wsize);
	free(path);
	free(v);
	return r;
}

/*
 * The periodic flush.  Like DragonFly's syncer (hammer_sync_hmp: two flush
 * cycles), every period with a change in it ends with hammer_sync, so
 * anything older than one period survives a crash.  One cycle would not be
 * enough: recovery undoes the last cycle until the next one's header moves
 * the FIFO's first_offset past it, and an idle mount has no next cycle.
 * "A change" is a new TID or a cycle the engine ran on its own (memory or
 * FIFO pressure, fsync), which hammer_mount_info shows.
 */
static void *syncer_main(void *arg)
{
	struct hfuse *h = arg;
	struct hammer_mount_info mi;
	hammer_tid_t seen_tid = 0;
	uint64_t seen_cycles = 0;
	int logged = 0;
	if (hammer_mount_info(h->m, &mi) == 0) {
		seen_tid = mi.next_tid;
		seen_cycles = mi.flush_cycles;
	}
	pthread_mutex_lock(&h->syncer_lock);
	while (!h->syncer_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)h->o.flush_ms * 1000000u;
		ts.tv_sec += (time_t)(ns / 1000000000u);
		ts.tv_nsec = (long)(ns % 1000000000u);
		while (!h->syncer_stop &&
		       pthread_cond_timedwait(&h->syncer_cv, &h->syncer_lock, &ts) == 0)
			;
		if (h->syncer_stop)
			break;
		pthread_mutex_unlock(&h->syncer_lock);
		if (hammer_mount_info(h->m, &mi) == 0 &&
		    (mi.next_tid != seen_tid || mi.flush_cycles != seen_cycles ||
		     mi.dirty_bytes)) {
			int rc = hammer_sync(h->m);
			if (rc && !logged++)
				hfuse_log(h, "periodic flush of %s: %s", h->devs,
					  strerror(hfuse_errno(h, rc)));
			if (hammer_mount_info(h->m, &mi) == 0) {
				seen_tid = mi.next_tid;
				seen_cycles = mi.flush_cycles;
			}
		}
		pthread_mutex_lock(&h->syncer_lock);
	}
	pthread_mutex_unlock(&h->syncer_lock);
	return NULL;
}

static int syncer_start(struct hfuse *h)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->syncer_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&h->syncer, NULL, syncer_main, h) != 0)
		return -EAGAIN;
	h->syncer_running = 1;
	return 0;
}

static void syncer_stop(struct hfuse *h)
{
	if (!h->syncer_running)
		return;
	pthread_mutex_lock(&h->syncer_lock);
	h->syncer_stop = 1;
	pthread_cond_broadcast(&h->syncer_cv);
	pthread_mutex_unlock(&h->syncer_lock);
	pthread_join(h->syncer, NULL);
	h->syncer_running = 0;
}

/* ---------------------------------------------------------- PFS mounts */

/*
 * Make node id 1 of h the root of PFS pfs_id and hold the PFS (released in
 * hfuse_shutdown).  *ro: the PFS can only be seen read-only (a slave, as of
 * its sync_end_tid).  PFS 0 is the whole file system: nothing to hold.
 */
static int pfs_attach(struct hfuse *h, uint32_t pfs_id, int *ro, char *why,
		      size_t wsize)
{
	h->root = HAMMER_ROOT_INO;
	h->pfs_id = 0;
	*ro = 0;
	if (pfs_id == 0)
		return 0;
	struct hammer_pseudofs_data pd;
	struct hammer_err err = { 0 };
	int rc = hammer_pfs_status(h->m, pfs_id, &pd, &err);
	if (rc) {
		if (rc == -ENOENT)
			snprintf(why, wsize, "PFS #%u does not exist", pfs_id);
		else
			snprintf(why, wsize, "PFS #%u: %s", pfs_id, err.code &&
				 err.msg[0] ? err.msg : strerror(-rc));
		return rc;
	}
	int slave = (pd.mirror_flags & HAMMER_PFSD_SLAVE) != 0;
	struct hammer_attr a;
	rc = hammer_pfs_root(h->m, pfs_id, &a);
	if (rc) {
		if (rc == -ENOENT && slave)
			snprintf(why, wsize, "PFS #%u is a slave with no root directory "
				 "yet (nothing was mirrored into it): nothing to mount",
				 pfs_id);
		else
			snprintf(why, wsize, "root of PFS #%u: %s", pfs_id,
				 strerror(hfuse_errno(h, rc)));
		return rc;
	}
	rc = hammer_pfs_hold(h->m, pfs_id, +1);
	if (rc) {
		snprintf(why, wsize, "cannot hold PFS #%u: %s", pfs_id,
			 strerror(hfuse_errno(h, rc)));
		return rc;
	}
	h->root = a.ino;
	h->pfs_id = pfs_id;
	h->pfs_held = 1;
	*ro = slave || a.asof != 0;
	return 0;
}

static void pfs_release(struct hfuse *h)
{
	if (!h->pfs_held || !h->m)
		return;
	int rc = hammer_pfs_hold(h->m, h->pfs_id, -1);
	if (rc)
		hfuse_log(h, "release of PFS #%u: %s", h->pfs_id, strerror(-rc));
	h->pfs_held = 0;
}

/*
 * A pfs-mount session: a second FUSE mount served by this daemon over the
 * same engine mount (only one process may hold the volumes for writing).
 * Its thread runs the session loop; a umount of its directory ends the
 * loop, and the thread then shuts the session down (hfuse_shutdown: the
 * PFS hold goes, a flush, unmount-wait clients are told).
 */
struct hfuse_sub {
	struct hfuse h;
	pthread_t thread;
	atomic_int done;	/* the thread has shut the session down */
	struct hfuse_sub *next;
};

static void *sub_main(void *arg)
{
	struct hfuse_sub *s = arg;
	struct hfuse *h = &s->h;
	int rc;
	if (h->o.single_thread) {
		rc = fuse_session_loop(h->se);
	} else {
		struct fuse_loop_config *cfg = fuse_loop_cfg_create();
		rc = cfg ? fuse_session_loop_mt(h->se, cfg) : -ENOMEM;
		if (cfg)
			fuse_loop_cfg_destroy(cfg);
	}
	if (rc && rc != SIGTERM && rc != SIGINT && rc != SIGHUP)
		hfuse_log(h, "session loop of %s ended: %s", h->mountpoint,
			  strerror(rc < 0 ? -rc : rc));
	fuse_session_unmount(h->se);	/* nothing left to do after a umount */
	fuse_session_destroy(h->se);	/* op_destroy: hfuse_shutdown */
	hfuse_shutdown(h);
	atomic_store(&s->done, 1);
	return NULL;
}

/* ask the kernel to end a session whose mount is gone or busy */
static void sub_abort(struct hfuse_sub *s)
{
	char path[96];
	snprintf(path, sizeof(path), "/sys/fs/fuse/connections/%u/abort",
		 minor(s->h.dev));
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "1", 1);
		close(fd);
	}
}

static int sub_wait(struct hfuse_sub *s, int ms)
{
	for (int i = 0; i < ms && !atomic_load(&s->done); i++) {
		struct timespec ts = { .tv_nsec = 1000000 };
		nanosleep(&ts, NULL);
	}
	return atomic_load(&s->done);
}

/* Reap finished sessions; with all, end the others first (daemon exit). */
static void subs_stop(struct hfuse *h, int all)
{
	pthread_mutex_lock(&h->sub_lock);
	struct hfuse_sub **pp = &h->subs;
	while (*pp) {
		struct hfuse_sub *s = *pp;
		if (!all && !atomic_load(&s->done)) {
			pp = &s->next;
			continue;
		}
		if (!atomic_load(&s->done)) {
			/* as `umount -l DIR`; a busy or unreachable mount: abort */
			if (umount2(s->h.mountpoint, MNT_DETACH) != 0 && geteuid() != 0) {
				pid_t pid = fork();
				if (pid == 0) {
					execlp("fusermount3", "fusermount3", "-u", "-z", "-q",
					       s->h.mountpoint, (char *)NULL);
					_exit(127);
				}
				if (pid > 0)
					waitpid(pid, NULL, 0);
			}
			if (!sub_wait(s, 2000)) {
				sub_abort(s);
				sub_wait(s, 5000);
			}
			if (!atomic_load(&s->done))
				hfuse_log(h, "PFS mount %s does not end; exiting anyway",
					  s->h.mountpoint);
		}
		*pp = s->next;
		if (atomic_load(&s->done)) {
			pthread_join(s->thread, NULL);
			free(s->h.mountpoint);
			free(s);
		}
	}
	pthread_mutex_unlock(&h->sub_lock);
}

int hfuse_pfs_mount(struct hfuse *h, uint32_t pfs_id, const char *dir,
		    const char *opts, char *why, size_t wsize)
{
	while (h->parent)
		h = h->parent;
	if (atomic_load(&h->closing) || h->down) {
		snprintf(why, wsize, "the file system is being unmounted");
		return -ESHUTDOWN;
	}
	subs_stop(h, 0);	/* forget the sessions already unmounted */
	int want_ro = opts && strcmp(opts, "ro") == 0;
	struct hfuse_sub *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(why, wsize, "out of memory");
		return -ENOMEM;
	}
	struct hfuse *sh = &s->h;
	sh->m = h->m;
	sh->o = h->o;
	sh->devs = h->devs;
	sh->devs_abs = h->devs_abs;
	sh->owner = h->owner;
	sh->ctl_fd = -1;
	sh->parent = h;
	sh->pfs_shared = h->pfs_shared;
	pthread_mutex_init(&sh->down_lock, NULL);
	pthread_mutex_init(&sh->wait_lock, NULL);
	pthread_mutex_init(&sh->syncer_lock, NULL);
	pthread_mutex_init(&sh->sub_lock, NULL);
	struct stat st;
	sh->mountpoint = realpath(dir, NULL);
	int e = !sh->mountpoint || stat(sh->mountpoint, &st) != 0 ? errno :
		!S_ISDIR(st.st_mode) ? ENOTDIR : 0;
	if (e) {
		snprintf(why, wsize, "mount point %s: %s", dir, strerror(e));
		free(sh->mountpoint);
		free(s);
		return -e;
	}
	int ro = 0;
	int rc = pfs_attach(sh, pfs_id, &ro, why, wsize);
	if (rc) {
		free(sh->mountpoint);
		free(s);
		return rc;
	}
	sh->o.eng.readonly = h->o.eng.readonly || ro || want_ro;
	/* the same FUSE options as the main mount: allow_other, ro, fsname */
	struct fuse_args fa = FUSE_ARGS_INIT(0, NULL);
	char *fsn = malloc(strlen(h->devs) + 24);
	rc = -ENOMEM;
	if (fsn && fuse_opt_add_arg(&fa, "hammer-fuse") == 0 &&
	    fuse_opt_add_arg(&fa, "-o") == 0 &&
	    fuse_opt_add_arg(&fa, "subtype=hammer,default_permissions") == 0) {
		if (sh->o.allow_other)
			fuse_opt_add_opt(&fa.argv[2], "allow_other");
		if (sh->o.eng.readonly)
			fuse_opt_add_opt(&fa.argv[2], "ro");
		sprintf(fsn, "fsname=%s", h->devs);
		fuse_opt_add_opt_escaped(&fa.argv[2], fsn);
		sh->se = fuse_session_new(&fa, &hfuse_ops, sizeof(hfuse_ops), sh);
		rc = -EIO;
		if (sh->se && fuse_session_mount(sh->se, sh->mountpoint) == 0)
			rc = 0;
		else if (sh->se) {
			fuse_session_destroy(sh->se);
			sh->se = NULL;
		}
		if (rc)
			snprintf(why, wsize, "cannot mount FUSE on %s", sh->mountpoint);
	} else {
		snprintf(why, wsize, "out of memory");
	}
	free(fsn);
	fuse_opt_free_args(&fa);
	if (rc) {
		pfs_release(sh);
		free(sh->mountpoint);
		free(s);
		return rc;
	}
	if (fuse_session_custom_io(sh->se, &hfuse_io, fuse_session_fd(sh->se)))
		hfuse_log(h, "warning: sync(1) will not reach %s (no custom I/O)",
			  sh->mountpoint);
	/* its own control socket, found from its own st_dev */
	int crc = find_dev(sh->mountpoint, &sh->dev);
	if (!crc)
		crc = hfuse_ctl_start(sh);
	if (!crc)
		crc = hfuse_ctl_run(sh);
	if (crc)
		hfuse_log(h, "warning: no control socket for %s (%s)", sh->mountpoint,
			  strerror(-crc));
	sigset_t old;
	block_signals(&old);
	if (pthread_create(&s->thread, NULL, sub_main, s) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		fuse_session_unmount(sh->se);
		fuse_session_destroy(sh->se);
		hfuse_shutdown(sh);
		free(sh->mountpoint);
		free(s);
		snprintf(why, wsize, "cannot start a thread");
		return -EAGAIN;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (h->pfs_shared) {
		atomic_fetch_add(&h->pfs_shared[sh->pfs_id], 1);
		atomic_fetch_add(&h->pfs_shared[HAMMER_PFS_MAX_ID + 1], 1);
		sh->pfs_counted = 1;
	}
	pthread_mutex_lock(&h->sub_lock);
	s->next = h->subs;
	h->subs = s;
	pthread_mutex_unlock(&h->sub_lock);
	return 0;
}

/*
 * The control verb "pfs-mount ID ro|rw DIR" (ctl.c): mount.fuse.hammer
 * sends it when the "device" is a path inside this mount.  Returns 0 or a
 * positive errno, with a message in msg.
 */
int hfuse_ctl_pfs_mount(struct hfuse *h, int priv, const char *args, char *msg,
			size_t msize)
{
	char *end;
	if (!priv) {
		snprintf(msg, msize, "pfs-mount needs root or the user who mounted");
		return EPERM;
	}
	errno = 0;
	unsigned long id = strtoul(args, &end, 10);
	if (end == args || errno || id > HAMMER_PFS_MAX_ID ||
	    (strncmp(end, " ro ", 4) != 0 && strncmp(end, " rw ", 4) != 0) ||
	    !end[4]) {
		snprintf(msg, msize, "usage: pfs-mount ID ro|rw DIR");
		return EINVAL;
	}
	char mode[3] = { end[1], end[2], 0 };
	int rc = hfuse_pfs_mount(h, (uint32_t)id, end + 4, mode, msg, msize);
	if (!rc)
		snprintf(msg, msize, "mounted");
	return rc ? hfuse_errno(h, rc) : 0;
}

void hfuse_shutdown(struct hfuse *h)
{
	pthread_mutex_lock(&h->down_lock);
	if (!h->down && h->parent) {
		/* a pfs-mount session: the engine stays, the daemon's */
		h->down = 1;
		hfuse_drain(h);
		hfuse_ctl_stop(h);
		pfs_release(h);
		if (h->pfs_counted) {
			atomic_fetch_sub(&h->pfs_shared[h->pfs_id], 1);
			atomic_fetch_sub(&h->pfs_shared[HAMMER_PFS_MAX_ID + 1], 1);
			h->pfs_counted = 0;
		}
		int rc = h->o.eng.readonly ? 0 : hammer_sync(h->m);
		if (rc)
			hfuse_log(h, "flush at the unmount of %s: %s", h->mountpoint,
				  strerror(hfuse_errno(h, rc)));
		h->unmount_rc = rc;
		hfuse_ctl_notify(h, rc);
	} else if (!h->down) {
		h->down = 1;
		subs_stop(h, 1);	/* pfs-mount sessions first: they use h->m */
		hfuse_drain(h);
		hfuse_ctl_stop(h);
		syncer_stop(h);
		pfs_release(h);
		int rc = hammer_unmount(h->m);	/* flushes, drops the volume locks */
		h->m = NULL;
		if (rc)
			hfuse_log(h, "unmount of %s: %s", h->devs, strerror(-rc));
		h->unmount_rc = rc;
		hfuse_ctl_notify(h, rc);
	}
	pthread_mutex_unlock(&h->down_lock);
}

int main(int argc, char **argv)
{
	/*
	 * One malloc arena.  glibc gives each thread that allocates its own
	 * (up to 8 per core), and buffers freed by one FUSE worker stay in
	 * that worker's arena: with a 64 MiB cache the daemon grew to three
	 * times that.  The engine runs under one lock anyway, so the shared
	 * arena costs little; memory then stays within the bound in
	 * fuse/README.md (cache x 1.25 + 48 MiB).
	 */
	mallopt(M_ARENA_MAX, 1);
	struct hfuse h;
	memset(&h, 0, sizeof(h));
	h.ctl_fd = -1;
	h.o.blkdev = -1;
	pthread_mutex_init(&h.down_lock, NULL);
	pthread_mutex_init(&h.wait_lock, NULL);
	pthread_mutex_init(&h.syncer_lock, NULL);
	pthread_mutex_init(&h.sub_lock, NULL);
	h.root = HAMMER_ROOT_INO;
	h.o.pfs = -1;
	h.pfs_shared = calloc(HAMMER_PFS_MAX_ID + 2, sizeof(*h.pfs_shared));
	hammer_mount_opts_init(&h.o.eng);
	h.o.flush_ms = 30000;
	h.o.readahead = 4u << 20;
	hammer_bdev_bioq_default(&h.o.bioq);
	h.o.entry_timeout = 1.0;
	h.o.attr_timeout = 1.0;

	/* fo: argv[0], "-o", the FUSE option string, optional "-d" */
	struct fuse_args fo = FUSE_ARGS_INIT(0, NULL);
	if (fuse_opt_add_arg(&fo, "hammer-fuse") || fuse_opt_add_arg(&fo, "-o") ||
	    fuse_opt_add_arg(&fo, "subtype=hammer,default_permissions")) {
		fprintf(stderr, "hammer-fuse: out of memory\n");
		return 1;
	}
	int have_fsname = 0;
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "fdshVo:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			h.o.foreground = 1;
			break;
		case 'd':
			h.o.debug = 1;
			break;
		case 's':
			h.o.single_thread = 1;
			break;
		case 'o':
			if (parse_opts(&h.o, optarg, &fo, &have_fsname))
				return 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("hammer-fuse %s (libfuse %s)\n", HAMMER_FUSE_VERSION,
			       fuse_pkgversion());
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 1;
	}
	h.devs = argv[optind];
	h.devs_abs = abs_devs(h.devs);
	if (h.o.debug)
		h.o.foreground = 1;
	h.mountpoint = realpath(argv[optind + 1], NULL);
	struct stat st;
	if (!h.mountpoint || stat(h.mountpoint, &st) != 0) {
		fprintf(stderr, "hammer-fuse: mount point %s: %s\n", argv[optind + 1],
			strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "hammer-fuse: mount point %s is not a directory\n",
			argv[optind + 1]);
		return 1;
	}
	h.owner = getuid();
	if (h.owner == 0)
		h.o.allow_other = 1;	/* a system file system: every user sees it */
	if (h.o.allow_other)
		fuse_opt_add_opt(&fo.argv[2], "allow_other");
	if (!have_fsname) {
		char *fsn = malloc(strlen(h.devs) + 8);
		if (!fsn)
			return 1;
		sprintf(fsn, "fsname=%s", h.devs);
		fuse_opt_add_opt_escaped(&fo.argv[2], fsn);
		free(fsn);
	}
	if (h.o.debug)
		fuse_opt_add_arg(&fo, "-d");
	/* -o blkdev: refuse now what cannot work (no fallback was asked for) */
	if (h.o.blkdev == 1 && (have_fsname || geteuid() != 0)) {
		fprintf(stderr, "hammer-fuse: -o blkdev needs root and no fsname=\n");
		fuse_opt_free_args(&fo);
		return 1;
	}

	struct hammer_err err = { 0 };
	/* before the volumes are opened: the file backend reads it at open */
	(void)hammer_bdev_file_set_bioq(&h.o.bioq);	/* depth 1 always: cannot fail */
	int rc = hammer_mount(h.devs, &h.o.eng, &h.m, &err);
	if (rc) {
		fprintf(stderr, "hammer-fuse: cannot mount %s: %s\n", h.devs,
			err.code && err.msg[0] ? err.msg : strerror(-rc));
		fuse_opt_free_args(&fo);
		return 1;
	}

	/* -o pfs=N: node id 1 is that PFS's root; a slave is seen read-only */
	int pfs_ro = 0;
	if (h.o.pfs > 0) {
		char why[256] = "";
		rc = pfs_attach(&h, (uint32_t)h.o.pfs, &pfs_ro, why, sizeof(why));
		if (rc) {
			fprintf(stderr, "hammer-fuse: cannot mount %s: %s\n", h.devs, why);
			fuse_opt_free_args(&fo);
			hammer_unmount(h.m);
			return 1;
		}
	}
	if (h.o.eng.readonly || pfs_ro)
		fuse_opt_add_opt(&fo.argv[2], "ro");

	/*
	 * fuseblk (see the top of this file) needs root -- mount(2) itself,
	 * fusermount3 refuses it -- and a block device as the mount's source,
	 * which df and /proc/mounts then show instead of the volume list.  An
	 * image file gets a loop device that goes away with the mount.
	 */
	char *blkdev = NULL;
	int loopfd = -1;
	struct fuse_args fb = FUSE_ARGS_INIT(0, NULL);
	if (h.o.blkdev == -1 && have_fsname && geteuid() == 0)
		fprintf(stderr, "hammer-fuse: note: fsname= given: a plain fuse mount, "
			"whose umount does not wait for the final flush (use "
			"umount.fuse.hammer)\n");
	if (h.o.blkdev != 0 && !have_fsname && geteuid() == 0) {
		char why[320] = "";
		blkdev = vol0_blockdev(h.devs, h.o.eng.readonly, &loopfd, why,
				       sizeof(why));
		if (!blkdev)
			fprintf(stderr, "hammer-fuse: %s%s: a plain fuse mount, whose "
				"umount does not wait for the final flush (use "
				"umount.fuse.hammer)\n", h.o.blkdev == 1 ?
				"error: -o blkdev: " : "note: ", why);
		if (!blkdev && h.o.blkdev == 1) {
			fuse_opt_free_args(&fo);
			hammer_unmount(h.m);
			return 1;
		}
	}
	if (blkdev) {
		for (int i = 0; i < fo.argc; i++)
			fuse_opt_add_arg(&fb, fo.argv[i]);
		/* after the fsname above: the last one counts */
		char *o = malloc(strlen(blkdev) + 8);
		if (!o)
			return 1;
		sprintf(o, "fsname=%s", blkdev);
		fuse_opt_add_opt(&fb.argv[2], "blkdev");
		fuse_opt_add_opt_escaped(&fb.argv[2], o);
		free(o);
	}
	int status = 1;
	/* fuseblk first where it applies; a plain fuse mount if that fails */
	for (int blk = blkdev ? 1 : 0; blk >= 0 && !h.se; blk--) {
		h.se = fuse_session_new(blk ? &fb : &fo, &hfuse_ops, sizeof(hfuse_ops), &h);
		if (h.se && fuse_set_signal_handlers(h.se) != 0) {
			fuse_session_destroy(h.se);
			h.se = NULL;
			break;
		}
		if (h.se && fuse_session_mount(h.se, h.mountpoint) == 0) {
			h.fuseblk = blk;
			/* same descriptor, read through hfuse_io (SYNCFS) */
			if (fuse_session_custom_io(h.se, &hfuse_io, fuse_session_fd(h.se)))
				fprintf(stderr, "hammer-fuse: warning: sync(1) will not "
					"reach this mount (no custom I/O)\n");
			break;
		}
		if (h.se) {
			fuse_remove_signal_handlers(h.se);
			fuse_session_destroy(h.se);
			h.se = NULL;
		}
		if (blk)
			fprintf(stderr, "hammer-fuse: cannot mount %s as fuseblk; trying "
				"a plain fuse mount (umount will not wait for the final "
				"flush, see umount.fuse.hammer)\n", blkdev);
		else
			fprintf(stderr, "hammer-fuse: cannot mount FUSE on %s\n",
				h.mountpoint);
	}
	fuse_opt_free_args(&fo);
	fuse_opt_free_args(&fb);
	free(blkdev);
	/* the fuseblk super block holds the loop device now (or it detaches) */
	if (loopfd >= 0)
		close(loopfd);
	if (!h.se)
		goto out_engine;
	rc = find_dev(h.mountpoint, &h.dev);
	if (!rc)
		rc = hfuse_ctl_start(&h);
	if (rc)
		fprintf(stderr, "hammer-fuse: warning: no control socket (%s); "
			"`hammer synctid|info|version` will not reach this mount\n",
			strerror(-rc));
	if (fuse_daemonize(h.o.foreground) != 0)
		goto out_unmount;
	if (!h.o.foreground)
		hfuse_set_daemonized();

	sigset_t old;
	block_signals(&old);	/* our threads never take the exit signals */
	if (h.o.flush_ms && !h.o.eng.readonly) {
		rc = syncer_start(&h);
		if (rc)
			hfuse_log(&h, "cannot start the periodic flush: %s", strerror(-rc));
	}
	rc = hfuse_ctl_run(&h);
	if (rc)
		hfuse_log(&h, "cannot start the control socket thread: %s",
			  strerror(-rc));
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (h.o.single_thread) {
		rc = fuse_session_loop(h.se);
	} else {
		struct fuse_loop_config *cfg = fuse_loop_cfg_create();
		if (!cfg) {
			rc = -ENOMEM;
		} else {
			rc = fuse_session_loop_mt(h.se, cfg);
			fuse_loop_cfg_destroy(cfg);
		}
	}
	status = rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP ? 0 : 1;
	if (status)
		hfuse_log(&h, "session loop ended: %s", strerror(rc < 0 ? -rc : rc));
	/* pfs-mount sessions first: while ours is mounted, their paths resolve */
	subs_stop(&h, 1);
out_unmount:
	fuse_session_unmount(h.se);
	fuse_remove_signal_handlers(h.se);
	/*
	 * The final flush must not die of the next polite signal (systemd
	 * repeats SIGTERM at shutdown); SIGKILL still works, and recovery
	 * then keeps the last complete flush cycle.
	 */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	/* calls op_destroy (hfuse_shutdown) unless a DESTROY already did */
	fuse_session_destroy(h.se);
out_engine:
	hfuse_shutdown(&h);
	if (h.unmount_rc)
		status = 1;
	free(h.mountpoint);
	free(h.devs_abs);
	free(h.pfs_shared);
	return status;
}
