/*
 * contact: hamletd keeps when each peer was last in contact (its
 * peer_info's last_sync_ms) in the store (heard.h), so `hamlet report
 * lag` knows it while the daemon is down too. Saved every
 * HAMLETD_CONTACT_SAVE_MS through the writer queue when something
 * changed, and once more when the loop has ended.
 */
#ifndef HAMLETD_CONTACT_H
#define HAMLETD_CONTACT_H

#include "daemon.h"

#define HAMLETD_CONTACT_SAVE_MS 30000

/* Start the timer (after the ingest queue exists). */
/* Also starts a 1 s timer that retries an erasure's rewrite of the store
 * put off while another process had it open (store_compact_wanted). */
void contact_start(struct daemon *d);
/* Close the timer (daemon_stop). */
void contact_stop(struct daemon *d);
/* After the loop ended (no job runs): save what changed, directly. */
void contact_save_final(struct daemon *d);

#endif
