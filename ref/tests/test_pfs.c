/*
 * test_pfs.c - pseudo-filesystems (ref/pfs.c) through the engine API.
 *
 * Scenarios, each on its own 1 GB sparse image (newfs with an 8 MB UNDO
 * FIFO), each ending with the live checker (hammer_check) and, after the
 * unmount, the checker on the image:
 *   create      master and slave: the record, the link and its readlink
 *               text, a master's root, a slave without one (-ENOENT),
 *               the refusals of create; all of it again after a remount;
 *   free_id     the lowest free id, an id destroyed and made again;
 *   isolation   objects of a master live there only; -EXDEV across PFSs;
 *   slave       a master with files downgraded: its view as of
 *               sync_end_tid, -EROFS to every change, -ESTALE for the
 *               handles of the live master;
 *   upgrade     the rollback to sync_end_tid (records created after it
 *               gone, deletions after it undone), update's refusals;
 *   destroy     every record of the PFS gone, its space free again;
 *               PFS 0 refused;
 *   busy        hold and open files: -EBUSY for destroy/upgrade/downgrade;
 *   resume      a destroy cut by a crash (sim device, a state between its
 *               flush cycles): a read-write mount finishes it.
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
#include <unistd.h>
#include <cmocka.h>

#include "ref/fscheck.h"
#include "ref/hammer.h"
#include "ref/newfs.h"
#include "ref/volume.h"
#include "sim/sim.h"

#define FIXTURE_NAME "pfs"
#define FIXTURE_LABEL "PFSTEST"
#include "engine_fixture.h"

static hammer_ino_t pfs_root(struct hammer_mount *m, uint32_t id)
{
	struct hammer_attr a;
	assert_int_equal(hammer_pfs_root(m, id, &a), 0);
	assert_true(S_ISDIR(a.mode));
	assert_int_equal(a.pfs_id, id);
	return a.ino;
}

/* name in dir reads back exactly `content`. */
static void expect_file(struct hammer_mount *m, hammer_ino_t dir,
			const char *name, const char *content)
{
	struct hammer_attr a;
	char buf[256];
	int rc = hammer_lookup(m, dir, L(name), &a);
	if (rc)
		fail_msg("lookup %s: %d", name, rc);
	assert_int_equal(a.size, strlen(content));
	ssize_t n = hammer_read(m, a.ino, 0, buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)strlen(content));
	assert_memory_equal(buf, content, strlen(content));
}

static int count_cb(void *ctx, const char *name, size_t len, hammer_ino_t ino,
		    uint32_t dtype, uint64_t next)
{
	(void)name; (void)len; (void)ino; (void)dtype; (void)next;
	(*(int *)ctx)++;
	return 0;
}

/* Entries of dir, "." and ".." included. */
static int count_entries(struct hammer_mount *m, hammer_ino_t dir)
{
	int n = 0;
	assert_int_equal(hammer_readdir(m, dir, 0, count_cb, &n), 0);
	return n;
}

static void expect_link(struct hammer_mount *m, const char *name, const char *text)
{
	struct hammer_attr a;
	char buf[64];
	assert_int_equal(hammer_lookup(m, 1, L(name), &a), 0);
	assert_true(S_ISLNK(a.mode));
	int n = hammer_readlink(m, a.ino, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(text));
	assert_memory_equal(buf, text, strlen(text));
	assert_int_equal(a.size, strlen(text));
}

/* ------------------------------------------------------------ create */

static void verify_created(struct hammer_mount *m, hammer_tid_t slave_end)
{
	struct hammer_pseudofs_data p, want;
	struct hammer_err err = { 0 };
	struct hammer_attr a, b;

	/* the records, as written */
	assert_int_equal(hammer_pfs_get(m, 1, &p, &err), 0);
	pfsd(&want, "master-one", 0, 0);
	assert_memory_equal(&p, &want, sizeof(p));
	assert_int_equal(hammer_pfs_get(m, 2, &p, &err), 0);
	pfsd(&want, "slave-two", 1, 0);
	assert_memory_equal(&p, &want, sizeof(p));
	assert_int_equal(hammer_pfs_get(m, 3, &p, &err), 0);
	assert_int_equal(p.mirror_flags, HAMMER_PFSD_SLAVE);
	assert_int_equal(p.sync_end_tid, slave_end);
	assert_int_equal(hammer_pfs_get(m, 4, &p, &err), -ENOENT);

	/* status: a master's sync_end_tid is the durable TID */
	struct hammer_mount_info mi;
	assert_int_equal(hammer_pfs_status(m, 1, &p, &err), 0);
	assert_int_equal(hammer_mount_info(m, &mi), 0);
	assert_int_equal(p.sync_end_tid, mi.flush_tid);
	assert_true(p.sync_end_tid != 0);
	assert_int_equal(hammer_pfs_status(m, 2, &p, &err), 0);
	assert_int_equal(p.sync_end_tid, 0);	/* a slave's is its own */
	assert_int_equal(hammer_pfs_status(m, 4, &p, &err), -ENOENT);

	/* the links */
	expect_link(m, "m1", "@@-1:00001");
	expect_link(m, "s2", "@@0x0000000000000000:00002");
	char t[64];
	snprintf(t, sizeof(t), "@@0x%016llx:00003", (unsigned long long)slave_end);
	expect_link(m, "s3", t);

	/* the master's root: a directory 0755 owned by 0, empty */
	assert_int_equal(hammer_pfs_root(m, 1, &a), 0);
	assert_int_equal(a.mode, S_IFDIR | 0755);
	assert_int_equal(a.uid, 0);
	assert_int_equal(a.gid, 0);
	assert_int_equal(a.pfs_id, 1);
	assert_int_equal(a.obj_id, hammer_report_ino(1, 1));
	assert_int_equal(a.asof, 0);
	assert_int_equal(count_entries(m, a.ino), 2);
	uint32_t id = 99;
	assert_int_equal(hammer_ino_pfs(m, a.ino, &id), 0);
	assert_int_equal(id, 1);
	/* entered through the link text, from any directory */
	assert_int_equal(hammer_lookup(m, 1, L("@@-1:00001"), &b), 0);
	assert_int_equal(b.ino, a.ino);
	assert_int_equal(hammer_lookup(m, a.ino, L("@@-1:00001"), &b), 0);
	assert_int_equal(b.ino, a.ino);

	/* slaves without a root */
	assert_int_equal(hammer_pfs_root(m, 2, &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, 1, L("@@-1:00002"), &a), -ENOENT);
	assert_int_equal(hammer_pfs_root(m, 3, &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, 1, L("@@-1:00003"), &a), -ENOENT);
	/* no PFS */
	assert_int_equal(hammer_pfs_root(m, 4, &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, 1, L("@@-1:00004"), &a), -ENOENT);
	/* PFS 0's root is the mount's root */
	assert_int_equal(hammer_pfs_root(m, 0, &a), 0);
	assert_int_equal(a.ino, HAMMER_ROOT_INO);
}

static void t_create(void **state)
{
	(void)state;
	make_image();
	struct hammer_mount *m = do_mount(0);
	struct hammer_pseudofs_data pd;
	struct hammer_attr a;
	uint32_t id;

	assert_int_equal(hammer_pfs_free_id(m, &id), 0);
	assert_int_equal(id, 1);
	pfsd(&pd, "master-one", 0, 0);
	assert_int_equal(hammer_pfs_create(m, 1, L("m1"), 1, &pd, 12, 34, &a), 0);
	assert_true(S_ISLNK(a.mode));
	assert_int_equal(a.uid, 12);
	assert_int_equal(a.gid, 34);
	assert_int_equal(a.size, strlen("@@-1:00001"));
	assert_int_equal(a.pfs_id, 0);
	hammer_ino_t link1 = a.ino;
	pfsd(&pd, "slave-two", 1, 0);
	assert_int_equal(hammer_pfs_create(m, 1, L("s2"), 2, &pd, 0, 0, &a), 0);
	assert_int_equal(a.size, strlen("@@0x0000000000000000:00002"));
	const hammer_tid_t slave_end = 0x0000000123456789ULL;
	pfsd(&pd, "slave-three", 1, slave_end);
	assert_int_equal(hammer_pfs_create(m, 1, L("s3"), 3, &pd, 0, 0, &a), 0);
	assert_int_equal(hammer_pfs_free_id(m, &id), 0);
	assert_int_equal(id, 4);

	/* refusals */
	pfsd(&pd, "x", 0, 0);
	assert_int_equal(hammer_pfs_create(m, 1, L("other"), 1, &pd, 0, 0, &a), -EEXIST);
	assert_int_equal(hammer_pfs_create(m, 1, L("m1"), 5, &pd, 0, 0, &a), -EEXIST);
	assert_int_equal(hammer_pfs_create(m, 1, L("x0"), 0, &pd, 0, 0, &a), -EINVAL);
	assert_int_equal(hammer_pfs_create(m, 1, L("x1"), 65536, &pd, 0, 0, &a), -EINVAL);
	pd.mirror_flags = HAMMER_PFSD_DELETED;
	assert_int_equal(hammer_pfs_create(m, 1, L("x2"), 5, &pd, 0, 0, &a), -EINVAL);
	pd.mirror_flags = 0;
	assert_int_equal(hammer_pfs_create(m, link1, L("x3"), 5, &pd, 0, 0, &a), -ENOTDIR);
	hammer_ino_t r1 = pfs_root(m, 1);
	/* links live in PFS 0 */
	assert_int_equal(hammer_pfs_create(m, r1, L("x4"), 5, &pd, 0, 0, &a), -EXDEV);
	assert_int_equal(hammer_pfs_get(m, 5, &pd, &(struct hammer_err){ 0 }), -ENOENT);
	/* nothing the refusals touched remains */
	assert_int_equal(hammer_lookup(m, 1, L("x4"), &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, r1, L("x4"), &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, 1, L("other"), &a), -ENOENT);

	verify_created(m, slave_end);
	/* a second symlink with a PFS link's stored text is a second link */
	assert_int_equal(hammer_symlink(m, 1, L("fake"), L("@@PFS00001"), 0, 0, &a), 0);
	expect_link(m, "fake", "@@-1:00001");
	check_live(m, "create");
	assert_int_equal(hammer_unmount(m), 0);
	check_image("create");

	/* again after a remount: everything came from the disk */
	m = do_mount(0);
	verify_created(m, slave_end);
	assert_int_equal(hammer_unmount(m), 0);
	m = do_mount(1);
	verify_created(m, slave_end);
	pfsd(&pd, "ro", 0, 0);
	assert_int_equal(hammer_pfs_create(m, 1, L("ro"), 7, &pd, 0, 0, &a), -EROFS);
	assert_int_equal(hammer_pfs_destroy(m, 1), -EROFS);
	assert_int_equal(hammer_pfs_downgrade(m, 1), -EROFS);
	assert_int_equal(hammer_pfs_upgrade(m, 2), -EROFS);
	assert_int_equal(hammer_unmount(m), 0);
	unlink(img);
}

/* ------------------------------------------------------------ free ids */

static void t_free_id(void **state)
{
	(void)state;
	make_image();
	struct hammer_mount *m = do_mount(0);
	struct hammer_pseudofs_data pd;
	struct hammer_err err = { 0 };
	struct hammer_attr a;
	uint32_t id;

	for (uint32_t i = 1; i <= 4; i++) {
		assert_int_equal(hammer_pfs_free_id(m, &id), 0);
		assert_int_equal(id, i);
		char name[8];
		snprintf(name, sizeof(name), "p%u", i);
		mk_master(m, id, name);
	}
	/* an id past the lowest free one: the free id stays the lowest */
	mk_master(m, 9, "p9");
	assert_int_equal(hammer_pfs_free_id(m, &id), 0);
	assert_int_equal(id, 5);
	/* files in PFS 2 */
	hammer_ino_t r2 = pfs_root(m, 2);
	mk_file(m, r2, "old", "the old PFS 2");
	assert_int_equal(hammer_sync(m), 0);

	/* destroy 3 and 2: the lowest free id is 2 */
	assert_int_equal(hammer_pfs_destroy(m, 3), 0);
	assert_int_equal(hammer_pfs_free_id(m, &id), 0);
	assert_int_equal(id, 3);
	assert_int_equal(hammer_pfs_destroy(m, 2), 0);
	assert_int_equal(hammer_pfs_free_id(m, &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(hammer_pfs_get(m, 2, &pd, &err), -ENOENT);
	assert_int_equal(hammer_pfs_destroy(m, 2), -ENOENT);
	/* the link stays (it is the caller's), shown raw */
	expect_link(m, "p2", "@@PFS00002");
	assert_int_equal(hammer_lookup(m, 1, L("@@-1:00002"), &a), -ENOENT);
	/* the name is taken: create refuses, the id is not used */
	pfsd(&pd, "again", 0, 0);
	assert_int_equal(hammer_pfs_create(m, 1, L("p2"), 2, &pd, 0, 0, &a), -EEXIST);
	assert_int_equal(hammer_pfs_get(m, 2, &pd, &err), -ENOENT);
	assert_int_equal(hammer_unlink(m, 1, L("p2")), 0);
	assert_int_equal(hammer_unlink(m, 1, L("p3")), 0);
	check_live(m, "free_id destroyed");

	/* id 2 made again: a new, empty PFS, the DELETED record replaced */
	pfsd(&pd, "again", 0, 0);
	assert_int_equal(hammer_pfs_create(m, 1, L("p2new"), 2, &pd, 0, 0, &a), 0);
	assert_int_equal(hammer_pfs_get(m, 2, &pd, &err), 0);
	assert_string_equal(pd.label, "again");
	r2 = pfs_root(m, 2);
	assert_int_equal(count_entries(m, r2), 2);
	assert_int_equal(hammer_lookup(m, r2, L("old"), &a), -ENOENT);
	assert_int_equal(hammer_pfs_free_id(m, &id), 0);
	assert_int_equal(id, 3);
	check_live(m, "free_id reused");
	assert_int_equal(hammer_unmount(m), 0);
	check_image("free_id");

	/* the state of every id came back from the disk */
	m = do_mount(0);
	assert_int_equal(hammer_pfs_free_id(m, &id), 0);
	assert_int_equal(id, 3);
	assert_int_equal(hammer_pfs_get(m, 2, &pd, &err), 0);
	assert_string_equal(pd.label, "again");
	assert_int_equal(hammer_pfs_get(m, 3, &pd, &err), -ENOENT);
	assert_int_equal(hammer_pfs_get(m, 9, &pd, &err), 0);
	assert_int_equal(count_entries(m, pfs_root(m, 2)), 2);
	expect_link(m, "p2new", "@@-1:00002");
	finish(m, "free_id remount");
	unlink(img);
}

/* ------------------------------------------------------------ isolation */

static void t_isolation(void **state)
{
	(void)state;
	make_image();
	struct hammer_mount *m = do_mount(0);
	struct hammer_attr a;
	mk_master(m, 1, "a");
	mk_master(m, 2, "b");
	hammer_ino_t ra = pfs_root(m, 1), rb = pfs_root(m, 2);
	assert_true(ra != rb);
	assert_true(ra != HAMMER_ROOT_INO);

	hammer_ino_t fa = mk_file(m, ra, "f", "in PFS one");
	assert_int_equal(hammer_mkdir(m, ra, L("d"), 0700, 5, 6, &a), 0);
	hammer_ino_t da = a.ino;
	assert_int_equal(a.pfs_id, 1);
	mk_file(m, da, "deep", "deep in PFS one");
	hammer_ino_t f0 = mk_file(m, 1, "f", "in PFS zero");
	assert_int_equal(hammer_getattr(m, fa, &a), 0);
	assert_int_equal(a.pfs_id, 1);
	assert_int_equal(a.obj_id >> 48, 1);	/* inode numbers carry the id */
	uint32_t id;
	assert_int_equal(hammer_ino_pfs(m, fa, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(hammer_ino_pfs(m, f0, &id), 0);
	assert_int_equal(id, 0);

	/* visible in PFS 1 only */
	assert_int_equal(hammer_lookup(m, rb, L("f"), &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, rb, L("d"), &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, 1, L("d"), &a), -ENOENT);
	expect_file(m, ra, "f", "in PFS one");
	expect_file(m, 1, "f", "in PFS zero");
	assert_int_equal(count_entries(m, rb), 2);
	assert_int_equal(count_entries(m, ra), 4);
	hammer_ino_t fb = mk_file(m, rb, "f", "in PFS two");
	assert_true(fb != fa);
	expect_file(m, ra, "f", "in PFS one");
	expect_file(m, rb, "f", "in PFS two");

	/* nothing crosses a PFS boundary */
	assert_int_equal(hammer_rename(m, ra, L("f"), rb, L("g"), 0), -EXDEV);
	assert_int_equal(hammer_rename(m, ra, L("f"), 1, L("g"), 0), -EXDEV);
	assert_int_equal(hammer_rename(m, 1, L("f"), ra, L("g"), 0), -EXDEV);
	assert_int_equal(hammer_rename(m, ra, L("f"), rb, L("f"), 0), -EXDEV);
	assert_int_equal(hammer_rename(m, ra, L("f"), rb, L("f"),
				       HAMMER_RENAME_EXCHANGE), -EXDEV);
	assert_int_equal(hammer_rename(m, ra, L("d"), rb, L("d"), 0), -EXDEV);
	assert_int_equal(hammer_link(m, fa, rb, L("h"), &a), -EXDEV);
	assert_int_equal(hammer_link(m, fa, 1, L("h"), &a), -EXDEV);
	assert_int_equal(hammer_link(m, f0, ra, L("h"), &a), -EXDEV);
	expect_file(m, ra, "f", "in PFS one");
	expect_file(m, rb, "f", "in PFS two");
	expect_file(m, 1, "f", "in PFS zero");
	assert_int_equal(hammer_lookup(m, rb, L("g"), &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, 1, L("g"), &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, ra, L("g"), &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, 1, L("h"), &a), -ENOENT);
	/* inside a PFS everything works */
	assert_int_equal(hammer_rename(m, ra, L("f"), da, L("g"), 0), 0);
	assert_int_equal(hammer_link(m, fa, ra, L("h"), &a), 0);
	assert_int_equal(a.nlink, 2);
	expect_file(m, da, "g", "in PFS one");
	expect_file(m, ra, "h", "in PFS one");
	/* ".." of a PFS root is the root itself */
	assert_int_equal(hammer_lookup(m, ra, L(".."), &a), 0);
	assert_int_equal(a.ino, ra);
	check_live(m, "isolation");
	assert_int_equal(hammer_unmount(m), 0);
	check_image("isolation");

	m = do_mount(1);
	assert_int_equal(hammer_lookup(m, 1, L("@@-1:00001"), &a), 0);
	ra = a.ino;
	assert_int_equal(hammer_lookup(m, ra, L("d"), &a), 0);
	expect_file(m, a.ino, "g", "in PFS one");
	expect_file(m, a.ino, "deep", "deep in PFS one");
	expect_file(m, ra, "h", "in PFS one");
	assert_int_equal(hammer_lookup(m, 1, L("@@-1:00002"), &a), 0);
	expect_file(m, a.ino, "f", "in PFS two");
	assert_int_equal(hammer_lookup(m, a.ino, L("d"), &a), -ENOENT);
	expect_file(m, 1, "f", "in PFS zero");
	assert_int_equal(hammer_unmount(m), 0);
	unlink(img);
}

/* ------------------------------------------------------------ slave */

static void expect_slave_tree(struct hammer_mount *m, hammer_ino_t root)
{
	struct hammer_attr a;
	expect_file(m, root, "A", "alpha");
	assert_int_equal(hammer_lookup(m, root, L("D"), &a), 0);
	assert_true(S_ISDIR(a.mode));
	expect_file(m, a.ino, "in", "inside");
	assert_int_equal(count_entries(m, root), 5);	/* . .. A D L */
}

/* Every change through the slave's root answers -EROFS. */
static void expect_erofs(struct hammer_mount *m, hammer_ino_t root)
{
	struct hammer_attr a, d, l;
	assert_int_equal(hammer_lookup(m, root, L("A"), &a), 0);
	assert_int_equal(hammer_lookup(m, root, L("D"), &d), 0);
	assert_int_equal(hammer_lookup(m, root, L("L"), &l), 0);
	assert_true(a.asof != 0);
	assert_int_equal(hammer_mknod(m, root, L("n"), S_IFREG | 0644, 0, 0, 0, &a), -EROFS);
	assert_int_equal(hammer_mknod(m, d.ino, L("n"), S_IFIFO | 0644, 0, 0, 0, &a), -EROFS);
	assert_int_equal(hammer_mkdir(m, root, L("n"), 0755, 0, 0, &a), -EROFS);
	assert_int_equal(hammer_symlink(m, root, L("n"), L("t"), 0, 0, &a), -EROFS);
	assert_int_equal(hammer_lookup(m, root, L("A"), &a), 0);
	assert_int_equal(hammer_write(m, a.ino, 0, "x", 1), -EROFS);
	assert_int_equal(hammer_write(m, a.ino, 100, "x", 1), -EROFS);
	struct hammer_attr s = a;
	s.mode = S_IFREG | 0600;
	assert_int_equal(hammer_setattr(m, a.ino, &s, HAMMER_SET_MODE), -EROFS);
	s = a;
	s.size = 0;
	assert_int_equal(hammer_setattr(m, a.ino, &s, HAMMER_SET_SIZE), -EROFS);
	s = a;
	s.mtime = 5;
	assert_int_equal(hammer_setattr(m, root, &s, HAMMER_SET_MTIME), -EROFS);
	assert_int_equal(hammer_unlink(m, root, L("A")), -EROFS);
	assert_int_equal(hammer_unlink(m, root, L("L")), -EROFS);
	assert_int_equal(hammer_unlink(m, d.ino, L("in")), -EROFS);
	assert_int_equal(hammer_rmdir(m, root, L("D")), -EROFS);
	assert_int_equal(hammer_rename(m, root, L("A"), root, L("B"), 0), -EROFS);
	assert_int_equal(hammer_rename(m, root, L("A"), d.ino, L("A"), 0), -EROFS);
	assert_int_equal(hammer_link(m, a.ino, root, L("A2"), &s), -EROFS);
	assert_int_equal(hammer_link(m, a.ino, d.ino, L("A2"), &s), -EROFS);
	assert_int_equal(hammer_fsync(m, a.ino, 0) == 0 ||
			 hammer_fsync(m, a.ino, 0) == -EROFS, 1);
	/* nothing changed */
	expect_slave_tree(m, root);
	char buf[16];
	assert_int_equal(hammer_readlink(m, l.ino, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "../", 3);
}

static void t_slave(void **state)
{
	(void)state;
	make_image();
	struct hammer_mount *m = do_mount(0);
	struct hammer_attr a;
	struct hammer_pseudofs_data pd;
	struct hammer_err err = { 0 };

	mk_master(m, 1, "m");
	hammer_ino_t root = pfs_root(m, 1);
	hammer_ino_t fa = mk_file(m, root, "A", "alpha");
	assert_int_equal(hammer_mkdir(m, root, L("D"), 0755, 0, 0, &a), 0);
	hammer_ino_t dd = a.ino;
	mk_file(m, dd, "in", "inside");
	assert_int_equal(hammer_symlink(m, root, L("L"), L("../"), 0, 0, &a), 0);
	assert_int_equal(hammer_sync(m), 0);

	assert_int_equal(hammer_pfs_downgrade(m, 1), 0);
	struct hammer_mount_info mi;
	assert_int_equal(hammer_mount_info(m, &mi), 0);
	assert_int_equal(hammer_pfs_get(m, 1, &pd, &err), 0);
	assert_int_equal(pd.mirror_flags, HAMMER_PFSD_SLAVE);
	assert_true(pd.sync_end_tid != 0);
	assert_true(pd.sync_end_tid <= mi.flush_tid);
	assert_string_equal(pd.label, "m");
	hammer_tid_t end = pd.sync_end_tid;
	/* status of a slave: its own sync_end_tid */
	assert_int_equal(hammer_pfs_status(m, 1, &pd, &err), 0);
	assert_int_equal(pd.sync_end_tid, end);
	char t[64];
	snprintf(t, sizeof(t), "@@0x%016llx:00001", (unsigned long long)end);
	expect_link(m, "m", t);
	/* downgrade of a slave: nothing to do */
	assert_int_equal(hammer_pfs_downgrade(m, 1), 0);
	assert_int_equal(hammer_pfs_get(m, 1, &pd, &err), 0);
	assert_int_equal(pd.sync_end_tid, end);

	/* handles of the live master are stale now */
	assert_int_equal(hammer_getattr(m, fa, &a), -ESTALE);
	assert_int_equal(hammer_getattr(m, root, &a), -ESTALE);
	assert_int_equal(hammer_getattr(m, dd, &a), -ESTALE);
	char buf[16];
	assert_int_equal(hammer_read(m, fa, 0, buf, sizeof(buf)), -ESTALE);
	assert_int_equal(hammer_write(m, fa, 0, "x", 1), -ESTALE);
	assert_int_equal(hammer_mknod(m, root, L("n"), S_IFREG | 0644, 0, 0, 0, &a),
			 -ESTALE);
	assert_int_equal(hammer_lookup(m, root, L("A"), &a), -ESTALE);

	/* the slave's root, as of sync_end_tid */
	hammer_ino_t sroot = pfs_root(m, 1);
	assert_true(sroot != root);
	assert_int_equal(hammer_getattr(m, sroot, &a), 0);
	assert_int_equal(a.asof, end);
	assert_int_equal(hammer_lookup(m, 1, L("@@-1:00001"), &a), 0);
	assert_int_equal(a.asof, end);
	expect_slave_tree(m, sroot);
	expect_erofs(m, sroot);
	expect_erofs(m, a.ino);
	check_live(m, "slave");
	assert_int_equal(hammer_unmount(m), 0);
	check_image("slave");

	m = do_mount(0);
	sroot = pfs_root(m, 1);
	expect_slave_tree(m, sroot);
	expect_erofs(m, sroot);
	expect_link(m, "m", t);
	finish(m, "slave remount");
	unlink(img);
}

/* ------------------------------------------------------------ upgrade */

static void t_upgrade(void **state)
{
	(void)state;
	make_image();
	struct hammer_mount *m = do_mount(0);
	struct hammer_attr a;
	struct hammer_pseudofs_data pd;
	struct hammer_err err = { 0 };

	/* a master with files, downgraded and upgraded: the files remain */
	mk_master(m, 1, "m");
	hammer_ino_t root = pfs_root(m, 1);
	mk_file(m, root, "A", "alpha");
	assert_int_equal(hammer_sync(m), 0);
	assert_int_equal(hammer_pfs_upgrade(m, 1), 0);	/* a master: nothing */
	assert_int_equal(hammer_pfs_downgrade(m, 1), 0);
	assert_int_equal(hammer_pfs_upgrade(m, 1), 0);
	assert_int_equal(hammer_pfs_get(m, 1, &pd, &err), 0);
	assert_int_equal(pd.mirror_flags, 0);
	expect_link(m, "m", "@@-1:00001");
	root = pfs_root(m, 1);
	assert_int_equal(hammer_getattr(m, root, &a), 0);
	assert_int_equal(a.asof, 0);			/* live again */
	expect_file(m, root, "A", "alpha");
	mk_file(m, root, "A2", "writable");		/* writable again */
	expect_file(m, root, "A2", "writable");
	check_live(m, "upgrade simple");

	/*
	 * Records newer than sync_end_tid: PFS 2 gets C and A, a synctid
	 * (t1), then B is made, A rewritten and C removed.  The slave's
	 * sync_end_tid set back to t1 makes all of that newer.
	 */
	mk_master(m, 2, "n");
	hammer_ino_t r2 = pfs_root(m, 2);
	hammer_ino_t fa = mk_file(m, r2, "A", "old A");
	mk_file(m, r2, "C", "C before t1");
	assert_int_equal(hammer_mkdir(m, r2, L("D"), 0755, 0, 0, &a), 0);
	hammer_tid_t t1;
	assert_int_equal(hammer_synctid(m, &t1), 0);
	mk_file(m, r2, "B", "B after t1");
	mk_file(m, r2, "F", "F after t1");
	assert_int_equal(hammer_write(m, fa, 0, "NEW A, longer", 13), 13);
	assert_int_equal(hammer_unlink(m, r2, L("C")), 0);
	assert_int_equal(hammer_rmdir(m, r2, L("D")), 0);
	assert_int_equal(hammer_mkdir(m, r2, L("E"), 0755, 0, 0, &a), 0);
	assert_int_equal(hammer_sync(m), 0);
	uint64_t recs_new = check_live(m, "upgrade before downgrade");
	struct hammer_statfs sf0, sf1;
	assert_int_equal(hammer_statfs(m, &sf0), 0);
	assert_int_equal(hammer_pfs_downgrade(m, 2), 0);
	assert_int_equal(hammer_pfs_get(m, 2, &pd, &err), 0);
	assert_true(pd.sync_end_tid > t1);
	/* update: flags refused, sync_end_tid accepted */
	pd.mirror_flags = 0;
	assert_int_equal(hammer_pfs_update(m, 2, &pd), -EINVAL);
	pd.mirror_flags = HAMMER_PFSD_SLAVE | HAMMER_PFSD_DELETED;
	assert_int_equal(hammer_pfs_update(m, 2, &pd), -EINVAL);
	pd.mirror_flags = HAMMER_PFSD_SLAVE | 0x10;
	assert_int_equal(hammer_pfs_update(m, 2, &pd), -EINVAL);
	pd.mirror_flags = HAMMER_PFSD_SLAVE;
	pd.sync_end_tid = t1;
	snprintf(pd.label, sizeof(pd.label), "rolled");
	assert_int_equal(hammer_pfs_update(m, 2, &pd), 0);
	assert_int_equal(hammer_pfs_get(m, 2, &pd, &err), 0);
	assert_int_equal(pd.sync_end_tid, t1);
	assert_string_equal(pd.label, "rolled");
	assert_int_equal(hammer_pfs_update(m, 77, &pd), -ENOENT);
	assert_int_equal(hammer_pfs_update(m, 65536, &pd), -EINVAL);
	/* PFS 0 may be updated, never made a slave */
	struct hammer_pseudofs_data p0;
	assert_int_equal(hammer_pfs_get(m, 0, &p0, &err), 0);
	p0.mirror_flags = HAMMER_PFSD_SLAVE;
	assert_int_equal(hammer_pfs_update(m, 0, &p0), -EINVAL);
	p0.mirror_flags = 0;
	snprintf(p0.label, sizeof(p0.label), "ROOT");
	assert_int_equal(hammer_pfs_update(m, 0, &p0), 0);
	assert_int_equal(hammer_pfs_get(m, 0, &p0, &err), 0);
	assert_string_equal(p0.label, "ROOT");

	/* the slave shows t1's tree */
	hammer_ino_t s2 = pfs_root(m, 2);
	expect_file(m, s2, "A", "old A");
	expect_file(m, s2, "C", "C before t1");
	assert_int_equal(hammer_lookup(m, s2, L("D"), &a), 0);
	assert_int_equal(hammer_lookup(m, s2, L("B"), &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, s2, L("E"), &a), -ENOENT);

	/* upgrade: the records after t1 go, the deletions after it are undone */
	assert_int_equal(hammer_pfs_upgrade(m, 2), 0);
	assert_int_equal(hammer_pfs_get(m, 2, &pd, &err), 0);
	assert_int_equal(pd.mirror_flags, 0);
	assert_string_equal(pd.label, "rolled");
	r2 = pfs_root(m, 2);
	assert_int_equal(hammer_getattr(m, r2, &a), 0);
	assert_int_equal(a.asof, 0);
	expect_file(m, r2, "A", "old A");
	expect_file(m, r2, "C", "C before t1");
	assert_int_equal(hammer_lookup(m, r2, L("D"), &a), 0);
	assert_true(S_ISDIR(a.mode));
	assert_int_equal(hammer_lookup(m, r2, L("B"), &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, r2, L("E"), &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, r2, L("F"), &a), -ENOENT);
	assert_int_equal(count_entries(m, r2), 5);	/* . .. A C D */
	/* statfs counts objects: B, E, F gone, C, D back */
	assert_int_equal(hammer_statfs(m, &sf1), 0);
	assert_int_equal(sf1.files, sf0.files - 1);
	/* the history after t1 is gone too, not only hidden */
	assert_int_equal(hammer_sync(m), 0);
	uint64_t recs_rolled = check_live(m, "upgrade rolled back");
	assert_true(recs_rolled < recs_new);
	/* a master again: writable */
	mk_file(m, r2, "B", "B again");
	assert_int_equal(hammer_unlink(m, r2, L("C")), 0);
	expect_file(m, r2, "B", "B again");
	/* PFS 1 untouched by all of it */
	expect_file(m, pfs_root(m, 1), "A", "alpha");
	expect_file(m, pfs_root(m, 1), "A2", "writable");

	/* a slave that never had a root gets one at its upgrade */
	pfsd(&pd, "fresh", 1, 0);
	assert_int_equal(hammer_pfs_create(m, 1, L("s"), 3, &pd, 0, 0, &a), 0);
	assert_int_equal(hammer_pfs_root(m, 3, &a), -ENOENT);
	assert_int_equal(hammer_pfs_upgrade(m, 3), 0);
	assert_int_equal(hammer_pfs_root(m, 3, &a), 0);
	assert_int_equal(a.mode, S_IFDIR | 0755);
	assert_int_equal(count_entries(m, a.ino), 2);
	expect_link(m, "s", "@@-1:00003");
	mk_file(m, a.ino, "x", "made in 3");
	assert_int_equal(hammer_pfs_upgrade(m, 0), -EINVAL);
	assert_int_equal(hammer_pfs_downgrade(m, 0), -EINVAL);
	assert_int_equal(hammer_pfs_upgrade(m, 9), -ENOENT);
	assert_int_equal(hammer_pfs_downgrade(m, 9), -ENOENT);
	check_live(m, "upgrade");
	assert_int_equal(hammer_unmount(m), 0);
	check_image("upgrade");

	m = do_mount(0);
	r2 = pfs_root(m, 2);
	expect_file(m, r2, "A", "old A");
	expect_file(m, r2, "B", "B again");
	assert_int_equal(hammer_lookup(m, r2, L("C"), &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, r2, L("E"), &a), -ENOENT);
	expect_file(m, pfs_root(m, 3), "x", "made in 3");
	finish(m, "upgrade remount");
	unlink(img);
}

/* ------------------------------------------------------------ destroy */

#define BIG_FILES 640
#define BIG_SIZE (64 << 10)

static void t_destroy(void **state)
{
	(void)state;
	make_image();
	struct hammer_mount *m = do_mount(0);
	struct hammer_attr a;
	struct hammer_pseudofs_data pd;
	struct hammer_err err = { 0 };
	struct hammer_statfs st0, st1, st2;

	assert_int_equal(hammer_pfs_destroy(m, 0), -EINVAL);
	assert_int_equal(hammer_pfs_destroy(m, 65536), -EINVAL);
	assert_int_equal(hammer_pfs_destroy(m, 1), -ENOENT);
	mk_file(m, 1, "keep", "PFS 0 stays");
	mk_master(m, 2, "other");
	mk_file(m, pfs_root(m, 2), "keep", "PFS 2 stays");
	assert_int_equal(hammer_sync(m), 0);
	assert_int_equal(hammer_statfs(m, &st0), 0);
	/* an object made and removed before a flush leaves the count alone */
	mk_file(m, 1, "brief", "gone before the flush");
	assert_int_equal(hammer_unlink(m, 1, L("brief")), 0);
	assert_int_equal(hammer_mkdir(m, 1, L("brief"), 0755, 0, 0, &a), 0);
	assert_int_equal(hammer_rmdir(m, 1, L("brief")), 0);
	uint64_t recs0 = check_live(m, "destroy base");
	assert_int_equal(hammer_statfs(m, &st1), 0);
	assert_int_equal(st1.files, st0.files);

	/* 40 MB of files and a tree in PFS 1 */
	mk_master(m, 1, "victim");
	hammer_ino_t root = pfs_root(m, 1);
	uint8_t *data = malloc(BIG_SIZE);
	assert_non_null(data);
	for (int i = 0; i < BIG_FILES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "file%04d", i);
		hammer_ino_t dir = root;
		if (i % 64 == 0) {
			snprintf(name, sizeof(name), "dir%04d", i);
			assert_int_equal(hammer_mkdir(m, root, L(name), 0755, 0, 0, &a), 0);
			dir = a.ino;
			snprintf(name, sizeof(name), "file%04d", i);
		}
		assert_int_equal(hammer_mknod(m, dir, L(name), S_IFREG | 0644, 0, 0, 0, &a), 0);
		memset(data, i, BIG_SIZE);
		assert_int_equal(hammer_write(m, a.ino, 0, data, BIG_SIZE), BIG_SIZE);
		if (i % 3 == 0)	/* history: old versions of the data too */
			assert_int_equal(hammer_write(m, a.ino, 0, "rewrite", 7), 7);
		if (i % 97 == 0)
			assert_int_equal(hammer_sync(m), 0);
	}
	free(data);
	assert_int_equal(hammer_unlink(m, root, L("file0001")), 0);
	assert_int_equal(hammer_sync(m), 0);
	uint64_t recs1 = check_live(m, "destroy full");
	assert_true(recs1 > recs0 + 2 * BIG_FILES);
	assert_int_equal(hammer_statfs(m, &st1), 0);
	uint64_t per_bb = (8u << 20) / st1.bsize;	/* bsize units per big-block */
	assert_true(st1.bfree + 4 * per_bb <= st0.bfree);
	assert_true(st1.files > st0.files);

	assert_int_equal(hammer_pfs_destroy(m, 1), 0);
	assert_int_equal(hammer_pfs_get(m, 1, &pd, &err), -ENOENT);
	assert_int_equal(hammer_pfs_status(m, 1, &pd, &err), -ENOENT);
	assert_int_equal(hammer_pfs_root(m, 1, &a), -ENOENT);
	assert_int_equal(hammer_lookup(m, 1, L("@@-1:00001"), &a), -ENOENT);
	assert_int_equal(hammer_getattr(m, root, &a), -ESTALE);
	assert_int_equal(hammer_pfs_destroy(m, 1), -ENOENT);
	assert_int_equal(hammer_pfs_upgrade(m, 1), -ENOENT);
	assert_int_equal(hammer_pfs_hold(m, 1, 1), -ENOENT);
	expect_link(m, "victim", "@@PFS00001");
	assert_int_equal(hammer_unlink(m, 1, L("victim")), 0);
	assert_int_equal(hammer_sync(m), 0);
	/*
	 * Every record of PFS 1 is gone, history included: what remains
	 * is PFS 0's and PFS 2's, plus the history of PFS 1's record and
	 * link in PFS 0 (a handful).
	 */
	uint64_t recs2 = check_live(m, "destroy done");
	assert_true(recs2 >= recs0);
	assert_true(recs2 <= recs0 + 8);
	/* the space came back */
	assert_int_equal(hammer_statfs(m, &st2), 0);
	assert_true(st2.bfree + 2 * per_bb >= st0.bfree);
	assert_int_equal(st2.files, st0.files);
	expect_file(m, 1, "keep", "PFS 0 stays");
	expect_file(m, pfs_root(m, 2), "keep", "PFS 2 stays");
	assert_int_equal(hammer_unmount(m), 0);
	check_image("destroy");

	m = do_mount(0);
	assert_int_equal(hammer_pfs_get(m, 1, &pd, &err), -ENOENT);
	assert_int_equal(check_live(m, "destroy remount"), recs2);
	hammer_ino_t r2 = pfs_root(m, 2);
	expect_file(m, r2, "keep", "PFS 2 stays");
	/* objects never flushed: counted at creation, uncounted by destroy */
	assert_int_equal(hammer_mkdir(m, r2, L("new"), 0755, 0, 0, &a), 0);
	mk_file(m, a.ino, "n1", "unflushed");
	mk_file(m, r2, "n2", "unflushed");
	assert_int_equal(hammer_statfs(m, &st1), 0);
	assert_int_equal(st1.files, st0.files + 3);
	assert_int_equal(hammer_pfs_destroy(m, 2), 0);
	assert_int_equal(hammer_statfs(m, &st1), 0);
	assert_int_equal(st1.files, st0.files - 2);	/* its root and "keep" */
	assert_int_equal(hammer_pfs_free_id(m, (uint32_t[]){ 0 }), 0);
	finish(m, "destroy 2");
	unlink(img);
}

/* ------------------------------------------------------------ busy */

static void t_busy(void **state)
{
	(void)state;
	make_image();
	struct hammer_mount *m = do_mount(0);
	struct hammer_attr a;
	struct hammer_pseudofs_data pd;
	struct hammer_err err = { 0 };

	mk_master(m, 1, "m");
	mk_master(m, 2, "o");
	hammer_ino_t root = pfs_root(m, 1);
	hammer_ino_t f = mk_file(m, root, "f", "busy");
	hammer_ino_t g = mk_file(m, pfs_root(m, 2), "g", "other");

	/* a hold (a PFS mount) */
	assert_int_equal(hammer_pfs_hold(m, 1, 1), 0);
	assert_int_equal(hammer_pfs_hold(m, 1, 1), 0);
	assert_int_equal(hammer_pfs_destroy(m, 1), -EBUSY);
	assert_int_equal(hammer_pfs_downgrade(m, 1), -EBUSY);
	assert_int_equal(hammer_pfs_hold(m, 1, -1), 0);
	assert_int_equal(hammer_pfs_destroy(m, 1), -EBUSY);	/* one left */
	assert_int_equal(hammer_pfs_hold(m, 1, -1), 0);
	assert_int_equal(hammer_pfs_hold(m, 1, -1), -EINVAL);
	assert_int_equal(hammer_pfs_hold(m, 1, 2), -EINVAL);
	assert_int_equal(hammer_pfs_hold(m, 9, 1), -ENOENT);
	assert_int_equal(hammer_pfs_hold(m, 65536, 1), -EINVAL);
	assert_int_equal(hammer_pfs_downgrade(m, 1), 0);
	/* a held slave cannot be upgraded */
	assert_int_equal(hammer_pfs_hold(m, 1, 1), 0);
	assert_int_equal(hammer_pfs_upgrade(m, 1), -EBUSY);
	assert_int_equal(hammer_pfs_destroy(m, 1), -EBUSY);
	assert_int_equal(hammer_pfs_get(m, 1, &pd, &err), 0);
	assert_int_equal(pd.mirror_flags, HAMMER_PFSD_SLAVE);
	assert_int_equal(hammer_pfs_hold(m, 1, -1), 0);
	assert_int_equal(hammer_pfs_upgrade(m, 1), 0);

	/* an open file */
	root = pfs_root(m, 1);
	assert_int_equal(hammer_lookup(m, root, L("f"), &a), 0);
	assert_int_equal(a.ino, f);
	assert_int_equal(hammer_open(m, f), 0);
	assert_int_equal(hammer_pfs_destroy(m, 1), -EBUSY);
	assert_int_equal(hammer_pfs_downgrade(m, 1), -EBUSY);
	assert_int_equal(hammer_pfs_get(m, 1, &pd, &err), 0);
	assert_int_equal(pd.mirror_flags, 0);
	/* an open file of another PFS does not make PFS 1 busy */
	assert_int_equal(hammer_open(m, g), 0);
	assert_int_equal(hammer_release(m, f), 0);
	assert_int_equal(hammer_pfs_downgrade(m, 1), 0);
	/* the file is stale: the still open g keeps PFS 2 busy only */
	assert_int_equal(hammer_pfs_destroy(m, 2), -EBUSY);
	/* unlinked but open: still busy */
	assert_int_equal(hammer_unlink(m, pfs_root(m, 2), L("g")), 0);
	assert_int_equal(hammer_pfs_downgrade(m, 2), -EBUSY);
	assert_int_equal(hammer_release(m, g), 0);
	assert_int_equal(hammer_pfs_destroy(m, 2), 0);
	/* a slave whose objects were looked up (as-of handles) is not busy */
	hammer_ino_t s1 = pfs_root(m, 1);
	assert_int_equal(hammer_lookup(m, s1, L("f"), &a), 0);
	assert_int_equal(hammer_pfs_destroy(m, 1), 0);
	assert_int_equal(hammer_getattr(m, a.ino, &a), -ENOENT);
	assert_int_equal(hammer_getattr(m, f, &a), -ESTALE);
	finish(m, "busy");
	unlink(img);
}

/* ------------------------------------------------------------ resume */

/*
 * A destroy cut by a crash.  The image lives on a sim device; the destroy
 * runs with a tiny dirty limit, so it flushes between its batches.  Every
 * crash state "epochs before E whole" after the DELETED record became
 * durable and before the last record went is a destroy half done: the
 * checker sees records of a PFS without a live record, and the next
 * read-write mount must remove them.
 */
static struct hammer_mount *mount_bd(struct hammer_bdev *bd, int ro,
				     uint64_t dirty_limit)
{
	struct hammer_mount_opts o;
	mount_opts(&o, ro);
	o.dirty_limit = dirty_limit;
	struct hammer_mount *m = NULL;
	struct hammer_err err = { 0 };
	int rc = hammer_mount_bdevs(&bd, 1, &o, &m, &err);
	if (rc)
		fail_msg("mount: %d %s", rc, err.msg);
	return m;
}

static void check_report(struct hammer_mount *m, struct hammer_fscheck_report *r)
{
	struct hammer_err err = { 0 };
	memset(r, 0, sizeof(*r));
	int rc = hammer_check(m, 0, r, &err);
	if (rc)
		fail_msg("hammer_check: %d %s", rc, err.msg);
}

#define RESUME_FILES 1500

static void t_resume(void **state)
{
	(void)state;
	make_image();
	struct hammer_attr a;
	struct hammer_pseudofs_data pd;
	struct hammer_err err = { 0 };

	/* the PFS with its files, on the image itself */
	struct hammer_mount *m = do_mount(0);
	mk_file(m, 1, "keep", "PFS 0 stays");
	assert_int_equal(hammer_sync(m), 0);
	uint64_t recs0 = check_live(m, "resume base");
	mk_master(m, 1, "victim");
	hammer_ino_t root = pfs_root(m, 1);
	char data[3000];
	for (int i = 0; i < RESUME_FILES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%05d", i);
		assert_int_equal(hammer_mknod(m, root, L(name), S_IFREG | 0644, 0, 0, 0, &a), 0);
		memset(data, 'a' + i % 26, sizeof(data));
		assert_int_equal(hammer_write(m, a.ino, 0, data, sizeof(data)),
				 (ssize_t)sizeof(data));
	}
	assert_int_equal(hammer_sync(m), 0);
	uint64_t recs1 = check_live(m, "resume full");
	assert_true(recs1 > recs0 + 3 * RESUME_FILES);
	assert_int_equal(hammer_unmount(m), 0);

	/*
	 * The destroy on a sim over the image, with a dirty limit that makes
	 * it flush between its batches.  The mount owns the sim (and the sim
	 * its base): it stays mounted until every crash state is done.
	 */
	struct hammer_bdev *base;
	assert_int_equal(hammer_bdev_file_open(img, HAMMER_BDEV_RDONLY, &base, NULL), 0);
	struct sim *s;
	assert_int_equal(sim_open(base, SIM_OWN_BASE, NULL, &s), 0);
	m = mount_bd(sim_bdev(s), 0, 1);
	uint32_t e0 = sim_epochs(s);
	assert_int_equal(hammer_pfs_destroy(m, 1), 0);
	uint32_t e1 = sim_epochs(s);
	assert_true(e1 > e0 + 4);	/* several flush cycles */
	uint64_t recs_whole = check_live(m, "destroy whole");

	/* the crash states: epochs before e whole, nothing of e */
	int half = 0, before = 0, after = 0;
	for (uint32_t e = e0 ? e0 - 1 : 0; e < e1; e++) {
		struct sim_state cs;
		memset(&cs, 0, sizeof(cs));
		cs.epoch = e;
		cs.subset = SIM_SUB_PREFIX;
		cs.arg = 0;
		cs.torn_write = -1;
		cs.garbage_write = -1;
		cs.collateral = -1;
		if (sim_state_check(s, &cs) != 0)
			continue;
		struct hammer_bdev *cbd;
		assert_int_equal(sim_state_open(s, &cs, &cbd), 0);
		struct hammer_mount *cm = mount_bd(cbd, 1, 0);
		struct hammer_fscheck_report r;
		check_report(cm, &r);
		int live = hammer_pfs_get(cm, 1, &pd, &err) == 0;
		int orphan = hammer_fscheck_find(&r, HAMMER_FSCK_PFS_NO_RECORD) >= 0;
		size_t errors = r.errors;
		/*
		 * Half done (records of a DELETED PFS): the checker judges what
		 * is left of its tree too (orphans, records without an inode),
		 * but every error must be about PFS 1.  Otherwise: clean.
		 */
		for (size_t i = 0; i < r.count; i++) {
			const struct hammer_fsck_finding *fi = &r.findings[i];
			uint32_t loc = fi->has_elm ? fi->elm.localization
						   : fi->localization;
			if (fi->severity == HAMMER_FSCK_ERROR &&
			    (live || !orphan || loc >> 16 != 1))
				fail_msg("state e%u: %s %s", e,
					 hammer_fscheck_code_name(fi->code), fi->msg);
		}
		hammer_fscheck_report_free(&r);
		assert_int_equal(hammer_unmount(cm), 0);
		if (live) {
			assert_int_equal(errors, 0);
			before++;
			continue;
		}
		if (!orphan) {
			assert_int_equal(errors, 0);
			after++;
			continue;
		}
		half++;
		assert_int_equal(sim_state_open(s, &cs, &cbd), 0);
		cm = mount_bd(cbd, 0, 0);	/* read-write: pfs_resume */
		/* what the whole destroy left, exactly */
		assert_int_equal(check_live(cm, "resumed"), recs_whole);
		assert_int_equal(hammer_pfs_get(cm, 1, &pd, &err), -ENOENT);
		expect_file(cm, 1, "keep", "PFS 0 stays");
		expect_link(cm, "victim", "@@PFS00001");
		assert_int_equal(hammer_lookup(cm, 1, L("@@-1:00001"), &a), -ENOENT);
		/* the id is free and a new PFS there starts empty */
		uint32_t id;
		assert_int_equal(hammer_pfs_free_id(cm, &id), 0);
		assert_int_equal(id, 1);
		mk_master(cm, 1, "again");
		assert_int_equal(count_entries(cm, pfs_root(cm, 1)), 2);
		check_live(cm, "resumed and reused");
		assert_int_equal(hammer_unmount(cm), 0);
	}
	print_message("resume: %d states before the DELETED record, %d half "
		      "done, %d after (epochs %u..%u)\n", before, half, after, e0, e1);
	assert_true(before >= 1);
	assert_true(half >= 2);
	assert_int_equal(hammer_unmount(m), 0);	/* closes the sim */
	check_image("resume");	/* the image itself was never written */
	unlink(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_create),
		cmocka_unit_test(t_free_id),
		cmocka_unit_test(t_isolation),
		cmocka_unit_test(t_slave),
		cmocka_unit_test(t_upgrade),
		cmocka_unit_test(t_destroy),
		cmocka_unit_test(t_busy),
		cmocka_unit_test(t_resume),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
