/*
 * error.h - how the engine reports what went wrong without printing.
 *
 * Functions return 0 or a negative errno.  Corruption is -EUCLEAN; the
 * caller may pass a struct hammer_err to learn where (volume, on-disk
 * address, source line) and why, in one sentence fit for a user.
 */
#ifndef HAMMER_ERROR_H
#define HAMMER_ERROR_H

#include <errno.h>
#include <stdint.h>

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

struct hammer_err {
	int code;		/* negative errno */
	uint64_t off;		/* on-disk address involved, or ~0 */
	const char *file;	/* source location that detected it */
	int line;
	char msg[512];
};

/* Records the first error only; later calls keep the original cause. */
int hammer_err_set(struct hammer_err *e, int code, uint64_t off,
		   const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#define HAMMER_ERR(e, code, off, ...) \
	hammer_err_set((e), (code), (off), __FILE__, __LINE__, __VA_ARGS__)
#define HAMMER_CORRUPT(e, off, ...) HAMMER_ERR((e), -EUCLEAN, (off), __VA_ARGS__)

#endif
