/*
 * checkmap.h - recompute per-big-block usage and compare it with the
 * freemap (the library behind `hammer checkmap`).
 *
 * Usage is collected from the three primary owners of space: the freemap
 * itself (layer-1 and layer-2 arrays), the B-tree (nodes and record data)
 * and the UNDO FIFO.  For every big-block touched the recomputed zone and
 * bytes_free are compared with its layer-2 entry; every layer-1 entry's
 * blocks_free is compared with the count of free layer-2 entries under it.
 * Findings carry stable codes; nothing is printed.
 *
 * Phases are separate calls so a front end can report progress the way
 * DragonFly does:  init -> freemap -> btree -> undo -> finish -> free.
 */
#ifndef HAMMER_CHECKMAP_H
#define HAMMER_CHECKMAP_H

#include "inspect.h"

enum hammer_checkmap_code {
	HAMMER_CM_ZONE = 1,	/* "BZ": layer-2 zone differs from the user's zone */
	HAMMER_CM_FREE,		/* "BM": layer-2 bytes_free differs from the recount */
	HAMMER_CM_APPEND,	/* "BA": space used beyond layer-2 append_off */
	HAMMER_CM_L1FREE,	/* "BF": layer-1 blocks_free differs from the free layer-2 count */
	HAMMER_CM_LOOKUP,	/* "BL": an address the freemap cannot resolve */
	HAMMER_CM_NODE,		/* "BN": B-tree node unreadable, bad CRC, bad count or loop */
	HAMMER_CM_FIFO,		/* "BU": FIFO record with bad signature, size, tail or CRC */
	HAMMER_CM_LAYER,	/* "BC": layer-1/2 entry with a bad CRC or unreadable */
};
/* Two-letter tag printed in front of a finding. */
const char *hammer_checkmap_code_tag(enum hammer_checkmap_code code);

struct hammer_checkmap_finding {
	enum hammer_checkmap_code code;
	hammer_off_t addr;	/* block, node, record or entry address */
	int depth;		/* B-tree depth for HAMMER_CM_NODE */
	int calc_zone, got_zone;
	int64_t calc, got;	/* free bytes / free blocks / append offsets */
	/* HAMMER_CM_NODE: the node as read (valid if node_read) */
	int node_read;
	char badc, badm;	/* DragonFly's two flag characters */
	int32_t count;
	uint8_t type;
	hammer_off_t parent;
	hammer_tid_t mirror_tid;
	char msg[256];
};

/* One big-block somebody uses. */
struct hammer_checkmap_block {
	hammer_off_t l2addr;	/* zone-2 address of its layer-2 entry (sort key) */
	hammer_off_t block;	/* big-block address as accounted (zone 4 or 2) */
	int calc_zone;		/* zone of whoever uses it */
	int64_t calc_free;	/* 8 MB minus what the users occupy */
	uint64_t max_end;	/* highest byte used inside the big-block */
	struct hammer_blockmap_layer2 l2;	/* as on disk (host order) */
	int l2_ok;		/* l2 could be looked up */
	int status;		/* 0 = consistent, else an enum hammer_checkmap_code */
};

struct hammer_checkmap {
	struct hammer_volset *vs;
	struct hammer_rdcache cache;
	struct hammer_u64map index;	/* l2addr -> blocks[] index + 1 */
	struct hammer_checkmap_block *blocks;
	size_t nblocks, capblocks;
	struct hammer_checkmap_finding *findings;
	size_t nfindings, capfindings;
	int bad_nodes;
	int errors;		/* findings that count as checkmap errors */
	size_t fifo_records;
};

int hammer_checkmap_init(struct hammer_checkmap *cm, struct hammer_volset *vs);
int hammer_checkmap_freemap(struct hammer_checkmap *cm, struct hammer_err *err);
int hammer_checkmap_btree(struct hammer_checkmap *cm, struct hammer_err *err);
int hammer_checkmap_undo(struct hammer_checkmap *cm, struct hammer_err *err);
/* Sort the blocks by layer-2 address and compare each with its layer-2. */
int hammer_checkmap_finish(struct hammer_checkmap *cm, struct hammer_err *err);
void hammer_checkmap_free(struct hammer_checkmap *cm);

/* All phases at once; returns 0, or a negative errno if the check could
 * not run (findings are data, not errors). */
int hammer_checkmap_run(struct hammer_checkmap *cm, struct hammer_volset *vs,
			struct hammer_err *err);

#endif
