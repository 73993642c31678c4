/*
 * http: hamletd's HTTP/JSON API (docs/api.md), served by libmicrohttpd
 * on its own threads, one per connection, beside the libuv loop.
 *
 * Reads open their own read transactions on the store (any thread may).
 * Writes, and what only the loop thread may read (peers, the ingest
 * queue's figures, the scope map), are calls handed to the loop through a
 * mutex-protected queue and a uv_async_t: a write becomes an INGEST_WRITE
 * job, the one writer's, exactly as the local socket's "write"; the
 * connection's thread waits on a condition variable until the loop says
 * the call is done. Commits wake the changes feed's waiting readers.
 *
 * Limits (docs/api.md "Limits"): HTTP_MAX_BODY per request body (413),
 * [http] max_connections at once, HTTP_TIMEOUT_S idle per connection,
 * HTTP_MAX_CALLS writes waiting for the loop (503 past it).
 */
#ifndef HAMLETD_HTTP_H
#define HAMLETD_HTTP_H

#include "daemon.h"
#include "log.h"

#define HTTP_MAX_BODY ((size_t)1 << 20) /* a request's body */
/* a chunked body past HTTP_MAX_BODY read on (for its 413) this far */
#define HTTP_MAX_DISCARD ((size_t)4 << 20)
#define HTTP_TIMEOUT_S 30		/* a connection idle this long */
#define HTTP_MAX_CALLS 64		/* writes waiting for the loop */
#define HTTP_DRAIN_MS 2000		/* at stop: requests under way answer first */
#define HTTP_MAX_LIMIT 1000		/* records or changes in one page */
#define HTTP_DEFAULT_LIMIT 100
/* a page of records or changes stops once its records' JSON is this
 * large (a next, or last_seq, goes on): a client that never reads its
 * answer holds that much, not a thousand records of up to 33 KB each */
#define HTTP_MAX_PAGE_BYTES ((size_t)1 << 20)
#define HTTP_MAX_WAIT_MS (10 * 60 * 1000) /* longpoll, continuous timeout */
#define HTTP_HEARTBEAT_MS 10000 /* continuous: a newline when idle */
/* Retry-After of 503 "restoring": a sync round with a peer is seconds
 * to minutes; a client asking every minute does not crowd the node */
#define HTTP_RESTORING_RETRY_S 60

struct http;

/* Serve cfg.http (nothing when empty). On the loop thread. */
int http_start(struct daemon *d, struct http **ret);
/* A commit moved feeds: wake the changes feed's readers. Loop thread. */
void http_committed(struct http *h);
/* Stop serving: waiting requests end, threads are joined. Loop thread;
 * accepts NULL. Free with http_free once the loop has closed its handle. */
void http_stop(struct http *h);
void http_free(struct http *h);

#endif
