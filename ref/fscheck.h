/*
 * fscheck.h - the whole-file-system checker behind `hammer check`
 * (DragonFly has no fsck for HAMMER; this one is ours).
 *
 * hammer_fscheck() reads a volume set through an existing buffer cache and
 * reports what is wrong as findings with stable codes.  It never writes,
 * never prints and never exits.  Because every B-tree node, record payload
 * and FIFO record is read through the cache, it sees buffers that are dirty
 * in the cache and not yet on disk, so an engine may run it on the volume
 * set it has mounted -- provided nothing changes the tree while it runs
 * (hold the mount lock) and in-memory inode changes have been synced into
 * the tree first.  A mounted engine should also pass its tree (opts.tree)
 * and its TID allocator (opts.next_tid): between flushes the header's
 * vol0_next_tid lags behind the TIDs already in the tree, and every newer
 * record would be a TID_RANGE finding.  Two parts read elsewhere:
 *   - the freemap check (hammer_checkmap_run) reads the devices directly;
 *     it is skipped, with a CHECKMAP_SKIPPED warning, when the cache holds
 *     dirty buffers (its answer would be about a state nobody sees);
 *   - the volume headers are the in-memory copies in `vs`.
 *
 * What is checked, in this order:
 *   1. the B-tree structure (hammer_btree_check: codes BTREE_*);
 *   2. pass 1 over the records: every INODE record in an INODE
 *      localization (data length, CRC, version, type, dirhash, TIDs, one
 *      live version per object); live inodes go into a per-object table;
 *   3. pass 2 over every other record: TIDs, localization, payload zone and
 *      CRC, directory entries (target, type, localization, namekey range,
 *      name, duplicates, owner is a directory), file data (overlaps, end of
 *      file, key), symlink targets, records of objects with no live inode;
 *   4. per object, from the table: nlinks against the live entries naming
 *      it, orphans, directory parents, hard-linked directories, long
 *      symlinks without their FIX record, PFS links naming no live PFS;
 *      then per PFS: records without a live PFS record, master roots
 *      (codes PFS_*, below; PFS records and link texts are read in 2-3);
 *   5. the UNDO/REDO FIFO: zone-3 first/next inside the FIFO, and (v4+)
 *      every record from first to next valid with consecutive sequence
 *      numbers;
 *   6. the freemap against the B-tree and the FIFO (hammer_checkmap: CM_*);
 *      with HAMMER_FSCK_CHECKMAP_REACHABLE only the parts the file system
 *      can reach, the freemap ranges left out listed in report.skipped.
 *
 * The record passes walk the tree node by node (a copy of one node per
 * level, nothing pinned while records are checked), visit each node once
 * (a set of node addresses), and skip what they cannot read: the
 * structural checker has already reported it.  If anything was skipped the
 * per-object checks of step 4 are not made (they would report every object
 * whose entries were in the lost part) and SCAN_INCOMPLETE says so.
 * Inode fields behind a bad inode CRC are not used (IN_CRC alone is
 * reported; the object's type comes from its leaf); a directory entry
 * behind a bad CRC is still followed, so one damaged entry does not also
 * make its target an orphan.
 *
 * Memory: the per-object table holds one 64-byte slot per live inode and is
 * kept at most 70% full (about 92..184 bytes per live inode); the node set
 * 17 bytes per slot, at most half full (~34..68 bytes per B-tree node);
 * the names of the live entries of the one directory being scanned (for
 * duplicate names); hammer_btree_check and hammer_checkmap add their own
 * (a node set, and one entry per big-block in use).  Nothing grows with the
 * number of records or with file sizes.
 *
 * Conventions checked (verified in DragonFly's hammer_vnops.c /
 * hammer_object.c / hammer_pfs.c and this project's newfs):
 *   - nlinks of every object, directories included, is the number of live
 *     directory entries naming it: mkdir does not touch the parent's nlinks
 *     and "." / ".." are not stored;
 *   - the root of every PFS (obj_id 1) has nlinks 1 and no entry naming it
 *     (newfs writes nlinks 1; a PFS root "stands alone" with nlinks bumped
 *     to 1); its parent_obj_id (0) is not checked;
 *   - a live inode with no live entry is an orphan; with nlinks 0 this is
 *     what an unlink of an open file leaves after a crash (warning), with
 *     nlinks > 0 a lost object (error).
 *
 * Pseudo-filesystems (hammer-format.md section 7).  PFS n (0..65535) keeps
 * its objects in localizations (n << 16) | type; the per-object checks
 * above are made per PFS (objects are keyed by (PFS, obj_id), every PFS's
 * obj_id 1 is a root, slaves are judged like masters).  PFS n's record is
 * in PFS 0: obj_id 1, localization 0x00000002, rec_type PFS, key n << 16,
 * data a hammer_pseudofs_data.  PFS 0 needs no record (newfs writes one).
 *   - PFS_RECORD: a PFS record not at PFS 0 / obj_id 1 / MISC, a key with
 *     low 16 bits set, data_len below 292 (the kernel reads min(data_len,
 *     292); older 64-bit kernels wrote 296, which is accepted), unknown
 *     mirror_flags bits (known: SLAVE 0x1, DELETED 0x80000000), label or
 *     snapshots without a NUL in its 64 bytes, a slave with sync_beg_tid >
 *     sync_end_tid, PFS 0's record marked SLAVE or DELETED, or two live
 *     records for one PFS.  Payload problems are the general REC_* codes.
 *     A PFS whose record is misplaced, unreadable or has a bad CRC is
 *     treated as unknown: the checks below are not made for it.
 *   - PFS_NO_RECORD: records (live or history) in PFS n > 0 whose PFS has
 *     no live record (none, or DELETED): pfs-destroy removes every record
 *     before it sets DELETED.  One finding per PFS, naming its first record.
 *   - PFS_ROOT: a live master (PFS 0 included) has a live obj_id 1 inode,
 *     a directory; a slave may lack it (before its first mirroring), but if
 *     present it is a directory.
 *   - PFS_LINK: a live symlink in PFS 0 whose stored target starts with
 *     "@@PFS" must be exactly "@@PFS" + 5 decimal digits naming 1..65535
 *     (error); naming a PFS without a live record is a warning (what a
 *     crash between pfs-destroy and the removal of its link leaves).
 * Records are only judged against PFS records when the scan was complete
 * (a skipped node may hold the PFS record or the root).  Memory: a table of
 * 12 bytes per possible PFS id (768 KB) and one B-tree key per PFS that has
 * records.
 */
#ifndef HAMMER_FSCHECK_H
#define HAMMER_FSCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "btree.h"
#include "buffer.h"
#include "error.h"
#include "ondisk.h"
#include "volume.h"

/*
 * Stable finding codes (never renumber; append only).  The string names
 * (hammer_fscheck_code_name) are stable too.
 */
enum hammer_fsck_code {
	HAMMER_FSCK_OK = 0,
	HAMMER_FSCK_IN_DATA_LEN = 1,	/* INODE record data_len is not 128 */
	HAMMER_FSCK_IN_CRC = 2,		/* INODE data CRC (first 112 bytes) mismatch */
	HAMMER_FSCK_IN_OBJTYPE = 3,	/* inode obj_type invalid or != the leaf's obj_type */
	HAMMER_FSCK_IN_VERSION = 4,	/* inode data version is not 1 */
	HAMMER_FSCK_IN_DIRHASH = 5,	/* cap_flags dirhash algorithm 2 or 3 */
	HAMMER_FSCK_IN_DUP = 6,		/* more than one live INODE record for an object */
	HAMMER_FSCK_IN_NLINKS = 7,	/* nlinks != live entries naming the object */
	HAMMER_FSCK_ORPHAN = 8,		/* live non-root inode that no live entry names */
	HAMMER_FSCK_REC_TID_ORDER = 9,	/* create_tid 0, or create_tid >= delete_tid */
	HAMMER_FSCK_TID_RANGE = 10,	/* TID or obj_id not below vol0_next_tid (or obj_id <= 0) */
	HAMMER_FSCK_REC_NO_INODE = 11,	/* live record of an object with no live inode */
	HAMMER_FSCK_REC_TYPE = 12,	/* unknown rec_type */
	HAMMER_FSCK_REC_LOCALIZATION = 13, /* record in the wrong localization type */
	HAMMER_FSCK_REC_DATA = 14,	/* payload unreadable: length, offset, I/O */
	HAMMER_FSCK_REC_CRC = 15,	/* payload CRC mismatch (records other than INODE) */
	HAMMER_FSCK_REC_ZONE = 16,	/* payload in the wrong zone */
	HAMMER_FSCK_DE_TARGET = 17,	/* entry names an object with no live inode */
	HAMMER_FSCK_DE_OBJTYPE = 18,	/* entry obj_type != the target's */
	HAMMER_FSCK_DE_LOCALIZATION = 19, /* entry localization vs DIR_LOCAL_INO / PFS */
	HAMMER_FSCK_DE_KEY = 20,	/* key outside [namekey, namekey + limit] */
	HAMMER_FSCK_DE_NAME = 21,	/* name length not 1..255, or has '/' or NUL */
	HAMMER_FSCK_DE_DUP = 22,	/* two live entries with one name in one directory */
	HAMMER_FSCK_DE_NOT_DIR = 23,	/* entry in an object that is not a directory */
	HAMMER_FSCK_DIR_PARENT = 24,	/* parent_obj_id is not the directory naming it */
	HAMMER_FSCK_DIR_LINKS = 25,	/* directory named by more than one entry (root: any) */
	HAMMER_FSCK_DATA_OVERLAP = 26,	/* two live DATA records overlap */
	HAMMER_FSCK_DATA_EOF = 27,	/* live DATA record past the end of file (see .c) */
	HAMMER_FSCK_DATA_KEY = 28,	/* DATA key (end offset) smaller than data_len */
	HAMMER_FSCK_SYMLINK = 29,	/* long symlink without FIX record, or length mismatch */
	HAMMER_FSCK_FIFO_BOUNDS = 30,	/* zone-3 blockmap offsets outside the FIFO */
	HAMMER_FSCK_FIFO_RECORD = 31,	/* bad record between FIFO first and next */
	HAMMER_FSCK_FIFO_SEQ = 32,	/* sequence numbers not consecutive */
	HAMMER_FSCK_SCAN_INCOMPLETE = 33, /* warning: nodes skipped, object checks not made */
	HAMMER_FSCK_CHECKMAP_SKIPPED = 34, /* warning: dirty cache, freemap check not run */
	HAMMER_FSCK_CHECKMAP_FAILED = 35, /* the freemap check could not run to the end */
	HAMMER_FSCK_PFS_RECORD = 36,	/* PFS record malformed or misplaced (see below) */
	HAMMER_FSCK_PFS_NO_RECORD = 37,	/* records of a PFS with no live PFS record */
	HAMMER_FSCK_PFS_ROOT = 38,	/* master PFS without root, or root not a directory */
	HAMMER_FSCK_PFS_LINK = 39,	/* bad @@PFS link target; warning: names no live PFS */
	HAMMER_FSCK_SNAPSHOT_RECORD = 40, /* SNAPSHOT record: object, size, or data TID != key */
	HAMMER_FSCK_CONFIG_RECORD = 41,	/* CONFIG record: object, key, size or no NUL */
	HAMMER_FSCK_CODE_MAX,
	/* hammer_btree_check findings: base + enum hammer_chk_code */
	HAMMER_FSCK_BTREE_BASE = 100,
	/* hammer_checkmap findings: base + enum hammer_checkmap_code */
	HAMMER_FSCK_CM_BASE = 200,
};
/* "IN_NLINKS", "BTREE_CRC", "CM_ZONE"; "UNKNOWN" for anything else. */
const char *hammer_fscheck_code_name(int code);

enum hammer_fsck_severity { HAMMER_FSCK_ERROR = 0, HAMMER_FSCK_WARN = 1 };

struct hammer_fsck_finding {
	int code;		/* enum hammer_fsck_code */
	int severity;		/* enum hammer_fsck_severity */
	int has_elm;		/* elm names the record involved */
	struct hammer_base_elm elm;	/* localization, obj_id, rec_type, key, TIDs */
	uint32_t localization;	/* PFS of the object (pfs_id << 16) */
	int64_t obj_id;		/* object involved, 0 if none */
	hammer_off_t offset;	/* on-disk address (node, payload, FIFO record, big-block), or HAMMER_OFF_BAD */
	char msg[200];
};

/* opts.flags */
#define HAMMER_FSCK_NO_BTREE_CHECK	0x1u	/* skip hammer_btree_check */
#define HAMMER_FSCK_NO_CHECKMAP		0x2u	/* skip hammer_checkmap_run */
#define HAMMER_FSCK_NO_FIFO		0x4u	/* skip the FIFO checks */
#define HAMMER_FSCK_NO_DATA_CRC		0x8u	/* do not read DATA/DB payloads */
#define HAMMER_FSCK_FORCE_CHECKMAP	0x10u	/* run checkmap even with a dirty cache */
/*
 * The freemap check reads only what the file system can reach
 * (HAMMER_CHECKMAP_REACHABLE in checkmap.h) and lists the freemap ranges
 * it did not read in report.skipped.  For callers that can prove those
 * bytes unchanged since a full check (the crash loop); everyone else wants
 * the full check.
 */
#define HAMMER_FSCK_CHECKMAP_REACHABLE	0x20u

#define HAMMER_FSCK_DEFAULT_MAX_FINDINGS 10000

struct hammer_fscheck_opts {
	unsigned flags;
	/* findings kept in the report array (0: default); more are counted */
	size_t max_findings;
	/*
	 * Optional: called for every finding, kept or not.  A non-zero return
	 * stops the check, which then returns -ECANCELED.
	 */
	int (*cb)(void *ctx, const struct hammer_fsck_finding *f);
	void *ctx;
	/*
	 * Optional: the tree to walk (an engine passes its own, so the check
	 * goes through its node I/O).  NULL: a read-only node I/O over `bc`
	 * rooted at the root header's vol0_btree_root.
	 */
	struct hammer_btree *tree;
	/* TID allocator floor; 0: the root header's vol0_next_tid. */
	hammer_tid_t next_tid;
};

/* A device byte range the freemap check did not read. */
struct hammer_fsck_range {
	int vol_no;		/* -1: not a device range (off is a zone-2 address) */
	uint64_t off, len;	/* bytes on the volume's device */
};

struct hammer_fscheck_report {
	struct hammer_fsck_finding *findings;	/* malloc'd, in order found */
	size_t count;
	size_t dropped;		/* beyond max_findings */
	size_t errors;		/* severity ERROR, dropped ones included */
	size_t warnings;
	int incomplete;		/* the record passes skipped unreadable nodes */
	int checkmap_run;	/* the freemap check ran */
	/* what was seen */
	uint64_t nodes;		/* B-tree nodes visited by the record passes */
	uint64_t records;	/* leaf records */
	uint64_t inodes;	/* live INODE records */
	uint64_t directories;	/* live directory inodes */
	uint64_t entries;	/* live directory entries */
	uint64_t data_records;	/* DATA/DB records */
	uint64_t data_bytes;	/* their data_len */
	uint64_t fifo_records;	/* FIFO records from first to next */
	uint64_t table_bytes;	/* peak size of the per-object table */
	/*
	 * Freemap check: entries outside what the file system can reach that
	 * take part in the recount (hammer_checkmap.unreachable_live), and,
	 * with HAMMER_FSCK_CHECKMAP_REACHABLE, the ranges it did not read
	 * (malloc'd, in address order of the walk).
	 */
	uint64_t cm_unreachable_live;
	struct hammer_fsck_range *skipped;
	size_t nskipped;
};

void hammer_fscheck_opts_init(struct hammer_fscheck_opts *o);

/*
 * Check the file system.  o may be NULL (defaults).  Returns 0 when the
 * check ran to the end (the findings say what is wrong, corruption never
 * makes it fail), -ECANCELED when the callback stopped it, -ENOMEM, or
 * -ENOBUFS (the cache is full of dirty or pinned buffers); err says which.
 * r is filled in every case (what was found so far); free it with
 * hammer_fscheck_report_free.
 */
int hammer_fscheck(struct hammer_volset *vs, struct hammer_bufcache *bc,
		   const struct hammer_fscheck_opts *o,
		   struct hammer_fscheck_report *r, struct hammer_err *err);
void hammer_fscheck_report_free(struct hammer_fscheck_report *r);

/* Index of the first finding with `code` in r, or -1. */
int hammer_fscheck_find(const struct hammer_fscheck_report *r, int code);

#endif
