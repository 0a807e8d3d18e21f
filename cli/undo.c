/*
 * undo.c - undo(1): older versions of files on a mounted HAMMER file system.
 *
 *   undo [-adDiuv] [-o outfile] [-t tid] [-t tid] path ...
 *
 * DragonFly's options and output (usr.bin/undo):
 *   (none)  the version before the latest one to stdout, after a
 *           "\n>>> path 0000 0x<tid> <time>\n\n" line
 *   -a      every version in turn (index 1..N)
 *   -i      one line per version: "\t0x<tid> <time>", plus " inode-change"
 *           when the name then referred to another inode and
 *           " file-deleted" when it did not exist; implies -a
 *   -d, -D  `diff -N -r -u` from the older version to the newer one (-D:
 *           the other way), after a "diff -N -r -u A B" line
 *   -t TID  0x<tid> or an index (0 = the latest version, 1 the one
 *           before, ...); a second -t gives the other end of a diff and
 *           implies -d
 *   -u      output to path.undo.NNNN (NNNN the version's index)
 *   -o F    output to F; with several paths F is a template where %s is
 *           the last component of each path (%% a '%'); with -a F.NNNN
 *           per version (as undo.1 says; DragonFly's code rewrites F)
 *   -v      verbose
 *
 * How: the versions are the TIDs in the history of the path's object
 * (hammer-fuse's `history` verb, history.h: the DATA records of a regular
 * file, the INODE records of anything else), plus those of every object
 * the name referred to at a TID of its directory's history (so a file
 * replaced by rename keeps its past).  A version is read through the file
 * system as path@@0x<tid>.  Unlike DragonFly, which exits 0 whatever
 * happened, the exit status is 1 when a path yielded nothing (no history,
 * not on HAMMER, a version that cannot be read) and for usage errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "history.h"

#define TID_MAX		UINT64_MAX	/* "the version after the last one" */

enum undo_type { TYPE_FILE, TYPE_DIFF, TYPE_RDIFF, TYPE_HISTORY };

#define UNDO_MULT	0x1u	/* several paths */
#define UNDO_INOCHG	0x2u	/* this version is another inode than the last */
#define UNDO_INDEX1	0x4u	/* the first -t is an index, not a TID */
#define UNDO_INDEX2	0x8u

struct undo_opts {
	enum undo_type type;
	int iterate;		/* -a (or -i) */
	int verbose;
	const char *outfile;	/* -o */
	const char *postfix;	/* -u: ".undo" */
	unsigned flags;
	uint64_t t1, t2;	/* -t values (TIDs or indexes) */
	int reported;		/* "not on HAMMER" already said for this path */
	int status;		/* exit status so far */
};

/* One version: TID, its time, the inode it was found through. */
struct uent {
	uint64_t tid;
	uint32_t time32;
	uint64_t ino;
	size_t seq;		/* collection order: the first of a TID wins */
};

struct uset {
	struct uent *v;
	size_t n, cap;
};

static void usage(void)
{
	fprintf(stderr, "usage: undo [-adDiuv] [-o outfile] [-t transaction-id] "
		"[-t transaction-id] path ...\n"
		"    -a       iterate over every version\n"
		"    -d       forward diff (older to newer)\n"
		"    -D       reverse diff\n"
		"    -i       list the versions (transaction ids and times)\n"
		"    -u       write path.undo.NNNN files\n"
		"    -v       verbose\n"
		"    -o file  write to file (several paths: %%s is the last component)\n"
		"    -t TID   the version as of transaction id TID (0x...), or an\n"
		"             index: 0 the latest version, 1 the one before, ...\n"
		"             (a second -t: the other end of a diff)\n");
}

static int uent_cmp(const void *a, const void *b)
{
	const struct uent *x = a, *y = b;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorted by TID, each once. */
static void uset_finish(struct uset *s)
{
	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), uent_cmp);
	size_t k = 1;
	for (size_t i = 1; i < s->n; i++)
		if (s->v[i].tid != s->v[k - 1].tid)
			s->v[k++] = s->v[i];
	s->n = k;
}

static void uset_free(struct uset *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/*
 * Add the history of the object `path` names (st: its stat) to s.  0, or
 * an errno (ENOTTY when the path is not on a mounted HAMMER file system).
 */
static int collect(struct undo_opts *u, const char *path, const struct stat *st,
		   struct uset *s)
{
	struct hhist h;
	int rc = hhist_get("undo", path, (uint64_t)st->st_ino, S_ISREG(st->st_mode),
			   0, 0, &h, u->reported ? NULL : stderr);
	if (rc == HHIST_UNREACHABLE) {
		u->reported = 1;
		return ENOTTY;
	}
	if (rc)
		return rc;
	if (s->n + h.n > s->cap) {
		size_t nc = (s->n + h.n) * 2 + 16;
		struct uent *v = realloc(s->v, nc * sizeof(*v));
		if (!v) {
			hhist_free(&h);
			return ENOMEM;
		}
		s->v = v;
		s->cap = nc;
	}
	for (size_t i = 0; i < h.n; i++) {
		struct uent *e = &s->v[s->n];
		e->tid = h.v[i].tid;
		e->time32 = h.v[i].time32;
		e->ino = (uint64_t)st->st_ino;
		e->seq = s->n++;
	}
	hhist_free(&h);
	return 0;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		perror("undo");
		exit(1);
	}
	return s;
}

static char *version_path(const char *base, const char *path, uint64_t tid)
{
	return tid ? xasprintf("%s@@0x%016" PRIx64, base, tid) : xasprintf("%s", path);
}

/* a copy of regular file src in $TMPDIR (malloc'd name), or NULL */
static char *temp_copy(const char *src)
{
	const char *dir = getenv("TMPDIR");
	char *name = xasprintf("%s/undo.XXXXXX", dir && *dir ? dir : "/tmp");
	int out = mkstemp(name);
	FILE *in = fopen(src, "r");
	int ok = out >= 0 && in;
	char buf[8192];
	size_t n;
	while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		ok = write(out, buf, n) == (ssize_t)n;
	if (in && ferror(in))
		ok = 0;
	if (in)
		fclose(in);
	if (out >= 0 && close(out) != 0)
		ok = 0;
	if (!ok) {
		fprintf(stderr, "undo: cannot copy %s for diff: %s\n", src, strerror(errno));
		if (out >= 0)
			unlink(name);
		free(name);
		return NULL;
	}
	return name;
}

/*
 * diff -N -r -u a b with its stdout on fd; 0, or -1 when it could not run.
 * Two versions of one file have the same st_dev and st_ino, and GNU diff
 * calls such files identical without reading them when size and times
 * agree too; so then the older side is diffed from a copy, under its name
 * (--label).
 */
static int run_diff(int fd, const char *a, const char *b)
{
	struct stat sa, sb;
	char *copy = NULL;
	if (stat(a, &sa) == 0 && stat(b, &sb) == 0 && S_ISREG(sa.st_mode) &&
	    S_ISREG(sb.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino) {
		copy = temp_copy(a);
		if (!copy)
			return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("undo: fork");
		if (copy)
			unlink(copy);
		free(copy);
		return -1;
	}
	if (pid == 0) {
		if (fd != STDOUT_FILENO) {
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
		if (copy)
			execlp("diff", "diff", "-N", "-r", "-u", "--label", a, "--label", b,
			       copy, b, (char *)NULL);
		else
			execlp("diff", "diff", "-N", "-r", "-u", a, b, (char *)NULL);
		fprintf(stderr, "undo: diff: %s\n", strerror(errno));
		_exit(127);
	}
	int st = 0, rc;
	while ((rc = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (copy)
		unlink(copy);
	free(copy);
	/* 0: same, 1: different, anything else: trouble */
	return rc == pid && WIFEXITED(st) && WEXITSTATUS(st) <= 1 ? 0 : -1;
}

/*
 * One piece of output: the version ts1 of `path` (0: the live file), with
 * -d/-D against ts2.  idx is the version's index (-a), or 0.
 */
static int generate(struct undo_opts *u, const char *path, const char *base,
		    unsigned flags, int idx, struct uent ts1, struct uent ts2)
{
	char *p1 = version_path(base, path, ts1.tid);
	/* the last version's partner is "after the end": the live file */
	char *p2 = version_path(base, path, ts2.tid == TID_MAX ? 0 : ts2.tid);
	char tb[64];
	struct stat st;
	int rc = 0;
	FILE *fp = stdout;
	char *out = NULL;

	if (lstat(p1, &st) != 0 && lstat(p2, &st) != 0) {
		/* iterating, a version that ends in a deletion is skipped quietly */
		if (idx == 0 || u->verbose)
			fprintf(stderr, "undo: unable to access either %s or %s\n", p1, p2);
		rc = idx == 0 ? -1 : 0;
		goto done;
	}
	const char *elm = strrchr(path, '/');
	elm = elm ? elm + 1 : path;
	if (u->outfile) {
		char *name = (flags & UNDO_MULT) ? xasprintf(u->outfile, elm)
						 : xasprintf("%s", u->outfile);
		out = u->iterate ? xasprintf("%s.%04d", name, idx) : xasprintf("%s", name);
		free(name);
	} else if (u->postfix) {
		out = xasprintf("%s%s.%04d", path, u->postfix, idx);
	} else if (u->type == TYPE_FILE) {
		printf("\n>>> %s %04d 0x%016" PRIx64 " %s\n\n", path, idx, ts1.tid,
		       hhist_timestr(ts1.time32, tb));
	}
	if (out) {
		fp = fopen(out, "w");
		if (!fp) {
			fprintf(stderr, "undo: %s: %s\n", out, strerror(errno));
			free(out);
			free(p1);
			free(p2);
			return -2;	/* as DragonFly: no point going on */
		}
	}

	switch (u->type) {
	case TYPE_FILE: {
		FILE *fi = fopen(p1, "r");
		if (!fi) {
			fprintf(stderr, "undo: %s: %s\n", p1, strerror(errno));
			rc = -1;
			break;
		}
		char buf[8192];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), fi)) > 0)
			if (fwrite(buf, 1, n, fp) != n) {
				rc = -1;
				break;
			}
		if (ferror(fi)) {
			fprintf(stderr, "undo: %s: read error\n", p1);
			rc = -1;
		}
		fclose(fi);
		break;
	}
	case TYPE_DIFF:
		printf("diff -N -r -u %s %s (to %s)\n", p1, p2,
		       hhist_timestr(ts2.tid == TID_MAX ? 0 : ts2.time32, tb));
		rc = run_diff(fileno(fp), p1, p2);
		break;
	case TYPE_RDIFF:
		printf("diff -N -r -u %s %s\n", p2, p1);
		rc = run_diff(fileno(fp), p2, p1);
		break;
	case TYPE_HISTORY:
		printf("\t0x%016" PRIx64 " %s", ts1.tid, hhist_timestr(ts1.time32, tb));
		if (flags & UNDO_INOCHG)
			printf(" inode-change");
		if (lstat(p1, &st) != 0)
			printf(" file-deleted");
		printf("\n");
		break;
	}
	if (fp != stdout && fclose(fp) != 0) {
		fprintf(stderr, "undo: %s: %s\n", out, strerror(errno));
		rc = -1;
	}
done:
	free(out);
	free(p1);
	free(p2);
	return rc;
}

/* the version `back` steps before the latest one, or a zero entry */
static struct uent by_index(const struct uset *s, uint64_t back)
{
	struct uent none = { 0 };
	return back < s->n ? s->v[s->n - 1 - back] : none;
}

/* Everything undo does for one path; -2 stops the run. */
static int do_path(struct undo_opts *u, const char *path)
{
	struct uset dirs = { 0 }, vers = { 0 };
	struct stat st;
	int error = 0, rc = 0;
	char base[PATH_MAX];
	if (hhist_base(path, base, sizeof(base))) {
		fprintf(stderr, "undo: %s: %s\n", path, strerror(ENAMETOOLONG));
		return -1;
	}
	u->reported = 0;

	/* every object the name referred to at a TID of its directory */
	char *dir = xasprintf("%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) == 0)
		error = collect(u, dir, &st, &dirs);
	free(dir);
	uset_finish(&dirs);
	for (size_t i = 0; i < dirs.n; i++) {
		char *vp = version_path(base, path, dirs.v[i].tid);
		if (stat(vp, &st) == 0) {
			if (S_ISFIFO(st.st_mode))
				fprintf(stderr, "Warning: fake transaction id 0x%016" PRIx64 "\n",
					dirs.v[i].tid);
			else
				error = collect(u, vp, &st, &vers);
		}
		free(vp);
	}
	if (stat(path, &st) == 0)
		error = collect(u, path, &st, &vers);
	else if (!vers.n && !error)
		error = errno;
	uset_finish(&vers);

	unsigned flags = u->flags;
	if (!u->iterate) {
		struct uent ts1 = { .tid = u->t1 }, ts2 = { .tid = u->t2 };
		if ((flags & UNDO_INDEX1) && u->t1 >= vers.n && vers.n) {
			fprintf(stderr, "undo: %s: -t %" PRIu64 ": the history has %zu "
				"versions (indexes 0 to %zu)\n", path, u->t1, vers.n,
				vers.n - 1);
			rc = -1;
			goto out;
		}
		if (flags & UNDO_INDEX1)
			ts1 = by_index(&vers, u->t1);
		if (flags & UNDO_INDEX2)
			ts2 = by_index(&vers, u->t2);
		/* the time stamps of given TIDs, when the history has them */
		for (size_t i = 0; i < vers.n; i++) {
			if (vers.v[i].tid == ts1.tid)
				ts1 = vers.v[i];
			if (vers.v[i].tid == ts2.tid)
				ts2 = vers.v[i];
		}
		/* none given: the version before the latest one */
		if (ts1.tid == 0 && vers.n) {
			ts2 = vers.v[vers.n - 1];
			if (vers.n > 1)
				ts1 = vers.v[vers.n - 2];
		}
		if (ts1.tid == 0) {
			printf("%s: No UNDO history found\n", path);
			rc = -1;
		} else {
			rc = generate(u, path, base, flags & UNDO_MULT, 0, ts1, ts2);
		}
	} else if (vers.n) {
		/*
		 * The inode a version belongs to is the one the name gave as of
		 * that TID: a TID that deleted one inode and created the next
		 * (rename over the name) came first through the old one.
		 */
		for (size_t i = 0; i < vers.n; i++) {
			char *vp = version_path(base, path, vers.v[i].tid);
			if (stat(vp, &st) == 0)
				vers.v[i].ino = (uint64_t)st.st_ino;
			free(vp);
		}
		printf("%s: ITERATE ENTIRE HISTORY\n", path);
		flags &= UNDO_MULT;
		for (size_t i = 1; i < vers.n && rc != -2; i++) {
			int r = generate(u, path, base, flags, (int)i, vers.v[i - 1], vers.v[i]);
			if (r)
				rc = r;
			if (vers.v[i].ino != vers.v[i - 1].ino)
				flags |= UNDO_INOCHG;
			else
				flags &= ~UNDO_INOCHG;
		}
		/* the last version has no newer one to diff against */
		if (rc != -2 && u->type != TYPE_DIFF && u->type != TYPE_RDIFF) {
			struct uent end = { .tid = TID_MAX };
			int r = generate(u, path, base, flags, (int)vers.n,
					 vers.v[vers.n - 1], end);
			if (r)
				rc = r;
		}
	} else {
		printf("%s: ITERATE ENTIRE HISTORY: %s\n", path,
		       strerror(error ? error : ENOENT));
		rc = -1;
	}
out:
	uset_free(&dirs);
	uset_free(&vers);
	return rc;
}

/* "0x" and 1..16 hex digits: a TID; [+]digits: an index.  -1: neither. */
static int parse_tid(const char *s, uint64_t *v, int *is_index)
{
	char *e;
	const char *p = s;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		size_t n = strspn(p + 2, "0123456789abcdefABCDEF");
		if (n < 1 || n > 16 || p[2 + n])
			return -1;
		*v = strtoull(p + 2, NULL, 16);
		*is_index = 0;
		return 0;
	}
	if (*p == '+')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*v = strtoull(p, &e, 10);
	if (*e || errno)
		return -1;
	*is_index = 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct undo_opts u = { .type = TYPE_FILE };
	int ch, count_t = 0;

	while ((ch = getopt(argc, argv, "adDiuvo:t:")) != -1) {
		switch (ch) {
		case 'd':
			u.type = TYPE_DIFF;
			break;
		case 'D':
			u.type = TYPE_RDIFF;
			break;
		case 'i':
			if (u.type != TYPE_FILE) {
				usage();
				return 1;
			}
			u.type = TYPE_HISTORY;
			u.iterate = 1;
			break;
		case 'a':
			u.iterate = 1;
			break;
		case 'u':
			u.postfix = ".undo";
			break;
		case 'v':
			u.verbose++;
			break;
		case 'o':
			u.outfile = optarg;
			break;
		case 't': {
			uint64_t v;
			int idx;
			if (++count_t > 2) {
				fprintf(stderr, "undo: at most two -t\n");
				usage();
				return 1;
			}
			if (parse_tid(optarg, &v, &idx)) {
				fprintf(stderr, "undo: -t %s: not a transaction id (0x<hex>) "
					"or an index\n", optarg);
				usage();
				return 1;
			}
			if (count_t == 1) {
				u.t1 = v;
				if (idx)
					u.flags |= UNDO_INDEX1;
			} else {
				u.t2 = v;
				if (idx)
					u.flags |= UNDO_INDEX2;
				if (u.type == TYPE_FILE)
					u.type = TYPE_DIFF;
			}
			break;
		}
		default:
			usage();
			return 1;
		}
	}
	if (u.outfile && u.postfix) {
		fprintf(stderr, "The -o option may not be combined with -u\n");
		usage();
		return 1;
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage();
		return 1;
	}
	if (argc > 1)
		u.flags |= UNDO_MULT;
	/* with several paths, -o is a template: one %s at most, %% for '%' */
	if (u.outfile && (u.flags & UNDO_MULT)) {
		int seen = 0;
		for (const char *p = u.outfile; (p = strchr(p, '%')) != NULL; p += 2) {
			if (p[1] == 's' && !seen) {
				seen = 1;
			} else if (p[1] != '%') {
				fprintf(stderr, "Malformed output template\n");
				usage();
				return 1;
			}
		}
	}
	int status = 0;
	for (int i = 0; i < argc; i++) {
		int rc = do_path(&u, argv[i]);
		fflush(stdout);
		if (rc)
			status = 1;
		if (rc == -2)
			break;
	}
	if (fflush(stdout) != 0) {
		perror("undo: stdout");
		status = 1;
	}
	return status;
}
