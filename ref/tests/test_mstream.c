/*
 * test_mstream.c - the mirroring stream codec: round trips, exact bytes,
 * every decoder refusal, incomplete input, data CRCs, mirror-dump text.
 *
 * Expected bytes are built here field by field (explicit little-endian
 * stores at the format's offsets) and their CRC computed over the bytes,
 * so the encoder is checked against the format, not against itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ref/crc.h"
#include "ref/mstream.h"

#define BUFSZ (HAMMER_MREC_MAX + 64)

/* ------------------------------------------------------------ helpers */
static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Recompute a record's rec_crc after the test changed its bytes. */
static void fix_crc(uint8_t *p)
{
	uint32_t rs = rd32(p + 8);
	le32(p + 4, hammer_crc32(p + 8, rs - 8));
}

static struct hammer_btree_leaf_elm sample_leaf(void)
{
	struct hammer_btree_leaf_elm l;
	memset(&l, 0, sizeof(l));
	l.base.obj_id = 0x0000000100000005LL;
	l.base.key = 0x0000000000004000LL;
	l.base.create_tid = 0x0000000100010000ULL;
	l.base.delete_tid = 0x0000000100020000ULL;
	l.base.rec_type = HAMMER_RECTYPE_DATA;
	l.base.obj_type = 2;
	l.base.btype = HAMMER_BTREE_TYPE_RECORD;
	l.base.localization = 0x00030002;
	l.create_ts = 0x11223344;
	l.delete_ts = 0x55667788;
	l.data_offset = 0xa000000000012340ULL;
	l.data_len = 0;
	l.data_crc = 0;
	return l;
}

static struct hammer_pseudofs_data sample_pfsd(void)
{
	struct hammer_pseudofs_data d;
	memset(&d, 0, sizeof(d));
	d.sync_low_tid = 0x0000000100000001ULL;
	d.sync_beg_tid = 0x0000000100008000ULL;
	d.sync_end_tid = 0x0000000100018000ULL;
	d.sync_beg_ts = 1700000000000000ULL;
	d.sync_end_ts = 1700000001000000ULL;
	for (int i = 0; i < 16; i++) {
		d.shared_uuid.b[i] = (uint8_t)(0x10 + i);
		d.unique_uuid.b[i] = (uint8_t)(0x80 + i);
	}
	d.mirror_flags = HAMMER_PFSD_SLAVE;
	strcpy(d.label, "slave-label");
	strcpy(d.snapshots, "/snaps");
	d.prune_min = 3600;
	d.prune_max = -1;
	return d;
}

static int leaf_eq(const struct hammer_btree_leaf_elm *a,
		   const struct hammer_btree_leaf_elm *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Decode and expect success with the given wire size. */
static void get_ok(const uint8_t *buf, size_t avail, struct hammer_mrec *r,
		   int wire)
{
	char why[256] = "untouched";
	size_t need = 12345;
	int rc = hammer_mrec_get(buf, avail, r, &need, why, sizeof(why));
	if (rc != wire)
		fail_msg("get returned %d (want %d): %s", rc, wire, why);
}

/* Decode and expect a refusal whose text contains `want`. */
static void get_bad(const uint8_t *buf, size_t avail, const char *want)
{
	char why[256] = "";
	struct hammer_mrec r;
	int rc = hammer_mrec_get(buf, avail, &r, NULL, why, sizeof(why));
	if (rc != -22)
		fail_msg("get returned %d, want -EINVAL (%s)", rc, want);
	if (!strstr(why, want))
		fail_msg("why \"%s\" lacks \"%s\"", why, want);
}

/* ----------------------------------------------------------- round trips */
static void roundtrip_rec(void **state)
{
	(void)state;
	static uint8_t buf[BUFSZ], data[HAMMER_XBUFSIZE];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	const size_t lens[] = { 0, 1, 5, 8, 100, 4096, HAMMER_XBUFSIZE };
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t len = lens[k];
		struct hammer_btree_leaf_elm l = sample_leaf();
		l.data_len = (int32_t)len;
		l.data_crc = hammer_crc32c(data, len);
		const uint32_t types[] = {
			HAMMER_MREC_TYPE_REC,
			HAMMER_MREC_TYPE_REC | HAMMER_MRECF_CRC_ERROR |
				HAMMER_MRECF_DATA_CRC_BAD,
		};
		for (int t = 0; t < 2; t++) {
			memset(buf, 0xAA, sizeof(buf));
			size_t w = hammer_mrec_put_rec(buf, sizeof(buf), types[t], &l,
						       data, len);
			assert_int_equal(w, HAMMER_MREC_DOALIGN(80 + len));
			for (size_t i = 80 + len; i < w; i++)
				assert_int_equal(buf[i], 0);
			struct hammer_mrec r;
			get_ok(buf, w, &r, (int)w);
			assert_int_equal(r.type, types[t]);
			assert_int_equal(r.rec_size, 80 + len);
			assert_int_equal(r.wire_size, w);
			assert_true(leaf_eq(&r.u.leaf, &l));
			assert_int_equal(r.data_len, len);
			if (len) {
				assert_ptr_equal(r.data, buf + 80);
				assert_memory_equal(r.data, data, len);
			} else {
				assert_null(r.data);
			}
			assert_true(hammer_mrec_data_crc_ok(7, &r));
		}
		/* the buffer must hold the padded size exactly */
		size_t w = HAMMER_MREC_DOALIGN(80 + len);
		assert_int_equal(hammer_mrec_put_rec(buf, w - 1, HAMMER_MREC_TYPE_REC,
						     &l, data, len), 0);
		assert_int_equal(hammer_mrec_put_rec(buf, w, HAMMER_MREC_TYPE_REC,
						     &l, data, len), w);
	}
}

static void roundtrip_nodata_pass(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct hammer_btree_leaf_elm l = sample_leaf();
	l.data_len = 12345;	/* the length at the source, not sent */
	struct hammer_mrec r;
	uint32_t t = HAMMER_MREC_TYPE_REC | HAMMER_MRECF_NODATA;
	assert_int_equal(hammer_mrec_put_rec(buf, sizeof(buf), t, &l, "x", 1), 80);
	get_ok(buf, 80, &r, 80);
	assert_int_equal(r.type, t);
	assert_int_equal(r.rec_size, 80);
	assert_true(leaf_eq(&r.u.leaf, &l));
	assert_null(r.data);
	assert_int_equal(r.data_len, 0);
	assert_true(hammer_mrec_data_crc_ok(6, &r));

	assert_int_equal(hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_PASS,
					     &l, "abc", 3), 80);
	get_ok(buf, sizeof(buf), &r, 80);
	assert_int_equal(r.type, HAMMER_MREC_TYPE_PASS);
	assert_int_equal(r.rec_size, 80);
	assert_true(leaf_eq(&r.u.leaf, &l));
	assert_null(r.data);
	assert_true(hammer_mrec_data_crc_ok(7, &r));
	assert_string_equal(hammer_mrec_type_name(r.type), "PASS");

	/* refused by the encoder: a REC whose leaf length is not the data's,
	 * an oversized one, a non-REC type */
	l.data_len = 4;
	assert_int_equal(hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC,
					     &l, "abc", 3), 0);
	l.data_len = -1;
	assert_int_equal(hammer_mrec_put_rec(buf, sizeof(buf), t, &l, NULL, 0), 0);
	l.data_len = 0;
	assert_int_equal(hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_SKIP,
					     &l, NULL, 0), 0);
	assert_int_equal(hammer_mrec_put_rec(buf, 79, HAMMER_MREC_TYPE_PASS,
					     &l, NULL, 0), 0);
}

static void roundtrip_pfsd_skip_tid(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct hammer_mrec r;
	struct hammer_pseudofs_data d = sample_pfsd();
	assert_int_equal(hammer_mrec_put_pfsd(buf, sizeof(buf), &d), 320);
	get_ok(buf, 320, &r, 320);
	assert_int_equal(r.type, HAMMER_MREC_TYPE_PFSD);
	assert_int_equal(r.rec_size, 316);
	assert_int_equal(r.wire_size, 320);
	assert_int_equal(r.u.pfs.version, 1);
	assert_memory_equal(&r.u.pfs.pfsd, &d, sizeof(d));
	assert_int_equal(hammer_mrec_put_pfsd(buf, 319, &d), 0);

	struct hammer_base_elm b = sample_leaf().base, e = b;
	e.obj_id = 0x7fffffffffffffffLL;
	e.key = -1;
	e.rec_type = 0xffff;
	e.localization = 0x0003ffff;
	assert_int_equal(hammer_mrec_put_skip(buf, sizeof(buf), &b, &e), 96);
	get_ok(buf, 96, &r, 96);
	assert_int_equal(r.type, HAMMER_MREC_TYPE_SKIP);
	assert_int_equal(r.rec_size, 96);
	assert_memory_equal(&r.u.skip.beg, &b, sizeof(b));
	assert_memory_equal(&r.u.skip.end, &e, sizeof(e));
	assert_int_equal(hammer_mrec_put_skip(buf, 95, &b, &e), 0);

	const uint32_t types[] = { HAMMER_MREC_TYPE_UPDATE, HAMMER_MREC_TYPE_SYNC,
				   HAMMER_MREC_TYPE_TERM, HAMMER_MREC_TYPE_IDLE };
	const char *names[] = { "UPDATE", "SYNC", "TERM", "IDLE" };
	for (int i = 0; i < 4; i++) {
		hammer_tid_t tid = 0x0000000100000000ULL + (hammer_tid_t)i * 0x1234567;
		memset(buf, 0xAA, sizeof(buf));
		assert_int_equal(hammer_mrec_put_tid(buf, sizeof(buf), types[i], tid), 24);
		get_ok(buf, 24, &r, 24);
		assert_int_equal(r.type, types[i]);
		assert_int_equal(r.rec_size, 24);
		assert_int_equal(r.wire_size, 24);
		assert_true(r.u.tid == tid);
		assert_string_equal(hammer_mrec_type_name(r.type), names[i]);
		assert_int_equal(hammer_mrec_put_tid(buf, 23, types[i], tid), 0);
	}
	assert_int_equal(hammer_mrec_put_tid(buf, sizeof(buf), HAMMER_MREC_TYPE_REC, 1), 0);
	assert_int_equal(hammer_mrec_put_tid(buf, sizeof(buf), 0, 1), 0);
	assert_string_equal(hammer_mrec_type_name(HAMMER_MREC_TYPE_REC |
						  HAMMER_MRECF_CRC_ERROR), "REC");
	assert_string_equal(hammer_mrec_type_name(HAMMER_MREC_TYPE_PFSD), "PFSD");
	assert_string_equal(hammer_mrec_type_name(HAMMER_MREC_TYPE_SKIP), "SKIP");
	assert_string_equal(hammer_mrec_type_name(0), "?");
	assert_string_equal(hammer_mrec_type_name(9), "?");
}

/* A whole batch back to back, walked like a reader would. */
static void batch_walk(void **state)
{
	(void)state;
	static uint8_t buf[4096];
	size_t n = 0;
	struct hammer_pseudofs_data d = sample_pfsd();
	struct hammer_btree_leaf_elm l = sample_leaf();
	l.data_len = 13;
	l.data_crc = hammer_crc32("thirteen byte", 13);
	n += hammer_mrec_put_pfsd(buf + n, sizeof(buf) - n, &d);
	n += hammer_mrec_put_pfsd(buf + n, sizeof(buf) - n, &d);
	n += hammer_mrec_put_rec(buf + n, sizeof(buf) - n, HAMMER_MREC_TYPE_REC,
				 &l, "thirteen byte", 13);
	n += hammer_mrec_put_rec(buf + n, sizeof(buf) - n, HAMMER_MREC_TYPE_PASS,
				 &l, NULL, 0);
	n += hammer_mrec_put_skip(buf + n, sizeof(buf) - n, &l.base, &l.base);
	n += hammer_mrec_put_tid(buf + n, sizeof(buf) - n, HAMMER_MREC_TYPE_SYNC, 0);
	n += hammer_mrec_put_tid(buf + n, sizeof(buf) - n, HAMMER_MREC_TYPE_TERM, 0);
	assert_int_equal(n, 320 + 320 + 96 + 80 + 96 + 24 + 24);
	const uint32_t want[] = { 2, 2, 1, 6, 5, 4, 7 };
	size_t off = 0;
	int i = 0;
	while (off < n) {
		struct hammer_mrec r;
		int rc = hammer_mrec_get(buf + off, n - off, &r, NULL, NULL, 0);
		assert_true(rc > 0);
		assert_int_equal(r.type, want[i]);
		assert_true(hammer_mrec_data_crc_ok(6, &r));
		off += (size_t)rc;
		i++;
	}
	assert_int_equal(i, 7);
	assert_int_equal(off, n);
}

/* ------------------------------------------------------------ exact bytes */
static void exact_bytes(void **state)
{
	(void)state;
	uint8_t buf[512], want[512];

	/* UPDATE: 24 bytes, no padding */
	memset(want, 0, sizeof(want));
	le32(want + 0, 0x4DD97272u);
	le32(want + 8, 24);
	le32(want + 12, 3);
	le64(want + 16, 0x0102030405060708ULL);
	le32(want + 4, hammer_crc32(want + 8, 16));
	memset(buf, 0xAA, sizeof(buf));
	assert_int_equal(hammer_mrec_put_tid(buf, sizeof(buf), 3, 0x0102030405060708ULL), 24);
	assert_memory_equal(buf, want, 24);
	assert_int_equal(buf[24], 0xAA);	/* nothing written past it */
	/* the literal bytes, to pin the byte order down */
	const uint8_t lit[16] = { 0x72, 0x72, 0xd9, 0x4d };
	assert_memory_equal(buf, lit, 4);
	assert_int_equal(buf[8], 24);
	assert_int_equal(buf[12], 3);
	assert_int_equal(buf[16], 0x08);
	assert_int_equal(buf[23], 0x01);

	/* REC with 5 bytes of data: rec_size 85, 88 on the wire */
	struct hammer_btree_leaf_elm l = sample_leaf();
	l.data_len = 5;
	l.data_crc = 0xdeadbeef;
	memset(want, 0, sizeof(want));
	le32(want + 0, 0x4DD97272u);
	le32(want + 8, 85);
	le32(want + 12, 1);
	uint8_t *e = want + 16;
	le64(e + 0, 0x0000000100000005ULL);
	le64(e + 8, 0x0000000000004000ULL);
	le64(e + 16, 0x0000000100010000ULL);
	le64(e + 24, 0x0000000100020000ULL);
	le16(e + 32, HAMMER_RECTYPE_DATA);
	e[34] = 2;
	e[35] = HAMMER_BTREE_TYPE_RECORD;
	le32(e + 36, 0x00030002);
	le32(e + 40, 0x11223344);
	le32(e + 44, 0x55667788);
	le64(e + 48, 0xa000000000012340ULL);
	le32(e + 56, 5);
	le32(e + 60, 0xdeadbeef);
	memcpy(want + 80, "hello", 5);
	le32(want + 4, hammer_crc32(want + 8, 85 - 8));
	uint8_t leafb[64];	/* the leaf's bytes, reused below */
	memcpy(leafb, e, sizeof(leafb));
	memset(buf, 0xAA, sizeof(buf));
	assert_int_equal(hammer_mrec_put_rec(buf, sizeof(buf), 1, &l, "hello", 5), 88);
	assert_memory_equal(buf, want, 88);

	/* PFSD: 316 bytes, 320 on the wire */
	struct hammer_pseudofs_data d = sample_pfsd();
	memset(want, 0, sizeof(want));
	le32(want + 0, 0x4DD97272u);
	le32(want + 8, 316);
	le32(want + 12, 2);
	le32(want + 16, 1);		/* version */
	le32(want + 20, 0);		/* reserved */
	uint8_t *p = want + 24;
	le64(p + 0, d.sync_low_tid);
	le64(p + 8, d.sync_beg_tid);
	le64(p + 16, d.sync_end_tid);
	le64(p + 24, d.sync_beg_ts);
	le64(p + 32, d.sync_end_ts);
	memcpy(p + 40, d.shared_uuid.b, 16);
	memcpy(p + 56, d.unique_uuid.b, 16);
	le32(p + 76, HAMMER_PFSD_SLAVE);
	memcpy(p + 80, "slave-label", 11);
	memcpy(p + 144, "/snaps", 6);
	le32(p + 220, 3600);
	le32(p + 224, 0xffffffffu);
	le32(want + 4, hammer_crc32(want + 8, 316 - 8));
	memset(buf, 0xAA, sizeof(buf));
	assert_int_equal(hammer_mrec_put_pfsd(buf, sizeof(buf), &d), 320);
	assert_memory_equal(buf, want, 320);
	assert_int_equal(buf[320], 0xAA);

	/* SKIP: 96 bytes */
	struct hammer_base_elm b = l.base, en = l.base;
	en.obj_id = 0x0000000100000009LL;
	en.rec_type = 0x0102;
	memset(want, 0, sizeof(want));
	le32(want + 0, 0x4DD97272u);
	le32(want + 8, 96);
	le32(want + 12, 5);
	memcpy(want + 16, leafb, 40);	/* the same base element bytes */
	memcpy(want + 56, leafb, 40);
	le64(want + 56, 0x0000000100000009ULL);
	le16(want + 56 + 32, 0x0102);
	le32(want + 4, hammer_crc32(want + 8, 96 - 8));
	assert_int_equal(hammer_mrec_put_skip(buf, sizeof(buf), &b, &en), 96);
	assert_memory_equal(buf, want, 96);

	/* PASS: 80 bytes, the leaf and no data */
	memset(want, 0, sizeof(want));
	le32(want + 0, 0x4DD97272u);
	le32(want + 8, 80);
	le32(want + 12, 6);
	memcpy(want + 16, leafb, 64);
	le32(want + 4, hammer_crc32(want + 8, 80 - 8));
	assert_int_equal(hammer_mrec_put_rec(buf, sizeof(buf), 6, &l, "hello", 5), 80);
	assert_memory_equal(buf, want, 80);

	/* the struct sizes the header promises */
	assert_int_equal(HAMMER_MREC_REC_SIZE, 80);
	assert_int_equal(HAMMER_MREC_PFSD_SIZE, 316);
	assert_int_equal(HAMMER_MREC_SKIP_SIZE, 96);
	assert_int_equal(HAMMER_MREC_TID_SIZE, 24);
	assert_int_equal(HAMMER_MREC_MAX, 65616);
}

/* ------------------------------------------------------------- refusals */
static void refusals(void **state)
{
	(void)state;
	static uint8_t buf[BUFSZ], data[HAMMER_XBUFSIZE + 8];
	struct hammer_btree_leaf_elm l = sample_leaf();
	struct hammer_pseudofs_data d = sample_pfsd();

	/* signature */
	hammer_mrec_put_tid(buf, sizeof(buf), HAMMER_MREC_TYPE_SYNC, 0);
	le32(buf, 0x12345678);
	get_bad(buf, 24, "bad signature 0x12345678");
	le32(buf, 0x7272D94Du);
	get_bad(buf, 24, "bad signature 0x7272d94d (byte-swapped");
	/* a whole record written big-endian: refused at the signature */
	const uint8_t be[24] = { 0x4d, 0xd9, 0x72, 0x72, 0, 0, 0, 0, 0, 0, 0, 24,
				 0, 0, 0, 4 };
	get_bad(be, 24, "byte-swapped");

	/* rec_size bounds (checked before the CRC, and before waiting) */
	hammer_mrec_put_tid(buf, sizeof(buf), HAMMER_MREC_TYPE_SYNC, 0);
	le32(buf + 8, 12);
	get_bad(buf, 16, "illegal rec_size 12 (16..65616)");
	le32(buf + 8, 0);
	get_bad(buf, 16, "illegal rec_size 0 (16..65616)");
	le32(buf + 8, 65617);
	get_bad(buf, 16, "illegal rec_size 65617 (16..65616)");
	le32(buf + 8, 0xffffffffu);
	get_bad(buf, 16, "illegal rec_size 4294967295");

	/* CRC */
	hammer_mrec_put_tid(buf, sizeof(buf), HAMMER_MREC_TYPE_UPDATE, 77);
	uint32_t good = rd32(buf + 4);
	buf[20] ^= 1;
	char msg[64];
	snprintf(msg, sizeof(msg), "bad crc 0x%08x (computed 0x", good);
	get_bad(buf, 24, msg);
	buf[20] ^= 1;
	le32(buf + 4, good ^ 0x80000000u);
	get_bad(buf, 24, "bad crc");
	le32(buf + 4, good);
	buf[12] = 4;	/* the type is covered */
	get_bad(buf, 24, "bad crc");

	/* unknown types */
	const uint32_t unknown[] = { 0, 9, 0xff, 0x80000000u, 0x100 | 0x80,
				     0x2004, 0x08000004, 0x00000104 };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		hammer_mrec_put_tid(buf, sizeof(buf), HAMMER_MREC_TYPE_SYNC, 0);
		le32(buf + 12, unknown[i]);
		fix_crc(buf);
		snprintf(msg, sizeof(msg), "unknown record type 0x%08x (rec_size 24)",
			 unknown[i]);
		get_bad(buf, 24, msg);
	}
	/* flags belong to REC and PASS only */
	hammer_mrec_put_tid(buf, sizeof(buf), HAMMER_MREC_TYPE_SYNC, 0);
	le32(buf + 12, HAMMER_MREC_TYPE_SYNC | HAMMER_MRECF_NODATA);
	fix_crc(buf);
	get_bad(buf, 24, "unknown record type 0x10000004 (flags 0x10000000 on a SYNC record)");
	hammer_mrec_put_pfsd(buf, sizeof(buf), &d);
	le32(buf + 12, HAMMER_MREC_TYPE_PFSD | HAMMER_MRECF_CRC_ERROR);
	fix_crc(buf);
	get_bad(buf, 320, "unknown record type 0x80000002 (flags 0x80000000 on a PFSD record)");
	hammer_mrec_put_skip(buf, sizeof(buf), &l.base, &l.base);
	le32(buf + 12, HAMMER_MREC_TYPE_SKIP | HAMMER_MRECF_RECD_CRC_BAD);
	fix_crc(buf);
	get_bad(buf, 96, "on a SKIP record");
	assert_int_equal(hammer_mrec_put_tid(buf, sizeof(buf), HAMMER_MREC_TYPE_TERM |
					     HAMMER_MRECF_CRC_ERROR, 0), 0);
	assert_int_equal(hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_PASS |
					     0x100, &l, NULL, 0), 0);
	/* a PASS with every flag is fine */
	const uint32_t allf = HAMMER_MREC_TYPE_PASS | HAMMER_MRECF_CRC_ERROR |
		HAMMER_MRECF_DATA_CRC_BAD | HAMMER_MRECF_RECD_CRC_BAD | HAMMER_MRECF_NODATA;
	assert_int_equal(hammer_mrec_put_rec(buf, sizeof(buf), allf, &l, NULL, 0), 80);
	get_ok(buf, 80, &(struct hammer_mrec){ 0 }, 80);

	/* wrong fixed sizes: each fixed type one word longer and shorter */
	const struct { uint32_t type, size; const char *name; } fx[] = {
		{ HAMMER_MREC_TYPE_PFSD, 316, "PFSD" },
		{ HAMMER_MREC_TYPE_UPDATE, 24, "UPDATE" },
		{ HAMMER_MREC_TYPE_SYNC, 24, "SYNC" },
		{ HAMMER_MREC_TYPE_TERM, 24, "TERM" },
		{ HAMMER_MREC_TYPE_IDLE, 24, "IDLE" },
		{ HAMMER_MREC_TYPE_SKIP, 96, "SKIP" },
		{ HAMMER_MREC_TYPE_PASS, 80, "PASS" },
		{ HAMMER_MREC_TYPE_REC | HAMMER_MRECF_NODATA, 80, "REC_NODATA" },
	};
	for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
		const uint32_t sizes[] = { fx[i].size - 8, fx[i].size + 8, 16 };
		for (int k = 0; k < 3; k++) {
			memset(buf, 0, 512);
			le32(buf, 0x4DD97272u);
			le32(buf + 8, sizes[k]);
			le32(buf + 12, fx[i].type);
			fix_crc(buf);
			snprintf(msg, sizeof(msg),
				 "unexpected payload size: %s rec_size %u (must be %u)",
				 fx[i].name, sizes[k], fx[i].size);
			get_bad(buf, 512, msg);
		}
	}
	/* a REC too short for its leaf */
	memset(buf, 0, 512);
	le32(buf, 0x4DD97272u);
	le32(buf + 8, 72);
	le32(buf + 12, HAMMER_MREC_TYPE_REC);
	fix_crc(buf);
	get_bad(buf, 512, "unexpected payload size: REC rec_size 72 (must be at least 80)");

	/* REC data_len: negative, too big, inconsistent with rec_size */
	memset(data, 0x5a, sizeof(data));
	l.data_len = 16;
	size_t w = hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC, &l, data, 16);
	assert_int_equal(w, 96);
	le32(buf + 16 + 56, 0xffffffffu);
	fix_crc(buf);
	get_bad(buf, w, "illegal element data_len -1 (rec_size 96");
	le32(buf + 16 + 56, 15);
	fix_crc(buf);
	get_bad(buf, w, "illegal element data_len 15 (rec_size 96: 16 bytes of data)");
	le32(buf + 16 + 56, 17);
	fix_crc(buf);
	get_bad(buf, w, "illegal element data_len 17 (rec_size 96");
	le32(buf + 16 + 56, 0);
	fix_crc(buf);
	get_bad(buf, w, "illegal element data_len 0 (rec_size 96");
	/* a full-size REC whose leaf claims one byte more than the maximum */
	l.data_len = HAMMER_XBUFSIZE;
	w = hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC, &l, data,
				HAMMER_XBUFSIZE);
	assert_int_equal(w, 65616);
	get_ok(buf, w, &(struct hammer_mrec){ 0 }, 65616);
	le32(buf + 16 + 56, HAMMER_XBUFSIZE + 1);
	fix_crc(buf);
	get_bad(buf, w, "illegal element data_len 65537 (rec_size 65616");
	/* NODATA: data_len is the source's, but still bounded */
	l.data_len = 0;
	w = hammer_mrec_put_rec(buf, sizeof(buf),
				HAMMER_MREC_TYPE_REC | HAMMER_MRECF_NODATA, &l, NULL, 0);
	assert_int_equal(w, 80);
	le32(buf + 16 + 56, 0x80000000u);
	fix_crc(buf);
	get_bad(buf, w, "illegal element data_len -2147483648 (rec_size 80: 0 bytes of data, NODATA)");
	le32(buf + 16 + 56, HAMMER_XBUFSIZE + 1);
	fix_crc(buf);
	get_bad(buf, w, "illegal element data_len 65537");

	/* PFSD version */
	hammer_mrec_put_pfsd(buf, sizeof(buf), &d);
	le32(buf + 16, 2);
	fix_crc(buf);
	get_bad(buf, 320, "Version mismatch: PFSD version 2 (expected 1)");
	le32(buf + 16, 0);
	fix_crc(buf);
	get_bad(buf, 320, "PFSD version 0");

	/* padding is not checked (DragonFly ignores it) */
	hammer_mrec_put_pfsd(buf, sizeof(buf), &d);
	memset(buf + 316, 0xEE, 4);
	get_ok(buf, 320, &(struct hammer_mrec){ 0 }, 320);

	/* a refusal with no room for the text still refuses */
	le32(buf, 0);
	assert_int_equal(hammer_mrec_get(buf, 320, NULL, NULL, NULL, 0), -22);
	char tiny[4] = "xyz";
	assert_int_equal(hammer_mrec_get(buf, 320, NULL, NULL, tiny, sizeof(tiny)), -22);
	assert_string_equal(tiny, "bad");
}

/* ------------------------------------------------------ incomplete input */
static void incomplete(void **state)
{
	(void)state;
	static uint8_t buf[BUFSZ];
	struct hammer_mrec r;
	size_t need;
	struct hammer_pseudofs_data d = sample_pfsd();
	assert_int_equal(hammer_mrec_put_pfsd(buf, sizeof(buf), &d), 320);
	for (size_t a = 0; a < 16; a++) {
		need = 0;
		assert_int_equal(hammer_mrec_get(buf, a, &r, &need, NULL, 0), 0);
		assert_int_equal(need, 16);
	}
	for (size_t a = 16; a < 320; a++) {
		need = 0;
		assert_int_equal(hammer_mrec_get(buf, a, &r, &need, NULL, 0), 0);
		assert_int_equal(need, 320);
	}
	/* 316 bytes are not enough: the padding belongs to the record */
	assert_int_equal(hammer_mrec_get(buf, 316, &r, NULL, NULL, 0), 0);
	assert_int_equal(hammer_mrec_get(buf, 320, &r, &need, NULL, 0), 320);
	/* a bad signature is reported as soon as the head is there */
	le32(buf, 1);
	assert_int_equal(hammer_mrec_get(buf, 16, &r, &need, NULL, 0), -22);

	/* the largest record */
	struct hammer_btree_leaf_elm l = sample_leaf();
	static uint8_t data[HAMMER_XBUFSIZE];
	l.data_len = HAMMER_XBUFSIZE;
	size_t w = hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC, &l,
				       data, sizeof(data));
	assert_int_equal(w, 65616);
	assert_int_equal(hammer_mrec_get(buf, 100, &r, &need, NULL, 0), 0);
	assert_int_equal(need, 65616);
	assert_int_equal(hammer_mrec_get(buf, 65615, &r, &need, NULL, 0), 0);
	/* a REC of 1 byte: rec_size 81, wire 88 */
	l.data_len = 1;
	w = hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC, &l, "z", 1);
	assert_int_equal(w, 88);
	assert_int_equal(hammer_mrec_get(buf, 81, &r, &need, NULL, 0), 0);
	assert_int_equal(need, 88);
	/* need may be NULL */
	assert_int_equal(hammer_mrec_get(buf, 5, &r, NULL, NULL, 0), 0);
}

/* ------------------------------------------------------------ data CRCs */
static void data_crcs(void **state)
{
	(void)state;
	uint8_t buf[512];
	uint8_t data[100];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ 0x3c);
	struct hammer_btree_leaf_elm l = sample_leaf();
	l.data_len = sizeof(data);
	struct hammer_mrec r;

	/* legacy CRC: good at every version */
	l.data_crc = hammer_crc32(data, sizeof(data));
	hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC, &l, data, sizeof(data));
	get_ok(buf, sizeof(buf), &r, 184);
	assert_int_equal(hammer_mrec_data_crc_ok(4, &r), 1);
	assert_int_equal(hammer_mrec_data_crc_ok(6, &r), 1);
	assert_int_equal(hammer_mrec_data_crc_ok(7, &r), 1);
	/* CRC-32C: only at version 7 */
	l.data_crc = hammer_crc32c(data, sizeof(data));
	hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC, &l, data, sizeof(data));
	get_ok(buf, sizeof(buf), &r, 184);
	assert_int_equal(hammer_mrec_data_crc_ok(6, &r), 0);
	assert_int_equal(hammer_mrec_data_crc_ok(7, &r), 1);
	/* a bad data CRC: the record decodes, the data check says no */
	l.data_crc = hammer_crc32c(data, sizeof(data)) ^ 1;
	hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC, &l, data, sizeof(data));
	get_ok(buf, sizeof(buf), &r, 184);
	assert_int_equal(hammer_mrec_data_crc_ok(6, &r), 0);
	assert_int_equal(hammer_mrec_data_crc_ok(7, &r), 0);
	/* a changed data byte (CRC re-made over the record) */
	l.data_crc = hammer_crc32c(data, sizeof(data));
	hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC, &l, data, sizeof(data));
	buf[80 + 50] ^= 0x10;
	fix_crc(buf);
	get_ok(buf, sizeof(buf), &r, 184);
	assert_int_equal(hammer_mrec_data_crc_ok(7, &r), 0);

	/* INODE records: the CRC covers only HAMMER_INODE_CRCSIZE bytes */
	struct hammer_inode_data ino;
	memset(&ino, 0, sizeof(ino));
	ino.version = 1;
	ino.mode = 0644;
	ino.size = 12345;
	ino.mtime = 111;
	ino.atime = 222;
	l = sample_leaf();
	l.base.rec_type = HAMMER_RECTYPE_INODE;
	l.data_len = sizeof(ino);
	for (unsigned v = 6; v <= 7; v++) {
		l.data_crc = hammer_datacrc(v, &ino, HAMMER_INODE_CRCSIZE);
		ino.atime = 222;
		size_t w = hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC,
					       &l, &ino, sizeof(ino));
		get_ok(buf, sizeof(buf), &r, (int)w);
		assert_int_equal(hammer_mrec_data_crc_ok(v, &r), 1);
		/* atime / mtime changes do not matter */
		ino.atime = 999;
		ino.mtime = 888;
		hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC, &l, &ino,
				    sizeof(ino));
		get_ok(buf, sizeof(buf), &r, (int)w);
		assert_int_equal(hammer_mrec_data_crc_ok(v, &r), 1);
		/* the size does */
		ino.size++;
		hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC, &l, &ino,
				    sizeof(ino));
		get_ok(buf, sizeof(buf), &r, (int)w);
		assert_int_equal(hammer_mrec_data_crc_ok(v, &r), 0);
		ino.size--;
		ino.mtime = 111;
	}
	/* a CRC over the whole inode is not the one HAMMER stores */
	l.data_crc = hammer_crc32(&ino, sizeof(ino));
	hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC, &l, &ino, sizeof(ino));
	get_ok(buf, sizeof(buf), &r, (int)HAMMER_MREC_DOALIGN(80 + sizeof(ino)));
	assert_int_equal(hammer_mrec_data_crc_ok(6, &r), 0);

	/* an empty REC: the CRC of nothing is 0 */
	l = sample_leaf();
	hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_REC, &l, NULL, 0);
	get_ok(buf, sizeof(buf), &r, 80);
	assert_int_equal(hammer_mrec_data_crc_ok(7, &r), 1);
	/* records without payload have nothing to check */
	l.data_crc = 0x12345678;
	hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_PASS, &l, NULL, 0);
	get_ok(buf, sizeof(buf), &r, 80);
	assert_int_equal(hammer_mrec_data_crc_ok(7, &r), 1);
	assert_int_equal(hammer_mrec_data_crc_ok(7, NULL), 1);
}

/* ------------------------------------------------------------ mirror-dump */
static char *dump_of(const uint8_t *buf, size_t len)
{
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	assert_non_null(f);
	size_t off = 0;
	while (off < len) {
		struct hammer_mrec r;
		int rc = hammer_mrec_get(buf + off, len - off, &r, NULL, NULL, 0);
		assert_true(rc > 0);
		hammer_mrec_dump(f, &r);
		off += (size_t)rc;
	}
	fclose(f);
	return text;
}

static void dump_text(void **state)
{
	(void)state;
	uint8_t buf[2048];
	size_t n = 0;
	struct hammer_btree_leaf_elm l = sample_leaf();
	l.data_len = 5;
	n += hammer_mrec_put_rec(buf + n, sizeof(buf) - n, HAMMER_MREC_TYPE_REC,
				 &l, "hello", 5);
	char *t = dump_of(buf, n);
	assert_string_equal(t,
		"Record lo=00030002 obj=0000000100000005 key=0000000000004000 rt=10 ot=02\n"
		"       tids 0000000100010000:0000000100020000 data=5\n");
	free(t);

	/* bad CRC flag (with DATA_CRC_BAD, as the kernel sends it) */
	n = hammer_mrec_put_rec(buf, sizeof(buf),
				HAMMER_MREC_TYPE_REC | HAMMER_MRECF_CRC_ERROR |
				HAMMER_MRECF_DATA_CRC_BAD, &l, "hello", 5);
	t = dump_of(buf, n);
	assert_string_equal(t,
		"Record lo=00030002 obj=0000000100000005 key=0000000000004000 rt=10 ot=02 (BAD CRC)\n"
		"       tids 0000000100010000:0000000100020000 data=5\n");
	free(t);

	/* PASS, negative keys, wide rec_type */
	l.base.obj_id = -2;
	l.base.key = INT64_MIN;
	l.base.rec_type = 0x1234;
	l.base.obj_type = 0xab;
	l.base.localization = 0xffff0001u;
	l.base.delete_tid = 0;
	l.data_len = 65536;
	n = hammer_mrec_put_rec(buf, sizeof(buf), HAMMER_MREC_TYPE_PASS, &l, NULL, 0);
	t = dump_of(buf, n);
	assert_string_equal(t,
		"Pass   lo=ffff0001 obj=fffffffffffffffe key=8000000000000000 rt=1234 ot=ab\n"
		"       tids 0000000100010000:0000000000000000 data=65536\n");
	free(t);

	/* SKIP */
	struct hammer_base_elm b = sample_leaf().base, e = b;
	e.obj_id = 0x7fffffffffffffffLL;
	e.key = 0x7fffffffffffffffLL;
	e.rec_type = 0xffff;
	e.localization = 0x0003ffff;
	n = hammer_mrec_put_skip(buf, sizeof(buf), &b, &e);
	t = dump_of(buf, n);
	assert_string_equal(t,
		"Skip   lo=00030002 obj=0000000100000005 key=0000000000004000 rt=10 to\n"
		"       lo=0003ffff obj=7fffffffffffffff key=7fffffffffffffff rt=ffff\n");
	free(t);

	/* NODATA REC: a Record; the other kinds print nothing */
	l = sample_leaf();
	l.data_len = 300;
	n = 0;
	n += hammer_mrec_put_rec(buf + n, sizeof(buf) - n,
				 HAMMER_MREC_TYPE_REC | HAMMER_MRECF_NODATA, &l, NULL, 0);
	struct hammer_pseudofs_data d = sample_pfsd();
	n += hammer_mrec_put_pfsd(buf + n, sizeof(buf) - n, &d);
	n += hammer_mrec_put_tid(buf + n, sizeof(buf) - n, HAMMER_MREC_TYPE_UPDATE, 5);
	n += hammer_mrec_put_tid(buf + n, sizeof(buf) - n, HAMMER_MREC_TYPE_SYNC, 0);
	n += hammer_mrec_put_tid(buf + n, sizeof(buf) - n, HAMMER_MREC_TYPE_IDLE, 0);
	n += hammer_mrec_put_tid(buf + n, sizeof(buf) - n, HAMMER_MREC_TYPE_TERM, 0);
	/* a PASS with CRC_ERROR is outside mirror-dump's type mask cases */
	n += hammer_mrec_put_rec(buf + n, sizeof(buf) - n,
				 HAMMER_MREC_TYPE_PASS | HAMMER_MRECF_CRC_ERROR, &l,
				 NULL, 0);
	t = dump_of(buf, n);
	assert_string_equal(t,
		"Record lo=00030002 obj=0000000100000005 key=0000000000004000 rt=10 ot=02\n"
		"       tids 0000000100010000:0000000100020000 data=300\n");
	free(t);

	/* fmemopen works too (the header's FILE * is any stream) */
	char out[256] = "";
	FILE *f = fmemopen(out, sizeof(out), "w");
	assert_non_null(f);
	struct hammer_mrec r;
	n = hammer_mrec_put_tid(buf, sizeof(buf), HAMMER_MREC_TYPE_TERM, 0);
	get_ok(buf, n, &r, 24);
	hammer_mrec_dump(f, &r);
	fclose(f);
	assert_string_equal(out, "");
}

/* ------------------------------------------------ fuzz seed corpus */
/*
 * The seeds of fuzz/corpus/fuzz_mstream: built here, checked to walk as
 * intended, and written out when MSTREAM_SEED_DIR names a directory
 * (MSTREAM_SEED_DIR=fuzz/corpus/fuzz_mstream build/tests/test_mstream,
 * then name each file by its SHA-1 like the other corpora).
 */
static size_t seed_batch(uint8_t *buf, size_t size, int variant)
{
	size_t n = 0;
	struct hammer_pseudofs_data d = sample_pfsd();
	struct hammer_btree_leaf_elm l = sample_leaf();
	n += hammer_mrec_put_pfsd(buf + n, size - n, &d);
	if (variant == 1)	/* 2-way: the target's PFSD */
		n += hammer_mrec_put_pfsd(buf + n, size - n, &d);
	n += hammer_mrec_put_pfsd(buf + n, size - n, &d);
	/* an inode record, CRC over HAMMER_INODE_CRCSIZE bytes */
	struct hammer_inode_data ino;
	memset(&ino, 0, sizeof(ino));
	ino.version = 1;
	ino.mode = 0100644;
	ino.nlinks = 1;
	ino.size = 13;
	ino.obj_type = 2;
	ino.mtime = 1700000000000000ULL;
	struct hammer_btree_leaf_elm li = l;
	li.base.key = 0;
	li.base.rec_type = HAMMER_RECTYPE_INODE;
	li.base.localization = 0x00030001;
	li.data_len = sizeof(ino);
	li.data_crc = hammer_crc32c(&ino, HAMMER_INODE_CRCSIZE);
	n += hammer_mrec_put_rec(buf + n, size - n, HAMMER_MREC_TYPE_REC, &li,
				 &ino, sizeof(ino));
	/* a data record */
	l.data_len = 13;
	l.data_crc = hammer_crc32c("thirteen byte", 13);
	n += hammer_mrec_put_rec(buf + n, size - n, HAMMER_MREC_TYPE_REC, &l,
				 "thirteen byte", 13);
	if (variant == 1) {
		/* a record the source could not read, and a prescan record */
		l.data_crc ^= 1;
		n += hammer_mrec_put_rec(buf + n, size - n, HAMMER_MREC_TYPE_REC |
					 HAMMER_MRECF_CRC_ERROR |
					 HAMMER_MRECF_DATA_CRC_BAD, &l,
					 "thirteen byte", 13);
		n += hammer_mrec_put_rec(buf + n, size - n, HAMMER_MREC_TYPE_REC |
					 HAMMER_MRECF_NODATA, &l, NULL, 0);
	}
	n += hammer_mrec_put_rec(buf + n, size - n, HAMMER_MREC_TYPE_PASS, &l,
				 NULL, 0);
	struct hammer_base_elm e = l.base;
	e.obj_id += 100;
	n += hammer_mrec_put_skip(buf + n, size - n, &l.base, &e);
	if (variant == 1) {
		n += hammer_mrec_put_tid(buf + n, size - n, HAMMER_MREC_TYPE_IDLE, 0);
		n += hammer_mrec_put_tid(buf + n, size - n, HAMMER_MREC_TYPE_UPDATE,
					 d.sync_end_tid);
	} else {
		n += hammer_mrec_put_tid(buf + n, size - n, HAMMER_MREC_TYPE_SYNC, 0);
	}
	n += hammer_mrec_put_tid(buf + n, size - n, HAMMER_MREC_TYPE_TERM, 0);
	return n;
}

static void seeds(void **state)
{
	(void)state;
	static uint8_t buf[5][4096];
	size_t len[5];
	len[0] = seed_batch(buf[0], sizeof(buf[0]), 0);
	len[1] = seed_batch(buf[1], sizeof(buf[1]), 1);
	/* cut in the middle of the data record */
	len[2] = 320 * 2 + HAMMER_MREC_DOALIGN(80 + sizeof(struct hammer_inode_data)) + 40;
	memcpy(buf[2], buf[0], len[2]);
	/* a damaged CRC in the middle */
	memcpy(buf[3], buf[0], len[0]);
	len[3] = len[0];
	buf[3][640 + 4] ^= 0xff;
	/* the batch's first record byte-swapped */
	memcpy(buf[4], buf[0], len[0]);
	len[4] = len[0];
	le32(buf[4], 0x7272D94Du);
	const int want_recs[5] = { 8, 12, 3, 2, 0 };
	for (int s = 0; s < 5; s++) {
		size_t off = 0;
		int recs = 0, rc;
		struct hammer_mrec r;
		while ((rc = hammer_mrec_get(buf[s] + off, len[s] - off, &r, NULL,
					     NULL, 0)) > 0) {
			assert_true(hammer_mrec_data_crc_ok(7, &r) ==
				    !(r.type & HAMMER_MRECF_CRC_ERROR));
			off += (size_t)rc;
			recs++;
		}
		assert_int_equal(recs, want_recs[s]);
		assert_int_equal(off == len[s], s < 2);
	}
	const char *dir = getenv("MSTREAM_SEED_DIR");
	if (!dir || !dir[0])
		return;
	for (int s = 0; s < 5; s++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/seed-%d", dir, s);
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(buf[s], 1, len[s], f), len[s]);
		assert_int_equal(fclose(f), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip_rec),
		cmocka_unit_test(roundtrip_nodata_pass),
		cmocka_unit_test(roundtrip_pfsd_skip_tid),
		cmocka_unit_test(batch_walk),
		cmocka_unit_test(exact_bytes),
		cmocka_unit_test(refusals),
		cmocka_unit_test(incomplete),
		cmocka_unit_test(data_crcs),
		cmocka_unit_test(dump_text),
		cmocka_unit_test(seeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
