/*
 * cmd_rebalance.c - `hammer rebalance FILESYSTEM [SATURATION%]` (50..100,
 * default 85), run by the mounted daemon's rebalance verb
 * (fuse/ctl_proto.h; engine ref/rebalance.c): the B-tree leaves of the
 * PFS holding the path are packed to 62 x saturation% elements each and
 * the leaves that empty are freed.  -t SECONDS stops it after that long;
 * -c CYCLEFILE keeps where, for the next run to resume (cli/cycle.h).  DragonFly's output; failures exit 1.
 */
#include "hammer.h"
#include "ctl.h"
#include "cycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cmd_rebalance(struct hammer_opts *o, int argc, char **argv);

static int usage(struct hammer_opts *o)
{
	fprintf(o->err, "hammer rebalance <filesystem> [saturation_percentage]\n"
		"saturation_percentage is 50%%-100%%, default is 85%%.\n");
	return HAMMER_EXIT_USAGE;
}

int cmd_rebalance(struct hammer_opts *o, int argc, char **argv)
{
	if (argc < 2 || argc > 3 || argv[1][0] == '-')
		return usage(o);
	const char *fs = argv[1];
	long perc = 85;
	if (argc == 3) {
		char *e;
		errno = 0;
		perc = strtol(argv[2], &e, 10);
		if (errno || e == argv[2] || (*e && strcmp(e, "%") != 0) || perc < 50 ||
		    perc > 100) {
			fprintf(o->err, "hammer: rebalance: saturation '%s': a number "
				"50..100 expected\n", argv[2]);
			return usage(o);
		}
	}
	struct stat st;
	if (stat(fs, &st) != 0) {
		fprintf(o->err, "hammer: rebalance: %s: %s\n", fs, strerror(errno));
		return HAMMER_EXIT_USAGE;
	}
	uint32_t pfs = (uint32_t)((uint64_t)st.st_ino >> 48);	/* hammer_report_ino */
	char req[256], key[96];
	hammer_cycle_arg(o, key, sizeof(key));
	snprintf(req, sizeof(req), "rebalance %u %ld %d%s", pfs, perc,
		 o->timeout > 0 ? o->timeout : 0, key);
	fprintf(o->out, "rebalance start %016llx:%04x\n", 0x8000000000000000ULL, 0u);
	fflush(o->out);
	struct hammer_ctl_reply r;
	int fd = hammer_ctl_open(fs, req, &r, o->err);
	if (fd == -1)
		return HAMMER_EXIT_USAGE;
	if (fd == -2 || hammer_ctl_finish(fd, &r) != 0 || r.status) {
		fprintf(o->out, "Rebalance %s failed: %s\n", fs, r.msg);
		return HAMMER_EXIT_USAGE;
	}
	char v[4][32];
	static const char *const keys[4] = { "nodes", "deleted", "rebalanced", "stopped" };
	for (int i = 0; i < 4; i++)
		if (!hammer_ctl_get(&r, keys[i], v[i], sizeof(v[i])))
			snprintf(v[i], sizeof(v[i]), "0");
	int64_t obj;
	uint32_t loc;
	if (hammer_cycle_after(o, &r, &obj, &loc))
		fprintf(o->out, "Rebalance %s interrupted by timer at %016llx:%04x\n", fs,
			(unsigned long long)obj, loc);
	else if (atoi(v[3]))
		fprintf(o->out, "Rebalance %s interrupted by timer\n", fs);
	else
		fprintf(o->out, "Rebalance %s succeeded\n", fs);
	fprintf(o->out, "Rebalance:\n"
		"    %s B-Tree nodes scanned\n"
		"    %s B-Tree nodes deleted\n"
		"    0 collision retries\n"
		"    %s B-Tree nodes rebalanced\n", v[0], v[1], v[2]);
	return 0;
}
