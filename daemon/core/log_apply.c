/*
 * log_apply: storing one checked entry, for arriving entries (log.c) and
 * local writes (log_write.c) alike: its feed's new head, entries held
 * for the ones before them, forks kept as evidence, bodies filled in
 * again, the records to materialize and the heads moved; and the applier
 * that carries them through one write transaction.
 */
#include "log_internal.h"
#include "why.h"

#include "error.h"
#include "hlc.h"
#include "refused.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- applying ---------------------------------------------------------- */

int log__dirty_add(struct log__dirty *d, const struct entry *e,
		   uint64_t lseq, int fresh)
{
	struct log__dirty_key *k;
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 256;
		void *p = realloc(d->keys, nc * sizeof(*d->keys));
		if (!p)
			return -ENOMEM;
		d->keys = p;
		d->cap = nc;
	}
	k = &d->keys[d->n];
	{
		/* "collection/id": both within their limits (SPEC 1.1) */
		size_t cl = strlen(e->collection), il = strlen(e->record_id);
		if (cl + 1 + il >= sizeof(k->key))
			return HAMLET_EFORMAT;
		memcpy(k->key, e->collection, cl);
		k->key[cl] = '/';
		memcpy(k->key + cl + 1, e->record_id, il + 1);
	}
	k->lseq = lseq;
	k->fresh = fresh;
	k->order = d->n++;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	const struct log__dirty_key *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

int log__dirty_flush(struct store_txn *t, struct log__dirty *d)
{
	uint64_t seq, old;
	int r = 0, fresh = 0;
	/* no record to make: the changes a take-out noted (gone) still
	 * have their last seq written */
	if (d->n == 0) {
		r = changes_flush(t, &d->ch);
		memset(&d->ch, 0, sizeof(d->ch));
		return r;
	}
	qsort(d->keys, d->n, sizeof(*d->keys), cmp_key);
	for (size_t i = 0; i < d->n; i++) {
		/* once per record, naming its latest entry */
		fresh |= d->keys[i].fresh;
		if (i + 1 < d->n && strcmp(d->keys[i].key, d->keys[i + 1].key) == 0)
			continue;
		char *slash = strchr(d->keys[i].key, '/');
		*slash = 0;
		r = changes_next(t, &d->ch, &seq);
		if (r >= 0)
			r = record_materialize(t, d->keys[i].key, slash + 1,
					       &d->dd, fresh, seq, &old);
		if (r > 0)
			r = changes_note(t, &d->ch, seq, old, d->keys[i].lseq,
					 d->keys[i].key, slash + 1);
		*slash = '/';
		fresh = 0;
		if (r < 0)
			break;
	}
	if (r >= 0) {
		d->n = 0;
		r = changes_flush(t, &d->ch);
	}
	/* the next flush, perhaps in another transaction, reads meta again */
	memset(&d->ch, 0, sizeof(d->ch));
	return r;
}

void log_advances_close(struct log_advances *a)
{
	if (!a)
		return;
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

int log__moved_add(struct log_advances *m, const struct log_feed *f)
{
	struct log_advance *x;
	if (m->n && memcmp(m->v[m->n - 1].key, f->key, 32) == 0) {
		m->v[m->n - 1].seq = f->seq; /* the common case: one feed */
		return 0;
	}
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 16;
		void *p = realloc(m->v, nc * sizeof(*m->v));
		if (!p)
			return -ENOMEM;
		m->v = p;
		m->cap = nc;
	}
	x = &m->v[m->n++];
	memcpy(x->key, f->key, 32);
	x->seq = f->seq;
	snprintf(x->scope, sizeof(x->scope), "%s", f->scope);
	return 0;
}

static int cmp_advance(const void *a, const void *b)
{
	const struct log_advance *x = a, *y = b;
	int c = memcmp(x->key, y->key, 32);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * After the commit: hand the moved heads over, each feed once (highest).
 * Out of memory here loses only the report, never the commit: the next
 * reconciliation finds what a push would have announced.
 */
void log__moved_publish(struct log_advances *m, struct log_advances *adv)
{
	size_t k = 0;
	if (!adv || m->n == 0)
		return;
	qsort(m->v, m->n, sizeof(*m->v), cmp_advance);
	for (size_t i = 0; i < m->n; i++) {
		if (k && memcmp(m->v[k - 1].key, m->v[i].key, 32) == 0)
			m->v[k - 1] = m->v[i];
		else
			m->v[k++] = m->v[i];
	}
	m->n = k;
	if (adv->n == 0) {
		/* hand over the array itself */
		free(adv->v);
		*adv = *m;
		memset(m, 0, sizeof(*m));
		return;
	}
	for (size_t i = 0; i < m->n; i++) {
		struct log_feed f = { 0 };
		memcpy(f.key, m->v[i].key, 32);
		f.seq = m->v[i].seq;
		snprintf(f.scope, sizeof(f.scope), "%s", m->v[i].scope);
		if (log__moved_add(adv, &f) < 0)
			break;
	}
	if (adv->n > 1)
		qsort(adv->v, adv->n, sizeof(*adv->v), cmp_advance);
}

static int put_row(struct store_txn *t, enum store_table tab,
		   const uint8_t *key, size_t kl, const uint8_t *env,
		   size_t env_len, const uint8_t *sig, const uint8_t *body,
		   size_t body_len, int nocert)
{
	uint8_t buf[2 + ENTRY_MAX_ENVELOPE + ENTRY_SIG_LEN + 1 + 8 +
		    ENTRY_MAX_BODY];
	size_t n = entries_row_start(buf, env, env_len, sig);
	if (tab == ST_PENDING) {
		buf[n++] = (uint8_t)(LOG__HELD_ARRIVED |
				     (body ? LOG__HELD_BODY : 0) |
				     (nocert ? LOG__HELD_NOCERT : 0));
		store_be64(buf + n, hlc_wall_ms());
		n += 8;
		if (body) {
			memcpy(buf + n, body, body_len);
			n += body_len;
		}
	}
	return store_put(t, tab, key, kl, buf, n, 0);
}

int log__put_entry_row(struct store_txn *t, enum store_table tab,
		       const uint8_t *key, size_t kl, const uint8_t *env,
		       size_t env_len, const uint8_t *sig, const uint8_t *body,
		       size_t body_len)
{
	return put_row(t, tab, key, kl, env, env_len, sig, body, body_len, 0);
}

static int apply_entry(struct log__applier *a, const struct entry *e,
		       const uint8_t id[32], const uint8_t *env,
		       size_t env_len, const uint8_t *sig,
		       const uint8_t *body, size_t body_len,
		       struct log_out *out, struct log_feed *ret_feed);

/* A loop, not recursion through the apply: a feed may release thousands
 * of held entries, each applied with a row buffer on the stack. */
static int release_held(struct log__applier *a, struct log_feed *f)
{
	/* entries that arrived before their predecessor */
	for (;;) {
		uint8_t k[40];
		const void *v;
		size_t vl;
		struct entry e;
		uint8_t id[32];
		int r;
		log__seq_key(f->key, f->seq + 1, k);
		r = store_get(a->t, ST_PENDING, k, 40, &v, &vl);
		if (r == HAMLET_ENOTFOUND)
			return 0;
		if (r < 0)
			return r;
		/* copy out: the row is deleted before it is applied */
		uint8_t *row = malloc(vl);
		if (!row)
			return -ENOMEM;
		memcpy(row, v, vl);
		if ((r = store_del(a->t, ST_PENDING, k, 40)) < 0) {
			free(row);
			return r;
		}
		struct log__entry_row er;
		if (log__row_decode(row, vl, 1, &er) < 0 ||
		    entry_decode(er.env, er.env_len, &e, NULL) < 0) {
			free(row);
			return HAMLET_ECORRUPT;
		}
		struct log_out o;
		if (entry_verify(er.env, er.env_len, er.sig, e.author) < 0) {
			/* damaged while held (its row was checked on
			 * arrival): dropped, and asked for again as the
			 * feed's next entry; a signature is stored only
			 * checked (an audit relies on it) */
			free(row);
			return 0;
		}
		entry_id(er.env, er.env_len, id);
		r = apply_entry(a, &e, id, er.env, er.env_len, er.sig,
				er.body, er.body_len, &o, f);
		free(row);
		if (r < 0)
			return r;
		if (o.status != LOG_APPLIED)
			return 0;
		a->st.released++;
		if ((r = log_feed_get(a->t, f->key, f)) < 0)
			return r;
	}
}

int log__apply_one(struct log__applier *a, const struct entry *e,
		   const uint8_t id[32], const uint8_t *env, size_t env_len,
		   const uint8_t *sig, const uint8_t *body, size_t body_len,
		   struct log_out *out)
{
	struct log_feed f;
	int r = apply_entry(a, e, id, env, env_len, sig, body, body_len, out,
			    &f);
	if (r < 0 || out->status != LOG_APPLIED)
		return r;
	return release_held(a, &f);
}

/* The signed bytes of one entry as it arrived, and its body if any. */
struct entry_bytes {
	const uint8_t *env, *sig, *body;
	size_t env_len, body_len;
};

/* A new feed: frozen already when a fork proof of it arrived first. */
static int proof_freezes(void *ctx, int kind, const uint8_t id[32],
			 const uint8_t *data, size_t len)
{
	struct log_feed *f = ctx;
	struct fork_proof *fp = malloc(sizeof(*fp));
	(void)kind;
	(void)id;
	if (!fp)
		return -ENOMEM;
	if (fork_proof_decode(data, len, fp, NULL) < 0) {
		free(fp);
		return HAMLET_ECORRUPT;
	}
	if (strcmp(fp->a.scope, f->scope) == 0 &&
	    (!f->forked || fp->at < f->fork_seq)) {
		f->forked = 1;
		f->fork_seq = fp->at;
	}
	free(fp);
	return 0;
}

/* The feed an entry belongs to, or a new one at seq 0. */
static int feed_load(struct store_txn *t, const struct entry *e,
		     struct log_feed *f)
{
	uint8_t key[32];
	int r;

	log_feed_key(e->author, e->scope, key);
	r = log_feed_get(t, key, f);
	if (r != HAMLET_ENOTFOUND)
		return r;
	memset(f, 0, sizeof(*f));
	memcpy(f->key, key, 32);
	memcpy(f->author, e->author, 32);
	strcpy(f->scope, e->scope);
	return trustset_each_subject(t, e->author, TRUST_FORK, proof_freezes,
				     f);
}

static void refuse_held_cap(struct log__applier *a, struct log_out *out)
{
	out->status = LOG_REJECTED;
	out->err = HAMLET_EHELDCAP;
	a->st.rejected++;
	a->st.refused_held_cap++;
}

/*
 * An entry held without its body (a peer sent it so) arriving again with
 * it while still held: the body joins its row, keeping its arrival time,
 * as body_fill() does for a stored entry; else the entry would be stored
 * without it once its gap fills, and nothing would ever bring the body,
 * as both sides would hold the entry. Not a put an erasure reaches here
 * (its body is never kept), nor another entry at that seq (a fork).
 */
static int held_body_fill(struct log__applier *a, const struct entry *e,
			  const uint8_t k[40], const struct entry_bytes *b)
{
	struct log__entry_row er;
	const void *v;
	uint8_t *row;
	size_t vl, fl;
	int r;

	if (e->kind != ENTRY_PUT && e->kind != ENTRY_ERASE)
		return 0;
	if (e->kind == ENTRY_PUT &&
	    (r = log__erased(a->t, e->collection, e->record_id, e->scope)) !=
		    0)
		return r < 0 ? r : 0;
	if ((r = store_get(a->t, ST_PENDING, k, 40, &v, &vl)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	if (log__row_decode(v, vl, 1, &er) < 0 || er.body ||
	    er.env_len != b->env_len || memcmp(er.env, b->env, b->env_len) != 0)
		return 0;
	fl = 2 + er.env_len + ENTRY_SIG_LEN; /* the flag byte */
	if (!(row = malloc(vl + b->body_len)))
		return -ENOMEM;
	memcpy(row, v, vl);
	row[fl] |= LOG__HELD_BODY;
	memcpy(row + vl, b->body, b->body_len);
	r = store_put(a->t, ST_PENDING, k, 40, row, vl + b->body_len, 0);
	free(row);
	return r;
}

/* An entry past the feed's head + 1: held for the ones before it, within
 * the caps per feed and in all. */
static int hold_entry(struct log__applier *a, const struct entry *e,
		      const struct log_feed *f, const struct entry_bytes *b,
		      int nocert, struct log_out *out)
{
	uint8_t k[40];
	const void *hv;
	size_t hvl;
	uint64_t held = 0; /* one held again does not add to the count */
	int r, fresh, erased, all = store_txn_hold_all(a->t);

	if (!all && e->seq - f->seq >= LOG_MAX_HELD_PER_FEED) {
		snprintf(out->why, sizeof(out->why),
			 N_("too far ahead: this node holds feed %s up to seq %llu and keeps waiting only entries less than %d past that; this is seq %llu"),
			 e->scope, (unsigned long long)f->seq,
			 LOG_MAX_HELD_PER_FEED, (unsigned long long)e->seq);
		refuse_held_cap(a, out);
		return 0;
	}
	log__seq_key(f->key, e->seq, k);
	r = store_get(a->t, ST_PENDING, k, 40, &hv, &hvl);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	fresh = r == HAMLET_ENOTFOUND;
	if (fresh && (r = store_count(a->t, ST_PENDING, &held)) < 0)
		return r;
	if (!all && held >= LOG_MAX_HELD) {
		snprintf(out->why, sizeof(out->why),
			 nocert ? N_("not held: this node already keeps %d entries waiting, for earlier ones of their feed or for their author's certificate, as many as it may; this one waits for its author's certificate (feed %s seq %llu)")
				: N_("not held: this node already keeps %d entries waiting, for earlier ones of their feed or for their author's certificate, as many as it may; this one waits for earlier ones (feed %s seq %llu)"),
			 LOG_MAX_HELD, e->scope, (unsigned long long)e->seq);
		refuse_held_cap(a, out);
		return 0;
	}
	if (!all && fresh && a->held_budget == 0) {
		snprintf(out->why, sizeof(out->why),
			 nocert ? N_("not held: whoever sent it has as many entries waiting here as one sender may; this one waits for its author's certificate (feed %s seq %llu)")
				: N_("not held: whoever sent it has as many entries waiting here as one sender may; this one waits for earlier ones (feed %s seq %llu)"),
			 e->scope, (unsigned long long)e->seq);
		refuse_held_cap(a, out);
		return 0;
	}
	if (a->held_budget >= (uint64_t)fresh)
		a->held_budget -= fresh;
	a->st.held_new += fresh;
	/* an erased record's body is not kept even while held */
	erased = 0;
	if (fresh && b->body && e->kind == ENTRY_PUT &&
	    (erased = log__erased(a->t, e->collection, e->record_id,
				  e->scope)) < 0)
		return erased;
	/* one held again keeps its row, and so its arrival time; its body
	 * joins it when the row came without */
	if (!fresh && b->body && (r = held_body_fill(a, e, k, b)) < 0)
		return r;
	if (fresh && (r = put_row(a->t, ST_PENDING, k, 40, b->env, b->env_len,
				  b->sig, erased ? NULL : b->body, b->body_len,
				  nocert)) < 0)
		return r;
	out->status = LOG_HELD;
	if (nocert)
		snprintf(out->why, sizeof(out->why),
			 N_("held: seq %llu of feed %s waits for its author's certificate"),
			 (unsigned long long)e->seq, e->scope);
	else {
		/* whose feed: the scope alone reads as the node's own,
		 * which may hold many more of its own feed there */
		char au[17];
		sodium_bin2hex(au, sizeof(au), e->author, 8);
		snprintf(out->why, sizeof(out->why),
			 N_("held: feed %s by %s… is held here up to seq %llu, this is %llu: it waits for the entries between (an earlier stick, or a sync, brings them)"),
			 e->scope[0] && strlen(e->scope) > 100 ? "…" : e->scope,
			 au, (unsigned long long)f->seq,
			 (unsigned long long)e->seq);
	}
	a->st.held++;
	return 0;
}

/*
 * The proof of the fork e makes with the feed's stored entry at its seq
 * (or, when it does not chain, at seq - 1), into the trust set: it
 * travels to every node ahead of other data.
 */
static int fork_proof_make(struct log__applier *a, const struct entry *e,
			   const struct log_feed *f,
			   const struct entry_bytes *b)
{
	const uint8_t *oenv, *osig;
	size_t olen, plen;
	uint8_t *proof, obuf[ENTRY_MAX_ENVELOPE];
	uint64_t oseq = e->seq <= f->seq ? e->seq : e->seq - 1;
	struct trustset_item it;
	struct trustset_out o;
	int r;

	if (oseq == 0)
		return 0;
	r = log_entry_get(a->t, f->key, oseq, obuf, &oenv, &olen, &osig);
	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	/* copy: the trust set's write may move what the map shows */
	uint8_t env[ENTRY_MAX_ENVELOPE], sig[ENTRY_SIG_LEN];
	memcpy(env, oenv, olen);
	memcpy(sig, osig, ENTRY_SIG_LEN);
	if (fork_proof_encode(env, olen, sig, b->env, b->env_len, b->sig,
			      &proof, &plen) < 0)
		return 0; /* not a proof another node would take */
	it.kind = TRUST_FORK;
	it.data = proof;
	it.len = plen;
	r = trustset_add(a->t, e->network_id, &it, 1, &o);
	free(proof);
	return r;
}

/* Two entries signed by one author at one seq: both kept as evidence and
 * the feed frozen at the first seq where they part. */
static int record_fork(struct log__applier *a, const struct entry *e,
		       const uint8_t id[32], struct log_feed *f,
		       const struct entry_bytes *b, struct log_out *out)
{
	uint8_t fk[72];
	uint64_t at = e->seq <= f->seq ? e->seq : e->seq - 1;
	int r;

	memcpy(fk, f->key, 32);
	store_be64(fk + 32, e->seq);
	memcpy(fk + 40, id, 32);
	{
		/* evidence held already (a bundle imported twice, a peer
		 * sending it on): the same entry again, no new fork */
		const void *v;
		size_t vl;
		r = store_get(a->t, ST_FORKS, fk, 72, &v, &vl);
		if (r == 0) {
			out->status = LOG_DUPLICATE;
			a->st.duplicate++;
			return 0;
		}
		if (r != HAMLET_ENOTFOUND)
			return r;
	}
	if ((r = log__put_entry_row(a->t, ST_FORKS, fk, 72, b->env, b->env_len,
				    b->sig, NULL, 0)) < 0 ||
	    (r = fork_proof_make(a, e, f, b)) < 0)
		return r;
	if (!f->forked || at < f->fork_seq) {
		f->forked = 1;
		f->fork_seq = at;
		if ((r = log__feed_put(a->t, f)) < 0)
			return r;
	}
	out->status = LOG_FORK;
	out->err = HAMLET_EFORK;
	snprintf(out->why, sizeof(out->why),
		 N_("fork: author signed two different entries at seq %llu of feed %s; both kept as evidence, feed frozen"),
		 (unsigned long long)at, e->scope);
	a->st.forks++;
	return 0;
}

/* 1 when a put's body is stored: not when an erasure of its record
 * reaches it (then it is never stored, and never sent on). */
static int body_kept(struct log__applier *a, const struct entry *e)
{
	int r = e->kind == ENTRY_PUT ? log__erased(a->t, e->collection,
						    e->record_id, e->scope)
				    : 0; /* an erasure keeps its reason */
	if (r < 0)
		return r;
	if (r) {
		a->st.erased_bodies++;
		return 0;
	}
	return 1;
}

/* The entry at head + 1 that chains to the head: stored, and its record
 * operation with it. */
static int append_entry(struct log__applier *a, const struct entry *e,
			const uint8_t id[32], struct log_feed *f,
			const struct entry_bytes *b, struct log_out *out)
{
	int r = b->body ? body_kept(a, e) : 0;
	uint64_t lseq;

	if (r < 0 ||
	    (r = entries_append(a->t, f->key, e->seq, e, id, b->env,
				b->env_len, b->sig, r ? b->body : NULL,
				b->body_len, &lseq)) < 0)
		return r;
	if (e->seq == 1) {
		if ((r = heads_feed_new(a->t, f->author, f->key)) < 0)
			return r;
		a->heads.feeds++;
	}
	a->heads.entries++;
	if (e->hlc > a->heads.newest_hlc)
		a->heads.newest_hlc = e->hlc;
	f->seq = e->seq;
	memcpy(f->head, id, 32);
	f->hlc = e->hlc;
	log_sig_mix(f->sigs, e->seq, b->sig);
	if ((r = log__feed_put(a->t, f)) < 0 ||
	    (r = log__moved_add(&a->moved, f)) < 0)
		return r;
	if (e->kind == ENTRY_PUT || e->kind == ENTRY_DELETE ||
	    e->kind == ENTRY_ERASE) {
		int fresh;
		if ((r = record_op_add(a->t, e, id, lseq, &fresh)) < 0)
			return r;
		if ((r = log__dirty_add(&a->dirty, e, lseq, fresh)) < 0)
			return r;
	}
	if (e->kind == ENTRY_ERASE && (r = log__erase_apply(a, e, id)) < 0)
		return r;
	if (e->hlc > a->max_hlc)
		a->max_hlc = e->hlc;
	out->status = LOG_APPLIED;
	a->st.applied++;
	return 0;
}

/*
 * An entry stored before without its body (a peer sent it so: erased
 * there, or left out) arriving again with it: the body is stored and the
 * record made again, unless the record is erased here (an erasure's own
 * body, its reason, is kept whatever erases its record: the erased
 * state names it). Nothing else would ever bring it, as both sides hold
 * the entry.
 */
static int body_fill(struct log__applier *a, const struct entry *e,
		     const uint8_t id[32], const struct log_feed *f,
		     const struct entry_bytes *b)
{
	uint64_t lseq;
	int r;

	/* the common case first: the body is held */
	if ((r = entries_lseq(a->t, f->key, e->seq, &lseq)) < 0 ||
	    (r = entries_body_held(a->t, lseq)) != 0 ||
	    (e->kind == ENTRY_PUT &&
	     (r = log__erased(a->t, e->collection, e->record_id, e->scope)) !=
		     0))
		return r < 0 ? r : 0;
	/* the record's row as it stands now, then made again with the
	 * body (changes made earlier in this transaction first) */
	if ((r = log__dirty_flush(a->t, &a->dirty)) < 0 ||
	    (r = record_body_coming(a->t, e->collection, e->record_id)) < 0 ||
	    (r = entries_body_fill(a->t, id, lseq, b->body, b->body_len)) <= 0)
		return r;
	a->st.bodies_filled++;
	return log__dirty_add(&a->dirty, e, lseq, 0);
}

/* Store one entry (log__apply_one) without releasing what it unblocks;
 * when it is applied, *ret_feed is its feed's new head. */
static int apply_entry(struct log__applier *a, const struct entry *e,
		       const uint8_t id[32], const uint8_t *env,
		       size_t env_len, const uint8_t *sig,
		       const uint8_t *body, size_t body_len,
		       struct log_out *out, struct log_feed *ret_feed)
{
	const struct entry_bytes b = { env, sig, body, env_len, body_len };
	struct log_feed f;
	int r;

	log_out_clear(out);
	memcpy(out->id, id, 32);
	out->seq = e->seq;
	if ((r = feed_load(a->t, e, &f)) < 0)
		return r;
	if (f.forked && e->seq > f.fork_seq) {
		out->status = LOG_REJECTED;
		out->err = HAMLET_EFORKED;
		snprintf(out->why, sizeof(out->why),
			 N_("feed %s is frozen at seq %llu after a fork; entry %llu not accepted"),
			 e->scope, (unsigned long long)f.fork_seq,
			 (unsigned long long)e->seq);
		a->st.rejected++;
		return refused_put(a->t, id, out->err, out->why, env, env_len,
				   sig);
	}
	if (e->seq <= f.seq) {
		const uint8_t *oenv, *osig;
		size_t olen;
		uint8_t oid[32], obuf[ENTRY_MAX_ENVELOPE];
		if ((r = log_entry_get(a->t, f.key, e->seq, obuf, &oenv, &olen,
				       &osig)) < 0)
			return r == HAMLET_ENOTFOUND ? HAMLET_ECORRUPT : r;
		entry_id(oenv, olen, oid);
		if (memcmp(oid, id, 32) != 0)
			return record_fork(a, e, id, &f, &b, out);
		out->status = LOG_DUPLICATE;
		a->st.duplicate++;
		return body && (e->kind == ENTRY_PUT || e->kind == ENTRY_ERASE)
			       ? body_fill(a, e, id, &f, &b)
			       : 0;
	}
	if (!a->local) {
		r = trustset_entry_check(a->t, a->tc, e, id, out->why,
					 sizeof(out->why));
		if (r == HAMLET_ENOCERT)
			return hold_entry(a, e, &f, &b, 1, out);
		if (r == HAMLET_ECERT || r == HAMLET_EREVOKED) {
			out->status = LOG_REJECTED;
			out->err = r;
			a->st.rejected++;
			a->st.refused_grant++;
			return refused_put(a->t, id, r, out->why, env, env_len,
					   sig);
		}
		if (r < 0)
			return r;
	}
	if (e->seq > f.seq + 1)
		return hold_entry(a, e, &f, &b, 0, out);
	if (e->seq > 1 && memcmp(e->prev, f.head, 32) != 0)
		/* it chains to another entry at seq - 1 */
		return record_fork(a, e, id, &f, &b, out);
	if ((r = append_entry(a, e, id, &f, &b, out)) < 0)
		return r;
	*ret_feed = f;
	return 0;
}

int log__meta_hlc_get(struct store_txn *t, uint64_t *ret)
{
	const void *v;
	size_t vl;
	int r = store_get(t, ST_META, "hlc", 3, &v, &vl);
	if (r == HAMLET_ENOTFOUND) {
		*ret = 0;
		return 0;
	}
	if (r < 0)
		return r;
	if (vl != 8)
		return HAMLET_ECORRUPT;
	*ret = store_get_be64(v);
	return 0;
}

static int meta_hlc_put(struct store_txn *t, uint64_t v)
{
	uint8_t b[8];
	store_be64(b, v);
	return store_put(t, ST_META, "hlc", 3, b, 8, 0);
}

int log__applier_finish(struct log__applier *a, uint64_t local_hlc)
{
	uint64_t cur;
	int r;
	uint64_t ver;
	if ((r = log__dirty_flush(a->t, &a->dirty)) < 0 ||
	    (r = record_digest_flush(a->t, &a->dirty.dd)) < 0 ||
	    (r = heads_commit(a->t, &a->heads, a->moved.n + a->cut.n > 0,
			      &ver)) < 0)
		return r;
	/* in the same transaction as the heads: what moved since a version
	 * is never missed (sync's reconnection, SPEC 5.6), nor a head taken
	 * back */
	for (size_t i = 0; i < a->moved.n; i++)
		if ((r = heads_feed_moved(a->t, a->moved.v[i].key, ver)) < 0)
			return r;
	for (size_t i = 0; i < a->cut.n; i++)
		if ((r = heads_feed_moved(a->t, a->cut.v[i].key, ver)) < 0)
			return r;
	if ((r = log__meta_hlc_get(a->t, &cur)) < 0)
		return r;
	uint64_t wall = hlc_wall_ms();
	/* a clock left far ahead by this PC's wall clock, since set right,
	 * goes back to it (hlc_next()) */
	uint64_t next = hlc_observe(hlc_left_ahead(cur, wall) ? 0 : cur,
				    a->max_hlc, wall);
	if (local_hlc > next)
		next = local_hlc;
	if (next != cur && (r = meta_hlc_put(a->t, next)) < 0)
		return r;
	return 0;
}

int log__applier_begin(struct log__applier *a, struct store_txn *t)
{
	if (!a->tc && !(a->tc = trustset_cache_new()))
		return -ENOMEM;
	trustset_cache_reset(a->tc);
	a->t = t;
	a->dirty.n = 0;
	memset(&a->dirty.dd, 0, sizeof(a->dirty.dd));
	/* a take-out notes changes outside a flush (gone ones): an aborted
	 * attempt's seqs are not this one's */
	memset(&a->dirty.ch, 0, sizeof(a->dirty.ch));
	a->max_hlc = 0;
	memset(&a->st, 0, sizeof(a->st));
	a->moved.n = 0;
	a->cut.n = 0;
	a->held_budget = a->held_budget0;
	a->erasures = 0;
	memset(&a->heads, 0, sizeof(a->heads));
	return 0;
}

void log__applier_close(struct log__applier *a)
{
	free(a->dirty.keys);
	trustset_cache_free(a->tc);
	log_advances_close(&a->moved);
	log_advances_close(&a->cut);
	memset(a, 0, sizeof(*a));
}
