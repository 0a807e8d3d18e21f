/*
 * cmd_snapshot.c - DragonFly's snapshot commands on a mounted file system:
 * snapshot, snap, snaplo, snapq, snaprm and snapls.
 *
 * A snapshot is a meta-data record in its PFS (TID, time stamp, label;
 * on-disk version 3+) plus, usually, a softlink whose text is an as-of
 * path ("<fs>/@@0x<tid16>").  Every snapshot is taken at the TID a
 * `synctid` returns, so it names a state that is on disk.  The mount is
 * reached through hammer-fuse's control socket (snap-add, snap-del,
 * snap-list, synctid, version: fuse/ctl_proto.h).
 *
 * Path handling, link texts, names and output are those of DragonFly's
 * sbin/hammer/cmd_snapshot.c, with these changes:
 *   - failures exit 1 (DragonFly: 2), and snaprm checks every argument
 *     before it removes anything, so bad input changes nothing;
 *   - snaprm of a softlink that names no snapshot is an error (DragonFly
 *     ignores it silently), and so is a TID that has no record (DragonFly
 *     warns and exits 0); the warning text is kept;
 *   - "the mount" of a path (DragonFly's statfs f_mntonname) is the
 *     innermost mount holding it in /proc/self/mountinfo, so bind mounts
 *     (Linux's null mounts) work as DragonFly's null mounts do;
 *   - snap's link names the PFS the snapshot was recorded in: when that is
 *     not the PFS at the root of the mount (a PFS entered through its
 *     link) the text is "<mount>/@@0x<tid>:<pfs5>" (DragonFly would point
 *     at the root PFS); snaplo of a PFS root links to "<dir>/@@0x<tid>"
 *     ("<dir>@@0x<tid>" would be the PFS link itself, or outside HAMMER);
 *   - `snapshot NAME` without a '/' takes the current directory as the
 *     link's directory (DragonFly fails to find one);
 *   - a link text never is a relative path that would not resolve from
 *     the link's directory: snaplo of a relative directory other than "."
 *     and `snapshot FS DIR` with a relative FS use absolute paths.
 */
#include "hammer.h"
#include "ctl.h"
#include "snap.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "fuse/ctl_proto.h"

int cmd_snapshot(struct hammer_opts *o, int argc, char **argv);
int cmd_snap(struct hammer_opts *o, int argc, char **argv);
int cmd_snaprm(struct hammer_opts *o, int argc, char **argv);
int cmd_snapls(struct hammer_opts *o, int argc, char **argv);

#define DEFAULT_SNAPSHOT_NAME	"snap-%Y%m%d-%H%M"
#define SNAP_LABEL_MAX		HAMMER_SNAP_LABEL_MAX

__attribute__((format(printf, 2, 3)))
static int fail(struct hammer_opts *o, const char *fmt, ...)
{
	va_list ap;
	fflush(o->out);
	fputs("hammer: ", o->err);
	va_start(ap, fmt);
	vfprintf(o->err, fmt, ap);
	va_end(ap);
	fputc('\n', o->err);
	return HAMMER_EXIT_USAGE;
}

static int usage_snap(struct hammer_opts *o)
{
	fprintf(o->err,
		"hammer snap <path> [<note>]\t\tsnapshot and link to it, relative to\n"
		"\t\t\t\t\tthe root of the mount\n"
		"hammer snaplo <path> [<note>]\t\tsnapshot and link to it, relative to\n"
		"\t\t\t\t\tthe directory\n"
		"hammer snapq <dir> [<note>]\t\tsnapshot, print the path (no link)\n"
		"hammer snaprm <path> ...\t\tremove snapshots (by their links)\n"
		"hammer snaprm <transid> ...\t\tremove snapshots of the current\n"
		"\t\t\t\t\tdirectory's PFS\n"
		"hammer snaprm <filesystem> <transid> ...\tremove snapshots\n"
		"hammer snapls [<path> ...]\t\tlist snapshots\n"
		"hammer snapshot [<filesystem>] <snapshot-dir> [<note>]\n"
		"\n"
		"Snapshots are meta-data records of the PFS holding the path (HAMMER\n"
		"version 3 or later); <path> may be a directory (the link is named\n"
		"snap-yyyymmdd-HHMM in it) or a new name (the link itself).  snaprm\n"
		"of a softlink removes the link too.  On a mounted file system\n"
		"(without -f).\n");
	return HAMMER_EXIT_USAGE;
}

/* DragonFly's dirpart(): the directory part of path, "." when none. */
static void dirpart(const char *path, char *out, size_t size)
{
	const char *p = strrchr(path, '/');
	if (p) {
		while (p > path && p[-1] == '/')
			p--;
		if (p == path)
			p = NULL;
	}
	if (!p)
		snprintf(out, size, ".");
	else
		snprintf(out, size, "%.*s", (int)(p - path), path);
}

/* path made absolute by the current directory, links left as they are */
static int absolute(const char *path, char *out, size_t size)
{
	char cwd[PATH_MAX];
	if (path[0] == '/') {
		snprintf(out, size, "%s", path);
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	int n = snprintf(out, size, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", path);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ---------------------------------------------------------- the mount */

/* The PFS id an object lives in (hammer_report_ino: bits 48..63). */
static int pfs_of(const char *path, uint32_t *pfs, uint64_t *obj)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return -errno;
	*pfs = (uint32_t)((uint64_t)st.st_ino >> 48);
	if (obj)
		*obj = (uint64_t)st.st_ino & 0xffffffffffffULL;
	return 0;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *d = s;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

/*
 * statfs(2)'s f_mntonname on DragonFly: the mount point of the innermost
 * mount holding path (a bind mount counts as its own, as a null mount
 * does).  0, or -errno.
 */
static int mount_of(const char *path, char *out, size_t size)
{
	char real[PATH_MAX];
	struct stat st;
	if (!realpath(path, real) || stat(real, &st) != 0)
		return -errno;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0, best = 0;
	int found = 0;
	while (getline(&line, &cap, f) > 0) {
		unsigned maj, min;
		char mp[PATH_MAX];
		/* id parent maj:min root mount-point ... */
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mp) != 3)
			continue;
		if (makedev(maj, min) != st.st_dev)
			continue;
		unescape(mp);
		size_t l = strlen(mp);
		int under = strcmp(mp, "/") == 0 ||
			    (strncmp(real, mp, l) == 0 && (real[l] == '/' || real[l] == '\0'));
		if (under && (!found || l >= best)) {
			best = strcmp(mp, "/") == 0 ? 0 : l;
			snprintf(out, size, "%s", mp);
			found = 1;
		}
	}
	free(line);
	fclose(f);
	return found ? 0 : -ENOENT;
}

/* ---------------------------------------------------------- control verbs */

/* One verb; 0, or an exit status after a message naming `what`. */
static int call(struct hammer_opts *o, const char *path, const char *verb,
		struct hammer_ctl_reply *r, const char *what)
{
	if (hammer_ctl_call(path, verb, r, o->err))
		return HAMMER_EXIT_USAGE;
	if (r->status)
		return fail(o, "%s: %s", what, r->msg);
	return 0;
}

/* The on-disk version; snapshots need 3 or later. */
static int need_v3(struct hammer_opts *o, const char *path, const char *what)
{
	struct hammer_ctl_reply r;
	char v[16];
	int rc = call(o, path, "version", &r, what);
	if (rc)
		return rc;
	if (!hammer_ctl_get(&r, "current", v, sizeof(v)))
		return fail(o, "%s: hammer-fuse does not tell the version", what);
	if (atoi(v) < 3)
		return fail(o, "%s: This directive requires you to upgrade the "
			    "filesystem to version 3 (it is version %d)", what, atoi(v));
	return 0;
}

static int synctid(struct hammer_opts *o, const char *path, uint64_t *tid)
{
	struct hammer_ctl_reply r;
	char what[PATH_MAX + 32], v[32];
	snprintf(what, sizeof(what), "Synctid %s failed", path);
	int rc = call(o, path, "synctid", &r, what);
	if (rc)
		return rc;
	char *e;
	if (!hammer_ctl_get(&r, "tid", v, sizeof(v)) ||
	    (*tid = strtoull(v, &e, 16), *e || *tid == 0))
		return fail(o, "%s: no TID in hammer-fuse's reply", what);
	return 0;
}

/*
 * DragonFly's snapshot_add(): the record (an existing one of that TID is
 * fine), then the link tsym -> fsym, replacing what is there.
 */
static int snap_add(struct hammer_opts *o, const char *fspath, uint32_t pfs,
		    uint64_t tid, const char *label, const char *fsym,
		    const char *tsym)
{
	char hex[2 * SNAP_LABEL_MAX + 1], req[256];
	size_t ll = label ? strnlen(label, SNAP_LABEL_MAX) : 0;
	hammer_ctl_hex_encode(label ? label : "", ll, hex);
	snprintf(req, sizeof(req), "snap-add %u 0x%016" PRIx64 " %" PRIu64 "%s%s",
		 pfs, tid, (uint64_t)time(NULL) * 1000000u, ll ? " " : "", hex);
	struct hammer_ctl_reply r;
	if (hammer_ctl_call(fspath, req, &r, o->err))
		return HAMMER_EXIT_USAGE;
	if (r.status && r.status != EEXIST)
		return fail(o, "Unable to create snapshot of PFS#%u at 0x%016" PRIx64
			    ": %s", pfs, tid, r.msg);
	if (fsym && tsym) {
		remove(tsym);
		if (symlink(fsym, tsym) != 0)
			return fail(o, "Unable to create symlink %s: %s (the snapshot "
				    "0x%016" PRIx64 " is recorded in PFS#%u)", tsym,
				    strerror(errno), tid, pfs);
	}
	return 0;
}

/* ---------------------------------------------------------- snap, snaplo, snapq */

/* An argument that looks like an option: none are known. */
static int is_option(const char *s)
{
	return s[0] == '-' && s[1] != '\0';
}

static int no_device(struct hammer_opts *o, const char *cmd)
{
	if (!o->devs)
		return 0;
	fail(o, "%s works on a mounted file system, not on -f volumes", cmd);
	return 1;
}

/*
 * snap (link to the mount's root as of the TID), snaplo (link to the
 * directory as of the TID), snapq (no link: print the path).
 */
int cmd_snap(struct hammer_opts *o, int argc, char **argv)
{
	int tostdout = strcmp(argv[0], "snapq") == 0;
	int fsbase = strcmp(argv[0], "snap") == 0;
	if (no_device(o, argv[0]))
		return HAMMER_EXIT_USAGE;
	if (argc < 2 || argc > 3 || is_option(argv[1])) {
		if (argc >= 2 && is_option(argv[1]))
			fprintf(o->err, "hammer %s: unknown option %s\n", argv[0], argv[1]);
		return usage_snap(o);
	}
	const char *path = argv[1], *note = argc == 3 ? argv[2] : "";
	char dirpath[PATH_MAX], tsym[PATH_MAX + 64];
	struct stat st;

	/* the link's directory and name */
	if (stat(path, &st) != 0) {
		dirpart(path, dirpath, sizeof(dirpath));
		snprintf(tsym, sizeof(tsym), "%s", path);
	} else if (S_ISDIR(st.st_mode)) {
		time_t t = time(NULL);
		char ext[64];
		strftime(ext, sizeof(ext), DEFAULT_SNAPSHOT_NAME, localtime(&t));
		snprintf(dirpath, sizeof(dirpath), "%s", path);
		snprintf(tsym, sizeof(tsym), "%s/%s", dirpath, ext);
	} else {
		return fail(o, "%s: File %s exists and is not a directory", argv[0], path);
	}
	if (stat(dirpath, &st) != 0)
		return fail(o, "%s: Cannot open directory %s: %s", argv[0], dirpath,
			    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(o, "%s: Cannot open directory %s: %s", argv[0], dirpath,
			    strerror(ENOTDIR));

	char what[PATH_MAX + 64];
	snprintf(what, sizeof(what), "Unable to create snapshot in %s", dirpath);
	int rc = need_v3(o, dirpath, what);
	if (rc)
		return rc;
	uint32_t pfs = 0;
	uint64_t obj = 0, tid = 0;
	if ((rc = pfs_of(dirpath, &pfs, &obj)) != 0)
		return fail(o, "%s: %s", dirpath, strerror(-rc));
	if ((rc = synctid(o, dirpath, &tid)) != 0)
		return rc;

	int dots = strcmp(dirpath, ".") == 0 || strcmp(dirpath, "..") == 0;
	char fsym[PATH_MAX + 64];
	if (tostdout) {
		fprintf(o->out, "%s%s@@0x%016" PRIx64 "\n", dirpath, dots ? "/" : "", tid);
	} else if (fsbase) {
		char mnt[PATH_MAX];
		uint32_t rootpfs = 0;
		if ((rc = mount_of(dirpath, mnt, sizeof(mnt))) != 0)
			return fail(o, "%s: Cannot determine mount for %s: %s", argv[0],
				    dirpath, strerror(-rc));
		if ((rc = pfs_of(mnt, &rootpfs, NULL)) != 0)
			return fail(o, "%s: %s", mnt, strerror(-rc));
		if (rootpfs == pfs)
			snprintf(fsym, sizeof(fsym), "%s/@@0x%016" PRIx64, mnt, tid);
		else
			snprintf(fsym, sizeof(fsym), "%s/@@0x%016" PRIx64 ":%05u", mnt,
				 tid, pfs);
	} else {
		/*
		 * The link lives in dirpath, so a relative text other than "."
		 * would not resolve from there: use the absolute path.  Object 1
		 * is a PFS root, where "dir@@..." would be its PFS link (or a
		 * name outside HAMMER): "dir/@@..." instead.
		 */
		char abs[PATH_MAX];
		const char *d = dirpath;
		if (dirpath[0] != '/' && strcmp(dirpath, ".") != 0) {
			if ((rc = absolute(dirpath, abs, sizeof(abs))) != 0)
				return fail(o, "%s: %s: %s", argv[0], dirpath, strerror(-rc));
			d = abs;
		}
		snprintf(fsym, sizeof(fsym), "%s%s@@0x%016" PRIx64, d,
			 dots || obj == 1 ? "/" : "", tid);
	}
	return snap_add(o, dirpath, pfs, tid, note, tostdout ? NULL : fsym,
			tostdout ? NULL : tsym);
}

/* ---------------------------------------------------------- snapshot */

/* snapshot [<filesystem>] <softlink-dir> [<note>] */
int cmd_snapshot(struct hammer_opts *o, int argc, char **argv)
{
	if (no_device(o, argv[0]))
		return HAMMER_EXIT_USAGE;
	for (int i = 1; i < argc && i < 3; i++)
		if (is_option(argv[i])) {
			fprintf(o->err, "hammer snapshot: unknown option %s\n", argv[i]);
			return usage_snap(o);
		}
	if (argc < 2 || argc > 4)
		return usage_snap(o);
	const char *fs = argc >= 3 ? argv[1] : NULL;
	const char *linkdir = argc >= 3 ? argv[2] : argv[1];
	const char *note = argc == 4 ? argv[3] : NULL;
	char fmt[PATH_MAX + 32], mnt[PATH_MAX], dir[PATH_MAX];
	const char *linkdir_on = linkdir;	/* an existing directory of the link */
	struct stat st;
	int rc;

	if (stat(linkdir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return fail(o, "snapshot: File %s already exists", linkdir);
		if (!fs) {
			if ((rc = mount_of(linkdir, mnt, sizeof(mnt))) != 0)
				return fail(o, "snapshot: Unable to determine filesystem of "
					    "%s: %s", linkdir, strerror(-rc));
			fs = mnt;
		}
		size_t l = strlen(linkdir);
		snprintf(fmt, sizeof(fmt), "%s%s%s", linkdir,
			 l && linkdir[l - 1] == '/' ? "" : "/", DEFAULT_SNAPSHOT_NAME);
	} else {
		snprintf(fmt, sizeof(fmt), "%s", linkdir);
		if (!fs) {
			dirpart(linkdir, dir, sizeof(dir));
			linkdir_on = dir;
			if (stat(dir, &st) != 0)
				return fail(o, "snapshot: Unable to determine softlink dir "
					    "%s: %s", dir, strerror(errno));
			if (!S_ISDIR(st.st_mode))
				return fail(o, "snapshot: Unable to determine softlink dir "
					    "%s: %s", dir, strerror(ENOTDIR));
			if ((rc = mount_of(dir, mnt, sizeof(mnt))) != 0)
				return fail(o, "snapshot: Unable to determine filesystem of "
					    "%s: %s", dir, strerror(-rc));
			fs = mnt;
		}
	}
	if (stat(fs, &st) != 0)
		return fail(o, "snapshot: Unable to open %s: %s", fs, strerror(errno));
	/* the link lives elsewhere: a relative file system path would not resolve */
	char absfs[PATH_MAX];
	if (fs[0] != '/') {
		if ((rc = absolute(fs, absfs, sizeof(absfs))) != 0)
			return fail(o, "snapshot: %s: %s", fs, strerror(-rc));
		fs = absfs;
	}

	char what[PATH_MAX + 64];
	snprintf(what, sizeof(what), "Unable to create snapshot of %s", fs);
	/* a derived file system: the error names the path the user gave */
	if ((rc = need_v3(o, fs == mnt ? linkdir_on : fs, what)) != 0)
		return rc;
	uint32_t pfs = 0;
	uint64_t tid = 0;
	if ((rc = pfs_of(fs, &pfs, NULL)) != 0)
		return fail(o, "%s: %s", fs, strerror(-rc));

	/* the name first: a bad one must not leave a record behind */
	char to[PATH_MAX + 64], from[PATH_MAX + 64];
	time_t t = time(NULL);
	if (strftime(to, sizeof(to), fmt, localtime(&t)) == 0)
		return fail(o, "snapshot: the link name %s is empty or too long", fmt);
	if ((rc = synctid(o, fs, &tid)) != 0)
		return rc;
	snprintf(from, sizeof(from), "%s/@@0x%016" PRIx64, fs, tid);
	if ((rc = snap_add(o, fs, pfs, tid, note, from, to)) != 0)
		return rc;
	fprintf(o->out, "%s\n", to);
	return 0;
}

/* ---------------------------------------------------------- snaprm */

/* A TID argument: hex, with or without 0x (strtoull base 16). */
static int parse_tid(const char *s, uint64_t *tid)
{
	char *e;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &e, 16);
	if (errno || *e)
		return -1;
	*tid = v;
	return 0;
}

struct rm_op {
	char fs[PATH_MAX];	/* a path in the mount, for the control socket */
	uint32_t pfs;
	uint64_t tid;
	const char *link;	/* to remove after the record, or NULL */
};

/*
 * The snapshot a softlink names: its text ends in "@@0x<tid>" (or
 * "@@<tid>", or with ":NNNNN" naming the PFS), the file system is the
 * directory it points into.  0, or an exit status after a message.
 */
static int rm_from_link(struct hammer_opts *o, const char *link, struct rm_op *op,
			int need_tid)
{
	char text[1024], dir[PATH_MAX], full[PATH_MAX + 1024];
	ssize_t n = readlink(link, text, sizeof(text) - 1);
	if (n < 0)
		return fail(o, "snaprm: cannot read softlink %s: %s", link,
			    strerror(errno));
	text[n] = '\0';
	if (text[0] == '/') {
		dirpart(text, op->fs, sizeof(op->fs));
	} else {
		dirpart(link, dir, sizeof(dir));
		snprintf(full, sizeof(full), "%s/%s", dir, text);
		dirpart(full, op->fs, sizeof(op->fs));
	}
	struct stat st;
	if (stat(op->fs, &st) != 0)
		return fail(o, "snaprm: cannot open dir %s (from softlink %s): %s",
			    op->fs, link, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(o, "snaprm: cannot open dir %s (from softlink %s): %s",
			    op->fs, link, strerror(ENOTDIR));
	int rc = pfs_of(op->fs, &op->pfs, NULL);
	if (rc)
		return fail(o, "snaprm: %s: %s", op->fs, strerror(-rc));
	char *at = strrchr(text, '@');
	int ok = at && at > text && at[-1] == '@' && at[1];
	if (ok) {
		char tidpart[64], *colon;
		snprintf(tidpart, sizeof(tidpart), "%s", at + 1);
		colon = strchr(tidpart, ':');
		if (colon) {
			char *e;
			*colon = '\0';
			unsigned long id = strtoul(colon + 1, &e, 10);
			if (*e || e - (colon + 1) != 5 || id > 65535)
				ok = 0;
			else
				op->pfs = (uint32_t)id;
		}
		/* "@@-1" is a live path, not a snapshot */
		ok = ok && parse_tid(tidpart, &op->tid) == 0 && op->tid != 0;
	}
	if (!ok && !need_tid) {
		/* "snaprm LINK TID" with a link to a directory (a PFS link) */
		if (stat(link, &st) == 0 && S_ISDIR(st.st_mode) &&
		    pfs_of(link, &op->pfs, NULL) == 0) {
			snprintf(op->fs, sizeof(op->fs), "%s", link);
			return 0;
		}
	}
	if (!ok)
		return fail(o, "snaprm: %s is not a snapshot softlink (it points at "
			    "%s, no @@0x<tid>)", link, text);
	op->link = need_tid ? link : NULL;
	return 0;
}

/*
 * snaprm <path> ... | <transid> ... | <filesystem> <transid> ...
 * DragonFly's argument rules; every argument is resolved before anything
 * is removed.
 */
int cmd_snaprm(struct hammer_opts *o, int argc, char **argv)
{
	enum { none_m, path_m, tid_m } mode = none_m;
	if (no_device(o, argv[0]))
		return HAMMER_EXIT_USAGE;
	if (argc < 2)
		return usage_snap(o);
	int ac = argc - 1;
	char **av = argv + 1;
	struct rm_op *ops = calloc((size_t)ac, sizeof(*ops));
	int nops = 0, rc = 0;
	struct rm_op fsop = { .fs = "." };	/* TIDs: the current directory's PFS */
	int have_fs = 0;
	if (!ops)
		return fail(o, "snaprm: %s", strerror(ENOMEM));

	for (int i = 0; i < ac && !rc; i++) {
		struct stat st;
		if (is_option(av[i]) && lstat(av[i], &st) != 0) {
			fprintf(o->err, "hammer snaprm: unknown option %s\n", av[i]);
			rc = usage_snap(o);
		} else if (lstat(av[i], &st) != 0) {
			int e = errno;
			uint64_t tid;
			if (parse_tid(av[i], &tid)) {
				rc = fail(o, "snaprm: not a file or tid: %s (%s; a TID is "
					  "hexadecimal, at most 16 digits)", av[i], strerror(e));
				break;
			}
			if (mode == path_m) {
				rc = usage_snap(o);
				break;
			}
			mode = tid_m;
			if (!have_fs) {
				int r2 = pfs_of(".", &fsop.pfs, NULL);
				if (r2) {
					rc = fail(o, "snaprm: .: %s", strerror(-r2));
					break;
				}
				have_fs = 1;
			}
			ops[nops] = fsop;
			ops[nops].tid = tid;
			ops[nops++].link = NULL;
		} else if (S_ISDIR(st.st_mode)) {
			if (i != 0 || ac < 2) {
				if (ac < 2)
					fprintf(o->err, "hammer snaprm: %s is a directory: give "
						"the TIDs to remove after it\n", av[i]);
				rc = usage_snap(o);
				break;
			}
			snprintf(fsop.fs, sizeof(fsop.fs), "%s", av[i]);
			int r2 = pfs_of(av[i], &fsop.pfs, NULL);
			if (r2) {
				rc = fail(o, "snaprm: cannot open dir %s: %s", av[i], strerror(-r2));
				break;
			}
			have_fs = 1;
			mode = tid_m;
		} else if (S_ISLNK(st.st_mode)) {
			uint64_t tid;
			struct stat st2;
			/* "snaprm LINK TID...": the link's directory is the file system */
			if (i == 0 && ac > 1 && lstat(av[1], &st2) != 0 &&
			    parse_tid(av[1], &tid) == 0) {
				rc = rm_from_link(o, av[i], &fsop, 0);
				have_fs = 1;
				mode = tid_m;
				continue;
			}
			if (mode == tid_m) {
				rc = usage_snap(o);
				break;
			}
			mode = path_m;
			rc = rm_from_link(o, av[i], &ops[nops], 1);
			if (!rc)
				nops++;
		} else {
			rc = fail(o, "snaprm: not directory or snapshot softlink: %s", av[i]);
		}
	}
	if (!rc && nops == 0)
		rc = usage_snap(o);
	for (int i = 0; i < nops && !rc; i++)
		if ((rc = need_v3(o, ops[i].fs, "snaprm")) != 0)
			break;

	/* now remove: the record, then its link */
	for (int i = 0; i < nops && !rc; i++) {
		struct rm_op *op = &ops[i];
		char req[128];
		struct hammer_ctl_reply r;
		snprintf(req, sizeof(req), "snap-del %u 0x%016" PRIx64, op->pfs, op->tid);
		if (hammer_ctl_call(op->fs, req, &r, o->err)) {
			rc = HAMMER_EXIT_USAGE;
			break;
		}
		if (r.status == ENOENT) {
			fprintf(o->err, "Warning: hammer snaprm 0x%016" PRIx64 ": "
				"meta-data not found (PFS#%u)\n", op->tid, op->pfs);
			if (!op->link)
				rc = HAMMER_EXIT_USAGE;	/* nothing was removed */
		} else if (r.status) {
			rc = fail(o, "snaprm 0x%016" PRIx64 " (PFS#%u): %s", op->tid,
				  op->pfs, r.msg);
			break;
		}
		if (op->link && remove(op->link) != 0)
			rc = fail(o, "snaprm: cannot remove softlink %s: %s", op->link,
				  strerror(errno));
	}
	free(ops);
	return rc;
}

/* ---------------------------------------------------------- snapls */

/*
 * snap-list's whole reply (no size limit): the records in *out.  0, or an
 * exit status after a message.
 */
int hammer_snap_list(struct hammer_opts *o, const char *path, uint32_t pfs,
		     struct hammer_snap_rec **out, size_t *n)
{
	char req[64];
	struct hammer_ctl_reply r;
	snprintf(req, sizeof(req), "snap-list %u", pfs);
	int fd = hammer_ctl_open(path, req, &r, o->err);
	if (fd == -1)
		return HAMMER_EXIT_USAGE;
	if (fd == -2)
		return fail(o, "snapls: %s: PFS#%u: %s", path, pfs, r.msg);
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			break;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t k = read(fd, buf + len, cap - len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	if (!buf)
		return fail(o, "snapls: %s", strerror(ENOMEM));
	buf[len] = '\0';

	size_t count = 0, got = 0;
	int have_count = 0, bad = 0;
	struct hammer_snap_rec *v = NULL;
	for (char *p = buf, *e; *p && !bad; p = e + 1) {
		e = strchr(p, '\n');
		if (!e) {
			bad = 1;	/* cut short */
			break;
		}
		*e = '\0';
		if (strncmp(p, "count=", 6) == 0) {
			count = strtoull(p + 6, NULL, 10);
			have_count = 1;
			v = calloc(count ? count : 1, sizeof(*v));
			if (!v)
				bad = 1;
		} else if (strncmp(p, "snap=", 5) == 0) {
			char *q, hex[2 * SNAP_LABEL_MAX + 2] = "";
			if (!v || got >= count) {
				bad = 1;
				break;
			}
			struct hammer_snap_rec *s = &v[got];
			s->tid = strtoull(p + 5, &q, 16);
			if (*q != ' ') {
				bad = 1;
				break;
			}
			s->ts = strtoull(q + 1, &q, 10);
			if (*q != ' ' || sscanf(q + 1, "%127s", hex) != 1) {
				bad = 1;
				break;
			}
			size_t hl = strlen(hex);
			if (strcmp(hex, "-") == 0)
				s->label[0] = '\0';
			else if (hl % 2 || hl / 2 > SNAP_LABEL_MAX ||
				 hammer_ctl_hex_decode(hex, s->label, hl / 2))
				bad = 1;
			else
				s->label[hl / 2] = '\0';
			got++;
		}
	}
	free(buf);
	if (bad || !have_count || got != count) {
		free(v);
		return fail(o, "snapls: %s: malformed snap-list reply from hammer-fuse",
			    path);
	}
	*out = v;
	*n = count;
	return 0;
}

static int snapshot_ls(struct hammer_opts *o, const char *path)
{
	uint32_t pfs = 0;
	int rc = pfs_of(path, &pfs, NULL);
	if (rc)
		return fail(o, "snapls: cannot open %s: %s", path, strerror(-rc));
	struct hammer_snap_rec *v = NULL;
	size_t n = 0;
	if ((rc = need_v3(o, path, "snapls")) != 0 ||
	    (rc = hammer_snap_list(o, path, pfs, &v, &n)) != 0)
		return rc;
	fprintf(o->out, "Snapshots on %s\tPFS#%u\n", path, pfs);
	fprintf(o->out, "Transaction ID\t\tTimestamp\t\tNote\n");
	for (size_t i = 0; i < n; i++) {
		time_t t = (time_t)(v[i].ts / 1000000u);
		char ts[64];
		struct tm *tp = localtime(&t);
		if (!tp || strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S %Z", tp) == 0)
			snprintf(ts, sizeof(ts), "?");
		fprintf(o->out, "0x%016" PRIx64 "\t%s\t%s\n", v[i].tid, ts,
			v[i].label[0] ? v[i].label : "-");
	}
	free(v);
	return 0;
}

/* snapls [<path> ...]: the current directory's PFS without one */
int cmd_snapls(struct hammer_opts *o, int argc, char **argv)
{
	if (no_device(o, argv[0]))
		return HAMMER_EXIT_USAGE;
	for (int i = 1; i < argc; i++)
		if (is_option(argv[i])) {
			fprintf(o->err, "hammer snapls: unknown option %s\n", argv[i]);
			return usage_snap(o);
		}
	int rc = 0;
	tzset();
	if (argc == 1)
		return snapshot_ls(o, ".");
	for (int i = 1; i < argc; i++) {
		int r = snapshot_ls(o, argv[i]);
		if (r && !rc)
			rc = r;
	}
	return rc;
}
