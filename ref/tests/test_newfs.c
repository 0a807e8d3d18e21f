/*
 * test_newfs.c - newfs on RAM and file devices, read back through the
 * volume-set layer and checked against the layout rules of hammer-format.md
 * section 2.6: every header field, every blockmap/freemap entry and CRC,
 * the zone-15 tail, every UNDO DUMMY record, the root node and its data,
 * and the statistics (recounted from the layer-2 entries).  Refusals are
 * checked for their errno and message.
 *
 * Randomised cases use a seeded PRNG and print "seed N case K" on failure;
 * rerun one with TEST_NEWFS_SEED=N.
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

#include "ref/crc.h"
#include "ref/newfs.h"
#include "ref/volume.h"

#define MB (1024ULL * 1024)
#define BBSZ ((uint64_t)HAMMER_BIGBLOCK_SIZE)
#define L2N ((uint64_t)HAMMER_BLOCKMAP_LAYER2)

static const char *ctx = "";	/* printed with every failure */
#define CHECK(c) do { if (!(c)) { print_message("FAILED %s: %s (%s:%d)\n", \
	ctx, #c, __FILE__, __LINE__); fail(); } } while (0)

static const hammer_uuid_t fsid1 = { { 0x52, 0xfb, 0x81, 0xa3, 0x07, 0xb4, 0x4f, 0xdc,
				       0xb4, 0xbe, 0x5c, 0x83, 0x27, 0x4d, 0x03, 0xcb } };
static const hammer_uuid_t pfs1 = { { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } };

/* ------------------------------------------------------------ helpers */
static struct hammer_bdev *ram(uint64_t size, const char *name)
{
	struct hammer_bdev *bd;
	assert_int_equal(hammer_bdev_ram_open(size, name, &bd), 0);
	return bd;
}

static void base_opts(struct hammer_newfs_opts *o)
{
	hammer_newfs_opts_init(o);
	o->label = "TEST";
	o->force = 1;
	o->undo_size = 8 * MB;
	o->fsid = fsid1;
	o->ctime_us = 1795306471606999ULL;
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* What the layout must look like, derived from the sizes alone. */
struct model {
	int n;
	unsigned ver;
	int64_t boot, memlog, buf_beg;
	uint64_t undo_bbs;
	uint64_t nbb[HAMMER_MAX_VOLUMES], nl2[HAMMER_MAX_VOLUMES];
	uint64_t boot_end[HAMMER_MAX_VOLUMES];
	int64_t buf_end[HAMMER_MAX_VOLUMES];
};

static void model_make(struct model *m, struct hammer_bdev **bds, int n,
		       const struct hammer_newfs_opts *o)
{
	memset(m, 0, sizeof(*m));
	m->n = n;
	m->ver = o->version ? o->version : 7;
	m->boot = o->boot_size < 0 ? 32768 : o->boot_size;
	m->memlog = o->memlog_size < 0 ? 262144 : o->memlog_size;
	m->buf_beg = 262144 + m->boot + m->memlog;
	for (int i = 0; i < n; i++) {
		m->buf_end[i] = (int64_t)(bds[i]->size & ~16383ULL);
		m->nbb[i] = (uint64_t)(m->buf_end[i] - m->buf_beg) / BBSZ;
		m->nl2[i] = (m->nbb[i] + L2N - 1) / L2N;
		m->boot_end[i] = m->nl2[i] + (i == 0);
	}
	/* default: 0.1% of volume 0, 64..128 big-blocks; given: rounded up */
	int64_t u = o->undo_size > 0 ? o->undo_size
				     : (m->buf_end[0] - m->buf_beg) / 1000;
	if (o->undo_size <= 0 && u < 64 * (int64_t)BBSZ)
		u = 64 * (int64_t)BBSZ;
	m->undo_bbs = ((uint64_t)u + BBSZ - 1) / BBSZ;
	if (m->undo_bbs > 128)
		m->undo_bbs = 128;
}

static void check_blockmap(const struct model *m, const uint8_t *raw, unsigned z,
			   hammer_off_t phys, hammer_off_t first,
			   hammer_off_t next, hammer_off_t alloc)
{
	const uint8_t *e = raw + 264 + 40 * z;
	struct hammer_blockmap b;
	memcpy(&b, e, sizeof(b));
	hammer_blockmap_swap(&b);
	CHECK(b.phys_offset == phys);
	CHECK(b.first_offset == first);
	CHECK(b.next_offset == next);
	CHECK(b.alloc_offset == alloc);
	CHECK(b.reserved01 == 0);
	CHECK(b.entry_crc == hammer_datacrc(m->ver, e, 36));
}

/* Verify volume i's header; returns the decoded header. */
static void check_header(const struct model *m, struct hammer_volset *vs, int i,
			 const struct hammer_newfs_opts *o,
			 const struct hammer_newfs_result *res,
			 struct hammer_volume_ondisk *h)
{
	uint8_t *raw = malloc(HAMMER_BUFSIZE);
	assert_non_null(raw);
	assert_int_equal(hammer_bdev_read(vs->vols[i]->bd, 0, raw, HAMMER_BUFSIZE), 0);
	memcpy(h, raw, sizeof(*h));
	hammer_volume_swap(h);
	CHECK(h->vol_signature == HAMMER_FSBUF_VOLUME);
	CHECK(h->vol_bot_beg == 262144);
	CHECK(h->vol_mem_beg == 262144 + m->boot);
	CHECK(h->vol_buf_beg == m->buf_beg);
	CHECK(h->vol_buf_end == m->buf_end[i]);
	CHECK(h->vol_reserved01 == 0);
	CHECK(!memcmp(&h->vol_fsid, &o->fsid, 16));
	CHECK(!memcmp(&h->vol_fstype, &hammer_fstype_uuid, 16));
	char label[64] = { 0 };
	snprintf(label, sizeof(label), "%s", o->label);
	CHECK(!memcmp(h->vol_label, label, 64));
	CHECK(h->vol_no == i);
	CHECK(h->vol_count == m->n);
	CHECK(h->vol_version == m->ver);
	CHECK(h->vol_crc == (hammer_datacrc(m->ver, raw, 156) ^
			     hammer_datacrc(m->ver, raw + 160, 1928 - 160)));
	CHECK(h->vol_crc == hammer_volume_crc(m->ver, raw));
	CHECK(h->vol_flags == 0);
	CHECK(h->vol_rootvol == 0);
	CHECK(all_zero(raw + 168, 32));
	CHECK(all_zero(raw + 1928, HAMMER_BUFSIZE - 1928));
	if (i != 0) {
		/* vol0_* fields exist everywhere but are zero off the root */
		CHECK(all_zero(raw + 200, 1928 - 200));
		free(raw);
		return;
	}
	CHECK(h->vol0_stat_inodes == 1);
	CHECK(h->vol0_reserved01 == 0 && h->vol0_reserved02 == 0 &&
	      h->vol0_reserved03 == 0);
	CHECK(h->vol0_next_tid == 0x100000000ULL);
	uint64_t btree_bb = m->boot_end[0] + m->undo_bbs;
	CHECK(h->vol0_btree_root == hammer_encode(8, 0, btree_bb * BBSZ));
	CHECK(res->btree_root == h->vol0_btree_root);
	for (unsigned z = 0; z < 16; z++) {
		if (z <= 2 || (z >= 5 && z <= 7))
			CHECK(all_zero(raw + 264 + 40 * z, 40));
	}
	check_blockmap(m, raw, 3, HAMMER_OFF_BAD, 0x3000000000000000ULL,
		       0x3000000000000000ULL,
		       0x3000000000000000ULL + m->undo_bbs * BBSZ);
	check_blockmap(m, raw, 4, 0x2000000000000000ULL, 0, 0x2000000000000000ULL,
		       0x2FFFFFFFFFFFFFFFULL);
	for (unsigned z = 8; z < 16; z++) {
		hammer_off_t base = (hammer_off_t)z << 60, next = base;
		if (z == 8)
			next = hammer_encode(8, 0, btree_bb * BBSZ + 4096);
		if (z == 9)
			next = hammer_encode(9, 0, (btree_bb + 1) * BBSZ + 432);
		check_blockmap(m, raw, z, 0, base, next, base | 0x0FFFFFFFFFFFFFFFULL);
	}
	for (uint64_t k = 0; k < 128; k++)
		CHECK(h->vol0_undo_array[k] == (k < m->undo_bbs
			? hammer_encode(2, 0, (m->boot_end[0] + k) * BBSZ)
			: HAMMER_OFF_BAD));
	free(raw);
}

static void expect_l2(const struct model *m, int v, uint64_t bb, unsigned *zone,
		      uint32_t *app, int32_t *freeb)
{
	const int32_t full = (int32_t)BBSZ;
	uint64_t btree_bb = m->boot_end[0] + m->undo_bbs;
	*zone = 0; *app = 0; *freeb = full;
	if (bb < m->boot_end[v]) {
		*zone = 4; *app = (uint32_t)full; *freeb = 0;
	} else if (v == 0 && bb < btree_bb) {
		*zone = 3; *app = (uint32_t)full; *freeb = 0;
	} else if (v == 0 && bb == btree_bb) {
		*zone = 8; *app = 4096; *freeb = full - 4096;
	} else if (v == 0 && bb == btree_bb + 1) {
		*zone = 9; *app = 432; *freeb = full - 432;
	} else if (bb >= m->nbb[v]) {
		*zone = 15; *app = (uint32_t)full; *freeb = 0;
	}
}

/* Layer 1 and every layer-2 entry; returns the zone-0 count. */
static int64_t check_freemap(const struct model *m, struct hammer_volset *vs)
{
	uint8_t *l1buf = malloc(BBSZ), *l2buf = malloc(BBSZ);
	assert_non_null(l1buf);
	assert_non_null(l2buf);
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_volset_read(vs, 0x2000000000000000ULL, l1buf, BBSZ, &err), 0);
	int64_t total_free = 0;
	uint64_t used_l1 = 0;
	for (int v = 0; v < m->n; v++) {
		for (uint64_t k = 0; k < m->nl2[v]; k++) {
			uint64_t idx = (uint64_t)v * 1024 + k;
			struct hammer_blockmap_layer1 l1;
			memcpy(&l1, l1buf + idx * 32, 32);
			hammer_layer1_swap(&l1);
			CHECK(l1.layer1_crc == hammer_datacrc(m->ver, l1buf + idx * 32, 28));
			CHECK(l1.reserved01 == 0 && l1.layer2_crc == 0);
			hammer_off_t l2a = hammer_encode(2, (unsigned)v,
				(k + (v == 0)) * BBSZ);
			CHECK(l1.phys_offset == l2a);
			assert_int_equal(hammer_volset_read(vs, l2a, l2buf, BBSZ, &err), 0);
			int64_t nfree = 0;
			for (uint64_t j = 0; j < L2N; j++) {
				const uint8_t *e = l2buf + j * 16;
				struct hammer_blockmap_layer2 l2;
				memcpy(&l2, e, 16);
				hammer_layer2_swap(&l2);
				unsigned zone; uint32_t app; int32_t fb;
				expect_l2(m, v, k * L2N + j, &zone, &app, &fb);
				if (l2.zone != zone || l2.append_off != app ||
				    l2.bytes_free != fb || l2.reserved01 || l2.reserved02 ||
				    l2.entry_crc != hammer_datacrc(m->ver, e, 12)) {
					print_message("FAILED %s: vol %d layer2 %llu: zone %u "
						      "app %u free %d (want %u %u %d)\n",
						      ctx, v, (unsigned long long)(k * L2N + j),
						      l2.zone, l2.append_off, l2.bytes_free,
						      zone, app, fb);
					fail();
				}
				nfree += l2.zone == 0;
			}
			CHECK(l1.blocks_free == nfree);
			total_free += nfree;
			used_l1++;
		}
	}
	/* every other layer-1 entry is UNAVAIL with a valid CRC */
	uint64_t unavail = 0;
	for (uint64_t idx = 0; idx < HAMMER_BLOCKMAP_LAYER1; idx++) {
		struct hammer_blockmap_layer1 l1;
		memcpy(&l1, l1buf + idx * 32, 32);
		hammer_layer1_swap(&l1);
		CHECK(l1.layer1_crc == hammer_datacrc(m->ver, l1buf + idx * 32, 28));
		if (l1.phys_offset == HAMMER_OFF_BAD) {
			CHECK(l1.blocks_free == 0);
			unavail++;
		}
	}
	CHECK(unavail == HAMMER_BLOCKMAP_LAYER1 - used_l1);
	free(l1buf);
	free(l2buf);
	return total_free;
}

static void check_fifo(const struct model *m, struct hammer_volset *vs)
{
	uint8_t *buf = malloc(BBSZ);
	assert_non_null(buf);
	struct hammer_err err = { 0 };
	uint32_t seq = 0;
	for (uint64_t b = 0; b < m->undo_bbs; b++) {
		assert_int_equal(hammer_volset_read(vs, hammer_encode(3, 0, b * BBSZ),
						    buf, BBSZ, &err), 0);
		for (uint64_t off = 0; off < BBSZ; off += 512, seq++) {
			uint8_t *r = buf + off;
			struct hammer_fifo_head hd;
			struct hammer_fifo_tail tl;
			memcpy(&hd, r, 16);
			memcpy(&tl, r + 504, 8);
			hammer_fifo_head_swap(&hd);
			hammer_fifo_tail_swap(&tl);
			if (hd.hdr_signature != 0xC84E || hd.hdr_type != 0x0041 ||
			    hd.hdr_size != 512 || hd.hdr_seq != seq ||
			    hd.hdr_crc != (hammer_datacrc(m->ver, r, 12) ^
					   hammer_datacrc(m->ver, r + 16, 496)) ||
			    tl.tail_signature != 0xC74F || tl.tail_type != 0x0041 ||
			    tl.tail_size != 512 || !all_zero(r + 16, 488)) {
				print_message("FAILED %s: DUMMY record %u bad\n", ctx, seq);
				fail();
			}
		}
	}
	free(buf);
}

static void check_root(const struct model *m, struct hammer_volset *vs,
		       const struct hammer_newfs_opts *o,
		       const struct hammer_newfs_result *res)
{
	struct hammer_err err = { 0 };
	uint64_t btree_bb = m->boot_end[0] + m->undo_bbs;
	hammer_off_t noff = hammer_encode(8, 0, btree_bb * BBSZ);
	hammer_off_t ioff = hammer_encode(9, 0, (btree_bb + 1) * BBSZ);
	struct hammer_node_ondisk *n = malloc(sizeof(*n));
	assert_non_null(n);
	assert_int_equal(hammer_volset_read(vs, noff, n, sizeof(*n), &err), 0);
	CHECK(le32toh(n->crc) == hammer_datacrc(m->ver, (uint8_t *)n + 4, 4092));
	hammer_node_swap(n);
	CHECK(n->parent == 0 && n->count == 2 && n->type == 'L' && n->mirror_tid == 0);
	CHECK(n->reserved01 == 0 && n->reserved02 == 0 && n->reserved03 == 0);
	CHECK(all_zero(&n->elms[2], sizeof(n->elms[0]) * 61));
	uint8_t data[432];
	assert_int_equal(hammer_volset_read(vs, ioff, data, sizeof(data), &err), 0);
	for (int i = 0; i < 2; i++) {
		struct hammer_btree_leaf_elm *e = &n->elms[i].leaf;
		CHECK(e->base.obj_id == 1 && e->base.key == 0);
		CHECK(e->base.create_tid == 0x100000001ULL && e->base.delete_tid == 0);
		CHECK(e->base.obj_type == 1 && e->base.btype == 'R');
		CHECK(e->create_ts == (uint32_t)(o->ctime_us / 1000000));
		CHECK(e->delete_ts == 0);
	}
	struct hammer_btree_leaf_elm *ei = &n->elms[0].leaf, *ep = &n->elms[1].leaf;
	CHECK(ei->base.rec_type == 1 && ei->base.localization == 1);
	CHECK(ei->data_offset == ioff && ei->data_len == 128);
	CHECK(ei->data_crc == hammer_datacrc(m->ver, data, 112));
	CHECK(ep->base.rec_type == 0x15 && ep->base.localization == 2);
	CHECK(ep->data_offset == ioff + 128 && ep->data_len == 292);
	CHECK(ep->data_crc == hammer_datacrc(m->ver, data + 128, 292));
	CHECK(res->inode_data == ioff && res->pfs_data == ioff + 128);
	CHECK(res->create_tid == 0x100000001ULL && res->next_tid == 0x100000000ULL);

	struct hammer_inode_data ino;
	memcpy(&ino, data, 128);
	hammer_inode_data_swap(&ino);
	unsigned caps = (m->ver >= 2 ? 4u : 0u) | (m->ver >= 6 ? 1u : 0u);
	CHECK(ino.version == 1 && ino.mode == 0755 && ino.uflags == 0);
	CHECK(ino.rmajor == 0 && ino.rminor == 0 && ino.parent_obj_id == 0);
	CHECK(ino.ctime == o->ctime_us && ino.mtime == o->ctime_us &&
	      ino.atime == o->ctime_us);
	CHECK(all_zero(&ino.uid, 32));
	CHECK(ino.obj_type == 1 && ino.cap_flags == caps);
	CHECK(ino.nlinks == 1 && ino.size == 0);
	CHECK(all_zero(ino.ext.symlink, 24) && ino.reserved01 == 0 && ino.reserved02 == 0);

	struct hammer_pseudofs_data pf;
	memcpy(&pf, data + 128, 292);
	hammer_pfsd_swap(&pf);
	const hammer_uuid_t *pu = o->pfs_uuid ? o->pfs_uuid : &o->fsid;
	CHECK(pf.sync_low_tid == 1 && pf.sync_beg_tid == 0 && pf.sync_end_tid == 0);
	CHECK(pf.sync_beg_ts == 0 && pf.sync_end_ts == 0 && pf.mirror_flags == 0);
	CHECK(!memcmp(data + 128 + 40, pu, 16) && !memcmp(data + 128 + 56, pu, 16));
	char label[64] = { 0 };
	snprintf(label, sizeof(label), "%s", o->label);
	CHECK(!memcmp(data + 128 + 80, label, 64));
	CHECK(all_zero(data + 128 + 144, 292 - 144));
	CHECK(all_zero(data + 420, 12));
	free(n);
}

/* Format, reopen through the volume-set layer, verify everything. */
static void format_and_verify(struct hammer_bdev **bds, int n,
			      const struct hammer_newfs_opts *o)
{
	struct model m;
	struct hammer_newfs_result res;
	struct hammer_err err = { 0 };
	model_make(&m, bds, n, o);
	int rc = hammer_newfs_format(bds, n, o, &res, &err);
	if (rc) {
		print_message("FAILED %s: newfs: %d %s\n", ctx, rc, err.msg);
		fail();
	}
	uint64_t total = 0;
	for (int i = 0; i < n; i++)
		total += bds[i]->size;
	CHECK(res.total_size == total && res.vol_count == n && res.version == m.ver);
	CHECK(res.undo_bigblocks == (int)m.undo_bbs);
	CHECK(res.undo_size == (int64_t)(m.undo_bbs * BBSZ));
	CHECK(res.preallocated == (m.boot_end[0] + m.undo_bbs) * BBSZ);
	CHECK(res.boot_size == m.boot && res.memlog_size == m.memlog);

	struct hammer_volset *vs;
	rc = hammer_volset_open_bdevs(bds, n, 0, &vs, &err);
	if (rc) {
		print_message("FAILED %s: reopen: %d %s\n", ctx, rc, err.msg);
		fail();
	}
	struct hammer_volume_ondisk h0, h;
	for (int i = 0; i < n; i++)
		check_header(&m, vs, i, o, &res, i ? &h : &h0);
	int64_t nfree = check_freemap(&m, vs);
	/* statistics recounted from layer 2: free + the B-tree and meta blocks */
	CHECK(h0.vol0_stat_freebigblocks == nfree);
	CHECK(h0.vol0_stat_bigblocks == nfree + 2);
	CHECK(res.stat_bigblocks == nfree + 2 && res.stat_freebigblocks == nfree);
	check_fifo(&m, vs);
	check_root(&m, vs, o, &res);
	hammer_volset_close(vs);
}

/* --------------------------------------------------------------- cases */
static void one_volume(void **state)
{
	(void)state;
	struct hammer_newfs_opts o;
	base_opts(&o);
	o.label = "REF1";
	struct hammer_bdev *bd = ram(256 * MB, "ram0");
	ctx = "one volume 256M";
	format_and_verify(&bd, 1, &o);
}

static void three_volumes(void **state)
{
	(void)state;
	struct hammer_newfs_opts o;
	base_opts(&o);
	o.pfs_uuid = &pfs1;
	/* sizes not multiples of a big-block or even of 16 KB */
	struct hammer_bdev *bds[3] = { ram(96 * MB + 4096, "r0"),
				       ram(40 * MB + 512, "r1"),
				       ram(9 * MB, "r2") };
	ctx = "three volumes";
	format_and_verify(bds, 3, &o);
}

static void sixteen_volumes(void **state)
{
	(void)state;
	struct hammer_newfs_opts o;
	base_opts(&o);
	char label63[64];
	memset(label63, 'L', 63);
	label63[63] = 0;
	o.label = label63;
	struct hammer_bdev *bds[16];
	char name[16];
	for (int i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		bds[i] = ram(i == 0 ? 48 * MB : (9 + (uint64_t)i * 3) * MB, name);
	}
	ctx = "sixteen volumes";
	format_and_verify(bds, 16, &o);
}

static void versions(void **state)
{
	(void)state;
	static char buf[64];
	for (unsigned v = 1; v <= 7; v++) {
		struct hammer_newfs_opts o;
		base_opts(&o);
		o.version = v;
		struct hammer_bdev *bd = ram(48 * MB, "rv");
		snprintf(buf, sizeof(buf), "version %u", v);
		ctx = buf;
		format_and_verify(&bd, 1, &o);
	}
}

static void areas_forced_small(void **state)
{
	(void)state;
	struct hammer_newfs_opts o;
	base_opts(&o);
	o.boot_size = 0;
	o.memlog_size = 16384;
	unsigned w;
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_newfs_check_opts(&o, &w, &err), 0);
	assert_int_equal(w, HAMMER_NEWFS_WARN_BOOT_SMALL | HAMMER_NEWFS_WARN_MEMLOG_SMALL |
			    HAMMER_NEWFS_WARN_UNDO_SMALL);
	struct hammer_bdev *bd = ram(48 * MB, "rs");
	ctx = "boot 0, memlog 16K";
	format_and_verify(&bd, 1, &o);
}

/* Seeded: random volume counts, sizes and area sizes. */
static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void randomized(void **state)
{
	(void)state;
	const char *s = getenv("TEST_NEWFS_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : 20261122;
	rng = seed ? seed : 1;
	static char buf[96];
	for (int c = 0; c < 6; c++) {
		struct hammer_newfs_opts o;
		base_opts(&o);
		o.boot_size = (int64_t)(rnd() % 64) * 16384;
		o.memlog_size = (int64_t)(rnd() % 64) * 16384;
		o.undo_size = (int64_t)(1 + rnd() % 3) * 16384 * (int64_t)(1 + rnd() % 1024);
		o.version = 1 + (unsigned)(rnd() % 7);
		o.ctime_us = rnd() % (4000000000ULL * 1000000);
		int n = 1 + (int)(rnd() % 4);
		struct hammer_bdev *bds[4];
		uint64_t undo_bbs = ((uint64_t)o.undo_size + BBSZ - 1) / BBSZ;
		for (int i = 0; i < n; i++) {
			uint64_t min = (uint64_t)(262144 + o.boot_size + o.memlog_size) +
				       (i == 0 ? (4 + undo_bbs) : 1) * BBSZ;
			bds[i] = ram(min + (rnd() % (24 * MB)), "rr");
		}
		snprintf(buf, sizeof(buf), "seed %llu case %d", (unsigned long long)seed, c);
		ctx = buf;
		format_and_verify(bds, n, &o);
	}
}

static void file_backed(void **state)
{
	(void)state;
	char path[] = "/tmp/test_newfs.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(1024 * MB)), 0);
	close(fd);
	struct hammer_bdev *bd;
	const char *why;
	assert_int_equal(hammer_bdev_file_open(path, 0, &bd, &why), 0);
	struct hammer_newfs_opts o;
	base_opts(&o);
	ctx = "file 1G";
	format_and_verify(&bd, 1, &o);
	unlink(path);
}

/* Over 4 TB: two layer-2 arrays, layer-1 index 1, a zone-15 tail. */
static void file_over_4tb(void **state)
{
	(void)state;
	char path[] = "/tmp/test_newfs_big.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	uint64_t size = (1ULL << 42) + 3 * BBSZ + 557056 + 12345;
	if (ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		unlink(path);
		skip();	/* file system without sparse 4 TB files */
	}
	close(fd);
	struct hammer_bdev *bd;
	const char *why;
	assert_int_equal(hammer_bdev_file_open(path, 0, &bd, &why), 0);
	struct hammer_newfs_opts o;
	base_opts(&o);
	ctx = "file 4T+";
	format_and_verify(&bd, 1, &o);
	unlink(path);
}

static void undo_rule(void **state)
{
	(void)state;
	const int64_t bb = (int64_t)BBSZ;
	/* default: 0.1%, at least 64 big-blocks, at most 128 */
	assert_true(hammer_newfs_undo_bytes(HAMMER_NEWFS_UNSET, 1 << 30) == 64 * bb);
	assert_true(hammer_newfs_undo_bytes(0, 16LL << 30) == 64 * bb);
	assert_true(hammer_newfs_undo_bytes(0, 1000 * 65 * bb) == 65 * bb);
	assert_true(hammer_newfs_undo_bytes(0, 1000 * 65 * bb + 1000) == 66 * bb);
	assert_true(hammer_newfs_undo_bytes(0, 1LL << 50) == 128 * bb);
	/* given: rounded up to big-blocks, at least one */
	assert_true(hammer_newfs_undo_bytes(16384, 1 << 30) == bb);
	assert_true(hammer_newfs_undo_bytes(bb, 1 << 30) == bb);
	assert_true(hammer_newfs_undo_bytes(bb + 16384, 1 << 30) == 2 * bb);
	assert_true(hammer_newfs_undo_bytes(128 * bb, 1 << 30) == 128 * bb);
}

/* ------------------------------------------------------------ refusals */
static void expect_refusal(int rc, const struct hammer_err *err, int want,
			   const char *needle)
{
	if (rc != want || !strstr(err->msg, needle)) {
		print_message("FAILED %s: rc %d (want %d), message \"%s\" (want "
			      "\"%s\")\n", ctx, rc, want, err->msg, needle);
		fail();
	}
}

static void check_refused(struct hammer_newfs_opts *o, int want, const char *needle)
{
	struct hammer_err err = { 0 };
	unsigned w;
	expect_refusal(hammer_newfs_check_opts(o, &w, &err), &err, want, needle);
	/* format refuses the same way, before touching the device */
	struct hammer_bdev *bd = ram(48 * MB, "rf");
	struct hammer_newfs_result res;
	memset(&err, 0, sizeof(err));
	expect_refusal(hammer_newfs_format(&bd, 1, o, &res, &err), &err, want, needle);
	CHECK(all_zero(hammer_bdev_ram_data(bd), 48 * MB));
	hammer_bdev_close(bd);
}

static void refuse_options(void **state)
{
	(void)state;
	struct hammer_newfs_opts o;
	const int64_t K16 = 16384;
#define CASE(name, field, value, want, needle) do { base_opts(&o); ctx = name; \
	field = value; check_refused(&o, want, needle); } while (0)
	CASE("no label", o.label, NULL, -EINVAL, "label must be specified");
	char label64[65];
	memset(label64, 'L', 64);
	label64[64] = 0;
	CASE("long label", o.label, label64, -EINVAL, "at most 63");
	CASE("version 8", o.version, 8, -EINVAL, "version 8");
	CASE("version 99", o.version, 99, -EINVAL, "format HAMMER version");
	CASE("nil fsid", o.fsid, (hammer_uuid_t){ { 0 } }, -EINVAL, "nil UUID");
	CASE("boot not 16K", o.boot_size, 32768 + 512, -EINVAL, "multiple of 16K");
	CASE("boot negative", o.boot_size, -2, -EINVAL, "negative");
	CASE("boot too big", o.boot_size, 256 * (int64_t)MB + K16, -EINVAL,
	     "maximum boot area size is 256.00MB");
	CASE("memlog not 16K", o.memlog_size, 262144 + 8192, -EINVAL, "multiple of 16K");
	CASE("memlog too big", o.memlog_size, (64LL << 30) + K16, -EINVAL,
	     "maximum memory log size is 64.00GB");
	CASE("undo not 16K", o.undo_size, 8192, -EINVAL, "multiple of 16K");
	CASE("undo too big", o.undo_size, (1LL << 30) + K16, -EINVAL,
	     "maximum UNDO/REDO FIFO size is 1.00GB");
	/* below the minimum: only with force */
	CASE("boot small", o.force, 0; o.boot_size = K16, -EINVAL,
	     "minimum boot area size is 32.00KB");
	CASE("memlog small", o.force, 0; o.undo_size = HAMMER_NEWFS_UNSET;
	     o.memlog_size = K16, -EINVAL, "minimum memory log size is 256.00KB");
	CASE("undo small", o.force, 0, -EINVAL, "minimum UNDO/REDO FIFO size is 0.50GB");
	CASE("undo 0", o.force, 0; o.undo_size = 0, -EINVAL,
	     "minimum UNDO/REDO FIFO size is 0.50GB");
#undef CASE
	/* forced "-u 0" means the default rule */
	base_opts(&o);
	o.undo_size = 0;
	unsigned w;
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_newfs_check_opts(&o, &w, &err), 0);
	assert_int_equal(w, HAMMER_NEWFS_WARN_UNDO_SMALL);
	struct hammer_bdev *bd = ram(600 * MB, "r0");
	ctx = "forced -u 0";
	format_and_verify(&bd, 1, &o);
}

static int fail_write(struct hammer_bdev *bd, uint64_t off, const void *buf, size_t len)
{
	(void)bd; (void)off; (void)buf; (void)len;
	return -EIO;
}
static int fail_read(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len)
{
	(void)bd; (void)off; (void)buf; (void)len;
	return -EIO;
}
static int ok_flush(struct hammer_bdev *bd)
{
	(void)bd;
	return 0;
}
static void no_close(struct hammer_bdev *bd)
{
	(void)bd;
}
static const struct hammer_bdev_ops failing_ops = {
	.version = HAMMER_BDEV_VERSION, .read = fail_read, .write = fail_write,
	.flush = ok_flush, .close = no_close,
};

static void refuse_devices(void **state)
{
	(void)state;
	struct hammer_newfs_opts o;
	struct hammer_newfs_result res;
	struct hammer_err err;
	base_opts(&o);

	ctx = "no devices";
	memset(&err, 0, sizeof(err));
	expect_refusal(hammer_newfs_format(NULL, 0, &o, &res, &err), &err, -EINVAL,
		       "at least one");
	ctx = "257 devices";
	struct hammer_bdev *many[257] = { 0 };
	memset(&err, 0, sizeof(err));
	expect_refusal(hammer_newfs_format(many, 257, &o, &res, &err), &err, -EINVAL,
		       "maximum number of volumes is 256");

	struct hammer_bdev *a = ram(48 * MB, "dev-a"), *b = ram(48 * MB, "dev-b");
	struct hammer_bdev *twice[3] = { a, b, a };
	ctx = "same device twice";
	memset(&err, 0, sizeof(err));
	expect_refusal(hammer_newfs_format(twice, 3, &o, &res, &err), &err, -EINVAL,
		       "dev-a is given twice");

	ctx = "read-only";
	b->readonly = 1;
	struct hammer_bdev *ro[2] = { a, b };
	memset(&err, 0, sizeof(err));
	expect_refusal(hammer_newfs_format(ro, 2, &o, &res, &err), &err, -EROFS,
		       "dev-b (volume 1) is read-only");
	b->readonly = 0;

	ctx = "under 10 GB unforced";
	o.force = 0;
	o.undo_size = HAMMER_NEWFS_UNSET;
	memset(&err, 0, sizeof(err));
	expect_refusal(hammer_newfs_format(&a, 1, &o, &res, &err), &err, -ENOSPC,
		       "less than 10GB");
	base_opts(&o);

	/* root: 1 layer-1 + 1 layer-2 + 1 UNDO + B-tree + meta = 5 big-blocks */
	struct hammer_bdev *r4 = ram(557056 + 5 * BBSZ - 16384, "root-4bb");
	struct hammer_bdev *ok = ram(48 * MB, "fine");
	struct hammer_bdev *pair[2] = { ok, r4 };
	ctx = "root too small";
	pair[0] = r4; pair[1] = ok;
	memset(&err, 0, sizeof(err));
	expect_refusal(hammer_newfs_format(pair, 2, &o, &res, &err), &err, -ENOSPC,
		       "root-4bb (volume 0) is too small for the file system");
	ctx = "non-root under one big-block";
	struct hammer_bdev *tiny = ram(557056 + BBSZ - 16384, "tiny");
	struct hammer_bdev *pair2[2] = { ok, tiny };
	memset(&err, 0, sizeof(err));
	expect_refusal(hammer_newfs_format(pair2, 2, &o, &res, &err), &err, -ENOSPC,
		       "tiny (volume 1) is too small");
	/* nothing was written to any of them */
	CHECK(all_zero(hammer_bdev_ram_data(a), 48 * MB));
	CHECK(all_zero(hammer_bdev_ram_data(b), 48 * MB));
	CHECK(all_zero(hammer_bdev_ram_data(ok), 48 * MB));
	CHECK(all_zero(hammer_bdev_ram_data(r4), 557056 + 5 * BBSZ - 16384));
	CHECK(all_zero(hammer_bdev_ram_data(tiny), 557056 + BBSZ - 16384));

	/* exactly 5 big-blocks fits */
	struct hammer_bdev *r5 = ram(557056 + 5 * BBSZ, "root-5bb");
	ctx = "root exactly 5 big-blocks";
	format_and_verify(&r5, 1, &o);

	/* over 2^52 bytes of buffer space, and I/O errors */
	struct hammer_bdev huge = { .ops = &failing_ops, .size = (1ULL << 52) + 557056,
				    .sector_size = 512, .name = "huge" };
	struct hammer_bdev *hp = &huge;
	ctx = "too large";
	memset(&err, 0, sizeof(err));
	expect_refusal(hammer_newfs_format(&hp, 1, &o, &res, &err), &err, -EFBIG,
		       "huge (volume 0) is too large");
	huge.size = 64 * MB;
	snprintf(huge.name, sizeof(huge.name), "broken");
	ctx = "write error";
	memset(&err, 0, sizeof(err));
	expect_refusal(hammer_newfs_format(&hp, 1, &o, &res, &err), &err, -EIO,
		       "broken (volume 0): cannot write the layer-1 freemap");
	hammer_bdev_close(a);
	hammer_bdev_close(b);
	hammer_bdev_close(ok);
	hammer_bdev_close(r4);
	hammer_bdev_close(tiny);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(undo_rule),
		cmocka_unit_test(one_volume),
		cmocka_unit_test(three_volumes),
		cmocka_unit_test(sixteen_volumes),
		cmocka_unit_test(versions),
		cmocka_unit_test(areas_forced_small),
		cmocka_unit_test(randomized),
		cmocka_unit_test(refuse_options),
		cmocka_unit_test(refuse_devices),
		cmocka_unit_test(file_backed),
		cmocka_unit_test(file_over_4tb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
