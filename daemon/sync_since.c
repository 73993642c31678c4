/*
 * sync: a reconnection that costs what changed (SPEC 5.6).
 *
 * When a session is idle each side reads the heads of the feeds it
 * shares with the peer and sends their digest (STATE). When the peer's
 * digest is the same, both held the very same shared heads: each keeps,
 * for that peer, the digest and its own store version at that read
 * (peerbase.h), written by the one writer. On the next session each side
 * sends (SINCE) the digest it kept and the shared feeds its heads moved
 * since its version. When both name the same digest, every feed that
 * differs moved on one side since, so the two lists hold every feed that
 * differs: each side asks (one TAKE, naming feeds by their place in the
 * peer's list) for what it lacks and nothing else is exchanged. Otherwise the dialling side reconciles in full (Negentropy).
 *
 * Why it is safe: a side names a basis only under the sharing context it
 * was kept in (scopes and read grants of both sides, our trust set); a
 * store older than its basis (restored from a copy) names none; a basis
 * is kept only after the digests matched, after the fact, so a crash
 * loses a basis (and costs one full reconciliation), never an entry.
 * The full reconciliation every SYNC_RECONCILE_MS stays as it was.
 */
#include "sync.h"
#include "sync_internal.h"

#include "cert.h"
#include "conn.h"
#include "daemon.h"
#include "i18n.h"
#include "dlog.h"
#include "error.h"
#include "heads.h"
#include "ingest.h"
#include "peer.h"
#include "peerbase.h"
#include "trustset.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define CONTEXT_KEY "hamlet/sync-context/v1"

/* --- on the thread pool ------------------------------------------------ */

static void hash_str(crypto_generichash_blake2b_state *h, const char *s)
{
	crypto_generichash_blake2b_update(h, (const uint8_t *)s, strlen(s) + 1);
}

static void hash_scopes(crypto_generichash_blake2b_state *h,
			const char (*v)[ENTRY_MAX_SCOPE + 1], size_t n)
{
	uint8_t b[8];
	store_be64(b, n);
	crypto_generichash_blake2b_update(h, b, 8);
	for (size_t i = 0; i < n; i++)
		hash_str(h, v[i]);
}

/* What a certificate lets its holder read: its read prefixes, its
 * collections, its validity. */
static void hash_grant(crypto_generichash_blake2b_state *h,
		       const struct cert *ct)
{
	uint8_t b[8];
	if (!ct) {
		hash_str(h, "-");
		return;
	}
	crypto_generichash_blake2b_update(h, ct->subject, 32);
	store_be64(b, ct->nread);
	crypto_generichash_blake2b_update(h, b, 8);
	for (size_t i = 0; i < ct->nread; i++)
		hash_str(h, ct->read[i]);
	store_be64(b, ct->ncollections);
	crypto_generichash_blake2b_update(h, b, 8);
	for (size_t i = 0; i < ct->ncollections; i++)
		hash_str(h, ct->collections[i]);
	store_be64(b, ct->not_before_ms);
	crypto_generichash_blake2b_update(h, b, 8);
	store_be64(b, ct->expires_ms);
	crypto_generichash_blake2b_update(h, b, 8);
}

int sync__context(struct conn *c, struct store_txn *t, uint8_t ret[32])
{
	crypto_generichash_blake2b_state h;
	const struct config *cfg = &c->d->cfg;
	uint8_t trust[32], b[8];
	uint64_t n;
	int r;

	/* the trust set holds the scope moves sharing goes through */
	if ((r = trustset_digest(t, trust, &n)) < 0)
		return r;
	crypto_generichash_blake2b_init(&h, (const uint8_t *)CONTEXT_KEY,
					sizeof(CONTEXT_KEY) - 1, 32);
	crypto_generichash_blake2b_update(&h, c->d->node->pk, 32);
	crypto_generichash_blake2b_update(&h, c->rpk, 32);
	hash_scopes(&h, (const char(*)[ENTRY_MAX_SCOPE + 1])cfg->scopes,
		    cfg->nscopes);
	hash_scopes(&h, (const char(*)[ENTRY_MAX_SCOPE + 1])c->sy.scopes,
		    c->sy.nscopes);
	hash_grant(&h, c->own);
	hash_grant(&h, c->cert);
	crypto_generichash_blake2b_update(&h, trust, 32);
	store_be64(b, n);
	crypto_generichash_blake2b_update(&h, b, 8);
	crypto_generichash_blake2b_final(&h, ret, 32);
	return 0;
}

void sync__heads_digest(const struct sync_item *v, size_t n, uint8_t ret[32])
{
	struct wire_heads_digest d;
	wire_heads_digest_init(&d, n);
	for (size_t i = 0; i < n; i++)
		wire_heads_digest_add(&d, v[i].item.id);
	wire_heads_digest_final(&d, ret);
}

/* --- SINCE ------------------------------------------------------------- */

/* Send TAKE for v[0..n). */
static int take_send(struct conn *c, const struct wire_take *v, size_t n)
{
	struct mp_writer w;
	int r;
	mp_writer_init(&w);
	if ((r = wire_put_take(&w, v, n)) == 0)
		r = sync__send_writer(c, &w);
	mp_writer_destroy(&w);
	return r;
}

/*
 * Both SINCEs are known: when they name the same basis, ask (one TAKE)
 * for the feeds of the peer's list where we are behind; otherwise the
 * dialling side reconciles in full. Both sides see the same two bases,
 * so they decide alike.
 */
static int since_decide(struct conn *c)
{
	struct sync_session *s = &c->sy;
	struct store_txn *t = NULL;
	struct wire_take *take = NULL;
	size_t ntake = 0;
	int r = 0;

	s->since_done = 1;
	if (!s->since_ours || !s->since_theirs ||
	    memcmp(s->since_basis, s->since_their_basis, 32) != 0) {
		r = c->initiator ? sync_session_reconcile(c) : 0;
		goto out;
	}
	if (c->info)
		c->info->since_used++;
	/* the periodic full reconciliation counts from here */
	s->last_reconcile = uv_now(c->d->loop);
	if (!s->since_n && !s->since_mine_n) {
		/* nothing moved on either side: the basis holds as it is,
		 * and needs no STATE until our heads move */
		memcpy(s->state_mine, s->since_basis, 32);
		memcpy(s->state_peer, s->since_basis, 32);
		memcpy(s->ctx, s->since_ctx, 32);
		s->state_mine_ok = s->state_peer_ok = 1;
		s->state_version = s->saved_version = s->since_version;
		memcpy(s->saved_ctx, s->since_ctx, 32);
		s->saved_any = 1;
	}
	if (s->since_n &&
	    !(take = malloc(s->since_n * sizeof(*take)))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = store_txn_begin(c->d->node->st, 1, &t)) < 0)
		goto out;
	for (size_t i = 0; i < s->since_n; i++) {
		const struct wire_feed *wf = &s->since_feeds[i];
		struct log_feed f;
		uint64_t mine = 0;
		r = log_feed_get(t, wf->key, &f);
		if (r == 0) {
			/* frozen by a fork: nothing more to ask for */
			if (!sync__scope_shared(c, f.scope) ||
			    sync__feed_closed(&f))
				continue;
			mine = f.seq;
		} else if (r != HAMLET_ENOTFOUND) {
			break;
		}
		r = 0;
		/* where we are ahead, our own list named the feed */
		if (mine < wf->seq) {
			take[ntake].index = i;
			take[ntake++].seq = mine;
		}
	}
	store_txn_abort(t);
	if (r < 0)
		goto out;
	if (ntake)
		r = take_send(c, take, ntake);
	else if (c->info)
		c->info->last_sync_ms = peer_wall_ms();
out:
	free(take);
	free(s->since_feeds);
	s->since_feeds = NULL;
	s->since_n = 0;
	return r < 0 ? r : 0;
}

int sync__on_take(struct conn *c, const struct wire_msg *m, char *why,
		  size_t wl)
{
	struct sync_session *s = &c->sy;
	int r = 0;

	if (s->take_got || !s->since_sent) {
		snprintf(why, wl, "TAKE %s",
			 s->take_got ? "twice on one session"
				     : "before our SINCE");
		return HAMLET_EPROTO;
	}
	s->take_got = 1;
	for (size_t i = 0; i < m->take.n && r == 0; i++) {
		const struct wire_take *tk = &m->take.v[i];
		if (tk->index >= s->since_mine_n) {
			snprintf(why, wl,
				 "TAKE.items[%zu] names feed %llu of a SINCE of %zu",
				 i, (unsigned long long)tk->index,
				 s->since_mine_n);
			return HAMLET_EPROTO;
		}
		r = sync__want_queue(c, s->since_mine[tk->index].key, tk->seq,
				     why, wl);
	}
	free(s->since_mine);
	s->since_mine = NULL;
	s->since_mine_n = 0;
	if (r == 0)
		sync_session_pump(c);
	return r;
}

int sync__since_ready(struct conn *c, const uint8_t *basis,
		      const uint8_t ctx[32], uint64_t ver,
		      const struct wire_feed *f, size_t n)
{
	struct sync_session *s = &c->sy;
	struct mp_writer w;
	int r;

	mp_writer_init(&w);
	if ((r = wire_put_since(&w, basis, f, n)) == 0)
		r = sync__send_writer(c, &w);
	mp_writer_destroy(&w);
	if (r < 0)
		return r;
	s->since_sent = 1;
	s->since_ours = basis != NULL;
	/* kept for the peer's TAKE, which names them by index */
	if (n && !(s->since_mine = malloc(n * sizeof(*s->since_mine))))
		return -ENOMEM;
	if (n)
		memcpy(s->since_mine, f, n * sizeof(*s->since_mine));
	s->since_mine_n = n;
	if (basis)
		memcpy(s->since_basis, basis, 32);
	s->since_version = ver;
	memcpy(s->since_ctx, ctx, 32);
	return s->since_got ? since_decide(c) : 0;
}

int sync__on_since(struct conn *c, const struct wire_msg *m, char *why,
		   size_t wl)
{
	struct sync_session *s = &c->sy;
	size_t n = m->feeds.nfeeds;

	if (s->since_got) {
		snprintf(why, wl, "a second SINCE on one session");
		return HAMLET_EPROTO;
	}
	s->since_got = 1;
	s->since_theirs = m->since.has_basis;
	memcpy(s->since_their_basis, m->since.basis, 32);
	if (n && !(s->since_feeds = malloc(n * sizeof(*s->since_feeds))))
		return -ENOMEM;
	if (n)
		memcpy(s->since_feeds, m->feeds.feeds,
		       n * sizeof(*s->since_feeds));
	s->since_n = n;
	return s->since_sent ? since_decide(c) : 0;
}

/* --- STATE ------------------------------------------------------------- */

struct save_job {
	struct ingest_job job;
	struct daemon *d;
	uint8_t peer[32];
	struct peerbase base;
	uint64_t acked; /* peer_info.acked_out when the two agreed */
};

static void save_done(struct ingest_job *job)
{
	struct save_job *j = job->data;
	struct peer_info *p;
	if (job->r < 0 && job->r != -ECANCELED)
		dlog(DLOG_WARNING,
		     _("cannot keep what this node held when it last agreed with a peer (the next session reconciles in full): %s"),
		     hamlet_strerror(job->r));
	/* the basis status reads is this one now: what the peer
	 * acknowledged after the two agreed is subtracted from it */
	if (job->r == 0 && (p = peer_info_find(j->d, j->peer))) {
		p->acked_base = j->acked;
		p->acked_version = j->base.version; /* kept so (contact.c) */
	}
	free(j);
}

/* Both digests are the same: the two sides agree, which counts as a
 * sync whatever either holds; keep the basis, once per version and
 * sharing context. */
static void agreed(struct conn *c)
{
	struct sync_session *s = &c->sy;
	struct save_job *j;

	if (c->info) {
		struct peer_info *p = c->info;
		p->last_sync_ms = peer_wall_ms();
		/* nothing is awaited of a peer that holds what we hold:
		 * the sync under way has ended, whatever its count says
		 * (what was asked for and what came are counted apart, and
		 * the two may not meet: an entry counted twice, or one
		 * that came another way) */
		if (PEER_RX_ACTIVE(p) && !sync__wants_pending(c)) {
			/* (a STATE the peer read before it wrote what we
			 * ask now agrees with ours too: then that is still
			 * on its way, and the count goes on) */
			p->rx_got = p->rx_want;
			p->rx_done_ms = p->last_sync_ms;
		}
		p->rx_carry = 0;
		p->rx_cut = 0;
	}
	if (s->saved_any && s->saved_version == s->state_version &&
	    memcmp(s->saved_ctx, s->ctx, 32) == 0)
		return;
	if (!(j = calloc(1, sizeof(*j))))
		return;
	j->d = c->d;
	memcpy(j->peer, c->rpk, 32);
	/* what it acknowledged up to now it holds: entries it acknowledges
	 * from now on are subtracted from what arrived after the basis (an
	 * entry that arrived after our heads were read and was acknowledged
	 * before the peer's STATE came is counted until the next agreement:
	 * too many rather than too few) */
	j->acked = c->info ? c->info->acked_out : 0;
	j->base.version = s->state_version;
	j->base.lseq = s->state_lseq;
	memcpy(j->base.digest, s->state_mine, 32);
	memcpy(j->base.ctx, s->ctx, 32);
	j->base.used_ms = peer_wall_ms();
	j->job.kind = INGEST_PEERBASE;
	j->job.n = 1;
	j->job.peer = j->peer;
	j->job.base = &j->base;
	j->job.data = j;
	if (ingest_submit(c->d->ingest, &j->job, save_done) < 0) {
		free(j); /* busy: the next STATE tries again */
		return;
	}
	s->saved_any = 1;
	s->saved_version = s->state_version;
	memcpy(s->saved_ctx, s->ctx, 32);
	if (c->info)
		c->info->agreed++;
}

int sync__state_agree_now(struct conn *c)
{
	struct sync_session *s = &c->sy;
	if (!s->state_mine_ok || !s->state_peer_ok ||
	    memcmp(s->state_mine, s->state_peer, 32) != 0)
		return 0;
	agreed(c);
	return 1;
}

int sync__state_ready(struct conn *c, const uint8_t digest[32],
		      const uint8_t ctx[32], uint64_t ver, uint64_t lseq,
		      uint64_t cost_ms)
{
	struct sync_session *s = &c->sy;
	struct mp_writer w;
	int r;

	s->state_busy = 0;
	memcpy(s->ctx, ctx, 32);
	s->state_cost_ms = cost_ms;
	memcpy(s->state_mine, digest, 32);
	s->state_version = ver;
	s->state_lseq = lseq;
	s->state_mine_ok = 1;
	s->state_at = uv_now(c->d->loop);
	mp_writer_init(&w);
	if ((r = wire_put_state(&w, digest)) == 0)
		r = sync__send_writer(c, &w);
	mp_writer_destroy(&w);
	if (r < 0)
		return r;
	if (s->state_peer_ok && memcmp(s->state_peer, digest, 32) == 0)
		agreed(c);
	return 0;
}

int sync__on_state(struct conn *c, const struct wire_msg *m, char *why,
		   size_t wl)
{
	struct sync_session *s = &c->sy;
	(void)why;
	(void)wl;
	memcpy(s->state_peer, m->state.digest, 32);
	s->state_peer_ok = 1;
	if (s->state_mine_ok && memcmp(s->state_mine, m->state.digest, 32) == 0)
		agreed(c);
	return 0;
}

/* Nothing in flight either way on this session. */
static int session_idle(const struct conn *c)
{
	const struct sync_session *s = &c->sy;
	return !s->nstreams && s->tx_begun == s->tx_acked && !s->held &&
	       !s->rx_batch && !s->rx_next && !s->rx_committing &&
	       !s->rx_full &&
	       sync__neg_idle(c);
}

void sync__state_tick(struct conn *c, uint64_t now)
{
	struct sync_session *s = &c->sy;
	struct store_txn *t;
	struct heads_totals tot = { 0 };
	uint64_t gap;
	int r;

	/* reading the shared heads costs O(feeds): at most 1 % of the time
	 * of a core per session, and never more than once a second */
	gap = SYNC_STATE_COST_FACTOR * s->state_cost_ms;
	if (gap < SYNC_STATE_MIN_MS)
		gap = SYNC_STATE_MIN_MS;
	if (c->closing || c->state != CONN_READY || !s->since_done ||
	    s->state_busy || !session_idle(c) ||
	    (s->state_at && now - s->state_at < gap))
		return;
	/* O(1): has anything moved since our last STATE? */
	if (store_txn_begin(c->d->node->st, 1, &t) < 0)
		return;
	r = heads_totals_get(t, &tot);
	store_txn_abort(t);
	if ((r < 0 && r != HAMLET_ENOTFOUND) ||
	    (s->state_mine_ok && tot.version == s->state_version))
		return;
	if (sync__state_start(c) == 0)
		s->state_busy = 1;
}
