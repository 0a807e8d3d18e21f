/*
 * recover.c - stage 1 UNDO recovery and the parsing side of stage 2 REDO
 * recovery (format digest 5.4, 5.5).
 *
 * The FIFO is read through the buffer cache with zone-3 addresses (so its
 * buffers are UNDO-kind and never trigger the UNDO hook).  Every walk is
 * bounded by the FIFO size, every record goes through
 * hammer_fifo_rec_check(), and walking backwards finds a record from its
 * tail (an 8-byte PAD's "tail" is its head).
 *
 * Stage 1 makes two backward passes over [F, L): the first validates every
 * record and computes the restored volume headers on encoded copies, the
 * second applies the zone-2 UNDOs; the headers are installed only after.
 * So a refusal changes nothing, in memory or on disk.  Only the 512-byte
 * sectors whose bytes an UNDO changes are announced to the cache (and so
 * written): see apply_zone2() for why that keeps recovery restartable.
 */
#include "undo.h"
#include "blockmap.h"
#include "crc.h"
#include "inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ reading */
struct fifo {
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	struct hammer_fifo_geom g;
	unsigned version;
	struct hammer_buffer *b;	/* pinned FIFO buffer */
	hammer_off_t bbase;
};

static int fifo_init(struct fifo *f, struct hammer_volset *vs,
		     struct hammer_bufcache *bc, struct hammer_err *err)
{
	memset(f, 0, sizeof(*f));
	f->vs = vs;
	f->bc = bc;
	f->version = vs->version;
	return hammer_fifo_geom_get(vs, &f->g, err);
}

static void fifo_done(struct fifo *f)
{
	if (f->b)
		hammer_buffer_put(f->bc, f->b);
	f->b = NULL;
}

static hammer_off_t norm(const struct fifo *f, hammer_off_t p)
{
	return p == f->g.alloc ? f->g.base : p;
}

/* Bytes from a forward to b, going round the circle. */
static uint64_t dist(const struct fifo *f, hammer_off_t a, hammer_off_t b)
{
	return b >= a ? b - a : f->g.size - (a - b);
}

static int in_fifo(const struct fifo *f, hammer_off_t p)
{
	return p >= f->g.base && p <= f->g.alloc && !(p & HAMMER_HEAD_ALIGN_MASK);
}

/* Pointer to FIFO byte p (p < alloc); valid until the next call. */
static int fifo_ptr(struct fifo *f, hammer_off_t p, const uint8_t **out,
		    struct hammer_err *err)
{
	hammer_off_t base = p & ~(hammer_off_t)HAMMER_BUFMASK;
	if (!f->b || f->bbase != base) {
		fifo_done(f);
		void *data;
		int rc = hammer_buffer_get(f->bc, base, HAMMER_BUFSIZE, 0, &f->b,
					   &data, err);
		if (rc) {
			f->b = NULL;
			return rc;
		}
		f->bbase = base;
	}
	*out = f->b->data + (p & HAMMER_BUFMASK);
	return 0;
}

/* The record starting at p (p normalised), checked. */
static int rec_at(struct fifo *f, hammer_off_t p, struct hammer_fifo_rec *rec,
		  const uint8_t **ptr, struct hammer_err *err)
{
	uint32_t avail = f->g.bound - (uint32_t)(p & (f->g.bound - 1));
	int rc = fifo_ptr(f, p, ptr, err);
	if (rc)
		return rc;
	return hammer_fifo_rec_check(f->version, p, *ptr, avail, rec, err);
}

/* The record ending at `end`, checked; *start gets its address. */
static int rec_before(struct fifo *f, hammer_off_t end, hammer_off_t *start,
		      struct hammer_fifo_rec *rec, const uint8_t **ptr,
		      struct hammer_err *err)
{
	hammer_off_t e = end == f->g.base ? f->g.alloc : end;
	const uint8_t *t;
	int rc = fifo_ptr(f, e - 8, &t, err);
	if (rc)
		return rc;
	struct hammer_fifo_tail tl;
	memcpy(&tl, t, sizeof(tl));
	hammer_fifo_tail_swap(&tl);
	uint32_t size;
	if (tl.tail_signature == HAMMER_HEAD_SIGNATURE &&
	    tl.tail_type == HAMMER_HEAD_TYPE_PAD && tl.tail_size == 8)
		size = 8;		/* an 8-byte PAD: head and tail in one */
	else if (tl.tail_signature == HAMMER_TAIL_SIGNATURE)
		size = tl.tail_size;
	else
		return HAMMER_CORRUPT(err, e - 8, "no FIFO record ends at %016llx "
				      "(bad tail signature %04x)",
				      (unsigned long long)e, tl.tail_signature);
	/* the record must start inside the boundary unit holding e - 8 */
	uint32_t back = (uint32_t)((e - 1) & (f->g.bound - 1)) + 1;
	if (size < 8 || (size & HAMMER_HEAD_ALIGN_MASK) || size > back)
		return HAMMER_CORRUPT(err, e - 8, "FIFO record ending at %016llx "
				      "has an illegal tail size %u",
				      (unsigned long long)e, size);
	*start = e - size;
	rc = rec_at(f, *start, rec, ptr, err);
	if (rc)
		return rc;
	if (rec->head.hdr_size != size)
		return HAMMER_CORRUPT(err, *start, "FIFO record %016llx: head size "
				      "%u, tail size %u", (unsigned long long)*start,
				      rec->head.hdr_size, size);
	return 0;
}

/* Newest non-PAD record ending at or before end; -ENOENT if none. */
static int seq_before(struct fifo *f, hammer_off_t end, uint32_t *seq,
		      struct hammer_err *err)
{
	hammer_off_t p = norm(f, end);
	uint64_t walked = 0;
	while (walked < f->g.size) {
		struct hammer_fifo_rec rec;
		const uint8_t *ptr;
		hammer_off_t s = 0;	/* (set whenever rec_before succeeds) */
		int rc = rec_before(f, p, &s, &rec, &ptr, err);
		if (rc)
			return rc;
		if (rec.head.hdr_type != HAMMER_HEAD_TYPE_PAD) {
			*seq = rec.head.hdr_seq;
			return 0;
		}
		walked += rec.head.hdr_size;
		p = s;
	}
	return HAMMER_ERR(err, -ENOENT, end, "the UNDO FIFO holds no sequenced "
			  "record");
}

int hammer_fifo_seq_before(struct hammer_volset *vs, struct hammer_bufcache *bc,
			   hammer_off_t end, uint32_t *seq,
			   struct hammer_err *err)
{
	struct fifo f;
	int rc = fifo_init(&f, vs, bc, err);
	if (rc)
		return rc;
	if (!in_fifo(&f, end))
		return HAMMER_ERR(err, -EINVAL, end, "%016llx is not a FIFO "
				  "position", (unsigned long long)end);
	rc = seq_before(&f, end, seq, err);
	fifo_done(&f);
	return rc;
}

/* ------------------------------------------------------------ stage 1 */
struct s1 {
	struct fifo f;
	struct hammer_recover_info *info;
	hammer_off_t F, L;
	/* encoded headers being restored (pass 1), by volume */
	uint8_t *img[HAMMER_MAX_VOLUMES];
	struct hammer_volume_ondisk *hdr;		/* decoded, [vol] */
};

/* Check one UNDO's target; corrupt -> -EUCLEAN naming the record. */
static int undo_target_ok(struct s1 *s, hammer_off_t at,
			  const struct hammer_fifo_undo *u,
			  struct hammer_err *err)
{
	hammer_off_t a = u->undo_offset;
	uint32_t n = (uint32_t)u->undo_data_bytes;
	unsigned zone = hammer_zone_of(a), vol = hammer_vol_of(a);
	struct hammer_volset *vs = s->f.vs;
	if (zone == HAMMER_ZONE_RAW_VOLUME_INDEX) {
		uint64_t off = hammer_short_of(a);
		if ((int)vol >= vs->count || !vs->vols[vol])
			return HAMMER_CORRUPT(err, at, "UNDO record %016llx: volume "
					      "header of volume %u, which does not "
					      "exist", (unsigned long long)at, vol);
		if (off > sizeof(struct hammer_volume_ondisk) ||
		    n > sizeof(struct hammer_volume_ondisk) - off)
			return HAMMER_CORRUPT(err, at, "UNDO record %016llx: %016llx+%u "
					      "is not inside the volume header",
					      (unsigned long long)at,
					      (unsigned long long)a, n);
		return 0;
	}
	if (zone != HAMMER_ZONE_RAW_BUFFER_INDEX)
		return HAMMER_CORRUPT(err, at, "UNDO record %016llx: target "
				      "%016llx is in zone %u (only 1 and 2 are "
				      "undone)", (unsigned long long)at,
				      (unsigned long long)a, zone);
	if ((a & HAMMER_BUFMASK) + n > HAMMER_BUFSIZE)
		return HAMMER_CORRUPT(err, at, "UNDO record %016llx: %016llx+%u "
				      "crosses a 16 KB buffer",
				      (unsigned long long)at, (unsigned long long)a, n);
	struct hammer_volume *v;
	uint64_t phys;
	struct hammer_err x = { 0 };
	if (hammer_volset_xlate(vs, a, n, &v, &phys, &x))
		return HAMMER_CORRUPT(err, at, "UNDO record %016llx: %016llx+%u "
				      "lies outside every volume (%s)",
				      (unsigned long long)at, (unsigned long long)a,
				      n, x.msg);
	if (hammer_fifo_overlaps(vs, &s->f.g, a, n))
		return HAMMER_CORRUPT(err, at, "UNDO record %016llx: %016llx+%u "
				      "lies in the UNDO FIFO itself",
				      (unsigned long long)at, (unsigned long long)a, n);
	return 0;
}

/* Write n bytes into the cached buffer at zone-2 address a. */
static int apply_zone2(struct s1 *s, hammer_off_t a, const uint8_t *src,
		       uint32_t n, struct hammer_err *err)
{
	struct hammer_buffer *b;
	void *p;
	struct hammer_err x = { 0 };
	int rc = hammer_buffer_get(s->f.bc, a, n, 0, &b, &p, &x);
	if (rc == -ENOBUFS && !s->f.vs->readonly) {
		/* write what is restored so far: the FIFO and the header are
		 * untouched, so a crash now replays the same UNDOs */
		fifo_done(&s->f);
		rc = hammer_bufcache_flush_kind(s->f.bc, HAMMER_BUF_META, err);
		if (rc)
			return rc;
		memset(&x, 0, sizeof(x));
		rc = hammer_buffer_get(s->f.bc, a, n, 0, &b, &p, &x);
	}
	if (rc) {
		if (rc == -ENOBUFS)
			return HAMMER_ERR(err, rc, a, "recovery: the buffer cache "
					  "cannot hold the restored buffers%s (%s)",
					  s->f.vs->readonly ? " of a read-only "
					  "mount" : "", x.msg);
		*err = x;
		return rc;
	}
	/*
	 * Announce (and so write back) only the sectors whose bytes change.
	 * The last records of [F, L) may be the head of a split UNDO whose
	 * tail the crash tore off the FIFO: they cover part of a sector
	 * only, and the bytes they restore are the ones on disk (the
	 * meta-data of a cycle whose FIFO write did not complete was never
	 * written).  Writing such a sector would expose its uncovered bytes
	 * to a torn or garbled write that no UNDO in [F, L) can repair, so a
	 * crash during recovery could not be recovered again.  A sector whose
	 * bytes do change was changed by a cycle whose UNDO covers all of
	 * it (the flusher logs whole sectors, before the change), inside
	 * [F, L): writing it is safe to repeat.
	 */
	uint32_t done = 0;
	int changed = 0;
	while (done < n) {
		uint32_t in = (uint32_t)((a + done) & (HAMMER_SECTOR_SIZE - 1));
		uint32_t len = HAMMER_SECTOR_SIZE - in;
		if (len > n - done)
			len = n - done;
		uint8_t *q = (uint8_t *)p + done;
		if (memcmp(q, src + done, len)) {
			rc = hammer_buffer_modify(s->f.bc, b, q, len);
			if (rc) {
				hammer_buffer_put(s->f.bc, b);
				return HAMMER_ERR(err, rc, a + done, "recovery: buffer "
						  "%016llx refused the change (is "
						  "the UNDO hook installed?)",
						  (unsigned long long)(a + done));
			}
			memcpy(q, src + done, len);
			changed = 1;
		}
		done += len;
	}
	if (changed)
		b->verified = 0;	/* contents changed under any earlier check */
	hammer_buffer_put(s->f.bc, b);
	return 0;
}

/*
 * Decode a header image being restored (after every zone-1 UNDO, so the
 * record that breaks it is the one named): it must stay the same volume,
 * and the root header must leave the FIFO where it is.
 */
static int s1_check_header(struct s1 *s, int v, hammer_off_t at,
			   struct hammer_volume_ondisk *h, struct hammer_err *err)
{
	struct hammer_volset *vs = s->f.vs;
	struct hammer_volume *vol = vs->vols[v];
	struct hammer_err x = { 0 };
	if (hammer_volume_header_decode(s->img[v], vol->bd, h, &x))
		return HAMMER_CORRUPT(err, at, "UNDO record %016llx: restoring the "
				      "header of volume %d gives a bad header: %s",
				      (unsigned long long)at, v, x.msg);
	if (h->vol_no != v || h->vol_count != vs->count ||
	    h->vol_version != vs->version ||
	    memcmp(&h->vol_fsid, &vol->hdr.vol_fsid, sizeof(h->vol_fsid)))
		return HAMMER_CORRUPT(err, at, "UNDO record %016llx: restoring the "
				      "header of volume %d changes its number, "
				      "count, version or fsid",
				      (unsigned long long)at, v);
	if (v == HAMMER_ROOT_VOLNO &&
	    (h->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX].alloc_offset !=
	     vol->hdr.vol0_blockmap[HAMMER_ZONE_UNDO_INDEX].alloc_offset ||
	     memcmp(h->vol0_undo_array, vol->hdr.vol0_undo_array,
		    sizeof(h->vol0_undo_array))))
		return HAMMER_CORRUPT(err, at, "UNDO record %016llx: restoring the "
				      "root header would move the FIFO itself",
				      (unsigned long long)at);
	return 0;
}

/* One record of the backward walk; apply = 0 validates (pass 1). */
static int s1_record(struct s1 *s, hammer_off_t at,
		     const struct hammer_fifo_rec *rec, const uint8_t *ptr,
		     int apply, struct hammer_err *err)
{
	struct hammer_recover_info *info = s->info;
	if (rec->head.hdr_type == HAMMER_HEAD_TYPE_REDO &&
	    rec->u.redo.redo_flags == HAMMER_REDO_SYNC) {
		hammer_off_t e = rec->u.redo.redo_offset;
		if (e < s->f.g.base || e >= s->f.g.alloc ||
		    (e & HAMMER_HEAD_ALIGN_MASK))
			return HAMMER_CORRUPT(err, at, "REDO_SYNC record %016llx: "
					      "redo_offset %016llx is not inside "
					      "the FIFO", (unsigned long long)at,
					      (unsigned long long)e);
		/* walking backwards, the first one seen is the newest */
		if (apply && !info->redo_needed) {
			info->redo_needed = 1;
			info->redo_start = e;
		}
		return 0;
	}
	if (rec->head.hdr_type != HAMMER_HEAD_TYPE_UNDO)
		return 0;
	const struct hammer_fifo_undo *u = &rec->u.undo;
	uint32_t n = (uint32_t)u->undo_data_bytes;
	const uint8_t *src = ptr + sizeof(struct hammer_fifo_undo);
	if (!apply) {
		int rc = undo_target_ok(s, at, u, err);
		if (rc)
			return rc;
		if (hammer_zone_of(u->undo_offset) == HAMMER_ZONE_RAW_VOLUME_INDEX) {
			unsigned v = hammer_vol_of(u->undo_offset);
			if (!s->img[v]) {
				s->img[v] = malloc(HAMMER_BUFSIZE);
				if (!s->img[v])
					return HAMMER_ERR(err, -ENOMEM, at,
							  "out of memory");
				hammer_volume_header_encode(&s->f.vs->vols[v]->hdr,
							    s->img[v]);
			}
			memcpy(s->img[v] + hammer_short_of(u->undo_offset), src, n);
			return s1_check_header(s, (int)v, at, &s->hdr[v], err);
		}
		return 0;
	}
	info->undo_records++;
	info->undo_bytes += n;
	if (hammer_zone_of(u->undo_offset) != HAMMER_ZONE_RAW_BUFFER_INDEX || !n)
		return 0;	/* headers were restored in pass 1 */
	/* the buffer get below may drop our pin on the FIFO buffer */
	uint8_t tmp[HAMMER_UNDO_MAX_PAYLOAD > 512 ? HAMMER_UNDO_MAX_PAYLOAD : 512];
	const uint8_t *data = src;
	uint8_t *heap = NULL;
	if (n <= sizeof(tmp)) {
		memcpy(tmp, src, n);
		data = tmp;
	} else {
		heap = malloc(n);	/* v<4 records may be up to 16 KB */
		if (!heap)
			return HAMMER_ERR(err, -ENOMEM, at, "out of memory");
		memcpy(heap, src, n);
		data = heap;
	}
	int rc = apply_zone2(s, u->undo_offset, data, n, err);
	free(heap);
	return rc;
}

/* Walk [F, L) backwards, one pass. */
static int s1_pass(struct s1 *s, int apply, struct hammer_err *err)
{
	uint64_t total = dist(&s->f, s->F, s->L), walked = 0;
	hammer_off_t p = s->L;
	while (walked < total) {
		struct hammer_fifo_rec rec;
		const uint8_t *ptr;
		hammer_off_t start;
		int rc = rec_before(&s->f, p, &start, &rec, &ptr, err);
		if (rc)
			return rc;
		walked += rec.head.hdr_size;
		if (walked > total)
			return HAMMER_CORRUPT(err, start, "FIFO record %016llx "
					      "straddles first_offset %016llx",
					      (unsigned long long)start,
					      (unsigned long long)s->F);
		rc = s1_record(s, start, &rec, ptr, apply, err);
		if (rc)
			return rc;
		p = start;
	}
	return 0;
}

/*
 * v4+: the end of the FIFO is where the sequence breaks.  Before the
 * header's next_offset nothing may break; after it, anything may.
 */
static int s1_find_end(struct s1 *s, hammer_off_t N, struct hammer_err *err)
{
	struct fifo *f = &s->f;
	struct hammer_recover_info *info = s->info;
	uint32_t seq = 0;	/* (set whenever seq_before succeeds) */
	struct hammer_err x = { 0 };
	int rc = seq_before(f, s->F, &seq, &x);
	if (rc) {
		if (rc == -ENOENT || rc == -EUCLEAN)
			return HAMMER_CORRUPT(err, x.off, "UNDO FIFO: no sequence "
					      "number before first_offset %016llx: "
					      "%s", (unsigned long long)s->F, x.msg);
		*err = x;
		return rc;
	}
	info->first_seq = seq + 1;
	uint32_t expect = seq + 1;
	hammer_off_t p = s->F, L = s->F, lext = s->F;
	uint64_t walked = 0;
	char why[sizeof(x.msg) + 64] = "";
	hammer_off_t stop = s->F;
	for (;;) {
		if (walked >= f->g.size)
			return HAMMER_CORRUPT(err, s->F, "UNDO FIFO: the sequence "
					      "from first_offset %016llx never "
					      "breaks", (unsigned long long)s->F);
		struct hammer_fifo_rec rec;
		const uint8_t *ptr;
		memset(&x, 0, sizeof(x));
		stop = p;
		rc = rec_at(f, p, &rec, &ptr, &x);
		if (rc == -EUCLEAN) {
			snprintf(why, sizeof(why), "%s", x.msg);
			break;
		}
		if (rc) {
			*err = x;
			return rc;
		}
		uint32_t size = rec.head.hdr_size;
		if (rec.head.hdr_type != HAMMER_HEAD_TYPE_PAD) {
			if (rec.head.hdr_seq != expect) {
				snprintf(why, sizeof(why), "FIFO record %016llx has "
					 "sequence number %08x, %08x expected",
					 (unsigned long long)p, rec.head.hdr_seq,
					 expect);
				break;
			}
			expect++;
			info->records++;
			L = norm(f, p + size);
		}
		walked += size;
		p = norm(f, p + size);
		lext = p;
	}
	info->next_seq = expect;
	if (dist(f, s->F, N) > dist(f, s->F, lext))
		return HAMMER_CORRUPT(err, stop, "UNDO FIFO damaged before the "
				      "header's next_offset %016llx: %s",
				      (unsigned long long)N, why);
	s->L = L;
	return 0;
}

/* v1..3: the header's range, every record in it valid. */
static int s1_walk_old(struct s1 *s, hammer_off_t N, struct hammer_err *err)
{
	struct fifo *f = &s->f;
	uint64_t total = dist(f, s->F, N), walked = 0;
	hammer_off_t p = s->F;
	uint32_t last = 0;
	while (walked < total) {
		struct hammer_fifo_rec rec;
		const uint8_t *ptr;
		int rc = rec_at(f, p, &rec, &ptr, err);
		if (rc)
			return rc;
		walked += rec.head.hdr_size;
		if (walked > total)
			return HAMMER_CORRUPT(err, p, "FIFO record %016llx straddles "
					      "next_offset %016llx",
					      (unsigned long long)p,
					      (unsigned long long)N);
		if (rec.head.hdr_type != HAMMER_HEAD_TYPE_PAD) {
			s->info->records++;
			last = rec.head.hdr_seq;
		}
		p = norm(f, p + rec.head.hdr_size);
	}
	s->info->next_seq = s->info->records ? last + 1 : 0;
	s->L = N;
	return 0;
}

static int s1_write(struct s1 *s, int root_changed, struct hammer_err *err)
{
	struct hammer_volset *vs = s->f.vs;
	int rc = hammer_bufcache_flush_kind(s->f.bc, HAMMER_BUF_META, err);
	if (rc)
		return rc;
	int wrote = 0;
	for (int v = 0; v < vs->count; v++) {
		if (v == HAMMER_ROOT_VOLNO || !s->img[v])
			continue;
		rc = hammer_volset_write_header(vs, v, err);
		if (rc)
			return rc;
		wrote = 1;
	}
	if (!root_changed && !wrote)
		return 0;
	/* the root header (the FIFO range) only after everything it covers */
	rc = hammer_volset_flush(vs);
	if (!rc)
		rc = hammer_volset_write_header(vs, HAMMER_ROOT_VOLNO, err);
	if (!rc)
		rc = hammer_volset_flush(vs);
	if (rc && !err->code)
		HAMMER_ERR(err, rc, 0, "recovery: cannot write the volume headers");
	return rc;
}

int hammer_recover_stage1(struct hammer_volset *vs, struct hammer_bufcache *bc,
			  struct hammer_recover_info *info,
			  struct hammer_err *err)
{
	memset(info, 0, sizeof(*info));
	struct s1 s;
	memset(&s, 0, sizeof(s));
	s.info = info;
	int rc = fifo_init(&s.f, vs, bc, err);
	if (rc)
		return rc;
	struct hammer_volume_ondisk *root = hammer_volset_root(vs);
	struct hammer_blockmap *z3 = &root->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	hammer_off_t F = z3->first_offset, N = z3->next_offset;
	info->first = F;
	info->next_hdr = N;
	if (!in_fifo(&s.f, F) || !in_fifo(&s.f, N))
		return HAMMER_CORRUPT(err, in_fifo(&s.f, F) ? N : F, "UNDO FIFO "
				      "range first %016llx next %016llx is not "
				      "8-aligned inside [%016llx, %016llx]",
				      (unsigned long long)F, (unsigned long long)N,
				      (unsigned long long)s.f.g.base,
				      (unsigned long long)s.f.g.alloc);
	s.F = norm(&s.f, F);
	N = norm(&s.f, N);
	if (vs->version >= 4)
		rc = s1_find_end(&s, N, err);
	else
		rc = s1_walk_old(&s, N, err);
	if (rc)
		goto out;
	info->last = s.L;
	info->clean = s.L == s.F;
	if (!info->clean) {
		s.hdr = calloc((size_t)vs->count, sizeof(*s.hdr));
		if (!s.hdr) {
			rc = HAMMER_ERR(err, -ENOMEM, ~0ULL, "out of memory");
			goto out;
		}
		rc = s1_pass(&s, 0, err);
		if (!rc)
			rc = s1_pass(&s, 1, err);
		if (rc)
			goto out;
		fifo_done(&s.f);
		for (int v = 0; v < vs->count; v++)
			if (s.img[v])
				vs->vols[v]->hdr = s.hdr[v];
	}
	fifo_done(&s.f);
	int root_changed = !info->clean || F != s.F || z3->next_offset != s.L;
	if (root_changed) {
		z3->first_offset = s.F;
		z3->next_offset = s.L;
		z3->entry_crc = hammer_blockmap_entry_crc(vs->version, z3);
	}
	if (!vs->readonly)
		rc = s1_write(&s, root_changed, err);
out:
	fifo_done(&s.f);
	for (int v = 0; v < HAMMER_MAX_VOLUMES; v++)
		free(s.img[v]);
	free(s.hdr);
	return rc;
}

/* ------------------------------------------------------------ stage 2 */
struct rterm {
	int64_t objid;
	uint32_t loc;
	uint32_t kind;			/* TERM_WRITE or TERM_TRUNC */
	uint64_t offset;		/* 0 for TRUNC */
	uint64_t count;
};

static int rterm_cmp(const void *a, const void *b)
{
	const struct rterm *x = a, *y = b;
	if (x->objid != y->objid)
		return x->objid < y->objid ? -1 : 1;
	if (x->loc != y->loc)
		return x->loc < y->loc ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return 0;
}

static void rterm_key(const struct hammer_fifo_redo *r, uint32_t kind,
		      struct rterm *k)
{
	memset(k, 0, sizeof(*k));
	k->objid = r->redo_objid;
	k->loc = r->redo_localization;
	k->kind = kind;
	k->offset = kind == HAMMER_REDO_TERM_TRUNC ? 0 : r->redo_offset;
}

int hammer_recover_redo_scan(struct hammer_volset *vs, struct hammer_bufcache *bc,
			     const struct hammer_recover_info *info,
			     int (*fn)(void *ctx, const struct hammer_redo_rec *r,
				       const void *payload, size_t len),
			     void *ctx, struct hammer_err *err)
{
	/* REDO records exist from version 4 on */
	if (!info->redo_needed || info->clean || vs->version < 4)
		return 0;
	struct fifo f;
	int rc = fifo_init(&f, vs, bc, err);
	if (rc)
		return rc;
	hammer_off_t E = info->redo_start, F = norm(&f, info->first),
		     L = info->last;
	if (E < f.g.base || E >= f.g.alloc || (E & HAMMER_HEAD_ALIGN_MASK) ||
	    !in_fifo(&f, F) || !in_fifo(&f, L))
		return HAMMER_CORRUPT(err, E, "REDO range start %016llx / FIFO "
				      "range %016llx-%016llx not inside the FIFO",
				      (unsigned long long)E, (unsigned long long)F,
				      (unsigned long long)L);
	L = norm(&f, L);
	uint64_t nominal = dist(&f, F, L);
	uint64_t ext = dist(&f, F, E) < nominal ? 0 : dist(&f, E, F);
	struct rterm *terms = NULL;
	size_t nterms = 0, cap = 0;
	struct hammer_err x = { 0 };

	/* backwards from F to E: the TERMs of the extended range */
	if (ext) {
		hammer_off_t p = F;
		uint32_t expect = info->first_seq - 1;
		uint64_t walked = 0;
		while (p != E) {
			struct hammer_fifo_rec rec;
			const uint8_t *ptr;
			hammer_off_t s;
			memset(&x, 0, sizeof(x));
			rc = rec_before(&f, p, &s, &rec, &ptr, &x);
			if (rc == -EUCLEAN) {
				rc = HAMMER_ERR(err, -ERANGE, x.off, "REDO: the "
						"extended range %016llx-%016llx "
						"was overwritten: %s",
						(unsigned long long)E,
						(unsigned long long)F, x.msg);
				goto out;
			}
			if (rc) {
				*err = x;
				goto out;
			}
			walked += rec.head.hdr_size;
			if (walked > ext) {
				rc = HAMMER_ERR(err, -ERANGE, s, "REDO: redo_start "
						"%016llx is not on a record "
						"boundary (record %016llx passes "
						"it)", (unsigned long long)E,
						(unsigned long long)s);
				goto out;
			}
			if (rec.head.hdr_type != HAMMER_HEAD_TYPE_PAD) {
				if (rec.head.hdr_seq != expect) {
					rc = HAMMER_ERR(err, -ERANGE, s, "REDO: "
							"record %016llx has "
							"sequence number %08x, "
							"%08x expected (the "
							"FIFO wrapped)",
							(unsigned long long)s,
							rec.head.hdr_seq, expect);
					goto out;
				}
				expect--;
				uint32_t fl = rec.u.redo.redo_flags;
				if (rec.head.hdr_type == HAMMER_HEAD_TYPE_REDO &&
				    (fl == HAMMER_REDO_TERM_WRITE ||
				     fl == HAMMER_REDO_TERM_TRUNC)) {
					if (nterms == cap) {
						size_t nc = cap ? cap * 2 : 64;
						struct rterm *t = realloc(terms,
									  nc * sizeof(*t));
						if (!t) {
							rc = HAMMER_ERR(err, -ENOMEM,
									s, "out of memory");
							goto out;
						}
						terms = t;
						cap = nc;
					}
					rterm_key(&rec.u.redo, fl, &terms[nterms]);
					terms[nterms++].count = 1;
				}
			}
			p = s;
		}
		/* sort and merge into counted keys */
		if (nterms) {
			qsort(terms, nterms, sizeof(*terms), rterm_cmp);
			size_t w = 0;
			for (size_t i = 1; i < nterms; i++) {
				if (rterm_cmp(&terms[w], &terms[i]) == 0)
					terms[w].count++;
				else
					terms[++w] = terms[i];
			}
			nterms = w + 1;
		}
	}

	/* forwards from E through L */
	uint64_t total = ext ? ext + nominal : dist(&f, E, L), walked = 0;
	hammer_off_t p = E;
	while (walked < total) {
		struct hammer_fifo_rec rec;
		const uint8_t *ptr;
		memset(&x, 0, sizeof(x));
		rc = rec_at(&f, p, &rec, &ptr, &x);
		if (rc) {
			if (rc == -EUCLEAN && walked < ext)
				rc = HAMMER_ERR(err, -ERANGE, x.off, "REDO: the "
						"extended range was overwritten: "
						"%s", x.msg);
			else
				*err = x;
			goto out;
		}
		uint32_t size = rec.head.hdr_size;
		walked += size;
		if (walked > total) {
			rc = HAMMER_CORRUPT(err, p, "FIFO record %016llx straddles "
					    "the end of the FIFO range %016llx",
					    (unsigned long long)p,
					    (unsigned long long)L);
			goto out;
		}
		if (rec.head.hdr_type == HAMMER_HEAD_TYPE_REDO) {
			const struct hammer_fifo_redo *r = &rec.u.redo;
			uint32_t fl = r->redo_flags;
			struct rterm k, *hit = NULL;
			if (fl == HAMMER_REDO_WRITE || fl == HAMMER_REDO_TRUNC ||
			    fl == HAMMER_REDO_TERM_WRITE ||
			    fl == HAMMER_REDO_TERM_TRUNC) {
				uint32_t kind = fl == HAMMER_REDO_WRITE ?
						HAMMER_REDO_TERM_WRITE :
						fl == HAMMER_REDO_TRUNC ?
						HAMMER_REDO_TERM_TRUNC : fl;
				rterm_key(r, kind, &k);
				if (nterms)
					hit = bsearch(&k, terms, nterms,
						      sizeof(*terms), rterm_cmp);
			}
			if (fl == HAMMER_REDO_TERM_WRITE ||
			    fl == HAMMER_REDO_TERM_TRUNC) {
				if (hit && hit->count)
					hit->count--;
			} else if ((fl == HAMMER_REDO_WRITE ||
				    fl == HAMMER_REDO_TRUNC) &&
				   !(hit && hit->count)) {
				struct hammer_redo_rec rr = {
					.objid = r->redo_objid,
					.offset = r->redo_offset,
					.flags = fl,
					.localization = r->redo_localization,
				};
				int w = fl == HAMMER_REDO_WRITE;
				size_t n = w ? (size_t)r->redo_data_bytes : 0;
				rc = fn(ctx, &rr, w ? ptr + sizeof(*r) : NULL, n);
				if (rc)
					goto out;
			}
		}
		p = norm(&f, p + size);
	}
	rc = 0;
out:
	fifo_done(&f);
	free(terms);
	return rc;
}
