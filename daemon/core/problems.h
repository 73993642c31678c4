/*
 * problems: a capped list of findings for reports (bundle import, audit).
 * Each finding has a short kind ("signature", "fork", "gap", ...) and a
 * sentence. Past PROBLEMS_MAX only the count grows.
 */
#ifndef HAMLET_PROBLEMS_H
#define HAMLET_PROBLEMS_H

#include <stddef.h>
#include <stdint.h>

#define PROBLEMS_MAX 1000

struct problem {
	char kind[24];
	char text[256];
};

struct problems {
	struct problem *v;
	size_t n, cap;
	uint64_t total; /* including those past the cap */
};

__attribute__((format(printf, 3, 4))) int
problems_add(struct problems *p, const char *kind, const char *fmt, ...);
/* Number of findings of one kind (among those kept). */
size_t problems_count(const struct problems *p, const char *kind);
void problems_close(struct problems *p);

#endif
