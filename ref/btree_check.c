/*
 * btree_check.c - walk the whole B-tree and report what is wrong with it as
 * findings with stable codes (btree.h).  Never prints; never follows a
 * pointer it has not validated (loops and shared nodes are detected before
 * the second visit, depth is bounded).
 */
#include "btree.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const code_names[HAMMER_CHK_BTREE_CODE_MAX] = {
	[HAMMER_CHK_OK] = "OK",
	[HAMMER_CHK_BTREE_NODE_READ] = "BTREE_NODE_READ",
	[HAMMER_CHK_BTREE_CRC] = "BTREE_CRC",
	[HAMMER_CHK_BTREE_NODE_TYPE] = "BTREE_NODE_TYPE",
	[HAMMER_CHK_BTREE_COUNT] = "BTREE_COUNT",
	[HAMMER_CHK_BTREE_KEY_ORDER] = "BTREE_KEY_ORDER",
	[HAMMER_CHK_BTREE_ELM_BTYPE] = "BTREE_ELM_BTYPE",
	[HAMMER_CHK_BTREE_SUBTREE_ADDR] = "BTREE_SUBTREE_ADDR",
	[HAMMER_CHK_BTREE_BOUNDARY] = "BTREE_BOUNDARY",
	[HAMMER_CHK_BTREE_OUT_OF_BOUNDS] = "BTREE_OUT_OF_BOUNDS",
	[HAMMER_CHK_BTREE_PARENT] = "BTREE_PARENT",
	[HAMMER_CHK_BTREE_CHILD_TYPE] = "BTREE_CHILD_TYPE",
	[HAMMER_CHK_BTREE_LOOP] = "BTREE_LOOP",
	[HAMMER_CHK_BTREE_SHARED] = "BTREE_SHARED",
	[HAMMER_CHK_BTREE_DEPTH] = "BTREE_DEPTH",
	[HAMMER_CHK_BTREE_LEAF_DEPTH] = "BTREE_LEAF_DEPTH",
	[HAMMER_CHK_BTREE_MIRROR_LEAF] = "BTREE_MIRROR_LEAF",
	[HAMMER_CHK_BTREE_MIRROR_ELM] = "BTREE_MIRROR_ELM",
	[HAMMER_CHK_BTREE_MIRROR_CHILD] = "BTREE_MIRROR_CHILD",
	[HAMMER_CHK_BTREE_EMPTY_LEAF] = "BTREE_EMPTY_LEAF",
	[HAMMER_CHK_BTREE_ROOT] = "BTREE_ROOT",
};

const char *hammer_chk_code_name(int code)
{
	if (code < 0 || code >= HAMMER_CHK_BTREE_CODE_MAX || !code_names[code])
		return "UNKNOWN";
	return code_names[code];
}

/* Set of visited node addresses: open addressing, linear probing. */
struct offset_set {
	hammer_off_t *v;
	size_t cap, n;
};

static size_t oset_hash(hammer_off_t o, size_t cap)
{
	uint64_t h = (o >> 12) * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 20) & (cap - 1);
}

/* 1 if added, 0 if present, -ENOMEM. */
static int oset_add(struct offset_set *s, hammer_off_t o)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 1024;
		hammer_off_t *nv = calloc(nc, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->v[i])
				continue;
			size_t j = oset_hash(s->v[i], nc);
			while (nv[j])
				j = (j + 1) & (nc - 1);
			nv[j] = s->v[i];
		}
		free(s->v);
		s->v = nv;
		s->cap = nc;
	}
	size_t j = oset_hash(o, s->cap);
	while (s->v[j]) {
		if (s->v[j] == o)
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	s->v[j] = o;
	s->n++;
	return 1;
}

struct walk {
	struct hammer_btree *t;
	struct hammer_btree_check *r;
	struct offset_set seen;
	hammer_off_t path[HAMMER_BTREE_MAX_DEPTH + 1];
	int leaf_depth;		/* -1 until the first leaf */
	int oom;
};

__attribute__((format(printf, 6, 7)))
static void add(struct walk *w, int code, int sev, hammer_off_t node, int elm,
		const char *fmt, ...)
{
	struct hammer_btree_check *r = w->r;
	if (sev == HAMMER_CHK_ERROR)
		r->errors++;
	if (r->count >= HAMMER_CHK_MAX_FINDINGS) {
		r->dropped++;
		return;
	}
	if (!r->findings) {
		r->findings = calloc(HAMMER_CHK_MAX_FINDINGS, sizeof(*r->findings));
		if (!r->findings) {
			w->oom = 1;
			r->dropped++;
			return;
		}
	}
	struct hammer_chk_finding *f = &r->findings[r->count++];
	f->code = code;
	f->severity = sev;
	f->node = node;
	f->elm = elm;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

#define OFF(o) ((unsigned long long)(o))

static void check_leaf(struct walk *w, hammer_off_t off, const struct hammer_node_ondisk *n,
		       int depth, const struct hammer_base_elm *lb,
		       const struct hammer_base_elm *rb)
{
	struct hammer_btree_check *r = w->r;
	/* newfs writes the root leaf with mirror_tid 0 */
	int mirror_exempt = depth == 0 && n->mirror_tid == 0;

	r->leaves++;
	r->records += (uint64_t)n->count;
	r->slots_used += (uint64_t)n->count;
	r->slots_total += HAMMER_BTREE_LEAF_ELMS;
	if (w->leaf_depth < 0)
		w->leaf_depth = depth;
	else if (w->leaf_depth != depth)
		add(w, HAMMER_CHK_BTREE_LEAF_DEPTH, HAMMER_CHK_ERROR, off, -1,
		    "leaf %016llx at depth %d, others at depth %d", OFF(off), depth,
		    w->leaf_depth);
	if (n->count == 0 && depth > 0)
		add(w, HAMMER_CHK_BTREE_EMPTY_LEAF, HAMMER_CHK_WARN, off, -1,
		    "leaf %016llx is empty and not the root", OFF(off));
	for (int i = 0; i < n->count; i++) {
		const struct hammer_base_elm *e = &n->elms[i].base;
		if (hammer_btree_cmp(e, lb) < 0 || hammer_btree_cmp(e, rb) >= 0)
			add(w, HAMMER_CHK_BTREE_OUT_OF_BOUNDS, HAMMER_CHK_ERROR, off, i,
			    "leaf %016llx element %d outside its parent element's range",
			    OFF(off), i);
		if (!mirror_exempt &&
		    (e->create_tid > n->mirror_tid || e->delete_tid > n->mirror_tid))
			add(w, HAMMER_CHK_BTREE_MIRROR_LEAF, HAMMER_CHK_ERROR, off, i,
			    "leaf %016llx element %d tids %016llx/%016llx above mirror_tid %016llx",
			    OFF(off), i, OFF(e->create_tid), OFF(e->delete_tid),
			    OFF(n->mirror_tid));
	}
}

/*
 * Visit the node at `off`, hanging from parent element pelm (NULL: root).
 * Returns a negative errno only for conditions that stop the whole walk.
 */
static int visit(struct walk *w, hammer_off_t off, hammer_off_t parent_off,
		 const hammer_btree_elm_t *pelm, int depth)
{
	struct hammer_btree *t = w->t;
	struct hammer_btree_check *r = w->r;
	struct hammer_err e = { 0 };
	struct hammer_node *node;
	int why = 0, rc;

	if (depth >= HAMMER_BTREE_MAX_DEPTH) {
		add(w, HAMMER_CHK_BTREE_DEPTH, HAMMER_CHK_ERROR, parent_off, -1,
		    "node %016llx deeper than %d levels", OFF(off), HAMMER_BTREE_MAX_DEPTH);
		return 0;
	}
	for (int d = 0; d < depth; d++) {
		if (w->path[d] == off) {
			add(w, HAMMER_CHK_BTREE_LOOP, HAMMER_CHK_ERROR, parent_off, -1,
			    "node %016llx points back at its ancestor %016llx",
			    OFF(parent_off), OFF(off));
			return 0;
		}
	}
	rc = oset_add(&w->seen, off);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		add(w, HAMMER_CHK_BTREE_SHARED, HAMMER_CHK_ERROR, off, -1,
		    "node %016llx is reachable twice (again from %016llx)",
		    OFF(off), OFF(parent_off));
		return 0;
	}
	rc = t->io.ops->get(t->io.ctx, off, &node, &why, &e);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		add(w, why ? why : HAMMER_CHK_BTREE_NODE_READ, HAMMER_CHK_ERROR, off, -1,
		    "%s", e.msg[0] ? e.msg : "node unreadable");
		return 0;
	}
	const struct hammer_node_ondisk *n = node->ondisk;
	/* the host copy may be cached from before: verify it again */
	why = 0;
	memset(&e, 0, sizeof(e));
	if (hammer_btree_node_verify(n, off, &why, &e)) {
		add(w, why, HAMMER_CHK_ERROR, off, -1, "%s", e.msg);
		t->io.ops->put(t->io.ctx, node);
		return 0;
	}
	r->nodes++;
	if (depth + 1 > r->depth)
		r->depth = depth + 1;
	w->path[depth] = off;

	const struct hammer_base_elm *lb = pelm ? &pelm[0].base : &hammer_btree_root_beg;
	const struct hammer_base_elm *rb = pelm ? &pelm[1].base : &hammer_btree_root_end;
	if (n->parent != parent_off)
		add(w, pelm ? HAMMER_CHK_BTREE_PARENT : HAMMER_CHK_BTREE_ROOT,
		    HAMMER_CHK_ERROR, off, -1,
		    "node %016llx parent field %016llx, expected %016llx",
		    OFF(off), OFF(n->parent), OFF(parent_off));
	if (pelm && pelm->base.btype != n->type)
		add(w, HAMMER_CHK_BTREE_CHILD_TYPE, HAMMER_CHK_ERROR, off, -1,
		    "node %016llx type %c but parent element says %c", OFF(off),
		    n->type, pelm->base.btype);
	if (pelm && n->mirror_tid > pelm->internal.mirror_tid)
		add(w, HAMMER_CHK_BTREE_MIRROR_CHILD, HAMMER_CHK_ERROR, off, -1,
		    "node %016llx mirror_tid %016llx above parent element's %016llx",
		    OFF(off), OFF(n->mirror_tid), OFF(pelm->internal.mirror_tid));

	if (n->type == HAMMER_BTREE_TYPE_LEAF) {
		check_leaf(w, off, n, depth, lb, rb);
		t->io.ops->put(t->io.ctx, node);
		return 0;
	}

	r->internals++;
	if (hammer_btree_cmp(&n->elms[0].base, lb) < 0)
		add(w, HAMMER_CHK_BTREE_OUT_OF_BOUNDS, HAMMER_CHK_ERROR, off, 0,
		    "node %016llx left boundary below its parent element", OFF(off));
	if (hammer_btree_cmp(&n->elms[n->count].base, rb) > 0)
		add(w, HAMMER_CHK_BTREE_OUT_OF_BOUNDS, HAMMER_CHK_ERROR, off, n->count,
		    "node %016llx right boundary above its parent's", OFF(off));
	if (n->elms[n->count].base.btype != 0)
		add(w, HAMMER_CHK_BTREE_BOUNDARY, HAMMER_CHK_WARN, off, n->count,
		    "node %016llx right boundary btype %c (expected 0)", OFF(off),
		    n->elms[n->count].base.btype);
	for (int i = 0; i <= n->count; i++) {
		if (n->elms[i].internal.mirror_tid > n->mirror_tid)
			add(w, HAMMER_CHK_BTREE_MIRROR_ELM, HAMMER_CHK_ERROR, off, i,
			    "node %016llx element %d mirror_tid %016llx above node's %016llx",
			    OFF(off), i, OFF(n->elms[i].internal.mirror_tid),
			    OFF(n->mirror_tid));
	}
	/*
	 * The node stays pinned while its subtrees are walked, so elms[] is
	 * stable; depth is bounded, so is the pinning.
	 */
	for (int i = 0; i < n->count && !w->oom; i++) {
		rc = visit(w, n->elms[i].internal.subtree_offset, off, &n->elms[i], depth + 1);
		if (rc < 0) {
			t->io.ops->put(t->io.ctx, node);
			return rc;
		}
	}
	t->io.ops->put(t->io.ctx, node);
	return 0;
}

int hammer_btree_check(struct hammer_btree *t, struct hammer_btree_check *r)
{
	struct walk w = { .t = t, .r = r, .leaf_depth = -1 };
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (!hammer_btree_off_ok(t->root)) {
		add(&w, HAMMER_CHK_BTREE_ROOT, HAMMER_CHK_ERROR, t->root, -1,
		    "root %016llx is not a node address", OFF(t->root));
	} else {
		rc = visit(&w, t->root, 0, NULL, 0);
	}
	free(w.seen.v);
	if (rc == 0 && w.oom)
		rc = -ENOMEM;
	return rc;
}

void hammer_btree_check_free(struct hammer_btree_check *r)
{
	free(r->findings);
	r->findings = NULL;
	r->count = 0;
}

int hammer_btree_check_find(const struct hammer_btree_check *r, int code)
{
	for (size_t i = 0; i < r->count; i++) {
		if (r->findings[i].code == code)
			return (int)i;
	}
	return -1;
}
