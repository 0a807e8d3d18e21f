/*
 * btree.c - HAMMER B-tree search, iteration, insert (top-down splits),
 * delete (recursive removal of empty nodes), delete_tid marking and
 * mirror_tid propagation.  See btree.h for the shape and the cursor rules.
 *
 * Every mutation runs in two phases: first pin, allocate and modify()
 * everything it will touch (any failure there leaves the tree as it was),
 * then change bytes.  A multi-level insert is a sequence of such steps, each
 * leaving a valid tree.
 */
#include "btree.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "crc.h"

const struct hammer_base_elm hammer_btree_root_beg = {
	.localization = HAMMER_MIN_ONDISK_LOCALIZATION,
	.obj_id = HAMMER_MIN_OBJID,
	.rec_type = HAMMER_MIN_RECTYPE,
	.key = HAMMER_MIN_KEY,
	.create_tid = 1,
	.delete_tid = 1,
};

const struct hammer_base_elm hammer_btree_root_end = {
	.localization = HAMMER_MAX_ONDISK_LOCALIZATION,
	.obj_id = HAMMER_MAX_OBJID,
	.rec_type = HAMMER_MAX_RECTYPE,
	.key = HAMMER_MAX_KEY,
	.create_tid = HAMMER_MAX_TID,
	.delete_tid = 0,
};

#define ESIZE sizeof(hammer_btree_elm_t)

static void set_why(int *why, int code)
{
	if (why)
		*why = code;
}

/* ------------------------------------------------------ encode / decode */

void hammer_btree_node_encode(unsigned version,
			      const struct hammer_node_ondisk *host, void *disk)
{
	struct hammer_node_ondisk *d = disk;
	int used = host->type == HAMMER_BTREE_TYPE_INTERNAL ? host->count + 1
							    : host->count;

	assert(((uintptr_t)disk & 7) == 0);
	if (used < 0)
		used = 0;
	if (used > HAMMER_BTREE_MAXELMS)
		used = HAMMER_BTREE_MAXELMS;
	memcpy(d, host, sizeof(*d));
	memset(&d->elms[used], 0, (size_t)(HAMMER_BTREE_MAXELMS - used) * ESIZE);
	hammer_node_swap(d);
	d->crc = htole32(hammer_datacrc(version, (const uint8_t *)d + HAMMER_BTREE_CRCOFF,
					HAMMER_BTREE_CRCSIZE));
}

int hammer_btree_node_decode(unsigned version, hammer_off_t off,
			     const void *disk, struct hammer_node_ondisk *host,
			     int *why, struct hammer_err *err)
{
	const struct hammer_node_ondisk *d = disk;
	uint32_t stored = le32toh(d->crc);

	if (hammer_crc_check(version, (const uint8_t *)disk + HAMMER_BTREE_CRCOFF,
			     HAMMER_BTREE_CRCSIZE, stored) == HAMMER_CRC_BAD) {
		set_why(why, HAMMER_CHK_BTREE_CRC);
		return HAMMER_CORRUPT(err, off,
			"B-tree node %016llx: CRC mismatch (stored %08x)",
			(unsigned long long)off, stored);
	}
	memcpy(host, disk, sizeof(*host));
	hammer_node_swap(host);
	return hammer_btree_node_verify(host, off, why, err);
}

int hammer_btree_node_verify(const struct hammer_node_ondisk *n,
			     hammer_off_t off, int *why, struct hammer_err *err)
{
	unsigned long long o = (unsigned long long)off;
	int last;

	if (n->type == HAMMER_BTREE_TYPE_LEAF) {
		if (n->count < 0 || n->count > HAMMER_BTREE_LEAF_ELMS) {
			set_why(why, HAMMER_CHK_BTREE_COUNT);
			return HAMMER_CORRUPT(err, off,
				"B-tree node %016llx: leaf count %d out of range",
				o, n->count);
		}
		for (int i = 0; i < n->count; i++) {
			if (n->elms[i].base.btype != HAMMER_BTREE_TYPE_RECORD) {
				set_why(why, HAMMER_CHK_BTREE_ELM_BTYPE);
				return HAMMER_CORRUPT(err, off,
					"B-tree node %016llx: leaf element %d has btype %#x",
					o, i, n->elms[i].base.btype);
			}
		}
		last = n->count - 1;
	} else if (n->type == HAMMER_BTREE_TYPE_INTERNAL) {
		if (n->count < 1 || n->count > HAMMER_BTREE_INT_ELMS) {
			set_why(why, HAMMER_CHK_BTREE_COUNT);
			return HAMMER_CORRUPT(err, off,
				"B-tree node %016llx: internal count %d out of range",
				o, n->count);
		}
		for (int i = 0; i < n->count; i++) {
			const struct hammer_btree_internal_elm *e = &n->elms[i].internal;
			if (e->base.btype != HAMMER_BTREE_TYPE_INTERNAL &&
			    e->base.btype != HAMMER_BTREE_TYPE_LEAF) {
				set_why(why, HAMMER_CHK_BTREE_ELM_BTYPE);
				return HAMMER_CORRUPT(err, off,
					"B-tree node %016llx: internal element %d has btype %#x",
					o, i, e->base.btype);
			}
			if (!hammer_btree_off_ok(e->subtree_offset)) {
				set_why(why, HAMMER_CHK_BTREE_SUBTREE_ADDR);
				return HAMMER_CORRUPT(err, off,
					"B-tree node %016llx: element %d subtree %016llx is not a node address",
					o, i, (unsigned long long)e->subtree_offset);
			}
		}
		const struct hammer_btree_internal_elm *rb = &n->elms[n->count].internal;
		if (rb->subtree_offset != 0 ||
		    (rb->base.btype != 0 && rb->base.btype != HAMMER_BTREE_TYPE_INTERNAL &&
		     rb->base.btype != HAMMER_BTREE_TYPE_LEAF)) {
			set_why(why, HAMMER_CHK_BTREE_BOUNDARY);
			return HAMMER_CORRUPT(err, off,
				"B-tree node %016llx: right boundary %d has subtree %016llx btype %#x",
				o, n->count, (unsigned long long)rb->subtree_offset,
				rb->base.btype);
		}
		last = n->count;
	} else {
		set_why(why, HAMMER_CHK_BTREE_NODE_TYPE);
		return HAMMER_CORRUPT(err, off, "B-tree node %016llx: %s (type %#x)", o,
			n->type == HAMMER_BTREE_TYPE_DELETED ? "freed node is linked"
							      : "bad node type",
			n->type);
	}
	for (int i = 0; i < last; i++) {
		if (hammer_btree_cmp(&n->elms[i].base, &n->elms[i + 1].base) >= 0) {
			set_why(why, HAMMER_CHK_BTREE_KEY_ORDER);
			return HAMMER_CORRUPT(err, off,
				"B-tree node %016llx: elements %d and %d out of order",
				o, i, i + 1);
		}
	}
	return 0;
}

/* ------------------------------------------------------------- node io */

static int node_get(struct hammer_btree *t, hammer_off_t off,
		    struct hammer_node **np, struct hammer_err *err)
{
	return t->io.ops->get(t->io.ctx, off, np, NULL, err);
}

static void node_put(struct hammer_btree *t, struct hammer_node *n)
{
	t->io.ops->put(t->io.ctx, n);
}

static int node_modify(struct hammer_btree *t, struct hammer_node *n,
		       struct hammer_err *err)
{
	return t->io.ops->modify(t->io.ctx, n, err);
}

/* Undo an allocation made in the preparation phase of a failed step. */
static void node_unalloc(struct hammer_btree *t, struct hammer_node *n)
{
	struct hammer_err ignore = { 0 };
	n->ondisk->type = HAMMER_BTREE_TYPE_DELETED;
	(void)t->io.ops->free(t->io.ctx, n, &ignore);
}

void hammer_btree_open(struct hammer_btree *t, const struct hammer_node_io *io,
		       hammer_off_t root)
{
	assert(io->ops && io->ops->version == HAMMER_NODE_IO_VERSION);
	memset(t, 0, sizeof(*t));
	t->io = *io;
	t->root = root;
}

int hammer_btree_create(struct hammer_btree *t, const struct hammer_node_io *io,
			struct hammer_err *err)
{
	struct hammer_node *n;
	int rc;

	hammer_btree_open(t, io, 0);
	rc = io->ops->alloc(io->ctx, &n, err);
	if (rc)
		return rc;
	if (io->ops->set_root) {
		rc = io->ops->set_root(io->ctx, n->offset, err);
		if (rc) {
			node_unalloc(t, n);
			return rc;
		}
	}
	n->ondisk->type = HAMMER_BTREE_TYPE_LEAF;
	t->root = n->offset;
	node_put(t, n);
	return 0;
}

/* ------------------------------------------------------------- searching */

/* First leaf element >= key. */
static int leaf_lower_bound(const struct hammer_node_ondisk *n,
			    const struct hammer_base_elm *key)
{
	int lo = 0, hi = n->count;
	while (lo < hi) {
		int mid = (lo + hi) >> 1;
		if (hammer_btree_cmp(&n->elms[mid].base, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * leaf_lower_bound, probing next to position p first: a sequential access
 * lands there in two comparisons.  Any p is fine (out of range: ignored).
 */
static int leaf_lower_bound_near(const struct hammer_node_ondisk *n,
				 const struct hammer_base_elm *key, int p)
{
	int lo = 0, hi = n->count;	/* elms[lo-1] < key <= elms[hi] */

	if (p >= 0 && p < hi) {
		if (hammer_btree_cmp(&n->elms[p].base, key) < 0) {
			lo = p + 1;
			if (lo < hi && hammer_btree_cmp(&n->elms[lo].base, key) >= 0)
				hi = lo;
		} else {
			hi = p;
			if (p > 0 && hammer_btree_cmp(&n->elms[p - 1].base, key) < 0)
				lo = p;
		}
	}
	while (lo < hi) {
		int mid = (lo + hi) >> 1;
		if (hammer_btree_cmp(&n->elms[mid].base, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* First index in elms[0..count] (boundary included) whose key is > key. */
static int internal_upper_bound(const struct hammer_node_ondisk *n,
				const struct hammer_base_elm *key)
{
	int lo = 0, hi = n->count + 1;
	while (lo < hi) {
		int mid = (lo + hi) >> 1;
		if (hammer_btree_cmp(&n->elms[mid].base, key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void hammer_cursor_init(struct hammer_cursor *c, struct hammer_btree *t,
			struct hammer_err *err)
{
	memset(c, 0, sizeof(*c));
	c->tree = t;
	c->err = err;
	c->gen = t->gen;
	c->key_end = hammer_btree_root_end;
	c->key_beg = hammer_btree_root_beg;
	c->asof = HAMMER_MAX_TID;
}

/* Remember the current path in the hint (tree unchanged since it was pinned). */
static void hint_record(struct hammer_cursor *c)
{
	struct hammer_btree_hint *h = c->hint;

	if (!h || c->depth == 0 || c->gen != c->tree->gen)
		return;
	h->depth = c->depth;
	for (int d = 0; d < c->depth; d++) {
		h->node[d] = c->path[d].node->offset;
		h->index[d] = c->path[d].index;
	}
}

/* The index the hint took at level d if it was at node `off` there, or -1. */
static int hint_index(const struct hammer_btree_hint *h, int d, hammer_off_t off)
{
	if (!h || d >= h->depth || h->depth > HAMMER_BTREE_MAX_DEPTH ||
	    h->node[d] != off)
		return -1;
	return h->index[d];
}

/*
 * Whether child i of internal node n, recorded as `child`, is still where
 * internal_upper_bound would send `key`: keys strictly increase, so
 * elms[i] <= key < elms[i+1] has exactly one solution.
 */
static int hint_fits(const struct hammer_node_ondisk *n, int i, hammer_off_t child,
		     const struct hammer_base_elm *key)
{
	return i >= 0 && i < n->count &&
	       n->elms[i].internal.subtree_offset == child &&
	       hammer_btree_cmp(&n->elms[i].base, key) <= 0 &&
	       hammer_btree_cmp(key, &n->elms[i + 1].base) < 0;
}

void hammer_cursor_done(struct hammer_cursor *c)
{
	hint_record(c);
	while (c->depth > 0) {
		struct hammer_node *n = c->path[--c->depth].node;
		if (n)
			node_put(c->tree, n);
	}
}

int hammer_cursor_ok(const struct hammer_cursor *c)
{
	if (c->depth < 0 || c->depth > HAMMER_BTREE_MAX_DEPTH)
		return 0;
	for (int d = 0; d < c->depth; d++) {
		const struct hammer_node *n = c->path[d].node;
		const struct hammer_node_ondisk *o = n->ondisk;
		if (d == 0 && (n->offset != c->tree->root || o->parent != 0))
			return 0;
		if (d + 1 < c->depth) {
			const struct hammer_node *ch = c->path[d + 1].node;
			if (o->type != HAMMER_BTREE_TYPE_INTERNAL ||
			    c->path[d].index < 0 || c->path[d].index >= o->count ||
			    o->elms[c->path[d].index].internal.subtree_offset != ch->offset ||
			    ch->ondisk->parent != n->offset)
				return 0;
		} else if (c->path[d].index < 0 || c->path[d].index > o->count) {
			return 0;
		}
	}
	return 1;
}

static int push(struct hammer_cursor *c, struct hammer_node *n)
{
	assert(c->depth < HAMMER_BTREE_MAX_DEPTH);
	c->path[c->depth].node = n;
	c->path[c->depth].index = 0;
	c->depth++;
	return 0;
}

static void pop(struct hammer_cursor *c)
{
	assert(c->depth > 0);
	c->depth--;
	node_put(c->tree, c->path[c->depth].node);
	c->path[c->depth].node = NULL;
}

static int load_root(struct hammer_cursor *c)
{
	struct hammer_btree *t = c->tree;
	struct hammer_node *n;
	int rc;

	assert(c->depth == 0);
	if (!hammer_btree_off_ok(t->root))
		return HAMMER_CORRUPT(c->err, t->root,
			"B-tree root %016llx is not a node address",
			(unsigned long long)t->root);
	rc = node_get(t, t->root, &n, c->err);
	if (rc)
		return rc;
	const struct hammer_node_ondisk *o = n->ondisk;
	if (o->parent != 0) {
		node_put(t, n);
		return HAMMER_CORRUPT(c->err, t->root,
			"B-tree node %016llx: root has parent %016llx",
			(unsigned long long)t->root, (unsigned long long)o->parent);
	}
	return push(c, n);
}

/*
 * Pin the child under the current internal level, refusing anything that
 * does not fit where it hangs: a node already on the path (a loop), a parent
 * field naming another node, a type other than the element's btype, or keys
 * outside the parent element's range.
 */
static int load_child(struct hammer_cursor *c)
{
	struct hammer_btree *t = c->tree;
	struct hammer_cursor_level *pl = &c->path[c->depth - 1];
	const hammer_btree_elm_t *e = &pl->node->ondisk->elms[pl->index];
	hammer_off_t off = e->internal.subtree_offset;
	unsigned long long po = (unsigned long long)pl->node->offset;
	struct hammer_node *ch;
	int rc;

	if (c->depth >= HAMMER_BTREE_MAX_DEPTH)
		return HAMMER_CORRUPT(c->err, pl->node->offset,
			"B-tree node %016llx: tree deeper than %d levels",
			po, HAMMER_BTREE_MAX_DEPTH);
	for (int d = 0; d < c->depth; d++) {
		if (c->path[d].node->offset == off)
			return HAMMER_CORRUPT(c->err, pl->node->offset,
				"B-tree node %016llx: element %d points back at ancestor %016llx",
				po, pl->index, (unsigned long long)off);
	}
	rc = node_get(t, off, &ch, c->err);
	if (rc)
		return rc;
	const struct hammer_node_ondisk *o = ch->ondisk;
	const char *why = NULL;
	if (o->parent != pl->node->offset)
		why = "parent field names another node";
	else if (o->type != e->base.btype)
		why = "type differs from the parent element's btype";
	else if (o->type == HAMMER_BTREE_TYPE_INTERNAL) {
		if (hammer_btree_cmp(&o->elms[0].base, &e[0].base) < 0 ||
		    hammer_btree_cmp(&o->elms[o->count].base, &e[1].base) > 0)
			why = "boundaries outside the parent element's range";
	} else if (o->count > 0) {
		if (hammer_btree_cmp(&o->elms[0].base, &e[0].base) < 0 ||
		    hammer_btree_cmp(&o->elms[o->count - 1].base, &e[1].base) >= 0)
			why = "keys outside the parent element's range";
	}
	if (why) {
		node_put(t, ch);
		return HAMMER_CORRUPT(c->err, off,
			"B-tree node %016llx (child %d of %016llx): %s",
			(unsigned long long)off, pl->index, po, why);
	}
	return push(c, ch);
}

/*
 * Pop a positioned cursor's path (tree unchanged, so every pinned link and
 * bound is still as load_child checked it) up to the deepest level whose
 * parent element contains `key`.  Bounds nest, so every level kept is the
 * one a search from the root would pass through.
 */
static void cursor_rewind(struct hammer_cursor *c, const struct hammer_base_elm *key)
{
	while (c->depth > 1) {
		const struct hammer_cursor_level *p = &c->path[c->depth - 2];
		const hammer_btree_elm_t *e = &p->node->ondisk->elms[p->index];
		if (hammer_btree_cmp(&e[0].base, key) <= 0 &&
		    hammer_btree_cmp(key, &e[1].base) < 0)
			break;
		pop(c);
	}
}

/*
 * Descend for reading.  Returns 1 at a leaf (index = first element >= key),
 * 0 when the key falls in a gap left of or right of an internal node's own
 * bounds (index 0 or count: iteration continues correctly from there), or a
 * negative errno with the cursor released.  With c->hint, starts from the
 * cursor's own position or follows the hint (see btree.h); each level still
 * lands where the binary search from the root would.
 */
static int search_read(struct hammer_cursor *c, const struct hammer_base_elm *key)
{
	struct hammer_btree *t = c->tree;
	const struct hammer_btree_hint *h = c->hint;
	int searched = 0, rc = 0;

	t->stats.searches++;
	if (h && c->depth > 0 && c->gen == t->gen) {
		assert(hammer_cursor_ok(c));
		hint_record(c);
		cursor_rewind(c, key);
	} else {
		hammer_cursor_done(c);
		c->gen = t->gen;
		rc = load_root(c);
	}
	while (rc == 0) {
		int d = c->depth - 1;
		struct hammer_cursor_level *l = &c->path[d];
		const struct hammer_node_ondisk *n = l->node->ondisk;
		int hi = hint_index(h, d, l->node->offset), i;
		if (n->type == HAMMER_BTREE_TYPE_LEAF) {
			l->index = hi >= 0 ? leaf_lower_bound_near(n, key, hi)
					   : leaf_lower_bound(n, key);
			rc = 1;
			break;
		}
		if (hi >= 0 && d + 1 < h->depth && hint_fits(n, hi, h->node[d + 1], key)) {
			i = hi + 1;
		} else {
			searched = 1;
			i = internal_upper_bound(n, key);
		}
		if (i == 0 || i > n->count) {
			l->index = i == 0 ? 0 : n->count;
			break;
		}
		l->index = i - 1;
		rc = load_child(c);
	}
	if (h) {
		if (searched || rc < 0)
			t->stats.hint_misses++;
		else
			t->stats.hint_hits++;
	}
	if (rc < 0)
		hammer_cursor_done(c);
	else
		hint_record(c);
	return rc;
}

int hammer_btree_lookup(struct hammer_cursor *c, const struct hammer_base_elm *key)
{
	int rc = search_read(c, key);
	if (rc == 1) {
		struct hammer_cursor_level *l = &c->path[c->depth - 1];
		const struct hammer_node_ondisk *n = l->node->ondisk;
		if (l->index < n->count &&
		    hammer_btree_cmp(&n->elms[l->index].base, key) == 0)
			return 0;
	}
	hammer_cursor_done(c);
	return rc < 0 ? rc : -ENOENT;
}

static int past_end(const struct hammer_cursor *c, const struct hammer_base_elm *e)
{
	int r = hammer_btree_cmp(e, &c->key_end);
	return r > 0 || (r == 0 && !(c->flags & HAMMER_CURSOR_END_INCLUSIVE));
}

/* Move forward from the current position to the next element in range. */
static int settle(struct hammer_cursor *c)
{
	int rc = 0;

	while (c->depth > 0) {
		struct hammer_cursor_level *l = &c->path[c->depth - 1];
		const struct hammer_node_ondisk *n = l->node->ondisk;
		if (n->type == HAMMER_BTREE_TYPE_LEAF) {
			if (l->index >= n->count) {
				pop(c);
				if (c->depth > 0)
					c->path[c->depth - 1].index++;
				continue;
			}
			const struct hammer_base_elm *e = &n->elms[l->index].base;
			if (past_end(c, e))
				break;
			if ((c->flags & HAMMER_CURSOR_ASOF) &&
			    !hammer_btree_visible(e, c->asof)) {
				l->index++;
				continue;
			}
			return 0;
		}
		if (l->index >= n->count) {
			pop(c);
			if (c->depth > 0)
				c->path[c->depth - 1].index++;
			continue;
		}
		/* the whole subtree starts at or after the end of the range */
		if (past_end(c, &n->elms[l->index].base))
			break;
		rc = load_child(c);
		if (rc)
			break;
	}
	hammer_cursor_done(c);
	return rc ? rc : -ENOENT;
}

int hammer_btree_first(struct hammer_cursor *c)
{
	int rc = search_read(c, &c->key_beg);
	if (rc < 0)
		return rc;
	return settle(c);
}

int hammer_btree_next(struct hammer_cursor *c)
{
	if (c->depth == 0)
		return -ENOENT;
	assert(c->gen == c->tree->gen);
	c->path[c->depth - 1].index++;
	return settle(c);
}

int hammer_btree_lookup_asof(struct hammer_cursor *c,
			     const struct hammer_base_elm *key, hammer_tid_t asof)
{
	c->key_beg = *key;
	c->key_beg.create_tid = 1;
	c->key_end = *key;
	c->key_end.create_tid = 0;	/* +infinity: every version */
	c->flags = HAMMER_CURSOR_ASOF | HAMMER_CURSOR_END_INCLUSIVE;
	c->asof = asof;
	return hammer_btree_first(c);
}

const struct hammer_btree_leaf_elm *hammer_cursor_leaf(const struct hammer_cursor *c)
{
	assert(c->depth > 0);
	const struct hammer_cursor_level *l = &c->path[c->depth - 1];
	assert(l->node->ondisk->type == HAMMER_BTREE_TYPE_LEAF);
	assert(l->index >= 0 && l->index < l->node->ondisk->count);
	return &l->node->ondisk->elms[l->index].leaf;
}

/* ------------------------------------------------------------- mirror_tid */

/*
 * Raise the leaf's mirror_tid to `tid`, then each ancestor element's and
 * node's, stopping where a value already covers it.  With apply == 0 only
 * modify() the nodes that would change; the same walk then applies.
 */
static int mirror_walk(struct hammer_cursor *c, hammer_tid_t tid, int apply)
{
	struct hammer_btree *t = c->tree;
	int d = c->depth - 1;
	struct hammer_node *n = c->path[d].node;
	int rc;

	if (t->no_mirror || n->ondisk->mirror_tid >= tid)
		return 0;
	if (apply)
		n->ondisk->mirror_tid = tid;
	else if ((rc = node_modify(t, n, c->err)) != 0)
		return rc;
	while (--d >= 0) {
		n = c->path[d].node;
		struct hammer_btree_internal_elm *e =
			&n->ondisk->elms[c->path[d].index].internal;
		if (e->mirror_tid >= tid)
			break;
		if (!apply && (rc = node_modify(t, n, c->err)) != 0)
			return rc;
		if (apply)
			e->mirror_tid = tid;
		if (n->ondisk->mirror_tid >= tid)
			break;
		if (apply)
			n->ondisk->mirror_tid = tid;
	}
	return 0;
}

/* ------------------------------------------------------------- splitting */

/* Children whose parent field must follow them into a new node. */
struct kidset {
	int n;
	struct hammer_node *v[HAMMER_BTREE_MAXELMS];
};

static void kids_put(struct hammer_btree *t, struct kidset *k)
{
	while (k->n > 0)
		node_put(t, k->v[--k->n]);
}

/* Initialise `root` as a new root above `old` (path level 0). */
static void make_root(struct hammer_cursor *c, struct hammer_node *root)
{
	struct hammer_btree *t = c->tree;
	struct hammer_node *old = c->path[0].node;
	struct hammer_node_ondisk *r = root->ondisk;

	r->type = HAMMER_BTREE_TYPE_INTERNAL;
	r->count = 1;
	r->parent = 0;
	r->mirror_tid = old->ondisk->mirror_tid;
	r->elms[0].base = hammer_btree_root_beg;
	r->elms[0].base.btype = old->ondisk->type;
	r->elms[0].internal.subtree_offset = old->offset;
	r->elms[0].internal.mirror_tid = old->ondisk->mirror_tid;
	r->elms[1].base = hammer_btree_root_end;
	old->ondisk->parent = root->offset;
	t->root = root->offset;
	memmove(&c->path[1], &c->path[0], (size_t)c->depth * sizeof(c->path[0]));
	c->path[0].node = root;
	c->path[0].index = 0;
	c->depth++;
	t->stats.root_splits++;
}

/* Room for a new root level, needed before a root split. */
static int root_room(struct hammer_cursor *c)
{
	if (c->depth >= HAMMER_BTREE_MAX_DEPTH)
		return HAMMER_ERR(c->err, -ENOSPC, c->tree->root,
				  "B-tree would exceed %d levels", HAMMER_BTREE_MAX_DEPTH);
	return 0;
}

/* Insert (base, child) as parent element pidx+1, shifting the rest right. */
static void parent_insert(struct hammer_node *parent, int pidx,
			  const struct hammer_base_elm *base, uint8_t btype,
			  const struct hammer_node *child)
{
	struct hammer_node_ondisk *p = parent->ondisk;
	assert(p->count < HAMMER_BTREE_INT_ELMS);
	memmove(&p->elms[pidx + 2], &p->elms[pidx + 1],
		(size_t)(p->count - pidx) * ESIZE);
	memset(&p->elms[pidx + 1], 0, ESIZE);
	p->elms[pidx + 1].base = *base;
	p->elms[pidx + 1].base.btype = btype;
	p->elms[pidx + 1].internal.subtree_offset = child->offset;
	p->elms[pidx + 1].internal.mirror_tid = child->ondisk->mirror_tid;
	p->count++;
}

/* What a split allocates and modifies before it changes any byte. */
struct split_prep {
	struct hammer_node *nn;		/* the new right half */
	struct hammer_node *parent;	/* receives the separator */
	struct hammer_node *newroot;	/* the parent, when the root splits */
};

/* Give back what split_prepare allocated (the tree is unchanged). */
static void split_abort(struct hammer_btree *t, struct split_prep *sp)
{
	if (sp->newroot)
		node_unalloc(t, sp->newroot);
	if (sp->nn)
		node_unalloc(t, sp->nn);
	sp->nn = sp->newroot = sp->parent = NULL;
}

/*
 * First phase of splitting path[level], common to leaves and internal
 * nodes: the new sibling, a new root when level 0 splits, and modify() on
 * the parent and the node.  On failure nothing is left allocated.
 */
static int split_prepare(struct hammer_cursor *c, int level, struct split_prep *sp)
{
	struct hammer_btree *t = c->tree;
	const struct hammer_node_io_ops *ops = t->io.ops;
	int rc;

	sp->nn = sp->parent = sp->newroot = NULL;
	if (level == 0 && (rc = root_room(c)) != 0)
		return rc;
	rc = ops->alloc(t->io.ctx, &sp->nn, c->err);
	if (rc)
		return rc;
	if (level == 0) {
		rc = ops->alloc(t->io.ctx, &sp->newroot, c->err);
		if (rc) {
			sp->newroot = NULL;
			goto fail;
		}
		sp->parent = sp->newroot;
	} else {
		sp->parent = c->path[level - 1].node;
		rc = node_modify(t, sp->parent, c->err);
		if (rc)
			goto fail;
	}
	rc = node_modify(t, c->path[level].node, c->err);
	if (rc)
		goto fail;
	return 0;
fail:
	split_abort(t, sp);
	return rc;
}

/*
 * The last step that may fail, kept last because the adapter logs the new
 * root address: set_root.  Then the new root goes above the path and
 * *level follows the splitting node down one.
 */
static int split_commit_root(struct hammer_cursor *c, int *level, struct split_prep *sp)
{
	struct hammer_btree *t = c->tree;
	int rc;

	if (!sp->newroot)
		return 0;
	if (t->io.ops->set_root &&
	    (rc = t->io.ops->set_root(t->io.ctx, sp->newroot->offset, c->err)) != 0)
		return rc;
	make_root(c, sp->newroot);
	(*level)++;
	return 0;
}

/*
 * Split the full internal node at path[level] (its descent index is set).
 * The cursor ends on whichever half holds that index.
 */
static int split_internal(struct hammer_cursor *c, int level)
{
	struct hammer_btree *t = c->tree;
	struct hammer_node *node = c->path[level].node;
	struct hammer_node_ondisk *n = node->ondisk;
	struct split_prep sp;
	struct kidset kids = { 0 };
	int count = n->count, idx = c->path[level].index, split, linear = 0, rc;

	/* appends descend into the last element: leave the left half 3/4 full */
	if (idx == count - 1 && !(node->flags & HAMMER_NODE_NONLINEAR)) {
		split = (count + 1) * 3 / 4;
		linear = 1;
	} else {
		split = (count + 1) / 2;
		if (idx <= split)
			split--;
	}
	rc = split_prepare(c, level, &sp);
	if (rc)
		return rc;
	for (int i = split; i < count; i++) {
		struct hammer_node *k;
		rc = node_get(t, n->elms[i].internal.subtree_offset, &k, c->err);
		if (rc)
			goto fail;
		kids.v[kids.n++] = k;
		if (k->ondisk->parent != node->offset) {
			rc = HAMMER_CORRUPT(c->err, k->offset,
				"B-tree node %016llx: parent field %016llx, expected %016llx",
				(unsigned long long)k->offset,
				(unsigned long long)k->ondisk->parent,
				(unsigned long long)node->offset);
			goto fail;
		}
		rc = node_modify(t, k, c->err);
		if (rc)
			goto fail;
	}
	rc = split_commit_root(c, &level, &sp);
	if (rc)
		goto fail;

	/* ---- no failures past this point ---- */
	struct hammer_node *nn = sp.nn, *parent = sp.parent;
	int pidx = c->path[level - 1].index;
	struct hammer_node_ondisk *o = nn->ondisk;
	o->type = HAMMER_BTREE_TYPE_INTERNAL;
	o->parent = parent->offset;
	o->mirror_tid = n->mirror_tid;
	o->count = count - split;
	memcpy(&o->elms[0], &n->elms[split], (size_t)(count - split + 1) * ESIZE);
	for (int i = 0; i < kids.n; i++)
		kids.v[i]->ondisk->parent = nn->offset;
	kids_put(t, &kids);

	/* elms[split] stays as the left half's right boundary */
	struct hammer_base_elm sep = n->elms[split].base;
	memset(&n->elms[split], 0, ESIZE);
	n->elms[split].base = sep;
	n->elms[split].base.btype = 0;
	memset(&n->elms[split + 1], 0, (size_t)(count - split) * ESIZE);
	n->count = split;
	if (linear)
		node->flags |= HAMMER_NODE_NONLINEAR;

	parent_insert(parent, pidx, &sep, HAMMER_BTREE_TYPE_INTERNAL, nn);
	if (idx >= split) {
		node_put(t, node);
		c->path[level].node = nn;
		c->path[level].index = idx - split;
		c->path[level - 1].index = pidx + 1;
	} else {
		node_put(t, nn);
	}
	t->stats.internal_splits++;
	return 0;
fail:
	kids_put(t, &kids);
	split_abort(t, &sp);
	return rc;
}

/*
 * Split the full leaf at the top of the path; `key` is the key about to be
 * inserted at the leaf's index.  The cursor ends on the half it belongs in.
 */
static int split_leaf(struct hammer_cursor *c, const struct hammer_base_elm *key)
{
	struct hammer_btree *t = c->tree;
	int level = c->depth - 1;
	struct hammer_node *node = c->path[level].node;
	struct hammer_node_ondisk *n = node->ondisk;
	struct split_prep sp;
	int count = n->count, pos = c->path[level].index, split, linear = 0, rc;

	if (pos == count && !(node->flags & HAMMER_NODE_NONLINEAR)) {
		split = (count + 1) * 3 / 4;
		linear = 1;
	} else {
		split = (count + 1) / 2;
	}
	rc = split_prepare(c, level, &sp);
	if (rc)
		return rc;
	rc = split_commit_root(c, &level, &sp);
	if (rc) {
		split_abort(t, &sp);
		return rc;
	}

	/* ---- no failures past this point ---- */
	struct hammer_node *nn = sp.nn, *parent = sp.parent;
	int pidx = c->path[level - 1].index;
	struct hammer_node_ondisk *o = nn->ondisk;
	o->type = HAMMER_BTREE_TYPE_LEAF;
	o->parent = parent->offset;
	o->mirror_tid = n->mirror_tid;
	o->count = count - split;
	memcpy(&o->elms[0], &n->elms[split], (size_t)(count - split) * ESIZE);

	/* separator: the first right-hand key itself (any s with l < s <= r works) */
	struct hammer_base_elm sep = { 0 };
	const struct hammer_base_elm *r = &n->elms[split].base;
	sep.localization = r->localization;
	sep.obj_id = r->obj_id;
	sep.rec_type = r->rec_type;
	sep.key = r->key;
	sep.create_tid = r->create_tid;
	memset(&n->elms[split], 0, (size_t)(count - split) * ESIZE);
	n->count = split;
	if (linear)
		node->flags |= HAMMER_NODE_NONLINEAR;

	parent_insert(parent, pidx, &sep, HAMMER_BTREE_TYPE_LEAF, nn);
	if (pos > split || (pos == split && hammer_btree_cmp(key, &sep) >= 0)) {
		node_put(t, node);
		c->path[level].node = nn;
		c->path[level].index = pos - split;
		c->path[level - 1].index = pidx + 1;
	} else {
		node_put(t, nn);
	}
	t->stats.leaf_splits++;
	return 0;
}

/*
 * The bounds the node at `level` must live in: its parent element's range,
 * or the whole key space for the root.
 */
static void level_bounds(const struct hammer_cursor *c, int level,
			 const struct hammer_base_elm **lb,
			 const struct hammer_base_elm **rb)
{
	if (level == 0) {
		*lb = &hammer_btree_root_beg;
		*rb = &hammer_btree_root_end;
	} else {
		const struct hammer_cursor_level *p = &c->path[level - 1];
		const hammer_btree_elm_t *e = &p->node->ondisk->elms[p->index];
		*lb = &e[0].base;
		*rb = &e[1].base;
	}
}

/*
 * Descend for an insert, splitting every full node on the way so the leaf
 * reached has room.  Ends with the cursor on the leaf, index = insertion
 * point.  Internal nodes narrower than their parent's element are widened
 * back when the key falls in the gap.
 */
static int search_insert(struct hammer_cursor *c, const struct hammer_base_elm *key)
{
	struct hammer_btree *t = c->tree;
	int rc;

	c->gen = t->gen;
	t->stats.searches++;
	rc = load_root(c);
	while (rc == 0) {
		int level = c->depth - 1;
		struct hammer_cursor_level *l = &c->path[level];
		struct hammer_node_ondisk *n = l->node->ondisk;

		if (n->type == HAMMER_BTREE_TYPE_LEAF) {
			int pos = leaf_lower_bound(n, key);
			if (pos < n->count && hammer_btree_cmp(&n->elms[pos].base, key) == 0)
				return -EEXIST;
			l->index = pos;
			if (n->count == HAMMER_BTREE_LEAF_ELMS)
				return split_leaf(c, key);
			return 0;
		}
		int i = internal_upper_bound(n, key);
		if (i == 0 || i > n->count) {
			const struct hammer_base_elm *lb, *rb;
			level_bounds(c, level, &lb, &rb);
			rc = node_modify(t, l->node, c->err);
			if (rc)
				return rc;
			if (i == 0) {
				uint8_t bt = n->elms[0].base.btype;
				n->elms[0].base = *lb;
				n->elms[0].base.btype = bt;
				i = 1;
			} else {
				n->elms[n->count].base = *rb;
				n->elms[n->count].base.btype = 0;
				i = n->count;
			}
			t->stats.bound_fixups++;
		}
		l->index = i - 1;
		if (n->count == HAMMER_BTREE_INT_ELMS) {
			rc = split_internal(c, level);
			if (rc)
				return rc;
		}
		rc = load_child(c);
	}
	return rc;
}

static int key_in_space(const struct hammer_base_elm *key, struct hammer_err *err)
{
	if (hammer_btree_cmp(key, &hammer_btree_root_beg) < 0 ||
	    hammer_btree_cmp(key, &hammer_btree_root_end) >= 0)
		return HAMMER_ERR(err, -EINVAL, HAMMER_OFF_BAD,
			"key %08x:%016llx:%04x:%016llx:%016llx outside the B-tree key space",
			key->localization, (unsigned long long)key->obj_id,
			key->rec_type, (unsigned long long)key->key,
			(unsigned long long)key->create_tid);
	return 0;
}

int hammer_btree_insert(struct hammer_btree *t, const struct hammer_btree_leaf_elm *elm,
			struct hammer_err *err)
{
	struct hammer_btree_leaf_elm ne = *elm;
	struct hammer_cursor c;
	hammer_tid_t tid;
	int rc;

	ne.base.btype = HAMMER_BTREE_TYPE_RECORD;
	rc = key_in_space(&ne.base, err);
	if (rc)
		return rc;
	hammer_cursor_init(&c, t, err);
	t->gen++;	/* splits may happen even if the insert fails */
	rc = search_insert(&c, &ne.base);
	if (rc)
		goto out;
	assert(hammer_cursor_ok(&c));
	struct hammer_cursor_level *l = &c.path[c.depth - 1];
	rc = node_modify(t, l->node, err);
	tid = ne.base.create_tid > ne.base.delete_tid ? ne.base.create_tid
						      : ne.base.delete_tid;
	if (rc == 0)
		rc = mirror_walk(&c, tid, 0);
	if (rc)
		goto out;
	struct hammer_node_ondisk *n = l->node->ondisk;
	memmove(&n->elms[l->index + 1], &n->elms[l->index],
		(size_t)(n->count - l->index) * ESIZE);
	n->elms[l->index].leaf = ne;
	n->count++;
	mirror_walk(&c, tid, 1);
	t->stats.inserts++;
out:
	hammer_cursor_done(&c);
	return rc;
}

/* ------------------------------------------------------------- deletion */

int hammer_btree_delete_at(struct hammer_cursor *c)
{
	struct hammer_btree *t = c->tree;
	int leaf = c->depth - 1, k, rc;

	assert(c->depth > 0 && c->gen == t->gen);
	struct hammer_node_ondisk *n = c->path[leaf].node->ondisk;
	assert(n->type == HAMMER_BTREE_TYPE_LEAF);
	assert(c->path[leaf].index >= 0 && c->path[leaf].index < n->count);

	/* the leaf goes empty: so do ancestors holding only it; top is the highest */
	int empty = n->count == 1 && leaf > 0;
	k = leaf;
	if (empty) {
		while (k > 0 && c->path[k - 1].node->ondisk->count == 1)
			k--;
	}
	rc = node_modify(t, c->path[leaf].node, c->err);
	for (int d = (k > 0 ? k - 1 : 0); empty && rc == 0 && d < leaf; d++)
		rc = node_modify(t, c->path[d].node, c->err);
	if (rc) {
		hammer_cursor_done(c);
		return rc;
	}
	t->gen++;
	c->gen = t->gen;
	t->stats.deletes++;

	int i = c->path[leaf].index;
	memmove(&n->elms[i], &n->elms[i + 1], (size_t)(n->count - i - 1) * ESIZE);
	n->count--;
	memset(&n->elms[n->count], 0, ESIZE);
	if (!empty) {
		hammer_cursor_done(c);
		return 0;
	}
	if (k > 0) {
		struct hammer_node_ondisk *p = c->path[k - 1].node->ondisk;
		int pi = c->path[k - 1].index;
		/* the neighbour now covering the range keeps its history */
		hammer_btree_elm_t *nb = pi > 0 ? &p->elms[pi - 1] : &p->elms[pi + 1];
		if (nb->internal.mirror_tid < p->elms[pi].internal.mirror_tid)
			nb->internal.mirror_tid = p->elms[pi].internal.mirror_tid;
		memmove(&p->elms[pi], &p->elms[pi + 1], (size_t)(p->count - pi) * ESIZE);
		memset(&p->elms[p->count], 0, ESIZE);
		p->count--;
	} else {
		/* the root never goes away: it becomes an empty leaf */
		struct hammer_node_ondisk *r = c->path[0].node->ondisk;
		r->type = HAMMER_BTREE_TYPE_LEAF;
		r->count = 0;
		memset(r->elms, 0, sizeof(r->elms));
		k = 1;
	}
	rc = 0;
	while (c->depth > k) {
		struct hammer_node *gone = c->path[--c->depth].node;
		gone->ondisk->type = HAMMER_BTREE_TYPE_DELETED;
		gone->ondisk->count = 0;
		gone->ondisk->parent = 0;
		int r2 = t->io.ops->free(t->io.ctx, gone, c->err);
		if (r2 && !rc)
			rc = r2;
		c->path[c->depth].node = NULL;
		t->stats.nodes_freed++;
	}
	hammer_cursor_done(c);
	return rc;
}

int hammer_btree_delete(struct hammer_btree *t, const struct hammer_base_elm *key,
			struct hammer_err *err)
{
	struct hammer_cursor c;
	int rc;

	hammer_cursor_init(&c, t, err);
	rc = hammer_btree_lookup(&c, key);
	if (rc)
		return rc;
	return hammer_btree_delete_at(&c);
}

int hammer_btree_mark_deleted(struct hammer_btree *t, const struct hammer_base_elm *key,
			      hammer_tid_t delete_tid, uint32_t delete_ts,
			      struct hammer_err *err)
{
	struct hammer_cursor c;
	int rc;

	hammer_cursor_init(&c, t, err);
	rc = hammer_btree_lookup(&c, key);
	if (rc)
		return rc;
	struct hammer_cursor_level *l = &c.path[c.depth - 1];
	rc = node_modify(t, l->node, err);
	if (rc == 0)
		rc = mirror_walk(&c, delete_tid, 0);
	if (rc == 0) {
		struct hammer_btree_leaf_elm *e = &l->node->ondisk->elms[l->index].leaf;
		e->base.delete_tid = delete_tid;
		e->delete_ts = delete_ts;
		mirror_walk(&c, delete_tid, 1);
		t->gen++;
		t->stats.marks++;
	}
	hammer_cursor_done(&c);
	return rc;
}

/* ------------------------------------------------------------- reblocking */

int hammer_btree_set_data(struct hammer_btree *t, const struct hammer_base_elm *key,
			  hammer_off_t data_offset, struct hammer_err *err)
{
	struct hammer_cursor c;
	hammer_cursor_init(&c, t, err);
	int rc = hammer_btree_lookup(&c, key);
	if (rc)
		return rc;
	struct hammer_cursor_level *l = &c.path[c.depth - 1];
	rc = node_modify(t, l->node, err);
	if (rc == 0) {
		l->node->ondisk->elms[l->index].leaf.data_offset = data_offset;
		t->gen++;
	}
	hammer_cursor_done(&c);
	return rc;
}

/*
 * Pin the path from the root down to the node at `off` (found by
 * searching for `key`): 0 with *level its depth in c (the cursor holds
 * levels 0..*level), or -ENOENT when the search does not pass it.
 */
static int path_to(struct hammer_btree *t, hammer_off_t off,
		   const struct hammer_base_elm *key, struct hammer_cursor *c,
		   int *level, struct hammer_err *err)
{
	hammer_cursor_init(c, t, err);
	int rc = search_read(c, key);
	if (rc < 0)
		return rc;
	int d = 0;
	while (d < c->depth && c->path[d].node->offset != off)
		d++;
	if (d == c->depth) {
		hammer_cursor_done(c);
		return -ENOENT;
	}
	while (c->depth > d + 1)
		node_put(t, c->path[--c->depth].node);
	*level = d;
	return 0;
}

int hammer_btree_move_node(struct hammer_btree *t, hammer_off_t off,
			   const struct hammer_base_elm *key, hammer_off_t *newoff,
			   struct hammer_err *err)
{
	struct hammer_cursor c;
	int d;
	int rc = path_to(t, off, key, &c, &d, err);
	if (rc)
		return rc;
	struct hammer_node *n = c.path[d].node, *nn = NULL;
	rc = t->io.ops->alloc(t->io.ctx, &nn, err);
	if (rc) {
		hammer_cursor_done(&c);
		return rc;
	}
	rc = node_modify(t, n, err);
	if (!rc && d > 0)
		rc = node_modify(t, c.path[d - 1].node, err);
	if (!rc && d == 0 && t->io.ops->set_root)
		rc = t->io.ops->set_root(t->io.ctx, nn->offset, err);
	if (rc) {
		node_unalloc(t, nn);
		hammer_cursor_done(&c);
		return rc;
	}
	*nn->ondisk = *n->ondisk;
	if (d > 0)
		c.path[d - 1].node->ondisk->elms[c.path[d - 1].index].internal.subtree_offset =
			nn->offset;
	else
		t->root = nn->offset;
	t->gen++;
	/* the children's parent fields (a failure here leaves them stale: fatal) */
	if (nn->ondisk->type == HAMMER_BTREE_TYPE_INTERNAL) {
		for (int i = 0; i < nn->ondisk->count && !rc; i++) {
			struct hammer_node *k;
			rc = node_get(t, nn->ondisk->elms[i].internal.subtree_offset, &k, err);
			if (rc)
				break;
			rc = node_modify(t, k, err);
			if (!rc)
				k->ondisk->parent = nn->offset;
			node_put(t, k);
		}
	}
	*newoff = nn->offset;
	node_put(t, nn);
	n->ondisk->type = HAMMER_BTREE_TYPE_DELETED;
	n->ondisk->count = 0;
	n->ondisk->parent = 0;
	c.depth = d;		/* free() takes the node's pin */
	int r2 = t->io.ops->free(t->io.ctx, n, err);
	if (!rc)
		rc = r2;
	t->stats.nodes_freed++;
	hammer_cursor_done(&c);
	return rc;
}

int hammer_btree_rebalance_leaves(struct hammer_btree *t, hammer_off_t off,
				  const struct hammer_base_elm *key, int target,
				  int *freed, int *leaves, struct hammer_err *err)
{
	*freed = 0;
	*leaves = 0;
	if (target < 1 || target > HAMMER_BTREE_LEAF_ELMS)
		return -EINVAL;
	struct hammer_cursor c;
	int d;
	int rc = path_to(t, off, key, &c, &d, err);
	if (rc)
		return rc;
	struct hammer_node *p = c.path[d].node;
	struct hammer_node_ondisk *po = p->ondisk;
	int nk = po->count;
	if (po->type != HAMMER_BTREE_TYPE_INTERNAL || nk < 2 ||
	    po->elms[0].base.btype != HAMMER_BTREE_TYPE_LEAF) {
		hammer_cursor_done(&c);
		return 0;
	}
	struct hammer_node *kids[HAMMER_BTREE_INT_ELMS];
	int got = 0, total = 0;
	hammer_tid_t mt = po->mirror_tid;
	for (; got < nk; got++) {
		rc = node_get(t, po->elms[got].internal.subtree_offset, &kids[got], err);
		if (rc)
			break;
		const struct hammer_node_ondisk *ko = kids[got]->ondisk;
		if (ko->type != HAMMER_BTREE_TYPE_LEAF) {
			rc = HAMMER_ERR(err, -EUCLEAN, kids[got]->offset,
					"B-tree node %016llx: a leaf expected under %016llx",
					(unsigned long long)kids[got]->offset,
					(unsigned long long)off);
			got++;
			break;
		}
		total += ko->count;
		if (ko->mirror_tid > mt)
			mt = ko->mirror_tid;
		if (po->elms[got].internal.mirror_tid > mt)
			mt = po->elms[got].internal.mirror_tid;
	}
	*leaves = got;
	int k = (total + target - 1) / target;
	if (k < 1)
		k = 1;
	if (rc || k >= nk) {
		while (got > 0)
			node_put(t, kids[--got]);
		hammer_cursor_done(&c);
		return rc;
	}
	hammer_btree_elm_t *all = malloc((size_t)(total ? total : 1) * ESIZE);
	if (!all)
		rc = -ENOMEM;
	rc = rc ? rc : node_modify(t, p, err);
	for (int i = 0; i < nk && !rc; i++)
		rc = node_modify(t, kids[i], err);
	if (rc) {
		free(all);
		while (got > 0)
			node_put(t, kids[--got]);
		hammer_cursor_done(&c);
		return rc;
	}
	int n = 0;
	for (int i = 0; i < nk; i++) {
		memcpy(&all[n], kids[i]->ondisk->elms, (size_t)kids[i]->ondisk->count * ESIZE);
		n += kids[i]->ondisk->count;
	}
	/* k leaves of total / k elements each (the first total % k one more) */
	int at = 0;
	for (int j = 0; j < k; j++) {
		struct hammer_node_ondisk *ko = kids[j]->ondisk;
		int cnt = total / k + (j < total % k);
		memset(ko->elms, 0, sizeof(ko->elms));
		memcpy(ko->elms, &all[at], (size_t)cnt * ESIZE);
		ko->count = cnt;
		ko->mirror_tid = mt;
		po->elms[j].internal.mirror_tid = mt;
		if (j > 0) {
			po->elms[j].base = all[at].base;
			po->elms[j].base.btype = HAMMER_BTREE_TYPE_LEAF;
			po->elms[j].base.delete_tid = 0;
		}
		at += cnt;
	}
	po->elms[k] = po->elms[nk];	/* the right boundary */
	memset(&po->elms[k + 1], 0, (size_t)(HAMMER_BTREE_MAXELMS - k - 1) * ESIZE);
	po->count = k;
	free(all);
	t->gen++;
	for (int j = 0; j < k; j++)
		node_put(t, kids[j]);
	int r2 = 0;
	for (int j = k; j < nk; j++) {
		kids[j]->ondisk->type = HAMMER_BTREE_TYPE_DELETED;
		kids[j]->ondisk->count = 0;
		kids[j]->ondisk->parent = 0;
		int r = t->io.ops->free(t->io.ctx, kids[j], err);
		if (r && !r2)
			r2 = r;
		t->stats.nodes_freed++;
		(*freed)++;
	}
	hammer_cursor_done(&c);
	return r2;
}
