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
 * The back ends (a mount through hammer-fuse's control socket, or -f DEV
 * with the engine mounted read-write here and unmounted, flushed, at the
 * end) and DragonFly's path handling are in pfs_common.c.
 */
#include "pfs_common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uuid/uuid.h>

int cmd_pfs(struct hammer_opts *o, int argc, char **argv);

static int usage_pfs(void)
{
	fprintf(hpfs_errf,
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
		return hpfs_errx("option %s: error parsing uuid %s", key, v);
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
			return hpfs_errx("option %s requires an assignment", argv[i]);
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
						return hpfs_errx("option %s: malformed string", key);
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
				fflush(hpfs_outf);
				fprintf(hpfs_errf, "option %s: '%s' must be an absolute path\n", key, v);
				if (v[0] == '\0')
					fprintf(hpfs_errf, "use 'snapshots-clear' to unset snapshots dir\n");
				return HAMMER_EXIT_USAGE;
			}
			if (strlen(v) >= sizeof(pd->snapshots))
				return hpfs_errx("option %s: path too long, %d character limit",
					     key, (int)strlen(v));
			memset(pd->snapshots, 0, sizeof(pd->snapshots));
			memcpy(pd->snapshots, v, strlen(v));
		} else if (strcmp(key, "snapshots-clear") == 0) {
			pd->snapshots[0] = 0;
		} else if (strcmp(key, "prune-min") == 0) {
			long long t = timetosecs(v);
			if (t < 0)
				return hpfs_errx("option %s: illegal time spec, use Nd or [Nd/]hh[:mm[:ss]]", v);
			pd->prune_min = (int32_t)t;
		} else {
			return hpfs_errx("invalid option: %s", key);
		}
	}
	return 0;
}


/* getyn: one line of stdin; yes only for y, yes, Y, YES.  -y: yes. */
static int getyn(struct hpfs_be *b)
{
	char buf[256];
	if (b->o->yes) {
		fprintf(hpfs_outf, "y\n");
		fflush(hpfs_outf);
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

static int pfs_status(struct hpfs_be *b, int argc, char **argv)
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
		int rc = hpfs_getpfs(b, argv[i], &id, &pd, &version);
		if (rc)
			return rc;
		fprintf(hpfs_outf, "%s\t", argv[i]);
		fprintf(hpfs_outf, "PFS#%u {\n", id);
		hpfs_dump_pfsd(hpfs_outf, &pd, version);
		fprintf(hpfs_outf, "}\n");
	}
	return HAMMER_EXIT_OK;
}

static int pfs_update(struct hpfs_be *b, int argc, char **argv)
{
	struct hammer_pseudofs_data pd;
	unsigned version = 0;
	uint32_t id;
	if (argc < 1)
		return usage_pfs();
	int rc = hpfs_getpfs(b, argv[0], &id, &pd, &version);
	if (rc)
		return rc;
	fprintf(hpfs_outf, "%s\n", argv[0]);
	fflush(hpfs_outf);
	if (parse_options(argc - 1, argv + 1, &pd))
		return HAMMER_EXIT_USAGE;
	if ((pd.mirror_flags & HAMMER_PFSD_SLAVE) && id == 0)
		return hpfs_errx("The real mount point cannot be made a PFS slave, "
			     "only PFS sub-directories can be made slaves");
	rc = hpfs_simple(b, "pfs-update", id, &pd);
	if (rc == HPFS_REPORTED)
		return HAMMER_EXIT_USAGE;
	if (rc)
		return hpfs_err(-rc, "Unable to adjust PFS configuration");
	rc = hpfs_get(b, id, &pd, &version);
	if (rc == HPFS_REPORTED)
		return HAMMER_EXIT_USAGE;
	if (rc)
		return hpfs_err(-rc, "Unable to retrieve PFS configuration after successful update");
	hpfs_dump_pfsd(hpfs_outf, &pd, version);
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

static int pfs_create(struct hpfs_be *b, int argc, char **argv, int slave)
{
	if (argc < 1)
		return usage_pfs();
	const char *path = argv[0];
	struct hammer_pseudofs_data pd;
	struct hpfs_st ps;
	memset(&pd, 0, sizeof(pd));
	if (parse_options(argc - 1, argv + 1, &pd))
		return HAMMER_EXIT_USAGE;
	if (hpfs_stat(b, path, 0, &ps) == 0)
		return hpfs_errx("Cannot create %s, file exists!", path);
	size_t len = strlen(path);
	if (len && path[len - 1] == '/')
		return hpfs_errx("Invalid PFS path %s with trailing /", path);
	char dir[PATH_MAX];
	const char *name;
	hpfs_split(path, dir, sizeof(dir), &name);
	int rc = hpfs_stat(b, dir, 1, &ps);
	if (rc == 0 && ps.type != 'd')
		rc = -ENOTDIR;
	if (rc)
		return hpfs_err(-rc, "Cannot open directory %s", dir);
	snprintf(b->at, sizeof(b->at), "%s", dir);
	if (!b->m) {
		/* is it HAMMER at all (says so when not) */
		struct hammer_ctl_reply r;
		if (hpfs_ctl(b, "version", &r) == HPFS_REPORTED)
			return HAMMER_EXIT_USAGE;
	}
	if (ps.pfs != 0) {
		fflush(hpfs_outf);
		fprintf(hpfs_errf, "You are attempting to access a PFS softlink from a PFS.  "
			"It may not represent the PFS\non the main filesystem mount that "
			"you expect!  You may only access PFS softlinks\nvia the main "
			"filesystem mount!\n");
		return HAMMER_EXIT_USAGE;
	}
	uint32_t id;
	rc = hpfs_free_id(b, &id);
	if (rc == HPFS_REPORTED)
		return HAMMER_EXIT_USAGE;
	if (rc == -ENOSPC)
		return hpfs_errx("Cannot create %s, all PFSs in use", path);
	if (rc)
		return hpfs_err(-rc, "Cannot create %s", path);
	if (id == 0)
		return hpfs_errx("Fatal error: PFS#%d must exist", 0);
	fprintf(hpfs_outf, "Creating PFS#%u\t", id);
	memset(&pd, 0, sizeof(pd));
	pd.sync_beg_tid = 1;
	pd.sync_end_tid = 1;
	new_uuid(&pd.shared_uuid);
	new_uuid(&pd.unique_uuid);
	if (slave)
		pd.mirror_flags |= HAMMER_PFSD_SLAVE;
	rc = hpfs_create(b, id, &pd, dir, name);
	if (rc) {
		/* DragonFly exits 0 here; our failures exit non-zero */
		fprintf(hpfs_outf, "failed: %s\n", rc == HPFS_REPORTED ? "see above" : strerror(-rc));
		return HAMMER_EXIT_USAGE;
	}
	fprintf(hpfs_outf, "succeeded!\n");
	/* then, as DragonFly, pfs-update with the same arguments */
	return pfs_update(b, argc, argv);
}

static int pfs_updown(struct hpfs_be *b, int argc, char **argv, int up)
{
	struct hammer_pseudofs_data pd;
	uint32_t id;
	if (argc < 1)
		return usage_pfs();
	int rc = hpfs_getpfs(b, argv[0], &id, &pd, NULL);
	if (rc)
		return rc;
	int slave = (pd.mirror_flags & HAMMER_PFSD_SLAVE) != 0;
	if (id == 0)
		return up ? hpfs_errx("You cannot upgrade PFS#0 (It should already be a master)")
			  : hpfs_errx("You cannot downgrade PFS#0");
	if (up && !slave)
		return hpfs_errx("It is already a master");
	if (!up && slave)
		return hpfs_errx("It is already a slave");
	const char *verb = up ? "pfs-upgrade" : "pfs-downgrade";
	rc = hpfs_simple(b, verb, id, NULL);
	if (rc == HPFS_REPORTED)
		return HAMMER_EXIT_USAGE;
	if (rc)
		return hpfs_err(-rc, "%s of PFS#%u (%.64s) failed", verb, id, pd.label);
	fprintf(hpfs_outf, "%s of PFS#%u (%.64s) succeeded\n", verb, id, pd.label);
	return HAMMER_EXIT_OK;
}

static int pfs_destroy(struct hpfs_be *b, int argc, char **argv)
{
	struct hammer_pseudofs_data pd;
	uint32_t id;
	if (argc < 1)
		return usage_pfs();
	const char *path = argv[0];
	int rc = hpfs_getpfs(b, path, &id, &pd, NULL);
	if (rc)
		return rc;
	if (id == 0)
		return hpfs_errx("You cannot destroy PFS#0");
	fprintf(hpfs_outf, "You have requested that PFS#%u (%.64s) be destroyed\n"
	       "This will irrevocably destroy all data on this PFS!!!!!\n"
	       "Do you really want to do this? [y/n] ", id, pd.label);
	fflush(hpfs_outf);
	if (!getyn(b))
		return hpfs_errx("No action taken on PFS#%u", id);
	if (!(pd.mirror_flags & HAMMER_PFSD_SLAVE)) {
		fprintf(hpfs_outf, "This PFS is currently setup as a MASTER!\n"
		       "Are you absolutely sure you want to destroy it? [y/n] ");
		fflush(hpfs_outf);
		if (!getyn(b))
			return hpfs_errx("No action taken on PFS#%u", id);
	}
	fprintf(hpfs_outf, "Destroying PFS#%u (%.64s)", id, pd.label);
	if (b->o->debug) {
		fprintf(hpfs_outf, "\n");
	} else {
		fprintf(hpfs_outf, " in");
		for (int i = 5; i > 0; i--) {
			fprintf(hpfs_outf, " %d", i);
			fflush(hpfs_outf);
			sleep(1);
		}
		fprintf(hpfs_outf, ".. starting destruction pass\n");
	}
	fflush(hpfs_outf);
	rc = hpfs_simple(b, "pfs-destroy", id, NULL);
	if (rc == HPFS_REPORTED)
		return HAMMER_EXIT_USAGE;
	if (rc) {
		/* DragonFly exits 0 here; our failures exit non-zero */
		fprintf(hpfs_outf, "pfs-destroy of PFS#%u failed: %s\n", id, strerror(-rc));
		return HAMMER_EXIT_USAGE;
	}
	fprintf(hpfs_outf, "pfs-destroy of PFS#%u succeeded!\n", id);
	/* the link (or a directory reached through it, trailing '/' stripped) */
	char link[PATH_MAX];
	struct hpfs_st ps;
	snprintf(link, sizeof(link), "%s", path);
	size_t len = strlen(link);
	while (len > 1 && link[len - 1] == '/')
		link[--len] = '\0';
	if (hpfs_stat(b, link, 0, &ps) == 0 && ps.type == 'l') {
		rc = hpfs_unlink(b, link);
		if (rc)
			return hpfs_err(-rc, "Unable to remove softlink %s", link);
	}
	return HAMMER_EXIT_OK;
}

int hpfs_command(struct hpfs_be *b, int argc, char **argv)
{
	const char *cmd = argv[0];
	int rc;
	argc--;
	argv++;
	if (strcmp(cmd, "pfs-status") == 0)
		rc = pfs_status(b, argc, argv);
	else if (strcmp(cmd, "pfs-master") == 0)
		rc = pfs_create(b, argc, argv, 0);
	else if (strcmp(cmd, "pfs-slave") == 0)
		rc = pfs_create(b, argc, argv, 1);
	else if (strcmp(cmd, "pfs-update") == 0)
		rc = pfs_update(b, argc, argv);
	else if (strcmp(cmd, "pfs-upgrade") == 0)
		rc = pfs_updown(b, argc, argv, 1);
	else if (strcmp(cmd, "pfs-downgrade") == 0)
		rc = pfs_updown(b, argc, argv, 0);
	else if (strcmp(cmd, "pfs-destroy") == 0)
		rc = pfs_destroy(b, argc, argv);
	else
		rc = usage_pfs();
	fflush(hpfs_outf);
	return rc;
}

int cmd_pfs(struct hammer_opts *o, int argc, char **argv)
{
	struct hpfs_be b = { .o = o };
	const char *cmd = argv[0];
	hpfs_errf = o->err;
	hpfs_outf = o->out;
	if (o->devs) {
		struct hammer_mount_opts mo;
		struct hammer_err e = { 0 };
		hammer_mount_opts_init(&mo);
		mo.readonly = strcmp(cmd, "pfs-status") == 0;
		if (hammer_mount(o->devs, &mo, &b.m, &e)) {
			fprintf(hpfs_errf, "hammer: %s: %s\n", o->devs, e.msg);
			return HAMMER_EXIT_USAGE;
		}
	}
	int rc = hpfs_command(&b, argc, argv);
	if (b.m) {
		int urc = hammer_unmount(b.m);
		if (urc) {
			fprintf(hpfs_errf, "hammer: %s: final flush failed: %s\n", o->devs,
				strerror(-urc));
			rc = HAMMER_EXIT_USAGE;
		}
	}
	return rc;
}
