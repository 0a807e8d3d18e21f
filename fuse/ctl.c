/*
 * ctl.c - the control socket: how `hammer synctid|info|version PATH` reaches
 * a mounted file system (protocol in ctl_proto.h).
 *
 * Why a socket and not FUSE ioctls: the kernel passes ioctls on FUSE
 * directories only with fixed-size arguments without pointers, and
 * mirroring needs streams.  One thread serves clients one at a time;
 * commands are short, and a slow client times out after a few seconds.
 * The streaming verbs (mirror-read, mirror-write, pfs-wait: ctl_mirror.c)
 * hand their connection to a thread of its own after the request line.
 *
 * unmount-wait is how umount.fuse.hammer makes `umount DIR` return only
 * after the final flush: the connection outlives the FUSE mount and gets
 * one last status line from hfuse_ctl_notify (called after hammer_unmount,
 * once the ctl thread is joined, so the two never race).
 */
#include "hfuse.h"
#include "ctl_mirror.h"
#include "ctl_pfs.h"
#include "ctl_snap.h"
#include "ctl_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "ref/buffer.h"
#include "ref/volume.h"

static int ctl_dir(char *buf, size_t size)
{
	if (mkdir(HAMMER_CTL_DIR, 0755) == 0 || errno == EEXIST) {
		if (access(HAMMER_CTL_DIR, W_OK) == 0) {
			snprintf(buf, size, "%s", HAMMER_CTL_DIR);
			return 0;
		}
	}
	const char *x = getenv("XDG_RUNTIME_DIR");
	if (!x || !*x)
		return -EACCES;
	int n = snprintf(buf, size, "%s/%s", x, HAMMER_CTL_SUBDIR);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int hfuse_ctl_start(struct hfuse *h)
{
	char dir[200];
	h->ctl_fd = -1;
	int rc = ctl_dir(dir, sizeof(dir));
	if (rc)
		return rc;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (hammer_ctl_sock_name(h->ctl_path, sizeof(h->ctl_path), dir,
				 major(h->dev), minor(h->dev)) ||
	    strlen(h->ctl_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, h->ctl_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a socket left by a killed daemon whose device number came back */
	unlink(h->ctl_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(h->ctl_path, 0666) != 0 || listen(fd, 8) != 0) {
		rc = -errno;
		close(fd);
		unlink(h->ctl_path);
		h->ctl_path[0] = '\0';
		return rc;
	}
	h->ctl_fd = fd;
	return 0;
}

/* ---------------------------------------------------------- replies */

struct reply {
	char buf[4096];
	size_t len;
};

static void add(struct reply *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add(struct reply *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r->buf + r->len, sizeof(r->buf) - r->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len += (size_t)n < sizeof(r->buf) - r->len ? (size_t)n
							: sizeof(r->buf) - r->len - 1;
}

static void status(struct reply *r, int err, const char *msg)
{
	r->len = 0;
	add(r, "%d %s\n", err, msg ? msg : err ? strerror(err) : "ok");
}

static int privileged(struct hfuse *h, const struct ucred *cr)
{
	return cr->uid == 0 || cr->uid == h->owner;
}

static void do_version(struct hfuse *h, struct reply *r)
{
	struct hammer_mount_info mi;
	int rc = hammer_mount_info(h->m, &mi);
	if (rc) {
		status(r, hfuse_errno(h, rc), NULL);
		return;
	}
	status(r, 0, NULL);
	add(r, "current=%u\nmin=%u\nmax=%u\n", mi.version,
	    HAMMER_VOL_VERSION_MIN, HAMMER_VOL_VERSION_MAX);
}

static void do_info(struct hfuse *h, struct reply *r)
{
	struct hammer_mount_info mi;
	struct hammer_statfs sf;
	int rc = hammer_mount_info(h->m, &mi);
	if (!rc)
		rc = hammer_statfs(h->m, &sf);
	if (rc) {
		status(r, hfuse_errno(h, rc), NULL);
		return;
	}
	char u[37];
	hammer_uuid_format(&mi.fsid, u);
	uint64_t per = HAMMER_BIGBLOCK_SIZE / sf.bsize;
	status(r, 0, NULL);
	add(r, "label=%.64s\n", mi.label);
	add(r, "nvolumes=%d\n", mi.nvolumes);
	add(r, "volumes=%s\n", h->devs_abs ? h->devs_abs : h->devs);
	add(r, "rootvol=%.*s\n", (int)strcspn(h->devs_abs ? h->devs_abs : h->devs, ":"),
	    h->devs_abs ? h->devs_abs : h->devs);
	add(r, "fsid=%s\n", u);
	add(r, "version=%u\n", mi.version);
	add(r, "mountpoint=%s\n", h->mountpoint);
	add(r, "readonly=%d\n", mi.readonly);
	add(r, "fuseblk=%d\n", h->fuseblk);
	add(r, "pid=%ld\n", (long)getpid());
	add(r, "bigblocks=%llu\n", (unsigned long long)(sf.blocks / per));
	add(r, "freebigblocks=%llu\n", (unsigned long long)(sf.bfree / per));
	/* held back from new writes, as DragonFly's _hammer_checkspace: none */
	add(r, "rsvbigblocks=%llu\n", (unsigned long long)((sf.bfree - sf.bavail) / per));
	add(r, "inodes=%llu\n", (unsigned long long)sf.files);
	/* the FIFO now, as DragonFly's hammer_undo_used() counts it */
	add(r, "undo_size=%llu\n", (unsigned long long)mi.undo_size);
	add(r, "undo_used=%llu\n", (unsigned long long)mi.undo_used);
	add(r, "undo_asof=now\n");
	/*
	 * PFS #0, the only one until PFS support comes.  A missing record
	 * means DragonFly's defaults: a master whose uuids are the fsid.
	 */
	struct hammer_pseudofs_data pd;
	struct hammer_err perr = { 0 };
	rc = hammer_pfs_get(h->m, 0, &pd, &perr);
	add(r, "pfs=0\n");
	if (rc == 0) {
		char su[37], uu[37];
		hammer_uuid_format(&pd.shared_uuid, su);
		hammer_uuid_format(&pd.unique_uuid, uu);
		add(r, "pfs.0.mode=%s\n",
		    (pd.mirror_flags & HAMMER_PFSD_SLAVE) ? "SLAVE" : "MASTER");
		add(r, "pfs.0.shared_uuid=%s\n", su);
		add(r, "pfs.0.unique_uuid=%s\n", uu);
		add(r, "pfs.0.label=%.64s\n", pd.label);
		add(r, "pfs.0.sync_beg_tid=0x%016llx\n",
		    (unsigned long long)pd.sync_beg_tid);
		add(r, "pfs.0.sync_end_tid=0x%016llx\n",
		    (unsigned long long)pd.sync_end_tid);
		add(r, "pfs.0.source=pfs-record\n");
	} else {
		add(r, "pfs.0.mode=MASTER\n");
		add(r, "pfs.0.shared_uuid=%s\n", u);
		add(r, "pfs.0.unique_uuid=%s\n", u);
		add(r, "pfs.0.source=%s\n", rc == -ENOENT ? "default" : "unreadable");
	}
	add(r, "pfs.0.snapshots=-\n");
	add(r, "next_tid=0x%016llx\n", (unsigned long long)mi.next_tid);
	add(r, "flush_tid=0x%016llx\n", (unsigned long long)mi.flush_tid);
	add(r, "flush_cycles=%llu\n", (unsigned long long)mi.flush_cycles);
	add(r, "dirty_bytes=%llu\n", (unsigned long long)mi.dirty_bytes);
	add(r, "fast_fsyncs=%llu\n", (unsigned long long)mi.fast_fsyncs);
	add(r, "redo_replayed=%llu\n", (unsigned long long)mi.redo_replayed);
	uint64_t cache = h->o.eng.cache_bytes ? h->o.eng.cache_bytes
					      : HAMMER_BUFCACHE_DEFAULT;
	add(r, "cache_bytes=%llu\n", (unsigned long long)
	    (cache < HAMMER_BUFCACHE_MIN ? HAMMER_BUFCACHE_MIN : cache));
	struct mallinfo2 mm = mallinfo2();
	add(r, "heap_bytes=%zu\n", mm.arena + mm.hblkhd);
	add(r, "heap_inuse=%zu\n", mm.uordblks + mm.hblkhd);
	add(r, "flush_interval_ms=%u\n", h->o.flush_ms);
	add(r, "fsync_mode=%d\n", h->o.eng.fsync_mode);
	add(r, "nohistory=%d\n", h->o.eng.nohistory);
}

static void do_synctid(struct hfuse *h, const struct ucred *cr, struct reply *r)
{
	if (!privileged(h, cr)) {
		status(r, EPERM, "synctid needs root or the user who mounted");
		return;
	}
	hammer_tid_t tid = 0;
	int rc = hammer_synctid(h->m, &tid);
	if (rc) {
		status(r, hfuse_errno(h, rc), NULL);
		return;
	}
	status(r, 0, NULL);
	add(r, "tid=0x%016llx\n", (unsigned long long)tid);
}

/* Drop waiters whose client went away (a failed umount, ^C). */
static void prune_waiters(struct hfuse *h)
{
	int k = 0;
	for (int i = 0; i < h->nwaiters; i++) {
		struct pollfd p = { .fd = h->waiters[i], .events = POLLRDHUP };
		if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			close(h->waiters[i]);
		else
			h->waiters[k++] = h->waiters[i];
	}
	h->nwaiters = k;
}

/*
 * unmount-wait: the client (umount.fuse.hammer) keeps the connection open
 * across its umount and reads one more status line, sent by
 * hfuse_ctl_notify once the final flush is done and the volumes are closed.
 * Returns 1 when the connection was kept.
 */
static int do_unmount_wait(struct hfuse *h, const struct ucred *cr, int c,
			   struct reply *r)
{
	if (!privileged(h, cr)) {
		status(r, EPERM, "unmount-wait needs root or the user who mounted");
		return 0;
	}
	pthread_mutex_lock(&h->wait_lock);
	prune_waiters(h);
	int kept = 0;
	if (h->nwaiters == HFUSE_MAX_WAITERS) {
		status(r, EBUSY, "too many unmount-wait clients");
	} else {
		status(r, 0, "waiting");
		h->waiters[h->nwaiters++] = c;
		kept = 1;
	}
	pthread_mutex_unlock(&h->wait_lock);
	return kept;
}

void hfuse_ctl_notify(struct hfuse *h, int rc)
{
	char line[HAMMER_CTL_LINE];
	int e = rc < 0 ? -rc : rc;
	if (e)
		snprintf(line, sizeof(line), "%d final flush failed: %s (the volumes "
			 "keep the last complete flush cycle)\n", e, strerror(e));
	else
		snprintf(line, sizeof(line), "0 unmounted, everything flushed\n");
	pthread_mutex_lock(&h->wait_lock);
	for (int i = 0; i < h->nwaiters; i++) {
		(void)!send(h->waiters[i], line, strlen(line), MSG_NOSIGNAL);
		close(h->waiters[i]);
	}
	h->nwaiters = 0;
	pthread_mutex_unlock(&h->wait_lock);
}

static void send_all(int c, const char *p, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t k = send(c, p + off, len - off, MSG_NOSIGNAL);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
}

/* Returns 1 when the connection must stay open (unmount-wait). */
static int serve(struct hfuse *h, int c)
{
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct reply r = { .len = 0 };
	char line[HAMMER_CTL_LINE];
	size_t n = 0;
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int kept = 0;
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0)
		return 0;
	while (n < sizeof(line) - 1) {
		ssize_t k = read(c, line + n, sizeof(line) - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
		if (memchr(line, '\n', n))
			break;
	}
	line[n] = '\0';
	char *nl = memchr(line, '\n', n);
	if (!nl) {
		status(&r, EINVAL, "request must be one line");
	} else {
		*nl = '\0';
		char *args = strchr(line, ' ');
		if (args)
			*args++ = '\0';
		struct hfuse_ctl_out po;	/* pfs-* verbs take arguments (ctl_pfs.c) */
		char ml[600];
		/* streaming verbs (ctl_mirror.c): the connection goes to a thread */
		int mk = hfuse_ctl_mirror(h, c, privileged(h, &cr), line, args ? args : "",
					  nl + 1, n - (size_t)(nl + 1 - line), ml, sizeof(ml));
		if (mk == 1)
			return 1;
		char *big = NULL;
		size_t biglen = 0;
		if (mk == 0) {
			r.len = 0;
			add(&r, "%s", ml);
		} else if (hfuse_ctl_snap(h, privileged(h, &cr), line, args ? args : "",
					  &big, &biglen) == 0) {
			/* replies of any length (snap-list, history): sent here */
			if (big)
				send_all(c, big, biglen);
			free(big);
			return 0;
		} else if (hfuse_ctl_pfs(h, &cr, privileged(h, &cr), line, args ? args : "", &po) == 0) {
			status(&r, po.err, po.msg[0] ? po.msg : NULL);
			add(&r, "%s", po.body);
		} else if (strcmp(line, "pfs-mount") == 0) {	/* main.c */
			char pm[300] = "";
			int e = hfuse_ctl_pfs_mount(h, privileged(h, &cr), args ? args : "",
						    pm, sizeof(pm));
			status(&r, e, pm[0] ? pm : NULL);
		} else if (args && *args)
			status(&r, EINVAL, "this verb takes no arguments");
		else if (strcmp(line, "version") == 0)
			do_version(h, &r);
		else if (strcmp(line, "info") == 0)
			do_info(h, &r);
		else if (strcmp(line, "synctid") == 0)
			do_synctid(h, &cr, &r);
		else if (strcmp(line, "unmount-wait") == 0)
			kept = do_unmount_wait(h, &cr, c, &r);
		else
			status(&r, EOPNOTSUPP, "unknown verb");
	}
	send_all(c, r.buf, r.len);
	return kept;
}

static void *ctl_main(void *arg)
{
	struct hfuse *h = arg;
	for (;;) {
		int c = accept4(h->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;	/* shut down by hfuse_ctl_stop */
		}
		/* a kept connection now belongs to the waiters (notify closes it) */
		if (!serve(h, c))
			close(c);
	}
	return NULL;
}

int hfuse_ctl_run(struct hfuse *h)
{
	if (h->ctl_fd < 0)
		return 0;
	if (pthread_create(&h->ctl_thread, NULL, ctl_main, h) != 0)
		return -EAGAIN;
	h->ctl_running = 1;
	return 0;
}

void hfuse_ctl_stop(struct hfuse *h)
{
	if (h->ctl_fd < 0)
		return;
	/* remove the name first: no new client can find a dying mount */
	if (h->ctl_path[0])
		unlink(h->ctl_path);
	shutdown(h->ctl_fd, SHUT_RDWR);
	if (h->ctl_running)
		pthread_join(h->ctl_thread, NULL);
	hfuse_ctl_mirror_stop(h);	/* streaming threads: cut and waited for */
	close(h->ctl_fd);
	h->ctl_fd = -1;
	h->ctl_running = 0;
}
