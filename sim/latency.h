/*
 * latency.h - device latency models in virtual time, and the bioq scheduler.
 *
 * Nothing here sleeps or reads a clock: time is a uint64_t of nanoseconds
 * that the caller and the scheduler advance.  Same inputs, same times.
 *
 * HDD model (sim_hdd_params).  A single actuator; one request at a time.
 *   geometry   track_bytes per track, `heads` tracks per cylinder, LBA order
 *              track by track (no zones: one media rate).
 *   seek       HPL / Ruemmler-Wilkes form over cylinder distance d > 0:
 *              seek_a + seek_b*sqrt(d) for d < seek_boundary, otherwise
 *              seek_c + seek_e*d; plus read or write settle.  Same cylinder,
 *              other head: head_switch.
 *   rotation   exact: the platter angle is (time mod revolution), a byte at
 *              track offset x passes under the head at x/track_bytes of the
 *              revolution, so back-to-back sequential transfers need no wait
 *              and a late one waits almost a whole turn.
 *   transfer   len / media rate (track skew hides head switches inside it).
 *   track buffer  after a read the drive keeps reading ahead track_buffer
 *              bytes at media rate; a later read that lies inside them is
 *              served from the buffer at iface_rate once the bytes are in,
 *              and pushes the read-ahead window on (sequential streaming).
 *              Any write empties the buffer.  There is no write-back cache.
 *   flush      flush_ns (nothing is cached, so nothing to destage).
 *
 * SSD model (sim_ssd_params).  The range is cut into pages; page p is served
 * by channel p % channels.  A read occupies its channel read_ns, then the
 * shared bus page/bus_rate; a write takes the bus first, then its channel
 * program_ns * write_amp_pct / 100 (100 = no amplification).  Requests in
 * flight at once overlap across channels.  A flush waits for every channel
 * and the bus to drain, plus flush_ns.
 *
 * Scheduler (sim_sched).  Requests wait in a queue in front of the model;
 * at most `depth` are in flight.  Policies: FIFO, and DragonFly's bioq
 * (bioqdisksort) with its four tunables:
 *   - a flush or an ordered request goes to the tail and closes the queue
 *     behind it: nothing queued later passes it;
 *   - a write goes to the tail; the first write after a barrier (or into an
 *     empty write region) becomes the "transition" point;
 *   - a read goes just before the transition point (ahead of held-back
 *     writes, behind earlier reads) and counts as a jump; every
 *     minor_interval-th jump releases held-back writes: up to minor_bytes of
 *     physically contiguous writes, or, once the jump count reaches
 *     burst_interval while queued+running write bytes are at least 2/3 of
 *     hirunningspace, up to burst_bytes of any writes.  At least one write
 *     is always released, and the walk ends with the first write larger
 *     than what is left of the budget, that write included (also when the
 *     budget was used up to the byte: a budget of 0 left still takes one).  The jump count resets
 *     after a release at or past burst_interval.
 *   - with no transition point a read joins the tail in FIFO order.
 * Flushes and ordered requests are dispatched alone: they wait for the
 * device to go idle, and nothing is dispatched until they complete.
 */
#ifndef HAMMER_SIM_LATENCY_H
#define HAMMER_SIM_LATENCY_H

#include <stddef.h>
#include <stdint.h>

enum sim_op { SIM_OP_READ, SIM_OP_WRITE, SIM_OP_FLUSH, SIM_OPS };

struct sim_hdd_params {
	uint64_t capacity;		/* bytes */
	uint32_t rpm;
	uint32_t heads;			/* tracks per cylinder */
	uint64_t track_bytes;		/* media rate = track_bytes per revolution */
	uint32_t seek_boundary;		/* cylinders: short vs long seek formula */
	uint64_t seek_a_ns, seek_b_ns;	/* short: a + b*sqrt(d) */
	uint64_t seek_c_ns;		/* long: c + e*d, e in ns per 1000 cylinders */
	uint64_t seek_e_ns_per_kcyl;
	uint64_t read_settle_ns, write_settle_ns, head_switch_ns;
	uint64_t cmd_overhead_ns;	/* per request, before positioning */
	uint64_t track_buffer;		/* read-ahead bytes; 0 = none */
	uint64_t iface_rate;		/* bytes/s out of the buffer */
	uint64_t flush_ns;
};

struct sim_ssd_params {
	uint32_t page;			/* bytes */
	uint32_t channels;
	uint64_t read_ns, program_ns;	/* per page on its channel */
	uint64_t bus_rate;		/* bytes/s shared by all channels */
	uint32_t write_amp_pct;		/* 100 = none; 300 = every program costs 3 */
	uint64_t cmd_overhead_ns;
	uint64_t flush_ns;
};

/* 7200 rpm, 1.25 MB tracks (150 MB/s), 10 heads, 2 TB, ~13 ms full stroke. */
void sim_hdd_default(struct sim_hdd_params *p);
/* 4 KB pages, 8 channels, 80 us read, 200 us program, 500 MB/s bus (assumed figures). */
void sim_ssd_default(struct sim_ssd_params *p);

struct sim_lat;
int sim_lat_hdd(const struct sim_hdd_params *p, struct sim_lat **out);
int sim_lat_ssd(const struct sim_ssd_params *p, struct sim_lat **out);
void sim_lat_close(struct sim_lat *m);

/*
 * Serves one request that reaches the device at `now`; returns its
 * completion time (>= now).  The model remembers where the head and the
 * channels are, so call it in the order requests reach the device.
 */
uint64_t sim_lat_service(struct sim_lat *m, uint64_t now, enum sim_op op,
			 uint64_t off, uint64_t len);
/* The model and its parameters in one line (for benchmark reports). */
int sim_lat_describe(const struct sim_lat *m, char *buf, size_t len);
/* Seek time alone for a distance in cylinders (HDD; 0 for SSD). */
uint64_t sim_hdd_seek_ns(const struct sim_lat *m, uint64_t cylinders, int write);

struct sim_lat_counters {
	uint64_t ops[SIM_OPS], bytes[SIM_OPS];
	uint64_t busy_ns[SIM_OPS];	/* completion minus arrival at the device */
	uint64_t seeks, seek_ns, rotate_ns, transfer_ns, buffer_hits;
};
void sim_lat_counters(const struct sim_lat *m, struct sim_lat_counters *out);

/* ------------------------------------------------------------ scheduler */

enum sim_policy { SIM_SCHED_FIFO, SIM_SCHED_BIOQ };

struct sim_bioq_params {
	uint32_t minor_interval;	/* kern.bioq_reorder_minor_interval, 5; 0 = never release */
	uint32_t burst_interval;	/* kern.bioq_reorder_burst_interval, 60 */
	uint64_t minor_bytes;		/* kern.bioq_reorder_minor_bytes, 262144 */
	uint64_t burst_bytes;		/* kern.bioq_reorder_burst_bytes, 3000000 */
	uint64_t hirunningspace;	/* bytes; severe at 2/3 of it; 16 MB */
};

struct sim_sched_params {
	enum sim_policy policy;
	uint32_t depth;			/* requests in flight at once, >= 1 */
	struct sim_bioq_params bioq;
};
void sim_sched_default(struct sim_sched_params *p);	/* bioq, depth 1, DragonFly defaults */

/* Caller-owned; must stay valid until it completes. */
struct sim_req {
	enum sim_op op;
	int ordered;			/* B_ORDERED: a barrier for the queue */
	uint64_t off, len;
	uint64_t tag;			/* caller's */
	uint64_t submit_ns, start_ns, done_ns;	/* filled in by the scheduler */
	struct sim_req *q_prev, *q_next;	/* private */
};

struct sim_sched_counters {
	uint64_t submitted[SIM_OPS], completed[SIM_OPS];
	uint64_t wait_ns[SIM_OPS];	/* queue time (start - submit) */
	uint64_t latency_ns[SIM_OPS];	/* done - submit */
	uint64_t max_latency_ns[SIM_OPS];
	uint64_t reads_jumped;		/* reads placed ahead of held-back writes */
	uint64_t minor_releases, burst_releases, writes_released;
	uint32_t max_depth;		/* queued + in flight */
	uint64_t depth_area;		/* integral of depth over time (depth x ns) */
	uint64_t busy_ns;		/* time with something in flight */
};

struct sim_sched;
typedef void (*sim_done_fn)(void *ctx, struct sim_req *r);

int sim_sched_open(const struct sim_sched_params *p, struct sim_lat *model,
		   struct sim_sched **out);
void sim_sched_close(struct sim_sched *s);
/* Completion callback; it may submit new requests at the completion time. */
void sim_sched_on_done(struct sim_sched *s, sim_done_fn fn, void *ctx);
/* Runs the device up to `at`, then queues r at `at` (-EINVAL if at < now). */
int sim_sched_submit(struct sim_sched *s, struct sim_req *r, uint64_t at);
/* Runs completions and dispatches up to `until`; the clock ends at `until`. */
int sim_sched_advance(struct sim_sched *s, uint64_t until);
/* Runs until the queue and the device are empty. */
int sim_sched_drain(struct sim_sched *s);
uint64_t sim_sched_now(const struct sim_sched *s);
/* When the earliest in-flight request completes; UINT64_MAX if none is in flight. */
uint64_t sim_sched_next_done(const struct sim_sched *s);
uint32_t sim_sched_queued(const struct sim_sched *s);
void sim_sched_counters(const struct sim_sched *s, struct sim_sched_counters *out);
/* The queue, head first, as request pointers (for tests); returns the count. */
uint32_t sim_sched_peek(const struct sim_sched *s, struct sim_req **out, uint32_t max);

#endif
