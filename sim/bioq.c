/* bioq.c - a queue in front of a latency model: FIFO or DragonFly's bioq. */
#include "sim/latency.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 256

struct sim_sched {
	struct sim_sched_params p;
	struct sim_lat *model;
	sim_done_fn done_fn;
	void *done_ctx;
	uint64_t now;
	/* queue: doubly linked through q_prev/q_next */
	struct sim_req *head, *tail, *transition;
	uint32_t queued;
	uint32_t reorder;	/* reads that jumped writes since the last reset */
	uint64_t running_write_bytes;	/* runningbufspace: queued + in-flight writes */
	struct sim_req *inflight[MAX_DEPTH];
	uint32_t ninflight;
	int barrier_inflight;
	uint64_t last_change;	/* for the depth integral */
	int in_callback;
	struct sim_sched_counters c;
};

void sim_sched_default(struct sim_sched_params *p)
{
	memset(p, 0, sizeof(*p));
	p->policy = SIM_SCHED_BIOQ;
	p->depth = 1;
	p->bioq.minor_interval = 5;
	p->bioq.burst_interval = 60;
	p->bioq.minor_bytes = 262144;
	p->bioq.burst_bytes = 3000000;
	p->bioq.hirunningspace = 16u << 20;
}

int sim_sched_open(const struct sim_sched_params *p, struct sim_lat *model,
		   struct sim_sched **out)
{
	*out = NULL;
	if (!model || p->depth < 1 || p->depth > MAX_DEPTH ||
	    (p->policy != SIM_SCHED_FIFO && p->policy != SIM_SCHED_BIOQ))
		return -EINVAL;
	struct sim_sched *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->p = *p;
	s->model = model;
	*out = s;
	return 0;
}

void sim_sched_close(struct sim_sched *s)
{
	free(s);
}

void sim_sched_on_done(struct sim_sched *s, sim_done_fn fn, void *ctx)
{
	s->done_fn = fn;
	s->done_ctx = ctx;
}

uint64_t sim_sched_now(const struct sim_sched *s)
{
	return s->now;
}

uint64_t sim_sched_next_done(const struct sim_sched *s)
{
	uint64_t t = UINT64_MAX;
	for (uint32_t i = 0; i < s->ninflight; i++)
		if (s->inflight[i]->done_ns < t)
			t = s->inflight[i]->done_ns;
	return t;
}

uint32_t sim_sched_queued(const struct sim_sched *s)
{
	return s->queued;
}

void sim_sched_counters(const struct sim_sched *s, struct sim_sched_counters *out)
{
	*out = s->c;
}

uint32_t sim_sched_peek(const struct sim_sched *s, struct sim_req **out, uint32_t max)
{
	uint32_t n = 0;
	for (struct sim_req *r = s->head; r && n < max; r = r->q_next)
		out[n++] = r;
	return n;
}

/* Time passes: account the depth integral up to t. */
static void clock_to(struct sim_sched *s, uint64_t t)
{
	if (t <= s->now)
		return;
	uint64_t dt = t - s->now;
	s->c.depth_area += (uint64_t)(s->queued + s->ninflight) * dt;
	if (s->ninflight)
		s->c.busy_ns += dt;
	s->now = t;
}

static void depth_changed(struct sim_sched *s)
{
	uint32_t d = s->queued + s->ninflight;
	if (d > s->c.max_depth)
		s->c.max_depth = d;
}

/* ------------------------------------------------------------ the queue */

static void q_insert_before(struct sim_sched *s, struct sim_req *r, struct sim_req *at)
{
	r->q_next = at;
	r->q_prev = at ? at->q_prev : s->tail;
	if (r->q_prev)
		r->q_prev->q_next = r;
	else
		s->head = r;
	if (at)
		at->q_prev = r;
	else
		s->tail = r;
	s->queued++;
}

static void q_remove(struct sim_sched *s, struct sim_req *r)
{
	if (s->transition == r)
		s->transition = r->q_next;	/* the transition point walks with the drain */
	if (r->q_prev)
		r->q_prev->q_next = r->q_next;
	else
		s->head = r->q_next;
	if (r->q_next)
		r->q_next->q_prev = r->q_prev;
	else
		s->tail = r->q_prev;
	r->q_prev = r->q_next = NULL;
	s->queued--;
}

/* Lets held-back writes from the transition point join the dispatch-first region. */
static void bioq_write_reorder(struct sim_sched *s)
{
	const struct sim_bioq_params *b = &s->p.bioq;
	int severe = s->running_write_bytes * 6 >= b->hirunningspace * 4;
	uint64_t left;
	int contiguous;
	if (s->reorder < b->burst_interval || !severe) {
		left = b->minor_bytes;
		contiguous = 1;
		s->c.minor_releases++;
	} else {
		left = b->burst_bytes;
		contiguous = 0;
		s->c.burst_releases++;
	}
	struct sim_req *r = s->transition;
	uint64_t next_off = r ? r->off : 0;
	/*
	 * No stop at a budget of exactly zero: like DragonFly, the write after
	 * a budget used up to the byte still goes (left < len ends the walk
	 * only after that write is taken).
	 */
	while (r && r->op == SIM_OP_WRITE) {
		if (contiguous && r->off != next_off)
			break;
		next_off = r->off + r->len;
		s->transition = r->q_next;
		s->c.writes_released++;
		if (r->len > left)
			break;	/* the write that overflows the budget still goes */
		left -= r->len;
		r = s->transition;
	}
}

static void bioq_insert(struct sim_sched *s, struct sim_req *r)
{
	const struct sim_bioq_params *b = &s->p.bioq;
	if (r->ordered || r->op == SIM_OP_FLUSH) {
		s->transition = NULL;	/* fixes everything before it in place */
		q_insert_before(s, r, NULL);
		return;
	}
	if (r->op == SIM_OP_WRITE) {
		q_insert_before(s, r, NULL);
		if (!s->transition)
			s->transition = r;
		return;
	}
	if (!s->transition) {
		q_insert_before(s, r, NULL);
		return;
	}
	q_insert_before(s, r, s->transition);
	s->reorder++;
	s->c.reads_jumped++;
	if (b->minor_interval && s->reorder % b->minor_interval == 0) {
		bioq_write_reorder(s);
		if (s->reorder >= b->burst_interval)
			s->reorder = 0;
	}
}

/* ------------------------------------------------------------ the device */

static void dispatch(struct sim_sched *s)
{
	while (s->head && s->ninflight < s->p.depth && !s->barrier_inflight) {
		struct sim_req *r = s->head;
		int barrier = r->ordered || r->op == SIM_OP_FLUSH;
		if (barrier && s->ninflight)
			return;	/* a barrier waits for the device to go idle */
		q_remove(s, r);
		r->start_ns = s->now;
		r->done_ns = sim_lat_service(s->model, s->now, r->op, r->off, r->len);
		s->inflight[s->ninflight++] = r;
		s->barrier_inflight = barrier;
	}
}

/* Completes the earliest in-flight request if it is done by `until`. */
static int complete_one(struct sim_sched *s, uint64_t until)
{
	if (!s->ninflight)
		return 0;
	uint32_t best = 0;
	for (uint32_t i = 1; i < s->ninflight; i++)
		if (s->inflight[i]->done_ns < s->inflight[best]->done_ns)
			best = i;	/* ties: dispatch order */
	struct sim_req *r = s->inflight[best];
	if (r->done_ns > until)
		return 0;
	clock_to(s, r->done_ns);
	memmove(&s->inflight[best], &s->inflight[best + 1],
		(s->ninflight - best - 1) * sizeof(s->inflight[0]));
	s->ninflight--;
	if (r->ordered || r->op == SIM_OP_FLUSH)
		s->barrier_inflight = 0;
	if (r->op == SIM_OP_WRITE)
		s->running_write_bytes -= r->len;
	uint64_t lat = r->done_ns - r->submit_ns;
	s->c.completed[r->op]++;
	s->c.wait_ns[r->op] += r->start_ns - r->submit_ns;
	s->c.latency_ns[r->op] += lat;
	if (lat > s->c.max_latency_ns[r->op])
		s->c.max_latency_ns[r->op] = lat;
	if (s->done_fn) {
		s->in_callback = 1;
		s->done_fn(s->done_ctx, r);
		s->in_callback = 0;
	}
	dispatch(s);
	return 1;
}

int sim_sched_advance(struct sim_sched *s, uint64_t until)
{
	if (until < s->now)
		return -EINVAL;
	if (s->in_callback)
		return -EBUSY;
	dispatch(s);
	while (complete_one(s, until))
		;
	if (until != UINT64_MAX)
		clock_to(s, until);
	return 0;
}

int sim_sched_drain(struct sim_sched *s)
{
	if (s->in_callback)
		return -EBUSY;
	dispatch(s);
	while (complete_one(s, UINT64_MAX))
		;
	return 0;
}

int sim_sched_submit(struct sim_sched *s, struct sim_req *r, uint64_t at)
{
	if (!r || (unsigned)r->op >= SIM_OPS || (r->op != SIM_OP_FLUSH && r->len == 0) ||
	    at < s->now || (s->in_callback && at != s->now))
		return -EINVAL;
	if (!s->in_callback) {
		dispatch(s);
		while (complete_one(s, at))
			;
	}
	clock_to(s, at);
	r->submit_ns = at;
	r->start_ns = r->done_ns = 0;
	r->q_prev = r->q_next = NULL;
	if (r->op == SIM_OP_WRITE)
		s->running_write_bytes += r->len;
	s->c.submitted[r->op]++;
	if (s->p.policy == SIM_SCHED_BIOQ)
		bioq_insert(s, r);
	else
		q_insert_before(s, r, NULL);
	depth_changed(s);
	if (!s->in_callback)
		dispatch(s);
	return 0;
}
