/*
 * audit: entries stored past their author's revocation cut-off. A node
 * refuses such an entry when the revocation is held first; one that
 * arrived before the revocation may still be stored. The auditor trusts
 * no node, so every stored entry is held to every revocation of its
 * author in the trust set (proto/SPEC.md section 9, "Entries" and
 * "Cut-off, not a date"): such entries should not stand.
 */
#include "audit_internal.h"
#include "trustset.h"

#include "error.h"
#include "log.h"
#include "trust.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int audit_entry_past_cutoff(const struct revocation *rv, const char *scope,
			    uint64_t seq, const uint8_t id[32])
{
	for (size_t i = 0; i < rv->nfeeds; i++) {
		const struct revoke_feed *f = &rv->feeds[i];
		if (strcmp(f->scope, scope) != 0)
			continue;
		return seq > f->seq ||
		       (seq == f->seq && memcmp(id, f->head, 32) != 0);
	}
	return 1; /* a feed not listed keeps nothing */
}

struct revs {
	struct revocation *v;
	size_t n;
	const uint8_t *network_id;
};

static int rev_cb(void *ctx, int kind, const uint8_t id[32],
		  const uint8_t *data, size_t len)
{
	struct revs *rs = ctx;
	struct revocation rv, *nv;

	(void)kind;
	(void)id;
	/* it verifies under its issuer and is of this network, or it
	 * says nothing */
	if (revoke_decode(data, len, &rv, NULL) < 0 ||
	    memcmp(rv.network_id, rs->network_id, 32) != 0)
		return 0;
	if (!(nv = realloc(rs->v, (rs->n + 1) * sizeof(*nv))))
		return -ENOMEM;
	rs->v = nv;
	rs->v[rs->n++] = rv;
	return 0;
}

struct cut_ctx {
	struct store_txn *t;
	struct audit_report *rep;
	const struct revs *rs;
	struct trustset_cache *tc;
};

/* 1 when the trust set refuses the entry env as revoked, 0 when not,
 * <0 when the store failed. */
static int judged_revoked(struct cut_ctx *c, const uint8_t *env, size_t el,
			  const uint8_t id[32])
{
	struct entry e;

	if (entry_decode(env, el, &e, NULL) < 0)
		return 1; /* the walk names it; the cut-off holds it */
	return trustset_entry_revoked(c->t, c->tc, &e, id);
}

/* The seqs of feed f past the cut-off of rv, told as runs. */
static int feed_past(struct cut_ctx *c, const struct log_feed *f,
		     const struct revocation *rv)
{
	uint64_t lo = 0, hi = 0;
	char a[17];
	int r;

	audit__hex8(f->author, a);
	for (uint64_t seq = 1; seq <= f->seq + 1; seq++) {
		const uint8_t *env, *sig;
		uint8_t eb[ENTRY_MAX_ENVELOPE], id[32];
		size_t el;
		int past = 0;
		if (seq <= f->seq) {
			r = log_entry_get(c->t, f->key, seq, eb, &env, &el,
					  &sig);
			/* a row missing is told by the walk, as a gap */
			if (r < 0 && r != HAMLET_ENOTFOUND &&
			    r != HAMLET_ECORRUPT)
				return r;
			if (r == 0) {
				entry_id(env, el, id);
				past = audit_entry_past_cutoff(rv, f->scope,
							       seq, id);
			}
			/* and no chain of its author the revocation leaves
			 * grants it: one by a key outside a chain cuts
			 * nothing of it (SPEC 9) */
			if (past && (r = judged_revoked(c, env, el, id)) < 0)
				return r;
			if (past)
				past = r;
		}
		if (past) {
			c->rep->past_cutoff++;
			if (!lo)
				lo = seq;
			hi = seq;
			continue;
		}
		if (lo && lo == hi)
			problems_add(&c->rep->problems, "revoked",
				     N_("feed %s by %s…: seq %llu was signed past the cut-off of its author's revocation: it should not stand"),
				     f->scope, a, (unsigned long long)lo);
		else if (lo)
			problems_add(&c->rep->problems, "revoked",
				     N_("feed %s by %s…: seq %llu to %llu were signed past the cut-off of its author's revocation: they should not stand"),
				     f->scope, a, (unsigned long long)lo,
				     (unsigned long long)hi);
		lo = 0;
	}
	return 0;
}

static int cut_feed(void *ctx, const struct log_feed *f)
{
	struct cut_ctx *c = ctx;
	int r;

	for (size_t i = 0; i < c->rs->n; i++)
		if (memcmp(c->rs->v[i].subject, f->author, 32) == 0 &&
		    (r = feed_past(c, f, &c->rs->v[i])) < 0)
			return r;
	return 0;
}

int audit__cutoff_check(struct store_txn *t, const uint8_t network_id[32],
			struct audit_report *rep)
{
	struct revs rs = { NULL, 0, network_id };
	struct cut_ctx c = { t, rep, &rs, trustset_cache_new() };
	int r;

	if (!c.tc)
		return -ENOMEM;
	if ((r = trustset_each(t, TRUST_REVOKE, rev_cb, &rs)) >= 0 && rs.n)
		r = log_feeds_each(t, cut_feed, &c);
	free(rs.v);
	trustset_cache_free(c.tc);
	return r < 0 ? r : 0;
}
