#include "http_internal.h"

#include "access.h"
#include "changes.h"
#include "dlog.h"
#include "error.h"
#include "hlc.h"
#include "mp.h"
#include "record_json.h"
#include "schema.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* --- the changes feed ------------------------------------------------------ */

struct feed {
	struct http *h;
	struct token tok;
	uint64_t since;	   /* the last seq looked at */
	uint64_t epoch;	   /* of the seqs (changes_epoch) */
	uint64_t limit;	   /* 0: none */
	uint64_t sent;
	uint64_t deadline; /* monotonic ms; 0: none */
	uint64_t heartbeat_ms;
	/* monotonic ms when the stream last got a line: the heartbeat is
	 * due heartbeat_ms after it, however often commits of changes the
	 * token does not read wake the feed meanwhile */
	uint64_t said;
	int fd; /* the client's socket: has it left? */
	int ended;
	char *out; /* what is left to send: out[off..len) */
	size_t len, off;
};

struct collect {
	struct http *h;
	struct store_txn *t;
	const struct scopemap *map;
	const struct token *tok;
	json_t *arr;
	uint64_t last;
	struct health_count health;
	uint64_t limit; /* changes to return */
	uint64_t looked; /* changes looked at */
	size_t bytes; /* the JSON of the records in arr */
};

/* Add o to the answer (taking it). */
static int change_add(struct collect *c, json_t *o)
{
	if (!o)
		return -ENOMEM;
	c->bytes += json_dumpb(o, NULL, 0, JSON_COMPACT);
	json_array_append_new(c->arr, o);
	return 0;
}

/*
 * A record the node no longer holds (changes.h): said as CouchDB says a
 * document gone from a feed, "deleted" (what CouchDB and PouchDB
 * followers drop their copy on) and "removed" (the node gave it up; no
 * one deleted it), with no record to show. It goes to a token that
 * could read it where it was written, although the node may read that
 * scope no more: its reader is the one holding a copy. Nothing of the
 * record is read, so no read is logged.
 */
static int change_gone(struct collect *c, const struct change *ch)
{
	if (c->tok->scope[0] &&
	    !(ch->scope[0] && scopemap_reads(c->map, ch->scope, c->tok->scope)))
		return 0;
	return change_add(c, json_pack("{s:I, s:s, s:s, s:n, s:n, s:b, s:b}",
				       "seq", (json_int_t)ch->seq, "collection",
				       ch->collection, "id", ch->id, "entry",
				       "record", "deleted", 1, "removed", 1));
}

static int change_one(void *ctx, const struct change *ch)
{
	struct collect *c = ctx;
	struct record_view v;
	char w[ENTRY_MAX_SCOPE + 1], hex[65];
	json_t *rec;
	int r;

	/* enough (HTTP_MAX_PAGE_BYTES: the reader goes on from last_seq):
	 * c->last is the last one returned */
	if (json_array_size(c->arr) >= c->limit ||
	    c->bytes >= HTTP_MAX_PAGE_BYTES)
		return 1;
	c->last = ch->seq;
	c->looked++;
	if (ch->gone)
		return change_gone(c, ch);
	rec = json_null();
	r = record_view_load(c->t, ch->collection, ch->id, &v);
	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	int see = http__may_see(c->h, c->t, c->map, c->tok, &v, w);
	r = see;
	if (see > 0) {
		json_decref(rec);
		rec = NULL;
		r = http__record_json(c->h, c->t, c->map, c->tok, ch->collection,
				      ch->id, &v, &rec);
	}
	record_view_close(&v);
	if (see <= 0 || r < 0)
		return r < 0 ? r : 0; /* not the token's to see: skipped */
	sodium_bin2hex(hex, sizeof(hex), ch->entry, 32);
	if ((r = change_add(c, json_pack("{s:I, s:s, s:s, s:s, s:o}", "seq",
					 (json_int_t)ch->seq, "collection",
					 ch->collection, "id", ch->id, "entry",
					 hex, "record", rec))) < 0)
		return r;
	http__health_note(&c->health, ch->collection);
	return 0;
}

/* The changes after *since (at most limit, 0: HTTP_MAX_LIMIT) the token
 * may see; *since moves to the last seq looked at. *ret_more: 1 when the
 * bounded look stopped with changes left after *since (a scoped token
 * skipping others'), so that a wait for a commit would be wrong. */
static int changes_collect(struct http *h, const struct token *tok,
			   uint64_t *since, uint64_t limit, json_t **ret,
			   struct health_count *ret_health, int *ret_more)
{
	struct collect c = { h, NULL, NULL, tok, json_array(), 0, { { 0 } }, 0, 0, 0 };
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
	*ret_more = c.looked >= 10 * limit;
	*ret = c.arr;
	*ret_health = c.health;
	return 0;
}

/* The count of commits so far; *ret_stopping (when not NULL) 1 once
 * hamletd stops, when a long poll answers at once. */
static uint64_t commits_now(struct http *h, int *ret_stopping)
{
	uint64_t g;
	pthread_mutex_lock(&h->mu);
	g = h->commits;
	if (ret_stopping)
		*ret_stopping = h->stopping;
	pthread_mutex_unlock(&h->mu);
	return g;
}

/* 1 when the client on fd closed its end: nothing more to wait for. */
static int client_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };
	if (fd < 0)
		return 0;
	return poll(&p, 1, 0) > 0 &&
	       (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

/* The client's socket, or -1. */
static int conn_fd(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci ? ci->connect_fd : -1;
}

/* Wait until a commit after gen, until deadline (monotonic ms), until the
 * daemon stops, or until the client on fd leaves (looked at every
 * second, so that a reader gone frees its slot): 1 when a commit came,
 * -1 when the client left, 0 otherwise. */
static int wait_commit(struct http *h, uint64_t gen, uint64_t deadline,
		       int fd)
{
	struct timespec ts;
	int got, gone = 0;

	uint64_t look = http__mono_ms() + 1000; /* the next look at fd */
	pthread_mutex_lock(&h->mu);
	while (h->commits == gen && !h->stopping) {
		uint64_t now = http__mono_ms(), wait;
		if (now >= deadline)
			break;
		/* every second, however often the others are woken */
		if (now >= look) {
			if ((gone = client_gone(fd)))
				break;
			look = now + 1000;
		}
		wait = (deadline < look ? deadline : look) - now;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t ns = (uint64_t)ts.tv_nsec + wait * 1000000ull;
		ts.tv_sec += (time_t)(ns / 1000000000ull);
		ts.tv_nsec = (long)(ns % 1000000000ull);
		pthread_cond_timedwait(&h->cv, &h->mu, &ts);
	}
	got = h->commits != gen;
	pthread_mutex_unlock(&h->mu);
	return got ? 1 : gone ? -1 : 0;
}

static int feed_log(struct http *h, const struct token *tok,
		    const struct health_count *health)
{
	char why[4400];
	int r = http__log_reads(h, tok, "http changes", "changes", health, why,
			  sizeof(why));
	if (r < 0)
		dlog(DLOG_ERR, _("http: %s"), why);
	return r;
}

/* The next lines of a continuous feed into f->out: changes, the closing
 * last_seq, or a heartbeat (after waiting for a commit). <0 on a fault. */
static int feed_next(struct feed *f, FILE *m)
{
	struct http *h = f->h;
	uint64_t gen = commits_now(h, NULL), now, until, from;
	struct health_count health = { { 0 } };
	json_t *arr = NULL, *o;
	size_t i;
	int r, stop, more, held;

	/* limit changes sent: the stream ends */
	if (f->limit && f->sent >= f->limit) {
		fprintf(m, "{\"last_seq\":%llu,\"epoch\":\"%016llx\"}\n",
			(unsigned long long)f->since,
			(unsigned long long)f->epoch);
		f->ended = 1;
		return 0;
	}
	/* timeout passed: the stream ends, however many changes are left
	 * (a reader behind goes on from last_seq) */
	if (f->deadline && http__mono_ms() >= f->deadline) {
		fprintf(m, "{\"last_seq\":%llu,\"epoch\":\"%016llx\"}\n",
			(unsigned long long)f->since,
			(unsigned long long)f->epoch);
		f->ended = 1;
		return 0;
	}
	/* a token revoked or expired meanwhile reads nothing more */
	if ((held = http__token_held(h, &f->tok)) <= 0) {
		char msg[200], *text;
		json_t *line;
		if (held == -2)
			snprintf(msg, sizeof(msg), "the node's tokens file does not read: no token can be checked");
		else
			snprintf(msg, sizeof(msg), "token \"%s\" %s", f->tok.name,
				 held == -1 ? "has expired" : "was revoked");
		line = json_pack("{s:{s:s, s:s}, s:I}", "error", "code",
			      held == -2   ? "tokens_unreadable"
			      : held == -1 ? "token_expired"
					   : "bad_token",
			      "message", msg, "last_seq",
			      (json_int_t)f->since);
		if (line && (text = json_dumps(line, JSON_COMPACT))) {
			fprintf(m, "%s\n", text);
			free(text);
		}
		json_decref(line);
		f->ended = 1;
		return 0;
	}
	from = f->since;
	r = changes_collect(h, &f->tok, &f->since,
			    f->limit ? f->limit - f->sent : 0, &arr, &health,
			    &more);
	if (r < 0) {
		json_decref(arr);
		return r;
	}
	if (feed_log(h, &f->tok, &health) < 0) {
		/* nothing of it is sent: the reader learns why, and goes
		 * on from the last seq it was sent once the log is fixed */
		json_decref(arr);
		f->since = from;
		fprintf(m, "{\"error\":{\"code\":\"access_log\",\"message\":\"the access log cannot be written; a read of health data that cannot be logged is not done\"},\"last_seq\":%llu}\n",
			(unsigned long long)f->since);
		f->ended = 1;
		return 0;
	}
	json_array_foreach(arr, i, o)
	{
		json_dumpf(o, m, JSON_COMPACT);
		fputc('\n', m);
		f->sent++;
	}
	json_decref(arr);
	now = http__mono_ms();
	if (i > 0)
		f->said = now;
	if (i > 0 || more)
		return 0; /* more to send, or to look at */
	commits_now(h, &stop);
	if (stop || (f->limit && f->sent >= f->limit) ||
	    (f->deadline && now >= f->deadline)) {
		fprintf(m, "{\"last_seq\":%llu,\"epoch\":\"%016llx\"}\n",
			(unsigned long long)f->since,
			(unsigned long long)f->epoch);
		f->ended = 1;
		return 0;
	}
	until = f->said + f->heartbeat_ms;
	if (now < until) {
		if (f->deadline && f->deadline < until)
			until = f->deadline;
		r = wait_commit(h, gen, until, f->fd);
		if (r < 0)
			return -EPIPE; /* the reader left: the stream ends */
		now = http__mono_ms();
	}
	/* a heartbeat when due, whether a commit woke the feed or not */
	if (now >= f->said + f->heartbeat_ms) {
		fputc('\n', m);
		f->said = now;
	}
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

/* Long polls and continuous feeds hold their connection for minutes:
 * they take at most half the connections, so that the other half always
 * answers (none with max_connections = 1: its one connection answers
 * everyone). */
static size_t feed_slots(const struct http *h)
{
	return h->d->cfg.http_max_conns / 2;
}

static int feed_slot_take(struct http *h)
{
	int ok;
	pthread_mutex_lock(&h->mu);
	ok = h->feeds < feed_slots(h);
	if (ok)
		h->feeds++;
	pthread_mutex_unlock(&h->mu);
	return ok;
}

static void feed_slot_give(struct http *h)
{
	pthread_mutex_lock(&h->mu);
	if (h->feeds)
		h->feeds--;
	pthread_mutex_unlock(&h->mu);
}

static void feed_free(void *cls)
{
	struct feed *f = cls;
	feed_slot_give(f->h);
	free(f->out);
	free(f);
}

enum MHD_Result http__get_changes(struct http *h, struct MHD_Connection *conn,
				   const struct token *tok)
{
	const char *feed = http__arg(conn, "feed"), *sincea = http__arg(conn, "since");
	uint64_t since = 0, limit, timeout, hb, epoch = 0, last = 0;
	const char *ea = http__arg(conn, "epoch");
	struct health_count health = { { 0 } };
	int mode, over = 0;
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
	/* the store's numbering of its changes, and its last, read once */
	{
		struct store_txn *t;
		if ((r = store_txn_begin(h->d->node->st, 1, &t)) < 0)
			return http__send_fault(h, conn, r, "cannot read the store");
		if ((r = changes_epoch(t, &epoch)) >= 0)
			r = changes_last(t, &last);
		store_txn_abort(t);
		if (r < 0)
			return http__send_fault(h, conn, r, "cannot read the store");
	}
	/* the numbering the reader's since is of: another (the store made
	 * again since) hides changes under seqs it reads as seen */
	if (ea) {
		char now_hex[17];
		snprintf(now_hex, sizeof(now_hex), "%016llx",
			 (unsigned long long)epoch);
		if (strlen(ea) != 16 ||
		    strspn(ea, "0123456789abcdefABCDEF") != 16)
			return send_err(h, conn, MHD_HTTP_BAD_REQUEST,
					"bad_epoch",
					"epoch must be the 16 hex digits a changes answer gave (\"epoch\"), not \"%.32s\"",
					ea);
		/* hex digits in either case, as the heads of a resolve */
		if (strcasecmp(ea, now_hex) != 0)
			return send_err(h, conn, MHD_HTTP_BAD_REQUEST,
					"epoch_changed",
					"this node's store was made again since epoch %s (now %s): its seqs are numbered anew, so start over from since=0 with the new epoch",
					ea, now_hex);
	}
	if (sincea && strcmp(sincea, "now") == 0) {
		since = last;
	} else if ((over = http__arg_u64(conn, "since", 0, UINT64_MAX,
					&since) < 0) &&
		   !(sincea[0] &&
		     strspn(sincea, "0123456789") == strlen(sincea))) {
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_since",
				"since \"%.32s%s\" is neither a seq (a number) nor now",
				sincea, strlen(sincea) > 32 ? "…" : "");
	} else if ((since > 0 || over) && (since > last || over)) {
		/* over: digits past 2^64 - 1, past every change too; a seq
		 * this node never gave (another node's, or from before its
		 * store was made again) would hide every change up to it */
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_since",
				"since %.32s%s is past this node's last change, %llu: start again from 0",
				sincea, strlen(sincea) > 32 ? "…" : "",
				(unsigned long long)last);
	}
	if (http__arg_u64(conn, "limit", 0, UINT64_MAX, &limit) < 0 ||
	    (http__arg(conn, "limit") && limit == 0))
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_limit",
				"limit must be a whole number from 1 to %llu (a number that large takes every change)",
				(unsigned long long)UINT64_MAX);
	if (http__arg_u64(conn, "timeout", 60000, HTTP_MAX_WAIT_MS, &timeout) < 0)
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_timeout",
				"timeout must be milliseconds, at most %d",
				HTTP_MAX_WAIT_MS);
	if (http__arg_u64(conn, "heartbeat", HTTP_HEARTBEAT_MS, HTTP_MAX_WAIT_MS, &hb) < 0 ||
	    hb < 100)
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_heartbeat",
				"heartbeat must be milliseconds, 100..%d",
				HTTP_MAX_WAIT_MS);
	if (mode != 0 && !feed_slot_take(h))
		return feed_slots(h) == 0
			       ? send_err(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
					  "busy",
					  "this node keeps no long poll or continuous feed: its [http] max_connections is %u, and they take at most half: ask with feed=normal",
					  (unsigned)h->d->cfg.http_max_conns)
			       : http__send_err_retry(
					 h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, 5,
					 "busy",
					 "%zu long polls and continuous feeds are open, as many as this node keeps: try again shortly, or ask with feed=normal",
					 feed_slots(h));
	if (mode != 0)
		http__conn_stream(h, conn);
	if (mode == 2) {
		struct feed *f = calloc(1, sizeof(*f));
		struct MHD_Response *resp;
		enum MHD_Result ok;
		if (!f) {
			feed_slot_give(h);
			return MHD_NO;
		}
		f->h = h;
		f->tok = *tok;
		f->since = since;
		f->epoch = epoch;
		f->limit = limit;
		/* without timeout the stream runs until the client leaves */
		f->deadline = http__arg(conn, "timeout") ? http__mono_ms() + timeout : 0;
		f->heartbeat_ms = hb;
		f->said = http__mono_ms();
		f->fd = conn_fd(conn);
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
							 feed_read, f, feed_free);
		if (!resp) {
			feed_free(f);
			return MHD_NO;
		}
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"application/x-ndjson");
		/* the stream is quiet for up to a heartbeat between lines: the
		 * idle limit is one heartbeat past it, or a heartbeat over
		 * HTTP_TIMEOUT_S would have the connection closed before its
		 * first newline */
		MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
					  (unsigned int)(hb / 1000 +
							 HTTP_TIMEOUT_S));
		http__count_code(h, MHD_HTTP_OK);
		ok = MHD_queue_response(conn, MHD_HTTP_OK, resp);
		MHD_destroy_response(resp);
		return ok;
	}
	{
		uint64_t deadline = http__mono_ms() + timeout;
		int revoked = 0, held = 1, fd = conn_fd(conn), w = 0;
		for (;;) {
			uint64_t gen = commits_now(h, NULL);
			int more;
			if ((r = changes_collect(h, tok, &since, limit, &arr,
						 &health, &more)) < 0)
				break;
			/* changes left to look at: answer now, the reader
			 * goes on from last_seq */
			if (mode == 0 || json_array_size(arr) > 0 || more)
				break;
			/* a second at a time: a token revoked meanwhile ends
			 * the wait within a second, not at the next commit;
			 * the store is read again only after a commit */
			for (;;) {
				uint64_t now = http__mono_ms(),
					 until = now + 1000 < deadline
							 ? now + 1000
							 : deadline;
				int stop = 0;
				w = wait_commit(h, gen, until, fd);
				/* wait_commit looks at the reader once a
				 * second of its own: a second's wait does */
				if (w == 0 && client_gone(fd))
					w = -1;
				if (w == 0)
					commits_now(h, &stop);
				if (w < 0 || (w == 0 && (until >= deadline || stop)))
					break;
				if ((revoked = (held = http__token_held(
							h, tok)) <= 0) ||
				    w > 0)
					break;
			}
			if (w <= 0 || revoked)
				break;
			/* a commit: look again */
			json_decref(arr);
			arr = NULL;
		}
		if (mode != 0)
			feed_slot_give(h);
		if (w < 0) { /* the reader left: no one to answer */
			json_decref(arr);
			return MHD_NO;
		}
		if (r < 0)
			return http__send_fault(h, conn, r,
						"cannot read the changes");
		if (revoked) {
			json_decref(arr);
			if (held == -2)
				return send_err(h, conn,
						MHD_HTTP_SERVICE_UNAVAILABLE,
						"tokens_unreadable",
						"the node's tokens file does not read: no token can be checked");
			return send_err(h, conn, MHD_HTTP_UNAUTHORIZED,
					held < 0 ? "token_expired"
						 : "bad_token",
					"token \"%s\" %s", tok->name,
					held < 0 ? "has expired"
						 : "was revoked");
		}
	}
	if (feed_log(h, tok, &health) < 0) {
		json_decref(arr);
		return send_err(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				"access_log",
				"the access log cannot be written; a read of health data that cannot be logged is not done");
	}
	{
		char ehex[17];
		snprintf(ehex, sizeof(ehex), "%016llx",
			 (unsigned long long)epoch);
		return http__send_json(h, conn, MHD_HTTP_OK,
				       json_pack("{s:o, s:I, s:s}", "results",
						 arr, "last_seq",
						 (json_int_t)since, "epoch",
						 ehex));
	}
}

