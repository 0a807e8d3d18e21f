/*
 * cmd_mirror.c - DragonFly's mirroring commands: mirror-read,
 * mirror-read-stream, mirror-write, mirror-dump, mirror-copy and
 * mirror-stream (hammer(8); format digest section 8.3; the stream itself
 * is ref/mstream.h).
 *
 * A stream is a series of batches, each
 *     PFSD (the source's record: the target learns the shared-uuid, or
 *           creates a missing slave with it)
 *     [-2: the target answers with its own PFSD; the source starts at its
 *          sync_end_tid + 1]
 *     PFSD (sync_beg_tid .. sync_end_tid = the batch's TID range)
 *     REC / PASS / SKIP ...
 *     SYNC (work done) or IDLE (nothing to do)
 *     [-2: the target answers UPDATE(tid_end) once it has committed]
 * and TERM at the end.  The target's sync_end_tid moves only at a SYNC,
 * so a cut stream leaves the slave at its last completed batch.
 *
 * Differences from DragonFly, all on the side of safety or Linux:
 *   - every failure exits non-zero, with the stream offset of a bad record;
 *     a REC whose data does not match its data CRC is an error (DragonFly
 *     warns and goes on; the engine would refuse it anyway);
 *   - the second PFSD's sync_beg_tid is the batch's real first TID (the
 *     scan's tid_beg), so the target can refuse a gap after its
 *     sync_end_tid; DragonFly's target used it only as the insert bound,
 *     for which both values give the same result;
 *   - mirror-copy joins its halves with a socketpair: a Linux pipe is one
 *     way; a remote side is `host:path` only when no '/' comes before the
 *     ':' (so PFS link names like @@-1:00001 stay local paths);
 *   - the slave auto-created by mirror-write is made in-process (the
 *     pfs-slave code of cmd_pfs.c), not by running /sbin/hammer;
 *   - -b paces in 100 ms windows (DragonFly sends a second's worth at once,
 *     then sleeps); the histogram prescan runs once per run (DragonFly's
 *     streaming mode reuses it), and a lost link is retried after
 *     $HAMMER_MIRROR_RETRY (default 15) + -i seconds;
 *   - the prescan cuts chunks at exact TIDs (sorted TID/bytes pairs) and
 *     falls back to DragonFly's 1,048,576 buckets over the whole range
 *     only past 8 Mi distinct TIDs: buckets over a range starting at TID 1
 *     are too coarse for TIDs that all lie close together.
 *
 * Options as DragonFly's: -c cyclefile in DragonFly's binary layout (see
 * "cycle file" below: files move between the two implementations), -e
 * scoreboardfile with DragonFly's three fields and offsets ("scoreboard"),
 * -T restrictpath checked by mirror-read and mirror-write
 * (hpfs_check_restrict; -R and ssh-remote: hammer.c, cmd_remote.c).
 *
 * Back ends (pfs_common.c): a mounted file system through hammer-fuse's
 * control socket (the streaming verbs mirror-read, mirror-write, pfs-wait
 * of fuse/ctl_proto.h), or -f DEV with the engine mounted here (read-only
 * for mirror-read, read-write for mirror-write) and the same engine calls
 * the daemon makes.
 */
#include "pfs_common.h"
#include "cycle.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuse/ctl_proto.h"
#include "ref/mstream.h"

int cmd_mirror(struct hammer_opts *o, int argc, char **argv);

#define PIECE_SIZE	(512u * 1024u)	/* DragonFly's SERIALBUF_SIZE */
#define HIST_COUNT	(1024u * 1024u)	/* prescan buckets */
#define WAIT_SLICE_MS	1000u		/* mirror-read-stream: one pfs-wait */
#define ALIGN8(x)	(((x) + 7u) & ~(size_t)7u)

static struct hammer_opts *O;

/* ---------------------------------------------------------- messages */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int score_errors;
static void score_error(const char *fmt, va_list ap);

static int fail(const char *fmt, ...)
{
	va_list ap;
	fputs("hammer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	if (score_errors) {
		va_start(ap, fmt);
		score_error(fmt, ap);
		va_end(ap);
	}
	return HAMMER_EXIT_USAGE;
}

static int usage_mirror(void)
{
	fprintf(stderr,
		"hammer mirror-read <filesystem> [begin-tid]\n"
		"hammer mirror-read-stream <filesystem> [begin-tid]\n"
		"hammer mirror-write <filesystem>\n"
		"hammer mirror-dump [header]\n"
		"hammer mirror-copy [[user@]host:]<filesystem> [[user@]host:]<filesystem>\n"
		"hammer mirror-stream [[user@]host:]<filesystem> [[user@]host:]<filesystem>\n"
		"options: -b bandwidth (bytes/s, k/m/g; paced in 100 ms windows), -B (no\n"
		"histogram chunking), -S splitsize (default 4g), -i delay (seconds, 5),\n"
		"-2 (two-way), -y (create a missing slave), -p ssh-port, -X (ssh -C),\n"
		"-t timeout (seconds), -c cyclefile, -e scoreboardfile, -R restrictcmd,\n"
		"-T restrictpath, -v, -q\n");
	return HAMMER_EXIT_USAGE;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---------------------------------------------------------- stream input */

struct rstream {
	int fd;
	uint8_t *buf;
	size_t cap, have, off;
	uint64_t pos;		/* stream offset of buf[off] */
	uint64_t rec_pos;	/* stream offset of the record last returned */
	const char *who;	/* "mirror-write", ... for messages */
};

static int rs_init(struct rstream *s, int fd, const char *who)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->who = who;
	s->cap = 2 * ALIGN8(HAMMER_MREC_MAX) + PIECE_SIZE;
	s->buf = malloc(s->cap);
	return s->buf ? 0 : fail("out of memory");
}

/*
 * The next record: 1 (r filled, *raw and *wire its bytes, valid until the next
 * call), 0 at the end of the stream on a record boundary, -1 after a
 * message (malformed, cut inside a record, read error).
 */
static int rs_next(struct rstream *s, struct hammer_mrec *r, const uint8_t **raw,
		   size_t *wire)
{
	for (;;) {
		char why[256] = "";
		size_t need = 0;
		int n = hammer_mrec_get(s->buf + s->off, s->have - s->off, r, &need, why,
					sizeof(why));
		if (n > 0) {
			if (raw)
				*raw = s->buf + s->off;
			if (wire)
				*wire = (size_t)n;
			s->rec_pos = s->pos;
			s->off += (size_t)n;
			s->pos += (uint64_t)n;
			return 1;
		}
		if (n < 0)
			return fail("read_mrecords: malformed record on pipe, %s (record at byte "
				    "%" PRIu64 " of the stream)", why[0] ? why : "?", s->pos), -1;
		if (s->off) {
			memmove(s->buf, s->buf + s->off, s->have - s->off);
			s->have -= s->off;
			s->off = 0;
		}
		ssize_t k = read(s->fd, s->buf + s->have, s->cap - s->have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return fail("%s: read error on the stream at byte %" PRIu64 ": %s",
				    s->who, s->pos + s->have, strerror(errno)), -1;
		if (k == 0) {
			if (s->have == 0)
				return 0;
			return fail("read_mrecords: short read on pipe: the stream ends inside "
				    "a record at byte %" PRIu64 " (%zu of its bytes present)",
				    s->pos, s->have), -1;
		}
		s->have += (size_t)k;
	}
}

/* ---------------------------------------------------------- stream output */

struct wstream {
	int fd;
	uint8_t *buf;
	size_t cap, len;
	uint64_t bw;		/* bytes/s; 0: unlimited */
	double win_start;
	uint64_t win_bytes;
	uint64_t total;		/* bytes written */
	int failed;
};

static int ws_init(struct wstream *w, int fd, uint64_t bw)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->bw = bw;
	w->cap = PIECE_SIZE + 4096;
	w->buf = malloc(w->cap);
	w->win_start = now_s();
	return w->buf ? 0 : fail("out of memory");
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Write out p, paced to w->bw in 100 ms windows. */
static int ws_raw(struct wstream *w, const uint8_t *p, size_t n)
{
	if (w->failed)
		return -1;
	while (n) {
		size_t k = n;
		if (w->bw) {
			uint64_t budget = w->bw / 10 ? w->bw / 10 : 1;
			double t = now_s();
			if (t - w->win_start >= 0.1) {
				w->win_start = t;
				w->win_bytes = 0;
			}
			if (w->win_bytes >= budget) {
				sleep_s(w->win_start + 0.1 - t);
				w->win_start = now_s();
				w->win_bytes = 0;
			}
			if (k > budget - w->win_bytes)
				k = (size_t)(budget - w->win_bytes);
		}
		if (write_all(w->fd, p, k)) {
			w->failed = errno ? errno : EPIPE;
			return -1;
		}
		w->win_bytes += k;
		w->total += k;
		p += k;
		n -= k;
	}
	return 0;
}

static int ws_flush(struct wstream *w)
{
	int rc = w->len ? ws_raw(w, w->buf, w->len) : (w->failed ? -1 : 0);
	w->len = 0;
	return rc;
}

static int ws_put(struct wstream *w, const void *p, size_t n)
{
	if (w->len + n > w->cap && ws_flush(w))
		return -1;
	if (n > w->cap)
		return ws_raw(w, p, n);
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

static int ws_pfsd(struct wstream *w, const struct hammer_pseudofs_data *pd)
{
	uint8_t b[ALIGN8(HAMMER_MREC_PFSD_SIZE)];
	size_t n = hammer_mrec_put_pfsd(b, sizeof(b), pd);
	return n ? ws_put(w, b, n) : -1;
}

static int ws_tid(struct wstream *w, uint32_t type, hammer_tid_t tid)
{
	uint8_t b[ALIGN8(HAMMER_MREC_TID_SIZE)];
	size_t n = hammer_mrec_put_tid(b, sizeof(b), type, tid);
	return n ? ws_put(w, b, n) : -1;
}

static int ws_error(struct wstream *w, const char *what)
{
	return fail("%s: cannot write the stream: %s", what,
		    strerror(w->failed ? w->failed : EPIPE));
}

/* ---------------------------------------------------------- PFS sides */

struct side {
	struct hpfs_be b;
	const char *path;
	uint32_t id;
	unsigned version;
	struct hammer_pseudofs_data pd;
	int conn;			/* streaming control connection, -1 */
	struct hammer_mirror_scan scan;	/* -f */
	struct hammer_mirror_apply apply;
	uint8_t *sbuf;			/* mounted mirror-write: records to send */
	size_t slen;
};

static void side_init(struct side *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->b.o = O;
	s->path = path;
	s->conn = -1;
}

/* -f: mount the engine (read-only or not). */
static int side_mount(struct side *s, int readonly)
{
	struct hammer_mount_opts mo;
	struct hammer_err e = { 0 };
	hammer_mount_opts_init(&mo);
	mo.readonly = readonly;
	if (hammer_mount(O->devs, &mo, &s->b.m, &e))
		return fail("%s: %s", O->devs, e.msg);
	return 0;
}

static int side_unmount(struct side *s)
{
	if (s->conn >= 0)
		close(s->conn);
	s->conn = -1;
	free(s->sbuf);
	s->sbuf = NULL;
	if (!s->b.m)
		return 0;
	int rc = hammer_unmount(s->b.m);
	s->b.m = NULL;
	if (rc)
		return fail("%s: final flush failed: %s", O->devs, strerror(-rc));
	return 0;
}

/* The PFS record now (a master's sync_end_tid: the durable TID). */
static int side_refresh(struct side *s)
{
	int rc = hpfs_get(&s->b, s->id, &s->pd, &s->version);
	if (rc == HPFS_REPORTED)
		return HAMMER_EXIT_USAGE;
	if (rc)
		return fail("%s: cannot read the record of PFS#%u: %s", s->path, s->id,
			    strerror(-rc));
	return 0;
}

/* --- reading */

static int scan_open(struct side *s, hammer_tid_t beg, hammer_tid_t end, unsigned flags)
{
	if (s->b.m) {
		hammer_mirror_scan_init(&s->scan, s->id, beg, end, flags);
		return 0;
	}
	char verb[128];
	struct hammer_ctl_reply r;
	snprintf(verb, sizeof(verb), "mirror-read %u 0x%016" PRIx64 " 0x%016" PRIx64 " %u",
		 s->id, (uint64_t)beg, (uint64_t)end, flags);
	int fd = hammer_ctl_open(s->b.at, verb, &r, stderr);
	if (fd == -1)
		return HAMMER_EXIT_USAGE;
	if (fd < 0)
		return fail("Mirror-read %s failed: %s", s->path, r.msg);
	s->conn = fd;
	return 0;
}

static int read_full(int fd, void *p, size_t n)
{
	uint8_t *b = p;
	while (n) {
		ssize_t k = read(fd, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The next piece of the scan into buf (PIECE_SIZE): *len bytes; *done. */
static int scan_next(struct side *s, uint8_t *buf, size_t *len, int *done)
{
	*len = 0;
	*done = 0;
	if (s->b.m) {
		struct hammer_err e = { 0 };
		int rc = hammer_mirror_read(s->b.m, &s->scan, buf, PIECE_SIZE, len, &e);
		if (rc)
			return fail("Mirror-read %s failed: %s", s->path,
				    e.code && e.msg[0] ? e.msg : strerror(-rc));
		*done = s->scan.done;
		if (!*len && !*done)
			return fail("Mirror-read %s failed: the scan made no progress", s->path);
		return 0;
	}
	uint8_t h[4];
	if (read_full(s->conn, h, 4))
		return fail("Mirror-read %s failed: hammer-fuse closed the stream", s->path);
	uint32_t n = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
		     (uint32_t)h[3] << 24;
	if (n == 0xFFFFFFFFu) {
		char line[600] = "";
		struct hammer_ctl_reply r;
		memset(&r, 0, sizeof(r));
		hammer_ctl_read_line(s->conn, line, sizeof(line));
		const char *sp = strchr(line, ' ');
		return fail("Mirror-read %s failed: %s", s->path, sp ? sp + 1 : line);
	}
	if (n > PIECE_SIZE)
		return fail("Mirror-read %s failed: hammer-fuse sent a frame of %u bytes",
			    s->path, n);
	if (n == 0) {
		*done = 1;
		close(s->conn);
		s->conn = -1;
		return 0;
	}
	if (read_full(s->conn, buf, n))
		return fail("Mirror-read %s failed: hammer-fuse closed the stream", s->path);
	*len = n;
	return 0;
}

static void scan_close(struct side *s)
{
	if (s->conn >= 0)
		close(s->conn);
	s->conn = -1;
}

/* --- writing */

static void rec_where(const struct hammer_mrec *r, uint64_t recno, uint64_t off,
		      char *out, size_t size)
{
	uint32_t t = hammer_mrec_base_type(r->type);
	const struct hammer_base_elm *b = t == HAMMER_MREC_TYPE_SKIP ? &r->u.skip.beg
					  : &r->u.leaf.base;
	snprintf(out, size, "%s record #%" PRIu64 " at byte %" PRIu64 " of the stream "
		 "(lo=%08x obj=%016" PRIx64 " key=%016" PRIx64 " rt=%02x)",
		 hammer_mrec_type_name(r->type), recno, off, b->localization,
		 (uint64_t)b->obj_id, (uint64_t)b->key, b->rec_type);
}

static int apply_begin(struct side *s, const struct hammer_pseudofs_data *pd2)
{
	if (s->b.m) {
		struct hammer_err e = { 0 };
		int rc = hammer_mirror_write_begin(s->b.m, s->id, pd2, &s->apply, &e);
		if (rc)
			return fail("Mirror-write %s failed: %s", s->path,
				    e.code && e.msg[0] ? e.msg : strerror(-rc));
		return 0;
	}
	char verb[64 + 2 * sizeof(*pd2)], hex[2 * sizeof(*pd2) + 1];
	struct hammer_ctl_reply r;
	hammer_ctl_hex_encode(pd2, sizeof(*pd2), hex);
	snprintf(verb, sizeof(verb), "mirror-write %u %s", s->id, hex);
	int fd = hammer_ctl_open(s->b.at, verb, &r, stderr);
	if (fd == -1)
		return HAMMER_EXIT_USAGE;
	if (fd < 0)
		return fail("Mirror-write %s failed: %s", s->path, r.msg);
	s->conn = fd;
	if (!s->sbuf && !(s->sbuf = malloc(PIECE_SIZE)))
		return fail("out of memory");
	s->slen = 0;
	return 0;
}

/* Mounted: the daemon's answer after it stopped reading (its error line). */
static int apply_peer_error(struct side *s)
{
	struct hammer_ctl_reply r;
	int fd = s->conn;
	s->conn = -1;
	if (hammer_ctl_finish(fd, &r) == 0 && r.status)
		return fail("Mirror-write %s failed: %s", s->path, r.msg);
	return fail("Mirror-write %s failed: %s", s->path,
		    r.msg[0] ? r.msg : "hammer-fuse closed the connection");
}

static int apply_send(struct side *s)
{
	if (s->slen && write_all(s->conn, s->sbuf, s->slen) != 0) {
		s->slen = 0;
		return apply_peer_error(s);
	}
	s->slen = 0;
	return 0;
}

static int apply_rec(struct side *s, const struct hammer_mrec *r, const uint8_t *raw,
		     size_t wire, uint64_t recno, uint64_t off)
{
	if (s->b.m) {
		struct hammer_err e = { 0 };
		int rc = hammer_mirror_write_rec(s->b.m, &s->apply, r, &e);
		if (rc) {
			char where[300];
			rec_where(r, recno, off, where, sizeof(where));
			return fail("Mirror-write %s failed: %s: %s", s->path, where,
				    e.code && e.msg[0] ? e.msg : strerror(-rc));
		}
		return 0;
	}
	if (s->slen + wire > PIECE_SIZE && apply_send(s))
		return HAMMER_EXIT_USAGE;
	memcpy(s->sbuf + s->slen, raw, wire);
	s->slen += wire;
	return 0;
}

/* SYNC (commit) or IDLE; *tid: the slave's new sync_end_tid. */
static int apply_end(struct side *s, int sync, hammer_tid_t *tid)
{
	if (s->b.m) {
		struct hammer_err e = { 0 };
		if (!sync)
			return 0;
		int rc = hammer_mirror_write_sync(s->b.m, &s->apply, &e);
		if (rc)
			return fail("Mirror-write %s failed: %s", s->path,
				    e.code && e.msg[0] ? e.msg : strerror(-rc));
		*tid = s->apply.tid_end;
		return 0;
	}
	uint8_t b[ALIGN8(HAMMER_MREC_TID_SIZE)];
	size_t n = hammer_mrec_put_tid(b, sizeof(b), sync ? HAMMER_MREC_TYPE_SYNC
					 : HAMMER_MREC_TYPE_IDLE, 0);
	if (s->slen + n > PIECE_SIZE && apply_send(s))
		return HAMMER_EXIT_USAGE;
	memcpy(s->sbuf + s->slen, b, n);
	s->slen += n;
	if (apply_send(s))
		return HAMMER_EXIT_USAGE;
	struct hammer_ctl_reply r;
	int fd = s->conn;
	s->conn = -1;
	if (hammer_ctl_finish(fd, &r) || r.status)
		return fail("Mirror-write %s failed: %s", s->path, r.msg);
	char v[40];
	if (sync && hammer_ctl_get(&r, "tid", v, sizeof(v)))
		*tid = strtoull(v, NULL, 16);
	return 0;
}

static void apply_abort(struct side *s)
{
	if (s->conn >= 0)
		close(s->conn);	/* before SYNC: the daemon commits nothing */
	s->conn = -1;
	s->slen = 0;
}

/* ---------------------------------------------------------- cycle file */

/*
 * DragonFly's cycle file (-c): the 40 bytes of a B-tree base element (the
 * key a scan starts at) followed by an 8-byte TID, 48 bytes in all, each
 * field little-endian (DragonFly writes its structures in host order, and
 * every platform it runs on is little-endian):
 *     0 obj_id   8 key   16 create_tid   24 delete_tid   32 rec_type (2)
 *    34 obj_type (1)   35 btype (1)   36 localization (4)   40 TID
 * Written in place (truncate, write), mode 0666 less the umask.  Reading
 * takes what is there: nothing when the file is missing; a file shorter
 * than the key is an older format and is removed; a key without its TID
 * is kept with a warning.  DragonFly reads it in one-way runs without
 * histogram chunking only (-B, no -2).
 *
 * Different from DragonFly: a key other than the start of the key space
 * (a run cut by -t) is not resumed at.  The target of a batch cut short
 * keeps nothing of it (it commits at SYNC only), and a stream starting at
 * a later key would make it mark everything before that key deleted; so
 * the batch starts again at the first key, from the same TID.
 */
static void key_space_start(struct hammer_base_elm *k)
{
	hammer_cycle_key_start(k);
}

static int key_is_start(const struct hammer_base_elm *k)
{
	return hammer_cycle_key_is_start(k);
}

/* Updates *key and *tid with what the file holds (either may stay as is). */
static void cycle_get(struct hammer_base_elm *key, hammer_tid_t *tid)
{
	(void)hammer_cycle_get(O->cyclefile, key, tid, stderr);
}

static void cycle_put(const struct hammer_base_elm *key, hammer_tid_t tid)
{
	hammer_cycle_put(O->cyclefile, key, tid, stderr);
}

/* The cycle file after a batch: the key space's start and a TID. */
static void cycle_put_tid(hammer_tid_t tid)
{
	struct hammer_base_elm k;
	key_space_start(&k);
	cycle_put(&k, tid);
}

/* ---------------------------------------------------------- scoreboard */

/*
 * DragonFly's scoreboard (-e): a small file of three fixed fields,
 * rewritten from offset 0 with pwrite after every change, so a monitor
 * can read it at any time.  A field (offset, width) holds at most width-2
 * characters, padded with blanks, and a newline in its last byte; bytes
 * before a field that were never written are blanks.  The file is created
 * (truncated) at the first message and is as long as the furthest field
 * written so far.  The positions are DragonFly's: line 3 starts at 90,
 * inside line 2 (20..97), so each overwrites 8 bytes of the other; a
 * reader of DragonFly's files sees the same bytes in ours.
 *   line 1: "Running" / "Waiting"
 *   line 2: progress, "obj=OBJ tids=BEG:END BYTES", or "Prescan chunk N"
 *   line 3: the last message (errors, the prescan's summary)
 */
#define SCORE_LINE1	0u, 20u
#define SCORE_LINE2	20u, 78u
#define SCORE_LINE3	90u, 70u

static int score_fd = -1;
static int score_warned;
static size_t score_len;
static char score_buf[1024];

static void score(size_t at, size_t width, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void score(size_t at, size_t width, const char *fmt, ...)
{
	if (!O || !O->scoreboard || at + width > sizeof(score_buf))
		return;
	if (score_fd < 0) {
		score_fd = open(O->scoreboard, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (score_fd < 0) {
			if (!score_warned)
				fprintf(stderr, "Warning: scoreboard %s: %s\n", O->scoreboard,
					strerror(errno));
			score_warned = 1;
			return;
		}
		score_len = 0;
	}
	for (size_t i = 0; i < at; i++) {
		if (score_buf[i] == 0)
			score_buf[i] = ' ';
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(score_buf + at, width - 1, fmt, ap);
	va_end(ap);
	size_t n = strlen(score_buf + at);
	memset(score_buf + at + n, ' ', width - 1 - n);
	score_buf[at + width - 1] = '\n';
	if (score_len < at + width)
		score_len = at + width;
	if (pwrite(score_fd, score_buf, score_len, 0) < 0 && !score_warned) {
		fprintf(stderr, "Warning: scoreboard %s: %s\n", O->scoreboard, strerror(errno));
		score_warned = 1;
	}
}

/* mirror-read's errors also go to line 3 (fail() calls this) */

static void score_error(const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	score(SCORE_LINE3, "%s", msg);
}

/* The object a piece of the stream ends at (its last REC/PASS/SKIP). */
static int64_t piece_last_obj(const uint8_t *p, size_t len, int64_t dflt)
{
	size_t off = 0;
	int64_t obj = dflt;
	while (off < len) {
		struct hammer_mrec r;
		char why[8];
		int n = hammer_mrec_get(p + off, len - off, &r, NULL, why, sizeof(why));
		if (n <= 0)
			break;
		off += (size_t)n;
		uint32_t t = hammer_mrec_base_type(r.type);
		if (t == HAMMER_MREC_TYPE_REC || t == HAMMER_MREC_TYPE_PASS)
			obj = r.u.leaf.base.obj_id;
		else if (t == HAMMER_MREC_TYPE_SKIP)
			obj = r.u.skip.end.obj_id;
	}
	return obj;
}

/* ---------------------------------------------------------- mirror-read */

struct reader {
	struct side src;
	struct rstream in;	/* -2: the target's answers */
	struct wstream out;
	uint8_t *piece;
	/* histogram chunks: chunk i covers (end[i-1], end[i]] */
	hammer_tid_t *chunk_end;
	uint64_t *chunk_bytes;
	size_t nchunks, next;	/* next: the chunk of the next batch */
	int hist;		/* chunking in force */
	int prescanned;
	uint64_t est_left;	/* prescan bytes not sent yet */
	double t0, last_progress;
	uint64_t sent0;
};

static void progress(struct reader *rd, int force)
{
	if (O->verbose < 1)
		return;
	double t = now_s();
	if (!force && t - rd->last_progress < 1.0)
		return;
	rd->last_progress = t;
	uint64_t sent = rd->out.total + rd->out.len;
	double el = t - rd->t0 > 1e-3 ? t - rd->t0 : 1e-3;
	double rate = (double)(sent - rd->sent0) / el;
	char a[32], b[32], c[32];
	fprintf(stderr, "Mirror-read: %s sent, %s/s", hammer_sizetostr(a, (int64_t)sent),
		hammer_sizetostr(b, (int64_t)rate));
	if (rd->prescanned) {
		uint64_t left = rd->est_left > sent ? rd->est_left - sent : 0;
		fprintf(stderr, ", about %s left", hammer_sizetostr(c, (int64_t)left));
		if (rate > 1)
			fprintf(stderr, " (%.0f s)", (double)left / rate);
	}
	fputc(isatty(2) && !force ? '\r' : '\n', stderr);
	fflush(stderr);
}

static size_t bucket_of(hammer_tid_t t, hammer_tid_t beg, hammer_tid_t end)
{
	if (end <= beg)
		return 0;
	unsigned __int128 x = (unsigned __int128)(t - beg) * HIST_COUNT / (end - beg);
	return x >= HIST_COUNT ? HIST_COUNT - 1 : (size_t)x;
}

/* The last TID of bucket i. */
static hammer_tid_t bucket_end(size_t i, hammer_tid_t beg, hammer_tid_t end)
{
	unsigned __int128 r = end - beg;
	unsigned __int128 x = ((unsigned __int128)(i + 1) * r + HIST_COUNT - 1) / HIST_COUNT;
	return i + 1 >= HIST_COUNT ? end : beg + (hammer_tid_t)x - 1;
}

struct tidcost {
	hammer_tid_t tid;
	uint64_t cost;
};

static int tidcost_cmp(const void *a, const void *b)
{
	const struct tidcost *x = a, *y = b;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

#define PAIRS_MAX	(8u * 1024u * 1024u)	/* then buckets (128 MiB of pairs) */

/* Append chunk end e with `bytes` to the reader's list. */
static int add_chunk(struct reader *rd, size_t *cap, hammer_tid_t e, uint64_t bytes)
{
	if (rd->nchunks + 1 >= *cap || !rd->chunk_end) {
		size_t nc = *cap ? *cap * 2 : 16;
		hammer_tid_t *ne = realloc(rd->chunk_end, nc * sizeof(*ne));
		if (ne)
			rd->chunk_end = ne;
		uint64_t *nb = realloc(rd->chunk_bytes, nc * sizeof(*nb));
		if (nb)
			rd->chunk_bytes = nb;
		if (!ne || !nb)
			return fail("out of memory");
		*cap = nc;
	}
	rd->chunk_end[rd->nchunks] = e;
	rd->chunk_bytes[rd->nchunks++] = bytes;
	return 0;
}

/*
 * The prescan (DragonFly's generate_histogram idea): a NODATA scan of
 * [beg, end] counting the bytes each record will cost at its create_tid
 * (head and data) and delete_tid (head), then chunks of about -S bytes.
 * The (TID, bytes) pairs are kept and sorted, so chunks are cut at exact
 * TIDs however close together the TIDs are; past PAIRS_MAX pairs they go
 * into DragonFly's 1,048,576 buckets over [beg, end] instead.
 */
static int prescan(struct reader *rd, hammer_tid_t beg, hammer_tid_t end)
{
	struct side *s = &rd->src;
	hammer_tid_t lo = 0, hi = 0;
	uint64_t total = 0;
	free(rd->chunk_end);
	free(rd->chunk_bytes);
	rd->chunk_end = NULL;
	rd->chunk_bytes = NULL;
	rd->nchunks = rd->next = 0;
	uint64_t *bytes = NULL, accum = 0;
	unsigned chunkno = 0;
	struct tidcost *pairs = NULL;
	size_t npairs = 0, pcap = 0, ccap = 0;
	int rc = 0;
	if (beg <= end) {
		rc = scan_open(s, beg, end, HAMMER_MIRROR_NODATA);
		for (int done = 0; !rc && !done; ) {
			size_t len, off = 0;
			rc = scan_next(s, rd->piece, &len, &done);
			while (!rc && off < len) {
				struct hammer_mrec r;
				char why[200] = "";
				int n = hammer_mrec_get(rd->piece + off, len - off, &r, NULL, why,
							sizeof(why));
				if (n <= 0) {
					rc = fail("Mirror-read %s: the prescan got a malformed "
						  "record: %s", s->path, n ? why : "cut");
					break;
				}
				off += (size_t)n;
				uint32_t t = hammer_mrec_base_type(r.type);
				if (t != HAMMER_MREC_TYPE_REC && t != HAMMER_MREC_TYPE_PASS)
					continue;
				const struct hammer_base_elm *b = &r.u.leaf.base;
				hammer_tid_t tids[2] = { b->create_tid, b->delete_tid };
				for (int k = 0; k < 2 && !rc; k++) {
					if (!tids[k] || tids[k] < beg || tids[k] > end)
						continue;
					uint64_t cost = ALIGN8(r.rec_size);
					if (k == 0 && (r.type & HAMMER_MRECF_NODATA) &&
					    r.u.leaf.data_len > 0)
						cost += ALIGN8((size_t)r.u.leaf.data_len);
					total += cost;
					accum += cost;
					if (accum > O->splitsize) {
						score(SCORE_LINE2, "Prescan chunk %u", ++chunkno);
						accum = 0;
					}
					if (!lo || tids[k] < lo)
						lo = tids[k];
					if (tids[k] > hi)
						hi = tids[k];
					if (bytes) {
						bytes[bucket_of(tids[k], beg, end)] += cost;
						continue;
					}
					if (npairs && pairs[npairs - 1].tid == tids[k]) {
						pairs[npairs - 1].cost += cost;
						continue;
					}
					if (npairs == pcap && pcap >= PAIRS_MAX) {
						bytes = calloc(HIST_COUNT, sizeof(*bytes));
						if (!bytes) {
							rc = fail("out of memory");
							break;
						}
						for (size_t i = 0; i < npairs; i++)
							bytes[bucket_of(pairs[i].tid, beg, end)] +=
								pairs[i].cost;
						bytes[bucket_of(tids[k], beg, end)] += cost;
						free(pairs);
						pairs = NULL;
						npairs = 0;
						continue;
					}
					if (npairs == pcap) {
						size_t nc = pcap ? pcap * 2 : 4096;
						struct tidcost *np = realloc(pairs, nc * sizeof(*np));
						if (!np) {
							rc = fail("out of memory");
							break;
						}
						pairs = np;
						pcap = nc;
					}
					pairs[npairs].tid = tids[k];
					pairs[npairs++].cost = cost;
				}
			}
		}
		scan_close(s);
	}
	uint64_t acc = 0;
	hammer_tid_t last = beg;
	if (!rc && pairs) {
		qsort(pairs, npairs, sizeof(*pairs), tidcost_cmp);
		for (size_t i = 0; !rc && i < npairs; i++) {
			acc += pairs[i].cost;
			if (i + 1 < npairs && pairs[i + 1].tid == pairs[i].tid)
				continue;
			if (acc < O->splitsize || pairs[i].tid >= end || pairs[i].tid <= last)
				continue;
			rc = add_chunk(rd, &ccap, pairs[i].tid, acc);
			last = pairs[i].tid;
			acc = 0;
		}
	}
	for (size_t i = 0; !rc && bytes && i < HIST_COUNT; i++) {
		acc += bytes[i];
		if (acc < O->splitsize || i + 1 == HIST_COUNT)
			continue;
		hammer_tid_t e = bucket_end(i, beg, end);
		if (e <= last || e >= end)
			continue;
		rc = add_chunk(rd, &ccap, e, acc);
		last = e;
		acc = 0;
	}
	if (!rc)
		rc = add_chunk(rd, &ccap, end, acc);
	free(bytes);
	free(pairs);
	if (rc)
		return rc;
	if (!lo) {
		lo = beg;
		hi = end;
	}
	fprintf(stderr, "histogram range %016" PRIx64 " - %016" PRIx64 "\n", (uint64_t)lo,
		(uint64_t)hi);
	score(SCORE_LINE3, "Prescan %zu chunks, total %" PRIu64 " MBytes", rd->nchunks,
	      total / (1024 * 1024));
	if (O->verbose) {
		fprintf(stderr, "Prescan %zu chunks, total %" PRIu64 " MBytes (", rd->nchunks,
			total / (1024 * 1024));
		for (size_t i = 0; i < rd->nchunks && i < 3; i++)
			fprintf(stderr, "%s%" PRIu64, i ? ", " : "", rd->chunk_bytes[i]);
		fprintf(stderr, "%s)\n", rd->nchunks > 3 ? ", ..." : "");
	}
	fflush(stderr);
	rd->est_left = rd->out.total + rd->out.len + total;
	rd->prescanned = 1;
	rd->hist = 1;
	return 0;
}

/* Whether the other end of the stream went away (mirror-read-stream's wait). */
static int peer_gone(void)
{
	struct pollfd p[2] = { { .fd = 1, .events = 0 }, { .fd = 0, .events = POLLRDHUP } };
	int n = O->twoway ? 2 : 1;
	if (poll(p, (nfds_t)n, 0) <= 0)
		return 0;
	if (p[0].revents & (POLLERR | POLLHUP))
		return 1;
	if (n == 2 && (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR)))
		return 1;
	return 0;
}

/*
 * mirror-read-stream: wait until the source has flushed something after
 * tid (pfs-wait), then the rest of the -i delay.  1: go on, 0: the peer is
 * gone, or an exit status.
 */
static int stream_wait(struct reader *rd, hammer_tid_t tid)
{
	double t1 = now_s();
	for (;;) {
		if (peer_gone())
			return 0;
		char verb[96], v[40];
		struct hammer_ctl_reply r;
		snprintf(verb, sizeof(verb), "pfs-wait %u 0x%016" PRIx64 " %u", rd->src.id,
			 (uint64_t)tid, WAIT_SLICE_MS);
		if (hammer_ctl_call(rd->src.b.at, verb, &r, stderr))
			return HAMMER_EXIT_USAGE;
		if (r.status)
			return fail("Mirror-read %s: cannot stream: %s", rd->src.path, r.msg);
		if (hammer_ctl_get(&r, "new", v, sizeof(v)) && strcmp(v, "1") == 0)
			break;
	}
	double left = (double)O->delay - (now_s() - t1);
	while (left > 0) {
		if (peer_gone())
			return 0;
		sleep_s(left > 0.5 ? 0.5 : left);
		left -= 0.5;
	}
	return 1;
}

/* The target's PFSD (-2): its sync_end_tid.  1 ok, 0 TERM, else a status. */
static int read_target_pfsd(struct reader *rd, hammer_tid_t *sync_end)
{
	struct hammer_mrec r;
	int n = rs_next(&rd->in, &r, NULL, NULL);
	if (n < 0)
		return HAMMER_EXIT_USAGE;
	if (n == 0)
		return fail("validate_mrec_header: short read (the target sent no PFSD)");
	uint32_t t = hammer_mrec_base_type(r.type);
	if (t == HAMMER_MREC_TYPE_TERM)
		return 0;
	if (t != HAMMER_MREC_TYPE_PFSD)
		return fail("validate_mrec_header: did not get expected PFSD record type "
			    "(got %s)", hammer_mrec_type_name(r.type));
	if (memcmp(&r.u.pfs.pfsd.shared_uuid, &rd->src.pd.shared_uuid,
		   sizeof(r.u.pfs.pfsd.shared_uuid)) != 0)
		return fail("mirror-write: source and target have different shared-uuid's!");
	*sync_end = r.u.pfs.pfsd.sync_end_tid;
	return 1;
}

static int mirror_read(const char *path, const char *begin_arg, int streaming)
{
	struct reader rd;
	int rc = 0;
	memset(&rd, 0, sizeof(rd));
	side_init(&rd.src, path);
	if ((rc = hpfs_check_restrict(O, path)))
		return rc;
	score_errors = 1;
	if (streaming && O->devs)
		return fail("mirror-read-stream needs a mounted file system (it waits for "
			    "the daemon's flushes); -f is for mirror-read");
	if (O->devs && (rc = side_mount(&rd.src, 1)))
		return rc;
	if (rs_init(&rd.in, 0, "mirror-read") || ws_init(&rd.out, 1, O->bandwidth) ||
	    !(rd.piece = malloc(PIECE_SIZE))) {
		rc = fail("out of memory");
		goto out;
	}
	rc = hpfs_getpfs(&rd.src.b, path, &rd.src.id, &rd.src.pd, &rd.src.version);
	if (rc)
		goto out;
	rd.t0 = now_s();
	double deadline = O->timeout ? rd.t0 + O->timeout : 0;
	hammer_tid_t last_end = 0;
	for (;;) {
		hammer_tid_t tid_beg = 0, tid_end;
		uint64_t batch_bytes = 0;
		score(SCORE_LINE1, "Running");
		if ((rc = side_refresh(&rd.src)))
			goto out;
		if (ws_pfsd(&rd.out, &rd.src.pd) || ws_flush(&rd.out)) {
			rc = ws_error(&rd.out, "Mirror-read");
			goto out;
		}
		if (O->twoway) {
			hammer_tid_t te = 0;
			int n = read_target_pfsd(&rd, &te);
			if (n == 0)
				goto out;	/* the target ended the stream */
			if (n != 1) {
				rc = n;
				goto out;
			}
			tid_beg = te + 1;
		} else if (last_end) {
			/* one-way: the next chunk, or what came after the last batch */
			tid_beg = last_end + 1;
		}
		if ((rc = side_refresh(&rd.src)))
			goto out;
		struct hammer_pseudofs_data pd2 = rd.src.pd;
		if (tid_beg < pd2.sync_beg_tid)
			tid_beg = pd2.sync_beg_tid;
		tid_end = pd2.sync_end_tid;
		if (!O->twoway && !rd.hist && O->cyclefile && O->bulk) {
			struct hammer_base_elm k;
			key_space_start(&k);
			cycle_get(&k, &tid_beg);
			if (!key_is_start(&k))
				fprintf(stderr, "Mirror-read: cycle file %s resumes at object "
					"%016" PRIx64 ": not supported, the batch starts again at "
					"the first object\n", O->cyclefile, (uint64_t)k.obj_id);
		}
		if (begin_arg)
			tid_beg = strtoull(begin_arg, NULL, 0);
		if (!rd.prescanned && !O->bulk) {
			if ((rc = prescan(&rd, tid_beg, tid_end)))
				goto out;
		}
		if (rd.hist) {
			/* the first chunk not done yet */
			while (rd.next + 1 < rd.nchunks && rd.chunk_end[rd.next] < tid_beg)
				rd.next++;
			if (rd.chunk_end[rd.next] < tid_end)
				tid_end = rd.chunk_end[rd.next];
			rd.next++;
		}
		pd2.sync_beg_tid = tid_beg;
		pd2.sync_end_tid = tid_end;
		if (ws_pfsd(&rd.out, &pd2)) {
			rc = ws_error(&rd.out, "Mirror-read");
			goto out;
		}
		if (!streaming || O->verbose >= 2)
			fprintf(stderr, "Mirror-read: Mirror from %016" PRIx64 " to %016" PRIx64 "\n",
				(uint64_t)tid_beg, (uint64_t)tid_end);
		int didwork = 0, interrupted = 0;
		/* the range is inclusive: a record at the durable TID itself is durable */
		if (tid_beg > tid_end) {
			if (!streaming || O->verbose >= 2)
				fprintf(stderr, "Mirror-read: No work to do\n");
		} else {
			didwork = 1;
			int64_t last_obj = HAMMER_MIN_OBJID;
			rc = scan_open(&rd.src, tid_beg, tid_end, 0);
			for (int done = 0; !rc && !done; ) {
				size_t len;
				rc = scan_next(&rd.src, rd.piece, &len, &done);
				if (rc)
					break;
				if (len && ws_put(&rd.out, rd.piece, len)) {
					rc = ws_error(&rd.out, "Mirror-read");
					break;
				}
				batch_bytes += len;
				if (O->scoreboard && (streaming || rd.hist) && !O->verbose) {
					last_obj = rd.src.b.m ? rd.src.scan.key_cur.obj_id
						   : piece_last_obj(rd.piece, len, last_obj);
					score(SCORE_LINE2, "obj=%016" PRIx64 " tids=%016" PRIx64
					      ":%016" PRIx64 " %11" PRIu64, (uint64_t)last_obj,
					      (uint64_t)tid_beg, (uint64_t)tid_end, batch_bytes);
				}
				progress(&rd, 0);
				if (deadline && now_s() > deadline && !done) {
					interrupted = 1;
					break;
				}
			}
			scan_close(&rd.src);
			if (rc)
				goto out;
		}
		fflush(stderr);
		if (interrupted) {
			fprintf(stderr, "Mirror-read %s interrupted by timer after %" PRIu64
				" bytes\n", path, rd.out.total + rd.out.len);
			score(SCORE_LINE3, "Mirror-read %s interrupted by timer after %" PRIu64
			      " bytes", path, rd.out.total + rd.out.len);
			/* TERM: the target drops the unfinished batch */
			if (ws_tid(&rd.out, HAMMER_MREC_TYPE_TERM, 0) || ws_flush(&rd.out))
				rc = ws_error(&rd.out, "Mirror-read");
			/* the next run does this batch again, from its first key */
			if (O->cyclefile) {
				if (O->twoway) {
					cycle_put_tid(tid_beg);
					fprintf(stderr, "Cyclefile %s updated for continuation\n",
						O->cyclefile);
				} else {
					fprintf(stderr, "Warning: cycle file (-c option) cannot be "
						"fully updated unless you use mirror-copy\n");
					cycle_put_tid(tid_beg);
				}
			}
			goto out;
		}
		if (ws_tid(&rd.out, didwork ? HAMMER_MREC_TYPE_SYNC : HAMMER_MREC_TYPE_IDLE, 0) ||
		    ws_flush(&rd.out)) {
			rc = ws_error(&rd.out, "Mirror-read");
			goto out;
		}
		progress(&rd, didwork);
		if (O->twoway) {
			struct hammer_mrec r;
			int n = rs_next(&rd.in, &r, NULL, NULL);
			if (n < 0) {
				rc = HAMMER_EXIT_USAGE;
				goto out;
			}
			if (n == 0 || hammer_mrec_base_type(r.type) != HAMMER_MREC_TYPE_UPDATE) {
				rc = fail("mirror_read: Did not get final acknowledgement packet "
					  "from target");
				goto out;
			}
			if (O->cyclefile) {
				cycle_put_tid(r.u.tid);
				fprintf(stderr, "Cyclefile %s updated to 0x%016" PRIx64 "\n",
					O->cyclefile, (uint64_t)r.u.tid);
			}
		} else if (O->cyclefile) {
			fprintf(stderr, "Warning: cycle file (-c option) cannot be fully updated "
				"unless you use mirror-copy\n");
			cycle_put_tid(tid_beg);
		}
		last_end = tid_end;
		begin_arg = NULL;	/* the next batches go on from here */
		if (rd.hist && rd.next < rd.nchunks)
			continue;	/* the next chunk at once */
		rd.hist = 0;
		if (!streaming)
			break;
		if (!O->verbose)
			score(SCORE_LINE1, "Waiting");
		int w = stream_wait(&rd, tid_end);
		if (w == 0)
			goto out;	/* nobody listens any more */
		if (w != 1) {
			rc = w;
			goto out;
		}
	}
	if (ws_tid(&rd.out, HAMMER_MREC_TYPE_TERM, 0) || ws_flush(&rd.out)) {
		rc = ws_error(&rd.out, "Mirror-read");
		goto out;
	}
	fprintf(stderr, "Mirror-read %s succeeded\n", path);
out:
	score_errors = 0;
	fflush(stderr);
	{
		int urc = side_unmount(&rd.src);
		if (!rc)
			rc = urc;
	}
	free(rd.piece);
	free(rd.in.buf);
	free(rd.out.buf);
	free(rd.chunk_end);
	free(rd.chunk_bytes);
	return rc;
}

/* ---------------------------------------------------------- mirror-write */

/* DragonFly's getyntty: stdin is the stream, so ask the terminal. */
static int getyntty(void)
{
	FILE *f = fopen("/dev/tty", "r");
	char buf[256];
	if (!f) {
		fprintf(stderr, "No terminal for response\n");
		return -1;
	}
	int res = -1;
	if (fgets(buf, sizeof(buf), f)) {
		if (buf[0] == 'y' || buf[0] == 'Y')
			res = 1;
		else if (buf[0] == 'n' || buf[0] == 'N')
			res = 0;
		else
			fprintf(stderr, "Response not understood\n");
	}
	fclose(f);
	return res;
}

/* A missing target: pfs-slave with the stream's shared-uuid (asks unless -y). */
static int create_slave(struct side *t, const hammer_uuid_t *shared)
{
	if (O->yes) {
		fprintf(stderr, "PFS slave %s does not exist. Auto create new slave PFS!\n",
			t->path);
	} else {
		fprintf(stderr, "PFS slave %s does not exist.\n"
			"Do you want to create a new slave PFS? [y/n] ", t->path);
		fflush(stderr);
		if (getyntty() != 1)
			return fail("Aborting operation");
	}
	char u[37], opt[64], *av[4];
	hammer_uuid_format(shared, u);
	snprintf(opt, sizeof(opt), "shared-uuid=%s", u);
	av[0] = "pfs-slave";
	av[1] = (char *)t->path;
	av[2] = opt;
	av[3] = NULL;
	FILE *saved = hpfs_outf;
	hpfs_outf = stderr;	/* DragonFly: 1>&2; stdout may be the stream */
	hpfs_errf = stderr;
	int rc = hpfs_command(&t->b, 3, av);
	hpfs_outf = saved;
	if (rc)
		return fail("Failed to create PFS %s", t->path);
	return 0;
}

static int mirror_write(const char *path)
{
	struct side tgt;
	struct rstream in;
	struct wstream out;
	int rc = 0, resolved = 0;
	side_init(&tgt, path);
	if ((rc = hpfs_check_restrict(O, path)))
		return rc;
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	if (O->devs && (rc = side_mount(&tgt, 0)))
		return rc;
	if (rs_init(&in, 0, "mirror-write") || ws_init(&out, 1, 0)) {
		rc = HAMMER_EXIT_USAGE;
		goto out;
	}
	for (;;) {
		struct hammer_mrec r;
		const uint8_t *raw;
		size_t wire;
		int n = rs_next(&in, &r, &raw, &wire);
		if (n < 0) {
			rc = HAMMER_EXIT_USAGE;
			goto out;
		}
		if (n == 0) {
			rc = fail("validate_mrec_header: short read (the stream ends at byte %"
				  PRIu64 " without TERM)", in.pos);
			goto out;
		}
		uint32_t t = hammer_mrec_base_type(r.type);
		if (t == HAMMER_MREC_TYPE_TERM)
			break;
		if (t != HAMMER_MREC_TYPE_PFSD) {
			rc = fail("validate_mrec_header: did not get expected PFSD record type "
				  "(got %s at byte %" PRIu64 ")", hammer_mrec_type_name(r.type),
				  in.rec_pos);
			goto out;
		}
		if (!resolved) {
			struct hpfs_st st;
			if (hpfs_stat(&tgt.b, path, 0, &st) != 0 &&
			    (rc = create_slave(&tgt, &r.u.pfs.pfsd.shared_uuid)))
				goto out;
			if ((rc = hpfs_getpfs(&tgt.b, path, &tgt.id, &tgt.pd, &tgt.version)))
				goto out;
			resolved = 1;
		} else if ((rc = side_refresh(&tgt))) {
			goto out;
		}
		if (O->twoway && (ws_pfsd(&out, &tgt.pd) || ws_flush(&out))) {
			rc = ws_error(&out, "Mirror-write");
			goto out;
		}
		n = rs_next(&in, &r, &raw, &wire);
		if (n < 0) {
			rc = HAMMER_EXIT_USAGE;
			goto out;
		}
		if (n == 0) {
			rc = fail("validate_mrec_header: short read (the stream ends at byte %"
				  PRIu64 " after the first PFSD)", in.pos);
			goto out;
		}
		t = hammer_mrec_base_type(r.type);
		if (t == HAMMER_MREC_TYPE_TERM)
			break;
		if (t != HAMMER_MREC_TYPE_PFSD) {
			rc = fail("validate_mrec_header: did not get expected PFSD record type "
				  "(got %s at byte %" PRIu64 ")", hammer_mrec_type_name(r.type),
				  in.rec_pos);
			goto out;
		}
		struct hammer_pseudofs_data pd2 = r.u.pfs.pfsd;
		if (memcmp(&pd2.shared_uuid, &tgt.pd.shared_uuid, sizeof(pd2.shared_uuid))) {
			rc = fail("mirror-write: source and target have different shared-uuid's!");
			goto out;
		}
		if (!(tgt.pd.mirror_flags & HAMMER_PFSD_SLAVE)) {
			rc = fail("mirror-write: target must be in slave mode");
			goto out;
		}
		int begun = 0, synced = 0;
		uint64_t recno = 0;
		hammer_tid_t tid = pd2.sync_end_tid;
		for (;;) {
			n = rs_next(&in, &r, &raw, &wire);
			if (n < 0) {
				rc = HAMMER_EXIT_USAGE;
				goto out;
			}
			if (n == 0) {
				rc = fail("read_mrecords: short read on pipe: the stream ends at "
					  "byte %" PRIu64 " inside a batch (nothing of it was "
					  "committed; %s stays at its sync_end_tid)", in.pos, path);
				goto out;
			}
			t = hammer_mrec_base_type(r.type);
			if (t == HAMMER_MREC_TYPE_REC || t == HAMMER_MREC_TYPE_PASS ||
			    t == HAMMER_MREC_TYPE_SKIP) {
				if (!begun && (rc = apply_begin(&tgt, &pd2)))
					goto out;
				begun = 1;
				if (t == HAMMER_MREC_TYPE_REC &&
				    !(r.type & (HAMMER_MRECF_CRC_ERROR | HAMMER_MRECF_NODATA)) &&
				    r.data_len && !hammer_mrec_data_crc_ok(tgt.version, &r)) {
					char where[300];
					rec_where(&r, recno, in.rec_pos, where, sizeof(where));
					rc = fail("read_mrecords: data_crc did not match data! %s",
						  where);
					goto out;
				}
				if ((rc = apply_rec(&tgt, &r, raw, wire, recno, in.rec_pos)))
					goto out;
				recno++;
				continue;
			}
			if (t == HAMMER_MREC_TYPE_SYNC || t == HAMMER_MREC_TYPE_IDLE) {
				if (t == HAMMER_MREC_TYPE_SYNC && !begun &&
				    (rc = apply_begin(&tgt, &pd2)))
					goto out;
				if (t == HAMMER_MREC_TYPE_SYNC || begun) {
					begun = 1;
					if ((rc = apply_end(&tgt, t == HAMMER_MREC_TYPE_SYNC, &tid)))
						goto out;
				}
				synced = t == HAMMER_MREC_TYPE_SYNC;
				break;
			}
			if (t == HAMMER_MREC_TYPE_TERM) {
				fprintf(stderr, "Mirror-write: received termination request\n");
				apply_abort(&tgt);
				goto out;
			}
			rc = fail("Mirror-write %s: Did not get termination sync record, or "
				  "rec_size is wrong rt=%d (%s at byte %" PRIu64 ")", path,
				  (int)r.type, hammer_mrec_type_name(r.type), in.rec_pos);
			goto out;
		}
		if (synced && O->verbose >= 2)
			fprintf(stderr, "Mirror-write %s: succeeded\n", path);
		if (O->twoway) {
			if (ws_tid(&out, HAMMER_MREC_TYPE_UPDATE, pd2.sync_end_tid) ||
			    ws_flush(&out)) {
				rc = ws_error(&out, "Mirror-write");
				goto out;
			}
		} else {
			printf("Source can update synctid to 0x%016" PRIx64 "\n",
			       (uint64_t)pd2.sync_end_tid);
			fflush(stdout);
		}
		(void)tid;
	}
out:
	apply_abort(&tgt);
	fflush(stderr);
	{
		int urc = side_unmount(&tgt);
		if (!rc)
			rc = urc;
	}
	free(in.buf);
	free(out.buf);
	return rc;
}

/* ---------------------------------------------------------- mirror-dump */

static int mirror_dump(int argc, char **argv)
{
	int header = 0;
	if (argc == 1 && strcmp(argv[0], "header") == 0)
		header = 1;
	else if (argc != 0)
		return usage_mirror();
	struct rstream in;
	if (rs_init(&in, 0, "mirror-dump"))
		return HAMMER_EXIT_USAGE;
	int rc = 0, inbatch = 0, any = 0;
	char u[37];
	for (;;) {
		struct hammer_mrec r;
		int n = rs_next(&in, &r, NULL, NULL);
		if (n < 0) {
			rc = HAMMER_EXIT_USAGE;
			break;
		}
		if (n == 0) {
			if (inbatch) {
				rc = fail("Mirror-dump: Did not get termination sync record (the "
					  "stream ends at byte %" PRIu64 " inside a batch)", in.pos);
			} else if (!any) {
				rc = fail("Mirror-dump: the stream is empty");
			}
			break;
		}
		any = 1;
		uint32_t t = hammer_mrec_base_type(r.type);
		if (header) {
			if (t != HAMMER_MREC_TYPE_PFSD) {
				rc = fail("validate_mrec_header: did not get expected PFSD record "
					  "type (got %s)", hammer_mrec_type_name(r.type));
				break;
			}
			hpfs_dump_pfsd(stdout, &r.u.pfs.pfsd, 0);
			break;
		}
		switch (t) {
		case HAMMER_MREC_TYPE_REC:
		case HAMMER_MREC_TYPE_PASS:
		case HAMMER_MREC_TYPE_SKIP:
			hammer_mrec_dump(stdout, &r);
			break;
		case HAMMER_MREC_TYPE_PFSD:
			inbatch = 1;
			if (O->verbose) {
				hammer_uuid_format(&r.u.pfs.pfsd.shared_uuid, u);
				printf("PFSD   tids %016" PRIx64 ":%016" PRIx64 " shared-uuid=%s%s\n",
				       (uint64_t)r.u.pfs.pfsd.sync_beg_tid,
				       (uint64_t)r.u.pfs.pfsd.sync_end_tid, u,
				       (r.u.pfs.pfsd.mirror_flags & HAMMER_PFSD_SLAVE) ? " slave" : "");
			}
			break;
		default:
			if (t == HAMMER_MREC_TYPE_SYNC || t == HAMMER_MREC_TYPE_IDLE ||
			    t == HAMMER_MREC_TYPE_TERM)
				inbatch = 0;
			if (O->verbose)
				printf("%-6s tid %016" PRIx64 "\n", hammer_mrec_type_name(r.type),
				       (uint64_t)r.u.tid);
			break;
		}
	}
	fflush(stdout);
	free(in.buf);
	return rc;
}

/* ---------------------------------------------------------- mirror-copy/-stream */

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* [user@]host:path with no '/' before the ':' */
static int is_remote(const char *spec)
{
	const char *c = strchr(spec, ':');
	return c && c > spec && memchr(spec, '/', (size_t)(c - spec)) == NULL;
}

/* The remote half: exec ssh (or $HAMMER_RSH) running hammer on the host. */
static void exec_remote(const char *spec, const char *cmd, int source, int streaming)
{
	const char *xav[96];
	int n = 0;
	char *rsh = strdup(getenv("HAMMER_RSH") && *getenv("HAMMER_RSH")
			   ? getenv("HAMMER_RSH") : "ssh");
	for (char *tok = strtok(rsh, " \t"); tok && n < 32; tok = strtok(NULL, " \t"))
		xav[n++] = tok;
	if (O->compress)
		xav[n++] = "-C";
	const char *colon = strchr(spec, ':');
	const char *at = memchr(spec, '@', (size_t)(colon - spec));
	char *host;
	if (at) {
		xav[n++] = "-l";
		xav[n++] = strndup(spec, (size_t)(at - spec));
		host = strndup(at + 1, (size_t)(colon - at - 1));
	} else {
		host = strndup(spec, (size_t)(colon - spec));
	}
	xav[n++] = host;
	if (O->ssh_port) {
		xav[n++] = "-p";
		xav[n++] = O->ssh_port;
	}
	xav[n++] = "hammer";
	if (O->verbose)
		xav[n++] = O->verbose == 1 ? "-v" : O->verbose == 2 ? "-vv" : "-vvv";
	if (O->yes)
		xav[n++] = "-y";
	xav[n++] = "-2";
	char tbuf[32], ibuf[32];
	if (source) {
		if (O->timeout) {
			snprintf(tbuf, sizeof(tbuf), "%d", O->timeout);
			xav[n++] = "-t";
			xav[n++] = tbuf;
		}
		if (O->splitsize_str) {
			xav[n++] = "-S";
			xav[n++] = O->splitsize_str;
		}
		if (O->bulk)
			xav[n++] = "-B";
		if (O->bandwidth_str) {
			xav[n++] = "-b";
			xav[n++] = O->bandwidth_str;
		}
		if (streaming && O->delay != 5) {
			snprintf(ibuf, sizeof(ibuf), "%d", O->delay);
			xav[n++] = "-i";
			xav[n++] = ibuf;
		}
	}
	xav[n++] = cmd;
	xav[n++] = colon + 1;
	xav[n] = NULL;
	if (O->verbose >= 2) {
		fprintf(stderr, "running:");
		for (int i = 0; i < n; i++)
			fprintf(stderr, " %s", xav[i]);
		fprintf(stderr, "\n");
	}
	execvp(xav[0], (char **)xav);
	fail("cannot run %s: %s", xav[0], strerror(errno));
}

static pid_t start_half(int sock, int other, const char *spec, int source, int streaming)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	close(other);	/* or the peer's end never sees us go */
	dup2(sock, 0);
	dup2(sock, 1);
	if (sock > 1)
		close(sock);
	int rc;
	if (is_remote(spec)) {
		exec_remote(spec, source ? (streaming ? "mirror-read-stream" : "mirror-read")
			    : "mirror-write", source, streaming);
		_exit(1);
	}
	O->twoway = 1;
	O->out = stderr;
	rc = source ? mirror_read(spec, NULL, streaming) : mirror_write(spec);
	fflush(stdout);
	fflush(stderr);
	_exit(rc);
}

static int wait_child(pid_t pid, int *status)
{
	for (;;) {
		pid_t w = waitpid(pid, status, 0);
		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -1;
		if (stop_requested)
			return 1;
	}
}

static int mirror_copy(int argc, char **argv, int streaming)
{
	if (argc != 2)
		return usage_mirror();
	if (O->devs)
		return fail("mirror-%s works on mounted file systems; with -f use "
			    "`hammer -f SRC mirror-read PATH | hammer -f DST mirror-write PATH`",
			    streaming ? "stream" : "copy");
	const char *e = getenv("HAMMER_MIRROR_RETRY");
	double retry = e && *e ? atof(e) : 15.0;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (;;) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
			return fail("socketpair: %s", strerror(errno));
		pid_t p1 = start_half(sv[0], sv[1], argv[0], 1, streaming);
		pid_t p2 = p1 > 0 ? start_half(sv[1], sv[0], argv[1], 0, streaming) : -1;
		close(sv[0]);
		close(sv[1]);
		if (p1 < 0 || p2 < 0) {
			if (p1 > 0) {
				kill(p1, SIGTERM);
				waitpid(p1, NULL, 0);
			}
			return fail("fork: %s", strerror(errno));
		}
		int s1 = 0, s2 = 0;
		int w1 = wait_child(p1, &s1);
		int w2 = w1 == 1 ? 1 : wait_child(p2, &s2);
		if (w1 == 1 || w2 == 1 || stop_requested) {
			/* SIGTERM/SIGINT: stop both halves, a clean end */
			kill(p1, SIGTERM);
			kill(p2, SIGTERM);
			waitpid(p1, NULL, 0);
			waitpid(p2, NULL, 0);
			return HAMMER_EXIT_OK;
		}
		int ok = WIFEXITED(s1) && WEXITSTATUS(s1) == 0 && WIFEXITED(s2) &&
			 WEXITSTATUS(s2) == 0;
		if (!streaming)
			return ok ? HAMMER_EXIT_OK : HAMMER_EXIT_USAGE;
		if (O->verbose) {
			fprintf(stderr, "\nLost Link\n");
			fflush(stderr);
		}
		double until = now_s() + retry + O->delay;
		while (!stop_requested && now_s() < until)
			sleep_s(0.2);
		if (stop_requested)
			return HAMMER_EXIT_OK;
	}
}

/* ---------------------------------------------------------- entry */

int cmd_mirror(struct hammer_opts *o, int argc, char **argv)
{
	const char *cmd = argv[0];
	O = o;
	hpfs_errf = o->err;
	hpfs_outf = o->out;
	signal(SIGPIPE, SIG_IGN);	/* a lost peer is an EPIPE we report */
	argc--;
	argv++;
	if (strcmp(cmd, "mirror-dump") == 0)
		return mirror_dump(argc, argv);
	if (strcmp(cmd, "mirror-copy") == 0)
		return mirror_copy(argc, argv, 0);
	if (strcmp(cmd, "mirror-stream") == 0)
		return mirror_copy(argc, argv, 1);
	if (strcmp(cmd, "mirror-read") == 0 || strcmp(cmd, "mirror-read-stream") == 0) {
		if (argc < 1 || argc > 2)
			return usage_mirror();
		return mirror_read(argv[0], argc == 2 ? argv[1] : NULL,
				   strcmp(cmd, "mirror-read-stream") == 0);
	}
	if (strcmp(cmd, "mirror-write") == 0) {
		if (argc != 1)
			return usage_mirror();
		return mirror_write(argv[0]);
	}
	return usage_mirror();
}
