/*
 * mstream.h - HAMMER's mirroring stream, byte for byte as DragonFly's
 * mirror-read writes it and mirror-write reads it (format digest section
 * 8.1; sys/vfs/hammer/hammer_ioctl.h).
 *
 * A stream is a sequence of records ("mrecords").  Each is a 16-byte head
 *   { signature 0x4DD97272, rec_crc, rec_size, type }
 * then a body, zero-padded on the wire to a multiple of 8 bytes; rec_size
 * counts the head and the body but not the padding.  rec_crc is the legacy
 * CRC-32 (never CRC-32C, whatever the volume version) of bytes
 * [8, rec_size): rec_size, type and the body.  Integers are little-endian
 * (DragonFly writes them in host order and rejects the swapped signature,
 * so a little-endian host is what every real stream comes from).
 *
 *   type    body                                   rec_size
 *   REC     leaf element (64) + data_len bytes     80 + data_len
 *   PFSD    version u32 (1), reserved u32, the     316
 *           packed hammer_pseudofs_data (292)
 *   UPDATE  tid u64                                24
 *   SYNC    u64 (unused, 0)                        24
 *   SKIP    skip_beg, skip_end base elements       96
 *   PASS    leaf element, no data                  80
 *   TERM    u64 (0)                                24
 *   IDLE    u64 (0)                                24
 * Flags in the type's upper bits: CRC_ERROR (REC whose data failed its CRC
 * on the source: "REC_BADCRC"), NODATA (a REC sent without its payload, for
 * the histogram prescan), DATA_CRC_BAD, RECD_CRC_BAD.
 *
 * A batch: PFSD (the source's record, so the target can check the
 * shared-uuid or create a slave), [2-way: the target answers with its own
 * PFSD], PFSD again (sync_beg_tid / sync_end_tid = the TID range of the
 * batch), REC / PASS / SKIP records in B-tree order, then SYNC (work done)
 * or IDLE (nothing to do); [2-way: the target answers UPDATE(tid_end)].
 * TERM ends a stream.
 *
 * Nothing here prints, allocates or trusts a byte it parses.
 */
#ifndef HAMMER_MSTREAM_H
#define HAMMER_MSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ondisk.h"

/* Wire sizes (rec_size) of the fixed-size records. */
#define HAMMER_MREC_REC_SIZE	80u	/* REC head + leaf, before the data */
#define HAMMER_MREC_PASS_SIZE	80u
#define HAMMER_MREC_PFSD_SIZE	316u
#define HAMMER_MREC_SKIP_SIZE	96u
#define HAMMER_MREC_TID_SIZE	24u	/* UPDATE, SYNC, TERM, IDLE */
/* The largest record: a REC with HAMMER_XBUFSIZE bytes of data. */
#define HAMMER_MREC_MAX		(HAMMER_MREC_REC_SIZE + HAMMER_XBUFSIZE)

/* A decoded record, host byte order.  data points into the parsed buffer. */
struct hammer_mrec {
	uint32_t type;			/* as on the wire, flags included */
	uint32_t rec_size;
	uint32_t wire_size;		/* rec_size rounded up to 8 */
	union {
		struct hammer_btree_leaf_elm leaf;	/* REC, PASS */
		struct {
			uint32_t version;
			struct hammer_pseudofs_data pfsd;
		} pfs;					/* PFSD */
		hammer_tid_t tid;			/* UPDATE, SYNC, TERM, IDLE */
		struct {
			struct hammer_base_elm beg, end;
		} skip;					/* SKIP */
	} u;
	const uint8_t *data;		/* REC: the payload (NULL if none) */
	uint32_t data_len;		/* bytes at data */
};

/* The type without flags (HAMMER_MREC_TYPE_*). */
static inline uint32_t hammer_mrec_base_type(uint32_t type)
{
	return type & HAMMER_MRECF_TYPE_LOMASK;
}
/* "REC", "PFSD", ..., "?" */
const char *hammer_mrec_type_name(uint32_t type);

/*
 * Encoders: write one record (head, body, zero padding) at buf, which has
 * room for `size` bytes.  Return the wire size (a multiple of 8), or 0 when
 * it does not fit.
 *   rec:  type is REC (with flags) or PASS; a PASS or a NODATA REC carries
 *         no data (data/len ignored); a REC carries exactly len bytes.
 */
size_t hammer_mrec_put_rec(void *buf, size_t size, uint32_t type,
			   const struct hammer_btree_leaf_elm *leaf,
			   const void *data, size_t len);
size_t hammer_mrec_put_pfsd(void *buf, size_t size,
			    const struct hammer_pseudofs_data *pfsd);
size_t hammer_mrec_put_skip(void *buf, size_t size,
			    const struct hammer_base_elm *beg,
			    const struct hammer_base_elm *end);
/* UPDATE, SYNC, TERM, IDLE. */
size_t hammer_mrec_put_tid(void *buf, size_t size, uint32_t type,
			   hammer_tid_t tid);

/*
 * Decode the record at buf, of which `avail` bytes are present.
 * Returns:
 *   > 0  its wire size; *r filled (r->data points into buf)
 *   0    incomplete: fewer than 16 bytes, or fewer than its wire size
 *        (*need, if non-NULL, says how many bytes the record needs, once
 *        the head is there and sane)
 *   < 0  -EINVAL: malformed; why (if non-NULL) names the problem in
 *        DragonFly's words where it has them ("bad signature", "illegal
 *        rec_size", "bad crc", "illegal element data_len", ...) followed
 *        by the values involved.
 * Checks: signature (the byte-swapped one is refused as foreign-endian),
 * 16 <= rec_size <= HAMMER_MREC_MAX, the CRC, the exact size of each fixed
 * type, REC: 80 + data_len == rec_size with 0 <= data_len <= 65536 (a
 * NODATA REC: rec_size 80), PFSD version 1, unknown types.  The padding
 * is not checked (DragonFly ignores it).  The data CRC of a REC is the
 * caller's (it depends on the volume version: hammer_mrec_data_crc_ok).
 */
int hammer_mrec_get(const void *buf, size_t avail, struct hammer_mrec *r,
		    size_t *need, char *why, size_t whysize);

/*
 * Whether a REC's data matches its leaf's data_crc at on-disk `version`
 * (CRC-32C from version 7, legacy before; version 7 accepts either, as
 * DragonFly does; an INODE record's CRC covers only its first
 * HAMMER_INODE_CRCSIZE bytes).  1 = good.
 */
int hammer_mrec_data_crc_ok(unsigned version, const struct hammer_mrec *r);

/*
 * mirror-dump's text for one record, as DragonFly prints it ("Record
 * lo=%08x obj=%016jx key=%016jx rt=%02x ot=%02x" + " (BAD CRC)", then
 * "       tids %016jx:%016jx data=%d"; "Pass   ..."; "Skip   ... to" and
 * its second line).  Other types print nothing (DragonFly's mirror-dump
 * shows only those three).
 */
void hammer_mrec_dump(FILE *f, const struct hammer_mrec *r);

#endif
