/*
 * bench/btree.c - the HAMMER B-tree on the RAM node I/O, side by side with
 * LMDB in the same run.
 *
 * Keys: the 40-byte HAMMER base element.  LMDB gets the same key encoded
 * big-endian (localization, obj_id ^ sign, rec_type, key ^ sign, create_tid,
 * delete_tid, obj_type, btype) so memcmp order is HAMMER order, and the
 * 24-byte leaf tail (create_ts, delete_ts, data_offset, data_len, data_crc)
 * as value: 64 bytes per record in both.
 *
 * LMDB: a fresh environment per N under /dev/shm (tmpfs), MDB_NOSYNC |
 * MDB_NOMETASYNC | MDB_WRITEMAP, 4 KB pages; ONE write transaction per
 * mutating phase (the best case for LMDB's copy-on-write, matching HAMMER's
 * in-place updates without UNDO); reads in one read transaction.  Plain
 * mdb_put (no MDB_APPEND) for both insert orders.
 *
 * HAMMER: RAM node I/O with cached decoded nodes (no encode or CRC on the
 * hot path; a final sync of all nodes is timed separately as "sync").
 *
 * Usage: btree [--max N] [--big] [--csv PATH] [--seed S]
 *   sizes 10^3 .. 10^6 by default (--max lowers it), --big adds 10^7.
 * Prints a table, then the CSV (impl,op,n,ns_per_op) after "# csv".
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ref/btree.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rng_state;
static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench btree: %s: %d (%s)\n", what, rc,
		rc < 0 ? strerror(-rc) : mdb_strerror(rc));
	exit(1);
}

/* ------------------------------------------------------------- results */
struct result { char impl[8]; char op[24]; long n; double ns; };
static struct result results[512];
static int nresults;

static void record(const char *impl, const char *op, long n, double ns_per_op)
{
	struct result *r = &results[nresults++];
	snprintf(r->impl, sizeof(r->impl), "%s", impl);
	snprintf(r->op, sizeof(r->op), "%s", op);
	r->n = n;
	r->ns = ns_per_op;
}

/* ------------------------------------------------------------- keys */
static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void lmdb_key(const struct hammer_base_elm *b, uint8_t k[40])
{
	put_be(k, b->localization, 4);
	put_be(k + 4, (uint64_t)b->obj_id ^ (1ULL << 63), 8);
	put_be(k + 12, b->rec_type, 2);
	put_be(k + 14, (uint64_t)b->key ^ (1ULL << 63), 8);
	put_be(k + 22, b->create_tid - 1, 8);	/* 0 (infinity) sorts last */
	put_be(k + 30, b->delete_tid, 8);
	k[38] = b->obj_type;
	k[39] = b->btype;
}

/* Record i of a random (scattered obj_ids) or append (increasing) set. */
static struct hammer_btree_leaf_elm make_elm(long i, int append, int miss)
{
	struct hammer_btree_leaf_elm e;
	memset(&e, 0, sizeof(e));
	e.base.localization = 0x00000001;
	if (append) {
		e.base.obj_id = 1000 + i / 4096;
		e.base.key = (int64_t)(i % 4096) * 16384 + 16384;
	} else {
		/* a bijection of i scatters the keys */
		uint64_t h = ((uint64_t)i * 0x9E3779B97F4A7C15ULL) ^ 0x5DEECE66DULL;
		e.base.obj_id = (int64_t)(h >> 1) - (int64_t)(1ULL << 62);
		e.base.key = 16384;
	}
	if (miss)
		e.base.key += 1;
	e.base.rec_type = HAMMER_RECTYPE_DATA;
	e.base.create_tid = 0x100000000ULL + (uint64_t)i;
	e.base.obj_type = HAMMER_OBJTYPE_REGFILE;
	e.base.btype = HAMMER_BTREE_TYPE_RECORD;
	e.create_ts = (uint32_t)i;
	e.data_offset = hammer_encode(HAMMER_ZONE_LARGE_DATA_INDEX, 0, (uint64_t)i << 14);
	e.data_len = 16384;
	e.data_crc = (uint32_t)(i * 2654435761u);
	return e;
}

static long *perm(long n)
{
	long *p = malloc((size_t)n * sizeof(*p));
	if (!p)
		die("malloc", -ENOMEM);
	for (long i = 0; i < n; i++)
		p[i] = i;
	for (long i = n - 1; i > 0; i--) {
		long j = (long)(rng() % (uint64_t)(i + 1)), t = p[i];
		p[i] = p[j];
		p[j] = t;
	}
	return p;
}

/* ------------------------------------------------------------- HAMMER */
struct tree_shape { int depth; double fill; double splits_per_insert; uint64_t nodes; };

static struct tree_shape shape(struct hammer_btree *t, long n, uint64_t splits0)
{
	struct hammer_btree_check r;
	struct tree_shape s;
	int rc = hammer_btree_check(t, &r);
	if (rc || r.errors || r.records != (uint64_t)n) {
		fprintf(stderr, "bench btree: checker rc %d errors %zu records %" PRIu64 "/%ld\n",
			rc, r.errors, r.records, n);
		exit(1);
	}
	s.depth = r.depth;
	s.fill = r.slots_total ? (double)r.slots_used / (double)r.slots_total : 0;
	s.nodes = r.nodes;
	s.splits_per_insert = (double)(t->stats.leaf_splits + t->stats.internal_splits - splits0) / (double)n;
	hammer_btree_check_free(&r);
	return s;
}

static volatile uint64_t sink;

static void bench_hammer(long n, long nq, const long *order, const long *probe,
			 struct tree_shape *rs, struct tree_shape *as)
{
	struct hammer_ramio *ram;
	struct hammer_node_io io;
	struct hammer_btree t;
	struct hammer_err e = { 0 };
	struct hammer_cursor c;
	double t0;
	uint64_t sum = 0;
	int rc;

	if ((rc = hammer_btree_ramio_create(7, &ram, &io)) || (rc = hammer_btree_create(&t, &io, &e)))
		die("hammer create", rc);

	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		struct hammer_btree_leaf_elm el = make_elm(order[i], 0, 0);
		if ((rc = hammer_btree_insert(&t, &el, &e)))
			die(e.msg, rc);
	}
	record("hammer", "insert_random", n, (now_ns() - t0) / (double)n);
	*rs = shape(&t, n, 0);

	hammer_cursor_init(&c, &t, &e);
	t0 = now_ns();
	for (long i = 0; i < nq; i++) {
		struct hammer_btree_leaf_elm el = make_elm(probe[i], 0, 0);
		if ((rc = hammer_btree_lookup(&c, &el.base)))
			die("lookup hit", rc);
		sum += (uint64_t)hammer_cursor_leaf(&c)->data_len;
	}
	record("hammer", "lookup_hit", n, (now_ns() - t0) / (double)nq);
	/* the same random probes through a hinted cursor: the hint's overhead */
	struct hammer_btree_hint hint = { 0 };
	c.hint = &hint;
	t0 = now_ns();
	for (long i = 0; i < nq; i++) {
		struct hammer_btree_leaf_elm el = make_elm(probe[i], 0, 0);
		if ((rc = hammer_btree_lookup(&c, &el.base)))
			die("lookup hit (hint)", rc);
		sum += (uint64_t)hammer_cursor_leaf(&c)->data_len;
	}
	record("hammer", "lookup_hit_hint", n, (now_ns() - t0) / (double)nq);
	hammer_cursor_done(&c);
	c.hint = NULL;
	t0 = now_ns();
	for (long i = 0; i < nq; i++) {
		struct hammer_btree_leaf_elm el = make_elm(probe[i], 0, 1);
		if ((rc = hammer_btree_lookup(&c, &el.base)) != -ENOENT)
			die("lookup miss", rc);
	}
	record("hammer", "lookup_miss", n, (now_ns() - t0) / (double)nq);

	long nr = nq / 10 > 0 ? nq / 10 : 1;
	t0 = now_ns();
	for (long i = 0; i < nr; i++) {
		struct hammer_btree_leaf_elm el = make_elm(probe[i], 0, 0);
		c.key_beg = el.base;
		c.key_end = hammer_btree_root_end;
		c.flags = 0;
		rc = hammer_btree_first(&c);
		for (int k = 0; k < 100 && rc == 0; k++) {
			sum += (uint64_t)hammer_cursor_leaf(&c)->data_len;
			rc = hammer_btree_next(&c);
		}
		hammer_cursor_done(&c);
	}
	record("hammer", "range100", n, (now_ns() - t0) / (double)nr);

	c.key_beg = hammer_btree_root_beg;
	c.key_end = hammer_btree_root_end;
	long seen = 0;
	t0 = now_ns();
	rc = hammer_btree_first(&c);
	while (rc == 0) {
		sum += (uint64_t)hammer_cursor_leaf(&c)->data_len;
		seen++;
		rc = hammer_btree_next(&c);
	}
	record("hammer", "full_scan_per_rec", n, (now_ns() - t0) / (double)n);
	if (seen != n)
		die("full scan count", (int)seen);

	t0 = now_ns();
	hammer_btree_ramio_sync(ram);
	record("hammer", "sync_all_nodes", n, (now_ns() - t0) / (double)n);

	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		struct hammer_btree_leaf_elm el = make_elm(order[n - 1 - i], 0, 0);
		if ((rc = hammer_btree_delete(&t, &el.base, &e)))
			die("delete", rc);
	}
	record("hammer", "delete_random", n, (now_ns() - t0) / (double)n);
	hammer_btree_ramio_destroy(ram);

	/* appends into a fresh tree */
	if ((rc = hammer_btree_ramio_create(7, &ram, &io)) || (rc = hammer_btree_create(&t, &io, &e)))
		die("hammer create", rc);
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		struct hammer_btree_leaf_elm el = make_elm(i, 1, 0);
		if ((rc = hammer_btree_insert(&t, &el, &e)))
			die(e.msg, rc);
	}
	record("hammer", "insert_append", n, (now_ns() - t0) / (double)n);
	*as = shape(&t, n, 0);

	/*
	 * Sequential lookups (key order) in the appended tree: plain, hinted
	 * with the cursor kept positioned, and hinted with the cursor released
	 * after each lookup (the hint replayed from the root).
	 */
	for (int mode = 0; mode < 3; mode++) {
		static const char *names[] = { "lookup_seq", "lookup_seq_hint", "lookup_seq_hint_replay" };
		struct hammer_btree_hint h = { 0 };
		uint64_t hits0 = t.stats.hint_hits;
		hammer_cursor_init(&c, &t, &e);
		c.hint = mode ? &h : NULL;
		t0 = now_ns();
		for (long i = 0; i < nq; i++) {
			struct hammer_btree_leaf_elm el = make_elm(i, 1, 0);
			if (mode == 2)
				hammer_cursor_done(&c);
			if ((rc = hammer_btree_lookup(&c, &el.base)))
				die("lookup seq", rc);
			sum += (uint64_t)hammer_cursor_leaf(&c)->data_len;
		}
		record("hammer", names[mode], n, (now_ns() - t0) / (double)nq);
		hammer_cursor_done(&c);
		if (mode)
			record("hammer", mode == 1 ? "hint_hit_pct" : "hint_hit_pct_replay", n,
			       100.0 * (double)(t.stats.hint_hits - hits0) / (double)nq);
	}
	hammer_btree_ramio_destroy(ram);
	sink += sum;
}

/* ------------------------------------------------------------- LMDB */
#define LCHK(what, x) do { int _r = (x); if (_r) die(what, _r); } while (0)

static void lmdb_open(long n, MDB_env **env, MDB_dbi *dbi, char *path, size_t plen)
{
	MDB_txn *txn;
	snprintf(path, plen, "/dev/shm/hammer-bench-btree-%d.mdb", (int)getpid());
	unlink(path);
	LCHK("env_create", mdb_env_create(env));
	LCHK("set_mapsize", mdb_env_set_mapsize(*env, (size_t)n * 400 + (64u << 20)));
	LCHK("env_open", mdb_env_open(*env, path, MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOMETASYNC |
				      MDB_WRITEMAP | MDB_NOLOCK, 0600));
	LCHK("txn", mdb_txn_begin(*env, NULL, 0, &txn));
	LCHK("dbi", mdb_dbi_open(txn, NULL, 0, dbi));
	LCHK("commit", mdb_txn_commit(txn));
}

static void lmdb_close(MDB_env *env, const char *path)
{
	mdb_env_close(env);
	unlink(path);
}

static void lmdb_kv(const struct hammer_btree_leaf_elm *el, uint8_t k[40], uint8_t v[24],
		    MDB_val *key, MDB_val *val)
{
	lmdb_key(&el->base, k);
	memcpy(v, &el->create_ts, 24);
	key->mv_size = 40;
	key->mv_data = k;
	val->mv_size = 24;
	val->mv_data = v;
}

static void bench_lmdb(long n, long nq, const long *order, const long *probe)
{
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val key, val;
	uint8_t k[40], v[24];
	char path[128];
	uint64_t sum = 0;
	double t0;
	int rc;

	lmdb_open(n, &env, &dbi, path, sizeof(path));
	t0 = now_ns();
	LCHK("txn", mdb_txn_begin(env, NULL, 0, &txn));
	for (long i = 0; i < n; i++) {
		struct hammer_btree_leaf_elm el = make_elm(order[i], 0, 0);
		lmdb_kv(&el, k, v, &key, &val);
		LCHK("put", mdb_put(txn, dbi, &key, &val, MDB_NOOVERWRITE));
	}
	LCHK("commit", mdb_txn_commit(txn));
	record("lmdb", "insert_random", n, (now_ns() - t0) / (double)n);

	LCHK("rtxn", mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
	t0 = now_ns();
	for (long i = 0; i < nq; i++) {
		struct hammer_btree_leaf_elm el = make_elm(probe[i], 0, 0);
		lmdb_kv(&el, k, v, &key, &val);
		LCHK("get", mdb_get(txn, dbi, &key, &val));
		int32_t len;
		memcpy(&len, (const uint8_t *)val.mv_data + 16, 4);
		sum += (uint64_t)len;
	}
	record("lmdb", "lookup_hit", n, (now_ns() - t0) / (double)nq);
	t0 = now_ns();
	for (long i = 0; i < nq; i++) {
		struct hammer_btree_leaf_elm el = make_elm(probe[i], 0, 1);
		lmdb_kv(&el, k, v, &key, &val);
		if ((rc = mdb_get(txn, dbi, &key, &val)) != MDB_NOTFOUND)
			die("get miss", rc);
	}
	record("lmdb", "lookup_miss", n, (now_ns() - t0) / (double)nq);

	LCHK("cursor", mdb_cursor_open(txn, dbi, &cur));
	long nr = nq / 10 > 0 ? nq / 10 : 1;
	t0 = now_ns();
	for (long i = 0; i < nr; i++) {
		struct hammer_btree_leaf_elm el = make_elm(probe[i], 0, 0);
		lmdb_kv(&el, k, v, &key, &val);
		rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
		for (int j = 0; j < 100 && rc == 0; j++) {
			int32_t len;
			memcpy(&len, (const uint8_t *)val.mv_data + 16, 4);
			sum += (uint64_t)len;
			rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
		}
	}
	record("lmdb", "range100", n, (now_ns() - t0) / (double)nr);
	long seen = 0;
	t0 = now_ns();
	rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
	while (rc == 0) {
		int32_t len;
		memcpy(&len, (const uint8_t *)val.mv_data + 16, 4);
		sum += (uint64_t)len;
		seen++;
		rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
	}
	record("lmdb", "full_scan_per_rec", n, (now_ns() - t0) / (double)n);
	if (seen != n)
		die("lmdb full scan count", (int)seen);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);

	t0 = now_ns();
	LCHK("txn", mdb_txn_begin(env, NULL, 0, &txn));
	for (long i = 0; i < n; i++) {
		struct hammer_btree_leaf_elm el = make_elm(order[n - 1 - i], 0, 0);
		lmdb_kv(&el, k, v, &key, &val);
		LCHK("del", mdb_del(txn, dbi, &key, NULL));
	}
	LCHK("commit", mdb_txn_commit(txn));
	record("lmdb", "delete_random", n, (now_ns() - t0) / (double)n);
	lmdb_close(env, path);

	lmdb_open(n, &env, &dbi, path, sizeof(path));
	t0 = now_ns();
	LCHK("txn", mdb_txn_begin(env, NULL, 0, &txn));
	for (long i = 0; i < n; i++) {
		struct hammer_btree_leaf_elm el = make_elm(i, 1, 0);
		lmdb_kv(&el, k, v, &key, &val);
		LCHK("put", mdb_put(txn, dbi, &key, &val, MDB_NOOVERWRITE));
	}
	LCHK("commit", mdb_txn_commit(txn));
	record("lmdb", "insert_append", n, (now_ns() - t0) / (double)n);
	lmdb_close(env, path);
	sink += sum;
}

/* ------------------------------------------------------------- main */
static double find(const char *impl, const char *op, long n)
{
	for (int i = 0; i < nresults; i++)
		if (!strcmp(results[i].impl, impl) && !strcmp(results[i].op, op) && results[i].n == n)
			return results[i].ns;
	return -1;
}

int main(int argc, char **argv)
{
	long max = 1000000;
	int big = 0;
	const char *csv = NULL;
	uint64_t seed = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--max") && i + 1 < argc)
			max = atol(argv[++i]);
		else if (!strcmp(argv[i], "--big"))
			big = 1;
		else if (!strcmp(argv[i], "--csv") && i + 1 < argc)
			csv = argv[++i];
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else {
			fprintf(stderr, "usage: %s [--max N] [--big] [--csv PATH] [--seed S]\n", argv[0]);
			return 2;
		}
	}
	if (big)
		max = 10000000;
	printf("# HAMMER B-tree (RAM node I/O, 4 KB nodes, 63 leaf / 62 internal elements)\n"
	       "# vs LMDB %s on /dev/shm (NOSYNC|NOMETASYNC|WRITEMAP, one write txn per phase)\n"
	       "# 40-byte keys, 24-byte values; seed %llu; lookups: min(N, 10^6) probes,"
	       " range100: a tenth of that\n",
	       MDB_VERSION_STRING, (unsigned long long)seed);
	printf("%-8s %-18s %10s %12s %12s %8s\n", "N", "op", "hammer ns", "lmdb ns", "ratio", "");
	struct tree_shape rs[8], as[8];
	long sizes[8];
	int ns = 0;
	for (long n = 1000; n <= max; n *= 10) {
		rng_state = seed;
		long nq = n < 1000000 ? n : 1000000;
		long *order = perm(n);
		long *probe = malloc((size_t)nq * sizeof(*probe));
		if (!probe)
			die("malloc", -ENOMEM);
		for (long i = 0; i < nq; i++)
			probe[i] = (long)(rng() % (uint64_t)n);
		bench_hammer(n, nq, order, probe, &rs[ns], &as[ns]);
		bench_lmdb(n, nq, order, probe);
		free(order);
		free(probe);
		static const char *ops[] = { "insert_random", "insert_append", "lookup_hit", "lookup_miss",
					     "range100", "full_scan_per_rec", "delete_random" };
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
			double h = find("hammer", ops[i], n), l = find("lmdb", ops[i], n);
			printf("%-8ld %-18s %10.1f %12.1f %11.2fx\n", n, ops[i], h, l, h / l);
		}
		printf("%-8ld %-18s %10.1f\n", n, "sync_all_nodes", find("hammer", "sync_all_nodes", n));
		printf("%-8ld hint: sequential plain %.1f, hinted %.1f (%.1f%% hits), hinted released cursor "
		       "%.1f (%.1f%%) | random plain %.1f, hinted %.1f ns\n", n,
		       find("hammer", "lookup_seq", n), find("hammer", "lookup_seq_hint", n),
		       find("hammer", "hint_hit_pct", n), find("hammer", "lookup_seq_hint_replay", n),
		       find("hammer", "hint_hit_pct_replay", n), find("hammer", "lookup_hit", n),
		       find("hammer", "lookup_hit_hint", n));
		printf("%-8ld shape random: depth %d leaf fill %.1f%% splits/insert %.4f | "
		       "append: depth %d leaf fill %.1f%% splits/insert %.4f\n",
		       n, rs[ns].depth, rs[ns].fill * 100, rs[ns].splits_per_insert,
		       as[ns].depth, as[ns].fill * 100, as[ns].splits_per_insert);
		fflush(stdout);
		sizes[ns++] = n;
	}
	FILE *out = stdout;
	if (csv && !(out = fopen(csv, "w"))) {
		perror(csv);
		return 1;
	}
	if (out == stdout)
		printf("# csv\n");
	fprintf(out, "impl,op,n,ns_per_op\n");
	for (int i = 0; i < nresults; i++)
		fprintf(out, "%s,%s,%ld,%.1f\n", results[i].impl, results[i].op, results[i].n, results[i].ns);
	for (int i = 0; i < ns; i++) {
		fprintf(out, "hammer,depth_random,%ld,%d\n", sizes[i], rs[i].depth);
		fprintf(out, "hammer,leaf_fill_random,%ld,%.3f\n", sizes[i], rs[i].fill);
		fprintf(out, "hammer,splits_per_insert_random,%ld,%.4f\n", sizes[i], rs[i].splits_per_insert);
		fprintf(out, "hammer,depth_append,%ld,%d\n", sizes[i], as[i].depth);
		fprintf(out, "hammer,leaf_fill_append,%ld,%.3f\n", sizes[i], as[i].fill);
		fprintf(out, "hammer,splits_per_insert_append,%ld,%.4f\n", sizes[i], as[i].splits_per_insert);
	}
	if (out != stdout)
		fclose(out);
	return 0;
}
