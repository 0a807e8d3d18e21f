/*
 * test_buffer.c - the buffer cache: aliases, refcounts, LRU eviction,
 * dirty tracking by kind, write-back order, bounds, X-buffers, hooks.
 *
 * The fixture is one RAM volume with a valid header, stacked under a
 * logging device that records every write offset and can fail reads or
 * writes on demand.  Every byte of the buffer area holds a known pattern.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ref/buffer.h"
#include "ref/volume.h"

#define BUF_BEG		0x88000ULL
#define NBB		3		/* big-blocks in the volume */
#define VOL_SIZE	(BUF_BEG + NBB * (uint64_t)HAMMER_BIGBLOCK_SIZE)
#define UNDO_BB		2		/* big-block used as UNDO FIFO */
#define KB16		HAMMER_BUFSIZE

/* ------------------------------------------------ logging device */
struct logdev {
	struct hammer_bdev *inner;
	uint64_t writes[4096];
	size_t lens[4096];
	int nwrites;
	uint64_t fail_read_at;	/* ~0: never */
	uint64_t fail_write_at;
};

static int log_read(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len)
{
	struct logdev *l = bd->ctx;
	if (off <= l->fail_read_at && l->fail_read_at < off + len)
		return -EIO;
	return hammer_bdev_read(l->inner, off, buf, len);
}

static int log_write(struct hammer_bdev *bd, uint64_t off, const void *buf, size_t len)
{
	struct logdev *l = bd->ctx;
	if (off <= l->fail_write_at && l->fail_write_at < off + len)
		return -EIO;
	if (l->nwrites < 4096) {
		l->lens[l->nwrites] = len;
		l->writes[l->nwrites++] = off;
	}
	return hammer_bdev_write(l->inner, off, buf, len);
}

static int log_flush(struct hammer_bdev *bd)
{
	struct logdev *l = bd->ctx;
	return hammer_bdev_flush(l->inner);
}

static void log_close(struct hammer_bdev *bd)
{
	struct logdev *l = bd->ctx;
	hammer_bdev_close(l->inner);
	free(l);
	free(bd);
}

static const struct hammer_bdev_ops log_ops = {
	.version = HAMMER_BDEV_VERSION,
	.read = log_read,
	.write = log_write,
	.flush = log_flush,
	.close = log_close,
};

/* ------------------------------------------------------ fixture */
struct fx {
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	struct logdev *log;
	uint8_t *ram;
};

static uint8_t pattern(uint64_t zone2_short)
{
	return (uint8_t)(zone2_short * 7 + (zone2_short >> 14) * 13 + 1);
}

static void fx_open(struct fx *f, uint64_t limit)
{
	memset(f, 0, sizeof(*f));
	struct hammer_bdev *ram;
	assert_int_equal(hammer_bdev_ram_open(VOL_SIZE, "bufvol", &ram), 0);
	f->ram = hammer_bdev_ram_data(ram);
	for (uint64_t o = 0; o < VOL_SIZE - BUF_BEG; o++)
		f->ram[BUF_BEG + o] = pattern(o);

	struct hammer_volume_ondisk h;
	memset(&h, 0, sizeof(h));
	h.vol_signature = HAMMER_FSBUF_VOLUME;
	h.vol_bot_beg = HAMMER_VOL_JUNK_SIZE;
	h.vol_mem_beg = 0x48000;
	h.vol_buf_beg = (int64_t)BUF_BEG;
	h.vol_buf_end = (int64_t)VOL_SIZE;
	h.vol_fstype = hammer_fstype_uuid;
	h.vol_fsid.b[0] = 0x42;
	h.vol_count = 1;
	h.vol_version = 7;
	for (int i = 0; i < HAMMER_UNDO_LAYER2; i++)
		h.vol0_undo_array[i] = HAMMER_OFF_BAD;
	h.vol0_undo_array[0] = hammer_encode(2, 0, UNDO_BB * (uint64_t)HAMMER_BIGBLOCK_SIZE);
	h.vol0_blockmap[3].phys_offset = HAMMER_OFF_BAD;
	h.vol0_blockmap[3].first_offset = hammer_encode(3, 0, 0);
	h.vol0_blockmap[3].next_offset = hammer_encode(3, 0, 0);
	h.vol0_blockmap[3].alloc_offset = hammer_encode(3, 0, HAMMER_BIGBLOCK_SIZE);
	hammer_volume_header_encode(&h, f->ram);

	struct hammer_bdev *bd = calloc(1, sizeof(*bd));
	f->log = calloc(1, sizeof(*f->log));
	assert_non_null(bd);
	assert_non_null(f->log);
	f->log->inner = ram;
	f->log->fail_read_at = f->log->fail_write_at = ~0ULL;
	bd->ops = &log_ops;
	bd->ctx = f->log;
	bd->size = ram->size;
	bd->sector_size = ram->sector_size;
	snprintf(bd->name, sizeof(bd->name), "logvol");
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_volset_open_bdevs(&bd, 1, 0, &f->vs, &err), 0);
	assert_int_equal(hammer_bufcache_open(f->vs, limit, &f->bc), 0);
}

static void fx_close(struct fx *f)
{
	hammer_bufcache_close(f->bc);
	hammer_volset_close(f->vs);
}

static hammer_off_t z(unsigned zone, uint64_t off)
{
	return hammer_encode(zone, 0, off);
}

static struct hammer_bufcache_stats stats(struct fx *f)
{
	struct hammer_bufcache_stats st;
	hammer_bufcache_stats(f->bc, &st);
	return st;
}

/* get + check that the returned bytes are the device pattern */
static struct hammer_buffer *get_checked(struct fx *f, hammer_off_t a, size_t len)
{
	struct hammer_buffer *b;
	void *p;
	struct hammer_err err = { 0 };
	int rc = hammer_buffer_get(f->bc, a, len, 0, &b, &p, &err);
	if (rc)
		fail_msg("get %016llx: %d %s", (unsigned long long)a, rc, err.msg);
	uint64_t s = hammer_short_of(a);
	const uint8_t *q = p;
	for (size_t i = 0; i < len; i++)
		assert_int_equal(q[i], pattern(s + i));
	return b;
}

/* ------------------------------------------------------------ tests */
static void aliases_share_one_buffer(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 1 << 20);
	struct hammer_buffer *b2 = get_checked(&f, z(2, 0x4010), 32);
	struct hammer_buffer *b8 = get_checked(&f, z(8, 0x4020), 64);
	struct hammer_buffer *b9 = get_checked(&f, z(9, 0x7ff0), 16);
	struct hammer_buffer *b4 = get_checked(&f, z(4, 0x4000), KB16);
	assert_ptr_equal(b2, b8);
	assert_ptr_equal(b2, b9);
	assert_ptr_equal(b2, b4);
	assert_int_equal(b2->refs, 4);
	assert_true(b2->zone2 == z(2, 0x4000));
	assert_int_equal(b2->size, KB16);
	assert_int_equal(b2->kind, HAMMER_BUF_META);
	struct hammer_bufcache_stats st = stats(&f);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.reads, 1);
	assert_int_equal(st.nbuffers, 1);
	assert_int_equal(st.pinned, 1);
	assert_ptr_equal(hammer_buffer_ptr(b2, z(9, 0x4123)), b2->data + 0x123);
	for (int i = 0; i < 4; i++)
		hammer_buffer_put(f.bc, b2);
	assert_int_equal(stats(&f).pinned, 0);
	/* a fresh get after put is a hit, no read */
	hammer_buffer_put(f.bc, get_checked(&f, z(2, 0x4000), 1));
	st = stats(&f);
	assert_int_equal(st.hits, 4);
	assert_int_equal(st.reads, 1);
	fx_close(&f);
}

static void kinds_by_zone(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 1 << 20);
	struct { unsigned zone; enum hammer_buf_kind kind; } cases[] = {
		{ 2, HAMMER_BUF_META }, { 4, HAMMER_BUF_META },
		{ 8, HAMMER_BUF_META }, { 9, HAMMER_BUF_META },
		{ 10, HAMMER_BUF_DATA }, { 11, HAMMER_BUF_META },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hammer_buffer *b = get_checked(&f, z(cases[i].zone, (i + 1) * KB16), 8);
		assert_int_equal(b->kind, cases[i].kind);
		hammer_buffer_put(f.bc, b);
	}
	/* zone 3 goes through vol0_undo_array */
	struct hammer_buffer *b;
	void *p;
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_buffer_get(f.bc, z(3, KB16 + 512), 512, 0, &b, &p, &err), 0);
	uint64_t s = UNDO_BB * (uint64_t)HAMMER_BIGBLOCK_SIZE + KB16;
	assert_true(b->zone2 == z(2, s));
	assert_int_equal(b->kind, HAMMER_BUF_UNDO);
	assert_int_equal(*(uint8_t *)p, pattern(s + 512));
	hammer_buffer_put(f.bc, b);
	/* zone 1 and the reserved zones are not cacheable */
	assert_int_equal(hammer_buffer_get(f.bc, z(1, 0), 16, 0, &b, &p, &err), -EINVAL);
	assert_int_equal(hammer_buffer_get(f.bc, z(5, 0), 16, 0, &b, &p, &err), -EINVAL);
	assert_null(b);
	fx_close(&f);
}

static void bad_requests(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 1 << 20);
	struct hammer_buffer *b;
	void *p;
	struct hammer_err err = { 0 };
	/* crossing a 16 KB buffer */
	assert_int_equal(hammer_buffer_get(f.bc, z(8, KB16 - 8), 16, 0, &b, &p, &err), -EINVAL);
	/* zero and oversize */
	assert_int_equal(hammer_buffer_get(f.bc, z(8, 0), 0, 0, &b, &p, NULL), -EINVAL);
	assert_int_equal(hammer_buffer_get(f.bc, z(10, 0), HAMMER_XBUFSIZE + 1, 0, &b, &p, NULL), -EINVAL);
	/* X-buffers only in zone 10, aligned, inside a big-block */
	assert_int_equal(hammer_buffer_get(f.bc, z(8, 0), 2 * KB16, 0, &b, &p, NULL), -EINVAL);
	assert_int_equal(hammer_buffer_get(f.bc, z(10, 16), 2 * KB16, 0, &b, &p, NULL), -EINVAL);
	assert_int_equal(hammer_buffer_get(f.bc, z(10, HAMMER_BIGBLOCK_SIZE - KB16),
					   2 * KB16, 0, &b, &p, NULL), -EINVAL);
	/* beyond the volume: corruption, naming the address */
	memset(&err, 0, sizeof(err));
	hammer_off_t far = z(8, NBB * (uint64_t)HAMMER_BIGBLOCK_SIZE);
	assert_int_equal(hammer_buffer_get(f.bc, far, 16, 0, &b, &p, &err), -EUCLEAN);
	assert_true(err.off == far);
	/* a volume that does not exist */
	assert_int_equal(hammer_buffer_get(f.bc, hammer_encode(8, 1, 0), 16, 0, &b, &p, NULL),
			 -EUCLEAN);
	/* UNDO address past the FIFO */
	assert_int_equal(hammer_buffer_get(f.bc, z(3, HAMMER_BIGBLOCK_SIZE), 16, 0, &b, &p, NULL),
			 -EUCLEAN);
	assert_int_equal(stats(&f).nbuffers, 0);
	fx_close(&f);
}

static void refcounts_pin_against_eviction(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, HAMMER_BUFCACHE_MIN);	/* 4 buffers */
	struct hammer_buffer *a = get_checked(&f, z(8, 0), 16);
	struct hammer_buffer *a2 = get_checked(&f, z(8, 0), 16);
	assert_ptr_equal(a, a2);
	assert_int_equal(a->refs, 2);
	hammer_buffer_put(f.bc, a2);
	assert_int_equal(a->refs, 1);
	/* churn through many others: the pinned one must stay */
	for (uint64_t i = 1; i < 40; i++)
		hammer_buffer_put(f.bc, get_checked(&f, z(8, i * KB16), 16));
	struct hammer_bufcache_stats st = stats(&f);
	assert_true(st.bytes <= HAMMER_BUFCACHE_MIN);
	assert_int_equal(st.evictions, 39 - 3);
	uint64_t misses = st.misses;
	struct hammer_buffer *again = get_checked(&f, z(8, 16), 16);
	assert_ptr_equal(again, a);
	assert_int_equal(stats(&f).misses, misses);
	hammer_buffer_put(f.bc, again);
	hammer_buffer_put(f.bc, a);
	assert_int_equal(stats(&f).pinned, 0);
	fx_close(&f);
}

static void lru_order(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, HAMMER_BUFCACHE_MIN);
	/* A B C D, then touch A: LRU order is B C D A */
	for (uint64_t i = 0; i < 4; i++)
		hammer_buffer_put(f.bc, get_checked(&f, z(9, i * KB16), 1));
	hammer_buffer_put(f.bc, get_checked(&f, z(9, 0), 1));
	assert_int_equal(stats(&f).evictions, 0);
	hammer_buffer_put(f.bc, get_checked(&f, z(9, 4 * KB16), 1));	/* E evicts B */
	assert_int_equal(stats(&f).evictions, 1);
	uint64_t m = stats(&f).misses;
	hammer_buffer_put(f.bc, get_checked(&f, z(9, 0), 1));		/* A: hit */
	assert_int_equal(stats(&f).misses, m);
	hammer_buffer_put(f.bc, get_checked(&f, z(9, 2 * KB16), 1));	/* C: hit */
	assert_int_equal(stats(&f).misses, m);
	hammer_buffer_put(f.bc, get_checked(&f, z(9, KB16), 1));	/* B: miss, evicts D */
	assert_int_equal(stats(&f).misses, m + 1);
	hammer_buffer_put(f.bc, get_checked(&f, z(9, 3 * KB16), 1));	/* D: miss */
	assert_int_equal(stats(&f).misses, m + 2);
	fx_close(&f);
}

static void dirty_survives_pressure(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, HAMMER_BUFCACHE_MIN);
	struct hammer_buffer *b;
	void *p;
	assert_int_equal(hammer_buffer_get(f.bc, z(8, 5 * KB16 + 100), 4, 0, &b, &p, NULL), 0);
	assert_int_equal(hammer_buffer_modify(f.bc, b, p, 4), 0);
	memcpy(p, "HMR!", 4);
	hammer_buffer_put(f.bc, b);
	assert_int_equal(stats(&f).dirty_bytes[HAMMER_BUF_META], KB16);
	for (uint64_t i = 10; i < 60; i++) {
		hammer_buffer_put(f.bc, get_checked(&f, z(8, i * KB16), 16));
		assert_true(stats(&f).bytes <= HAMMER_BUFCACHE_MIN);
	}
	/* still cached with the change; the device still has the old bytes */
	uint64_t m = stats(&f).misses;
	assert_int_equal(hammer_buffer_get(f.bc, z(2, 5 * KB16 + 100), 4, 0, &b, &p, NULL), 0);
	assert_int_equal(stats(&f).misses, m);
	assert_memory_equal(p, "HMR!", 4);
	assert_int_equal(f.ram[BUF_BEG + 5 * KB16 + 100], pattern(5 * KB16 + 100));
	hammer_buffer_put(f.bc, b);
	assert_int_equal(f.log->nwrites, 0);
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_META, &err), 0);
	assert_memory_equal(f.ram + BUF_BEG + 5 * KB16 + 100, "HMR!", 4);
	assert_int_equal(stats(&f).dirty_bytes[HAMMER_BUF_META], 0);
	assert_int_equal(stats(&f).writes, 1);
	fx_close(&f);
}

static void full_of_dirty_is_enobufs(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, HAMMER_BUFCACHE_MIN);
	struct hammer_buffer *b;
	void *p;
	struct hammer_err err = { 0 };
	for (uint64_t i = 0; i < 4; i++) {
		assert_int_equal(hammer_buffer_get(f.bc, z(10, i * KB16), 16, 0, &b, &p, NULL), 0);
		assert_int_equal(hammer_buffer_modify(f.bc, b, p, 16), 0);
		hammer_buffer_put(f.bc, b);
	}
	assert_int_equal(hammer_buffer_get(f.bc, z(10, 9 * KB16), 16, 0, &b, &p, &err), -ENOBUFS);
	assert_null(b);
	assert_non_null(strstr(err.msg, "flush"));
	/* flushing the wrong kind does not help */
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_META, NULL), 0);
	assert_int_equal(hammer_buffer_get(f.bc, z(10, 9 * KB16), 16, 0, &b, &p, NULL), -ENOBUFS);
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_DATA, NULL), 0);
	assert_int_equal(hammer_buffer_get(f.bc, z(10, 9 * KB16), 16, 0, &b, &p, NULL), 0);
	hammer_buffer_put(f.bc, b);
	/* pinned (clean) buffers block the same way */
	struct hammer_buffer *pins[4];
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(hammer_buffer_get(f.bc, z(8, i * KB16), 16, 0, &pins[i], &p, NULL), 0);
	assert_int_equal(hammer_buffer_get(f.bc, z(8, 7 * KB16), 16, 0, &b, &p, NULL), -ENOBUFS);
	for (int i = 0; i < 4; i++)
		hammer_buffer_put(f.bc, pins[i]);
	assert_int_equal(hammer_buffer_get(f.bc, z(8, 7 * KB16), 16, 0, &b, &p, NULL), 0);
	hammer_buffer_put(f.bc, b);
	fx_close(&f);
}

static int collect(void *ctx, struct hammer_buffer *b)
{
	uint64_t *v = ctx;
	assert_true(b->refs > 0);
	assert_true(b->dirty);
	v[1 + v[0]++] = b->zone2;
	return 0;
}

static void writeback_in_address_order(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 4 << 20);
	/* dirty 40 META and 10 DATA buffers in a scrambled order */
	uint64_t seed = 0x5eed0001;
	int order[50];
	for (int i = 0; i < 50; i++)
		order[i] = i;
	for (int i = 49; i > 0; i--) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		int j = (int)((seed >> 33) % (uint64_t)(i + 1));
		int t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int k = 0; k < 50; k++) {
		int i = order[k];
		unsigned zone = i < 40 ? 8 : 10;
		struct hammer_buffer *b;
		void *p;
		assert_int_equal(hammer_buffer_get(f.bc, z(zone, (uint64_t)i * 3 * KB16), 8, 0,
						   &b, &p, NULL), 0);
		assert_int_equal(hammer_buffer_modify(f.bc, b, p, 8), 0);
		memset(p, 0xA0 + (i & 15), 8);
		hammer_buffer_put(f.bc, b);
	}
	uint64_t seen[64] = { 0 };
	assert_int_equal(hammer_bufcache_foreach_dirty(f.bc, HAMMER_BUF_META, collect, seen), 0);
	assert_int_equal(seen[0], 40);
	for (int i = 1; i < 40; i++)
		assert_true(seen[i] < seen[i + 1]);
	assert_int_equal(stats(&f).pinned, 0);

	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_DATA, NULL), 0);
	assert_int_equal(f.log->nwrites, 10);
	for (int i = 0; i < 10; i++)
		assert_true(f.log->writes[i] == BUF_BEG + (uint64_t)(40 + i) * 3 * KB16);
	assert_int_equal(stats(&f).dirty_bytes[HAMMER_BUF_DATA], 0);
	assert_int_equal(stats(&f).dirty_bytes[HAMMER_BUF_META], 40 * KB16);
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_META, NULL), 0);
	assert_int_equal(f.log->nwrites, 50);
	for (int i = 0; i < 40; i++)
		assert_true(f.log->writes[10 + i] == BUF_BEG + (uint64_t)i * 3 * KB16);
	for (int i = 0; i < 50; i++)
		assert_int_equal(f.ram[BUF_BEG + (uint64_t)i * 3 * KB16 + 7], 0xA0 + (i & 15));
	/* nothing left to write */
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_META, NULL), 0);
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_UNDO, NULL), 0);
	assert_int_equal(f.log->nwrites, 50);
	assert_int_equal(stats(&f).writes, 50);
	fx_close(&f);
}

static void write_error_keeps_dirty(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 1 << 20);
	for (uint64_t i = 0; i < 3; i++) {
		struct hammer_buffer *b;
		void *p;
		assert_int_equal(hammer_buffer_get(f.bc, z(9, i * KB16), 1, 0, &b, &p, NULL), 0);
		assert_int_equal(hammer_buffer_modify(f.bc, b, p, 1), 0);
		*(uint8_t *)p = 0x77;
		hammer_buffer_put(f.bc, b);
	}
	f.log->fail_write_at = BUF_BEG + KB16 + 100;	/* inside the one dirty sector */
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_META, &err), -EIO);
	assert_true(err.off == z(2, KB16));
	assert_int_equal(f.log->nwrites, 1);
	assert_int_equal(stats(&f).dirty_bytes[HAMMER_BUF_META], 2 * KB16);
	f.log->fail_write_at = ~0ULL;
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_META, NULL), 0);
	assert_int_equal(f.log->nwrites, 3);
	assert_true(f.log->writes[1] == BUF_BEG + KB16);
	assert_true(f.log->writes[2] == BUF_BEG + 2 * KB16);
	assert_int_equal(stats(&f).dirty_bytes[HAMMER_BUF_META], 0);
	fx_close(&f);
}

/*
 * Only announced sectors go back to the device: a crash tearing the write
 * must not be able to damage bytes nobody changed (and UNDO never saw).
 */
static void writes_only_dirty_sectors(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 1 << 20);
	struct hammer_buffer *b;
	void *p;
	assert_int_equal(hammer_buffer_get(f.bc, z(9, 0), KB16, 0, &b, &p, NULL), 0);
	uint8_t *d = p;
	/* sectors 1, 2 (one change straddling them), 5 and 31 */
	assert_int_equal(hammer_buffer_modify(f.bc, b, d + 1000, 100), 0);
	assert_int_equal(hammer_buffer_modify(f.bc, b, d + 5 * 512 + 7, 1), 0);
	assert_int_equal(hammer_buffer_modify(f.bc, b, d + KB16 - 1, 1), 0);
	hammer_buffer_put(f.bc, b);
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_META, NULL), 0);
	assert_int_equal(f.log->nwrites, 3);
	assert_true(f.log->writes[0] == BUF_BEG + 512 && f.log->lens[0] == 1024);
	assert_true(f.log->writes[1] == BUF_BEG + 5 * 512 && f.log->lens[1] == 512);
	assert_true(f.log->writes[2] == BUF_BEG + 31 * 512 && f.log->lens[2] == 512);
	/* written once: clean again, a second flush writes nothing */
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_META, NULL), 0);
	assert_int_equal(f.log->nwrites, 3);
	fx_close(&f);
}

static void read_error_leaves_nothing(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 1 << 20);
	f.log->fail_read_at = BUF_BEG + 4 * KB16 + 100;
	struct hammer_buffer *b;
	void *p;
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_buffer_get(f.bc, z(8, 4 * KB16 + 64), 16, 0, &b, &p, &err), -EIO);
	assert_true(err.off == z(8, 4 * KB16 + 64));
	assert_null(b);
	struct hammer_bufcache_stats st = stats(&f);
	assert_int_equal(st.nbuffers, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.pinned, 0);
	f.log->fail_read_at = ~0ULL;
	hammer_buffer_put(f.bc, get_checked(&f, z(8, 4 * KB16 + 64), 16));
	fx_close(&f);
}

struct hook_log {
	int calls;
	hammer_off_t zone2[8];
	uint8_t old[8][512];
	size_t len[8];
	int veto_at;	/* call number that fails, 0: none */
};

static int before_modify(void *ctx, hammer_off_t zone2, const void *old, size_t len)
{
	struct hook_log *h = ctx;
	int n = h->calls++;
	if (n < 8) {
		h->zone2[n] = zone2;
		h->len[n] = len;
		memcpy(h->old[n], old, len < 512 ? len : 512);
	}
	return h->veto_at == h->calls ? -EDQUOT : 0;
}

static void modify_hook(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 1 << 20);
	struct hook_log h = { .veto_at = 3 };
	struct hammer_buffer_hooks hooks = { .before_modify = before_modify, .ctx = &h };
	hammer_bufcache_set_hooks(f.bc, &hooks);
	struct hammer_buffer *b;
	void *p;
	/* META: hook sees the zone-2 address and the old bytes, whole sectors */
	assert_int_equal(hammer_buffer_get(f.bc, z(8, 2 * KB16 + 48), 16, 0, &b, &p, NULL), 0);
	assert_int_equal(hammer_buffer_modify(f.bc, b, p, 16), 0);
	assert_int_equal(h.calls, 1);
	assert_true(h.zone2[0] == z(2, 2 * KB16));
	assert_int_equal(h.len[0], 512);
	for (int i = 0; i < 512; i++)
		assert_int_equal(h.old[0][i], pattern(2 * KB16 + (uint64_t)i));
	memset(p, 0, 16);
	/* every modification is announced, dirty or not */
	assert_int_equal(hammer_buffer_modify(f.bc, b, (uint8_t *)p + 4, 4), 0);
	assert_int_equal(h.calls, 2);
	assert_true(h.zone2[1] == z(2, 2 * KB16));
	assert_int_equal(h.old[1][52], 0);
	/* a change crossing a sector boundary covers both sectors */
	h.veto_at = 0;
	assert_int_equal(hammer_buffer_modify(f.bc, b, (uint8_t *)p + 460, 20), 0);
	assert_int_equal(h.calls, 3);
	assert_true(h.zone2[2] == z(2, 2 * KB16));
	assert_int_equal(h.len[2], 1024);
	h.calls = 2;
	h.veto_at = 3;
	hammer_buffer_put(f.bc, b);
	/* DATA (large data, zone 10): no hook */
	assert_int_equal(hammer_buffer_get(f.bc, z(10, 0), 16, 0, &b, &p, NULL), 0);
	assert_int_equal(hammer_buffer_modify(f.bc, b, p, 16), 0);
	assert_int_equal(h.calls, 2);
	assert_true(b->dirty);
	hammer_buffer_put(f.bc, b);
	/* a veto leaves the buffer clean */
	assert_int_equal(hammer_buffer_get(f.bc, z(9, 6 * KB16), 16, 0, &b, &p, NULL), 0);
	assert_int_equal(hammer_buffer_modify(f.bc, b, p, 16), -EDQUOT);
	assert_false(b->dirty);
	assert_int_equal(stats(&f).dirty_bytes[HAMMER_BUF_META], KB16);
	hammer_buffer_put(f.bc, b);
	hammer_bufcache_set_hooks(f.bc, NULL);
	assert_int_equal(hammer_buffer_get(f.bc, z(9, 6 * KB16), 16, 0, &b, &p, NULL), 0);
	assert_int_equal(hammer_buffer_modify(f.bc, b, p, 16), 0);
	assert_int_equal(h.calls, 3);
	hammer_buffer_put(f.bc, b);
	fx_close(&f);
}

static void xbuffers(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 1 << 20);
	struct hammer_buffer *x, *b;
	void *p;
	struct hammer_err err = { 0 };
	hammer_off_t base = z(10, 16 * KB16);
	x = get_checked(&f, base, HAMMER_XBUFSIZE);
	assert_int_equal(x->size, HAMMER_XBUFSIZE);
	assert_int_equal(x->kind, HAMMER_BUF_DATA);
	/* a small request inside it is a hit on the same buffer */
	b = get_checked(&f, base + 2 * KB16 + 100, 200);
	assert_ptr_equal(b, x);
	assert_int_equal(stats(&f).misses, 1);
	hammer_buffer_put(f.bc, b);
	/* a 48 KB request wholly inside is a hit too */
	b = get_checked(&f, base + KB16, 3 * KB16);
	assert_ptr_equal(b, x);
	hammer_buffer_put(f.bc, b);
	/* one reaching past it overlaps the pinned X-buffer: busy */
	assert_int_equal(hammer_buffer_get(f.bc, base + 2 * KB16, 3 * KB16, 0, &b, &p, &err),
			 -EBUSY);
	assert_non_null(strstr(err.msg, "pinned"));
	hammer_buffer_put(f.bc, x);
	/* now clean and unpinned: dropped in favour of the new extent */
	b = get_checked(&f, base + 2 * KB16, 3 * KB16 - 100);
	assert_int_equal(b->size, 3 * KB16);
	assert_true(b->zone2 == z(2, 18 * KB16));
	hammer_buffer_put(f.bc, b);
	struct hammer_bufcache_stats st = stats(&f);
	assert_int_equal(st.nbuffers, 1);
	assert_int_equal(st.bytes, 3 * KB16);
	/* a dirty 16 KB buffer blocks an X-buffer over it */
	assert_int_equal(hammer_buffer_get(f.bc, z(10, 40 * KB16 + 16), 16, 0, &b, &p, NULL), 0);
	assert_int_equal(hammer_buffer_modify(f.bc, b, p, 16), 0);
	hammer_buffer_put(f.bc, b);
	memset(&err, 0, sizeof(err));
	assert_int_equal(hammer_buffer_get(f.bc, z(10, 40 * KB16), 4 * KB16, 0, &b, &p, &err),
			 -EBUSY);
	assert_non_null(strstr(err.msg, "dirty"));
	assert_int_equal(hammer_buffer_get(f.bc, z(10, 37 * KB16), 4 * KB16, 0, &b, &p, NULL),
			 -EBUSY);
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_DATA, NULL), 0);
	assert_int_equal(hammer_buffer_get(f.bc, z(10, 37 * KB16), 4 * KB16, 0, &b, &p, NULL), 0);
	hammer_buffer_put(f.bc, b);
	fx_close(&f);
}

static void new_buffers_skip_the_read(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 1 << 20);
	struct hammer_buffer *b;
	void *p;
	assert_int_equal(hammer_buffer_get(f.bc, z(8, 9 * KB16), 64, HAMMER_BUF_NEW, &b, &p, NULL), 0);
	assert_int_equal(stats(&f).reads, 0);
	for (int i = 0; i < KB16; i++)
		assert_int_equal(b->data[i], 0);
	hammer_buffer_put(f.bc, b);
	fx_close(&f);
}

/*
 * Dropped buffers are recycled: one that comes back from the spares must
 * look brand new (no stale bytes, verified bits, dirty sectors or state).
 */
static void recycled_buffers_are_reset(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, HAMMER_BUFCACHE_MIN);
	struct hammer_buffer *b;
	void *p;
	/* a dirty, verified 16 KB buffer of 0xAA, written and then evicted */
	assert_int_equal(hammer_buffer_get(f.bc, z(8, 0), 16, 0, &b, &p, NULL), 0);
	assert_int_equal(hammer_buffer_modify(f.bc, b, b->data, KB16), 0);
	memset(b->data, 0xAA, KB16);
	hammer_buffer_set_verified(b, b->data, KB16);
	hammer_buffer_put(f.bc, b);
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_META, NULL), 0);
	assert_int_equal(hammer_bufcache_invalidate(f.bc, z(2, 0), KB16), 0);
	assert_int_equal(stats(&f).nbuffers, 0);
	/* NEW: zeros, not the recycled 0xAA */
	assert_int_equal(hammer_buffer_get(f.bc, z(8, 9 * KB16), 64, HAMMER_BUF_NEW,
					   &b, &p, NULL), 0);
	for (int i = 0; i < KB16; i++)
		assert_int_equal(b->data[i], 0);
	assert_false(b->dirty);
	assert_int_equal(b->verified, 0);
	/* one changed byte of a recycled buffer writes one sector */
	int n0 = f.log->nwrites;
	assert_int_equal(hammer_buffer_modify(f.bc, b, b->data + 1000, 1), 0);
	b->data[1000] = 1;
	hammer_buffer_put(f.bc, b);
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_META, NULL), 0);
	assert_int_equal(f.log->nwrites, n0 + 1);
	assert_int_equal(f.log->lens[n0], 512);
	/* a read into recycled memory: the device's bytes, nothing verified */
	b = get_checked(&f, z(8, 12 * KB16), 16);
	hammer_buffer_set_verified(b, b->data, KB16);
	hammer_buffer_put(f.bc, b);
	assert_int_equal(hammer_bufcache_invalidate(f.bc, z(2, 12 * KB16), KB16), 0);
	b = get_checked(&f, z(8, 5 * KB16), 16);
	assert_int_equal(b->verified, 0);
	assert_false(b->dirty);
	hammer_buffer_put(f.bc, b);
	/* NEW | UNINIT skips the read like NEW */
	uint64_t reads = stats(&f).reads;
	assert_int_equal(hammer_buffer_get(f.bc, z(10, 20 * KB16), 4 * KB16,
					   HAMMER_BUF_NEW | HAMMER_BUF_UNINIT, &b, &p,
					   NULL), 0);
	assert_int_equal(stats(&f).reads, reads);
	assert_int_equal(b->size, 4 * KB16);
	hammer_buffer_put(f.bc, b);
	/* a read into recycled memory returns the device's bytes */
	for (uint64_t i = 1; i <= 4; i++)
		hammer_buffer_put(f.bc, get_checked(&f, z(8, (30 + i) * KB16), 16));
	hammer_buffer_put(f.bc, get_checked(&f, z(10, 20 * KB16), 4 * KB16));
	fx_close(&f);
}

static void invalidate_range(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 1 << 20);
	struct hammer_buffer *b, *pinned;
	void *p;
	uint64_t bb = HAMMER_BIGBLOCK_SIZE;
	assert_int_equal(hammer_buffer_get(f.bc, z(11, bb + KB16), 1, 0, &b, &p, NULL), 0);
	assert_int_equal(hammer_buffer_modify(f.bc, b, p, 1), 0);
	*(uint8_t *)p ^= 0xFF;
	hammer_buffer_put(f.bc, b);
	hammer_buffer_put(f.bc, get_checked(&f, z(11, bb + 5 * KB16), 1));
	pinned = get_checked(&f, z(11, bb + 9 * KB16), 1);
	hammer_buffer_put(f.bc, get_checked(&f, z(11, 2 * bb), 1));	/* outside */
	assert_int_equal(hammer_bufcache_invalidate(f.bc, z(2, bb), bb), -EBUSY);
	assert_int_equal(stats(&f).nbuffers, 4);
	hammer_buffer_put(f.bc, pinned);
	assert_int_equal(hammer_bufcache_invalidate(f.bc, z(2, bb), bb), 0);
	struct hammer_bufcache_stats st = stats(&f);
	assert_int_equal(st.nbuffers, 1);
	assert_int_equal(st.dirty_bytes[HAMMER_BUF_DATA], 0);
	/* the dirty change is gone; the device's bytes come back */
	hammer_buffer_put(f.bc, get_checked(&f, z(11, bb + KB16), 1));
	assert_int_equal(f.log->nwrites, 0);
	assert_int_equal(hammer_bufcache_invalidate(f.bc, z(8, bb), bb), -EINVAL);
	assert_int_equal(hammer_bufcache_invalidate(f.bc, z(2, bb + 1), bb), -EINVAL);
	fx_close(&f);
}

static void verified_bits(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, HAMMER_BUFCACHE_MIN);
	struct hammer_buffer *b = get_checked(&f, z(8, 0), 16);
	uint8_t *node = b->data + 4096;
	assert_false(hammer_buffer_is_verified(b, node, 4096));
	hammer_buffer_set_verified(b, node, 4096);
	assert_true(hammer_buffer_is_verified(b, node, 4096));
	assert_true(hammer_buffer_is_verified(b, node + 1024, 100));
	assert_false(hammer_buffer_is_verified(b, b->data, 4096));
	assert_false(hammer_buffer_is_verified(b, node, 4097));
	assert_true(b->verified == 0xF0);
	hammer_buffer_put(f.bc, b);
	/* evicted and reloaded: checked again */
	for (uint64_t i = 1; i <= 4; i++)
		hammer_buffer_put(f.bc, get_checked(&f, z(8, i * KB16), 16));
	b = get_checked(&f, z(8, 0), 16);
	assert_false(hammer_buffer_is_verified(b, b->data + 4096, 4096));
	assert_true(b->verified == 0);
	hammer_buffer_put(f.bc, b);
	fx_close(&f);
}

static void set_limit_shrinks(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 1 << 20);
	for (uint64_t i = 0; i < 20; i++)
		hammer_buffer_put(f.bc, get_checked(&f, z(8, i * KB16), 16));
	assert_int_equal(stats(&f).nbuffers, 20);
	assert_int_equal(hammer_bufcache_set_limit(f.bc, 1000), -EINVAL);
	assert_int_equal(hammer_bufcache_set_limit(f.bc, 5 * KB16), 0);
	assert_int_equal(stats(&f).nbuffers, 5);
	/* the five youngest stayed */
	uint64_t m = stats(&f).misses;
	for (uint64_t i = 15; i < 20; i++)
		hammer_buffer_put(f.bc, get_checked(&f, z(8, i * KB16), 16));
	assert_int_equal(stats(&f).misses, m);
	struct hammer_bufcache *bc2;
	assert_int_equal(hammer_bufcache_open(f.vs, HAMMER_BUFCACHE_MIN - 1, &bc2), -EINVAL);
	fx_close(&f);
}

/* Seeded random use under a small limit: bounds and contents hold throughout. */
static void bounded_random(void **state)
{
	(void)state;
	const uint64_t seed = 0xB0F1CAC4EULL;
	const uint64_t limit = 8 * KB16;
	struct fx f;
	fx_open(&f, limit);
	uint64_t s = seed;
	enum { NADDR = 300 };
	static uint8_t expect[NADDR];	/* first byte of each buffer */
	static int dirty[NADDR];
	for (int i = 0; i < NADDR; i++)
		expect[i] = pattern((uint64_t)i * KB16);
	struct hammer_buffer *held[3] = { 0 };
	for (int op = 0; op < 4000; op++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		uint64_t r = s >> 20;
		int i = (int)(r % NADDR);
		unsigned zone = (r >> 12) & 1 ? 8 : 11;
		struct hammer_buffer *b;
		void *p;
		struct hammer_err err = { 0 };
		int rc = hammer_buffer_get(f.bc, z(zone, (uint64_t)i * KB16), 1, 0, &b, &p, &err);
		if (rc == -ENOBUFS) {
			rc = hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_META, NULL);
			if (!rc)
				rc = hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_DATA, NULL);
			if (rc)
				fail_msg("seed %llx op %d: flush %d", (unsigned long long)seed, op, rc);
			for (int k = 0; k < NADDR; k++)
				dirty[k] = 0;
			continue;
		}
		if (rc)
			fail_msg("seed %llx op %d: get %d %s", (unsigned long long)seed, op, rc, err.msg);
		if (*(uint8_t *)p != expect[i])
			fail_msg("seed %llx op %d: buffer %d holds %02x, expected %02x",
				 (unsigned long long)seed, op, i, *(uint8_t *)p, expect[i]);
		if ((r >> 16) % 3 == 0 && !dirty[i] && b->dirty == 0) {
			assert_int_equal(hammer_buffer_modify(f.bc, b, p, 1), 0);
			expect[i] = (uint8_t)(expect[i] + 1);
			*(uint8_t *)p = expect[i];
			dirty[i] = 1;
		}
		/* keep up to three pinned for a while */
		int slot = (int)((r >> 24) % 3);
		if (held[slot])
			hammer_buffer_put(f.bc, held[slot]);
		held[slot] = b;
		struct hammer_bufcache_stats st = stats(&f);
		if (st.bytes > limit || st.nbuffers > limit / KB16)
			fail_msg("seed %llx op %d: %llu bytes in %llu buffers over the %llu limit",
				 (unsigned long long)seed, op, (unsigned long long)st.bytes,
				 (unsigned long long)st.nbuffers, (unsigned long long)limit);
	}
	for (int k = 0; k < 3; k++)
		hammer_buffer_put(f.bc, held[k]);
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_META, NULL), 0);
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_DATA, NULL), 0);
	for (int i = 0; i < NADDR; i++)
		if (f.ram[BUF_BEG + (uint64_t)i * KB16] != expect[i])
			fail_msg("seed %llx: buffer %d not written back", (unsigned long long)seed, i);
	struct hammer_bufcache_stats st = stats(&f);
	assert_true(st.evictions > 100);
	assert_true(st.peak_bytes <= limit);
	assert_int_equal(st.pinned, 0);
	fx_close(&f);
}

/*
 * Direct reads: an uncached zone-10 range comes straight from the device
 * and leaves nothing cached; any cached buffer over any part of it (dirty
 * or clean, bigger or smaller) sends the caller to the cache; other
 * shapes are refused.
 */
static void direct_reads(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 1 << 20);
	static uint8_t dst[HAMMER_XBUFSIZE];
	struct hammer_err err = { 0 };
	hammer_off_t base = z(10, 32 * KB16);
	assert_int_equal(hammer_bufcache_read_direct(f.bc, base, HAMMER_XBUFSIZE, dst, &err), 0);
	for (uint64_t i = 0; i < HAMMER_XBUFSIZE; i++)
		assert_int_equal(dst[i], pattern(32 * KB16 + i));
	assert_int_equal(stats(&f).nbuffers, 0);
	assert_int_equal(stats(&f).reads, 1);
	/* a dirty 16 KB buffer in the middle: the cache has newer bytes */
	struct hammer_buffer *b;
	void *p;
	assert_int_equal(hammer_buffer_get(f.bc, base + 2 * KB16, KB16, 0, &b, &p, NULL), 0);
	assert_int_equal(hammer_buffer_modify(f.bc, b, p, 8), 0);
	memset(p, 0xEE, 8);
	hammer_buffer_put(f.bc, b);
	assert_int_equal(hammer_bufcache_read_direct(f.bc, base, HAMMER_XBUFSIZE, dst, &err), -EAGAIN);
	/* clean but still cached: the same */
	assert_int_equal(hammer_bufcache_flush_kind(f.bc, HAMMER_BUF_DATA, NULL), 0);
	assert_int_equal(hammer_bufcache_read_direct(f.bc, base, HAMMER_XBUFSIZE, dst, &err), -EAGAIN);
	/* an X-buffer starting before the range, covering its start */
	assert_int_equal(hammer_buffer_get(f.bc, z(10, 28 * KB16), HAMMER_XBUFSIZE, 0, &b, &p, NULL), 0);
	hammer_buffer_put(f.bc, b);
	assert_int_equal(hammer_bufcache_read_direct(f.bc, z(10, 30 * KB16), 2 * KB16, dst, &err), -EAGAIN);
	/* untouched neighbours still go direct */
	assert_int_equal(hammer_bufcache_read_direct(f.bc, z(10, 40 * KB16), 2 * KB16, dst, &err), 0);
	assert_int_equal(dst[0], pattern(40 * KB16));
	/* other shapes */
	assert_int_equal(hammer_bufcache_read_direct(f.bc, z(10, 40 * KB16 + 512), KB16, dst, &err), -EINVAL);
	assert_int_equal(hammer_bufcache_read_direct(f.bc, z(10, 40 * KB16), 1000, dst, &err), -EINVAL);
	assert_int_equal(hammer_bufcache_read_direct(f.bc, z(8, 40 * KB16), KB16, dst, &err), -EINVAL);
	assert_int_equal(hammer_bufcache_read_direct(f.bc, z(10, HAMMER_BIGBLOCK_SIZE - KB16), 2 * KB16, dst, &err), -EINVAL);
	/* a device error comes back with the address */
	f.log->fail_read_at = BUF_BEG + 48 * KB16;
	assert_int_equal(hammer_bufcache_read_direct(f.bc, z(10, 48 * KB16), KB16, dst, &err), -EIO);
	assert_non_null(strstr(err.msg, "read error"));
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aliases_share_one_buffer),
		cmocka_unit_test(kinds_by_zone),
		cmocka_unit_test(bad_requests),
		cmocka_unit_test(refcounts_pin_against_eviction),
		cmocka_unit_test(lru_order),
		cmocka_unit_test(dirty_survives_pressure),
		cmocka_unit_test(full_of_dirty_is_enobufs),
		cmocka_unit_test(writeback_in_address_order),
		cmocka_unit_test(write_error_keeps_dirty),
		cmocka_unit_test(writes_only_dirty_sectors),
		cmocka_unit_test(read_error_leaves_nothing),
		cmocka_unit_test(modify_hook),
		cmocka_unit_test(xbuffers),
		cmocka_unit_test(direct_reads),
		cmocka_unit_test(new_buffers_skip_the_read),
		cmocka_unit_test(recycled_buffers_are_reset),
		cmocka_unit_test(invalidate_range),
		cmocka_unit_test(verified_bits),
		cmocka_unit_test(set_limit_shrinks),
		cmocka_unit_test(bounded_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
