#include "sync.h"

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
static int send_writer(struct conn *c, struct mp_writer *w)
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
static int scope_shared(struct conn *c, const char *scope)
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
	if (f->seq == 0 || !scope_shared(cl->c, f->scope))
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
		    (r = send_writer(c, &w)) < 0)
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
		r = send_writer(c, &w);
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
			r = send_writer(c, &w);
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
			r = send_writer(c, &w);
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
		r = send_writer(c, &w);
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
			shared = scope_shared(c, f.scope);
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
				r = send_writer(c, &w);
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

static size_t sent_slot(const struct sync_sent *tab, size_t cap,
			const uint8_t key[32])
{
	uint64_t h;
	size_t i;
	memcpy(&h, key, 8); /* feed keys are hashes already */
	for (i = (size_t)h & (cap - 1);
	     tab[i].used && memcmp(tab[i].key, key, 32) != 0;
	     i = (i + 1) & (cap - 1))
		;
	return i;
}

/* The sent record of key; with create, made (upto 0) if missing. NULL
 * when absent, or when the table is at its cap or out of memory. */
static struct sync_sent *sent_find(struct sync_session *s,
				   const uint8_t key[32], int create)
{
	size_t i;
	if (s->sent_cap) {
		i = sent_slot(s->sent, s->sent_cap, key);
		if (s->sent[i].used)
			return &s->sent[i];
	}
	if (!create || s->sent_n >= SYNC_MAX_STREAMS)
		return NULL;
	if ((s->sent_n + 1) * 2 > s->sent_cap) {
		size_t nc = s->sent_cap ? s->sent_cap * 2 : 64;
		struct sync_sent *nt = calloc(nc, sizeof(*nt));
		if (!nt)
			return NULL;
		for (size_t k = 0; k < s->sent_cap; k++)
			if (s->sent[k].used)
				nt[sent_slot(nt, nc, s->sent[k].key)] =
					s->sent[k];
		free(s->sent);
		s->sent = nt;
		s->sent_cap = nc;
	}
	i = sent_slot(s->sent, s->sent_cap, key);
	memcpy(s->sent[i].key, key, 32);
	s->sent[i].upto = 0;
	s->sent[i].used = 1;
	s->sent_n++;
	return &s->sent[i];
}

static int on_want(struct conn *c, const struct wire_msg *m, char *why,
		   size_t wl)
{
	struct sync_session *s = &c->sy;
	struct sync_stream *st;
	struct sync_sent *ss;
	uint64_t from = m->want.seq + 1;
	/* a WANT can be stale: entries in flight are not committed yet */
	if ((ss = sent_find(s, m->want.key, 0)) && ss->upto >= from)
		from = ss->upto + 1;
	for (st = s->streams; st; st = st->link)
		if (memcmp(st->key, m->want.key, 32) == 0)
			return 0; /* already streaming it to the head */
	if (s->nstreams >= SYNC_MAX_STREAMS) {
		snprintf(why, wl, "over %d feeds wanted at once",
			 SYNC_MAX_STREAMS);
		return HAMLET_ETOOBIG;
	}
	if (!(st = calloc(1, sizeof(*st))))
		return -ENOMEM;
	memcpy(st->key, m->want.key, 32);
	st->next = from;
	if (s->streams_tail)
		s->streams_tail->link = st;
	else
		s->streams = st;
	s->streams_tail = st;
	s->nstreams++;
	sync_session_pump(c);
	return 0;
}

static int on_ack(struct conn *c, const struct wire_msg *m, char *why,
		  size_t wl)
{
	struct sync_session *s = &c->sy;
	if (!s->tx_waiting) {
		snprintf(why, wl, "ACK with no batch waiting for one");
		return HAMLET_EPROTO;
	}
	if (m->ack.count != s->tx_batch_n) {
		snprintf(why, wl, "ACK of %llu entries for a batch of %llu",
			 (unsigned long long)m->ack.count,
			 (unsigned long long)s->tx_batch_n);
		return HAMLET_EPROTO;
	}
	s->tx_waiting = 0;
	s->tx_batch_n = 0;
	s->tx_credit = m->ack.credit;
	if (c->info)
		c->info->last_sync_ms = peer_wall_ms();
	sync_session_pump(c);
	return 0;
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

/* --- receiving a batch ------------------------------------------------ */

/* One ENTRIES message of a batch: its entries' bytes, copied. */
struct batch_part {
	uint8_t *buf;
};

/* A batch being received, then committed through the ingest queue. */
struct sync_batch {
	struct ingest_job job;
	struct conn *c;
	struct batch_part *parts;
	size_t nparts, cap_parts;
	size_t n, cap; /* entries */
	size_t bytes;
	struct log_in *in;
	uint8_t (*feeds)[32];
	struct log_out *out;
};

static void batch_free(struct sync_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nparts; i++)
		free(b->parts[i].buf);
	free(b->parts);
	free(b->in);
	free(b->feeds);
	free(b->out);
	free(b);
}

/*
 * The size of the next batch: one batch is all a peer may have in flight,
 * so it is what a crash or a dropped link can cost. Grow it while full
 * batches arrive quickly (loopback, LAN), shrink it when one takes long
 * (2G), so that a batch takes about SYNC_BATCH_TARGET_MS.
 */
static uint64_t next_credit(uint64_t credit, const struct sync_batch *b,
			    uint64_t ms)
{
	int full = b->n >= credit || b->bytes >= SYNC_BATCH_BYTES;
	if (ms > 2 * SYNC_BATCH_TARGET_MS)
		credit /= 2;
	else if (full && ms < SYNC_BATCH_TARGET_MS / 2)
		credit *= 2;
	if (credit < SYNC_BATCH_MIN)
		credit = SYNC_BATCH_MIN;
	if (credit > SYNC_BATCH_MAX)
		credit = SYNC_BATCH_MAX;
	return credit;
}

/* The batch is committed: acknowledge it with the next credit. */
static void batch_acked(struct conn *c, const struct sync_batch *b)
{
	struct sync_session *s = &c->sy;
	const struct log_stats *st = &b->job.stats;
	struct mp_writer w;
	uint64_t now = uv_now(c->d->loop);

	if (st->forks)
		dlog(DLOG_WARNING,
		     "peer %s: a feed's author signed two histories; evidence kept",
		     c->name);
	s->rx_credit = next_credit(s->rx_credit, b, now - s->rx_grant_ms);
	s->rx_grant_ms = now;
	if (c->info) {
		c->info->entries_in += st->applied;
		c->info->entries_dup_in += st->duplicate;
		c->info->batches_in++;
		c->info->batch_credit = s->rx_credit;
		c->info->last_sync_ms = peer_wall_ms();
	}
	if (st->duplicate)
		dlog(DLOG_DEBUG,
		     "peer %s: %llu of %zu entries received were already stored",
		     c->name, (unsigned long long)st->duplicate, b->n);
	mp_writer_init(&w);
	if (wire_put_ack(&w, b->n, s->rx_credit) == 0)
		send_writer(c, &w);
	mp_writer_destroy(&w);
}

/* The ingest queue is done with a batch (committed, refused, cancelled). */
static void batch_done(struct ingest_job *job)
{
	struct sync_batch *b = job->data;
	struct conn *c = b->c;

	c->sy.rx_committing = 0;
	if (job->r == -ECANCELED || c->closing) {
		/* the session ended: the peer sends it again next time */
	} else if (job->fault) {
		peer_conn_fault(c, job->r < 0 ? job->r : HAMLET_EPROTO,
				job->why);
	} else if (job->r < 0) {
		/* our store failed, not the peer */
		dlog(DLOG_ERR, "peer %s: %s", c->name, job->why);
		peer_conn_close(c, "store error");
	} else {
		batch_acked(c, b);
	}
	peer_conn_unref(c);
	batch_free(b);
}

static int batch_grow(struct sync_batch *b, size_t n)
{
	if (b->nparts == b->cap_parts) {
		size_t nc = b->cap_parts ? b->cap_parts * 2 : 8;
		void *p = realloc(b->parts, nc * sizeof(*b->parts));
		if (!p)
			return -ENOMEM;
		b->parts = p;
		b->cap_parts = nc;
	}
	if (b->n + n > b->cap) {
		size_t nc = b->cap ? b->cap : 256;
		void *p;
		while (nc < b->n + n)
			nc *= 2;
		if (!(p = realloc(b->in, nc * sizeof(*b->in))))
			return -ENOMEM;
		b->in = p;
		if (!(p = realloc(b->feeds, nc * sizeof(*b->feeds))))
			return -ENOMEM;
		b->feeds = p;
		if (!(p = realloc(b->out, nc * sizeof(*b->out))))
			return -ENOMEM;
		b->out = p;
		b->cap = nc;
	}
	return 0;
}

/* Add one ENTRIES message to the open batch (copied: the message buffer
 * is reused for the next message). */
static int batch_add(struct sync_batch *b, const struct wire_msg *m)
{
	size_t n = m->entries.n, bytes = 0, off = 0;
	uint8_t *buf;

	for (size_t i = 0; i < n; i++)
		bytes += m->entries.v[i].env_len + ENTRY_SIG_LEN +
			 m->entries.v[i].body_len;
	if (batch_grow(b, n) < 0 || !(buf = malloc(bytes ? bytes : 1)))
		return -ENOMEM;
	b->parts[b->nparts++].buf = buf;
	for (size_t i = 0; i < n; i++) {
		const struct wire_entry *we = &m->entries.v[i];
		struct log_in *in = &b->in[b->n + i];
		memcpy(b->feeds[b->n + i], m->entries.key, 32);
		memcpy(buf + off, we->env, we->env_len);
		in->env = buf + off;
		in->env_len = we->env_len;
		off += we->env_len;
		memcpy(buf + off, we->sig, ENTRY_SIG_LEN);
		in->sig = buf + off;
		off += ENTRY_SIG_LEN;
		in->body = NULL;
		in->body_len = 0;
		if (we->body) {
			memcpy(buf + off, we->body, we->body_len);
			in->body = buf + off;
			in->body_len = we->body_len;
			off += we->body_len;
		}
	}
	b->n += n;
	b->bytes += bytes;
	return 0;
}

/* The batch is whole: hand it to the node's one writer. */
static int batch_commit(struct conn *c, struct sync_batch *b, char *why,
			size_t wl)
{
	struct sync_session *s = &c->sy;
	int r;

	s->rx_batch = NULL;
	if (b->n == 0) {
		/* an empty batch: nothing to store, acknowledge at once */
		batch_acked(c, b);
		batch_free(b);
		return 0;
	}
	b->job.kind = INGEST_ENTRIES;
	b->job.whole = 1;
	b->job.in = b->in;
	b->job.feeds = (const uint8_t(*)[32])b->feeds;
	b->job.n = b->n;
	b->job.out = b->out;
	b->job.data = b;
	if ((r = ingest_submit(c->d->ingest, &b->job, batch_done)) < 0) {
		batch_free(b);
		if (r == -EBUSY) {
			/* not the peer's fault: it re-sends next session */
			peer_conn_close(c, "the node is busy storing");
			return 0;
		}
		snprintf(why, wl, "cannot queue the batch: %s",
			 hamlet_strerror(r));
		return r;
	}
	s->rx_committing = 1;
	peer_conn_ref(c);
	return 0;
}

static int on_entries(struct conn *c, const struct wire_msg *m, char *why,
		      size_t wl)
{
	struct sync_session *s = &c->sy;
	struct sync_batch *b = s->rx_batch;
	size_t n = m->entries.n;

	if (s->rx_committing) {
		snprintf(why, wl,
			 "ENTRIES before the previous batch was acknowledged");
		return HAMLET_EPROTO;
	}
	if ((b ? b->n : 0) + n > s->rx_credit) {
		snprintf(why, wl,
			 "batch of more than the %llu entries granted",
			 (unsigned long long)s->rx_credit);
		return HAMLET_EPROTO;
	}
	if (b && b->bytes >= SYNC_BATCH_BYTES) {
		snprintf(why, wl, "batch goes on past %zu bytes",
			 SYNC_BATCH_BYTES);
		return HAMLET_EPROTO;
	}
	if (!b) {
		if (!(b = calloc(1, sizeof(*b))))
			return -ENOMEM;
		b->c = c;
		s->rx_batch = b;
	}
	if (n > 0 && batch_add(b, m) < 0)
		return -ENOMEM;
	if (!m->entries.last)
		return 0;
	return batch_commit(c, b, why, wl);
}

/* --- sending entries --------------------------------------------------- */

/* Send the held ENTRIES message, closing the batch or not. */
static int send_held(struct conn *c, int last)
{
	struct sync_session *s = &c->sy;
	int r;
	if (!s->held)
		return 0;
	wire_entries_set_last(s->held, s->held_len, last);
	r = peer_conn_send(c, s->held, s->held_len);
	free(s->held);
	s->held = NULL;
	s->held_len = 0;
	if (last) {
		s->tx_waiting = 1;
		s->tx_batch_bytes = 0;
	}
	return r;
}

/*
 * Stream queued feeds as one batch of at most tx_credit entries and
 * SYNC_BATCH_BYTES, then wait for its ACK. The newest message is held
 * back until we know whether another follows it, so the one that closes
 * the batch carries last = true and no empty message is needed.
 */
void sync_session_pump(struct conn *c)
{
	struct sync_session *s = &c->sy;
	size_t maxb = c->d->cfg.batch ? c->d->cfg.batch : WIRE_MAX_BATCH;
	struct wire_entry *v = NULL;
	int blocked = 0;

	if (maxb > WIRE_MAX_BATCH)
		maxb = WIRE_MAX_BATCH;
	if (c->closing || s->tx_waiting)
		return;
	while (!c->closing && s->streams && s->tx_credit > 0 &&
	       s->tx_batch_bytes < SYNC_BATCH_BYTES) {
		struct sync_stream *st = s->streams;
		struct store_txn *t = NULL;
		struct log_feed f;
		struct mp_writer w;
		struct sync_sent *ss;
		size_t n = 0, bytes = 0, lim = maxb, len;
		uint8_t *p;
		int r;

		if (c->wq_bytes >= SYNC_SEND_QUEUE) {
			blocked = 1; /* resumed when the socket drains */
			break;
		}
		if (lim > s->tx_credit)
			lim = (size_t)s->tx_credit;
		if (!v && !(v = malloc(WIRE_MAX_BATCH * sizeof(*v))))
			break;
		if ((r = store_txn_begin(c->d->node->st, 1, &t)) < 0)
			break;
		r = log_feed_get(t, st->key, &f);
		if (r == 0 && !scope_shared(c, f.scope))
			r = HAMLET_ENOTFOUND; /* never send outside shared scopes */
		while (r == 0 && n < lim && st->next + n <= f.seq &&
		       bytes < WIRE_BATCH_BYTES) {
			struct wire_entry *we = &v[n];
			struct entry e;
			if ((r = log_entry_get(t, st->key, st->next + n,
					       &we->env, &we->env_len,
					       &we->sig)) < 0 ||
			    (r = entry_decode(we->env, we->env_len, &e,
					      NULL)) < 0)
				break;
			we->body = NULL;
			we->body_len = 0;
			if (e.has_body &&
			    log_body_get(t, e.body_hash, &we->body,
					 &we->body_len) < 0) {
				we->body = NULL; /* redacted: send without */
				we->body_len = 0;
			}
			bytes += we->env_len + we->body_len + 80;
			n++;
		}
		if (n > 0) {
			mp_writer_init(&w);
			wire_put_entries_begin(&w, st->key, n);
			for (size_t i = 0; i < n; i++)
				wire_put_entry(&w, &v[i]);
			wire_put_entries_end(&w, 0);
			store_txn_abort(t);
			t = NULL;
			p = mp_writer_take(&w, &len);
			mp_writer_destroy(&w);
			if (!p || send_held(c, 0) < 0) {
				free(p);
				break;
			}
			s->held = p;
			s->held_len = len;
			st->next += n;
			s->tx_credit -= n;
			s->tx_batch_n += n;
			s->tx_batch_bytes += bytes;
			if ((ss = sent_find(s, st->key, 1)))
				ss->upto = st->next - 1;
			if (c->info)
				c->info->entries_out += n;
		}
		store_txn_abort(t);
		if (n == 0 || st->next > f.seq) {
			/* caught up on this feed (or it is gone) */
			s->streams = st->link;
			if (!s->streams)
				s->streams_tail = NULL;
			s->nstreams--;
			free(st);
		} else if (n < lim && bytes < WIRE_BATCH_BYTES) {
			break;
		}
	}
	free(v);
	/* close the batch unless only the socket holds us back */
	if (s->held && !c->closing && !blocked)
		send_held(c, 1);
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
	{ WIRE_WANT, CONN_READY, on_want },
	{ WIRE_ENTRIES, CONN_READY, on_entries },
	{ WIRE_ACK, CONN_READY, on_ack },
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
		r = send_writer(c, &w);
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
		batch_free(s->rx_batch);
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
			if (!scope_shared(c, adv->v[i].scope))
				continue;
			memcpy(out[no].key, adv->v[i].key, 32);
			out[no++].seq = adv->v[i].seq;
		}
		if (no)
			send_feeds(c, out, no, NULL, 0);
	}
	free(out);
}
