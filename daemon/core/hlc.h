/*
 * hlc: hybrid logical clocks. A timestamp is 48 bits of milliseconds since
 * the Unix epoch and a 16-bit counter, so it orders like wall time when
 * clocks agree and still moves forward when a village PC's clock is wrong.
 */
#ifndef HAMLET_HLC_H
#define HAMLET_HLC_H

#include <stdint.h>

#define HLC_COUNTER_BITS 16
/* A remote timestamp more than this far ahead of our wall clock is not
 * allowed to drag our clock forward (docs/architecture.md "Clocks"). */
#define HLC_MAX_AHEAD_MS (10ull * 60 * 1000)

static inline uint64_t hlc_ms(uint64_t hlc)
{
	return hlc >> HLC_COUNTER_BITS;
}

/* Wall clock in ms; HAMLET_CLOCK_OFFSET_MS (signed) shifts it, which is how
 * tests give a node a wrong clock. */
uint64_t hlc_wall_ms(void);
/* The machine's wall clock in ms, never shifted: what the access log
 * dates a read by (a variable of the reader's own must not move it). */
uint64_t hlc_real_ms(void);

/* Past this lead over the wall clock, only this PC's own wall clock,
 * set wrong and since set right, can have put our clock: hlc_observe()
 * takes another's to HLC_MAX_AHEAD_MS at most, and a wall clock stepped
 * back a little (NTP) afterwards leaves it just past that. */
#define HLC_RESET_AHEAD_MS (HLC_MAX_AHEAD_MS + 60ull * 60 * 1000)

/* The timestamp of a new local event after last; the wall clock itself
 * when last lies more than HLC_RESET_AHEAD_MS ahead of it (this PC's
 * clock was wrong and has been set right: docs/decisions.md "Clocks far
 * ahead"). */
uint64_t hlc_next(uint64_t last, uint64_t wall_ms);

/* Our clock after seeing remote: max(last, remote), but never more than
 * HLC_MAX_AHEAD_MS ahead of wall_ms. */
uint64_t hlc_observe(uint64_t last, uint64_t remote, uint64_t wall_ms);

/* 1 when our clock hlc lies more than HLC_RESET_AHEAD_MS ahead of
 * wall_ms: left there by this PC's wall clock, set wrong and since set
 * right, it goes back to the wall clock. */
static inline int hlc_left_ahead(uint64_t hlc, uint64_t wall_ms)
{
	return hlc_ms(hlc) > wall_ms + HLC_RESET_AHEAD_MS;
}

/* 1 when hlc lies more than HLC_MAX_AHEAD_MS ahead of wall_ms. */
int hlc_is_future(uint64_t hlc, uint64_t wall_ms);

/* "2026-11-23T08:15:02.123Z": RFC 3339 in UTC, to the millisecond, as
 * any ISO 8601 reader takes it. The counter is left out: where the order
 * of two changes in one millisecond matters, the hlc itself goes beside
 * it (a JSON "hlc"). */
void hlc_format(uint64_t hlc, char out[48]);

#endif
