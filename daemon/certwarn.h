/*
 * certwarn: hamletd warns in its log, once a day, while this node's
 * certificate chain ends within STATUS_CERT_WARN_DAYS (status.h): on
 * that day every other node refuses this one, and a village under a
 * commune whose certificate ends goes with it. hamlet status, /metrics
 * (hamlet_certificate_expires_seconds) and the status page say the same.
 */
#ifndef HAMLETD_CERTWARN_H
#define HAMLETD_CERTWARN_H

#include "daemon.h"

/* Looked at this often (the chain can change: an install, a renewal
 * synced in, the clock); the first tick looks at once. */
#define HAMLETD_CERTWARN_CHECK_S 60
/* A warning that holds is said again this long after the last one. */
#define HAMLETD_CERTWARN_AGAIN_MS (24ull * 3600 * 1000)

/* From the daemon's 1 s tick (contact.c). */
void certwarn_tick(struct daemon *d);

#endif
