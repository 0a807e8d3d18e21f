/*
 * cmd_version.c - `hammer version <filesystem>`: the on-disk version of a
 * mounted file system and the versions this implementation handles, in
 * DragonFly's layout (min=, wip=, max=, current=, description=, then the
 * list unless -q).  Descriptions are ours (docs/SPEC.md section 15).
 */
#include "hammer.h"
#include "ctl.h"

#include <stdlib.h>

static const char *const descr[] = {
	[1] = "original format (DragonFly 2.0)",
	[2] = "directory entries stored next to the inodes (DragonFly 2.3)",
	[3] = "snapshot and configuration records (DragonFly 2.5)",
	[4] = "new UNDO/REDO FIFO layout, faster flush and fsync (DragonFly 2.5)",
	[5] = "signed big-block free counts for deduplication (DragonFly 2.9)",
	[6] = "directory hash ALG1 (DragonFly 2.9)",
	[7] = "CRC-32C checksums (DragonFly 4.8)",
};

int cmd_version(struct hammer_opts *o, int argc, char **argv)
{
	if (o->devs || argc != 2) {
		fprintf(o->err, "usage: hammer version <filesystem>\n"
			"  (on a mounted file system; without -f)\n");
		return HAMMER_EXIT_USAGE;
	}
	struct hammer_ctl_reply r;
	if (hammer_ctl_call(argv[1], "version", &r, o->err))
		return HAMMER_EXIT_USAGE;
	char b[3][32];
	const char *cur = hammer_ctl_get(&r, "current", b[0], sizeof(b[0]));
	const char *min = hammer_ctl_get(&r, "min", b[1], sizeof(b[1]));
	const char *max = hammer_ctl_get(&r, "max", b[2], sizeof(b[2]));
	if (r.status || !cur || !min || !max) {
		fprintf(o->err, "hammer: version %s failed: %s\n", argv[1],
			r.status ? r.msg : "incomplete reply");
		return HAMMER_EXIT_USAGE;
	}
	int c = atoi(cur), lo = atoi(min), hi = atoi(max);
	int nd = (int)(sizeof(descr) / sizeof(descr[0]));
	fprintf(o->out, "min=%d wip=none max=%d current=%d description=\"%s\"\n",
		lo, hi, c, c > 0 && c < nd ? descr[c] : "unknown");
	if (o->quiet == 0) {
		fprintf(o->out, "available versions:\n");
		for (int v = lo; v <= hi && v < nd; v++)
			fprintf(o->out, "    %d\tNORM\t%s\n", v, descr[v]);
	}
	return HAMMER_EXIT_OK;
}
