#include "hlc.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

uint64_t hlc_wall_ms(void)
{
	struct timespec ts;
	const char *off = getenv("HAMLET_CLOCK_OFFSET_MS");
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (off)
		ms += strtoll(off, NULL, 10);
	return ms < 0 ? 0 : (uint64_t)ms;
}

uint64_t hlc_real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t hlc_next(uint64_t last, uint64_t wall_ms)
{
	uint64_t wall = wall_ms << HLC_COUNTER_BITS;
	/* a clock far ahead came from this PC's own wall clock, set wrong
	 * and since set right (hlc.h): counting on from it would date
	 * every later write days ahead */
	if (wall > last || hlc_left_ahead(last, wall_ms))
		return wall;
	return last + 1;
}

uint64_t hlc_observe(uint64_t last, uint64_t remote, uint64_t wall_ms)
{
	uint64_t cap = (wall_ms + HLC_MAX_AHEAD_MS) << HLC_COUNTER_BITS;
	if (remote > cap)
		remote = cap;
	return remote > last ? remote : last;
}

int hlc_is_future(uint64_t hlc, uint64_t wall_ms)
{
	return hlc_ms(hlc) > wall_ms + HLC_MAX_AHEAD_MS;
}

void hlc_format(uint64_t hlc, char out[48])
{
	uint64_t ms = hlc_ms(hlc);
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}
