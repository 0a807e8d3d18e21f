/*
 * test_recover.c - stage 1 UNDO recovery and the stage 2 REDO scan.
 *
 * A flush cycle is simulated by hand on a RAM image, in the flusher's
 * order: meta-data buffers and volume headers change with their old bytes
 * logged (the buffer cache's UNDO hook, zone-1 UNDOs for headers), the
 * UNDO buffers are written, a barrier, the root header gets (first, P),
 * then some or all of the meta-data is written, and the "crash" is
 * reopening a copy of the device bytes.  Recovery must bring back every
 * byte of the state before the cycle (or, with two cycles, after the first
 * when the second cycle's header made it to disk), read-write and
 * read-only, also when it is itself interrupted after any write (a write
 * countdown device, and the sim's crash states with reordering inside
 * epochs), and must refuse damaged FIFOs with -EUCLEAN naming the record
 * while leaving the device bytes alone.
 *
 * Randomised cases print "seed S case C"; rerun with TEST_RECOVER_SEED=S
 * (TEST_RECOVER_CASES=N for more).
 */
#include "undotest.h"

#include <time.h>

#include "ref/blockmap.h"
#include "sim/sim.h"

/* ------------------------------------------------------ cycle fixture */
struct cfx {
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	struct hammer_undo *u;
	struct hammer_fifo_geom g;
	unsigned hdr_dirty;		/* bit v: header v changed */
	hammer_off_t sync_at;		/* a REDO_SYNC record laid down, or 0 */
};

static int undo_hook(void *ctx, hammer_off_t z2, const void *old, size_t len)
{
	struct cfx *c = ctx;
	struct hammer_err e = { 0 };
	int rc = hammer_undo_log(c->u, z2, old, len, &e);
	if (rc)
		print_error("undo hook: %s\n", e.msg);
	return rc;
}

static void cfx_attach(struct cfx *c, struct hammer_volset *vs)
{
	memset(c, 0, sizeof(*c));
	c->vs = vs;
	struct hammer_err e = { 0 };
	assert_int_equal(hammer_bufcache_open(vs, 64 * MB, &c->bc), 0);
	CHECK_RC(hammer_undo_open(vs, c->bc, &c->u, &e), e);
	CHECK_RC(hammer_fifo_geom_get(vs, &c->g, &e), e);
	struct hammer_buffer_hooks h = { undo_hook, c };
	hammer_bufcache_set_hooks(c->bc, &h);
}

static void cfx_close(struct cfx *c)
{
	hammer_undo_close(c->u);
	hammer_bufcache_close(c->bc);
	hammer_volset_close(c->vs);
}

/* A random zone-2 range (inside one 16 KB buffer) not in the FIFO. */
static hammer_off_t pick_target(struct cfx *c, size_t *len)
{
	for (;;) {
		unsigned vol = (unsigned)rnd_n((uint64_t)c->vs->count);
		struct hammer_volume_ondisk *h = &c->vs->vols[vol]->hdr;
		uint64_t space = (uint64_t)(h->vol_buf_end - h->vol_buf_beg);
		uint64_t off = rnd_n(space / 8) * 8 + rnd_n(8) * (rnd_n(4) == 0);
		size_t n = rnd_n(3) ? 1 + rnd_n(300) : 1 + rnd_n(4096);
		size_t room = KB16 - (off & (KB16 - 1));
		if (n > room)
			n = room;
		if (off + n > space)
			continue;
		hammer_off_t a = hammer_encode(2, vol, off);
		if (hammer_fifo_overlaps(c->vs, &c->g, a, n))
			continue;
		*len = n;
		return a;
	}
}

static void modify_z2(struct cfx *c, hammer_off_t a, size_t n)
{
	struct hammer_buffer *b;
	void *p;
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_buffer_get(c->bc, a, n, 0, &b, &p, &e), e);
	CHECK(hammer_buffer_modify(c->bc, b, p, n) == 0);
	rnd_fill(p, n);
	hammer_buffer_put(c->bc, b);
}

/* Log exactly [a, a + n) and change it (with the hook off). */
static void modify_exact(struct cfx *c, hammer_off_t a, size_t n)
{
	struct hammer_buffer *b;
	void *p;
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_buffer_get(c->bc, a, n, 0, &b, &p, &e), e);
	CHECK_RC(hammer_undo_log(c->u, a, p, n, &e), e);
	CHECK(hammer_buffer_modify(c->bc, b, p, n) == 0);
	rnd_fill(p, n);
	hammer_buffer_put(c->bc, b);
}

/* Header ranges that decode whatever their bytes (not the FIFO's own). */
static const struct { uint32_t off, len; } hdr_fields[] = {
	{ 80, 64 },		/* vol_label */
	{ 160, 4 },		/* vol_flags */
	{ 168, 32 },		/* vol_reserved */
	{ 200, 48 },		/* vol0 stats, btree root */
	{ 248, 8 },		/* vol0_next_tid */
	{ 264 + 4 * 40, 40 },	/* blockmap[4] */
	{ 264 + 8 * 40, 320 },	/* blockmap[8..15] */
};

static void modify_hdr(struct cfx *c, unsigned vol)
{
	static uint8_t raw[HAMMER_BUFSIZE];
	struct hammer_volume *v = c->vs->vols[vol];
	size_t k = rnd_n(sizeof(hdr_fields) / sizeof(hdr_fields[0]));
	uint32_t off = hdr_fields[k].off, len = hdr_fields[k].len;
	uint32_t sub = (uint32_t)rnd_n(len);	/* a piece of the field */
	off += sub;
	len = 1 + (uint32_t)rnd_n(len - sub);
	hammer_volume_header_encode(&v->hdr, raw);
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_undo_log(c->u, hammer_encode(1, vol, off), raw + off, len,
				 &e), e);
	rnd_fill(raw + off, len);
	CHECK_RC(hammer_volume_header_decode(raw, v->bd, &v->hdr, &e), e);
	c->hdr_dirty |= 1u << vol;
}

static void some_redo(struct cfx *c)
{
	uint8_t d[700];
	rnd_fill(d, sizeof(d));
	struct hammer_redo_rec r = { (int64_t)rnd_n(50), rnd_n(1 << 20),
				     HAMMER_REDO_WRITE, 0x10000 };
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_undo_redo(c->u, &r, d, rnd_n(sizeof(d)), NULL, &e), e);
}

static void lay_sync(struct cfx *c)
{
	struct hammer_redo_rec r = { 0, hammer_undo_first(c->u), HAMMER_REDO_SYNC, 0 };
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_undo_redo(c->u, &r, NULL, 0, &c->sync_at, &e), e);
}

static void mods(struct cfx *c, int n)
{
	for (int i = 0; i < n; i++) {
		unsigned w = (unsigned)rnd_n(20);
		if (w == 0) {
			modify_hdr(c, (unsigned)rnd_n((uint64_t)c->vs->count));
		} else if (w == 1) {
			some_redo(c);
		} else {
			size_t len;
			hammer_off_t a = pick_target(c, &len);
			modify_z2(c, a, len);
			if (rnd_n(5) == 0)	/* the same range again: one UNDO */
				modify_z2(c, a, len);
		}
	}
}

/* Write a random half of the dirty META buffers (they stay dirty in cache). */
static int write_some(void *ctx, struct hammer_buffer *b)
{
	struct cfx *c = ctx;
	if (rnd_n(2))
		return 0;
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_volset_write(c->vs, b->zone2, b->data, b->size, &e), e);
	return 0;
}

/* mode 0: none, 1: all, 2: a random subset. */
static void flush_meta(struct cfx *c, int mode)
{
	if (mode == 1) {
		struct hammer_err e = { 0 };
		CHECK_RC(hammer_bufcache_flush_kind(c->bc, HAMMER_BUF_META, &e), e);
	} else if (mode == 2) {
		CHECK(hammer_bufcache_foreach_dirty(c->bc, HAMMER_BUF_META,
						    write_some, c) == 0);
	}
}

struct plan {
	int write_hdr;		/* the root header with (first, P) */
	int meta;		/* 0 none, 1 all, 2 subset */
	int other_hdrs;		/* write changed non-root headers */
};

/* The flusher's steps up to the crash. */
static hammer_off_t flush_cycle(struct cfx *c, const struct plan *pl)
{
	struct hammer_err e = { 0 };
	hammer_off_t P = hammer_undo_append_point(c->u);
	CHECK_RC(hammer_bufcache_flush_kind(c->bc, HAMMER_BUF_UNDO, &e), e);
	CHECK(hammer_volset_flush(c->vs) == 0);
	if (pl->write_hdr) {
		struct hammer_blockmap *z3 =
			&hammer_volset_root(c->vs)->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
		z3->first_offset = hammer_undo_first(c->u);
		z3->next_offset = P;
		CHECK_RC(hammer_volset_write_header(c->vs, 0, &e), e);
		c->hdr_dirty &= ~1u;
	}
	flush_meta(c, pl->meta);
	if (pl->other_hdrs) {
		for (int v = 1; v < c->vs->count; v++) {
			if (c->hdr_dirty & (1u << v)) {
				CHECK_RC(hammer_volset_write_header(c->vs, v, &e), e);
				c->hdr_dirty &= ~(1u << v);
			}
		}
	}
	return P;
}

/* A whole cycle: everything written; first moves on (in memory). */
static hammer_off_t full_cycle(struct cfx *c)
{
	struct plan pl = { 1, 1, 1 };
	hammer_off_t P = flush_cycle(c, &pl);
	CHECK(hammer_volset_flush(c->vs) == 0);
	hammer_undo_set_first(c->u, P);
	hammer_undo_cycle_end(c->u);
	return P;
}

/* ------------------------------------------------------- comparisons */
static void hdr_of(const uint8_t *raw, const struct img *im, int v,
		   struct hammer_volume_ondisk *h)
{
	(void)im;
	(void)v;
	memcpy(h, raw, sizeof(*h));
	hammer_volume_swap(h);
	h->vol_crc = 0;
	struct hammer_blockmap *z3 = &h->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	z3->first_offset = z3->next_offset = 0;
	z3->entry_crc = 0;
}

/* FIFO big-blocks of volume 0 as device ranges. */
static int in_fifo_phys(const struct img *im, uint64_t phys)
{
	struct hammer_volume_ondisk h;
	memcpy(&h, im->bytes[0], sizeof(h));
	hammer_volume_swap(&h);
	hammer_off_t alloc = h.vol0_blockmap[HAMMER_ZONE_UNDO_INDEX].alloc_offset;
	unsigned nbb = (unsigned)(((alloc - Z3BASE) + BB - 1) / BB);
	for (unsigned i = 0; i < nbb; i++) {
		uint64_t s = (uint64_t)h.vol_buf_beg + hammer_short_of(h.vol0_undo_array[i]);
		if (phys >= s && phys < s + BB)
			return 1;
	}
	return 0;
}

/*
 * Same file system state: volume headers equal but for the FIFO range and
 * CRCs, and every byte past the header buffer equal except the FIFO.
 */
static int same_state(const struct img *a, const struct img *b, char *why,
		      size_t whylen)
{
	if (a->n != b->n) {
		snprintf(why, whylen, "volume count");
		return 0;
	}
	for (int v = 0; v < a->n; v++) {
		struct hammer_volume_ondisk ha, hb;
		hdr_of(a->bytes[v], a, v, &ha);
		hdr_of(b->bytes[v], b, v, &hb);
		if (memcmp(&ha, &hb, sizeof(ha))) {
			const uint8_t *x = (const uint8_t *)&ha, *y = (const uint8_t *)&hb;
			size_t i = 0;
			while (x[i] == y[i])
				i++;
			snprintf(why, whylen, "volume %d header differs at byte %zu", v, i);
			return 0;
		}
		for (uint64_t o = KB16; o < a->size[v]; o += KB16) {
			if (v == 0 && in_fifo_phys(a, o))
				continue;
			if (memcmp(a->bytes[v] + o, b->bytes[v] + o, KB16)) {
				uint64_t i = 0;
				while (a->bytes[v][o + i] == b->bytes[v][o + i])
					i++;
				snprintf(why, whylen, "volume %d differs at device "
					 "offset %#llx", v, (unsigned long long)(o + i));
				return 0;
			}
		}
	}
	return 1;
}

#define CHECK_SAME(a, b) do { char why_[160]; if (!same_state((a), (b), why_, \
	sizeof(why_))) { print_error("%s:%d: state differs: %s; reproduce: %s\n", \
	__FILE__, __LINE__, why_, ut_case); fail(); } } while (0)

/* RO view: device bytes with the dirty buffers and in-memory headers on top. */
static int overlay_cb(void *ctx, struct hammer_buffer *b)
{
	struct img *im = ((struct img **)ctx)[0];
	struct hammer_volset *vs = ((struct hammer_volset **)ctx)[1];
	struct hammer_volume *v;
	uint64_t phys;
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_volset_xlate(vs, b->zone2, b->size, &v, &phys, &e), e);
	memcpy(im->bytes[v->vol_no] + phys, b->data, b->size);
	return 0;
}

static void capture_view(struct img *out, struct hammer_volset *vs,
			 struct hammer_bufcache *bc)
{
	img_capture(out, vs);
	void *ctx[2] = { out, vs };
	CHECK(hammer_bufcache_foreach_dirty(bc, HAMMER_BUF_META, overlay_cb, ctx) == 0);
	for (int v = 0; v < vs->count; v++)
		hammer_volume_header_encode(&vs->vols[v]->hdr, out->bytes[v]);
}

/* Stage 1 on a copy of `in`; out gets the device bytes (or the RO view). */
static int recover(const struct img *in, int ro, uint64_t cache, struct img *out,
		   struct hammer_recover_info *info, struct hammer_err *err)
{
	struct hammer_volset *vs = img_open(in, ro);
	struct hammer_bufcache *bc;
	assert_int_equal(hammer_bufcache_open(vs, cache, &bc), 0);
	memset(err, 0, sizeof(*err));
	int rc = hammer_recover_stage1(vs, bc, info, err);
	if (out) {
		if (ro && !rc)
			capture_view(out, vs, bc);
		else
			img_capture(out, vs);
	}
	hammer_bufcache_close(bc);
	hammer_volset_close(vs);
	return rc;
}

/* ------------------------------------------------------------- tests */
static void t_clean(void **state)
{
	(void)state;
	static const unsigned vers[] = { 3, 4, 7 };
	for (size_t k = 0; k < 3; k++) {
		CASE("clean v%u", vers[k]);
		struct img im, out;
		img_make(&im, 2, vers[k]);
		struct hammer_recover_info info;
		struct hammer_err e;
		CHECK_RC(recover(&im, 0, 4 * MB, &out, &info, &e), e);
		CHECK(info.clean && info.first == Z3BASE && info.last == Z3BASE);
		CHECK(info.undo_records == 0 && !info.redo_needed);
		if (vers[k] >= 4)
			CHECK(info.next_seq == 8 * MB / 512 && info.first_seq == info.next_seq);
		CHECK(img_equal(&im, &out));	/* nothing written */
		img_free(&out);
		img_free(&im);
	}
}

/*
 * One random case: one or two cycles, the last one crashing per `pl`.
 * Checks RW and RO recovery against the oracle, a second recovery, and
 * a writer opened afterwards.  Leaves the crash image in *crash and the
 * expected state in *expect (caller frees).
 */
/*
 * Move the append point on by about `bytes` with cycles of REDO records
 * only (no meta-data), ending with a clean, durable header.
 */
static void advance_fifo(struct cfx *c, uint64_t bytes)
{
	struct hammer_err e = { 0 };
	uint64_t done = 0;
	while (done < bytes) {
		hammer_off_t p0 = hammer_undo_append_point(c->u);
		for (int i = 0; i < 2000 && done < bytes; i++) {
			struct hammer_redo_rec r = { 9, rnd(), HAMMER_REDO_TERM_TRUNC, 0 };
			CHECK_RC(hammer_undo_redo(c->u, &r, NULL, 0, NULL, &e), e);
			hammer_off_t p = hammer_undo_append_point(c->u);
			done += p >= p0 ? p - p0 : c->g.size - (p0 - p);
			p0 = p;
		}
		full_cycle(c);
	}
	full_cycle(c);
}

static void crash_case_adv(unsigned version, int nvol, int two, const struct plan *pl,
			   int nmods, uint64_t adv, struct img *crash,
			   struct img *expect, hammer_off_t *P_out)
{
	struct img pre, post1;
	img_make(&pre, nvol, version);
	struct cfx c;
	cfx_attach(&c, img_open(&pre, 0));
	if (adv) {
		advance_fifo(&c, adv);
		img_free(&pre);
		img_capture(&pre, c.vs);
	}
	hammer_off_t F0 = hammer_undo_first(c.u);
	hammer_off_t P1 = 0;
	memset(&post1, 0, sizeof(post1));
	if (two) {
		mods(&c, nmods);
		P1 = full_cycle(&c);
		img_capture(&post1, c.vs);
	}
	mods(&c, nmods);
	hammer_off_t P = flush_cycle(&c, pl);
	if (P_out)
		*P_out = P;
	img_capture(crash, c.vs);
	cfx_close(&c);

	struct hammer_recover_info info, info2;
	struct hammer_err e;
	struct img out, out2, view;
	CHECK_RC(recover(crash, 0, 64 * MB, &out, &info, &e), e);
	struct hammer_volume_ondisk h;
	memcpy(&h, out.bytes[0], sizeof(h));
	hammer_volume_swap(&h);
	const struct hammer_blockmap *z3 = &h.vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	int got_post = two && pl->write_hdr;
	CHECK(z3->first_offset == (got_post ? P1 : F0));
	img_copy(expect, got_post ? &post1 : &pre);
	CHECK_SAME(&out, expect);
	if (version >= 4 || pl->write_hdr) {
		CHECK(info.last == P);
		CHECK(z3->next_offset == P);
		CHECK(!info.clean);
	}
	CHECK(z3->entry_crc == hammer_blockmap_entry_crc(version, z3));
	/* read-only: the same state in memory, the device untouched */
	CHECK_RC(recover(crash, 1, 64 * MB, &view, &info2, &e), e);
	CHECK_SAME(&view, expect);
	CHECK(info2.last == info.last && info2.undo_records == info.undo_records);
	img_free(&view);
	/* a tiny cache: recovery flushes midway (RW) or gives up (RO) */
	CHECK_RC(recover(crash, 0, HAMMER_BUFCACHE_MIN, &view, &info2, &e), e);
	CHECK_SAME(&view, expect);
	img_free(&view);
	/* again on the recovered disk: the same */
	CHECK_RC(recover(&out, 0, 64 * MB, &out2, &info2, &e), e);
	CHECK_SAME(&out2, expect);
	CHECK(info2.last == info.last && info2.next_seq == info.next_seq);
	/*
	 * A writer continues where recovery says, in the next sector when the
	 * FIFO ends mid-sector (our writer always leaves a PAD there): the
	 * sector holding the last records is never written again.
	 */
	struct hammer_volset *vs = img_open(&out2, 0);
	struct hammer_bufcache *bc;
	struct hammer_undo *u;
	assert_int_equal(hammer_bufcache_open(vs, 4 * MB, &bc), 0);
	CHECK_RC(hammer_undo_open(vs, bc, &u, &e), e);
	CHECK(hammer_undo_append_point(u) ==
	      ((info.last + 511) & ~(hammer_off_t)511));
	if (version >= 4)
		CHECK(hammer_undo_next_seq(u) == info.next_seq);
	hammer_undo_close(u);
	hammer_bufcache_close(bc);
	hammer_volset_close(vs);
	img_free(&out);
	img_free(&out2);
	img_free(&pre);
	img_free(&post1);
}

static void crash_case(unsigned version, int nvol, int two, const struct plan *pl,
		       int nmods, struct img *crash, struct img *expect,
		       hammer_off_t *P_out)
{
	crash_case_adv(version, nvol, two, pl, nmods, 0, crash, expect, P_out);
}

static void t_cycles_random(void **state)
{
	(void)state;
	uint64_t seed = ut_seed("TEST_RECOVER_SEED", 0x2ec0001);
	int cases = ut_cases2("TEST_RECOVER_CASES", 16, 6);
	static const unsigned vers[] = { 7, 6, 4, 3 };
	for (int cs = 0; cs < cases; cs++) {
		ut_rng = seed * 1000 + (uint64_t)cs;
		unsigned v = vers[cs % 4];
		int nvol = 1 + (int)rnd_n(2);
		int two = (int)rnd_n(2);
		struct plan pl;
		pl.write_hdr = v < 4 ? 1 : (int)rnd_n(2);
		pl.meta = (int)rnd_n(3);
		pl.other_hdrs = (int)rnd_n(2);
		if (v < 4 && !pl.write_hdr)
			pl.meta = 0;
		int nmods = 20 + (int)rnd_n(200);
		/* some cases start near the FIFO's end, so [F, L) wraps */
		uint64_t adv = cs % 3 == 1 ? 8 * MB - 8 * 1024 - rnd_n(8 * 1024) : 0;
		CASE("cycles seed %llu case %d (v%u, %d vol, %s, hdr %d meta %d, "
		     "advance %llu)", (unsigned long long)seed, cs, v, nvol,
		     two ? "2 cycles" : "1 cycle", pl.write_hdr, pl.meta,
		     (unsigned long long)adv);
		struct img crash, expect;
		hammer_off_t P;
		crash_case_adv(v, nvol, two, &pl, nmods, adv, &crash, &expect, &P);
		if (adv)
			CHECK(P < Z3BASE + 4 * MB);	/* it did wrap */
		img_free(&crash);
		img_free(&expect);
	}
}

/* Every PAD size inside the replayed range, the 8-byte one included. */
static void t_pads_recover(void **state)
{
	(void)state;
	ut_rng = 8;
	for (int wrapv = 0; wrapv < 2; wrapv++) {
		CASE("pads in recovery%s", wrapv ? " (wrapped)" : "");
		struct img pre, crash;
		img_make(&pre, 1, 7);
		struct cfx c;
		cfx_attach(&c, img_open(&pre, 0));
		if (wrapv) {
			advance_fifo(&c, 8 * MB - 3000);
			img_free(&pre);
			img_capture(&pre, c.vs);
		}
		/* exact UNDO lengths: log by hand (the hook rounds to sectors) */
		hammer_bufcache_set_hooks(c.bc, NULL);
		uint64_t off = 3 * BB;
		for (uint32_t r = 8; r <= 40; r += 8) {
			hammer_off_t P = hammer_undo_append_point(c.u);
			uint32_t room = 512 - (uint32_t)(P & 511);
			if (room < 41 + r) {	/* start on a fresh sector */
				modify_exact(&c, hammer_encode(2, 0, off), room - 40);
				off += KB16;
				room = 512;
			}
			modify_exact(&c, hammer_encode(2, 0, off), room - 40 - r);
			off += KB16;
			CHECK(512 - (hammer_undo_append_point(c.u) & 511) == r);
			modify_exact(&c, hammer_encode(2, 0, off), 100);	/* PAD(r) first */
			off += KB16;
		}
		struct hammer_undo_stats st;
		hammer_undo_stats(c.u, &st);
		CHECK(st.pad_records >= 5);
		struct plan pl = { 1, 1, 0 };
		flush_cycle(&c, &pl);
		img_capture(&crash, c.vs);
		cfx_close(&c);
		struct hammer_recover_info info;
		struct hammer_err e = { 0 };
		struct img out;
		CHECK_RC(recover(&crash, 0, 64 * MB, &out, &info, &e), e);
		CHECK_SAME(&out, &pre);
		CHECK(info.undo_records == st.undo_records);
		/* a buffer checked before recovery changed it is unchecked after */
		struct hammer_volset *vs = img_open(&crash, 0);
		struct hammer_bufcache *bc;
		assert_int_equal(hammer_bufcache_open(vs, 64 * MB, &bc), 0);
		struct hammer_buffer *b;
		void *d;
		CHECK_RC(hammer_buffer_get(bc, hammer_encode(2, 0, 3 * BB), KB16, 0, &b,
					   &d, &e), e);
		hammer_buffer_set_verified(b, b->data, KB16);
		hammer_buffer_put(bc, b);
		CHECK_RC(hammer_recover_stage1(vs, bc, &info, &e), e);
		CHECK_RC(hammer_buffer_get(bc, hammer_encode(2, 0, 3 * BB), KB16, 0, &b,
					   &d, &e), e);
		CHECK(!hammer_buffer_is_verified(b, b->data, KB16));
		hammer_buffer_put(bc, b);
		hammer_bufcache_close(bc);
		hammer_volset_close(vs);
		img_free(&out);
		img_free(&crash);
		img_free(&pre);
	}
}

/* v1..3 trust the header: records past next_offset are not replayed. */
static void t_v3_header(void **state)
{
	(void)state;
	ut_rng = 3;
	CASE("v3 header trusted");
	struct img pre, crash;
	img_make(&pre, 1, 3);
	struct cfx c;
	cfx_attach(&c, img_open(&pre, 0));
	mods(&c, 50);
	struct plan pl = { 0, 1, 0 };	/* no header, meta written (a v4 order) */
	flush_cycle(&c, &pl);
	img_capture(&crash, c.vs);
	cfx_close(&c);
	struct hammer_recover_info info;
	struct hammer_err e;
	struct img out;
	CHECK_RC(recover(&crash, 0, 64 * MB, &out, &info, &e), e);
	CHECK(info.clean && info.last == Z3BASE);
	CHECK(img_equal(&out, &crash));
	img_free(&out);
	img_free(&crash);
	img_free(&pre);
}

/* ------------------------------------------- crashes during recovery */
struct cdw {			/* a write a cd device passed on */
	uint64_t off;
	size_t len;
};

struct cd {
	struct hammer_bdev *inner;
	long *left;		/* writes still allowed; <0 unlimited */
	long *count;
	int borrowed;		/* inner outlives this device */
	/* optional, for one volume: */
	long garble_at;		/* 0 none, else write garble_at - 1 lands with */
	uint32_t garble_sec;	/* this sector garbled, and the power fails */
	struct cdw *log;	/* writes passed on, up to nlog_max */
	long *nlog, nlog_max;
};

static int cd_read(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len)
{
	struct cd *c = bd->ctx;
	return hammer_bdev_read(c->inner, off, buf, len);
}

static int cd_write(struct hammer_bdev *bd, uint64_t off, const void *buf, size_t len)
{
	struct cd *c = bd->ctx;
	if (*c->left == 0)
		return 0;	/* power is gone: the write never lands */
	if (*c->left > 0)
		(*c->left)--;
	long k = (*c->count)++;
	if (c->log && *c->nlog < c->nlog_max)
		c->log[(*c->nlog)++] = (struct cdw){ off, len };
	if (c->garble_at && k == c->garble_at - 1 &&
	    (size_t)c->garble_sec * 512 < len) {
		/* a sector unlike both its old and its new bytes */
		uint8_t *g = malloc(len);
		assert_non_null(g);
		memcpy(g, buf, len);
		uint8_t *sec = g + (size_t)c->garble_sec * 512, old[512];
		CHECK(hammer_bdev_read(c->inner, off + (uint64_t)c->garble_sec * 512,
				       old, 512) == 0);
		rnd_fill(sec, 512);
		while (sec[0] == ((const uint8_t *)buf)[c->garble_sec * 512] ||
		       sec[0] == old[0])
			sec[0]++;
		int rc = hammer_bdev_write(c->inner, off, g, len);
		free(g);
		*c->left = 0;	/* the power fails with it */
		return rc;
	}
	return hammer_bdev_write(c->inner, off, buf, len);
}

static int cd_flush(struct hammer_bdev *bd)
{
	struct cd *c = bd->ctx;
	return hammer_bdev_flush(c->inner);
}

static void cd_close(struct hammer_bdev *bd)
{
	struct cd *c = bd->ctx;
	if (!c->borrowed)
		hammer_bdev_close(c->inner);
	free(c);
	free(bd);
}

static const struct hammer_bdev_ops cd_ops = {
	HAMMER_BDEV_VERSION, cd_read, cd_write, cd_flush, cd_close, NULL,
};

/*
 * A volume set on countdown devices over inner[] (made from im when
 * inner[0] is NULL; borrowed, i.e. left open at close, when keep is set).
 */
static struct hammer_volset *cd_open(const struct img *im, struct hammer_bdev **inner,
				     int keep, long *left, long *count)
{
	struct hammer_bdev *bds[MAXV];
	if (!inner[0])
		for (int i = 0; i < im->n; i++)
			inner[i] = ram_from(im->bytes[i], im->size[i], i);
	for (int i = 0; i < im->n; i++) {
		struct hammer_bdev *bd = calloc(1, sizeof(*bd));
		struct cd *c = calloc(1, sizeof(*c));
		assert_non_null(bd);
		assert_non_null(c);
		c->inner = inner[i];
		c->borrowed = keep;
		c->left = left;
		c->count = count;
		bd->ops = &cd_ops;
		bd->ctx = c;
		bd->size = c->inner->size;
		bd->sector_size = 512;
		snprintf(bd->name, sizeof(bd->name), "cd%d", i);
		bds[i] = bd;
	}
	return vs_open_bds(bds, im->n, 0);
}

static void t_crash_in_recovery(void **state)
{
	(void)state;
	uint64_t seed = ut_seed("TEST_RECOVER_SEED", 0x2ec0002);
	int cases = ut_cases2("TEST_RECOVER_CASES", 4, 2);
	for (int cs = 0; cs < cases; cs++) {
		ut_rng = seed * 1000 + (uint64_t)cs;
		unsigned v = cs == 3 ? 3 : 7;
		struct plan pl = { 1, 1, 1 };
		CASE("crash in recovery seed %llu case %d", (unsigned long long)seed, cs);
		struct img crash, expect;
		crash_case(v, 1 + cs % 2, cs == 2, &pl, 12, &crash, &expect, NULL);
		/* how many writes a whole recovery makes */
		long left = -1, count = 0;
		struct hammer_bdev *inner[MAXV] = { NULL };
		struct hammer_volset *vs = cd_open(&crash, inner, 0, &left, &count);
		struct hammer_bufcache *bc;
		assert_int_equal(hammer_bufcache_open(vs, 64 * MB, &bc), 0);
		struct hammer_recover_info info;
		struct hammer_err e = { 0 };
		CHECK_RC(hammer_recover_stage1(vs, bc, &info, &e), e);
		hammer_bufcache_close(bc);
		hammer_volset_close(vs);
		long total = count;
		CHECK(total >= 2);
		for (long k = 0; k < total; k++) {
			CASE("crash in recovery seed %llu case %d after write %ld of %ld",
			     (unsigned long long)seed, cs, k, total);
			/* power fails after k writes ... */
			left = k;
			count = 0;
			memset(inner, 0, sizeof(inner));
			vs = cd_open(&crash, inner, 1, &left, &count);
			assert_int_equal(hammer_bufcache_open(vs, 64 * MB, &bc), 0);
			memset(&e, 0, sizeof(e));
			CHECK_RC(hammer_recover_stage1(vs, bc, &info, &e), e);
			hammer_bufcache_close(bc);
			hammer_volset_close(vs);
			/* ... and the reboot recovers what that run left */
			left = -1;
			vs = cd_open(&crash, inner, 0, &left, &count);
			assert_int_equal(hammer_bufcache_open(vs, 64 * MB, &bc), 0);
			struct hammer_recover_info i2;
			CHECK_RC(hammer_recover_stage1(vs, bc, &i2, &e), e);
			struct img out;
			img_capture(&out, vs);
			hammer_bufcache_close(bc);
			hammer_volset_close(vs);
			CHECK_SAME(&out, &expect);
			CHECK(i2.last == info.last);
			img_free(&out);
		}
		img_free(&crash);
		img_free(&expect);
	}
}

/*
 * One volume on a cd device over a RAM copy of im (closed with the set),
 * optionally garbling a write (garble_at, garble_sec) and logging them.
 */
static struct hammer_volset *cd1_open(const struct img *im, long *left, long *count,
				      long garble_at, uint32_t garble_sec,
				      struct cdw *log, long *nlog, long nlog_max)
{
	assert_int_equal(im->n, 1);
	struct hammer_bdev *bd = calloc(1, sizeof(*bd));
	struct cd *c = calloc(1, sizeof(*c));
	assert_non_null(bd);
	assert_non_null(c);
	c->inner = ram_from(im->bytes[0], im->size[0], 0);
	c->left = left;
	c->count = count;
	c->garble_at = garble_at;
	c->garble_sec = garble_sec;
	c->log = log;
	c->nlog = nlog;
	c->nlog_max = nlog_max;
	bd->ops = &cd_ops;
	bd->ctx = c;
	bd->size = c->inner->size;
	bd->sector_size = 512;
	snprintf(bd->name, sizeof(bd->name), "cd0");
	return vs_open_bds(&bd, 1, 0);
}

/*
 * A FIFO write torn inside a split UNDO.  The records of the torn cycle
 * left in [F, L) cover the head of a sector of their target but not its
 * tail (the rest of that UNDO was torn off), and the bytes they restore are
 * the ones on disk (that cycle's meta-data was never written).  Recovery
 * must not write such a sector: garbled by a crash during recovery, its
 * bytes outside every UNDO of [F, L) could not be restored by the next
 * recovery, which sees the same [F, L) (crashloop link+sync state
 * e3:sp0:t0p10/e0:sp1:g1.7: a B-tree node with a bad CRC).  For every
 * tear point of the second cycle's FIFO write: recover; crash that
 * recovery at each of its zone-2 writes with each sector of it garbled;
 * recover again.  The first cycle is durable but its header's range still
 * covers it, so every recovery must give back the state before it, and
 * the sectors it changed are written (and may be garbled) too.
 */
static void t_torn_split_undo(void **state)
{
	(void)state;
	ut_rng = ut_seed("TEST_RECOVER_SEED", 0x2ec0006);
	CASE("torn split UNDO");
	struct img pre, mid, full;
	img_make(&pre, 1, 7);
	struct cfx c;
	cfx_attach(&c, img_open(&pre, 0));
	hammer_off_t node = hammer_encode(2, 0, 3 * BB);	/* a 4 KB B-tree node */
	/* cycle 1, all written: one sector of the node and another one */
	modify_z2(&c, node + 0x610, 40);
	modify_z2(&c, node + 5 * KB16 + 0x230, 100);
	hammer_off_t P1 = full_cycle(&c);
	img_capture(&mid, c.vs);
	/* cycle 2: a sector, the whole node (one UNDO split into about nine
	 * records), two sectors; the FIFO write is all that starts */
	modify_z2(&c, node + 2 * KB16 + 0x20, 30);
	modify_z2(&c, node, 4096);
	modify_z2(&c, node + 3 * KB16 + 0x100, 600);
	hammer_off_t P2 = hammer_undo_append_point(c.u);
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_bufcache_flush_kind(c.bc, HAMMER_BUF_UNDO, &e), e);
	img_capture(&full, c.vs);
	hammer_off_t zend = (P2 + KB16 - 1) & ~(KB16 - 1);
	CHECK(P2 > P1 + 4096 && (P1 - Z3BASE) / BB == (zend - 8 - Z3BASE) / BB);
	uint64_t pend = fifo_phys(c.vs, zend - 8) + 8;
	hammer_off_t cut0 = (P1 + 511) & ~(hammer_off_t)511;
	uint64_t pcut0 = fifo_phys(c.vs, cut0);
	cfx_close(&c);

	int cuts = 0, garbled = 0, inside = 0;
	for (hammer_off_t cut = cut0; cut < P2; cut += 512) {
		/* the FIFO write kept its sectors before cut, the rest is old */
		struct img torn;
		img_copy(&torn, &full);
		uint64_t pc = pcut0 + (cut - cut0);
		memcpy(torn.bytes[0] + pc, mid.bytes[0] + pc, pend - pc);
		CASE("torn split UNDO: FIFO torn at %016llx", (unsigned long long)cut);
		struct cdw log[64];
		long nlog = 0, left = -1, count = 0;
		struct hammer_volset *vs = cd1_open(&torn, &left, &count, 0, 0, log,
						    &nlog, 64);
		struct hammer_bufcache *bc;
		assert_int_equal(hammer_bufcache_open(vs, 64 * MB, &bc), 0);
		struct hammer_recover_info info;
		CHECK_RC(hammer_recover_stage1(vs, bc, &info, &e), e);
		CHECK(info.last > P1 && info.last <= cut);
		inside += info.last > P1 + 512 && info.last < P2 - 512;
		struct img out;
		img_capture(&out, vs);
		hammer_bufcache_close(bc);
		hammer_volset_close(vs);
		CHECK_SAME(&out, &pre);
		img_free(&out);
		CHECK(nlog < 64);
		for (long k = 0; k < nlog; k++) {
			if (log[k].off < KB16)
				continue;	/* the volume header: no UNDO covers it */
			for (uint32_t j = 0; j < log[k].len / 512; j++) {
				CASE("torn split UNDO: FIFO torn at %016llx, recovery "
				     "crashed at its write %ld (%#llx+%zu) with sector "
				     "%u garbled", (unsigned long long)cut, k,
				     (unsigned long long)log[k].off, log[k].len, j);
				left = -1;
				count = 0;
				vs = cd1_open(&torn, &left, &count, k + 1, j, NULL,
					      NULL, 0);
				assert_int_equal(hammer_bufcache_open(vs, 64 * MB, &bc), 0);
				CHECK_RC(hammer_recover_stage1(vs, bc, &info, &e), e);
				struct img after;
				img_capture(&after, vs);
				hammer_bufcache_close(bc);
				hammer_volset_close(vs);
				struct hammer_recover_info i2;
				CHECK_RC(recover(&after, 0, 64 * MB, &out, &i2, &e), e);
				CHECK_SAME(&out, &pre);
				img_free(&out);
				img_free(&after);
				garbled++;
			}
		}
		img_free(&torn);
		cuts++;
	}
	CASE("torn split UNDO");
	CHECK(cuts >= 8 && inside >= 6);
	CHECK(garbled >= 2 * cuts);	/* cycle 1's two sectors, at least */
	img_free(&full);
	img_free(&mid);
	img_free(&pre);
}

/*
 * The sim's crash states (subsets of each epoch, reordered): of the flush
 * cycle itself, then of a recovery run on the crash image.
 */
/* Stage 1 on a crash state (writes go to its private overlay). */
static void recover_state(struct sim *s, const struct sim_state *st, struct img *out)
{
	struct hammer_bdev *sbd;
	assert_int_equal(sim_state_open(s, st, &sbd), 0);
	struct hammer_volset *vs = vs_open_bds(&sbd, 1, 0);
	struct hammer_bufcache *bc;
	assert_int_equal(hammer_bufcache_open(vs, 64 * MB, &bc), 0);
	struct hammer_recover_info info;
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_recover_stage1(vs, bc, &info, &e), e);
	img_capture(out, vs);
	hammer_bufcache_close(bc);
	hammer_volset_close(vs);
}

static void t_sim_states(void **state)
{
	(void)state;
	uint64_t seed = ut_seed("TEST_RECOVER_SEED", 0x2ec0003);
	ut_rng = seed;
	struct sim_knobs k;
	sim_knobs_default(&k);
	k.torn = 0;
	k.garbage = 0;
	k.max_subset_bits = (unsigned)ut_cases2("TEST_RECOVER_SUBSET_BITS", 5, 3);
	k.sample_count = (unsigned)ut_cases2("TEST_RECOVER_SAMPLES", 16, 4);
	k.seed = seed;
	for (int two = 0; two < 2; two++) {
		CASE("sim flush cycle seed %llu two %d", (unsigned long long)seed, two);
		struct img pre, post1;
		img_make(&pre, 1, 7);
		struct hammer_bdev *base = ram_from(pre.bytes[0], pre.size[0], 0);
		struct sim *s;
		assert_int_equal(sim_open(base, SIM_OWN_BASE, &k, &s), 0);
		struct hammer_bdev *sb = sim_bdev(s);
		struct cfx c;
		cfx_attach(&c, vs_open_bds(&sb, 1, 0));
		hammer_off_t P1 = 0;
		memset(&post1, 0, sizeof(post1));
		if (two) {
			mods(&c, 25);
			P1 = full_cycle(&c);
			img_capture(&post1, c.vs);
			assert_int_equal(sim_settle(s), 0);
		}
		mods(&c, 25);
		/* the second cycle never completes: at most the first is durable */
		struct plan pl = { 1, 1, 0 };
		flush_cycle(&c, &pl);
		struct sim_enum *en;
		assert_int_equal(sim_enum_begin(s, &en), 0);
		struct sim_state st;
		int r, n = 0, npost = 0;
		while ((r = sim_enum_next(en, &st)) == 1) {
			char id[SIM_ID_MAX];
			sim_state_id(&st, id, sizeof(id));
			CASE("sim flush cycle seed %llu two %d state %s",
			     (unsigned long long)seed, two, id);
			struct img out;
			recover_state(s, &st, &out);
			struct hammer_volume_ondisk h;
			memcpy(&h, out.bytes[0], sizeof(h));
			hammer_volume_swap(&h);
			int is_post = two &&
				h.vol0_blockmap[HAMMER_ZONE_UNDO_INDEX].first_offset == P1;
			npost += is_post;
			CHECK_SAME(&out, is_post ? &post1 : &pre);
			img_free(&out);
			n++;
		}
		CHECK(r == 0);
		sim_enum_end(en);
		CHECK(n > 3);
		if (two)
			CHECK(npost > 0);
		cfx_close(&c);	/* closes the sim */
		img_free(&pre);
		img_free(&post1);
	}

	/* crash states of recovery itself */
	CASE("sim recovery seed %llu", (unsigned long long)seed);
	struct plan pl = { 1, 2, 0 };
	struct img crash, expect;
	crash_case(7, 1, 1, &pl, 30, &crash, &expect, NULL);
	struct hammer_bdev *base = ram_from(crash.bytes[0], crash.size[0], 0);
	struct sim *s;
	assert_int_equal(sim_open(base, SIM_OWN_BASE, &k, &s), 0);
	struct hammer_bdev *sb = sim_bdev(s);
	struct hammer_volset *vs = vs_open_bds(&sb, 1, 0);
	struct hammer_bufcache *bc;
	assert_int_equal(hammer_bufcache_open(vs, 64 * MB, &bc), 0);
	struct hammer_recover_info info;
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_recover_stage1(vs, bc, &info, &e), e);
	hammer_bufcache_close(bc);
	CHECK(sim_epochs(s) >= 2);
	struct sim_enum *en;
	assert_int_equal(sim_enum_begin(s, &en), 0);
	struct sim_state st;
	int r, n = 0;
	while ((r = sim_enum_next(en, &st)) == 1) {
		char id[SIM_ID_MAX];
		sim_state_id(&st, id, sizeof(id));
		CASE("sim recovery seed %llu state %s", (unsigned long long)seed, id);
		struct img out;
		recover_state(s, &st, &out);
		CHECK_SAME(&out, &expect);
		img_free(&out);
		n++;
	}
	CHECK(r == 0 && n > 3);
	sim_enum_end(en);
	hammer_volset_close(vs);
	img_free(&crash);
	img_free(&expect);
}

/* ---------------------------------------------------------- refusals */
struct frec {
	hammer_off_t off;
	uint32_t size, seq;
	uint16_t type;
	hammer_off_t target;
	int32_t bytes;
	uint32_t flags;
};

/* The records of [F, P) from the image bytes. */
static size_t list_records(const struct img *im, hammer_off_t F, hammer_off_t P,
			   struct frec *out, size_t max)
{
	struct hammer_volset *vs = img_open(im, 1);
	size_t n = 0;
	for (hammer_off_t p = F; p != P && n < max;) {
		struct wrec w;
		CHECK(walk_one(vs, p, &w) == 0);
		struct frec *f = &out[n++];
		f->off = p;
		f->size = w.r.head.hdr_size;
		f->seq = w.r.head.hdr_seq;
		f->type = w.r.head.hdr_type;
		f->target = f->type == HAMMER_HEAD_TYPE_UNDO ? w.r.u.undo.undo_offset :
			    w.r.u.redo.redo_offset;
		f->bytes = f->type == HAMMER_HEAD_TYPE_UNDO ? w.r.u.undo.undo_data_bytes :
			   w.r.u.redo.redo_data_bytes;
		f->flags = w.r.u.redo.redo_flags;
		p += f->size;
	}
	hammer_volset_close(vs);
	return n;
}

static uint8_t *rec_bytes(struct img *im, hammer_off_t off)
{
	struct hammer_volset *vs = img_open(im, 1);
	uint64_t phys = fifo_phys(vs, off);
	hammer_volset_close(vs);
	return im->bytes[0] + phys;
}

/* Expect stage 1 to refuse (RW and RO) naming `at`, leaving the bytes. */
static void expect_refusal(const struct img *bad, hammer_off_t at, const char *what)
{
	for (int ro = 0; ro < 2; ro++) {
		struct hammer_volset *vs = img_open(bad, ro);
		struct hammer_bufcache *bc;
		assert_int_equal(hammer_bufcache_open(vs, 64 * MB, &bc), 0);
		struct hammer_volume_ondisk h0[MAXV];
		for (int v = 0; v < vs->count; v++)
			h0[v] = vs->vols[v]->hdr;
		struct hammer_recover_info info;
		struct hammer_err e = { 0 };
		int rc = hammer_recover_stage1(vs, bc, &info, &e);
		if (rc != -EUCLEAN || e.off != at || !strstr(e.msg, what))
			print_error("got rc %d off %016llx msg \"%s\"; wanted -EUCLEAN "
				    "at %016llx with \"%s\"\n", rc,
				    (unsigned long long)e.off, e.msg,
				    (unsigned long long)at, what);
		CHECK(rc == -EUCLEAN);
		CHECK(e.off == at);
		CHECK(strstr(e.msg, what) != NULL);
		struct hammer_bufcache_stats st;
		hammer_bufcache_stats(bc, &st);
		CHECK(st.dirty_bytes[HAMMER_BUF_META] == 0);
		for (int v = 0; v < vs->count; v++)
			CHECK(memcmp(&h0[v], &vs->vols[v]->hdr, sizeof(h0[v])) == 0);
		struct img after;
		img_capture(&after, vs);
		CHECK(img_equal(&after, bad));
		img_free(&after);
		hammer_bufcache_close(bc);
		hammer_volset_close(vs);
	}
}

/* Rewrite an UNDO record in place: same size and seq, new target. */
static void rewrite_undo(struct img *im, const struct frec *f, hammer_off_t target,
			 int32_t bytes)
{
	uint8_t *p = rec_bytes(im, f->off);
	le64put(p + 16, target);
	le32put(p + 24, (uint32_t)bytes);
	craft_frame(im->version, p, HAMMER_HEAD_TYPE_UNDO, f->size, f->seq);
}

static void t_refusals(void **state)
{
	(void)state;
	ut_rng = ut_seed("TEST_RECOVER_SEED", 0x2ec0004);
	CASE("refusals");
	/* a crash image with a REDO_SYNC and header UNDOs in its range */
	struct img pre;
	img_make(&pre, 2, 7);
	struct cfx c;
	cfx_attach(&c, img_open(&pre, 0));
	lay_sync(&c);
	modify_hdr(&c, 0);
	mods(&c, 150);
	modify_hdr(&c, 1);
	struct plan pl = { 1, 1, 1 };
	hammer_off_t P = flush_cycle(&c, &pl);
	struct img crash;
	img_capture(&crash, c.vs);
	struct hammer_fifo_geom g = c.g;
	hammer_off_t fifo_z2 = hammer_volset_root(c.vs)->vol0_undo_array[0];
	uint64_t space0 = (uint64_t)(hammer_volset_root(c.vs)->vol_buf_end -
				     hammer_volset_root(c.vs)->vol_buf_beg);
	cfx_close(&c);
	static struct frec recs[20000];
	size_t n = list_records(&crash, Z3BASE, P, recs, 20000);
	CHECK(n > 50);
	/* the oldest UNDO (applied last) with a payload, one in the middle */
	size_t first_undo = 0, mid = 0, sync = 0, big = 0;
	while (recs[first_undo].type != HAMMER_HEAD_TYPE_UNDO || recs[first_undo].bytes < 16)
		first_undo++;
	for (mid = n / 2; recs[mid].type != HAMMER_HEAD_TYPE_UNDO ||
			  (recs[mid].off & 511) == 0; mid++)
		;
	while (!(recs[sync].type == HAMMER_HEAD_TYPE_REDO &&
		 recs[sync].flags == HAMMER_REDO_SYNC))
		sync++;
	for (big = 0; !(recs[big].type == HAMMER_HEAD_TYPE_UNDO && recs[big].bytes >= 200);
	     big++)
		;
	const struct frec *fu = &recs[first_undo];
	struct img bad;

	/* garbage over a record in the range */
	img_copy(&bad, &crash);
	rnd_fill(rec_bytes(&bad, recs[mid].off), recs[mid].size);
	expect_refusal(&bad, recs[mid].off, "damaged before the header's next_offset");
	img_free(&bad);

	/* a repeated and a skipped sequence number */
	for (int d = -1; d <= 2; d += 3) {
		img_copy(&bad, &crash);
		craft_frame(7, rec_bytes(&bad, recs[mid].off), recs[mid].type,
			    recs[mid].size, recs[mid].seq + (uint32_t)d);
		expect_refusal(&bad, recs[mid].off, "sequence number");
		img_free(&bad);
	}

	/* a record crossing its 512-byte sector (valid framing and CRC) */
	img_copy(&bad, &crash);
	{
		uint32_t room = 512 - (uint32_t)(recs[mid].off & 511);
		uint8_t *p = rec_bytes(&bad, recs[mid].off);
		craft_frame(7, p, HAMMER_HEAD_TYPE_UNDO, room + 64, recs[mid].seq);
	}
	expect_refusal(&bad, recs[mid].off, "illegal size");
	img_free(&bad);

	/* UNDO targets */
	img_copy(&bad, &crash);
	rewrite_undo(&bad, fu, hammer_encode(2, 0, space0), fu->bytes);
	expect_refusal(&bad, fu->off, "outside every volume");
	img_free(&bad);
	img_copy(&bad, &crash);
	rewrite_undo(&bad, fu, hammer_encode(2, 5, 0), fu->bytes);
	expect_refusal(&bad, fu->off, "outside every volume");
	img_free(&bad);
	img_copy(&bad, &crash);
	rewrite_undo(&bad, fu, fifo_z2 + 512, fu->bytes);
	expect_refusal(&bad, fu->off, "in the UNDO FIFO itself");
	img_free(&bad);
	img_copy(&bad, &crash);
	rewrite_undo(&bad, fu, fifo_z2 + BB - KB16, fu->bytes);
	expect_refusal(&bad, fu->off, "in the UNDO FIFO itself");
	img_free(&bad);
	img_copy(&bad, &crash);
	rewrite_undo(&bad, fu, hammer_encode(2, 0, 4 * BB + KB16 - 8), fu->bytes);
	expect_refusal(&bad, fu->off, "crosses a 16 KB buffer");
	img_free(&bad);
	img_copy(&bad, &crash);
	rewrite_undo(&bad, fu, hammer_encode(1, 0, 1928 - 8), fu->bytes);
	expect_refusal(&bad, fu->off, "not inside the volume header");
	img_free(&bad);
	img_copy(&bad, &crash);
	rewrite_undo(&bad, fu, hammer_encode(1, 7, 0), fu->bytes);
	expect_refusal(&bad, fu->off, "does not exist");
	img_free(&bad);
	img_copy(&bad, &crash);
	rewrite_undo(&bad, fu, hammer_encode(8, 0, 4 * BB), fu->bytes);
	expect_refusal(&bad, fu->off, "zone 8");
	img_free(&bad);
	/* payload length beyond the record */
	img_copy(&bad, &crash);
	rewrite_undo(&bad, fu, fu->target, (int32_t)fu->size);
	expect_refusal(&bad, fu->off, "damaged before the header's next_offset");
	img_free(&bad);

	/* restored headers that make no sense */
	img_copy(&bad, &crash);
	{
		uint8_t *p = rec_bytes(&bad, recs[big].off);
		le64put(p + 16, hammer_encode(1, 0, 0));
		rnd_fill(p + 32, 8);	/* signature */
		craft_frame(7, p, HAMMER_HEAD_TYPE_UNDO, recs[big].size, recs[big].seq);
	}
	expect_refusal(&bad, recs[big].off, "gives a bad header");
	img_free(&bad);
	img_copy(&bad, &crash);
	{
		uint8_t *p = rec_bytes(&bad, recs[big].off);
		le64put(p + 16, hammer_encode(1, 0, 904));	/* vol0_undo_array */
		le32put(p + 24, 8);
		le64put(p + 32, fifo_z2 + BB);
		craft_frame(7, p, HAMMER_HEAD_TYPE_UNDO, recs[big].size, recs[big].seq);
	}
	expect_refusal(&bad, recs[big].off, "move the FIFO");
	img_free(&bad);
	img_copy(&bad, &crash);
	{
		uint8_t *p = rec_bytes(&bad, recs[big].off);
		le64put(p + 16, hammer_encode(1, 1, 144));	/* vol 1's vol_no */
		le32put(p + 24, 4);
		le32put(p + 32, 0);
		craft_frame(7, p, HAMMER_HEAD_TYPE_UNDO, recs[big].size, recs[big].seq);
	}
	expect_refusal(&bad, recs[big].off, "changes its number");
	img_free(&bad);

	/* a REDO_SYNC pointing outside the FIFO */
	img_copy(&bad, &crash);
	{
		uint8_t *p = rec_bytes(&bad, recs[sync].off);
		le64put(p + 24, g.alloc + 4096);
		craft_frame(7, p, HAMMER_HEAD_TYPE_REDO, recs[sync].size, recs[sync].seq);
	}
	expect_refusal(&bad, recs[sync].off, "REDO_SYNC");
	img_free(&bad);

	/* header FIFO range and geometry */
	struct hammer_volume_ondisk h;
	memcpy(&h, crash.bytes[0], sizeof(h));
	hammer_volume_swap(&h);
	struct { hammer_off_t first, next, alloc; hammer_off_t at; const char *what; } hc[] = {
		{ Z3BASE + 4, P, g.alloc, Z3BASE + 4, "8-aligned" },
		{ Z3BASE, g.alloc + 8, g.alloc, g.alloc + 8, "8-aligned" },
		{ Z3BASE, P + 4096, g.alloc, P, "next_offset" },
		{ Z3BASE, P, g.alloc + 512, g.alloc + 512, "alloc_offset" },
		{ Z3BASE, P, Z3BASE, Z3BASE, "alloc_offset" },
	};
	for (size_t i = 0; i < sizeof(hc) / sizeof(hc[0]); i++) {
		img_copy(&bad, &crash);
		struct hammer_volume_ondisk x = h;
		struct hammer_blockmap *z3 = &x.vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
		z3->first_offset = hc[i].first;
		z3->next_offset = hc[i].next;
		z3->alloc_offset = hc[i].alloc;
		hammer_volume_header_encode(&x, bad.bytes[0]);
		/* where the scan stops for a next_offset past the end: the DUMMY
		 * after P (P itself holds the trailing PAD) */
		hammer_off_t at = hc[i].at;
		if (i == 2)
			at = (P + 511) & ~(hammer_off_t)511;
		expect_refusal(&bad, at, hc[i].what);
		img_free(&bad);
	}

	/* v3: a damaged record inside the header's range */
	{
		struct img p3, c3;
		img_make(&p3, 1, 3);
		struct cfx c2;
		cfx_attach(&c2, img_open(&p3, 0));
		mods(&c2, 60);
		struct plan pl3 = { 1, 1, 0 };
		hammer_off_t P3 = flush_cycle(&c2, &pl3);
		img_capture(&c3, c2.vs);
		cfx_close(&c2);
		size_t n3 = list_records(&c3, Z3BASE, P3, recs, 20000);
		size_t m3 = n3 / 2;
		img_copy(&bad, &c3);
		rnd_fill(rec_bytes(&bad, recs[m3].off), 8);
		expect_refusal(&bad, recs[m3].off, "FIFO record");
		img_free(&bad);
		img_free(&c3);
		img_free(&p3);
	}

	img_free(&crash);
	img_free(&pre);
}

/* ------------------------------------------------------------ stage 2 */
struct got {
	struct hammer_redo_rec r[64];
	uint8_t data[64][512];
	size_t len[64];
	int n;
	int stop_at;
};

static int got_fn(void *ctx, const struct hammer_redo_rec *r, const void *payload,
		  size_t len)
{
	struct got *g = ctx;
	if (r->localization != 0x20000)
		return 0;	/* background REDO traffic of mods() */
	CHECK(g->n < 64);
	g->r[g->n] = *r;
	g->len[g->n] = len;
	CHECK(len <= 512);
	CHECK((payload != NULL) == (r->flags == HAMMER_REDO_WRITE));
	if (payload)
		memcpy(g->data[g->n], payload, len);
	g->n++;
	return g->n == g->stop_at ? 42 : 0;
}

struct want {
	int64_t objid;
	hammer_off_t offset;
	uint32_t flags;
	size_t len;
	uint8_t data[512];
};

static hammer_off_t redo(struct cfx *c, struct want *w, int64_t obj, hammer_off_t off,
			 uint32_t flags, size_t len)
{
	struct hammer_redo_rec r = { obj, off, flags, 0x20000 };
	if (w) {
		w->objid = obj;
		w->offset = off;
		w->flags = flags;
		w->len = flags == HAMMER_REDO_WRITE ? len : 0;
		rnd_fill(w->data, len);
	}
	static uint8_t tmp[512];
	rnd_fill(tmp, sizeof(tmp));
	hammer_off_t where;
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_undo_redo(c->u, &r, flags == HAMMER_REDO_WRITE ?
				  (w ? w->data : tmp) : NULL, len, &where, &e), e);
	return where;
}

/* Callbacks for one WRITE split over several records, merged. */
static void merge_got(struct got *g)
{
	int w = 0;
	for (int i = 0; i < g->n; i++) {
		if (w > 0 && g->r[i].flags == HAMMER_REDO_WRITE &&
		    g->r[w - 1].flags == HAMMER_REDO_WRITE &&
		    g->r[i].objid == g->r[w - 1].objid &&
		    g->r[i].offset == g->r[w - 1].offset + g->len[w - 1] &&
		    g->len[w - 1] + g->len[i] <= 512) {
			memcpy(g->data[w - 1] + g->len[w - 1], g->data[i], g->len[i]);
			g->len[w - 1] += g->len[i];
			continue;
		}
		if (w != i) {
			g->r[w] = g->r[i];
			g->len[w] = g->len[i];
			memcpy(g->data[w], g->data[i], g->len[i]);
		}
		w++;
	}
	g->n = w;
}

static void check_got(struct got *g, const struct want *w, int n)
{
	merge_got(g);
	if (g->n != n)
		for (int i = 0; i < g->n; i++)
			print_error("callback %d: obj %lld off %llu flags %x len %zu\n", i,
				    (long long)g->r[i].objid,
				    (unsigned long long)g->r[i].offset, g->r[i].flags,
				    g->len[i]);
	CHECK(g->n == n);
	for (int i = 0; i < n && i < g->n; i++) {
		if (g->r[i].objid != w[i].objid)
			print_error("callback %d: objid %lld, wanted %lld\n", i,
				    (long long)g->r[i].objid, (long long)w[i].objid);
		CHECK(g->r[i].objid == w[i].objid);
		CHECK(g->r[i].offset == w[i].offset);
		CHECK(g->r[i].flags == w[i].flags);
		CHECK(g->r[i].localization == 0x20000);
		CHECK(g->len[i] == w[i].len);
		CHECK(memcmp(g->data[i], w[i].data, w[i].len) == 0);
	}
}

static void t_redo_scan(void **state)
{
	(void)state;
	ut_rng = ut_seed("TEST_RECOVER_SEED", 0x2ec0005);
	for (int variant = 0; variant < 4; variant++) {
		CASE("redo scan variant %d", variant);
		struct img pre, crash;
		img_make(&pre, 1, 7);
		struct cfx c;
		cfx_attach(&c, img_open(&pre, 0));
		struct want w[16];
		int nw = 0;
		mods(&c, 5);
		/* cycle A, before F: the extended range */
		hammer_off_t E = redo(&c, NULL, 1, 0, HAMMER_REDO_WRITE, 100);
		redo(&c, NULL, 1, 0, HAMMER_REDO_TERM_WRITE, 100);
		redo(&c, &w[nw++], 2, 4096, HAMMER_REDO_WRITE, 300);
		redo(&c, NULL, 3, 777, HAMMER_REDO_TRUNC, 0);
		redo(&c, NULL, 3, 12345, HAMMER_REDO_TERM_TRUNC, 0);	/* ends it */
		redo(&c, NULL, 4, 0, HAMMER_REDO_TERM_TRUNC, 0);	/* nothing to end */
		redo(&c, &w[nw++], 1, 0, HAMMER_REDO_WRITE, 200);	/* after its TERM */
		redo(&c, &w[nw++], 6, 1 << 20, HAMMER_REDO_TRUNC, 0);
		mods(&c, 10);
		full_cycle(&c);
		/* cycle B, the nominal range [F, L) */
		hammer_off_t F = hammer_undo_first(c.u);
		struct hammer_err e = { 0 };
		hammer_off_t sync_at;
		/* an older REDO_SYNC in the range: the newest one counts */
		struct hammer_redo_rec old = { 0, variant == 1 ? E : F, HAMMER_REDO_SYNC, 0 };
		CHECK_RC(hammer_undo_redo(c.u, &old, NULL, 0, NULL, &e), e);
		struct hammer_redo_rec sr = { 0, variant == 1 ? F : E, HAMMER_REDO_SYNC, 0 };
		CHECK_RC(hammer_undo_redo(c.u, &sr, NULL, 0, &sync_at, &e), e);
		mods(&c, 10);
		redo(&c, &w[nw++], 5, 8, HAMMER_REDO_WRITE, 448);
		redo(&c, NULL, 2, 4096, HAMMER_REDO_TERM_WRITE, 300);	/* undone: no match */
		redo(&c, NULL, 6, 0, HAMMER_REDO_TERM_TRUNC, 0);
		redo(&c, &w[nw++], 7, 0, HAMMER_REDO_TRUNC, 0);
		mods(&c, 10);
		struct plan pl = { 1, 2, 0 };
		flush_cycle(&c, &pl);
		img_capture(&crash, c.vs);
		cfx_close(&c);

		if (variant == 2) {
			/* the extended range was overwritten: a sequence gap */
			uint8_t *p = rec_bytes(&crash, E);
			uint32_t seq = le32get(p + 8);
			craft_frame(7, p, HAMMER_HEAD_TYPE_REDO, le32get(p + 4), seq + 7);
		}
		if (variant == 3) {
			/* REDO_SYNC names a spot inside a record */
			uint8_t *p = rec_bytes(&crash, sync_at);
			le64put(p + 24, E + 8);
			craft_frame(7, p, HAMMER_HEAD_TYPE_REDO, le32get(p + 4), le32get(p + 8));
		}
		struct hammer_volset *vs = img_open(&crash, 0);
		struct hammer_bufcache *bc;
		assert_int_equal(hammer_bufcache_open(vs, 64 * MB, &bc), 0);
		struct hammer_recover_info info;
		CHECK_RC(hammer_recover_stage1(vs, bc, &info, &e), e);
		CHECK(info.redo_needed);
		CHECK(info.first == F);
		CHECK(info.redo_start == (variant == 1 ? F : variant == 3 ? E + 8 : E));
		static struct got g;
		memset(&g, 0, sizeof(g));
		memset(&e, 0, sizeof(e));
		int rc = hammer_recover_redo_scan(vs, bc, &info, got_fn, &g, &e);
		if (variant == 0) {
			CHECK_RC(rc, e);
			check_got(&g, w, nw);
			/* a callback's error stops the scan and comes back */
			memset(&g, 0, sizeof(g));
			g.stop_at = 2;
			CHECK(hammer_recover_redo_scan(vs, bc, &info, got_fn, &g, &e) == 42);
			CHECK(g.n == 2);
		} else if (variant == 1) {
			/* embedded: everything from F, no TERM set */
			CHECK_RC(rc, e);
			check_got(&g, w + 3, nw - 3);
		} else {
			CHECK(rc == -ERANGE);
			CHECK(strstr(e.msg, variant == 2 ? "sequence" : "record boundary"));
		}
		/* nothing to do without a REDO_SYNC */
		struct hammer_recover_info none = info;
		none.redo_needed = 0;
		memset(&g, 0, sizeof(g));
		CHECK(hammer_recover_redo_scan(vs, bc, &none, got_fn, &g, &e) == 0 && g.n == 0);
		hammer_bufcache_close(bc);
		hammer_volset_close(vs);
		img_free(&crash);
		img_free(&pre);
	}
}

/* ------------------------------------------------------------- speed */
static void t_perf(void **state)
{
	(void)state;
	ut_rng = 11;
	CASE("perf");
	struct img pre, crash;
	img_make(&pre, 1, 7);
	struct cfx c;
	cfx_attach(&c, img_open(&pre, 0));
	/* ~6 MB of UNDO: whole 16 KB buffers' worth of old bytes */
	int nbuf = ut_cases("TEST_RECOVER_PERF", 330);
	for (int i = 0; i < nbuf; i++) {
		hammer_off_t a = hammer_encode(2, 0, 3 * BB + (uint64_t)i * KB16);
		modify_z2(&c, a, KB16);
	}
	struct plan pl = { 1, 1, 0 };
	hammer_off_t P = flush_cycle(&c, &pl);
	img_capture(&crash, c.vs);
	cfx_close(&c);
	struct hammer_volset *vs = img_open(&crash, 0);
	struct hammer_bufcache *bc;
	assert_int_equal(hammer_bufcache_open(vs, 64 * MB, &bc), 0);
	struct hammer_recover_info info;
	struct hammer_err e = { 0 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_RC(hammer_recover_stage1(vs, bc, &info, &e), e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double mb = (double)(P - Z3BASE) / MB;
	print_message("stage 1: %.1f MB of FIFO, %llu UNDOs (%.1f MB restored) in %.3f s: "
		      "%.0f MB/s of FIFO\n", mb, (unsigned long long)info.undo_records,
		      (double)info.undo_bytes / MB, s, mb / s);
	CHECK(info.undo_bytes == (uint64_t)nbuf * KB16);
	hammer_bufcache_close(bc);
	hammer_volset_close(vs);
	img_free(&crash);
	img_free(&pre);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_clean),
		cmocka_unit_test(t_cycles_random),
		cmocka_unit_test(t_pads_recover),
		cmocka_unit_test(t_v3_header),
		cmocka_unit_test(t_crash_in_recovery),
		cmocka_unit_test(t_torn_split_undo),
		cmocka_unit_test(t_sim_states),
		cmocka_unit_test(t_refusals),
		cmocka_unit_test(t_redo_scan),
		cmocka_unit_test(t_perf),
	};
	if (getenv("TEST_FILTER"))	/* e.g. TEST_FILTER=t_refusals */
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	img_cache_free();
	return rc;
}
