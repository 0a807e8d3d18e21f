/*
 * test_snapshot.c - meta-data snapshots, the config record and history
 * (ref/snapshot.c) through the engine API.
 *
 *   snapshots   add, list (unsigned TID order, labels, time stamps), delete;
 *               the refusals (TID 0, a TID not yet durable, a duplicate, a
 *               missing PFS or snapshot, a slave, a read-only mount, a
 *               version 2 file system); per-PFS lists; all of it after a
 *               remount; the checker clean;
 *   config      none at first, set, replaced, too long, after a remount;
 *   history     the versions of an inode and of a byte range of a file,
 *               only durable TIDs (the open cycle marks it unsynced),
 *               a deleted file's history, the refusals;
 *   prune       model-based: seeded random changes to a few files, synced
 *               often; some synced TIDs are kept as snapshots.  After a
 *               prune with the elements `hammer prune` builds, every kept
 *               snapshot, every state after the newest one and the live
 *               tree read exactly as the model says, every historical
 *               record left is visible at a kept TID or newer than the
 *               newest snapshot, space was freed, the checker is clean;
 *               prune-everything leaves no history at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ref/fscheck.h"
#include "ref/hammer.h"
#include "ref/mstream.h"
#include "ref/newfs.h"
#include "ref/volume.h"
#include "sim/sim.h"

#define FIXTURE_NAME "snap"
#define FIXTURE_LABEL "SNAPTEST"
#include "engine_fixture.h"

static hammer_tid_t sync_tid(struct hammer_mount *m)
{
	hammer_tid_t t;
	assert_int_equal(hammer_synctid(m, &t), 0);
	return t;
}

static void snap(struct hammer_snapshot *s, hammer_tid_t tid, uint64_t ts,
		 const char *label)
{
	memset(s, 0, sizeof(*s));
	s->tid = tid;
	s->ts = ts;
	snprintf(s->label, sizeof(s->label), "%s", label);
}

static void expect_snaps(struct hammer_mount *m, uint32_t pfs, size_t n,
			 const hammer_tid_t *tids, const char *const *labels)
{
	struct hammer_snapshot *v;
	size_t got;
	assert_int_equal(hammer_snapshot_list(m, pfs, &v, &got), 0);
	if (got != n)
		fail_msg("PFS %u: %zu snapshots, expected %zu", pfs, got, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(v[i].tid, tids[i]);
		assert_string_equal(v[i].label, labels[i]);
		assert_int_equal(v[i].ts, 1000000ULL * (i + 1));
	}
	free(v);
}

static void t_snapshots(void **state)
{
	(void)state;
	img_version = 0;
	make_image();
	struct hammer_mount *m = do_mount(0);
	struct hammer_snapshot s;
	hammer_tid_t t[3];

	mk_file(m, 1, "a", "one");
	t[0] = sync_tid(m);
	mk_file(m, 1, "b", "two");
	t[1] = sync_tid(m);
	mk_file(m, 1, "c", "three");
	t[2] = sync_tid(m);
	/* added out of order: listed in TID order */
	snap(&s, t[2], 3000000, "third");
	assert_int_equal(hammer_snapshot_add(m, 0, &s), 0);
	snap(&s, t[0], 1000000, "");
	assert_int_equal(hammer_snapshot_add(m, 0, &s), 0);
	snap(&s, t[1], 2000000, "a label of sixty-three bytes ..................................");
	assert_int_equal(strlen(s.label), 63);
	assert_int_equal(hammer_snapshot_add(m, 0, &s), 0);
	const char *labels[] = { "", "a label of sixty-three bytes ..................................", "third" };
	expect_snaps(m, 0, 3, t, labels);

	/* refusals, nothing changed */
	snap(&s, t[1], 9, "dup");
	assert_int_equal(hammer_snapshot_add(m, 0, &s), -EEXIST);
	snap(&s, 0, 9, "zero");
	assert_int_equal(hammer_snapshot_add(m, 0, &s), -EINVAL);
	mk_file(m, 1, "d", "open cycle");	/* a TID past the durable one */
	snap(&s, t[2] + 1000000, 9, "future");
	assert_int_equal(hammer_snapshot_add(m, 0, &s), -EINVAL);
	snap(&s, t[2], 9, "");
	memset(s.label, 'x', sizeof(s.label));	/* no NUL */
	assert_int_equal(hammer_snapshot_add(m, 0, &s), -EINVAL);
	snap(&s, t[0], 9, "no pfs");
	assert_int_equal(hammer_snapshot_add(m, 7, &s), -ENOENT);
	assert_int_equal(hammer_snapshot_add(m, 70000, &s), -EINVAL);
	assert_int_equal(hammer_snapshot_del(m, 0, t[2] + 5), -ENOENT);
	assert_int_equal(hammer_snapshot_del(m, 7, t[0]), -ENOENT);
	expect_snaps(m, 0, 3, t, labels);

	/* per PFS: a master's list is its own; a slave refuses */
	mk_master(m, 1, "master");
	struct hammer_pseudofs_data pd;
	struct hammer_attr a;
	pfsd(&pd, "slave", 1, 1);
	assert_int_equal(hammer_pfs_create(m, 1, L("slave"), 2, &pd, 0, 0, &a), 0);
	hammer_tid_t tp = sync_tid(m);
	snap(&s, tp, 1000000, "in the master");
	assert_int_equal(hammer_snapshot_add(m, 1, &s), 0);
	assert_int_equal(hammer_snapshot_add(m, 2, &s), -EROFS);
	const char *pl[] = { "in the master" };
	expect_snaps(m, 1, 1, &tp, pl);
	expect_snaps(m, 2, 0, NULL, NULL);
	expect_snaps(m, 0, 3, t, labels);

	/* durable across a remount; delete; a read-only mount refuses */
	sync_tid(m);
	assert_int_equal(hammer_unmount(m), 0);
	check_image("snapshots");
	m = do_mount(0);
	expect_snaps(m, 0, 3, t, labels);
	expect_snaps(m, 1, 1, &tp, pl);
	assert_int_equal(hammer_snapshot_del(m, 0, t[1]), 0);
	assert_int_equal(hammer_snapshot_del(m, 0, t[1]), -ENOENT);
	hammer_tid_t left[] = { t[0], t[2] };
	const char *ll[] = { "", "third" };
	/* the time stamps of what is left: 1 s and 3 s */
	struct hammer_snapshot *v;
	size_t n;
	assert_int_equal(hammer_snapshot_list(m, 0, &v, &n), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(v[i].tid, left[i]);
		assert_string_equal(v[i].label, ll[i]);
	}
	assert_int_equal(v[1].ts, 3000000);
	free(v);
	finish(m, "snapshots");
	m = do_mount(1);
	assert_int_equal(hammer_snapshot_list(m, 0, &v, &n), 0);
	assert_int_equal(n, 2);
	free(v);
	snap(&s, t[1], 9, "ro");
	assert_int_equal(hammer_snapshot_add(m, 0, &s), -EROFS);
	assert_int_equal(hammer_snapshot_del(m, 0, t[0]), -EROFS);
	assert_int_equal(hammer_config_set(m, 0, "x"), -EROFS);
	assert_int_equal(hammer_unmount(m), 0);
	unlink(img);
}

static void t_old_version(void **state)
{
	(void)state;
	img_version = 2;	/* before meta-data snapshots */
	make_image();
	struct hammer_mount *m = do_mount(0);
	struct hammer_snapshot s;
	snap(&s, sync_tid(m), 1, "v2");
	assert_int_equal(hammer_snapshot_add(m, 0, &s), -EOPNOTSUPP);
	struct hammer_snapshot *v;
	size_t n;
	assert_int_equal(hammer_snapshot_list(m, 0, &v, &n), -EOPNOTSUPP);
	char text[HAMMER_CONFIG_BYTES];
	assert_int_equal(hammer_config_get(m, 0, text), -EOPNOTSUPP);
	finish(m, "old version");
	unlink(img);
	img_version = 0;
}

static void t_config(void **state)
{
	(void)state;
	make_image();
	struct hammer_mount *m = do_mount(0);
	char text[HAMMER_CONFIG_BYTES];
	assert_int_equal(hammer_config_get(m, 0, text), -ENOENT);
	assert_string_equal(text, "");
	const char *c1 = "snapshots 1d 60d\nprune     1d 5m\n";
	assert_int_equal(hammer_config_set(m, 0, c1), 0);
	assert_int_equal(hammer_config_get(m, 0, text), 0);
	assert_string_equal(text, c1);
	const char *c2 = "snapshots 0d 0d\n";
	sync_tid(m);
	assert_int_equal(hammer_config_set(m, 0, c2), 0);	/* replaces */
	assert_int_equal(hammer_config_get(m, 0, text), 0);
	assert_string_equal(text, c2);
	char big[HAMMER_CONFIG_BYTES + 1];
	memset(big, 'x', sizeof(big) - 1);
	big[HAMMER_CONFIG_BYTES] = '\0';
	assert_int_equal(hammer_config_set(m, 0, big), -EINVAL);
	big[HAMMER_CONFIG_BYTES - 1] = '\0';	/* 1023 bytes: the most */
	mk_master(m, 3, "m3");
	assert_int_equal(hammer_config_get(m, 3, text), -ENOENT);
	assert_int_equal(hammer_config_set(m, 3, big), 0);
	assert_int_equal(hammer_config_get(m, 0, text), 0);
	assert_string_equal(text, c2);
	assert_int_equal(hammer_config_get(m, 9, text), -ENOENT);
	sync_tid(m);
	assert_int_equal(hammer_unmount(m), 0);
	m = do_mount(0);
	assert_int_equal(hammer_config_get(m, 3, text), 0);
	assert_string_equal(text, big);
	assert_int_equal(hammer_config_get(m, 0, text), 0);
	assert_string_equal(text, c2);
	/* one CONFIG record per PFS: the replaced one is gone */
	uint64_t recs = check_live(m, "config");
	assert_int_equal(hammer_config_set(m, 0, c1), 0);
	assert_int_equal(check_live(m, "config again"), recs);
	finish(m, "config");
	unlink(img);
}

static int has_tid(const struct hammer_history_ent *v, size_t n, hammer_tid_t t)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].tid == t)
			return 1;
	return 0;
}

static void t_history(void **state)
{
	(void)state;
	make_image();
	struct hammer_mount *m = do_mount(0);
	struct hammer_history_ent *v;
	size_t n;
	int uns;
	/* a file of 3 versions; the last only rewrites bytes 100000.. */
	static char big[200000];
	struct hammer_attr a;
	assert_int_equal(hammer_mknod(m, 1, L("f"), S_IFREG | 0644, 0, 0, 0, &a), 0);
	memset(big, 'a', sizeof(big));
	assert_int_equal(hammer_write(m, a.ino, 0, big, sizeof(big)), (ssize_t)sizeof(big));
	hammer_tid_t t1 = sync_tid(m);
	memset(big, 'b', 10);
	assert_int_equal(hammer_write(m, a.ino, 0, big, 10), 10);
	hammer_tid_t t2 = sync_tid(m);
	assert_int_equal(hammer_write(m, a.ino, 150000, big, 10), 10);
	hammer_tid_t t3 = sync_tid(m);
	int64_t obj = a.obj_id;

	assert_int_equal(hammer_history(m, 0, obj, 0, 0, 0, &v, &n, &uns), 0);
	assert_int_equal(uns, 0);
	assert_true(has_tid(v, n, t1) && has_tid(v, n, t2) && has_tid(v, n, t3));
	for (size_t i = 0; i < n; i++)
		assert_true(v[i].time32 > 0);
	free(v);
	/* bytes 0..9 changed at t1 and t2, not t3 */
	assert_int_equal(hammer_history(m, 0, obj, HAMMER_HISTORY_ATKEY, 0, 10,
					&v, &n, &uns), 0);
	assert_true(has_tid(v, n, t1) && has_tid(v, n, t2) && !has_tid(v, n, t3));
	free(v);
	/* bytes 150000.. at t1 and t3 */
	assert_int_equal(hammer_history(m, 0, obj, HAMMER_HISTORY_ATKEY, 150000, 1,
					&v, &n, &uns), 0);
	assert_true(has_tid(v, n, t1) && !has_tid(v, n, t2) && has_tid(v, n, t3));
	free(v);
	/* bytes past the end: nothing */
	assert_int_equal(hammer_history(m, 0, obj, HAMMER_HISTORY_ATKEY, 1 << 30, 0,
					&v, &n, &uns), 0);
	assert_int_equal(n, 0);
	free(v);

	/* an unflushed change: its TID is not reported, the answer is unsynced */
	assert_int_equal(hammer_write(m, a.ino, 0, "c", 1), 1);
	assert_int_equal(hammer_history(m, 0, obj, 0, 0, 0, &v, &n, &uns), 0);
	assert_int_equal(uns, 1);
	for (size_t i = 0; i < n; i++)
		assert_true(v[i].tid <= t3);
	free(v);
	hammer_tid_t t4 = sync_tid(m);
	assert_int_equal(hammer_history(m, 0, obj, 0, 0, 0, &v, &n, &uns), 0);
	assert_int_equal(uns, 0);
	assert_true(has_tid(v, n, t4));
	free(v);

	/* a deleted file keeps its history (its delete TID last) */
	assert_int_equal(hammer_unlink(m, 1, L("f")), 0);
	hammer_tid_t t5 = sync_tid(m);
	assert_int_equal(hammer_history(m, 0, obj, 0, 0, 0, &v, &n, &uns), 0);
	assert_true(has_tid(v, n, t1) && has_tid(v, n, t5));
	free(v);

	/* made since the last flush: no version yet, unsynced */
	struct hammer_attr na;
	assert_int_equal(hammer_mknod(m, 1, L("new"), S_IFREG | 0644, 0, 0, 0, &na), 0);
	assert_int_equal(hammer_history(m, 0, na.obj_id, 0, 0, 0, &v, &n, &uns), 0);
	assert_int_equal(n, 0);
	assert_int_equal(uns, 1);
	free(v);

	/* refusals */
	assert_int_equal(hammer_history(m, 0, 1, HAMMER_HISTORY_ATKEY, 0, 1, &v, &n, &uns),
			 -EINVAL);	/* the root is a directory */
	assert_int_equal(hammer_history(m, 0, 0x7FFFFFFFFFFFLL, 0, 0, 0, &v, &n, &uns),
			 -ENOENT);
	assert_int_equal(hammer_history(m, 5, obj, 0, 0, 0, &v, &n, &uns), -ENOENT);
	assert_int_equal(hammer_history(m, 0, 0, 0, 0, 0, &v, &n, &uns), -EINVAL);
	assert_int_equal(hammer_history(m, 0, obj, 0x80, 0, 0, &v, &n, &uns), -EINVAL);
	finish(m, "history");
	unlink(img);
}


/* ------------------------------------------------------------ prune */

#define PF_FILES	4
#define PF_MAXLEN	100000
#define PF_STATES	64

struct pf_state {
	hammer_tid_t tid;
	size_t len[PF_FILES];		/* SIZE_MAX: no such file */
	uint8_t *data[PF_FILES];
	int kept;
};

static uint64_t pf_rng;
static uint32_t pf_rand(void)
{
	pf_rng ^= pf_rng << 13;
	pf_rng ^= pf_rng >> 7;
	pf_rng ^= pf_rng << 17;
	return (uint32_t)(pf_rng >> 11);
}

/* The files under dir (a live or as-of root) read exactly as st says. */
static void pf_expect(struct hammer_mount *m, hammer_ino_t dir,
		      const struct pf_state *st, const char *what, uint64_t seed)
{
	static uint8_t buf[PF_MAXLEN + 1];
	for (int f = 0; f < PF_FILES; f++) {
		char nm[4] = { 'F', (char)('0' + f), 0, 0 };
		struct hammer_attr a;
		int rc = hammer_lookup(m, dir, nm, 2, &a);
		if (st->len[f] == SIZE_MAX) {
			if (rc != -ENOENT)
				fail_msg("seed %llu %s: %s exists (%d)",
					 (unsigned long long)seed, what, nm, rc);
			continue;
		}
		if (rc)
			fail_msg("seed %llu %s: %s: %d", (unsigned long long)seed, what,
				 nm, rc);
		if (a.size != st->len[f])
			fail_msg("seed %llu %s: %s is %llu bytes, expected %zu",
				 (unsigned long long)seed, what, nm,
				 (unsigned long long)a.size, st->len[f]);
		ssize_t n = hammer_read(m, a.ino, 0, buf, sizeof(buf));
		if (n != (ssize_t)st->len[f] || memcmp(buf, st->data[f], st->len[f]))
			fail_msg("seed %llu %s: %s content differs", (unsigned long long)seed,
				 what, nm);
	}
}

static hammer_ino_t pf_asof(struct hammer_mount *m, hammer_tid_t t)
{
	char nm[24];
	struct hammer_attr a;
	snprintf(nm, sizeof(nm), "@@0x%016llx", (unsigned long long)t);
	assert_int_equal(hammer_lookup(m, 1, nm, strlen(nm), &a), 0);
	return a.ino;
}

struct pf_rec { hammer_tid_t c, d; };

/* Every record of PFS 0 (create and delete TIDs), through a mirror scan. */
static struct pf_rec *pf_records(struct hammer_mount *m, hammer_tid_t end, size_t *n)
{
	struct hammer_mirror_scan s;
	struct hammer_err err = { 0 };
	size_t cap = 1024;
	struct pf_rec *v = malloc(cap * sizeof(*v));
	uint8_t *buf = malloc(1 << 20);
	assert_true(v && buf);
	*n = 0;
	hammer_mirror_scan_init(&s, 0, 1, end, HAMMER_MIRROR_NODATA);
	while (!s.done) {
		size_t len;
		if (hammer_mirror_read(m, &s, buf, 1 << 20, &len, &err))
			fail_msg("mirror_read: %s", err.msg);
		for (size_t off = 0; off < len;) {
			struct hammer_mrec r;
			int k = hammer_mrec_get(buf + off, len - off, &r, NULL, NULL, 0);
			assert_true(k > 0);
			if (hammer_mrec_base_type(r.type) == HAMMER_MREC_TYPE_REC) {
				if (*n == cap) {
					cap *= 2;
					v = realloc(v, cap * sizeof(*v));
					assert_non_null(v);
				}
				v[(*n)++] = (struct pf_rec){ r.u.leaf.base.create_tid,
							    r.u.leaf.base.delete_tid };
			}
			off += (size_t)k;
		}
	}
	free(buf);
	return v;
}

static int tid_desc(const void *a, const void *b)
{
	hammer_tid_t x = *(const hammer_tid_t *)a, y = *(const hammer_tid_t *)b;
	return x > y ? -1 : x < y;
}

/*
 * The elements `hammer prune` builds from kept TIDs s1 > s2 > ... > sk:
 * [s(i+1) + 1, s(i) + 1) for each pair and [1, sk + 1), each one slot wide.
 * A record in one of them is invisible at every kept TID (ours carry the
 * TID of their cycle, so a record created at s(i+1) is visible there).
 */
static size_t pf_elements(hammer_tid_t *kept, size_t k, struct hammer_prune_elm *e)
{
	qsort(kept, k, sizeof(*kept), tid_desc);
	size_t n = 0;
	for (size_t i = 0; i < k; i++) {
		hammer_tid_t beg = i + 1 < k ? kept[i + 1] + 1 : 1;
		e[n++] = (struct hammer_prune_elm){ beg, kept[i] + 1, kept[i] + 1 - beg };
	}
	return n;
}

static void pf_run(uint64_t seed, int reblock_fill)
{
	pf_rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	make_image();
	struct hammer_mount *m = do_mount(0);
	static struct pf_state states[PF_STATES];
	struct pf_state cur;
	memset(&cur, 0, sizeof(cur));
	for (int f = 0; f < PF_FILES; f++) {
		cur.len[f] = SIZE_MAX;
		cur.data[f] = calloc(PF_MAXLEN, 1);
	}
	static uint8_t chunk[70000];
	size_t ns = 0;
	while (ns < PF_STATES) {
		int f = (int)(pf_rand() % PF_FILES);
		char nm[4] = { 'F', (char)('0' + f), 0, 0 };
		struct hammer_attr a;
		uint32_t op = pf_rand() % 10;
		if (cur.len[f] == SIZE_MAX) {
			assert_int_equal(hammer_mknod(m, 1, nm, 2, S_IFREG | 0644, 0, 0, 0, &a), 0);
			cur.len[f] = 0;
		} else if (op == 0) {
			assert_int_equal(hammer_unlink(m, 1, nm, 2), 0);
			cur.len[f] = SIZE_MAX;
		} else {
			assert_int_equal(hammer_lookup(m, 1, nm, 2, &a), 0);
			if (op == 1) {
				size_t nl = pf_rand() % (PF_MAXLEN / 2);
				a.size = nl;
				assert_int_equal(hammer_setattr(m, a.ino, &a, HAMMER_SET_SIZE), 0);
				if (nl > cur.len[f])
					memset(cur.data[f] + cur.len[f], 0, nl - cur.len[f]);
				cur.len[f] = nl;
			} else {
				size_t off = pf_rand() % (PF_MAXLEN - sizeof(chunk));
				size_t len = 1 + pf_rand() % sizeof(chunk);
				if (off > cur.len[f] + 20000)
					off = cur.len[f];
				for (size_t i = 0; i < len; i++)
					chunk[i] = (uint8_t)pf_rand();
				assert_int_equal(hammer_write(m, a.ino, off, chunk, len),
						 (ssize_t)len);
				if (off > cur.len[f])
					memset(cur.data[f] + cur.len[f], 0, off - cur.len[f]);
				memcpy(cur.data[f] + off, chunk, len);
				if (off + len > cur.len[f])
					cur.len[f] = off + len;
			}
		}
		if (pf_rand() % 2)
			continue;	/* more changes in the same cycle */
		struct pf_state *st = &states[ns++];
		*st = cur;
		for (int g = 0; g < PF_FILES; g++) {
			st->data[g] = malloc(PF_MAXLEN);
			memcpy(st->data[g], cur.data[g], PF_MAXLEN);
		}
		st->tid = sync_tid(m);
		st->kept = pf_rand() % 3 == 0;
	}
	/* the newest kept snapshot: what comes after it stays fine-grained */
	hammer_tid_t kept[PF_STATES];
	size_t k = 0;
	for (size_t i = 0; i < ns; i++)
		if (states[i].kept)
			kept[k++] = states[i].tid;
	if (k == 0) {
		states[ns / 2].kept = 1;
		kept[k++] = states[ns / 2].tid;
	}
	for (size_t i = 0; i < ns; i++)
		pf_expect(m, pf_asof(m, states[i].tid), &states[i], "before prune", seed);
	if (reblock_fill >= 0) {
		/* everything moves (100) or what sits in half-empty big-blocks */
		struct hammer_reblock_stats rs;
		assert_int_equal(hammer_reblock(m, 0, HAMMER_REBLOCK_ALL, (unsigned)reblock_fill,
						NULL, &rs), 0);
		print_message("  reblock %d%%: %llu records, %llu/%llu nodes, %llu/%llu data "
			      "moved (%llu bytes)\n", reblock_fill,
			      (unsigned long long)rs.records,
			      (unsigned long long)rs.btree_moves,
			      (unsigned long long)rs.btree_nodes,
			      (unsigned long long)rs.data_moves,
			      (unsigned long long)rs.data_elements,
			      (unsigned long long)rs.data_bytes);
		if (reblock_fill == 100)
			assert_true(rs.data_moves == rs.data_elements &&
				    rs.btree_moves == rs.btree_nodes && rs.btree_moves > 0);
		struct hammer_rebalance_stats bs;
		assert_int_equal(hammer_rebalance(m, 0, 85, NULL, &bs), 0);
		check_live(m, "after reblock and rebalance");
		for (size_t i = 0; i < ns; i++)
			pf_expect(m, pf_asof(m, states[i].tid), &states[i], "after reblock",
				  seed);
		pf_expect(m, 1, &cur, "live after reblock", seed);
		assert_int_equal(hammer_unmount(m), 0);
		check_image("reblock");
		m = do_mount(0);
		for (size_t i = 0; i < ns; i++)
			pf_expect(m, pf_asof(m, states[i].tid), &states[i],
				  "after reblock and remount", seed);
	}
	uint64_t recs_before = check_live(m, "before prune");
	struct hammer_prune_elm e[PF_STATES];
	size_t ne = pf_elements(kept, k, e);
	hammer_tid_t newest = kept[0];
	struct hammer_prune_stats pst;
	assert_int_equal(hammer_prune(m, 0, 0, e, ne, NULL, &pst), 0);
	print_message("  %zu states, %zu kept: %llu records scanned, %llu + %llu pruned, "
		      "%llu bytes freed\n", ns, k, (unsigned long long)pst.scanned,
		      (unsigned long long)pst.rawrecords,
		      (unsigned long long)pst.dirrecords, (unsigned long long)pst.bytes);
	assert_true(pst.rawrecords > 0 && pst.bytes > 0);
	hammer_tid_t end = sync_tid(m);
	uint64_t recs_after = check_live(m, "after prune");
	if (pst.rawrecords + pst.dirrecords != recs_before - recs_after)
		fail_msg("seed %llu: prune reports %llu records, the checker counts %llu fewer",
			 (unsigned long long)seed,
			 (unsigned long long)(pst.rawrecords + pst.dirrecords),
			 (unsigned long long)(recs_before - recs_after));
	for (size_t i = 0; i < ns; i++)
		if (states[i].kept || states[i].tid > newest)
			pf_expect(m, pf_asof(m, states[i].tid), &states[i], "after prune", seed);
	pf_expect(m, 1, &cur, "live after prune", seed);
	size_t nr;
	struct pf_rec *rv = pf_records(m, end, &nr);
	for (size_t i = 0; i < nr; i++) {
		if (!rv[i].d || rv[i].d > newest)
			continue;
		int seen = 0;
		for (size_t j = 0; j < k && !seen; j++)
			seen = rv[i].c <= kept[j] && kept[j] < rv[i].d;
		if (!seen)
			fail_msg("seed %llu: record %016llx..%016llx survived the prune but "
				 "no kept snapshot sees it", (unsigned long long)seed,
				 (unsigned long long)rv[i].c, (unsigned long long)rv[i].d);
	}
	free(rv);
	/* the same prune again finds nothing */
	assert_int_equal(hammer_prune(m, 0, 0, e, ne, NULL, &pst), 0);
	assert_int_equal(pst.rawrecords + pst.dirrecords, 0);
	/* prune-everything: no history left, the live tree intact */
	assert_int_equal(hammer_prune(m, 0, HAMMER_PRUNE_ALL, NULL, 0, NULL, &pst), 0);
	end = sync_tid(m);
	rv = pf_records(m, end, &nr);
	for (size_t i = 0; i < nr; i++)
		if (rv[i].d)
			fail_msg("seed %llu: a historical record after prune-everything",
				 (unsigned long long)seed);
	free(rv);
	pf_expect(m, 1, &cur, "live after prune-everything", seed);
	assert_int_equal(hammer_unmount(m), 0);
	check_image("prune");
	m = do_mount(0);
	pf_expect(m, 1, &cur, "live after remount", seed);
	assert_int_equal(hammer_unmount(m), 0);
	for (size_t i = 0; i < ns; i++)
		for (int g = 0; g < PF_FILES; g++)
			free(states[i].data[g]);
	for (int g = 0; g < PF_FILES; g++)
		free(cur.data[g]);
	unlink(img);
}

static void t_prune_model(void **state)
{
	(void)state;
	const char *env = getenv("PRUNE_SEEDS");
	unsigned seeds = env ? (unsigned)atoi(env) : 4;
	for (unsigned sd = 1; sd <= seeds; sd++) {
		print_message("prune model seed %u (rerun: PRUNE_SEEDS=%u)\n", sd, sd);
		pf_run(sd, -1);
	}
}

/* The same model with a reblock before the prune: every version moved. */
static void t_reblock_model(void **state)
{
	(void)state;
	const char *env = getenv("REBLOCK_SEEDS");
	unsigned seeds = env ? (unsigned)atoi(env) : 2;
	for (unsigned sd = 1; sd <= seeds; sd++) {
		print_message("reblock model seed %u (rerun: REBLOCK_SEEDS=%u)\n", sd, sd);
		pf_run(100 + sd, 100);
		pf_run(200 + sd, 50);
	}
}

/*
 * Space comes back: files filling several big-blocks, most deleted and
 * their history pruned, then a reblock empties the half-used big-blocks
 * and statfs shows them free again; what is left reads back.
 */
static void t_reblock_space(void **state)
{
	(void)state;
	make_image();
	struct hammer_mount *m = do_mount(0);
	static uint8_t buf[256 << 10];
	const int nfiles = 160, keep = 8;
	for (int f = 0; f < nfiles; f++) {
		char nm[8];
		snprintf(nm, sizeof(nm), "g%03d", f);
		struct hammer_attr a;
		assert_int_equal(hammer_mknod(m, 1, nm, strlen(nm), S_IFREG | 0644, 0, 0, 0, &a), 0);
		memset(buf, f, sizeof(buf));
		assert_int_equal(hammer_write(m, a.ino, 0, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	}
	sync_tid(m);
	for (int f = 0; f < nfiles; f++) {
		if (f % (nfiles / keep) == 0)
			continue;
		char nm[8];
		snprintf(nm, sizeof(nm), "g%03d", f);
		assert_int_equal(hammer_unlink(m, 1, nm, strlen(nm)), 0);
	}
	sync_tid(m);
	struct hammer_prune_stats ps;
	assert_int_equal(hammer_prune(m, 0, HAMMER_PRUNE_ALL, NULL, 0, NULL, &ps), 0);
	sync_tid(m);
	sync_tid(m);
	struct hammer_statfs before, after;
	assert_int_equal(hammer_statfs(m, &before), 0);
	struct hammer_reblock_stats rs;
	assert_int_equal(hammer_reblock(m, 0, HAMMER_REBLOCK_ALL, 90, NULL, &rs), 0);
	sync_tid(m);
	sync_tid(m);
	assert_int_equal(hammer_statfs(m, &after), 0);
	print_message("  reblock 90%%: %llu data moved (%llu bytes), %llu nodes; free "
		      "%llu -> %llu blocks\n", (unsigned long long)rs.data_moves,
		      (unsigned long long)rs.data_bytes, (unsigned long long)rs.btree_moves,
		      (unsigned long long)before.bfree, (unsigned long long)after.bfree);
	assert_true(rs.data_moves > 0);
	/* at least 3 of the 5 big-blocks the data filled come back */
	assert_true(after.bfree >= before.bfree + 3 * (HAMMER_BIGBLOCK_SIZE / before.bsize));
	for (int f = 0; f < nfiles; f += nfiles / keep) {
		char nm[8];
		static uint8_t got[256 << 10];
		snprintf(nm, sizeof(nm), "g%03d", f);
		struct hammer_attr a;
		assert_int_equal(hammer_lookup(m, 1, nm, strlen(nm), &a), 0);
		assert_int_equal(hammer_read(m, a.ino, 0, got, sizeof(got)), (ssize_t)sizeof(got));
		memset(buf, f, sizeof(buf));
		assert_memory_equal(got, buf, sizeof(buf));
	}
	/* rebalance: the leaves the deletions thinned get packed */
	struct hammer_attr da;
	assert_int_equal(hammer_mkdir(m, 1, "many", 4, 0755, 0, 0, &da), 0);
	for (int f = 0; f < 3000; f++) {
		char nm[16];
		struct hammer_attr a;
		snprintf(nm, sizeof(nm), "s%05d", f);
		assert_int_equal(hammer_mknod(m, da.ino, nm, strlen(nm), S_IFREG | 0644, 0, 0,
					      0, &a), 0);
	}
	sync_tid(m);
	for (int f = 0; f < 3000; f++) {
		char nm[16];
		snprintf(nm, sizeof(nm), "s%05d", f);
		if (f % 10)
			assert_int_equal(hammer_unlink(m, da.ino, nm, strlen(nm)), 0);
	}
	assert_int_equal(hammer_prune(m, 0, HAMMER_PRUNE_ALL, NULL, 0, NULL, &ps), 0);
	sync_tid(m);
	struct hammer_rebalance_stats bs;
	assert_int_equal(hammer_rebalance(m, 0, 85, NULL, &bs), 0);
	print_message("  rebalance 85%%: %llu records, %llu groups, %llu leaves freed\n",
		      (unsigned long long)bs.records, (unsigned long long)bs.groups,
		      (unsigned long long)bs.leaves_freed);
	assert_true(bs.leaves_freed > 0);
	check_live(m, "after rebalance");
	for (int f = 0; f < 3000; f += 10) {
		char nm[16];
		struct hammer_attr a;
		snprintf(nm, sizeof(nm), "s%05d", f);
		assert_int_equal(hammer_lookup(m, da.ino, nm, strlen(nm), &a), 0);
	}
	assert_int_equal(hammer_rebalance(m, 0, 85, NULL, &bs), 0);
	assert_int_equal(bs.leaves_freed, 0);	/* packed already */
	assert_int_equal(hammer_rebalance(m, 0, 49, NULL, &bs), -EINVAL);
	/* a second run finds the big-blocks full: nothing to move */
	assert_int_equal(hammer_reblock(m, 0, HAMMER_REBLOCK_DATA, 90, NULL, &rs), 0);
	assert_int_equal(rs.data_moves, 0);
	assert_int_equal(hammer_reblock(m, 0, 0, 90, NULL, &rs), -EINVAL);
	assert_int_equal(hammer_reblock(m, 0, HAMMER_REBLOCK_ALL, 101, NULL, &rs), -EINVAL);
	assert_int_equal(hammer_reblock(m, 4, HAMMER_REBLOCK_ALL, 90, NULL, &rs), -ENOENT);
	finish(m, "reblock space");
	unlink(img);
}

/* Stop before every second batch: a walk cut into many runs. */
static int every_other(void *ctx)
{
	return ++*(int *)ctx % 2 == 0;
}

/*
 * Resuming: reblock, rebalance and prune cut by their stop callback and
 * continued from the key they report (a cycle file's content) cover the
 * whole PFS exactly once: the moves add up to one uninterrupted run's.
 */
static void t_resume(void **state)
{
	(void)state;
	make_image();
	struct hammer_mount *m = do_mount(0);
	struct hammer_attr da;
	assert_int_equal(hammer_mkdir(m, 1, "d", 1, 0755, 0, 0, &da), 0);
	for (int f = 0; f < 2500; f++) {
		char nm[16];
		struct hammer_attr a;
		snprintf(nm, sizeof(nm), "e%05d", f);
		assert_int_equal(hammer_mknod(m, da.ino, nm, strlen(nm), S_IFREG | 0644, 0, 0,
					      0, &a), 0);
		assert_int_equal(hammer_write(m, a.ino, 0, nm, strlen(nm)), (ssize_t)strlen(nm));
	}
	sync_tid(m);
	int calls = 0, runs = 0;
	uint64_t moved = 0, elements = 0;
	struct hammer_maint_ctl ctl = { .should_stop = every_other, .ctx = &calls };
	struct hammer_reblock_stats rs;
	do {
		assert_int_equal(hammer_reblock(m, 0, HAMMER_REBLOCK_DATA, 100, &ctl, &rs), 0);
		moved += rs.data_moves;
		elements += rs.data_elements;
		ctl.has_start = 1;
		ctl.start = ctl.resume;
		assert_true(++runs < 1000);
	} while (ctl.stopped);
	print_message("  reblock in %d runs: %llu of %llu data elements moved\n", runs,
		      (unsigned long long)moved, (unsigned long long)elements);
	assert_true(runs > 2);
	assert_int_equal(moved, elements);
	assert_true(elements >= 2500);	/* a DATA record per file */
	/* a stop at once keeps the start: resuming there loses nothing */
	ctl.has_start = 0;
	calls = 1;
	assert_int_equal(hammer_reblock(m, 0, HAMMER_REBLOCK_DATA, 100, &ctl, &rs), 0);
	assert_true(ctl.stopped);
	assert_int_equal(rs.data_moves, 0);
	check_live(m, "after resumed reblocks");
	for (int f = 0; f < 2500; f++) {
		char nm[16];
		snprintf(nm, sizeof(nm), "e%05d", f);
		if (f % 10)
			assert_int_equal(hammer_unlink(m, da.ino, nm, strlen(nm)), 0);
	}
	sync_tid(m);
	/* prune-everything in pieces: every historical record goes */
	ctl.has_start = 0;
	calls = 0;
	runs = 0;
	uint64_t pruned = 0;
	struct hammer_prune_stats ps;
	do {
		assert_int_equal(hammer_prune(m, 0, HAMMER_PRUNE_ALL, NULL, 0, &ctl, &ps), 0);
		pruned += ps.rawrecords + ps.dirrecords;
		ctl.has_start = 1;
		ctl.start = ctl.resume;
		assert_true(++runs < 1000);
	} while (ctl.stopped);
	assert_int_equal(hammer_prune(m, 0, HAMMER_PRUNE_ALL, NULL, 0, NULL, &ps), 0);
	print_message("  prune-everything in %d runs: %llu records; a full run after: %llu\n",
		      runs, (unsigned long long)pruned,
		      (unsigned long long)(ps.rawrecords + ps.dirrecords));
	assert_true(pruned > 0);
	assert_int_equal(ps.rawrecords + ps.dirrecords, 0);
	/* rebalance in pieces, then nothing left to pack */
	ctl.has_start = 0;
	calls = 0;
	struct hammer_rebalance_stats bs;
	uint64_t freed = 0;
	do {
		assert_int_equal(hammer_rebalance(m, 0, 85, &ctl, &bs), 0);
		freed += bs.leaves_freed;
		ctl.has_start = 1;
		ctl.start = ctl.resume;
	} while (ctl.stopped);
	assert_true(freed > 0);
	assert_int_equal(hammer_rebalance(m, 0, 85, NULL, &bs), 0);
	assert_int_equal(bs.leaves_freed, 0);
	finish(m, "resume");
	unlink(img);
}

static void t_prune_refusals(void **state)
{
	(void)state;
	make_image();
	struct hammer_mount *m = do_mount(0);
	struct hammer_prune_stats st;
	struct hammer_prune_elm e[2] = { { 10, 20, 10 }, { 1, 10, 9 } };
	assert_int_equal(hammer_prune(m, 0, 0, e, 2, NULL, &st), 0);
	struct hammer_prune_elm up[2] = { { 1, 10, 9 }, { 10, 20, 10 } };
	assert_int_equal(hammer_prune(m, 0, 0, up, 2, NULL, &st), -EINVAL);	/* ascending */
	struct hammer_prune_elm zero = { 1, 10, 0 };
	assert_int_equal(hammer_prune(m, 0, 0, &zero, 1, NULL, &st), -EINVAL);
	struct hammer_prune_elm empty = { 10, 10, 1 };
	assert_int_equal(hammer_prune(m, 0, 0, &empty, 1, NULL, &st), -EINVAL);
	assert_int_equal(hammer_prune(m, 0, HAMMER_PRUNE_ALL, e, 1, NULL, &st), -EINVAL);
	assert_int_equal(hammer_prune(m, 0, 0x80, NULL, 0, NULL, &st), -EINVAL);
	assert_int_equal(hammer_prune(m, 9, HAMMER_PRUNE_ALL, NULL, 0, NULL, &st), -ENOENT);
	assert_int_equal(hammer_prune(m, 70000, HAMMER_PRUNE_ALL, NULL, 0, NULL, &st), -EINVAL);
	finish(m, "prune refusals");
	m = do_mount(1);
	assert_int_equal(hammer_prune(m, 0, HAMMER_PRUNE_ALL, NULL, 0, NULL, &st), -EROFS);
	assert_int_equal(hammer_unmount(m), 0);
	unlink(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_snapshots),
		cmocka_unit_test(t_old_version),
		cmocka_unit_test(t_config),
		cmocka_unit_test(t_history),
		cmocka_unit_test(t_prune_model),
		cmocka_unit_test(t_prune_refusals),
		cmocka_unit_test(t_reblock_model),
		cmocka_unit_test(t_reblock_space),
		cmocka_unit_test(t_resume),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
