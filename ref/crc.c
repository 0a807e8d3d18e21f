/* crc.c - table-driven reflected CRC-32 and CRC-32C. */
#include "crc.h"

#include <pthread.h>

static uint32_t tab_ieee[8][256];
static uint32_t tab_c[8][256];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void build(uint32_t t[8][256], uint32_t poly)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
		t[0][i] = c;
	}
	/* slicing-by-8 tables */
	for (uint32_t i = 0; i < 256; i++)
		for (int s = 1; s < 8; s++)
			t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
}

static void init_tables(void)
{
	build(tab_ieee, 0xEDB88320u);
	build(tab_c, 0x82F63B78u);
}

static uint32_t run(uint32_t t[8][256], uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n >= 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
				     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
		      t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
		      t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

uint32_t hammer_crc32_update(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&tab_once, init_tables);
	return run(tab_ieee, crc, buf, len);
}

uint32_t hammer_crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&tab_once, init_tables);
	return run(tab_c, crc, buf, len);
}

uint32_t hammer_crc32(const void *buf, size_t len)
{
	return hammer_crc32_update(0, buf, len);
}

uint32_t hammer_crc32c(const void *buf, size_t len)
{
	return hammer_crc32c_update(0, buf, len);
}

enum hammer_crc_match hammer_crc_check(unsigned version, const void *buf,
				       size_t len, uint32_t stored)
{
	if (version >= 7 && hammer_crc32c(buf, len) == stored)
		return HAMMER_CRC_ISCSI;
	if (hammer_crc32(buf, len) == stored)
		return HAMMER_CRC_LEGACY;
	return HAMMER_CRC_BAD;
}

enum hammer_crc_match hammer_crc_check2(unsigned version,
					const void *a, size_t alen,
					const void *b, size_t blen,
					uint32_t stored)
{
	if (version >= 7 &&
	    (hammer_crc32c(a, alen) ^ hammer_crc32c(b, blen)) == stored)
		return HAMMER_CRC_ISCSI;
	if ((hammer_crc32(a, alen) ^ hammer_crc32(b, blen)) == stored)
		return HAMMER_CRC_LEGACY;
	return HAMMER_CRC_BAD;
}
