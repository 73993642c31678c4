/* bundle: checking a bundle without a store (an auditor's report): each
 * entry on its own, the chains of its feeds, gaps and fork evidence. */
#include "bundle_internal.h"
#include "why.h"

#include "error.h"
#include "hlc.h"
#include "schema.h"

#include <errno.h>
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

struct check_ctx {
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
 * other branch, evidence too); HAMLET_ECHAIN when it does not chain to
 * the entry before or after it; -ENOMEM.
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
	    memcmp(e->prev, s->runs[k].hi_id, 32) == 0) {
		struct seq_run *a = &s->runs[k];
		a->hi = e->seq;
		memcpy(a->hi_id, id, 32);
	} else {
		/* a run of its own; after the one it does not chain to */
		if (k < s->nruns && s->runs[k].hi + 1 == e->seq) {
			r = HAMLET_ECHAIN;
			k++;
		}
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
		r = HAMLET_ECHAIN;
	return r;
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
		int isnew, fresh, placed;
		if (c->res[i] < 0 ||
		    entry_decode(in[i].env, in[i].env_len, &e, NULL) < 0) {
			rep->bad_entries++;
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
		if (in[i].body) {
			uint8_t bh[32];
			entry_body_hash(in[i].body, in[i].body_len, bh);
			if (!e.has_body || memcmp(bh, e.body_hash, 32) != 0) {
				rep->bad_entries++;
				problems_add(&rep->problems, "body",
					     N_("entry at byte %zu, %s: body does not match its signed hash"),
					     offs[i], what);
				continue;
			}
		}
		{
			/* what an import would refuse, named here too */
			char sw[300];
			if (hlc_ms(e.hlc) > c->wall + LOG_MAX_AHEAD_MS) {
				rep->bad_entries++;
				problems_add(&rep->problems, "future",
					     N_("entry at byte %zu, %s: dated more than %llu h ahead of this machine's clock"),
					     offs[i], what,
					     (unsigned long long)(LOG_MAX_AHEAD_MS / 3600000));
				continue;
			}
			if (schema_check_op(e.collection, e.kind, e.has_body,
					    in[i].body, in[i].body_len, NULL, sw,
					    sizeof(sw)) < 0) {
				rep->bad_entries++;
				problems_add(&rep->problems, "schema",
					     N_("entry at byte %zu, %s: %s"),
					     offs[i], what, sw);
				continue;
			}
		}
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
		}
		placed = run_place(s, &e, id, fresh);
		if (placed < 0 && placed != HAMLET_ECHAIN)
			return placed;
		if (placed == 1) {
			rep->duplicates++; /* the same entry again: harmless */
			continue;
		}
		if (placed == 2 || placed == 3) {
			rep->fork_evidence++;
			problems_add(&rep->problems, "fork",
				     placed == 2
					     ? N_("entry at byte %zu, %s: a second entry at a seq already seen (fork evidence)")
					     : N_("entry at byte %zu, %s: it continues the other version of a forked seq (fork evidence)"),
				     offs[i], what);
			continue;
		}
		if (placed == HAMLET_ECHAIN) {
			rep->bad_entries++;
			problems_add(&rep->problems, "chain",
				     N_("entry at byte %zu, %s does not chain to the entry before it"),
				     offs[i], what);
		}
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

/* After the walk: the seqs missing between runs of each feed. */
static void check_gaps(struct check_ctx *c, struct bundle_report *rep)
{
	for (size_t i = 0; i < c->cap; i++) {
		const struct chain_slot *s = &c->slots[i];
		if (!s->used)
			continue;
		for (size_t k = 0; k + 1 < s->nruns; k++) {
			uint64_t a = s->runs[k].hi + 1, b = s->runs[k + 1].lo - 1;
			if (a > b)
				continue; /* contiguous, but not chained: told */
			rep->gaps += b - a + 1;
			problems_add(&rep->problems, "gap",
				     N_("feed %s: seq %llu to %llu missing between entries the bundle carries"),
				     s->scope, (unsigned long long)a,
				     (unsigned long long)b);
		}
		if (s->untracked)
			problems_add(&rep->problems, "gap",
				     N_("feed %s: its entries come in more than %d pieces; those past them were not checked for gaps"),
				     s->scope, CHECK_MAX_RUNS);
	}
}

static void check_free(struct check_ctx *c)
{
	for (size_t i = 0; i < c->cap; i++) {
		free(c->slots[i].runs);
		free(c->slots[i].forked);
	}
	free(c->slots);
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
			   NULL, reader ? reader->sk : NULL, reader, pfn,
			   pctx, NULL };
	int r;
	c.wall = hlc_wall_ms();
	why[0] = 0;
	c.res = malloc(BATCH * sizeof(int));
	if (!c.res)
		return -ENOMEM;
	r = bundle__walk_file(path, &wk);
	if (r >= 0)
		check_gaps(&c, rep);
	check_free(&c);
	return r;
}
