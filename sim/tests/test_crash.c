/* test_crash.c - crash states: counts, ids, images against an oracle, tears, garbage, cost. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sim/sim.h"
#include "sim/tests/simtest.h"

/* ------------------------------------------------------------ a recorded workload */

#define MAXW 512
struct rec {
	uint64_t off;
	uint32_t len;
	uint32_t epoch;
	uint8_t *data;
};
struct wl {
	struct sim *s;
	struct hammer_bdev *base;
	uint8_t *base_copy;
	uint64_t size;
	struct rec w[MAXW];
	uint32_t n, epoch;
};

static void wl_open(struct wl *l, uint64_t size, uint64_t seed, const struct sim_knobs *k)
{
	memset(l, 0, sizeof(*l));
	l->size = size;
	assert_int_equal(hammer_bdev_ram_open(size, "base", &l->base), 0);
	uint64_t x = seed;
	t_fill(&x, hammer_bdev_ram_data(l->base), size);
	l->base_copy = malloc(size);
	assert_non_null(l->base_copy);
	memcpy(l->base_copy, hammer_bdev_ram_data(l->base), size);
	assert_int_equal(sim_open(l->base, SIM_OWN_BASE, k, &l->s), 0);
}

static void wl_write_data(struct wl *l, uint64_t off, uint32_t len, const uint8_t *data)
{
	assert_true(l->n < MAXW);
	struct rec *r = &l->w[l->n++];
	r->off = off;
	r->len = len;
	r->epoch = l->epoch;
	r->data = malloc(len);
	assert_non_null(r->data);
	memcpy(r->data, data, len);
	assert_int_equal(hammer_bdev_write(sim_bdev(l->s), off, r->data, len), 0);
}

static void wl_write(struct wl *l, uint64_t off, uint32_t len, uint64_t *x)
{
	static uint8_t buf[1 << 20];
	assert_true(len <= sizeof(buf));
	t_fill(x, buf, len);
	wl_write_data(l, off, len, buf);
}

static void wl_flush(struct wl *l)
{
	uint32_t before = sim_epochs(l->s);
	assert_int_equal(hammer_bdev_flush(sim_bdev(l->s)), 0);
	if (sim_epochs(l->s) != before)
		l->epoch++;
}

static void wl_close(struct wl *l)
{
	for (uint32_t i = 0; i < l->n; i++)
		free(l->w[i].data);
	free(l->base_copy);
	sim_close(l->s);
}

/* Random writes of 1..maxsec sectors, often overlapping, flushes every few. */
static void wl_random(struct wl *l, uint64_t seed, uint32_t nwrites, uint32_t maxsec,
		      uint32_t flush_every)
{
	uint64_t x = seed;
	for (uint32_t i = 0; i < nwrites; i++) {
		uint32_t nsec = 1 + (uint32_t)(t_rand(&x) % maxsec);
		uint64_t off = (t_rand(&x) % (l->size / 512 - nsec + 1)) * 512;
		wl_write(l, off, nsec * 512, &x);
		if (flush_every && t_rand(&x) % flush_every == 0)
			wl_flush(l);
	}
}

/*
 * The image a state must show, built independently: every write of an
 * earlier epoch, then the crash epoch's kept writes in log order, the torn
 * write partially, the garbage write whole.  Garbage sectors are returned
 * in gs[] (absolute sector numbers, UINT64_MAX if none).
 */
static void oracle(const struct wl *l, const struct sim_state *st, uint8_t *img, uint64_t gs[2])
{
	memcpy(img, l->base_copy, l->size);
	uint32_t idx = 0;
	gs[0] = gs[1] = UINT64_MAX;
	for (uint32_t i = 0; i < l->n; i++) {
		const struct rec *r = &l->w[i];
		if (r->epoch > st->epoch)
			break;
		if (r->epoch < st->epoch) {
			memcpy(img + r->off, r->data, r->len);
			continue;
		}
		uint32_t e = idx++;
		if ((int32_t)e == st->torn_write) {
			uint32_t nsec = r->len / 512;
			uint32_t lo = st->torn_mode == 'p' ? 0 : st->torn_sector;
			uint32_t hi = st->torn_mode == 'p' ? st->torn_sector : nsec;
			memcpy(img + r->off + lo * 512u, r->data + lo * 512u, (hi - lo) * 512u);
			continue;
		}
		int kept = sim_state_kept(l->s, st, e);
		assert_true(kept == 0 || kept == 1);
		if (kept || (int32_t)e == st->garbage_write)
			memcpy(img + r->off, r->data, r->len);
		if ((int32_t)e == st->garbage_write) {
			gs[0] = r->off / 512 + st->garbage_sector;
			if (st->collateral >= 0)
				gs[1] = gs[0] - gs[0] % 8 + (uint32_t)st->collateral;
		}
	}
}

static uint8_t *read_all(struct hammer_bdev *bd, uint64_t size)
{
	uint8_t *p = malloc(size);
	assert_non_null(p);
	assert_int_equal(hammer_bdev_read(bd, 0, p, size), 0);
	return p;
}

/* ------------------------------------------------------------ counts */

static struct sim_knobs knobs(unsigned bits, unsigned samples, int torn, int garb, int coll)
{
	struct sim_knobs k;
	sim_knobs_default(&k);
	k.max_subset_bits = bits;
	k.sample_count = samples;
	k.torn = torn;
	k.garbage = garb;
	k.collateral = coll;
	return k;
}

static uint64_t walk(struct sim *s, char (*ids)[SIM_ID_MAX], uint64_t max)
{
	struct sim_enum *e;
	assert_int_equal(sim_enum_begin(s, &e), 0);
	struct sim_state st;
	uint64_t n = 0;
	int r;
	while ((r = sim_enum_next(e, &st)) == 1) {
		assert_int_equal(sim_state_check(s, &st), 0);
		if (ids && n < max)
			assert_true(sim_state_id(&st, ids[n], SIM_ID_MAX) > 0);
		n++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(sim_enum_next(e, &st), 0);	/* stays at the end */
	sim_enum_end(e);
	return n;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void assert_distinct(char (*ids)[SIM_ID_MAX], uint64_t n)
{
	qsort(ids, n, SIM_ID_MAX, cmp_id);
	for (uint64_t i = 1; i < n; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
}

static void count_three_writes(void **state)
{
	(void)state;
	struct sim_knobs k = knobs(10, 1024, 0, 0, 0);
	struct wl l;
	wl_open(&l, 65536, 1, &k);
	uint64_t x = 2;
	wl_write(&l, 0, 512, &x);
	wl_write(&l, 4096, 1024, &x);
	wl_write(&l, 512, 2048, &x);
	assert_int_equal(sim_enum_count(l.s), 8);
	static char ids[64][SIM_ID_MAX];
	assert_int_equal(walk(l.s, ids, 64), 8);
	assert_distinct(ids, 8);
	/* the eight subsets, by id */
	static const char *want[] = { "e0:sb000", "e0:sb001", "e0:sb010", "e0:sb011",
				      "e0:sb100", "e0:sb101", "e0:sb110", "e0:sb111" };
	for (int i = 0; i < 8; i++)
		assert_string_equal(ids[i], want[i]);
	/* torn: 2*(2-1) + 2*(4-1) = 8 more; garbage 3; collateral 3 */
	k.torn = 1;
	assert_int_equal(sim_knobs_set(l.s, &k), 0);
	assert_int_equal(sim_enum_count(l.s), 16);
	k.garbage = 1;
	k.collateral = 1;
	assert_int_equal(sim_knobs_set(l.s, &k), 0);
	assert_int_equal(sim_enum_count(l.s), 22);
	assert_int_equal(walk(l.s, ids, 64), 22);
	assert_distinct(ids, 22);
	struct sim_counters c;
	sim_counters(l.s, &c);
	assert_int_equal(c.states_generated, 30);
	wl_close(&l);
}

static void count_epochs(void **state)
{
	(void)state;
	struct sim_knobs k = knobs(10, 1024, 0, 0, 0);
	struct wl l;
	wl_open(&l, 65536, 1, &k);
	uint64_t x = 3;
	/* empty log: the base alone */
	assert_int_equal(sim_enum_count(l.s), 1);
	assert_int_equal(walk(l.s, NULL, 0), 1);
	wl_write(&l, 0, 512, &x);
	wl_write(&l, 512, 512, &x);
	wl_flush(&l);
	wl_write(&l, 0, 512, &x);
	wl_write(&l, 1024, 512, &x);
	wl_write(&l, 2048, 512, &x);
	wl_flush(&l);
	wl_write(&l, 0, 512, &x);
	/* (4-1) + (8-1) + 2: the full set of a closed epoch is the next one's empty set */
	assert_int_equal(sim_enum_count(l.s), 12);
	static char ids[64][SIM_ID_MAX];
	assert_int_equal(walk(l.s, ids, 64), 12);
	assert_distinct(ids, 12);
	/* ending on a flush: the open epoch is empty and contributes its one state */
	wl_flush(&l);
	assert_int_equal(sim_epochs(l.s), 4);
	assert_int_equal(sim_enum_count(l.s), 3 + 7 + 1 + 1);
	assert_int_equal(walk(l.s, NULL, 0), 12);
	wl_close(&l);
}

static void count_twelve_writes(void **state)
{
	(void)state;
	struct sim_knobs k = knobs(10, 1024, 0, 0, 0);
	struct wl l;
	wl_open(&l, 65536, 1, &k);
	uint64_t x = 4;
	for (int i = 0; i < 12; i++)
		wl_write(&l, 512u * (uint64_t)i, 512, &x);
	/* 13 prefixes + 11 drop-one + 1024 samples */
	assert_int_equal(sim_enum_count(l.s), 13 + 11 + 1024);
	static char ids[8192][SIM_ID_MAX];
	assert_int_equal(walk(l.s, ids, 8192), 1048);
	/* every sample is distinct, and neither a prefix nor a drop-one */
	struct sim_enum *e;
	assert_int_equal(sim_enum_begin(l.s, &e), 0);
	struct sim_state st;
	static uint8_t seen[4096];
	memset(seen, 0, sizeof(seen));
	uint32_t prefixes = 0, drops = 0, samples = 0;
	while (sim_enum_next(e, &st) == 1) {
		uint32_t mask = 0;
		for (uint32_t i = 0; i < 12; i++)
			mask |= (uint32_t)sim_state_kept(l.s, &st, i) << i;
		assert_int_equal(seen[mask], 0);
		seen[mask] = 1;
		prefixes += st.subset == SIM_SUB_PREFIX;
		drops += st.subset == SIM_SUB_DROP;
		if (st.subset == SIM_SUB_SAMPLE) {
			samples++;
			assert_int_not_equal(__builtin_popcount(mask), 11);
			assert_false((mask & (mask + 1)) == 0);	/* not 1^k0^(12-k) */
		}
	}
	sim_enum_end(e);
	assert_int_equal(prefixes, 13);
	assert_int_equal(drops, 11);
	assert_int_equal(samples, 1024);
	/* asking for more samples than exist yields every subset exactly once */
	k.sample_count = 100000;
	assert_int_equal(sim_knobs_set(l.s, &k), 0);
	assert_int_equal(sim_enum_count(l.s), 4096);
	memset(seen, 0, sizeof(seen));
	assert_int_equal(sim_enum_begin(l.s, &e), 0);
	uint32_t n = 0;
	while (sim_enum_next(e, &st) == 1) {
		uint32_t mask = 0;
		for (uint32_t i = 0; i < 12; i++)
			mask |= (uint32_t)sim_state_kept(l.s, &st, i) << i;
		assert_int_equal(seen[mask], 0);
		seen[mask] = 1;
		n++;
	}
	sim_enum_end(e);
	assert_int_equal(n, 4096);
	/* a closed epoch of 12 drops its full prefix; the next epoch adds 2 */
	k.sample_count = 1024;
	assert_int_equal(sim_knobs_set(l.s, &k), 0);
	wl_flush(&l);
	wl_write(&l, 0, 512, &x);
	assert_int_equal(sim_enum_count(l.s), 12 + 11 + 1024 + 2);
	assert_int_equal(walk(l.s, NULL, 0), 12 + 11 + 1024 + 2);
	wl_close(&l);
}

static void samples_follow_the_seed(void **state)
{
	(void)state;
	static char a[300][SIM_ID_MAX], b[300][SIM_ID_MAX];
	uint64_t masks[3][64];
	for (int run = 0; run < 3; run++) {
		struct sim_knobs k = knobs(4, 64, 0, 0, 0);
		k.seed = run == 2 ? 77 : 76;
		struct wl l;
		wl_open(&l, 65536, 1, &k);
		uint64_t x = 9;
		for (int i = 0; i < 40; i++)
			wl_write(&l, 512u * (uint64_t)i, 512, &x);
		uint64_t n = walk(l.s, run ? b : a, 300);
		assert_int_equal(n, 41 + 39 + 64);
		struct sim_enum *e;
		assert_int_equal(sim_enum_begin(l.s, &e), 0);
		struct sim_state st;
		int j = 0;
		while (sim_enum_next(e, &st) == 1) {
			if (st.subset != SIM_SUB_SAMPLE)
				continue;
			uint64_t m = 0;
			for (uint32_t i = 0; i < 40; i++)
				m |= (uint64_t)sim_state_kept(l.s, &st, i) << i;
			masks[run][j++] = m;
		}
		sim_enum_end(e);
		assert_int_equal(j, 64);
		wl_close(&l);
		if (run == 1)
			for (uint64_t i = 0; i < n; i++)
				assert_string_equal(a[i], b[i]);
	}
	assert_memory_equal(masks[0], masks[1], sizeof(masks[0]));
	int same = 0;
	for (int i = 0; i < 64; i++)
		same += masks[0][i] == masks[2][i];
	assert_true(same < 4);
}

/* ------------------------------------------------------------ ids and images */

static void ids_rebuild_oracle_images(void **state)
{
	(void)state;
	const uint64_t size = 65536;
	for (uint64_t seed = 1; seed <= 6; seed++) {
		struct sim_knobs k = knobs(seed % 2 ? 4 : 6, 24, 1, 1, 1);
		k.seed = seed * 1000 + 1;
		struct wl l;
		wl_open(&l, size, seed, &k);
		wl_random(&l, seed * 31, 40, 12, 6);
		uint8_t *img = malloc(size);
		assert_non_null(img);
		struct sim_enum *e;
		assert_int_equal(sim_enum_begin(l.s, &e), 0);
		struct sim_state st;
		uint64_t n = 0, torn = 0, garb = 0, coll = 0, sampled = 0;
		int r;
		while ((r = sim_enum_next(e, &st)) == 1) {
			char id[SIM_ID_MAX], id2[SIM_ID_MAX];
			assert_true(sim_state_id(&st, id, sizeof(id)) > 0);
			CASE("test_crash ids_rebuild_oracle_images seed=%llu state=%s",
			     (unsigned long long)seed, id);
			struct sim_state back;
			CHECK(sim_state_from_id(l.s, id, &back) == 0);
			CHECK(sim_state_id(&back, id2, sizeof(id2)) > 0);
			CHECK(strcmp(id, id2) == 0);
			struct hammer_bdev *v1, *v2;
			CHECK(sim_state_open(l.s, &st, &v1) == 0);
			CHECK(sim_state_open(l.s, &back, &v2) == 0);
			uint8_t *i1 = read_all(v1, size), *i2 = read_all(v2, size);
			CHECK(memcmp(i1, i2, size) == 0);	/* same id, same bytes */
			uint64_t gs[2];
			oracle(&l, &st, img, gs);
			for (int g = 0; g < 2; g++) {
				if (gs[g] == UINT64_MAX)
					continue;
				uint64_t o = gs[g] * 512;
				CHECK(memcmp(i1 + o, img + o, 512) != 0);
				memcpy(img + o, i1 + o, 512);
			}
			CHECK(memcmp(i1, img, size) == 0);
			torn += st.torn_write >= 0;
			garb += st.garbage_write >= 0 && st.collateral < 0;
			coll += st.collateral >= 0;
			sampled += st.subset == SIM_SUB_SAMPLE;
			free(i1);
			free(i2);
			hammer_bdev_close(v1);
			hammer_bdev_close(v2);
			n++;
		}
		assert_int_equal(r, 0);
		sim_enum_end(e);
		assert_int_equal(n, sim_enum_count(l.s));
		assert_true(torn > 0 && garb == 40 && coll == 40);
		if (seed == 1)
			assert_true(sampled > 0);
		free(img);
		wl_close(&l);
	}
}

static void hand_written_ids(void **state)
{
	(void)state;
	struct wl l;
	struct sim_knobs k = knobs(10, 16, 1, 1, 0);
	wl_open(&l, 65536, 3, &k);
	uint64_t x = 11;
	wl_write(&l, 0, 4096, &x);
	wl_flush(&l);
	for (int i = 0; i < 4; i++)
		wl_write(&l, 8192 + 2048u * (uint64_t)i, 2048, &x);
	static const char *good[] = {
		"e0:sa", "e0:sb1", "e0:sb0", "e1:sb1101", "e1:sp2", "e1:sd3", "e1:sr17",
		"e1:sb1101:t2p3", "e1:sb0000:t0s1", "e1:sa:g3.3", "e1:sp0:g0.0.5",
		"e1:sb1101:t2p1:g1.2", "e0:sp1:t0s7",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct sim_state st;
		char back[SIM_ID_MAX];
		CASE("test_crash hand_written_ids %s", good[i]);
		CHECK(sim_state_from_id(l.s, good[i], &st) == 0);
		CHECK(sim_state_id(&st, back, sizeof(back)) == (int)strlen(good[i]));
		CHECK(strcmp(back, good[i]) == 0);
	}
	static const char *bad[] = {
		"", "e", "e0", "e0:", "e0:s", "e0:sx", "e2:sa", "e00:sa", "e-1:sa", "e0:sb11",
		"e1:sb110", "e1:sb11012", "e1:sp5", "e1:sd4", "e1:sa:t4p1", "e1:sa:t0p0",
		"e1:sa:t0p4", "e1:sa:t0x1", "e1:sa:g4.0", "e1:sa:g0.4", "e1:sa:g0.0.0",
		"e1:sa:g0.0.8", "e1:sa:g0", "e1:sa ", " e1:sa", "e1:sa:", "e1:sa:g0.0:t0p1",
		"e99999999999:sa", "e1:sp99999999999", "e0:sa:t0p1:t0p2", "e1:sr",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sim_state st;
		CASE("test_crash hand_written_ids bad=\"%s\"", bad[i]);
		CHECK(sim_state_from_id(l.s, bad[i], &st) == -EINVAL);
	}
	struct sim_state st;
	assert_int_equal(sim_state_from_id(l.s, NULL, &st), -EINVAL);
	assert_int_equal(sim_state_from_id(l.s, "e1:sb1101:t2p3", &st), 0);
	char tiny[8];
	assert_int_equal(sim_state_id(&st, tiny, sizeof(tiny)), -ENOSPC);
	/* what a b-form id says, kept reports */
	static const int want[] = { 1, 1, 0, 1 };
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(sim_state_kept(l.s, &st, i), want[i]);
	assert_int_equal(sim_state_kept(l.s, &st, 4), -EINVAL);
	wl_close(&l);
}

/* ------------------------------------------------------------ tears and garbage */

static void torn_exact(void **state)
{
	(void)state;
	struct wl l;
	struct sim_knobs k = knobs(10, 16, 1, 0, 0);
	wl_open(&l, 65536, 5, &k);
	uint64_t x = 12;
	const uint64_t off = 8192;
	wl_write(&l, off, 8 * 512, &x);
	assert_int_equal(sim_enum_count(l.s), 2 + 14);
	uint8_t got[8 * 512];
	uint32_t seen_p = 0, seen_s = 0;
	struct sim_enum *e;
	assert_int_equal(sim_enum_begin(l.s, &e), 0);
	struct sim_state st;
	while (sim_enum_next(e, &st) == 1) {
		if (st.torn_write < 0)
			continue;
		char id[SIM_ID_MAX];
		sim_state_id(&st, id, sizeof(id));
		CASE("test_crash torn_exact %s", id);
		struct hammer_bdev *v;
		CHECK(sim_state_open(l.s, &st, &v) == 0);
		CHECK(hammer_bdev_read(v, off, got, sizeof(got)) == 0);
		for (uint32_t sec = 0; sec < 8; sec++) {
			int new_data = st.torn_mode == 'p' ? sec < st.torn_sector
							   : sec >= st.torn_sector;
			const uint8_t *want = new_data ? l.w[0].data + sec * 512
						       : l.base_copy + off + sec * 512;
			CHECK(memcmp(got + sec * 512, want, 512) == 0);
		}
		if (st.torn_mode == 'p')
			seen_p |= 1u << st.torn_sector;
		else
			seen_s |= 1u << st.torn_sector;
		hammer_bdev_close(v);
	}
	sim_enum_end(e);
	assert_int_equal(seen_p, 0xfe);	/* K = 1..7 */
	assert_int_equal(seen_s, 0xfe);
	wl_close(&l);
}

static void garbage_differs(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct wl l;
		struct sim_knobs k = knobs(10, 16, 0, 1, 1);
		k.seed = seed;
		wl_open(&l, 65536, seed, &k);
		uint64_t x = seed;
		/*
		 * Sector 0 of each write repeats what it overwrites (new == old),
		 * so garbage must differ from both by construction, not by luck.
		 */
		uint64_t off = 512 * (1 + seed % 100);
		uint8_t d[1024];
		t_fill(&x, d, sizeof(d));
		memcpy(d, l.base_copy + off, 512);
		wl_write_data(&l, off, sizeof(d), d);
		t_fill(&x, d, sizeof(d));
		memcpy(d, l.w[0].data, 512);
		wl_write_data(&l, off, sizeof(d), d);
		struct sim_enum *e;
		assert_int_equal(sim_enum_begin(l.s, &e), 0);
		struct sim_state st;
		uint32_t ng = 0;
		while (sim_enum_next(e, &st) == 1) {
			if (st.garbage_write < 0)
				continue;
			char id[SIM_ID_MAX];
			sim_state_id(&st, id, sizeof(id));
			CASE("test_crash garbage_differs seed=%llu %s", (unsigned long long)seed, id);
			const struct rec *r = &l.w[st.garbage_write];
			uint64_t gsec = r->off / 512 + st.garbage_sector;
			/* old = what was there before this write */
			uint8_t old[512];
			memcpy(old, st.garbage_write == 0 ? l.base_copy + gsec * 512
							  : l.w[0].data + (gsec * 512 - l.w[0].off),
			       512);
			struct hammer_bdev *v;
			CHECK(sim_state_open(l.s, &st, &v) == 0);
			uint8_t g[512], g2[512];
			CHECK(hammer_bdev_read(v, gsec * 512, g, 512) == 0);
			CHECK(memcmp(g, old, 512) != 0);
			CHECK(memcmp(g, r->data + st.garbage_sector * 512, 512) != 0);
			/* the rest of the write is present */
			uint64_t csec = st.collateral >= 0 ? gsec - gsec % 8 + (uint32_t)st.collateral
							    : UINT64_MAX;
			for (uint32_t sec = 0; sec < r->len / 512; sec++) {
				if (sec == st.garbage_sector || r->off / 512 + sec == csec)
					continue;	/* collateral may hit the write itself */
				CHECK(hammer_bdev_read(v, r->off + sec * 512, g2, 512) == 0);
				CHECK(memcmp(g2, r->data + sec * 512, 512) == 0);
			}
			if (st.collateral >= 0) {
				uint64_t cs = gsec - gsec % 8 + (uint32_t)st.collateral;
				CHECK(cs != gsec && cs / 8 == gsec / 8);
				struct sim_state plain = st;
				plain.collateral = -1;
				struct hammer_bdev *pv;
				CHECK(sim_state_open(l.s, &plain, &pv) == 0);
				uint8_t c1[512], c2[512];
				CHECK(hammer_bdev_read(v, cs * 512, c1, 512) == 0);
				CHECK(hammer_bdev_read(pv, cs * 512, c2, 512) == 0);
				CHECK(memcmp(c1, c2, 512) != 0);
				hammer_bdev_close(pv);
			}
			/* deterministic: reopen, same bytes */
			struct hammer_bdev *v2;
			CHECK(sim_state_open(l.s, &st, &v2) == 0);
			CHECK(hammer_bdev_read(v2, gsec * 512, g2, 512) == 0);
			CHECK(memcmp(g, g2, 512) == 0);
			hammer_bdev_close(v2);
			hammer_bdev_close(v);
			ng++;
		}
		sim_enum_end(e);
		assert_int_equal(ng, 4);	/* garbage + collateral for each of 2 writes */
		wl_close(&l);
	}
}

/* garbage_safe_below: no garbage or collateral sector below it, ever. */
static void garbage_safe_region(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct wl l;
		struct sim_knobs k = knobs(10, 16, 0, 1, 1);
		k.seed = seed;
		k.garbage_safe_below = 2048;
		wl_open(&l, 65536, seed, &k);
		uint64_t x = seed;
		wl_write(&l, 0, 2048, &x);		/* all inside: no garbage state */
		wl_write(&l, 1024, 4096, &x);		/* straddles: garbage from 2048 */
		wl_write(&l, 8192, 1024, &x);		/* outside */
		struct sim_enum *e;
		assert_int_equal(sim_enum_begin(l.s, &e), 0);
		struct sim_state st;
		int per_write[3] = { 0, 0, 0 };
		while (sim_enum_next(e, &st) == 1) {
			if (st.garbage_write < 0)
				continue;
			CASE("test_crash garbage_safe_region seed=%llu write=%d sector=%u",
			     (unsigned long long)seed, st.garbage_write, st.garbage_sector);
			const struct rec *r = &l.w[st.garbage_write];
			uint64_t gs = r->off / 512 + st.garbage_sector;
			CHECK(gs >= 4);
			if (st.collateral >= 0)
				CHECK((gs / 8) * 8 >= 4);
			per_write[st.garbage_write]++;
		}
		sim_enum_end(e);
		assert_int_equal(per_write[0], 0);
		assert_true(per_write[1] >= 1 && per_write[2] >= 1);
		wl_close(&l);
	}
}

/* Recovery writes land in the state's own overlay, never in the sim or other states. */
static void state_writes_are_private(void **state)
{
	(void)state;
	struct wl l;
	wl_open(&l, 65536, 8, NULL);
	uint64_t x = 1;
	wl_write(&l, 0, 4096, &x);
	struct sim_state st;
	assert_int_equal(sim_state_from_id(l.s, "e0:sb1", &st), 0);
	struct hammer_bdev *a, *b;
	assert_int_equal(sim_state_open(l.s, &st, &a), 0);
	assert_int_equal(sim_state_open(l.s, &st, &b), 0);
	uint8_t z[2048], got[4096];
	memset(z, 0xee, sizeof(z));
	assert_int_equal(hammer_bdev_write(a, 1024, z, sizeof(z)), 0);
	assert_int_equal(hammer_bdev_write(a, 1024, z, 512), 0);	/* rewrite in place */
	assert_int_equal(hammer_bdev_flush(a), 0);
	assert_int_equal(hammer_bdev_read(a, 0, got, sizeof(got)), 0);
	assert_memory_equal(got, l.w[0].data, 1024);
	assert_memory_equal(got + 1024, z, sizeof(z));
	assert_memory_equal(got + 3072, l.w[0].data + 3072, 1024);
	assert_int_equal(hammer_bdev_read(b, 0, got, sizeof(got)), 0);
	assert_memory_equal(got, l.w[0].data, sizeof(got));
	assert_int_equal(hammer_bdev_read(sim_bdev(l.s), 0, got, sizeof(got)), 0);
	assert_memory_equal(got, l.w[0].data, sizeof(got));
	assert_true(sim_state_mem(a) > sim_state_mem(b));
	assert_int_equal(sim_state_mem(sim_bdev(l.s)), 0);
	hammer_bdev_close(a);
	hammer_bdev_close(b);
	wl_close(&l);
}

/*
 * sim_log_touches / sim_state_touches: a sector neither names reads as the
 * backdrop (base plus settled overlay) in every state, with torn writes,
 * garbage, collateral damage and writes made to the state; and each names
 * the sectors it is about.  sim_state_latest is the live view.
 */
static void touches_tell_unchanged(void **state)
{
	(void)state;
	const uint64_t size = 65536, nsec = size / 512;
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct sim_knobs k = knobs(4, 16, 1, 1, 1);
		k.seed = seed * 77 + 3;
		struct wl l;
		wl_open(&l, size, seed, &k);
		uint64_t x = seed * 5;
		wl_write(&l, 4096, 8192, &x);	/* settled below: part of the backdrop */
		wl_flush(&l);
		assert_int_equal(sim_settle(l.s), 0);
		uint8_t *backdrop = read_all(sim_bdev(l.s), size);
		uint64_t lx = seed * 9;
		for (uint32_t i = 0; i < 20; i++) {	/* small writes in the first half */
			uint32_t ns = 1 + (uint32_t)(t_rand(&lx) % 4);
			uint64_t off = (t_rand(&lx) % (nsec / 2 - ns)) * 512;
			uint8_t buf[4 * 512];
			t_fill(&lx, buf, ns * 512);
			assert_int_equal(hammer_bdev_write(sim_bdev(l.s), off, buf, ns * 512), 0);
			for (uint32_t j = 0; j < ns; j++)
				CHECK(sim_log_touches(l.s, off + j * 512, 512) == 1);
			if (t_rand(&lx) % 5 == 0)
				assert_int_equal(hammer_bdev_flush(sim_bdev(l.s)), 0);
		}
		CHECK(sim_log_touches(l.s, size / 2, size / 2) == 0);
		CHECK(sim_log_touches(l.s, 0, 0) == 0);
		/* the latest state is the live view */
		struct sim_state st;
		struct hammer_bdev *v;
		sim_state_latest(l.s, &st);
		assert_int_equal(sim_state_open(l.s, &st, &v), 0);
		uint8_t *live = read_all(sim_bdev(l.s), size), *got = read_all(v, size);
		assert_memory_equal(live, got, size);
		free(live);
		free(got);
		hammer_bdev_close(v);
		CHECK(sim_state_touches(sim_bdev(l.s), 0, size) == -EINVAL);
		struct sim_enum *e;
		assert_int_equal(sim_enum_begin(l.s, &e), 0);
		uint64_t n = 0, named = 0;
		while (sim_enum_next(e, &st) == 1) {
			char id[SIM_ID_MAX];
			assert_true(sim_state_id(&st, id, sizeof(id)) > 0);
			CASE("test_crash touches_tell_unchanged seed=%llu state=%s",
			     (unsigned long long)seed, id);
			assert_int_equal(sim_state_open(l.s, &st, &v), 0);
			/* recovery-like writes to the state, in the second half too */
			uint64_t wo = (size / 2 + (t_rand(&lx) % (nsec / 2 - 2)) * 512);
			uint8_t w[1024];
			t_fill(&lx, w, sizeof(w));
			if (n % 3 == 0)
				assert_int_equal(hammer_bdev_write(v, wo, w, sizeof(w)), 0);
			got = read_all(v, size);
			for (uint64_t sct = 0; sct < nsec; sct++) {
				int lt = sim_log_touches(l.s, sct * 512, 512);
				int stt = sim_state_touches(v, sct * 512, 512);
				CHECK(lt == 0 || lt == 1);
				CHECK(stt == 0 || stt == 1);
				if (!lt && !stt)
					CHECK(memcmp(got + sct * 512, backdrop + sct * 512, 512) == 0);
				if (n % 3 == 0 && sct * 512 >= wo && sct * 512 < wo + sizeof(w))
					CHECK(stt == 1);
				if (st.garbage_write >= 0 && stt)
					named++;
			}
			/* a range answer is the OR of its sectors */
			CHECK(sim_state_touches(v, 0, size) ==
			      (n % 3 == 0 || st.garbage_write >= 0));
			free(got);
			hammer_bdev_close(v);
			n++;
		}
		sim_enum_end(e);
		assert_true(n > 100 && named > 0);
		free(backdrop);
		wl_close(&l);
	}
}

/* ------------------------------------------------------------ cost */

/*
 * A 1 GB sparse image as the base, a formatting-like burst of writes in a
 * few epochs, then 1000 states open at once: the sim and the states must
 * stay small next to 1 GB.
 */
static void memory_1g_1000_states(void **state)
{
	(void)state;
	char path[] = "/tmp/simtest-1g-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1ull << 30), 0);
	close(fd);
	struct hammer_bdev *base;
	assert_int_equal(hammer_bdev_file_open(path, 0, &base, NULL), 0);
	unlink(path);
	struct sim *s;
	struct sim_knobs k = knobs(10, 1024, 1, 1, 1);
	assert_int_equal(sim_open(base, SIM_OWN_BASE, &k, &s), 0);
	static uint8_t buf[16384];
	uint64_t x = 42;
	/* volume header, some big-block headers, B-tree nodes, UNDO: 200 writes of 4-16 KB */
	for (int i = 0; i < 200; i++) {
		size_t len = 4096u << (t_rand(&x) % 3);
		uint64_t off = (t_rand(&x) % ((1ull << 30) / len)) * len;
		t_fill(&x, buf, len);
		assert_int_equal(hammer_bdev_write(sim_bdev(s), off, buf, len), 0);
		if (i % 25 == 24)
			assert_int_equal(hammer_bdev_flush(sim_bdev(s)), 0);
	}
	assert_true(sim_enum_count(s) >= 1000);
	static struct hammer_bdev *open_states[1000];
	struct sim_enum *e;
	assert_int_equal(sim_enum_begin(s, &e), 0);
	struct sim_state st;
	uint64_t state_bytes = 0;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(sim_enum_next(e, &st), 1);
		assert_int_equal(sim_state_open(s, &st, &open_states[i]), 0);
		assert_int_equal(hammer_bdev_read(open_states[i], 0, buf, 16384), 0);
		state_bytes += sim_state_mem(open_states[i]);
	}
	sim_enum_end(e);
	struct sim_counters c;
	sim_counters(s, &c);
	print_message("memory: base 1 GiB, %llu log writes, log %llu B, index %llu B, "
		      "1000 open states %llu B (%.0f B/state), total %.2f MiB\n",
		      (unsigned long long)sim_log_writes(s), (unsigned long long)c.log_bytes,
		      (unsigned long long)c.index_bytes, (unsigned long long)state_bytes,
		      state_bytes / 1000.0,
		      (c.log_bytes + c.index_bytes + state_bytes) / 1048576.0);
	/* the log holds the written data once; everything else is bookkeeping */
	assert_true(c.index_bytes < 4u << 20);
	assert_true(state_bytes < 1000u * 2048);
	for (int i = 0; i < 1000; i++)
		hammer_bdev_close(open_states[i]);
	sim_close(s);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* How many states per second can be opened and have a 16 KB header read back. */
static void states_per_second(void **state)
{
	(void)state;
	struct wl l;
	struct sim_knobs k = knobs(10, 1024, 1, 1, 0);
	wl_open(&l, 4u << 20, 77, &k);
	uint64_t x = 78;
	/* a flush cycle's shape: UNDO, barrier, header, barrier, meta-data; the header rewritten each time */
	for (int cycle = 0; cycle < 8; cycle++) {
		for (int i = 0; i < 6; i++)
			wl_write(&l, (1u << 20) + 16384u * (uint64_t)(cycle * 6 + i), 16384, &x);
		wl_flush(&l);
		wl_write(&l, 0, 16384, &x);
		wl_flush(&l);
		for (int i = 0; i < 12; i++)
			wl_write(&l, (2u << 20) + 16384u * (t_rand(&x) % 64), 16384, &x);
	}
	uint64_t total = sim_enum_count(l.s);
	uint8_t hdr[16384];
	uint64_t done = 0, sum = 0;
	double t0 = now_s();
	while (now_s() - t0 < 1.0) {
		struct sim_enum *e;
		assert_int_equal(sim_enum_begin(l.s, &e), 0);
		struct sim_state st;
		while (sim_enum_next(e, &st) == 1) {
			struct hammer_bdev *v;
			assert_int_equal(sim_state_open(l.s, &st, &v), 0);
			assert_int_equal(hammer_bdev_read(v, 0, hdr, sizeof(hdr)), 0);
			sum += hdr[0];
			hammer_bdev_close(v);
			done++;
		}
		sim_enum_end(e);
	}
	double dt = now_s() - t0;
	print_message("throughput: %llu states (%llu per pass) in %.2f s = %.0f states/s "
		      "(enumerate + open + 16 KB read + close), checksum %llu\n",
		      (unsigned long long)done, (unsigned long long)total, dt, done / dt,
		      (unsigned long long)sum);
	assert_true(done >= total);
	/* the crash suite's goal is 2,000 states/s end to end; the device alone must beat it */
	assert_true(done / dt > 2000.0);
	wl_close(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(count_three_writes),
		cmocka_unit_test(count_epochs),
		cmocka_unit_test(count_twelve_writes),
		cmocka_unit_test(samples_follow_the_seed),
		cmocka_unit_test(ids_rebuild_oracle_images),
		cmocka_unit_test(hand_written_ids),
		cmocka_unit_test(torn_exact),
		cmocka_unit_test(garbage_differs),
		cmocka_unit_test(garbage_safe_region),
		cmocka_unit_test(state_writes_are_private),
		cmocka_unit_test(touches_tell_unchanged),
		cmocka_unit_test(memory_1g_1000_states),
		cmocka_unit_test(states_per_second),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
