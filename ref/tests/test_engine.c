/*
 * test_engine.c - the engine API (ref/hammer.h) against a model.
 *
 * Images are 1 GB sparse files (newfs with an 8 MB UNDO FIFO, so the FIFO
 * wraps and flushes are forced).  The model run does random POSIX
 * operations (create, mkdir, symlink, mknod, write, truncate, unlink,
 * rmdir, rename, link, read, readdir, getattr) against an in-memory model,
 * with flushes, syncs and unmount/remount in between; after every remount
 * the whole tree is compared with the model and the checkers must be clean.
 * As-of: after some syncs the model is snapshotted with the synctid TID,
 * and at the end every snapshot must read back exactly through
 * `name@@0x<tid>` lookups.
 *
 * Seeded: a failure prints "seed S op N"; HAMMER_TEST_SEED picks the seed,
 * HAMMER_TEST_SCALE multiplies the operation count.  Built twice: as
 * test_engine (4,500 model operations) and test_engine_slow (112,500, and
 * a 500,000-entry directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "ref/fscheck.h"
#include "ref/hammer.h"
#include "ref/newfs.h"
#include "ref/volume.h"

static char img[256];
static uint64_t fake_now = 1795306471000000ULL;

static uint64_t test_clock(void *ctx)
{
	(void)ctx;
	return fake_now += 1000;
}

static void make_image(uint64_t size)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(img, sizeof(img), "%s/engine-XXXXXX", tmp);
	int fd = mkstemp(img);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
	struct hammer_bdev *bd;
	assert_int_equal(hammer_bdev_file_open(img, 0, &bd, NULL), 0);
	struct hammer_newfs_opts o;
	hammer_newfs_opts_init(&o);
	o.label = "ENGINE";
	o.force = 1;
	o.undo_size = 8 << 20;
	assert_int_equal(hammer_uuid_parse("a381fb52-b407-dc4f-b4be-5c83274d03cb",
					   &o.fsid), 0);
	o.ctime_us = 1795306471606999ULL;
	struct hammer_newfs_result res;
	struct hammer_err err = { 0 };
	if (hammer_newfs_format(&bd, 1, &o, &res, &err))
		fail_msg("newfs: %s", err.msg);
	hammer_bdev_close(bd);
}

static struct hammer_mount *do_mount(int ro, hammer_tid_t asof)
{
	struct hammer_mount_opts o;
	hammer_mount_opts_init(&o);
	o.readonly = ro;
	o.asof = asof;
	o.cache_bytes = 8 << 20;
	o.clock = test_clock;
	struct hammer_mount *m;
	struct hammer_err err = { 0 };
	int rc = hammer_mount(img, &o, &m, &err);
	if (rc)
		fail_msg("mount %s: %d %s", img, rc, err.msg);
	return m;
}

/* Run the full checker on the image (unmounted). */
static void check_image(const char *what)
{
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_volset_open(img, HAMMER_VOLSET_RDONLY, &vs, &err), 0);
	assert_int_equal(hammer_bufcache_open(vs, 8 << 20, &bc), 0);
	struct hammer_fscheck_report r;
	struct hammer_fscheck_opts fo;
	hammer_fscheck_opts_init(&fo);
	int rc = hammer_fscheck(vs, bc, &fo, &r, &err);
	if (rc)
		fail_msg("%s: fscheck failed: %d %s", what, rc, err.msg);
	if (r.errors) {
		for (size_t i = 0; i < r.count && i < 20; i++)
			print_message("%s: %s %s\n", what,
				      hammer_fscheck_code_name(r.findings[i].code),
				      r.findings[i].msg);
		size_t nerr = (size_t)r.errors;
		hammer_fscheck_report_free(&r);
		fail_msg("%s: checker found %zu errors", what, nerr);
	}
	hammer_fscheck_report_free(&r);
	hammer_bufcache_close(bc);
	hammer_volset_close(vs);
}

/* ------------------------------------------------------------ basics */

#define L(s) s, strlen(s)

static void t_basic(void **state)
{
	(void)state;
	make_image(1ULL << 30);
	struct hammer_mount *m = do_mount(0, 0);
	struct hammer_attr a, b;
	char buf[100];

	assert_int_equal(hammer_getattr(m, HAMMER_ROOT_INO, &a), 0);
	assert_true(S_ISDIR(a.mode));
	assert_int_equal(hammer_lookup(m, 1, L("nope"), &a), -ENOENT);
	assert_int_equal(hammer_mknod(m, 1, L("f"), S_IFREG | 0644, 0, 10, 20, &a), 0);
	hammer_ino_t f = a.ino;
	assert_int_equal(a.uid, 10);
	assert_int_equal(a.gid, 20);
	assert_int_equal(a.nlink, 1);
	assert_int_equal(hammer_mknod(m, 1, L("f"), S_IFREG | 0644, 0, 0, 0, &a), -EEXIST);
	assert_int_equal(hammer_mkdir(m, 1, L("d"), 0755, 0, 0, &a), 0);
	hammer_ino_t d = a.ino;
	assert_int_equal(hammer_lookup(m, 1, L("f"), &b), 0);
	assert_int_equal(b.ino, f);
	assert_int_equal(hammer_write(m, f, 0, "hello", 5), 5);
	assert_int_equal(hammer_read(m, f, 0, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(hammer_read(m, d, 0, buf, 1), -EISDIR);
	assert_int_equal(hammer_write(m, d, 0, buf, 1), -EISDIR);
	/* name rules */
	char longname[300];
	memset(longname, 'x', sizeof(longname));
	assert_int_equal(hammer_mknod(m, 1, longname, 256, S_IFREG, 0, 0, 0, &a), -ENAMETOOLONG);
	assert_int_equal(hammer_mknod(m, 1, longname, 255, S_IFREG, 0, 0, 0, &a), 0);
	assert_int_equal(hammer_lookup(m, 1, longname, 255, &a), 0);
	assert_int_equal(hammer_mknod(m, 1, L("a/b"), S_IFREG, 0, 0, 0, &a), -EINVAL);
	assert_int_equal(hammer_mknod(m, f, L("x"), S_IFREG, 0, 0, 0, &a), -ENOTDIR);
	/* rmdir / unlink rules */
	assert_int_equal(hammer_mknod(m, d, L("in"), S_IFREG, 0, 0, 0, &a), 0);
	assert_int_equal(hammer_rmdir(m, 1, L("d")), -ENOTEMPTY);
	assert_int_equal(hammer_unlink(m, 1, L("d")), -EISDIR);
	assert_int_equal(hammer_rmdir(m, 1, L("f")), -ENOTDIR);
	/* rename a directory into itself */
	assert_int_equal(hammer_mkdir(m, d, L("sub"), 0755, 0, 0, &a), 0);
	hammer_ino_t sub = a.ino;
	assert_int_equal(hammer_rename(m, 1, L("d"), sub, L("x"), 0), -EINVAL);
	assert_int_equal(hammer_rename(m, 1, L("d"), d, L("x"), 0), -EINVAL);
	/* rename over a file, noreplace, exchange */
	assert_int_equal(hammer_mknod(m, 1, L("g"), S_IFREG, 0, 0, 0, &a), 0);
	hammer_ino_t g = a.ino;
	assert_int_equal(hammer_rename(m, 1, L("f"), 1, L("g"), HAMMER_RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(hammer_rename(m, 1, L("f"), 1, L("g"), HAMMER_RENAME_EXCHANGE), 0);
	assert_int_equal(hammer_lookup(m, 1, L("g"), &a), 0);
	assert_int_equal(a.ino, f);
	assert_int_equal(hammer_rename(m, 1, L("g"), 1, L("f"), 0), 0);
	assert_int_equal(hammer_lookup(m, 1, L("g"), &a), -ENOENT);
	assert_int_equal(hammer_getattr(m, g, &a), -ENOENT);	/* replaced: gone */
	assert_int_equal(hammer_rename(m, 1, L("f"), 1, L("d"), 0), -EISDIR);
	assert_int_equal(hammer_rename(m, 1, L("d"), 1, L("f"), 0), -ENOTDIR);
	/* links */
	assert_int_equal(hammer_link(m, f, d, L("f2"), &a), 0);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(hammer_link(m, d, 1, L("d2"), &a), -EPERM);
	assert_int_equal(hammer_unlink(m, 1, L("f")), 0);
	assert_int_equal(hammer_getattr(m, f, &a), 0);
	assert_int_equal(a.nlink, 1);
	/* symlinks: inline and FIX record */
	assert_int_equal(hammer_symlink(m, 1, L("s1"), L("short"), 0, 0, &a), 0);
	assert_int_equal(hammer_readlink(m, a.ino, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "short", 5);
	const char *lt = "a-much-longer-target-than-twenty-four-bytes/xyz";
	assert_int_equal(hammer_symlink(m, 1, L("s2"), L(lt), 0, 0, &a), 0);
	hammer_ino_t s2 = a.ino;
	assert_int_equal(a.size, strlen(lt));
	/* devices */
	assert_int_equal(hammer_mknod(m, 1, L("cdev"), S_IFCHR | 0600, makedev(4, 5), 0, 0, &a), 0);
	assert_int_equal(major(a.rdev), 4);
	assert_int_equal(minor(a.rdev), 5);
	assert_int_equal(hammer_mknod(m, 1, L("fifo"), S_IFIFO | 0600, 0, 0, 0, &a), 0);
	assert_true(S_ISFIFO(a.mode));
	/* the checker on the live mount, changes not yet flushed */
	struct hammer_fscheck_report r;
	struct hammer_err cerr = { 0 };
	assert_int_equal(hammer_check(m, 0, &r, &cerr), 0);
	for (size_t i = 0; i < r.count && i < 10; i++)
		print_message("live check: %s %s\n",
			      hammer_fscheck_code_name(r.findings[i].code),
			      r.findings[i].msg);
	assert_int_equal(r.errors, 0);
	hammer_fscheck_report_free(&r);
	assert_int_equal(hammer_unmount(m), 0);
	check_image("basic");

	m = do_mount(0, 0);
	assert_int_equal(hammer_readlink(m, s2, buf, sizeof(buf)), (int)strlen(lt));
	assert_memory_equal(buf, lt, strlen(lt));
	assert_int_equal(hammer_lookup(m, d, L("f2"), &a), 0);
	assert_int_equal(hammer_read(m, a.ino, 0, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(hammer_unmount(m), 0);
	/* read-only mount refuses changes */
	m = do_mount(1, 0);
	assert_int_equal(hammer_mknod(m, 1, L("ro"), S_IFREG, 0, 0, 0, &a), -EROFS);
	assert_int_equal(hammer_unmount(m), 0);
	unlink(img);
}

/* ------------------------------------------------------------ info */

static void fill(uint8_t *p, size_t n, uint64_t seed);

/* FIFO bytes between first_offset and next_offset of the header on disk. */
static uint64_t disk_undo_used(uint64_t *size)
{
	struct hammer_volume_ondisk h;
	int fd = open(img, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	close(fd);
	hammer_volume_swap(&h);
	const struct hammer_blockmap *z3 = &h.vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	uint64_t end = z3->alloc_offset & HAMMER_OFF_LONG_MASK;
	uint64_t first = z3->first_offset & HAMMER_OFF_LONG_MASK;
	uint64_t next = z3->next_offset & HAMMER_OFF_LONG_MASK;
	if (size)
		*size = end;
	return first <= next ? next - first : end - first + next;
}

/*
 * Right after a cycle the append point is its header's next_offset moved
 * on to the next 512-byte boundary (each cycle starts its records on a
 * fresh sector, DESIGN section 8): the skipped bytes are used too.
 */
static void assert_used_after_cycle(uint64_t used)
{
	uint64_t disk = disk_undo_used(NULL);
	if (used < disk || used >= disk + 512)
		fail_msg("undo_used %llu, header range %llu",
			 (unsigned long long)used, (unsigned long long)disk);
}

static struct hammer_mount_info minfo(struct hammer_mount *m)
{
	struct hammer_mount_info mi;
	assert_int_equal(hammer_mount_info(m, &mi), 0);
	return mi;
}

/*
 * undo_used counts as DragonFly's hammer_undo_used(): from the header's
 * first_offset to the in-memory append point.  Changes grow it before any
 * flush; a cycle's records stay counted until the next cycle's header.
 */
static void t_info_undo(void **state)
{
	(void)state;
	make_image(1ULL << 30);
	struct hammer_mount *m = do_mount(0, 0);
	struct hammer_attr a;
	uint64_t dsize;
	struct hammer_mount_info mi0 = minfo(m);
	assert_int_equal(mi0.undo_size, 8 << 20);
	assert_int_equal(mi0.undo_used, disk_undo_used(&dsize));
	assert_int_equal(dsize, mi0.undo_size);

	/* changes, no flush: the FIFO grows, the header has not moved */
	uint8_t *data = malloc(300000);
	assert_non_null(data);
	fill(data, 300000, 7);
	for (int i = 0; i < 20; i++) {
		char name[16];
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(hammer_mknod(m, 1, name, strlen(name), S_IFREG | 0644,
					      0, 0, 0, &a), 0);
		assert_int_equal(hammer_write(m, a.ino, 0, data, 15000), 15000);
	}
	struct hammer_mount_info mi1 = minfo(m);
	assert_int_equal(mi1.flush_cycles, mi0.flush_cycles);
	assert_true(mi1.undo_used > mi0.undo_used + 4096);
	assert_int_equal(disk_undo_used(NULL), mi0.undo_used);

	/* one cycle: its own records are still needed by recovery */
	assert_int_equal(hammer_flush(m), 0);
	struct hammer_mount_info mi2 = minfo(m);
	assert_int_equal(mi2.flush_cycles, mi1.flush_cycles + 1);
	assert_true(mi2.undo_used >= mi1.undo_used);
	assert_used_after_cycle(mi2.undo_used);

	/* the next cycle's header releases them: only its own remain */
	assert_int_equal(hammer_flush(m), 0);
	struct hammer_mount_info mi3 = minfo(m);
	assert_true(mi3.undo_used < mi2.undo_used - 4096);
	assert_used_after_cycle(mi3.undo_used);

	/* a change after the flush counts at once */
	assert_int_equal(hammer_write(m, a.ino, 0, data, 300000), 300000);
	struct hammer_mount_info mi4 = minfo(m);
	assert_true(mi4.undo_used > mi3.undo_used);
	assert_int_equal(hammer_unmount(m), 0);

	/*
	 * Read-only: the header's range as recovery left it in memory.  After
	 * a clean unmount recovery has nothing to run, so nothing is in use
	 * (the disk still shows the last cycle's few records).
	 */
	uint64_t disk = disk_undo_used(NULL);
	assert_true(disk > 0);
	m = do_mount(1, 0);
	struct hammer_mount_info mr = minfo(m);
	assert_int_equal(mr.undo_size, 8 << 20);
	assert_int_equal(mr.undo_used, 0);
	assert_int_equal(hammer_unmount(m), 0);
	free(data);
	unlink(img);
}

/* PFS #0 as newfs wrote it (format digest 3, step 8), through the engine. */
static void t_pfs_get(void **state)
{
	(void)state;
	make_image(1ULL << 30);
	for (int ro = 0; ro < 2; ro++) {
		struct hammer_mount *m = do_mount(ro, 0);
		struct hammer_pseudofs_data p;
		struct hammer_err err = { 0 };
		memset(&p, 0xA5, sizeof(p));
		assert_int_equal(hammer_pfs_get(m, 0, &p, &err), 0);
		hammer_uuid_t fsid;
		assert_int_equal(hammer_uuid_parse("a381fb52-b407-dc4f-b4be-5c83274d03cb",
						   &fsid), 0);
		assert_int_equal(p.sync_low_tid, 1);
		assert_int_equal(p.sync_beg_tid, 0);
		assert_int_equal(p.sync_end_tid, 0);
		assert_memory_equal(&p.shared_uuid, &fsid, sizeof(fsid));
		assert_memory_equal(&p.unique_uuid, &fsid, sizeof(fsid));
		assert_int_equal(p.mirror_flags, 0);	/* master */
		assert_string_equal(p.label, "ENGINE");
		assert_int_equal(p.prune_min, 0);
		uint8_t zero[64] = { 0 };
		assert_memory_equal(p.snapshots, zero, sizeof(p.snapshots));
		/* no other PFS exists */
		assert_int_equal(hammer_pfs_get(m, 1, &p, &err), -ENOENT);
		assert_int_equal(hammer_pfs_get(m, 0xFFFF, &p, &err), -ENOENT);
		assert_int_equal(hammer_pfs_get(m, 0x10000, &p, &err), -EINVAL);
		assert_int_equal(err.code, 0);
		assert_int_equal(hammer_unmount(m), 0);
	}
	unlink(img);
}

/* ------------------------------------------------------------ files */

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (uint8_t)(seed >> 56);
	}
}

static void t_files(void **state)
{
	(void)state;
	make_image(1ULL << 30);
	struct hammer_mount *m = do_mount(0, 0);
	struct hammer_attr a;
	size_t n = 3 << 20;
	uint8_t *data = malloc(n), *back = malloc(n);
	fill(data, n, 7);
	assert_int_equal(hammer_mknod(m, 1, L("big"), S_IFREG | 0644, 0, 0, 0, &a), 0);
	hammer_ino_t f = a.ino;
	/* unaligned pieces crossing 16 KB, 1 MB and 64 KB boundaries */
	size_t off = 0;
	uint64_t s = 1;
	while (off < n) {
		s = s * 6364136223846793005ULL + 1;
		size_t len = 1 + (size_t)((s >> 33) % 100000);
		if (len > n - off)
			len = n - off;
		assert_int_equal(hammer_write(m, f, off, data + off, len), (ssize_t)len);
		off += len;
	}
	assert_int_equal(hammer_read(m, f, 0, back, n), (ssize_t)n);
	assert_memory_equal(back, data, n);
	assert_int_equal(hammer_unmount(m), 0);
	check_image("files 1");
	m = do_mount(0, 0);
	memset(back, 0, n);
	assert_int_equal(hammer_read(m, f, 0, back, n), (ssize_t)n);
	assert_memory_equal(back, data, n);
	/* truncate down inside a block, then up: the tail reads zeros */
	a.size = 1000000 + 123;
	assert_int_equal(hammer_setattr(m, f, &a, HAMMER_SET_SIZE), 0);
	a.size = 2000000;
	assert_int_equal(hammer_setattr(m, f, &a, HAMMER_SET_SIZE), 0);
	assert_int_equal(hammer_read(m, f, 0, back, n), 2000000);
	assert_memory_equal(back, data, 1000123);
	for (size_t i = 1000123; i < 2000000; i++)
		if (back[i])
			fail_msg("byte %zu not zero after truncate down/up", i);
	/* the same in a block of this cycle (changed in place, not replaced) */
	assert_int_equal(hammer_write(m, f, 1 << 20, data, 65536), 65536);
	a.size = (1 << 20) + 100;
	assert_int_equal(hammer_setattr(m, f, &a, HAMMER_SET_SIZE), 0);
	a.size = (1 << 20) + 65536;
	assert_int_equal(hammer_setattr(m, f, &a, HAMMER_SET_SIZE), 0);
	assert_int_equal(hammer_read(m, f, 1 << 20, back, 65536), 65536);
	assert_memory_equal(back, data, 100);
	for (size_t i = 100; i < 65536; i++)
		if (back[i])
			fail_msg("byte %zu not zero after truncate down/up in the cycle", i);
	a.size = 2000000;
	assert_int_equal(hammer_setattr(m, f, &a, HAMMER_SET_SIZE), 0);
	/* small file: one record, grows to blocks, shrinks back */
	assert_int_equal(hammer_mknod(m, 1, L("small"), S_IFREG | 0644, 0, 0, 0, &a), 0);
	hammer_ino_t sm = a.ino;
	assert_int_equal(hammer_write(m, sm, 0, data, 100), 100);
	assert_int_equal(hammer_write(m, sm, 20000, data, 100), 100);
	assert_int_equal(hammer_read(m, sm, 0, back, 30000), 20100);
	assert_memory_equal(back, data, 100);
	assert_memory_equal(back + 20000, data, 100);
	for (size_t i = 100; i < 20000; i++)
		assert_int_equal(back[i], 0);
	a.size = 50;
	assert_int_equal(hammer_setattr(m, sm, &a, HAMMER_SET_SIZE), 0);
	a.size = 9000;
	assert_int_equal(hammer_setattr(m, sm, &a, HAMMER_SET_SIZE), 0);
	assert_int_equal(hammer_read(m, sm, 0, back, 9000), 9000);
	assert_memory_equal(back, data, 50);
	for (size_t i = 50; i < 9000; i++)
		assert_int_equal(back[i], 0);
	/* sparse beyond 4 GB */
	assert_int_equal(hammer_mknod(m, 1, L("sparse"), S_IFREG | 0644, 0, 0, 0, &a), 0);
	hammer_ino_t sp = a.ino;
	uint64_t far = (5ULL << 30) + 12345;
	assert_int_equal(hammer_write(m, sp, far, data, 70000), 70000);
	assert_int_equal(hammer_write(m, sp, 7, data, 10), 10);
	assert_int_equal(hammer_unmount(m), 0);
	check_image("files 2");
	m = do_mount(0, 0);
	assert_int_equal(hammer_getattr(m, sp, &a), 0);
	assert_int_equal(a.size, far + 70000);
	assert_int_equal(hammer_read(m, sp, far - 100, back, 200000), 70100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(back[i], 0);
	assert_memory_equal(back + 100, data, 70000);
	assert_int_equal(hammer_read(m, sp, 3ULL << 30, back, 4096), 4096);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(hammer_write(m, sp, 0x7FFFFFFFFFFFFFFFULL, data, 1), -EFBIG);
	assert_int_equal(hammer_unmount(m), 0);
	free(data);
	free(back);
	unlink(img);
}

/* ------------------------------------------------------------ model */

#define MAXOBJ	4096
#define MAXENT	64

struct ment {
	char name[32];
	int obj;
};

struct mobj {
	int used;
	hammer_ino_t ino;
	int type;		/* 'f' file, 'd' dir, 'l' symlink, 'p' fifo */
	uint64_t nlink;
	uint8_t *data;
	size_t size;
	char target[200];
	int parent;
	struct ment ents[MAXENT];
	int nents;
	uint32_t mode;
};

struct model {
	struct mobj o[MAXOBJ];
};

static struct model *model_new(void)
{
	struct model *md = calloc(1, sizeof(*md));
	md->o[0].used = 1;
	md->o[0].ino = HAMMER_ROOT_INO;
	md->o[0].type = 'd';
	md->o[0].nlink = 1;
	md->o[0].parent = 0;
	return md;
}

static void model_free(struct model *md)
{
	for (int i = 0; i < MAXOBJ; i++)
		free(md->o[i].data);
	free(md);
}

static struct model *model_copy(const struct model *src)
{
	struct model *md = malloc(sizeof(*md));
	memcpy(md, src, sizeof(*md));
	for (int i = 0; i < MAXOBJ; i++)
		if (src->o[i].data) {
			md->o[i].data = malloc(src->o[i].size ? src->o[i].size : 1);
			memcpy(md->o[i].data, src->o[i].data, src->o[i].size);
		}
	return md;
}

static int ment_find(const struct mobj *d, const char *name)
{
	for (int i = 0; i < d->nents; i++)
		if (!strcmp(d->ents[i].name, name))
			return i;
	return -1;
}

static void ment_add(struct mobj *d, const char *name, int obj)
{
	snprintf(d->ents[d->nents].name, sizeof(d->ents[0].name), "%s", name);
	d->ents[d->nents++].obj = obj;
}

static void ment_del(struct mobj *d, int i)
{
	d->ents[i] = d->ents[--d->nents];
}

static int obj_alloc(struct model *md)
{
	for (int i = 1; i < MAXOBJ; i++)
		if (!md->o[i].used) {
			memset(&md->o[i], 0, sizeof(md->o[i]));
			md->o[i].used = 1;
			return i;
		}
	return -1;
}

static void obj_drop(struct model *md, int i)
{
	struct mobj *o = &md->o[i];
	if (--o->nlink == 0 || o->type == 'd') {
		free(o->data);
		memset(o, 0, sizeof(*o));
	}
}

static uint64_t rs;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static const char *names[] = { "a", "b", "c", "d", "e", "f", "g", "h",
			       "long-name.with_segments~1", "x.y" };
#define NNAMES (sizeof(names) / sizeof(names[0]))

static int pick_dir(struct model *md)
{
	int c[MAXOBJ], n = 0;
	for (int i = 0; i < MAXOBJ; i++)
		if (md->o[i].used && md->o[i].type == 'd')
			c[n++] = i;
	return c[rnd() % n];
}

/* Is `a` (a directory) `b` or an ancestor of `b`? */
static int m_ancestor(struct model *md, int a, int b)
{
	for (;;) {
		if (a == b)
			return 1;
		if (b == 0)
			return 0;
		b = md->o[b].parent;
	}
}

struct rd {
	char names[MAXENT + 2][256];
	hammer_ino_t inos[MAXENT + 2];
	int n;
};

static int rd_fn(void *ctx, const char *name, size_t len, hammer_ino_t ino,
		 uint32_t dtype, uint64_t next)
{
	(void)dtype;
	(void)next;
	struct rd *r = ctx;
	if (r->n >= MAXENT + 2)
		return 1;
	memcpy(r->names[r->n], name, len);
	r->names[r->n][len] = 0;
	r->inos[r->n] = ino;
	r->n++;
	return 0;
}

/* Compare the whole tree under model object `di` (mount handle dh). */
static void verify_dir(struct hammer_mount *m, struct model *md, int di,
		       hammer_ino_t dh, const char *ctx)
{
	struct mobj *d = &md->o[di];
	struct rd r = { .n = 0 };
	int rc = hammer_readdir(m, dh, 0, rd_fn, &r);
	if (rc)
		fail_msg("%s: readdir of obj %d: %d", ctx, di, rc);
	if (r.n != d->nents + 2)
		fail_msg("%s: dir %d lists %d entries, model %d", ctx, di, r.n - 2,
			 d->nents);
	for (int i = 2; i < r.n; i++) {
		int k = ment_find(d, r.names[i]);
		if (k < 0)
			fail_msg("%s: dir %d lists unknown '%s'", ctx, di, r.names[i]);
		struct mobj *o = &md->o[d->ents[k].obj];
		struct hammer_attr a;
		rc = hammer_lookup(m, dh, r.names[i], strlen(r.names[i]), &a);
		if (rc)
			fail_msg("%s: lookup '%s': %d", ctx, r.names[i], rc);
		if (a.ino != r.inos[i])
			fail_msg("%s: '%s' readdir ino %" PRIx64 " lookup %" PRIx64,
				 ctx, r.names[i], r.inos[i], a.ino);
		if (a.nlink != o->nlink)
			fail_msg("%s: '%s' nlink %" PRIu64 " model %" PRIu64, ctx,
				 r.names[i], a.nlink, o->nlink);
		if ((a.mode & 07777) != (o->mode & 07777))
			fail_msg("%s: '%s' mode %o model %o", ctx, r.names[i],
				 a.mode & 07777, o->mode & 07777);
		switch (o->type) {
		case 'd':
			assert_true(S_ISDIR(a.mode));
			verify_dir(m, md, d->ents[k].obj, a.ino, ctx);
			break;
		case 'l': {
			char t[300];
			assert_true(S_ISLNK(a.mode));
			int n = hammer_readlink(m, a.ino, t, sizeof(t));
			if (n != (int)strlen(o->target) || memcmp(t, o->target, (size_t)n))
				fail_msg("%s: symlink '%s' wrong", ctx, r.names[i]);
			break;
		}
		case 'p':
			assert_true(S_ISFIFO(a.mode));
			break;
		case 'f': {
			assert_true(S_ISREG(a.mode));
			if (a.size != o->size)
				fail_msg("%s: '%s' size %" PRIu64 " model %zu", ctx,
					 r.names[i], a.size, o->size);
			uint8_t *b = malloc(o->size + 1);
			ssize_t n = hammer_read(m, a.ino, 0, b, o->size + 1);
			if (n != (ssize_t)o->size || memcmp(b, o->data, o->size))
				fail_msg("%s: '%s' contents differ (read %zd)", ctx,
					 r.names[i], n);
			free(b);
			break;
		}
		}
	}
}

static int live_objects(const struct model *md)
{
	int n = 0;
	for (int i = 0; i < MAXOBJ; i++)
		n += md->o[i].used;
	return n;
}

static hammer_tid_t snap_tid[8];
static struct model *snaps[8];
static int nsnaps;

static void model_run(uint64_t seed, int ops)
{
	make_image(1ULL << 30);
	struct model *md = model_new();
	struct hammer_mount *m = do_mount(0, 0);
	char ctx[160];
	rs = seed * 2654435761ULL + 1;
	nsnaps = 0;
	uint8_t *buf = malloc(1 << 20);
	int remounts = 0;

	for (int op = 0; op < ops; op++) {
		snprintf(ctx, sizeof(ctx), "seed %" PRIu64 " op %d", seed, op);
		int di = pick_dir(md);
		struct mobj *d = &md->o[di];
		const char *nm = names[rnd() % NNAMES];
		int k = ment_find(d, nm);
		struct hammer_attr a;
		int rc;
		unsigned what = (unsigned)(rnd() % 100);
		if (what < 14) {		/* create a file */
			rc = hammer_mknod(m, d->ino, nm, strlen(nm), S_IFREG | 0640, 0,
					  1, 2, &a);
			if (k >= 0 || d->nents == MAXENT) {
				if (k >= 0 && rc != -EEXIST)
					fail_msg("%s: create over existing: %d", ctx, rc);
				if (!rc)
					fail_msg("%s: model full", ctx);
				continue;
			}
			if (rc)
				fail_msg("%s: create: %d", ctx, rc);
			int i = obj_alloc(md);
			md->o[i] = (struct mobj){ .used = 1, .ino = a.ino, .type = 'f',
						  .nlink = 1, .parent = di, .mode = 0640 };
			md->o[i].data = malloc(1);
			ment_add(d, nm, i);
		} else if (what < 20) {	/* mkdir */
			rc = hammer_mkdir(m, d->ino, nm, strlen(nm), 0750, 0, 0, &a);
			if (k >= 0) {
				assert_int_equal(rc, -EEXIST);
				continue;
			}
			if (d->nents == MAXENT)
				continue;
			if (rc)
				fail_msg("%s: mkdir: %d", ctx, rc);
			int i = obj_alloc(md);
			md->o[i] = (struct mobj){ .used = 1, .ino = a.ino, .type = 'd',
						  .nlink = 1, .parent = di, .mode = 0750 };
			ment_add(d, nm, i);
		} else if (what < 23) {	/* symlink */
			char t[200];
			size_t tl = 1 + rnd() % 60;
			for (size_t j = 0; j < tl; j++)
				t[j] = (char)('a' + rnd() % 26);
			t[tl] = 0;
			rc = hammer_symlink(m, d->ino, nm, strlen(nm), t, tl, 0, 0, &a);
			if (k >= 0) {
				assert_int_equal(rc, -EEXIST);
				continue;
			}
			if (d->nents == MAXENT)
				continue;
			if (rc)
				fail_msg("%s: symlink: %d", ctx, rc);
			int i = obj_alloc(md);
			md->o[i] = (struct mobj){ .used = 1, .ino = a.ino, .type = 'l',
						  .nlink = 1, .parent = di, .mode = 0777 };
			memcpy(md->o[i].target, t, tl + 1);
			ment_add(d, nm, i);
		} else if (what < 25) {	/* fifo */
			rc = hammer_mknod(m, d->ino, nm, strlen(nm), S_IFIFO | 0600, 0, 0,
					  0, &a);
			if (k >= 0) {
				assert_int_equal(rc, -EEXIST);
				continue;
			}
			if (d->nents == MAXENT)
				continue;
			if (rc)
				fail_msg("%s: mkfifo: %d", ctx, rc);
			int i = obj_alloc(md);
			md->o[i] = (struct mobj){ .used = 1, .ino = a.ino, .type = 'p',
						  .nlink = 1, .parent = di, .mode = 0600 };
			ment_add(d, nm, i);
		} else if (what < 50) {	/* write */
			if (k < 0 || md->o[d->ents[k].obj].type != 'f')
				continue;
			struct mobj *o = &md->o[d->ents[k].obj];
			size_t off, len;
			unsigned shape = (unsigned)(rnd() % 4);
			if (shape == 0)
				off = o->size;			/* append */
			else if (shape == 1)
				off = rnd() % (o->size + 1);	/* overwrite */
			else
				off = rnd() % 1300000;		/* anywhere */
			len = 1 + rnd() % (shape == 3 ? 200000 : 20000);
			fill(buf, len, rnd());
			ssize_t n = hammer_write(m, o->ino, off, buf, len);
			if (n != (ssize_t)len)
				fail_msg("%s: write %zu@%zu: %zd", ctx, len, off, n);
			if (off + len > o->size) {
				o->data = realloc(o->data, off + len);
				memset(o->data + o->size, 0, off + len - o->size);
				o->size = off + len;
			}
			memcpy(o->data + off, buf, len);
		} else if (what < 56) {	/* truncate */
			if (k < 0 || md->o[d->ents[k].obj].type != 'f')
				continue;
			struct mobj *o = &md->o[d->ents[k].obj];
			size_t ns = rnd() % 2 ? rnd() % (o->size + 1) : rnd() % 1200000;
			a.size = ns;
			rc = hammer_setattr(m, o->ino, &a, HAMMER_SET_SIZE);
			if (rc)
				fail_msg("%s: truncate %zu: %d", ctx, ns, rc);
			o->data = realloc(o->data, ns ? ns : 1);
			if (ns > o->size)
				memset(o->data + o->size, 0, ns - o->size);
			o->size = ns;
		} else if (what < 64) {	/* unlink */
			rc = hammer_unlink(m, d->ino, nm, strlen(nm));
			if (k < 0) {
				assert_int_equal(rc, -ENOENT);
				continue;
			}
			int i = d->ents[k].obj;
			if (md->o[i].type == 'd') {
				assert_int_equal(rc, -EISDIR);
				continue;
			}
			if (rc)
				fail_msg("%s: unlink: %d", ctx, rc);
			ment_del(d, k);
			obj_drop(md, i);
		} else if (what < 68) {	/* rmdir */
			rc = hammer_rmdir(m, d->ino, nm, strlen(nm));
			if (k < 0) {
				assert_int_equal(rc, -ENOENT);
				continue;
			}
			int i = d->ents[k].obj;
			if (md->o[i].type != 'd') {
				assert_int_equal(rc, -ENOTDIR);
				continue;
			}
			if (md->o[i].nents) {
				assert_int_equal(rc, -ENOTEMPTY);
				continue;
			}
			if (rc)
				fail_msg("%s: rmdir: %d", ctx, rc);
			ment_del(d, k);
			obj_drop(md, i);
		} else if (what < 78) {	/* rename */
			int ti = pick_dir(md);
			struct mobj *t = &md->o[ti];
			const char *tn = names[rnd() % NNAMES];
			int tk = ment_find(t, tn);
			rc = hammer_rename(m, d->ino, nm, strlen(nm), t->ino, tn,
					   strlen(tn), 0);
			if (k < 0) {
				assert_int_equal(rc, -ENOENT);
				continue;
			}
			int si = d->ents[k].obj;
			int expect = 0;
			if (md->o[si].type == 'd' && m_ancestor(md, si, ti))
				expect = -EINVAL;
			else if (tk >= 0 && t->ents[tk].obj == si)
				expect = 0;
			else if (tk >= 0) {
				int xi = t->ents[tk].obj;
				if (md->o[si].type == 'd' && md->o[xi].type != 'd')
					expect = -ENOTDIR;
				else if (md->o[si].type != 'd' && md->o[xi].type == 'd')
					expect = -EISDIR;
				else if (md->o[xi].type == 'd' && md->o[xi].nents)
					expect = -ENOTEMPTY;
			} else if (t->nents == MAXENT && ti != di) {
				/* the model cannot hold it; undo if it worked */
				if (!rc)
					assert_int_equal(hammer_rename(m, t->ino, tn, strlen(tn),
								       d->ino, nm, strlen(nm), 0), 0);
				continue;
			}
			if (rc != expect)
				fail_msg("%s: rename: %d, expected %d", ctx, rc, expect);
			if (rc || (tk >= 0 && t->ents[tk].obj == si))
				continue;
			if (tk >= 0) {
				int xi = t->ents[tk].obj;
				ment_del(t, tk);
				obj_drop(md, xi);
			}
			k = ment_find(d, nm);
			ment_del(d, k);
			ment_add(t, tn, si);
			if (md->o[si].type == 'd')
				md->o[si].parent = ti;
		} else if (what < 82) {	/* link */
			if (k < 0 || md->o[d->ents[k].obj].type == 'd')
				continue;
			int ti = pick_dir(md);
			struct mobj *t = &md->o[ti];
			const char *tn = names[rnd() % NNAMES];
			int si = d->ents[k].obj;
			rc = hammer_link(m, md->o[si].ino, t->ino, tn, strlen(tn), &a);
			if (ment_find(t, tn) >= 0) {
				assert_int_equal(rc, -EEXIST);
				continue;
			}
			if (t->nents == MAXENT) {
				if (!rc)
					assert_int_equal(hammer_unlink(m, t->ino, tn, strlen(tn)), 0);
				continue;
			}
			if (rc)
				fail_msg("%s: link: %d", ctx, rc);
			md->o[si].nlink++;
			ment_add(t, tn, si);
		} else if (what < 86) {	/* chmod */
			if (k < 0)
				continue;
			struct mobj *o = &md->o[d->ents[k].obj];
			a.mode = (uint32_t)(rnd() % 07777);
			rc = hammer_setattr(m, o->ino, &a, HAMMER_SET_MODE);
			if (rc)
				fail_msg("%s: chmod: %d", ctx, rc);
			o->mode = a.mode;
		} else if (what < 92) {	/* read a range */
			if (k < 0 || md->o[d->ents[k].obj].type != 'f')
				continue;
			struct mobj *o = &md->o[d->ents[k].obj];
			size_t off = rnd() % (o->size + 10);
			size_t len = rnd() % 70000;
			ssize_t n = hammer_read(m, o->ino, off, buf, len);
			size_t exp = off >= o->size ? 0 : (o->size - off < len ? o->size - off : len);
			if (n != (ssize_t)exp || memcmp(buf, o->data + (off < o->size ? off : 0), exp))
				fail_msg("%s: read %zu@%zu: %zd (expected %zu)", ctx, len,
					 off, n, exp);
		} else if (what < 95) {	/* flush */
			assert_int_equal(hammer_flush(m), 0);
		} else if (what < 97) {	/* sync, maybe a snapshot */
			hammer_tid_t t;
			assert_int_equal(hammer_synctid(m, &t), 0);
			if (nsnaps < 8) {
				snap_tid[nsnaps] = t;
				snaps[nsnaps++] = model_copy(md);
			}
		} else {		/* remount and verify everything */
			remounts++;
			assert_int_equal(hammer_unmount(m), 0);
			check_image(ctx);
			m = do_mount(0, 0);
			verify_dir(m, md, 0, HAMMER_ROOT_INO, ctx);
		}
	}
	print_message("seed %" PRIu64 ": %d ops, %d remounts, %d snapshots, %d live objects\n",
		      seed, ops, remounts, nsnaps, live_objects(md));
	snprintf(ctx, sizeof(ctx), "seed %" PRIu64 " end", seed);
	assert_int_equal(hammer_unmount(m), 0);
	check_image(ctx);
	m = do_mount(0, 0);
	verify_dir(m, md, 0, HAMMER_ROOT_INO, ctx);
	/* every snapshot, through name@@0x<tid> and through an as-of mount */
	for (int i = 0; i < nsnaps; i++) {
		char nm[64];
		struct hammer_attr a;
		snprintf(nm, sizeof(nm), "@@0x%016llx", (unsigned long long)snap_tid[i]);
		snprintf(ctx, sizeof(ctx), "seed %" PRIu64 " snapshot %d (%s)", seed, i, nm);
		assert_int_equal(hammer_lookup(m, HAMMER_ROOT_INO, nm, strlen(nm), &a), 0);
		assert_true(a.ino & HAMMER_INO_ASOF_BIT);
		verify_dir(m, snaps[i], 0, a.ino, ctx);
	}
	assert_int_equal(hammer_unmount(m), 0);
	for (int i = 0; i < nsnaps; i++) {
		snprintf(ctx, sizeof(ctx), "seed %" PRIu64 " as-of mount %d", seed, i);
		m = do_mount(1, snap_tid[i]);
		verify_dir(m, snaps[i], 0, HAMMER_ROOT_INO, ctx);
		assert_int_equal(hammer_unmount(m), 0);
		model_free(snaps[i]);
	}
	free(buf);
	model_free(md);
	unlink(img);
}

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

static int slow_mode;	/* built as test_engine_slow: 25x (112,500 model ops) */

static int scale(void)
{
	const char *s = getenv("HAMMER_TEST_SCALE");
	return (s ? atoi(s) : 1) * (slow_mode ? 25 : 1);
}

static void t_model(void **state)
{
	(void)state;
	const char *s = getenv("HAMMER_TEST_SEED");
	if (s) {
		model_run(strtoull(s, NULL, 0), 3000 * scale());
		return;
	}
	/* valgrind (about 50x slower): one seed, fewer operations */
	if (RUNNING_ON_VALGRIND) {
		model_run(1, 300);
		return;
	}
	for (uint64_t seed = 1; seed <= 3; seed++)
		model_run(seed, 1500 * scale());
}

/* ------------------------------------------------------------ big dir */

struct page {
	int in_page, total, more;
	uint64_t next;
};

static int page_fn(void *ctx, const char *name, size_t len, hammer_ino_t ino,
		   uint32_t dtype, uint64_t next)
{
	(void)name;
	(void)len;
	(void)ino;
	(void)dtype;
	struct page *p = ctx;
	if (p->in_page == 1000) {
		p->more = 1;
		return 1;
	}
	p->in_page++;
	p->total++;
	p->next = next;
	return 0;
}

static void t_bigdir(void **state)
{
	(void)state;
	make_image(1ULL << 30);
	struct hammer_mount *m = do_mount(0, 0);
	struct hammer_attr a;
	int n = RUNNING_ON_VALGRIND ? 2000 : 20000 * scale();
	char nm[32];
	for (int i = 0; i < n; i++) {
		snprintf(nm, sizeof(nm), "file-%07d", i);
		int rc = hammer_mknod(m, 1, nm, strlen(nm), S_IFREG | 0644, 0, 0, 0, &a);
		if (rc)
			fail_msg("create %s: %d", nm, rc);
	}
	assert_int_equal(hammer_unmount(m), 0);
	check_image("bigdir");
	m = do_mount(0, 0);
	for (int i = 0; i < n; i += 7) {
		snprintf(nm, sizeof(nm), "file-%07d", i);
		assert_int_equal(hammer_lookup(m, 1, nm, strlen(nm), &a), 0);
	}
	/* readdir in pages of 1000: cookies resume exactly, nothing twice */
	struct page pg = { 0 };
	uint64_t cookie = 0;
	do {
		pg.in_page = 0;
		pg.more = 0;
		assert_int_equal(hammer_readdir(m, 1, cookie, page_fn, &pg), 0);
		cookie = pg.next;
	} while (pg.more);
	assert_int_equal(pg.total, n + 2);
	/* remove every other one, and the listing shrinks accordingly */
	for (int i = 0; i < n; i += 2) {
		snprintf(nm, sizeof(nm), "file-%07d", i);
		assert_int_equal(hammer_unlink(m, 1, nm, strlen(nm)), 0);
	}
	memset(&pg, 0, sizeof(pg));
	assert_int_equal(hammer_readdir(m, 1, 0, page_fn, &pg), 0);
	cookie = pg.next;
	while (pg.more) {
		pg.in_page = 0;
		pg.more = 0;
		assert_int_equal(hammer_readdir(m, 1, cookie, page_fn, &pg), 0);
		cookie = pg.next;
	}
	assert_int_equal(pg.total, n - (n + 1) / 2 + 2);
	assert_int_equal(hammer_unmount(m), 0);
	check_image("bigdir after unlinks");
	unlink(img);
}

/* ------------------------------------------------------------ history */

static struct hammer_mount *do_mount_opts(int nohistory)
{
	struct hammer_mount_opts o;
	hammer_mount_opts_init(&o);
	o.nohistory = nohistory;
	o.cache_bytes = 8 << 20;
	o.clock = test_clock;
	struct hammer_mount *m;
	struct hammer_err err = { 0 };
	if (hammer_mount(img, &o, &m, &err))
		fail_msg("mount: %s", err.msg);
	return m;
}

/* Version 1 synced, version 2 synced: is version 1 still readable as of t1? */
static int old_version_visible(int nohistory, int flag)
{
	make_image(1ULL << 30);
	struct hammer_mount *m = do_mount_opts(nohistory);
	struct hammer_attr a;
	char nm[64], buf[8];
	hammer_tid_t t1, t2;
	assert_int_equal(hammer_mknod(m, 1, L("h"), S_IFREG | 0644, 0, 0, 0, &a), 0);
	hammer_ino_t f = a.ino;
	if (flag) {
		a.uflags = HAMMER_UF_NOHISTORY;
		assert_int_equal(hammer_setattr(m, f, &a, HAMMER_SET_UFLAGS), 0);
	}
	assert_int_equal(hammer_write(m, f, 0, "one", 3), 3);
	assert_int_equal(hammer_synctid(m, &t1), 0);
	assert_int_equal(hammer_write(m, f, 0, "two", 3), 3);
	assert_int_equal(hammer_synctid(m, &t2), 0);
	assert_true(t2 > t1);
	snprintf(nm, sizeof(nm), "h@@0x%016llx", (unsigned long long)t1);
	int visible = 0;
	if (hammer_lookup(m, 1, nm, strlen(nm), &a) == 0 &&
	    hammer_read(m, a.ino, 0, buf, 3) == 3 && !memcmp(buf, "one", 3))
		visible = 1;
	/* the live file reads the new version either way */
	assert_int_equal(hammer_read(m, f, 0, buf, 3), 3);
	assert_memory_equal(buf, "two", 3);
	assert_int_equal(hammer_unmount(m), 0);
	check_image("history");
	unlink(img);
	return visible;
}

static void t_history(void **state)
{
	(void)state;
	assert_int_equal(old_version_visible(0, 0), 1);
	assert_int_equal(old_version_visible(1, 0), 0);	/* mount option */
	assert_int_equal(old_version_visible(0, 1), 0);	/* chflags nohistory */
}



/* ------------------------------------------------------------ object ids */

static void t_objid(void **state)
{
	(void)state;
	make_image(256ULL << 20);
	struct hammer_mount *m = do_mount(0, 0);
	struct hammer_attr a, d1, d2;
	assert_int_equal(hammer_mkdir(m, 1, L("d1"), 0755, 0, 0, &d1), 0);
	assert_int_equal(hammer_mkdir(m, 1, L("d2"), 0755, 0, 0, &d2), 0);
	enum { N = 900 };
	static uint64_t ids[N], other[10];
	char nm[32];
	for (int i = 0; i < N; i++) {
		snprintf(nm, sizeof(nm), "f%d", i);
		assert_int_equal(hammer_mknod(m, d1.ino, nm, strlen(nm),
					      S_IFREG | 0644, 0, 0, 0, &a), 0);
		ids[i] = a.obj_id;
		if (i < 10) {
			snprintf(nm, sizeof(nm), "g%d", i);
			assert_int_equal(hammer_mknod(m, d2.ino, nm, strlen(nm),
						      S_IFREG | 0644, 0, 0, 0, &a), 0);
			other[i] = a.obj_id;
		}
	}
	/* a directory's first 768 ids share one block of 1024 */
	for (int i = 1; i < 768; i++)
		assert_int_equal(ids[i] >> 10, ids[0] >> 10);
	/* then a new block */
	assert_true((ids[768] >> 10) != (ids[0] >> 10));
	for (int i = 0; i < 10; i++) {
		assert_int_equal(other[i] >> 10, other[0] >> 10);
		assert_true((other[i] >> 10) != (ids[0] >> 10));
	}
	/* all distinct; slots spread (not handed out in order) */
	uint64_t maxid = 0;
	int in_order = 1;
	for (int i = 0; i < N; i++) {
		for (int j = 0; j < i; j++)
			assert_true(ids[i] != ids[j]);
		if (i && ids[i] != ids[i - 1] + 1)
			in_order = 0;
		if (ids[i] > maxid)
			maxid = ids[i];
	}
	assert_false(in_order);
	assert_int_equal(hammer_unmount(m), 0);
	/* after a remount, never an id seen before */
	m = do_mount(0, 0);
	for (int i = 0; i < 10; i++) {
		snprintf(nm, sizeof(nm), "h%d", i);
		assert_int_equal(hammer_mknod(m, d1.ino, nm, strlen(nm),
					      S_IFREG | 0644, 0, 0, 0, &a), 0);
		assert_true(a.obj_id > maxid);
		assert_true(a.obj_id > other[9]);
	}
	assert_int_equal(hammer_unmount(m), 0);
	check_image("objid");
	unlink(img);
}

/* ------------------------------------------------------------ REDO */

/*
 * A crash right after an fsync: copy the image as it is on disk while the
 * mount is still up (the engine wrote everything it promised), then mount
 * the copy.
 */
static char crash_img[300];

static void crash_copy(void)
{
	snprintf(crash_img, sizeof(crash_img), "%s.crash", img);
	int in = open(img, O_RDONLY);
	int out = open(crash_img, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(in >= 0 && out >= 0);
	struct stat st;
	assert_int_equal(fstat(in, &st), 0);
	assert_int_equal(ftruncate(out, st.st_size), 0);
	static uint8_t buf[1 << 20];
	off_t pos = 0;
	for (;;) {
		off_t d = lseek(in, pos, SEEK_DATA);
		if (d < 0)
			break;
		off_t h = lseek(in, d, SEEK_HOLE);
		for (off_t o = d; o < h;) {
			size_t n = (size_t)(h - o) < sizeof(buf) ? (size_t)(h - o)
								 : sizeof(buf);
			assert_int_equal(pread(in, buf, n, o), (ssize_t)n);
			assert_int_equal(pwrite(out, buf, n, o), (ssize_t)n);
			o += (off_t)n;
		}
		pos = h;
	}
	close(in);
	close(out);
}

static struct hammer_mount *mount_path(const char *path, int ro, int fsync_mode,
				       int skip_redo)
{
	struct hammer_mount_opts o;
	hammer_mount_opts_init(&o);
	o.readonly = ro;
	o.fsync_mode = fsync_mode;
	o.skip_redo = skip_redo;
	o.cache_bytes = 8 << 20;
	o.clock = test_clock;
	struct hammer_mount *m;
	struct hammer_err err = { 0 };
	if (hammer_mount(path, &o, &m, &err))
		fail_msg("mount %s: %s", path, err.msg);
	return m;
}

static uint64_t fast_fsyncs(struct hammer_mount *m)
{
	struct hammer_mount_info mi;
	assert_int_equal(hammer_mount_info(m, &mi), 0);
	return mi.fast_fsyncs;
}

/* The file "r" of the crash copy must read exactly `want` (n bytes). */
static void expect_file(struct hammer_mount *m, const uint8_t *want, size_t n,
			const char *what)
{
	struct hammer_attr a;
	if (hammer_lookup(m, 1, L("r"), &a))
		fail_msg("%s: r is missing", what);
	if (a.size != n)
		fail_msg("%s: size %llu, want %zu", what,
			 (unsigned long long)a.size, n);
	uint8_t *got = malloc(n + 1);
	assert_non_null(got);
	assert_int_equal(hammer_read(m, a.ino, 0, got, n + 1), (ssize_t)n);
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i])
			fail_msg("%s: byte %zu is %02x, want %02x", what, i, got[i],
				 want[i]);
	free(got);
}

static void check_crash_copy(const char *what)
{
	char save[sizeof(img)];
	memcpy(save, img, sizeof(save));
	size_t n = strlen(crash_img);
	assert_true(n < sizeof(img));
	memcpy(img, crash_img, n + 1);
	check_image(what);
	memcpy(img, save, sizeof(img));
}

/* Crash now, recover (stage 2 runs), and the file must read `want`. */
static void crash_expect(const uint8_t *want, size_t n, const char *what)
{
	crash_copy();
	struct hammer_mount *c = mount_path(crash_img, 0, 2, 0);
	expect_file(c, want, n, what);
	assert_int_equal(hammer_unmount(c), 0);
	check_crash_copy(what);
}

static void t_redo(void **state)
{
	(void)state;
	enum { N = 300000 };
	uint8_t *want = malloc(N);
	assert_non_null(want);
	make_image(256ULL << 20);
	struct hammer_mount *m = mount_path(img, 0, 2, 0);
	struct hammer_attr a;
	assert_int_equal(hammer_mknod(m, 1, L("r"), S_IFREG | 0644, 0, 0, 0, &a), 0);
	hammer_ino_t f = a.ino;
	fill(want, 20000, 1);
	assert_int_equal(hammer_write(m, f, 0, want, 20000), 20000);
	/* first fsync: a full one (the inode is new), REDO on from now */
	assert_int_equal(hammer_fsync(m, f, 0), 0);
	assert_int_equal(fast_fsyncs(m), 0);

	/* appends, an unaligned overwrite, an extension past 1 MB */
	fill(want + 20000, 30000, 2);
	assert_int_equal(hammer_write(m, f, 20000, want + 20000, 30000), 30000);
	fill(want + 777, 5000, 3);
	assert_int_equal(hammer_write(m, f, 777, want + 777, 5000), 5000);
	assert_int_equal(hammer_fsync(m, f, 0), 0);
	assert_int_equal(fast_fsyncs(m), 1);
	crash_copy();
	struct hammer_mount *c = mount_path(crash_img, 0, 2, 0);
	struct hammer_mount_info mi;
	assert_int_equal(hammer_mount_info(c, &mi), 0);
	assert_true(mi.redo_replayed > 0);
	assert_int_equal(mi.redo_skipped, 0);
	expect_file(c, want, 50000, "redo append+overwrite");
	assert_int_equal(hammer_unmount(c), 0);
	check_crash_copy("redo 1");
	/* a read-only mount runs stage 1 only: the REDO'd bytes are not there */
	c = mount_path(crash_img, 1, 2, 0);
	assert_int_equal(hammer_lookup(c, 1, L("r"), &a), 0);
	assert_int_equal(a.size, 50000);	/* stage 2 above made it durable */
	assert_int_equal(hammer_unmount(c), 0);

	/* truncate down, then write: both replayed, in order */
	a.size = 12345;
	assert_int_equal(hammer_setattr(m, f, &a, HAMMER_SET_SIZE), 0);
	fill(want + 12345, 100, 4);
	assert_int_equal(hammer_write(m, f, 12345, want + 12345, 100), 100);
	assert_int_equal(hammer_fsync(m, f, 0), 0);
	assert_int_equal(fast_fsyncs(m), 2);
	crash_copy();
	/* skip_redo=2: stage 2 does not run, the last full fsync's state */
	c = mount_path(crash_img, 0, 2, 2);
	assert_int_equal(hammer_mount_info(c, &mi), 0);
	assert_int_equal(mi.redo_replayed, 0);
	assert_int_equal(hammer_lookup(c, 1, L("r"), &a), 0);
	assert_int_equal(a.size, 20000);
	assert_int_equal(hammer_unmount(c), 0);
	crash_expect(want, 12445, "redo truncate+write");

	/*
	 * One final flush cycle commits the REDO'd changes, but not durably
	 * (the next header makes it so): REDOs from before it must still run
	 * after a crash that undoes that cycle.
	 */
	assert_int_equal(hammer_flush(m), 0);
	fill(want + 12445, 70000, 5);
	assert_int_equal(hammer_write(m, f, 12445, want + 12445, 70000), 70000);
	assert_int_equal(hammer_fsync(m, f, 0), 0);
	assert_int_equal(fast_fsyncs(m), 3);
	crash_expect(want, 82445, "redo across a flush");

	/*
	 * A durable sync terminates the earlier REDOs (TERM records): after it
	 * and one more fast fsync, recovery re-executes only the new write.
	 */
	assert_int_equal(hammer_sync(m), 0);
	fill(want + 100, 64, 6);
	assert_int_equal(hammer_write(m, f, 100, want + 100, 64), 64);
	assert_int_equal(hammer_fsync(m, f, 0), 0);
	assert_int_equal(fast_fsyncs(m), 4);
	crash_copy();
	c = mount_path(crash_img, 0, 2, 0);
	assert_int_equal(hammer_mount_info(c, &mi), 0);
	assert_int_equal(mi.redo_replayed, 1);
	expect_file(c, want, 82445, "redo after TERMs");
	assert_int_equal(hammer_unmount(c), 0);

	/* a change REDO cannot replay (chmod) makes the next fsync a full one */
	a.mode = 0600;
	assert_int_equal(hammer_setattr(m, f, &a, HAMMER_SET_MODE), 0);
	assert_int_equal(hammer_write(m, f, 0, want, 10), 10);
	assert_int_equal(hammer_fsync(m, f, 0), 0);
	assert_int_equal(fast_fsyncs(m), 4);
	/* ... and the one after it is fast again */
	assert_int_equal(hammer_write(m, f, 0, want, 10), 10);
	assert_int_equal(hammer_fsync(m, f, 0), 0);
	assert_int_equal(fast_fsyncs(m), 5);

	/* the per-file limit: past 4 MB of REDO the fsync is a full one */
	uint8_t *big = calloc(1, 1 << 20);
	assert_non_null(big);
	for (int i = 0; i < 5; i++)
		assert_int_equal(hammer_write(m, f, (uint64_t)i << 20, big, 1 << 20),
				 1 << 20);
	assert_int_equal(hammer_fsync(m, f, 0), 0);
	assert_int_equal(fast_fsyncs(m), 5);
	free(big);

	/* modes 0 and 1 never take the fast path; mode 4 writes nothing */
	assert_int_equal(hammer_unmount(m), 0);
	for (int mode = 0; mode <= 1; mode++) {
		m = mount_path(img, 0, mode, 0);
		assert_int_equal(hammer_lookup(m, 1, L("r"), &a), 0);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(hammer_write(m, a.ino, 0, want, 10), 10);
			assert_int_equal(hammer_fsync(m, a.ino, 0), 0);
		}
		assert_int_equal(fast_fsyncs(m), 0);
		assert_int_equal(hammer_unmount(m), 0);
	}
	m = mount_path(img, 0, 4, 0);
	assert_int_equal(hammer_lookup(m, 1, L("r"), &a), 0);
	assert_int_equal(hammer_write(m, a.ino, 0, "x", 1), 1);
	struct hammer_mount_info before;
	assert_int_equal(hammer_mount_info(m, &before), 0);
	assert_int_equal(hammer_fsync(m, a.ino, 0), 0);
	assert_int_equal(hammer_mount_info(m, &mi), 0);
	assert_int_equal(mi.flush_cycles, before.flush_cycles);
	assert_int_equal(hammer_unmount(m), 0);
	check_image("redo modes");
	unlink(crash_img);
	unlink(img);
	free(want);
}

/* ------------------------------------------------------- data write-back */

static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(in >= 0 && out >= 0);
	static uint8_t buf[1 << 16];
	off_t off = 0;
	for (;;) {
		ssize_t n = pread(in, buf, sizeof(buf), off);
		assert_true(n >= 0);
		if (n == 0)
			break;
		/* keep it sparse: the image is 1 GB of mostly nothing */
		int zero = 1;
		for (ssize_t i = 0; i < n && zero; i++)
			zero = buf[i] == 0;
		if (!zero)
			assert_int_equal(pwrite(out, buf, (size_t)n, off), n);
		off += n;
	}
	assert_int_equal(ftruncate(out, off), 0);
	close(in);
	close(out);
}

/*
 * Over the dirty limit with mostly file data, the data is written on its
 * own, without a flush cycle.  Those blocks are all fresh, so an image
 * copied at that moment (a crash) recovers to the last sync, checker
 * clean; the mount itself keeps everything.
 */
static void t_data_writeback(void **state)
{
	(void)state;
	make_image(1ULL << 30);
	struct hammer_mount *m = do_mount(0, 0);	/* 8 MB cache: 2 MB dirty limit */
	struct hammer_attr a;
	assert_int_equal(hammer_mknod(m, 1, L("big"), S_IFREG | 0644, 0, 0, 0, &a), 0);
	hammer_ino_t f = a.ino;
	size_t n = 8 << 20;
	uint8_t *data = malloc(n), *back = malloc(n);
	assert_non_null(data);
	assert_non_null(back);
	fill(data, n, 11);
	assert_int_equal(hammer_write(m, f, 0, data, 1 << 20), 1 << 20);
	assert_int_equal(hammer_sync(m), 0);
	struct hammer_mount_info mi0 = minfo(m);
	/* 7 MB of 64 KB blocks in 16 KB writes: 3.5 times the dirty limit */
	for (size_t off = 1 << 20; off < n; off += 16384)
		assert_int_equal(hammer_write(m, f, off, data + off, 16384), 16384);
	struct hammer_mount_info mi1 = minfo(m);
	assert_int_equal(mi1.flush_cycles, mi0.flush_cycles);
	assert_true(mi1.data_writebacks >= 3);
	assert_true(mi1.dirty_bytes <= 2u << 20);

	/* crash now: the copy shows the synced state */
	char crash[sizeof(img)];
	assert_true(strlen(img) + 7 < sizeof(crash));
	memcpy(crash, img, strlen(img));
	memcpy(crash + strlen(img), ".crash", 7);
	copy_file(img, crash);
	char orig[sizeof(img)];
	memcpy(orig, img, sizeof(img));
	memcpy(img, crash, sizeof(img));
	struct hammer_mount *c = do_mount(0, 0);
	assert_int_equal(hammer_lookup(c, 1, L("big"), &a), 0);
	assert_int_equal(a.size, 1 << 20);
	assert_int_equal(hammer_read(c, a.ino, 0, back, n), 1 << 20);
	assert_memory_equal(back, data, 1 << 20);
	assert_int_equal(hammer_unmount(c), 0);
	check_image("crash copy after early data write-back");
	unlink(crash);
	memcpy(img, orig, sizeof(img));

	/* the mount itself lost nothing */
	assert_int_equal(hammer_read(m, f, 0, back, n), (ssize_t)n);
	assert_memory_equal(back, data, n);
	assert_int_equal(hammer_unmount(m), 0);
	check_image("after early data write-back");
	m = do_mount(0, 0);
	assert_int_equal(hammer_read(m, f, 0, back, n), (ssize_t)n);
	assert_memory_equal(back, data, n);
	assert_int_equal(hammer_unmount(m), 0);
	free(data);
	free(back);
	unlink(img);
}

/* ------------------------------------------------------------ ENOSPC */

static void t_enospc(void **state)
{
	(void)state;
	make_image(200ULL << 20);	/* a handful of free big-blocks */
	struct hammer_mount *m = do_mount(0, 0);
	struct hammer_attr a;
	uint8_t *buf = malloc(1 << 20);
	fill(buf, 1 << 20, 3);
	/* a synced file that must survive */
	assert_int_equal(hammer_mknod(m, 1, L("keep"), S_IFREG | 0644, 0, 0, 0, &a), 0);
	hammer_ino_t keep = a.ino;
	assert_int_equal(hammer_write(m, keep, 0, buf, 300000), 300000);
	assert_int_equal(hammer_sync(m), 0);
	/* fill until the engine says ENOSPC */
	int full = 0;
	for (int i = 0; i < 1000 && !full; i++) {
		char nm[32];
		snprintf(nm, sizeof(nm), "fill-%d", i);
		int rc = hammer_mknod(m, 1, nm, strlen(nm), S_IFREG | 0644, 0, 0, 0, &a);
		if (rc == -ENOSPC) {
			full = 1;
			break;
		}
		assert_int_equal(rc, 0);
		for (int j = 0; j < 8 && !full; j++) {
			ssize_t n = hammer_write(m, a.ino, (uint64_t)j << 20, buf, 1 << 20);
			if (n == -ENOSPC || (n >= 0 && n < (1 << 20)))
				full = 1;
			else if (n < 0)
				fail_msg("write: %zd", n);
		}
	}
	assert_true(full);
	int rc = hammer_unmount(m);
	if (rc)
		print_message("unmount after ENOSPC: %d\n", rc);
	check_image("after ENOSPC");
	m = do_mount(0, 0);
	uint8_t *back = malloc(300000);
	assert_int_equal(hammer_read(m, keep, 0, back, 300000), 300000);
	assert_memory_equal(back, buf, 300000);
	assert_int_equal(hammer_unmount(m), 0);
	free(back);
	free(buf);
	unlink(img);
}


/*
 * Read-ahead: a device that records the prefetch hints and the reads.  A
 * cold sequential read of a file must find (after its first reads) every
 * data read already announced, announce nothing past the file, and
 * reading at random offsets must announce nothing.
 */
struct spy {
	struct hammer_bdev *inner;
	uint64_t pf_off[4096], pf_len[4096];
	int npf;
	int data_reads, unannounced;	/* reads of 64 KB while `watch` */
	int watch;
	uint64_t rd_off[4096], rd_len[4096];	/* every read of data size */
	int nrd;
};

static int spy_read(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len)
{
	struct spy *s = bd->ctx;
	if ((len == 16384 || len == 65536) && s->nrd < 4096) {
		s->rd_off[s->nrd] = off;
		s->rd_len[s->nrd++] = len;
	}
	if (s->watch && len == 65536) {
		int seen = 0;
		for (int i = 0; i < s->npf && !seen; i++)
			seen = off >= s->pf_off[i] &&
			       off + len <= s->pf_off[i] + s->pf_len[i];
		s->data_reads++;
		s->unannounced += !seen;
	}
	return hammer_bdev_read(s->inner, off, buf, len);
}

static int spy_write(struct hammer_bdev *bd, uint64_t off, const void *buf,
		     size_t len)
{
	struct spy *s = bd->ctx;
	return hammer_bdev_write(s->inner, off, buf, len);
}

static int spy_flush(struct hammer_bdev *bd)
{
	struct spy *s = bd->ctx;
	return hammer_bdev_flush(s->inner);
}

static void spy_close(struct hammer_bdev *bd)
{
	struct spy *s = bd->ctx;
	hammer_bdev_close(s->inner);
	free(bd);
}

static void spy_prefetch(struct hammer_bdev *bd, uint64_t off, size_t len)
{
	struct spy *s = bd->ctx;
	assert_true(s->npf < 4096);
	s->pf_off[s->npf] = off;
	s->pf_len[s->npf] = len;
	s->npf++;
}

static const struct hammer_bdev_ops spy_ops = {
	.version = HAMMER_BDEV_VERSION,
	.read = spy_read,
	.write = spy_write,
	.flush = spy_flush,
	.close = spy_close,
	.prefetch = spy_prefetch,
};

static struct hammer_mount *spy_mount(struct spy *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(hammer_bdev_file_open(img, 0, &s->inner, NULL), 0);
	struct hammer_bdev *bd = calloc(1, sizeof(*bd));
	assert_non_null(bd);
	*bd = *s->inner;
	bd->ops = &spy_ops;
	bd->ctx = s;
	struct hammer_mount_opts o;
	hammer_mount_opts_init(&o);
	o.cache_bytes = 8 << 20;
	o.clock = test_clock;
	struct hammer_mount *m;
	struct hammer_err err = { 0 };
	if (hammer_mount_bdevs(&bd, 1, &o, &m, &err))
		fail_msg("mount %s: %s", img, err.msg);
	return m;
}

static void t_readahead(void **state)
{
	(void)state;
	make_image(1ULL << 30);
	static struct spy s;
	size_t n = 6 << 20, chunk = 128 << 10;
	uint8_t *data = malloc(n), *back = malloc(chunk);
	assert_non_null(data);
	assert_non_null(back);
	fill(data, n, 21);
	struct hammer_mount *m = spy_mount(&s);
	struct hammer_attr a;
	assert_int_equal(hammer_mknod(m, 1, L("seq"), S_IFREG | 0644, 0, 0, 0, &a), 0);
	hammer_ino_t f = a.ino;
	assert_int_equal(hammer_write(m, f, 0, data, n), (ssize_t)n);
	assert_int_equal(hammer_unmount(m), 0);

	/* cold, sequential, in 128 KB requests as FUSE sends them */
	m = spy_mount(&s);
	assert_int_equal(hammer_lookup(m, 1, L("seq"), &a), 0);
	for (size_t off = 0; off < n; off += chunk) {
		s.watch = off >= (2u << 20);	/* past LARGE_FROM and a window */
		assert_int_equal(hammer_read(m, f, off, back, chunk), (ssize_t)chunk);
		assert_memory_equal(back, data + off, chunk);
	}
	s.watch = 0;
	assert_true(s.data_reads >= 50);	/* 4 MB of 64 KB records */
	if (s.unannounced)
		fail_msg("%d of %d sequential data reads were not prefetched",
			 s.unannounced, s.data_reads);
	/* every hint names exactly a record the scan then read */
	uint64_t bytes = 0;
	for (int i = 0; i < s.npf; i++) {
		int used = 0;
		for (int j = 0; j < s.nrd && !used; j++)
			used = s.rd_off[j] == s.pf_off[i] &&
			       s.rd_len[j] == s.pf_len[i];
		if (!used)
			fail_msg("hint %d (%" PRIu64 "+%" PRIu64 ") was never read",
				 i, s.pf_off[i], s.pf_len[i]);
		bytes += s.pf_len[i];
	}
	assert_true(bytes > 0);
	assert_true(bytes <= n);	/* nothing past EOF, nothing twice */
	assert_int_equal(hammer_unmount(m), 0);

	/* cold, random offsets: no hint at all */
	m = spy_mount(&s);
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 64; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		uint64_t off = ((x >> 33) % (n / 4096)) * 4096;
		assert_int_equal(hammer_read(m, f, off, back, 4096), 4096);
		assert_memory_equal(back, data + off, 4096);
	}
	assert_int_equal(s.npf, 0);
	assert_int_equal(hammer_unmount(m), 0);
	check_image("after read-ahead");
	unlink(img);
	free(data);
	free(back);
}


/*
 * A data block corrupted on disk is caught whichever way it is read:
 * whole (straight into the caller's buffer, past the cache), in part
 * (through the cache), and as the old block a write rebuilds.
 */
static void t_direct_crc(void **state)
{
	(void)state;
	make_image(1ULL << 30);
	size_t n = 2 << 20;
	uint8_t *data = malloc(n), *back = malloc(n);
	assert_non_null(data);
	assert_non_null(back);
	fill(data, n, 31);
	static const char mark[] = "direct-read CRC test block";
	for (size_t o = 0; o + sizeof(mark) <= 65536; o += sizeof(mark))
		memcpy(data + (1 << 20) + o, mark, sizeof(mark));
	struct hammer_mount *m = do_mount(0, 0);
	struct hammer_attr a;
	assert_int_equal(hammer_mknod(m, 1, L("f"), S_IFREG | 0644, 0, 0, 0, &a), 0);
	hammer_ino_t f = a.ino;
	assert_int_equal(hammer_write(m, f, 0, data, n), (ssize_t)n);
	assert_int_equal(hammer_unmount(m), 0);

	/* flip one byte of the marked block on the device */
	int fd = open(img, O_RDWR);
	assert_true(fd >= 0);
	static uint8_t chunk[1 << 16];
	off_t at = -1;
	for (off_t o = 0; at < 0 && pread(fd, chunk, sizeof(chunk), o) == sizeof(chunk);
	     o += sizeof(chunk))
		for (size_t i = 0; i + sizeof(mark) <= sizeof(chunk); i += 512)
			if (memcmp(chunk + i, mark, sizeof(mark)) == 0) {
				at = o + (off_t)i;
				break;
			}
	assert_true(at >= 0);
	uint8_t x;
	assert_int_equal(pread(fd, &x, 1, at + 5000), 1);
	x ^= 0x40;
	assert_int_equal(pwrite(fd, &x, 1, at + 5000), 1);
	close(fd);

	m = do_mount(0, 0);
	assert_int_equal(hammer_read(m, f, 1 << 20, back, 1 << 17), -EUCLEAN);
	assert_non_null(strstr(hammer_mount_error(m)->msg, "data CRC mismatch"));
	assert_int_equal(hammer_read(m, f, (1 << 20) + 4096, back, 4096), -EUCLEAN);
	assert_int_equal(hammer_read(m, f, 0, back, 1 << 20), 1 << 20);
	assert_memory_equal(back, data, 1 << 20);
	assert_int_equal(hammer_write(m, f, (1 << 20) + 100, "x", 1), -EUCLEAN);
	assert_int_equal(hammer_unmount(m), 0);
	unlink(img);
	free(data);
	free(back);
}

int main(int argc, char **argv)
{
	(void)argc;
	slow_mode = strstr(argv[0], "slow") != NULL;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_basic),
		cmocka_unit_test(t_info_undo),
		cmocka_unit_test(t_pfs_get),
		cmocka_unit_test(t_data_writeback),
		cmocka_unit_test(t_readahead),
		cmocka_unit_test(t_direct_crc),
		cmocka_unit_test(t_files),
		cmocka_unit_test(t_model),
		cmocka_unit_test(t_bigdir),
		cmocka_unit_test(t_history),
		cmocka_unit_test(t_enospc),
		cmocka_unit_test(t_redo),
		cmocka_unit_test(t_objid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
