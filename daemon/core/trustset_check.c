/*
 * trustset_check: judging an entry by its author's certificate chains at
 * the entry's own date, its revocations and the scope moves
 * (trustset_entry_check()), with a small cache of authors.
 */
#include "trustset.h"
#include "trustset_internal.h"
#include "why.h"

#include "error.h"
#include "hlc.h"
#include "scopemap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- judging entries -------------------------------------------------------- */

struct author_info {
	int used;
	uint8_t key[32];
	char scope[ENTRY_MAX_SCOPE + 1]; /* the chains grant writing it */
	int more; /* chains that grant it may lie past the first ones */
	struct chains chains;
	/* the revocations of the key that come from each chain */
	struct revokes_of revokes[CACHE_CHAINS];
};

struct trustset_cache {
	int root_known; /* 0 not looked, 1 yes, -1 the store has none */
	uint8_t root[32];
	struct scopemap *map; /* the scope moves, loaded with the root */
	size_t next; /* round robin */
	struct author_info a[CACHE_AUTHORS];
};

struct trustset_cache *trustset_cache_new(void)
{
	return calloc(1, sizeof(struct trustset_cache));
}

void trustset_cache_reset(struct trustset_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CACHE_AUTHORS; i++) {
		for (size_t k = 0; k < CACHE_CHAINS; k++)
			trustset__revokes_free(&c->a[i].revokes[k]);
		c->a[i].used = 0;
	}
	scopemap_free(c->map);
	c->map = NULL;
	c->root_known = 0;
}

void trustset_cache_free(struct trustset_cache *c)
{
	trustset_cache_reset(c);
	free(c);
}

static int author_load(struct store_txn *t, struct trustset_cache *c,
		       const uint8_t key[32], const char *scope,
		       struct author_info **ret)
{
	struct author_info *ai;
	int r;

	for (size_t i = 0; i < CACHE_AUTHORS; i++)
		if (c->a[i].used && memcmp(c->a[i].key, key, 32) == 0 &&
		    strcmp(c->a[i].scope, scope) == 0) {
			*ret = &c->a[i];
			return 0;
		}
	ai = &c->a[c->next];
	c->next = (c->next + 1) % CACHE_AUTHORS;
	for (size_t k = 0; k < CACHE_CHAINS; k++)
		trustset__revokes_free(&ai->revokes[k]);
	ai->used = 0;
	memcpy(ai->key, key, 32);
	snprintf(ai->scope, sizeof(ai->scope), "%s", scope);
	/* the chains that grant writing scope: another team's certificates
	 * of the key, made for its own area, hide none of them. With none,
	 * any chain, to say what it grants (ECERT), not that no certificate
	 * came (which holds the entry) */
	if ((r = trustset__chains_find(t, c->root, key, scope, c->map,
				       &ai->chains)) < 0)
		return r;
	ai->more = ai->chains.n == CACHE_CHAINS;
	if ((ai->chains.n == 0 && !ai->chains.revoked_link &&
	     (r = trustset__chains_find(t, c->root, key, NULL, c->map,
					&ai->chains)) < 0))
		return r;
	for (size_t k = 0; k < ai->chains.n; k++)
		if ((r = trustset__revokes_from(t, key, &ai->chains.v[k], 0,
						&ai->revokes[k])) < 0)
			return r;
	ai->used = 1;
	*ret = ai;
	return 0;
}

/* The cut-off of one revocation for e: 0 when e is kept. */
static int cut_off(const struct revocation *rv, const struct entry *e,
		   const uint8_t id[32], char *why, size_t wl)
{
	for (size_t i = 0; i < rv->nfeeds; i++) {
		const struct revoke_feed *f = &rv->feeds[i];
		if (strcmp(f->scope, e->scope) != 0)
			continue;
		if (e->seq < f->seq ||
		    (e->seq == f->seq && memcmp(id, f->head, 32) == 0))
			return 0;
		why_set(why, wl,
			 N_("seq %llu of feed %s: its author's key is revoked, keeping entries up to seq %llu"),
			 (unsigned long long)e->seq, e->scope,
			 (unsigned long long)f->seq);
		return HAMLET_EREVOKED;
	}
	why_set(why, wl,
		 N_("seq %llu of feed %s: its author's key is revoked, keeping nothing of that feed"),
		 (unsigned long long)e->seq, e->scope);
	return HAMLET_EREVOKED;
}

/* ms since 1970 as "2026-12-05 17:00:04 UTC"; 0: "never". */
static void utc_secs(uint64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!ms || !gmtime_r(&t, &tm) ||
	    strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, 32, "%s", ms ? "?" : "never");
}

/* Why e, which its author's certificate (name) covers only as written,
 * is refused since mv took its scope away: HAMLET_ECERT. */
static int moved_why(const struct entry *e, const struct scope_move *mv,
		     const char *name, char *why, size_t wl)
{
	char when[32];

	utc_secs(mv->at_ms, when);
	if (strcmp(mv->from, e->scope) == 0)
		why_set(why, wl,
			N_("seq %llu of feed %s: the network's root moved that scope to %s on %s; its author's certificate (\"%s\") no longer lets it write there"),
			(unsigned long long)e->seq, e->scope, mv->to, when,
			name);
	else
		why_set(why, wl,
			N_("seq %llu of feed %s: the network's root moved %s to %s on %s; its author's certificate (\"%s\") no longer lets it write there"),
			(unsigned long long)e->seq, e->scope, mv->from, mv->to,
			when, name);
	return HAMLET_ECERT;
}

/* An entry dated when no certificate of its author held: the spans
 * each chain did hold go in the last %s (measured first against the
 * reason's room, with none) */
#define DATED_NONE_HELD                                                      \
	N_("seq %llu of feed %s: it is dated %s, when no certificate of its author held (%s UTC, issuers' included): its author needs one valid from that date")

/* A search for a chain past the author's first ones that admits e. */
struct admit {
	struct store_txn *t;
	const struct trustset_cache *c;
	const struct entry *e;
	const uint8_t *id;
	int ok;
};

static int take_admit(void *ctx, const struct cert_chain *ch)
{
	struct admit *a = ctx;
	const struct entry *e = a->e;
	const struct scope_move *mv;
	uint64_t at = hlc_ms(e->hlc);
	struct revokes_of ro;
	int r, cut = 0;

	if ((r = trustset__revokes_from(a->t, e->author, ch, 0, &ro)) < 0)
		return r;
	for (size_t k = 0; k < ro.n && !cut; k++)
		cut = cut_off(ro.v[k], e, a->id, NULL, 0) != 0;
	trustset__revokes_free(&ro);
	if (cut ||
	    cert_chain_check(ch, e->network_id, a->c->root, at, NULL, 0) < 0)
		return 0;
	if (scopemap_may_write_at(a->c->map, &ch->c[0], e->scope,
				  e->collection, at, &mv) &&
	    (e->kind != ENTRY_ERASE || ch->c[0].delegate))
		return a->ok = 1;
	return 0;
}

static int entry_judge(struct store_txn *t, struct trustset_cache *c,
		       struct author_info *ai, const struct entry *e,
		       const uint8_t id[32], char *why, size_t wl);

int trustset_entry_check(struct store_txn *t, struct trustset_cache *c,
			 const struct entry *e, const uint8_t id[32],
			 char *why, size_t wl)
{
	struct author_info *ai;
	int r;

	if (c->root_known == 0) {
		r = trustset_root_get(t, c->root);
		if (r < 0 && r != HAMLET_ENOTFOUND)
			return r;
		c->root_known = r == 0 ? 1 : -1;
		if (r == 0 && (r = scopemap_load(t, &c->map)) < 0) {
			c->root_known = 0;
			return r;
		}
	}
	if (c->root_known < 0)
		return 0;
	if (e->kind == ENTRY_ERASE && memcmp(e->author, c->root, 32) == 0)
		return 0; /* the root may erase anywhere */
	if ((r = author_load(t, c, e->author, e->scope, &ai)) < 0)
		return r;
	r = entry_judge(t, c, ai, e, id, why, wl);
	/* the first chains refuse it: a renewal (or another chain) past
	 * them may hold at its date */
	if ((r == HAMLET_ECERT || r == HAMLET_EREVOKED) && ai->more) {
		struct admit a = { t, c, e, id, 0 };
		int q = trustset__chains_each(t, c->root, e->author, e->scope,
					      c->map, take_admit, &a);
		if (q < 0)
			return q;
		if (a.ok)
			return 0;
	}
	return r;
}

static int entry_judge(struct store_txn *t, struct trustset_cache *c,
		       struct author_info *ai, const struct entry *e,
		       const uint8_t id[32], char *why, size_t wl)
{
	uint64_t at = hlc_ms(e->hlc);
	char cwhy[512] = "";
	int r = 0;

	(void)t;
	if (ai->chains.n == 0) {
		if (ai->chains.revoked_link) {
			why_set(why, wl,
				 N_("seq %llu of feed %s: its author's certificate was signed by an administrator since revoked"),
				 (unsigned long long)e->seq, e->scope);
			return HAMLET_EREVOKED;
		}
		why_set(why, wl,
			 N_("seq %llu of feed %s: its author's certificate has not arrived yet"),
			 (unsigned long long)e->seq, e->scope);
		return HAMLET_ENOCERT;
	}
	char spans[512] = "";
	uint64_t near_d = UINT64_MAX; /* the first span's from the entry */
	char rwhy[200] = "";
	int dates_only = 1;
	const struct scope_move *mv, *moved = NULL;
	const char *mname = "";
	for (size_t i = 0; i < ai->chains.n; i++) {
		const struct cert_chain *ch = &ai->chains.v[i];
		const struct revokes_of *ro = &ai->revokes[i];
		/* a revocation of the author from the chain (its issuer
		 * or one above) past whose cut-off e lies: the chain
		 * grants it nothing (SPEC 9) */
		for (size_t k = 0; k < ro->n && !r; k++)
			r = cut_off(ro->v[k], e, id, rwhy, sizeof(rwhy));
		if (r) {
			r = 0;
			dates_only = 0;
			continue;
		}
		/* the chain's network and dates, at the entry's time */
		if (cert_chain_check(ch, e->network_id, c->root, at, cwhy,
				     sizeof(cwhy)) < 0) {
			/* one that holds at its own start fails on dates
			 * alone: the entry's, not this PC's clock */
			uint64_t from, to;
			cert_chain_span(ch, &from, &to);
			if (from < to && cert_chain_check(ch, e->network_id,
							  c->root, from, NULL,
							  0) == 0) {
				char a[32], b[32], one[200];
				size_t l = strlen(spans), ol;
				uint64_t d = at < from ? from - at
					     : at > to ? at - to : 0;
				utc_secs(from, a);
				utc_secs(to == UINT64_MAX ? 0 : to, b);
				/* the span the whole chain holds, its
				 * issuers' certificates' too; the one
				 * nearest the entry's date first, as a
				 * reason's room may keep only it */
				/* to the minute ("2026-12-06 05:40"):
				 * the reason is kept in 256 bytes */
				a[16] = b[16] = 0;
				snprintf(one, sizeof(one),
					 "\"%.64s\" %s - %s", ch->c[0].name,
					 a, b);
				ol = strlen(one);
				if (l + ol + 3 >= sizeof(spans)) {
					continue;
				} else if (!l) {
					memcpy(spans, one, ol + 1);
					near_d = d;
				} else if (d < near_d) {
					memmove(spans + ol + 2, spans, l + 1);
					memcpy(spans, one, ol);
					memcpy(spans + ol, "; ", 2);
					near_d = d;
				} else {
					snprintf(spans + l, sizeof(spans) - l,
						 "; %s", one);
				}
			} else {
				dates_only = 0;
			}
			continue;
		}
		dates_only = 0;
		/* a scope moved into the grant counts (scopemap_under), one
		 * moved out of it only before the move (SPEC §10); an
		 * erasure needs an administrator, SPEC §1.6 */
		if (scopemap_may_write_at(c->map, &ch->c[0], e->scope,
					  e->collection, at, &mv) &&
		    (e->kind != ENTRY_ERASE || ch->c[0].delegate))
			return 0;
		if (mv) {
			moved = mv;
			mname = ch->c[0].name;
			continue;
		}
		snprintf(cwhy, sizeof(cwhy),
			 "its author's certificate (\"%s\") does not let it %s %s in scope %s%s",
			 ch->c[0].name,
			 e->kind == ENTRY_ERASE ? "erase" : "write",
			 e->collection, e->scope,
			 e->kind == ENTRY_ERASE &&
					 cert_may_write(&ch->c[0], e->scope,
							e->collection)
				 ? " (only an administrator of the scope, whose certificate may certify others, may erase)"
				 : "");
	}
	if (rwhy[0]) {
		why_set(why, wl, "%s", rwhy);
		return HAMLET_EREVOKED;
	}
	if (moved)
		return moved_why(e, moved, mname, why, wl);
	if (dates_only && spans[0]) {
		char when[32];
		int fixed;
		utc_secs(at, when);
		/* whole spans only, as many as the reason's room takes (an
		 * entry's reason is kept in 256 bytes): one cut mid-date
		 * reads as garbage */
		fixed = snprintf(NULL, 0, DATED_NONE_HELD,
				 (unsigned long long)e->seq, e->scope, when, "");
		if (fixed > 0 && (size_t)fixed + strlen(spans) + 1 > wl) {
			size_t room = wl > (size_t)fixed + 8 ? wl - fixed - 8 : 0;
			char *cut = NULL;
			for (char *q = strstr(spans, "; "); q && (size_t)(q - spans) <= room;
			     q = strstr(q + 2, "; "))
				cut = q;
			if (cut) {
				memcpy(cut, "; …", sizeof("; …"));
			} else {
				/* even the first span is over the room: its
				 * name is cut (at a character), its dates
				 * kept whole */
				char *end = strstr(spans, "; ");
				char *q = strstr(spans + 1, "\" ");
				char first[256];
				size_t tl, k;
				if (end)
					*end = 0;
				if (q && (tl = strlen(q)) + 5 <= room &&
				    tl < sizeof(first)) {
					k = room - tl - 5;
					if (k > (size_t)(q - spans - 1))
						k = (size_t)(q - spans - 1);
					while (k > 0 &&
					       ((unsigned char)spans[1 + k] &
						0xc0) == 0x80)
						k--;
					snprintf(first, sizeof(first),
						 "\"%.*s…%s", (int)k,
						 spans + 1, q);
					snprintf(spans, sizeof(spans), "%s",
						 first);
				} else {
					/* not even one span's dates fit (a
					 * long scope): none, the sentence
					 * whole */
					snprintf(spans, sizeof(spans), "…");
				}
			}
		}
		why_set(why, wl, DATED_NONE_HELD,
			(unsigned long long)e->seq, e->scope, when, spans);
		return HAMLET_ECERT;
	}
	why_set(why, wl, N_("seq %llu of feed %s: %s"), (unsigned long long)e->seq,
		 e->scope, cwhy);
	return HAMLET_ECERT;
}

int trustset_entry_revoked(struct store_txn *t, struct trustset_cache *c,
			   const struct entry *e, const uint8_t id[32])
{
	int r = trustset_entry_check(t, c, e, id, NULL, 0);

	/* a store with no root judges nobody, and an author with no
	 * chain has none a revocation could leave: the cut-off alone
	 * decides (as trustset_revoked() with no chain) */
	if (r == HAMLET_EREVOKED || r == HAMLET_ENOCERT ||
	    (r == 0 && c->root_known < 0))
		return 1;
	return r < 0 && r != HAMLET_ECERT ? r : 0;
}
