/*
 * umount_helper.c - umount.fuse.hammer: unmount a hammer-fuse mount and
 * return only when its final flush is done and its volumes are closed.
 *
 * umount(8) runs /sbin/umount.<type> DIR [-nlfvr] [-t type] for mounts of
 * that type, so installing this makes `umount DIR` synchronous; users may
 * run it directly as well.  Why it is needed: for a plain fuse mount the
 * kernel's umount does not wait for the daemon (it sends no DESTROY), so
 * fusermount3 -u returns while hammer-fuse still flushes.
 *
 * How: before unmounting, connect to the mount's control socket and send
 * unmount-wait (ctl_proto.h); the daemon keeps that connection and writes
 * one status line after hammer_unmount.  Then unmount (umount2 as root,
 * fusermount3 -u otherwise) and read that line.  fuseblk mounts need none
 * of this: their umount already waits for DESTROY.  A lazy unmount (-l) is
 * not waited for, since the file system lives on while anything uses it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_proto.h"

static int verbose;

static void usage(void)
{
	fprintf(stderr, "usage: umount.fuse.hammer dir [-nlfvr] [-t fuse.hammer]\n");
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; ) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
		    r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/*
 * The topmost hammer mount on `dir`: its device number and whether it is
 * fuseblk.  Read from mountinfo, so a hung daemon cannot block us here.
 * Returns 0, or -1 if no hammer-fuse mount is there.
 */
static int find_mount(const char *dir, unsigned *maj, unsigned *min, int *blk)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int found = -1;
	while (getline(&line, &cap, f) > 0) {
		unsigned a, b;
		char path[PATH_MAX + 1], type[64];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*u %*u %u:%u %*s %4096s", &a, &b, path) != 3 ||
		    sscanf(dash + 3, "%63s", type) != 1)
			continue;
		unescape(path);
		int isblk = strcmp(type, "fuseblk.hammer") == 0;
		if (strcmp(path, dir) == 0 && (isblk || strcmp(type, "fuse.hammer") == 0)) {
			*maj = a;
			*min = b;
			*blk = isblk;
			found = 0;
		}
	}
	free(line);
	fclose(f);
	return found;
}

static int ctl_connect(unsigned maj, unsigned min)
{
	for (int i = 0; i < 2; i++) {
		char sock[256];
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (hammer_ctl_sock_candidate(i, sock, sizeof(sock), maj, min) ||
		    strlen(sock) >= sizeof(sa.sun_path))
			continue;
		strcpy(sa.sun_path, sock);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
	}
	return -1;
}

/* One status line "<errno> <message>"; returns its length or -1 at EOF. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	while (n < size - 1) {
		ssize_t k = read(fd, buf + n, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return (int)n;
		}
		n++;
	}
	buf[n] = '\0';
	return n ? (int)n : -1;
}

/* Register as an unmount-wait client; the connection, or -1 with a reason. */
static int start_wait(unsigned maj, unsigned min, char *why, size_t size)
{
	int fd = ctl_connect(maj, min);
	if (fd < 0) {
		snprintf(why, size, "no control socket for device %u:%u", maj, min);
		return -1;
	}
	struct timeval tv = { .tv_sec = 30 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	static const char req[] = "unmount-wait\n";
	char line[HAMMER_CTL_LINE];
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1 ||
	    read_line(fd, line, sizeof(line)) < 0) {
		snprintf(why, size, "the control socket did not answer");
		close(fd);
		return -1;
	}
	if (atoi(line) != 0) {
		const char *sp = strchr(line, ' ');
		snprintf(why, size, "%s", sp ? sp + 1 : line);
		close(fd);
		return -1;
	}
	/* from now on wait as long as the flush takes */
	tv.tv_sec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int do_unmount(const char *dir, int lazy, int force)
{
	if (geteuid() == 0) {
		int fl = (lazy ? MNT_DETACH : 0) | (force ? MNT_FORCE : 0);
		if (umount2(dir, fl) != 0) {
			fprintf(stderr, "umount.fuse.hammer: %s: %s\n", dir, strerror(errno));
			return -1;
		}
		return 0;
	}
	/* users unmount their FUSE mounts through the set-uid fusermount3 */
	pid_t pid = fork();
	if (pid < 0) {
		perror("umount.fuse.hammer: fork");
		return -1;
	}
	if (pid == 0) {
		if (lazy)
			execlp("fusermount3", "fusermount3", "-u", "-z", "--", dir, (char *)NULL);
		else
			execlp("fusermount3", "fusermount3", "-u", "--", dir, (char *)NULL);
		fprintf(stderr, "umount.fuse.hammer: cannot run fusermount3: %s\n",
			strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	int lazy = 0, force = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0') {
			if (dir) {
				usage();
				return 1;
			}
			dir = a;
			continue;
		}
		if (strcmp(a, "-t") == 0) {
			i++;	/* the type: ours, or mount(8) would not call us */
			continue;
		}
		for (const char *f = a + 1; *f; f++) {
			switch (*f) {
			case 'l': lazy = 1; break;
			case 'f': force = 1; break;
			case 'v': verbose = 1; break;
			case 'n': case 'r': break;	/* no mtab; no remount */
			default:
				fprintf(stderr, "umount.fuse.hammer: unknown flag -%c\n", *f);
				usage();
				return 1;
			}
		}
	}
	if (!dir) {
		usage();
		return 1;
	}

	unsigned maj = 0, min = 0;
	int blk = 0;
	char canon[PATH_MAX];
	if (find_mount(dir, &maj, &min, &blk) != 0) {
		/* mount(8) passes the canonical path; people may not */
		if (!realpath(dir, canon) || find_mount(canon, &maj, &min, &blk) != 0) {
			fprintf(stderr, "umount.fuse.hammer: %s: not a mounted HAMMER "
				"file system\n", dir);
			return 1;
		}
		dir = canon;
	}

	int fd = -1;
	if (!blk && !lazy) {
		char why[HAMMER_CTL_LINE];
		fd = start_wait(maj, min, why, sizeof(why));
		if (fd < 0)
			fprintf(stderr, "umount.fuse.hammer: warning: cannot wait for the "
				"final flush of %s (%s); unmounting anyway\n", dir, why);
	}
	if (do_unmount(dir, lazy, force) != 0) {
		if (fd >= 0)
			close(fd);	/* the daemon drops us from its waiters */
		return 1;
	}
	if (fd < 0) {
		if (verbose)
			printf("%s unmounted%s\n", dir, blk ? " (fuseblk: flushed)" :
			       lazy ? " (lazy: not waiting for the final flush)" : "");
		return 0;
	}
	char line[HAMMER_CTL_LINE];
	int n = read_line(fd, line, sizeof(line));
	close(fd);
	if (n < 0) {
		fprintf(stderr, "umount.fuse.hammer: %s: hammer-fuse exited without "
			"reporting its final flush (killed?); the next mount recovers "
			"the last complete flush cycle\n", dir);
		return 1;
	}
	const char *msg = strchr(line, ' ');
	msg = msg ? msg + 1 : line;
	if (atoi(line) != 0) {
		fprintf(stderr, "umount.fuse.hammer: %s: %s\n", dir, msg);
		return 1;
	}
	if (verbose)
		printf("%s: %s\n", dir, msg);
	return 0;
}
