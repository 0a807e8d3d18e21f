/*
 * cmd_show_undo.c - `hammer show-undo`: every record of the UNDO/REDO FIFO
 * from its start to alloc_offset, in DragonFly's format; " >" marks
 * first_offset and " <" next_offset.  Unlike DragonFly we verify each
 * record (signature, size, tail, CRC) and append " error=..." to a bad one.
 */
#include "hammer.h"

#include <stdlib.h>

static const char *fifo_error(unsigned bad)
{
	if (bad & HAMMER_FIFO_BAD_SIG)
		return "signature";
	if (bad & HAMMER_FIFO_BAD_TYPE)
		return "type";
	if (bad & HAMMER_FIFO_BAD_SIZE)
		return "size";
	if (bad & HAMMER_FIFO_BAD_TAIL)
		return "tail";
	if (bad & HAMMER_FIFO_BAD_CRC)
		return "crc";
	return "payload";
}

int cmd_show_undo(struct hammer_opts *o, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(o->err, "hammer: show-undo takes no arguments\n");
		return HAMMER_EXIT_USAGE;
	}
	struct hammer_volset *vs = o->vs;
	struct hammer_volume_ondisk *root = hammer_volset_root(vs);
	const struct hammer_blockmap *um = &root->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];

	hammer_print_header(o);

	hammer_off_t beg = hammer_encode(HAMMER_ZONE_UNDO_INDEX, 0, 0);
	hammer_off_t end = um->alloc_offset;
	hammer_off_t maxend = beg + (hammer_off_t)HAMMER_UNDO_LAYER2 * HAMMER_BIGBLOCK_SIZE;
	if (end < beg || end > maxend || (end & HAMMER_BUFMASK)) {
		fprintf(o->err, "hammer: UNDO FIFO end vol0_blockmap[3].alloc_offset "
			"%016llx is not a 16 KB aligned zone-3 address of at most %d "
			"big-blocks\n", (unsigned long long)end, HAMMER_UNDO_LAYER2);
		return HAMMER_EXIT_CORRUPT;
	}
	uint32_t bound = hammer_fifo_boundary(vs->version);
	struct hammer_rdcache *c = malloc(sizeof(*c));
	uint8_t *rec = malloc(bound);
	if (!c || !rec) {
		free(c);
		free(rec);
		fprintf(o->err, "hammer: out of memory\n");
		return HAMMER_EXIT_USAGE;
	}
	hammer_rdcache_init(c);
	struct hammer_zone_stats stats;
	hammer_zone_stats_init(&stats);
	long bad = 0;
	hammer_off_t scan = beg;
	while (scan < end) {
		uint32_t avail = bound - (uint32_t)(scan & (bound - 1));
		struct hammer_err e = { 0 };
		if (hammer_inspect_read(vs, c, scan, rec, avail, &e)) {
			fprintf(o->out, "%016llx unreadable, skipping to the next "
				"big-block\n", (unsigned long long)scan);
			fprintf(o->err, "hammer: %s\n", e.msg);
			bad++;
			scan = (scan | HAMMER_BIGBLOCK_MASK64) + 1;
			continue;
		}
		struct hammer_fifo_rec r;
		int rc = hammer_fifo_rec_check(vs->version, scan, rec, avail, &r, &e);
		const struct hammer_fifo_head *h = &r.head;
		fprintf(o->out, "%016llx ", (unsigned long long)scan);
		switch (h->hdr_type) {
		case HAMMER_HEAD_TYPE_PAD:
			fprintf(o->out, "PAD(%d)", (int)h->hdr_size);
			break;
		case HAMMER_HEAD_TYPE_DUMMY:
			fprintf(o->out, "DUMMY(%d)\tseq=%08x", (int)h->hdr_size, h->hdr_seq);
			break;
		case HAMMER_HEAD_TYPE_UNDO:
			fprintf(o->out, "UNDO(%u)\tseq=%08x offset=%016llx bytes=%d",
				h->hdr_size, h->hdr_seq,
				(unsigned long long)r.u.undo.undo_offset,
				r.u.undo.undo_data_bytes);
			break;
		case HAMMER_HEAD_TYPE_REDO:
			fprintf(o->out, "REDO(%u)\tseq=%08x offset=%016llx bytes=%d "
				"objid=%016llx flags=%08x lo=%08x", h->hdr_size,
				h->hdr_seq, (unsigned long long)r.u.redo.redo_offset,
				r.u.redo.redo_data_bytes,
				(unsigned long long)r.u.redo.redo_objid,
				r.u.redo.redo_flags, r.u.redo.redo_localization);
			break;
		default:
			fprintf(o->out, "%04x(%d)\tseq=%08x", h->hdr_type,
				(int)h->hdr_size, h->hdr_seq);
			break;
		}
		if (scan == um->first_offset)
			fprintf(o->out, " >");
		if (scan == um->next_offset)
			fprintf(o->out, " <");
		if (rc) {
			fprintf(o->out, " error=%s", fifo_error(r.bad));
			fprintf(o->err, "hammer: %s\n", e.msg);
			bad++;
		}
		fprintf(o->out, "\n");
		uint32_t step = r.size_ok ? h->hdr_size : avail;
		if (o->verbose && hammer_zone_stats_add(&stats, scan, step)) {
			fprintf(o->err, "hammer: out of memory\n");
			break;
		}
		if (!r.size_ok)
			fprintf(o->out, "Illegal size field, skipping to next boundary\n");
		scan += step;
	}
	free(c);
	free(rec);
	if (o->verbose)
		hammer_print_zone_stats(o, &stats);
	hammer_zone_stats_free(&stats);
	if (bad)
		fprintf(o->out, "%ld bad records\n", bad);
	return bad ? HAMMER_EXIT_CORRUPT : HAMMER_EXIT_OK;
}
