#include "lag.h"

#include "error.h"
#include "hlc.h"
#include "log.h"
#include "scopemap.h"
#include "trustset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one row of one table says of one key, before they are merged. */
enum { P_FEED, P_CERT, P_CONTACT };
struct piece {
	uint8_t key[32];
	int kind;
	struct lag_feed feed;	/* P_FEED */
	uint8_t feed_key[32];	/* P_FEED */
	char name[CERT_MAX_NAME + 1]; /* P_CERT */
	char scope[ENTRY_MAX_SCOPE + 1];
	int role, writes;	/* P_CERT */
	uint64_t ms;		/* P_CONTACT */
};

struct pieces {
	struct piece *v;
	size_t n, cap;
};

static struct piece *piece_add(struct pieces *p, const uint8_t key[32],
			       int kind)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 64;
		void *q = realloc(p->v, nc * sizeof(*p->v));
		if (!q)
			return NULL;
		p->v = q;
		p->cap = nc;
	}
	struct piece *x = &p->v[p->n++];
	memset(x, 0, sizeof(*x));
	memcpy(x->key, key, 32);
	x->kind = kind;
	return x;
}

static int feed_cb(void *ctx, const struct log_feed *f)
{
	struct piece *x;
	if (f->seq == 0)
		return 0; /* only held entries: nothing heard yet */
	if (!(x = piece_add(ctx, f->author, P_FEED)))
		return -ENOMEM;
	snprintf(x->feed.scope, sizeof(x->feed.scope), "%s", f->scope);
	x->feed.seq = f->seq;
	x->feed.newest_ms = hlc_ms(f->hlc);
	memcpy(x->feed_key, f->key, 32);
	return 0;
}

static int cert_cb(void *ctx, int kind, const uint8_t id[32],
		   const uint8_t *data, size_t len)
{
	struct cert *c = malloc(sizeof(*c));
	struct piece *x;
	int r = 0;
	(void)kind;
	(void)id;
	if (!c)
		return -ENOMEM;
	if (cert_decode(data, len, c, NULL) < 0)
		goto out; /* it decoded when it was added: not ours to judge */
	if (!(x = piece_add(ctx, c->subject, P_CERT))) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(x->name, sizeof(x->name), "%s", c->name);
	x->role = c->role;
	/* "" when it writes every scope (a province): not a village's
	 * scope it happened to write in last */
	x->writes = c->nwrite > 0 && c->role != CERT_AUDITOR;
	if (x->writes)
		snprintf(x->scope, sizeof(x->scope), "%s", c->write[0]);
out:
	free(c);
	return r;
}

static int contact_cb(void *ctx, const uint8_t peer[32], uint64_t when_ms)
{
	struct piece *x = piece_add(ctx, peer, P_CONTACT);
	if (!x)
		return -ENOMEM;
	x->ms = when_ms;
	return 0;
}

static int cmp_piece(const void *a, const void *b)
{
	return memcmp(((const struct piece *)a)->key,
		      ((const struct piece *)b)->key, 32);
}

/* Behind first: never heard, then the longest silent; then by name. */
static int cmp_node(const void *a, const void *b)
{
	const struct lag_node *x = a, *y = b;
	if (x->behind != y->behind)
		return y->behind - x->behind;
	if (x->behind && x->heard_ms != y->heard_ms)
		return x->heard_ms < y->heard_ms ? -1 : 1;
	int c = strcmp(x->name, y->name);
	return c ? c : memcmp(x->key, y->key, 32);
}

/* 1 when c may write within what own may read: only then is this node
 * to hear from it but by a direct contact. A node writes its own records
 * at the top of its grant, so a grant that covers ours only from above
 * (a province's `bk`, seen from a village of bk/c1/v1) is that of a node
 * whose records this node never receives: it is not expected to report
 * here. A grant of every scope ("") says nothing of where its holder
 * writes: it is expected, as before. */
static int reads_any_of(const struct cert *own, const struct cert *c)
{
	for (size_t i = 0; i < c->nwrite; i++)
		for (size_t k = 0; k < own->nread; k++)
			if (!c->write[i][0] ||
			    entry_scope_under(c->write[i], own->read[k]))
				return 1;
	return 0;
}

static int revoked_cb(void *ctx, int kind, const uint8_t id[32],
		      const uint8_t *data, size_t len)
{
	(void)kind;
	(void)id;
	(void)data;
	(void)len;
	*(int *)ctx = 1;
	return 1; /* one is enough */
}

/* The pieces of one key, p[0..k), into node x; newest_key gets the feed
 * of its newest entry. own (NULL: not known) is this node's certificate:
 * a writer it may read nothing of is not expected to be heard from. 0,
 * or 1 when the key is not worth listing. */
static int merge(struct store_txn *t, const struct piece *p, size_t k,
		 uint64_t now_ms, const struct cert *own, struct lag_node *x,
		 uint8_t newest_key[32])
{
	int writes = 0, any = 0, r;
	size_t nf = 0;

	memset(x, 0, sizeof(*x));
	memcpy(x->key, p[0].key, 32);
	for (size_t i = 0; i < k; i++)
		nf += p[i].kind == P_FEED;
	if (nf && !(x->feeds = calloc(nf, sizeof(*x->feeds))))
		return -ENOMEM;
	for (size_t i = 0; i < k; i++) {
		const struct piece *q = &p[i];
		if (q->kind == P_FEED) {
			x->feeds[x->nfeeds++] = q->feed;
			if (x->nfeeds == 1 || q->feed.newest_ms > x->newest_ms) {
				x->newest_ms = q->feed.newest_ms;
				memcpy(newest_key, q->feed_key, 32);
				if (!writes)
					snprintf(x->scope, sizeof(x->scope),
						 "%s", q->feed.scope);
			}
			any = 1;
		} else if (q->kind == P_CONTACT) {
			if (q->ms > x->contact_ms)
				x->contact_ms = q->ms; /* kept, or live */
			any = 1;
		} else if (!x->cert) {
			/* the first certificate names it; a valid one below
			 * replaces it */
			x->cert = LAG_CERT_INVALID;
			snprintf(x->name, sizeof(x->name), "%s", q->name);
			x->role = q->role;
			if (q->writes) {
				writes = 1;
				snprintf(x->scope, sizeof(x->scope), "%s",
					 q->scope);
			}
		} else if (q->writes && !writes) {
			writes = 1;
			snprintf(x->scope, sizeof(x->scope), "%s", q->scope);
		}
	}
	if (x->cert) {
		struct cert *c = malloc(sizeof(*c));
		size_t n = 0;
		if (!c)
			return -ENOMEM;
		r = trustset_valid_leaves(t, x->key, now_ms, c, 1, &n);
		if (r >= 0 && n == 1) {
			x->cert = LAG_CERT_VALID;
			x->cert_expires_ms = c->expires_ms;
			snprintf(x->name, sizeof(x->name), "%s", c->name);
			x->role = c->role;
			/* the valid one's scope too ("" for every scope) */
			if (c->nwrite > 0 && c->role != CERT_AUDITOR) {
				writes = 1;
				snprintf(x->scope, sizeof(x->scope), "%s",
					 c->write[0]);
			}
			/* nothing it writes reaches this node */
			if (own && !reads_any_of(own, c))
				writes = 0;
		}
		free(c);
		if (r < 0)
			return r;
		/* a node that may not write, or no longer holds a
		 * certificate, is not expected to report */
		if ((!writes || x->cert != LAG_CERT_VALID) && !any)
			return 1;
	}
	x->heard_ms = x->newest_ms > x->contact_ms ? x->newest_ms
						   : x->contact_ms;
	r = trustset_each_subject(t, x->key, TRUST_REVOKE, revoked_cb,
				  &x->revoked);
	return r < 0 ? r : 0;
}

/* scope effective through m, as written into written when a move
 * applies ("" else). */
static void scope_move(const struct scopemap *m,
		       char scope[ENTRY_MAX_SCOPE + 1],
		       char written[ENTRY_MAX_SCOPE + 1])
{
	char e[ENTRY_MAX_SCOPE + 1];

	written[0] = 0;
	if (!scope[0] || !scopemap_resolve(m, scope, e))
		return;
	memcpy(written, scope, ENTRY_MAX_SCOPE + 1);
	memcpy(scope, e, ENTRY_MAX_SCOPE + 1);
}

int lag_report_build(struct store_txn *t, const uint8_t self[32],
		     uint64_t now_ms, uint64_t threshold_ms,
		     const struct lag_contact *live, size_t nlive,
		     struct lag_report *ret)
{
	struct pieces p = { 0 };
	struct scopemap *map = NULL;
	struct cert *own = NULL;
	size_t nown = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->now_ms = now_ms;
	ret->threshold_ms = threshold_ms;
	if (!(own = malloc(sizeof(*own))))
		return -ENOMEM;
	if ((r = scopemap_load(t, &map)) < 0)
		goto out;
	if ((r = trustset_valid_leaves(t, self, now_ms, own, 1, &nown)) < 0)
		goto out;
	if (nown != 1) {
		/* no certificate of ours holds: who we may hear from is not
		 * known, so every writer is expected */
		free(own);
		own = NULL;
	}
	if ((r = log_feeds_each(t, feed_cb, &p)) < 0 ||
	    (r = trustset_each(t, TRUST_CERT, cert_cb, &p)) < 0 ||
	    (r = heard_contacts_each(t, contact_cb, &p)) < 0)
		goto out;
	for (size_t i = 0; i < nlive; i++)
		if ((r = contact_cb(&p, live[i].key, live[i].ms)) < 0)
			goto out;
	if (p.n > 1)
		qsort(p.v, p.n, sizeof(*p.v), cmp_piece);
	for (size_t i = 0, k; i < p.n; i += k) {
		uint8_t newest_key[32];
		struct lag_node *x;
		for (k = 1; i + k < p.n && !memcmp(p.v[i].key, p.v[i + k].key, 32);
		     k++)
			;
		if (memcmp(p.v[i].key, self, 32) == 0)
			continue;
		if (ret->n == ret->cap) {
			size_t nc = ret->cap ? ret->cap * 2 : 32;
			void *q = realloc(ret->v, nc * sizeof(*ret->v));
			if (!q) {
				r = -ENOMEM;
				goto out;
			}
			ret->v = q;
			ret->cap = nc;
		}
		x = &ret->v[ret->n];
		if ((r = merge(t, &p.v[i], k, now_ms, own, x, newest_key)) < 0) {
			free(x->feeds);
			goto out;
		}
		if (r == 1) {
			free(x->feeds);
			continue;
		}
		ret->n++;
		scope_move(map, x->scope, x->written);
		for (size_t f = 0; f < x->nfeeds; f++)
			scope_move(map, x->feeds[f].scope, x->feeds[f].written);
		if (x->nfeeds) {
			r = heard_feed_get(t, newest_key, &x->via);
			if (r < 0 && r != HAMLET_ENOTFOUND && r != HAMLET_ECORRUPT)
				goto out;
			x->has_via = r == 0;
		}
		x->behind = !x->revoked &&
			    (x->heard_ms == 0 ||
			     (now_ms > x->heard_ms &&
			      now_ms - x->heard_ms > threshold_ms));
		ret->behind += x->behind;
		ret->revoked += x->revoked != 0;
	}
	if (ret->n) /* none on an empty store: qsort takes no NULL */
		qsort(ret->v, ret->n, sizeof(*ret->v), cmp_node);
	r = 0;
out:
	scopemap_free(map);
	free(p.v);
	free(own);
	if (r < 0)
		lag_report_close(ret);
	return r;
}

void lag_report_close(struct lag_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].feeds);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

const struct lag_node *lag_report_find(const struct lag_report *r,
				       const uint8_t key[32])
{
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(r->v[i].key, key, 32) == 0)
			return &r->v[i];
	return NULL;
}
