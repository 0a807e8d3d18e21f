/*
 * history.h - one object's history as hammer-fuse's `history` verb reports
 * it (fuse/ctl_proto.h), shared by `hammer history` (cmd_history.c) and
 * undo(1) (undo.c).  The daemon answers in B-tree order with repeats, as
 * DragonFly's GETHISTORY ioctl does; hhist_sort() is the userland's sort
 * and merge.
 */
#ifndef HAMMER_CLI_HISTORY_H
#define HAMMER_CLI_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct hhist_ent {
	uint64_t tid;
	uint32_t time32;		/* seconds since the epoch */
};

struct hhist {
	uint64_t obj_id;		/* within its PFS */
	unsigned pfs;
	int unsynced;			/* the live object has unflushed changes */
	size_t n;
	struct hhist_ent *v;		/* malloc'd; hhist_free() */
};

#define HHIST_UNREACHABLE	(-1)

/*
 * The history of the object whose st_ino is `ino`, asked of the mount that
 * holds `path`: its INODE records, or with `atkey` the DATA records of a
 * regular file covering bytes [off, off + len) (len 0: to the end).
 * Returns 0, a positive errno the daemon answered with (ENOENT, EINVAL,
 * ...), or HHIST_UNREACHABLE after writing "<prog>: <why>" to err (not on
 * a mounted HAMMER file system, no reply; err NULL: written nowhere).
 */
int hhist_get(const char *prog, const char *path, uint64_t ino, int atkey,
	      uint64_t off, uint64_t len, struct hhist *h, FILE *err);
/* Ascending TIDs, each once (the first time stamp seen for it is kept). */
void hhist_sort(struct hhist *h);
void hhist_free(struct hhist *h);
/* DragonFly's "%d-%b-%Y %H:%M:%S", local time */
const char *hhist_timestr(uint32_t time32, char buf[64]);
/*
 * `path` without a history suffix ("@@0x<tid>[:NNNNN]", "@@-1") on its
 * last component, so that "<base>@@0x<tid>" names another version of the
 * same name.  "dir/@@0x..." becomes "dir/".  0, or -1 if it does not fit.
 */
int hhist_base(const char *path, char *buf, size_t size);

#endif
