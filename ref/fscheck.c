/*
 * fscheck.c - the whole-file-system checker (see fscheck.h).
 *
 * Trusts nothing it reads: every length, offset and count is checked
 * before use, every walk is bounded (node set, depth limit, FIFO size), so
 * corrupt input gives findings, never a crash or a hang.
 */
#include "fscheck.h"

#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkmap.h"
#include "btree_bufio.h"
#include "crc.h"
#include "inspect.h"
#include "namekey.h"

/* ------------------------------------------------------------- names */

static const char *const code_names[HAMMER_FSCK_CODE_MAX] = {
	[HAMMER_FSCK_OK] = "OK",
	[HAMMER_FSCK_IN_DATA_LEN] = "IN_DATA_LEN",
	[HAMMER_FSCK_IN_CRC] = "IN_CRC",
	[HAMMER_FSCK_IN_OBJTYPE] = "IN_OBJTYPE",
	[HAMMER_FSCK_IN_VERSION] = "IN_VERSION",
	[HAMMER_FSCK_IN_DIRHASH] = "IN_DIRHASH",
	[HAMMER_FSCK_IN_DUP] = "IN_DUP",
	[HAMMER_FSCK_IN_NLINKS] = "IN_NLINKS",
	[HAMMER_FSCK_ORPHAN] = "ORPHAN",
	[HAMMER_FSCK_REC_TID_ORDER] = "REC_TID_ORDER",
	[HAMMER_FSCK_TID_RANGE] = "TID_RANGE",
	[HAMMER_FSCK_REC_NO_INODE] = "REC_NO_INODE",
	[HAMMER_FSCK_REC_TYPE] = "REC_TYPE",
	[HAMMER_FSCK_REC_LOCALIZATION] = "REC_LOCALIZATION",
	[HAMMER_FSCK_REC_DATA] = "REC_DATA",
	[HAMMER_FSCK_REC_CRC] = "REC_CRC",
	[HAMMER_FSCK_REC_ZONE] = "REC_ZONE",
	[HAMMER_FSCK_DE_TARGET] = "DE_TARGET",
	[HAMMER_FSCK_DE_OBJTYPE] = "DE_OBJTYPE",
	[HAMMER_FSCK_DE_LOCALIZATION] = "DE_LOCALIZATION",
	[HAMMER_FSCK_DE_KEY] = "DE_KEY",
	[HAMMER_FSCK_DE_NAME] = "DE_NAME",
	[HAMMER_FSCK_DE_DUP] = "DE_DUP",
	[HAMMER_FSCK_DE_NOT_DIR] = "DE_NOT_DIR",
	[HAMMER_FSCK_DIR_PARENT] = "DIR_PARENT",
	[HAMMER_FSCK_DIR_LINKS] = "DIR_LINKS",
	[HAMMER_FSCK_DATA_OVERLAP] = "DATA_OVERLAP",
	[HAMMER_FSCK_DATA_EOF] = "DATA_EOF",
	[HAMMER_FSCK_DATA_KEY] = "DATA_KEY",
	[HAMMER_FSCK_SYMLINK] = "SYMLINK",
	[HAMMER_FSCK_FIFO_BOUNDS] = "FIFO_BOUNDS",
	[HAMMER_FSCK_FIFO_RECORD] = "FIFO_RECORD",
	[HAMMER_FSCK_FIFO_SEQ] = "FIFO_SEQ",
	[HAMMER_FSCK_SCAN_INCOMPLETE] = "SCAN_INCOMPLETE",
	[HAMMER_FSCK_CHECKMAP_SKIPPED] = "CHECKMAP_SKIPPED",
	[HAMMER_FSCK_CHECKMAP_FAILED] = "CHECKMAP_FAILED",
	[HAMMER_FSCK_PFS_RECORD] = "PFS_RECORD",
	[HAMMER_FSCK_PFS_NO_RECORD] = "PFS_NO_RECORD",
	[HAMMER_FSCK_PFS_ROOT] = "PFS_ROOT",
	[HAMMER_FSCK_PFS_LINK] = "PFS_LINK",
	[HAMMER_FSCK_SNAPSHOT_RECORD] = "SNAPSHOT_RECORD",
	[HAMMER_FSCK_CONFIG_RECORD] = "CONFIG_RECORD",
};

static const char *const cm_names[] = {
	[HAMMER_CM_ZONE] = "CM_ZONE",
	[HAMMER_CM_FREE] = "CM_FREE",
	[HAMMER_CM_APPEND] = "CM_APPEND",
	[HAMMER_CM_L1FREE] = "CM_L1FREE",
	[HAMMER_CM_LOOKUP] = "CM_LOOKUP",
	[HAMMER_CM_NODE] = "CM_NODE",
	[HAMMER_CM_FIFO] = "CM_FIFO",
	[HAMMER_CM_LAYER] = "CM_LAYER",
};

const char *hammer_fscheck_code_name(int code)
{
	if (code > 0 && code < HAMMER_FSCK_CODE_MAX && code_names[code])
		return code_names[code];
	if (code > HAMMER_FSCK_BTREE_BASE &&
	    code < HAMMER_FSCK_BTREE_BASE + HAMMER_CHK_BTREE_CODE_MAX)
		return hammer_chk_code_name(code - HAMMER_FSCK_BTREE_BASE);
	if (code > HAMMER_FSCK_CM_BASE &&
	    code < HAMMER_FSCK_CM_BASE + (int)(sizeof(cm_names) / sizeof(cm_names[0])) &&
	    cm_names[code - HAMMER_FSCK_CM_BASE])
		return cm_names[code - HAMMER_FSCK_CM_BASE];
	return code == 0 ? "OK" : "UNKNOWN";
}

void hammer_fscheck_opts_init(struct hammer_fscheck_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_findings = HAMMER_FSCK_DEFAULT_MAX_FINDINGS;
}

void hammer_fscheck_report_free(struct hammer_fscheck_report *r)
{
	if (!r)
		return;
	free(r->findings);
	free(r->skipped);
	memset(r, 0, sizeof(*r));
}

int hammer_fscheck_find(const struct hammer_fscheck_report *r, int code)
{
	for (size_t i = 0; i < r->count; i++)
		if (r->findings[i].code == code)
			return (int)i;
	return -1;
}

/* ------------------------------------------------- per-object table */

#define OBJ_USED	0x01u
#define OBJ_NODATA	0x02u	/* inode payload unreadable: fields unknown */
#define OBJ_FIX		0x04u	/* a live FIX/symlink record was seen */

/* One live inode (64 bytes). */
struct obj {
	int64_t obj_id;
	uint64_t nlinks;
	uint64_t size;
	int64_t parent;		/* parent_obj_id */
	int64_t ref_dir;	/* the directory of the first live entry naming it */
	hammer_off_t data_off;	/* inode payload address, for messages */
	uint32_t entries;	/* live entries naming it (saturates) */
	uint16_t pfs;
	uint16_t link_pfs;	/* PFS 0 symlink "@@PFSnnnnn": nnnnn (1..65535), else 0 */
	uint8_t obj_type;
	uint8_t cap_flags;
	uint8_t flags;
};

struct objtab {
	struct obj *v;
	size_t cap, n;		/* cap: power of two */
	size_t peak_bytes;
};

static size_t obj_hash(uint16_t pfs, int64_t obj, size_t cap)
{
	uint64_t h = (uint64_t)obj ^ ((uint64_t)pfs << 47);
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDULL;
	h ^= h >> 33;
	h *= 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 33;
	return (size_t)h & (cap - 1);
}

static struct obj *obj_find(const struct objtab *t, uint16_t pfs, int64_t obj)
{
	if (!t->cap)
		return NULL;
	for (size_t j = obj_hash(pfs, obj, t->cap);; j = (j + 1) & (t->cap - 1)) {
		struct obj *o = &t->v[j];
		if (!(o->flags & OBJ_USED))
			return NULL;
		if (o->obj_id == obj && o->pfs == pfs)
			return o;
	}
}

/* Slot for (pfs, obj): *isnew says whether it was free.  NULL: ENOMEM. */
static struct obj *obj_get(struct objtab *t, uint16_t pfs, int64_t obj, int *isnew)
{
	if ((t->n + 1) * 10 > t->cap * 7) {
		size_t nc = t->cap ? t->cap * 2 : 1024;
		struct obj *nv = calloc(nc, sizeof(*nv));
		if (!nv)
			return NULL;
		for (size_t i = 0; i < t->cap; i++) {
			if (!(t->v[i].flags & OBJ_USED))
				continue;
			size_t j = obj_hash(t->v[i].pfs, t->v[i].obj_id, nc);
			while (nv[j].flags & OBJ_USED)
				j = (j + 1) & (nc - 1);
			nv[j] = t->v[i];
		}
		free(t->v);
		t->v = nv;
		t->cap = nc;
		if (nc * sizeof(*nv) > t->peak_bytes)
			t->peak_bytes = nc * sizeof(*nv);
	}
	size_t j = obj_hash(pfs, obj, t->cap);
	while (t->v[j].flags & OBJ_USED) {
		if (t->v[j].obj_id == obj && t->v[j].pfs == pfs) {
			*isnew = 0;
			return &t->v[j];
		}
		j = (j + 1) & (t->cap - 1);
	}
	*isnew = 1;
	t->n++;
	memset(&t->v[j], 0, sizeof(t->v[j]));
	t->v[j].obj_id = obj;
	t->v[j].pfs = pfs;
	t->v[j].flags = OBJ_USED;
	return &t->v[j];
}

/* ------------------------------------------------------ PFS table */

#define PFS_IDS 65536u

/* What the live PFS record of one id says (as the kernel would load it). */
enum { PFS_NONE = 0, PFS_MASTER, PFS_SLAVE, PFS_DELETED, PFS_UNKNOWN };

struct pfsinfo {
	uint32_t nrec;		/* records in the PFS's localizations (saturates) */
	uint32_t first;		/* index of its first record's key in fsck.pfs_first */
	uint8_t state;		/* PFS_* from its live record; UNKNOWN: unreadable */
	uint8_t nlive;		/* a live PFS record was seen */
	uint8_t doubt;		/* a misplaced or mis-keyed record may have been it */
};

/* --------------------------------------- names of one directory */

struct nslot {
	uint64_t h;
	uint32_t off;	/* into the arena */
	uint16_t len;
	uint8_t used;
};

struct nameset {
	struct nslot *v;
	size_t cap, n;
	char *arena;
	size_t alen, acap;
};

static uint64_t name_hash(const char *s, size_t len)
{
	uint64_t h = 0xCBF29CE484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001B3ULL;
	}
	return h;
}

static void nameset_reset(struct nameset *s)
{
	if (s->cap > 4096) {
		free(s->v);
		free(s->arena);
		memset(s, 0, sizeof(*s));
		return;
	}
	if (s->n)
		memset(s->v, 0, s->cap * sizeof(*s->v));
	s->n = 0;
	s->alen = 0;
}

static void nameset_free(struct nameset *s)
{
	free(s->v);
	free(s->arena);
	memset(s, 0, sizeof(*s));
}

/* 1: added, 0: already present, -ENOMEM. */
static int nameset_add(struct nameset *s, const char *name, size_t len)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct nslot *nv = calloc(nc, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->v[i].used)
				continue;
			size_t j = (size_t)s->v[i].h & (nc - 1);
			while (nv[j].used)
				j = (j + 1) & (nc - 1);
			nv[j] = s->v[i];
		}
		free(s->v);
		s->v = nv;
		s->cap = nc;
	}
	uint64_t h = name_hash(name, len);
	size_t j = (size_t)h & (s->cap - 1);
	while (s->v[j].used) {
		if (s->v[j].h == h && s->v[j].len == len &&
		    memcmp(s->arena + s->v[j].off, name, len) == 0)
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	if (s->alen + len > s->acap) {
		size_t na = s->acap ? s->acap * 2 : 4096;
		while (na < s->alen + len)
			na *= 2;
		char *a = realloc(s->arena, na);
		if (!a)
			return -ENOMEM;
		s->arena = a;
		s->acap = na;
	}
	memcpy(s->arena + s->alen, name, len);
	s->v[j].h = h;
	s->v[j].off = (uint32_t)s->alen;
	s->v[j].len = (uint16_t)len;
	s->v[j].used = 1;
	s->alen += len;
	s->n++;
	return 1;
}

/* ------------------------------------------------------ the checker */

struct frame {
	struct hammer_node_ondisk node;	/* host-order copy */
	hammer_off_t off;
	int idx;
};

/* Streaming state of pass 2: the object whose records are being read. */
struct stream {
	int valid;
	uint32_t loc;
	int64_t obj;
	struct obj *owner;	/* its live inode, or NULL */
	int noinode_reported;
	int have_end;
	int64_t last_end;	/* highest end of its live DATA records so far */
	struct nameset names;	/* live entry names (DIRENTRY groups) */
};

struct fsck {
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	const struct hammer_fscheck_opts *o;
	struct hammer_fscheck_report *r;
	struct hammer_btree *tree;
	unsigned version;
	hammer_tid_t next_tid;
	size_t max_findings;
	size_t fcap;		/* capacity of r->findings */
	int stop;		/* fatal error: stop everything */
	int prune;		/* pass 1 may skip MISC-only subtrees */
	struct objtab objs;
	struct hammer_u64map seen;
	struct frame *frames;
	struct stream st;
	struct pfsinfo *pfs;	/* PFS_IDS entries */
	/*
	 * Slaves: sync_end_tid per PFS id (0: not a slave).  A slave is the
	 * file system as of its sync_end_tid; records a mirror-write laid
	 * beyond it (a batch not synced yet) are not part of it.
	 */
	hammer_tid_t *slave_end;
	struct hammer_base_elm *pfs_first;	/* first record of each PFS seen */
	size_t npfs_first, pfs_first_cap;
	uint8_t dbuf[HAMMER_DIRENTRY_HDRSIZE + HAMMER_MAX_NAMELEN + 1];
};

static void emitv(struct fsck *f, int code, int sev,
		  const struct hammer_base_elm *elm, uint32_t loc, int64_t obj,
		  hammer_off_t off, const char *fmt, va_list ap)
{
	struct hammer_fsck_finding x;
	memset(&x, 0, sizeof(x));
	x.code = code;
	x.severity = sev;
	if (elm) {
		x.has_elm = 1;
		x.elm = *elm;
	}
	x.localization = loc & HAMMER_LOCALIZE_PSEUDOFS_MASK;
	x.obj_id = obj;
	x.offset = off;
	vsnprintf(x.msg, sizeof(x.msg), fmt, ap);

	struct hammer_fscheck_report *r = f->r;
	if (sev == HAMMER_FSCK_ERROR)
		r->errors++;
	else
		r->warnings++;
	if (f->o->cb && !f->stop && f->o->cb(f->o->ctx, &x))
		f->stop = -ECANCELED;
	if (r->count >= f->max_findings) {
		r->dropped++;
		return;
	}
	if (r->count == f->fcap) {
		size_t ncap = f->fcap ? f->fcap * 2 : 16;
		if (ncap > f->max_findings)
			ncap = f->max_findings;
		void *n = realloc(r->findings, ncap * sizeof(*r->findings));
		if (!n) {
			f->stop = -ENOMEM;
			r->dropped++;
			return;
		}
		r->findings = n;
		f->fcap = ncap;
	}
	r->findings[r->count++] = x;
}

static void emit(struct fsck *f, int code, int sev,
		 const struct hammer_base_elm *elm, uint32_t loc, int64_t obj,
		 hammer_off_t off, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));
static void emit(struct fsck *f, int code, int sev,
		 const struct hammer_base_elm *elm, uint32_t loc, int64_t obj,
		 hammer_off_t off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emitv(f, code, sev, elm, loc, obj, off, fmt, ap);
	va_end(ap);
}

/* A finding about one record. */
static void rec_emit(struct fsck *f, int code,
		     const struct hammer_btree_leaf_elm *l, hammer_off_t off,
		     const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void rec_emit(struct fsck *f, int code,
		     const struct hammer_btree_leaf_elm *l, hammer_off_t off,
		     const char *fmt, ...)
{
	char head[96];
	char body[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(head, sizeof(head), "record lo=%08x obj=%016llx rt=%02x key=%016llx: ",
		 l->base.localization, (unsigned long long)l->base.obj_id,
		 l->base.rec_type, (unsigned long long)l->base.key);
	emit(f, code, HAMMER_FSCK_ERROR, &l->base, l->base.localization,
	     l->base.obj_id, off, "%s%s", head, body);
}

static int fatal_errno(int rc)
{
	return rc == -ENOMEM || rc == -ENOBUFS;
}

/*
 * One pass over [addr, addr + len) through the buffer cache, 16 KB buffer
 * by 16 KB buffer (so an X-buffer already cached serves its pieces),
 * computing the CRC-32C (c1) and/or legacy CRC-32 (c2) over the first
 * crclen bytes and copying the first copylen bytes.
 */
static int payload_pass(struct fsck *f, hammer_off_t addr, uint32_t len,
			uint32_t crclen, void *copy, uint32_t copylen,
			uint32_t *c1, uint32_t *c2, struct hammer_err *e)
{
	uint32_t done = 0;
	while (done < len) {
		hammer_off_t a = addr + done;
		uint32_t piece = HAMMER_BUFSIZE - (uint32_t)(a & HAMMER_BUFMASK);
		if (piece > len - done)
			piece = len - done;
		struct hammer_buffer *b;
		void *p;
		int rc = hammer_buffer_get(f->bc, a, piece, 0, &b, &p, e);
		if (rc)
			return rc;
		if (done < crclen) {
			uint32_t n = crclen - done < piece ? crclen - done : piece;
			if (c1)
				*c1 = hammer_crc32c_update(*c1, p, n);
			if (c2)
				*c2 = hammer_crc32_update(*c2, p, n);
		}
		if (done < copylen) {
			uint32_t n = copylen - done < piece ? copylen - done : piece;
			memcpy((uint8_t *)copy + done, p, n);
		}
		hammer_buffer_put(f->bc, b);
		done += piece;
	}
	return 0;
}

/*
 * Read a payload and its CRCs (*ci: CRC-32C, v7 only; *cl: legacy CRC-32).
 * With `stored` given (want_stored), v7 computes the legacy CRC only when
 * the CRC-32C does not match it: crc_ok() needs no more, and the payloads
 * this project and DragonFly write match on the first try.
 */
static int read_payload2(struct fsck *f, hammer_off_t addr, uint32_t len,
			 uint32_t crclen, void *copy, uint32_t copylen,
			 int want_stored, uint32_t stored, uint32_t *ci,
			 uint32_t *cl, struct hammer_err *e)
{
	*ci = 0;
	*cl = 0;
	if (hammer_short_of(addr) + len > HAMMER_OFF_SHORT_MASK)
		return HAMMER_CORRUPT(e, addr, "payload %016llx+%u runs past the "
				      "end of its zone", (unsigned long long)addr, len);
	int v7 = f->version >= 7;
	if (!v7 || !want_stored)
		return payload_pass(f, addr, len, crclen, copy, copylen,
				    v7 ? ci : NULL, cl, e);
	int rc = payload_pass(f, addr, len, crclen, copy, copylen, ci, NULL, e);
	if (rc || *ci == stored || !crclen)
		return rc;
	return payload_pass(f, addr, crclen, crclen, NULL, 0, NULL, cl, e);
}

static int read_payload(struct fsck *f, hammer_off_t addr, uint32_t len,
			uint32_t crclen, void *copy, uint32_t copylen,
			uint32_t *ci, uint32_t *cl, struct hammer_err *e)
{
	return read_payload2(f, addr, len, crclen, copy, copylen, 0, 0, ci, cl, e);
}

static int crc_ok(const struct fsck *f, uint32_t ci, uint32_t cl, uint32_t stored)
{
	return (f->version >= 7 && ci == stored) || cl == stored;
}

/* Live in the file system a PFS shows (a slave: as of its sync_end_tid). */
static int rec_live(const struct fsck *f, const struct hammer_base_elm *b)
{
	hammer_tid_t end = f->slave_end ? f->slave_end[b->localization >> 16] : 0;
	if (!end)
		return b->delete_tid == 0;
	return b->create_tid <= end && (b->delete_tid == 0 || b->delete_tid > end);
}

/* A record of a slave beyond its sync_end_tid: checked alone, not as part
 * of the tree (an unfinished mirror-write batch). */
static int rec_pending(const struct fsck *f, const struct hammer_base_elm *b)
{
	hammer_tid_t end = f->slave_end ? f->slave_end[b->localization >> 16] : 0;
	return end && b->create_tid > end;
}

/*
 * Before the passes: which PFSs are slaves, and their sync_end_tid, from
 * their live records (well-placed, readable, CRC good; pass 2 reports on
 * every PFS record in detail).
 */
static int load_slaves(struct fsck *f)
{
	struct hammer_cursor c;
	struct hammer_err e = { 0 };
	hammer_cursor_init(&c, f->tree, &e);
	memset(&c.key_beg, 0, sizeof(c.key_beg));
	c.key_beg.localization = HAMMER_LOCALIZE_MISC;
	c.key_beg.obj_id = 1;
	c.key_beg.rec_type = HAMMER_RECTYPE_PFS;
	c.key_beg.key = 0;
	c.key_beg.create_tid = 1;
	c.key_end = c.key_beg;
	c.key_end.key = (int64_t)(PFS_IDS - 1) << 16;
	c.key_end.create_tid = 0;
	c.flags = HAMMER_CURSOR_END_INCLUSIVE;
	int rc = hammer_btree_first(&c);
	while (rc == 0) {
		const struct hammer_btree_leaf_elm *l = hammer_cursor_leaf(&c);
		const struct hammer_base_elm *b = &l->base;
		struct hammer_pseudofs_data d;
		uint32_t ci, cl;
		struct hammer_err e2 = { 0 };
		uint32_t id = (uint32_t)((uint64_t)b->key >> 16);
		if (b->delete_tid == 0 && (b->key & 0xFFFF) == 0 && id > 0 &&
		    id < PFS_IDS && l->data_len > 0 && l->data_offset &&
		    l->data_len <= HAMMER_XBUFSIZE) {
			uint32_t len = (uint32_t)l->data_len;
			memset(&d, 0, sizeof(d));
			int r2 = read_payload(f, l->data_offset, len, len, &d,
					      len < sizeof(d) ? len : sizeof(d),
					      &ci, &cl, &e2);
			if (r2 == 0 && crc_ok(f, ci, cl, l->data_crc)) {
				hammer_pfsd_swap(&d);
				uint32_t fl = d.mirror_flags;
				f->slave_end[id] = (fl & HAMMER_PFSD_SLAVE) &&
						   !(fl & HAMMER_PFSD_DELETED)
						   ? (d.sync_end_tid ? d.sync_end_tid : 1)
						   : 0;
			} else if (r2 && fatal_errno(r2)) {
				rc = r2;
				break;
			}
		}
		rc = hammer_btree_next(&c);
	}
	hammer_cursor_done(&c);
	if (rc == -ENOENT || rc == -EUCLEAN)
		rc = 0;		/* the B-tree checks report corruption */
	return rc && fatal_errno(rc) ? rc : 0;
}

/* Zone a payload of this record type and length belongs in (0: any). */
static int zone_ok(const struct hammer_btree_leaf_elm *l, unsigned zone)
{
	switch (l->base.rec_type) {
	case HAMMER_RECTYPE_DATA:
	case HAMMER_RECTYPE_DB:
		/* >= 16 KB: large-data only; smaller: either data zone */
		if (l->data_len >= HAMMER_BUFSIZE)
			return zone == HAMMER_ZONE_LARGE_DATA_INDEX;
		return hammer_zone_is_data(zone);
	default:
		return zone == HAMMER_ZONE_META_INDEX;
	}
}

/*
 * The payload of a record: zone, readability, CRC.  crclen is data_len
 * except for INODE records (HAMMER_INODE_CRCSIZE).  Returns 1 if the bytes
 * were read (copied to `copy`) and match the CRC, 2 if read but the CRC
 * does not match, 0 if unreadable (findings made), or a fatal errno.
 */
static int check_payload(struct fsck *f, const struct hammer_btree_leaf_elm *l,
			 int crc_code, uint32_t crclen, void *copy,
			 uint32_t copylen)
{
	if (l->data_len == 0 && l->data_offset == 0)
		return 0;	/* a record without payload */
	if (l->data_len <= 0 || l->data_len > HAMMER_XBUFSIZE) {
		rec_emit(f, HAMMER_FSCK_REC_DATA, l, l->data_offset,
			 "data_len %d is out of range 1..%d", l->data_len,
			 HAMMER_XBUFSIZE);
		return 0;
	}
	if (l->data_offset == 0) {
		rec_emit(f, HAMMER_FSCK_REC_DATA, l, l->data_offset,
			 "data_len %d but no data_offset", l->data_len);
		return 0;
	}
	unsigned zone = hammer_zone_of(l->data_offset);
	if (!zone_ok(l, zone)) {
		rec_emit(f, HAMMER_FSCK_REC_ZONE, l, l->data_offset,
			 "payload %016llx (%d bytes) is in zone %u",
			 (unsigned long long)l->data_offset, l->data_len, zone);
		if (zone != HAMMER_ZONE_META_INDEX && !hammer_zone_is_data(zone))
			return 0;	/* no record payload lives there */
	}
	uint32_t len = (uint32_t)l->data_len;
	if (crclen > len)
		crclen = len;
	if (copylen > len)
		copylen = len;
	if (f->o->flags & HAMMER_FSCK_NO_DATA_CRC && !copylen &&
	    (l->base.rec_type == HAMMER_RECTYPE_DATA ||
	     l->base.rec_type == HAMMER_RECTYPE_DB))
		return 0;
	uint32_t ci, cl;
	struct hammer_err e = { 0 };
	int rc = read_payload2(f, l->data_offset, len, crclen, copy, copylen,
			       1, l->data_crc, &ci, &cl, &e);
	if (rc) {
		if (fatal_errno(rc)) {
			f->stop = rc;
			return rc;
		}
		rec_emit(f, HAMMER_FSCK_REC_DATA, l, l->data_offset,
			 "payload unreadable: %s", e.msg);
		return 0;
	}
	if (!crc_ok(f, ci, cl, l->data_crc)) {
		rec_emit(f, crc_code, l, l->data_offset,
			 "payload %016llx CRC %08x does not match data_crc %08x",
			 (unsigned long long)l->data_offset,
			 f->version >= 7 ? ci : cl, l->data_crc);
		return 2;
	}
	return 1;
}

/*
 * TIDs and obj_ids come from one allocator, seeded by vol0_next_tid: all
 * must lie below it.  newfs leaves vol0_next_tid = 0x100000000 and gives the
 * root inode and root PFS records create_tid 0x100000001 (format pitfall
 * 13), so exactly those records (PFS 0, obj_id 1, that TID) are allowed to
 * be at or above a vol0_next_tid of 0x100000000 or more.
 */
#define NEWFS_ROOT_TID	0x100000001ULL
static int tid_ok(const struct fsck *f, const struct hammer_base_elm *b,
		  hammer_tid_t tid)
{
	if (tid < f->next_tid)
		return 1;
	return tid == NEWFS_ROOT_TID && b->obj_id == 1 &&
	       (b->localization & HAMMER_LOCALIZE_PSEUDOFS_MASK) == 0 &&
	       f->next_tid >= NEWFS_ROOT_TID - 1;
}

static void check_tids(struct fsck *f, const struct hammer_btree_leaf_elm *l)
{
	const struct hammer_base_elm *b = &l->base;
	if (b->create_tid == 0 ||
	    (b->delete_tid != 0 && b->create_tid >= b->delete_tid))
		rec_emit(f, HAMMER_FSCK_REC_TID_ORDER, l, HAMMER_OFF_BAD,
			 "create_tid %016llx, delete_tid %016llx: a record is "
			 "created before it is deleted",
			 (unsigned long long)b->create_tid,
			 (unsigned long long)b->delete_tid);
	if (!tid_ok(f, b, b->create_tid) ||
	    (b->delete_tid && !tid_ok(f, b, b->delete_tid)))
		rec_emit(f, HAMMER_FSCK_TID_RANGE, l, HAMMER_OFF_BAD,
			 "create_tid %016llx / delete_tid %016llx not below "
			 "next_tid %016llx", (unsigned long long)b->create_tid,
			 (unsigned long long)b->delete_tid,
			 (unsigned long long)f->next_tid);
}

static int known_rectype(uint16_t rt)
{
	switch (rt) {
	case HAMMER_RECTYPE_INODE:
	case HAMMER_RECTYPE_DATA:
	case HAMMER_RECTYPE_DIRENTRY:
	case HAMMER_RECTYPE_DB:
	case HAMMER_RECTYPE_EXT:
	case HAMMER_RECTYPE_FIX:
	case HAMMER_RECTYPE_PFS:
	case HAMMER_RECTYPE_SNAPSHOT:
	case HAMMER_RECTYPE_CONFIG:
		return 1;
	}
	return 0;
}

/* Record type and localization type agree.  Returns 0 if not (reported). */
static int check_placement(struct fsck *f, const struct hammer_btree_leaf_elm *l)
{
	uint32_t t = l->base.localization & HAMMER_LOCALIZE_MASK;
	uint16_t rt = l->base.rec_type;
	if (!known_rectype(rt)) {
		rec_emit(f, HAMMER_FSCK_REC_TYPE, l, HAMMER_OFF_BAD,
			 "unknown record type %04x", rt);
		return 0;
	}
	int want;	/* 1, 2, or 0 for either */
	switch (rt) {
	case HAMMER_RECTYPE_INODE:
	case HAMMER_RECTYPE_SNAPSHOT:
	case HAMMER_RECTYPE_CONFIG:
		want = HAMMER_LOCALIZE_INODE;
		break;
	case HAMMER_RECTYPE_DIRENTRY:
	case HAMMER_RECTYPE_EXT:
	case HAMMER_RECTYPE_PFS:	/* placement: check_pfs_record (PFS_RECORD) */
		want = 0;
		break;
	default:
		want = HAMMER_LOCALIZE_MISC;
		break;
	}
	if ((t != HAMMER_LOCALIZE_INODE && t != HAMMER_LOCALIZE_MISC) ||
	    (want && t != (uint32_t)want)) {
		rec_emit(f, HAMMER_FSCK_REC_LOCALIZATION, l, HAMMER_OFF_BAD,
			 "record type %04x in localization type %04x", rt, t);
		return 0;
	}
	return 1;
}

static int objtype_valid(uint8_t t)
{
	return t >= HAMMER_OBJTYPE_DIRECTORY && t <= HAMMER_OBJTYPE_SOCKET;
}

/* ----------------------------------------------------------- PFSs */

/* Printable form of untrusted bytes: non-ASCII and '\\' as \\xx. */
static void show_bytes(char *out, size_t cap, const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t sl = 0;
	for (size_t i = 0; i < n && sl + 5 < cap; i++) {
		if (c[i] >= 0x20 && c[i] < 0x7F && c[i] != '\\')
			out[sl++] = (char)c[i];
		else
			sl += (size_t)snprintf(out + sl, cap - sl, "\\%02x", c[i]);
	}
	out[sl] = 0;
}

/*
 * A stored symlink target t[0..len) of a symlink in PFS 0: -1 if it does
 * not start with "@@PFS" (not a PFS link), 0 if it does but is not exactly
 * "@@PFS" + 5 decimal digits naming 1..65535, else the PFS id.
 */
static long pfs_link_id(const char *t, size_t len)
{
	if (len < 5 || memcmp(t, "@@PFS", 5) != 0)
		return -1;
	if (len != 10)
		return 0;
	long id = 0;
	for (size_t i = 5; i < 10; i++) {
		if (t[i] < '0' || t[i] > '9')
			return 0;
		id = id * 10 + (t[i] - '0');
	}
	return id >= 1 && id < (long)PFS_IDS ? id : 0;
}

/* Effective state of PFS id: its live record, else UNKNOWN if in doubt. */
static int pfs_state(const struct fsck *f, uint32_t id)
{
	const struct pfsinfo *p = &f->pfs[id];
	if (p->state == PFS_NONE && p->doubt)
		return PFS_UNKNOWN;
	return p->state;
}

/* Pass 2: count the records of each PFS n > 0 and keep the first one's key. */
static void pfs_count(struct fsck *f, const struct hammer_base_elm *b)
{
	uint32_t id = b->localization >> 16;
	if (id == 0)
		return;
	struct pfsinfo *p = &f->pfs[id];
	if (p->nrec == 0) {
		if (f->npfs_first == f->pfs_first_cap) {
			size_t nc = f->pfs_first_cap ? f->pfs_first_cap * 2 : 16;
			void *n = realloc(f->pfs_first, nc * sizeof(*f->pfs_first));
			if (!n) {
				f->stop = -ENOMEM;
				return;
			}
			f->pfs_first = n;
			f->pfs_first_cap = nc;
		}
		p->first = (uint32_t)f->npfs_first;
		f->pfs_first[f->npfs_first++] = *b;
	}
	if (p->nrec != UINT32_MAX)
		p->nrec++;
}

/*
 * A PFS record (rec_type PFS, in a MISC localization).  Its payload is
 * read as the kernel loads it: min(data_len, 292) bytes, the rest zero.
 * Only a well-placed, readable live record defines its PFS's state.
 */
static void check_pfs_record(struct fsck *f, const struct hammer_btree_leaf_elm *l)
{
	const struct hammer_base_elm *b = &l->base;
	int live = b->delete_tid == 0;
	struct hammer_pseudofs_data d;
	memset(&d, 0, sizeof(d));
	int rc = check_payload(f, l, HAMMER_FSCK_REC_CRC, (uint32_t)l->data_len,
			       &d, sizeof(d));
	if (rc < 0)
		return;
	uint32_t inpfs = b->localization >> 16;
	int key_in_range = b->key >= 0 && (uint64_t)b->key >> 16 < PFS_IDS;
	int key_ok = key_in_range && (b->key & 0xFFFF) == 0;
	int place_ok = inpfs == 0 && b->obj_id == 1 &&
		       (b->localization & HAMMER_LOCALIZE_MASK) == HAMMER_LOCALIZE_MISC;
	if (!place_ok)
		rec_emit(f, HAMMER_FSCK_PFS_RECORD, l, l->data_offset,
			 "PFS record in localization %08x, object %016llx: PFS "
			 "records live in PFS 0's MISC space (00000002), object 1",
			 b->localization, (unsigned long long)b->obj_id);
	if (!key_ok)
		rec_emit(f, HAMMER_FSCK_PFS_RECORD, l, l->data_offset,
			 "PFS record key %016llx is not a PFS id (0..65535) << 16",
			 (unsigned long long)b->key);
	if (!place_ok || !key_ok) {
		/* not what the kernel loads; but it may have been meant to be */
		if (live && key_in_range)
			f->pfs[(uint64_t)b->key >> 16].doubt = 1;
		return;
	}
	uint32_t id = (uint32_t)((uint64_t)b->key >> 16);
	struct pfsinfo *p = &f->pfs[id];
	if (l->data_len >= 0 && l->data_len < (int32_t)sizeof(d))
		rec_emit(f, HAMMER_FSCK_PFS_RECORD, l, l->data_offset,
			 "PFS %u: data_len %d, shorter than the %zu-byte PFS data",
			 id, l->data_len, sizeof(d));
	if (rc != 1) {
		/* unreadable or bad CRC (reported): the kernel cannot load it */
		if (live)
			p->state = PFS_UNKNOWN;
		return;
	}
	hammer_pfsd_swap(&d);
	uint32_t fl = d.mirror_flags;
	if (fl & ~(HAMMER_PFSD_SLAVE | HAMMER_PFSD_DELETED))
		rec_emit(f, HAMMER_FSCK_PFS_RECORD, l, l->data_offset,
			 "PFS %u: mirror_flags %08x has unknown bits %08x", id, fl,
			 fl & ~(HAMMER_PFSD_SLAVE | HAMMER_PFSD_DELETED));
	if (!memchr(d.label, 0, sizeof(d.label)))
		rec_emit(f, HAMMER_FSCK_PFS_RECORD, l, l->data_offset,
			 "PFS %u: label is not NUL-terminated", id);
	if (!memchr(d.snapshots, 0, sizeof(d.snapshots)))
		rec_emit(f, HAMMER_FSCK_PFS_RECORD, l, l->data_offset,
			 "PFS %u: snapshots path is not NUL-terminated", id);
	hammer_tid_t beg = d.sync_beg_tid, end = d.sync_end_tid;
	if ((fl & HAMMER_PFSD_SLAVE) && beg > end)
		rec_emit(f, HAMMER_FSCK_PFS_RECORD, l, l->data_offset,
			 "PFS %u (slave): sync_beg_tid %016llx after sync_end_tid "
			 "%016llx", id, (unsigned long long)beg,
			 (unsigned long long)end);
	if (id == 0 && (fl & (HAMMER_PFSD_SLAVE | HAMMER_PFSD_DELETED)))
		rec_emit(f, HAMMER_FSCK_PFS_RECORD, l, l->data_offset,
			 "PFS 0 is marked%s%s: the root PFS is always a live master",
			 (fl & HAMMER_PFSD_SLAVE) ? " SLAVE" : "",
			 (fl & HAMMER_PFSD_DELETED) ? " DELETED" : "");
	if (!live)
		return;
	if (p->nlive) {
		/* which one the kernel finds is not defined: judge neither */
		rec_emit(f, HAMMER_FSCK_PFS_RECORD, l, l->data_offset,
			 "a second live record for PFS %u", id);
		p->state = PFS_UNKNOWN;
	}
	p->nlive = 1;
	if (p->state == PFS_UNKNOWN)
		return;
	p->state = (fl & HAMMER_PFSD_DELETED) ? PFS_DELETED :
		   (fl & HAMMER_PFSD_SLAVE) ? PFS_SLAVE : PFS_MASTER;
}

/* ------------------------------------------------------- pass 1 */

static void pass1_record(struct fsck *f, const struct hammer_btree_leaf_elm *l)
{
	const struct hammer_base_elm *b = &l->base;
	if (b->rec_type != HAMMER_RECTYPE_INODE ||
	    (b->localization & HAMMER_LOCALIZE_MASK) != HAMMER_LOCALIZE_INODE)
		return;		/* pass 2 */
	check_tids(f, l);
	if (b->obj_id <= 0 || (uint64_t)b->obj_id >= f->next_tid)
		rec_emit(f, HAMMER_FSCK_TID_RANGE, l, HAMMER_OFF_BAD,
			 "obj_id %016llx is not in 1..next_tid %016llx",
			 (unsigned long long)b->obj_id,
			 (unsigned long long)f->next_tid);

	struct hammer_inode_data d;
	int have = 0;
	if (l->data_len != (int32_t)sizeof(d)) {
		rec_emit(f, HAMMER_FSCK_IN_DATA_LEN, l, l->data_offset,
			 "inode data_len %d, not %zu", l->data_len, sizeof(d));
	} else {
		int rc = check_payload(f, l, HAMMER_FSCK_IN_CRC,
				       HAMMER_INODE_CRCSIZE, &d, sizeof(d));
		if (rc < 0)
			return;
		/* fields behind a bad CRC are not trusted (IN_CRC says it all) */
		have = rc == 1;
	}
	if (have) {
		hammer_inode_data_swap(&d);
		if (d.version != HAMMER_INODE_DATA_VERSION)
			rec_emit(f, HAMMER_FSCK_IN_VERSION, l, l->data_offset,
				 "inode data version %u, not %u", d.version,
				 HAMMER_INODE_DATA_VERSION);
		if (!objtype_valid(d.obj_type) || d.obj_type != b->obj_type)
			rec_emit(f, HAMMER_FSCK_IN_OBJTYPE, l, l->data_offset,
				 "inode obj_type %u, leaf obj_type %u", d.obj_type,
				 b->obj_type);
		if ((d.cap_flags & HAMMER_INODE_CAP_DIRHASH_MASK) >
		    HAMMER_INODE_CAP_DIRHASH_ALG1)
			rec_emit(f, HAMMER_FSCK_IN_DIRHASH, l, l->data_offset,
				 "cap_flags %02x: dirhash algorithm %u does not exist",
				 d.cap_flags, d.cap_flags & HAMMER_INODE_CAP_DIRHASH_MASK);
	}
	if (!rec_live(f, b))
		return;
	/* a PFS link: a symlink in PFS 0 with an inline "@@PFS..." target */
	long link = -1;
	if (have && d.obj_type == HAMMER_OBJTYPE_SOFTLINK &&
	    (b->localization >> 16) == 0 && d.size <= HAMMER_INODE_BASESYMLEN) {
		link = pfs_link_id(d.ext.symlink, (size_t)d.size);
		if (link == 0) {
			char shown[4 * HAMMER_INODE_BASESYMLEN + 1];
			show_bytes(shown, sizeof(shown), d.ext.symlink, (size_t)d.size);
			rec_emit(f, HAMMER_FSCK_PFS_LINK, l, l->data_offset,
				 "symlink target \"%s\" starts with @@PFS but is "
				 "not @@PFS + 5 digits naming PFS 1..65535", shown);
		}
	}
	int isnew;
	uint16_t pfs = (uint16_t)(b->localization >> 16);
	struct obj *o = obj_get(&f->objs, pfs, b->obj_id, &isnew);
	if (!o) {
		f->stop = -ENOMEM;
		return;
	}
	if (!isnew) {
		rec_emit(f, HAMMER_FSCK_IN_DUP, l, l->data_offset,
			 "a second live INODE record (the first has its data at %016llx)",
			 (unsigned long long)o->data_off);
		return;
	}
	f->r->inodes++;
	o->data_off = l->data_offset;
	if (have) {
		o->obj_type = d.obj_type;
		o->cap_flags = d.cap_flags;
		o->nlinks = d.nlinks;
		o->size = d.size;
		o->parent = d.parent_obj_id;
		if (link > 0)
			o->link_pfs = (uint16_t)link;
	} else {
		o->obj_type = b->obj_type;
		o->flags |= OBJ_NODATA;
	}
	if (o->obj_type == HAMMER_OBJTYPE_DIRECTORY)
		f->r->directories++;
}

/* ------------------------------------------------------- pass 2 */

static void stream_switch(struct fsck *f, const struct hammer_base_elm *b)
{
	struct stream *s = &f->st;
	if (s->valid && s->loc == b->localization && s->obj == b->obj_id)
		return;
	s->valid = 1;
	s->loc = b->localization;
	s->obj = b->obj_id;
	s->owner = obj_find(&f->objs, (uint16_t)(b->localization >> 16), b->obj_id);
	s->noinode_reported = 0;
	s->have_end = 0;
	s->last_end = 0;
	nameset_reset(&s->names);
}

static void check_direntry(struct fsck *f, const struct hammer_btree_leaf_elm *l)
{
	const struct hammer_base_elm *b = &l->base;
	struct obj *dir = f->st.owner;
	int live = rec_live(f, b);
	uint32_t dirpfs = b->localization & HAMMER_LOCALIZE_PSEUDOFS_MASK;
	uint32_t copylen = sizeof(f->dbuf) - 1;
	int have = check_payload(f, l, HAMMER_FSCK_REC_CRC, (uint32_t)l->data_len,
				 f->dbuf, copylen);
	if (have < 0)
		return;
	if (live)
		f->r->entries++;
	if (dir && !(dir->flags & OBJ_NODATA) &&
	    dir->obj_type != HAMMER_OBJTYPE_DIRECTORY) {
		rec_emit(f, HAMMER_FSCK_DE_NOT_DIR, l, l->data_offset,
			 "directory entry in an object of type %u", dir->obj_type);
		dir = NULL;	/* no directory rules apply */
	}
	if (dir && !(dir->flags & OBJ_NODATA)) {
		uint32_t want = (dir->cap_flags & HAMMER_INODE_CAP_DIR_LOCAL_INO) ?
				HAMMER_LOCALIZE_INODE : HAMMER_LOCALIZE_MISC;
		if ((b->localization & HAMMER_LOCALIZE_MASK) != want)
			rec_emit(f, HAMMER_FSCK_DE_LOCALIZATION, l, l->data_offset,
				 "entry in localization type %x, the directory's "
				 "cap_flags %02x want %x",
				 b->localization & HAMMER_LOCALIZE_MASK,
				 dir->cap_flags, want);
	}
	int name_ok = l->data_len > HAMMER_DIRENTRY_HDRSIZE &&
		      l->data_len <= HAMMER_DIRENTRY_HDRSIZE + HAMMER_MAX_NAMELEN;
	if (!name_ok)
		rec_emit(f, HAMMER_FSCK_DE_NAME, l, l->data_offset,
			 "data_len %d: the name must be 1..%d bytes",
			 l->data_len, HAMMER_MAX_NAMELEN);
	if (!have || l->data_len < HAMMER_DIRENTRY_HDRSIZE)
		return;		/* no target to follow */
	int64_t tobj;
	uint32_t tloc;
	memcpy(&tobj, f->dbuf, 8);
	memcpy(&tloc, f->dbuf + 8, 4);
	tobj = (int64_t)le64toh((uint64_t)tobj);
	tloc = le32toh(tloc);
	const char *name = (const char *)f->dbuf + HAMMER_DIRENTRY_HDRSIZE;
	size_t nlen = name_ok ? (size_t)l->data_len - HAMMER_DIRENTRY_HDRSIZE : 0;
	char shown[64];
	size_t sl = 0;
	for (size_t i = 0; i < nlen && sl + 5 < sizeof(shown); i++) {
		unsigned char c = (unsigned char)name[i];
		if (c >= 0x20 && c < 0x7F && c != '\\')
			shown[sl++] = (char)c;
		else
			sl += (size_t)snprintf(shown + sl, sizeof(shown) - sl, "\\%02x", c);
	}
	shown[sl] = 0;
	if (name_ok && (memchr(name, '/', nlen) || memchr(name, 0, nlen)))
		rec_emit(f, HAMMER_FSCK_DE_NAME, l, l->data_offset,
			 "name \"%s\" contains '/' or NUL", shown);
	if (name_ok && dir && !(dir->flags & OBJ_NODATA) &&
	    (dir->cap_flags & HAMMER_INODE_CAP_DIRHASH_MASK) <= HAMMER_INODE_CAP_DIRHASH_ALG1) {
		uint32_t lim;
		int64_t nk = hammer_namekey(dir->cap_flags, name, nlen, &lim);
		if (nk >= 0 && (b->key < nk ||
				(uint64_t)b->key - (uint64_t)nk > lim))
			rec_emit(f, HAMMER_FSCK_DE_KEY, l, l->data_offset,
				 "name \"%s\" hashes to %016llx (+%08x), key is "
				 "outside", shown, (unsigned long long)nk, lim);
	}
	/*
	 * The target's localization field must be the directory's PFS: an
	 * entry never crosses PFSs (PFSs are reached through @@PFS softlinks).
	 * The target is looked up in the directory's PFS either way.
	 */
	if (tloc != dirpfs)
		rec_emit(f, HAMMER_FSCK_DE_LOCALIZATION, l, l->data_offset,
			 "entry \"%s\": target localization %08x, directory PFS %08x",
			 shown, tloc, dirpfs);
	if (!live)
		return;
	if (name_ok) {
		int rc = nameset_add(&f->st.names, name, nlen);
		if (rc < 0) {
			f->stop = rc;
			return;
		}
		if (rc == 0)
			rec_emit(f, HAMMER_FSCK_DE_DUP, l, l->data_offset,
				 "a second live entry named \"%s\"", shown);
	}
	struct obj *t = obj_find(&f->objs, (uint16_t)(dirpfs >> 16), tobj);
	if (!t) {
		rec_emit(f, HAMMER_FSCK_DE_TARGET, l, l->data_offset,
			 "entry \"%s\" names object %016llx, which has no live "
			 "inode in PFS %u", shown, (unsigned long long)tobj,
			 dirpfs >> 16);
		return;
	}
	if (t->obj_type != b->obj_type)
		rec_emit(f, HAMMER_FSCK_DE_OBJTYPE, l, l->data_offset,
			 "entry \"%s\" says obj_type %u, object %016llx is %u",
			 shown, b->obj_type, (unsigned long long)tobj, t->obj_type);
	if (t->entries == 0)
		t->ref_dir = b->obj_id;
	if (t->entries != UINT32_MAX)
		t->entries++;
}

/*
 * The end-of-file rule for a live DATA record [base, end), base = key -
 * data_len, of a file of `size` bytes:
 *
 *     end <= roundup(size, B(base)),  B(base) = 16 KB if base < 1 MB,
 *                                               64 KB if base >= 1 MB.
 *
 * That is: a record may run past EOF only to the end of the file block it
 * starts in (16 KB blocks below HAMMER_XDEMARC, 64 KB from it on), as a
 * truncation that keeps the block holding EOF leaves it.  The small-file
 * case (size <= 8192: one record at 0 of size rounded up to 16 bytes)
 * satisfies the same bound.  A record starting at or beyond that rounded
 * size fails it.  Record length and alignment are not checked.
 */
static int data_within_eof(int64_t base, int64_t end, uint64_t size)
{
	uint64_t bs = (uint64_t)base < HAMMER_XDEMARC ? HAMMER_BUFSIZE : HAMMER_XBUFSIZE;
	if (size > UINT64_MAX - bs)
		return 1;
	uint64_t lim = (size + bs - 1) & ~(bs - 1);
	return (uint64_t)end <= lim;
}

static void check_data(struct fsck *f, const struct hammer_btree_leaf_elm *l)
{
	const struct hammer_base_elm *b = &l->base;
	f->r->data_records++;
	if (l->data_len > 0)
		f->r->data_bytes += (uint64_t)l->data_len;
	if (check_payload(f, l, HAMMER_FSCK_REC_CRC, (uint32_t)l->data_len, NULL, 0) < 0)
		return;
	if (b->rec_type != HAMMER_RECTYPE_DATA || l->data_len <= 0)
		return;		/* DB records are keyed by base; bad lengths reported */
	if (b->key < l->data_len) {
		rec_emit(f, HAMMER_FSCK_DATA_KEY, l, l->data_offset,
			 "end offset %lld is smaller than data_len %d",
			 (long long)b->key, l->data_len);
		return;
	}
	if (!rec_live(f, b))
		return;
	int64_t base = b->key - l->data_len;
	struct stream *s = &f->st;
	if (s->have_end && base < s->last_end)
		rec_emit(f, HAMMER_FSCK_DATA_OVERLAP, l, l->data_offset,
			 "live data [%lld, %lld) overlaps an earlier live record "
			 "ending at %lld", (long long)base, (long long)b->key,
			 (long long)s->last_end);
	if (!s->have_end || b->key > s->last_end)
		s->last_end = b->key;
	s->have_end = 1;
	struct obj *o = s->owner;
	if (o && !(o->flags & OBJ_NODATA) && !data_within_eof(base, b->key, o->size))
		rec_emit(f, HAMMER_FSCK_DATA_EOF, l, l->data_offset,
			 "live data [%lld, %lld) lies beyond the end of the file "
			 "block holding EOF (size %llu)", (long long)base,
			 (long long)b->key, (unsigned long long)o->size);
}

static void check_fix(struct fsck *f, const struct hammer_btree_leaf_elm *l)
{
	char head[5];
	int rc = check_payload(f, l, HAMMER_FSCK_REC_CRC, (uint32_t)l->data_len,
			       head, sizeof(head));
	if (rc < 0)
		return;
	struct obj *o = f->st.owner;
	if (l->base.key != HAMMER_FIXKEY_SYMLINK || !rec_live(f, &l->base) ||
	    !o || o->obj_type != HAMMER_OBJTYPE_SOFTLINK || (o->flags & OBJ_NODATA))
		return;
	o->flags |= OBJ_FIX;
	/* a long target is never a well-formed PFS link (10 bytes, inline) */
	if (rc == 1 && o->pfs == 0 && l->data_len >= 5 &&
	    pfs_link_id(head, sizeof(head)) == 0)
		rec_emit(f, HAMMER_FSCK_PFS_LINK, l, l->data_offset,
			 "symlink target of %d bytes starts with @@PFS: a PFS link "
			 "is exactly @@PFS + 5 digits", l->data_len);
	if (l->data_len < 0 || (uint64_t)l->data_len != o->size)
		rec_emit(f, HAMMER_FSCK_SYMLINK, l, l->data_offset,
			 "symlink target record holds %d bytes, inode size %llu",
			 l->data_len, (unsigned long long)o->size);
}

/*
 * Meta-data snapshot and cleanup config records (version 3+): records of
 * a PFS's root object, 128 bytes whose TID is the key, and one 1024-byte
 * NUL-terminated text at key 0.
 */
static void check_snapshot(struct fsck *f, const struct hammer_btree_leaf_elm *l)
{
	struct hammer_snapshot_data d;
	int rc = check_payload(f, l, HAMMER_FSCK_REC_CRC, (uint32_t)l->data_len,
			       &d, sizeof(d));
	if (rc < 0)
		return;
	if (l->base.obj_id != 1 || l->data_len != (int32_t)sizeof(d)) {
		rec_emit(f, HAMMER_FSCK_SNAPSHOT_RECORD, l, l->data_offset,
			 "snapshot record of object %016llx with %d bytes "
			 "(object 1, %zu bytes expected)",
			 (unsigned long long)l->base.obj_id, l->data_len, sizeof(d));
		return;
	}
	if (rc == 1 && le64toh(d.tid) != (uint64_t)l->base.key)
		rec_emit(f, HAMMER_FSCK_SNAPSHOT_RECORD, l, l->data_offset,
			 "snapshot record keyed %016llx holds TID %016llx",
			 (unsigned long long)l->base.key,
			 (unsigned long long)le64toh(d.tid));
	else if (rc == 1 && !memchr(d.label, 0, sizeof(d.label)))
		rec_emit(f, HAMMER_FSCK_SNAPSHOT_RECORD, l, l->data_offset,
			 "snapshot %016llx: label without its NUL",
			 (unsigned long long)l->base.key);
}

static void check_config(struct fsck *f, const struct hammer_btree_leaf_elm *l)
{
	char text[HAMMER_CONFIG_BYTES];
	int rc = check_payload(f, l, HAMMER_FSCK_REC_CRC, (uint32_t)l->data_len,
			       text, sizeof(text));
	if (rc < 0)
		return;
	if (l->base.obj_id != 1 || l->base.key != 0 ||
	    l->data_len != HAMMER_CONFIG_BYTES)
		rec_emit(f, HAMMER_FSCK_CONFIG_RECORD, l, l->data_offset,
			 "config record of object %016llx, key %016llx, %d bytes "
			 "(object 1, key 0, %d bytes expected)",
			 (unsigned long long)l->base.obj_id,
			 (unsigned long long)l->base.key, l->data_len,
			 HAMMER_CONFIG_BYTES);
	else if (rc == 1 && !memchr(text, 0, sizeof(text)))
		rec_emit(f, HAMMER_FSCK_CONFIG_RECORD, l, l->data_offset,
			 "config text without its NUL");
}

static void pass2_record(struct fsck *f, const struct hammer_btree_leaf_elm *l)
{
	const struct hammer_base_elm *b = &l->base;
	f->r->records++;
	pfs_count(f, b);
	if (b->rec_type == HAMMER_RECTYPE_INODE &&
	    (b->localization & HAMMER_LOCALIZE_MASK) == HAMMER_LOCALIZE_INODE)
		return;		/* pass 1 did it */
	stream_switch(f, b);
	check_tids(f, l);
	if (!check_placement(f, l)) {
		/* still read the payload: its CRC and zone stand alone */
		check_payload(f, l, HAMMER_FSCK_REC_CRC, (uint32_t)l->data_len, NULL, 0);
		return;
	}
	if (rec_pending(f, b)) {
		/* part of a mirror-write batch the slave has not synced yet */
		check_payload(f, l, HAMMER_FSCK_REC_CRC, (uint32_t)l->data_len, NULL, 0);
		return;
	}
	if (rec_live(f, b) && !f->st.owner && !f->st.noinode_reported) {
		f->st.noinode_reported = 1;
		rec_emit(f, HAMMER_FSCK_REC_NO_INODE, l, l->data_offset,
			 "live record of object %016llx, which has no live inode "
			 "(further records of it not reported)",
			 (unsigned long long)b->obj_id);
	}
	switch (b->rec_type) {
	case HAMMER_RECTYPE_DIRENTRY:
		check_direntry(f, l);
		break;
	case HAMMER_RECTYPE_DATA:
	case HAMMER_RECTYPE_DB:
		check_data(f, l);
		break;
	case HAMMER_RECTYPE_FIX:
		check_fix(f, l);
		break;
	case HAMMER_RECTYPE_PFS:
		check_pfs_record(f, l);
		break;
	case HAMMER_RECTYPE_SNAPSHOT:
		check_snapshot(f, l);
		break;
	case HAMMER_RECTYPE_CONFIG:
		check_config(f, l);
		break;
	default:
		check_payload(f, l, HAMMER_FSCK_REC_CRC, (uint32_t)l->data_len, NULL, 0);
		break;
	}
}

/* ------------------------------------------------------- tree walk */

/* Subtree [l, r) holds only one non-INODE localization: pass 1 skips it. */
static int misc_only(const struct hammer_base_elm *l, const struct hammer_base_elm *r)
{
	return l->localization == r->localization &&
	       (l->localization & HAMMER_LOCALIZE_MASK) != HAMMER_LOCALIZE_INODE;
}

/* Pin node `off`, copy it into fr, unpin.  0, skip (1), or fatal errno. */
static int load_node(struct fsck *f, hammer_off_t off, struct frame *fr)
{
	int isnew = 0;
	if (!hammer_u64map_get(&f->seen, off, &isnew))
		return -ENOMEM;
	if (!isnew)
		return 1;	/* shared or looping: the structure check says so */
	struct hammer_node *n;
	struct hammer_err e = { 0 };
	const struct hammer_node_io *io = &f->tree->io;
	int rc = io->ops->get(io->ctx, off, &n, NULL, &e);
	if (rc)
		return fatal_errno(rc) ? rc : 1;
	fr->node = *n->ondisk;
	io->ops->put(io->ctx, n);
	fr->off = off;
	fr->idx = 0;
	/* get() verified type and count; re-check what indexing relies on */
	int max = fr->node.type == HAMMER_BTREE_TYPE_LEAF ? HAMMER_BTREE_LEAF_ELMS
							   : HAMMER_BTREE_INT_ELMS;
	if ((fr->node.type != HAMMER_BTREE_TYPE_LEAF &&
	     fr->node.type != HAMMER_BTREE_TYPE_INTERNAL) ||
	    fr->node.count < 0 || fr->node.count > max)
		return 1;
	f->r->nodes++;
	return 0;
}

static int walk(struct fsck *f, int pass)
{
	hammer_u64map_free(&f->seen);
	hammer_u64map_init(&f->seen);
	f->r->nodes = 0;
	int depth = 0, skipped = 0;
	int rc = load_node(f, f->tree->root, &f->frames[0]);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		f->r->incomplete = 1;
		return 0;
	}
	depth = 1;
	while (depth > 0 && !f->stop) {
		struct frame *fr = &f->frames[depth - 1];
		struct hammer_node_ondisk *n = &fr->node;
		if (n->type == HAMMER_BTREE_TYPE_LEAF) {
			for (int i = 0; i < n->count && !f->stop; i++) {
				const struct hammer_btree_leaf_elm *l = &n->elms[i].leaf;
				if (pass == 1)
					pass1_record(f, l);
				else
					pass2_record(f, l);
			}
			depth--;
			continue;
		}
		if (fr->idx >= n->count) {
			depth--;
			continue;
		}
		int i = fr->idx++;
		const struct hammer_btree_internal_elm *e = &n->elms[i].internal;
		if (pass == 1 && f->prune && misc_only(&e->base, &n->elms[i + 1].base))
			continue;
		if (depth >= HAMMER_BTREE_MAX_DEPTH) {
			skipped++;
			continue;
		}
		rc = load_node(f, e->subtree_offset, &f->frames[depth]);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			skipped++;
			continue;
		}
		depth++;
	}
	if (skipped)
		f->r->incomplete = 1;
	return f->stop;
}

/* ------------------------------------------------ per-object checks */

static void obj_emit(struct fsck *f, int code, int sev, const struct obj *o,
		     const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void obj_emit(struct fsck *f, int code, int sev, const struct obj *o,
		     const char *fmt, ...)
{
	char body[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	struct hammer_base_elm k;
	memset(&k, 0, sizeof(k));
	k.localization = ((uint32_t)o->pfs << 16) | HAMMER_LOCALIZE_INODE;
	k.obj_id = o->obj_id;
	k.rec_type = HAMMER_RECTYPE_INODE;
	k.obj_type = o->obj_type;
	emit(f, code, sev, &k, k.localization, o->obj_id, o->data_off,
	     "object %016llx (PFS %u, type %u): %s", (unsigned long long)o->obj_id,
	     o->pfs, o->obj_type, body);
}

static void check_objects(struct fsck *f)
{
	struct objtab *t = &f->objs;
	for (size_t i = 0; i < t->cap && !f->stop; i++) {
		struct obj *o = &t->v[i];
		if (!(o->flags & OBJ_USED) || (o->flags & OBJ_NODATA))
			continue;
		int root = o->obj_id == 1;
		int isdir = o->obj_type == HAMMER_OBJTYPE_DIRECTORY;
		if (root) {
			/* a PFS root stands alone: nlinks 1, no entry */
			if (o->entries)
				obj_emit(f, HAMMER_FSCK_DIR_LINKS, HAMMER_FSCK_ERROR, o,
					 "the root is named by %u directory entries "
					 "(first in directory %016llx)", o->entries,
					 (unsigned long long)o->ref_dir);
			else if (o->nlinks != 1)
				obj_emit(f, HAMMER_FSCK_IN_NLINKS, HAMMER_FSCK_ERROR, o,
					 "root nlinks %llu, want 1",
					 (unsigned long long)o->nlinks);
		} else if (o->entries == 0) {
			obj_emit(f, HAMMER_FSCK_ORPHAN,
				 o->nlinks ? HAMMER_FSCK_ERROR : HAMMER_FSCK_WARN, o,
				 "no live directory entry names it (nlinks %llu)",
				 (unsigned long long)o->nlinks);
		} else {
			if (o->nlinks != o->entries)
				obj_emit(f, HAMMER_FSCK_IN_NLINKS, HAMMER_FSCK_ERROR, o,
					 "nlinks %llu, but %u live directory entries "
					 "name it", (unsigned long long)o->nlinks,
					 o->entries);
			if (isdir && o->entries > 1)
				obj_emit(f, HAMMER_FSCK_DIR_LINKS, HAMMER_FSCK_ERROR, o,
					 "directory named by %u directory entries",
					 o->entries);
			else if (isdir && o->parent != o->ref_dir)
				obj_emit(f, HAMMER_FSCK_DIR_PARENT, HAMMER_FSCK_ERROR, o,
					 "parent_obj_id %016llx, but the entry naming it "
					 "is in directory %016llx",
					 (unsigned long long)o->parent,
					 (unsigned long long)o->ref_dir);
		}
		if (o->link_pfs) {
			int st = pfs_state(f, o->link_pfs);
			if (st == PFS_NONE || st == PFS_DELETED)
				obj_emit(f, HAMMER_FSCK_PFS_LINK, HAMMER_FSCK_WARN, o,
					 "PFS link @@PFS%05u names a PFS with %s (a crash "
					 "between pfs-destroy and removing the link leaves "
					 "this)", o->link_pfs, st == PFS_NONE ?
					 "no PFS record" : "a DELETED PFS record");
		}
		if (o->obj_type == HAMMER_OBJTYPE_SOFTLINK &&
		    o->size > HAMMER_INODE_BASESYMLEN && !(o->flags & OBJ_FIX))
			obj_emit(f, HAMMER_FSCK_SYMLINK, HAMMER_FSCK_ERROR, o,
				 "symlink of %llu bytes (over %d) has no live FIX "
				 "record with key 1", (unsigned long long)o->size,
				 HAMMER_INODE_BASESYMLEN);
	}
}

/*
 * Per PFS, once the whole tree was read: records only where a live PFS
 * record says the PFS exists; a root for every live master.
 */
static void check_pfs(struct fsck *f)
{
	for (uint32_t id = 0; id < PFS_IDS && !f->stop; id++) {
		const struct pfsinfo *p = &f->pfs[id];
		int st = id == 0 ? PFS_MASTER : pfs_state(f, id);
		if (id != 0 && p->nrec && (st == PFS_NONE || st == PFS_DELETED) &&
		    p->first < f->npfs_first) {
			const struct hammer_base_elm *b = &f->pfs_first[p->first];
			emit(f, HAMMER_FSCK_PFS_NO_RECORD, HAMMER_FSCK_ERROR, b,
			     id << 16, b->obj_id, HAMMER_OFF_BAD,
			     "PFS %u has %u%s records (the first lo=%08x obj=%016llx "
			     "rt=%02x) but %s", id, p->nrec,
			     p->nrec == UINT32_MAX ? "+" : "", b->localization,
			     (unsigned long long)b->obj_id, b->rec_type,
			     st == PFS_NONE ? "no live PFS record"
					    : "its PFS record is DELETED (pfs-destroy "
					      "removes every record first)");
			continue;
		}
		if (st != PFS_MASTER && st != PFS_SLAVE)
			continue;
		const struct obj *root = obj_find(&f->objs, (uint16_t)id, 1);
		struct hammer_base_elm k;
		memset(&k, 0, sizeof(k));
		k.localization = (id << 16) | HAMMER_LOCALIZE_INODE;
		k.obj_id = 1;
		k.rec_type = HAMMER_RECTYPE_INODE;
		if (!root && st == PFS_MASTER)
			emit(f, HAMMER_FSCK_PFS_ROOT, HAMMER_FSCK_ERROR, &k, id << 16, 1,
			     HAMMER_OFF_BAD, "master PFS %u has no live root inode "
			     "(obj_id 1)", id);
		else if (root && root->obj_type != HAMMER_OBJTYPE_DIRECTORY)
			emit(f, HAMMER_FSCK_PFS_ROOT, HAMMER_FSCK_ERROR, &k, id << 16, 1,
			     root->data_off, "%s PFS %u: root (obj_id 1) has type %u, "
			     "not a directory", st == PFS_MASTER ? "master" : "slave",
			     id, root->obj_type);
	}
}

/* ------------------------------------------------------------- FIFO */

static void check_fifo(struct fsck *f)
{
	const struct hammer_volume_ondisk *root = hammer_volset_root(f->vs);
	const struct hammer_blockmap *um = &root->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
	hammer_off_t base = hammer_encode(HAMMER_ZONE_UNDO_INDEX, 0, 0);
	hammer_off_t alloc = um->alloc_offset;
	hammer_off_t first = um->first_offset, next = um->next_offset;
	hammer_off_t maxend = base + (hammer_off_t)HAMMER_UNDO_LAYER2 * HAMMER_BIGBLOCK_SIZE;
	if (alloc <= base || alloc > maxend || (alloc & HAMMER_BUFMASK)) {
		emit(f, HAMMER_FSCK_FIFO_BOUNDS, HAMMER_FSCK_ERROR, NULL, 0, 0, alloc,
		     "UNDO FIFO end (zone-3 alloc_offset %016llx) is not a 16 KB "
		     "aligned zone-3 address within %d big-blocks",
		     (unsigned long long)alloc, HAMMER_UNDO_LAYER2);
		return;
	}
	int bad = 0;
	for (int k = 0; k < 2; k++) {
		hammer_off_t v = k ? next : first;
		if (v < base || v >= alloc || (v & HAMMER_HEAD_ALIGN_MASK)) {
			emit(f, HAMMER_FSCK_FIFO_BOUNDS, HAMMER_FSCK_ERROR, NULL, 0, 0, v,
			     "UNDO FIFO %s_offset %016llx is outside [%016llx, "
			     "%016llx) or not 8-byte aligned", k ? "next" : "first",
			     (unsigned long long)v, (unsigned long long)base,
			     (unsigned long long)alloc);
			bad = 1;
		}
	}
	if (bad || f->version < 4)
		return;		/* before v4 records carry no sequence */

	uint64_t budget = alloc - base, walked = 0;
	hammer_off_t pos = first;
	int have_seq = 0;
	uint32_t seq = 0;
	uint8_t rec[HAMMER_UNDO_ALIGN];
	while (pos != next && !f->stop) {
		uint32_t avail = HAMMER_UNDO_ALIGN - (uint32_t)(pos & HAMMER_UNDO_MASK);
		struct hammer_err e = { 0 };
		uint32_t ci, cl;
		int rc = read_payload(f, pos, avail, 0, rec, avail, &ci, &cl, &e);
		if (rc) {
			if (fatal_errno(rc)) {
				f->stop = rc;
				return;
			}
			emit(f, HAMMER_FSCK_FIFO_RECORD, HAMMER_FSCK_ERROR, NULL, 0, 0,
			     pos, "FIFO record %016llx unreadable: %s",
			     (unsigned long long)pos, e.msg);
			return;
		}
		struct hammer_fifo_rec fr;
		if (hammer_fifo_rec_check(f->version, pos, rec, avail, &fr, &e)) {
			emit(f, HAMMER_FSCK_FIFO_RECORD, HAMMER_FSCK_ERROR, NULL, 0, 0,
			     pos, "%s (between first %016llx and next %016llx)", e.msg,
			     (unsigned long long)first, (unsigned long long)next);
			return;
		}
		uint32_t size = fr.head.hdr_size;
		if (pos < next && pos + size > next) {
			emit(f, HAMMER_FSCK_FIFO_RECORD, HAMMER_FSCK_ERROR, NULL, 0, 0,
			     pos, "FIFO record %016llx (%u bytes) runs past next_offset "
			     "%016llx", (unsigned long long)pos, size,
			     (unsigned long long)next);
			return;
		}
		if (fr.head.hdr_type != HAMMER_HEAD_TYPE_PAD) {
			if (have_seq && fr.head.hdr_seq != seq + 1)
				emit(f, HAMMER_FSCK_FIFO_SEQ, HAMMER_FSCK_ERROR, NULL, 0, 0,
				     pos, "FIFO record %016llx has sequence %08x after "
				     "%08x", (unsigned long long)pos, fr.head.hdr_seq, seq);
			seq = fr.head.hdr_seq;
			have_seq = 1;
		}
		f->r->fifo_records++;
		pos += size;
		if (pos == alloc)
			pos = base;
		walked += size;
		/*
		 * Cannot trigger: sizes are >= 8, no record passes next (checked
		 * above) or alloc (records stay inside 512-byte sectors and alloc
		 * is 16 KB aligned), so pos wraps at most once.  A guard anyway.
		 */
		if (walked > budget) {
			emit(f, HAMMER_FSCK_FIFO_RECORD, HAMMER_FSCK_ERROR, NULL, 0, 0,
			     first, "walking the FIFO from first %016llx never reached "
			     "next %016llx", (unsigned long long)first,
			     (unsigned long long)next);
			return;
		}
	}
}

/* -------------------------------------------------- the other checkers */

static int run_btree_check(struct fsck *f)
{
	struct hammer_btree_check chk;
	int rc = hammer_btree_check(f->tree, &chk);
	size_t kept_errors = 0;
	for (size_t i = 0; i < chk.count && !f->stop; i++) {
		const struct hammer_chk_finding *c = &chk.findings[i];
		int sev = c->severity == HAMMER_CHK_WARN ? HAMMER_FSCK_WARN : HAMMER_FSCK_ERROR;
		if (sev == HAMMER_FSCK_ERROR)
			kept_errors++;
		emit(f, HAMMER_FSCK_BTREE_BASE + c->code, sev, NULL, 0, 0, c->node,
		     "%s", c->msg);
	}
	if (chk.errors > kept_errors) {
		f->r->errors += chk.errors - kept_errors;
		f->r->dropped += chk.errors - kept_errors;
	}
	/* a clean structure lets pass 1 skip data-only subtrees */
	f->prune = rc == 0 && chk.errors == 0;
	hammer_btree_check_free(&chk);
	/* the structural check turns node I/O errors into findings: a
	 * non-zero return is an operational failure (-ENOMEM) */
	return rc ? rc : f->stop;
}

static int run_checkmap(struct fsck *f, int skip_nodes, struct hammer_err *err)
{
	struct hammer_bufcache_stats st;
	hammer_bufcache_stats(f->bc, &st);
	uint64_t dirty = 0;
	for (int k = 0; k < HAMMER_BUF_KINDS; k++)
		dirty += st.dirty_bytes[k];
	if (dirty && !(f->o->flags & HAMMER_FSCK_FORCE_CHECKMAP)) {
		emit(f, HAMMER_FSCK_CHECKMAP_SKIPPED, HAMMER_FSCK_WARN, NULL, 0, 0,
		     HAMMER_OFF_BAD, "the buffer cache holds %llu dirty bytes; the "
		     "freemap check reads the devices and was not run",
		     (unsigned long long)dirty);
		return 0;
	}
	struct hammer_checkmap cm;
	struct hammer_err e = { 0 };
	int rc = hammer_checkmap_init(&cm, f->vs);
	if (f->o->flags & HAMMER_FSCK_CHECKMAP_REACHABLE)
		cm.flags |= HAMMER_CHECKMAP_REACHABLE;
	if (!rc)
		rc = hammer_checkmap_freemap(&cm, &e);
	if (!rc)
		rc = hammer_checkmap_btree(&cm, &e);
	if (!rc)
		rc = hammer_checkmap_undo(&cm, &e);
	if (!rc)
		rc = hammer_checkmap_finish(&cm, &e);
	f->r->cm_unreachable_live = cm.unreachable_live;
	if (cm.nskipped) {
		f->r->skipped = malloc(cm.nskipped * sizeof(*f->r->skipped));
		if (!f->r->skipped && rc != -ENOMEM)
			rc = -ENOMEM;
		for (size_t i = 0; f->r->skipped && i < cm.nskipped; i++) {
			f->r->skipped[i].vol_no = cm.skipped[i].vol_no;
			f->r->skipped[i].off = cm.skipped[i].off;
			f->r->skipped[i].len = cm.skipped[i].len;
		}
		if (f->r->skipped)
			f->r->nskipped = cm.nskipped;
	}
	if (rc == -ENOMEM) {
		hammer_checkmap_free(&cm);
		HAMMER_ERR(err, rc, HAMMER_OFF_BAD, "out of memory in the freemap check");
		return rc;
	}
	f->r->checkmap_run = 1;
	for (size_t i = 0; i < cm.nfindings && !f->stop; i++) {
		const struct hammer_checkmap_finding *c = &cm.findings[i];
		if (skip_nodes && c->code == HAMMER_CM_NODE)
			continue;	/* the B-tree check reports node problems */
		/*
		 * checkmap walks the whole FIFO; outside the live range
		 * [first, next) a torn or garbled record is what a crash
		 * leaves and nothing reads it (step 5 judges the live range).
		 */
		int sev = HAMMER_FSCK_ERROR;
		if (c->code == HAMMER_CM_FIFO) {
			const struct hammer_blockmap *u =
				&hammer_volset_root(f->vs)->vol0_blockmap[HAMMER_ZONE_UNDO_INDEX];
			hammer_off_t a = c->addr, lo = u->first_offset, hi = u->next_offset;
			int live = lo <= hi ? (a >= lo && a < hi) : (a >= lo || a < hi);
			if (!live)
				sev = HAMMER_FSCK_WARN;
		}
		emit(f, HAMMER_FSCK_CM_BASE + (int)c->code, sev, NULL,
		     0, 0, c->addr, "%s", c->msg);
	}
	if (rc)
		emit(f, HAMMER_FSCK_CHECKMAP_FAILED, HAMMER_FSCK_ERROR, NULL, 0, 0,
		     e.off, "the freemap check stopped: %s", e.msg);
	hammer_checkmap_free(&cm);
	return f->stop;
}

/* ------------------------------------------------------------- entry */

int hammer_fscheck(struct hammer_volset *vs, struct hammer_bufcache *bc,
		   const struct hammer_fscheck_opts *o,
		   struct hammer_fscheck_report *r, struct hammer_err *err)
{
	struct hammer_fscheck_opts defaults;
	if (!o) {
		hammer_fscheck_opts_init(&defaults);
		o = &defaults;
	}
	memset(r, 0, sizeof(*r));
	struct fsck *f = calloc(1, sizeof(*f));
	if (!f)
		return HAMMER_ERR(err, -ENOMEM, HAMMER_OFF_BAD, "out of memory");
	f->vs = vs;
	f->bc = bc;
	f->o = o;
	f->r = r;
	f->version = vs->version;
	f->max_findings = o->max_findings ? o->max_findings
					  : HAMMER_FSCK_DEFAULT_MAX_FINDINGS;
	f->next_tid = o->next_tid ? o->next_tid
				  : hammer_volset_root(vs)->vol0_next_tid;
	hammer_u64map_init(&f->seen);
	f->frames = malloc(sizeof(*f->frames) * (HAMMER_BTREE_MAX_DEPTH + 1));
	f->pfs = calloc(PFS_IDS, sizeof(*f->pfs));
	f->slave_end = calloc(PFS_IDS, sizeof(*f->slave_end));

	struct hammer_btree own;
	struct hammer_node_io io;
	struct hammer_btree_bufio *bio = NULL;
	int rc = f->frames && f->pfs && f->slave_end ? 0 : -ENOMEM;
	if (!rc && o->tree) {
		f->tree = o->tree;
	} else if (!rc) {
		rc = hammer_btree_bufio_open(vs, bc, NULL, &bio, &io);
		if (!rc) {
			hammer_btree_open(&own, &io, hammer_volset_root(vs)->vol0_btree_root);
			f->tree = &own;
		}
	}
	int btree_checked = 0;
	if (!rc && !(o->flags & HAMMER_FSCK_NO_BTREE_CHECK)) {
		rc = run_btree_check(f);
		btree_checked = 1;
	}
	if (!rc)
		rc = load_slaves(f);
	if (!rc)
		rc = walk(f, 1);
	if (!rc)
		rc = walk(f, 2);
	if (!rc && !f->stop) {
		if (r->incomplete)
			emit(f, HAMMER_FSCK_SCAN_INCOMPLETE, HAMMER_FSCK_WARN, NULL, 0, 0,
			     f->tree->root, "the record scan skipped B-tree nodes it "
			     "could not read or had seen; nlinks, orphan, parent and "
			     "symlink checks were not made");
		else
			check_objects(f);
		if (!r->incomplete && !f->stop)
			check_pfs(f);
	}
	if (!rc && !f->stop && !(o->flags & HAMMER_FSCK_NO_FIFO))
		check_fifo(f);
	if (!rc && !f->stop && !(o->flags & HAMMER_FSCK_NO_CHECKMAP))
		rc = run_checkmap(f, btree_checked, err);
	if (!rc)
		rc = f->stop;
	if (rc == -ENOMEM)
		HAMMER_ERR(err, rc, HAMMER_OFF_BAD, "out of memory");
	else if (rc == -ECANCELED)
		HAMMER_ERR(err, rc, HAMMER_OFF_BAD, "check stopped by the caller");
	else if (rc == -ENOBUFS)
		HAMMER_ERR(err, rc, HAMMER_OFF_BAD, "buffer cache full of dirty or "
			   "pinned buffers");

	r->table_bytes = f->objs.peak_bytes;
	if (bio)
		hammer_btree_bufio_close(bio);
	nameset_free(&f->st.names);
	hammer_u64map_free(&f->seen);
	free(f->objs.v);
	free(f->frames);
	free(f->pfs);
	free(f->slave_end);
	free(f->pfs_first);
	free(f);
	return rc;
}
