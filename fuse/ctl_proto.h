/*
 * ctl_proto.h - the control socket between hammer-fuse and `hammer`.
 *
 * Each mount listens on a UNIX stream socket named after the st_dev of the
 * mounted file system, so a client finds it from any path inside the mount
 * with one stat(): HAMMER_CTL_DIR/<major>:<minor>.sock (root mounts), or the
 * same name under $XDG_RUNTIME_DIR/hammer-fuse (mounts by other users).
 *
 * A request is one line, "<verb> [args]\n" (at most HAMMER_CTL_LINE bytes).
 * The reply is "<status> <message>\n" (status 0 or a positive errno), then
 * "key=value\n" lines, then end of file.  Verbs that change the file system
 * are refused (EPERM) unless SO_PEERCRED shows root or the mounting user.
 * A future verb that streams (mirroring) may switch the connection to its
 * own framing after its reply line.
 *
 * Verbs:
 *   version       current=, min=, max= (on-disk versions)
 *   info          label=, nvolumes=, volumes=, rootvol=, fsid=, version=,
 *                 bigblocks=, freebigblocks=, rsvbigblocks=, inodes=,
 *                 undo_size=, undo_used= (bytes, in use now),
 *                 pfs=<id> with pfs.<id>.mode=, .shared_uuid=, .snapshots=,
 *                 .source=, and the daemon's state: mountpoint=, readonly=,
 *                 fuseblk=, pid=, next_tid=, flush_tid=, flush_cycles=,
 *                 dirty_bytes=, fast_fsyncs=, redo_replayed=, cache_bytes=,
 *                 heap_bytes=, heap_inuse=, flush_interval_ms=, fsync_mode=,
 *                 nohistory=.  Unknown keys are for clients to ignore.
 *   synctid       (privileged) flush; tid=
 *   unmount-wait  (privileged) "0 waiting", then the connection stays open
 *                 and gets one more status line once the final flush after
 *                 the unmount is done and the volumes are closed ("0 ..." or
 *                 "<errno> ..."); end of file without it means the daemon
 *                 died first.  umount.fuse.hammer uses it.
 */
#ifndef HAMMER_CTL_PROTO_H
#define HAMMER_CTL_PROTO_H

#include <stdio.h>
#include <stdlib.h>

#define HAMMER_CTL_DIR		"/run/hammer-fuse"
#define HAMMER_CTL_SUBDIR	"hammer-fuse"	/* under $XDG_RUNTIME_DIR */
#define HAMMER_CTL_LINE		512
#define HAMMER_CTL_PROTO	1

static inline int hammer_ctl_sock_name(char *buf, size_t size, const char *dir,
				       unsigned maj, unsigned min)
{
	int n = snprintf(buf, size, "%s/%u:%u.sock", dir, maj, min);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/*
 * Where a client looks for the socket of device maj:min: candidate 0 is
 * root's directory, candidate 1 this user's ($XDG_RUNTIME_DIR).  Returns
 * 0 with the path in buf, or -1 when candidate i does not exist or does
 * not fit.
 */
static inline int hammer_ctl_sock_candidate(int i, char *buf, size_t size,
					    unsigned maj, unsigned min)
{
	char dir[256];
	const char *x = getenv("XDG_RUNTIME_DIR");
	int n;
	if (i == 0)
		n = snprintf(dir, sizeof(dir), "%s", HAMMER_CTL_DIR);
	else if (i == 1 && x && *x)
		n = snprintf(dir, sizeof(dir), "%s/%s", x, HAMMER_CTL_SUBDIR);
	else
		return -1;
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -1;
	return hammer_ctl_sock_name(buf, size, dir, maj, min);
}

#endif
