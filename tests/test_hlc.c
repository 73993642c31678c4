/* Hybrid logical clocks: next, observe and its cap, the future test, the
 * text form, and the wall clock with HAMLET_CLOCK_OFFSET_MS. */
#include "error.h"
#include "hlc.h"
#include "testlib.h"

#include <time.h>

#define MS(ms) ((uint64_t)(ms) << HLC_COUNTER_BITS)

static uint64_t realtime_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* hlc_wall_ms() with HAMLET_CLOCK_OFFSET_MS set to offset (NULL: unset)
 * lies within [lo, hi] of the real clock read around it, shifted. */
static void check_wall(const char *offset, int64_t shift)
{
	uint64_t before, wall, after;
	if (offset)
		ASSERT_EQ(setenv("HAMLET_CLOCK_OFFSET_MS", offset, 1), 0);
	else
		ASSERT_EQ(unsetenv("HAMLET_CLOCK_OFFSET_MS"), 0);
	before = realtime_ms();
	wall = hlc_wall_ms();
	after = realtime_ms();
	ASSERT_TRUE((int64_t)wall >= (int64_t)before + shift);
	ASSERT_TRUE((int64_t)wall <= (int64_t)after + shift);
}

int main(void)
{
	const uint64_t wall = 1763884800000ull; /* 2025-11-23T08:00:00Z */
	char text[48];

	TEST_START("hlc_next takes the wall clock when it is ahead");
	ASSERT_EQ(hlc_next(0, wall), MS(wall));
	ASSERT_EQ(hlc_next(MS(wall - 1) | 7, wall), MS(wall));

	TEST_START("hlc_next counts up when the wall clock stands still or goes back");
	ASSERT_EQ(hlc_next(MS(wall), wall), MS(wall) | 1);
	ASSERT_EQ(hlc_next(MS(wall) | 1, wall), MS(wall) | 2);
	ASSERT_EQ(hlc_next(MS(wall) | 2, wall - 5000), MS(wall) | 3);
	/* a full counter carries into the milliseconds: still later */
	ASSERT_EQ(hlc_next(MS(wall) | 0xffff, wall), MS(wall + 1));

	TEST_START("hlc_next counts on from a clock up to HLC_MAX_AHEAD_MS ahead");
	ASSERT_EQ(hlc_next(MS(wall + HLC_MAX_AHEAD_MS) | 4, wall),
		  MS(wall + HLC_MAX_AHEAD_MS) | 5);

	TEST_START("hlc_next counts on from a clock another's entry dragged ahead, the wall clock stepped back since");
	/* dragged to wall + HLC_MAX_AHEAD_MS, then NTP steps back 200 ms */
	ASSERT_EQ(hlc_next(MS(wall + HLC_MAX_AHEAD_MS + 200) | 3, wall),
		  MS(wall + HLC_MAX_AHEAD_MS + 200) | 4);
	ASSERT_EQ(hlc_next(MS(wall + HLC_RESET_AHEAD_MS), wall),
		  MS(wall + HLC_RESET_AHEAD_MS) | 1);

	TEST_START("hlc_next goes back to the wall clock from one left days ahead (a clock set right)");
	ASSERT_EQ(hlc_next(MS(wall + HLC_RESET_AHEAD_MS + 1), wall), MS(wall));
	ASSERT_EQ(hlc_next(MS(wall + 3 * 86400000ull) | 9, wall), MS(wall));

	TEST_START("hlc_observe moves to a later remote time and never back");
	ASSERT_EQ(hlc_observe(MS(wall), MS(wall + 5) | 2, wall), MS(wall + 5) | 2);
	ASSERT_EQ(hlc_observe(MS(wall + 5), MS(wall), wall), MS(wall + 5));
	ASSERT_EQ(hlc_observe(MS(wall), MS(wall), wall), MS(wall));

	TEST_START("hlc_observe lets a remote time at most HLC_MAX_AHEAD_MS ahead drag the clock");
	ASSERT_EQ(hlc_observe(MS(wall), MS(wall + HLC_MAX_AHEAD_MS), wall),
		  MS(wall + HLC_MAX_AHEAD_MS));
	ASSERT_EQ(hlc_observe(MS(wall), MS(wall + HLC_MAX_AHEAD_MS) | 1, wall),
		  MS(wall + HLC_MAX_AHEAD_MS));
	ASSERT_EQ(hlc_observe(MS(wall), MS(wall + 86400000ull), wall),
		  MS(wall + HLC_MAX_AHEAD_MS));
	ASSERT_EQ(hlc_observe(0, UINT64_MAX, wall), MS(wall + HLC_MAX_AHEAD_MS));
	/* a clock already past the cap stays where it is */
	ASSERT_EQ(hlc_observe(MS(wall + HLC_MAX_AHEAD_MS + 9), UINT64_MAX, wall),
		  MS(wall + HLC_MAX_AHEAD_MS + 9));

	TEST_START("hlc_is_future: more than HLC_MAX_AHEAD_MS ahead of the wall clock");
	ASSERT_EQ(hlc_is_future(MS(wall), wall), 0);
	ASSERT_EQ(hlc_is_future(MS(wall - 86400000ull), wall), 0);
	ASSERT_EQ(hlc_is_future(MS(wall + HLC_MAX_AHEAD_MS) | 0xffff, wall), 0);
	ASSERT_EQ(hlc_is_future(MS(wall + HLC_MAX_AHEAD_MS + 1), wall), 1);
	ASSERT_EQ(hlc_is_future(UINT64_MAX, wall), 1);

	TEST_START("hlc_format writes RFC 3339 UTC with milliseconds, never the counter");
	hlc_format(MS(wall), text);
	ASSERT_STREQ(text, "2025-11-23T08:00:00.000Z");
	hlc_format(MS(1700000000123ull) | 3, text);
	ASSERT_STREQ(text, "2023-11-14T22:13:20.123Z");
	hlc_format(0, text);
	ASSERT_STREQ(text, "1970-01-01T00:00:00.000Z");
	hlc_format(MS(wall + 999) | 0xffff, text);
	ASSERT_STREQ(text, "2025-11-23T08:00:00.999Z");

	TEST_START("hlc_wall_ms is the real clock without HAMLET_CLOCK_OFFSET_MS");
	check_wall(NULL, 0);

	TEST_START("HAMLET_CLOCK_OFFSET_MS shifts the wall clock back or ahead");
	check_wall("-3600000", -3600000);
	check_wall("86400000", 86400000);
	check_wall("+1500", 1500);

	TEST_START("an offset before the epoch gives 0, not a wrapped time");
	ASSERT_EQ(setenv("HAMLET_CLOCK_OFFSET_MS", "-99999999999999", 1), 0);
	ASSERT_EQ(hlc_wall_ms(), 0);
	ASSERT_EQ(unsetenv("HAMLET_CLOCK_OFFSET_MS"), 0);

	TEST_START("a node with its clock an hour ahead marks its writes as future for us");
	ASSERT_EQ(setenv("HAMLET_CLOCK_OFFSET_MS", "3600000", 1), 0);
	{
		uint64_t theirs = hlc_next(0, hlc_wall_ms());
		ASSERT_EQ(unsetenv("HAMLET_CLOCK_OFFSET_MS"), 0);
		ASSERT_EQ(hlc_is_future(theirs, hlc_wall_ms()), 1);
		/* and observing it moves our clock only up to the cap */
		uint64_t now = hlc_wall_ms();
		ASSERT_TRUE(hlc_observe(MS(now), theirs, now) <=
			    MS(now + HLC_MAX_AHEAD_MS));
	}
	TEST_DONE();
}
