/*
 * test_reach.c - the premises of the crash loop's freemap proof.
 *
 * The crash loop recounts the freemap of most crash states with
 * HAMMER_CHECKMAP_REACHABLE and relies on three things shown here on fresh
 * images (one 256 MB volume as the loop uses, and a set of three volumes):
 *   1. the full and the reachable recount of a clean image are clean, the
 *      full one counts nothing unreachable in use, and the reachable one
 *      lists what it skipped as device ranges;
 *   2. a problem planted where the reachable recount does not read is found
 *      by the full recount (or counted in unreachable_live), and lies
 *      inside a listed range -- so a caller that sees those ranges
 *      unchanged since a clean full recount has lost nothing;
 *   3. a problem planted where it reads is found by both.
 * Exit 0 on success, 1 with a message on the first failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/checkmap.h"
#include "ref/crc.h"
#include "ref/newfs.h"
#include "ref/volume.h"

static int failures;

#define EXPECT(cond, ...)                                                       \
	do {                                                                    \
		if (!(cond)) {                                                  \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
			printf(__VA_ARGS__);                                    \
			printf("\n");                                           \
			failures++;                                             \
		}                                                               \
	} while (0)

struct img {
	struct hammer_volset *vs;
	struct hammer_bdev *bd[3];
	int n;
};

static int img_make(struct img *im, int n, uint64_t size)
{
	memset(im, 0, sizeof(*im));
	im->n = n;
	for (int i = 0; i < n; i++)
		if (hammer_bdev_ram_open(size, "reach", &im->bd[i]))
			return -1;
	struct hammer_newfs_opts no;
	hammer_newfs_opts_init(&no);
	no.label = "REACH";
	no.force = 1;
	no.undo_size = 8 << 20;
	memset(&no.fsid, 0x5a, sizeof(no.fsid));
	no.ctime_us = 1795306471000000ULL;
	struct hammer_newfs_result res;
	struct hammer_err err = { 0 };
	if (hammer_newfs_format(im->bd, n, &no, &res, &err)) {
		printf("newfs: %s\n", err.msg);
		return -1;
	}
	struct hammer_bdev *bds[3];
	memcpy(bds, im->bd, sizeof(bds));
	if (hammer_volset_open_bdevs(bds, n, 0, &im->vs, &err)) {
		printf("open: %s\n", err.msg);
		return -1;
	}
	return 0;
}

struct run {
	struct hammer_checkmap cm;
	int rc;
};

static void run_cm(struct img *im, unsigned flags, struct run *r)
{
	struct hammer_err err = { 0 };
	r->rc = hammer_checkmap_init(&r->cm, im->vs);
	r->cm.flags = flags;
	if (!r->rc)
		r->rc = hammer_checkmap_freemap(&r->cm, &err);
	if (!r->rc)
		r->rc = hammer_checkmap_btree(&r->cm, &err);
	if (!r->rc)
		r->rc = hammer_checkmap_undo(&r->cm, &err);
	if (!r->rc)
		r->rc = hammer_checkmap_finish(&r->cm, &err);
}

static int has_code(const struct hammer_checkmap *cm, enum hammer_checkmap_code c)
{
	for (size_t i = 0; i < cm->nfindings; i++)
		if (cm->findings[i].code == c)
			return 1;
	return 0;
}

/* Device byte of zone-2 address z, as (volume, offset). */
static uint8_t *dev_byte(struct img *im, hammer_off_t z, int *vol, uint64_t *off)
{
	struct hammer_volume *v;
	struct hammer_err err = { 0 };
	if (hammer_volset_xlate(im->vs, z, 1, &v, off, &err))
		return NULL;
	*vol = v->vol_no;
	return hammer_bdev_ram_data(v->bd) + *off;
}

static int skipped(const struct hammer_checkmap *cm, int vol, uint64_t off, uint64_t len)
{
	for (size_t i = 0; i < cm->nskipped; i++)
		if (cm->skipped[i].vol_no == vol && off >= cm->skipped[i].off &&
		    off + len <= cm->skipped[i].off + cm->skipped[i].len)
			return 1;
	return 0;
}

/* Rewrite a layer-1 entry in place (host-order fields), with a good CRC. */
static void put_l1(struct img *im, uint8_t *p, struct hammer_blockmap_layer1 *l1)
{
	l1->layer1_crc = 0;
	struct hammer_blockmap_layer1 d = *l1;
	hammer_layer1_swap(&d);
	d.layer1_crc = htole32(hammer_datacrc(im->vs->version, &d, HAMMER_LAYER1_CRCSIZE));
	memcpy(p, &d, sizeof(d));
}

static void put_l2(struct img *im, uint8_t *p, struct hammer_blockmap_layer2 *l2)
{
	struct hammer_blockmap_layer2 d = *l2;
	hammer_layer2_swap(&d);
	d.entry_crc = htole32(hammer_datacrc(im->vs->version, &d, HAMMER_LAYER2_CRCSIZE));
	memcpy(p, &d, sizeof(d));
}

static void get_l1(const uint8_t *p, struct hammer_blockmap_layer1 *l1)
{
	memcpy(l1, p, sizeof(*l1));
	hammer_layer1_swap(l1);
}

static void get_l2(const uint8_t *p, struct hammer_blockmap_layer2 *l2)
{
	memcpy(l2, p, sizeof(*l2));
	hammer_layer2_swap(l2);
}

/*
 * Plant `what` at zone-2 address z (len bytes), run both recounts, undo
 * the damage.  in_skip: the place is one the reachable recount skips.
 */
struct plant {
	const char *what;
	hammer_off_t z;
	size_t len;
	void (*apply)(struct img *im, uint8_t *p);
	enum hammer_checkmap_code code;	/* what the full recount reports (0: none) */
	int unreach;			/* counted in unreachable_live */
	int in_skip;
};

static void check_plant(struct img *im, const struct plant *pl)
{
	int vol;
	uint64_t off;
	uint8_t *p = dev_byte(im, pl->z, &vol, &off);
	EXPECT(p != NULL, "%s: address %016llx", pl->what, (unsigned long long)pl->z);
	if (!p)
		return;
	uint8_t save[64];
	memcpy(save, p, pl->len);
	pl->apply(im, p);
	struct run f, r;
	run_cm(im, 0, &f);
	run_cm(im, HAMMER_CHECKMAP_REACHABLE, &r);
	EXPECT(f.rc == 0 && r.rc == 0, "%s: rc %d %d", pl->what, f.rc, r.rc);
	if (pl->code)
		EXPECT(has_code(&f.cm, pl->code), "%s: full recount misses code %s",
		       pl->what, hammer_checkmap_code_tag(pl->code));
	if (pl->unreach)
		EXPECT(f.cm.unreachable_live > 0, "%s: not counted unreachable", pl->what);
	EXPECT(pl->code || pl->unreach, "%s: plant finds nothing", pl->what);
	if (pl->in_skip) {
		EXPECT(skipped(&r.cm, vol, off, pl->len), "%s: not in a skipped range",
		       pl->what);
		EXPECT(r.cm.nfindings == 0, "%s: reachable recount read it", pl->what);
	} else {
		EXPECT(!skipped(&r.cm, vol, off, pl->len), "%s: in a skipped range",
		       pl->what);
		EXPECT(pl->code && has_code(&r.cm, pl->code), "%s: reachable recount "
		       "misses it", pl->what);
	}
	hammer_checkmap_free(&f.cm);
	hammer_checkmap_free(&r.cm);
	memcpy(p, save, pl->len);
}

static void flip_byte(struct img *im, uint8_t *p)
{
	(void)im;
	p[3] ^= 0x40;	/* inside the CRC'd part: the CRC no longer matches */
}

static hammer_off_t cur_l2;	/* volume 0's layer-2 array */

static void l1_live(struct img *im, uint8_t *p)
{
	struct hammer_blockmap_layer1 l1;
	get_l1(p, &l1);
	l1.phys_offset = cur_l2;	/* a second user of volume 0's layer-2 array */
	l1.blocks_free = 0;
	put_l1(im, p, &l1);
}

static void l2_free(struct img *im, uint8_t *p)
{
	struct hammer_blockmap_layer2 l2;
	get_l2(p, &l2);
	l2.zone = HAMMER_ZONE_FREE_INDEX;
	l2.bytes_free = HAMMER_BIGBLOCK_SIZE;
	l2.append_off = 0;
	put_l2(im, p, &l2);
}

static void one_image(int nvol, uint64_t size)
{
	struct img im;
	if (img_make(&im, nvol, size)) {
		failures++;
		return;
	}
	struct run f, r;
	run_cm(&im, 0, &f);
	run_cm(&im, HAMMER_CHECKMAP_REACHABLE, &r);
	EXPECT(f.rc == 0 && f.cm.nfindings == 0 && f.cm.bad_nodes == 0,
	       "%d vols: clean image, full recount rc %d, %zu findings", nvol, f.rc,
	       f.cm.nfindings);
	EXPECT(f.cm.unreachable_live == 0, "%d vols: unreachable_live %llu", nvol,
	       (unsigned long long)f.cm.unreachable_live);
	EXPECT(f.cm.nskipped == 0, "%d vols: full recount skipped", nvol);
	EXPECT(r.rc == 0 && r.cm.nfindings == 0, "%d vols: reachable recount rc %d, "
	       "%zu findings", nvol, r.rc, r.cm.nfindings);
	EXPECT(r.cm.nskipped > 0, "%d vols: nothing skipped", nvol);
	uint64_t total = 0;
	for (size_t i = 0; i < r.cm.nskipped; i++) {
		EXPECT(r.cm.skipped[i].vol_no >= 0, "%d vols: range %zu untranslated",
		       nvol, i);
		total += r.cm.skipped[i].len;
	}
	/* the layer-1 array and one layer-2 array per volume, minus their heads */
	EXPECT(total > (uint64_t)(nvol + 1) * (HAMMER_BIGBLOCK_SIZE - 65536),
	       "%d vols: only %llu bytes skipped", nvol, (unsigned long long)total);
	/* the same image gives the same list */
	struct run r2;
	run_cm(&im, HAMMER_CHECKMAP_REACHABLE, &r2);
	int same = r2.cm.nskipped == r.cm.nskipped;
	for (size_t i = 0; same && i < r.cm.nskipped; i++)
		same = r2.cm.skipped[i].vol_no == r.cm.skipped[i].vol_no &&
		       r2.cm.skipped[i].off == r.cm.skipped[i].off &&
		       r2.cm.skipped[i].len == r.cm.skipped[i].len;
	EXPECT(same, "%d vols: skipped list not stable", nvol);
	hammer_checkmap_free(&r2.cm);
	hammer_checkmap_free(&f.cm);
	hammer_checkmap_free(&r.cm);

	struct hammer_volume_ondisk *root = hammer_volset_root(im.vs);
	hammer_off_t fm = root->vol0_blockmap[HAMMER_ZONE_FREEMAP_INDEX].phys_offset;
	struct hammer_blockmap_layer1 l1;
	int vol;
	uint64_t off;
	get_l1(dev_byte(&im, fm, &vol, &off), &l1);
	cur_l2 = l1.phys_offset;
	/* the first layer-2 entry past the end of volume 0 (its sector, not its head) */
	uint64_t vbytes = (uint64_t)(root->vol_buf_end - root->vol_buf_beg);
	uint64_t past = (vbytes + HAMMER_BIGBLOCK_SIZE - 1) / HAMMER_BIGBLOCK_SIZE;
	past = (past + 31) / 32 * 32 + 5;
	const struct plant plants[] = {
		{ "layer-1 CRC, entry of no volume", fm + 5000 * 32, 32, flip_byte,
		  HAMMER_CM_LAYER, 0, 1 },
		{ "layer-1 entry of no volume in use", fm + 5000 * 32, 32, l1_live,
		  HAMMER_CM_L1FREE, 1, 1 },
		{ "layer-1 entry past volume 0 in use", fm + 900 * 32, 32, l1_live,
		  HAMMER_CM_L1FREE, 1, 1 },
		{ "layer-2 CRC past the volume", cur_l2 + past * 16, 16, flip_byte,
		  HAMMER_CM_LAYER, 0, 1 },
		{ "layer-2 entry past the volume free", cur_l2 + past * 16, 16, l2_free,
		  HAMMER_CM_L1FREE, 1, 1 },
		{ "layer-2 entry at the end of the array", cur_l2 + HAMMER_BIGBLOCK_SIZE - 16,
		  16, flip_byte, HAMMER_CM_LAYER, 0, 1 },
		{ "layer-1 CRC, volume 0's entry", fm, 32, flip_byte, HAMMER_CM_LAYER, 0, 0 },
		{ "layer-1 CRC, neighbour in a read sector", fm + 7 * 32, 32, flip_byte,
		  HAMMER_CM_LAYER, 0, 0 },
		{ "layer-2 CRC inside the volume", cur_l2 + 3 * 16, 16, flip_byte,
		  HAMMER_CM_LAYER, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(plants) / sizeof(plants[0]); i++)
		check_plant(&im, &plants[i]);
	hammer_volset_close(im.vs);
}

int main(void)
{
	one_image(1, 256ULL << 20);
	one_image(3, 128ULL << 20);
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
