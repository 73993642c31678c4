/*
 * heads: what the store keeps beside the feed heads, written in the
 * transaction that moves them, so that reading it never walks the feeds:
 *
 *   meta "heads"  feeds (be64) || entries (be64) || newest hlc (be64) ||
 *                 version (be64): the totals `status` shows, and the
 *                 store's change counter
 *   feedver       feed key -> the version of the commit that last moved
 *                 the feed's head
 *   verfeed       version || feed key -> empty: the feeds by version, so
 *                 that "what moved since version v" costs what moved
 *   authfeeds     author || feed key -> empty: each author's feeds
 *
 * Every commit that moves heads takes the next version (one for the
 * whole commit).
 */
#ifndef HAMLET_HEADS_H
#define HAMLET_HEADS_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>


struct heads_totals {
	uint64_t feeds, entries, newest_hlc;
	uint64_t version; /* the last version given; 0: none yet */
};

/* What one commit adds, gathered while it applies entries, and what it
 * takes out (a revocation's cut-off, SPEC §9): then newest_reset says
 * newest_hlc is the newest left, not a candidate. */
struct heads_delta {
	uint64_t feeds, entries, newest_hlc;
	uint64_t feeds_gone, entries_gone;
	int newest_reset;
};

/* The totals; a store whose totals are not filled yet (an upgrade that
 * has not run) is HAMLET_ENOTFOUND. */
int heads_totals_get(struct store_txn *t, struct heads_totals *ret);
/* Write the totals as they are (the upgrade, or a new store). */
int heads_totals_put(struct store_txn *t, const struct heads_totals *tot);

/* A feed of author was created: note it under its author. */
int heads_feed_new(struct store_txn *t, const uint8_t author[32],
		   const uint8_t key[32]);

/* A feed of author has no entry left: its note under its author goes. */
int heads_feed_gone(struct store_txn *t, const uint8_t author[32],
		    const uint8_t key[32]);

/*
 * Before the commit: add d to the totals (d is zeroed) and, when moved
 * (the commit moved a head), take the next version; *ret_version is the
 * version heads moved by this commit get (heads_feed_moved).
 */
int heads_commit(struct store_txn *t, struct heads_delta *d, int moved,
		 uint64_t *ret_version);
/* Feed key's head moved in the commit of version ver. */
int heads_feed_moved(struct store_txn *t, const uint8_t key[32],
		     uint64_t ver);

/* The version of the commit that last moved feed key (0: none since
 * the store knew versions). */
int heads_feed_version(struct store_txn *t, const uint8_t key[32],
		       uint64_t *ret);

typedef int (*heads_key_cb)(void *ctx, const uint8_t key[32]);
/*
 * Each feed whose head moved after version since, in version order. A
 * callback's non-zero return stops the walk and is returned.
 */
int heads_moved_since(struct store_txn *t, uint64_t since, heads_key_cb cb,
		      void *ctx);
/* Each feed of author, in key order; the callback as above. */
int heads_author_feeds(struct store_txn *t, const uint8_t author[32],
		       heads_key_cb cb, void *ctx);

#endif
