/*
 * pfs_common.h - what the PFS commands (cmd_pfs.c) and the mirroring
 * commands (cmd_mirror.c) share: the two back ends (a mounted file system
 * through hammer-fuse's control socket, or the engine opened with -f),
 * DragonFly's path-to-PFS resolution (scanpfsid, getpfs), the PFS record's
 * printout and the PFS commands themselves, callable with their normal
 * output sent elsewhere (mirror-write's auto-created slave prints on
 * stderr, its stdout being the stream).
 */
#ifndef HAMMER_CLI_PFS_COMMON_H
#define HAMMER_CLI_PFS_COMMON_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "hammer.h"
#include "ctl.h"
#include "ref/hammer.h"

#define HPFS_REPORTED	(-100000)	/* a back end error already printed */

/* Where messages go: errors (o->err), normal output (o->out, or stderr). */
extern FILE *hpfs_errf;
extern FILE *hpfs_outf;

/* errx(3)/err(3) as "hammer: <text>[: <strerror(e)>]"; return exit status 1 */
int hpfs_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int hpfs_err(int e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct hpfs_be {
	struct hammer_opts *o;
	struct hammer_mount *m;		/* -f: the engine, read-write */
	char at[PATH_MAX];		/* mounted: a path inside the mount */
};

/* What lstat/stat tell us: type and the PFS the object lives in. */
struct hpfs_st {
	char type;			/* 'd' directory, 'l' symlink, 'o' other */
	uint32_t pfs;
	hammer_ino_t ino;		/* -f only */
};

char hpfs_type_of(uint32_t mode);
/* -f: walk a path from the set's root, following links as the kernel does */
int hpfs_walk(struct hammer_mount *m, const char *path, int follow,
	      struct hammer_attr *out);
/* stat (follow) or lstat; -errno */
int hpfs_stat(struct hpfs_be *b, const char *path, int follow, struct hpfs_st *ps);
int hpfs_readlink(struct hpfs_be *b, const char *path, char *buf, size_t size);
/* dirname and basename of path, without touching it */
void hpfs_split(const char *path, char *dir, size_t dsize, const char **base);
int hpfs_unlink(struct hpfs_be *b, const char *path);
/* One control request about the mount holding b->at: 0, -errno or HPFS_REPORTED */
int hpfs_ctl(struct hpfs_be *b, const char *req, struct hammer_ctl_reply *r);
/* DragonFly's GET of live PFS id; *version (may be NULL): on-disk version */
int hpfs_get(struct hpfs_be *b, uint32_t id, struct hammer_pseudofs_data *pd,
	     unsigned *version);
int hpfs_free_id(struct hpfs_be *b, uint32_t *id);
int hpfs_simple(struct hpfs_be *b, const char *verb, uint32_t id,
		const struct hammer_pseudofs_data *pd);
int hpfs_mountpoint(struct hpfs_be *b, char *out);
int hpfs_create(struct hpfs_be *b, uint32_t id, const struct hammer_pseudofs_data *pd,
		const char *dir, const char *name);
/* 1 with *id when the path (or its link) names "@@<tid>:<id>", 0, -1 */
int hpfs_scanpfsid(struct hpfs_be *b, const char *path, long *id);
/*
 * The PFS a path names and its record; sets b->at to a path inside its
 * mount.  0, or an exit status after a message.
 */
int hpfs_getpfs(struct hpfs_be *b, const char *path, uint32_t *idp,
		struct hammer_pseudofs_data *pd, unsigned *version);
/* pfs-status's lines for a record (version 0: unknown) */
void hpfs_dump_pfsd(FILE *f, const struct hammer_pseudofs_data *pd, unsigned version);

/*
 * Run the PFS command argv[0] ("pfs-slave", ...) with its arguments on back
 * end b (hpfs_errf/hpfs_outf set by the caller).  An exit status.
 */
int hpfs_command(struct hpfs_be *b, int argc, char **argv);

/*
 * -T (hammer ssh-remote): a mirror target must begin with o->restrict_target
 * (a plain string prefix, as DragonFly compares it) and no component of the
 * rest may start with "..".  0 when allowed or unrestricted; else 1 after
 * "hammer-remote: ..." on stderr.
 */
int hpfs_check_restrict(const struct hammer_opts *o, const char *path);

#endif
