/* test_latency.c - HDD and SSD models, and the bioq scheduler's rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/latency.h"
#include "sim/tests/simtest.h"

#define MS 1000000ull

static struct sim_lat *hdd(void)
{
	struct sim_hdd_params p;
	sim_hdd_default(&p);
	struct sim_lat *m;
	assert_int_equal(sim_lat_hdd(&p, &m), 0);
	return m;
}

static struct sim_lat *ssd(uint32_t amp)
{
	struct sim_ssd_params p;
	sim_ssd_default(&p);
	p.write_amp_pct = amp;
	struct sim_lat *m;
	assert_int_equal(sim_lat_ssd(&p, &m), 0);
	return m;
}

/* ------------------------------------------------------------ HDD */

static void hdd_seek_curve(void **state)
{
	(void)state;
	struct sim_lat *m = hdd();
	assert_int_equal(sim_hdd_seek_ns(m, 0, 0), 0);
	uint64_t prev = 0;
	for (uint64_t d = 1; d < 160000; d += 1 + d / 50) {
		uint64_t t = sim_hdd_seek_ns(m, d, 0);
		assert_true(t >= prev);	/* monotone in distance */
		prev = t;
	}
	/* the two lines meet at the boundary, and full stroke is ~13 ms */
	uint64_t below = sim_hdd_seek_ns(m, 1999, 0), at = sim_hdd_seek_ns(m, 2000, 0);
	assert_true(at >= below && at - below < 20000);
	uint64_t full = sim_hdd_seek_ns(m, 159999, 0);
	assert_true(full > 12900000 && full < 13100000);
	/* writes settle longer */
	assert_true(sim_hdd_seek_ns(m, 100, 1) > sim_hdd_seek_ns(m, 100, 0));
	char d[512];
	assert_true(sim_lat_describe(m, d, sizeof(d)) > 0);
	print_message("%s\n", d);
	assert_int_equal(sim_lat_describe(m, d, 10), -ENOSPC);
	sim_lat_close(m);
}

/* Runs n back-to-back requests; returns the total virtual time. */
static uint64_t run(struct sim_lat *m, enum sim_op op, int sequential, int n, uint64_t len,
		    uint64_t span, uint64_t seed)
{
	uint64_t x = seed, t = 0, off = 0;
	for (int i = 0; i < n; i++) {
		if (!sequential)
			off = (t_rand(&x) % (span / len)) * len;
		uint64_t done = sim_lat_service(m, t, op, off, len);
		CHECK(done > t);
		t = done;
		off += len;
	}
	return t;
}

static void hdd_sequential_beats_random(void **state)
{
	(void)state;
	CASE("test_latency hdd_sequential_beats_random");
	const uint64_t cap = 2000000000000ull;
	struct sim_lat *m = hdd();
	uint64_t rnd = run(m, SIM_OP_READ, 0, 1000, 16384, cap, 1);
	struct sim_lat_counters c;
	sim_lat_counters(m, &c);
	CHECK(c.ops[SIM_OP_READ] == 1000 && c.seeks > 990);
	sim_lat_close(m);
	m = hdd();
	uint64_t seq = run(m, SIM_OP_READ, 1, 1000, 16384, cap, 1);
	sim_lat_counters(m, &c);
	CHECK(c.buffer_hits > 900);
	sim_lat_close(m);
	m = hdd();
	uint64_t seqw = run(m, SIM_OP_WRITE, 1, 1000, 16384, cap, 1);
	sim_lat_counters(m, &c);
	CHECK(c.rotate_ns < 10 * MS);	/* one initial wait at most: no missed turns */
	sim_lat_close(m);
	double iops = 1000 / (rnd / 1e9);
	double mbs_r = 1000 * 16384 / (seq / 1e9) / 1e6;
	double mbs_w = 1000 * 16384 / (seqw / 1e9) / 1e6;
	print_message("hdd: random 16K reads %.1f IOPS (%.2f ms each); sequential reads %.1f MB/s,"
		      " writes %.1f MB/s\n", iops, rnd / 1e6 / 1000, mbs_r, mbs_w);
	/* a 7200 rpm disk with ~6.7 ms average seek: 70-120 random IOPS */
	CHECK(iops > 70 && iops < 120);
	/* sequential transfers run at close to the 150 MB/s media rate */
	CHECK(mbs_r > 130 && mbs_r <= 151);
	CHECK(mbs_w > 130 && mbs_w <= 151);
	CHECK(seq * 20 < rnd);
}

static void hdd_rotation_and_buffer(void **state)
{
	(void)state;
	struct sim_lat *m = hdd();
	/* a request that arrives a little late for the next sector waits almost a turn */
	uint64_t t = sim_lat_service(m, 0, SIM_OP_WRITE, 0, 4096);
	uint64_t on_time = sim_lat_service(m, t, SIM_OP_WRITE, 4096, 4096);
	uint64_t t2 = sim_lat_service(m, on_time + 100000, SIM_OP_WRITE, 8192, 4096);
	assert_true(on_time - t < 100000);	/* transfer only: ~27 us */
	assert_true(t2 - (on_time + 100000) > 8 * MS);	/* missed it: most of 8.33 ms */
	/* a read inside the read-ahead comes from the buffer; a write empties it */
	uint64_t r1 = sim_lat_service(m, t2, SIM_OP_READ, 50 * 4096, 4096);
	uint64_t r2 = sim_lat_service(m, r1 + 10 * MS, SIM_OP_READ, 51 * 4096, 4096);
	assert_true(r2 - (r1 + 10 * MS) < 100000);
	struct sim_lat_counters c;
	sim_lat_counters(m, &c);
	assert_int_equal(c.buffer_hits, 1);
	uint64_t w = sim_lat_service(m, r2, SIM_OP_WRITE, 100 * 4096, 4096);
	uint64_t r3 = sim_lat_service(m, w, SIM_OP_READ, 52 * 4096, 4096);
	sim_lat_counters(m, &c);
	assert_int_equal(c.buffer_hits, 1);
	assert_true(r3 > w);
	/* the actuator serializes: a request arriving early waits for the last */
	uint64_t busy = sim_lat_service(m, 0, SIM_OP_READ, 1ull << 40, 4096);
	assert_true(busy > r3);
	/* flush */
	uint64_t f = sim_lat_service(m, busy, SIM_OP_FLUSH, 0, 0);
	assert_int_equal(f - busy, 100000);
	sim_lat_counters(m, &c);
	assert_int_equal(c.ops[SIM_OP_FLUSH], 1);
	assert_int_equal(c.ops[SIM_OP_WRITE], 4);
	sim_lat_close(m);
	/* bad parameters */
	struct sim_hdd_params p;
	sim_hdd_default(&p);
	p.rpm = 0;
	assert_int_equal(sim_lat_hdd(&p, &m), -EINVAL);
}

static void deterministic(void **state)
{
	(void)state;
	for (int k = 0; k < 2; k++) {
		struct sim_lat *a = k ? ssd(150) : hdd(), *b = k ? ssd(150) : hdd();
		uint64_t x = 3, y = 3, t = 0, u = 0;
		for (int i = 0; i < 500; i++) {
			enum sim_op op = (enum sim_op)(t_rand(&x) % 3);
			uint64_t off = (t_rand(&x) % 100000) * 4096, len = 4096 * (1 + t_rand(&x) % 8);
			t = sim_lat_service(a, t, op, off, len);
			op = (enum sim_op)(t_rand(&y) % 3);
			off = (t_rand(&y) % 100000) * 4096;
			len = 4096 * (1 + t_rand(&y) % 8);
			u = sim_lat_service(b, u, op, off, len);
			assert_int_equal(t, u);
		}
		sim_lat_close(a);
		sim_lat_close(b);
	}
}

/* ------------------------------------------------------------ SSD */

static void ssd_model(void **state)
{
	(void)state;
	struct sim_lat *m = ssd(100);
	/* one page read: overhead + read + one page over the bus */
	uint64_t r = sim_lat_service(m, 0, SIM_OP_READ, 0, 4096);
	assert_int_equal(r, 10000 + 80000 + 8192);
	/* 8 pages on 8 channels overlap: far less than 8 reads */
	uint64_t r8 = sim_lat_service(m, r, SIM_OP_READ, 4096 * 8, 4096 * 8) - r;
	assert_true(r8 < 2 * r);
	/* 16 pages: two rounds on each channel */
	uint64_t t = r + r8;
	uint64_t r16 = sim_lat_service(m, t, SIM_OP_READ, 0, 4096 * 16) - t;
	assert_true(r16 > 160000 && r16 < 3 * r);
	/* writes cost more than reads, and the write-amplification knob scales them */
	t += r16;
	uint64_t w = sim_lat_service(m, t, SIM_OP_WRITE, 0, 4096) - t;
	assert_true(w > r);
	sim_lat_close(m);
	struct sim_lat *m3 = ssd(300);
	uint64_t w3 = sim_lat_service(m3, 0, SIM_OP_WRITE, 0, 4096);
	assert_int_equal(w3, 10000 + 8192 + 600000);
	/* a flush waits for outstanding programs */
	uint64_t w4 = sim_lat_service(m3, w3, SIM_OP_WRITE, 4096, 4096 * 8);
	uint64_t f = sim_lat_service(m3, w3, SIM_OP_FLUSH, 0, 0);
	assert_true(f >= w4 + 500000);
	/* random and sequential cost the same (no positioning) */
	struct sim_lat_counters c;
	sim_lat_counters(m3, &c);
	assert_int_equal(c.ops[SIM_OP_WRITE], 2);
	assert_int_equal(c.bytes[SIM_OP_WRITE], 4096 * 9);
	sim_lat_close(m3);
	struct sim_lat *a = ssd(100), *b = ssd(100);
	uint64_t seq = run(a, SIM_OP_READ, 1, 200, 16384, 1ull << 36, 4);
	uint64_t rnd = run(b, SIM_OP_READ, 0, 200, 16384, 1ull << 36, 4);
	assert_true(seq * 10 > rnd * 9 && rnd * 10 > seq * 9);
	sim_lat_close(a);
	sim_lat_close(b);
	struct sim_ssd_params p;
	sim_ssd_default(&p);
	p.channels = 0;
	assert_int_equal(sim_lat_ssd(&p, &m), -EINVAL);
}

/* ------------------------------------------------------------ bioq */

static struct sim_sched *sched(struct sim_lat *m, enum sim_policy pol, uint32_t minor,
			       uint32_t burst, uint64_t minor_bytes, uint64_t hirun)
{
	struct sim_sched_params p;
	sim_sched_default(&p);
	p.policy = pol;
	p.bioq.minor_interval = minor;
	p.bioq.burst_interval = burst;
	p.bioq.minor_bytes = minor_bytes;
	p.bioq.hirunningspace = hirun;
	struct sim_sched *s;
	assert_int_equal(sim_sched_open(&p, m, &s), 0);
	return s;
}

static struct sim_req R(enum sim_op op, uint64_t off, uint64_t len, uint64_t tag)
{
	struct sim_req r;
	memset(&r, 0, sizeof(r));
	r.op = op;
	r.off = off;
	r.len = len;
	r.tag = tag;
	return r;
}

/* The queue's tags, head first, as a string like "r1 w2 f3". */
static void order(struct sim_sched *s, char *out)
{
	struct sim_req *q[64];
	uint32_t n = sim_sched_peek(s, q, 64);
	out[0] = 0;
	for (uint32_t i = 0; i < n; i++) {
		char one[16];
		snprintf(one, sizeof(one), "%s%c%llu", i ? " " : "",
			 q[i]->op == SIM_OP_READ ? 'r' : q[i]->op == SIM_OP_WRITE ? 'w' : 'f',
			 (unsigned long long)q[i]->tag);
		strcat(out, one);
	}
}

static void bioq_reads_jump_writes(void **state)
{
	(void)state;
	struct sim_lat *m = hdd();
	struct sim_sched *s = sched(m, SIM_SCHED_BIOQ, 0, 60, 262144, 16 << 20);
	struct sim_req r[16];
	char q[512];
	r[0] = R(SIM_OP_WRITE, 0, 4096, 0);	/* goes straight to the device */
	assert_int_equal(sim_sched_submit(s, &r[0], 0), 0);
	r[1] = R(SIM_OP_WRITE, 4096, 4096, 1);
	r[2] = R(SIM_OP_WRITE, 1 << 30, 4096, 2);
	r[3] = R(SIM_OP_READ, 1ull << 35, 4096, 3);
	r[4] = R(SIM_OP_READ, 1ull << 36, 4096, 4);
	for (int i = 1; i <= 4; i++)
		assert_int_equal(sim_sched_submit(s, &r[i], 0), 0);
	order(s, q);
	assert_string_equal(q, "r3 r4 w1 w2");	/* reads ahead of writes, FIFO among reads */
	/* a flush closes the queue: a later read stays behind it ... */
	r[5] = R(SIM_OP_FLUSH, 0, 0, 5);
	r[6] = R(SIM_OP_READ, 8192, 4096, 6);
	assert_int_equal(sim_sched_submit(s, &r[5], 0), 0);
	assert_int_equal(sim_sched_submit(s, &r[6], 0), 0);
	order(s, q);
	assert_string_equal(q, "r3 r4 w1 w2 f5 r6");
	/* ... until a write after it opens a new region that later reads jump */
	r[7] = R(SIM_OP_WRITE, 12288, 4096, 7);
	r[8] = R(SIM_OP_READ, 16384, 4096, 8);
	assert_int_equal(sim_sched_submit(s, &r[7], 0), 0);
	assert_int_equal(sim_sched_submit(s, &r[8], 0), 0);
	order(s, q);
	assert_string_equal(q, "r3 r4 w1 w2 f5 r6 r8 w7");
	/* an ordered write is a barrier too */
	r[9] = R(SIM_OP_WRITE, 20480, 4096, 9);
	r[9].ordered = 1;
	r[10] = R(SIM_OP_READ, 24576, 4096, 10);
	assert_int_equal(sim_sched_submit(s, &r[9], 0), 0);
	assert_int_equal(sim_sched_submit(s, &r[10], 0), 0);
	order(s, q);
	assert_string_equal(q, "r3 r4 w1 w2 f5 r6 r8 w7 w9 r10");
	struct sim_sched_counters c;
	sim_sched_counters(s, &c);
	assert_int_equal(c.reads_jumped, 3);
	assert_int_equal(c.minor_releases, 0);	/* minor_interval 0: never */
	/* it all completes, in queue order on a depth-1 device */
	assert_int_equal(sim_sched_drain(s), 0);
	assert_int_equal(sim_sched_queued(s), 0);
	static const int seq[] = { 0, 3, 4, 1, 2, 5, 6, 8, 7, 9, 10 };
	for (int i = 1; i < 11; i++)
		assert_true(r[seq[i]].start_ns >= r[seq[i - 1]].done_ns);
	for (int i = 0; i < 11; i++)
		assert_true(r[i].done_ns > r[i].submit_ns || r[i].op == SIM_OP_FLUSH);
	sim_sched_counters(s, &c);
	assert_int_equal(c.completed[SIM_OP_READ] + c.completed[SIM_OP_WRITE] +
			 c.completed[SIM_OP_FLUSH], 11);
	assert_int_equal(c.max_depth, 11);
	sim_sched_close(s);
	sim_lat_close(m);
}

static void bioq_minor_release(void **state)
{
	(void)state;
	struct sim_lat *m = hdd();
	struct sim_sched *s = sched(m, SIM_SCHED_BIOQ, 5, 60, 262144, 16 << 20);
	struct sim_req r[32];
	char q[512];
	r[0] = R(SIM_OP_READ, 1ull << 40, 4096, 0);
	assert_int_equal(sim_sched_submit(s, &r[0], 0), 0);
	/* writes: two contiguous 100K, a third contiguous 100K, a fourth contiguous, one far away */
	r[1] = R(SIM_OP_WRITE, 0, 100000, 1);
	r[2] = R(SIM_OP_WRITE, 100000, 100000, 2);
	r[3] = R(SIM_OP_WRITE, 200000, 100000, 3);
	r[4] = R(SIM_OP_WRITE, 300000, 100000, 4);
	r[5] = R(SIM_OP_WRITE, 1 << 30, 4096, 5);
	for (int i = 1; i <= 5; i++)
		assert_int_equal(sim_sched_submit(s, &r[i], 0), 0);
	for (int i = 6; i <= 9; i++) {
		r[i] = R(SIM_OP_READ, (uint64_t)i << 32, 4096, (uint64_t)i);
		assert_int_equal(sim_sched_submit(s, &r[i], 0), 0);
	}
	order(s, q);
	assert_string_equal(q, "r6 r7 r8 r9 w1 w2 w3 w4 w5");
	/* the 5th jumping read releases 256K of contiguous writes: w1, w2, and w3 that overflows */
	r[10] = R(SIM_OP_READ, 10ull << 32, 4096, 10);
	assert_int_equal(sim_sched_submit(s, &r[10], 0), 0);
	r[11] = R(SIM_OP_READ, 11ull << 32, 4096, 11);
	assert_int_equal(sim_sched_submit(s, &r[11], 0), 0);
	order(s, q);
	assert_string_equal(q, "r6 r7 r8 r9 r10 w1 w2 w3 r11 w4 w5");
	struct sim_sched_counters c;
	sim_sched_counters(s, &c);
	assert_int_equal(c.minor_releases, 1);
	assert_int_equal(c.writes_released, 3);
	/* next release at the 10th jump: w4 only (w5 is not contiguous) */
	for (int i = 12; i <= 15; i++) {
		r[i] = R(SIM_OP_READ, (uint64_t)i << 32, 4096, (uint64_t)i);
		assert_int_equal(sim_sched_submit(s, &r[i], 0), 0);
	}
	order(s, q);
	assert_string_equal(q, "r6 r7 r8 r9 r10 w1 w2 w3 r11 r12 r13 r14 r15 w4 w5");
	r[16] = R(SIM_OP_READ, 16ull << 32, 4096, 16);
	assert_int_equal(sim_sched_submit(s, &r[16], 0), 0);
	order(s, q);
	assert_string_equal(q, "r6 r7 r8 r9 r10 w1 w2 w3 r11 r12 r13 r14 r15 w4 r16 w5");
	sim_sched_counters(s, &c);
	assert_int_equal(c.minor_releases, 2);
	assert_int_equal(c.writes_released, 4);
	assert_int_equal(c.reads_jumped, 11);
	assert_int_equal(sim_sched_drain(s), 0);
	sim_sched_close(s);
	sim_lat_close(m);
}

static void bioq_burst_needs_pressure(void **state)
{
	(void)state;
	for (int severe = 0; severe < 2; severe++) {
		CASE("test_latency bioq_burst_needs_pressure severe=%d", severe);
		struct sim_lat *m = hdd();
		/* 4 scattered 64K writes queued: 256K running; severe when hirunningspace <= 384K */
		struct sim_sched *s = sched(m, SIM_SCHED_BIOQ, 5, 10, 262144,
					    severe ? 300000 : 16 << 20);
		struct sim_req r[32];
		r[0] = R(SIM_OP_READ, 1ull << 40, 4096, 0);
		CHECK(sim_sched_submit(s, &r[0], 0) == 0);
		for (int i = 1; i <= 4; i++) {
			r[i] = R(SIM_OP_WRITE, (uint64_t)i << 30, 65536, (uint64_t)i);
			CHECK(sim_sched_submit(s, &r[i], 0) == 0);
		}
		for (int i = 5; i < 15; i++) {
			r[i] = R(SIM_OP_READ, (uint64_t)i << 32, 4096, (uint64_t)i);
			CHECK(sim_sched_submit(s, &r[i], 0) == 0);
		}
		struct sim_sched_counters c;
		sim_sched_counters(s, &c);
		/* jump 5: minor, one write (not contiguous); jump 10: burst only under pressure */
		CHECK(c.minor_releases == (severe ? 1u : 2u));
		CHECK(c.burst_releases == (severe ? 1u : 0u));
		CHECK(c.writes_released == (severe ? 4u : 2u));
		/*
		 * The counter reset at 10.  Under pressure the burst released every
		 * write, so later reads have nothing to jump; otherwise two writes
		 * are still held and the 5th jump after the reset releases one.
		 */
		for (int i = 15; i < 20; i++) {
			r[i] = R(SIM_OP_READ, (uint64_t)i << 32, 4096, (uint64_t)i);
			CHECK(sim_sched_submit(s, &r[i], 0) == 0);
		}
		sim_sched_counters(s, &c);
		CHECK(c.reads_jumped == (severe ? 10u : 15u));
		CHECK(c.minor_releases == (severe ? 1u : 3u));
		CHECK(c.writes_released == (severe ? 4u : 3u));
		CHECK(sim_sched_drain(s) == 0);
		sim_sched_close(s);
		sim_lat_close(m);
	}
}

static void bioq_transition_follows_removal(void **state)
{
	(void)state;
	struct sim_lat *m = ssd(100);
	struct sim_sched *s = sched(m, SIM_SCHED_BIOQ, 0, 60, 262144, 16 << 20);
	struct sim_req r[8];
	char q[256];
	r[0] = R(SIM_OP_WRITE, 0, 4096, 0);	/* in flight; it was the transition point */
	r[1] = R(SIM_OP_WRITE, 1 << 20, 4096, 1);
	assert_int_equal(sim_sched_submit(s, &r[0], 0), 0);
	assert_int_equal(sim_sched_submit(s, &r[1], 0), 0);
	order(s, q);
	assert_string_equal(q, "w1");
	/* w0 left the queue: the transition walked to w1, so a read still jumps it */
	r[2] = R(SIM_OP_READ, 1 << 21, 4096, 2);
	assert_int_equal(sim_sched_submit(s, &r[2], 0), 0);
	order(s, q);
	assert_string_equal(q, "r2 w1");
	/* drain; once the write region empties a read is plain FIFO again */
	assert_int_equal(sim_sched_drain(s), 0);
	r[3] = R(SIM_OP_READ, 0, 4096, 3);
	r[4] = R(SIM_OP_READ, 4096, 4096, 4);
	assert_int_equal(sim_sched_submit(s, &r[3], sim_sched_now(s)), 0);
	assert_int_equal(sim_sched_submit(s, &r[4], sim_sched_now(s)), 0);
	order(s, q);
	assert_string_equal(q, "r4");
	struct sim_sched_counters c;
	sim_sched_counters(s, &c);
	assert_int_equal(c.reads_jumped, 1);
	/* time cannot go back */
	r[5] = R(SIM_OP_READ, 0, 4096, 5);
	assert_int_equal(sim_sched_submit(s, &r[5], 0), -EINVAL);
	assert_int_equal(sim_sched_drain(s), 0);
	sim_sched_close(s);
	sim_lat_close(m);
}

static void fifo_keeps_order(void **state)
{
	(void)state;
	struct sim_lat *m = hdd();
	struct sim_sched *s = sched(m, SIM_SCHED_FIFO, 5, 60, 262144, 16 << 20);
	struct sim_req r[8];
	char q[256];
	for (int i = 0; i < 6; i++) {
		r[i] = R(i % 2 ? SIM_OP_READ : SIM_OP_WRITE, (uint64_t)i << 20, 4096, (uint64_t)i);
		assert_int_equal(sim_sched_submit(s, &r[i], 0), 0);
	}
	order(s, q);
	assert_string_equal(q, "r1 w2 r3 w4 r5");
	assert_int_equal(sim_sched_drain(s), 0);
	sim_sched_close(s);
	sim_lat_close(m);
}

/*
 * A write backlog with reads arriving: 600 MB of 1 MB sequential writes
 * queued at once (about 4 s of media time), and 100 random 16 KB reads at
 * 25/s meanwhile.  bioq serves the reads far sooner than FIFO.
 */
#define NW 600
#define NR 100
struct load {
	struct sim_req req[NW + NR];
};

static void mixed(struct sim_sched *s, struct load *l, uint64_t seed, uint64_t *read_lat,
		  uint64_t *write_done)
{
	uint64_t x = seed;
	uint32_t n = 0;
	for (int i = 0; i < NW; i++) {
		l->req[n] = R(SIM_OP_WRITE, (1ull << 30) + (1ull << 20) * (uint64_t)i, 1 << 20, n);
		CHECK(sim_sched_submit(s, &l->req[n], 0) == 0);
		n++;
	}
	uint64_t t = 0;
	for (int i = 0; i < NR; i++) {
		t += 40 * MS;
		l->req[n] = R(SIM_OP_READ, (t_rand(&x) % 100000000) * 16384, 16384, n);
		CHECK(sim_sched_submit(s, &l->req[n], t) == 0);
		n++;
	}
	CHECK(sim_sched_drain(s) == 0);
	*read_lat = 0;
	*write_done = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct sim_req *r = &l->req[i];
		CHECK(r->done_ns >= r->start_ns && r->start_ns >= r->submit_ns);
		if (r->op == SIM_OP_READ)
			*read_lat += r->done_ns - r->submit_ns;
		else if (r->done_ns > *write_done)
			*write_done = r->done_ns;
	}
	*read_lat /= NR;
}

static void bioq_beats_fifo_for_reads(void **state)
{
	(void)state;
	static struct load l;
	uint64_t lat[2], wdone[2];
	struct sim_sched_counters c[2];
	for (int pol = 0; pol < 2; pol++) {
		CASE("test_latency bioq_beats_fifo_for_reads policy=%d", pol);
		struct sim_lat *m = hdd();
		struct sim_sched_params p;
		sim_sched_default(&p);
		p.policy = pol ? SIM_SCHED_BIOQ : SIM_SCHED_FIFO;
		struct sim_sched *s;
		CHECK(sim_sched_open(&p, m, &s) == 0);
		mixed(s, &l, 11, &lat[pol], &wdone[pol]);
		sim_sched_counters(s, &c[pol]);
		CHECK(c[pol].latency_ns[SIM_OP_READ] / NR == lat[pol]);
		CHECK(c[pol].completed[SIM_OP_WRITE] == NW && c[pol].completed[SIM_OP_READ] == NR);
		sim_sched_close(s);
		sim_lat_close(m);
	}
	print_message("bioq: mean read latency fifo %.1f ms, bioq %.1f ms (max %.1f ms); "
		      "writes done at %.0f / %.0f ms; bioq jumps %llu, minor releases %llu, "
		      "bursts %llu, max depth %u, mean depth %.1f\n",
		      lat[0] / 1e6, lat[1] / 1e6, c[1].max_latency_ns[SIM_OP_READ] / 1e6,
		      wdone[0] / 1e6, wdone[1] / 1e6, (unsigned long long)c[1].reads_jumped,
		      (unsigned long long)c[1].minor_releases,
		      (unsigned long long)c[1].burst_releases, c[1].max_depth,
		      (double)c[1].depth_area / (double)wdone[1]);
	CHECK(lat[1] * 10 < lat[0]);
	CHECK(c[0].reads_jumped == 0 && c[1].reads_jumped > 0);
	CHECK(c[1].minor_releases + c[1].burst_releases == c[1].reads_jumped / 5);
	CHECK(c[1].burst_releases == c[1].reads_jumped / 60);	/* 600 MB queued: always severe */
	/* the same work either way: writes end within the reads' extra seeks of each other */
	uint64_t gap = wdone[1] > wdone[0] ? wdone[1] - wdone[0] : wdone[0] - wdone[1];
	CHECK(gap < NR * 30 * MS);
	/* deterministic */
	struct sim_lat *m = hdd();
	struct sim_sched_params p;
	sim_sched_default(&p);
	struct sim_sched *s;
	assert_int_equal(sim_sched_open(&p, m, &s), 0);
	uint64_t again, wagain;
	mixed(s, &l, 11, &again, &wagain);
	assert_int_equal(again, lat[1]);
	assert_int_equal(wagain, wdone[1]);
	sim_sched_close(s);
	sim_lat_close(m);
}

/* Depth > 1 on the SSD: requests overlap; a flush waits for idle. */
struct chain {
	struct sim_sched *s;
	struct sim_req more[4];
	int n;
};

static void chain_done(void *ctx, struct sim_req *r)
{
	struct chain *c = ctx;
	if (r->tag == 100 && c->n < 4) {
		c->more[c->n] = R(SIM_OP_READ, 4096ull * (uint64_t)c->n, 4096, 200);
		assert_int_equal(sim_sched_submit(c->s, &c->more[c->n], sim_sched_now(c->s)), 0);
		c->n++;
		/* not at another time, and no nested running from a callback */
		struct sim_req bad = R(SIM_OP_READ, 0, 4096, 0);
		assert_int_equal(sim_sched_submit(c->s, &bad, sim_sched_now(c->s) + 1), -EINVAL);
		assert_int_equal(sim_sched_drain(c->s), -EBUSY);
	}
}

static void depth_and_callbacks(void **state)
{
	(void)state;
	struct sim_lat *m = ssd(100);
	struct sim_sched_params p;
	sim_sched_default(&p);
	p.depth = 8;
	struct sim_sched *s;
	assert_int_equal(sim_sched_open(&p, m, &s), 0);
	struct sim_req r[10];
	for (int i = 0; i < 8; i++) {
		r[i] = R(SIM_OP_READ, 4096ull * (uint64_t)i, 4096, 100);
		assert_int_equal(sim_sched_submit(s, &r[i], 0), 0);
	}
	r[8] = R(SIM_OP_FLUSH, 0, 0, 8);
	r[9] = R(SIM_OP_READ, 0, 4096, 9);
	assert_int_equal(sim_sched_submit(s, &r[8], 0), 0);
	assert_int_equal(sim_sched_submit(s, &r[9], 0), 0);
	struct chain c = { .s = s };
	sim_sched_on_done(s, chain_done, &c);
	assert_int_equal(sim_sched_drain(s), 0);
	/* the 8 reads ran together: all done well before 8 serial reads */
	uint64_t last = 0;
	for (int i = 0; i < 8; i++) {
		assert_int_equal(r[i].start_ns, 0);
		if (r[i].done_ns > last)
			last = r[i].done_ns;
	}
	assert_true(last < 3 * 100000);
	/* the flush started after every read finished, r9 after the flush */
	assert_true(r[8].start_ns >= last);
	assert_true(r[9].start_ns >= r[8].done_ns);
	assert_int_equal(c.n, 4);
	for (int i = 0; i < 4; i++)
		assert_true(c.more[i].done_ns > 0);
	struct sim_sched_counters k;
	sim_sched_counters(s, &k);
	assert_int_equal(k.completed[SIM_OP_READ], 13);
	assert_true(k.busy_ns > 0 && k.busy_ns <= sim_sched_now(s));
	assert_int_equal(sim_sched_advance(s, sim_sched_now(s) + 5), 0);
	assert_int_equal(sim_sched_advance(s, 0), -EINVAL);
	sim_sched_close(s);
	p.depth = 0;
	assert_int_equal(sim_sched_open(&p, m, &s), -EINVAL);
	sim_lat_close(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hdd_seek_curve),
		cmocka_unit_test(hdd_sequential_beats_random),
		cmocka_unit_test(hdd_rotation_and_buffer),
		cmocka_unit_test(deterministic),
		cmocka_unit_test(ssd_model),
		cmocka_unit_test(bioq_reads_jump_writes),
		cmocka_unit_test(bioq_minor_release),
		cmocka_unit_test(bioq_burst_needs_pressure),
		cmocka_unit_test(bioq_transition_follows_removal),
		cmocka_unit_test(fifo_keeps_order),
		cmocka_unit_test(bioq_beats_fifo_for_reads),
		cmocka_unit_test(depth_and_callbacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
