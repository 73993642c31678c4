/*
 * sync_why: why `hamlet sync --wait` goes on waiting, or ends unfinished,
 * for one peer of hamletd's status answer, in words for the operator
 * (translated). Each writes one sentence of at most n bytes into reason.
 */
#ifndef HAMLET_SYNC_WHY_H
#define HAMLET_SYNC_WHY_H

#include "status.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/* A byte budget holds entries back for peer p (the first such, judged
 * sp), held entries in all: the wait ends unfinished. */
void sync_why_budget(const msgpack_object *p, const struct status_peer *sp,
		     uint64_t held, char *reason, size_t n);
/* Nothing received for this long: a sync that stands still (as hamlet
 * status says it, "and none since"); and for this long, worth telling. */
#define SYNC_WHY_STALLED_MS 30000
#define SYNC_WHY_QUIET_MS 5000
/* Entries asked of peer p have not all come: 1 when none has come for
 * SYNC_WHY_STALLED_MS (the link is down, or the sender's byte budget
 * holds them back, which is not on the wire: waiting on is no use),
 * else 0. */
int sync_why_receiving(const msgpack_object *p, char *reason, size_t n);
/* Entries are still to be sent to peer p (judged sp), or it has not
 * acknowledged those sent. */
void sync_why_sending(const msgpack_object *p, const struct status_peer *sp,
		      char *reason, size_t n);
/* Waiting on is no use with peer p, judged sp: this node's disk is full,
 * or p refuses what it is sent as dated too far ahead. */
void sync_why_stuck(const msgpack_object *p, const struct status_peer *sp,
		    char *reason, size_t n);

#endif
