/*
 * snap.h - the meta-data snapshot list of a PFS as hammer-fuse's snap-list
 * verb gives it (cli/cmd_snapshot.c), for snapls and cleanup.
 */
#ifndef HAMMER_CLI_SNAP_H
#define HAMMER_CLI_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "hammer.h"

#define HAMMER_SNAP_LABEL_MAX	63

struct hammer_snap_rec {
	uint64_t tid;
	uint64_t ts;		/* microseconds since the epoch */
	char label[HAMMER_SNAP_LABEL_MAX + 1];
};

/*
 * The records of PFS pfs of the mount holding path, in TID order, in a
 * malloc'ed array (*out, *n).  0, or an exit status after a message.
 */
int hammer_snap_list(struct hammer_opts *o, const char *path, uint32_t pfs,
		     struct hammer_snap_rec **out, size_t *n);

#endif
