/*
 * cmd_blockmap.c - `hammer blockmap`: the volume header summary, then every
 * available layer-1 entry of the freemap and the layer-2 entries under it
 * (in DragonFly's format; -v adds index/offset/fill/CRC columns and zone
 * statistics, -vv also lists the unavailable entries past each volume).
 */
#include "hammer.h"

#include <stdlib.h>
#include <string.h>

int cmd_blockmap(struct hammer_opts *o, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(o->err, "hammer: blockmap takes no arguments\n");
		return HAMMER_EXIT_USAGE;
	}
	struct hammer_volset *vs = o->vs;
	struct hammer_volume_ondisk *root = hammer_volset_root(vs);
	hammer_off_t fm = root->vol0_blockmap[HAMMER_ZONE_FREEMAP_INDEX].phys_offset;

	hammer_print_header(o);
	if (hammer_zone_of(fm) != HAMMER_ZONE_RAW_BUFFER_INDEX) {
		fprintf(o->err, "hammer: freemap root vol0_blockmap[4].phys_offset "
			"%016llx is not a zone-2 address\n", (unsigned long long)fm);
		return HAMMER_EXIT_CORRUPT;
	}

	struct hammer_zone_stats stats;
	hammer_zone_stats_init(&stats);
	struct hammer_rdcache *c1 = malloc(sizeof(*c1)), *c2 = malloc(sizeof(*c2));
	if (!c1 || !c2) {
		free(c1);
		free(c2);
		fprintf(o->err, "hammer: out of memory\n");
		return HAMMER_EXIT_USAGE;
	}
	hammer_rdcache_init(c1);
	hammer_rdcache_init(c2);
	int bad_l1 = 0, bad_l2 = 0, unreadable = 0;

	for (uint64_t i = 0; i < HAMMER_BLOCKMAP_LAYER1; i++) {
		hammer_off_t zoff = hammer_encode(HAMMER_ZONE_FREEMAP_INDEX, 0, 0) +
				    i * HAMMER_BLOCKMAP_LAYER2_SPAN;
		hammer_off_t l1off = fm + i * sizeof(struct hammer_blockmap_layer1);
		uint8_t raw[32];
		struct hammer_blockmap_layer1 l1;
		struct hammer_err e = { 0 };
		if (hammer_inspect_read(vs, c1, l1off, raw, sizeof(raw), &e)) {
			fprintf(o->err, "hammer: %s\n", e.msg);
			unreadable++;
			break;
		}
		memcpy(&l1, raw, sizeof(l1));
		hammer_layer1_swap(&l1);
		char xerr = ' ';
		if (!hammer_crc_check(vs->version, raw, HAMMER_LAYER1_CRCSIZE,
				      l1.layer1_crc)) {
			xerr = 'B';
			bad_l1++;
			fprintf(o->err, "hammer: layer-1 entry %016llx (for %016llx) has "
				"a bad CRC %08x\n", (unsigned long long)l1off,
				(unsigned long long)zoff, l1.layer1_crc);
		}
		if (xerr == ' ' && l1.phys_offset == HAMMER_BLOCKMAP_UNAVAIL)
			continue;
		fprintf(o->out, "%c layer1 %016llx @%016llx blocks-free %lld\n", xerr,
			(unsigned long long)zoff, (unsigned long long)l1.phys_offset,
			(long long)l1.blocks_free);
		if (hammer_zone_of(l1.phys_offset) != HAMMER_ZONE_RAW_BUFFER_INDEX ||
		    (l1.phys_offset & HAMMER_BIGBLOCK_MASK64)) {
			if (l1.phys_offset != HAMMER_BLOCKMAP_UNAVAIL) {
				fprintf(o->err, "hammer: layer-1 entry %016llx points at "
					"%016llx, not a zone-2 big-block; its layer-2 "
					"array is skipped\n", (unsigned long long)l1off,
					(unsigned long long)l1.phys_offset);
				bad_l1++;
			}
			continue;
		}
		for (uint64_t j = 0; j < HAMMER_BLOCKMAP_LAYER2; j++) {
			hammer_off_t boff = zoff + j * HAMMER_BIGBLOCK_SIZE;
			hammer_off_t l2off = l1.phys_offset + j * sizeof(struct hammer_blockmap_layer2);
			struct hammer_blockmap_layer2 l2;
			uint8_t r2[16];
			struct hammer_err e2 = { 0 };
			if (hammer_inspect_read(vs, c2, l2off, r2, sizeof(r2), &e2)) {
				fprintf(o->err, "hammer: %s\n", e2.msg);
				unreadable++;
				break;
			}
			memcpy(&l2, r2, sizeof(l2));
			hammer_layer2_swap(&l2);
			char x = ' ', a = ' ', f = ' ';
			if (!hammer_crc_check(vs->version, r2, HAMMER_LAYER2_CRCSIZE,
					      l2.entry_crc)) {
				x = 'B';
				bad_l2++;
				fprintf(o->err, "hammer: layer-2 entry %016llx (for "
					"%016llx) has a bad CRC %08x\n",
					(unsigned long long)l2off,
					(unsigned long long)boff, l2.entry_crc);
			}
			if (l2.append_off > HAMMER_BIGBLOCK_SIZE) {
				a = 'A';
				bad_l2++;
			}
			/* negative is legal from version 5 (dedup) */
			if ((l2.bytes_free < 0 && vs->version < 5) ||
			    l2.bytes_free > HAMMER_BIGBLOCK_SIZE) {
				f = 'F';
				bad_l2++;
			}
			if (o->verbose < 2 && x == ' ' && a == ' ' && f == ' ' &&
			    l2.zone == HAMMER_ZONE_UNAVAIL_INDEX)
				break;
			fprintf(o->out, "%c%c%c     %016llx zone=%-2d ", x, a, f,
				(unsigned long long)boff, l2.zone);
			if (o->verbose) {
				fprintf(o->out, "vol=%-3u L1#=%-6llu L2#=%-6llu L1=%-7llu "
					"L2=%-7llu ", hammer_vol_of(boff),
					(unsigned long long)hammer_layer1_index(boff),
					(unsigned long long)hammer_layer2_index(boff),
					(unsigned long long)hammer_layer1_offset(boff),
					(unsigned long long)hammer_layer2_offset(boff));
			}
			fprintf(o->out, "app=%-7u free=%-7d", l2.append_off, l2.bytes_free);
			if (o->verbose) {
				double used = l2.zone == HAMMER_ZONE_UNAVAIL_INDEX ? 0 :
					(double)HAMMER_BIGBLOCK_SIZE - l2.bytes_free;
				fprintf(o->out, " fill=%-5.1f crc=%08x-%08x\n",
					used * 100 / HAMMER_BIGBLOCK_SIZE,
					l1.layer1_crc, l2.entry_crc);
				hammer_zone_stats_add_layer2(&stats, &l2);
			} else {
				fprintf(o->out, "\n");
			}
		}
	}
	free(c1);
	free(c2);
	if (o->verbose)
		hammer_print_zone_stats(o, &stats);
	hammer_zone_stats_free(&stats);
	/*
	 * DragonFly prints the layer-1 counter on its "bad layer2" line; we
	 * print the layer-2 count (both are 0 on every sane image).
	 */
	if (bad_l1 || o->verbose)
		fprintf(o->out, "%d bad layer1\n", bad_l1);
	if (bad_l2 || o->verbose)
		fprintf(o->out, "%d bad layer2\n", bad_l2);
	return (bad_l1 || bad_l2 || unreadable) ? HAMMER_EXIT_CORRUPT : HAMMER_EXIT_OK;
}
