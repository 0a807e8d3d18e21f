/*
 * btree_bufio.h - the B-tree's node I/O over the real buffer cache and
 * blockmap allocator (zone 8).
 *
 * A node the tree pins gets a host-order copy decoded from its 4 KB inside
 * a pinned 16 KB buffer; the decode checks CRC and structure on every first
 * pin (skipping the CRC for already-verified buffers is a possible speed-up
 * through the buffer's verified bitmap, not done yet).  modify() announces the node's 4 KB to the
 * buffer cache before the tree changes the copy, so the before_modify hook
 * (UNDO) sees the old bytes; the copy is encoded back, with a fresh CRC,
 * when its last pin goes.  alloc/free go through the allocator; set_root
 * updates vol0_btree_root in the in-memory root header (the flusher writes
 * the header).
 */
#ifndef HAMMER_BTREE_BUFIO_H
#define HAMMER_BTREE_BUFIO_H

#include "blockmap.h"
#include "btree.h"
#include "buffer.h"
#include "volume.h"

struct hammer_btree_bufio;

int hammer_btree_bufio_open(struct hammer_volset *vs, struct hammer_bufcache *bc,
			    struct hammer_bmap *bm,
			    struct hammer_btree_bufio **out,
			    struct hammer_node_io *io);
/* All nodes must be unpinned (asserted). */
void hammer_btree_bufio_close(struct hammer_btree_bufio *bio);
/* Nodes pinned right now (tests check that cursors release everything). */
size_t hammer_btree_bufio_pinned(const struct hammer_btree_bufio *bio);

#endif
