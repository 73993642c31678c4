/*
 * progress: how far long work has come, on stderr, for a person watching:
 * "importing: 12,000 / 100,000 entries, 2,300/s, about 38 s left",
 * redrawn in place at most PROGRESS_HZ times a second.
 *
 * Only when stderr is a terminal and --json was not given: a script, a
 * log file or a pipe sees none of it.
 */
#ifndef HAMLET_PROGRESS_H
#define HAMLET_PROGRESS_H

#include <stdint.h>

#define PROGRESS_HZ 4

struct progress;

/*
 * Start showing work named what ("importing", translated by the caller)
 * on units ("entries"; NULL: bytes, shown as kB, MB, GB); total 0 when
 * not known (then no time left is shown). NULL, and nothing shown, when stderr is not a terminal, under
 * --json, or out of memory; every function takes NULL.
 */
struct progress *progress_new(const char *what, const char *units,
			      uint64_t total);
/* The work shown is now what (another count: its rate starts again). */
void progress_what(struct progress *p, const char *what);
/* The rate now is per_s, as measured where the work is done (hamletd's,
 * which hamlet status shows), not from the counts told here. */
void progress_rate(struct progress *p, uint64_t per_s);
/* The total became known, or changed. */
void progress_total(struct progress *p, uint64_t total);
/* done units so far; redraws when the last draw is old enough. */
void progress_update(struct progress *p, uint64_t done);
/* Draw the last figures and end the line (when anything was shown), and
 * free p. */
void progress_end(struct progress *p);
/* progress_total() and progress_update() as one callback (ctx: the
 * struct progress, may be NULL), for the core's long work
 * (bundle_progress_fn). */
void progress_cb(void *ctx, uint64_t done, uint64_t total);

/* n bytes as "512 B", "12.3 MB" (1 kB = 1000 B). */
void progress_size(uint64_t n, char out[32]);
/* n with thousands separated: "12,000". */
void progress_count(uint64_t n, char out[32]);
/* "about 38 s left", "about 4 min left", or "time left unknown" when
 * per_s is 0. */
void progress_left(uint64_t left, uint64_t per_s, char out[48]);

#endif
