/* blockmap.c - zone allocator over the two-layer freemap. */
#include "blockmap.h"
#include "crc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A wholly freed big-block that may not be reused before `stamp` flushed. */
struct delay_ent {
	hammer_off_t base;		/* zone-2 address of the big-block */
	uint64_t stamp;
	unsigned zone;			/* zone that freed it */
	struct delay_ent *hnext;
	struct delay_ent *prev, *next;	/* FIFO, stamps non-decreasing */
};

struct hammer_bmap {
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	unsigned version;
	pthread_mutex_t lock;
	struct hammer_blockmap zones[HAMMER_MAX_ZONES];	/* host order */
	uint32_t crc_mismatch;
	uint64_t seq;
	struct delay_ent **dhash;
	size_t dbuckets;
	struct delay_ent *dhead, *dtail;
	struct hammer_bmap_stats st;
};

#define BB		((uint64_t)HAMMER_BIGBLOCK_SIZE)
#define BBMASK		HAMMER_BIGBLOCK_MASK64
#define SPAN		HAMMER_BLOCKMAP_LAYER2_SPAN
/* bytes_free below this cannot come from any sane history (DragonFly's bound). */
#define BYTES_FREE_MIN	(INT32_MIN + 2 * HAMMER_BIGBLOCK_SIZE)

static struct hammer_volume_ondisk *root_hdr(struct hammer_bmap *bm)
{
	return hammer_volset_root(bm->vs);
}

/* -------------------------------------------------------- delay list */
static size_t dbucket(const struct hammer_bmap *bm, hammer_off_t base)
{
	uint64_t h = (base >> HAMMER_BIGBLOCK_BITS) * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 32) & (bm->dbuckets - 1);
}

static struct delay_ent *delay_find(struct hammer_bmap *bm, hammer_off_t base)
{
	for (struct delay_ent *e = bm->dhash[dbucket(bm, base)]; e; e = e->hnext)
		if (e->base == base)
			return e;
	return NULL;
}

static void delay_fifo_unlink(struct hammer_bmap *bm, struct delay_ent *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		bm->dhead = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		bm->dtail = e->prev;
	e->prev = e->next = NULL;
}

static void delay_fifo_append(struct hammer_bmap *bm, struct delay_ent *e)
{
	e->next = NULL;
	e->prev = bm->dtail;
	if (bm->dtail)
		bm->dtail->next = e;
	else
		bm->dhead = e;
	bm->dtail = e;
}

static void delay_grow(struct hammer_bmap *bm)
{
	if (bm->st.delayed < 2 * bm->dbuckets)
		return;
	size_t n = bm->dbuckets * 2;
	struct delay_ent **nh = calloc(n, sizeof(*nh));
	if (!nh)
		return;		/* only slower */
	struct delay_ent **old = bm->dhash;
	size_t oldn = bm->dbuckets;
	bm->dhash = nh;
	bm->dbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct delay_ent *e = old[i];
		while (e) {
			struct delay_ent *nx = e->hnext;
			size_t b = dbucket(bm, e->base);
			e->hnext = nh[b];
			nh[b] = e;
			e = nx;
		}
	}
	free(old);
}

/* Enter a new entry, or re-stamp an existing one (it moves to the tail). */
static void delay_set(struct hammer_bmap *bm, struct delay_ent *fresh,
		      hammer_off_t base, unsigned zone)
{
	struct delay_ent *e = delay_find(bm, base);
	if (e) {
		free(fresh);
		delay_fifo_unlink(bm, e);
	} else {
		e = fresh;
		e->base = base;
		size_t b = dbucket(bm, base);
		e->hnext = bm->dhash[b];
		bm->dhash[b] = e;
		bm->st.delayed++;
	}
	e->zone = zone;
	e->stamp = bm->seq + 1;
	delay_fifo_append(bm, e);
	delay_grow(bm);
}

static void delay_remove(struct hammer_bmap *bm, struct delay_ent *e)
{
	struct delay_ent **pp = &bm->dhash[dbucket(bm, e->base)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	delay_fifo_unlink(bm, e);
	bm->st.delayed--;
	free(e);
}

/* ---------------------------------------------------- layer entries */
struct l1ref {
	struct hammer_buffer *buf;
	void *p;			/* disk-order bytes in the buffer */
	hammer_off_t addr;
	struct hammer_blockmap_layer1 v;	/* host order */
};

struct l2ref {
	struct hammer_buffer *buf;
	void *p;
	hammer_off_t addr;
	struct hammer_blockmap_layer2 v;
};

static void ref_put(struct hammer_bmap *bm, struct hammer_buffer **b)
{
	hammer_buffer_put(bm->bc, *b);
	*b = NULL;
}

/* Read, CRC-check and sanity-check the layer-1 entry covering zoneX. */
static int layer1_get(struct hammer_bmap *bm, hammer_off_t zoneX,
		      struct l1ref *r, struct hammer_err *err)
{
	r->buf = NULL;
	r->addr = bm->zones[HAMMER_ZONE_FREEMAP_INDEX].phys_offset +
		  hammer_layer1_offset(zoneX);
	int rc = hammer_buffer_get(bm->bc, r->addr, sizeof(r->v), 0, &r->buf,
				   &r->p, err);
	if (rc)
		return rc;
	memcpy(&r->v, r->p, sizeof(r->v));
	hammer_layer1_swap(&r->v);
	const struct hammer_blockmap_layer1 *l1 = &r->v;
	const char *why = NULL;
	if (!hammer_crc_check(bm->version, r->p, HAMMER_LAYER1_CRCSIZE,
			      l1->layer1_crc))
		why = "CRC mismatch";
	else if (l1->blocks_free < 0 || l1->blocks_free > HAMMER_BLOCKMAP_LAYER2)
		why = "blocks_free out of range";
	else if (l1->phys_offset == HAMMER_BLOCKMAP_UNAVAIL ? l1->blocks_free != 0 :
		 (hammer_zone_of(l1->phys_offset) != HAMMER_ZONE_RAW_BUFFER_INDEX ||
		  (l1->phys_offset & BBMASK) != 0))
		why = "bad layer-2 pointer";
	if (why) {
		ref_put(bm, &r->buf);
		return HAMMER_CORRUPT(err, r->addr, "freemap layer-1 entry %016llx "
				      "(for %016llx): %s (blocks_free %lld, "
				      "phys %016llx)", (unsigned long long)r->addr,
				      (unsigned long long)zoneX, why,
				      (long long)l1->blocks_free,
				      (unsigned long long)l1->phys_offset);
	}
	return 0;
}

static int layer2_get(struct hammer_bmap *bm, hammer_off_t zoneX,
		      const struct l1ref *l1, struct l2ref *r,
		      struct hammer_err *err)
{
	r->buf = NULL;
	if (l1->v.phys_offset == HAMMER_BLOCKMAP_UNAVAIL)
		return HAMMER_CORRUPT(err, l1->addr, "%016llx: freemap layer-1 "
				      "entry %016llx marks its range unavailable",
				      (unsigned long long)zoneX,
				      (unsigned long long)l1->addr);
	r->addr = l1->v.phys_offset + hammer_layer2_offset(zoneX);
	int rc = hammer_buffer_get(bm->bc, r->addr, sizeof(r->v), 0, &r->buf,
				   &r->p, err);
	if (rc)
		return rc;
	memcpy(&r->v, r->p, sizeof(r->v));
	hammer_layer2_swap(&r->v);
	const struct hammer_blockmap_layer2 *l2 = &r->v;
	const char *why = NULL;
	if (!hammer_crc_check(bm->version, r->p, HAMMER_LAYER2_CRCSIZE,
			      l2->entry_crc))
		why = "CRC mismatch";
	else if (l2->zone == HAMMER_ZONE_RAW_VOLUME_INDEX ||
		 l2->zone == HAMMER_ZONE_RAW_BUFFER_INDEX ||
		 (l2->zone > HAMMER_ZONE_FREEMAP_INDEX &&
		  l2->zone < HAMMER_ZONE_BTREE_INDEX) ||
		 l2->zone >= HAMMER_MAX_ZONES)
		why = "impossible owning zone";
	else if (l2->append_off > BB)
		why = "append_off beyond the big-block";
	else if (l2->bytes_free > HAMMER_BIGBLOCK_SIZE ||
		 l2->bytes_free < BYTES_FREE_MIN)
		why = "bytes_free out of range";
	if (why) {
		ref_put(bm, &r->buf);
		return HAMMER_CORRUPT(err, r->addr, "freemap layer-2 entry %016llx "
				      "(for %016llx): %s (zone %u, append_off %u, "
				      "bytes_free %d)", (unsigned long long)r->addr,
				      (unsigned long long)zoneX, why, l2->zone,
				      l2->append_off, l2->bytes_free);
	}
	return 0;
}

static void layer1_store(struct hammer_bmap *bm, struct l1ref *r)
{
	struct hammer_blockmap_layer1 d = r->v;
	hammer_layer1_swap(&d);
	r->v.layer1_crc = hammer_datacrc(bm->version, &d, HAMMER_LAYER1_CRCSIZE);
	d.layer1_crc = htole32(r->v.layer1_crc);
	memcpy(r->p, &d, sizeof(d));
}

static void layer2_store(struct hammer_bmap *bm, struct l2ref *r)
{
	struct hammer_blockmap_layer2 d = r->v;
	hammer_layer2_swap(&d);
	r->v.entry_crc = hammer_datacrc(bm->version, &d, HAMMER_LAYER2_CRCSIZE);
	d.entry_crc = htole32(r->v.entry_crc);
	memcpy(r->p, &d, sizeof(d));
}

/* ----------------------------------------------------------- entries */
uint32_t hammer_blockmap_entry_crc(unsigned version,
				   const struct hammer_blockmap *e)
{
	struct hammer_blockmap d = *e;
	hammer_blockmap_swap(&d);
	return hammer_datacrc(version, &d, HAMMER_BLOCKMAP_CRCSIZE);
}

static int entry_is_zero(const struct hammer_blockmap *e)
{
	static const struct hammer_blockmap zero;
	return memcmp(e, &zero, sizeof(zero)) == 0;
}

int hammer_blockmap_open(struct hammer_volset *vs, struct hammer_bufcache *bc,
			 struct hammer_bmap **out, struct hammer_err *err)
{
	*out = NULL;
	if (hammer_bufcache_volset(bc) != vs)
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "buffer cache belongs to "
				  "another volume set");
	struct hammer_volume_ondisk *root = hammer_volset_root(vs);
	const struct hammer_blockmap *fm = &root->vol0_blockmap[HAMMER_ZONE_FREEMAP_INDEX];
	hammer_off_t l1 = fm->phys_offset;
	struct hammer_volume *vol;
	uint64_t phys;
	if (hammer_zone_of(l1) != HAMMER_ZONE_RAW_BUFFER_INDEX ||
	    hammer_vol_of(l1) != HAMMER_ROOT_VOLNO || (l1 & BBMASK) ||
	    hammer_volset_xlate(vs, l1, HAMMER_BIGBLOCK_SIZE, &vol, &phys, NULL))
		return HAMMER_CORRUPT(err, 264 + 40 * HAMMER_ZONE_FREEMAP_INDEX,
				      "root volume: freemap blockmap phys_offset "
				      "%016llx is not a big-block on volume 0",
				      (unsigned long long)l1);
	for (unsigned z = HAMMER_ZONE_BTREE_INDEX;
	     z <= HAMMER_ZONE_SMALL_DATA_INDEX; z++) {
		hammer_off_t n = root->vol0_blockmap[z].next_offset;
		if (hammer_zone_of(n) != z)
			return HAMMER_CORRUPT(err, 264 + 40 * z, "root volume: "
					      "zone %u (%s) next_offset %016llx is "
					      "not in its zone", z,
					      hammer_zone_name(z),
					      (unsigned long long)n);
	}
	struct hammer_bmap *bm = calloc(1, sizeof(*bm));
	if (!bm)
		return HAMMER_ERR(err, -ENOMEM, ~0ULL, "out of memory");
	bm->dbuckets = 16;
	bm->dhash = calloc(bm->dbuckets, sizeof(*bm->dhash));
	if (!bm->dhash || pthread_mutex_init(&bm->lock, NULL)) {
		free(bm->dhash);
		free(bm);
		return HAMMER_ERR(err, -ENOMEM, ~0ULL, "out of memory");
	}
	bm->vs = vs;
	bm->bc = bc;
	bm->version = vs->version;
	bm->seq = 1;
	for (unsigned z = 0; z < HAMMER_MAX_ZONES; z++) {
		bm->zones[z] = root->vol0_blockmap[z];
		const struct hammer_blockmap *e = &bm->zones[z];
		struct hammer_blockmap d = *e;
		hammer_blockmap_swap(&d);
		if (!entry_is_zero(e) &&
		    !hammer_crc_check(bm->version, &d, HAMMER_BLOCKMAP_CRCSIZE,
				      e->entry_crc))
			bm->crc_mismatch |= 1u << z;
	}
	*out = bm;
	return 0;
}

void hammer_blockmap_close(struct hammer_bmap *bm)
{
	if (!bm)
		return;
	while (bm->dhead)
		delay_remove(bm, bm->dhead);
	free(bm->dhash);
	pthread_mutex_destroy(&bm->lock);
	free(bm);
}

uint32_t hammer_blockmap_crc_mismatch(const struct hammer_bmap *bm)
{
	return bm->crc_mismatch;
}

void hammer_blockmap_get_entry(struct hammer_bmap *bm, unsigned zone,
			       struct hammer_blockmap *out)
{
	pthread_mutex_lock(&bm->lock);
	*out = bm->zones[zone & (HAMMER_MAX_ZONES - 1)];
	pthread_mutex_unlock(&bm->lock);
}

void hammer_blockmap_set_entry(struct hammer_bmap *bm, unsigned zone,
			       const struct hammer_blockmap *e)
{
	pthread_mutex_lock(&bm->lock);
	bm->zones[zone & (HAMMER_MAX_ZONES - 1)] = *e;
	pthread_mutex_unlock(&bm->lock);
}

void hammer_blockmap_store(struct hammer_bmap *bm)
{
	pthread_mutex_lock(&bm->lock);
	struct hammer_volume_ondisk *root = root_hdr(bm);
	for (unsigned z = 0; z < HAMMER_MAX_ZONES; z++) {
		struct hammer_blockmap *e = &bm->zones[z];
		/* unused zones stay all-zero, as DragonFly leaves them */
		if (!entry_is_zero(e))
			e->entry_crc = hammer_blockmap_entry_crc(bm->version, e);
		root->vol0_blockmap[z] = *e;
	}
	bm->crc_mismatch = 0;
	pthread_mutex_unlock(&bm->lock);
}

void hammer_blockmap_stats(struct hammer_bmap *bm, struct hammer_bmap_stats *st)
{
	pthread_mutex_lock(&bm->lock);
	*st = bm->st;
	pthread_mutex_unlock(&bm->lock);
}

uint64_t hammer_blockmap_seq(const struct hammer_bmap *bm)
{
	return bm->seq;
}

/* ------------------------------------------------------- allocation */
static int alloc_locked(struct hammer_bmap *bm, unsigned zone, uint32_t n,
			hammer_off_t *out, struct hammer_err *err)
{
	struct hammer_volset *vs = bm->vs;
	struct hammer_volume_ondisk *root = root_hdr(bm);
	const hammer_off_t zbeg = hammer_encode(zone, 0, 0);
	const hammer_off_t zend = zbeg + (1ULL << 60);
	const uint64_t cross = n <= HAMMER_BUFSIZE ? HAMMER_BUFMASK : BBMASK;
	hammer_off_t next = bm->zones[zone].next_offset;
	int loops = 0;

	for (;;) {
		if (next >= zend || next < zbeg) {
			if (++loops == 2) {
				bm->st.enospc++;
				return HAMMER_ERR(err, -ENOSPC, ~0ULL, "zone %u (%s): "
						  "no space for %u bytes", zone,
						  hammer_zone_name(zone), n);
			}
			next = zbeg;
		}
		hammer_off_t last = next + n - 1;
		if ((next ^ last) & ~cross) {
			next = last & ~cross;
			continue;
		}
		unsigned vno = hammer_vol_of(next);
		if ((int)vno >= vs->count) {
			next = zend;
			continue;
		}
		const struct hammer_volume_ondisk *vh = &vs->vols[vno]->hdr;
		uint64_t space = (uint64_t)(vh->vol_buf_end - vh->vol_buf_beg);
		if ((hammer_short_of(next) & ~BBMASK) + BB > space) {
			/* past the last whole big-block: next volume */
			next = ((next >> 52) + 1) << 52;
			continue;
		}
		uint32_t bboff = (uint32_t)(next & BBMASK);
		struct l1ref l1;
		struct l2ref l2;
		int rc = layer1_get(bm, next, &l1, err);
		if (rc)
			return rc;
		if (bboff == 0 && l1.v.blocks_free == 0) {
			ref_put(bm, &l1.buf);
			next = (next + SPAN) & ~(SPAN - 1);
			continue;
		}
		rc = layer2_get(bm, next, &l1, &l2, err);
		if (rc) {
			ref_put(bm, &l1.buf);
			return rc;
		}
		hammer_off_t base2 = hammer_xlate_zone(next & ~BBMASK,
						       HAMMER_ZONE_RAW_BUFFER_INDEX);
		uint64_t skip = 0;
		if (l2.v.zone && l2.v.zone != zone)
			skip = BB - bboff;
		else if (bboff < l2.v.append_off)
			skip = l2.v.append_off - bboff;
		else if (delay_find(bm, base2))
			skip = BB - bboff;
		if (skip) {
			ref_put(bm, &l2.buf);
			ref_put(bm, &l1.buf);
			next += skip;
			continue;
		}
		int claim = l2.v.zone == 0;
		if (claim) {
			const char *why = NULL;
			if (l2.v.append_off != 0 || l2.v.bytes_free != HAMMER_BIGBLOCK_SIZE)
				why = "free big-block is not empty";
			else if (l1.v.blocks_free <= 0)
				why = "free big-block under a layer-1 entry with "
				      "no free big-blocks";
			else if (root->vol0_stat_freebigblocks <= 0)
				why = "free big-block while vol0_stat_freebigblocks "
				      "is zero";
			if (why) {
				ref_put(bm, &l2.buf);
				ref_put(bm, &l1.buf);
				return HAMMER_CORRUPT(err, l2.addr, "freemap layer-2 "
						      "entry %016llx (for %016llx): "
						      "%s", (unsigned long long)l2.addr,
						      (unsigned long long)next, why);
			}
			rc = hammer_buffer_modify(bm->bc, l1.buf, l1.p, sizeof(l1.v));
		}
		if (!rc)
			rc = hammer_buffer_modify(bm->bc, l2.buf, l2.p, sizeof(l2.v));
		if (rc) {
			ref_put(bm, &l2.buf);
			ref_put(bm, &l1.buf);
			return HAMMER_ERR(err, rc, l2.addr, "cannot log the change of "
					  "freemap entry %016llx",
					  (unsigned long long)l2.addr);
		}
		if (claim) {
			l1.v.blocks_free--;
			layer1_store(bm, &l1);
			l2.v.zone = (uint8_t)zone;
			root->vol0_stat_freebigblocks--;
			bm->st.bigblocks_claimed++;
		}
		l2.v.bytes_free -= (int32_t)n;
		l2.v.append_off = bboff + n;
		layer2_store(bm, &l2);
		ref_put(bm, &l2.buf);
		ref_put(bm, &l1.buf);
		bm->zones[zone].next_offset = next + n;
		bm->st.allocs++;
		bm->st.bytes_allocated += n;
		*out = next;
		return 0;
	}
}

int hammer_blockmap_alloc(struct hammer_bmap *bm, unsigned zone, int bytes,
			  hammer_off_t *out, struct hammer_err *err)
{
	*out = 0;
	if (zone < HAMMER_ZONE_BTREE_INDEX || zone > HAMMER_ZONE_SMALL_DATA_INDEX)
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "cannot allocate in zone %u",
				  zone);
	if (bytes <= 0 || bytes > HAMMER_XBUFSIZE)
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "cannot allocate %d bytes "
				  "(1..%d)", bytes, HAMMER_XBUFSIZE);
	if (bm->vs->readonly)
		return HAMMER_ERR(err, -EROFS, ~0ULL, "volume set is read-only");
	uint32_t n = ((uint32_t)bytes + 15) & ~15u;
	pthread_mutex_lock(&bm->lock);
	int rc = alloc_locked(bm, zone, n, out, err);
	pthread_mutex_unlock(&bm->lock);
	return rc;
}

/* ------------------------------------------------------------- free */
static int free_locked(struct hammer_bmap *bm, hammer_off_t off, uint32_t n,
		       struct hammer_err *err)
{
	unsigned zone = hammer_zone_of(off);
	struct hammer_volume_ondisk *root = root_hdr(bm);
	struct hammer_volume *vol;
	uint64_t phys;
	int rc = hammer_volset_xlate(bm->vs, off, n, &vol, &phys, err);
	if (rc)
		return rc;
	struct l1ref l1;
	struct l2ref l2;
	rc = layer1_get(bm, off, &l1, err);
	if (rc)
		return rc;
	rc = layer2_get(bm, off, &l1, &l2, err);
	if (rc) {
		ref_put(bm, &l1.buf);
		return rc;
	}
	uint32_t bboff = (uint32_t)(off & BBMASK);
	int64_t nfree = (int64_t)l2.v.bytes_free + n;
	const char *why = NULL;
	if (l2.v.zone != zone)
		why = "big-block not owned by the address's zone";
	else if (bboff + n > l2.v.append_off)
		why = "range beyond the big-block's append_off";
	else if (nfree > HAMMER_BIGBLOCK_SIZE)
		why = "bytes_free would exceed the big-block (double free?)";
	else if (nfree == HAMMER_BIGBLOCK_SIZE &&
		 l1.v.blocks_free >= HAMMER_BLOCKMAP_LAYER2)
		why = "layer-1 blocks_free already at its maximum";
	if (why) {
		rc = HAMMER_CORRUPT(err, l2.addr, "freeing %016llx+%u: freemap "
				    "layer-2 entry %016llx: %s (zone %u, "
				    "append_off %u, bytes_free %d)",
				    (unsigned long long)off, n,
				    (unsigned long long)l2.addr, why, l2.v.zone,
				    l2.v.append_off, l2.v.bytes_free);
		goto out;
	}
	int whole = nfree == HAMMER_BIGBLOCK_SIZE;
	struct delay_ent *fresh = NULL;
	if (whole) {
		fresh = calloc(1, sizeof(*fresh));
		if (!fresh) {
			rc = HAMMER_ERR(err, -ENOMEM, off, "out of memory");
			goto out;
		}
		rc = hammer_buffer_modify(bm->bc, l1.buf, l1.p, sizeof(l1.v));
	}
	if (!rc)
		rc = hammer_buffer_modify(bm->bc, l2.buf, l2.p, sizeof(l2.v));
	if (rc) {
		free(fresh);
		rc = HAMMER_ERR(err, rc, l2.addr, "cannot log the change of "
				"freemap entry %016llx", (unsigned long long)l2.addr);
		goto out;
	}
	l2.v.bytes_free = (int32_t)nfree;
	if (whole) {
		l2.v.zone = HAMMER_ZONE_FREE_INDEX;
		l2.v.append_off = 0;
		l1.v.blocks_free++;
		layer1_store(bm, &l1);
		root->vol0_stat_freebigblocks++;
		delay_set(bm, fresh, hammer_xlate_zone(off & ~BBMASK,
				HAMMER_ZONE_RAW_BUFFER_INDEX), zone);
		bm->st.bigblocks_freed++;
	}
	layer2_store(bm, &l2);
	bm->st.frees++;
	bm->st.bytes_freed += n;
out:
	ref_put(bm, &l2.buf);
	ref_put(bm, &l1.buf);
	return rc;
}

int hammer_blockmap_free(struct hammer_bmap *bm, hammer_off_t off, int bytes,
			 struct hammer_err *err)
{
	if (bytes == 0)
		return 0;
	unsigned zone = hammer_zone_of(off);
	if (zone < HAMMER_ZONE_BTREE_INDEX || zone > HAMMER_ZONE_SMALL_DATA_INDEX)
		return HAMMER_ERR(err, -EINVAL, off, "cannot free %016llx: zone %u "
				  "is not an allocation zone",
				  (unsigned long long)off, zone);
	if (bytes < 0 || bytes > HAMMER_XBUFSIZE)
		return HAMMER_ERR(err, -EINVAL, off, "cannot free %d bytes", bytes);
	uint32_t n = ((uint32_t)bytes + 15) & ~15u;
	if ((off ^ (off + n - 1)) & ~BBMASK)
		return HAMMER_ERR(err, -EINVAL, off, "free of %016llx+%u crosses a "
				  "big-block", (unsigned long long)off, n);
	if (bm->vs->readonly)
		return HAMMER_ERR(err, -EROFS, off, "volume set is read-only");
	pthread_mutex_lock(&bm->lock);
	int rc = free_locked(bm, off, n, err);
	pthread_mutex_unlock(&bm->lock);
	return rc;
}

int hammer_blockmap_advance(struct hammer_bmap *bm, uint64_t done)
{
	int released = 0;
	pthread_mutex_lock(&bm->lock);
	if (done + 1 > bm->seq)
		bm->seq = done + 1;
	struct delay_ent *e = bm->dhead;
	while (e && (int64_t)(e->stamp - done) <= 0) {
		struct delay_ent *nx = e->next;
		/* stale cached contents must not outlive the big-block */
		if (hammer_bufcache_invalidate(bm->bc, e->base, BB) == 0) {
			delay_remove(bm, e);
			bm->st.released++;
			released++;
		} else {
			delay_set(bm, NULL, e->base, e->zone);	/* retry later */
		}
		e = nx;
	}
	pthread_mutex_unlock(&bm->lock);
	return released;
}

/* ----------------------------------------------------------- lookup */
int hammer_blockmap_lookup(struct hammer_bmap *bm, hammer_off_t off,
			   struct hammer_blockmap_info *info,
			   struct hammer_err *err)
{
	unsigned zone = hammer_zone_of(off);
	memset(info, 0, sizeof(*info));
	if (zone != HAMMER_ZONE_RAW_BUFFER_INDEX &&
	    zone != HAMMER_ZONE_FREEMAP_INDEX && zone < HAMMER_ZONE_BTREE_INDEX)
		return HAMMER_ERR(err, -EINVAL, off, "%016llx: zone %u has no "
				  "freemap entry", (unsigned long long)off, zone);
	struct hammer_volume *vol;
	uint64_t phys;
	int rc = hammer_volset_xlate(bm->vs, off, 1, &vol, &phys, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&bm->lock);
	struct l1ref l1;
	struct l2ref l2;
	rc = layer1_get(bm, off, &l1, err);
	if (rc)
		goto out;
	rc = layer2_get(bm, off, &l1, &l2, err);
	ref_put(bm, &l1.buf);
	if (rc)
		goto out;
	ref_put(bm, &l2.buf);
	if (zone != HAMMER_ZONE_RAW_BUFFER_INDEX && l2.v.zone != zone) {
		rc = HAMMER_CORRUPT(err, off, "%016llx lies in a big-block owned "
				    "by zone %u (%s), not zone %u (%s); layer-2 "
				    "entry %016llx", (unsigned long long)off,
				    l2.v.zone, hammer_zone_name(l2.v.zone), zone,
				    hammer_zone_name(zone),
				    (unsigned long long)l2.addr);
		goto out;
	}
	info->layer1_off = l1.addr;
	info->layer2_off = l2.addr;
	info->layer1 = l1.v;
	info->layer2 = l2.v;
	info->delayed = delay_find(bm, hammer_xlate_zone(off & ~BBMASK,
				   HAMMER_ZONE_RAW_BUFFER_INDEX)) != NULL;
out:
	pthread_mutex_unlock(&bm->lock);
	return rc;
}
