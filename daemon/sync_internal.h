/*
 * sync's private helpers, shared by sync.c (session, reconciliation,
 * push), sync_recv.c (batches in) and sync_send.c (entries out).
 */
#ifndef HAMLETD_SYNC_INTERNAL_H
#define HAMLETD_SYNC_INTERNAL_H

#include "mp.h"
#include "wire.h"

struct conn;
struct sync_batch;
struct peer_info;

/* Free the feeds queued to stream to c (the session is closing). */
void sync__streams_free(struct conn *c);
/* Once a second: resume what a day's budget held when the day is new,
 * and count what waits for a budget (sync_send.c). */
void sync__budget_tick(struct conn *c);

/* Take w's bytes and send them on c; w is reset for reuse. */
int sync__send_writer(struct conn *c, struct mp_writer *w);
/* A feed of this scope is replicated by both ends of c. On the loop. */
int sync__scope_shared(struct conn *c, const char *scope);
/* The same through the scope moves of sm: on a thread-pool thread, sm is
 * the job's own hold on the node's map (scopemap_ref()), which the loop
 * replaces when the trust set grows. */
struct scopemap;
int sync__scope_shared_in(struct conn *c, const struct scopemap *sm,
			  const char *scope);
/* 1 when this node takes nothing more of feed f: a fork froze it at or
 * below its head (SPEC §8), so WANT or TAKE would only bring entries to
 * refuse (sync_send.c). */
struct log_feed;
int sync__feed_closed(const struct log_feed *f);

/* Send FEEDS (heads and ids) in chunks the receiver accepts. */
int sync__send_feeds(struct conn *c, const struct wire_feed *f, size_t nf,
		     const uint8_t (*ids)[32], size_t ni);
/* The answer to a FEEDS: reply's heads, or agreement (see sync.c). */
int sync__feeds_answer(struct conn *c, const struct wire_feed *reply,
		       size_t nreply, size_t wanted, int named);

/* Reconciliation steps, on the thread pool (sync_neg.c). */
int sync__on_neg(struct conn *c, const struct wire_msg *m, char *why,
		 size_t wl);
/* Add the heads of the feeds named by ids to reply (room for nids more)
 * and answer; on success the step owns reply. */
int sync__feeds_ids(struct conn *c, struct wire_feed *reply, size_t nreply,
		    size_t wanted, const uint8_t (*ids)[32], size_t nids,
		    char *why, size_t wl);
/* No reconciliation step queued or running. */
int sync__neg_idle(const struct conn *c);
/* Queue the step that sends SINCE (after HELLO), or the one that sends
 * STATE (when idle): sync_since.c gets their results. */
int sync__since_start(struct conn *c);
int sync__state_start(struct conn *c);
/* Entries of feed key came, up to seq (one call a run of a feed's
 * entries; *hint: 0 at first, kept between calls): what was asked of it
 * and what came, counted alike (peer_info.rx_want, rx_got). */
void sync__want_came(struct conn *c, const uint8_t key[32], uint64_t seq,
		     size_t *hint);
/* How far the entries of feed key asked for on this session have come
 * (counted, by this session or another way: sync__want_held()), or
 * UINT64_MAX when it asked for none. */
uint64_t sync__want_got(struct conn *c, const uint8_t key[32], size_t *hint);
/* The store holds feed key up to seq now, by whatever way (a bundle,
 * another peer): what this session awaits of it up to there counts as
 * come. */
void sync__want_held(struct conn *c, const uint8_t key[32], uint64_t seq);
/* The peer named its head of feed key at seq: a stream of it queued for
 * the peer skips what it holds. 1 when one did. */
int sync__stream_peer_holds(struct conn *c, const uint8_t key[32],
			    uint64_t seq);
/* 1 while an entry asked for on this session is neither here nor come
 * (read in the store when it did not come on this session). */
int sync__wants_pending(struct conn *c);

/* The reconnection in proportion (sync_since.c). */
struct store_txn;
struct sync_item;
/* The hash of what decides which feeds this session shares (both sides'
 * scopes and read grants, our trust set); on the thread pool. */
int sync__context(struct conn *c, struct store_txn *t, uint8_t ret[32]);
/* The digest of the shared heads v[0..n), sorted by item id. */
void sync__heads_digest(const struct sync_item *v, size_t n,
			uint8_t ret[32]);
/* Our SINCE is ready (basis NULL: none; else kept at our version ver
 * under sharing context ctx): send it, and act when the peer's is here
 * too. */
int sync__since_ready(struct conn *c, const uint8_t *basis,
		      const uint8_t ctx[32], uint64_t ver,
		      const struct wire_feed *f, size_t n);
/* Our digest of the shared heads, read at store version ver (its last
 * local seq lseq) under sharing context ctx: send it, and keep the basis
 * when the peer's is the same. */
int sync__state_ready(struct conn *c, const uint8_t digest[32],
		      const uint8_t ctx[32], uint64_t ver, uint64_t lseq,
		      uint64_t cost_ms);
int sync__on_since(struct conn *c, const struct wire_msg *m, char *why,
		   size_t wl);
int sync__on_state(struct conn *c, const struct wire_msg *m, char *why,
		   size_t wl);
int sync__on_take(struct conn *c, const struct wire_msg *m, char *why,
		  size_t wl);
/* Each second: send STATE when the session is idle and our heads moved
 * since the last one (not more often than its cost allows). */
void sync__state_tick(struct conn *c, uint64_t now);
/* Asked to sync with nothing shared to announce: if the last STATEs
 * agree, count it as a sync now (1), else 0 (the peer's reconciliation
 * brings what it holds). */
int sync__state_agree_now(struct conn *c);

/* Drop queued steps and the reconciliation state (the session ends). */
void sync__neg_close(struct conn *c);
/* 1 when the peer names seq of feed key, our head there, after our
 * reconciliation found it lacks our head: another entry at that seq,
 * to ask for (once on the session; SPEC 5.6). */
int sync__diff_take(struct conn *c, const uint8_t key[32], uint64_t seq);
/* The peer asked for feed key: it is behind there, not forked. */
void sync__diff_drop(struct conn *c, const uint8_t key[32]);

int sync__on_entries(struct conn *c, const struct wire_msg *m, char *why,
		     size_t wl);
void sync__batch_free(struct sync_batch *b);
/* Entries a batch holds so far. */
size_t sync__batch_n(const struct sync_batch *b);
/* A session with p ended with a batch of its lost: halve its ceiling. */
void sync__ceiling_lost(struct peer_info *p);
int sync__on_want(struct conn *c, const struct wire_msg *m, char *why,
		  size_t wl);
/* Under a byte budget, feeds f[0..n) were named in a FEEDS of ours as
 * ahead of the peer: the pump waits for the peer's answers (at most
 * SYNC_OFFER_WAIT_MS), so that what goes first is known first. */
void sync__offered(struct conn *c, const struct wire_feed *f, size_t n);
/* The peer answered for feed key (it asked for it, or named its head);
 * the pump goes on at its WANT or the next tick. */
void sync__offer_answered(struct conn *c, const uint8_t key[32]);
/* Queue feed key to stream from seq + 1 (WANT, TAKE); the caller pumps. */
int sync__want_queue(struct conn *c, const uint8_t key[32], uint64_t seq,
		     char *why, size_t wl);
int sync__on_ack(struct conn *c, const struct wire_msg *m, char *why,
		 size_t wl);
/* The trust exchange (sync_trust.c). */
struct cert_chain;
/* Lower *end to the first expiry of chain ch (0: none yet). */
void sync__chain_end(const struct cert_chain *ch, uint64_t *end);
/* The peer's certificate chain certs (a chain file) holds for its key
 * in our network now and is not revoked here; join: queue it for our
 * trust set. The session keeps it (c->cert, c->chain). */
int sync__hello_chain(struct conn *c, const uint8_t *certs, size_t len,
		      int join, char *why, size_t wl);
/* c's certificate (c->cert) holds: its peer is named by it from now on,
 * in c->name and c->info->who. */
void sync__conn_name_by_cert(struct conn *c);
int sync__trust_have_send(struct conn *c);
int sync__trust_chain(struct conn *c, const uint8_t *buf, size_t len,
		      const struct cert_chain *ch);
int sync__on_trust_have(struct conn *c, const struct wire_msg *m, char *why,
			size_t wl);
int sync__on_trust_ids(struct conn *c, const struct wire_msg *m, char *why,
		       size_t wl);
int sync__on_trust_items(struct conn *c, const struct wire_msg *m, char *why,
			 size_t wl);

#endif
