/*
 * sync: a replication session on an established connection (HELLO,
 * Negentropy reconciliation over one item per feed, FEEDS/WANT, ENTRIES
 * under credit, ACK after commit, live push). proto/SPEC.md §5 is the
 * protocol; this is the daemon's side of it.
 */
#ifndef HAMLETD_SYNC_H
#define HAMLETD_SYNC_H

#include "budget.h"
#include "log.h"
#include "negentropy.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>

/*
 * A batch is what a peer may have in flight: its size adapts between MIN
 * and MAX so that one takes about TARGET to arrive (SPEC 5.7).
 */
#define SYNC_BATCH_FIRST 64
#define SYNC_BATCH_MIN 16
#define SYNC_BATCH_MAX 4096
#define SYNC_BATCH_TARGET_MS 1000
/* A peer's ceiling on its credit halves each time a session with it ends
 * with a batch of its lost (received in part, or whole and not yet
 * committed), and doubles back after this many batches committed: a link
 * that drops often never carries batches it cannot finish. */
#define SYNC_CEILING_REGROW 8
#define SYNC_BATCH_BYTES ((size_t)4 << 20) /* a batch closes here */
/* The end of a long transfer goes in halving batches down to this, so
 * that the receiver's last commit, which nothing overlaps, is short. */
#define SYNC_BATCH_TAIL 256
/* batches a side may have sent and not seen acknowledged: the receiver
 * checks one while it commits the other (SPEC 5.7) */
#define SYNC_INFLIGHT 2
#define SYNC_MAX_STREAMS 65536	 /* feeds queued to send to one peer */
#define SYNC_SEND_QUEUE ((size_t)1 << 20) /* bytes queued on the socket */
#define SYNC_RECONCILE_MS (5 * 60 * 1000) /* full reconciliation period */
/* a reconnection reads at most this many feeds moved since its basis
 * (and sends at most WIRE_MAX_FEEDS), else reconciles in full */
#define SYNC_SINCE_SCAN_MAX 65536
/* a session reads its shared heads for STATE when idle and they moved,
 * at most once a second and at most 1 % of the time (100 times what the
 * last reading took apart) */
#define SYNC_STATE_MIN_MS 1000
#define SYNC_STATE_COST_FACTOR 100
/* a batch our full disk could not take waits here, tried again after 5 s,
 * doubling up to 5 min, so the peer sends nothing again meanwhile */
#define SYNC_FULL_RETRY_MS 5000
#define SYNC_FULL_RETRY_MAX_MS (5 * 60 * 1000)
#define SYNC_FULL_PARKED_MAX 4 /* batches kept so, node-wide */
/* entries of a peer's refused as dated too far ahead are logged at most
 * once in this long on a session (the first at once) */
#define SYNC_AHEAD_SAY_MS (10 * 60 * 1000)

/* why a session's entries wait (peer_info.budget_held) */
#define SYNC_HELD_NONE 0
#define SYNC_HELD_DAY 1	    /* the day's budget is spent: tomorrow */
#define SYNC_HELD_SESSION 2 /* the session's: the next connection */

struct conn;
struct daemon;
struct sync_batch;
struct sync_neg_job;

/* One feed's (key, seq) with its negentropy item. */
struct sync_item {
	uint8_t key[32];
	uint64_t seq;
	char scope[ENTRY_MAX_SCOPE + 1];
	struct neg_item item;
};

struct sync_stream {
	uint8_t key[32];
	uint64_t next;
	/* the seq the peer's WANT (or TAKE) said it holds: one this node
	 * holds nothing past is answered with its head (SPEC 5.7) */
	uint64_t asked;
	struct sync_stream *link;
	struct sync_stream *hnext; /* in the session's index (stream_ix) */
};

/* Buckets of the index of the feeds queued for a peer by key: a WANT
 * finds its feed without walking all SYNC_MAX_STREAMS of them (a peer
 * that sent tens of thousands of WANTs held the loop for seconds). */
#define SYNC_STREAM_IX 4096

/* How far we have sent a feed on this session: never send an entry twice. */
struct sync_sent {
	uint8_t key[32];
	uint64_t upto;
	int used;
	int offered; /* named in our FEEDS as ahead, not yet answered */
	/* 1 + the seq a WANT past what we send was answered with (a FEEDS
	 * item, sync_session_pump()); 0: none. Each is said once: the peer
	 * asks again until the batch it has in flight commits */
	uint64_t told;
};
/* Under a byte budget, streaming waits for the answers (WANT, or FEEDS)
 * to the feeds we offered, so that the peer's WANTs are all queued and
 * ranked before the budget is spent; this long at most (a feed the peer
 * does not ask for draws no answer). */
#define SYNC_OFFER_WAIT_MS 15000

/* A feed asked for (WANT), the peer's head it was asked up to, and the
 * highest seq of it held here since (what came, or was here). */
struct sync_want {
	uint8_t key[32];
	uint64_t head;
	uint64_t got;
};
#define SYNC_WANTS_MAX 4096

/* A feed whose head here our reconciliation found the peer lacks
 * (SPEC 5.6, "equal seq"): when the peer then names the same seq, it
 * holds another entry there, asked for once on the session. */
enum {
	SYNC_DIFF_OPEN,	 /* to ask for if the peer names seq */
	SYNC_DIFF_ASKED, /* asked for: never again on the session */
	SYNC_DIFF_GONE,	 /* the peer asked for it: it was behind */
};
struct sync_diff {
	uint8_t key[32];
	uint64_t seq;
	int state; /* SYNC_DIFF_* */
};
#define SYNC_DIFF_MAX 4096

struct sync_session {
	size_t nscopes;
	char scopes[WIRE_MAX_SCOPES][ENTRY_MAX_SCOPE + 1]; /* the peer's */
	/* sending: batches numbered from 0 as they open; at most
	 * SYNC_INFLIGHT opened and not acknowledged, the open one counted.
	 * Batch k holds at most tx_grant[k % SYNC_INFLIGHT]: HELLO's credit
	 * for the first two, then that of the ACK of batch k - 2 */
	uint64_t tx_begun, tx_acked; /* batches opened, acknowledged */
	int tx_open;		 /* batch tx_begun - 1 takes entries still */
	uint64_t tx_credit;	 /* entries the open batch may still take */
	uint64_t tx_batch_n;	 /* entries in the open batch */
	size_t tx_batch_bytes;
	uint64_t tx_count[SYNC_INFLIGHT]; /* entries of batch k, closed */
	uint64_t tx_grant[SYNC_INFLIGHT];
	uint8_t *held;		 /* the newest ENTRIES, not yet sent */
	size_t held_len;
	/* receiving: the same numbering of the peer's batches */
	uint64_t rx_begun, rx_acked;
	uint64_t rx_grant[SYNC_INFLIGHT]; /* what batch k may hold */
	uint64_t rx_credit;	 /* the credit we grant next (adapted) */
	uint64_t rx_grant_ms;	 /* when we last granted one */
	struct sync_batch *rx_batch; /* the batch being received */
	/* a batch received whole while the one before it commits: checked
	 * on the verify pool meanwhile, stored next */
	struct sync_batch *rx_next;
	int rx_committing;	 /* a batch of this peer waits for its commit */
	struct sync_batch *rx_full; /* refused by a full disk; tried again */
	uint64_t damaged_said_ms; /* when a stream last stopped at a damaged
				   * body in the log (uv_now), 0 never */
	/* when the log last said that entries were refused as dated too
	 * far ahead (uv_now; 0 never): the peer's by us, ours by it */
	uint64_t ahead_said_ms, ahead_told_ms;
	/* loop time its entries refused over the held cap were last logged
	 * (sync_recv.c, at most once in SYNC_AHEAD_SAY_MS) */
	uint64_t heldcap_said_ms;
	/* its TRUST_ITEMS queued for the writer and not done: at
	 * SYNC_TRUST_JOBS we read no more of it until one is done (the
	 * writer is every peer's, the local socket's and HTTP's) */
	unsigned trust_jobs;
	int trust_paused; /* reading stopped for that */
	/* loop time its refused trust items were last logged (at most
	 * once in SYNC_AHEAD_SAY_MS after the first) */
	uint64_t trust_said_ms;
	/* its last TRUST_HAVE answered, and d->trust_gen then: the same
	 * again with the set unchanged is not read through again (each
	 * reads the whole set, on the loop) */
	int trust_have_seen;
	uint8_t trust_have_digest[32];
	uint64_t trust_have_count, trust_have_gen;
	uint64_t rx_full_at;	    /* when (uv_now) */
	uint64_t rx_full_wait;	    /* the last wait, ms; 0 when not full */
	/* feeds to stream: those just asked for (streams), then by the rank
	 * of their next entry (budget.h), lowest first; nstreams counts all */
	struct sync_stream *streams, *streams_tail;
	struct sync_stream *ranked[BUDGET_RANKS], *ranked_tail[BUDGET_RANKS];
	size_t nstreams;
	/* the same feeds by key: SYNC_STREAM_IX buckets, chosen by a hash
	 * keyed for this session (the peer chooses the feed keys it
	 * names); made with the first */
	struct sync_stream **stream_ix;
	uint8_t stream_ix_k[16];
	/* the byte budget (config [budget]): entries bytes sent this
	 * session, and why sending stopped (SYNC_HELD_*) */
	uint64_t sent_session;
	int budget_held;
	/* feeds offered and not answered (sync_sent.offered), when the
	 * last was, and whether the pump waits for them */
	size_t offered_n;
	uint64_t offered_ms;
	int offer_wait;
	int held_count_stale; /* peer_info.budget_waiting needs a recount */
	struct sync_sent *sent; /* open-addressing table */
	size_t sent_n, sent_cap;
	/* reconciliation steps, run one at a time off the loop */
	struct sync_neg_job *neg_head, *neg_tail;
	size_t neg_n;
	int neg_busy;
	/* the client side of a reconciliation */
	int reconciling, again;
	struct negentropy *ng;
	struct neg_item *nitems;
	struct sync_item *items; /* by id */
	size_t nitems_n;
	uint64_t last_reconcile;
	/* the feeds asked for on this session and the head each was asked
	 * up to, so that asking again counts only what is new
	 * (peer_info.rx_want); at most SYNC_WANTS_MAX */
	struct sync_want *wants;
	size_t nwants, wants_cap;
	/* the feeds whose head here the peer lacks (client side), by key;
	 * at most SYNC_DIFF_MAX, kept for the session (sync_neg.c) */
	struct sync_diff *diff;
	size_t ndiff;
	/* the reconnection in proportion (SPEC 5.6, sync_since.c) */
	int since_sent, since_got, since_done;
	int since_ours, since_theirs; /* each SINCE named a basis */
	uint8_t since_basis[32], since_their_basis[32];
	uint64_t since_version;	 /* our version under since_basis */
	uint8_t since_ctx[32];
	uint8_t ctx[32];	 /* the sharing context of state_mine */
	struct wire_feed *since_feeds; /* the peer's, until ours is sent */
	size_t since_n;
	struct wire_feed *since_mine; /* ours, until the peer's TAKE */
	size_t since_mine_n;
	int take_got;
	int state_busy, state_mine_ok, state_peer_ok;
	uint8_t state_mine[32], state_peer[32];
	uint64_t state_version; /* our store's version under state_mine */
	uint64_t state_lseq;	/* and its last local seq then */
	uint64_t state_at;	/* loop ms of our last STATE; 0: none */
	uint64_t state_cost_ms; /* what reading the heads took then */
	uint64_t saved_version; /* the basis last kept, this session */
	uint8_t saved_ctx[32];
	int saved_any;
	/* the chain by reference (SPEC 5.4): our HELLO named our chain by
	 * its ids; the peer asked for it and got it */
	int ref_sent, certs_sent;
	/* while we ask for the peer's chain (CONN_CERTS), what it sent
	 * after its HELLO, kept raw (be32 length || message, early_n of
	 * them) and handled once its chain holds */
	uint8_t *early;
	size_t early_len, early_n;
};

/* At most this many messages, and SYNC_EARLY_BYTES bytes, are kept while
 * the peer's chain is asked for; more is a fault. */
#define SYNC_EARLY_MAX 256
#define SYNC_EARLY_BYTES WIRE_MAX_MSG
/* TRUST_ITEMS of one peer queued for the writer at once (of its
 * INGEST_MAX_JOBS places); more wait in the socket */
#define SYNC_TRUST_JOBS 2

/* The connection finished its handshake: send HELLO. */
int sync_session_start(struct conn *c);

/* Decode the message raw (len bytes, read only during the call) into
 * c->m and handle it, or keep it while the peer's chain is asked for. <0
 * means the peer is at fault (why says how). */
int sync_session_message(struct conn *c, const uint8_t *raw, size_t len,
			 char *why, size_t whylen);

/* Start (or queue) a reconciliation: the dialling side runs Negentropy;
 * the other side announces all its shared heads in FEEDS. */
int sync_session_reconcile(struct conn *c);

/* The most credit we grant peer p now (SYNC_CEILING_REGROW); p may be
 * NULL. */
struct peer_info;
uint64_t sync_peer_ceiling(const struct peer_info *p);

/*
 * What c's session still has to send the peer: the entries of the feeds
 * queued for it, to their heads now (a budget's held ones among them),
 * and the entries sent in batches it has not acknowledged yet. Costs a
 * feed head read per feed queued.
 */
void sync_session_outgoing(struct conn *c, uint64_t *ret_to_send,
			   uint64_t *ret_unacked);

/* Send more entries if credit and the socket allow. */
void sync_session_pump(struct conn *c);

/* Once a second from the connection's timer: try again a batch the
 * disk had no room for, when its time has come. */
void sync_session_tick(struct conn *c, uint64_t now);

/* Free what the session holds (the connection is closing). */
void sync_session_close(struct conn *c);

/* A commit moved these feeds: announce them to every ready peer that
 * shares their scope (live push). */
void sync_push(struct daemon *d, const struct log_advances *adv);

/*
 * Queue trust items (certificates, revocations, fork proofs) for the
 * writer; from names who brought them, for the log. The items are
 * copied. -EBUSY when the writer's queue is full.
 */
struct trustset_item;
int sync_trust_submit(struct daemon *d, const char *from,
		      const struct trustset_item *items, size_t n);
/* The writer's hook after the trust set grew (ingest_on_trust). */
void sync_trust_changed(void *d);
/*
 * Log, plainly, each of this node's own feeds that a fork froze (its key
 * signed two different entries at one seq: another PC uses the key, or
 * this PC's store was put back and written in before it synced), when
 * there are more of them than were last logged: at start, and as the trust
 * set grows.
 */
void sync_own_forks_say(struct daemon *d);

#endif
