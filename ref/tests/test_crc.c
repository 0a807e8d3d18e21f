/* test_crc.c - CRC check values and the per-structure CRC rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ref/crc.h"

static void check_values(void **state)
{
	(void)state;
	assert_int_equal(hammer_crc32("123456789", 9), 0xCBF43926u);
	assert_int_equal(hammer_crc32c("123456789", 9), 0xE3069283u);
	assert_int_equal(hammer_crc32("", 0), 0);
	assert_int_equal(hammer_crc32c("", 0), 0);
	/* 32 zero bytes: RFC 3720 B.4 test vector for CRC-32C */
	uint8_t z[32] = { 0 };
	assert_int_equal(hammer_crc32c(z, 32), 0x8A9136AAu);
	uint8_t ff[32];
	memset(ff, 0xff, sizeof(ff));
	assert_int_equal(hammer_crc32c(ff, 32), 0x62A8AB43u);
}

static void continuation(void **state)
{
	(void)state;
	const char *s = "The quick brown fox jumps over the lazy dog, twice over.";
	size_t n = strlen(s);
	for (size_t cut = 0; cut <= n; cut++) {
		uint32_t a = hammer_crc32_update(hammer_crc32(s, cut), s + cut, n - cut);
		uint32_t b = hammer_crc32c_update(hammer_crc32c(s, cut), s + cut, n - cut);
		assert_int_equal(a, hammer_crc32(s, n));
		assert_int_equal(b, hammer_crc32c(s, n));
	}
}

static void version_rules(void **state)
{
	(void)state;
	const char *s = "123456789";
	assert_int_equal(hammer_datacrc(7, s, 9), 0xE3069283u);
	assert_int_equal(hammer_datacrc(6, s, 9), 0xCBF43926u);
	/* v7 accepts both, v6 only the legacy CRC */
	assert_int_equal(hammer_crc_check(7, s, 9, 0xE3069283u), HAMMER_CRC_ISCSI);
	assert_int_equal(hammer_crc_check(7, s, 9, 0xCBF43926u), HAMMER_CRC_LEGACY);
	assert_int_equal(hammer_crc_check(6, s, 9, 0xCBF43926u), HAMMER_CRC_LEGACY);
	assert_int_equal(hammer_crc_check(6, s, 9, 0xE3069283u), HAMMER_CRC_BAD);
	assert_int_equal(hammer_crc_check(7, s, 9, 0), HAMMER_CRC_BAD);
	uint32_t two = hammer_crc32c("1234", 4) ^ hammer_crc32c("56789", 5);
	assert_int_equal(hammer_datacrc2(7, "1234", 4, "56789", 5), two);
	assert_int_equal(hammer_crc_check2(7, "1234", 4, "56789", 5, two), HAMMER_CRC_ISCSI);
	assert_int_equal(hammer_crc_check2(7, "1234", 4, "56789", 5, two ^ 1), HAMMER_CRC_BAD);
}

/*
 * The crc32-instruction path against the tables: every length up to a few
 * three-stream blocks, at every alignment, from several start values.
 */
static void hw_matches_tables(void **state)
{
	(void)state;
	if (!hammer_crc32c_hw())
		print_message("no crc32 instruction: both paths are the tables\n");
	static uint8_t buf[3 * 3072 + 64];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	const uint32_t starts[] = { 0, 0xFFFFFFFFu, 0xE3069283u };
	for (size_t s = 0; s < 3; s++)
		for (size_t off = 0; off < 8; off++)
			for (size_t n = 0; n + off + 64 <= sizeof(buf); n += (n < 80 ? 1 : 37))
				assert_int_equal(hammer_crc32c_update(starts[s], buf + off, n),
						 hammer_crc32c_portable(starts[s], buf + off, n));
	/* a 64 KB block, the size of every large-data record */
	static uint8_t big[65536];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 9));
	assert_int_equal(hammer_crc32c(big, sizeof(big)),
			 hammer_crc32c_portable(0, big, sizeof(big)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_values),
		cmocka_unit_test(continuation),
		cmocka_unit_test(version_rules),
		cmocka_unit_test(hw_matches_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
