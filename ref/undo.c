/*
 * undo.c - the UNDO/REDO FIFO writer (format digest 5.1-5.3).
 *
 * Records are laid down one at a time, each inside one 512-byte sector of
 * one 16 KB FIFO buffer, and committed (P and the sequence number move)
 * as soon as they are written.  The room check is done for the whole
 * request first, by running the same layout loop without touching a
 * buffer, so -ENOSPC appends nothing.
 */
#include "planted.h"
#include "undo.h"
#include "crc.h"
#include "inspect.h"

#include <stdlib.h>
#include <string.h>

struct hammer_undo {
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	unsigned version;
	struct hammer_fifo_geom g;
	hammer_off_t next;		/* P, in [base, alloc) */
	hammer_off_t first;
	uint32_t seq;
	struct hammer_u64map hist;	/* addr -> longest length logged this cycle */
	struct hammer_undo_stats st;
	/* the FIFO buffer pinned during one call */
	struct hammer_buffer *b;
	hammer_off_t bbase;		/* its zone-3 address */
	int padded;			/* [next, its sector end) is our PAD */
};

/* ------------------------------------------------------------ geometry */
int hammer_fifo_geom_get(struct hammer_volset *vs, struct hammer_fifo_geom *g,
			 struct hammer_err *err)
{
	const struct hammer_volume_ondisk *root = hammer_volset_root(vs);
	hammer_off_t base = hammer_encode(HAMMER_ZONE_UNDO_INDEX, 0, 0);
	hammer_off_t alloc = root->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX].alloc_offset;
	uint64_t max = (uint64_t)HAMMER_UNDO_LAYER2 * HAMMER_BIGBLOCK_SIZE;
	memset(g, 0, sizeof(*g));
	if (alloc <= base || alloc - base > max || (alloc & HAMMER_BUFMASK))
		return HAMMER_CORRUPT(err, alloc, "UNDO FIFO end vol0_blockmap[3]."
				      "alloc_offset %016llx is not a 16 KB aligned "
				      "zone-3 address of at most %d big-blocks",
				      (unsigned long long)alloc, HAMMER_UNDO_LAYER2);
	g->base = base;
	g->alloc = alloc;
	g->size = alloc - base;
	g->nbb = (unsigned)((g->size + HAMMER_BIGBLOCK_MASK64) >> HAMMER_BIGBLOCK_BITS);
	g->bound = hammer_fifo_boundary(vs->version);
	for (unsigned i = 0; i < g->nbb; i++) {
		hammer_off_t z2 = root->vol0_undo_array[i];
		struct hammer_volume *vol;
		uint64_t phys;
		struct hammer_err e = { 0 };
		if (hammer_zone_of(z2) != HAMMER_ZONE_RAW_BUFFER_INDEX ||
		    (z2 & HAMMER_BIGBLOCK_MASK64) ||
		    hammer_volset_xlate(vs, z2, HAMMER_BIGBLOCK_SIZE, &vol, &phys, &e))
			return HAMMER_CORRUPT(err, z2, "vol0_undo_array[%u] = %016llx "
					      "is not a zone-2 big-block inside a "
					      "volume", i, (unsigned long long)z2);
	}
	return 0;
}

int hammer_fifo_overlaps(const struct hammer_volset *vs,
			 const struct hammer_fifo_geom *g, hammer_off_t z2,
			 uint64_t len)
{
	const struct hammer_volume_ondisk *root =
		&vs->vols[HAMMER_ROOT_VOLNO]->hdr;
	uint64_t end = z2 + (len ? len : 1);
	for (unsigned i = 0; i < g->nbb; i++) {
		hammer_off_t b = root->vol0_undo_array[i];
		if (z2 < b + HAMMER_BIGBLOCK_SIZE && b < end)
			return 1;
	}
	return 0;
}

/* --------------------------------------------------------- record bytes */
static void put_head(uint8_t *p, uint16_t type, uint32_t size, uint32_t seq)
{
	struct hammer_fifo_head h = {
		.hdr_signature = HAMMER_HEAD_SIGNATURE, .hdr_type = type,
		.hdr_size = size, .hdr_seq = seq, .hdr_crc = 0,
	};
	hammer_fifo_head_swap(&h);
	/* an 8-byte PAD has room for signature, type and size only */
	memcpy(p, &h, size < sizeof(h) ? 8 : sizeof(h));
}

static void put_tail(uint8_t *p, uint16_t type, uint32_t size)
{
	struct hammer_fifo_tail t = {
		.tail_signature = HAMMER_TAIL_SIGNATURE, .tail_type = type,
		.tail_size = size,
	};
	hammer_fifo_tail_swap(&t);
	memcpy(p + size - sizeof(t), &t, sizeof(t));
}

static void set_crc(unsigned version, uint8_t *p, uint32_t size)
{
	uint32_t crc = hammer_datacrc2(version, p, HAMMER_FIFO_HEAD_CRCOFF,
				       p + sizeof(struct hammer_fifo_head),
				       size - sizeof(struct hammer_fifo_head));
	crc = htole32(crc);
	memcpy(p + HAMMER_FIFO_HEAD_CRCOFF, &crc, 4);
}

/* PADs carry no sequence number and no CRC; an 8-byte one is all head. */
static void put_pad(uint8_t *p, uint32_t size)
{
	put_head(p, HAMMER_HEAD_TYPE_PAD, size, 0);
	if (size > 8) {
		memset(p + 8, 0, size - 8);
		put_tail(p, HAMMER_HEAD_TYPE_PAD, size);
	}
}

/* A fresh 16 KB buffer: 512-byte DUMMYs numbered from seq. */
static void format_dummies(unsigned version, uint8_t *buf, uint32_t seq)
{
	memset(buf, 0, HAMMER_BUFSIZE);
	for (uint32_t i = 0; i < HAMMER_BUFSIZE; i += HAMMER_UNDO_ALIGN) {
		uint8_t *p = buf + i;
		put_head(p, HAMMER_HEAD_TYPE_DUMMY, HAMMER_UNDO_ALIGN, seq++);
		put_tail(p, HAMMER_HEAD_TYPE_DUMMY, HAMMER_UNDO_ALIGN);
		set_crc(version, p, HAMMER_UNDO_ALIGN);
	}
}

/* ------------------------------------------------------------- writer */
static uint64_t used_bytes(const struct hammer_undo *u)
{
	return u->next >= u->first ? u->next - u->first
				   : u->g.size - (u->first - u->next);
}

uint64_t hammer_undo_free_bytes(const struct hammer_undo *u)
{
	uint64_t f = u->g.size - used_bytes(u);
	return f > HAMMER_UNDO_MARGIN ? f - HAMMER_UNDO_MARGIN : 0;
}

uint64_t hammer_undo_size(const struct hammer_undo *u) { return u->g.size; }
hammer_off_t hammer_undo_append_point(const struct hammer_undo *u) { return u->next; }
hammer_off_t hammer_undo_first(const struct hammer_undo *u) { return u->first; }
uint32_t hammer_undo_next_seq(const struct hammer_undo *u) { return u->seq; }

void hammer_undo_set_first(struct hammer_undo *u, hammer_off_t first)
{
	if (first == u->g.alloc)
		first = u->g.base;
	u->first = first;
}

void hammer_undo_stats(const struct hammer_undo *u, struct hammer_undo_stats *st)
{
	*st = u->st;
}

void hammer_undo_seal(struct hammer_undo *u)
{
	uint32_t off = (uint32_t)(u->next & HAMMER_UNDO_MASK);
	uint32_t room = HAMMER_UNDO_ALIGN - off;
	/*
	 * Only over a PAD this writer laid after its last record (a FIFO
	 * opened mid-sector may hold anything there), and never into the
	 * margin before first.
	 */
	if (!off || !u->padded ||
	    room + HAMMER_UNDO_MARGIN > u->g.size - used_bytes(u))
		return;
	u->next += room;
	if (u->next == u->g.alloc)
		u->next = u->g.base;
	u->st.wraps += u->next == u->g.base;
	u->padded = 0;
}

void hammer_undo_cycle_end(struct hammer_undo *u)
{
	if (PLANTED(BAD_SEQ))
		u->seq++;	/* the next cycle starts out of sequence */
	/* keep a modest table for the next cycle, drop a big one */
	if (u->hist.cap > 65536) {
		hammer_u64map_free(&u->hist);
	} else if (u->hist.count) {
		memset(u->hist.used, 0, u->hist.cap);
		u->hist.count = 0;
	}
}

/*
 * A FIFO that ends in the middle of a sector: if the rest of that sector
 * is the PAD a writer laid after its last record (ours always does), start
 * appending at the next sector.  Appending in place would write the sector
 * again, and a write may be torn or garbled: the records before P in it,
 * which recovery may still need (the REDOs of fast fsyncs, whose range the
 * header does not cover yet), would be lost with it.  Without such a PAD
 * (another writer's FIFO) the sector is continued, as DragonFly does.
 */
static int seal_found_pad(struct hammer_undo *u, struct hammer_err *err)
{
	uint32_t off = (uint32_t)(u->next & HAMMER_UNDO_MASK);
	if (!off)
		return 0;
	uint32_t room = HAMMER_UNDO_ALIGN - off;
	uint8_t want[HAMMER_UNDO_ALIGN];
	put_pad(want, room);
	hammer_off_t base = u->next & ~(hammer_off_t)HAMMER_BUFMASK;
	struct hammer_buffer *b;
	void *data;
	int rc = hammer_buffer_get(u->bc, base, HAMMER_BUFSIZE, 0, &b, &data, err);
	if (rc)
		return rc;
	int pad = !memcmp((const uint8_t *)data + (u->next & HAMMER_BUFMASK), want,
			  room);
	hammer_buffer_put(u->bc, b);
	if (pad) {
		u->padded = 1;
		hammer_undo_seal(u);
	}
	return 0;
}

int hammer_undo_open(struct hammer_volset *vs, struct hammer_bufcache *bc,
		     struct hammer_undo **out, struct hammer_err *err)
{
	*out = NULL;
	if (vs->readonly)
		return HAMMER_ERR(err, -EROFS, ~0ULL, "cannot write the UNDO FIFO of "
				  "a read-only volume set");
	struct hammer_undo *u = calloc(1, sizeof(*u));
	if (!u)
		return HAMMER_ERR(err, -ENOMEM, ~0ULL, "out of memory");
	u->vs = vs;
	u->bc = bc;
	u->version = vs->version;
	hammer_u64map_init(&u->hist);
	int rc = hammer_fifo_geom_get(vs, &u->g, err);
	if (rc)
		goto fail;
	const struct hammer_blockmap *z3 =
		&hammer_volset_root(vs)->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	hammer_off_t f = z3->first_offset, n = z3->next_offset;
	if (f < u->g.base || f > u->g.alloc || n < u->g.base || n > u->g.alloc ||
	    ((f | n) & HAMMER_HEAD_ALIGN_MASK)) {
		rc = HAMMER_CORRUPT(err, n, "UNDO FIFO range first %016llx next "
				    "%016llx is not inside [%016llx, %016llx]",
				    (unsigned long long)f, (unsigned long long)n,
				    (unsigned long long)u->g.base,
				    (unsigned long long)u->g.alloc);
		goto fail;
	}
	u->first = f == u->g.alloc ? u->g.base : f;
	u->next = n == u->g.alloc ? u->g.base : n;
	uint32_t seq;
	struct hammer_err e = { 0 };
	rc = hammer_fifo_seq_before(vs, bc, u->next, &seq, &e);
	if (rc == 0) {
		u->seq = seq + 1;
	} else if (rc == -ENOENT || (rc == -EUCLEAN && u->version < 4)) {
		u->seq = 0;	/* nothing to continue */
		rc = 0;
	} else {
		*err = e;
		goto fail;
	}
	rc = seal_found_pad(u, err);
	if (rc)
		goto fail;
	*out = u;
	return 0;
fail:
	hammer_undo_close(u);
	return rc;
}

static void release(struct hammer_undo *u)
{
	if (u->b) {
		hammer_buffer_put(u->bc, u->b);
		u->b = NULL;
	}
}

void hammer_undo_close(struct hammer_undo *u)
{
	if (!u)
		return;
	release(u);
	hammer_u64map_free(&u->hist);
	free(u);
}

/*
 * Pin the FIFO buffer holding p, marked dirty.  Entering a buffer at its
 * first byte means everything in it is stale: pre-fill it with DUMMYs
 * instead of reading it.
 */
static int buffer_at(struct hammer_undo *u, hammer_off_t p, uint8_t **ptr,
		     struct hammer_err *err)
{
	hammer_off_t base = p & ~(hammer_off_t)HAMMER_BUFMASK;
	int fresh = (p & HAMMER_BUFMASK) == 0;
	if (u->b && u->bbase == base && !fresh) {
		*ptr = u->b->data + (p & HAMMER_BUFMASK);
		return 0;
	}
	release(u);
	struct hammer_buffer *b;
	void *data;
	int rc = hammer_buffer_get(u->bc, base, HAMMER_BUFSIZE,
				   fresh ? HAMMER_BUF_NEW : 0, &b, &data, err);
	if (rc)
		return rc;
	if (b->kind != HAMMER_BUF_UNDO) {
		/* modifying it would call the UNDO hook on the FIFO itself */
		hammer_buffer_put(u->bc, b);
		return HAMMER_ERR(err, -EINVAL, p, "FIFO buffer %016llx is cached "
				  "as meta-data (named by a zone-2 address first)",
				  (unsigned long long)base);
	}
	/*
	 * A fresh buffer is all new (DUMMY prefill).  Otherwise only the
	 * sectors records go into are announced, one by one: a sector holding
	 * committed records is never written again, so a torn or garbled FIFO
	 * write cannot damage what recovery needs.
	 */
	rc = hammer_buffer_modify(u->bc, b, b->data, fresh ? HAMMER_BUFSIZE : 0);
	if (rc) {
		hammer_buffer_put(u->bc, b);
		return HAMMER_ERR(err, rc, p, "cannot modify FIFO buffer %016llx",
				  (unsigned long long)base);
	}
	if (fresh) {
		format_dummies(u->version, b->data, u->seq ^ HAMMER_SEQ_DUMMY_XOR);
		u->st.fresh_buffers++;
	}
	u->b = b;
	u->bbase = base;
	*ptr = b->data + (p & HAMMER_BUFMASK);
	return 0;
}

/* One append request: a run of UNDO or REDO records. */
struct emit {
	uint16_t type;			/* UNDO or REDO */
	uint32_t overhead;		/* head + fixed part + tail */
	hammer_off_t target;		/* UNDO: address; REDO: file offset */
	const uint8_t *data;		/* payload bytes (NULL: none) */
	size_t len;
	int split16k;			/* UNDO zone 2: payload inside a 16 KB buffer */
	const struct hammer_redo_rec *redo;
	hammer_off_t where;		/* first real record */
};

static hammer_off_t advance(const struct hammer_undo *u, hammer_off_t p,
			    uint32_t n)
{
	p += n;
	return p == u->g.alloc ? u->g.base : p;
}

/*
 * Lay out the request from P.  dry: only count the FIFO bytes it takes
 * (*consumed).  Otherwise write and commit record by record.
 */
static int emit_run(struct hammer_undo *u, struct emit *e, int dry,
		    uint64_t *consumed, struct hammer_err *err)
{
	hammer_off_t p = u->next;
	uint64_t used = 0;
	size_t left = e->len, done = 0;
	int first = 1;
	e->where = HAMMER_OFF_BAD;
	for (;;) {
		uint32_t room = HAMMER_UNDO_ALIGN - (uint32_t)(p & HAMMER_UNDO_MASK);
		uint8_t *ptr = NULL;
		if (!dry) {
			int rc = buffer_at(u, p, &ptr, err);
			if (rc)
				return rc;
		}
		if (room <= e->overhead) {
			/* no payload fits: PAD to the sector (never at its start) */
			hammer_off_t np = advance(u, p, room);
			if (!dry) {
				hammer_buffer_modify(u->bc, u->b, ptr, room);
				put_pad(ptr, room);
				u->st.pad_records++;
				u->st.wraps += np == u->g.base;
				u->next = np;
				u->padded = 0;
			}
			used += room;
			p = np;
			continue;
		}
		size_t n = 0;
		if (e->data) {
			n = room - e->overhead;
			if (n > left)
				n = left;
			if (e->split16k) {
				size_t tob = HAMMER_BUFSIZE -
					     (size_t)((e->target + done) & HAMMER_BUFMASK);
				if (n > tob)
					n = tob;
			}
		}
		uint32_t size = (uint32_t)HAMMER_HEAD_DOALIGN(n) + e->overhead;
		if (!dry) {
			hammer_buffer_modify(u->bc, u->b, ptr, room);
			memset(ptr, 0, size);
			put_head(ptr, e->type, size, u->seq);
			if (e->type == HAMMER_HEAD_TYPE_UNDO) {
				struct hammer_fifo_undo r;
				memcpy(&r, ptr, sizeof(r.head));
				r.undo_offset = htole64(e->target + done);
				r.undo_data_bytes = (int32_t)htole32((uint32_t)n);
				r.undo_reserved01 = 0;
				memcpy(ptr + sizeof(r.head), (uint8_t *)&r + sizeof(r.head),
				       sizeof(r) - sizeof(r.head));
				memcpy(ptr + sizeof(r), e->data + done, n);
				u->st.undo_records++;
				u->st.undo_bytes += n;
			} else {
				struct hammer_fifo_redo r;
				memset(&r, 0, sizeof(r));
				r.redo_objid = (int64_t)htole64((uint64_t)e->redo->objid);
				r.redo_offset = htole64(e->target + done);
				r.redo_data_bytes = (int32_t)htole32((uint32_t)
						    (e->data ? n : e->len));
				r.redo_flags = htole32(e->redo->flags);
				r.redo_localization = htole32(e->redo->localization);
				memcpy(ptr + sizeof(r.head), (uint8_t *)&r + sizeof(r.head),
				       sizeof(r) - sizeof(r.head));
				if (n)
					memcpy(ptr + sizeof(r), e->data + done, n);
				u->st.redo_records++;
			}
			put_tail(ptr, e->type, size);
			if (!(PLANTED(CRC_UNSET) && u->seq % 5 == 0))
				set_crc(u->version, ptr, size);
			if (first)
				e->where = p;
			u->seq++;
			hammer_off_t np = advance(u, p, size);
			u->st.wraps += np == u->g.base;
			u->next = np;
			/* leftover up to the sector: a PAD the next record overwrites */
			uint32_t rest = room - size;
			if (rest)
				put_pad(ptr + size, rest);
			u->padded = rest != 0;
		}
		first = 0;
		used += size;
		p = advance(u, p, size);
		left -= n;
		done += n;
		if (left == 0 || !e->data)
			break;
	}
	if (consumed)
		*consumed = used;
	return 0;
}

static int append(struct hammer_undo *u, struct emit *e, struct hammer_err *err)
{
	uint64_t need;
	emit_run(u, e, 1, &need, err);
	uint64_t avail = u->g.size - used_bytes(u);
	if (need + HAMMER_UNDO_MARGIN > avail)
		return HAMMER_ERR(err, -ENOSPC, u->next, "UNDO FIFO full: %llu bytes "
				  "needed at %016llx, %llu free (first_offset %016llx)",
				  (unsigned long long)need, (unsigned long long)u->next,
				  (unsigned long long)(avail > HAMMER_UNDO_MARGIN ?
						       avail - HAMMER_UNDO_MARGIN : 0),
				  (unsigned long long)u->first);
	int rc = emit_run(u, e, 0, NULL, err);
	release(u);
	return rc;
}

int hammer_undo_log(struct hammer_undo *u, hammer_off_t addr, const void *old,
		    size_t len, struct hammer_err *err)
{
	if (len == 0)
		return 0;
	unsigned zone = hammer_zone_of(addr);
	struct emit e = {
		.type = HAMMER_HEAD_TYPE_UNDO,
		.overhead = (uint32_t)HAMMER_UNDO_TAIL_OVERHEAD,
		.target = addr, .data = old, .len = len,
	};
	if (!old)
		return HAMMER_ERR(err, -EINVAL, addr, "UNDO of %016llx without its "
				  "bytes", (unsigned long long)addr);
	if (zone == HAMMER_ZONE_RAW_VOLUME_INDEX) {
		unsigned vol = hammer_vol_of(addr);
		uint64_t off = hammer_short_of(addr);
		if ((int)vol >= u->vs->count || !u->vs->vols[vol] ||
		    off > sizeof(struct hammer_volume_ondisk) ||
		    len > sizeof(struct hammer_volume_ondisk) - off)
			return HAMMER_ERR(err, -EINVAL, addr, "UNDO %016llx+%zu is not "
					  "inside a volume header",
					  (unsigned long long)addr, len);
	} else if (zone == HAMMER_ZONE_RAW_BUFFER_INDEX) {
		struct hammer_volume *vol;
		uint64_t phys;
		struct hammer_err x = { 0 };
		if (hammer_volset_xlate(u->vs, addr, len, &vol, &phys, &x) ||
		    hammer_fifo_overlaps(u->vs, &u->g, addr, len))
			return HAMMER_ERR(err, -EINVAL, addr, "UNDO %016llx+%zu is not "
					  "inside a volume or lies in the FIFO",
					  (unsigned long long)addr, len);
		e.split16k = 1;
	} else {
		return HAMMER_ERR(err, -EINVAL, addr, "UNDO address %016llx is in zone "
				  "%u (only 1 and 2 are logged)",
				  (unsigned long long)addr, zone);
	}
	if (hammer_u64map_has(&u->hist, addr)) {
		uint64_t *v = hammer_u64map_get(&u->hist, addr, NULL);
		if (v && *v >= len) {
			u->st.suppressed++;
			return 0;
		}
	}
	int rc = append(u, &e, err);
	if (rc)
		return rc;
	uint64_t *v = hammer_u64map_get(&u->hist, addr, NULL);
	if (v && *v < len)
		*v = len;	/* no memory: only costs a duplicate later */
	return 0;
}

size_t hammer_undo_redo_room(const struct hammer_undo *u)
{
	uint32_t room = HAMMER_UNDO_ALIGN - (uint32_t)(u->next & HAMMER_UNDO_MASK);
	if (room <= HAMMER_REDO_TAIL_OVERHEAD)
		room = HAMMER_UNDO_ALIGN;
	return room - HAMMER_REDO_TAIL_OVERHEAD;
}

int hammer_undo_redo(struct hammer_undo *u, const struct hammer_redo_rec *r,
		     const void *payload, size_t len, hammer_off_t *where,
		     struct hammer_err *err)
{
	uint32_t f = r->flags;
	if (f != HAMMER_REDO_WRITE && f != HAMMER_REDO_TRUNC &&
	    f != HAMMER_REDO_TERM_WRITE && f != HAMMER_REDO_TERM_TRUNC &&
	    f != HAMMER_REDO_SYNC)
		return HAMMER_ERR(err, -EINVAL, r->offset, "REDO flags %08x are not "
				  "one of WRITE, TRUNC, TERM_WRITE, TERM_TRUNC, SYNC", f);
	if (f == HAMMER_REDO_WRITE ? (len && !payload) : payload != NULL)
		return HAMMER_ERR(err, -EINVAL, r->offset, "REDO %08x: only WRITE "
				  "carries bytes, and it needs them", f);
	if (len > INT32_MAX)
		return HAMMER_ERR(err, -EINVAL, r->offset, "REDO of %zu bytes", len);
	if (f == HAMMER_REDO_SYNC &&
	    (r->offset < u->g.base || r->offset >= u->g.alloc ||
	     (r->offset & HAMMER_HEAD_ALIGN_MASK)))
		return HAMMER_ERR(err, -EINVAL, r->offset, "REDO_SYNC must name a "
				  "FIFO record, not %016llx",
				  (unsigned long long)r->offset);
	static const uint8_t none[1];
	struct emit e = {
		.type = HAMMER_HEAD_TYPE_REDO,
		.overhead = (uint32_t)HAMMER_REDO_TAIL_OVERHEAD,
		.target = r->offset, .len = len, .redo = r,
		/* a zero-length WRITE still is one record (with no bytes) */
		.data = f == HAMMER_REDO_WRITE ? (payload ? payload : none) : NULL,
	};
	int rc = append(u, &e, err);
	if (!rc && where)
		*where = e.where;
	return rc;
}
