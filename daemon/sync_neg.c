/*
 * sync: reconciliation. Listing the shared feeds and running Negentropy
 * over them costs O(feeds), so it never runs on the event loop: each step
 * is a job on the thread pool (reads only; LMDB readers run beside the
 * writer), one at a time per session, and its answer is sent from the
 * loop when it is done.
 */
#include "sync.h"

#include "conn.h"
#include "daemon.h"
#include "dlog.h"
#include "entries.h"
#include "error.h"
#include "heads.h"
#include "hlc.h"
#include "log.h"
#include "peer.h"
#include "peerbase.h"
#include "scopemap.h"
#include "sync_internal.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEG_FRAME_LIMIT 50000 /* below WIRE_MAX_NEG */
#define NEG_MAX_JOBS 8	      /* reconciliation steps queued per session */

enum neg_kind {
	NJ_INITIATE = 1, /* client: list feeds, first NEG */
	NJ_CLIENT,	 /* client: the server's NEG, our next */
	NJ_SERVER,	 /* server: a client's NEG, our answer */
	NJ_ANNOUNCE,	 /* server: every shared head in FEEDS */
	NJ_IDS,		 /* the heads of the feeds the peer named by id */
	NJ_SINCE,	 /* our basis with the peer, what moved since: SINCE */
	NJ_STATE,	 /* the digest of the shared heads: STATE */
};

struct sync_neg_job {
	uv_work_t work;
	struct conn *c;
	/* the node's scope moves as the job started: its own hold, as the
	 * loop may replace the node's map meanwhile */
	struct scopemap *map;
	struct sync_neg_job *next;
	int kind;
	uint8_t *in; /* a NEG payload, or ids (32 bytes each) */
	size_t in_len;
	/* NJ_IDS: the answer on_feeds began, and whether it asked for more */
	struct wire_feed *reply;
	size_t nreply;
	size_t wanted;
	/* results */
	int r;
	char why[200];
	uint8_t *out; /* NEG to send */
	size_t out_len;
	struct wire_feed *feeds; /* FEEDS to send */
	size_t nfeeds;
	struct neg_idlist need; /* ids to ask for */
	int finished;		/* client: the reconciliation is over */
	/* NJ_SINCE: the basis named (has_basis) and its version; NJ_STATE:
	 * the digest (in basis), the store's version and its last local
	 * seq; both: the sharing context */
	int has_basis;
	uint8_t basis[32];
	uint8_t ctx[32];
	uint64_t version, lseq;
	uint64_t cost_ns; /* how long the step ran */
};

/* --- items (on the thread pool) ---------------------------------------- */

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
	const struct sync_neg_job *j;
	struct sync_item *v;
	size_t n, cap;
};

static int collect_feed(void *ctx, const struct log_feed *f)
{
	struct collect *cl = ctx;
	/* the session's scopes are fixed for it, and the map is the job's */
	if (f->seq == 0 || !sync__scope_shared_in(cl->j->c, cl->j->map, f->scope))
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

static int item_id_cmp(const void *a, const void *b)
{
	const struct sync_item *x = a, *y = b;
	return memcmp(x->item.id, y->item.id, 32);
}

/* Every shared feed in t as an item list (*ret, caller frees), in
 * Negentropy's order, or by id for look-ups. */
static int items_collect(const struct sync_neg_job *j, struct store_txn *t,
			 int by_id, struct sync_item **ret, size_t *ret_n)
{
	struct collect cl = { .j = j };
	int r = log_feeds_each(t, collect_feed, &cl);
	if (r < 0) {
		free(cl.v);
		return r;
	}
	if (cl.n)
		qsort(cl.v, cl.n, sizeof(*cl.v), by_id ? item_id_cmp : item_cmp);
	*ret = cl.v;
	*ret_n = cl.n;
	return 0;
}

/* items_collect() in a read transaction of its own. */
static int items_build(const struct sync_neg_job *j, int by_id,
		       struct sync_item **ret, size_t *ret_n)
{
	struct store_txn *t = NULL;
	int r;
	if ((r = store_txn_begin(j->c->d->node->st, 1, &t)) < 0)
		return r;
	r = items_collect(j, t, by_id, ret, ret_n);
	store_txn_abort(t);
	return r;
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

/* In items sorted by id. */
static const struct sync_item *items_find(const struct sync_item *v, size_t n,
					  const uint8_t id[32])
{
	struct sync_item key;
	if (n == 0)
		return NULL;
	memcpy(key.item.id, id, 32);
	return bsearch(&key, v, n, sizeof(*v), item_id_cmp);
}

/* Append the head of every item named in ids to feeds (room for n). */
static void heads_of(const struct sync_item *byid, size_t nitems,
		     const uint8_t (*ids)[32], size_t n,
		     struct wire_feed *feeds, size_t *nfeeds)
{
	for (size_t i = 0; i < n; i++) {
		const struct sync_item *it = items_find(byid, nitems, ids[i]);
		if (!it)
			continue;
		memcpy(feeds[*nfeeds].key, it->key, 32);
		feeds[(*nfeeds)++].seq = it->seq;
	}
}

/* --- the steps (on the thread pool) ------------------------------------ */

/* The scope moves of t's trust set for j, in place of those it started
 * with: a basis names the trust set it was read under (sync__context),
 * so its feeds are the ones that set shares, not those of the map the
 * loop held when the step started (a move may have committed since). */
static int map_of_txn(struct sync_neg_job *j, struct store_txn *t)
{
	struct scopemap *m = NULL;
	int r = scopemap_load(t, &m);

	if (r < 0)
		return r;
	scopemap_free(j->map);
	j->map = m;
	return 0;
}

static int step_initiate(struct sync_neg_job *j)
{
	struct sync_session *s = &j->c->sy;
	struct sync_item *v;
	size_t n;
	int r;
	if ((r = items_build(j, 0, &v, &n)) < 0)
		return r;
	if (!(s->nitems = items_neg(v, n))) {
		free(v);
		return -ENOMEM;
	}
	/* keep the items by id, to name the feeds the answers mention */
	if (n)
		qsort(v, n, sizeof(*v), item_id_cmp);
	s->items = v;
	s->nitems_n = n;
	if ((r = negentropy_new(s->nitems, n, NEG_FRAME_LIMIT, &s->ng)) < 0)
		return r;
	return negentropy_initiate(s->ng, &j->out, &j->out_len);
}

/* The peer's NEG did not parse: its fault, named. */
static void bad_neg(struct sync_neg_job *j, int r)
{
	snprintf(j->why, sizeof(j->why), "NEG: bad reconciliation message: %s",
		 hamlet_strerror(r));
}

static int step_client(struct sync_neg_job *j)
{
	struct sync_session *s = &j->c->sy;
	struct neg_idlist have = { 0 };
	int r;
	if ((r = negentropy_reconcile_client(s->ng, j->in, j->in_len, &have,
					     &j->need, &j->out,
					     &j->out_len)) < 0) {
		bad_neg(j, r);
		goto out;
	}
	j->finished = j->out == NULL;
	if (have.n && !(j->feeds = malloc(have.n * sizeof(*j->feeds)))) {
		r = -ENOMEM;
		goto out;
	}
	heads_of(s->items, s->nitems_n, (const uint8_t(*)[32])have.ids,
		 have.n, j->feeds, &j->nfeeds);
out:
	negentropy_idlist_close(&have);
	return r;
}

static int step_server(struct sync_neg_job *j)
{
	struct sync_item *v = NULL;
	struct neg_item *ni = NULL;
	struct negentropy *ng = NULL;
	size_t n;
	int r;
	if ((r = items_build(j, 0, &v, &n)) < 0)
		return r;
	if (!(ni = items_neg(v, n))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = negentropy_new(ni, n, NEG_FRAME_LIMIT, &ng)) < 0)
		goto out;
	if ((r = negentropy_reconcile(ng, j->in, j->in_len, &j->out,
				      &j->out_len)) < 0)
		bad_neg(j, r);
out:
	negentropy_free(ng);
	free(ni);
	free(v);
	return r;
}

static int step_announce(struct sync_neg_job *j)
{
	struct sync_item *v = NULL;
	size_t n;
	int r;
	if ((r = items_build(j, 0, &v, &n)) < 0)
		return r;
	if (n && !(j->feeds = malloc(n * sizeof(*j->feeds)))) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(j->feeds[i].key, v[i].key, 32);
		j->feeds[i].seq = v[i].seq;
	}
	j->nfeeds = n;
	free(v);
	return 0;
}

static int step_ids(struct sync_neg_job *j)
{
	struct sync_item *v = NULL;
	size_t n;
	int r;
	if ((r = items_build(j, 1, &v, &n)) < 0)
		return r;
	/* j->reply has room for the ids: on_feeds sized it so */
	heads_of(v, n, (const uint8_t(*)[32])j->in, j->in_len / 32, j->reply,
		 &j->nreply);
	free(v);
	return 0;
}

/* The feeds moved since the basis, while they fit one SINCE. */
struct since_walk {
	const struct sync_neg_job *j;
	struct store_txn *t;
	struct wire_feed *v;
	size_t n, scanned;
};

static int since_feed(void *ctx, const uint8_t key[32])
{
	struct since_walk *w = ctx;
	struct log_feed f;
	int r;
	if (++w->scanned > SYNC_SINCE_SCAN_MAX)
		return 1; /* too much moved: reconcile in full */
	if ((r = log_feed_get(w->t, key, &f)) == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	if (f.seq == 0 || !sync__scope_shared_in(w->j->c, w->j->map, f.scope))
		return 0;
	if (w->n == WIRE_MAX_FEEDS)
		return 1;
	memcpy(w->v[w->n].key, key, 32);
	w->v[w->n++].seq = f.seq;
	return 0;
}

/*
 * Our basis with the peer, when we keep one made under this session's
 * sharing context and our store is not older than it, and the shared
 * feeds whose heads moved since: one read transaction, so nothing moved
 * after it is missed (what commits later is pushed, SPEC 5.8).
 */
static int step_since(struct sync_neg_job *j)
{
	struct conn *c = j->c;
	struct store_txn *t = NULL;
	struct heads_totals tot = { 0 };
	struct peerbase b;
	struct since_walk w = { j, NULL, NULL, 0, 0 };
	int r;

	if ((r = store_txn_begin(c->d->node->st, 1, &t)) < 0)
		return r;
	w.t = t;
	if ((r = sync__context(c, t, j->ctx)) < 0 ||
	    (r = map_of_txn(j, t)) < 0)
		goto out;
	if ((r = heads_totals_get(t, &tot)) < 0 && r != HAMLET_ENOTFOUND)
		goto out;
	if ((r = peerbase_get(t, c->rpk, &b)) == HAMLET_ENOTFOUND) {
		r = 0;
		goto out;
	}
	if (r < 0 || memcmp(b.ctx, j->ctx, 32) != 0 ||
	    b.version > tot.version)
		goto out;
	if (!(w.v = malloc(WIRE_MAX_FEEDS * sizeof(*w.v)))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = heads_moved_since(t, b.version, since_feed, &w)) == 0) {
		j->has_basis = 1;
		j->version = b.version;
		memcpy(j->basis, b.digest, 32);
		j->feeds = w.v;
		j->nfeeds = w.n;
		w.v = NULL;
	}
out:
	store_txn_abort(t);
	free(w.v);
	return r < 0 ? r : 0;
}

/* The digest of every shared head, and the store version and last local
 * seq it was read at, in one read transaction. */
static int step_state(struct sync_neg_job *j)
{
	struct store_txn *t = NULL;
	struct heads_totals tot = { 0 };
	struct sync_item *v = NULL;
	size_t n = 0;
	int r;

	if ((r = store_txn_begin(j->c->d->node->st, 1, &t)) < 0)
		return r;
	if ((r = heads_totals_get(t, &tot)) < 0 && r != HAMLET_ENOTFOUND)
		goto out;
	if ((r = sync__context(j->c, t, j->ctx)) < 0 ||
	    (r = map_of_txn(j, t)) < 0 ||
	    (r = entries_last_lseq(t, &j->lseq)) < 0 ||
	    (r = items_collect(j, t, 1, &v, &n)) < 0)
		goto out;
	sync__heads_digest(v, n, j->basis);
	j->version = tot.version;
out:
	store_txn_abort(t);
	free(v);
	return r;
}

static void job_work(uv_work_t *w)
{
	struct sync_neg_job *j = w->data;
	uint64_t t0 = uv_hrtime();
	switch (j->kind) {
	case NJ_INITIATE: j->r = step_initiate(j); break;
	case NJ_CLIENT: j->r = step_client(j); break;
	case NJ_SERVER: j->r = step_server(j); break;
	case NJ_ANNOUNCE: j->r = step_announce(j); break;
	case NJ_IDS: j->r = step_ids(j); break;
	case NJ_SINCE: j->r = step_since(j); break;
	case NJ_STATE: j->r = step_state(j); break;
	}
	j->cost_ns = uv_hrtime() - t0;
}

/* --- on the loop --------------------------------------------------------- */

static void job_free(struct sync_neg_job *j)
{
	free(j->in);
	free(j->reply);
	free(j->out);
	free(j->feeds);
	negentropy_idlist_close(&j->need);
	scopemap_free(j->map);
	free(j);
}

static int send_neg(struct conn *c, const uint8_t *p, size_t n)
{
	struct mp_writer w;
	int r;
	mp_writer_init(&w);
	if ((r = wire_put_neg(&w, p, n)) == 0)
		r = sync__send_writer(c, &w);
	mp_writer_destroy(&w);
	return r;
}

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

/* --- heads that differ at one seq (SPEC 5.6) --------------------------- */

static int diff_cmp(const void *a, const void *b)
{
	return memcmp(((const struct sync_diff *)a)->key,
		      ((const struct sync_diff *)b)->key, 32);
}

static struct sync_diff *diff_find(struct sync_session *s,
				   const uint8_t key[32])
{
	struct sync_diff k;
	if (!s->ndiff)
		return NULL;
	memcpy(k.key, key, 32);
	return bsearch(&k, s->diff, s->ndiff, sizeof(k), diff_cmp);
}

/* Keep the heads of ours the peer lacks, as this reconciliation step
 * found them; those the peer was behind on are dropped first. Past
 * SYNC_DIFF_MAX the rest wait for a later reconciliation. */
static void diff_note(struct sync_session *s, const struct wire_feed *v,
		      size_t n)
{
	size_t k = 0, old;
	struct sync_diff *d;
	for (size_t i = 0; i < s->ndiff; i++)
		if (s->diff[i].state != SYNC_DIFF_GONE)
			s->diff[k++] = s->diff[i];
	s->ndiff = old = k;
	if (n && k < SYNC_DIFF_MAX) {
		size_t cap = k + n < SYNC_DIFF_MAX ? k + n : SYNC_DIFF_MAX;
		if (!(d = realloc(s->diff, cap * sizeof(*d))))
			return; /* found later, by the next reconciliation */
		s->diff = d;
	}
	for (size_t i = 0; i < n; i++) {
		struct sync_diff key;
		memcpy(key.key, v[i].key, 32);
		d = old ? bsearch(&key, s->diff, old, sizeof(key), diff_cmp)
			: NULL;
		if (d) {
			if (d->state == SYNC_DIFF_OPEN)
				d->seq = v[i].seq;
			continue;
		}
		if (s->ndiff == SYNC_DIFF_MAX || s->ndiff == old + n)
			break;
		d = &s->diff[s->ndiff++];
		memcpy(d->key, v[i].key, 32);
		d->seq = v[i].seq;
		d->state = SYNC_DIFF_OPEN;
	}
	if (s->ndiff > 1)
		qsort(s->diff, s->ndiff, sizeof(*s->diff), diff_cmp);
}

int sync__diff_take(struct conn *c, const uint8_t key[32], uint64_t seq)
{
	struct sync_diff *d = diff_find(&c->sy, key);
	if (!d || d->state != SYNC_DIFF_OPEN || d->seq != seq)
		return 0;
	d->state = SYNC_DIFF_ASKED;
	return 1;
}

void sync__diff_drop(struct conn *c, const uint8_t key[32])
{
	struct sync_diff *d = diff_find(&c->sy, key);
	if (d && d->state == SYNC_DIFF_OPEN)
		d->state = SYNC_DIFF_GONE;
}

/* Send what a finished step produced. */
static int job_answer(struct conn *c, struct sync_neg_job *j)
{
	struct sync_session *s = &c->sy;
	int r = 0;

	switch (j->kind) {
	case NJ_INITIATE:
		return send_neg(c, j->out, j->out_len);
	case NJ_CLIENT:
		diff_note(s, j->feeds, j->nfeeds);
		/* the server lacks our heads there: it asks for them */
		sync__offered(c, j->feeds, j->nfeeds);
		if ((r = sync__send_feeds(c, j->feeds, j->nfeeds,
					  (const uint8_t(*)[32])j->need.ids,
					  j->need.n)) < 0)
			return r;
		if (!j->finished)
			return send_neg(c, j->out, j->out_len);
		reconcile_end(c);
		if (c->info)
			c->info->last_sync_ms = peer_wall_ms();
		return s->again ? sync_session_reconcile(c) : 0;
	case NJ_SERVER:
		if (c->info)
			c->info->last_sync_ms = peer_wall_ms();
		return j->out_len ? send_neg(c, j->out, j->out_len) : 0;
	case NJ_ANNOUNCE:
		/* no shared head to announce draws no answer: the STATEs
		 * say whether the two sides agree */
		if (!j->nfeeds) {
			sync__state_agree_now(c);
			return 0;
		}
		return sync__send_feeds(c, j->feeds, j->nfeeds, NULL, 0);
	case NJ_IDS:
		return sync__feeds_answer(c, j->reply, j->nreply, j->wanted, 1);
	case NJ_SINCE:
		return sync__since_ready(c, j->has_basis ? j->basis : NULL,
					 j->ctx, j->version, j->feeds,
					 j->nfeeds);
	case NJ_STATE:
		return sync__state_ready(c, j->basis, j->ctx, j->version,
					 j->lseq, j->cost_ns / 1000000);
	}
	return 0;
}

static void job_start(struct conn *c);

static void job_after(uv_work_t *w, int status)
{
	struct sync_neg_job *j = w->data;
	struct conn *c = j->c;
	struct sync_session *s = &c->sy;
	int r = j->r;

	s->neg_busy = 0;
	if (status < 0 || c->closing) {
		if (j->kind == NJ_INITIATE || j->kind == NJ_CLIENT)
			reconcile_end(c);
	} else if (r < 0 && j->why[0]) {
		peer_conn_fault(c, r, j->why);
	} else if (r < 0 || (r = job_answer(c, j)) < 0) {
		if (j->kind == NJ_INITIATE || j->kind == NJ_CLIENT)
			reconcile_end(c);
		dlog(DLOG_WARNING, _("peer %s: reconciliation: %s"), c->name,
		     _(hamlet_strerror(r)));
		peer_conn_close(c, N_("reconciliation failed"));
	}
	job_free(j);
	if (!c->closing)
		job_start(c);
	peer_conn_unref(c);
}

/* Run the next queued step, if none runs. */
static void job_start(struct conn *c)
{
	struct sync_session *s = &c->sy;
	struct sync_neg_job *j = s->neg_head;
	int r;
	if (s->neg_busy || !j)
		return;
	s->neg_head = j->next;
	if (!s->neg_head)
		s->neg_tail = NULL;
	s->neg_n--;
	j->work.data = j;
	j->map = scopemap_ref(c->d->node->smap);
	peer_conn_ref(c);
	s->neg_busy = 1;
	if ((r = uv_queue_work(c->d->loop, &j->work, job_work, job_after)) < 0) {
		s->neg_busy = 0;
		peer_conn_unref(c);
		job_free(j);
		peer_conn_close(c, N_("cannot queue work"));
	}
}

/* Queue a step; in (may be NULL) is copied. Over NEG_MAX_JOBS steps
 * waiting is the peer's fault: why says so. */
static int job_queue(struct conn *c, int kind, const void *in, size_t len,
		     char *why, size_t wl, struct sync_neg_job **ret)
{
	struct sync_session *s = &c->sy;
	struct sync_neg_job *j;
	if (s->neg_n >= NEG_MAX_JOBS) {
		snprintf(why, wl, "over %d reconciliation messages at once",
			 NEG_MAX_JOBS);
		return HAMLET_ETOOBIG;
	}
	if (!(j = calloc(1, sizeof(*j))) ||
	    (len && !(j->in = malloc(len)))) {
		free(j);
		return -ENOMEM;
	}
	if (len)
		memcpy(j->in, in, len);
	j->in_len = len;
	j->c = c;
	j->kind = kind;
	if (s->neg_tail)
		s->neg_tail->next = j;
	else
		s->neg_head = j;
	s->neg_tail = j;
	s->neg_n++;
	if (ret)
		*ret = j;
	return 0;
}

/* --- entry points ---------------------------------------------------------- */

int sync_session_reconcile(struct conn *c)
{
	struct sync_session *s = &c->sy;
	char why[80];
	int r;

	if (c->state != CONN_READY)
		return 0;
	if (!c->initiator) {
		/* the responder's "sync now": announce every shared head;
		 * the peer answers WANT where behind, FEEDS where ahead */
		if ((r = job_queue(c, NJ_ANNOUNCE, NULL, 0, why, sizeof(why),
				   NULL)) < 0)
			return r == HAMLET_ETOOBIG ? 0 : r; /* one is queued */
		job_start(c);
		return 0;
	}
	if (s->reconciling) {
		s->again = 1;
		return 0;
	}
	s->again = 0;
	s->last_reconcile = uv_now(c->d->loop);
	if ((r = job_queue(c, NJ_INITIATE, NULL, 0, why, sizeof(why),
			   NULL)) < 0)
		return r;
	s->reconciling = 1;
	job_start(c);
	return 0;
}

int sync__on_neg(struct conn *c, const struct wire_msg *m, char *why,
		 size_t wl)
{
	int r;
	if (c->initiator && !c->sy.reconciling) {
		snprintf(why, wl, "NEG while no reconciliation is running");
		return HAMLET_EPROTO;
	}
	if ((r = job_queue(c, c->initiator ? NJ_CLIENT : NJ_SERVER,
			   m->neg.data, m->neg.len, why, wl, NULL)) < 0)
		return r;
	job_start(c);
	return 0;
}

int sync__feeds_ids(struct conn *c, struct wire_feed *reply, size_t nreply,
		    size_t wanted, const uint8_t (*ids)[32], size_t nids,
		    char *why, size_t wl)
{
	struct sync_neg_job *j;
	int r;
	if ((r = job_queue(c, NJ_IDS, ids, nids * 32, why, wl, &j)) < 0)
		return r;
	j->reply = reply; /* sized for nreply + nids by the caller */
	j->nreply = nreply;
	j->wanted = wanted;
	job_start(c);
	return 0;
}

void sync__neg_close(struct conn *c)
{
	struct sync_session *s = &c->sy;
	while (s->neg_head) {
		struct sync_neg_job *j = s->neg_head;
		s->neg_head = j->next;
		job_free(j);
	}
	s->neg_tail = NULL;
	s->neg_n = 0;
	reconcile_end(c);
	free(s->diff);
	s->diff = NULL;
	s->ndiff = 0;
}

int sync__since_start(struct conn *c)
{
	char why[80];
	int r;
	if ((r = job_queue(c, NJ_SINCE, NULL, 0, why, sizeof(why), NULL)) < 0)
		return r;
	job_start(c);
	return 0;
}

int sync__state_start(struct conn *c)
{
	char why[80];
	int r;
	if ((r = job_queue(c, NJ_STATE, NULL, 0, why, sizeof(why), NULL)) < 0)
		return r;
	job_start(c);
	return 0;
}

int sync__neg_idle(const struct conn *c)
{
	const struct sync_session *s = &c->sy;
	return !s->neg_busy && !s->neg_head && !s->reconciling;
}
