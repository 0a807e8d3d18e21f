/*
 * fuzz_image.c - every read-only command on a real image with hostile
 * patches.
 *
 * Once per process a 48 MB volume is formatted in RAM and given a
 * three-level B-tree (records inserted through the real buffer cache and
 * allocator).  An input is one command selector byte (blockmap, show,
 * show-undo, checkmap, info: one per input keeps executions fast) and a
 * list of patches [region u8][offset u16][len u8][bytes] applied over the
 * interesting structures (header, freemap, B-tree nodes, inode/PFS data,
 * UNDO FIFO).  The command runs with its output discarded, and the patches
 * are undone.  Any crash, hang or sanitizer report is a bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/hammer.h"
#include "ref/blockmap.h"
#include "ref/btree.h"
#include "ref/btree_bufio.h"
#include "ref/buffer.h"
#include "ref/newfs.h"

#define IMG_SIZE (48ULL << 20)

static struct hammer_bdev *base;
static uint64_t regions[8][2];	/* device offset, length */
static int nregions;
static FILE *devnull;

/* A device that reads and writes `base` but does not own it. */
static int v_read(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len)
{
	(void)bd;
	return base->ops->read(base, off, buf, len);
}
static int v_write(struct hammer_bdev *bd, uint64_t off, const void *buf, size_t len)
{
	(void)bd;
	return base->ops->write(base, off, buf, len);
}
static int v_flush(struct hammer_bdev *bd)
{
	(void)bd;
	return 0;
}
static void v_close(struct hammer_bdev *bd)
{
	free(bd);
}
static const struct hammer_bdev_ops view_ops = {
	HAMMER_BDEV_VERSION, v_read, v_write, v_flush, v_close, NULL
};

static struct hammer_bdev *view(void)
{
	struct hammer_bdev *bd = calloc(1, sizeof(*bd));
	if (!bd)
		abort();
	*bd = *base;
	bd->ops = &view_ops;
	bd->ctx = NULL;
	bd->readonly = 0;
	return bd;
}

static void add_region(struct hammer_volset *vs, hammer_off_t zoneoff, uint64_t len)
{
	struct hammer_volume *vol;
	uint64_t phys;
	if (hammer_volset_xlate(vs, zoneoff, len, &vol, &phys, NULL) == 0 && nregions < 8) {
		regions[nregions][0] = phys;
		regions[nregions][1] = len;
		nregions++;
	}
}

static void setup(void)
{
	devnull = fopen("/dev/null", "w");
	if (hammer_bdev_ram_open(IMG_SIZE, "fuzz.img", &base))
		abort();
	struct hammer_newfs_opts o;
	hammer_newfs_opts_init(&o);
	o.label = "FUZZ";
	o.force = 1;
	o.undo_size = 8 << 20;
	hammer_uuid_parse("a381fb52-b407-dc4f-b4be-5c83274d03cb", &o.fsid);
	o.ctime_us = 1795306471000000ULL;
	struct hammer_newfs_result res;
	struct hammer_bdev *v = view();
	if (hammer_newfs_format(&v, 1, &o, &res, NULL))
		abort();
	hammer_bdev_close(v);

	/* grow a multi-level tree through the real stack */
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	struct hammer_bmap *bm;
	struct hammer_btree_bufio *bio;
	struct hammer_node_io io;
	struct hammer_btree t;
	v = view();
	if (hammer_volset_open_bdevs(&v, 1, 0, &vs, NULL) ||
	    hammer_bufcache_open(vs, 8 << 20, &bc) ||
	    hammer_blockmap_open(vs, bc, &bm, NULL) ||
	    hammer_btree_bufio_open(vs, bc, bm, &bio, &io))
		abort();
	hammer_btree_open(&t, &io, hammer_volset_root(vs)->vol0_btree_root);
	for (int i = 0; i < 5000; i++) {
		struct hammer_btree_leaf_elm e = { 0 };
		e.base.localization = HAMMER_LOCALIZE_MISC;
		e.base.obj_id = 2 + i / 100;
		e.base.rec_type = HAMMER_RECTYPE_DATA;
		e.base.key = (int64_t)(i % 100 + 1) * 16384;
		e.base.create_tid = 0x100000002ULL + (uint64_t)i / 1000;
		e.base.obj_type = HAMMER_OBJTYPE_REGFILE;
		if (hammer_btree_insert(&t, &e, NULL))
			abort();
	}
	hammer_blockmap_store(bm);
	struct hammer_volume_ondisk *root = hammer_volset_root(vs);
	root->vol0_btree_root = t.root;
	root->vol0_next_tid = 0x100000010ULL;
	if (hammer_bufcache_flush_kind(bc, HAMMER_BUF_META, NULL) ||
	    hammer_volset_write_header(vs, 0, NULL))
		abort();
	add_region(vs, hammer_encode(1, 0, 0), HAMMER_BUFSIZE);	/* header */
	add_region(vs, root->vol0_blockmap[HAMMER_ZONE_FREEMAP_INDEX].phys_offset, 4096);
	add_region(vs, hammer_encode(2, 0, HAMMER_BIGBLOCK_SIZE), 4096);	/* layer 2 */
	add_region(vs, t.root & ~(hammer_off_t)HAMMER_BUFMASK, HAMMER_BUFSIZE);
	add_region(vs, res.inode_data & ~(hammer_off_t)HAMMER_BUFMASK, 4096);
	add_region(vs, hammer_encode(3, 0, 0), HAMMER_BUFSIZE);	/* FIFO */
	add_region(vs, hammer_encode(8, 0, res.btree_root & HAMMER_OFF_SHORT_MASK & ~(hammer_off_t)HAMMER_BIGBLOCK_MASK64), 64 * 1024);
	hammer_btree_bufio_close(bio);
	hammer_blockmap_close(bm);
	hammer_bufcache_close(bc);
	hammer_volset_close(vs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!base)
		setup();
	if (size < 1)
		return 0;
	unsigned which = data[0];
	data++;
	size--;
	uint8_t *mem = hammer_bdev_ram_data(base);
	struct { uint64_t off; uint8_t old[255]; uint8_t len; } undo[64];
	int nundo = 0;
	size_t p = 0;
	while (p + 4 <= size && nundo < 64) {
		unsigned r = data[p] % (unsigned)nregions;
		uint64_t off = (uint64_t)(data[p + 1] | data[p + 2] << 8) % regions[r][1];
		uint8_t len = data[p + 3];
		p += 4;
		if (len > size - p)
			len = (uint8_t)(size - p);
		if (off + len > regions[r][1])
			len = (uint8_t)(regions[r][1] - off);
		uint64_t at = regions[r][0] + off;
		undo[nundo].off = at;
		undo[nundo].len = len;
		memcpy(undo[nundo].old, mem + at, len);
		memcpy(mem + at, data + p, len);
		nundo++;
		p += len;
	}
	struct hammer_bdev *v = view();
	struct hammer_volset *vs = NULL;
	struct hammer_err err = { 0 };
	if (hammer_volset_open_bdevs(&v, 1, HAMMER_VOLSET_RDONLY, &vs, &err) == 0) {
		static hammer_cmd_fn cmds[] = { cmd_blockmap, cmd_show, cmd_show_undo,
						cmd_checkmap, cmd_info };
		struct hammer_opts o = { .verbose = 1 + (which >> 7), .devs = "fuzz.img",
					 .vs = vs, .out = devnull, .err = devnull };
		char *argv[] = { "cmd", NULL };
		cmds[which % (sizeof(cmds) / sizeof(cmds[0]))](&o, 1, argv);
		hammer_volset_close(vs);
	}
	while (nundo--)
		memcpy(mem + undo[nundo].off, undo[nundo].old, undo[nundo].len);
	return 0;
}
