/*
 * node_lapse: the node's own entries that no certificate chain of its key
 * covers at their date. Another node judges an entry by the chains that
 * held at the entry's own time (trustset_entry_check()), so an entry
 * saved while the node's certificate had lapsed is refused everywhere,
 * and holds back every later entry of its feed, until an administrator
 * gives the node a certificate valid from that date (cert issue --from).
 *
 * Entries of a feed are in date order, so the entries of one uncovered
 * span are found by two binary searches per feed, not by a walk.
 */
#include "node_internal.h"

#include "error.h"
#include "heads.h"
#include "hlc.h"
#include "trustset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAPSE_CHAINS 8 /* chains of the node's key looked at, per source */

struct span {
	uint64_t from, to; /* [from, to); to UINT64_MAX: open */
};

struct lapse_walk {
	struct store_txn *t;
	const struct span *gaps;
	size_t ngaps;
	struct node_lapse *ret;
};

/* The chain's span: from its latest start to its earliest end. 0 when it
 * holds at some time in n's network (its only fault, if any, its dates). */
static int chain_span(const struct node *n, const struct cert_chain *ch,
		      struct span *ret)
{
	ret->from = 0;
	ret->to = UINT64_MAX;
	if (ch->n == 0 || memcmp(ch->c[0].subject, n->pk, 32) != 0)
		return -1;
	cert_chain_span(ch, &ret->from, &ret->to);
	if (ret->from >= ret->to)
		return -1;
	return cert_chain_check(ch, n->net.id, n->net.root_pk, ret->from,
				NULL, 0) == 0
		       ? 0
		       : -1;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->from < y->from ? -1 : x->from > y->from;
}

/* The times no span covers, from 0 on: at most nspans + 1 gaps. */
static size_t gaps_of(struct span *s, size_t ns, struct span *gaps)
{
	uint64_t at = 0;
	size_t ng = 0;

	if (ns > 1)
		qsort(s, ns, sizeof(*s), span_cmp);
	for (size_t i = 0; i < ns; i++) {
		if (s[i].from > at)
			gaps[ng++] = (struct span){ at, s[i].from };
		if (s[i].to > at)
			at = s[i].to;
		if (at == UINT64_MAX)
			return ng;
	}
	gaps[ng++] = (struct span){ at, UINT64_MAX };
	return ng;
}

/* The date of entry seq of feed key; 0 with a negative return. */
static int seq_ms(struct store_txn *t, const uint8_t key[32], uint64_t seq,
		  uint64_t *ret)
{
	uint8_t eb[ENTRY_MAX_ENVELOPE];
	const uint8_t *env, *sig;
	size_t el;
	struct entry e;
	int r;

	if ((r = log_entry_get(t, key, seq, eb, &env, &el, &sig)) < 0 ||
	    (r = entry_decode(env, el, &e, NULL)) < 0)
		return r;
	*ret = hlc_ms(e.hlc);
	return 0;
}

/* The first seq of 1..last dated at ms or later (last + 1: none). */
static int seq_from(struct store_txn *t, const uint8_t key[32], uint64_t last,
		    uint64_t ms, uint64_t *ret)
{
	uint64_t lo = 1, hi = last + 1, at;
	int r;

	if (ms == UINT64_MAX) {
		*ret = last + 1;
		return 0;
	}
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if ((r = seq_ms(t, key, mid, &at)) < 0)
			return r;
		if (at >= ms)
			hi = mid;
		else
			lo = mid + 1;
	}
	*ret = lo;
	return 0;
}

static int lapse_feed(void *ctx, const uint8_t key[32])
{
	struct lapse_walk *w = ctx;
	struct log_feed f;
	uint64_t a, b, ms;
	int r;

	if ((r = log_feed_get(w->t, key, &f)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	for (size_t i = 0; i < w->ngaps; i++) {
		if ((r = seq_from(w->t, key, f.seq, w->gaps[i].from, &a)) < 0 ||
		    (r = seq_from(w->t, key, f.seq, w->gaps[i].to, &b)) < 0)
			return r;
		if (a >= b)
			continue;
		w->ret->entries += b - a;
		if ((r = seq_ms(w->t, key, a, &ms)) < 0)
			return r;
		if (!w->ret->first_ms || ms < w->ret->first_ms)
			w->ret->first_ms = ms;
		if ((r = seq_ms(w->t, key, b - 1, &ms)) < 0)
			return r;
		if (ms > w->ret->last_ms)
			w->ret->last_ms = ms;
	}
	return 0;
}

static int covers(const struct cert *c, uint64_t at)
{
	return c->not_before_ms <= at && (!c->expires_ms || at < c->expires_ms);
}

/* ret->above: in a chain whose leaf held at the first lapsed entry, the
 * first certificate above it that did not. */
static void above_find(const struct cert_chain *chs, size_t nch,
		       struct node_lapse *ret)
{
	for (size_t i = 0; i < nch; i++) {
		if (!chs[i].n || !covers(&chs[i].c[0], ret->first_ms))
			continue;
		for (size_t k = 1; k < chs[i].n; k++)
			if (!covers(&chs[i].c[k], ret->first_ms)) {
				snprintf(ret->above, sizeof(ret->above), "%s",
					 chs[i].c[k].name);
				return;
			}
	}
}

int node_lapse_find(const struct node *n, const struct cert_chain *extra,
		    struct node_lapse *ret)
{
	struct cert_chain *chs = calloc(LAPSE_CHAINS + 2, sizeof(*chs));
	struct span spans[LAPSE_CHAINS + 2], gaps[LAPSE_CHAINS + 3];
	struct lapse_walk w = { 0 };
	size_t nch = 0, ns = 0;
	char why[1024];
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!chs)
		return -ENOMEM;
	/* a revoked key's entries are refused for the revocation, not their
	 * dates (status says REVOKED) */
	if (!n->st || node_revoked(n)) {
		r = 0;
		goto out;
	}
	/* the chain file: installed, and perhaps not in the trust set yet */
	r = node_cert_load(n, hlc_wall_ms(), &chs[0], NULL, NULL, why,
			   sizeof(why));
	nch = chs[0].n ? 1 : 0;
	if (extra)
		chs[nch++] = *extra;
	if ((r = store_txn_begin(n->st, 1, &w.t)) < 0)
		goto out;
	{
		size_t k = 0;
		if ((r = trustset_chains(w.t, n->pk, chs + nch, LAPSE_CHAINS,
					 &k, NULL)) < 0)
			goto out;
		nch += k;
	}
	for (size_t i = 0; i < nch; i++)
		if (chain_span(n, &chs[i], &spans[ns]) == 0)
			ns++;
	ret->chains = ns;
	if (ns == 0) {
		r = 0; /* never certified: status says so on its own */
		goto out;
	}
	w.gaps = gaps;
	w.ngaps = gaps_of(spans, ns, gaps);
	w.ret = ret;
	if ((r = heads_author_feeds(w.t, n->pk, lapse_feed, &w)) == 0 &&
	    ret->entries)
		above_find(chs, nch, ret);
out:
	store_txn_abort(w.t);
	free(chs);
	if (r < 0)
		memset(ret, 0, sizeof(*ret));
	return r < 0 ? r : 0;
}
