/*
 * http_internal: what the HTTP API's files share (http.c: the server,
 * its calls to the loop, responses; http_route.c: tokens, routing, the
 * status and /metrics answers; http_metrics.c: the status object and
 * /metrics built on the loop; http_records.c: records, conflicts,
 * resolving; http_changes.c: the changes feed; http_conns.c: the
 * connections; http_page.c: the status page). Nothing outside
 * daemon/http*.c includes it.
 */
#ifndef HAMLETD_HTTP_INTERNAL_H
#define HAMLETD_HTTP_INTERNAL_H

#include "http.h"
#include "ingest.h"
#include "record.h"
#include "scopemap.h"
#include "tokens.h"

#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define HTTP__NCODES 13 /* response codes counted for /metrics */

enum call_kind { CALL_WRITE = 1, CALL_STATUS, CALL_METRICS };

struct call {
	int kind;
	struct http *h;
	struct ingest_job job;
	struct log_op op;
	struct log_out out;
	char coll[ENTRY_MAX_COLLECTION + 1], id[ENTRY_MAX_RECORD_ID + 1];
	char scope[ENTRY_MAX_SCOPE + 1];
	uint8_t *body;
	uint8_t (*heads)[ENTRY_ID_LEN]; /* a resolve's, as op.heads */
	int done, abandoned, r;
	size_t failed;
	char why[LOG_WHY_MAX];
	char *text; /* STATUS: the JSON; METRICS: the exposition */
	struct call *next;
};


/* connections libmicrohttpd holds beyond [http] max_connections: room
 * for newcomers while those closed to make room close (http_conns.c) */
#define HTTP_EVICT_ROOM 8

struct http {
	struct daemon *d;
	struct MHD_Daemon *mhd;
	uv_async_t async;
	int async_open;
	pthread_mutex_t mu; /* all below, and the calls' done flags */
	pthread_cond_t cv;  /* a call done, a commit, or stopping */
	uint64_t commits;
	struct call *head, *tail; /* waiting for the loop */
	size_t ncalls;		  /* writes queued or running on the loop */
	int stopping;
	size_t feeds; /* long polls and continuous feeds open */
	size_t answering; /* requests begun and not yet completed */
	uint64_t by_code[HTTP__NCODES];
	pthread_mutex_t tmu; /* the tokens, re-read when the file changes */
	struct tokens toks;
	struct stat tst;
	int tseen;
	int tbad; /* the file does not read: every token refused, 503 */
	/* what the node itself reads, under tmu, re-read when node.cert
	 * changes and once a minute (an end passed): its certificate's
	 * grant (has_grant), else its own scope. A token reads no more. */
	struct cert grant;
	int has_grant;
	struct stat gst;
	int gseen;
	uint64_t gat_ms;
	/* the access log, one fdatasync for the reads that overlap */
	struct access_group *access;
	/* the connections open (http_conns.c), under cmu */
	pthread_mutex_t cmu;
	int cmu_init;
	struct http_conn *conns;
	size_t nconns;
	uint64_t cut_slow, cut_unread, refused_per_client, refused_told;
	uint64_t refused_full; /* none could be closed to make room */
	/* when room was last made, for a request not whole and for an
	 * answer not read: a log line a minute for each */
	uint64_t evicted_told[2];
	/* connections on_tick closed and has not logged yet (the first one's
	 * address), and when it last did: a log line a minute */
	uint64_t cut_told;
	unsigned cut_untold;
	char cut_name[INET6_ADDRSTRLEN];
	uv_timer_t tick; /* the request deadline, on the loop */
	int tick_open;
	/* status and metrics calls waiting for the next build, on the loop
	 * alone: one build answers every call waiting, and builds are
	 * spaced (st_next_ms, by uv_now()) so that however many clients
	 * ask, building takes at most a fifth of the loop (http.c) */
	struct call *st_head, *st_tail;
	uv_timer_t st_timer;
	int st_timer_open;
	uint64_t st_next_ms;
};

struct req {
	char *body;
	size_t len, cap;
	int too_big;
	size_t discarded; /* of a body too big: read on, not kept */
	int nul; /* its URI holds %00 */
	int slash; /* its path holds %2F */
};

/* Health records read by one answer, per logged collection. */
struct health_count {
	uint64_t n[2]; /* health_profile, health_event */
};

/* --- http_conns.c: no one client holds every connection --- */

/* Table and timer; on the loop thread, before libmicrohttpd starts. */
int http__conns_start(struct http *h);
/* Stop the timer (loop thread); free once the loop closed it. */
void http__conns_stop(struct http *h);
void http__conns_free(struct http *h);
/* libmicrohttpd's accept policy and connection notifications. */
enum MHD_Result http__on_accept(void *cls, const struct sockaddr *sa,
				socklen_t len);
void http__on_connection(void *cls, struct MHD_Connection *conn,
			 void **socket_context,
			 enum MHD_ConnectionNotificationCode code);
/* conn's request arrived whole (waiting 0), or it was answered and the
 * next one's deadline starts (waiting 1). */
void http__conn_waiting(struct http *h, struct MHD_Connection *conn,
			int waiting);
/* The request conn is answering (NULL: none now), so that its state is
 * freed (http__req_free) when the connection closes without
 * libmicrohttpd calling NOTIFY_COMPLETED. */
void http__conn_req(struct http *h, struct MHD_Connection *conn,
		    struct req *rq);
/* conn answers a long poll or a continuous feed: it holds its
 * connection by design (a feed slot), and is not closed to make room. */
void http__conn_stream(struct http *h, struct MHD_Connection *conn);
/* Connections closed for a slow request, or to make room for an answer
 * not read; refused per client; refused with every connection busy and
 * none to close. */
void http__conns_counts(struct http *h, uint64_t *slow, uint64_t *unread,
			uint64_t *refused, uint64_t *full);

/* --- http.c --- */

/* Free a call (accepts NULL). */
void http__call_free(struct call *c);

/* Hand c to the loop thread and wait for its answer: -EBUSY past
 * HTTP_MAX_CALLS (c still the caller's), -ECANCELED when the daemon stopped
 * first (c then the loop's to free). */
int http__call_run(struct http *h, struct call *c);

/* Responses: text is taken (freed). */
enum MHD_Result http__send_text(struct http *h, struct MHD_Connection *conn,
				 unsigned code, char *text, const char *type,
				 const char *allow);

enum MHD_Result http__send_json(struct http *h, struct MHD_Connection *conn,
				 unsigned code, json_t *j);

/* {"error":{"code":scode,"message":...}}; allow: the Allow header or NULL. */
__attribute__((format(printf, 6, 7))) enum MHD_Result
http__send_err_allow(struct http *h,
				      struct MHD_Connection *conn,
				      unsigned code, const char *allow,
				      const char *scode, const char *fmt, ...);

/* The same, and the connection closed after it (a request whose framing
 * cannot be trusted). */
__attribute__((format(printf, 5, 6))) enum MHD_Result
http__send_err_close(struct http *h, struct MHD_Connection *conn,
		     unsigned code, const char *scode, const char *fmt, ...);

/* The same, with "Retry-After: retry_s" (an answer that changes by
 * itself, like a node waiting for its own entries from its peers). */
__attribute__((format(printf, 6, 7))) enum MHD_Result
http__send_err_retry(struct http *h, struct MHD_Connection *conn,
		     unsigned code, unsigned retry_s, const char *scode,
		     const char *fmt, ...);

/* A store fault or a failed call as 503 or 500. */
enum MHD_Result http__send_fault(struct http *h, struct MHD_Connection *conn,
				  int r, const char *what);

/* The JSON of a request's body (len bytes; none is {} when empty_obj):
 * NULL with why naming the fault, line and column or the NUL byte. */
json_t *http__body_json(const char *body, size_t len, int empty_obj,
			char *why, size_t n);

/* Milliseconds on CLOCK_MONOTONIC: deadlines of requests and polls. */
uint64_t http__mono_ms(void);

/* Query parameters, once each (the router refuses one given twice):
 * http__arg NULL when absent, "" when empty or given without '='
 * (refused as empty, never taken for absent); http__arg_u64: 0 read, 1
 * absent (dflt), -1 not digits only, or over max. */
const char *http__arg(struct MHD_Connection *conn, const char *k);
int http__arg_u64(struct MHD_Connection *conn, const char *k, uint64_t dflt,
		   uint64_t max, uint64_t *ret);

/* record_json() of coll/id for tok: a scoped token's copy lists, among
 * its duplicates, only the records it may read. */
int http__record_json(struct http *h, struct store_txn *t,
		      const struct scopemap *map, const struct token *tok,
		      const char *coll,
		      const char *id, const struct record_view *v, json_t **ret);

/* 1 when coll/id holds two people under one id (record_view_two_people():
 * a resolution keeping it is refused), 0 when not or unread. */
int http__two_people(struct http *h, const char *coll, const char *id);

/* The record's written scope; 1 when the token may see it: the token's
 * scope and the node's own read grant (h->grant) both read it. */
int http__may_see(struct http *h, struct store_txn *t,
		  const struct scopemap *map, const struct token *tok,
		  const struct record_view *v,
		  char written[ENTRY_MAX_SCOPE + 1]);

/* Reads of health data into the access log, by the token's name; <0:
 * the read must not be shown. */
int http__log_read(struct http *h, const struct token *tok, const char *cmd,
		    const char *coll, const char *id, const char *query,
		    uint64_t count, char *why, size_t wl);

void http__health_note(struct health_count *hc, const char *coll);

int http__log_reads(struct http *h, const struct token *tok, const char *cmd,
		     const char *query, const struct health_count *hc,
		     char *why, size_t wl);

/* --- http_metrics.c: on the loop thread --- */

/* Count a response by its code, for /metrics. */
void http__count_code(struct http *h, unsigned code);

/* The daemon's status object (the caller owns it), or NULL and <0 in
 * *ret_r. */
json_t *http__status_build(struct daemon *d, int *ret_r);

/* The /metrics exposition from st, a status object http__status_build()
 * made (the caller frees it), or NULL and <0 in *ret_r. */
char *http__metrics_build(struct http *h, const json_t *st, int *ret_r);

/* --- http_route.c --- */

/* 1 while tok (as a request presented it) is still in the tokens file
 * and has not expired, -1 when it has expired, -2 when the file does not
 * read, 0 when it is gone: a stream checks it again before it sends
 * more. */
int http__token_held(struct http *h, const struct token *tok);

/* Ask the loop for CALL_STATUS or CALL_METRICS: 0 and the text in *ret
 * (the caller frees it), or <0 (-EBUSY, -ECANCELED, a store fault). */
int http__loop_text(struct http *h, int kind, char **ret);

/* 1 when the client is on this machine (127.0.0.0/8, ::1, ::ffff:127.x). */
int http__loopback(struct MHD_Connection *conn);

/* libmicrohttpd's request callbacks: a request's URI as sent, its
 * headers and body, routed once whole; its end. */
void *http__on_uri(void *cls, const char *uri, struct MHD_Connection *conn);
enum MHD_Result http__on_request(void *cls, struct MHD_Connection *conn,
				 const char *url, const char *method,
				 const char *version, const char *upload,
				 size_t *upload_size, void **con_cls);
void http__on_completed(void *cls, struct MHD_Connection *conn,
			void **con_cls, enum MHD_RequestTerminationCode toe);
/* A request's state, no longer answering (accepts NULL). */
void http__req_free(struct http *h, struct req *rq);

/* --- http_records.c --- */

enum MHD_Result http__get_record(struct http *h, struct MHD_Connection *conn,
				  const struct token *tok,
				  const struct schema *s, const char *id);

enum MHD_Result http__put_or_delete(struct http *h,
				     struct MHD_Connection *conn,
				     const struct token *tok,
				     const struct schema *s, const char *id,
				     int kind, const struct req *rq,
				     int resolve);

enum MHD_Result http__list_records(struct http *h, struct MHD_Connection *conn,
				    const struct token *tok,
				    const struct schema *s);

enum MHD_Result http__get_conflicts(struct http *h,
				     struct MHD_Connection *conn,
				     const struct token *tok);

/* --- http_changes.c --- */

enum MHD_Result http__get_changes(struct http *h, struct MHD_Connection *conn,
				   const struct token *tok);

/* The first query parameter of conn that allowed (NULL-ended) does not
 * name into *ret_unknown, the first it names twice into *ret_twice (NULL
 * when none); both live as long as the request (http_route.c). */
void http__params_scan(struct MHD_Connection *conn,
		       const char *const *allowed, const char **ret_unknown,
		       const char **ret_twice);

/* --- http_page.c --- */

/* GET / and /status: the status page (daemon/page.h). */
enum MHD_Result http__page(struct http *h, struct MHD_Connection *conn);

/* 1 and the answer in *ret when conn's Host names none of ours
 * (page_host_allowed(), [http] hosts: 421), or when it carries two Host
 * headers (400 bad_host); the connection is closed after either. Every
 * request asks first, before its length is checked. */
int http__host_refused(struct http *h, struct MHD_Connection *conn,
		       const char *url, enum MHD_Result *ret);

/* 1 and a 404 in plain words in *ret, in the page's language, when the
 * request for url (a path of none, outside /v1/) comes from a browser
 * (it accepts text/html): a person who mistyped the page's address. A
 * program is answered in JSON by the caller (0). */
int http__page_not_found(struct http *h, struct MHD_Connection *conn,
			 const char *url, enum MHD_Result *ret);

#define send_err(h, conn, code, scode, ...) \
	http__send_err_allow(h, conn, code, NULL, scode, __VA_ARGS__)

#endif
