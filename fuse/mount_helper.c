/*
 * mount_helper.c - mount.fuse.hammer, so that `mount -t fuse.hammer DEVS DIR`
 * and fstab lines of type fuse.hammer work.
 *
 * mount(8) runs /sbin/mount.<type> SPEC DIR [-sfnvrw] [-N ns] [-o opts]
 * [-t type].  Those flags mean something else to hammer-fuse (-f, -s), so
 * this helper translates instead of letting mount.fuse3 run a program named
 * after the subtype (that would be `hammer`, the inspection tool).
 * hammer-fuse is looked for next to this program, then in the installed
 * bindir, then in PATH.
 *
 * PFS mounts: when SPEC is a path inside a mounted HAMMER file system (a
 * PFS link such as /mnt/pfs/test, or the root of a PFS), the daemon that
 * serves that mount is asked to mount the PFS on DIR as well (control verb
 * pfs-mount, docs/DESIGN.md "PFS mounts"): only one process may hold the
 * volumes for writing.  The PFS id is st_ino >> 48 (hammer_report_ino), or
 * the ":NNNNN" of the link text for a slave whose link dangles.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"

#ifndef HAMMER_FUSE_BINDIR
#define HAMMER_FUSE_BINDIR "/usr/local/bin"
#endif

static void usage(void)
{
	fprintf(stderr, "usage: mount.fuse.hammer dev[:dev...] dir [-sfnvrw] "
		"[-o options] [-t fuse.hammer]\n");
}

/*
 * Is spec a path inside a hammer-fuse mount?  0: no (a volume list).  1:
 * yes, with the PFS id and the mount's device number.  -1: it is, but
 * cannot be mounted (message printed).
 */
static int pfs_spec(const char *spec, unsigned *pfs_id, dev_t *dev)
{
	struct stat st, lst;
	if (lstat(spec, &lst) != 0)
		return 0;
	if (stat(spec, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return 0;	/* an image file or a block device */
		uint64_t ino = (uint64_t)st.st_ino;
		*pfs_id = ino >= (1ULL << 48) ? (unsigned)(ino >> 48) : 0;
		*dev = st.st_dev;
		if ((ino & ((1ULL << 48) - 1)) != 1) {
			fprintf(stderr, "mount.fuse.hammer: %s is a directory, not the "
				"root of a PFS (mount --bind mounts a directory)\n", spec);
			return -1;
		}
		return 1;
	}
	/* a dangling link: a slave before its first mirroring, probably */
	char text[64], *dir = strdup(spec);
	ssize_t n = S_ISLNK(lst.st_mode) ? readlink(spec, text, sizeof(text) - 1) : -1;
	unsigned id;
	char tail;
	if (n <= 0 || !dir) {
		free(dir);
		return 0;
	}
	text[n] = '\0';
	const char *at = strstr(text, "@@");
	const char *colon = at ? strrchr(at, ':') : NULL;
	if (!colon || strlen(colon) != 6 || sscanf(colon + 1, "%5u%c", &id, &tail) != 1 ||
	    stat(dirname(dir), &st) != 0) {
		free(dir);
		return 0;
	}
	free(dir);
	*pfs_id = id;
	*dev = st.st_dev;
	return 1;
}

/* Ask the daemon serving device dev to mount PFS pfs_id on dir. */
static int pfs_mount(const char *spec, unsigned pfs_id, dev_t dev, const char *dir,
		     int ro)
{
	char path[300], abs[PATH_MAX];
	if (!realpath(dir, abs)) {
		fprintf(stderr, "mount.fuse.hammer: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	int fd = -1;
	for (int i = 0; i < 2 && fd < 0; i++) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (hammer_ctl_sock_candidate(i, path, sizeof(path), major(dev), minor(dev)) ||
		    strlen(path) >= sizeof(sa.sun_path))
			continue;
		strcpy(sa.sun_path, path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		fprintf(stderr, "mount.fuse.hammer: %s is a directory but not inside a "
			"hammer-fuse mount with a control socket\n", spec);
		return 1;
	}
	char req[PATH_MAX + 64];
	int len = snprintf(req, sizeof(req), "pfs-mount %u %s %s\n", pfs_id,
			   ro ? "ro" : "rw", abs);
	char reply[512];
	size_t got = 0;
	if (len > 0 && write(fd, req, (size_t)len) == len) {
		ssize_t k;
		while (got < sizeof(reply) - 1 &&
		       (k = read(fd, reply + got, sizeof(reply) - 1 - got)) > 0)
			got += (size_t)k;
	}
	close(fd);
	reply[got] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	int st = -1;
	char *msg = NULL;
	if (got)
		st = (int)strtol(reply, &msg, 10);
	if (st == 0)
		return 0;
	fprintf(stderr, "mount.fuse.hammer: cannot mount PFS #%u of %s on %s: %s\n",
		pfs_id, spec, dir, msg && *msg ? msg + 1 : "no answer from hammer-fuse");
	return 1;
}

/* "ro" in a comma-separated list: the last of ro/rw counts */
static int opts_ro(const char *opts)
{
	int ro = 0;
	for (const char *p = opts; p && *p; ) {
		size_t n = strcspn(p, ",");
		if (n == 2 && strncmp(p, "ro", 2) == 0)
			ro = 1;
		else if (n == 2 && strncmp(p, "rw", 2) == 0)
			ro = 0;
		p += n + (p[n] == ',');
	}
	return ro;
}

int main(int argc, char **argv)
{
	const char *pos[2];
	int npos = 0, fake = 0;
	char *opts = NULL;
	size_t optlen = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0') {
			if (npos == 2) {
				usage();
				return 1;
			}
			pos[npos++] = a;
			continue;
		}
		const char *extra = NULL;
		if (strcmp(a, "-o") == 0 || strcmp(a, "-t") == 0 || strcmp(a, "-N") == 0) {
			if (i + 1 >= argc) {
				usage();
				return 1;
			}
			const char *v = argv[++i];
			if (a[1] == 'o')
				extra = v;
			else if (a[1] == 'N') {
				fprintf(stderr, "mount.fuse.hammer: -N (mount namespaces) "
					"is not supported\n");
				return 1;
			}
		} else {
			for (const char *f = a + 1; *f; f++) {
				switch (*f) {
				case 'f': fake = 1; break;
				case 's': case 'n': case 'v': break;
				case 'r': extra = "ro"; break;
				case 'w': extra = "rw"; break;
				default:
					fprintf(stderr, "mount.fuse.hammer: unknown flag -%c\n", *f);
					usage();
					return 1;
				}
			}
		}
		if (extra) {
			size_t n = strlen(extra);
			char *p = realloc(opts, optlen + n + 2);
			if (!p)
				return 1;
			opts = p;
			if (optlen)
				opts[optlen++] = ',';
			memcpy(opts + optlen, extra, n + 1);
			optlen += n;
		}
	}
	if (npos != 2) {
		free(opts);
		usage();
		return 1;
	}
	unsigned pfs_id;
	dev_t pdev;
	int p = pfs_spec(pos[0], &pfs_id, &pdev);
	if (p) {
		int rc = p < 0 ? 1 : fake ? 0 : pfs_mount(pos[0], pfs_id, pdev, pos[1],
							 opts_ro(opts));
		free(opts);
		return rc;
	}
	if (fake) {
		free(opts);
		return 0;
	}

	char self[PATH_MAX], prog[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	prog[0] = '\0';
	if (n > 0) {
		self[n] = '\0';
		snprintf(prog, sizeof(prog), "%s/hammer-fuse", dirname(self));
		if (access(prog, X_OK) != 0)
			prog[0] = '\0';
	}
	if (!prog[0]) {
		snprintf(prog, sizeof(prog), "%s/hammer-fuse", HAMMER_FUSE_BINDIR);
		if (access(prog, X_OK) != 0)
			snprintf(prog, sizeof(prog), "hammer-fuse");
	}
	char *av[6];
	int ac = 0;
	av[ac++] = "hammer-fuse";
	if (opts) {
		av[ac++] = "-o";
		av[ac++] = opts;
	}
	av[ac++] = (char *)pos[0];
	av[ac++] = (char *)pos[1];
	av[ac] = NULL;
	execvp(prog, av);
	fprintf(stderr, "mount.fuse.hammer: cannot run %s: %s\n", prog, strerror(errno));
	return 1;
}
