/* bundle: importing a bundle through the same verify-and-store path as
 * the wire, here or through hamletd. */
#include "bundle_internal.h"
#include "why.h"

#include "error.h"
#include "heard.h"
#include "node.h"
#include "scopemap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- importing --------------------------------------------------------- */

/* An entry held in the store when the import began. */
struct held_key {
	uint8_t feed[32];
	uint64_t seq;
};

/* An entry of the file the log held: told as a problem at the end only
 * if it is held still (an entry later in the file may release it). */
struct held_later {
	uint8_t feed[32];
	uint64_t seq;
	size_t off;
	char *what, *why;
};

/* held entries kept to be judged at the end: as many as the store may
 * hold (past LOG_MAX_HELD an entry is refused, EHELDCAP, never held) */
#define HELD_LATER_MAX LOG_MAX_HELD

struct import_ctx {
	bundle_ingest_fn fn;
	void *fn_ctx;
	struct log_out *out;
	bundle_trust_fn tfn;
	/* the entries held before the import, in key order (the store's) */
	struct held_key *held;
	size_t nheld, heldcap;
	uint64_t applied; /* of the file's entries, those stored by it */
	struct held_later *later;
	size_t nlater, latercap;
};

/* Keep held entry in to be told at the end: 1, or 0 when it cannot be
 * kept (told at once then). */
static int held_keep(struct import_ctx *c, const struct log_in *in,
		     size_t off, const char *what, const char *why)
{
	struct held_later *h;
	struct entry e;

	if (c->nlater == HELD_LATER_MAX ||
	    entry_decode(in->env, in->env_len, &e, NULL) < 0)
		return 0;
	if (c->nlater == c->latercap) {
		size_t nc = c->latercap ? c->latercap * 2 : 64;
		void *v;
		if (nc > HELD_LATER_MAX)
			nc = HELD_LATER_MAX;
		if (!(v = realloc(c->later, nc * sizeof(*c->later))))
			return 0;
		c->later = v;
		c->latercap = nc;
	}
	h = &c->later[c->nlater];
	log_feed_key(e.author, e.scope, h->feed);
	h->seq = e.seq;
	h->off = off;
	h->what = strdup(what);
	h->why = strdup(why);
	if (!h->what || !h->why) {
		free(h->what);
		free(h->why);
		return 0;
	}
	c->nlater++;
	return 1;
}

/* At the end: the entries kept by held_keep that are held still are told;
 * those a later entry of the file (or a certificate in it) let in are
 * not, no longer count as held, and count as the file's applied. */
static void held_tell(struct node *n, struct import_ctx *c,
		      struct bundle_report *rep)
{
	struct store_txn *t = NULL;

	if (c->nlater && store_txn_begin(n->st, 1, &t) < 0)
		t = NULL;
	for (size_t i = 0; i < c->nlater; i++) {
		struct held_later *h = &c->later[i];
		struct log_feed f;
		if (t && log_feed_get(t, h->feed, &f) == 0 && f.seq >= h->seq) {
			/* the file's own, stored by this import after all */
			c->applied++;
			if (rep->stats.held)
				rep->stats.held--;
		} else {
			problems_add(&rep->problems, "held",
				     N_("entry at byte %zu, %s: %s"), h->off,
				     h->what, h->why);
		}
		free(h->what);
		free(h->why);
	}
	store_txn_abort(t);
	free(c->later);
	c->later = NULL;
	c->nlater = c->latercap = 0;
}

static int held_note(void *ctx, const struct log_held *h)
{
	struct import_ctx *c = ctx;
	if (c->nheld == c->heldcap) {
		size_t nc = c->heldcap ? c->heldcap * 2 : 256;
		void *v = realloc(c->held, nc * sizeof(*c->held));
		if (!v)
			return -ENOMEM;
		c->held = v;
		c->heldcap = nc;
	}
	memcpy(c->held[c->nheld].feed, h->feed, 32);
	c->held[c->nheld++].seq = h->seq;
	return 0;
}

static int held_cmp(const void *a, const void *b)
{
	const struct held_key *x = a, *y = b;
	int d = memcmp(x->feed, y->feed, 32);
	if (d)
		return d;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Note the entries held in n before the import: at most LOG_MAX_HELD.
 * 0, or <0 when the store could not be read. */
static int held_before(struct node *n, struct import_ctx *c)
{
	struct store_txn *t;
	int r;

	if ((r = store_txn_begin(n->st, 1, &t)) < 0)
		return r;
	r = log_held_each(t, held_note, c);
	store_txn_abort(t);
	return r;
}

/*
 * Count the file's entries this import stored. Storing an entry releases
 * the entries held after it (an earlier, damaged copy of the bundle, or
 * a later trip's bundle imported first, left them waiting), and a
 * certificate among the trust items releases those that waited for it:
 * the log counts them applied and released, of this file or not. When
 * the file's own copy of one of them comes next it is found stored; but
 * the node did not have it before this import, so it is no duplicate,
 * and it is the file's entry applied. 0, or -ENOMEM.
 */
static int import_count(struct import_ctx *c, struct bundle_report *rep,
			const struct log_in *in, const struct log_out *o)
{
	struct held_key k;
	struct entry e;

	if (o->status == LOG_APPLIED) {
		c->applied++;
		return 0;
	}
	if (o->status != LOG_DUPLICATE || !c->nheld ||
	    entry_decode(in->env, in->env_len, &e, NULL) < 0)
		return 0;
	log_feed_key(e.author, e.scope, k.feed);
	k.seq = e.seq;
	if (!bsearch(&k, c->held, c->nheld, sizeof(k), held_cmp))
		return 0;
	c->applied++;
	if (rep->stats.duplicate)
		rep->stats.duplicate--;
	return 0;
}

/* why past its leading "KIND: ": the problem's kind is shown before it */
static const char *why_past(const char *why, const char *kind)
{
	size_t n = strlen(kind);
	if (strncmp(why, kind, n) == 0 && why[n] == ':' && why[n + 1] == ' ')
		return why + n + 2;
	return why;
}

static int import_trust(struct walk *wk, const struct trustset_item *items,
			const size_t *offs, size_t n)
{
	struct import_ctx *c = wk->ctx;
	struct bundle_report *rep = wk->rep;
	struct trustset_out out[TRUST_BATCH];
	char sub[300] = "";
	int r;

	if ((r = c->tfn(c->fn_ctx, items, n, out, &rep->stats, sub,
			sizeof(sub))) < 0) {
		why_set(wk->why, wk->whylen,
			 N_("could not store %zu trust items: %s"), n,
			 sub[0] ? sub : why_translate(hamlet_strerror(r)));
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		struct fork_proof fp;
		char a[17];
		if (out[i].status == TRUSTSET_ADDED)
			rep->trust_added++;
		/* a new fork proof counts as a fork: named, as the fork
		 * evidence among entries is (and as verify --bundle names
		 * it) */
		if (out[i].status == TRUSTSET_ADDED &&
		    items[i].kind == TRUST_FORK &&
		    fork_proof_decode(items[i].data, items[i].len, &fp,
				      NULL) == 0) {
			hex_encode(fp.a.author, 8, a);
			problems_add(&rep->problems, "fork",
				     N_("fork proof at byte %zu: author %s… signed two different entries at seq %llu of feed %s (fork evidence)"),
				     offs[i], a, (unsigned long long)fp.at,
				     fp.a.scope);
		} else if (out[i].status == TRUSTSET_REFUSED &&
			   out[i].err == HAMLET_ESCOPE) {
			/* a fork proof of a feed this node does not read:
			 * not ours, never named (its record ids are
			 * another village's) */
			rep->outside++;
		} else if (out[i].status == TRUSTSET_REFUSED) {
			struct cert ce;
			char sh[17], ih[17];
			rep->trust_refused++;
			/* a certificate is named by whom it is for and who
			 * signed it: the auditor looks for those keys */
			if (items[i].kind == TRUST_CERT &&
			    cert_decode(items[i].data, items[i].len, &ce,
					NULL) == 0) {
				hex_encode(ce.subject, 8, sh);
				hex_encode(ce.issuer, 8, ih);
				problems_add(&rep->problems, "trust",
					     N_("certificate \"%s\" at byte %zu (for key %s…, issued by key %s…) refused: %s"),
					     ce.name, offs[i], sh, ih,
					     out[i].why);
				continue;
			}
			problems_add(&rep->problems, "trust",
				     N_("%s at byte %zu refused: %s"),
				     trust_kind_name(items[i].kind), offs[i],
				     out[i].why);
		}
	}
	return 0;
}

void bundle__describe(const struct log_in *in, char *buf, size_t n)
{
	struct entry e;
	if (entry_decode(in->env, in->env_len, &e, NULL) == 0)
		snprintf(buf, n, N_("%s/%s (feed %s seq %llu)"), e.collection,
			 e.record_id, e.scope, (unsigned long long)e.seq);
	else
		snprintf(buf, n, "undecodable entry");
}

static int import_batch(struct walk *wk, const struct log_in *in,
			const size_t *offs, size_t n)
{
	struct import_ctx *c = wk->ctx;
	struct bundle_report *rep = wk->rep;
	char sub[300] = "";
	int r;

	if ((r = c->fn(c->fn_ctx, in, n, c->out, &rep->stats, sub,
		       sizeof(sub))) < 0) {
		why_set(wk->why, wk->whylen,
			 N_("could not store a batch of %zu entries: %s"), n,
			 sub[0] ? sub : why_translate(hamlet_strerror(r)));
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		const struct log_out *o = &c->out[i];
		char what[160];
		if ((r = import_count(c, rep, &in[i], o)) < 0)
			return r;
		if (o->status == LOG_APPLIED || o->status == LOG_DUPLICATE)
			continue;
		if (o->status == LOG_REJECTED && o->err == HAMLET_ESCOPE &&
		    entry_decode(in[i].env, in[i].env_len, &(struct entry){ 0 },
				 NULL) == 0) {
			/* not this node's to hold: counted, never named
			 * (its record ids are another village's) */
			rep->outside++;
			if (rep->stats.rejected)
				rep->stats.rejected--;
			continue;
		}
		bundle__describe(&in[i], what, sizeof(what));
		if (o->status == LOG_REJECTED && o->err == HAMLET_EHELDCAP) {
			/* sound, only too early: not refused for a fault,
			 * and stored when the file comes again after the
			 * entries before them */
			rep->ahead++;
			if (rep->stats.rejected)
				rep->stats.rejected--;
			problems_add(&rep->problems, "ahead",
				     N_("entry at byte %zu, %s: %s"), offs[i],
				     what, o->why);
			continue;
		}
		if (o->status == LOG_HELD) {
			if (!held_keep(c, &in[i], offs[i], what,
				       why_past(o->why, "held")))
				problems_add(&rep->problems, "held",
					     N_("entry at byte %zu, %s: %s"),
					     offs[i], what,
					     why_past(o->why, "held"));
		} else if (o->status == LOG_FORK)
			problems_add(&rep->problems, "fork",
				     N_("entry at byte %zu, %s: %s"), offs[i], what,
				     why_past(o->why, "fork"));
		else
			problems_add(&rep->problems,
				     o->err == HAMLET_ESIG ? "signature"
				     : o->err == HAMLET_EHASH ? "body"
				     : "rejected",
				     N_("entry at byte %zu, %s: %s"), offs[i], what,
				     o->why);
	}
	return 0;
}

/* What the direct form writes to, and the file the entries come from. */
struct direct {
	struct node *n;
	struct heard_via via;
};

int bundle_trust_local(struct node *n, const struct trustset_item *items,
		       size_t count, struct trustset_out *out,
		       struct log_stats *stats)
{
	struct cert_chain *ch = malloc(sizeof(*ch));
	struct log_reader rd;
	int r;

	if (!ch)
		return -ENOMEM;
	node_reader(n, ch, &rd);
	r = log_trust_ingest_read(n->st, n->net.id, &rd, items, count, out,
				  stats, NULL);
	free(ch);
	return r;
}

static int trust_direct(void *ctx, const struct trustset_item *items,
			size_t n, struct trustset_out *out,
			struct log_stats *stats, char *why, size_t whylen)
{
	struct direct *d = ctx;
	int r = bundle_trust_local(d->n, items, n, out, stats);
	if (r < 0)
		why_set(why, whylen, "%s", why_translate(hamlet_strerror(r)));
	return r;
}

/* Whether entry in may enter the node rd describes: 1, or 0 with out
 * filled as refused (scopemap_keep_check(), as hamletd refuses it). An
 * envelope that does not decode is let through: log_ingest refuses it,
 * naming the fault. */
static int local_admit(const struct log_reader *rd, const struct log_in *in,
		       struct log_out *out)
{
	struct entry e;
	int r;

	memset(out, 0, sizeof(*out));
	if (entry_decode(in->env, in->env_len, &e, NULL) < 0 ||
	    (r = scopemap_keep_check(rd->map, rd->grant, rd->scope, &e,
				     out->why, sizeof(out->why))) == 0)
		return 1;
	out->status = LOG_REJECTED;
	out->err = r;
	out->seq = e.seq;
	entry_id(in->env, in->env_len, out->id);
	return 0;
}

int bundle_ingest_local(struct node *n, const struct heard_via *via,
			const struct log_in *in, size_t count,
			struct log_out *out, struct log_stats *stats)
{
	struct cert_chain *ch = malloc(sizeof(*ch));
	struct log_in *ok = NULL;
	struct log_out *ok_out = NULL;
	size_t *idx = NULL, nok = 0, m = count ? count : 1;
	struct log_reader rd;
	int r;

	if (!ch || !(ok = malloc(m * sizeof(*ok))) ||
	    !(ok_out = malloc(m * sizeof(*ok_out))) ||
	    !(idx = malloc(m * sizeof(*idx)))) {
		r = -ENOMEM;
		goto out;
	}
	/* a node without a certificate valid now reads nothing from
	 * peers; its bundles are judged as hamletd judges them: it keeps
	 * its own scope only. A revoked one still keeps to what its
	 * certificate let it read */
	node_reader(n, ch, &rd);
	for (size_t i = 0; i < count; i++) {
		if (local_admit(&rd, &in[i], &out[i])) {
			ok[nok] = in[i];
			idx[nok++] = i;
		} else {
			stats->rejected++;
		}
	}
	r = nok ? log_ingest_via(n->st, n->net.id, ok, nok, ok_out, stats,
				 NULL, UINT64_MAX, via)
		: 0;
	for (size_t k = 0; r >= 0 && k < nok; k++)
		out[idx[k]] = ok_out[k];
out:
	free(ch);
	free(ok);
	free(ok_out);
	free(idx);
	return r;
}

/* The direct form: this process is the store's writer. */
static int ingest_direct(void *ctx, const struct log_in *in, size_t n,
			 struct log_out *out, struct log_stats *stats,
			 char *why, size_t whylen)
{
	struct direct *d = ctx;
	int r = bundle_ingest_local(d->n, &d->via, in, n, out, stats);
	if (r < 0)
		why_set(why, whylen, "%s", why_translate(hamlet_strerror(r)));
	return r;
}

int bundle_import(struct node *n, const char *path, struct bundle_report *rep,
		  char *why, size_t whylen)
{
	struct direct d = { .n = n };
	heard_via_bundle(&d.via, path);
	return bundle_import_with(n, path, ingest_direct, trust_direct, &d,
				  rep, why, whylen);
}

int bundle_import_with(struct node *n, const char *path, bundle_ingest_fn fn,
		       bundle_trust_fn tfn, void *ctx,
		       struct bundle_report *rep, char *why, size_t whylen)
{
	return bundle_import_progress(n, path, fn, tfn, ctx, NULL, NULL, rep,
				      why, whylen);
}

int bundle_import_progress(struct node *n, const char *path,
			   bundle_ingest_fn fn, bundle_trust_fn tfn, void *ctx,
			   bundle_progress_fn pfn, void *pctx,
			   struct bundle_report *rep, char *why,
			   size_t whylen)
{
	struct import_ctx c = { fn, ctx, malloc(BATCH * sizeof(struct log_out)),
				tfn, NULL, 0, 0, 0, NULL, 0, 0 };
	struct walk wk = { rep, n->net.id, import_batch, &c, why, whylen,
			   import_trust, n->sk, n, pfn, pctx, NULL, 0 };
	int r;

	why[0] = 0;
	if (!c.out)
		return -ENOMEM;
	if ((r = held_before(n, &c)) < 0) {
		why_set(why, whylen, N_("cannot read the store: %s"),
			why_translate(hamlet_strerror(r)));
		goto out;
	}
	r = bundle__walk_file(path, &wk);
	/* the file's own: not the entries it let in from elsewhere */
	held_tell(n, &c, rep);
	rep->stats.applied = c.applied;
out:
	free(c.out);
	free(c.held);
	return r;
}
