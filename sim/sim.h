/*
 * sim.h - the simulated block device: a write log over any base device,
 * crash states derived from it, and fault injection.
 *
 * DEVICE MODEL (what the engine may assume, and what sim makes happen)
 *
 * The sim device is stacked on a base struct hammer_bdev and never writes
 * the base.  Every accepted write is appended to a log, with its data; the
 * live view (what reads return) is the base with all logged writes applied
 * in order.  Sectors are 512 bytes; the base must have 512-byte sectors;
 * the sim's size is the base's rounded down to whole 4 KB blocks.
 *
 *   Epochs.  flush() is the only barrier.  The writes between two completed
 *   flushes form one epoch; epochs are numbered from 0.  A flush with no
 *   write since the previous one does not open a new epoch.
 *
 *   Durable.  Every write of an epoch closed by a completed flush.
 *
 *   Lost.  Any write issued after the last completed flush may be lost.
 *   A failed flush (fault SIM_FAULT_FLUSH) returns -EIO and does not close
 *   the epoch: its writes stay pending and may still be lost.
 *
 *   Reordered.  Writes inside one epoch reach the media in any order: after
 *   a crash, any subset of the crash epoch may be present, never a write of
 *   a later epoch.  No write moves across a barrier.
 *
 *   Atomic.  A write of one 512-byte sector is atomic, and a multi-sector
 *   write is atomic per sector, unless torn mode is on.
 *
 *   Torn.  With torn mode on, one in-flight write of the crash epoch may be
 *   cut at any 512-byte boundary K (0 < K < nsectors): either sectors [0,K)
 *   hold the new data and [K,n) the old ("prefix kept", SQLite's linear
 *   sector assumption), or [0,K) old and [K,n) new ("suffix kept").
 *
 *   Garbage.  With garbage on, one sector of one in-flight write may hold
 *   seeded random bytes that differ from both its old and its new content,
 *   the rest of that write being present (SQLite test6.c case 3).
 *
 *   Collateral.  With collateral on (a powersafe-overwrite violation), a
 *   garbage sector may also damage one other sector of the same aligned
 *   4 KB block, even one the write did not cover.
 *
 * A crash state is therefore: every epoch before the crash epoch whole, a
 * subset of the crash epoch's writes, at most one torn write and at most one
 * garbage sector (plus one collateral sector).  Recovery writes to a
 * materialized state go to a private overlay; stack a new sim on the state
 * to crash again during recovery.
 *
 * ENUMERATION (sim_enum_*), for each epoch E taken as the crash epoch, with
 * n writes, "last" meaning E is the newest (open) epoch:
 *   n <= knobs.max_subset_bits:  all 2^n subsets, minus the full set unless
 *       last (it equals epoch E+1 with nothing kept).  Ids e<E>:sb<bits>.
 *   otherwise: prefixes of 0..n-1 writes (and n if last), drop-one states
 *       for writes 0..n-2 (dropping write n-1 is a prefix), and
 *       min(sample_count, 2^n - 2n) distinct seeded random subsets that are
 *       neither prefixes nor drop-one.
 *   torn on: for every write i of s sectors and every K in 1..s-1, the
 *       writes before i kept and i torn prefix-kept, and the same suffix-kept:
 *       2(s-1) states per write.
 *   garbage on: per write i, writes before i kept, i present with one seeded
 *       sector garbage: 1 state per write.
 *   collateral on: the same plus one seeded collateral sector in the 4 KB
 *       block of the garbage sector: 1 state per write.
 * sim_enum_count() returns that total before the walk.
 *
 * STATE IDS.  Printable, and parsed back by sim_state_from_id() to the same
 * state (same sim, same knobs, same log):
 *   e<E>:s<subset>[:t<W><p|s><K>][:g<W>.<S>[.<C>]]
 *   subset  a        all writes of epoch E
 *           p<k>     the first k writes
 *           d<i>     all but write i
 *           b<bits>  one character per write of the epoch, '1' = kept,
 *                    write 0 first (at most 64 writes)
 *           r<j>     seeded sample number j (regenerated from knobs.seed)
 *   t       write W (index in the epoch) torn at sector K: 'p' keeps the new
 *           data in sectors [0,K), 's' keeps it in [K,nsec); W's subset bit
 *           is ignored.
 *   g       sector S (relative to write W) is garbage and the rest of W is
 *           present; C is the collateral sector index (0..7) inside the
 *           4 KB block holding the garbage sector.
 *   Example: "e3:sb1101:t2p3" - epochs 0-2 whole, epoch 3 writes 0, 1 and 3,
 *   write 2 torn with its first 3 sectors new.
 *
 * FAULTS fire at a countdown: after N more successful calls of that kind,
 * the next one fails (read or write -EIO, flush -EIO without closing the
 * epoch).  The power cut drops every write after the first N (they return 0
 * and change nothing) and makes flushes no-ops.
 *
 * MISUSE.  Every call checks sector alignment and range (and read-only
 * states); a bad call returns -EINVAL and counts in counters.misuse.
 *
 * Threads: a sim and its states are single-threaded, except that open
 * states may be read from several threads while nobody writes the sim.  Do
 * not write the sim during an enumeration.  Checks made by the hammer_bdev_*
 * wrappers come first, so counters.misuse sees what gets past them and
 * every direct vtable call.  The library never prints; every function
 * returns 0 or a negative errno.
 */
#ifndef HAMMER_SIM_H
#define HAMMER_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "ref/bdev.h"

#define SIM_SECTOR 512u
#define SIM_BLOCK 4096u		/* collateral damage radius */
#define SIM_ID_MAX 128		/* id buffer size fit for every state but b-form above 64 */

/* One documented struct of crash knobs; sim_knobs_default() fills it. */
struct sim_knobs {
	unsigned max_subset_bits;	/* enumerate every subset up to this many writes (10) */
	unsigned sample_count;		/* random subsets above it (1024) */
	int torn;			/* enumerate torn writes (1) */
	int garbage;			/* enumerate garbage sectors (1) */
	int collateral;			/* enumerate collateral damage (0) */
	/*
	 * No garbage or collateral sector below this device offset (0): a
	 * structure kept in one copy only (HAMMER's volume header) cannot
	 * survive garbled media, so the crash loop declares it out of the
	 * model rather than fail on every such state.
	 */
	uint64_t garbage_safe_below;
	uint64_t seed;			/* every random choice derives from it (1) */
};

void sim_knobs_default(struct sim_knobs *k);

struct sim_counters {
	uint64_t reads, writes, flushes;
	uint64_t bytes_read, bytes_written;
	uint64_t misuse;		/* misaligned / out-of-range / read-only calls */
	uint64_t faults;		/* injected faults that fired */
	uint64_t writes_dropped;	/* after the power cut */
	uint64_t states_generated;	/* by the enumerator */
	uint64_t states_opened;
	uint64_t log_bytes;		/* data held by the write log */
	uint64_t index_bytes;		/* sector index and bookkeeping */
};

struct sim;

#define SIM_OWN_BASE 0x1	/* sim_close() also closes the base */

/* Stacks a sim on base.  knobs may be NULL (defaults). */
int sim_open(struct hammer_bdev *base, int flags, const struct sim_knobs *knobs,
	     struct sim **out);
/* The device to hand to the engine; hammer_bdev_close() on it = sim_close(). */
struct hammer_bdev *sim_bdev(struct sim *s);
/* The sim behind a bdev made by sim_open(), or NULL. */
struct sim *sim_of(struct hammer_bdev *bd);
/* Drops the caller's reference; memory goes when the last state closes. */
void sim_close(struct sim *s);

void sim_counters(const struct sim *s, struct sim_counters *out);
void sim_knobs_get(const struct sim *s, struct sim_knobs *out);
int sim_knobs_set(struct sim *s, const struct sim_knobs *k);

/* Log shape. */
uint32_t sim_epochs(const struct sim *s);	/* closed epochs + the open one */
uint32_t sim_epoch_writes(const struct sim *s, uint32_t epoch);
uint64_t sim_log_writes(const struct sim *s);

/*
 * Folds the whole log into the base overlay: everything written so far
 * becomes durable and no longer takes part in crash states.  Epoch numbers
 * keep counting.  -EBUSY while states are open.
 */
int sim_settle(struct sim *s);

/* Faults. */
enum sim_fault {
	SIM_FAULT_READ,		/* read returns -EIO */
	SIM_FAULT_WRITE,	/* write returns -EIO, nothing logged */
	SIM_FAULT_FLUSH,	/* flush returns -EIO, epoch stays open */
	SIM_FAULT_POWER,	/* later writes dropped */
	SIM_FAULT_KINDS
};
/*
 * Arms a fault after `after` more successful calls of its kind.  sticky:
 * every later call fails too (always true for the power cut).
 */
int sim_fault_set(struct sim *s, enum sim_fault kind, uint64_t after, int sticky);
void sim_fault_clear(struct sim *s, enum sim_fault kind);
/* Nonzero once the power cut has happened. */
int sim_power_is_cut(const struct sim *s);

/* A crash state: small, copyable, printable. */
enum sim_subset { SIM_SUB_ALL, SIM_SUB_PREFIX, SIM_SUB_DROP, SIM_SUB_BITS, SIM_SUB_SAMPLE };
struct sim_state {
	uint32_t epoch;
	enum sim_subset subset;
	uint32_t arg;		/* prefix length, dropped write, sample number */
	uint32_t nbits;		/* SIM_SUB_BITS: writes described */
	uint64_t bits;		/* SIM_SUB_BITS: bit i = write i kept */
	int32_t torn_write;	/* -1: none */
	char torn_mode;		/* 'p' or 's' */
	uint32_t torn_sector;
	int32_t garbage_write;	/* -1: none */
	uint32_t garbage_sector;
	int32_t collateral;	/* -1: none; else sector index 0..7 in the 4 KB block */
};

/* Writes the id; returns its length, or -ENOSPC if it did not fit. */
int sim_state_id(const struct sim_state *st, char *buf, size_t len);
/* Parses and validates an id against this sim's log: -EINVAL if malformed or out of range. */
int sim_state_from_id(const struct sim *s, const char *id, struct sim_state *out);
/* Checks a state against the log (ranges, sector indexes). */
int sim_state_check(const struct sim *s, const struct sim_state *st);
/*
 * 1 if write i of the crash epoch is in the state's subset, else 0
 * (-EINVAL out of range).  Torn and garbage writes follow their own fields.
 */
int sim_state_kept(const struct sim *s, const struct sim_state *st, uint32_t i);

/*
 * Materializes a state as a new device reading through the log without
 * copying the base.  Writes to it stay in its private overlay.
 */
int sim_state_open(struct sim *s, const struct sim_state *st, struct hammer_bdev **out);
/* Bytes one open state holds (bitmap, garbage, private overlay). */
uint64_t sim_state_mem(struct hammer_bdev *state_bd);

/* The state with every logged write kept (the live view, as a state). */
void sim_state_latest(const struct sim *s, struct sim_state *out);

/*
 * Which bytes a state may show differently from the backdrop (the base
 * with the settled overlay), so a caller can tell that a range still holds
 * what it held when the log was last settled:
 *   sim_log_touches: 1 if a write in the log (any epoch since the last
 *     sim_settle) covers a sector of [off, off + len);
 *   sim_state_touches: 1 if the state itself holds other bytes there: its
 *     garbage or collateral sector, or writes made to it (recovery).
 *     -EINVAL if state_bd is not a sim state.
 * A range neither touches reads as the backdrop in that state.
 */
int sim_log_touches(const struct sim *s, uint64_t off, uint64_t len);
int sim_state_touches(struct hammer_bdev *state_bd, uint64_t off, uint64_t len);

/* Enumeration. */
struct sim_enum;
uint64_t sim_enum_count(const struct sim *s);
int sim_enum_begin(struct sim *s, struct sim_enum **out);
/* 1 and *st filled, 0 at the end, or -errno. */
int sim_enum_next(struct sim_enum *e, struct sim_state *st);
void sim_enum_end(struct sim_enum *e);

#endif
