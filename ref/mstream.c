/*
 * mstream.c - encode and decode HAMMER mirroring-stream records (mstream.h).
 *
 * Wire integers are little-endian whatever the host: every structure goes
 * through a local copy converted with the ondisk.h swap helpers (HLE*,
 * hammer_base_elm_swap, hammer_pfsd_swap), which are no-ops on a
 * little-endian host and their own inverse on a big-endian one.  The decoder
 * reads only bytes it has been told are there and checks every length before
 * it trusts it.
 */
#include "mstream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "crc.h"

/* Offsets inside a record (all bodies start after the 16-byte head). */
#define OFF_SIG		0
#define OFF_CRC		4
#define OFF_SIZE	8
#define OFF_TYPE	12
#define OFF_BODY	HAMMER_MREC_HEADSIZE
#define CRC_START	OFF_SIZE	/* rec_crc covers [8, rec_size) */
/* The flag bits; any other bit outside the low byte makes a type unknown. */
#define MREC_FLAGS	(HAMMER_MRECF_CRC_ERROR | HAMMER_MRECF_DATA_CRC_BAD | \
			 HAMMER_MRECF_RECD_CRC_BAD | HAMMER_MRECF_NODATA)

/* ------------------------------------------------------- byte helpers */
static void st32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void st64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static uint32_t ld32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

/* Host <-> wire for a leaf element (an involution, like the helpers). */
static void leaf_swap(struct hammer_btree_leaf_elm *l)
{
	hammer_base_elm_swap(&l->base);
	HLE32(l->create_ts);
	HLE32(l->delete_ts);
	HLE64(l->data_offset);
	HLE32(l->data_len);
	HLE32(l->data_crc);
}

static void put_leaf(uint8_t *p, const struct hammer_btree_leaf_elm *leaf)
{
	struct hammer_btree_leaf_elm w = *leaf;
	leaf_swap(&w);
	memcpy(p, &w, sizeof(w));
}

static void get_leaf(const uint8_t *p, struct hammer_btree_leaf_elm *leaf)
{
	memcpy(leaf, p, sizeof(*leaf));
	leaf_swap(leaf);
}

static void put_base(uint8_t *p, const struct hammer_base_elm *b)
{
	struct hammer_base_elm w = *b;
	hammer_base_elm_swap(&w);
	memcpy(p, &w, sizeof(w));
}

static void get_base(const uint8_t *p, struct hammer_base_elm *b)
{
	memcpy(b, p, sizeof(*b));
	hammer_base_elm_swap(b);
}

/*
 * Finish a record whose body is already at buf + 16: write the head, the
 * CRC (legacy CRC-32 of [8, rec_size)) and the zero padding.  The caller
 * has checked that the wire size fits.
 */
static size_t finish(uint8_t *p, uint32_t type, uint32_t rec_size)
{
	uint32_t wire = HAMMER_MREC_DOALIGN(rec_size);
	st32(p + OFF_SIG, HAMMER_IOC_MRECORD_SIGNATURE);
	st32(p + OFF_SIZE, rec_size);
	st32(p + OFF_TYPE, type);
	st32(p + OFF_CRC, hammer_crc32(p + CRC_START, rec_size - CRC_START));
	memset(p + rec_size, 0, wire - rec_size);
	return wire;
}

/* ----------------------------------------------------------- encoders */
size_t hammer_mrec_put_rec(void *buf, size_t size, uint32_t type,
			   const struct hammer_btree_leaf_elm *leaf,
			   const void *data, size_t len)
{
	uint32_t base = hammer_mrec_base_type(type);
	if (!buf || !leaf || (type & ~(HAMMER_MRECF_TYPE_LOMASK | MREC_FLAGS)))
		return 0;
	if (base == HAMMER_MREC_TYPE_PASS) {
		len = 0;
	} else if (base != HAMMER_MREC_TYPE_REC ||
		   leaf->data_len < 0 || leaf->data_len > HAMMER_XBUFSIZE) {
		return 0;	/* the decoder would refuse it */
	} else if (type & HAMMER_MRECF_NODATA) {
		len = 0;
	} else if ((size_t)leaf->data_len != len || (len && !data)) {
		return 0;
	}
	uint32_t rec_size = HAMMER_MREC_REC_SIZE + (uint32_t)len;
	if (size < HAMMER_MREC_DOALIGN(rec_size))
		return 0;
	uint8_t *p = buf;
	put_leaf(p + OFF_BODY, leaf);
	if (len)
		memcpy(p + HAMMER_MREC_REC_SIZE, data, len);
	return finish(p, type, rec_size);
}

size_t hammer_mrec_put_pfsd(void *buf, size_t size,
			    const struct hammer_pseudofs_data *pfsd)
{
	if (!buf || !pfsd || size < HAMMER_MREC_DOALIGN(HAMMER_MREC_PFSD_SIZE))
		return 0;
	uint8_t *p = buf;
	struct hammer_pseudofs_data w;
	memcpy(&w, pfsd, sizeof(w));
	hammer_pfsd_swap(&w);
	st32(p + OFF_BODY, HAMMER_PFSD_VERSION);
	st32(p + OFF_BODY + 4, 0);
	memcpy(p + OFF_BODY + 8, &w, sizeof(w));
	return finish(p, HAMMER_MREC_TYPE_PFSD, HAMMER_MREC_PFSD_SIZE);
}

size_t hammer_mrec_put_skip(void *buf, size_t size,
			    const struct hammer_base_elm *beg,
			    const struct hammer_base_elm *end)
{
	if (!buf || !beg || !end || size < HAMMER_MREC_DOALIGN(HAMMER_MREC_SKIP_SIZE))
		return 0;
	uint8_t *p = buf;
	put_base(p + OFF_BODY, beg);
	put_base(p + OFF_BODY + sizeof(*beg), end);
	return finish(p, HAMMER_MREC_TYPE_SKIP, HAMMER_MREC_SKIP_SIZE);
}

size_t hammer_mrec_put_tid(void *buf, size_t size, uint32_t type,
			   hammer_tid_t tid)
{
	switch (type) {	/* no flags: the decoder would refuse them */
	case HAMMER_MREC_TYPE_UPDATE:
	case HAMMER_MREC_TYPE_SYNC:
	case HAMMER_MREC_TYPE_TERM:
	case HAMMER_MREC_TYPE_IDLE:
		break;
	default:
		return 0;
	}
	if (!buf || size < HAMMER_MREC_DOALIGN(HAMMER_MREC_TID_SIZE))
		return 0;
	uint8_t *p = buf;
	st64(p + OFF_BODY, tid);
	return finish(p, type, HAMMER_MREC_TID_SIZE);
}

/* ------------------------------------------------------------ decoder */
const char *hammer_mrec_type_name(uint32_t type)
{
	switch (hammer_mrec_base_type(type)) {
	case HAMMER_MREC_TYPE_REC:	return "REC";
	case HAMMER_MREC_TYPE_PFSD:	return "PFSD";
	case HAMMER_MREC_TYPE_UPDATE:	return "UPDATE";
	case HAMMER_MREC_TYPE_SYNC:	return "SYNC";
	case HAMMER_MREC_TYPE_SKIP:	return "SKIP";
	case HAMMER_MREC_TYPE_PASS:	return "PASS";
	case HAMMER_MREC_TYPE_TERM:	return "TERM";
	case HAMMER_MREC_TYPE_IDLE:	return "IDLE";
	default:			return "?";
	}
}

__attribute__((format(printf, 3, 4)))
static int refuse(char *why, size_t whysize, const char *fmt, ...)
{
	if (why && whysize) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whysize, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* The rec_size a type must have (0: variable, REC). */
static uint32_t fixed_size(uint32_t type)
{
	switch (hammer_mrec_base_type(type)) {
	case HAMMER_MREC_TYPE_REC:
		return (type & HAMMER_MRECF_NODATA) ? HAMMER_MREC_REC_SIZE : 0;
	case HAMMER_MREC_TYPE_PASS:
		return HAMMER_MREC_PASS_SIZE;
	case HAMMER_MREC_TYPE_PFSD:
		return HAMMER_MREC_PFSD_SIZE;
	case HAMMER_MREC_TYPE_SKIP:
		return HAMMER_MREC_SKIP_SIZE;
	default:
		return HAMMER_MREC_TID_SIZE;
	}
}

int hammer_mrec_get(const void *buf, size_t avail, struct hammer_mrec *r,
		    size_t *need, char *why, size_t whysize)
{
	const uint8_t *p = buf;
	if (why && whysize)
		why[0] = '\0';
	if (avail < HAMMER_MREC_HEADSIZE) {
		if (need)
			*need = HAMMER_MREC_HEADSIZE;
		return 0;
	}
	uint32_t sig = ld32(p + OFF_SIG);
	if (sig == HAMMER_IOC_MRECORD_SIGNATURE_REV)
		return refuse(why, whysize,
			      "bad signature 0x%08" PRIx32 " (byte-swapped: a "
			      "stream from a host of the other byte order)", sig);
	if (sig != HAMMER_IOC_MRECORD_SIGNATURE)
		return refuse(why, whysize,
			      "bad signature 0x%08" PRIx32 " (expected 0x%08" PRIx32 ")",
			      sig, (uint32_t)HAMMER_IOC_MRECORD_SIGNATURE);
	uint32_t rec_size = ld32(p + OFF_SIZE);
	if (rec_size < HAMMER_MREC_HEADSIZE || rec_size > HAMMER_MREC_MAX)
		return refuse(why, whysize, "illegal rec_size %" PRIu32 " (%u..%u)",
			      rec_size, (unsigned)HAMMER_MREC_HEADSIZE,
			      (unsigned)HAMMER_MREC_MAX);
	uint32_t wire = HAMMER_MREC_DOALIGN(rec_size);
	if (avail < wire) {
		if (need)
			*need = wire;
		return 0;
	}
	uint32_t stored = ld32(p + OFF_CRC);
	uint32_t crc = hammer_crc32(p + CRC_START, rec_size - CRC_START);
	if (crc != stored)
		return refuse(why, whysize, "bad crc 0x%08" PRIx32 " (computed 0x%08"
			      PRIx32 " over %" PRIu32 " bytes)", stored, crc,
			      rec_size - CRC_START);
	uint32_t type = ld32(p + OFF_TYPE);
	uint32_t base = hammer_mrec_base_type(type);
	if (base < HAMMER_MREC_TYPE_REC || base > HAMMER_MREC_TYPE_IDLE ||
	    (type & ~(HAMMER_MRECF_TYPE_LOMASK | MREC_FLAGS)))
		return refuse(why, whysize, "unknown record type 0x%08" PRIx32
			      " (rec_size %" PRIu32 ")", type, rec_size);
	/* DragonFly takes flags only on B-tree records (REC, PASS); the
	 * others it compares whole */
	if ((type & MREC_FLAGS) && base != HAMMER_MREC_TYPE_REC &&
	    base != HAMMER_MREC_TYPE_PASS)
		return refuse(why, whysize, "unknown record type 0x%08" PRIx32
			      " (flags 0x%08" PRIx32 " on a %s record)", type,
			      type & MREC_FLAGS, hammer_mrec_type_name(type));
	uint32_t fixed = fixed_size(type);
	int nodata = base == HAMMER_MREC_TYPE_REC && (type & HAMMER_MRECF_NODATA);
	const char *tname = nodata ? "REC_NODATA" : hammer_mrec_type_name(type);
	if (fixed && rec_size != fixed)
		return refuse(why, whysize, "unexpected payload size: %s rec_size %"
			      PRIu32 " (must be %" PRIu32 ")", tname, rec_size, fixed);
	if (!fixed && rec_size < HAMMER_MREC_REC_SIZE)
		return refuse(why, whysize, "unexpected payload size: %s rec_size %"
			      PRIu32 " (must be at least %u)", tname, rec_size,
			      (unsigned)HAMMER_MREC_REC_SIZE);

	struct hammer_mrec m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.rec_size = rec_size;
	m.wire_size = wire;
	switch (base) {
	case HAMMER_MREC_TYPE_REC:
	case HAMMER_MREC_TYPE_PASS:
		get_leaf(p + OFF_BODY, &m.u.leaf);
		if (base == HAMMER_MREC_TYPE_REC) {
			int32_t dl = m.u.leaf.data_len;
			if (dl < 0 || dl > HAMMER_XBUFSIZE ||
			    (!nodata && (uint32_t)dl != rec_size - HAMMER_MREC_REC_SIZE))
				return refuse(why, whysize,
					      "illegal element data_len %" PRId32
					      " (rec_size %" PRIu32 ": %" PRIu32
					      " bytes of data%s)", dl, rec_size,
					      rec_size - HAMMER_MREC_REC_SIZE,
					      nodata ? ", NODATA" : "");
			if (!nodata && dl > 0) {
				m.data = p + HAMMER_MREC_REC_SIZE;
				m.data_len = (uint32_t)dl;
			}
		}
		break;
	case HAMMER_MREC_TYPE_PFSD:
		m.u.pfs.version = ld32(p + OFF_BODY);
		if (m.u.pfs.version != HAMMER_PFSD_VERSION)
			return refuse(why, whysize, "Version mismatch: PFSD version %"
				      PRIu32 " (expected %u)", m.u.pfs.version,
				      (unsigned)HAMMER_PFSD_VERSION);
		memcpy(&m.u.pfs.pfsd, p + OFF_BODY + 8, sizeof(m.u.pfs.pfsd));
		hammer_pfsd_swap(&m.u.pfs.pfsd);
		break;
	case HAMMER_MREC_TYPE_SKIP:
		get_base(p + OFF_BODY, &m.u.skip.beg);
		get_base(p + OFF_BODY + sizeof(struct hammer_base_elm), &m.u.skip.end);
		break;
	default:	/* UPDATE, SYNC, TERM, IDLE */
		m.u.tid = ld64(p + OFF_BODY);
		break;
	}
	if (r)
		*r = m;
	return (int)wire;
}

/* ------------------------------------------------------ data CRC, dump */
int hammer_mrec_data_crc_ok(unsigned version, const struct hammer_mrec *r)
{
	if (!r || hammer_mrec_base_type(r->type) != HAMMER_MREC_TYPE_REC ||
	    (r->type & HAMMER_MRECF_NODATA))
		return 1;	/* no payload to check */
	size_t len = r->data_len;
	if (r->u.leaf.base.rec_type == HAMMER_RECTYPE_INODE &&
	    len > HAMMER_INODE_CRCSIZE)
		len = HAMMER_INODE_CRCSIZE;	/* atime/mtime are not covered */
	static const uint8_t none;
	const void *d = &none;
	if (r->data)
		d = r->data;
	else
		len = 0;	/* an empty REC: the CRC of nothing */
	return hammer_crc_check(version, d, len, r->u.leaf.data_crc) != HAMMER_CRC_BAD;
}

/*
 * mirror-dump shows RECs (any flags but the (BAD CRC) marker), PASSes and
 * SKIPs.  DragonFly prints the marker only when the type equals REC|CRC_ERROR
 * exactly, which its own kernel never sends (it adds DATA_CRC_BAD); here the
 * CRC_ERROR flag alone decides, so such records are marked.
 */
void hammer_mrec_dump(FILE *f, const struct hammer_mrec *r)
{
	if (!f || !r)
		return;
	const struct hammer_btree_leaf_elm *l = &r->u.leaf;
	switch (r->type & HAMMER_MRECF_TYPE_MASK) {
	case HAMMER_MREC_TYPE_REC:
	case HAMMER_MREC_TYPE_REC | HAMMER_MRECF_CRC_ERROR:
		fprintf(f, "Record lo=%08" PRIx32 " obj=%016" PRIx64 " key=%016"
			PRIx64 " rt=%02x ot=%02x%s\n",
			l->base.localization, (uint64_t)l->base.obj_id,
			(uint64_t)l->base.key, (unsigned)l->base.rec_type,
			(unsigned)l->base.obj_type,
			(r->type & HAMMER_MRECF_CRC_ERROR) ? " (BAD CRC)" : "");
		fprintf(f, "       tids %016" PRIx64 ":%016" PRIx64 " data=%d\n",
			l->base.create_tid, l->base.delete_tid, (int)l->data_len);
		break;
	case HAMMER_MREC_TYPE_PASS:
		fprintf(f, "Pass   lo=%08" PRIx32 " obj=%016" PRIx64 " key=%016"
			PRIx64 " rt=%02x ot=%02x\n",
			l->base.localization, (uint64_t)l->base.obj_id,
			(uint64_t)l->base.key, (unsigned)l->base.rec_type,
			(unsigned)l->base.obj_type);
		fprintf(f, "       tids %016" PRIx64 ":%016" PRIx64 " data=%d\n",
			l->base.create_tid, l->base.delete_tid, (int)l->data_len);
		break;
	case HAMMER_MREC_TYPE_SKIP: {
		const struct hammer_base_elm *b = &r->u.skip.beg, *e = &r->u.skip.end;
		fprintf(f, "Skip   lo=%08" PRIx32 " obj=%016" PRIx64 " key=%016"
			PRIx64 " rt=%02x to\n",
			b->localization, (uint64_t)b->obj_id, (uint64_t)b->key,
			(unsigned)b->rec_type);
		fprintf(f, "       lo=%08" PRIx32 " obj=%016" PRIx64 " key=%016"
			PRIx64 " rt=%02x\n",
			e->localization, (uint64_t)e->obj_id, (uint64_t)e->key,
			(unsigned)e->rec_type);
		break;
	}
	default:
		break;
	}
}
