/*
 * hammer.h - the `hammer` program: options, command table, shared output.
 *
 * Each command is `int cmd_<name>(struct hammer_opts *, int argc, char **argv)`
 * and returns the process exit status:
 *   0  done, nothing wrong found
 *   1  usage error or the volume set could not be opened
 *   2  the command ran but found corruption (bad CRCs, bad nodes, checkmap
 *      errors); the dump itself continued past every problem
 */
#ifndef HAMMER_CLI_H
#define HAMMER_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "ref/inspect.h"
#include "ref/volume.h"

#define HAMMER_EXIT_OK		0
#define HAMMER_EXIT_USAGE	1
#define HAMMER_EXIT_CORRUPT	2

struct hammer_opts {
	int verbose;		/* -v, repeatable */
	int quiet;		/* -q, repeatable */
	int yes;		/* -y: answer yes (pfs-destroy's prompts: ours) */
	int debug;		/* -d: pfs-destroy without its countdown */
	int force;		/* -F: cleanup runs every directive, due or not */
	const char *devs;	/* -f a:b:c */
	/* mirroring (cmd_mirror.c), DragonFly's options */
	uint64_t bandwidth;	/* -b bytes/s (k/m/g suffix); 0 = unlimited */
	const char *bandwidth_str;
	int bulk;		/* -B: no histogram chunking */
	uint64_t splitsize;	/* -S bytes per chunk (default 4 GiB) */
	const char *splitsize_str;
	int delay;		/* -i seconds between mirror-stream batches (5) */
	int twoway;		/* -2: two-way protocol (mirror-copy sets it) */
	const char *ssh_port;	/* -p */
	int compress;		/* -X: ssh -C */
	int timeout;		/* -t seconds: mirror-read stops after that */
	const char *cyclefile;	/* -c: DragonFly's binary cycle file */
	const char *scoreboard;	/* -e: mirror-read's 3-line status file */
	const char *restrict_cmd;	/* -R cmd[,cmd...]: the only commands run */
	const char *restrict_target;	/* -T path: mirror targets under it only */
	struct hammer_volset *vs;	/* opened read-only for needs-device commands */
	FILE *out;		/* normal output (stdout) */
	FILE *err;		/* warnings and errors (stderr) */
};

typedef int (*hammer_cmd_fn)(struct hammer_opts *o, int argc, char **argv);

int cmd_blockmap(struct hammer_opts *o, int argc, char **argv);
int cmd_checkmap(struct hammer_opts *o, int argc, char **argv);
int cmd_show(struct hammer_opts *o, int argc, char **argv);
int cmd_show_undo(struct hammer_opts *o, int argc, char **argv);
int cmd_info(struct hammer_opts *o, int argc, char **argv);

/* "%6.2f" + B/KB/MB/GB/TB, as DragonFly's tools print sizes. */
const char *hammer_sizetostr(char buf[32], int64_t size);
/* Zone label as DragonFly prints it ("" for unnamed zones). */
const char *hammer_zone_label(unsigned zone);
/* Header summary and the zone blockmap table printed before every dump;
 * CRC warnings about the header go to o->err. */
void hammer_print_header(struct hammer_opts *o);
void hammer_print_zone_stats(struct hammer_opts *o,
			     const struct hammer_zone_stats *s);

#endif
