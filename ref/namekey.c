/* namekey.c - ALG0 and ALG1 directory hashes. */
#include "namekey.h"
#include "crc.h"
#include "ondisk.h"

#include <errno.h>

static int is_separator(char c)
{
	return c == '.' || c == '-' || c == '_' || c == '~';
}

int64_t hammer_namekey(uint8_t cap_flags, const void *name, size_t len,
		       uint32_t *max_iter)
{
	const char *s = name;
	uint64_t key;

	switch (cap_flags & HAMMER_INODE_CAP_DIRHASH_MASK) {
	case HAMMER_INODE_CAP_DIRHASH_ALG0:
		key = (uint64_t)(hammer_crc32(s, len) & 0x7FFFFFFFu) << 32;
		*max_iter = HAMMER_NAMEKEY_ITER_ALG0;
		break;
	case HAMMER_INODE_CAP_DIRHASH_ALG1: {
		uint32_t sum = 0;	/* wraps, as the on-disk format expects */
		size_t seg = 0;
		for (size_t i = 0; i <= len; i++) {
			if (i == len || is_separator(s[i])) {
				if (i > seg)
					sum += hammer_crc32(s + seg, i - seg);
				seg = i + 1;
			}
		}
		key = (uint64_t)(sum & 0x7FFFFFFFu) << 32;
		uint32_t whole = hammer_crc32(s, len);
		key |= (whole ^ (whole << 16)) & 0xFFFF0000u;
		*max_iter = HAMMER_NAMEKEY_ITER_ALG1;
		break;
	}
	default:
		*max_iter = 0;
		return -EINVAL;
	}
	if ((key >> 32) == 0)
		key |= 0x100000000ULL;
	return (int64_t)key;
}
