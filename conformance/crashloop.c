/*
 * crashloop.c - the crash-recovery conformance suite.
 *
 * For each workload: format a small volume in RAM, create a fixed starting
 * tree and settle it (it becomes the base every crash state starts from),
 * stack the simulated device (sim/sim.h) on it, mount, and run the
 * workload: operations, each followed by fsync, fdatasync or sync.  At
 * every completed durability call the oracle records a canonical dump of
 * the whole file system (every path, type, mode, link count, size, content
 * hash, symlink target) and how many epochs of the device log were closed.
 * Then every crash state of the log is enumerated (sim's prefixes, subsets,
 * torn writes, garbage sectors), and for each one:
 *   1. mount it (stage 1 UNDO recovery runs; a second mount must work too);
 *   2. the checker (hammer_check) must report no error;
 *   3. the file system must equal one of the recorded dumps from the last
 *      durability call completed before the crash epoch on, or a later one
 *      (a crash after a sync's writes reached the disk shows that state):
 *      everything promised is there, renames are atomic, link counts exact.
 * With --recrash, a sample of states is also crashed again at every write
 * of its own recovery, and each of those states must recover as well.
 *
 * Every failure prints the workload name and the sim state id; rerun one
 * with `crashloop --workload NAME --state ID -v`.  The last line is
 * `N passed, F failed`, counting crash states.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ref/fscheck.h"
#include "ref/hammer.h"
#include "ref/newfs.h"
#include "ref/volume.h"
#include "sim/sim.h"

#define VOL_SIZE	(256ULL << 20)
#define MAX_SYNCS	16

static int verbose;
static unsigned full_check_every = 8;	/* the freemap recount is the slow part */

/* ---------------------------------------------------------- dumps */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL,
				  b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n >= 0 && b->p && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap ? b->cap * 2 + (size_t)n : 4096 + (size_t)n;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
}

struct dent {
	char name[256];
	hammer_ino_t ino;
};

struct dlist {
	struct dent *e;
	int n, cap;
};

static int dl_fn(void *ctx, const char *name, size_t len, hammer_ino_t ino,
		 uint32_t dtype, uint64_t next)
{
	(void)dtype;
	(void)next;
	struct dlist *l = ctx;
	if (len <= 2 && name[0] == '.' && (len == 1 || name[1] == '.'))
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->e = realloc(l->e, (size_t)l->cap * sizeof(*l->e));
	}
	memcpy(l->e[l->n].name, name, len);
	l->e[l->n].name[len] = 0;
	l->e[l->n].ino = ino;
	l->n++;
	return 0;
}

static int dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

/* Canonical dump of the tree under `dir`; returns 0 or the first error. */
static int dump_dir(struct hammer_mount *m, hammer_ino_t dir, const char *path,
		    struct sbuf *out)
{
	struct dlist l = { 0 };
	int rc = hammer_readdir(m, dir, 0, dl_fn, &l);
	if (rc) {
		free(l.e);
		return rc;
	}
	qsort(l.e, (size_t)l.n, sizeof(*l.e), dent_cmp);
	for (int i = 0; i < l.n && !rc; i++) {
		struct hammer_attr a;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s", path, l.e[i].name);
		rc = hammer_lookup(m, dir, l.e[i].name, strlen(l.e[i].name), &a);
		if (rc)
			break;
		sb_printf(out, "%s %o n%" PRIu64 " s%" PRIu64, p, a.mode, a.nlink,
			  a.size);
		if (S_ISREG(a.mode)) {
			uint64_t h = 14695981039346656037ULL;
			uint8_t buf[65536];
			for (uint64_t off = 0; off < a.size;) {
				ssize_t n = hammer_read(m, a.ino, off, buf, sizeof(buf));
				if (n <= 0) {
					rc = n < 0 ? (int)n : -EIO;
					break;
				}
				for (ssize_t j = 0; j < n; j++)
					h = (h ^ buf[j]) * 1099511628211ULL;
				off += (uint64_t)n;
			}
			sb_printf(out, " h%016" PRIx64, h);
		} else if (S_ISLNK(a.mode)) {
			char t[1100];
			int n = hammer_readlink(m, a.ino, t, sizeof(t) - 1);
			if (n < 0) {
				rc = n;
				break;
			}
			t[n < (int)sizeof(t) - 1 ? n : (int)sizeof(t) - 1] = 0;
			sb_printf(out, " -> %s", t);
		}
		sb_printf(out, "\n");
		if (S_ISDIR(a.mode))
			rc = dump_dir(m, a.ino, p, out);
	}
	free(l.e);
	return rc;
}

static char *dump_fs(struct hammer_mount *m, int *rcp)
{
	struct sbuf b = { 0 };
	sb_printf(&b, "/\n");
	*rcp = dump_dir(m, HAMMER_ROOT_INO, "", &b);
	return b.p;
}

/* ---------------------------------------------------------- workloads */

enum op_kind {
	OP_CREATE, OP_MKDIR, OP_APPEND, OP_OVERWRITE, OP_UNALIGNED, OP_TRUNC,
	OP_LINK, OP_UNLINK, OP_RENAME, OP_RMDIR, OP_SYMLINK, OP_KINDS
};
static const char *op_names[OP_KINDS] = {
	"create", "mkdir", "append", "overwrite", "unaligned", "truncate",
	"link", "unlink", "rename", "rmdir", "symlink"
};
enum sync_kind { SY_FSYNC, SY_FDATASYNC, SY_SYNC, SY_KINDS };
static const char *sync_names[SY_KINDS] = { "fsync", "fdatasync", "sync" };

static uint8_t pattern[200000];

/*
 * The starting tree (settled into the base): /A (file, 40000 bytes),
 * /B (file, 100 bytes), /D (dir) holding /D/C (file, 5000 bytes), /E (empty
 * dir).  The operations act on it; each names the object fsync applies to.
 */
static int setup_tree(struct hammer_mount *m)
{
	struct hammer_attr a;
	int rc = hammer_mknod(m, 1, "A", 1, S_IFREG | 0644, 0, 0, 0, &a);
	if (!rc && hammer_write(m, a.ino, 0, pattern, 40000) != 40000)
		rc = -EIO;
	if (!rc)
		rc = hammer_mknod(m, 1, "B", 1, S_IFREG | 0644, 0, 0, 0, &a);
	if (!rc && hammer_write(m, a.ino, 0, pattern + 7, 100) != 100)
		rc = -EIO;
	if (!rc)
		rc = hammer_mkdir(m, 1, "D", 1, 0755, 0, 0, &a);
	hammer_ino_t d = a.ino;
	if (!rc)
		rc = hammer_mknod(m, d, "C", 1, S_IFREG | 0600, 0, 0, 0, &a);
	if (!rc && hammer_write(m, a.ino, 0, pattern + 99, 5000) != 5000)
		rc = -EIO;
	if (!rc)
		rc = hammer_mkdir(m, 1, "E", 1, 0700, 0, 0, &a);
	if (!rc)
		rc = hammer_sync(m);
	return rc;
}

static int lookup_path(struct hammer_mount *m, const char *path, struct hammer_attr *a)
{
	hammer_ino_t cur = HAMMER_ROOT_INO;
	const char *p = path;
	int rc = hammer_getattr(m, cur, a);
	while (!rc && *p) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!n)
			break;
		rc = hammer_lookup(m, cur, p, n, a);
		cur = a->ino;
		p += n;
	}
	return rc;
}

/* Run one operation; *target gets the object to fsync. */
static int run_op(struct hammer_mount *m, enum op_kind k, int variant,
		  hammer_ino_t *target)
{
	struct hammer_attr a;
	int rc = 0;
	const char *nm = variant ? "N2" : "N1";
	switch (k) {
	case OP_CREATE:
		rc = hammer_mknod(m, 1, nm, 2, S_IFREG | 0644, 0, 0, 0, &a);
		*target = a.ino;
		break;
	case OP_MKDIR:
		rc = hammer_mkdir(m, 1, nm, 2, 0755, 0, 0, &a);
		*target = a.ino;
		break;
	case OP_APPEND:
		rc = lookup_path(m, "/A", &a);
		if (!rc && hammer_write(m, a.ino, a.size, pattern + 11 + variant,
					20000) != 20000)
			rc = -EIO;
		*target = a.ino;
		break;
	case OP_OVERWRITE:
		rc = lookup_path(m, "/A", &a);
		if (!rc && hammer_write(m, a.ino, 16384, pattern + 3 + variant,
					16384) != 16384)
			rc = -EIO;
		*target = a.ino;
		break;
	case OP_UNALIGNED:
		rc = lookup_path(m, "/D/C", &a);
		if (!rc && hammer_write(m, a.ino, 4999 + (uint64_t)variant * 13,
					pattern + 5, 12345) != 12345)
			rc = -EIO;
		*target = a.ino;
		break;
	case OP_TRUNC:
		rc = lookup_path(m, "/A", &a);
		if (!rc) {
			a.size = variant ? 70000 : 1234;
			rc = hammer_setattr(m, a.ino, &a, HAMMER_SET_SIZE);
		}
		*target = a.ino;
		break;
	case OP_LINK:
		rc = lookup_path(m, "/B", &a);
		if (!rc)
			rc = hammer_link(m, a.ino, 1, variant ? "L2" : "L1", 2, &a);
		*target = a.ino;
		break;
	case OP_UNLINK:
		rc = lookup_path(m, variant ? "/D" : "/", &a);
		if (!rc)
			rc = hammer_unlink(m, a.ino, variant ? "C" : "B", 1);
		*target = a.ino;
		break;
	case OP_RENAME:
		rc = lookup_path(m, "/D", &a);
		if (!rc && variant)	/* across directories, over a file */
			rc = hammer_rename(m, a.ino, "C", 1, 1, "B", 1, 0);
		else if (!rc)
			rc = hammer_rename(m, 1, "A", 1, a.ino, "R", 1, 0);
		*target = a.ino;
		break;
	case OP_RMDIR:
		rc = hammer_rmdir(m, 1, "E", 1);
		*target = HAMMER_ROOT_INO;
		break;
	case OP_SYMLINK:
		rc = hammer_symlink(m, 1, nm, 2,
				    variant ? "a/target/long/enough/to/need/a/record" : "short",
				    variant ? 37 : 5, 0, 0, &a);
		*target = a.ino;
		break;
	default:
		rc = -EINVAL;
	}
	return rc;
}

struct workload {
	char name[96];
	int nops;
	enum op_kind ops[2];
	enum sync_kind sync;
};

/* ---------------------------------------------------------- oracle */

struct oracle {
	char *dump[MAX_SYNCS + 1];
	uint32_t closed[MAX_SYNCS + 1];	/* epochs closed when it completed */
	int n;
};

static void oracle_free(struct oracle *o)
{
	for (int i = 0; i < o->n; i++)
		free(o->dump[i]);
	o->n = 0;
}

static int oracle_record(struct oracle *o, struct hammer_mount *m, struct sim *s)
{
	int rc;
	if (o->n == MAX_SYNCS + 1)
		return -ENOSPC;
	o->dump[o->n] = dump_fs(m, &rc);
	if (rc) {
		free(o->dump[o->n]);
		return rc;
	}
	uint32_t ep = sim_epochs(s);
	/* the open epoch is the last one; after a barrier it holds no write */
	o->closed[o->n] = sim_epoch_writes(s, ep - 1) ? ep : ep - 1;
	o->n++;
	return 0;
}

/* ---------------------------------------------------------- checking */

struct stats {
	uint64_t states, failed, recrash_states;
	double secs;
};

static struct hammer_mount *mount_dev(struct hammer_bdev *bd, int ro,
				      struct hammer_err *err, int *rcp)
{
	struct hammer_mount_opts o;
	hammer_mount_opts_init(&o);
	o.readonly = ro;
	o.cache_bytes = 4 << 20;
	struct hammer_mount *m = NULL;
	*rcp = hammer_mount_bdevs(&bd, 1, &o, &m, err);
	return m;
}

static void fail_state(struct stats *st, const struct workload *w,
		       const char *id, const char *fmt, ...)
{
	va_list ap;
	st->failed++;
	printf("FAIL %s state %s: ", w->name, id);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n      rerun: crashloop --workload %s --state %s -v\n", w->name, id);
}

/* Mount a crashed device and judge it.  Returns 0 when it passes. */
static int judge(struct hammer_bdev *bd, const struct oracle *o, uint32_t min_sync,
		 unsigned flags, char *why, size_t wlen)
{
	struct hammer_err err = { 0 };
	int rc;
	struct hammer_mount *m = mount_dev(bd, 0, &err, &rc);
	if (rc) {
		snprintf(why, wlen, "mount failed: %d %s", rc, err.msg);
		return -1;
	}
	struct hammer_fscheck_report r;
	memset(&r, 0, sizeof(r));
	rc = hammer_check(m, flags, &r, &err);
	if (rc || r.errors) {
		snprintf(why, wlen, "checker: rc %d, %zu errors, first: %s %s", rc,
			 (size_t)r.errors,
			 r.count ? hammer_fscheck_code_name(r.findings[0].code) : "-",
			 r.count ? r.findings[0].msg : err.msg);
		hammer_fscheck_report_free(&r);
		hammer_unmount(m);
		return -1;
	}
	hammer_fscheck_report_free(&r);
	char *d = dump_fs(m, &rc);
	int ok = -1;
	if (rc) {
		snprintf(why, wlen, "reading the tree failed: %d %s", rc,
			 hammer_mount_error(m)->msg);
	} else {
		for (int i = (int)min_sync; i < o->n; i++)
			if (!strcmp(d, o->dump[i]))
				ok = 0;
		if (ok) {
			snprintf(why, wlen, "tree matches no allowed state (sync %u..%d)",
				 min_sync, o->n - 1);
			if (verbose) {
				printf("--- recovered:\n%s--- oldest allowed:\n%s", d,
				       o->dump[min_sync]);
			}
		}
	}
	free(d);
	rc = hammer_unmount(m);
	if (!ok && rc) {
		snprintf(why, wlen, "unmount after recovery failed: %d", rc);
		ok = -1;
	}
	return ok;
}

/*
 * Every state gets the B-tree, record, directory, file and FIFO checks;
 * every full_check_every-th also the freemap recount (checkmap), which
 * reads the whole freemap and FIFO.  A state rerun alone gets everything.
 */
static unsigned check_flags(uint64_t n)
{
	if (full_check_every <= 1 || n % full_check_every == 0)
		return 0;
	return HAMMER_FSCK_NO_CHECKMAP;
}

/* The oldest recorded state a crash in epoch E must show (or later). */
static uint32_t min_sync_for(const struct oracle *o, uint32_t epoch)
{
	uint32_t j = 0;
	for (int i = 0; i < o->n; i++)
		if (o->closed[i] <= epoch)
			j = (uint32_t)i;
	return j;
}

/*
 * Crash again during recovery: stack a second sim on the crashed state,
 * mount it (stage 1 writes go to the second sim's log), and judge every
 * crash state of that log.  The mount stays idle while its log is walked.
 */
static void recrash(struct hammer_bdev *state_bd, const struct oracle *o,
		    uint32_t min_sync, const struct workload *w, const char *id,
		    struct stats *st)
{
	struct sim_knobs k;
	sim_knobs_default(&k);
	k.sample_count = 64;
	struct sim *s2;
	if (sim_open(state_bd, 0, &k, &s2)) {
		fail_state(st, w, id, "cannot stack a sim for the second crash");
		return;
	}
	struct hammer_err err = { 0 };
	int rc;
	struct hammer_mount *m = mount_dev(sim_bdev(s2), 0, &err, &rc);
	if (rc) {
		fail_state(st, w, id, "recovery mount failed: %d %s", rc, err.msg);
		return;
	}
	struct sim_enum *e;
	struct sim_state stt;
	char id2[SIM_ID_MAX + 2], full[2 * SIM_ID_MAX + 8], why[700];
	rc = sim_enum_begin(s2, &e);
	while (!rc && sim_enum_next(e, &stt) == 1) {
		sim_state_id(&stt, id2, sizeof(id2));
		snprintf(full, sizeof(full), "%s/%s", id, id2);
		struct hammer_bdev *bd;
		if (sim_state_open(s2, &stt, &bd)) {
			fail_state(st, w, full, "cannot open the state");
			continue;
		}
		st->states++;
		st->recrash_states++;
		if (judge(bd, o, min_sync, check_flags(st->states), why, sizeof(why)))
			fail_state(st, w, full, "%s", why);
		else if (verbose)
			printf("ok   %s state %s\n", w->name, full);
	}
	if (!rc)
		sim_enum_end(e);
	hammer_unmount(m);	/* closes s2; the state below stays the caller's */
}

static int run_workload(const struct workload *w, const char *only_state,
			int do_recrash, struct stats *st)
{
	struct hammer_bdev *base;
	struct hammer_err err = { 0 };
	int rc = hammer_bdev_ram_open(VOL_SIZE, "crash", &base);
	if (rc)
		return rc;
	struct hammer_newfs_opts no;
	hammer_newfs_opts_init(&no);
	no.label = "CRASH";
	no.force = 1;
	no.undo_size = 8 << 20;
	memset(&no.fsid, 0x5a, sizeof(no.fsid));
	no.ctime_us = 1795306471000000ULL;
	struct hammer_newfs_result res;
	rc = hammer_newfs_format(&base, 1, &no, &res, &err);
	if (rc) {
		fprintf(stderr, "newfs: %s\n", err.msg);
		hammer_bdev_close(base);
		return rc;
	}
	/* the starting tree, settled into the base */
	struct sim *s;
	rc = sim_open(base, SIM_OWN_BASE, NULL, &s);
	if (rc) {
		hammer_bdev_close(base);
		return rc;
	}
	struct hammer_mount *m = mount_dev(sim_bdev(s), 0, &err, &rc);
	/* the mount owns the sim's bdev: keep the sim alive past unmount */
	if (rc) {
		fprintf(stderr, "%s: mount: %s\n", w->name, err.msg);
		return rc;
	}
	struct oracle o = { 0 };
	rc = setup_tree(m);
	if (!rc)
		rc = sim_settle(s);
	if (!rc)
		rc = oracle_record(&o, m, s);
	for (int i = 0; i < w->nops && !rc; i++) {
		hammer_ino_t t = HAMMER_ROOT_INO;
		rc = run_op(m, w->ops[i], i, &t);
		if (rc) {
			fprintf(stderr, "%s: op %d (%s) failed: %d\n", w->name, i,
				op_names[w->ops[i]], rc);
			break;
		}
		if (w->sync == SY_SYNC)
			rc = hammer_sync(m);
		else
			rc = hammer_fsync(m, t, w->sync == SY_FDATASYNC);
		if (!rc)
			rc = oracle_record(&o, m, s);
	}
	if (rc) {
		oracle_free(&o);
		return rc;
	}
	/* enumerate while the mount is idle: nothing writes the sim */
	struct sim_enum *e;
	rc = sim_enum_begin(s, &e);
	struct sim_state stt;
	char id[SIM_ID_MAX];
	int n;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!rc && (n = sim_enum_next(e, &stt)) == 1) {
		sim_state_id(&stt, id, sizeof(id));
		if (only_state && strcmp(id, only_state))
			continue;
		struct hammer_bdev *bd;
		rc = sim_state_open(s, &stt, &bd);
		if (rc)
			break;
		char why[700];
		st->states++;
		uint32_t ms = min_sync_for(&o, stt.epoch);
		if (judge(bd, &o, ms, check_flags(st->states), why, sizeof(why)))
			fail_state(st, w, id, "%s", why);
		else if (verbose)
			printf("ok   %s state %s (sync >= %u)\n", w->name, id, ms);
		if (do_recrash && st->states % (uint64_t)do_recrash == 0 &&
		    sim_state_open(s, &stt, &bd) == 0) {
			recrash(bd, &o, ms, w, id, st);
			hammer_bdev_close(bd);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->secs += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	sim_enum_end(e);
	oracle_free(&o);
	hammer_unmount(m);	/* closes the sim and the base */
	return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------- main */

static int make_workloads(struct workload *w, int max, int full)
{
	int n = 0;
	for (int a = 0; a < OP_KINDS; a++)
		for (int s = 0; s < SY_KINDS; s++) {
			if (!full && s == SY_FDATASYNC)
				continue;
			if (n == max)
				return n;
			w[n] = (struct workload){ .nops = 1, .ops = { (enum op_kind)a },
						  .sync = (enum sync_kind)s };
			snprintf(w[n].name, sizeof(w[n].name), "%s+%s", op_names[a],
				 sync_names[s]);
			n++;
		}
	if (!full)
		return n;	/* quick: every single operation */
	for (int a = 0; a < OP_KINDS; a++)
		for (int b = 0; b < OP_KINDS; b++)
			for (int s = 0; s < SY_KINDS; s++) {
				if (n == max)
					return n;
				w[n] = (struct workload){ .nops = 2,
					.ops = { (enum op_kind)a, (enum op_kind)b },
					.sync = (enum sync_kind)s };
				snprintf(w[n].name, sizeof(w[n].name), "%s+%s,%s+%s",
					 op_names[a], sync_names[s], op_names[b],
					 sync_names[s]);
				n++;
			}
	return n;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: crashloop [--quick|--full] [--workload NAME [--state ID]] [-v]\n"
		"  --quick      every single operation with fsync and sync (default)\n"
		"  --full       every operation and pair with fsync, fdatasync, sync\n"
		"  --limit N    stop after N workloads\n"
		"  --recrash N  crash every N-th state again during its recovery\n"
		"  --checkmap-every N  full freemap recount on every N-th state (8)\n"
		"  --workload   run only this workload (name as printed)\n"
		"  --state      check only this crash state id\n");
}

int main(int argc, char **argv)
{
	int full = 0, limit = 1 << 30, recrash_every = 0;
	const char *only_w = NULL, *only_s = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			full = 0;
		else if (!strcmp(argv[i], "--full"))
			full = 1;
		else if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else if (!strcmp(argv[i], "--workload") && i + 1 < argc)
			only_w = argv[++i];
		else if (!strcmp(argv[i], "--state") && i + 1 < argc) {
			only_s = argv[++i];
			full_check_every = 1;
		}
		else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
			limit = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--recrash") && i + 1 < argc)
			recrash_every = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--checkmap-every") && i + 1 < argc)
			full_check_every = (unsigned)atoi(argv[++i]);
		else {
			usage();
			return 2;
		}
	}
	uint64_t x = 42;
	for (size_t i = 0; i < sizeof(pattern); i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		pattern[i] = (uint8_t)(x >> 56);
	}
	static struct workload w[1024];
	int nw = make_workloads(w, 1024, full || only_w);
	struct stats st = { 0 };
	int ran = 0, errors = 0;
	for (int i = 0; i < nw && ran < limit; i++) {
		if (only_w && strcmp(only_w, w[i].name))
			continue;
		uint64_t before = st.states, fbefore = st.failed;
		int rc = run_workload(&w[i], only_s, recrash_every, &st);
		ran++;
		if (rc) {
			printf("FAIL %s: workload could not run: %s\n", w[i].name,
			       strerror(-rc));
			errors++;
		}
		printf("%-40s %6" PRIu64 " states %4" PRIu64 " failed\n", w[i].name,
		       st.states - before, st.failed - fbefore);
		fflush(stdout);
	}
	if (only_w && !ran) {
		fprintf(stderr, "crashloop: no workload named %s\n", only_w);
		return 2;
	}
	printf("%d workloads, %" PRIu64 " crash states (%" PRIu64 " after a second "
	       "crash in recovery) in %.1f s (%.0f states/s)\n", ran, st.states,
	       st.recrash_states, st.secs,
	       st.secs > 0 ? (double)st.states / st.secs : 0.0);
	printf("%" PRIu64 " passed, %" PRIu64 " failed\n", st.states - st.failed,
	       st.failed + (uint64_t)errors);
	return st.failed || errors ? 1 : 0;
}
