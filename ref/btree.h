/*
 * btree.h - the HAMMER B-tree: node I/O vtable, cursor, search (from the root
 * or from a cached position / hint), insert with top-down splits, delete with
 * recursive removal of empty nodes, delete_tid marking, mirror_tid
 * propagation, and the checker.
 *
 * Layering.  The tree never touches a buffer or an allocator.  It sees nodes
 * only through struct hammer_node_io: get / put pin and release an in-memory
 * host-order copy of a node, modify is called before any byte of a node
 * changes (the flusher logs UNDO there), alloc / free hand out and retire
 * zone-8 addresses.  hammer_btree_node_encode / _decode convert between that
 * host copy and the 4096 disk bytes (little-endian, CRC over bytes 4..4095,
 * unused element slots zeroed); adapters call them at the buffer boundary.
 * A RAM implementation (hammer_btree_ramio_*) serves the tests and the
 * benchmark.
 *
 * Shape (format digest section 3):
 *   leaf      elms[0..count-1] records, count 0..63, no boundaries;
 *   internal  elms[0..count-1] (left bound, subtree), elms[count] the right
 *             boundary (btype 0, subtree 0), count 1..62.
 *   A child's own bounds lie inside its parent element's [elms[i], elms[i+1])
 *   and may be narrower (removals shift elements); inserts widen them back.
 *   All leaves sit at the same depth.  An empty tree is an empty leaf root.
 *
 * Cursor state machine:
 *
 *   INIT --lookup/first--> POSITIONED --next--> POSITIONED
 *     ^                      |   |   `--lookup/first--> POSITIONED (re-search)
 *     |                      |   `--next past end--> EOF (depth 0)
 *     `------- done <--------'
 *
 * A positioned cursor pins every node on its path (root .. leaf).  Any
 * mutation of the tree (through any cursor or hammer_btree_insert & co)
 * invalidates every other open cursor: call hammer_cursor_done on them first
 * (checked by assert through the tree generation).
 *
 * Hinted searches.  lookup, lookup_asof and first search from the root
 * unless c->hint is set (after hammer_cursor_init; a struct
 * hammer_btree_hint owned by the caller, e.g. one per inode; zero-filled =
 * empty).  With a hint:
 *   - a re-search by a cursor still positioned on an unchanged tree (same
 *     generation) keeps its pinned path down to the deepest level whose
 *     parent element contains the new key and searches on from that cached
 *     node: no pins, no checks, no comparisons above it;
 *   - otherwise the descent starts at the root but, at each internal level
 *     where the hint was at the same node, takes the recorded child if that
 *     element still exists, still points at the recorded node and contains
 *     the key, i.e. exactly what the binary search would pick; any mismatch
 *     costs that level a binary search.  In the leaf the search probes
 *     next to the recorded position first.
 * Either way the result, the path and the errors are those of a search from
 * the root: every level is pinned top-down with the usual child checks
 * (parent field, type, bounds), a parent field is compared but never
 * followed, and no address from the hint is read unless a checked element
 * points at it, so freed or reused nodes are never touched.  Any hint,
 * stale or garbage, is safe without a generation check; a good one saves
 * comparisons (and, positioned, pins).  The path is recorded into the hint
 * when a search ends and when the cursor is released.
 *
 * Errors: 0, -ENOENT (no such key / end of range), -EEXIST (insert of a key
 * already present), -EINVAL (key outside the B-tree key space), -EUCLEAN
 * (corruption; the struct hammer_err names the node), or whatever the node
 * I/O returned.  Nothing here prints or exits.
 */
#ifndef HAMMER_BTREE_H
#define HAMMER_BTREE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ondisk.h"

#define HAMMER_BTREE_MAX_DEPTH	40	/* far beyond any real tree (2^64 keys < 12 levels) */

/* ------------------------------------------------------------ node I/O */

/* An in-memory node, owned by the node I/O; the tree sees only this. */
struct hammer_node {
	hammer_off_t offset;			/* zone-8 address */
	struct hammer_node_ondisk *ondisk;	/* host byte order */
	unsigned flags;				/* in memory only */
};
/* Split heuristic: this node was already split at 3/4 once. */
#define HAMMER_NODE_NONLINEAR	0x1u

#define HAMMER_NODE_IO_VERSION	1

/*
 * get:    pin node `off`; the first load verifies it with
 *         hammer_btree_node_decode (CRC, type, count, key order, element
 *         types) and returns -EUCLEAN with *why (if non-NULL) set to the
 *         enum hammer_chk_code of the problem.  Repeated gets of a pinned
 *         node return the same struct hammer_node.
 * put:    drop one pin.
 * modify: called before the tree changes any byte of a pinned node; may be
 *         called several times for one node in one operation.
 * alloc:  a new pinned node at an unused zone-8 address, all bytes zero;
 *         counts as modified.
 * free:   the node was modify()'d; mark it type 'D', drop the caller's pin
 *         and retire the address.  An error leaves the tree consistent (the
 *         address leaks).
 * set_root (optional): called before the root address changes, with the
 *         new address; the adapter updates and logs vol0_btree_root.
 * All return 0 or a negative errno; errors may fill `err`.
 */
struct hammer_node_io_ops {
	int version;	/* HAMMER_NODE_IO_VERSION */
	int (*get)(void *ctx, hammer_off_t off, struct hammer_node **np,
		   int *why, struct hammer_err *err);
	void (*put)(void *ctx, struct hammer_node *n);
	int (*modify)(void *ctx, struct hammer_node *n, struct hammer_err *err);
	int (*alloc)(void *ctx, struct hammer_node **np, struct hammer_err *err);
	int (*free)(void *ctx, struct hammer_node *n, struct hammer_err *err);
	int (*set_root)(void *ctx, hammer_off_t new_root, struct hammer_err *err);
};

struct hammer_node_io {
	const struct hammer_node_io_ops *ops;
	void *ctx;
	unsigned version;	/* on-disk version (1..7): CRC-32 or CRC-32C */
};

/*
 * Host <-> disk.  encode copies `host` into the 4096 bytes at `disk`, zeroes
 * the unused element slots, converts to little-endian and sets the CRC of
 * `version`.  decode checks the CRC (version 7 accepts either algorithm, as
 * DragonFly does), converts to host order and verifies the node with
 * hammer_btree_node_verify.
 */
void hammer_btree_node_encode(unsigned version,
			      const struct hammer_node_ondisk *host, void *disk);
int hammer_btree_node_decode(unsigned version, hammer_off_t off,
			     const void *disk, struct hammer_node_ondisk *host,
			     int *why, struct hammer_err *err);
/*
 * Checks that need only the node itself: type I or L, count in range, keys
 * strictly increasing (internal: elms[0..count] including the right
 * boundary), element btypes, subtree addresses in zone 8 and 4 KB aligned,
 * right boundary with subtree 0.  Returns 0 or -EUCLEAN (+ *why).
 */
int hammer_btree_node_verify(const struct hammer_node_ondisk *n,
			     hammer_off_t off, int *why,
			     struct hammer_err *err);

/* Whether `off` can be a node address at all (zone 8, 4 KB aligned). */
static inline int hammer_btree_off_ok(hammer_off_t off)
{
	return off != 0 && hammer_zone_of(off) == HAMMER_ZONE_BTREE_INDEX &&
	       (off & (HAMMER_BTREE_NODE_SIZE - 1)) == 0;
}

/* ---------------------------------------------------------- keys */

/*
 * hammer_btree_cmp order: localization (unsigned), obj_id (signed),
 * rec_type, key (signed), create_tid with 0 = +infinity.  Returns -5..+5;
 * +-1 means only create_tid differs.
 */
static inline int hammer_btree_cmp(const struct hammer_base_elm *a,
				   const struct hammer_base_elm *b)
{
	if (a->localization != b->localization)
		return a->localization < b->localization ? -5 : 5;
	if (a->obj_id != b->obj_id)
		return a->obj_id < b->obj_id ? -4 : 4;
	if (a->rec_type != b->rec_type)
		return a->rec_type < b->rec_type ? -3 : 3;
	if (a->key != b->key)
		return a->key < b->key ? -2 : 2;
	if (a->create_tid == b->create_tid)
		return 0;
	/* subtracting 1 maps 0 (infinity) to the largest value */
	return a->create_tid - 1 < b->create_tid - 1 ? -1 : 1;
}

/* Visible as of `asof`: create_tid <= asof and (live or asof < delete_tid). */
static inline int hammer_btree_visible(const struct hammer_base_elm *e,
				       hammer_tid_t asof)
{
	return e->create_tid <= asof &&
	       (e->delete_tid == 0 || asof < e->delete_tid);
}

/* The bounds a root split gives the new root (the whole key space). */
extern const struct hammer_base_elm hammer_btree_root_beg;
extern const struct hammer_base_elm hammer_btree_root_end;

/* ---------------------------------------------------------- the tree */

struct hammer_btree_stats {
	uint64_t searches;
	uint64_t inserts;
	uint64_t deletes;		/* physical removals */
	uint64_t marks;			/* delete_tid markings */
	uint64_t leaf_splits;
	uint64_t internal_splits;
	uint64_t root_splits;		/* tree growth (counted in the two above too) */
	uint64_t nodes_freed;
	uint64_t bound_fixups;		/* boundaries widened by inserts */
	uint64_t hint_hits;		/* hinted searches that skipped every internal search */
	uint64_t hint_misses;		/* hinted searches that searched an internal node */
};

/* Owned by the caller; `root` is the vol0_btree_root value. */
struct hammer_btree {
	struct hammer_node_io io;
	hammer_off_t root;
	int no_mirror;			/* 1: no mirror_tid propagation */
	uint64_t gen;			/* bumped by every mutation */
	struct hammer_btree_stats stats;
};

/* Attach to an existing tree whose root node is at `root`. */
void hammer_btree_open(struct hammer_btree *t, const struct hammer_node_io *io,
		       hammer_off_t root);
/* Allocate an empty leaf root (mirror_tid 0) and attach to it. */
int hammer_btree_create(struct hammer_btree *t, const struct hammer_node_io *io,
			struct hammer_err *err);

/*
 * Insert a record.  The element is copied with btype forced to 'R'.  The
 * leaf's mirror_tid is raised to max(create_tid, delete_tid) and propagated.
 */
int hammer_btree_insert(struct hammer_btree *t,
			const struct hammer_btree_leaf_elm *elm,
			struct hammer_err *err);
/* Physically remove the record with exactly this key (create_tid included). */
int hammer_btree_delete(struct hammer_btree *t,
			const struct hammer_base_elm *key,
			struct hammer_err *err);
/* Set delete_tid / delete_ts of the record with exactly this key; propagate. */
int hammer_btree_mark_deleted(struct hammer_btree *t,
			      const struct hammer_base_elm *key,
			      hammer_tid_t delete_tid, uint32_t delete_ts,
			      struct hammer_err *err);

/*
 * Reblocking.  set_data points the record with exactly this key at a new
 * copy of its data (same bytes, so data_len and the CRC stay; mirror_tid
 * does not move).  move_node copies the node at `off` into a newly
 * allocated node: its parent's element (or the root, through set_root)
 * and, for an internal node, every child's parent field follow it, and
 * the old node is freed.  The node is found by searching for `key`, which
 * must lie in its range (a leaf: one of its elements; an internal node:
 * its left boundary); -ENOENT when that search does not pass through
 * `off`.  *newoff gets the new address.
 */
int hammer_btree_set_data(struct hammer_btree *t, const struct hammer_base_elm *key,
			  hammer_off_t data_offset, struct hammer_err *err);
int hammer_btree_move_node(struct hammer_btree *t, hammer_off_t off,
			   const struct hammer_base_elm *key, hammer_off_t *newoff,
			   struct hammer_err *err);

/*
 * Rebalancing: the internal node at `off` (found by searching for `key`,
 * its left boundary) whose children are leaves gets its leaves' elements
 * packed `target` (1..63) to a leaf, in key order, into as few of them as
 * that takes; the leaves left empty are freed and their parent elements
 * removed, the separators move to the new first keys, mirror_tids are
 * kept (raised to the group's highest).  *leaves counts the leaves looked
 * at, *freed those freed;
 * nothing is done (0) when it would free none, or when the node's
 * children are internal.  -ENOENT: the search does not pass `off`.
 */
int hammer_btree_rebalance_leaves(struct hammer_btree *t, hammer_off_t off,
				  const struct hammer_base_elm *key, int target,
				  int *freed, int *leaves, struct hammer_err *err);

/* ---------------------------------------------------------- cursor */

#define HAMMER_CURSOR_ASOF		0x1u	/* skip elements not visible at asof */
#define HAMMER_CURSOR_END_INCLUSIVE	0x2u	/* key_end is part of the range */

struct hammer_cursor_level {
	struct hammer_node *node;
	int index;	/* internal: child descended into; leaf: element */
};

/*
 * Where a cursor last was: the node addresses root .. leaf and the index
 * taken at each level.  Only advice (see "Hinted searches" above); it holds
 * no pins and may outlive any change to the tree.
 */
struct hammer_btree_hint {
	int depth;	/* levels recorded; 0 = empty */
	int index[HAMMER_BTREE_MAX_DEPTH];
	hammer_off_t node[HAMMER_BTREE_MAX_DEPTH];
};

struct hammer_cursor {
	struct hammer_btree *tree;
	struct hammer_err *err;
	uint64_t gen;
	int depth;	/* levels pinned; path[depth-1] is the current node */
	struct hammer_cursor_level path[HAMMER_BTREE_MAX_DEPTH];
	/* range for first/next: [key_beg, key_end) or [..] when inclusive */
	struct hammer_base_elm key_beg;
	struct hammer_base_elm key_end;
	hammer_tid_t asof;
	unsigned flags;
	struct hammer_btree_hint *hint;	/* NULL (init): search from the root */
};

void hammer_cursor_init(struct hammer_cursor *c, struct hammer_btree *t,
			struct hammer_err *err);
/* Release every pinned node (recording the path into c->hint); reusable. */
void hammer_cursor_done(struct hammer_cursor *c);

/* Exact match (create_tid included).  0 and positioned, or -ENOENT. */
int hammer_btree_lookup(struct hammer_cursor *c,
			const struct hammer_base_elm *key);
/*
 * The first version of (localization, obj_id, rec_type, key) visible at
 * `asof`, ignoring key->create_tid.  Scans the versions from create_tid 1,
 * so a separator that differs only in create_tid cannot hide the record.
 * Sets the cursor's key_beg / key_end / flags / asof to that key range, so
 * next() continues with the later visible versions.
 */
int hammer_btree_lookup_asof(struct hammer_cursor *c,
			     const struct hammer_base_elm *key,
			     hammer_tid_t asof);
/* Range scan: set key_beg, key_end, flags (and asof), then first / next. */
int hammer_btree_first(struct hammer_cursor *c);
int hammer_btree_next(struct hammer_cursor *c);
/* The record under a positioned cursor. */
const struct hammer_btree_leaf_elm *
hammer_cursor_leaf(const struct hammer_cursor *c);
/*
 * Remove the record under the cursor (as hammer_btree_delete).  The cursor
 * is released afterwards; re-seek with first() to continue a scan.
 */
int hammer_btree_delete_at(struct hammer_cursor *c);

/* Cheap invariant for assert(): path links agree with the pinned nodes. */
int hammer_cursor_ok(const struct hammer_cursor *c);

/* ---------------------------------------------------------- checker */

/*
 * Stable finding codes (never renumber; append only).
 *   NODE_READ      the node I/O failed for another reason than corruption
 *   CRC            stored CRC does not match the node bytes
 *   NODE_TYPE      type is not 'I' or 'L' (e.g. 'D': a freed node is linked)
 *   COUNT          count out of range (leaf 0..63, internal 1..62)
 *   KEY_ORDER      keys inside a node not strictly increasing
 *   ELM_BTYPE      leaf element btype not 'R', internal element not 'I'/'L'
 *   SUBTREE_ADDR   internal element subtree offset not a zone-8 node address
 *   BOUNDARY       right boundary with a subtree, or a btype other than 0
 *                  (btype 'I'/'L' is a warning: older kernels left it there)
 *   OUT_OF_BOUNDS  element outside its parent element's [left, right)
 *   PARENT         node's parent field is not the node that points to it
 *   CHILD_TYPE     child node type differs from the parent element's btype
 *   LOOP           a subtree points at a node on its own path (an ancestor)
 *   SHARED         a node is reachable twice
 *   DEPTH          deeper than HAMMER_BTREE_MAX_DEPTH
 *   LEAF_DEPTH     leaves at different depths
 *   MIRROR_LEAF    leaf element create/delete TID above the leaf mirror_tid
 *                  (tolerated for a root leaf whose mirror_tid is 0: newfs)
 *   MIRROR_ELM     internal element mirror_tid above its node's mirror_tid
 *   MIRROR_CHILD   child mirror_tid above the parent element's mirror_tid
 *   EMPTY_LEAF     non-root empty leaf (warning: the kernel may leave one)
 *   ROOT           root address unusable or root parent field not 0
 */
enum hammer_chk_code {
	HAMMER_CHK_OK = 0,
	HAMMER_CHK_BTREE_NODE_READ = 1,
	HAMMER_CHK_BTREE_CRC = 2,
	HAMMER_CHK_BTREE_NODE_TYPE = 3,
	HAMMER_CHK_BTREE_COUNT = 4,
	HAMMER_CHK_BTREE_KEY_ORDER = 5,
	HAMMER_CHK_BTREE_ELM_BTYPE = 6,
	HAMMER_CHK_BTREE_SUBTREE_ADDR = 7,
	HAMMER_CHK_BTREE_BOUNDARY = 8,
	HAMMER_CHK_BTREE_OUT_OF_BOUNDS = 9,
	HAMMER_CHK_BTREE_PARENT = 10,
	HAMMER_CHK_BTREE_CHILD_TYPE = 11,
	HAMMER_CHK_BTREE_LOOP = 12,
	HAMMER_CHK_BTREE_SHARED = 13,
	HAMMER_CHK_BTREE_DEPTH = 14,
	HAMMER_CHK_BTREE_LEAF_DEPTH = 15,
	HAMMER_CHK_BTREE_MIRROR_LEAF = 16,
	HAMMER_CHK_BTREE_MIRROR_ELM = 17,
	HAMMER_CHK_BTREE_MIRROR_CHILD = 18,
	HAMMER_CHK_BTREE_EMPTY_LEAF = 19,
	HAMMER_CHK_BTREE_ROOT = 20,
	HAMMER_CHK_BTREE_CODE_MAX
};
const char *hammer_chk_code_name(int code);	/* "BTREE_KEY_ORDER" */

enum hammer_chk_severity { HAMMER_CHK_ERROR = 0, HAMMER_CHK_WARN = 1 };

struct hammer_chk_finding {
	int code;		/* enum hammer_chk_code */
	int severity;		/* enum hammer_chk_severity */
	hammer_off_t node;	/* node address the finding is about */
	int elm;		/* element index, or -1 */
	char msg[160];
};

#define HAMMER_CHK_MAX_FINDINGS 1024

struct hammer_btree_check {
	struct hammer_chk_finding *findings;	/* malloc'd */
	size_t count;
	size_t dropped;			/* beyond HAMMER_CHK_MAX_FINDINGS */
	size_t errors;			/* findings with severity ERROR (incl. dropped) */
	/* what the walk saw */
	uint64_t nodes, internals, leaves, records;
	int depth;			/* levels, 1 = root leaf */
	uint64_t slots_used, slots_total; /* leaf fill = used / total */
};

/*
 * Walk the whole tree from t->root.  Returns 0 when the walk finished (the
 * findings say what is wrong), -ENOMEM, or another I/O error that stopped
 * it.  Release with hammer_btree_check_free.
 */
int hammer_btree_check(struct hammer_btree *t, struct hammer_btree_check *r);
void hammer_btree_check_free(struct hammer_btree_check *r);
/* Index of the first finding with `code`, or -1. */
int hammer_btree_check_find(const struct hammer_btree_check *r, int code);

/* ---------------------------------------------------------- RAM node I/O */

/*
 * Nodes live in memory twice: a decoded host copy (the "cache", returned by
 * get) and, after a sync, the encoded disk bytes.  drop() forgets the host
 * copies so the next get decodes and verifies the bytes again; that is how
 * tests plant corruption.  Addresses are zone 8, volume 0, from
 * HAMMER_RAMIO_BASE up; freed addresses are reused.
 */
#define HAMMER_RAMIO_BASE	0x400000ULL

struct hammer_ramio_stats {
	uint64_t gets, loads, modifies, allocs, frees;
	uint64_t live;		/* allocated and not freed */
};

struct hammer_ramio;
int hammer_btree_ramio_create(unsigned version, struct hammer_ramio **out,
			      struct hammer_node_io *io);
void hammer_btree_ramio_destroy(struct hammer_ramio *r);
/* Encode every modified node into its disk bytes (CRC set). */
void hammer_btree_ramio_sync(struct hammer_ramio *r);
/* Sync, then drop the host copies of unpinned nodes. */
void hammer_btree_ramio_drop(struct hammer_ramio *r);
/*
 * Cached nodes not modify()'d since the last sync whose host copy no longer
 * encodes to their disk bytes: changes the tree made without announcing
 * them (the UNDO log would miss them).  Tests expect 0.
 */
uint64_t hammer_btree_ramio_audit(struct hammer_ramio *r);
/* Disk bytes of a synced node (NULL if none): tests corrupt them. */
uint8_t *hammer_btree_ramio_raw(struct hammer_ramio *r, hammer_off_t off);
/* Pinned nodes right now (0 when no cursor is open). */
uint64_t hammer_btree_ramio_pinned(const struct hammer_ramio *r);
void hammer_btree_ramio_stats(const struct hammer_ramio *r,
			      struct hammer_ramio_stats *s);
/* Fault injection: the n-th next modify / alloc fails with -EIO (0 = off). */
void hammer_btree_ramio_fail(struct hammer_ramio *r, uint64_t modify_n,
			     uint64_t alloc_n);

#endif /* HAMMER_BTREE_H */
