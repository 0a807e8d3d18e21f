/* bdev.c - checked wrappers, the file backend and the RAM backend. */
#include "bdev.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

static int range_ok(const struct hammer_bdev *bd, uint64_t off, size_t len)
{
	if (len == 0 || off % bd->sector_size || len % bd->sector_size)
		return 0;
	return off <= bd->size && len <= bd->size - off;
}

int hammer_bdev_read(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len)
{
	if (!range_ok(bd, off, len))
		return -EINVAL;
	return bd->ops->read(bd, off, buf, len);
}

int hammer_bdev_write(struct hammer_bdev *bd, uint64_t off, const void *buf, size_t len)
{
	if (bd->readonly)
		return -EROFS;
	if (!range_ok(bd, off, len))
		return -EINVAL;
	return bd->ops->write(bd, off, buf, len);
}

int hammer_bdev_flush(struct hammer_bdev *bd)
{
	if (bd->readonly)
		return 0;
	return bd->ops->flush(bd);
}

void hammer_bdev_prefetch(struct hammer_bdev *bd, uint64_t off, size_t len)
{
	if (!bd->ops->prefetch || off >= bd->size || len == 0)
		return;
	if (len > bd->size - off)
		len = (size_t)(bd->size - off);
	bd->ops->prefetch(bd, off, len);
}

void hammer_bdev_close(struct hammer_bdev *bd)
{
	if (bd)
		bd->ops->close(bd);
}

/* ------------------------------------------------------------ file */
/*
 * Prefetch: a reader thread of the device's own reads the announced
 * ranges through a descriptor of its own (so the kernel's read-ahead
 * state of the main one is left alone), spliced into a pipe and from it
 * to /dev/null: the page cache fills as for any read, and no byte is
 * copied.  (Where splice fails, into a scratch buffer.)  The engine's
 * reads then find the pages.  posix_fadvise(WILLNEED)
 * would be simpler, but it fills the page cache with single pages where
 * ordinary reads get large folios, and every later read of those blocks
 * paid for it (random 4 KiB writes, which read the old 64 KiB block, were
 * 15-25% slower after a sequential read had been prefetched that way).
 */
#define PF_QUEUE	64
#define PF_MERGE	(1u << 20)	/* one queued range grows up to this */
#define PF_CHUNK	(256u << 10)	/* scratch buffer: one read */

struct pf_range {
	uint64_t off;
	size_t len;
};

/* ------------------------------------------------------------ bioq gate */
/*
 * The queue is the same as sim/bioq.c's (bioqdisksort): a list with a
 * transition pointer; a caller waits until its entry is at the head and a
 * slot is free, runs its system call, and frees the slot.
 */
enum { GQ_READ, GQ_WRITE, GQ_FLUSH };

struct gate_req {
	int op;
	uint64_t off, len;
	struct gate_req *prev, *next;
};

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	struct hammer_bdev_bioq p;
	struct gate_req *head, *tail, *transition;
	uint32_t reorder, inflight;
	int barrier_inflight;
	uint64_t running_write_bytes;
	struct hammer_bdev_bioq_stats st;
};

static pthread_mutex_t bioq_conf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hammer_bdev_bioq bioq_conf = { 0, 1, 5, 60, 262144, 3000000, 16u << 20 };

void hammer_bdev_bioq_default(struct hammer_bdev_bioq *p)
{
	*p = (struct hammer_bdev_bioq){ 0, 1, 5, 60, 262144, 3000000, 16u << 20 };
}

int hammer_bdev_file_set_bioq(const struct hammer_bdev_bioq *p)
{
	if (!p->depth || !p->hirunningspace)
		return -EINVAL;
	pthread_mutex_lock(&bioq_conf_lock);
	bioq_conf = *p;
	pthread_mutex_unlock(&bioq_conf_lock);
	return 0;
}

static void gq_insert_before(struct gate *g, struct gate_req *r, struct gate_req *at)
{
	r->next = at;
	r->prev = at ? at->prev : g->tail;
	if (r->prev)
		r->prev->next = r;
	else
		g->head = r;
	if (at)
		at->prev = r;
	else
		g->tail = r;
}

static void gq_remove(struct gate *g, struct gate_req *r)
{
	if (g->transition == r)
		g->transition = r->next;
	if (r->prev)
		r->prev->next = r->next;
	else
		g->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		g->tail = r->prev;
}

/* Moves the transition point past some held-back writes (bioqwritereorder). */
static void gq_release(struct gate *g)
{
	int burst = g->reorder >= g->p.burst_interval &&
		    g->running_write_bytes * 6 >= g->p.hirunningspace * 4;
	uint64_t left = burst ? g->p.burst_bytes : g->p.minor_bytes;
	if (burst)
		g->st.burst_releases++;
	else
		g->st.minor_releases++;
	struct gate_req *r = g->transition;
	uint64_t next_off = r ? r->off : 0;
	while (r && r->op == GQ_WRITE && (burst || r->off == next_off)) {
		next_off = r->off + r->len;
		g->transition = r->next;
		if (left < r->len)
			break;
		left -= r->len;
		r = g->transition;
	}
}

static void gq_insert(struct gate *g, struct gate_req *r)
{
	if (r->op == GQ_FLUSH) {
		g->transition = NULL;	/* nothing queued later passes it */
		gq_insert_before(g, r, NULL);
	} else if (r->op == GQ_WRITE) {
		gq_insert_before(g, r, NULL);
		if (!g->transition)
			g->transition = r;
	} else if (!g->transition) {
		gq_insert_before(g, r, NULL);
	} else {
		gq_insert_before(g, r, g->transition);
		g->reorder++;
		g->st.reads_jumped++;
		if (g->p.minor_interval && g->reorder % g->p.minor_interval == 0) {
			gq_release(g);
			if (g->reorder >= g->p.burst_interval)
				g->reorder = 0;
		}
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void gate_enter(struct gate *g, struct gate_req *r, int op, uint64_t off, uint64_t len)
{
	*r = (struct gate_req){ op, off, len, NULL, NULL };
	uint64_t t0 = mono_ns();
	pthread_mutex_lock(&g->lock);
	if (op == GQ_WRITE)
		g->running_write_bytes += len;
	gq_insert(g, r);
	while (g->head != r || g->inflight >= g->p.depth || g->barrier_inflight ||
	       (op == GQ_FLUSH && g->inflight))
		pthread_cond_wait(&g->cv, &g->lock);
	gq_remove(g, r);
	g->inflight++;
	g->barrier_inflight = op == GQ_FLUSH;
	g->st.wait_ns[op] += mono_ns() - t0;
	if (op == GQ_READ)
		g->st.reads++;
	else if (op == GQ_WRITE)
		g->st.writes++;
	else
		g->st.flushes++;
	/* the next head may be allowed to start too (depth > 1) */
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->lock);
}

static void gate_leave(struct gate *g, const struct gate_req *r)
{
	pthread_mutex_lock(&g->lock);
	g->inflight--;
	if (r->op == GQ_FLUSH)
		g->barrier_inflight = 0;
	if (r->op == GQ_WRITE)
		g->running_write_bytes -= r->len;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->lock);
}

struct file_ctx {
	int fd;
	struct gate *gate;		/* NULL: bioq off */
	/*
	 * Prefetch reader, started by the first hint: a process that mounts
	 * and then forks (hammer-fuse daemonizing) has read nothing yet.
	 */
	pthread_mutex_t pf_lock;
	pthread_cond_t pf_cv;
	pthread_t pf_thread;
	int pf_state;			/* 0 not started, 1 running, -1 unusable */
	int pf_stop;
	int pf_fd;
	struct pf_range pf_q[PF_QUEUE];
	unsigned pf_head, pf_n;
};

static int file_pread_all(struct file_ctx *c, uint64_t off, void *buf, size_t len);
static int file_pwrite_all(struct file_ctx *c, uint64_t off, const void *buf, size_t len);
static const struct hammer_bdev_ops file_ops;

static int file_read(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len)
{
	struct file_ctx *c = bd->ctx;
	struct gate_req gr;
	if (c->gate) {
		gate_enter(c->gate, &gr, GQ_READ, off, len);
		int rc = file_pread_all(c, off, buf, len);
		gate_leave(c->gate, &gr);
		return rc;
	}
	return file_pread_all(c, off, buf, len);
}

static int file_pread_all(struct file_ctx *c, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = pread(c->fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)	/* file shrank under us */
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int file_write(struct hammer_bdev *bd, uint64_t off, const void *buf, size_t len)
{
	struct file_ctx *c = bd->ctx;
	struct gate_req gr;
	if (c->gate) {
		gate_enter(c->gate, &gr, GQ_WRITE, off, len);
		int rc = file_pwrite_all(c, off, buf, len);
		gate_leave(c->gate, &gr);
		return rc;
	}
	return file_pwrite_all(c, off, buf, len);
}

static int file_pwrite_all(struct file_ctx *c, uint64_t off, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(c->fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int file_flush(struct hammer_bdev *bd)
{
	struct file_ctx *c = bd->ctx;
	struct gate_req gr;
	if (c->gate)
		gate_enter(c->gate, &gr, GQ_FLUSH, 0, 0);
	int rc = fdatasync(c->fd) < 0 ? -errno : 0;
	if (c->gate)
		gate_leave(c->gate, &gr);
	return rc;
}

int hammer_bdev_file_bioq_stats(struct hammer_bdev *bd, struct hammer_bdev_bioq_stats *out)
{
	if (bd->ops != &file_ops || !((struct file_ctx *)bd->ctx)->gate)
		return -EINVAL;
	struct gate *g = ((struct file_ctx *)bd->ctx)->gate;
	pthread_mutex_lock(&g->lock);
	*out = g->st;
	pthread_mutex_unlock(&g->lock);
	return 0;
}

/* Read [off, off + len) into the page cache; 0, or -1 to stop trying. */
static int pf_splice(int fd, int pipefd[2], int null, uint64_t off, size_t len)
{
	loff_t o = (loff_t)off;
	while (len) {
		ssize_t n = splice(fd, &o, pipefd[1], NULL,
				   len < PF_CHUNK ? len : PF_CHUNK, SPLICE_F_MOVE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		len -= (size_t)n;
		while (n > 0) {
			ssize_t d = splice(pipefd[0], NULL, null, NULL, (size_t)n,
					   SPLICE_F_MOVE);
			if (d < 0 && errno == EINTR)
				continue;
			if (d <= 0)
				return -1;	/* the pipe stays full: give up */
			n -= d;
		}
	}
	return 0;
}

static void *pf_main(void *arg)
{
	struct file_ctx *c = arg;
	uint8_t *scratch = NULL;
	int pipefd[2] = { -1, -1 };
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int spliced = null >= 0 && pipe2(pipefd, O_CLOEXEC) == 0;
	if (spliced)
		(void)fcntl(pipefd[1], F_SETPIPE_SZ, (int)PF_CHUNK);
	pthread_mutex_lock(&c->pf_lock);
	for (;;) {
		while (!c->pf_n && !c->pf_stop)
			pthread_cond_wait(&c->pf_cv, &c->pf_lock);
		if (c->pf_stop)
			break;
		struct pf_range r = c->pf_q[c->pf_head];
		c->pf_head = (c->pf_head + 1) % PF_QUEUE;
		c->pf_n--;
		pthread_mutex_unlock(&c->pf_lock);
		if (spliced && pf_splice(c->pf_fd, pipefd, null, r.off, r.len) == 0)
			r.len = 0;
		else if (spliced) {
			spliced = 0;	/* e.g. a file system without splice */
			close(pipefd[0]);
			close(pipefd[1]);
			pipefd[0] = pipefd[1] = -1;
		}
		if (r.len && !scratch)
			scratch = malloc(PF_CHUNK);
		while (r.len && scratch) {
			size_t n = r.len < PF_CHUNK ? r.len : PF_CHUNK;
			ssize_t got = pread(c->pf_fd, scratch, n, (off_t)r.off);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)	/* end of file (it shrank) or an error: */
				break;	/* a hint; the engine's own read will tell */
			r.off += (uint64_t)got;
			r.len -= (size_t)got;
		}
		pthread_mutex_lock(&c->pf_lock);
	}
	pthread_mutex_unlock(&c->pf_lock);
	free(scratch);
	if (pipefd[0] >= 0) {
		close(pipefd[0]);
		close(pipefd[1]);
	}
	if (null >= 0)
		close(null);
	return NULL;
}

/* Lock held.  Start the reader: 0, or -1 (prefetch stays off). */
static int pf_start(struct file_ctx *c)
{
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", c->fd);
	c->pf_fd = open(self, O_RDONLY | O_CLOEXEC);
	if (c->pf_fd < 0)
		return -1;
	if (pthread_create(&c->pf_thread, NULL, pf_main, c)) {
		close(c->pf_fd);
		return -1;
	}
	return 0;
}

static void file_prefetch(struct hammer_bdev *bd, uint64_t off, size_t len)
{
	struct file_ctx *c = bd->ctx;
	pthread_mutex_lock(&c->pf_lock);
	if (c->pf_state == 0)
		c->pf_state = pf_start(c) ? -1 : 1;
	if (c->pf_state == 1) {
		struct pf_range *last = c->pf_n
			? &c->pf_q[(c->pf_head + c->pf_n - 1) % PF_QUEUE] : NULL;
		if (last && last->off + last->len == off &&
		    last->len + len <= PF_MERGE) {
			last->len += len;
		} else if (c->pf_n < PF_QUEUE) {	/* else dropped: a hint */
			c->pf_q[(c->pf_head + c->pf_n) % PF_QUEUE] =
				(struct pf_range){ off, len };
			c->pf_n++;
		}
		pthread_cond_signal(&c->pf_cv);
	}
	pthread_mutex_unlock(&c->pf_lock);
}

static void file_close(struct hammer_bdev *bd)
{
	struct file_ctx *c = bd->ctx;
	if (c->pf_state == 1) {
		pthread_mutex_lock(&c->pf_lock);
		c->pf_stop = 1;
		pthread_cond_signal(&c->pf_cv);
		pthread_mutex_unlock(&c->pf_lock);
		pthread_join(c->pf_thread, NULL);
		close(c->pf_fd);
	}
	pthread_cond_destroy(&c->pf_cv);
	pthread_mutex_destroy(&c->pf_lock);
	close(c->fd);	/* drops the flock */
	if (c->gate) {
		pthread_cond_destroy(&c->gate->cv);
		pthread_mutex_destroy(&c->gate->lock);
		free(c->gate);
	}
	free(c);
	free(bd);
}

static const struct hammer_bdev_ops file_ops = {
	.version = HAMMER_BDEV_VERSION,
	.read = file_read,
	.write = file_write,
	.flush = file_flush,
	.close = file_close,
	.prefetch = file_prefetch,
};

int hammer_bdev_file_open(const char *path, int flags,
			  struct hammer_bdev **out, const char **errmsg)
{
	const char *dummy;
	if (!errmsg)
		errmsg = &dummy;
	*out = NULL;
	*errmsg = NULL;
	int rdonly = flags & HAMMER_BDEV_RDONLY;
	int oflags = (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	if (!rdonly && (flags & HAMMER_BDEV_CREATE))
		oflags |= O_CREAT;
	int fd = open(path, oflags, 0644);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			*errmsg = "no such file or device";
		else if (e == EROFS || e == EACCES)
			*errmsg = rdonly ? "permission denied"
					 : "cannot open for writing (read-only device or no permission)";
		else
			*errmsg = strerror(e);
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		*errmsg = strerror(e);
		return -e;
	}
	uint64_t size;
	uint32_t ssize = HAMMER_SECTOR_SIZE;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			int e = errno;
			close(fd);
			*errmsg = "cannot read the block device size (BLKGETSIZE64)";
			return -e;
		}
		int ro = 0;
		if (!rdonly && ioctl(fd, BLKROGET, &ro) == 0 && ro) {
			close(fd);
			*errmsg = "the block device is read-only";
			return -EROFS;
		}
		int lss = 0;
		if (ioctl(fd, BLKSSZGET, &lss) == 0 && lss > HAMMER_SECTOR_SIZE &&
		    lss <= 4096)
			ssize = (uint32_t)lss;
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		close(fd);
		*errmsg = "not a regular file or block device";
		return -ENODEV;
	}
	if (flock(fd, (rdonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK) {
			*errmsg = rdonly ? "the device is open for writing by another program"
					 : "the device is already in use by another program";
			return -EBUSY;
		}
		*errmsg = strerror(e);
		return -e;
	}
	struct hammer_bdev *bd = calloc(1, sizeof(*bd));
	struct file_ctx *c = calloc(1, sizeof(*c));
	if (!bd || !c) {
		free(bd);
		free(c);
		close(fd);
		*errmsg = "out of memory";
		return -ENOMEM;
	}
	c->fd = fd;
	c->pf_fd = -1;
	pthread_mutex_lock(&bioq_conf_lock);
	struct hammer_bdev_bioq bq = bioq_conf;
	pthread_mutex_unlock(&bioq_conf_lock);
	if (bq.enable && !rdonly) {
		c->gate = calloc(1, sizeof(*c->gate));
		if (!c->gate) {
			free(bd);
			free(c);
			close(fd);
			*errmsg = "out of memory";
			return -ENOMEM;
		}
		c->gate->p = bq;
		pthread_mutex_init(&c->gate->lock, NULL);
		pthread_cond_init(&c->gate->cv, NULL);
	}
	pthread_mutex_init(&c->pf_lock, NULL);
	pthread_cond_init(&c->pf_cv, NULL);
	bd->ops = &file_ops;
	bd->ctx = c;
	bd->size = size - size % ssize;
	bd->sector_size = ssize;
	bd->readonly = rdonly;
	snprintf(bd->name, sizeof(bd->name), "%s", path);
	*out = bd;
	return 0;
}

/* ------------------------------------------------------------- RAM */
static int ram_read(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len)
{
	memcpy(buf, (uint8_t *)bd->ctx + off, len);
	return 0;
}

static int ram_write(struct hammer_bdev *bd, uint64_t off, const void *buf, size_t len)
{
	memcpy((uint8_t *)bd->ctx + off, buf, len);
	return 0;
}

static int ram_flush(struct hammer_bdev *bd)
{
	(void)bd;
	return 0;
}

static void ram_close(struct hammer_bdev *bd)
{
	free(bd->ctx);
	free(bd);
}

static const struct hammer_bdev_ops ram_ops = {
	.version = HAMMER_BDEV_VERSION,
	.read = ram_read,
	.write = ram_write,
	.flush = ram_flush,
	.close = ram_close,
};

int hammer_bdev_ram_open(uint64_t size, const char *name, struct hammer_bdev **out)
{
	*out = NULL;
	size -= size % HAMMER_SECTOR_SIZE;
	if (size == 0 || size > SIZE_MAX)
		return -EINVAL;
	struct hammer_bdev *bd = calloc(1, sizeof(*bd));
	void *mem = calloc(1, (size_t)size);
	if (!bd || !mem) {
		free(bd);
		free(mem);
		return -ENOMEM;
	}
	bd->ops = &ram_ops;
	bd->ctx = mem;
	bd->size = size;
	bd->sector_size = HAMMER_SECTOR_SIZE;
	snprintf(bd->name, sizeof(bd->name), "%s", name ? name : "ram");
	*out = bd;
	return 0;
}

uint8_t *hammer_bdev_ram_data(struct hammer_bdev *bd)
{
	return bd->ops == &ram_ops ? bd->ctx : NULL;
}
