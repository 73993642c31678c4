/*
 * utf8: the checker on valid text, each kind of invalid byte sequence
 * and each control character class; cutting never ends inside a
 * character; scrubbing leaves valid text alone and makes any other
 * valid.
 */
#include "testlib.h"
#include "utf8.h"

#include <string.h>

static enum utf8_fault check(const char *s, size_t *at)
{
	return utf8_check(s, strlen(s), 0, at);
}

int main(void)
{
	size_t at = 99;

	TEST_START("valid text, Vietnamese included, with tab and newline");
	ASSERT_EQ(check("Lò Thị Mai\tNông Văn Đức\n", NULL), UTF8_OK);
	ASSERT_EQ(check("", NULL), UTF8_OK);
	ASSERT_EQ(check("\xf0\x9f\x99\x82 U+1F642", NULL), UTF8_OK);
	ASSERT_EQ(check("\xf4\x8f\xbf\xbf", NULL), UTF8_OK); /* U+10FFFF */

	TEST_START("invalid sequences are found, at their first byte");
	ASSERT_EQ(check("ab\xff", &at), UTF8_INVALID);
	ASSERT_EQ(at, 2);
	ASSERT_EQ(check("\xc3", &at), UTF8_INVALID); /* cut short */
	ASSERT_EQ(at, 0);
	ASSERT_EQ(check("x\xc0\xaf", &at), UTF8_INVALID); /* overlong '/' */
	ASSERT_EQ(at, 1);
	ASSERT_EQ(check("\xe0\x80\xaf", NULL), UTF8_INVALID); /* overlong */
	ASSERT_EQ(check("\xed\xa0\x80", NULL), UTF8_INVALID); /* surrogate */
	ASSERT_EQ(check("\xf4\x90\x80\x80", NULL), UTF8_INVALID); /* > U+10FFFF */
	ASSERT_EQ(check("\xe1\xbb\x87\x80", &at), UTF8_INVALID); /* stray */
	ASSERT_EQ(at, 3);
	ASSERT_EQ(utf8_check("a\0b", 3, 1, NULL), UTF8_OK);

	TEST_START("control characters but tab and newline are named, C1 too");
	ASSERT_EQ(check("a\x01", &at), UTF8_CONTROL);
	ASSERT_EQ(at, 1);
	ASSERT_EQ(check("\r", NULL), UTF8_CONTROL);
	ASSERT_EQ(check("\x1b[1m", NULL), UTF8_CONTROL);
	ASSERT_EQ(check("\x7f", NULL), UTF8_CONTROL);
	ASSERT_EQ(check("\xc2\x85", NULL), UTF8_CONTROL); /* U+0085 */
	ASSERT_EQ(check("\xc2\xa0", NULL), UTF8_OK);	 /* U+00A0 */
	ASSERT_EQ(utf8_check("a\x01", 2, 1, NULL), UTF8_OK);
	ASSERT_EQ(utf8_check("a\0b", 3, 0, &at), UTF8_CONTROL);
	ASSERT_EQ(at, 1);

	TEST_START("a cut keeps whole characters");
	{
		const char *s = "a\xe1\xbb\x87"; /* "aệ" */
		ASSERT_EQ(utf8_cut(s, 4, 10), 4);
		ASSERT_EQ(utf8_cut(s, 4, 4), 4);
		ASSERT_EQ(utf8_cut(s, 4, 3), 1);
		ASSERT_EQ(utf8_cut(s, 4, 2), 1);
		ASSERT_EQ(utf8_cut(s, 4, 1), 1);
		ASSERT_EQ(utf8_cut(s, 4, 0), 0);
		/* not UTF-8 after the cut: cut where asked */
		ASSERT_EQ(utf8_cut("ab\x80\x80\x80\x80", 6, 5), 5);
		/* a read that ends inside a character: it ends in the next */
		ASSERT_EQ(utf8_whole("ab\xc4", 3), 2);
		ASSERT_EQ(utf8_whole("ab\xc4\x83", 4), 4);
		ASSERT_EQ(utf8_whole("a\xe1\xba", 3), 1);
		ASSERT_EQ(utf8_whole("a\xe1\xba\xa1", 4), 4);
		ASSERT_EQ(utf8_whole("a\xf0\x9f\x98", 4), 1);
		ASSERT_EQ(utf8_whole("a\xf0\x9f\x98\x80", 5), 5);
		ASSERT_EQ(utf8_whole("abc", 3), 3);
		ASSERT_EQ(utf8_whole("", 0), 0);
		/* stray continuation bytes are left for the check to find */
		ASSERT_EQ(utf8_whole("a\x80\x80\x80\x80", 5), 5);
	}

	TEST_START("scrubbing makes any bytes valid, and leaves valid text alone");
	{
		char a[] = "Lò Thị\xff Mai\xe1\xbb";
		char b[] = "Nông Văn Đức";
		utf8_scrub(a);
		ASSERT_STREQ(a, "Lò Thị? Mai??");
		ASSERT_EQ(check(a, NULL), UTF8_OK);
		utf8_scrub(b);
		ASSERT_STREQ(b, "Nông Văn Đức");
	}
	TEST_DONE();
}
