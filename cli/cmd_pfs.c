/*
 * cmd_pfs.c - DragonFly's PFS commands: pfs-status, pfs-master, pfs-slave,
 * pfs-update, pfs-upgrade, pfs-downgrade, pfs-destroy.
 *
 * The output, prompts, option syntax and path handling are those of the
 * newest DragonFly userland (sbin/hammer/cmd_pfs.c), with two changes:
 *   - every failure exits 1 (DragonFly exits 0 after a failed create, a
 *     failed destroy and an unreadable status: our standard is that
 *     failures exit non-zero);
 *   - -y answers pfs-destroy's questions (DragonFly ignores -y there), for
 *     scripts; -d skips its countdown as in DragonFly.
 * Options are checked before anything changes: DragonFly applies them with
 * a pfs-update after the creation, so a bad option left a new PFS behind.
 *
 * One code path, two back ends:
 *   - a mounted file system: paths are the kernel's (stat, lstat,
 *     readlink, unlink through the FUSE mount) and the PFS records are
 *     reached through hammer-fuse's control socket (pfs-* verbs,
 *     fuse/ctl_proto.h).  The PFS of a path is st_ino >> 48
 *     (hammer_report_ino).
 *   - `hammer -f DEV[:DEV...] pfs-xxx PATH`: the engine is mounted
 *     read-write here, PATH is a path inside the volume set (from its
 *     root), walked with hammer_lookup, following links as the kernel does
 *     (a PFS link's "@@-1:NNNNN" text enters the PFS), and unmounted
 *     (flushed) at the end.
 */
#include "hammer.h"
#include "ctl.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "fuse/ctl_proto.h"
#include "ref/hammer.h"

int cmd_pfs(struct hammer_opts *o, int argc, char **argv);

#define REPORTED	(-100000)	/* a back end error already printed */

/* ---------------------------------------------------------- messages */

static FILE *errf = NULL;

static int errx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int errx_(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("hammer: ", errf);
	va_start(ap, fmt);
	vfprintf(errf, fmt, ap);
	va_end(ap);
	fputc('\n', errf);
	return HAMMER_EXIT_USAGE;
}

/* err(3): "hammer: <text>: <strerror>"; e is a positive errno */
static int err_(int e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int err_(int e, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("hammer: ", errf);
	va_start(ap, fmt);
	vfprintf(errf, fmt, ap);
	va_end(ap);
	fprintf(errf, ": %s\n", strerror(e));
	return HAMMER_EXIT_USAGE;
}

static int usage_pfs(void)
{
	fprintf(errf,
		"hammer pfs-status <dirpath> ...\n"
		"hammer pfs-master <dirpath> [options]\n"
		"hammer pfs-slave <dirpath> [options]\n"
		"hammer pfs-update <dirpath> [options]\n"
		"hammer pfs-upgrade <dirpath>\n"
		"hammer pfs-downgrade <dirpath>\n"
		"hammer pfs-destroy <dirpath>\n"
		"\n"
		"options:\n"
		"    sync-beg-tid=0x16llx\n"
		"    sync-end-tid=0x16llx\n"
		"    shared-uuid=0x16llx\n"
		"    unique-uuid=0x16llx\n"
		"    label=\"string\"\n"
		"    snapshots=\"/path\"\n"
		"    snapshots-clear\n"
		"    prune-min=Nd\n"
		"    prune-min=[Nd/]hh[:mm[:ss]]\n");
	return HAMMER_EXIT_USAGE;
}

/* ---------------------------------------------------------- back ends */

struct be {
	struct hammer_opts *o;
	struct hammer_mount *m;		/* -f: the engine, read-write */
	char at[PATH_MAX];		/* mounted: a path inside the mount */
};

/* What lstat/stat tell us: type and the PFS the object lives in. */
struct pst {
	char type;			/* 'd' directory, 'l' symlink, 'o' other */
	uint32_t pfs;
	hammer_ino_t ino;		/* -f only */
};

static char type_of(uint32_t mode)
{
	return S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : 'o';
}

/*
 * -f: walk `path` from the set's root.  Symlinks are followed as the
 * kernel would (the last one only with `follow`, or when the path ends in
 * '/'); a PFS link's text "@@-1:NNNNN" is a name the engine resolves to
 * the PFS root, so it needs nothing special.
 */
static int walk(struct hammer_mount *m, const char *path, int follow,
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

static int be_stat(struct be *b, const char *path, int follow, struct pst *ps)
{
	if (b->m) {
		struct hammer_attr a;
		int rc = walk(b->m, path, follow, &a);
		if (rc)
			return rc;
		ps->type = type_of(a.mode);
		ps->pfs = a.pfs_id;
		ps->ino = a.ino;
		return 0;
	}
	struct stat st;
	if ((follow ? stat(path, &st) : lstat(path, &st)) != 0)
		return -errno;
	ps->type = type_of(st.st_mode);
	ps->pfs = (uint32_t)((uint64_t)st.st_ino >> 48);
	ps->ino = 0;
	return 0;
}

/* The link's text (at most size - 1 bytes, NUL-terminated), or -errno. */
static int be_readlink(struct be *b, const char *path, char *buf, size_t size)
{
	if (b->m) {
		struct hammer_attr a;
		int rc = walk(b->m, path, 0, &a);
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
static void split(const char *path, char *dir, size_t dsize, const char **base)
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

static int be_unlink(struct be *b, const char *path)
{
	if (!b->m)
		return remove(path) == 0 ? 0 : -errno;
	char dir[PATH_MAX];
	const char *base;
	split(path, dir, sizeof(dir), &base);
	struct hammer_attr a;
	int rc = walk(b->m, dir, 1, &a);
	return rc ? rc : hammer_unlink(b->m, a.ino, base, strlen(base));
}

/* One control-socket request about the mount holding b->at. */
static int ctl(struct be *b, const char *req, struct hammer_ctl_reply *r)
{
	if (hammer_ctl_call(b->at, req, r, errf))
		return REPORTED;
	return r->status ? -r->status : 0;
}

/* DragonFly's GET: the live PFS's record; *version: the on-disk version */
static int be_get(struct be *b, uint32_t id, struct hammer_pseudofs_data *pd,
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
	int rc = ctl(b, req, &r);
	if (rc)
		return rc;
	if (!hammer_ctl_get(&r, "pfsd", hex, sizeof(hex)) ||
	    hammer_ctl_hex_decode(hex, pd, sizeof(*pd))) {
		fprintf(errf, "hammer: %s: malformed pfs-get reply from hammer-fuse\n", b->at);
		return REPORTED;
	}
	if (version)
		*version = hammer_ctl_get(&r, "version", v, sizeof(v)) ? (unsigned)atoi(v) : 0;
	return 0;
}

static int be_free_id(struct be *b, uint32_t *id)
{
	if (b->m)
		return hammer_pfs_free_id(b->m, id);
	struct hammer_ctl_reply r;
	char v[16];
	int rc = ctl(b, "pfs-free-id", &r);
	if (rc)
		return rc;
	if (!hammer_ctl_get(&r, "id", v, sizeof(v))) {
		fprintf(errf, "hammer: %s: malformed pfs-free-id reply from hammer-fuse\n", b->at);
		return REPORTED;
	}
	*id = (uint32_t)strtoul(v, NULL, 10);
	return 0;
}

static int be_simple(struct be *b, const char *verb, uint32_t id,
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
	return ctl(b, req, &r);
}

/*
 * Mounted: the mount point of the mount holding b->at, resolved.  The
 * link's path is sent relative to it.
 */
static int mountpoint(struct be *b, char *out)
{
	struct hammer_ctl_reply r;
	char mp[PATH_MAX];
	int rc = ctl(b, "info", &r);
	if (rc == REPORTED)
		return rc;
	if (rc || !hammer_ctl_get(&r, "mountpoint", mp, sizeof(mp))) {
		fprintf(errf, "hammer: %s: hammer-fuse does not tell its mount point\n", b->at);
		return REPORTED;
	}
	if (!realpath(mp, out))
		return err_(errno, "%s", mp), REPORTED;
	return 0;
}

/* Create PFS id and its link dir/name. */
static int be_create(struct be *b, uint32_t id, const struct hammer_pseudofs_data *pd,
		     const char *dir, const char *name)
{
	if (b->m) {
		struct hammer_attr d, link;
		int rc = walk(b->m, dir, 1, &d);
		return rc ? rc : hammer_pfs_create(b->m, d.ino, name, strlen(name), id, pd,
						   (uint32_t)getuid(), (uint32_t)getgid(), &link);
	}
	char mp[PATH_MAX], rdir[PATH_MAX];
	int rc = mountpoint(b, mp);
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
		fprintf(errf, "hammer: %s is not below the mount point %s of its "
			"HAMMER file system (a bind mount?): give the path through %s\n",
			dir, mp, mp);
		return REPORTED;
	}
	size_t size = HAMMER_CTL_LINE;
	char *req = malloc(size), hex[2 * sizeof(*pd) + 1];
	if (!req)
		return -ENOMEM;
	hammer_ctl_hex_encode(pd, sizeof(*pd), hex);
	int n = snprintf(req, size, "pfs-create %u %s %s%s%s", id, hex, rel,
			 *rel ? "/" : "", name);
	struct hammer_ctl_reply r;
	rc = n < 0 || (size_t)n >= size - 1 ? -ENAMETOOLONG : ctl(b, req, &r);
	free(req);
	return rc;
}

/* ---------------------------------------------------------- DragonFly's helpers */

/*
 * scanpfsid: the PFS id named by the path's text or its link's text
 * ("@@<tid>:<id>").  Returns 1 with *id set, 0 when the path names no PFS
 * that way, or -1 after a message.
 */
static int scanpfsid(struct be *b, const char *path, long *id)
{
	struct pst ps;
	char text[64], stripped[PATH_MAX];
	if (be_stat(b, path, 1, &ps) == 0 && ps.type != 'd')
		return 0;
	const char *t = path;
	if (be_stat(b, path, 0, &ps) == 0 && ps.type == 'l') {
		if (be_readlink(b, path, text, sizeof(text)))
			return 0;
		t = text;
	} else {
		size_t len = strlen(path);
		if (len > 1 && path[len - 1] == '/' && len < sizeof(stripped)) {
			while (len > 1 && path[len - 1] == '/')
				len--;
			memcpy(stripped, path, len);
			stripped[len] = '\0';
			if (be_stat(b, stripped, 0, &ps) == 0 && ps.type == 'l') {
				if (be_readlink(b, stripped, text, sizeof(text)))
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
		return -errx_("Cannot access %s: %.*s names PFS#%s, outside 0..%d", path,
			     (int)strcspn(base, "/"), base, d, HAMMER_PFS_MAX_ID);
	*id = v;
	return 1;
}

/*
 * getpfs: the PFS a path names (a PFS link, or the PFS holding the path)
 * and its record.  Returns 0, or an exit status after a message.
 */
static int getpfs(struct be *b, const char *path, uint32_t *idp,
		  struct hammer_pseudofs_data *pd, unsigned *version)
{
	long id = -1;
	char dir[PATH_MAX];
	const char *at = path;
	int rc = scanpfsid(b, path, &id);
	if (rc < 0)
		return HAMMER_EXIT_USAGE;
	if (rc == 1) {
		const char *base;
		char trimmed[PATH_MAX];
		snprintf(trimmed, sizeof(trimmed), "%s", path);
		size_t len = strlen(trimmed);
		while (len > 1 && trimmed[len - 1] == '/')
			trimmed[--len] = '\0';
		split(trimmed, dir, sizeof(dir), &base);
		at = dir;
	}
	struct pst ps;
	rc = be_stat(b, at, 1, &ps);
	if (rc)
		return err_(-rc, "Failed to open %s", at);
	snprintf(b->at, sizeof(b->at), "%s", at);
	if (id < 0)
		id = ps.pfs;
	rc = be_get(b, (uint32_t)id, pd, version);
	if (rc == REPORTED)
		return HAMMER_EXIT_USAGE;
	if (rc)
		return err_(-rc, "Cannot access %s", at);
	*idp = (uint32_t)id;
	return 0;
}

/* hammer(8)'s time spec: Nd, or [Nd/]hh[:mm[:ss]]; -1 when malformed */
static long long timetosecs(const char *s)
{
	long long days = 0, hours, mins = 0, secs = 0;
	char *e;
	long long n = strtoll(s, &e, 10);
	if (n < 0)
		return -1;
	if (*e == 'd') {
		days = n;
		e++;
		if (*e == '/') {
			n = strtoll(e + 1, &e, 10);
		} else {
			n = 0;
		}
	}
	if (n < 0)
		return -1;
	hours = n;
	if (*e == ':') {
		mins = strtoll(e + 1, &e, 10);
		if (mins < 0)
			return -1;
		if (*e == ':') {
			secs = strtoll(e + 1, &e, 10);
			if (secs < 0)
				return -1;
		}
	}
	if (*e)
		return -1;
	long long t = days * 86400 + hours * 3600 + mins * 60 + secs;
	if (days > 0x7fffffff || hours > 0x7fffffff || t > 0x7fffffff)
		t = 0x7fffffff;
	return t;
}

static int parse_uuid(const char *key, const char *v, hammer_uuid_t *u)
{
	if (*v == '\0') {	/* uuid_from_string("") is the nil uuid */
		memset(u, 0, sizeof(*u));
		return 0;
	}
	if (hammer_uuid_parse(v, u))
		return errx_("option %s: error parsing uuid %s", key, v);
	return 0;
}

/* parse_pfsd_options: apply key=value options to *pd; an exit status */
static int parse_options(int argc, char **argv, struct hammer_pseudofs_data *pd)
{
	for (int i = 0; i < argc; i++) {
		char key[64];
		const char *eq = strchr(argv[i], '=');
		/* ours: the documented bare snapshots-clear (DragonFly wants '=') */
		if (!eq && strcmp(argv[i], "snapshots-clear") == 0) {
			pd->snapshots[0] = 0;
			continue;
		}
		if (!eq)
			return errx_("option %s requires an assignment", argv[i]);
		snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i]), argv[i]);
		const char *v = eq + 1;
		if (strcmp(key, "sync-beg-tid") == 0) {
			pd->sync_beg_tid = strtoull(v, NULL, 16);
		} else if (strcmp(key, "sync-end-tid") == 0) {
			pd->sync_end_tid = strtoull(v, NULL, 16);
		} else if (strcmp(key, "shared-uuid") == 0) {
			if (parse_uuid(key, v, &pd->shared_uuid))
				return HAMMER_EXIT_USAGE;
		} else if (strcmp(key, "unique-uuid") == 0) {
			if (parse_uuid(key, v, &pd->unique_uuid))
				return HAMMER_EXIT_USAGE;
		} else if (strcmp(key, "label") == 0) {
			size_t len = strlen(v);
			if (v[0] == '"') {
				if (len < 2 || v[len - 1] != '"') {
					if (len != 1)
						return errx_("option %s: malformed string", key);
					len = 2;	/* a lone '"': empty */
				}
				v++;
				len -= 2;
			}
			if (len > sizeof(pd->label) - 1)
				len = sizeof(pd->label) - 1;	/* truncated, as DragonFly */
			memset(pd->label, 0, sizeof(pd->label));
			memcpy(pd->label, v, len);
		} else if (strcmp(key, "snapshots") == 0) {
			if (v[0] != '/') {
				fflush(stdout);
				fprintf(errf, "option %s: '%s' must be an absolute path\n", key, v);
				if (v[0] == '\0')
					fprintf(errf, "use 'snapshots-clear' to unset snapshots dir\n");
				return HAMMER_EXIT_USAGE;
			}
			if (strlen(v) >= sizeof(pd->snapshots))
				return errx_("option %s: path too long, %d character limit",
					     key, (int)strlen(v));
			memset(pd->snapshots, 0, sizeof(pd->snapshots));
			memcpy(pd->snapshots, v, strlen(v));
		} else if (strcmp(key, "snapshots-clear") == 0) {
			pd->snapshots[0] = 0;
		} else if (strcmp(key, "prune-min") == 0) {
			long long t = timetosecs(v);
			if (t < 0)
				return errx_("option %s: illegal time spec, use Nd or [Nd/]hh[:mm[:ss]]", v);
			pd->prune_min = (int32_t)t;
		} else {
			return errx_("invalid option: %s", key);
		}
	}
	return 0;
}

/* dump_pfsd, with the snapshots line (version 0: unknown, no line) */
static void dump_pfsd(FILE *f, const struct hammer_pseudofs_data *pd, unsigned version)
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

/* getyn: one line of stdin; yes only for y, yes, Y, YES.  -y: yes. */
static int getyn(struct be *b)
{
	char buf[256];
	if (b->o->yes) {
		printf("y\n");
		fflush(stdout);
		return 1;
	}
	if (!fgets(buf, sizeof(buf), stdin))
		return 0;
	size_t len = strlen(buf);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	return strcmp(buf, "y") == 0 || strcmp(buf, "yes") == 0 ||
	       strcmp(buf, "Y") == 0 || strcmp(buf, "YES") == 0;
}

/* ---------------------------------------------------------- commands */

static int pfs_status(struct be *b, int argc, char **argv)
{
	char *dot[] = { ".", NULL };
	if (argc < 1) {
		argc = 1;
		argv = dot;
	}
	for (int i = 0; i < argc; i++) {
		struct hammer_pseudofs_data pd;
		unsigned version = 0;
		uint32_t id;
		int rc = getpfs(b, argv[i], &id, &pd, &version);
		if (rc)
			return rc;
		printf("%s\t", argv[i]);
		printf("PFS#%u {\n", id);
		dump_pfsd(stdout, &pd, version);
		printf("}\n");
	}
	return HAMMER_EXIT_OK;
}

static int pfs_update(struct be *b, int argc, char **argv)
{
	struct hammer_pseudofs_data pd;
	unsigned version = 0;
	uint32_t id;
	if (argc < 1)
		return usage_pfs();
	int rc = getpfs(b, argv[0], &id, &pd, &version);
	if (rc)
		return rc;
	printf("%s\n", argv[0]);
	fflush(stdout);
	if (parse_options(argc - 1, argv + 1, &pd))
		return HAMMER_EXIT_USAGE;
	if ((pd.mirror_flags & HAMMER_PFSD_SLAVE) && id == 0)
		return errx_("The real mount point cannot be made a PFS slave, "
			     "only PFS sub-directories can be made slaves");
	rc = be_simple(b, "pfs-update", id, &pd);
	if (rc == REPORTED)
		return HAMMER_EXIT_USAGE;
	if (rc)
		return err_(-rc, "Unable to adjust PFS configuration");
	rc = be_get(b, id, &pd, &version);
	if (rc == REPORTED)
		return HAMMER_EXIT_USAGE;
	if (rc)
		return err_(-rc, "Unable to retrieve PFS configuration after successful update");
	dump_pfsd(stdout, &pd, version);
	return HAMMER_EXIT_OK;
}

static void new_uuid(hammer_uuid_t *u)
{
	uuid_t x;
	char s[37];
	uuid_generate_time(x);	/* version 1, as DragonFly's uuid_create */
	uuid_unparse_lower(x, s);
	hammer_uuid_parse(s, u);	/* libuuid's byte order to HAMMER's */
}

static int pfs_create(struct be *b, int argc, char **argv, int slave)
{
	if (argc < 1)
		return usage_pfs();
	const char *path = argv[0];
	struct hammer_pseudofs_data pd;
	struct pst ps;
	memset(&pd, 0, sizeof(pd));
	if (parse_options(argc - 1, argv + 1, &pd))
		return HAMMER_EXIT_USAGE;
	if (be_stat(b, path, 0, &ps) == 0)
		return errx_("Cannot create %s, file exists!", path);
	size_t len = strlen(path);
	if (len && path[len - 1] == '/')
		return errx_("Invalid PFS path %s with trailing /", path);
	char dir[PATH_MAX];
	const char *name;
	split(path, dir, sizeof(dir), &name);
	int rc = be_stat(b, dir, 1, &ps);
	if (rc == 0 && ps.type != 'd')
		rc = -ENOTDIR;
	if (rc)
		return err_(-rc, "Cannot open directory %s", dir);
	snprintf(b->at, sizeof(b->at), "%s", dir);
	if (!b->m) {
		/* is it HAMMER at all (says so when not) */
		struct hammer_ctl_reply r;
		if (ctl(b, "version", &r) == REPORTED)
			return HAMMER_EXIT_USAGE;
	}
	if (ps.pfs != 0) {
		fflush(stdout);
		fprintf(errf, "You are attempting to access a PFS softlink from a PFS.  "
			"It may not represent the PFS\non the main filesystem mount that "
			"you expect!  You may only access PFS softlinks\nvia the main "
			"filesystem mount!\n");
		return HAMMER_EXIT_USAGE;
	}
	uint32_t id;
	rc = be_free_id(b, &id);
	if (rc == REPORTED)
		return HAMMER_EXIT_USAGE;
	if (rc == -ENOSPC)
		return errx_("Cannot create %s, all PFSs in use", path);
	if (rc)
		return err_(-rc, "Cannot create %s", path);
	if (id == 0)
		return errx_("Fatal error: PFS#%d must exist", 0);
	printf("Creating PFS#%u\t", id);
	memset(&pd, 0, sizeof(pd));
	pd.sync_beg_tid = 1;
	pd.sync_end_tid = 1;
	new_uuid(&pd.shared_uuid);
	new_uuid(&pd.unique_uuid);
	if (slave)
		pd.mirror_flags |= HAMMER_PFSD_SLAVE;
	rc = be_create(b, id, &pd, dir, name);
	if (rc) {
		/* DragonFly exits 0 here; our failures exit non-zero */
		printf("failed: %s\n", rc == REPORTED ? "see above" : strerror(-rc));
		return HAMMER_EXIT_USAGE;
	}
	printf("succeeded!\n");
	/* then, as DragonFly, pfs-update with the same arguments */
	return pfs_update(b, argc, argv);
}

static int pfs_updown(struct be *b, int argc, char **argv, int up)
{
	struct hammer_pseudofs_data pd;
	uint32_t id;
	if (argc < 1)
		return usage_pfs();
	int rc = getpfs(b, argv[0], &id, &pd, NULL);
	if (rc)
		return rc;
	int slave = (pd.mirror_flags & HAMMER_PFSD_SLAVE) != 0;
	if (id == 0)
		return up ? errx_("You cannot upgrade PFS#0 (It should already be a master)")
			  : errx_("You cannot downgrade PFS#0");
	if (up && !slave)
		return errx_("It is already a master");
	if (!up && slave)
		return errx_("It is already a slave");
	const char *verb = up ? "pfs-upgrade" : "pfs-downgrade";
	rc = be_simple(b, verb, id, NULL);
	if (rc == REPORTED)
		return HAMMER_EXIT_USAGE;
	if (rc)
		return err_(-rc, "%s of PFS#%u (%.64s) failed", verb, id, pd.label);
	printf("%s of PFS#%u (%.64s) succeeded\n", verb, id, pd.label);
	return HAMMER_EXIT_OK;
}

static int pfs_destroy(struct be *b, int argc, char **argv)
{
	struct hammer_pseudofs_data pd;
	uint32_t id;
	if (argc < 1)
		return usage_pfs();
	const char *path = argv[0];
	int rc = getpfs(b, path, &id, &pd, NULL);
	if (rc)
		return rc;
	if (id == 0)
		return errx_("You cannot destroy PFS#0");
	printf("You have requested that PFS#%u (%.64s) be destroyed\n"
	       "This will irrevocably destroy all data on this PFS!!!!!\n"
	       "Do you really want to do this? [y/n] ", id, pd.label);
	fflush(stdout);
	if (!getyn(b))
		return errx_("No action taken on PFS#%u", id);
	if (!(pd.mirror_flags & HAMMER_PFSD_SLAVE)) {
		printf("This PFS is currently setup as a MASTER!\n"
		       "Are you absolutely sure you want to destroy it? [y/n] ");
		fflush(stdout);
		if (!getyn(b))
			return errx_("No action taken on PFS#%u", id);
	}
	printf("Destroying PFS#%u (%.64s)", id, pd.label);
	if (b->o->debug) {
		printf("\n");
	} else {
		printf(" in");
		for (int i = 5; i > 0; i--) {
			printf(" %d", i);
			fflush(stdout);
			sleep(1);
		}
		printf(".. starting destruction pass\n");
	}
	fflush(stdout);
	rc = be_simple(b, "pfs-destroy", id, NULL);
	if (rc == REPORTED)
		return HAMMER_EXIT_USAGE;
	if (rc) {
		/* DragonFly exits 0 here; our failures exit non-zero */
		printf("pfs-destroy of PFS#%u failed: %s\n", id, strerror(-rc));
		return HAMMER_EXIT_USAGE;
	}
	printf("pfs-destroy of PFS#%u succeeded!\n", id);
	/* the link (or a directory reached through it, trailing '/' stripped) */
	char link[PATH_MAX];
	struct pst ps;
	snprintf(link, sizeof(link), "%s", path);
	size_t len = strlen(link);
	while (len > 1 && link[len - 1] == '/')
		link[--len] = '\0';
	if (be_stat(b, link, 0, &ps) == 0 && ps.type == 'l') {
		rc = be_unlink(b, link);
		if (rc)
			return err_(-rc, "Unable to remove softlink %s", link);
	}
	return HAMMER_EXIT_OK;
}

int cmd_pfs(struct hammer_opts *o, int argc, char **argv)
{
	struct be b = { .o = o };
	const char *cmd = argv[0];
	errf = o->err;
	if (o->devs) {
		struct hammer_mount_opts mo;
		struct hammer_err e = { 0 };
		hammer_mount_opts_init(&mo);
		mo.readonly = strcmp(cmd, "pfs-status") == 0;
		if (hammer_mount(o->devs, &mo, &b.m, &e)) {
			fprintf(errf, "hammer: %s: %s\n", o->devs, e.msg);
			return HAMMER_EXIT_USAGE;
		}
	}
	int rc;
	argc--;
	argv++;
	if (strcmp(cmd, "pfs-status") == 0)
		rc = pfs_status(&b, argc, argv);
	else if (strcmp(cmd, "pfs-master") == 0)
		rc = pfs_create(&b, argc, argv, 0);
	else if (strcmp(cmd, "pfs-slave") == 0)
		rc = pfs_create(&b, argc, argv, 1);
	else if (strcmp(cmd, "pfs-update") == 0)
		rc = pfs_update(&b, argc, argv);
	else if (strcmp(cmd, "pfs-upgrade") == 0)
		rc = pfs_updown(&b, argc, argv, 1);
	else if (strcmp(cmd, "pfs-downgrade") == 0)
		rc = pfs_updown(&b, argc, argv, 0);
	else if (strcmp(cmd, "pfs-destroy") == 0)
		rc = pfs_destroy(&b, argc, argv);
	else
		rc = usage_pfs();
	fflush(stdout);
	if (b.m) {
		int urc = hammer_unmount(b.m);
		if (urc) {
			fprintf(errf, "hammer: %s: final flush failed: %s\n", o->devs,
				strerror(-urc));
			rc = HAMMER_EXIT_USAGE;
		}
	}
	return rc;
}
