/*
 * crc.h - the two CRCs HAMMER uses.
 *
 * Both are reflected CRC-32s with init and final XOR 0xFFFFFFFF:
 *   legacy  (IEEE 802.3, poly 0xEDB88320): versions 1..6, directory
 *           namekeys and the mirror stream at every version;
 *   crc32c  (Castagnoli, poly 0x82F63B78): everything written at version 7.
 * A CRC can be continued: crc(a||b) == hammer_crc32_update(crc(a), b).
 */
#ifndef HAMMER_CRC_H
#define HAMMER_CRC_H

#include <stddef.h>
#include <stdint.h>

uint32_t hammer_crc32(const void *buf, size_t len);
uint32_t hammer_crc32c(const void *buf, size_t len);
uint32_t hammer_crc32_update(uint32_t crc, const void *buf, size_t len);
uint32_t hammer_crc32c_update(uint32_t crc, const void *buf, size_t len);
/* The table-driven CRC-32C, whatever the CPU (tests compare the two). */
uint32_t hammer_crc32c_portable(uint32_t crc, const void *buf, size_t len);
/* 1 when hammer_crc32c_update uses the CPU's crc32 instruction. */
int hammer_crc32c_hw(void);

/* The CRC a structure is written with at on-disk version `version`. */
static inline uint32_t hammer_datacrc(unsigned version, const void *buf, size_t len)
{
	return version >= 7 ? hammer_crc32c(buf, len) : hammer_crc32(buf, len);
}

/*
 * Which algorithm matched (show prints icrc= for CRC-32C, ocrc= for the
 * legacy CRC).  Version 7 accepts either, as DragonFly does; versions
 * before 7 accept only the legacy CRC.
 */
enum hammer_crc_match { HAMMER_CRC_BAD = 0, HAMMER_CRC_ISCSI = 1, HAMMER_CRC_LEGACY = 2 };
enum hammer_crc_match hammer_crc_check(unsigned version, const void *buf,
				       size_t len, uint32_t stored);
/* Same, for CRCs made of two XORed pieces (volume header, FIFO records). */
enum hammer_crc_match hammer_crc_check2(unsigned version,
					const void *a, size_t alen,
					const void *b, size_t blen,
					uint32_t stored);
static inline uint32_t hammer_datacrc2(unsigned version, const void *a, size_t alen,
				       const void *b, size_t blen)
{
	return hammer_datacrc(version, a, alen) ^ hammer_datacrc(version, b, blen);
}

#endif
