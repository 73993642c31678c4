/*
 * Ctrl-C (or a SIGTERM) during long work that writes the store in
 * batches (import, bundle import): the batch under way ends, the work
 * stops before the next, and says what is stored; then the signal takes
 * its course (the process ends as Ctrl-C would have ended it). The stop
 * signals wait, blocked, between stop_begin() and stop_end(): a batch cut
 * in the middle would leave the operator not knowing what was stored.
 */
#ifndef HAMLET_CLI_STOP_H
#define HAMLET_CLI_STOP_H

#include <signal.h>

struct stop {
	sigset_t set, old;
	int blocked;
};

/* Block SIGINT and SIGTERM, but for one this process was started
 * ignoring (a job run in the background by a script ignores SIGINT). */
void stop_begin(struct stop *s);
/* Has one of them come since? (0 when they could not be blocked.) */
int stop_asked(const struct stop *s);
/* Unblock them: one that came is delivered now. */
void stop_end(struct stop *s);

#endif
