/*
 * crashloop.c - the crash-recovery conformance suite.
 *
 * Format a small volume in RAM once, stack the simulated device (sim/sim.h)
 * on it, mount, create a fixed starting tree and settle it: it becomes the
 * base every crash state starts from.  Then, for each workload, fork a
 * child per job that inherits that mount (fork is the snapshot: every
 * workload starts from the same in-memory state without redoing it) and
 * runs the workload: operations, each followed by fsync, fdatasync or sync.
 * At every completed durability call the oracle records a canonical dump
 * of the whole file system (every path, type, mode, link count, size,
 * content hash, symlink target; then every live PFS's record and the tree
 * under its root, a slave's as of its sync_end_tid, see dump_pfs) and how
 * many epochs of the device log were closed.  Then every crash state of the log is enumerated (sim's prefixes,
 * subsets, torn writes, garbage sectors); job k of N judges the states whose
 * index is k modulo N:
 *   1. mount it (stage 1 UNDO recovery runs; a second mount must work too);
 *   2. the checker (hammer_check) must report no error;
 *   3. the file system must equal one of the recorded dumps from the last
 *      durability call completed before the crash epoch on, or a later one
 *      (a crash after a sync's writes reached the disk shows that state):
 *      everything promised is there, renames are atomic, link counts exact.
 * The parent prints every result in state order, so the output does not
 * depend on the number of jobs.  With --recrash, a sample of states is
 * also crashed again at every write of its own recovery, and each of those
 * states must recover as well.
 *
 * The freemap recount.  A full recount reads the whole layer-1 and layer-2
 * arrays and FIFO (24 MB here) and would be nearly all the time of a
 * state.  So the base gets one full check, plus a check that reads only
 * what the file system can reach (HAMMER_FSCK_CHECKMAP_REACHABLE), which
 * lists the freemap ranges it did not read.  A crash state gets the
 * reachable check when the same ranges were skipped, no logged write
 * covers them and the state itself did not change them (recovery writes,
 * garbage sectors): those bytes are then the base's, which the full check
 * found clean with nothing there in use, so the full recount would find
 * what the reachable one finds (outside the FIFO's live range it could
 * only add warnings).  Otherwise the state gets the full recount.
 *
 * Every failure prints the workload name and the sim state id; rerun one
 * with `crashloop --workload NAME --state ID -v` (a state run alone always
 * gets the full recount).  The last line is `N passed, F failed`, counting
 * crash states; the exit status is 1 when anything failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ref/fscheck.h"
#include "ref/hammer.h"
#include "ref/mstream.h"
#include "ref/newfs.h"
#include "ref/volume.h"
#include "sim/sim.h"

#define VOL_SIZE	(256ULL << 20)
/*
 * The volume header is HAMMER's one structure kept in a single copy: a
 * garbage sector there is media failure no recovery can repair, so the
 * sim never garbles its sectors (DESIGN.md section 4).  Torn and dropped
 * header writes stay in the model.
 */
#define HEADER_SECTORS	2048u
#define UNDO_SIZE	(8 << 20)	/* one big-block: the smallest FIFO */
#define MAX_SYNCS	16
#define MAX_JOBS	64

/* Options, set once by main (inherited by the children). */
struct config {
	int verbose;
	unsigned checkmap_every;	/* freemap recount on every N-th state */
	int recrash_every;
	int redo_recrash_every;	/* after a fast fsync (0: as recrash_every) */
	int recrash_light;	/* REDO recrash: fewer states per log (quick) */
	const char *only_state;
	int jobs;
	int verify_proof;	/* also run the full recount where proven */
};

/*
 * fsync_mode of every mount (--fsync-mode).  2, DragonFly's REDO mode with
 * its disk cache flush, is the default: a file's first fsync is a full
 * sync ending with a barrier, later ones (REDO workloads) write only the
 * FIFO and a barrier, and both promise durability.
 */
static int g_fsync_mode = 2;

/* What a rerun command must repeat to find the same state (main sets it). */
static char g_rerun_opts[64];

/* ---------------------------------------------------------- text */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_reserve(struct sbuf *b, size_t more)
{
	if (b->p && b->len + more < b->cap)
		return;
	size_t ncap = b->cap ? b->cap : 4096;
	while (ncap <= b->len + more)
		ncap *= 2;
	b->p = realloc(b->p, ncap);
	if (!b->p)
		abort();
	b->cap = ncap;
}

static void sb_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	sb_reserve(b, (size_t)n + 1);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	b->len += (size_t)n;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(b, fmt, ap);
	va_end(ap);
}

static void sb_add(struct sbuf *b, const void *p, size_t n)
{
	sb_reserve(b, n + 1);
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
}

/* ---------------------------------------------------------- dumps */

struct dent {
	char name[256];
	hammer_ino_t ino;
};

struct dlist {
	struct dent *e;
	int n, cap;
};

static int dl_fn(void *ctx, const char *name, size_t len, hammer_ino_t ino,
		 uint32_t dtype, uint64_t next)
{
	(void)dtype;
	(void)next;
	struct dlist *l = ctx;
	if (len <= 2 && name[0] == '.' && (len == 1 || name[1] == '.'))
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->e = realloc(l->e, (size_t)l->cap * sizeof(*l->e));
		if (!l->e)
			abort();
	}
	memcpy(l->e[l->n].name, name, len);
	l->e[l->n].name[len] = 0;
	l->e[l->n].ino = ino;
	l->n++;
	return 0;
}

static int dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

/* Content hash: 8 bytes at a time (the dumps only ever meet each other). */
static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; n; p++, n--)
		h = (h ^ *p) * 0x100000001b3ULL;
	return h;
}

/*
 * The contents of a dump's regular files, by path: a crash during a fast
 * fsync may show a write in part (see mix_ok).
 */
struct fcont {
	char *path;
	uint8_t *data;
	uint64_t size;
};

struct fset {
	struct fcont *f;
	int n, cap;
};

static void fset_free(struct fset *fs)
{
	for (int i = 0; i < fs->n; i++) {
		free(fs->f[i].path);
		free(fs->f[i].data);
	}
	free(fs->f);
	memset(fs, 0, sizeof(*fs));
}

static struct fcont *fset_add(struct fset *fs, const char *path)
{
	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? fs->cap * 2 : 8;
		fs->f = realloc(fs->f, (size_t)fs->cap * sizeof(*fs->f));
		if (!fs->f)
			abort();
	}
	struct fcont *c = &fs->f[fs->n++];
	c->path = strdup(path);
	c->data = NULL;
	c->size = 0;
	if (!c->path)
		abort();
	return c;
}

static const struct fcont *fset_find(const struct fset *fs, const char *path,
				     size_t len)
{
	for (int i = 0; i < fs->n; i++)
		if (strlen(fs->f[i].path) == len && !memcmp(fs->f[i].path, path, len))
			return &fs->f[i];
	return NULL;
}

/*
 * Canonical dump of the tree under `dir`; returns 0 or the first error.
 * With fs, the regular files' contents are kept there too.
 */
static int dump_dir(struct hammer_mount *m, hammer_ino_t dir, const char *path,
		    struct sbuf *out, struct fset *fs)
{
	struct dlist l = { 0 };
	int rc = hammer_readdir(m, dir, 0, dl_fn, &l);
	if (rc) {
		free(l.e);
		return rc;
	}
	if (l.n)
		qsort(l.e, (size_t)l.n, sizeof(*l.e), dent_cmp);
	for (int i = 0; i < l.n && !rc; i++) {
		struct hammer_attr a;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s", path, l.e[i].name);
		rc = hammer_lookup(m, dir, l.e[i].name, strlen(l.e[i].name), &a);
		if (rc)
			break;
		sb_printf(out, "%s %o n%" PRIu64 " s%" PRIu64, p, a.mode, a.nlink,
			  a.size);
		if (S_ISREG(a.mode)) {
			uint64_t h = 14695981039346656037ULL;
			static uint8_t buf[65536];
			struct fcont *c = fs ? fset_add(fs, p) : NULL;
			if (c && a.size && !(c->data = malloc(a.size)))
				abort();
			for (uint64_t off = 0; off < a.size;) {
				ssize_t n = hammer_read(m, a.ino, off, buf, sizeof(buf));
				if (n <= 0 || (uint64_t)n > a.size - off) {
					rc = n < 0 ? (int)n : -EIO;
					break;
				}
				h = hash_bytes(h, buf, (size_t)n);
				if (c)
					memcpy(c->data + off, buf, (size_t)n);
				off += (uint64_t)n;
			}
			if (c)
				c->size = a.size;
			sb_printf(out, " h%016" PRIx64, h);
		} else if (S_ISLNK(a.mode)) {
			char t[1100];
			int n = hammer_readlink(m, a.ino, t, sizeof(t) - 1);
			if (n < 0) {
				rc = n;
				break;
			}
			t[n < (int)sizeof(t) - 1 ? n : (int)sizeof(t) - 1] = 0;
			sb_printf(out, " -> %s", t);
		}
		sb_printf(out, "\n");
		if (S_ISDIR(a.mode))
			rc = dump_dir(m, a.ino, p, out, fs);
	}
	free(l.e);
	return rc;
}

/*
 * The PFS ids the workloads use: 1 and 2 are made by pfs-master and
 * pfs-slave, 3 (a master with files, link /M) and 4 (a slave, downgraded
 * from a master with files, link /T) come from the PFS prologue.  The dump
 * looks at ids 0 to PFS_SCAN - 1.
 */
#define PFS_NEW_MASTER	1u
#define PFS_NEW_SLAVE	2u
#define PFS_BASE_MASTER	3u
#define PFS_BASE_SLAVE	4u
#define PFS_MIRROR	5u	/* a slave of PFS 3 (link /U): mirror-write */
#define PFS_SCAN	6u

static void hex16(char *out, const hammer_uuid_t *u)
{
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", u->b[i]);
}

/* A PFS's meta-data snapshots and cleanup config, as `snapls` and `config` see them. */
static int dump_snapshots(struct hammer_mount *m, uint32_t id, struct sbuf *out)
{
	struct hammer_snapshot *v;
	size_t n;
	int rc = hammer_snapshot_list(m, id, &v, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		sb_printf(out, "snapshot %u %016" PRIx64 " %" PRIu64 " '%s'\n", id,
			  v[i].tid, v[i].ts, v[i].label);
		/* what the snapshot shows (PFS #0's): prune must keep it whole */
		char nm[40];
		struct hammer_attr a;
		snprintf(nm, sizeof(nm), "@@0x%016" PRIx64, v[i].tid);
		if (id == 0)
			rc = hammer_lookup(m, HAMMER_ROOT_INO, nm, strlen(nm), &a);
		if (id == 0 && !rc)
			rc = dump_dir(m, a.ino, nm, out, NULL);
	}
	free(v);
	if (rc)
		return rc;
	char text[HAMMER_CONFIG_BYTES];
	rc = hammer_config_get(m, id, text);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	sb_printf(out, "config %u h%016" PRIx64 "\n", id,
		  hash_bytes(14695981039346656037ULL, (const uint8_t *)text,
			     strlen(text)));
	return 0;
}

/*
 * Every live PFS: its record (the fields that matter spelled out, and a
 * hash of all of it), then, for PFS 1 and up, its root as a lookup of
 * "@@-1:NNNNN" enters it (a slave's as of its sync_end_tid) and the tree
 * under it.  A record without its link, a link without its record (the
 * link then reads as its raw target) or a master without its root all
 * show as a different dump.
 */
static int dump_pfs(struct hammer_mount *m, struct sbuf *out, struct fset *fs)
{
	for (uint32_t id = 0; id < PFS_SCAN; id++) {
		struct hammer_pseudofs_data pd;
		struct hammer_err err = { 0 };
		int rc = hammer_pfs_get(m, id, &pd, &err);
		if (rc == -ENOENT)
			continue;
		if (rc)
			return rc;
		char su[33], uu[33], label[65];
		hex16(su, &pd.shared_uuid);
		hex16(uu, &pd.unique_uuid);
		memcpy(label, pd.label, 64);
		label[64] = 0;
		sb_printf(out, "pfs %u flags %x low %" PRIx64 " beg %" PRIx64 " end %"
			  PRIx64 " shared %s unique %s label '%s' h%016" PRIx64 "\n",
			  id, pd.mirror_flags, pd.sync_low_tid, pd.sync_beg_tid,
			  pd.sync_end_tid, su, uu, label,
			  hash_bytes(14695981039346656037ULL, (const uint8_t *)&pd,
				     sizeof(pd)));
		rc = dump_snapshots(m, id, out);
		if (rc)
			return rc;
		if (id == 0)
			continue;	/* its tree is the one above */
		char nm[16];
		snprintf(nm, sizeof(nm), "@@-1:%05u", id);
		struct hammer_attr a;
		rc = hammer_lookup(m, HAMMER_ROOT_INO, nm, strlen(nm), &a);
		if (rc == -ENOENT && (pd.mirror_flags & HAMMER_PFSD_SLAVE)) {
			sb_printf(out, "%s no root\n", nm);	/* never mirrored */
			continue;
		}
		if (rc)
			return rc;
		sb_printf(out, "%s %o n%" PRIu64 " s%" PRIu64 "\n", nm, a.mode, a.nlink,
			  a.size);
		rc = dump_dir(m, a.ino, nm, out, fs);
		if (rc)
			return rc;
	}
	return 0;
}

static char *dump_fs(struct hammer_mount *m, struct fset *fs, int *rcp)
{
	struct sbuf b = { 0 };
	sb_printf(&b, "/\n");
	*rcp = dump_dir(m, HAMMER_ROOT_INO, "", &b, fs);
	if (!*rcp)
		*rcp = dump_pfs(m, &b, fs);
	return b.p;
}

/* ---------------------------------------------------------- workloads */

enum op_kind {
	OP_CREATE, OP_MKDIR, OP_APPEND, OP_OVERWRITE, OP_UNALIGNED, OP_TRUNC,
	OP_LINK, OP_UNLINK, OP_RENAME, OP_RMDIR, OP_SYMLINK, OP_SMALLWRITE,
	OP_BIGWRITE, OP_PFS_MASTER, OP_PFS_SLAVE, OP_PFS_DESTROY, OP_PFS_UPGRADE,
	OP_PFS_DOWNGRADE, OP_PFS_WRITE, OP_MIRROR, OP_SNAPSHOT, OP_SNAPRM,
	OP_CONFIG, OP_PRUNE, OP_PRUNE_ALL, OP_REBLOCK, OP_REBLOCK_FRESH,
	OP_REBALANCE, OP_KINDS
};
static const char *op_names[OP_KINDS] = {
	"create", "mkdir", "append", "overwrite", "unaligned", "truncate",
	"link", "unlink", "rename", "rmdir", "symlink", "smallwrite", "bigwrite",
	"pfs-master", "pfs-slave", "pfs-destroy", "pfs-upgrade", "pfs-downgrade",
	"pfs-write", "mirror-write", "snapshot", "snaprm", "config", "prune",
	"prune-everything", "reblock", "reblock-fresh", "rebalance"
};
enum sync_kind { SY_FSYNC, SY_FDATASYNC, SY_SYNC, SY_KINDS };
static const char *sync_names[SY_KINDS] = { "fsync", "fdatasync", "sync" };

static uint8_t pattern[200000];

/*
 * bigwrite appends this much to /A: more than the dirty limit (a quarter
 * of the mounts' 4 MB cache), so the engine writes data buffers before the
 * cycle (eng_maybe_flush); as the first operation, the workload fails if
 * it did not.
 */
#define BIGWRITE_BYTES	1600000u

/* A PFS record as the workloads make them: fixed uuids and label. */
static void pfs_data(struct hammer_pseudofs_data *pd, uint32_t id, int slave)
{
	memset(pd, 0, sizeof(*pd));
	memset(&pd->shared_uuid, 0x40 + (int)id, sizeof(pd->shared_uuid));
	memset(&pd->unique_uuid, 0x80 + (int)id, sizeof(pd->unique_uuid));
	snprintf(pd->label, sizeof(pd->label), "crash-pfs-%u", id);
	if (slave) {
		pd->mirror_flags = HAMMER_PFSD_SLAVE;
		pd->sync_low_tid = pd->sync_beg_tid = pd->sync_end_tid = 1;
	}
}

/* The root of live PFS id, as a lookup of "@@-1:NNNNN" enters it. */
static int pfs_enter_root(struct hammer_mount *m, uint32_t id, struct hammer_attr *a)
{
	char nm[16];
	snprintf(nm, sizeof(nm), "@@-1:%05u", id);
	return hammer_lookup(m, HAMMER_ROOT_INO, nm, strlen(nm), a);
}

/*
 * A master PFS with files, made through its root: F (6000 bytes), G (dir)
 * holding H (300 bytes).
 */
static int pfs_with_files(struct hammer_mount *m, uint32_t id, const char *link)
{
	struct hammer_pseudofs_data pd;
	struct hammer_attr a, r;
	pfs_data(&pd, id, 0);
	int rc = hammer_pfs_create(m, 1, link, strlen(link), id, &pd, 0, 0, &a);
	if (!rc)
		rc = pfs_enter_root(m, id, &r);
	if (!rc)
		rc = hammer_mknod(m, r.ino, "F", 1, S_IFREG | 0644, 0, 0, 0, &a);
	if (!rc && hammer_write(m, a.ino, 0, pattern + 300 + id, 6000) != 6000)
		rc = -EIO;
	if (!rc)
		rc = hammer_mkdir(m, r.ino, "G", 1, 0755, 0, 0, &a);
	hammer_ino_t g = a.ino;
	if (!rc)
		rc = hammer_mknod(m, g, "H", 1, S_IFREG | 0600, 0, 0, 0, &a);
	if (!rc && hammer_write(m, a.ino, 0, pattern + 900 + id, 300) != 300)
		rc = -EIO;
	return rc;
}

/*
 * One mirroring batch from PFS 3 into its slave PFS 5 (in the same
 * mount), as mirror-copy does it: from the slave's sync_end_tid + 1 to the
 * master's durable TID, through the stream codec in 64 KB pieces, ending
 * with the SYNC (hammer_mirror_write_sync, which syncs).  Nothing to do
 * when the range is empty.
 */
static int mirror_batch(struct hammer_mount *m)
{
	struct hammer_pseudofs_data spd, dpd;
	struct hammer_err err = { 0 };
	int rc = hammer_pfs_status(m, PFS_BASE_MASTER, &spd, &err);
	if (!rc)
		rc = hammer_pfs_status(m, PFS_MIRROR, &dpd, &err);
	if (rc)
		return rc;
	hammer_tid_t beg = dpd.sync_end_tid + 1, end = spd.sync_end_tid;
	if (beg > end)
		return 0;
	spd.sync_beg_tid = beg;
	struct hammer_mirror_apply w;
	rc = hammer_mirror_write_begin(m, PFS_MIRROR, &spd, &w, &err);
	if (rc)
		return rc;
	struct hammer_mirror_scan sc;
	hammer_mirror_scan_init(&sc, PFS_BASE_MASTER, beg, end, 0);
	uint8_t *buf = malloc(HAMMER_MREC_MAX);
	if (!buf)
		return -ENOMEM;
	while (!rc && !sc.done) {
		size_t len = 0, off = 0;
		rc = hammer_mirror_read(m, &sc, buf, HAMMER_MREC_MAX, &len, &err);
		while (!rc && off < len) {
			struct hammer_mrec r;
			int n = hammer_mrec_get(buf + off, len - off, &r, NULL, NULL, 0);
			if (n <= 0) {
				rc = -EPROTO;
				break;
			}
			rc = hammer_mirror_write_rec(m, &w, &r, &err);
			off += (size_t)n;
		}
	}
	free(buf);
	if (!rc)
		rc = hammer_mirror_write_sync(m, &w, &err);
	return rc;
}

/*
 * Changes to the master PFS 3 (variant v): a new file Xv, F appended;
 * variant 2 (the prologue's) also removes G/H.
 */
static int pfs3_change(struct hammer_mount *m, int v, hammer_ino_t *target)
{
	struct hammer_attr r, a;
	char nm[4] = { 'X', (char)('0' + v), 0, 0 };
	int rc = pfs_enter_root(m, PFS_BASE_MASTER, &r);
	if (!rc)
		rc = hammer_mknod(m, r.ino, nm, 2, S_IFREG | 0644, 0, 0, 0, &a);
	if (!rc && hammer_write(m, a.ino, 0, pattern + 1000 + v, 4000) != 4000)
		rc = -EIO;
	if (!rc)
		rc = hammer_lookup(m, r.ino, "F", 1, &a);
	if (!rc && hammer_write(m, a.ino, a.size, pattern + 2000 + v, 20000) != 20000)
		rc = -EIO;
	if (!rc)
		*target = a.ino;
	if (!rc && v == 2) {
		rc = hammer_lookup(m, r.ino, "G", 1, &a);
		if (!rc)
			rc = hammer_unlink(m, a.ino, "H", 1);
	}
	return rc;
}

/*
 * The starting tree (settled into the base): /A (file, 40000 bytes),
 * /B (file, 100 bytes), /D (dir) holding /D/C (file, 5000 bytes), /E (empty
 * dir).  The operations act on it; each names the object fsync applies to.
 */
static int setup_tree(struct hammer_mount *m)
{
	struct hammer_attr a;
	int rc = hammer_mknod(m, 1, "A", 1, S_IFREG | 0644, 0, 0, 0, &a);
	if (!rc && hammer_write(m, a.ino, 0, pattern, 40000) != 40000)
		rc = -EIO;
	if (!rc)
		rc = hammer_mknod(m, 1, "B", 1, S_IFREG | 0644, 0, 0, 0, &a);
	if (!rc && hammer_write(m, a.ino, 0, pattern + 7, 100) != 100)
		rc = -EIO;
	if (!rc)
		rc = hammer_mkdir(m, 1, "D", 1, 0755, 0, 0, &a);
	hammer_ino_t d = a.ino;
	if (!rc)
		rc = hammer_mknod(m, d, "C", 1, S_IFREG | 0600, 0, 0, 0, &a);
	if (!rc && hammer_write(m, a.ino, 0, pattern + 99, 5000) != 5000)
		rc = -EIO;
	if (!rc)
		rc = hammer_mkdir(m, 1, "E", 1, 0700, 0, 0, &a);
	if (!rc)
		rc = hammer_sync(m);
	return rc;
}

static int lookup_path(struct hammer_mount *m, const char *path, struct hammer_attr *a)
{
	hammer_ino_t cur = HAMMER_ROOT_INO;
	const char *p = path;
	int rc = hammer_getattr(m, cur, a);
	while (!rc && *p) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!n)
			break;
		rc = hammer_lookup(m, cur, p, n, a);
		cur = a->ino;
		p += n;
	}
	return rc;
}

/*
 * Prune PFS #0 as `hammer prune` does from its snapshots (our TIDs:
 * [s(i+1) + 1, s(i) + 1), then [1, sk + 1)), with `also` (a durable TID,
 * 0: none) kept as if it were the newest snapshot.
 */
static int prune_kept(struct hammer_mount *m, hammer_tid_t also,
		      struct hammer_prune_stats *st)
{
	struct hammer_snapshot *v;
	size_t n;
	int rc = hammer_snapshot_list(m, 0, &v, &n);
	if (rc)
		return rc;
	hammer_tid_t k[17];
	size_t nk = 0;
	if (also)
		k[nk++] = also;
	for (size_t i = n; i-- > 0 && nk < 17;)	/* newest first */
		if (v[i].tid < (nk ? k[nk - 1] : ~(hammer_tid_t)0))
			k[nk++] = v[i].tid;
	free(v);
	struct hammer_prune_elm e[17];
	for (size_t i = 0; i < nk; i++) {
		hammer_tid_t beg = i + 1 < nk ? k[i + 1] + 1 : 1;
		e[i] = (struct hammer_prune_elm){ beg, k[i] + 1, k[i] + 1 - beg };
	}
	return nk ? hammer_prune(m, 0, 0, e, nk, NULL, st) : 0;
}

/* Run one operation; *target gets the object to fsync. */
static int run_op(struct hammer_mount *m, enum op_kind k, int variant,
		  hammer_ino_t *target)
{
	struct hammer_attr a;
	int rc = 0;
	const char *nm = variant ? "N2" : "N1";
	switch (k) {
	case OP_CREATE:
		rc = hammer_mknod(m, 1, nm, 2, S_IFREG | 0644, 0, 0, 0, &a);
		*target = a.ino;
		break;
	case OP_MKDIR:
		rc = hammer_mkdir(m, 1, nm, 2, 0755, 0, 0, &a);
		*target = a.ino;
		break;
	case OP_APPEND:
		rc = lookup_path(m, "/A", &a);
		if (!rc && hammer_write(m, a.ino, a.size, pattern + 11 + variant,
					20000) != 20000)
			rc = -EIO;
		*target = a.ino;
		break;
	case OP_OVERWRITE:
		rc = lookup_path(m, "/A", &a);
		if (!rc && hammer_write(m, a.ino, 16384, pattern + 3 + variant,
					16384) != 16384)
			rc = -EIO;
		*target = a.ino;
		break;
	case OP_UNALIGNED:
		rc = lookup_path(m, "/D/C", &a);
		if (!rc && hammer_write(m, a.ino, 4999 + (uint64_t)variant * 13,
					pattern + 5, 12345) != 12345)
			rc = -EIO;
		*target = a.ino;
		break;
	case OP_TRUNC:
		rc = lookup_path(m, "/A", &a);
		if (!rc) {
			a.size = variant ? 70000 : 1234;
			rc = hammer_setattr(m, a.ino, &a, HAMMER_SET_SIZE);
		}
		*target = a.ino;
		break;
	case OP_LINK:
		rc = lookup_path(m, "/B", &a);
		if (!rc)
			rc = hammer_link(m, a.ino, 1, variant ? "L2" : "L1", 2, &a);
		*target = a.ino;
		break;
	case OP_UNLINK:
		rc = lookup_path(m, variant ? "/D" : "/", &a);
		if (!rc)
			rc = hammer_unlink(m, a.ino, variant ? "C" : "B", 1);
		*target = a.ino;
		break;
	case OP_RENAME:
		rc = lookup_path(m, "/D", &a);
		if (!rc && variant)	/* across directories, over a file */
			rc = hammer_rename(m, a.ino, "C", 1, 1, "B", 1, 0);
		else if (!rc)
			rc = hammer_rename(m, 1, "A", 1, a.ino, "R", 1, 0);
		*target = a.ino;
		break;
	case OP_RMDIR:
		rc = hammer_rmdir(m, 1, "E", 1);
		*target = HAMMER_ROOT_INO;
		break;
	case OP_SMALLWRITE:	/* fits one REDO record */
		rc = lookup_path(m, "/B", &a);
		if (!rc && hammer_write(m, a.ino, 50 + (uint64_t)variant * 7,
					pattern + 1000 + variant, 100) != 100)
			rc = -EIO;
		*target = a.ino;
		break;
	case OP_BIGWRITE:	/* past the dirty limit: data goes out early */
		rc = lookup_path(m, "/A", &a);
		for (uint64_t off = 0; !rc && off < BIGWRITE_BYTES; off += 100000)
			if (hammer_write(m, a.ino, a.size + off, pattern + 50 * (1 + variant),
					 100000) != 100000)
				rc = -EIO;
		*target = a.ino;
		break;
	case OP_SYMLINK:
		rc = hammer_symlink(m, 1, nm, 2,
				    variant ? "a/target/long/enough/to/need/a/record" : "short",
				    variant ? 37 : 5, 0, 0, &a);
		*target = a.ino;
		break;
	case OP_PFS_MASTER: {	/* then a file written through its root */
		struct hammer_pseudofs_data pd;
		struct hammer_attr r;
		pfs_data(&pd, PFS_NEW_MASTER, 0);
		rc = hammer_pfs_create(m, 1, "P", 1, PFS_NEW_MASTER, &pd, 0, 0, &a);
		if (!rc)
			rc = pfs_enter_root(m, PFS_NEW_MASTER, &r);
		if (!rc)
			rc = hammer_mknod(m, r.ino, nm, 2, S_IFREG | 0644, 0, 0, 0, &a);
		if (!rc && hammer_write(m, a.ino, 0, pattern + 77 + variant, 3000) != 3000)
			rc = -EIO;
		*target = a.ino;
		break;
	}
	case OP_PFS_SLAVE: {
		struct hammer_pseudofs_data pd;
		pfs_data(&pd, PFS_NEW_SLAVE, 1);
		rc = hammer_pfs_create(m, 1, "S", 1, PFS_NEW_SLAVE, &pd, 0, 0, &a);
		*target = a.ino;
		break;
	}
	case OP_PFS_DESTROY:	/* the master with files, then its link */
		rc = hammer_pfs_destroy(m, PFS_BASE_MASTER);
		if (!rc)
			rc = hammer_unlink(m, 1, "M", 1);
		*target = HAMMER_ROOT_INO;
		break;
	/*
	 * upgrade and downgrade change no inode of PFS #0: fsync goes to the
	 * link, which nothing else fsyncs, so it is a full sync (a fast one
	 * would promise only the link's REDO records).
	 */
	case OP_PFS_UPGRADE:
		rc = hammer_pfs_upgrade(m, PFS_BASE_SLAVE);
		if (!rc)
			rc = lookup_path(m, "/T", &a);
		*target = a.ino;
		break;
	case OP_PFS_DOWNGRADE:
		rc = hammer_pfs_downgrade(m, PFS_BASE_MASTER);
		if (!rc)
			rc = lookup_path(m, "/M", &a);
		*target = a.ino;
		break;
	case OP_PFS_WRITE:	/* then a sync: a mirror takes durable changes */
		rc = pfs3_change(m, variant, target);
		break;
	case OP_MIRROR:		/* fsync goes to the slave's link: a full sync */
		rc = mirror_batch(m);
		if (!rc)
			rc = lookup_path(m, "/U", &a);
		*target = a.ino;
		break;
	/*
	 * As `hammer snapshot`, `snaprm` and `config` do it through the
	 * control socket: the TID is synced first, and the change is synced
	 * before the command reports it done.
	 */
	case OP_SNAPSHOT: {
		hammer_tid_t t;
		struct hammer_snapshot sn = { .ts = 2000000 + (uint64_t)variant };
		snprintf(sn.label, sizeof(sn.label), "snap %s", nm);
		rc = hammer_synctid(m, &t);
		sn.tid = t;
		if (!rc)
			rc = hammer_snapshot_add(m, 0, &sn);
		if (!rc)
			rc = hammer_sync(m);
		*target = HAMMER_ROOT_INO;
		break;
	}
	case OP_SNAPRM: {
		struct hammer_snapshot *v;
		size_t n;
		rc = hammer_snapshot_list(m, 0, &v, &n);
		if (!rc) {	/* the base's: the oldest */
			rc = n ? hammer_snapshot_del(m, 0, v[0].tid) : -ENOENT;
			free(v);
		}
		if (!rc)
			rc = hammer_sync(m);
		*target = HAMMER_ROOT_INO;
		break;
	}
	/*
	 * As `hammer prune` builds the elements from the snapshots (our
	 * TIDs: [s(i+1) + 1, s(i) + 1), then [1, sk + 1)), and as
	 * `prune-everything` does it: the snapshots removed first, then all
	 * history.
	 */
	case OP_PRUNE: {
		struct hammer_prune_stats st;
		rc = prune_kept(m, 0, &st);
		if (!rc && variant == 0 && st.rawrecords == 0)
			rc = -ENODATA;	/* the prologue left history to prune */
		if (!rc)
			rc = hammer_sync(m);
		*target = HAMMER_ROOT_INO;
		break;
	}
	case OP_PRUNE_ALL: {
		struct hammer_snapshot *v;
		size_t n;
		struct hammer_prune_stats st;
		rc = hammer_snapshot_list(m, 0, &v, &n);
		for (size_t i = 0; i < n && !rc; i++)
			rc = hammer_snapshot_del(m, 0, v[i].tid);
		if (!rc)
			free(v);
		if (!rc)
			rc = hammer_prune(m, 0, HAMMER_PRUNE_ALL, NULL, 0, NULL, &st);
		if (!rc)
			rc = hammer_sync(m);
		*target = HAMMER_ROOT_INO;
		break;
	}
	/*
	 * reblock: everything moves (fill 100): every node, every record's
	 * data, the history a snapshot shows included.  reblock-fresh first
	 * appends to /A and fsyncs it, so data just made durable (through
	 * REDO in the fast fsync modes) moves too.
	 */
	case OP_REBLOCK_FRESH: {
		rc = lookup_path(m, "/A", &a);
		if (!rc && hammer_write(m, a.ino, a.size, pattern + 300 + variant, 30000) != 30000)
			rc = -EIO;
		if (!rc)
			rc = hammer_fsync(m, a.ino, 0);
	}
	/* fall through */
	case OP_REBLOCK: {
		struct hammer_reblock_stats st;
		if (!rc)
			rc = hammer_reblock(m, 0, HAMMER_REBLOCK_ALL, 100, NULL, &st);
		if (!rc && (st.data_moves == 0 || st.btree_moves == 0))
			rc = -ENODATA;	/* it no longer tests moving */
		if (!rc)
			rc = hammer_sync(m);
		*target = HAMMER_ROOT_INO;
		break;
	}
	/*
	 * rebalance: /D gets 300 entries, most removed again and pruned,
	 * synced (a durable state whose tree already equals the result),
	 * then the thinned leaves are packed.
	 */
	case OP_REBALANCE: {
		struct hammer_rebalance_stats st;
		rc = lookup_path(m, "/D", &a);
		hammer_ino_t d = a.ino;
		char nm[16];
		for (int i = 0; i < 300 && !rc; i++) {
			snprintf(nm, sizeof(nm), "r%d-%03d", variant, i);
			rc = hammer_mknod(m, d, nm, strlen(nm), S_IFREG | 0644, 0, 0, 0, &a);
		}
		for (int i = 0; i < 300 && !rc; i++) {
			if (i % 10 == 0)
				continue;
			snprintf(nm, sizeof(nm), "r%d-%03d", variant, i);
			rc = hammer_unlink(m, d, nm, strlen(nm));
		}
		/* history after the newest snapshot goes too: up to now */
		hammer_tid_t now;
		if (!rc)
			rc = hammer_synctid(m, &now);
		if (!rc)
			rc = prune_kept(m, now, &(struct hammer_prune_stats){ 0 });
		if (!rc)
			rc = hammer_sync(m);
		if (!rc)
			rc = hammer_rebalance(m, 0, 85, NULL, &st);
		if (!rc && variant == 0 && st.leaves_freed == 0)
			rc = -ENODATA;	/* it no longer tests repacking */
		if (!rc)
			rc = hammer_sync(m);
		*target = HAMMER_ROOT_INO;
		break;
	}
	case OP_CONFIG:
		rc = hammer_config_set(m, 0, variant ? "prune 1d 5m\n"
						     : "snapshots 0d 0d\nprune 1d 5m\n");
		if (!rc)
			rc = hammer_sync(m);
		*target = HAMMER_ROOT_INO;
		break;
	default:
		rc = -EINVAL;
	}
	return rc;
}

struct workload {
	char name[96];
	int nops;
	enum op_kind ops[2];
	enum sync_kind sync;
	/*
	 * REDO: every file of the tree is fsync'd once first (fsync_mode 2
	 * switches it to REDO), so the workload's fsyncs take the fast path:
	 * only the UNDO/REDO FIFO is written and stage 2 must replay it.
	 */
	int redo;
	/*
	 * PFS prologue (workloads with pfs-destroy, pfs-upgrade or
	 * pfs-downgrade): /M, the link of PFS 3, a master holding F and G/H
	 * (pfs_with_files), and /T, the link of PFS 4, the same downgraded to
	 * a slave, each step followed by sync.  Its crash states are judged
	 * too.  Kept out of the base so the other workloads' states stay as
	 * cheap as they were.
	 */
	int pfs;
	/*
	 * Snapshot prologue (workloads with snapshot, snaprm or config): a
	 * meta-data snapshot of the starting tree and a cleanup config, synced.
	 */
	int snap;
};

static int needs_snap_prologue(const enum op_kind *ops, int n)
{
	for (int i = 0; i < n; i++)
		if (ops[i] == OP_SNAPSHOT || ops[i] == OP_SNAPRM || ops[i] == OP_CONFIG ||
		    ops[i] == OP_PRUNE || ops[i] == OP_PRUNE_ALL || ops[i] == OP_REBLOCK ||
		    ops[i] == OP_REBLOCK_FRESH)
			return 1;
	return 0;
}

static int needs_pfs_prologue(const enum op_kind *ops, int n)
{
	for (int i = 0; i < n; i++)
		if (ops[i] == OP_PFS_DESTROY || ops[i] == OP_PFS_UPGRADE ||
		    ops[i] == OP_PFS_DOWNGRADE || ops[i] == OP_PFS_WRITE ||
		    ops[i] == OP_MIRROR)
			return 1;
	return 0;
}

/*
 * Whether the call must have ended with a barrier: sync always does, and
 * fsync and fdatasync in modes 0 and 2 (DragonFly's durable ones).
 */
static int promises_barrier(enum sync_kind k)
{
	return k == SY_SYNC || g_fsync_mode == 0 || g_fsync_mode == 2;
}

/* ---------------------------------------------------------- oracle */

struct oracle {
	char *dump[MAX_SYNCS + 1];
	struct fset fs[MAX_SYNCS + 1];	/* the regular files' contents */
	uint32_t closed[MAX_SYNCS + 1];	/* epochs closed when it completed */
	/*
	 * fast[i]: the call that completed state i was a fast fsync (it wrote
	 * only the FIFO), so a crash before it completed may show its write
	 * in part (mix_ok).
	 */
	int fast[MAX_SYNCS + 1];
	int n;
	int nfast;		/* fast fsyncs in this workload */
	uint64_t nfast_seen;	/* the mount's count at the last record */
};

static void oracle_free(struct oracle *o)
{
	for (int i = 0; i < o->n; i++) {
		free(o->dump[i]);
		fset_free(&o->fs[i]);
	}
	o->n = 0;
}

/*
 * Record the state after a completed call.  promised: the call wrote what
 * it keeps (sync, or fsync in modes 0 to 3); then the state is owed once
 * the epochs holding those writes are closed.  fsync in mode 4 writes
 * nothing, so its state is allowed but owed by nothing.
 */
static int oracle_record(struct oracle *o, struct hammer_mount *m, struct sim *s,
			 int promised)
{
	int rc;
	if (o->n == MAX_SYNCS + 1)
		return -ENOSPC;
	struct hammer_mount_info mi;
	rc = hammer_mount_info(m, &mi);
	if (rc)
		return rc;
	memset(&o->fs[o->n], 0, sizeof(o->fs[o->n]));
	o->fast[o->n] = mi.fast_fsyncs > o->nfast_seen;
	o->nfast += o->fast[o->n];
	o->nfast_seen = mi.fast_fsyncs;
	o->dump[o->n] = dump_fs(m, &o->fs[o->n], &rc);
	if (rc) {
		free(o->dump[o->n]);
		fset_free(&o->fs[o->n]);
		return rc;
	}
	uint32_t ep = sim_epochs(s);
	/* the open epoch is the last one; after a barrier it holds no write */
	o->closed[o->n] = !promised ? UINT32_MAX : sim_epoch_writes(s, ep - 1) ? ep
										: ep - 1;
	o->n++;
	return 0;
}

/* Lines of a dump: pointers into it, each line without its newline. */
struct lines {
	const char **p;
	size_t *len;
	size_t n;
};

static void lines_split(const char *d, struct lines *l)
{
	size_t cap = 16;
	l->n = 0;
	l->p = malloc(cap * sizeof(*l->p));
	l->len = malloc(cap * sizeof(*l->len));
	if (!l->p || !l->len)
		abort();
	while (*d) {
		const char *e = strchr(d, '\n');
		size_t n = e ? (size_t)(e - d) : strlen(d);
		if (l->n == cap) {
			cap *= 2;
			l->p = realloc(l->p, cap * sizeof(*l->p));
			l->len = realloc(l->len, cap * sizeof(*l->len));
			if (!l->p || !l->len)
				abort();
		}
		l->p[l->n] = d;
		l->len[l->n++] = n;
		d += n + (e ? 1 : 0);
	}
}

static void lines_free(struct lines *l)
{
	free(l->p);
	free(l->len);
}

/* A dump line's identity: "path mode nlink", up to the size field. */
static size_t line_key(const char *p, size_t len)
{
	const char *s = memmem(p, len, " s", 2);
	return s ? (size_t)(s - p) : len;
}

static int line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && !memcmp(a->p[i], b->p[j], a->len[i]);
}

static uint8_t byte_at(const struct fcont *c, uint64_t off)
{
	return off < c->size ? c->data[off] : 0;
}

/*
 * A crash during a fast fsync may show a write in part:
 * stage 2 re-executes the REDO records that reached the FIFO, one record
 * per piece of the write, so a torn or partly written FIFO replays some
 * pieces and not others.  That breaks no promise (the fsync had not
 * returned), but matches neither dump.  The tree d (contents in rf) passes
 * as a mix of dumps i and i+1 when every line equals that line of one of
 * the two, except regular files whose path, mode and link count agree in
 * all three, whose size lies between the two sizes, and every byte of
 * which is that byte of one of the two (zero past a file's end).  This is
 * weaker than the truth (a prefix of the pieces, in FIFO order) but keeps
 * every promise of the oracle: it is only asked for pairs at or after the
 * oldest dump the crash must show, where dump i+1 was completed by a fast
 * fsync.
 */
static int mix_ok(const char *d, const struct fset *rf, const struct oracle *o, int i)
{
	const struct fset *fo = &o->fs[i], *fn = &o->fs[i + 1];
	struct lines ld, lo, ln;
	lines_split(d, &ld);
	lines_split(o->dump[i], &lo);
	lines_split(o->dump[i + 1], &ln);
	int ok = ld.n == lo.n && ld.n == ln.n;
	for (size_t k = 0; ok && k < ld.n; k++) {
		if (line_eq(&ld, k, &ln, k) || line_eq(&ld, k, &lo, k))
			continue;
		size_t key = line_key(ld.p[k], ld.len[k]);
		ok = key == line_key(lo.p[k], lo.len[k]) &&
		     key == line_key(ln.p[k], ln.len[k]) &&
		     !memcmp(ld.p[k], lo.p[k], key) && !memcmp(ld.p[k], ln.p[k], key);
		/* the path is the key up to its first space */
		const char *sp = memchr(ld.p[k], ' ', key);
		size_t plen = sp ? (size_t)(sp - ld.p[k]) : key;
		const struct fcont *cd = ok ? fset_find(rf, ld.p[k], plen) : NULL;
		const struct fcont *co = ok ? fset_find(fo, ld.p[k], plen) : NULL;
		const struct fcont *cn = ok ? fset_find(fn, ld.p[k], plen) : NULL;
		ok = cd && co && cn;
		if (ok) {
			uint64_t lo_sz = co->size < cn->size ? co->size : cn->size;
			uint64_t hi_sz = co->size < cn->size ? cn->size : co->size;
			ok = cd->size >= lo_sz && cd->size <= hi_sz;
		}
		for (uint64_t x = 0; ok && x < cd->size; x++)
			ok = cd->data[x] == byte_at(co, x) || cd->data[x] == byte_at(cn, x);
	}
	lines_free(&ld);
	lines_free(&lo);
	lines_free(&ln);
	return ok;
}

/*
 * The oracle checks itself at every start: mix_ok must accept what a
 * partial replay can show and refuse the rest.  Returns the number of
 * wrong answers (each printed).
 */
static int oracle_self_test(void)
{
	static const uint8_t oldc[6] = { 1, 2, 3, 4, 5, 6 };
	static const uint8_t newc[8] = { 1, 9, 9, 4, 5, 6, 7, 8 };
	struct oracle o;
	memset(&o, 0, sizeof(o));
	o.n = 2;
	o.fast[1] = 1;
	o.dump[0] = "/\n/F 100644 n1 s6 h1\n/G 100644 n1 s0 h0\n";
	o.dump[1] = "/\n/F 100644 n1 s8 h2\n/G 100644 n1 s0 h0\n";
	struct fcont *c;
	for (int i = 0; i < 2; i++) {
		c = fset_add(&o.fs[i], "/F");
		c->size = i ? sizeof(newc) : sizeof(oldc);
		c->data = malloc(c->size);
		if (!c->data)
			abort();
		memcpy(c->data, i ? newc : oldc, c->size);
		fset_add(&o.fs[i], "/G");
	}
	static const struct {
		const char *dump;
		uint8_t data[8];
		uint64_t size;
		int want;
		const char *what;
	} cases[] = {
		{ "/\n/F 100644 n1 s7 h3\n/G 100644 n1 s0 h0\n",
		  { 1, 9, 3, 4, 5, 6, 7 }, 7, 1, "a mix, size between" },
		{ "/\n/F 100644 n1 s6 h3\n/G 100644 n1 s0 h0\n",
		  { 1, 9, 9, 4, 5, 6 }, 6, 1, "new bytes, old size" },
		{ "/\n/F 100644 n1 s7 h3\n/G 100644 n1 s0 h0\n",
		  { 1, 9, 3, 4, 5, 6, 0 }, 7, 1, "a piece not replayed reads zero" },
		{ "/\n/F 100644 n1 s7 h3\n/G 100644 n1 s0 h0\n",
		  { 1, 9, 7, 4, 5, 6, 7 }, 7, 0, "a byte from neither" },
		{ "/\n/F 100644 n1 s5 h3\n/G 100644 n1 s0 h0\n",
		  { 1, 9, 9, 4, 5 }, 5, 0, "shorter than both" },
		{ "/\n/F 100644 n2 s7 h3\n/G 100644 n1 s0 h0\n",
		  { 1, 9, 3, 4, 5, 6, 7 }, 7, 0, "a link count from neither" },
		{ "/\n/F 100644 n1 s7 h3\n",
		  { 1, 9, 3, 4, 5, 6, 7 }, 7, 0, "a file missing" },
		{ "/\n/F 100644 n1 s7 h3\n/G 100644 n1 s0 h0\n/H 100644 n1 s0 h0\n",
		  { 1, 9, 3, 4, 5, 6, 7 }, 7, 0, "a file more" },
	};
	int bad = 0;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct fset rf = { 0 };
		c = fset_add(&rf, "/F");
		c->size = cases[k].size;
		c->data = malloc(c->size);
		if (!c->data)
			abort();
		memcpy(c->data, cases[k].data, c->size);
		fset_add(&rf, "/G");
		fset_add(&rf, "/H");
		if (mix_ok(cases[k].dump, &rf, &o, 0) != cases[k].want) {
			printf("FAIL oracle self-test: %s: mix_ok says %s\n", cases[k].what,
			       cases[k].want ? "no" : "yes");
			bad++;
		}
		fset_free(&rf);
	}
	for (int i = 0; i < 2; i++)
		fset_free(&o.fs[i]);
	return bad;
}

/* The oldest recorded state a crash in epoch E must show (or later). */
static uint32_t min_sync_for(const struct oracle *o, uint32_t epoch)
{
	uint32_t j = 0;
	for (int i = 0; i < o->n; i++)
		if (o->closed[i] <= epoch)
			j = (uint32_t)i;
	return j;
}

/* ---------------------------------------------------------- mounting */

/* A deterministic clock per mount: images do not depend on the time of day. */
struct fake_clock {
	uint64_t now;
};

static uint64_t fake_now(void *ctx)
{
	struct fake_clock *c = ctx;
	return c->now += 1000;
}

/*
 * dirty_limit: 0 for the default; 1 makes the mount flush before nearly
 * every change, stage 2's re-executions included.
 */
static struct hammer_mount *mount_dev(struct hammer_bdev *bd, struct fake_clock *clk,
				      uint64_t dirty_limit, struct hammer_err *err,
				      int *rcp)
{
	struct hammer_mount_opts o;
	hammer_mount_opts_init(&o);
	o.fsync_mode = g_fsync_mode;
	o.cache_bytes = 4 << 20;
	o.dirty_limit = dirty_limit;
	o.clock = fake_now;
	o.clock_ctx = clk;
	clk->now = 1795306471000000ULL;
	struct hammer_mount *m = NULL;
	*rcp = hammer_mount_bdevs(&bd, 1, &o, &m, err);
	return m;
}

/* ---------------------------------------------------------- freemap proof */

/*
 * What the base's checks established: `ok` when the full recount was clean
 * with nothing in use outside what the file system reaches, and `skip` is
 * what the reachable recount of the base did not read.
 */
struct base_proof {
	int ok;
	struct hammer_fsck_range *skip;
	size_t nskip;
};

/* The reachable recount skipped what it skipped on the base. */
static int same_skips(const struct base_proof *bp, const struct hammer_fscheck_report *r)
{
	if (r->nskipped != bp->nskip)
		return 0;
	for (size_t i = 0; i < bp->nskip; i++)
		if (r->skipped[i].vol_no != bp->skip[i].vol_no ||
		    r->skipped[i].off != bp->skip[i].off ||
		    r->skipped[i].len != bp->skip[i].len)
			return 0;
	return 1;
}

/* 1 if the state device changed a skipped range itself (or cannot tell). */
static int state_touches(const struct base_proof *bp, struct hammer_bdev *bd)
{
	for (size_t i = 0; i < bp->nskip; i++)
		if (sim_state_touches(bd, bp->skip[i].off, bp->skip[i].len))
			return 1;
	return 0;
}

static int log_touches(const struct base_proof *bp, const struct sim *s)
{
	for (size_t i = 0; i < bp->nskip; i++)
		if (sim_log_touches(s, bp->skip[i].off, bp->skip[i].len))
			return 1;
	return 0;
}

/* Check the settled base as a state of s (nothing logged yet). */
static int prove_base(struct sim *s, struct base_proof *bp, char *why, size_t wlen)
{
	memset(bp, 0, sizeof(*bp));
	struct sim_state st;
	struct hammer_bdev *bd;
	sim_state_latest(s, &st);
	int rc = sim_state_open(s, &st, &bd);
	if (rc) {
		snprintf(why, wlen, "cannot open the base as a state: %d", rc);
		return rc;
	}
	struct fake_clock clk;
	struct hammer_err err = { 0 };
	struct hammer_mount *m = mount_dev(bd, &clk, 0, &err, &rc);
	if (rc) {
		snprintf(why, wlen, "base mount failed: %d %s", rc, err.msg);
		return rc;
	}
	struct hammer_fscheck_report r;
	memset(&r, 0, sizeof(r));
	rc = hammer_check(m, 0, &r, &err);
	if (rc || r.errors || !r.checkmap_run) {
		snprintf(why, wlen, "the base is not clean: rc %d, %zu errors, first: %s %s",
			 rc, (size_t)r.errors,
			 r.count ? hammer_fscheck_code_name(r.findings[0].code) : "-",
			 r.count ? r.findings[0].msg : err.msg);
		hammer_fscheck_report_free(&r);
		hammer_unmount(m);
		return rc ? rc : -EUCLEAN;
	}
	int ok = r.cm_unreachable_live == 0;
	hammer_fscheck_report_free(&r);
	rc = hammer_check(m, HAMMER_FSCK_CHECKMAP_REACHABLE, &r, &err);
	ok = ok && !rc && !r.errors && r.checkmap_run;
	for (size_t i = 0; ok && i < r.nskipped; i++)
		ok = r.skipped[i].vol_no == 0;	/* the sim is volume 0 */
	if (ok) {
		bp->skip = r.skipped;
		bp->nskip = r.nskipped;
		r.skipped = NULL;
		r.nskipped = 0;
	}
	bp->ok = ok;
	hammer_fscheck_report_free(&r);
	hammer_unmount(m);
	return 0;
}

/* ---------------------------------------------------------- checking */

struct stats {
	uint64_t states, failed, recrash_states;
	uint64_t mixed;		/* passed as a partial REDO write (mix_ok) */
	uint64_t cm_reachable, cm_full;	/* freemap recounts of each kind */
	double secs;		/* wall time judging states (jobs side by side) */
	double cpu;		/* CPU time judging states, all jobs */
};

/* How a state's freemap is recounted. */
enum cm_mode { CM_NONE, CM_FULL, CM_PROVEN };

struct level {			/* what a state's bytes stack on */
	struct sim *s;		/* its log */
	struct hammer_bdev *below;	/* the state under it (recrash), or NULL */
};

/*
 * Mount a crashed device and judge it; text goes to out.  Returns 0 when it
 * passes.  proof: the skipped ranges are not touched by any level below
 * this state (its own changes are checked here).
 */
static int judge(struct hammer_bdev *bd, const struct oracle *o, uint32_t min_sync,
		 enum cm_mode mode, const struct base_proof *bp,
		 const struct config *cf, struct stats *st, struct sbuf *why)
{
	struct hammer_err err = { 0 };
	struct fake_clock clk;
	int rc;
	struct hammer_mount *m = mount_dev(bd, &clk, 0, &err, &rc);
	if (rc) {
		sb_printf(why, "mount failed: %d %s", rc, err.msg);
		return -1;
	}
	unsigned flags = mode == CM_NONE ? HAMMER_FSCK_NO_CHECKMAP
		       : mode == CM_PROVEN ? HAMMER_FSCK_CHECKMAP_REACHABLE : 0;
	struct hammer_fscheck_report r;
	memset(&r, 0, sizeof(r));
	rc = hammer_check(m, flags, &r, &err);
	if (!rc && mode == CM_PROVEN) {
		if (r.checkmap_run && same_skips(bp, &r) && !state_touches(bp, bd)) {
			st->cm_reachable++;
			struct hammer_fscheck_report r2;
			memset(&r2, 0, sizeof(r2));
			if (cf->verify_proof &&
			    (hammer_check(m, 0, &r2, &err) || r2.errors != r.errors ||
			     !r2.checkmap_run)) {
				sb_printf(why, "the reachable recount found %zu errors, the "
					  "full one %zu", (size_t)r.errors, (size_t)r2.errors);
				hammer_fscheck_report_free(&r2);
				hammer_fscheck_report_free(&r);
				hammer_unmount(m);
				return -1;
			}
			hammer_fscheck_report_free(&r2);
		} else {
			/* the proof does not hold for this state: recount it all */
			hammer_fscheck_report_free(&r);
			memset(&r, 0, sizeof(r));
			rc = hammer_check(m, 0, &r, &err);
			st->cm_full++;
		}
	} else if (mode == CM_FULL) {
		st->cm_full++;
	}
	if (rc || r.errors) {
		sb_printf(why, "checker: rc %d, %zu errors, first: %s %s", rc,
			  (size_t)r.errors,
			  r.count ? hammer_fscheck_code_name(r.findings[0].code) : "-",
			  r.count ? r.findings[0].msg : err.msg);
		hammer_fscheck_report_free(&r);
		hammer_unmount(m);
		return -1;
	}
	hammer_fscheck_report_free(&r);
	char *d = dump_fs(m, NULL, &rc);
	int ok = -1;
	if (rc) {
		sb_printf(why, "reading the tree failed: %d %s", rc,
			  hammer_mount_error(m)->msg);
	} else {
		for (int i = (int)min_sync; i < o->n; i++)
			if (!strcmp(d, o->dump[i]))
				ok = 0;
		if (ok && o->nfast) {
			struct fset rf = { 0 };
			free(d);
			d = dump_fs(m, &rf, &rc);
			for (int i = (int)min_sync; !rc && ok && i + 1 < o->n; i++)
				if (o->fast[i + 1] && mix_ok(d, &rf, o, i)) {
					ok = 0;
					st->mixed++;
				}
			fset_free(&rf);
		}
		if (ok) {
			sb_printf(why, "tree matches no allowed state (sync %u..%d)",
				  min_sync, o->n - 1);
			if (cf->verbose)
				sb_printf(why, "\n--- recovered:\n%s--- oldest allowed:\n%s",
					  d, o->dump[min_sync]);
		}
	}
	free(d);
	rc = hammer_unmount(m);
	if (!ok && rc) {
		sb_printf(why, "unmount after recovery failed: %d", rc);
		ok = -1;
	}
	return ok;
}

/*
 * The freemap recount for the n-th state (1-based) of a walk: every
 * checkmap_every-th state, proven where the proof holds.  A state run
 * alone gets the full recount.
 */
static enum cm_mode cm_mode_for(const struct config *cf, uint64_t n, int proof_ok)
{
	if (cf->only_state)
		return CM_FULL;
	if (cf->checkmap_every > 1 && n % cf->checkmap_every)
		return CM_NONE;
	return proof_ok ? CM_PROVEN : CM_FULL;
}

static void fail_state(struct sbuf *out, struct stats *st, const struct workload *w,
		       const char *id, const char *why)
{
	st->failed++;
	sb_printf(out, "FAIL %s state %s: %s\n", w->name, id, why);
	sb_printf(out, "      rerun: crashloop --workload %s --state %s%s -v\n",
		  w->name, id, g_rerun_opts);
}

/*
 * Crash again during recovery: stack a second sim on the crashed state,
 * mount it (stage 1 writes go to the second sim's log), and judge every
 * crash state of that log.  The mount stays idle while its log is walked.
 */
static void recrash(struct hammer_bdev *state_bd, const struct oracle *o,
		    uint32_t min_sync, const struct workload *w, const char *id,
		    int proof_ok, const struct base_proof *bp,
		    const struct config *cf, struct stats *st, struct sbuf *out)
{
	struct sim_knobs k;
	sim_knobs_default(&k);
	k.sample_count = 64;
	k.garbage_safe_below = HEADER_SECTORS;
	if (o->nfast && cf->recrash_light) {
		/*
		 * A stage 2 that flushes between re-executions writes dozens
		 * of cycles: quick mode takes every prefix and small subsets,
		 * and leaves torn and garbage sectors to the full mode.
		 */
		k.max_subset_bits = 3;
		k.sample_count = 8;
		k.torn = 0;
		k.garbage = 0;
	}
	struct sim *s2;
	if (sim_open(state_bd, 0, &k, &s2)) {
		fail_state(out, st, w, id, "cannot stack a sim for the second crash");
		return;
	}
	struct hammer_err err = { 0 };
	struct fake_clock clk;
	int rc;
	/*
	 * After a fast fsync the recovery mount flushes between stage 2's
	 * re-executions, so the second crash also lands after a flush in the
	 * middle of stage 2 (whose REDO_SYNC must still name every REDO).
	 */
	struct hammer_mount *m = mount_dev(sim_bdev(s2), &clk, o->nfast ? 1 : 0, &err,
					   &rc);
	if (rc) {
		struct sbuf why = { 0 };
		sb_printf(&why, "recovery mount failed: %d %s", rc, err.msg);
		fail_state(out, st, w, id, why.p);
		free(why.p);
		return;
	}
	/* the first state's own changes and the second log, for the proof */
	proof_ok = proof_ok && !state_touches(bp, state_bd) && !log_touches(bp, s2);
	struct sim_enum *e;
	struct sim_state stt;
	char id2[SIM_ID_MAX + 2], full[2 * SIM_ID_MAX + 8];
	uint64_t n = 0;
	rc = sim_enum_begin(s2, &e);
	while (!rc && sim_enum_next(e, &stt) == 1) {
		sim_state_id(&stt, id2, sizeof(id2));
		snprintf(full, sizeof(full), "%s/%s", id, id2);
		if (cf->only_state && strcmp(full, cf->only_state))
			continue;
		struct hammer_bdev *bd;
		n++;
		if (sim_state_open(s2, &stt, &bd)) {
			fail_state(out, st, w, full, "cannot open the state");
			continue;
		}
		st->states++;
		st->recrash_states++;
		struct sbuf why = { 0 };
		if (judge(bd, o, min_sync, cm_mode_for(cf, n, proof_ok), bp, cf, st, &why))
			fail_state(out, st, w, full, why.p);
		else if (cf->verbose)
			sb_printf(out, "ok   %s state %s\n", w->name, full);
		free(why.p);
	}
	if (!rc)
		sim_enum_end(e);
	hammer_unmount(m);	/* closes s2; the state below stays the caller's */
}

/* ---------------------------------------------------------- one workload */

/* The settled base, built once; every workload forks from it. */
struct base {
	struct hammer_bdev *dev;	/* the formatted RAM volume */
	struct sim *s;
	struct hammer_mount *m;
	struct fake_clock clk;
	struct oracle o;		/* dump 0: the starting tree */
	struct base_proof proof;
};

static int base_build(struct base *b)
{
	memset(b, 0, sizeof(*b));
	struct hammer_err err = { 0 };
	int rc = hammer_bdev_ram_open(VOL_SIZE, "crash", &b->dev);
	if (rc)
		return rc;
	struct hammer_newfs_opts no;
	hammer_newfs_opts_init(&no);
	no.label = "CRASH";
	no.force = 1;
	no.undo_size = UNDO_SIZE;
	memset(&no.fsid, 0x5a, sizeof(no.fsid));
	no.ctime_us = 1795306471000000ULL;
	struct hammer_newfs_result res;
	rc = hammer_newfs_format(&b->dev, 1, &no, &res, &err);
	if (rc) {
		fprintf(stderr, "newfs: %s\n", err.msg);
		return rc;
	}
	/* the sim never writes its base: the formatted image stays pristine */
	struct sim_knobs k;
	sim_knobs_default(&k);
	k.garbage_safe_below = HEADER_SECTORS;
	rc = sim_open(b->dev, 0, &k, &b->s);
	if (rc)
		return rc;
	b->m = mount_dev(sim_bdev(b->s), &b->clk, 0, &err, &rc);
	/* the mount owns the sim's bdev: the sim lives until unmount */
	if (rc) {
		fprintf(stderr, "base mount: %s\n", err.msg);
		b->m = NULL;
		return rc;
	}
	rc = setup_tree(b->m);
	if (!rc)
		rc = sim_settle(b->s);
	if (!rc)
		rc = oracle_record(&b->o, b->m, b->s, 1);
	char why[700] = "";
	/* without the proof every state just gets the full recount */
	if (!rc && prove_base(b->s, &b->proof, why, sizeof(why)))
		fprintf(stderr, "crashloop: %s; every state gets the full freemap "
			"recount\n", why);
	return rc;
}

static void base_free(struct base *b)
{
	oracle_free(&b->o);
	free(b->proof.skip);
	if (b->m)
		hammer_unmount(b->m);	/* closes the sim */
	if (b->dev)
		hammer_bdev_close(b->dev);
}

/* What one job found in one workload. */
struct result {
	int rc;			/* the workload could not run: -errno */
	struct stats st;
	/* output: chunks of text, one per state that printed, in state order */
	uint64_t *idx;
	uint32_t *len;
	size_t n, cap;
	struct sbuf text;
};

static void result_add(struct result *r, uint64_t idx, const struct sbuf *t)
{
	if (!t->len)
		return;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->idx = realloc(r->idx, r->cap * sizeof(*r->idx));
		r->len = realloc(r->len, r->cap * sizeof(*r->len));
		if (!r->idx || !r->len)
			abort();
	}
	r->idx[r->n] = idx;
	r->len[r->n] = (uint32_t)t->len;
	r->n++;
	sb_add(&r->text, t->p, t->len);
}

static void result_free(struct result *r)
{
	free(r->idx);
	free(r->len);
	free(r->text.p);
	memset(r, 0, sizeof(*r));
}

/*
 * Run workload w on the base's mount (the caller's copy: a forked child)
 * and judge the states whose index is `job` modulo cf->jobs.
 */
static void run_workload(struct base *b, const struct workload *w, int job,
			 const struct config *cf, struct result *res)
{
	struct hammer_mount *m = b->m;
	struct sim *s = b->s;
	struct oracle *o = &b->o;
	int rc = 0;
	static const char *const files[] = { "/A", "/B", "/D/C" };
	o->nfast = 0;
	for (size_t i = 0; w->redo && i < sizeof(files) / sizeof(files[0]) && !rc; i++) {
		struct hammer_attr a;
		rc = lookup_path(m, files[i], &a);
		if (!rc)
			rc = hammer_fsync(m, a.ino, 0);
		if (!rc && i + 1 == sizeof(files) / sizeof(files[0]))
			rc = oracle_record(o, m, s, g_fsync_mode != 4);
	}
	if (w->snap && !rc) {
		/*
		 * /B: version 1 (the base's), 2 (synced), the snapshot, then 3:
		 * prune may destroy version 1 (no snapshot sees it), never 2.
		 */
		hammer_tid_t t;
		struct hammer_attr ba;
		rc = lookup_path(m, "/B", &ba);
		if (!rc && hammer_write(m, ba.ino, 0, pattern + 500, 100) != 100)
			rc = -EIO;
		if (!rc)
			rc = hammer_synctid(m, &t);
		if (!rc)
			rc = oracle_record(o, m, s, 1);
		if (!rc)
			rc = hammer_snapshot_add(m, 0, &(struct hammer_snapshot){
				.tid = t, .ts = 1000000, .label = "base" });
		if (!rc)
			rc = hammer_config_set(m, 0, "snapshots 1d 60d\n");
		if (!rc && hammer_write(m, ba.ino, 0, pattern + 600, 100) != 100)
			rc = -EIO;
		if (!rc)
			rc = hammer_sync(m);
		if (!rc)
			rc = oracle_record(o, m, s, 1);
		if (rc)
			fprintf(stderr, "%s: snapshot prologue failed: %d\n", w->name, rc);
	}
	if (w->pfs && !rc) {
		rc = pfs_with_files(m, PFS_BASE_MASTER, "M");
		if (!rc)
			rc = pfs_with_files(m, PFS_BASE_SLAVE, "T");
		if (!rc)
			rc = hammer_sync(m);
		if (!rc)
			rc = oracle_record(o, m, s, 1);
		if (!rc)
			rc = hammer_pfs_downgrade(m, PFS_BASE_SLAVE);
		if (!rc)
			rc = hammer_sync(m);
		if (!rc)
			rc = oracle_record(o, m, s, 1);
		/*
		 * /U: PFS 5, a slave of PFS 3, mirrored once; then PFS 3 changes
		 * (synced) so that mirror-write has a batch with inserts,
		 * deletions and appends to carry.
		 */
		struct hammer_pseudofs_data pd, m3;
		struct hammer_attr la;
		struct hammer_err e3 = { 0 };
		hammer_ino_t ignored;
		pfs_data(&pd, PFS_MIRROR, 1);
		if (!rc)
			rc = hammer_pfs_status(m, PFS_BASE_MASTER, &m3, &e3);
		pd.shared_uuid = m3.shared_uuid;
		if (!rc)
			rc = hammer_pfs_create(m, 1, "U", 1, PFS_MIRROR, &pd, 0, 0, &la);
		if (!rc)
			rc = hammer_sync(m);
		if (!rc)
			rc = oracle_record(o, m, s, 1);
		if (!rc)
			rc = mirror_batch(m);
		if (!rc)
			rc = oracle_record(o, m, s, 1);
		if (!rc)
			rc = pfs3_change(m, 2, &ignored);
		if (!rc)
			rc = hammer_sync(m);
		if (!rc)
			rc = oracle_record(o, m, s, 1);
		if (rc)
			fprintf(stderr, "%s: PFS prologue failed: %d\n", w->name, rc);
	}
	for (int i = 0; i < w->nops && !rc; i++) {
		hammer_ino_t t = HAMMER_ROOT_INO;
		struct hammer_mount_info mi0, mi1;
		hammer_mount_info(m, &mi0);
		rc = run_op(m, w->ops[i], i, &t);
		hammer_mount_info(m, &mi1);
		/*
		 * Only as the first operation: after an fsync of /A, the
		 * file's writes lay REDO records, whose FIFO share makes the
		 * engine run a cycle instead.
		 */
		if (!rc && i == 0 && w->ops[i] == OP_BIGWRITE &&
		    mi1.data_writebacks == mi0.data_writebacks) {
			fprintf(stderr, "%s: op %d (bigwrite) wrote no data before its "
				"cycle: it no longer tests early data write-back\n",
				w->name, i);
			rc = -EPROTO;
		}
		if (rc) {
			fprintf(stderr, "%s: op %d (%s) failed: %d\n", w->name, i,
				op_names[w->ops[i]], rc);
			break;
		}
		if (w->sync == SY_SYNC)
			rc = hammer_sync(m);
		else
			rc = hammer_fsync(m, t, w->sync == SY_FDATASYNC);
		/*
		 * A call that promises durability must end with a barrier:
		 * nothing it wrote may still wait in the open epoch.
		 */
		uint32_t open_ep = sim_epochs(s) - 1;
		if (!rc && job == 0 && promises_barrier(w->sync) &&
		    sim_epoch_writes(s, open_ep)) {
			struct sbuf out = { 0 };
			res->st.failed++;
			sb_printf(&out, "FAIL %s: the %s after op %d returned with %u "
				  "writes after its last barrier (fsync_mode %d "
				  "promises durability)\n      rerun: crashloop "
				  "--workload %s%s\n", w->name,
				  sync_names[w->sync], i,
				  (unsigned)sim_epoch_writes(s, open_ep), g_fsync_mode,
				  w->name, g_rerun_opts);
			result_add(res, 0, &out);
			free(out.p);
		}
		if (!rc)
			rc = oracle_record(o, m, s, w->sync == SY_SYNC || g_fsync_mode != 4);
	}
	if (rc) {
		res->rc = rc;
		return;
	}
	int proof_ok = b->proof.ok && !log_touches(&b->proof, s);
	/* enumerate while the mount is idle: nothing writes the sim */
	struct sim_enum *e;
	rc = sim_enum_begin(s, &e);
	struct sim_state stt;
	char id[SIM_ID_MAX];
	struct timespec t0, t1, c0, c1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	struct stats *st = &res->st;
	for (uint64_t idx = 0; !rc && (rc = sim_enum_next(e, &stt)) == 1; idx++) {
		rc = 0;
		if (idx % (uint64_t)cf->jobs != (uint64_t)job)
			continue;
		sim_state_id(&stt, id, sizeof(id));
		/* "ID" names a state, "ID/ID2" a state of its recovery's log */
		const char *slash = cf->only_state ? strchr(cf->only_state, '/') : NULL;
		size_t idlen = !cf->only_state ? 0 : slash ? (size_t)(slash - cf->only_state)
							  : strlen(cf->only_state);
		if (cf->only_state &&
		    (strlen(id) != idlen || memcmp(id, cf->only_state, idlen)))
			continue;
		struct hammer_bdev *bd;
		rc = sim_state_open(s, &stt, &bd);
		if (rc)
			break;
		struct sbuf out = { 0 }, why = { 0 };
		uint32_t ms = min_sync_for(o, stt.epoch);
		if (slash) {
			hammer_bdev_close(bd);	/* only the recrash state */
		} else {
			st->states++;
			if (judge(bd, o, ms, cm_mode_for(cf, idx + 1, proof_ok), &b->proof,
				  cf, st, &why))
				fail_state(&out, st, w, id, why.p);
			else if (cf->verbose)
				sb_printf(&out, "ok   %s state %s (sync >= %u)\n", w->name,
					  id, ms);
		}
		free(why.p);
		/*
		 * Workloads with a fast fsync: also every state that must show
		 * the last call whole, where a flush in the middle of stage 2
		 * followed by a crash must not lose the REDOs not yet
		 * re-executed.
		 */
		int every = o->nfast && cf->redo_recrash_every ? cf->redo_recrash_every
							       : cf->recrash_every;
		int again = slash || (every && (idx + 1) % (uint64_t)every == 0) ||
			    (o->nfast && cf->redo_recrash_every &&
			     (int)ms == o->n - 1);
		if (again && sim_state_open(s, &stt, &bd) == 0) {
			recrash(bd, o, ms, w, id, proof_ok, &b->proof, cf, st, &out);
			hammer_bdev_close(bd);
		}
		result_add(res, idx, &out);
		free(out.p);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	st->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	st->cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	sim_enum_end(e);
	res->rc = rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------- jobs */

/* A result through a pipe: a fixed head, the chunk table, the text. */
struct wire {
	int32_t rc;
	uint32_t n;
	uint64_t textlen;
	struct stats st;
};

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;
	while (n) {
		ssize_t k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

static int send_result(int fd, const struct result *r)
{
	struct wire h = { .rc = r->rc, .n = (uint32_t)r->n, .textlen = r->text.len,
			  .st = r->st };
	if (write_all(fd, &h, sizeof(h)) ||
	    (r->n && (write_all(fd, r->idx, r->n * sizeof(*r->idx)) ||
		      write_all(fd, r->len, r->n * sizeof(*r->len)))) ||
	    (r->text.len && write_all(fd, r->text.p, r->text.len)))
		return -1;
	return 0;
}

/* Decode a complete message; 0, or -1 if it is short or malformed. */
static int parse_result(const struct sbuf *in, struct result *r)
{
	struct wire h;
	if (in->len < sizeof(h))
		return -1;
	memcpy(&h, in->p, sizeof(h));
	size_t need = sizeof(h) + (size_t)h.n * (sizeof(uint64_t) + sizeof(uint32_t)) +
		      h.textlen;
	if (in->len != need)
		return -1;
	memset(r, 0, sizeof(*r));
	r->rc = h.rc;
	r->st = h.st;
	r->n = r->cap = h.n;
	const char *p = in->p + sizeof(h);
	if (h.n) {
		r->idx = malloc(h.n * sizeof(*r->idx));
		r->len = malloc(h.n * sizeof(*r->len));
		if (!r->idx || !r->len)
			abort();
		memcpy(r->idx, p, h.n * sizeof(*r->idx));
		p += h.n * sizeof(*r->idx);
		memcpy(r->len, p, h.n * sizeof(*r->len));
		p += h.n * sizeof(*r->len);
	}
	uint64_t sum = 0;
	for (size_t i = 0; i < r->n; i++)
		sum += r->len[i];
	if (sum != h.textlen)
		return -1;
	if (h.textlen)
		sb_add(&r->text, p, h.textlen);
	return 0;
}

/*
 * Run workload w with cf->jobs children forked from the base and merge
 * what they found into one result, chunks in state order.
 */
static int run_jobs(struct base *b, const struct workload *w, const struct config *cf,
		    struct result *out)
{
	int nj = cf->jobs, started_rc = 0;
	pid_t pid[MAX_JOBS];
	int fd[MAX_JOBS];
	struct sbuf in[MAX_JOBS];
	memset(in, 0, sizeof(in));
	fflush(stdout);
	fflush(stderr);
	for (int k = 0; k < nj; k++) {
		int p[2];
		if (pipe(p)) {
			started_rc = -errno;
			nj = k;	/* collect the jobs started; the workload fails */
			break;
		}
		pid[k] = fork();
		if (pid[k] < 0) {
			started_rc = -errno;
			close(p[0]);
			close(p[1]);
			nj = k;
			break;
		}
		if (pid[k] == 0) {
			close(p[0]);
			for (int j = 0; j < k; j++)
				close(fd[j]);
			struct result r;
			memset(&r, 0, sizeof(r));
			run_workload(b, w, k, cf, &r);
			int bad = send_result(p[1], &r);
			close(p[1]);
			result_free(&r);
			base_free(b);	/* the child's copy: leak checkers stay quiet */
			exit(bad ? 3 : 0);
		}
		close(p[1]);
		fd[k] = p[0];
	}
	/* read every pipe to its end (children block on full pipes) */
	int open_fds = nj;
	while (open_fds) {
		struct pollfd pf[MAX_JOBS];
		int map[MAX_JOBS], np = 0;
		for (int k = 0; k < nj; k++)
			if (fd[k] >= 0) {
				pf[np].fd = fd[k];
				pf[np].events = POLLIN;
				map[np++] = k;
			}
		if (poll(pf, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			started_rc = -errno;	/* give up: the jobs see EPIPE */
			for (int k = 0; k < nj; k++)
				if (fd[k] >= 0) {
					close(fd[k]);
					fd[k] = -1;
				}
			break;
		}
		for (int i = 0; i < np; i++) {
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			int k = map[i];
			char buf[65536];
			ssize_t n = read(fd[k], buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n > 0) {
				sb_add(&in[k], buf, (size_t)n);
				continue;
			}
			close(fd[k]);
			fd[k] = -1;
			open_fds--;
		}
	}
	struct result part[MAX_JOBS];
	int rc = 0;
	memset(out, 0, sizeof(*out));
	for (int k = 0; k < nj; k++) {
		int status = 0;
		while (waitpid(pid[k], &status, 0) < 0 && errno == EINTR)
			;
		memset(&part[k], 0, sizeof(part[k]));
		if (!WIFEXITED(status) || WEXITSTATUS(status) || parse_result(&in[k], &part[k])) {
			fprintf(stderr, "crashloop: %s: job %d died (%s %d)\n", w->name, k,
				WIFSIGNALED(status) ? "signal" : "status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			rc = -ECHILD;
		}
		free(in[k].p);
	}
	/* merge: the chunks of each part are in state order */
	size_t pos[MAX_JOBS] = { 0 }, off[MAX_JOBS] = { 0 };
	for (;;) {
		int best = -1;
		for (int k = 0; k < nj; k++)
			if (pos[k] < part[k].n &&
			    (best < 0 || part[k].idx[pos[k]] < part[best].idx[pos[best]]))
				best = k;
		if (best < 0)
			break;
		struct sbuf t = { .p = part[best].text.p + off[best],
				  .len = part[best].len[pos[best]] };
		result_add(out, part[best].idx[pos[best]], &t);
		off[best] += t.len;
		pos[best]++;
	}
	for (int k = 0; k < nj; k++) {
		struct stats *s = &part[k].st;
		out->st.states += s->states;
		out->st.failed += s->failed;
		out->st.recrash_states += s->recrash_states;
		out->st.mixed += s->mixed;
		out->st.cm_reachable += s->cm_reachable;
		out->st.cm_full += s->cm_full;
		if (s->secs > out->st.secs)
			out->st.secs = s->secs;	/* the jobs ran side by side */
		out->st.cpu += s->cpu;
		if (!out->rc)
			out->rc = part[k].rc;
		result_free(&part[k]);
	}
	if (!out->rc)
		out->rc = started_rc ? started_rc : rc;
	return 0;
}

/* ---------------------------------------------------------- main */

/*
 * Which operation sequences can run: a model of the names the operations
 * use (run_op), so the generator leaves out a pair whose second operation
 * must fail on what the first did (link /B after unlink /B, say) instead
 * of running it and calling the failure a bug.
 */
enum {
	P_A = 1 << 0, P_B = 1 << 1, P_DC = 1 << 2, P_E = 1 << 3, P_D = 1 << 4,
	P_N1 = 1 << 5, P_N2 = 1 << 6, P_L1 = 1 << 7, P_L2 = 1 << 8, P_DR = 1 << 9,
	/*
	 * PFSs: 1 (/P) and 2 (/S) made, 3 (/M) live, 3 a slave, 4 (/T) a
	 * slave; 3 and 4 come from the PFS prologue, which every workload
	 * with an operation on them runs.
	 */
	P_PFS1 = 1 << 10, P_PFS2 = 1 << 11, P_PFS3 = 1 << 12, P_PFS3S = 1 << 13,
	P_PFS4S = 1 << 14,
	P_PFS3W = 1 << 15,	/* pfs-write ran (its names are taken) */
	P_SNAPB = 1 << 16,	/* the base's snapshot is there */
	P_START = P_A | P_B | P_DC | P_E | P_D | P_PFS3 | P_PFS4S | P_SNAPB
};

/* Apply op k (variant v) to the name set *ns; 0 if it cannot run. */
static int model_op(unsigned *ns, enum op_kind k, int v)
{
	unsigned have = *ns, n = v ? P_N2 : P_N1, l = v ? P_L2 : P_L1;
	switch (k) {
	case OP_CREATE:
	case OP_MKDIR:
	case OP_SYMLINK:
		if (have & n)
			return 0;
		*ns |= n;
		return 1;
	case OP_APPEND:
	case OP_OVERWRITE:
	case OP_TRUNC:
	case OP_BIGWRITE:
		return !!(have & P_A);
	case OP_UNALIGNED:
		return !!(have & P_DC);
	case OP_SMALLWRITE:
		return !!(have & P_B);
	case OP_LINK:
		if (!(have & P_B) || (have & l))
			return 0;
		*ns |= l;
		return 1;
	case OP_UNLINK:
		if (!(have & (v ? P_DC : P_B)))
			return 0;
		*ns &= ~(unsigned)(v ? P_DC : P_B);
		return 1;
	case OP_RENAME:
		if (v) {	/* /D/C over /B */
			if (!(have & P_DC))
				return 0;
			*ns = (have & ~(unsigned)P_DC) | P_B;
		} else {	/* /A to /D/R */
			if (!(have & P_A) || (have & P_DR))
				return 0;
			*ns = (have & ~(unsigned)P_A) | P_DR;
		}
		return 1;
	case OP_RMDIR:
		if (!(have & P_E))
			return 0;
		*ns &= ~(unsigned)P_E;
		return 1;
	case OP_PFS_MASTER:	/* -EEXIST the second time */
	case OP_PFS_SLAVE: {
		unsigned p = k == OP_PFS_MASTER ? P_PFS1 : P_PFS2;
		if (have & p)
			return 0;
		*ns |= p;
		return 1;
	}
	case OP_PFS_DESTROY:	/* a master or, after downgrade, a slave */
		if (!(have & P_PFS3))
			return 0;
		*ns &= ~(unsigned)(P_PFS3 | P_PFS3S);
		return 1;
	case OP_PFS_UPGRADE:	/* a second one would do nothing */
		if (!(have & P_PFS4S))
			return 0;
		*ns &= ~(unsigned)P_PFS4S;
		return 1;
	case OP_PFS_DOWNGRADE:
		if (!(have & P_PFS3) || (have & P_PFS3S))
			return 0;
		*ns |= P_PFS3S;
		return 1;
	case OP_PFS_WRITE:	/* a live master */
		if (!(have & P_PFS3) || (have & P_PFS3S) || (have & P_PFS3W))
			return 0;
		*ns |= P_PFS3W;
		return 1;
	case OP_MIRROR:		/* its source must be live */
		return !!(have & P_PFS3);
	case OP_SNAPSHOT:
	case OP_CONFIG:
	case OP_PRUNE:
	case OP_REBLOCK:
	case OP_REBALANCE:
		return 1;
	case OP_REBLOCK_FRESH:
		return !!(have & P_A);
	case OP_PRUNE_ALL:	/* it removes every snapshot */
		*ns &= ~(unsigned)P_SNAPB;
		return 1;
	case OP_SNAPRM:		/* it removes the oldest: the base's */
		if (!(have & P_SNAPB))
			return 0;
		*ns &= ~(unsigned)P_SNAPB;
		return 1;
	default:
		return 0;
	}
}

static int model_ok(const enum op_kind *ops, int n)
{
	unsigned ns = P_START;
	for (int i = 0; i < n; i++)
		if (!model_op(&ns, ops[i], i))
			return 0;
	return 1;
}

/*
 * The workloads, in a fixed order.  Returns how many; *invalid counts the
 * pair workloads left out because their second operation cannot run,
 * *slow those left out for time.
 */
static int make_workloads(struct workload *w, int max, int full, int *invalid,
			  int *slow)
{
	int n = 0;
	*invalid = *slow = 0;
	for (int a = 0; a < OP_KINDS; a++)
		for (int s = 0; s < SY_KINDS; s++) {
			if (!full && s == SY_FDATASYNC)
				continue;
			if (n == max)
				return n;
			w[n] = (struct workload){ .nops = 1, .ops = { (enum op_kind)a },
						  .sync = (enum sync_kind)s,
						  .pfs = needs_pfs_prologue(
							  (enum op_kind[]){ (enum op_kind)a }, 1),
						  .snap = needs_snap_prologue(
							  (enum op_kind[]){ (enum op_kind)a }, 1) };
			snprintf(w[n].name, sizeof(w[n].name), "%s+%s", op_names[a],
				 sync_names[s]);
			n++;
		}
	/*
	 * REDO: the operations whose fsync replays from the FIFO alone (the
	 * files exist and were fsync'd first).  Writes spanning several REDO
	 * records may show in part after a crash during the fsync (mix_ok).
	 */
	static const enum op_kind redo_ops[] = {
		OP_SMALLWRITE, OP_TRUNC, OP_APPEND, OP_OVERWRITE, OP_UNALIGNED
	};
	const size_t nredo = sizeof(redo_ops) / sizeof(redo_ops[0]);
	for (size_t a = 0; a < nredo; a++) {
		if (n == max)
			return n;
		w[n] = (struct workload){ .nops = 1, .ops = { redo_ops[a] },
					  .sync = SY_FSYNC, .redo = 1 };
		snprintf(w[n].name, sizeof(w[n].name), "redo:%s+fsync",
			 op_names[redo_ops[a]]);
		n++;
	}
	for (size_t a = 0; full && a < nredo; a++)
		for (size_t b = 0; b < nredo; b++) {
			if (n == max)
				return n;
			w[n] = (struct workload){ .nops = 2,
				.ops = { redo_ops[a], redo_ops[b] }, .sync = SY_FSYNC,
				.redo = 1 };
			snprintf(w[n].name, sizeof(w[n].name), "redo:%s+fsync,%s+fsync",
				 op_names[redo_ops[a]], op_names[redo_ops[b]]);
			n++;
		}
	if (!full)
		return n;	/* quick: every single operation */
	for (int a = 0; a < OP_KINDS; a++)
		for (int b = 0; b < OP_KINDS; b++) {
			enum op_kind ops[2] = { (enum op_kind)a, (enum op_kind)b };
			if (!model_ok(ops, 2)) {
				*invalid += SY_KINDS;
				continue;
			}
			for (int s = 0; s < SY_KINDS; s++) {
				/*
				 * bigwrite after an fsync of /A goes through REDO:
				 * 3,500 records, and every recrash state of it
				 * re-executes them with a flush before each (hours).
				 */
				if (b == OP_BIGWRITE && s != SY_SYNC &&
				    (a == OP_APPEND || a == OP_OVERWRITE ||
				     a == OP_TRUNC || a == OP_BIGWRITE)) {
					(*slow)++;
					continue;
				}
				if (n == max)
					return n;
				w[n] = (struct workload){ .nops = 2,
					.ops = { ops[0], ops[1] },
					.sync = (enum sync_kind)s,
					.pfs = needs_pfs_prologue(ops, 2),
					.snap = needs_snap_prologue(ops, 2) };
				snprintf(w[n].name, sizeof(w[n].name), "%s+%s,%s+%s",
					 op_names[a], sync_names[s], op_names[b],
					 sync_names[s]);
				n++;
			}
		}
	return n;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: crashloop [--quick|--full] [--workload NAME [--state ID]] [-v]\n"
		"  --quick      every single operation with fsync and sync (default)\n"
		"  --full       every operation and pair with fsync, fdatasync, sync\n"
		"  --limit N    stop after N workloads\n"
		"  --recrash N  crash every N-th state again during its recovery\n"
		"  --redo-recrash N  the same after a fast fsync (default 50; 0: as\n"
		"               --recrash), also every state holding the whole last\n"
		"               fsync; the recovery mount flushes between REDO\n"
		"               re-executions\n"
		"  --checkmap-every N  freemap recount on every N-th state (1)\n"
		"  --jobs N     judge states in N processes (default: online CPUs)\n"
		"  --verify-proof  where the freemap proof holds, run the full recount\n"
		"               too and require the same number of errors (slow)\n"
		"  --workload   run only this workload (name as printed)\n"
		"  --match TEXT run only the workloads whose name holds TEXT\n"
		"               (--full --match pfs: the PFS operations and pairs)\n"
		"  --state      check only this crash state id\n"
		"  --fsync-mode N  fsync_mode of the mounts (2; 0 and 2 promise\n"
		"               durability at fsync, 1 and 3 do not, 4 ignores it)\n");
}

static int parse_num(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == 0 || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	int full = 0, limit = 1 << 30;
	const char *only_w = NULL, *match = NULL;
	struct config cf = { .checkmap_every = 1, .redo_recrash_every = 50 };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cf.jobs = ncpu < 1 ? 1 : ncpu > MAX_JOBS ? MAX_JOBS : (int)ncpu;
	for (int i = 1; i < argc; i++) {
		int v;
		if (!strcmp(argv[i], "--quick"))
			full = 0;
		else if (!strcmp(argv[i], "--full"))
			full = 1;
		else if (!strcmp(argv[i], "-v"))
			cf.verbose = 1;
		else if (!strcmp(argv[i], "--workload") && i + 1 < argc)
			only_w = argv[++i];
		else if (!strcmp(argv[i], "--match") && i + 1 < argc)
			match = argv[++i];
		else if (!strcmp(argv[i], "--state") && i + 1 < argc)
			cf.only_state = argv[++i];
		else if (!strcmp(argv[i], "--limit") && i + 1 < argc &&
			 !parse_num(argv[++i], 0, 1 << 30, &v))
			limit = v;
		else if (!strcmp(argv[i], "--recrash") && i + 1 < argc &&
			 !parse_num(argv[++i], 0, 1 << 30, &v))
			cf.recrash_every = v;
		else if (!strcmp(argv[i], "--redo-recrash") && i + 1 < argc &&
			 !parse_num(argv[++i], 0, 1 << 30, &v))
			cf.redo_recrash_every = v;
		else if (!strcmp(argv[i], "--checkmap-every") && i + 1 < argc &&
			 !parse_num(argv[++i], 0, 1 << 30, &v))
			cf.checkmap_every = (unsigned)v;
		else if (!strcmp(argv[i], "--fsync-mode") && i + 1 < argc &&
			 !parse_num(argv[++i], 0, 4, &v))
			g_fsync_mode = v;
		else if (!strcmp(argv[i], "--verify-proof"))
			cf.verify_proof = 1;
		else if (!strcmp(argv[i], "--jobs") && i + 1 < argc &&
			 !parse_num(argv[++i], 1, MAX_JOBS, &v))
			cf.jobs = v;
		else {
			usage();
			return 2;
		}
	}
	cf.recrash_light = !full;
	snprintf(g_rerun_opts, sizeof(g_rerun_opts), "%s", full ? " --full" : "");
	if (g_fsync_mode != 2)
		snprintf(g_rerun_opts + strlen(g_rerun_opts),
			 sizeof(g_rerun_opts) - strlen(g_rerun_opts), " --fsync-mode %d",
			 g_fsync_mode);
	int self_bad = oracle_self_test();
	if (self_bad) {
		printf("0 passed, %d failed\n", self_bad);
		return 1;
	}
	uint64_t x = 42;
	for (size_t i = 0; i < sizeof(pattern); i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		pattern[i] = (uint8_t)(x >> 56);
	}
	static struct workload w[4096];
	int invalid, slow;
	int nw = make_workloads(w, 4096, full || only_w, &invalid, &slow);
	if (nw == 4096) {
		fprintf(stderr, "crashloop: more workloads than the table holds\n");
		return 2;
	}
	struct base b;
	int rc = base_build(&b);
	if (rc) {
		fprintf(stderr, "crashloop: cannot build the base: %s\n", strerror(-rc));
		base_free(&b);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	struct stats st = { 0 };
	int ran = 0, errors = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < nw && ran < limit; i++) {
		if ((only_w && strcmp(only_w, w[i].name)) ||
		    (match && !strstr(w[i].name, match)))
			continue;
		struct result r;
		rc = run_jobs(&b, &w[i], &cf, &r);
		ran++;
		if (!rc)
			rc = r.rc;
		for (size_t k = 0, off = 0; k < r.n; off += r.len[k], k++)
			fwrite(r.text.p + off, 1, r.len[k], stdout);
		if (rc) {
			printf("FAIL %s: workload could not run: %s\n", w[i].name,
			       strerror(-rc));
			errors++;
		}
		printf("%-40s %6" PRIu64 " states %4" PRIu64 " failed\n", w[i].name,
		       r.st.states, r.st.failed);
		fflush(stdout);
		st.states += r.st.states;
		st.failed += r.st.failed;
		st.recrash_states += r.st.recrash_states;
		st.mixed += r.st.mixed;
		st.cm_reachable += r.st.cm_reachable;
		st.cm_full += r.st.cm_full;
		st.secs += r.st.secs;
		st.cpu += r.st.cpu;
		result_free(&r);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	base_free(&b);
	if (only_w && !ran) {
		fprintf(stderr, "crashloop: no workload named %s\n", only_w);
		return 2;
	}
	printf("freemap recount on %" PRIu64 " states: %" PRIu64 " reachable part "
	       "(rest proven unchanged since the base), %" PRIu64 " whole; "
	       "%.1f s wall with workloads\n", st.cm_reachable + st.cm_full,
	       st.cm_reachable, st.cm_full, wall);
	if (full && !only_w && !match)
		printf("pair workloads left out: %d whose second operation cannot run "
		       "after the first (the name model of make_workloads), %d with "
		       "a bigwrite through REDO\n", invalid, slow);
	printf("%d workloads, %" PRIu64 " crash states (%" PRIu64 " after a second "
	       "crash in recovery) in %.1f s (%.0f states/s, %d jobs; %.0f states "
	       "per CPU-second)\n", ran, st.states, st.recrash_states, st.secs,
	       st.secs > 0 ? (double)st.states / st.secs : 0.0, cf.jobs,
	       st.cpu > 0 ? (double)st.states / st.cpu : 0.0);
	if (st.mixed)
		printf("%" PRIu64 " states passed showing a write in part (a crash "
		       "during a fast fsync; REDO replays the pieces that reached "
		       "the FIFO)\n", st.mixed);
	printf("%" PRIu64 " passed, %" PRIu64 " failed\n", st.states - st.failed,
	       st.failed + (uint64_t)errors);
	return st.failed || errors ? 1 : 0;
}
