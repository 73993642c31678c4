/*
 * hamletd: the state its modules share. peer.c owns connections and
 * dialling, sync.c the replication session on a connection, rpc.c the
 * local socket, main.c the daemon's life cycle and logging.
 */
#ifndef HAMLETD_H
#define HAMLETD_H

#include "config.h"
#include "node.h"
#include "sync.h"

#include <stdint.h>
#include <uv.h>

/* Timeouts and backoff (SPEC.md §5.9 "Timeouts"). */
#define HAMLETD_HANDSHAKE_MS 10000
#define HAMLETD_KEEPALIVE_MS 30000
#define HAMLETD_DEAD_MS 90000
#define HAMLETD_BACKOFF_MIN_MS 1000
#define HAMLETD_BACKOFF_MAX_MS (5 * 60 * 1000)
#define HAMLETD_FAULT_BACKOFF_MS 30000
#define HAMLETD_POLL_MS 200
#define HAMLETD_MAX_KNOWN 1024 /* peers we keep figures for */

enum dlog_level { DLOG_ERR = 3, DLOG_WARNING = 4, DLOG_NOTICE = 5,
		  DLOG_INFO = 6, DLOG_DEBUG = 7 };
void dlog(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Figures kept per peer public key, across connections. */
struct peer_info {
	uint8_t pk[32];
	char addr[CONFIG_MAX_ADDR]; /* last address seen */
	uint64_t bytes_in, bytes_out, entries_in, entries_out;
	uint64_t msgs_in, neg_in; /* messages received; NEG among them */
	uint64_t entries_dup_in; /* received though already stored: waste */
	uint64_t batches_in;	 /* batches committed */
	uint64_t batch_credit;	 /* the size we grant its next batch */
	uint64_t last_sync_ms; /* wall clock, 0 = never */
	uint64_t ban_until_ms; /* loop time */
	uint64_t ban_ms;
	int connected;
	int used;
};

/* A configured address we dial. */
struct peer_addr {
	struct daemon *d;
	struct peer_addr *next;
	char addr[CONFIG_MAX_ADDR];
	char host[CONFIG_MAX_ADDR];
	char port[8];
	uv_timer_t timer;
	uv_getaddrinfo_t gai;
	int gai_busy, timer_open, removed;
	struct conn *conn;
	uint64_t backoff_ms;
	int has_pk;
	uint8_t pk[32];
};

enum conn_state {
	CONN_HANDSHAKE = 1,
	CONN_HELLO = 2,
	CONN_READY = 4,
};

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	int handles; /* open handles; freed when 0 and refs 0 */
	int refs;    /* work requests holding the conn */
	int closing;
	int connected; /* TCP is up */
	struct daemon *d;
	struct conn *next, *prev;
	struct peer_addr *pa; /* outbound: the address dialled */
	int initiator;
	int state;
	char name[CONFIG_MAX_ADDR + 24];
	struct noise_hs *hs;
	struct noise_cipher tx, rx;
	int has_rpk;
	uint8_t rpk[32];
	struct peer_info *info;
	uint8_t *in;
	size_t in_len;
	uint8_t *msg;
	size_t msg_len, msg_cap;
	size_t wq_bytes;
	uint64_t t_start, t_rx, t_tx;
	struct wire_msg *m;
	struct sync_session sy;
};

struct ingest_job;

struct daemon {
	uv_loop_t *loop;
	struct config cfg;
	struct node *node;
	uint8_t x_priv[32];
	uv_tcp_t listener;
	int listening;
	uv_signal_t sigint, sigterm, sighup;
	uv_timer_t poll;
	uv_timer_t watchdog;
	uv_pipe_t rpc;
	int rpc_open;
	int stopping;
	struct conn *conns;
	size_t nconns;
	struct peer_addr *addrs;
	struct peer_info known[HAMLETD_MAX_KNOWN];
	/* writes are serialized: one ingest on the thread pool at a time */
	struct ingest_job *jobs_head, *jobs_tail;
	int ingest_busy;
	struct sync_heads heads;
};

#endif
