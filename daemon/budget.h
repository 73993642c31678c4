/*
 * budget: byte budgets for metered links and the order feeds are sent in.
 * Pure functions (no loop, no store): sizes with units, the local day,
 * and the rank of a collection. config.c parses [budget] with them and
 * sync_send.c enforces them.
 */
#ifndef HAMLETD_BUDGET_H
#define HAMLETD_BUDGET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Ranks of the feeds queued to one peer: the lowest goes first. Trust
 * items (certificates, revocations) travel in their own messages before
 * any of these and are never held by a budget. */
#define BUDGET_RANK_PAYMENT 0
#define BUDGET_RANK_REGISTRATION 1
#define BUDGET_RANK_HEALTH 2
#define BUDGET_RANK_OTHER 3
#define BUDGET_RANKS 4

/*
 * Parse a size: digits, then optionally spaces and a unit B, KB, MB or GB
 * (any case; 1 KB = 1000 bytes), e.g. "5MB", "1500 KB", "200000". "none"
 * (no budget) gives 0. -ERANGE for 0 bytes or over 1000 GB, -EINVAL for
 * anything else.
 */
int budget_size_parse(const char *s, uint64_t *ret);

/* The local calendar day of t (TZ) as YYYYMMDD. */
uint32_t budget_day(time_t t);

/*
 * The day's count *sent, kept for day *day, at local day today: a later
 * day starts it again at 0. An earlier one is the clock set back, by
 * hand or by NTP, and the count goes on (those bytes went out now): set
 * back across one midnight, it stays the later day's, so that passing
 * that midnight again gives a peer no second budget; set back by more
 * (a clock days wrong, corrected), it becomes today's, so the peer waits
 * no more than until the next midnight.
 */
void budget_day_roll(uint32_t *day, uint64_t *sent, uint32_t today);

/* 1 when budget_day_roll() would move a count kept for day at today (a
 * later day, or a clock set back by days): a hold by the day's budget
 * is to be weighed again. */
int budget_day_rolls(uint32_t day, uint32_t today);

/* The rank of a feed whose next entry is in collection (BUDGET_RANK_*). */
int budget_collection_rank(const char *collection);

#endif
