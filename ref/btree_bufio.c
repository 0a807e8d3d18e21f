/* btree_bufio.c - B-tree node I/O over the buffer cache and allocator. */
#include "btree_bufio.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct bnode {
	struct hammer_node n;
	struct hammer_node_ondisk host;
	struct hammer_buffer *buf;
	void *disk;		/* the node's 4 KB inside buf */
	int refs;
	int dirty;
	struct bnode *next;	/* hash chain */
};

struct hammer_btree_bufio {
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	struct hammer_bmap *bm;
	struct bnode **hash;
	size_t nhash;
	size_t pinned;
};

static size_t slot(const struct hammer_btree_bufio *bio, hammer_off_t off)
{
	uint64_t h = (off >> 12) * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 32) & (bio->nhash - 1);
}

static struct bnode *find(struct hammer_btree_bufio *bio, hammer_off_t off)
{
	for (struct bnode *b = bio->hash[slot(bio, off)]; b; b = b->next)
		if (b->n.offset == off)
			return b;
	return NULL;
}

static void unlink_node(struct hammer_btree_bufio *bio, struct bnode *b)
{
	struct bnode **pp = &bio->hash[slot(bio, b->n.offset)];
	while (*pp != b)
		pp = &(*pp)->next;
	*pp = b->next;
}

static int pin_buffer(struct hammer_btree_bufio *bio, hammer_off_t off,
		      struct bnode *b, struct hammer_err *err)
{
	void *data;
	int rc = hammer_buffer_get(bio->bc, off, HAMMER_BTREE_NODE_SIZE, 0,
				   &b->buf, &data, err);
	if (rc)
		return rc;
	b->disk = data;
	return 0;
}

static int io_get(void *ctx, hammer_off_t off, struct hammer_node **np,
		  int *why, struct hammer_err *err)
{
	struct hammer_btree_bufio *bio = ctx;
	struct bnode *b = find(bio, off);
	if (b) {
		b->refs++;
		*np = &b->n;
		return 0;
	}
	if (!hammer_btree_off_ok(off)) {
		if (why)
			*why = HAMMER_CHK_BTREE_SUBTREE_ADDR;
		return HAMMER_CORRUPT(err, off, "B-tree node address %016llx is not "
				      "a 4 KB aligned zone-8 address",
				      (unsigned long long)off);
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return HAMMER_ERR(err, -ENOMEM, off, "out of memory");
	int rc = pin_buffer(bio, off, b, err);
	if (rc) {
		free(b);
		return rc;
	}
	rc = hammer_btree_node_decode(bio->vs->version, off, b->disk, &b->host,
				      why, err);
	if (rc) {
		hammer_buffer_put(bio->bc, b->buf);
		free(b);
		return rc;
	}
	b->n.offset = off;
	b->n.ondisk = &b->host;
	b->refs = 1;
	size_t s = slot(bio, off);
	b->next = bio->hash[s];
	bio->hash[s] = b;
	bio->pinned++;
	*np = &b->n;
	return 0;
}

static void io_put(void *ctx, struct hammer_node *n)
{
	struct hammer_btree_bufio *bio = ctx;
	struct bnode *b = (struct bnode *)n;
	assert(b->refs > 0);
	if (--b->refs > 0)
		return;
	if (b->dirty)
		hammer_btree_node_encode(bio->vs->version, &b->host, b->disk);
	hammer_buffer_put(bio->bc, b->buf);
	unlink_node(bio, b);
	bio->pinned--;
	free(b);
}

static int io_modify(void *ctx, struct hammer_node *n, struct hammer_err *err)
{
	struct hammer_btree_bufio *bio = ctx;
	struct bnode *b = (struct bnode *)n;
	if (b->dirty)
		return 0;	/* the old bytes were announced already */
	int rc = hammer_buffer_modify(bio->bc, b->buf, b->disk,
				      HAMMER_BTREE_NODE_SIZE);
	if (rc)
		return HAMMER_ERR(err, rc, n->offset, "cannot modify B-tree node "
				  "%016llx", (unsigned long long)n->offset);
	b->dirty = 1;
	return 0;
}

static int io_alloc(void *ctx, struct hammer_node **np, struct hammer_err *err)
{
	struct hammer_btree_bufio *bio = ctx;
	hammer_off_t off;
	int rc = hammer_blockmap_alloc(bio->bm, HAMMER_ZONE_BTREE_INDEX,
				       HAMMER_BTREE_NODE_SIZE, &off, err);
	if (rc)
		return rc;
	struct bnode *b = calloc(1, sizeof(*b));
	if (!b) {
		hammer_blockmap_free(bio->bm, off, HAMMER_BTREE_NODE_SIZE, NULL);
		return HAMMER_ERR(err, -ENOMEM, off, "out of memory");
	}
	rc = pin_buffer(bio, off, b, err);
	if (!rc)
		rc = hammer_buffer_modify(bio->bc, b->buf, b->disk,
					  HAMMER_BTREE_NODE_SIZE);
	if (rc) {
		if (b->buf)
			hammer_buffer_put(bio->bc, b->buf);
		free(b);
		hammer_blockmap_free(bio->bm, off, HAMMER_BTREE_NODE_SIZE, NULL);
		return rc;
	}
	b->n.offset = off;
	b->n.ondisk = &b->host;
	b->refs = 1;
	b->dirty = 1;
	size_t s = slot(bio, off);
	b->next = bio->hash[s];
	bio->hash[s] = b;
	bio->pinned++;
	*np = &b->n;
	return 0;
}

static int io_free(void *ctx, struct hammer_node *n, struct hammer_err *err)
{
	struct hammer_btree_bufio *bio = ctx;
	struct bnode *b = (struct bnode *)n;
	hammer_off_t off = n->offset;
	b->host.type = HAMMER_BTREE_TYPE_DELETED;
	b->dirty = 1;
	io_put(ctx, n);
	return hammer_blockmap_free(bio->bm, off, HAMMER_BTREE_NODE_SIZE, err);
}

static int io_set_root(void *ctx, hammer_off_t new_root, struct hammer_err *err)
{
	struct hammer_btree_bufio *bio = ctx;
	(void)err;
	hammer_volset_root(bio->vs)->vol0_btree_root = new_root;
	return 0;
}

static const struct hammer_node_io_ops bufio_ops = {
	.version = HAMMER_NODE_IO_VERSION,
	.get = io_get,
	.put = io_put,
	.modify = io_modify,
	.alloc = io_alloc,
	.free = io_free,
	.set_root = io_set_root,
};

int hammer_btree_bufio_open(struct hammer_volset *vs, struct hammer_bufcache *bc,
			    struct hammer_bmap *bm,
			    struct hammer_btree_bufio **out,
			    struct hammer_node_io *io)
{
	struct hammer_btree_bufio *bio = calloc(1, sizeof(*bio));
	if (!bio)
		return -ENOMEM;
	bio->nhash = 256;
	bio->hash = calloc(bio->nhash, sizeof(*bio->hash));
	if (!bio->hash) {
		free(bio);
		return -ENOMEM;
	}
	bio->vs = vs;
	bio->bc = bc;
	bio->bm = bm;
	io->ops = &bufio_ops;
	io->ctx = bio;
	io->version = vs->version;
	*out = bio;
	return 0;
}

void hammer_btree_bufio_close(struct hammer_btree_bufio *bio)
{
	if (!bio)
		return;
	assert(bio->pinned == 0);
	free(bio->hash);
	free(bio);
}

size_t hammer_btree_bufio_pinned(const struct hammer_btree_bufio *bio)
{
	return bio->pinned;
}
