/*
 * cmd_synctid.c - `hammer synctid <filesystem> [quick]`: flush a mounted
 * file system and print the transaction id that names the flushed state,
 * for use in name@@0x<tid> paths.  The mount is reached through
 * hammer-fuse's control socket (cli/ctl.c); only root or the user who
 * mounted may run it, since it forces writes.
 */
#include "hammer.h"
#include "ctl.h"

#include <string.h>

int cmd_synctid(struct hammer_opts *o, int argc, char **argv)
{
	if (o->devs || argc < 2 || argc > 3 ||
	    (argc == 3 && strcmp(argv[2], "quick") != 0)) {
		fprintf(o->err, "usage: hammer synctid <filesystem> [quick]\n"
			"  (on a mounted file system; without -f)\n");
		return HAMMER_EXIT_USAGE;
	}
	/* "quick" asks DragonFly for one flush cycle; two are never less safe */
	struct hammer_ctl_reply r;
	if (hammer_ctl_call(argv[1], "synctid", &r, o->err))
		return HAMMER_EXIT_USAGE;
	char tid[32];
	if (r.status || !hammer_ctl_get(&r, "tid", tid, sizeof(tid))) {
		fprintf(o->err, "hammer: synctid %s failed: %s\n", argv[1],
			r.status ? r.msg : "no TID in the reply");
		return HAMMER_EXIT_USAGE;
	}
	fprintf(o->out, "%s\n", tid);
	return HAMMER_EXIT_OK;
}
