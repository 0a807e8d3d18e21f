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
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HAMMER_FUSE_BINDIR
#define HAMMER_FUSE_BINDIR "/usr/local/bin"
#endif

static void usage(void)
{
	fprintf(stderr, "usage: mount.fuse.hammer dev[:dev...] dir [-sfnvrw] "
		"[-o options] [-t fuse.hammer]\n");
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
	if (npos != 2 || fake) {
		free(opts);
		if (npos != 2)
			usage();
		return npos != 2;
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
