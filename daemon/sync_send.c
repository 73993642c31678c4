/* sync: streaming the entries a peer wants, one batch at a time. */
#include "sync.h"

#include "conn.h"
#include "contact.h"
#include "daemon.h"
#include "dlog.h"
#include "error.h"
#include "heard.h"
#include "log.h"
#include "peer.h"
#include "sync_internal.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* --- what goes first under a budget ------------------------------------ */

/* A byte budget applies to c's peer. */
static int budget_set(const struct conn *c)
{
	struct config_budget b;
	config_budget_for(&c->d->cfg, c->pa ? c->pa->addr : NULL,
			  c->pa ? NULL : c->host, &b);
	return b.per_day || b.per_session;
}

void sync__offered(struct conn *c, const struct wire_feed *f, size_t n)
{
	struct sync_session *s = &c->sy;
	struct sync_sent *ss;
	/* the peer asks for the feeds one WANT at a time: without a budget
	 * each starts at once, as nothing that goes first can be crowded
	 * out */
	if (!n || !budget_set(c))
		return;
	for (size_t i = 0; i < n; i++)
		if ((ss = sent_find(s, f[i].key, 1)) && !ss->offered) {
			ss->offered = 1;
			s->offered_n++;
		}
	s->offered_ms = uv_now(c->d->loop);
}

void sync__offer_answered(struct conn *c, const uint8_t key[32])
{
	struct sync_session *s = &c->sy;
	struct sync_sent *ss;
	if (s->offered_n && (ss = sent_find(s, key, 0)) && ss->offered) {
		ss->offered = 0;
		s->offered_n--;
	}
}

/* Feeds offered and not answered yet, for less than SYNC_OFFER_WAIT_MS:
 * 1. Past that they are forgotten (the peer wants none of them). */
static int offers_pending(struct conn *c)
{
	struct sync_session *s = &c->sy;
	if (!s->offered_n)
		return 0;
	if (uv_now(c->d->loop) - s->offered_ms < SYNC_OFFER_WAIT_MS)
		return 1;
	for (size_t i = 0; i < s->sent_cap; i++)
		s->sent[i].offered = 0;
	s->offered_n = 0;
	return 0;
}

/* The bucket of the stream index for key (s->stream_ix made). */
static size_t stream_bucket(const struct sync_session *s,
			    const uint8_t key[32])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v = 0;
	crypto_shorthash(h, key, 32, s->stream_ix_k);
	for (size_t i = 0; i < sizeof(v) && i < sizeof(h); i++)
		v = v << 8 | h[i];
	return (size_t)(v % SYNC_STREAM_IX);
}

/* The stream of feed key queued for the peer, or NULL. */
static struct sync_stream *stream_find(const struct sync_session *s,
				       const uint8_t key[32])
{
	struct sync_stream *st;
	if (!s->stream_ix)
		return NULL;
	for (st = s->stream_ix[stream_bucket(s, key)]; st; st = st->hnext)
		if (memcmp(st->key, key, 32) == 0)
			return st;
	return NULL;
}

/* st leaves the stream index (it is taken off its queue). */
static void stream_unindex(struct sync_session *s, struct sync_stream *st)
{
	struct sync_stream **pp;
	if (!s->stream_ix)
		return;
	for (pp = &s->stream_ix[stream_bucket(s, st->key)]; *pp;
	     pp = &(*pp)->hnext)
		if (*pp == st) {
			*pp = st->hnext;
			return;
		}
}

int sync__want_queue(struct conn *c, const uint8_t key[32], uint64_t seq,
		     char *why, size_t wl)
{
	struct sync_session *s = &c->sy;
	struct sync_stream *st;
	struct sync_sent *ss;
	uint64_t from = seq + 1;
	size_t b;

	sync__offer_answered(c, key);
	/* a WANT can be stale: entries in flight are not committed yet */
	if ((ss = sent_find(s, key, 0)) && ss->upto >= from)
		from = ss->upto + 1;
	if (stream_find(s, key))
		return 0; /* already streaming it to the head */
	if (s->nstreams >= SYNC_MAX_STREAMS) {
		snprintf(why, wl, "over %d feeds wanted at once",
			 SYNC_MAX_STREAMS);
		return HAMLET_ETOOBIG;
	}
	if (!s->stream_ix) {
		if (!(s->stream_ix = calloc(SYNC_STREAM_IX,
					    sizeof(*s->stream_ix))))
			return -ENOMEM;
		randombytes_buf(s->stream_ix_k, sizeof(s->stream_ix_k));
	}
	if (!(st = calloc(1, sizeof(*st))))
		return -ENOMEM;
	memcpy(st->key, key, 32);
	st->next = from;
	st->asked = seq;
	b = stream_bucket(s, key);
	st->hnext = s->stream_ix[b];
	s->stream_ix[b] = st;
	if (s->streams_tail)
		s->streams_tail->link = st;
	else
		s->streams = st;
	s->streams_tail = st;
	s->nstreams++;
	return 0;
}

int sync__stream_peer_holds(struct conn *c, const uint8_t key[32],
			    uint64_t seq)
{
	struct sync_stream *st = stream_find(&c->sy, key);
	if (!st || seq < st->next)
		return 0;
	st->next = seq + 1;
	return 1;
}

int sync__feed_closed(const struct log_feed *f)
{
	return f->forked && f->seq >= f->fork_seq;
}

int sync__on_want(struct conn *c, const struct wire_msg *m, char *why,
		  size_t wl)
{
	int r = sync__want_queue(c, m->want.key, m->want.seq, why, wl);
	sync__diff_drop(c, m->want.key);
	if (r == 0)
		sync_session_pump(c);
	return r;
}

/* The peer refused n entries we sent as dated too far ahead of its
 * clock: logged at once the first time on a session, then at most once
 * in SYNC_AHEAD_SAY_MS (status says it each time it is asked). */
static void ahead_told(struct conn *c, uint64_t n)
{
	struct sync_session *s = &c->sy;
	uint64_t now = uv_now(c->d->loop);
	if (s->ahead_told_ms && now - s->ahead_told_ms < SYNC_AHEAD_SAY_MS)
		return;
	s->ahead_told_ms = now ? now : 1;
	dlog(DLOG_WARNING,
	     P_("peer %s: refused %llu entry sent to it, as dated more than %llu h ahead of its clock (%llu on this session): check the date and time of this PC (and of that one); what was written with the wrong date goes once the clock there is within %llu h of it",
		"peer %s: refused %llu entries sent to it, as dated more than %llu h ahead of its clock (%llu on this session): check the date and time of this PC (and of that one); what was written with the wrong date goes once the clock there is within %llu h of it",
		n),
	     c->name, (unsigned long long)n,
	     (unsigned long long)(LOG_MAX_AHEAD_MS / 3600000),
	     (unsigned long long)(c->info ? c->info->ahead_out : n),
	     (unsigned long long)(LOG_MAX_AHEAD_MS / 3600000));
}

int sync__on_ack(struct conn *c, const struct wire_msg *m, char *why,
		  size_t wl)
{
	struct sync_session *s = &c->sy;
	size_t k = s->tx_acked % SYNC_INFLIGHT;
	/* the oldest batch opened and not acknowledged, if it is closed */
	if (s->tx_acked + (s->tx_open ? 1 : 0) >= s->tx_begun) {
		snprintf(why, wl, "ACK with no batch waiting for one");
		return HAMLET_EPROTO;
	}
	if (m->ack.count != s->tx_count[k]) {
		snprintf(why, wl, "ACK of %llu entries for a batch of %llu",
			 (unsigned long long)m->ack.count,
			 (unsigned long long)s->tx_count[k]);
		return HAMLET_EPROTO;
	}
	/* its slot now holds what the batch two after it may hold */
	s->tx_count[k] = 0;
	s->tx_grant[k] = m->ack.credit;
	s->tx_acked++;
	if (c->info) {
		c->info->last_sync_ms = peer_wall_ms();
		c->info->ahead_out += m->ack.ahead;
		/* held by the peer now (status counts what waits for it) */
		c->info->acked_out += m->ack.count > m->ack.ahead
					      ? m->ack.count - m->ack.ahead
					      : 0;
	}
	if (m->ack.ahead)
		ahead_told(c, m->ack.ahead);
	sync_session_pump(c);
	return 0;
}

void sync_session_outgoing(struct conn *c, uint64_t *ret_to_send,
			   uint64_t *ret_unacked)
{
	const struct sync_session *s = &c->sy;
	struct store_txn *t = NULL;
	struct log_feed f;
	uint64_t queued = 0, unacked = 0;

	for (uint64_t b = s->tx_acked; b < s->tx_begun; b++)
		unacked += s->tx_open && b + 1 == s->tx_begun
				   ? s->tx_batch_n
				   : s->tx_count[b % SYNC_INFLIGHT];
	/* a feed queued counts to its head now (one gone, none: the pump
	 * drops it); with no store to read, each counts one entry, so that
	 * something is still said to wait */
	if (s->nstreams && store_txn_begin(c->d->node->st, 1, &t) < 0)
		t = NULL;
	for (int k = -1; k < BUDGET_RANKS; k++)
		for (const struct sync_stream *st =
			     k < 0 ? s->streams : s->ranked[k];
		     st; st = st->link)
			if (!t)
				queued++;
			else if (log_feed_get(t, st->key, &f) == 0 &&
				 f.seq >= st->next)
				queued += f.seq - st->next + 1;
	store_txn_abort(t);
	*ret_to_send = queued;
	*ret_unacked = unacked;
}

/* --- sending entries --------------------------------------------------- */

/* The ENTRIES message of v[0..n) of feed key, not closing its batch, in
 * *ret (len bytes, the caller frees). */
static int entries_encode(const uint8_t key[32], const struct run_entry *v,
			  size_t n, uint8_t **ret, size_t *ret_len)
{
	struct mp_writer w;
	uint8_t *p;
	size_t len;
	int r;
	mp_writer_init(&w);
	r = wire_put_entries(&w, key, NULL, v, n, 0, NULL);
	p = r < 0 ? NULL : mp_writer_take(&w, &len);
	mp_writer_destroy(&w);
	if (r < 0)
		return r;
	if (!p)
		return -ENOMEM;
	*ret = p;
	*ret_len = len;
	return 0;
}

/* The most of v[0..n) whose message, compressed as it goes, is at most
 * room bytes (the message of all n is larger): that number, with the
 * message in *ret; 0 (*ret NULL) when not even one fits. A handful of
 * encodings, only when a budget is about to be spent. */
static size_t entries_fit(const uint8_t key[32], const struct run_entry *v,
			  size_t n, uint64_t room, uint8_t **ret,
			  size_t *ret_len)
{
	size_t lo = 0, hi = n; /* lo entries fit (none is nothing), hi not */
	*ret = NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2, len;
		uint8_t *p;
		if (entries_encode(key, v, mid, &p, &len) < 0)
			break;
		if (len <= room) {
			free(*ret);
			*ret = p;
			*ret_len = len;
			lo = mid;
		} else {
			free(p);
			hi = mid;
		}
	}
	if (!lo) {
		free(*ret);
		*ret = NULL;
	}
	return lo;
}

/* Send the held ENTRIES message, closing the batch or not. */
static int send_held(struct conn *c, int last)
{
	struct sync_session *s = &c->sy;
	int r;
	if (!s->held)
		return 0;
	uint64_t before = c->info ? c->info->bytes_out : 0;
	wire_entries_set_last(s->held, s->held_len, last);
	r = peer_conn_send(c, s->held, s->held_len);
	if (c->info) /* with their frames */
		c->info->entries_bytes_out += c->info->bytes_out - before;
	free(s->held);
	s->held = NULL;
	s->held_len = 0;
	if (last) {
		s->tx_count[(s->tx_begun - 1) % SYNC_INFLIGHT] = s->tx_batch_n;
		s->tx_open = 0;
		s->tx_batch_n = 0;
		s->tx_batch_bytes = 0;
	}
	return r;
}

/* The entries the next message may carry: what the open batch may still
 * take, or a new batch's credit; 0 while SYNC_INFLIGHT wait for ACKs. */
static uint64_t batch_room(const struct sync_session *s)
{
	if (s->tx_open)
		return s->tx_credit;
	if (s->tx_begun - s->tx_acked >= SYNC_INFLIGHT)
		return 0;
	return s->tx_grant[s->tx_begun % SYNC_INFLIGHT];
}

/* --- order and budget ------------------------------------------------ */

/* The rank of st's next entry (budget.h); an entry we cannot read ranks
 * last, and the pump finds out why. */
static int stream_rank(struct store_txn *t, const struct sync_stream *st)
{
	const uint8_t *env, *sig;
	uint8_t eb[ENTRY_MAX_ENVELOPE];
	size_t env_len;
	struct entry e;
	if (log_entry_get(t, st->key, st->next, eb, &env, &env_len, &sig) < 0 ||
	    entry_decode(env, env_len, &e, NULL) < 0)
		return BUDGET_RANK_OTHER;
	return budget_collection_rank(e.collection);
}

static void rank_append(struct sync_session *s, int k, struct sync_stream *st)
{
	st->link = NULL;
	if (s->ranked_tail[k])
		s->ranked_tail[k]->link = st;
	else
		s->ranked[k] = st;
	s->ranked_tail[k] = st;
}

/* Take st, the head of rank k's queue, off it. */
static void rank_pop(struct sync_session *s, int k)
{
	struct sync_stream *st = s->ranked[k];
	s->ranked[k] = st->link;
	if (!s->ranked[k])
		s->ranked_tail[k] = NULL;
}

/* Move the feeds just asked for into the queues of their ranks. */
static void streams_rank(struct conn *c)
{
	struct sync_session *s = &c->sy;
	struct store_txn *t = NULL;
	if (store_txn_begin(c->d->node->st, 1, &t) < 0)
		t = NULL; /* ranked last; sending will fail alike */
	while (s->streams) {
		struct sync_stream *st = s->streams;
		s->streams = st->link;
		rank_append(s, t ? stream_rank(t, st) : BUDGET_RANK_OTHER, st);
	}
	s->streams_tail = NULL;
	store_txn_abort(t);
}

void sync__streams_free(struct conn *c)
{
	struct sync_session *s = &c->sy;
	for (int k = -1; k < BUDGET_RANKS; k++) {
		struct sync_stream **q = k < 0 ? &s->streams : &s->ranked[k];
		while (*q) {
			struct sync_stream *st = *q;
			*q = st->link;
			free(st);
		}
		if (k >= 0)
			s->ranked_tail[k] = NULL;
	}
	s->streams_tail = NULL;
	s->nstreams = 0;
	free(s->stream_ix);
	s->stream_ix = NULL;
}

/*
 * The entry bytes c's budget lets us send now (UINT64_MAX: no budget),
 * and in ret_why the budget that binds (SYNC_HELD_*). Rolls the day's
 * count over at local midnight.
 */
static uint64_t budget_room(struct conn *c, int *ret_why)
{
	struct sync_session *s = &c->sy;
	struct peer_info *p = c->info;
	struct config_budget b;
	uint32_t today = contact_budget_today();
	uint64_t room = UINT64_MAX;

	*ret_why = SYNC_HELD_NONE;
	if (!p)
		return room;
	config_budget_for(&c->d->cfg, c->pa ? c->pa->addr : NULL,
			  c->pa ? NULL : c->host, &b);
	p->budget_per_day = b.per_day;
	p->budget_per_session = b.per_session;
	p->sent_session = s->sent_session;
	/* what a run before this one sent it today: counted with or
	 * without a budget, so that one set later that day counts it */
	contact_budget_load(c->d, p);
	/* a new day starts the count again; a clock set back across
	 * midnight carries it over, never giving a second day's budget */
	budget_day_roll(&p->budget_day, &p->sent_today, today);
	if (b.per_day) {
		room = b.per_day > p->sent_today ? b.per_day - p->sent_today : 0;
		*ret_why = SYNC_HELD_DAY;
	}
	if (b.per_session && (b.per_session <= s->sent_session ||
			      b.per_session - s->sent_session < room)) {
		room = b.per_session > s->sent_session
			       ? b.per_session - s->sent_session
			       : 0;
		*ret_why = SYNC_HELD_SESSION;
	}
	return room;
}

/* size when an entry of that size is larger than a whole budget for c (a
 * day's or a session's), so that it never goes until one is raised;
 * else 0. */
static uint64_t budget_over_whole(const struct conn *c, uint64_t size)
{
	const struct peer_info *p = c->info;
	if (!p)
		return 0;
	return (p->budget_per_day && size > p->budget_per_day) ||
			       (p->budget_per_session &&
				size > p->budget_per_session)
		       ? size
		       : 0;
}

/* What waits for the budget: the entries of every queued feed. */
static void budget_count(struct conn *c)
{
	struct sync_session *s = &c->sy;
	struct store_txn *t = NULL;
	struct log_feed f;
	uint64_t n = 0;

	if (!c->info || store_txn_begin(c->d->node->st, 1, &t) < 0)
		return;
	for (int k = -1; k < BUDGET_RANKS; k++)
		for (struct sync_stream *st = k < 0 ? s->streams : s->ranked[k];
		     st; st = st->link)
			if (log_feed_get(t, st->key, &f) == 0 &&
			    f.seq >= st->next)
				n += f.seq - st->next + 1;
	store_txn_abort(t);
	c->info->budget_waiting = n;
	s->held_count_stale = 0;
}

void sync__budget_tick(struct conn *c)
{
	struct sync_session *s = &c->sy;
	struct config_budget b;

	/* offered feeds the peer never answered: wait no longer */
	if (!c->closing && s->offer_wait)
		sync_session_pump(c);
	if (c->closing || !s->budget_held)
		return;
	/* a new day: what the day's budget held may go; and a clock set
	 * back by days: the count becomes today's (budget_day_roll), so
	 * that the next midnight, not the day after the wrong date, lifts
	 * the hold */
	if (s->budget_held == SYNC_HELD_DAY && c->info &&
	    budget_day_rolls(c->info->budget_day, contact_budget_today())) {
		sync_session_pump(c);
	} else if (c->info) {
		/* the budgets reloaded (SIGHUP): the pump weighs the new */
		config_budget_for(&c->d->cfg, c->pa ? c->pa->addr : NULL,
				  c->pa ? NULL : c->host, &b);
		if (b.per_day != c->info->budget_per_day ||
		    b.per_session != c->info->budget_per_session)
			sync_session_pump(c);
	}
	if (s->budget_held && s->held_count_stale)
		budget_count(c);
}

/* --- the pump ---------------------------------------------------------- */

/* The feeds a pump found asked for past what this node holds, with its
 * seq of each: told to the peer in one FEEDS after the pump. */
struct unfilled {
	struct wire_feed *v;
	size_t n, cap;
};

static void unfilled_add(struct unfilled *u, const uint8_t key[32],
			 uint64_t seq)
{
	if (u->n == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 8;
		struct wire_feed *v = realloc(u->v, cap * sizeof(*v));
		if (!v)
			return; /* the peer learns at its next session */
		u->v = v;
		u->cap = cap;
	}
	memcpy(u->v[u->n].key, key, 32);
	u->v[u->n++].seq = seq;
}

/*
 * Stream queued feeds in batches, each of at most its credit and
 * SYNC_BATCH_BYTES; the next opens as soon as one closes, up to
 * SYNC_INFLIGHT waiting for their ACKs. The newest message is held
 * back until we know whether another follows it, so the one that closes
 * a batch carries last = true and no empty message is needed.
 *
 * Feeds go by the rank of their next entry (payments, registrations,
 * health events, the rest), each in seq order; under a byte budget, not
 * before the peer has answered every feed offered to it (sync__offered).
 * A byte budget stops the stream before an entry whose message, as it
 * goes on the wire (compressed), would pass it; the feeds stay queued
 * until the day turns (sync__budget_tick) or the session ends.
 */
void sync_session_pump(struct conn *c)
{
	struct sync_session *s = &c->sy;
	size_t maxb = c->d->cfg.batch ? c->d->cfg.batch : WIRE_MAX_BATCH;
	struct run_entry *v = NULL;
	struct bodyz_buf *zb = NULL; /* the batch's bodies kept compressed */
	int blocked = 0, why, sent = 0;
	uint64_t room, too_big = 0;
	struct unfilled un = { 0 };

	if (maxb > WIRE_MAX_BATCH)
		maxb = WIRE_MAX_BATCH;
	if (c->closing || batch_room(s) == 0)
		return;
	if (s->streams)
		streams_rank(c);
	room = budget_room(c, &why);
	/* under a budget, the WANTs of every feed offered first, so that
	 * the first to go is the first by rank, not the first asked for */
	s->offer_wait = room != UINT64_MAX && offers_pending(c);
	if (s->offer_wait)
		return;
	s->budget_held = SYNC_HELD_NONE;
	while (!c->closing && s->nstreams && !s->budget_held) {
		uint64_t credit = batch_room(s);
		struct sync_stream *st = NULL;
		struct store_txn *t = NULL;
		struct log_feed f;
		struct sync_sent *ss;
		size_t n = 0, bytes = 0, lim = maxb, len, cap;
		int rank = 0, next_rank, unfilled, capped;
		uint8_t *p;
		int r;

		while (rank < BUDGET_RANKS && !(st = s->ranked[rank]))
			rank++;
		if (!st)
			break; /* not reached: nstreams counts the queues */
		if (c->wq_bytes >= SYNC_SEND_QUEUE) {
			blocked = 1; /* resumed when the socket drains */
			break;
		}
		if (credit == 0)
			break; /* resumed by an ACK */
		if (lim > credit)
			lim = (size_t)credit;
		if (!v && (!(v = malloc(WIRE_MAX_BATCH * sizeof(*v))) ||
			   !(zb = calloc(WIRE_MAX_BATCH, sizeof(*zb)))))
			break;
		if ((r = store_txn_begin(c->d->node->st, 1, &t)) < 0)
			break;
		r = log_feed_get(t, st->key, &f);
		/* a feed this node holds none of now (a revocation took it
		 * out since the peer heard of it) is one at seq 0 */
		unfilled = r == HAMLET_ENOTFOUND;
		if (unfilled)
			f.seq = 0;
		if (r == 0 && !sync__scope_shared(c, f.scope))
			r = HAMLET_ENOTFOUND; /* never send outside shared scopes */
		/* nothing past a fork: no node that holds its proof takes it,
		 * and the proof goes to every node that reads the feed; the
		 * peer, told of our head past it, learns where we stop */
		capped = r == 0 && f.forked && f.fork_seq < f.seq;
		if (capped)
			f.seq = f.fork_seq;
		if (r == 0 && f.seq <= st->asked)
			unfilled = 1; /* nothing past what the peer holds */
		if (r == 0 && !s->tx_open && s->nstreams == 1 &&
		    f.seq >= st->next) {
			/* the last feed queued: a batch of at most half of
			 * what is left, while that is more than the tail */
			uint64_t left = f.seq - st->next + 1, half = left / 2;
			if (half < SYNC_BATCH_TAIL)
				half = SYNC_BATCH_TAIL;
			if (half < credit) {
				credit = half;
				if (lim > credit)
					lim = (size_t)credit;
			}
		}
		/* what a message of them would be charged is known once it
		 * is compressed: read no more than a budget's room could
		 * take at 16 to 1 */
		cap = WIRE_BATCH_BYTES;
		if (room < cap / 16)
			cap = (size_t)room * 16 + 1;
		while (r == 0 && n < lim && st->next + n <= f.seq &&
		       bytes < cap) {
			struct run_entry *we = &v[n];
			struct log_entry_full x;
			/* a body not held (erased) goes without; one
			 * damaged here stops the feed's stream: sent
			 * without, the peer would take it for erased */
			if ((r = log_entry_read(t, st->key, st->next + n,
						&zb[n], &x)) < 0)
				break;
			if (x.body_damaged) {
				char a[17];
				uint64_t now = uv_now(c->d->loop);
				/* once a minute: the peer asks for the feed
				 * again and again */
				int level = !s->damaged_said_ms ||
						    now - s->damaged_said_ms >=
							    60000
						    ? DLOG_WARNING
						    : DLOG_DEBUG;
				if (level == DLOG_WARNING)
					s->damaged_said_ms = now;
				sodium_bin2hex(a, sizeof(a), f.author, 8);
				dlog(level,
				     _("peer %s: feed %s by %s… stops at seq %llu for it: that entry's body is damaged in this store (hamlet verify names it)"),
				     c->name, f.scope, a,
				     (unsigned long long)(st->next + n));
				r = HAMLET_ECORRUPT;
				break;
			}
			we->env = x.env;
			we->env_len = x.env_len;
			we->sig = x.sig;
			we->body = x.body;
			we->body_len = x.body_len;
			bytes += we->env_len + we->body_len + 80;
			n++;
		}
		next_rank = rank;
		p = NULL;
		if (n > 0 && entries_encode(st->key, v, n, &p, &len) < 0)
			p = NULL;
		if (p && len > room) {
			/* the budget is judged by what goes on the wire */
			free(p);
			n = entries_fit(st->key, v, n, room, &p, &len);
			s->budget_held = why;
			if (!n) {
				/* not even one: held for good when it is
				 * over a whole budget */
				if (entries_encode(st->key, v, 1, &p, &len) == 0)
					too_big = budget_over_whole(c, len);
				free(p);
				p = NULL;
			}
			bytes = 0;
			for (size_t i = 0; i < n; i++)
				bytes += v[i].env_len + v[i].body_len + 80;
		}
		if (n > 0) {
			if (!p || send_held(c, 0) < 0) {
				free(p);
				store_txn_abort(t);
				break;
			}
			if (!s->tx_open) {
				s->tx_open = 1;
				s->tx_begun++;
				s->tx_credit = credit;
			}
			s->held = p;
			s->held_len = len;
			st->next += n;
			s->tx_credit -= n;
			s->tx_batch_n += n;
			s->tx_batch_bytes += bytes;
			if ((ss = sent_find(s, st->key, 1)))
				ss->upto = st->next - 1;
			if (room != UINT64_MAX) /* charged as it goes */
				room = room > len ? room - len : 0;
			sent = 1;
			s->sent_session += len;
			if (c->info) {
				c->info->entries_out += n;
				c->info->sent_today += len;
				c->info->sent_session = s->sent_session;
			}
			if (st->next <= f.seq)
				next_rank = stream_rank(t, st);
		}
		store_txn_abort(t);
		/* a full batch closes; the next may open at once */
		if (s->tx_open && (s->tx_credit == 0 ||
				   s->tx_batch_bytes >= SYNC_BATCH_BYTES) &&
		    send_held(c, 1) < 0)
			break;
		if (s->budget_held) {
			break; /* the feed stays queued for the budget */
		} else if (n == 0 || st->next > f.seq) {
			/* caught up on this feed (or it is gone); asked for
			 * what this node does not hold, it says how far it
			 * holds the feed, so the peer awaits no more */
			if (((unfilled && n == 0) ||
			     (capped && r == 0 && st->next > f.seq)) &&
			    (ss = sent_find(s, st->key, 1)) &&
			    ss->told != f.seq + 1) {
				ss->told = f.seq + 1;
				unfilled_add(&un, st->key, f.seq);
			}
			rank_pop(s, rank);
			stream_unindex(s, st);
			s->nstreams--;
			free(st);
		} else if (next_rank != rank) {
			rank_pop(s, rank);
			rank_append(s, next_rank, st);
		} else if (n < lim && bytes < cap) {
			break;
		}
	}
	for (size_t i = 0; zb && i < WIRE_MAX_BATCH; i++)
		bodyz_buf_free(&zb[i]);
	free(zb);
	free(v);
	/* close the batch unless only the socket holds us back */
	if (s->held && !c->closing && !blocked)
		send_held(c, 1);
	if (un.n && !c->closing)
		sync__send_feeds(c, un.v, un.n, NULL, 0);
	free(un.v);
	if (c->info) {
		int was = c->info->budget_held;
		c->info->budget_held = s->budget_held;
		c->info->budget_too_big = s->budget_held ? too_big : 0;
		if (!s->budget_held)
			c->info->budget_waiting = 0;
		else if (!was || sent)
			budget_count(c); /* newly held, or less waits */
		else
			s->held_count_stale = 1; /* a WANT: at the next tick */
		/* the day's count into the store soon after it moves, and
		 * at once when a budget holds entries back: a power cut
		 * must not give the peer the day's budget again at the
		 * next start */
		if (c->info->budget_per_day && (sent || (s->budget_held && !was)))
			contact_budget_sent(c->d, s->budget_held != 0);
	}
}
