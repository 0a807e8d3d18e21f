/*
 * crc.c - table-driven reflected CRC-32 and CRC-32C; CRC-32C with the
 * x86-64 crc32 instruction where the CPU has it (the data of every write
 * is checksummed twice, old block and new, so this is on the hot path).
 */
#include "crc.h"

#include <pthread.h>
#include <string.h>

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

uint32_t hammer_crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&tab_once, init_tables);
	return run(tab_c, crc, buf, len);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/*
 * CRC-32C with SSE4.2's crc32 instruction.  One instruction depends on the
 * previous one's result (3 cycles), so three independent streams run over
 * the thirds of each STRIDE * 3 block and are joined with `shift`: the
 * register after STRIDE more zero bytes, a linear map kept as four byte
 * tables.  Feeding data d from register r gives feed(r, 0...) ^ feed(0, d),
 * hence crc(A B C) = shift(shift(a) ^ b) ^ c with b, c started from zero.
 */
#include <nmmintrin.h>

#define HW_STRIDE 1024
static uint32_t hw_shift[4][256];
static int hw_ok;

__attribute__((target("sse4.2")))
static uint32_t hw_zeros(uint32_t r, size_t n)
{
	uint64_t c = r;
	for (size_t i = 0; i < n; i += 8)
		c = _mm_crc32_u64(c, 0);
	return (uint32_t)c;
}

static void hw_init(void)
{
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("sse4.2"))
		return;
	for (int k = 0; k < 4; k++)
		for (uint32_t v = 0; v < 256; v++)
			hw_shift[k][v] = hw_zeros(v << (8 * k), HW_STRIDE);
	hw_ok = 1;
}

static inline uint32_t hw_shift_by_stride(uint32_t r)
{
	return hw_shift[0][r & 0xff] ^ hw_shift[1][(r >> 8) & 0xff] ^
	       hw_shift[2][(r >> 16) & 0xff] ^ hw_shift[3][r >> 24];
}

__attribute__((target("sse4.2")))
static uint32_t hw_run(uint32_t crc, const uint8_t *p, size_t n)
{
	uint64_t a = ~crc;
	while (n && ((uintptr_t)p & 7)) {
		a = _mm_crc32_u8((uint32_t)a, *p++);
		n--;
	}
	while (n >= 3 * HW_STRIDE) {
		uint64_t b = 0, c = 0;
		const uint8_t *q = p + HW_STRIDE, *r = p + 2 * HW_STRIDE;
		for (size_t i = 0; i < HW_STRIDE; i += 8) {
			uint64_t x, y, z;
			memcpy(&x, p + i, 8);
			memcpy(&y, q + i, 8);
			memcpy(&z, r + i, 8);
			a = _mm_crc32_u64(a, x);
			b = _mm_crc32_u64(b, y);
			c = _mm_crc32_u64(c, z);
		}
		a = hw_shift_by_stride(hw_shift_by_stride((uint32_t)a) ^
				       (uint32_t)b) ^ (uint32_t)c;
		p += 3 * HW_STRIDE;
		n -= 3 * HW_STRIDE;
	}
	while (n >= 8) {
		uint64_t x;
		memcpy(&x, p, 8);
		a = _mm_crc32_u64(a, x);
		p += 8;
		n -= 8;
	}
	while (n--)
		a = _mm_crc32_u8((uint32_t)a, *p++);
	return ~(uint32_t)a;
}
#else
static const int hw_ok = 0;
static void hw_init(void)
{
}
static uint32_t hw_run(uint32_t crc, const uint8_t *p, size_t n)
{
	return hammer_crc32c_portable(crc, p, n);
}
#endif

static pthread_once_t hw_once = PTHREAD_ONCE_INIT;

int hammer_crc32c_hw(void)
{
	pthread_once(&hw_once, hw_init);
	return hw_ok;
}

uint32_t hammer_crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	if (hammer_crc32c_hw())
		return hw_run(crc, buf, len);
	return hammer_crc32c_portable(crc, buf, len);
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
