/*
 * problems: a capped list of findings for reports (bundle import, audit).
 * Each finding has a short kind ("signature", "fork", "gap", ...) and a
 * sentence. Past PROBLEMS_MAX only the count grows. The sentence is kept
 * in English, and also in the reader's language when the program
 * installed a translator (why.h); callers mark fmt with N_().
 */
#ifndef HAMLET_PROBLEMS_H
#define HAMLET_PROBLEMS_H

#include "i18n.h"

#include <stddef.h>
#include <stdint.h>

#define PROBLEMS_MAX 1000

struct problem {
	char kind[24];
	/* English: for --json and logs. Room for the longest sentence a
	 * report makes, an entry's place and name (a 128-byte scope, a
	 * 64-byte record id) before its reason (which may name the scope
	 * again): one cut short shows a wrong number ("seq 1395" for seq
	 * 13953) and cannot be shown translated */
	char text[640];
	char shown[960]; /* text in the reader's language (why_translate());
			  * "" when it is the same as text */
};

struct problems {
	struct problem *v;
	size_t n, cap;
	uint64_t total; /* including those past the cap */
};

__attribute__((format(printf, 3, 4))) int
problems_add(struct problems *p, const char *kind, const char *fmt, ...);
/* The same for a fixed sentence (marked N_() by the caller), which may
 * hold '%'. */
int problems_add_text(struct problems *p, const char *kind, const char *text);
/* Add src's findings after dst's, as if each had been added to dst in
 * turn: dst keeps the first PROBLEMS_MAX, total counts them all. src is
 * left as it was. */
int problems_append(struct problems *dst, const struct problems *src);
/* Number of findings of one kind (among those kept). */
size_t problems_count(const struct problems *p, const char *kind);
void problems_close(struct problems *p);

#endif
