/*
 * blockmap.h - the big-block allocator (zones 8..11) over the freemap.
 *
 * (`struct hammer_blockmap` in ondisk.h is the 40-byte on-disk entry of
 * one zone; `struct hammer_bmap` here is the live allocator.)
 *
 * Between flushes the allocator's copy of the root volume's 16 blockmap
 * entries is the authority for next_offset; hammer_blockmap_store() puts
 * it back into the in-memory root header (with fresh entry_crc) for the
 * flusher to write.  The freemap itself (layer 1 on volume 0, one layer-2
 * array per volume) is changed only through the buffer cache, after
 * hammer_buffer_modify(), so the before_modify hook sees the old bytes of
 * every layer entry before it changes.  vol0_stat_freebigblocks is changed
 * in the in-memory root header (vs->vols[0]->hdr); the header is logged and
 * written by the flusher, not through the hook.
 *
 * Allocation (DragonFly's rules): sizes are rounded up to 16 bytes, at most
 * 64 KB.  Up to 16 KB never crosses a 16 KB buffer, larger never crosses a
 * big-block (the iterator skips ahead, leaving a hole that is never
 * reused).  The iterator walks the zone's address space upwards: volume 0's
 * layer-1 ranges, then volume 1's (vol bits are part of the address), and
 * so on.  At a big-block boundary a layer-1 range with blocks_free == 0 is
 * skipped whole; big-blocks owned by another zone (including 15, beyond
 * the end of a volume, and big-blocks waiting on the delay list) are
 * skipped; within a big-block allocation resumes at append_off.  A free
 * big-block is claimed by setting its layer-2 zone, blocks_free-- in
 * layer 1 and vol0_stat_freebigblocks--.  Reaching the end of the zone
 * wraps once to its start; the second time is -ENOSPC, after which
 * nothing has changed.
 *
 * As a short cut (same outcome as walking the entries) the iterator jumps
 * to the next volume once it passes the last whole big-block of a volume,
 * and to the end of the zone after the last volume.
 *
 * Freeing: bytes_free += size.  When a big-block becomes wholly free it is
 * returned at once (zone 0, append_off 0, blocks_free++, stat++) but put
 * on a delay list stamped with seq + 1, where seq is the number of the
 * flush now collecting changes.  It cannot be allocated again until the
 * flusher reports, with hammer_blockmap_advance(), that flush seq + 1 has
 * completed, so crash recovery can never find its old contents
 * overwritten.  At release its cached buffers are invalidated; if one is
 * pinned the entry waits for a later advance.
 *
 * Every layer entry read is CRC-checked (either CRC at version 7, as
 * DragonFly) and range-checked; a bad one is -EUCLEAN naming the entry's
 * address.  Every layer entry written gets the CRC of the volume set's
 * version.  The allocator reads and pins at most two buffers per step and
 * changes nothing until both are pinned and the hooks have agreed, so an
 * error (-ENOBUFS from a full cache, a hook's veto, I/O, corruption) leaves
 * the accounting consistent.
 *
 * Thread safety: one mutex serialises alloc, free, advance and lookup.
 */
#ifndef HAMMER_BLOCKMAP_H
#define HAMMER_BLOCKMAP_H

#include <stdint.h>

#include "buffer.h"
#include "error.h"
#include "ondisk.h"
#include "volume.h"

struct hammer_bmap;

struct hammer_bmap_stats {
	uint64_t allocs;
	uint64_t frees;
	uint64_t bytes_allocated;	/* rounded sizes */
	uint64_t bytes_freed;
	uint64_t bigblocks_claimed;
	uint64_t bigblocks_freed;	/* returned to zone 0 */
	uint64_t delayed;		/* on the delay list now */
	uint64_t released;		/* left the delay list */
	uint64_t enospc;
};

/*
 * Takes the blockmap entries from the root header.  Checks the freemap
 * entry (zone 4: phys_offset a big-block aligned zone-2 address on volume
 * 0) and that each allocation zone's next_offset lies in its own zone.
 * Blockmap entry_crc are not checked (newfs leaves zones 8 and 9 stale):
 * see hammer_blockmap_crc_mismatch().  Both vs and bc must outlive bm.
 */
int hammer_blockmap_open(struct hammer_volset *vs, struct hammer_bufcache *bc,
			 struct hammer_bmap **out, struct hammer_err *err);
void hammer_blockmap_close(struct hammer_bmap *bm);

/* Bit z set: the root header's entry for zone z had a wrong entry_crc. */
uint32_t hammer_blockmap_crc_mismatch(const struct hammer_bmap *bm);

/*
 * Allocate `bytes` (1..65536, rounded to 16) in zone 8, 9, 10 or 11;
 * *out is the zone-X address.  -EINVAL, -EROFS, -ENOSPC, -EUCLEAN, or the
 * buffer cache's error.
 */
int hammer_blockmap_alloc(struct hammer_bmap *bm, unsigned zone, int bytes,
			  hammer_off_t *out, struct hammer_err *err);

/*
 * Free `bytes` (rounded to 16, at most 64 KB, not crossing a big-block) at
 * zone-X address off, which must lie below its big-block's append_off in
 * a big-block its zone owns.  bytes == 0 does nothing.  A free that would
 * take bytes_free above 8 MB is -EUCLEAN (double free).
 */
int hammer_blockmap_free(struct hammer_bmap *bm, hammer_off_t off, int bytes,
			 struct hammer_err *err);

/*
 * Flush sequence numbers.  hammer_blockmap_seq() is the flush now
 * collecting changes (1 after open).  advance(done) says every flush up to
 * `done` has completed: delayed big-blocks stamped <= done are released
 * and seq becomes at least done + 1.  Returns how many were released.
 */
uint64_t hammer_blockmap_seq(const struct hammer_bmap *bm);
int hammer_blockmap_advance(struct hammer_bmap *bm, uint64_t done);

/* What the freemap says about one address. */
struct hammer_blockmap_info {
	hammer_off_t layer1_off;	/* zone-2 address of the layer-1 entry */
	hammer_off_t layer2_off;	/* zone-2 address of the layer-2 entry */
	struct hammer_blockmap_layer1 layer1;	/* host order, CRC verified */
	struct hammer_blockmap_layer2 layer2;
	int delayed;			/* big-block on the delay list */
};

/*
 * Look up a zone 2, 4 or 8..15 address.  For zones other than 2 the
 * big-block must be owned by that zone (-EUCLEAN otherwise, as for bad
 * CRCs and out-of-range fields; the message names the address).
 */
int hammer_blockmap_lookup(struct hammer_bmap *bm, hammer_off_t off,
			   struct hammer_blockmap_info *info,
			   struct hammer_err *err);

/* The live entry of a zone (host order; entry_crc as last stored). */
void hammer_blockmap_get_entry(struct hammer_bmap *bm, unsigned zone,
			       struct hammer_blockmap *out);

/*
 * Replace the live entry of a zone: for the owners of other zones (the
 * UNDO FIFO's zone 3), so that hammer_blockmap_store() carries their
 * changes too.
 */
void hammer_blockmap_set_entry(struct hammer_bmap *bm, unsigned zone,
			       const struct hammer_blockmap *e);

/*
 * Copy all 16 live entries into the in-memory root header with a fresh
 * entry_crc each (all-zero entries of unused zones stay all zero, CRC
 * included, as DragonFly leaves them).  The flusher then writes the header.
 */
void hammer_blockmap_store(struct hammer_bmap *bm);

/* entry_crc of a host-order blockmap entry at a given version. */
uint32_t hammer_blockmap_entry_crc(unsigned version,
				   const struct hammer_blockmap *e);

void hammer_blockmap_stats(struct hammer_bmap *bm, struct hammer_bmap_stats *st);

#endif
