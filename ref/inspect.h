/*
 * inspect.h - read-only decoding helpers for the inspection commands
 * (hammer blockmap / show / show-undo / checkmap / info).
 *
 * Everything here reads through a volume set opened read-only, trusts no
 * on-disk value (every count, offset, size and CRC is checked) and never
 * prints: problems come back as codes plus a struct hammer_err sentence
 * naming the address.  Structures handed out are in host byte order.
 */
#ifndef HAMMER_INSPECT_H
#define HAMMER_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "crc.h"
#include "error.h"
#include "btree.h"
#include "ondisk.h"
#include "volume.h"

/* ------------------------------------------------------ u64 hash set */
/* Open-addressing set/map of 64-bit keys (loop detection, block sets). */
struct hammer_u64map {
	uint64_t *keys;
	uint64_t *vals;
	uint8_t *used;
	size_t cap;	/* power of two */
	size_t count;
};
void hammer_u64map_init(struct hammer_u64map *m);
void hammer_u64map_free(struct hammer_u64map *m);
/* Returns a pointer to the value slot (created as 0 if new), NULL on ENOMEM.
 * *isnew (optional) tells whether the key was absent. */
uint64_t *hammer_u64map_get(struct hammer_u64map *m, uint64_t key, int *isnew);
int hammer_u64map_has(const struct hammer_u64map *m, uint64_t key);

/* ---------------------------------------------------- one-buffer cache */
/* Caches one 16 KB buffer so sequential small reads cost one pread each. */
struct hammer_rdcache {
	hammer_off_t base;	/* HAMMER_OFF_BAD when empty */
	uint8_t buf[HAMMER_BUFSIZE];
};
void hammer_rdcache_init(struct hammer_rdcache *c);
/* Read len bytes at zone address off (may cross 16 KB buffers). */
int hammer_inspect_read(struct hammer_volset *vs, struct hammer_rdcache *c,
			hammer_off_t off, void *out, size_t len,
			struct hammer_err *err);

/* --------------------------------------------------- freemap lookup */
/*
 * Why a freemap lookup failed.  The numbers are what `show` prints after
 * "fill=...=B" (ours: DragonFly prints its own internal codes there).
 */
enum hammer_lookup_error {
	HAMMER_LOOKUP_OK = 0,
	HAMMER_LOOKUP_BADZONE = 1,	/* zone has no freemap mapping */
	HAMMER_LOOKUP_NOVOL = 2,	/* volume does not exist / beyond end */
	HAMMER_LOOKUP_L1_UNAVAIL = 3,	/* layer-1 entry is unavailable */
	HAMMER_LOOKUP_L1_CRC = 4,	/* layer-1 CRC mismatch */
	HAMMER_LOOKUP_L2_CRC = 5,	/* layer-2 CRC mismatch */
	HAMMER_LOOKUP_IO = 6,		/* layer-1/2 entry unreadable */
	HAMMER_LOOKUP_UNDO = 7,		/* UNDO address outside the FIFO */
};
/*
 * Look up the layer-1 and layer-2 entries that describe the big-block
 * holding zone address `off`.  *result gets the address the big-block is
 * accounted under: zone 4 addresses stay zone 4, everything else becomes
 * zone 2 (UNDO goes through vol0_undo_array).  Returns an enum
 * hammer_lookup_error; err (optional) gets the sentence.  l1/l2 are filled
 * as far as they could be read.
 */
int hammer_inspect_lookup(struct hammer_volset *vs, struct hammer_rdcache *c,
			  hammer_off_t off,
			  struct hammer_blockmap_layer1 *l1,
			  struct hammer_blockmap_layer2 *l2,
			  hammer_off_t *result, struct hammer_err *err);

/* ------------------------------------------------------ zone stats */
struct hammer_zone_stats {
	struct {
		uint64_t blocks, items;
		int64_t used;
	} z[HAMMER_MAX_ZONES];
	struct hammer_u64map seen;	/* big-blocks already counted */
};
void hammer_zone_stats_init(struct hammer_zone_stats *s);
void hammer_zone_stats_free(struct hammer_zone_stats *s);
/* One item of `bytes` at `off`; a big-block counts once whatever zone
 * alias names it. */
int hammer_zone_stats_add(struct hammer_zone_stats *s, hammer_off_t off,
			  int64_t bytes);
/* One whole big-block described by a layer-2 entry. */
void hammer_zone_stats_add_layer2(struct hammer_zone_stats *s,
				  const struct hammer_blockmap_layer2 *l2);

/* ------------------------------------------------------------ B-tree */
/* Key order: hammer_btree_cmp() from btree.h. */
/* Maximum elements for a node type, -1 for an unknown type. */
int hammer_node_max_elements(uint8_t type);
/* Deepest tree the walkers accept (a legal tree is far shallower). */
#define HAMMER_INSPECT_MAX_DEPTH 40

/*
 * Read the node at `off` (zone 8, 4 KB aligned), check its CRC and return
 * it in host order.  *crc is the match (HAMMER_CRC_BAD on mismatch; the
 * node is still returned so the dump can go on).  Fails (-EUCLEAN / -EIO)
 * only when the node cannot be read at all.
 */
int hammer_inspect_node_read(struct hammer_volset *vs, struct hammer_rdcache *c,
			     hammer_off_t off, struct hammer_node_ondisk *node,
			     enum hammer_crc_match *crc, struct hammer_err *err);

/* Largest record payload the inspectors will read. */
#define HAMMER_INSPECT_MAX_DATA	HAMMER_XBUFSIZE

/*
 * Read and verify the payload of a leaf element.  Returns NULL when the
 * CRC matched, else a short DragonFly-style code: "ZO" zero offset or
 * length, "BI" inode of the wrong size, "BO" unreadable offset, "BL"
 * length out of range (ours), "Bx"/"BX" CRC mismatch.  *which is "i"
 * (CRC-32C), "o" (legacy CRC-32) or "".  If data is non-NULL and the
 * payload could be read, *data gets a malloc'ed copy (data_len bytes,
 * zero-padded to at least `minsize`), which the caller frees.
 */
const char *hammer_inspect_leaf_data(struct hammer_volset *vs,
				     struct hammer_rdcache *c,
				     const struct hammer_btree_leaf_elm *leaf,
				     const char **which, void **data,
				     size_t minsize, struct hammer_err *err);

/* ------------------------------------------------------------- FIFO */
/* Records may not cross this boundary: 512 bytes from v4, 16 KB before. */
static inline uint32_t hammer_fifo_boundary(unsigned version)
{
	return version >= 4 ? HAMMER_UNDO_ALIGN : HAMMER_BUFSIZE;
}

/* Problems found in one FIFO record (bit set). */
#define HAMMER_FIFO_BAD_SIG	0x01	/* head signature */
#define HAMMER_FIFO_BAD_TYPE	0x02	/* unknown type */
#define HAMMER_FIFO_BAD_SIZE	0x04	/* size 0, unaligned, too small, crosses boundary */
#define HAMMER_FIFO_BAD_TAIL	0x08	/* tail signature/type/size disagree */
#define HAMMER_FIFO_BAD_CRC	0x10	/* hdr_crc mismatch */
#define HAMMER_FIFO_BAD_PAYLOAD	0x20	/* UNDO/REDO payload length inconsistent */

struct hammer_fifo_rec {
	struct hammer_fifo_head head;	/* host order */
	union {
		struct hammer_fifo_undo undo;
		struct hammer_fifo_redo redo;
	} u;				/* host order, valid for UNDO/REDO */
	int size_ok;			/* hdr_size usable to step to the next record */
	unsigned bad;			/* HAMMER_FIFO_BAD_* */
};
/*
 * Decode and validate the record at FIFO address `off`, whose bytes start
 * at `rec` with `avail` bytes to the next boundary.  Returns 0 if the
 * record is good, -EUCLEAN (err set, naming the address) if not; out is
 * filled either way.
 */
int hammer_fifo_rec_check(unsigned version, hammer_off_t off, const void *rec,
			  uint32_t avail, struct hammer_fifo_rec *out,
			  struct hammer_err *err);

/* ---------------------------------------------------------- header */
/* Stored-vs-computed CRCs of the root header (quirks: newfs leaves vol_crc
 * 0 and the zone 8/9 blockmap CRCs stale). */
struct hammer_header_crcs {
	uint32_t vol_stored, vol_calc;	/* volume header */
	int vol_ok;
	unsigned bad_zones;		/* bit z: vol0_blockmap[z] CRC mismatch */
};
int hammer_inspect_header_crcs(struct hammer_volset *vs, int vol_no,
			       struct hammer_header_crcs *out,
			       struct hammer_err *err);

#endif
