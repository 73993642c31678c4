/*
 * http_metrics: what the loop thread answers a CALL_STATUS or
 * CALL_METRICS with: the status object (as hamlet status --json prints
 * it) and the /metrics exposition, with the responses counted by code
 * (http_internal.h).
 */
#include "http_internal.h"

#include "hlc.h"
#include "ingest.h"
#include "mp.h"
#include "rpc.h"
#include "status.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The response codes counted for /metrics; the last slot counts others. */
static const unsigned count_codes[] = { 200, 400, 401, 403, 404, 405,
					409, 413, 414, 421, 500, 503, 0 };
_Static_assert(sizeof(count_codes) / sizeof(count_codes[0]) == HTTP__NCODES,
	       "one counter per code");
#define NCODES HTTP__NCODES

void http__count_code(struct http *h, unsigned code)
{
	size_t i = 0;
	while (count_codes[i] && count_codes[i] != code)
		i++;
	pthread_mutex_lock(&h->mu);
	h->by_code[i]++;
	pthread_mutex_unlock(&h->mu);
}

/* --- status and metrics, on the loop thread ---------------------------- */

/* status_json() of the daemon's own status answer: the object `hamlet
 * status --json` prints while it runs. */
json_t *http__status_build(struct daemon *d, int *ret_r)
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

static json_int_t jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* One family with a sample per peer, from the status's peer key k. A
 * peer is labelled by its node key and the name its certificate gives
 * (empty when none holds), never by its address: a peer that dials in
 * comes from a new port each time, and each would make a new series. */
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
		fprintf(b, "\",name=\"");
		sb_label(b, json_string_value(json_object_get(p, "name")) ?: "");
		if (json_is_boolean(v))
			fprintf(b, "\"} %d\n", json_is_true(v));
		else if (json_is_integer(v))
			fprintf(b, "\"} %lld\n",
				  (long long)json_integer_value(v));
		else
			fprintf(b, "\"} NaN\n");
	}
}

char *http__metrics_build(struct http *h, const json_t *st, int *ret_r)
{
	struct daemon *d = h->d;
	const struct ingest_hist *hist = ingest_hist(d->ingest);
	char *text = NULL;
	size_t tlen = 0;
	FILE *b;
	json_t *peers, *ref;
	char path[4200];
	struct stat fs;
	uint64_t codes[NCODES], cum = 0, sessions = 0;
	size_t i;
	json_t *p;

	*ret_r = 0;
	if (!(b = open_memstream(&text, &tlen))) {
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
	{
		/* the chain's effective end (status.c): an alert on it
		 * below 30 days is status's warning */
		json_t *cert = json_object_get(st, "certificate");
		uint64_t end = (uint64_t)jint(cert, "expires_ms"),
			 now = hlc_wall_ms();
		metric_head(b, "hamlet_certificate_expires_seconds", "gauge",
			    "Seconds until this node's certificate chain ends: the earliest end of its certificates, an issuer's renewal counted (0: none holds now; +Inf: none ends).");
		if (!json_is_true(json_object_get(cert, "valid")))
			fprintf(b, "hamlet_certificate_expires_seconds 0\n");
		else if (!end)
			fprintf(b, "hamlet_certificate_expires_seconds +Inf\n");
		else
			fprintf(b, "hamlet_certificate_expires_seconds %llu\n",
				(unsigned long long)(end > now ? (end - now) / 1000
							       : 0));
	}
	{
		/* what status says first, for an alert: writes refused */
		json_t *rs = json_object_get(st, "restoring");
		json_t *un = json_object_get(st, "unreached");
		metric_head(b, "hamlet_own_feeds_waiting", "gauge",
			    "The node's own feeds its store holds less of than it signed (a store restored or replaced): writes there wait until its peers send them back.");
		fprintf(b, "hamlet_own_feeds_waiting %lld\n",
			(long long)(json_array_size(rs) +
				    jint(st, "restoring_more")));
		metric_head(b, "hamlet_own_feeds_problem", "gauge",
			    "1 while HOME/own-feeds cannot be read or written (hamlet status says why): the node's writes are refused or unguarded.");
		fprintf(b, "hamlet_own_feeds_problem %d\n",
			json_is_string(json_object_get(st, "own_feeds_problem")));
		metric_head(b, "hamlet_dials_unreached", "gauge",
			    "Addresses this node dials that it cannot reach now (hamlet status names each, and why).");
		fprintf(b, "hamlet_dials_unreached %zu\n", json_array_size(un));
	}
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
		size_t feeds;
		pthread_mutex_lock(&h->mu);
		feeds = h->feeds;
		pthread_mutex_unlock(&h->mu);
		metric_head(b, "hamlet_http_feeds_open", "gauge",
			    "Long polls and continuous changes feeds holding a connection now (at most half of [http] max_connections).");
		fprintf(b, "hamlet_http_feeds_open %zu\n", feeds);
	}
	{
		uint64_t slow, unread, refused, full;
		http__conns_counts(h, &slow, &unread, &refused, &full);
		metric_head(b, "hamlet_http_connections_closed_total",
			    "counter",
			    "HTTP connections closed or refused to keep one client from holding them all.");
		fprintf(b,
			"hamlet_http_connections_closed_total{reason=\"request_timeout\"} %llu\n",
			(unsigned long long)slow);
		fprintf(b,
			"hamlet_http_connections_closed_total{reason=\"answer_unread\"} %llu\n",
			(unsigned long long)unread);
		fprintf(b,
			"hamlet_http_connections_closed_total{reason=\"max_per_client\"} %llu\n",
			(unsigned long long)refused);
		fprintf(b,
			"hamlet_http_connections_closed_total{reason=\"full\"} %llu\n",
			(unsigned long long)full);
	}
	if (fclose(b) != 0) {
		free(text);
		*ret_r = -ENOMEM;
		return NULL;
	}
	return text;
}
