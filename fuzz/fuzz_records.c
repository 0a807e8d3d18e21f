/*
 * fuzz_records.c - single structures straight from hostile bytes: a B-tree
 * node through the decoder/verifier, and a FIFO record through the record
 * checker, at version 6 and 7.  The first input byte picks the structure.
 */
#include <stdint.h>
#include <string.h>

#include "ref/btree.h"
#include "ref/inspect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0];
	data++;
	size--;
	unsigned version = (sel & 2) ? 6 : 7;
	if (sel & 1) {
		uint8_t rec[HAMMER_UNDO_ALIGN] = { 0 };
		memcpy(rec, data, size < sizeof(rec) ? size : sizeof(rec));
		struct hammer_fifo_rec out;
		struct hammer_err err = { 0 };
		uint32_t avail = (uint32_t)(sizeof(rec) - (sel >> 2) % 64 * 8);
		if (hammer_fifo_rec_check(version, 0x3000000000000000ULL, rec, avail,
					  &out, &err) != 0 && !err.msg[0])
			__builtin_trap();
	} else {
		static uint8_t disk[HAMMER_BTREE_NODE_SIZE];
		memset(disk, 0, sizeof(disk));
		memcpy(disk, data, size < sizeof(disk) ? size : sizeof(disk));
		struct hammer_node_ondisk host;
		struct hammer_err err = { 0 };
		int why = 0;
		int rc = hammer_btree_node_decode(version, 0x8000000000400000ULL, disk,
						  &host, &why, &err);
		if (rc == 0) {
			/* a node that decodes must re-encode to bytes that decode */
			static uint8_t again[HAMMER_BTREE_NODE_SIZE];
			hammer_btree_node_encode(version, &host, again);
			struct hammer_node_ondisk host2;
			if (hammer_btree_node_decode(version, 0x8000000000400000ULL, again,
						     &host2, &why, &err) != 0)
				__builtin_trap();
		} else if (!err.msg[0]) {
			__builtin_trap();
		}
	}
	return 0;
}
