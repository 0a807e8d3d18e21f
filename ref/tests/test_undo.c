/*
 * test_undo.c - the UNDO/REDO FIFO writer on small newfs'd RAM images.
 *
 * The layout is checked against an oracle re-deriving format digest 5.2
 * from the sequence of calls (sector room, PAD sizes, payload splits at
 * 472/448 bytes, the sector end and 16 KB target buffers, sequence
 * numbers, the trailing PAD and the DUMMY pre-fill after P), from the
 * device bytes after the UNDO buffers are flushed.  Also: the show-undo
 * rules over the whole FIFO (and the real `hammer show-undo` when the
 * build directory is known), wrap-around, -ENOSPC and the margin before
 * first_offset, duplicate suppression, reopening, argument refusals.
 *
 * Randomised cases print "seed S case C"; rerun with TEST_UNDO_SEED=S.
 */
#include "undotest.h"

#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ fixture */
struct fx {
	struct img im;
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	struct hammer_undo *u;
	struct hammer_fifo_geom g;
};

static void fx_open_vs(struct fx *f)
{
	struct hammer_err e = { 0 };
	assert_int_equal(hammer_bufcache_open(f->vs, 32 * MB, &f->bc), 0);
	CHECK_RC(hammer_undo_open(f->vs, f->bc, &f->u, &e), e);
	CHECK_RC(hammer_fifo_geom_get(f->vs, &f->g, &e), e);
}

static void fx_open(struct fx *f, int nvol, unsigned version)
{
	memset(f, 0, sizeof(*f));
	img_make(&f->im, nvol, version);
	f->vs = img_open(&f->im, 0);
	fx_open_vs(f);
}

static void fx_close(struct fx *f)
{
	hammer_undo_close(f->u);
	hammer_bufcache_close(f->bc);
	hammer_volset_close(f->vs);
	img_free(&f->im);
}

static void flush_undo(struct fx *f)
{
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_bufcache_flush_kind(f->bc, HAMMER_BUF_UNDO, &e), e);
}

/* A zone-2 address in a free big-block of volume vol (not the FIFO). */
static hammer_off_t free_z2(struct fx *f, unsigned vol, uint64_t off)
{
	(void)f;
	/* volume 0: big-blocks 0..4 hold freemap, UNDO, B-tree, meta; any
	 * zone-2 bytes outside the FIFO will do */
	uint64_t bb = vol == 0 ? 4 : 1;
	return hammer_encode(HAMMER_ZONE_RAW_BUFFER_INDEX, vol, bb * BB + off);
}

/* ------------------------------------------------------------ oracle */
struct call {
	int redo;
	hammer_off_t target;
	uint8_t *data;
	size_t len;
	struct hammer_redo_rec r;
	hammer_off_t where;
	int suppressed;
};

struct model {
	struct call *c;
	size_t n, cap;
	hammer_off_t p0;	/* P before the first call */
	uint32_t seq0;
};

static void model_init(struct model *m, struct fx *f)
{
	memset(m, 0, sizeof(*m));
	m->p0 = hammer_undo_append_point(f->u);
	m->seq0 = hammer_undo_next_seq(f->u);
}

static void model_free(struct model *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->c[i].data);
	free(m->c);
}

static struct call *model_add(struct model *m)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->c = realloc(m->c, m->cap * sizeof(*m->c));
		assert_non_null(m->c);
	}
	struct call *c = &m->c[m->n++];
	memset(c, 0, sizeof(*c));
	return c;
}

static void do_undo(struct fx *f, struct model *m, hammer_off_t addr, size_t len)
{
	struct call *c = model_add(m);
	c->target = addr;
	c->len = len;
	c->data = malloc(len ? len : 1);
	rnd_fill(c->data, len);
	struct hammer_undo_stats before, after;
	hammer_undo_stats(f->u, &before);
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_undo_log(f->u, addr, c->data, len, &e), e);
	hammer_undo_stats(f->u, &after);
	c->suppressed = after.suppressed != before.suppressed || len == 0;
}

static void do_redo(struct fx *f, struct model *m, uint32_t flags, size_t len)
{
	struct call *c = model_add(m);
	c->redo = 1;
	c->r.objid = (int64_t)rnd();
	c->r.offset = flags == HAMMER_REDO_SYNC ? Z3BASE + 8 * rnd_n(1000) : rnd();
	c->r.flags = flags;
	c->r.localization = (uint32_t)rnd();
	c->len = len;
	if (flags == HAMMER_REDO_WRITE) {
		c->data = malloc(len ? len : 1);
		rnd_fill(c->data, len);
	}
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_undo_redo(f->u, &c->r, c->data, len, &c->where, &e), e);
}

static hammer_off_t fadv(struct fx *f, hammer_off_t p, uint32_t n)
{
	p += n;
	return p == f->g.alloc ? f->g.base : p;
}

/*
 * Walk the device bytes from p0 and check every record against the calls
 * (digest 5.2 re-derived), then the trailing PAD and DUMMY pre-fill.
 */
static void model_check(struct fx *f, struct model *m)
{
	flush_undo(f);
	hammer_off_t p = m->p0;
	uint32_t seq = m->seq0;
	uint32_t buf_seq = 0;		/* seq of the first record in p's buffer */
	int have_buf_seq = 0;
	int fresh = (p & HAMMER_BUFMASK) == 0;	/* p's buffer entered at its start */
	struct wrec w;
	for (size_t i = 0; i < m->n; i++) {
		struct call *c = &m->c[i];
		if (c->suppressed)
			continue;
		uint32_t over = c->redo ? 64 : 40;
		size_t left = c->len, done = 0;
		int first = 1;
		for (;;) {
			uint32_t room = 512 - (uint32_t)(p & 511);
			if ((p & HAMMER_BUFMASK) == 0) {
				have_buf_seq = 0;
				fresh = 1;
			}
			CHECK(walk_one(f->vs, p, &w) == 0);
			if (room <= over) {
				CHECK(w.r.head.hdr_type == HAMMER_HEAD_TYPE_PAD);
				CHECK(w.r.head.hdr_size == room);
				CHECK((p & 511) != 0);
				if (room == 8) {	/* all head */
					CHECK(le32get(w.raw + 4) == 8);
				}
				p = fadv(f, p, room);
				continue;
			}
			size_t n = 0;
			if (!c->redo || c->r.flags == HAMMER_REDO_WRITE) {
				n = room - over;
				if (n > left)
					n = left;
				if (!c->redo && hammer_zone_of(c->target) == 2) {
					size_t tob = KB16 - ((c->target + done) & (KB16 - 1));
					if (n > tob)
						n = tob;
				}
			}
			uint32_t size = (uint32_t)((n + 7) & ~(size_t)7) + over;
			CHECK(w.r.head.hdr_size == size);
			CHECK(w.r.head.hdr_seq == seq);
			if (fresh) {
				buf_seq = seq;
				have_buf_seq = 1;
				fresh = 0;
			}
			seq++;
			if (c->redo) {
				CHECK(w.r.head.hdr_type == HAMMER_HEAD_TYPE_REDO);
				CHECK(w.r.u.redo.redo_objid == c->r.objid);
				CHECK(w.r.u.redo.redo_offset == c->r.offset + done);
				CHECK(w.r.u.redo.redo_flags == c->r.flags);
				CHECK(w.r.u.redo.redo_localization == c->r.localization);
				if (c->r.flags == HAMMER_REDO_WRITE) {
					CHECK(w.r.u.redo.redo_data_bytes == (int32_t)n);
					CHECK(memcmp(w.raw + 56, c->data + done, n) == 0);
				} else {
					CHECK(w.r.u.redo.redo_data_bytes == (int32_t)c->len);
				}
				if (first)
					CHECK(c->where == p);
			} else {
				CHECK(w.r.head.hdr_type == HAMMER_HEAD_TYPE_UNDO);
				CHECK(w.r.u.undo.undo_offset == c->target + done);
				CHECK(w.r.u.undo.undo_data_bytes == (int32_t)n);
				CHECK(n <= HAMMER_UNDO_MAX_PAYLOAD);
				CHECK(memcmp(w.raw + 32, c->data + done, n) == 0);
			}
			first = 0;
			p = fadv(f, p, size);
			left -= n;
			done += n;
			if (left == 0 || (c->redo && c->r.flags != HAMMER_REDO_WRITE))
				break;
		}
	}
	CHECK(p == hammer_undo_append_point(f->u));
	CHECK(seq == hammer_undo_next_seq(f->u));
	if (p & HAMMER_BUFMASK) {
		/* trailing PAD up to the sector, then the pre-fill */
		uint32_t room = 512 - (uint32_t)(p & 511);
		if (room != 512) {
			CHECK(walk_one(f->vs, p, &w) == 0);
			CHECK(w.r.head.hdr_type == HAMMER_HEAD_TYPE_PAD);
			CHECK(w.r.head.hdr_size == room);
			p += room;
		}
		for (; p & HAMMER_BUFMASK; p += 512) {
			CHECK(walk_one(f->vs, p, &w) == 0);
			CHECK(w.r.head.hdr_type == HAMMER_HEAD_TYPE_DUMMY);
			CHECK(w.r.head.hdr_size == 512);
			if (have_buf_seq)
				CHECK(w.r.head.hdr_seq == ((buf_seq ^ HAMMER_SEQ_DUMMY_XOR) +
							  (uint32_t)((p & HAMMER_BUFMASK) / 512)));
		}
	}
	CHECK(show_undo_errors(f->vs) == 0);
}

/* ------------------------------------------------------------- tests */
static void t_fresh(void **state)
{
	(void)state;
	static const unsigned vers[] = { 3, 4, 6, 7 };
	for (size_t k = 0; k < sizeof(vers) / sizeof(vers[0]); k++) {
		CASE("fresh v%u", vers[k]);
		struct fx f;
		fx_open(&f, 1, vers[k]);
		CHECK(hammer_undo_size(f.u) == 8 * MB);
		CHECK(hammer_undo_append_point(f.u) == Z3BASE);
		CHECK(hammer_undo_first(f.u) == Z3BASE);
		/* newfs numbers its DUMMYs 0..N-1: continue after the last */
		CHECK(hammer_undo_next_seq(f.u) == (uint32_t)(8 * MB / 512));
		CHECK(hammer_undo_free_bytes(f.u) == 8 * MB - HAMMER_UNDO_MARGIN);
		CHECK(show_undo_errors(f.vs) == 0);
		fx_close(&f);
	}
}

/* Random UNDO/REDO traffic, checked record by record. */
static void t_layout_random(void **state)
{
	(void)state;
	uint64_t seed = ut_seed("TEST_UNDO_SEED", 0x5eed0001);
	int cases = ut_cases("TEST_UNDO_CASES", 6);
	static const unsigned vers[] = { 7, 6, 4, 3 };
	for (int cs = 0; cs < cases; cs++) {
		ut_rng = seed + (uint64_t)cs;
		unsigned v = vers[cs % 4];
		CASE("layout seed %llu case %d v%u", (unsigned long long)seed, cs, v);
		struct fx f;
		fx_open(&f, cs % 3 == 2 ? 2 : 1, v);
		struct model m;
		model_init(&m, &f);
		int ncalls = 200 + (int)rnd_n(300);
		for (int i = 0; i < ncalls; i++) {
			unsigned what = (unsigned)rnd_n(10);
			if (what < 6) {
				size_t len = rnd_n(8) == 0 ? 1 + rnd_n(40) :
					     rnd_n(6) == 0 ? 1 + rnd_n(3000) : 1 + rnd_n(600);
				hammer_off_t a;
				if (rnd_n(8) == 0) {
					unsigned vol = (unsigned)rnd_n((uint64_t)f.vs->count);
					size_t hs = sizeof(struct hammer_volume_ondisk);
					if (len > hs)
						len = hs;
					a = hammer_encode(1, vol, rnd_n(hs - len + 1));
				} else {
					unsigned vol = (unsigned)rnd_n((uint64_t)f.vs->count);
					a = free_z2(&f, vol, rnd_n(BB - len));
				}
				do_undo(&f, &m, a, len);
				/* sometimes log it again: suppressed */
				if (rnd_n(10) == 0) {
					do_undo(&f, &m, a, len - rnd_n(len));
					CHECK(m.c[m.n - 1].suppressed);
				}
			} else if (what < 8) {
				do_redo(&f, &m, HAMMER_REDO_WRITE, rnd_n(5) ? rnd_n(1500) : 0);
			} else {
				static const uint32_t fl[] = { HAMMER_REDO_TRUNC,
					HAMMER_REDO_TERM_WRITE, HAMMER_REDO_TERM_TRUNC,
					HAMMER_REDO_SYNC };
				uint32_t flag = fl[rnd_n(4)];
				do_redo(&f, &m, flag, flag == HAMMER_REDO_TERM_WRITE ?
					rnd_n(70000) : 0);
			}
			if (rnd_n(50) == 0)
				hammer_undo_cycle_end(f.u);
		}
		model_check(&f, &m);
		struct hammer_undo_stats st;
		hammer_undo_stats(f.u, &st);
		CHECK(st.undo_records > 0 && st.redo_records > 0);
		CHECK(st.fresh_buffers > 0);
		model_free(&m);
		fx_close(&f);
	}
}

/* Every PAD size at a sector end, and PADs/records at a 16 KB boundary. */
static void t_pad_forms(void **state)
{
	(void)state;
	for (unsigned r = 8; r <= 72; r += 8) {
		for (int redo = 0; redo < 2; redo++) {
			CASE("pad room %u before %s", r, redo ? "REDO" : "UNDO");
			struct fx f;
			fx_open(&f, 1, 7);
			struct model m;
			model_init(&m, &f);
			/* fill sector 0 up to leave r bytes */
			do_undo(&f, &m, free_z2(&f, 0, 0), 512 - 40 - r);
			CHECK(hammer_undo_append_point(f.u) == Z3BASE + 512 - r);
			if (redo)
				do_redo(&f, &m, HAMMER_REDO_TRUNC, 0);
			else
				do_undo(&f, &m, free_z2(&f, 0, 4096), 100);
			uint32_t over = redo ? 64 : 40;
			struct wrec w;
			flush_undo(&f);
			CHECK(walk_one(f.vs, Z3BASE + 512 - r, &w) == 0);
			CHECK(w.r.head.hdr_type == (r <= over ? HAMMER_HEAD_TYPE_PAD :
				redo ? HAMMER_HEAD_TYPE_REDO : HAMMER_HEAD_TYPE_UNDO));
			if (r == 8) {
				/* the 8-byte PAD: head only, no tail, no seq/CRC */
				uint8_t raw[8];
				struct hammer_err e = { 0 };
				CHECK_RC(hammer_volset_read(f.vs, Z3BASE + 504, raw, 8, &e), e);
				CHECK(raw[0] == 0x4E && raw[1] == 0xC8 && raw[2] == 0x40 &&
				      raw[3] == 0x80 && le32get(raw + 4) == 8);
			}
			model_check(&f, &m);
			model_free(&m);
			fx_close(&f);
		}
	}
	/* the sector ending a 16 KB buffer: next record starts a fresh buffer */
	CASE("pad at buffer end");
	struct fx f;
	fx_open(&f, 1, 7);
	struct model m;
	model_init(&m, &f);
	for (int s = 0; s < 31; s++)
		do_undo(&f, &m, free_z2(&f, 0, (uint64_t)s * 512), 472);
	do_undo(&f, &m, free_z2(&f, 0, 31 * 512), 472 - 24);	/* leaves 24 */
	CHECK(hammer_undo_append_point(f.u) == Z3BASE + KB16 - 24);
	do_undo(&f, &m, free_z2(&f, 0, 40000), 300);
	CHECK(hammer_undo_append_point(f.u) == Z3BASE + KB16 + 344);
	struct hammer_undo_stats st;
	hammer_undo_stats(f.u, &st);
	CHECK(st.pad_records == 1);
	CHECK(st.fresh_buffers == 2);
	model_check(&f, &m);
	model_free(&m);
	fx_close(&f);
}

/* Long ranges split at 472 bytes, sector ends and 16 KB target buffers. */
static void t_split(void **state)
{
	(void)state;
	CASE("split");
	struct fx f;
	fx_open(&f, 1, 7);
	struct model m;
	model_init(&m, &f);
	do_undo(&f, &m, free_z2(&f, 0, KB16 - 1000), 5000);	/* crosses 16 KB */
	do_undo(&f, &m, free_z2(&f, 0, 3 * KB16 - 3), 7);
	do_redo(&f, &m, HAMMER_REDO_WRITE, 5000);
	do_undo(&f, &m, hammer_encode(1, 0, 0), sizeof(struct hammer_volume_ondisk));
	model_check(&f, &m);
	/* no UNDO payload crosses a 16 KB buffer of its target */
	hammer_off_t end = hammer_undo_append_point(f.u);
	for (hammer_off_t p = Z3BASE; p < end;) {
		struct wrec w;
		CHECK(walk_one(f.vs, p, &w) == 0);
		if (w.r.head.hdr_type == HAMMER_HEAD_TYPE_UNDO &&
		    hammer_zone_of(w.r.u.undo.undo_offset) == 2)
			CHECK((w.r.u.undo.undo_offset & (KB16 - 1)) +
			      (uint64_t)w.r.u.undo.undo_data_bytes <= KB16);
		p += w.r.head.hdr_size;
	}
	model_free(&m);
	fx_close(&f);
}

static void t_dedupe(void **state)
{
	(void)state;
	CASE("dedupe");
	struct fx f;
	fx_open(&f, 1, 7);
	struct hammer_err e = { 0 };
	uint8_t b[600] = { 1 };
	hammer_off_t a = free_z2(&f, 0, 100);
	struct hammer_undo_stats st;
	CHECK_RC(hammer_undo_log(f.u, a, b, 300, &e), e);
	hammer_off_t p = hammer_undo_append_point(f.u);
	CHECK_RC(hammer_undo_log(f.u, a, b, 300, &e), e);	/* same */
	CHECK_RC(hammer_undo_log(f.u, a, b, 10, &e), e);	/* covered */
	CHECK(hammer_undo_append_point(f.u) == p);
	hammer_undo_stats(f.u, &st);
	CHECK(st.suppressed == 2 && st.undo_records == 1);
	CHECK_RC(hammer_undo_log(f.u, a + 8, b, 10, &e), e);	/* other addr */
	CHECK_RC(hammer_undo_log(f.u, a, b, 500, &e), e);	/* longer */
	CHECK_RC(hammer_undo_log(f.u, a, b, 500, &e), e);
	hammer_undo_stats(f.u, &st);
	CHECK(st.suppressed == 3);
	hammer_undo_cycle_end(f.u);
	p = hammer_undo_append_point(f.u);
	CHECK_RC(hammer_undo_log(f.u, a, b, 300, &e), e);	/* new cycle */
	CHECK(hammer_undo_append_point(f.u) != p);
	hammer_undo_stats(f.u, &st);
	CHECK(st.suppressed == 3);
	CHECK(st.undo_bytes == 300 + 10 + 500 + 300);
	fx_close(&f);
}

/* Flusher-like traffic until P wraps twice; first follows two cycles back. */
static void t_wrap(void **state)
{
	(void)state;
	uint64_t seed = ut_seed("TEST_UNDO_SEED", 0x5eed0002);
	ut_rng = seed;
	CASE("wrap seed %llu", (unsigned long long)seed);
	struct fx f;
	fx_open(&f, 1, 7);
	struct hammer_err e = { 0 };
	hammer_off_t p_prev = hammer_undo_append_point(f.u);
	uint8_t data[2000];
	struct hammer_undo_stats st;
	int cycles = 0;
	for (;;) {
		/* one cycle: some UNDOs and REDOs */
		int n = 20 + (int)rnd_n(200);
		for (int i = 0; i < n; i++) {
			size_t len = 1 + rnd_n(sizeof(data));
			rnd_fill(data, len);
			int rc = hammer_undo_log(f.u, free_z2(&f, 0, rnd_n(BB - len)),
						 data, len, &e);
			CHECK_RC(rc, e);
			if (rnd_n(4) == 0) {
				struct hammer_redo_rec r = { 7, rnd(), HAMMER_REDO_WRITE, 1 };
				CHECK_RC(hammer_undo_redo(f.u, &r, data, rnd_n(900), NULL,
							  &e), e);
			}
		}
		flush_undo(&f);
		hammer_off_t p = hammer_undo_append_point(f.u);
		/* as the flusher: first moves to the P of the previous cycle */
		hammer_undo_set_first(f.u, p_prev);
		hammer_undo_cycle_end(f.u);
		p_prev = p;
		cycles++;
		hammer_undo_stats(f.u, &st);
		if (st.wraps >= 2)
			break;
		CHECK(cycles < 100000);
	}
	/* the live range walks with unbroken sequence numbers up to P */
	hammer_off_t p = hammer_undo_first(f.u), end = hammer_undo_append_point(f.u);
	uint32_t seq = 0;
	int have = 0;
	uint64_t walked = 0;
	while (p != end) {
		struct wrec w;
		CHECK(walk_one(f.vs, p, &w) == 0);
		if (w.r.head.hdr_type != HAMMER_HEAD_TYPE_PAD) {
			if (have)
				CHECK(w.r.head.hdr_seq == seq + 1);
			seq = w.r.head.hdr_seq;
			have = 1;
		}
		p += w.r.head.hdr_size;
		if (p == f.g.alloc)
			p = f.g.base;
		walked += w.r.head.hdr_size;
		CHECK(walked <= 8 * MB);
	}
	CHECK(have && seq + 1 == hammer_undo_next_seq(f.u));
	CHECK(show_undo_errors(f.vs) == 0);
	/* the header range as the flusher writes it; the sequence scan agrees */
	struct hammer_blockmap *z3 =
		&hammer_volset_root(f.vs)->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	z3->first_offset = hammer_undo_first(f.u);
	z3->next_offset = hammer_undo_append_point(f.u);
	uint32_t s2;
	CHECK_RC(hammer_fifo_seq_before(f.vs, f.bc, end, &s2, &e), e);
	CHECK(s2 + 1 == hammer_undo_next_seq(f.u));
	fx_close(&f);
}

/* -ENOSPC: nothing appended, and first (plus the record before it) intact. */
static void t_enospc(void **state)
{
	(void)state;
	uint64_t seed = ut_seed("TEST_UNDO_SEED", 0x5eed0003);
	for (int cs = 0; cs < 3; cs++) {
		ut_rng = seed + (uint64_t)cs;
		CASE("enospc seed %llu case %d", (unsigned long long)seed, cs);
		struct fx f;
		fx_open(&f, 1, 7);
		struct hammer_err e = { 0 };
		uint8_t data[3000];
		rnd_fill(data, sizeof(data));
		/* move P to a random spot, make it first (a flushed cycle) */
		uint64_t skip = rnd_n(7 * MB);
		while (hammer_undo_append_point(f.u) - Z3BASE < skip)
			CHECK_RC(hammer_undo_log(f.u, free_z2(&f, 0, rnd_n(BB - 500)),
						 data, 1 + rnd_n(472), &e), e);
		hammer_undo_cycle_end(f.u);
		hammer_off_t first = hammer_undo_append_point(f.u);
		hammer_undo_set_first(f.u, first);
		flush_undo(&f);
		/*
		 * what lies before first (the record recovery reads for the
		 * starting sequence number, first's buffer) must survive the
		 * writer coming round again
		 */
		hammer_off_t lo = first - Z3BASE < KB16 + 512 ? Z3BASE
							       : first - KB16 - 512;
		hammer_off_t hi = first;
		size_t span = (size_t)(hi - lo);
		uint8_t *before = malloc(span), *after = malloc(span);
		CHECK_RC(hammer_volset_read(f.vs, lo, before, span, &e), e);
		uint64_t last_free = hammer_undo_free_bytes(f.u);
		uint64_t full = 0;
		for (;;) {
			size_t len = rnd_n(3) ? 1 + rnd_n(40) : 1 + rnd_n(sizeof(data));
			hammer_off_t p = hammer_undo_append_point(f.u);
			uint32_t seq = hammer_undo_next_seq(f.u);
			struct hammer_undo_stats s0, s1;
			hammer_undo_stats(f.u, &s0);
			memset(&e, 0, sizeof(e));
			int rc = hammer_undo_log(f.u, free_z2(&f, 0, rnd_n(BB - len)),
						 data, len, &e);
			if (rc == -ENOSPC) {
				hammer_undo_stats(f.u, &s1);
				CHECK(hammer_undo_append_point(f.u) == p);
				CHECK(hammer_undo_next_seq(f.u) == seq);
				CHECK(memcmp(&s0, &s1, sizeof(s0)) == 0);
				/* a refusal only when really short */
				CHECK(hammer_undo_free_bytes(f.u) < len + len / 8 + 600);
				if (++full == 20)
					break;
				continue;
			}
			CHECK_RC(rc, e);
			uint64_t fr = hammer_undo_free_bytes(f.u);
			CHECK(fr <= last_free);
			last_free = fr;
			/* P never gets within the margin of first */
			hammer_off_t np = hammer_undo_append_point(f.u);
			uint64_t gap = np <= first ? first - np : 8 * MB - (np - first);
			CHECK(gap >= HAMMER_UNDO_MARGIN);
		}
		flush_undo(&f);
		CHECK_RC(hammer_volset_read(f.vs, lo, after, span, &e), e);
		CHECK(memcmp(before, after, span) == 0);
		CHECK(show_undo_errors(f.vs) == 0);
		/* the flusher frees the space: appends work again */
		hammer_undo_set_first(f.u, hammer_undo_append_point(f.u));
		CHECK(hammer_undo_free_bytes(f.u) == 8 * MB - HAMMER_UNDO_MARGIN);
		CHECK_RC(hammer_undo_log(f.u, free_z2(&f, 0, 0), data, 3000, &e), e);
		free(before);
		free(after);
		fx_close(&f);
	}
}

/* The FIFO holds a PAD from p up to up, then an UNDO record (returned). */
static struct wrec pad_then_undo(struct hammer_volset *vs, hammer_off_t p,
				 hammer_off_t up)
{
	struct wrec w;
	CHECK(walk_one(vs, p, &w) == 0);
	CHECK(w.r.head.hdr_type == HAMMER_HEAD_TYPE_PAD && p + w.r.head.hdr_size == up);
	CHECK(walk_one(vs, up, &w) == 0);
	CHECK(w.r.head.hdr_type == HAMMER_HEAD_TYPE_UNDO);
	return w;
}

/* Sectors announced: only those records went into; seal pads to a sector. */
static void t_sectors_seal(void **state)
{
	(void)state;
	CASE("sectors and seal");
	struct fx f;
	fx_open(&f, 1, 7);
	struct model m;
	model_init(&m, &f);
	struct hammer_err e = { 0 };
	do_undo(&f, &m, free_z2(&f, 0, 0), 100);
	do_undo(&f, &m, free_z2(&f, 0, 4096), 1000);	/* into sector 2 */
	flush_undo(&f);
	hammer_off_t p0 = hammer_undo_append_point(f.u);
	CHECK(p0 > Z3BASE + 1024 && p0 < Z3BASE + 1536);
	do_undo(&f, &m, free_z2(&f, 0, 8192), 600);	/* sectors 2..4 */
	struct hammer_buffer *b;
	void *d;
	CHECK_RC(hammer_buffer_get(f.bc, Z3BASE, 512, 0, &b, &d, &e), e);
	CHECK(b->kind == HAMMER_BUF_UNDO && b->dirty);
	hammer_off_t p1 = hammer_undo_append_point(f.u);
	for (unsigned i = 0; i < 32; i++) {
		int want = i >= (p0 - Z3BASE) / 512 && i <= (p1 - 1 - Z3BASE) / 512;
		CHECK(!!(b->dsec[i / 64] & (1ULL << (i % 64))) == want);
	}
	hammer_buffer_put(f.bc, b);
	/* seal (after the flush): the next cycle starts in a fresh sector */
	flush_undo(&f);
	hammer_undo_seal(f.u);
	hammer_off_t p2 = hammer_undo_append_point(f.u);
	CHECK(p2 == ((p1 + 511) & ~(hammer_off_t)511));
	hammer_undo_seal(f.u);				/* on a boundary: nothing */
	CHECK(hammer_undo_append_point(f.u) == p2);
	do_undo(&f, &m, free_z2(&f, 0, 12288), 50);
	CHECK_RC(hammer_buffer_get(f.bc, Z3BASE, 512, 0, &b, &d, &e), e);
	unsigned s = (unsigned)((p2 - Z3BASE) / 512);
	CHECK(b->dsec[0] == 1ULL << s && b->dsec[1] == 0);
	hammer_buffer_put(f.bc, b);
	/* the layout oracle: the seal PAD is one the next record did not fill */
	flush_undo(&f);
	pad_then_undo(f.vs, p1, p2);
	CHECK(show_undo_errors(f.vs) == 0);
	model_free(&m);
	fx_close(&f);
}

/* A writer reopened on the header the flusher wrote continues the sequence. */
static void t_reopen(void **state)
{
	(void)state;
	ut_rng = 77;
	for (unsigned v = 3; v <= 7; v += 4) {
		CASE("reopen v%u", v);
		struct fx f;
		fx_open(&f, 1, v);
		struct hammer_err e = { 0 };
		uint8_t data[1000];
		rnd_fill(data, sizeof(data));
		for (int i = 0; i < 100; i++)
			CHECK_RC(hammer_undo_log(f.u, free_z2(&f, 0, (uint64_t)i * 2000),
						 data, 1 + rnd_n(999), &e), e);
		flush_undo(&f);
		struct hammer_blockmap *z3 =
			&hammer_volset_root(f.vs)->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
		z3->next_offset = hammer_undo_append_point(f.u);
		CHECK_RC(hammer_volset_write_header(f.vs, 0, &e), e);
		uint32_t seq = hammer_undo_next_seq(f.u);
		hammer_off_t p = hammer_undo_append_point(f.u);
		hammer_undo_close(f.u);
		hammer_bufcache_close(f.bc);
		struct img now;
		img_capture(&now, f.vs);
		hammer_volset_close(f.vs);
		f.vs = img_open(&now, 0);
		img_free(&now);
		fx_open_vs(&f);
		CHECK(hammer_undo_next_seq(f.u) == seq);
		CHECK(hammer_undo_first(f.u) == Z3BASE);
		/*
		 * Reopened mid-sector over the PAD this writer left: the next
		 * record starts in a fresh sector, so the one holding the last
		 * records is not written again.
		 */
		CHECK((p & 511) != 0);
		hammer_off_t up = (p + 511) & ~(hammer_off_t)511;
		CHECK(hammer_undo_append_point(f.u) == up);
		CHECK_RC(hammer_undo_log(f.u, free_z2(&f, 0, 300000), data, 10, &e), e);
		flush_undo(&f);
		struct wrec w = pad_then_undo(f.vs, p, up);
		if (v >= 4)
			CHECK(w.r.head.hdr_seq == seq);
		hammer_undo_close(f.u);
		hammer_bufcache_close(f.bc);
		/* the same FIFO with something else after P: continue in place */
		uint8_t junk[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
		struct img now2;
		img_capture(&now2, f.vs);
		uint64_t ph = fifo_phys(f.vs, p);
		hammer_volset_close(f.vs);
		memcpy(now2.bytes[0] + ph, junk, sizeof(junk));
		f.vs = img_open(&now2, 0);
		img_free(&now2);
		fx_open_vs(&f);
		CHECK(hammer_undo_append_point(f.u) == p);
		hammer_undo_seal(f.u);	/* not our PAD to skip */
		CHECK(hammer_undo_append_point(f.u) == p);
		fx_close(&f);
	}
}

static void t_refusals(void **state)
{
	(void)state;
	CASE("refusals");
	struct fx f;
	fx_open(&f, 2, 7);
	struct hammer_err e = { 0 };
	uint8_t b[100] = { 0 };
	size_t hs = sizeof(struct hammer_volume_ondisk);
	hammer_off_t p = hammer_undo_append_point(f.u);
#define REFUSE(call) do { memset(&e, 0, sizeof(e)); CHECK((call) == -EINVAL); \
	CHECK(e.msg[0] != 0); } while (0)
	REFUSE(hammer_undo_log(f.u, hammer_encode(8, 0, 0), b, 10, &e));
	REFUSE(hammer_undo_log(f.u, hammer_encode(3, 0, 0), b, 10, &e));
	REFUSE(hammer_undo_log(f.u, hammer_encode(1, 0, hs - 5), b, 10, &e));
	REFUSE(hammer_undo_log(f.u, hammer_encode(1, 2, 0), b, 10, &e));
	REFUSE(hammer_undo_log(f.u, hammer_encode(2, 2, 0), b, 10, &e));
	REFUSE(hammer_undo_log(f.u, hammer_encode(2, 0, 100 * BB), b, 10, &e));
	hammer_off_t fifo2 = hammer_volset_root(f.vs)->vol0_undo_array[0];
	REFUSE(hammer_undo_log(f.u, fifo2 + 4096, b, 10, &e));
	REFUSE(hammer_undo_log(f.u, fifo2 - 5, b, 10, &e));
	REFUSE(hammer_undo_log(f.u, free_z2(&f, 0, 0), NULL, 10, &e));
	struct hammer_redo_rec r = { 1, 0, 0, 0 };
	REFUSE(hammer_undo_redo(f.u, &r, NULL, 0, NULL, &e));
	r.flags = HAMMER_REDO_WRITE | HAMMER_REDO_TRUNC;
	REFUSE(hammer_undo_redo(f.u, &r, NULL, 0, NULL, &e));
	r.flags = HAMMER_REDO_TERM_WRITE;
	REFUSE(hammer_undo_redo(f.u, &r, b, 10, NULL, &e));
	r.flags = HAMMER_REDO_WRITE;
	REFUSE(hammer_undo_redo(f.u, &r, NULL, 10, NULL, &e));
	r.flags = HAMMER_REDO_SYNC;
	r.offset = f.g.alloc;
	REFUSE(hammer_undo_redo(f.u, &r, NULL, 0, NULL, &e));
	r.offset = Z3BASE + 4;
	REFUSE(hammer_undo_redo(f.u, &r, NULL, 0, NULL, &e));
#undef REFUSE
	CHECK(hammer_undo_append_point(f.u) == p);
	/* zero length: nothing */
	CHECK_RC(hammer_undo_log(f.u, free_z2(&f, 0, 0), b, 0, &e), e);
	CHECK(hammer_undo_append_point(f.u) == p);
	/* a volume header of volume 1 and its last byte are fine */
	CHECK_RC(hammer_undo_log(f.u, hammer_encode(1, 1, hs - 1), b, 1, &e), e);
	fx_close(&f);

	/* read-only volume set */
	struct img im;
	img_make(&im, 1, 7);
	struct hammer_volset *vs = img_open(&im, 1);
	struct hammer_bufcache *bc;
	assert_int_equal(hammer_bufcache_open(vs, 4 * MB, &bc), 0);
	struct hammer_undo *u = (struct hammer_undo *)1;
	memset(&e, 0, sizeof(e));
	CHECK(hammer_undo_open(vs, bc, &u, &e) == -EROFS && u == NULL);
	hammer_bufcache_close(bc);
	hammer_volset_close(vs);
	img_free(&im);
}

/* The real `hammer show-undo` prints a FIFO we wrote without one error. */
static void t_show_undo_cli(void **state)
{
	(void)state;
	const char *build = getenv("BUILD");
	char exe[512];
	snprintf(exe, sizeof(exe), "%s/cli/hammer", build ? build : "");
	if (!build || access(exe, X_OK) != 0) {
		print_message("show-undo CLI check skipped (no $BUILD/cli/hammer)\n");
		skip();
	}
	ut_rng = 99;
	CASE("show-undo cli");
	struct fx f;
	fx_open(&f, 1, 7);
	struct model m;
	model_init(&m, &f);
	for (int i = 0; i < 400; i++) {
		if (i % 3)
			do_undo(&f, &m, free_z2(&f, 0, rnd_n(BB - 2000)), 1 + rnd_n(1500));
		else
			do_redo(&f, &m, i % 2 ? HAMMER_REDO_WRITE : HAMMER_REDO_TERM_WRITE,
				1 + rnd_n(1000));
	}
	model_check(&f, &m);
	struct hammer_blockmap *z3 =
		&hammer_volset_root(f.vs)->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	z3->next_offset = hammer_undo_append_point(f.u);
	struct hammer_err e = { 0 };
	CHECK_RC(hammer_volset_write_header(f.vs, 0, &e), e);
	struct img now;
	img_capture(&now, f.vs);
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[512];
	snprintf(path, sizeof(path), "%s/undo-cli-XXXXXX", tmp);
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(write(fd, now.bytes[0], now.size[0]) == (ssize_t)now.size[0]);
	close(fd);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "'%s' -f '%s' show-undo 2>&1", exe, path);
	FILE *p = popen(cmd, "r");
	CHECK(p != NULL);
	char line[1024];
	long lines = 0, errors = 0, undos = 0, redos = 0, pads = 0;
	while (fgets(line, sizeof(line), p)) {
		lines++;
		if (strstr(line, "error") || strstr(line, "bad record"))
			errors++;
		undos += strstr(line, " UNDO(") != NULL;
		redos += strstr(line, " REDO(") != NULL;
		pads += strstr(line, " PAD(") != NULL;
	}
	int st = pclose(p);
	unlink(path);
	CHECK(st == 0);
	CHECK(errors == 0);
	struct hammer_undo_stats us;
	hammer_undo_stats(f.u, &us);
	CHECK(undos == (long)us.undo_records);
	CHECK(redos == (long)us.redo_records);
	CHECK(pads >= 1 && lines > 8 * (long)MB / 512 / 2);
	img_free(&now);
	model_free(&m);
	fx_close(&f);
}

/* Appends per second (small UNDOs, as B-tree element changes log). */
static void t_perf(void **state)
{
	(void)state;
	CASE("perf");
	struct fx f;
	fx_open(&f, 1, 7);
	struct hammer_err e = { 0 };
	uint8_t data[64] = { 3 };
	int n = ut_cases("TEST_UNDO_PERF", 200000);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	hammer_off_t a = free_z2(&f, 0, 0);
	for (int i = 0; i < n; i++) {
		if (hammer_undo_free_bytes(f.u) < 4096) {
			flush_undo(&f);
			hammer_undo_set_first(f.u, hammer_undo_append_point(f.u));
			hammer_undo_cycle_end(f.u);
		}
		CHECK_RC(hammer_undo_log(f.u, a + (uint64_t)(i % 100000) * 64, data,
					 sizeof(data), &e), e);
		if (i % 100000 == 99999)
			hammer_undo_cycle_end(f.u);
	}
	flush_undo(&f);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	struct hammer_undo_stats st;
	hammer_undo_stats(f.u, &st);
	CHECK(st.suppressed == 0 && st.wraps > 0);
	print_message("undo writer: %d UNDOs of 64 bytes (%llu records, %llu wraps) "
		      "in %.3f s: %.0f calls/s\n", n,
		      (unsigned long long)st.undo_records,
		      (unsigned long long)st.wraps, s, n / s);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_fresh),
		cmocka_unit_test(t_layout_random),
		cmocka_unit_test(t_pad_forms),
		cmocka_unit_test(t_split),
		cmocka_unit_test(t_dedupe),
		cmocka_unit_test(t_wrap),
		cmocka_unit_test(t_enospc),
		cmocka_unit_test(t_sectors_seal),
		cmocka_unit_test(t_reopen),
		cmocka_unit_test(t_refusals),
		cmocka_unit_test(t_show_undo_cli),
		cmocka_unit_test(t_perf),
	};
	if (getenv("TEST_FILTER"))	/* e.g. TEST_FILTER=t_refusals */
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	img_cache_free();
	return rc;
}
