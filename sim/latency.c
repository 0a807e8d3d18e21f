/* latency.c - HDD and SSD service-time models in virtual nanoseconds. */
#include "sim/latency.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS 1000000000ull
#define SSD_MAX_CHANNELS 256

enum kind { HDD, SSD };

struct sim_lat {
	enum kind kind;
	struct sim_hdd_params h;
	struct sim_ssd_params d;
	struct sim_lat_counters c;
	uint64_t busy_until;	/* HDD: the actuator */
	/* HDD */
	uint64_t rev_ns, cylinders;
	uint64_t head_cyl, head_trk;
	uint64_t buf_lo, buf_hi, buf_t0;	/* read-ahead: byte buf_lo is in at buf_t0 */
	/* SSD */
	uint64_t bus_until;
	uint64_t *chan_until;
};

/* a*b/c without overflow for the sizes used here (128-bit intermediate). */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t c)
{
	return (uint64_t)((unsigned __int128)a * b / c);
}

void sim_hdd_default(struct sim_hdd_params *p)
{
	memset(p, 0, sizeof(*p));
	p->capacity = 2000000000000ull;
	p->rpm = 7200;
	p->heads = 10;
	p->track_bytes = 1250000;
	p->seek_boundary = 2000;
	p->seek_a_ns = 1000000;
	p->seek_b_ns = 60000;
	/* long line meets the short one at the boundary and reaches 13 ms at full stroke */
	uint64_t at_b = p->seek_a_ns + (uint64_t)(60000.0 * sqrt(2000.0));
	uint64_t cyl = p->capacity / (p->track_bytes * p->heads);
	p->seek_e_ns_per_kcyl = muldiv(13000000 - at_b, 1000, cyl - p->seek_boundary);
	p->seek_c_ns = at_b - muldiv(p->seek_e_ns_per_kcyl, p->seek_boundary, 1000);
	p->read_settle_ns = 0;
	p->write_settle_ns = 300000;
	p->head_switch_ns = 800000;
	p->cmd_overhead_ns = 0;
	p->track_buffer = 1 << 20;
	p->iface_rate = 300000000;
	p->flush_ns = 100000;
}

void sim_ssd_default(struct sim_ssd_params *p)
{
	memset(p, 0, sizeof(*p));
	p->page = 4096;
	p->channels = 8;
	p->read_ns = 80000;
	p->program_ns = 200000;
	p->bus_rate = 500000000;
	p->write_amp_pct = 100;
	p->cmd_overhead_ns = 10000;
	p->flush_ns = 500000;
}

int sim_lat_hdd(const struct sim_hdd_params *p, struct sim_lat **out)
{
	*out = NULL;
	if (!p->rpm || !p->heads || !p->track_bytes || !p->iface_rate ||
	    p->capacity < p->track_bytes * p->heads)
		return -EINVAL;
	struct sim_lat *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->kind = HDD;
	m->h = *p;
	m->rev_ns = 60 * NS / p->rpm;
	m->cylinders = p->capacity / (p->track_bytes * p->heads);
	*out = m;
	return 0;
}

int sim_lat_ssd(const struct sim_ssd_params *p, struct sim_lat **out)
{
	*out = NULL;
	if (!p->page || !p->channels || p->channels > SSD_MAX_CHANNELS || !p->bus_rate ||
	    !p->write_amp_pct)
		return -EINVAL;
	struct sim_lat *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->chan_until = calloc(p->channels, sizeof(uint64_t));
	if (!m->chan_until) {
		free(m);
		return -ENOMEM;
	}
	m->kind = SSD;
	m->d = *p;
	*out = m;
	return 0;
}

void sim_lat_close(struct sim_lat *m)
{
	if (!m)
		return;
	free(m->chan_until);
	free(m);
}

uint64_t sim_hdd_seek_ns(const struct sim_lat *m, uint64_t d, int write)
{
	if (m->kind != HDD || d == 0)
		return 0;
	const struct sim_hdd_params *p = &m->h;
	uint64_t t;
	if (d < p->seek_boundary)
		t = p->seek_a_ns + (uint64_t)((double)p->seek_b_ns * sqrt((double)d));
	else
		t = p->seek_c_ns + muldiv(p->seek_e_ns_per_kcyl, d, 1000);
	return t + (write ? p->write_settle_ns : p->read_settle_ns);
}

/* Time for len bytes to pass under the head. */
static uint64_t media_ns(const struct sim_lat *m, uint64_t len)
{
	return muldiv(len, m->rev_ns, m->h.track_bytes);
}

static uint64_t hdd_service(struct sim_lat *m, uint64_t t, enum sim_op op, uint64_t off,
			    uint64_t len)
{
	const struct sim_hdd_params *p = &m->h;
	if (op == SIM_OP_FLUSH)
		return t + p->flush_ns;
	if (op == SIM_OP_READ && m->buf_hi > m->buf_lo && off >= m->buf_lo &&
	    off + len <= m->buf_hi) {
		/* read-ahead hit: wait for the last byte to come off the platter */
		uint64_t in = m->buf_t0 + media_ns(m, off + len - m->buf_lo);
		m->c.buffer_hits++;
		/* a sequential reader keeps the read-ahead streaming */
		m->buf_hi = off + len + p->track_buffer;
		m->head_trk = (off + len) / p->track_bytes;
		m->head_cyl = m->head_trk / p->heads;
		return (in > t ? in : t) + muldiv(len, NS, p->iface_rate);
	}
	uint64_t trk = off / p->track_bytes;
	uint64_t cyl = trk / p->heads;
	uint64_t d = cyl > m->head_cyl ? cyl - m->head_cyl : m->head_cyl - cyl;
	uint64_t pos = 0;
	if (d) {
		pos = sim_hdd_seek_ns(m, d, op == SIM_OP_WRITE);
		m->c.seeks++;
		m->c.seek_ns += pos;
	} else if (trk != m->head_trk) {
		pos = p->head_switch_ns;
	}
	t += pos;
	/* the byte at track offset x is under the head when t mod rev = x/track of a turn */
	uint64_t want = media_ns(m, off % p->track_bytes);
	uint64_t at = t % m->rev_ns;
	uint64_t wait = (want + m->rev_ns - at) % m->rev_ns;
	if (m->rev_ns - wait < 1000)
		wait = 0;	/* rounding of a back-to-back transfer, not a missed turn */
	m->c.rotate_ns += wait;
	t += wait;
	uint64_t xfer = media_ns(m, len);
	m->c.transfer_ns += xfer;
	t += xfer;
	uint64_t end_trk = (off + len - 1) / p->track_bytes;
	m->head_trk = end_trk;
	m->head_cyl = end_trk / p->heads;
	if (op == SIM_OP_READ && p->track_buffer) {
		m->buf_lo = off + len;
		m->buf_hi = off + len + p->track_buffer;
		m->buf_t0 = t;
	} else {
		m->buf_lo = m->buf_hi = 0;
	}
	return t;
}

static uint64_t ssd_service(struct sim_lat *m, uint64_t t, enum sim_op op, uint64_t off,
			    uint64_t len)
{
	const struct sim_ssd_params *p = &m->d;
	uint64_t done = t;
	if (op == SIM_OP_FLUSH) {
		done = m->bus_until > done ? m->bus_until : done;
		for (uint32_t i = 0; i < p->channels; i++)
			if (m->chan_until[i] > done)
				done = m->chan_until[i];
		return done + p->flush_ns;
	}
	uint64_t xfer = muldiv(p->page, NS, p->bus_rate);
	uint64_t prog = muldiv(p->program_ns, p->write_amp_pct, 100);
	uint64_t first = off / p->page, last = (off + len - 1) / p->page;
	for (uint64_t pg = first; pg <= last; pg++) {
		uint64_t *ch = &m->chan_until[pg % p->channels];
		if (op == SIM_OP_READ) {
			uint64_t s = *ch > t ? *ch : t;
			uint64_t r = s + p->read_ns;
			*ch = r;
			uint64_t b = m->bus_until > r ? m->bus_until : r;
			m->bus_until = b + xfer;
		} else {
			uint64_t b = m->bus_until > t ? m->bus_until : t;
			m->bus_until = b + xfer;
			uint64_t s = *ch > m->bus_until ? *ch : m->bus_until;
			*ch = s + prog;
		}
		uint64_t fin = op == SIM_OP_READ ? m->bus_until : *ch;
		if (fin > done)
			done = fin;
	}
	m->c.transfer_ns += (last - first + 1) * xfer;
	return done;
}

uint64_t sim_lat_service(struct sim_lat *m, uint64_t now, enum sim_op op, uint64_t off,
			 uint64_t len)
{
	if ((unsigned)op >= SIM_OPS)
		return now;
	if (op != SIM_OP_FLUSH && len == 0)
		return now;
	uint64_t t = now;
	uint64_t done;
	if (m->kind == HDD) {
		/* one actuator: a request waits for the previous one */
		if (m->busy_until > t)
			t = m->busy_until;
		t += m->h.cmd_overhead_ns;
		done = hdd_service(m, t, op, off, len);
		m->busy_until = done;
	} else {
		t += m->d.cmd_overhead_ns;
		done = ssd_service(m, t, op, off, len);
	}
	m->c.ops[op]++;
	m->c.bytes[op] += op == SIM_OP_FLUSH ? 0 : len;
	m->c.busy_ns[op] += done - now;
	return done;
}

int sim_lat_describe(const struct sim_lat *m, char *buf, size_t len)
{
	int n;
	if (m->kind == HDD) {
		const struct sim_hdd_params *p = &m->h;
		n = snprintf(buf, len,
			     "hdd capacity=%" PRIu64 " rpm=%" PRIu32 " heads=%" PRIu32
			     " track=%" PRIu64 " cyl=%" PRIu64 " seek=short(%" PRIu64 "+%" PRIu64
			     "*sqrt(d),d<%" PRIu32 ")/long(%" PRIu64 "+%" PRIu64 "*d/1000)ns"
			     " settle=r%" PRIu64 "/w%" PRIu64 " headsw=%" PRIu64 " ovh=%" PRIu64
			     " readahead=%" PRIu64 " iface=%" PRIu64 "B/s flush=%" PRIu64 "ns",
			     p->capacity, p->rpm, p->heads, p->track_bytes, m->cylinders,
			     p->seek_a_ns, p->seek_b_ns, p->seek_boundary, p->seek_c_ns,
			     p->seek_e_ns_per_kcyl, p->read_settle_ns, p->write_settle_ns,
			     p->head_switch_ns, p->cmd_overhead_ns, p->track_buffer, p->iface_rate,
			     p->flush_ns);
	} else {
		const struct sim_ssd_params *p = &m->d;
		n = snprintf(buf, len,
			     "ssd page=%" PRIu32 " channels=%" PRIu32 " read=%" PRIu64
			     "ns program=%" PRIu64 "ns bus=%" PRIu64 "B/s write_amp=%" PRIu32
			     "%% ovh=%" PRIu64 "ns flush=%" PRIu64 "ns",
			     p->page, p->channels, p->read_ns, p->program_ns, p->bus_rate,
			     p->write_amp_pct, p->cmd_overhead_ns, p->flush_ns);
	}
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

void sim_lat_counters(const struct sim_lat *m, struct sim_lat_counters *out)
{
	*out = m->c;
}
