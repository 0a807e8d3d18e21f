/*
 * bench/bioq_real.c - the file backend's bioq on a real block device: how
 * long a reader's random 16 KiB reads take while a large flush runs, with
 * the policy on and off.  The daemon's I/O path without FUSE in between:
 * the engine on the file backend, one reader thread and one writer thread
 * calling it, as hammer-fuse's worker threads do.
 *
 * Usage: bioq_real DEV [--bioq] [--mi N] [--bb BYTES] [--file-mb N]
 *                  [--write-mb N] [--think-ms N] [--seed S]
 * DEV is formatted.  Before the measured mount the device's page cache is
 * dropped (POSIX_FADV_DONTNEED), so reads go to the disk.  Prints one line:
 * reads during the flush, their p50/p99/max latency, the flush time, and
 * the reads before it as a baseline.  Wall-clock numbers: run each setting
 * several times (bench/README.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ref/hammer.h"
#include "ref/newfs.h"

#define MB ((uint64_t)1 << 20)

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, long rc)
{
	fprintf(stderr, "bioq_real: %s: %ld (%s)\n", what, rc, strerror((int)(rc < 0 ? -rc : rc)));
	exit(2);
}

static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

struct shared {
	struct hammer_mount *m;
	hammer_ino_t rino;
	uint64_t file_bytes, write_bytes;
	double think_ms;
	uint64_t seed;
	atomic_int stop;
	double flush_t0, flush_t1;	/* ms; 0 until known */
	double *t, *lat;		/* read start times and latencies */
	size_t n, cap;
};

static void *reader(void *arg)
{
	struct shared *s = arg;
	uint8_t *buf = malloc(16384);
	uint64_t x = s->seed;
	while (!atomic_load(&s->stop) && buf) {
		uint64_t off = (mix(x++) % (s->file_bytes / 16384)) * 16384;
		double t0 = now_ms();
		ssize_t n = hammer_read(s->m, s->rino, off, buf, 16384);
		double t1 = now_ms();
		if (n != 16384)
			die("read", n < 0 ? n : -EIO);
		if (s->n < s->cap) {
			s->t[s->n] = t0;
			s->lat[s->n++] = t1 - t0;
		}
		usleep((useconds_t)(s->think_ms * 1000));
	}
	free(buf);
	return NULL;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double q)
{
	if (!n)
		return 0;
	size_t k = (size_t)ceil(q * (double)n);
	return v[(k ? k : 1) - 1];
}

static void drop_cache(const char *dev)
{
	int fd = open(dev, O_RDONLY);
	if (fd < 0)
		die("open for fadvise", -errno);
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: bioq_real DEV [--bioq] [--mi N] [--bb BYTES] [--file-mb N] [--write-mb N]", -EINVAL);
	const char *dev = argv[1];
	struct hammer_bdev_bioq bq;
	hammer_bdev_bioq_default(&bq);
	struct shared s = { .file_bytes = 256 * MB, .write_bytes = 512 * MB, .think_ms = 5, .seed = 1 };
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--bioq"))
			bq.enable = 1;
		else if (!strcmp(argv[i], "--mi") && i + 1 < argc)
			bq.minor_interval = (uint32_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--bb") && i + 1 < argc)
			bq.burst_bytes = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--file-mb") && i + 1 < argc)
			s.file_bytes = strtoull(argv[++i], NULL, 0) * MB;
		else if (!strcmp(argv[i], "--write-mb") && i + 1 < argc)
			s.write_bytes = strtoull(argv[++i], NULL, 0) * MB;
		else if (!strcmp(argv[i], "--think-ms") && i + 1 < argc)
			s.think_ms = atof(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			s.seed = strtoull(argv[++i], NULL, 0);
		else
			die("unknown option", -EINVAL);
	}
	/* format, and write the file the reader reads */
	struct hammer_bdev *bd;
	const char *msg;
	int rc = hammer_bdev_file_open(dev, 0, &bd, &msg);
	if (rc)
		die(msg ? msg : "open", rc);
	struct hammer_newfs_opts no;
	hammer_newfs_opts_init(&no);
	no.label = "BIOQREAL";
	no.force = 1;
	memset(&no.fsid, 0x52, sizeof(no.fsid));
	struct hammer_newfs_result res;
	struct hammer_err e = { 0 };
	if ((rc = hammer_newfs_format(&bd, 1, &no, &res, &e)))
		die("newfs", rc);
	hammer_bdev_close(bd);
	struct hammer_mount_opts mo;
	hammer_mount_opts_init(&mo);
	mo.cache_bytes = 64 * MB;
	struct hammer_mount *m;
	if ((rc = hammer_mount(dev, &mo, &m, &e)))
		die("mount", rc);
	struct hammer_attr a;
	if ((rc = hammer_mknod(m, HAMMER_ROOT_INO, "rand", 4, 0100644, 0, 0, 0, &a)))
		die("mknod", rc);
	uint8_t *buf = malloc(1 << 20);
	if (!buf)
		die("malloc", -ENOMEM);
	for (uint64_t off = 0; off < s.file_bytes; off += 1 << 20) {
		memset(buf, (int)(off >> 20), 1 << 20);
		if (hammer_write(m, a.ino, off, buf, 1 << 20) != 1 << 20)
			die("write", -EIO);
	}
	if ((rc = hammer_sync(m)) || (rc = hammer_unmount(m)))
		die("setup", rc);
	drop_cache(dev);

	/* the measured mount */
	if ((rc = hammer_bdev_file_set_bioq(&bq)))
		die("bioq", rc);
	mo.cache_bytes = 32 * MB;
	mo.dirty_limit = 1024 * MB;	/* the whole write is one flush */
	if ((rc = hammer_mount(dev, &mo, &m, &e)))
		die("mount", rc);
	s.m = m;
	if ((rc = hammer_lookup(m, HAMMER_ROOT_INO, "rand", 4, &a)))
		die("lookup", rc);
	s.rino = a.ino;
	s.cap = 1 << 20;
	s.t = calloc(s.cap, sizeof(double));
	s.lat = calloc(s.cap, sizeof(double));
	struct hammer_attr w;
	if ((rc = hammer_mknod(m, HAMMER_ROOT_INO, "big", 3, 0100644, 0, 0, 0, &w)))
		die("mknod", rc);
	pthread_t th;
	double start = now_ms();
	pthread_create(&th, NULL, reader, &s);
	usleep(2000 * 1000);	/* a baseline before the write */
	for (uint64_t off = 0; off < s.write_bytes; off += 1 << 20) {
		memset(buf, 0x77 ^ (int)(off >> 20), 1 << 20);
		if (hammer_write(m, w.ino, off, buf, 1 << 20) != 1 << 20)
			die("big write", -EIO);
	}
	s.flush_t0 = now_ms();
	if ((rc = hammer_flush(m)))
		die("flush", rc);
	s.flush_t1 = now_ms();
	usleep(500 * 1000);
	atomic_store(&s.stop, 1);
	pthread_join(th, NULL);
	struct hammer_bdev_bioq_stats st = { 0 };
	if (hammer_unmount(m))
		die("unmount", -EIO);
	(void)st;

	/* reads that overlap the flush, and the baseline before the writes */
	double *in = calloc(s.n + 1, sizeof(double)), *base = calloc(s.n + 1, sizeof(double));
	size_t ni = 0, nb = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (s.t[i] + s.lat[i] >= s.flush_t0 && s.t[i] <= s.flush_t1)
			in[ni++] = s.lat[i];
		else if (s.t[i] < start + 2000)
			base[nb++] = s.lat[i];
	}
	qsort(in, ni, sizeof(double), cmpd);
	qsort(base, nb, sizeof(double), cmpd);
	printf("bioq=%s mi=%u bb=%" PRIu64 " flush %.0f ms (%" PRIu64 " MB)  reads during flush %zu:"
	       " p50 %.2f p99 %.2f max %.2f ms  | baseline %zu reads: p50 %.2f p99 %.2f ms\n",
	       bq.enable ? "on" : "off", bq.minor_interval, bq.burst_bytes, s.flush_t1 - s.flush_t0,
	       s.write_bytes / MB, ni, pct(in, ni, 0.5), pct(in, ni, 0.99), pct(in, ni, 1.0), nb,
	       pct(base, nb, 0.5), pct(base, nb, 0.99));
	free(in);
	free(base);
	free(s.t);
	free(s.lat);
	free(buf);
	return 0;
}
