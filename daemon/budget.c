#include "budget.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BUDGET_MAX ((uint64_t)1000 * 1000 * 1000 * 1000) /* 1000 GB */

int budget_size_parse(const char *s, uint64_t *ret)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = { { "", 1 },	   { "B", 1 },
		      { "KB", 1000 },	   { "MB", 1000 * 1000 },
		      { "GB", 1000 * 1000 * 1000 } };
	uint64_t v = 0;
	const char *p = s;
	int big = 0;

	if (strcasecmp(s, "none") == 0) {
		*ret = 0;
		return 0;
	}
	if (*p < '0' || *p > '9')
		return -EINVAL;
	/* read on past a number too large, so that its form is judged too */
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > BUDGET_MAX)
			big = 1;
		else
			v = v * 10 + (uint64_t)(*p - '0');
	}
	while (*p == ' ')
		p++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(p, units[i].unit) != 0)
			continue;
		if (big || v == 0 || v > BUDGET_MAX / units[i].mult)
			return -ERANGE;
		*ret = v * units[i].mult;
		return 0;
	}
	return -EINVAL;
}

uint32_t budget_day(time_t t)
{
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return 0;
	return (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
			  tm.tm_mday);
}

/* The days since 1970-01-01 of a YYYYMMDD (a proleptic Gregorian
 * calendar's day count; the days from civil of H. Hinnant). */
static int64_t day_number(uint32_t ymd)
{
	int64_t y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void budget_day_roll(uint32_t *day, uint64_t *sent, uint32_t today)
{
	if (today > *day) {
		*sent = 0;
		*day = today;
	} else if (today < *day && day_number(*day) - day_number(today) > 1) {
		/* set back by days (a clock that was wrong, corrected):
		 * today's count goes on from it, and the next midnight
		 * starts a new one */
		*day = today;
	}
	/* set back across one midnight: the count stays the later day's,
	 * and passing that midnight again gives no second budget */
}

int budget_day_rolls(uint32_t day, uint32_t today)
{
	uint64_t sent = 0;
	uint32_t d = day;
	budget_day_roll(&d, &sent, today);
	return d != day;
}

int budget_collection_rank(const char *collection)
{
	if (strcmp(collection, "payment") == 0)
		return BUDGET_RANK_PAYMENT;
	if (strcmp(collection, "registration") == 0)
		return BUDGET_RANK_REGISTRATION;
	if (strcmp(collection, "health_event") == 0)
		return BUDGET_RANK_HEALTH;
	return BUDGET_RANK_OTHER;
}
