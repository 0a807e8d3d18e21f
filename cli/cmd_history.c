/*
 * cmd_history.c - `hammer history[@offset[,len]] <path> ...`: the versions
 * (TIDs and their times) of each file, in DragonFly's layout:
 *
 *   <path>\t<obj_id, 16 hex digits> clean|dirty {
 *       <tid, 16 hex digits> <dd-Mon-YYYY HH:MM:SS>
 *   }
 *
 * Without @offset the TIDs are those of the object's INODE records; with
 * it, those of the DATA records covering byte `offset` of a regular file,
 * and with -v each line also shows `len` bytes (default 32) at that offset
 * as of that TID.  A path that exists is taken whole; otherwise, without
 * an offset on the command, a trailing "@offset[,len]" on the path is its
 * own offset (DragonFly's per-path form).  A path that cannot be asked
 * about gets DragonFly's "<path>\t<error>" line; the exit status is then 1
 * (DragonFly: 0).
 *
 * The mount is asked through hammer-fuse's `history` verb, by st_ino, so
 * as-of paths (file@@0x<tid>) and paths through snapshot links work.  The
 * TIDs are sorted and merged (the daemon reports them in B-tree order with
 * repeats, as the kernel does).  hhist_*() (history.h) serve undo(1) too.
 */
#include "hammer.h"
#include "ctl.h"
#include "history.h"
#include "ref/asof.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- hhist */

/* One "key=value" or "h=0x<tid> <time32>" line of the reply. */
static int parse_line(struct hhist *h, const char *line, size_t *cap)
{
	char *e;
	if (strncmp(line, "h=", 2) == 0) {
		const char *p = line + 2;
		errno = 0;
		unsigned long long tid = strtoull(p, &e, 16);
		if (e == p || *e != ' ' || errno)
			return -1;
		p = e + 1;
		unsigned long t = strtoul(p, &e, 10);
		if (e == p || *e || t > UINT32_MAX)
			return -1;
		if (h->n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			struct hhist_ent *v = realloc(h->v, nc * sizeof(*v));
			if (!v)
				return -1;
			h->v = v;
			*cap = nc;
		}
		h->v[h->n].tid = tid;
		h->v[h->n].time32 = (uint32_t)t;
		h->n++;
	} else if (strncmp(line, "obj=", 4) == 0) {
		h->obj_id = strtoull(line + 4, NULL, 16);
	} else if (strncmp(line, "pfs=", 4) == 0) {
		h->pfs = (unsigned)strtoul(line + 4, NULL, 10);
	} else if (strncmp(line, "unsynced=", 9) == 0) {
		h->unsynced = line[9] == '1';
	}
	return 0;	/* count= and unknown keys: nothing to keep */
}

int hhist_get(const char *prog, const char *path, uint64_t ino, int atkey,
	      uint64_t off, uint64_t len, struct hhist *h, FILE *err)
{
	memset(h, 0, sizeof(*h));
	char verb[128];
	if (atkey)
		snprintf(verb, sizeof(verb), "history 0x%" PRIx64 " %" PRIu64 " %" PRIu64,
			 ino, off, len);
	else
		snprintf(verb, sizeof(verb), "history 0x%" PRIx64, ino);
	/* ctl.c speaks as "hammer: "; say it as prog */
	char *msg = NULL;
	size_t msglen = 0;
	FILE *mf = open_memstream(&msg, &msglen);
	struct hammer_ctl_reply r;
	FILE *sink = mf ? mf : err ? err : stderr;
	int fd = hammer_ctl_open(path, verb, &r, sink);
	if (mf)
		fclose(mf);
	if (fd == -1) {
		if (msg && *msg && err) {
			const char *t = strncmp(msg, "hammer: ", 8) == 0 ? msg + 8 : msg;
			fprintf(err, "%s: %s", prog, t);
		}
		free(msg);
		return HHIST_UNREACHABLE;
	}
	free(msg);
	if (fd < 0)
		return r.status > 0 ? r.status : EIO;
	char line[512];
	size_t cap = 0;
	int bad = 0;
	while (hammer_ctl_read_line(fd, line, sizeof(line)) >= 0)
		if (!bad && parse_line(h, line, &cap))
			bad = 1;
	close(fd);
	if (bad) {
		if (err)
			fprintf(err, "%s: %s: malformed history reply from hammer-fuse\n",
				prog, path);
		hhist_free(h);
		return HHIST_UNREACHABLE;
	}
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct hhist_ent *x = a, *y = b;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

void hhist_sort(struct hhist *h)
{
	if (h->n < 2)
		return;
	/* mergesort keeps equal TIDs in reply order: the first stamp wins */
	struct hhist_ent *tmp = malloc(h->n * sizeof(*tmp));
	if (tmp) {
		for (size_t w = 1; w < h->n; w *= 2) {
			for (size_t lo = 0; lo < h->n; lo += 2 * w) {
				size_t mid = lo + w < h->n ? lo + w : h->n;
				size_t hi = lo + 2 * w < h->n ? lo + 2 * w : h->n;
				size_t i = lo, j = mid, k = lo;
				while (i < mid && j < hi)
					tmp[k++] = ent_cmp(&h->v[j], &h->v[i]) < 0 ?
						   h->v[j++] : h->v[i++];
				while (i < mid)
					tmp[k++] = h->v[i++];
				while (j < hi)
					tmp[k++] = h->v[j++];
			}
			memcpy(h->v, tmp, h->n * sizeof(*tmp));
		}
		free(tmp);
	} else {
		qsort(h->v, h->n, sizeof(*h->v), ent_cmp);
	}
	size_t k = 1;
	for (size_t i = 1; i < h->n; i++)
		if (h->v[i].tid != h->v[k - 1].tid)
			h->v[k++] = h->v[i];
	h->n = k;
}

void hhist_free(struct hhist *h)
{
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

const char *hhist_timestr(uint32_t time32, char buf[64])
{
	time_t t = (time_t)time32;
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(buf, 64, "%d-%b-%Y %H:%M:%S", &tm))
		snprintf(buf, 64, "%" PRIu32, time32);
	return buf;
}

int hhist_base(const char *path, char *buf, size_t size)
{
	size_t n = strlen(path);
	const char *slash = strrchr(path, '/');
	const char *comp = slash ? slash + 1 : path;
	size_t clen = n - (size_t)(comp - path);
	struct hammer_asof_spec spec;
	if (clen && hammer_asof_parse(comp, clen, &spec) == 1)
		n = (size_t)(comp - path) + spec.name_len;
	if (n >= size)
		return -1;
	memcpy(buf, path, n);
	buf[n] = '\0';
	return 0;
}

/* ------------------------------------------------------- hammer history */

/* "@offset[,len]": DragonFly's numbers (strtoll base 0), checked strictly. */
static int parse_at(const char *s, int64_t *off, long *len)
{
	char *e;
	if (*s != '@' || !s[1])
		return -1;
	errno = 0;
	long long o = strtoll(s + 1, &e, 0);
	if (e == s + 1 || errno || o < 0 || (*e && *e != ','))
		return -1;
	*off = o;
	*len = 32;
	if (*e == ',') {
		const char *p = e + 1;
		errno = 0;
		long l = strtol(p, &e, 0);
		if (e == p || *e || errno || l < 0)
			return -1;
		*len = l;
	}
	return 0;
}

/* len bytes at off of path, printable or '.', as DragonFly's -v shows them */
static void dump_at(FILE *f, const char *path, int64_t off, long len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[1024];
	while (len > 0) {
		size_t want = (size_t)len < sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t k = pread(fd, buf, want, off);
		if (k <= 0)
			break;
		for (ssize_t i = 0; i < k; i++)
			fputc(isprint((unsigned char)buf[i]) ? buf[i] : '.', f);
		len -= k;
		off += k;
	}
	close(fd);
}

static int history_one(struct hammer_opts *o, const char *path, int64_t off, long len)
{
	FILE *f = o->out;
	fprintf(f, "%s\t", path);
	fflush(f);
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(f, "%s\n", strerror(errno));
		return HAMMER_EXIT_USAGE;
	}
	struct hhist h;
	int rc = hhist_get("hammer", path, (uint64_t)st.st_ino, off >= 0,
			   off >= 0 ? (uint64_t)off : 0, off >= 0 ? 1 : 0, &h, o->err);
	if (rc == ENOENT && st.st_nlink > 0) {
		/*
		 * The name exists but its object has no INODE record yet: it
		 * was created after the last flush.  DragonFly shows such a
		 * file with no versions, dirty; the object id is st_ino
		 * without the PFS bits (hammer_report_ino).
		 */
		h = (struct hhist){ .obj_id = (uint64_t)st.st_ino & ((1ULL << 48) - 1),
				    .unsynced = 1 };
		rc = 0;
	}
	if (rc) {
		/* unreachable: what DragonFly's ioctl on a foreign file says */
		fprintf(f, "%s\n", strerror(rc == HHIST_UNREACHABLE ? ENOTTY : rc));
		return HAMMER_EXIT_USAGE;
	}
	hhist_sort(&h);
	char base[PATH_MAX], tb[64];
	if (hhist_base(path, base, sizeof(base)))
		snprintf(base, sizeof(base), "%s", path);
	fprintf(f, "%016" PRIx64 " %s {\n", h.obj_id, h.unsynced ? "dirty" : "clean");
	for (size_t i = 0; i < h.n; i++) {
		fprintf(f, "    %016" PRIx64 " %s", h.v[i].tid,
			hhist_timestr(h.v[i].time32, tb));
		if (off >= 0 && o->verbose) {
			char vp[PATH_MAX + 32];
			snprintf(vp, sizeof(vp), "%s@@0x%016" PRIx64, base, h.v[i].tid);
			fputs(" '", f);
			dump_at(f, vp, off, len);
			fputc('\'', f);
		}
		fputc('\n', f);
	}
	fputs("}\n", f);
	hhist_free(&h);
	return HAMMER_EXIT_OK;
}

int cmd_history(struct hammer_opts *o, int argc, char **argv)
{
	int64_t off = -1;
	long len = 32;
	const char *at = argv[0] + strlen("history");
	if (o->devs || argc < 2 || (*at && parse_at(at, &off, &len))) {
		if (*at && !o->devs && argc >= 2)
			fprintf(o->err, "hammer: %s: bad offset or length\n", argv[0]);
		fprintf(o->err, "usage: hammer history[@offset[,len]] <file> ...\n"
			"  (on a mounted file system; without -f)\n");
		return HAMMER_EXIT_USAGE;
	}
	int rc = HAMMER_EXIT_OK;
	for (int i = 1; i < argc; i++) {
		const char *path = argv[i];
		char pbuf[PATH_MAX];
		int64_t poff = off;
		long plen = len;
		struct stat st;
		/* "path@offset[,len]" when the command had none and path is not a name */
		const char *p = strrchr(path, '@');
		if (!*at && p && p != path && p[-1] != '@' && stat(path, &st) != 0 &&
		    (size_t)(p - path) < sizeof(pbuf) && parse_at(p, &poff, &plen) == 0) {
			memcpy(pbuf, path, (size_t)(p - path));
			pbuf[p - path] = '\0';
			path = pbuf;
		}
		if (history_one(o, path, poff, plen))
			rc = HAMMER_EXIT_USAGE;
	}
	return rc;
}
