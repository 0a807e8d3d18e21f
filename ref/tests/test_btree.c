/*
 * test_btree.c - the HAMMER B-tree against a sorted-array model.
 *
 * The model orders keys with its own encoding (big-endian bytes, sign bits
 * flipped, create_tid 0 mapped to the top) compared by memcmp, so it does
 * not share the comparator under test.  Hinted searches (hint_*) must match
 * the plain search exactly: result, error and every level of the path.
 * Every failure prints the seed and
 * operation index; rerun one case with HAMMER_TEST_SEED=<seed>.
 * HAMMER_TEST_SCALE (a factor; default 1, or 0.5 under valgrind) shrinks or
 * grows the campaigns.
 * Built twice: as test_btree (unit) and test_btree_slow (>= 1,000,000 ops).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ref/btree.h"
#include "ref/crc.h"

static int slow_mode;

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* Under valgrind (about 50x slower) the campaigns default to half. */
static double scale(void)
{
	const char *s = getenv("HAMMER_TEST_SCALE");
	double f = s ? atof(s) : (RUNNING_ON_VALGRIND ? 0.5 : 1.0);
	return f > 0 ? f : 1.0;
}

static long scaled(long n)
{
	long v = (long)(n * scale());
	return v < 1 ? 1 : v;
}

/* ------------------------------------------------------------- PRNG */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}
static uint64_t rng_below(uint64_t *s, uint64_t n) { return rng_next(s) % n; }

/* ------------------------------------------------------------- model */
struct mkey { uint8_t b[22]; };

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static struct mkey mkey_of(const struct hammer_base_elm *e)
{
	struct mkey k;
	put_be(k.b, e->localization, 4);
	put_be(k.b + 4, (uint64_t)e->obj_id ^ (1ULL << 63), 8);
	put_be(k.b + 12, e->rec_type, 2);
	put_be(k.b + 14, (uint64_t)e->key ^ (1ULL << 63), 8);
	return k;
}

/* Model compare: 22 key bytes, then create_tid with 0 on top. */
static int mcmp(const struct hammer_base_elm *a, const struct hammer_base_elm *b)
{
	struct mkey ka = mkey_of(a), kb = mkey_of(b);
	int r = memcmp(ka.b, kb.b, 22);
	if (r)
		return r < 0 ? -1 : 1;
	int ia = a->create_tid == 0, ib = b->create_tid == 0;
	if (ia != ib)
		return ia ? 1 : -1;
	if (a->create_tid != b->create_tid)
		return a->create_tid < b->create_tid ? -1 : 1;
	return 0;
}

static int msame4(const struct hammer_base_elm *a, const struct hammer_base_elm *b)
{
	struct mkey ka = mkey_of(a), kb = mkey_of(b);
	return memcmp(ka.b, kb.b, 22) == 0;
}

static int mvisible(const struct hammer_base_elm *e, hammer_tid_t asof)
{
	if (e->create_tid > asof)
		return 0;
	return e->delete_tid == 0 || asof < e->delete_tid;
}

struct model {
	struct hammer_btree_leaf_elm *v;
	size_t n, cap;
};

/* index of first element >= key */
static size_t model_lb(const struct model *m, const struct hammer_base_elm *k)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (mcmp(&m->v[mid].base, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static long model_find(const struct model *m, const struct hammer_base_elm *k)
{
	size_t i = model_lb(m, k);
	return i < m->n && mcmp(&m->v[i].base, k) == 0 ? (long)i : -1;
}

static int model_insert(struct model *m, const struct hammer_btree_leaf_elm *e)
{
	size_t i = model_lb(m, &e->base);
	if (i < m->n && mcmp(&m->v[i].base, &e->base) == 0)
		return 0;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 1024;
		m->v = realloc(m->v, m->cap * sizeof(*m->v));
		assert_non_null(m->v);
	}
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = *e;
	m->v[i].base.btype = HAMMER_BTREE_TYPE_RECORD;
	m->n++;
	return 1;
}

static void model_remove(struct model *m, size_t i)
{
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
	m->n--;
}

/* ------------------------------------------------------------- fixture */
struct fx {
	struct hammer_ramio *ram;
	struct hammer_node_io io;
	struct hammer_btree t;
	struct model m;
	uint64_t seed;
	long op;
};

static void fx_init(struct fx *f, unsigned version, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->seed = seed;
	assert_int_equal(hammer_btree_ramio_create(version, &f->ram, &f->io), 0);
	struct hammer_err e = { 0 };
	assert_int_equal(hammer_btree_create(&f->t, &f->io, &e), 0);
}

static void fx_fini(struct fx *f)
{
	hammer_btree_ramio_destroy(f->ram);
	free(f->m.v);
}

#define FAIL_AT(f, ...) do { \
	print_error("seed %llu op %ld: ", (unsigned long long)(f)->seed, (f)->op); \
	print_error(__VA_ARGS__); print_error("\n"); fail(); } while (0)

static void check_clean(struct fx *f, struct hammer_btree_check *out)
{
	struct hammer_btree_check r;
	int rc = hammer_btree_check(&f->t, &r);
	if (rc != 0 || r.count != 0) {
		for (size_t i = 0; i < r.count && i < 10; i++)
			print_error("  %s node %016llx elm %d: %s\n",
				    hammer_chk_code_name(r.findings[i].code),
				    (unsigned long long)r.findings[i].node,
				    r.findings[i].elm, r.findings[i].msg);
		hammer_btree_check_free(&r);
		FAIL_AT(f, "checker rc %d, %zu findings", rc, r.count);
	}
	if (r.records != f->m.n)
		FAIL_AT(f, "checker saw %llu records, model has %zu",
			(unsigned long long)r.records, f->m.n);
	if (hammer_btree_ramio_pinned(f->ram) != 0)
		FAIL_AT(f, "%llu nodes still pinned",
			(unsigned long long)hammer_btree_ramio_pinned(f->ram));
	uint64_t silent = hammer_btree_ramio_audit(f->ram);
	if (silent)
		FAIL_AT(f, "%llu nodes changed without modify()", (unsigned long long)silent);
	if (out)
		*out = r;
	else
		hammer_btree_check_free(&r);
}

static int elm_eq(const struct hammer_btree_leaf_elm *a, const struct hammer_btree_leaf_elm *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Full scan must equal the model, element for element. */
static void check_scan(struct fx *f)
{
	struct hammer_err e = { 0 };
	struct hammer_cursor c;
	size_t i = 0;
	hammer_cursor_init(&c, &f->t, &e);
	int rc = hammer_btree_first(&c);
	while (rc == 0) {
		if (i >= f->m.n || !elm_eq(hammer_cursor_leaf(&c), &f->m.v[i]))
			FAIL_AT(f, "full scan differs at %zu", i);
		i++;
		rc = hammer_btree_next(&c);
	}
	hammer_cursor_done(&c);
	if (rc != -ENOENT || i != f->m.n)
		FAIL_AT(f, "full scan rc %d, %zu of %zu (%s)", rc, i, f->m.n, e.msg);
}

/* ------------------------------------------------------------- generators */
static struct hammer_btree_leaf_elm rand_elm(uint64_t *s, const struct model *m)
{
	static const uint32_t locs[] = { 0, 1, 2, 0x10001, 0x10002, 0xFFFFFFFF };
	static const uint16_t rts[] = { 1, 0x10, 0x11, 0x15 };
	struct hammer_btree_leaf_elm e;
	memset(&e, 0, sizeof(e));
	if (m && m->n && rng_below(s, 10) < 3) {
		/* another version of an existing record */
		e.base = m->v[rng_below(s, m->n)].base;
		e.base.delete_tid = 0;
	} else {
		e.base.localization = locs[rng_below(s, 6)];
		e.base.obj_id = (int64_t)rng_below(s, 64) - 32;
		if (rng_below(s, 50) == 0)
			e.base.obj_id = rng_below(s, 2) ? INT64_MIN : INT64_MAX;
		e.base.rec_type = rts[rng_below(s, 4)];
		e.base.key = (int64_t)rng_below(s, 1024) - 512;
		if (rng_below(s, 50) == 0)
			e.base.key = rng_below(s, 2) ? INT64_MIN : INT64_MAX;
	}
	e.base.create_tid = 1 + rng_below(s, 200);
	if (rng_below(s, 100) == 0)
		e.base.create_tid = 0;
	if (rng_below(s, 8) == 0)
		e.base.delete_tid = e.base.create_tid + 1 + rng_below(s, 100);
	e.base.obj_type = (uint8_t)rng_below(s, 10);
	e.create_ts = (uint32_t)rng_next(s);
	e.delete_ts = e.base.delete_tid ? (uint32_t)rng_next(s) : 0;
	e.data_offset = hammer_encode(HAMMER_ZONE_META_INDEX, 0, rng_below(s, 1u << 30) & ~15ULL);
	e.data_len = (int32_t)rng_below(s, 65536);
	e.data_crc = (uint32_t)rng_next(s);
	e.base.btype = HAMMER_BTREE_TYPE_RECORD;
	return e;
}

static struct hammer_base_elm rand_probe(uint64_t *s, const struct model *m)
{
	if (m->n && rng_below(s, 2))
		return m->v[rng_below(s, m->n)].base;
	return rand_elm(s, NULL).base;
}

/* ------------------------------------------------------------- one op */
enum { OP_INSERT, OP_DELETE, OP_MARK, OP_LOOKUP, OP_ASOF, OP_RANGE, OP_N };

static void do_range(struct fx *f, uint64_t *s)
{
	struct hammer_err e = { 0 };
	struct hammer_cursor c;
	struct hammer_base_elm a = rand_probe(s, &f->m), b = rand_probe(s, &f->m);
	if (mcmp(&a, &b) > 0) {
		struct hammer_base_elm x = a; a = b; b = x;
	}
	hammer_cursor_init(&c, &f->t, &e);
	c.key_beg = a;
	c.key_end = b;
	c.flags = rng_below(s, 2) ? HAMMER_CURSOR_END_INCLUSIVE : 0;
	if (rng_below(s, 2)) {
		c.flags |= HAMMER_CURSOR_ASOF;
		c.asof = 1 + rng_below(s, 300);
	}
	size_t i = model_lb(&f->m, &a);
	int limit = 150, rc = hammer_btree_first(&c);
	for (;;) {
		/* model: next element in range */
		while (i < f->m.n) {
			int r = mcmp(&f->m.v[i].base, &b);
			if (r > 0 || (r == 0 && !(c.flags & HAMMER_CURSOR_END_INCLUSIVE))) {
				i = f->m.n;
				break;
			}
			if (!(c.flags & HAMMER_CURSOR_ASOF) || mvisible(&f->m.v[i].base, c.asof))
				break;
			i++;
		}
		if (i >= f->m.n) {
			if (rc != -ENOENT)
				FAIL_AT(f, "range: tree has more (rc %d)", rc);
			break;
		}
		if (rc != 0)
			FAIL_AT(f, "range: tree ended early rc %d (%s)", rc, e.msg);
		if (!elm_eq(hammer_cursor_leaf(&c), &f->m.v[i]))
			FAIL_AT(f, "range: element differs at model %zu", i);
		if (--limit == 0)
			break;
		i++;
		rc = hammer_btree_next(&c);
	}
	hammer_cursor_done(&c);
}

static void do_op(struct fx *f, uint64_t *s, int op)
{
	struct hammer_err e = { 0 };
	struct hammer_cursor c;
	int rc;

	switch (op) {
	case OP_INSERT: {
		struct hammer_btree_leaf_elm el = rand_elm(s, &f->m);
		rc = hammer_btree_insert(&f->t, &el, &e);
		int fresh = model_insert(&f->m, &el);
		if (rc != (fresh ? 0 : -EEXIST))
			FAIL_AT(f, "insert rc %d, model fresh %d (%s)", rc, fresh, e.msg);
		break;
	}
	case OP_DELETE: {
		struct hammer_base_elm k = rand_probe(s, &f->m);
		long i = model_find(&f->m, &k);
		rc = hammer_btree_delete(&f->t, &k, &e);
		if (rc != (i >= 0 ? 0 : -ENOENT))
			FAIL_AT(f, "delete rc %d, model index %ld (%s)", rc, i, e.msg);
		if (i >= 0)
			model_remove(&f->m, (size_t)i);
		break;
	}
	case OP_MARK: {
		struct hammer_base_elm k = rand_probe(s, &f->m);
		long i = model_find(&f->m, &k);
		hammer_tid_t dt = (k.create_tid ? k.create_tid : 300) + 1 + rng_below(s, 100);
		uint32_t ts = (uint32_t)rng_next(s);
		rc = hammer_btree_mark_deleted(&f->t, &k, dt, ts, &e);
		if (rc != (i >= 0 ? 0 : -ENOENT))
			FAIL_AT(f, "mark rc %d, model index %ld (%s)", rc, i, e.msg);
		if (i >= 0) {
			f->m.v[i].base.delete_tid = dt;
			f->m.v[i].delete_ts = ts;
		}
		break;
	}
	case OP_LOOKUP: {
		struct hammer_base_elm k = rand_probe(s, &f->m);
		long i = model_find(&f->m, &k);
		hammer_cursor_init(&c, &f->t, &e);
		rc = hammer_btree_lookup(&c, &k);
		if (rc != (i >= 0 ? 0 : -ENOENT))
			FAIL_AT(f, "lookup rc %d, model index %ld (%s)", rc, i, e.msg);
		if (i >= 0 && !elm_eq(hammer_cursor_leaf(&c), &f->m.v[i]))
			FAIL_AT(f, "lookup returned another element");
		hammer_cursor_done(&c);
		break;
	}
	case OP_ASOF: {
		struct hammer_base_elm k = rand_probe(s, &f->m);
		hammer_tid_t asof = rng_below(s, 4) ? 1 + rng_below(s, 320) : HAMMER_MAX_TID;
		struct hammer_base_elm k1 = k;
		k1.create_tid = 1;
		long want = -1;
		for (size_t i = model_lb(&f->m, &k1); i < f->m.n && msame4(&f->m.v[i].base, &k); i++) {
			if (mvisible(&f->m.v[i].base, asof)) {
				want = (long)i;
				break;
			}
		}
		hammer_cursor_init(&c, &f->t, &e);
		rc = hammer_btree_lookup_asof(&c, &k, asof);
		if (rc != (want >= 0 ? 0 : -ENOENT))
			FAIL_AT(f, "asof %llu rc %d, model index %ld (%s)",
				(unsigned long long)asof, rc, want, e.msg);
		if (want >= 0 && !elm_eq(hammer_cursor_leaf(&c), &f->m.v[want]))
			FAIL_AT(f, "asof returned another version");
		hammer_cursor_done(&c);
		break;
	}
	case OP_RANGE:
		do_range(f, s);
		break;
	}
}

/* Weights: insert-heavy phases then delete-heavy phases, so trees grow and shrink. */
static int pick_op(uint64_t *s, long op, long batch)
{
	int shrink = (op / (batch * 8)) % 3 == 2;
	uint64_t r = rng_below(s, 100);
	if (r < (shrink ? 15 : 45))
		return OP_INSERT;
	if (r < 60)
		return OP_DELETE;
	if (r < 68)
		return OP_MARK;
	if (r < 82)
		return OP_LOOKUP;
	if (r < 94)
		return OP_ASOF;
	return OP_RANGE;
}

static void run_model(uint64_t seed, long ops, unsigned version)
{
	struct fx f;
	uint64_t s = seed;
	long batch = 500;
	fx_init(&f, version, seed);
	for (f.op = 0; f.op < ops; f.op++) {
		do_op(&f, &s, pick_op(&s, f.op, batch));
		if (hammer_btree_ramio_pinned(f.ram) != 0)
			FAIL_AT(&f, "nodes left pinned");
		if ((f.op + 1) % batch == 0) {
			check_clean(&f, NULL);
			if ((f.op + 1) % (batch * 4) == 0) {
				/* reload every node from its encoded bytes */
				hammer_btree_ramio_drop(f.ram);
				check_scan(&f);
			}
		}
	}
	check_clean(&f, NULL);
	check_scan(&f);
	fx_fini(&f);
}

static uint64_t env_seed(uint64_t dflt)
{
	const char *s = getenv("HAMMER_TEST_SEED");
	return s ? strtoull(s, NULL, 0) : dflt;
}

static void model_campaign(void **state)
{
	(void)state;
	long total = slow_mode ? 1200000 : 50000;
	long per = scaled(total / 5);
	if (getenv("HAMMER_TEST_SEED")) {
		run_model(env_seed(1), per, 7);
		return;
	}
	for (uint64_t seed = 1; seed <= 5; seed++)
		run_model(seed, per, seed == 3 ? 6 : 7);
}

/* ------------------------------------------------------------- unit cases */
static struct hammer_base_elm K(uint32_t loc, int64_t obj, uint16_t rt, int64_t key,
				 hammer_tid_t ctid)
{
	struct hammer_base_elm b;
	memset(&b, 0, sizeof(b));
	b.localization = loc;
	b.obj_id = obj;
	b.rec_type = rt;
	b.key = key;
	b.create_tid = ctid;
	return b;
}

static struct hammer_btree_leaf_elm L(struct hammer_base_elm b)
{
	struct hammer_btree_leaf_elm e;
	memset(&e, 0, sizeof(e));
	e.base = b;
	e.base.btype = HAMMER_BTREE_TYPE_RECORD;
	e.data_offset = hammer_encode(HAMMER_ZONE_META_INDEX, 0, 0x1000);
	e.data_len = 128;
	return e;
}

static void compare(void **state)
{
	(void)state;
	struct hammer_base_elm a = K(1, 5, 1, 7, 10), b;
	b = a; assert_int_equal(hammer_btree_cmp(&a, &b), 0);
	b = a; b.create_tid = 11; assert_int_equal(hammer_btree_cmp(&a, &b), -1);
	b = a; b.create_tid = 0; assert_int_equal(hammer_btree_cmp(&a, &b), -1);
	a.create_tid = 0; assert_int_equal(hammer_btree_cmp(&a, &b), 0);
	b.create_tid = HAMMER_MAX_TID; assert_int_equal(hammer_btree_cmp(&a, &b), 1);
	a.create_tid = 10;
	b = a; b.key = -1; assert_int_equal(hammer_btree_cmp(&a, &b), 2);
	b = a; b.key = INT64_MIN; assert_int_equal(hammer_btree_cmp(&b, &a), -2);
	b = a; b.rec_type = 0; assert_int_equal(hammer_btree_cmp(&a, &b), 3);
	b = a; b.obj_id = -5; b.key = 100; assert_int_equal(hammer_btree_cmp(&a, &b), 4);
	b = a; b.localization = 0xFFFFFFFF; b.obj_id = INT64_MIN;
	assert_int_equal(hammer_btree_cmp(&a, &b), -5);
	/* delete_tid, btype and obj_type are not part of the order */
	b = a; b.delete_tid = 99; b.btype = 'R'; b.obj_type = 3;
	assert_int_equal(hammer_btree_cmp(&a, &b), 0);
	/* visibility */
	a.create_tid = 10; a.delete_tid = 0;
	assert_false(hammer_btree_visible(&a, 9));
	assert_true(hammer_btree_visible(&a, 10));
	assert_true(hammer_btree_visible(&a, HAMMER_MAX_TID));
	a.delete_tid = 20;
	assert_true(hammer_btree_visible(&a, 19));
	assert_false(hammer_btree_visible(&a, 20));
	/* the model agrees with the engine on random pairs */
	uint64_t s = 77;
	for (int i = 0; i < 20000; i++) {
		struct hammer_base_elm x = rand_elm(&s, NULL).base, y = rand_elm(&s, NULL).base;
		if (rng_below(&s, 3) == 0)
			y = x, y.create_tid = rng_below(&s, 4);
		int r1 = hammer_btree_cmp(&x, &y), r2 = mcmp(&x, &y);
		assert_true((r1 > 0) == (r2 > 0) && (r1 < 0) == (r2 < 0));
		assert_true((abs(r1) <= 1) == msame4(&x, &y));
	}
}

static void encode_decode(void **state)
{
	(void)state;
	static struct hammer_node_ondisk host, back;
	static uint8_t disk[4096] __attribute__((aligned(64)));
	struct hammer_err e = { 0 };
	int why;

	memset(&host, 0, sizeof(host));
	host.type = HAMMER_BTREE_TYPE_LEAF;
	host.count = 3;
	host.parent = hammer_encode(8, 0, 0x8000);
	host.mirror_tid = 0x1234;
	for (int i = 0; i < 3; i++)
		host.elms[i].leaf = L(K(1, 10 + i, 1, i, 5));
	host.elms[40].base.obj_id = 99;	/* garbage in an unused slot */
	for (unsigned v = 6; v <= 7; v++) {
		hammer_btree_node_encode(v, &host, disk);
		const struct hammer_node_ondisk *d = (const void *)disk;
		assert_int_equal(d->elms[40].base.obj_id, 0);
		uint32_t want = hammer_datacrc(v, disk + 4, 4092);
		assert_int_equal(le32toh(d->crc), want);
		assert_int_equal(hammer_btree_node_decode(v, 0x8000000000001000ULL, disk, &back, &why, &e), 0);
		assert_int_equal(back.count, 3);
		assert_memory_equal(&back.elms[0], &host.elms[0], 3 * 64);
		assert_true(back.mirror_tid == 0x1234 && back.parent == host.parent);
	}
	/* version 6 rejects a CRC-32C node; 7 accepts both */
	hammer_btree_node_encode(7, &host, disk);
	why = 0;
	assert_int_equal(hammer_btree_node_decode(6, 0x8000000000001000ULL, disk, &back, &why, &e), -EUCLEAN);
	assert_int_equal(why, HAMMER_CHK_BTREE_CRC);
	assert_non_null(strstr(e.msg, "8000000000001000"));
	hammer_btree_node_encode(6, &host, disk);
	assert_int_equal(hammer_btree_node_decode(7, 1, disk, &back, &why, &e), 0);
	/* one flipped bit anywhere in 4..4095 is caught */
	for (int off = 4; off < 4096; off += 509) {
		memset(&e, 0, sizeof(e));
		hammer_btree_node_encode(7, &host, disk);
		disk[off] ^= 0x10;
		why = 0;
		assert_int_equal(hammer_btree_node_decode(7, 1, disk, &back, &why, &e), -EUCLEAN);
		assert_int_equal(why, HAMMER_CHK_BTREE_CRC);
	}
	/* structural problems with a good CRC */
	struct { int field; int code; } cases[] = {
		{ 0, HAMMER_CHK_BTREE_COUNT }, { 1, HAMMER_CHK_BTREE_NODE_TYPE },
		{ 2, HAMMER_CHK_BTREE_KEY_ORDER }, { 3, HAMMER_CHK_BTREE_ELM_BTYPE },
		{ 4, HAMMER_CHK_BTREE_NODE_TYPE }, { 5, HAMMER_CHK_BTREE_COUNT },
		{ 6, HAMMER_CHK_BTREE_SUBTREE_ADDR }, { 7, HAMMER_CHK_BTREE_BOUNDARY },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hammer_node_ondisk bad = host;
		switch (cases[i].field) {
		case 0: bad.count = 64; break;
		case 1: bad.type = 'X'; break;
		case 2: bad.elms[1].base.obj_id = 5; break;
		case 3: bad.elms[2].base.btype = 'I'; break;
		case 4: bad.type = HAMMER_BTREE_TYPE_DELETED; break;
		case 5: case 6: case 7:
			bad.type = HAMMER_BTREE_TYPE_INTERNAL;
			bad.count = cases[i].field == 5 ? 0 : 2;
			for (int j = 0; j < 3; j++) {
				bad.elms[j].base.btype = j < 2 ? HAMMER_BTREE_TYPE_LEAF : 0;
				bad.elms[j].internal.subtree_offset = j < 2 ? hammer_encode(8, 0, 0x1000 * (j + 1)) : 0;
			}
			if (cases[i].field == 6)
				bad.elms[1].internal.subtree_offset = hammer_encode(9, 0, 0x1000);
			if (cases[i].field == 7)
				bad.elms[2].internal.subtree_offset = hammer_encode(8, 0, 0x1000);
			break;
		}
		hammer_btree_node_encode(7, &bad, disk);
		memset(&e, 0, sizeof(e));
		why = 0;
		assert_int_equal(hammer_btree_node_decode(7, 1, disk, &back, &why, &e), -EUCLEAN);
		assert_int_equal(why, cases[i].code);
	}
}

static int depth_of(struct fx *f)
{
	struct hammer_btree_check r;
	check_clean(f, &r);
	hammer_btree_check_free(&r);
	return r.depth;
}

static struct hammer_node *get(struct fx *f, hammer_off_t off)
{
	struct hammer_node *n;
	struct hammer_err e = { 0 };
	assert_int_equal(f->io.ops->get(f->io.ctx, off, &n, NULL, &e), 0);
	return n;
}

static void put(struct fx *f, struct hammer_node *n)
{
	f->io.ops->put(f->io.ctx, n);
}

static void ins(struct fx *f, struct hammer_btree_leaf_elm e)
{
	struct hammer_err err = { 0 };
	int rc = hammer_btree_insert(&f->t, &e, &err);
	if (rc)
		FAIL_AT(f, "insert rc %d (%s)", rc, err.msg);
	assert_int_equal(model_insert(&f->m, &e), 1);
}

static void empty_tree(void **state)
{
	(void)state;
	struct fx f;
	struct hammer_err e = { 0 };
	struct hammer_cursor c;
	fx_init(&f, 7, 0);
	assert_int_equal(depth_of(&f), 1);
	struct hammer_base_elm k = K(1, 1, 1, 1, 1);
	hammer_cursor_init(&c, &f.t, &e);
	assert_int_equal(hammer_btree_lookup(&c, &k), -ENOENT);
	assert_int_equal(hammer_btree_first(&c), -ENOENT);
	assert_int_equal(hammer_btree_lookup_asof(&c, &k, 5), -ENOENT);
	assert_int_equal(hammer_btree_delete(&f.t, &k, &e), -ENOENT);
	assert_int_equal(hammer_btree_mark_deleted(&f.t, &k, 9, 0, &e), -ENOENT);
	/* keys at or beyond the root's right boundary cannot be stored */
	struct hammer_btree_leaf_elm top = L(hammer_btree_root_end);
	assert_int_equal(hammer_btree_insert(&f.t, &top, &e), -EINVAL);
	top.base.create_tid = 0;
	assert_int_equal(hammer_btree_insert(&f.t, &top, &e), -EINVAL);
	/* the smallest storable key and the largest */
	struct hammer_btree_leaf_elm lo = L(hammer_btree_root_beg), hi = L(hammer_btree_root_end);
	lo.base.delete_tid = 0;
	hi.base.create_tid = HAMMER_MAX_TID - 1;
	ins(&f, lo);
	ins(&f, hi);
	check_scan(&f);
	assert_int_equal(hammer_btree_ramio_pinned(f.ram), 0);
	fx_fini(&f);
}

static void split_boundaries(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 7, 0);
	/* 63 records fill the root leaf */
	for (int i = 0; i < 63; i++)
		ins(&f, L(K(1, 100, 1, i * 2, 1)));
	assert_int_equal(depth_of(&f), 1);
	hammer_off_t leaf_root = f.t.root;
	/* the 64th, in the middle, splits it: new root above, 32/32 */
	ins(&f, L(K(1, 100, 1, 31, 1)));
	assert_int_equal(depth_of(&f), 2);
	assert_true(f.t.root != leaf_root);
	struct hammer_node *r = get(&f, f.t.root);
	assert_int_equal(r->ondisk->type, HAMMER_BTREE_TYPE_INTERNAL);
	assert_int_equal(r->ondisk->count, 2);
	assert_int_equal(r->ondisk->parent, 0);
	struct hammer_base_elm b0 = r->ondisk->elms[0].base, b2 = r->ondisk->elms[2].base;
	assert_int_equal(hammer_btree_cmp(&b0, &hammer_btree_root_beg), 0);
	assert_int_equal(b0.delete_tid, 1);
	assert_int_equal(b0.btype, HAMMER_BTREE_TYPE_LEAF);
	assert_int_equal(hammer_btree_cmp(&b2, &hammer_btree_root_end), 0);
	assert_int_equal(b2.btype, 0);
	assert_true(r->ondisk->elms[2].internal.subtree_offset == 0);
	assert_true(r->ondisk->elms[0].internal.subtree_offset == leaf_root);
	struct hammer_node *l0 = get(&f, r->ondisk->elms[0].internal.subtree_offset);
	struct hammer_node *l1 = get(&f, r->ondisk->elms[1].internal.subtree_offset);
	assert_int_equal(l0->ondisk->count + l1->ondisk->count, 64);
	assert_true(l0->ondisk->count >= 31 && l0->ondisk->count <= 33);
	assert_true(l0->ondisk->parent == f.t.root && l1->ondisk->parent == f.t.root);
	/* the separator is the first key on the right */
	assert_int_equal(hammer_btree_cmp(&r->ondisk->elms[1].base, &l1->ondisk->elms[0].base), 0);
	put(&f, l0); put(&f, l1); put(&f, r);
	assert_int_equal(f.t.stats.root_splits, 1);
	assert_int_equal(f.t.stats.leaf_splits, 1);
	check_scan(&f);
	fx_fini(&f);

	/* appending at the right edge splits 3/4: 48 + 16 */
	fx_init(&f, 7, 0);
	for (int i = 0; i < 64; i++)
		ins(&f, L(K(1, 100, 1, i, 1)));
	r = get(&f, f.t.root);
	l0 = get(&f, r->ondisk->elms[0].internal.subtree_offset);
	l1 = get(&f, r->ondisk->elms[1].internal.subtree_offset);
	assert_int_equal(l0->ondisk->count, 48);
	assert_int_equal(l1->ondisk->count, 16);
	put(&f, l0); put(&f, l1); put(&f, r);
	fx_fini(&f);
}

/* Sequential appends: ~3/4 full leaves, an internal split, depth 3. */
static void append_fill(void **state)
{
	(void)state;
	struct fx f;
	struct hammer_btree_check r;
	fx_init(&f, 7, 0);
	long n = scaled(120000);
	for (long i = 0; i < n; i++)
		ins(&f, L(K(2, i / 1000, 0x10, i % 1000, 1 + (hammer_tid_t)i)));
	check_clean(&f, &r);
	double fill = (double)r.slots_used / (double)r.slots_total;
	hammer_btree_check_free(&r);
	if (n >= 100000) {
		assert_true(fill > 0.74);
		assert_true(f.t.stats.internal_splits > 0);
	}
	if (n == 120000)	/* 120000 / (63 * 3/4) leaves need exactly 3 levels */
		assert_int_equal(r.depth, 3);
	double spi = (double)(f.t.stats.leaf_splits + f.t.stats.internal_splits) / (double)n;
	assert_true(spi < 1.0 / 40);
	check_scan(&f);
	fx_fini(&f);

	/* random order: between 1/2 and full */
	fx_init(&f, 7, 0);
	uint64_t s = 5;
	for (long i = 0; i < n; i++) {
		struct hammer_btree_leaf_elm e = L(K(2, (int64_t)rng_below(&s, 1u << 20), 0x10,
						      (int64_t)rng_next(&s), 1));
		struct hammer_err err = { 0 };
		int rc = hammer_btree_insert(&f.t, &e, &err);
		/* collisions are possible but rare: count, no model (O(n^2)) */
		if (rc == 0)
			f.m.n++;
		else
			assert_int_equal(rc, -EEXIST);
	}
	check_clean(&f, &r);
	fill = (double)r.slots_used / (double)r.slots_total;
	hammer_btree_check_free(&r);
	if (n >= 100000)
		assert_true(fill > 0.55 && fill < 0.8);
	f.m.n = 0;
	fx_fini(&f);
}

static void delete_all_reinsert(void **state)
{
	(void)state;
	struct fx f;
	struct hammer_err e = { 0 };
	struct hammer_ramio_stats st;
	fx_init(&f, 7, 0);
	long n = scaled(20000);
	uint64_t s = 9;
	for (int round = 0; round < 2; round++) {
		for (long i = 0; i < n; i++) {
			struct hammer_btree_leaf_elm el = L(K(1, (int64_t)(rng_below(&s, 5000)), 1,
							       (int64_t)rng_below(&s, 100), 7));
			int rc = hammer_btree_insert(&f.t, &el, &e);
			assert_int_equal(rc, model_insert(&f.m, &el) ? 0 : -EEXIST);
		}
		assert_true(depth_of(&f) >= (n >= 20000 ? 3 : 1));
		/* delete in random order, checking now and then */
		while (f.m.n) {
			size_t i = (size_t)rng_below(&s, f.m.n);
			struct hammer_base_elm k = f.m.v[i].base;
			assert_int_equal(hammer_btree_delete(&f.t, &k, &e), 0);
			model_remove(&f.m, i);
			if (f.m.n % 997 == 0)
				check_clean(&f, NULL);
		}
		struct hammer_node *r = get(&f, f.t.root);
		assert_int_equal(r->ondisk->type, HAMMER_BTREE_TYPE_LEAF);
		assert_int_equal(r->ondisk->count, 0);
		put(&f, r);
		hammer_btree_ramio_stats(f.ram, &st);
		assert_int_equal(st.live, 1);
		assert_int_equal(depth_of(&f), 1);
		assert_true(f.t.stats.nodes_freed > 0);
	}
	fx_fini(&f);
}

/* mirror_tid values after inserts, marks and removals. */
static void mirror_tids(void **state)
{
	(void)state;
	struct fx f;
	struct hammer_err e = { 0 };
	fx_init(&f, 7, 0);
	for (int i = 0; i < 200; i++)
		ins(&f, L(K(1, 1, 1, i, 10)));
	assert_int_equal(depth_of(&f), 2);
	struct hammer_node *r = get(&f, f.t.root);
	int cnt = r->ondisk->count;
	assert_true(cnt >= 3);
	assert_int_equal(r->ondisk->mirror_tid, 10);
	for (int i = 0; i < cnt; i++)
		assert_int_equal(r->ondisk->elms[i].internal.mirror_tid, 10);
	put(&f, r);
	/* a newer record lands in the last leaf: leaf, elm and root follow */
	ins(&f, L(K(1, 1, 1, 1000, 50)));
	r = get(&f, f.t.root);
	assert_int_equal(r->ondisk->mirror_tid, 50);
	assert_int_equal(r->ondisk->elms[cnt - 1].internal.mirror_tid, 50);
	assert_int_equal(r->ondisk->elms[0].internal.mirror_tid, 10);
	struct hammer_node *last = get(&f, r->ondisk->elms[cnt - 1].internal.subtree_offset);
	assert_int_equal(last->ondisk->mirror_tid, 50);
	put(&f, last);
	put(&f, r);
	/* marking a record in the first leaf at 70 */
	struct hammer_base_elm k0 = K(1, 1, 1, 0, 10);
	assert_int_equal(hammer_btree_mark_deleted(&f.t, &k0, 70, 123, &e), 0);
	f.m.v[0].base.delete_tid = 70;
	f.m.v[0].delete_ts = 123;
	r = get(&f, f.t.root);
	assert_int_equal(r->ondisk->mirror_tid, 70);
	assert_int_equal(r->ondisk->elms[0].internal.mirror_tid, 70);
	assert_int_equal(r->ondisk->elms[1].internal.mirror_tid, 10);
	put(&f, r);
	/* an older TID changes nothing above the leaf */
	assert_int_equal(hammer_btree_mark_deleted(&f.t, &f.m.v[1].base, 60, 1, &e), 0);
	f.m.v[1].base.delete_tid = 60;
	f.m.v[1].delete_ts = 1;
	r = get(&f, f.t.root);
	assert_int_equal(r->ondisk->mirror_tid, 70);
	assert_int_equal(r->ondisk->elms[0].internal.mirror_tid, 70);
	/* empty the first leaf: its mirror_tid 70 moves to the right neighbour */
	struct hammer_node *l0 = get(&f, r->ondisk->elms[0].internal.subtree_offset);
	int c0 = l0->ondisk->count;
	put(&f, l0);
	put(&f, r);
	for (int i = 0; i < c0; i++) {
		assert_int_equal(hammer_btree_delete(&f.t, &f.m.v[0].base, &e), 0);
		model_remove(&f.m, 0);
	}
	r = get(&f, f.t.root);
	assert_int_equal(r->ondisk->count, cnt - 1);
	assert_int_equal(r->ondisk->elms[0].internal.mirror_tid, 70);
	/* the root's left boundary moved right */
	assert_true(hammer_btree_cmp(&r->ondisk->elms[0].base, &hammer_btree_root_beg) > 0);
	put(&f, r);
	check_clean(&f, NULL);
	/* a key left of the narrowed boundary goes in again (widening it back) */
	uint64_t fix = f.t.stats.bound_fixups;
	ins(&f, L(K(1, 1, 1, -5, 80)));
	assert_int_equal(f.t.stats.bound_fixups, fix + 1);
	r = get(&f, f.t.root);
	assert_int_equal(hammer_btree_cmp(&r->ondisk->elms[0].base, &hammer_btree_root_beg), 0);
	assert_int_equal(r->ondisk->elms[0].internal.mirror_tid, 80);
	put(&f, r);
	check_clean(&f, NULL);
	check_scan(&f);
	/* no_mirror: nothing moves */
	f.t.no_mirror = 1;
	ins(&f, L(K(1, 1, 1, 5000, 500)));
	r = get(&f, f.t.root);
	assert_int_equal(r->ondisk->mirror_tid, 80);
	put(&f, r);
	fx_fini(&f);
}

/*
 * Many versions of one key spread across leaves: separators then differ
 * from neighbours only in create_tid.  Every as-of must find its version.
 */
static void asof_across_leaves(void **state)
{
	(void)state;
	struct fx f;
	struct hammer_err e = { 0 };
	struct hammer_cursor c;
	fx_init(&f, 7, 0);
	for (int v = 0; v < 400; v++) {
		struct hammer_btree_leaf_elm el = L(K(1, 42, 0x10, 4096, 10 + 10 * (hammer_tid_t)v));
		el.base.delete_tid = 20 + 10 * (hammer_tid_t)v;	/* each version replaced by the next */
		ins(&f, el);
	}
	ins(&f, L(K(1, 42, 0x10, 4095, 5)));
	ins(&f, L(K(1, 42, 0x10, 4097, 5)));
	assert_true(depth_of(&f) >= 2);
	struct hammer_base_elm k = K(1, 42, 0x10, 4096, 12345);
	for (hammer_tid_t a = 0; a < 4100; a += 3) {
		hammer_cursor_init(&c, &f.t, &e);
		int rc = hammer_btree_lookup_asof(&c, &k, a);
		if (a < 10 || a >= 4010) {
			/* before the first version, after the last one's delete */
			assert_int_equal(rc, -ENOENT);
			continue;
		}
		assert_int_equal(rc, 0);
		const struct hammer_btree_leaf_elm *le = hammer_cursor_leaf(&c);
		assert_true(le->base.create_tid == 10 + (a - 10) / 10 * 10);
		hammer_cursor_done(&c);
	}
	fx_fini(&f);
}

/* ------------------------------------------------------------- corruption */

/* A tree of depth 3 with everything synced to disk bytes. */
static void build_deep(struct fx *f)
{
	fx_init(f, 7, 0);
	for (long i = 0; i < 6000; i++)
		ins(f, L(K(1, i / 100, 1, i % 100, 5)));
	assert_int_equal(depth_of(f), 3);
	hammer_btree_ramio_drop(f->ram);
}

struct path3 { hammer_off_t root, mid, leaf; int mid_i, leaf_i; };

static struct path3 pick_path(struct fx *f, int mid_i, int leaf_i)
{
	struct path3 p = { .root = f->t.root, .mid_i = mid_i, .leaf_i = leaf_i };
	struct hammer_node *r = get(f, p.root);
	p.mid = r->ondisk->elms[mid_i].internal.subtree_offset;
	struct hammer_node *m = get(f, p.mid);
	p.leaf = m->ondisk->elms[leaf_i].internal.subtree_offset;
	put(f, m);
	put(f, r);
	return p;
}

/* Decode the disk bytes of `off`, let `fn` damage the node, re-encode (good CRC). */
static void damage(struct fx *f, hammer_off_t off, void (*fn)(struct hammer_node_ondisk *, struct path3 *),
		   struct path3 *p)
{
	static struct hammer_node_ondisk n;
	struct hammer_err e = { 0 };
	uint8_t *raw = hammer_btree_ramio_raw(f->ram, off);
	assert_non_null(raw);
	assert_int_equal(hammer_btree_node_decode(7, off, raw, &n, NULL, &e), 0);
	fn(&n, p);
	hammer_btree_node_encode(7, &n, raw);
}

static void swap_keys(struct hammer_node_ondisk *n, struct path3 *p)
{
	(void)p;
	hammer_btree_elm_t t = n->elms[3];
	n->elms[3] = n->elms[4];
	n->elms[4] = t;
}
static void bad_parent(struct hammer_node_ondisk *n, struct path3 *p) { n->parent = p->root; }
static void big_count(struct hammer_node_ondisk *n, struct path3 *p) { (void)p; n->count = 70; }
static void loop_to_root(struct hammer_node_ondisk *n, struct path3 *p)
{
	n->elms[p->leaf_i].internal.subtree_offset = p->root;
	n->elms[p->leaf_i].base.btype = HAMMER_BTREE_TYPE_INTERNAL;
}
static void share_child(struct hammer_node_ondisk *n, struct path3 *p)
{
	(void)p;
	n->elms[2].internal.subtree_offset = n->elms[1].internal.subtree_offset;
}
static void mirror_low(struct hammer_node_ondisk *n, struct path3 *p) { (void)p; n->mirror_tid = 1; }
static void flip_crc(struct fx *f, hammer_off_t off)
{
	hammer_btree_ramio_raw(f->ram, off)[2000] ^= 1;
}

struct corrupt_case {
	const char *name;
	int code;
	int target;	/* 0 leaf, 1 mid internal */
	void (*fn)(struct hammer_node_ondisk *, struct path3 *);
};

static void corruption(void **state)
{
	(void)state;
	static const struct corrupt_case cases[] = {
		{ "bad crc", HAMMER_CHK_BTREE_CRC, 0, NULL },
		{ "keys out of order", HAMMER_CHK_BTREE_KEY_ORDER, 0, swap_keys },
		{ "bad parent", HAMMER_CHK_BTREE_PARENT, 0, bad_parent },
		{ "count out of range", HAMMER_CHK_BTREE_COUNT, 0, big_count },
		{ "loop to ancestor", HAMMER_CHK_BTREE_LOOP, 1, loop_to_root },
		{ "shared child", HAMMER_CHK_BTREE_SHARED, 1, share_child },
		{ "mirror below elements", HAMMER_CHK_BTREE_MIRROR_LEAF, 0, mirror_low },
	};
	for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
		const struct corrupt_case *cc = &cases[ci];
		struct fx f;
		struct hammer_btree_check r;
		struct hammer_err e = { 0 };
		struct hammer_cursor c;
		build_deep(&f);
		struct path3 p = pick_path(&f, 1, 2);
		/* a key that lives in the target leaf */
		struct hammer_node *ln = get(&f, p.leaf);
		struct hammer_base_elm probe = ln->ondisk->elms[0].base;
		put(&f, ln);
		hammer_btree_ramio_drop(f.ram);
		hammer_off_t target = cc->target ? p.mid : p.leaf;
		if (cc->fn)
			damage(&f, target, cc->fn, &p);
		else
			flip_crc(&f, target);

		assert_int_equal(hammer_btree_check(&f.t, &r), 0);
		int at = hammer_btree_check_find(&r, cc->code);
		if (at < 0) {
			for (size_t i = 0; i < r.count; i++)
				print_error("  %s: %s\n", hammer_chk_code_name(r.findings[i].code),
					    r.findings[i].msg);
			fail_msg("%s: checker did not report %s", cc->name,
				 hammer_chk_code_name(cc->code));
		}
		assert_true(r.errors > 0);
		if (cc->code != HAMMER_CHK_BTREE_LOOP && cc->code != HAMMER_CHK_BTREE_SHARED)
			assert_true(r.findings[at].node == target);
		hammer_btree_check_free(&r);
		assert_int_equal(hammer_btree_ramio_pinned(f.ram), 0);

		if (cc->code == HAMMER_CHK_BTREE_MIRROR_LEAF) {
			/* mirror damage does not stop reads */
			hammer_cursor_init(&c, &f.t, &e);
			assert_int_equal(hammer_btree_lookup(&c, &probe), 0);
			hammer_cursor_done(&c);
			fx_fini(&f);
			continue;
		}
		/* the cursor refuses the damaged path */
		hammer_cursor_init(&c, &f.t, &e);
		int rc = cc->code == HAMMER_CHK_BTREE_SHARED ? 0 : hammer_btree_lookup(&c, &probe);
		if (cc->code != HAMMER_CHK_BTREE_SHARED) {
			if (rc != -EUCLEAN)
				fail_msg("%s: lookup rc %d", cc->name, rc);
			assert_true(e.code == -EUCLEAN && e.msg[0]);
			if (cc->code == HAMMER_CHK_BTREE_LOOP)
				assert_non_null(strstr(e.msg, "ancestor"));
		}
		hammer_cursor_done(&c);
		/* a full scan stops with -EUCLEAN, never loops or crashes */
		memset(&e, 0, sizeof(e));
		hammer_cursor_init(&c, &f.t, &e);
		long seen = 0;
		rc = hammer_btree_first(&c);
		while (rc == 0 && seen < 100000) {
			seen++;
			rc = hammer_btree_next(&c);
		}
		hammer_cursor_done(&c);
		if (rc != -EUCLEAN)
			fail_msg("%s: scan rc %d after %ld", cc->name, rc, seen);
		/* and so do the mutations that pass through it */
		struct hammer_btree_leaf_elm el = L(probe);
		el.base.create_tid = 6;
		memset(&e, 0, sizeof(e));
		if (cc->code != HAMMER_CHK_BTREE_SHARED)
			assert_int_equal(hammer_btree_insert(&f.t, &el, &e), -EUCLEAN);
		assert_int_equal(hammer_btree_ramio_pinned(f.ram), 0);
		fx_fini(&f);
	}
}

/* Failures in modify / alloc leave the tree exactly as it was. */
static void injected_failures(void **state)
{
	(void)state;
	struct fx f;
	uint64_t s = 31;
	long ops = scaled(6000);
	fx_init(&f, 7, 31);
	for (f.op = 0; f.op < ops; f.op++) {
		struct hammer_err e = { 0 };
		int op = (int)rng_below(&s, 3);
		hammer_btree_ramio_fail(f.ram, rng_below(&s, 2) ? 1 + rng_below(&s, 6) : 0,
					rng_below(&s, 2) ? 1 + rng_below(&s, 3) : 0);
		int rc;
		if (op == 0 || f.m.n < 100) {
			struct hammer_btree_leaf_elm el = rand_elm(&s, &f.m);
			rc = hammer_btree_insert(&f.t, &el, &e);
			if (rc == 0)
				assert_int_equal(model_insert(&f.m, &el), 1);
			else if (rc != -EIO && rc != -EEXIST)
				FAIL_AT(&f, "insert rc %d", rc);
		} else if (op == 1) {
			size_t i = (size_t)rng_below(&s, f.m.n);
			rc = hammer_btree_delete(&f.t, &f.m.v[i].base, &e);
			if (rc == 0)
				model_remove(&f.m, i);
			else if (rc != -EIO)
				FAIL_AT(&f, "delete rc %d", rc);
		} else {
			size_t i = (size_t)rng_below(&s, f.m.n);
			hammer_tid_t dt = 1000 + (hammer_tid_t)f.op;
			rc = hammer_btree_mark_deleted(&f.t, &f.m.v[i].base, dt, 7, &e);
			if (rc == 0) {
				f.m.v[i].base.delete_tid = dt;
				f.m.v[i].delete_ts = 7;
			} else if (rc != -EIO) {
				FAIL_AT(&f, "mark rc %d", rc);
			}
		}
		hammer_btree_ramio_fail(f.ram, 0, 0);
		if (f.op % 50 == 0) {
			check_clean(&f, NULL);
			check_scan(&f);
		}
	}
	check_clean(&f, NULL);
	check_scan(&f);
	fx_fini(&f);
}

/* Deep tree: four levels, then remove it all through a cursor scan. */
static void deep_tree(void **state)
{
	(void)state;
	struct fx f;
	struct hammer_err e = { 0 };
	struct hammer_cursor c;
	long n = scaled(300000);
	uint64_t s = 17;
	fx_init(&f, 7, 17);
	for (long i = 0; i < n; i++) {
		struct hammer_btree_leaf_elm el = L(K(3, (int64_t)rng_next(&s), 1, 0, 9));
		struct hammer_err err = { 0 };
		assert_int_equal(hammer_btree_insert(&f.t, &el, &err), 0);
		f.m.n++;	/* count only; contents checked by scan order below */
	}
	int d = depth_of(&f);
	if (n == 300000)
		assert_int_equal(d, 4);
	else
		assert_true(d >= 2);
	/* delete_at while scanning: re-seek after each removal */
	hammer_cursor_init(&c, &f.t, &e);
	long removed = 0;
	struct hammer_base_elm prev;
	memset(&prev, 0, sizeof(prev));
	int rc = hammer_btree_first(&c);
	while (rc == 0) {
		const struct hammer_btree_leaf_elm *le = hammer_cursor_leaf(&c);
		if (removed)
			assert_true(hammer_btree_cmp(&prev, &le->base) < 0);
		prev = le->base;
		c.key_beg = le->base;
		assert_int_equal(hammer_btree_delete_at(&c), 0);
		removed++;
		rc = hammer_btree_first(&c);
	}
	assert_int_equal(rc, -ENOENT);
	assert_int_equal(removed, n);
	f.m.n = 0;
	assert_int_equal(depth_of(&f), 1);
	fx_fini(&f);
}

/* ------------------------------------------------------------- hints */

/* The hinted cursor must stand exactly where the unhinted one does. */
static void same_path(struct fx *f, const struct hammer_cursor *u,
		      const struct hammer_cursor *h, const char *what)
{
	if (u->depth != h->depth)
		FAIL_AT(f, "%s: depth %d, hinted %d", what, u->depth, h->depth);
	for (int d = 0; d < u->depth; d++) {
		if (u->path[d].node->offset != h->path[d].node->offset ||
		    u->path[d].index != h->path[d].index)
			FAIL_AT(f, "%s: level %d: %016llx/%d, hinted %016llx/%d", what, d,
				(unsigned long long)u->path[d].node->offset, u->path[d].index,
				(unsigned long long)h->path[d].node->offset, h->path[d].index);
	}
	if (h->depth && !hammer_cursor_ok(h))
		FAIL_AT(f, "%s: hinted path links inconsistent", what);
}

/*
 * Hinted readers next to the plain one: `pc` stays positioned between reads
 * (released before every mutation), the pool hints go stale across
 * mutations, splits and node reuse, and now and then one is filled with
 * garbage.
 */
struct hint_ctx {
	struct hammer_cursor pc;
	struct hammer_err pe;
	struct hammer_btree_hint own;
	struct hammer_btree_hint pool[8];
	long last;		/* model index of the last probe */
};

/* Mostly the key after the last one (sequential access), some near misses. */
static struct hammer_base_elm hint_probe(uint64_t *s, struct fx *f, struct hint_ctx *hc)
{
	struct hammer_base_elm k;
	uint64_t r = rng_below(s, 10);
	long n = (long)f->m.n;

	if (n == 0 || r >= 7) {
		k = rand_probe(s, &f->m);
		hc->last = (long)model_lb(&f->m, &k);
		return k;
	}
	if (r < 4)
		hc->last++;
	else if (r < 5)
		hc->last--;
	hc->last = hc->last < 0 ? 0 : hc->last >= n ? n - 1 : hc->last;
	k = f->m.v[hc->last].base;
	if (r == 6)
		k.create_tid = k.create_tid ? k.create_tid + 1 : 1;	/* usually absent */
	return k;
}

static void hint_scramble(uint64_t *s, struct fx *f, struct hammer_btree_hint *h)
{
	struct hammer_ramio_stats st;
	hammer_btree_ramio_stats(f->ram, &st);
	h->depth = (int)rng_below(s, HAMMER_BTREE_MAX_DEPTH + 4) - 1;
	for (int d = 0; d < HAMMER_BTREE_MAX_DEPTH; d++) {
		uint64_t r = rng_below(s, 4);
		/* live, freed or never allocated nodes, or not a node at all */
		h->node[d] = r == 0 ? f->t.root :
			     r == 1 ? hammer_encode(HAMMER_ZONE_BTREE_INDEX, 0, HAMMER_RAMIO_BASE +
						    rng_below(s, st.allocs + 4) * HAMMER_BTREE_NODE_SIZE) :
			     r == 2 ? rng_next(s) : 0;
		h->index[d] = (int)rng_below(s, 70) - 3;
	}
}

static void hint_read(struct fx *f, struct hint_ctx *hc, uint64_t *s, int kind)
{
	struct hammer_err ue = { 0 }, be = { 0 };
	struct hammer_cursor u, b;
	struct hammer_btree_hint *bh = &hc->pool[rng_below(s, 8)];
	struct hammer_base_elm k = hint_probe(s, f, hc);
	hammer_tid_t asof = rng_below(s, 4) ? 1 + rng_below(s, 320) : HAMMER_MAX_TID;
	int ru, ra, rb;

	if (rng_below(s, 50) == 0)
		hint_scramble(s, f, bh);
	if (rng_below(s, 8) == 0)
		hammer_cursor_done(&hc->pc);	/* next read replays pc's own hint */
	memset(&hc->pe, 0, sizeof(hc->pe));
	hammer_cursor_init(&u, &f->t, &ue);
	hammer_cursor_init(&b, &f->t, &be);
	b.hint = bh;
	if (kind == OP_LOOKUP) {
		long i = model_find(&f->m, &k);
		ru = hammer_btree_lookup(&u, &k);
		ra = hammer_btree_lookup(&hc->pc, &k);
		rb = hammer_btree_lookup(&b, &k);
		if (ru != (i >= 0 ? 0 : -ENOENT))
			FAIL_AT(f, "lookup rc %d, model index %ld (%s)", ru, i, ue.msg);
		if (i >= 0 && !elm_eq(hammer_cursor_leaf(&u), &f->m.v[i]))
			FAIL_AT(f, "lookup returned another element");
	} else if (kind == OP_ASOF) {
		ru = hammer_btree_lookup_asof(&u, &k, asof);
		ra = hammer_btree_lookup_asof(&hc->pc, &k, asof);
		rb = hammer_btree_lookup_asof(&b, &k, asof);
	} else {
		struct hammer_base_elm e = rand_probe(s, &f->m);
		unsigned fl = rng_below(s, 2) ? HAMMER_CURSOR_END_INCLUSIVE : 0;
		if (rng_below(s, 2))
			fl |= HAMMER_CURSOR_ASOF;
		if (mcmp(&k, &e) > 0) {
			struct hammer_base_elm x = k; k = e; e = x;
		}
		struct hammer_cursor *cs[3] = { &u, &hc->pc, &b };
		for (int j = 0; j < 3; j++) {
			cs[j]->key_beg = k;
			cs[j]->key_end = e;
			cs[j]->flags = fl;
			cs[j]->asof = asof;
		}
		ru = hammer_btree_first(&u);
		ra = hammer_btree_first(&hc->pc);
		rb = hammer_btree_first(&b);
	}
	/* then walk on a little: pc is left somewhere else for the next read */
	for (int step = 0, steps = (int)rng_below(s, 4) * (kind != OP_LOOKUP) * 20; ; step++) {
		if (ra != ru || rb != ru)
			FAIL_AT(f, "op %d step %d: rc %d, positioned-hint %d (%s), pool-hint %d (%s)",
				kind, step, ru, ra, hc->pe.msg, rb, be.msg);
		if (ru != 0)
			break;
		same_path(f, &u, &hc->pc, "positioned hint");
		same_path(f, &u, &b, "pool hint");
		if (step == steps)
			break;
		ru = hammer_btree_next(&u);
		ra = hammer_btree_next(&hc->pc);
		rb = hammer_btree_next(&b);
	}
	if (ru != 0 && ru != -ENOENT)
		FAIL_AT(f, "read rc %d (%s)", ru, ue.msg);
	if (ru == 0 && (hc->pe.code || be.code || ue.code))
		FAIL_AT(f, "error recorded on success: %s / %s", hc->pe.msg, be.msg);
	hammer_cursor_done(&u);
	hammer_cursor_done(&b);
}

static void run_hint_model(uint64_t seed, long ops)
{
	struct fx f;
	static struct hint_ctx hc;
	uint64_t s = seed;
	long batch = 500;

	fx_init(&f, 7, seed);
	memset(&hc, 0, sizeof(hc));
	hammer_cursor_init(&hc.pc, &f.t, &hc.pe);
	hc.pc.hint = &hc.own;
	for (f.op = 0; f.op < ops; f.op++) {
		static const int reads[] = { OP_LOOKUP, OP_LOOKUP, OP_ASOF, OP_RANGE };
		/* reads in runs, so the positioned cursor often survives to the next one */
		int op = rng_below(&s, 2) ? reads[rng_below(&s, 4)] : pick_op(&s, f.op, batch);
		if (op == OP_LOOKUP || op == OP_ASOF || op == OP_RANGE) {
			hint_read(&f, &hc, &s, op);
		} else {
			hammer_cursor_done(&hc.pc);	/* cursors must not span a mutation */
			do_op(&f, &s, op);
		}
		if ((f.op + 1) % batch == 0) {
			hammer_cursor_done(&hc.pc);
			check_clean(&f, NULL);
			if ((f.op + 1) % (batch * 4) == 0)
				hammer_btree_ramio_drop(f.ram);
		}
	}
	hammer_cursor_done(&hc.pc);
	check_clean(&f, NULL);
	check_scan(&f);
	/* both outcomes happened, and only hinted searches were counted */
	if (f.t.stats.hint_hits == 0 || f.t.stats.hint_misses == 0)
		FAIL_AT(&f, "hint hits %llu misses %llu",
			(unsigned long long)f.t.stats.hint_hits,
			(unsigned long long)f.t.stats.hint_misses);
	if (f.t.stats.hint_hits + f.t.stats.hint_misses >= f.t.stats.searches)
		FAIL_AT(&f, "unhinted searches counted as hinted");
	fx_fini(&f);
}

/* Every read done three ways (plain, positioned hint, pool hint) must agree. */
static void hint_model(void **state)
{
	(void)state;
	long per = scaled(10000);
	if (getenv("HAMMER_TEST_SEED")) {
		run_hint_model(env_seed(1), per);
		return;
	}
	for (uint64_t seed = 101; seed <= 104; seed++)
		run_hint_model(seed, per);
}

/* Sequential lookups, forward and backward: the hint nearly always hits. */
static void hint_sequential(void **state)
{
	(void)state;
	struct fx f;
	struct hammer_err e = { 0 };
	struct hammer_cursor c;
	struct hammer_btree_hint h;
	long n = scaled(20000);

	fx_init(&f, 7, 0);
	for (long i = 0; i < n; i++)
		ins(&f, L(K(2, i / 1000, 0x10, i % 1000, 1)));
	if (n == 20000)
		assert_int_equal(depth_of(&f), 3);
	for (int pass = 0; pass < 4; pass++) {
		/* pass 0/1: one cursor kept positioned; 2/3: a fresh cursor per lookup */
		int fresh = pass >= 2, back = pass & 1;
		uint64_t h0 = f.t.stats.hint_hits, m0 = f.t.stats.hint_misses;
		memset(&h, 0, sizeof(h));
		hammer_cursor_init(&c, &f.t, &e);
		c.hint = &h;
		for (long j = 0; j < n; j++) {
			long i = back ? n - 1 - j : j;
			struct hammer_base_elm k = f.m.v[i].base;
			if (fresh) {
				hammer_cursor_init(&c, &f.t, &e);
				c.hint = &h;
				k.create_tid = 2;	/* absent: the miss path records too */
			}
			f.op = j;
			int rc = hammer_btree_lookup(&c, &k);
			if (rc != (fresh ? -ENOENT : 0))
				FAIL_AT(&f, "pass %d lookup %ld rc %d (%s)", pass, i, rc, e.msg);
			if (!fresh && !elm_eq(hammer_cursor_leaf(&c), &f.m.v[i]))
				FAIL_AT(&f, "pass %d lookup %ld: another element", pass, i);
			if (fresh)
				hammer_cursor_done(&c);
		}
		hammer_cursor_done(&c);
		uint64_t hits = f.t.stats.hint_hits - h0, misses = f.t.stats.hint_misses - m0;
		if (hits + misses != (uint64_t)n || hits < (uint64_t)n * 9 / 10)
			FAIL_AT(&f, "pass %d: %llu hits, %llu misses of %ld", pass,
				(unsigned long long)hits, (unsigned long long)misses, n);
	}
	/* release records where the cursor stands, after next() moved it on */
	memset(&h, 0, sizeof(h));
	hammer_cursor_init(&c, &f.t, &e);
	c.hint = &h;
	c.key_beg = f.m.v[0].base;
	assert_int_equal(hammer_btree_first(&c), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(hammer_btree_next(&c), 0);
	hammer_off_t at = c.path[c.depth - 1].node->offset;
	int ai = c.path[c.depth - 1].index;
	assert_true(h.node[h.depth - 1] != at);	/* first() recorded another leaf */
	hammer_cursor_done(&c);
	assert_true(h.depth >= 2 && h.node[h.depth - 1] == at && h.index[h.depth - 1] == ai);
	/* a cursor without a hint is not counted */
	uint64_t h0 = f.t.stats.hint_hits, m0 = f.t.stats.hint_misses;
	hammer_cursor_init(&c, &f.t, &e);
	assert_int_equal(hammer_btree_lookup(&c, &f.m.v[7].base), 0);
	hammer_cursor_done(&c);
	assert_true(f.t.stats.hint_hits == h0 && f.t.stats.hint_misses == m0);
	check_clean(&f, NULL);
	fx_fini(&f);
}

/*
 * A hint into a leaf whose parent field (or its parent's) was then damaged.
 * The hinted search never follows a parent field: it reads what the plain
 * search reads, so it fails the same way on the damaged path and is right
 * everywhere else.
 */
static hammer_off_t wrong_parent;
static void set_parent(struct hammer_node_ondisk *n, struct path3 *p) { (void)p; n->parent = wrong_parent; }

static struct hammer_base_elm first_key(struct fx *f, hammer_off_t leaf)
{
	struct hammer_node *n = get(f, leaf);
	struct hammer_base_elm k = n->ondisk->elms[0].base;
	put(f, n);
	return k;
}

static void hint_corrupt_parent(void **state)
{
	(void)state;
	for (int target = 0; target < 2; target++) {	/* 0 the leaf, 1 its parent */
		for (int v = 0; v < 6; v++) {
			struct fx f;
			struct hammer_err e = { 0 };
			struct hammer_cursor c;
			struct hammer_btree_hint h;
			build_deep(&f);
			struct path3 p = pick_path(&f, 1, 2), q = pick_path(&f, 0, 0);
			struct path3 sib = pick_path(&f, 1, 3);
			hammer_off_t tnode = target ? p.mid : p.leaf;
			f.op = target * 10 + v;
			/* probes: in the hinted leaf, its sibling leaf, another subtree */
			struct hammer_base_elm probe[3] = {
				first_key(&f, p.leaf), first_key(&f, sib.leaf), first_key(&f, q.leaf)
			};
			memset(&h, 0, sizeof(h));
			hammer_cursor_init(&c, &f.t, &e);
			c.hint = &h;
			assert_int_equal(hammer_btree_lookup(&c, &probe[0]), 0);
			hammer_cursor_done(&c);
			assert_true(h.depth == 3 && h.node[0] == p.root && h.node[1] == p.mid &&
				    h.node[2] == p.leaf);
			static const char *names[] = { "zero", "itself", "grandparent or child",
						       "another internal node", "not a node",
						       "a leaf elsewhere" };
			wrong_parent = v == 0 ? 0 :
				       v == 1 ? tnode :
				       v == 2 ? (target ? p.leaf : p.root) :
				       v == 3 ? q.mid :
				       v == 4 ? hammer_encode(HAMMER_ZONE_META_INDEX, 0, 0x1000) : q.leaf;
			hammer_btree_ramio_drop(f.ram);
			damage(&f, tnode, set_parent, &p);
			for (int pi = 0; pi < 3; pi++) {
				struct hammer_err ue = { 0 }, he = { 0 };
				struct hammer_cursor u;
				struct hammer_btree_hint hh = h;	/* each probe from the same hint */
				hammer_cursor_init(&u, &f.t, &ue);
				hammer_cursor_init(&c, &f.t, &he);
				c.hint = &hh;
				int ru = hammer_btree_lookup(&u, &probe[pi]);
				int rh = hammer_btree_lookup(&c, &probe[pi]);
				/* the damaged node is on the path of probe 0, and of 1 when it is the parent */
				int want = pi == 0 || (pi == 1 && target) ? -EUCLEAN : 0;
				if (ru != want || rh != want)
					FAIL_AT(&f, "parent %s, probe %d: rc %d, hinted %d (%s), want %d",
						names[v], pi, ru, rh, he.msg, want);
				if (want == 0) {
					same_path(&f, &u, &c, names[v]);
					if (he.code)
						FAIL_AT(&f, "parent %s: hinted success left an error: %s",
							names[v], he.msg);
				} else if (he.off != tnode || ue.off != tnode) {
					FAIL_AT(&f, "parent %s: blamed %016llx / hinted %016llx",
						names[v], (unsigned long long)ue.off,
						(unsigned long long)he.off);
				}
				hammer_cursor_done(&u);
				hammer_cursor_done(&c);
				assert_int_equal(hammer_btree_ramio_pinned(f.ram), 0);
			}
			fx_fini(&f);
		}
	}
}

/* A hint to a leaf that was freed, then to one whose address was reused. */
static void hint_stale_freed(void **state)
{
	(void)state;
	struct fx f;
	struct hammer_err e = { 0 };
	struct hammer_cursor c, u;
	struct hammer_btree_hint h, hh;
	build_deep(&f);
	struct path3 p = pick_path(&f, 1, 2);
	struct hammer_base_elm k = first_key(&f, p.leaf);
	memset(&h, 0, sizeof(h));
	hammer_cursor_init(&c, &f.t, &e);
	c.hint = &h;
	assert_int_equal(hammer_btree_lookup(&c, &k), 0);
	hammer_cursor_done(&c);
	assert_true(h.depth == 3 && h.node[2] == p.leaf);
	/* delete every record of p.leaf: it is freed */
	struct hammer_node *ln = get(&f, p.leaf);
	int cnt = ln->ondisk->count;
	put(&f, ln);
	uint64_t freed0 = f.t.stats.nodes_freed;
	size_t at = model_lb(&f.m, &k);
	for (int i = 0; i < cnt; i++) {
		assert_int_equal(hammer_btree_delete(&f.t, &f.m.v[at].base, &e), 0);
		model_remove(&f.m, at);
	}
	assert_true(f.t.stats.nodes_freed > freed0);
	for (int round = 0; round < 2; round++) {
		/* the old key (gone), the keys on either side */
		struct hammer_base_elm probes[3] = { k, f.m.v[at - 1].base, f.m.v[at].base };
		for (int pi = 0; pi < 3; pi++) {
			struct hammer_err ue = { 0 }, he = { 0 };
			hh = h;
			hammer_cursor_init(&u, &f.t, &ue);
			hammer_cursor_init(&c, &f.t, &he);
			c.hint = &hh;
			int ru = hammer_btree_lookup(&u, &probes[pi]);
			int rh = hammer_btree_lookup(&c, &probes[pi]);
			assert_int_equal(ru, pi == 0 && round == 0 ? -ENOENT : 0);
			assert_int_equal(rh, ru);
			/* a freed node read would have left "freed node is linked" here */
			if (he.code)
				fail_msg("round %d probe %d: %s", round, pi, he.msg);
			if (ru == 0)
				same_path(&f, &u, &c, "stale hint");
			hammer_cursor_done(&u);
			hammer_cursor_done(&c);
		}
		if (round == 0) {
			/* refill: splits reuse the freed address elsewhere */
			for (int i = 0; i < 400; i++)
				ins(&f, L(K(1, 10 + i % 7, 1, 100 + i, 6)));
			ins(&f, L(k));
		}
	}
	check_clean(&f, NULL);
	check_scan(&f);
	fx_fini(&f);
}

int main(int argc, char **argv)
{
	(void)argc;
	slow_mode = strstr(argv[0], "slow") != NULL;
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(compare),
		cmocka_unit_test(encode_decode),
		cmocka_unit_test(empty_tree),
		cmocka_unit_test(split_boundaries),
		cmocka_unit_test(append_fill),
		cmocka_unit_test(delete_all_reinsert),
		cmocka_unit_test(mirror_tids),
		cmocka_unit_test(asof_across_leaves),
		cmocka_unit_test(corruption),
		cmocka_unit_test(injected_failures),
		cmocka_unit_test(deep_tree),
		cmocka_unit_test(model_campaign),
		cmocka_unit_test(hint_model),
		cmocka_unit_test(hint_sequential),
		cmocka_unit_test(hint_corrupt_parent),
		cmocka_unit_test(hint_stale_freed),
	};
	const struct CMUnitTest slow[] = {
		cmocka_unit_test(model_campaign),
	};
	if (slow_mode)
		return cmocka_run_group_tests(slow, NULL, NULL);
	return cmocka_run_group_tests(unit, NULL, NULL);
}
