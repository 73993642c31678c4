#include "sync.h"
#include "sync_internal.h"

#include "cert.h"
#include "error.h"
#include "conn.h"
#include "daemon.h"
#include "dlog.h"
#include "i18n.h"
#include "ingest.h"
#include "hlc.h"
#include "log.h"
#include "node.h"
#include "peer.h"
#include "peerbase.h"
#include "scopemap.h"
#include "trustset.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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

/* A feed both we and the peer subscribe to, and both may read: what
 * reconciliation offers and streaming sends, either way. */
int sync__scope_shared(struct conn *c, const char *scope)
{
	return sync__scope_shared_in(c, c->d->node->smap, scope);
}

int sync__scope_shared_in(struct conn *c, const struct scopemap *sm,
			  const char *scope)
{
	struct config *cfg = &c->d->cfg;
	/* through the scope moves sm holds: a subscription or a grant of
	 * the new commune takes the old commune's feeds */
	return scopemap_under_any(sm, scope, (const char(*)[ENTRY_MAX_SCOPE + 1])cfg->scopes,
			 cfg->nscopes) &&
	       scopemap_under_any(sm, scope, (const char(*)[ENTRY_MAX_SCOPE + 1])c->sy.scopes,
			 c->sy.nscopes) &&
	       c->cert && scopemap_may_read(sm, c->cert, scope) && c->own &&
	       scopemap_may_read(sm, c->own, scope);
}

/* Send FEEDS in chunks the receiver accepts. */
int sync__send_feeds(struct conn *c, const struct wire_feed *f, size_t nf,
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

/* --- message handlers -------------------------------------------------- */

/*
 * The chain file of the certificates ref[0..n) names by the first bytes
 * of their ids, from our trust set (*ret for the caller to free):
 * HAMLET_ENOTFOUND when one is not there, or not alone there.
 */
static int chain_resolve(struct conn *c,
			 const uint8_t (*ref)[WIRE_CHAIN_REF_LEN], size_t n,
			 uint8_t **ret, size_t *ret_len)
{
	const uint8_t *certs[WIRE_MAX_CHAIN_REF];
	size_t lens[WIRE_MAX_CHAIN_REF];
	uint8_t from[TRUSTSET_KEY] = { TRUST_CERT }, keys[2][TRUSTSET_KEY];
	struct store_txn *t;
	size_t nk;
	int r, more;

	if ((r = store_txn_begin(c->d->node->st, 1, &t)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		/* the first key from kind || prefix || 0...: it must have
		 * that prefix, and the next must not */
		memcpy(from + 1, ref[i], WIRE_CHAIN_REF_LEN);
		if ((r = trustset_keys(t, from, 2, keys, &nk, &more)) < 0)
			goto out;
		if (nk == 0 ||
		    memcmp(keys[0], from, 1 + WIRE_CHAIN_REF_LEN) != 0 ||
		    (nk == 2 &&
		     memcmp(keys[1], from, 1 + WIRE_CHAIN_REF_LEN) == 0)) {
			r = HAMLET_ENOTFOUND;
			goto out;
		}
		if ((r = trustset_get(t, keys[0], &certs[i], &lens[i])) < 0)
			goto out;
	}
	/* the bytes borrow from t: encoded before it ends */
	r = cert_chain_encode(certs, lens, n, ret, ret_len);
out:
	store_txn_abort(t);
	return r;
}

void sync__conn_name_by_cert(struct conn *c)
{
	char label[NAMES_LABEL_MAX];

	names_from_cert(c->cert, NAMES_CERT, &c->info->who);
	names_label(&c->info->who, c->rpk, 0, label);
	snprintf(c->name, sizeof(c->name), "%s", label);
}

/* The peer's HELLO, whose fields are in c->sy, and its chain hold: the
 * session is READY. */
static int hello_accept(struct conn *c, const uint8_t *certs, size_t len,
			int join, char *why, size_t wl)
{
	int r;
	r = sync__hello_chain(c, certs, len, join, why, wl);
	if (r == HAMLET_ECERT) /* this node refuses the other's chain */
		c->fail = DIAL_PEER_CERT;
	if (r == HAMLET_ECERT && len == 0) {
		/* a node that shows no certificate (none yet, or its own
		 * expired) is refused, not backed off: it is most often
		 * waiting for one, and once installed `hamlet sync` there
		 * must get through at once. Its own dial backoff spaces
		 * its tries; a stranger changes keys at will, so a ban on
		 * the key would spare nothing */
		peer_conn_close(c, why);
		return 0;
	}
	if (r < 0)
		return r;
	if (!c->own) {
		/* we showed no certificate: the peer refuses the session
		 * (above, on its side), so none starts here either. Not a
		 * fault of the peer's, whom we know by name now: this dial
		 * failed, and backs off */
		peer_conn_close(c, N_("this node shows no valid certificate, and peers refuse it until it has one (hamlet cert list says why)"));
		return 0;
	}
	/* an incoming session takes its max_peers slot only now */
	if (!peer_conn_admit(c))
		return 0;
	c->state = CONN_READY;
	c->info->connected = 1;
	c->info->ahead_in = c->info->ahead_out = 0; /* counted per session */
	/* the backoff is forgiven only after a clean session (peer.c) */
	c->t_ready = uv_now(c->d->loop);
	if (c->pa) {
		c->pa->backoff_ms = 0;
		c->pa->fails = 0; /* reached: hamlet status says no more */
		c->pa->why[0] = 0;
	}
	{
		/* named by who it is since its chain held
		 * (sync__conn_name_by_cert()), not by its address */
		char key[17];
		dlog(DLOG_INFO, _("peer %s: connected (%s %s, key %s)"), c->name,
		     c->initiator ? _("outgoing to") : _("incoming from"),
		     c->info->addr, peer_key_short(c->rpk, key));
	}
	/* trust items first: what they carry judges the entries after */
	if ((r = sync__trust_have_send(c)) < 0)
		return r;
	/* both say what moved since their basis (SINCE); the dialling side
	 * reconciles in full when the two bases are not the same, and the
	 * periodic full reconciliation counts from now (not from a SINCE
	 * still on its way over a slow link) */
	c->sy.last_reconcile = uv_now(c->d->loop);
	return sync__since_start(c);
}

static int on_hello(struct conn *c, const struct wire_msg *m, char *why,
		    size_t wl)
{
	struct sync_session *s = &c->sy;
	struct mp_writer w;
	uint8_t *certs = NULL;
	size_t len = 0;
	int r;
	/* who it is and its network came with the handshake (5.1): the
	 * proof binds that key to this session */
	if (wire_hello_proof_check(c->rpk, c->hs_hash, m->hello.proof) < 0) {
		snprintf(why, wl,
			 "HELLO.proof does not verify: the peer does not hold the Ed25519 key it claims");
		return HAMLET_EHANDSHAKE;
	}
	s->nscopes = m->hello.nscopes;
	memcpy(s->scopes, m->hello.scopes, sizeof(s->scopes));
	/* the credit of the peer's first two batches */
	for (int k = 0; k < SYNC_INFLIGHT; k++)
		s->tx_grant[k] = m->hello.credit;
	if (m->hello.nref == 0)
		return hello_accept(c, m->hello.certs, m->hello.certs_len, 1,
				    why, wl);
	/* a chain named by its ids: ours to find in the trust set */
	r = chain_resolve(c,
			  (const uint8_t(*)[WIRE_CHAIN_REF_LEN])m->hello.ref,
			  m->hello.nref, &certs, &len);
	if (r == 0) {
		r = hello_accept(c, certs, len, 0, why, wl);
		free(certs);
		return r;
	}
	if (r != HAMLET_ENOTFOUND) {
		snprintf(why, wl, "cannot read its chain from the store: %s",
			 hamlet_strerror(r));
		return r;
	}
	/* not held (dropped, a store restored): asked for, and the
	 * session goes on when it comes */
	dlog(DLOG_INFO, _("peer %s: its certificate chain is not in our trust set; asking for it"),
	     c->name);
	c->info->certs_want_out++;
	c->state = CONN_CERTS;
	mp_writer_init(&w);
	if ((r = wire_put_certs_want(&w)) == 0)
		r = sync__send_writer(c, &w);
	mp_writer_destroy(&w);
	return r;
}

/* The chain we asked for: checked as a HELLO's, then what the peer sent
 * meanwhile is handled in order. */
static int on_certs(struct conn *c, const struct wire_msg *m, char *why,
		    size_t wl)
{
	struct sync_session *s = &c->sy;
	uint8_t *held = s->early;
	size_t held_len = s->early_len;
	int r;

	if ((r = hello_accept(c, m->certs.data, m->certs.len, 1, why, wl)) < 0)
		return r;
	s->early = NULL;
	s->early_len = s->early_n = 0;
	for (size_t off = 0; off < held_len && !c->closing && r >= 0;) {
		uint32_t n = (uint32_t)held[off] << 24 |
			     (uint32_t)held[off + 1] << 16 |
			     (uint32_t)held[off + 2] << 8 | held[off + 3];
		r = sync_session_message(c, held + off + 4, n, why, wl);
		off += 4 + n;
	}
	free(held);
	return r;
}

/* The peer asks for the chain our HELLO named by reference: once. */
static int on_certs_want(struct conn *c, const struct wire_msg *m, char *why,
			 size_t wl)
{
	struct sync_session *s = &c->sy;
	struct cert_chain *ch;
	struct mp_writer w;
	uint8_t *certs = NULL;
	size_t len = 0;
	int r;

	(void)m;
	if (!s->ref_sent || s->certs_sent) {
		snprintf(why, wl, s->ref_sent ? "a second CERTS_WANT"
			 : "CERTS_WANT, though our HELLO carried the chain");
		return HAMLET_EPROTO;
	}
	s->certs_sent = 1;
	if (!(ch = malloc(sizeof(*ch))))
		return -ENOMEM;
	r = node_cert_load(c->d->node, peer_wall_ms(), ch, &certs, &len, why,
			   wl);
	free(ch);
	if (r < 0)
		return r; /* ours no longer holds: the peer could not check it */
	mp_writer_init(&w);
	if ((r = wire_put_certs(&w, certs, len)) == 0)
		r = sync__send_writer(c, &w);
	mp_writer_destroy(&w);
	free(certs);
	return r;
}

/* p's entries awaited plus d, at most 2^53 (a seq's bound): the heads
 * a peer claims are its word only, and must not wrap the figure. */
static void want_add(struct peer_info *p, uint64_t d)
{
	const uint64_t max = (uint64_t)1 << 53;
	p->rx_want = d >= max || p->rx_want >= max - d ? max : p->rx_want + d;
}

/* The want of feed key, or NULL; *hint: where to look first (the last
 * found, for entries that come a feed at a time, in the order asked). */
static struct sync_want *want_find(struct sync_session *s,
				   const uint8_t key[32], size_t *hint)
{
	for (size_t k = 0; k < s->nwants; k++) {
		size_t i = (*hint + k) % s->nwants;
		if (memcmp(s->wants[i].key, key, 32) == 0) {
			*hint = i;
			return &s->wants[i];
		}
	}
	return NULL;
}

/* Count what a WANT for feed key from seq+1 to head adds to the sync
 * under way: all of it the first time, the growth of head after. */
static void want_count(struct conn *c, const uint8_t key[32], uint64_t seq,
		       uint64_t head)
{
	struct sync_session *s = &c->sy;
	struct peer_info *p = c->info;
	struct sync_want *w;

	/* the feeds asked for are kept for the session: a WANT again for
	 * entries that came (refused ones too: dated ahead, say) and that
	 * the peer sends no second time on a session awaits nothing */
	if (p->rx_want && p->rx_got >= p->rx_want &&
	    peer_wall_ms() - p->rx_done_ms > PEER_RX_GAP_MS)
		p->rx_want = p->rx_got = 0; /* that sync ended: a new one */
	p->rx_done_ms = 0; /* more is asked for */
	if (!p->rx_want) {
		/* the rest of a sync a cut ended counts on from what came */
		p->rx_got = p->rx_want = p->rx_carry;
		p->rx_carry = 0;
		p->rx_cut = 0;
		p->rx_start_ms = p->rx_last_ms = peer_wall_ms();
		rate_start(&p->rx_rate, p->rx_start_ms, p->rx_got);
	}
	if ((w = want_find(s, key, &(size_t){ 0 }))) {
		/* the growth of its head: entries that came past what was
		 * asked (sent as they were written) grew it as they came
		 * (sync__want_came()) */
		want_add(p, head > w->head ? head - w->head : 0);
		if (head > w->head)
			w->head = head;
		/* we hold it to seq: what of that the counts lack came
		 * (a batch of this session stored before its commit was
		 * counted, or another way), and that batch's count skips
		 * it (batch_count(): what is at most got was counted) */
		sync__want_held(c, key, seq);
		if (seq > w->got)
			w->got = seq;
		return;
	}
	want_add(p, head > seq ? head - seq : 0);
	if (s->nwants == s->wants_cap && s->wants_cap < SYNC_WANTS_MAX) {
		size_t cap = s->wants_cap ? 2 * s->wants_cap : 16;
		struct sync_want *v = realloc(s->wants, cap * sizeof(*v));
		if (!v)
			return; /* counted, not remembered: a figure, no more */
		s->wants = v;
		s->wants_cap = cap;
	}
	if (s->nwants < s->wants_cap) {
		memcpy(s->wants[s->nwants].key, key, 32);
		s->wants[s->nwants].got = seq;
		s->wants[s->nwants++].head = head;
	}
}

uint64_t sync__want_got(struct conn *c, const uint8_t key[32], size_t *hint)
{
	struct sync_want *w;
	if (!c->info || !(w = want_find(&c->sy, key, hint)))
		return UINT64_MAX;
	return w->got;
}

void sync__want_came(struct conn *c, const uint8_t key[32], uint64_t seq,
		     size_t *hint)
{
	struct sync_want *w;

	if (!c->info || !(w = want_find(&c->sy, key, hint)))
		return;
	if (seq > w->head) {
		/* past what was asked: awaited and come at once, so both
		 * counts grow alike, and the WANT that asks for it later
		 * (its FEEDS came after it) awaits it no more */
		want_add(c->info, seq - w->head);
		w->head = seq;
	}
	if (seq > w->got)
		w->got = seq;
}

void sync__want_held(struct conn *c, const uint8_t key[32], uint64_t seq)
{
	struct peer_info *p = c->info;
	struct sync_want *w;
	uint64_t top;

	if (!p || !(w = want_find(&c->sy, key, &(size_t){ 0 })))
		return;
	top = seq < w->head ? seq : w->head;
	if (top <= w->got)
		return; /* come on this session, or not reached */
	if (!p->rx_want || p->rx_got >= p->rx_want) {
		/* no sync under way: nothing awaited to count, but what
		 * is held is not credited to the next one either */
		w->got = top;
		return;
	}
	p->rx_got += top - w->got;
	w->got = top;
	if (p->rx_got >= p->rx_want) {
		p->rx_got = p->rx_want;
		if (!p->rx_done_ms)
			p->rx_done_ms = peer_wall_ms();
	}
}

/* The peer says it holds feed key only to seq: what we asked of it past
 * that (and past what came, and what we hold) is awaited no more. */
static void want_lower(struct conn *c, const uint8_t key[32], uint64_t seq,
		       uint64_t mine)
{
	struct peer_info *p = c->info;
	struct sync_want *w;
	uint64_t to = seq, d;

	if (!p || !p->rx_want || p->rx_got >= p->rx_want ||
	    !(w = want_find(&c->sy, key, &(size_t){ 0 })))
		return;
	if (to < w->got)
		to = w->got;
	if (to < mine)
		to = mine;
	if (w->head <= to)
		return;
	d = w->head - to;
	w->head = to;
	p->rx_want = p->rx_want > d ? p->rx_want - d : 0;
	if (p->rx_want < p->rx_got)
		p->rx_want = p->rx_got;
	if (p->rx_want && p->rx_got >= p->rx_want && !p->rx_done_ms)
		p->rx_done_ms = peer_wall_ms(); /* all that will come came */
}

int sync__wants_pending(struct conn *c)
{
	struct sync_session *s = &c->sy;
	struct store_txn *t = NULL;
	int pending = 0;

	for (size_t i = 0; i < s->nwants; i++) {
		struct sync_want *w = &s->wants[i];
		struct log_feed f;
		if (w->got >= w->head)
			continue;
		/* what did not come on this session may have come another
		 * way (another peer, a bundle): the store tells */
		if (!t && store_txn_begin(c->d->node->st, 1, &t) < 0)
			return 1;
		if (log_feed_get(t, w->key, &f) == 0 && f.seq >= w->head)
			w->got = w->head;
		else
			pending = 1;
	}
	if (t)
		store_txn_abort(t);
	return pending;
}

/* Ask for feed key from seq+1 to head: head - seq entries awaited. */
static int want_send(struct conn *c, const uint8_t key[32], uint64_t seq,
		     uint64_t head)
{
	struct mp_writer w;
	int r;
	if (c->info)
		want_count(c, key, seq, head);
	mp_writer_init(&w);
	if ((r = wire_put_want(&w, key, seq)) == 0)
		r = sync__send_writer(c, &w);
	mp_writer_destroy(&w);
	return r;
}

/*
 * Answer a FEEDS: the heads where we are ahead, or, when we are neither
 * ahead nor behind on anything it named, an empty FEEDS saying so (never
 * in answer to an empty one), so a responder asked to sync learns of the
 * agreement too.
 */
int sync__feeds_answer(struct conn *c, const struct wire_feed *reply,
		       size_t nreply, size_t wanted, int named)
{
	struct mp_writer w;
	int r = 0;
	if (nreply) { /* ours are ahead there, or named by ids it lacks */
		sync__offered(c, reply, nreply);
		return sync__send_feeds(c, reply, nreply, NULL, 0);
	}
	if (wanted)
		return 0;
	if (c->info) {
		c->info->last_sync_ms = peer_wall_ms();
		c->info->rx_carry = 0; /* nothing more to ask for */
		c->info->rx_cut = 0;
	}
	if (!named)
		return 0;
	mp_writer_init(&w);
	if ((r = wire_put_feeds(&w, NULL, 0, NULL, 0)) == 0)
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
	size_t nreply = 0, wanted = 0;
	int r, skipped = 0;

	reply = malloc((m->feeds.nfeeds + m->feeds.nids + 1) * sizeof(*reply));
	if (!reply)
		return -ENOMEM;
	if ((r = store_txn_begin(c->d->node->st, 1, &t)) < 0)
		goto out;
	for (size_t i = 0; i < m->feeds.nfeeds && r >= 0; i++) {
		const struct wire_feed *wf = &m->feeds.feeds[i];
		struct log_feed f;
		uint64_t mine = 0;
		int shared = 1, closed = 0;
		sync__offer_answered(c, wf->key); /* it named its head */
		r = log_feed_get(t, wf->key, &f);
		if (r == 0) {
			mine = f.seq;
			shared = sync__scope_shared(c, f.scope);
			closed = sync__feed_closed(&f); /* nothing to ask */
			/* nor to offer past the fork: we send none of it */
			if (closed && f.fork_seq < mine)
				mine = f.fork_seq;
		} else if (r != HAMLET_ENOTFOUND) {
			break;
		}
		r = 0;
		if (!shared)
			continue;
		/* a head below what we asked toward: the rest is gone there
		 * (a revocation took it out since it was named) */
		want_lower(c, wf->key, wf->seq, mine);
		/* what it holds (a USB stick brought it) goes no more */
		skipped |= sync__stream_peer_holds(c, wf->key, wf->seq);
		if (mine < wf->seq && !closed) {
			r = want_send(c, wf->key, mine, wf->seq);
			wanted++;
		} else if (mine > wf->seq) {
			memcpy(reply[nreply].key, wf->key, 32);
			reply[nreply++].seq = mine;
		} else if (mine && !closed && sync__diff_take(c, wf->key, mine)) {
			/* its head at our seq is another entry: a fork */
			r = want_send(c, wf->key, mine - 1, mine);
			wanted++;
		}
	}
	store_txn_abort(t);
	if (r < 0)
		goto out;
	if (skipped)
		sync_session_pump(c); /* a stream ends, a budget frees */
	if (m->feeds.nids) {
		/* naming feeds by id needs the list of them: off the loop */
		r = sync__feeds_ids(c, reply, nreply, wanted,
				    (const uint8_t(*)[32])m->feeds.ids,
				    m->feeds.nids, why, wl);
		if (r == 0)
			reply = NULL; /* the step owns it now */
		goto out;
	}
	r = sync__feeds_answer(c, reply, nreply, wanted, m->feeds.nfeeds > 0);
out:
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
	{ WIRE_CERTS, CONN_CERTS, on_certs },
	{ WIRE_CERTS_WANT, CONN_HELLO | CONN_CERTS | CONN_READY,
	  on_certs_want },
	{ WIRE_NEG, CONN_READY, sync__on_neg },
	{ WIRE_FEEDS, CONN_READY, on_feeds },
	{ WIRE_WANT, CONN_READY, sync__on_want },
	{ WIRE_ENTRIES, CONN_READY, sync__on_entries },
	{ WIRE_ACK, CONN_READY, sync__on_ack },
	{ WIRE_KEEPALIVE, CONN_HELLO | CONN_CERTS | CONN_READY, on_keepalive },
	{ WIRE_ERROR, CONN_HELLO | CONN_CERTS | CONN_READY, on_error },
	{ WIRE_TRUST_HAVE, CONN_READY, sync__on_trust_have },
	{ WIRE_TRUST_IDS, CONN_READY, sync__on_trust_ids },
	{ WIRE_TRUST_ITEMS, CONN_READY, sync__on_trust_items },
	{ WIRE_SINCE, CONN_READY, sync__on_since },
	{ WIRE_STATE, CONN_READY, sync__on_state },
	{ WIRE_TAKE, CONN_READY, sync__on_take },
};

/* Handle one decoded message. <0 means the peer is at fault (why says how). */
static int session_handle(struct conn *c, const struct wire_msg *m,
			  char *why, size_t whylen)
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

/* While the peer's chain is asked for, keep raw (len bytes), a message
 * of the READY state: 1 kept, 0 not one to keep, <0 too many. */
static int session_hold(struct conn *c, int type, const uint8_t *raw,
			size_t len, char *why, size_t wl)
{
	struct sync_session *s = &c->sy;
	uint8_t *v;
	size_t i;

	if (c->state != CONN_CERTS)
		return 0;
	for (i = 0; i < sizeof(dispatch) / sizeof(dispatch[0]); i++)
		if (dispatch[i].type == type)
			break;
	if (i == sizeof(dispatch) / sizeof(dispatch[0]) ||
	    (dispatch[i].states & (CONN_READY | CONN_CERTS)) != CONN_READY)
		return 0;
	if (s->early_n >= SYNC_EARLY_MAX ||
	    s->early_len + 4 + len > SYNC_EARLY_BYTES) {
		snprintf(why, wl,
			 "more than %d messages or %zu bytes before its certificate chain",
			 SYNC_EARLY_MAX, SYNC_EARLY_BYTES);
		return HAMLET_EPROTO;
	}
	if (!(v = realloc(s->early, s->early_len + 4 + len)))
		return -ENOMEM;
	s->early = v;
	v += s->early_len;
	v[0] = (uint8_t)(len >> 24);
	v[1] = (uint8_t)(len >> 16);
	v[2] = (uint8_t)(len >> 8);
	v[3] = (uint8_t)len;
	memcpy(v + 4, raw, len);
	s->early_len += 4 + len;
	s->early_n++;
	return 1;
}

int sync_session_message(struct conn *c, const uint8_t *raw, size_t len,
			 char *why, size_t whylen)
{
	struct mp_doc doc;
	int r;

	if (!c->m && !(c->m = malloc(sizeof(*c->m))))
		return -ENOMEM;
	if ((r = wire_decode(raw, len, &doc, c->m, why, whylen)) < 0)
		return r;
	if ((r = session_hold(c, c->m->type, raw, len, why, whylen)) == 0)
		r = session_handle(c, c->m, why, whylen);
	mp_doc_close(&doc);
	return r < 0 ? r : 0;
}

/* Our chain, held in our own trust set, goes by reference to a peer we
 * agreed with: it holds the chain, from its trust set or an earlier
 * HELLO. */
static int hello_by_ref(struct conn *c)
{
	struct store_txn *t;
	struct peerbase b;
	int r;

	if (store_txn_begin(c->d->node->st, 1, &t) < 0)
		return 0;
	r = peerbase_get(t, c->rpk, &b) == 0;
	store_txn_abort(t);
	return r;
}

int sync_session_start(struct conn *c)
{
	struct config *cfg = &c->d->cfg;
	const char *scopes[CONFIG_MAX_SCOPES];
	struct mp_writer w;
	int r;
	for (size_t i = 0; i < cfg->nscopes; i++)
		scopes[i] = cfg->scopes[i];
	uint8_t proof[64], *certs = NULL;
	size_t certs_len = 0;
	struct cert_chain *ch;
	char why[1024];
	int known = 0;

	c->sy.rx_credit = SYNC_BATCH_FIRST;
	if (c->sy.rx_credit > sync_peer_ceiling(c->info))
		c->sy.rx_credit = sync_peer_ceiling(c->info);
	for (int k = 0; k < SYNC_INFLIGHT; k++)
		c->sy.rx_grant[k] = c->sy.rx_credit;
	c->sy.rx_grant_ms = uv_now(c->d->loop);
	/* our certificate, read each time: one installed while we run is
	 * used from the next connection */
	if (!(ch = malloc(sizeof(*ch))))
		return -ENOMEM;
	if (node_cert_load(c->d->node, peer_wall_ms(), ch, &certs, &certs_len,
			   why, sizeof(why)) < 0) {
		certs = NULL;
		certs_len = 0;
		if (node_cert_stale(c->d->node, peer_wall_ms(), ch, &certs,
				    &certs_len) == 0) {
			/* only an issuer's certificate above ours has ended:
			 * shown as installed, for a peer that holds its
			 * renewal to judge by that (SPEC 6), whose trust
			 * set then brings the renewal here. What we may
			 * read is our own certificate's grant meanwhile */
			dlog(DLOG_WARNING, _("peer %s: %s; showing it all the same, for a peer that holds a renewal of that certificate"),
			     c->name, dlog_tr(why));
			if (!c->own && (c->own = malloc(sizeof(*c->own)))) {
				*c->own = ch->c[0];
				/* the session ends with our own certificate
				 * at the latest (the ended issuer's is what
				 * the peer judges through its renewal) */
				if (ch->c[0].expires_ms &&
				    (!c->cert_end_ms ||
				     ch->c[0].expires_ms < c->cert_end_ms))
					c->cert_end_ms = ch->c[0].expires_ms;
			}
		} else {
			dlog(DLOG_WARNING, _("peer %s: %s; peers refuse this node until it has one"),
			     c->name, dlog_tr(why));
		}
	} else {
		if (!c->own && (c->own = malloc(sizeof(*c->own)))) {
			/* what we may read, for this session */
			*c->own = ch->c[0];
			sync__chain_end(ch, &c->cert_end_ms);
		}
		/* one installed while we run joins our trust set */
		known = node_chain_known(c->d->node, certs, certs_len);
		if (known == 0) {
			struct trustset_item it[CERT_MAX_CHAIN];
			for (size_t i = 0; i < ch->n; i++) {
				it[i].kind = TRUST_CERT;
				it[i].data = certs + ch->off[i];
				it[i].len = ch->len[i];
			}
			sync_trust_submit(c->d, _("this node's certificate"), it,
					  ch->n);
		}
	}
	mp_writer_init(&w);
	if ((r = wire_hello_prove(c->d->node->sk, c->hs_hash, proof)) < 0)
		goto out;
	if (known == 1 && hello_by_ref(c)) {
		c->sy.ref_sent = 1;
		c->info->chain_ref_out++;
		r = wire_put_hello_ref(&w, scopes, cfg->nscopes, c->sy.rx_credit,
				       proof, (const uint8_t(*)[32])ch->id,
				       ch->n);
	} else {
		r = wire_put_hello(&w, scopes, cfg->nscopes, c->sy.rx_credit,
				   proof, certs, certs_len);
	}
	if (r == 0)
		r = sync__send_writer(c, &w);
out:
	mp_writer_destroy(&w);
	free(ch);
	free(certs);
	return r;
}

void sync_session_close(struct conn *c)
{
	struct sync_session *s = &c->sy;
	sync__neg_close(c);
	sync__streams_free(c);
	free(s->early);
	s->early = NULL;
	s->early_len = s->early_n = 0;
	if ((s->rx_batch && sync__batch_n(s->rx_batch)) || s->rx_next)
		/* work of the peer's lost: smaller batches next time */
		sync__ceiling_lost(c->info);
	if (s->rx_batch) {
		/* never committed: the peer sends it again next session */
		sync__batch_free(s->rx_batch);
		s->rx_batch = NULL;
	}
	if (s->rx_next) { /* the same */
		sync__batch_free(s->rx_next);
		s->rx_next = NULL;
	}
	if (s->rx_full) { /* the same */
		sync__batch_free(s->rx_full);
		s->rx_full = NULL;
		c->d->parked--;
	}
	if (c->info)
		c->info->disk_wait = 0;
	free(s->wants);
	s->wants = NULL;
	s->nwants = s->wants_cap = 0;
	free(s->held);
	s->held = NULL;
	s->held_len = 0;
	free(s->sent);
	s->sent = NULL;
	s->sent_n = s->sent_cap = 0;
	free(s->since_feeds);
	s->since_feeds = NULL;
	s->since_n = 0;
	free(s->since_mine);
	s->since_mine = NULL;
	s->since_mine_n = 0;
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
			sync__want_held(c, adv->v[i].key, adv->v[i].seq);
			memcpy(out[no].key, adv->v[i].key, 32);
			out[no++].seq = adv->v[i].seq;
		}
		if (no)
			sync__send_feeds(c, out, no, NULL, 0);
	}
	free(out);
}
