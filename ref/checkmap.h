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
 * DragonFly does:  init -> (set flags) -> freemap -> btree -> undo ->
 * finish -> free.
 *
 * Cost: a full run reads the whole layer-1 array, every layer-2 array in
 * use and the whole FIFO (three 8 MB big-blocks at least); runs of
 * identical freemap entries share one CRC computation and a big-block's
 * freemap lookup is remembered, so what remains is reading.  A REACHABLE
 * run (below) reads a few sectors of each instead.
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

/*
 * hammer_checkmap.flags: HAMMER_CHECKMAP_REACHABLE reads only what a file
 * system can reach, in whole 512-byte sectors:
 *   - layer-1 sectors holding an entry whose 4 TB range meets a volume;
 *   - of each layer-2 array, the sectors holding entries of big-blocks
 *     inside the volume;
 *   - the FIFO sectors holding the live range [first_offset, next_offset)
 *     (the rest of the FIFO is accounted as used without being read, which
 *     is what reading it gives when it is readable; outside the live range a
 *     bad record is only a warning for hammer_fscheck).
 * Everything checked is checked as in a full run, neighbours in a read
 * sector included.  The freemap ranges not read are listed in `skipped`.
 * A caller that knows those bytes equal the bytes of an image whose full
 * check found nothing and counted unreachable_live == 0 -- and gets the same
 * `skipped` list for both -- has the full check's answer (see crashloop.c).
 */
#define HAMMER_CHECKMAP_REACHABLE	0x1u

/* A device byte range the freemap check did not read. */
struct hammer_checkmap_range {
	int vol_no;		/* -1: the range did not translate (off is then the zone-2 address) */
	uint64_t off, len;	/* bytes on the volume's device */
};

struct hammer_checkmap_memo {	/* one remembered freemap lookup */
	hammer_off_t key;	/* (zone address & ~big-block mask) | 1; 0: empty */
	size_t slot;		/* blocks[] index */
};
#define HAMMER_CHECKMAP_MEMO 64

struct hammer_checkmap {
	struct hammer_volset *vs;
	unsigned flags;		/* HAMMER_CHECKMAP_*; set after init */
	struct hammer_rdcache cache;
	struct hammer_u64map index;	/* l2addr -> blocks[] index + 1 */
	struct hammer_checkmap_block *blocks;
	size_t nblocks, capblocks;
	struct hammer_checkmap_finding *findings;
	size_t nfindings, capfindings;
	int bad_nodes;
	int errors;		/* findings that count as checkmap errors */
	size_t fifo_records;
	/*
	 * Entries outside what the file system can reach that take part in
	 * the recount: layer-1 entries of space beyond every volume that are
	 * not UNAVAIL, and free layer-2 entries of big-blocks beyond their
	 * volume.  Counted among the entries read (a full run: all of them).
	 */
	uint64_t unreachable_live;
	struct hammer_checkmap_range *skipped;	/* REACHABLE runs, in order */
	size_t nskipped, capskipped;
	hammer_off_t skip_z2;	/* the run being joined */
	uint64_t skip_len;
	/* lookups by big-block: every byte of a big-block has the same answer */
	struct hammer_checkmap_memo memo[HAMMER_CHECKMAP_MEMO];
	uint8_t *buf;		/* 2 x HAMMER_BUFSIZE: layer-1 and layer-2 buffers */
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
