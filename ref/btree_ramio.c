/*
 * btree_ramio.c - a node I/O that keeps B-tree nodes in memory, for tests
 * and benchmarks.  Each node has a decoded host copy (what get returns) and,
 * once synced, its encoded disk bytes; dropping the host copies makes the
 * next get decode and verify the bytes, as a real buffer read would.
 */
#include "btree.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum { SLOT_LIVE = 1, SLOT_FREED = 2 };

struct ramslot {
	struct hammer_node h;
	uint8_t *disk;		/* encoded bytes, NULL until synced */
	uint32_t refs;
	uint8_t state;
	uint8_t cached;		/* host copy valid */
	uint8_t dirty;		/* host copy newer than disk */
	uint8_t on_free_list;
	uint32_t next_free;	/* index + 1, 0 = end */
	struct hammer_node_ondisk host __attribute__((aligned(64)));
};

struct hammer_ramio {
	unsigned version;
	struct ramslot **slots;
	size_t n, cap;
	uint32_t free_head;	/* index + 1 */
	uint64_t pinned;
	uint64_t fail_modify, fail_alloc;
	struct hammer_ramio_stats st;
};

static hammer_off_t slot_off(size_t i)
{
	return hammer_encode(HAMMER_ZONE_BTREE_INDEX, 0,
			     HAMMER_RAMIO_BASE + (uint64_t)i * HAMMER_BTREE_NODE_SIZE);
}

static struct ramslot *slot_of(struct hammer_node *n)
{
	return (struct ramslot *)((char *)n - offsetof(struct ramslot, h));
}

static void free_push(struct hammer_ramio *r, struct ramslot *s, size_t i)
{
	if (s->on_free_list)
		return;
	s->on_free_list = 1;
	s->next_free = r->free_head;
	r->free_head = (uint32_t)(i + 1);
}

static size_t slot_index(const struct ramslot *s)
{
	return (size_t)((hammer_short_of(s->h.offset) - HAMMER_RAMIO_BASE) /
			HAMMER_BTREE_NODE_SIZE);
}

static int ram_get(void *ctx, hammer_off_t off, struct hammer_node **np, int *why,
		   struct hammer_err *err)
{
	struct hammer_ramio *r = ctx;
	uint64_t s = hammer_short_of(off);
	size_t i;
	int dummy;

	if (!why)
		why = &dummy;
	r->st.gets++;
	if (!hammer_btree_off_ok(off) || hammer_vol_of(off) != 0 ||
	    s < HAMMER_RAMIO_BASE ||
	    (i = (size_t)((s - HAMMER_RAMIO_BASE) / HAMMER_BTREE_NODE_SIZE)) >= r->n) {
		*why = HAMMER_CHK_BTREE_SUBTREE_ADDR;
		return HAMMER_CORRUPT(err, off,
			"B-tree node %016llx: no such node", (unsigned long long)off);
	}
	struct ramslot *sl = r->slots[i];
	if (!sl->cached) {
		if (!sl->disk) {
			*why = HAMMER_CHK_BTREE_NODE_READ;
			return HAMMER_CORRUPT(err, off,
				"B-tree node %016llx: never written", (unsigned long long)off);
		}
		int rc = hammer_btree_node_decode(r->version, off, sl->disk, &sl->host,
						  why, err);
		if (rc)
			return rc;
		sl->cached = 1;
		sl->h.flags = 0;
		r->st.loads++;
	}
	if (sl->state == SLOT_FREED || sl->host.type == HAMMER_BTREE_TYPE_DELETED) {
		*why = HAMMER_CHK_BTREE_NODE_TYPE;
		return HAMMER_CORRUPT(err, off,
			"B-tree node %016llx: freed node is linked", (unsigned long long)off);
	}
	sl->refs++;
	r->pinned++;
	*np = &sl->h;
	return 0;
}

static void ram_put(void *ctx, struct hammer_node *n)
{
	struct hammer_ramio *r = ctx;
	struct ramslot *s = slot_of(n);
	assert(s->refs > 0);
	s->refs--;
	r->pinned--;
	if (s->refs == 0 && s->state == SLOT_FREED)
		free_push(r, s, slot_index(s));
}

static int ram_modify(void *ctx, struct hammer_node *n, struct hammer_err *err)
{
	struct hammer_ramio *r = ctx;
	struct ramslot *s = slot_of(n);
	assert(s->refs > 0 && s->state == SLOT_LIVE);
	if (r->fail_modify && --r->fail_modify == 0)
		return HAMMER_ERR(err, -EIO, n->offset, "injected modify failure");
	s->dirty = 1;
	r->st.modifies++;
	return 0;
}

static int ram_alloc(void *ctx, struct hammer_node **np, struct hammer_err *err)
{
	struct hammer_ramio *r = ctx;
	struct ramslot *s;
	size_t i;

	if (r->fail_alloc && --r->fail_alloc == 0)
		return HAMMER_ERR(err, -EIO, HAMMER_OFF_BAD, "injected alloc failure");
	if (r->free_head) {
		i = r->free_head - 1;
		s = r->slots[i];
		r->free_head = s->next_free;
		s->on_free_list = 0;
		assert(s->refs == 0 && s->state == SLOT_FREED);
	} else {
		if (r->n == r->cap) {
			size_t nc = r->cap ? r->cap * 2 : 64;
			struct ramslot **v = realloc(r->slots, nc * sizeof(*v));
			if (!v)
				return HAMMER_ERR(err, -ENOMEM, HAMMER_OFF_BAD, "out of memory");
			r->slots = v;
			r->cap = nc;
		}
		s = aligned_alloc(64, sizeof(*s));
		if (!s)
			return HAMMER_ERR(err, -ENOMEM, HAMMER_OFF_BAD, "out of memory");
		memset(s, 0, offsetof(struct ramslot, host));
		i = r->n++;
		r->slots[i] = s;
		s->h.offset = slot_off(i);
		s->h.ondisk = &s->host;
	}
	memset(&s->host, 0, sizeof(s->host));
	s->state = SLOT_LIVE;
	s->cached = 1;
	s->dirty = 1;
	s->refs = 1;
	s->h.flags = 0;
	r->pinned++;
	r->st.allocs++;
	r->st.live++;
	*np = &s->h;
	return 0;
}

static int ram_free(void *ctx, struct hammer_node *n, struct hammer_err *err)
{
	struct hammer_ramio *r = ctx;
	struct ramslot *s = slot_of(n);
	(void)err;
	assert(s->refs > 0 && s->state == SLOT_LIVE);
	s->host.type = HAMMER_BTREE_TYPE_DELETED;
	s->host.count = 0;
	s->state = SLOT_FREED;
	s->dirty = 1;
	r->st.frees++;
	r->st.live--;
	ram_put(ctx, n);
	return 0;
}

static const struct hammer_node_io_ops ram_ops = {
	.version = HAMMER_NODE_IO_VERSION,
	.get = ram_get,
	.put = ram_put,
	.modify = ram_modify,
	.alloc = ram_alloc,
	.free = ram_free,
	.set_root = NULL,
};

int hammer_btree_ramio_create(unsigned version, struct hammer_ramio **out,
			      struct hammer_node_io *io)
{
	struct hammer_ramio *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->version = version;
	*out = r;
	io->ops = &ram_ops;
	io->ctx = r;
	io->version = version;
	return 0;
}

void hammer_btree_ramio_destroy(struct hammer_ramio *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->slots[i]->disk);
		free(r->slots[i]);
	}
	free(r->slots);
	free(r);
}

void hammer_btree_ramio_sync(struct hammer_ramio *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct ramslot *s = r->slots[i];
		if (!s->dirty || !s->cached)
			continue;
		if (!s->disk) {
			s->disk = aligned_alloc(64, HAMMER_BTREE_NODE_SIZE);
			assert(s->disk);	/* test-only store */
		}
		hammer_btree_node_encode(r->version, &s->host, s->disk);
		s->dirty = 0;
	}
}

uint64_t hammer_btree_ramio_audit(struct hammer_ramio *r)
{
	static uint8_t tmp[HAMMER_BTREE_NODE_SIZE] __attribute__((aligned(64)));
	uint64_t bad = 0;

	for (size_t i = 0; i < r->n; i++) {
		struct ramslot *s = r->slots[i];
		if (s->dirty || !s->cached || !s->disk)
			continue;
		hammer_btree_node_encode(r->version, &s->host, tmp);
		if (memcmp(tmp, s->disk, HAMMER_BTREE_NODE_SIZE) != 0)
			bad++;
	}
	return bad;
}

void hammer_btree_ramio_drop(struct hammer_ramio *r)
{
	hammer_btree_ramio_sync(r);
	for (size_t i = 0; i < r->n; i++) {
		struct ramslot *s = r->slots[i];
		if (s->refs == 0 && s->disk)
			s->cached = 0;
	}
}

uint8_t *hammer_btree_ramio_raw(struct hammer_ramio *r, hammer_off_t off)
{
	uint64_t s = hammer_short_of(off);
	if (hammer_zone_of(off) != HAMMER_ZONE_BTREE_INDEX || s < HAMMER_RAMIO_BASE)
		return NULL;
	size_t i = (size_t)((s - HAMMER_RAMIO_BASE) / HAMMER_BTREE_NODE_SIZE);
	return i < r->n ? r->slots[i]->disk : NULL;
}

uint64_t hammer_btree_ramio_pinned(const struct hammer_ramio *r)
{
	return r->pinned;
}

void hammer_btree_ramio_stats(const struct hammer_ramio *r, struct hammer_ramio_stats *s)
{
	*s = r->st;
}

void hammer_btree_ramio_fail(struct hammer_ramio *r, uint64_t modify_n, uint64_t alloc_n)
{
	r->fail_modify = modify_n;
	r->fail_alloc = alloc_n;
}
