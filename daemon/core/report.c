#include "report.h"
#include "why.h"

#include "error.h"
#include "hlc.h"
#include "log.h"
#include "mp.h"
#include "node.h"
#include "record.h"
#include "refused.h"
#include "schema.h"
#include "scopemap.h"
#include "trustset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct build {
	struct store_txn *t;
	struct report *rep;
	int err; /* -ENOMEM met inside a callback */
	struct report_author *author; /* the author a trust set walk is for */
	audit_progress_fn pfn; /* told every 256 entries read; may be NULL */
	void *pctx;
	uint64_t read;
	struct trustset_cache *tc; /* judges entries past a cut-off */
};

/* --- authors, kept sorted by key ----------------------------------------- */

static size_t author_pos(const struct report *rep, const uint8_t key[32],
			 int *found)
{
	size_t lo = 0, hi = rep->nauthors;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(rep->authors[mid].key, key, 32);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

const struct report_author *report_author_find(const struct report *rep,
					       const uint8_t key[32])
{
	int found;
	size_t i = author_pos(rep, key, &found);
	return found ? &rep->authors[i] : NULL;
}

/* The author of key, added when new; NULL when out of memory. */
static struct report_author *author_get(struct report *rep,
					const uint8_t key[32])
{
	int found;
	size_t i = author_pos(rep, key, &found);
	struct report_author *v;

	if (found)
		return &rep->authors[i];
	if (!(v = realloc(rep->authors, (rep->nauthors + 1) * sizeof(*v))))
		return NULL;
	rep->authors = v;
	memmove(&v[i + 1], &v[i], (rep->nauthors - i) * sizeof(*v));
	rep->nauthors++;
	memset(&v[i], 0, sizeof(*v));
	memcpy(v[i].key, key, 32);
	v[i].is_root = rep->has_root && memcmp(key, rep->root, 32) == 0;
	return &v[i];
}

/* Grow *v (of *n elements of size sz) by one zeroed element. */
static void *grow(void *pv, size_t *n, size_t sz)
{
	void **v = pv;
	char *nv = realloc(*v, (*n + 1) * sz);
	if (!nv)
		return NULL;
	*v = nv;
	memset(nv + *n * sz, 0, sz);
	return nv + (*n)++ * sz;
}

static struct report_feed *feed_get(struct report_author *a,
				    const char *scope)
{
	struct report_feed *f;

	for (size_t i = 0; i < a->nfeeds; i++)
		if (strcmp(a->feeds[i].scope, scope) == 0)
			return &a->feeds[i];
	if (!(f = grow(&a->feeds, &a->nfeeds, sizeof(*f))))
		return NULL;
	snprintf(f->scope, sizeof(f->scope), "%s", scope);
	return f;
}

static void span_add(uint64_t *first, uint64_t *last, uint64_t hlc)
{
	if (!*first || hlc < *first)
		*first = hlc;
	if (hlc > *last)
		*last = hlc;
}

/* --- erasures -------------------------------------------------------------- */

/*
 * The first chain of e's author valid at e's time under root whose leaf
 * may write e's collection in e's scope (and, with delegate, may
 * delegate): into *ret (may be NULL). 0, or HAMLET_ECERT with why.
 */
static int grant_find(struct store_txn *t, const uint8_t root[32],
		      const struct entry *e, int delegate,
		      struct cert_chain *ret, char *why, size_t wl)
{
	struct cert_chain *cs;
	struct scopemap *map = NULL;
	const struct scope_move *mv;
	size_t n = 0;
	char cwhy[512] = "its author holds no certificate that leads to the network's root";
	char when[48];
	int r;

	if (!(cs = malloc(REPORT_MAX_CHAINS * sizeof(*cs))))
		return -ENOMEM;
	/* judged through the scope moves, as a node judges it on arrival
	 * (trustset_entry_check()) */
	if ((r = scopemap_load(t, &map)) < 0 ||
	    (r = trustset_chains_under(t, root, e->author, cs,
				       REPORT_MAX_CHAINS, &n, NULL)) < 0)
		goto out;
	r = HAMLET_ECERT;
	for (size_t i = 0; i < n && r; i++) {
		const struct cert *leaf = &cs[i].c[0];
		if (cert_chain_check(&cs[i], e->network_id, root,
				     hlc_ms(e->hlc), cwhy, sizeof(cwhy)) < 0)
			continue;
		if (delegate && !leaf->delegate) {
			snprintf(cwhy, sizeof(cwhy),
				 "its author's certificate (\"%s\") may not delegate, and only an administrator may erase",
				 leaf->name);
		} else if (!scopemap_may_write_at(map, leaf, e->scope,
						  e->collection,
						  hlc_ms(e->hlc), &mv)) {
			if (mv) {
				hlc_format(mv->at_ms << 16, when);
				snprintf(cwhy, sizeof(cwhy),
					 "the network's root moved %s to %s on %s; its author's certificate (\"%s\") no longer lets it write there",
					 mv->from, mv->to, when, leaf->name);
			} else {
				snprintf(cwhy, sizeof(cwhy),
					 "its author's certificate (\"%s\") does not let it write %s in scope %s",
					 leaf->name, e->collection, e->scope);
			}
		} else {
			r = 0;
			if (ret)
				*ret = cs[i];
		}
	}
	if (r)
		why_set(why, wl, "%s", cwhy);
out:
	scopemap_free(map);
	free(cs);
	return r;
}

int report_erasure_check(struct store_txn *t, const uint8_t root[32],
			 const struct entry *e, char *why, size_t wl)
{
	if (memcmp(e->author, root, 32) == 0)
		return 0;
	return grant_find(t, root, e, 1, NULL, why, wl);
}

int report_entry_grant(struct store_txn *t, const struct entry *e,
		       struct cert_chain *ret)
{
	uint8_t root[32];
	char why[200];
	int r = trustset_root_get(t, root);

	if (r < 0)
		return r;
	return grant_find(t, root, e, 0, ret, why, sizeof(why));
}

struct reach {
	struct build *b;
	const struct report_erasure *er;
	uint64_t n;
};

/* One op of the erased record: reached when its scope lies under the
 * erasure's and it is a put (what an erasure takes the body of). */
static int reach_op(void *ctx, const struct record_op *op)
{
	struct reach *c = ctx;
	struct report_author *a;
	const uint8_t *env, *sig;
	uint8_t eb[ENTRY_MAX_ENVELOPE];
	size_t el;
	struct entry e;
	int r;

	if (op->kind != ENTRY_PUT || memcmp(op->id, c->er->id, 32) == 0)
		return 0;
	r = log_entry_at(c->b->t, op->lseq, eb, &env, &el, &sig);
	if (r == HAMLET_ECORRUPT)
		return 0; /* audit_store names it */
	if (r < 0)
		return r;
	if (entry_decode(env, el, &e, NULL) < 0 ||
	    !entry_scope_under(e.scope, c->er->scope))
		return 0;
	c->n++;
	if (!(a = author_get(c->b->rep, op->author)))
		return -ENOMEM;
	a->entries_erased++;
	return 0;
}

static int erasure_add(struct build *b, struct report_author *a,
		       const struct entry *e, const uint8_t id[32],
		       const uint8_t feed[32], uint64_t seq)
{
	struct report *rep = b->rep;
	struct report_erasure *er;
	int r;

	if (!(er = grow(&rep->erasures, &rep->nerasures, sizeof(*er))))
		return -ENOMEM;
	memcpy(er->id, id, 32);
	memcpy(er->author, e->author, 32);
	snprintf(er->scope, sizeof(er->scope), "%s", e->scope);
	snprintf(er->collection, sizeof(er->collection), "%s", e->collection);
	snprintf(er->record_id, sizeof(er->record_id), "%s", e->record_id);
	er->hlc = e->hlc;
	if (e->has_body) {
		struct bodyz_buf zb = { 0 };
		struct log_entry_full x;
		if (log_entry_read(b->t, feed, seq, &zb, &x) == 0 &&
		    x.body &&
		    schema_erase_reason(x.body, x.body_len, er->reason,
					sizeof(er->reason), er->why,
					sizeof(er->why)) < 0)
			snprintf(er->reason, sizeof(er->reason),
				 "(its body is not a reason)");
		bodyz_buf_free(&zb);
	}
	er->why[0] = 0;
	a->erasures_made++;
	if (!rep->has_root) {
		snprintf(er->why, sizeof(er->why),
			 "the store knows no root key to judge it by");
		return 0;
	}
	r = report_erasure_check(b->t, rep->root, e, er->why,
				 sizeof(er->why));
	if (r < 0 && r != HAMLET_ECERT)
		return r;
	er->allowed = r == 0;
	return 0;
}

/* --- feeds and their entries ------------------------------------------------ */

static int feed_cb(void *ctx, const struct log_feed *lf)
{
	struct build *b = ctx;
	struct report_author *a;
	struct report_feed *f;
	int r;

	if (!(a = author_get(b->rep, lf->author)) ||
	    !(f = feed_get(a, lf->scope)))
		return -ENOMEM;
	f->head = lf->seq;
	f->forked = lf->forked;
	f->fork_seq = lf->fork_seq;
	for (uint64_t seq = 1; seq <= lf->seq; seq++) {
		const uint8_t *env, *sig;
		size_t el;
		uint8_t id[32], eb[ENTRY_MAX_ENVELOPE];
		struct entry e;
		r = log_entry_get(b->t, lf->key, seq, eb, &env, &el, &sig);
		/* not stored, or its row alone deleted (audit_store names
		 * it as missing too) */
		if (r == HAMLET_ENOTFOUND || r == HAMLET_ECORRUPT) {
			f->missing++;
			continue;
		}
		if (r < 0)
			return r;
		f->entries++;
		if (b->pfn && ++b->read % 256 == 0)
			b->pfn(b->pctx, b->read, 0);
		if (entry_decode(env, el, &e, NULL) < 0)
			continue; /* audit_store names it */
		span_add(&f->first_hlc, &f->last_hlc, e.hlc);
		entry_id(env, el, id);
		for (size_t k = 0; k < a->nrevocations; k++)
			if (audit_entry_past_cutoff(
				    &b->rep->revocations[a->revocations[k]].rv,
				    lf->scope, seq, id)) {
				/* only when no chain the revocation leaves
				 * grants it (SPEC 9) */
				if ((r = trustset_entry_revoked(b->t, b->tc,
								&e, id)) < 0)
					return r;
				a->past_cutoff += r;
				break;
			}
		if (e.kind == ENTRY_PUT)
			f->puts++;
		else if (e.kind == ENTRY_DELETE)
			f->deletes++;
		else if (e.kind == ENTRY_ERASE)
			f->erasures++;
		else
			f->others++;
		if (e.kind != ENTRY_ERASE)
			continue;
		if ((r = erasure_add(b, a, &e, id, lf->key, seq)) < 0)
			return r;
	}
	return 0;
}

static int held_cb(void *ctx, const struct log_held *h)
{
	struct build *b = ctx;
	struct report_author *a;
	struct report_feed *f;
	struct entry e;

	if (entry_decode(h->env, h->env_len, &e, NULL) < 0)
		return 0; /* it decoded when it was held: audit names damage */
	if (!(a = author_get(b->rep, e.author)) || !(f = feed_get(a, e.scope)))
		return -ENOMEM;
	/* one waiting for its author's certificate waits for no earlier
	 * entry: it is the author's finding, not a hole in the feed */
	if (h->nocert)
		a->held_nocert++;
	else
		f->held++;
	/* held entries come in seq order within a feed: every seq between
	 * the last one held (of either kind, or the head) and this one is
	 * missing */
	{
		uint64_t from = f->held_top > f->head ? f->held_top : f->head;
		if (e.seq > from + 1)
			f->gaps += e.seq - from - 1;
		f->held_top = e.seq;
	}
	return 0;
}

/* --- the trust set -------------------------------------------------------- */

static int cert_cb(void *ctx, int kind, const uint8_t id[32],
		   const uint8_t *data, size_t len)
{
	struct build *b = ctx;
	struct report_author *a;
	struct report_cert *c;
	struct cert ce;

	(void)kind;
	if (cert_decode(data, len, &ce, NULL) < 0)
		return 0; /* it decoded when it was added */
	if (!(a = author_get(b->rep, ce.subject)) ||
	    !(c = grow(&a->certs, &a->ncerts, sizeof(*c))))
		return -ENOMEM;
	memcpy(c->id, id, 32);
	c->c = ce;
	return 0;
}

static int revoke_cb(void *ctx, int kind, const uint8_t id[32],
		     const uint8_t *data, size_t len)
{
	struct build *b = ctx;
	struct report *rep = b->rep;
	struct report_revocation *rv;
	struct report_author *a;
	size_t *ix;

	(void)kind;
	if (!(rv = grow(&rep->revocations, &rep->nrevocations, sizeof(*rv))))
		return -ENOMEM;
	if (revoke_decode(data, len, &rv->rv, NULL) < 0) {
		rep->nrevocations--;
		return 0;
	}
	memcpy(rv->id, id, 32);
	if (!(a = author_get(rep, rv->rv.subject)) ||
	    !(ix = grow(&a->revocations, &a->nrevocations, sizeof(*ix))))
		return -ENOMEM;
	*ix = rep->nrevocations - 1;
	return 0;
}

/* Its chains to the root, each checked now, and its name. */
static int chains_load(struct build *b, struct report_author *a)
{
	struct report *rep = b->rep;
	struct cert_chain *cs;
	size_t n = 0;
	int r;

	if (!a->ncerts)
		return 0;
	if (!(cs = malloc(REPORT_MAX_CHAINS * sizeof(*cs))))
		return -ENOMEM;
	if ((r = trustset_chains_under(b->t,
				       b->rep->has_root ? b->rep->root : NULL,
				       a->key, cs, REPORT_MAX_CHAINS, &n,
				       &a->chain_cut)) < 0)
		goto out;
	if (n && !(a->chains = calloc(n, sizeof(*a->chains)))) {
		r = -ENOMEM;
		goto out;
	}
	a->nchains = n;
	for (size_t i = 0; i < n; i++) {
		struct report_chain *c = &a->chains[i];
		c->ch = cs[i];
		c->valid_now = cert_chain_check(&c->ch, rep->network_id,
						rep->root, rep->at_ms,
						c->invalid_why,
						sizeof(c->invalid_why)) == 0;
		c->never_valid = !c->valid_now &&
				 cert_chain_never_valid(&c->ch, rep->network_id,
							rep->root);
		/* a chain that never held is not cut by its issuers'
		 * revocations: only the author's own counts */
		r = trustset_revoked(b->t, a->key,
				     c->never_valid ? NULL : &c->ch,
				     c->revoked_why, sizeof(c->revoked_why));
		if (r < 0 && r != HAMLET_EREVOKED)
			goto out;
		c->revoked = r == HAMLET_EREVOKED;
		for (size_t k = 0; k < a->ncerts; k++)
			if (memcmp(a->certs[k].id, c->ch.id[0], 32) == 0)
				a->certs[k].in_chain = 1;
		/* the name a valid chain gives, else the first one's */
		if (!a->name[0] || (c->valid_now && !c->revoked))
			snprintf(a->name, sizeof(a->name), "%s",
				 c->ch.c[0].name);
	}
	/* none valid: the name of one that lets it write where it wrote,
	 * not one another administrator gave its key elsewhere */
	int valid = 0;
	for (size_t i = 0; i < n; i++)
		valid |= a->chains[i].valid_now && !a->chains[i].revoked;
	for (size_t i = 0; i < n && !valid && a->nfeeds; i++) {
		const struct cert *leaf = &a->chains[i].ch.c[0];
		if (scopemap_grants(NULL, leaf, a->feeds[0].scope, 0)) {
			snprintf(a->name, sizeof(a->name), "%s", leaf->name);
			break;
		}
	}
	if (!a->name[0])
		snprintf(a->name, sizeof(a->name), "%s", a->certs[0].c.name);
	r = 0;
out:
	free(cs);
	return r;
}

/* --- refusals ----------------------------------------------------------------- */

static int refused_row_cb(void *ctx, const struct refused_row *row)
{
	struct build *b = ctx;
	struct report *rep = b->rep;
	struct report_refused *x;
	struct report_author *a;
	struct entry e;
	uint8_t feed[32], sid[32], eb[ENTRY_MAX_ENVELOPE];
	const uint8_t *env, *sig;
	size_t el;
	int r;

	rep->refused++;
	/* stored since (at its feed and seq, the same entry): judged again */
	if (row->env_len && entry_decode(row->env, row->env_len, &e, NULL) == 0) {
		log_feed_key(e.author, e.scope, feed);
		r = log_entry_get(b->t, feed, e.seq, eb, &env, &el, &sig);
		if (r < 0 && r != HAMLET_ENOTFOUND && r != HAMLET_ECORRUPT)
			return r;
		if (r == 0) {
			entry_id(env, el, sid);
			if (memcmp(sid, row->id, 32) == 0) {
				rep->refused_accepted++;
				return 0;
			}
		}
	}
	if (entry_decode(row->env, row->env_len, &e, NULL) < 0) {
		x = grow(&rep->refused_unknown, &rep->nrefused_unknown,
			 sizeof(*x));
	} else {
		if (!(a = author_get(rep, e.author)))
			return -ENOMEM;
		x = grow(&a->refused, &a->nrefused, sizeof(*x));
	}
	if (!x)
		return -ENOMEM;
	memcpy(x->id, row->id, 32);
	x->err = row->err;
	snprintf(x->why, sizeof(x->why), "%s", row->why);
	x->at_ms = row->at_ms;
	if (row->env_len && entry_decode(row->env, row->env_len, &e, NULL) == 0) {
		x->decoded = 1;
		x->sig_ok = entry_verify(row->env, row->env_len, row->sig,
					 e.author) == 0;
		snprintf(x->scope, sizeof(x->scope), "%s", e.scope);
		snprintf(x->collection, sizeof(x->collection), "%s",
			 e.collection);
		snprintf(x->record_id, sizeof(x->record_id), "%s",
			 e.record_id);
		x->seq = e.seq;
		x->hlc = e.hlc;
		x->kind = e.kind;
	}
	return 0;
}

/* --- the whole ------------------------------------------------------------------ */

static int build_txn(struct build *b)
{
	struct report *rep = b->rep;
	int r;

	/* the root given to report_build(), else the store's own */
	if (!rep->has_root) {
		r = trustset_root_get(b->t, rep->root);
		if (r < 0 && r != HAMLET_ENOTFOUND)
			return r;
		rep->has_root = r == 0;
	}
	if ((r = trustset_each(b->t, TRUST_CERT, cert_cb, b)) < 0 ||
	    (r = trustset_each(b->t, TRUST_REVOKE, revoke_cb, b)) < 0 ||
	    (r = log_feeds_each(b->t, feed_cb, b)) < 0 ||
	    (r = log_held_each(b->t, held_cb, b)) < 0 ||
	    (r = refused_each(b->t, refused_row_cb, b)) < 0 ||
	    (r = refused_over(b->t, &rep->refused_over)) < 0)
		return r;
	for (size_t i = 0; i < rep->audit.forked.n; i++) {
		const struct audit_fork *fk = &rep->audit.forked.v[i];
		struct report_author *a = author_get(rep, fk->author);
		struct report_feed *f = a ? feed_get(a, fk->scope) : NULL;
		if (!f)
			return -ENOMEM;
		a->forks++;
		if (!f->forked || fk->seq < f->fork_seq) {
			f->forked = 1;
			f->fork_seq = fk->seq;
		}
	}
	for (size_t i = 0; i < rep->nerasures; i++) {
		struct reach c = { b, &rep->erasures[i], 0 };
		if (!rep->erasures[i].allowed)
			continue;
		if ((r = record_ops_each(b->t, rep->erasures[i].collection,
					 rep->erasures[i].record_id, reach_op,
					 &c)) < 0)
			return r;
		rep->erasures[i].reached = c.n;
	}
	/* authors are all known now: their chains, and the sums */
	for (size_t i = 0; i < rep->nauthors; i++) {
		struct report_author *a = &rep->authors[i];
		if ((r = chains_load(b, a)) < 0)
			return r;
		for (size_t k = 0; k < a->nfeeds; k++) {
			const struct report_feed *f = &a->feeds[k];
			a->entries += f->entries;
			a->gaps += f->gaps;
			a->missing += f->missing;
			if (f->first_hlc)
				span_add(&a->first_hlc, &a->last_hlc,
					 f->first_hlc);
			if (f->last_hlc)
				span_add(&a->first_hlc, &a->last_hlc,
					 f->last_hlc);
		}
	}
	return 0;
}

/* The trust set's scope moves, each with what became of it. */
static int moves_fill(struct store_txn *t, struct report *rep)
{
	struct scopemap *m;
	size_t n;
	int r;

	if ((r = scopemap_load(t, &m)) < 0)
		return r;
	n = scopemap_size(m);
	if (n && !(rep->moves = calloc(n, sizeof(*rep->moves)))) {
		scopemap_free(m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *id;
		struct report_move *o = &rep->moves[i];
		o->mv = *scopemap_move(m, i, &id, &o->status);
		memcpy(o->id, id, 32);
	}
	rep->nmoves = n;
	scopemap_free(m);
	return 0;
}

int report_build(struct store *st, const uint8_t network_id[32],
		 const uint8_t *root, uint64_t now_ms, audit_progress_fn pfn,
		 void *pctx, struct report *ret)
{
	struct build b = { NULL, ret, 0, NULL, pfn, pctx, 0, NULL };
	int r;

	memset(ret, 0, sizeof(*ret));
	memcpy(ret->network_id, network_id, 32);
	ret->at_ms = now_ms;
	if ((r = audit_store_progress(st, network_id, pfn, pctx,
				      &ret->audit)) < 0)
		return r;
	if (root) {
		if ((r = audit_root_check(st, root, &ret->audit)) < 0)
			return r;
		memcpy(ret->root, root, 32);
		ret->has_root = 1;
	}
	if (!(b.tc = trustset_cache_new()))
		return -ENOMEM;
	if ((r = store_txn_begin(st, 1, &b.t)) < 0) {
		trustset_cache_free(b.tc);
		return r;
	}
	r = build_txn(&b);
	if (r >= 0)
		r = moves_fill(b.t, ret);
	store_txn_abort(b.t);
	trustset_cache_free(b.tc);
	return r;
}

void report_close(struct report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->nauthors; i++) {
		struct report_author *a = &rep->authors[i];
		free(a->certs);
		free(a->chains);
		free(a->feeds);
		free(a->revocations);
		free(a->refused);
	}
	free(rep->authors);
	free(rep->revocations);
	free(rep->erasures);
	free(rep->moves);
	free(rep->refused_unknown);
	audit_report_close(&rep->audit);
	memset(rep, 0, sizeof(*rep));
}

int report_findings(const struct report *rep)
{
	if (rep->audit.forks || rep->audit.erased_bodies ||
	    rep->nrefused_unknown || rep->refused_over)
		return 1;
	/* entries waiting for earlier ones not received (gaps) too: they
	 * stand nowhere until those come (docs/auditor-guide.md) */
	for (size_t i = 0; i < rep->nauthors; i++)
		if (rep->authors[i].nrefused || rep->authors[i].forks ||
		    rep->authors[i].held_nocert || rep->authors[i].gaps ||
		    rep->authors[i].past_cutoff ||
		    rep->authors[i].home_revocations ||
		    rep->authors[i].home_forks)
			return 1;
	for (size_t i = 0; i < rep->nerasures; i++)
		if (!rep->erasures[i].allowed)
			return 1;
	return 0;
}

static int home_revoke_cb(void *ctx, int kind, const uint8_t id[32],
			  const uint8_t *data, size_t len)
{
	struct build *b = ctx;
	struct report_author *a = b->author;
	struct revocation rv;

	(void)kind;
	for (size_t i = 0; i < b->rep->nrevocations; i++)
		if (memcmp(b->rep->revocations[i].id, id, 32) == 0)
			return 0; /* the bundle carries it too */
	if (revoke_decode(data, len, &rv, NULL) < 0 ||
	    memcmp(rv.network_id, b->rep->network_id, 32) != 0)
		return 0;
	if (!a->home_revocations++) {
		memcpy(a->home_revoked_by, rv.issuer, 32);
		a->home_revoked_ms = rv.issued_ms;
	}
	return 0;
}

/* The home's fork proofs of one author, each feed once (up to
 * HOME_FORKS_KEPT told apart; past them each proof counts). */
#define HOME_FORKS_KEPT 64
struct home_forks {
	struct build *b;
	uint8_t keys[HOME_FORKS_KEPT][32];
	size_t n;
};

/* A fork proof of the author the home holds, of a feed the bundle does
 * not show forked: the bundle carries one of that feed's two histories
 * at most, which alone looks sound. */
static int home_fork_cb(void *ctx, int kind, const uint8_t id[32],
			const uint8_t *data, size_t len)
{
	struct home_forks *h = ctx;
	struct report_author *a = h->b->author;
	struct fork_proof fp; /* two entries: some 2 KB */
	uint8_t key[32];

	(void)kind, (void)id;
	if (fork_proof_decode(data, len, &fp, NULL) < 0 ||
	    memcmp(fp.a.network_id, h->b->rep->network_id, 32) != 0)
		return 0;
	for (size_t k = 0; k < a->nfeeds; k++)
		if (a->feeds[k].forked && strcmp(a->feeds[k].scope, fp.a.scope) == 0)
			return 0; /* the bundle shows it: its own finding */
	log_feed_key(fp.a.author, fp.a.scope, key);
	for (size_t k = 0; k < h->n; k++)
		if (memcmp(h->keys[k], key, 32) == 0)
			return 0; /* another proof of a feed counted */
	if (h->n < HOME_FORKS_KEPT)
		memcpy(h->keys[h->n++], key, 32);
	if (!a->home_forks++) {
		snprintf(a->home_fork_scope, sizeof(a->home_fork_scope), "%s",
			 fp.a.scope);
		a->home_fork_seq = fp.at;
	}
	return 0;
}

int report_reader_revocations(struct report *rep, struct store *st)
{
	struct build b = { NULL, rep, 0, NULL, NULL, NULL, 0, NULL };
	int r = 0;

	if ((r = store_txn_begin(st, 1, &b.t)) < 0)
		return r;
	for (size_t i = 0; i < rep->nauthors && r >= 0; i++) {
		b.author = &rep->authors[i];
		r = trustset_each_subject(b.t, rep->authors[i].key,
					  TRUST_REVOKE, home_revoke_cb, &b);
		if (r >= 0) {
			struct home_forks *h = malloc(sizeof(*h));
			if (!h) {
				r = -ENOMEM;
				break;
			}
			h->b = &b;
			h->n = 0;
			r = trustset_each_subject(b.t, rep->authors[i].key,
						  TRUST_FORK, home_fork_cb, h);
			free(h);
		}
	}
	store_txn_abort(b.t);
	return r < 0 ? r : 0;
}

const char *report_reason_name(int err)
{
	switch (err) {
	case HAMLET_ECERT:
		return "not_granted";
	case HAMLET_EREVOKED:
		return "revoked";
	case HAMLET_ESIG:
		return "bad_signature";
	case HAMLET_ENETWORK:
		return "wrong_network";
	case HAMLET_EHASH:
		return "body_mismatch";
	case HAMLET_EFUTURE:
		return "too_far_ahead";
	case HAMLET_EFORKED:
		return "feed_frozen";
	case HAMLET_ESCHEMA:
	case HAMLET_ECOLLECTION:
	case HAMLET_EIMMUTABLE:
	case HAMLET_ESTATE:
	case HAMLET_EBODY:
		return "invalid";
	case HAMLET_EFORMAT:
	case HAMLET_ETYPE:
	case HAMLET_ETRAILING:
	case HAMLET_ETOOBIG:
	case HAMLET_EVERSION:
	case HAMLET_ECHAIN:
	case HAMLET_ESCOPE:
	case HAMLET_EID:
		return "damaged";
	default:
		return "other";
	}
}
