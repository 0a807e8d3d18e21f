/*
 * cmd_info_mount.c - `hammer info [<filesystem> ...]` on mounted file
 * systems (through hammer-fuse's control socket), and the dispatch between
 * that and `hammer -f devs info` (cmd_info.c, unmounted volumes).
 *
 * Without an argument every mounted HAMMER file system is listed, as
 * DragonFly does.  The layout is DragonFly's (Reserved is what is held back
 * from new writes, none here; PFS list with snapshot counts), plus the
 * UNDO/REDO FIFO's use now (DragonFly's hammer_undo_used()) and a
 * "Mount information" block with what only the daemon knows.  PFS #0
 * comes from its PFS record; its snapshot count is unknown ("-").
 */
#include "hammer.h"
#include "ctl.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

int cmd_info_any(struct hammer_opts *o, int argc, char **argv);

static long long num(const struct hammer_ctl_reply *r, const char *key)
{
	char b[64];
	return hammer_ctl_get(r, key, b, sizeof(b)) ? strtoll(b, NULL, 0) : 0;
}

static const char *str(const struct hammer_ctl_reply *r, const char *key,
		       char *b, size_t size)
{
	const char *v = hammer_ctl_get(r, key, b, size);
	return v ? v : "?";
}

static double pct(long long v, long long total)
{
	return total > 0 ? (double)v * 100 / (double)total : 100.0;
}

static int info_one(struct hammer_opts *o, const char *path)
{
	struct hammer_ctl_reply r;
	if (hammer_ctl_call(path, "info", &r, o->err))
		return HAMMER_EXIT_USAGE;
	if (r.status) {
		fprintf(o->err, "hammer: info %s failed: %s\n", path, r.msg);
		return HAMMER_EXIT_USAGE;
	}
	FILE *f = o->out;
	char b[1024], s[32];
	long long total = num(&r, "bigblocks"), nfree = num(&r, "freebigblocks");
	long long rsv = num(&r, "rsvbigblocks");
	long long used = total - nfree;
	long long bb = HAMMER_BIGBLOCK_SIZE;
	fprintf(f, "Volume identification\n");
	fprintf(f, "\tLabel               %s\n", str(&r, "label", b, sizeof(b)));
	fprintf(f, "\tNo. Volumes         %lld\n", num(&r, "nvolumes"));
	fprintf(f, "\tHAMMER Volumes      %s\n", str(&r, "volumes", b, sizeof(b)));
	fprintf(f, "\tRoot Volume         %s\n", str(&r, "rootvol", b, sizeof(b)));
	fprintf(f, "\tFSID                %s\n", str(&r, "fsid", b, sizeof(b)));
	fprintf(f, "\tHAMMER Version      %lld\n", num(&r, "version"));
	/* as DragonFly: Free is what is left after the reservations */
	fprintf(f, "Big-block information\n");
	fprintf(f, "\tTotal      %10lld\n", total);
	fprintf(f, "\tUsed       %10lld (%.2f%%)\n", used, pct(used, total));
	fprintf(f, "\tReserved   %10lld (%.2f%%)\n", rsv, pct(rsv, total));
	fprintf(f, "\tFree       %10lld (%.2f%%)\n", nfree - rsv, pct(nfree - rsv, total));
	fprintf(f, "Space information\n");
	fprintf(f, "\tNo. Inodes %10lld\n", num(&r, "inodes"));
	fprintf(f, "\tTotal size     %s (%lld bytes)\n",
		hammer_sizetostr(s, total * bb), total * bb);
	fprintf(f, "\tUsed           %s (%.2f%%)\n", hammer_sizetostr(s, used * bb),
		pct(used, total));
	fprintf(f, "\tReserved       %s (%.2f%%)\n", hammer_sizetostr(s, rsv * bb),
		pct(rsv, total));
	fprintf(f, "\tFree           %s (%.2f%%)\n",
		hammer_sizetostr(s, (nfree - rsv) * bb), pct(nfree - rsv, total));
	/* ours: the UNDO/REDO FIFO in use now */
	if (hammer_ctl_get(&r, "undo_size", b, sizeof(b))) {
		long long us = num(&r, "undo_size"), uu = num(&r, "undo_used");
		fprintf(f, "UNDO/REDO FIFO\n");
		fprintf(f, "\tSize           %s\n", hammer_sizetostr(s, us));
		fprintf(f, "\tUsed           %s (%.2f%%)\n", hammer_sizetostr(s, uu),
			pct(uu, us));
		fprintf(f, "\tFree           %s (%.2f%%)\n", hammer_sizetostr(s, us - uu),
			pct(us - uu, us));
	}
	fprintf(f, "PFS information\n");
	fprintf(f, "\t  PFS#  Mode    Snaps\n");
	long long pfs = num(&r, "pfs");
	char key[64], mode[32], snaps[32];
	snprintf(key, sizeof(key), "pfs.%lld.mode", pfs);
	snprintf(mode, sizeof(mode), "%s", str(&r, key, b, sizeof(b)));
	snprintf(key, sizeof(key), "pfs.%lld.snapshots", pfs);
	snprintf(snaps, sizeof(snaps), "%s", str(&r, key, b, sizeof(b)));
	fprintf(f, "\t%6lld  %-6s %6s%s\n", pfs, mode, snaps,
		pfs == 0 ? " (root PFS)" : "");
	snprintf(key, sizeof(key), "pfs.%lld.shared_uuid", pfs);
	fprintf(f, "\tShared UUID of PFS #%lld: %s\n", pfs, str(&r, key, b, sizeof(b)));
	fprintf(f, "Mount information\n");
	fprintf(f, "\tMount point         %s\n", str(&r, "mountpoint", b, sizeof(b)));
	fprintf(f, "\tMount type          %s\n",
		num(&r, "fuseblk") ? "fuseblk (umount waits for the final flush)"
				   : "fuse");
	fprintf(f, "\tDaemon pid          %lld\n", num(&r, "pid"));
	fprintf(f, "\tRead-only           %s\n", num(&r, "readonly") ? "yes" : "no");
	fprintf(f, "\tNext TID            %s\n", str(&r, "next_tid", b, sizeof(b)));
	fprintf(f, "\tLast flushed TID    %s\n", str(&r, "flush_tid", b, sizeof(b)));
	fprintf(f, "\tFlush cycles        %lld\n", num(&r, "flush_cycles"));
	fprintf(f, "\tFast fsyncs         %lld\n", num(&r, "fast_fsyncs"));
	fprintf(f, "\tDirty               %s\n",
		hammer_sizetostr(s, num(&r, "dirty_bytes")));
	fprintf(f, "\tCache size          %s\n",
		hammer_sizetostr(s, num(&r, "cache_bytes")));
	if (hammer_ctl_get(&r, "heap_bytes", b, sizeof(b))) {
		fprintf(f, "\tDaemon heap         %s", hammer_sizetostr(s, num(&r, "heap_bytes")));
		fprintf(f, " (%s in use)\n", hammer_sizetostr(s, num(&r, "heap_inuse")));
	}
	long long ms = num(&r, "flush_interval_ms");
	if (ms)
		fprintf(f, "\tFlush interval      %lld s\n", ms / 1000);
	else
		fprintf(f, "\tFlush interval      off\n");
	fprintf(f, "\tfsync mode          %lld\n", num(&r, "fsync_mode"));
	fprintf(f, "\tHistory             %s\n",
		num(&r, "nohistory") ? "not kept (nohistory)" : "kept");
	return HAMMER_EXIT_OK;
}

/* Mount points of type fuse.hammer or fuseblk.hammer, from mountinfo. */
static int info_all(struct hammer_opts *o)
{
	FILE *m = fopen("/proc/self/mountinfo", "r");
	if (!m) {
		fprintf(o->err, "hammer: /proc/self/mountinfo: cannot read it\n");
		return HAMMER_EXIT_USAGE;
	}
	char *line = NULL;
	size_t cap = 0;
	int rc = HAMMER_EXIT_OK, n = 0;
	while (getline(&line, &cap, m) > 0) {
		char mp[PATH_MAX + 1], type[64];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*u %*u %*s %*s %4096s", mp) != 1 ||
		    sscanf(dash + 3, "%63s", type) != 1 ||
		    (strcmp(type, "fuse.hammer") && strcmp(type, "fuseblk.hammer")))
			continue;
		/* undo mountinfo's \ooo escapes */
		char *w = mp;
		for (char *p = mp; *p; ) {
			if (p[0] == '\\' && p[1] && p[2] && p[3]) {
				*w++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
				p += 4;
			} else {
				*w++ = *p++;
			}
		}
		*w = '\0';
		if (n++)
			fprintf(o->out, "\n");
		int r = info_one(o, mp);
		if (r)
			rc = r;
	}
	free(line);
	fclose(m);
	if (n == 0)
		fprintf(o->err, "hammer: no HAMMER file system is mounted "
			"(use hammer -f devs info for unmounted volumes)\n");
	return rc;
}

int cmd_info_any(struct hammer_opts *o, int argc, char **argv)
{
	if (o->devs) {
		struct hammer_err e = { 0 };
		if (hammer_volset_open(o->devs, HAMMER_VOLSET_RDONLY, &o->vs, &e)) {
			fprintf(o->err, "hammer: %s\n", e.msg);
			return HAMMER_EXIT_USAGE;
		}
		return cmd_info(o, argc, argv);	/* main closes o->vs */
	}
	if (argc == 1)
		return info_all(o);
	int rc = HAMMER_EXIT_OK;
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			fprintf(o->out, "\n");
		int r = info_one(o, argv[i]);
		if (r)
			rc = r;
	}
	return rc;
}
