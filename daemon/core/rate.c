#include "rate.h"

#include <string.h>

/* The i-th mark, oldest first. */
static unsigned at(const struct rate *r, unsigned i)
{
	return (r->first + i) % RATE_MARKS;
}

void rate_start(struct rate *r, uint64_t now_ms, uint64_t n)
{
	memset(r, 0, sizeof(*r));
	r->ms[0] = now_ms;
	r->n[0] = n;
	r->count = 1;
	r->last_ms = now_ms;
	r->last_n = n;
}

void rate_note(struct rate *r, uint64_t now_ms, uint64_t n)
{
	unsigned k;

	if (!r->count || n < r->last_n) {
		rate_start(r, now_ms, n);
		return;
	}
	if (n == r->last_n || now_ms < r->last_ms)
		return; /* no growth: the time passing lowers the rate */
	if (now_ms - r->last_ms > RATE_STILL_MS) {
		/* it stood still: start again from here, since when in the
		 * time past this growth came in is not known */
		rate_start(r, now_ms, n);
		return;
	}
	r->last_ms = now_ms;
	r->last_n = n;
	k = at(r, r->count - 1);
	if (now_ms - r->ms[k] < RATE_WINDOW_MS / RATE_MARKS)
		return;
	if (r->count == RATE_MARKS) { /* the oldest goes */
		r->first = at(r, 1);
		r->count--;
	}
	k = at(r, r->count++);
	r->ms[k] = now_ms;
	r->n[k] = n;
}

uint64_t rate_per_s(const struct rate *r, uint64_t now_ms)
{
	unsigned i = 0, b;

	if (!r->count)
		return 0;
	/* the oldest mark within the window before the last growth (the
	 * newest is always in it: marks are closer together than that) */
	while (i + 1 < r->count &&
	       r->ms[at(r, i)] + RATE_WINDOW_MS < r->last_ms)
		i++;
	b = at(r, i);
	if (r->n[b] == r->last_n && i > 0 &&
	    r->last_ms - r->ms[at(r, i - 1)] <= RATE_STILL_MS)
		b = at(r, i - 1); /* growths far apart: the last one */
	if (r->last_n <= r->n[b] || now_ms < r->ms[b] + 1000)
		return 0;
	return (r->last_n - r->n[b]) * 1000 / (now_ms - r->ms[b]);
}
