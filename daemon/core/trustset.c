#include "trustset.h"
#include "trustset_internal.h"
#include "why.h"

#include "error.h"
#include "hlc.h"
#include "scopemap.h"

#include <errno.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CANDIDATES 8    /* certificates tried per subject and level */

/* --- the root ------------------------------------------------------------ */

int trustset_root_set(struct store_txn *t, const uint8_t root[32])
{
	return store_put(t, ST_META, "root", 4, root, 32, 0);
}

int trustset_root_get(struct store_txn *t, uint8_t ret[32])
{
	const void *v;
	size_t vl;
	int r = store_get(t, ST_META, "root", 4, &v, &vl);
	if (r < 0)
		return r;
	if (vl != 32)
		return HAMLET_ECORRUPT;
	memcpy(ret, v, 32);
	return 0;
}

/* --- reading the set ------------------------------------------------------ */

int trustset_get(struct store_txn *t, const uint8_t key[TRUSTSET_KEY],
		 const uint8_t **ret, size_t *ret_len)
{
	const void *v;
	int r = store_get(t, ST_TRUST, key, TRUSTSET_KEY, &v, ret_len);
	if (r == 0)
		*ret = v;
	return r;
}

int trustset_keys(struct store_txn *t, const uint8_t *from, size_t max,
		  uint8_t (*keys)[TRUSTSET_KEY], size_t *ret_n, int *ret_more)
{
	return trustset_keys_range(t, from, NULL, max, keys, ret_n, ret_more);
}

int trustset_keys_range(struct store_txn *t, const uint8_t *from,
			const uint8_t *to, size_t max,
			uint8_t (*keys)[TRUSTSET_KEY], size_t *ret_n,
			int *ret_more)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl, n = 0;
	int r;

	*ret_more = 0;
	if ((r = store_cursor_open(t, ST_TRUST, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, from, from ? TRUSTSET_KEY : 0, &k, &kl,
				   &v, &vl);
	     r == 1; r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		if (kl != TRUSTSET_KEY) {
			r = HAMLET_ECORRUPT;
			break;
		}
		if (to && memcmp(k, to, TRUSTSET_KEY) >= 0)
			break;
		if (n == max) {
			*ret_more = 1;
			break;
		}
		memcpy(keys[n++], k, TRUSTSET_KEY);
	}
	store_cursor_close(c);
	*ret_n = n;
	return r < 0 ? r : 0;
}

int trustset_each(struct store_txn *t, int kind, trustset_cb cb, void *ctx)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	uint8_t from[1] = { (uint8_t)kind };
	int r;

	if ((r = store_cursor_open(t, ST_TRUST, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, kind ? from : NULL, kind ? 1 : 0, &k,
				   &kl, &v, &vl);
	     r == 1; r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		const uint8_t *kb = k;
		if (kl != TRUSTSET_KEY) {
			r = HAMLET_ECORRUPT;
			break;
		}
		if (kind && kb[0] != kind)
			break;
		if ((r = cb(ctx, kb[0], kb + 1, v, vl)) != 0)
			break;
	}
	store_cursor_close(c);
	return r < 0 ? r : 0;
}

int trustset_each_subject(struct store_txn *t, const uint8_t key[32],
			  int kind, trustset_cb cb, void *ctx)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	uint8_t from[33];
	int r;

	memcpy(from, key, 32);
	from[32] = (uint8_t)kind;
	if ((r = store_cursor_open(t, ST_TRUSTSUBJ, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, from, 33, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		const uint8_t *kb = k, *item = NULL;
		size_t il;
		if (kl != 32 + TRUSTSET_KEY) {
			r = HAMLET_ECORRUPT;
			break;
		}
		if (memcmp(kb, from, 33) != 0)
			break;
		if ((r = trustset_get(t, kb + 32, &item, &il)) < 0) {
			if (r == HAMLET_ENOTFOUND)
				r = HAMLET_ECORRUPT;
			break;
		}
		if ((r = cb(ctx, kind, kb + 33, item, il)) != 0)
			break;
	}
	store_cursor_close(c);
	return r < 0 ? r : 0;
}

/* --- chains out of the set ---------------------------------------------- */

/* The certificates of one subject a chain search may take, decoded:
 * all of them, or (scope set) those whose write grant covers scope,
 * through the moves of map (NULL: as written). A certificate of another
 * area is no link of a chain for scope: an administrator's certificates
 * of a key, however many, never hide the chains of another area. */
struct certs_of {
	size_t n, cap;
	struct cert *c;
	uint8_t (*id)[32];
	const char *scope;
	const struct scopemap *map;
	int reads; /* the read grant covers scope, not the write grant */
};

static void certs_of_free(struct certs_of *co)
{
	free(co->c);
	free(co->id);
	co->c = NULL;
	co->id = NULL;
	co->n = co->cap = 0;
}

static int certs_of_cb(void *ctx, int kind, const uint8_t id[32],
		       const uint8_t *data, size_t len)
{
	struct certs_of *co = ctx;
	(void)kind;
	if (co->n == co->cap) {
		size_t nc = co->cap ? co->cap * 2 : 4;
		struct cert *c = realloc(co->c, nc * sizeof(*c));
		if (!c)
			return -ENOMEM;
		co->c = c;
		uint8_t(*ids)[32] = realloc(co->id, nc * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		co->id = ids;
		co->cap = nc;
	}
	if (cert_decode_verified(data, len, &co->c[co->n]) < 0)
		return HAMLET_ECORRUPT; /* it decoded when it was added */
	if (co->scope &&
	    !scopemap_grants(co->map, &co->c[co->n], co->scope, co->reads))
		return 0;
	memcpy(co->id[co->n++], id, 32);
	return 0;
}

static int certs_of_load(struct store_txn *t, const uint8_t key[32],
			 const char *scope, int reads,
			 const struct scopemap *map, struct certs_of *co)
{
	int r;

	memset(co, 0, sizeof(*co));
	co->scope = scope;
	co->reads = reads;
	co->map = map;
	if ((r = trustset_each_subject(t, key, TRUST_CERT, certs_of_cb, co)) <
	    0)
		certs_of_free(co);
	return r;
}

void trustset__revokes_free(struct revokes_of *ro)
{
	for (size_t i = 0; i < ro->n; i++)
		free(ro->v[i]);
	ro->n = 0;
}

/* Revocations being loaded: only those that come from chain ch (from
 * its certificate from on), when ch is set. */
struct revokes_load {
	struct revokes_of *ro;
	const struct cert_chain *ch;
	size_t from;
};

int trustset_revoke_applies(const struct revocation *rv,
			     const struct cert_chain *ch, size_t from)
{
	for (size_t k = from; k < ch->n; k++)
		if (memcmp(ch->c[k].issuer, rv->issuer, 32) == 0)
			return 1;
	return 0;
}

static int revokes_of_cb(void *ctx, int kind, const uint8_t id[32],
			 const uint8_t *data, size_t len)
{
	struct revokes_load *l = ctx;
	struct revokes_of *ro = l->ro;
	(void)kind;
	(void)id;
	if (ro->n == CACHE_REVOKES)
		return 1;
	if (!(ro->v[ro->n] = malloc(sizeof(*ro->v[0]))))
		return -ENOMEM;
	if (revoke_decode(data, len, ro->v[ro->n], NULL) < 0) {
		free(ro->v[ro->n]);
		return HAMLET_ECORRUPT;
	}
	if (l->ch && !trustset_revoke_applies(ro->v[ro->n], l->ch, l->from))
		free(ro->v[ro->n]); /* another line's: looked past */
	else
		ro->n++;
	return 0;
}

int trustset__revokes_load(struct store_txn *t, const uint8_t key[32],
			   struct revokes_of *ro)
{
	return trustset__revokes_from(t, key, NULL, 0, ro);
}

int trustset__revokes_from(struct store_txn *t, const uint8_t key[32],
			   const struct cert_chain *ch, size_t from,
			   struct revokes_of *ro)
{
	struct revokes_load l = { ro, ch, from };
	ro->n = 0;
	int r = trustset_each_subject(t, key, TRUST_REVOKE, revokes_of_cb, &l);
	if (r < 0)
		trustset__revokes_free(ro);
	return r;
}

/* Is the certificate of chain ch at index k - 1 cut: does a revocation
 * of its issuer (ch's certificate k's subject) that comes from the
 * chain above it not keep it? 1, 0 or <0. */
static int link_cut(struct store_txn *t, const struct cert_chain *ch,
		    size_t k)
{
	struct revokes_of ro;
	int r, cut = 0;

	if ((r = trustset__revokes_from(t, ch->c[k].subject, ch, k, &ro)) < 0)
		return r;
	for (size_t i = 0; i < ro.n && !cut; i++) {
		int in = 0;
		for (size_t j = 0; j < ro.v[i]->nkeep && !in; j++)
			in = memcmp(ro.v[i]->keep[j], ch->id[k - 1], 32) == 0;
		cut = !in;
	}
	trustset__revokes_free(&ro);
	return cut;
}

/* 1 when a certificate of key in the set lets it certify others
 * (delegate), 0 when none does. */
static int may_certify(struct store_txn *t, const uint8_t key[32])
{
	struct certs_of co;
	int r, any = 0;

	if ((r = certs_of_load(t, key, NULL, 0, NULL, &co)) < 0)
		return r;
	for (size_t i = 0; i < co.n; i++)
		any |= co.c[i].delegate != 0;
	certs_of_free(&co);
	return any;
}

/* The revocations of one link's issuer (ch's certificate k's subject),
 * as they bear on the chain above it: whether each keeps what it signed
 * below (certificate k - 1). */
struct link_revokes {
	size_t n, cap;
	int certifies; /* may_certify(): without it none of them cuts */
	uint8_t (*id)[32], (*issuer)[32];
	uint8_t *keeps;
	const uint8_t *below; /* the id of certificate k - 1 */
};

static void link_revokes_free(struct link_revokes *lr)
{
	free(lr->id);
	free(lr->issuer);
	free(lr->keeps);
}

static int link_revokes_cb(void *ctx, int kind, const uint8_t id[32],
			   const uint8_t *data, size_t len)
{
	struct link_revokes *lr = ctx;
	struct revocation *rv;
	(void)kind;
	if (lr->n == lr->cap) {
		size_t nc = lr->cap ? lr->cap * 2 : 4;
		uint8_t(*a)[32] = realloc(lr->id, nc * sizeof(*a));
		if (!a)
			return -ENOMEM;
		lr->id = a;
		if (!(a = realloc(lr->issuer, nc * sizeof(*a))))
			return -ENOMEM;
		lr->issuer = a;
		uint8_t *k = realloc(lr->keeps, nc);
		if (!k)
			return -ENOMEM;
		lr->keeps = k;
		lr->cap = nc;
	}
	if (!(rv = malloc(sizeof(*rv))))
		return -ENOMEM;
	if (revoke_decode(data, len, rv, NULL) < 0) {
		free(rv);
		return HAMLET_ECORRUPT;
	}
	memcpy(lr->id[lr->n], id, 32);
	memcpy(lr->issuer[lr->n], rv->issuer, 32);
	lr->keeps[lr->n] = 0;
	for (size_t j = 0; j < rv->nkeep && !lr->keeps[lr->n]; j++)
		lr->keeps[lr->n] = memcmp(rv->keep[j], lr->below, 32) == 0;
	lr->n++;
	free(rv);
	return 0;
}

/* links tried in one search at most: far more than any honest set
 * needs, and a bound on what certificates made to slow it can cost */
#define SEARCH_STEPS 4096
/* places of the table of parts of the set a search found lead to nothing
 * it takes: more than the links it may try */
#define MEMO_SLOTS 8192

/* A search for chains of one subject, each complete one (its links not
 * cut by a revocation from the chain above them) handed to take, which
 * returns 1 to stop. */
struct search {
	struct store_txn *t;
	const uint8_t *root;
	const char *scope; /* the chain's certificates must cover it */
	int reads;	   /* ... with their read grant (a reader's chain) */
	const struct scopemap *map;
	int (*take)(void *ctx, const struct cert_chain *ch);
	void *ctx;
	int revoked_link; /* a chain was cut by an issuer's revocation */
	size_t steps;	  /* links still to try: the search's bound */
	size_t takes;	  /* chains handed to take */
	/* chains passed over without take: those a revocation of the
	 * subject comes from (skip_revoked), those need signs nothing in */
	int skip_revoked;
	const uint8_t *need;
	struct link_revokes subj; /* the subject's own revocations */
	struct link_revokes link[CERT_MAX_CHAIN];
	/* digests of the places (the issuer still to find, and all that
	 * decides what a chain above it comes to) that led to nothing */
	uint8_t (*memo)[32];
};

/* Does one of ch's certificates from..to-1 name issuer as its issuer? */
static int issued_in(const struct cert_chain *ch, size_t from, size_t to,
		     const uint8_t issuer[32])
{
	for (size_t k = from; k < to; k++)
		if (memcmp(ch->c[k].issuer, issuer, 32) == 0)
			return 1;
	return 0;
}

/*
 * The digest of extending ch at depth: what the certificates above decide
 * a complete chain comes to is a function of it alone (the issuer to
 * find, the depth, the scope, each link's revocations below with whether
 * they keep what it signed and already come from the chain, whether a
 * revocation of the subject or need is in it). 0 or <0.
 */
static int place_digest(struct search *s, const struct cert_chain *ch,
			size_t depth, uint8_t out[32])
{
	crypto_generichash_state h;
	struct link_revokes *lr = &s->link[depth];
	uint8_t b[4];
	int r;

	lr->n = 0;
	lr->below = ch->id[depth - 1];
	if ((r = trustset_each_subject(s->t, ch->c[depth - 1].issuer,
				       TRUST_REVOKE, link_revokes_cb, lr)) < 0)
		return r;
	if (lr->n && (r = may_certify(s->t, ch->c[depth - 1].issuer)) < 0)
		return r;
	lr->certifies = lr->n && r;
	crypto_generichash_init(&h, NULL, 0, 32);
	crypto_generichash_update(&h, ch->c[depth - 1].issuer, 32);
	b[0] = (uint8_t)depth;
	b[1] = (uint8_t)s->reads;
	b[2] = s->subj.n && issued_in(ch, 0, depth, s->subj.issuer[0]);
	for (size_t i = 1; i < s->subj.n && !b[2]; i++)
		b[2] = issued_in(ch, 0, depth, s->subj.issuer[i]);
	b[3] = s->need && issued_in(ch, 0, depth, s->need);
	crypto_generichash_update(&h, b, 4);
	if (s->scope)
		crypto_generichash_update(&h, (const uint8_t *)s->scope,
					  strlen(s->scope) + 1);
	for (size_t k = 1; k <= depth; k++) {
		const struct link_revokes *l = &s->link[k];
		if (!l->certifies)
			continue;
		for (size_t i = 0; i < l->n; i++) {
			b[0] = (uint8_t)k;
			b[1] = l->keeps[i];
			b[2] = issued_in(ch, k, depth, l->issuer[i]);
			crypto_generichash_update(&h, b, 3);
			crypto_generichash_update(&h, l->id[i], 32);
		}
	}
	crypto_generichash_final(&h, out, 32);
	return 0;
}

/* Is d in the table (add 0: look; add 1: put it there)? */
static int memo_at(struct search *s, const uint8_t d[32], int add)
{
	size_t at;

	if (!s->memo && !(s->memo = calloc(MEMO_SLOTS, 32)))
		return -ENOMEM;
	memcpy(&at, d, sizeof(at));
	for (size_t n = 0; n < MEMO_SLOTS; n++, at++) {
		uint8_t *slot = s->memo[at % MEMO_SLOTS];
		if (memcmp(slot, d, 32) == 0)
			return 1;
		if (sodium_is_zero(slot, 32)) {
			if (add)
				memcpy(slot, d, 32);
			return 0;
		}
	}
	return 0;
}

/*
 * Complete the chain ch (certificates 0..depth-1 known; the last one's
 * issuer still to find) from the set. 1 when the search stops, 0 to go
 * on, <0 when the store failed. A place that led to no chain take was
 * handed, nor to a first cut one, is not tried again: a key certified
 * many times over, at one level or several, costs its certificates once,
 * not their product.
 */
static int extend(struct search *s, struct cert_chain *ch, size_t depth)
{
	const struct cert *last = &ch->c[depth - 1];
	struct certs_of co;
	size_t takes;
	uint8_t d[32];
	int r, memo = 0, cut;

	if (memcmp(last->issuer, s->root, 32) != 0 && depth < CERT_MAX_CHAIN) {
		if ((r = place_digest(s, ch, depth, d)) < 0)
			return r;
		memo = 1;
		if ((r = memo_at(s, d, 0)) != 0)
			return r < 0 ? r : 0;
	}
	if (s->steps == 0)
		return 1;
	s->steps--;
	if (memcmp(last->issuer, s->root, 32) == 0) {
		ch->n = depth;
		/* an issuer's revocation that comes from the chain above it
		 * cuts what it signed unless it keeps it; one made by a key
		 * that may certify nobody (a mistake, or a key made to
		 * crowd) cannot stand for an administrator's cut of the
		 * chain, revoked or not: the chain stays, and its check
		 * names that (the revocation would hide it) */
		for (size_t k = 1; k < depth; k++) {
			if ((r = link_cut(s->t, ch, k)) == 0)
				continue;
			if (r > 0 &&
			    (r = may_certify(s->t, ch->c[k].subject)) == 0)
				continue;
			if (r < 0)
				return r;
			s->revoked_link = 1;
			return 0;
		}
		for (size_t i = 0; s->skip_revoked && i < s->subj.n; i++)
			if (issued_in(ch, 0, depth, s->subj.issuer[i]))
				return 0;
		if (s->need && !issued_in(ch, 0, depth, s->need))
			return 0;
		s->takes++;
		return s->take(s->ctx, ch);
	}
	if (depth == CERT_MAX_CHAIN)
		return 0;
	if ((r = certs_of_load(s->t, last->issuer, s->scope, s->reads, s->map,
			       &co)) < 0)
		return r;
	takes = s->takes;
	cut = s->revoked_link;
	for (size_t i = 0; r == 0 && i < co.n; i++) {
		ch->c[depth] = co.c[i];
		memcpy(ch->id[depth], co.id[i], 32);
		r = extend(s, ch, depth + 1);
	}
	certs_of_free(&co);
	if (r == 0 && memo && s->takes == takes && s->revoked_link == cut &&
	    (r = memo_at(s, d, 1)) > 0)
		r = 0;
	return r;
}

static void search_free(struct search *s)
{
	free(s->memo);
	link_revokes_free(&s->subj);
	for (size_t k = 0; k < CERT_MAX_CHAIN; k++)
		link_revokes_free(&s->link[k]);
	free(s);
}

/* The scope a chain of leaf is for, when the search names none: what it
 * writes first, or (*reads set) reads; NULL when it names neither. */
static const char *leaf_scope(const struct cert *leaf, int *reads)
{
	*reads = !leaf->nwrite && leaf->nread;
	return leaf->nwrite ? leaf->write[0] : leaf->nread ? leaf->read[0]
							   : NULL;
}

/* scope for chains_search(): each chain's certificates above its leaf
 * cover the leaf's own first scope (leaf_scope()); or every chain, even
 * one that never held, for a report to name why */
#define SCOPE_LEAF ((const char *)1)
#define SCOPE_ANY NULL

/* how chains_search() passes chains over: none, or those a revocation
 * of the subject comes from, or (as need) those need signs nothing in */
struct pass_over {
	int revoked;
	const uint8_t *need;
};

/*
 * Hand each chain of subject's certificates to root to take (see struct
 * search), every certificate of it covering scope (or as SCOPE_LEAF,
 * SCOPE_ANY say), until take stops it or the bound is met; those po
 * (may be NULL) says never reach take. 0 or <0; *ret_cut (may be NULL): a
 * chain was cut by an issuer's revocation.
 */
static int chains_search(struct store_txn *t, const uint8_t root[32],
			 const uint8_t subject[32], const char *scope,
			 const struct scopemap *map,
			 int (*take)(void *ctx, const struct cert_chain *ch),
			 void *ctx, const struct pass_over *po, int *ret_cut)
{
	const char *given = scope == SCOPE_LEAF ? NULL : scope;
	struct search *s = calloc(1, sizeof(*s));
	struct cert_chain *ch = malloc(sizeof(*ch));
	static const uint8_t none[32];
	struct certs_of co;
	int r;

	if (!s || !ch) {
		free(s);
		free(ch);
		return -ENOMEM;
	}
	s->t = t;
	s->root = root;
	s->map = map;
	s->take = take;
	s->ctx = ctx;
	s->steps = SEARCH_STEPS;
	s->skip_revoked = po && po->revoked;
	s->need = po ? po->need : NULL;
	s->subj.below = none;
	if ((r = trustset_each_subject(t, subject, TRUST_REVOKE,
				       link_revokes_cb, &s->subj)) < 0 ||
	    (r = certs_of_load(t, subject, given, 0, map, &co)) < 0) {
		link_revokes_free(&s->subj);
		free(s);
		free(ch);
		return r;
	}
	for (size_t i = 0; r == 0 && i < co.n; i++) {
		ch->c[0] = co.c[i];
		memcpy(ch->id[0], co.id[i], 32);
		s->scope = scope == SCOPE_LEAF ? leaf_scope(&co.c[i], &s->reads)
					       : given;
		r = extend(s, ch, 1);
	}
	certs_of_free(&co);
	free(ch);
	if (ret_cut)
		*ret_cut = s->revoked_link;
	search_free(s);
	return r < 0 ? r : 0;
}

static int chains_take(void *ctx, const struct cert_chain *ch)
{
	struct chains *out = ctx;
	out->v[out->n++] = *ch;
	return out->n == CACHE_CHAINS;
}

int trustset__chains_find(struct store_txn *t, const uint8_t root[32],
			  const uint8_t subject[32], const char *scope,
			  const struct scopemap *map, struct chains *out)
{
	out->n = 0;
	out->revoked_link = 0;
	return chains_search(t, root, subject, scope, map, chains_take, out,
			     NULL, &out->revoked_link);
}

int trustset__chains_each(struct store_txn *t, const uint8_t root[32],
			  const uint8_t subject[32], const char *scope,
			  const struct scopemap *map,
			  int (*take)(void *ctx, const struct cert_chain *ch),
			  void *ctx)
{
	return chains_search(t, root, subject, scope, map, take, ctx, NULL,
			     NULL);
}

/* --- adding --------------------------------------------------------------- */

static int add_row(struct store_txn *t, const uint8_t key[TRUSTSET_KEY],
		   const uint8_t subject[32], const uint8_t *data, size_t len)
{
	uint8_t sk[32 + TRUSTSET_KEY];
	int r;
	if ((r = store_put(t, ST_TRUST, key, TRUSTSET_KEY, data, len, 0)) < 0)
		return r;
	memcpy(sk, subject, 32);
	memcpy(sk + 32, key, TRUSTSET_KEY);
	return store_put(t, ST_TRUSTSUBJ, sk, sizeof(sk), "", 0, 0);
}

/* Counts the items it is called for, up to a limit (then stops). */
static int count_upto(void *ctx, int kind, const uint8_t id[32],
		      const uint8_t *data, size_t len)
{
	size_t *n = ctx;
	(void)kind;
	(void)id;
	(void)data;
	(void)len;
	return ++n[0] >= n[1];
}

/* May a fork proof of author join: a certificate of that key is in the
 * set (any: an ended or revoked one too; a key no certificate names
 * writes nothing any node takes, and its proofs would only fill the
 * set), and the set holds fewer than TRUSTSET_FORKS_PER_KEY proofs of
 * it (one a feed it forked in does; a key writes in few). 1 when it may,
 * 0 for no certificate, 2 for too many proofs, <0 on a store fault. */
static int fork_may_join(struct store_txn *t, const uint8_t author[32])
{
	size_t certs[2] = { 0, 1 }, forks[2] = { 0, TRUSTSET_FORKS_PER_KEY };
	int r;

	if ((r = trustset_each_subject(t, author, TRUST_CERT, count_upto,
				       certs)) < 0 ||
	    (r = trustset_each_subject(t, author, TRUST_FORK, count_upto,
				       forks)) < 0)
		return r;
	return !certs[0] ? 0 : forks[0] >= TRUSTSET_FORKS_PER_KEY ? 2 : 1;
}

static int take_any(void *ctx, const struct cert_chain *ch)
{
	(void)ch;
	*(int *)ctx = 1;
	return 1;
}

/* Does the set link a certificate by issuer to the root? */
static int issuer_known(struct store_txn *t, const uint8_t root[32],
			const uint8_t issuer[32])
{
	int found = 0, r;
	if (memcmp(issuer, root, 32) == 0)
		return 1;
	r = chains_search(t, root, issuer, SCOPE_LEAF, NULL, take_any, &found,
			  NULL, NULL);
	return r < 0 ? r : found;
}

struct revoker {
	const uint8_t *issuer;
	int ok;
};

static int take_revoker(void *ctx, const struct cert_chain *ch)
{
	struct revoker *v = ctx;
	for (size_t k = 0; k + 1 < ch->n; k++) /* an administrator's key */
		if (memcmp(ch->c[k].issuer, v->issuer, 32) == 0)
			return v->ok = 1;
	return 0;
}

/* May issuer revoke subject: the root, or a key in one of its chains. */
static int may_revoke(struct store_txn *t, const uint8_t root[32],
		      const uint8_t issuer[32], const uint8_t subject[32])
{
	struct revoker v = { issuer, 0 };
	int r;
	if (memcmp(issuer, root, 32) == 0)
		return 1;
	struct pass_over po = { 0, issuer };
	r = chains_search(t, root, subject, SCOPE_LEAF, NULL, take_revoker,
			  &v, &po, NULL);
	return r < 0 ? r : v.ok;
}

/* o refused, err, its why as fmt says (English: the log and the report
 * translate it). 1, as add_one() returns for an item decided. */
__attribute__((format(printf, 3, 4))) static int
refused(struct trustset_out *o, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->why, sizeof(o->why), fmt, ap);
	va_end(ap);
	o->status = TRUSTSET_REFUSED;
	o->err = err;
	return 1;
}

/*
 * One item: 1 when added, 0 when it must wait for a later pass (its
 * issuer is not linked yet), or out filled as known or refused.
 */
static int add_one(struct store_txn *t, const uint8_t network_id[32],
		   const uint8_t root[32], const struct trustset_item *it,
		   int last_pass, uint64_t *count, struct trustset_out *o)
{
	uint8_t subject[32], nid[32];
	const void *v;
	size_t vl;
	int r, by_root = 0;

	memset(o, 0, sizeof(*o));
	if ((r = trust_item_key(it->kind, it->data, it->len, o->key, o->why,
				sizeof(o->why))) < 0) {
		o->status = TRUSTSET_REFUSED;
		o->err = r;
		return 1;
	}
	r = store_get(t, ST_TRUST, o->key, TRUSTSET_KEY, &v, &vl);
	if (r == 0) {
		o->status = TRUSTSET_KNOWN;
		return 1;
	}
	if (r != HAMLET_ENOTFOUND)
		return r;
	/* who it is about, its network, and whether its signer may */
	if (it->kind == TRUST_CERT) {
		struct cert *c = malloc(sizeof(*c));
		if (!c)
			return -ENOMEM;
		cert_decode(it->data, it->len, c, NULL);
		memcpy(subject, c->subject, 32);
		memcpy(nid, c->network_id, 32);
		r = memcmp(nid, network_id, 32) != 0
			    ? 1
			    : issuer_known(t, root, c->issuer);
		by_root = memcmp(c->issuer, root, 32) == 0;
		free(c);
	} else if (it->kind == TRUST_REVOKE) {
		struct revocation *rv = malloc(sizeof(*rv));
		if (!rv)
			return -ENOMEM;
		revoke_decode(it->data, it->len, rv, NULL);
		memcpy(subject, rv->subject, 32);
		memcpy(nid, rv->network_id, 32);
		r = memcmp(nid, network_id, 32) != 0
			    ? 1
			    : may_revoke(t, root, rv->issuer, rv->subject);
		by_root = memcmp(rv->issuer, root, 32) == 0;
		free(rv);
	} else if (it->kind == TRUST_MOVE) {
		struct scope_move *mv = malloc(sizeof(*mv));
		if (!mv)
			return -ENOMEM;
		move_decode(it->data, it->len, mv, NULL, NULL, 0);
		memcpy(subject, mv->issuer, 32);
		memcpy(nid, mv->network_id, 32);
		/* only the root moves scopes */
		r = by_root = memcmp(mv->issuer, root, 32) == 0;
		free(mv);
	} else {
		struct fork_proof *fp = malloc(sizeof(*fp));
		if (!fp)
			return -ENOMEM;
		fork_proof_decode(it->data, it->len, fp, NULL);
		memcpy(subject, fp->a.author, 32);
		memcpy(nid, fp->a.network_id, 32);
		free(fp);
		/* it proves itself, of a key the set knows */
		r = fork_may_join(t, subject);
	}
	if (r < 0)
		return r;
	if (memcmp(nid, network_id, 32) != 0)
		return refused(o, HAMLET_ENETWORK, N_("%s of another network"),
			       trust_kind_name(it->kind));
	if (r == 2)
		return refused(o, HAMLET_ETOOBIG,
			       N_("fork proof of a key the trust set already holds %d fork proofs of"),
			       TRUSTSET_FORKS_PER_KEY);
	if (r == 0 && it->kind == TRUST_MOVE)
		return refused(o, HAMLET_ECERT,
			       N_("scope move signed by a key that is not the network's root"));
	if (r == 0 && !last_pass)
		return 0; /* its signer's certificate may come later */
	if (r == 0)
		return refused(o, HAMLET_ECERT, "%s",
			       it->kind == TRUST_CERT
				       ? N_("certificate whose issuer holds no certificate that leads to the root")
			       : it->kind == TRUST_FORK
				       ? N_("fork proof of a key no certificate in the trust set names")
				       : N_("revocation signed by a key that is neither the root nor an administrator over its subject"));
	if (*count >= TRUSTSET_MAX)
		return refused(o, HAMLET_ETOOBIG,
			       N_("the trust set already holds TRUSTSET_MAX (%d) items"),
			       TRUSTSET_MAX);
	/* the last TRUSTSET_ROOT_RESERVE places are the root's: a
	 * delegated administrator who fills the set with certificates must
	 * not keep out the root's revocation of its own key */
	if (!by_root && *count >= TRUSTSET_MAX - TRUSTSET_ROOT_RESERVE)
		return refused(o, HAMLET_ETOOBIG,
			       N_("the trust set already holds %d items, as many as it takes signed by keys other than the network's root (its last %d places are kept for what the root signs, such as its revocations)"),
			       TRUSTSET_MAX - TRUSTSET_ROOT_RESERVE,
			       TRUSTSET_ROOT_RESERVE);
	if ((r = add_row(t, o->key, subject, it->data, it->len)) < 0)
		return r;
	(*count)++;
	o->status = TRUSTSET_ADDED;
	return 1;
}

int trustset_add(struct store_txn *t, const uint8_t network_id[32],
		 const struct trustset_item *items, size_t n,
		 struct trustset_out *out)
{
	uint8_t root[32];
	uint64_t count;
	char *done;
	int r;

	if ((r = trustset_root_get(t, root)) < 0) {
		for (size_t i = 0; i < n; i++) {
			memset(&out[i], 0, sizeof(out[i]));
			out[i].status = TRUSTSET_REFUSED;
			out[i].err = HAMLET_ECERT;
			snprintf(out[i].why, sizeof(out[i].why),
				 N_("this store knows no root key"));
		}
		return r == HAMLET_ENOTFOUND ? 0 : r;
	}
	if ((r = store_count(t, ST_TRUST, &count)) < 0)
		return r;
	if (!(done = calloc(n ? n : 1, 1)))
		return -ENOMEM;
	/* passes: an issuer's certificate may come after what it signed */
	for (size_t pass = 0, left = n; left && pass <= CERT_MAX_CHAIN;
	     pass++) {
		int last = pass == CERT_MAX_CHAIN, progress = 0;
		for (size_t i = 0; i < n; i++) {
			if (done[i])
				continue;
			r = add_one(t, network_id, root, &items[i], last, &count,
				    &out[i]);
			if (r < 0)
				goto out;
			if (r == 1) {
				done[i] = 1;
				left--;
				progress = 1;
			}
		}
		if (!progress && !last)
			pass = CERT_MAX_CHAIN - 1; /* one last pass refuses */
	}
	r = 0;
out:
	free(done);
	return r;
}

/* Does a revocation of ch's leaf that comes from ch cut it, or one of
 * an issuer in it (link_cut())? 0, or HAMLET_EREVOKED with why. */
static int chain_revoked(struct store_txn *t, const struct cert_chain *ch,
			 char *why, size_t wl)
{
	struct revokes_of ro;
	int r;

	if ((r = trustset__revokes_from(t, ch->c[0].subject, ch, 0, &ro)) < 0)
		return r;
	r = ro.n ? HAMLET_EREVOKED : 0;
	trustset__revokes_free(&ro);
	if (r) {
		why_set(why, wl, N_("its key is revoked"));
		return r;
	}
	for (size_t i = 1; i < ch->n; i++) {
		if ((r = link_cut(t, ch, i)) < 0)
			return r;
		if (r) {
			why_set(why, wl,
				 N_("certificate %zu of its chain was signed by \"%s\", whose key is revoked"),
				 i, ch->c[i].name);
			return HAMLET_EREVOKED;
		}
	}
	return 0;
}

/* A search's take for a chain the revocations leave: found, stop. */
struct uncut {
	struct store_txn *t;
	int found;
	/* with leaves: each leaf of such a chain that holds at now_ms */
	uint64_t now_ms;
	const uint8_t *root;
	struct cert *leaves;
	size_t max, n;
};

/* take_uncut() is handed no chain a revocation of its leaf comes from */
static const struct pass_over skip = { 1, NULL };

static int take_uncut(void *ctx, const struct cert_chain *ch)
{
	struct uncut *u = ctx;
	char why[200];
	int r = chain_revoked(u->t, ch, NULL, 0);

	if (r == HAMLET_EREVOKED)
		return 0;
	if (r < 0)
		return r;
	u->found = 1;
	if (!u->leaves)
		return 1;
	if (cert_chain_check(ch, ch->c[0].network_id, u->root, u->now_ms,
			     why, sizeof(why)) == 0)
		u->leaves[u->n++] = ch->c[0];
	return u->n == u->max;
}

int trustset_revoked(struct store_txn *t, const uint8_t key[32],
		     const struct cert_chain *ch, char *why, size_t wl)
{
	struct revokes_of ro;
	struct uncut u = { t, 0, 0, NULL, NULL, 0, 0 };
	uint8_t root[32];
	int r, any;

	if (ch && ch->n)
		return chain_revoked(t, ch, why, wl);
	if ((r = trustset__revokes_load(t, key, &ro)) < 0)
		return r;
	any = ro.n > 0;
	trustset__revokes_free(&ro);
	if (!any)
		return 0;
	/* no chain given: revoked unless the revocations leave one of
	 * key's chains in the set (SPEC 9); looked for among them all, so
	 * that chains another team made for the key hide none */
	if ((r = trustset_root_get(t, root)) < 0 && r != HAMLET_ENOTFOUND)
		return r;
	if (r == 0 && (r = chains_search(t, root, key, SCOPE_LEAF, NULL,
					 take_uncut, &u, &skip, NULL)) < 0)
		return r;
	if (u.found)
		return 0;
	why_set(why, wl, N_("its key is revoked"));
	return HAMLET_EREVOKED;
}

int trustset_valid_leaves(struct store_txn *t, const uint8_t key[32],
			  uint64_t now_ms, struct cert *ret, size_t max,
			  size_t *ret_n)
{
	uint8_t root[32];
	struct uncut u = { t, 0, now_ms, root, ret, max, 0 };
	int r;

	*ret_n = 0;
	if ((r = trustset_root_get(t, root)) == HAMLET_ENOTFOUND)
		return 1;
	if (r < 0)
		return r;
	if (max && (r = chains_search(t, root, key, SCOPE_LEAF, NULL,
				      take_uncut, &u, &skip, NULL)) < 0)
		return r;
	*ret_n = u.n;
	return 0;
}

/* A search's take for a list of chains: pass 0 those no revocation
 * cuts, pass 1 the rest. */
struct listed {
	struct store_txn *t;
	int pass;
	struct cert_chain *ret;
	size_t max, *n;
};

static int take_listed(void *ctx, const struct cert_chain *ch)
{
	struct listed *l = ctx;
	int r = chain_revoked(l->t, ch, NULL, 0);

	if (r < 0 && r != HAMLET_EREVOKED)
		return r;
	if ((r == 0) == (l->pass == 0))
		l->ret[(*l->n)++] = *ch;
	return *l->n == l->max;
}

int trustset_chains(struct store_txn *t, const uint8_t key[32],
		    struct cert_chain *ret, size_t max, size_t *ret_n,
		    int *ret_cut)
{
	return trustset_chains_under(t, NULL, key, ret, max, ret_n, ret_cut);
}

int trustset_chains_under(struct store_txn *t, const uint8_t *given,
			  const uint8_t key[32], struct cert_chain *ret,
			  size_t max, size_t *ret_n, int *ret_cut)
{
	uint8_t root[32];
	int r;

	*ret_n = 0;
	if (ret_cut)
		*ret_cut = 0;
	if (given)
		memcpy(root, given, 32);
	else if ((r = trustset_root_get(t, root)) == HAMLET_ENOTFOUND)
		return 0;
	else if (r < 0)
		return r;
	/* the chains the revocations leave first, then the others: those
	 * another team made for the key come after the key's own */
	for (int pass = 0; pass < 2 && *ret_n < max; pass++) {
		struct listed l = { t, pass, ret, max, ret_n };
		int cut = 0;
		if ((r = chains_search(t, root, key, SCOPE_ANY, NULL, take_listed,
				       &l, NULL, &cut)) < 0)
			return r;
		if (ret_cut)
			*ret_cut |= cut;
	}
	return 0;
}

/* Does chain cand hold at now_ms, unrevoked? Its end in *ret_end. */
static int chain_holds(struct store_txn *t, const uint8_t root[32],
		       const struct cert_chain *cand, uint64_t now_ms,
		       uint64_t *ret_end)
{
	uint64_t from;
	char why[200];
	int r;

	if (cert_chain_check(cand, cand->c[0].network_id, root, now_ms, why,
			     sizeof(why)) < 0)
		return 0;
	if ((r = trustset_revoked(t, cand->c[0].subject, cand, why,
				  sizeof(why))) < 0)
		return r == HAMLET_EREVOKED ? 0 : r;
	cert_chain_span(cand, &from, ret_end);
	return 1;
}

int trustset_chain_best(struct store_txn *t, const struct cert_chain *ch,
			uint64_t now_ms, struct cert_chain *ret)
{
	struct chains *cs = NULL;
	struct cert_chain *seed = NULL;
	uint8_t root[32];
	uint64_t end, best_end = 0;
	size_t best = SIZE_MAX;
	int r;

	*ret = *ch;
	if (ch->n == 0)
		return 0;
	if ((r = trustset_root_get(t, root)) == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	if ((r = chain_holds(t, root, ch, now_ms, &end)) < 0)
		return r;
	if (r == 1)
		best_end = end;
	cs = malloc(sizeof(*cs));
	seed = malloc(sizeof(*seed));
	if (!cs || !seed) {
		r = -ENOMEM;
		goto out;
	}
	cs->n = 0;
	cs->revoked_link = 0;
	memset(seed, 0, sizeof(*seed));
	seed->c[0] = ch->c[0];
	memcpy(seed->id[0], ch->id[0], 32);
	{
		/* those above the leaf cover its scope: no other area's
		 * certificates of its issuer crowd out its renewal */
		struct search *sr = calloc(1, sizeof(*sr));
		if (!sr) {
			r = -ENOMEM;
			goto out;
		}
		sr->t = t;
		sr->root = root;
		sr->scope = leaf_scope(&seed->c[0], &sr->reads);
		sr->take = chains_take;
		sr->ctx = cs;
		sr->steps = SEARCH_STEPS;
		r = extend(sr, seed, 1);
		search_free(sr);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < cs->n; i++) {
		if ((r = chain_holds(t, root, &cs->v[i], now_ms, &end)) < 0)
			goto out;
		if (r == 1 && end > best_end) {
			best_end = end;
			best = i;
		}
	}
	r = 0;
	if (best != SIZE_MAX) {
		*ret = cs->v[best];
		memset(ret->off, 0, sizeof(ret->off));
		memset(ret->len, 0, sizeof(ret->len));
		r = 1;
	}
out:
	free(seed);
	free(cs);
	return r;
}

/* A search's take: does revocation rv come from the chain above its
 * subject's place in it? */
struct reach {
	const struct revocation *rv;
	int chains, reaches;
};

static int take_reach(void *ctx, const struct cert_chain *ch)
{
	struct reach *x = ctx;
	x->chains++;
	for (size_t k = 0; k < ch->n; k++)
		if (memcmp(ch->c[k].subject, x->rv->subject, 32) == 0 &&
		    trustset_revoke_applies(x->rv, ch, k))
			return x->reaches = 1;
	return 0;
}

int trustset_revoke_reaches(struct store_txn *t, const struct revocation *rv,
			    const uint8_t key[32], const char *scope)
{
	struct reach x = { rv, 0, 0 };
	struct scopemap *m = NULL;
	uint8_t root[32];
	int r;

	if ((r = trustset_root_get(t, root)) == HAMLET_ENOTFOUND)
		return 1;
	if (r < 0 || (r = scopemap_load(t, &m)) < 0)
		return r;
	r = chains_search(t, root, key, scope, m, take_reach, &x, NULL, NULL);
	scopemap_free(m);
	if (r < 0)
		return r;
	/* with no chain that grants it, the judge alone knows */
	return x.reaches || x.chains == 0;
}
