/*
 * undotest.h - helpers shared by test_undo.c and test_recover.c: small
 * newfs'd images held as byte arrays (so a "crash" is reopening a copy),
 * a seeded PRNG, an independent FIFO walker (the rules of show-undo), and
 * record crafting for corruption tests.
 *
 * Every CHECK failure prints the case string set with CASE(), which names
 * the seed and case that reproduce it.
 */
#ifndef UNDOTEST_H
#define UNDOTEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ref/buffer.h"
#include "ref/crc.h"
#include "ref/inspect.h"
#include "ref/newfs.h"
#include "ref/undo.h"
#include "ref/volume.h"

#define MB		(1024ULL * 1024)
#define BB		((uint64_t)HAMMER_BIGBLOCK_SIZE)
#define KB16		((uint64_t)HAMMER_BUFSIZE)
#define MAXV		3
#define VOLSIZE		(0x88000ULL + 5 * BB + 2 * MB)
#define Z3BASE		hammer_encode(HAMMER_ZONE_UNDO_INDEX, 0, 0)

static char ut_case[256];
#define CASE(...) snprintf(ut_case, sizeof(ut_case), __VA_ARGS__)
#define CHECK(c) do { if (!(c)) { print_error("%s:%d: CHECK(%s) failed; " \
	"reproduce: %s\n", __FILE__, __LINE__, #c, ut_case); fail(); } } while (0)
#define CHECK_RC(rc, e) do { int rc_ = (rc); if (rc_) { print_error("%s:%d: " \
	"rc %d: %s; reproduce: %s\n", __FILE__, __LINE__, rc_, (e).msg, ut_case); \
	fail(); } } while (0)

/* ------------------------------------------------------------ PRNG */
static uint64_t ut_rng;
static inline uint64_t rnd(void)
{
	uint64_t z = (ut_rng += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}
static inline uint64_t rnd_n(uint64_t n) { return n ? rnd() % n : 0; }
static inline void rnd_fill(void *p, size_t n)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
}
/* Seed from the environment (name) or the default. */
static inline uint64_t ut_seed(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	return s ? strtoull(s, NULL, 0) : dflt;
}
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
/* 1 under valgrind: the long campaigns run fewer cases there. */
static inline int ut_slow(void)
{
#ifdef RUNNING_ON_VALGRIND
	return RUNNING_ON_VALGRIND != 0;
#else
	return 0;
#endif
}
/* Case count from the environment, else dflt (dflt_slow under valgrind). */
static inline int ut_cases2(const char *name, int dflt, int dflt_slow)
{
	const char *s = getenv(name);
	return s ? atoi(s) : ut_slow() ? dflt_slow : dflt;
}
static inline int ut_cases(const char *name, int dflt)
{
	return ut_cases2(name, dflt, dflt);
}

/* ------------------------------------------------------------ images */
struct img {
	int n;
	unsigned version;
	uint64_t size[MAXV];
	uint8_t *bytes[MAXV];
};

static inline void img_free(struct img *im)
{
	for (int i = 0; i < im->n; i++)
		free(im->bytes[i]);
	memset(im, 0, sizeof(*im));
}

static inline void img_copy(struct img *dst, const struct img *src);

/* Fresh images by (volumes, version), made once per test program. */
static struct img ut_fresh[MAXV + 1][8];

static inline void img_cache_free(void)
{
	for (int n = 0; n <= MAXV; n++)
		for (int v = 0; v < 8; v++)
			img_free(&ut_fresh[n][v]);
}

static inline void img_make_new(struct img *im, int n, unsigned version);

static inline void img_make(struct img *im, int n, unsigned version)
{
	struct img *c = &ut_fresh[n][version];
	if (!c->n)
		img_make_new(c, n, version);
	img_copy(im, c);
}

static inline void img_make_new(struct img *im, int n, unsigned version)
{
	memset(im, 0, sizeof(*im));
	struct hammer_bdev *bds[MAXV];
	for (int i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "vol%d", i);
		assert_int_equal(hammer_bdev_ram_open(i ? VOLSIZE / 2 : VOLSIZE,
						      name, &bds[i]), 0);
	}
	struct hammer_newfs_opts o;
	hammer_newfs_opts_init(&o);
	o.label = "UNDOTEST";
	o.force = 1;
	o.undo_size = 8 << 20;
	o.version = version;
	assert_int_equal(hammer_uuid_parse("a381fb52-b407-dc4f-b4be-5c83274d03cb",
					   &o.fsid), 0);
	o.ctime_us = 1795306471606999ULL;
	struct hammer_newfs_result res;
	struct hammer_err err = { 0 };
	int rc = hammer_newfs_format(bds, n, &o, &res, &err);
	if (rc)
		fail_msg("newfs: %s", err.msg);
	im->n = n;
	im->version = version;
	for (int i = 0; i < n; i++) {
		im->size[i] = bds[i]->size;
		im->bytes[i] = malloc(im->size[i]);
		assert_non_null(im->bytes[i]);
		memcpy(im->bytes[i], hammer_bdev_ram_data(bds[i]), im->size[i]);
		hammer_bdev_close(bds[i]);
	}
}

static inline void img_copy(struct img *dst, const struct img *src)
{
	*dst = *src;
	for (int i = 0; i < src->n; i++) {
		dst->bytes[i] = malloc(src->size[i]);
		assert_non_null(dst->bytes[i]);
		memcpy(dst->bytes[i], src->bytes[i], src->size[i]);
	}
}

static inline struct hammer_bdev *ram_from(const uint8_t *bytes, uint64_t size, int i)
{
	struct hammer_bdev *bd;
	char name[16];
	snprintf(name, sizeof(name), "vol%d", i);
	assert_int_equal(hammer_bdev_ram_open(size, name, &bd), 0);
	memcpy(hammer_bdev_ram_data(bd), bytes, size);
	return bd;
}

static inline struct hammer_volset *vs_open_bds(struct hammer_bdev **bds, int n, int ro)
{
	struct hammer_volset *vs;
	struct hammer_err err = { 0 };
	int rc = hammer_volset_open_bdevs(bds, n, ro ? HAMMER_VOLSET_RDONLY : 0,
					  &vs, &err);
	if (rc)
		fail_msg("volset: %s (%s)", err.msg, ut_case);
	return vs;
}

/* Open a volume set on RAM copies of the image. */
static inline struct hammer_volset *img_open(const struct img *im, int ro)
{
	struct hammer_bdev *bds[MAXV];
	for (int i = 0; i < im->n; i++)
		bds[i] = ram_from(im->bytes[i], im->size[i], i);
	return vs_open_bds(bds, im->n, ro);
}

/* The bytes of a RAM-backed volume set now ("the disk at the crash"). */
static inline void img_capture(struct img *out, struct hammer_volset *vs)
{
	memset(out, 0, sizeof(*out));
	out->n = vs->count;
	out->version = vs->version;
	for (int i = 0; i < vs->count; i++) {
		struct hammer_bdev *bd = vs->vols[i]->bd;
		out->size[i] = bd->size;
		out->bytes[i] = malloc(bd->size);
		assert_non_null(out->bytes[i]);
		assert_int_equal(hammer_bdev_read(bd, 0, out->bytes[i], bd->size), 0);
	}
}

static inline int img_equal(const struct img *a, const struct img *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (a->size[i] != b->size[i] ||
		    memcmp(a->bytes[i], b->bytes[i], a->size[i]))
			return 0;
	return 1;
}

/* Device offset (volume 0) of a FIFO address. */
static inline uint64_t fifo_phys(struct hammer_volset *vs, hammer_off_t z3)
{
	struct hammer_volume *v;
	uint64_t phys;
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_volset_xlate(vs, z3, 8, &v, &phys, &e), e);
	CHECK(v->vol_no == 0);
	return phys;
}

static inline void craft_crc(unsigned version, uint8_t *p, uint32_t size);

/* ------------------------------------------------------ FIFO walker */
struct wrec {
	hammer_off_t off;
	struct hammer_fifo_rec r;
	uint8_t raw[HAMMER_UNDO_ALIGN];
};

/* Read the record at FIFO address off from the device; 0 if it is good. */
static inline int walk_one(struct hammer_volset *vs, hammer_off_t off, struct wrec *w)
{
	uint32_t bound = hammer_fifo_boundary(vs->version);
	uint32_t avail = bound - (uint32_t)(off & (bound - 1));
	uint32_t take = avail > sizeof(w->raw) ? (uint32_t)sizeof(w->raw) : avail;
	struct hammer_err e = { 0 };
	w->off = off;
	CHECK_RC(hammer_volset_read(vs, off, w->raw, take, &e), e);
	int rc = hammer_fifo_rec_check(vs->version, off, w->raw,
				       avail > take ? take : avail, &w->r, &e);
	if (!rc && w->r.head.hdr_type != HAMMER_HEAD_TYPE_PAD) {
		/* written with exactly the version's CRC (v7 reads both) */
		uint8_t tmp[HAMMER_UNDO_ALIGN];
		memcpy(tmp, w->raw, w->r.head.hdr_size);
		craft_crc(vs->version, tmp, w->r.head.hdr_size);
		if (memcmp(tmp + 12, w->raw + 12, 4))
			rc = -EBADMSG;
	}
	return rc;
}

/*
 * What show-undo does over [base, alloc): count the records it would flag
 * (0 for a clean FIFO), from the device bytes.
 */
static inline long show_undo_errors(struct hammer_volset *vs)
{
	const struct hammer_blockmap *um =
		&hammer_volset_root(vs)->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	uint32_t bound = hammer_fifo_boundary(vs->version);
	uint8_t *rec = malloc(bound);
	assert_non_null(rec);
	long bad = 0;
	for (hammer_off_t s = Z3BASE; s < um->alloc_offset;) {
		uint32_t avail = bound - (uint32_t)(s & (bound - 1));
		struct hammer_err e = { 0 };
		CHECK_RC(hammer_volset_read(vs, s, rec, avail, &e), e);
		struct hammer_fifo_rec r;
		if (hammer_fifo_rec_check(vs->version, s, rec, avail, &r, &e)) {
			if (bad < 5)
				print_message("show-undo would flag: %s\n", e.msg);
			bad++;
		}
		s += r.size_ok ? r.head.hdr_size : avail;
	}
	free(rec);
	return bad;
}

/* ------------------------------------------------------- crafting */
static inline void craft_crc(unsigned version, uint8_t *p, uint32_t size)
{
	/* written out independently of undo.c: CRC(head 0..11) ^ CRC(16..) */
	uint32_t a = version >= 7 ? hammer_crc32c(p, 12) : hammer_crc32(p, 12);
	uint32_t b = version >= 7 ? hammer_crc32c(p + 16, size - 16)
				  : hammer_crc32(p + 16, size - 16);
	uint32_t c = htole32(a ^ b);
	memcpy(p + 12, &c, 4);
}

static inline void le16put(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static inline void le32put(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static inline void le64put(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }
static inline uint32_t le32get(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static inline uint64_t le64get(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }

/* A framed record of `size` bytes at p (head, tail, CRC; body as is). */
static inline void craft_frame(unsigned version, uint8_t *p, uint16_t type,
			uint32_t size, uint32_t seq)
{
	le16put(p, HAMMER_HEAD_SIGNATURE);
	le16put(p + 2, type);
	le32put(p + 4, size);
	le32put(p + 8, seq);
	le32put(p + 12, 0);
	le16put(p + size - 8, HAMMER_TAIL_SIGNATURE);
	le16put(p + size - 6, type);
	le32put(p + size - 4, size);
	craft_crc(version, p, size);
}

#endif
