#include "ingest.h"
#include "dlog.h"
#include "heard.h"
#include "scopemap.h"

#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ingest {
	uv_loop_t *loop;
	struct node *node;
	size_t nscopes;
	char scopes[16][ENTRY_MAX_SCOPE + 1];
	struct ingest_job *head, *tail; /* queued, not yet running */
	struct ingest_job *running;
	size_t pending; /* queued + running */
	int stopped;
	ingest_commit_cb commit_cb;
	void *commit_ctx;
	ingest_trust_cb trust_cb;
	void *trust_ctx;
	struct ingest_refused refused;
	struct ingest_hist hist;
	/* what the running job found of HOME/own-feeds (it could not be
	 * written; it was changed since, and merged or no longer reads):
	 * logged after the job, on the loop, at feeds_level (0: nothing) */
	char feeds_why[1024];
	int feeds_level;
	/* a scope move joined the trust set since ingest_moved_clear() */
	int moved;
};

const double INGEST_HIST_MS[INGEST_HIST_N] = { 1,   2,	 5,    10,   25,
					       50,  100, 250,  1000, 1e300 };

int ingest_moved(const struct ingest *q)
{
	return q->moved;
}

void ingest_moved_clear(struct ingest *q)
{
	q->moved = 0;
}

void ingest_moved_note(struct ingest *q)
{
	q->moved = 1;
}

const struct ingest_hist *ingest_hist(const struct ingest *q)
{
	return &q->hist;
}

static void hist_add(struct ingest_hist *h, uint64_t ns)
{
	double ms = (double)ns / 1e6;
	size_t i = 0;
	while (i + 1 < INGEST_HIST_N && ms > INGEST_HIST_MS[i])
		i++;
	h->counts[i]++;
	h->n++;
	h->sum_ms += ms;
}

int ingest_new(uv_loop_t *loop, struct node *node,
	       const char (*scopes)[ENTRY_MAX_SCOPE + 1], size_t nscopes,
	       struct ingest **ret)
{
	struct ingest *q;
	if (nscopes > sizeof(q->scopes) / sizeof(q->scopes[0]))
		return -EINVAL;
	if (!(q = calloc(1, sizeof(*q))))
		return -ENOMEM;
	q->loop = loop;
	q->node = node;
	q->nscopes = nscopes;
	for (size_t i = 0; i < nscopes; i++)
		snprintf(q->scopes[i], sizeof(q->scopes[i]), "%s", scopes[i]);
	*ret = q;
	return 0;
}

void ingest_on_commit(struct ingest *q, ingest_commit_cb cb, void *ctx)
{
	q->commit_cb = cb;
	q->commit_ctx = ctx;
}

void ingest_on_trust(struct ingest *q, ingest_trust_cb cb, void *ctx)
{
	q->trust_cb = cb;
	q->trust_ctx = ctx;
}

size_t ingest_pending(const struct ingest *q)
{
	return q->pending;
}

const struct ingest_refused *ingest_refused(const struct ingest *q)
{
	return &q->refused;
}

static void count_refusal(struct ingest_refused *c, int err)
{
	switch (err) {
	case HAMLET_ESCOPE:
		c->out_of_scope++;
		break;
	case HAMLET_EFUTURE:
		c->future++;
		break;
	case HAMLET_EHELDCAP:
		c->held_cap++;
		break;
	case HAMLET_EFORKED:
		c->frozen++;
		break;
	case HAMLET_ECERT:
		c->not_granted++;
		break;
	case HAMLET_EREVOKED:
		c->revoked++;
		break;
	default:
		c->invalid++;
	}
}

/* On the loop thread: a finished job's refusals added to the totals. */
static void count_refused(struct ingest *q, const struct ingest_job *j)
{
	struct ingest_refused *c = &q->refused;

	if (j->kind == INGEST_TRUST && j->r >= 0)
		c->revoked += j->stats.taken_out; /* SPEC §9 */
	if (j->kind != INGEST_ENTRIES)
		return;
	c->held_expired += j->stats.held_expired;
	if (j->r < 0) {
		/* a whole job refused for its first bad entry, all of its
		 * entries with it; or our store failed, and nothing was
		 * judged */
		if (j->fault)
			for (size_t i = 0; i < j->n; i++)
				count_refusal(c, j->r);
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		if (j->out[i].status == LOG_FORK)
			c->forks++;
		else if (j->out[i].status == LOG_REJECTED &&
			 (j->whole || j->out[i].err != HAMLET_ESCOPE))
			/* a bundle's entries of other scopes are "not
			 * ours", not refused; a peer's are refused */
			count_refusal(c, j->out[i].err);
	}
}

/* --- the checks every arriving entry passes, whoever brought it -------- */

/*
 * Why entry i may not enter this node, or 0. Decoding here is cheap next
 * to the signature check that log_ingest does after it.
 */
static int entry_admit(const struct ingest *q, const struct ingest_job *j,
		       size_t i, uint64_t *ret_seq, char *why, size_t wl)
{
	const struct log_in *in = &j->in[i];
	struct entry e;
	uint8_t k[32];
	int r;

	*ret_seq = 0;
	if ((r = entry_decode(in->env, in->env_len, &e, NULL)) < 0) {
		snprintf(why, wl, N_("envelope: %s"), hamlet_strerror(r));
		return r;
	}
	*ret_seq = e.seq;
	if (j->feeds) {
		log_feed_key(e.author, e.scope, k);
		if (memcmp(k, j->feeds[i], 32) != 0) {
			snprintf(why, wl,
				 N_("seq %llu is not of the feed its message named"),
				 (unsigned long long)e.seq);
			return HAMLET_EPROTO;
		}
	}
	/* scopes through the scope moves: a merged commune's villages
	 * belong to the new commune's node */
	const struct scopemap *sm = q->node->smap;
	if (!scopemap_under_any(sm, e.scope, q->scopes, q->nscopes)) {
		snprintf(why, wl,
			 N_("seq %llu of scope %s lies outside this node's scopes"),
			 (unsigned long long)e.seq, e.scope);
		return HAMLET_ESCOPE;
	}
	if (j->peer && j->peer_cert && memcmp(e.author, j->peer, 32) == 0 &&
	    !scopemap_may_write(sm, j->peer_cert, e.scope, e.collection)) {
		snprintf(why, wl,
			 N_("seq %llu: its author's certificate (\"%s\") does not let it write %s in scope %s"),
			 (unsigned long long)e.seq, j->peer_cert->name,
			 e.collection, e.scope);
		return HAMLET_ECERT;
	}
	return scopemap_keep_check(sm, j->read_grant, q->node->scope, &e, why,
				   wl);
}

/*
 * Check every entry; store those admitted in one transaction. For a
 * whole job one refusal refuses all; otherwise the refused are reported
 * one by one beside the stored.
 */
static void run_entries(struct ingest *q, struct ingest_job *j)
{
	struct log_in *ok = NULL;
	struct log_out *ok_out = NULL;
	size_t *idx = NULL, nok = 0;
	struct heard_via via = { .kind = HEARD_LOCAL };
	int r;

	if (!(ok = malloc(j->n * sizeof(*ok))) ||
	    !(ok_out = malloc(j->n * sizeof(*ok_out))) ||
	    !(idx = malloc(j->n * sizeof(*idx)))) {
		j->r = -ENOMEM;
		snprintf(j->why, sizeof(j->why), "out of memory");
		goto out;
	}
	for (size_t i = 0; i < j->n; i++) {
		struct log_out *o = &j->out[i];
		uint64_t seq;
		memset(o, 0, sizeof(*o));
		r = entry_admit(q, j, i, &seq, o->why, sizeof(o->why));
		if (r == 0) {
			ok[nok] = j->in[i];
			idx[nok++] = i;
			continue;
		}
		o->status = LOG_REJECTED;
		o->err = r;
		o->seq = seq;
		entry_id(j->in[i].env, j->in[i].env_len, o->id);
		j->stats.rejected++;
		if (!j->fault) {
			j->fault = 1;
			snprintf(j->why, sizeof(j->why), "entry %zu: %s", i,
				 o->why);
		}
		if (j->whole) {
			j->r = r;
			goto out;
		}
	}
	if (nok == 0)
		goto out;
	if (j->peer)
		heard_via_peer(&via, j->peer);
	if (j->check) /* whole, so ok[] is in[] */
		r = log_ingest_checked(q->node->st, j->check, ok_out, &j->stats,
				       &j->adv_,
				       j->held_budget ? *j->held_budget
						      : UINT64_MAX,
				       &via);
	else
		r = log_ingest_via(q->node->st, q->node->net.id, ok, nok,
				   ok_out, &j->stats, &j->adv_,
				   j->held_budget ? *j->held_budget : UINT64_MAX,
				   &via);
	if (r < 0) {
		j->r = r;
		j->fault = 0;
		snprintf(j->why, sizeof(j->why),
			 "nothing of the %zu entries was stored: %s", j->n,
			 hamlet_strerror(r));
		goto out;
	}
	for (size_t k = 0; k < nok; k++) {
		const struct log_out *o = &ok_out[k];
		j->out[idx[k]] = *o;
		/* an entry dated far ahead or past the held caps may be
		 * relayed in good faith: refused, but not the sender's fault;
		 * so may one this node's trust set refuses (a revocation or
		 * a revoked issuer the sender has not heard of yet), and one
		 * of a feed frozen here after a fork whose proof the sender
		 * has not received yet (its author most often: the real PC
		 * of a copied key, which hears of it by that proof) */
		if (o->status == LOG_REJECTED && !j->fault &&
		    o->err != HAMLET_EFUTURE && o->err != HAMLET_EHELDCAP &&
		    o->err != HAMLET_EREVOKED && o->err != HAMLET_ECERT &&
		    o->err != HAMLET_EFORKED) {
			const struct log_in *in = &j->in[idx[k]];
			struct entry e;
			uint64_t seq = o->seq; /* 0 when not stored: its own */
			if (!seq && entry_decode(in->env, in->env_len, &e,
						 NULL) == 0)
				seq = e.seq;
			j->fault = 1;
			snprintf(j->why, sizeof(j->why),
				 "entry %zu (seq %llu) rejected: %s", idx[k],
				 (unsigned long long)seq, o->why);
		}
	}
out:
	free(ok);
	free(ok_out);
	free(idx);
}

/* j and the jobs of its group (group_), in one commit. */
static void run_write(struct ingest *q, struct ingest_job *j)
{
	struct log_write_req reqs[INGEST_WRITE_GROUP];
	struct ingest_job *g;
	struct log_author au;
	size_t n = 0;
	int r;

	/* a certificate installed since the daemon started counts, and an
	 * own-feeds file mended, or changed, since */
	node_grant_refresh(q->node);
	r = node_feeds_refresh(q->node, q->feeds_why, sizeof(q->feeds_why));
	if (r)
		q->feeds_level = r == 1 ? DLOG_ERR : DLOG_WARNING;
	node_author(q->node, &au);
	for (g = j; g && n < INGEST_WRITE_GROUP; g = g->group_)
		reqs[n++] = (struct log_write_req){ .ops = g->ops, .n = g->n,
						    .out = g->out,
						    .why = g->why,
						    .whylen = sizeof(g->why) };
	r = log_write_group(q->node->st, &au, reqs, n, &j->adv_);
	n = 0;
	for (g = j; g && n < INGEST_WRITE_GROUP; g = g->group_, n++) {
		g->r = reqs[n].r;
		g->failed = reqs[n].failed;
	}
	(void)r; /* each request has its own result */
}

static void run_trust(struct ingest *q, struct ingest_job *j)
{
	struct cert_chain *ch = malloc(sizeof(*ch));
	struct log_reader rd;

	if (!ch) {
		j->r = -ENOMEM;
		snprintf(j->why, sizeof(j->why), "out of memory");
		return;
	}
	/* what this node keeps, now: a fork proof of a feed it may not
	 * read is not stored, from a peer or a bundle */
	node_reader(q->node, ch, &rd);
	j->r = log_trust_ingest_read(q->node->st, q->node->net.id, &rd,
				     j->items, j->n, j->tout, &j->stats,
				     &j->adv_);
	free(ch);
	if (j->r < 0)
		snprintf(j->why, sizeof(j->why),
			 "nothing of the %zu trust items was stored: %s", j->n,
			 hamlet_strerror(j->r));
}

/* What the node's certificate (installed since it was last read), read
 * again now, does not let it read leaves the store (log_keep_reads);
 * nothing when it does not hold now. */
static void run_keep(struct ingest *q, struct ingest_job *j)
{
	struct cert_chain *ch = malloc(sizeof(*ch));
	struct log_reader rd;

	if (!ch) {
		j->r = -ENOMEM;
		snprintf(j->why, sizeof(j->why), "out of memory");
		return;
	}
	node_reader(q->node, ch, &rd);
	/* a certificate that does not hold now (ended, or its file no
	 * longer reads) takes nothing out: judged by the node's own scope
	 * alone, it would empty the store of all else (as keep_at_start) */
	j->r = rd.grant ? log_keep_reads(q->node->st, &rd, &j->keep) : 0;
	free(ch);
	if (j->r < 0)
		snprintf(j->why, sizeof(j->why), "nothing was taken out: %s",
			 hamlet_strerror(j->r));
}

/* HOME/own-feeds again, after a write of it failed: what came of it is
 * logged after the job, as the file's other findings are; a try that
 * fails again says nothing (the first failure was said). */
static void run_feeds(struct ingest *q)
{
	char why[sizeof(q->feeds_why)];
	int r = node_feeds_retry(q->node, why, sizeof(why));

	if (r == 0 || (r < 0 && r != HAMLET_ECONFIG) || q->feeds_level)
		return;
	memcpy(q->feeds_why, why, sizeof(why));
	q->feeds_level = r == 1	  ? DLOG_NOTICE
			 : r == 2 ? DLOG_WARNING
				  : DLOG_ERR;
}

/* On a thread-pool thread: the only writer while the job runs. */
static void job_work(uv_work_t *w)
{
	struct ingest_job *j = w->data;
	uint64_t t0 = uv_hrtime();
	if (j->kind == INGEST_ENTRIES)
		run_entries(j->q_, j);
	else if (j->kind == INGEST_TRUST)
		run_trust(j->q_, j);
	else if (j->kind == INGEST_CONTACT)
		j->r = heard_contacts_save(j->q_->node->st, j->contacts, j->n);
	else if (j->kind == INGEST_WRITE)
		run_write(j->q_, j);
	else if (j->kind == INGEST_PEERBASE)
		j->r = peerbase_save(j->q_->node->st, j->peer, j->base);
	else if (j->kind == INGEST_KEEP)
		run_keep(j->q_, j);
	else if (j->kind == INGEST_FEEDS)
		run_feeds(j->q_);
	/* the node's own feeds as the commit left them, kept outside the
	 * store (node.h): here, not on the loop, as the file is synced */
	if (j->adv_.n) {
		char why[sizeof(j->q_->feeds_why)];
		int r = node_feeds_advance(j->q_->node, &j->adv_, why,
					   sizeof(why));
		if (r && !j->q_->feeds_level) { /* the first said */
			memcpy(j->q_->feeds_why, why, sizeof(why));
			j->q_->feeds_level = r == HAMLET_ECONFIG ? DLOG_ERR
								 : DLOG_WARNING;
		}
	}
	j->ns_ = uv_hrtime() - t0;
	/* an erasure's rewrite of the store put off while another process
	 * had it open: now, if it is alone */
	store_compact_retry(j->q_->node->st);
}

static void run_next(struct ingest *q);

static void job_after(uv_work_t *w, int status)
{
	struct ingest_job *j = w->data, *g, *next;
	struct ingest *q = j->q_;
	struct log_advances adv = j->adv_;
	int trusted = 0;

	if (j->kind == INGEST_TRUST && j->r == 0)
		for (size_t i = 0; i < j->n; i++) {
			if (j->tout[i].status != TRUSTSET_ADDED)
				continue;
			trusted = 1;
			if (j->items[i].kind == TRUST_MOVE)
				q->moved = 1;
		}
	/* a fork found among arriving entries: its proof joined the set,
	 * and goes to the sessions (SPEC §9, "Forks") */
	if (j->kind == INGEST_ENTRIES && j->r == 0 && j->stats.forks)
		trusted = 1;
	/* feeds and fork proofs taken out: sessions state again what they
	 * hold */
	if (j->kind == INGEST_KEEP && j->r == 0)
		trusted = j->keep.entries || j->keep.feeds || j->keep.held ||
			  j->keep.proofs;
	/* no job runs now: the next one and the loop see the new map */
	if (trusted)
		node_scopes_refresh(q->node);
	memset(&j->adv_, 0, sizeof(j->adv_));
	q->running = NULL;
	if (status == 0)
		hist_add(&q->hist, j->ns_);
	for (g = j; g; g = next) {
		next = g->group_; /* the callback may free g */
		g->group_ = NULL;
		q->pending--;
		if (status < 0 && g->r == 0) {
			g->r = -ECANCELED;
			snprintf(g->why, sizeof(g->why),
				 "the daemon is stopping");
		}
		count_refused(q, g);
		g->cb_(g);
	}
	if (trusted && q->trust_cb)
		q->trust_cb(q->trust_ctx);
	if (q->feeds_level) {
		dlog(q->feeds_level, "%s", dlog_tr(q->feeds_why));
		q->feeds_level = 0;
	}
	if (adv.n && q->commit_cb)
		q->commit_cb(q->commit_ctx, &adv);
	log_advances_close(&adv);
	run_next(q);
}

/* Take the next job off the queue; a write takes the writes queued right
 * behind it into its group (group_), up to INGEST_WRITE_GROUP. */
static struct ingest_job *take_next(struct ingest *q)
{
	struct ingest_job *j = q->head, *last;
	size_t k = 1;

	q->head = j->next_;
	j->group_ = NULL;
	for (last = j; j->kind == INGEST_WRITE && q->head &&
		       q->head->kind == INGEST_WRITE && k < INGEST_WRITE_GROUP;
	     k++) {
		last->group_ = q->head;
		last = q->head;
		q->head = last->next_;
		last->group_ = NULL;
	}
	if (!q->head)
		q->tail = NULL;
	return j;
}

static void run_next(struct ingest *q)
{
	struct ingest_job *j, *next;
	int r;
	while (!q->running && !q->stopped && q->head) {
		j = take_next(q);
		j->work_.data = j;
		q->running = j;
		if ((r = uv_queue_work(q->loop, &j->work_, job_work,
				       job_after)) == 0)
			return;
		q->running = NULL;
		for (; j; j = next) {
			next = j->group_;
			j->group_ = NULL;
			q->pending--;
			j->r = r;
			snprintf(j->why, sizeof(j->why),
				 "cannot queue work: %s", dlog_err(r));
			j->cb_(j);
		}
	}
}

int ingest_submit(struct ingest *q, struct ingest_job *j, ingest_done_cb cb)
{
	if (q->stopped)
		return -ECANCELED;
	if (q->pending >= INGEST_MAX_JOBS)
		return -EBUSY;
	if (j->kind == INGEST_TRUST) {
		if (j->n == 0 || j->n > LOG_MAX_BATCH || !j->items || !j->tout)
			return -EINVAL;
	} else if (j->kind == INGEST_CONTACT) {
		if (j->n == 0 || j->n > HEARD_MAX_PEERS || !j->contacts)
			return -EINVAL;
	} else if (j->kind == INGEST_COMPACT || j->kind == INGEST_KEEP ||
		   j->kind == INGEST_FEEDS) {
		if (j->n != 0)
			return -EINVAL;
	} else if (j->kind == INGEST_PEERBASE) {
		if (j->n != 1 || !j->peer || !j->base)
			return -EINVAL;
	} else if ((j->kind != INGEST_ENTRIES && j->kind != INGEST_WRITE) ||
		   j->n == 0 || j->n > LOG_MAX_BATCH || !j->out ||
		   (j->kind == INGEST_ENTRIES ? !j->in : !j->ops) ||
		   (j->check && (j->kind != INGEST_ENTRIES || !j->whole))) {
		return -EINVAL;
	}
	j->r = 0;
	j->fault = 0;
	j->failed = 0;
	j->why[0] = 0;
	memset(&j->stats, 0, sizeof(j->stats));
	memset(&j->keep, 0, sizeof(j->keep));
	memset(&j->adv_, 0, sizeof(j->adv_));
	j->q_ = q;
	j->cb_ = cb;
	j->next_ = NULL;
	if (q->tail)
		q->tail->next_ = j;
	else
		q->head = j;
	q->tail = j;
	q->pending++;
	run_next(q);
	return 0;
}

void ingest_stop(struct ingest *q)
{
	if (!q || q->stopped)
		return;
	q->stopped = 1;
	while (q->head) {
		struct ingest_job *j = q->head;
		q->head = j->next_;
		q->pending--;
		j->r = -ECANCELED;
		snprintf(j->why, sizeof(j->why), "the daemon is stopping");
		j->cb_(j);
	}
	q->tail = NULL;
}

void ingest_free(struct ingest *q)
{
	free(q);
}
