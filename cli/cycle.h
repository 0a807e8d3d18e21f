/*
 * cycle.h - DragonFly's cycle file (-c): where an interrupted mirror-read,
 * prune, reblock or rebalance resumes.  48 bytes: the 40 of a B-tree key
 * (the layout of fuse/ctl_proto.h's hammer_ctl_key_pack) and an 8-byte
 * TID, little-endian, written in place with mode 0666 less the umask.
 */
#ifndef HAMMER_CLI_CYCLE_H
#define HAMMER_CLI_CYCLE_H

#include <stdio.h>

#include "ref/hammer.h"

/*
 * Read the file into *key and *tid (either left as is when the file does
 * not hold it): nothing when the file is missing; a file shorter than a
 * key is an older format and is removed; a key without its TID is kept
 * with a warning.  Messages go to err.  1 when a key was read, else 0.
 */
int hammer_cycle_get(const char *path, struct hammer_base_elm *key, hammer_tid_t *tid,
		     FILE *err);
void hammer_cycle_put(const char *path, const struct hammer_base_elm *key,
		      hammer_tid_t tid, FILE *err);
/* The first key of the key space (DragonFly's hammer_key_beg_init). */
void hammer_cycle_key_start(struct hammer_base_elm *k);
int hammer_cycle_key_is_start(const struct hammer_base_elm *k);

#endif

struct hammer_opts;
struct hammer_ctl_reply;
/*
 * The maintenance verbs' resume argument: " <hex key>" from o->cyclefile
 * when it holds a key past the start of the key space, else "".
 */
void hammer_cycle_arg(const struct hammer_opts *o, char *out, size_t size);
/*
 * After a run: stopped with a resume= key in the reply, the key goes to
 * o->cyclefile (and *obj, *loc get it for the message); finished, the
 * file is removed.  Returns 1 when a key was saved.
 */
int hammer_cycle_after(const struct hammer_opts *o, const struct hammer_ctl_reply *r,
		       int64_t *obj, uint32_t *loc);
