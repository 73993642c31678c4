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

	problems_close(&a);
	problems_close(&b);
	problems_close(&one);
	TEST_DONE();
}
