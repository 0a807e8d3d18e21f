/*
 * dir.c - directories: lookup (with as-of names), create, remove, link,
 * rename, readdir, symlinks.
 *
 * An entry is a DIRENTRY record of the directory (format digest 4.4): key =
 * the name's namekey for the directory's algorithm, bumped past keys held
 * by live entries; localization = the directory's PFS | INODE space when
 * the directory has DIR_LOCAL_INO, else | MISC; data = target obj_id,
 * target PFS localization, then the name bytes.  "." and ".." are not
 * stored; ".." is the directory's parent_obj_id.  Directory nlinks counts
 * the entry in its parent only (HAMMER's rule: no "." or ".." links).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "asof.h"
#include "engine.h"
#include "namekey.h"

#define HAMMER_LINK_MAX		0xFFFFFFFFULL	/* Linux nlink_t */
#define FIX_SYMLINK_KEY		1

static uint32_t dir_loc(uint32_t pfs_loc, const struct hammer_inode_data *dd)
{
	return pfs_loc | ((dd->cap_flags & HAMMER_INODE_CAP_DIR_LOCAL_INO)
				  ? HAMMER_LOCALIZE_INODE : HAMMER_LOCALIZE_MISC);
}

/* 0, or -EINVAL / -ENAMETOOLONG for names that can never exist. */
static int name_check(const char *name, size_t len)
{
	if (len == 0)
		return -EINVAL;
	if (len > HAMMER_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return -EINVAL;
	return 0;
}

static int is_dot(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') ||
	       (len == 2 && name[0] == '.' && name[1] == '.');
}

/* ---------------------------------------------------------- find */

struct find_ctx {
	struct hammer_mount *m;
	const char *name;
	size_t len;
	struct hammer_btree_leaf_elm rec;
	int64_t target;
	int found;
	int rc;
};

static int find_visit(void *vctx, const struct hammer_btree_leaf_elm *el)
{
	struct find_ctx *f = vctx;
	uint8_t d[16 + HAMMER_NAME_MAX];
	if (el->data_len != (int32_t)(16 + f->len))
		return 0;
	int rc = rec_read(f->m, el, d, (size_t)el->data_len);
	if (rc) {
		f->rc = rc;
		return 1;
	}
	if (memcmp(d + 16, f->name, f->len))
		return 0;
	int64_t t;
	memcpy(&t, d, 8);
	f->target = (int64_t)le64toh((uint64_t)t);
	f->rec = *el;
	f->found = 1;
	return 1;
}

int dir_find(struct hammer_mount *m, int64_t dir_obj, uint32_t pfs_loc,
	     const struct hammer_inode_data *dd, const char *name, size_t len,
	     hammer_tid_t asof, struct hammer_btree_leaf_elm *rec, int64_t *target)
{
	uint32_t iter;
	int64_t k = hammer_namekey(dd->cap_flags, name, len, &iter);
	if (k < 0)
		return HAMMER_CORRUPT(&m->err, ~0ULL,
				      "directory %lld: undefined dirhash algorithm "
				      "(cap_flags %#x)",
				      (long long)dir_obj, dd->cap_flags);
	struct find_ctx f = { .m = m, .name = name, .len = len };
	int64_t kend = k + (int64_t)iter;
	if (kend < k)
		kend = INT64_MAX;
	int rc = rec_scan(m, dir_loc(pfs_loc, dd), dir_obj, HAMMER_RECTYPE_DIRENTRY,
			  HAMMER_RECTYPE_DIRENTRY, k, kend, asof, find_visit, &f);
	if (rc)
		return rc;
	if (f.rc)
		return f.rc;
	if (!f.found)
		return -ENOENT;
	if (rec)
		*rec = f.rec;
	if (target)
		*target = f.target;
	return 0;
}

struct key_ctx {
	int64_t expect;
};

static int key_visit(void *vctx, const struct hammer_btree_leaf_elm *el)
{
	struct key_ctx *k = vctx;
	if (el->base.key > k->expect)
		return 1;
	if (el->base.key == k->expect)
		k->expect++;
	return 0;
}

/*
 * A new object id for an entry `name` of directory dp: from the
 * directory's block of OBJID_BULK ids (format digest 4.6), slot from the
 * namekey's top bits, the next free one after it if taken.  A block is
 * reserved from the TID counter (2 x OBJID_BULK TIDs, rounded up to a
 * multiple of OBJID_BULK) and retired at three quarters used; with every
 * slot taken the least recently used block is retired.  Ids are never
 * handed out twice: blocks are never revisited, and after a remount new
 * blocks start above vol0_next_tid.
 */
static int64_t objid_alloc(struct hammer_mount *m, struct hammer_inode *dp,
			   const char *name, size_t len)
{
	if (!m->ocache) {
		m->ocache = calloc(OBJID_CACHES, sizeof(*m->ocache));
		if (!m->ocache)
			return -ENOMEM;
	}
	struct eng_objid_cache *oc = NULL, *lru = &m->ocache[0];
	for (size_t i = 0; i < OBJID_CACHES; i++) {
		struct eng_objid_cache *c = &m->ocache[i];
		if (c->dir == dp->obj_id && c->dir_loc == dp->pfs_loc) {
			oc = c;
			break;
		}
		if (c->used < lru->used)
			lru = c;
	}
	if (!oc) {
		oc = lru;	/* a free slot has used == 0 */
		memset(oc, 0, sizeof(*oc));
		hammer_tid_t t = m->next_tid;
		if (t > 0x7FFFFFFFFFFFFFFFULL - 4 * OBJID_BULK)
			return -ENOSPC;		/* out of object ids */
		m->next_tid = t + 2 * OBJID_BULK;
		oc->base = (t + OBJID_BULK - 1) & ~(hammer_tid_t)(OBJID_BULK - 1);
		oc->dir = dp->obj_id;
		oc->dir_loc = dp->pfs_loc;
	}
	oc->used = ++m->ocache_clock;
	uint32_t iter;
	uint64_t key = (uint64_t)hammer_namekey(dp->d.cap_flags, name, len, &iter);
	unsigned n = (unsigned)(key >> 53) & (OBJID_BULK - 1);
	unsigned w = n >> 5, b = n & 31;
	while (oc->bm1[w] & (1u << b)) {
		if (oc->bm0 & (1u << w)) {
			w = (w + 1) & 31;
			b = 0;
		} else if (++b == 32) {
			w = (w + 1) & 31;
			b = 0;
		}
	}
	oc->bm1[w] |= 1u << b;
	if (oc->bm1[w] == 0xFFFFFFFFu)
		oc->bm0 |= 1u << w;
	int64_t obj = (int64_t)(oc->base + w * 32 + b);
	if (++oc->count >= OBJID_BULK * 3 / 4)
		memset(oc, 0, sizeof(*oc));	/* retired: the next id starts a block */
	return obj;
}

/* The first key at or after the namekey that no live entry holds. */
static int dir_free_key(struct hammer_mount *m, uint32_t loc, int64_t dir_obj,
			const struct hammer_inode_data *dd, const char *name,
			size_t len, int64_t *key)
{
	uint32_t iter;
	int64_t k = hammer_namekey(dd->cap_flags, name, len, &iter);
	if (k < 0)
		return HAMMER_CORRUPT(&m->err, ~0ULL,
				      "directory %lld: undefined dirhash algorithm",
				      (long long)dir_obj);
	int64_t kend = k + (int64_t)iter;
	if (kend < k)
		kend = INT64_MAX;
	struct key_ctx c = { k };
	int rc = rec_scan(m, loc, dir_obj, HAMMER_RECTYPE_DIRENTRY,
			  HAMMER_RECTYPE_DIRENTRY, k, kend, ASOF_LIVE, key_visit, &c);
	if (rc)
		return rc;
	if (c.expect > kend)
		return -ENOSPC;		/* every key of the collision range taken */
	*key = c.expect;
	return 0;
}

static int entry_add(struct hammer_mount *m, struct hammer_inode *dp,
		     const char *name, size_t len, int64_t target,
		     uint32_t target_pfs, uint8_t obj_type)
{
	uint8_t d[16 + HAMMER_NAME_MAX];
	uint32_t loc = dir_loc(dp->pfs_loc, &dp->d);
	int64_t key = 0;
	int rc = dir_free_key(m, loc, dp->obj_id, &dp->d, name, len, &key);
	if (rc)
		return rc;
	uint64_t t = htole64((uint64_t)target);
	uint32_t l = htole32(target_pfs);
	memset(d, 0, 16);
	memcpy(d, &t, 8);
	memcpy(d + 8, &l, 4);
	memcpy(d + 16, name, len);
	return rec_insert(m, loc, dp->obj_id, HAMMER_RECTYPE_DIRENTRY, key,
			  obj_type, d, 16 + len, NULL);
}

static void dir_touch(struct hammer_mount *m, struct hammer_inode *dp)
{
	dp->d.mtime = dp->d.ctime = eng_now(m);
	ino_dirty(m, dp, INO_DIRTY);
}

/* A live directory that can take new entries. */
static int dir_live(struct hammer_mount *m, hammer_ino_t dir, struct eng_view *v)
{
	int rc = eng_view(m, dir, v);
	if (rc)
		return rc;
	if (v->d.obj_type != HAMMER_OBJTYPE_DIRECTORY)
		return -ENOTDIR;
	if (!v->ip)
		return -EROFS;
	if (v->d.nlinks == 0 || (v->ip->flags & INO_GONE))
		return -ENOENT;
	return 0;
}

/* Names that create or remove must be plain (no history syntax). */
static int plain_name(const char *name, size_t len)
{
	int rc = name_check(name, len);
	if (rc)
		return rc;
	struct hammer_asof_spec s;
	if (hammer_asof_parse(name, len, &s) != 0)
		return -EINVAL;
	return 0;
}

/* ---------------------------------------------------------- lookup */

static int fill_target(struct hammer_mount *m, int64_t obj, uint32_t pfs_loc,
		       hammer_tid_t asof, struct hammer_attr *a)
{
	struct eng_view v;
	hammer_ino_t h = eng_handle(m, obj, pfs_loc, asof);
	if (!h)
		return -ENOMEM;
	int rc = eng_view(m, h, &v);
	/*
	 * As of a TID, an entry may outlive its inode's version there: a
	 * prune removes history no snapshot keeps (DragonFly answers ENOENT
	 * too).  Live, it is corruption.
	 */
	if (rc == -ENOENT && asof != ASOF_LIVE)
		return -ENOENT;
	if (rc == -ENOENT)
		return HAMMER_CORRUPT(&m->err, ~0ULL,
				      "directory entry names object %lld, "
				      "which has no inode", (long long)obj);
	if (!rc)
		eng_view_attr(m, &v, a);
	return rc;
}

int hammer_lookup(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		  size_t len, struct hammer_attr *a)
{
	struct eng_view v;
	pthread_mutex_lock(&m->lock);
	int rc = eng_view(m, dir, &v);
	if (rc)
		goto out;
	if (v.d.obj_type != HAMMER_OBJTYPE_DIRECTORY) {
		rc = -ENOTDIR;
		goto out;
	}
	rc = name_check(name, len);
	if (rc)
		goto out;
	hammer_tid_t asof = v.asof;
	if (is_dot(name, len)) {
		int64_t t = v.obj;
		if (len == 2 && v.d.parent_obj_id != 0)
			t = v.d.parent_obj_id;
		rc = fill_target(m, t, v.pfs_loc, asof, a);
		goto out;
	}
	struct hammer_asof_spec s;
	int p = hammer_asof_parse(name, len, &s);
	if (p < 0) {
		rc = -ENOENT;
		goto out;
	}
	if (p == 1) {
		hammer_tid_t t = s.tid == HAMMER_MAX_TID ? ASOF_LIVE : s.tid;
		if (t == 0) {
			rc = -ENOENT;
			goto out;
		}
		uint32_t pfs = s.has_pfs ? s.pfs_id << 16 : v.pfs_loc;
		if (s.has_pfs && s.name_len == 0) {
			/*
			 * The root of that PFS as of the TID: a master's live
			 * root, a slave's as of its sync_end_tid.  No root
			 * there (a slave before its first mirroring, a TID
			 * before the PFS) is -ENOENT, not corruption.
			 */
			rc = t == ASOF_LIVE ? pfs_enter(m, s.pfs_id, &t) : 0;
			if (!rc) {
				hammer_ino_t h = eng_handle(m, 1, pfs, t);
				struct eng_view pv;
				rc = h ? eng_view(m, h, &pv) : -ENOMEM;
				if (!rc && pv.d.obj_type != HAMMER_OBJTYPE_DIRECTORY)
					rc = HAMMER_CORRUPT(&m->err, ~0ULL,
						"the root of PFS #%u is not a "
						"directory", s.pfs_id);
				if (!rc)
					eng_view_attr(m, &pv, a);
			}
		} else if (s.name_len == 0) {
			rc = fill_target(m, v.obj, pfs, t, a);
		} else {
			int64_t target;
			rc = dir_find(m, v.obj, v.pfs_loc, &v.d, name, s.name_len,
				      t, NULL, &target);
			if (!rc)
				rc = fill_target(m, target, v.pfs_loc, t, a);
		}
		goto out;
	}
	int64_t target;
	rc = dir_find(m, v.obj, v.pfs_loc, &v.d, name, len, asof, NULL, &target);
	if (!rc)
		rc = fill_target(m, target, v.pfs_loc, asof, a);
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ---------------------------------------------------------- create */

static int create_obj(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		      size_t len, uint32_t mode, uint64_t rdev, uint32_t uid,
		      uint32_t gid, const char *target, size_t tlen,
		      struct hammer_attr *a)
{
	pthread_mutex_lock(&m->lock);
	int rc = dir_create_locked(m, dir, name, len, mode, rdev, uid, gid,
				   target, tlen, a);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int dir_create_locked(struct hammer_mount *m, hammer_ino_t dir,
		      const char *name, size_t len, uint32_t mode,
		      uint64_t rdev, uint32_t uid, uint32_t gid,
		      const char *target, size_t tlen, struct hammer_attr *a)
{
	struct eng_view dv;
	uint8_t type = obj_type_of_mode(mode);
	int rc = dir_live(m, dir, &dv);
	if (rc)
		goto out;
	if (is_dot(name, len)) {
		rc = -EEXIST;
		goto out;
	}
	rc = plain_name(name, len);
	if (rc)
		goto out;
	if (type == HAMMER_OBJTYPE_UNKNOWN) {
		rc = -EINVAL;
		goto out;
	}
	if (type == HAMMER_OBJTYPE_SOFTLINK && (tlen == 0 || tlen > HAMMER_SYMLINK_MAX)) {
		rc = tlen ? -ENAMETOOLONG : -ENOENT;
		goto out;
	}
	rc = dir_find(m, dv.obj, dv.pfs_loc, &dv.d, name, len, ASOF_LIVE, NULL, NULL);
	if (rc != -ENOENT) {
		rc = rc ? rc : -EEXIST;
		goto out;
	}
	rc = eng_begin(m);
	if (rc)
		goto out;
	/* re-resolve: a flush may have trimmed the cache */
	rc = dir_live(m, dir, &dv);
	if (rc)
		goto out;
	struct hammer_inode *dp = dv.ip;
	int64_t obj = objid_alloc(m, dp, name, len);
	if (obj <= 0) {
		rc = obj ? (int)obj : -ENOSPC;
		goto out;
	}
	struct hammer_inode *ip = ino_new(m, obj, dp->pfs_loc);
	if (!ip) {
		rc = -ENOMEM;
		goto out;
	}
	uint64_t now = eng_now(m);
	struct hammer_inode_data *d = &ip->d;
	d->version = HAMMER_INODE_DATA_VERSION;
	d->mode = (uint16_t)(mode & 07777);
	d->uflags = dp->d.uflags & (HAMMER_UF_NOHISTORY | HAMMER_SF_NOHISTORY |
				    HAMMER_UF_NODUMP);
	if (type == HAMMER_OBJTYPE_CDEV || type == HAMMER_OBJTYPE_BDEV) {
		d->rmajor = major(rdev);
		d->rminor = minor(rdev);
	}
	d->ctime = d->mtime = d->atime = now;
	d->parent_obj_id = dp->obj_id;
	eng_id_to_uuid(uid, &d->uid);
	eng_id_to_uuid(gid, &d->gid);
	d->obj_type = type;
	if (type == HAMMER_OBJTYPE_DIRECTORY) {
		if (m->version >= 2)
			d->cap_flags |= HAMMER_INODE_CAP_DIR_LOCAL_INO;
		if (m->version >= 6)
			d->cap_flags |= HAMMER_INODE_CAP_DIRHASH_ALG1;
	}
	d->nlinks = 1;
	if (type == HAMMER_OBJTYPE_SOFTLINK) {
		d->size = tlen;
		if (tlen <= HAMMER_INODE_BASESYMLEN)
			memcpy(d->ext.symlink, target, tlen);
		else
			rc = rec_insert(m, ip->pfs_loc | HAMMER_LOCALIZE_MISC, obj,
					HAMMER_RECTYPE_FIX, FIX_SYMLINK_KEY,
					HAMMER_OBJTYPE_SOFTLINK, target, tlen, NULL);
	}
	ino_dirty(m, ip, INO_NEW | INO_DIRTY);
	hammer_volset_root(m->vs)->vol0_stat_inodes++;
	if (!rc)
		rc = entry_add(m, dp, name, len, obj, ip->pfs_loc, type);
	if (rc) {
		/* the object is half made: keep the disk at the last cycle */
		m->broken = 1;
		goto out;
	}
	dir_touch(m, dp);
	hammer_ino_t h = eng_handle(m, obj, ip->pfs_loc, ASOF_LIVE);
	if (!h) {
		rc = -ENOMEM;	/* the object exists; only its handle is missing */
		goto out;
	}
	ino_fill_attr(&ip->d, obj, ip->pfs_loc, h, 0, 0, a);
out:
	return rc;
}

int hammer_mknod(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		 size_t len, uint32_t mode, uint64_t rdev, uint32_t uid,
		 uint32_t gid, struct hammer_attr *a)
{
	uint32_t t = mode & S_IFMT;
	if (t == 0)
		mode |= S_IFREG;
	else if (t != S_IFREG && t != S_IFIFO && t != S_IFSOCK && t != S_IFCHR &&
		 t != S_IFBLK)
		return -EINVAL;
	return create_obj(m, dir, name, len, mode, rdev, uid, gid, NULL, 0, a);
}

int hammer_mkdir(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		 size_t len, uint32_t mode, uint32_t uid, uint32_t gid,
		 struct hammer_attr *a)
{
	return create_obj(m, dir, name, len, S_IFDIR | (mode & 07777), 0, uid,
			  gid, NULL, 0, a);
}

int hammer_symlink(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		   size_t len, const char *target, size_t tlen, uint32_t uid,
		   uint32_t gid, struct hammer_attr *a)
{
	return create_obj(m, dir, name, len, S_IFLNK | 0777, 0, uid, gid, target,
			  tlen, a);
}

int hammer_readlink(struct hammer_mount *m, hammer_ino_t ino, char *buf,
		    size_t size)
{
	struct eng_view v;
	pthread_mutex_lock(&m->lock);
	int rc = eng_view(m, ino, &v);
	if (rc)
		goto out;
	if (v.d.obj_type != HAMMER_OBJTYPE_SOFTLINK) {
		rc = -EINVAL;
		goto out;
	}
	size_t n = (size_t)v.d.size;
	if (n <= HAMMER_INODE_BASESYMLEN) {
		char shown[40];
		int k = v.pfs_loc == 0 && v.asof == ASOF_LIVE
				? pfs_link_text(m, (const char *)v.d.ext.symlink,
						n, shown, sizeof(shown))
				: -EINVAL;
		if (k > 0) {
			/* a PFS link, as DragonFly's readlink shows it */
			memcpy(buf, shown, (size_t)k < size ? (size_t)k : size);
			rc = k;
			goto out;
		}
		memcpy(buf, v.d.ext.symlink, n < size ? n : size);
		rc = (int)n;
		goto out;
	}
	struct hammer_btree_leaf_elm el;
	rc = rec_lookup(m, v.pfs_loc | HAMMER_LOCALIZE_MISC, v.obj,
			HAMMER_RECTYPE_FIX, FIX_SYMLINK_KEY, v.asof, &el);
	if (rc == -ENOENT || (!rc && (size_t)el.data_len != n)) {
		rc = HAMMER_CORRUPT(&m->err, ~0ULL,
				    "symlink %lld: target record missing or of "
				    "the wrong length", (long long)v.obj);
		goto out;
	}
	if (rc)
		goto out;
	char *t = malloc(n);
	if (!t) {
		rc = -ENOMEM;
		goto out;
	}
	rc = rec_read(m, &el, t, n);
	if (!rc) {
		memcpy(buf, t, n < size ? n : size);
		rc = n > INT32_MAX ? INT32_MAX : (int)n;
	}
	free(t);
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ---------------------------------------------------------- remove */

struct empty_ctx {
	int any;
};

static int empty_visit(void *vctx, const struct hammer_btree_leaf_elm *el)
{
	(void)el;
	((struct empty_ctx *)vctx)->any = 1;
	return 1;
}

int dir_is_empty(struct hammer_mount *m, struct hammer_inode *dp)
{
	struct empty_ctx c = { 0 };
	int rc = rec_scan(m, dir_loc(dp->pfs_loc, &dp->d), dp->obj_id,
			  HAMMER_RECTYPE_DIRENTRY, HAMMER_RECTYPE_DIRENTRY,
			  INT64_MIN, INT64_MAX, ASOF_LIVE, empty_visit, &c);
	if (rc)
		return rc;
	return c.any ? 0 : 1;
}

/*
 * May `ip` lose the name it has, with a directory expected or not?  (The
 * rules of unlink/rmdir and of a rename over an existing target.)
 */
static int may_remove(struct hammer_mount *m, struct hammer_inode *ip,
		      int want_dir)
{
	int isdir = ip->d.obj_type == HAMMER_OBJTYPE_DIRECTORY;
	if (want_dir && !isdir)
		return -ENOTDIR;
	if (!want_dir && isdir)
		return -EISDIR;
	if (!isdir)
		return 0;
	int rc = dir_is_empty(m, ip);
	return rc < 0 ? rc : rc ? 0 : -ENOTEMPTY;
}

/* One link of ip went away (its entry is already removed). */
static int drop_link(struct hammer_mount *m, struct hammer_inode *ip)
{
	if (ip->d.nlinks > 0)
		ip->d.nlinks--;
	if (ip->d.obj_type == HAMMER_OBJTYPE_DIRECTORY)
		ip->d.nlinks = 0;
	ip->d.ctime = eng_now(m);
	ino_dirty(m, ip, INO_DIRTY);
	if (ip->d.nlinks > 0)
		return 0;
	if (ip->opens > 0) {
		ip->flags |= INO_GONE;
		return 0;
	}
	return ino_destroy(m, ip);
}

static int remove_name(struct hammer_mount *m, hammer_ino_t dir,
		       const char *name, size_t len, int want_dir)
{
	struct eng_view dv;
	struct hammer_btree_leaf_elm rec;
	int64_t target;
	struct hammer_inode *ip;
	pthread_mutex_lock(&m->lock);
	int rc = dir_live(m, dir, &dv);
	if (rc)
		goto out;
	if (is_dot(name, len)) {
		rc = (len == 1) ? -EINVAL : -ENOTEMPTY;
		goto out;
	}
	rc = plain_name(name, len);
	if (rc)
		goto out;
	rc = eng_begin(m);
	if (rc)
		goto out;
	rc = dir_live(m, dir, &dv);
	if (!rc)
		rc = dir_find(m, dv.obj, dv.pfs_loc, &dv.d, name, len, ASOF_LIVE,
			      &rec, &target);
	if (rc)
		goto out;
	rc = ino_live(m, target, dv.pfs_loc, &ip);
	if (rc == -ENOENT || rc == -ESTALE)
		rc = HAMMER_CORRUPT(&m->err, rec.data_offset,
				    "entry in directory %lld names object %lld, "
				    "which has no inode", (long long)dv.obj,
				    (long long)target);
	if (rc)
		goto out;
	rc = may_remove(m, ip, want_dir);
	if (rc)
		goto out;
	rc = rec_remove(m, &rec, ino_nohist(dv.ip));
	if (!rc)
		rc = drop_link(m, ip);
	if (rc) {
		m->broken = 1;
		goto out;
	}
	dir_touch(m, dv.ip);
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int hammer_unlink(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		  size_t len)
{
	return remove_name(m, dir, name, len, 0);
}

int hammer_rmdir(struct hammer_mount *m, hammer_ino_t dir, const char *name,
		 size_t len)
{
	return remove_name(m, dir, name, len, 1);
}

/* ---------------------------------------------------------- link */

int hammer_link(struct hammer_mount *m, hammer_ino_t ino, hammer_ino_t dir,
		const char *name, size_t len, struct hammer_attr *a)
{
	struct eng_view dv, v;
	pthread_mutex_lock(&m->lock);
	int rc = dir_live(m, dir, &dv);
	if (!rc)
		rc = eng_view(m, ino, &v);
	if (rc)
		goto out;
	if (!v.ip) {
		rc = -EROFS;
		goto out;
	}
	if (v.d.obj_type == HAMMER_OBJTYPE_DIRECTORY) {
		rc = -EPERM;
		goto out;
	}
	if (v.pfs_loc != dv.pfs_loc) {
		rc = -EXDEV;
		goto out;
	}
	if (v.d.nlinks == 0 || (v.ip->flags & INO_GONE)) {
		rc = -ENOENT;
		goto out;
	}
	if (v.d.nlinks >= HAMMER_LINK_MAX) {
		rc = -EMLINK;
		goto out;
	}
	if (is_dot(name, len)) {
		rc = -EEXIST;
		goto out;
	}
	rc = plain_name(name, len);
	if (rc)
		goto out;
	rc = dir_find(m, dv.obj, dv.pfs_loc, &dv.d, name, len, ASOF_LIVE, NULL, NULL);
	if (rc != -ENOENT) {
		rc = rc ? rc : -EEXIST;
		goto out;
	}
	rc = eng_begin(m);
	if (!rc)
		rc = dir_live(m, dir, &dv);
	if (!rc)
		rc = eng_view(m, ino, &v);
	if (rc)
		goto out;
	rc = entry_add(m, dv.ip, name, len, v.obj, v.pfs_loc, v.d.obj_type);
	if (rc) {
		m->broken = 1;
		goto out;
	}
	v.ip->d.nlinks++;
	v.ip->d.ctime = eng_now(m);
	ino_dirty(m, v.ip, INO_DIRTY);
	dir_touch(m, dv.ip);
	ino_fill_attr(&v.ip->d, v.obj, v.pfs_loc, ino, 0, v.ip->rec_tid, a);
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ---------------------------------------------------------- rename */

/* Is `anc` (a directory) `obj` or one of its ancestors? */
static int is_ancestor(struct hammer_mount *m, uint32_t loc, int64_t anc,
		       int64_t obj)
{
	struct hammer_inode *ip;
	for (int depth = 0; depth < 100000; depth++) {
		if (obj == anc)
			return 1;
		if (obj == 1)
			return 0;
		int rc = ino_live(m, obj, loc, &ip);
		if (rc)
			return rc;
		if (ip->d.parent_obj_id == 0 || ip->d.parent_obj_id == obj)
			return 0;
		obj = ip->d.parent_obj_id;
	}
	return HAMMER_CORRUPT(&m->err, ~0ULL,
			      "directory parent chain of object %lld loops",
			      (long long)obj);
}

int hammer_rename(struct hammer_mount *m, hammer_ino_t sdir, const char *sname,
		  size_t slen, hammer_ino_t ddir, const char *dname, size_t dlen,
		  unsigned flags)
{
	struct eng_view sv, dv;
	struct hammer_btree_leaf_elm srec, drec;
	int64_t sobj, dobj = 0;
	struct hammer_inode *sip, *dip = NULL;
	int rc;

	if ((flags & ~(HAMMER_RENAME_NOREPLACE | HAMMER_RENAME_EXCHANGE)) ||
	    (flags & HAMMER_RENAME_NOREPLACE && flags & HAMMER_RENAME_EXCHANGE))
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	rc = dir_live(m, sdir, &sv);
	if (!rc)
		rc = dir_live(m, ddir, &dv);
	if (!rc && sv.pfs_loc != dv.pfs_loc)
		rc = -EXDEV;		/* every PFS is a file system of its own */
	if (rc)
		goto out;
	if (is_dot(sname, slen) || is_dot(dname, dlen)) {
		rc = -EINVAL;
		goto out;
	}
	rc = plain_name(sname, slen);
	if (!rc)
		rc = plain_name(dname, dlen);
	if (rc)
		goto out;
	rc = eng_begin(m);
	if (!rc)
		rc = dir_live(m, sdir, &sv);
	if (!rc)
		rc = dir_live(m, ddir, &dv);
	if (!rc)
		rc = dir_find(m, sv.obj, sv.pfs_loc, &sv.d, sname, slen, ASOF_LIVE,
			      &srec, &sobj);
	if (!rc)
		rc = ino_live(m, sobj, sv.pfs_loc, &sip);
	if (rc)
		goto out;
	rc = dir_find(m, dv.obj, dv.pfs_loc, &dv.d, dname, dlen, ASOF_LIVE, &drec,
		      &dobj);
	if (rc && rc != -ENOENT)
		goto out;
	int dexists = rc == 0;
	rc = 0;
	if (dexists) {
		rc = ino_live(m, dobj, dv.pfs_loc, &dip);
		if (rc)
			goto out;
	}
	if ((flags & HAMMER_RENAME_NOREPLACE) && dexists) {
		rc = -EEXIST;
		goto out;
	}
	if ((flags & HAMMER_RENAME_EXCHANGE) && !dexists) {
		rc = -ENOENT;
		goto out;
	}
	int sisdir = sip->d.obj_type == HAMMER_OBJTYPE_DIRECTORY;
	int disdir = dexists && dip->d.obj_type == HAMMER_OBJTYPE_DIRECTORY;
	if (dexists && sobj == dobj)
		goto out;		/* same object: nothing to do (POSIX) */
	/* no directory may move below itself */
	if (sisdir && sv.obj != dv.obj) {
		rc = is_ancestor(m, dv.pfs_loc, sobj, dv.obj);
		if (rc) {
			rc = rc > 0 ? -EINVAL : rc;
			goto out;
		}
	}
	if ((flags & HAMMER_RENAME_EXCHANGE) && disdir && sv.obj != dv.obj) {
		rc = is_ancestor(m, sv.pfs_loc, dobj, sv.obj);
		if (rc) {
			rc = rc > 0 ? -EINVAL : rc;
			goto out;
		}
	}
	if (dexists && !(flags & HAMMER_RENAME_EXCHANGE)) {
		rc = may_remove(m, dip, sisdir);
		if (rc)
			goto out;
	}
	/* from here on a failure leaves a half rename in memory: break */
	rc = rec_remove(m, &srec, ino_nohist(sv.ip));
	if (!rc && dexists)
		rc = rec_remove(m, &drec, ino_nohist(dv.ip));
	if (!rc)
		rc = entry_add(m, dv.ip, dname, dlen, sobj, sip->pfs_loc,
			       sip->d.obj_type);
	if (!rc && (flags & HAMMER_RENAME_EXCHANGE))
		rc = entry_add(m, sv.ip, sname, slen, dobj, dip->pfs_loc,
			       dip->d.obj_type);
	else if (!rc && dexists)
		rc = drop_link(m, dip);
	if (rc) {
		m->broken = 1;
		goto out;
	}
	uint64_t now = eng_now(m);
	if (sisdir && sv.obj != dv.obj)
		sip->d.parent_obj_id = dv.obj;
	sip->d.ctime = now;
	ino_dirty(m, sip, INO_DIRTY);
	if ((flags & HAMMER_RENAME_EXCHANGE) && dip) {
		if (disdir && sv.obj != dv.obj)
			dip->d.parent_obj_id = sv.obj;
		dip->d.ctime = now;
		ino_dirty(m, dip, INO_DIRTY);
	}
	dir_touch(m, sv.ip);
	if (dv.ip != sv.ip)
		dir_touch(m, dv.ip);
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ---------------------------------------------------------- readdir */

struct rd_ctx {
	struct hammer_mount *m;
	struct eng_view *v;
	hammer_readdir_fn fn;
	void *ctx;
	int rc;
	int stopped;
};

static uint32_t dtype_of(uint8_t obj_type)
{
	struct hammer_inode_data d = { .obj_type = obj_type };
	return (ino_mode(&d) & S_IFMT) >> 12;
}

static int rd_visit(void *vctx, const struct hammer_btree_leaf_elm *el)
{
	struct rd_ctx *r = vctx;
	uint8_t d[16 + HAMMER_NAME_MAX];
	if (el->data_len <= 16 || el->data_len > 16 + HAMMER_NAME_MAX) {
		r->rc = HAMMER_CORRUPT(&r->m->err, el->data_offset,
				       "directory %lld: entry with data_len %d",
				       (long long)el->base.obj_id, el->data_len);
		return 1;
	}
	int rc = rec_read(r->m, el, d, (size_t)el->data_len);
	if (rc) {
		r->rc = rc;
		return 1;
	}
	int64_t t;
	memcpy(&t, d, 8);
	t = (int64_t)le64toh((uint64_t)t);
	hammer_ino_t h = eng_handle(r->m, t, r->v->pfs_loc, r->v->asof);
	if (!h) {
		r->rc = -ENOMEM;
		return 1;
	}
	if (r->fn(r->ctx, (const char *)d + 16, (size_t)el->data_len - 16, h,
		  dtype_of(el->base.obj_type), (uint64_t)el->base.key + 1)) {
		r->stopped = 1;
		return 1;
	}
	return 0;
}

int hammer_readdir(struct hammer_mount *m, hammer_ino_t dir, uint64_t cookie,
		   hammer_readdir_fn fn, void *ctx)
{
	struct eng_view v;
	pthread_mutex_lock(&m->lock);
	int rc = eng_view(m, dir, &v);
	if (rc)
		goto out;
	if (v.d.obj_type != HAMMER_OBJTYPE_DIRECTORY) {
		rc = -ENOTDIR;
		goto out;
	}
	if (cookie == 0 && fn(ctx, ".", 1, dir, DT_DIR, 1))
		goto out;
	if (cookie <= 1) {
		struct hammer_attr pa;
		int64_t p = v.d.parent_obj_id ? v.d.parent_obj_id : v.obj;
		rc = fill_target(m, p, v.pfs_loc, v.asof, &pa);
		if (rc)
			goto out;
		if (fn(ctx, "..", 2, pa.ino, DT_DIR, 2))
			goto out;
		cookie = 2;
	}
	if (cookie > (uint64_t)INT64_MAX)
		goto out;
	struct rd_ctx r = { m, &v, fn, ctx, 0, 0 };
	rc = rec_scan(m, dir_loc(v.pfs_loc, &v.d), v.obj, HAMMER_RECTYPE_DIRENTRY,
		      HAMMER_RECTYPE_DIRENTRY, (int64_t)cookie, INT64_MAX, v.asof,
		      rd_visit, &r);
	if (!rc)
		rc = r.rc;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}
