/*
 * bdev.h - the one block-device interface every layer above talks to.
 *
 * A device is a vtable plus an opaque context.  All calls return 0 or a
 * negative errno.  Offsets and lengths are in bytes and must be multiples of
 * the sector size (512); the engine reads and writes whole 16 KB buffers,
 * 4 KB nodes and 512-byte FIFO sectors.  flush() is a barrier: every write
 * completed before it is durable when it returns, and no write issued after
 * it may become durable before it.
 *
 * Backends: file (image files and block devices), RAM, and sim/ (stacked on
 * any of them).
 */
#ifndef HAMMER_BDEV_H
#define HAMMER_BDEV_H

#include <stddef.h>
#include <stdint.h>

#define HAMMER_BDEV_VERSION 1
#define HAMMER_SECTOR_SIZE 512

struct hammer_bdev;

struct hammer_bdev_ops {
	int version;	/* HAMMER_BDEV_VERSION */
	int (*read)(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len);
	int (*write)(struct hammer_bdev *bd, uint64_t off, const void *buf, size_t len);
	int (*flush)(struct hammer_bdev *bd);
	void (*close)(struct hammer_bdev *bd);	/* frees bd */
	/*
	 * Optional (NULL: ignored): [off, off + len) will be read soon; start
	 * fetching it without waiting.  A hint, so it cannot fail.
	 */
	void (*prefetch)(struct hammer_bdev *bd, uint64_t off, size_t len);
};

struct hammer_bdev {
	const struct hammer_bdev_ops *ops;
	void *ctx;
	uint64_t size;		/* bytes */
	uint32_t sector_size;
	int readonly;
	char name[256];		/* path or label, for messages */
};

/* Checked wrappers: range, alignment and read-only are enforced here. */
int hammer_bdev_read(struct hammer_bdev *bd, uint64_t off, void *buf, size_t len);
int hammer_bdev_write(struct hammer_bdev *bd, uint64_t off, const void *buf, size_t len);
int hammer_bdev_flush(struct hammer_bdev *bd);
void hammer_bdev_close(struct hammer_bdev *bd);
/* The prefetch hint, clipped to the device; nothing if it has none. */
void hammer_bdev_prefetch(struct hammer_bdev *bd, uint64_t off, size_t len);

/*
 * File backend.  Opens an image file or a block device.  Writable opens take
 * an exclusive advisory lock (flock), so a second writer gets -EBUSY.
 * On error *errmsg (if non-NULL) points to a static description.
 */
#define HAMMER_BDEV_RDONLY 0x1
#define HAMMER_BDEV_CREATE 0x2	/* create the file if missing (newfs tests) */
int hammer_bdev_file_open(const char *path, int flags,
			  struct hammer_bdev **out, const char **errmsg);

/*
 * DragonFly's bioq in front of the file backend (off by default).  When on,
 * every read, write and flush of a device opened afterwards waits in one
 * queue per device, ordered by bioqdisksort's rules (reads before held-back
 * writes, a flush closes the queue, every minor_interval-th jumping read
 * lets writes through: minor_bytes of contiguous ones, or burst_bytes of
 * any once the count reaches burst_interval while queued + running write
 * bytes exceed 2/3 of hirunningspace), and at most `depth` calls run their
 * system call at once.  It orders the calls this process makes; the page
 * cache and Linux's own block queue below are untouched, which is why it is
 * off by default (bench/README.md, "bioq on a real disk").
 * Process-wide: the daemon sets it once, from its mount options, before it
 * opens the volumes.
 */
struct hammer_bdev_bioq {
	int enable;
	uint32_t depth;			/* calls in flight at once; 1 */
	uint32_t minor_interval;	/* kern.bioq_reorder_minor_interval, 5 */
	uint32_t burst_interval;	/* kern.bioq_reorder_burst_interval, 60 */
	uint64_t minor_bytes;		/* kern.bioq_reorder_minor_bytes, 262144 */
	uint64_t burst_bytes;		/* kern.bioq_reorder_burst_bytes, 3000000 */
	uint64_t hirunningspace;	/* 16 MiB */
};
/* DragonFly's defaults, enable 0. */
void hammer_bdev_bioq_default(struct hammer_bdev_bioq *p);
/* Applies to file devices opened from now on: 0, or -EINVAL for zero depth. */
int hammer_bdev_file_set_bioq(const struct hammer_bdev_bioq *p);
struct hammer_bdev_bioq_stats {
	uint64_t reads, writes, flushes;
	uint64_t reads_jumped, minor_releases, burst_releases;
	uint64_t wait_ns[3];		/* time queued: read, write, flush */
};
/* Counters of a file device's queue; -EINVAL if it has none. */
int hammer_bdev_file_bioq_stats(struct hammer_bdev *bd, struct hammer_bdev_bioq_stats *out);

/* RAM backend: zero-filled, size rounded down to sectors. */
int hammer_bdev_ram_open(uint64_t size, const char *name, struct hammer_bdev **out);
/* Raw pointer to a RAM device's bytes (tests poke corruption through it). */
uint8_t *hammer_bdev_ram_data(struct hammer_bdev *bd);

#endif
