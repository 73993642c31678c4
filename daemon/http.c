#include "http.h"

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

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

/* --- calls the loop thread answers ------------------------------------ */

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
	int done, abandoned, r;
	size_t failed;
	char why[300];
	char *text; /* STATUS: the JSON; METRICS: the exposition */
	struct call *next;
};

/* The response codes counted for /metrics; the last slot counts others. */
static const unsigned count_codes[] = { 200, 400, 401, 403, 404, 405,
					409, 413, 500, 503, 0 };
#define NCODES (sizeof(count_codes) / sizeof(count_codes[0]))

struct http {
	struct daemon *d;
	struct MHD_Daemon *mhd;
	uv_async_t async;
	int async_open;
	pthread_mutex_t mu; /* all below, and the calls' done flags */
	pthread_cond_t cv;  /* a call done, a commit, or stopping */
	uint64_t commits;
	struct call *head, *tail; /* waiting for the loop */
	size_t ncalls;		  /* queued or running on the loop */
	int stopping;
	uint64_t by_code[NCODES];
	pthread_mutex_t tmu; /* the tokens, re-read when the file changes */
	struct tokens toks;
	struct stat tst;
	int tseen;
};

static void call_free(struct call *c)
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
		call_free(c);
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
static int call_run(struct http *h, struct call *c)
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

/* The token presented, copied into ret: 1, or 0 when it is missing, bad
 * or revoked. The file is re-read when it changed (inode, size, time). */
static int token_check(struct http *h, struct MHD_Connection *conn,
		       struct token *ret)
{
	const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	char path[4200], why[300];
	const struct token *t;
	struct stat s;
	int found = 0;

	if (!a || strncmp(a, "Bearer ", 7) != 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", h->d->node->home, TOKENS_FILE);
	pthread_mutex_lock(&h->tmu);
	if (stat(path, &s) != 0) {
		h->toks.n = 0;
		h->tseen = 0;
	} else if (!h->tseen || s.st_ino != h->tst.st_ino ||
		   s.st_size != h->tst.st_size ||
		   s.st_mtim.tv_sec != h->tst.st_mtim.tv_sec ||
		   s.st_mtim.tv_nsec != h->tst.st_mtim.tv_nsec) {
		h->tst = s;
		h->tseen = 1;
		if (tokens_load(h->d->node->home, &h->toks, why, sizeof(why)) < 0)
			dlog(DLOG_ERR, "http: %s; every token is refused until it is fixed",
			     why);
	}
	if ((t = tokens_find(&h->toks, a + 7))) {
		*ret = *t;
		found = 1;
	}
	pthread_mutex_unlock(&h->tmu);
	return found;
}

/* --- responses ------------------------------------------------------------ */

static void count_code(struct http *h, unsigned code)
{
	size_t i = 0;
	while (count_codes[i] && count_codes[i] != code)
		i++;
	pthread_mutex_lock(&h->mu);
	h->by_code[i]++;
	pthread_mutex_unlock(&h->mu);
}

static enum MHD_Result send_text(struct http *h, struct MHD_Connection *conn,
				 unsigned code, char *text, const char *type,
				 const char *allow)
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
	count_code(h, code);
	ok = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ok;
}

/* Send j (its reference taken) with code. */
static enum MHD_Result send_json(struct http *h, struct MHD_Connection *conn,
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
	return send_text(h, conn, code, t, "application/json", NULL);
}

/* {"error": {"code": scode, "message": ...}} with HTTP status code. */
static enum MHD_Result send_err_allow(struct http *h,
				      struct MHD_Connection *conn,
				      unsigned code, const char *allow,
				      const char *scode, const char *fmt, ...)
{
	char msg[700], *s;
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j = json_pack("{s:{s:s, s:s}}", "error", "code", scode, "message", msg);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!s)
		return MHD_NO;
	return send_text(h, conn, code, s, "application/json", allow);
}

#define send_err(h, conn, code, scode, ...) \
	send_err_allow(h, conn, code, NULL, scode, __VA_ARGS__)

/* A store fault or a failed call, as a response. */
static enum MHD_Result send_fault(struct http *h, struct MHD_Connection *conn,
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

struct req {
	char *body;
	size_t len, cap;
	int too_big;
};

static const char *arg(struct MHD_Connection *conn, const char *k)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, k);
}

/* ?k=N: 0 and the value, 1 when absent (dflt), -1 when not a number. */
static int arg_u64(struct MHD_Connection *conn, const char *k, uint64_t dflt,
		   uint64_t max, uint64_t *ret)
{
	const char *v = arg(conn, k);
	char *end;
	unsigned long long x;
	*ret = dflt;
	if (!v)
		return 1;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (!*v || *end || errno || v[0] == '-')
		return -1;
	*ret = x > max ? max : x;
	return 0;
}

/* A record's written scope and whether the token may see it. */
static int may_see(struct store_txn *t, const struct scopemap *map,
		   const struct token *tok, const struct record_view *v,
		   char written[ENTRY_MAX_SCOPE + 1])
{
	int r = scopemap_record_scope(t, v, written);
	if (r < 0)
		return r;
	if (!tok->scope[0])
		return 1;
	return written[0] && scopemap_under(map, written, tok->scope);
}

/* Log a read of health data (access.h) by token tok; <0: do not show. */
static int log_read(struct http *h, const struct token *tok, const char *cmd,
		    const char *coll, const char *id, const char *query,
		    uint64_t count, char *why, size_t wl)
{
	struct access_who who = { "token", tok->name, -1 };
	struct access_what what = { cmd, coll, id, query, count };
	if (!access_logged(coll) || count == 0)
		return 0;
	return access_append(h->d->node->home, &who, &what, hlc_wall_ms(), 0,
			     why, wl);
}

static enum MHD_Result get_record(struct http *h, struct MHD_Connection *conn,
				  const struct token *tok,
				  const struct schema *s, const char *id)
{
	struct store_txn *t = NULL;
	struct scopemap *map = NULL;
	struct record_view v;
	char written[ENTRY_MAX_SCOPE + 1], why[4400];
	json_t *j = NULL;
	enum MHD_Result ok;
	int r;

	if ((r = store_txn_begin(h->d->node->st, 1, &t)) < 0 ||
	    (r = scopemap_load(t, &map)) < 0) {
		store_txn_abort(t);
		return send_fault(h, conn, r, "cannot read the store");
	}
	if ((r = record_view_load(t, s->name, id, &v)) < 0) {
		scopemap_free(map);
		store_txn_abort(t);
		if (r == HAMLET_ENOTFOUND)
			return send_err(h, conn, MHD_HTTP_NOT_FOUND,
					"record_not_found",
					"record %s/%s not found", s->name, id);
		return send_fault(h, conn, r, "cannot read the record");
	}
	r = may_see(t, map, tok, &v, written);
	if (r == 0)
		ok = send_err(h, conn, MHD_HTTP_FORBIDDEN, "scope",
			      "token \"%s\" covers scope %s; %s/%s is of scope %s",
			      tok->name, tok->scope, s->name, id, written);
	else if (r < 0 || (r = record_json(t, map, s->name, id, &v, &j)) < 0)
		ok = send_fault(h, conn, r, "cannot read the record");
	else if ((r = log_read(h, tok, "http get", s->name, id, NULL, 1, why,
			       sizeof(why))) < 0)
		ok = send_err(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			      "access_log",
			      "%s; a read of health data that cannot be logged is not done",
			      why);
	else {
		ok = send_json(h, conn, MHD_HTTP_OK, j);
		j = NULL;
	}
	json_decref(j);
	record_view_close(&v);
	scopemap_free(map);
	store_txn_abort(t);
	return ok;
}

/* The scope a write to coll/id falls in: given, else the record's, else
 * the node's own. */
static int write_scope(struct http *h, const char *coll, const char *id,
		       const char *given, char out[ENTRY_MAX_SCOPE + 1],
		       struct scopemap **ret_map, int *ret_exists)
{
	struct store_txn *t = NULL;
	struct record_view v;
	int r;

	*ret_exists = 0;
	snprintf(out, ENTRY_MAX_SCOPE + 1, "%s", given ? given : h->d->node->scope);
	if ((r = store_txn_begin(h->d->node->st, 1, &t)) < 0)
		return r;
	if ((r = scopemap_load(t, ret_map)) < 0)
		goto out;
	r = record_view_load(t, coll, id, &v);
	if (r == HAMLET_ENOTFOUND) {
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	*ret_exists = !v.deleted && !v.erased;
	{
		char w[ENTRY_MAX_SCOPE + 1];
		if ((r = scopemap_record_scope(t, &v, w)) >= 0 && !given && w[0])
			snprintf(out, ENTRY_MAX_SCOPE + 1, "%s", w);
	}
	record_view_close(&v);
out:
	store_txn_abort(t);
	return r < 0 ? r : 0;
}

static enum MHD_Result write_answer(struct http *h, struct MHD_Connection *conn,
				    struct call *c)
{
	json_t *o;
	char hex[65];
	int r = c->r;

	if (r < 0) {
		switch (r) {
		case HAMLET_ESCHEMA:
		case HAMLET_EIMMUTABLE:
		case HAMLET_ESTATE:
		case HAMLET_EID:
		case HAMLET_ESCOPE:
		case HAMLET_ECOLLECTION:
		case HAMLET_EFORMAT:
			return send_err(h, conn, MHD_HTTP_BAD_REQUEST,
					r == HAMLET_EIMMUTABLE ? "immutable"
					: r == HAMLET_ESTATE   ? "state"
							       : "schema",
					"cannot save %s/%s: %s", c->coll, c->id,
					c->why[0] ? c->why : hamlet_strerror(r));
		case HAMLET_ECERT:
		case HAMLET_EREVOKED:
			return send_err(h, conn, MHD_HTTP_FORBIDDEN, "not_granted",
					"cannot save %s/%s: %s", c->coll, c->id,
					c->why[0] ? c->why : hamlet_strerror(r));
		case HAMLET_EERASED:
			return send_err(h, conn, MHD_HTTP_CONFLICT, "erased",
					"cannot save %s/%s: %s", c->coll, c->id,
					c->why[0] ? c->why : hamlet_strerror(r));
		default:
			return send_fault(h, conn, r, "cannot save the record");
		}
	}
	o = json_object();
	json_object_set_new(o, "collection", json_string(c->coll));
	json_object_set_new(o, "id", json_string(c->id));
	if (c->out.seq == 0) {
		json_object_set_new(o, "unchanged", json_true());
		json_object_set_new(o, "entry", json_null());
	} else {
		sodium_bin2hex(hex, sizeof(hex), c->out.id, 32);
		json_object_set_new(o, "unchanged", json_false());
		json_object_set_new(o, "entry", json_string(hex));
	}
	json_object_set_new(o, "seq", json_integer((json_int_t)c->out.seq));
	return send_json(h, conn, MHD_HTTP_OK, o);
}

/*
 * POST .../resolve: the body {"fields": {...}} or {"delete": true} (or
 * nothing: keep the values shown now), made into the resolution's body in
 * c as `hamlet conflicts resolve` makes it; *kind becomes the entry's
 * kind. MHD_YES with c->done set when an answer was sent here (an error,
 * or nothing to resolve).
 */
static enum MHD_Result resolve_prepare(struct http *h,
				       struct MHD_Connection *conn,
				       const struct schema *s, const char *id,
				       const struct req *rq, struct call *c,
				       int *kind)
{
	json_error_t e;
	json_t *j = NULL, *fields, *del;
	uint8_t *over = NULL;
	size_t over_len = 0;
	struct mp_doc od;
	int have_od = 0, r, isdel;
	struct store_txn *t = NULL;
	char why[600];
	enum MHD_Result ok = MHD_YES;

	c->done = 1; /* an answer is sent here unless cleared below */
	j = rq->len ? json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &e)
		    : json_object();
	if (!j) {
		ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST, "malformed_json",
			      "invalid JSON in the body at line %d, column %d: %s",
			      e.line, e.column, e.text);
		goto out;
	}
	fields = json_object_get(j, "fields");
	del = json_object_get(j, "delete");
	isdel = json_is_true(del);
	if (!json_is_object(j) || (del && !json_is_boolean(del)) ||
	    (fields && isdel) ||
	    json_object_size(j) != (size_t)(!!fields + !!del)) {
		ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST, "schema",
			      "the body is {\"fields\": {...}} (values to keep), {\"delete\": true}, or empty");
		goto out;
	}
	if (fields) {
		if ((r = record_json_body(s, fields, NULL, &over, &over_len, why,
					  sizeof(why))) < 0) {
			ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST, "schema",
				      "%s", why);
			goto out;
		}
		if ((r = mp_doc_parse(&od, over, over_len,
				      SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP)) < 0) {
			ok = send_fault(h, conn, r, "cannot read the fields");
			goto out;
		}
		have_od = 1;
	}
	if ((r = store_txn_begin(h->d->node->st, 1, &t)) >= 0)
		r = record_resolution(t, s, id, isdel, have_od ? od.root : NULL,
				      &c->body, &c->op.body_len, why,
				      sizeof(why));
	store_txn_abort(t);
	if (r == 1)
		ok = send_err(h, conn, MHD_HTTP_CONFLICT, "no_conflict",
			      "%s/%s has no open conflict: nothing to resolve (to change a field, PUT it)",
			      s->name, id);
	else if (r == HAMLET_ENOTFOUND)
		ok = send_err(h, conn, MHD_HTTP_NOT_FOUND, "record_not_found",
			      "record %s/%s not found", s->name, id);
	else if (r == HAMLET_EDUP)
		ok = send_err(h, conn, MHD_HTTP_CONFLICT, "duplicate", "%s", why);
	else if (r == HAMLET_ESCHEMA)
		ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST, "schema",
			      "%s in \"fields\", or resolve with {\"delete\": true}",
			      why);
	else if (r < 0)
		ok = send_fault(h, conn, r, "cannot read the record");
	else {
		c->done = 0;
		*kind = isdel ? ENTRY_DELETE : ENTRY_PUT;
	}
out:
	if (have_od)
		mp_doc_close(&od);
	free(over);
	json_decref(j);
	return ok;
}

/* What `hamlet conflicts resolve --json` prints: the entry, what is still
 * open, and the record. */
static enum MHD_Result resolve_answer(struct http *h,
				      struct MHD_Connection *conn,
				      struct call *c)
{
	struct store_txn *t = NULL;
	struct scopemap *map = NULL;
	struct record_view v;
	json_t *o, *rec = NULL;
	char hex[65];
	int r, open_;

	if (c->r < 0)
		return write_answer(h, conn, c);
	if ((r = store_txn_begin(h->d->node->st, 1, &t)) < 0 ||
	    (r = scopemap_load(t, &map)) < 0 ||
	    (r = record_view_load(t, c->coll, c->id, &v)) < 0) {
		scopemap_free(map);
		store_txn_abort(t);
		return send_fault(h, conn, r, "resolved, but cannot read the record");
	}
	open_ = record_duplicates(t, c->coll, &v, c->id, NULL, NULL);
	if (open_ >= 0)
		open_ += (int)v.conflicts->via.array.size;
	if (record_json(t, map, c->coll, c->id, &v, &rec) < 0)
		rec = json_null();
	record_view_close(&v);
	scopemap_free(map);
	store_txn_abort(t);
	sodium_bin2hex(hex, sizeof(hex), c->out.id, 32);
	o = json_pack("{s:s, s:s, s:s, s:i, s:o}", "collection", c->coll, "id",
		      c->id, "entry", hex, "open", open_ < 0 ? 0 : open_,
		      "record", rec);
	return send_json(h, conn, MHD_HTTP_OK, o);
}

/* PUT (kind ENTRY_PUT, body the fields) or DELETE of coll/id. */
static enum MHD_Result put_or_delete(struct http *h,
				     struct MHD_Connection *conn,
				     const struct token *tok,
				     const struct schema *s, const char *id,
				     int kind, const struct req *rq,
				     int resolve)
{
	const char *given = arg(conn, "scope");
	char scope[ENTRY_MAX_SCOPE + 1], why[512];
	struct scopemap *map = NULL;
	struct call *c;
	json_error_t e;
	json_t *j = NULL;
	enum MHD_Result ok;
	int exists, r;

	if (tok->role != TOKEN_WRITE)
		return send_err(h, conn, MHD_HTTP_FORBIDDEN, "role",
				"token \"%s\" is a read token; writing needs a write token",
				tok->name);
	if (given && entry_scope_check(given) < 0)
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_scope",
				"scope \"%.128s\" is not a valid scope", given);
	if (!(c = calloc(1, sizeof(*c))))
		return MHD_NO;
	c->kind = CALL_WRITE;
	snprintf(c->coll, sizeof(c->coll), "%s", s->name);
	snprintf(c->id, sizeof(c->id), "%s", id);
	if (kind == ENTRY_PUT && !resolve) {
		j = json_loadb(rq->body ? rq->body : "", rq->len,
			       JSON_REJECT_DUPLICATES, &e);
		if (!j) {
			ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST,
				      "malformed_json",
				      "invalid JSON in the body at line %d, column %d: %s",
				      e.line, e.column, e.text);
			goto out;
		}
		if (json_is_object(j) && json_object_size(j) == 0) {
			ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST, "no_field",
				      "no field given: name at least one, like {\"phone\":\"0912345678\"}");
			goto out;
		}
		if ((r = record_json_body(s, j, NULL, &c->body, &c->op.body_len,
					  why, sizeof(why))) < 0) {
			ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST, "schema",
				      "%s", why);
			goto out;
		}
	}
	if ((r = write_scope(h, s->name, id, given, scope, &map, &exists)) < 0) {
		ok = send_fault(h, conn, r, "cannot read the store");
		goto out;
	}
	if (tok->scope[0] && !scopemap_under(map, scope, tok->scope)) {
		ok = send_err(h, conn, MHD_HTTP_FORBIDDEN, "scope",
			      "token \"%s\" covers scope %s; %s/%s would be written in scope %s",
			      tok->name, tok->scope, s->name, id, scope);
		goto out;
	}
	if (kind == ENTRY_DELETE && !exists && !resolve) {
		ok = send_err(h, conn, MHD_HTTP_NOT_FOUND, "record_not_found",
			      "record %s/%s not found (or already deleted)",
			      s->name, id);
		goto out;
	}
	if (resolve &&
	    ((ok = resolve_prepare(h, conn, s, id, rq, c, &kind)) != MHD_YES ||
	     c->done))
		goto out;
	if (given)
		snprintf(c->scope, sizeof(c->scope), "%s", given);
	c->op.kind = kind;
	c->op.collection = c->coll;
	c->op.record_id = c->id;
	c->op.scope = given ? c->scope : NULL;
	c->op.body = c->body;
	c->op.resolve = resolve;
	if ((r = call_run(h, c)) < 0) {
		ok = send_fault(h, conn, r, "cannot save the record");
		if (r == -ECANCELED)
			c = NULL; /* the loop frees it */
		goto out;
	}
	ok = resolve ? resolve_answer(h, conn, c) : write_answer(h, conn, c);
out:
	json_decref(j);
	scopemap_free(map);
	call_free(c);
	return ok;
}

/* GET /v1/records/COLL?scope=&limit=&after= */
static enum MHD_Result list_records(struct http *h, struct MHD_Connection *conn,
				    const struct token *tok,
				    const struct schema *s)
{
	const char *qscope = arg(conn, "scope"), *after = arg(conn, "after");
	uint8_t key[RECORD_KEY_MAX + 2];
	size_t kl, plen, scanned = 0;
	struct store_txn *t = NULL;
	struct store_cursor *cur = NULL;
	struct scopemap *map = NULL;
	const void *k, *val;
	size_t klen, vl;
	uint64_t limit;
	json_t *arr = json_array(), *o;
	char last[ENTRY_MAX_RECORD_ID + 1] = "", why[4400], query[300];
	int more = 0, r;
	enum MHD_Result ok;

	if (arg_u64(conn, "limit", HTTP_DEFAULT_LIMIT, HTTP_MAX_LIMIT, &limit) < 0 ||
	    limit == 0) {
		json_decref(arr);
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_limit",
				"limit must be a number 1..%d", HTTP_MAX_LIMIT);
	}
	if (qscope && entry_scope_check(qscope) < 0) {
		json_decref(arr);
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_scope",
				"scope \"%.128s\" is not a valid scope", qscope);
	}
	if (after && entry_record_id_check(after) < 0) {
		json_decref(arr);
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_after",
				"after \"%.64s\" is not a record id", after);
	}
	kl = record_key(s->name, after ? after : "", key);
	plen = strlen(s->name) + 1;
	if ((r = store_txn_begin(h->d->node->st, 1, &t)) < 0 ||
	    (r = scopemap_load(t, &map)) < 0 ||
	    (r = store_cursor_open(t, ST_RECORDS, &cur)) < 0)
		goto fault;
	for (r = store_cursor_seek(cur, key, after ? kl : plen, &k, &klen, &val,
				   &vl);
	     r > 0; r = store_cursor_next(cur, &k, &klen, &val, &vl)) {
		char id[ENTRY_MAX_RECORD_ID + 1], w[ENTRY_MAX_SCOPE + 1];
		struct record_view v;
		size_t il;
		if (klen < plen || memcmp(k, key, plen) != 0)
			break;
		il = klen - plen;
		if (il == 0 || il > ENTRY_MAX_RECORD_ID)
			continue;
		memcpy(id, (const char *)k + plen, il);
		id[il] = 0;
		if (after && strcmp(id, after) == 0)
			continue;
		if (json_array_size(arr) >= limit ||
		    ++scanned > 10 * HTTP_MAX_LIMIT) {
			more = 1;
			break;
		}
		snprintf(last, sizeof(last), "%s", id);
		if ((r = record_view_load(t, s->name, id, &v)) < 0) {
			if (r == HAMLET_ENOTFOUND)
				continue;
			goto fault;
		}
		r = may_see(t, map, tok, &v, w);
		if (r > 0 && qscope && !(w[0] && scopemap_under(map, w, qscope)))
			r = 0;
		if (r > 0 && (r = record_json(t, map, s->name, id, &v, &o)) >= 0)
			json_array_append_new(arr, o);
		record_view_close(&v);
		if (r < 0)
			goto fault;
	}
	if (r < 0)
		goto fault;
	snprintf(query, sizeof(query), "scope=%s after=%s limit=%llu",
		 qscope ? qscope : "", after ? after : "",
		 (unsigned long long)limit);
	if ((r = log_read(h, tok, "http list", s->name, NULL, query,
			  json_array_size(arr), why, sizeof(why))) < 0) {
		ok = send_err(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			      "access_log",
			      "%s; a read of health data that cannot be logged is not done",
			      why);
		json_decref(arr);
		goto out;
	}
	o = json_object();
	json_object_set_new(o, "records", arr);
	json_object_set_new(o, "next", more && last[0] ? json_string(last)
						       : json_null());
	ok = send_json(h, conn, MHD_HTTP_OK, o);
	goto out;
fault:
	json_decref(arr);
	ok = send_fault(h, conn, r, "cannot read the records");
out:
	store_cursor_close(cur);
	scopemap_free(map);
	store_txn_abort(t);
	return ok;
}

struct conflicts_ctx {
	struct http *h;
	struct store_txn *t;
	const struct scopemap *map;
	const struct token *tok;
	json_t *arr;
	uint64_t health;
};

static int conflict_one(void *ctx, const char *coll, const char *id)
{
	struct conflicts_ctx *c = ctx;
	struct record_view v;
	char w[ENTRY_MAX_SCOPE + 1];
	json_t *o;
	int r;

	if (json_array_size(c->arr) >= HTTP_MAX_LIMIT)
		return 1;
	if ((r = record_view_load(c->t, coll, id, &v)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	r = may_see(c->t, c->map, c->tok, &v, w);
	if (r > 0 && (r = record_json(c->t, c->map, coll, id, &v, &o)) >= 0) {
		json_array_append_new(c->arr, o);
		c->health += access_logged(coll);
	}
	record_view_close(&v);
	return r < 0 ? r : 0;
}

static enum MHD_Result get_conflicts(struct http *h,
				     struct MHD_Connection *conn,
				     const struct token *tok)
{
	struct conflicts_ctx cc = { h, NULL, NULL, tok, json_array(), 0 };
	struct scopemap *map = NULL;
	char why[4400];
	enum MHD_Result ok;
	int r;

	if ((r = store_txn_begin(h->d->node->st, 1, &cc.t)) >= 0 &&
	    (r = scopemap_load(cc.t, &map)) >= 0) {
		cc.map = map;
		r = record_conflicted_each(cc.t, conflict_one, &cc);
	}
	if (r < 0) {
		ok = send_fault(h, conn, r, "cannot read the conflicts");
		json_decref(cc.arr);
	} else if (cc.health &&
		   (r = log_read(h, tok, "http conflicts", "health_profile",
				 NULL, "conflicts", cc.health, why,
				 sizeof(why))) < 0) {
		ok = send_err(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			      "access_log",
			      "%s; a read of health data that cannot be logged is not done",
			      why);
		json_decref(cc.arr);
	} else {
		ok = send_json(h, conn, MHD_HTTP_OK,
			       json_pack("{s:o}", "conflicts", cc.arr));
	}
	scopemap_free(map);
	store_txn_abort(cc.t);
	return ok;
}

/* --- the changes feed ------------------------------------------------------ */

struct feed {
	struct http *h;
	struct token tok;
	uint64_t since;	   /* the last seq looked at */
	uint64_t limit;	   /* 0: none */
	uint64_t sent;
	uint64_t deadline; /* monotonic ms; 0: none */
	uint64_t heartbeat_ms;
	int ended;
	char *out; /* what is left to send: out[off..len) */
	size_t len, off;
};

struct collect {
	struct store_txn *t;
	const struct scopemap *map;
	const struct token *tok;
	json_t *arr;
	uint64_t last;
	uint64_t health;
	uint64_t limit; /* changes to return */
};

static int change_one(void *ctx, const struct change *ch)
{
	struct collect *c = ctx;
	struct record_view v;
	char w[ENTRY_MAX_SCOPE + 1], hex[65];
	json_t *o, *rec;
	int r;

	if (json_array_size(c->arr) >= c->limit)
		return 1; /* enough: c->last is the last one returned */
	c->last = ch->seq;
	rec = json_null();
	r = record_view_load(c->t, ch->collection, ch->id, &v);
	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	int see = may_see(c->t, c->map, c->tok, &v, w);
	r = see;
	if (see > 0) {
		json_decref(rec);
		rec = NULL;
		r = record_json(c->t, c->map, ch->collection, ch->id, &v, &rec);
	}
	record_view_close(&v);
	if (see <= 0 || r < 0)
		return r < 0 ? r : 0; /* not the token's to see: skipped */
	sodium_bin2hex(hex, sizeof(hex), ch->entry, 32);
	o = json_pack("{s:I, s:s, s:s, s:s, s:o}", "seq", (json_int_t)ch->seq,
		      "collection", ch->collection, "id", ch->id, "entry", hex,
		      "record", rec);
	if (!o)
		return -ENOMEM;
	json_array_append_new(c->arr, o);
	c->health += access_logged(ch->collection);
	return 0;
}

/* The changes after *since (at most limit, 0: HTTP_MAX_LIMIT) the token
 * may see; *since moves to the last seq looked at. */
static int changes_collect(struct http *h, const struct token *tok,
			   uint64_t *since, uint64_t limit, json_t **ret,
			   uint64_t *ret_health)
{
	struct collect c = { NULL, NULL, tok, json_array(), 0, 0, 0 };
	struct scopemap *map = NULL;
	int r;

	if (!limit || limit > HTTP_MAX_LIMIT)
		limit = HTTP_MAX_LIMIT;
	c.limit = limit;
	if ((r = store_txn_begin(h->d->node->st, 1, &c.t)) >= 0 &&
	    (r = scopemap_load(c.t, &map)) >= 0) {
		c.map = map;
		/* the table is bounded by the records; a scoped token may
		 * skip many, so look at a bounded number per call */
		r = changes_each(c.t, *since, 10 * limit, change_one, &c);
	}
	scopemap_free(map);
	store_txn_abort(c.t);
	if (r < 0) {
		json_decref(c.arr);
		return r;
	}
	if (c.last > *since)
		*since = c.last;
	*ret = c.arr;
	*ret_health = c.health;
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t commits_now(struct http *h)
{
	uint64_t g;
	pthread_mutex_lock(&h->mu);
	g = h->commits;
	pthread_mutex_unlock(&h->mu);
	return g;
}

/* Wait until a commit after gen, until deadline (monotonic ms), or until
 * the daemon stops: 1 when a commit came. */
static int wait_commit(struct http *h, uint64_t gen, uint64_t deadline)
{
	struct timespec ts;
	int got;

	pthread_mutex_lock(&h->mu);
	while (h->commits == gen && !h->stopping) {
		uint64_t now = mono_ms();
		if (now >= deadline)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t ns = (uint64_t)ts.tv_nsec + (deadline - now) * 1000000ull;
		ts.tv_sec += (time_t)(ns / 1000000000ull);
		ts.tv_nsec = (long)(ns % 1000000000ull);
		pthread_cond_timedwait(&h->cv, &h->mu, &ts);
	}
	got = h->commits != gen;
	pthread_mutex_unlock(&h->mu);
	return got;
}

static int feed_log(struct http *h, const struct token *tok, uint64_t health)
{
	char why[4400];
	int r = log_read(h, tok, "http changes", "health_profile", NULL,
			 "changes", health, why, sizeof(why));
	if (r < 0)
		dlog(DLOG_ERR, "http: %s", why);
	return r;
}

/* The next lines of a continuous feed into f->out: changes, the closing
 * last_seq, or a heartbeat (after waiting for a commit). <0 on a fault. */
static int feed_next(struct feed *f, FILE *m)
{
	struct http *h = f->h;
	uint64_t gen = commits_now(h), health = 0, now, until;
	json_t *arr = NULL, *o;
	size_t i;
	int r, stop;

	r = changes_collect(h, &f->tok, &f->since,
			    f->limit ? f->limit - f->sent : 0, &arr, &health);
	if (r < 0 || (health && feed_log(h, &f->tok, health) < 0)) {
		json_decref(arr);
		return r < 0 ? r : -EIO;
	}
	json_array_foreach(arr, i, o)
	{
		json_dumpf(o, m, JSON_COMPACT);
		fputc('\n', m);
		f->sent++;
	}
	json_decref(arr);
	if (i > 0)
		return 0;
	now = mono_ms();
	pthread_mutex_lock(&h->mu);
	stop = h->stopping;
	pthread_mutex_unlock(&h->mu);
	if (stop || (f->limit && f->sent >= f->limit) ||
	    (f->deadline && now >= f->deadline)) {
		fprintf(m, "{\"last_seq\":%llu}\n", (unsigned long long)f->since);
		f->ended = 1;
		return 0;
	}
	until = now + f->heartbeat_ms;
	if (f->deadline && f->deadline < until)
		until = f->deadline;
	if (!wait_commit(h, gen, until))
		fputc('\n', m);
	return 0;
}

/* continuous: one JSON object per line, a newline as heartbeat. */
static ssize_t feed_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct feed *f = cls;
	(void)pos;

	/* bounded: each round either has bytes to send, ends, or waits for
	 * a commit or a heartbeat */
	for (;;) {
		FILE *m;
		int r;
		if (f->off < f->len) {
			size_t n = f->len - f->off;
			if (n > max)
				n = max;
			memcpy(buf, f->out + f->off, n);
			f->off += n;
			return (ssize_t)n;
		}
		if (f->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		free(f->out);
		f->out = NULL;
		f->len = f->off = 0;
		if (!(m = open_memstream(&f->out, &f->len)))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		r = feed_next(f, m);
		if (fclose(m) != 0 || r < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static void feed_free(void *cls)
{
	struct feed *f = cls;
	free(f->out);
	free(f);
}

static enum MHD_Result get_changes(struct http *h, struct MHD_Connection *conn,
				   const struct token *tok)
{
	const char *feed = arg(conn, "feed"), *sincea = arg(conn, "since");
	uint64_t since = 0, limit, timeout, hb, health = 0;
	int mode;
	json_t *arr = NULL;
	int r;

	if (!feed || strcmp(feed, "normal") == 0)
		mode = 0;
	else if (strcmp(feed, "longpoll") == 0)
		mode = 1;
	else if (strcmp(feed, "continuous") == 0)
		mode = 2;
	else
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_feed",
				"feed must be normal, longpoll or continuous, not \"%.32s\"",
				feed);
	if (sincea && strcmp(sincea, "now") == 0) {
		struct store_txn *t;
		if ((r = store_txn_begin(h->d->node->st, 1, &t)) < 0 ||
		    (r = changes_last(t, &since)) < 0) {
			if (r != 0)
				return send_fault(h, conn, r, "cannot read the store");
		}
		store_txn_abort(t);
	} else if (arg_u64(conn, "since", 0, UINT64_MAX, &since) < 0) {
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_since",
				"since must be a seq (a number) or now");
	}
	if (arg_u64(conn, "limit", 0, UINT64_MAX, &limit) < 0)
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_limit",
				"limit must be a number");
	if (arg_u64(conn, "timeout", 60000, HTTP_MAX_WAIT_MS, &timeout) < 0)
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_timeout",
				"timeout must be milliseconds, at most %d",
				HTTP_MAX_WAIT_MS);
	if (arg_u64(conn, "heartbeat", HTTP_HEARTBEAT_MS, HTTP_MAX_WAIT_MS, &hb) < 0 ||
	    hb < 100)
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_heartbeat",
				"heartbeat must be milliseconds, 100..%d",
				HTTP_MAX_WAIT_MS);
	if (mode == 2) {
		struct feed *f = calloc(1, sizeof(*f));
		struct MHD_Response *resp;
		enum MHD_Result ok;
		if (!f)
			return MHD_NO;
		f->h = h;
		f->tok = *tok;
		f->since = since;
		f->limit = limit;
		/* without timeout the stream runs until the client leaves */
		f->deadline = arg(conn, "timeout") ? mono_ms() + timeout : 0;
		f->heartbeat_ms = hb;
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
							 feed_read, f, feed_free);
		if (!resp) {
			feed_free(f);
			return MHD_NO;
		}
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"application/x-ndjson");
		count_code(h, MHD_HTTP_OK);
		ok = MHD_queue_response(conn, MHD_HTTP_OK, resp);
		MHD_destroy_response(resp);
		return ok;
	}
	{
		uint64_t deadline = mono_ms() + timeout;
		for (;;) {
			uint64_t gen = commits_now(h);
			if ((r = changes_collect(h, tok, &since, limit, &arr,
						 &health)) < 0)
				return send_fault(h, conn, r,
						  "cannot read the changes");
			if (mode == 0 || json_array_size(arr) > 0 ||
			    !wait_commit(h, gen, deadline))
				break;
			json_decref(arr);
			arr = NULL;
		}
	}
	if (health && feed_log(h, tok, health) < 0) {
		json_decref(arr);
		return send_err(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				"access_log",
				"the access log cannot be written; a read of health data that cannot be logged is not done");
	}
	return send_json(h, conn, MHD_HTTP_OK,
			 json_pack("{s:o, s:I}", "results", arr, "last_seq",
				   (json_int_t)since));
}

/* --- status, metrics ------------------------------------------------------- */

static enum MHD_Result loop_text(struct http *h, struct MHD_Connection *conn,
				 int kind)
{
	struct call *c = calloc(1, sizeof(*c));
	enum MHD_Result ok;
	int r;

	if (!c)
		return MHD_NO;
	c->kind = kind;
	if ((r = call_run(h, c)) < 0) {
		if (r == -ECANCELED)
			c = NULL;
		ok = send_fault(h, conn, r, "cannot read the status");
	} else if (c->r < 0 || !c->text) {
		ok = send_fault(h, conn, c->r < 0 ? c->r : -ENOMEM,
				"cannot read the status");
	} else {
		char *t = c->text;
		c->text = NULL;
		ok = send_text(h, conn, MHD_HTTP_OK, t,
			       kind == CALL_METRICS
				       ? "text/plain; version=0.0.4; charset=utf-8"
				       : "application/json",
			       NULL);
	}
	call_free(c);
	return ok;
}

static int loopback(struct MHD_Connection *conn)
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

/* 405, naming the methods allowed on what. */
static enum MHD_Result method_err(struct http *h, struct MHD_Connection *conn,
				  const char *method, const char *allow,
				  const char *what)
{
	return send_err_allow(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, allow,
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
	char buf[1024], *seg[6];
	size_t n;
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (strcmp(url, "/metrics") == 0) {
		if (!get)
			return method_err(h, conn, method, "GET", "/metrics");
		if (!loopback(conn) && !token_check(h, conn, &tok))
			return send_err(h, conn, MHD_HTTP_UNAUTHORIZED,
					"bad_token",
					"/metrics answers loopback clients, or a request with a valid token");
		return loop_text(h, conn, CALL_METRICS);
	}
	if (strncmp(url, "/v1/", 4) != 0 || strlen(url) >= sizeof(buf))
		return send_err(h, conn, MHD_HTTP_NOT_FOUND, "no_route",
				"no such path: %.200s (the API is under /v1/, docs/api.md)",
				url);
	if (!token_check(h, conn, &tok))
		return send_err(h, conn, MHD_HTTP_UNAUTHORIZED, "bad_token",
				"a valid token is needed: send \"Authorization: Bearer TOKEN\" (hamlet token create makes one)");
	if (rq->too_big)
		return send_err(h, conn, 413, "too_large",
				"the body is over %zu bytes", HTTP_MAX_BODY);
	n = split(url + 4, buf, sizeof(buf), seg, 5);
	if (n == 1 && strcmp(seg[0], "status") == 0) {
		if (!get)
			return method_err(h, conn, method, "GET", "/v1/status");
		return loop_text(h, conn, CALL_STATUS);
	}
	if (n == 1 && strcmp(seg[0], "changes") == 0) {
		if (!get)
			return method_err(h, conn, method, "GET", "/v1/changes");
		return get_changes(h, conn, &tok);
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
			return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_id",
					"\"%.64s\" is not a valid record id",
					seg[2]);
		return put_or_delete(h, conn, &tok, s, seg[2], ENTRY_PUT, rq, 1);
	}
	if (n == 1 && strcmp(seg[0], "conflicts") == 0) {
		if (!get)
			return method_err(h, conn, method, "GET", "/v1/conflicts");
		return get_conflicts(h, conn, &tok);
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
			return list_records(h, conn, &tok, s);
		}
		if (entry_record_id_check(seg[2]) < 0)
			return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_id",
					"\"%.64s\" is not a valid record id",
					seg[2]);
		if (get)
			return get_record(h, conn, &tok, s, seg[2]);
		if (strcmp(method, "PUT") == 0)
			return put_or_delete(h, conn, &tok, s, seg[2],
					     ENTRY_PUT, rq, 0);
		if (strcmp(method, "DELETE") == 0)
			return put_or_delete(h, conn, &tok, s, seg[2],
					     ENTRY_DELETE, rq, 0);
		return method_err(h, conn, method, "GET, PUT, DELETE", "a record");
	}
	return send_err(h, conn, MHD_HTTP_NOT_FOUND, "no_route",
			"no such path: %.200s (docs/api.md lists them)", url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct req *rq = *con_cls;
	(void)version;

	if (!rq) {
		const char *cl;
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq;
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
	return route(h, conn, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
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
		dlog(DLOG_ERR, "http: \"%s\" is not HOST:PORT", d->cfg.http);
		return -EINVAL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
		dlog(DLOG_ERR, "http: %s: %s (give a numeric address, like 127.0.0.1:8080)",
		     d->cfg.http, gai_strerror(r));
		return -EINVAL;
	}
	if (!(h = calloc(1, sizeof(*h)))) {
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
	h->mhd = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
			(ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
		ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)d->cfg.http_max_conns, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)HTTP_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, h, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!h->mhd) {
		dlog(DLOG_ERR, "http: cannot listen on %s", d->cfg.http);
		http_stop(h);
		*ret = h;
		return -EADDRINUSE;
	}
	dlog(DLOG_NOTICE, "http: API on %s", d->cfg.http);
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
	pthread_mutex_unlock(&h->mu);
	if (h->mhd) {
		MHD_stop_daemon(h->mhd); /* joins the connections' threads */
		h->mhd = NULL;
	}
	/* what no thread waits for any more and the loop never took */
	for (c = calls_take(h); c; c = next) {
		next = c->next;
		call_free(c);
	}
	if (h->async_open) {
		uv_close((uv_handle_t *)&h->async, NULL);
		h->async_open = 0;
	}
}

void http_free(struct http *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->tmu);
	pthread_cond_destroy(&h->cv);
	free(h);
}
