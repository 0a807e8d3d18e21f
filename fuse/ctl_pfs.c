/*
 * ctl_pfs.c - the pfs-* verbs of the control socket: how `hammer pfs-*`
 * (cli/cmd_pfs.c) reaches a mounted file system.  Each verb is one engine
 * call (ref/hammer.h, "PFS"); the client does DragonFly's path handling,
 * prompts and output.  The PFS record travels as hex of its packed 292
 * bytes.  pfs-create also resolves the link's path from the mount root and
 * drops the kernel's cached (negative) entry for the new name, since the
 * link is made behind the kernel's back.
 */
#include "hfuse.h"
#include "ctl_pfs.h"
#include "ctl_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void body(struct hfuse_ctl_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void body(struct hfuse_ctl_out *o, const char *fmt, ...)
{
	size_t len = strlen(o->body);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->body + len, sizeof(o->body) - len, fmt, ap);
	va_end(ap);
}

static int fail(struct hfuse_ctl_out *o, int err, const char *msg)
{
	o->err = err;
	snprintf(o->msg, sizeof(o->msg), "%s", msg ? msg : strerror(err));
	return 0;
}

/* "N" (decimal, 0..65535) followed by the end or a space; *rest after it */
static int parse_id(const char *s, uint32_t *id, const char **rest)
{
	char *e;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &e, 10);
	if (errno || v > HAMMER_PFS_MAX_ID || (*e != '\0' && *e != ' '))
		return -1;
	*id = (uint32_t)v;
	*rest = *e ? e + 1 : e;
	return 0;
}

static int engine_fail(struct hfuse *h, struct hfuse_ctl_out *o, int rc)
{
	return fail(o, hfuse_errno(h, rc), NULL);
}

static void do_get(struct hfuse *h, uint32_t id, struct hfuse_ctl_out *o)
{
	struct hammer_pseudofs_data pd;
	struct hammer_err e = { 0 };
	int rc = hammer_pfs_status(h->m, id, &pd, &e);
	if (rc) {
		engine_fail(h, o, rc);
		return;
	}
	struct hammer_mount_info mi;
	char hex[2 * sizeof(pd) + 1];
	hammer_ctl_hex_encode(&pd, sizeof(pd), hex);
	body(o, "pfsd=%s\n", hex);
	if (hammer_mount_info(h->m, &mi) == 0)
		body(o, "version=%u\n", mi.version);
}

/*
 * The directory holding the link `rel` (components from the mount root;
 * no "." or ".." or symlinks: the client sends a resolved path) and the
 * link's name.
 */
static int resolve_parent(struct hfuse *h, const char *rel, hammer_ino_t *dir,
			  const char **name, size_t *nlen)
{
	hammer_ino_t cur = h->root;
	const char *p = rel;
	for (;;) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *q = p + len;
		while (*q == '/')
			q++;
		if (len == 0)
			return -EINVAL;
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		if (len > HAMMER_NAME_MAX)
			return -ENAMETOOLONG;
		if (*q == '\0') {
			if (e)	/* trailing '/' */
				return -EINVAL;
			*dir = cur;
			*name = p;
			*nlen = len;
			return 0;
		}
		struct hammer_attr a;
		int rc = hammer_lookup(h->m, cur, p, len, &a);
		if (rc)
			return rc;
		if (!S_ISDIR(a.mode))
			return -ENOTDIR;
		cur = a.ino;
		p = q;
	}
}

static void do_create(struct hfuse *h, const struct ucred *cr, uint32_t id,
		      const char *args, struct hfuse_ctl_out *o)
{
	struct hammer_pseudofs_data pd;
	if (hammer_ctl_hex_decode(args, &pd, sizeof(pd)) || args[2 * sizeof(pd)] != ' ') {
		fail(o, EINVAL, "usage: pfs-create ID HEXPFSD RELPATH");
		return;
	}
	const char *rel = args + 2 * sizeof(pd) + 1;
	hammer_ino_t dir;
	const char *name;
	size_t nlen;
	int rc = resolve_parent(h, rel, &dir, &name, &nlen);
	if (rc) {
		engine_fail(h, o, rc);
		return;
	}
	struct hammer_attr link;
	rc = hammer_pfs_create(h->m, dir, name, nlen, id, &pd, cr->uid, cr->gid, &link);
	if (rc) {
		engine_fail(h, o, rc);
		return;
	}
	/*
	 * The client looked the name up first (lstat), so the kernel may
	 * hold a negative entry for it; the parent's size and times changed.
	 */
	if (h->se) {
		fuse_ino_t parent = dir == h->root ? FUSE_ROOT_ID : (fuse_ino_t)dir;
		fuse_lowlevel_notify_inval_entry(h->se, parent, name, nlen);
		fuse_lowlevel_notify_inval_inode(h->se, parent, -1, 0);
	}
	body(o, "ino=%llu\n", (unsigned long long)link.obj_id);
}

int hfuse_ctl_pfs(struct hfuse *h, const struct ucred *cr, int priv,
		  const char *verb, const char *args, struct hfuse_ctl_out *o)
{
	static const char *const verbs[] = {
		"pfs-get", "pfs-free-id", "pfs-create", "pfs-update",
		"pfs-upgrade", "pfs-downgrade", "pfs-destroy",
	};
	size_t k = 0, nverbs = sizeof(verbs) / sizeof(verbs[0]);
	while (k < nverbs && strcmp(verb, verbs[k]) != 0)
		k++;
	if (k == nverbs)
		return -1;
	memset(o, 0, sizeof(*o));
	if (k == 1) {
		if (*args)
			return fail(o, EINVAL, "pfs-free-id takes no arguments");
		uint32_t id;
		int rc = hammer_pfs_free_id(h->m, &id);
		if (rc)
			return engine_fail(h, o, rc);
		body(o, "id=%u\n", id);
		return 0;
	}
	uint32_t id;
	const char *rest;
	if (parse_id(args, &id, &rest)) {
		snprintf(o->msg, sizeof(o->msg), "%s: a PFS id 0..%d expected",
			 verb, HAMMER_PFS_MAX_ID);
		o->err = EINVAL;
		return 0;
	}
	if (k == 0) {
		if (*rest)
			return fail(o, EINVAL, "usage: pfs-get ID");
		do_get(h, id, o);
		return 0;
	}
	if (!priv) {
		snprintf(o->msg, sizeof(o->msg), "%s needs root or the user who mounted", verb);
		o->err = EPERM;
		return 0;
	}
	if (k == 2) {
		do_create(h, cr, id, rest, o);
		return 0;
	}
	int rc;
	if (k == 3) {
		struct hammer_pseudofs_data pd;
		if (hammer_ctl_hex_decode(rest, &pd, sizeof(pd)) || rest[2 * sizeof(pd)])
			return fail(o, EINVAL, "usage: pfs-update ID HEXPFSD");
		rc = hammer_pfs_update(h->m, id, &pd);
	} else {
		if (*rest)
			return fail(o, EINVAL, "this verb takes one argument: the PFS id");
		rc = k == 4 ? hammer_pfs_upgrade(h->m, id) :
		     k == 5 ? hammer_pfs_downgrade(h->m, id) :
			      hammer_pfs_destroy(h->m, id);
	}
	if (rc)
		return engine_fail(h, o, rc);
	return 0;
}
