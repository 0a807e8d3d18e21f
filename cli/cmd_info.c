/*
 * cmd_info.c - `hammer -f devs info`: a summary of an unmounted volume set.
 *
 * This command is ours.  DragonFly's `hammer info` asks a mounted file
 * system through ioctls (and the Linux port has none); this one reads the
 * volume headers, the layer-1 freemap and the PFS records of the B-tree,
 * with the same grouping as DragonFly's output.
 */
#include "hammer.h"

#include <stdlib.h>
#include <string.h>

struct pfs_ent {
	uint32_t id;
	struct hammer_pseudofs_data d;
};

struct info_walk {
	struct hammer_volset *vs;
	struct hammer_rdcache nc, dc;
	struct hammer_u64map seen;
	struct pfs_ent *pfs;
	size_t npfs, cap;
	int problems;
};

static int walk(struct info_walk *w, hammer_off_t off, int depth)
{
	int isnew = 0;
	if (depth > HAMMER_INSPECT_MAX_DEPTH) {
		w->problems++;
		return 0;
	}
	if (!hammer_u64map_get(&w->seen, off, &isnew))
		return -ENOMEM;
	if (!isnew) {
		w->problems++;
		return 0;
	}
	struct hammer_node_ondisk *n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	enum hammer_crc_match crc;
	int rc = 0;
	if (hammer_inspect_node_read(w->vs, &w->nc, off, n, &crc, NULL) ||
	    crc == HAMMER_CRC_BAD) {
		w->problems++;
		goto out;
	}
	int max = hammer_node_max_elements(n->type);
	int count = n->count < 0 ? 0 : n->count > max ? max : n->count;
	for (int i = 0; i < count && !rc; i++) {
		hammer_btree_elm_t *e = &n->elms[i];
		if (n->type == HAMMER_BTREE_TYPE_INTERNAL) {
			if (e->internal.subtree_offset)
				rc = walk(w, e->internal.subtree_offset, depth + 1);
			continue;
		}
		const struct hammer_btree_leaf_elm *lf = &e->leaf;
		if (lf->base.rec_type != HAMMER_RECTYPE_PFS || lf->base.delete_tid)
			continue;
		const char *which;
		void *data = NULL;
		if (hammer_inspect_leaf_data(w->vs, &w->dc, lf, &which, &data,
					     sizeof(struct hammer_pseudofs_data), NULL)) {
			w->problems++;
			free(data);
			continue;
		}
		if (w->npfs == w->cap) {
			size_t nc = w->cap ? w->cap * 2 : 8;
			void *p = realloc(w->pfs, nc * sizeof(*w->pfs));
			if (!p) {
				free(data);
				rc = -ENOMEM;
				break;
			}
			w->pfs = p;
			w->cap = nc;
		}
		struct pfs_ent *pe = &w->pfs[w->npfs++];
		/* the key holds pfs_id << 16 */
		pe->id = (uint32_t)((uint64_t)lf->base.key >> 16) & 0xFFFF;
		memcpy(&pe->d, data, sizeof(pe->d));
		hammer_pfsd_swap(&pe->d);
		free(data);
	}
out:
	free(n);
	return rc;
}

static int cmp_pfs(const void *a, const void *b)
{
	const struct pfs_ent *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

int cmd_info(struct hammer_opts *o, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(o->err, "hammer: info takes no arguments when used with -f\n");
		return HAMMER_EXIT_USAGE;
	}
	struct hammer_volset *vs = o->vs;
	struct hammer_volume_ondisk *h = hammer_volset_root(vs);
	FILE *f = o->out;
	char b[32], u[37];
	int problems = 0;

	fprintf(f, "Volume identification\n");
	fprintf(f, "\tLabel               %.64s\n", h->vol_label);
	fprintf(f, "\tNo. Volumes         %d\n", vs->count);
	fprintf(f, "\tHAMMER Volumes      ");
	for (int i = 0; i < vs->count; i++)
		fprintf(f, "%s%s", i ? ":" : "", vs->vols[i]->bd->name);
	fprintf(f, "\n");
	hammer_uuid_format(&h->vol_fsid, u);
	fprintf(f, "\tFSID                %s\n", u);
	fprintf(f, "\tHAMMER Version      %u\n", vs->version);

	/* big-blocks owned by the freemap arrays and the UNDO FIFO */
	hammer_off_t fm = h->vol0_blockmap[HAMMER_ZONE_FREEMAP_INDEX].phys_offset;
	int64_t reserved = 1;
	struct hammer_rdcache *c = malloc(sizeof(*c));
	if (!c) {
		fprintf(o->err, "hammer: out of memory\n");
		return HAMMER_EXIT_USAGE;
	}
	hammer_rdcache_init(c);
	for (uint64_t i = 0; i < HAMMER_BLOCKMAP_LAYER1; i++) {
		struct hammer_blockmap_layer1 l1;
		if (hammer_zone_of(fm) != HAMMER_ZONE_RAW_BUFFER_INDEX ||
		    hammer_inspect_read(vs, c, fm + i * sizeof(l1), &l1, sizeof(l1), NULL)) {
			problems++;
			break;
		}
		hammer_layer1_swap(&l1);
		if (l1.phys_offset != HAMMER_BLOCKMAP_UNAVAIL)
			reserved++;
	}
	free(c);
	const struct hammer_blockmap *um = &h->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	int64_t undo_size = (int64_t)(um->alloc_offset & HAMMER_OFF_LONG_MASK);
	int64_t undo_used = um->first_offset <= um->next_offset ?
		(int64_t)(um->next_offset - um->first_offset) :
		(int64_t)(um->alloc_offset - um->first_offset +
			  (um->next_offset & HAMMER_OFF_LONG_MASK));
	reserved += undo_size / HAMMER_BIGBLOCK_SIZE;

	int64_t total = h->vol0_stat_bigblocks, nfree = h->vol0_stat_freebigblocks;
	int64_t used = total - nfree;
	fprintf(f, "Big-block information\n");
	fprintf(f, "\tTotal      %10lld\n", (long long)total);
	fprintf(f, "\tUsed       %10lld (%.2f%%)\n", (long long)used,
		total > 0 ? (double)used * 100 / (double)total : 0.0);
	fprintf(f, "\tReserved   %10lld (freemap and UNDO/REDO FIFO)\n",
		(long long)reserved);
	fprintf(f, "\tFree       %10lld\n", (long long)nfree);

	fprintf(f, "Space information\n");
	fprintf(f, "\tNo. Inodes %10lld\n", (long long)h->vol0_stat_inodes);
	fprintf(f, "\tTotal size     %s (%lld bytes)\n",
		hammer_sizetostr(b, total * HAMMER_BIGBLOCK_SIZE),
		(long long)(total * HAMMER_BIGBLOCK_SIZE));
	fprintf(f, "\tUsed           %s\n", hammer_sizetostr(b, used * HAMMER_BIGBLOCK_SIZE));
	fprintf(f, "\tReserved       %s\n",
		hammer_sizetostr(b, reserved * HAMMER_BIGBLOCK_SIZE));
	fprintf(f, "\tFree           %s\n", hammer_sizetostr(b, nfree * HAMMER_BIGBLOCK_SIZE));
	fprintf(f, "\tUNDO size      %s\n", hammer_sizetostr(b, undo_size));
	fprintf(f, "\tUNDO used      %s\n", hammer_sizetostr(b, undo_used));

	struct info_walk *w = calloc(1, sizeof(*w));
	if (!w) {
		fprintf(o->err, "hammer: out of memory\n");
		return HAMMER_EXIT_USAGE;
	}
	w->vs = vs;
	hammer_rdcache_init(&w->nc);
	hammer_rdcache_init(&w->dc);
	hammer_u64map_init(&w->seen);
	int rc = walk(w, h->vol0_btree_root, 0);
	problems += w->problems;
	if (w->npfs)
		qsort(w->pfs, w->npfs, sizeof(*w->pfs), cmp_pfs);
	fprintf(f, "PFS information\n");
	fprintf(f, "\t  PFS#  Mode    Label\n");
	for (size_t i = 0; i < w->npfs; i++) {
		const struct hammer_pseudofs_data *d = &w->pfs[i].d;
		fprintf(f, "\t%6u  %-6s  \"%.64s\"%s\n", w->pfs[i].id,
			(d->mirror_flags & HAMMER_PFSD_SLAVE) ? "SLAVE" : "MASTER",
			d->label,
			(d->mirror_flags & HAMMER_PFSD_DELETED) ? " (deleted)" : "");
	}
	hammer_u64map_free(&w->seen);
	free(w->pfs);
	free(w);
	if (rc)
		fprintf(o->err, "hammer: out of memory\n");
	if (problems)
		fprintf(o->err, "hammer: info: %d unreadable or corrupt structures "
			"skipped (run `hammer show` and `hammer checkmap` for details)\n",
			problems);
	return (rc || problems) ? HAMMER_EXIT_CORRUPT : HAMMER_EXIT_OK;
}
