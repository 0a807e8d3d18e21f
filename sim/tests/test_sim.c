/* test_sim.c - the sim device: overlay vs a plain RAM device, epochs, faults, misuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/sim.h"
#include "sim/tests/simtest.h"

#define DEV (1u << 20)

/* A RAM base filled with seeded bytes, and a second RAM device with the same bytes. */
static void twin(uint64_t seed, struct hammer_bdev **base, struct hammer_bdev **mirror)
{
	assert_int_equal(hammer_bdev_ram_open(DEV, "base", base), 0);
	assert_int_equal(hammer_bdev_ram_open(DEV, "mirror", mirror), 0);
	uint64_t x = seed;
	t_fill(&x, hammer_bdev_ram_data(*base), DEV);
	memcpy(hammer_bdev_ram_data(*mirror), hammer_bdev_ram_data(*base), DEV);
}

static void overlay_matches_ram(void **state)
{
	(void)state;
	static uint8_t a[65536], b[65536], before[DEV];
	for (uint64_t seed = 1; seed <= 12; seed++) {
		CASE("test_sim overlay_matches_ram seed=%llu", (unsigned long long)seed);
		struct hammer_bdev *base, *mirror;
		twin(seed, &base, &mirror);
		memcpy(before, hammer_bdev_ram_data(base), DEV);
		struct sim *s;
		assert_int_equal(sim_open(base, SIM_OWN_BASE, NULL, &s), 0);
		struct hammer_bdev *bd = sim_bdev(s);
		uint64_t x = seed * 7919;
		uint64_t nw = 0, nr = 0, bw = 0, br = 0, nf = 0;
		for (int op = 0; op < 600; op++) {
			uint32_t nsec = 1 + (uint32_t)(t_rand(&x) % 128);
			uint64_t off = (t_rand(&x) % (DEV / 512 - nsec + 1)) * 512;
			size_t len = nsec * 512u;
			uint64_t k = t_rand(&x) % 10;
			if (k < 5) {
				t_fill(&x, a, len);
				CHECK(hammer_bdev_write(bd, off, a, len) == 0);
				CHECK(hammer_bdev_write(mirror, off, a, len) == 0);
				nw++;
				bw += len;
			} else if (k < 9) {
				CHECK(hammer_bdev_read(bd, off, a, len) == 0);
				CHECK(hammer_bdev_read(mirror, off, b, len) == 0);
				CHECK(memcmp(a, b, len) == 0);
				nr++;
				br += len;
			} else {
				CHECK(hammer_bdev_flush(bd) == 0);
				nf++;
			}
		}
		for (uint64_t off = 0; off < DEV; off += sizeof(a)) {
			CHECK(hammer_bdev_read(bd, off, a, sizeof(a)) == 0);
			CHECK(memcmp(a, hammer_bdev_ram_data(mirror) + off, sizeof(a)) == 0);
		}
		/* the base is never written */
		CHECK(memcmp(before, hammer_bdev_ram_data(base), DEV) == 0);
		struct sim_counters c;
		sim_counters(s, &c);
		CHECK(c.writes == nw && c.bytes_written == bw && c.log_bytes == bw);
		CHECK(c.reads == nr + DEV / sizeof(a) && c.bytes_read == br + DEV);
		CHECK(c.flushes == nf && c.misuse == 0 && c.faults == 0);
		CHECK(sim_log_writes(s) == nw);
		hammer_bdev_close(bd);
		hammer_bdev_close(mirror);
	}
}

static struct sim *ram_sim(uint64_t size)
{
	struct hammer_bdev *base;
	assert_int_equal(hammer_bdev_ram_open(size, "b", &base), 0);
	struct sim *s;
	assert_int_equal(sim_open(base, SIM_OWN_BASE, NULL, &s), 0);
	return s;
}

static void epochs(void **state)
{
	(void)state;
	struct sim *s = ram_sim(DEV);
	struct hammer_bdev *bd = sim_bdev(s);
	uint8_t buf[4096] = { 1 };
	assert_int_equal(sim_epochs(s), 1);
	assert_int_equal(sim_epoch_writes(s, 0), 0);
	/* a flush with nothing written opens no epoch */
	assert_int_equal(hammer_bdev_flush(bd), 0);
	assert_int_equal(sim_epochs(s), 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(hammer_bdev_write(bd, 4096u * i, buf, 4096), 0);
	assert_int_equal(sim_epoch_writes(s, 0), 3);
	assert_int_equal(hammer_bdev_flush(bd), 0);
	assert_int_equal(hammer_bdev_flush(bd), 0);
	assert_int_equal(sim_epochs(s), 2);
	assert_int_equal(hammer_bdev_write(bd, 0, buf, 512), 0);
	assert_int_equal(sim_epoch_writes(s, 0), 3);
	assert_int_equal(sim_epoch_writes(s, 1), 1);
	assert_int_equal(sim_epoch_writes(s, 2), 0);	/* out of range */
	assert_int_equal(sim_log_writes(s), 4);
	struct sim_counters c;
	sim_counters(s, &c);
	assert_int_equal(c.flushes, 3);
	sim_close(s);
}

static void misuse(void **state)
{
	(void)state;
	struct sim *s = ram_sim(DEV);
	struct hammer_bdev *bd = sim_bdev(s);
	const struct hammer_bdev_ops *ops = bd->ops;
	static uint8_t buf[8192];
	struct { uint64_t off; size_t len; int nullbuf; } bad[] = {
		{ 1, 512, 0 }, { 0, 511, 0 }, { 0, 0, 0 }, { 256, 1024, 0 },
		{ DEV, 512, 0 }, { DEV - 512, 1024, 0 }, { UINT64_MAX - 511, 512, 0 },
		{ 0, 512, 1 },
	};
	uint64_t n = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		void *p = bad[i].nullbuf ? NULL : buf;
		assert_int_equal(ops->read(bd, bad[i].off, p, bad[i].len), -EINVAL);
		assert_int_equal(ops->write(bd, bad[i].off, p, bad[i].len), -EINVAL);
		n += 2;
	}
	struct sim_counters c;
	sim_counters(s, &c);
	assert_int_equal(c.misuse, n);
	assert_int_equal(c.writes, 0);
	assert_int_equal(sim_log_writes(s), 0);
	/* the last sector is fine */
	assert_int_equal(ops->write(bd, DEV - 512, buf, 512), 0);
	assert_int_equal(ops->read(bd, DEV - 512, buf, 512), 0);
	/* a state checks its calls too, and counts them on the sim */
	struct sim_state st;
	assert_int_equal(sim_state_from_id(s, "e0:sa", &st), 0);
	struct hammer_bdev *v;
	assert_int_equal(sim_state_open(s, &st, &v), 0);
	assert_int_equal(v->ops->read(v, 3, buf, 512), -EINVAL);
	assert_int_equal(v->ops->write(v, 0, buf, 100), -EINVAL);
	sim_counters(s, &c);
	assert_int_equal(c.misuse, n + 2);
	hammer_bdev_close(v);
	sim_close(s);
	/* opening: base sector size and size are checked */
	struct hammer_bdev *tiny;
	assert_int_equal(hammer_bdev_ram_open(2048, "tiny", &tiny), 0);
	struct sim *t;
	assert_int_equal(sim_open(tiny, 0, NULL, &t), -EINVAL);
	struct sim_knobs k;
	sim_knobs_default(&k);
	k.max_subset_bits = 25;
	tiny->size = 8192;	/* pretend; never read */
	assert_int_equal(sim_open(tiny, 0, &k, &t), -EINVAL);
	tiny->size = 2048;
	hammer_bdev_close(tiny);
}

static void size_rounds_to_blocks(void **state)
{
	(void)state;
	struct sim *s = ram_sim(4096 * 3 + 1536);
	assert_int_equal(sim_bdev(s)->size, 4096 * 3);
	assert_int_equal(sim_bdev(s)->sector_size, 512);
	assert_ptr_equal(sim_of(sim_bdev(s)), s);
	assert_null(sim_of(NULL));
	sim_close(s);
}

static void read_fault(void **state)
{
	(void)state;
	for (uint64_t after = 0; after < 5; after++) {
		for (int sticky = 0; sticky < 2; sticky++) {
			CASE("test_sim read_fault after=%llu sticky=%d", (unsigned long long)after, sticky);
			struct sim *s = ram_sim(DEV);
			struct hammer_bdev *bd = sim_bdev(s);
			uint8_t buf[512];
			memset(buf, 0x5a, sizeof(buf));
			CHECK(sim_fault_set(s, SIM_FAULT_READ, after, sticky) == 0);
			for (uint64_t i = 0; i < after; i++)
				CHECK(hammer_bdev_read(bd, 0, buf, 512) == 0);
			CHECK(hammer_bdev_read(bd, 0, buf, 512) == -EIO);
			CHECK(hammer_bdev_read(bd, 0, buf, 512) == (sticky ? -EIO : 0));
			/* writes are not affected */
			CHECK(hammer_bdev_write(bd, 0, buf, 512) == 0);
			struct sim_counters c;
			sim_counters(s, &c);
			CHECK(c.faults == (sticky ? 2u : 1u));
			sim_fault_clear(s, SIM_FAULT_READ);
			CHECK(hammer_bdev_read(bd, 0, buf, 512) == 0);
			sim_close(s);
		}
	}
}

static void write_and_flush_faults(void **state)
{
	(void)state;
	struct sim *s = ram_sim(DEV);
	struct hammer_bdev *bd = sim_bdev(s);
	uint8_t one[512], two[512], got[512];
	memset(one, 1, sizeof(one));
	memset(two, 2, sizeof(two));
	assert_int_equal(sim_fault_set(s, SIM_FAULT_WRITE, 2, 0), 0);
	assert_int_equal(hammer_bdev_write(bd, 0, one, 512), 0);
	assert_int_equal(hammer_bdev_write(bd, 512, one, 512), 0);
	assert_int_equal(hammer_bdev_write(bd, 0, two, 512), -EIO);
	/* the failed write changed nothing and is not in the log */
	assert_int_equal(hammer_bdev_read(bd, 0, got, 512), 0);
	assert_memory_equal(got, one, 512);
	assert_int_equal(sim_log_writes(s), 2);
	assert_int_equal(hammer_bdev_write(bd, 1024, two, 512), 0);
	/* failed flush: -EIO and the epoch stays open */
	assert_int_equal(sim_fault_set(s, SIM_FAULT_FLUSH, 1, 0), 0);
	assert_int_equal(hammer_bdev_flush(bd), 0);
	assert_int_equal(sim_epochs(s), 2);
	assert_int_equal(hammer_bdev_write(bd, 1536, two, 512), 0);
	assert_int_equal(hammer_bdev_flush(bd), -EIO);
	assert_int_equal(sim_epochs(s), 2);
	assert_int_equal(hammer_bdev_write(bd, 2048, two, 512), 0);
	assert_int_equal(sim_epoch_writes(s, 1), 2);
	assert_int_equal(hammer_bdev_flush(bd), 0);
	assert_int_equal(sim_epochs(s), 3);
	struct sim_counters c;
	sim_counters(s, &c);
	assert_int_equal(c.faults, 2);
	assert_int_equal(c.flushes, 2);
	/* unknown kinds */
	assert_int_equal(sim_fault_set(s, SIM_FAULT_KINDS, 0, 0), -EINVAL);
	sim_close(s);
}

static void power_cut(void **state)
{
	(void)state;
	for (uint64_t n = 0; n < 6; n++) {
		CASE("test_sim power_cut after=%llu", (unsigned long long)n);
		struct sim *s = ram_sim(DEV);
		struct hammer_bdev *bd = sim_bdev(s);
		CHECK(sim_fault_set(s, SIM_FAULT_POWER, n, 0) == 0);
		uint8_t buf[1024], got[1024];
		for (int i = 0; i < 8; i++) {
			memset(buf, 0x10 + i, sizeof(buf));
			CHECK(hammer_bdev_write(bd, 1024u * (uint64_t)i, buf, sizeof(buf)) == 0);
			CHECK(sim_power_is_cut(s) == (i >= (int)n));
			if (i == 3)
				CHECK(hammer_bdev_flush(bd) == 0);
		}
		CHECK(sim_log_writes(s) == n);
		/* the flush after the cut made nothing durable */
		CHECK(sim_epochs(s) == (n > 3 ? 2u : 1u));
		for (int i = 0; i < 8; i++) {
			CHECK(hammer_bdev_read(bd, 1024u * (uint64_t)i, got, sizeof(got)) == 0);
			memset(buf, (uint64_t)i < n ? 0x10 + i : 0, sizeof(buf));
			CHECK(memcmp(got, buf, sizeof(buf)) == 0);
		}
		struct sim_counters c;
		sim_counters(s, &c);
		CHECK(c.writes_dropped == 8 - n);
		CHECK(c.writes == n);
		sim_fault_clear(s, SIM_FAULT_POWER);
		CHECK(!sim_power_is_cut(s));
		sim_close(s);
	}
}

static void settle(void **state)
{
	(void)state;
	struct hammer_bdev *base, *mirror;
	twin(99, &base, &mirror);
	struct sim *s;
	assert_int_equal(sim_open(base, SIM_OWN_BASE, NULL, &s), 0);
	struct hammer_bdev *bd = sim_bdev(s);
	static uint8_t buf[16384], got[16384];
	uint64_t x = 5;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 40; i++) {
			uint64_t off = (t_rand(&x) % (DEV / 512 - 32)) * 512;
			size_t len = 512u * (1 + (size_t)(t_rand(&x) % 32));
			t_fill(&x, buf, len);
			assert_int_equal(hammer_bdev_write(bd, off, buf, len), 0);
			assert_int_equal(hammer_bdev_write(mirror, off, buf, len), 0);
			if (i % 9 == 0)
				assert_int_equal(hammer_bdev_flush(bd), 0);
		}
		uint32_t before = sim_epochs(s);
		struct sim_state st;
		assert_int_equal(sim_state_from_id(s, "e0:sa", &st), round == 0 ? 0 : -EINVAL);
		struct hammer_bdev *v;
		char id[32];
		snprintf(id, sizeof(id), "e%u:sa", before - 1);
		assert_int_equal(sim_state_from_id(s, id, &st), 0);
		assert_int_equal(sim_state_open(s, &st, &v), 0);
		assert_int_equal(sim_settle(s), -EBUSY);
		hammer_bdev_close(v);
		assert_int_equal(sim_settle(s), 0);
		assert_int_equal(sim_log_writes(s), 0);
		/* numbering goes on after the settled epochs */
		assert_int_equal(sim_epochs(s), before + 1);
		assert_int_equal(sim_enum_count(s), 1);
		for (uint64_t off = 0; off < DEV; off += sizeof(got)) {
			assert_int_equal(hammer_bdev_read(bd, off, got, sizeof(got)), 0);
			assert_memory_equal(got, hammer_bdev_ram_data(mirror) + off, sizeof(got));
		}
		/* a state of the settled device shows the settled data */
		snprintf(id, sizeof(id), "e%u:sb", before);
		assert_int_equal(sim_state_from_id(s, id, &st), 0);
		assert_int_equal(sim_state_open(s, &st, &v), 0);
		assert_int_equal(hammer_bdev_read(v, 0, got, sizeof(got)), 0);
		assert_memory_equal(got, hammer_bdev_ram_data(mirror), sizeof(got));
		hammer_bdev_close(v);
	}
	hammer_bdev_close(bd);
	hammer_bdev_close(mirror);
}

static void state_outlives_sim(void **state)
{
	(void)state;
	struct sim *s = ram_sim(DEV);
	uint8_t buf[4096], got[4096];
	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(hammer_bdev_write(sim_bdev(s), 8192, buf, sizeof(buf)), 0);
	struct sim_state st;
	assert_int_equal(sim_state_from_id(s, "e0:sb1", &st), 0);
	struct hammer_bdev *v;
	assert_int_equal(sim_state_open(s, &st, &v), 0);
	sim_close(s);
	assert_int_equal(hammer_bdev_read(v, 8192, got, sizeof(got)), 0);
	assert_memory_equal(got, buf, sizeof(got));
	hammer_bdev_close(v);
}

/* A second crash during recovery: a sim stacked on a crash state. */
static void crash_during_recovery(void **state)
{
	(void)state;
	struct sim *s = ram_sim(DEV);
	uint8_t a[1024], b[1024], got[1024];
	memset(a, 0xa1, sizeof(a));
	memset(b, 0xb2, sizeof(b));
	assert_int_equal(hammer_bdev_write(sim_bdev(s), 0, a, sizeof(a)), 0);
	struct sim_state st;
	assert_int_equal(sim_state_from_id(s, "e0:sa", &st), 0);
	struct hammer_bdev *v;
	assert_int_equal(sim_state_open(s, &st, &v), 0);
	struct sim *r;
	assert_int_equal(sim_open(v, SIM_OWN_BASE, NULL, &r), 0);
	/* "recovery" rewrites sector 1 and then 0, with a flush between */
	assert_int_equal(hammer_bdev_write(sim_bdev(r), 512, b, 512), 0);
	assert_int_equal(hammer_bdev_flush(sim_bdev(r)), 0);
	assert_int_equal(hammer_bdev_write(sim_bdev(r), 0, b, 512), 0);
	assert_int_equal(sim_enum_count(r), 1 + 2 + 2);	/* e0: {} ; e1: {}, {w} ; garbage x2 */
	struct sim_state st2;
	assert_int_equal(sim_state_from_id(r, "e1:sb0", &st2), 0);
	struct hammer_bdev *v2;
	assert_int_equal(sim_state_open(r, &st2, &v2), 0);
	assert_int_equal(hammer_bdev_read(v2, 0, got, sizeof(got)), 0);
	assert_memory_equal(got, a, 512);
	assert_memory_equal(got + 512, b, 512);
	hammer_bdev_close(v2);
	sim_close(r);
	sim_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(overlay_matches_ram),
		cmocka_unit_test(epochs),
		cmocka_unit_test(misuse),
		cmocka_unit_test(size_rounds_to_blocks),
		cmocka_unit_test(read_fault),
		cmocka_unit_test(write_and_flush_faults),
		cmocka_unit_test(power_cut),
		cmocka_unit_test(settle),
		cmocka_unit_test(state_outlives_sim),
		cmocka_unit_test(crash_during_recovery),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
