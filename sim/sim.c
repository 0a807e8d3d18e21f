/* sim.c - the simulated device: write log, live view, epochs, faults. */
#include "sim/sim_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

static int map_grow(struct sim_map *m)
{
	uint32_t ncap = m->cap ? m->cap * 2 : 64;
	if (ncap < m->cap)
		return -ENOMEM;
	uint64_t *keys = calloc(ncap, sizeof(*keys));
	uint32_t *vals = malloc((size_t)ncap * sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	uint32_t mask = ncap - 1;
	for (uint32_t j = 0; j < m->cap; j++) {
		uint64_t key = m->keys[j];
		if (!key)
			continue;
		uint32_t i = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
		while (keys[i])
			i = (i + 1) & mask;
		keys[i] = key;
		vals[i] = m->vals[j];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = ncap;
	return 0;
}

int sim_map_reserve(struct sim_map *m, uint64_t count)
{
	while (count * 2 > m->cap) {
		if (m->cap >= (1u << 31))
			return -ENOMEM;
		int r = map_grow(m);
		if (r)
			return r;
	}
	return 0;
}

int sim_map_put(struct sim_map *m, uint64_t sector, uint32_t val)
{
	/* load factor stays under 1/2 so probes stay short */
	if ((uint64_t)(m->count + 1) * 2 > m->cap) {
		int r = map_grow(m);
		if (r)
			return r;
	}
	uint64_t key = sector + 1;
	uint32_t mask = m->cap - 1;
	uint32_t i = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
	while (m->keys[i] && m->keys[i] != key)
		i = (i + 1) & mask;
	if (!m->keys[i]) {
		m->keys[i] = key;
		m->count++;
	}
	m->vals[i] = val;
	return 0;
}

void sim_map_free(struct sim_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

int sim_pool_add(struct sim_pool *p, const void *sector, uint32_t *idx)
{
	if (p->n == p->cap) {
		uint32_t ncap = p->cap ? p->cap * 2 : 16;
		uint8_t *d = realloc(p->data, (size_t)ncap * SIM_SECTOR);
		if (!d)
			return -ENOMEM;
		p->data = d;
		p->cap = ncap;
	}
	memcpy(sim_pool_at(p, p->n), sector, SIM_SECTOR);
	*idx = p->n++;
	return 0;
}

static int grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	uint64_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	if (ncap > UINT32_MAX)
		return -ENOMEM;
	void *p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = (uint32_t)ncap;
	return 0;
}

/* ------------------------------------------------------------ knobs */

void sim_knobs_default(struct sim_knobs *k)
{
	memset(k, 0, sizeof(*k));
	k->max_subset_bits = 10;
	k->sample_count = 1024;
	k->torn = 1;
	k->garbage = 1;
	k->collateral = 0;
	k->seed = 1;
}

static int knobs_ok(const struct sim_knobs *k)
{
	return k->max_subset_bits <= 24;
}

/* ------------------------------------------------------------ reads */

int sim_read_backdrop(struct sim *s, uint64_t sector, uint32_t n, uint8_t *buf)
{
	uint32_t i = 0;
	while (i < n) {
		const uint32_t *v = sim_map_get(&s->settled, sector + i);
		if (v) {
			memcpy(buf + (size_t)i * SIM_SECTOR, sim_pool_at(&s->spool, *v), SIM_SECTOR);
			i++;
			continue;
		}
		uint32_t j = i + 1;	/* one base read per run of unsettled sectors */
		while (j < n && !sim_map_get(&s->settled, sector + j))
			j++;
		int r = s->base->ops->read(s->base, (sector + i) * SIM_SECTOR,
					   buf + (size_t)i * SIM_SECTOR,
					   (size_t)(j - i) * SIM_SECTOR);
		if (r)
			return r;
		i = j;
	}
	return 0;
}

static int fault_fires(struct sim *s, enum sim_fault kind)
{
	struct sim_fault_arm *f = &s->fault[kind];
	if (!f->armed)
		return 0;
	if (f->left) {
		f->left--;
		return 0;
	}
	if (!f->sticky)
		f->armed = 0;
	s->c.faults++;
	return 1;
}

static int live_read(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len)
{
	struct sim *s = bd->ctx;
	if (!sim_range_ok(bd->size, off, buf, len)) {
		s->c.misuse++;
		return -EINVAL;
	}
	if (fault_fires(s, SIM_FAULT_READ))
		return -EIO;
	uint8_t *p = buf;
	uint64_t sec = off / SIM_SECTOR;
	uint32_t n = (uint32_t)(len / SIM_SECTOR);
	uint32_t i = 0;
	while (i < n) {
		const uint32_t *e = sim_map_get(&s->idx, sec + i);
		if (e) {
			memcpy(p + (size_t)i * SIM_SECTOR,
			       sim_wr_sector(s, s->ent[*e].w, sec + i), SIM_SECTOR);
			i++;
			continue;
		}
		uint32_t j = i + 1;
		while (j < n && !sim_map_get(&s->idx, sec + j))
			j++;
		int r = sim_read_backdrop(s, sec + i, j - i, p + (size_t)i * SIM_SECTOR);
		if (r)
			return r;
		i = j;
	}
	s->c.reads++;
	s->c.bytes_read += len;
	return 0;
}

/* ------------------------------------------------------------ writes */

static int live_write(struct hammer_bdev *bd, uint64_t off, const void *buf, size_t len)
{
	struct sim *s = bd->ctx;
	if (!sim_range_ok(bd->size, off, buf, len) || len / SIM_SECTOR > UINT32_MAX) {
		s->c.misuse++;
		return -EINVAL;
	}
	if (!s->power_cut && s->fault[SIM_FAULT_POWER].armed &&
	    fault_fires(s, SIM_FAULT_POWER))
		s->power_cut = 1;
	if (s->power_cut) {
		s->c.writes_dropped++;
		return 0;
	}
	if (fault_fires(s, SIM_FAULT_WRITE))
		return -EIO;

	uint32_t nsec = (uint32_t)(len / SIM_SECTOR);
	if (s->nlog == SIM_NONE - 1 || (uint64_t)s->nent + nsec >= SIM_NONE)
		return -ENOSPC;
	int r = grow((void **)&s->log, &s->caplog, s->nlog + 1, sizeof(*s->log));
	if (!r)
		r = grow((void **)&s->ent, &s->capent, s->nent + nsec, sizeof(*s->ent));
	if (r)
		return r;
	r = sim_map_reserve(&s->idx, s->idx.count + nsec);
	if (r)
		return r;
	uint8_t *data = malloc(len);
	if (!data)
		return -ENOMEM;
	memcpy(data, buf, len);
	uint32_t w = s->nlog;
	struct sim_epoch *ep = &s->ep[s->nep - 1];
	uint64_t sec = off / SIM_SECTOR;
	for (uint32_t i = 0; i < nsec; i++) {
		const uint32_t *prev = sim_map_get(&s->idx, sec + i);
		uint32_t e = s->nent++;
		s->ent[e].w = w;
		s->ent[e].next = prev ? *prev : SIM_NONE;
		(void)sim_map_put(&s->idx, sec + i, e);	/* cannot fail: reserved */
	}
	s->log[w].sector = sec;
	s->log[w].nsec = nsec;
	s->log[w].epoch = s->nep - 1;
	s->log[w].data = data;
	s->nlog++;
	ep->n++;
	s->c.writes++;
	s->c.bytes_written += len;
	s->c.log_bytes += len;
	return 0;
}

static int live_flush(struct hammer_bdev *bd)
{
	struct sim *s = bd->ctx;
	if (s->power_cut)
		return 0;	/* nothing reaches the media any more */
	if (fault_fires(s, SIM_FAULT_FLUSH))
		return -EIO;
	s->c.flushes++;
	if (s->ep[s->nep - 1].n == 0)
		return 0;
	int r = grow((void **)&s->ep, &s->capep, s->nep + 1, sizeof(*s->ep));
	if (r)
		return r;
	s->ep[s->nep].first = s->nlog;
	s->ep[s->nep].n = 0;
	s->nep++;
	return 0;
}

static void live_close(struct hammer_bdev *bd)
{
	sim_close(bd->ctx);
}

static const struct hammer_bdev_ops sim_ops = {
	.version = HAMMER_BDEV_VERSION,
	.read = live_read,
	.write = live_write,
	.flush = live_flush,
	.close = live_close,
};

/* ------------------------------------------------------------ life */

int sim_open(struct hammer_bdev *base, int flags, const struct sim_knobs *knobs,
	     struct sim **out)
{
	*out = NULL;
	if (!base || base->sector_size != SIM_SECTOR || base->size < SIM_BLOCK ||
	    (flags & ~SIM_OWN_BASE))
		return -EINVAL;
	struct sim_knobs k;
	if (knobs)
		k = *knobs;
	else
		sim_knobs_default(&k);
	if (!knobs_ok(&k))
		return -EINVAL;
	struct sim *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ep = calloc(16, sizeof(*s->ep));
	if (!s->ep) {
		free(s);
		return -ENOMEM;
	}
	s->capep = 16;
	s->nep = 1;
	s->base = base;
	s->own_base = flags & SIM_OWN_BASE;
	s->refs = 1;
	s->k = k;
	s->bd.ops = &sim_ops;
	s->bd.ctx = s;
	s->bd.size = base->size - base->size % SIM_BLOCK;	/* whole 4 KB blocks: collateral always has a neighbour */
	s->bd.sector_size = SIM_SECTOR;
	snprintf(s->bd.name, sizeof(s->bd.name), "sim:%.250s", base->name);
	*out = s;
	return 0;
}

struct hammer_bdev *sim_bdev(struct sim *s)
{
	return &s->bd;
}

struct sim *sim_of(struct hammer_bdev *bd)
{
	return bd && bd->ops == &sim_ops ? bd->ctx : NULL;
}

static void drop_log(struct sim *s)
{
	for (uint32_t i = 0; i < s->nlog; i++)
		free(s->log[i].data);
	free(s->log);
	free(s->ent);
	sim_map_free(&s->idx);
	s->log = NULL;
	s->ent = NULL;
	s->nlog = s->caplog = s->nent = s->capent = 0;
	s->c.log_bytes = 0;
}

void sim_unref(struct sim *s)
{
	if (--s->refs > 0)
		return;
	drop_log(s);
	free(s->ep);
	sim_map_free(&s->settled);
	free(s->spool.data);
	if (s->own_base)
		hammer_bdev_close(s->base);
	free(s);
}

void sim_close(struct sim *s)
{
	if (s)
		sim_unref(s);
}

int sim_settle(struct sim *s)
{
	if (s->open_states)
		return -EBUSY;
	/* newest version of every logged sector joins the settled overlay */
	for (uint32_t i = 0; i < s->idx.cap; i++) {
		if (!s->idx.keys[i])
			continue;
		uint64_t sec = s->idx.keys[i] - 1;
		const uint8_t *d = sim_wr_sector(s, s->ent[s->idx.vals[i]].w, sec);
		const uint32_t *v = sim_map_get(&s->settled, sec);
		if (v) {
			memcpy(sim_pool_at(&s->spool, *v), d, SIM_SECTOR);
			continue;
		}
		uint32_t pi;
		int r = sim_pool_add(&s->spool, d, &pi);
		if (!r)
			r = sim_map_put(&s->settled, sec, pi);
		if (r)
			return r;	/* partial: settled copies equal the log, still consistent */
	}
	s->epoch_base += s->nep - (s->ep[s->nep - 1].n ? 0 : 1);
	drop_log(s);
	s->nep = 1;
	s->ep[0].first = 0;
	s->ep[0].n = 0;
	return 0;
}

/* ------------------------------------------------------------ queries */

void sim_counters(const struct sim *s, struct sim_counters *out)
{
	*out = s->c;
	out->index_bytes = sim_map_bytes(&s->idx) + sim_map_bytes(&s->settled) +
			   (uint64_t)s->capent * sizeof(struct sim_ent) +
			   (uint64_t)s->caplog * sizeof(struct sim_wr) +
			   (uint64_t)s->capep * sizeof(struct sim_epoch) +
			   (uint64_t)s->spool.cap * SIM_SECTOR + sizeof(*s);
}

void sim_knobs_get(const struct sim *s, struct sim_knobs *out)
{
	*out = s->k;
}

int sim_knobs_set(struct sim *s, const struct sim_knobs *k)
{
	if (!knobs_ok(k))
		return -EINVAL;
	s->k = *k;
	return 0;
}

uint32_t sim_epochs(const struct sim *s)
{
	return s->epoch_base + s->nep;
}

uint32_t sim_epoch_writes(const struct sim *s, uint32_t epoch)
{
	if (epoch < s->epoch_base || epoch - s->epoch_base >= s->nep)
		return 0;
	return s->ep[epoch - s->epoch_base].n;
}

uint64_t sim_log_writes(const struct sim *s)
{
	return s->nlog;
}

/* ------------------------------------------------------------ faults */

int sim_fault_set(struct sim *s, enum sim_fault kind, uint64_t after, int sticky)
{
	if ((unsigned)kind >= SIM_FAULT_KINDS)
		return -EINVAL;
	s->fault[kind].armed = 1;
	s->fault[kind].left = after;
	s->fault[kind].sticky = kind == SIM_FAULT_POWER ? 1 : !!sticky;
	if (kind == SIM_FAULT_POWER)
		s->power_cut = 0;
	return 0;
}

void sim_fault_clear(struct sim *s, enum sim_fault kind)
{
	if ((unsigned)kind >= SIM_FAULT_KINDS)
		return;
	s->fault[kind].armed = 0;
	if (kind == SIM_FAULT_POWER)
		s->power_cut = 0;
}

int sim_power_is_cut(const struct sim *s)
{
	return s->power_cut;
}
