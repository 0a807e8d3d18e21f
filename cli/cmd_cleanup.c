/*
 * cmd_cleanup.c - `hammer [-Fv] cleanup [filesystem ...]` and `hammer
 * abort-cleanup`: DragonFly's nightly maintenance of every PFS, driven by
 * the PFS's config record (cmd_config.c), run from systemd's
 * hammer-cleanup.timer here as DragonFly runs it from periodic(8).
 *
 * For each file system (no arguments: every fuse.hammer / fuseblk.hammer
 * mount in /proc/self/mountinfo, bind mounts and PFS mounts included, each
 * PFS once): the PFS record, the snapshots directory (the record's
 * absolute snapshots path, else /var/hammer/<mount point>, "root" for /;
 * $HAMMER_SNAPSHOTS_BASE replaces /var/hammer), the config record
 * (created with DragonFly's defaults when missing), then each directive in
 * the order of the text:
 *
 *   snapshots P R [any]  every P a snapshot (`hammer snapshot FS DIR`);
 *                        links named snap-yyyymmdd-HHMM (any link with
 *                        "any") and records older than R are removed.
 *                        "0d R": no new snapshots, old ones still expire
 *                        while there are some; "0d 0d": snapshots off.
 *   prune P T            prune DIR (or FS when DIR holds no snapshot
 *                        link); with snapshots off: prune-everything
 *   rebalance P T        rebalance FS (85%)
 *   dedup P T            not supported here: said so, nothing runs
 *   reblock P T          reblock-btree, -inodes, -dirs FS, reblock-data FS 95
 *   recopy P T           the same four, all at 100%
 *
 * P is the period, T the time limit of each command (-t), both a number
 * with a d, h, m or s suffix.  A directive is due when P has passed since
 * its last successful run, counted in whole days (hours, minutes) when P
 * is a multiple of one, as DragonFly counts it: "1d" runs once per
 * calendar day.  The start of that run is kept in DIR/.<directive>.period
 * ("0x<hex time_t>\n", DragonFly's file); -F runs everything regardless.
 * Each command gets DragonFly's cycle file DIR/.<name>.cycle (-c).
 *
 * The commands run in this process (cmd_snapshot, cmd_prune, ...); their
 * normal output is discarded unless -vv, as DragonFly discards its
 * children's; -v prints each command line and each expired snapshot.
 *
 * Differences from DragonFly, all following from Linux or hammer-linux:
 *   - the config text is checked before anything runs: a bad time
 *     (DragonFly exits the whole run with "illegal suffix") or an unknown
 *     directive skips that PFS with a message; the exit status is 1 when
 *     any PFS could not be handled or any command failed (DragonFly: 0);
 *   - a period is saved only when its command succeeded (DragonFly saves
 *     prune, rebalance and reblock whatever they returned), so a failed
 *     run is retried the next time;
 *   - version 1 and 2 file systems (config file <fs>/snapshots/config,
 *     migration to meta-data) are not handled: the PFS is skipped;
 *   - a slave's config record cannot be written (EROFS): the defaults are
 *     used without storing them; its snapshots directive is skipped
 *     (snapshots of a slave arrive by mirroring) and so is the expiry of
 *     its records; prune, rebalance and reblock run as on a master;
 *   - the missing snapshots directory is created also when it comes from
 *     the PFS record; a relative file system argument is made absolute
 *     (DragonFly: "path must start with '/'");
 *   - the pid file is /run/hammer.cleanup.<pid> (a user's:
 *     $XDG_RUNTIME_DIR; $HAMMER_CLEANUP_PIDDIR overrides), one per run.
 */
#include "hammer.h"
#include "ctl.h"
#include "snap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuse/ctl_proto.h"

int cmd_snapshot(struct hammer_opts *o, int argc, char **argv);	/* cmd_snapshot.c */
int cmd_prune(struct hammer_opts *o, int argc, char **argv);	/* cmd_prune.c */
int cmd_reblock(struct hammer_opts *o, int argc, char **argv);	/* cmd_reblock.c */
int cmd_rebalance(struct hammer_opts *o, int argc, char **argv);	/* cmd_rebalance.c */
int cmd_cleanup(struct hammer_opts *o, int argc, char **argv);
int cmd_abort_cleanup(struct hammer_opts *o, int argc, char **argv);

#define SNAPSHOTS_BASE	"/var/hammer"
#define PID_PREFIX	"hammer.cleanup."
#define MAX_DIRECTIVES	64

struct directive {
	char cmd[32];
	int period;		/* seconds */
	int limit;		/* seconds, the commands' -t */
	char arg3[32];		/* snapshots: "any" */
	int have_limit;
};

/* One file system's run. */
struct job {
	struct hammer_opts *o;
	struct hammer_opts sub;		/* for the commands: output, -t, -c */
	const char *path;		/* as given or from mountinfo */
	char abspath[PATH_MAX];
	char snapdir[PATH_MAX];
	uint32_t pfs;
	int slave;
	int failed;
};

/* A PFS already handled (several mounts of one PFS). */
struct seen {
	struct seen *next;
	hammer_uuid_t uuid;
};

/* ---------------------------------------------------------- config text */

/* "<n>[dhms]" into seconds; -1 when malformed (DragonFly needs a suffix). */
static int to_secs(const char *s)
{
	char *e;
	errno = 0;
	long v = strtol(s, &e, 0);
	if (errno || e == s || v < 0)
		return -1;
	long mul;
	switch (*e) {
	case 'd': mul = 86400; break;
	case 'h': mul = 3600; break;
	case 'm': mul = 60; break;
	case 's': mul = 1; break;
	default: return -1;
	}
	if (e[1] || v > INT32_MAX / mul)
		return -1;
	return (int)(v * mul);
}

static const char *const known[] = {
	"snapshots", "prune", "rebalance", "dedup", "reblock", "recopy",
};

/*
 * The directives of text, in order.  Their count, or -1 after a message
 * naming the line (nothing has run yet).
 */
static int parse_config(struct job *j, const char *text, struct directive *d)
{
	int n = 0, lineno = 0;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[1024], *save = NULL;
		lineno++;
		snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
		p += len + (nl ? 1 : 0);
		char *cmd = strtok_r(line, " \t\r", &save);
		if (!cmd || cmd[0] == '#')
			continue;
		int ok = 0;
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			ok |= strcmp(cmd, known[k]) == 0;
		if (!ok) {
			fprintf(j->o->err, "hammer: cleanup %s: config line %d: unknown "
				"directive '%s'\n", j->path, lineno, cmd);
			return -1;
		}
		if (n == MAX_DIRECTIVES) {
			fprintf(j->o->err, "hammer: cleanup %s: config: more than %d "
				"directives\n", j->path, MAX_DIRECTIVES);
			return -1;
		}
		struct directive *x = &d[n];
		memset(x, 0, sizeof(*x));
		snprintf(x->cmd, sizeof(x->cmd), "%s", cmd);
		char *a[3];
		for (int k = 0; k < 3; k++)
			a[k] = strtok_r(NULL, " \t\r", &save);
		for (int k = 0; k < 2; k++) {
			int v = a[k] ? to_secs(a[k]) : 0;
			if (v < 0) {
				fprintf(j->o->err, "hammer: cleanup %s: config line %d: %s: "
					"bad time '%s' (a number with a d, h, m or s "
					"suffix)\n", j->path, lineno, cmd, a[k]);
				return -1;
			}
			if (k == 0)
				x->period = v;
			else
				x->limit = v;
		}
		x->have_limit = a[1] != NULL;
		if (a[2])
			snprintf(x->arg3, sizeof(x->arg3), "%s", a[2]);
		n++;
	}
	return n;
}

/* cmd_config.c's defaults (DragonFly's config_init) */
static void config_defaults(const char *path, char *text, size_t size)
{
	int tmp = strcmp(path, "/tmp") == 0 || strcmp(path, "/var/tmp") == 0 ||
		  strcmp(path, "/usr/obj") == 0;
	snprintf(text, size, "%s%s", tmp ? "snapshots 0d 0d\n" : "snapshots 1d 60d\n",
		 "prune     1d 5m\n"
		 "rebalance 1d 5m\n"
		 "#dedup\t   1d 5m\n"
		 "reblock   1d 5m\n"
		 "recopy    30d 10m\n");
}

/* ---------------------------------------------------------- the daemon */

/* config-get: 0, ENOENT, or another errno (msg filled) */
static int config_get(struct job *j, char *text, size_t size, char *msg, size_t msize)
{
	char req[64], hex[2 * HAMMER_CONFIG_BYTES + 1];
	struct hammer_ctl_reply r;
	snprintf(req, sizeof(req), "config-get %u", j->pfs);
	if (hammer_ctl_call(j->path, req, &r, j->o->err)) {
		snprintf(msg, msize, "no answer from hammer-fuse");
		return EIO;
	}
	if (r.status) {
		snprintf(msg, msize, "%s", r.msg);
		return r.status;
	}
	if (!hammer_ctl_get(&r, "config", hex, sizeof(hex)))
		hex[0] = '\0';
	size_t n = strlen(hex);
	if (n % 2 || n / 2 >= size || hammer_ctl_hex_decode(hex, text, n / 2)) {
		snprintf(msg, msize, "malformed config-get reply");
		return EIO;
	}
	text[n / 2] = '\0';
	return 0;
}

static int config_set(struct job *j, const char *text, char *msg, size_t msize)
{
	size_t n = strlen(text);
	char *req = malloc(64 + 2 * n);
	struct hammer_ctl_reply r;
	if (!req)
		return ENOMEM;
	int k = snprintf(req, 64, "config-set %u ", j->pfs);
	hammer_ctl_hex_encode(text, n, req + k);
	int rc = hammer_ctl_call(j->path, req, &r, j->o->err);
	free(req);
	if (rc) {
		snprintf(msg, msize, "no answer from hammer-fuse");
		return EIO;
	}
	snprintf(msg, msize, "%s", r.msg);
	return r.status;
}

/* ---------------------------------------------------------- periods */

static void period_file(const struct job *j, const char *cmd, const char *ext,
			char *out, size_t size)
{
	snprintf(out, size, "%s/.%s.period%s", j->snapdir, cmd, ext);
}

/*
 * Whether the directive is due; *now gets the time to save after a
 * successful run.  Periods in whole minutes, hours or days compare the
 * times with the smaller units cleared, so "1d" runs on each new day.
 */
static int due(const struct job *j, const char *cmd, int period, time_t *now)
{
	char f[PATH_MAX + 64], buf[64];
	*now = time(NULL);
	if (j->o->force)
		return 1;
	period_file(j, cmd, "", f, sizeof(f));
	FILE *fp = fopen(f, "r");
	if (!fp)
		return 1;
	int got = fgets(buf, sizeof(buf), fp) != NULL;
	fclose(fp);
	if (!got)
		return 1;
	time_t last = (time_t)strtoll(buf, NULL, 0);
	struct tm a, b;
	localtime_r(now, &a);
	localtime_r(&last, &b);
	if (period % 60 == 0)
		a.tm_sec = b.tm_sec = 0;
	if (period % 3600 == 0)
		a.tm_min = b.tm_min = 0;
	if (period % 86400 == 0)
		a.tm_hour = b.tm_hour = 0;
	a.tm_isdst = b.tm_isdst = -1;
	return (long long)(mktime(&a) - mktime(&b)) >= period;
}

static void save_period(struct job *j, const char *cmd, time_t t)
{
	char f[PATH_MAX + 64], nf[PATH_MAX + 64];
	period_file(j, cmd, "", f, sizeof(f));
	period_file(j, cmd, ".new", nf, sizeof(nf));
	FILE *fp = fopen(nf, "w");
	if (!fp) {
		fprintf(j->o->err, "hammer: Unable to create period-file %s: %s\n", nf,
			strerror(errno));
		return;
	}
	fprintf(fp, "0x%08llx\n", (long long)t);
	if (fclose(fp) == 0)
		rename(nf, f);
	remove(nf);
}

/* ---------------------------------------------------------- commands */

/* Run one command in this process as `hammer [-c CYCLE] [-t T] ARGS`. */
static int run(struct job *j, const char *cycle, int limit, int argc, ...)
{
	char *argv[8], cyc[PATH_MAX + 32];
	va_list ap;
	va_start(ap, argc);
	for (int i = 0; i < argc && i < 7; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	struct hammer_opts so = j->sub;
	so.timeout = limit;
	so.cyclefile = NULL;
	if (cycle) {
		snprintf(cyc, sizeof(cyc), "%s/%s", j->snapdir, cycle);
		so.cyclefile = cyc;
	}
	if (j->o->verbose) {
		fprintf(j->o->out, "    hammer");
		if (cycle)
			fprintf(j->o->out, " -c %s", cyc);
		if (limit)
			fprintf(j->o->out, " -t %d", limit);
		for (int i = 0; i < argc; i++)
			fprintf(j->o->out, " %s", argv[i]);
		fputc('\n', j->o->out);
	}
	fflush(j->o->out);
	int rc;
	if (strcmp(argv[0], "snapshot") == 0)
		rc = cmd_snapshot(&so, argc, argv);
	else if (strncmp(argv[0], "prune", 5) == 0)
		rc = cmd_prune(&so, argc, argv);
	else if (strcmp(argv[0], "rebalance") == 0)
		rc = cmd_rebalance(&so, argc, argv);
	else
		rc = cmd_reblock(&so, argc, argv);
	fflush(so.out);
	if (rc) {
		fflush(j->o->out);
		fprintf(j->o->err, "hammer: cleanup %s: hammer %s failed (exit status %d)\n",
			j->path, argv[0], rc);
		j->failed = 1;
	}
	return rc;
}

/* A dot between the commands of a directive (not with -v). */
static void dot(struct job *j)
{
	if (!j->o->verbose) {
		fputc('.', j->o->out);
		fflush(j->o->out);
	}
}

/* A snapshot softlink: a symlink whose text holds "@@0x" (or "@@<hex>"). */
static int is_snap_link(const char *dir, const char *name)
{
	char p[PATH_MAX + 256], t[PATH_MAX];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode))
		return 0;
	ssize_t n = readlink(p, t, sizeof(t) - 1);
	if (n < 0)
		return 0;
	t[n] = '\0';
	char *at = strstr(t, "@@");
	return at && at[2] && at[2] != '-';
}

/* The softlinks in DIR (any symlink, as DragonFly counts them). */
static int count_links(const char *dir, int snap_only)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char p[PATH_MAX + 256];
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode) &&
		    (!snap_only || is_snap_link(dir, de->d_name)))
			n++;
	}
	closedir(d);
	return n;
}

/* A link named <word>-yyyymmdd[-HHMM] older than keep seconds. */
static int link_expired(const char *name, int keep)
{
	const char *p = name;
	while (*p && *p != '-' && *p != '.')
		p++;
	if (*p)
		p++;
	int y, mo, d = 0, h = 0, mi = 0;
	if (sscanf(p, "%4d%2d%2d-%2d%2d", &y, &mo, &d, &h, &mi) < 3)
		return 0;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_isdst = -1 };
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return 0;
	return (long long)(time(NULL) - t) > keep;
}

/* Remove the links and records older than keep seconds. */
static void expire(struct job *j, int keep, const char *arg3)
{
	int any = strstr(arg3, "any") != NULL;
	DIR *d = opendir(j->snapdir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			char p[PATH_MAX + 256];
			struct stat st;
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", j->snapdir, de->d_name);
			if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode) ||
			    (!any && strncmp(de->d_name, "snap-", 5) != 0) ||
			    !link_expired(de->d_name, keep))
				continue;
			if (j->o->verbose)
				fprintf(j->o->out, "    expire %s\n", p);
			if (remove(p) != 0) {
				fprintf(j->o->err, "hammer: cleanup: cannot remove %s: %s\n", p,
					strerror(errno));
				j->failed = 1;
			}
		}
		closedir(d);
	}
	if (j->slave)
		return;		/* records of a slave come and go by mirroring */
	struct hammer_snap_rec *v = NULL;
	size_t n = 0;
	if (hammer_snap_list(j->o, j->path, j->pfs, &v, &n)) {
		j->failed = 1;
		return;
	}
	time_t now = time(NULL);
	for (size_t i = 0; i < n; i++) {
		time_t t = (time_t)(v[i].ts / 1000000u);
		if ((long long)(now - t) <= keep && v[i].tid != 0)
			continue;
		if (j->o->verbose) {
			char ts[64];
			struct tm tm;
			if (!localtime_r(&t, &tm) ||
			    !strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S %Z", &tm))
				snprintf(ts, sizeof(ts), "?");
			fprintf(j->o->out, "    expire 0x%016" PRIx64 " %s %s\n", v[i].tid,
				ts, v[i].label);
		}
		char req[96];
		struct hammer_ctl_reply r;
		snprintf(req, sizeof(req), "snap-del %u 0x%016" PRIx64, j->pfs, v[i].tid);
		if (hammer_ctl_call(j->path, req, &r, j->o->err) || (r.status && r.status != ENOENT)) {
			fflush(j->o->out);
			fprintf(j->o->err, "    Unable to delete snapshot 0x%016" PRIx64 ": %s\n",
				v[i].tid, r.status ? r.msg : "no answer");
			j->failed = 1;
		}
	}
	free(v);
}

static int records(struct job *j)
{
	struct hammer_snap_rec *v = NULL;
	size_t n = 0;
	if (hammer_snap_list(j->o, j->path, j->pfs, &v, &n))
		n = 0;
	free(v);
	return (int)n;
}

static int do_snapshot(struct job *j)
{
	return run(j, NULL, 0, 3, "snapshot", j->abspath, j->snapdir);
}

static int do_prune(struct job *j, const struct directive *x, int snapshots_off)
{
	/*
	 * A directory without snapshot links would make prune take it for the
	 * file system it lives on: name the file system then.
	 */
	const char *target = count_links(j->snapdir, 1) ? j->snapdir : j->abspath;
	if (snapshots_off)
		return run(j, x->limit ? ".prune.cycle" : NULL, x->limit, 2,
			   "prune-everything", j->abspath);
	return run(j, x->limit ? ".prune.cycle" : NULL, x->limit, 2, "prune", target);
}

static int do_rebalance(struct job *j, const struct directive *x)
{
	dot(j);
	int rc = run(j, ".rebalance.cycle", x->limit, 2, "rebalance", j->abspath);
	dot(j);
	return rc;
}

/* reblock (data at 95%) or recopy (everything) */
static int do_reblock(struct job *j, const struct directive *x, int recopy)
{
	static const struct { const char *cmd; int n; } steps[] = {
		{ "reblock-btree", 1 }, { "reblock-inodes", 2 },
		{ "reblock-dirs", 4 }, { "reblock-data", 3 },
	};
	int rc = 0;
	for (size_t i = 0; i < 4; i++) {
		char cyc[32];
		snprintf(cyc, sizeof(cyc), ".%s-%d.cycle", recopy ? "recopy" : "reblock",
			 steps[i].n);
		dot(j);
		int r = !recopy && steps[i].n == 3
			? run(j, cyc, x->limit, 3, steps[i].cmd, j->abspath, "95")
			: run(j, cyc, x->limit, 2, steps[i].cmd, j->abspath);
		if (r)
			rc = r;
	}
	return rc;
}

/* "run" (then the dots and a newline, or with -v a newline first) */
static void say_run(struct job *j, int dots)
{
	fputs(dots && !j->o->verbose ? "run" : "run\n", j->o->out);
	fflush(j->o->out);
}

static void end_dots(struct job *j)
{
	if (!j->o->verbose)
		fputc('\n', j->o->out);
}

static void directives(struct job *j, const struct directive *d, int n)
{
	FILE *out = j->o->out;
	int snapshots_off = 0, warn = 0;
	for (int i = 0; i < n; i++) {
		const struct directive *x = &d[i];
		const char *c = x->cmd;
		time_t t = 0;
		int rc = 1;
		fprintf(out, "%20s - ", c);
		fflush(out);
		if (strcmp(c, "snapshots") == 0) {
			if (j->slave) {
				fputs("skip (slave: snapshots come by mirroring)\n", out);
			} else if (x->period == 0) {
				if (x->limit && count_links(j->snapdir, 0) + records(j) > 0) {
					fputs("only removing old snapshots\n", out);
					warn = 1;
					expire(j, x->limit, x->arg3);
				} else {
					fputs("disabled\n", out);
					snapshots_off = 1;
				}
			} else if (due(j, c, x->period, &t)) {
				say_run(j, 0);
				expire(j, x->limit, x->arg3);
				rc = do_snapshot(j);
			} else {
				fputs("skip\n", out);
			}
		} else if (x->period == 0) {
			fputs("disabled\n", out);
		} else if (!due(j, c, x->period, &t)) {
			fputs("skip\n", out);
		} else if (strcmp(c, "prune") == 0) {
			fputs(warn ? "run - WARNING snapshot softlinks present but snapshots "
			      "disabled\n" : "run\n", out);
			rc = do_prune(j, x, snapshots_off);
		} else if (strcmp(c, "rebalance") == 0) {
			say_run(j, 1);
			rc = do_rebalance(j, x);
			end_dots(j);
		} else if (strcmp(c, "reblock") == 0 || strcmp(c, "recopy") == 0) {
			say_run(j, 1);
			rc = do_reblock(j, x, strcmp(c, "recopy") == 0);
			end_dots(j);
		} else {	/* dedup */
			fputs("not supported by hammer-linux, skipped\n", out);
		}
		fflush(out);
		if (rc == 0)
			save_period(j, c, t);
	}
}

/* ---------------------------------------------------------- one file system */

static int mkdirs(const char *path)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) != 0 && errno != EEXIST)
				return -1;
			*s = '/';
		}
	return mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static void do_cleanup(struct hammer_opts *o, struct hammer_opts *sub, const char *path,
		       struct seen **seen, int *status)
{
	struct job j = { .o = o, .sub = *sub, .path = path };
	FILE *out = o->out;
	struct stat st;
	struct hammer_ctl_reply r;
	char v[16], hex[2 * sizeof(struct hammer_pseudofs_data) + 1], req[64], msg[256];

	fprintf(out, "cleanup %-20s -", path);
	fflush(out);
	if (stat(path, &st) != 0) {
		fprintf(out, " unable to access directory: %s\n", strerror(errno));
		*status = HAMMER_EXIT_USAGE;
		return;
	}
	FILE *null = fopen("/dev/null", "w");
	int reached = hammer_ctl_call(path, "version", &r, null ? null : o->err) == 0;
	if (null)
		fclose(null);
	if (!reached || r.status) {
		fprintf(out, " not a HAMMER filesystem: %s\n", reached ? r.msg :
			"no hammer-fuse control socket for it");
		*status = HAMMER_EXIT_USAGE;
		return;
	}
	unsigned version = hammer_ctl_get(&r, "current", v, sizeof(v)) ? (unsigned)atoi(v) : 0;
	j.pfs = (uint32_t)((uint64_t)st.st_ino >> 48);	/* hammer_report_ino */
	struct hammer_pseudofs_data pd;
	snprintf(req, sizeof(req), "pfs-get %u", j.pfs);
	if (hammer_ctl_call(path, req, &r, o->err) || r.status ||
	    !hammer_ctl_get(&r, "pfsd", hex, sizeof(hex)) ||
	    hammer_ctl_hex_decode(hex, &pd, sizeof(pd))) {
		fprintf(out, " not a HAMMER filesystem: cannot read PFS#%u%s%s\n", j.pfs,
			r.status ? ": " : "", r.status ? r.msg : "");
		*status = HAMMER_EXIT_USAGE;
		return;
	}
	if (version < 3) {
		fprintf(out, " HAMMER version %u: cleanup needs version 3 or later "
			"(hammer version-upgrade is DragonFly's)\n", version);
		*status = HAMMER_EXIT_USAGE;
		return;
	}
	for (struct seen *s = *seen; s; s = s->next)
		if (memcmp(&s->uuid, &pd.unique_uuid, sizeof(s->uuid)) == 0) {
			fprintf(out, " PFS#%u already handled\n", j.pfs);
			return;
		}
	struct seen *s = malloc(sizeof(*s));
	if (s) {
		s->uuid = pd.unique_uuid;
		s->next = *seen;
		*seen = s;
	}
	j.slave = (pd.mirror_flags & HAMMER_PFSD_SLAVE) != 0;

	/* the path names the snapshots directory: absolute, no trailing '/' */
	if (path[0] == '/') {
		snprintf(j.abspath, sizeof(j.abspath), "%s", path);
	} else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd))) {
			fprintf(out, " unable to access directory: %s\n", strerror(errno));
			*status = HAMMER_EXIT_USAGE;
			return;
		}
		int k = snprintf(j.abspath, sizeof(j.abspath), "%s/%s",
				 strcmp(cwd, "/") ? cwd : "", path);
		if (k < 0 || (size_t)k >= sizeof(j.abspath)) {
			fprintf(out, " unable to access directory: %s\n", strerror(ENAMETOOLONG));
			*status = HAMMER_EXIT_USAGE;
			return;
		}
	}
	size_t l = strlen(j.abspath);
	while (l > 1 && j.abspath[l - 1] == '/')
		j.abspath[--l] = '\0';
	if (pd.snapshots[0] == '/') {
		snprintf(j.snapdir, sizeof(j.snapdir), "%.*s", (int)sizeof(pd.snapshots),
			 pd.snapshots);
	} else if (pd.snapshots[0]) {
		fprintf(out, " WARNING: pfs-slave's snapshots dir is not absolute\n");
		*status = HAMMER_EXIT_USAGE;
		return;
	} else {
		const char *base = getenv("HAMMER_SNAPSHOTS_BASE");
		if (!base || !*base)
			base = SNAPSHOTS_BASE;
		if (strcmp(j.abspath, "/") == 0)
			snprintf(j.snapdir, sizeof(j.snapdir), "%s/root", base);
		else
			snprintf(j.snapdir, sizeof(j.snapdir), "%s%s", base, j.abspath);
	}

	/* the config: created with the defaults the first time */
	char text[HAMMER_CONFIG_BYTES];
	int rc = config_get(&j, text, sizeof(text), msg, sizeof(msg));
	const char *note = "";
	if (rc == ENOENT) {
		config_defaults(j.abspath, text, sizeof(text));
		if (!j.slave) {
			rc = config_set(&j, text, msg, sizeof(msg));
			if (rc) {
				fprintf(out, " cannot init meta-data config! (%s)\n", msg);
				*status = HAMMER_EXIT_USAGE;
				return;
			}
		}
		note = j.slave ? " (slave: default config, not stored)" : "";
		rc = 0;
	}
	if (rc) {
		fprintf(out, " cannot read the config record: %s\n", msg);
		*status = HAMMER_EXIT_USAGE;
		return;
	}
	if (mkdirs(j.snapdir) != 0) {
		fprintf(out, " unable to create snapshot dir \"%s\": %s\n", j.snapdir,
			strerror(errno));
		*status = HAMMER_EXIT_USAGE;
		return;
	}

	/* one cleanup per PFS at a time */
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
		fprintf(out, " PFS#%u locked by other process\n", j.pfs);
		close(fd);
		*status = HAMMER_EXIT_USAGE;
		return;
	}
	fprintf(out, " handle PFS#%u using %s%s\n", j.pfs, j.snapdir, note);
	fflush(out);

	struct directive d[MAX_DIRECTIVES];
	int n = parse_config(&j, text, d);
	if (n < 0) {
		fprintf(out, "%20s - config error, nothing done (hammer viconfig %s)\n",
			"config", j.abspath);
		j.failed = 1;
	} else {
		directives(&j, d, n);
	}
	fflush(out);
	if (fd >= 0)
		close(fd);
	if (j.failed)
		*status = HAMMER_EXIT_USAGE;
}

/* ---------------------------------------------------------- mounts, pid file */

/* mountinfo's octal escapes (\040) undone in place */
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

/* The mount points of every hammer-fuse mount, in mountinfo order. */
static char **hammer_mounts(size_t *n)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char **v = NULL, *line = NULL;
	size_t cap = 0;
	*n = 0;
	if (!f)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		char mp[PATH_MAX], *dash = strstr(line, " - "), type[64];
		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1 ||
		    sscanf(dash + 3, "%63s", type) != 1)
			continue;
		if (strcmp(type, "fuse.hammer") != 0 && strcmp(type, "fuseblk.hammer") != 0)
			continue;
		unescape(mp);
		char **nv = realloc(v, (*n + 1) * sizeof(*v));
		char *dup = strdup(mp);
		if (!nv || !dup) {
			free(dup);
			if (nv)
				v = nv;
			break;
		}
		v = nv;
		v[(*n)++] = dup;
	}
	free(line);
	fclose(f);
	return v;
}

static void piddir(char *out, size_t size)
{
	const char *e = getenv("HAMMER_CLEANUP_PIDDIR");
	const char *x = getenv("XDG_RUNTIME_DIR");
	if (e && *e)
		snprintf(out, size, "%s", e);
	else if (geteuid() != 0 && x && *x)
		snprintf(out, size, "%s", x);
	else
		snprintf(out, size, "/run");
}

/* hammer.cleanup.<pid>, locked for as long as this run lasts; -1 if none */
static int pidfile_open(struct hammer_opts *o, char *path, size_t size)
{
	char dir[PATH_MAX];
	piddir(dir, sizeof(dir));
	snprintf(path, size, "%s/" PID_PREFIX "%ld", dir, (long)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(o->err, "hammer: Unable to open or create %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char buf[32];
	int k = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)k) != k)
		fprintf(o->err, "hammer: writing %s: %s\n", path, strerror(errno));
	return fd;
}

int cmd_cleanup(struct hammer_opts *o, int argc, char **argv)
{
	if (o->devs) {
		fprintf(o->err, "hammer: cleanup works on mounted file systems, not on "
			"-f volumes\n");
		return HAMMER_EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(o->err, "usage: hammer [-Fv] cleanup [<filesystem> ...]\n");
			return HAMMER_EXIT_USAGE;
		}
	tzset();
	/* the commands' own output: only with -vv, as DragonFly's children */
	struct hammer_opts sub = *o;
	FILE *null = NULL;
	sub.verbose = 0;
	if (o->verbose < 2) {
		null = fopen("/dev/null", "w");
		if (!null) {
			fprintf(o->err, "hammer: cleanup: /dev/null: %s\n", strerror(errno));
			return HAMMER_EXIT_USAGE;
		}
		sub.out = null;
	}
	char pidpath[PATH_MAX + 64];
	int pfd = pidfile_open(o, pidpath, sizeof(pidpath));
	struct seen *seen = NULL;
	int status = 0;
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			do_cleanup(o, &sub, argv[i], &seen, &status);
	} else {
		size_t n = 0;
		char **mp = hammer_mounts(&n);
		for (size_t i = 0; i < n; i++) {
			do_cleanup(o, &sub, mp[i], &seen, &status);
			free(mp[i]);
		}
		free(mp);
	}
	while (seen) {
		struct seen *next = seen->next;
		free(seen);
		seen = next;
	}
	if (pfd >= 0) {
		unlink(pidpath);
		close(pfd);
	}
	if (null)
		fclose(null);
	return status;
}

/*
 * abort-cleanup: SIGTERM to every running cleanup (a pid file still
 * locked), the pid files removed (stale ones too).
 */
int cmd_abort_cleanup(struct hammer_opts *o, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(o->err, "usage: hammer abort-cleanup\n");
		return HAMMER_EXIT_USAGE;
	}
	char dir[PATH_MAX];
	piddir(dir, sizeof(dir));
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *de;
	size_t pl = strlen(PID_PREFIX);
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, PID_PREFIX, pl) != 0)
			continue;
		char p[PATH_MAX + 256], *e;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		long pid = strtol(de->d_name + pl, &e, 10);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			if (errno == EWOULDBLOCK && !*e && pid > 0 && kill((pid_t)pid, SIGTERM) == 0)
				fprintf(o->out, "Terminated cleanup process %ld\n", pid);
		} else {
			flock(fd, LOCK_UN);	/* nobody holds it: stale */
		}
		close(fd);
		unlink(p);
	}
	closedir(d);
	return 0;
}
