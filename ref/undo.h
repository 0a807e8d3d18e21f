/*
 * undo.h - the UNDO/REDO FIFO (zone 3): the writer the flusher logs into,
 * and stage 1 / stage 2 recovery.
 *
 * Writer.  The FIFO is the circular range [zone-3 base, alloc_offset) of
 * vol0_blockmap[3].  The writer appends records at its append point P
 * through the buffer cache (UNDO-kind buffers, written by the flusher),
 * following the v4+ layout rules of the format digest section 5.2: no
 * record crosses a 512-byte sector, every sector starts with a sequenced
 * record, a PAD fills any leftover up to the next sector (it is overwritten
 * by the next record and P does not move past it), sequence numbers
 * increase by one per non-PAD record, and a 16 KB FIFO buffer started
 * fresh (P on a 16 KB boundary) is pre-filled with 512-byte DUMMY records
 * numbered from (seq XOR 0x40000000), so the record after the real end is
 * never in sequence.  Version 1..3 volumes are written with the same
 * framing (their recovery trusts the header, not the sequence numbers).
 *
 * Invariants kept by the writer:
 *   - P and first are 8-aligned zone-3 addresses in [base, alloc); P wraps
 *     to base when it reaches alloc; P == first means the FIFO is empty.
 *   - The live range is [first, P).  An append never lets P come within
 *     HAMMER_UNDO_MARGIN bytes of first (from behind), so neither the live
 *     records nor the sequenced record just before first (which recovery
 *     reads to learn the starting sequence number) is ever overwritten,
 *     DUMMY pre-fill of a whole 16 KB buffer included.
 *   - -ENOSPC appends nothing.  Records are committed (P and the sequence
 *     number move) one by one, so an I/O or cache error may leave the first
 *     records of a split UNDO appended: harmless, they hold bytes that did
 *     not change.  A fresh buffer may be left DUMMY-filled past P.
 *   - Not thread-safe: the caller serialises (the engine's mount lock).
 *
 * UNDO records carry the old bytes of a zone-1 (volume header) or zone-2
 * range; ranges longer than one record's payload are split (at most
 * HAMMER_UNDO_MAX_PAYLOAD = 472 bytes per record, fewer when the rest of
 * the sector is shorter).  Within one flush cycle an UNDO for an address
 * already logged with at least the same length is not logged again (it
 * would restore bytes the first one restores anyway, later in the replay);
 * hammer_undo_cycle_end() forgets them.
 *
 * The writer owns no policy: the flusher decides when to end a cycle, when
 * to lay down REDO_SYNC, when to write the UNDO buffers (flush_kind
 * HAMMER_BUF_UNDO, then a barrier) and what goes into the header.
 *
 * Nothing here prints or exits; errors are negative errno values with the
 * struct hammer_err naming the record or offset.
 */
#ifndef HAMMER_UNDO_H
#define HAMMER_UNDO_H

#include <stddef.h>
#include <stdint.h>

#include "buffer.h"
#include "error.h"
#include "ondisk.h"
#include "volume.h"

/* Distance the append point keeps from first_offset (see above). */
#define HAMMER_UNDO_MARGIN	(2 * HAMMER_BUFSIZE)

/* FIFO geometry from the root header, validated. */
struct hammer_fifo_geom {
	hammer_off_t base;		/* 0x3000000000000000 */
	hammer_off_t alloc;		/* vol0_blockmap[3].alloc_offset */
	uint64_t size;			/* alloc - base: 16 KB multiple */
	unsigned nbb;			/* big-blocks used (vol0_undo_array) */
	uint32_t bound;			/* records never cross: 512 (v4+) or 16 KB */
};
/*
 * alloc_offset must be a 16 KB aligned zone-3 address of at most 128
 * big-blocks and every vol0_undo_array entry it uses a big-block aligned
 * zone-2 address inside a volume.  -EUCLEAN otherwise.
 */
int hammer_fifo_geom_get(struct hammer_volset *vs, struct hammer_fifo_geom *g,
			 struct hammer_err *err);

/* 1 if zone-2 range [z2, z2 + len) (len 0: its first byte) touches a FIFO
 * big-block. */
int hammer_fifo_overlaps(const struct hammer_volset *vs,
			 const struct hammer_fifo_geom *g, hammer_off_t z2,
			 uint64_t len);

/*
 * Sequence number of the newest non-PAD record ending at or before `end`
 * (scanning back over PADs, wrapping at the FIFO base).  -ENOENT if the
 * whole FIFO holds no such record, -EUCLEAN (naming the record) if a
 * record on the way is damaged.
 */
int hammer_fifo_seq_before(struct hammer_volset *vs, struct hammer_bufcache *bc,
			   hammer_off_t end, uint32_t *seq,
			   struct hammer_err *err);

struct hammer_undo;

/*
 * Attach to the FIFO described by the root header's zone-3 blockmap entry
 * (first_offset = F, next_offset = append point).  The next sequence
 * number is one past the record ending at next_offset (found by scanning
 * back), or 0 when the FIFO holds no sequenced record (versions 1..3 also
 * fall back to 0 on a damaged record).  Run recovery first: the writer
 * trusts the header.  -EROFS on a read-only volume set.
 */
int hammer_undo_open(struct hammer_volset *vs, struct hammer_bufcache *bc,
		     struct hammer_undo **out, struct hammer_err *err);
void hammer_undo_close(struct hammer_undo *u);

/*
 * Append UNDO records holding `old` (the current bytes of [addr, addr+len))
 * before they change.  addr is zone 1 (a volume header: vol_no in bits
 * 52..59, byte offset in the low bits, the range inside the 1928-byte
 * header) or zone 2 (inside a volume, not in the FIFO; split so that no
 * record's payload crosses a 16 KB buffer, as recovery demands).
 * Suppressed if addr was logged in this cycle with at least len
 * bytes.  len 0 logs nothing.  -ENOSPC when the FIFO lacks room (the
 * flusher must finalize first; nothing was appended), -EINVAL for a bad
 * address or range.
 */
int hammer_undo_log(struct hammer_undo *u, hammer_off_t addr, const void *old,
		    size_t len, struct hammer_err *err);

/* A REDO record (format digest 5.1). */
struct hammer_redo_rec {
	int64_t objid;
	hammer_off_t offset;
	uint32_t flags;			/* HAMMER_REDO_* (exactly one) */
	uint32_t localization;
};
/*
 * Append REDO records.  HAMMER_REDO_WRITE: `payload` holds the len file
 * bytes at r->offset; longer than HAMMER_REDO_MAX_PAYLOAD (448) or the
 * rest of the sector, it is split at consecutive offsets (len 0: one
 * record, no bytes).  Any other flag: payload must be NULL; len goes into
 * redo_data_bytes without bytes (as DragonFly does for TERM_WRITE, which
 * gives the length of the write it ends; 0 for TRUNC, TERM_TRUNC, SYNC).
 * redo_mtime/reserved fields are written as 0.  *where (if non-NULL) gets
 * the FIFO address of the first REDO record (a REDO_SYNC names it).
 * -ENOSPC as for hammer_undo_log, -EINVAL for bad flags or arguments.
 */
int hammer_undo_redo(struct hammer_undo *u, const struct hammer_redo_rec *r,
		     const void *payload, size_t len, hammer_off_t *where,
		     struct hammer_err *err);

/*
 * Payload bytes the next REDO WRITE record can carry without being split
 * (1..HAMMER_REDO_MAX_PAYLOAD): the rest of P's sector, or a whole sector
 * when the rest is too short and would become a PAD.  A caller that needs
 * one record per piece (TERMs name pieces by offset) cuts its payload so.
 */
size_t hammer_undo_redo_room(const struct hammer_undo *u);
/* Current append point (zone 3): the flusher's P. */
hammer_off_t hammer_undo_append_point(const struct hammer_undo *u);
/* The cached first_offset (start of the live FIFO range). */
hammer_off_t hammer_undo_first(const struct hammer_undo *u);
/* first must be an 8-aligned FIFO address (alloc_offset means base). */
void hammer_undo_set_first(struct hammer_undo *u, hammer_off_t first);
/*
 * FIFO bytes that can still be appended before -ENOSPC: the space not
 * live, less HAMMER_UNDO_MARGIN (records and their PADs both count).
 */
uint64_t hammer_undo_free_bytes(const struct hammer_undo *u);
/* Total FIFO bytes. */
uint64_t hammer_undo_size(const struct hammer_undo *u);
/* Sequence number the next record will get. */
uint32_t hammer_undo_next_seq(const struct hammer_undo *u);
/*
 * Start the next record at the next 512-byte sector (the PAD after the last
 * record stays).  The flusher calls it after writing the FIFO, so a sector
 * holding records already on disk is never written again: a later torn or
 * garbled FIFO write cannot damage records recovery may need.  Does nothing
 * unless the rest of P's sector is a PAD this writer laid (not so right
 * after hammer_undo_open() mid-sector) and the margin allows.
 */
void hammer_undo_seal(struct hammer_undo *u);
/* End of a flush cycle: forget the duplicate-suppression set. */
void hammer_undo_cycle_end(struct hammer_undo *u);

struct hammer_undo_stats {
	uint64_t undo_records;
	uint64_t undo_bytes;		/* payload bytes */
	uint64_t redo_records;
	uint64_t pad_records;		/* PADs that advanced P (not trailing ones) */
	uint64_t suppressed;		/* duplicate UNDOs not logged */
	uint64_t fresh_buffers;		/* 16 KB buffers pre-filled with DUMMYs */
	uint64_t wraps;			/* times P wrapped to the FIFO base */
};
void hammer_undo_stats(const struct hammer_undo *u, struct hammer_undo_stats *st);

/* ------------------------------------------------------------ recovery */

struct hammer_recover_info {
	hammer_off_t first;		/* F from the header */
	hammer_off_t next_hdr;		/* next_offset from the header */
	hammer_off_t last;		/* L found by the sequence scan (v<4: next_hdr) */
	uint32_t first_seq;		/* sequence number expected at F (v4+) */
	uint32_t next_seq;		/* the next one to write */
	uint64_t records;		/* non-PAD records in [F, L) */
	uint64_t undo_records;		/* UNDOs played */
	uint64_t undo_bytes;
	int clean;			/* F == L: nothing to do */
	int redo_needed;		/* a REDO_SYNC was seen */
	hammer_off_t redo_start;	/* its redo_offset */
};

/*
 * Stage 1 (format digest 5.4): find the FIFO end, play the UNDOs from L
 * back to F into the buffer cache (zone 2) and the in-memory headers
 * (zone 1).
 *
 * v4+: the sequence scan is authoritative: records past the header's
 * next_offset that continue the sequence belong to the FIFO (the crash
 * came after the FIFO write, before the header's).  A bad or out-of-
 * sequence record before next_offset is corruption (the header is written
 * only after the FIFO is durable); after it, it is just the end.
 * v1..3: the header's [F, next_offset) is the range.
 *
 * Everything in [F, L) is validated before anything is applied: every
 * record's framing and CRC, UNDO targets (zone 1: inside the header of an
 * existing volume; zone 2: inside a volume, not in the FIFO's big-blocks,
 * not crossing a 16 KB buffer), REDO_SYNC targets (inside the FIFO), and
 * the restored headers (they must decode, keep the volume's identity and
 * leave the FIFO geometry alone).  A refusal is -EUCLEAN naming the
 * record's FIFO offset (err->off) and changes nothing.
 *
 * Read-write volume sets: restored META buffers are written (also midway
 * if the cache fills up: recovery is restartable), then the restored
 * non-root headers, a barrier, the root header (first = F, next = L), a
 * barrier.  Only sectors whose bytes an UNDO changes are written: a
 * sector covered in part (the head of a split UNDO whose tail a torn FIFO
 * write lost) already holds the disk's bytes and is left alone, so a
 * garbled recovery write never hits bytes the UNDOs of [F, L) cannot
 * restore.  A clean FIFO writes nothing unless the header's range needs
 * normalising.  Read-only: restored bytes stay in memory (dirty buffers,
 * in-memory headers, including first/next); -ENOBUFS if they do not fit in
 * the cache.  Restartable: a crash at any write recovers again to the same
 * result.
 *
 * The caller must not have the UNDO before_modify hook installed on bc:
 * recovery modifies META buffers and must not log them.  Run it before
 * anything else uses the cache.
 */
int hammer_recover_stage1(struct hammer_volset *vs, struct hammer_bufcache *bc,
			  struct hammer_recover_info *info,
			  struct hammer_err *err);

/*
 * The parsing side of stage 2 (format digest 5.5), for the engine to
 * re-execute: calls fn for every REDO WRITE (payload = its bytes, len =
 * redo_data_bytes) and TRUNC (payload NULL, len 0, r->offset = new size)
 * in the extended range [redo_start, L) that is not matched by a TERM, in
 * FIFO order.
 *
 * If redo_start lies in [F, L) every WRITE/TRUNC from it is returned.
 * Otherwise the range [redo_start, F) is first scanned backwards from F,
 * sequence numbers decreasing by exactly one, collecting its TERM_WRITE /
 * TERM_TRUNC records keyed by (objid, localization, kind, offset; offset
 * ignored for TRUNC); a WRITE/TRUNC in the forward scan is skipped while a
 * TERM for its key is still ahead of it (each TERM the forward scan passes
 * uses up one collected entry), so TERMs in [F, L), whose meta-data stage
 * 1 just undid, match nothing.
 *
 * payload points into a cache buffer and is valid during the call only.
 * The scan reads [redo_start, L) as it goes, and the writer protects only
 * [first, P): if re-executing appends to the FIFO, collect the records
 * first (or keep the appends small), or they may overwrite the part of
 * the extended range not yet read.  (Moving first back would be wrong: a
 * crash would then replay UNDOs of cycles already durable.)
 * A non-zero return from fn stops the scan and is returned.  Returns 0
 * also when info->redo_needed is 0 or the version is below 4.  -ERANGE (err set) when the extended
 * range was overwritten (a sequence gap, a damaged record, or redo_start
 * not on a record boundary): REDO cannot run, the caller decides
 * (vfs.hammer.skip_redo).  -EUCLEAN for damage inside [F, L).
 */
int hammer_recover_redo_scan(struct hammer_volset *vs, struct hammer_bufcache *bc,
			     const struct hammer_recover_info *info,
			     int (*fn)(void *ctx, const struct hammer_redo_rec *r,
				       const void *payload, size_t len),
			     void *ctx, struct hammer_err *err);

#endif
