/*
 * asof.h - the one parser of HAMMER's history path syntax, shared by every
 * front end so they all agree.
 *
 * A path component may end in "@@" followed by a TID spec:
 *   name@@0x<16 hex digits>   name as of that TID
 *   name@@-1                  name as of now (the live view)
 * optionally followed by ":NNNNN" (exactly 5 decimal digits) to select the
 * root of pseudo-filesystem NNNNN.  A bare "@@0x..." component (empty name)
 * means "this directory as of the TID".  Anything else after "@@" means the
 * component is an ordinary name that happens to contain "@@".
 */
#ifndef HAMMER_ASOF_H
#define HAMMER_ASOF_H

#include <stddef.h>
#include <stdint.h>

#include "ondisk.h"

struct hammer_asof_spec {
	size_t name_len;	/* bytes of the name before "@@" */
	hammer_tid_t tid;	/* HAMMER_MAX_TID for "@@-1" */
	int has_pfs;		/* ":NNNNN" was given */
	uint32_t pfs_id;	/* 0..65535 */
};

/*
 * Returns 1 and fills *spec when `comp` (length len, not NUL-terminated)
 * carries a valid history suffix, 0 when it is an ordinary name, and
 * -EINVAL for a PFS number above 65535.  The last "@@" is the one parsed.
 */
int hammer_asof_parse(const char *comp, size_t len, struct hammer_asof_spec *spec);

/* Formats "@@0x%016llx" (+ ":%05u" when pfs_id >= 0) into buf. */
int hammer_asof_format(char *buf, size_t size, hammer_tid_t tid, int pfs_id);

#endif
