/*
 * test_btree_disk.c - the B-tree on a real image: newfs, then the tree
 * through the buffer cache and the blockmap allocator (btree_bufio), a
 * flush, a reopen, and both checkers (B-tree and checkmap) must be clean
 * and every record must read back as the model says.
 *
 * Seeded; a failure prints the seed and the operation index.
 * HAMMER_TEST_SCALE (default 1) multiplies the operation count.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ref/blockmap.h"
#include "ref/btree.h"
#include "ref/btree_bufio.h"
#include "ref/buffer.h"
#include "ref/checkmap.h"
#include "ref/newfs.h"
#include "ref/volume.h"

static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct rec {
	struct hammer_base_elm k;
	int live;	/* present in the tree */
	hammer_tid_t del;
};

static char img[256];

static void make_image(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(img, sizeof(img), "%s/btree-disk-XXXXXX", tmp);
	int fd = mkstemp(img);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1LL << 30), 0);
	close(fd);
	struct hammer_bdev *bd;
	assert_int_equal(hammer_bdev_file_open(img, 0, &bd, NULL), 0);
	struct hammer_newfs_opts o;
	hammer_newfs_opts_init(&o);
	o.label = "BTDISK";
	o.force = 1;
	o.undo_size = 8 << 20;
	assert_int_equal(hammer_uuid_parse("a381fb52-b407-dc4f-b4be-5c83274d03cb",
					   &o.fsid), 0);
	o.ctime_us = 1795306471606999ULL;
	struct hammer_newfs_result res;
	struct hammer_err err = { 0 };
	int rc = hammer_newfs_format(&bd, 1, &o, &res, &err);
	if (rc)
		fail_msg("newfs: %s", err.msg);
	hammer_bdev_close(bd);
}

struct stack {
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	struct hammer_bmap *bm;
	struct hammer_btree_bufio *bio;
	struct hammer_node_io io;
	struct hammer_btree t;
};

static void stack_open(struct stack *s, int rdonly)
{
	struct hammer_err err = { 0 };
	memset(s, 0, sizeof(*s));
	int rc = hammer_volset_open(img, rdonly ? HAMMER_VOLSET_RDONLY : 0, &s->vs, &err);
	if (rc)
		fail_msg("open %s: %s", img, err.msg);
	assert_int_equal(hammer_bufcache_open(s->vs, 4 << 20, &s->bc), 0);
	rc = hammer_blockmap_open(s->vs, s->bc, &s->bm, &err);
	if (rc)
		fail_msg("blockmap: %s", err.msg);
	assert_int_equal(hammer_btree_bufio_open(s->vs, s->bc, s->bm, &s->bio, &s->io), 0);
	hammer_btree_open(&s->t, &s->io, hammer_volset_root(s->vs)->vol0_btree_root);
}

static void stack_flush(struct stack *s, hammer_tid_t next_tid)
{
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_btree_bufio_pinned(s->bio), 0);
	hammer_blockmap_store(s->bm);
	struct hammer_volume_ondisk *root = hammer_volset_root(s->vs);
	if (root->vol0_next_tid < next_tid)
		root->vol0_next_tid = next_tid;
	root->vol0_btree_root = s->t.root;
	int rc = hammer_bufcache_flush_kind(s->bc, HAMMER_BUF_META, &err);
	if (!rc)
		rc = hammer_volset_write_header(s->vs, 0, &err);
	if (!rc)
		rc = hammer_volset_flush(s->vs);
	if (rc)
		fail_msg("flush: %s", err.msg);
}

static void stack_close(struct stack *s)
{
	hammer_btree_bufio_close(s->bio);
	hammer_blockmap_close(s->bm);
	hammer_bufcache_close(s->bc);
	hammer_volset_close(s->vs);
}

static int cmp_rec(const void *a, const void *b)
{
	return hammer_btree_cmp(&((const struct rec *)a)->k, &((const struct rec *)b)->k);
}

static void run(uint64_t seed, int nops)
{
	rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	make_image();
	struct stack s;
	stack_open(&s, 0);
	struct hammer_err err = { 0 };
	struct rec *m = calloc((size_t)nops, sizeof(*m));
	int n = 0;
	hammer_tid_t tid = 0x100000002ULL;
	for (int i = 0; i < nops; i++) {
		uint64_t r = rnd() % 100;
		if (r < 80 || n == 0) {
			struct hammer_btree_leaf_elm e = { 0 };
			e.base.localization = HAMMER_LOCALIZE_MISC;
			e.base.obj_id = (int64_t)(rnd() % 500) + 2;
			e.base.rec_type = HAMMER_RECTYPE_DATA;
			/* half appends (ascending keys), half random */
			e.base.key = (i & 1) ? (int64_t)(i + 1) * 16384
					     : (int64_t)(rnd() >> 20);
			e.base.create_tid = tid;
			e.base.obj_type = HAMMER_OBJTYPE_REGFILE;
			int rc = hammer_btree_insert(&s.t, &e, &err);
			if (rc == -EEXIST)
				continue;
			if (rc)
				fail_msg("seed %llu op %d insert: %d %s",
					 (unsigned long long)seed, i, rc, err.msg);
			m[n].k = e.base;
			m[n].live = 1;
			n++;
		} else if (r < 90) {
			struct rec *x = &m[rnd() % (uint64_t)n];
			if (!x->live)
				continue;
			int rc = hammer_btree_delete(&s.t, &x->k, &err);
			if (rc)
				fail_msg("seed %llu op %d delete: %d %s",
					 (unsigned long long)seed, i, rc, err.msg);
			x->live = 0;
		} else {
			struct rec *x = &m[rnd() % (uint64_t)n];
			if (!x->live || x->del)
				continue;
			tid++;
			int rc = hammer_btree_mark_deleted(&s.t, &x->k, tid, 1795306471, &err);
			if (rc)
				fail_msg("seed %llu op %d mark: %d %s",
					 (unsigned long long)seed, i, rc, err.msg);
			x->del = tid;
		}
		if (i % 1000 == 999)
			tid++;
		if (i % 5000 == 4999)
			stack_flush(&s, tid + 1);	/* several flush cycles */
	}
	stack_flush(&s, tid + 1);
	stack_close(&s);

	/* reopen read-only: both checkers clean, contents as the model says */
	stack_open(&s, 1);
	struct hammer_btree_check chk;
	assert_int_equal(hammer_btree_check(&s.t, &chk), 0);
	for (size_t i = 0; i < chk.count; i++)
		if (chk.findings[i].severity == HAMMER_CHK_ERROR)
			fail_msg("seed %llu: checker: %s at %016llx: %s",
				 (unsigned long long)seed,
				 hammer_chk_code_name(chk.findings[i].code),
				 (unsigned long long)chk.findings[i].node,
				 chk.findings[i].msg);
	assert_int_equal(chk.errors, 0);
	int live = 0;
	for (int i = 0; i < n; i++)
		live += m[i].live;
	/* two newfs records (root inode, PFS) plus ours */
	assert_int_equal(chk.records, (uint64_t)live + 2);
	print_message("seed %llu: %d records, depth %d, %llu nodes\n",
		      (unsigned long long)seed, live, chk.depth,
		      (unsigned long long)chk.nodes);
	hammer_btree_check_free(&chk);

	qsort(m, (size_t)n, sizeof(*m), cmp_rec);
	struct hammer_cursor c;
	hammer_cursor_init(&c, &s.t, &err);
	memset(&c.key_beg, 0, sizeof(c.key_beg));
	c.key_beg.localization = HAMMER_LOCALIZE_MISC;
	c.key_beg.obj_id = HAMMER_MIN_OBJID;
	c.key_beg.key = HAMMER_MIN_KEY;
	c.key_beg.create_tid = 1;
	c.key_end = c.key_beg;
	c.key_end.localization = HAMMER_LOCALIZE_MISC + 1;
	c.flags = 0;
	int idx = 0, rc = hammer_btree_first(&c);
	while (rc == 0) {
		const struct hammer_btree_leaf_elm *l = hammer_cursor_leaf(&c);
		if (l->base.rec_type == HAMMER_RECTYPE_DATA) {
			while (idx < n && !m[idx].live)
				idx++;
			assert_true(idx < n);
			if (hammer_btree_cmp(&l->base, &m[idx].k) != 0)
				fail_msg("seed %llu: scan order differs at record %d",
					 (unsigned long long)seed, idx);
			assert_true(l->base.delete_tid == m[idx].del);
			idx++;
		}
		rc = hammer_btree_next(&c);
	}
	assert_int_equal(rc, -ENOENT);
	hammer_cursor_done(&c);
	while (idx < n && !m[idx].live)
		idx++;
	assert_int_equal(idx, n);
	stack_close(&s);

	/* checkmap: the freemap accounts exactly for the nodes the tree uses */
	struct hammer_volset *vs;
	assert_int_equal(hammer_volset_open(img, HAMMER_VOLSET_RDONLY, &vs, &err), 0);
	struct hammer_checkmap cm;
	rc = hammer_checkmap_run(&cm, vs, &err);
	if (rc)
		fail_msg("checkmap: %s", err.msg);
	for (size_t i = 0; i < cm.nfindings; i++)
		print_message("checkmap finding %s: %s\n",
			      hammer_checkmap_code_tag(cm.findings[i].code),
			      cm.findings[i].msg);
	assert_int_equal(cm.errors, 0);
	assert_int_equal(cm.bad_nodes, 0);
	hammer_checkmap_free(&cm);
	hammer_volset_close(vs);
	free(m);
	unlink(img);
}

static int scale(void)
{
	const char *s = getenv("HAMMER_TEST_SCALE");
	int v = s ? atoi(s) : 1;
	return v > 0 ? v : 1;
}

static void small(void **state)
{
	(void)state;
	run(1, 200);
}

static void many(void **state)
{
	(void)state;
	for (uint64_t seed = 2; seed < 4; seed++)
		run(seed, 12000 * scale());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(small),
		cmocka_unit_test(many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
