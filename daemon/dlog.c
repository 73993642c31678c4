#include "dlog.h"

#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <uv.h>

static int log_max = DLOG_INFO;

void dlog_set_level(int level)
{
	log_max = level;
}

void dlog(int level, const char *fmt, ...)
{
	va_list ap;
	if (level > log_max)
		return;
	/* one line, one write: lines of two threads never interleave */
	flockfile(stderr);
	fprintf(stderr, "<%d>hamletd: ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

const char *dlog_err(int uverr)
{
	/* libuv's codes are -errno on this system, but for the end of a
	 * stream and the resolver's (EAI) errors */
	if (uverr == UV_EOF || (uverr <= UV_EAI_ADDRFAMILY && uverr > -3100))
		return uv_strerror(uverr);
	return hamlet_strerror(uverr);
}
