#include "sync.h"
#include "sync_internal.h"

#include "error.h"
#include "conn.h"
#include "daemon.h"
#include "dlog.h"
#include "ingest.h"
#include "hlc.h"
#include "log.h"
#include "peer.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEG_FRAME_LIMIT 50000 /* below WIRE_MAX_NEG */

/* --- sending ----------------------------------------------------------- */

/* Take w's bytes and send them; w is reset for reuse. */
int sync__send_writer(struct conn *c, struct mp_writer *w)
{
	size_t n;
	uint8_t *p = mp_writer_take(w, &n);
	int r;
	if (!p)
		return -ENOMEM;
	r = peer_conn_send(c, p, n);
	free(p);
	return r;
}

/* --- scopes ------------------------------------------------------------ */

/* A feed both we and the peer subscribe to. */
int sync__scope_shared(struct conn *c, const char *scope)
{
	struct config *cfg = &c->d->cfg;
	return ingest_scope_under_any(scope, (const char(*)[ENTRY_MAX_SCOPE + 1])cfg->scopes,
			 cfg->nscopes) &&
	       ingest_scope_under_any(scope, (const char(*)[ENTRY_MAX_SCOPE + 1])c->sy.scopes,
			 c->sy.nscopes);
}

/* --- items ------------------------------------------------------------- */

static void item_make(const struct log_feed *f, struct sync_item *it)
{
	uint8_t buf[32 + 8 + 32];
	memcpy(it->key, f->key, 32);
	it->seq = f->seq;
	snprintf(it->scope, sizeof(it->scope), "%s", f->scope);
	memcpy(buf, f->key, 32);
	store_be64(buf + 32, f->seq);
	memcpy(buf + 40, f->head, 32);
	crypto_generichash(it->item.id, 32, buf, sizeof(buf), NULL, 0);
	it->item.timestamp = hlc_ms(f->hlc) / 1000;
}

struct collect {
	struct conn *c;
	struct sync_item *v;
	size_t n, cap;
};

static int collect_feed(void *ctx, const struct log_feed *f)
{
	struct collect *cl = ctx;
	if (f->seq == 0 || !sync__scope_shared(cl->c, f->scope))
		return 0;
	if (cl->n == cl->cap) {
		size_t nc = cl->cap ? cl->cap * 2 : 256;
		void *p;
		if (nc > NEGENTROPY_IDLIST_MAX)
			return HAMLET_ETOOBIG;
		if (!(p = realloc(cl->v, nc * sizeof(*cl->v))))
			return -ENOMEM;
		cl->v = p;
		cl->cap = nc;
	}
	item_make(f, &cl->v[cl->n++]);
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	const struct sync_item *x = a, *y = b;
	if (x->item.timestamp != y->item.timestamp)
		return x->item.timestamp < y->item.timestamp ? -1 : 1;
	return memcmp(x->item.id, y->item.id, 32);
}

/* Every shared feed as a sorted item list (*ret, caller frees). */
static int items_build(struct conn *c, struct sync_item **ret, size_t *ret_n)
{
	struct collect cl = { .c = c };
	struct store_txn *t = NULL;
	int r;
	if ((r = store_txn_begin(c->d->node->st, 1, &t)) < 0)
		return r;
	r = log_feeds_each(t, collect_feed, &cl);
	store_txn_abort(t);
	if (r < 0) {
		free(cl.v);
		return r;
	}
	if (cl.n)
		qsort(cl.v, cl.n, sizeof(*cl.v), item_cmp);
	*ret = cl.v;
	*ret_n = cl.n;
	return 0;
}

static struct neg_item *items_neg(const struct sync_item *v, size_t n)
{
	struct neg_item *ni = malloc((n ? n : 1) * sizeof(*ni));
	if (!ni)
		return NULL;
	for (size_t i = 0; i < n; i++)
		ni[i] = v[i].item;
	return ni;
}

static const struct sync_item *items_find(const struct sync_item *v, size_t n,
					  const uint8_t id[32])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(v[i].item.id, id, 32) == 0)
			return &v[i];
	return NULL;
}

/* Send FEEDS in chunks the receiver accepts. */
static int send_feeds(struct conn *c, const struct wire_feed *f, size_t nf,
		      const uint8_t (*ids)[32], size_t ni)
{
	struct mp_writer w;
	int r = 0;
	mp_writer_init(&w);
	while ((nf || ni) && r >= 0) {
		size_t a = nf > WIRE_MAX_FEEDS ? WIRE_MAX_FEEDS : nf;
		size_t b = ni > WIRE_MAX_IDS ? WIRE_MAX_IDS : ni;
		if ((r = wire_put_feeds(&w, f, a, ids, b)) < 0 ||
		    (r = sync__send_writer(c, &w)) < 0)
			break;
		f += a;
		nf -= a;
		ids += b;
		ni -= b;
	}
	mp_writer_destroy(&w);
	return r;
}

/* --- reconciliation (client) ------------------------------------------- */

static void reconcile_end(struct conn *c)
{
	struct sync_session *s = &c->sy;
	negentropy_free(s->ng);
	s->ng = NULL;
	free(s->nitems);
	s->nitems = NULL;
	free(s->items);
	s->items = NULL;
	s->nitems_n = 0;
	s->reconciling = 0;
}

/* The responder's "sync now": announce every shared head; the peer
 * answers WANT where it is behind and FEEDS where it is ahead. */
static int announce_all(struct conn *c)
{
	struct sync_item *items = NULL;
	struct wire_feed *f = NULL;
	size_t n;
	int r;
	if ((r = items_build(c, &items, &n)) < 0)
		return r;
	if (n && !(f = malloc(n * sizeof(*f)))) {
		free(items);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(f[i].key, items[i].key, 32);
		f[i].seq = items[i].seq;
	}
	r = send_feeds(c, f, n, NULL, 0);
	free(f);
	free(items);
	return r;
}

int sync_session_reconcile(struct conn *c)
{
	struct sync_session *s = &c->sy;
	struct mp_writer w;
	uint8_t *msg = NULL;
	size_t len;
	int r;

	if (c->state != CONN_READY)
		return 0;
	if (!c->initiator)
		return announce_all(c);
	if (s->reconciling) {
		s->again = 1;
		return 0;
	}
	s->again = 0;
	s->last_reconcile = uv_now(c->d->loop);
	if ((r = items_build(c, &s->items, &s->nitems_n)) < 0)
		return r;
	if (!(s->nitems = items_neg(s->items, s->nitems_n))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = negentropy_new(s->nitems, s->nitems_n, NEG_FRAME_LIMIT,
				&s->ng)) < 0 ||
	    (r = negentropy_initiate(s->ng, &msg, &len)) < 0)
		goto out;
	s->reconciling = 1;
	mp_writer_init(&w);
	if ((r = wire_put_neg(&w, msg, len)) == 0)
		r = sync__send_writer(c, &w);
	mp_writer_destroy(&w);
out:
	free(msg);
	if (r < 0)
		reconcile_end(c);
	return r;
}

static int on_neg_client(struct conn *c, const struct wire_msg *m, char *why,
			 size_t wl)
{
	struct sync_session *s = &c->sy;
	struct neg_idlist have = { 0 }, need = { 0 };
	struct wire_feed *feeds = NULL;
	uint8_t *next = NULL;
	size_t nlen, nf = 0;
	int r;

	if ((r = negentropy_reconcile_client(s->ng, m->neg.data, m->neg.len,
					     &have, &need, &next, &nlen)) < 0) {
		snprintf(why, wl, "NEG: bad reconciliation message: %s",
			 hamlet_strerror(r));
		goto out;
	}
	if (have.n && !(feeds = malloc(have.n * sizeof(*feeds)))) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < have.n; i++) {
		const struct sync_item *it =
			items_find(s->items, s->nitems_n, have.ids[i]);
		if (!it)
			continue;
		memcpy(feeds[nf].key, it->key, 32);
		feeds[nf++].seq = it->seq;
	}
	if ((r = send_feeds(c, feeds, nf, (const uint8_t(*)[32])need.ids,
			    need.n)) < 0)
		goto out;
	if (next) {
		struct mp_writer w;
		mp_writer_init(&w);
		if ((r = wire_put_neg(&w, next, nlen)) == 0)
			r = sync__send_writer(c, &w);
		mp_writer_destroy(&w);
	} else {
		reconcile_end(c);
		if (c->info)
			c->info->last_sync_ms = peer_wall_ms();
		if (s->again)
			r = sync_session_reconcile(c);
	}
out:
	free(next);
	free(feeds);
	negentropy_idlist_close(&have);
	negentropy_idlist_close(&need);
	return r;
}

/* --- message handlers -------------------------------------------------- */

static int on_hello(struct conn *c, const struct wire_msg *m, char *why,
		    size_t wl)
{
	struct sync_session *s = &c->sy;
	if (memcmp(m->hello.node, c->rpk, 32) != 0) {
		snprintf(why, wl, "HELLO.node is not the handshake identity");
		return HAMLET_EPROTO;
	}
	if (memcmp(m->hello.network_id, c->d->node->net.id, 32) != 0) {
		snprintf(why, wl, "HELLO.network_id is another network");
		return HAMLET_ENETWORK;
	}
	s->nscopes = m->hello.nscopes;
	memcpy(s->scopes, m->hello.scopes, sizeof(s->scopes));
	s->tx_credit = m->hello.credit;
	c->state = CONN_READY;
	c->info->connected = 1;
	c->info->ban_ms = 0;
	if (c->pa)
		c->pa->backoff_ms = 0;
	dlog(DLOG_INFO, "peer %s: connected (%s)", c->name,
	     c->initiator ? "outgoing" : "incoming");
	/* the dialling side reconciles; the other answers */
	return c->initiator ? sync_session_reconcile(c) : 0;
}

static int on_neg(struct conn *c, const struct wire_msg *m, char *why,
		  size_t wl)
{
	struct sync_item *items = NULL;
	struct neg_item *ni = NULL;
	struct negentropy *ng = NULL;
	struct mp_writer w;
	uint8_t *out = NULL;
	size_t n, olen;
	int r;

	if (c->initiator) {
		if (!c->sy.reconciling) {
			snprintf(why, wl, "NEG while no reconciliation is running");
			return HAMLET_EPROTO;
		}
		return on_neg_client(c, m, why, wl);
	}
	/* server: stateless, one answer per message */
	if ((r = items_build(c, &items, &n)) < 0)
		return r;
	if (!(ni = items_neg(items, n))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = negentropy_new(ni, n, NEG_FRAME_LIMIT, &ng)) < 0)
		goto out;
	if ((r = negentropy_reconcile(ng, m->neg.data, m->neg.len, &out,
				      &olen)) < 0) {
		snprintf(why, wl, "NEG: bad reconciliation message: %s",
			 hamlet_strerror(r));
		goto out;
	}
	if (olen) {
		mp_writer_init(&w);
		if ((r = wire_put_neg(&w, out, olen)) == 0)
			r = sync__send_writer(c, &w);
		mp_writer_destroy(&w);
	}
	if (c->info)
		c->info->last_sync_ms = peer_wall_ms();
out:
	free(out);
	negentropy_free(ng);
	free(ni);
	free(items);
	return r;
}

static int want_send(struct conn *c, const uint8_t key[32], uint64_t seq)
{
	struct mp_writer w;
	int r;
	mp_writer_init(&w);
	if ((r = wire_put_want(&w, key, seq)) == 0)
		r = sync__send_writer(c, &w);
	mp_writer_destroy(&w);
	return r;
}

/* The peer's heads for some feeds, and ids it asks us to name. */
static int on_feeds(struct conn *c, const struct wire_msg *m, char *why,
		    size_t wl)
{
	struct store_txn *t = NULL;
	struct wire_feed *reply = NULL;
	struct sync_item *items = NULL;
	size_t nreply = 0, nitems = 0, wanted = 0;
	int r;

	reply = malloc((m->feeds.nfeeds + m->feeds.nids + 1) * sizeof(*reply));
	if (!reply)
		return -ENOMEM;
	if ((r = store_txn_begin(c->d->node->st, 1, &t)) < 0)
		goto out;
	for (size_t i = 0; i < m->feeds.nfeeds && r >= 0; i++) {
		const struct wire_feed *wf = &m->feeds.feeds[i];
		struct log_feed f;
		uint64_t mine = 0;
		int shared = 1;
		r = log_feed_get(t, wf->key, &f);
		if (r == 0) {
			mine = f.seq;
			shared = sync__scope_shared(c, f.scope);
		} else if (r != HAMLET_ENOTFOUND) {
			break;
		}
		r = 0;
		if (!shared)
			continue;
		if (mine < wf->seq) {
			r = want_send(c, wf->key, mine);
			wanted++;
		} else if (mine > wf->seq) {
			memcpy(reply[nreply].key, wf->key, 32);
			reply[nreply++].seq = mine;
		}
	}
	store_txn_abort(t);
	t = NULL;
	if (r < 0)
		goto out;
	if (m->feeds.nids) {
		if ((r = items_build(c, &items, &nitems)) < 0)
			goto out;
		for (size_t i = 0; i < m->feeds.nids; i++) {
			const struct sync_item *it =
				items_find(items, nitems, m->feeds.ids[i]);
			if (!it)
				continue;
			memcpy(reply[nreply].key, it->key, 32);
			reply[nreply++].seq = it->seq;
		}
	}
	if (nreply) {
		r = send_feeds(c, reply, nreply, NULL, 0);
	} else if (!wanted) {
		/* we hold exactly what the peer named: that is agreement. Say
		 * so with an empty FEEDS (never in answer to an empty one), so
		 * a responder asked to sync learns it too */
		if (c->info)
			c->info->last_sync_ms = peer_wall_ms();
		if (m->feeds.nfeeds || m->feeds.nids) {
			struct mp_writer w;
			mp_writer_init(&w);
			if ((r = wire_put_feeds(&w, NULL, 0, NULL, 0)) == 0)
				r = sync__send_writer(c, &w);
			mp_writer_destroy(&w);
		}
	}
out:
	(void)why;
	(void)wl;
	store_txn_abort(t);
	free(items);
	free(reply);
	return r;
}

static int on_keepalive(struct conn *c, const struct wire_msg *m, char *why,
			size_t wl)
{
	return 0;
}

static int on_error(struct conn *c, const struct wire_msg *m, char *why,
		    size_t wl)
{
	snprintf(why, wl, "peer reported an error: %s", m->error.text);
	peer_conn_close(c, why);
	return 0;
}

/* --- dispatch ---------------------------------------------------------- */

typedef int (*msg_handler)(struct conn *c, const struct wire_msg *m,
			   char *why, size_t wl);

static const struct {
	int type;
	int states;
	msg_handler fn;
} dispatch[] = {
	{ WIRE_HELLO, CONN_HELLO, on_hello },
	{ WIRE_NEG, CONN_READY, on_neg },
	{ WIRE_FEEDS, CONN_READY, on_feeds },
	{ WIRE_WANT, CONN_READY, sync__on_want },
	{ WIRE_ENTRIES, CONN_READY, sync__on_entries },
	{ WIRE_ACK, CONN_READY, sync__on_ack },
	{ WIRE_KEEPALIVE, CONN_HELLO | CONN_READY, on_keepalive },
	{ WIRE_ERROR, CONN_HELLO | CONN_READY, on_error },
};

int sync_session_handle(struct conn *c, const struct wire_msg *m, char *why,
			size_t whylen)
{
	if (c->info) {
		c->info->msgs_in++;
		c->info->neg_in += m->type == WIRE_NEG;
	}
	for (size_t i = 0; i < sizeof(dispatch) / sizeof(dispatch[0]); i++) {
		if (dispatch[i].type != m->type)
			continue;
		if (!(dispatch[i].states & c->state)) {
			snprintf(why, whylen, "%s not allowed in this state",
				 wire_type_name(m->type));
			return HAMLET_EPROTO;
		}
		return dispatch[i].fn(c, m, why, whylen);
	}
	snprintf(why, whylen, "unknown message type %d", m->type);
	return HAMLET_EPROTO;
}

int sync_session_start(struct conn *c)
{
	struct config *cfg = &c->d->cfg;
	const char *scopes[CONFIG_MAX_SCOPES];
	struct mp_writer w;
	int r;
	for (size_t i = 0; i < cfg->nscopes; i++)
		scopes[i] = cfg->scopes[i];
	c->sy.rx_credit = SYNC_BATCH_FIRST;
	c->sy.rx_grant_ms = uv_now(c->d->loop);
	mp_writer_init(&w);
	if ((r = wire_put_hello(&w, c->d->node->pk, c->d->node->net.id, scopes,
				cfg->nscopes, SYNC_BATCH_FIRST)) == 0)
		r = sync__send_writer(c, &w);
	mp_writer_destroy(&w);
	return r;
}

void sync_session_close(struct conn *c)
{
	struct sync_session *s = &c->sy;
	reconcile_end(c);
	while (s->streams) {
		struct sync_stream *st = s->streams;
		s->streams = st->link;
		free(st);
	}
	s->streams_tail = NULL;
	s->nstreams = 0;
	if (s->rx_batch) {
		/* never committed: the peer sends it again next session */
		sync__batch_free(s->rx_batch);
		s->rx_batch = NULL;
	}
	free(s->held);
	s->held = NULL;
	s->held_len = 0;
	free(s->sent);
	s->sent = NULL;
	s->sent_n = s->sent_cap = 0;
}

/* --- live push --------------------------------------------------------- */

/*
 * A commit moved these feeds: tell every ready peer that shares their
 * scope. Costs O(feeds moved x peers), never a scan of the store.
 */
void sync_push(struct daemon *d, const struct log_advances *adv)
{
	struct wire_feed *out;

	if (d->stopping || adv->n == 0 ||
	    !(out = malloc(adv->n * sizeof(*out))))
		return;
	for (struct conn *c = d->conns; c; c = c->next) {
		size_t no = 0;
		if (c->closing || c->state != CONN_READY)
			continue;
		for (size_t i = 0; i < adv->n; i++) {
			if (!sync__scope_shared(c, adv->v[i].scope))
				continue;
			memcpy(out[no].key, adv->v[i].key, 32);
			out[no++].seq = adv->v[i].seq;
		}
		if (no)
			send_feeds(c, out, no, NULL, 0);
	}
	free(out);
}
