/*
 * volume.h - a HAMMER volume set: open, validate, translate addresses.
 *
 * A file system is 1..256 volumes given as a colon-separated list, root
 * volume (0) first by convention, any order accepted.  Opening validates
 * every header (signature, byte order, fstype, version, fsid, numbering,
 * area offsets) and names the volume at fault in the error.
 *
 * Addresses: zone 1 is volume-relative, zones 2, 4 and 8..15 are relative
 * to the volume's vol_buf_beg, zone 3 (UNDO FIFO) goes through the root
 * header's vol0_undo_array.  Every translation is range-checked.
 */
#ifndef HAMMER_VOLUME_H
#define HAMMER_VOLUME_H

#include "bdev.h"
#include "error.h"
#include "ondisk.h"

struct hammer_volume {
	struct hammer_bdev *bd;
	struct hammer_volume_ondisk hdr;	/* host byte order */
	int vol_no;
};

struct hammer_volset {
	int count;
	unsigned version;
	int readonly;
	struct hammer_volume *vols[HAMMER_MAX_VOLUMES];	/* by vol_no */
};

#define HAMMER_VOLSET_RDONLY	0x1

/* Open from "a:b:c". */
int hammer_volset_open(const char *spec, int flags, struct hammer_volset **out,
		       struct hammer_err *err);
/* Open from devices already opened; takes ownership of all of them. */
int hammer_volset_open_bdevs(struct hammer_bdev **bds, int n, int flags,
			     struct hammer_volset **out, struct hammer_err *err);
void hammer_volset_close(struct hammer_volset *vs);

static inline struct hammer_volume_ondisk *
hammer_volset_root(struct hammer_volset *vs)
{
	return &vs->vols[HAMMER_ROOT_VOLNO]->hdr;
}

/*
 * Validate one header read from `bd` (disk order in `raw`, host order out in
 * `hdr`).  Checks only what one volume can show on its own.
 */
int hammer_volume_header_decode(const void *raw, const struct hammer_bdev *bd,
				struct hammer_volume_ondisk *hdr,
				struct hammer_err *err);
/* Encode host-order `hdr` into a zeroed 16 KB buffer, computing vol_crc. */
void hammer_volume_header_encode(const struct hammer_volume_ondisk *hdr,
				 void *raw16k);
/* The volume-header CRC as the given version computes it (disk order). */
uint32_t hammer_volume_crc(unsigned version, const void *raw);

/* Address translation: zone-X address -> (volume, byte offset on device). */
int hammer_volset_xlate(struct hammer_volset *vs, hammer_off_t off, size_t len,
			struct hammer_volume **vol, uint64_t *phys,
			struct hammer_err *err);
/* Read/write any byte range (unaligned allowed) at a zone address. */
int hammer_volset_read(struct hammer_volset *vs, hammer_off_t off, void *buf,
		       size_t len, struct hammer_err *err);
int hammer_volset_write(struct hammer_volset *vs, hammer_off_t off,
			const void *buf, size_t len, struct hammer_err *err);
/* Write back the header of one volume (from its host-order copy). */
int hammer_volset_write_header(struct hammer_volset *vs, int vol_no,
			       struct hammer_err *err);
int hammer_volset_flush(struct hammer_volset *vs);

/* Format a UUID as DragonFly prints it (first three fields little-endian). */
void hammer_uuid_format(const hammer_uuid_t *u, char out[37]);
int hammer_uuid_parse(const char *s, hammer_uuid_t *u);
extern const hammer_uuid_t hammer_fstype_uuid;	/* "DragonFly HAMMER" */

#endif
