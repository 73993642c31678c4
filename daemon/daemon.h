/*
 * daemon: the state hamletd's parts share, for main.c (its life cycle),
 * peer.c (connections and dialling), sync.c (replication sessions) and
 * rpc.c (the local socket). A connection's own state is in conn.h, for
 * peer.c and sync.c alone; every store write goes through the ingest
 * queue (ingest.h).
 */
#ifndef HAMLETD_DAEMON_H
#define HAMLETD_DAEMON_H

#include "acceptq.h"
#include "config.h"
#include "names.h"
#include "node.h"
#include "rate.h"

#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

/* Timeouts and backoff (SPEC.md §5.9 "Timeouts"). */
#define HAMLETD_HANDSHAKE_MS 10000
#define HAMLETD_KEEPALIVE_MS 30000
#define HAMLETD_DEAD_MS 90000
#define HAMLETD_BACKOFF_MIN_MS 1000
#define HAMLETD_BACKOFF_MAX_MS (5 * 60 * 1000)
#define HAMLETD_FAULT_BACKOFF_MS 30000
#define HAMLETD_FULL_SAY_MS 60000 /* "max_peers reached" said once in it */
#define HAMLETD_ANON_SAY_MAX 10	  /* unknown peers' ends logged a minute */
#define HAMLETD_ANON_LAST 320	  /* the last one not logged: who, why */
#define HAMLETD_MAX_KNOWN 1024 /* peers we keep figures for */
#define HAMLETD_BAN_MAX_MS (60 * 60 * 1000) /* a fault backoff doubles to */
#define HAMLETD_FORGIVE_MS (10 * 60 * 1000) /* clean session that resets it */
#define HAMLETD_MAX_FAULTY 256 /* source addresses with faults remembered */

/* Limits on what one peer can make us hold (docs/hamletd.md "Limits"). */
#define HAMLETD_OUT_QUEUE_MAX ((size_t)4 << 20) /* bytes not yet written */
/* entries one peer (by key) may have held waiting for earlier ones, a
 * quarter of LOG_MAX_HELD; the count is lowered as they are released and
 * starts again after LOG_MAX_HELD_AGE_MS, when they would have aged out */
#define HAMLETD_HELD_PER_PEER 4096
/* incoming connections before their session (the handshake, then HELLO
 * until its certificate holds): apart from max_peers, which counts
 * sessions and our own dials only */
#define HAMLETD_HANDSHAKES_MAX 16
#define HAMLETD_HANDSHAKES_PER_ADDR 4
/* connections the kernel completes and queues before hamletd accepts
 * them (capped by net.core.somaxconn): a flood that fills this queue
 * while hamletd waits for a core has a newcomer's TCP handshake dropped
 * before the slots above can let it in */
#define HAMLETD_LISTEN_BACKLOG 1024
/* connections accepted in one turn of the loop at most: a flood that
 * connects again as fast as it is closed would otherwise keep hamletd
 * accepting, its sessions, timers and closes waiting */
#define HAMLETD_ACCEPTS_PER_TURN 32

/* Figures kept per peer public key, across connections. */
struct peer_info {
	uint8_t pk[32];
	char addr[CONFIG_MAX_ADDR]; /* last address seen */
	uint64_t bytes_in, bytes_out, entries_in, entries_out;
	uint64_t entries_bytes_out; /* of bytes_out, ENTRIES messages' */
	uint64_t msgs_in, neg_in; /* messages received; NEG among them */
	uint64_t since_used; /* sessions begun from a kept basis (no NEG) */
	uint64_t agreed;     /* bases kept: STATEs that matched ours */
	uint64_t chain_ref_out;	 /* HELLOs naming our chain by its ids */
	uint64_t certs_want_out; /* its chain asked for (not in our set) */
	uint64_t entries_dup_in; /* received though already stored: waste */
	uint64_t batches_in;	 /* batches committed */
	/* batches received whole while the one before was committing */
	uint64_t batches_in_overlap;
	uint64_t batch_credit;	 /* the size we grant its next batch */
	/* the most we grant it (0: SYNC_BATCH_MAX), and its batches
	 * committed since the ceiling last moved (sync.h) */
	uint64_t batch_ceiling, batches_since_ceiling;
	uint64_t batches_lost_in; /* sessions ended with a batch of its lost */
	uint64_t last_sync_ms; /* wall clock, 0 = never */
	/* entries of ours it acknowledged (those it refused as dated ahead
	 * aside), and how many of them it had when the two agreed on the
	 * basis kept now: status counts what arrived here since that basis,
	 * less what it acknowledged since (status.h) */
	uint64_t acked_out, acked_base;
	/* the version of the basis acked_base counts from (0: none kept);
	 * what it acknowledged since, as read from the store once (and
	 * added to acked_out) and as last kept there (contact.c) */
	uint64_t acked_version;
	int acked_loaded;
	uint64_t acked_saved_version, acked_saved;
	uint64_t contact_saved_ms; /* last_sync_ms as kept in the store */
	uint64_t disk_wait;    /* entries received that wait for disk space */
	/* on the current or last session: its entries we refused as dated
	 * too far ahead, and ours it refused so (its ACKs say: SPEC 5.7) */
	uint64_t ahead_in, ahead_out;
	uint64_t held_in;      /* of its entries, held for an earlier one */
	uint64_t held_since_ms; /* loop time the count started */
	uint64_t ban_until_ms; /* loop time */
	uint64_t ban_ms;       /* the last backoff; doubles at each fault */
	int ban_stage; /* the last fault's (enum dial_stage, conn.h) */
	uint64_t seen_ms;      /* loop time of its last handshake */
	int connected;
	int used;
	int dialled_in; /* a session it dialled has started (not ours) */
	/* who it is: its certificate's name and scope, from its last HELLO
	 * (names.h); source NAMES_UNKNOWN before one */
	struct names_who who;
	/* the sync under way: entries asked for (WANT: its head less ours)
	 * and received since it began, our wall clock then; all 0 before
	 * one. Once all came (rx_got == rx_want) they are kept for
	 * PEER_RX_GAP_MS, in which a WANT more counts on in the same sync
	 * (the first WANTs of a session ask for a batch at a time) */
	uint64_t rx_want, rx_got, rx_start_ms;
	/* what a sync a cut ended had received: the next session's counts
	 * on from it, so that status's "N / TOTAL" does not start again at
	 * 0 after each drop of the link; 0 once a session finds nothing
	 * more to ask for */
	uint64_t rx_carry;
	/* rx_carry holds such a sync's count: a batch of it that commits
	 * after the cut counts into rx_carry */
	int rx_cut;
	uint64_t rx_last_ms; /* our wall clock when a batch of it last came */
	uint64_t rx_done_ms; /* and when all that was asked for had come */
#define PEER_RX_GAP_MS 2000
/* A sync with p under way: entries asked for that have not come. */
#define PEER_RX_ACTIVE(p) ((p)->rx_want && (p)->rx_got < (p)->rx_want)
	struct rate rx_rate; /* rx_got's growth, for the rate status shows */
	/* the byte budget (config [budget], sync_send.c): its limits as
	 * last applied, entry bytes sent on budget_day (local YYYYMMDD) and
	 * in the current or last session; while budget_held (SYNC_HELD_*)
	 * budget_waiting entries wait for it. In memory only. */
	uint64_t budget_per_day, budget_per_session;
	uint32_t budget_day;
	uint64_t sent_today, sent_session;
	/* sent_today as read from the store once (heard.h), and as last
	 * kept there (contact.c) */
	int budget_loaded;
	uint32_t budget_saved_day;
	uint64_t budget_saved_sent;
	int budget_held;
	uint64_t budget_waiting;
	/* while held: the bytes of the entry that stopped the stream when
	 * it is larger than a whole budget (it never goes until that budget
	 * is raised), else 0 */
	uint64_t budget_too_big;
};

/* Faults remembered per source address of incoming connections, so a
 * node that changes its key starts where the last one left off. */
struct peer_faulty {
	char host[48];
	uint64_t ban_until_ms; /* loop time */
	uint64_t ban_ms;
};

struct conn;
struct peer_addr;
struct ingest;
struct http;

struct daemon {
	uv_loop_t *loop;
	struct config cfg;
	struct node *node;
	uint8_t x_priv[32];
	struct ingest *ingest; /* the store's one writer */
	uv_tcp_t listener;
	int listening;
	struct acceptq listener_q; /* its connections, a share a turn */
	uv_signal_t sigint, sigterm, sighup;
	uv_timer_t watchdog;
	/* HOME/hamletd.lock, and the timer that writes the pid and socket
	 * into it again while they could not be (main.c) */
	int lock_fd;
	uv_timer_t lock_timer;
	int lock_timer_open;
	uv_timer_t contact_timer; /* contact.h */
	int contact_timer_open, contact_saving;
	/* contact.c: save again once the running save is done; a day's
	 * budget counted bytes since the last save (contact_budget_sent) */
	int contact_again, budget_dirty;
	uv_timer_t compact_timer; /* contact.h: an erasure's rewrite put off */
	int compact_timer_open, compacting;
	int moved_keeping; /* contact.c: a take-out after a scope move queued */
	struct ingest_job *compact_job; /* contact.c, while one is queued */
	/* contact.c: HOME/own-feeds written again after a write of it
	 * failed (node_feeds_retry), one job at a time, every few ticks */
	int feeds_retrying;
	unsigned feeds_ticks;
	/* certwarn.c: ticks counted, and when the log last warned that the
	 * certificate chain ends soon (0: not while it holds) */
	unsigned certwarn_ticks;
	uint64_t certwarn_ms;
	uv_pipe_t rpc;
	struct acceptq rpc_q; /* its clients, a share a turn */
	int rpc_open;
	/* the socket file rpc_start() made, the one rpc_stop() removes */
	int rpc_bound;
	dev_t rpc_dev;
	ino_t rpc_ino;
	struct http *http; /* the HTTP API; NULL when off */
	int stopping;
	struct conn *conns;
	size_t nconns;
	/* incoming sessions refused for max_peers since the last line that
	 * said so, and when that was (loop time): one line a minute */
	uint64_t full_refused, full_said_ms;
	/* connections dialled in that ended before a key stood behind them
	 * (a scanner, garbage, another network): at most
	 * HAMLETD_ANON_SAY_MAX lines a minute, the rest counted and said in
	 * one line (peer.c anon_quiet) */
	uint64_t anon_since_ms, anon_said, anon_unsaid;
	char anon_last[HAMLETD_ANON_LAST];
	struct peer_addr *addrs;
	struct peer_info known[HAMLETD_MAX_KNOWN];
	struct peer_faulty faulty[HAMLETD_MAX_FAULTY];
	size_t parked; /* batches waiting for room on the disk */
	/* this node's own feeds a fork froze, as last logged (sync_trust.c) */
	size_t own_forks_said;
	/* counts the changes of the trust set (sync_trust_changed()): a
	 * session's TRUST_HAVE repeated since none is not answered again */
	uint64_t trust_gen;
};

#endif
