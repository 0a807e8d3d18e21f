/*
 * cmd_reblock.c - `hammer reblock`, `reblock-btree`, `reblock-inodes`,
 * `reblock-dirs` and `reblock-data FILESYSTEM [FILL%]`, run by the mounted
 * daemon's reblock verb (fuse/ctl_proto.h; engine ref/reblock.c).
 *
 * As DragonFly's: plain `reblock` moves everything (B-tree nodes, inodes,
 * directory-like records and data), the others one kind; FILL (0..100,
 * default 100) sets the free level: whatever sits in a big-block with at
 * least (100 - FILL)% of it free moves, so 100 rewrites everything and 90
 * empties big-blocks at most 90% full.  -t SECONDS stops the run after
 * that long ("interrupted by timer at" the key); with -c CYCLEFILE the
 * key is kept there and the next run resumes at it (cli/cycle.h).  The PFS is the one the path is in.
 * Output: DragonFly's lines ("Reblock FS succeeded", "Reblocked:" and the
 * counts); failures exit 1.
 */
#include "hammer.h"
#include "ctl.h"
#include "cycle.h"
#include "ref/hammer.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cmd_reblock(struct hammer_opts *o, int argc, char **argv);

static const struct {
	const char *name;
	unsigned flags;
} kinds[] = {
	{ "reblock", HAMMER_REBLOCK_ALL },
	{ "reblock-btree", HAMMER_REBLOCK_BTREE },
	{ "reblock-inodes", HAMMER_REBLOCK_INODES },
	{ "reblock-dirs", HAMMER_REBLOCK_DIRS },
	{ "reblock-data", HAMMER_REBLOCK_DATA },
};

static int usage(struct hammer_opts *o, const char *cmd)
{
	fprintf(o->err, "usage: hammer %s <filesystem> [fill_percentage]  "
		"(0..100, default 100)\n", cmd);
	return HAMMER_EXIT_USAGE;
}

int cmd_reblock(struct hammer_opts *o, int argc, char **argv)
{
	unsigned flags = 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(argv[0], kinds[i].name) == 0)
			flags = kinds[i].flags;
	if (!flags || argc < 2 || argc > 3 || argv[1][0] == '-')
		return usage(o, argv[0]);
	const char *fs = argv[1];
	long fill = 100;
	if (argc == 3) {
		char *e;
		errno = 0;
		fill = strtol(argv[2], &e, 10);
		if (errno || e == argv[2] || (*e && strcmp(e, "%") != 0) || fill < 0 ||
		    fill > 100) {
			fprintf(o->err, "hammer: %s: fill percentage '%s': a number "
				"0..100 expected\n", argv[0], argv[2]);
			return HAMMER_EXIT_USAGE;
		}
	}
	struct stat st;
	if (stat(fs, &st) != 0) {
		fprintf(o->err, "hammer: %s: %s: %s\n", argv[0], fs, strerror(errno));
		return HAMMER_EXIT_USAGE;
	}
	uint32_t pfs = (uint32_t)((uint64_t)st.st_ino >> 48);	/* hammer_report_ino */
	char req[256], key[96];
	hammer_cycle_arg(o, key, sizeof(key));
	snprintf(req, sizeof(req), "reblock %u %u %ld %d%s", pfs, flags, fill,
		 o->timeout > 0 ? o->timeout : 0, key);
	int32_t free_level = HAMMER_BIGBLOCK_SIZE -
			     (int32_t)((int64_t)fill * HAMMER_BIGBLOCK_SIZE / 100);
	fprintf(o->out, "reblock start %016llx:%04x\nfree level %d\n",
		0x8000000000000000ULL, 0u, free_level);
	fflush(o->out);
	struct hammer_ctl_reply r;
	int fd = hammer_ctl_open(fs, req, &r, o->err);
	if (fd == -1)
		return HAMMER_EXIT_USAGE;
	if (fd == -2 || hammer_ctl_finish(fd, &r) != 0 || r.status) {
		fprintf(o->out, "Reblock %s failed: %s\n", fs, r.msg);
		return HAMMER_EXIT_USAGE;
	}
	char v[8][32];
	static const char *const keys[8] = {
		"btree_moves", "btree_nodes", "data_moves", "data_elements",
		"data_bytes", "data_byte_count", "stopped", "data_skipped",
	};
	for (int i = 0; i < 8; i++)
		if (!hammer_ctl_get(&r, keys[i], v[i], sizeof(v[i])))
			snprintf(v[i], sizeof(v[i]), "0");
	int64_t obj;
	uint32_t loc;
	if (hammer_cycle_after(o, &r, &obj, &loc))
		fprintf(o->out, "Reblock %s interrupted by timer at %016llx %04x\n", fs,
			(unsigned long long)obj, loc);
	else if (atoi(v[6]))
		fprintf(o->out, "Reblock %s interrupted by timer\n", fs);
	else
		fprintf(o->out, "Reblock %s succeeded\n", fs);
	fprintf(o->out, "Reblocked:\n"
		"    %s/%s btree nodes\n"
		"    %s/%s data elements\n"
		"    %s/%s data bytes\n", v[0], v[1], v[2], v[3], v[4], v[5]);
	if (strcmp(v[7], "0") != 0)
		fprintf(o->err, "hammer: %s: %s data elements failed their CRC and were "
			"left in place (run hammer check)\n", argv[0], v[7]);
	return 0;
}
