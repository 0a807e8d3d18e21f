/* error.c - error records. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int hammer_err_set(struct hammer_err *e, int code, uint64_t off,
		   const char *file, int line, const char *fmt, ...)
{
	if (!e || e->code)
		return code;
	e->code = code;
	e->off = off;
	e->file = file;
	e->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}
