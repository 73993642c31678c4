/* bundle: checking a bundle without a store (an auditor's report): each
 * entry on its own, the chains of its feeds, gaps and fork evidence. */
#include "bundle_internal.h"
#include "why.h"

#include "error.h"
#include "hlc.h"
#include "schema.h"

#include "trust.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- checking without a store ------------------------------------------ */

/*
 * What a check remembers of each feed: the runs of contiguous seqs the
 * bundle carried, in seq order, each with the prev its first entry signs
 * and the id of its last, so that entries in any order chain, and the
 * holes left between runs are gaps; and the ids of every entry seen, so
 * that an entry seen twice is a duplicate, and only another entry at a
 * seq seen is fork evidence.
 */
#define CHECK_MAX_RUNS 1024 /* a feed's runs tracked; past them, a finding */
#define CHECK_MAX_FORKED 64 /* a feed's fork evidence entries remembered */

struct seq_run {
	uint64_t lo, hi;
	uint8_t lo_prev[32]; /* zero when lo is 1 */
	uint8_t hi_id[32];
};

struct forked_entry {
	uint64_t seq;
	uint8_t id[32];
};

struct chain_slot {
	uint8_t key[32];
	uint8_t author[32]; /* the feed's, named with its scope */
	char scope[ENTRY_MAX_SCOPE + 1];
	struct seq_run *runs;
	size_t nruns, cap;
	int untracked; /* over CHECK_MAX_RUNS: told once */
	int used;
	/* the entries seen at a seq another entry held (fork evidence), so
	 * that an entry chaining to one of them is the fork's other branch,
	 * not a broken chain, wherever the two sit in the file */
	struct forked_entry *forked; /* CHECK_MAX_FORKED, made when needed */
	size_t nforked;
};

/* An erasure the bundle carries, and a put whose body it carries: an
 * erasure reaching such a put shows a body sent again that SPEC 1.6
 * says is never sent again. Both kept up to CHECK_MAX_ERASED. */
#define CHECK_MAX_ERASED 65536

struct erased_ref {
	uint8_t record[32]; /* BLAKE2b of collection, 0, record id */
	char scope[ENTRY_MAX_SCOPE + 1];
	size_t off;
	uint64_t seq;
};

struct erased_refs {
	struct erased_ref *v;
	size_t n, cap;
	int over; /* past CHECK_MAX_ERASED: not checked, told once */
};

/* An entry carried whose envelope decodes but whose signature does not
 * verify: its seq is no gap (it is there, and named as damaged). */
#define CHECK_MAX_BADSEQ 4096
struct bad_seq {
	uint8_t feed[32];
	uint64_t seq;
};

struct check_ctx {
	struct bad_seq *bad; /* CHECK_MAX_BADSEQ, made when needed */
	size_t nbad;
	struct erased_refs erasures, bodies;
	struct chain_slot *slots;
	size_t cap, used;
	uint8_t (*ids)[32]; /* open addressing; all zero: empty */
	size_t icap, iused;
	int *res;
	uint64_t wall; /* this machine's clock at the start */
};

static struct chain_slot *slot_find(struct check_ctx *c, const uint8_t key[32],
				    int *ret_new)
{
	struct chain_slot *sl = bundle__table_slot(
		&c->slots, &c->cap, &c->used, sizeof(*sl), 1024, key, ret_new);
	if (sl)
		sl->used = 1;
	return sl;
}

/* Add id to the ids seen: 1 when it is new, 0 when seen before. */
static int id_add(struct check_ctx *c, const uint8_t id[32])
{
	int isnew;
	if (!bundle__table_slot(&c->ids, &c->icap, &c->iused, 32, 4096, id,
				&isnew))
		return -ENOMEM;
	return isnew;
}

/* Run k and the one after it are contiguous: one run, if the second's
 * first entry chains to the first's last (0), else HAMLET_ECHAIN (and
 * they stay apart). */
static int runs_join(struct chain_slot *s, size_t k)
{
	struct seq_run *a = &s->runs[k], *b = &s->runs[k + 1];
	if (memcmp(b->lo_prev, a->hi_id, 32) != 0)
		return HAMLET_ECHAIN;
	a->hi = b->hi;
	memcpy(a->hi_id, b->hi_id, 32);
	memmove(b, b + 1, (s->nruns - k - 2) * sizeof(*b));
	s->nruns--;
	return 0;
}

/* Remember id, at seq, as fork evidence of s (the first
 * CHECK_MAX_FORKED). */
static int forked_add(struct chain_slot *s, uint64_t seq, const uint8_t id[32])
{
	if (s->nforked == CHECK_MAX_FORKED)
		return 0;
	if (!s->forked &&
	    !(s->forked = malloc(CHECK_MAX_FORKED * sizeof(*s->forked))))
		return -ENOMEM;
	s->forked[s->nforked].seq = seq;
	memcpy(s->forked[s->nforked++].id, id, 32);
	return 0;
}

/*
 * Place entry e (id, its first sighting when fresh) in its feed's runs:
 * 0; 1 when e is a duplicate; 2 when another entry holds its seq (fork
 * evidence, remembered); 3 when it chains to such an entry (the fork's
 * other branch, evidence too); 4 when its prev names another entry than
 * the one at seq - 1 (fork evidence, remembered); 5 when the entry after
 * it names another entry than e. Every entry placed verified under its
 * author's key, so a link that does not hold is that author's two
 * signed versions of the feed (SPEC 8, case 2), never damage. -ENOMEM.
 */
static int run_place(struct chain_slot *s, const struct entry *e,
		     const uint8_t id[32], int fresh)
{
	size_t k = 0;
	int r = 0;

	/* the first run ending at or after e's seq, or the one it extends */
	while (k < s->nruns && s->runs[k].hi + 1 < e->seq)
		k++;
	if (k < s->nruns && s->runs[k].lo <= e->seq && e->seq <= s->runs[k].hi)
		return !fresh ? 1 : forked_add(s, e->seq, id) < 0 ? -ENOMEM : 2;
	if (!fresh)
		return 1;
	for (size_t f = 0; f < s->nforked && e->seq > 1; f++)
		if (s->forked[f].seq + 1 == e->seq &&
		    memcmp(e->prev, s->forked[f].id, 32) == 0)
			return forked_add(s, e->seq, id) < 0 ? -ENOMEM : 3;
	if (k < s->nruns && s->runs[k].hi + 1 == e->seq &&
	    memcmp(e->prev, s->runs[k].hi_id, 32) != 0)
		return forked_add(s, e->seq, id) < 0 ? -ENOMEM : 4;
	if (k < s->nruns && s->runs[k].hi + 1 == e->seq) {
		struct seq_run *a = &s->runs[k];
		a->hi = e->seq;
		memcpy(a->hi_id, id, 32);
	} else {
		/* a run of its own, before the first that ends after it */
		if (s->nruns == CHECK_MAX_RUNS) {
			s->untracked = 1;
			return r;
		}
		if (s->nruns == s->cap) {
			size_t nc = s->cap ? s->cap * 2 : 2;
			struct seq_run *nr = realloc(s->runs, nc * sizeof(*nr));
			if (!nr)
				return -ENOMEM;
			s->runs = nr;
			s->cap = nc;
		}
		memmove(&s->runs[k + 1], &s->runs[k],
			(s->nruns - k) * sizeof(*s->runs));
		s->nruns++;
		s->runs[k] = (struct seq_run){ .lo = e->seq, .hi = e->seq };
		if (e->seq > 1)
			memcpy(s->runs[k].lo_prev, e->prev, 32);
		memcpy(s->runs[k].hi_id, id, 32);
	}
	if (k + 1 < s->nruns && s->runs[k + 1].lo == e->seq + 1 &&
	    runs_join(s, k) < 0)
		r = 5;
	return r;
}

/* Remember e (at byte off) in refs. */
static int erased_ref_add(struct erased_refs *refs, const struct entry *e,
			  size_t off)
{
	struct erased_ref *x;
	crypto_generichash_state h;

	if (refs->n == CHECK_MAX_ERASED) {
		refs->over = 1;
		return 0;
	}
	if (refs->n == refs->cap) {
		size_t nc = refs->cap ? refs->cap * 2 : 16;
		struct erased_ref *nv = realloc(refs->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		refs->v = nv;
		refs->cap = nc;
	}
	x = &refs->v[refs->n++];
	crypto_generichash_init(&h, NULL, 0, 32);
	crypto_generichash_update(&h, (const uint8_t *)e->collection,
				  strlen(e->collection) + 1);
	crypto_generichash_update(&h, (const uint8_t *)e->record_id,
				  strlen(e->record_id));
	crypto_generichash_final(&h, x->record, 32);
	snprintf(x->scope, sizeof(x->scope), "%s", e->scope);
	x->off = off;
	x->seq = e->seq;
	return 0;
}

/* After the walk: each body carried that an erasure carried reaches. */
static void check_erased(struct check_ctx *c, struct bundle_report *rep)
{
	for (size_t i = 0; i < c->erasures.n; i++) {
		const struct erased_ref *er = &c->erasures.v[i];
		for (size_t k = 0; k < c->bodies.n; k++) {
			const struct erased_ref *b = &c->bodies.v[k];
			if (memcmp(b->record, er->record, 32) != 0 ||
			    !entry_scope_under(b->scope, er->scope))
				continue;
			rep->bodies_erased++;
			problems_add(&rep->problems, "erased-body",
				     N_("entry at byte %zu (feed %s seq %llu) carries the body that the erasure at byte %zu names: an erased body is never sent again (SPEC 1.6); whether its signer may erase is judged with --report"),
				     b->off, b->scope, (unsigned long long)b->seq,
				     er->off);
		}
	}
	if (c->erasures.over || c->bodies.over)
		problems_add(&rep->problems, "erased-body",
			     N_("more than %d erasures or bodies: those past them were not checked for bodies sent again after their erasure"),
			     CHECK_MAX_ERASED);
}

/* A fork proof among the trust items proves its author forked a feed:
 * evidence, as a second entry at a seq is. Other items are judged by
 * --report, against the root. */
static int check_trust(struct walk *wk, const struct trustset_item *items,
		       const size_t *offs, size_t n)
{
	struct bundle_report *rep = wk->rep;

	for (size_t i = 0; i < n; i++) {
		struct fork_proof fp;
		char a[17];
		if (items[i].kind != TRUST_FORK ||
		    fork_proof_decode(items[i].data, items[i].len, &fp,
				      NULL) < 0)
			continue; /* it was checked when read */
		rep->fork_proofs++;
		hex_encode(fp.a.author, 8, a);
		problems_add(&rep->problems, "fork",
			     N_("fork proof at byte %zu: author %s… signed two different entries at seq %llu of feed %s (fork evidence)"),
			     offs[i], a, (unsigned long long)fp.at, fp.a.scope);
	}
	return 0;
}

static int bad_seq_add(struct check_ctx *c, const struct entry *e)
{
	if (!c->bad && !(c->bad = malloc(CHECK_MAX_BADSEQ * sizeof(*c->bad))))
		return -ENOMEM;
	if (c->nbad == CHECK_MAX_BADSEQ)
		return 0; /* past them, a gap may name one: it is named too */
	log_feed_key(e->author, e->scope, c->bad[c->nbad].feed);
	c->bad[c->nbad++].seq = e->seq;
	return 0;
}

static int check_batch(struct walk *wk, const struct log_in *in,
		       const size_t *offs, size_t n)
{
	struct check_ctx *c = wk->ctx;
	struct bundle_report *rep = wk->rep;

	log_verify_parallel(in, n, c->res);
	for (size_t i = 0; i < n; i++) {
		struct entry e;
		uint8_t id[32], fk[32];
		char what[160];
		int isnew, fresh, placed, bad;
		if (c->res[i] < 0 ||
		    entry_decode(in[i].env, in[i].env_len, &e, NULL) < 0) {
			rep->bad_entries++;
			if (c->res[i] == HAMLET_ESIG &&
			    entry_decode(in[i].env, in[i].env_len, &e, NULL) ==
				    0 &&
			    bad_seq_add(c, &e) < 0)
				return -ENOMEM;
			bundle__describe(&in[i], what, sizeof(what));
			problems_add(&rep->problems,
				     c->res[i] == HAMLET_ESIG ? "signature"
							      : "damaged",
				     N_("entry at byte %zu, %s: %s"), offs[i], what,
				     hamlet_strerror(c->res[i] < 0 ? c->res[i]
								    : HAMLET_EFORMAT));
			continue;
		}
		snprintf(what, sizeof(what), N_("%s/%s (feed %s seq %llu)"),
			 e.collection, e.record_id, e.scope,
			 (unsigned long long)e.seq);
		if (!rep->has_entry_network) {
			memcpy(rep->entry_network_id, e.network_id, 32);
			rep->has_entry_network = 1;
		}
		/* without a network given (an auditor with the root key
		 * alone), the bundle's own header names it */
		const uint8_t *net = wk->network_id ? wk->network_id
				     : rep->has_header ? rep->header.network_id
						       : rep->entry_network_id;
		if (memcmp(e.network_id, net, 32)) {
			rep->bad_entries++;
			problems_add(&rep->problems, "network",
				     N_("entry at byte %zu, %s belongs to another network"),
				     offs[i], what);
			continue;
		}
		/* an entry that verifies but an import would refuse (its
		 * body altered, dated ahead, against its schema) still holds
		 * its place in its feed: it is named, not left out */
		bad = 0;
		if (in[i].body) {
			uint8_t bh[32];
			entry_body_hash(in[i].body, in[i].body_len, bh);
			if (!e.has_body || memcmp(bh, e.body_hash, 32) != 0) {
				bad = 1;
				problems_add(&rep->problems, "body",
					     N_("entry at byte %zu, %s: body does not match its signed hash"),
					     offs[i], what);
			}
		}
		/* signed as it is, but dated ahead: its author's clock (or
		 * this machine's) is wrong; an import refuses it until then.
		 * A finding, not damage: nothing in it fails to verify */
		if (!bad && hlc_ms(e.hlc) > c->wall + LOG_MAX_AHEAD_MS) {
			rep->future++;
			problems_add(&rep->problems, "future",
				     N_("entry at byte %zu, %s: dated more than %llu h ahead of this machine's clock (its author's clock ahead, or this machine's behind?): an import refuses it until then"),
				     offs[i], what,
				     (unsigned long long)(LOG_MAX_AHEAD_MS / 3600000));
		}
		if (!bad) {
			/* what an import would refuse, named here too */
			char sw[300];
			if (schema_check_op(e.collection, e.kind, e.has_body,
					    in[i].body, in[i].body_len, NULL, sw,
					    sizeof(sw)) < 0) {
				bad = 1;
				problems_add(&rep->problems, "schema",
					     N_("entry at byte %zu, %s: %s"),
					     offs[i], what, sw);
			}
		}
		rep->bad_entries += bad;
		entry_id(in[i].env, in[i].env_len, id);
		if ((fresh = id_add(c, id)) < 0)
			return fresh;
		log_feed_key(e.author, e.scope, fk);
		struct chain_slot *s = slot_find(c, fk, &isnew);
		if (!s)
			return -ENOMEM;
		if (isnew) {
			rep->feeds++;
			snprintf(s->scope, sizeof(s->scope), "%s", e.scope);
			memcpy(s->author, e.author, 32);
		}
		placed = run_place(s, &e, id, fresh);
		if (placed < 0)
			return placed;
		if (placed == 1) {
			rep->duplicates++; /* the same entry again: harmless */
			/* but a body it carries is carried all the same: an
			 * erased one is sent again wherever it sits (after the
			 * same entry without it, say) */
			if (!bad && e.kind == ENTRY_PUT && in[i].body &&
			    erased_ref_add(&c->bodies, &e, offs[i]) < 0)
				return -ENOMEM;
			continue;
		}
		if (placed >= 2 && placed <= 4) {
			rep->fork_evidence++;
			problems_add(&rep->problems, "fork",
				     placed == 2
					     ? N_("entry at byte %zu, %s: a second entry at a seq already seen (fork evidence)")
				     : placed == 3
					     ? N_("entry at byte %zu, %s: it continues the other version of a forked seq (fork evidence)")
					     : N_("entry at byte %zu, %s: it names as the entry before it another entry than the one the bundle carries at that seq (fork evidence)"),
				     offs[i], what);
			continue;
		}
		if (placed == 5)
			/* the entry after it, placed before: the fork's
			 * other version, counted by its kind already */
			problems_add(&rep->problems, "fork",
				     N_("entry at byte %zu, %s: the entry the bundle carries after it names another entry before it (fork evidence)"),
				     offs[i], what);
		if (bad)
			continue;
		if (e.has_body) {
			if (!in[i].body)
				rep->bodies_missing++;
			else
				rep->bodies++;
		}
		if ((e.kind == ENTRY_ERASE &&
		     erased_ref_add(&c->erasures, &e, offs[i]) < 0) ||
		    (e.kind == ENTRY_PUT && in[i].body &&
		     erased_ref_add(&c->bodies, &e, offs[i]) < 0))
			return -ENOMEM;
		if (e.kind == ENTRY_PUT)
			rep->puts++;
		else if (e.kind == ENTRY_DELETE)
			rep->deletes++;
		else if (e.kind == ENTRY_ERASE)
			rep->erasures++;
		else
			rep->others++;
	}
	return 0;
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* 1 when every seq of a..b of feed key was carried, damaged: as many
 * distinct such seqs as the gap is long (one carried twice counts once). */
static int gap_all_bad(const struct check_ctx *c, const uint8_t key[32],
		       uint64_t a, uint64_t b)
{
	uint64_t *v, n = 0, distinct = 0;

	if (!c->nbad || b - a + 1 > c->nbad ||
	    !(v = malloc(c->nbad * sizeof(*v))))
		return 0;
	for (size_t i = 0; i < c->nbad; i++)
		if (c->bad[i].seq >= a && c->bad[i].seq <= b &&
		    memcmp(c->bad[i].feed, key, 32) == 0)
			v[n++] = c->bad[i].seq;
	qsort(v, n, sizeof(*v), u64_cmp);
	for (uint64_t i = 0; i < n; i++)
		distinct += i == 0 || v[i] != v[i - 1];
	free(v);
	return distinct == b - a + 1;
}

/* After the walk: the seqs missing between runs of each feed. */
static void check_gaps(struct check_ctx *c, struct bundle_report *rep)
{
	for (size_t i = 0; i < c->cap; i++) {
		const struct chain_slot *s = &c->slots[i];
		char au[17];
		if (!s->used)
			continue;
		hex_encode(s->author, 8, au);
		if (s->nruns && s->runs[0].lo > 1 && rep->feeds_later++ == 0) {
			snprintf(rep->later_scope, sizeof(rep->later_scope),
				 "%s", s->scope);
			memcpy(rep->later_author, au, sizeof(au));
			rep->later_seq = s->runs[0].lo;
		}
		for (size_t k = 0; k + 1 < s->nruns; k++) {
			uint64_t a = s->runs[k].hi + 1, b = s->runs[k + 1].lo - 1;
			if (a > b)
				continue; /* contiguous, but not chained: told */
			if (gap_all_bad(c, s->key, a, b))
				continue; /* carried, and named as damaged */
			rep->gaps += b - a + 1;
			problems_add(&rep->problems, "gap",
				     N_("feed %s by %s…: seq %llu to %llu missing between entries the bundle carries"),
				     s->scope, au, (unsigned long long)a,
				     (unsigned long long)b);
		}
		if (s->untracked)
			problems_add(&rep->problems, "gap",
				     N_("feed %s by %s…: its entries come in more than %d pieces; those past them were not checked for gaps"),
				     s->scope, au, CHECK_MAX_RUNS);
	}
}

static void check_free(struct check_ctx *c)
{
	free(c->bad);
	for (size_t i = 0; i < c->cap; i++) {
		free(c->slots[i].runs);
		free(c->slots[i].forked);
	}
	free(c->slots);
	free(c->erasures.v);
	free(c->bodies.v);
	free(c->ids);
	free(c->res);
}

int bundle_check(const char *path, const uint8_t *network_id,
		 struct bundle_report *rep, char *why, size_t whylen)
{
	return bundle_check_key(path, network_id, NULL, rep, why, whylen);
}

int bundle_check_key(const char *path, const uint8_t *network_id,
		     struct node *reader, struct bundle_report *rep, char *why,
		     size_t whylen)
{
	return bundle_check_progress(path, network_id, reader, NULL, NULL, rep,
				     why, whylen);
}

int bundle_check_progress(const char *path, const uint8_t *network_id,
			  struct node *reader, bundle_progress_fn pfn,
			  void *pctx, struct bundle_report *rep, char *why,
			  size_t whylen)
{
	struct check_ctx c = { 0 };
	struct walk wk = { rep, network_id, check_batch, &c, why, whylen,
			   check_trust, reader ? reader->sk : NULL, reader, pfn,
			   pctx, NULL, 1 };
	int r;
	c.wall = hlc_wall_ms();
	why[0] = 0;
	c.res = malloc(BATCH * sizeof(int));
	if (!c.res)
		return -ENOMEM;
	r = bundle__walk_file(path, &wk);
	if (r >= 0) {
		check_gaps(&c, rep);
		check_erased(&c, rep);
	}
	check_free(&c);
	return r;
}
