/*
 * http_page: GET / and /status, the status page (daemon/page.h), on a
 * connection's thread: the status object comes from the loop (as GET
 * /v1/status), the lag report from a read transaction here.
 */
#include "http_internal.h"

#include "error.h"
#include "hlc.h"
#include "lag.h"
#include "page.h"
#include "record.h"
#include "record_json.h"
#include "schema.h"
#include "status.h"
#include "utf8.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef MHD_HTTP_MISDIRECTED_REQUEST
#define HTTP_MISDIRECTED MHD_HTTP_MISDIRECTED_REQUEST
#else
#define HTTP_MISDIRECTED 421
#endif

/* The running daemon's peers' last syncs, newer than the contacts kept in
 * the store until its next save (as `hamlet report lag` takes them). */
static struct lag_contact *live_contacts(const json_t *st, size_t *ret_n)
{
	const json_t *peers = json_object_get(st, "peers"), *p;
	struct lag_contact *v;
	size_t i, n = 0;

	*ret_n = 0;
	if (!json_array_size(peers) ||
	    !(v = calloc(json_array_size(peers), sizeof(*v))))
		return NULL;
	json_array_foreach(peers, i, p)
	{
		const char *k = json_string_value(json_object_get(p, "key"));
		json_int_t ms = json_integer_value(json_object_get(p, "last_sync_ms"));
		if (ms > 0 && k && strlen(k) == 64 &&
		    sodium_hex2bin(v[n].key, 32, k, 64, NULL, NULL, NULL) == 0) {
			v[n].ms = (uint64_t)ms;
			n++;
		}
	}
	*ret_n = n;
	return v;
}

/* close: the connection closed after the answer */
static enum MHD_Result send_page(struct http *h, struct MHD_Connection *conn,
				 unsigned code, char *body, size_t len,
				 const char *type, int lang, int close)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_LANGUAGE,
				lang == PAGE_VI ? "vi" : "en");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Language");
	/* nothing from elsewhere, no script, no framing */
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	if (close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	http__count_code(h, code);
	ok = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ok;
}

/* A plain-text answer naming what is wrong, in the page's language. */
static enum MHD_Result send_plain(struct http *h, struct MHD_Connection *conn,
				  unsigned code, int lang, const char *text,
				  int close)
{
	char *t = strdup(text);
	if (!t)
		return MHD_NO;
	return send_page(h, conn, code, t, strlen(t),
			 "text/plain; charset=utf-8", lang, close);
}

/* The port this node's HTTP server listens on (0: not known), for the
 * address a person is told to open. */
static unsigned bound_port(struct http *h)
{
	const union MHD_DaemonInfo *di =
		MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	return di ? di->port : 0;
}

/* How many Host headers a request carries, and the first two. */
struct host_scan {
	unsigned n;
	const char *v[2];
};

static enum MHD_Result host_seen(void *cls, enum MHD_ValueKind kind,
				 const char *key, const char *value)
{
	struct host_scan *hs = cls;
	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
		if (hs->n < 2)
			hs->v[hs->n] = value ? value : "";
		hs->n++;
	}
	return MHD_YES;
}

int http__host_refused(struct http *h, struct MHD_Connection *conn,
		       const char *url, enum MHD_Result *ret)
{
	struct host_scan hs = { 0, { NULL, NULL } };
	const char *host, *ls = http__arg(conn, "lang");
	int lang;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, host_seen, &hs);
	host = hs.v[0];
	/* a proxy in front may have judged the other one (RFC 9112, 3.2);
	 * no browser sends two, so programs are answered, in JSON */
	if (hs.n > 1) {
		*ret = http__send_err_close(
			h, conn, MHD_HTTP_BAD_REQUEST, "bad_host",
			"Host is given %u times (\"%.100s\", \"%.100s\"%s): give it once",
			hs.n, hs.v[0], hs.v[1], hs.n > 2 ? ", …" : "");
		return 1;
	}
	if (page_host_allowed(host, h->d->cfg.http_hosts))
		return 0;
	/* the status page answers people in plain words; every other path
	 * (the API, /metrics, a path of none) programs, in JSON. The
	 * connection is closed after it: the client may retry on another
	 * (RFC 9110, 15.5.20), and the body this request may carry, its
	 * length not yet checked, is never read as a request of its own */
	if (strcmp(url, "/") != 0 && strcmp(url, "/status") != 0) {
		*ret = http__send_err_close(
			h, conn, HTTP_MISDIRECTED, "misdirected",
			"this node does not answer to the host name \"%.100s\": use its IP address or localhost, or list the name in [http] hosts (docs/api.md \"Host names\")",
			host);
		return 1;
	}
	lang = page_lang_pick(MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
	/* ?lang= chooses, as on the page itself; one it does not take
	 * leaves Accept-Language's choice (the host is what is wrong) */
	if (ls)
		(void)page_lang_parse(ls, &lang);
	{
		char text[1024];
		page_host_refusal(lang, bound_port(h), text, sizeof(text));
		*ret = send_plain(h, conn, HTTP_MISDIRECTED, lang, text, 1);
	}
	return 1;
}

int http__page_not_found(struct http *h, struct MHD_Connection *conn,
			 const char *url, enum MHD_Result *ret)
{
	const char *accept = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	const char *ls = http__arg(conn, "lang");
	char text[512], port[16];
	unsigned bound = bound_port(h);
	int lang;

	if (!accept || !strstr(accept, "text/html"))
		return 0;
	lang = page_lang_pick(MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
	if (ls)
		(void)page_lang_parse(ls, &lang);
	if (bound)
		snprintf(port, sizeof(port), "%u", bound);
	else
		snprintf(port, sizeof(port), "%s",
			 lang == PAGE_VI ? "CỔNG" : "PORT");
	/* plain text (nosniff): the path is shown as it came, never run */
	snprintf(text, sizeof(text),
		 lang == PAGE_VI
			 ? "Nút này không có trang %.200s. Trang tình trạng của nút ở địa chỉ này với / ngay sau số cổng, không có gì thêm (ví dụ http://127.0.0.1:%s/); API của nút ở /v1/ (docs/api.md).\n"
			 : "This node has no page %.200s. Its status page is at this address with / right after the port and nothing more (like http://127.0.0.1:%s/); its API is under /v1/ (docs/api.md).\n",
		 url, port);
	*ret = send_plain(h, conn, MHD_HTTP_NOT_FOUND, lang, text, 0);
	return 1;
}

/* 400 in plain words, in lang, for a parameter the page does not take
 * or one given twice: 1 and the answer in *ret, else 0. */
static int page_params_refused(struct http *h, struct MHD_Connection *conn,
			       int lang, enum MHD_Result *ret)
{
	static const char *const allowed[] = { "lang", "key", NULL };
	const char *unknown, *twice;
	char t[256];

	http__params_scan(conn, allowed, &unknown, &twice);
	if (twice)
		snprintf(t, sizeof(t),
			 lang == PAGE_VI
				 ? "tham số %s xuất hiện hai lần: mỗi tham số chỉ ghi một lần\n"
				 : "%s given twice: give each parameter once\n",
			 twice);
	else if (unknown)
		snprintf(t, sizeof(t),
			 lang == PAGE_VI
				 ? "tham số \"%.64s\" không xác định: trang trạng thái chỉ nhận lang và key\n"
				 : "unknown parameter \"%.64s\": the status page takes lang and key\n",
			 unknown);
	else
		return 0;
	utf8_scrub(t); /* a name cut, or bytes a client sent */
	*ret = send_plain(h, conn, MHD_HTTP_BAD_REQUEST, lang, t, 0);
	return 1;
}

enum MHD_Result http__page(struct http *h, struct MHD_Connection *conn)
{
	const char *ls = http__arg(conn, "lang"), *ks = http__arg(conn, "key");
	struct lag_report rep = { 0 };
	struct page_in in = { 0 };
	struct lag_contact *live = NULL;
	struct store_txn *t = NULL;
	json_t *st = NULL;
	char *text = NULL, *html = NULL;
	size_t nlive = 0, len = 0;
	enum MHD_Result ok;
	int r;

	in.lang = page_lang_pick(MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
	if (ls)
		(void)page_lang_parse(ls, &in.lang); /* refused below */
	if (page_params_refused(h, conn, in.lang, &ok))
		return ok;
	if (ls && page_lang_parse(ls, &in.lang) < 0)
		return send_plain(h, conn, MHD_HTTP_BAD_REQUEST, in.lang,
				  in.lang == PAGE_VI
					  ? "?lang= chỉ nhận vi (tiếng Việt) hoặc en (English)\n"
					  : "?lang= takes vi (Vietnamese) or en (English)\n",
				  0);
	if (ks && strcmp(ks, "1") != 0 && strcmp(ks, "0") != 0)
		return send_plain(h, conn, MHD_HTTP_BAD_REQUEST, in.lang,
				  in.lang == PAGE_VI
					  ? "?key= chỉ nhận 1 (hiện khoá) hoặc 0\n"
					  : "?key= takes 1 (show the key) or 0\n",
				  0);
	in.show_key = ks && strcmp(ks, "1") == 0;
	if ((r = http__loop_text(h, CALL_STATUS, &text)) < 0)
		return http__send_fault(h, conn, r, "cannot read the status");
	if (!(st = json_loads(text, 0, NULL))) {
		r = -ENOMEM;
		goto out;
	}
	in.status = st;
	in.now_ms = hlc_wall_ms();
	if ((r = store_txn_begin(h->d->node->st, 1, &t)) < 0)
		goto out;
	if (page_shows_lag(st)) {
		live = live_contacts(st, &nlive);
		if ((r = lag_report_build(t, h->d->node->pk, in.now_ms,
					  PAGE_LAG_THRESHOLD_MS, live, nlive,
					  &rep)) < 0)
			goto out;
		in.lag = &rep;
	}
	r = page_render(&in, &html, &len);
out:
	if (r < 0)
		ok = http__send_fault(h, conn, r, "cannot make the status page");
	else
		ok = send_page(h, conn, MHD_HTTP_OK, html, len,
			       "text/html; charset=utf-8", in.lang, 0);
	lag_report_close(&rep);
	store_txn_abort(t);
	free(live);
	json_decref(st);
	free(text);
	return ok;
}
