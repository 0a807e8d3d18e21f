/*
 * bench/flusher.c - the flusher on the RAM device: records made durable per
 * second, UNDO bytes per record, flush latency p50/p99, for three
 * workloads:
 *
 *   create     N small files (mknod + one write each) spread over D
 *              directories;
 *   append     B bytes appended in S-byte writes to F files, round-robin;
 *   overwrite  N random S-byte overwrites in one preformatted file (its
 *              writes and a sync happen before measuring starts).
 *
 * Each workload gets its own RAM device (newfs, mounted through the public
 * API), stacked under a small counting device (bytes written, barriers).
 * The flusher is driven synchronously: a hammer_flush() (one final cycle,
 * what the background flusher runs) after every G operations, as
 * DragonFly's autoflush closes a flush group; the engine's own flush
 * triggers are kept out of the way (large cache, dirty limit at half of
 * it) and counted when they fire anyway ("auto" cycles).
 *
 * What is measured (one cycle = the operations since the last flush plus
 * the flush):
 *   records    records the cycle made durable: created, delete_tid marked,
 *              removed.  After each flush a scan guided by mirror_tid
 *              (only subtrees whose mirror_tid reaches the cycle's TIDs)
 *              counts leaf elements created or marked with those TIDs;
 *              removals are the B-tree's physical deletes less the ones of
 *              records created in the same cycle (the engine replaces those
 *              physically, so inserts - created = same-cycle deletes).  The
 *              front end inserts directory entries and data records at the
 *              call (docs/DESIGN.md section 8); only INODE records are made
 *              by the flush itself.  So "rec/s fl" (records over the CPU
 *              time inside hammer_flush) is the back end's rate, "rec/s
 *              e2e" (over operations + flushes) the whole pipeline's.
 *   UNDO       payload bytes (old bytes logged) and FIFO bytes (append
 *              point movement: headers, tails, PADs; REDO too if any).
 *              After every flush the cycle's FIFO range is read back from
 *              the device and each UNDO record's target is classified by
 *              the zone owning its big-block (B-tree, freemap, meta-data,
 *              small data, volume header, or freed by the cycle) and as
 *              "fresh" when it lies above its zone's allocation point at
 *              the start of the cycle; the walk's sum must equal the
 *              writer's own counter.
 *   latency    each hammer_flush() call in thread CPU time and wall time
 *              (wall also counts waiting for a CPU on a shared host);
 *              p50/p99 by nearest rank over the cycles.
 * The engine has no public statistics call yet: the B-tree, UNDO and
 * blockmap counters are read through ref/engine.h (snap(), the FIFO walk
 * and the tree scan are the only places).  The RAM device's pages are
 * touched before newfs (--no-prefault: not), or the kernel's page clearing
 * on first write would dominate the flush times.
 *
 * Deterministic: every name, offset and byte comes from a seeded PRNG and
 * the engine runs on a fake clock, so counts and bytes repeat exactly for
 * a seed; only the times vary.  Exit status 1 when a number is nonsensical
 * (no records, no UNDO, UNDO per record beyond any plausible bound,
 * p99 < p50, the FIFO walk or the tree scan disagreeing with the engine's
 * counters, a checker error); never because of a time.
 *
 * Usage: flusher [--quick] [--seed S] [--group G] [--only W[,W...]]
 *   [--creates N] [--dirs D] [--file-size B] [--append-bytes B]
 *   [--append-size S] [--append-files F] [--overwrites N]
 *   [--ow-file-size B] [--ow-size S] [--dev-mb M] [--undo-mb M]
 *   [--cache-mb M] [--nohistory] [--no-check] [--no-prefault] [--csv PATH]
 * Sizes take k/m/g suffixes (powers of 1024).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "ref/engine.h"
#include "ref/fscheck.h"
#include "ref/hammer.h"
#include "ref/inspect.h"
#include "ref/newfs.h"
#include "ref/undo.h"

#ifndef HAMMER_BUILDTYPE
#define HAMMER_BUILDTYPE "unknown"
#endif

/* ------------------------------------------------------------ helpers */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: unaffected by other processes on a shared host. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Page faults of this process so far (minor + major). */
static uint64_t faults(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
}

static uint64_t rng_state;
static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void die(const char *what, int rc, const struct hammer_err *e)
{
	fprintf(stderr, "bench flusher: %s: %d (%s)%s%s\n", what, rc,
		strerror(rc < 0 ? -rc : rc), e && e->msg[0] ? ": " : "",
		e && e->msg[0] ? e->msg : "");
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("malloc", -ENOMEM, NULL);
	return p;
}

/* Fake engine clock: deterministic timestamps, 1 ms per call. */
static uint64_t fake_now;
static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now += 1000;
}

/* ------------------------------------------------- the counting device */

struct cdev {
	struct hammer_bdev *inner;
	uint64_t wbytes, writes, flushes;
};

static int cdev_read(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len)
{
	struct cdev *c = bd->ctx;
	return hammer_bdev_read(c->inner, off, buf, len);
}

static int cdev_write(struct hammer_bdev *bd, uint64_t off, const void *buf, size_t len)
{
	struct cdev *c = bd->ctx;
	c->wbytes += len;
	c->writes++;
	return hammer_bdev_write(c->inner, off, buf, len);
}

static int cdev_flush(struct hammer_bdev *bd)
{
	struct cdev *c = bd->ctx;
	c->flushes++;
	return hammer_bdev_flush(c->inner);
}

static void cdev_close(struct hammer_bdev *bd)
{
	struct cdev *c = bd->ctx;
	hammer_bdev_close(c->inner);
	free(c);
	free(bd);
}

static const struct hammer_bdev_ops cdev_ops = {
	HAMMER_BDEV_VERSION, cdev_read, cdev_write, cdev_flush, cdev_close, NULL,
};

static struct hammer_bdev *cdev_wrap(struct hammer_bdev *inner, struct cdev **cp)
{
	struct hammer_bdev *bd = calloc(1, sizeof(*bd));
	struct cdev *c = calloc(1, sizeof(*c));
	if (!bd || !c)
		die("calloc", -ENOMEM, NULL);
	c->inner = inner;
	bd->ops = &cdev_ops;
	bd->ctx = c;
	bd->size = inner->size;
	bd->sector_size = inner->sector_size;
	snprintf(bd->name, sizeof(bd->name), "count(%.200s)", inner->name);
	*cp = c;
	return bd;
}

/* ------------------------------------------------------------ options */

struct opts {
	int quick;
	uint64_t seed;
	uint64_t group;			/* operations per flush cycle */
	unsigned only;			/* bit per workload; 0 = all */
	uint64_t creates, dirs, file_size;
	uint64_t append_bytes, append_size, append_files;
	uint64_t overwrites, ow_file_size, ow_size;
	uint64_t dev_bytes;		/* 0: sized per workload */
	uint64_t undo_bytes;		/* 0: newfs default rule */
	uint64_t cache_bytes;
	int nohistory;
	int check;
	int prefault;			/* touch every device page before newfs */
	const char *csv;		/* per-cycle lines, if set */
};

enum { W_CREATE, W_APPEND, W_OVERWRITE, W_COUNT };
static const char *const wl_name[W_COUNT] = { "create", "append", "overwrite" };

/* ------------------------------------------------------------ results */

/* UNDO target classes, by the zone owning the target's big-block. */
enum { U_BTREE, U_FREEMAP, U_META, U_SMALL, U_HEADER, U_FREED, U_OTHER, U_COUNT };

struct result {
	int ran;
	uint64_t ops, cycles, auto_cycles;
	uint64_t inserts, deletes, marks;	/* B-tree operations */
	uint64_t created, marked, removed;	/* durable record changes */
	uint64_t bad_cycles;		/* scan and counters disagree */
	uint64_t new_nodes;		/* B-tree splits: nodes allocated */
	double op_s, flush_s, setup_s, check_s;	/* wall */
	double op_cpu, flush_cpu;		/* thread CPU */
	uint64_t flush_faults;			/* page faults inside hammer_flush */
	uint64_t undo_payload, undo_records, redo_records, pads;
	uint64_t fifo_bytes;		/* append point movement */
	uint64_t walk_payload;		/* UNDO payload seen by the FIFO walk */
	uint64_t ucls[U_COUNT];		/* payload bytes per class */
	uint64_t ufresh;		/* payload for space first handed out in the cycle */
	uint64_t nodes_logged;		/* distinct B-tree nodes UNDO'd, summed over cycles */
	uint64_t nodes_internal;	/* ... of which internal nodes */
	uint64_t dev_wbytes, dev_writes, dev_flushes;
	double *lat, *clat;		/* ms per flush: wall, CPU */
	size_t nlat, cap;
	double p50, p99, pmax, cp50, cp99, cpmax;
	uint64_t max_rec_cycle;
	size_t check_errors;
};

/* Records the cycles made durable: created, delete_tid set, removed. */
static uint64_t records(const struct result *r)
{
	return r->created + r->marked + r->removed;
}

/* --------------------------------------------------------- the bench */

struct snap {
	struct hammer_btree_stats bt;
	struct hammer_undo_stats us;
	hammer_off_t P;
	hammer_tid_t flush_tid;
	hammer_off_t next[HAMMER_MAX_ZONES];	/* allocation points, zone bits cleared */
	uint64_t cycles;
	uint64_t wbytes, writes, flushes;
};

/* Set of 64-bit keys (per-cycle distinct nodes, big-block classes). */
struct kset {
	uint64_t *k;
	int *v;
	size_t cap, n;
};

static void kset_clear(struct kset *s)
{
	if (s->k)
		memset(s->k, 0xff, s->cap * sizeof(*s->k));
	s->n = 0;
}

/* Returns the value slot for key (inserting it with *v = -1 when new). */
static int *kset_get(struct kset *s, uint64_t key, int *isnew)
{
	if (!s->k || 2 * (s->n + 1) > s->cap) {
		size_t ocap = s->cap;
		uint64_t *ok = s->k;
		int *ov = s->v;
		s->cap = ocap ? 2 * ocap : 1024;
		s->k = xmalloc(s->cap * sizeof(*s->k));
		s->v = xmalloc(s->cap * sizeof(*s->v));
		memset(s->k, 0xff, s->cap * sizeof(*s->k));
		s->n = 0;
		for (size_t i = 0; i < ocap; i++)
			if (ok[i] != UINT64_MAX) {
				int dummy;
				*kset_get(s, ok[i], &dummy) = ov[i];
			}
		free(ok);
		free(ov);
	}
	size_t i = (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 20) & (s->cap - 1);
	while (s->k[i] != UINT64_MAX && s->k[i] != key)
		i = (i + 1) & (s->cap - 1);
	*isnew = s->k[i] == UINT64_MAX;
	if (*isnew) {
		s->k[i] = key;
		s->v[i] = -1;
		s->n++;
	}
	return &s->v[i];
}

struct bench {
	const struct opts *o;
	struct hammer_mount *m;
	struct cdev *cd;
	struct hammer_fifo_geom g;
	struct hammer_rdcache rdc;
	struct kset nodes;		/* B-tree nodes UNDO'd this cycle */
	struct kset bbz;		/* big-block -> owning zone, this cycle */
	struct snap last;		/* at the end of the previous cycle */
	struct result *r;
	double t_ops, c_ops;		/* start of the current group's operations */
	uint64_t in_group;
	uint8_t *buf;			/* write payload */
	size_t bufsz;
	FILE *csv;
	const char *wname;
};

static void snap(struct bench *b, struct snap *s)
{
	/* engine internals: counters with no public call yet */
	s->bt = b->m->tree.stats;
	hammer_undo_stats(b->m->undo, &s->us);
	s->P = hammer_undo_append_point(b->m->undo);
	struct hammer_mount_info mi;
	hammer_mount_info(b->m, &mi);
	s->cycles = mi.flush_cycles;
	s->flush_tid = mi.flush_tid;
	static const unsigned zones[] = { HAMMER_ZONE_BTREE_INDEX, HAMMER_ZONE_META_INDEX,
					  HAMMER_ZONE_SMALL_DATA_INDEX };
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		struct hammer_blockmap be;
		hammer_blockmap_get_entry(b->m->bm, zones[i], &be);
		s->next[zones[i]] = be.next_offset & ~HAMMER_OFF_ZONE_MASK;
	}
	s->wbytes = b->cd->wbytes;
	s->writes = b->cd->writes;
	s->flushes = b->cd->flushes;
}

static int zone_class(unsigned zone)
{
	switch (zone) {
	case HAMMER_ZONE_BTREE_INDEX:
		return U_BTREE;
	case HAMMER_ZONE_FREEMAP_INDEX:
		return U_FREEMAP;
	case HAMMER_ZONE_META_INDEX:
		return U_META;
	case HAMMER_ZONE_SMALL_DATA_INDEX:
		return U_SMALL;
	default:
		return U_OTHER;
	}
}

/* Class of an UNDO target (zone 1: header; zone 2: by the big-block owner). */
static int undo_class(struct bench *b, hammer_off_t target)
{
	if (hammer_zone_of(target) == HAMMER_ZONE_RAW_VOLUME_INDEX)
		return U_HEADER;
	int isnew;
	int *v = kset_get(&b->bbz, target & ~HAMMER_BIGBLOCK_MASK64, &isnew);
	if (isnew) {
		struct hammer_blockmap_layer1 l1;
		struct hammer_blockmap_layer2 l2;
		hammer_off_t res;
		struct hammer_err e = { 0 };
		int lr = hammer_inspect_lookup(b->m->vs, &b->rdc, target, &l1, &l2,
					       &res, &e);
		*v = lr != HAMMER_LOOKUP_OK ? U_OTHER :
		     l2.zone == HAMMER_ZONE_FREE_INDEX ? U_FREED : zone_class(l2.zone);
	}
	return *v;
}

/* 1 if the B-tree node at zone-2 address z2 is an internal node now. */
static int node_is_internal(struct bench *b, hammer_off_t z2)
{
	const struct hammer_node_io *io = &b->m->io;
	struct hammer_node *n;
	struct hammer_err e = { 0 };
	if (io->ops->get(io->ctx, hammer_xlate_zone(z2, HAMMER_ZONE_BTREE_INDEX), &n,
			 NULL, &e))
		return 0;	/* freed in the cycle: not worth a failure */
	int internal = n->ondisk->type == HAMMER_BTREE_TYPE_INTERNAL;
	io->ops->put(io->ctx, n);
	return internal;
}

/*
 * Read back the FIFO records of the cycle, [from, to), from the device
 * (the flush has just written them) and account each one.
 */
static void walk_fifo(struct bench *b, hammer_off_t from, hammer_off_t to)
{
	struct result *r = b->r;
	uint8_t sec[HAMMER_UNDO_ALIGN];
	hammer_off_t s = from;
	unsigned version = b->m->version;
	kset_clear(&b->nodes);
	kset_clear(&b->bbz);
	hammer_rdcache_init(&b->rdc);
	while (s != to) {
		if (s == b->g.alloc) {
			s = b->g.base;
			continue;
		}
		struct hammer_err e = { 0 };
		uint32_t avail = HAMMER_UNDO_ALIGN - (uint32_t)(s % HAMMER_UNDO_ALIGN);
		int rc = hammer_inspect_read(b->m->vs, &b->rdc, s, sec, avail, &e);
		if (rc)
			die("FIFO read", rc, &e);
		struct hammer_fifo_rec fr;
		rc = hammer_fifo_rec_check(version, s, sec, avail, &fr, &e);
		if (rc)
			die("FIFO walk: bad record", rc, &e);
		switch (fr.head.hdr_type) {
		case HAMMER_HEAD_TYPE_UNDO: {
			hammer_off_t t = fr.u.undo.undo_offset;
			uint64_t n = (uint64_t)fr.u.undo.undo_data_bytes;
			int c = undo_class(b, t);
			r->ucls[c] += n;
			/* above its zone's allocation point when the cycle began:
			 * bytes no durable record used (a new node, fresh data) */
			static const unsigned czone[U_COUNT] = {
				[U_BTREE] = HAMMER_ZONE_BTREE_INDEX,
				[U_META] = HAMMER_ZONE_META_INDEX,
				[U_SMALL] = HAMMER_ZONE_SMALL_DATA_INDEX,
			};
			if (czone[c] && (t & ~HAMMER_OFF_ZONE_MASK) >= b->last.next[czone[c]])
				r->ufresh += n;
			r->walk_payload += n;
			if (c == U_BTREE) {
				int isnew;
				hammer_off_t node = t & ~(hammer_off_t)(HAMMER_BTREE_NODE_SIZE - 1);
				kset_get(&b->nodes, node, &isnew);
				if (isnew)
					r->nodes_internal += node_is_internal(b, node);
			}
			break;
		}
		case HAMMER_HEAD_TYPE_REDO:
		case HAMMER_HEAD_TYPE_PAD:
			break;
		default:
			fprintf(stderr, "bench flusher: FIFO walk: record type %#x at %016llx\n",
				fr.head.hdr_type, (unsigned long long)s);
			exit(1);
		}
		s += fr.head.hdr_size;
	}
	r->nodes_logged += b->nodes.n;
}

/*
 * Count leaf elements created or delete-marked with a TID in [lo, hi],
 * descending only into subtrees whose mirror_tid reaches lo (every insert
 * and mark raises the mirror_tid of the path above it).
 */
static void scan_changed(struct bench *b, hammer_off_t off, hammer_tid_t lo,
			 hammer_tid_t hi, uint64_t *created, uint64_t *marked)
{
	const struct hammer_node_io *io = &b->m->io;
	struct hammer_node *n;
	struct hammer_err e = { 0 };
	int rc = io->ops->get(io->ctx, off, &n, NULL, &e);
	if (rc)
		die("B-tree scan", rc, &e);
	const struct hammer_node_ondisk *nd = n->ondisk;
	for (int i = 0; i < nd->count; i++) {
		if (nd->type == HAMMER_BTREE_TYPE_INTERNAL) {
			const struct hammer_btree_internal_elm *ie = &nd->elms[i].internal;
			if (ie->mirror_tid >= lo)
				scan_changed(b, ie->subtree_offset, lo, hi, created, marked);
		} else {
			const struct hammer_base_elm *be = &nd->elms[i].leaf.base;
			*created += be->create_tid >= lo && be->create_tid <= hi;
			*marked += be->delete_tid >= lo && be->delete_tid <= hi;
		}
	}
	io->ops->put(io->ctx, n);
}

static uint64_t fifo_dist(const struct bench *b, hammer_off_t from, hammer_off_t to)
{
	return to >= from ? to - from : (b->g.alloc - from) + (to - b->g.base);
}

/*
 * Account the group of operations the flush just closed (engine cycles it
 * started by itself included); flush_s, flush_cpu, nfaults: of the flush.
 */
static void end_cycle(struct bench *b, double flush_s, double flush_cpu,
		      uint64_t nfaults)
{
	struct result *r = b->r;
	struct snap s;
	snap(b, &s);
	const struct snap *l = &b->last;
	uint64_t ins = s.bt.inserts - l->bt.inserts;
	uint64_t del = s.bt.deletes - l->bt.deletes;
	uint64_t mk = s.bt.marks - l->bt.marks;
	r->inserts += ins;
	r->deletes += del;
	r->marks += mk;
	/*
	 * A record replaced in the cycle that created it is removed
	 * physically (never marked), so inserts - created records are
	 * same-cycle removals and the other removals hit older records.
	 */
	uint64_t cr = 0, mr = 0;
	if (s.flush_tid > l->flush_tid)
		scan_changed(b, b->m->tree.root, l->flush_tid + 1, s.flush_tid, &cr, &mr);
	r->created += cr;
	r->marked += mr;
	if (cr > ins || ins - cr > del || mr != mk)
		r->bad_cycles++;
	else
		r->removed += del - (ins - cr);
	uint64_t nrec = cr + mr + (cr <= ins && ins - cr <= del ? del - (ins - cr) : 0);
	if (nrec > r->max_rec_cycle)
		r->max_rec_cycle = nrec;
	r->new_nodes += (s.bt.leaf_splits - l->bt.leaf_splits) +
			(s.bt.internal_splits - l->bt.internal_splits) +
			(s.bt.root_splits - l->bt.root_splits);
	r->undo_payload += s.us.undo_bytes - l->us.undo_bytes;
	r->undo_records += s.us.undo_records - l->us.undo_records;
	r->redo_records += s.us.redo_records - l->us.redo_records;
	r->pads += s.us.pad_records - l->us.pad_records;
	r->fifo_bytes += fifo_dist(b, l->P, s.P);
	r->dev_wbytes += s.wbytes - l->wbytes;
	r->dev_writes += s.writes - l->writes;
	r->dev_flushes += s.flushes - l->flushes;
	r->cycles += s.cycles - l->cycles;
	uint64_t payload0 = r->walk_payload;
	walk_fifo(b, l->P, s.P);
	if (b->csv)
		fprintf(b->csv, "%s,%zu,%.4f,%.4f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", b->wname, r->nlat,
			flush_s * 1e3, flush_cpu * 1e3, nfaults,
			nrec, s.us.undo_bytes - l->us.undo_bytes, fifo_dist(b, l->P, s.P),
			s.wbytes - l->wbytes, (uint64_t)b->nodes.n, r->walk_payload - payload0);
	if (r->nlat == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		r->lat = realloc(r->lat, r->cap * sizeof(*r->lat));
		r->clat = realloc(r->clat, r->cap * sizeof(*r->clat));
		if (!r->lat || !r->clat)
			die("realloc", -ENOMEM, NULL);
	}
	r->clat[r->nlat] = flush_cpu * 1e3;
	r->lat[r->nlat++] = flush_s * 1e3;
	r->flush_s += flush_s;
	r->flush_cpu += flush_cpu;
	r->flush_faults += nfaults;
	b->last = s;
}

/* One operation done: close the group with a flush every o->group ops. */
static void op_done(struct bench *b)
{
	b->r->ops++;
	if (++b->in_group < b->o->group)
		return;
	uint64_t f1 = faults();
	double t1 = now_s(), c1 = cpu_s();
	b->r->op_s += t1 - b->t_ops;
	b->r->op_cpu += c1 - b->c_ops;
	struct hammer_mount_info mi;
	hammer_mount_info(b->m, &mi);
	b->r->auto_cycles += mi.flush_cycles - b->last.cycles;
	int rc = hammer_flush(b->m);
	double t2 = now_s(), c2 = cpu_s();
	uint64_t f2 = faults();
	if (rc)
		die("hammer_flush", rc, hammer_mount_error(b->m));
	end_cycle(b, t2 - t1, c2 - c1, f2 - f1);
	b->in_group = 0;
	b->t_ops = now_s();
	b->c_ops = cpu_s();
}

/* Close a partial last group. */
static void finish_ops(struct bench *b)
{
	if (b->in_group) {
		b->in_group = b->o->group - 1;
		b->r->ops--;
		op_done(b);
	}
}

static void begin_measuring(struct bench *b)
{
	snap(b, &b->last);
	b->in_group = 0;
	b->t_ops = now_s();
	b->c_ops = cpu_s();
}

static void fill_payload(struct bench *b, uint64_t opno)
{
	/* a fresh stamp per operation; the rest stays as first filled */
	uint64_t v = rng() ^ opno;
	memcpy(b->buf, &v, b->bufsz < 8 ? b->bufsz : 8);
}

/* --------------------------------------------------------- device */

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static uint64_t dev_size_for(const struct opts *o, int w)
{
	if (o->dev_bytes)
		return o->dev_bytes;
	uint64_t est = 0;
	switch (w) {
	case W_CREATE:
		/* dirent + inode + data, a B-tree element each, generously */
		est = o->creates * (round_up(o->file_size, 16) + 1024);
		break;
	case W_APPEND:
		/* blocks closed mid-way are copied once per cycle they span */
		est = o->append_bytes + o->append_bytes / 4;
		break;
	case W_OVERWRITE:
		/* every overwrite is a new block (64 KB past 1 MB), history kept */
		est = o->ow_file_size + o->overwrites * 65536;
		break;
	}
	uint64_t undo = o->undo_bytes ? o->undo_bytes : 1024ULL << 20;
	uint64_t sz = round_up(est + est / 4 + undo + (256ULL << 20), 64ULL << 20);
	return sz < (256ULL << 20) ? 256ULL << 20 : sz;
}

static void mount_fresh(struct bench *b, int w, uint64_t *devsz)
{
	const struct opts *o = b->o;
	struct hammer_bdev *ram;
	struct hammer_err e = { 0 };
	*devsz = dev_size_for(o, w);
	int rc = hammer_bdev_ram_open(*devsz, "flusher", &ram);
	if (rc)
		die("RAM device", rc, NULL);
	if (o->prefault) {
		/*
		 * The RAM device is lazily zero-filled memory: without this the
		 * first write to each page pays a page fault and the kernel's
		 * page clearing, which would dominate the flush times.
		 */
		uint8_t *p = hammer_bdev_ram_data(ram);
		for (uint64_t off = 0; off < *devsz; off += 4096)
			p[off] = 0;
	}
	struct hammer_newfs_opts no;
	hammer_newfs_opts_init(&no);
	no.label = "FLUSHER";
	no.force = 1;
	if (o->undo_bytes)
		no.undo_size = (int64_t)o->undo_bytes;
	memset(&no.fsid, 0x46, sizeof(no.fsid));
	no.ctime_us = 1795306471000000ULL;
	struct hammer_newfs_result res;
	rc = hammer_newfs_format(&ram, 1, &no, &res, &e);
	if (rc)
		die("newfs", rc, &e);
	struct hammer_bdev *bd = cdev_wrap(ram, &b->cd);
	struct hammer_mount_opts mo;
	hammer_mount_opts_init(&mo);
	mo.cache_bytes = o->cache_bytes;
	mo.dirty_limit = o->cache_bytes / 2;
	mo.nohistory = o->nohistory;
	mo.clock = fake_clock;
	fake_now = 1795306471000000ULL;
	rc = hammer_mount_bdevs(&bd, 1, &mo, &b->m, &e);
	if (rc)
		die("mount", rc, &e);
	rc = hammer_fifo_geom_get(b->m->vs, &b->g, &e);
	if (rc)
		die("FIFO geometry", rc, &e);
}

static void check_and_unmount(struct bench *b)
{
	struct result *r = b->r;
	if (b->o->check) {
		double t0 = now_s();
		struct hammer_fscheck_report rep;
		struct hammer_err e = { 0 };
		int rc = hammer_check(b->m, 0, &rep, &e);
		if (rc)
			die("hammer_check", rc, &e);
		r->check_errors = rep.errors;
		for (size_t i = 0; i < rep.count && i < 10; i++)
			fprintf(stderr, "bench flusher: check: %s %s\n",
				hammer_fscheck_code_name(rep.findings[i].code),
				rep.findings[i].msg);
		hammer_fscheck_report_free(&rep);
		r->check_s = now_s() - t0;
	}
	int rc = hammer_unmount(b->m);
	b->m = NULL;
	if (rc)
		die("unmount", rc, NULL);
}

/* --------------------------------------------------------- workloads */

#define L(s) (s), strlen(s)

static void wl_create(struct bench *b)
{
	const struct opts *o = b->o;
	struct hammer_attr a;
	hammer_ino_t *dirs = xmalloc(o->dirs * sizeof(*dirs));
	char name[64];
	double t0 = now_s();
	for (uint64_t d = 0; d < o->dirs; d++) {
		snprintf(name, sizeof(name), "d%03" PRIu64, d);
		int rc = hammer_mkdir(b->m, HAMMER_ROOT_INO, L(name), 040755, 0, 0, &a);
		if (rc)
			die("mkdir", rc, hammer_mount_error(b->m));
		dirs[d] = a.ino;
	}
	int rc = hammer_sync(b->m);
	if (rc)
		die("sync", rc, hammer_mount_error(b->m));
	b->r->setup_s = now_s() - t0;
	begin_measuring(b);
	for (uint64_t i = 0; i < o->creates; i++) {
		hammer_ino_t dir = dirs[rng() % o->dirs];
		snprintf(name, sizeof(name), "f%08" PRIx64 "-%04" PRIx64, i,
			 rng() & 0xffff);
		rc = hammer_mknod(b->m, dir, L(name), 0100644, 0, 0, 0, &a);
		if (rc)
			die("mknod", rc, hammer_mount_error(b->m));
		if (o->file_size) {
			fill_payload(b, i);
			ssize_t n = hammer_write(b->m, a.ino, 0, b->buf, o->file_size);
			if (n != (ssize_t)o->file_size)
				die("write", (int)n, hammer_mount_error(b->m));
		}
		op_done(b);
	}
	finish_ops(b);
	free(dirs);
}

static void wl_append(struct bench *b)
{
	const struct opts *o = b->o;
	struct hammer_attr a;
	hammer_ino_t *ino = xmalloc(o->append_files * sizeof(*ino));
	uint64_t *size = calloc(o->append_files, sizeof(*size));
	if (!size)
		die("calloc", -ENOMEM, NULL);
	char name[64];
	double t0 = now_s();
	for (uint64_t f = 0; f < o->append_files; f++) {
		snprintf(name, sizeof(name), "log%03" PRIu64, f);
		int rc = hammer_mknod(b->m, HAMMER_ROOT_INO, L(name), 0100644, 0, 0, 0, &a);
		if (rc)
			die("mknod", rc, hammer_mount_error(b->m));
		ino[f] = a.ino;
	}
	int rc = hammer_sync(b->m);
	if (rc)
		die("sync", rc, hammer_mount_error(b->m));
	b->r->setup_s = now_s() - t0;
	begin_measuring(b);
	uint64_t nops = o->append_bytes / o->append_size;
	for (uint64_t i = 0; i < nops; i++) {
		uint64_t f = i % o->append_files;
		fill_payload(b, i);
		ssize_t n = hammer_write(b->m, ino[f], size[f], b->buf, o->append_size);
		if (n != (ssize_t)o->append_size)
			die("append", (int)n, hammer_mount_error(b->m));
		size[f] += o->append_size;
		op_done(b);
	}
	finish_ops(b);
	free(ino);
	free(size);
}

static void wl_overwrite(struct bench *b)
{
	const struct opts *o = b->o;
	struct hammer_attr a;
	int rc = hammer_mknod(b->m, HAMMER_ROOT_INO, L("big"), 0100644, 0, 0, 0, &a);
	if (rc)
		die("mknod", rc, hammer_mount_error(b->m));
	hammer_ino_t ino = a.ino;
	/* preformat: sequential 64 KB writes, flushed every 32 MB, then a sync */
	double t0 = now_s();
	size_t chunk = 65536;
	uint8_t *pre = xmalloc(chunk);
	for (size_t i = 0; i < chunk; i++)
		pre[i] = (uint8_t)rng();
	for (uint64_t off = 0; off < o->ow_file_size; off += chunk) {
		size_t n = o->ow_file_size - off < chunk ? (size_t)(o->ow_file_size - off) : chunk;
		ssize_t w = hammer_write(b->m, ino, off, pre, n);
		if (w != (ssize_t)n)
			die("preformat write", (int)w, hammer_mount_error(b->m));
		if ((off / chunk) % 512 == 511 && (rc = hammer_flush(b->m)))
			die("preformat flush", rc, hammer_mount_error(b->m));
	}
	free(pre);
	if ((rc = hammer_sync(b->m)))
		die("sync", rc, hammer_mount_error(b->m));
	b->r->setup_s = now_s() - t0;
	begin_measuring(b);
	uint64_t slots = o->ow_file_size / o->ow_size;
	for (uint64_t i = 0; i < o->overwrites; i++) {
		uint64_t off = (rng() % slots) * o->ow_size;
		fill_payload(b, i);
		ssize_t n = hammer_write(b->m, ino, off, b->buf, o->ow_size);
		if (n != (ssize_t)o->ow_size)
			die("overwrite", (int)n, hammer_mount_error(b->m));
		op_done(b);
	}
	finish_ops(b);
}

/* --------------------------------------------------------- statistics */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank. */
static double pct(const double *v, size_t n, double q)
{
	if (!n)
		return 0;
	size_t k = (size_t)(q * (double)n);
	if ((double)k < q * (double)n)
		k++;
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static void finish_stats(struct result *r)
{
	qsort(r->lat, r->nlat, sizeof(*r->lat), cmp_double);
	r->p50 = pct(r->lat, r->nlat, 0.50);
	r->p99 = pct(r->lat, r->nlat, 0.99);
	r->pmax = r->nlat ? r->lat[r->nlat - 1] : 0;
	qsort(r->clat, r->nlat, sizeof(*r->clat), cmp_double);
	r->cp50 = pct(r->clat, r->nlat, 0.50);
	r->cp99 = pct(r->clat, r->nlat, 0.99);
	r->cpmax = r->nlat ? r->clat[r->nlat - 1] : 0;
}

/* Nonsense detector: returns the number of complaints printed. */
static int sanity(const char *w, const struct result *r)
{
	int bad = 0;
#define BAD(cond, ...) do { if (cond) { fprintf(stderr, "bench flusher: %s: ", w); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); bad++; } } while (0)
	uint64_t rec = records(r);
	BAD(r->ops == 0, "no operations ran");
	BAD(r->nlat == 0 || r->cycles < r->nlat, "cycles %" PRIu64 " < flushes %zu",
	    r->cycles, r->nlat);
	BAD(rec == 0, "zero records flushed");
	BAD(r->inserts == 0, "zero B-tree inserts");
	BAD(r->bad_cycles, "%" PRIu64 " cycles where the tree scan and the B-tree counters "
	    "disagree", r->bad_cycles);
	BAD(r->undo_payload == 0, "zero UNDO bytes");
	/* a record touches a leaf, maybe a parent, freemap and data sectors:
	 * even counting splits, tens of KB of UNDO per record is nonsense */
	BAD(rec && r->undo_payload / rec > 32768,
	    "UNDO bytes per record %" PRIu64 " is absurd", r->undo_payload / rec);
	BAD(r->fifo_bytes < r->undo_payload + r->undo_records * HAMMER_UNDO_TAIL_OVERHEAD,
	    "FIFO moved %" PRIu64 " bytes, less than its %" PRIu64 " UNDO records hold",
	    r->fifo_bytes, r->undo_payload + r->undo_records * HAMMER_UNDO_TAIL_OVERHEAD);
	BAD(r->walk_payload != r->undo_payload,
	    "FIFO walk saw %" PRIu64 " UNDO payload bytes, the writer counted %" PRIu64,
	    r->walk_payload, r->undo_payload);
	BAD(r->ucls[U_OTHER] != 0, "%" PRIu64 " UNDO bytes aimed at no known zone",
	    r->ucls[U_OTHER]);
	BAD(!(r->p50 > 0), "flush p50 is not positive");
	BAD(r->p99 < r->p50, "flush p99 %.3f ms < p50 %.3f ms", r->p99, r->p50);
	BAD(r->pmax < r->p99, "flush max < p99");
	BAD(r->cp99 < r->cp50, "flush CPU p99 %.3f ms < p50 %.3f ms", r->cp99, r->cp50);
	BAD(r->dev_flushes < r->nlat, "fewer barriers (%" PRIu64 ") than flushes (%zu)",
	    r->dev_flushes, r->nlat);
	BAD(r->dev_wbytes == 0, "nothing written to the device");
	BAD(r->check_errors != 0, "checker found %zu errors", r->check_errors);
#undef BAD
	return bad;
}

/* --------------------------------------------------------- reporting */

static void print_machine(const struct opts *o)
{
	struct utsname u;
	char model[128] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[256];
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "model name", 10)) {
				char *p = strchr(line, ':');
				if (p) {
					p += strspn(p + 1, " ") + 1;
					p[strcspn(p, "\n")] = 0;
					snprintf(model, sizeof(model), "%s", p);
				}
				break;
			}
		fclose(f);
	}
	if (uname(&u))
		memset(&u, 0, sizeof(u));
	printf("# flusher benchmark: RAM device, flusher driven synchronously\n");
	printf("# host: %s %s %s; cpu: %s x %ld; build: %s%s\n", u.sysname,
	       u.release, u.machine, model, sysconf(_SC_NPROCESSORS_ONLN),
	       HAMMER_BUILDTYPE,
#ifdef NDEBUG
	       " (NDEBUG)"
#else
	       " (asserts on)"
#endif
	       );
	printf("# seed %" PRIu64 "; flush every %" PRIu64 " ops; cache %" PRIu64
	       " MB (dirty limit half); history %s; device pages %s%s\n",
	       o->seed, o->group, o->cache_bytes >> 20, o->nohistory ? "off" : "kept",
	       o->prefault ? "prefaulted" : "faulted on first write",
	       o->quick ? "; --quick" : "");
}

static void print_workload_line(int w, const struct opts *o, uint64_t devsz,
				const struct bench *b)
{
	switch (w) {
	case W_CREATE:
		printf("# create: %" PRIu64 " files of %" PRIu64 " B in %" PRIu64 " dirs",
		       o->creates, o->file_size, o->dirs);
		break;
	case W_APPEND:
		printf("# append: %" PRIu64 " MB in %" PRIu64 " B writes to %" PRIu64 " files",
		       o->append_bytes >> 20, o->append_size, o->append_files);
		break;
	case W_OVERWRITE:
		printf("# overwrite: %" PRIu64 " x %" PRIu64 " B random in a %" PRIu64 " MB file",
		       o->overwrites, o->ow_size, o->ow_file_size >> 20);
		break;
	}
	printf("; device %" PRIu64 " MB, FIFO %" PRIu64 " MB\n", devsz >> 20,
	       b->g.size >> 20);
}

static void print_tables(const struct result *res)
{
	printf("\n%-9s %7s %6s %4s %7s %9s %9s %8s %8s %13s %13s %13s\n",
	       "workload", "ops", "cycles", "auto", "rec/cyc", "rec/s fl", "rec/s e2e",
	       "UNDO B/r", "FIFO B/r", "p50 ms", "p99 ms", "max ms");
	printf("%-9s %7s %6s %4s %7s %9s %9s %8s %8s %13s %13s %13s\n",
	       "", "", "", "", "", "(cpu)", "(cpu)", "", "", "cpu / wall", "cpu / wall",
	       "cpu / wall");
	for (int w = 0; w < W_COUNT; w++) {
		const struct result *r = &res[w];
		if (!r->ran)
			continue;
		double rec = (double)records(r);
		printf("%-9s %7" PRIu64 " %6" PRIu64 " %4" PRIu64
		       " %7.1f %9.0f %9.0f %8.0f %8.0f %6.2f/%6.2f %6.2f/%6.2f %6.2f/%6.2f\n",
		       wl_name[w], r->ops, r->cycles, r->auto_cycles,
		       rec / (double)r->nlat, rec / r->flush_cpu,
		       rec / (r->flush_cpu + r->op_cpu),
		       (double)r->undo_payload / rec, (double)r->fifo_bytes / rec,
		       r->cp50, r->p50, r->cp99, r->p99, r->cpmax, r->pmax);
	}
	printf("\n%-9s %7s %7s %7s %8s %6s %6s %6s %6s %6s %6s %6s %6s\n",
	       "workload", "created", "marked", "removed", "btree op", "splits",
	       "btree%", "fmap%", "meta%", "small%", "freed%", "hdr%", "fresh%");
	for (int w = 0; w < W_COUNT; w++) {
		const struct result *r = &res[w];
		if (!r->ran)
			continue;
		double u = (double)r->undo_payload;
		printf("%-9s %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %8" PRIu64 " %6" PRIu64
		       " %6.1f %6.1f %6.1f %6.1f %6.1f %6.1f %6.1f\n",
		       wl_name[w], r->created, r->marked, r->removed,
		       r->inserts + r->deletes + r->marks, r->new_nodes,
		       100 * (double)r->ucls[U_BTREE] / u,
		       100 * (double)r->ucls[U_FREEMAP] / u,
		       100 * (double)r->ucls[U_META] / u,
		       100 * (double)r->ucls[U_SMALL] / u,
		       100 * (double)r->ucls[U_FREED] / u,
		       100 * (double)r->ucls[U_HEADER] / u,
		       100 * (double)r->ufresh / u);
	}
	printf("\n%-9s %7s %6s %6s %7s %5s %8s %7s %7s %7s %7s %7s %7s %9s\n",
	       "workload", "nodes/c", "int/c", "B/node", "devMB/c", "bar/c", "faults/c",
	       "ops cpu", "ops s", "fl cpu", "flush s", "setup s", "check s", "max rec/c");
	for (int w = 0; w < W_COUNT; w++) {
		const struct result *r = &res[w];
		if (!r->ran)
			continue;
		double c = (double)r->nlat;
		printf("%-9s %7.1f %6.1f %6.0f %7.2f %5.1f %8.1f %7.2f %7.2f %7.2f %7.2f %7.2f"
		       " %7.2f %9" PRIu64 "\n",
		       wl_name[w], (double)r->nodes_logged / c, (double)r->nodes_internal / c,
		       r->nodes_logged ? (double)r->ucls[U_BTREE] / (double)r->nodes_logged : 0,
		       (double)r->dev_wbytes / c / 1048576.0, (double)r->dev_flushes / c,
		       (double)r->flush_faults / c, r->op_cpu, r->op_s, r->flush_cpu,
		       r->flush_s, r->setup_s, r->check_s, r->max_rec_cycle);
	}
	printf("\n# per cycle (/c, /cyc) = per group of operations closed by hammer_flush;"
	       " the same as per engine cycle while auto is 0\n");
	printf("# rec = records made durable: created + delete_tid marked + removed"
	       " (found by a mirror_tid-guided tree scan after each flush);\n"
	       "#   rec/s fl = over the CPU time inside hammer_flush, e2e = over operations +"
	       " flushes; auto = cycles the engine started by itself\n"
	       "#   latency: per hammer_flush call, thread CPU time / wall time (wall includes"
	       " waiting for a CPU on a shared host)\n"
	       "# UNDO B/r = old bytes logged per record; FIFO B/r = FIFO bytes per record"
	       " (with record headers/tails and PADs)\n"
	       "# btree op = B-tree inserts + deletes + marks (same-cycle rewrites count"
	       " twice); splits = nodes allocated\n"
	       "# btree%%..hdr%% = UNDO payload by the zone owning the target big-block"
	       " (freed: big-block free again by the flush);\n"
	       "#   fresh%% = UNDO of bytes above their zone's allocation point at cycle start"
	       " (new nodes, new small data: no durable record used them)\n"
	       "# nodes/c = distinct B-tree nodes UNDO'd per cycle (int/c: internal ones),"
	       " B/node = their UNDO each; devMB/c, bar/c = device bytes\n"
	       "#   written and barriers per cycle; faults/c = page faults inside one"
	       " hammer_flush; times in seconds (cpu: this thread's CPU time)\n");
}

/* --------------------------------------------------------- main */

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static void usage(const char *argv0, int status)
{
	fprintf(status ? stderr : stdout,
		"usage: %s [--quick] [--seed S] [--group G] [--only create,append,overwrite]\n"
		"  [--creates N] [--dirs D] [--file-size B]\n"
		"  [--append-bytes B] [--append-size S] [--append-files F]\n"
		"  [--overwrites N] [--ow-file-size B] [--ow-size S]\n"
		"  [--dev-mb M] [--undo-mb M] [--cache-mb M] [--nohistory] [--no-check]\n"
		"  [--no-prefault]\n"
		"  [--csv PATH]   per-cycle numbers: workload,cycle,flush_ms,flush_cpu_ms,\n"
		"                 page_faults,records,undo_bytes,fifo_bytes,dev_bytes,\n"
		"                 btree_nodes_undone,undo_walked\n",
		argv0);
	exit(status);
}

int main(int argc, char **argv)
{
	struct opts o = {
		.seed = 1, .group = 500,
		.creates = 100000, .dirs = 4, .file_size = 1024,
		.append_bytes = 1ULL << 30, .append_size = 4096, .append_files = 4,
		.overwrites = 100000, .ow_file_size = 1ULL << 30, .ow_size = 4096,
		.cache_bytes = 256ULL << 20, .check = 1, .prefault = 1,
	};
	/* --quick first, so explicit sizes given with it still win */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--quick")) {
			o.quick = 1;
			o.group = 100;
			o.creates = 2000;
			o.append_bytes = 8ULL << 20;
			o.overwrites = 1000;
			o.ow_file_size = 4ULL << 20;
			o.undo_bytes = 16ULL << 20;
			o.cache_bytes = 32ULL << 20;
			o.prefault = 0;
		}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		uint64_t v = 0;
		if (!strcmp(a, "--quick"))
			continue;
		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			usage(argv[0], 0);
		if (!strcmp(a, "--nohistory")) {
			o.nohistory = 1;
			continue;
		}
		if (!strcmp(a, "--no-check")) {
			o.check = 0;
			continue;
		}
		if (!strcmp(a, "--no-prefault")) {
			o.prefault = 0;
			continue;
		}
		if (i + 1 >= argc)
			usage(argv[0], 2);
		const char *val = argv[++i];
		if (!strcmp(a, "--csv")) {
			o.csv = val;
			continue;
		}
		if (!strcmp(a, "--only")) {
			o.only = 0;
			for (int w = 0; w < W_COUNT; w++)
				if (strstr(val, wl_name[w]))
					o.only |= 1u << w;
			if (!o.only)
				usage(argv[0], 2);
			continue;
		}
		if (parse_size(val, &v))
			usage(argv[0], 2);
		if (!strcmp(a, "--seed")) o.seed = v;
		else if (!strcmp(a, "--group")) o.group = v;
		else if (!strcmp(a, "--creates")) o.creates = v;
		else if (!strcmp(a, "--dirs")) o.dirs = v;
		else if (!strcmp(a, "--file-size")) o.file_size = v;
		else if (!strcmp(a, "--append-bytes")) o.append_bytes = v;
		else if (!strcmp(a, "--append-size")) o.append_size = v;
		else if (!strcmp(a, "--append-files")) o.append_files = v;
		else if (!strcmp(a, "--overwrites")) o.overwrites = v;
		else if (!strcmp(a, "--ow-file-size")) o.ow_file_size = v;
		else if (!strcmp(a, "--ow-size")) o.ow_size = v;
		else if (!strcmp(a, "--dev-mb")) o.dev_bytes = v << 20;
		else if (!strcmp(a, "--undo-mb")) o.undo_bytes = v << 20;
		else if (!strcmp(a, "--cache-mb")) o.cache_bytes = v << 20;
		else
			usage(argv[0], 2);
	}
	if (!o.group || !o.dirs || !o.creates || !o.append_size || !o.append_files ||
	    o.append_bytes < o.append_size || !o.overwrites || !o.ow_size ||
	    o.ow_file_size < o.ow_size || o.cache_bytes < (4ULL << 20)) {
		fprintf(stderr, "bench flusher: sizes and counts must be positive "
			"(and files at least one write long)\n");
		return 2;
	}
	size_t bufsz = o.file_size;
	if (o.append_size > bufsz)
		bufsz = o.append_size;
	if (o.ow_size > bufsz)
		bufsz = o.ow_size;

	FILE *csv = NULL;
	if (o.csv) {
		if (!(csv = fopen(o.csv, "w"))) {
			perror(o.csv);
			return 1;
		}
		fprintf(csv, "workload,cycle,flush_ms,flush_cpu_ms,page_faults,records,undo_bytes,fifo_bytes,"
			"dev_bytes,btree_nodes_undone,undo_walked\n");
	}
	print_machine(&o);
	struct result res[W_COUNT];
	memset(res, 0, sizeof(res));
	int bad = 0;
	for (int w = 0; w < W_COUNT; w++) {
		if (o.only && !(o.only & (1u << w)))
			continue;
		struct bench b;
		memset(&b, 0, sizeof(b));
		b.o = &o;
		b.r = &res[w];
		b.bufsz = bufsz;
		b.csv = csv;
		b.wname = wl_name[w];
		b.buf = xmalloc(bufsz);
		rng_state = o.seed * 0x100000001B3ULL + (uint64_t)w;
		for (size_t i = 0; i < bufsz; i++)
			b.buf[i] = (uint8_t)rng();
		uint64_t devsz;
		mount_fresh(&b, w, &devsz);
		print_workload_line(w, &o, devsz, &b);
		fflush(stdout);
		switch (w) {
		case W_CREATE: wl_create(&b); break;
		case W_APPEND: wl_append(&b); break;
		case W_OVERWRITE: wl_overwrite(&b); break;
		}
		check_and_unmount(&b);
		res[w].ran = 1;
		finish_stats(&res[w]);
		bad += sanity(wl_name[w], &res[w]);
		free(b.buf);
		free(b.nodes.k);
		free(b.nodes.v);
		free(b.bbz.k);
		free(b.bbz.v);
	}
	if (csv)
		fclose(csv);
	print_tables(res);
	for (int w = 0; w < W_COUNT; w++) {
		free(res[w].lat);
		free(res[w].clat);
	}
	if (bad) {
		printf("# FAILED: %d nonsensical number(s), see stderr\n", bad);
		return 1;
	}
	printf("# sanity: ok\n");
	return 0;
}
