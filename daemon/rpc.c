#include "rpc.h"
#include "rpc_internal.h"
#include "conn.h"

#include "bytes.h"
#include "error.h"
#include "mp.h"
#include "peer.h"
#include "rpc_client.h"
#include "dlog.h"
#include "i18n.h"
#include "why.h"

#include <errno.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static struct rpc_conn *clients;
static size_t nclients;

static void client_closed(uv_handle_t *h)
{
	struct rpc_conn *rc = h->data;
	struct rpc_conn **pp = &clients;
	if (--rc->handles > 0)
		return;
	while (*pp && *pp != rc)
		pp = &(*pp)->next;
	if (*pp)
		*pp = rc->next;
	nclients--;
	if (rc->refs) {
		rc->closed = 1; /* a write still runs: it frees rc */
		return;
	}
	free(rc->buf);
	free(rc);
}

static void client_close(struct rpc_conn *rc)
{
	if (rc->closing)
		return;
	rc->closing = 1;
	uv_close((uv_handle_t *)&rc->pipe, client_closed);
	uv_close((uv_handle_t *)&rc->idle, client_closed);
}

struct rpc_write {
	uv_write_t req;
	struct rpc_conn *rc;
	size_t len;
	uint8_t data[];
};

/* libuv calls back every write, cancelled ones too, before the close. */
static void write_done(uv_write_t *req, int status)
{
	struct rpc_write *wr = (struct rpc_write *)req;
	struct rpc_conn *rc = wr->rc;
	(void)status;
	rc->queued -= wr->len;
	rc->moved_ms = uv_now(rc->d->loop);
	if (rc->bye && rc->queued == 0)
		client_close(rc);
	free(wr);
}

void rpc__reply(struct rpc_conn *rc, struct mp_writer *w)
{
	size_t n;
	uint8_t *p = mp_writer_take(w, &n);
	struct rpc_write *wr;
	uv_buf_t b;
	if (rc->closing) {
		free(p);
		return;
	}
	if (p && rc->queued + n + 4 > RPC_MAX_QUEUED) {
		/* it asks and never reads: its answers would pile up here */
		dlog(DLOG_WARNING,
		     _("local client does not read its answers (%zu bytes waiting): closed"),
		     rc->queued);
		free(p);
		client_close(rc);
		return;
	}
	if (!p || !(wr = malloc(sizeof(*wr) + 4 + n))) {
		free(p);
		client_close(rc);
		return;
	}
	wr->rc = rc;
	wr->len = n + 4;
	if (rc->queued == 0)
		rc->moved_ms = uv_now(rc->d->loop); /* waits from now */
	wr->data[0] = (uint8_t)(n >> 24);
	wr->data[1] = (uint8_t)(n >> 16);
	wr->data[2] = (uint8_t)(n >> 8);
	wr->data[3] = (uint8_t)n;
	memcpy(wr->data + 4, p, n);
	free(p);
	b = uv_buf_init((char *)wr->data, (unsigned)(n + 4));
	if (uv_write(&wr->req, (uv_stream_t *)&rc->pipe, &b, 1, write_done) < 0) {
		free(wr);
		client_close(rc);
		return;
	}
	rc->queued += n + 4;
}

void rpc__reply_error(struct rpc_conn *rc, int code, const char *text)
{
	struct mp_writer w;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, code);
	mp_pack_str(&w.pk, text);
	rpc__reply(rc, &w);
	mp_writer_destroy(&w);
}

static void reply_ok_nil(struct rpc_conn *rc)
{
	struct mp_writer w;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, 0);
	msgpack_pack_nil(&w.pk);
	rpc__reply(rc, &w);
	mp_writer_destroy(&w);
}

static void do_status(struct rpc_conn *rc)
{
	struct mp_writer w;
	int r;

	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, 0);
	if ((r = rpc_status_pack(rc->d, &w.pk)) < 0) {
		mp_writer_destroy(&w);
		rpc__reply_error(rc, r, hamlet_strerror(r));
		return;
	}
	rpc__reply(rc, &w);
	mp_writer_destroy(&w);
}

static void do_peers(struct rpc_conn *rc)
{
	struct config *cfg = &rc->d->cfg;
	struct mp_writer w;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, 0);
	msgpack_pack_array(&w.pk, cfg->npeers);
	for (size_t i = 0; i < cfg->npeers; i++)
		mp_pack_str(&w.pk, cfg->peers[i]);
	rpc__reply(rc, &w);
	mp_writer_destroy(&w);
}

static void do_peer_edit(struct rpc_conn *rc, const char *addr, int add)
{
	struct config *cfg = &rc->d->cfg;
	char h[CONFIG_MAX_ADDR], p[8], what[CONFIG_MAX_ADDR + 80];
	size_t i;
	if (strlen(addr) < CONFIG_MAX_ADDR && strrchr(addr, ':') &&
	    strrchr(addr, ':') - addr > 253) {
		why_set(what, sizeof(what),
			N_("\"%.64s…\" is too long (a host name of %d bytes): a host name has at most 253 bytes"),
			addr, (int)(strrchr(addr, ':') - addr));
		rpc__reply_error(rc, -EINVAL, what);
		return;
	}
	if (strlen(addr) >= CONFIG_MAX_ADDR ||
	    config_addr_split(addr, h, sizeof(h), p, sizeof(p)) < 0 ||
	    (add && atoi(p) == 0)) {
		why_set(what, sizeof(what),
			 N_("\"%.64s\" is not HOST:PORT (a host name, an IPv4 address or an [IPv6] one, and a port 1-65535)"),
			 addr);
		rpc__reply_error(rc, -EINVAL, what);
		return;
	}
	for (i = 0; i < cfg->npeers; i++)
		if (strcmp(cfg->peers[i], addr) == 0)
			break;
	if (add && i == cfg->npeers) {
		if (cfg->npeers == CONFIG_MAX_PEERS) {
			why_set(what, sizeof(what),
				 N_("the list of peers to dial is full (%d): remove one first"),
				 CONFIG_MAX_PEERS);
			rpc__reply_error(rc, HAMLET_ETOOBIG, what);
			return;
		}
		snprintf(cfg->peers[cfg->npeers++], CONFIG_MAX_ADDR, "%s", addr);
	} else if (!add) {
		if (i == cfg->npeers) {
			why_set(what, sizeof(what),
				 N_("%.64s is not in the list of peers this node dials (hamlet peers list shows them)"),
				 addr);
			rpc__reply_error(rc, HAMLET_ENOTFOUND, what);
			return;
		}
		memmove(cfg->peers[i], cfg->peers[i + 1],
			(cfg->npeers - i - 1) * sizeof(cfg->peers[0]));
		cfg->npeers--;
	}
	peers_sync_config(rc->d);
	if (!add) {
		reply_ok_nil(rc);
		return;
	}
	/* say what will be dialled, as the daemon understood it */
	snprintf(what, sizeof(what), "host %s, port %s", h, p);
	{
		struct mp_writer w;
		mp_writer_init(&w);
		msgpack_pack_array(&w.pk, 2);
		msgpack_pack_int(&w.pk, 0);
		mp_pack_str(&w.pk, what);
		rpc__reply(rc, &w);
		mp_writer_destroy(&w);
	}
}

/* Reconcile now with every connected peer, or with the one named, and
 * dial now those configured that are not connected (peers_dial_now()).
 * "sync_now" answers {"asked": sessions asked, "dialling": [addresses
 * dialled]}; "sync" answers nil, as it always did. */
static void do_sync(struct rpc_conn *rc, const char *name, int report)
{
	const struct peer_addr *dials[CONFIG_MAX_PEERS];
	size_t n = peers_reconcile(rc->d, name);
	size_t nd = peers_dial_now(rc->d, name, dials, CONFIG_MAX_PEERS);
	struct mp_writer w;

	if (nd > CONFIG_MAX_PEERS)
		nd = CONFIG_MAX_PEERS;
	if (name && n == 0 && nd == 0) {
		char why[CONFIG_MAX_ADDR + 100];
		why_set(why, sizeof(why),
			 N_("%.64s is not a connected peer (hamlet peers list shows them)"),
			 name);
		rpc__reply_error(rc, HAMLET_ENOTFOUND, why);
		return;
	}
	if (!report) {
		reply_ok_nil(rc);
		return;
	}
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, 0);
	msgpack_pack_map(&w.pk, 2);
	rpc__kv_u64(&w.pk, "asked", n);
	mp_pack_str(&w.pk, "dialling");
	msgpack_pack_array(&w.pk, nd);
	for (size_t i = 0; i < nd; i++)
		mp_pack_str(&w.pk, dials[i]->addr);
	rpc__reply(rc, &w);
	mp_writer_destroy(&w);
}

/* Feeds an "own_feeds_forget" answer names one by one (it counts all). */
#define RPC_FORGET_SHOWN 1000

/*
 * `hamlet own-feeds forget-lost [--scope SCOPE]` while the daemon runs:
 * the daemon's own table is the one its writer reads (node_feeds_forget
 * takes its lock), so the next write uses the lowered seqs. Answers
 * [total, [[scope, signed, stored], ...]].
 */
static void do_feeds_forget(struct rpc_conn *rc, const char *scope)
{
	struct node_feed_lag *v = calloc(RPC_FORGET_SHOWN, sizeof(*v));
	struct mp_writer w;
	char why[1024];
	size_t n = 0;
	int r;

	if (!v) {
		rpc__reply_error(rc, -ENOMEM, hamlet_strerror(-ENOMEM));
		return;
	}
	if (scope && entry_scope_check(scope) < 0) {
		why_set(why, sizeof(why),
			N_("invalid scope \"%.128s\": use lower-case segments like province/district/commune/village"),
			scope);
		rpc__reply_error(rc, HAMLET_ESCOPE, why);
		free(v);
		return;
	}
	r = node_feeds_forget(rc->d->node, scope, v, RPC_FORGET_SHOWN, &n, why,
			      sizeof(why));
	if (r < 0) {
		rpc__reply_error(rc, r, why);
		free(v);
		return;
	}
	for (size_t i = 0; i < n && i < RPC_FORGET_SHOWN; i++)
		dlog(DLOG_NOTICE,
		     _("gave up seqs %llu-%llu of this node's feed %s, which no node holds (hamlet own-feeds forget-lost): its next entry there is seq %llu"),
		     (unsigned long long)v[i].stored + 1,
		     (unsigned long long)v[i].signed_seq, v[i].scope,
		     (unsigned long long)v[i].stored + 1);
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, 0);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_uint64(&w.pk, n);
	msgpack_pack_array(&w.pk, n < RPC_FORGET_SHOWN ? n : RPC_FORGET_SHOWN);
	for (size_t i = 0; i < n && i < RPC_FORGET_SHOWN; i++) {
		msgpack_pack_array(&w.pk, 3);
		mp_pack_str(&w.pk, v[i].scope);
		msgpack_pack_uint64(&w.pk, v[i].signed_seq);
		msgpack_pack_uint64(&w.pk, v[i].stored);
	}
	rpc__reply(rc, &w);
	mp_writer_destroy(&w);
	free(v);
}

/* Methods whose argument is a bin; each handler copies what it keeps. */
static const struct {
	const char *name;
	void (*fn)(struct rpc_conn *rc, const uint8_t *p, size_t n);
} bin_methods[] = {
	{ "write", rpc__do_write },
	{ "ingest", rpc__do_ingest },
	{ "trust", rpc__do_trust },
};

/* Say what is wrong with [method] or [method, string] that handle()
 * did not take: the method is unknown, or takes another argument. */
static void unknown_request(struct rpc_conn *rc, const char *method)
{
	static const struct {
		const char *name;
		int args; /* 0 none, 1 one string, 2 either, 3 one bin */
	} known[] = {
		{ "status", 0 },     { "peers", 0 },	 { "keep", 0 },
		{ "peer_add", 1 },   { "peer_remove", 1 }, { "sync", 2 },
		{ "sync_now", 2 },   { "own_feeds_forget", 2 },
		{ "write", 3 },	     { "ingest", 3 },	 { "trust", 3 },
	};
	char why[256], shown[40];
	size_t k = 0;

	/* the method as sent, printable ASCII only: it goes to a terminal */
	for (const char *c = method; *c && k < sizeof(shown) - 1; c++)
		shown[k++] = (*c >= 0x20 && *c < 0x7f) ? *c : '?';
	shown[k] = 0;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(method, known[i].name) != 0)
			continue;
		snprintf(why, sizeof(why), "method \"%s\" takes %s", shown,
			 known[i].args == 0   ? "no argument"
			 : known[i].args == 1 ? "one string argument"
			 : known[i].args == 2 ? "no argument or one string"
					      : "one binary argument");
		rpc__reply_error(rc, HAMLET_EPROTO, why);
		return;
	}
	snprintf(why, sizeof(why),
		 "unknown method \"%s\": hamletd's local socket knows status, peers, peer_add, peer_remove, sync, sync_now, own_feeds_forget, keep, write, ingest and trust",
		 shown);
	rpc__reply_error(rc, HAMLET_EPROTO, why);
}

static void handle(struct rpc_conn *rc, const uint8_t *p, size_t n)
{
	struct mp_doc doc;
	const msgpack_object *a;
	size_t na;
	char method[32], arg[CONFIG_MAX_ADDR] = "";
	if (mp_doc_parse(&doc, p, n, 8) < 0) {
		rpc__reply_error(rc, HAMLET_EFORMAT, "request is not msgpack");
		return;
	}
	if (mp_get_array(doc.root, SIZE_MAX, 2, &a, &na) == 0 && na == 2 &&
	    mp_get_cstr(&a[0], method, sizeof(method)) == 0 &&
	    a[1].type == MSGPACK_OBJECT_BIN) {
		const uint8_t *b = (const uint8_t *)a[1].via.bin.ptr;
		size_t bl = a[1].via.bin.size;
		for (size_t i = 0; i < sizeof(bin_methods) / sizeof(bin_methods[0]); i++) {
			if (strcmp(method, bin_methods[i].name) != 0)
				continue;
			if (rc->refs >= RPC_MAX_JOBS)
				rpc__reply_error(rc, -EBUSY,
					    "too many requests in progress on this connection: wait for their answers");
			else
				bin_methods[i].fn(rc, b, bl); /* copies */
			mp_doc_close(&doc);
			return;
		}
	}
	if (mp_get_array(doc.root, SIZE_MAX, 2, &a, &na) == 0 && na == 2 &&
	    mp_get_cstr(&a[0], method, sizeof(method)) == 0 &&
	    a[1].type == MSGPACK_OBJECT_STR &&
	    a[1].via.str.size >= sizeof(arg)) {
		/* a string, but longer than any argument: said so */
		char what[CONFIG_MAX_ADDR + 160];
		if (strcmp(method, "peer_add") == 0 ||
		    strcmp(method, "peer_remove") == 0)
			why_set(what, sizeof(what),
				N_("\"%.64s…\" is too long (%u bytes): a host name has at most 253 bytes, HOST:PORT at most %d"),
				a[1].via.str.ptr, a[1].via.str.size,
				CONFIG_MAX_ADDR - 1);
		else
			why_set(what, sizeof(what),
				N_("the argument is too long (%u bytes): at most %d"),
				a[1].via.str.size, CONFIG_MAX_ADDR - 1);
		mp_doc_close(&doc);
		rpc__reply_error(rc, -EINVAL, what);
		return;
	}
	if (mp_get_array(doc.root, SIZE_MAX, 2, &a, &na) < 0 || na < 1 ||
	    mp_get_cstr(&a[0], method, sizeof(method)) < 0 ||
	    (na == 2 && mp_get_cstr(&a[1], arg, sizeof(arg)) < 0)) {
		mp_doc_close(&doc);
		rpc__reply_error(rc, HAMLET_EFORMAT,
			    "request is not [method] or [method, string]");
		return;
	}
	mp_doc_close(&doc);
	if (strcmp(method, "status") == 0 && na == 1)
		do_status(rc);
	else if (strcmp(method, "sync") == 0)
		do_sync(rc, na == 2 ? arg : NULL, 0);
	else if (strcmp(method, "sync_now") == 0)
		do_sync(rc, na == 2 ? arg : NULL, 1);
	else if (strcmp(method, "peers") == 0 && na == 1)
		do_peers(rc);
	else if (strcmp(method, "peer_add") == 0 && na == 2)
		do_peer_edit(rc, arg, 1);
	else if (strcmp(method, "peer_remove") == 0 && na == 2)
		do_peer_edit(rc, arg, 0);
	else if (strcmp(method, "own_feeds_forget") == 0)
		do_feeds_forget(rc, na == 2 ? arg : NULL);
	else if (strcmp(method, "keep") == 0 && na == 1) {
		if (rc->refs >= RPC_MAX_JOBS)
			rpc__reply_error(rc, -EBUSY,
				    "too many requests in progress on this connection: wait for their answers");
		else
			rpc__do_keep(rc);
	}
	else
		unknown_request(rc, method);
}

static void on_alloc(uv_handle_t *h, size_t sug, uv_buf_t *buf)
{
	struct rpc_conn *rc = h->data;
	(void)sug;
	*buf = uv_buf_init((char *)rc->buf + rc->len,
			   (unsigned)(4 + RPC_MAX_REQUEST - rc->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct rpc_conn *rc = s->data;
	(void)b;
	if (nread < 0) {
		client_close(rc);
		return;
	}
	rc->len += (size_t)nread;
	while (!rc->closing) {
		struct bytes_reader br;
		const uint8_t *req;
		uint32_t n;
		bytes_reader_init(&br, rc->buf, rc->len);
		if (bytes_get_be32(&br, &n) < 0)
			break; /* the length is not all here yet */
		if (n == 0 || n > RPC_MAX_REQUEST) {
			/* the framing is lost: say why, then close once it
			 * is out (nothing after it can be read as a request) */
			char why[512];
			snprintf(why, sizeof(why),
				 n == 0 ? "request of 0 bytes: each request is a 4-byte big-endian length, then that many bytes of msgpack"
					: "request of %u bytes, over the %u a request may have",
				 (unsigned)n, (unsigned)RPC_MAX_REQUEST);
			dlog(DLOG_NOTICE, _("local client: %s; closed"), why);
			uv_read_stop((uv_stream_t *)&rc->pipe);
			rc->len = 0;
			rc->bye = 1;
			rpc__reply_error(rc, HAMLET_EFORMAT, why);
			return;
		}
		if (bytes_borrow(&br, n, &req) < 0)
			break;
		rc->last_ms = uv_now(rc->d->loop);
		handle(rc, req, n);
		memmove(rc->buf, rc->buf + 4 + n, rc->len - 4 - n);
		rc->len -= 4 + n;
	}
}

/* An idle client (no request for RPC_IDLE_MS, nothing in progress) is
 * closed: held connections must not keep the slots from others. */
static void on_idle(uv_timer_t *t)
{
	struct rpc_conn *rc = t->data;
	uint64_t now = uv_now(rc->d->loop);
	if (rc->refs == 0 && rc->queued == 0 &&
	    now - rc->last_ms >= RPC_IDLE_MS) {
		client_close(rc);
	} else if (rc->queued > 0 && now - rc->moved_ms >= RPC_STALL_MS) {
		/* asks and never reads, less than RPC_MAX_QUEUED of it: its
		 * place is not held for good */
		dlog(DLOG_WARNING,
		     _("local client left its answers unread for %d s (%zu bytes): closed"),
		     RPC_STALL_MS / 1000, rc->queued);
		client_close(rc);
	}
}

/* 1 when rc's answers have waited unread for RPC_STALL_WANTED_MS. */
static int client_stalled(const struct rpc_conn *rc, uint64_t now)
{
	return rc->queued > 0 && now - rc->moved_ms >= RPC_STALL_WANTED_MS;
}

/* Clients not already closing (a closed one lingers until its handles
 * are closed, and does not hold a slot). */
static size_t clients_open(void)
{
	size_t n = 0;
	for (struct rpc_conn *rc = clients; rc; rc = rc->next)
		n += !rc->closing;
	return n;
}

/* 1 when rc has sent bytes the loop has not read yet: a request on its
 * way in, to be read this turn or the next. */
static int client_has_input(struct rpc_conn *rc)
{
	uv_os_fd_t fd;
	uint8_t b;
	return uv_fileno((uv_handle_t *)&rc->pipe, &fd) == 0 &&
	       recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* The client longest idle with nothing in progress, other than
 * newcomer, or NULL; of those idle as long, the one accepted first (the
 * list is newest first), so that a flood accepted within one
 * millisecond gives up its oldest place, not the newest client's. A
 * client whose request waits unread is not idle: under a flood of
 * clients that connect again as fast as they are closed, more than
 * RPC_MAX_CLIENTS may be accepted between a client's accept and the
 * turn its request is read, and it would be closed before it was
 * heard. (Bytes read end the wait: one that sends a part of a request
 * and stops is idle again at once.) */
static struct rpc_conn *client_evictable(const struct rpc_conn *newcomer)
{
	struct rpc_conn *best = NULL;
	uint64_t now = uv_now(newcomer->d->loop);
	for (struct rpc_conn *rc = clients; rc; rc = rc->next)
		if (rc != newcomer && !rc->closing && !rc->bye &&
		    rc->refs == 0 && rc->queued == 0 &&
		    (!best || rc->last_ms <= best->last_ms) &&
		    !client_has_input(rc))
			best = rc;
	if (best)
		return best;
	/* none idle: one that leaves its answers unread, the longest */
	for (struct rpc_conn *rc = clients; rc; rc = rc->next)
		if (rc != newcomer && !rc->closing && rc->refs == 0 &&
		    client_stalled(rc, now) &&
		    (!best || rc->moved_ms <= best->moved_ms))
			best = rc;
	return best;
}

/* Take the client libuv holds (acceptq.h): served, or told that every
 * client's place is busy. */
static int take_client(struct acceptq *q, uv_stream_t *server)
{
	struct daemon *d = server->data;
	struct rpc_conn *rc, *old;
	int r;

	(void)q;
	if (!(rc = calloc(1, sizeof(*rc))) ||
	    !(rc->buf = malloc(4 + RPC_MAX_REQUEST))) {
		free(rc);
		return ACCEPTQ_LATER;
	}
	rc->d = d;
	rc->last_ms = uv_now(d->loop);
	uv_pipe_init(d->loop, &rc->pipe, 0);
	uv_timer_init(d->loop, &rc->idle);
	rc->pipe.data = rc->idle.data = rc;
	rc->handles = 2;
	rc->next = clients;
	clients = rc;
	nclients++;
	if ((r = uv_accept(server, (uv_stream_t *)&rc->pipe)) < 0) {
		client_close(rc);
		return r;
	}
	if (clients_open() > RPC_MAX_CLIENTS) {
		/* make room by closing the client idle longest; when every
		 * one is busy, say so to the newcomer */
		if ((old = client_evictable(rc))) {
			if (old->queued > 0)
				dlog(DLOG_WARNING,
				     _("local client left its answers unread (%zu bytes) while every place was taken: closed for another"),
				     old->queued);
			client_close(old);
		} else {
			char why[512];
			snprintf(why, sizeof(why),
				 "hamletd serves %d local clients at once and all are busy: try again",
				 RPC_MAX_CLIENTS);
			rc->bye = 1;
			rpc__reply_error(rc, -EBUSY, why);
			return 0;
		}
	}
	uv_timer_start(&rc->idle, on_idle, RPC_IDLE_MS / 4, RPC_IDLE_MS / 4);
	uv_read_start((uv_stream_t *)&rc->pipe, on_alloc, on_read);
	return 0;
}

static void on_client(uv_stream_t *server, int status)
{
	struct daemon *d = server->data;
	if (status == 0)
		acceptq_take(&d->rpc_q);
}

_Static_assert(CONFIG_MAX_SOCKET + 1 ==
		       sizeof(((struct sockaddr_un *)0)->sun_path),
	       "config.c refuses the socket paths a sockaddr_un cannot hold");

/* What lies at a path, in words, for a refusal that names it. */
static const char *file_kind(mode_t m)
{
	if (S_ISREG(m))
		return N_("a regular file");
	if (S_ISDIR(m))
		return N_("a directory");
	if (S_ISLNK(m))
		return N_("a symbolic link");
	if (S_ISFIFO(m))
		return N_("a named pipe");
	if (S_ISCHR(m) || S_ISBLK(m))
		return N_("a device");
	return N_("an unknown kind of file");
}

int rpc_socket_check(const char *path, char *why, size_t wl)
{
	char dir[CONFIG_MAX_PATH], *slash;
	struct stat sb;
	int e;

	if (lstat(path, &sb) == 0) {
		if (S_ISSOCK(sb.st_mode))
			return 0;
		/* a typo in --socket must not cost the file it names */
		snprintf(why, wl,
			 _("%s is %s, not a socket: hamletd will not replace it; give another --socket (or socket = in hamletd.conf)"),
			 path, _(file_kind(sb.st_mode)));
		return HAMLET_ECONFIG;
	}
	if (errno != ENOENT) {
		e = errno;
		snprintf(why, wl, _("cannot look at the socket path %s: %s"),
			 path, strerror(e));
		return -e;
	}
	/* nothing there: the socket is made in its directory */
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')))
		*(slash == dir ? slash + 1 : slash) = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	if (stat(dir, &sb) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
		snprintf(why, wl,
			 _("the socket %s cannot be made: the directory %s does not exist; create it, or give another --socket (or socket = in hamletd.conf)"),
			 path, dir);
		return HAMLET_ECONFIG;
	}
	return 0;
}

int rpc_socket_claim(const char *path, char *why, size_t wl)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat sb;
	int fd, e;

	if ((e = rpc_socket_check(path, why, wl)) < 0)
		return e;
	if (lstat(path, &sb) != 0)
		return 0; /* nothing there */
	/* a socket someone answers on is a live daemon's (another home's, or
	 * this one's with its hamletd.lock deleted); a refused connection
	 * is what a daemon that died leaves behind */
	if (strlen(path) >= sizeof(a.sun_path)) {
		/* config_from_args() refused it already */
		snprintf(why, wl, _("cannot check the socket %s: %s"), path,
			 strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	/* not blocking: a connect to a daemon whose backlog is full would
	 * wait for ever; it fails with EAGAIN instead */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			 0)) < 0) {
		e = errno;
		snprintf(why, wl, _("cannot check the socket %s: %s"), path,
			 strerror(e));
		return -e;
	}
	e = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : errno;
	close(fd);
	if (e == 0 || e == EAGAIN || e == EINPROGRESS) { /* live, or busy */
		snprintf(why, wl,
			 _("another hamletd answers on the socket %s; stop it first, or give this one another --socket"),
			 path);
		return -EADDRINUSE;
	}
	if (e != ECONNREFUSED) {
		snprintf(why, wl, _("cannot check the socket %s: %s"), path,
			 strerror(e));
		return -e;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		e = errno;
		snprintf(why, wl,
			 _("cannot remove the stale socket %s of an earlier run: %s"),
			 path, strerror(e));
		return -e;
	}
	return 0;
}

int rpc_start(struct daemon *d)
{
	struct stat sb;
	mode_t old;
	int r;
	uv_pipe_init(d->loop, &d->rpc, 0);
	d->rpc.data = d;
	d->rpc_open = 1;
	old = umask(0117); /* the socket is born 0660, no window */
	/* rpc_socket_claim() found the path free: a file there now is not
	 * ours, and the bind fails rather than replace it */
	r = uv_pipe_bind(&d->rpc, d->cfg.socket);
	umask(old);
	if (r == 0 && lstat(d->cfg.socket, &sb) == 0) {
		d->rpc_dev = sb.st_dev;
		d->rpc_ino = sb.st_ino;
		d->rpc_bound = 1;
	}
	if (r < 0 ||
	    (r = acceptq_listen(&d->rpc_q, (uv_stream_t *)&d->rpc,
				d->cfg.socket, 16, on_client,
				RPC_ACCEPTS_PER_TURN, take_client)) < 0) {
		/* libuv reports a missing directory as a permission fault */
		char dir[4200], *slash;
		snprintf(dir, sizeof(dir), "%s", d->cfg.socket);
		if ((slash = strrchr(dir, '/')))
			*(slash == dir ? slash + 1 : slash) = 0;
		else
			snprintf(dir, sizeof(dir), ".");
		if (stat(dir, &sb) != 0 && errno == ENOENT)
			dlog(DLOG_ERR, _("cannot listen on %s: the directory %s does not exist"),
			     d->cfg.socket, dir);
		else if (r == UV_EACCES) {
			char hint[1200];
			dlog_dir_denied(dir, d->cfg.socket, hint,
					sizeof(hint));
			dlog(DLOG_ERR, _("cannot listen on %s: permission denied: %s"),
			     d->cfg.socket, hint);
		} else
			dlog(DLOG_ERR, _("cannot listen on %s: %s"),
			     d->cfg.socket, dlog_err(r));
		return r;
	}
	return 0;
}

void rpc_stop(struct daemon *d)
{
	if (d->rpc_open) {
		struct stat sb;
		uv_close((uv_handle_t *)&d->rpc, NULL);
		acceptq_close(&d->rpc_q);
		/* only the socket this process made: not a file it found
		 * there, nor one that replaced ours since */
		if (d->rpc_bound && lstat(d->cfg.socket, &sb) == 0 &&
		    sb.st_dev == d->rpc_dev && sb.st_ino == d->rpc_ino)
			unlink(d->cfg.socket);
		d->rpc_bound = 0;
		d->rpc_open = 0;
	}
	for (struct rpc_conn *rc = clients; rc; rc = rc->next)
		client_close(rc);
}
