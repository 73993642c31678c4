/*
 * acceptq: taking a listener's connections a share at a time.
 *
 * libuv accepts every connection the kernel has queued before it goes
 * back to the loop, calling the listener's callback for each. A flood
 * that connects again as fast as it is closed would keep the loop
 * there: no socket read, no timer run, no handle closed. A listener
 * whose callback hands each connection to acceptq_take() has take()
 * called for at most per_turn of them a turn of the loop; the next one
 * is left with libuv, which stops watching the listener while one
 * waits, and a timer takes it in the next turn, after that turn's
 * reads, timers and closes.
 */
#ifndef HAMLETD_ACCEPTQ_H
#define HAMLETD_ACCEPTQ_H

#include <stdint.h>
#include <uv.h>

struct acceptq;

/* Take the connection libuv holds: uv_accept() it into a handle of the
 * caller's. 0 when taken (or closed at once); ACCEPTQ_LATER when no
 * handle could be made for it (it waits, and take() is called again a
 * second later); else what uv_accept() returned. */
#define ACCEPTQ_LATER 1
typedef int (*acceptq_take_fn)(struct acceptq *q, uv_stream_t *server);

struct acceptq {
	uv_stream_t *server;
	uv_timer_t timer;
	int open;
	unsigned per_turn, taken;
	uint64_t turn_ms; /* uv_now() of the turn taken counts in */
	int backlog;
	uv_connection_cb on_connection; /* the listener's, to listen again */
	const char *where; /* its address or path, for the log */
	acceptq_take_fn take;
};

/* Bind server (initialised, bound, not yet listening; where: its
 * address or path, kept; server->data stays the caller's, for take) to
 * q and listen with backlog and on_connection, which calls
 * acceptq_take(). Returns what uv_listen() returns. */
int acceptq_listen(struct acceptq *q, uv_stream_t *server, const char *where,
		   int backlog, uv_connection_cb on_connection,
		   unsigned per_turn, acceptq_take_fn take);

/* From the listener's callback, status 0: take it, or leave it for the
 * timer. */
void acceptq_take(struct acceptq *q);

/* Close q's timer (the caller closes the listener); a second call does
 * nothing. */
void acceptq_close(struct acceptq *q);

#endif
