/*
 * ctl_mirror.c - the streaming verbs of the control socket: how `hammer
 * mirror-read`, `mirror-write` and `mirror-read-stream` (cli/cmd_mirror.c)
 * reach a mounted file system.  Protocol in ctl_proto.h.
 *
 * Each connection is served by a detached thread of its own, so a mirror
 * run of hours or a pfs-wait never holds up other control clients.  The
 * engine is entered one call at a time (one piece of a scan, one record,
 * one wait slice of at most WAIT_SLICE_MS), counted in h->inflight like a
 * FUSE request, so hfuse_drain waits for a call in progress and the
 * threads stop at their next call once the mount is closing.
 * hfuse_ctl_mirror_stop (from hfuse_ctl_stop) cuts their connections and
 * waits for them: no thread outlives the hfuse it serves.
 *
 * Nothing the client sends is trusted: every record of a mirror-write is
 * decoded by hammer_mrec_get (sizes, CRC, types) before the engine sees it,
 * and the engine checks order, ranges and data CRCs itself.
 */
#include "hfuse.h"
#include "ctl_mirror.h"
#include "ctl_proto.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ref/mstream.h"

#define PIECE_SIZE	(512u * 1024u)	/* one mirror-read frame at most */
#define WBUF_SIZE	(1024u * 1024u)	/* mirror-write's receive buffer */
#define WAIT_SLICE_MS	200u		/* pfs-wait: engine wait per call */
#define WAIT_MAX_MS	(10u * 60u * 1000u)

/* ---------------------------------------------------------- thread registry */

struct conn {
	struct hfuse *h;
	int fd;
	struct conn *next;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cv = PTHREAD_COND_INITIALIZER;
static struct conn *reg_head;

static void reg_remove(struct conn *c)
{
	pthread_mutex_lock(&reg_lock);
	for (struct conn **p = &reg_head; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	pthread_cond_broadcast(&reg_cv);
	pthread_mutex_unlock(&reg_lock);
}

void hfuse_ctl_mirror_stop(struct hfuse *h)
{
	pthread_mutex_lock(&reg_lock);
	for (;;) {
		int any = 0;
		for (struct conn *c = reg_head; c; c = c->next) {
			if (c->h == h) {
				shutdown(c->fd, SHUT_RDWR);
				any = 1;
			}
		}
		if (!any)
			break;
		pthread_cond_wait(&reg_cv, &reg_lock);
	}
	pthread_mutex_unlock(&reg_lock);
}

/* ---------------------------------------------------------- helpers */

/* An engine call may start (the mount is not closing): leave() after it. */
static int enter(struct hfuse *h)
{
	atomic_fetch_add(&h->inflight, 1);
	if (atomic_load(&h->closing)) {
		atomic_fetch_sub(&h->inflight, 1);
		return 0;
	}
	return 1;
}

static void leave(struct hfuse *h)
{
	atomic_fetch_sub(&h->inflight, 1);
}

static int send_all(int fd, const void *p, size_t n)
{
	const char *b = p;
	while (n) {
		ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static void linef(char *line, size_t size, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void linef(char *line, size_t size, int err, const char *fmt, ...)
{
	int n = snprintf(line, size, "%d ", err);
	if (n < 0 || (size_t)n >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	/* one line: the message must not break the framing */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	size_t len = strlen(line);
	if (len + 1 < size) {
		line[len] = '\n';
		line[len + 1] = '\0';
	} else {
		line[size - 2] = '\n';
	}
}

static void send_line(int fd, const char *line)
{
	(void)send_all(fd, line, strlen(line));
}

/* The engine's message for rc (err.msg when it has one). */
static const char *engine_msg(const struct hammer_err *e, int rc)
{
	return e->code && e->msg[0] ? e->msg : strerror(-rc);
}

static int parse_u32(const char **s, uint32_t max, uint32_t *v)
{
	char *e;
	if (**s < '0' || **s > '9')
		return -1;
	errno = 0;
	unsigned long x = strtoul(*s, &e, 10);
	if (errno || x > max || (*e != ' ' && *e != '\0'))
		return -1;
	*v = (uint32_t)x;
	*s = *e ? e + 1 : e;
	return 0;
}

static int parse_tid(const char **s, hammer_tid_t *v)
{
	char *e;
	if ((*s)[0] != '0' || ((*s)[1] != 'x' && (*s)[1] != 'X'))
		return -1;
	errno = 0;
	unsigned long long x = strtoull(*s + 2, &e, 16);
	if (errno || e == *s + 2 || (*e != ' ' && *e != '\0'))
		return -1;
	*v = (hammer_tid_t)x;
	*s = *e ? e + 1 : e;
	return 0;
}

/* ---------------------------------------------------------- the verbs */

enum verb { V_READ, V_WRITE, V_WAIT, V_PRUNE, V_REBLOCK, V_REBALANCE };

struct job {
	struct conn conn;
	enum verb verb;
	uint32_t pfs_id;
	hammer_tid_t tid_beg, tid_end;	/* mirror-read; pfs-wait: tid_beg */
	unsigned flags;			/* mirror-read; pfs-wait: timeout ms */
	struct hammer_pseudofs_data pd;	/* mirror-write */
	uint32_t nelms, seconds;	/* prune; reblock: seconds */
	uint32_t fill;			/* reblock */
	int has_start;			/* prune, reblock, rebalance: resume key */
	struct hammer_base_elm start;
	void *pre;
	size_t npre;
};

/* mirror-read: frames of encoded records (ctl_proto.h). */
static void serve_read(struct hfuse *h, struct job *j)
{
	int fd = j->conn.fd;
	char line[600];
	uint8_t *buf = malloc(PIECE_SIZE);
	if (!buf) {
		linef(line, sizeof(line), ENOMEM, "out of memory");
		send_line(fd, line);
		return;
	}
	struct hammer_err e = { 0 };
	struct hammer_pseudofs_data pd;
	int rc;
	if (!enter(h)) {
		linef(line, sizeof(line), ESHUTDOWN, "the file system is being unmounted");
		send_line(fd, line);
		goto out;
	}
	rc = hammer_pfs_status(h->m, j->pfs_id, &pd, &e);
	leave(h);
	if (rc) {
		linef(line, sizeof(line), hfuse_errno(h, rc), "PFS #%u: %s", j->pfs_id,
		      engine_msg(&e, rc));
		send_line(fd, line);
		goto out;
	}
	if (send_all(fd, "0 streaming\n", 12))
		goto out;
	struct hammer_mirror_scan s;
	hammer_mirror_scan_init(&s, j->pfs_id, j->tid_beg, j->tid_end, j->flags);
	for (;;) {
		size_t len = 0;
		uint8_t head[4];
		memset(&e, 0, sizeof(e));
		if (!enter(h)) {
			rc = -ESHUTDOWN;
			snprintf(e.msg, sizeof(e.msg), "the file system is being unmounted");
			e.code = rc;
		} else {
			rc = hammer_mirror_read(h->m, &s, buf, PIECE_SIZE, &len, &e);
			leave(h);
			if (rc == 0 && len == 0 && !s.done) {
				rc = -EIO;
				e.code = rc;
				snprintf(e.msg, sizeof(e.msg), "mirror scan made no progress");
			}
		}
		if (rc) {
			uint8_t ff[4] = { 0xff, 0xff, 0xff, 0xff };
			linef(line, sizeof(line), rc == -ESHUTDOWN ? ESHUTDOWN : hfuse_errno(h, rc),
			      "%s", engine_msg(&e, rc));
			if (send_all(fd, ff, 4) == 0)
				send_line(fd, line);
			break;
		}
		if (len) {
			head[0] = (uint8_t)len;
			head[1] = (uint8_t)(len >> 8);
			head[2] = (uint8_t)(len >> 16);
			head[3] = (uint8_t)(len >> 24);
			if (send_all(fd, head, 4) || send_all(fd, buf, len))
				break;	/* the client went away */
		}
		if (s.done) {
			memset(head, 0, sizeof(head));
			(void)send_all(fd, head, 4);
			break;
		}
	}
out:
	free(buf);
}

/* Where a record is, for error messages. */
static void rec_where(const struct hammer_mrec *r, uint64_t recno, uint64_t off,
		      char *out, size_t size)
{
	uint32_t t = hammer_mrec_base_type(r->type);
	const struct hammer_base_elm *b = t == HAMMER_MREC_TYPE_SKIP ? &r->u.skip.beg
					  : &r->u.leaf.base;
	if (t == HAMMER_MREC_TYPE_REC || t == HAMMER_MREC_TYPE_PASS ||
	    t == HAMMER_MREC_TYPE_SKIP)
		snprintf(out, size, "%s record #%" PRIu64 " at offset %" PRIu64
			 " of the batch (lo=%08x obj=%016" PRIx64 " key=%016" PRIx64
			 " rt=%02x create_tid=%016" PRIx64 ")",
			 hammer_mrec_type_name(r->type), recno, off, b->localization,
			 (uint64_t)b->obj_id, (uint64_t)b->key, b->rec_type,
			 (uint64_t)b->create_tid);
	else
		snprintf(out, size, "%s record #%" PRIu64 " at offset %" PRIu64
			 " of the batch", hammer_mrec_type_name(r->type), recno, off);
}

/*
 * mirror-write: records until SYNC or IDLE.  An end of file before them
 * leaves the slave as it was (its sync_end_tid moves only at the SYNC).
 */
static void serve_write(struct hfuse *h, struct job *j)
{
	int fd = j->conn.fd;
	char line[1024], where[300];
	struct hammer_err e = { 0 };
	struct hammer_mirror_apply w;
	uint8_t *buf = malloc(WBUF_SIZE);
	if (!buf) {
		linef(line, sizeof(line), ENOMEM, "out of memory");
		send_line(fd, line);
		return;
	}
	int rc;
	if (!enter(h)) {
		linef(line, sizeof(line), ESHUTDOWN, "the file system is being unmounted");
		send_line(fd, line);
		goto out;
	}
	rc = hammer_mirror_write_begin(h->m, j->pfs_id, &j->pd, &w, &e);
	leave(h);
	if (rc) {
		linef(line, sizeof(line), hfuse_errno(h, rc), "mirror-write to PFS #%u: %s",
		      j->pfs_id, engine_msg(&e, rc));
		send_line(fd, line);
		goto out;
	}
	if (send_all(fd, "0 ready\n", 8))
		goto out;
	size_t have = 0, off = 0;
	uint64_t pos = 0, recno = 0;	/* stream offset of buf[off], records seen */
	if (j->npre) {
		memcpy(buf, j->pre, j->npre);
		have = j->npre;
	}
	for (;;) {
		struct hammer_mrec r;
		char why[256] = "";
		size_t need = 0;
		int n = hammer_mrec_get(buf + off, have - off, &r, &need, why, sizeof(why));
		if (n < 0) {
			linef(line, sizeof(line), EINVAL, "record #%" PRIu64 " at offset %"
			      PRIu64 " of the batch: malformed record: %s", recno, pos,
			      why[0] ? why : "unknown");
			send_line(fd, line);
			break;
		}
		if (n == 0) {
			/* more bytes needed: keep the partial record, read */
			if (off) {
				memmove(buf, buf + off, have - off);
				have -= off;
				off = 0;
			}
			ssize_t k = recv(fd, buf + have, WBUF_SIZE - have, 0);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;	/* cut before SYNC: nothing committed */
			have += (size_t)k;
			continue;
		}
		uint32_t t = hammer_mrec_base_type(r.type);
		if (t == HAMMER_MREC_TYPE_REC || t == HAMMER_MREC_TYPE_PASS ||
		    t == HAMMER_MREC_TYPE_SKIP) {
			memset(&e, 0, sizeof(e));
			if (!enter(h)) {
				linef(line, sizeof(line), ESHUTDOWN,
				      "the file system is being unmounted");
				send_line(fd, line);
				break;
			}
			rc = hammer_mirror_write_rec(h->m, &w, &r, &e);
			leave(h);
			if (rc) {
				rec_where(&r, recno, pos, where, sizeof(where));
				linef(line, sizeof(line), hfuse_errno(h, rc), "%s: %s", where,
				      engine_msg(&e, rc));
				send_line(fd, line);
				break;
			}
		} else if (t == HAMMER_MREC_TYPE_SYNC) {
			memset(&e, 0, sizeof(e));
			if (!enter(h)) {
				linef(line, sizeof(line), ESHUTDOWN,
				      "the file system is being unmounted");
				send_line(fd, line);
				break;
			}
			rc = hammer_mirror_write_sync(h->m, &w, &e);
			leave(h);
			if (rc)
				linef(line, sizeof(line), hfuse_errno(h, rc),
				      "mirror-write to PFS #%u: final sync: %s", j->pfs_id,
				      engine_msg(&e, rc));
			else
				snprintf(line, sizeof(line), "0 synced\ntid=0x%016" PRIx64 "\n",
					 (uint64_t)w.tid_end);
			send_line(fd, line);
			break;
		} else if (t == HAMMER_MREC_TYPE_IDLE) {
			send_line(fd, "0 idle\n");
			break;
		} else {
			rec_where(&r, recno, pos, where, sizeof(where));
			linef(line, sizeof(line), EINVAL, "unexpected %s: a batch holds REC, "
			      "PASS and SKIP records, then SYNC or IDLE", where);
			send_line(fd, line);
			break;
		}
		off += (size_t)n;
		pos += (uint64_t)n;
		recno++;
	}
out:
	free(buf);
}

/* pfs-wait: until a flush makes a TID above j->tid_beg durable. */
static void serve_wait(struct hfuse *h, struct job *j)
{
	char line[200];
	hammer_tid_t durable = 0;
	unsigned left = j->flags;
	int got = 0;
	for (;;) {
		unsigned slice = left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS;
		if (!enter(h)) {
			linef(line, sizeof(line), ESHUTDOWN, "the file system is being unmounted");
			send_line(j->conn.fd, line);
			return;
		}
		got = hammer_wait_flush(h->m, j->tid_beg, slice, &durable);
		leave(h);
		if (got < 0) {
			linef(line, sizeof(line), hfuse_errno(h, got), "%s", strerror(-got));
			send_line(j->conn.fd, line);
			return;
		}
		if (got > 0 || left <= slice)
			break;
		left -= slice;
		/* the client gave up (mirror-stream stopped): stop waiting */
		char c;
		ssize_t k = recv(j->conn.fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			return;
	}
	if (!got) {
		/* no news: still tell the durable TID (pfs-get's view) */
		struct hammer_pseudofs_data pd;
		struct hammer_err e = { 0 };
		if (enter(h)) {
			if (hammer_pfs_status(h->m, j->pfs_id, &pd, &e) == 0)
				durable = pd.sync_end_tid;
			leave(h);
		}
	}
	snprintf(line, sizeof(line), "0 ok\nnew=%d\ndurable=0x%016" PRIx64 "\n", got ? 1 : 0,
		 (uint64_t)durable);
	send_line(j->conn.fd, line);
}

/* ---------------------------------------------------------- prune */

/* An optional last argument: the key to resume at (ctl_proto.h layout, hex). */
static int parse_key(const char **s, struct job *j)
{
	if (!**s)
		return 0;
	uint8_t b[HAMMER_CTL_KEY_BYTES];
	if (hammer_ctl_hex_decode(*s, b, sizeof(b)) || (*s)[2 * sizeof(b)])
		return -1;
	hammer_ctl_key_unpack(b, &j->start);
	j->has_start = 1;
	*s += 2 * sizeof(b);
	return 0;
}

/* The resume key of a stopped run as a reply line ("" when it ran out). */
static void resume_line(const struct hammer_maint_ctl *ctl, char *out, size_t size)
{
	out[0] = '\0';
	if (!ctl->stopped)
		return;
	uint8_t b[HAMMER_CTL_KEY_BYTES];
	char hex[2 * HAMMER_CTL_KEY_BYTES + 1];
	hammer_ctl_key_pack(&ctl->resume, b);
	hammer_ctl_hex_encode(b, sizeof(b), hex);
	snprintf(out, size, "resume=%s\n", hex);
}

struct stop_ctx {
	struct hfuse *h;
	int fd;
	struct timespec deadline;	/* tv_sec 0: none */
};

/* Between batches: the unmount, the time limit, or the client gone. */
static int prune_should_stop(void *arg)
{
	struct stop_ctx *c = arg;
	if (atomic_load(&c->h->closing))
		return 1;
	if (c->deadline.tv_sec) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > c->deadline.tv_sec ||
		    (now.tv_sec == c->deadline.tv_sec && now.tv_nsec >= c->deadline.tv_nsec))
			return 1;
	}
	char b;
	ssize_t k = recv(c->fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
	return k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* The stop conditions and resume key of a maintenance run. */
static void maint_ctl(struct hfuse *h, const struct job *j, struct stop_ctx *sc,
		      struct hammer_maint_ctl *ctl)
{
	*sc = (struct stop_ctx){ .h = h, .fd = j->conn.fd };
	if (j->seconds) {
		clock_gettime(CLOCK_MONOTONIC, &sc->deadline);
		sc->deadline.tv_sec += j->seconds;
	}
	*ctl = (struct hammer_maint_ctl){ .should_stop = prune_should_stop, .ctx = sc,
					  .has_start = j->has_start, .start = j->start };
}

/* prune: the elements (24 bytes each, little-endian), then one engine run. */
static void serve_prune(struct hfuse *h, struct job *j)
{
	char line[400];
	size_t need = (size_t)j->nelms * 24;
	send_line(j->conn.fd, "0 ready\n");
	uint8_t *raw = malloc(need ? need : 1);
	struct hammer_prune_elm *e = malloc((j->nelms ? j->nelms : 1) * sizeof(*e));
	if (!raw || !e) {
		linef(line, sizeof(line), ENOMEM, "out of memory");
		goto out;
	}
	size_t have = j->npre < need ? j->npre : need;
	if (have)
		memcpy(raw, j->pre, have);
	while (have < need) {
		ssize_t k = recv(j->conn.fd, raw + have, need - have, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			free(raw);
			free(e);
			return;		/* the client left before sending them */
		}
		have += (size_t)k;
	}
	for (uint32_t i = 0; i < j->nelms; i++)
		e[i] = (struct hammer_prune_elm){ le64(raw + 24 * i), le64(raw + 24 * i + 8),
						  le64(raw + 24 * i + 16) };
	struct stop_ctx sc;
	struct hammer_maint_ctl ctl;
	maint_ctl(h, j, &sc, &ctl);
	struct hammer_prune_stats st;
	if (!enter(h)) {
		linef(line, sizeof(line), ESHUTDOWN, "the file system is being unmounted");
		goto out;
	}
	int rc = hammer_prune(h->m, j->pfs_id, j->flags, e, j->nelms, &ctl, &st);
	leave(h);
	if (rc == -EINVAL)
		linef(line, sizeof(line), EINVAL, "bad prune elements (each beg < end, "
		      "mod > 0, in descending order, disjoint; at most %d)",
		      HAMMER_PRUNE_MAX_ELMS);
	else if (rc)
		linef(line, sizeof(line), hfuse_errno(h, rc), "%s", strerror(-rc));
	else
		snprintf(line, sizeof(line), "0 ok\nscanned=%" PRIu64 "\ndirrecords=%" PRIu64
			 "\nrawrecords=%" PRIu64 "\nbytes=%" PRIu64 "\noldest=0x%016" PRIx64
			 "\nstopped=%d\n", st.scanned, st.dirrecords, st.rawrecords, st.bytes,
			 (uint64_t)st.oldest_tid, ctl.stopped);
	if (!rc) {
		size_t l = strlen(line);
		resume_line(&ctl, line + l, sizeof(line) - l);
	}
out:
	send_line(j->conn.fd, line);
	free(raw);
	free(e);
}

/* reblock and rebalance: "ready", one engine run, then its counts. */
static void serve_maint(struct hfuse *h, struct job *j)
{
	char line[400];
	send_line(j->conn.fd, "0 ready\n");
	struct stop_ctx sc;
	struct hammer_maint_ctl ctl;
	maint_ctl(h, j, &sc, &ctl);
	if (!enter(h)) {
		linef(line, sizeof(line), ESHUTDOWN, "the file system is being unmounted");
		send_line(j->conn.fd, line);
		return;
	}
	struct hammer_reblock_stats rs;
	struct hammer_rebalance_stats bs;
	int rc = j->verb == V_REBLOCK
		 ? hammer_reblock(h->m, j->pfs_id, j->flags, j->fill, &ctl, &rs)
		 : hammer_rebalance(h->m, j->pfs_id, j->fill, &ctl, &bs);
	leave(h);
	if (rc)
		linef(line, sizeof(line), hfuse_errno(h, rc), "%s", strerror(-rc));
	else if (j->verb == V_REBLOCK)
		snprintf(line, sizeof(line), "0 ok\nrecords=%" PRIu64 "\nbtree_nodes=%" PRIu64
			 "\nbtree_moves=%" PRIu64 "\ndata_elements=%" PRIu64 "\ndata_moves=%"
			 PRIu64 "\ndata_bytes=%" PRIu64 "\ndata_byte_count=%" PRIu64
			 "\ndata_skipped=%" PRIu64 "\nstopped=%d\n", rs.records, rs.btree_nodes,
			 rs.btree_moves, rs.data_elements, rs.data_moves, rs.data_bytes,
			 rs.data_byte_count, rs.data_skipped, ctl.stopped);
	else
		snprintf(line, sizeof(line), "0 ok\nrecords=%" PRIu64 "\nnodes=%" PRIu64
			 "\ndeleted=%" PRIu64 "\nrebalanced=%" PRIu64 "\nstopped=%d\n",
			 bs.records, bs.nodes, bs.leaves_freed, bs.rebalanced, ctl.stopped);
	if (!rc) {
		size_t l = strlen(line);
		resume_line(&ctl, line + l, sizeof(line) - l);
	}
	send_line(j->conn.fd, line);
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct hfuse *h = j->conn.h;
	switch (j->verb) {
	case V_READ:
		serve_read(h, j);
		break;
	case V_WRITE:
		serve_write(h, j);
		break;
	case V_WAIT:
		serve_wait(h, j);
		break;
	case V_PRUNE:
		serve_prune(h, j);
		break;
	case V_REBLOCK:
	case V_REBALANCE:
		serve_maint(h, j);
		break;
	}
	/* unregister before closing: stop() must not shut down a reused fd */
	reg_remove(&j->conn);
	close(j->conn.fd);
	free(j->pre);
	free(j);
	return NULL;
}

int hfuse_ctl_mirror(struct hfuse *h, int c, int priv, const char *verb,
		     const char *args, const void *pre, size_t npre,
		     char *line, size_t lsize)
{
	struct job j0;
	memset(&j0, 0, sizeof(j0));
	const char *s = args;
	if (strcmp(verb, "mirror-read") == 0) {
		j0.verb = V_READ;
		if (!priv) {
			linef(line, lsize, EPERM, "mirror-read needs root or the user who mounted");
			return 0;
		}
		if (parse_u32(&s, HAMMER_PFS_MAX_ID, &j0.pfs_id) || parse_tid(&s, &j0.tid_beg) ||
		    parse_tid(&s, &j0.tid_end) || parse_u32(&s, HAMMER_MIRROR_NODATA, &j0.flags) ||
		    *s) {
			linef(line, lsize, EINVAL, "usage: mirror-read ID 0xTIDBEG 0xTIDEND FLAGS");
			return 0;
		}
	} else if (strcmp(verb, "mirror-write") == 0) {
		j0.verb = V_WRITE;
		if (!priv) {
			linef(line, lsize, EPERM, "mirror-write needs root or the user who mounted");
			return 0;
		}
		if (parse_u32(&s, HAMMER_PFS_MAX_ID, &j0.pfs_id) ||
		    hammer_ctl_hex_decode(s, &j0.pd, sizeof(j0.pd)) || s[2 * sizeof(j0.pd)]) {
			linef(line, lsize, EINVAL, "usage: mirror-write ID HEXPFSD");
			return 0;
		}
	} else if (strcmp(verb, "pfs-wait") == 0) {
		uint32_t ms;
		j0.verb = V_WAIT;
		if (parse_u32(&s, HAMMER_PFS_MAX_ID, &j0.pfs_id) || parse_tid(&s, &j0.tid_beg) ||
		    parse_u32(&s, WAIT_MAX_MS, &ms) || *s) {
			linef(line, lsize, EINVAL, "usage: pfs-wait ID 0xTID TIMEOUT_MS "
			      "(at most %u)", WAIT_MAX_MS);
			return 0;
		}
		j0.flags = ms;
	} else if (strcmp(verb, "prune") == 0) {
		j0.verb = V_PRUNE;
		if (!priv) {
			linef(line, lsize, EPERM, "prune needs root or the user who mounted");
			return 0;
		}
		if (parse_u32(&s, HAMMER_PFS_MAX_ID, &j0.pfs_id) ||
		    parse_u32(&s, HAMMER_PRUNE_ALL, &j0.flags) ||
		    parse_u32(&s, HAMMER_PRUNE_MAX_ELMS, &j0.nelms) ||
		    parse_u32(&s, 366u * 86400u, &j0.seconds) || parse_key(&s, &j0)) {
			linef(line, lsize, EINVAL, "usage: prune ID FLAGS NELMS SECONDS "
			      "(then NELMS * 24 bytes; at most %d elements)",
			      HAMMER_PRUNE_MAX_ELMS);
			return 0;
		}
	} else if (strcmp(verb, "reblock") == 0) {
		j0.verb = V_REBLOCK;
		if (!priv) {
			linef(line, lsize, EPERM, "reblock needs root or the user who mounted");
			return 0;
		}
		if (parse_u32(&s, HAMMER_PFS_MAX_ID, &j0.pfs_id) ||
		    parse_u32(&s, HAMMER_REBLOCK_ALL, &j0.flags) || j0.flags == 0 ||
		    parse_u32(&s, 100, &j0.fill) ||
		    parse_u32(&s, 366u * 86400u, &j0.seconds) || parse_key(&s, &j0)) {
			linef(line, lsize, EINVAL, "usage: reblock ID FLAGS(1..15) FILL(0..100) "
			      "SECONDS");
			return 0;
		}
	} else if (strcmp(verb, "rebalance") == 0) {
		j0.verb = V_REBALANCE;
		if (!priv) {
			linef(line, lsize, EPERM, "rebalance needs root or the user who mounted");
			return 0;
		}
		if (parse_u32(&s, HAMMER_PFS_MAX_ID, &j0.pfs_id) ||
		    parse_u32(&s, 100, &j0.fill) || j0.fill < 50 ||
		    parse_u32(&s, 366u * 86400u, &j0.seconds) || parse_key(&s, &j0)) {
			linef(line, lsize, EINVAL, "usage: rebalance ID SATURATION(50..100) SECONDS");
			return 0;
		}
	} else {
		return -1;
	}
	struct job *j = malloc(sizeof(*j));
	if (!j) {
		linef(line, lsize, ENOMEM, "out of memory");
		return 0;
	}
	*j = j0;
	j->conn.h = h;
	j->conn.fd = c;
	if (npre) {
		j->pre = malloc(npre);
		if (!j->pre) {
			free(j);
			linef(line, lsize, ENOMEM, "out of memory");
			return 0;
		}
		memcpy(j->pre, pre, npre);
		j->npre = npre;
	}
	/*
	 * No timeouts on a stream: a bandwidth-limited reader or a writer fed
	 * over a slow network may pause for long; the unmount cuts it.
	 */
	struct timeval tv = { 0 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	pthread_mutex_lock(&reg_lock);
	j->conn.next = reg_head;
	reg_head = &j->conn;
	pthread_mutex_unlock(&reg_lock);
	pthread_attr_t at;
	pthread_t t;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &at, job_main, j);
	pthread_attr_destroy(&at);
	if (rc) {
		reg_remove(&j->conn);
		free(j->pre);
		free(j);
		linef(line, lsize, EAGAIN, "cannot start a thread: %s", strerror(rc));
		return 0;
	}
	return 1;
}
