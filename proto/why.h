/*
 * why: the decoders' way of failing with a sentence. Inside a function
 * with `int r`, `char *why`, `size_t whylen` and an `out:` label,
 * FAULT(code, fmt, ...) sets r, writes the sentence to why (when not
 * NULL) and jumps to out; CHECK(expr, fmt, ...) does so when expr is
 * negative, with expr's code.
 */
#ifndef HAMLET_WHY_H
#define HAMLET_WHY_H

#include <stdio.h>

#define FAULT(r_, ...)                                      \
	do {                                                \
		r = (r_);                                   \
		if (why)                                    \
			snprintf(why, whylen, __VA_ARGS__); \
		goto out;                                   \
	} while (0)

#define CHECK(expr, ...)                         \
	do {                                     \
		int r__ = (expr);                \
		if (r__ < 0)                     \
			FAULT(r__, __VA_ARGS__); \
	} while (0)

#endif
