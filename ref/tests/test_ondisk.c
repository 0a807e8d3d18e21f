/* test_ondisk.c - offset codec, zone translation, byte order, UUIDs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ref/ondisk.h"
#include "ref/volume.h"

static void offsets(void **state)
{
	(void)state;
	hammer_off_t o = hammer_encode(HAMMER_ZONE_BTREE_INDEX, 3, 0x1234567);
	assert_int_equal(hammer_zone_of(o), 8);
	assert_int_equal(hammer_vol_of(o), 3);
	assert_int_equal(hammer_short_of(o), 0x1234567);
	assert_true(o == 0x8030000001234567ULL);
	/* every zone: encode/decode round trip, nibble translation to zone 2 */
	for (unsigned z = 0; z < HAMMER_MAX_ZONES; z++) {
		for (unsigned v = 0; v < 256; v += 51) {
			uint64_t s = 0x000ABCDEF0123450ULL;
			hammer_off_t a = hammer_encode(z, v, s);
			assert_int_equal(hammer_zone_of(a), z);
			assert_int_equal(hammer_vol_of(a), v);
			assert_true(hammer_short_of(a) == s);
			hammer_off_t z2 = hammer_xlate_zone(a, HAMMER_ZONE_RAW_BUFFER_INDEX);
			assert_int_equal(hammer_zone_of(z2), 2);
			assert_int_equal(hammer_vol_of(z2), v);
			assert_true(hammer_short_of(z2) == s);
		}
		int direct = z == 2 || z == 4 || z >= 8;
		assert_int_equal(hammer_zone_direct_xlated(z), direct);
	}
	/* short offset masks off volume bits */
	assert_true(hammer_encode(2, 0, 0xFFFFFFFFFFFFFFFFULL) == 0x200FFFFFFFFFFFFFULL);
}

static void freemap_indexes(void **state)
{
	(void)state;
	/* volume N's first layer-1 entry is N*1024 */
	assert_int_equal(hammer_layer1_index(hammer_encode(2, 1, 0)), 1024);
	assert_int_equal(hammer_layer1_index(hammer_encode(2, 2, 0)), 2048);
	assert_int_equal(hammer_layer1_index(hammer_encode(2, 0, 1ULL << 42)), 1);
	assert_int_equal(hammer_layer2_index(hammer_encode(2, 0, 0x1800000)), 3);
	assert_int_equal(hammer_layer2_index(hammer_encode(2, 0, (1ULL << 42) - 1)), 524287);
	assert_int_equal(hammer_layer2_offset(hammer_encode(2, 0, 0x2000000)), 64);
	assert_int_equal(HAMMER_BLOCKMAP_LAYER2_SPAN, 1ULL << 42);
}

static void byte_order(void **state)
{
	(void)state;
	struct hammer_blockmap_layer2 l2 = { .zone = 8, .append_off = 4096,
					     .bytes_free = 8384512 };
	hammer_layer2_swap(&l2);
	const uint8_t *p = (const uint8_t *)&l2;
	/* the reference image's layer2[3]: 0800 0000 0010 0000 00f0 7f00 */
	static const uint8_t want[12] = { 8, 0, 0, 0, 0, 0x10, 0, 0, 0, 0xf0, 0x7f, 0 };
	assert_memory_equal(p, want, 12);
	hammer_layer2_swap(&l2);
	assert_int_equal(l2.append_off, 4096);
}

static void uuids(void **state)
{
	(void)state;
	char s[37];
	hammer_uuid_format(&hammer_fstype_uuid, s);
	assert_string_equal(s, "61dc63ac-6e38-11dc-8513-01301bb8a9f5");
	hammer_uuid_t u;
	assert_int_equal(hammer_uuid_parse("a381fb52-b407-dc4f-b4be-5c83274d03cb", &u), 0);
	static const uint8_t raw[16] = { 0x52, 0xfb, 0x81, 0xa3, 0x07, 0xb4, 0x4f, 0xdc,
					 0xb4, 0xbe, 0x5c, 0x83, 0x27, 0x4d, 0x03, 0xcb };
	assert_memory_equal(u.b, raw, 16);
	hammer_uuid_format(&u, s);
	assert_string_equal(s, "a381fb52-b407-dc4f-b4be-5c83274d03cb");
	assert_int_equal(hammer_uuid_parse("a381fb52-b407-dc4f-b4be-5c83274d03c", &u), -EINVAL);
	assert_int_equal(hammer_uuid_parse("a381fb52xb407-dc4f-b4be-5c83274d03cb", &u), -EINVAL);
	assert_int_equal(hammer_uuid_parse("g381fb52-b407-dc4f-b4be-5c83274d03cb", &u), -EINVAL);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(hammer_zone_name(8), "btree");
	assert_string_equal(hammer_zone_name(11), "small_data");
	assert_string_equal(hammer_zone_name(5), "");
	assert_string_equal(hammer_zone_name(99), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(offsets),
		cmocka_unit_test(freemap_indexes),
		cmocka_unit_test(byte_order),
		cmocka_unit_test(uuids),
		cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
