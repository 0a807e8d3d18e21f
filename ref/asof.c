/* asof.c - parse and format "@@0x<tid>[:NNNNN]" path suffixes. */
#include "asof.h"

#include <errno.h>
#include <stdio.h>

static int hexdigit(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static unsigned hexval(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

int hammer_asof_parse(const char *comp, size_t len, struct hammer_asof_spec *spec)
{
	size_t at = len;
	for (size_t i = len; i >= 2; i--) {
		if (comp[i - 2] == '@' && comp[i - 1] == '@') {
			at = i - 2;
			break;
		}
	}
	if (at == len)
		return 0;
	const char *p = comp + at + 2, *end = comp + len;
	hammer_tid_t tid = 0;
	if (end - p >= 2 && p[0] == '-' && p[1] == '1') {
		tid = HAMMER_MAX_TID;
		p += 2;
	} else if (end - p >= 18 && p[0] == '0' && (p[1] | 0x20) == 'x') {
		for (int k = 0; k < 16; k++) {
			if (!hexdigit(p[2 + k]))
				return 0;
			tid = tid << 4 | hexval(p[2 + k]);
		}
		p += 18;
	} else {
		return 0;
	}
	int has_pfs = 0;
	uint32_t pfs = 0;
	if (p < end && *p == ':') {
		if (end - p < 6)
			return 0;
		for (int k = 1; k <= 5; k++) {
			if (p[k] < '0' || p[k] > '9')
				return 0;
			pfs = pfs * 10 + (uint32_t)(p[k] - '0');
		}
		p += 6;
		has_pfs = 1;
	}
	if (p != end)
		return 0;	/* trailing junk: an ordinary name */
	if (pfs >= HAMMER_MAX_PFS)
		return -EINVAL;
	spec->name_len = at;
	spec->tid = tid;
	spec->has_pfs = has_pfs;
	spec->pfs_id = pfs;
	return 1;
}

int hammer_asof_format(char *buf, size_t size, hammer_tid_t tid, int pfs_id)
{
	if (pfs_id >= 0)
		return snprintf(buf, size, "@@0x%016llx:%05d",
				(unsigned long long)tid, pfs_id);
	return snprintf(buf, size, "@@0x%016llx", (unsigned long long)tid);
}
