/* budget: sizes with units, the local day, the order of feeds sent. */
#include "budget.h"
#include "error.h"
#include "testlib.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

int main(void)
{
	uint64_t v;

	TEST_START("sizes take B, KB, MB, GB in any case, with or without a space");
	{
		static const struct {
			const char *s;
			uint64_t v;
		} good[] = {
			{ "200000", 200000 },	     { "17B", 17 },
			{ "5MB", 5000000 },	     { "5 mb", 5000000 },
			{ "1500 KB", 1500000 },	     { "2GB", 2000000000ull },
			{ "1000GB", 1000000000000ull }, { "none", 0 },
		};
		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			v = 12345;
			ASSERT_OK(budget_size_parse(good[i].s, &v));
			ASSERT_EQ(v, good[i].v);
		}
	}

	TEST_START("anything else is refused and leaves the value alone");
	{
		static const char *const bad[] = {
			"", "MB", "-1", "+5MB", " 5MB", "5 MiB",
			"5TB", "5.5MB", "5MBs", "99999999999999999999MiB",
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			v = 12345;
			ASSERT_EQ(budget_size_parse(bad[i], &v), -EINVAL);
			ASSERT_EQ(v, 12345);
		}
	}

	TEST_START("a size of the right form but zero or over 1000 GB is out of range, not of a wrong form");
	{
		static const char *const big[] = {
			"0", "0MB", "0 kb", "1001GB", "1000001MB",
			"99999999999999999999", "99999999999999999999999KB",
		};
		for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
			v = 12345;
			ASSERT_EQ(budget_size_parse(big[i], &v), -ERANGE);
			ASSERT_EQ(v, 12345);
		}
	}

	TEST_START("payments go first, then registrations, health events, the rest");
	ASSERT_TRUE(budget_collection_rank("payment") <
		    budget_collection_rank("registration"));
	ASSERT_TRUE(budget_collection_rank("registration") <
		    budget_collection_rank("health_event"));
	ASSERT_TRUE(budget_collection_rank("health_event") <
		    budget_collection_rank("health_profile"));
	ASSERT_EQ(budget_collection_rank("health_profile"), BUDGET_RANK_OTHER);
	ASSERT_EQ(budget_collection_rank(""), BUDGET_RANK_OTHER);
	ASSERT_TRUE(BUDGET_RANK_OTHER < BUDGET_RANKS);

	TEST_START("the day is the local calendar day (TZ)");
	setenv("TZ", "UTC0", 1);
	tzset();
	ASSERT_EQ(budget_day(1767225599), 20251231); /* 2025-12-31 23:59:59Z */
	setenv("TZ", "ICT-7", 1); /* Vietnam: +07, no DST; no tzdata needed */
	tzset();
	ASSERT_EQ(budget_day(1767225599), 20260101);
	ASSERT_EQ(budget_day(1767225599 - 7 * 3600), 20251231);

	TEST_START("a later day starts the day's count again; a clock set back carries it over, across one midnight for the later day");
	{
		/* in turn: the day the clock says, then the day and count
		 * kept (the count set to 39000 first, then 7 on the way) */
		static const struct {
			uint32_t today, day;
			uint64_t sent;
		} roll[] = {
			{ 20260105, 20260105, 39000 }, /* the same day */
			{ 20260104, 20260105, 39000 }, /* back across midnight */
			{ 20260105, 20260105, 39000 }, /* that midnight again */
			{ 20251231, 20251231, 39000 }, /* back by days */
			{ 20260101, 20260101, 0 },     /* the next day */
			{ 20251231, 20260101, 7 },     /* one back, over a year */
			{ 20240229, 20240229, 7 },     /* a leap day, years back */
		};
		uint32_t day = 20260105;
		uint64_t sent = 39000;
		for (size_t i = 0; i < sizeof(roll) / sizeof(roll[0]); i++) {
			if (i == 5)
				sent = 7;
			budget_day_roll(&day, &sent, roll[i].today);
			ASSERT_EQ(day, roll[i].day);
			ASSERT_EQ(sent, roll[i].sent);
		}
		sent = 5;
		day = 0; /* never counted */
		budget_day_roll(&day, &sent, 20260101);
		ASSERT_EQ(day, 20260101);
		ASSERT_EQ(sent, 0);
	}

	TEST_START("a hold by the day's budget is weighed again on a later day, and on a clock set back by days, not across one midnight back");
	ASSERT_EQ(budget_day_rolls(20260105, 20260106), 1);
	ASSERT_EQ(budget_day_rolls(20260105, 20260105), 0);
	ASSERT_EQ(budget_day_rolls(20260105, 20260104), 0);
	ASSERT_EQ(budget_day_rolls(20260110, 20260105), 1);

	TEST_DONE();
}
