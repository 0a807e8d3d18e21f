/* output.c - header summary, zone tables and size formatting shared by
 * the commands. */
#include "hammer.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *hammer_sizetostr(char buf[32], int64_t size)
{
	const double k = 1024.0;
	if (size < 512)
		snprintf(buf, 32, "%6.2fB", (double)size);
	else if (size < 512LL * 1024)
		snprintf(buf, 32, "%6.2fKB", (double)size / k);
	else if (size < 512LL * 1024 * 1024)
		snprintf(buf, 32, "%6.2fMB", (double)size / (k * k));
	else if (size < 512LL * 1024 * 1024 * 1024)
		snprintf(buf, 32, "%6.2fGB", (double)size / (k * k * k));
	else
		snprintf(buf, 32, "%6.2fTB", (double)size / (k * k * k * k));
	return buf;
}

const char *hammer_zone_label(unsigned zone)
{
	return hammer_zone_name(zone);
}

void hammer_print_header(struct hammer_opts *o)
{
	struct hammer_volume_ondisk *h = hammer_volset_root(o->vs);
	char b[32], u[37];
	char label[65];
	memcpy(label, h->vol_label, 64);
	label[64] = 0;
	fprintf(o->out, "vol_label\t%s\n", label);
	fprintf(o->out, "vol_count\t%d\n", h->vol_count);
	hammer_uuid_format(&h->vol_fstype, u);
	fprintf(o->out, "vol_fstype\t%s \"DragonFly HAMMER\"\n", u);
	hammer_uuid_format(&h->vol_fsid, u);
	fprintf(o->out, "vol_fsid\t%s\n", u);
	fprintf(o->out, "vol_bot_beg\t%s\n", hammer_sizetostr(b, h->vol_bot_beg));
	fprintf(o->out, "vol_mem_beg\t%s\n", hammer_sizetostr(b, h->vol_mem_beg));
	fprintf(o->out, "vol_buf_beg\t%s\n", hammer_sizetostr(b, h->vol_buf_beg));
	fprintf(o->out, "vol_buf_end\t%s\n", hammer_sizetostr(b, h->vol_buf_end));
	fprintf(o->out, "vol0_next_tid\t%016llx\n", (unsigned long long)h->vol0_next_tid);

	const struct hammer_blockmap *um = &h->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	int64_t size = (int64_t)(um->alloc_offset & HAMMER_OFF_LONG_MASK);
	int64_t used;
	/* unsigned arithmetic: the fields are untrusted */
	if (um->first_offset <= um->next_offset)
		used = (int64_t)(um->next_offset - um->first_offset);
	else
		used = (int64_t)(um->alloc_offset - um->first_offset +
				 (um->next_offset & HAMMER_OFF_LONG_MASK));
	fprintf(o->out, "undo_size\t%s\n", hammer_sizetostr(b, size));
	fprintf(o->out, "undo_used\t%s\n", hammer_sizetostr(b, used));

	fprintf(o->out, "zone #             phys             first            "
		"next             alloc\n");
	for (unsigned z = 0; z < HAMMER_MAX_ZONES; z++) {
		const struct hammer_blockmap *bm = &h->vol0_blockmap[z];
		fprintf(o->out, "zone %-2u %-10s %016llx %016llx %016llx %016llx\n",
			z, hammer_zone_label(z),
			(unsigned long long)bm->phys_offset,
			(unsigned long long)bm->first_offset,
			(unsigned long long)bm->next_offset,
			(unsigned long long)bm->alloc_offset);
	}

	/*
	 * DragonFly's tools never check these CRCs, and newfs leaves vol_crc 0
	 * and the zone 8/9 entries stale, so they are warnings on stderr (stdout
	 * stays identical to DragonFly's) and do not change the exit status.
	 * A zero vol_crc only means "never set" and is mentioned with -v.
	 */
	for (int v = 0; v < o->vs->count; v++) {
		struct hammer_header_crcs c;
		struct hammer_err e = { 0 };
		if (hammer_inspect_header_crcs(o->vs, v, &c, &e)) {
			fprintf(o->err, "hammer: warning: %s\n", e.msg);
			continue;
		}
		const char *name = o->vs->vols[v]->bd->name;
		if (!c.vol_ok && (c.vol_stored != 0 || o->verbose))
			fprintf(o->err, "hammer: warning: %s: volume header CRC %08x "
				"does not match the computed %08x%s\n", name,
				c.vol_stored, c.vol_calc,
				c.vol_stored ? "" : " (never set by newfs)");
		for (unsigned z = 0; z < HAMMER_MAX_ZONES; z++) {
			if (c.bad_zones & (1u << z))
				fprintf(o->err, "hammer: warning: %s: vol0_blockmap[%u] "
					"(%s) entry CRC is stale or bad\n", name, z,
					hammer_zone_label(z));
		}
	}
}

void hammer_print_zone_stats(struct hammer_opts *o,
			     const struct hammer_zone_stats *s)
{
	uint64_t tb = 0, ti = 0;
	int64_t tu = 0;
	fprintf(o->out, "HAMMER zone statistics\n");
	fprintf(o->out, "zone #             blocks       items              "
		"used[B]             used[%%]\n");
	for (unsigned z = 0; z < HAMMER_MAX_ZONES; z++) {
		double per = s->z[z].blocks ?
			(double)(s->z[z].used * 100) /
			(double)(s->z[z].blocks << HAMMER_BIGBLOCK_BITS) : 0;
		fprintf(o->out, "zone %-2u %-10s %-12llu %-18llu %-19lld %g\n", z,
			hammer_zone_label(z), (unsigned long long)s->z[z].blocks,
			(unsigned long long)s->z[z].items, (long long)s->z[z].used,
			per);
		tb += s->z[z].blocks;
		ti += s->z[z].items;
		tu += s->z[z].used;
	}
	double per = tb ? (double)(tu * 100) / (double)(tb << HAMMER_BIGBLOCK_BITS) : 0;
	fprintf(o->out, "-----------------------------------------------------------"
		"---------------------\n");
	fprintf(o->out, "total              %-12llu %-18llu %-19lld %g\n",
		(unsigned long long)tb, (unsigned long long)ti, (long long)tu, per);
}
