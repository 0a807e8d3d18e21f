/*
 * ops.c - the FUSE low-level operations, each a thin layer over ref/hammer.h.
 *
 * Permission checks are the kernel's (the mount always has
 * default_permissions); the engine checks only what the file system itself
 * forbids.  Engine errors are negative errno values and go back as they are,
 * except corruption (-EUCLEAN), which the user sees as EIO and the log sees
 * once with the engine's description.
 *
 * Timeouts: live objects change only through this kernel, so a short cache
 * (1 s by default) is safe.  As-of objects get 0 so that a history lookup
 * always asks the engine (cheap, and never stale for TIDs in the future).
 */
#include "hfuse.h"

#include <errno.h>
#include <linux/fuse.h>		/* request and reply headers, FUSE_SYNCFS */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

_Static_assert(HAMMER_ROOT_INO == FUSE_ROOT_ID,
	       "the engine's root handle must be FUSE's root node id");
_Static_assert(sizeof(fuse_ino_t) >= sizeof(hammer_ino_t),
	       "node ids must hold engine handles, bit 63 included");

static struct hfuse *H(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

int hfuse_errno(struct hfuse *h, int rc)
{
	int e = rc < 0 ? -rc : rc;
	if (e == EUCLEAN || e == EIO) {
		const struct hammer_err *me = hammer_mount_error(h->m);
		if (me->code && !atomic_exchange(&h->corrupt_logged, 1))
			hfuse_log(h, "%s: %s%s", h->devs, me->msg[0] ? me->msg :
				  "I/O error", e == EUCLEAN ?
				  " (corruption: answering EIO)" : "");
		return EIO;
	}
	if (e <= 0 || e >= 4096)
		return EIO;
	return e;
}

static void reply_err(fuse_req_t req, int rc)
{
	fuse_reply_err(req, rc ? hfuse_errno(H(req), rc) : 0);
}

/*
 * History (read-only, never cached).  Live objects of PFS n > 0 have table
 * handles (bit 63 set) too, but attr.asof == 0: they are live and cached.
 */
static int is_asof(const struct hammer_attr *a)
{
	return a->asof != 0;
}

/*
 * Node ids and handles.  They are the same except on a PFS mount (-o pfs=N
 * or pfs-mount), where FUSE's root node id 1 is the PFS root's handle; the
 * handle 1 (PFS #0's root, reachable there only through "@@-1:00000") then
 * has no node id and its lookup answers ENOENT (see fill_entry).
 */
static hammer_ino_t X(struct hfuse *h, fuse_ino_t n)
{
	return n == FUSE_ROOT_ID ? h->root : (hammer_ino_t)n;
}

static fuse_ino_t N(struct hfuse *h, hammer_ino_t i)
{
	return i == h->root ? FUSE_ROOT_ID : (fuse_ino_t)i;
}

static void us_to_ts(uint64_t us, struct timespec *ts)
{
	ts->tv_sec = (time_t)(us / 1000000u);
	ts->tv_nsec = (long)(us % 1000000u) * 1000;
}

/* HAMMER keeps microseconds since the epoch, unsigned. */
static int ts_to_us(const struct timespec *ts, uint64_t *us)
{
	if (ts->tv_sec < 0 || (uint64_t)ts->tv_sec > UINT64_MAX / 1000000u - 1)
		return -EINVAL;
	*us = (uint64_t)ts->tv_sec * 1000000u + (uint64_t)ts->tv_nsec / 1000u;
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* a pfs-mount session serves PFS pfs_id too: no kernel caching */
static int shared_pfs(struct hfuse *h, uint32_t pfs_id)
{
	return h->pfs_shared && atomic_load(&h->pfs_shared[HAMMER_PFS_MAX_ID + 1]) &&
	       atomic_load(&h->pfs_shared[pfs_id & HAMMER_PFS_MAX_ID]);
}

static int shared_ino(struct hfuse *h, hammer_ino_t ino)
{
	uint32_t pfs = 0;
	if (!h->pfs_shared || !atomic_load(&h->pfs_shared[HAMMER_PFS_MAX_ID + 1]))
		return 0;
	return hammer_ino_pfs(h->m, ino, &pfs) != 0 || shared_pfs(h, pfs);
}

static int cacheable(struct hfuse *h, const struct hammer_attr *a)
{
	return !is_asof(a) && !shared_pfs(h, a->pfs_id);
}

static void to_stat(const struct hammer_attr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = a->obj_id;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_rdev = a->rdev;
	st->st_size = (off_t)a->size;
	st->st_blocks = (blkcnt_t)a->blocks;
	st->st_blksize = HAMMER_BUFSIZE;
	us_to_ts(a->atime, &st->st_atim);
	us_to_ts(a->mtime, &st->st_mtim);
	us_to_ts(a->ctime, &st->st_ctim);
}

static void fill_entry(struct hfuse *h, const struct hammer_attr *a,
		       struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = N(h, a->ino);
	to_stat(a, &e->attr);
	if (cacheable(h, a)) {
		e->attr_timeout = h->o.attr_timeout;
		e->entry_timeout = h->o.entry_timeout;
	}
}

static void reply_entry(fuse_req_t req, const struct hammer_attr *a)
{
	struct fuse_entry_param e;
	fill_entry(H(req), a, &e);
	fuse_reply_entry(req, &e);
}

static void reply_attr(fuse_req_t req, const struct hammer_attr *a)
{
	struct stat st;
	to_stat(a, &st);
	fuse_reply_attr(req, &st, cacheable(H(req), a) ? H(req)->o.attr_timeout : 0.0);
}

/* ---------------------------------------------------------- init */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* HAMMER stores microseconds: let the kernel round the same way */
	conn->time_gran = 1000;
	/*
	 * Write-back caching would let the kernel pick O_APPEND offsets and
	 * timestamps on its own; keep every write a request.
	 */
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	/*
	 * libfuse asks for these by default; without them the kernel itself
	 * truncates on O_TRUNC and clears set-ID bits on write and chown (both
	 * as setattr), so open and write need no special cases here.
	 */
	conn->want &= ~(unsigned)(FUSE_CAP_ATOMIC_O_TRUNC | FUSE_CAP_HANDLE_KILLPRIV);
}

/*
 * DESTROY comes from the kernel only for fuseblk mounts, inside umount(2),
 * which waits for the answer: flushing here is what makes every unmount
 * command of such a mount return after the final flush.  Otherwise
 * libfuse calls this from fuse_session_destroy, after the session.
 */
static void op_destroy(void *userdata)
{
	hfuse_shutdown(userdata);
}

/*
 * Requests and unmount.  On a fuseblk mount the kernel's DESTROY runs
 * hfuse_shutdown in one worker while another may still hold a request
 * read before it (an asynchronous RELEASE, typically), so every request
 * that touches the engine runs between op_enter and op_leave, and
 * hfuse_shutdown waits for those in flight before unmounting the engine.
 * A request that comes later finds the engine gone and gets EIO (a
 * release: success; the final flush already released everything).
 */
static int op_enter(struct hfuse *h)
{
	atomic_fetch_add(&h->inflight, 1);
	if (atomic_load(&h->closing)) {
		atomic_fetch_sub(&h->inflight, 1);
		return 0;
	}
	return 1;
}

static void op_leave(struct hfuse *h)
{
	atomic_fetch_sub(&h->inflight, 1);
}

/*
 * FUSE_SYNCFS (sync(1), syncfs(2)).  libfuse 3.14 has no operation for it
 * and answers ENOSYS, after which the kernel stops asking; so the session
 * reads through this hook, which answers SYNCFS itself with hammer_sync
 * and passes every other request on.  Which mounts the kernel sends it
 * for is in docs/DESIGN.md section 9 (fuseblk ones, on the kernels tried).
 */
static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	struct hfuse *h = userdata;
	for (;;) {
		ssize_t n = read(fd, buf, len);
		const struct fuse_in_header *in = buf;
		/* the kernel sends nothing else before INIT's answer is in */
		if (n >= (ssize_t)sizeof(*in) && in->opcode != FUSE_INIT &&
		    !atomic_exchange(&h->ra_set, 1))
			hfuse_set_readahead(h);
		if (n < (ssize_t)sizeof(*in) || in->opcode != FUSE_SYNCFS)
			return n;
		int rc = -EIO;
		if (op_enter(h)) {
			rc = hammer_sync(h->m);
			op_leave(h);
		}
		struct fuse_out_header out = {
			.len = sizeof(out),
			.error = rc ? -hfuse_errno(h, rc) : 0,
			.unique = in->unique,
		};
		/* a failed reply means an aborted connection: the next read says so */
		(void)!write(fd, &out, sizeof(out));
	}
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	return writev(fd, iov, count);
}

const struct fuse_custom_io hfuse_io = {
	.read = io_read,
	.writev = io_writev,
};

/* ---------------------------------------------------------- names */

static void do_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct hfuse *h = H(req);
	struct hammer_attr a;
	size_t len = strlen(name);
	int rc = hammer_lookup(h->m, parent, name, len, &a);
	if (rc == 0 && a.ino == HAMMER_ROOT_INO && h->root != HAMMER_ROOT_INO)
		rc = -ENOENT;	/* PFS #0's root has no node id on a PFS mount */
	if (rc == -ENOENT && !(parent & HAMMER_INO_ASOF_BIT) &&
	    !memmem(name, len, "@@", 2) && !shared_ino(h, parent)) {
		/* negative entry: creations go through this kernel, which drops it */
		struct fuse_entry_param e = { .entry_timeout = h->o.entry_timeout };
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc)
		reply_err(req, rc);
	else
		reply_entry(req, &a);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	/* handles are object ids or engine-owned as-of slots: nothing to drop */
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
	fuse_reply_none(req);
}

static void do_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct hammer_attr a;
	int rc = hammer_getattr(H(req)->m, ino, &a);
	if (rc)
		reply_err(req, rc);
	else
		reply_attr(req, &a);
}

static void do_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *st,
		       int to_set, struct fuse_file_info *fi)
{
	(void)fi;
	struct hfuse *h = H(req);
	struct hammer_attr a;
	unsigned mask = 0;
	int rc = 0;
	memset(&a, 0, sizeof(a));
	if (to_set & FUSE_SET_ATTR_MODE) {
		a.mode = st->st_mode;
		mask |= HAMMER_SET_MODE;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		a.uid = st->st_uid;
		mask |= HAMMER_SET_UID;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		a.gid = st->st_gid;
		mask |= HAMMER_SET_GID;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (st->st_size < 0) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		a.size = (uint64_t)st->st_size;
		mask |= HAMMER_SET_SIZE;
	}
	uint64_t now = now_us();
	if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
		a.atime = now;
		mask |= HAMMER_SET_ATIME;
	} else if (to_set & FUSE_SET_ATTR_ATIME) {
		rc = ts_to_us(&st->st_atim, &a.atime);
		mask |= HAMMER_SET_ATIME;
	}
	if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
		a.mtime = now;
		mask |= HAMMER_SET_MTIME;
	} else if (!rc && (to_set & FUSE_SET_ATTR_MTIME)) {
		rc = ts_to_us(&st->st_mtim, &a.mtime);
		mask |= HAMMER_SET_MTIME;
	}
	if (!rc && (to_set & FUSE_SET_ATTR_CTIME)) {
		rc = ts_to_us(&st->st_ctim, &a.ctime);
		mask |= HAMMER_SET_CTIME;
	} else if (mask & (HAMMER_SET_ATIME | HAMMER_SET_MTIME)) {
		/* POSIX: changing the times is itself a status change */
		a.ctime = now;
		mask |= HAMMER_SET_CTIME;
	}
	if (rc) {
		reply_err(req, rc);
		return;
	}
	if (mask)
		rc = hammer_setattr(h->m, ino, &a, mask);
	else
		rc = hammer_getattr(h->m, ino, &a);
	if (rc)
		reply_err(req, rc);
	else
		reply_attr(req, &a);
}

static void do_readlink(fuse_req_t req, fuse_ino_t ino)
{
	size_t size = HAMMER_SYMLINK_MAX + 1;
	for (;;) {
		char *buf = malloc(size);
		if (!buf) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		int n = hammer_readlink(H(req)->m, ino, buf, size);
		if (n < 0) {
			free(buf);
			reply_err(req, n);
			return;
		}
		/* images from elsewhere may hold longer targets than we write */
		if ((size_t)n >= size && size < 65536) {
			free(buf);
			size = (size_t)n + 1;
			continue;
		}
		buf[(size_t)n < size ? (size_t)n : size - 1] = '\0';
		fuse_reply_readlink(req, buf);
		free(buf);
		return;
	}
}

/*
 * Owner of a new object: the caller, except that a set-group-ID directory
 * passes on its group (and, to directories, the bit), as on BSD and ext4.
 */
static int new_owner(fuse_req_t req, fuse_ino_t parent, uint32_t *mode,
		     uint32_t *uid, uint32_t *gid)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);
	struct hammer_attr pa;
	int rc = hammer_getattr(H(req)->m, parent, &pa);
	if (rc)
		return rc;
	*uid = c->uid;
	*gid = c->gid;
	if (pa.mode & S_ISGID) {
		*gid = pa.gid;
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	}
	return 0;
}

static void do_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct hammer_attr a;
	uint32_t m = mode, uid, gid;
	int rc = new_owner(req, parent, &m, &uid, &gid);
	if (!rc)
		rc = hammer_mknod(H(req)->m, parent, name, strlen(name), m, rdev,
				  uid, gid, &a);
	if (rc)
		reply_err(req, rc);
	else
		reply_entry(req, &a);
}

static void do_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct hammer_attr a;
	uint32_t m = S_IFDIR | (mode & 07777), uid, gid;
	int rc = new_owner(req, parent, &m, &uid, &gid);
	if (!rc)
		rc = hammer_mkdir(H(req)->m, parent, name, strlen(name), m & 07777,
				  uid, gid, &a);
	if (rc)
		reply_err(req, rc);
	else
		reply_entry(req, &a);
}

static void do_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	struct hammer_attr a;
	uint32_t m = S_IFLNK | 0777, uid, gid;
	int rc = new_owner(req, parent, &m, &uid, &gid);
	if (!rc)
		rc = hammer_symlink(H(req)->m, parent, name, strlen(name), link,
				    strlen(link), uid, gid, &a);
	if (rc)
		reply_err(req, rc);
	else
		reply_entry(req, &a);
}

static void do_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	reply_err(req, hammer_unlink(H(req)->m, parent, name, strlen(name)));
}

static void do_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	reply_err(req, hammer_rmdir(H(req)->m, parent, name, strlen(name)));
}

static void do_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname, unsigned flags)
{
	unsigned hf = 0;
	if (flags & RENAME_NOREPLACE)
		hf |= HAMMER_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		hf |= HAMMER_RENAME_EXCHANGE;
	/* RENAME_WHITEOUT is for overlay file systems, which HAMMER is not */
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	reply_err(req, hammer_rename(H(req)->m, parent, name, strlen(name),
				     newparent, newname, strlen(newname), hf));
}

static void do_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct hammer_attr a;
	int rc = hammer_link(H(req)->m, ino, newparent, newname, strlen(newname), &a);
	if (rc)
		reply_err(req, rc);
	else
		reply_entry(req, &a);
}

/* ---------------------------------------------------------- files */

static void do_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct hfuse *h = H(req);
	struct hammer_attr a;
	/* table handles: history (read-only) or a live object of PFS n > 0 */
	if ((ino & HAMMER_INO_ASOF_BIT) && (fi->flags & O_ACCMODE) != O_RDONLY) {
		int arc = hammer_getattr(h->m, ino, &a);
		if (arc || a.asof) {
			reply_err(req, arc ? arc : -EROFS);	/* history is read-only */
			return;
		}
	}
	int rc = hammer_open(h->m, ino);
	if (rc) {
		reply_err(req, rc);
		return;
	}
	/* all changes come through this kernel, so its page cache stays valid
	 * (unless another session serves the same PFS) */
	fi->keep_cache = !shared_ino(h, ino);
	if (fuse_reply_open(req, fi) != 0)
		hammer_release(h->m, ino);	/* interrupted: no release will come */
}

static void do_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct hfuse *h = H(req);
	struct hammer_attr a;
	uint32_t m = S_IFREG | (mode & 07777), uid, gid;
	int rc = new_owner(req, parent, &m, &uid, &gid);
	if (!rc)
		rc = hammer_mknod(h->m, parent, name, strlen(name), m, 0, uid, gid, &a);
	if (!rc)
		rc = hammer_open(h->m, a.ino);
	if (rc) {
		reply_err(req, rc);
		return;
	}
	struct fuse_entry_param e;
	fill_entry(h, &a, &e);
	fi->keep_cache = !shared_pfs(h, a.pfs_id);
	if (fuse_reply_create(req, &e, fi) != 0)
		hammer_release(h->m, a.ino);
}

/*
 * Read buffers are per worker thread and kept: a malloc and free of up to
 * max_read bytes per request would interleave with the engine's 16 and 64
 * KB buffers in the heap and fragment it (the daemon's memory bound in
 * fuse/README.md counts on this).
 */
static pthread_key_t rbuf_key;
static pthread_once_t rbuf_once = PTHREAD_ONCE_INIT;

struct rbuf {
	size_t cap;
	char data[];
};

static void rbuf_key_init(void)
{
	if (pthread_key_create(&rbuf_key, free) != 0)
		abort();	/* out of keys at start-up: nothing sensible to do */
}

static char *rbuf_get(size_t size)
{
	pthread_once(&rbuf_once, rbuf_key_init);
	struct rbuf *b = pthread_getspecific(rbuf_key);
	if (b && b->cap >= size)
		return b->data;
	size_t cap = size < 131072 ? 131072 : size;
	struct rbuf *nb = malloc(sizeof(*nb) + cap);
	if (!nb)
		return NULL;
	nb->cap = cap;
	free(b);
	pthread_setspecific(rbuf_key, nb);
	return nb->data;
}

static void do_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)fi;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	char *buf = rbuf_get(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ssize_t n = hammer_read(H(req)->m, ino, (uint64_t)off, buf, size);
	if (n < 0)
		reply_err(req, (int)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

static void do_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* O_APPEND: the kernel already placed `off` at the end under its inode lock */
	ssize_t n = hammer_write(H(req)->m, ino, (uint64_t)off, buf, size);
	if (n < 0)
		reply_err(req, (int)n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void do_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct hfuse *h = H(req);
	int rc = hammer_release(h->m, ino);
	if (rc)
		hfuse_log(h, "release of object 0x%016llx: %s", (unsigned long long)ino,
			  strerror(hfuse_errno(h, rc)));
	fuse_reply_err(req, 0);
}

static void do_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	(void)fi;
	reply_err(req, hammer_fsync(H(req)->m, ino, datasync));
}

/* ---------------------------------------------------------- directories */

static void do_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct hfuse *h = H(req);
	/* counted like files: a removed directory stays listable while open */
	int rc = hammer_open(h->m, ino);
	if (rc) {
		reply_err(req, rc);
		return;
	}
	if (fuse_reply_open(req, fi) != 0)
		hammer_release(h->m, ino);
}

static void do_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	do_release(req, ino, fi);
}

/*
 * The engine calls back with its lock held, so the callback only copies
 * entries out (and sizes them); attributes are fetched afterwards.
 */
struct rd_ent {
	hammer_ino_t ino;
	uint64_t next;
	uint32_t dtype;
	char name[HAMMER_NAME_MAX + 1];
};

struct rd_collect {
	fuse_req_t req;
	int plus;
	size_t limit, used;
	struct rd_ent *ents;
	size_t n, cap;
	int nomem;
};

static int rd_cb(void *ctx, const char *name, size_t len, hammer_ino_t ino,
		 uint32_t dtype, uint64_t next)
{
	struct rd_collect *c = ctx;
	if (len > HAMMER_NAME_MAX)
		len = HAMMER_NAME_MAX;	/* the engine never passes more */
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 32;
		struct rd_ent *p = realloc(c->ents, nc * sizeof(*p));
		if (!p) {
			c->nomem = 1;
			return 1;
		}
		c->ents = p;
		c->cap = nc;
	}
	struct rd_ent *e = &c->ents[c->n];
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	size_t need = c->plus ? fuse_add_direntry_plus(c->req, NULL, 0, e->name, NULL, 0)
			      : fuse_add_direntry(c->req, NULL, 0, e->name, NULL, 0);
	if (c->used + need > c->limit)
		return 1;
	c->used += need;
	e->ino = ino;
	e->next = next;
	e->dtype = dtype;
	c->n++;
	return 0;
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   int plus)
{
	struct hfuse *h = H(req);
	struct rd_collect c = { .req = req, .plus = plus, .limit = size };
	int rc = hammer_readdir(h->m, ino, (uint64_t)off, rd_cb, &c);
	if (!rc && c.nomem)
		rc = -ENOMEM;
	if (rc && c.n == 0) {
		free(c.ents);
		reply_err(req, rc);
		return;
	}
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		free(c.ents);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t pos = 0;
	for (size_t i = 0; i < c.n; i++) {
		const struct rd_ent *e = &c.ents[i];
		struct hammer_attr a;
		struct fuse_entry_param ep;
		size_t n;
		memset(&ep, 0, sizeof(ep));
		ep.attr.st_ino = e->ino;
		ep.attr.st_mode = (mode_t)e->dtype << 12;
		/* table handles (history, PFS n > 0) are not inode numbers:
		 * report attr.obj_id (hammer_report_ino) */
		int need_attr = plus || (e->ino & HAMMER_INO_ASOF_BIT);
		int arc = need_attr ? hammer_getattr(h->m, e->ino, &a) : -1;
		if (arc == 0 && a.ino == HAMMER_ROOT_INO && h->root != HAMMER_ROOT_INO)
			arc = -ENOENT;	/* ".." of a PFS mount's root: no node id */
		if (arc == 0) {
			fill_entry(h, &a, &ep);
		} else if (need_attr && arc != -ENOENT) {
			hfuse_errno(h, arc);	/* logs corruption */
		}
		if (arc != 0)
			ep.ino = 0;	/* plus: entry without attributes */
		if (plus)
			n = fuse_add_direntry_plus(req, buf + pos, size - pos, e->name,
						   &ep, (off_t)e->next);
		else
			n = fuse_add_direntry(req, buf + pos, size - pos, e->name,
					      &ep.attr, (off_t)e->next);
		if (n > size - pos)
			break;
		pos += n;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
	free(c.ents);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, 0);
}

static void do_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, 1);
}

/* ---------------------------------------------------------- file system */

static void do_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct hammer_statfs s;
	int rc = hammer_statfs(H(req)->m, &s);
	if (rc) {
		reply_err(req, rc);
		return;
	}
	struct statvfs sv;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = s.bsize;
	sv.f_frsize = s.bsize;
	sv.f_blocks = s.blocks;
	sv.f_bfree = s.bfree;
	sv.f_bavail = s.bavail;
	sv.f_files = s.files + s.ffree;
	sv.f_ffree = s.ffree;
	sv.f_favail = s.ffree;
	sv.f_namemax = s.namemax;
	fuse_reply_statfs(req, &sv);
}

/*
 * HAMMER has no extended attributes.  ENOSYS makes the kernel answer
 * EOPNOTSUPP (== ENOTSUP) to every later xattr call without asking us,
 * which also spares a security.capability lookup on every write.
 */
static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	(void)ino, (void)name, (void)value, (void)size, (void)flags;
	fuse_reply_err(req, ENOSYS);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	(void)ino, (void)name, (void)size;
	fuse_reply_err(req, ENOSYS);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	(void)ino, (void)size;
	fuse_reply_err(req, ENOSYS);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino, (void)name;
	fuse_reply_err(req, ENOSYS);
}

/* ---------------------------------------------------------- guards */

/*
 * op_X: do_X between op_enter and op_leave; `dead` answers after unmount.
 * Node ids become engine handles here (X), so every do_X sees handles.
 */

#define GUARD(name, dead, params, ...)					\
	static void op_##name params					\
	{								\
		struct hfuse *h_ = fuse_req_userdata(req);		\
		if (!op_enter(h_)) {					\
			fuse_reply_err(req, dead);			\
			return;						\
		}							\
		do_##name(__VA_ARGS__);					\
		op_leave(h_);						\
	}
typedef struct fuse_file_info ffi_t;
GUARD(lookup, EIO, (fuse_req_t req, fuse_ino_t p, const char *n), req, X(h_, p), n)
GUARD(getattr, EIO, (fuse_req_t req, fuse_ino_t i, ffi_t *fi), req, X(h_, i), fi)
GUARD(setattr, EIO, (fuse_req_t req, fuse_ino_t i, struct stat *st, int set, ffi_t *fi),
      req, X(h_, i), st, set, fi)
GUARD(readlink, EIO, (fuse_req_t req, fuse_ino_t i), req, X(h_, i))
GUARD(mknod, EIO, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, dev_t d),
      req, X(h_, p), n, m, d)
GUARD(mkdir, EIO, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m), req, X(h_, p), n, m)
GUARD(symlink, EIO, (fuse_req_t req, const char *l, fuse_ino_t p, const char *n),
      req, l, X(h_, p), n)
GUARD(unlink, EIO, (fuse_req_t req, fuse_ino_t p, const char *n), req, X(h_, p), n)
GUARD(rmdir, EIO, (fuse_req_t req, fuse_ino_t p, const char *n), req, X(h_, p), n)
GUARD(rename, EIO, (fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np,
		    const char *nn, unsigned f), req, X(h_, p), n, X(h_, np), nn, f)
GUARD(link, EIO, (fuse_req_t req, fuse_ino_t i, fuse_ino_t np, const char *nn),
      req, X(h_, i), X(h_, np), nn)
GUARD(open, EIO, (fuse_req_t req, fuse_ino_t i, ffi_t *fi), req, X(h_, i), fi)
GUARD(create, EIO, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, ffi_t *fi),
      req, X(h_, p), n, m, fi)
GUARD(read, EIO, (fuse_req_t req, fuse_ino_t i, size_t sz, off_t o, ffi_t *fi),
      req, X(h_, i), sz, o, fi)
GUARD(write, EIO, (fuse_req_t req, fuse_ino_t i, const char *b, size_t sz, off_t o,
		   ffi_t *fi), req, X(h_, i), b, sz, o, fi)
GUARD(release, 0, (fuse_req_t req, fuse_ino_t i, ffi_t *fi), req, X(h_, i), fi)
GUARD(fsync, EIO, (fuse_req_t req, fuse_ino_t i, int ds, ffi_t *fi), req, X(h_, i), ds, fi)
GUARD(opendir, EIO, (fuse_req_t req, fuse_ino_t i, ffi_t *fi), req, X(h_, i), fi)
GUARD(releasedir, 0, (fuse_req_t req, fuse_ino_t i, ffi_t *fi), req, X(h_, i), fi)
GUARD(readdir, EIO, (fuse_req_t req, fuse_ino_t i, size_t sz, off_t o, ffi_t *fi),
      req, X(h_, i), sz, o, fi)
GUARD(readdirplus, EIO, (fuse_req_t req, fuse_ino_t i, size_t sz, off_t o, ffi_t *fi),
      req, X(h_, i), sz, o, fi)
GUARD(statfs, EIO, (fuse_req_t req, fuse_ino_t i), req, X(h_, i))

void hfuse_drain(struct hfuse *h)
{
	atomic_store(&h->closing, 1);
	while (atomic_load(&h->inflight) > 0) {
		struct timespec ts = { .tv_nsec = 1000000 };
		nanosleep(&ts, NULL);
	}
}

const struct fuse_lowlevel_ops hfuse_ops = {
	.init = op_init,
	.destroy = op_destroy,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.symlink = op_symlink,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write = op_write,
	/*
	 * No .flush: close() needs nothing (every write already reached the
	 * engine), and the ENOSYS libfuse answers makes the kernel stop
	 * sending FLUSH, one round trip less per close.
	 */
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsync,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
};
