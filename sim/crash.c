/* crash.c - crash states: ids, materialized views, enumeration. */
#include "sim/sim_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Domain tags keep the seeded streams of different choices apart. */
#define TAG_SAMPLE 0x73616d70ull
#define TAG_GARB 0x67617262ull
#define TAG_GSEC 0x67736563ull
#define TAG_COLL 0x636f6c6cull

/* ------------------------------------------------------------ subsets */

/* Sample j of epoch number E: n bits, one seeded stream per (E, j). */
static void sample_bits(uint64_t seed, uint32_t epoch, uint32_t j, uint32_t n, uint64_t *words)
{
	uint64_t x = sim_hash4(seed, TAG_SAMPLE, epoch, j);
	for (uint32_t i = 0; i < (n + 63) / 64; i++) {
		x = sim_mix(x);
		words[i] = x;
	}
	if (n % 64)
		words[(n - 1) / 64] &= (1ull << (n % 64)) - 1;
}

static inline int bit_get(const uint64_t *w, uint32_t i)
{
	return (int)((w[i / 64] >> (i % 64)) & 1);
}

static uint32_t popcount_words(const uint64_t *w, uint32_t n)
{
	uint32_t c = 0;
	for (uint32_t i = 0; i < (n + 63) / 64; i++)
		c += (uint32_t)__builtin_popcountll(w[i]);
	return c;
}

/* 1^k 0^(n-k) */
static int is_prefix(const uint64_t *w, uint32_t n)
{
	uint32_t i = 0;
	while (i < n && bit_get(w, i))
		i++;
	while (i < n && !bit_get(w, i))
		i++;
	return i == n;
}

/* Fills the keep bitmap of a state's subset (torn/garbage rules come later). */
static void subset_bits(const struct sim *s, const struct sim_state *st, uint32_t n, uint64_t *w)
{
	size_t words = (n + 63) / 64;
	memset(w, 0, words * sizeof(*w));
	switch (st->subset) {
	case SIM_SUB_ALL:
		for (uint32_t i = 0; i < n; i++)
			w[i / 64] |= 1ull << (i % 64);
		break;
	case SIM_SUB_PREFIX:
		for (uint32_t i = 0; i < st->arg && i < n; i++)
			w[i / 64] |= 1ull << (i % 64);
		break;
	case SIM_SUB_DROP:
		for (uint32_t i = 0; i < n; i++)
			if (i != st->arg)
				w[i / 64] |= 1ull << (i % 64);
		break;
	case SIM_SUB_BITS:
		if (n)
			w[0] = st->bits;
		break;
	case SIM_SUB_SAMPLE:
		if (n)
			sample_bits(s->k.seed, st->epoch, st->arg, n, w);
		break;
	}
}

int sim_state_kept(const struct sim *s, const struct sim_state *st, uint32_t i)
{
	if (sim_state_check(s, st))
		return -EINVAL;
	uint32_t n = s->ep[st->epoch - s->epoch_base].n;
	if (i >= n)
		return -EINVAL;
	uint64_t *w = malloc(((size_t)n + 63) / 64 * sizeof(uint64_t));
	if (!w)
		return -ENOMEM;
	subset_bits(s, st, n, w);
	int k = bit_get(w, i);
	free(w);
	return k;
}

/* ------------------------------------------------------------ ids */

int sim_state_id(const struct sim_state *st, char *buf, size_t len)
{
	char tmp[SIM_ID_MAX];
	int n = snprintf(tmp, sizeof(tmp), "e%" PRIu32 ":s", st->epoch);
	switch (st->subset) {
	case SIM_SUB_ALL:
		n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "a");
		break;
	case SIM_SUB_PREFIX:
		n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "p%" PRIu32, st->arg);
		break;
	case SIM_SUB_DROP:
		n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "d%" PRIu32, st->arg);
		break;
	case SIM_SUB_SAMPLE:
		n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "r%" PRIu32, st->arg);
		break;
	case SIM_SUB_BITS:
		if (st->nbits > 64)
			return -EINVAL;
		tmp[n++] = 'b';
		for (uint32_t i = 0; i < st->nbits; i++)
			tmp[n++] = (st->bits >> i) & 1 ? '1' : '0';
		tmp[n] = 0;
		break;
	default:
		return -EINVAL;
	}
	if (st->torn_write >= 0)
		n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, ":t%" PRId32 "%c%" PRIu32,
			      st->torn_write, st->torn_mode, st->torn_sector);
	if (st->garbage_write >= 0) {
		n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, ":g%" PRId32 ".%" PRIu32,
			      st->garbage_write, st->garbage_sector);
		if (st->collateral >= 0)
			n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, ".%" PRId32,
				      st->collateral);
	}
	if ((size_t)n >= len)
		return -ENOSPC;
	memcpy(buf, tmp, (size_t)n + 1);
	return n;
}

/* Decimal u32 without sign, spaces or overflow. */
static int parse_u32(const char **pp, uint32_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return -EINVAL;	/* one spelling per state */
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > INT32_MAX)
			return -EINVAL;
		p++;
	}
	*out = (uint32_t)v;
	*pp = p;
	return 0;
}

static int write_sectors(const struct sim *s, uint32_t epoch, uint32_t i, uint32_t *nsec)
{
	uint32_t e = epoch - s->epoch_base;
	if (i >= s->ep[e].n)
		return -EINVAL;
	*nsec = s->log[s->ep[e].first + i].nsec;
	return 0;
}

int sim_state_check(const struct sim *s, const struct sim_state *st)
{
	if (st->epoch < s->epoch_base || st->epoch - s->epoch_base >= s->nep)
		return -EINVAL;
	uint32_t n = s->ep[st->epoch - s->epoch_base].n;
	switch (st->subset) {
	case SIM_SUB_ALL:
		break;
	case SIM_SUB_PREFIX:
		if (st->arg > n)
			return -EINVAL;
		break;
	case SIM_SUB_DROP:
		if (st->arg >= n)
			return -EINVAL;
		break;
	case SIM_SUB_BITS:
		if (st->nbits != n || n > 64 || (n < 64 && st->bits >> n))
			return -EINVAL;
		break;
	case SIM_SUB_SAMPLE:
		if (st->arg > INT32_MAX)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	uint32_t nsec;
	if (st->torn_write >= 0) {
		if (write_sectors(s, st->epoch, (uint32_t)st->torn_write, &nsec) ||
		    (st->torn_mode != 'p' && st->torn_mode != 's') ||
		    st->torn_sector == 0 || st->torn_sector >= nsec)
			return -EINVAL;
	} else if (st->torn_write != -1) {
		return -EINVAL;
	}
	if (st->garbage_write >= 0) {
		if (write_sectors(s, st->epoch, (uint32_t)st->garbage_write, &nsec) ||
		    st->garbage_sector >= nsec)
			return -EINVAL;
		if (st->collateral >= 0) {
			uint32_t w = s->ep[st->epoch - s->epoch_base].first + (uint32_t)st->garbage_write;
			uint64_t gs = s->log[w].sector + st->garbage_sector;
			uint32_t per = SIM_BLOCK / SIM_SECTOR;
			uint64_t cs = gs - gs % per + (uint32_t)st->collateral;
			if ((uint32_t)st->collateral >= per || cs == gs ||
			    cs >= s->bd.size / SIM_SECTOR)
				return -EINVAL;
		} else if (st->collateral != -1) {
			return -EINVAL;
		}
	} else if (st->garbage_write != -1 || st->collateral != -1) {
		return -EINVAL;
	}
	return 0;
}

static void state_init(struct sim_state *st, uint32_t epoch)
{
	memset(st, 0, sizeof(*st));
	st->epoch = epoch;
	st->torn_write = -1;
	st->torn_mode = 'p';
	st->garbage_write = -1;
	st->collateral = -1;
}

int sim_state_from_id(const struct sim *s, const char *id, struct sim_state *out)
{
	struct sim_state st;
	const char *p = id;
	uint32_t v;
	if (!id || *p++ != 'e' || parse_u32(&p, &v))
		return -EINVAL;
	state_init(&st, v);
	if (*p++ != ':' || *p++ != 's')
		return -EINVAL;
	char kind = *p++;
	switch (kind) {
	case 'a':
		st.subset = SIM_SUB_ALL;
		break;
	case 'p':
	case 'd':
	case 'r':
		if (parse_u32(&p, &st.arg))
			return -EINVAL;
		st.subset = kind == 'p' ? SIM_SUB_PREFIX : kind == 'd' ? SIM_SUB_DROP : SIM_SUB_SAMPLE;
		break;
	case 'b':
		st.subset = SIM_SUB_BITS;
		while (*p == '0' || *p == '1') {
			if (st.nbits == 64)
				return -EINVAL;
			if (*p == '1')
				st.bits |= 1ull << st.nbits;
			st.nbits++;
			p++;
		}
		break;
	default:
		return -EINVAL;
	}
	if (p[0] == ':' && p[1] == 't') {
		p += 2;
		if (parse_u32(&p, &v) || (*p != 'p' && *p != 's'))
			return -EINVAL;
		st.torn_write = (int32_t)v;
		st.torn_mode = *p++;
		if (parse_u32(&p, &st.torn_sector))
			return -EINVAL;
	}
	if (p[0] == ':' && p[1] == 'g') {
		p += 2;
		if (parse_u32(&p, &v) || *p++ != '.' || parse_u32(&p, &st.garbage_sector))
			return -EINVAL;
		st.garbage_write = (int32_t)v;
		if (*p == '.') {
			p++;
			if (parse_u32(&p, &v))
				return -EINVAL;
			st.collateral = (int32_t)v;
		}
	}
	if (*p)
		return -EINVAL;
	int r = sim_state_check(s, &st);
	if (r)
		return r;
	*out = st;
	return 0;
}

/* ------------------------------------------------------------ views */

struct sview {
	struct hammer_bdev bd;
	struct sim *sim;
	struct sim_state st;
	uint32_t first, n;	/* crash epoch: log indexes [first, first+n) */
	uint64_t *keep;		/* bit i: write first+i kept */
	uint32_t torn_w;	/* log index or SIM_NONE */
	uint32_t torn_lo, torn_hi;	/* relative sectors holding new data */
	uint32_t garb_w;
	uint64_t garb_sec, coll_sec;	/* absolute, UINT64_MAX if none */
	uint8_t garb[SIM_SECTOR], coll[SIM_SECTOR];
	struct sim_map priv;	/* sector -> pool index: writes made to the state */
	struct sim_pool pool;
};

static const struct hammer_bdev_ops sview_ops;

/* The logged version of sector seen by the state, or NULL for the backdrop. */
static const uint8_t *sview_logged(const struct sview *v, uint64_t sec)
{
	const struct sim *s = v->sim;
	const uint32_t *h = sim_map_get(&s->idx, sec);
	if (!h)
		return NULL;
	uint32_t end = v->first + v->n;
	for (uint32_t e = *h; e != SIM_NONE; e = s->ent[e].next) {
		uint32_t w = s->ent[e].w;
		if (w >= end)
			continue;
		if (w < v->first)
			return sim_wr_sector(s, w, sec);
		if (w == v->torn_w) {
			uint64_t rel = sec - s->log[w].sector;
			if (rel >= v->torn_lo && rel < v->torn_hi)
				return sim_wr_sector(s, w, sec);
			continue;
		}
		if (w == v->garb_w || bit_get(v->keep, w - v->first))
			return sim_wr_sector(s, w, sec);
	}
	return NULL;
}

static int sview_read_sectors(struct sview *v, uint64_t sec, uint32_t n, uint8_t *p,
			      int with_garbage)
{
	uint32_t i = 0;
	while (i < n) {
		const uint8_t *d = NULL;
		const uint32_t *pi = sim_map_get(&v->priv, sec + i);
		if (pi)
			d = sim_pool_at(&v->pool, *pi);
		else if (with_garbage && sec + i == v->garb_sec)
			d = v->garb;
		else if (with_garbage && sec + i == v->coll_sec)
			d = v->coll;
		else
			d = sview_logged(v, sec + i);
		if (d) {
			memcpy(p + (size_t)i * SIM_SECTOR, d, SIM_SECTOR);
			i++;
			continue;
		}
		/* a run of sectors nobody in the log touched comes from one backdrop read */
		uint32_t j = i;
		while (j < n && !sim_map_get(&v->sim->idx, sec + j) &&
		       !sim_map_get(&v->priv, sec + j) &&
		       !(with_garbage && (sec + j == v->garb_sec || sec + j == v->coll_sec)))
			j++;
		if (j == i)
			j = i + 1;	/* logged sector with no kept version */
		int r = sim_read_backdrop(v->sim, sec + i, j - i, p + (size_t)i * SIM_SECTOR);
		if (r)
			return r;
		i = j;
	}
	return 0;
}

static int sview_read(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len)
{
	struct sview *v = bd->ctx;
	if (!sim_range_ok(bd->size, off, buf, len)) {
		v->sim->c.misuse++;
		return -EINVAL;
	}
	return sview_read_sectors(v, off / SIM_SECTOR, (uint32_t)(len / SIM_SECTOR), buf, 1);
}

static int sview_write(struct hammer_bdev *bd, uint64_t off, const void *buf, size_t len)
{
	struct sview *v = bd->ctx;
	if (!sim_range_ok(bd->size, off, buf, len)) {
		v->sim->c.misuse++;
		return -EINVAL;
	}
	uint64_t sec = off / SIM_SECTOR;
	uint32_t n = (uint32_t)(len / SIM_SECTOR);
	int r = sim_map_reserve(&v->priv, (uint64_t)v->priv.count + n);
	if (r)
		return r;
	const uint8_t *p = buf;
	for (uint32_t i = 0; i < n; i++) {
		const uint32_t *pi = sim_map_get(&v->priv, sec + i);
		if (pi) {
			memcpy(sim_pool_at(&v->pool, *pi), p + (size_t)i * SIM_SECTOR, SIM_SECTOR);
			continue;
		}
		uint32_t idx;
		r = sim_pool_add(&v->pool, p + (size_t)i * SIM_SECTOR, &idx);
		if (r)
			return r;	/* earlier sectors landed: a short write, as a device may do */
		(void)sim_map_put(&v->priv, sec + i, idx);
	}
	return 0;
}

static int sview_flush(struct hammer_bdev *bd)
{
	(void)bd;
	return 0;
}

static void sview_close(struct hammer_bdev *bd)
{
	struct sview *v = bd->ctx;
	v->sim->open_states--;
	sim_unref(v->sim);
	free(v->keep);
	sim_map_free(&v->priv);
	free(v->pool.data);
	free(v);
}

static const struct hammer_bdev_ops sview_ops = {
	.version = HAMMER_BDEV_VERSION,
	.read = sview_read,
	.write = sview_write,
	.flush = sview_flush,
	.close = sview_close,
};

/* Seeded bytes that differ from both a and b (either may be NULL). */
static void make_garbage(uint64_t seed, uint64_t a, uint64_t b, uint8_t *out,
			 const uint8_t *x, const uint8_t *y)
{
	uint64_t r = sim_hash4(seed, TAG_GARB, a, b);
	for (uint32_t i = 0; i < SIM_SECTOR; i += 8) {
		r = sim_mix(r);
		memcpy(out + i, &r, 8);
	}
	while ((x && out[0] == x[0]) || (y && out[0] == y[0]))
		out[0]++;
}

int sim_state_open(struct sim *s, const struct sim_state *st, struct hammer_bdev **out)
{
	*out = NULL;
	int r = sim_state_check(s, st);
	if (r)
		return r;
	struct sview *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	const struct sim_epoch *ep = &s->ep[st->epoch - s->epoch_base];
	v->sim = s;
	v->st = *st;
	v->first = ep->first;
	v->n = ep->n;
	v->keep = malloc(((size_t)v->n + 63) / 64 * sizeof(uint64_t) + sizeof(uint64_t));
	if (!v->keep) {
		free(v);
		return -ENOMEM;
	}
	subset_bits(s, st, v->n, v->keep);
	v->torn_w = SIM_NONE;
	v->garb_w = SIM_NONE;
	v->garb_sec = v->coll_sec = UINT64_MAX;
	if (st->torn_write >= 0) {
		v->torn_w = v->first + (uint32_t)st->torn_write;
		uint32_t nsec = s->log[v->torn_w].nsec;
		v->torn_lo = st->torn_mode == 'p' ? 0 : st->torn_sector;
		v->torn_hi = st->torn_mode == 'p' ? st->torn_sector : nsec;
	}
	v->bd.ops = &sview_ops;
	v->bd.ctx = v;
	v->bd.size = s->bd.size;
	v->bd.sector_size = SIM_SECTOR;
	char id[SIM_ID_MAX];
	if (sim_state_id(st, id, sizeof(id)) < 0)
		snprintf(id, sizeof(id), "e%" PRIu32 ":s(long)", st->epoch);
	snprintf(v->bd.name, sizeof(v->bd.name), "%.120s@%s", s->bd.name, id);
	s->refs++;
	s->open_states++;
	s->c.states_opened++;
	if (st->garbage_write >= 0) {
		uint32_t w = v->first + (uint32_t)st->garbage_write;
		uint64_t gs = s->log[w].sector + st->garbage_sector;
		/* old content: what the state shows with w out of the picture */
		uint8_t old[SIM_SECTOR];
		uint32_t bit = (uint32_t)st->garbage_write;
		uint64_t saved = v->keep[bit / 64];
		uint32_t saved_torn = v->torn_w;
		v->keep[bit / 64] &= ~(1ull << (bit % 64));
		if (v->torn_w == w)
			v->torn_w = SIM_NONE;
		r = sview_read_sectors(v, gs, 1, old, 0);
		v->keep[bit / 64] = saved;
		v->torn_w = saved_torn;
		if (r) {
			sview_close(&v->bd);
			return r;
		}
		make_garbage(s->k.seed, st->epoch, gs, v->garb, sim_wr_sector(s, w, gs), old);
		v->garb_w = w;
		v->garb_sec = gs;
		if (st->collateral >= 0) {
			uint64_t cs = gs - gs % (SIM_BLOCK / SIM_SECTOR) + (uint32_t)st->collateral;
			r = sview_read_sectors(v, cs, 1, old, 0);
			if (r) {
				sview_close(&v->bd);
				return r;
			}
			make_garbage(s->k.seed, (uint64_t)st->epoch | TAG_COLL << 32, cs, v->coll,
				     old, NULL);
			v->coll_sec = cs;
		}
	}
	*out = &v->bd;
	return 0;
}

void sim_state_latest(const struct sim *s, struct sim_state *out)
{
	state_init(out, s->epoch_base + s->nep - 1);
	out->subset = SIM_SUB_ALL;
}

int sim_log_touches(const struct sim *s, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	uint64_t lo = off / SIM_SECTOR, hi = (off + len - 1) / SIM_SECTOR + 1;
	for (uint32_t w = 0; w < s->nlog; w++)
		if (s->log[w].sector < hi && s->log[w].sector + s->log[w].nsec > lo)
			return 1;
	return 0;
}

int sim_state_touches(struct hammer_bdev *bd, uint64_t off, uint64_t len)
{
	if (!bd || bd->ops != &sview_ops)
		return -EINVAL;
	if (!len)
		return 0;
	const struct sview *v = bd->ctx;
	uint64_t lo = off / SIM_SECTOR, hi = (off + len - 1) / SIM_SECTOR + 1;
	if ((v->garb_sec >= lo && v->garb_sec < hi) || (v->coll_sec >= lo && v->coll_sec < hi))
		return 1;
	for (uint32_t i = 0; i < v->priv.cap; i++) {
		uint64_t key = v->priv.keys[i];
		if (key && key - 1 >= lo && key - 1 < hi)
			return 1;
	}
	return 0;
}

uint64_t sim_state_mem(struct hammer_bdev *bd)
{
	if (!bd || bd->ops != &sview_ops)
		return 0;
	struct sview *v = bd->ctx;
	return sizeof(*v) + ((uint64_t)v->n + 63) / 64 * 8 + 8 + sim_map_bytes(&v->priv) +
	       (uint64_t)v->pool.cap * SIM_SECTOR;
}

/* ------------------------------------------------------------ enumeration */

enum phase { PH_START, PH_SMALL, PH_PREFIX, PH_DROP, PH_SAMPLE, PH_TORN, PH_GARB, PH_COLL, PH_NEXT };

struct sim_enum {
	struct sim *s;
	uint32_t ei;		/* index into s->ep */
	enum phase ph;
	uint64_t a, b;		/* phase cursors */
	uint64_t drawn;		/* samples produced in this epoch */
	uint64_t want;		/* samples wanted in this epoch */
	uint64_t *words;	/* scratch bitmap */
	uint32_t nwords;
	/* samples already drawn: a set of 64-bit digests */
	uint64_t *seen;
	uint8_t *used;
	uint32_t seen_cap;
};

static uint64_t samples_wanted(const struct sim *s, uint32_t n)
{
	if (n < 63) {
		uint64_t avail = (1ull << n) - 2ull * n;
		return avail < s->k.sample_count ? avail : s->k.sample_count;
	}
	return s->k.sample_count;
}

static uint64_t epoch_count(const struct sim *s, uint32_t ei)
{
	uint32_t n = s->ep[ei].n;
	int last = ei == s->nep - 1;
	uint64_t c;
	if (n <= s->k.max_subset_bits)
		c = (1ull << n) - (last ? 0 : 1);
	else
		c = (uint64_t)n + (last ? 1 : 0) + (n - 1) + samples_wanted(s, n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t nsec = s->log[s->ep[ei].first + i].nsec;
		if (s->k.torn)
			c += 2ull * (nsec - 1);
		if (s->k.garbage)
			c++;
		if (s->k.collateral)
			c++;
	}
	return c;
}

uint64_t sim_enum_count(const struct sim *s)
{
	uint64_t c = 0;
	for (uint32_t ei = 0; ei < s->nep; ei++)
		c += epoch_count(s, ei);
	return c;
}

int sim_enum_begin(struct sim *s, struct sim_enum **out)
{
	*out = NULL;
	struct sim_enum *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->s = s;
	e->ph = PH_START;
	*out = e;
	return 0;
}

void sim_enum_end(struct sim_enum *e)
{
	if (!e)
		return;
	free(e->words);
	free(e->seen);
	free(e->used);
	free(e);
}

static uint64_t digest_words(const uint64_t *w, uint32_t n)
{
	if (n <= 64)
		return n ? w[0] : 0;	/* exact: no false duplicates below 65 writes */
	uint64_t h = 0;
	for (uint32_t i = 0; i < (n + 63) / 64; i++)
		h = sim_mix(h ^ w[i]);
	return h;
}

/* Inserts d into the seen set; 0 if it was already there. */
static int seen_add(struct sim_enum *e, uint64_t d)
{
	uint32_t mask = e->seen_cap - 1;
	uint32_t i = (uint32_t)(sim_mix(d) & mask);
	while (e->used[i]) {
		if (e->seen[i] == d)
			return 0;
		i = (i + 1) & mask;
	}
	e->used[i] = 1;
	e->seen[i] = d;
	return 1;
}

static int epoch_setup(struct sim_enum *e)
{
	const struct sim *s = e->s;
	uint32_t n = s->ep[e->ei].n;
	e->a = e->b = 0;
	e->drawn = 0;
	if (n <= s->k.max_subset_bits) {
		e->ph = PH_SMALL;
		return 0;
	}
	e->ph = PH_PREFIX;
	e->want = samples_wanted(s, n);
	uint32_t nw = (n + 63) / 64;
	if (nw > e->nwords) {
		free(e->words);
		e->words = malloc((size_t)nw * sizeof(uint64_t));
		if (!e->words) {
			e->nwords = 0;
			return -ENOMEM;
		}
		e->nwords = nw;
	}
	uint64_t cap = 16;
	while (cap < e->want * 2)
		cap *= 2;
	if (cap > e->seen_cap) {
		free(e->seen);
		free(e->used);
		e->seen = malloc((size_t)cap * sizeof(uint64_t));
		e->used = malloc((size_t)cap);
		if (!e->seen || !e->used) {
			e->seen_cap = 0;
			return -ENOMEM;
		}
		e->seen_cap = (uint32_t)cap;
	}
	memset(e->used, 0, e->seen_cap);
	return 0;
}

int sim_enum_next(struct sim_enum *e, struct sim_state *st)
{
	struct sim *s = e->s;
	for (;;) {
		if (e->ph == PH_START) {
			if (e->ei >= s->nep)
				return 0;
			int r = epoch_setup(e);
			if (r)
				return r;
		}
		const struct sim_epoch *ep = &s->ep[e->ei];
		uint32_t n = ep->n;
		int last = e->ei == s->nep - 1;
		uint32_t epno = s->epoch_base + e->ei;
		state_init(st, epno);
		switch (e->ph) {
		case PH_START:
		case PH_NEXT:
			e->ei++;
			e->ph = PH_START;
			continue;
		case PH_SMALL:
			if (e->a < (1ull << n) - (last ? 0 : 1)) {
				st->subset = SIM_SUB_BITS;
				st->nbits = n;
				st->bits = e->a++;
				goto found;
			}
			e->ph = PH_TORN;
			e->a = e->b = 0;
			continue;
		case PH_PREFIX:
			if (e->a < (uint64_t)n + (last ? 1 : 0)) {
				st->subset = SIM_SUB_PREFIX;
				st->arg = (uint32_t)e->a++;
				goto found;
			}
			e->ph = PH_DROP;
			e->a = 0;
			continue;
		case PH_DROP:
			if (e->a + 1 < n) {
				st->subset = SIM_SUB_DROP;
				st->arg = (uint32_t)e->a++;
				goto found;
			}
			e->ph = PH_SAMPLE;
			e->a = 0;
			continue;
		case PH_SAMPLE:
			while (e->drawn < e->want) {
				if (e->a > INT32_MAX)
					return -EOVERFLOW;
				uint32_t j = (uint32_t)e->a++;
				sample_bits(s->k.seed, epno, j, n, e->words);
				if (is_prefix(e->words, n) || popcount_words(e->words, n) + 1 == n)
					continue;
				if (!seen_add(e, digest_words(e->words, n)))
					continue;
				e->drawn++;
				st->subset = SIM_SUB_SAMPLE;
				st->arg = j;
				goto found;
			}
			e->ph = PH_TORN;
			e->a = e->b = 0;
			continue;
		case PH_TORN:
			/* a: write, b: 2*(K-1) + mode */
			while (s->k.torn && e->a < n) {
				uint32_t nsec = s->log[ep->first + e->a].nsec;
				if (e->b >= 2ull * (nsec - 1)) {
					e->a++;
					e->b = 0;
					continue;
				}
				st->subset = SIM_SUB_PREFIX;
				st->arg = (uint32_t)e->a;
				st->torn_write = (int32_t)e->a;
				st->torn_mode = e->b % 2 ? 's' : 'p';
				st->torn_sector = (uint32_t)(e->b / 2 + 1);
				e->b++;
				goto found;
			}
			e->ph = PH_GARB;
			e->a = 0;
			continue;
		case PH_GARB:
		case PH_COLL: {
			int on = e->ph == PH_GARB ? s->k.garbage : s->k.collateral;
			if (on && e->a < n) {
				uint32_t i = (uint32_t)e->a++;
				uint32_t w = ep->first + i;
				uint32_t nsec = s->log[w].nsec;
				/* sectors below garbage_safe_below are out of the model */
				uint64_t safe = s->k.garbage_safe_below / SIM_SECTOR;
				uint32_t skip = 0;
				if (s->log[w].sector < safe)
					skip = safe - s->log[w].sector >= nsec ? nsec
						: (uint32_t)(safe - s->log[w].sector);
				if (skip == nsec)
					continue;
				st->subset = SIM_SUB_PREFIX;
				st->arg = i;
				st->garbage_write = (int32_t)i;
				st->garbage_sector = skip +
					(uint32_t)(sim_hash4(s->k.seed, TAG_GSEC, epno, i) %
						   (nsec - skip));
				if (e->ph == PH_COLL) {
					uint32_t per = SIM_BLOCK / SIM_SECTOR;
					uint64_t gs = s->log[w].sector + st->garbage_sector;
					if ((gs / per) * per < safe)
						continue;	/* the 4 KB block reaches the header */
					uint32_t gi = (uint32_t)(gs % per);
					uint32_t c = (uint32_t)(sim_hash4(s->k.seed, TAG_COLL, epno, i) %
								(per - 1));
					if (c >= gi)
						c++;
					st->collateral = (int32_t)c;
				}
				goto found;
			}
			e->ph = e->ph == PH_GARB ? PH_COLL : PH_NEXT;
			e->a = 0;
			continue;
		}
		}
	}
found:
	s->c.states_generated++;
	return 1;
}
