/*
 * engine_fixture.h - what the engine tests share: a 1 GB sparse image made
 * by newfs (8 MB UNDO FIFO, fixed uuid and time), mounts with a fake
 * clock, the live checker and the checker on the unmounted image, and a
 * few makers.  Include after cmocka.h and the ref/ headers, with
 * FIXTURE_NAME (the image file's prefix) and FIXTURE_LABEL defined.
 */
#ifndef HAMMER_ENGINE_FIXTURE_H
#define HAMMER_ENGINE_FIXTURE_H

#define L(s) s, strlen(s)
#define IMG_SIZE (1ULL << 30)

static char img[256];
static unsigned img_version;	/* 0: newfs default (7) */
static __attribute__((unused)) uint64_t fake_now = 1795306471000000ULL;

static __attribute__((unused)) uint64_t test_clock(void *ctx)
{
	(void)ctx;
	return fake_now += 1000;
}

static __attribute__((unused)) void make_image(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(img, sizeof(img), "%s/" FIXTURE_NAME "-XXXXXX", tmp);
	int fd = mkstemp(img);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)IMG_SIZE), 0);
	close(fd);
	struct hammer_bdev *bd;
	assert_int_equal(hammer_bdev_file_open(img, 0, &bd, NULL), 0);
	struct hammer_newfs_opts o;
	hammer_newfs_opts_init(&o);
	o.label = FIXTURE_LABEL;
	o.version = img_version;
	o.force = 1;
	o.undo_size = 8 << 20;
	assert_int_equal(hammer_uuid_parse("a381fb52-b407-dc4f-b4be-5c83274d03cb",
					   &o.fsid), 0);
	o.ctime_us = 1795306471606999ULL;
	struct hammer_newfs_result res;
	struct hammer_err err = { 0 };
	if (hammer_newfs_format(&bd, 1, &o, &res, &err))
		fail_msg("newfs: %s", err.msg);
	hammer_bdev_close(bd);
}

static __attribute__((unused)) void mount_opts(struct hammer_mount_opts *o, int ro)
{
	hammer_mount_opts_init(o);
	o->readonly = ro;
	o->cache_bytes = 8 << 20;
	o->clock = test_clock;
}

static struct hammer_mount *do_mount(int ro)
{
	struct hammer_mount_opts o;
	mount_opts(&o, ro);
	struct hammer_mount *m;
	struct hammer_err err = { 0 };
	int rc = hammer_mount(img, &o, &m, &err);
	if (rc)
		fail_msg("mount %s: %d %s", img, rc, err.msg);
	return m;
}

/*
 * The live checker after a sync (so the freemap check runs too): no error.
 * Returns the record count.
 */
static __attribute__((unused)) uint64_t check_live(struct hammer_mount *m, const char *what)
{
	struct hammer_fscheck_report r;
	struct hammer_err err = { 0 };
	memset(&r, 0, sizeof(r));
	assert_int_equal(hammer_sync(m), 0);
	int rc = hammer_check(m, 0, &r, &err);
	if (rc)
		fail_msg("%s: hammer_check: %d %s", what, rc, err.msg);
	for (size_t i = 0; i < r.count && i < 20; i++)
		print_message("%s: %s %s\n", what,
			      hammer_fscheck_code_name(r.findings[i].code),
			      r.findings[i].msg);
	size_t nerr = r.errors;
	uint64_t recs = r.records;
	int no_record = hammer_fscheck_find(&r, HAMMER_FSCK_PFS_NO_RECORD);
	int cm_run = r.checkmap_run;
	hammer_fscheck_report_free(&r);
	if (nerr)
		fail_msg("%s: the checker found %zu errors", what, nerr);
	assert_int_equal(no_record, -1);
	assert_true(cm_run);
	return recs;
}

/* The full checker on the unmounted image. */
static __attribute__((unused)) void check_image(const char *what)
{
	struct hammer_volset *vs;
	struct hammer_bufcache *bc;
	struct hammer_err err = { 0 };
	assert_int_equal(hammer_volset_open(img, HAMMER_VOLSET_RDONLY, &vs, &err), 0);
	assert_int_equal(hammer_bufcache_open(vs, 8 << 20, &bc), 0);
	struct hammer_fscheck_report r;
	struct hammer_fscheck_opts fo;
	hammer_fscheck_opts_init(&fo);
	int rc = hammer_fscheck(vs, bc, &fo, &r, &err);
	if (rc)
		fail_msg("%s: fscheck failed: %d %s", what, rc, err.msg);
	for (size_t i = 0; i < r.count && i < 20; i++)
		print_message("%s: %s %s\n", what,
			      hammer_fscheck_code_name(r.findings[i].code),
			      r.findings[i].msg);
	size_t nerr = r.errors;
	hammer_fscheck_report_free(&r);
	if (nerr)
		fail_msg("%s: the checker found %zu errors", what, nerr);
	hammer_bufcache_close(bc);
	hammer_volset_close(vs);
}

/* Unmount after the live checker, then check the image. */
static __attribute__((unused)) void finish(struct hammer_mount *m, const char *what)
{
	check_live(m, what);
	assert_int_equal(hammer_unmount(m), 0);
	check_image(what);
}

static __attribute__((unused)) void pfsd(struct hammer_pseudofs_data *pd, const char *label, int slave,
		 hammer_tid_t sync_end)
{
	memset(pd, 0, sizeof(*pd));
	pd->sync_low_tid = 1;
	pd->sync_end_tid = sync_end;
	assert_int_equal(hammer_uuid_parse("11111111-2222-3333-4444-555555555555",
					   &pd->shared_uuid), 0);
	assert_int_equal(hammer_uuid_parse("66666666-7777-8888-9999-aaaaaaaaaaaa",
					   &pd->unique_uuid), 0);
	snprintf(pd->label, sizeof(pd->label), "%s", label);
	pd->prune_min = 60;
	pd->prune_max = 3600;
	if (slave)
		pd->mirror_flags = HAMMER_PFSD_SLAVE;
}

static __attribute__((unused)) void mk_master(struct hammer_mount *m, uint32_t id, const char *link)
{
	struct hammer_pseudofs_data pd;
	struct hammer_attr a;
	pfsd(&pd, link, 0, 0);
	assert_int_equal(hammer_pfs_create(m, 1, L(link), id, &pd, 0, 0, &a), 0);
}

static __attribute__((unused)) hammer_ino_t mk_file(struct hammer_mount *m, hammer_ino_t dir,
			    const char *name, const char *content)
{
	struct hammer_attr a;
	assert_int_equal(hammer_mknod(m, dir, L(name), S_IFREG | 0644, 0, 0, 0, &a), 0);
	size_t n = strlen(content);
	assert_int_equal(hammer_write(m, a.ino, 0, content, n), (ssize_t)n);
	return a.ino;
}

#endif
