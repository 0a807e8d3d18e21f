/*
 * pfs_common.c - the back ends and DragonFly's PFS path handling shared by
 * cmd_pfs.c and cmd_mirror.c (pfs_common.h).
 *
 * One code path, two back ends:
 *   - a mounted file system: paths are the kernel's (stat, lstat,
 *     readlink, unlink through the FUSE mount) and the PFS records are
 *     reached through hammer-fuse's control socket (pfs-* verbs,
 *     fuse/ctl_proto.h).  The PFS of a path is st_ino >> 48
 *     (hammer_report_ino).
 *   - -f DEV[:DEV...]: the engine is mounted here, paths are paths inside
 *     the volume set (from its root), walked with hammer_lookup, following
 *     links as the kernel does (a PFS link's "@@-1:NNNNN" text enters the
 *     PFS).
 */
#include "pfs_common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse/ctl_proto.h"

/* ---------------------------------------------------------- messages */

FILE *hpfs_errf = NULL;
FILE *hpfs_outf = NULL;

int hpfs_errx(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("hammer: ", hpfs_errf);
	va_start(ap, fmt);
	vfprintf(hpfs_errf, fmt, ap);
	va_end(ap);
	fputc('\n', hpfs_errf);
	return HAMMER_EXIT_USAGE;
}

/* err(3): "hammer: <text>: <strerror>"; e is a positive errno */
int hpfs_err(int e, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("hammer: ", hpfs_errf);
	va_start(ap, fmt);
	vfprintf(hpfs_errf, fmt, ap);
	va_end(ap);
	fprintf(hpfs_errf, ": %s\n", strerror(e));
	return HAMMER_EXIT_USAGE;
}

/* ---------------------------------------------------------- back ends */

char hpfs_type_of(uint32_t mode)
{
	return S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : 'o';
}

/*
 * -f: walk `path` from the set's root.  Symlinks are followed as the
 * kernel would (the last one only with `follow`, or when the path ends in
 * '/'); a PFS link's text "@@-1:NNNNN" is a name the engine resolves to
 * the PFS root, so it needs nothing special.
 */
int hpfs_walk(struct hammer_mount *m, const char *path, int follow,
		struct hammer_attr *out)
{
	char *buf = malloc(2 * PATH_MAX), *tmp = malloc(2 * PATH_MAX);
	hammer_ino_t stack[256];
	int depth = 0, links = 0, rc;
	struct hammer_attr a;
	if (!buf || !tmp) {
		rc = -ENOMEM;
		goto out;
	}
	if (strlen(path) >= PATH_MAX) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	strcpy(buf, path);
	stack[0] = HAMMER_ROOT_INO;
	rc = hammer_getattr(m, HAMMER_ROOT_INO, &a);
	char *p = buf;
	while (rc == 0) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char *q = p + len;
		while (*q == '/')
			q++;
		int last = *q == '\0', slash = e != NULL;
		if (!S_ISDIR(a.mode)) {
			rc = -ENOTDIR;
			break;
		}
		if (len == 1 && p[0] == '.') {
			p = q;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (depth > 0)
				depth--;
			rc = hammer_getattr(m, stack[depth], &a);
			p = q;
			continue;
		}
		struct hammer_attr c;
		rc = hammer_lookup(m, a.ino, p, len, &c);
		if (rc)
			break;
		if (S_ISLNK(c.mode) && (!last || follow || slash)) {
			char t[HAMMER_SYMLINK_MAX + 1];
			if (++links > 32) {
				rc = -ELOOP;
				break;
			}
			int n = hammer_readlink(m, c.ino, t, sizeof(t));
			if (n < 0 || n >= (int)sizeof(t)) {
				rc = n < 0 ? n : -ENAMETOOLONG;
				break;
			}
			t[n] = '\0';
			/* the link's text replaces its name in the rest of the path */
			if ((size_t)n + strlen(q) + 2 >= PATH_MAX) {
				rc = -ENAMETOOLONG;
				break;
			}
			snprintf(tmp, 2 * PATH_MAX, "%s%s%s", t, *q || slash ? "/" : "", q);
			strcpy(buf, tmp);
			p = buf;
			if (t[0] == '/') {
				depth = 0;
				rc = hammer_getattr(m, HAMMER_ROOT_INO, &a);
			}
			continue;
		}
		if (slash && last && !S_ISDIR(c.mode)) {
			rc = -ENOTDIR;
			break;
		}
		if (depth < 255)
			stack[++depth] = c.ino;
		a = c;
		p = q;
	}
out:
	free(buf);
	free(tmp);
	if (rc == 0)
		*out = a;
	return rc;
}

int hpfs_stat(struct hpfs_be *b, const char *path, int follow, struct hpfs_st *ps)
{
	if (b->m) {
		struct hammer_attr a;
		int rc = hpfs_walk(b->m, path, follow, &a);
		if (rc)
			return rc;
		ps->type = hpfs_type_of(a.mode);
		ps->pfs = a.pfs_id;
		ps->ino = a.ino;
		return 0;
	}
	struct stat st;
	if ((follow ? stat(path, &st) : lstat(path, &st)) != 0)
		return -errno;
	ps->type = hpfs_type_of(st.st_mode);
	ps->pfs = (uint32_t)((uint64_t)st.st_ino >> 48);
	ps->ino = 0;
	return 0;
}

/* The link's text (at most size - 1 bytes, NUL-terminated), or -errno. */
int hpfs_readlink(struct hpfs_be *b, const char *path, char *buf, size_t size)
{
	if (b->m) {
		struct hammer_attr a;
		int rc = hpfs_walk(b->m, path, 0, &a);
		if (rc)
			return rc;
		if (!S_ISLNK(a.mode))
			return -EINVAL;
		int n = hammer_readlink(b->m, a.ino, buf, size - 1);
		if (n < 0)
			return n;
		buf[(size_t)n < size - 1 ? (size_t)n : size - 1] = '\0';
		return 0;
	}
	ssize_t n = readlink(path, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* dirname(3) and basename(3) of path, without touching it */
void hpfs_split(const char *path, char *dir, size_t dsize, const char **base)
{
	const char *s = strrchr(path, '/');
	if (!s) {
		snprintf(dir, dsize, ".");
		*base = path;
		return;
	}
	const char *e = s;
	while (e > path && e[-1] == '/')
		e--;
	if (e == path)
		snprintf(dir, dsize, "/");
	else
		snprintf(dir, dsize, "%.*s", (int)(e - path), path);
	*base = s + 1;
}

int hpfs_unlink(struct hpfs_be *b, const char *path)
{
	if (!b->m)
		return remove(path) == 0 ? 0 : -errno;
	char dir[PATH_MAX];
	const char *base;
	hpfs_split(path, dir, sizeof(dir), &base);
	struct hammer_attr a;
	int rc = hpfs_walk(b->m, dir, 1, &a);
	return rc ? rc : hammer_unlink(b->m, a.ino, base, strlen(base));
}

/* One control-socket request about the mount holding b->at. */
int hpfs_ctl(struct hpfs_be *b, const char *req, struct hammer_ctl_reply *r)
{
	if (hammer_ctl_call(b->at, req, r, hpfs_errf))
		return HPFS_REPORTED;
	return r->status ? -r->status : 0;
}

/* DragonFly's GET: the live PFS's record; *version: the on-disk version */
int hpfs_get(struct hpfs_be *b, uint32_t id, struct hammer_pseudofs_data *pd,
		  unsigned *version)
{
	if (b->m) {
		struct hammer_err e = { 0 };
		struct hammer_mount_info mi;
		int rc = hammer_pfs_status(b->m, id, pd, &e);
		if (rc || hammer_mount_info(b->m, &mi))
			return rc;
		if (version)
			*version = mi.version;
		return rc;
	}
	char req[64], hex[2 * sizeof(*pd) + 1], v[16];
	struct hammer_ctl_reply r;
	snprintf(req, sizeof(req), "pfs-get %u", id);
	int rc = hpfs_ctl(b, req, &r);
	if (rc)
		return rc;
	if (!hammer_ctl_get(&r, "pfsd", hex, sizeof(hex)) ||
	    hammer_ctl_hex_decode(hex, pd, sizeof(*pd))) {
		fprintf(hpfs_errf, "hammer: %s: malformed pfs-get reply from hammer-fuse\n", b->at);
		return HPFS_REPORTED;
	}
	if (version)
		*version = hammer_ctl_get(&r, "version", v, sizeof(v)) ? (unsigned)atoi(v) : 0;
	return 0;
}

int hpfs_free_id(struct hpfs_be *b, uint32_t *id)
{
	if (b->m)
		return hammer_pfs_free_id(b->m, id);
	struct hammer_ctl_reply r;
	char v[16];
	int rc = hpfs_ctl(b, "pfs-free-id", &r);
	if (rc)
		return rc;
	if (!hammer_ctl_get(&r, "id", v, sizeof(v))) {
		fprintf(hpfs_errf, "hammer: %s: malformed pfs-free-id reply from hammer-fuse\n", b->at);
		return HPFS_REPORTED;
	}
	*id = (uint32_t)strtoul(v, NULL, 10);
	return 0;
}

int hpfs_simple(struct hpfs_be *b, const char *verb, uint32_t id,
		     const struct hammer_pseudofs_data *pd)
{
	if (b->m) {
		if (strcmp(verb, "pfs-update") == 0)
			return hammer_pfs_update(b->m, id, pd);
		if (strcmp(verb, "pfs-upgrade") == 0)
			return hammer_pfs_upgrade(b->m, id);
		if (strcmp(verb, "pfs-downgrade") == 0)
			return hammer_pfs_downgrade(b->m, id);
		return hammer_pfs_destroy(b->m, id);
	}
	char req[64 + 2 * sizeof(*pd)], hex[2 * sizeof(*pd) + 1] = "";
	struct hammer_ctl_reply r;
	if (pd)
		hammer_ctl_hex_encode(pd, sizeof(*pd), hex);
	snprintf(req, sizeof(req), "%s %u%s%s", verb, id, pd ? " " : "", hex);
	return hpfs_ctl(b, req, &r);
}

/*
 * Mounted: the mount point of the mount holding b->at, resolved.  The
 * link's path is sent relative to it.
 */
int hpfs_mountpoint(struct hpfs_be *b, char *out)
{
	struct hammer_ctl_reply r;
	char mp[PATH_MAX];
	int rc = hpfs_ctl(b, "info", &r);
	if (rc == HPFS_REPORTED)
		return rc;
	if (rc || !hammer_ctl_get(&r, "mountpoint", mp, sizeof(mp))) {
		fprintf(hpfs_errf, "hammer: %s: hammer-fuse does not tell its mount point\n", b->at);
		return HPFS_REPORTED;
	}
	if (!realpath(mp, out))
		return hpfs_err(errno, "%s", mp), HPFS_REPORTED;
	return 0;
}

/* Create PFS id and its link dir/name. */
int hpfs_create(struct hpfs_be *b, uint32_t id, const struct hammer_pseudofs_data *pd,
		     const char *dir, const char *name)
{
	if (b->m) {
		struct hammer_attr d, link;
		int rc = hpfs_walk(b->m, dir, 1, &d);
		return rc ? rc : hammer_pfs_create(b->m, d.ino, name, strlen(name), id, pd,
						   (uint32_t)getuid(), (uint32_t)getgid(), &link);
	}
	char mp[PATH_MAX], rdir[PATH_MAX];
	int rc = hpfs_mountpoint(b, mp);
	if (rc)
		return rc;
	if (!realpath(dir, rdir))
		return -errno;
	size_t ml = strlen(mp);
	const char *rel;
	if (strcmp(rdir, mp) == 0)
		rel = "";
	else if (strncmp(rdir, mp, ml) == 0 && (rdir[ml] == '/' || ml == 1))
		rel = rdir + ml + (ml == 1 ? 0 : 1);
	else {
		fprintf(hpfs_errf, "hammer: %s is not below the mount point %s of its "
			"HAMMER file system (a bind mount?): give the path through %s\n",
			dir, mp, mp);
		return HPFS_REPORTED;
	}
	size_t size = HAMMER_CTL_LINE;
	char *req = malloc(size), hex[2 * sizeof(*pd) + 1];
	if (!req)
		return -ENOMEM;
	hammer_ctl_hex_encode(pd, sizeof(*pd), hex);
	int n = snprintf(req, size, "pfs-create %u %s %s%s%s", id, hex, rel,
			 *rel ? "/" : "", name);
	struct hammer_ctl_reply r;
	rc = n < 0 || (size_t)n >= size - 1 ? -ENAMETOOLONG : hpfs_ctl(b, req, &r);
	free(req);
	return rc;
}

/* ---------------------------------------------------------- DragonFly's helpers */

/*
 * scanpfsid: the PFS id named by the path's text or its link's text
 * ("@@<tid>:<id>").  Returns 1 with *id set, 0 when the path names no PFS
 * that way, or -1 after a message.
 */
int hpfs_scanpfsid(struct hpfs_be *b, const char *path, long *id)
{
	struct hpfs_st ps;
	char text[64], stripped[PATH_MAX];
	if (hpfs_stat(b, path, 1, &ps) == 0 && ps.type != 'd')
		return 0;
	const char *t = path;
	if (hpfs_stat(b, path, 0, &ps) == 0 && ps.type == 'l') {
		if (hpfs_readlink(b, path, text, sizeof(text)))
			return 0;
		t = text;
	} else {
		size_t len = strlen(path);
		if (len > 1 && path[len - 1] == '/' && len < sizeof(stripped)) {
			while (len > 1 && path[len - 1] == '/')
				len--;
			memcpy(stripped, path, len);
			stripped[len] = '\0';
			if (hpfs_stat(b, stripped, 0, &ps) == 0 && ps.type == 'l') {
				if (hpfs_readlink(b, stripped, text, sizeof(text)))
					return 0;
				t = text;
			}
		}
	}
	const char *base = strrchr(t, '/');
	base = base ? base + 1 : t;
	/* "@@%jx:%d": a hex TID (or -1), ':', a decimal id */
	if (strncmp(base, "@@", 2) != 0)
		return 0;
	char *e;
	errno = 0;
	(void)strtoumax(base + 2, &e, 16);
	if (e == base + 2 || *e != ':')
		return 0;
	const char *d = e + 1;
	if (!((*d >= '0' && *d <= '9') || ((*d == '-' || *d == '+') && d[1] >= '0' && d[1] <= '9')))
		return 0;
	errno = 0;
	long v = strtol(d, &e, 10);
	if (errno || v < 0 || v > HAMMER_PFS_MAX_ID)
		return -hpfs_errx("Cannot access %s: %.*s names PFS#%s, outside 0..%d", path,
			     (int)strcspn(base, "/"), base, d, HAMMER_PFS_MAX_ID);
	*id = v;
	return 1;
}

/*
 * getpfs: the PFS a path names (a PFS link, or the PFS holding the path)
 * and its record.  Returns 0, or an exit status after a message.
 */
int hpfs_getpfs(struct hpfs_be *b, const char *path, uint32_t *idp,
		  struct hammer_pseudofs_data *pd, unsigned *version)
{
	long id = -1;
	char dir[PATH_MAX];
	const char *at = path;
	int rc = hpfs_scanpfsid(b, path, &id);
	if (rc < 0)
		return HAMMER_EXIT_USAGE;
	if (rc == 1) {
		const char *base;
		char trimmed[PATH_MAX];
		snprintf(trimmed, sizeof(trimmed), "%s", path);
		size_t len = strlen(trimmed);
		while (len > 1 && trimmed[len - 1] == '/')
			trimmed[--len] = '\0';
		hpfs_split(trimmed, dir, sizeof(dir), &base);
		at = dir;
	}
	struct hpfs_st ps;
	rc = hpfs_stat(b, at, 1, &ps);
	if (rc)
		return hpfs_err(-rc, "Failed to open %s", at);
	snprintf(b->at, sizeof(b->at), "%s", at);
	if (id < 0)
		id = ps.pfs;
	rc = hpfs_get(b, (uint32_t)id, pd, version);
	if (rc == HPFS_REPORTED)
		return HAMMER_EXIT_USAGE;
	if (rc)
		return hpfs_err(-rc, "Cannot access %s", at);
	*idp = (uint32_t)id;
	return 0;
}

/* dump_pfsd, with the snapshots line (version 0: unknown, no line) */
void hpfs_dump_pfsd(FILE *f, const struct hammer_pseudofs_data *pd, unsigned version)
{
	char u[37];
	fprintf(f, "    sync-beg-tid=0x%016" PRIx64 "\n", (uint64_t)pd->sync_beg_tid);
	fprintf(f, "    sync-end-tid=0x%016" PRIx64 "\n", (uint64_t)pd->sync_end_tid);
	hammer_uuid_format(&pd->shared_uuid, u);
	fprintf(f, "    shared-uuid=%s\n", u);
	hammer_uuid_format(&pd->unique_uuid, u);
	fprintf(f, "    unique-uuid=%s\n", u);
	fprintf(f, "    label=\"%.*s\"\n", (int)sizeof(pd->label), pd->label);
	if (pd->snapshots[0])
		fprintf(f, "    snapshots=\"%.*s\"\n", (int)sizeof(pd->snapshots), pd->snapshots);
	int p = pd->prune_min;
	if (p < 86400)
		fprintf(f, "    prune-min=%02d:%02d:%02d\n", p / 3600, p / 60 % 60, p % 60);
	else if (p % 86400)
		fprintf(f, "    prune-min=%dd/%02d:%02d:%02d\n", p / 86400,
			p % 86400 / 3600, p / 60 % 60, p % 60);
	else
		fprintf(f, "    prune-min=%dd\n", p / 86400);
	int slave = (pd->mirror_flags & HAMMER_PFSD_SLAVE) != 0;
	fprintf(f, "    operating as a %s\n", slave ? "SLAVE" : "MASTER");
	if (pd->snapshots[0] == 0 && version) {
		if (version >= 3)
			fprintf(f, "    snapshots directory defaults to /var/hammer/<pfs>\n");
		else if (slave)
			fprintf(f, "    snapshots directory not set for slave\n");
		else
			fprintf(f, "    snapshots directory for master defaults to <pfs>/snapshots\n");
	}
}

int hpfs_check_restrict(const struct hammer_opts *o, const char *path)
{
	if (!o->restrict_target)
		return 0;
	size_t plen = strlen(o->restrict_target);
	if (strncmp(path, o->restrict_target, plen) != 0) {
		fprintf(stderr, "hammer-remote: restricted target\n");
		return HAMMER_EXIT_USAGE;
	}
	/* the prefix counts as a component start, so "PREFIX..x" is refused too */
	for (const char *p = path + plen, *start = p; *p; p++) {
		if ((p == start || p[-1] == '/') && p[0] == '.' && p[1] == '.') {
			fprintf(stderr, "hammer-remote: '..' not allowed\n");
			return HAMMER_EXIT_USAGE;
		}
	}
	return 0;
}
