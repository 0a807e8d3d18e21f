/*
 * fuzz_volume.c - volume-set opening from hostile headers.
 *
 * The input is split into up to four volume headers (16 KB each, shorter
 * inputs are zero-padded) placed on RAM devices whose sizes come from the
 * input too, so numbering, fsid, count and area checks all get exercised.
 * Opening must either succeed with consistent state or fail with a message.
 */
#include <stdint.h>
#include <string.h>

#include "ref/bdev.h"
#include "ref/volume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int n = 1 + data[0] % 4;
	data++;
	size--;
	struct hammer_bdev *bds[4];
	for (int i = 0; i < n; i++) {
		/* device size from the header's own vol_buf_end, often honest */
		uint64_t dev = 4ULL << 20;
		size_t off = (size_t)i * HAMMER_BUFSIZE;
		if (off + 40 <= size) {
			uint64_t end;
			memcpy(&end, data + off + 32, 8);
			end = le64toh(end);
			if (end >= HAMMER_BUFSIZE && end <= (64ULL << 20))
				dev = end;
		}
		if (hammer_bdev_ram_open(dev, "fuzz", &bds[i]) != 0) {
			for (int k = 0; k < i; k++)
				hammer_bdev_close(bds[k]);
			return 0;
		}
		uint8_t *mem = hammer_bdev_ram_data(bds[i]);
		if (off < size) {
			size_t len = size - off < HAMMER_BUFSIZE ? size - off : HAMMER_BUFSIZE;
			memcpy(mem, data + off, len);
		}
	}
	struct hammer_volset *vs = NULL;
	struct hammer_err err = { 0 };
	int rc = hammer_volset_open_bdevs(bds, n, HAMMER_VOLSET_RDONLY, &vs, &err);
	if (rc == 0) {
		/* exercise translation of every blockmap address the header holds */
		struct hammer_volume_ondisk *root = hammer_volset_root(vs);
		uint8_t buf[512];
		for (int z = 0; z < HAMMER_MAX_ZONES; z++) {
			struct hammer_err e2 = { 0 };
			hammer_volset_read(vs, root->vol0_blockmap[z].phys_offset, buf,
					   sizeof(buf), &e2);
			hammer_volset_read(vs, root->vol0_blockmap[z].next_offset, buf,
					   sizeof(buf), &e2);
		}
		struct hammer_err e3 = { 0 };
		hammer_volset_read(vs, root->vol0_btree_root, buf, 64, &e3);
		hammer_volset_close(vs);
	} else if (err.msg[0] == '\0') {
		__builtin_trap();	/* every refusal must say why */
	}
	return 0;
}
