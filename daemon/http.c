#include "http_internal.h"

#include "access.h"
#include "changes.h"
#include "dlog.h"
#include "error.h"
#include "hlc.h"
#include "ingest.h"
#include "mp.h"
#include "record.h"
#include "record_json.h"
#include "rpc.h"
#include "schema.h"
#include "scopemap.h"
#include "status.h"
#include "tokens.h"
#include "utf8.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
/* The response codes counted for /metrics; the last slot counts others. */
static const unsigned count_codes[] = { 200, 400, 401, 403, 404, 405,
					409, 413, 500, 503, 0 };
_Static_assert(sizeof(count_codes) / sizeof(count_codes[0]) == HTTP__NCODES,
	       "one counter per code");
#define NCODES HTTP__NCODES

/* --- calls the loop thread answers ------------------------------------ */

void http__call_free(struct call *c)
{
	if (!c)
		return;
	free(c->body);
	free(c->text);
	free(c);
}

/* On the loop thread: c's answer is ready; wake its connection. */
static void call_finish(struct call *c)
{
	struct http *h = c->h;
	pthread_mutex_lock(&h->mu);
	c->done = 1;
	h->ncalls--;
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
	if (h->stopping || h->ncalls >= HTTP_MAX_CALLS) {
		int stopping = h->stopping;
		pthread_mutex_unlock(&h->mu);
		return stopping ? -ESHUTDOWN : -EBUSY;
	}
	h->ncalls++;
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

void http__count_code(struct http *h, unsigned code)
{
	size_t i = 0;
	while (count_codes[i] && count_codes[i] != code)
		i++;
	pthread_mutex_lock(&h->mu);
	h->by_code[i]++;
	pthread_mutex_unlock(&h->mu);
}

/* text with code; close: "Connection: close", the connection ending
 * after this answer. */
static enum MHD_Result send_text(struct http *h, struct MHD_Connection *conn,
				 unsigned code, char *text, const char *type,
				 const char *allow, int close)
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
	http__count_code(h, code);
	ok = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ok;
}

enum MHD_Result http__send_text(struct http *h, struct MHD_Connection *conn,
				 unsigned code, char *text, const char *type,
				 const char *allow)
{
	return send_text(h, conn, code, text, type, allow, 0);
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
				  const char *scode, const char *fmt, va_list ap)
{
	char msg[700], *s;
	json_t *j;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* JSON takes UTF-8 only: a message quoting bytes a client sent, or
	 * cut inside a character, still answers */
	utf8_scrub(msg);
	j = json_pack("{s:{s:s, s:s}}", "error", "code", scode, "message", msg);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!s)
		return MHD_NO;
	return send_text(h, conn, code, s, "application/json", allow, close);
}

enum MHD_Result http__send_err_allow(struct http *h,
				      struct MHD_Connection *conn,
				      unsigned code, const char *allow,
				      const char *scode, const char *fmt, ...)
{
	enum MHD_Result ok;
	va_list ap;

	va_start(ap, fmt);
	ok = send_err_v(h, conn, code, allow, 0, scode, fmt, ap);
	va_end(ap);
	return ok;
}

/* The same, and the connection closed after it: what the client sends
 * after this request cannot be told from it. */
static enum MHD_Result send_err_close(struct http *h,
				      struct MHD_Connection *conn,
				      unsigned code, const char *scode,
				      const char *fmt, ...)
{
	enum MHD_Result ok;
	va_list ap;

	va_start(ap, fmt);
	ok = send_err_v(h, conn, code, NULL, 1, scode, fmt, ap);
	va_end(ap);
	return ok;
}

/* A store fault or a failed call, as a response. */
enum MHD_Result http__send_fault(struct http *h, struct MHD_Connection *conn,
				  int r, const char *what)
{
	if (r == -EBUSY)
		return send_err(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
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

/* A record's written scope and whether the token may see it. */
int http__may_see(struct store_txn *t, const struct scopemap *map,
		   const struct token *tok, const struct record_view *v,
		   char written[ENTRY_MAX_SCOPE + 1])
{
	int r = scopemap_record_scope(map, t, v, written);
	if (r < 0)
		return r;
	if (!tok->scope[0])
		return 1;
	return written[0] && scopemap_reads(map, written, tok->scope);
}

/* A scoped token sees, among j's "duplicates", only the records it may
 * read: another village's record id is not its to learn. */
static int dups_filter(struct store_txn *t, const struct scopemap *map,
		       const struct token *tok, const char *coll, json_t *j)
{
	json_t *d = json_object_get(j, "duplicates");
	char written[ENTRY_MAX_SCOPE + 1];
	size_t i = 0;
	if (!tok->scope[0] || !json_is_array(d))
		return 0;
	while (i < json_array_size(d)) {
		const char *id = json_string_value(json_array_get(d, i));
		struct record_view dv;
		int r = id ? record_view_load(t, coll, id, &dv) : -EINVAL;
		int see = 0;
		if (r == 0) {
			see = http__may_see(t, map, tok, &dv, written);
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

int http__record_json(struct store_txn *t, const struct scopemap *map,
		      const struct token *tok, const char *coll,
		      const char *id, const struct record_view *v, json_t **ret)
{
	int r;
	if ((r = record_json(t, map, coll, id, v, ret)) < 0)
		return r;
	if ((r = dups_filter(t, map, tok, coll, *ret)) < 0) {
		json_decref(*ret);
		*ret = NULL;
	}
	return r;
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
	return access_group_append(h->access, &who, &what, hlc_wall_ms(), why,
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

/* --- status and metrics, on the loop thread ---------------------------- */

/* status_json() of the daemon's own status answer: the object `hamlet
 * status --json` prints while it runs. */
static json_t *status_build(struct daemon *d, int *ret_r)
{
	struct mp_writer w;
	struct mp_doc doc;
	struct status_facts st;
	uint8_t *buf;
	size_t len;
	json_t *j = NULL;
	int r;

	mp_writer_init(&w);
	r = rpc_status_pack(d, &w.pk);
	buf = r < 0 ? NULL : mp_writer_take(&w, &len);
	mp_writer_destroy(&w);
	if (r >= 0 && !buf)
		r = -ENOMEM;
	if (r >= 0 &&
	    (r = mp_doc_parse(&doc, buf, len, 64 + 32 * HAMLETD_MAX_KNOWN)) >= 0) {
		memset(&st, 0, sizeof(st));
		st.n = d->node;
		if ((r = status_store_read(&st)) >= 0) {
			st.running = 1;
			st.res = doc.root;
			st.peers = mp_map_get(doc.root, "peers");
			st.np = st.peers && st.peers->type == MSGPACK_OBJECT_ARRAY
					? st.peers->via.array.size
					: 0;
			j = status_json(&st);
		}
		mp_doc_close(&doc);
	}
	free(buf);
	*ret_r = r;
	return j;
}

/* A label value with \, " and newlines escaped (Prometheus text format). */
static void sb_label(FILE *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(b, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", b);
		else
			fputc(*s, b);
	}
}

static void metric_head(FILE *b, const char *name, const char *type,
			const char *help)
{
	fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static json_int_t jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* One family with a sample per peer, from the status's peer key k. */
static void peer_family(FILE *b, json_t *peers, const char *name,
			const char *type, const char *help, const char *k)
{
	size_t i;
	json_t *p;
	metric_head(b, name, type, help);
	json_array_foreach(peers, i, p)
	{
		json_t *v = json_object_get(p, k);
		fprintf(b, "%s{peer=\"", name);
		sb_label(b, json_string_value(json_object_get(p, "key")) ?: "");
		fprintf(b, "\",addr=\"");
		sb_label(b, json_string_value(json_object_get(p, "addr")) ?: "");
		if (json_is_boolean(v))
			fprintf(b, "\"} %d\n", json_is_true(v));
		else if (json_is_integer(v))
			fprintf(b, "\"} %lld\n",
				  (long long)json_integer_value(v));
		else
			fprintf(b, "\"} NaN\n");
	}
}

static char *metrics_build(struct http *h, int *ret_r)
{
	struct daemon *d = h->d;
	const struct ingest_hist *hist = ingest_hist(d->ingest);
	char *text = NULL;
	size_t tlen = 0;
	FILE *b;
	json_t *st = status_build(d, ret_r), *peers, *ref;
	char path[4200];
	struct stat fs;
	uint64_t codes[NCODES], cum = 0, sessions = 0;
	size_t i;
	json_t *p;

	if (!st)
		return NULL;
	if (!(b = open_memstream(&text, &tlen))) {
		json_decref(st);
		*ret_r = -ENOMEM;
		return NULL;
	}
	peers = json_object_get(st, "peers");
	json_array_foreach(peers, i, p) sessions += json_is_true(json_object_get(p, "connected"));
	peer_family(b, peers, "hamlet_peer_entries_in_total", "counter",
		    "Entries received from the peer.", "entries_in");
	peer_family(b, peers, "hamlet_peer_entries_out_total", "counter",
		    "Entries sent to the peer.", "entries_out");
	peer_family(b, peers, "hamlet_peer_bytes_in_total", "counter",
		    "Bytes received from the peer.", "bytes_in");
	peer_family(b, peers, "hamlet_peer_bytes_out_total", "counter",
		    "Bytes sent to the peer.", "bytes_out");
	peer_family(b, peers, "hamlet_peer_reconciliation_rounds_total",
		    "counter",
		    "Set reconciliation (NEG) messages received from the peer.",
		    "neg_in");
	peer_family(b, peers, "hamlet_peer_batches_in_total", "counter",
		    "Batches of the peer's entries committed.", "batches_in");
	peer_family(b, peers, "hamlet_peer_connected", "gauge",
		    "1 while a session with the peer is open.", "connected");
	peer_family(b, peers, "hamlet_peer_lag_seconds", "gauge",
		    "Seconds from the peer's last agreement to this node's newest entry (NaN: never synced).",
		    "lag_s");
	metric_head(b, "hamlet_sessions", "gauge", "Open replication sessions.");
	fprintf(b, "hamlet_sessions %llu\n", (unsigned long long)sessions);
	metric_head(b, "hamlet_refused_entries_total", "counter",
		    "Arriving entries refused since the daemon started, by reason.");
	ref = json_object_get(st, "refused");
	{
		const char *k;
		json_t *v;
		json_object_foreach(ref, k, v)
		{
			fprintf(b, "hamlet_refused_entries_total{reason=\"");
			sb_label(b, k);
			fprintf(b, "\"} %lld\n",
				  (long long)json_integer_value(v));
		}
	}
	metric_head(b, "hamlet_conflicts", "gauge",
		    "Records with an open conflict.");
	fprintf(b, "hamlet_conflicts %lld\n", (long long)jint(st, "conflicts"));
	metric_head(b, "hamlet_entries", "gauge", "Entries stored.");
	fprintf(b, "hamlet_entries %lld\n", (long long)jint(st, "entries"));
	metric_head(b, "hamlet_held_entries", "gauge",
		    "Entries held waiting for an earlier one.");
	fprintf(b, "hamlet_held_entries %lld\n", (long long)jint(st, "held"));
	metric_head(b, "hamlet_store_bytes", "gauge",
		    "Size of the store's data file.");
	snprintf(path, sizeof(path), "%s/store/data.mdb", d->node->home);
	fprintf(b, "hamlet_store_bytes %lld\n",
		  stat(path, &fs) == 0 ? (long long)fs.st_size : 0ll);
	metric_head(b, "hamlet_store_map_bytes", "gauge",
		    "The store's map size (it grows when full).");
	fprintf(b, "hamlet_store_map_bytes %llu\n",
		  (unsigned long long)store_map_size(d->node->st));
	metric_head(b, "hamlet_batch_commit_seconds", "histogram",
		    "Time the writer took per job (one write transaction).");
	for (i = 0; i < INGEST_HIST_N; i++) {
		cum += hist->counts[i];
		if (i + 1 < INGEST_HIST_N)
			fprintf(b,
				  "hamlet_batch_commit_seconds_bucket{le=\"%g\"} %llu\n",
				  INGEST_HIST_MS[i] / 1000.0,
				  (unsigned long long)cum);
		else
			fprintf(b,
				  "hamlet_batch_commit_seconds_bucket{le=\"+Inf\"} %llu\n",
				  (unsigned long long)cum);
	}
	fprintf(b, "hamlet_batch_commit_seconds_sum %.6f\n",
		  hist->sum_ms / 1000.0);
	fprintf(b, "hamlet_batch_commit_seconds_count %llu\n",
		  (unsigned long long)hist->n);
	pthread_mutex_lock(&h->mu);
	memcpy(codes, h->by_code, sizeof(codes));
	pthread_mutex_unlock(&h->mu);
	metric_head(b, "hamlet_http_requests_total", "counter",
		    "HTTP API responses by status code (this one not yet counted).");
	for (i = 0; i < NCODES; i++) {
		if (count_codes[i])
			fprintf(b, "hamlet_http_requests_total{code=\"%u\"} %llu\n",
				  count_codes[i], (unsigned long long)codes[i]);
		else
			fprintf(b, "hamlet_http_requests_total{code=\"other\"} %llu\n",
				  (unsigned long long)codes[i]);
	}
	{
		uint64_t slow, refused;
		http__conns_counts(h, &slow, &refused);
		metric_head(b, "hamlet_http_connections_closed_total",
			    "counter",
			    "HTTP connections closed or refused to keep one client from holding them all.");
		fprintf(b,
			"hamlet_http_connections_closed_total{reason=\"request_timeout\"} %llu\n",
			(unsigned long long)slow);
		fprintf(b,
			"hamlet_http_connections_closed_total{reason=\"max_per_client\"} %llu\n",
			(unsigned long long)refused);
	}
	json_decref(st);
	if (fclose(b) != 0) {
		free(text);
		*ret_r = -ENOMEM;
		return NULL;
	}
	return text;
}

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
		} else if (c->kind == CALL_STATUS) {
			json_t *j = status_build(h->d, &c->r);
			if (j) {
				c->text = json_dumps(j, JSON_COMPACT);
				json_decref(j);
			}
		} else {
			c->text = metrics_build(h, &c->r);
		}
		call_finish(c);
	}
}

/* --- tokens ------------------------------------------------------------- */

/* Re-read the tokens file when it changed (inode, size, time); h->tmu
 * held. */
static void tokens_refresh(struct http *h)
{
	char path[4200], why[300];
	struct stat s;

	snprintf(path, sizeof(path), "%s/%s", h->d->node->home, TOKENS_FILE);
	if (stat(path, &s) != 0) {
		h->toks.n = 0;
		h->tseen = 0;
		h->tbad = 0;
	} else if (!h->tseen || s.st_ino != h->tst.st_ino ||
		   s.st_size != h->tst.st_size ||
		   s.st_mtim.tv_sec != h->tst.st_mtim.tv_sec ||
		   s.st_mtim.tv_nsec != h->tst.st_mtim.tv_nsec) {
		h->tst = s;
		h->tseen = 1;
		h->tbad = tokens_load(h->d->node->home, &h->toks, why,
				      sizeof(why)) < 0;
		if (h->tbad)
			dlog(DLOG_ERR, _("http: %s; every token is refused until it is fixed"),
			     why);
	}
}

/* The token presented, copied into ret: 1, or 0 when it is missing, bad
 * or revoked, -1 when it has expired (ret set, to name it), or -2 when
 * the tokens file does not read (no token can be judged). */
static int token_check(struct http *h, struct MHD_Connection *conn,
		       struct token *ret)
{
	const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	const struct token *t;
	char given[256];
	size_t n;
	int found = 0;

	/* the scheme in any case, spaces around the token (RFC 9110 11.4) */
	if (!a || strncasecmp(a, "Bearer", 6) != 0 || (a[6] != ' ' && a[6] != '\t'))
		return 0;
	for (a += 6; *a == ' ' || *a == '\t'; a++)
		;
	n = strlen(a);
	while (n && (a[n - 1] == ' ' || a[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(given))
		return 0;
	memcpy(given, a, n);
	given[n] = 0;
	pthread_mutex_lock(&h->tmu);
	tokens_refresh(h);
	if (h->tbad)
		found = -2;
	else if ((t = tokens_find(&h->toks, given))) {
		*ret = *t;
		found = token_expired(t, (uint64_t)time(NULL) * 1000) ? -1 : 1;
	}
	pthread_mutex_unlock(&h->tmu);
	return found;
}

int http__token_held(struct http *h, const struct token *tok)
{
	int found = 0;

	pthread_mutex_lock(&h->tmu);
	tokens_refresh(h);
	if (h->tbad)
		found = -2;
	for (size_t i = 0; i < h->toks.n && !found; i++)
		if (sodium_memcmp(h->toks.v[i].hash, tok->hash,
				  sizeof(tok->hash)) == 0)
			found = token_expired(&h->toks.v[i],
					      (uint64_t)time(NULL) * 1000)
					? -1
					: 1;
	pthread_mutex_unlock(&h->tmu);
	return found;
}

/* The answer for a token that has expired (401, naming it and when), or
 * when no token can be judged (503). */
static enum MHD_Result token_err(struct http *h, struct MHD_Connection *conn,
				   const struct token *tok, int tc)
{
	if (tc == -2)
		return send_err(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				"tokens_unreadable",
				"this node's tokens file does not read, so no token can be checked: its administrator must fix HOME/tokens (hamletd's log names the fault)");
	char when[32];
	time_t s = (time_t)(tok->expires_ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return send_err(h, conn, MHD_HTTP_UNAUTHORIZED, "token_expired",
			"token \"%s\" expired at %s; hamlet token create makes a new one",
			tok->name, when);
}

/* --- status, metrics ------------------------------------------------------- */

int http__loop_text(struct http *h, int kind, char **ret)
{
	struct call *c = calloc(1, sizeof(*c));
	int r;

	*ret = NULL;
	if (!c)
		return -ENOMEM;
	c->kind = kind;
	if ((r = http__call_run(h, c)) < 0) {
		if (r == -ECANCELED)
			c = NULL; /* the loop's to free */
	} else if ((r = c->r) >= 0 && !c->text) {
		r = -ENOMEM;
	} else if (r >= 0) {
		*ret = c->text;
		c->text = NULL;
		r = 0;
	}
	http__call_free(c);
	return r;
}

static enum MHD_Result loop_text(struct http *h, struct MHD_Connection *conn,
				 int kind)
{
	char *t;
	int r = http__loop_text(h, kind, &t);

	if (r < 0)
		return http__send_fault(h, conn, r, "cannot read the status");
	return http__send_text(h, conn, MHD_HTTP_OK, t,
			       kind == CALL_METRICS
				       ? "text/plain; version=0.0.4; charset=utf-8"
				       : "application/json",
			       NULL);
}

/*
 * /v1/status for a token of one scope: the node's status without the
 * counts of conflicts and duplicates, which count the records of every
 * scope (a village's token would learn, by writing a person's ID number,
 * whether another village holds that person). /v1/conflicts gives the
 * token's own.
 */
static enum MHD_Result scoped_status(struct http *h,
				     struct MHD_Connection *conn,
				     const struct token *tok)
{
	json_error_t e;
	json_t *j;
	char *t;
	int r = http__loop_text(h, CALL_STATUS, &t);

	if (r < 0)
		return http__send_fault(h, conn, r, "cannot read the status");
	j = json_loads(t, 0, &e);
	free(t);
	if (!j)
		return http__send_fault(h, conn, -ENOMEM, "cannot read the status");
	json_object_del(j, "conflicts");
	json_object_del(j, "duplicates");
	json_object_del(j, "problems");
	json_object_del(j, "problems_unclassified");
	json_object_set_new(j, "token_scope", json_string(tok->scope));
	return http__send_json(h, conn, MHD_HTTP_OK, j);
}

int http__loopback(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		static const uint8_t v4m[12] = { 0, 0, 0, 0, 0, 0,
						 0, 0, 0, 0, 0xff, 0xff };
		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return 1;
		return memcmp(s6->sin6_addr.s6_addr, v4m, 12) == 0 &&
		       s6->sin6_addr.s6_addr[12] == 127;
	}
	return 0;
}

/* --- routing ------------------------------------------------------------- */

/* The first query parameter of conn that allowed (NULL-ended) does not
 * name, or the first it names twice, or NULL: a typo (?scop=) must not be
 * taken for no parameter, nor ?limit=1&limit=abc for whichever value one
 * reader or another (a proxy, a cache) would pick. */
struct param_scan {
	const char *const *allowed;
	const char *unknown, *twice;
	unsigned long seen; /* bit i: allowed[i] given (a path takes a few) */
};

static enum MHD_Result param_seen(void *cls, enum MHD_ValueKind kind,
				  const char *key, const char *value)
{
	struct param_scan *ps = cls;
	unsigned i = 0;
	(void)kind;
	(void)value;
	for (const char *const *a = ps->allowed; *a; a++, i++) {
		if (strcmp(*a, key) != 0)
			continue;
		if (ps->seen & (1UL << i)) {
			ps->twice = key;
			return MHD_NO;
		}
		ps->seen |= 1UL << i;
		return MHD_YES;
	}
	ps->unknown = key;
	return MHD_NO;
}

/* 400 bad_param when conn carries a parameter what does not take, or one
 * twice; MHD_YES with *ret_sent 0 when it carries none such. */
static enum MHD_Result params_only(struct http *h, struct MHD_Connection *conn,
				   const char *what, const char *const *allowed,
				   int *ret_sent)
{
	struct param_scan ps = { allowed, NULL, NULL, 0 };
	char list[200] = "";

	*ret_sent = 0;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, param_seen, &ps);
	if (ps.twice) {
		*ret_sent = 1;
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_param",
				"%s given twice: give each parameter once",
				ps.twice);
	}
	if (!ps.unknown)
		return MHD_YES;
	for (const char *const *a = allowed; *a; a++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 a == allowed ? "" : ", ", *a);
	*ret_sent = 1;
	return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_param",
			"unknown parameter \"%.64s\": %s takes %s", ps.unknown,
			what, list[0] ? list : "no parameter");
}

#define PARAMS(what, ...)                                                  \
	do {                                                               \
		static const char *const allowed_[] = { __VA_ARGS__ };     \
		int sent_;                                                 \
		enum MHD_Result ok_ = params_only(h, conn, what, allowed_, \
						  &sent_);                 \
		if (sent_)                                                 \
			return ok_;                                        \
	} while (0)

/* 400 bad_id: the id as given (cut at 64 bytes, "…" when cut) and the
 * rule it breaks. */
static enum MHD_Result bad_id(struct http *h, struct MHD_Connection *conn,
			      const char *id)
{
	size_t n = strlen(id);
	return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_id",
			"invalid record id \"%.64s%s\" (%zu bytes): use 1-64 letters, digits, '.', '_', ':' or '-' (not . or .. alone)",
			id, n > 64 ? "…" : "", n);
}

/* 405, naming the methods allowed on what. */
static enum MHD_Result method_err(struct http *h, struct MHD_Connection *conn,
				  const char *method, const char *allow,
				  const char *what)
{
	return http__send_err_allow(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, allow,
			      "method", "%s is not allowed on %s; use %s",
			      method, what, allow);
}

/* Split path (after the prefix) into at most max segments, in buf. */
static size_t split(const char *path, char *buf, size_t cap, char **seg,
		    size_t max)
{
	size_t n = 0;
	char *p, *save = NULL;
	snprintf(buf, cap, "%s", path);
	for (p = strtok_r(buf, "/", &save); p && n <= max;
	     p = strtok_r(NULL, "/", &save))
		seg[n++] = p;
	return n;
}

static enum MHD_Result route(struct http *h, struct MHD_Connection *conn,
			     const char *url, const char *method,
			     struct req *rq)
{
	struct token tok;
	int tc = 0;
	char buf[1024], *seg[6];
	size_t n;
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	enum MHD_Result ok;

	if (http__host_refused(h, conn, url, &ok))
		return ok; /* DNS rebinding: before any route reads a thing */
	if (rq->nul)
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_url",
				"the URL holds an encoded NUL byte (%%00), which no path or value may");
	if (strcmp(url, "/metrics") == 0) {
		if (!get)
			return method_err(h, conn, method, "GET", "/metrics");
		if (!http__loopback(conn) &&
		    (tc = token_check(h, conn, &tok)) < 0)
			return token_err(h, conn, &tok, tc);
		if (!http__loopback(conn) && !tc)
			return send_err(h, conn, MHD_HTTP_UNAUTHORIZED,
					"bad_token",
					"/metrics answers loopback clients, or a request with a valid token");
		if (!http__loopback(conn) && tok.scope[0])
			return send_err(h, conn, MHD_HTTP_FORBIDDEN, "scope",
					"token \"%s\" covers scope %s; /metrics counts the records of every scope, so it answers loopback clients and tokens of every scope",
					tok.name, tok.scope);
		PARAMS("/metrics", NULL);
		return loop_text(h, conn, CALL_METRICS);
	}
	if (strcmp(url, "/") == 0 || strcmp(url, "/status") == 0) {
		if (!get)
			return method_err(h, conn, method, "GET", url);
		if (!http__loopback(conn) &&
		    (tc = token_check(h, conn, &tok)) < 0)
			return token_err(h, conn, &tok, tc);
		if (!http__loopback(conn) && !tc)
			return send_err(h, conn, MHD_HTTP_UNAUTHORIZED,
					"bad_token",
					"the status page answers loopback clients, or a request with a valid token");
		if (!http__loopback(conn) && tok.scope[0])
			return send_err(h, conn, MHD_HTTP_FORBIDDEN, "scope",
					"token \"%s\" covers scope %s; the status page counts the records of every scope, so it answers loopback clients and tokens of every scope",
					tok.name, tok.scope);
		PARAMS("the status page", "lang", "key", NULL);
		return http__page(h, conn);
	}
	if (strncmp(url, "/v1/", 4) != 0)
		return send_err(h, conn, MHD_HTTP_NOT_FOUND, "no_route",
				"no such path: %.200s (the API is under /v1/, docs/api.md)",
				url);
	if (strlen(url) >= sizeof(buf))
		return send_err(h, conn, MHD_HTTP_URI_TOO_LONG, "too_long",
				"the path is over %zu bytes", sizeof(buf) - 1);
	if ((tc = token_check(h, conn, &tok)) < 0)
		return token_err(h, conn, &tok, tc);
	if (!tc)
		return send_err(h, conn, MHD_HTTP_UNAUTHORIZED, "bad_token",
				"a valid token is needed: send \"Authorization: Bearer TOKEN\" (hamlet token create makes one)");
	if (rq->too_big)
		return send_err(h, conn, 413, "too_large",
				"the body is over %zu bytes", HTTP_MAX_BODY);
	n = split(url + 4, buf, sizeof(buf), seg, 5);
	if (n == 1 && strcmp(seg[0], "status") == 0) {
		if (!get)
			return method_err(h, conn, method, "GET", "/v1/status");
		PARAMS("/v1/status", NULL);
		if (tok.scope[0])
			return scoped_status(h, conn, &tok);
		return loop_text(h, conn, CALL_STATUS);
	}
	if (n == 1 && strcmp(seg[0], "changes") == 0) {
		if (!get)
			return method_err(h, conn, method, "GET", "/v1/changes");
		PARAMS("/v1/changes", "feed", "since", "limit", "timeout",
		       "heartbeat", NULL);
		return http__get_changes(h, conn, &tok);
	}
	if (n == 4 && strcmp(seg[0], "conflicts") == 0 &&
	    strcmp(seg[3], "resolve") == 0) {
		const struct schema *s = schema_find(seg[1]);
		if (strcmp(method, "POST") != 0)
			return method_err(h, conn, method, "POST", "resolve");
		if (!s)
			return send_err(h, conn, MHD_HTTP_NOT_FOUND,
					"unknown_collection",
					"unknown collection \"%.64s\"", seg[1]);
		if (entry_record_id_check(seg[2]) < 0)
			return bad_id(h, conn, seg[2]);
		PARAMS("a resolve", "scope", NULL);
		return http__put_or_delete(h, conn, &tok, s, seg[2], ENTRY_PUT, rq, 1);
	}
	if (n == 1 && strcmp(seg[0], "conflicts") == 0) {
		if (!get)
			return method_err(h, conn, method, "GET", "/v1/conflicts");
		PARAMS("/v1/conflicts", NULL);
		return http__get_conflicts(h, conn, &tok);
	}
	if ((n == 2 || n == 3) && strcmp(seg[0], "records") == 0) {
		const struct schema *s = schema_find(seg[1]);
		if (!s)
			return send_err(h, conn, MHD_HTTP_NOT_FOUND,
					"unknown_collection",
					"unknown collection \"%.64s\"; the collections are health_profile, health_event, payment and registration",
					seg[1]);
		if (n == 2) {
			if (!get)
				return method_err(h, conn, method, "GET", "a collection");
			PARAMS("a collection's list", "scope", "limit", "after",
			       NULL);
			return http__list_records(h, conn, &tok, s);
		}
		if (entry_record_id_check(seg[2]) < 0)
			return bad_id(h, conn, seg[2]);
		if (get) {
			PARAMS("a record's GET", NULL);
			return http__get_record(h, conn, &tok, s, seg[2]);
		}
		PARAMS("a record's PUT and DELETE", "scope", NULL);
		if (strcmp(method, "PUT") == 0)
			return http__put_or_delete(h, conn, &tok, s, seg[2],
					     ENTRY_PUT, rq, 0);
		if (strcmp(method, "DELETE") == 0)
			return http__put_or_delete(h, conn, &tok, s, seg[2],
					     ENTRY_DELETE, rq, 0);
		return method_err(h, conn, method, "GET, PUT, DELETE", "a record");
	}
	return send_err(h, conn, MHD_HTTP_NOT_FOUND, "no_route",
			"no such path: %.200s (docs/api.md lists them)", url);
}

/* The request's URI as sent, before libmicrohttpd decodes it: an
 * encoded NUL would end the decoded path or value early (a record id
 * "HP-1%00x" naming HP-1). Returns the request's state. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct req *rq = calloc(1, sizeof(*rq));
	(void)cls;
	(void)conn;
	for (const char *p = uri; rq && p && (p = strchr(p, '%')); p++)
		if (p[1] == '0' && p[2] == '0') {
			rq->nul = 1;
			break;
		}
	return rq;
}

/*
 * How long the request's body is, as its headers say. libmicrohttpd reads
 * the first of two Content-Lengths, and chunked over a Content-Length; a
 * proxy in front may read the other, and the bytes between would be run
 * as a request of their own that the proxy never saw as one (request
 * smuggling; RFC 9112 sections 6.1 and 6.3). So a length stated twice, or
 * two ways, or a coding other than chunked is refused before the body is
 * read, and the connection closed after the answer.
 */
struct framing_scan {
	unsigned ncl, nte;
	const char *cl[2], *te;
};

static enum MHD_Result framing_seen(void *cls, enum MHD_ValueKind kind,
				    const char *key, const char *value)
{
	struct framing_scan *fs = cls;
	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (fs->ncl < 2)
			fs->cl[fs->ncl] = value ? value : "";
		fs->ncl++;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		if (!fs->nte)
			fs->te = value ? value : "";
		fs->nte++;
	}
	return MHD_YES;
}

/* 0 when conn's headers state its body's length once; -1 and why. */
static int framing_check(struct MHD_Connection *conn, char *why, size_t wl)
{
	struct framing_scan fs = { 0, 0, { NULL, NULL }, NULL };

	MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_seen, &fs);
	if (fs.ncl > 1)
		snprintf(why, wl,
			 "Content-Length is given %u times (\"%.32s\", \"%.32s\"%s): state the body's length once",
			 fs.ncl, fs.cl[0], fs.cl[1], fs.ncl > 2 ? ", …" : "");
	else if (fs.ncl && fs.nte)
		snprintf(why, wl,
			 "both Content-Length and Transfer-Encoding are given: state the body's length one way, not two");
	else if (fs.nte > 1)
		snprintf(why, wl,
			 "Transfer-Encoding is given %u times: give it once, as chunked",
			 fs.nte);
	else if (fs.nte && strcasecmp(fs.te, "chunked") != 0)
		snprintf(why, wl,
			 "Transfer-Encoding \"%.32s\" is not taken: send the body with Content-Length or Transfer-Encoding: chunked",
			 fs.te);
	else
		return 0;
	return -1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct req *rq = *con_cls;
	(void)version;

	if (!rq || !rq->started) {
		const char *cl;
		char why[200];
		if (!rq && !(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq;
		rq->started = 1;
		pthread_mutex_lock(&h->mu);
		h->answering++;
		pthread_mutex_unlock(&h->mu);
		if (framing_check(conn, why, sizeof(why)) < 0)
			return send_err_close(h, conn, MHD_HTTP_BAD_REQUEST,
					      "bad_length", "%s", why);
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > HTTP_MAX_BODY) {
			/* refused before the body is read */
			rq->too_big = 1;
			return send_err(h, conn, 413,
					"too_large", "the body is over %zu bytes",
					HTTP_MAX_BODY);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (rq->too_big || rq->len + n > HTTP_MAX_BODY) {
			rq->too_big = 1;
			return MHD_YES;
		}
		if (rq->len + n + 1 > rq->cap) {
			size_t nc = (rq->len + n + 1) * 2;
			char *p = realloc(rq->body, nc);
			if (!p)
				return MHD_NO;
			rq->body = p;
			rq->cap = nc;
		}
		memcpy(rq->body + rq->len, upload, n);
		rq->len += n;
		rq->body[rq->len] = 0;
		return MHD_YES;
	}
	http__conn_waiting(h, conn, 0);
	return route(h, conn, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;
	struct req *rq = *con_cls;
	(void)toe;
	/* the next request on this connection has its own deadline */
	http__conn_waiting(cls, conn, 1);
	if (rq && rq->started) {
		pthread_mutex_lock(&h->mu);
		if (h->answering)
			h->answering--;
		pthread_mutex_unlock(&h->mu);
	}
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
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
	if (http__conns_start(h) < 0) {
		freeaddrinfo(ai);
		http_stop(h);
		*ret = h;
		return -ENOMEM;
	}
	h->mhd = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
			(ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, http__on_accept, h, on_request, h, MHD_OPTION_SOCK_ADDR,
		ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)d->cfg.http_max_conns + HTTP_EVICT_ROOM,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)HTTP_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, h, MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
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
