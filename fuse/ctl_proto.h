/*
 * ctl_proto.h - the control socket between hammer-fuse and `hammer`.
 *
 * Each mount listens on a UNIX stream socket named after the st_dev of the
 * mounted file system, so a client finds it from any path inside the mount
 * with one stat(): HAMMER_CTL_DIR/<major>:<minor>.sock (root mounts), or the
 * same name under $XDG_RUNTIME_DIR/hammer-fuse (mounts by other users).
 *
 * A request is one line, "<verb> [args]\n" (at most HAMMER_CTL_LINE bytes).
 * The reply is "<status> <message>\n" (status 0 or a positive errno), then
 * "key=value\n" lines, then end of file.  Verbs that change the file system
 * are refused (EPERM) unless SO_PEERCRED shows root or the mounting user.
 * The streaming verbs (mirror-read, mirror-write, pfs-wait; ctl_mirror.c)
 * are served on a thread of their own each, without timeouts, and switch
 * the connection to their own framing after the reply line.
 *
 * Verbs:
 *   version       current=, min=, max= (on-disk versions)
 *   info          label=, nvolumes=, volumes=, rootvol=, fsid=, version=,
 *                 bigblocks=, freebigblocks=, rsvbigblocks=, inodes=,
 *                 undo_size=, undo_used= (bytes, in use now),
 *                 pfs=<id> with pfs.<id>.mode=, .shared_uuid=, .snapshots=,
 *                 .source=, and the daemon's state: mountpoint=, readonly=,
 *                 fuseblk=, pid=, next_tid=, flush_tid=, flush_cycles=,
 *                 dirty_bytes=, fast_fsyncs=, redo_replayed=, cache_bytes=,
 *                 heap_bytes=, heap_inuse=, flush_interval_ms=, fsync_mode=,
 *                 nohistory=.  Unknown keys are for clients to ignore.
 *   synctid       (privileged) flush; tid=
 *   pfs-get ID    the record of live PFS ID (0..65535) as DragonFly's GET
 *                 shows it (a master's sync_end_tid is the durable TID):
 *                 pfsd=<hex of the packed 292 bytes>, version= (on-disk);
 *                 ENOENT for no PFS or a destroyed one
 *   pfs-free-id   id= the lowest free PFS id (from 1); ENOSPC when all used
 *   pfs-create ID HEXPFSD RELPATH  (privileged) create PFS ID from the
 *                 record and its link RELPATH (relative to the mount root,
 *                 '/'-separated, the rest of the line); the link's parent
 *                 must be a directory of PFS #0 (EXDEV otherwise), the
 *                 link belongs to the caller's uid/gid (SO_PEERCRED)
 *   pfs-update ID HEXPFSD  (privileged) replace the record of live PFS ID
 *   pfs-upgrade ID, pfs-downgrade ID, pfs-destroy ID  (privileged) slave to
 *                 master, master to slave, destroy (EBUSY while the PFS is
 *                 mounted or has open files; EINVAL for PFS #0).  The PFS
 *                 commands of `hammer` (cli/cmd_pfs.c) use these.
 *   mirror-read ID 0xTIDBEG 0xTIDEND FLAGS  (privileged: it reads every
 *                 file's data) scan live PFS ID for mirroring
 *                 (hammer_mirror_read; FLAGS 1 = NODATA, the prescan).
 *                 Reply "0 streaming" (or an error line, e.g. ENOENT for
 *                 no such PFS), then frames: a u32 little-endian length and
 *                 that many bytes of encoded REC/PASS/SKIP records
 *                 (ref/mstream.h, 8-byte aligned, at most 512 KiB a
 *                 frame), each frame one engine call under the mount lock;
 *                 a frame of length 0 ends the range.  On an error: length
 *                 0xFFFFFFFF, then one line "<errno> <message>", end.
 *   mirror-write ID HEXPFSD  (privileged) apply one batch to slave PFS ID;
 *                 HEXPFSD is the batch's second PFSD (its sync_beg_tid ..
 *                 sync_end_tid = the TID range; shared-uuid checked), as
 *                 hex like pfs-update.  Reply "0 ready" or an error line
 *                 (hammer_mirror_write_begin: not a slave, other
 *                 shared-uuid, ERANGE for a gap after the slave's
 *                 sync_end_tid).  The client then sends raw stream records
 *                 (REC/PASS/SKIP, padded as on the wire) and one SYNC or
 *                 IDLE record; each is decoded and checked (hammer_mrec_get)
 *                 and applied (hammer_mirror_write_rec).  SYNC: the slave's
 *                 sync_end_tid becomes the range's end, durably; reply
 *                 "0 synced" with tid=.  IDLE: "0 idle".  Any error: one
 *                 line "<errno> <message naming the record: type, number
 *                 and offset in the batch, key>", then the connection
 *                 closes.  End of file before SYNC/IDLE commits nothing.
 *   pfs-wait ID 0xTID TIMEOUT_MS  wait (at most TIMEOUT_MS, <= 600000)
 *                 until a flush makes a TID above TID durable
 *                 (hammer_wait_flush): "0 ok" with new=1|0 and durable=
 *                 (0x...).  mirror-read-stream's wait between batches.
 *   snap-add ID 0xTID TS [LABELHEX]  (privileged) add a meta-data
 *                 snapshot record to PFS ID (hammer_snapshot_add): TS in
 *                 decimal microseconds since the epoch, LABELHEX the label's
 *                 bytes as hex (absent: empty; at most 63 bytes).  EEXIST
 *                 for a TID that has one, EINVAL for TID 0 or a TID above
 *                 the durable TID (synctid first), EROFS for a slave.
 *                 snap-add, snap-del and config-set sync before they
 *                 answer: what they report done is on disk.
 *   snap-del ID 0xTID  (privileged) remove it; ENOENT when there is none
 *   snap-list ID  count=N, then N lines "snap=0x<tid16> <ts> <labelhex>"
 *                 ("-" for an empty label), unsigned TID order (a slave's
 *                 as of its sync_end_tid); the reply has no size limit
 *   config-get ID config=<hex of the text before its NUL>; ENOENT when the
 *                 PFS has no config record (the client supplies defaults)
 *   config-set ID HEX  (privileged) replace the config record with the
 *                 text (hex, < 1024 bytes; empty HEX: an empty text)
 *   history 0xINO [OFF LEN]  the history of the object whose st_ino is
 *                 INO (PFS id in bits 48..63, hammer_report_ino):
 *                 obj=0x<obj16>, pfs=<id>, unsynced=0|1, count=N, then N
 *                 lines "h=0x<tid16> <time32>" in B-tree order (TIDs may
 *                 repeat; clients sort and merge).  With OFF LEN (decimal;
 *                 LEN 0 = to the end) the DATA records of a regular file
 *                 covering those bytes (EINVAL on other types).
 *   prune ID FLAGS NELMS SECONDS  (privileged; served on a thread of its
 *                 own like the streaming verbs) prune PFS ID
 *                 (hammer_prune): FLAGS 1 = everything (NELMS 0), else
 *                 the request line is followed by NELMS elements of 24
 *                 bytes (beg_tid, end_tid, mod_tid, little-endian u64),
 *                 descending; SECONDS > 0 stops the run after that long
 *                 (also stopped by the unmount or the client leaving).
 *                 Replies "0 ready" (or an error line) at once; after the
 *                 run one more status line, "0 ok" with scanned=,
 *                 dirrecords=, rawrecords=, bytes=, oldest= (0x...),
 *                 stopped=0|1, or an error line.
 *   reblock ID FLAGS FILL SECONDS  (privileged; a thread of its own)
 *                 reblock PFS ID (hammer_reblock): FLAGS 1 B-tree nodes,
 *                 2 inodes, 4 data, 8 directory-like records (any sum but
 *                 0), FILL the fill percentage 0..100, SECONDS as prune.
 *                 "0 ready" at once, then "0 ok" with records=,
 *                 btree_nodes=, btree_moves=, data_elements=, data_moves=,
 *                 data_bytes=, data_byte_count=, data_skipped=,
 *                 stopped=0|1, or an error.
 *   rebalance ID SATURATION SECONDS  (privileged; a thread of its own)
 *                 hammer_rebalance of PFS ID, SATURATION 50..100: "0
 *                 ready", then "0 ok" with records=, nodes=, deleted=,
 *                 rebalanced=, stopped=0|1, or an error.
 *   unmount-wait  (privileged) "0 waiting", then the connection stays open
 *                 and gets one more status line once the final flush after
 *                 the unmount is done and the volumes are closed ("0 ..." or
 *                 "<errno> ..."); end of file without it means the daemon
 *                 died first.  umount.fuse.hammer uses it.
 */
#ifndef HAMMER_CTL_PROTO_H
#define HAMMER_CTL_PROTO_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HAMMER_CTL_DIR		"/run/hammer-fuse"
#define HAMMER_CTL_SUBDIR	"hammer-fuse"	/* under $XDG_RUNTIME_DIR */
#define HAMMER_CTL_LINE		8192	/* pfs-create: a path of PATH_MAX */
#define HAMMER_CTL_PROTO	1

static inline int hammer_ctl_sock_name(char *buf, size_t size, const char *dir,
				       unsigned maj, unsigned min)
{
	int n = snprintf(buf, size, "%s/%u:%u.sock", dir, maj, min);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/*
 * Where a client looks for the socket of device maj:min: candidate 0 is
 * root's directory, candidate 1 this user's ($XDG_RUNTIME_DIR).  Returns
 * 0 with the path in buf, or -1 when candidate i does not exist or does
 * not fit.
 */
static inline int hammer_ctl_sock_candidate(int i, char *buf, size_t size,
					    unsigned maj, unsigned min)
{
	char dir[256];
	const char *x = getenv("XDG_RUNTIME_DIR");
	int n;
	if (i == 0)
		n = snprintf(dir, sizeof(dir), "%s", HAMMER_CTL_DIR);
	else if (i == 1 && x && *x)
		n = snprintf(dir, sizeof(dir), "%s/%s", x, HAMMER_CTL_SUBDIR);
	else
		return -1;
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -1;
	return hammer_ctl_sock_name(buf, size, dir, maj, min);
}

/*
 * A B-tree key as DragonFly's cycle file holds it (40 bytes, each field
 * little-endian: obj_id, key, create_tid, delete_tid, rec_type (2),
 * obj_type, btype, localization (4)), for the resume key of the prune,
 * reblock and rebalance verbs.
 */
#define HAMMER_CTL_KEY_BYTES	40
#ifdef HAMMER_ONDISK_H	/* for those who know the B-tree's keys */
static inline void hammer_ctl_key_pack(const struct hammer_base_elm *k, uint8_t *b)
{
	const uint64_t v[4] = { (uint64_t)k->obj_id, (uint64_t)k->key, k->create_tid,
				k->delete_tid };
	for (int f = 0; f < 4; f++)
		for (int i = 0; i < 8; i++)
			b[8 * f + i] = (uint8_t)(v[f] >> (8 * i));
	b[32] = (uint8_t)k->rec_type;
	b[33] = (uint8_t)(k->rec_type >> 8);
	b[34] = k->obj_type;
	b[35] = k->btype;
	for (int i = 0; i < 4; i++)
		b[36 + i] = (uint8_t)(k->localization >> (8 * i));
}

static inline void hammer_ctl_key_unpack(const uint8_t *b, struct hammer_base_elm *k)
{
	uint64_t v[4] = { 0, 0, 0, 0 };
	for (int f = 0; f < 4; f++)
		for (int i = 7; i >= 0; i--)
			v[f] = (v[f] << 8) | b[8 * f + i];
	memset(k, 0, sizeof(*k));
	k->obj_id = (int64_t)v[0];
	k->key = (int64_t)v[1];
	k->create_tid = v[2];
	k->delete_tid = v[3];
	k->rec_type = (uint16_t)(b[32] | (b[33] << 8));
	k->obj_type = b[34];
	k->btype = b[35];
	k->localization = (uint32_t)b[36] | (uint32_t)b[37] << 8 | (uint32_t)b[38] << 16 |
			  (uint32_t)b[39] << 24;
}
#endif

/* The 292-byte PFS record as hex (pfs-* verbs): 2 * n digits and a NUL. */
static inline void hammer_ctl_hex_encode(const void *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Exactly 2 * n hex digits (then the end or a space): 0, else -1. */
static inline int hammer_ctl_hex_decode(const char *s, void *p, size_t n)
{
	unsigned char *b = p;
	for (size_t i = 0; i < 2 * n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (v < 0)
			return -1;
		if (i % 2 == 0)
			b[i / 2] = (unsigned char)(v << 4);
		else
			b[i / 2] |= (unsigned char)v;
	}
	return s[2 * n] == '\0' || s[2 * n] == ' ' ? 0 : -1;
}

#endif
