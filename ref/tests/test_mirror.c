/*
 * test_mirror.c - mirroring in the engine (ref/mirror.c): a master PFS on
 * one image streamed into a slave PFS on another through the stream codec
 * (ref/mstream.c), in small buffers so every position/resume path runs.
 *
 * After every batch both trees are walked and compared (names, types,
 * modes, owners, sizes, times, file bytes, link targets) and both images
 * pass the full checker.  Incremental batches must carry what changed and
 * SKIP the rest; a batch cut before its SYNC must leave the slave exactly
 * as it was; hostile records are refused with the slave unchanged.
 *
 * Seeded: HAMMER_TEST_SEED; failures print the seed and the step.
 */
#include <errno.h>
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
#include "ref/mstream.h"
#include "ref/newfs.h"
#include "ref/volume.h"

static char img[2][256];
static uint64_t fake_now = 1795306471000000ULL;
static uint64_t seed = 1;

static uint64_t test_clock(void *ctx)
{
	(void)ctx;
	return fake_now += 1000;
}

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static void make_image(int i)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(img[i], sizeof(img[i]), "%s/mirror-XXXXXX", tmp);
	int fd = mkstemp(img[i]);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(1ULL << 30)), 0);
	close(fd);
	struct hammer_bdev *bd;
	assert_int_equal(hammer_bdev_file_open(img[i], 0, &bd, NULL), 0);
	struct hammer_newfs_opts o;
	hammer_newfs_opts_init(&o);
	o.label = i ? "SLAVE" : "MASTER";
	o.force = 1;
	o.undo_size = 8 << 20;
	assert_int_equal(hammer_uuid_parse(i ? "a381fb52-b407-dc4f-b4be-5c83274d03cc"
					     : "a381fb52-b407-dc4f-b4be-5c83274d03cb",
					   &o.fsid), 0);
	o.ctime_us = 1795306471606999ULL;
	struct hammer_newfs_result res;
	struct hammer_err err = { 0 };
	if (hammer_newfs_format(&bd, 1, &o, &res, &err))
		fail_msg("newfs: %s", err.msg);
	hammer_bdev_close(bd);
}

static struct hammer_mount *do_mount(int i)
{
	struct hammer_mount_opts o;
	hammer_mount_opts_init(&o);
	o.cache_bytes = 8 << 20;
	o.clock = test_clock;
	struct hammer_mount *m;
	struct hammer_err err = { 0 };
	int rc = hammer_mount(img[i], &o, &m, &err);
	if (rc)
		fail_msg("mount %s: %d %s", img[i], rc, err.msg);
	return m;
}

static void check_image(int i, const char *what)
{
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_volset_open(img[i], HAMMER_VOLSET_RDONLY, &vs, &err), 0);
	assert_int_equal(hammer_bufcache_open(vs, 8 << 20, &bc), 0);
	struct hammer_fscheck_report r;
	struct hammer_fscheck_opts fo;
	hammer_fscheck_opts_init(&fo);
	int rc = hammer_fscheck(vs, bc, &fo, &r, &err);
	if (rc)
		fail_msg("seed %" PRIu64 " %s: fscheck failed: %d %s", seed, what,
			 rc, err.msg);
	if (r.errors) {
		for (size_t k = 0; k < r.count && k < 20; k++)
			print_message("%s: %s %s\n", what,
				      hammer_fscheck_code_name(r.findings[k].code),
				      r.findings[k].msg);
		fail_msg("seed %" PRIu64 " %s: image %d: checker errors", seed,
			 what, i);
	}
	hammer_fscheck_report_free(&r);
	hammer_bufcache_close(bc);
	hammer_volset_close(vs);
}

#define L(s) s, strlen(s)

static const char SHARED[] = "6b1cf1a6-9b0e-11ef-8f7a-0242ac120002";

static void make_pfs(struct hammer_mount *m, uint32_t id, int slave,
		     const char *shared)
{
	struct hammer_pseudofs_data pd;
	memset(&pd, 0, sizeof(pd));
	pd.sync_beg_tid = 1;
	pd.sync_end_tid = 1;
	assert_int_equal(hammer_uuid_parse(shared, &pd.shared_uuid), 0);
	assert_int_equal(hammer_uuid_parse(slave ? "11111111-2222-3333-4444-555555555555"
						 : "99999999-2222-3333-4444-555555555555",
					   &pd.unique_uuid), 0);
	if (slave)
		pd.mirror_flags = HAMMER_PFSD_SLAVE;
	char name[16];
	snprintf(name, sizeof(name), "pfs%u", id);
	struct hammer_attr a;
	int rc = hammer_pfs_create(m, HAMMER_ROOT_INO, L(name), id, &pd, 0, 0, &a);
	if (rc)
		fail_msg("pfs_create %u: %d", id, rc);
}

static hammer_ino_t pfs_root(struct hammer_mount *m, uint32_t id)
{
	struct hammer_attr a;
	int rc = hammer_pfs_root(m, id, &a);
	if (rc)
		fail_msg("pfs_root %u: %d", id, rc);
	return a.ino;
}

/* ---------------------------------------------------------- mirroring */

struct batch_stats {
	uint64_t recs, passes, skips, bytes, calls;
	uint64_t inserted, deleted, updated;
};

/*
 * Stream PFS sid of src into slave did of dst from tid_beg (0: the
 * slave's sync_end_tid + 1), through buffers of bufsize bytes.  stop_after:
 * apply only that many records and return without the SYNC (0: all).
 */
static int mirror(struct hammer_mount *src, uint32_t sid,
		  struct hammer_mount *dst, uint32_t did, hammer_tid_t tid_beg,
		  size_t bufsize, uint64_t stop_after, struct batch_stats *st)
{
	struct hammer_err err = { 0 };
	struct hammer_pseudofs_data spd, dpd;
	assert_int_equal(hammer_pfs_status(src, sid, &spd, &err), 0);
	assert_int_equal(hammer_pfs_status(dst, did, &dpd, &err), 0);
	if (!tid_beg)
		tid_beg = dpd.sync_end_tid + 1;
	if (tid_beg < spd.sync_beg_tid)
		tid_beg = spd.sync_beg_tid;
	hammer_tid_t tid_end = spd.sync_end_tid;
	memset(st, 0, sizeof(*st));
	if (getenv("MIRROR_DEBUG"))
		print_message("batch %016" PRIx64 "..%016" PRIx64 "\n", tid_beg, tid_end);
	if (tid_beg > tid_end)		/* tid_end itself may carry records */
		return 0;
	spd.sync_beg_tid = tid_beg;
	spd.sync_end_tid = tid_end;
	struct hammer_mirror_apply w;
	int rc = hammer_mirror_write_begin(dst, did, &spd, &w, &err);
	if (rc)
		return rc;
	struct hammer_mirror_scan s;
	hammer_mirror_scan_init(&s, sid, tid_beg, tid_end, 0);
	uint8_t *buf = malloc(bufsize);
	assert_non_null(buf);
	uint64_t applied = 0;
	while (!s.done) {
		size_t len;
		rc = hammer_mirror_read(src, &s, buf, bufsize, &len, &err);
		if (rc)
			fail_msg("mirror_read: %d %s", rc, err.msg);
		st->calls++;
		size_t off = 0;
		while (off < len) {
			struct hammer_mrec r;
			char why[200];
			int n = hammer_mrec_get(buf + off, len - off, &r, NULL, why,
						sizeof(why));
			if (n <= 0)
				fail_msg("stream at %zu: %d %s", off, n, why);
			if (stop_after && applied == stop_after) {
				free(buf);
				return -EINTR;
			}
			rc = hammer_mirror_write_rec(dst, &w, &r, &err);
			if (rc) {
				print_message("write_rec: %d %s\n", rc, err.msg);
				free(buf);
				return rc;
			}
			applied++;
			off += (size_t)n;
		}
		if (!len && !s.done)
			fail_msg("mirror_read made no progress");
	}
	free(buf);
	rc = hammer_mirror_write_sync(dst, &w, &err);
	if (rc)
		fail_msg("write_sync: %d %s", rc, err.msg);
	st->recs = s.recs;
	st->passes = s.passes;
	st->skips = s.skips;
	st->bytes = s.bytes;
	st->inserted = w.inserted;
	st->deleted = w.deleted;
	st->updated = w.updated;
	return 0;
}

/* ---------------------------------------------------------- comparing */

struct names {
	char (*n)[256];
	size_t count, cap;
};

static int collect(void *ctx, const char *name, size_t len, hammer_ino_t ino,
		   uint32_t dtype, uint64_t next)
{
	(void)ino;
	(void)dtype;
	(void)next;
	struct names *nm = ctx;
	if ((len == 1 && name[0] == '.') || (len == 2 && !memcmp(name, "..", 2)))
		return 0;
	if (nm->count == nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 64;
		nm->n = realloc(nm->n, nm->cap * sizeof(*nm->n));
		assert_non_null(nm->n);
	}
	memcpy(nm->n[nm->count], name, len);
	nm->n[nm->count][len] = '\0';
	nm->count++;
	return 0;
}

static int cmpname(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void list(struct hammer_mount *m, hammer_ino_t dir, struct names *nm)
{
	memset(nm, 0, sizeof(*nm));
	assert_int_equal(hammer_readdir(m, dir, 0, collect, nm), 0);
	if (nm->count)
		qsort(nm->n, nm->count, sizeof(*nm->n), cmpname);
}

static uint64_t compared;

static void same_tree(struct hammer_mount *a, hammer_ino_t da,
		      struct hammer_mount *b, hammer_ino_t db, const char *path)
{
	struct names na, nb;
	list(a, da, &na);
	list(b, db, &nb);
	if (na.count != nb.count)
		fail_msg("seed %" PRIu64 " %s: %zu entries on the master, %zu on the slave",
			 seed, path, na.count, nb.count);
	for (size_t i = 0; i < na.count; i++) {
		if (strcmp(na.n[i], nb.n[i]))
			fail_msg("%s: entry %s vs %s", path, na.n[i], nb.n[i]);
		struct hammer_attr x, y;
		assert_int_equal(hammer_lookup(a, da, L(na.n[i]), &x), 0);
		int rc = hammer_lookup(b, db, L(nb.n[i]), &y);
		if (rc)
			fail_msg("%s/%s: slave lookup %d", path, nb.n[i], rc);
		char sub[1024];
		snprintf(sub, sizeof(sub), "%s/%s", path, na.n[i]);
		if (x.mode != y.mode || x.size != y.size || x.nlink != y.nlink ||
		    x.uid != y.uid || x.gid != y.gid || x.ctime != y.ctime ||
		    x.obj_id >> 48 != 1 || (x.obj_id & ((1ULL << 48) - 1)) !=
		    (y.obj_id & ((1ULL << 48) - 1)))
			fail_msg("seed %" PRIu64 " %s: attributes differ (mode %o/%o size "
				 "%" PRIu64 "/%" PRIu64 " nlink %" PRIu64 "/%" PRIu64 ")",
				 seed, sub, x.mode, y.mode, x.size, y.size,
				 x.nlink, y.nlink);
		compared++;
		if (S_ISDIR(x.mode)) {
			same_tree(a, x.ino, b, y.ino, sub);
		} else if (S_ISLNK(x.mode)) {
			char t1[1100], t2[1100];
			int n1 = hammer_readlink(a, x.ino, t1, sizeof(t1));
			int n2 = hammer_readlink(b, y.ino, t2, sizeof(t2));
			if (n1 != n2 || n1 < 0 || memcmp(t1, t2, (size_t)n1))
				fail_msg("%s: link targets differ", sub);
		} else if (S_ISREG(x.mode)) {
			uint8_t *p = malloc(x.size + 1), *q = malloc(x.size + 1);
			assert_true(p && q);
			ssize_t r1 = hammer_read(a, x.ino, 0, p, x.size + 1);
			ssize_t r2 = hammer_read(b, y.ino, 0, q, x.size + 1);
			if (r1 != (ssize_t)x.size || r2 != r1 || memcmp(p, q, x.size))
				fail_msg("seed %" PRIu64 " %s: file bytes differ "
					 "(%zd/%zd)", seed, sub, r1, r2);
			free(p);
			free(q);
		}
	}
	free(na.n);
	free(nb.n);
}

/* ---------------------------------------------------------- content */

static void put_file(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		     size_t size)
{
	struct hammer_attr a;
	int rc = hammer_lookup(m, dir, L(name), &a);
	if (rc == -ENOENT)
		rc = hammer_mknod(m, dir, L(name), S_IFREG | 0644, 0,
				  (uint32_t)(rnd() % 3), 0, &a);
	assert_int_equal(rc, 0);
	uint8_t *p = malloc(size ? size : 1);
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(rnd() >> 11);
	if (size)
		assert_int_equal(hammer_write(m, a.ino, 0, p, size), (ssize_t)size);
	free(p);
}

static hammer_ino_t mkdir_(struct hammer_mount *m, hammer_ino_t dir,
			   const char *name)
{
	struct hammer_attr a;
	assert_int_equal(hammer_mkdir(m, dir, L(name), 0755, 0, 0, &a), 0);
	return a.ino;
}

static void populate(struct hammer_mount *m, hammer_ino_t root, int files)
{
	hammer_ino_t d1 = mkdir_(m, root, "d1");
	hammer_ino_t d2 = mkdir_(m, d1, "d2");
	put_file(m, root, "empty", 0);
	put_file(m, root, "small", 100);
	put_file(m, d1, "big", 300000);
	put_file(m, d2, "mid", 20000);
	struct hammer_attr a;
	assert_int_equal(hammer_symlink(m, root, L("ln"), L("d1/big"), 0, 0, &a), 0);
	assert_int_equal(hammer_lookup(m, root, L("small"), &a), 0);
	assert_int_equal(hammer_link(m, a.ino, d2, L("hard"), &a), 0);
	for (int i = 0; i < files; i++) {
		char n[32];
		snprintf(n, sizeof(n), "f%05d", i);
		put_file(m, d2, n, (size_t)(rnd() % 5000));
	}
}

/* ---------------------------------------------------------- tests */

struct pair {
	struct hammer_mount *m, *s;
};

static void setup_pair(struct pair *p)
{
	make_image(0);
	make_image(1);
	p->m = do_mount(0);
	p->s = do_mount(1);
	make_pfs(p->m, 1, 0, SHARED);
	make_pfs(p->s, 2, 1, SHARED);
}

static void remount(struct pair *p)
{
	assert_int_equal(hammer_unmount(p->m), 0);
	assert_int_equal(hammer_unmount(p->s), 0);
	check_image(0, "master");
	check_image(1, "slave");
	p->m = do_mount(0);
	p->s = do_mount(1);
}

static void teardown_pair(struct pair *p)
{
	assert_int_equal(hammer_unmount(p->m), 0);
	assert_int_equal(hammer_unmount(p->s), 0);
	check_image(0, "master");
	check_image(1, "slave");
	unlink(img[0]);
	unlink(img[1]);
}

static void compare(struct pair *p, const char *what)
{
	compared = 0;
	same_tree(p->m, pfs_root(p->m, 1), p->s, pfs_root(p->s, 2), what);
}

static void test_full_and_incremental(void **state)
{
	(void)state;
	struct pair p;
	struct batch_stats st;
	struct hammer_err err = { 0 };
	setup_pair(&p);
	/* before the first mirror the slave has no root */
	struct hammer_attr a;
	assert_int_equal(hammer_pfs_root(p.s, 2, &a), -ENOENT);
	hammer_ino_t r = pfs_root(p.m, 1);
	populate(p.m, r, 2000);
	assert_int_equal(hammer_sync(p.m), 0);
	/* smallest buffers: one REC of 64 KB at most per call */
	assert_int_equal(mirror(p.m, 1, p.s, 2, 0, HAMMER_MREC_MAX, 0, &st), 0);
	assert_true(st.recs > 2000);
	assert_true(st.calls > 2);
	assert_int_equal(st.passes, 0);
	compare(&p, "full");
	assert_true(compared > 2000);
	struct hammer_pseudofs_data mpd, spd;
	assert_int_equal(hammer_pfs_status(p.m, 1, &mpd, &err), 0);
	assert_int_equal(hammer_pfs_status(p.s, 2, &spd, &err), 0);
	assert_true(spd.sync_end_tid == mpd.sync_end_tid);
	remount(&p);
	compare(&p, "full after remount");

	/* one small change: the stream SKIPs the unchanged subtrees */
	r = pfs_root(p.m, 1);
	put_file(p.m, r, "small", 200);
	assert_int_equal(hammer_sync(p.m), 0);
	assert_int_equal(mirror(p.m, 1, p.s, 2, 0, 512 * 1024, 0, &st), 0);
	assert_true(st.skips > 0);
	if (st.recs + st.passes > 400)
		fail_msg("incremental batch sent %" PRIu64 " records for one change",
			 st.recs + st.passes);
	compare(&p, "incremental 1");

	/* renames, deletes, truncates, a new directory */
	hammer_ino_t d1;
	assert_int_equal(hammer_lookup(p.m, r, L("d1"), &a), 0);
	d1 = a.ino;
	assert_int_equal(hammer_lookup(p.m, d1, L("d2"), &a), 0);
	hammer_ino_t d2 = a.ino;
	assert_int_equal(hammer_rename(p.m, d2, L("f00010"), r, L("moved"), 0), 0);
	assert_int_equal(hammer_unlink(p.m, d2, L("f00011")), 0);
	assert_int_equal(hammer_unlink(p.m, d2, L("hard")), 0);
	assert_int_equal(hammer_lookup(p.m, d1, L("big"), &a), 0);
	a.size = 70000;
	assert_int_equal(hammer_setattr(p.m, a.ino, &a, HAMMER_SET_SIZE), 0);
	hammer_ino_t d3 = mkdir_(p.m, r, "d3");
	put_file(p.m, d3, "new", 123456);
	assert_int_equal(hammer_sync(p.m), 0);
	assert_int_equal(mirror(p.m, 1, p.s, 2, 0, 200000, 0, &st), 0);
	print_message("incremental 2: %" PRIu64 " recs %" PRIu64 " passes %" PRIu64
		      " skips, %" PRIu64 " inserted %" PRIu64 " updated %" PRIu64
		      " deleted\n", st.recs, st.passes, st.skips, st.inserted,
		      st.updated, st.deleted);
	assert_true(st.deleted == 0);	/* history on: deletions come as PASSes */
	assert_true(st.updated > 0);
	compare(&p, "incremental 2");
	/* nothing changed: an empty range */
	assert_int_equal(mirror(p.m, 1, p.s, 2, 0, 200000, 0, &st), 0);
	compare(&p, "idle");
	teardown_pair(&p);
}

/* A batch cut before its SYNC changes nothing the slave shows. */
static void test_cut_batch(void **state)
{
	(void)state;
	struct pair p;
	struct batch_stats st;
	setup_pair(&p);
	hammer_ino_t r = pfs_root(p.m, 1);
	populate(p.m, r, 300);
	assert_int_equal(hammer_sync(p.m), 0);
	assert_int_equal(mirror(p.m, 1, p.s, 2, 0, 512 * 1024, 0, &st), 0);
	compare(&p, "first");
	/* second batch: many changes, cut half way */
	for (int i = 0; i < 200; i++) {
		char n[32];
		snprintf(n, sizeof(n), "g%04d", i);
		put_file(p.m, r, n, 3000);
	}
	struct hammer_attr a;
	assert_int_equal(hammer_lookup(p.m, r, L("d1"), &a), 0);
	assert_int_equal(hammer_unlink(p.m, a.ino, L("big")), 0);
	assert_int_equal(hammer_sync(p.m), 0);
	/* the slave's view before: no g* files, d1/big present */
	struct hammer_pseudofs_data before, after;
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_pfs_status(p.s, 2, &before, &err), 0);
	for (uint64_t cut = 1; cut < 400; cut += 97) {
		assert_int_equal(mirror(p.m, 1, p.s, 2, 0, 100000, cut, &st), -EINTR);
		/* unmount flushes the partial batch; it must stay invisible */
		assert_int_equal(hammer_unmount(p.s), 0);
		check_image(1, "slave after a cut batch");
		p.s = do_mount(1);
		assert_int_equal(hammer_pfs_status(p.s, 2, &after, &err), 0);
		assert_true(after.sync_end_tid == before.sync_end_tid);
		hammer_ino_t sr = pfs_root(p.s, 2);
		assert_int_equal(hammer_lookup(p.s, sr, L("g0000"), &a), -ENOENT);
		assert_int_equal(hammer_lookup(p.s, sr, L("d1"), &a), 0);
		assert_int_equal(hammer_lookup(p.s, a.ino, L("big"), &a), 0);
	}
	/* the whole batch again completes it */
	assert_int_equal(mirror(p.m, 1, p.s, 2, 0, 100000, 0, &st), 0);
	compare(&p, "after the cut batches");
	teardown_pair(&p);
}

/*
 * A batch cut at every record boundary: each time the slave still shows
 * its last sync (sync_end_tid, the old size of a changed file, no new
 * file) and the checker, run on the live mount, is clean.
 */
static void test_cut_everywhere(void **state)
{
	(void)state;
	struct pair p;
	struct batch_stats st;
	struct hammer_err err = { 0 };
	setup_pair(&p);
	hammer_ino_t r = pfs_root(p.m, 1);
	populate(p.m, r, 10);
	assert_int_equal(hammer_sync(p.m), 0);
	assert_int_equal(mirror(p.m, 1, p.s, 2, 0, 512 * 1024, 0, &st), 0);
	put_file(p.m, r, "small", 70000);
	put_file(p.m, r, "fresh", 100);
	struct hammer_attr a;
	assert_int_equal(hammer_lookup(p.m, r, L("d1"), &a), 0);
	assert_int_equal(hammer_rename(p.m, a.ino, L("big"), r, L("big2"), 0), 0);
	assert_int_equal(hammer_sync(p.m), 0);
	struct hammer_pseudofs_data before, now;
	assert_int_equal(hammer_pfs_status(p.s, 2, &before, &err), 0);
	uint64_t cut;
	for (cut = 1;; cut++) {
		int rc = mirror(p.m, 1, p.s, 2, 0, HAMMER_MREC_MAX, cut, &st);
		if (rc == 0)
			break;		/* the batch had fewer records: it completed */
		assert_int_equal(rc, -EINTR);
		assert_int_equal(hammer_pfs_status(p.s, 2, &now, &err), 0);
		if (now.sync_end_tid != before.sync_end_tid)
			fail_msg("cut after %" PRIu64 " records: sync_end_tid moved", cut);
		hammer_ino_t sr = pfs_root(p.s, 2);
		assert_int_equal(hammer_lookup(p.s, sr, L("fresh"), &a), -ENOENT);
		assert_int_equal(hammer_lookup(p.s, sr, L("small"), &a), 0);
		assert_int_equal(a.size, 100);
		struct hammer_fscheck_report rep;
		assert_int_equal(hammer_check(p.s, 0, &rep, &err), 0);
		if (rep.errors)
			fail_msg("cut after %" PRIu64 " records: checker: %s %s", cut,
				 hammer_fscheck_code_name(rep.findings[0].code),
				 rep.findings[0].msg);
		hammer_fscheck_report_free(&rep);
	}
	assert_true(cut > 20);
	compare(&p, "after cuts at every record");
	teardown_pair(&p);
}

/* Deletions the source removed physically (no history) reach the slave. */
static void test_nohistory_source(void **state)
{
	(void)state;
	struct pair p;
	struct batch_stats st;
	setup_pair(&p);
	hammer_ino_t r = pfs_root(p.m, 1);
	populate(p.m, r, 50);
	assert_int_equal(hammer_sync(p.m), 0);
	assert_int_equal(mirror(p.m, 1, p.s, 2, 0, 512 * 1024, 0, &st), 0);
	/* remount the master without history, delete and rewrite */
	assert_int_equal(hammer_unmount(p.m), 0);
	struct hammer_mount_opts o;
	hammer_mount_opts_init(&o);
	o.nohistory = 1;
	o.cache_bytes = 8 << 20;
	o.clock = test_clock;
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_mount(img[0], &o, &p.m, &err), 0);
	r = pfs_root(p.m, 1);
	struct hammer_attr a;
	assert_int_equal(hammer_lookup(p.m, r, L("d1"), &a), 0);
	hammer_ino_t d1 = a.ino;
	assert_int_equal(hammer_lookup(p.m, d1, L("d2"), &a), 0);
	for (int i = 0; i < 50; i += 2) {
		char n[32];
		snprintf(n, sizeof(n), "f%05d", i);
		assert_int_equal(hammer_unlink(p.m, a.ino, L(n)), 0);
	}
	put_file(p.m, r, "small", 10);
	assert_int_equal(hammer_sync(p.m), 0);
	assert_int_equal(mirror(p.m, 1, p.s, 2, 0, 512 * 1024, 0, &st), 0);
	assert_true(st.deleted > 0);
	compare(&p, "after physical deletions");
	teardown_pair(&p);
}

/* Hostile batches: refused, the slave unchanged. */
static void test_refusals(void **state)
{
	(void)state;
	struct pair p;
	struct batch_stats st;
	struct hammer_err err = { 0 };
	setup_pair(&p);
	hammer_ino_t r = pfs_root(p.m, 1);
	populate(p.m, r, 20);
	assert_int_equal(hammer_sync(p.m), 0);
	/* a master as target; a slave of another shared-uuid */
	make_pfs(p.s, 3, 0, SHARED);
	assert_int_equal(mirror(p.m, 1, p.s, 3, 0, 512 * 1024, 0, &st), -EINVAL);
	make_pfs(p.s, 4, 1, "00000000-0000-0000-0000-000000000001");
	assert_int_equal(mirror(p.m, 1, p.s, 4, 0, 512 * 1024, 0, &st), -EINVAL);
	/* PFS #0 and a missing PFS */
	struct hammer_pseudofs_data spd;
	struct hammer_mirror_apply w;
	assert_int_equal(hammer_pfs_status(p.m, 1, &spd, &err), 0);
	assert_int_equal(hammer_mirror_write_begin(p.s, 0, &spd, &w, &err), -EINVAL);
	assert_int_equal(hammer_mirror_write_begin(p.s, 9, &spd, &w, &err), -ENOENT);
	/* a gap: the batch starts after the slave's sync_end_tid + 1 */
	spd.sync_beg_tid = 100;
	assert_int_equal(hammer_mirror_write_begin(p.s, 2, &spd, &w, &err), -ERANGE);
	/* a first good batch */
	assert_int_equal(mirror(p.m, 1, p.s, 2, 0, 512 * 1024, 0, &st), 0);
	/* an old stream (ends before the slave's sync_end_tid) */
	assert_int_equal(hammer_pfs_status(p.m, 1, &spd, &err), 0);
	spd.sync_beg_tid = 1;
	spd.sync_end_tid = 5;
	assert_int_equal(hammer_mirror_write_begin(p.s, 2, &spd, &w, &err), -ERANGE);

	/* bad records inside a good batch */
	put_file(p.m, r, "more", 5000);
	assert_int_equal(hammer_sync(p.m), 0);
	struct hammer_pseudofs_data mpd, sbefore, safter;
	assert_int_equal(hammer_pfs_status(p.m, 1, &mpd, &err), 0);
	assert_int_equal(hammer_pfs_status(p.s, 2, &sbefore, &err), 0);
	mpd.sync_beg_tid = sbefore.sync_end_tid + 1;
	struct hammer_mirror_scan s;
	hammer_mirror_scan_init(&s, 1, mpd.sync_beg_tid, mpd.sync_end_tid, 0);
	uint8_t *buf = malloc(1 << 20);
	size_t len;
	assert_int_equal(hammer_mirror_read(p.m, &s, buf, 1 << 20, &len, &err), 0);
	assert_true(s.done);
	/* find a REC with data */
	struct hammer_mrec recs[4096];
	size_t nrec = 0, off = 0;
	while (off < len && nrec < 4096) {
		int n = hammer_mrec_get(buf + off, len - off, &recs[nrec], NULL, NULL, 0);
		assert_true(n > 0);
		nrec++;
		off += (size_t)n;
	}
	size_t withdata = nrec;
	for (size_t i = 0; i < nrec; i++)
		if (hammer_mrec_base_type(recs[i].type) == HAMMER_MREC_TYPE_REC &&
		    recs[i].data_len > 0 &&
		    recs[i].u.leaf.base.rec_type == HAMMER_RECTYPE_DATA)
			withdata = i;
	assert_true(withdata < nrec);
	for (int kind = 0; kind < 5; kind++) {
		assert_int_equal(hammer_mirror_write_begin(p.s, 2, &mpd, &w, &err), 0);
		int rc = 0;
		for (size_t i = 0; i < nrec && !rc; i++) {
			struct hammer_mrec x = recs[i];
			uint8_t copy[HAMMER_XBUFSIZE];
			if (i == withdata) {
				switch (kind) {
				case 0:	/* data that fails its CRC */
					memcpy(copy, x.data, x.data_len);
					copy[x.data_len / 2] ^= 0x40;
					x.data = copy;
					break;
				case 1:	/* created after the batch */
					x.u.leaf.base.create_tid = mpd.sync_end_tid + 5;
					break;
				case 2:	/* deleted before it was created */
					x.u.leaf.base.delete_tid = x.u.leaf.base.create_tid;
					break;
				case 3:	/* a record again: out of order */
					x = recs[0];
					break;
				case 4:	/* an impossible localization */
					x.u.leaf.base.localization |= 0x7;
					break;
				}
			}
			rc = hammer_mirror_write_rec(p.s, &w, &x, &err);
		}
		if (rc != -EINVAL)
			fail_msg("bad record kind %d: rc %d", kind, rc);
		assert_int_equal(hammer_pfs_status(p.s, 2, &safter, &err), 0);
		assert_true(safter.sync_end_tid == sbefore.sync_end_tid);
	}
	free(buf);
	/* the slave is still as it was; a clean batch still applies */
	remount(&p);
	assert_int_equal(mirror(p.m, 1, p.s, 2, 0, 512 * 1024, 0, &st), 0);
	compare(&p, "after refusals");
	teardown_pair(&p);
}

int main(void)
{
	const char *s = getenv("HAMMER_TEST_SEED");
	if (s)
		seed = strtoull(s, NULL, 0);
	if (!seed)
		seed = 1;
	print_message("seed %" PRIu64 "\n", seed);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_and_incremental),
		cmocka_unit_test(test_cut_batch),
		cmocka_unit_test(test_cut_everywhere),
		cmocka_unit_test(test_nohistory_source),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
