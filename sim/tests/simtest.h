/* simtest.h - helpers shared by the sim tests: seeded bytes and repro ids. */
#ifndef SIM_TESTS_SIMTEST_H
#define SIM_TESTS_SIMTEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

/* What reruns the current case; printed by CHECK on failure. */
static char simtest_case[256];

#define CASE(...) snprintf(simtest_case, sizeof(simtest_case), __VA_ARGS__)
#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			print_error("%s:%d: %s failed; reproduce: %s\n", __FILE__,   \
				    __LINE__, #cond, simtest_case);              \
			fail();                                                  \
		}                                                                \
	} while (0)

static inline uint64_t t_rand(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static inline void t_fill(uint64_t *x, void *buf, size_t len)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)t_rand(x);
}

#endif
