/*
 * peerbase: what this node held when it last agreed with a peer, kept
 * per peer key, so that a reconnection costs what changed since (SPEC
 * 5.6). A basis is
 *   - version: our store's version (heads.h) at the moment we read the
 *     heads that agreed: every shared feed moved since then has a later
 *     version;
 *   - digest: the digest of those heads (sync's STATE), which the peer
 *     holds too when it agreed the same;
 *   - ctx: a hash of what decided which feeds were shared then (both
 *     sides' scopes and read grants, our trust set): a basis is used only
 *     under the same;
 *   - used_ms: when it was last written, to drop the least recently used;
 *   - lseq: the last local seq of our store (entries.h) at that version:
 *     every entry the peer may have lacked since arrived after it, which
 *     is what `hamlet status` counts as waiting for the peer (status.h).
 *     A row kept before it was has none (lseq_known 0): then status
 *     counts as before (own entries dated after the last sync).
 *
 *   peerbase  peer key (32) -> version (be64) || digest (32) || ctx (32)
 *             || used_ms (be64) [|| lseq (be64)]
 *
 * At most PEERBASE_MAX peers: a new one past that replaces the least
 * recently used.
 */
#ifndef HAMLET_PEERBASE_H
#define HAMLET_PEERBASE_H

#include "store.h"

#include <stdint.h>

#define PEERBASE_MAX 1024

struct peerbase {
	uint64_t version;
	uint8_t digest[32];
	uint8_t ctx[32];
	uint64_t used_ms;
	uint64_t lseq;
	int lseq_known; /* peerbase_get(): the row holds lseq */
};

/* The basis kept for peer: HAMLET_ENOTFOUND when none. */
int peerbase_get(struct store_txn *t, const uint8_t peer[32],
		 struct peerbase *ret);
/* Keep b for peer in t, dropping the least recently used peer's when
 * PEERBASE_MAX are kept and peer is not one of them. */
int peerbase_put(struct store_txn *t, const uint8_t peer[32],
		 const struct peerbase *b);
/* Forget peer's basis (0 when there was none). */
int peerbase_del(struct store_txn *t, const uint8_t peer[32]);
/* peerbase_put() in its own write transaction (the map grown when full). */
int peerbase_save(struct store *st, const uint8_t peer[32],
		  const struct peerbase *b);

#endif
