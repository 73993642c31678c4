/*
 * log_revoke: a revocation joining the trust set takes out what it cuts
 * off (SPEC §9). An entry stands only when no revocation of its author
 * cuts it off; a node that held such entries before the revocation came
 * must end where a node that got the revocation first is: the entries
 * leave their feeds (each head goes back to the last entry that stands),
 * their records are made again from the ops left, and they are kept as
 * refused (EREVOKED, refused.h) for the auditor. Held entries it cuts off
 * go the same way. Fork evidence (ST_FORKS) past the cut-off goes with
 * the entries it conflicts with; the proof stays in the trust set of
 * every node anyway.
 *
 * A node's read grant takes out the same way (log_keep_reads): what a
 * certificate installed over a store does not let the node read leaves
 * it, feed by feed, so that it ends where a node that refused those
 * entries from the start is; being no one's fault, they are not kept as
 * refused, and the store is rewritten so that their bytes are gone.
 */
#include "log_internal.h"

#include "error.h"
#include "refused.h"
#include "scopemap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A record an entry taken out was an op of; scope: the entry's, in the
 * cut's scopes (a feed's entries share one, so the scopes are few and
 * each op carries an index rather than a copy). */
struct cut_rec {
	char coll[ENTRY_MAX_COLLECTION + 1];
	char id[ENTRY_MAX_RECORD_ID + 1];
	uint32_t scope;
};

struct cut {
	struct log__applier *a;
	uint8_t (*feeds)[32];
	size_t nfeeds, capfeeds;
	struct cut_rec *recs;
	size_t nrecs, caprecs;
	char (*scopes)[ENTRY_MAX_SCOPE + 1]; /* of the entries taken out */
	size_t nscopes, capscopes;
	uint64_t newest_gone; /* the newest HLC taken out */
	uint8_t *sigs; /* the sigs of the feed being cut (log_feed) */
	/* a read grant's take-out (log_keep_reads): what it keeps, and
	 * what went; NULL for a revocation's */
	const struct log_reader *rd;
	struct log_keep_result *kr;
};

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *p;
	if (n < *cap)
		return 0;
	if (!(p = realloc(*v, (*cap ? *cap * 2 : 16) * size)))
		return -ENOMEM;
	*v = p;
	*cap = *cap ? *cap * 2 : 16;
	return 0;
}

static int feed_collect(void *ctx, const uint8_t key[32])
{
	struct cut *c = ctx;
	if (grow((void **)&c->feeds, &c->capfeeds, c->nfeeds,
		 sizeof(*c->feeds)) < 0)
		return -ENOMEM;
	memcpy(c->feeds[c->nfeeds++], key, 32);
	return 0;
}

/* The index of scope in c->scopes, added when new: the last op's
 * first, as the entries of one feed come one after another. */
static int scope_index(struct cut *c, const char *scope, uint32_t *ret)
{
	size_t i = c->nscopes;
	int r;

	if (c->nrecs &&
	    strcmp(c->scopes[c->recs[c->nrecs - 1].scope], scope) == 0) {
		*ret = c->recs[c->nrecs - 1].scope;
		return 0;
	}
	while (i-- > 0)
		if (strcmp(c->scopes[i], scope) == 0) {
			*ret = (uint32_t)i;
			return 0;
		}
	if (c->nscopes >= UINT32_MAX)
		return -ENOMEM;
	if ((r = grow((void **)&c->scopes, &c->capscopes, c->nscopes,
		      sizeof(*c->scopes))) < 0)
		return r;
	snprintf(c->scopes[c->nscopes], sizeof(c->scopes[0]), "%s", scope);
	*ret = (uint32_t)c->nscopes++;
	return 0;
}

/* Keep entry (env, sig, id) as refused by the revocation, and count it. */
static int refuse(struct log__applier *a, const struct entry *e,
		  const uint8_t id[32], const uint8_t *env, size_t env_len,
		  const uint8_t *sig)
{
	char why[200] = "";
	int r = trustset_entry_check(a->t, a->tc, e, id, why, sizeof(why));
	if (r < 0 && r != HAMLET_EREVOKED && r != HAMLET_ECERT &&
	    r != HAMLET_ENOCERT)
		return r;
	/* not among rejected: no entry that came in this call was */
	a->st.taken_out++;
	return refused_put(a->t, id,
			   r == HAMLET_ECERT ? HAMLET_ECERT : HAMLET_EREVOKED,
			   why, env, env_len, sig);
}

/* One stored entry past the cut-off, its row still there. */
static int entry_gone(void *ctx, uint64_t seq, uint64_t lseq,
		      const struct entries_row *row)
{
	struct cut *c = ctx;
	struct log__applier *a = c->a;
	uint8_t env[ENTRY_MAX_ENVELOPE], sig[ENTRY_SIG_LEN], id[32];
	size_t env_len = row->env_len;
	struct entry e;
	int r;

	/* copy out: the writes below may move what the row borrows */
	if (env_len > sizeof(env))
		return HAMLET_ECORRUPT;
	memcpy(env, row->env, env_len);
	memcpy(sig, row->sig, ENTRY_SIG_LEN);
	log_sig_mix(c->sigs, seq, sig);
	if (entry_decode(env, env_len, &e, NULL) < 0)
		return HAMLET_ECORRUPT;
	entry_id(env, env_len, id);
	a->heads.entries_gone++;
	if (e.hlc > c->newest_gone)
		c->newest_gone = e.hlc;
	if (e.kind == ENTRY_PUT || e.kind == ENTRY_DELETE ||
	    e.kind == ENTRY_ERASE) {
		if ((r = record_op_remove(a->t, e.collection, e.record_id, id,
					  e.hlc, lseq, &a->dirty.dd)) < 0)
			return r;
		if (e.kind == ENTRY_ERASE &&
		    (r = log__erase_forget(a->t, e.collection, e.record_id,
					   id)) < 0)
			return r;
		if ((r = grow((void **)&c->recs, &c->caprecs, c->nrecs,
			      sizeof(*c->recs))) < 0)
			return r;
		snprintf(c->recs[c->nrecs].coll, sizeof(c->recs[0].coll), "%s",
			 e.collection);
		snprintf(c->recs[c->nrecs].id, sizeof(c->recs[0].id), "%s",
			 e.record_id);
		if ((r = scope_index(c, e.scope, &c->recs[c->nrecs].scope)) < 0)
			return r;
		c->nrecs++;
	}
	if (c->rd) { /* not this node's to read: no one's fault */
		c->kr->entries++;
		return 0;
	}
	return refuse(a, &e, id, env, env_len, sig);
}

/* How many of feed f's entries revocation rv keeps (SPEC §9: below the
 * listed seq, or at it with the listed head as its id). */
static int feed_keep(struct store_txn *t, const struct revocation *rv,
		     const struct log_feed *f, uint64_t *ret)
{
	struct entries_row row;
	uint8_t id[32];
	int r;

	for (size_t i = 0; i < rv->nfeeds; i++) {
		const struct revoke_feed *lf = &rv->feeds[i];
		if (strcmp(lf->scope, f->scope) != 0)
			continue;
		if (f->seq < lf->seq || lf->seq == 0) {
			*ret = f->seq < lf->seq ? f->seq : 0;
			return 0;
		}
		if ((r = entries_get(t, f->key, lf->seq, &row)) < 0)
			return r;
		entry_id(row.env, row.env_len, id);
		*ret = memcmp(id, lf->head, 32) == 0 ? lf->seq : lf->seq - 1;
		return 0;
	}
	*ret = 0; /* a feed not listed keeps nothing */
	return 0;
}

/* Fork evidence of feed key past seq keep has nothing left in the feed
 * to conflict with: it goes with the entries (the proof it made stays in
 * the trust set, as on a node that refused them from the start). */
static int evidence_cut(struct store_txn *t, const uint8_t key[32],
			uint64_t keep)
{
	struct store_cursor *cur;
	const void *k, *v;
	size_t kl, vl, n = 0, cap = 0;
	uint8_t from[40], (*keys)[72] = NULL;
	int r;

	memcpy(from, key, 32);
	store_be64(from + 32, keep + 1);
	if ((r = store_cursor_open(t, ST_FORKS, &cur)) < 0)
		return r;
	for (r = store_cursor_seek(cur, from, sizeof(from), &k, &kl, &v, &vl);
	     r == 1 && kl == 72 && memcmp(k, key, 32) == 0;
	     r = store_cursor_next(cur, &k, &kl, &v, &vl)) {
		if ((r = grow((void **)&keys, &cap, n, sizeof(*keys))) < 0)
			break;
		memcpy(keys[n++], k, 72);
	}
	store_cursor_close(cur);
	for (size_t i = 0; r >= 0 && i < n; i++)
		if ((r = store_del(t, ST_FORKS, keys[i], 72)) ==
		    HAMLET_ENOTFOUND)
			r = 0;
	free(keys);
	return r < 0 ? r : 0;
}

/* Feed f keeps its first keep entries: the rest go, its head goes back. */
static int feed_cut(struct cut *c, struct log_feed *f, uint64_t keep)
{
	struct log__applier *a = c->a;
	struct entries_row row;
	struct entry e;
	int r;

	c->sigs = f->sigs; /* each entry that goes, mixed out */
	if ((r = entries_truncate(a->t, f->key, keep, f->seq, entry_gone,
				  c)) < 0 ||
	    (r = evidence_cut(a->t, f->key, keep)) < 0)
		return r;
	if (keep == 0) {
		/* as a node that never held any of it: no feed */
		a->heads.feeds_gone++;
		if (c->kr)
			c->kr->feeds++;
		if ((r = store_del(a->t, ST_FEEDS, f->key, 32)) < 0 ||
		    (r = heads_feed_gone(a->t, f->author, f->key)) < 0)
			return r;
		f->seq = 0;
		return log__moved_add(&a->cut, f);
	}
	if ((r = entries_get(a->t, f->key, keep, &row)) < 0)
		return r;
	if (entry_decode(row.env, row.env_len, &e, NULL) < 0)
		return HAMLET_ECORRUPT;
	entry_id(row.env, row.env_len, f->head);
	f->seq = keep;
	f->hlc = e.hlc;
	if ((r = log__feed_put(a->t, f)) < 0)
		return r;
	return log__moved_add(&a->cut, f);
}

/* 1 when the node c->rd describes keeps entry e, which arrived: its
 * own writing, or of a scope it reads. */
static int kept(const struct cut *c, const struct entry *e)
{
	const struct log_reader *rd = c->rd;
	return memcmp(e->author, rd->pk, 32) == 0 ||
	       scopemap_keeps(rd->map, rd->grant, rd->scope, e->scope);
}

/* Held entries of subject that no longer may stand: dropped, refused.
 * For a read grant's take-out (c->rd; subject NULL), those of a scope it
 * does not keep: dropped. */
static int held_cut(struct cut *c, const uint8_t *subject)
{
	struct log__applier *a = c->a;
	struct store_cursor *cur;
	const void *k, *v;
	size_t kl, vl, n = 0, cap = 0;
	uint8_t (*keys)[40] = NULL;
	int r;

	/* the keys first: the table changes below (at most LOG_MAX_HELD) */
	if ((r = store_cursor_open(a->t, ST_PENDING, &cur)) < 0)
		return r;
	for (r = store_cursor_seek(cur, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(cur, &k, &kl, &v, &vl)) {
		if (kl != 40) {
			r = HAMLET_ECORRUPT;
			break;
		}
		if ((r = grow((void **)&keys, &cap, n, sizeof(*keys))) < 0)
			break;
		memcpy(keys[n++], k, 40);
	}
	store_cursor_close(cur);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		uint8_t env[ENTRY_MAX_ENVELOPE], sig[ENTRY_SIG_LEN], id[32];
		struct log__entry_row er;
		struct entry e;
		char why[200];
		if ((r = store_get(a->t, ST_PENDING, keys[i], 40, &v, &vl)) < 0)
			break;
		if (log__row_decode(v, vl, 1, &er) < 0 ||
		    er.env_len > sizeof(env) ||
		    entry_decode(er.env, er.env_len, &e, NULL) < 0) {
			r = HAMLET_ECORRUPT;
			break;
		}
		if (c->rd) {
			if (kept(c, &e))
				continue;
			if ((r = store_del(a->t, ST_PENDING, keys[i], 40)) < 0)
				break;
			c->kr->held++;
			continue;
		}
		if (memcmp(e.author, subject, 32) != 0)
			continue;
		memcpy(env, er.env, er.env_len);
		memcpy(sig, er.sig, ENTRY_SIG_LEN);
		entry_id(env, er.env_len, id);
		r = trustset_entry_check(a->t, a->tc, &e, id, why, sizeof(why));
		if (r != HAMLET_EREVOKED && r != HAMLET_ECERT) {
			r = r < 0 && r != HAMLET_ECERT && r != HAMLET_ENOCERT
				    ? r
				    : 0;
			continue;
		}
		if ((r = store_del(a->t, ST_PENDING, keys[i], 40)) < 0 ||
		    (r = refuse(a, &e, id, env, er.env_len, sig)) < 0)
			break;
	}
	free(keys);
	return r < 0 ? r : 0;
}

/* --- authors below the revoked key ------------------------------------ */

/* Keys certified by the revoked subject, at any depth (a commune's
 * villages, the administrators it made and theirs): their chains may go
 * through the revoked key, so their entries are judged again. */
struct below {
	uint8_t (*keys)[32];
	size_t n, cap;
	int grew;
};

static int below_has(const struct below *b, const uint8_t k[32])
{
	for (size_t i = 0; i < b->n; i++)
		if (memcmp(b->keys[i], k, 32) == 0)
			return 1;
	return 0;
}

static int below_cb(void *ctx, int kind, const uint8_t id[32],
		    const uint8_t *data, size_t len)
{
	struct below *b = ctx;
	struct cert *ce = malloc(sizeof(*ce));
	int r = 0;

	(void)kind;
	(void)id;
	if (!ce)
		return -ENOMEM;
	if (cert_decode(data, len, ce, NULL) == 0 &&
	    below_has(b, ce->issuer) && !below_has(b, ce->subject)) {
		if ((r = grow((void **)&b->keys, &b->cap, b->n,
			      sizeof(*b->keys))) == 0) {
			memcpy(b->keys[b->n++], ce->subject, 32);
			b->grew = 1;
		}
	}
	free(ce);
	return r;
}

/* The first entry of feed f the trust set as it now is refuses (ECERT,
 * EREVOKED), or 0: from there on the feed does not stand, as on a node
 * that judged it with this set from the start (the entries after a
 * refused one wait for it for ever). */
static int first_refused(struct log__applier *a, const struct log_feed *f,
			 uint64_t from, uint64_t *ret)
{
	struct entries_row row;
	struct entry e;
	uint8_t id[32];
	char why[200];
	int r;

	*ret = 0;
	for (uint64_t seq = from; seq <= f->seq; seq++) {
		if ((r = entries_get(a->t, f->key, seq, &row)) < 0)
			return r;
		if (entry_decode(row.env, row.env_len, &e, NULL) < 0)
			return HAMLET_ECORRUPT;
		entry_id(row.env, row.env_len, id);
		r = trustset_entry_check(a->t, a->tc, &e, id, why,
					 sizeof(why));
		if (r == HAMLET_ECERT || r == HAMLET_EREVOKED) {
			*ret = seq;
			return 0;
		}
		if (r < 0 && r != HAMLET_ENOCERT)
			return r;
	}
	return 0;
}

/* Entries of keys the subject certified that no longer stand go too. */
static int below_cut(struct cut *c, const struct revocation *rv)
{
	const uint8_t *subject = rv->subject;
	struct log__applier *a = c->a;
	struct below b = { 0 };
	int r;

	if ((r = grow((void **)&b.keys, &b.cap, 0, sizeof(*b.keys))) < 0)
		return r;
	memcpy(b.keys[b.n++], subject, 32);
	/* to a fixpoint: at most one pass per level of delegation */
	do {
		b.grew = 0;
		r = trustset_each(a->t, TRUST_CERT, below_cb, &b);
	} while (r >= 0 && b.grew);
	for (size_t i = 1; r >= 0 && i < b.n; i++) {
		c->nfeeds = 0;
		if ((r = heads_author_feeds(a->t, b.keys[i], feed_collect,
					    c)) < 0)
			break;
		for (size_t k = 0; r >= 0 && k < c->nfeeds; k++) {
			struct log_feed f;
			uint64_t bad;
			r = log_feed_get(a->t, c->feeds[k], &f);
			if (r == HAMLET_ENOTFOUND) {
				r = 0;
				continue;
			}
			/* a revocation from outside the key's chains that
			 * grant the feed cuts nothing of it: not walked */
			if (r < 0 || (r = trustset_revoke_reaches(
					      a->t, rv, b.keys[i], f.scope)) < 0)
				break;
			if (r == 0)
				continue;
			if ((r = first_refused(a, &f, 1, &bad)) < 0)
				break;
			if (bad)
				r = feed_cut(c, &f, bad - 1);
		}
		if (r >= 0)
			r = held_cut(c, b.keys[i]);
	}
	free(b.keys);
	return r < 0 ? r : 0;
}

/* The newest HLC of any feed head: the totals' newest once the newest
 * entry was taken out. */
static int newest_cb(void *ctx, const struct log_feed *f)
{
	uint64_t *m = ctx;
	if (f->hlc > *m)
		*m = f->hlc;
	return 0;
}

/* The ops a record has left: how many, and the newest's local seq. */
struct last_op {
	uint64_t n, lseq;
};

static int last_op_cb(void *ctx, const struct record_op *op)
{
	struct last_op *l = ctx;
	l->n++;
	if (op->lseq > l->lseq)
		l->lseq = op->lseq;
	return 0;
}

/* The totals' newest HLC again, when the newest entry was taken out. */
static int newest_again(struct cut *c)
{
	struct log__applier *a = c->a;
	struct heads_totals tot;
	int r = heads_totals_get(a->t, &tot);

	if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	if (c->newest_gone && (r == HAMLET_ENOTFOUND ||
			       tot.newest_hlc <= c->newest_gone ||
			       a->heads.newest_reset)) {
		uint64_t m = a->heads.newest_hlc;
		if ((r = log_feeds_each(a->t, newest_cb, &m)) < 0)
			return r;
		a->heads.newest_hlc = m;
		a->heads.newest_reset = 1;
	}
	return 0;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct cut_rec *x = a, *y = b;
	int d = strcmp(x->coll, y->coll);
	return d ? d : strcmp(x->id, y->id);
}

/* Record coll/id has no op left: its rows go, and it gets a gone change
 * (changes.h) so that those who copied it drop their copy. scope: the
 * scope the ops taken out of it all lie under. */
static int record_gone(struct cut *c, const char *coll, const char *id,
		       const char *scope)
{
	struct log__applier *a = c->a;
	uint64_t seq;
	int r;

	if ((r = record_drop(a->t, coll, id, &a->dirty.dd)) < 0 ||
	    (r = changes_next(a->t, &a->dirty.ch, &seq)) < 0)
		return r;
	if (c->kr)
		c->kr->records++;
	return changes_gone(a->t, &a->dirty.ch, seq, coll, id, scope);
}

/* Each record an op was taken from, once: made again from the ops left,
 * or gone when none is. */
static int records_redo(struct cut *c)
{
	struct log__applier *a = c->a;
	struct entry *e = calloc(1, sizeof(*e));
	char scope[ENTRY_MAX_SCOPE + 1];
	int r = 0;

	if (!e)
		return -ENOMEM;
	if (c->nrecs) /* none: recs is NULL, which qsort may not take */
		qsort(c->recs, c->nrecs, sizeof(*c->recs), cmp_rec);
	for (size_t i = 0, j; r >= 0 && i < c->nrecs; i = j) {
		struct cut_rec *cr = &c->recs[i];
		struct last_op l = { 0, 0 };
		/* the record's scope as a reader may have seen it: its
		 * heads were among these ops, so what they all lie under
		 * is that scope or one above it, never a scope that did
		 * not see the record */
		snprintf(scope, sizeof(scope), "%s", c->scopes[cr->scope]);
		for (j = i + 1; j < c->nrecs && cmp_rec(cr, &c->recs[j]) == 0;
		     j++)
			entry_scope_narrow(scope, c->scopes[c->recs[j].scope]);
		if ((r = record_ops_each(a->t, cr->coll, cr->id, last_op_cb,
					 &l)) < 0)
			break;
		if (l.n == 0) {
			r = record_gone(c, cr->coll, cr->id, scope);
			continue;
		}
		snprintf(e->collection, sizeof(e->collection), "%s", cr->coll);
		snprintf(e->record_id, sizeof(e->record_id), "%s", cr->id);
		r = log__dirty_add(&a->dirty, e, l.lseq, 0);
	}
	free(e);
	return r < 0 ? r : 0;
}

int log__revoke_apply(struct log__applier *a, const uint8_t *data,
		      size_t len)
{
	struct revocation *rv = malloc(sizeof(*rv));
	struct cut c = { .a = a };
	int r;

	if (!rv)
		return -ENOMEM;
	if (revoke_decode(data, len, rv, NULL) < 0) {
		r = HAMLET_ECORRUPT; /* it decoded when it was added */
		goto out;
	}
	/* what is materialized so far reads its ops as they are */
	if ((r = log__dirty_flush(a->t, &a->dirty)) < 0 ||
	    (r = heads_author_feeds(a->t, rv->subject, feed_collect, &c)) < 0)
		goto out;
	for (size_t i = 0; i < c.nfeeds; i++) {
		struct log_feed f;
		uint64_t keep, bad;
		if ((r = log_feed_get(a->t, c.feeds[i], &f)) == HAMLET_ENOTFOUND)
			continue;
		if (r < 0 || (r = feed_keep(a->t, rv, &f, &keep)) < 0)
			goto out;
		/* past the cut-off, the entries go from the first one the set
		 * now refuses: all of them when the revocation comes from
		 * every chain of the key; none when it comes from none that
		 * grants the feed (a key outside those chains made it, and
		 * it cuts nothing of them: SPEC 9) */
		if (keep >= f.seq)
			continue;
		if ((r = trustset_revoke_reaches(a->t, rv, rv->subject,
						 f.scope)) < 0)
			goto out;
		if (r && ((r = first_refused(a, &f, keep + 1, &bad)) < 0 ||
			  (bad && (r = feed_cut(&c, &f, bad - 1)) < 0)))
			goto out;
	}
	if ((r = held_cut(&c, rv->subject)) < 0 ||
	    (r = below_cut(&c, rv)) < 0 ||
	    (r = records_redo(&c)) < 0)
		goto out;
	r = newest_again(&c);
out:
	free(c.feeds);
	free(c.recs);
	free(c.scopes);
	free(rv);
	return r;
}

/* --- a read grant's take-out -------------------------------------------- */

/* A feed of a scope the node does not keep, and not its own writing. */
static int feed_out_collect(void *ctx, const struct log_feed *f)
{
	struct cut *c = ctx;
	struct entry e;

	memcpy(e.author, f->author, 32);
	snprintf(e.scope, sizeof(e.scope), "%s", f->scope);
	return kept(c, &e) ? 0 : feed_collect(c, f->key);
}

/* Fork proofs in the trust set of feeds the node does not keep: their
 * keys and authors. */
struct proofs_out {
	struct cut *c;
	uint8_t (*v)[TRUSTSET_KEY + 32];
	size_t n, cap;
};

static int proof_out_collect(void *ctx, int kind, const uint8_t id[32],
			     const uint8_t *data, size_t len)
{
	struct proofs_out *po = ctx;
	struct fork_proof *fp = malloc(sizeof(*fp));
	int r = 0;

	if (!fp)
		return -ENOMEM;
	if (fork_proof_decode(data, len, fp, NULL) == 0 &&
	    !kept(po->c, &fp->a) &&
	    (r = grow((void **)&po->v, &po->cap, po->n, sizeof(*po->v))) ==
		    0) {
		po->v[po->n][0] = (uint8_t)kind;
		memcpy(po->v[po->n] + 1, id, 32);
		memcpy(po->v[po->n++] + TRUSTSET_KEY, fp->a.author, 32);
	}
	free(fp);
	return r;
}

struct keep_in {
	struct log__applier a;
	const struct log_reader *rd;
	struct log_keep_result kr;
};

static int keep_txn(struct store_txn *t, void *ctx)
{
	struct keep_in *g = ctx;
	struct cut c = { .a = &g->a, .rd = g->rd, .kr = &g->kr };
	struct proofs_out po = { &c, NULL, 0, 0 };
	int r;

	memset(&g->kr, 0, sizeof(g->kr));
	if ((r = log__applier_begin(&g->a, t)) < 0 ||
	    (r = log__dirty_flush(t, &g->a.dirty)) < 0 ||
	    (r = log_feeds_each(t, feed_out_collect, &c)) < 0)
		goto out;
	for (size_t i = 0; i < c.nfeeds; i++) {
		struct log_feed f;
		if ((r = log_feed_get(t, c.feeds[i], &f)) == HAMLET_ENOTFOUND)
			continue;
		if (r < 0 || (r = feed_cut(&c, &f, 0)) < 0)
			goto out;
	}
	if ((r = held_cut(&c, NULL)) < 0 || (r = records_redo(&c)) < 0 ||
	    (r = newest_again(&c)) < 0 ||
	    (r = trustset_each(t, TRUST_FORK, proof_out_collect, &po)) < 0)
		goto out;
	for (size_t i = 0; i < po.n; i++)
		if ((r = trustset_forget(t, po.v[i],
					 po.v[i] + TRUSTSET_KEY)) < 0)
			goto out;
	g->kr.proofs = po.n;
	if (!g->kr.entries && !g->kr.held && !g->kr.proofs && !c.nfeeds) {
		r = LOG__NOTHING;
		goto out;
	}
	/* their bytes go from the files too, as an erasure's (log.c) */
	if ((r = store_put(t, ST_META, "erase_pending", 13, "", 0, 0)) < 0)
		goto out;
	g->a.erasures++;
	r = log__applier_finish(&g->a, 0);
out:
	free(c.feeds);
	free(c.recs);
	free(c.scopes);
	free(po.v);
	return r;
}

int log_keep_reads(struct store *st, const struct log_reader *rd,
		   struct log_keep_result *ret)
{
	struct keep_in g = { .rd = rd };
	int r;

	g.a.held_budget0 = UINT64_MAX;
	r = log__write_txn(st, keep_txn, &g);
	/* a->erasures: something went (else nothing was committed); the
	 * feeds taken back count as moved for reconnection, as a
	 * revocation's (heads_feed_moved), and push nothing */
	if (r == 0 && g.a.erasures)
		log__after_commit(st, &g.a);
	if (r == 0 && ret) {
		memset(ret, 0, sizeof(*ret));
		if (g.a.erasures)
			*ret = g.kr;
	}
	log__applier_close(&g.a);
	return r;
}
