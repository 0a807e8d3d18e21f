/* inspect.c - read-only decoding helpers for the inspection commands. */
#include "inspect.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------ u64 hash set */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

void hammer_u64map_init(struct hammer_u64map *m)
{
	memset(m, 0, sizeof(*m));
}

void hammer_u64map_free(struct hammer_u64map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

static size_t slot_of(const struct hammer_u64map *m, uint64_t key)
{
	size_t i = (size_t)mix64(key) & (m->cap - 1);
	while (m->used[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int grow(struct hammer_u64map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	struct hammer_u64map n = { 0 };
	n.cap = ncap;
	n.keys = calloc(ncap, sizeof(*n.keys));
	n.vals = calloc(ncap, sizeof(*n.vals));
	n.used = calloc(ncap, 1);
	if (!n.keys || !n.vals || !n.used) {
		hammer_u64map_free(&n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->used[i])
			continue;
		size_t s = slot_of(&n, m->keys[i]);
		n.used[s] = 1;
		n.keys[s] = m->keys[i];
		n.vals[s] = m->vals[i];
		n.count++;
	}
	hammer_u64map_free(m);
	*m = n;
	return 0;
}

uint64_t *hammer_u64map_get(struct hammer_u64map *m, uint64_t key, int *isnew)
{
	if ((m->count + 1) * 2 > m->cap && grow(m))
		return NULL;
	size_t s = slot_of(m, key);
	if (isnew)
		*isnew = !m->used[s];
	if (!m->used[s]) {
		m->used[s] = 1;
		m->keys[s] = key;
		m->vals[s] = 0;
		m->count++;
	}
	return &m->vals[s];
}

int hammer_u64map_has(const struct hammer_u64map *m, uint64_t key)
{
	if (!m->cap)
		return 0;
	return m->used[slot_of(m, key)];
}

/* ---------------------------------------------------- one-buffer cache */
void hammer_rdcache_init(struct hammer_rdcache *c)
{
	c->base = HAMMER_OFF_BAD;
}

int hammer_inspect_read(struct hammer_volset *vs, struct hammer_rdcache *c,
			hammer_off_t off, void *out, size_t len,
			struct hammer_err *err)
{
	uint8_t *p = out;
	while (len) {
		hammer_off_t base = off & ~(hammer_off_t)HAMMER_BUFMASK;
		size_t in = (size_t)(off - base);
		size_t n = HAMMER_BUFSIZE - in;
		if (n > len)
			n = len;
		if (c->base != base) {
			c->base = HAMMER_OFF_BAD;
			int rc = hammer_volset_read(vs, base, c->buf, HAMMER_BUFSIZE, err);
			if (rc)
				return rc;
			c->base = base;
		}
		memcpy(p, c->buf + in, n);
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* --------------------------------------------------- freemap lookup */
int hammer_inspect_lookup(struct hammer_volset *vs, struct hammer_rdcache *c,
			  hammer_off_t off,
			  struct hammer_blockmap_layer1 *l1,
			  struct hammer_blockmap_layer2 *l2,
			  hammer_off_t *result, struct hammer_err *err)
{
	struct hammer_volume_ondisk *root = hammer_volset_root(vs);
	unsigned zone = hammer_zone_of(off);
	hammer_off_t z2;

	memset(l1, 0, sizeof(*l1));
	memset(l2, 0, sizeof(*l2));
	*result = off;
	if (zone == HAMMER_ZONE_UNDO_INDEX) {
		uint64_t idx = hammer_short_of(off) >> HAMMER_BIGBLOCK_BITS;
		if (hammer_vol_of(off) != 0 || idx >= HAMMER_UNDO_LAYER2 ||
		    off >= root->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX].alloc_offset ||
		    hammer_zone_of(root->vol0_undo_array[idx]) !=
		    HAMMER_ZONE_RAW_BUFFER_INDEX) {
			HAMMER_CORRUPT(err, off, "UNDO address %016llx is outside the "
				       "FIFO or maps through a bad vol0_undo_array entry",
				       (unsigned long long)off);
			return HAMMER_LOOKUP_UNDO;
		}
		z2 = root->vol0_undo_array[idx] + (off & HAMMER_BIGBLOCK_MASK64);
	} else if (hammer_zone_direct_xlated(zone)) {
		z2 = hammer_xlate_zone(off, HAMMER_ZONE_RAW_BUFFER_INDEX);
	} else {
		HAMMER_CORRUPT(err, off, "address %016llx is in zone %u, which the "
			       "freemap does not describe", (unsigned long long)off,
			       zone);
		return HAMMER_LOOKUP_BADZONE;
	}
	*result = zone == HAMMER_ZONE_FREEMAP_INDEX ? off : z2;

	unsigned vol = hammer_vol_of(z2);
	if ((int)vol >= vs->count || !vs->vols[vol] ||
	    hammer_short_of(z2) >= (uint64_t)(vs->vols[vol]->hdr.vol_buf_end -
					      vs->vols[vol]->hdr.vol_buf_beg)) {
		HAMMER_CORRUPT(err, off, "address %016llx lies outside every volume",
			       (unsigned long long)off);
		return HAMMER_LOOKUP_NOVOL;
	}

	hammer_off_t fm = root->vol0_blockmap[HAMMER_ZONE_FREEMAP_INDEX].phys_offset;
	hammer_off_t l1off = fm + hammer_layer1_offset(z2);
	uint8_t raw[32];
	if (hammer_zone_of(fm) != HAMMER_ZONE_RAW_BUFFER_INDEX ||
	    hammer_inspect_read(vs, c, l1off, raw, sizeof(*l1), err)) {
		HAMMER_CORRUPT(err, l1off, "layer-1 entry %016llx for %016llx is "
			       "unreadable", (unsigned long long)l1off,
			       (unsigned long long)off);
		return HAMMER_LOOKUP_IO;
	}
	memcpy(l1, raw, sizeof(*l1));
	hammer_layer1_swap(l1);
	if (!hammer_crc_check(vs->version, raw, HAMMER_LAYER1_CRCSIZE, l1->layer1_crc)) {
		HAMMER_CORRUPT(err, l1off, "layer-1 entry %016llx has a bad CRC",
			       (unsigned long long)l1off);
		return HAMMER_LOOKUP_L1_CRC;
	}
	if (l1->phys_offset == HAMMER_BLOCKMAP_UNAVAIL ||
	    hammer_zone_of(l1->phys_offset) != HAMMER_ZONE_RAW_BUFFER_INDEX) {
		HAMMER_CORRUPT(err, l1off, "layer-1 entry %016llx for %016llx is "
			       "unavailable (phys %016llx)", (unsigned long long)l1off,
			       (unsigned long long)off,
			       (unsigned long long)l1->phys_offset);
		return HAMMER_LOOKUP_L1_UNAVAIL;
	}
	hammer_off_t l2off = l1->phys_offset + hammer_layer2_offset(z2);
	if (hammer_inspect_read(vs, c, l2off, raw, sizeof(*l2), err)) {
		HAMMER_CORRUPT(err, l2off, "layer-2 entry %016llx for %016llx is "
			       "unreadable", (unsigned long long)l2off,
			       (unsigned long long)off);
		return HAMMER_LOOKUP_IO;
	}
	memcpy(l2, raw, sizeof(*l2));
	hammer_layer2_swap(l2);
	if (!hammer_crc_check(vs->version, raw, HAMMER_LAYER2_CRCSIZE, l2->entry_crc)) {
		HAMMER_CORRUPT(err, l2off, "layer-2 entry %016llx has a bad CRC",
			       (unsigned long long)l2off);
		return HAMMER_LOOKUP_L2_CRC;
	}
	return HAMMER_LOOKUP_OK;
}

/* ------------------------------------------------------ zone stats */
void hammer_zone_stats_init(struct hammer_zone_stats *s)
{
	memset(s, 0, sizeof(*s));
	hammer_u64map_init(&s->seen);
}

void hammer_zone_stats_free(struct hammer_zone_stats *s)
{
	hammer_u64map_free(&s->seen);
}

int hammer_zone_stats_add(struct hammer_zone_stats *s, hammer_off_t off,
			  int64_t bytes)
{
	unsigned zone = hammer_zone_of(off);
	/* volume + big-block number; the zone nibble is only an alias */
	uint64_t key = (off & HAMMER_OFF_LONG_MASK) >> HAMMER_BIGBLOCK_BITS;
	int isnew = 0;
	if (!hammer_u64map_get(&s->seen, key, &isnew))
		return -ENOMEM;
	if (isnew)
		s->z[zone].blocks++;
	s->z[zone].items++;
	s->z[zone].used += bytes;
	return 0;
}

void hammer_zone_stats_add_layer2(struct hammer_zone_stats *s,
				  const struct hammer_blockmap_layer2 *l2)
{
	unsigned zone = l2->zone & 15;
	s->z[zone].blocks++;
	s->z[zone].used += HAMMER_BIGBLOCK_SIZE - (int64_t)l2->bytes_free;
}

/* ------------------------------------------------------------ B-tree */
int hammer_node_max_elements(uint8_t type)
{
	switch (type) {
	case HAMMER_BTREE_TYPE_LEAF:
		return HAMMER_BTREE_LEAF_ELMS;
	case HAMMER_BTREE_TYPE_INTERNAL:
		return HAMMER_BTREE_INT_ELMS;
	default:
		return -1;
	}
}

int hammer_inspect_node_read(struct hammer_volset *vs, struct hammer_rdcache *c,
			     hammer_off_t off, struct hammer_node_ondisk *node,
			     enum hammer_crc_match *crc, struct hammer_err *err)
{
	*crc = HAMMER_CRC_BAD;
	if (hammer_zone_of(off) != HAMMER_ZONE_BTREE_INDEX ||
	    (off & (HAMMER_BTREE_NODE_SIZE - 1)))
		return HAMMER_CORRUPT(err, off, "B-tree node address %016llx is not a "
				      "4 KB aligned zone-8 (btree) address",
				      (unsigned long long)off);
	int rc = hammer_inspect_read(vs, c, off, node, sizeof(*node), err);
	if (rc)
		return rc;
	uint32_t stored = le32toh(node->crc);
	*crc = hammer_crc_check(vs->version, (const uint8_t *)node + HAMMER_BTREE_CRCOFF,
				HAMMER_BTREE_CRCSIZE, stored);
	hammer_node_swap(node);
	return 0;
}

/* CRC of `len` payload bytes read buffer by buffer, with either algorithm. */
static int data_crc(struct hammer_volset *vs, struct hammer_rdcache *c,
		    hammer_off_t off, size_t len, size_t crclen, uint8_t *copy,
		    uint32_t *ci, uint32_t *cl, struct hammer_err *err)
{
	uint8_t tmp[512];
	size_t done = 0;
	*ci = 0;
	*cl = 0;
	while (done < len) {
		size_t n = len - done < sizeof(tmp) ? len - done : sizeof(tmp);
		int rc = hammer_inspect_read(vs, c, off + done, tmp, n, err);
		if (rc)
			return rc;
		if (copy)
			memcpy(copy + done, tmp, n);
		if (done < crclen) {
			size_t k = crclen - done < n ? crclen - done : n;
			*ci = hammer_crc32c_update(*ci, tmp, k);
			*cl = hammer_crc32_update(*cl, tmp, k);
		}
		done += n;
	}
	return 0;
}

const char *hammer_inspect_leaf_data(struct hammer_volset *vs,
				     struct hammer_rdcache *c,
				     const struct hammer_btree_leaf_elm *leaf,
				     const char **which, void **data,
				     size_t minsize, struct hammer_err *err)
{
	*which = "";
	if (data)
		*data = NULL;
	if (leaf->data_offset == 0 || leaf->data_len == 0)
		return "ZO";
	if (leaf->data_len < 0 || leaf->data_len > HAMMER_INSPECT_MAX_DATA) {
		HAMMER_CORRUPT(err, leaf->data_offset, "record data length %d at "
			       "%016llx is out of range", leaf->data_len,
			       (unsigned long long)leaf->data_offset);
		return "BL";
	}
	size_t len = (size_t)leaf->data_len;
	size_t crclen = len;
	if (leaf->base.rec_type == HAMMER_RECTYPE_INODE) {
		if (len != sizeof(struct hammer_inode_data)) {
			HAMMER_CORRUPT(err, leaf->data_offset, "inode record data at "
				       "%016llx is %zu bytes, not %zu",
				       (unsigned long long)leaf->data_offset, len,
				       sizeof(struct hammer_inode_data));
			return "BI";
		}
		crclen = HAMMER_INODE_CRCSIZE;
	}
	unsigned zone = hammer_zone_of(leaf->data_offset);
	if (zone < HAMMER_ZONE_BTREE_INDEX || zone == HAMMER_ZONE_UNAVAIL_INDEX) {
		HAMMER_CORRUPT(err, leaf->data_offset, "record data address %016llx "
			       "is in zone %u, which holds no record data",
			       (unsigned long long)leaf->data_offset, zone);
		return "BO";
	}
	uint8_t *copy = NULL;
	if (data) {
		copy = calloc(1, len > minsize ? len : minsize);
		if (!copy) {
			HAMMER_ERR(err, -ENOMEM, leaf->data_offset, "out of memory");
			return "BO";
		}
	}
	uint32_t ci, cl;
	if (data_crc(vs, c, leaf->data_offset, len, crclen, copy, &ci, &cl, err)) {
		free(copy);
		return "BO";
	}
	if (data)
		*data = copy;
	if (vs->version >= 7 && ci == leaf->data_crc) {
		*which = "i";
		return NULL;
	}
	if (cl == leaf->data_crc) {
		*which = "o";
		return NULL;
	}
	HAMMER_CORRUPT(err, leaf->data_offset, "record data at %016llx: CRC "
		       "%08x does not match the leaf's data_crc %08x",
		       (unsigned long long)leaf->data_offset,
		       vs->version >= 7 ? ci : cl, leaf->data_crc);
	/* DragonFly distinguishes a computed CRC of zero */
	return (vs->version >= 7 ? ci : cl) == 0 ? "Bx" : "BX";
}

/* ------------------------------------------------------------- FIFO */
int hammer_fifo_rec_check(unsigned version, hammer_off_t off, const void *rec,
			  uint32_t avail, struct hammer_fifo_rec *out,
			  struct hammer_err *err)
{
	const uint8_t *p = rec;
	memset(out, 0, sizeof(*out));
	if (avail < 8) {
		out->bad = HAMMER_FIFO_BAD_SIZE;
		return HAMMER_CORRUPT(err, off, "FIFO record %016llx: only %u bytes "
				      "left before the boundary",
				      (unsigned long long)off, avail);
	}
	memcpy(&out->head, p, avail < 16 ? 8 : 16);
	hammer_fifo_head_swap(&out->head);
	struct hammer_fifo_head *h = &out->head;
	uint32_t size = h->hdr_size;

	if (h->hdr_signature != HAMMER_HEAD_SIGNATURE)
		out->bad |= HAMMER_FIFO_BAD_SIG;
	if (h->hdr_type != HAMMER_HEAD_TYPE_PAD &&
	    h->hdr_type != HAMMER_HEAD_TYPE_DUMMY &&
	    h->hdr_type != HAMMER_HEAD_TYPE_UNDO &&
	    h->hdr_type != HAMMER_HEAD_TYPE_REDO)
		out->bad |= HAMMER_FIFO_BAD_TYPE;
	out->size_ok = size != 0 && !(size & HAMMER_HEAD_ALIGN_MASK) && size <= avail;
	(void)version;
	if (!out->size_ok) {
		out->bad |= HAMMER_FIFO_BAD_SIZE;
	} else if (h->hdr_type != HAMMER_HEAD_TYPE_PAD &&
		   size < sizeof(struct hammer_fifo_head) + sizeof(struct hammer_fifo_tail)) {
		out->bad |= HAMMER_FIFO_BAD_SIZE;
	}
	if (out->size_ok && !(out->bad & HAMMER_FIFO_BAD_SIZE)) {
		struct hammer_fifo_tail t;
		memcpy(&t, p + size - sizeof(t), sizeof(t));
		hammer_fifo_tail_swap(&t);
		/* an 8-byte PAD is all head: its "tail" is the head itself */
		if (size > 8 || h->hdr_type != HAMMER_HEAD_TYPE_PAD) {
			if (t.tail_signature != HAMMER_TAIL_SIGNATURE ||
			    t.tail_type != h->hdr_type || t.tail_size != size)
				out->bad |= HAMMER_FIFO_BAD_TAIL;
		}
		if (h->hdr_type != HAMMER_HEAD_TYPE_PAD &&
		    !hammer_crc_check2(version, p, HAMMER_FIFO_HEAD_CRCOFF,
				       p + sizeof(struct hammer_fifo_head),
				       size - sizeof(struct hammer_fifo_head),
				       h->hdr_crc))
			out->bad |= HAMMER_FIFO_BAD_CRC;
		if (h->hdr_type == HAMMER_HEAD_TYPE_UNDO) {
			if (size >= HAMMER_UNDO_TAIL_OVERHEAD) {
				memcpy(&out->u.undo, p, sizeof(out->u.undo));
				out->u.undo.head = *h;
				HLE64(out->u.undo.undo_offset);
				HLE32(out->u.undo.undo_data_bytes);
				HLE32(out->u.undo.undo_reserved01);
				int64_t room = (int64_t)size - (int64_t)HAMMER_UNDO_TAIL_OVERHEAD;
				if (out->u.undo.undo_data_bytes < 0 ||
				    out->u.undo.undo_data_bytes > room)
					out->bad |= HAMMER_FIFO_BAD_PAYLOAD;
			} else {
				out->bad |= HAMMER_FIFO_BAD_SIZE;
			}
		} else if (h->hdr_type == HAMMER_HEAD_TYPE_REDO) {
			if (size >= HAMMER_REDO_TAIL_OVERHEAD) {
				memcpy(&out->u.redo, p, sizeof(out->u.redo));
				out->u.redo.head = *h;
				HLE64(out->u.redo.redo_objid);
				HLE64(out->u.redo.redo_offset);
				HLE32(out->u.redo.redo_data_bytes);
				HLE32(out->u.redo.redo_flags);
				HLE32(out->u.redo.redo_localization);
				HLE32(out->u.redo.redo_reserved01);
				HLE64(out->u.redo.redo_reserved02);
				int64_t room = (int64_t)size - (int64_t)HAMMER_REDO_TAIL_OVERHEAD;
				/* only a WRITE carries its bytes; a TERM_WRITE
				 * gives the length of the write it ends */
				if (out->u.redo.redo_data_bytes < 0 ||
				    (out->u.redo.redo_flags == HAMMER_REDO_WRITE &&
				     out->u.redo.redo_data_bytes > room))
					out->bad |= HAMMER_FIFO_BAD_PAYLOAD;
			} else {
				out->bad |= HAMMER_FIFO_BAD_SIZE;
			}
		}
	}
	if (!out->bad)
		return 0;
	const char *why = (out->bad & HAMMER_FIFO_BAD_SIG) ? "bad head signature" :
			  (out->bad & HAMMER_FIFO_BAD_TYPE) ? "unknown record type" :
			  (out->bad & HAMMER_FIFO_BAD_SIZE) ? "illegal size" :
			  (out->bad & HAMMER_FIFO_BAD_TAIL) ? "tail does not match head" :
			  (out->bad & HAMMER_FIFO_BAD_CRC) ? "CRC mismatch" :
			  "payload length inconsistent";
	return HAMMER_CORRUPT(err, off, "FIFO record %016llx (type %04x size %u): %s",
			      (unsigned long long)off, h->hdr_type, size, why);
}

/* ---------------------------------------------------------- header */
int hammer_inspect_header_crcs(struct hammer_volset *vs, int vol_no,
			       struct hammer_header_crcs *out,
			       struct hammer_err *err)
{
	memset(out, 0, sizeof(*out));
	if (vol_no < 0 || vol_no >= vs->count || !vs->vols[vol_no])
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "no volume %d", vol_no);
	struct hammer_volume *v = vs->vols[vol_no];
	uint8_t *raw = malloc(HAMMER_BUFSIZE);
	if (!raw)
		return HAMMER_ERR(err, -ENOMEM, ~0ULL, "out of memory");
	int rc = hammer_bdev_read(v->bd, 0, raw, HAMMER_BUFSIZE);
	if (rc) {
		free(raw);
		return HAMMER_ERR(err, rc, 0, "%s: cannot read the volume header",
				  v->bd->name);
	}
	const struct hammer_volume_ondisk *d = (const void *)raw;
	out->vol_stored = le32toh(d->vol_crc);
	out->vol_calc = hammer_volume_crc(vs->version, raw);
	out->vol_ok = hammer_crc_check2(vs->version, raw, HAMMER_VOL_CRCSIZE1,
					raw + offsetof(struct hammer_volume_ondisk, vol_flags),
					HAMMER_VOL_CRCSIZE2, out->vol_stored) != HAMMER_CRC_BAD;
	if (vol_no == HAMMER_ROOT_VOLNO) {
		for (int z = 0; z < HAMMER_MAX_ZONES; z++) {
			const struct hammer_blockmap *b = &d->vol0_blockmap[z];
			static const uint8_t zero[sizeof(*b)];
			/* an all-zero entry is an unused zone, never given a CRC */
			if (!memcmp(b, zero, sizeof(*b)))
				continue;
			if (!hammer_crc_check(vs->version, b, HAMMER_BLOCKMAP_CRCSIZE,
					      le32toh(b->entry_crc)))
				out->bad_zones |= 1u << z;
		}
	}
	free(raw);
	return 0;
}
