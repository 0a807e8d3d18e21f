/*
 * test_helper.c - hfuse-test: the system calls the fuse test scripts need
 * and the shell lacks.  Each subcommand prints "ok" or the errno name
 * (EEXIST, ...) so scripts compare words, not locale-dependent messages.
 *
 *   rename2 none|noreplace|exchange|whiteout OLD NEW
 *   xattr PATH                  get/list/set/remove, one errno name each
 *   times PATH                  "atime mtime ctime" as sec.nsec
 *   utimens PATH ASEC ANSEC MSEC MNSEC
 *   unlinked PATH               open, unlink, write, read back, close
 *   writer DIR LOG              files written then fsync'd, each logged
 *                               after its fsync returned; runs until killed
 *   verify DIR LOG              every logged file has its exact content
 *   drain DIR                   readdir, unlinking each entry as it is seen;
 *                               prints "N seen, D duplicates"
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

static int result(int rc)
{
	puts(rc == 0 ? "ok" : ename(errno));
	return 0;
}

/* Content of file number idx at offset k: cheap, position-dependent. */
static uint8_t pattern(unsigned idx, uint64_t k)
{
	return (uint8_t)(k * 131u + idx * 7u + (k >> 12) * 3u + 1u);
}

static size_t file_size(unsigned idx)
{
	return (size_t)((idx * 7919u) % 300000u) + 1;
}

static int writer(const char *dir, const char *logpath)
{
	FILE *log = fopen(logpath, "a");
	if (!log)
		return 2;
	static uint8_t buf[300001];
	for (unsigned idx = 0;; idx++) {
		char path[4096];
		size_t n = file_size(idx);
		for (size_t k = 0; k < n; k++)
			buf[k] = pattern(idx, k);
		snprintf(path, sizeof(path), "%s/f%u", dir, idx);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			return 3;
		if (write(fd, buf, n) != (ssize_t)n)
			return 4;
		/* every third file is left to the flusher: work in flight at the kill */
		if (idx % 3 != 2) {
			if ((idx % 2 ? fdatasync(fd) : fsync(fd)) != 0)
				return 5;
			close(fd);
			fprintf(log, "%u\n", idx);
			fflush(log);
			fsync(fileno(log));
		} else {
			close(fd);
		}
	}
}

static int verify(const char *dir, const char *logpath)
{
	FILE *log = fopen(logpath, "r");
	if (!log)
		return 2;
	static uint8_t buf[300001];
	unsigned idx;
	int bad = 0, count = 0;
	while (fscanf(log, "%u", &idx) == 1) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/f%u", dir, idx);
		size_t n = file_size(idx);
		int fd = open(path, O_RDONLY);
		if (fd < 0) {
			printf("missing %s\n", path);
			bad++;
			continue;
		}
		ssize_t got = read(fd, buf, sizeof(buf));
		close(fd);
		if (got != (ssize_t)n) {
			printf("%s: %zd bytes, want %zu\n", path, got, n);
			bad++;
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			if (buf[k] != pattern(idx, k)) {
				printf("%s: byte %zu differs\n", path, k);
				bad++;
				break;
			}
		}
		count++;
	}
	fclose(log);
	printf("%d fsync'd files verified, %d bad\n", count, bad);
	return bad ? 1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Cookies must stay valid while the directory changes under readdir. */
static int drain(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return result(-1);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int fd = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				return 2;
		}
		names[n++] = strdup(e->d_name);
		if (unlinkat(fd, e->d_name, 0) != 0) {
			printf("unlink %s: %s\n", e->d_name, ename(errno));
			return 1;
		}
	}
	closedir(d);
	size_t dup = 0;
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 1; i < n; i++)
		dup += strcmp(names[i - 1], names[i]) == 0;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	printf("%zu seen, %zu duplicates\n", n, dup);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: hfuse-test CMD ARGS (see the source)\n");
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "rename2") == 0 && argc == 5) {
		unsigned fl = 0;
		if (strcmp(argv[2], "noreplace") == 0)
			fl = RENAME_NOREPLACE;
		else if (strcmp(argv[2], "exchange") == 0)
			fl = RENAME_EXCHANGE;
		else if (strcmp(argv[2], "whiteout") == 0)
			fl = RENAME_WHITEOUT;
		return result(renameat2(AT_FDCWD, argv[3], AT_FDCWD, argv[4], fl));
	}
	if (strcmp(cmd, "xattr") == 0 && argc == 3) {
		char v[64];
		const char *p = argv[2];
		ssize_t r = getxattr(p, "user.x", v, sizeof(v));
		printf("get=%s ", r < 0 ? ename(errno) : "ok");
		r = listxattr(p, v, sizeof(v));
		printf("list=%s ", r < 0 ? ename(errno) : "ok");
		r = setxattr(p, "user.x", "1", 1, 0);
		printf("set=%s ", r < 0 ? ename(errno) : "ok");
		r = removexattr(p, "user.x");
		printf("remove=%s\n", r < 0 ? ename(errno) : "ok");
		return 0;
	}
	if (strcmp(cmd, "times") == 0 && argc == 3) {
		struct stat st;
		if (lstat(argv[2], &st) != 0)
			return result(-1);
		printf("%lld.%09ld %lld.%09ld %lld.%09ld\n",
		       (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
		       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		       (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
		return 0;
	}
	if (strcmp(cmd, "utimens") == 0 && argc == 7) {
		struct timespec ts[2] = {
			{ atoll(argv[3]), atol(argv[4]) },
			{ atoll(argv[5]), atol(argv[6]) },
		};
		return result(utimensat(AT_FDCWD, argv[2], ts, AT_SYMLINK_NOFOLLOW));
	}
	if (strcmp(cmd, "unlinked") == 0 && argc == 3) {
		char out[6];
		int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || unlink(argv[2]) != 0 || pwrite(fd, "hello", 5, 0) != 5 ||
		    pread(fd, out, 5, 0) != 5)
			return result(-1);
		struct stat st;
		if (fstat(fd, &st) != 0)
			return result(-1);
		if (memcmp(out, "hello", 5) != 0 || st.st_nlink != 0 || st.st_size != 5) {
			printf("wrong: nlink %ju size %jd\n", (uintmax_t)st.st_nlink,
			       (intmax_t)st.st_size);
			return 1;
		}
		return result(close(fd));
	}
	if (strcmp(cmd, "drain") == 0 && argc == 3)
		return drain(argv[2]);
	if (strcmp(cmd, "writer") == 0 && argc == 4)
		return writer(argv[2], argv[3]);
	if (strcmp(cmd, "verify") == 0 && argc == 4)
		return verify(argv[2], argv[3]);
	fprintf(stderr, "hfuse-test: bad command line\n");
	return 2;
}
