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
	const char *devs;	/* -f a:b:c */
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
