/*
 * newfs_hammer - make a HAMMER file system, as DragonFly's newfs_hammer does.
 *
 *   newfs_hammer -L label [-fh] [-b bootsize] [-m savesize] [-u undosize]
 *                [-V version] [--fsid UUID] [--pfs-uuid UUID]
 *                [--time-us USEC] special ...
 *
 * The extra long options make the output reproducible: a given fsid and
 * root-PFS UUID (default: the fsid, as DragonFly does) and the root inode
 * time in microseconds.  SOURCE_DATE_EPOCH (seconds) sets the time too;
 * --time-us wins over it.  The summary goes to stdout, warnings and errors
 * to stderr; every refusal exits 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <uuid/uuid.h>

#include "ref/newfs.h"
#include "ref/volume.h"

#define PROG "newfs_hammer"
#define GIG (1024LL * 1024 * 1024)

static void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warnx_(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, PROG ": WARNING: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

static int usage(int code)
{
	fprintf(stderr,
		"usage: newfs_hammer -L label [-fh] [-b bootsize] [-m savesize] [-u undosize]\n"
		"                    [-V version] [--fsid uuid] [--pfs-uuid uuid]\n"
		"                    [--time-us usec] special ...\n");
	return code;
}

/* DragonFly's size printing: 6.2 width, unit switching at half a unit. */
static const char *sizetostr(int64_t size, char buf[32])
{
	if (size < 1024 / 2)
		snprintf(buf, 32, "%6.2fB", (double)size);
	else if (size < 1024 * 1024 / 2)
		snprintf(buf, 32, "%6.2fKB", (double)size / 1024);
	else if (size < GIG / 2)
		snprintf(buf, 32, "%6.2fMB", (double)size / (1024 * 1024));
	else if (size < GIG * 1024 / 2)
		snprintf(buf, 32, "%6.2fGB", (double)size / GIG);
	else
		snprintf(buf, 32, "%6.2fTB", (double)size / ((double)GIG * 1024));
	return buf;
}

/*
 * A size as DragonFly parses it: a C integer (decimal, 0x, 0 octal) with a
 * required K/M/G/T suffix, a whole number of 16 KB buffers.
 */
static int getsize(const char *opt, const char *str, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(str, &end, 0);
	if (end == str)
		return fail("-%s: '%s' is not a number", opt, str);
	if (errno == ERANGE)
		return fail("-%s: value too large: %s", opt, str);
	int shift;
	switch (*end) {
	case 't': case 'T': shift = 40; break;
	case 'g': case 'G': shift = 30; break;
	case 'm': case 'M': shift = 20; break;
	case 'k': case 'K': shift = 10; break;
	default:
		return fail("Unknown suffix in number '%s'", str);
	}
	if (end[1])
		return fail("Unknown suffix in number '%s'", str);
	if (v < 0)
		return fail("-%s: negative size: %s", opt, str);
	if (v > (INT64_MAX >> shift))
		return fail("-%s: value too large: %s", opt, str);
	v <<= shift;
	if (v & HAMMER_BUFMASK)
		return fail("Value not an integral multiple of %dK: %s",
			    HAMMER_BUFSIZE / 1024, str);
	*out = v;
	return 0;
}

static int getu64(const char *what, const char *str, uint64_t *out)
{
	char *end;
	errno = 0;
	if (*str < '0' || *str > '9')
		return fail("%s: '%s' is not a non-negative integer", what, str);
	unsigned long long v = strtoull(str, &end, 10);
	if (errno == ERANGE || *end)
		return fail("%s: '%s' is not a non-negative integer", what, str);
	*out = v;
	return 0;
}

enum { OPT_FSID = 256, OPT_PFS_UUID, OPT_TIME_US };

struct volinfo {
	const char *path;
	const char *type;
	struct stat st;
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "fsid", required_argument, NULL, OPT_FSID },
		{ "pfs-uuid", required_argument, NULL, OPT_PFS_UUID },
		{ "time-us", required_argument, NULL, OPT_TIME_US },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hammer_newfs_opts o;
	hammer_newfs_opts_init(&o);
	int have_fsid = 0, have_time = 0, ch;
	hammer_uuid_t pfs_uuid;
	char sz[32], sz2[32];

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":fL:b:m:u:hV:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			o.force = 1;
			break;
		case 'L':
			o.label = optarg;
			break;
		case 'b':
			if (getsize("b", optarg, &o.boot_size))
				return 1;
			break;
		case 'm':
			if (getsize("m", optarg, &o.memlog_size))
				return 1;
			break;
		case 'u':
			if (getsize("u", optarg, &o.undo_size))
				return 1;
			break;
		case 'V': {
			uint64_t v;
			if (getu64("-V", optarg, &v))
				return 1;
			if (v < HAMMER_VOL_VERSION_MIN || v > HAMMER_VOL_VERSION_MAX)
				return fail("I don't understand how to format HAMMER "
					    "version %s (versions %d to %d)", optarg,
					    HAMMER_VOL_VERSION_MIN,
					    HAMMER_VOL_VERSION_MAX);
			o.version = (unsigned)v;
			break;
		}
		case OPT_FSID:
			if (hammer_uuid_parse(optarg, &o.fsid))
				return fail("--fsid: '%s' is not a UUID "
					    "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
					    optarg);
			have_fsid = 1;
			break;
		case OPT_PFS_UUID:
			if (hammer_uuid_parse(optarg, &pfs_uuid))
				return fail("--pfs-uuid: '%s' is not a UUID "
					    "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
					    optarg);
			o.pfs_uuid = &pfs_uuid;
			break;
		case OPT_TIME_US:
			if (getu64("--time-us", optarg, &o.ctime_us))
				return 1;
			have_time = 1;
			break;
		case 'h':
			return usage(0);
		case ':':
			fail("option %s needs an argument", argv[optind - 1]);
			return usage(1);
		default:
			if (optopt)
				fail("unknown option -%c", optopt);
			else
				fail("unknown option %s", argv[optind - 1]);
			return usage(1);
		}
	}
	int nvols = argc - optind;
	char **paths = argv + optind;

	if (nvols == 0) {
		fail("You must specify at least one special file (volume)");
		return usage(1);
	}
	if (nvols > HAMMER_MAX_VOLUMES)
		return fail("The maximum number of volumes is %d", HAMMER_MAX_VOLUMES);
	if (!o.label) {
		fprintf(stderr, PROG ": A filesystem label must be specified\n");
		return usage(1);
	}

	if (!have_time) {
		const char *sde = getenv("SOURCE_DATE_EPOCH");
		if (sde && *sde) {
			uint64_t s;
			if (getu64("SOURCE_DATE_EPOCH", sde, &s))
				return 1;
			if (s > UINT64_MAX / 1000000)
				return fail("SOURCE_DATE_EPOCH: %s is out of range", sde);
			o.ctime_us = s * 1000000;
		} else {
			struct timeval tv;
			gettimeofday(&tv, NULL);
			o.ctime_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
		}
	}
	if (o.ctime_us / 1000000 > UINT32_MAX)
		return fail("the time %llu us is past 2106, beyond HAMMER's 32-bit "
			    "record timestamps", (unsigned long long)o.ctime_us);
	if (!have_fsid) {
		/* libuuid's bytes stored as they come, as the DragonFly port does */
		uuid_t u;
		uuid_generate(u);
		memcpy(o.fsid.b, u, 16);
	}

	struct hammer_err err = { 0 };
	unsigned warnings;
	if (hammer_newfs_check_opts(&o, &warnings, &err))
		return fail("%s", err.msg);
	if (warnings & HAMMER_NEWFS_WARN_BOOT_SMALL)
		warnx_("You have specified boot area size less than %s",
		       sizetostr(HAMMER_BOOT_MINBYTES, sz));
	if (warnings & HAMMER_NEWFS_WARN_MEMLOG_SMALL)
		warnx_("You have specified memory log size less than %s",
		       sizetostr(HAMMER_MEM_MINBYTES, sz));
	if (warnings & HAMMER_NEWFS_WARN_UNDO_SMALL)
		warnx_("You have specified an UNDO/REDO FIFO size less than %s, "
		       "which may lead to VFS panics",
		       sizetostr((int64_t)HAMMER_BIGBLOCK_SIZE *
				 HAMMER_MIN_UNDO_BIGBLOCKS, sz));

	struct volinfo *vi = calloc((size_t)nvols, sizeof(*vi));
	struct hammer_bdev **bds = calloc((size_t)nvols, sizeof(*bds));
	int rc = 0, opened = 0;
	if (!vi || !bds) {
		rc = fail("out of memory");
		goto out;
	}
	for (int i = 0; i < nvols; i++) {
		vi[i].path = paths[i];
		if (stat(paths[i], &vi[i].st) < 0) {
			rc = fail("%s: %s", paths[i], errno == ENOENT
				  ? "no such file or device (create an image "
				    "file first, e.g. with truncate -s 16G)"
				  : strerror(errno));
			goto out;
		}
		if (S_ISREG(vi[i].st.st_mode)) {
			vi[i].type = "REGFILE";
		} else if (S_ISBLK(vi[i].st.st_mode)) {
			vi[i].type = "DEVICE";
		} else {
			rc = fail("Unsupported file type for %s (not a regular file "
				  "or block device)", paths[i]);
			goto out;
		}
		for (int j = 0; j < i; j++) {
			if (vi[j].st.st_dev == vi[i].st.st_dev &&
			    vi[j].st.st_ino == vi[i].st.st_ino &&
			    vi[j].st.st_rdev == vi[i].st.st_rdev) {
				rc = fail("%s: Specified more than once (same as "
					  "volume %d, %s)", paths[i], j, paths[j]);
				goto out;
			}
		}
		const char *why = NULL;
		int e = hammer_bdev_file_open(paths[i], 0, &bds[i], &why);
		if (e) {
			rc = fail("%s: %s", paths[i], why ? why : strerror(-e));
			goto out;
		}
		opened++;
		printf("Volume %d %s %-15s size %s\n", i, vi[i].type, paths[i],
		       sizetostr((int64_t)bds[i]->size, sz));
	}
	fflush(stdout);

	struct hammer_newfs_result res;
	if (hammer_newfs_format(bds, nvols, &o, &res, &err)) {
		rc = fail("%s", err.msg);
		goto out;
	}
	printf("initialize freemap volume 0\n");
	printf("initializing the undo map (%lld MB)\n",
	       (long long)(res.undo_size / (1024 * 1024)));
	for (int i = 1; i < nvols; i++)
		printf("initialize freemap volume %d\n", i);

	char fsid[37];
	hammer_uuid_format(&o.fsid, fsid);
	printf("---------------------------------------------\n");
	printf("HAMMER version %u\n", res.version);
	printf("%d volume%s total size %s\n", nvols, nvols == 1 ? "" : "s",
	       sizetostr((int64_t)res.total_size, sz));
	printf("root-volume:         %s\n", paths[0]);
	printf("boot-area-size:      %s\n", sizetostr(res.boot_size, sz));
	printf("memory-log-size:     %s\n", sizetostr(res.memlog_size, sz));
	printf("undo-buffer-size:    %s\n", sizetostr(res.undo_size, sz));
	printf("total-pre-allocated: %s\n",
	       sizetostr((int64_t)res.preallocated, sz));
	printf("fsid:                %s\n", fsid);
	printf("\n");
	/* DragonFly's note points at its nightly periodic(8) job; Linux has none. */
	printf("NOTE: Please remember that you may have to manually set up a\n"
	       "cron(8) job or systemd timer to prune and reblock the filesystem\n"
	       "regularly.  Nothing on this system runs 'hammer cleanup'\n"
	       "automatically (DragonFly's nightly periodic(8) job does not\n"
	       "exist here).  Also see 'man hammer' and 'man HAMMER' for more\n"
	       "information.\n");
	if ((int64_t)res.total_size < 10 * GIG)
		printf("\nWARNING: The minimum UNDO/REDO FIFO is %s, you really "
		       "should not\ntry to format a HAMMER filesystem this small.\n",
		       sizetostr((int64_t)HAMMER_BIGBLOCK_SIZE *
				 HAMMER_MIN_UNDO_BIGBLOCKS, sz2));
	if ((int64_t)res.total_size < 50 * GIG)
		printf("\nWARNING: HAMMER filesystems less than 50GB are not "
		       "recommended!\nYou may have to run 'hammer prune-everything' "
		       "and 'hammer reblock'\nquite often, even if using a "
		       "nohistory mount.\n");
	if (fflush(stdout) != 0)
		rc = fail("writing the summary failed: %s", strerror(errno));
out:
	for (int i = 0; i < opened; i++)
		hammer_bdev_close(bds[i]);
	free(bds);
	free(vi);
	return rc;
}
