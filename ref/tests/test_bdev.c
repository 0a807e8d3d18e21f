/* test_bdev.c - block-device backends: range checks, refusals, locking. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ref/bdev.h"

static char path[256];

static int mk(void **state)
{
	(void)state;
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(path, sizeof(path), "%s/bdev-XXXXXX", tmp);
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, 1 << 20) != 0)
		return -1;
	close(fd);
	return 0;
}

static int rm(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void ram_checks(void **state)
{
	(void)state;
	struct hammer_bdev *bd;
	assert_int_equal(hammer_bdev_ram_open(0, "r", &bd), -EINVAL);
	assert_int_equal(hammer_bdev_ram_open(8192 + 100, "r", &bd), 0);
	assert_int_equal(bd->size, 8192);	/* rounded down to sectors */
	uint8_t buf[1024] = { 1 };
	assert_int_equal(hammer_bdev_write(bd, 512, buf, 512), 0);
	assert_int_equal(hammer_bdev_write(bd, 100, buf, 512), -EINVAL);	/* misaligned */
	assert_int_equal(hammer_bdev_write(bd, 0, buf, 100), -EINVAL);
	assert_int_equal(hammer_bdev_write(bd, 8192 - 512, buf, 1024), -EINVAL);	/* past end */
	assert_int_equal(hammer_bdev_read(bd, UINT64_MAX - 511, buf, 512), -EINVAL);	/* overflow */
	assert_int_equal(hammer_bdev_read(bd, 0, buf, 0), -EINVAL);
	assert_int_equal(hammer_bdev_read(bd, 512, buf, 512), 0);
	assert_int_equal(buf[0], 1);
	bd->readonly = 1;
	assert_int_equal(hammer_bdev_write(bd, 512, buf, 512), -EROFS);
	assert_int_equal(hammer_bdev_flush(bd), 0);
	hammer_bdev_close(bd);
}

static void file_refusals(void **state)
{
	(void)state;
	struct hammer_bdev *bd = NULL;
	const char *why = NULL;
	assert_int_equal(hammer_bdev_file_open("/nonexistent/hammer.img", 0, &bd, &why),
			 -ENOENT);
	assert_null(bd);
	assert_non_null(why);
	assert_string_equal(why, "no such file or device");
	assert_int_equal(hammer_bdev_file_open("/dev/null", 0, &bd, &why), -ENODEV);
	assert_string_equal(why, "not a regular file or block device");
	assert_int_equal(hammer_bdev_file_open("/tmp", HAMMER_BDEV_RDONLY, &bd, &why),
			 -ENODEV);
}

static void file_locking(void **state)
{
	(void)state;
	struct hammer_bdev *w1, *w2 = NULL, *r1 = NULL, *r2 = NULL;
	const char *why = NULL;
	assert_int_equal(hammer_bdev_file_open(path, 0, &w1, &why), 0);
	assert_int_equal(w1->size, 1 << 20);
	/* a second writer, or a reader, is refused while a writer holds it */
	assert_int_equal(hammer_bdev_file_open(path, 0, &w2, &why), -EBUSY);
	assert_string_equal(why, "the device is already in use by another program");
	assert_int_equal(hammer_bdev_file_open(path, HAMMER_BDEV_RDONLY, &r1, &why), -EBUSY);
	assert_string_equal(why, "the device is open for writing by another program");
	uint8_t buf[512];
	memset(buf, 0xAB, sizeof(buf));
	assert_int_equal(hammer_bdev_write(w1, 4096, buf, 512), 0);
	assert_int_equal(hammer_bdev_flush(w1), 0);
	hammer_bdev_close(w1);
	/* readers share */
	assert_int_equal(hammer_bdev_file_open(path, HAMMER_BDEV_RDONLY, &r1, &why), 0);
	assert_int_equal(hammer_bdev_file_open(path, HAMMER_BDEV_RDONLY, &r2, &why), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(hammer_bdev_read(r2, 4096, buf, 512), 0);
	assert_int_equal(buf[0], 0xAB);
	assert_int_equal(hammer_bdev_write(r1, 0, buf, 512), -EROFS);
	assert_int_equal(hammer_bdev_file_open(path, 0, &w2, &why), -EBUSY);
	hammer_bdev_close(r1);
	hammer_bdev_close(r2);
	assert_int_equal(hammer_bdev_file_open(path, 0, &w2, &why), 0);
	hammer_bdev_close(w2);
}

/*
 * 1 when [off, off + len) of the file is in the page cache: mincore() on a
 * mapping looks without reading (a RWF_NOWAIT read would start read-ahead
 * itself).
 */
static int cached(int fd, off_t off, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);
	assert_true(p != MAP_FAILED);
	unsigned char vec[16];
	size_t pages = len / 4096;
	assert_true(pages <= sizeof(vec) && len % 4096 == 0);
	assert_int_equal(mincore(p, len, vec), 0);
	munmap(p, len);
	for (size_t i = 0; i < pages; i++)
		if (!(vec[i] & 1))
			return 0;
	return 1;
}

/*
 * The file backend's prefetch: ranges reach the page cache (when the
 * file system can evict them first), a flood of hints is harmless, hints
 * past the end are clipped, reads see the right bytes, and close stops
 * the reader thread (ASan/valgrind check the rest).
 */
static void file_prefetch(void **state)
{
	(void)state;
	struct hammer_bdev *bd;
	assert_int_equal(hammer_bdev_file_open(path, 0, &bd, NULL), 0);
	static uint8_t buf[65536];
	for (unsigned i = 0; i < 16; i++) {
		memset(buf, (int)(0x30 + i), sizeof(buf));
		assert_int_equal(hammer_bdev_write(bd, (uint64_t)i << 16, buf, 65536), 0);
	}
	assert_int_equal(hammer_bdev_flush(bd), 0);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (cached(fd, 5 << 16, 65536)) {
		print_message("note: the page cache kept the file; prefetch "
			      "reaching it not checked here\n");
	} else {
		hammer_bdev_prefetch(bd, 5 << 16, 3 << 16);
		/* a liveness bound, not a speed goal: 10 s */
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		int i;
		for (i = 0; i < 1000 && !cached(fd, 7 << 16, 65536); i++)
			nanosleep(&ts, NULL);
		if (i == 1000)
			fail_msg("prefetched range never reached the page cache");
	}
	close(fd);
	for (unsigned i = 0; i < 500; i++)
		hammer_bdev_prefetch(bd, ((uint64_t)i * 4096) % (1 << 20), 8192);
	hammer_bdev_prefetch(bd, (1 << 20) - 4096, 1 << 20);	/* clipped */
	hammer_bdev_prefetch(bd, 1 << 20, 4096);		/* ignored */
	for (unsigned i = 0; i < 16; i++) {
		assert_int_equal(hammer_bdev_read(bd, (uint64_t)i << 16, buf, 65536), 0);
		assert_int_equal(buf[0], 0x30 + i);
		assert_int_equal(buf[65535], 0x30 + i);
	}
	hammer_bdev_close(bd);
	/* a device closed right after its first hint */
	assert_int_equal(hammer_bdev_file_open(path, 0, &bd, NULL), 0);
	hammer_bdev_prefetch(bd, 0, 1 << 20);
	hammer_bdev_close(bd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ram_checks),
		cmocka_unit_test(file_refusals),
		cmocka_unit_test_setup_teardown(file_locking, mk, rm),
		cmocka_unit_test_setup_teardown(file_prefetch, mk, rm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
