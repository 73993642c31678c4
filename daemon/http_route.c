/*
 * http_route: a request's way through the API (http_internal.h): its
 * token, its framing and parameters, the route that answers it, and
 * the status and /metrics answers; libmicrohttpd's request callbacks.
 */
#include "http_internal.h"

#include "dlog.h"
#include "error.h"
#include "hlc.h"
#include "node.h"
#include "schema.h"
#include "tokens.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

/* --- tokens ------------------------------------------------------------- */

/* Re-read the tokens file when it changed (inode, size, times: a chown
 * or chmod too); h->tmu held. */
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
		   s.st_mtim.tv_nsec != h->tst.st_mtim.tv_nsec ||
		   /* its owner or mode changed (chown, chmod): one that
		    * could not be read may now be */
		   s.st_ctim.tv_sec != h->tst.st_ctim.tv_sec ||
		   s.st_ctim.tv_nsec != h->tst.st_ctim.tv_nsec) {
		h->tst = s;
		h->tseen = 1;
		h->tbad = tokens_load(h->d->node->home, &h->toks, why,
				      sizeof(why)) < 0;
		if (h->tbad)
			dlog(DLOG_ERR, _("http: %s; every token is refused until it is fixed"),
			     why);
	}
}

/* Re-read what the node itself may read when node.cert changed, or a
 * minute on (its end may have passed); h->tmu held, and no store
 * transaction open on this thread (node_cert_load opens one). As
 * node_reader(): a revoked certificate still bounds what is read; one
 * that does not hold leaves the node its own scope. */
static void grant_refresh(struct http *h)
{
	char path[4200], why[300];
	struct cert_chain *ch;
	struct stat s;
	uint64_t now = hlc_wall_ms();
	int r, same;

	snprintf(path, sizeof(path), "%s/%s", h->d->node->home,
		 NODE_CERT_FILE);
	r = stat(path, &s);
	same = h->gseen && (r != 0 ? h->gst.st_ino == 0
				   : s.st_ino == h->gst.st_ino &&
					     s.st_size == h->gst.st_size &&
					     s.st_mtim.tv_sec ==
						     h->gst.st_mtim.tv_sec &&
					     s.st_mtim.tv_nsec ==
						     h->gst.st_mtim.tv_nsec);
	if (same && now - h->gat_ms < 60000)
		return;
	if (!(ch = malloc(sizeof(*ch))))
		return; /* keep what it had */
	if (r != 0)
		memset(&s, 0, sizeof(s));
	r = node_cert_load(h->d->node, now, ch, NULL, NULL, why, sizeof(why));
	h->has_grant = r == 0 || r == HAMLET_EREVOKED;
	if (h->has_grant)
		h->grant = ch->c[0];
	h->gst = s;
	h->gseen = 1;
	h->gat_ms = now;
	free(ch);
}

/* Counts the Authorization headers. */
static enum MHD_Result auth_seen(void *cls, enum MHD_ValueKind kind,
				  const char *key, const char *value)
{
	(void)kind;
	(void)value;
	if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
		++*(unsigned *)cls;
	return MHD_YES;
}

/* The token presented, copied into ret: 1, or 0 when it is missing, bad
 * or revoked, -1 when it has expired (ret set, to name it), -2 when the
 * tokens file does not read (no token can be judged), or -3 when
 * Authorization is given more than once (a proxy in front may have
 * judged the other). *why (may be NULL) says which, when 0. */
static int token_check(struct http *h, struct MHD_Connection *conn,
		       struct token *ret, const char **why)
{
	const char *whyn;
	const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	const struct token *t;
	char given[256];
	size_t n;
	int found = 0;
	unsigned nauth = 0;

	if (!why)
		why = &whyn;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, auth_seen, &nauth);
	if (nauth > 1)
		return -3;
	/* the scheme in any case, spaces around the token (RFC 9110 11.4) */
	*why = "the request has no Authorization header";
	if (!a)
		return 0;
	*why = "its Authorization header is not \"Bearer TOKEN\" (another scheme, or no space after Bearer)";
	if (strncasecmp(a, "Bearer", 6) != 0 || (a[6] != ' ' && a[6] != '\t'))
		return 0;
	for (a += 6; *a == ' ' || *a == '\t'; a++)
		;
	n = strlen(a);
	while (n && (a[n - 1] == ' ' || a[n - 1] == '\t'))
		n--;
	*why = "its Authorization header holds no token after Bearer";
	if (n == 0)
		return 0;
	*why = "its token is longer than any token this node makes (255 characters at most)";
	if (n >= sizeof(given))
		return 0;
	*why = "its token is not one of this node's (mistyped, made on another node, or revoked: hamlet token list shows them)";
	memcpy(given, a, n);
	given[n] = 0;
	pthread_mutex_lock(&h->tmu);
	tokens_refresh(h);
	grant_refresh(h);
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
	if (tc == -3)
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_token",
				"Authorization is given more than once: send one token");
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

/* The header by which a proxy names the client it forwards, or NULL. */
static const char *forwarded_by(struct MHD_Connection *conn)
{
	static const char *const names[] = { "Forwarded", "X-Forwarded-For",
					     "X-Real-IP", NULL };
	for (const char *const *n = names; *n; n++)
		if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, *n))
			return *n;
	return NULL;
}

/* 1 for the node's own PC, which /metrics and the status page answer
 * without a token: a loopback client that no proxy forwarded. Behind a
 * proxy on the same machine (docs/api.md: a TLS proxy in front) every
 * client arrives from loopback, so the proxy's header tells it apart;
 * *ret_fwd names that header (NULL when none). */
static int own_pc(struct MHD_Connection *conn, const char **ret_fwd)
{
	*ret_fwd = forwarded_by(conn);
	return http__loopback(conn) && !*ret_fwd;
}

/*
 * What counts every scope's records (/metrics, the status page, named by
 * what) answers the node's own PC, or a token of every scope: 0 when
 * this request may have it; else 1, with the refusal sent (*ret).
 */
static int whole_node_refused(struct http *h, struct MHD_Connection *conn,
			      const char *what, enum MHD_Result *ret)
{
	struct token tok;
	const char *fwd, *why = "";
	int tc;

	if (own_pc(conn, &fwd))
		return 0;
	if ((tc = token_check(h, conn, &tok, &why)) < 0)
		*ret = token_err(h, conn, &tok, tc);
	else if (!tc)
		*ret = send_err(h, conn, MHD_HTTP_UNAUTHORIZED, "bad_token",
				"%s answers loopback clients, or a request with a valid token (%s)%s%s%s",
				what, why, fwd ? "; this one came through a proxy (" : "",
				fwd ? fwd : "",
				fwd ? "), which is no loopback client" : "");
	else if (tok.scope[0])
		*ret = send_err(h, conn, MHD_HTTP_FORBIDDEN, "scope",
				"token \"%s\" covers scope %s; %s counts the records of every scope, so it answers loopback clients and tokens of every scope",
				tok.name, tok.scope, what);
	else
		return 0;
	return 1;
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
	if (!key[0] && (!value || !value[0]))
		return MHD_YES; /* "?&limit=2", "?&": an empty pair, nothing */
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

void http__params_scan(struct MHD_Connection *conn,
		       const char *const *allowed, const char **ret_unknown,
		       const char **ret_twice)
{
	struct param_scan ps = { allowed, NULL, NULL, 0 };

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, param_seen, &ps);
	*ret_unknown = ps.unknown;
	*ret_twice = ps.twice;
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
	http__params_scan(conn, allowed, &ps.unknown, &ps.twice);
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
			"invalid record id \"%.64s%s\" (%zu byte%s): use 1-64 ASCII letters (a-z, A-Z, without accents), digits, '.', '_', ':' or '-' (not . or .. alone)",
			id, n > 64 ? "…" : "", n, n == 1 ? "" : "s");
}

/* 405, naming the methods allowed on what. */
static enum MHD_Result method_err(struct http *h, struct MHD_Connection *conn,
				  const char *method, const char *allow,
				  const char *what)
{
	char hdr[64];
	/* a GET is answered to HEAD too (libmicrohttpd sends its headers
	 * alone), so the Allow header names it (RFC 9110 9.3.2) */
	snprintf(hdr, sizeof(hdr), "%s%s", allow,
		 strncmp(allow, "GET", 3) == 0 ? ", HEAD" : "");
	return http__send_err_allow(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, hdr,
			      "method", "%s is not allowed on %s; use %s",
			      method, what, hdr);
}

#define SPLIT_EMPTY ((size_t)-1)

/* Split path (after the prefix) into at most max + 1 segments, in buf;
 * SPLIT_EMPTY when one is empty ("//", or a "/" at the end): a path
 * means one resource, not every spelling of it. */
static size_t split(const char *path, char *buf, size_t cap, char **seg,
		    size_t max)
{
	size_t n = 0;
	char *p;
	snprintf(buf, cap, "%s", path);
	if (!*buf)
		return 0; /* the prefix alone */
	for (p = buf; n <= max;) {
		char *e = strchr(p, '/');
		if (e)
			*e = 0;
		if (!*p)
			return SPLIT_EMPTY;
		seg[n++] = p;
		if (!e)
			break;
		p = e + 1;
	}
	return n;
}

static enum MHD_Result route(struct http *h, struct MHD_Connection *conn,
			     const char *url, const char *method,
			     struct req *rq)
{
	struct token tok;
	int tc = 0;
	const char *why = "";
	enum MHD_Result ok;
	char buf[1024], *seg[6];
	size_t n;
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	/* the Host was checked first, on the request's first call */
	if (rq->nul)
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_url",
				"the URL holds an encoded NUL byte (%%00), which no path or value may");
	if (rq->slash)
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_url",
				"the path holds an encoded \"/\" (%%2F): no collection or record id has one (an id is ASCII letters, digits, \"-\", \"_\", \".\" and \":\")");
	if (strcmp(url, "/metrics") == 0) {
		if (!get)
			return method_err(h, conn, method, "GET", "/metrics");
		if (whole_node_refused(h, conn, "/metrics", &ok))
			return ok;
		PARAMS("/metrics", NULL);
		return loop_text(h, conn, CALL_METRICS);
	}
	if (strcmp(url, "/") == 0 || strcmp(url, "/status") == 0) {
		if (!get)
			return method_err(h, conn, method, "GET", url);
		if (whole_node_refused(h, conn, "the status page", &ok))
			return ok;
		/* its parameters are checked by the page, which answers a
		 * person in plain words in the page's language */
		return http__page(h, conn);
	}
	if (strncmp(url, "/v1/", 4) != 0) {
		if (get && http__page_not_found(h, conn, url, &ok))
			return ok; /* a person at a browser */
		return send_err(h, conn, MHD_HTTP_NOT_FOUND, "no_route",
				"no such path: %.200s (the API is under /v1/, docs/api.md)",
				url);
	}
	if (strlen(url) >= sizeof(buf))
		return send_err(h, conn, MHD_HTTP_URI_TOO_LONG, "too_long",
				"the path is over %zu bytes", sizeof(buf) - 1);
	if ((tc = token_check(h, conn, &tok, &why)) < 0)
		return token_err(h, conn, &tok, tc);
	if (!tc)
		return send_err(h, conn, MHD_HTTP_UNAUTHORIZED, "bad_token",
				"a valid token is needed, and %s: send \"Authorization: Bearer TOKEN\" (hamlet token create makes one)",
				why);
	if (rq->too_big)
		return send_err(h, conn, 413, "too_large",
				"the body is over %zu bytes", HTTP_MAX_BODY);
	n = split(url + 4, buf, sizeof(buf), seg, 5);
	if (n == SPLIT_EMPTY)
		return send_err(h, conn, MHD_HTTP_NOT_FOUND, "no_route",
				"no such path: %.200s has an empty segment (\"//\", or a \"/\" at its end); docs/api.md lists the paths",
				url);
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
		       "heartbeat", "epoch", NULL);
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
		PARAMS("/v1/conflicts", "limit", "after", NULL);
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

/*
 * The request's URI as sent, before libmicrohttpd decodes it: an
 * encoded NUL would end the decoded path or value early (a record id
 * "HP-1%00x" naming HP-1). Nothing is allocated here: libmicrohttpd
 * 0.9.75 calls this before it parses the query, and when the query has
 * more parameters than its memory pool holds (about 500) it drops the
 * connection without calling NOTIFY_COMPLETED, so anything made here
 * would leak (docs/api.md "Errors"). The answer is a mark, or NULL;
 * http__on_request makes the request's state.
 */
static const char uri_has_nul, uri_has_slash;

/* Also an encoded '/' (%2F) in the path, before any '?': decoded, it
 * would split a segment in two (a record id "a%2Fb" routed as a/b). */
void *http__on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	const char *q = uri ? strchr(uri, '?') : NULL;
	const void *mark = NULL;
	(void)cls;
	(void)conn;
	for (const char *p = uri; p && (p = strchr(p, '%')); p++) {
		if (p[1] == '0' && p[2] == '0')
			return (void *)&uri_has_nul;
		if (p[1] == '2' && (p[2] == 'F' || p[2] == 'f') &&
		    (!q || p < q))
			mark = &uri_has_slash;
	}
	return (void *)mark;
}

static int uri_marked(const void *rq)
{
	return rq == &uri_has_nul || rq == &uri_has_slash;
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

/*
 * The path of a request target in absolute form ("http://host:port/v1/
 * status", which a server must take: RFC 9112 3.2.2), or url as it is;
 * *auth (cap bytes) the authority it named, or "".
 */
static const char *origin_form(const char *url, char *auth, size_t cap,
			       int *ret_absolute)
{
	const char *a, *path;
	size_t n;

	auth[0] = 0;
	*ret_absolute = 0;
	if (strncasecmp(url, "http://", 7) == 0)
		a = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		a = url + 8;
	else
		return url;
	*ret_absolute = 1;
	n = strcspn(a, "/?");
	/* one longer than auth holds is left empty: refused as no host
	 * (a cut one could equal a Host header that is not it) */
	if (n < cap)
		snprintf(auth, cap, "%.*s", (int)n, a);
	path = a + n;
	return *path == '/' ? path : "/";
}

enum MHD_Result http__on_request(void *cls, struct MHD_Connection *conn,
				 const char *url, const char *method,
				 const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct req *rq = *con_cls;
	char auth[256];
	int absolute;

	url = origin_form(url, auth, sizeof(auth), &absolute);
	if (!rq || uri_marked(rq)) {
		const char *cl;
		char why[200];
		int nul = (void *)rq == &uri_has_nul;
		int slash = (void *)rq == &uri_has_slash;
		enum MHD_Result ok;
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq;
		rq->nul = nul;
		rq->slash = slash;
		pthread_mutex_lock(&h->mu);
		h->answering++;
		pthread_mutex_unlock(&h->mu);
		/* freed by http__on_completed, or when the connection closes
		 * without it */
		http__conn_req(h, conn, rq);
		/* before anything else is checked or read, its length
		 * included (DNS rebinding; docs/api.md "Host names") */
		if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
		    !MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_HOST))
			return http__send_err_close(
				h, conn, MHD_HTTP_BAD_REQUEST, "bad_host",
				"an HTTP/1.1 request names its Host (RFC 9112, 3.2): send Host: and the address you reach this node at");
		if (absolute) {
			/* the target's authority and Host are the same
			 * (RFC 9112 3.2), so that the Host judged is the
			 * one the request is for; an empty one names no
			 * host (RFC 9110 4.2.1) */
			const char *host = MHD_lookup_connection_value(
				conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
			if (!auth[0])
				return http__send_err_close(
					h, conn, MHD_HTTP_BAD_REQUEST,
					"bad_host",
					"the request's target is in absolute form with no host, or one over %zu bytes: send its path alone, or name the host",
					sizeof(auth) - 1);
			if (!host)
				return http__send_err_close(
					h, conn, MHD_HTTP_BAD_REQUEST,
					"bad_host",
					"the request's target names the host \"%.100s\" and it has no Host header: send Host: with the same",
					auth);
			if (strcasecmp(host, auth) != 0)
				return http__send_err_close(
					h, conn, MHD_HTTP_BAD_REQUEST,
					"bad_host",
					"the request's target names the host \"%.100s\" and its Host header \"%.100s\": send the same in both",
					auth, host);
		}
		if (http__host_refused(h, conn, url, &ok))
			return ok;
		if (framing_check(conn, why, sizeof(why)) < 0)
			return http__send_err_close(h, conn, MHD_HTTP_BAD_REQUEST,
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
			/* a body without Content-Length (chunked) is known to
			 * be too big only now; the 413 goes once it ends, and
			 * what comes past HTTP_MAX_DISCARD closes the
			 * connection unanswered (libmicrohttpd answers only
			 * a whole request) */
			rq->too_big = 1;
			rq->discarded += n;
			return rq->discarded > HTTP_MAX_DISCARD ? MHD_NO
								: MHD_YES;
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

void http__req_free(struct http *h, struct req *rq)
{
	if (!rq || uri_marked(rq))
		return;
	pthread_mutex_lock(&h->mu);
	if (h->answering)
		h->answering--;
	pthread_mutex_unlock(&h->mu);
	free(rq->body);
	free(rq);
}

void http__on_completed(void *cls, struct MHD_Connection *conn,
			void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;
	(void)toe;
	/* the next request on this connection has its own deadline */
	http__conn_waiting(cls, conn, 1);
	http__conn_req(h, conn, NULL);
	http__req_free(h, *con_cls);
	*con_cls = NULL;
}
