/* checkmap.c - recount big-block usage and compare it with the freemap. */
#include "checkmap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hammer_checkmap_code_tag(enum hammer_checkmap_code code)
{
	switch (code) {
	case HAMMER_CM_ZONE: return "BZ";
	case HAMMER_CM_FREE: return "BM";
	case HAMMER_CM_APPEND: return "BA";
	case HAMMER_CM_L1FREE: return "BF";
	case HAMMER_CM_LOOKUP: return "BL";
	case HAMMER_CM_NODE: return "BN";
	case HAMMER_CM_FIFO: return "BU";
	case HAMMER_CM_LAYER: return "BC";
	}
	return "B?";
}

static struct hammer_checkmap_finding *
add_finding(struct hammer_checkmap *cm, enum hammer_checkmap_code code,
	    hammer_off_t addr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct hammer_checkmap_finding *
add_finding(struct hammer_checkmap *cm, enum hammer_checkmap_code code,
	    hammer_off_t addr, const char *fmt, ...)
{
	if (cm->nfindings == cm->capfindings) {
		size_t ncap = cm->capfindings ? cm->capfindings * 2 : 16;
		void *n = realloc(cm->findings, ncap * sizeof(*cm->findings));
		if (!n)
			return NULL;
		cm->findings = n;
		cm->capfindings = ncap;
	}
	struct hammer_checkmap_finding *f = &cm->findings[cm->nfindings++];
	memset(f, 0, sizeof(*f));
	f->code = code;
	f->addr = addr;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	if (code == HAMMER_CM_NODE)
		cm->bad_nodes++;
	else
		cm->errors++;
	return f;
}

int hammer_checkmap_init(struct hammer_checkmap *cm, struct hammer_volset *vs)
{
	memset(cm, 0, sizeof(*cm));
	cm->vs = vs;
	hammer_rdcache_init(&cm->cache);
	hammer_u64map_init(&cm->index);
	return 0;
}

void hammer_checkmap_free(struct hammer_checkmap *cm)
{
	hammer_u64map_free(&cm->index);
	free(cm->blocks);
	free(cm->findings);
	free(cm->skipped);
	free(cm->buf);
	memset(cm, 0, sizeof(*cm));
}

/* Ready an error record for reuse (zeroing all 512 bytes per entry costs). */
static void err_reset(struct hammer_err *e)
{
	e->code = 0;
	e->msg[0] = 0;
}

/* Bytes of zone-2 space volume `vol` has (0: no such volume). */
static uint64_t vol_bytes(struct hammer_volset *vs, uint64_t vol)
{
	if (vol >= HAMMER_MAX_VOLUMES || (int)vol >= vs->count || !vs->vols[vol])
		return 0;
	const struct hammer_volume_ondisk *h = &vs->vols[vol]->hdr;
	return h->vol_buf_end > h->vol_buf_beg ? (uint64_t)(h->vol_buf_end - h->vol_buf_beg)
					       : 0;
}

/* Append the zone-2 range [z2, z2 + len) to the skipped list, as device bytes. */
static int push_skip(struct hammer_checkmap *cm, hammer_off_t z2, uint64_t len)
{
	struct hammer_checkmap_range r = { .vol_no = -1, .off = z2, .len = len };
	struct hammer_volume *vol;
	uint64_t phys;
	struct hammer_err e = { 0 };
	if (!hammer_volset_xlate(cm->vs, z2, len, &vol, &phys, &e)) {
		r.vol_no = vol->vol_no;
		r.off = phys;
	}
	if (cm->nskipped) {
		struct hammer_checkmap_range *p = &cm->skipped[cm->nskipped - 1];
		if (p->vol_no == r.vol_no && r.vol_no >= 0 && p->off + p->len == r.off) {
			p->len += r.len;
			return 0;
		}
	}
	if (cm->nskipped == cm->capskipped) {
		size_t ncap = cm->capskipped ? cm->capskipped * 2 : 8;
		void *n = realloc(cm->skipped, ncap * sizeof(*cm->skipped));
		if (!n)
			return -ENOMEM;
		cm->skipped = n;
		cm->capskipped = ncap;
	}
	cm->skipped[cm->nskipped++] = r;
	return 0;
}

/* Remember that [z2, z2 + len) was not read (runs are joined first). */
static int add_skip(struct hammer_checkmap *cm, hammer_off_t z2, uint64_t len)
{
	if (cm->skip_len && cm->skip_z2 + cm->skip_len == z2) {
		cm->skip_len += len;
		return 0;
	}
	int rc = cm->skip_len ? push_skip(cm, cm->skip_z2, cm->skip_len) : 0;
	cm->skip_z2 = z2;
	cm->skip_len = len;
	return rc;
}

static int flush_skip(struct hammer_checkmap *cm)
{
	int rc = cm->skip_len ? push_skip(cm, cm->skip_z2, cm->skip_len) : 0;
	cm->skip_len = 0;
	return rc;
}

/*
 * Freemap entries come in long runs of identical bytes (UNAVAIL layer-1
 * entries, layer-2 entries past the end of a volume): identical bytes give
 * an identical CRC verdict, so the last one is remembered.
 */
struct crc_memo {
	uint8_t raw[32];
	size_t len;
	int ok;
};

static int entry_crc_ok(struct hammer_checkmap *cm, struct crc_memo *m,
			const uint8_t *raw, size_t len, size_t crclen, uint32_t stored)
{
	if (m->len == len && !memcmp(m->raw, raw, len))
		return m->ok;
	m->ok = hammer_crc_check(cm->vs->version, raw, crclen, stored) != HAMMER_CRC_BAD;
	memcpy(m->raw, raw, len);
	m->len = len;
	return m->ok;
}

/*
 * One 16 KB buffer of a freemap array: `buf` holds the buffer at `have`
 * (HAMMER_OFF_BAD: none).  Layer-1 and layer-2 walks each have their own.
 */
struct array_buf {
	uint8_t *buf;
	hammer_off_t have;
};

/* Point *raw at the bytes of `a`, reading its 16 KB buffer if needed. */
static int array_read(struct hammer_checkmap *cm, struct array_buf *ab,
		      hammer_off_t a, const uint8_t **raw, struct hammer_err *e)
{
	hammer_off_t base = a & ~(hammer_off_t)HAMMER_BUFMASK;
	if (ab->have != base) {
		ab->have = HAMMER_OFF_BAD;
		int rc = hammer_volset_read(cm->vs, base, ab->buf, HAMMER_BUFSIZE, e);
		if (rc)
			return rc;
		ab->have = base;
	}
	*raw = ab->buf + (a - base);
	return 0;
}

/*
 * The blocks[] entry of the big-block holding `off` (created for `zone` if
 * new), or *idx = -1 when the freemap cannot resolve it (finding made).
 * *inblk gets the offset of `off` inside its big-block.
 */
static int block_of(struct hammer_checkmap *cm, hammer_off_t off, int zone,
		    long *idx, uint64_t *inblk)
{
	/*
	 * A lookup depends only on the big-block (and on bytes that do not
	 * change during the check): a big-block seen recently needs none.  The
	 * FIFO alone is thousands of records per big-block.
	 */
	hammer_off_t key = (off & ~HAMMER_BIGBLOCK_MASK64) | 1;
	struct hammer_checkmap_memo *mm =
		&cm->memo[((key >> HAMMER_BIGBLOCK_BITS) ^ (key >> 60)) % HAMMER_CHECKMAP_MEMO];
	if (mm->key == key) {
		*idx = (long)mm->slot;
		*inblk = off & HAMMER_BIGBLOCK_MASK64;
		return 0;
	}
	*idx = -1;
	struct hammer_blockmap_layer1 l1;
	struct hammer_blockmap_layer2 l2;
	hammer_off_t result;
	struct hammer_err e = { 0 };
	int lk = hammer_inspect_lookup(cm->vs, &cm->cache, off, &l1, &l2, &result, &e);
	if (lk != HAMMER_LOOKUP_OK && lk != HAMMER_LOOKUP_L2_CRC) {
		if (!add_finding(cm, HAMMER_CM_LOOKUP, off, "%s", e.msg))
			return -ENOMEM;
		return 0;
	}
	hammer_off_t z2 = hammer_xlate_zone(result, HAMMER_ZONE_RAW_BUFFER_INDEX);
	hammer_off_t l2addr = l1.phys_offset + hammer_layer2_offset(z2);
	int isnew = 0;
	uint64_t *slot = hammer_u64map_get(&cm->index, l2addr, &isnew);
	if (!slot)
		return -ENOMEM;
	if (isnew) {
		if (cm->nblocks == cm->capblocks) {
			size_t ncap = cm->capblocks ? cm->capblocks * 2 : 64;
			void *n = realloc(cm->blocks, ncap * sizeof(*cm->blocks));
			if (!n)
				return -ENOMEM;
			cm->blocks = n;
			cm->capblocks = ncap;
		}
		struct hammer_checkmap_block *b = &cm->blocks[cm->nblocks];
		memset(b, 0, sizeof(*b));
		b->l2addr = l2addr;
		b->block = result & ~HAMMER_BIGBLOCK_MASK64;
		b->calc_zone = zone;
		b->calc_free = HAMMER_BIGBLOCK_SIZE;
		b->l2 = l2;
		b->l2_ok = lk == HAMMER_LOOKUP_OK;
		*slot = ++cm->nblocks;
		if (!b->l2_ok && !add_finding(cm, HAMMER_CM_LAYER, l2addr, "%s", e.msg))
			return -ENOMEM;
	}
	*idx = (long)(*slot - 1);
	*inblk = z2 & HAMMER_BIGBLOCK_MASK64;
	/* remembered only if the translation keeps offsets inside the
	 * big-block (a misaligned vol0_undo_array entry does not) */
	if (*inblk == (off & HAMMER_BIGBLOCK_MASK64)) {
		mm->key = key;
		mm->slot = (size_t)*idx;
	}
	return 0;
}

/* Account `length` bytes at zone address `off` to a user of `zone`. */
static int collect(struct hammer_checkmap *cm, hammer_off_t off, int64_t length,
		   int zone)
{
	long idx;
	uint64_t inblk;
	int rc = block_of(cm, off, zone, &idx, &inblk);
	if (rc || idx < 0)
		return rc;
	struct hammer_checkmap_block *b = &cm->blocks[idx];
	if (b->calc_zone != zone) {
		struct hammer_checkmap_finding *f =
			add_finding(cm, HAMMER_CM_ZONE, b->block, "big-block %016llx "
				    "is used by zone %d and by zone %d",
				    (unsigned long long)b->block, b->calc_zone, zone);
		if (!f)
			return -ENOMEM;
		f->calc_zone = b->calc_zone;
		f->got_zone = zone;
		b->status = HAMMER_CM_ZONE;
	}
	b->calc_free -= length;
	uint64_t end = inblk + (uint64_t)length;
	if (end > b->max_end)
		b->max_end = end;
	return 0;
}

/* First byte of zone-2 space the layer-1 entry `i` describes, and its volume. */
static hammer_off_t layer1_base(uint64_t i)
{
	return hammer_encode(HAMMER_ZONE_RAW_BUFFER_INDEX, (unsigned)(i >> 10),
			     (i & 1023) * HAMMER_BLOCKMAP_LAYER2_SPAN);
}

/* Layer-2 entries of layer-1 entry `i` that describe big-blocks inside their volume. */
static uint64_t layer2_reachable(struct hammer_checkmap *cm, uint64_t i)
{
	hammer_off_t z = layer1_base(i);
	uint64_t have = vol_bytes(cm->vs, hammer_vol_of(z)), beg = hammer_short_of(z);
	if (beg >= have)
		return 0;
	uint64_t n = (have - beg + HAMMER_BIGBLOCK_SIZE - 1) / HAMMER_BIGBLOCK_SIZE;
	return n < HAMMER_BLOCKMAP_LAYER2 ? n : HAMMER_BLOCKMAP_LAYER2;
}

#define L1_PER_SECTOR	(HAMMER_UNDO_ALIGN / sizeof(struct hammer_blockmap_layer1))
#define L2_PER_SECTOR	(HAMMER_UNDO_ALIGN / sizeof(struct hammer_blockmap_layer2))

/*
 * Free layer-2 entries under layer-1 entry `l1i` (array at l2base),
 * checking their CRCs.  A REACHABLE run reads only the sectors holding
 * entries of big-blocks inside the volume.
 */
static int count_free_layer2(struct hammer_checkmap *cm, uint64_t l1i,
			     hammer_off_t l2base, int64_t *nfree)
{
	*nfree = 0;
	uint64_t reach = layer2_reachable(cm, l1i);
	uint64_t n = HAMMER_BLOCKMAP_LAYER2;
	if (cm->flags & HAMMER_CHECKMAP_REACHABLE) {
		n = (reach + L2_PER_SECTOR - 1) / L2_PER_SECTOR * L2_PER_SECTOR;
		if (n < HAMMER_BLOCKMAP_LAYER2 &&
		    add_skip(cm, l2base + n * sizeof(struct hammer_blockmap_layer2),
			     (HAMMER_BLOCKMAP_LAYER2 - n) * sizeof(struct hammer_blockmap_layer2)))
			return -ENOMEM;
	}
	struct crc_memo memo = { .len = 0 };
	struct array_buf ab = { cm->buf + HAMMER_BUFSIZE, HAMMER_OFF_BAD };
	struct hammer_err e = { 0 };
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *raw;
		struct hammer_blockmap_layer2 l2;
		hammer_off_t a = l2base + i * sizeof(l2);
		err_reset(&e);
		if (array_read(cm, &ab, a, &raw, &e)) {
			if (!add_finding(cm, HAMMER_CM_LAYER, a, "layer-2 array at "
					 "%016llx is unreadable: %s",
					 (unsigned long long)l2base, e.msg))
				return -ENOMEM;
			break;
		}
		memcpy(&l2, raw, sizeof(l2));
		hammer_layer2_swap(&l2);
		if (!entry_crc_ok(cm, &memo, raw, sizeof(l2), HAMMER_LAYER2_CRCSIZE,
				  l2.entry_crc) &&
		    !add_finding(cm, HAMMER_CM_LAYER, a, "layer-2 entry %016llx "
				 "has a bad CRC", (unsigned long long)a))
			return -ENOMEM;
		if (l2.zone == HAMMER_ZONE_FREE_INDEX) {
			(*nfree)++;
			if (i >= reach)
				cm->unreachable_live++;
		}
	}
	return 0;
}

static int freemap_walk(struct hammer_checkmap *cm, struct hammer_err *err);

int hammer_checkmap_freemap(struct hammer_checkmap *cm, struct hammer_err *err)
{
	int rc = freemap_walk(cm, err);
	int rc2 = flush_skip(cm);
	return rc ? rc : rc2;
}

static int freemap_walk(struct hammer_checkmap *cm, struct hammer_err *err)
{
	struct hammer_volume_ondisk *root = hammer_volset_root(cm->vs);
	hammer_off_t fm = root->vol0_blockmap[HAMMER_ZONE_FREEMAP_INDEX].phys_offset;
	if (hammer_zone_of(fm) != HAMMER_ZONE_RAW_BUFFER_INDEX ||
	    (fm & HAMMER_BIGBLOCK_MASK64))
		return HAMMER_CORRUPT(err, fm, "freemap root (vol0_blockmap[4]."
				      "phys_offset %016llx) is not a zone-2 big-block "
				      "address", (unsigned long long)fm);
	int rc = collect(cm, hammer_xlate_zone(fm, HAMMER_ZONE_FREEMAP_INDEX),
			 HAMMER_BIGBLOCK_SIZE, HAMMER_ZONE_FREEMAP_INDEX);
	if (rc)
		return rc;
	if (!cm->buf && !(cm->buf = malloc(2 * HAMMER_BUFSIZE)))
		return -ENOMEM;
	struct crc_memo memo = { .len = 0 };
	struct array_buf ab = { cm->buf, HAMMER_OFF_BAD };
	const uint64_t per_vol = HAMMER_BLOCKMAP_LAYER1 / HAMMER_MAX_VOLUMES;
	for (uint64_t v = 0; v < HAMMER_MAX_VOLUMES && !rc; v++) {
		uint64_t first = v * per_vol, n = per_vol;
		if (cm->flags & HAMMER_CHECKMAP_REACHABLE) {
			/* entries of one volume cover increasing ranges */
			uint64_t reach = 0;
			while (reach < per_vol && layer2_reachable(cm, first + reach))
				reach++;
			n = (reach + L1_PER_SECTOR - 1) / L1_PER_SECTOR * L1_PER_SECTOR;
			if (n < per_vol)
				rc = add_skip(cm, fm + (first + n) * sizeof(struct hammer_blockmap_layer1),
					      (per_vol - n) * sizeof(struct hammer_blockmap_layer1));
		}
		struct hammer_err e = { 0 };
		for (uint64_t i = first; i < first + n && !rc; i++) {
			const uint8_t *raw;
			struct hammer_blockmap_layer1 l1;
			hammer_off_t a = fm + i * sizeof(l1);
			err_reset(&e);
			if (array_read(cm, &ab, a, &raw, &e)) {
				if (!add_finding(cm, HAMMER_CM_LAYER, a, "layer-1 array is "
						 "unreadable: %s", e.msg))
					return -ENOMEM;
				return 0;
			}
			memcpy(&l1, raw, sizeof(l1));
			hammer_layer1_swap(&l1);
			if (!entry_crc_ok(cm, &memo, raw, sizeof(l1), HAMMER_LAYER1_CRCSIZE,
					  l1.layer1_crc) &&
			    !add_finding(cm, HAMMER_CM_LAYER, a, "layer-1 entry %016llx "
					 "has a bad CRC", (unsigned long long)a))
				return -ENOMEM;
			if (l1.phys_offset == HAMMER_BLOCKMAP_UNAVAIL)
				continue;
			if (!layer2_reachable(cm, i))
				cm->unreachable_live++;
			if (hammer_zone_of(l1.phys_offset) != HAMMER_ZONE_RAW_BUFFER_INDEX ||
			    (l1.phys_offset & HAMMER_BIGBLOCK_MASK64)) {
				if (!add_finding(cm, HAMMER_CM_LAYER, a, "layer-1 entry %016llx "
						 "points at %016llx, not a zone-2 big-block",
						 (unsigned long long)a,
						 (unsigned long long)l1.phys_offset))
					return -ENOMEM;
				continue;
			}
			rc = collect(cm, hammer_xlate_zone(l1.phys_offset,
							   HAMMER_ZONE_FREEMAP_INDEX),
				     HAMMER_BIGBLOCK_SIZE, HAMMER_ZONE_FREEMAP_INDEX);
			int64_t nfree = 0;
			if (!rc)
				rc = count_free_layer2(cm, i, l1.phys_offset, &nfree);
			if (!rc && nfree != l1.blocks_free) {
				struct hammer_checkmap_finding *f =
					add_finding(cm, HAMMER_CM_L1FREE, a, "layer-1 entry "
						    "%016llx says %lld free big-blocks, its "
						    "layer-2 array has %lld", (unsigned long long)a,
						    (long long)l1.blocks_free, (long long)nfree);
				if (!f)
					return -ENOMEM;
				f->calc = nfree;
				f->got = l1.blocks_free;
			}
		}
	}
	return rc;
}

static int data_zone(const struct hammer_btree_leaf_elm *leaf)
{
	switch (leaf->base.rec_type) {
	case HAMMER_RECTYPE_INODE:
	case HAMMER_RECTYPE_DIRENTRY:
	case HAMMER_RECTYPE_EXT:
	case HAMMER_RECTYPE_FIX:
	case HAMMER_RECTYPE_PFS:
	case HAMMER_RECTYPE_SNAPSHOT:
	case HAMMER_RECTYPE_CONFIG:
		return HAMMER_ZONE_META_INDEX;
	case HAMMER_RECTYPE_DATA:
	case HAMMER_RECTYPE_DB:
		return leaf->data_len >= HAMMER_BUFSIZE ? HAMMER_ZONE_LARGE_DATA_INDEX
							: HAMMER_ZONE_SMALL_DATA_INDEX;
	default:
		return HAMMER_ZONE_UNAVAIL_INDEX;
	}
}

struct walk {
	struct hammer_checkmap *cm;
	struct hammer_rdcache *nc;	/* node reads */
	struct hammer_u64map seen;	/* nodes visited: loop detection */
};

static int bad_node(struct walk *w, hammer_off_t off, int depth, char badc,
		    char badm, const struct hammer_node_ondisk *n, const char *why)
{
	struct hammer_checkmap_finding *f =
		add_finding(w->cm, HAMMER_CM_NODE, off, "B-tree node %016llx "
			    "(depth %d): %s", (unsigned long long)off, depth, why);
	if (!f)
		return -ENOMEM;
	f->depth = depth;
	f->badc = badc;
	f->badm = badm;
	if (n) {
		f->node_read = 1;
		f->count = n->count;
		f->type = n->type;
		f->parent = n->parent;
		f->mirror_tid = n->mirror_tid;
	}
	return 0;
}

static int walk_node(struct walk *w, hammer_off_t off, int depth)
{
	struct hammer_node_ondisk *n;
	int isnew = 0;
	if (depth > HAMMER_INSPECT_MAX_DEPTH)
		return bad_node(w, off, depth, 'B', 'D', NULL,
				"B-tree deeper than any legal tree");
	if (!hammer_u64map_get(&w->seen, off, &isnew))
		return -ENOMEM;
	if (!isnew)
		return bad_node(w, off, depth, 'B', 'L', NULL,
				"node reached twice (child pointer loop)");
	n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	struct hammer_err e = { 0 };
	enum hammer_crc_match crc;
	int rc = 0;
	if (hammer_inspect_node_read(w->cm->vs, w->nc, off, n, &crc, &e)) {
		rc = bad_node(w, off, depth, 'B', 'I', NULL, e.msg);
		goto out;
	}
	/* one finding per node, naming every problem found in it */
	int max = hammer_node_max_elements(n->type);
	int count = n->count;
	char why[160] = "";
	char badm = ' ';
	if (crc == HAMMER_CRC_BAD)
		strcat(why, "CRC mismatch; ");
	if (max < 0) {
		strcat(why, "unknown node type; ");
		badm = 'U';
		count = 0;
	} else if (count < 0 || count > max) {
		strcat(why, "element count out of range; ");
		badm = 'C';
		count = count < 0 ? 0 : max;
	}
	if (why[0]) {
		why[strlen(why) - 2] = 0;
		rc = bad_node(w, off, depth, 'B', badm, n, why);
		if (rc)
			goto out;
	}
	for (int i = 0; i < count && !rc; i++) {
		hammer_btree_elm_t *elm = &n->elms[i];
		if (n->type == HAMMER_BTREE_TYPE_INTERNAL) {
			hammer_off_t sub = elm->internal.subtree_offset;
			if (!sub)
				continue;
			rc = collect(w->cm, sub, HAMMER_BTREE_NODE_SIZE,
				     HAMMER_ZONE_BTREE_INDEX);
			if (!rc)
				rc = walk_node(w, sub, depth + 1);
		} else if (elm->leaf.data_offset) {
			const struct hammer_btree_leaf_elm *lf = &elm->leaf;
			if (lf->data_len < 0 || lf->data_len > HAMMER_INSPECT_MAX_DATA) {
				if (!add_finding(w->cm, HAMMER_CM_LOOKUP, lf->data_offset,
						 "leaf element %d of node %016llx: data "
						 "length %d out of range", i,
						 (unsigned long long)off, lf->data_len))
					rc = -ENOMEM;
				continue;
			}
			rc = collect(w->cm, lf->data_offset,
				     ((int64_t)lf->data_len + 15) & ~(int64_t)15,
				     data_zone(lf));
		}
	}
out:
	free(n);
	return rc;
}

int hammer_checkmap_btree(struct hammer_checkmap *cm, struct hammer_err *err)
{
	(void)err;
	struct walk w = { .cm = cm };
	hammer_off_t root = hammer_volset_root(cm->vs)->vol0_btree_root;
	w.nc = malloc(sizeof(*w.nc));
	if (!w.nc)
		return -ENOMEM;
	hammer_rdcache_init(w.nc);
	hammer_u64map_init(&w.seen);
	int rc = collect(cm, root, HAMMER_BTREE_NODE_SIZE, HAMMER_ZONE_BTREE_INDEX);
	if (!rc)
		rc = walk_node(&w, root, 0);
	hammer_u64map_free(&w.seen);
	free(w.nc);
	return rc;
}

/*
 * The FIFO a REACHABLE run reads: the record boundaries (`bound`: 512 bytes
 * from v4) around the live range [first, next), wrapping at the end.
 * Returns the number of ranges (0..2); -1 when first/next lie outside the
 * FIFO (then everything is read).
 */
static int live_sectors(const struct hammer_blockmap *um, hammer_off_t beg,
			hammer_off_t end, uint32_t bound, hammer_off_t lo[2],
			hammer_off_t hi[2])
{
	hammer_off_t first = um->first_offset, next = um->next_offset;
	const hammer_off_t smask = bound - 1;
	if (first < beg || first >= end || next < beg || next >= end)
		return -1;
	if (first == next)
		return 0;
	if (first < next) {
		lo[0] = first & ~smask;
		hi[0] = (next + smask) & ~smask;
		return 1;
	}
	lo[0] = first & ~smask;
	hi[0] = end;
	lo[1] = beg;
	hi[1] = (next + smask) & ~smask;
	return 2;
}

int hammer_checkmap_undo(struct hammer_checkmap *cm, struct hammer_err *err)
{
	struct hammer_volume_ondisk *root = hammer_volset_root(cm->vs);
	const struct hammer_blockmap *um = &root->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	hammer_off_t beg = hammer_encode(HAMMER_ZONE_UNDO_INDEX, 0, 0);
	hammer_off_t end = um->alloc_offset;
	hammer_off_t maxend = beg + (hammer_off_t)HAMMER_UNDO_LAYER2 * HAMMER_BIGBLOCK_SIZE;
	if (end < beg || end > maxend || (end & HAMMER_BUFMASK))
		return HAMMER_CORRUPT(err, end, "UNDO FIFO end (vol0_blockmap[3]."
				      "alloc_offset %016llx) is not a 16 KB aligned "
				      "zone-3 address of at most %d big-blocks",
				      (unsigned long long)end, HAMMER_UNDO_LAYER2);
	uint32_t bound = hammer_fifo_boundary(cm->vs->version);
	hammer_off_t lo[2], hi[2];
	int nlive = -1;
	if (cm->flags & HAMMER_CHECKMAP_REACHABLE)
		nlive = live_sectors(um, beg, end, bound, lo, hi);
	struct hammer_rdcache *c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	hammer_rdcache_init(c);
	uint8_t *rec = malloc(bound);
	int rc = rec ? 0 : -ENOMEM;
	hammer_off_t scan = beg;
	struct hammer_err e = { 0 };
	while (!rc && scan < end) {
		if (nlive >= 0) {
			/* outside the live sectors: count up to the next one unread */
			hammer_off_t stop = (scan | HAMMER_BIGBLOCK_MASK64) + 1;
			int live = 0;
			for (int k = 0; k < nlive; k++) {
				if (scan >= lo[k] && scan < hi[k])
					live = 1;
				else if (lo[k] > scan && lo[k] < stop)
					stop = lo[k];
			}
			if (stop > end)
				stop = end;
			if (!live) {
				rc = collect(cm, scan, (int64_t)(stop - scan),
					     HAMMER_ZONE_UNDO_INDEX);
				scan = stop;
				continue;
			}
		}
		uint32_t avail = bound - (uint32_t)(scan & (bound - 1));
		err_reset(&e);
		if (hammer_inspect_read(cm->vs, c, scan, rec, avail, &e)) {
			/* a whole unreadable big-block: skip it */
			if (!add_finding(cm, HAMMER_CM_FIFO, scan, "%s", e.msg)) {
				rc = -ENOMEM;
				break;
			}
			scan = (scan | HAMMER_BIGBLOCK_MASK64) + 1;
			continue;
		}
		struct hammer_fifo_rec r;
		uint32_t step;
		if (hammer_fifo_rec_check(cm->vs->version, scan, rec, avail, &r, &e)) {
			if (!add_finding(cm, HAMMER_CM_FIFO, scan, "%s", e.msg)) {
				rc = -ENOMEM;
				break;
			}
		}
		step = r.size_ok ? r.head.hdr_size : avail;
		cm->fifo_records++;
		rc = collect(cm, scan, step, HAMMER_ZONE_UNDO_INDEX);
		scan += step;
	}
	free(rec);
	free(c);
	return rc;
}

static int cmp_block(const void *a, const void *b)
{
	const struct hammer_checkmap_block *x = a, *y = b;
	return x->l2addr < y->l2addr ? -1 : x->l2addr > y->l2addr;
}

int hammer_checkmap_finish(struct hammer_checkmap *cm, struct hammer_err *err)
{
	(void)err;
	if (cm->nblocks)
		qsort(cm->blocks, cm->nblocks, sizeof(*cm->blocks), cmp_block);
	memset(cm->memo, 0, sizeof(cm->memo));	/* slots moved */
	for (size_t i = 0; i < cm->nblocks; i++) {
		struct hammer_checkmap_block *b = &cm->blocks[i];
		struct hammer_checkmap_finding *f = NULL;
		if (!b->l2_ok) {
			b->status = HAMMER_CM_LAYER;
			continue;
		}
		if (b->status)
			continue;	/* zone clash, already reported */
		if (b->calc_zone != b->l2.zone) {
			f = add_finding(cm, HAMMER_CM_ZONE, b->block, "big-block %016llx: "
					"used by zone %d, layer-2 says zone %d",
					(unsigned long long)b->block, b->calc_zone,
					b->l2.zone);
			if (f) {
				f->calc_zone = b->calc_zone;
				f->got_zone = b->l2.zone;
			}
			b->status = HAMMER_CM_ZONE;
		} else if (b->calc_free != b->l2.bytes_free) {
			f = add_finding(cm, HAMMER_CM_FREE, b->block, "big-block %016llx "
					"zone %d: %lld bytes free by recount, layer-2 "
					"says %d", (unsigned long long)b->block,
					b->l2.zone, (long long)b->calc_free,
					b->l2.bytes_free);
			if (f) {
				f->calc = b->calc_free;
				f->got = b->l2.bytes_free;
			}
			b->status = HAMMER_CM_FREE;
		} else if (b->max_end > b->l2.append_off) {
			f = add_finding(cm, HAMMER_CM_APPEND, b->block, "big-block %016llx "
					"zone %d: space used up to %llu, beyond "
					"append_off %u", (unsigned long long)b->block,
					b->l2.zone, (unsigned long long)b->max_end,
					b->l2.append_off);
			if (f) {
				f->calc = (int64_t)b->max_end;
				f->got = b->l2.append_off;
			}
			b->status = HAMMER_CM_APPEND;
		} else {
			continue;
		}
		if (!f)
			return -ENOMEM;
	}
	return 0;
}

int hammer_checkmap_run(struct hammer_checkmap *cm, struct hammer_volset *vs,
			struct hammer_err *err)
{
	int rc = hammer_checkmap_init(cm, vs);
	if (!rc)
		rc = hammer_checkmap_freemap(cm, err);
	if (!rc)
		rc = hammer_checkmap_btree(cm, err);
	if (!rc)
		rc = hammer_checkmap_undo(cm, err);
	if (!rc)
		rc = hammer_checkmap_finish(cm, err);
	return rc;
}
