/*
 * cmd_checkmap.c - `hammer checkmap`: recount what the freemap, the B-tree
 * and the UNDO FIFO use in each big-block and compare it with the freemap
 * (ref/checkmap.c does the work).  Output follows DragonFly's; findings it
 * has no line for (BA, BF, BL, BU, BC) are ours, with the same layout.
 */
#include "hammer.h"
#include "ref/checkmap.h"

static void print_findings(struct hammer_opts *o, struct hammer_checkmap *cm,
			   size_t from)
{
	for (size_t i = from; i < cm->nfindings; i++) {
		const struct hammer_checkmap_finding *f = &cm->findings[i];
		switch (f->code) {
		case HAMMER_CM_NODE:
			fprintf(o->out, "%c%c   NODE %016llx ", f->badc, f->badm,
				(unsigned long long)f->addr);
			if (!f->node_read)
				fprintf(o->out, "(IO ERROR)\n");
			else
				fprintf(o->out, "cnt=%02d p=%016llx type=%c depth=%d "
					"mirror=%016llx\n", f->count,
					(unsigned long long)f->parent,
					f->type ? f->type : '?', f->depth,
					(unsigned long long)f->mirror_tid);
			break;
		case HAMMER_CM_ZONE:
		case HAMMER_CM_FREE:
		case HAMMER_CM_APPEND:
			continue;	/* printed per block, in block order */
		default:
			fprintf(o->out, "%s\t%016llx %s\n",
				hammer_checkmap_code_tag(f->code),
				(unsigned long long)f->addr, f->msg);
			break;
		}
		fprintf(o->err, "hammer: %s\n", f->msg);
	}
}

static void print_blocks(struct hammer_opts *o, struct hammer_checkmap *cm,
			 struct hammer_zone_stats *stats)
{
	for (size_t i = 0; i < cm->nblocks; i++) {
		const struct hammer_checkmap_block *b = &cm->blocks[i];
		if (!b->l2_ok)
			continue;
		if (o->verbose)
			hammer_zone_stats_add_layer2(stats, &b->l2);
		switch (b->status) {
		case HAMMER_CM_ZONE:
			fprintf(o->out, "BZ\tblock=%016llx calc zone=%-2d, got zone=%-2d\n",
				(unsigned long long)b->block, b->calc_zone, b->l2.zone);
			break;
		case HAMMER_CM_FREE:
			fprintf(o->out, "BM\tblock=%016llx zone=%-2d calc %lld free, got %d\n",
				(unsigned long long)b->block, b->l2.zone,
				(long long)b->calc_free, b->l2.bytes_free);
			break;
		case HAMMER_CM_APPEND:
			fprintf(o->out, "BA\tblock=%016llx zone=%-2d used to %llu, "
				"append_off %u\n", (unsigned long long)b->block,
				b->l2.zone, (unsigned long long)b->max_end,
				b->l2.append_off);
			break;
		default:
			if (o->verbose)
				fprintf(o->out, "\tblock=%016llx zone=%-2d %lld free (correct)\n",
					(unsigned long long)b->block, b->l2.zone,
					(long long)b->calc_free);
			break;
		}
	}
}

int cmd_checkmap(struct hammer_opts *o, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(o->err, "hammer: checkmap takes no arguments\n");
		return HAMMER_EXIT_USAGE;
	}
	hammer_print_header(o);

	struct hammer_checkmap cm;
	struct hammer_err e = { 0 };
	int rc = hammer_checkmap_init(&cm, o->vs);
	static const char *const phase[] = { "freemap", "B-Tree", "UNDO" };
	int (*const fn[])(struct hammer_checkmap *, struct hammer_err *) = {
		hammer_checkmap_freemap, hammer_checkmap_btree, hammer_checkmap_undo,
	};
	for (int p = 0; p < 3 && !rc; p++) {
		size_t before = cm.nfindings;
		fprintf(o->out, "Collecting allocation info from %s: ", phase[p]);
		fflush(o->out);
		rc = fn[p](&cm, &e);
		print_findings(o, &cm, before);
		if (!rc)
			fprintf(o->out, "done\n");
	}
	if (!rc) {
		size_t before = cm.nfindings;
		rc = hammer_checkmap_finish(&cm, &e);
		struct hammer_zone_stats stats;
		hammer_zone_stats_init(&stats);
		print_blocks(o, &cm, &stats);
		for (size_t i = before; i < cm.nfindings; i++)
			fprintf(o->err, "hammer: %s\n", cm.findings[i].msg);
		if (o->verbose)
			hammer_print_zone_stats(o, &stats);
		hammer_zone_stats_free(&stats);
	}
	if (rc) {
		fprintf(o->out, "\n");
		fprintf(o->err, "hammer: checkmap stopped: %s\n",
			e.msg[0] ? e.msg : "out of memory");
	}
	if (cm.bad_nodes || o->verbose)
		fprintf(o->out, "%d bad nodes\n", cm.bad_nodes);
	if (cm.errors || o->verbose)
		fprintf(o->out, "%d errors\n", cm.errors);
	int status = (rc || cm.bad_nodes || cm.errors) ? HAMMER_EXIT_CORRUPT
						       : HAMMER_EXIT_OK;
	hammer_checkmap_free(&cm);
	return status;
}
