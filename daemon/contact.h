/*
 * contact: hamletd keeps when each peer was last in contact (its
 * peer_info's last_sync_ms) in the store (heard.h), so `hamlet report
 * lag` knows it while the daemon is down too, with each peer's bytes
 * sent today (its day's budget). Saved every HAMLETD_CONTACT_SAVE_MS
 * through the writer queue when something changed, sooner when a day's
 * budget counted bytes (contact_budget_sent()), and once more when the
 * loop has ended.
 */
#ifndef HAMLETD_CONTACT_H
#define HAMLETD_CONTACT_H

#include "daemon.h"

#define HAMLETD_CONTACT_SAVE_MS 30000
/* HOME/own-feeds that could not be written is tried again this often */
#define HAMLETD_FEEDS_RETRY_S 5

/* Start the timer (after the ingest queue exists). */
/* Also starts a 1 s timer that retries an erasure's rewrite of the store
 * put off while another process had it open (store_compact_wanted),
 * saves the day's budget counts contact_budget_sent() marked, and writes
 * HOME/own-feeds again when a write of it failed (a full disk), every
 * HAMLETD_FEEDS_RETRY_S s until it is (node_feeds_retry), and looks at
 * the certificate chain's end (certwarn_tick()). */
void contact_start(struct daemon *d);
/* Close the timer (daemon_stop). */
void contact_stop(struct daemon *d);
/* After the loop ended (no job runs): save what changed, directly. */
void contact_save_final(struct daemon *d);

/*
 * The key that answered at each configured address is kept in the file
 * HOME/peers.known ("HOST:PORT KEYHEX", a line each), so that after a
 * restart hamlet status lists a peer that has not connected yet by its
 * name, its last contact and what waits for it. Written (whole, through
 * a rename) when an address answers with a key not kept yet; a failure
 * is logged, nothing else depends on it.
 */
void contact_dials_save(struct daemon *d);

/*
 * For pa, just added to the dial list: its key as kept in peers.known,
 * and, for a key with no figures yet, its last contact, name and bytes
 * sent today from the store (as not connected).
 */
void contact_dial_restore(struct daemon *d, struct peer_addr *pa);

/*
 * Entry bytes went out to a peer whose day's budget counts them: the
 * count is saved in the store within a second (the 1 s timer), and at
 * once when held (the budget now holds entries back), so that a power
 * cut gives the peer at most about a second's sending again, never the
 * day's budget (docs/hamletd.md, "Byte budgets").
 */
void contact_budget_sent(struct daemon *d, int held);

/*
 * p's entry bytes sent today, as kept in the store by an earlier run
 * (heard.h), read once; a read that fails is tried again at the next
 * call, so that the kept count is never saved over with a smaller one.
 * A count kept for a later day than today (the clock was set back
 * since) is carried over to today (budget_day_roll()).
 */
void contact_budget_load(struct daemon *d, struct peer_info *p);

/* The local day (budget_day()) by the daemon's wall clock, hlc_wall_ms(),
 * which HAMLET_CLOCK_OFFSET_MS moves as it moves every other date. */
uint32_t contact_budget_today(void);

/*
 * What p acknowledged since the basis kept with it, as kept in the store
 * by an earlier run (heard.h), added to its count once, so that what
 * waits for it goes on from there; kept again every 30 s while it moves
 * and when hamletd stops. Read once; a read that fails is tried again.
 */
void contact_acked_load(struct daemon *d, struct peer_info *p);

#endif
