/*
 * buffer.h - the HAMMER buffer cache.
 *
 * Buffers are 16 KB (HAMMER_BUFSIZE) pieces of a volume set, or up to 64 KB
 * (a 16 KB multiple, "X-buffers") for large-data file blocks.  A buffer is
 * named by any zone-X address inside it; the cache key is the zone-2
 * address of its first byte, so zone 2, 4 and 8..15 aliases of the same
 * bytes share one buffer.  Zone-3 (UNDO) addresses are translated through
 * vol0_undo_array and land in the same key space.  Zone 1 (the volume
 * header) is not cached: the volume layer owns the header and the flusher
 * writes it with hammer_volset_write_header().
 *
 * Life of a buffer:
 *
 *          get (miss: read)         put (refs -> 0)
 *   (none) ---------------> PINNED -----------------> CACHED (clean: on LRU)
 *     ^                     |  ^                        |       |
 *     |     evict (clean,   |  | get (hit)              |       |
 *     +---- unpinned LRU) --+  +------------------------+       |
 *     |                     |                                   |
 *     |               modify: DIRTY (never evicted) <-----------+
 *     |                     | flush_kind(): write, clear dirty
 *     +---------------------+ (then clean; LRU once unpinned)
 *
 * Kinds (decided when the buffer is created, from the zone of the address
 * it was first named by): DATA for zone 10, UNDO for zone 3, META for
 * everything else (B-tree nodes, meta data, small data of zone 11, the
 * freemap, raw zone 2).  Small data is META because its records share
 * sectors with committed ones: rewriting such a sector needs UNDO.
 * The flusher writes the kinds in its own order (data, UNDO, header, meta).
 *
 * Memory is bounded by `limit` bytes of buffer data, plus at most 8
 * dropped buffers of each size (16 to 64 KB, 1.25 MB in all) kept for
 * reuse.  A miss that would go over it first evicts clean unpinned
 * buffers, least recently used first.
 * Dirty and pinned buffers are never evicted; when nothing else can go the
 * get fails with -ENOBUFS, which means "flush, put, and try again" (it is
 * not a malloc failure, which is -ENOMEM).  The hash table grows with the
 * number of cached buffers, never with the size of the file system.
 *
 * Only the 512-byte sectors a modify() announced are written back: a
 * sector nobody changed is never rewritten, so a write torn or garbled by
 * a crash can only damage bytes that UNDO (or the FIFO sequence) covers.
 * Callers must therefore announce every byte they change.
 *
 * Modification: call hammer_buffer_modify() before changing bytes.  For
 * META buffers it first hands the old bytes to the registered
 * before_modify hook (the future UNDO logger); if the hook fails nothing is
 * marked and the caller must not change the bytes.  DATA and UNDO buffers
 * need no UNDO (data never overwrites live blocks; the FIFO is the log).
 * The hook is called without any cache lock held, so it may use the cache.
 *
 * CRC checks are the caller's: every buffer carries a bitmap of verified
 * 1 KB granules, cleared whenever contents come from the device, so a
 * structure (a 4 KB B-tree node, say) is checked once per load.
 *
 * Thread safety: the cache's own structures are guarded by one mutex, held
 * across device reads and writes (simple, not concurrent); the bytes of a
 * buffer are the caller's to serialise.
 */
#ifndef HAMMER_BUFFER_H
#define HAMMER_BUFFER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ondisk.h"
#include "volume.h"

enum hammer_buf_kind {
	HAMMER_BUF_META = 0,
	HAMMER_BUF_UNDO = 1,
	HAMMER_BUF_DATA = 2,
};
#define HAMMER_BUF_KINDS 3

#define HAMMER_BUF_GRANULE	1024	/* one verified bit covers this much */
#define HAMMER_BUFCACHE_MIN	(4 * HAMMER_BUFSIZE)	/* smallest limit */
#define HAMMER_BUFCACHE_DEFAULT	(64ULL * 1024 * 1024)

struct hammer_buffer_hooks {
	/*
	 * Called before bytes [zone2, zone2 + len) of a META buffer change;
	 * `old` holds their current contents.  Return 0 or a negative errno
	 * (which vetoes the change).
	 */
	int (*before_modify)(void *ctx, hammer_off_t zone2, const void *old,
			     size_t len);
	void *ctx;
};

struct hammer_buffer {
	hammer_off_t zone2;		/* key: zone-2 address of data[0] */
	uint32_t size;			/* 16 KB, or up to 64 KB for DATA */
	enum hammer_buf_kind kind;
	int refs;
	int dirty;
	uint64_t dsec[2];		/* dirty 512-byte sectors (bit i: sector i) */
	uint64_t verified;		/* bit i: granule i checked since load */
	uint8_t *data;
	/* private to buffer.c */
	struct hammer_buffer *hnext;
	struct hammer_buffer *lprev, *lnext;	/* LRU or dirty list */
};

struct hammer_bufcache_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t reads;		/* device reads (one per miss that reads) */
	uint64_t writes;	/* device writes of dirty buffers */
	uint64_t evictions;
	uint64_t nbuffers;	/* buffers in the cache now */
	uint64_t bytes;		/* their data bytes */
	uint64_t peak_bytes;
	uint64_t dirty_bytes[HAMMER_BUF_KINDS];
	uint64_t pinned;	/* buffers with refs > 0 */
};

struct hammer_bufcache;

/* limit: bytes of buffer data, at least HAMMER_BUFCACHE_MIN (else -EINVAL). */
int hammer_bufcache_open(struct hammer_volset *vs, uint64_t limit,
			 struct hammer_bufcache **out);
/*
 * Frees everything.  Dirty contents are dropped: flush first.  Buffers
 * still pinned are a programmer error (asserted).
 */
void hammer_bufcache_close(struct hammer_bufcache *bc);
void hammer_bufcache_set_hooks(struct hammer_bufcache *bc,
			       const struct hammer_buffer_hooks *hooks);
/* Change the limit; shrinks by evicting clean buffers (-ENOBUFS if it can't). */
int hammer_bufcache_set_limit(struct hammer_bufcache *bc, uint64_t limit);
void hammer_bufcache_stats(struct hammer_bufcache *bc,
			   struct hammer_bufcache_stats *st);
struct hammer_volset *hammer_bufcache_volset(struct hammer_bufcache *bc);

/*
 * Pin the buffer holding [addr, addr + len) and return a pointer to addr
 * inside it.  len <= 16 KB uses the 16 KB buffer around addr; a longer len
 * (zone 10 only, addr 16 KB aligned, len <= 64 KB, not crossing a
 * big-block) uses an X-buffer of len rounded up to 16 KB.  A request that
 * overlaps a cached buffer of another extent drops that buffer if it is
 * clean and unpinned, else fails with -EBUSY.
 * flags: HAMMER_BUF_NEW skips the device read of a missing buffer and
 * zero-fills it instead (freshly allocated space).
 * Errors: -EINVAL bad request, -EUCLEAN address outside every volume,
 * -ENOBUFS cache full of dirty/pinned buffers, -EBUSY, -ENOMEM, I/O.
 */
#define HAMMER_BUF_NEW	0x1
/* With NEW: leave a missing buffer's bytes undefined (the caller sets all). */
#define HAMMER_BUF_UNINIT	0x2
int hammer_buffer_get(struct hammer_bufcache *bc, hammer_off_t addr,
		      size_t len, int flags, struct hammer_buffer **bufp,
		      void **datap, struct hammer_err *err);
/*
 * A hint that the data at zone-X [addr, addr + len) will be read soon:
 * the device starts fetching whatever of it is not cached.  Bad addresses
 * are ignored (the read that follows reports them).
 */
void hammer_bufcache_prefetch(struct hammer_bufcache *bc, hammer_off_t addr,
			      size_t len);
/*
 * Read large data at zone-10 [addr, addr + len) (16 KB aligned, whole
 * 16 KB units, inside one big-block) straight into dst, past the cache, when
 * no cached buffer overlaps it: a sequential read of a large file would
 * otherwise copy every block twice and push everything else out.
 * -EAGAIN when a buffer overlaps (read through hammer_buffer_get instead,
 * it may hold newer bytes), -EINVAL for a request of another shape, or
 * the read error.  The caller checks the CRC.  The caller must keep
 * buffers of that range from appearing meanwhile (the engine's lock).
 */
int hammer_bufcache_read_direct(struct hammer_bufcache *bc, hammer_off_t addr,
				size_t len, void *dst, struct hammer_err *err);
/* Unpin. */
void hammer_buffer_put(struct hammer_bufcache *bc, struct hammer_buffer *b);
/* Pointer to the byte of zone-X address addr (which must lie in b). */
void *hammer_buffer_ptr(struct hammer_buffer *b, hammer_off_t addr);

/*
 * Announce a change of [p, p + len) (p inside b->data): calls the hook
 * for META buffers, then marks the buffer dirty.  The caller must hold a
 * reference.  Returns the hook's error unchanged, with nothing marked.
 */
int hammer_buffer_modify(struct hammer_bufcache *bc, struct hammer_buffer *b,
			 const void *p, size_t len);

/* Verified-granule bitmap over [p, p + len) of b->data. */
int hammer_buffer_is_verified(const struct hammer_buffer *b, const void *p,
			      size_t len);
void hammer_buffer_set_verified(struct hammer_buffer *b, const void *p,
				size_t len);

/*
 * Write-back.  Calls cb for every dirty buffer of `kind`, in increasing
 * zone-2 order, with the buffer pinned; stops at the first non-zero
 * return and returns it.  Dirty state is left alone.
 */
int hammer_bufcache_foreach_dirty(struct hammer_bufcache *bc,
				  enum hammer_buf_kind kind,
				  int (*cb)(void *ctx, struct hammer_buffer *b),
				  void *ctx);
/*
 * Write every dirty buffer of `kind` in increasing zone-2 order and clear
 * its dirty state.  On an I/O error the failing buffer and all later ones
 * stay dirty and the error is returned.  No device flush (barrier) is
 * issued: that is the caller's, through hammer_volset_flush().
 */
int hammer_bufcache_flush_kind(struct hammer_bufcache *bc,
			       enum hammer_buf_kind kind, struct hammer_err *err);

/*
 * Forget every cached buffer inside zone-2 range [zone2, zone2 + len)
 * (16 KB aligned), dropping dirty contents: used when a freed big-block
 * becomes reusable.  -EBUSY (and nothing dropped) if one is pinned.
 */
int hammer_bufcache_invalidate(struct hammer_bufcache *bc, hammer_off_t zone2,
			       uint64_t len);

/* Zone-2 address of a zone-X address, as the cache keys it. */
int hammer_bufcache_zone2(struct hammer_bufcache *bc, hammer_off_t addr,
			  size_t len, hammer_off_t *zone2,
			  struct hammer_err *err);

#endif
