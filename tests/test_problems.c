/*
 * problems: findings past the cap are counted, not kept; appending one
 * list to another keeps what adding each finding in turn would have.
 */
#include "error.h"
#include "problems.h"
#include "testlib.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
	struct problems a = { 0 }, b = { 0 }, one = { 0 };
	char last[16];

	TEST_START("appending keeps the order and counts everything");
	problems_add(&a, "gap", "first");
	problems_add(&b, "record", "second %d", 2);
	problems_add(&b, "digest", "third");
	ASSERT_OK(problems_append(&a, &b));
	ASSERT_EQ(a.n, 3);
	ASSERT_EQ(a.total, 3);
	ASSERT_STREQ(a.v[0].text, "first");
	ASSERT_STREQ(a.v[1].text, "second 2");
	ASSERT_STREQ(a.v[2].kind, "digest");
	ASSERT_EQ(b.n, 2); /* src is left as it was */

	TEST_START("appending past the cap keeps the first PROBLEMS_MAX, as adding would");
	for (int i = 0; i < PROBLEMS_MAX - 2; i++)
		problems_add(&one, "gap", "g%d", i);
	for (int i = 0; i < PROBLEMS_MAX + 5; i++)
		problems_add(&b, "record", "r%d", i);
	ASSERT_EQ(b.n, PROBLEMS_MAX);
	ASSERT_EQ(b.total, PROBLEMS_MAX + 7);
	ASSERT_OK(problems_append(&one, &b));
	ASSERT_EQ(one.n, PROBLEMS_MAX);
	ASSERT_EQ(one.total, (PROBLEMS_MAX - 2) + PROBLEMS_MAX + 7);
	snprintf(last, sizeof(last), "g%d", PROBLEMS_MAX - 3);
	ASSERT_STREQ(one.v[PROBLEMS_MAX - 3].text, last);
	ASSERT_STREQ(one.v[PROBLEMS_MAX - 2].text, "second 2");
	ASSERT_STREQ(one.v[PROBLEMS_MAX - 1].kind, "digest");

	TEST_START("an entry's place, name and reason are kept whole, with real scope names");
	{
		/* a bundle's "ahead" finding at a village of an ordinary
		 * name: 255 bytes of it once cut the last seq to "1395" */
		struct problems l = { 0 };
		char why[256], scope[129];
		const char *want_end = "; this is seq 13953";
		snprintf(why, sizeof(why),
			 "too far ahead: this node holds feed %s up to seq %llu and keeps waiting only entries less than %d past that; this is seq %llu",
			 "bk/bach-thong/quang-thuan/na-pai", 9857ULL, 4096,
			 13953ULL);
		problems_add(&l, "ahead", "entry at byte %zu, %s: %s",
			     (size_t)1260602,
			     "health_profile/NP-13951 (feed bk/bach-thong/quang-thuan/na-pai seq 13953)",
			     why);
		ASSERT_EQ(l.n, 1);
		ASSERT_TRUE(strlen(l.v[0].text) > strlen(want_end));
		ASSERT_STREQ(l.v[0].text + strlen(l.v[0].text) -
				     strlen(want_end),
			     want_end);
		/* the longest: a 128-byte scope twice, a 64-byte record id */
		memset(scope, 's', 128);
		scope[128] = 0;
		snprintf(why, sizeof(why),
			 "too far ahead: this node holds feed %s up to seq %llu and keeps waiting only entries less than %d past that; this is seq %llu",
			 scope, 9007199254740991ULL, 4096, 9007199254740992ULL);
		problems_add(&l, "ahead",
			     "entry at byte %zu, %s/%s (feed %s seq %llu): %s",
			     (size_t)-1, "registration_xxxxxxxxxxxxxxxxxxx",
			     "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr",
			     scope, 9007199254740992ULL, why);
		ASSERT_EQ(l.n, 2);
		ASSERT_TRUE(strlen(l.v[1].text) + 1 < sizeof(l.v[1].text));
		problems_close(&l);
	}

	problems_close(&a);
	problems_close(&b);
	problems_close(&one);
	TEST_DONE();
}
