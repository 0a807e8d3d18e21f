/* volume.c - volume headers, volume sets and address translation. */
#include "volume.h"
#include "crc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const hammer_uuid_t hammer_fstype_uuid = { {
	0xac, 0x63, 0xdc, 0x61, 0x38, 0x6e, 0xdc, 0x11,
	0x85, 0x13, 0x01, 0x30, 0x1b, 0xb8, 0xa9, 0xf5 } };

void hammer_uuid_format(const hammer_uuid_t *u, char out[37])
{
	const uint8_t *b = u->b;
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6],
		 b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hammer_uuid_parse(const char *s, hammer_uuid_t *u)
{
	/* printed order of the 16 stored bytes */
	static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
				       8, 9, 10, 11, 12, 13, 14, 15 };
	if (strlen(s) != 36)
		return -EINVAL;
	int k = 0;
	for (int i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			i++;
			continue;
		}
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		u->b[order[k++]] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

uint32_t hammer_volume_crc(unsigned version, const void *raw)
{
	const uint8_t *p = raw;
	return hammer_datacrc2(version, p, HAMMER_VOL_CRCSIZE1,
			       p + offsetof(struct hammer_volume_ondisk, vol_flags),
			       HAMMER_VOL_CRCSIZE2);
}

void hammer_volume_header_encode(const struct hammer_volume_ondisk *hdr, void *raw16k)
{
	memset(raw16k, 0, HAMMER_BUFSIZE);
	struct hammer_volume_ondisk *d = raw16k;
	*d = *hdr;
	hammer_volume_swap(d);
	d->vol_crc = htole32(hammer_volume_crc(hdr->vol_version, raw16k));
}

int hammer_volume_header_decode(const void *raw, const struct hammer_bdev *bd,
				struct hammer_volume_ondisk *hdr,
				struct hammer_err *err)
{
	const char *name = bd->name;
	memcpy(hdr, raw, sizeof(*hdr));
	hammer_volume_swap(hdr);
	if (hdr->vol_signature == HAMMER_FSBUF_VOLUME_REV)
		return HAMMER_CORRUPT(err, 0, "%s: byte-swapped HAMMER signature "
				      "(volume written with the wrong byte order)", name);
	if (hdr->vol_signature != HAMMER_FSBUF_VOLUME)
		return HAMMER_CORRUPT(err, 0, "%s: not a HAMMER volume (bad signature "
				      "%016llx)", name,
				      (unsigned long long)hdr->vol_signature);
	if (memcmp(&hdr->vol_fstype, &hammer_fstype_uuid, 16) != 0)
		return HAMMER_CORRUPT(err, 48 + 16, "%s: vol_fstype is not the "
				      "HAMMER file-system type UUID", name);
	if (hdr->vol_version < HAMMER_VOL_VERSION_MIN ||
	    hdr->vol_version > HAMMER_VOL_VERSION_MAX)
		return HAMMER_ERR(err, -EOPNOTSUPP, 152, "%s: unsupported HAMMER "
				  "version %u (this implementation reads %d to %d)",
				  name, hdr->vol_version, HAMMER_VOL_VERSION_MIN,
				  HAMMER_VOL_VERSION_MAX);
	if (hdr->vol_count < 1 || hdr->vol_count > HAMMER_MAX_VOLUMES)
		return HAMMER_CORRUPT(err, 148, "%s: vol_count %d out of range 1..%d",
				      name, hdr->vol_count, HAMMER_MAX_VOLUMES);
	if (hdr->vol_no < 0 || hdr->vol_no >= hdr->vol_count)
		return HAMMER_CORRUPT(err, 144, "%s: vol_no %d out of range for "
				      "vol_count %d", name, hdr->vol_no, hdr->vol_count);
	if (hdr->vol_rootvol != HAMMER_ROOT_VOLNO)
		return HAMMER_CORRUPT(err, 164, "%s: vol_rootvol is %u, must be 0",
				      name, hdr->vol_rootvol);
	if (hdr->vol_bot_beg < HAMMER_VOL_JUNK_SIZE ||
	    hdr->vol_mem_beg < hdr->vol_bot_beg ||
	    hdr->vol_buf_beg < hdr->vol_mem_beg ||
	    hdr->vol_buf_end < hdr->vol_buf_beg ||
	    (hdr->vol_bot_beg | hdr->vol_mem_beg | hdr->vol_buf_beg |
	     hdr->vol_buf_end) & HAMMER_BUFMASK)
		return HAMMER_CORRUPT(err, 8, "%s: inconsistent area offsets "
				      "(bot %lld mem %lld buf %lld..%lld)", name,
				      (long long)hdr->vol_bot_beg,
				      (long long)hdr->vol_mem_beg,
				      (long long)hdr->vol_buf_beg,
				      (long long)hdr->vol_buf_end);
	if ((uint64_t)hdr->vol_buf_end > bd->size)
		return HAMMER_CORRUPT(err, 32, "%s: volume claims %lld bytes but the "
				      "device has only %llu (truncated image?)", name,
				      (long long)hdr->vol_buf_end,
				      (unsigned long long)bd->size);
	if ((uint64_t)(hdr->vol_buf_end - hdr->vol_buf_beg) > HAMMER_MAX_VOLUME_BYTES)
		return HAMMER_CORRUPT(err, 32, "%s: volume larger than 2^52 bytes", name);
	return 0;
}

void hammer_volset_close(struct hammer_volset *vs)
{
	if (!vs)
		return;
	for (int i = 0; i < HAMMER_MAX_VOLUMES; i++) {
		if (vs->vols[i]) {
			hammer_bdev_close(vs->vols[i]->bd);
			free(vs->vols[i]);
		}
	}
	free(vs);
}

int hammer_volset_open_bdevs(struct hammer_bdev **bds, int n, int flags,
			     struct hammer_volset **out, struct hammer_err *err)
{
	*out = NULL;
	struct hammer_volset *vs = calloc(1, sizeof(*vs));
	uint8_t *raw = malloc(HAMMER_BUFSIZE);
	int rc = 0, i;
	if (!vs || !raw) {
		rc = HAMMER_ERR(err, -ENOMEM, ~0ULL, "out of memory");
		goto fail_all;
	}
	vs->readonly = !!(flags & HAMMER_VOLSET_RDONLY);
	if (n < 1 || n > HAMMER_MAX_VOLUMES) {
		rc = HAMMER_ERR(err, -EINVAL, ~0ULL, "%d volumes given; a HAMMER "
				"file system has 1 to %d", n, HAMMER_MAX_VOLUMES);
		goto fail_all;
	}
	const struct hammer_volume_ondisk *first = NULL;
	const char *first_name = NULL;
	for (i = 0; i < n; i++) {
		struct hammer_bdev *bd = bds[i];
		if (bd->size < HAMMER_BUFSIZE) {
			rc = HAMMER_CORRUPT(err, 0, "%s: too small to hold a HAMMER "
					    "volume header (%llu bytes)", bd->name,
					    (unsigned long long)bd->size);
			goto fail_from;
		}
		rc = hammer_bdev_read(bd, 0, raw, HAMMER_BUFSIZE);
		if (rc) {
			HAMMER_ERR(err, rc, 0, "%s: cannot read the volume header: %s",
				   bd->name, strerror(-rc));
			goto fail_from;
		}
		struct hammer_volume *v = calloc(1, sizeof(*v));
		if (!v) {
			rc = HAMMER_ERR(err, -ENOMEM, ~0ULL, "out of memory");
			goto fail_from;
		}
		rc = hammer_volume_header_decode(raw, bd, &v->hdr, err);
		if (rc) {
			free(v);
			goto fail_from;
		}
		v->vol_no = v->hdr.vol_no;
		if (!first) {
			first = &v->hdr;
			first_name = bd->name;
		} else {
			if (memcmp(&v->hdr.vol_fsid, &first->vol_fsid, 16) != 0) {
				rc = HAMMER_CORRUPT(err, 48, "%s: belongs to a different "
						    "file system (fsid differs from %s)",
						    bd->name, first_name);
				free(v);
				goto fail_from;
			}
			if (v->hdr.vol_count != first->vol_count ||
			    v->hdr.vol_version != first->vol_version) {
				rc = HAMMER_CORRUPT(err, 148, "%s: vol_count/version "
						    "(%d/%u) disagree with %s (%d/%u)",
						    bd->name, v->hdr.vol_count,
						    v->hdr.vol_version, first_name,
						    first->vol_count, first->vol_version);
				free(v);
				goto fail_from;
			}
		}
		if (vs->vols[v->vol_no]) {
			rc = HAMMER_CORRUPT(err, 144, "%s: duplicate volume number %d "
					    "(also %s)", bd->name, v->vol_no,
					    vs->vols[v->vol_no]->bd->name);
			free(v);
			goto fail_from;
		}
		v->bd = bd;
		vs->vols[v->vol_no] = v;
	}
	vs->count = first->vol_count;
	vs->version = first->vol_version;
	for (i = 0; i < vs->count; i++) {
		if (!vs->vols[i]) {
			rc = HAMMER_ERR(err, -ENOENT, ~0ULL, "volume %d of %d is missing "
					"(give every volume, colon-separated)", i,
					vs->count);
			goto fail_none;
		}
	}
	if (n != vs->count) {
		rc = HAMMER_ERR(err, -EINVAL, ~0ULL, "%d devices given for a %d-volume "
				"file system", n, vs->count);
		goto fail_none;
	}
	free(raw);
	*out = vs;
	return 0;

fail_from:
	/* devices from i on were not adopted by vs */
	for (int k = i; k < n; k++)
		hammer_bdev_close(bds[k]);
fail_none:
	free(raw);
	hammer_volset_close(vs);
	return rc;
fail_all:
	for (int k = 0; k < n; k++)
		hammer_bdev_close(bds[k]);
	free(raw);
	free(vs);
	return rc;
}

int hammer_volset_open(const char *spec, int flags, struct hammer_volset **out,
		       struct hammer_err *err)
{
	*out = NULL;
	if (!spec || !*spec)
		return HAMMER_ERR(err, -EINVAL, ~0ULL, "no volume given");
	char *copy = strdup(spec);
	struct hammer_bdev **bds = calloc(HAMMER_MAX_VOLUMES, sizeof(*bds));
	if (!copy || !bds) {
		free(copy);
		free(bds);
		return HAMMER_ERR(err, -ENOMEM, ~0ULL, "out of memory");
	}
	int n = 0, rc = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ":", &save); tok;
	     tok = strtok_r(NULL, ":", &save)) {
		if (n == HAMMER_MAX_VOLUMES) {
			rc = HAMMER_ERR(err, -EINVAL, ~0ULL, "more than %d volumes given",
					HAMMER_MAX_VOLUMES);
			break;
		}
		const char *why = NULL;
		int bflags = (flags & HAMMER_VOLSET_RDONLY) ? HAMMER_BDEV_RDONLY : 0;
		rc = hammer_bdev_file_open(tok, bflags, &bds[n], &why);
		if (rc) {
			HAMMER_ERR(err, rc, ~0ULL, "%s: %s", tok, why ? why : strerror(-rc));
			break;
		}
		n++;
	}
	if (!rc && n == 0)
		rc = HAMMER_ERR(err, -EINVAL, ~0ULL, "no volume given");
	if (rc) {
		for (int k = 0; k < n; k++)
			hammer_bdev_close(bds[k]);
	} else {
		rc = hammer_volset_open_bdevs(bds, n, flags, out, err);
	}
	free(bds);
	free(copy);
	return rc;
}

int hammer_volset_xlate(struct hammer_volset *vs, hammer_off_t off, size_t len,
			struct hammer_volume **volp, uint64_t *phys,
			struct hammer_err *err)
{
	unsigned zone = hammer_zone_of(off);
	if (zone == HAMMER_ZONE_UNDO_INDEX) {
		struct hammer_volume_ondisk *root = hammer_volset_root(vs);
		uint64_t s = hammer_short_of(off);
		uint64_t idx = s >> HAMMER_BIGBLOCK_BITS;
		if (hammer_vol_of(off) != 0 || idx >= HAMMER_UNDO_LAYER2 ||
		    off >= root->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX].alloc_offset)
			return HAMMER_CORRUPT(err, off, "UNDO address %016llx is outside "
					      "the FIFO", (unsigned long long)off);
		hammer_off_t z2 = root->vol0_undo_array[idx];
		if (hammer_zone_of(z2) != HAMMER_ZONE_RAW_BUFFER_INDEX)
			return HAMMER_CORRUPT(err, off, "UNDO address %016llx maps through "
					      "a bad vol0_undo_array[%llu] = %016llx",
					      (unsigned long long)off,
					      (unsigned long long)idx,
					      (unsigned long long)z2);
		if ((s & HAMMER_BIGBLOCK_MASK64) + len > HAMMER_BIGBLOCK_SIZE)
			return HAMMER_CORRUPT(err, off, "UNDO range %016llx+%zu crosses a "
					      "big-block", (unsigned long long)off, len);
		off = z2 + (s & HAMMER_BIGBLOCK_MASK64);
		zone = HAMMER_ZONE_RAW_BUFFER_INDEX;
	}
	unsigned vol_no = hammer_vol_of(off);
	struct hammer_volume *vol = vs->vols[vol_no];
	if (!vol || (int)vol_no >= vs->count)
		return HAMMER_CORRUPT(err, off, "address %016llx names volume %u, "
				      "which does not exist", (unsigned long long)off,
				      vol_no);
	uint64_t s = hammer_short_of(off), base, end;
	if (zone == HAMMER_ZONE_RAW_VOLUME_INDEX) {
		base = 0;
		end = (uint64_t)vol->hdr.vol_buf_end;
	} else if (hammer_zone_direct_xlated(zone)) {
		base = (uint64_t)vol->hdr.vol_buf_beg;
		end = (uint64_t)vol->hdr.vol_buf_end;
	} else {
		return HAMMER_CORRUPT(err, off, "address %016llx is in zone %u, which "
				      "holds no data", (unsigned long long)off, zone);
	}
	if (s > end - base || len > end - base - s)
		return HAMMER_CORRUPT(err, off, "address %016llx+%zu lies beyond the "
				      "end of volume %u", (unsigned long long)off, len,
				      vol_no);
	*volp = vol;
	*phys = base + s;
	return 0;
}

/* Unaligned I/O through a bounce buffer of whole sectors. */
static int rw(struct hammer_volset *vs, hammer_off_t off, void *buf,
	      size_t len, int write, struct hammer_err *err)
{
	struct hammer_volume *vol;
	uint64_t phys;
	int rc = hammer_volset_xlate(vs, off, len, &vol, &phys, err);
	if (rc)
		return rc;
	if (write && vs->readonly)
		return HAMMER_ERR(err, -EROFS, off, "volume set is read-only");
	uint32_t ss = vol->bd->sector_size;
	uint64_t a = phys - phys % ss;
	uint64_t b = (phys + len + ss - 1) / ss * ss;
	if (a == phys && b == phys + len) {
		rc = write ? hammer_bdev_write(vol->bd, phys, buf, len)
			   : hammer_bdev_read(vol->bd, phys, buf, len);
	} else {
		uint8_t *tmp = malloc((size_t)(b - a));
		if (!tmp)
			return HAMMER_ERR(err, -ENOMEM, off, "out of memory");
		rc = hammer_bdev_read(vol->bd, a, tmp, (size_t)(b - a));
		if (!rc && !write)
			memcpy(buf, tmp + (phys - a), len);
		if (!rc && write) {
			memcpy(tmp + (phys - a), buf, len);
			rc = hammer_bdev_write(vol->bd, a, tmp, (size_t)(b - a));
		}
		free(tmp);
	}
	if (rc)
		return HAMMER_ERR(err, rc, off, "%s: I/O error %s at %016llx: %s",
				  vol->bd->name, write ? "writing" : "reading",
				  (unsigned long long)off, strerror(-rc));
	return 0;
}

int hammer_volset_read(struct hammer_volset *vs, hammer_off_t off, void *buf,
		       size_t len, struct hammer_err *err)
{
	return rw(vs, off, buf, len, 0, err);
}

int hammer_volset_write(struct hammer_volset *vs, hammer_off_t off,
			const void *buf, size_t len, struct hammer_err *err)
{
	return rw(vs, off, (void *)buf, len, 1, err);
}

int hammer_volset_write_header(struct hammer_volset *vs, int vol_no,
			       struct hammer_err *err)
{
	struct hammer_volume *v = vs->vols[vol_no];
	uint8_t *raw = malloc(HAMMER_BUFSIZE);
	if (!raw)
		return HAMMER_ERR(err, -ENOMEM, ~0ULL, "out of memory");
	hammer_volume_header_encode(&v->hdr, raw);
	/*
	 * Only the sectors the header occupies: the rest of the first 16 KB
	 * never changes after newfs, and every sector written is one a torn
	 * or garbled write could damage.
	 */
	size_t len = (sizeof(struct hammer_volume_ondisk) + HAMMER_SECTOR_SIZE - 1) &
		     ~(size_t)(HAMMER_SECTOR_SIZE - 1);
	int rc = hammer_bdev_write(v->bd, 0, raw, len);
	free(raw);
	if (rc)
		return HAMMER_ERR(err, rc, 0, "%s: cannot write the volume header: %s",
				  v->bd->name, strerror(-rc));
	return 0;
}

int hammer_volset_flush(struct hammer_volset *vs)
{
	int rc = 0;
	for (int i = 0; i < vs->count; i++) {
		int r = hammer_bdev_flush(vs->vols[i]->bd);
		if (r && !rc)
			rc = r;
	}
	return rc;
}
