/*
 * heard: through whom this node last heard of each feed, and when it last
 * had contact with each direct peer; what `hamlet report lag` reads to
 * tell which villages are behind and where their news last came from.
 *
 * Table ST_HEARD, three kinds of row (docs/architecture.md "Store layout"):
 *
 *   'f' || feed key(32) -> when(be64 ms) || via kind(u8) || via
 *       the last delivery that moved the feed's head: our wall clock at
 *       its commit, and through what: HEARD_PEER (via = the direct
 *       peer's key, 32 bytes), HEARD_BUNDLE (via = the bundle's path as
 *       given, at most HEARD_MAX_FILE bytes, possibly empty) or
 *       HEARD_LOCAL (via empty: the local socket's ingest).
 *   'p' || peer key(32) -> when(be64 ms)
 *       our wall clock at the last contact with that direct peer (a
 *       session that synced, or a batch of its committed).
 *   'b' || peer key(32) -> day(be32, local YYYYMMDD) || sent(be64)
 *       the bytes of ENTRIES sent to that peer on that day, which its
 *       daily byte budget counts (hamletd's [budget]), so that a restart
 *       does not hand a metered link the day's budget again.
 *   'a' || peer key(32) -> version(be64) || acked(be64)
 *       the entries that peer acknowledged since the basis kept with it
 *       at that store version (peerbase.h; 0: none kept, since the
 *       first session), so that what waits for it (status.h) is known
 *       across a restart and with hamletd stopped.
 *
 * Feed rows are written in the transaction that stores the entries
 * (log_ingest_via), so they never disagree with the feeds; there is at
 * most one per feed of the store. Peer rows, and budget rows, are each
 * at most HEARD_MAX_PEERS: past that a new peer's contact is not kept
 * (those kept stay), and a new peer's budget takes the place of one
 * counted on an earlier day (or is not kept, when all are of its day).
 */
#ifndef HAMLET_HEARD_H
#define HAMLET_HEARD_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

#define HEARD_MAX_FILE 200
#define HEARD_MAX_PEERS 4096

enum heard_kind {
	HEARD_LOCAL = 0,  /* the local socket (a tool, or a bundle through
			   * hamletd) */
	HEARD_PEER = 1,	  /* a direct peer's session */
	HEARD_BUNDLE = 2, /* a bundle file imported without hamletd */
};

struct heard_via {
	int kind;
	uint8_t peer[32];		/* HEARD_PEER */
	char file[HEARD_MAX_FILE + 1];	/* HEARD_BUNDLE; "" unknown */
};

struct heard_feed {
	uint8_t feed[32];
	uint64_t when_ms;
	struct heard_via via;
};

/* via for a peer, or for a bundle file (its path cut to HEARD_MAX_FILE
 * bytes). */
void heard_via_peer(struct heard_via *v, const uint8_t peer[32]);
void heard_via_bundle(struct heard_via *v, const char *path);

/* Encode a feed row's value: returns its length (<= HEARD_ROW_MAX). */
#define HEARD_ROW_MAX (8 + 1 + HEARD_MAX_FILE)
size_t heard_row_encode(uint64_t when_ms, const struct heard_via *via,
			uint8_t out[HEARD_ROW_MAX]);
/* Decode one: HAMLET_ECORRUPT when it is not one. */
int heard_row_decode(const uint8_t *v, size_t vl, struct heard_feed *ret);

struct log_advances;
/*
 * In the transaction that moved them: note each feed of moved as heard
 * via at when_ms, and for a peer its contact too. 0 or <0 (store).
 */
int heard_moved(struct store_txn *t, const struct log_advances *moved,
		const struct heard_via *via, uint64_t when_ms);

/* A feed's row: 0, or HAMLET_ENOTFOUND. */
int heard_feed_get(struct store_txn *t, const uint8_t feed[32],
		   struct heard_feed *ret);

/* Note a contact with peer at when_ms (a later one is kept). */
int heard_contact_put(struct store_txn *t, const uint8_t peer[32],
		      uint64_t when_ms);
/* A peer's last contact: 0, or HAMLET_ENOTFOUND. */
int heard_contact_get(struct store_txn *t, const uint8_t peer[32],
		      uint64_t *ret_ms);

typedef int (*heard_contact_cb)(void *ctx, const uint8_t peer[32],
				uint64_t when_ms);
/* Every peer contact kept, in key order; a non-zero cb return stops. */
int heard_contacts_each(struct store_txn *t, heard_contact_cb cb, void *ctx);

/* The bytes sent to peer on its day, by its budget row: 0, or
 * HAMLET_ENOTFOUND. */
int heard_budget_get(struct store_txn *t, const uint8_t peer[32],
		     uint32_t *ret_day, uint64_t *ret_sent);
/* Keep the bytes sent to peer on day (replacing an earlier day's). */
int heard_budget_put(struct store_txn *t, const uint8_t peer[32],
		     uint32_t day, uint64_t sent);

/* The entries peer acknowledged since the basis of version (0: none):
 * 0, or HAMLET_ENOTFOUND. */
int heard_acked_get(struct store_txn *t, const uint8_t peer[32],
		    uint64_t *ret_version, uint64_t *ret_acked);
/* Keep them (at most HEARD_MAX_PEERS peers: past that a new one is not
 * kept, and status counts too many for it, never too few). */
int heard_acked_put(struct store_txn *t, const uint8_t peer[32],
		    uint64_t version, uint64_t acked);

/* A peer's contact, budget and acknowledgements to keep
 * (heard_contacts_save): when_ms 0 keeps no contact, day 0 no budget,
 * acked_set 0 no acknowledgements. */
struct heard_contact {
	uint8_t peer[32];
	uint64_t when_ms;
	uint32_t day;
	uint64_t sent;
	int acked_set;
	uint64_t acked_version, acked;
};

/*
 * n contacts and budgets in one write transaction of their own (growing
 * the map when full): how hamletd keeps its peers' last contact, and
 * what it sent them today, across a restart.
 */
int heard_contacts_save(struct store *st, const struct heard_contact *v,
			size_t n);

#endif
