/*
 * fuzz_mstream.c - a mirroring stream straight from hostile bytes.
 *
 * Walks the input as mirror-write would: decode a record, advance by its
 * wire size, stop at an incomplete record or a refusal.  Every decoded
 * record goes through the data-CRC check (versions 6 and 7) and mirror-dump
 * (to /dev/null), and is re-encoded: the new bytes must decode to the same
 * fields, and (PFSD's reserved word aside, which the encoder zeroes) be the
 * same bytes.  A refusal must say why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/crc.h"
#include "ref/mstream.h"

static uint8_t again[HAMMER_MREC_MAX + 8];

static size_t reencode(const struct hammer_mrec *r)
{
	switch (hammer_mrec_base_type(r->type)) {
	case HAMMER_MREC_TYPE_REC:
	case HAMMER_MREC_TYPE_PASS:
		return hammer_mrec_put_rec(again, sizeof(again), r->type, &r->u.leaf,
					   r->data, r->data_len);
	case HAMMER_MREC_TYPE_PFSD:
		return hammer_mrec_put_pfsd(again, sizeof(again), &r->u.pfs.pfsd);
	case HAMMER_MREC_TYPE_SKIP:
		return hammer_mrec_put_skip(again, sizeof(again), &r->u.skip.beg,
					    &r->u.skip.end);
	default:
		return hammer_mrec_put_tid(again, sizeof(again), r->type, r->u.tid);
	}
}

static void check_record(const uint8_t *p, size_t avail, int rc,
			 const struct hammer_mrec *r, FILE *null)
{
	size_t wire = (size_t)rc;
	if (wire != r->wire_size || wire % 8 || wire > avail ||
	    r->rec_size > wire || r->rec_size < HAMMER_MREC_HEADSIZE ||
	    r->rec_size > HAMMER_MREC_MAX)
		__builtin_trap();
	if (r->data && (r->data < p || r->data + r->data_len > p + r->rec_size))
		__builtin_trap();
	if (!r->data && r->data_len)
		__builtin_trap();
	(void)hammer_mrec_data_crc_ok(6, r);
	(void)hammer_mrec_data_crc_ok(7, r);
	(void)hammer_mrec_type_name(r->type);
	if (null)
		hammer_mrec_dump(null, r);

	size_t w2 = reencode(r);
	if (w2 != wire)
		__builtin_trap();
	struct hammer_mrec r2;
	char why[160];
	size_t need = 0;
	if (hammer_mrec_get(again, w2, &r2, &need, why, sizeof(why)) != (int)w2)
		__builtin_trap();
	if (r2.type != r->type || r2.rec_size != r->rec_size ||
	    r2.wire_size != r->wire_size || r2.data_len != r->data_len ||
	    memcmp(&r2.u, &r->u, sizeof(r->u)) != 0 ||
	    (r->data_len && memcmp(r2.data, r->data, r->data_len) != 0))
		__builtin_trap();
	/* the same bytes (the padding is not checked, PFSD's reserved word
	 * is rewritten as 0) */
	if (hammer_mrec_base_type(r->type) == HAMMER_MREC_TYPE_PFSD) {
		if (memcmp(again + 24, p + 24, r->rec_size - 24) != 0 ||
		    memcmp(again + 8, p + 8, 12) != 0)
			__builtin_trap();
	} else if (memcmp(again, p, r->rec_size) != 0) {
		__builtin_trap();
	}
}

/* Give the record at p a correct rec_crc when its head allows one. */
static void fix_crc(uint8_t *p, size_t avail)
{
	if (avail < HAMMER_MREC_HEADSIZE)
		return;
	uint32_t rs = (uint32_t)p[8] | (uint32_t)p[9] << 8 |
		      (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24;
	if (rs < HAMMER_MREC_HEADSIZE || rs > avail)
		return;
	uint32_t crc = hammer_crc32(p + 8, rs - 8);
	for (int i = 0; i < 4; i++)
		p[4 + i] = (uint8_t)(crc >> (8 * i));
}

static void walk(uint8_t *data, size_t size, int fix, FILE *null)
{
	size_t off = 0;
	while (off < size) {
		struct hammer_mrec r;
		char why[160] = "";
		size_t need = 0, avail = size - off;
		if (fix)
			fix_crc(data + off, avail);
		int rc = hammer_mrec_get(data + off, avail, &r, &need, why, sizeof(why));
		if (rc == 0) {
			/* incomplete: the need must be more than what is there */
			if (need <= avail || need > HAMMER_MREC_MAX + 8)
				__builtin_trap();
			break;
		}
		if (rc < 0) {
			if (!why[0])
				__builtin_trap();
			break;
		}
		check_record(data + off, avail, rc, &r, null);
		off += (size_t)rc;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	if (!null)
		null = fopen("/dev/null", "w");
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	walk(copy, size, 0, null);
	walk(copy, size, 1, null);
	free(copy);
	return 0;
}
