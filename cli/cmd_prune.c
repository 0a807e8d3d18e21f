/*
 * cmd_prune.c - `hammer prune SOFTLINK-DIR` and `hammer prune-everything
 * FILESYSTEM`, as DragonFly's userland builds a prune (format digest
 * section 9), run by the mounted daemon's prune verb (fuse/ctl_proto.h).
 *
 * prune: the snapshot softlinks in the directory (any symlink whose target
 * holds "@@": the file system is what precedes it, the TID what follows)
 * and the PFS's meta-data snapshots (version 3+) give the TIDs to keep.
 * Sorted newest first without duplicates; the PFS's prune_min drops the
 * snapshots younger than it (their time: a link's earlier of ctime and
 * mtime, a record's time stamp); the interval after the newest kept one
 * stays fine-grained; below the oldest, everything goes.  Each interval
 * between two kept TIDs collapses to what its newer end shows.
 *
 * Our TIDs differ from DragonFly's in one way that shows here: the TID a
 * sync returns is the TID its records carry (DragonFly's lies above
 * them), so a record created at a snapshot's TID is visible in it.  The
 * elements are therefore [older + 1, newer + 1) where DragonFly sends
 * [older, newer); the TID lines printed are the ones sent.
 *
 * prune-everything: every meta-data snapshot removed (those that cannot
 * be, on a slave, are skipped as DragonFly skips them), then all history.
 * -t SECONDS stops the run after that long (DragonFly: "interrupted by
 * timer ... at" the key); with -c CYCLEFILE the key is kept there and the
 * next run resumes at it (ours walks forward where DragonFly's prune walks
 * backward; the file's layout is DragonFly's, cli/cycle.h).
 */
#include "hammer.h"
#include "ctl.h"
#include "pfs_common.h"
#include "cycle.h"
#include "fuse/ctl_proto.h"

#include <errno.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cmd_prune(struct hammer_opts *o, int argc, char **argv);

struct kept {
	hammer_tid_t tid;
	time_t when;		/* 0: unknown */
};

struct prune_job {
	char fs[PATH_MAX];	/* the file system path, as DragonFly names it */
	uint32_t pfs;
	int have;
	struct kept *v;
	size_t n, cap;
};

static int usage(struct hammer_opts *o)
{
	fprintf(o->err, "Badly formed prune command, use:\n"
		"hammer prune <softlink-dir>\n"
		"hammer prune-everything <filesystem>\n");
	return HAMMER_EXIT_USAGE;
}

static int add(struct prune_job *j, hammer_tid_t tid, time_t when)
{
	if (j->n == j->cap) {
		size_t nc = j->cap ? j->cap * 2 : 32;
		struct kept *nv = realloc(j->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		j->v = nv;
		j->cap = nc;
	}
	j->v[j->n++] = (struct kept){ tid, when };
	return 0;
}

/* The PFS of the object at path: hammer_report_ino's bits 48..63. */
static int pfs_of(const char *path, uint32_t *pfs)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return -errno;
	*pfs = (uint32_t)((uint64_t)st.st_ino >> 48);
	return 0;
}

/*
 * One symlink: "<fs>@@0x<tid>" or "<fs>/@@0x<tid>[:NNNNN]".  0 added,
 * 1 not a snapshot link, or an exit status after a message.
 */
static int scan_link(struct hammer_opts *o, struct prune_job *j, const char *dir,
		     const char *name)
{
	char path[PATH_MAX], t[PATH_MAX];
	struct stat st;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    lstat(path, &st) != 0 || !S_ISLNK(st.st_mode))
		return 1;
	ssize_t n = readlink(path, t, sizeof(t) - 1);
	if (n < 0)
		return 1;
	t[n] = '\0';
	char *at = strstr(t, "@@");
	if (!at)
		return 1;
	for (char *q; (q = strstr(at + 2, "@@"));)
		at = q;		/* the last "@@", as DragonFly takes it */
	char *e;
	errno = 0;
	hammer_tid_t tid = strtoull(at + 2, &e, 0);
	if (errno || at[2] == '-' || (*e && *e != ':'))
		return 1;	/* "@@-1", junk: not a snapshot */
	long pfs = -1;
	if (*e == ':') {
		char *f;
		pfs = strtol(e + 1, &f, 10);
		if (f - (e + 1) != 5 || *f || pfs < 0 || pfs > HAMMER_PFS_MAX_ID)
			return 1;
	}
	char fs[PATH_MAX];
	int fl = (int)(at - t);
	int r = t[0] == '/' ? snprintf(fs, sizeof(fs), "%.*s", fl, t)
			    : snprintf(fs, sizeof(fs), "%s/%.*s", dir, fl, t);
	if (r < 0 || r >= (int)sizeof(fs))
		return 1;
	if (fs[0] == '\0')
		snprintf(fs, sizeof(fs), "/");
	uint32_t id = 0;
	if (pfs >= 0) {
		id = (uint32_t)pfs;
	} else if (pfs_of(fs, &id) != 0) {
		fprintf(o->err, "hammer: prune: %s: the file system %s of its target "
			"cannot be reached, link left out\n", path, fs);
		return 1;
	}
	if (!j->have) {
		snprintf(j->fs, sizeof(j->fs), "%s", fs);
		j->pfs = id;
		j->have = 1;
	} else {
		struct stat a, b;
		if (stat(fs, &a) != 0 || stat(j->fs, &b) != 0 || a.st_dev != b.st_dev ||
		    id != j->pfs) {
			fprintf(o->err, "hammer: Currently only one HAMMER filesystem may "
				"be specified in the softlink scan (%s is on another than %s)\n",
				path, j->fs);
			return HAMMER_EXIT_USAGE;
		}
	}
	time_t when = st.st_ctime < st.st_mtime ? st.st_ctime : st.st_mtime;
	return add(j, tid, when) ? HAMMER_EXIT_USAGE : 0;
}

/* The whole reply of a streaming-style verb (status line and body). */
static char *read_all(int fd)
{
	size_t len = 0, cap = 1 << 14;
	char *buf = malloc(cap);
	while (buf) {
		if (cap - len < 2048) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return NULL;
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
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* The PFS's meta-data snapshots: added to j, or (everything) removed. */
static int scan_meta(struct hammer_opts *o, struct prune_job *j, int everything)
{
	struct hammer_ctl_reply r;
	char req[64];
	if (hammer_ctl_call(j->fs, "version", &r, o->err))
		return HAMMER_EXIT_USAGE;
	char v[32];
	if (r.status || !hammer_ctl_get(&r, "current", v, sizeof(v)) || atoi(v) < 3)
		return 0;	/* no meta-data snapshots before version 3 */
	snprintf(req, sizeof(req), "snap-list %u", j->pfs);
	int fd = hammer_ctl_open(j->fs, req, &r, o->err);
	if (fd == -1)
		return HAMMER_EXIT_USAGE;
	if (fd == -2) {
		fprintf(o->err, "hammer prune: Unable to access meta-data snaps: %s\n",
			r.msg);
		return HAMMER_EXIT_USAGE;
	}
	char *buf = read_all(fd);
	close(fd);
	if (!buf)
		return HAMMER_EXIT_USAGE;
	int rc = 0;
	for (char *p = buf, *e; *p && !rc; p = e + 1) {
		if (!(e = strchr(p, '\n')))
			break;
		*e = '\0';
		if (strncmp(p, "snap=", 5) != 0)
			continue;
		char *q;
		hammer_tid_t tid = strtoull(p + 5, &q, 16);
		uint64_t ts = *q == ' ' ? strtoull(q + 1, NULL, 10) : 0;
		if (!everything) {
			rc = add(j, tid, (time_t)(ts / 1000000u)) ? HAMMER_EXIT_USAGE : 0;
			continue;
		}
		snprintf(req, sizeof(req), "snap-del %u 0x%016" PRIx64, j->pfs, tid);
		if (hammer_ctl_call(j->fs, req, &r, o->err))
			rc = HAMMER_EXIT_USAGE;
		/* a snapshot that cannot be removed (a slave's) is skipped */
	}
	free(buf);
	return rc;
}

static int tid_desc(const void *a, const void *b)
{
	hammer_tid_t x = ((const struct kept *)a)->tid, y = ((const struct kept *)b)->tid;
	return x > y ? -1 : x < y;
}

/* The elements from the kept TIDs (j->v), newest first; *n of them. */
static struct hammer_prune_elm *elements(struct hammer_opts *o, struct prune_job *j,
					 int32_t prune_min, size_t *n)
{
	*n = 0;
	if (!j->n)
		return NULL;
	qsort(j->v, j->n, sizeof(*j->v), tid_desc);
	size_t k = 0;
	for (size_t i = 0; i < j->n; i++)	/* drop duplicates */
		if (!k || j->v[i].tid != j->v[k - 1].tid)
			j->v[k++] = j->v[i];
	j->n = k;
	/* prune_min: the newest snapshots younger than it are not cleaned between */
	size_t first = 0;
	if (prune_min > 0) {
		time_t now = time(NULL);
		size_t i = j->n;
		while (i-- > 0) {
			if (j->v[i].when && now - j->v[i].when < prune_min)
				break;
		}
		first = i == (size_t)-1 ? 0 : i + 1;
		if (first)
			fprintf(o->out, "Prune %s: prune_min: Will not clean between "
				"the teeth of the first %zu snapshots\n", j->fs, first);
	}
	if (first >= j->n)
		return NULL;
	struct hammer_prune_elm *e = calloc(j->n - first + 1, sizeof(*e));
	if (!e)
		return NULL;
	/* [older + 1, newer + 1) between kept TIDs; the newest interval stays */
	for (size_t i = first + 1; i < j->n; i++)
		e[(*n)++] = (struct hammer_prune_elm){ j->v[i].tid + 1, j->v[i - 1].tid + 1, 0 };
	e[(*n)++] = (struct hammer_prune_elm){ 1, j->v[j->n - 1].tid + 1, 0 };
	for (size_t i = 0; i < *n; i++) {
		e[i].mod_tid = e[i].end_tid - e[i].beg_tid;
		fprintf(o->out, "TID %016" PRIx64 " - %016" PRIx64 "\n",
			(uint64_t)e[i].beg_tid, (uint64_t)e[i].end_tid);
	}
	return e;
}

/* Send the prune to the daemon and print DragonFly's result lines. */
static int run(struct hammer_opts *o, struct prune_job *j, unsigned flags,
	       const struct hammer_prune_elm *e, size_t n)
{
	char req[256], key[96];
	struct hammer_ctl_reply r;
	hammer_cycle_arg(o, key, sizeof(key));
	snprintf(req, sizeof(req), "prune %u %u %zu %d%s", j->pfs, flags, n,
		 o->timeout > 0 ? o->timeout : 0, key);
	int fd = hammer_ctl_open(j->fs, req, &r, o->err);
	if (fd == -1)
		return HAMMER_EXIT_USAGE;
	if (fd == -2) {
		fprintf(o->out, "Prune %s failed: %s\n", j->fs, r.msg);
		return 2;
	}
	uint8_t *raw = malloc(n * 24 + 1);
	if (!raw) {
		close(fd);
		return HAMMER_EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t f[3] = { e[i].beg_tid, e[i].end_tid, e[i].mod_tid };
		for (int k = 0; k < 3; k++)
			for (int b = 0; b < 8; b++)
				raw[24 * i + 8 * (size_t)k + (size_t)b] = (uint8_t)(f[k] >> (8 * b));
	}
	size_t off = 0;
	while (off < n * 24) {
		ssize_t k = send(fd, raw + off, n * 24 - off, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	free(raw);
	if (hammer_ctl_finish(fd, &r) != 0 || r.status) {
		fprintf(o->out, "Prune %s failed: %s\n", j->fs, r.msg);
		return 2;
	}
	char v[5][40];
	const char *keys[5] = { "rawrecords", "scanned", "dirrecords", "bytes", "stopped" };
	for (int i = 0; i < 5; i++)
		if (!hammer_ctl_get(&r, keys[i], v[i], sizeof(v[i])))
			snprintf(v[i], sizeof(v[i]), "0");
	int64_t obj;
	uint32_t loc;
	if (hammer_cycle_after(o, &r, &obj, &loc))
		fprintf(o->out, "Prune %s interrupted by timer at %016llx %04x\n", j->fs,
			(unsigned long long)obj, loc);
	else if (atoi(v[4]))
		fprintf(o->out, "Prune %s interrupted by timer\n", j->fs);
	else
		fprintf(o->out, "Prune %s succeeded\n", j->fs);
	fprintf(o->out, "Pruned %s/%s records (%s directory entries) and %s bytes\n",
		v[0], v[1], v[2], v[3]);
	return 0;
}

int cmd_prune(struct hammer_opts *o, int argc, char **argv)
{
	int everything = strcmp(argv[0], "prune-everything") == 0;
	if (argc != 2 || argv[1][0] == '-')
		return usage(o);
	const char *arg = argv[1];
	struct stat st;
	if (stat(arg, &st) != 0) {
		fprintf(o->err, "hammer: %s: %s\n", arg, strerror(errno));
		return HAMMER_EXIT_USAGE;
	}
	struct prune_job j;
	memset(&j, 0, sizeof(j));
	int rc = 0;
	if (!everything) {
		if (!S_ISDIR(st.st_mode)) {
			fprintf(o->err, "hammer: Cannot open directory %s: %s\n", arg,
				strerror(ENOTDIR));
			return HAMMER_EXIT_USAGE;
		}
		DIR *d = opendir(arg);
		if (!d) {
			fprintf(o->err, "hammer: Cannot open directory %s: %s\n", arg,
				strerror(errno));
			return HAMMER_EXIT_USAGE;
		}
		struct dirent *de;
		while (!rc && (de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			int s = scan_link(o, &j, arg, de->d_name);
			if (s != 0 && s != 1)
				rc = s;
		}
		closedir(d);
		if (rc) {
			free(j.v);
			return rc;
		}
	}
	if (!j.have) {	/* no links: the argument is the file system */
		snprintf(j.fs, sizeof(j.fs), "%s", arg);
		if (pfs_of(arg, &j.pfs) != 0) {
			fprintf(o->err, "hammer: %s: %s\n", arg, strerror(errno));
			return HAMMER_EXIT_USAGE;
		}
		j.n = 0;
	}
	/* the PFS record: not HAMMER, or gone */
	struct hpfs_be be = { .o = o };
	snprintf(be.at, sizeof(be.at), "%s", j.fs);
	struct hammer_pseudofs_data pd;
	FILE *saved = hpfs_errf;
	hpfs_errf = o->err;
	int g = hpfs_get(&be, j.pfs, &pd, NULL);
	hpfs_errf = saved;
	if (g) {
		if (g != HPFS_REPORTED)
			fprintf(o->err, "hammer: Filesystem %s is not HAMMER: %s\n", j.fs,
				strerror(-g));
		free(j.v);
		return HAMMER_EXIT_USAGE;
	}
	rc = scan_meta(o, &j, everything);
	if (rc) {
		fprintf(o->err, "hammer: Filesystem %s could not scan meta-data snaps\n",
			j.fs);
		free(j.v);
		return rc;
	}
	size_t n = 0;
	struct hammer_prune_elm *e = NULL;
	if (everything) {
		fprintf(o->out, "Prune %s: EVERYTHING\n", j.fs);
	} else {
		e = elements(o, &j, pd.prune_min, &n);
		fprintf(o->out, "Prune %s: %zu snapshots\n", j.fs, n);
		if (!n) {
			fprintf(o->err, "No snapshots found\n");
			free(j.v);
			free(e);
			return 0;
		}
	}
	fprintf(o->out, "Prune %s: objspace %016" PRIx64 ":%04x %016" PRIx64 ":%04x "
		"pfs_id %u\n", j.fs, (uint64_t)0x8000000000000000ULL, 0u,
		(uint64_t)0x7fffffffffffffffULL, 0xffffffffu, j.pfs);
	fprintf(o->out, "Prune %s: prune_min is %dd/%02d:%02d:%02d\n", j.fs,
		pd.prune_min / (24 * 60 * 60), pd.prune_min / 60 / 60 % 24,
		pd.prune_min / 60 % 60, pd.prune_min % 60);
	rc = run(o, &j, everything ? HAMMER_PRUNE_ALL : 0, e, n);
	free(e);
	free(j.v);
	return rc;
}
