#include "sync.h"

#include "error.h"
#include "hamletd.h"
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

static int under_any(const char *scope, const char (*prefixes)[ENTRY_MAX_SCOPE + 1],
		     size_t n)
{
	if (n == 0)
		return 1; /* no prefixes: everything */
	for (size_t i = 0; i < n; i++)
		if (entry_scope_under(scope, prefixes[i]))
			return 1;
	return 0;
}

/* A feed both we and the peer subscribe to. */
static int scope_shared(struct conn *c, const char *scope)
{
	struct config *cfg = &c->d->cfg;
	return under_any(scope, (const char(*)[ENTRY_MAX_SCOPE + 1])cfg->scopes,
			 cfg->nscopes) &&
	       under_any(scope, (const char(*)[ENTRY_MAX_SCOPE + 1])c->sy.scopes,
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
	s->tx_credit = s->tx_credit_max = m->hello.credit;
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
	if (s->tx_credit + m->ack.count > s->tx_credit_max) {
		snprintf(why, wl, "ACK for more entries than were sent");
		return HAMLET_EPROTO;
	}
	s->tx_credit += m->ack.count;
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

/* --- ingest ------------------------------------------------------------ */

struct ingest_job {
	uv_work_t req;
	struct ingest_job *link;
	struct ingest_job *group; /* further jobs committed with this one */
	struct conn *c;
	struct daemon *d;
	uint8_t key[32];
	size_t n;
	struct log_in *in;
	struct log_out *out;
	uint8_t *buf;
	int r;
	int fault;
	char why[300];
	struct log_stats stats;
	uint64_t last_seq;
};

static void job_free(struct ingest_job *j)
{
	free(j->in);
	free(j->out);
	free(j->buf);
	free(j);
}

/* Check that a batch's entries belong to its feed and our scopes. */
static int job_check(struct ingest_job *j)
{
	struct daemon *d = j->d;
	for (size_t i = 0; i < j->n; i++) {
		struct entry e;
		uint8_t k[32];
		int r;
		if ((r = entry_decode(j->in[i].env, j->in[i].env_len, &e,
				      NULL)) < 0) {
			snprintf(j->why, sizeof(j->why),
				 "ENTRIES.batch[%zu]: envelope: %s", i,
				 hamlet_strerror(r));
			j->r = r;
			j->fault = 1;
			return r;
		}
		log_feed_key(e.author, e.scope, k);
		if (memcmp(k, j->key, 32) != 0 ||
		    !under_any(e.scope,
			       (const char(*)[ENTRY_MAX_SCOPE + 1])d->cfg.scopes,
			       d->cfg.nscopes)) {
			snprintf(j->why, sizeof(j->why),
				 "ENTRIES.batch[%zu] is not of the batch's feed or outside our scopes",
				 i);
			j->r = HAMLET_EPROTO;
			j->fault = 1;
			return j->r;
		}
	}
	return 0;
}

/* After the commit: a rejected entry is the peer's fault. */
static void job_results(struct ingest_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		if (j->out[i].status == LOG_REJECTED) {
			struct entry e;
			uint64_t seq = 0;
			if (entry_decode(j->in[i].env, j->in[i].env_len, &e,
					 NULL) == 0)
				seq = e.seq;
			snprintf(j->why, sizeof(j->why),
				 "ENTRIES.batch[%zu] (seq %llu) rejected: %s", i,
				 (unsigned long long)seq, j->out[i].why);
			j->r = j->out[i].err ? j->out[i].err : HAMLET_EPROTO;
			j->fault = 1;
			return;
		}
		if (j->out[i].seq > j->last_seq)
			j->last_seq = j->out[i].seq;
	}
}

/*
 * On the thread pool: check each batch of the group, then verify and
 * commit the good ones in ONE transaction (fewer fsyncs, and a larger
 * set of signatures to spread over the cores). Touches no daemon state
 * but the jobs.
 */
static void ingest_work(uv_work_t *req)
{
	struct ingest_job *first = req->data, *j, *stop = NULL;
	struct log_in *in = NULL;
	struct log_out *out = NULL;
	struct log_stats st = { 0 };
	size_t total = 0, off = 0;
	int r;

	for (j = first; j; j = j->group) {
		if (job_check(j) < 0) {
			stop = j; /* this batch and those after it wait */
			break;
		}
		total += j->n;
	}
	for (j = stop ? stop->group : NULL; j; j = j->group) {
		j->r = -ECANCELED;
		snprintf(j->why, sizeof(j->why), "an earlier batch was refused");
	}
	if (total == 0)
		return;
	if (first->group == NULL || first->group == stop) {
		/* a single batch: no copy */
		in = first->in;
		out = first->out;
	} else if (!(in = malloc(total * sizeof(*in))) ||
		   !(out = malloc(total * sizeof(*out)))) {
		free(in);
		for (j = first; j != stop; j = j->group) {
			j->r = -ENOMEM;
			snprintf(j->why, sizeof(j->why), "out of memory");
		}
		return;
	} else {
		for (j = first; j != stop; j = j->group) {
			memcpy(in + off, j->in, j->n * sizeof(*in));
			off += j->n;
		}
	}
	r = log_ingest(first->d->node->st, first->d->node->net.id, in, total,
		       out, &st);
	off = 0;
	for (j = first; j != stop; j = j->group) {
		j->r = r;
		if (r < 0) {
			snprintf(j->why, sizeof(j->why),
				 "cannot store a batch: %s", hamlet_strerror(r));
			continue;
		}
		if (out != first->out)
			memcpy(j->out, out + off, j->n * sizeof(*out));
		off += j->n;
		/* per-batch figures for the ACK and the peer's counters */
		for (size_t i = 0; i < j->n; i++) {
			if (j->out[i].status == LOG_APPLIED)
				j->stats.applied++;
			else if (j->out[i].status == LOG_DUPLICATE)
				j->stats.duplicate++;
			else if (j->out[i].status == LOG_FORK)
				j->stats.forks++;
		}
		job_results(j);
	}
	(void)st;
	if (in != first->in) {
		free(in);
		free(out);
	}
}

static void ingest_next(struct daemon *d);

/* Deliver one committed (or refused) batch to its session. */
static void job_finish(struct ingest_job *j, int status)
{
	struct conn *c = j->c;

	c->sy.pending_jobs--;
	if (status == 0 && !c->closing && j->r != -ECANCELED) {
		if (j->r < 0 && j->fault) {
			peer_conn_fault(c, j->r, j->why);
		} else if (j->r < 0) {
			/* our store failed, not the peer */
			dlog(DLOG_ERR, "peer %s: %s", c->name, j->why);
			peer_conn_close(c, "store error");
		} else {
			struct mp_writer w;
			if (j->stats.forks)
				dlog(DLOG_WARNING,
				     "peer %s: a feed's author signed two histories; evidence kept",
				     c->name);
			c->sy.rx_credit += j->n;
			if (c->info) {
				c->info->entries_in += j->stats.applied;
				c->info->entries_dup_in += j->stats.duplicate;
				c->info->last_sync_ms = peer_wall_ms();
			}
			if (j->stats.duplicate)
				dlog(DLOG_DEBUG,
				     "peer %s: %llu of %zu entries received were already stored",
				     c->name,
				     (unsigned long long)j->stats.duplicate,
				     j->n);
			mp_writer_init(&w);
			if (wire_put_ack(&w, j->key, j->n, j->last_seq) == 0)
				send_writer(c, &w);
			mp_writer_destroy(&w);
			if (c->sy.pending_jobs <= SYNC_MAX_JOBS / 2)
				peer_conn_pause(c, 0);
		}
	}
	peer_conn_unref(c);
	job_free(j);
}

static void ingest_done(uv_work_t *req, int status)
{
	struct ingest_job *j = req->data;
	struct daemon *d = j->d;
	int ok = 1;

	d->ingest_busy = 0;
	while (j) {
		struct ingest_job *next = j->group;
		if (j->r < 0)
			ok = 0;
		job_finish(j, status);
		j = next;
	}
	if (!d->stopping) {
		if (ok)
			sync_heads_check(d);
		ingest_next(d);
	}
}

static void ingest_next(struct daemon *d)
{
	struct ingest_job *j = d->jobs_head;
	int r;
	if (d->ingest_busy || !j || d->stopping)
		return;
	d->jobs_head = j->link;
	/* commit the batches queued behind it from the same session too */
	{
		struct ingest_job *last = j;
		size_t total = j->n, count = 1;
		while (d->jobs_head && d->jobs_head->c == j->c &&
		       total + d->jobs_head->n <= LOG_MAX_BATCH &&
		       count < SYNC_MAX_JOBS) {
			struct ingest_job *x = d->jobs_head;
			d->jobs_head = x->link;
			last->group = x;
			last = x;
			total += x->n;
			count++;
		}
		last->group = NULL;
	}
	if (!d->jobs_head)
		d->jobs_tail = NULL;
	d->ingest_busy = 1;
	j->req.data = j;
	if ((r = uv_queue_work(d->loop, &j->req, ingest_work, ingest_done)) <
	    0) {
		d->ingest_busy = 0;
		while (j) {
			struct ingest_job *next = j->group;
			j->c->sy.pending_jobs--;
			peer_conn_close(j->c, "cannot queue work");
			peer_conn_unref(j->c);
			job_free(j);
			j = next;
		}
	}
}

void sync_jobs_cancel(struct daemon *d)
{
	while (d->jobs_head) {
		struct ingest_job *j = d->jobs_head;
		d->jobs_head = j->link;
		j->c->sy.pending_jobs--;
		peer_conn_unref(j->c);
		job_free(j);
	}
	d->jobs_tail = NULL;
}

static int on_entries(struct conn *c, const struct wire_msg *m, char *why,
		      size_t wl)
{
	struct sync_session *s = &c->sy;
	struct ingest_job *j;
	size_t n = m->entries.n, bytes = 0, off = 0;

	if (n > s->rx_credit) {
		snprintf(why, wl, "ENTRIES of %zu entries over the %llu granted",
			 n, (unsigned long long)s->rx_credit);
		return HAMLET_EPROTO;
	}
	s->rx_credit -= n;
	for (size_t i = 0; i < n; i++)
		bytes += m->entries.v[i].env_len + ENTRY_SIG_LEN +
			 m->entries.v[i].body_len;
	if (!(j = calloc(1, sizeof(*j))) ||
	    !(j->in = calloc(n, sizeof(*j->in))) ||
	    !(j->out = calloc(n, sizeof(*j->out))) ||
	    !(j->buf = malloc(bytes ? bytes : 1))) {
		if (j)
			job_free(j);
		return -ENOMEM;
	}
	/* copy: the message buffer is reused for the next message */
	for (size_t i = 0; i < n; i++) {
		const struct wire_entry *we = &m->entries.v[i];
		struct log_in *in = &j->in[i];
		memcpy(j->buf + off, we->env, we->env_len);
		in->env = j->buf + off;
		in->env_len = we->env_len;
		off += we->env_len;
		memcpy(j->buf + off, we->sig, ENTRY_SIG_LEN);
		in->sig = j->buf + off;
		off += ENTRY_SIG_LEN;
		if (we->body) {
			memcpy(j->buf + off, we->body, we->body_len);
			in->body = j->buf + off;
			in->body_len = we->body_len;
			off += we->body_len;
		}
	}
	j->c = c;
	j->d = c->d;
	j->n = n;
	memcpy(j->key, m->entries.key, 32);
	peer_conn_ref(c);
	s->pending_jobs++;
	if (c->d->jobs_tail)
		c->d->jobs_tail->link = j;
	else
		c->d->jobs_head = j;
	c->d->jobs_tail = j;
	if (s->pending_jobs >= SYNC_MAX_JOBS)
		peer_conn_pause(c, 1);
	ingest_next(c->d);
	return 0;
}

/* --- sending entries --------------------------------------------------- */

void sync_session_pump(struct conn *c)
{
	struct sync_session *s = &c->sy;
	size_t maxb = c->d->cfg.batch ? c->d->cfg.batch : WIRE_MAX_BATCH;
	struct wire_entry *v = NULL;

	if (maxb > WIRE_MAX_BATCH)
		maxb = WIRE_MAX_BATCH;
	while (!c->closing && s->streams && s->tx_credit > 0 &&
	       c->wq_bytes < SYNC_SEND_QUEUE) {
		struct sync_stream *st = s->streams;
		struct store_txn *t = NULL;
		struct log_feed f;
		struct mp_writer w;
		struct sync_sent *ss;
		size_t n = 0, bytes = 0, lim = maxb;
		int r;

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
			store_txn_abort(t);
			t = NULL;
			r = send_writer(c, &w);
			mp_writer_destroy(&w);
			if (r < 0)
				break;
			st->next += n;
			s->tx_credit -= n;
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
	c->sy.rx_credit = SYNC_CREDIT;
	mp_writer_init(&w);
	if ((r = wire_put_hello(&w, c->d->node->pk, c->d->node->net.id, scopes,
				cfg->nscopes, SYNC_CREDIT)) == 0)
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
	free(s->sent);
	s->sent = NULL;
	s->sent_n = s->sent_cap = 0;
}

/* --- live push --------------------------------------------------------- */

struct heads_ctx {
	struct wire_feed *v;
	size_t n, cap;
	char (*scopes)[ENTRY_MAX_SCOPE + 1];
};

static int heads_collect(void *ctx, const struct log_feed *f)
{
	struct heads_ctx *h = ctx;
	if (h->n == h->cap) {
		size_t nc = h->cap ? h->cap * 2 : 256;
		void *p = realloc(h->v, nc * sizeof(*h->v));
		void *q = realloc(h->scopes, nc * sizeof(*h->scopes));
		if (p)
			h->v = p;
		if (q)
			h->scopes = q;
		if (!p || !q)
			return -ENOMEM;
		h->cap = nc;
	}
	memcpy(h->v[h->n].key, f->key, 32);
	h->v[h->n].seq = f->seq;
	snprintf(h->scopes[h->n], sizeof(h->scopes[0]), "%s", f->scope);
	h->n++;
	return 0;
}

static uint64_t heads_seq(const struct sync_heads *hs, const uint8_t key[32])
{
	/* feeds come in key order: binary search */
	size_t lo = 0, hi = hs->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(hs->v[mid].key, key, 32);
		if (c == 0)
			return hs->v[mid].seq;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void sync_heads_check(struct daemon *d)
{
	struct heads_ctx h = { 0 };
	struct store_txn *t;
	size_t *changed = NULL, nch = 0;
	struct wire_feed *out = NULL;
	int first = !d->heads.primed, r;

	if (store_txn_begin(d->node->st, 1, &t) < 0)
		return;
	r = log_feeds_each(t, heads_collect, &h);
	store_txn_abort(t);
	if (r < 0 || !(changed = malloc((h.n + 1) * sizeof(*changed))) ||
	    !(out = malloc((h.n + 1) * sizeof(*out))))
		goto out;
	for (size_t i = 0; i < h.n; i++)
		if (h.v[i].seq > heads_seq(&d->heads, h.v[i].key))
			changed[nch++] = i;
	free(d->heads.v);
	d->heads.v = h.v;
	d->heads.n = h.n;
	d->heads.primed = 1;
	h.v = NULL;
	if (first || nch == 0)
		goto out;
	for (struct conn *c = d->conns; c; c = c->next) {
		size_t no = 0;
		if (c->closing || c->state != CONN_READY)
			continue;
		for (size_t k = 0; k < nch; k++) {
			size_t i = changed[k];
			if (!scope_shared(c, h.scopes[i]))
				continue;
			out[no++] = d->heads.v[i];
		}
		if (no)
			send_feeds(c, out, no, NULL, 0);
	}
out:
	free(h.v);
	free(h.scopes);
	free(changed);
	free(out);
}

void sync_heads_close(struct daemon *d)
{
	free(d->heads.v);
	d->heads.v = NULL;
	d->heads.n = 0;
}
