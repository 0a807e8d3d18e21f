/*
 * test_inspect.c - the inspection library (ref/inspect.c, ref/checkmap.c)
 * on small file systems made in RAM by newfs, corrupted by hand: bad node
 * CRC, bad data CRC, count out of range, child pointer loop, FIFO records
 * with bad signature/size/CRC, lying freemap.  Every problem must come
 * back as data naming its address; nothing may crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ref/checkmap.h"
#include "ref/crc.h"
#include "ref/inspect.h"
#include "ref/newfs.h"

#define IMG_SIZE (96ULL << 20)	/* layer1 + layer2 + UNDO + btree + meta fit */

struct fx {
	struct hammer_bdev *bd;
	struct hammer_volset *vs;
	uint8_t *raw;		/* the RAM device's bytes */
	struct hammer_newfs_result res;
	int64_t buf_beg;
};

/* file offset of a zone-2/8/9 address on volume 0 */
static uint64_t phys(const struct fx *f, hammer_off_t off)
{
	return (uint64_t)f->buf_beg + hammer_short_of(off);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct hammer_newfs_opts o;
	struct hammer_err err = { 0 };
	assert_non_null(f);
	assert_int_equal(hammer_bdev_ram_open(IMG_SIZE, "ram0", &f->bd), 0);
	hammer_newfs_opts_init(&o);
	o.label = "TEST";
	o.force = 1;
	o.undo_size = 8 << 20;
	o.ctime_us = 1795306471606999ULL;
	for (int i = 0; i < 16; i++)
		o.fsid.b[i] = (uint8_t)(0x11 * (i + 1));
	int rc = hammer_newfs_format(&f->bd, 1, &o, &f->res, &err);
	if (rc)
		fail_msg("newfs: %s", err.msg);
	f->raw = hammer_bdev_ram_data(f->bd);
	assert_int_equal(hammer_volset_open_bdevs(&f->bd, 1, HAMMER_VOLSET_RDONLY,
						  &f->vs, &err), 0);
	f->buf_beg = f->vs->vols[0]->hdr.vol_buf_beg;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	hammer_volset_close(f->vs);
	free(f);
	return 0;
}

/* Re-seal a node after editing it so only the intended fault remains. */
static void node_reseal(struct fx *f, hammer_off_t node)
{
	uint8_t *p = f->raw + phys(f, node);
	uint32_t c = hammer_crc32c(p + 4, HAMMER_BTREE_NODE_SIZE - 4);
	memcpy(p, &c, 4);	/* little-endian host: the tests run on x86 */
}

static int run_checkmap(struct fx *f, struct hammer_checkmap *cm)
{
	struct hammer_err err = { 0 };
	int rc = hammer_checkmap_run(cm, f->vs, &err);
	if (rc)
		fail_msg("checkmap could not run: %s", err.msg);
	return rc;
}

static const struct hammer_checkmap_finding *
find(const struct hammer_checkmap *cm, enum hammer_checkmap_code code)
{
	for (size_t i = 0; i < cm->nfindings; i++)
		if (cm->findings[i].code == code)
			return &cm->findings[i];
	return NULL;
}

/* ------------------------------------------------------------ tests */
static void test_clean_image(void **state)
{
	struct fx *f = *state;
	struct hammer_checkmap cm;
	run_checkmap(f, &cm);
	for (size_t i = 0; i < cm.nfindings; i++)
		print_message("unexpected finding: %s\n", cm.findings[i].msg);
	assert_int_equal(cm.nfindings, 0);
	assert_int_equal(cm.bad_nodes, 0);
	/* layer1, layer2, UNDO, btree, meta */
	assert_int_equal(cm.nblocks, 5);
	assert_int_equal(cm.fifo_records, (8 << 20) / 512);
	hammer_checkmap_free(&cm);

	struct hammer_rdcache c;
	struct hammer_node_ondisk n;
	enum hammer_crc_match m;
	hammer_rdcache_init(&c);
	assert_int_equal(hammer_inspect_node_read(f->vs, &c, f->res.btree_root, &n,
						  &m, NULL), 0);
	assert_int_equal(m, HAMMER_CRC_ISCSI);
	assert_int_equal(n.count, 2);
	assert_int_equal(n.type, HAMMER_BTREE_TYPE_LEAF);
	const char *which;
	void *data;
	assert_null(hammer_inspect_leaf_data(f->vs, &c, &n.elms[0].leaf, &which,
					     &data, 0, NULL));
	assert_string_equal(which, "i");
	free(data);
}

static void test_bad_node_crc(void **state)
{
	struct fx *f = *state;
	f->raw[phys(f, f->res.btree_root) + 100] ^= 0x04;
	struct hammer_rdcache c;
	struct hammer_node_ondisk n;
	enum hammer_crc_match m;
	hammer_rdcache_init(&c);
	assert_int_equal(hammer_inspect_node_read(f->vs, &c, f->res.btree_root, &n,
						  &m, NULL), 0);
	assert_int_equal(m, HAMMER_CRC_BAD);

	struct hammer_checkmap cm;
	run_checkmap(f, &cm);
	const struct hammer_checkmap_finding *fd = find(&cm, HAMMER_CM_NODE);
	assert_non_null(fd);
	assert_int_equal(fd->addr, f->res.btree_root);
	assert_non_null(strstr(fd->msg, "CRC mismatch"));
	assert_non_null(strstr(fd->msg, "8000000001"));
	assert_int_equal(cm.bad_nodes, 1);
	hammer_checkmap_free(&cm);
}

static void test_bad_data_crc(void **state)
{
	struct fx *f = *state;
	f->raw[phys(f, f->res.pfs_data) + 90] ^= 0x20;	/* PFS label */
	struct hammer_rdcache c;
	struct hammer_node_ondisk n;
	enum hammer_crc_match m;
	struct hammer_err err = { 0 };
	const char *which;
	hammer_rdcache_init(&c);
	assert_int_equal(hammer_inspect_node_read(f->vs, &c, f->res.btree_root, &n,
						  &m, NULL), 0);
	const char *p = hammer_inspect_leaf_data(f->vs, &c, &n.elms[1].leaf, &which,
						 NULL, 0, &err);
	assert_non_null(p);
	assert_string_equal(p, "BX");
	assert_int_equal(err.code, -EUCLEAN);
	assert_int_equal(err.off, f->res.pfs_data);

	/* a data length beyond any record, and an inode of the wrong size */
	struct hammer_btree_leaf_elm lf = n.elms[1].leaf;
	lf.data_len = 1 << 30;
	assert_string_equal(hammer_inspect_leaf_data(f->vs, &c, &lf, &which, NULL,
						     0, NULL), "BL");
	lf = n.elms[0].leaf;
	lf.data_len = 127;
	assert_string_equal(hammer_inspect_leaf_data(f->vs, &c, &lf, &which, NULL,
						     0, NULL), "BI");
	lf.data_offset = 0;
	assert_string_equal(hammer_inspect_leaf_data(f->vs, &c, &lf, &which, NULL,
						     0, NULL), "ZO");
	lf = n.elms[0].leaf;
	lf.data_offset = 0x9000000fffff0000ULL;	/* beyond the volume */
	assert_string_equal(hammer_inspect_leaf_data(f->vs, &c, &lf, &which, NULL,
						     0, NULL), "BO");
}

static void test_keys_out_of_order_cmp(void **state)
{
	(void)state;
	struct hammer_base_elm a = { 0 }, b = { 0 };
	a.localization = 1;
	b.localization = 2;
	assert_true(hammer_btree_cmp(&a, &b) < 0);
	b.localization = 1;
	a.obj_id = -1;
	b.obj_id = 1;	/* obj_id is signed */
	assert_true(hammer_btree_cmp(&a, &b) < 0);
	a.obj_id = b.obj_id;
	a.create_tid = 0;	/* 0 sorts last */
	b.create_tid = 5;
	assert_true(hammer_btree_cmp(&a, &b) > 0);
	b.create_tid = 0;
	assert_int_equal(hammer_btree_cmp(&a, &b), 0);
}

static void test_count_out_of_range(void **state)
{
	struct fx *f = *state;
	uint8_t *p = f->raw + phys(f, f->res.btree_root);
	int32_t cnt = 300;
	memcpy(p + offsetof(struct hammer_node_ondisk, count), &cnt, 4);
	node_reseal(f, f->res.btree_root);
	struct hammer_checkmap cm;
	run_checkmap(f, &cm);
	const struct hammer_checkmap_finding *fd = find(&cm, HAMMER_CM_NODE);
	assert_non_null(fd);
	assert_int_equal(fd->badm, 'C');
	assert_int_equal(fd->count, 300);
	assert_non_null(strstr(fd->msg, "count out of range"));
	hammer_checkmap_free(&cm);
}

/* Turn the root into an internal node whose only child is itself. */
static void test_child_pointer_loop(void **state)
{
	struct fx *f = *state;
	hammer_off_t root = f->res.btree_root;
	uint8_t *p = f->raw + phys(f, root);
	struct hammer_node_ondisk n;
	memcpy(&n, p, sizeof(n));
	n.type = HAMMER_BTREE_TYPE_INTERNAL;
	n.count = 1;
	memset(n.elms, 0, sizeof(n.elms));
	n.elms[0].base.btype = HAMMER_BTREE_TYPE_INTERNAL;
	n.elms[0].internal.subtree_offset = root;
	n.elms[1].base.localization = 0xFFFFFFFFU;
	memcpy(p, &n, sizeof(n));
	node_reseal(f, root);

	struct hammer_checkmap cm;
	run_checkmap(f, &cm);
	const struct hammer_checkmap_finding *fd = find(&cm, HAMMER_CM_NODE);
	assert_non_null(fd);
	assert_int_equal(fd->badm, 'L');
	assert_int_equal(fd->addr, root);
	assert_non_null(strstr(fd->msg, "loop"));
	hammer_checkmap_free(&cm);
}

static void fifo_rec(uint8_t *r, uint16_t type, uint32_t size, uint32_t seq)
{
	memset(r, 0, size);
	struct hammer_fifo_head h = { HAMMER_HEAD_SIGNATURE, type, size, seq, 0 };
	struct hammer_fifo_tail t = { HAMMER_TAIL_SIGNATURE, type, size };
	memcpy(r, &h, sizeof(h));
	memcpy(r + size - sizeof(t), &t, sizeof(t));
	h.hdr_crc = hammer_datacrc2(7, r, 12, r + 16, size - 16);
	memcpy(r, &h, sizeof(h));
}

static void test_fifo_records(void **state)
{
	(void)state;
	uint8_t r[512];
	struct hammer_fifo_rec out;
	struct hammer_err err = { 0 };
	hammer_off_t off = 0x3000000000000200ULL;

	fifo_rec(r, HAMMER_HEAD_TYPE_DUMMY, 512, 7);
	assert_int_equal(hammer_fifo_rec_check(7, off, r, 512, &out, &err), 0);
	assert_int_equal(out.head.hdr_seq, 7);

	r[0] ^= 1;	/* signature */
	assert_int_equal(hammer_fifo_rec_check(7, off, r, 512, &out, &err), -EUCLEAN);
	assert_true(out.bad & HAMMER_FIFO_BAD_SIG);
	assert_int_equal(err.off, off);
	assert_non_null(strstr(err.msg, "3000000000000200"));

	fifo_rec(r, HAMMER_HEAD_TYPE_DUMMY, 512, 7);
	r[100] ^= 1;	/* body: CRC */
	memset(&err, 0, sizeof(err));
	assert_int_equal(hammer_fifo_rec_check(7, off, r, 512, &out, &err), -EUCLEAN);
	assert_int_equal(out.bad, HAMMER_FIFO_BAD_CRC);
	assert_true(out.size_ok);

	fifo_rec(r, HAMMER_HEAD_TYPE_DUMMY, 512, 7);
	assert_int_equal(hammer_fifo_rec_check(7, off, r, 256, &out, NULL), -EUCLEAN);
	assert_true(out.bad & HAMMER_FIFO_BAD_SIZE);	/* crosses the boundary */
	assert_false(out.size_ok);

	fifo_rec(r, HAMMER_HEAD_TYPE_DUMMY, 512, 7);
	r[4] = 13;	/* size not a multiple of 8 */
	assert_int_equal(hammer_fifo_rec_check(7, off, r, 512, &out, NULL), -EUCLEAN);
	assert_false(out.size_ok);

	fifo_rec(r, HAMMER_HEAD_TYPE_DUMMY, 512, 7);
	r[511] ^= 1;	/* tail size */
	assert_int_equal(hammer_fifo_rec_check(7, off, r, 512, &out, NULL), -EUCLEAN);
	assert_true(out.bad & HAMMER_FIFO_BAD_TAIL);

	/* UNDO claiming more payload than it holds */
	fifo_rec(r, HAMMER_HEAD_TYPE_UNDO, 64, 9);
	int32_t big = 400;
	memcpy(r + 24, &big, 4);
	struct hammer_fifo_head h;
	memcpy(&h, r, sizeof(h));
	h.hdr_crc = hammer_datacrc2(7, r, 12, r + 16, 64 - 16);
	memcpy(r, &h, sizeof(h));
	assert_int_equal(hammer_fifo_rec_check(7, off, r, 512, &out, NULL), -EUCLEAN);
	assert_int_equal(out.bad, HAMMER_FIFO_BAD_PAYLOAD);

	/* an 8-byte PAD has no tail of its own and no CRC */
	memset(r, 0, 8);
	struct hammer_fifo_head pad = { HAMMER_HEAD_SIGNATURE, HAMMER_HEAD_TYPE_PAD, 8, 0, 0 };
	memcpy(r, &pad, 8);
	assert_int_equal(hammer_fifo_rec_check(7, off, r, 8, &out, NULL), 0);
	/* legacy CRC accepted at v6, CRC-32C not */
	fifo_rec(r, HAMMER_HEAD_TYPE_DUMMY, 512, 1);
	assert_int_equal(hammer_fifo_rec_check(6, off, r, 512, &out, NULL), -EUCLEAN);
}

static void test_fifo_corruption_in_checkmap(void **state)
{
	struct fx *f = *state;
	hammer_off_t undo0 = hammer_volset_root(f->vs)->vol0_undo_array[0];
	f->raw[phys(f, undo0) + 3 * 512 + 8] ^= 1;	/* seq of record 3 */
	struct hammer_checkmap cm;
	run_checkmap(f, &cm);
	const struct hammer_checkmap_finding *fd = find(&cm, HAMMER_CM_FIFO);
	assert_non_null(fd);
	assert_int_equal(fd->addr, 0x3000000000000600ULL);
	assert_non_null(strstr(fd->msg, "CRC mismatch"));
	assert_int_equal(cm.errors, 1);
	hammer_checkmap_free(&cm);
}

/* A layer-2 entry whose CRC is right but whose bytes_free lies. */
static void test_freemap_lie(void **state)
{
	struct fx *f = *state;
	struct hammer_rdcache c;
	struct hammer_blockmap_layer1 l1;
	struct hammer_blockmap_layer2 l2;
	hammer_off_t res;
	hammer_rdcache_init(&c);
	assert_int_equal(hammer_inspect_lookup(f->vs, &c, f->res.btree_root, &l1, &l2,
					       &res, NULL), HAMMER_LOOKUP_OK);
	hammer_off_t l2addr = l1.phys_offset + hammer_layer2_offset(res);
	uint8_t *p = f->raw + phys(f, l2addr);
	l2.bytes_free -= 4096;
	memcpy(p, &l2, sizeof(l2));
	uint32_t crc = hammer_crc32c(p, HAMMER_LAYER2_CRCSIZE);
	memcpy(p + 12, &crc, 4);

	struct hammer_checkmap cm;
	run_checkmap(f, &cm);
	const struct hammer_checkmap_finding *fd = find(&cm, HAMMER_CM_FREE);
	assert_non_null(fd);
	assert_int_equal(fd->calc, HAMMER_BIGBLOCK_SIZE - 4096);
	assert_int_equal(fd->got, HAMMER_BIGBLOCK_SIZE - 8192);
	assert_int_equal(fd->addr, res & ~HAMMER_BIGBLOCK_MASK64);
	hammer_checkmap_free(&cm);

	/* and a layer-1 whose blocks_free lies, CRC resealed */
	hammer_off_t fm = hammer_volset_root(f->vs)->vol0_blockmap[4].phys_offset;
	uint8_t *q = f->raw + phys(f, fm);
	int64_t bf;
	memcpy(&bf, q, 8);
	bf += 3;
	memcpy(q, &bf, 8);
	crc = hammer_crc32c(q, HAMMER_LAYER1_CRCSIZE);
	memcpy(q + 28, &crc, 4);
	run_checkmap(f, &cm);
	fd = find(&cm, HAMMER_CM_L1FREE);
	assert_non_null(fd);
	assert_int_equal(fd->got - fd->calc, 3);
	hammer_checkmap_free(&cm);
}

static void test_lookup_errors(void **state)
{
	struct fx *f = *state;
	struct hammer_rdcache c;
	struct hammer_blockmap_layer1 l1;
	struct hammer_blockmap_layer2 l2;
	hammer_off_t res;
	struct hammer_err err = { 0 };
	hammer_rdcache_init(&c);
	assert_int_equal(hammer_inspect_lookup(f->vs, &c, 0x1000000000000000ULL, &l1,
					       &l2, &res, &err), HAMMER_LOOKUP_BADZONE);
	assert_int_equal(hammer_inspect_lookup(f->vs, &c, 0x8050000000000000ULL, &l1,
					       &l2, &res, NULL), HAMMER_LOOKUP_NOVOL);
	assert_int_equal(hammer_inspect_lookup(f->vs, &c, 0x3000000080000000ULL, &l1,
					       &l2, &res, NULL), HAMMER_LOOKUP_UNDO);
	/* corrupt layer-1 entry 0 */
	hammer_off_t fm = hammer_volset_root(f->vs)->vol0_blockmap[4].phys_offset;
	f->raw[phys(f, fm) + 9] ^= 0x10;
	assert_int_equal(hammer_inspect_lookup(f->vs, &c, f->res.btree_root, &l1, &l2,
					       &res, &err), HAMMER_LOOKUP_L1_CRC);
}

static void test_node_address_checks(void **state)
{
	struct fx *f = *state;
	struct hammer_rdcache c;
	struct hammer_node_ondisk n;
	enum hammer_crc_match m;
	struct hammer_err err = { 0 };
	hammer_rdcache_init(&c);
	assert_int_equal(hammer_inspect_node_read(f->vs, &c, f->res.btree_root + 8,
						  &n, &m, &err), -EUCLEAN);
	assert_non_null(strstr(err.msg, "aligned"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(hammer_inspect_node_read(f->vs, &c, 0x80000fffffff0000ULL,
						  &n, &m, &err), -EUCLEAN);
	assert_non_null(strstr(err.msg, "beyond"));
}

static void test_u64map_and_stats(void **state)
{
	(void)state;
	struct hammer_u64map m;
	hammer_u64map_init(&m);
	/* seeded sequence: 0x9E3779B97F4A7C15 multiples, with repeats */
	for (uint64_t i = 0; i < 5000; i++) {
		int isnew;
		uint64_t *v = hammer_u64map_get(&m, (i % 1000) * 0x9E3779B97F4A7C15ULL, &isnew);
		assert_non_null(v);
		assert_int_equal(isnew, i < 1000);
		(*v)++;
	}
	assert_int_equal(m.count, 1000);
	assert_true(hammer_u64map_has(&m, 7 * 0x9E3779B97F4A7C15ULL));
	assert_false(hammer_u64map_has(&m, 1));
	hammer_u64map_free(&m);

	struct hammer_zone_stats s;
	hammer_zone_stats_init(&s);
	/* the same big-block under two zone aliases counts once */
	assert_int_equal(hammer_zone_stats_add(&s, 0x8000000001800000ULL, 4096), 0);
	assert_int_equal(hammer_zone_stats_add(&s, 0x9000000001800100ULL, 128), 0);
	assert_int_equal(hammer_zone_stats_add(&s, 0x9000000002000000ULL, 292), 0);
	assert_int_equal(s.z[8].blocks, 1);
	assert_int_equal(s.z[9].blocks, 1);
	assert_int_equal(s.z[9].items, 2);
	assert_int_equal(s.z[9].used, 420);
	hammer_zone_stats_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_node_crc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_data_crc, setup, teardown),
		cmocka_unit_test(test_keys_out_of_order_cmp),
		cmocka_unit_test_setup_teardown(test_count_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_pointer_loop, setup, teardown),
		cmocka_unit_test(test_fifo_records),
		cmocka_unit_test_setup_teardown(test_fifo_corruption_in_checkmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freemap_lie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_address_checks, setup, teardown),
		cmocka_unit_test(test_u64map_and_stats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
