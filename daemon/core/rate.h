/*
 * rate: how fast a count grows now, for progress lines ("2,300/s, about
 * 38 s left"): over the last RATE_WINDOW_MS or so of its growth, not
 * since the work began, so that a link that stalled and came back shows
 * the speed it has again, not a mean that counts the stall.
 *
 * The caller gives the times (milliseconds of any clock that does not go
 * back) and the count so far; nothing is allocated, and nothing reads a
 * clock here.
 */
#ifndef HAMLET_RATE_H
#define HAMLET_RATE_H

#include <stdint.h>

/* The span of growth the rate is taken over, and how many marks it is
 * kept as: one at most every RATE_WINDOW_MS / RATE_MARKS. A count that
 * stood still longer than RATE_STILL_MS (as long as hamlet status waits
 * before it says "none since") starts again when it grows. */
#define RATE_WINDOW_MS 20000
#define RATE_MARKS 8
#define RATE_STILL_MS 30000

struct rate {
	uint64_t ms[RATE_MARKS], n[RATE_MARKS]; /* marks, oldest at first */
	unsigned first, count;
	uint64_t last_ms, last_n; /* when the count last grew, and to what */
};

/* Start at count n at time now_ms (the work begins; what came before is
 * forgotten). */
void rate_start(struct rate *r, uint64_t now_ms, uint64_t n);

/* The count is n at time now_ms. A count that went down (the work began
 * again) starts again there. */
void rate_note(struct rate *r, uint64_t now_ms, uint64_t n);

/*
 * Units a second at now_ms: the growth since the oldest mark within
 * RATE_WINDOW_MS before the last growth, over the time from that mark to
 * now (so a count that stopped growing shows its rate falling); on a
 * slow count whose growths come further apart than that, the growth
 * since the one before. A growth after more than RATE_STILL_MS without
 * one starts again there: the time it stood still is not counted. 0
 * when not known yet (less than a second measured, or nothing grew since
 * the start).
 */
uint64_t rate_per_s(const struct rate *r, uint64_t now_ms);

#endif
