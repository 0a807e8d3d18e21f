/*
 * test_bioq.c - the bioq scheduler's guarantees, as bench/bioq relies on them:
 *   limits     a release takes exactly what DragonFly's walk takes: whole
 *              writes while they fit in the budget, plus the first one that
 *              does not (also when the budget was used up to the byte);
 *              minor releases stop at the first non-contiguous write,
 *              bursts do not;
 *   barriers   nothing submitted before a flush or an ordered write starts
 *              after it, nothing submitted after it starts before it ends
 *              (seeded random loads, both policies, depth 1 and 32);
 *   starvation a write is overtaken by at most (w + 1) * minor_interval
 *              later reads, w being the writes queued ahead of it, so with
 *              minor_interval <= burst_interval a lone write waits for at
 *              most burst_interval reads.
 * Failures print the case (seed, policy, depth) that reruns them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/latency.h"
#include "sim/tests/simtest.h"

static struct sim_lat *model(int ssd)
{
	struct sim_lat *m;
	if (ssd) {
		struct sim_ssd_params p;
		sim_ssd_default(&p);
		assert_int_equal(sim_lat_ssd(&p, &m), 0);
	} else {
		struct sim_hdd_params p;
		sim_hdd_default(&p);
		assert_int_equal(sim_lat_hdd(&p, &m), 0);
	}
	return m;
}

static struct sim_sched *open_sched(struct sim_lat *m, enum sim_policy pol, uint32_t depth,
				    uint32_t mi, uint32_t bi, uint64_t mb, uint64_t bb, uint64_t hirun)
{
	struct sim_sched_params p;
	sim_sched_default(&p);
	p.policy = pol;
	p.depth = depth;
	p.bioq.minor_interval = mi;
	p.bioq.burst_interval = bi;
	p.bioq.minor_bytes = mb;
	p.bioq.burst_bytes = bb;
	p.bioq.hirunningspace = hirun;
	struct sim_sched *s;
	assert_int_equal(sim_sched_open(&p, m, &s), 0);
	return s;
}

static void req(struct sim_req *r, enum sim_op op, uint64_t off, uint64_t len, uint64_t tag)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->off = off;
	r->len = len;
	r->tag = tag;
}

/* Writes queued ahead of the first read found after them: what the last release let through. */
static uint32_t writes_before_last_read(struct sim_sched *s)
{
	struct sim_req *q[512];
	uint32_t n = sim_sched_peek(s, q, 512), w = 0, last = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (q[i]->op == SIM_OP_WRITE)
			w++;
		else
			last = w;
	}
	return last;
}

/*
 * One held read keeps the device busy; `nw` writes of `len` bytes (gap
 * bytes between them) are queued; `jumps` reads then jump them, the last of
 * which triggers the release; one more read (placed before any release it
 * triggers itself) shows where the transition point went.  Returns the
 * writes ahead of it.
 */
static uint32_t release(uint32_t mi, uint32_t bi, uint64_t mb, uint64_t bb, uint64_t hirun,
			uint32_t nw, uint64_t len, uint64_t gap, uint32_t jumps, uint64_t *bursts)
{
	struct sim_lat *m = model(0);
	struct sim_sched *s = open_sched(m, SIM_SCHED_BIOQ, 1, mi, bi, mb, bb, hirun);
	struct sim_req *r = calloc(nw + jumps + 2, sizeof(*r));
	assert_non_null(r);
	uint32_t k = 0;
	req(&r[k], SIM_OP_READ, 1ull << 40, 4096, k);
	assert_int_equal(sim_sched_submit(s, &r[k++], 0), 0);
	for (uint32_t i = 0; i < nw; i++, k++) {
		req(&r[k], SIM_OP_WRITE, (uint64_t)i * (len + gap), len, k);
		assert_int_equal(sim_sched_submit(s, &r[k], 0), 0);
	}
	for (uint32_t i = 0; i <= jumps; i++, k++) {
		req(&r[k], SIM_OP_READ, (1ull << 41) + (uint64_t)i * 8192, 4096, k);
		assert_int_equal(sim_sched_submit(s, &r[k], 0), 0);
	}
	uint32_t got = writes_before_last_read(s);
	struct sim_sched_counters c;
	sim_sched_counters(s, &c);
	if (bursts)
		*bursts = c.burst_releases;
	assert_int_equal(sim_sched_drain(s), 0);
	free(r);
	sim_sched_close(s);
	sim_lat_close(m);
	return got;
}

static void limits_exact(void **state)
{
	(void)state;
	uint64_t b;
	CASE("limits minor 262144, 64K contiguous");
	/* 4 x 64K use the 256K budget to the byte; the walk still takes a 5th */
	CHECK(release(5, 60, 262144, 3000000, 16 << 20, 20, 65536, 0, 5, &b) == 5);
	CHECK(b == 0);
	CASE("limits minor 200000");
	/* 3 fit (196608), the 4th overflows and goes */
	CHECK(release(5, 60, 200000, 3000000, 16 << 20, 20, 65536, 0, 5, NULL) == 4);
	CASE("limits minor, one write larger than the budget");
	CHECK(release(5, 60, 4096, 3000000, 16 << 20, 20, 65536, 0, 5, NULL) == 1);
	CASE("limits minor, not contiguous");
	/* minor releases stop at the first gap: only the first write */
	CHECK(release(5, 60, 262144, 3000000, 16 << 20, 20, 65536, 4096, 5, NULL) == 1);
	CASE("limits no release before minor_interval");
	CHECK(release(5, 60, 262144, 3000000, 16 << 20, 20, 65536, 0, 3, NULL) == 0);
	CASE("limits two minor releases");
	CHECK(release(5, 60, 262144, 3000000, 16 << 20, 40, 65536, 0, 10, NULL) == 10);
	CASE("limits burst 3000000, scattered 64K");
	/* 45 x 64K = 2949120 fit, the 46th overflows and goes; no contiguity needed */
	CHECK(release(1, 1, 262144, 3000000, 1 << 20, 100, 65536, 4096, 1, &b) == 46);
	CHECK(b >= 1);
	CASE("limits burst 262144");
	CHECK(release(1, 1, 65536, 262144, 1 << 20, 100, 65536, 4096, 1, &b) == 5);
	CHECK(b >= 1);
	CASE("limits burst needs pressure");
	/* the same, with hirunningspace far above the queued bytes: a minor release */
	CHECK(release(1, 1, 65536, 262144, 1ull << 34, 100, 65536, 4096, 1, &b) == 1);
	CHECK(b == 0);
}

/* ------------------------------------------------------------ random loads */

struct load {
	struct sim_req *r;
	uint32_t n;
};

static void make_load(struct load *l, uint32_t n, uint64_t seed, int with_barriers)
{
	l->n = n;
	l->r = calloc(n, sizeof(*l->r));
	assert_non_null(l->r);
	uint64_t x = seed, woff = 0;
	for (uint32_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t k = (uint32_t)(x >> 33) % 100;
		struct sim_req *r = &l->r[i];
		if (with_barriers && k < 3) {
			req(r, SIM_OP_FLUSH, 0, 0, i);
		} else if (k < 55) {
			/* mostly contiguous writes, sometimes a jump elsewhere */
			if (k % 7 == 0)
				woff = ((x >> 20) % 100000) * 65536;
			req(r, SIM_OP_WRITE, woff, 16384 << (k % 3), i);
			woff += r->len;
			r->ordered = with_barriers && k == 54;
		} else {
			req(r, SIM_OP_READ, ((x >> 24) % 200000) * 16384, 16384, i);
		}
	}
}

/* Submits the load in bursts: several requests at the same instant, then time passes. */
static void run_load(struct sim_sched *s, struct load *l, uint64_t seed, uint64_t step_ns)
{
	uint64_t t = 0, x = seed ^ 0x5555;
	for (uint32_t i = 0; i < l->n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		if ((x >> 40) % 4 == 0)
			t += (x >> 20) % step_ns;
		assert_int_equal(sim_sched_submit(s, &l->r[i], t), 0);
	}
	assert_int_equal(sim_sched_drain(s), 0);
}

static void barriers_never_crossed(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 6; seed++)
		for (int pol = 0; pol < 2; pol++)
			for (int deep = 0; deep < 2; deep++) {
				uint32_t depth = deep ? 32 : 1;
				CASE("barriers seed %llu policy %s depth %u", (unsigned long long)seed,
				     pol ? "bioq" : "fifo", depth);
				struct sim_lat *m = model(deep);
				struct sim_sched *s = open_sched(m, pol ? SIM_SCHED_BIOQ : SIM_SCHED_FIFO,
								 depth, 5, 60, 262144, 3000000,
								 4 << 20);
				struct load l;
				make_load(&l, 1500, seed, 1);
				run_load(s, &l, seed, deep ? 400000 : 20000000);
				for (uint32_t b = 0; b < l.n; b++) {
					struct sim_req *B = &l.r[b];
					if (!(B->op == SIM_OP_FLUSH || B->ordered))
						continue;
					for (uint32_t i = 0; i < l.n; i++) {
						struct sim_req *r = &l.r[i];
						CHECK(r->done_ns >= r->start_ns && r->start_ns >= r->submit_ns);
						if (i < b)
							CHECK(r->done_ns <= B->start_ns);
						else if (i > b)
							CHECK(r->start_ns >= B->done_ns);
					}
				}
				free(l.r);
				sim_sched_close(s);
				sim_lat_close(m);
			}
}

static int by_start(const void *a, const void *b)
{
	const struct sim_req *x = *(struct sim_req *const *)a, *y = *(struct sim_req *const *)b;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->tag < y->tag ? -1 : x->tag > y->tag;
}

static void no_write_starvation(void **state)
{
	(void)state;
	static const uint32_t mis[][2] = { { 1, 60 }, { 5, 60 }, { 15, 60 }, { 30, 60 },
					   { 60, 60 }, { 15, 20 }, { 7, 120 } };
	for (uint64_t seed = 1; seed <= 4; seed++)
		for (size_t c = 0; c < sizeof(mis) / sizeof(mis[0]); c++) {
			uint32_t mi = mis[c][0], bi = mis[c][1];
			CASE("starvation seed %llu minor_interval %u burst_interval %u",
			     (unsigned long long)seed, mi, bi);
			struct sim_lat *m = model(0);
			struct sim_sched *s = open_sched(m, SIM_SCHED_BIOQ, 1, mi, bi, 262144,
							 3000000, 16 << 20);
			struct load l;
			make_load(&l, 2000, seed, 0);
			/* writes queued ahead of each write when it arrives (all still queued) */
			uint32_t *ahead = calloc(l.n, sizeof(*ahead));
			assert_non_null(ahead);
			uint64_t t = 0, x = seed;
			for (uint32_t i = 0; i < l.n; i++) {
				x = x * 6364136223846793005ull + 1442695040888963407ull;
				t += (x >> 20) % 8000000;	/* reads arrive faster than they are served */
				assert_int_equal(sim_sched_submit(s, &l.r[i], t), 0);
				if (l.r[i].op == SIM_OP_WRITE) {
					struct sim_req *q[4096];
					uint32_t n = sim_sched_peek(s, q, 4096);
					for (uint32_t j = 0; j < n && q[j] != &l.r[i]; j++)
						ahead[i] += q[j]->op == SIM_OP_WRITE;
				}
			}
			assert_int_equal(sim_sched_drain(s), 0);
			struct sim_req **ord = calloc(l.n, sizeof(*ord));
			assert_non_null(ord);
			for (uint32_t i = 0; i < l.n; i++)
				ord[i] = &l.r[i];
			qsort(ord, l.n, sizeof(*ord), by_start);
			uint32_t worst_lone = 0;
			for (uint32_t i = 0; i < l.n; i++) {
				struct sim_req *w = &l.r[i];
				if (w->op != SIM_OP_WRITE)
					continue;
				uint32_t over = 0;
				for (uint32_t j = 0; j < l.n && ord[j] != w; j++)
					over += ord[j]->op == SIM_OP_READ && ord[j]->tag > w->tag;
				CHECK(over <= (ahead[i] + 1) * mi);
				if (!ahead[i] && over > worst_lone)
					worst_lone = over;
			}
			CHECK(worst_lone <= mi && worst_lone <= bi);
			struct sim_sched_counters sc;
			sim_sched_counters(s, &sc);
			CHECK(sc.reads_jumped > 0);
			CHECK(sc.completed[SIM_OP_WRITE] == sc.submitted[SIM_OP_WRITE]);
			free(ord);
			free(ahead);
			free(l.r);
			sim_sched_close(s);
			sim_lat_close(m);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(limits_exact),
		cmocka_unit_test(barriers_never_crossed),
		cmocka_unit_test(no_write_starvation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
