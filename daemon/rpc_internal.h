/*
 * rpc_internal: what the local socket's files share (rpc.c: the socket,
 * its clients, framing, answers and dispatch, the methods on the peers;
 * rpc_status.c: the status map; rpc_jobs.c: write, ingest and trust,
 * jobs on the node's writer). Nothing outside daemon/rpc*.c includes
 * it.
 */
#ifndef HAMLETD_RPC_INTERNAL_H
#define HAMLETD_RPC_INTERNAL_H

#include "daemon.h"
#include "mp.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/* A client of the socket. */
struct rpc_conn {
	uv_pipe_t pipe;
	uv_timer_t idle; /* closes a client that asks nothing for a while */
	struct daemon *d;
	struct rpc_conn *next;
	uint8_t *buf;
	size_t len;
	size_t queued; /* answer bytes written but not yet taken */
	uint64_t last_ms; /* loop time of its last request */
	/* loop time its answers last moved: one was taken, or the first
	 * queued when none was (queued > 0: how long they wait unread) */
	uint64_t moved_ms;
	int handles;	  /* open handles: pipe and timer */
	int closing;
	int bye;	  /* close once the queued answers are out */
	int refs; /* writes in progress on the thread pool */
	int closed; /* the handles are closed; free when refs drop to 0 */
};

/* --- rpc.c --- */

/* Send w's bytes as one answer to rc (or close rc when it does not read
 * its answers). */
void rpc__reply(struct rpc_conn *rc, struct mp_writer *w);

/* [code, text]. */
void rpc__reply_error(struct rpc_conn *rc, int code, const char *text);

/* --- rpc_status.c --- */

/* One pair of a map: k and v. */
void rpc__kv_u64(msgpack_packer *pk, const char *k, uint64_t v);

/* --- rpc_jobs.c --- */

/* The methods whose argument is a bin (p, n bytes; copied): each
 * answers when its job on the writer is done. */
void rpc__do_write(struct rpc_conn *rc, const uint8_t *p, size_t n);
void rpc__do_ingest(struct rpc_conn *rc, const uint8_t *p, size_t n);
void rpc__do_trust(struct rpc_conn *rc, const uint8_t *p, size_t n);
/* ["keep"]: the node keeps only what its certificate (installed since
 * the daemon last read it) lets it read (log_keep_reads), and its
 * sessions start again under it; answers what went. */
void rpc__do_keep(struct rpc_conn *rc);

#endif
