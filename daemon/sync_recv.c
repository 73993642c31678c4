/* sync: receiving a peer's batch and committing it through the writer. */
#include "sync.h"

#include "conn.h"
#include "daemon.h"
#include "dlog.h"
#include "error.h"
#include "ingest.h"
#include "log.h"
#include "peer.h"
#include "sync_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	uint64_t held_budget;
	uint64_t credit; /* the most entries it may hold */
	struct log_check *check; /* its entries on the verify pool */
};

size_t sync__batch_n(const struct sync_batch *b)
{
	return b->n;
}

void sync__batch_free(struct sync_batch *b)
{
	if (!b)
		return;
	/* first: the verify pool may still be checking the entries, whose
	 * bytes are in parts[] and in[] */
	log_check_free(b->check);
	for (size_t i = 0; i < b->nparts; i++)
		free(b->parts[i].buf);
	free(b->parts);
	free(b->in);
	free(b->feeds);
	free(b->out);
	free(b);
}

/*
 * The size of a coming batch: two batches are all a peer may have in
 * flight, so they are what a crash or a dropped link can cost. Grow it while full
 * batches arrive quickly (loopback, LAN), shrink it when one takes long
 * (2G), so that a batch takes about SYNC_BATCH_TARGET_MS.
 */
static uint64_t next_credit(uint64_t credit, const struct sync_batch *b,
			    uint64_t ms, uint64_t ceiling)
{
	int full = b->n >= b->credit || b->bytes >= SYNC_BATCH_BYTES;
	if (ms > 2 * SYNC_BATCH_TARGET_MS)
		credit /= 2;
	else if (full && ms < SYNC_BATCH_TARGET_MS / 8)
		credit *= 4; /* a fast link (LAN, loopback) skips the steps */
	else if (full && ms < SYNC_BATCH_TARGET_MS / 2)
		credit *= 2;
	if (credit > ceiling)
		credit = ceiling;
	if (credit < SYNC_BATCH_MIN)
		credit = SYNC_BATCH_MIN;
	return credit;
}

uint64_t sync_peer_ceiling(const struct peer_info *p)
{
	return p && p->batch_ceiling ? p->batch_ceiling : SYNC_BATCH_MAX;
}

/* A batch of p's committed: after SYNC_CEILING_REGROW of them, a
 * lowered ceiling doubles back. */
static void ceiling_committed(struct peer_info *p)
{
	if (!p || !p->batch_ceiling)
		return;
	if (++p->batches_since_ceiling < SYNC_CEILING_REGROW)
		return;
	p->batches_since_ceiling = 0;
	p->batch_ceiling *= 2;
	if (p->batch_ceiling >= SYNC_BATCH_MAX)
		p->batch_ceiling = 0;
}

void sync__ceiling_lost(struct peer_info *p)
{
	uint64_t c = sync_peer_ceiling(p) / 2;
	if (!p)
		return;
	p->batch_ceiling = c < SYNC_BATCH_MIN ? SYNC_BATCH_MIN : c;
	p->batches_since_ceiling = 0;
	p->batches_lost_in++;
}

/* Log, naming the peer, that n of its entries were refused as dated too
 * far ahead: at once the first time on a session, then at most once in
 * SYNC_AHEAD_SAY_MS, with the session's count, so a peer that sends
 * them again and again fills no log. */
static void ahead_say(struct conn *c, uint64_t n, uint64_t now)
{
	struct sync_session *s = &c->sy;
	uint64_t total = c->info ? c->info->ahead_in : n;
	if (s->ahead_said_ms && now - s->ahead_said_ms < SYNC_AHEAD_SAY_MS)
		return;
	s->ahead_said_ms = now ? now : 1;
	dlog(DLOG_WARNING,
	     P_("peer %s: refused %llu entry it sent, dated more than %llu h ahead of this node's clock (%llu on this session): that PC's clock, or this one's, is wrong",
		"peer %s: refused %llu entries it sent, dated more than %llu h ahead of this node's clock (%llu on this session): that PC's clock, or this one's, is wrong",
		n),
	     c->name, (unsigned long long)n,
	     (unsigned long long)(LOG_MAX_AHEAD_MS / 3600000),
	     (unsigned long long)total);
}

/* How many entries of b were refused for err; the first in *first. */
static uint64_t refused_for(const struct sync_batch *b, int err,
			    const struct log_out **first)
{
	uint64_t n = 0;

	for (size_t i = 0; i < b->n; i++)
		if (b->out[i].status == LOG_REJECTED && b->out[i].err == err &&
		    !n++)
			*first = &b->out[i];
	return n;
}

/* Log, naming the peer, the entries of b refused as of a feed frozen here
 * after a fork: no fault of the peer, which may not hold the fork's proof
 * yet (the real PC of a copied key writes on until the proof reaches it).
 * It sends them once a session (SPEC 5.7), so one line a batch is
 * bounded. */
static void frozen_say(struct conn *c, const struct sync_batch *b)
{
	const struct log_out *first = NULL;
	uint64_t n = refused_for(b, HAMLET_EFORKED, &first);

	if (!n)
		return;
	dlog(DLOG_WARNING,
	     P_("peer %s: refused %llu entry it sent: %s; not the peer's fault, the session goes on, and the fork's proof goes to it",
		"peer %s: refused %llu entries it sent, the first: %s; not the peer's fault, the session goes on, and the fork's proof goes to it",
		n),
	     c->name, (unsigned long long)n, dlog_tr(first->why));
}

/* Log, naming the peer, the entries of b refused as held entries over a
 * cap (of one sender, of the store, of one feed: SPEC 5.7): refused and
 * counted, not a fault, so at most once in SYNC_AHEAD_SAY_MS a session,
 * else a peer that sends them again and again would fill the log. */
static void heldcap_say(struct conn *c, const struct sync_batch *b,
			uint64_t now)
{
	struct sync_session *s = &c->sy;
	const struct log_out *first = NULL;
	uint64_t n = refused_for(b, HAMLET_EHELDCAP, &first);

	if (!n || (s->heldcap_said_ms &&
		   now - s->heldcap_said_ms < SYNC_AHEAD_SAY_MS))
		return;
	s->heldcap_said_ms = now ? now : 1;
	dlog(DLOG_WARNING,
	     P_("peer %s: refused %llu entry it sent that would wait for earlier ones of its feed: %s; not a fault, the session goes on (held_cap in hamlet status --json counts them)",
		"peer %s: refused %llu entries it sent that would wait for earlier ones of their feed, the first: %s; not a fault, the session goes on (held_cap in hamlet status --json counts them)",
		n),
	     c->name, (unsigned long long)n, dlog_tr(first->why));
}

/* What committed batch b stored, counted in the peer's figures: also
 * when its session ended while it committed (the entries are stored and
 * the peer will not send them again). */
static void batch_count(struct conn *c, const struct sync_batch *b,
			uint64_t ahead)
{
	const struct log_stats *st = &b->job.stats;
	struct peer_info *p = c->info;
	uint64_t counted = 0;

	if (!p)
		return;
	p->held_in += st->held_new;
	p->held_in -= st->released < p->held_in ? st->released : p->held_in;
	p->entries_in += st->applied;
	p->entries_dup_in += st->duplicate;
	p->batches_in++;
	p->last_sync_ms = peer_wall_ms();
	/* each run of a feed's entries: past what was asked of it? And
	 * which of them were counted as come already, when another peer
	 * or a bundle brought them first (sync__want_held()) */
	if (!c->closing && b->feeds && b->out) {
		size_t hint = 0, start = 0;
		uint64_t top = 0; /* the run's highest seq stored */
		for (size_t i = 0; i < b->n; i++) {
			uint64_t got;
			if (b->out[i].seq > top)
				top = b->out[i].seq;
			if (i + 1 < b->n &&
			    memcmp(b->feeds[i], b->feeds[i + 1], 32) == 0)
				continue;
			got = sync__want_got(c, b->feeds[i], &hint);
			for (size_t k = start; got != UINT64_MAX && k <= i; k++)
				counted += b->out[k].seq && b->out[k].seq <= got;
			if (top)
				sync__want_came(c, b->feeds[i], top, &hint);
			top = 0;
			start = i + 1;
		}
	}
	if (!p->rx_want && p->rx_cut && c->closing)
		/* its session was cut before it committed: the count the
		 * next session goes on from holds it (not this 0 / 0, which
		 * that one starts again from the carry) */
		p->rx_carry += b->n;
	else
		p->rx_got += b->n - counted;
	p->rx_last_ms = p->last_sync_ms;
	rate_note(&p->rx_rate, p->rx_last_ms, p->rx_got);
	if (p->rx_want && p->rx_got >= p->rx_want && !p->rx_done_ms)
		p->rx_done_ms = p->rx_last_ms; /* all that was asked came */
	if (p->rx_got > p->rx_want) /* more than asked for: all came */
		p->rx_got = p->rx_want;
	p->ahead_in += ahead;
}

/* The sender learns of entries held as too far ahead only from the ACK
 * (SPEC 5.7): how many of b's. */
static uint64_t batch_ahead(const struct sync_batch *b)
{
	const struct log_stats *st = &b->job.stats;
	return st->refused_future < b->n ? st->refused_future : b->n;
}

/* The batch is committed: acknowledge it with the next credit. */
static void batch_acked(struct conn *c, const struct sync_batch *b)
{
	struct sync_session *s = &c->sy;
	const struct log_stats *st = &b->job.stats;
	struct mp_writer w;
	uint64_t now = uv_now(c->d->loop);
	uint64_t ahead = batch_ahead(b);

	if (st->forks)
		dlog(DLOG_WARNING,
		     _("peer %s: a feed's author signed two histories; evidence kept"),
		     c->name);
	if (b->n) {
		frozen_say(c, b);
		heldcap_say(c, b, now);
	}
	if (b->n)
		ceiling_committed(c->info);
	s->rx_credit = next_credit(s->rx_credit, b, now - s->rx_grant_ms,
				   sync_peer_ceiling(c->info));
	s->rx_grant_ms = now;
	/* batch rx_acked is acknowledged: its slot goes to the batch two
	 * after it */
	s->rx_grant[s->rx_acked % SYNC_INFLIGHT] = s->rx_credit;
	s->rx_acked++;
	batch_count(c, b, ahead);
	if (c->info)
		c->info->batch_credit = s->rx_credit;
	if (ahead)
		ahead_say(c, ahead, now);
	if (st->duplicate)
		dlog(DLOG_DEBUG,
		     _("peer %s: %llu of %zu entries received were already stored"),
		     c->name, (unsigned long long)st->duplicate, b->n);
	mp_writer_init(&w);
	if (wire_put_ack(&w, b->n, s->rx_credit, ahead) == 0)
		sync__send_writer(c, &w);
	mp_writer_destroy(&w);
}

/*
 * The disk had no room for batch b: keep it (the peer waits for its ACK
 * and sends nothing more) and try again later, waiting longer each time
 * the disk is still full. One log line a try.
 */
static void batch_wait_for_room(struct conn *c, struct sync_batch *b,
				int err)
{
	struct sync_session *s = &c->sy;
	uint64_t wait = s->rx_full_wait ? s->rx_full_wait * 2
					: SYNC_FULL_RETRY_MS;
	const char *what = err == HAMLET_EMAPFULL
				   ? _("the store has reached its size limit")
				   : _("the disk holding the store is full");

	if (c->d->parked >= SYNC_FULL_PARKED_MAX) {
		/* memory is bounded too: this peer sends it again later */
		dlog(DLOG_WARNING,
		     _("peer %s: %s: %zu entries received not stored; session closed (%d batches already wait for room)"),
		     c->name, what, b->n, SYNC_FULL_PARKED_MAX);
		sync__batch_free(b);
		peer_conn_close(c, N_("no room to store"));
		return;
	}
	c->d->parked++;
	/* checked once already: tried again as a plain batch */
	log_check_free(b->check);
	b->check = NULL;
	b->job.check = NULL;

	if (wait > SYNC_FULL_RETRY_MAX_MS)
		wait = SYNC_FULL_RETRY_MAX_MS;
	s->rx_full_wait = wait;
	s->rx_full_at = uv_now(c->d->loop) + wait;
	s->rx_full = b;
	s->rx_committing = 1;
	if (c->info)
		c->info->disk_wait = b->n;
	dlog(DLOG_WARNING,
	     _("peer %s: %s: %zu entries received wait here, not stored; trying again in %llu s (free space on the disk; the peer sends nothing again meanwhile)"),
	     c->name, what, b->n, (unsigned long long)(wait / 1000));
}

static void batch_done(struct ingest_job *job);
static void batch_next(struct conn *c);

void sync_session_tick(struct conn *c, uint64_t now)
{
	struct sync_session *s = &c->sy;
	struct sync_batch *b = s->rx_full;
	int r;

	sync__state_tick(c, now);
	sync__budget_tick(c);
	if (!b || c->closing || now < s->rx_full_at)
		return;
	s->rx_full = NULL;
	peer_conn_ref(c); /* before: the callback may run at once */
	if ((r = ingest_submit(c->d->ingest, &b->job, batch_done)) < 0) {
		peer_conn_unref(c);
		if (r == -EBUSY) { /* the writer is busy: next tick */
			s->rx_full = b;
			return;
		}
		sync__batch_free(b);
		c->d->parked--;
		s->rx_committing = 0;
		peer_conn_close(c, N_("cannot queue the batch"));
		return;
	}
	c->d->parked--;
}

/* The ingest queue is done with a batch (committed, refused, cancelled). */
static void batch_done(struct ingest_job *job)
{
	struct sync_batch *b = job->data;
	struct conn *c = b->c;

	c->sy.rx_committing = 0;
	if (job->r == -ECANCELED) {
		/* the session ended first: the peer sends it again next time */
	} else if (c->closing) {
		/* the session ended while it committed: nothing to answer,
		 * but a batch committed whole is counted, as in a session
		 * still open */
		if (!job->fault && job->r >= 0)
			batch_count(c, b, batch_ahead(b));
	} else if (!job->fault &&
		   (job->r == HAMLET_EDISKFULL || job->r == HAMLET_EMAPFULL)) {
		batch_wait_for_room(c, b, job->r);
		peer_conn_unref(c);
		return;
	} else if (job->fault) {
		peer_conn_fault(c, job->r < 0 ? job->r : HAMLET_EPROTO,
				job->why);
	} else if (job->r < 0) {
		/* our store failed, not the peer */
		dlog(DLOG_ERR, _("peer %s: %s"), c->name, dlog_tr(job->why));
		peer_conn_close(c, N_("store error"));
	} else {
		if (c->sy.rx_full_wait)
			dlog(DLOG_NOTICE,
			     _("peer %s: the store takes entries again"),
			     c->name);
		c->sy.rx_full_wait = 0;
		if (c->info)
			c->info->disk_wait = 0;
		batch_acked(c, b);
		batch_next(c);
	}
	peer_conn_unref(c);
	sync__batch_free(b);
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
	size_t n = m->entries.n, bytes = 0, off, ndec = 0;
	struct entry *decs;
	uint8_t *buf;

	for (size_t i = 0; i < n; i++) {
		bytes += m->entries.v[i].env_len + ENTRY_SIG_LEN +
			 m->entries.v[i].body_len;
		ndec += m->entries.v[i].dec != NULL;
	}
	/* the rebuilt envelopes' fields first, where they are aligned. Not
	 * counted in b->bytes (the protocol's bound on what a batch
	 * carries): they are bounded by the batch's credit, at most
	 * SYNC_BATCH_MAX entries of sizeof(struct entry) */
	if (batch_grow(b, n) < 0 ||
	    !(buf = malloc(ndec * sizeof(*decs) + bytes + n * ENTRY_ID_LEN +
			   1)))
		return -ENOMEM;
	b->parts[b->nparts++].buf = buf;
	decs = (struct entry *)(void *)buf;
	off = ndec * sizeof(*decs);
	ndec = 0;
	for (size_t i = 0; i < n; i++) {
		const struct run_entry *we = &m->entries.v[i];
		struct log_in *in = &b->in[b->n + i];
		in->dec = NULL;
		if (we->dec) {
			memcpy(&decs[ndec], we->dec, sizeof(*decs));
			in->dec = &decs[ndec++];
		}
		memcpy(b->feeds[b->n + i], m->entries.key, 32);
		memcpy(buf + off, we->env, we->env_len);
		in->env = buf + off;
		in->env_len = we->env_len;
		off += we->env_len;
		memcpy(buf + off, we->sig, ENTRY_SIG_LEN);
		in->sig = buf + off;
		off += ENTRY_SIG_LEN;
		/* the run decoder hashed env as it rebuilt it */
		memcpy(buf + off, we->id, ENTRY_ID_LEN);
		in->id = buf + off;
		off += ENTRY_ID_LEN;
		in->body = NULL;
		in->body_len = 0;
		in->body_hashed = we->body_hashed;
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

/* Hand batch b, whole, to the node's one writer (nothing of this peer's
 * is committing). An empty one is acknowledged at once. */
static int batch_submit(struct conn *c, struct sync_batch *b, char *why,
			size_t wl)
{
	struct sync_session *s = &c->sy;
	int r;

	if (b->n == 0) {
		/* nothing to store: acknowledge it, in its turn */
		batch_acked(c, b);
		sync__batch_free(b);
		return 0;
	}
	b->job.kind = INGEST_ENTRIES;
	b->job.whole = 1;
	b->job.in = b->in;
	b->job.feeds = (const uint8_t(*)[32])b->feeds;
	b->job.check = b->check;
	b->job.n = b->n;
	b->job.out = b->out;
	b->job.data = b;
	b->job.read_grant = c->own;
	b->job.peer = c->rpk;
	b->job.peer_cert = c->cert;
	if (c->info) {
		/* what this peer may still have held, over a window as long
		 * as a held entry may wait */
		struct peer_info *p = c->info;
		uint64_t now = uv_now(c->d->loop);
		if (!p->held_since_ms ||
		    now - p->held_since_ms > LOG_MAX_HELD_AGE_MS) {
			p->held_in = 0;
			p->held_since_ms = now;
		}
		b->held_budget = p->held_in < HAMLETD_HELD_PER_PEER
					 ? HAMLETD_HELD_PER_PEER - p->held_in
					 : 0;
		b->job.held_budget = &b->held_budget;
	}
	s->rx_committing = 1;
	peer_conn_ref(c); /* before: the callback may run at once */
	if ((r = ingest_submit(c->d->ingest, &b->job, batch_done)) < 0) {
		s->rx_committing = 0;
		peer_conn_unref(c);
		sync__batch_free(b);
		if (r == -EBUSY) {
			/* not the peer's fault: it re-sends next session */
			peer_conn_close(c, N_("the node is busy storing"));
			return 0;
		}
		snprintf(why, wl, "cannot queue the batch: %s",
			 hamlet_strerror(r));
		return r;
	}
	return 0;
}

/* The batch before rx_next is committed and acknowledged: rx_next's turn
 * (its entries checked on the pool meanwhile, or being checked). */
static void batch_next(struct conn *c)
{
	struct sync_session *s = &c->sy;
	struct sync_batch *b = s->rx_next;
	char why[200];
	int r;

	if (!b || c->closing)
		return;
	s->rx_next = NULL;
	if ((r = batch_submit(c, b, why, sizeof(why))) < 0) {
		/* our queue failed, not the peer */
		dlog(DLOG_ERR, _("peer %s: %s"), c->name, dlog_tr(why));
		peer_conn_close(c, N_("store error"));
	}
}

/*
 * Batch b is whole: its entries go to the verify pool now, and the batch
 * to the writer when nothing of this peer's commits, else right after
 * (SPEC 5.7: the peer may send the next while one commits).
 */
static int batch_close(struct conn *c, struct sync_batch *b, char *why,
		       size_t wl)
{
	struct sync_session *s = &c->sy;
	int r;

	s->rx_batch = NULL;
	if (b->n > 0 && (r = log_check_start(c->d->node->net.id, b->in, b->n,
					     &b->check)) < 0) {
		sync__batch_free(b);
		snprintf(why, wl, "cannot check the batch: %s",
			 hamlet_strerror(r));
		return r;
	}
	if (!s->rx_committing)
		return batch_submit(c, b, why, wl);
	s->rx_next = b; /* one at most: batch_open counts it */
	if (c->info)
		c->info->batches_in_overlap++;
	return 0;
}

/* The peer's next batch begins: refused past SYNC_INFLIGHT. */
static int batch_open(struct conn *c, char *why, size_t wl,
		      struct sync_batch **ret)
{
	struct sync_session *s = &c->sy;
	struct sync_batch *b;

	if (s->rx_begun - s->rx_acked >= SYNC_INFLIGHT) {
		snprintf(why, wl,
			 "ENTRIES of a third batch before the first of the two sent was acknowledged");
		return HAMLET_EPROTO;
	}
	if (!(b = calloc(1, sizeof(*b))))
		return -ENOMEM;
	b->c = c;
	b->credit = s->rx_grant[s->rx_begun % SYNC_INFLIGHT];
	s->rx_begun++;
	s->rx_batch = b;
	*ret = b;
	return 0;
}

int sync__on_entries(struct conn *c, const struct wire_msg *m, char *why,
		      size_t wl)
{
	struct sync_session *s = &c->sy;
	struct sync_batch *b = s->rx_batch;
	size_t n = m->entries.n;
	int r;

	if (!b && (r = batch_open(c, why, wl, &b)) < 0)
		return r;
	if (b->n + n > b->credit) {
		snprintf(why, wl,
			 "batch of more than the %llu entries granted",
			 (unsigned long long)b->credit);
		return HAMLET_EPROTO;
	}
	if (b->bytes >= SYNC_BATCH_BYTES) {
		snprintf(why, wl, "batch goes on past %zu bytes",
			 SYNC_BATCH_BYTES);
		return HAMLET_EPROTO;
	}
	if (n > 0 && batch_add(b, m) < 0)
		return -ENOMEM;
	if (!m->entries.last)
		return 0;
	return batch_close(c, b, why, wl);
}
