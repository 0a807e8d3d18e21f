/*
 * hammer.c - `hammer [-v...] [-q...] -f DEV[:DEV...] COMMAND [ARGS]`.
 *
 * Read-only inspection of unmounted HAMMER volume sets.  Global options
 * follow DragonFly's hammer(8); commands are dispatched from a table and
 * return an exit status (see hammer.h) instead of exiting.
 */
#include "hammer.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hammer_cmd {
	const char *name;
	hammer_cmd_fn fn;
	const char *usage;
	int needs_device;
};

int cmd_check(struct hammer_opts *o, int argc, char **argv);	/* cmd_check.c */
int cmd_synctid(struct hammer_opts *o, int argc, char **argv);	/* cmd_synctid.c */
int cmd_version(struct hammer_opts *o, int argc, char **argv);	/* cmd_version.c */
int cmd_info_any(struct hammer_opts *o, int argc, char **argv);	/* cmd_info_mount.c */
int cmd_snapshot(struct hammer_opts *o, int argc, char **argv);	/* cmd_snapshot.c */
int cmd_snap(struct hammer_opts *o, int argc, char **argv);	/* cmd_snapshot.c */
int cmd_snaprm(struct hammer_opts *o, int argc, char **argv);	/* cmd_snapshot.c */
int cmd_snapls(struct hammer_opts *o, int argc, char **argv);	/* cmd_snapshot.c */
int cmd_config(struct hammer_opts *o, int argc, char **argv);	/* cmd_config.c */
int cmd_viconfig(struct hammer_opts *o, int argc, char **argv);	/* cmd_config.c */
int cmd_pfs(struct hammer_opts *o, int argc, char **argv);	/* cmd_pfs.c */
int cmd_mirror(struct hammer_opts *o, int argc, char **argv);	/* cmd_mirror.c */
int cmd_ssh_remote(struct hammer_opts *o, int argc, char **argv);	/* cmd_remote.c */
int cmd_history(struct hammer_opts *o, int argc, char **argv);	/* cmd_history.c */
int cmd_prune(struct hammer_opts *o, int argc, char **argv);	/* cmd_prune.c */
int cmd_reblock(struct hammer_opts *o, int argc, char **argv);	/* cmd_reblock.c */
int cmd_rebalance(struct hammer_opts *o, int argc, char **argv);	/* cmd_rebalance.c */
int cmd_cleanup(struct hammer_opts *o, int argc, char **argv);	/* cmd_cleanup.c */
int cmd_abort_cleanup(struct hammer_opts *o, int argc, char **argv);	/* cmd_cleanup.c */
static int cmd_help(struct hammer_opts *o, int argc, char **argv);	/* below */

static const struct hammer_cmd commands[] = {
	{ "blockmap", cmd_blockmap, "blockmap", 1 },
	{ "checkmap", cmd_checkmap, "checkmap", 1 },
	{ "check", cmd_check, "check", 1 },
	{ "show", cmd_show, "show [lo[:objid[:rectype[:key[:tid]]]]] "
	  "[filter|nofilter][,obfuscate][,indent]", 1 },
	{ "show-undo", cmd_show_undo, "show-undo", 1 },
	{ "info", cmd_info_any, "info [<filesystem> ...]  (-f: unmounted volumes)", 0 },
	{ "synctid", cmd_synctid, "synctid <filesystem> [quick]", 0 },
	{ "version", cmd_version, "version <filesystem>", 0 },
	{ "snapshot", cmd_snapshot, "snapshot [<filesystem>] <snapshot-dir> [<note>]", 0 },
	{ "snap", cmd_snap, "snap <path> [<note>]", 0 },
	{ "snaplo", cmd_snap, "snaplo <path> [<note>]", 0 },
	{ "snapq", cmd_snap, "snapq <dir> [<note>]", 0 },
	{ "snaprm", cmd_snaprm, "snaprm {<path> | <transid> | <filesystem> <transid>} ...", 0 },
	{ "snapls", cmd_snapls, "snapls [<path> ...]", 0 },
	{ "config", cmd_config, "config [<filesystem> [<configfile>]]", 0 },
	{ "viconfig", cmd_viconfig, "viconfig [<filesystem>]", 0 },
	{ "prune", cmd_prune, "prune <softlink-dir>  (-t seconds: stop after that long)", 0 },
	{ "prune-everything", cmd_prune, "prune-everything <filesystem>", 0 },
	{ "reblock", cmd_reblock, "reblock <filesystem> [fill_percentage]  (-t seconds)", 0 },
	{ "reblock-btree", cmd_reblock, "reblock-btree <filesystem> [fill_percentage]", 0 },
	{ "reblock-inodes", cmd_reblock, "reblock-inodes <filesystem> [fill_percentage]", 0 },
	{ "reblock-dirs", cmd_reblock, "reblock-dirs <filesystem> [fill_percentage]", 0 },
	{ "reblock-data", cmd_reblock, "reblock-data <filesystem> [fill_percentage]", 0 },
	{ "rebalance", cmd_rebalance, "rebalance <filesystem> [saturation_percentage]  (50..100, -t seconds)", 0 },
	{ "cleanup", cmd_cleanup, "cleanup [<filesystem> ...]  (-F: ignore the periods, -v)", 0 },
	{ "abort-cleanup", cmd_abort_cleanup, "abort-cleanup", 0 },
	{ "pfs-status", cmd_pfs, "pfs-status [<dirpath> ...]  (-f: paths in the set)", 0 },
	{ "pfs-master", cmd_pfs, "pfs-master <dirpath> [options]", 0 },
	{ "pfs-slave", cmd_pfs, "pfs-slave <dirpath> [options]", 0 },
	{ "pfs-update", cmd_pfs, "pfs-update <dirpath> [options]", 0 },
	{ "pfs-upgrade", cmd_pfs, "pfs-upgrade <dirpath>", 0 },
	{ "pfs-downgrade", cmd_pfs, "pfs-downgrade <dirpath>", 0 },
	{ "pfs-destroy", cmd_pfs, "pfs-destroy <dirpath>  (-y: answer yes, -d: no countdown)", 0 },
	{ "mirror-read", cmd_mirror, "mirror-read <filesystem> [begin-tid]", 0 },
	{ "mirror-read-stream", cmd_mirror, "mirror-read-stream <filesystem> [begin-tid]", 0 },
	{ "mirror-write", cmd_mirror, "mirror-write <filesystem>", 0 },
	{ "mirror-dump", cmd_mirror, "mirror-dump [header]", 0 },
	{ "mirror-copy", cmd_mirror, "mirror-copy [[user@]host:]<filesystem> [[user@]host:]<filesystem>", 0 },
	{ "mirror-stream", cmd_mirror, "mirror-stream [[user@]host:]<filesystem> [[user@]host:]<filesystem>", 0 },
	{ "ssh-remote", cmd_ssh_remote, "ssh-remote <command[,command...]> <target-path>  "
	  "(authorized_keys command=)", 0 },
	{ "history", cmd_history, "history[@offset[,len]] <file> ...", 0 },
	{ "help", cmd_help, "help", 0 },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hammer [-2BdFhqvXy] [-b bandwidth] [-c cyclefile] [-e scoreboardfile]\n"
		"              [-f blkdev[:blkdev]*] [-i delay] [-p ssh-port] [-R restrictcmd]\n"
		"              [-S splitsize] [-T restrictpath] [-t timeout] command [args]\n"
		"  -f devs   the volumes of the file system, colon-separated\n"
		"  -v        more detail (repeatable)\n"
		"  -q        less detail (repeatable)\n"
		"  -y        answer yes to questions (pfs-destroy; mirror-write creates\n"
		"            a missing slave)\n"
		"  -d        pfs-destroy: no 5-second countdown\n"
		"  -F        cleanup: run every directive, whether due or not\n"
		"  -b bw     mirroring: bandwidth limit in bytes/s (k, m, g: x1024),\n"
		"            paced in 100 ms windows (DragonFly: 1-second bursts)\n"
		"  -B        mirroring: no histogram prescan, one batch (bulk)\n"
		"  -S size   mirroring: prescan chunk size (k, m, g; default 4g)\n"
		"  -i delay  mirror-stream: seconds between batches (default 5)\n"
		"  -2        mirroring: two-way protocol (mirror-copy/-stream set it)\n"
		"  -p port   mirroring over ssh: the port\n"
		"  -X        mirroring over ssh: compress (ssh -C)\n"
		"  -t secs   mirror-read: stop after that many seconds\n"
		"  -c file   mirror-read: cycle file (DragonFly's binary format: a B-tree\n"
		"            key and a TID; read by one-way -B runs, written by all)\n"
		"  -e file   mirror-read(-stream): status file of 3 lines, rewritten in place\n"
		"  -R cmds   run only these commands (comma-separated; ssh-remote sets it)\n"
		"  -T path   mirror-read/-write: the target must start with path, no '..'\n"
		"  -h        this help\n"
		"commands (-f: on unmounted volumes, read-only; else on a mount):\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  hammer %s%s\n", commands[i].needs_device ? "-f blkdevs " : "", commands[i].usage);
}

static int cmd_help(struct hammer_opts *o, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(o->out);
	return HAMMER_EXIT_OK;
}

/* One command's line of the table, as `hammer help` shows it. */
static void cmd_usage(FILE *f, const struct hammer_cmd *cmd)
{
	fprintf(f, "usage: hammer %s%s\n", cmd->needs_device ? "-f blkdevs " : "", cmd->usage);
}

/*
 * The arguments a command cannot do without, counted from its usage text:
 * the <...> and {...} groups outside [...], before a "  (note)".
 */
static int required_args(const char *u)
{
	int n = 0, sq = 0;
	const char *end = strstr(u, "  (");
	for (const char *p = u; *p && (!end || p < end); p++) {
		if (*p == '[')
			sq++;
		else if (*p == ']')
			sq--;
		else if (!sq && (*p == '<' || *p == '{')) {
			char close = *p == '<' ? '>' : '}';
			n++;
			while (p[1] && p[1] != close)
				p++;
		}
	}
	return n;
}

/* A size with an optional k, m or g suffix (x1024 each), as DragonFly's -b/-S. */
static int parse_size(const char *s, uint64_t *v)
{
	char *e;
	if (*s < '0' || *s > '9')
		return -1;
	unsigned long long n = strtoull(s, &e, 0);
	unsigned shift = 0;
	switch (*e) {
	case 'k': case 'K': shift = 10; e++; break;
	case 'm': case 'M': shift = 20; e++; break;
	case 'g': case 'G': shift = 30; e++; break;
	default: break;
	}
	if (*e || (shift && n > (~0ULL >> shift)))
		return -1;
	*v = (uint64_t)n << shift;
	return 0;
}

int main(int argc, char **argv)
{
	struct hammer_opts o = { .out = stdout, .err = stderr,
				 .splitsize = 4ULL << 30, .delay = 5 };
	int ch;
	char *e;

	while ((ch = getopt(argc, argv, "+2b:Bc:de:f:Fhi:p:qR:S:t:T:vXy")) != -1) {
		switch (ch) {
		case '2':
			o.twoway = 1;
			break;
		case 'b':
			if (parse_size(optarg, &o.bandwidth)) {
				fprintf(stderr, "hammer: -b %s: a byte rate (k, m, g suffixes)\n", optarg);
				return HAMMER_EXIT_USAGE;
			}
			o.bandwidth_str = optarg;
			break;
		case 'B':
			o.bulk = 1;
			break;
		case 'c':
			o.cyclefile = optarg;
			break;
		case 'e':
			o.scoreboard = optarg;
			break;
		case 'R':	/* the first one counts, as in DragonFly */
			if (!o.restrict_cmd)
				o.restrict_cmd = optarg;
			break;
		case 'T':
			if (!o.restrict_target)
				o.restrict_target = optarg;
			break;
		case 'i':
			o.delay = (int)strtol(optarg, &e, 10);
			if (*e || e == optarg || o.delay < 0) {
				fprintf(stderr, "hammer: -i %s: seconds expected\n", optarg);
				return HAMMER_EXIT_USAGE;
			}
			break;
		case 'p':
			o.ssh_port = optarg;
			break;
		case 'S':
			if (parse_size(optarg, &o.splitsize) || o.splitsize == 0) {
				fprintf(stderr, "hammer: -S %s: a size (k, m, g suffixes)\n", optarg);
				return HAMMER_EXIT_USAGE;
			}
			o.splitsize_str = optarg;
			break;
		case 't':
			o.timeout = (int)strtol(optarg, &e, 10);
			if (*e || e == optarg || o.timeout < 0) {
				fprintf(stderr, "hammer: -t %s: seconds expected\n", optarg);
				return HAMMER_EXIT_USAGE;
			}
			break;
		case 'X':
			o.compress = 1;
			break;
		case 'd':
			o.debug++;
			break;
		case 'y':
			o.yes = 1;
			break;
		case 'f':
			o.devs = optarg;
			break;
		case 'F':
			o.force = 1;
			break;
		case 'h':
			usage(stdout);
			return HAMMER_EXIT_OK;
		case 'q':
			o.quiet++;
			break;
		case 'v':
			o.verbose++;
			break;
		default:
			usage(stderr);
			return HAMMER_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return HAMMER_EXIT_USAGE;
	}
	/* -R (hammer ssh-remote): the command must be one of the list */
	if (o.restrict_cmd) {
		const char *p = o.restrict_cmd;
		size_t len = strlen(argv[0]);
		int allowed = 0;
		while (!allowed) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			allowed = n == len && strncmp(p, argv[0], n) == 0;
			if (!comma)
				break;
			p = comma + 1;
		}
		if (!allowed) {
			fprintf(stderr, "hammer-remote: request does not match restricted command\n");
			return HAMMER_EXIT_USAGE;
		}
	}
	const struct hammer_cmd *cmd = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) == 0 ||
		    /* DragonFly's history@offset[,len] */
		    (commands[i].fn == cmd_history && strncmp(argv[0], "history@", 8) == 0))
			cmd = &commands[i];
	}
	if (!cmd) {
		fprintf(stderr, "hammer: unknown command '%s'\n", argv[0]);
		usage(stderr);
		return HAMMER_EXIT_USAGE;
	}
	/*
	 * COMMAND -h: its usage.  Commands take no options of their own (the
	 * options go before the command, as in DragonFly): any other -x is a
	 * usage error, as is a missing argument; "--" ends the check, and
	 * arguments after it may begin with '-'.
	 */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
			argc--;
			break;
		}
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			cmd_usage(stdout, cmd);
			return HAMMER_EXIT_OK;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "hammer %s: unknown option %s (options go before "
				"the command)\n", argv[0], argv[i]);
			cmd_usage(stderr, cmd);
			return HAMMER_EXIT_USAGE;
		}
	}
	if (argc - 1 < required_args(cmd->usage)) {
		fprintf(stderr, "hammer %s: missing argument\n", argv[0]);
		cmd_usage(stderr, cmd);
		if (cmd->needs_device)
			return HAMMER_EXIT_USAGE;
		/* then the command's own usage, in DragonFly's words */
		fflush(stderr);
		int rc = cmd->fn(&o, argc, argv);
		return rc ? rc : HAMMER_EXIT_USAGE;
	}
	if (cmd->needs_device) {
		if (!o.devs) {
			fprintf(stderr, "hammer: %s needs the volumes: -f blkdev[:blkdev]*\n",
				cmd->name);
			cmd_usage(stderr, cmd);
			return HAMMER_EXIT_USAGE;
		}
		struct hammer_err e = { 0 };
		if (hammer_volset_open(o.devs, HAMMER_VOLSET_RDONLY, &o.vs, &e)) {
			fprintf(stderr, "hammer: %s\n", e.msg);
			return HAMMER_EXIT_USAGE;
		}
	}
	int rc = cmd->fn(&o, argc, argv);
	if (fflush(stdout) != 0 && rc == 0) {
		perror("hammer: stdout");
		rc = HAMMER_EXIT_USAGE;
	}
	hammer_volset_close(o.vs);
	return rc;
}
