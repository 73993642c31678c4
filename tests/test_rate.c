/* The rate progress lines show: of the last seconds, not since the
 * start; a stall is not averaged in once the count grows again. Times
 * are given, never read from a clock. */
#include "rate.h"
#include "testlib.h"

/* batches of per entries every step ms from t0 to t1 (both included),
 * counted on from *n */
static void batches(struct rate *r, uint64_t t0, uint64_t t1, uint64_t step,
		    uint64_t per, uint64_t *n)
{
	for (uint64_t t = t0; t <= t1; t += step) {
		*n += per;
		rate_note(r, t, *n);
	}
}

int main(void)
{
	struct rate r;
	uint64_t n = 0;

	TEST_START("nothing is known before a second has passed");
	rate_start(&r, 0, 0);
	ASSERT_EQ(rate_per_s(&r, 0), 0);
	rate_note(&r, 500, 50);
	ASSERT_EQ(rate_per_s(&r, 900), 0);
	ASSERT_EQ(rate_per_s(&r, 1000), 50);

	TEST_START("a steady count shows its rate");
	rate_start(&r, 0, 0);
	n = 0;
	batches(&r, 1000, 60000, 1000, 100, &n);
	ASSERT_EQ(n, 6000);
	ASSERT_EQ(rate_per_s(&r, 60000), 100);

	TEST_START("a count that stops growing shows its rate falling");
	ASSERT_TRUE(rate_per_s(&r, 70000) < 70);
	ASSERT_TRUE(rate_per_s(&r, 70000) > 0);

	TEST_START("after a stall of 75 s, the rate is that of the link again, not a mean over the stall");
	/* the tester's 2G link: 250 entries/s, a stall, the same speed again */
	rate_start(&r, 0, 0);
	n = 0;
	batches(&r, 1000, 16000, 1000, 250, &n);
	ASSERT_EQ(rate_per_s(&r, 16000), 250);
	n += 250;
	rate_note(&r, 91000, n); /* the first batch after the stall */
	/* when in the 75 s it came is not known: no rate yet (status then
	 * says "time left unknown", not "about 3 min left") */
	ASSERT_EQ(rate_per_s(&r, 91500), 0);
	batches(&r, 92000, 92000, 1000, 250, &n);
	ASSERT_EQ(rate_per_s(&r, 92000), 250);
	batches(&r, 93000, 100000, 1000, 250, &n);
	ASSERT_EQ(n, 6500);
	ASSERT_EQ(rate_per_s(&r, 100000), 250);
	/* (the mean since the start: 65/s) */
	ASSERT_EQ(n * 1000 / 100000, 65);

	TEST_START("a short stall weighs only while it is within the window");
	rate_start(&r, 0, 0);
	n = 0;
	batches(&r, 1000, 20000, 1000, 250, &n);
	batches(&r, 31000, 35000, 1000, 250, &n); /* 10 s of nothing before */
	ASSERT_TRUE(rate_per_s(&r, 35000) < 250);
	ASSERT_TRUE(rate_per_s(&r, 35000) > 100);
	batches(&r, 36000, 60000, 1000, 250, &n);
	ASSERT_EQ(rate_per_s(&r, 60000), 250);

	TEST_START("a slow count whose growths come 25 s apart still has a rate");
	rate_start(&r, 0, 0);
	rate_note(&r, 25000, 100);
	ASSERT_EQ(rate_per_s(&r, 25000), 4);
	rate_note(&r, 50000, 200);
	ASSERT_EQ(rate_per_s(&r, 50000), 4);

	TEST_START("a count that goes down (the work began again) starts again");
	rate_note(&r, 51000, 10);
	ASSERT_EQ(rate_per_s(&r, 51500), 0);
	rate_note(&r, 53000, 410);
	ASSERT_EQ(rate_per_s(&r, 53000), 200);

	TEST_START("a clock that went back gives no rate rather than a wrong one");
	rate_start(&r, 10000, 0);
	rate_note(&r, 12000, 100);
	ASSERT_EQ(rate_per_s(&r, 5000), 0);
	TEST_DONE();
}
