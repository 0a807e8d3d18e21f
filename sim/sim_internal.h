/* sim_internal.h - structures shared by sim.c (device, log) and crash.c (states). */
#ifndef HAMMER_SIM_INTERNAL_H
#define HAMMER_SIM_INTERNAL_H

#include "sim/sim.h"

#define SIM_NONE UINT32_MAX

/* Open-addressing map sector -> uint32; key 0 marks an empty slot. */
struct sim_map {
	uint64_t *keys;		/* sector + 1 */
	uint32_t *vals;
	uint32_t cap;		/* power of two, or 0 */
	uint32_t count;
};

int sim_map_put(struct sim_map *m, uint64_t sector, uint32_t val);
/* Makes room for count keys so that later puts cannot fail. */
int sim_map_reserve(struct sim_map *m, uint64_t count);
static inline const uint32_t *sim_map_get(const struct sim_map *m, uint64_t sector)
{
	if (!m->cap)
		return NULL;
	uint64_t key = sector + 1;
	uint32_t mask = m->cap - 1;
	uint32_t i = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
	for (;;) {
		if (m->keys[i] == key)
			return &m->vals[i];
		if (m->keys[i] == 0)
			return NULL;
		i = (i + 1) & mask;
	}
}
void sim_map_free(struct sim_map *m);
static inline uint64_t sim_map_bytes(const struct sim_map *m)
{
	return (uint64_t)m->cap * (sizeof(uint64_t) + sizeof(uint32_t));
}

/* Growable pool of 512-byte sectors addressed by index. */
struct sim_pool {
	uint8_t *data;
	uint32_t n, cap;
};
int sim_pool_add(struct sim_pool *p, const void *sector, uint32_t *idx);
static inline uint8_t *sim_pool_at(const struct sim_pool *p, uint32_t idx)
{
	return p->data + (size_t)idx * SIM_SECTOR;
}

struct sim_wr {
	uint64_t sector;	/* first sector */
	uint32_t nsec;
	uint32_t epoch;		/* index into sim.ep */
	uint8_t *data;
};

struct sim_ent {		/* one logged version of one sector */
	uint32_t w;		/* log index */
	uint32_t next;		/* older version, or SIM_NONE */
};

struct sim_epoch {
	uint32_t first;		/* log index of its first write */
	uint32_t n;
};

struct sim_fault_arm {
	int armed, sticky;
	uint64_t left;
};

struct sim {
	struct hammer_bdev bd;	/* bd.ctx == this */
	struct hammer_bdev *base;
	int own_base;
	int refs;
	int open_states;
	struct sim_knobs k;

	struct sim_wr *log;
	uint32_t nlog, caplog;
	struct sim_ent *ent;
	uint32_t nent, capent;
	struct sim_map idx;	/* sector -> newest entry */
	struct sim_epoch *ep;
	uint32_t nep, capep;
	uint32_t epoch_base;	/* number of ep[0] (epochs folded by sim_settle) */

	struct sim_map settled;	/* sector -> pool index */
	struct sim_pool spool;

	struct sim_fault_arm fault[SIM_FAULT_KINDS];
	int power_cut;
	struct sim_counters c;
};

static inline const uint8_t *sim_wr_sector(const struct sim *s, uint32_t w, uint64_t sector)
{
	return s->log[w].data + (size_t)(sector - s->log[w].sector) * SIM_SECTOR;
}

/* Range and alignment check shared by the live device and states. */
static inline int sim_range_ok(uint64_t size, uint64_t off, const void *buf, size_t len)
{
	if (!buf || len == 0 || off % SIM_SECTOR || len % SIM_SECTOR)
		return 0;
	return off <= size && len <= size - off;
}

/*
 * Reads sectors [sector, sector+n) of the durable backdrop (settled overlay
 * over the base) into buf.
 */
int sim_read_backdrop(struct sim *s, uint64_t sector, uint32_t n, uint8_t *buf);

/* Seeded mixing: the only source of randomness in sim. */
static inline uint64_t sim_mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}
static inline uint64_t sim_hash4(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
	return sim_mix(sim_mix(sim_mix(sim_mix(seed) ^ a) ^ b) ^ c);
}

void sim_unref(struct sim *s);

#endif
