/* buffer.c - bounded, reference-counted buffer cache over a volume set. */
#include "buffer.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct buflist {
	struct hammer_buffer *head, *tail;
	uint64_t count;
};

struct hammer_bufcache {
	struct hammer_volset *vs;
	uint64_t limit;
	pthread_mutex_t lock;
	struct hammer_buffer **hash;
	size_t nbuckets;		/* power of two */
	struct buflist lru;		/* clean, unpinned; head = oldest */
	struct buflist dirty[HAMMER_BUF_KINDS];
	struct hammer_buffer_hooks hooks;
	struct hammer_bufcache_stats st;
	/*
	 * Dropped buffers kept for reuse, per size (16, 32, 48, 64 KB),
	 * chained by hnext: a full cache evicts one buffer for every miss, and
	 * handing its memory straight to the next one spares malloc (and the
	 * heap fragmentation of 64 KB blocks among small allocations).
	 */
	struct hammer_buffer *spare[HAMMER_XBUFSIZE / HAMMER_BUFSIZE];
	unsigned nspare[HAMMER_XBUFSIZE / HAMMER_BUFSIZE];
};

#define SPARES_PER_SIZE 8

#define INITIAL_BUCKETS 64

/* ------------------------------------------------------------ lists */
static void list_append(struct buflist *l, struct hammer_buffer *b)
{
	b->lnext = NULL;
	b->lprev = l->tail;
	if (l->tail)
		l->tail->lnext = b;
	else
		l->head = b;
	l->tail = b;
	l->count++;
}

static void list_remove(struct buflist *l, struct hammer_buffer *b)
{
	if (b->lprev)
		b->lprev->lnext = b->lnext;
	else
		l->head = b->lnext;
	if (b->lnext)
		b->lnext->lprev = b->lprev;
	else
		l->tail = b->lprev;
	b->lprev = b->lnext = NULL;
	l->count--;
}

/* Stable merge sort of a list by zone-2 address (no allocation). */
static struct hammer_buffer *merge_sort(struct hammer_buffer *h)
{
	if (!h || !h->lnext)
		return h;
	struct hammer_buffer *slow = h, *fast = h->lnext;
	while (fast && fast->lnext) {
		slow = slow->lnext;
		fast = fast->lnext->lnext;
	}
	struct hammer_buffer *b = slow->lnext;
	slow->lnext = NULL;
	struct hammer_buffer *a = merge_sort(h);
	b = merge_sort(b);
	struct hammer_buffer head = { 0 }, *t = &head;
	while (a && b) {
		if (b->zone2 < a->zone2) {
			t->lnext = b;
			b = b->lnext;
		} else {
			t->lnext = a;
			a = a->lnext;
		}
		t = t->lnext;
	}
	t->lnext = a ? a : b;
	return head.lnext;
}

static void list_sort(struct buflist *l)
{
	l->head = merge_sort(l->head);
	struct hammer_buffer *prev = NULL;
	for (struct hammer_buffer *b = l->head; b; b = b->lnext) {
		b->lprev = prev;
		prev = b;
	}
	l->tail = prev;
}

/* ------------------------------------------------------------- hash */
static size_t bucket_of(const struct hammer_bufcache *bc, hammer_off_t zone2)
{
	uint64_t h = (zone2 >> 14) * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 32) & (bc->nbuckets - 1);
}

static struct hammer_buffer *hash_find(struct hammer_bufcache *bc,
				       hammer_off_t zone2)
{
	for (struct hammer_buffer *b = bc->hash[bucket_of(bc, zone2)]; b;
	     b = b->hnext)
		if (b->zone2 == zone2)
			return b;
	return NULL;
}

static void hash_insert(struct hammer_bufcache *bc, struct hammer_buffer *b)
{
	size_t i = bucket_of(bc, b->zone2);
	b->hnext = bc->hash[i];
	bc->hash[i] = b;
}

static void hash_remove(struct hammer_bufcache *bc, struct hammer_buffer *b)
{
	struct hammer_buffer **pp = &bc->hash[bucket_of(bc, b->zone2)];
	while (*pp != b)
		pp = &(*pp)->hnext;
	*pp = b->hnext;
	b->hnext = NULL;
}

/* Doubles the table when chains get long; failure only costs speed. */
static void hash_maybe_grow(struct hammer_bufcache *bc)
{
	if (bc->st.nbuffers < 2 * bc->nbuckets)
		return;
	size_t n = bc->nbuckets * 2;
	struct hammer_buffer **nh = calloc(n, sizeof(*nh));
	if (!nh)
		return;
	struct hammer_buffer **old = bc->hash;
	size_t oldn = bc->nbuckets;
	bc->hash = nh;
	bc->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct hammer_buffer *b = old[i];
		while (b) {
			struct hammer_buffer *next = b->hnext;
			hash_insert(bc, b);
			b = next;
		}
	}
	free(old);
}

/* ------------------------------------------------------- lifecycle */
int hammer_bufcache_open(struct hammer_volset *vs, uint64_t limit,
			 struct hammer_bufcache **out)
{
	*out = NULL;
	if (!vs || limit < HAMMER_BUFCACHE_MIN)
		return -EINVAL;
	struct hammer_bufcache *bc = calloc(1, sizeof(*bc));
	if (!bc)
		return -ENOMEM;
	bc->hash = calloc(INITIAL_BUCKETS, sizeof(*bc->hash));
	if (!bc->hash) {
		free(bc);
		return -ENOMEM;
	}
	if (pthread_mutex_init(&bc->lock, NULL)) {
		free(bc->hash);
		free(bc);
		return -ENOMEM;
	}
	bc->nbuckets = INITIAL_BUCKETS;
	bc->vs = vs;
	bc->limit = limit;
	*out = bc;
	return 0;
}

static void buffer_free(struct hammer_buffer *b)
{
	free(b->data);
	free(b);
}

/* Into the spares, or freed (lock held). */
static void buffer_release(struct hammer_bufcache *bc, struct hammer_buffer *b)
{
	unsigned k = b->size / HAMMER_BUFSIZE - 1;
	if (bc->nspare[k] >= SPARES_PER_SIZE) {
		buffer_free(b);
		return;
	}
	b->hnext = bc->spare[k];
	bc->spare[k] = b;
	bc->nspare[k]++;
}

/* A buffer of `size` bytes, everything but data[] zero (lock held). */
static struct hammer_buffer *buffer_new(struct hammer_bufcache *bc,
					uint32_t size)
{
	unsigned k = size / HAMMER_BUFSIZE - 1;
	struct hammer_buffer *b = bc->spare[k];
	if (b) {
		bc->spare[k] = b->hnext;
		bc->nspare[k]--;
		uint8_t *data = b->data;
		memset(b, 0, sizeof(*b));
		b->data = data;
		return b;
	}
	b = calloc(1, sizeof(*b));
	void *data = NULL;
	if (!b || posix_memalign(&data, 4096, size)) {
		free(b);
		return NULL;
	}
	b->data = data;
	return b;
}

/* Remove an unpinned buffer from the cache entirely (lock held). */
static void buffer_drop(struct hammer_bufcache *bc, struct hammer_buffer *b)
{
	assert(b->refs == 0);
	if (b->dirty) {
		list_remove(&bc->dirty[b->kind], b);
		bc->st.dirty_bytes[b->kind] -= b->size;
	} else {
		list_remove(&bc->lru, b);
	}
	hash_remove(bc, b);
	bc->st.nbuffers--;
	bc->st.bytes -= b->size;
	buffer_release(bc, b);
}

void hammer_bufcache_close(struct hammer_bufcache *bc)
{
	if (!bc)
		return;
	assert(bc->st.pinned == 0);
	for (size_t i = 0; i < bc->nbuckets; i++) {
		struct hammer_buffer *b = bc->hash[i];
		while (b) {
			struct hammer_buffer *next = b->hnext;
			buffer_free(b);
			b = next;
		}
	}
	for (unsigned k = 0; k < HAMMER_XBUFSIZE / HAMMER_BUFSIZE; k++) {
		while (bc->spare[k]) {
			struct hammer_buffer *b = bc->spare[k];
			bc->spare[k] = b->hnext;
			buffer_free(b);
		}
	}
	free(bc->hash);
	pthread_mutex_destroy(&bc->lock);
	free(bc);
}

void hammer_bufcache_set_hooks(struct hammer_bufcache *bc,
			       const struct hammer_buffer_hooks *hooks)
{
	pthread_mutex_lock(&bc->lock);
	if (hooks)
		bc->hooks = *hooks;
	else
		memset(&bc->hooks, 0, sizeof(bc->hooks));
	pthread_mutex_unlock(&bc->lock);
}

/* Evict clean unpinned buffers, oldest first, until `need` more bytes fit. */
static int make_room(struct hammer_bufcache *bc, uint64_t need)
{
	while (bc->st.bytes + need > bc->limit) {
		struct hammer_buffer *b = bc->lru.head;
		if (!b)
			return -ENOBUFS;
		buffer_drop(bc, b);
		bc->st.evictions++;
	}
	return 0;
}

int hammer_bufcache_set_limit(struct hammer_bufcache *bc, uint64_t limit)
{
	if (limit < HAMMER_BUFCACHE_MIN)
		return -EINVAL;
	pthread_mutex_lock(&bc->lock);
	bc->limit = limit;
	int rc = make_room(bc, 0);
	pthread_mutex_unlock(&bc->lock);
	return rc;
}

void hammer_bufcache_stats(struct hammer_bufcache *bc,
			   struct hammer_bufcache_stats *st)
{
	pthread_mutex_lock(&bc->lock);
	*st = bc->st;
	pthread_mutex_unlock(&bc->lock);
}

struct hammer_volset *hammer_bufcache_volset(struct hammer_bufcache *bc)
{
	return bc->vs;
}

/* ---------------------------------------------------------- lookups */
int hammer_bufcache_zone2(struct hammer_bufcache *bc, hammer_off_t addr,
			  size_t len, hammer_off_t *zone2,
			  struct hammer_err *err)
{
	struct hammer_volume *vol;
	uint64_t phys;
	unsigned zone = hammer_zone_of(addr);
	if (zone != HAMMER_ZONE_UNDO_INDEX && !hammer_zone_direct_xlated(zone))
		return HAMMER_ERR(err, -EINVAL, addr, "address %016llx (zone %u) "
				  "cannot be cached", (unsigned long long)addr, zone);
	int rc = hammer_volset_xlate(bc->vs, addr, len, &vol, &phys, err);
	if (rc)
		return rc;
	*zone2 = hammer_encode(HAMMER_ZONE_RAW_BUFFER_INDEX, (unsigned)vol->vol_no,
			       phys - (uint64_t)vol->hdr.vol_buf_beg);
	return 0;
}

/* The buffer whose extent contains zone-2 byte z, if any (lock held). */
static struct hammer_buffer *find_covering(struct hammer_bufcache *bc,
					   hammer_off_t z)
{
	for (unsigned k = 0; k < HAMMER_XBUFSIZE / HAMMER_BUFSIZE; k++) {
		uint64_t back = (uint64_t)k * HAMMER_BUFSIZE;
		if (hammer_short_of(z) < back)
			break;
		struct hammer_buffer *b = hash_find(bc, z - back);
		if (b)
			return b->size > back ? b : NULL;
	}
	return NULL;
}

static enum hammer_buf_kind kind_of_zone(unsigned zone)
{
	/*
	 * Only large data (whole, freshly allocated 16 KB units) skips UNDO.
	 * Small data shares sectors with records already committed, so a torn
	 * write of it must be undoable like meta-data.
	 */
	if (zone == HAMMER_ZONE_LARGE_DATA_INDEX)
		return HAMMER_BUF_DATA;
	if (zone == HAMMER_ZONE_UNDO_INDEX)
		return HAMMER_BUF_UNDO;
	return HAMMER_BUF_META;
}

static void pin(struct hammer_bufcache *bc, struct hammer_buffer *b)
{
	if (b->refs++ == 0) {
		bc->st.pinned++;
		if (!b->dirty)
			list_remove(&bc->lru, b);
	}
}

/*
 * Buffers overlapping [z, z + size) other than an exact match: all must be
 * clean and unpinned, then they are dropped (lock held).
 */
static int drop_overlaps(struct hammer_bufcache *bc, hammer_off_t z,
			 uint32_t size, hammer_off_t addr,
			 struct hammer_err *err)
{
	struct hammer_buffer *victims[HAMMER_XBUFSIZE / HAMMER_BUFSIZE + 1];
	int n = 0;
	struct hammer_buffer *c = find_covering(bc, z);
	if (c)
		victims[n++] = c;
	for (uint32_t s = HAMMER_BUFSIZE; s < size; s += HAMMER_BUFSIZE) {
		struct hammer_buffer *b = hash_find(bc, z + s);
		if (b)
			victims[n++] = b;
	}
	for (int i = 0; i < n; i++)
		if (victims[i]->refs || victims[i]->dirty)
			return HAMMER_ERR(err, -EBUSY, addr, "buffer %016llx+%u "
					  "overlaps a %s cached buffer %016llx+%u",
					  (unsigned long long)z, size,
					  victims[i]->refs ? "pinned" : "dirty",
					  (unsigned long long)victims[i]->zone2,
					  victims[i]->size);
	for (int i = 0; i < n; i++) {
		buffer_drop(bc, victims[i]);
		bc->st.evictions++;
	}
	return 0;
}

int hammer_buffer_get(struct hammer_bufcache *bc, hammer_off_t addr,
		      size_t len, int flags, struct hammer_buffer **bufp,
		      void **datap, struct hammer_err *err)
{
	*bufp = NULL;
	if (datap)
		*datap = NULL;
	unsigned zone = hammer_zone_of(addr);
	uint32_t size, inoff = (uint32_t)(addr & HAMMER_BUFMASK);
	if (len == 0 || len > HAMMER_XBUFSIZE)
		return HAMMER_ERR(err, -EINVAL, addr, "bad buffer length %zu at "
				  "%016llx", len, (unsigned long long)addr);
	if (len <= HAMMER_BUFSIZE) {
		if (inoff + len > HAMMER_BUFSIZE)
			return HAMMER_ERR(err, -EINVAL, addr, "range %016llx+%zu "
					  "crosses a 16 KB buffer",
					  (unsigned long long)addr, len);
		size = HAMMER_BUFSIZE;
	} else {
		size = (uint32_t)((len + HAMMER_BUFMASK) & ~(size_t)HAMMER_BUFMASK);
		if (zone != HAMMER_ZONE_LARGE_DATA_INDEX || inoff != 0 ||
		    (addr & HAMMER_BIGBLOCK_MASK64) + size > HAMMER_BIGBLOCK_SIZE)
			return HAMMER_ERR(err, -EINVAL, addr, "X-buffer %016llx+%zu "
					  "must be zone 10, 16 KB aligned and "
					  "inside one big-block",
					  (unsigned long long)addr, len);
	}
	hammer_off_t base = addr - inoff, z;
	int rc = hammer_bufcache_zone2(bc, base, size, &z, err);
	if (rc)
		return rc;
	struct hammer_volume *vol;
	uint64_t phys;
	rc = hammer_volset_xlate(bc->vs, z, size, &vol, &phys, err);
	if (rc)
		return rc;

	pthread_mutex_lock(&bc->lock);
	struct hammer_buffer *b = find_covering(bc, z);
	if (b && b->zone2 + b->size >= z + size) {
		pin(bc, b);
		bc->st.hits++;
		pthread_mutex_unlock(&bc->lock);
		*bufp = b;
		if (datap)
			*datap = b->data + (z - b->zone2) + inoff;
		return 0;
	}
	rc = drop_overlaps(bc, z, size, addr, err);
	if (!rc) {
		rc = make_room(bc, size);
		if (rc)
			HAMMER_ERR(err, rc, addr, "buffer cache full of dirty or "
				   "pinned buffers (%llu of %llu bytes): flush "
				   "needed", (unsigned long long)bc->st.bytes,
				   (unsigned long long)bc->limit);
	}
	if (rc) {
		pthread_mutex_unlock(&bc->lock);
		return rc;
	}
	b = buffer_new(bc, size);
	if (!b) {
		pthread_mutex_unlock(&bc->lock);
		return HAMMER_ERR(err, -ENOMEM, addr, "out of memory");
	}
	b->zone2 = z;
	b->size = size;
	b->kind = kind_of_zone(zone);
	bc->st.misses++;
	if (flags & HAMMER_BUF_NEW) {
		if (!(flags & HAMMER_BUF_UNINIT))
			memset(b->data, 0, size);
	} else {
		rc = hammer_bdev_read(vol->bd, phys, b->data, size);
		if (rc) {
			buffer_release(bc, b);
			pthread_mutex_unlock(&bc->lock);
			return HAMMER_ERR(err, rc, addr, "%s: read error at %016llx",
					  vol->bd->name, (unsigned long long)addr);
		}
		bc->st.reads++;
	}
	b->refs = 1;
	bc->st.pinned++;
	hash_insert(bc, b);
	bc->st.nbuffers++;
	bc->st.bytes += size;
	if (bc->st.bytes > bc->st.peak_bytes)
		bc->st.peak_bytes = bc->st.bytes;
	hash_maybe_grow(bc);
	pthread_mutex_unlock(&bc->lock);
	*bufp = b;
	if (datap)
		*datap = b->data + inoff;
	return 0;
}

int hammer_bufcache_read_direct(struct hammer_bufcache *bc, hammer_off_t addr,
				size_t len, void *dst, struct hammer_err *err)
{
	if (hammer_zone_of(addr) != HAMMER_ZONE_LARGE_DATA_INDEX ||
	    (addr & HAMMER_BUFMASK) || len == 0 || (len & HAMMER_BUFMASK) ||
	    len > HAMMER_XBUFSIZE ||
	    (addr & HAMMER_BIGBLOCK_MASK64) + len > HAMMER_BIGBLOCK_SIZE)
		return -EINVAL;
	hammer_off_t z;
	struct hammer_volume *vol;
	uint64_t phys;
	int rc = hammer_bufcache_zone2(bc, addr, len, &z, err);
	if (!rc)
		rc = hammer_volset_xlate(bc->vs, z, len, &vol, &phys, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&bc->lock);
	int cached = find_covering(bc, z) != NULL;
	for (size_t s = HAMMER_BUFSIZE; s < len && !cached; s += HAMMER_BUFSIZE)
		cached = hash_find(bc, z + s) != NULL;
	if (!cached)
		bc->st.reads++;
	pthread_mutex_unlock(&bc->lock);
	if (cached)
		return -EAGAIN;
	rc = hammer_bdev_read(vol->bd, phys, dst, len);
	if (rc)
		return HAMMER_ERR(err, rc, addr, "%s: read error at %016llx",
				  vol->bd->name, (unsigned long long)addr);
	return 0;
}

void hammer_bufcache_prefetch(struct hammer_bufcache *bc, hammer_off_t addr,
			      size_t len)
{
	struct hammer_err e = { 0 };
	struct hammer_volume *vol;
	uint64_t phys;
	hammer_off_t z;
	uint32_t inoff = (uint32_t)(addr & HAMMER_BUFMASK);
	if (len == 0 || len > HAMMER_XBUFSIZE)
		return;
	size_t size = (inoff + len + HAMMER_BUFMASK) & ~(size_t)HAMMER_BUFMASK;
	if (hammer_bufcache_zone2(bc, addr - inoff, size, &z, &e) ||
	    hammer_volset_xlate(bc->vs, z, size, &vol, &phys, &e))
		return;
	pthread_mutex_lock(&bc->lock);
	struct hammer_buffer *b = find_covering(bc, z);
	int cached = b && b->zone2 + b->size >= z + size;
	pthread_mutex_unlock(&bc->lock);
	if (!cached)
		hammer_bdev_prefetch(vol->bd, phys, size);
}

void hammer_buffer_put(struct hammer_bufcache *bc, struct hammer_buffer *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&bc->lock);
	assert(b->refs > 0);
	if (--b->refs == 0) {
		bc->st.pinned--;
		if (!b->dirty) {
			list_append(&bc->lru, b);
			/* a lowered limit is honoured as buffers come free */
			(void)make_room(bc, 0);
		}
	}
	pthread_mutex_unlock(&bc->lock);
}

void *hammer_buffer_ptr(struct hammer_buffer *b, hammer_off_t addr)
{
	hammer_off_t z = hammer_xlate_zone(addr, HAMMER_ZONE_RAW_BUFFER_INDEX);
	assert(z >= b->zone2 && z < b->zone2 + b->size);
	return b->data + (z - b->zone2);
}

int hammer_buffer_modify(struct hammer_bufcache *bc, struct hammer_buffer *b,
			 const void *p, size_t len)
{
	const uint8_t *q = p;
	assert(b->refs > 0);
	assert(q >= b->data && len <= b->size &&
	       (size_t)(q - b->data) <= b->size - len);
	if (b->kind == HAMMER_BUF_META) {
		pthread_mutex_lock(&bc->lock);
		struct hammer_buffer_hooks h = bc->hooks;
		pthread_mutex_unlock(&bc->lock);
		if (h.before_modify && len) {
			/*
			 * Whole sectors: a sector written back may come out
			 * garbled, so recovery must be able to restore all of it,
			 * not just the bytes that changed.
			 */
			size_t lo = (size_t)(q - b->data) & ~(size_t)(HAMMER_SECTOR_SIZE - 1);
			size_t hi = ((size_t)(q - b->data) + len + HAMMER_SECTOR_SIZE - 1) &
				    ~(size_t)(HAMMER_SECTOR_SIZE - 1);
			int rc = h.before_modify(h.ctx, b->zone2 + lo, b->data + lo,
						 hi - lo);
			if (rc)
				return rc;
		}
	}
	pthread_mutex_lock(&bc->lock);
	if (len) {
		uint32_t first = (uint32_t)((size_t)(q - b->data) / HAMMER_SECTOR_SIZE);
		uint32_t last = (uint32_t)(((size_t)(q - b->data) + len - 1) /
					   HAMMER_SECTOR_SIZE);
		for (uint32_t i = first; i <= last; i++)
			b->dsec[i / 64] |= 1ULL << (i % 64);
	}
	if (!b->dirty) {
		b->dirty = 1;
		list_append(&bc->dirty[b->kind], b);
		bc->st.dirty_bytes[b->kind] += b->size;
	}
	pthread_mutex_unlock(&bc->lock);
	return 0;
}

/* --------------------------------------------------------- verified */
static void granules(const struct hammer_buffer *b, const void *p, size_t len,
		     unsigned *first, unsigned *last)
{
	size_t off = (size_t)((const uint8_t *)p - b->data);
	assert(len > 0 && off + len <= b->size);
	*first = (unsigned)(off / HAMMER_BUF_GRANULE);
	*last = (unsigned)((off + len - 1) / HAMMER_BUF_GRANULE);
}

int hammer_buffer_is_verified(const struct hammer_buffer *b, const void *p,
			      size_t len)
{
	unsigned f, l;
	granules(b, p, len, &f, &l);
	for (unsigned i = f; i <= l; i++)
		if (!(b->verified & (1ULL << i)))
			return 0;
	return 1;
}

void hammer_buffer_set_verified(struct hammer_buffer *b, const void *p,
				size_t len)
{
	unsigned f, l;
	granules(b, p, len, &f, &l);
	for (unsigned i = f; i <= l; i++)
		b->verified |= 1ULL << i;
}

/* -------------------------------------------------------- write-back */
static int sec_dirty(const struct hammer_buffer *b, uint32_t i)
{
	return (b->dsec[i / 64] >> (i % 64)) & 1;
}

/* Write the runs of dirty sectors. */
static int buffer_write(struct hammer_bufcache *bc, struct hammer_buffer *b,
			struct hammer_err *err)
{
	struct hammer_volume *vol;
	uint64_t phys;
	int rc = hammer_volset_xlate(bc->vs, b->zone2, b->size, &vol, &phys, err);
	if (rc)
		return rc;
	if (bc->vs->readonly)
		return HAMMER_ERR(err, -EROFS, b->zone2, "volume set is read-only");
	uint32_t nsec = b->size / HAMMER_SECTOR_SIZE;
	for (uint32_t i = 0; i < nsec;) {
		if (!sec_dirty(b, i)) {
			i++;
			continue;
		}
		uint32_t j = i + 1;
		while (j < nsec && sec_dirty(b, j))
			j++;
		uint64_t o = (uint64_t)i * HAMMER_SECTOR_SIZE;
		rc = hammer_bdev_write(vol->bd, phys + o, b->data + o,
				       (size_t)(j - i) * HAMMER_SECTOR_SIZE);
		if (rc)
			return HAMMER_ERR(err, rc, b->zone2 + o,
					  "%s: write error at %016llx", vol->bd->name,
					  (unsigned long long)(b->zone2 + o));
		bc->st.writes++;
		i = j;
	}
	b->dsec[0] = b->dsec[1] = 0;
	return 0;
}

int hammer_bufcache_flush_kind(struct hammer_bufcache *bc,
			       enum hammer_buf_kind kind, struct hammer_err *err)
{
	assert((unsigned)kind < HAMMER_BUF_KINDS);
	int rc = 0;
	pthread_mutex_lock(&bc->lock);
	struct buflist *l = &bc->dirty[kind];
	list_sort(l);
	while (l->head) {
		struct hammer_buffer *b = l->head;
		rc = buffer_write(bc, b, err);
		if (rc)
			break;
		list_remove(l, b);
		b->dirty = 0;
		bc->st.dirty_bytes[kind] -= b->size;
		if (b->refs == 0)
			list_append(&bc->lru, b);
	}
	if (!rc)
		(void)make_room(bc, 0);
	pthread_mutex_unlock(&bc->lock);
	return rc;
}

int hammer_bufcache_foreach_dirty(struct hammer_bufcache *bc,
				  enum hammer_buf_kind kind,
				  int (*cb)(void *ctx, struct hammer_buffer *b),
				  void *ctx)
{
	assert((unsigned)kind < HAMMER_BUF_KINDS);
	pthread_mutex_lock(&bc->lock);
	struct buflist *l = &bc->dirty[kind];
	list_sort(l);
	size_t n = (size_t)l->count, i = 0;
	struct hammer_buffer **snap = n ? malloc(n * sizeof(*snap)) : NULL;
	if (n && !snap) {
		pthread_mutex_unlock(&bc->lock);
		return -ENOMEM;
	}
	/* pinned snapshot: the callback may use the cache freely */
	for (struct hammer_buffer *b = l->head; b; b = b->lnext) {
		snap[i++] = b;
		pin(bc, b);
	}
	pthread_mutex_unlock(&bc->lock);
	int rc = 0;
	for (i = 0; i < n; i++) {
		if (!rc)
			rc = cb(ctx, snap[i]);
		hammer_buffer_put(bc, snap[i]);
	}
	free(snap);
	return rc;
}

int hammer_bufcache_invalidate(struct hammer_bufcache *bc, hammer_off_t zone2,
			       uint64_t len)
{
	if ((zone2 | len) & HAMMER_BUFMASK ||
	    hammer_zone_of(zone2) != HAMMER_ZONE_RAW_BUFFER_INDEX)
		return -EINVAL;
	pthread_mutex_lock(&bc->lock);
	/* two passes: refuse before dropping anything */
	for (int pass = 0; pass < 2; pass++) {
		struct hammer_buffer *c = len ? find_covering(bc, zone2) : NULL;
		for (uint64_t s = 0; s < len; s += HAMMER_BUFSIZE) {
			struct hammer_buffer *b = s ? hash_find(bc, zone2 + s) : c;
			if (!b)
				continue;
			if (pass == 0 && b->refs) {
				pthread_mutex_unlock(&bc->lock);
				return -EBUSY;
			}
			if (pass == 1)
				buffer_drop(bc, b);
		}
	}
	pthread_mutex_unlock(&bc->lock);
	return 0;
}
