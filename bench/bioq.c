/*
 * bench/bioq.c - DragonFly's bioq tunables swept over HAMMER's own I/O on
 * the simulated HDD and SSD, in virtual time.
 *
 * METHOD: record, then replay with dependencies (bench/README.md says why).
 *
 *   Record.  The real engine runs once on a RAM device under a recording
 *   device.  Every read, write and flush it makes is appended to the stream
 *   of the actor whose call caused it; the bench adds BEGIN/END marks around
 *   each application operation.  Actors:
 *     writer   bulk 64 KiB writes into new files, then hammer_flush(): the
 *              flush's real stream (data, UNDO/REDO FIFO, barrier, volume
 *              header, meta-data) plus the B-tree reads it needs;
 *     fsync    a 4 KiB append to a log file and hammer_fsync() (mount default
 *              fsync_mode 3: the REDO fast path after the first one);
 *     rand0/1  random 16 KiB reads of a large existing file;
 *     scan     sequential 64 KiB reads of another existing file.
 *   The files are made and the volume remounted (cold cache) before the
 *   recording; the cache is small, so most reads reach the device.
 *
 *   Replay.  Each actor replays its stream as a process would issue it:
 *     read          submit, wait for it;
 *     write         submit and go on (asynchronous, like HAMMER's
 *                   bawrite), but never more than hirunningspace bytes of
 *                   one actor's writes outstanding (waitrunningbufspace);
 *     flush         wait for the actor's outstanding writes, then submit
 *                   the cache flush (a barrier for the queue) and wait;
 *     END           wait for the actor's outstanding writes (a flush cycle
 *                   or an fsync is done when its writes are), record the
 *                   operation's latency, then think (seeded exponential).
 *   All actors share one sim_sched (FIFO or bioq) in front of one latency
 *   model.  A discrete-event loop picks the earlier of the next completion
 *   and the next actor wake-up (ties: completions first, then actors in
 *   index order), so the result depends on the scheduler only through the
 *   order it dispatches in, and never on the host.  Readers and the fsync
 *   actor start over at the end of their stream; the writer's stream is
 *   replayed in a loop until the virtual run time is over.
 *
 * Usage: bioq [--quick] [--csv PATH] [--model-check] [--seed S]
 *             [--hdd-seconds N] [--ssd-seconds N] [--point SPEC]
 *   --quick       a small trace and five points; exits 1 on any
 *                 nonsensical number (test 'bench_bioq_quick', suite unit)
 *   --model-check the models against datasheet figures (bench/README.md)
 *   --point       one point: dev,depth,policy[,minor_bytes,burst_bytes,
 *                 minor_interval,burst_interval], e.g. hdd,1,bioq,262144,
 *                 524288,30,60
 * Every figure printed comes from virtual time: rerun, same numbers.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/hammer.h"
#include "ref/newfs.h"
#include "sim/latency.h"

#define KB ((uint64_t)1024)
#define MB ((uint64_t)1024 * 1024)
#define MSEC ((uint64_t)1000000)
#define SEC ((uint64_t)1000000000)

static void die(const char *what, long rc)
{
	fprintf(stderr, "bench bioq: %s: %ld (%s)\n", what, rc,
		strerror(rc < 0 ? (int)-rc : (int)rc));
	exit(2);
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		die("calloc", -ENOMEM);
	return p;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* ------------------------------------------------------------ the trace */

enum ev_kind { EV_READ, EV_WRITE, EV_FLUSH, EV_BEGIN, EV_END };
enum op_kind { OPK_RAND, OPK_SCAN, OPK_FSYNC, OPK_FLUSH, OPK_NONE, OPKS };
static const char *const opk_name[OPKS] = { "rand", "scan", "fsync", "flush", "-" };

struct ev {
	uint8_t kind, opk;
	uint32_t len;		/* bytes; BEGIN: application bytes of the operation */
	uint64_t off;
};

enum actor_id { A_WRITER, A_FSYNC, A_RAND0, A_RAND1, A_SCAN, NACT };
static const char *const actor_name[NACT] = { "writer", "fsync", "rand0", "rand1", "scan" };

struct stream {
	struct ev *ev;
	size_t n, cap;
	uint64_t rbytes, wbytes;
	uint64_t ops;
};

struct trace {
	struct stream s[NACT];
};

static void stream_add(struct stream *s, enum ev_kind k, enum op_kind o, uint64_t off,
		       uint64_t len)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->ev = realloc(s->ev, s->cap * sizeof(*s->ev));
		if (!s->ev)
			die("realloc", -ENOMEM);
	}
	s->ev[s->n++] = (struct ev){ (uint8_t)k, (uint8_t)o, (uint32_t)len, off };
	if (k == EV_READ)
		s->rbytes += len;
	if (k == EV_WRITE)
		s->wbytes += len;
	if (k == EV_BEGIN)
		s->ops++;
}

/* The recording device: passes through to RAM, logs into the current actor. */
struct rec {
	struct hammer_bdev *ram;
	struct trace *t;
	int actor;		/* -1: not recording */
};

static int rec_read(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len)
{
	struct rec *r = bd->ctx;
	if (r->actor >= 0)
		stream_add(&r->t->s[r->actor], EV_READ, OPK_NONE, off, len);
	return hammer_bdev_read(r->ram, off, buf, len);
}

static int rec_write(struct hammer_bdev *bd, uint64_t off, const void *buf, size_t len)
{
	struct rec *r = bd->ctx;
	if (r->actor >= 0)
		stream_add(&r->t->s[r->actor], EV_WRITE, OPK_NONE, off, len);
	return hammer_bdev_write(r->ram, off, buf, len);
}

static int rec_flush(struct hammer_bdev *bd)
{
	struct rec *r = bd->ctx;
	if (r->actor >= 0)
		stream_add(&r->t->s[r->actor], EV_FLUSH, OPK_NONE, 0, 0);
	return hammer_bdev_flush(r->ram);
}

static void rec_close(struct hammer_bdev *bd)
{
	free(bd);	/* the RAM device outlives mounts */
}

static const struct hammer_bdev_ops rec_ops = {
	HAMMER_BDEV_VERSION, rec_read, rec_write, rec_flush, rec_close, NULL,
};

static struct hammer_bdev *rec_bdev(struct rec *r)
{
	struct hammer_bdev *bd = xcalloc(1, sizeof(*bd));
	bd->ops = &rec_ops;
	bd->ctx = r;
	bd->size = r->ram->size;
	bd->sector_size = r->ram->sector_size;
	snprintf(bd->name, sizeof(bd->name), "rec(%.200s)", r->ram->name);
	return bd;
}

struct wl {			/* the recorded workload */
	uint64_t dev_bytes, cache_bytes;
	uint64_t rand_file, scan_file;	/* sizes of the files read */
	uint64_t write_bytes;		/* written by the writer in all */
	uint64_t cycle_bytes;		/* written between two flushes */
	uint32_t fsync_every;		/* writer writes between two fsyncs */
	uint32_t rand_ops, scan_ops;	/* recorded per reader */
	uint64_t seed;
};

static uint64_t fake_us;
static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_us += 1000;
}

static struct hammer_mount *mount_rec(struct rec *r, uint64_t cache)
{
	struct hammer_mount_opts mo;
	hammer_mount_opts_init(&mo);
	mo.cache_bytes = cache;
	mo.dirty_limit = cache * 3 / 4;
	mo.clock = fake_clock;
	struct hammer_bdev *bd = rec_bdev(r);
	struct hammer_mount *m;
	struct hammer_err e = { 0 };
	int rc = hammer_mount_bdevs(&bd, 1, &mo, &m, &e);
	if (rc) {
		fprintf(stderr, "bench bioq: mount: %s\n", e.msg);
		die("mount", rc);
	}
	return m;
}

static hammer_ino_t make_file(struct hammer_mount *m, const char *name)
{
	struct hammer_attr a;
	int rc = hammer_mknod(m, HAMMER_ROOT_INO, name, strlen(name), 0100644, 0, 0, 0, &a);
	if (rc)
		die("mknod", rc);
	return a.ino;
}

static hammer_ino_t find_file(struct hammer_mount *m, const char *name)
{
	struct hammer_attr a;
	int rc = hammer_lookup(m, HAMMER_ROOT_INO, name, strlen(name), &a);
	if (rc)
		die("lookup", rc);
	return a.ino;
}

static void fill(uint8_t *buf, size_t len, uint64_t tag)
{
	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t v = mix(tag + i);
		memcpy(buf + i, &v, 8);
	}
}

static void write_file(struct hammer_mount *m, hammer_ino_t ino, uint64_t size, uint8_t *buf)
{
	for (uint64_t off = 0; off < size; off += 64 * KB) {
		fill(buf, 64 * KB, ino * 1000003 + off);
		ssize_t n = hammer_write(m, ino, off, buf, 64 * KB);
		if (n != (ssize_t)(64 * KB))
			die("write", n < 0 ? n : -EIO);
		if (off % (32 * MB) == 32 * MB - 64 * KB) {
			int rc = hammer_flush(m);
			if (rc)
				die("flush", rc);
		}
	}
}

static void record(const struct wl *w, struct trace *t, char *desc, size_t desclen)
{
	memset(t, 0, sizeof(*t));
	struct rec r = { .t = t, .actor = -1 };
	int rc = hammer_bdev_ram_open(w->dev_bytes, "bioq", &r.ram);
	if (rc)
		die("RAM device", rc);
	struct hammer_newfs_opts no;
	hammer_newfs_opts_init(&no);
	no.label = "BIOQ";
	no.undo_size = (int64_t)(w->dev_bytes >= 1024 * MB ? 256 * MB : 64 * MB);
	no.force = 1;
	memset(&no.fsid, 0x42, sizeof(no.fsid));
	no.ctime_us = 1795306471000000ULL;
	struct hammer_newfs_result res;
	struct hammer_err e = { 0 };
	rc = hammer_newfs_format(&r.ram, 1, &no, &res, &e);
	if (rc)
		die("newfs", rc);
	fake_us = 1795306471000000ULL;
	uint8_t *buf = xcalloc(1, 64 * KB);

	/* the files the readers read, then a cold remount */
	struct hammer_mount *m = mount_rec(&r, 64 * MB);
	write_file(m, make_file(m, "rand"), w->rand_file, buf);
	write_file(m, make_file(m, "scan"), w->scan_file, buf);
	make_file(m, "log");
	if ((rc = hammer_sync(m)) || (rc = hammer_unmount(m)))
		die("setup sync", rc);
	m = mount_rec(&r, w->cache_bytes);
	hammer_ino_t rino = find_file(m, "rand"), sino = find_file(m, "scan");
	hammer_ino_t lino = find_file(m, "log");
	/* the log's first fsync is a full flush that switches it to REDO: not part of the loop */
	memset(buf, 0, 4 * KB);
	if (hammer_write(m, lino, 0, buf, 4 * KB) != (ssize_t)(4 * KB) ||
	    (rc = hammer_fsync(m, lino, 0)))
		die("first fsync", rc ? rc : -EIO);

	uint64_t rng = mix(w->seed);
	uint64_t steps = w->write_bytes / (64 * KB);
	uint64_t per_cycle = w->cycle_bytes / (64 * KB);
	uint64_t rdone[2] = { 0, 0 }, sdone = 0, scan_off = 0, log_off = 4 * KB;
	uint32_t wfile = 0;
	hammer_ino_t wino = 0;
	uint64_t woff = 0;
	for (uint64_t st = 0; st < steps; st++) {
		/* writer: one application write; a flush cycle every per_cycle */
		r.actor = A_WRITER;
		if (!wino || woff >= 64 * MB) {
			char name[32];
			snprintf(name, sizeof(name), "w%u", wfile++);
			wino = make_file(m, name);
			woff = 0;
		}
		fill(buf, 64 * KB, st);
		ssize_t n = hammer_write(m, wino, woff, buf, 64 * KB);
		if (n != (ssize_t)(64 * KB))
			die("writer write", n < 0 ? n : -EIO);
		woff += 64 * KB;
		if (st % per_cycle == per_cycle - 1) {
			stream_add(&t->s[A_WRITER], EV_BEGIN, OPK_FLUSH, 0, per_cycle * 64 * KB);
			if ((rc = hammer_flush(m)))
				die("flush", rc);
			stream_add(&t->s[A_WRITER], EV_END, OPK_FLUSH, 0, 0);
		}
		if (st % w->fsync_every == w->fsync_every - 1) {
			r.actor = A_FSYNC;
			stream_add(&t->s[A_FSYNC], EV_BEGIN, OPK_FSYNC, 0, 4 * KB);
			fill(buf, 4 * KB, ~st);
			n = hammer_write(m, lino, log_off, buf, 4 * KB);
			if (n != (ssize_t)(4 * KB))
				die("log write", n < 0 ? n : -EIO);
			log_off += 4 * KB;
			if ((rc = hammer_fsync(m, lino, 0)))
				die("fsync", rc);
			stream_add(&t->s[A_FSYNC], EV_END, OPK_FSYNC, 0, 0);
		}
		/* readers keep pace so that their cache state interleaves with the writer's */
		for (int k = 0; k < 2; k++) {
			r.actor = A_RAND0 + k;
			while (rdone[k] * steps < (st + 1) * w->rand_ops) {
				uint64_t off = (mix(rng++) % (w->rand_file / (16 * KB))) * 16 * KB;
				stream_add(&t->s[r.actor], EV_BEGIN, OPK_RAND, 0, 16 * KB);
				n = hammer_read(m, rino, off, buf, 16 * KB);
				if (n != (ssize_t)(16 * KB))
					die("random read", n < 0 ? n : -EIO);
				stream_add(&t->s[r.actor], EV_END, OPK_RAND, 0, 0);
				rdone[k]++;
			}
		}
		r.actor = A_SCAN;
		while (sdone * steps < (st + 1) * w->scan_ops) {
			stream_add(&t->s[A_SCAN], EV_BEGIN, OPK_SCAN, 0, 64 * KB);
			n = hammer_read(m, sino, scan_off, buf, 64 * KB);
			if (n != (ssize_t)(64 * KB))
				die("scan read", n < 0 ? n : -EIO);
			stream_add(&t->s[A_SCAN], EV_END, OPK_SCAN, 0, 0);
			scan_off = (scan_off + 64 * KB) % w->scan_file;
			sdone++;
		}
	}
	r.actor = -1;
	if ((rc = hammer_unmount(m)))
		die("unmount", rc);
	hammer_bdev_close(r.ram);
	free(buf);
	snprintf(desc, desclen,
		 "trace: dev=%" PRIu64 "MB cache=%" PRIu64 "MB rand_file=%" PRIu64
		 "MB scan_file=%" PRIu64 "MB written=%" PRIu64 "MB cycle=%" PRIu64
		 "MB fsync_every=%u seed=%" PRIu64,
		 w->dev_bytes / MB, w->cache_bytes / MB, w->rand_file / MB, w->scan_file / MB,
		 w->write_bytes / MB, w->cycle_bytes / MB, w->fsync_every, w->seed);
}

static void trace_free(struct trace *t)
{
	for (int a = 0; a < NACT; a++)
		free(t->s[a].ev);
}

/* ------------------------------------------------------------ replay */

struct lat {			/* latencies of one operation kind */
	uint64_t *v;
	size_t n, cap;
	uint64_t bytes;
};

static void lat_add(struct lat *l, uint64_t ns, uint64_t bytes)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			die("realloc", -ENOMEM);
	}
	l->v[l->n++] = ns;
	l->bytes += bytes;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least q of the samples at or below it. */
static double pct_ms(struct lat *l, double q)
{
	if (!l->n)
		return 0;
	size_t k = (size_t)ceil(q * (double)l->n);
	if (k < 1)
		k = 1;
	if (k > l->n)
		k = l->n;
	return (double)l->v[k - 1] / 1e6;
}

enum wait { W_NONE, W_IO, W_DRAIN, W_SPACE, W_DONE };

struct actor {
	const struct stream *st;
	size_t pc;
	enum wait wait;
	uint64_t wake;		/* when it runs next (W_NONE) */
	uint32_t outstanding;	/* writes in flight */
	uint64_t out_bytes;
	uint64_t op_begin, op_bytes;
	uint8_t op_kind;
	uint64_t think_ns, rng;
	uint64_t loops;
};

struct preq {
	struct sim_req r;
	struct preq *next_free;
};

struct replay {
	struct sim_sched *s;
	struct actor a[NACT];
	struct preq *free_list;
	uint64_t space;		/* hirunningspace per actor */
	struct lat lat[OPKS];
	uint64_t end_ns;	/* virtual run time */
	int done;
};

static struct preq *req_get(struct replay *rp)
{
	struct preq *q = rp->free_list;
	if (q)
		rp->free_list = q->next_free;
	else
		q = xcalloc(1, sizeof(*q));
	memset(&q->r, 0, sizeof(q->r));
	return q;
}

static void on_done(void *ctx, struct sim_req *r)
{
	struct replay *rp = ctx;
	struct actor *a = &rp->a[r->tag];
	uint64_t now = r->done_ns;
	if (r->op == SIM_OP_WRITE) {
		a->outstanding--;
		a->out_bytes -= r->len;
		if ((a->wait == W_DRAIN && !a->outstanding) ||
		    (a->wait == W_SPACE && a->out_bytes + a->st->ev[a->pc].len <= rp->space)) {
			a->wait = W_NONE;
			a->wake = now;
		}
	} else if (a->wait == W_IO) {
		a->wait = W_NONE;
		a->wake = now;
	}
	struct preq *q = (struct preq *)r;
	q->next_free = rp->free_list;
	rp->free_list = q;
}

static uint64_t think(struct actor *a)
{
	if (!a->think_ns)
		return 0;
	/* exponential with the given mean, from the actor's own seeded stream */
	double u = ((double)(mix(a->rng++) >> 11) + 0.5) / 9007199254740992.0;
	return (uint64_t)(-log(u) * (double)a->think_ns);
}

static void submit(struct replay *rp, int id, enum sim_op op, uint64_t off, uint64_t len,
		   uint64_t t)
{
	struct preq *q = req_get(rp);
	q->r.op = op;
	q->r.off = off;
	q->r.len = len;
	q->r.tag = (uint64_t)id;
	int rc = sim_sched_submit(rp->s, &q->r, t);
	if (rc)
		die("sim_sched_submit", rc);
}

/* Runs actor id at time t until it waits. */
static void step(struct replay *rp, int id, uint64_t t)
{
	struct actor *a = &rp->a[id];
	for (;;) {
		if (a->pc == a->st->n) {
			if (id == A_WRITER && t >= rp->end_ns) {
				a->wait = W_DONE;
				rp->done = 1;
				return;
			}
			a->pc = 0;	/* start over */
			a->loops++;
			if (!a->st->n) {
				a->wait = W_DONE;
				return;
			}
		}
		const struct ev *e = &a->st->ev[a->pc];
		switch (e->kind) {
		case EV_READ:
			submit(rp, id, SIM_OP_READ, e->off, e->len, t);
			a->pc++;
			a->wait = W_IO;
			return;
		case EV_WRITE:
			if (a->outstanding && a->out_bytes + e->len > rp->space) {
				a->wait = W_SPACE;
				return;
			}
			submit(rp, id, SIM_OP_WRITE, e->off, e->len, t);
			a->outstanding++;
			a->out_bytes += e->len;
			a->pc++;
			continue;
		case EV_FLUSH:
			if (a->outstanding) {
				a->wait = W_DRAIN;
				return;
			}
			submit(rp, id, SIM_OP_FLUSH, 0, 0, t);
			a->pc++;
			a->wait = W_IO;
			return;
		case EV_BEGIN:
			a->op_begin = t;
			a->op_bytes = e->len;
			a->op_kind = e->opk;
			a->pc++;
			continue;
		case EV_END:
			if (a->outstanding) {
				a->wait = W_DRAIN;
				return;
			}
			lat_add(&rp->lat[a->op_kind], t - a->op_begin, a->op_bytes);
			a->pc++;
			if (id == A_WRITER && t >= rp->end_ns) {
				a->wait = W_DONE;
				rp->done = 1;
				return;
			}
			a->wait = W_NONE;
			a->wake = t + think(a);
			if (a->wake > t)
				return;
			continue;
		default:
			die("bad trace event", -EINVAL);
		}
	}
}

struct point {
	int ssd;
	uint32_t depth;
	enum sim_policy policy;
	struct sim_bioq_params b;
};

struct result {
	struct point p;
	double secs;
	uint64_t rand_n, scan_n, fsync_n, flush_n;
	double rp50, rp99, rp999, rmax;	/* random 16 KiB reads, ms */
	double sp50, sp99;		/* scan reads */
	double read_mbs, scan_mbs, write_mbs;
	double fsync_p50, fsync_p99, flush_p50, flush_p99, flush_max;
	double write_max_ms;		/* longest a single write waited + ran */
	uint64_t dev_reads, dev_writes, dev_flushes, bytes_read, bytes_written;
	uint64_t jumped, minor_rel, burst_rel, writer_loops;
	double util;			/* device busy fraction */
};

struct think_cfg {
	uint64_t rand_ns, scan_ns, fsync_ns;
};

static void replay(const struct trace *t, const struct point *p, uint64_t run_ns,
		   const struct think_cfg *th, uint64_t seed, struct result *out)
{
	struct sim_lat *model;
	int rc;
	if (p->ssd) {
		struct sim_ssd_params sp;
		sim_ssd_default(&sp);
		rc = sim_lat_ssd(&sp, &model);
	} else {
		struct sim_hdd_params hp;
		sim_hdd_default(&hp);
		rc = sim_lat_hdd(&hp, &model);
	}
	if (rc)
		die("latency model", rc);
	struct sim_sched_params sp;
	sim_sched_default(&sp);
	sp.policy = p->policy;
	sp.depth = p->depth;
	sp.bioq = p->b;
	struct replay *rp = xcalloc(1, sizeof(*rp));
	rc = sim_sched_open(&sp, model, &rp->s);
	if (rc)
		die("sim_sched_open", rc);
	sim_sched_on_done(rp->s, on_done, rp);
	rp->space = p->b.hirunningspace;
	rp->end_ns = run_ns;
	for (int i = 0; i < NACT; i++) {
		rp->a[i].st = &t->s[i];
		rp->a[i].rng = mix(seed * 131 + (uint64_t)i);
	}
	rp->a[A_RAND0].think_ns = rp->a[A_RAND1].think_ns = th->rand_ns;
	rp->a[A_SCAN].think_ns = th->scan_ns;
	rp->a[A_FSYNC].think_ns = th->fsync_ns;
	/* readers start at different moments so they do not move in lock step */
	for (int i = 0; i < NACT; i++)
		rp->a[i].wake = think(&rp->a[i]);
	rp->a[A_WRITER].wake = 0;

	while (!rp->done) {
		uint64_t ta = UINT64_MAX;
		int who = -1;
		for (int i = 0; i < NACT; i++)
			if (rp->a[i].wait == W_NONE && rp->a[i].wake < ta) {
				ta = rp->a[i].wake;
				who = i;
			}
		uint64_t td = sim_sched_next_done(rp->s);
		if (td == UINT64_MAX && who < 0)
			die("replay deadlock", -EDEADLK);
		if (td <= ta) {
			if ((rc = sim_sched_advance(rp->s, td)))
				die("sim_sched_advance", rc);
			continue;
		}
		if (ta > sim_sched_now(rp->s) && (rc = sim_sched_advance(rp->s, ta)))
			die("sim_sched_advance", rc);
		step(rp, who, ta);
	}
	uint64_t end = sim_sched_now(rp->s);
	struct sim_sched_counters c;
	sim_sched_counters(rp->s, &c);
	struct sim_lat_counters lc;
	sim_lat_counters(model, &lc);

	memset(out, 0, sizeof(*out));
	out->p = *p;
	out->secs = (double)end / 1e9;
	for (int k = 0; k < OPKS; k++)
		if (rp->lat[k].n)
			qsort(rp->lat[k].v, rp->lat[k].n, sizeof(uint64_t), cmp_u64);
	struct lat *lr = &rp->lat[OPK_RAND], *ls = &rp->lat[OPK_SCAN];
	struct lat *lf = &rp->lat[OPK_FSYNC], *lfl = &rp->lat[OPK_FLUSH];
	out->rand_n = lr->n;
	out->scan_n = ls->n;
	out->fsync_n = lf->n;
	out->flush_n = lfl->n;
	out->rp50 = pct_ms(lr, 0.50);
	out->rp99 = pct_ms(lr, 0.99);
	out->rp999 = pct_ms(lr, 0.999);
	out->rmax = pct_ms(lr, 1.0);
	out->sp50 = pct_ms(ls, 0.50);
	out->sp99 = pct_ms(ls, 0.99);
	out->read_mbs = (double)(lr->bytes + ls->bytes) / 1e6 / out->secs;
	out->scan_mbs = (double)ls->bytes / 1e6 / out->secs;
	out->fsync_p50 = pct_ms(lf, 0.50);
	out->fsync_p99 = pct_ms(lf, 0.99);
	out->flush_p50 = pct_ms(lfl, 0.50);
	out->flush_p99 = pct_ms(lfl, 0.99);
	out->flush_max = pct_ms(lfl, 1.0);
	out->write_max_ms = (double)c.max_latency_ns[SIM_OP_WRITE] / 1e6;
	out->dev_reads = lc.ops[SIM_OP_READ];
	out->dev_writes = lc.ops[SIM_OP_WRITE];
	out->dev_flushes = lc.ops[SIM_OP_FLUSH];
	out->bytes_read = lc.bytes[SIM_OP_READ];
	out->bytes_written = lc.bytes[SIM_OP_WRITE];
	out->write_mbs = (double)out->bytes_written / 1e6 / out->secs;
	out->jumped = c.reads_jumped;
	out->minor_rel = c.minor_releases;
	out->burst_rel = c.burst_releases;
	out->writer_loops = rp->a[A_WRITER].loops;
	out->util = (double)c.busy_ns / (double)(end ? end : 1);

	for (int k = 0; k < OPKS; k++)
		free(rp->lat[k].v);
	while (rp->free_list) {
		struct preq *q = rp->free_list;
		rp->free_list = q->next_free;
		free(q);
	}
	/* everything still queued or in flight belongs to the run; drain frees nothing */
	sim_sched_drain(rp->s);
	while (rp->free_list) {
		struct preq *q = rp->free_list;
		rp->free_list = q->next_free;
		free(q);
	}
	sim_sched_close(rp->s);
	sim_lat_close(model);
	free(rp);
}

/* ------------------------------------------------------------ output */

static const char *policy_name(const struct point *p)
{
	return p->policy == SIM_SCHED_FIFO ? "fifo" : "bioq";
}

static void csv_header(FILE *f)
{
	fprintf(f, "device,depth,policy,minor_bytes,burst_bytes,minor_interval,burst_interval,"
		   "seconds,rand_reads,read_p50_ms,read_p99_ms,read_p999_ms,read_max_ms,"
		   "scan_reads,scan_p50_ms,scan_p99_ms,read_mbs,scan_mbs,write_mbs,"
		   "fsyncs,fsync_p50_ms,fsync_p99_ms,flushes,flush_p50_ms,flush_p99_ms,"
		   "flush_max_ms,write_max_ms,dev_reads,dev_writes,dev_flushes,bytes_read,"
		   "bytes_written,reads_jumped,minor_releases,burst_releases,writer_loops,util\n");
}

static void csv_row(FILE *f, const struct result *r)
{
	const struct point *p = &r->p;
	fprintf(f,
		"%s,%u,%s,%" PRIu64 ",%" PRIu64 ",%u,%u,%.3f,%" PRIu64 ",%.3f,%.3f,%.3f,%.3f,"
		"%" PRIu64 ",%.3f,%.3f,%.3f,%.3f,%.3f,%" PRIu64 ",%.3f,%.3f,%" PRIu64
		",%.3f,%.3f,%.3f,%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.4f\n",
		p->ssd ? "ssd" : "hdd", p->depth, policy_name(p),
		p->policy == SIM_SCHED_FIFO ? 0 : p->b.minor_bytes,
		p->policy == SIM_SCHED_FIFO ? 0 : p->b.burst_bytes,
		p->policy == SIM_SCHED_FIFO ? 0 : p->b.minor_interval,
		p->policy == SIM_SCHED_FIFO ? 0 : p->b.burst_interval, r->secs, r->rand_n,
		r->rp50, r->rp99, r->rp999, r->rmax, r->scan_n, r->sp50, r->sp99, r->read_mbs,
		r->scan_mbs, r->write_mbs, r->fsync_n, r->fsync_p50, r->fsync_p99, r->flush_n,
		r->flush_p50, r->flush_p99, r->flush_max, r->write_max_ms, r->dev_reads,
		r->dev_writes, r->dev_flushes, r->bytes_read, r->bytes_written, r->jumped,
		r->minor_rel, r->burst_rel, r->writer_loops, r->util);
}

static void print_row(const struct result *r)
{
	const struct point *p = &r->p;
	char pol[64];
	if (p->policy == SIM_SCHED_FIFO)
		snprintf(pol, sizeof(pol), "fifo");
	else
		snprintf(pol, sizeof(pol), "bioq %" PRIu64 "/%" PRIu64 "/%u/%u", p->b.minor_bytes,
			 p->b.burst_bytes, p->b.minor_interval, p->b.burst_interval);
	printf("%s qd%-2u %-28s read p50/p99/p99.9 %7.2f %8.2f %8.2f ms  read %6.2f MB/s"
	       "  write %7.2f MB/s  fsync p99 %8.2f  flush p50/p99 %8.2f %8.2f ms\n",
	       p->ssd ? "ssd" : "hdd", p->depth, pol, r->rp50, r->rp99, r->rp999, r->read_mbs,
	       r->write_mbs, r->fsync_p99, r->flush_p50, r->flush_p99);
}

/* Nonsense checks: never about speed, only about numbers that cannot be. */
static int sane(const struct result *r, const char *id)
{
	int bad = 0;
#define BAD(cond, ...)                                                            \
	do {                                                                      \
		if (cond) {                                                       \
			fprintf(stderr, "bench bioq: %s: ", id);                  \
			fprintf(stderr, __VA_ARGS__);                             \
			fprintf(stderr, "\n");                                    \
			bad = 1;                                                  \
		}                                                                 \
	} while (0)
	BAD(r->secs <= 0, "no virtual time passed");
	BAD(!r->rand_n || !r->scan_n || !r->flush_n || !r->fsync_n,
	    "an actor completed nothing (rand %" PRIu64 " scan %" PRIu64 " flush %" PRIu64
	    " fsync %" PRIu64 ")", r->rand_n, r->scan_n, r->flush_n, r->fsync_n);
	BAD(!(r->rp50 <= r->rp99 && r->rp99 <= r->rp999 && r->rp999 <= r->rmax),
	    "read percentiles out of order");
	BAD(r->rmax <= 0 || r->flush_p50 <= 0, "zero latency");
	BAD(r->flush_p50 > r->flush_p99 || r->fsync_p50 > r->fsync_p99,
	    "flush/fsync percentiles out of order");
	BAD(r->rmax * 1e6 > r->secs * 1e9 * 1.0001, "a read took longer than the run");
	/* media limits: nothing moves faster than the bus or the platter */
	double cap = r->p.ssd ? 500.0 * 1.01 : 300.0;
	BAD(r->write_mbs <= 0 || r->write_mbs > cap, "write MB/s %.2f", r->write_mbs);
	BAD(r->read_mbs <= 0 || r->read_mbs > cap, "read MB/s %.2f", r->read_mbs);
	BAD(r->util < 0 || r->util > 1.0001, "utilisation %.3f", r->util);
	BAD(r->p.policy == SIM_SCHED_FIFO && (r->jumped || r->minor_rel || r->burst_rel),
	    "FIFO reordered");
	BAD(r->p.policy == SIM_SCHED_BIOQ && r->p.b.minor_interval &&
		    r->minor_rel + r->burst_rel != r->jumped / r->p.b.minor_interval,
	    "releases %" PRIu64 " != jumps %" PRIu64 " / minor_interval", r->minor_rel + r->burst_rel,
	    r->jumped);
	return bad;
#undef BAD
}

/* ------------------------------------------------------------ model check */

static double run_pattern(int ssd, uint32_t depth, enum sim_op op, uint64_t len, int random,
			  uint64_t span, uint64_t count, double *avg_ms)
{
	struct sim_lat *model;
	int rc;
	if (ssd) {
		struct sim_ssd_params sp;
		sim_ssd_default(&sp);
		rc = sim_lat_ssd(&sp, &model);
	} else {
		struct sim_hdd_params hp;
		sim_hdd_default(&hp);
		rc = sim_lat_hdd(&hp, &model);
	}
	if (rc)
		die("model", rc);
	struct sim_sched_params spp;
	sim_sched_default(&spp);
	spp.policy = SIM_SCHED_FIFO;
	spp.depth = depth;
	struct sim_sched *s;
	if ((rc = sim_sched_open(&spp, model, &s)))
		die("sched", rc);
	struct sim_req *r = xcalloc(count, sizeof(*r));
	uint64_t rng = 7, off = 0, lat = 0;
	uint64_t next = 0;
	/* closed loop with `depth` requests outstanding */
	for (uint64_t i = 0; i < count; i++) {
		r[i].op = op;
		r[i].len = len;
		if (random)
			off = (mix(rng++) % (span / len)) * len;
		r[i].off = off;
		off += len;
		if (i >= depth) {
			/* wait for request i - depth */
			while ((!r[i - depth].done_ns || r[i - depth].done_ns > sim_sched_now(s)) &&
			       sim_sched_next_done(s) != UINT64_MAX)
				sim_sched_advance(s, sim_sched_next_done(s));
			next = sim_sched_now(s);
		}
		sim_sched_submit(s, &r[i], next);
	}
	sim_sched_drain(s);
	for (uint64_t i = 0; i < count; i++)
		lat += r[i].done_ns - r[i].submit_ns;
	double secs = (double)sim_sched_now(s) / 1e9;
	*avg_ms = (double)lat / (double)count / 1e6;
	free(r);
	sim_sched_close(s);
	sim_lat_close(model);
	return secs;
}

static void model_check(void)
{
	struct sim_hdd_params hp;
	sim_hdd_default(&hp);
	struct sim_lat *h;
	if (sim_lat_hdd(&hp, &h))
		die("hdd", -EINVAL);
	uint64_t cyl = hp.capacity / (hp.track_bytes * hp.heads);
	double full = (double)sim_hdd_seek_ns(h, cyl - 1, 0) / 1e6;
	/* average seek over uniformly random start/end cylinders */
	double sum = 0;
	uint64_t rng = 11;
	for (int i = 0; i < 100000; i++) {
		uint64_t a = mix(rng++) % cyl, b = mix(rng++) % cyl;
		sum += (double)sim_hdd_seek_ns(h, a > b ? a - b : b - a, 0);
	}
	double avg_seek = sum / 100000 / 1e6;
	sim_lat_close(h);
	double ms, secs;
	uint64_t n = 4000;
	printf("model check (virtual time)\n");
	printf("| model | figure | model value |\n| --- | --- | ---: |\n");
	secs = run_pattern(0, 1, SIM_OP_READ, 4096, 1, hp.capacity, n, &ms);
	printf("| hdd | random 4 KiB read, QD1, whole disk (IOPS) | %.0f |\n", (double)n / secs);
	printf("| hdd | random 4 KiB read, QD1, mean latency (ms) | %.2f |\n", ms);
	secs = run_pattern(0, 1, SIM_OP_WRITE, 4096, 1, hp.capacity, n, &ms);
	printf("| hdd | random 4 KiB write, QD1, whole disk (IOPS) | %.0f |\n", (double)n / secs);
	printf("| hdd | average seek, random cylinders (ms) | %.2f |\n", avg_seek);
	printf("| hdd | full-stroke seek (ms) | %.2f |\n", full);
	printf("| hdd | average rotational latency (ms) | %.2f |\n", 30000.0 / hp.rpm);
	secs = run_pattern(0, 1, SIM_OP_READ, MB, 0, hp.capacity, 1000, &ms);
	printf("| hdd | sequential read, 1 MiB requests (MB/s) | %.1f |\n", 1000.0 * MB / 1e6 / secs);
	secs = run_pattern(0, 1, SIM_OP_WRITE, MB, 0, hp.capacity, 1000, &ms);
	printf("| hdd | sequential write, 1 MiB requests (MB/s) | %.1f |\n", 1000.0 * MB / 1e6 / secs);

	uint64_t span = 64ull << 30;
	n = 40000;
	secs = run_pattern(1, 1, SIM_OP_READ, 4096, 1, span, n, &ms);
	printf("| ssd | random 4 KiB read, QD1 (IOPS) | %.0f |\n", (double)n / secs);
	secs = run_pattern(1, 32, SIM_OP_READ, 4096, 1, span, n, &ms);
	printf("| ssd | random 4 KiB read, QD32 (IOPS) | %.0f |\n", (double)n / secs);
	secs = run_pattern(1, 1, SIM_OP_WRITE, 4096, 1, span, n, &ms);
	printf("| ssd | random 4 KiB write, QD1 (IOPS) | %.0f |\n", (double)n / secs);
	secs = run_pattern(1, 32, SIM_OP_WRITE, 4096, 1, span, n, &ms);
	printf("| ssd | random 4 KiB write, QD32 (IOPS) | %.0f |\n", (double)n / secs);
	secs = run_pattern(1, 32, SIM_OP_READ, 128 * KB, 0, span, 8000, &ms);
	printf("| ssd | sequential read, 128 KiB, QD32 (MB/s) | %.1f |\n",
	       8000.0 * 128 * KB / 1e6 / secs);
	secs = run_pattern(1, 32, SIM_OP_WRITE, 128 * KB, 0, span, 8000, &ms);
	printf("| ssd | sequential write, 128 KiB, QD32 (MB/s) | %.1f |\n",
	       8000.0 * 128 * KB / 1e6 / secs);
}

/* ------------------------------------------------------------ main */

static struct point mkpoint(int ssd, uint32_t depth, enum sim_policy pol, uint64_t mb,
			    uint64_t bb, uint32_t mi, uint32_t bi)
{
	struct sim_sched_params sp;
	sim_sched_default(&sp);
	struct point p = { ssd, depth, pol, sp.bioq };
	p.b.minor_bytes = mb;
	p.b.burst_bytes = bb;
	p.b.minor_interval = mi;
	p.b.burst_interval = bi;
	return p;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_bioq [--quick] [--csv PATH] [--model-check] [--seed S]\n"
			"                  [--hdd-seconds N] [--ssd-seconds N] [--point SPEC]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int quick = 0, mcheck = 0;
	const char *csv = NULL, *one = NULL;
	uint64_t seed = 1;
	double hdd_s = 120, ssd_s = 20;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--model-check"))
			mcheck = 1;
		else if (!strcmp(argv[i], "--csv") && i + 1 < argc)
			csv = argv[++i];
		else if (!strcmp(argv[i], "--point") && i + 1 < argc)
			one = argv[++i];
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--hdd-seconds") && i + 1 < argc)
			hdd_s = atof(argv[++i]);
		else if (!strcmp(argv[i], "--ssd-seconds") && i + 1 < argc)
			ssd_s = atof(argv[++i]);
		else
			usage();
	}
	if (mcheck) {
		model_check();
		return 0;
	}
	struct wl w = {
		.dev_bytes = 1280 * MB, .cache_bytes = 32 * MB,
		.rand_file = 256 * MB, .scan_file = 128 * MB,
		.write_bytes = 256 * MB, .cycle_bytes = 16 * MB, .fsync_every = 64,
		.rand_ops = 20000, .scan_ops = 20000, .seed = seed,
	};
	if (quick) {
		w = (struct wl){
			.dev_bytes = 384 * MB, .cache_bytes = 8 * MB,
			.rand_file = 64 * MB, .scan_file = 32 * MB,
			.write_bytes = 32 * MB, .cycle_bytes = 4 * MB, .fsync_every = 32,
			.rand_ops = 1500, .scan_ops = 1500, .seed = seed,
		};
		hdd_s = 5;
		ssd_s = 1;
	}
	struct think_cfg th = { 20 * MSEC, 2 * MSEC, 50 * MSEC };
	struct trace t;
	char desc[512];
	record(&w, &t, desc, sizeof(desc));
	printf("bench bioq: %s\n", desc);
	for (int a = 0; a < NACT; a++)
		printf("  stream %-6s %7zu events %6" PRIu64 " ops  read %8.1f MB  written %8.1f MB\n",
		       actor_name[a], t.s[a].n, t.s[a].ops, (double)t.s[a].rbytes / 1e6,
		       (double)t.s[a].wbytes / 1e6);
	printf("  think: rand %.0f ms, scan %.0f ms, fsync %.0f ms (exponential); "
	       "virtual run: hdd %.0f s, ssd %.0f s; hirunningspace 16 MiB\n",
	       (double)th.rand_ns / 1e6, (double)th.scan_ns / 1e6, (double)th.fsync_ns / 1e6,
	       hdd_s, ssd_s);
	for (int d = 0; d < 2; d++) {
		struct sim_lat *m;
		char buf[512];
		if (d) {
			struct sim_ssd_params sp;
			sim_ssd_default(&sp);
			sim_lat_ssd(&sp, &m);
		} else {
			struct sim_hdd_params hp;
			sim_hdd_default(&hp);
			sim_lat_hdd(&hp, &m);
		}
		sim_lat_describe(m, buf, sizeof(buf));
		printf("  model: %s\n", buf);
		sim_lat_close(m);
	}
	(void)opk_name;

	/* the points */
	struct point *pts = xcalloc(1024, sizeof(*pts));
	size_t np = 0;
	if (one) {
		char dev[8] = "", pol[8] = "";
		unsigned depth = 1, mi = 5, bi = 60;
		unsigned long long mb = 262144, bb = 3000000;
		int k = sscanf(one, "%3[a-z],%u,%4[a-z],%llu,%llu,%u,%u", dev, &depth, pol, &mb, &bb,
			       &mi, &bi);
		if (k < 3 || (strcmp(dev, "hdd") && strcmp(dev, "ssd")) ||
		    (strcmp(pol, "fifo") && strcmp(pol, "bioq")) || !depth)
			usage();
		pts[np++] = mkpoint(!strcmp(dev, "ssd"), depth,
				    strcmp(pol, "fifo") ? SIM_SCHED_BIOQ : SIM_SCHED_FIFO, mb, bb, mi, bi);
	} else if (quick) {
		for (int ssd = 0; ssd < 2; ssd++) {
			pts[np++] = mkpoint(ssd, 1, SIM_SCHED_FIFO, 0, 0, 0, 0);
			pts[np++] = mkpoint(ssd, 1, SIM_SCHED_BIOQ, 262144, 3000000, 5, 60);
			pts[np++] = mkpoint(ssd, 1, SIM_SCHED_BIOQ, 262144, 262144, 30, 60);
		}
		pts[np++] = mkpoint(0, 32, SIM_SCHED_BIOQ, 262144, 3000000, 5, 60);
	} else {
		static const uint32_t mis[] = { 1, 5, 15, 30, 60 };
		static const uint64_t bbs[] = { 262144, 524288, 3000000 };
		static const uint64_t mbs[] = { 65536, 262144, 1048576 };
		static const uint32_t bis[] = { 60, 120 };
		for (int ssd = 0; ssd < 2; ssd++)
			for (int qd = 0; qd < 2; qd++) {
				uint32_t depth = qd ? 32 : 1;
				pts[np++] = mkpoint(ssd, depth, SIM_SCHED_FIFO, 0, 0, 0, 0);
				for (size_t a = 0; a < sizeof(mbs) / sizeof(mbs[0]); a++)
					for (size_t b = 0; b < sizeof(bbs) / sizeof(bbs[0]); b++)
						for (size_t c = 0; c < sizeof(mis) / sizeof(mis[0]); c++)
							for (size_t e = 0; e < sizeof(bis) / sizeof(bis[0]); e++)
								pts[np++] = mkpoint(ssd, depth, SIM_SCHED_BIOQ,
										    mbs[a], bbs[b], mis[c], bis[e]);
			}
	}
	FILE *f = NULL;
	if (csv) {
		f = fopen(csv, "w");
		if (!f)
			die("open csv", -errno);
		csv_header(f);
	}
	int bad = 0;
	for (size_t i = 0; i < np; i++) {
		struct result r;
		uint64_t run = (uint64_t)((pts[i].ssd ? ssd_s : hdd_s) * 1e9);
		replay(&t, &pts[i], run, &th, seed, &r);
		print_row(&r);
		if (f)
			csv_row(f, &r);
		char id[160];
		snprintf(id, sizeof(id), "--seed %" PRIu64 " --point %s,%u,%s,%" PRIu64 ",%" PRIu64
			 ",%u,%u", seed, pts[i].ssd ? "ssd" : "hdd", pts[i].depth, policy_name(&pts[i]),
			 pts[i].b.minor_bytes, pts[i].b.burst_bytes, pts[i].b.minor_interval,
			 pts[i].b.burst_interval);
		bad |= sane(&r, id);
		if (quick && i == 1) {
			/* the same point again must give the same numbers, bit for bit */
			struct result r2;
			replay(&t, &pts[i], run, &th, seed, &r2);
			if (memcmp(&r, &r2, sizeof(r))) {
				fprintf(stderr, "bench bioq: %s: a rerun differs\n", id);
				bad = 1;
			}
		}
	}
	if (f && fclose(f))
		die("close csv", -errno);
	free(pts);
	trace_free(&t);
	if (bad)
		fprintf(stderr, "bench bioq: nonsensical numbers (see above)\n");
	return bad;
}
