/*
 * Minimal assertions for hamlet's tests: each failure prints both values
 * with file and line, and the test binary exits non-zero.
 */
#ifndef HAMLET_TESTLIB_H
#define HAMLET_TESTLIB_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int testlib_failures;
static const char *testlib_case = "(setup)";

/* Called once a check has failed, before the test exits: a test linked
 * with daemon_proc.c prints what its daemons logged last. */
void testlib_on_failure(void) __attribute__((weak));

#define TEST_START(sentence)                                  \
	do {                                                  \
		testlib_case = (sentence);                    \
		fprintf(stderr, "-- %s\n", testlib_case);     \
	} while (0)

#define TEST_FAIL_(fmt, ...)                                                   \
	do {                                                                   \
		fprintf(stderr, "%s:%d: FAILED in \"%s\": " fmt "\n", __FILE__, \
			__LINE__, testlib_case, __VA_ARGS__);                  \
		if (testlib_on_failure)                                        \
			testlib_on_failure();                                  \
		exit(1);                                                       \
	} while (0)

#define ASSERT_TRUE(c)                                    \
	do {                                              \
		if (!(c))                                 \
			TEST_FAIL_("expected true: %s", #c); \
	} while (0)

#define ASSERT_EQ(a, b)                                                          \
	do {                                                                     \
		long long a_ = (long long)(a), b_ = (long long)(b);              \
		if (a_ != b_)                                                    \
			TEST_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);     \
	} while (0)

#define ASSERT_NE(a, b)                                                          \
	do {                                                                     \
		long long a_ = (long long)(a), b_ = (long long)(b);              \
		if (a_ == b_)                                                    \
			TEST_FAIL_("%s != %s: both %lld", #a, #b, a_);            \
	} while (0)

#define ASSERT_OK(expr)                                                          \
	do {                                                                     \
		int r_ = (expr);                                                 \
		if (r_ < 0)                                                      \
			TEST_FAIL_("%s returned %d (%s)", #expr, r_,             \
				   hamlet_strerror(r_));                         \
	} while (0)

#define ASSERT_STREQ(a, b)                                                       \
	do {                                                                     \
		const char *a_ = (a), *b_ = (b);                                 \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                           \
			TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b,          \
				   a_ ? a_ : "(null)", b_ ? b_ : "(null)");      \
	} while (0)

#define ASSERT_MEMEQ(a, b, n)                                                    \
	do {                                                                     \
		if (memcmp((a), (b), (n)) != 0)                                  \
			TEST_FAIL_("%s and %s differ in their %zu bytes", #a, #b, \
				   (size_t)(n));                                 \
	} while (0)

/* Decode hex into out (exactly outlen bytes); returns 0 or -1. */
static inline int test_unhex(const char *hex, unsigned char *out, size_t outlen)
{
	size_t n = strlen(hex);
	if (n != outlen * 2)
		return -1;
	for (size_t i = 0; i < outlen; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

#define TEST_DONE()                                                      \
	do {                                                             \
		fprintf(stderr, "all cases passed in %s\n", __FILE__);   \
		return testlib_failures ? 1 : 0;                         \
	} while (0)

#endif
