/* ondisk.c - byte-order conversion of on-disk structures, zone names. */
#include "ondisk.h"

const char *hammer_zone_name(unsigned zone)
{
	static const char *const names[HAMMER_MAX_ZONES] = {
		[HAMMER_ZONE_RAW_VOLUME_INDEX] = "raw_volume",
		[HAMMER_ZONE_RAW_BUFFER_INDEX] = "raw_buffer",
		[HAMMER_ZONE_UNDO_INDEX] = "undo",
		[HAMMER_ZONE_FREEMAP_INDEX] = "freemap",
		[HAMMER_ZONE_BTREE_INDEX] = "btree",
		[HAMMER_ZONE_META_INDEX] = "meta",
		[HAMMER_ZONE_LARGE_DATA_INDEX] = "large_data",
		[HAMMER_ZONE_SMALL_DATA_INDEX] = "small_data",
		[HAMMER_ZONE_UNAVAIL_INDEX] = "unavail",
	};
	if (zone >= HAMMER_MAX_ZONES || !names[zone])
		return "";
	return names[zone];
}

void hammer_blockmap_swap(struct hammer_blockmap *b)
{
	HLE64(b->phys_offset);
	HLE64(b->first_offset);
	HLE64(b->next_offset);
	HLE64(b->alloc_offset);
	HLE32(b->reserved01);
	HLE32(b->entry_crc);
}

void hammer_volume_swap(struct hammer_volume_ondisk *v)
{
	HLE64(v->vol_signature);
	HLE64(v->vol_bot_beg);
	HLE64(v->vol_mem_beg);
	HLE64(v->vol_buf_beg);
	HLE64(v->vol_buf_end);
	HLE64(v->vol_reserved01);
	HLE32(v->vol_no);
	HLE32(v->vol_count);
	HLE32(v->vol_version);
	HLE32(v->vol_crc);
	HLE32(v->vol_flags);
	HLE32(v->vol_rootvol);
	for (int i = 0; i < 8; i++)
		HLE32(v->vol_reserved[i]);
	HLE64(v->vol0_stat_bigblocks);
	HLE64(v->vol0_stat_freebigblocks);
	HLE64(v->vol0_reserved01);
	HLE64(v->vol0_stat_inodes);
	HLE64(v->vol0_reserved02);
	HLE64(v->vol0_btree_root);
	HLE64(v->vol0_next_tid);
	HLE64(v->vol0_reserved03);
	for (int i = 0; i < HAMMER_MAX_ZONES; i++)
		hammer_blockmap_swap(&v->vol0_blockmap[i]);
	for (int i = 0; i < HAMMER_UNDO_LAYER2; i++)
		HLE64(v->vol0_undo_array[i]);
}

void hammer_layer1_swap(struct hammer_blockmap_layer1 *l1)
{
	HLE64(l1->blocks_free);
	HLE64(l1->phys_offset);
	HLE64(l1->reserved01);
	HLE32(l1->layer2_crc);
	HLE32(l1->layer1_crc);
}

void hammer_layer2_swap(struct hammer_blockmap_layer2 *l2)
{
	HLE16(l2->reserved02);
	HLE32(l2->append_off);
	HLE32(l2->bytes_free);
	HLE32(l2->entry_crc);
}

void hammer_base_elm_swap(struct hammer_base_elm *b)
{
	HLE64(b->obj_id);
	HLE64(b->key);
	HLE64(b->create_tid);
	HLE64(b->delete_tid);
	HLE16(b->rec_type);
	HLE32(b->localization);
}

void hammer_node_swap(struct hammer_node_ondisk *n)
{
	HLE32(n->crc);
	HLE32(n->reserved01);
	HLE64(n->parent);
	HLE32(n->count);
	HLE16(n->reserved03);
	HLE64(n->reserved04);
	HLE64(n->reserved05);
	HLE64(n->reserved06);
	HLE64(n->reserved07);
	HLE64(n->mirror_tid);
	/* The node type is a byte, so it reads the same in either order. */
	for (int i = 0; i < HAMMER_BTREE_MAXELMS; i++) {
		hammer_btree_elm_t *e = &n->elms[i];
		hammer_base_elm_swap(&e->base);
		if (n->type == HAMMER_BTREE_TYPE_INTERNAL) {
			HLE64(e->internal.mirror_tid);
			HLE64(e->internal.subtree_offset);
			HLE32(e->internal.reserved01);
			HLE32(e->internal.reserved02);
		} else {
			HLE32(e->leaf.create_ts);
			HLE32(e->leaf.delete_ts);
			HLE64(e->leaf.data_offset);
			HLE32(e->leaf.data_len);
			HLE32(e->leaf.data_crc);
		}
	}
}

void hammer_inode_data_swap(struct hammer_inode_data *d)
{
	HLE16(d->version);
	HLE16(d->mode);
	HLE32(d->uflags);
	HLE32(d->rmajor);
	HLE32(d->rminor);
	HLE64(d->ctime);
	HLE64(d->parent_obj_id);
	HLE16(d->reserved01);
	HLE32(d->reserved02);
	HLE64(d->nlinks);
	HLE64(d->size);
	HLE64(d->mtime);
	HLE64(d->atime);
}

void hammer_pfsd_swap(struct hammer_pseudofs_data *p)
{
	/* packed: go through locals to avoid unaligned member references */
	uint64_t a[5] = { p->sync_low_tid, p->sync_beg_tid, p->sync_end_tid,
			  p->sync_beg_ts, p->sync_end_ts };
	for (int i = 0; i < 5; i++)
		a[i] = le64toh(a[i]);
	p->sync_low_tid = a[0];
	p->sync_beg_tid = a[1];
	p->sync_end_tid = a[2];
	p->sync_beg_ts = a[3];
	p->sync_end_ts = a[4];
	p->reserved01 = (int32_t)le32toh((uint32_t)p->reserved01);
	p->mirror_flags = le32toh(p->mirror_flags);
	p->reserved02 = (int32_t)le32toh((uint32_t)p->reserved02);
	p->reserved03 = (int32_t)le32toh((uint32_t)p->reserved03);
	p->reserved04 = (int32_t)le32toh((uint32_t)p->reserved04);
	p->prune_min = (int32_t)le32toh((uint32_t)p->prune_min);
	p->prune_max = (int32_t)le32toh((uint32_t)p->prune_max);
	for (int i = 0; i < 16; i++)
		p->reserved[i] = (int32_t)le32toh((uint32_t)p->reserved[i]);
}

void hammer_fifo_head_swap(struct hammer_fifo_head *h)
{
	HLE16(h->hdr_signature);
	HLE16(h->hdr_type);
	HLE32(h->hdr_size);
	HLE32(h->hdr_seq);
	HLE32(h->hdr_crc);
}

void hammer_fifo_tail_swap(struct hammer_fifo_tail *t)
{
	HLE16(t->tail_signature);
	HLE16(t->tail_type);
	HLE32(t->tail_size);
}
