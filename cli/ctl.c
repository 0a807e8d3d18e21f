/*
 * ctl.c - client of hammer-fuse's control socket.  The socket is found from
 * the st_dev of any path inside the mount (fuse/ctl_proto.h), so
 * `hammer synctid /mnt/some/dir` works as well as the mount point itself.
 */
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuse/ctl_proto.h"

static int try_connect(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Connected to the control socket of the mount holding path, or -1. */
static int connect_for(const char *path, FILE *err)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(err, "hammer: %s: %s\n", path, strerror(errno));
		return -1;
	}
	char sock[256];
	int fd = -ENOENT;
	/* root mounts, then this user's own */
	for (int i = 0; i < 2 && fd < 0; i++)
		if (hammer_ctl_sock_candidate(i, sock, sizeof(sock), major(st.st_dev),
					      minor(st.st_dev)) == 0)
			fd = try_connect(sock);
	if (fd < 0) {
		fprintf(err, "hammer: %s is not on a mounted HAMMER file system "
			"(no hammer-fuse control socket for device %u:%u: %s)\n",
			path, major(st.st_dev), minor(st.st_dev), strerror(-fd));
		return -1;
	}
	return fd;
}

int hammer_ctl_read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t k = read(fd, &c, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		if (c == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return (int)n;
}

/* "<status> <message>" into r; -1 when malformed */
static int parse_status(const char *line, struct hammer_ctl_reply *r)
{
	const char *sp = strchr(line, ' ');
	if (!sp || line[0] < '0' || line[0] > '9')
		return -1;
	r->status = atoi(line);
	snprintf(r->msg, sizeof(r->msg), "%s", sp + 1);
	return 0;
}

int hammer_ctl_open(const char *path, const char *verb,
		    struct hammer_ctl_reply *r, FILE *err)
{
	memset(r, 0, sizeof(*r));
	int fd = connect_for(path, err);
	if (fd < 0)
		return -1;
	char req[HAMMER_CTL_LINE], line[sizeof(r->msg) + 16];
	int n = snprintf(req, sizeof(req), "%s\n", verb);
	if (n < 0 || (size_t)n >= sizeof(req) ||
	    send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		fprintf(err, "hammer: %s: cannot send to the control socket: %s\n",
			path, strerror(errno));
		close(fd);
		return -1;
	}
	if (hammer_ctl_read_line(fd, line, sizeof(line)) < 0 || parse_status(line, r)) {
		fprintf(err, "hammer: %s: no reply from hammer-fuse\n", path);
		close(fd);
		return -1;
	}
	if (r->status) {
		close(fd);
		return -2;
	}
	return fd;
}

int hammer_ctl_finish(int fd, struct hammer_ctl_reply *r)
{
	char buf[sizeof(r->msg) + sizeof(r->body) + 16];
	size_t len = 0;
	memset(r, 0, sizeof(*r));
	for (;;) {
		ssize_t k = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
		if (len == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[len] = '\0';
	char *nl = strchr(buf, '\n');
	if (!nl || (*nl = '\0', parse_status(buf, r))) {
		r->status = EPIPE;
		snprintf(r->msg, sizeof(r->msg), "hammer-fuse closed the connection "
			 "without a reply");
		return -1;
	}
	snprintf(r->body, sizeof(r->body), "%s", nl + 1);
	return 0;
}

int hammer_ctl_call(const char *path, const char *verb,
		    struct hammer_ctl_reply *r, FILE *err)
{
	memset(r, 0, sizeof(*r));
	int fd = connect_for(path, err);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = 600 };	/* synctid waits for a flush */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char req[HAMMER_CTL_LINE];
	int n = snprintf(req, sizeof(req), "%s\n", verb);
	if (n < 0 || (size_t)n >= sizeof(req) ||
	    send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		fprintf(err, "hammer: %s: cannot send to the control socket: %s\n",
			path, strerror(errno));
		close(fd);
		return -1;
	}
	char buf[sizeof(r->msg) + sizeof(r->body) + 16];
	size_t len = 0;
	for (;;) {
		ssize_t k = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
		if (len == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[len] = '\0';
	char *nl = strchr(buf, '\n');
	char *sp = strchr(buf, ' ');
	if (!nl || !sp || sp > nl) {
		fprintf(err, "hammer: %s: malformed reply from hammer-fuse\n", path);
		return -1;
	}
	*nl = '\0';
	r->status = atoi(buf);
	snprintf(r->msg, sizeof(r->msg), "%s", sp + 1);
	snprintf(r->body, sizeof(r->body), "%s", nl + 1);
	return 0;
}

const char *hammer_ctl_get(const struct hammer_ctl_reply *r, const char *key,
			   char *buf, size_t size)
{
	size_t kl = strlen(key);
	for (const char *p = r->body; *p; ) {
		const char *e = strchr(p, '\n');
		size_t ll = e ? (size_t)(e - p) : strlen(p);
		if (ll > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t vl = ll - kl - 1;
			if (vl >= size)
				vl = size - 1;
			memcpy(buf, p + kl + 1, vl);
			buf[vl] = '\0';
			return buf;
		}
		p += ll + (e ? 1 : 0);
	}
	return NULL;
}
