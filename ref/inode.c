/*
 * inode.c - records (insert, remove, read), the inode cache, attributes.
 *
 * Records.  Data of INODE, DIRENTRY and FIX records goes to zone 9 (meta
 * buffers, so writing it is logged like any meta-data change); DATA records
 * go to zone 11 up to 8 KB and zone 10 above, the kernel's rule.  Removing
 * a record marks delete_tid with the cycle TID, unless history is off (the
 * mount option, the per-file flag) or the record was created in this very
 * cycle: then the element goes and its data is freed.
 *
 * Inodes.  A live inode is cached in memory while it is dirty or open and
 * for a while after (trimmed after each flush).  Its attributes change in
 * memory; ino_sync writes them as a new INODE record version (or, when only
 * atime/mtime changed, in place: they are outside the record's CRC).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "crc.h"
#include "engine.h"

#define INO_CACHE_MAX	8192	/* clean, unopened inodes kept after a flush */

/* ---------------------------------------------------------- ids */

void eng_id_to_uuid(uint32_t id, hammer_uuid_t *u)
{
	memset(u, 0, sizeof(*u));
	u->b[12] = (uint8_t)id;
	u->b[13] = (uint8_t)(id >> 8);
	u->b[14] = (uint8_t)(id >> 16);
	u->b[15] = (uint8_t)(id >> 24);
}

uint32_t eng_uuid_to_id(const hammer_uuid_t *u)
{
	return (uint32_t)u->b[12] | (uint32_t)u->b[13] << 8 |
	       (uint32_t)u->b[14] << 16 | (uint32_t)u->b[15] << 24;
}

/* ---------------------------------------------------------- records */

static void key_make(struct hammer_base_elm *k, uint32_t loc, int64_t obj,
		     uint16_t rtype, int64_t key)
{
	memset(k, 0, sizeof(*k));
	k->localization = loc;
	k->obj_id = obj;
	k->rec_type = rtype;
	k->key = key;
}

int rec_lookup(struct hammer_mount *m, uint32_t loc, int64_t obj, uint16_t rtype,
	       int64_t key, hammer_tid_t asof, struct hammer_btree_leaf_elm *out)
{
	struct hammer_base_elm k;
	struct hammer_cursor c;
	struct hammer_err e = { 0 };
	key_make(&k, loc, obj, rtype, key);
	hammer_cursor_init(&c, &m->tree, &e);
	int rc = hammer_btree_lookup_asof(&c, &k, asof);
	if (!rc && out)
		*out = *hammer_cursor_leaf(&c);
	hammer_cursor_done(&c);
	return rc == -ENOENT ? rc : eng_err(m, rc, &e);
}

unsigned rec_data_zone(uint16_t rtype, size_t len)
{
	if (rtype == HAMMER_RECTYPE_DATA || rtype == HAMMER_RECTYPE_DB)
		return len <= 8192 ? HAMMER_ZONE_SMALL_DATA_INDEX
				   : HAMMER_ZONE_LARGE_DATA_INDEX;
	return HAMMER_ZONE_META_INDEX;
}

static uint32_t rec_crc(struct hammer_mount *m, uint16_t rtype,
			const void *data, size_t len)
{
	if (rtype == HAMMER_RECTYPE_INODE && len >= HAMMER_INODE_CRCSIZE)
		len = HAMMER_INODE_CRCSIZE;
	return hammer_datacrc(m->version, data, len);
}

/* Write `len` bytes at a fresh (or same-cycle) data address. */
static int data_write(struct hammer_mount *m, hammer_off_t off,
		      const void *data, size_t len, int fresh)
{
	struct hammer_buffer *b;
	void *p;
	struct hammer_err e = { 0 };
	int flags = (fresh && len >= HAMMER_BUFSIZE) ? HAMMER_BUF_NEW : 0;
	int rc = hammer_buffer_get(m->bc, off, len, flags, &b, &p, &e);
	if (rc)
		return eng_err(m, rc, &e);
	rc = hammer_buffer_modify(m->bc, b, p, len);
	if (!rc)
		memcpy(p, data, len);
	hammer_buffer_put(m->bc, b);
	return eng_err(m, rc, NULL);
}

int rec_data_write(struct hammer_mount *m, hammer_off_t off, const void *data,
		   size_t len)
{
	return data_write(m, off, data, len, 1);
}

/* Build a new record's element and allocate its data (not written). */
int rec_alloc(struct hammer_mount *m, uint32_t loc, int64_t obj,
	      uint16_t rtype, int64_t key, uint8_t obj_type, size_t len,
	      struct hammer_btree_leaf_elm *el)
{
	struct hammer_err e = { 0 };
	memset(el, 0, sizeof(*el));
	key_make(&el->base, loc, obj, rtype, key);
	el->base.create_tid = m->cycle_tid;
	el->base.obj_type = obj_type;
	el->base.btype = HAMMER_BTREE_TYPE_RECORD;
	el->create_ts = (uint32_t)(eng_now(m) / 1000000u);
	if (!len)
		return 0;
	int rc = hammer_blockmap_alloc(m->bm, rec_data_zone(rtype, len), (int)len,
				       &el->data_offset, &e);
	if (rc)
		return eng_err(m, rc, &e);
	el->data_len = (int32_t)len;
	return 0;
}

void rec_seal(struct hammer_mount *m, struct hammer_btree_leaf_elm *el,
	      const void *data)
{
	el->data_crc = rec_crc(m, el->base.rec_type, data, (size_t)el->data_len);
}

/* Allocate and write the data of a new record; build its element. */
int rec_prepare(struct hammer_mount *m, uint32_t loc, int64_t obj,
		uint16_t rtype, int64_t key, uint8_t obj_type, const void *data,
		size_t len, struct hammer_btree_leaf_elm *el)
{
	struct hammer_err e = { 0 };
	int rc = rec_alloc(m, loc, obj, rtype, key, obj_type, len, el);
	if (rc || !len)
		return rc;
	el->data_len = 0;
	rc = data_write(m, el->data_offset, data, len, 1);
	if (rc) {
		hammer_blockmap_free(m->bm, el->data_offset, (int)len, &e);
		return rc;
	}
	el->data_len = (int32_t)len;
	el->data_crc = rec_crc(m, rtype, data, len);
	return 0;
}

/* Insert a prepared element; on failure its data is freed again. */
int rec_commit(struct hammer_mount *m, struct hammer_btree_leaf_elm *el)
{
	struct hammer_err e = { 0 };
	int rc = hammer_btree_insert(&m->tree, el, &e);
	if (rc) {
		struct hammer_err e2 = { 0 };
		if (el->data_len)
			hammer_blockmap_free(m->bm, el->data_offset,
					     el->data_len, &e2);
		return eng_err(m, rc, &e);
	}
	return 0;
}

int rec_insert(struct hammer_mount *m, uint32_t loc, int64_t obj, uint16_t rtype,
	       int64_t key, uint8_t obj_type, const void *data, size_t len,
	       struct hammer_btree_leaf_elm *out)
{
	struct hammer_btree_leaf_elm el;
	int rc = rec_prepare(m, loc, obj, rtype, key, obj_type, data, len, &el);
	if (!rc)
		rc = rec_commit(m, &el);
	if (!rc && out)
		*out = el;
	return rc;
}

int rec_remove(struct hammer_mount *m, const struct hammer_btree_leaf_elm *el,
	       int nohist)
{
	struct hammer_err e = { 0 };
	int rc;
	if (nohist || m->o.nohistory || el->base.create_tid == m->cycle_tid) {
		rc = 0;
		/*
		 * A record older than the cycle leaves the tree: its delete_tid
		 * is set first so that mirror_tid rises along its path and an
		 * incremental mirror-read enters this subtree and the slave
		 * learns of the removal (DragonFly does the same).  Not for
		 * PFS teardown (nohist 2): nothing mirrors a destroyed PFS.
		 */
		if (nohist != 2 && m->cycle_tid && el->base.create_tid < m->cycle_tid &&
		    el->base.delete_tid == 0)
			rc = hammer_btree_mark_deleted(&m->tree, &el->base,
						       m->cycle_tid,
						       (uint32_t)(eng_now(m) / 1000000u),
						       &e);
		if (!rc)
			rc = hammer_btree_delete(&m->tree, &el->base, &e);
		if (!rc && el->data_len > 0)
			rc = hammer_blockmap_free(m->bm, el->data_offset,
						  el->data_len, &e);
	} else {
		rc = hammer_btree_mark_deleted(&m->tree, &el->base, m->cycle_tid,
					       (uint32_t)(eng_now(m) / 1000000u),
					       &e);
	}
	return eng_err(m, rc, &e);
}

/* Read a record's data (len <= data_len) and check its CRC when whole. */
int rec_read(struct hammer_mount *m, const struct hammer_btree_leaf_elm *el,
	     void *buf, size_t len)
{
	struct hammer_buffer *b;
	void *p;
	struct hammer_err e = { 0 };
	if (el->data_len < 0 || len > (size_t)el->data_len)
		return HAMMER_CORRUPT(&m->err, el->data_offset,
				      "record of object %lld: data_len %d too short",
				      (long long)el->base.obj_id, el->data_len);
	if (!len)
		return 0;
	size_t whole = (size_t)el->data_len;
	int rc = hammer_buffer_get(m->bc, el->data_offset, whole, 0, &b, &p, &e);
	if (rc)
		return eng_err(m, rc, &e);
	size_t clen = whole;
	if (el->base.rec_type == HAMMER_RECTYPE_INODE && clen > HAMMER_INODE_CRCSIZE)
		clen = HAMMER_INODE_CRCSIZE;
	if (hammer_crc_check(m->version, p, clen, el->data_crc) == HAMMER_CRC_BAD) {
		hammer_buffer_put(m->bc, b);
		return HAMMER_CORRUPT(&m->err, el->data_offset,
				      "data CRC mismatch in record of object %lld "
				      "type %04x key %016llx at %016llx",
				      (long long)el->base.obj_id,
				      el->base.rec_type,
				      (unsigned long long)el->base.key,
				      (unsigned long long)el->data_offset);
	}
	memcpy(buf, p, len);
	hammer_buffer_put(m->bc, b);
	return 0;
}

/*
 * Replace the data of a record created in this cycle, same length: the
 * bytes are overwritten in place and the element re-inserted with the new
 * CRC (nothing committed refers to this data yet).
 */
int rec_rewrite(struct hammer_mount *m, struct hammer_btree_leaf_elm *el,
		const void *data, size_t len)
{
	struct hammer_err e = { 0 };
	int rc = data_write(m, el->data_offset, data, len, 0);
	if (rc)
		return rc;
	rc = hammer_btree_delete(&m->tree, &el->base, &e);
	if (rc)
		return eng_err(m, rc, &e);
	el->data_crc = rec_crc(m, el->base.rec_type, data, len);
	rc = hammer_btree_insert(&m->tree, el, &e);
	return eng_err(m, rc, &e);
}

/* ---------------------------------------------------------- inode data */

uint8_t obj_type_of_mode(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return HAMMER_OBJTYPE_DIRECTORY;
	case S_IFREG: return HAMMER_OBJTYPE_REGFILE;
	case S_IFIFO: return HAMMER_OBJTYPE_FIFO;
	case S_IFCHR: return HAMMER_OBJTYPE_CDEV;
	case S_IFBLK: return HAMMER_OBJTYPE_BDEV;
	case S_IFLNK: return HAMMER_OBJTYPE_SOFTLINK;
	case S_IFSOCK: return HAMMER_OBJTYPE_SOCKET;
	}
	return HAMMER_OBJTYPE_UNKNOWN;
}

uint32_t ino_mode(const struct hammer_inode_data *d)
{
	uint32_t t;
	switch (d->obj_type) {
	case HAMMER_OBJTYPE_DIRECTORY: t = S_IFDIR; break;
	case HAMMER_OBJTYPE_FIFO: t = S_IFIFO; break;
	case HAMMER_OBJTYPE_CDEV: t = S_IFCHR; break;
	case HAMMER_OBJTYPE_BDEV: t = S_IFBLK; break;
	case HAMMER_OBJTYPE_SOFTLINK: t = S_IFLNK; break;
	case HAMMER_OBJTYPE_SOCKET: t = S_IFSOCK; break;
	case HAMMER_OBJTYPE_PSEUDOFS: t = S_IFDIR; break;
	default: t = S_IFREG; break;
	}
	return t | (d->mode & 07777);
}

void ino_fill_attr(const struct hammer_inode_data *d, int64_t obj_id,
		   uint32_t pfs_loc, hammer_ino_t handle, hammer_tid_t asof,
		   hammer_tid_t ctid, struct hammer_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = handle;
	a->obj_id = hammer_report_ino(obj_id, pfs_loc >> 16);
	a->pfs_id = pfs_loc >> 16;
	a->mode = ino_mode(d);
	a->nlink = d->nlinks;
	a->uid = eng_uuid_to_id(&d->uid);
	a->gid = eng_uuid_to_id(&d->gid);
	a->rdev = makedev(d->rmajor, d->rminor);
	a->size = d->size;
	a->blocks = (d->size + 511) / 512;
	a->ctime = d->ctime;
	a->mtime = d->mtime;
	a->atime = d->atime;
	a->uflags = d->uflags;
	a->create_tid = ctid;
	a->asof = asof;
	if (asof) {
		/* as-of objects are frozen: one time for all three */
		a->mtime = a->atime = a->ctime;
	}
}

/*
 * Load the INODE record of (obj, pfs) visible at asof: CRC, version and type
 * checked.  rec (optional) gets the leaf element.
 */
int ino_load(struct hammer_mount *m, int64_t obj, uint32_t pfs_loc,
	     hammer_tid_t asof, struct hammer_inode_data *d,
	     struct hammer_btree_leaf_elm *rec)
{
	struct hammer_btree_leaf_elm el;
	int rc = rec_lookup(m, pfs_loc | HAMMER_LOCALIZE_INODE, obj,
			    HAMMER_RECTYPE_INODE, 0, asof, &el);
	if (rc)
		return rc;
	if (el.data_len != (int32_t)sizeof(*d))
		return HAMMER_CORRUPT(&m->err, el.data_offset,
				      "inode %lld: data_len %d, expected 128",
				      (long long)obj, el.data_len);
	rc = rec_read(m, &el, d, sizeof(*d));
	if (rc)
		return rc;
	hammer_inode_data_swap(d);
	if (d->obj_type == HAMMER_OBJTYPE_UNKNOWN ||
	    d->obj_type > HAMMER_OBJTYPE_SOCKET ||
	    (d->cap_flags & HAMMER_INODE_CAP_DIRHASH_MASK) > 1)
		return HAMMER_CORRUPT(&m->err, el.data_offset,
				      "inode %lld: bad obj_type %u or cap_flags %#x",
				      (long long)obj, d->obj_type, d->cap_flags);
	if (rec)
		*rec = el;
	return 0;
}

/* ---------------------------------------------------------- cache */

static size_t ihash(const struct hammer_mount *m, int64_t obj, uint32_t loc)
{
	uint64_t x = ((uint64_t)obj ^ ((uint64_t)loc << 31)) * 0x9E3779B97F4A7C15ULL;
	return (size_t)(x >> 32) & (m->ihash_size - 1);
}

static int ihash_grow(struct hammer_mount *m)
{
	size_t nsize = m->ihash_size ? m->ihash_size * 2 : 1024;
	struct hammer_inode **nh = calloc(nsize, sizeof(*nh));
	if (!nh)
		return -ENOMEM;
	struct hammer_inode **old = m->ihash;
	size_t osize = m->ihash_size;
	m->ihash = nh;
	m->ihash_size = nsize;
	for (size_t i = 0; i < osize; i++) {
		struct hammer_inode *ip = old[i], *nx;
		for (; ip; ip = nx) {
			nx = ip->hnext;
			size_t h = ihash(m, ip->obj_id, ip->pfs_loc);
			ip->hnext = nh[h];
			nh[h] = ip;
		}
	}
	free(old);
	return 0;
}

static struct hammer_inode *ihash_find(struct hammer_mount *m, int64_t obj,
				       uint32_t loc)
{
	if (!m->ihash_size)
		return NULL;
	for (struct hammer_inode *ip = m->ihash[ihash(m, obj, loc)]; ip;
	     ip = ip->hnext)
		if (ip->obj_id == obj && ip->pfs_loc == loc)
			return ip;
	return NULL;
}

static int ihash_add(struct hammer_mount *m, struct hammer_inode *ip)
{
	if (m->ninodes + 1 > m->ihash_size) {
		int rc = ihash_grow(m);
		if (rc)
			return rc;
	}
	size_t h = ihash(m, ip->obj_id, ip->pfs_loc);
	ip->hnext = m->ihash[h];
	m->ihash[h] = ip;
	m->ninodes++;
	return 0;
}

static void ihash_del(struct hammer_mount *m, struct hammer_inode *ip)
{
	struct hammer_inode **pp = &m->ihash[ihash(m, ip->obj_id, ip->pfs_loc)];
	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == ip) {
			*pp = ip->hnext;
			m->ninodes--;
			return;
		}
}

static void dirty_del(struct hammer_mount *m, struct hammer_inode *ip)
{
	if (!ip->on_dirty)
		return;
	for (struct hammer_inode **pp = &m->dirty; *pp; pp = &(*pp)->dnext)
		if (*pp == ip) {
			*pp = ip->dnext;
			break;
		}
	ip->on_dirty = 0;
	ip->dnext = NULL;
}

struct hammer_inode *ino_new(struct hammer_mount *m, int64_t obj_id,
			     uint32_t pfs_loc)
{
	struct hammer_inode *ip = calloc(1, sizeof(*ip));
	if (!ip)
		return NULL;
	ip->obj_id = obj_id;
	ip->pfs_loc = pfs_loc;
	if (ihash_add(m, ip)) {
		free(ip);
		return NULL;
	}
	return ip;
}

void ino_dirty(struct hammer_mount *m, struct hammer_inode *ip, unsigned how)
{
	/* a change REDO cannot replay is durable after two final cycles */
	if (!(how & INO_REDONE))
		ip->noredo_gen = m->redo_gen + 2;
	ip->flags |= how & ~INO_REDONE;
	if (!ip->on_dirty) {
		ip->dnext = m->dirty;
		m->dirty = ip;
		ip->on_dirty = 1;
	}
}

/*
 * The handle table: objects that are not live objects of PFS #0 (as-of
 * views, every object of another PFS, and every object of an as-of mount
 * reached by table) get handle HAMMER_INO_ASOF_BIT | index.  An entry with
 * asof == ASOF_LIVE is a live object of another PFS: writable (unless the
 * mount is read-only), cached like any live inode.  A hash on (obj, loc,
 * asof) keeps the lookup constant-time: a walk of a PFS with many files
 * makes one entry per object.  Entries are never recycled during a mount.
 */
static size_t htab_hash(int64_t obj, uint32_t loc, hammer_tid_t asof)
{
	uint64_t x = (uint64_t)obj * 0x9E3779B97F4A7C15ULL;
	x ^= ((uint64_t)loc << 17) ^ (asof * 0xC2B2AE3D27D4EB4FULL);
	return (size_t)(x ^ (x >> 29));
}

static int htab_grow(struct hammer_mount *m)
{
	size_t ncap = m->asof_hcap ? m->asof_hcap * 2 : 256;
	uint32_t *nh = calloc(ncap, sizeof(*nh));
	if (!nh)
		return -ENOMEM;
	for (size_t i = 0; i < m->nasofs; i++) {
		const struct hammer_asof_obj *a = &m->asofs[i];
		size_t j = htab_hash(a->obj_id, a->pfs_loc, a->asof) & (ncap - 1);
		while (nh[j])
			j = (j + 1) & (ncap - 1);
		nh[j] = (uint32_t)(i + 1);
	}
	free(m->asof_hidx);
	m->asof_hidx = nh;
	m->asof_hcap = ncap;
	return 0;
}

hammer_ino_t asof_handle(struct hammer_mount *m, int64_t obj, uint32_t pfs_loc,
			 hammer_tid_t asof)
{
	if (m->asof_hcap) {
		size_t j = htab_hash(obj, pfs_loc, asof) & (m->asof_hcap - 1);
		for (; m->asof_hidx[j]; j = (j + 1) & (m->asof_hcap - 1)) {
			const struct hammer_asof_obj *a = &m->asofs[m->asof_hidx[j] - 1];
			if (a->obj_id == obj && a->pfs_loc == pfs_loc &&
			    a->asof == asof)
				return HAMMER_INO_ASOF_BIT | m->asof_hidx[j];
		}
	}
	if (m->nasofs >= UINT32_MAX - 1)
		return 0;
	if ((m->nasofs + 1) * 2 > m->asof_hcap && htab_grow(m))
		return 0;
	if (m->nasofs == m->asofs_cap) {
		size_t ncap = m->asofs_cap ? m->asofs_cap * 2 : 64;
		struct hammer_asof_obj *n = realloc(m->asofs, ncap * sizeof(*n));
		if (!n)
			return 0;
		m->asofs = n;
		m->asofs_cap = ncap;
	}
	m->asofs[m->nasofs] = (struct hammer_asof_obj){ obj, pfs_loc, asof };
	m->nasofs++;
	size_t j = htab_hash(obj, pfs_loc, asof) & (m->asof_hcap - 1);
	while (m->asof_hidx[j])
		j = (j + 1) & (m->asof_hcap - 1);
	m->asof_hidx[j] = (uint32_t)m->nasofs;
	return HAMMER_INO_ASOF_BIT | m->nasofs;
}

/* The handle of (obj, pfs_loc) seen at asof (ASOF_LIVE: the live object). */
hammer_ino_t eng_handle(struct hammer_mount *m, int64_t obj, uint32_t pfs_loc,
			hammer_tid_t asof)
{
	if (asof == ASOF_LIVE && m->o.asof)
		asof = m->o.asof;
	if (asof == ASOF_LIVE && pfs_loc == 0 && obj > 0)
		return (hammer_ino_t)obj;
	return asof_handle(m, obj, pfs_loc, asof);
}

/* The cached live inode of (obj, pfs_loc), loaded if needed. */
void ino_data_moved(struct hammer_mount *m, int64_t obj, uint32_t loc,
		    hammer_tid_t ctid, hammer_off_t data_offset)
{
	struct hammer_inode *ip = ihash_find(m, obj, loc);
	if (ip && ip->rec_tid == ctid)
		ip->rec_data = data_offset;
}

int ino_live(struct hammer_mount *m, int64_t obj, uint32_t pfs_loc,
	     struct hammer_inode **ipp)
{
	*ipp = NULL;
	if (obj <= 0)
		return -ESTALE;
	struct hammer_inode *ip = ihash_find(m, obj, pfs_loc);
	if (ip) {
		if (ip->flags & INO_DESTROYED)
			return -ENOENT;
		*ipp = ip;
		return 0;
	}
	struct hammer_inode_data d;
	struct hammer_btree_leaf_elm rec;
	int rc = ino_load(m, obj, pfs_loc, ASOF_LIVE, &d, &rec);
	if (rc)
		return rc;
	ip = ino_new(m, obj, pfs_loc);
	if (!ip)
		return -ENOMEM;
	ip->d = d;
	ip->rec_tid = rec.base.create_tid;
	ip->rec_data = rec.data_offset;
	*ipp = ip;
	return 0;
}

/*
 * Resolve a handle.  Live objects: *ip is the cached inode (loaded if
 * needed).  As-of objects (and every object of an as-of mount): *ip is NULL
 * and *ao says what to load.
 */
int ino_get(struct hammer_mount *m, hammer_ino_t h, struct hammer_inode **ipp,
	    struct hammer_asof_obj *ao)
{
	*ipp = NULL;
	if (h & HAMMER_INO_ASOF_BIT) {
		uint64_t i = h & ~HAMMER_INO_ASOF_BIT;
		if (i == 0 || i > m->nasofs)
			return -ESTALE;
		*ao = m->asofs[i - 1];
		if (ao->asof == ASOF_LIVE && !m->o.asof) {
			/* a live handle of a PFS since destroyed or downgraded */
			uint32_t id = ao->pfs_loc >> 16;
			if (id && m->pfs_state &&
			    (m->pfs_state[id] & (PFS_LIVE | PFS_SLAVE)) != PFS_LIVE)
				return -ESTALE;
			return ino_live(m, ao->obj_id, ao->pfs_loc, ipp);
		}
		return 0;
	}
	if (h == 0 || h > (uint64_t)INT64_MAX)
		return -ESTALE;
	if (m->o.asof) {
		*ao = (struct hammer_asof_obj){ (int64_t)h, 0, m->o.asof };
		return 0;
	}
	return ino_live(m, (int64_t)h, 0, ipp);
}

/* Write the inode's record (new version, or atime/mtime in place). */
int ino_sync(struct hammer_mount *m, struct hammer_inode *ip)
{
	int rc = 0;
	if (ip->flags & INO_DESTROYED)
		return 0;
	int nohist = ino_nohist(ip);
	if (!m->cycle_tid)
		m->cycle_tid = eng_alloc_tid(m);
	struct hammer_inode_data disk = ip->d;
	hammer_inode_data_swap(&disk);
	if ((ip->flags & (INO_DIRTY | INO_NEW)) || !ip->rec_tid) {
		struct hammer_btree_leaf_elm old, nw;
		uint32_t loc = ip->pfs_loc | HAMMER_LOCALIZE_INODE;
		if (ip->rec_tid) {
			rc = rec_lookup(m, loc, ip->obj_id, HAMMER_RECTYPE_INODE, 0,
					ASOF_LIVE, &old);
			if (!rc && old.base.create_tid == m->cycle_tid) {
				/* same cycle: overwrite in place */
				rc = rec_rewrite(m, &old, &disk, sizeof(disk));
				if (!rc)
					ip->flags &= ~(INO_DIRTY | INO_TDIRTY | INO_NEW);
				return rc;
			}
			if (!rc)
				rc = rec_remove(m, &old, nohist);
			if (rc)
				return rc;
		}
		rc = rec_insert(m, loc, ip->obj_id, HAMMER_RECTYPE_INODE, 0,
				ip->d.obj_type, &disk, sizeof(disk), &nw);
		if (rc)
			return rc;
		ip->rec_tid = nw.base.create_tid;
		ip->rec_data = nw.data_offset;
	} else if (ip->flags & INO_TDIRTY) {
		struct hammer_buffer *b;
		void *p;
		struct hammer_err e = { 0 };
		size_t off = offsetof(struct hammer_inode_data, mtime);
		rc = hammer_buffer_get(m->bc, ip->rec_data, sizeof(disk), 0, &b,
				       &p, &e);
		if (rc)
			return eng_err(m, rc, &e);
		rc = hammer_buffer_modify(m->bc, b, (uint8_t *)p + off,
					  sizeof(disk) - off);
		if (!rc)
			memcpy((uint8_t *)p + off, (uint8_t *)&disk + off,
			       sizeof(disk) - off);
		hammer_buffer_put(m->bc, b);
		if (rc)
			return eng_err(m, rc, NULL);
	}
	ip->flags &= ~(INO_DIRTY | INO_TDIRTY | INO_NEW);
	return 0;
}

/* Remove every record of the object; the handle dies. */
int ino_destroy(struct hammer_mount *m, struct hammer_inode *ip)
{
	int nohist = ino_nohist(ip);
	int rc = file_remove_all(m, ip);
	if (!rc && ip->rec_tid) {
		struct hammer_btree_leaf_elm old;
		rc = rec_lookup(m, ip->pfs_loc | HAMMER_LOCALIZE_INODE, ip->obj_id,
				HAMMER_RECTYPE_INODE, 0, ASOF_LIVE, &old);
		if (!rc)
			rc = rec_remove(m, &old, nohist);
	}
	/* counted at its creation even if its record never reached the tree */
	if (!rc) {
		struct hammer_volume_ondisk *h = hammer_volset_root(m->vs);
		if (h->vol0_stat_inodes > 0)
			h->vol0_stat_inodes--;
	}
	if (rc) {
		m->broken = 1;
		return rc;
	}
	dirty_del(m, ip);
	ip->flags |= INO_DESTROYED;
	if (ip->opens == 0) {
		ihash_del(m, ip);
		free(ip);
	}
	return 0;
}

int ino_release_all(struct hammer_mount *m)
{
	for (size_t i = 0; i < m->ihash_size; i++) {
		struct hammer_inode *ip = m->ihash[i], *nx;
		for (; ip; ip = nx) {
			nx = ip->hnext;
			if ((ip->flags & INO_GONE) && !(ip->flags & INO_DESTROYED)) {
				ip->opens = 0;
				int rc = eng_begin(m);
				if (!rc)
					rc = ino_destroy(m, ip);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

int ino_pfs_busy(struct hammer_mount *m, uint32_t loc)
{
	for (size_t i = 0; i < m->ihash_size; i++)
		for (struct hammer_inode *ip = m->ihash[i]; ip; ip = ip->hnext)
			if (ip->pfs_loc == loc && ip->opens > 0 &&
			    !(ip->flags & INO_DESTROYED))
				return 1;
	return 0;
}

void ino_drop_pfs(struct hammer_mount *m, uint32_t loc)
{
	for (size_t i = 0; i < m->ihash_size; i++) {
		struct hammer_inode **pp = &m->ihash[i];
		while (*pp) {
			struct hammer_inode *ip = *pp;
			if (ip->pfs_loc != loc) {
				pp = &ip->hnext;
				continue;
			}
			dirty_del(m, ip);
			ip->flags |= INO_DESTROYED;
			if (ip->opens == 0) {
				*pp = ip->hnext;
				m->ninodes--;
				free(ip);
			} else {
				pp = &ip->hnext;
			}
		}
	}
}

void ino_cache_trim(struct hammer_mount *m)
{
	if (m->ninodes <= INO_CACHE_MAX)
		return;
	for (size_t i = 0; i < m->ihash_size && m->ninodes > INO_CACHE_MAX / 2; i++) {
		struct hammer_inode **pp = &m->ihash[i];
		while (*pp) {
			struct hammer_inode *ip = *pp;
			if (!ip->on_dirty && ip->opens == 0 && !ip->flags) {
				*pp = ip->hnext;
				m->ninodes--;
				free(ip);
			} else {
				pp = &ip->hnext;
			}
		}
	}
}

void ino_cache_free(struct hammer_mount *m)
{
	for (size_t i = 0; i < m->ihash_size; i++) {
		struct hammer_inode *ip = m->ihash[i], *nx;
		for (; ip; ip = nx) {
			nx = ip->hnext;
			free(ip);
		}
	}
	free(m->ihash);
	m->ihash = NULL;
	m->ihash_size = m->ninodes = 0;
	m->dirty = NULL;
}

/* ---------------------------------------------------------- API */

int eng_view(struct hammer_mount *m, hammer_ino_t h, struct eng_view *v)
{
	struct hammer_asof_obj ao;
	memset(v, 0, sizeof(*v));
	v->h = h;
	int rc = ino_get(m, h, &v->ip, &ao);
	if (rc)
		return rc;
	if (v->ip) {
		v->obj = v->ip->obj_id;
		v->pfs_loc = v->ip->pfs_loc;
		v->asof = ASOF_LIVE;
		v->d = v->ip->d;
		v->ctid = v->ip->rec_tid;
		return 0;
	}
	struct hammer_btree_leaf_elm rec;
	rc = ino_load(m, ao.obj_id, ao.pfs_loc, ao.asof, &v->d, &rec);
	if (rc)
		return rc;
	v->obj = ao.obj_id;
	v->pfs_loc = ao.pfs_loc;
	v->asof = ao.asof;
	v->ctid = rec.base.create_tid;
	return 0;
}

void eng_view_attr(struct hammer_mount *m, const struct eng_view *v,
		   struct hammer_attr *a)
{
	ino_fill_attr(&v->d, v->obj, v->pfs_loc, v->h,
		      v->asof == ASOF_LIVE ? 0 : v->asof,
		      v->ctid, a);
	/* a PFS link reports the length of the text readlink shows */
	if (v->d.obj_type == HAMMER_OBJTYPE_SOFTLINK && v->pfs_loc == 0 &&
	    v->asof == ASOF_LIVE && v->d.size <= HAMMER_INODE_BASESYMLEN) {
		char shown[40];
		int k = pfs_link_text(m, (const char *)v->d.ext.symlink,
				      (size_t)v->d.size, shown, sizeof(shown));
		if (k > 0)
			a->size = (uint64_t)k;
	}
}

int hammer_getattr(struct hammer_mount *m, hammer_ino_t ino, struct hammer_attr *a)
{
	struct eng_view v;
	pthread_mutex_lock(&m->lock);
	int rc = eng_view(m, ino, &v);
	if (!rc)
		eng_view_attr(m, &v, a);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_setattr(struct hammer_mount *m, hammer_ino_t ino,
		   struct hammer_attr *a, unsigned mask)
{
	struct eng_view v;
	pthread_mutex_lock(&m->lock);
	int rc = eng_view(m, ino, &v);
	if (!rc && !v.ip)
		rc = -EROFS;
	if (!rc && (mask & HAMMER_SET_SIZE)) {
		if (v.d.obj_type == HAMMER_OBJTYPE_DIRECTORY)
			rc = -EISDIR;
		else if (v.d.obj_type != HAMMER_OBJTYPE_REGFILE)
			rc = -EINVAL;
		else if (a->size > HAMMER_FILE_MAX)
			rc = -EFBIG;
	}
	if (!rc)
		rc = eng_begin(m);
	if (!rc)
		rc = eng_view(m, ino, &v);	/* a flush may have trimmed the cache */
	if (rc)
		goto out;
	struct hammer_inode *ip = v.ip;
	uint64_t now = eng_now(m);
	unsigned how = 0;
	unsigned redone = 0;
	if (mask & HAMMER_SET_SIZE) {
		redone = INO_REDONE;
		if (a->size != ip->d.size) {
			rc = file_truncate(m, ip, a->size);
			if (rc) {
				m->broken = 1;
				goto out;
			}
			ip->d.mtime = now;
			if (!ip->redo_on ||
			    !eng_redo(m, ip, HAMMER_REDO_TRUNC, a->size, NULL, 0))
				redone = 0;
		}
		how |= INO_DIRTY;
	}
	/* only a size change (and the times it sets) can be replayed */
	if (mask & ~(HAMMER_SET_SIZE | HAMMER_SET_MTIME | HAMMER_SET_CTIME |
		     HAMMER_SET_ATIME))
		redone = 0;
	if (mask & HAMMER_SET_MODE) {
		ip->d.mode = (uint16_t)(a->mode & 07777);
		how |= INO_DIRTY;
	}
	if (mask & HAMMER_SET_UID) {
		eng_id_to_uuid(a->uid, &ip->d.uid);
		how |= INO_DIRTY;
	}
	if (mask & HAMMER_SET_GID) {
		eng_id_to_uuid(a->gid, &ip->d.gid);
		how |= INO_DIRTY;
	}
	if (mask & HAMMER_SET_UFLAGS) {
		ip->d.uflags = a->uflags;
		how |= INO_DIRTY;
	}
	if (mask & HAMMER_SET_ATIME) {
		ip->d.atime = a->atime;
		how |= INO_TDIRTY;
	}
	if (mask & HAMMER_SET_MTIME) {
		ip->d.mtime = a->mtime;
		how |= INO_TDIRTY;
	}
	if (how & INO_DIRTY)
		ip->d.ctime = now;
	if (mask & HAMMER_SET_CTIME) {
		ip->d.ctime = a->ctime;
		how |= INO_DIRTY;
	}
	if (how)
		ino_dirty(m, ip, how | redone);
	ino_fill_attr(&ip->d, ip->obj_id, ip->pfs_loc, ino, 0, ip->rec_tid, a);
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_open(struct hammer_mount *m, hammer_ino_t ino)
{
	struct eng_view v;
	pthread_mutex_lock(&m->lock);
	int rc = eng_view(m, ino, &v);
	if (!rc && v.ip)
		v.ip->opens++;
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_release(struct hammer_mount *m, hammer_ino_t ino)
{
	pthread_mutex_lock(&m->lock);
	int rc = 0;
	struct hammer_inode *ip = NULL;
	if (ino & HAMMER_INO_ASOF_BIT) {
		uint64_t i = ino & ~HAMMER_INO_ASOF_BIT;
		if (i >= 1 && i <= m->nasofs && m->asofs[i - 1].asof == ASOF_LIVE &&
		    !m->o.asof)
			ip = ihash_find(m, m->asofs[i - 1].obj_id,
					m->asofs[i - 1].pfs_loc);
	} else if (!m->o.asof && ino <= (uint64_t)INT64_MAX) {
		ip = ihash_find(m, (int64_t)ino, 0);
	}
	if (ip && ip->opens > 0) {
		ip->opens--;
		if (ip->opens == 0 && (ip->flags & INO_DESTROYED)) {
			ihash_del(m, ip);
			free(ip);
		} else if (ip->opens == 0 && (ip->flags & INO_GONE)) {
			rc = eng_begin(m);
			if (!rc)
				rc = ino_destroy(m, ip);
		}
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}
