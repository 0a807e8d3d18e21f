/*
 * ctl_snap.c - the snapshot, config and history verbs of the control
 * socket (protocol in ctl_proto.h): how `hammer snapshot`, `snapls`,
 * `config`, `history` and undo(1) reach a mounted file system.  Each verb
 * is one engine call (ref/hammer.h, "snapshots"); the client does
 * DragonFly's path handling and output.  Replies may be long (a PFS with
 * ten thousand snapshots), so they are built in a growing buffer rather
 * than the dispatcher's fixed one.
 */
#include "hfuse.h"
#include "ctl_snap.h"
#include "ctl_proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char *buf;
	size_t len, cap;
	int oom;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = o->cap - o->len;
		int n = o->buf ? vsnprintf(o->buf + o->len, room, fmt, ap) : -1;
		va_end(ap);
		if (o->buf && n >= 0 && (size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		size_t need = o->cap ? o->cap * 2 : 4096;
		if (n >= 0 && need < o->len + (size_t)n + 1)
			need = o->len + (size_t)n + 1;
		char *nb = realloc(o->buf, need);
		if (!nb) {
			o->oom = 1;
			return;
		}
		o->buf = nb;
		o->cap = need;
	}
}

/* The status line first: the body is appended after it. */
static int status(struct out *o, int err, const char *msg)
{
	o->len = 0;
	put(o, "%d %s\n", err, msg ? msg : err ? strerror(err) : "ok");
	return 0;
}

static int engine_fail(struct hfuse *h, struct out *o, int rc)
{
	return status(o, hfuse_errno(h, rc), NULL);
}

/* "N" (decimal PFS id) then the end or a space; *rest after it. */
static int parse_id(const char *s, uint32_t *id, const char **rest)
{
	char *e;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &e, 10);
	if (errno || v > HAMMER_PFS_MAX_ID || (*e != '\0' && *e != ' '))
		return -1;
	*id = (uint32_t)v;
	*rest = *e ? e + 1 : e;
	return 0;
}

/* "0x" and 1..16 hex digits, then the end or a space. */
static int parse_hex64(const char *s, uint64_t *v, const char **rest)
{
	char *e;
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2] || s[2] == ' ' ||
	    s[2] == '-' || s[2] == '+')
		return -1;
	errno = 0;
	unsigned long long x = strtoull(s + 2, &e, 16);
	if (errno || (*e != '\0' && *e != ' ') || e - (s + 2) > 16)
		return -1;
	*v = x;
	*rest = *e ? e + 1 : e;
	return 0;
}

static int parse_dec64(const char *s, uint64_t *v, const char **rest)
{
	char *e;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long x = strtoull(s, &e, 10);
	if (errno || (*e != '\0' && *e != ' '))
		return -1;
	*v = x;
	*rest = *e ? e + 1 : e;
	return 0;
}

/* Hex of up to `max` bytes (then the end) into buf, NUL-terminated. */
static int hex_text(const char *s, char *buf, size_t max)
{
	size_t n = strlen(s);
	if (n % 2 || n / 2 > max)
		return -1;
	if (hammer_ctl_hex_decode(s, buf, n / 2))
		return -1;
	buf[n / 2] = '\0';
	if (memchr(buf, '\0', n / 2))
		return -1;	/* a NUL inside: not a string */
	return 0;
}

static void do_snap_add(struct hfuse *h, uint32_t id, const char *args,
			struct out *o)
{
	struct hammer_snapshot s;
	const char *rest;
	memset(&s, 0, sizeof(s));
	if (parse_hex64(args, &s.tid, &rest) || parse_dec64(rest, &s.ts, &rest) ||
	    (*rest && hex_text(rest, s.label, sizeof(s.label) - 1))) {
		status(o, EINVAL, "usage: snap-add ID 0xTID TS [LABELHEX] "
			"(label at most 63 bytes)");
		return;
	}
	int rc = hammer_snapshot_add(h->m, id, &s);
	if (!rc)
		rc = hammer_sync(h->m);	/* reported done: on disk */
	if (rc == -EINVAL)
		status(o, EINVAL, "the TID is 0 or above the last durable TID "
			"(sync first)");
	else if (rc == -EEXIST)
		status(o, EEXIST, "a snapshot of that TID exists");
	else if (rc)
		engine_fail(h, o, rc);
}

static void do_snap_list(struct hfuse *h, uint32_t id, struct out *o)
{
	struct hammer_snapshot *v;
	size_t n;
	int rc = hammer_snapshot_list(h->m, id, &v, &n);
	if (rc) {
		engine_fail(h, o, rc);
		return;
	}
	put(o, "count=%zu\n", n);
	for (size_t i = 0; i < n && !o->oom; i++) {
		char hex[2 * sizeof(v[i].label) + 1];
		size_t ll = strlen(v[i].label);
		hammer_ctl_hex_encode(v[i].label, ll, hex);
		put(o, "snap=0x%016" PRIx64 " %" PRIu64 " %s\n", (uint64_t)v[i].tid,
		    v[i].ts, ll ? hex : "-");
	}
	free(v);
}

static void do_config_get(struct hfuse *h, uint32_t id, struct out *o)
{
	char text[HAMMER_CONFIG_BYTES];
	int rc = hammer_config_get(h->m, id, text);
	if (rc == -ENOENT && id <= HAMMER_PFS_MAX_ID) {
		/* tell "no record" from "no PFS" */
		struct hammer_snapshot *v;
		size_t n;
		if (hammer_snapshot_list(h->m, id, &v, &n) == 0) {
			free(v);
			status(o, ENOENT, "no config record");
			return;
		}
	}
	if (rc) {
		engine_fail(h, o, rc);
		return;
	}
	char hex[2 * HAMMER_CONFIG_BYTES + 1];
	hammer_ctl_hex_encode(text, strlen(text), hex);
	put(o, "config=%s\n", hex);
}

static void do_history(struct hfuse *h, const char *args, struct out *o)
{
	uint64_t ino, off = 0, len = 0;
	const char *rest;
	unsigned flags = 0;
	if (parse_hex64(args, &ino, &rest) ||
	    (*rest && (parse_dec64(rest, &off, &rest) || parse_dec64(rest, &len, &rest) ||
		       *rest))) {
		status(o, EINVAL, "usage: history 0xINO [OFF LEN]");
		return;
	}
	if (args[strlen(args) - 1] == ' ') {
		status(o, EINVAL, "usage: history 0xINO [OFF LEN]");
		return;
	}
	if (strchr(args, ' '))
		flags |= HAMMER_HISTORY_ATKEY;
	/* st_ino: hammer_report_ino puts the PFS id in bits 48..63 */
	uint32_t pfs = (uint32_t)(ino >> 48);
	int64_t obj = (int64_t)(ino & ((1ULL << 48) - 1));
	struct hammer_history_ent *v;
	size_t n;
	int unsynced;
	int rc = hammer_history(h->m, pfs, obj, flags, off, len, &v, &n, &unsynced);
	if (rc == -ENOENT && pfs) {	/* an object id of PFS #0 past 2^48 */
		pfs = 0;
		obj = (int64_t)ino;
		rc = hammer_history(h->m, 0, obj, flags, off, len, &v, &n, &unsynced);
	}
	if (rc == -EINVAL && (flags & HAMMER_HISTORY_ATKEY)) {
		status(o, EINVAL, "a byte range applies to regular files only");
		return;
	}
	if (rc) {
		engine_fail(h, o, rc);
		return;
	}
	put(o, "obj=0x%016" PRIx64 "\npfs=%u\nunsynced=%d\ncount=%zu\n",
	    (uint64_t)obj, pfs, unsynced, n);
	for (size_t i = 0; i < n && !o->oom; i++)
		put(o, "h=0x%016" PRIx64 " %u\n", (uint64_t)v[i].tid, v[i].time32);
	free(v);
}

int hfuse_ctl_snap(struct hfuse *h, int priv, const char *verb,
		   const char *args, char **reply, size_t *len)
{
	static const char *const verbs[] = {
		"snap-add", "snap-del", "snap-list", "config-get", "config-set",
		"history",
	};
	size_t k = 0, nverbs = sizeof(verbs) / sizeof(verbs[0]);
	while (k < nverbs && strcmp(verb, verbs[k]) != 0)
		k++;
	if (k == nverbs)
		return -1;
	struct out o = { 0 };
	status(&o, 0, NULL);
	if (k == 5) {
		do_history(h, args, &o);
		goto done;
	}
	uint32_t id;
	const char *rest;
	if (parse_id(args, &id, &rest)) {
		char m[80];
		snprintf(m, sizeof(m), "%s: a PFS id 0..%d expected", verb,
			 HAMMER_PFS_MAX_ID);
		status(&o, EINVAL, m);
		goto done;
	}
	if ((k == 0 || k == 1 || k == 4) && !priv) {
		char m[80];
		snprintf(m, sizeof(m), "%s needs root or the user who mounted", verb);
		status(&o, EPERM, m);
		goto done;
	}
	switch (k) {
	case 0:
		do_snap_add(h, id, rest, &o);
		break;
	case 1: {
		uint64_t tid;
		int rc;
		if (parse_hex64(rest, &tid, &rest) || *rest) {
			status(&o, EINVAL, "usage: snap-del ID 0xTID");
			break;
		}
		rc = hammer_snapshot_del(h->m, id, tid);
		if (!rc)
			rc = hammer_sync(h->m);
		if (rc == -ENOENT)
			status(&o, ENOENT, "no such snapshot (or no such PFS)");
		else if (rc)
			engine_fail(h, &o, rc);
		break;
	}
	case 2:
		if (*rest)
			status(&o, EINVAL, "usage: snap-list ID");
		else
			do_snap_list(h, id, &o);
		break;
	case 3:
		if (*rest)
			status(&o, EINVAL, "usage: config-get ID");
		else
			do_config_get(h, id, &o);
		break;
	case 4: {
		char text[HAMMER_CONFIG_BYTES];
		int rc;
		if (hex_text(rest, text, sizeof(text) - 1))
			status(&o, EINVAL, "usage: config-set ID HEX "
				"(a text of at most 1023 bytes, no NUL)");
		else if ((rc = hammer_config_set(h->m, id, text)) ||
			 (rc = hammer_sync(h->m)))
			engine_fail(h, &o, rc);
		break;
	}
	}
done:
	if (o.oom) {
		free(o.buf);
		o.buf = strdup("12 out of memory\n");
		o.len = o.buf ? strlen(o.buf) : 0;
	}
	*reply = o.buf;
	*len = o.len;
	return 0;
}
