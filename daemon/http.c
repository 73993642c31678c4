#include "http_internal.h"

#include "access.h"
#include "changes.h"
#include "dlog.h"
#include "error.h"
#include "hlc.h"
#include "ingest.h"
#include "record.h"
#include "record_json.h"
#include "scopemap.h"
#include "tokens.h"
#include "utf8.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* --- calls the loop thread answers ------------------------------------ */

void http__call_free(struct call *c)
{
	if (!c)
		return;
	free(c->body);
	free(c->heads);
	free(c->text);
	free(c);
}

/* On the loop thread: c's answer is ready; wake its connection. */
static void call_finish(struct call *c)
{
	struct http *h = c->h;
	pthread_mutex_lock(&h->mu);
	c->done = 1;
	h->ncalls -= c->kind == CALL_WRITE;
	if (c->abandoned) {
		pthread_mutex_unlock(&h->mu);
		http__call_free(c);
		return;
	}
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

/*
 * On a connection's thread: hand c to the loop and wait for its answer.
 * -EBUSY when HTTP_MAX_CALLS are waiting (c is the caller's still), or
 * -ECANCELED when the daemon stops first (c then belongs to the loop).
 */
int http__call_run(struct http *h, struct call *c)
{
	c->h = h;
	pthread_mutex_lock(&h->mu);
	/* writes are bounded here; status and metrics calls by the
	 * connections (each one's thread waits for its call), as they
	 * wait on purpose for the next build (status_serve()) */
	if (h->stopping ||
	    (c->kind == CALL_WRITE && h->ncalls >= HTTP_MAX_CALLS)) {
		int stopping = h->stopping;
		pthread_mutex_unlock(&h->mu);
		return stopping ? -ESHUTDOWN : -EBUSY;
	}
	h->ncalls += c->kind == CALL_WRITE;
	if (h->tail)
		h->tail->next = c;
	else
		h->head = c;
	h->tail = c;
	pthread_mutex_unlock(&h->mu);
	uv_async_send(&h->async);
	pthread_mutex_lock(&h->mu);
	while (!c->done && !h->stopping)
		pthread_cond_wait(&h->cv, &h->mu);
	if (!c->done) {
		c->abandoned = 1;
		pthread_mutex_unlock(&h->mu);
		return -ECANCELED;
	}
	pthread_mutex_unlock(&h->mu);
	return 0;
}

static void write_done(struct ingest_job *job)
{
	struct call *c = job->data;
	c->r = job->r;
	c->failed = job->failed;
	snprintf(c->why, sizeof(c->why), "%s", job->why);
	call_finish(c);
}
/* --- responses ------------------------------------------------------------ */

/* text with code; close: "Connection: close", the connection ending
 * after this answer; retry_s (0: none): "Retry-After", seconds. */
static enum MHD_Result send_text(struct http *h, struct MHD_Connection *conn,
				 unsigned code, char *text, const char *type,
				 const char *allow, int close, unsigned retry_s)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	r = MHD_create_response_from_buffer(strlen(text), text,
					    MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (code == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"hamlet\"");
	/* libmicrohttpd reads this header of ours: it keeps the connection
	 * open for no further request */
	if (close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	if (retry_s) {
		char v[16];
		snprintf(v, sizeof(v), "%u", retry_s);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
	http__count_code(h, code);
	ok = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ok;
}

enum MHD_Result http__send_text(struct http *h, struct MHD_Connection *conn,
				 unsigned code, char *text, const char *type,
				 const char *allow)
{
	return send_text(h, conn, code, text, type, allow, 0, 0);
}

/* Send j (its reference taken) with code. */
enum MHD_Result http__send_json(struct http *h, struct MHD_Connection *conn,
				 unsigned code, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!s)
		return MHD_NO;
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return MHD_NO;
	}
	t[n] = '\n';
	t[n + 1] = 0;
	return http__send_text(h, conn, code, t, "application/json", NULL);
}

/* {"error": {"code": scode, "message": ...}} with HTTP status code. */
static enum MHD_Result send_err_v(struct http *h, struct MHD_Connection *conn,
				  unsigned code, const char *allow, int close,
				  unsigned retry_s, const char *scode,
				  const char *fmt, va_list ap)
{
	char *msg = NULL, *s;
	json_t *j;

	/* whole, however long the reason it quotes (LOG_WHY_MAX and more) */
	if (vasprintf(&msg, fmt, ap) < 0)
		return MHD_NO;
	/* JSON takes UTF-8 only: a message quoting bytes a client sent
	 * still answers */
	utf8_scrub(msg);
	j = json_pack("{s:{s:s, s:s}}", "error", "code", scode, "message", msg);
	free(msg);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!s)
		return MHD_NO;
	return send_text(h, conn, code, s, "application/json", allow, close,
			 retry_s);
}

enum MHD_Result http__send_err_allow(struct http *h,
				      struct MHD_Connection *conn,
				      unsigned code, const char *allow,
				      const char *scode, const char *fmt, ...)
{
	enum MHD_Result ok;
	va_list ap;

	va_start(ap, fmt);
	ok = send_err_v(h, conn, code, allow, 0, 0, scode, fmt, ap);
	va_end(ap);
	return ok;
}

/* The same, and the connection closed after it: what the client sends
 * after this request cannot be told from it. */
enum MHD_Result http__send_err_close(struct http *h,
				     struct MHD_Connection *conn,
				     unsigned code, const char *scode,
				     const char *fmt, ...)
{
	enum MHD_Result ok;
	va_list ap;

	va_start(ap, fmt);
	ok = send_err_v(h, conn, code, NULL, 1, 0, scode, fmt, ap);
	va_end(ap);
	return ok;
}

/* The same, with "Retry-After: retry_s": an answer that will change by
 * itself. */
enum MHD_Result http__send_err_retry(struct http *h,
				     struct MHD_Connection *conn,
				     unsigned code, unsigned retry_s,
				     const char *scode, const char *fmt, ...)
{
	enum MHD_Result ok;
	va_list ap;

	va_start(ap, fmt);
	ok = send_err_v(h, conn, code, NULL, 0, retry_s, scode, fmt, ap);
	va_end(ap);
	return ok;
}

/* A store fault or a failed call, as a response. */
enum MHD_Result http__send_fault(struct http *h, struct MHD_Connection *conn,
				  int r, const char *what)
{
	if (r == -EBUSY)
		return http__send_err_retry(h, conn,
					    MHD_HTTP_SERVICE_UNAVAILABLE, 1,
					    "busy",
					    "too many writes are waiting (%d); try again shortly",
					    HTTP_MAX_CALLS);
	if (r == -ECANCELED || r == -ESHUTDOWN)
		return send_err(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				"stopping", "the daemon is stopping");
	if (r == HAMLET_EMAPFULL || r == HAMLET_EDISKFULL)
		return send_err(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				"store_full", "%s: %s", what, hamlet_strerror(r));
	return send_err(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
			"%s: %s", what, hamlet_strerror(r));
}
/* --- requests ------------------------------------------------------------ */


/* ?k's value; "" for ?k without '=' (libmicrohttpd keeps it with no
 * value), so that it is refused as ?k= is rather than taken for no
 * parameter. A k given twice never gets here: params_only refuses it. */
const char *http__arg(struct MHD_Connection *conn, const char *k)
{
	const char *v = NULL;
	if (MHD_lookup_connection_value_n(conn, MHD_GET_ARGUMENT_KIND, k,
					  strlen(k), &v, NULL) != MHD_YES)
		return NULL;
	return v ? v : "";
}

uint64_t http__mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ?k=N: 0 and the value, 1 when absent (dflt), -1 when not a number. */
int http__arg_u64(struct MHD_Connection *conn, const char *k, uint64_t dflt,
		   uint64_t max, uint64_t *ret)
{
	const char *v = http__arg(conn, k);
	char *end;
	unsigned long long x;
	*ret = dflt;
	if (!v)
		return 1;
	errno = 0;
	x = strtoull(v, &end, 10);
	/* digits only: no sign, no blank */
	if (!*v || *end || errno || v[0] < '0' || v[0] > '9' || x > max)
		return -1;
	*ret = x;
	return 0;
}

/* 1 when the node itself reads what was written in scope, through the
 * moves: what its certificate grants (a village moved away from its
 * commune is no longer the commune's), or its own scope without one. */
static int node_reads(struct http *h, const struct scopemap *map,
		      const char *scope)
{
	int ok;

	pthread_mutex_lock(&h->tmu);
	ok = h->has_grant ? scopemap_may_read(map, &h->grant, scope)
			  : scopemap_reads(map, scope, h->d->node->scope);
	pthread_mutex_unlock(&h->tmu);
	return ok;
}

/* A record's written scope and whether the token may see it: a token
 * reads no more than the node's certificate, whatever its own scope. */
int http__may_see(struct http *h, struct store_txn *t,
		  const struct scopemap *map, const struct token *tok,
		  const struct record_view *v,
		  char written[ENTRY_MAX_SCOPE + 1])
{
	int r = scopemap_record_scope(map, t, v, written);
	if (r < 0)
		return r;
	if (written[0] && !node_reads(h, map, written))
		return 0;
	if (!tok->scope[0])
		return 1;
	return written[0] && scopemap_reads(map, written, tok->scope);
}

/* A token sees, among j's "duplicates", only the records it may read:
 * another village's record id is not its to learn. */
static int dups_filter(struct http *h, struct store_txn *t,
		       const struct scopemap *map, const struct token *tok,
		       const char *coll, json_t *j)
{
	json_t *d = json_object_get(j, "duplicates");
	char written[ENTRY_MAX_SCOPE + 1];
	size_t i = 0;
	if (!json_is_array(d))
		return 0;
	while (i < json_array_size(d)) {
		const char *id = json_string_value(json_array_get(d, i));
		struct record_view dv;
		int r = id ? record_view_load(t, coll, id, &dv) : -EINVAL;
		int see = !tok->scope[0]; /* one it cannot load: as before */
		if (r == 0) {
			see = http__may_see(h, t, map, tok, &dv, written);
			record_view_close(&dv);
			if (see < 0)
				return see;
		} else if (r != HAMLET_ENOTFOUND && r != -EINVAL) {
			return r;
		}
		if (see > 0)
			i++;
		else
			json_array_remove(d, i);
	}
	return 0;
}

int http__record_json(struct http *h, struct store_txn *t,
		      const struct scopemap *map, const struct token *tok,
		      const char *coll,
		      const char *id, const struct record_view *v, json_t **ret)
{
	int r;
	if ((r = record_json(t, map, coll, id, v, ret)) < 0)
		return r;
	if ((r = dups_filter(h, t, map, tok, coll, *ret)) < 0) {
		json_decref(*ret);
		*ret = NULL;
	}
	return r;
}

int http__two_people(struct http *h, const char *coll, const char *id)
{
	struct store_txn *t = NULL;
	struct record_view v;
	char two[SCHEMA_MAX_MAP_KEY + 1];
	int r = 0;

	if (store_txn_begin(h->d->node->st, 1, &t) < 0)
		return 0;
	if (record_view_load(t, coll, id, &v) == 0) {
		r = record_view_two_people(schema_find(coll), &v, two,
					   sizeof(two));
		record_view_close(&v);
	}
	store_txn_abort(t);
	return r;
}

json_t *http__body_json(const char *body, size_t len, int empty_obj,
			char *why, size_t n)
{
	/* jansson names its option, which no client can set */
	static const char nul[] = "\\u0000 is not allowed without JSON_ALLOW_NUL";
	const char *z = len ? memchr(body, 0, len) : NULL;
	json_error_t e;
	json_t *j;
	int isnul;
	size_t blank = 0;

	while (blank < len && (body[blank] == ' ' || body[blank] == '\t' ||
			       body[blank] == '\r' || body[blank] == '\n'))
		blank++;
	if (blank == len && empty_obj)
		return json_object();
	if (blank == len) {
		snprintf(why, n,
			 "the body is empty: a record's fields are sent as a JSON object, {\"FIELD\": VALUE, ...}");
		return NULL;
	}
	/* jansson would read a raw NUL as the text's end, and blame what
	 * follows it */
	if (z) {
		snprintf(why, n,
			 "invalid JSON in the body: a NUL byte at byte %zu of %zu, which JSON text never holds (nor does a record's text: no field takes one, raw or as \\u0000)",
			 (size_t)(z - body) + 1, len);
		return NULL;
	}
	if ((j = json_loadb(len ? body : "", len, JSON_REJECT_DUPLICATES, &e)))
		return j;
	isnul = strncmp(e.text, nul, sizeof(nul) - 1) == 0;
	snprintf(why, n, "invalid JSON in the body at line %d, column %d: %s%s%s",
		 e.line, e.column, isnul ? "\\u0000 is not allowed" : e.text,
		 isnul ? e.text + sizeof(nul) - 1 : "",
		 isnul ? " (no field of a record takes a NUL)" : "");
	return NULL;
}

/* Log a read of health data (access.h) by token tok; <0: do not show. */
int http__log_read(struct http *h, const struct token *tok, const char *cmd,
		    const char *coll, const char *id, const char *query,
		    uint64_t count, char *why, size_t wl)
{
	struct access_who who = { "token", tok->name, -1 };
	struct access_what what = { cmd, coll, id, query, count };
	if (!access_logged(coll) || count == 0)
		return 0;
	return access_group_append(h->access, &who, &what, hlc_real_ms(), why,
				   wl);
}


void http__health_note(struct health_count *hc, const char *coll)
{
	if (access_logged(coll))
		hc->n[strcmp(coll, "health_profile") != 0]++;
}

/* http__log_read() of each collection counted in hc. */
int http__log_reads(struct http *h, const struct token *tok, const char *cmd,
		     const char *query, const struct health_count *hc,
		     char *why, size_t wl)
{
	static const char *const colls[2] = { "health_profile",
					      "health_event" };
	int r = 0;
	for (int i = 0; i < 2 && r >= 0; i++)
		r = http__log_read(h, tok, cmd, colls[i], NULL, query, hc->n[i], why,
			     wl);
	return r;
}

/* --- calls, on the loop thread ------------------------------------------ */

/* The calls queued, taken off the queue. */
static struct call *calls_take(struct http *h)
{
	struct call *c;
	pthread_mutex_lock(&h->mu);
	c = h->head;
	h->head = h->tail = NULL;
	pthread_mutex_unlock(&h->mu);
	return c;
}

/*
 * The status and metrics calls waiting, answered from one build of the
 * status: each one asked before the build began, so none gets an older
 * answer than its request. The next build waits four times as long as
 * this one took (1 s at most): a status reads the store (the conflicts
 * above all), and however many clients ask, their builds take at most a
 * fifth of the loop, which serves the peers (unless one build takes
 * over a quarter of a second).
 */
#define STATUS_SPACING 4 /* the wait after a build, in builds */
#define STATUS_SPACING_MAX_MS 1000 /* and at most: a scrape's answer */

static void status_serve(struct http *h);

static void on_status_timer(uv_timer_t *t)
{
	status_serve(t->data);
}

static void status_serve(struct http *h)
{
	struct call *c, *next;
	json_t *j;
	char *text = NULL;
	uint64_t now = uv_now(h->d->loop), t0, spent;
	int r;

	if (!h->st_head)
		return;
	if (now < h->st_next_ms) {
		if (h->st_timer_open && !uv_is_active((uv_handle_t *)&h->st_timer))
			uv_timer_start(&h->st_timer, on_status_timer,
				       h->st_next_ms - now, 0);
		return;
	}
	t0 = uv_hrtime();
	j = http__status_build(h->d, &r);
	for (c = h->st_head, h->st_head = h->st_tail = NULL; c; c = next) {
		next = c->next;
		c->next = NULL;
		c->r = r;
		if (!j) {
			/* r says why */
		} else if (c->kind == CALL_STATUS) {
			if (!text)
				text = json_dumps(j, JSON_COMPACT);
			if (!text || !(c->text = strdup(text)))
				c->r = -ENOMEM;
		} else {
			c->text = http__metrics_build(h, j, &c->r);
		}
		call_finish(c);
	}
	free(text);
	json_decref(j);
	uv_update_time(h->d->loop);
	spent = STATUS_SPACING * ((uv_hrtime() - t0) / 1000000);
	h->st_next_ms = uv_now(h->d->loop) +
			(spent < STATUS_SPACING_MAX_MS ? spent
						       : STATUS_SPACING_MAX_MS);
}

/* The loop thread takes the calls queued and answers or submits each. */
static void on_async(uv_async_t *a)
{
	struct http *h = a->data;
	struct call *c, *next;
	int r;

	for (c = calls_take(h); c; c = next) {
		next = c->next;
		c->next = NULL;
		if (c->kind == CALL_WRITE) {
			memset(&c->job, 0, sizeof(c->job));
			c->job.kind = INGEST_WRITE;
			c->job.ops = &c->op;
			c->job.n = 1;
			c->job.out = &c->out;
			c->job.data = c;
			if ((r = ingest_submit(h->d->ingest, &c->job,
					       write_done)) == 0)
				continue;
			c->r = r;
			snprintf(c->why, sizeof(c->why), "%s",
				 r == -EBUSY ? "the writer's queue is full"
					     : "the daemon is stopping");
		} else {
			/* status and metrics: at the next build */
			if (h->st_tail)
				h->st_tail->next = c;
			else
				h->st_head = c;
			h->st_tail = c;
			continue;
		}
		call_finish(c);
	}
	status_serve(h);
}

/* --- life cycle --------------------------------------------------------- */

int http_start(struct daemon *d, struct http **ret)
{
	char host[CONFIG_MAX_ADDR], port[16];
	struct addrinfo hints, *ai = NULL;
	struct http *h;
	int r;

	*ret = NULL;
	if (!d->cfg.http[0])
		return 0;
	if (config_addr_split(d->cfg.http, host, sizeof(host), port,
			      sizeof(port)) < 0) {
		dlog(DLOG_ERR, _("http: \"%s\" is not HOST:PORT"), d->cfg.http);
		return -EINVAL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
		dlog(DLOG_ERR, _("http: %s: %s (give a numeric address, like 127.0.0.1:8080)"),
		     d->cfg.http, gai_strerror(r));
		return -EINVAL;
	}
	if (!(h = calloc(1, sizeof(*h))) ||
	    access_group_new(d->node->home, 0, &h->access) < 0) {
		free(h);
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	h->d = d;
	pthread_mutex_init(&h->mu, NULL);
	pthread_mutex_init(&h->tmu, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&h->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	uv_async_init(d->loop, &h->async, on_async);
	h->async.data = h;
	h->async_open = 1;
	uv_timer_init(d->loop, &h->st_timer);
	h->st_timer.data = h;
	h->st_timer_open = 1;
	if (http__conns_start(h) < 0) {
		freeaddrinfo(ai);
		http_stop(h);
		*ret = h;
		return -ENOMEM;
	}
	h->mhd = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
			(ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, http__on_accept, h, http__on_request, h, MHD_OPTION_SOCK_ADDR,
		ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)d->cfg.http_max_conns + HTTP_EVICT_ROOM,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)HTTP_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
		http__on_completed, h, MHD_OPTION_URI_LOG_CALLBACK, http__on_uri, h,
		MHD_OPTION_NOTIFY_CONNECTION, http__on_connection, h,
		MHD_OPTION_END);
	if (!h->mhd) {
		/* libmicrohttpd does not say why: a bind of our own does */
		int e = 0, one = 1;
		int fd = socket(ai->ai_family, SOCK_STREAM, 0);
		/* as libmicrohttpd binds: a port in TIME_WAIT is no reason */
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				   sizeof(one));
		if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
			e = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		if (e)
			dlog(DLOG_ERR, _("http: cannot listen on %s: %s"),
			     d->cfg.http, hamlet_strerror(-e));
		else
			dlog(DLOG_ERR, _("http: cannot listen on %s"),
			     d->cfg.http);
		http_stop(h);
		*ret = h;
		return -EADDRINUSE;
	}
	{
		/* plain HTTP: what leaves the machine can be read on the way */
		const uint8_t *a4 =
			(const uint8_t *)&((struct sockaddr_in *)ai->ai_addr)
				->sin_addr;
		int lo = ai->ai_family == AF_INET
				 ? a4[0] == 127
				 : IN6_IS_ADDR_LOOPBACK(
					   &((struct sockaddr_in6 *)ai->ai_addr)
						    ->sin6_addr);
		freeaddrinfo(ai);
		dlog(DLOG_NOTICE, _("http: API on %s"), d->cfg.http);
		if (!lo)
			dlog(DLOG_WARNING,
			     _("http: %s can be reached from other machines, and the API speaks plain HTTP: tokens and records cross the network readable. Listen on 127.0.0.1 and put a TLS proxy in front (docs/api.md)"),
			     d->cfg.http);
	}
	*ret = h;
	return 0;
}

void http_committed(struct http *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->commits++;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

void http_stop(struct http *h)
{
	struct call *c, *next;
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stopping = 1;
	pthread_cond_broadcast(&h->cv);
	/* the requests under way answer first (a long poll its last_seq, a
	 * feed its closing line, a new request 503 stopping), for at most
	 * HTTP_DRAIN_MS: stopping the server cuts what is still open */
	for (int i = 0; h->answering && i < HTTP_DRAIN_MS / 10; i++) {
		pthread_mutex_unlock(&h->mu);
		uv_sleep(10);
		pthread_mutex_lock(&h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	if (h->mhd) {
		MHD_stop_daemon(h->mhd); /* joins the connections' threads */
		h->mhd = NULL;
	}
	/* what no thread waits for any more and the loop never took */
	for (c = calls_take(h); c; c = next) {
		next = c->next;
		http__call_free(c);
	}
	/* and what waited for a status build: abandoned too, each thread
	 * gone with the server */
	for (c = h->st_head, h->st_head = h->st_tail = NULL; c; c = next) {
		next = c->next;
		http__call_free(c);
	}
	if (h->st_timer_open) {
		uv_timer_stop(&h->st_timer);
		uv_close((uv_handle_t *)&h->st_timer, NULL);
		h->st_timer_open = 0;
	}
	if (h->async_open) {
		uv_close((uv_handle_t *)&h->async, NULL);
		h->async_open = 0;
	}
	http__conns_stop(h);
}

void http_free(struct http *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->tmu);
	pthread_cond_destroy(&h->cv);
	access_group_free(h->access);
	http__conns_free(h);
	free(h);
}
