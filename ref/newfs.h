/*
 * newfs.h - format a set of devices as a HAMMER file system.
 *
 * The layout is the one DragonFly's newfs_hammer writes, byte for byte,
 * except that every CRC is correct (DragonFly leaves vol_crc 0 and the
 * zone 8/9 blockmap entry_crc stale).  Per volume, counting 8 MB big-blocks
 * from vol_buf_beg:
 *
 *   volume 0:  [layer-1][layer-2 x L][UNDO x U][B-tree][meta][free ...]
 *   volume N:  [layer-2 x L][free ...]
 *
 * L is one per 4 TB of the volume; layer-2 entries past the last whole
 * big-block are zone 15 up to the 4 TB boundary.  The B-tree big-block
 * holds the root leaf (root inode + root PFS records); the meta big-block
 * their data.  The UNDO FIFO is pre-filled with 512-byte DUMMY records.
 *
 * Everything is validated before the first write, so a refusal leaves the
 * devices untouched.  Data is written and flushed before the headers.
 */
#ifndef HAMMER_NEWFS_H
#define HAMMER_NEWFS_H

#include <stdint.h>

#include "bdev.h"
#include "error.h"
#include "ondisk.h"

#define HAMMER_NEWFS_UNSET	(-1)	/* size option not given */
#define HAMMER_NEWFS_MIN_GIG	10	/* below this (volume 0) needs force */
#define HAMMER_NEWFS_LABEL_MAX	63	/* vol_label is 64 bytes, NUL kept */

struct hammer_newfs_opts {
	const char *label;	/* required */
	int64_t boot_size;	/* UNSET: 32 KB; 16 KB multiple, <= 256 MB */
	int64_t memlog_size;	/* UNSET: 256 KB; 16 KB multiple, <= 64 GB */
	/*
	 * UNSET or 0: the default rule (0.1% of volume 0, clamped to 64..128
	 * big-blocks).  0 given explicitly is below the minimum, so, as with
	 * DragonFly's "-u 0", it needs force.  Otherwise a 16 KB multiple,
	 * <= 1 GB, rounded up to whole big-blocks.
	 */
	int64_t undo_size;
	unsigned version;	/* 1..7; 0 means the default, 7 */
	int force;		/* allow small volumes and small areas */
	hammer_uuid_t fsid;	/* stored as given; must not be nil */
	const hammer_uuid_t *pfs_uuid;	/* root PFS shared/unique; NULL: fsid */
	uint64_t ctime_us;	/* root inode times (µs); create_ts = seconds */
};

/* Warnings a successful (forced) format carries, for the caller to print. */
enum hammer_newfs_warn {
	HAMMER_NEWFS_WARN_UNDO_SMALL	= 1,	/* UNDO below 512 MB */
	HAMMER_NEWFS_WARN_BOOT_SMALL	= 2,	/* boot area below 32 KB */
	HAMMER_NEWFS_WARN_MEMLOG_SMALL	= 4,	/* memory log below 256 KB */
};

/* What was made, for the summary DragonFly prints. */
struct hammer_newfs_result {
	unsigned version;
	int vol_count;
	uint64_t total_size;		/* sum of device sizes */
	int64_t boot_size;
	int64_t memlog_size;
	int64_t undo_size;		/* bytes, whole big-blocks */
	int undo_bigblocks;
	uint64_t preallocated;		/* freemap + UNDO on volume 0 */
	int freemap_bigblocks[HAMMER_MAX_VOLUMES];	/* layer-1/2 per volume */
	int64_t stat_bigblocks;
	int64_t stat_freebigblocks;
	hammer_off_t btree_root;
	hammer_off_t inode_data;	/* zone-9 address of root inode data */
	hammer_off_t pfs_data;		/* zone-9 address of root PFS data */
	hammer_tid_t next_tid;		/* vol0_next_tid */
	hammer_tid_t create_tid;	/* of both root records */
	unsigned warnings;		/* enum hammer_newfs_warn bits */
};

/* Defaults: sizes UNSET, version 7, no force, nil fsid, time 0. */
void hammer_newfs_opts_init(struct hammer_newfs_opts *o);

/*
 * Check the options alone (no devices): label, version, area and UNDO
 * sizes.  Sets *warnings to what a forced run will report.  -EINVAL with
 * a message naming the option on refusal.
 */
int hammer_newfs_check_opts(const struct hammer_newfs_opts *o,
			    unsigned *warnings, struct hammer_err *err);

/*
 * The UNDO FIFO size the format will use (bytes, whole big-blocks) for the
 * undo_size option and volume 0's buffer space (vol_buf_end - vol_buf_beg).
 */
int64_t hammer_newfs_undo_bytes(int64_t undo_opt, int64_t vol0_buf_bytes);

/*
 * Format devices bds[0..n-1] as volumes 0..n-1 (1..256 of them).
 * Errors: -EINVAL bad options or device list, -ENOSPC a volume too small
 * (including volume 0 under 10 GB without force), -EFBIG a volume over
 * 2^52 bytes, -EROFS a read-only device, or the device's I/O error.
 * The devices stay open and owned by the caller.
 */
int hammer_newfs_format(struct hammer_bdev **bds, int n,
			const struct hammer_newfs_opts *o,
			struct hammer_newfs_result *res, struct hammer_err *err);

#endif
