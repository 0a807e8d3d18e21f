/*
 * cmd_check.c - `hammer -f DEV[:DEV...] check`: the whole-file-system
 * check (ref/fscheck.c does the work; DragonFly has no such command).
 *
 * Output: one line per finding as it is found,
 *     CODE<TAB>WHERE<TAB>MESSAGE
 * where CODE is the stable name (IN_NLINKS, BTREE_CRC, CM_ZONE, ...),
 * followed by " (warning)" for warnings, and WHERE is the record key
 * (lo= obj= rt= key= tid=) and/or the on-disk address (off=), then one
 * summary line.  -q leaves out warnings, -qq every finding line; -v adds
 * what was scanned.  Exit 0 clean (warnings allowed), 2 errors found,
 * 1 usage error, unopenable volumes, or a check that could not run.
 */
#include "hammer.h"

#include <string.h>

#include "ref/buffer.h"
#include "ref/fscheck.h"

static void print_where(FILE *out, const struct hammer_fsck_finding *f)
{
	int any = 0;
	if (f->has_elm) {
		fprintf(out, "lo=%08x obj=%016llx rt=%02x key=%016llx tid=%016llx",
			f->elm.localization, (unsigned long long)f->elm.obj_id,
			f->elm.rec_type, (unsigned long long)f->elm.key,
			(unsigned long long)f->elm.create_tid);
		any = 1;
	} else if (f->obj_id) {
		fprintf(out, "lo=%08x obj=%016llx", f->localization,
			(unsigned long long)f->obj_id);
		any = 1;
	}
	if (f->offset != HAMMER_OFF_BAD) {
		fprintf(out, "%soff=%016llx", any ? " " : "",
			(unsigned long long)f->offset);
		any = 1;
	}
	if (!any)
		fputc('-', out);
}

static int print_finding(void *ctx, const struct hammer_fsck_finding *f)
{
	struct hammer_opts *o = ctx;
	int warn = f->severity == HAMMER_FSCK_WARN;
	if (o->quiet >= 2 || (o->quiet && warn))
		return 0;
	fprintf(o->out, "%s%s\t", hammer_fscheck_code_name(f->code),
		warn ? " (warning)" : "");
	print_where(o->out, f);
	fprintf(o->out, "\t%s\n", f->msg);
	return 0;
}

int cmd_check(struct hammer_opts *o, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(o->err, "hammer: check takes no arguments\n");
		return HAMMER_EXIT_USAGE;
	}
	struct hammer_bufcache *bc;
	int rc = hammer_bufcache_open(o->vs, HAMMER_BUFCACHE_DEFAULT, &bc);
	if (rc) {
		fprintf(o->err, "hammer: check: cannot set up the buffer cache: %s\n",
			strerror(-rc));
		return HAMMER_EXIT_USAGE;
	}
	struct hammer_fscheck_opts fo;
	hammer_fscheck_opts_init(&fo);
	fo.cb = print_finding;
	fo.ctx = o;
	fo.max_findings = 1;	/* printed as they come; the report only counts */
	struct hammer_fscheck_report r;
	struct hammer_err e = { 0 };
	rc = hammer_fscheck(o->vs, bc, &fo, &r, &e);
	if (rc)
		fprintf(o->err, "hammer: check stopped: %s\n",
			e.msg[0] ? e.msg : strerror(-rc));
	if (o->verbose) {
		char sz[32];
		fprintf(o->out, "scanned: %llu B-tree nodes, %llu records, %llu live "
			"inodes (%llu directories), %llu live entries\n",
			(unsigned long long)r.nodes, (unsigned long long)r.records,
			(unsigned long long)r.inodes, (unsigned long long)r.directories,
			(unsigned long long)r.entries);
		fprintf(o->out, "         %llu data records (%s), %llu FIFO records "
			"between first and next\n", (unsigned long long)r.data_records,
			hammer_sizetostr(sz, (int64_t)r.data_bytes),
			(unsigned long long)r.fifo_records);
		fprintf(o->out, "         object table %s, freemap check %s\n",
			hammer_sizetostr(sz, (int64_t)r.table_bytes),
			r.checkmap_run ? "run" : "not run");
	}
	fprintf(o->out, "check: %zu error%s, %zu warning%s%s\n", r.errors,
		r.errors == 1 ? "" : "s", r.warnings, r.warnings == 1 ? "" : "s",
		rc ? " (incomplete: the check stopped)" :
		r.incomplete ? " (object checks skipped: unreadable B-tree nodes)" : "");
	int status = r.errors ? HAMMER_EXIT_CORRUPT
			      : rc ? HAMMER_EXIT_USAGE : HAMMER_EXIT_OK;
	hammer_fscheck_report_free(&r);
	hammer_bufcache_close(bc);
	return status;
}
