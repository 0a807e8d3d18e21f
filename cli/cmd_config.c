/*
 * cmd_config.c - `hammer config [<fs> [<configfile>]]` and
 * `hammer viconfig [<fs>]`: the cleanup configuration of a PFS, a text of
 * at most 1023 bytes kept in a CONFIG meta-data record (on-disk version
 * 3+), reached through hammer-fuse's control socket (config-get,
 * config-set: fuse/ctl_proto.h).
 *
 * As DragonFly's sbin/hammer/cmd_config.c, with these changes:
 *   - a PFS without a record gets one with DragonFly's defaults the first
 *     time `config` prints it (DragonFly's `hammer cleanup` creates it on
 *     its first run and `config` fails until then; cmd_cleanup.c
 *     creates it too).  The defaults depend on the path, as cmd_cleanup.c's
 *     config_init(): snapshots are off for /tmp, /var/tmp and /usr/obj.
 *     When the record cannot be stored (a slave, not the mounting user)
 *     the defaults are printed and a warning says so;
 *   - viconfig keeps the record when the editor fails (exit status not 0)
 *     and takes the file as changed when its text or its mtime changed
 *     (DragonFly: mtime only);
 *   - failures exit 1 (DragonFly: 2); a text with a NUL byte is refused.
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
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuse/ctl_proto.h"

int cmd_config(struct hammer_opts *o, int argc, char **argv);
int cmd_viconfig(struct hammer_opts *o, int argc, char **argv);

#define CONFIG_BYTES	1024	/* the record's text, with its NUL */

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

/* cmd_cleanup.c's config_init(): the text a new record gets */
static void config_defaults(const char *path, char *text, size_t size)
{
	char real[PATH_MAX];
	const char *p = realpath(path, real) ? real : path;
	int tmp = strcmp(p, "/tmp") == 0 || strcmp(p, "/var/tmp") == 0 ||
		  strcmp(p, "/usr/obj") == 0;
	snprintf(text, size, "%s%s", tmp ? "snapshots 0d 0d\n" : "snapshots 1d 60d\n",
		 "prune     1d 5m\n"
		 "rebalance 1d 5m\n"
		 "#dedup\t   1d 5m\n"
		 "reblock   1d 5m\n"
		 "recopy    30d 10m\n");
}

/* viconfig's text when there is no record (DragonFly's) */
static const char no_config_text[] =
	"# No configuration present, here are some defaults\n"
	"# you can uncomment.  Also remove these instructions\n"
	"#\n"
	"#snapshots 1d 60d\n"
	"#prune     1d 5m\n"
	"#rebalance 1d 5m\n"
	"#dedup     1d 5m\n"
	"#reblock   1d 5m\n"
	"#recopy    30d 10m\n";

/* The PFS holding path (st_ino bits 48..63); 0 or an exit status. */
static int pfs_of(struct hammer_opts *o, const char *path, uint32_t *pfs)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return fail(o, "config: unable to open directory %s: %s", path,
			    strerror(errno));
	*pfs = (uint32_t)((uint64_t)st.st_ino >> 48);
	return 0;
}

/* Version 3 or later, else an exit status after a message. */
static int need_v3(struct hammer_opts *o, const char *path)
{
	struct hammer_ctl_reply r;
	char v[16];
	if (hammer_ctl_call(path, "version", &r, o->err))
		return HAMMER_EXIT_USAGE;
	if (r.status || !hammer_ctl_get(&r, "current", v, sizeof(v)))
		return fail(o, "config: %s: cannot get the version: %s", path,
			    r.status ? r.msg : "no version in the reply");
	if (atoi(v) < 3)
		return fail(o, "config: %s: the config record needs file system "
			    "version 3 or later (this is version %d)", path, atoi(v));
	return 0;
}

/*
 * The record's text into text (CONFIG_BYTES).  0, ENOENT when there is
 * none (no message), or an exit status after a message (as a negative
 * number, so it cannot be mistaken for ENOENT).
 */
static int config_get(struct hammer_opts *o, const char *path, uint32_t pfs,
		      char *text)
{
	struct hammer_ctl_reply r;
	char req[64], hex[2 * CONFIG_BYTES + 1];
	snprintf(req, sizeof(req), "config-get %u", pfs);
	if (hammer_ctl_call(path, req, &r, o->err))
		return -HAMMER_EXIT_USAGE;
	if (r.status == ENOENT)
		return ENOENT;
	if (r.status)
		return -fail(o, "config: %s: PFS#%u: read config failed: %s", path, pfs,
			     r.msg);
	if (!hammer_ctl_get(&r, "config", hex, sizeof(hex)))
		hex[0] = '\0';	/* an empty text */
	size_t n = strlen(hex);
	if (n % 2 || n / 2 >= CONFIG_BYTES || hammer_ctl_hex_decode(hex, text, n / 2))
		return -fail(o, "config: %s: malformed config-get reply from hammer-fuse",
			     path);
	text[n / 2] = '\0';
	return 0;
}

/* 0, or the daemon's errno (msg filled), or -1 after a message */
static int config_set(struct hammer_opts *o, const char *path, uint32_t pfs,
		      const char *text, char *msg, size_t msize)
{
	size_t n = strlen(text);
	char *req = malloc(64 + 2 * n);
	struct hammer_ctl_reply r;
	if (!req)
		return ENOMEM;
	int k = snprintf(req, 64, "config-set %u ", pfs);
	hammer_ctl_hex_encode(text, n, req + k);
	int rc = hammer_ctl_call(path, req, &r, o->err);
	free(req);
	if (rc)
		return -1;
	snprintf(msg, msize, "%s", r.msg);
	return r.status;
}

/* A config file's text: at most CONFIG_BYTES - 1 bytes, no NUL. */
static int read_text(struct hammer_opts *o, const char *file, char *text)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return fail(o, "config: %s: %s", file, strerror(errno));
	size_t n = fread(text, 1, CONFIG_BYTES, f);
	int err = ferror(f);
	fclose(f);
	if (err)
		return fail(o, "config: %s: read error", file);
	if (n >= CONFIG_BYTES)
		return fail(o, "config: %s: config file too big, limit %d bytes", file,
			    CONFIG_BYTES - 1);
	if (memchr(text, '\0', n))
		return fail(o, "config: %s: the text contains a NUL byte", file);
	text[n] = '\0';
	return 0;
}

static int store(struct hammer_opts *o, const char *path, uint32_t pfs,
		 const char *text)
{
	char msg[256];
	int rc = config_set(o, path, pfs, text, msg, sizeof(msg));
	if (rc < 0)
		return HAMMER_EXIT_USAGE;
	if (rc)
		return fail(o, "config: %s: PFS#%u: %s", path, pfs,
			    rc == ENOMEM ? strerror(rc) : msg);
	return 0;
}

/* config [<fs> [<configfile>]] */
int cmd_config(struct hammer_opts *o, int argc, char **argv)
{
	if (o->devs)
		return fail(o, "config works on a mounted file system, not on -f volumes");
	int bad = 0;
	for (int i = 1; i < argc && !bad; i++)
		if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(o->err, "hammer config: unknown option %s\n", argv[i]);
			bad = 1;
		}
	if (bad || argc > 3) {
		fprintf(o->err, "usage: hammer config [<filesystem> [<configfile>]]\n");
		return HAMMER_EXIT_USAGE;
	}
	const char *path = argc >= 2 ? argv[1] : ".";
	char text[CONFIG_BYTES];
	uint32_t pfs = 0;
	int rc = pfs_of(o, path, &pfs);
	if (rc || (rc = need_v3(o, path)) != 0)
		return rc;
	if (argc == 3) {
		if ((rc = read_text(o, argv[2], text)) != 0)
			return rc;
		return store(o, path, pfs, text);
	}
	rc = config_get(o, path, pfs, text);
	if (rc < 0)
		return -rc;
	if (rc == ENOENT) {
		char msg[256];
		config_defaults(path, text, sizeof(text));
		rc = config_set(o, path, pfs, text, msg, sizeof(msg));
		if (rc < 0)
			return HAMMER_EXIT_USAGE;
		if (rc)
			fprintf(o->err, "hammer: config: PFS#%u has no config record; "
				"these are the defaults, not stored: %s\n", pfs,
				rc == ENOMEM ? strerror(rc) : msg);
	}
	fputs(text, o->out);
	return 0;
}

/* The file's text and mtime; 0 or an exit status. */
static int slurp(struct hammer_opts *o, const char *file, char *text,
		 struct timespec *mt)
{
	struct stat st;
	if (stat(file, &st) != 0)
		return fail(o, "viconfig: unable to stat %s after the editor: %s", file,
			    strerror(errno));
	*mt = st.st_mtim;
	return read_text(o, file, text);
}

/* viconfig [<fs>]: edit with $EDITOR ($VISUAL, vi), store when changed */
int cmd_viconfig(struct hammer_opts *o, int argc, char **argv)
{
	if (o->devs)
		return fail(o, "viconfig works on a mounted file system, not on -f volumes");
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(o->err, "hammer viconfig: unknown option %s\n", argv[i]);
			return fail(o, "viconfig: 0 or 1 argument (<fs>) only");
		}
	if (argc > 2)
		return fail(o, "viconfig: 0 or 1 argument (<fs>) only");
	const char *path = argc == 2 ? argv[1] : ".";
	char text[CONFIG_BYTES], after[CONFIG_BYTES];
	uint32_t pfs = 0;
	int rc = pfs_of(o, path, &pfs);
	if (rc || (rc = need_v3(o, path)) != 0)
		return rc;
	rc = config_get(o, path, pfs, text);
	if (rc < 0)
		return -rc;
	if (rc == ENOENT)
		snprintf(text, sizeof(text), "%s", no_config_text);

	const char *td = getenv("TMPDIR");
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/configXXXXXXXXXX", td && *td ? td : "/tmp");
	int fd = mkstemp(tmp);
	if (fd < 0)
		return fail(o, "viconfig: creating temporary file %s: %s", tmp,
			    strerror(errno));
	size_t len = strlen(text);
	int werr = write(fd, text, len) != (ssize_t)len;
	/* a second back, so an edit within the same second shows */
	struct stat st;
	if (werr || fstat(fd, &st) != 0) {
		close(fd);
		unlink(tmp);
		return fail(o, "viconfig: writing %s: %s", tmp, strerror(errno));
	}
	struct timespec ts[2] = { { .tv_sec = st.st_mtim.tv_sec - 1 },
				  { .tv_sec = st.st_mtim.tv_sec - 1 } };
	futimens(fd, ts);
	close(fd);

	const char *ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = getenv("VISUAL");
	if (!ed || !*ed)
		ed = "vi";
	char *cmd = malloc(strlen(ed) + strlen(tmp) + 2);
	if (!cmd) {
		unlink(tmp);
		return fail(o, "viconfig: %s", strerror(ENOMEM));
	}
	sprintf(cmd, "%s %s", ed, tmp);
	fflush(o->out);
	int ws = system(cmd);
	free(cmd);
	if (ws == -1 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		unlink(tmp);
		return fail(o, "viconfig: the editor (%s) failed (%s %d); the config "
			    "is unchanged", ed, ws != -1 && WIFEXITED(ws) ? "exit status" :
			    "wait status", ws != -1 && WIFEXITED(ws) ? WEXITSTATUS(ws) : ws);
	}
	struct timespec mt = { 0, 0 };
	rc = slurp(o, tmp, after, &mt);
	unlink(tmp);
	if (rc)
		return rc;
	if (mt.tv_sec == ts[0].tv_sec && mt.tv_nsec == 0 && strcmp(text, after) == 0) {
		fprintf(o->out, "hammer viconfig: no changes were made\n");
		return 0;
	}
	return store(o, path, pfs, after);
}
