/*
 * test_namekey.c - directory hashes and the "@@" history syntax.
 *
 * Expected keys were computed independently with Python's zlib.crc32 from
 * the algorithm's definition (see ref/namekey.h), not by this code.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ref/asof.h"
#include "ref/namekey.h"
#include "ref/ondisk.h"

struct vec {
	const char *name;
	uint64_t alg0, alg1;
};

static void namekeys(void **state)
{
	(void)state;
	static const struct vec v[] = {
		{ "a", 0x68b7be4300000000ULL, 0x68b7be4356f40000ULL },
		{ "hello.txt", 0x1260cebb00000000ULL, 0x524805cbdcdb0000ULL },
		{ "hello", 0x3610a68600000000ULL, 0x3610a68690960000ULL },
		{ "foo-bar_baz~.c", 0x5a34014300000000ULL, 0x0250d5d25b770000ULL },
		{ "...", 0x1a43b61b00000000ULL, 0x00000001ac580000ULL },
		{ "", 0x100000000ULL, 0x100000000ULL },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t it;
		int64_t k0 = hammer_namekey(HAMMER_INODE_CAP_DIRHASH_ALG0, v[i].name,
					    strlen(v[i].name), &it);
		assert_int_equal(it, HAMMER_NAMEKEY_ITER_ALG0);
		int64_t k1 = hammer_namekey(HAMMER_INODE_CAP_DIRHASH_ALG1 |
					    HAMMER_INODE_CAP_DIR_LOCAL_INO,
					    v[i].name, strlen(v[i].name), &it);
		assert_int_equal(it, HAMMER_NAMEKEY_ITER_ALG1);
		if ((uint64_t)k0 != v[i].alg0 || (uint64_t)k1 != v[i].alg1)
			fail_msg("name '%s': got %016llx/%016llx", v[i].name,
				 (unsigned long long)k0, (unsigned long long)k1);
	}
	char x[255];
	memset(x, 'x', sizeof(x));
	uint32_t it;
	/* keys are always positive and at least 2^32 */
	for (size_t n = 0; n <= sizeof(x); n++) {
		int64_t k = hammer_namekey(1, x, n, &it);
		assert_true(k >= (int64_t)0x100000000LL);
		assert_int_equal(k & 0xFFFF, 0);
	}
	assert_int_equal(hammer_namekey(2, "a", 1, &it), -EINVAL);
	assert_int_equal(hammer_namekey(3, "a", 1, &it), -EINVAL);
}

static void asof_parse(void **state)
{
	(void)state;
	struct hammer_asof_spec s;
	const char *c = "file@@0x00000001000000ab";
	assert_int_equal(hammer_asof_parse(c, strlen(c), &s), 1);
	assert_int_equal(s.name_len, 4);
	assert_true(s.tid == 0x1000000abULL);
	assert_int_equal(s.has_pfs, 0);

	c = "@@0x00000001000000AB:00005";
	assert_int_equal(hammer_asof_parse(c, strlen(c), &s), 1);
	assert_int_equal(s.name_len, 0);
	assert_true(s.tid == 0x1000000abULL);
	assert_int_equal(s.has_pfs, 1);
	assert_int_equal(s.pfs_id, 5);

	c = "d@@-1";
	assert_int_equal(hammer_asof_parse(c, strlen(c), &s), 1);
	assert_true(s.tid == HAMMER_MAX_TID);
	c = "@@-1:65535";
	assert_int_equal(hammer_asof_parse(c, strlen(c), &s), 1);
	assert_int_equal(s.pfs_id, 65535);

	/* ordinary names */
	static const char *plain[] = {
		"file", "a@b", "x@@", "x@@0x1", "x@@0x000000010000000g",
		"x@@0x00000001000000001", "x@@-2", "x@@-1junk", "x@@-1:1234",
		"x@@-1:123456", "x@@-1:12a45", "x@@0x0000000100000000:",
	};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (hammer_asof_parse(plain[i], strlen(plain[i]), &s) != 0)
			fail_msg("'%s' parsed as history", plain[i]);
	c = "x@@-1:65536";
	assert_int_equal(hammer_asof_parse(c, strlen(c), &s), -EINVAL);
	/* the last @@ wins */
	c = "a@@b@@0x0000000100000000";
	assert_int_equal(hammer_asof_parse(c, strlen(c), &s), 1);
	assert_int_equal(s.name_len, 4);
	/* not NUL-terminated input: length bounds the parse */
	c = "f@@-1XYZ";
	assert_int_equal(hammer_asof_parse(c, 5, &s), 1);

	char buf[40];
	hammer_asof_format(buf, sizeof(buf), 0x1000000abULL, -1);
	assert_string_equal(buf, "@@0x00000001000000ab");
	hammer_asof_format(buf, sizeof(buf), 0x1000000abULL, 7);
	assert_string_equal(buf, "@@0x00000001000000ab:00007");
	assert_int_equal(hammer_asof_parse(buf, strlen(buf), &s), 1);
	assert_int_equal(s.pfs_id, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(namekeys),
		cmocka_unit_test(asof_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
