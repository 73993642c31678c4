/*
 * why: the decoders' way of failing with a sentence. Inside a function
 * with `int r`, `char *why`, `size_t whylen` and an `out:` label,
 * FAULT(code, fmt, ...) sets r, writes the sentence to why (when not
 * NULL) and jumps to out; CHECK(expr, fmt, ...) does so when expr is
 * negative, with expr's code.
 *
 * The sentences are English. A program that shows them to a person may
 * install a translator (why_translate_set()): why_set() and the problem
 * lists (problems.h) then format with the translated format string. The
 * formats are marked with N_() where they are written, so that xgettext
 * finds them; the library itself never calls gettext.
 */
#ifndef HAMLET_WHY_H
#define HAMLET_WHY_H

#include "i18n.h"

#include <stddef.h>
#include <stdio.h>

/* fmt, or its translation (same conversions in the same order);
 * returns fmt itself when it has none. */
typedef const char *(*why_translate_fn)(const char *fmt);

/* Install (NULL: remove) the process's translator. Not thread-safe: call
 * at start-up. */
void why_translate_set(why_translate_fn fn);

/* fmt through the installed translator, or fmt itself. */
__attribute__((format_arg(1))) const char *why_translate(const char *fmt);

/*
 * Between why_plain_begin() and why_plain_end() (they nest; for every
 * thread of the process) the translator is not consulted: for sentences that are stored, like a
 * refused entry's reason, which must read the same in every locale.
 */
void why_plain_begin(void);
void why_plain_end(void);

/*
 * A sentence kept in English (a refused entry's reason, one a daemon
 * sent) in the installed translator's language, into out (n bytes): the
 * catalog's sentence whose English form english is, its conversions'
 * texts carried over in order (a text that is itself a sentence of the
 * catalog translated too). A sentence kept without its leading "KIND: "
 * ("held: ", "fork: ": a report shows the kind apart) is found too, and
 * comes back without the translated kind. Returns out, or english itself
 * when there is no translator or no sentence of the catalog it is.
 */
const char *why_retranslate(const char *english, char *out, size_t n);
/* The same through fn rather than the installed translator: for a
 * program that keeps the core's sentences English (hamletd, whose
 * answers to others stay English) but logs in its operator's language. */
const char *why_retranslate_by(why_translate_fn fn, const char *english,
			       char *out, size_t n);

/* snprintf(why, whylen, translated fmt, ...) when why is not NULL; a
 * sentence longer than whylen is cut at a space (or between two
 * characters) and ends with "…". */
__attribute__((format(printf, 3, 4))) void why_set(char *why, size_t whylen,
						   const char *fmt, ...);

#define FAULT(r_, ...)                                     \
	do {                                               \
		r = (r_);                                  \
		if (why)                                   \
			why_set(why, whylen, __VA_ARGS__); \
		goto out;                                  \
	} while (0)

#define CHECK(expr, ...)                         \
	do {                                     \
		int r__ = (expr);                \
		if (r__ < 0)                     \
			FAULT(r__, __VA_ARGS__); \
	} while (0)

#endif
