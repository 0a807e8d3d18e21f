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

#endif
