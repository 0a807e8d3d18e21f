/*
 * namekey.h - directory entry keys (always the legacy CRC-32, any version).
 *
 * A directory's cap_flags choose the algorithm:
 *   ALG0: key = (crc32(name) & 0x7FFFFFFF) << 32
 *   ALG1: high word = sum of crc32 over the name's segments split at
 *         '.', '-', '_' and '~' (empty segments skipped), masked to 31 bits;
 *         bits 16..31 = low half XOR high half of crc32(whole name).
 * Either way a key whose high word would be 0 gets bit 32 set, so keys are
 * positive and never collide with the synthetic "." and ".." cookies.
 * Entries that hash alike take the next free key, up to `max_iter` steps.
 */
#ifndef HAMMER_NAMEKEY_H
#define HAMMER_NAMEKEY_H

#include <stddef.h>
#include <stdint.h>

#define HAMMER_NAMEKEY_ITER_ALG0 0xFFFFFFFFU
#define HAMMER_NAMEKEY_ITER_ALG1 0x00FFFFFFU

/* Returns the key, or -EINVAL for dirhash algorithms 2 and 3 (undefined). */
int64_t hammer_namekey(uint8_t cap_flags, const void *name, size_t len,
		       uint32_t *max_iter);

#endif
