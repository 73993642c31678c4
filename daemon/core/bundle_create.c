/* bundle: creating a bundle of what a recipient lacks, cut for it and
 * sealed to it when asked. */
#include "bundle.h"
#include "why.h"

#include "error.h"
#include "heads.h"
#include "hlc.h"
#include "scopemap.h"
#include "summary.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --- creating ---------------------------------------------------------- */

struct feedlist {
	struct log_feed *v;
	size_t n, cap;
	const char *prefix;
	/* a prefix matches through scope moves as a read grant does
	 * (scopemap_reads): the file goes to whoever holds it, so a
	 * village moved out of the prefix is not under it any more */
	const struct scopemap *map;
	char held[256]; /* the prefix matches nothing: the scopes held */
};

static int feed_collect(void *ctx, const struct log_feed *f)
{
	struct feedlist *l = ctx;
	if (l->prefix && !scopemap_reads(l->map, f->scope, l->prefix)) {
		/* the first few scopes held, for a prefix that names none */
		size_t hl = strlen(l->held), sl = strlen(f->scope);
		const char *p = l->held;
		int listed = 0;
		/* each scope once: the list is "a, b, c" */
		while (*p && !listed) {
			const char *e = strstr(p, ", ");
			size_t k = e ? (size_t)(e - p) : strlen(p);
			listed = k == sl && memcmp(p, f->scope, sl) == 0;
			p += k + (e ? 2 : 0);
		}
		if (!listed && hl + sl + 8 < sizeof(l->held))
			snprintf(l->held + hl, sizeof(l->held) - hl, "%s%s",
				 hl ? ", " : "", f->scope);
		return 0;
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->v, nc * sizeof(*l->v));
		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = nc;
	}
	l->v[l->n++] = *f;
	return 0;
}

struct fork_ctx {
	struct bundle_writer *w;
	const char *prefix;
	struct store_txn *t;
	uint64_t n;
	const struct scopemap *map; /* as feed_collect matches the prefix */
	/* the feeds the bundle carries, when cut for a recipient: a fork
	 * of another goes along no more than its entries do (NULL: any) */
	const struct log_feed *feeds;
	size_t nfeeds;
};

static int fork_write(void *ctx, const struct log_fork *f)
{
	struct fork_ctx *c = ctx;
	struct log_feed feed;
	int r, carried = !c->feeds;
	if ((r = log_feed_get(c->t, f->feed, &feed)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	if (c->prefix && !scopemap_reads(c->map, feed.scope, c->prefix))
		return 0;
	for (size_t i = 0; !carried && i < c->nfeeds; i++)
		carried = memcmp(c->feeds[i].key, f->feed, 32) == 0;
	if (!carried)
		return 0;
	if ((r = bundle_writer_add(c->w, f->env, f->env_len, f->sig, NULL, 0)) < 0)
		return r;
	c->n++;
	return 0;
}

/*
 * Fill h for a bundle of n's entries under prefix. When the bundle is made
 * for a recipient, its summary is read into *ret_sum (NULL otherwise) for
 * the caller to free: the header names it so that the recipient can tell
 * the bundle was cut for it.
 */
static int create_header(struct node *n, const struct bundle_create_opts *o,
			 const char *prefix, struct bundle_header *h,
			 struct summary **ret_sum, char *why, size_t whylen)
{
	struct summary *sum = NULL;
	int r;

	memset(h, 0, sizeof(*h));
	memcpy(h->network_id, n->net.id, 32);
	memcpy(h->creator, n->pk, 32);
	h->created_hlc = hlc_wall_ms() << HLC_COUNTER_BITS;
	snprintf(h->scope, sizeof(h->scope), "%s", prefix ? prefix : "");
	if (o && o->for_summary) {
		if ((r = summary_read(o->for_summary, &sum, why, whylen)) < 0)
			return r;
		if (memcmp(sum->network_id, n->net.id, 32) != 0) {
			/* two networks may share a name: their ids tell */
			char theirs[9], ours[9];
			hex_encode(sum->network_id, 4, theirs);
			hex_encode(n->net.id, 4, ours);
			why_set(why, whylen,
				 N_("summary %s is from another network (id %s…); this node is on %s (id %s…)"),
				 o->for_summary, theirs, n->net.name, ours);
			summary_free(sum);
			return HAMLET_ENETWORK;
		}
		h->has_for = 1;
		memcpy(h->for_node, sum->node, 32);
		memcpy(h->for_summary, sum->file_hash, 32);
	}
	*ret_sum = sum;
	return 0;
}

/*
 * The first seq of feed f to write: 1 without a summary, else the one
 * after the recipient's head. The recipient's head must be our entry at
 * that seq; if not, one of the two is a fork and ours goes along as
 * evidence.
 */
static int feed_first_seq(struct store_txn *t, const struct log_feed *f,
			  const struct summary *sum, uint64_t *ret_from)
{
	const struct summary_feed *sf;
	uint64_t from = 1;
	int r;

	if (sum) {
		sf = summary_find(sum, f->key);
		from = sf ? sf->seq + 1 : 1;
		if (sf && sf->seq >= 1 && sf->seq <= f->seq) {
			const uint8_t *env, *sig;
			size_t el;
			uint8_t id[32], eb[ENTRY_MAX_ENVELOPE];
			if ((r = log_entry_get(t, f->key, sf->seq, eb, &env,
					       &el, &sig)) < 0)
				return r;
			entry_id(env, el, id);
			if (memcmp(id, sf->head, 32) != 0)
				from = sf->seq;
		}
	}
	*ret_from = from;
	return 0;
}

/* Write feed f's entries from seq from to its head, with their bodies,
 * in run frames of BUNDLE_RUN_ENTRIES entries or BUNDLE_RUN_BYTES. */
/* Entries to write in all, for the progress of a create. */
struct create_progress {
	bundle_progress_fn fn; /* NULL: none */
	void *ctx;
	uint64_t total;
	bundle_carried_fn carried; /* NULL: none */
	void *carried_ctx;
};

static int feed_write(struct bundle_writer *w, struct store_txn *t,
		      const struct log_feed *f, uint64_t from, const char *path,
		      struct bundle_create_result *res,
		      const struct create_progress *cp, char *why,
		      size_t whylen)
{
	struct run_entry v[BUNDLE_RUN_ENTRIES];
	struct bodyz_buf zb[BUNDLE_RUN_ENTRIES] = { { 0 } };
	size_t n = 0, bytes = 0;
	int r = 0;

	for (uint64_t seq = from; seq <= f->seq; seq++) {
		struct run_entry *x = &v[n];
		struct log_entry_full full;
		if ((r = log_entry_read(t, f->key, seq, &zb[n], &full)) == 0 &&
		    full.body_damaged)
			r = HAMLET_ECORRUPT;
		if (r == 0 && full.body) {
			/* a body altered on the disk is never sent on: the
			 * receiver would refuse it, and hold the feed after */
			struct entry e;
			uint8_t bh[32];
			entry_body_hash(full.body, full.body_len, bh);
			if (entry_decode(full.env, full.env_len, &e, NULL) < 0 ||
			    !e.has_body || memcmp(bh, e.body_hash, 32) != 0)
				r = HAMLET_ECORRUPT;
			else if (cp->carried)
				cp->carried(cp->carried_ctx, e.collection,
					    e.record_id);
		}
		if (r < 0) {
			why_set(why, whylen,
				 N_("the store is damaged at feed %s seq %llu: %s (run hamlet verify)"),
				 f->scope, (unsigned long long)seq,
				 why_translate(hamlet_strerror(r)));
			goto out;
		}
		x->env = full.env;
		x->env_len = full.env_len;
		x->sig = full.sig;
		x->body = full.body;
		x->body_len = full.body_len;
		res->entries++;
		res->body_bytes += x->body_len;
		bytes += x->env_len + ENTRY_SIG_LEN + x->body_len;
		if (++n < BUNDLE_RUN_ENTRIES && bytes < BUNDLE_RUN_BYTES &&
		    seq < f->seq)
			continue;
		if ((r = bundle_writer_add_run(w, v, n, &res->runs)) < 0) {
			why_set(why, whylen, N_("cannot write %s: %s"), path,
				 why_translate(hamlet_strerror(r)));
			goto out;
		}
		n = 0;
		bytes = 0;
		if (cp->fn)
			cp->fn(cp->ctx, res->entries, cp->total);
	}
	if (from <= f->seq)
		res->feeds++;
	r = 0;
out:
	for (size_t i = 0; i < BUNDLE_RUN_ENTRIES; i++)
		bodyz_buf_free(&zb[i]);
	return r;
}

struct trust_write {
	struct bundle_writer *w;
	uint64_t n;
	/* the recipient's certificates, when known (nl > 0): a fork proof
	 * of a feed none of them reads is left out, as the feed is */
	const struct cert *leaves;
	size_t nl;
	const struct scopemap *map;
	/* the recipient's summary (NULL: none), and the items written
	 * that it says its node lacks */
	const struct summary *sum;
	uint64_t fresh;
};

static int trust_write_cb(void *ctx, int kind, const uint8_t id[32],
			  const uint8_t *data, size_t len)
{
	struct trust_write *tw = ctx;
	size_t unread = 0;
	for (size_t i = 0; i < tw->nl; i++)
		unread += (size_t)trustset_proof_unread(tw->map, &tw->leaves[i],
							kind, data, len);
	if (tw->nl && unread == tw->nl)
		return 0;
	if (tw->sum) {
		/* new to the recipient? (this node's own chain comes
		 * without its id) */
		uint8_t key[TRUST_KEY_LEN];
		int r = 0;
		key[0] = (uint8_t)kind;
		if (id)
			memcpy(key + 1, id, 32);
		else
			r = trust_item_key(kind, data, len, key, NULL, 0);
		if (r == -ENOMEM)
			return r;
		if (r < 0 || summary_has_trust(tw->sum, key) == 0)
			tw->fresh++;
	}
	tw->n++;
	return bundle_writer_add_trust(tw->w, kind, data, len);
}

/*
 * This node's own chain (node.cert) when its trust set lacks a
 * certificate of it: one installed since the store was last opened for
 * writing (after entries of its own were written uncertified, say). The
 * importer judges our entries by it. Nothing when the node has none, or
 * none valid now.
 */
static int own_chain_write(const struct node *n, struct trust_write *tw)
{
	struct cert_chain *ch = malloc(sizeof(*ch));
	uint8_t *buf = NULL;
	size_t len = 0;
	char why[1024];
	int r;

	if (!ch)
		return -ENOMEM;
	r = node_cert_load(n, hlc_wall_ms(), ch, &buf, &len, why, sizeof(why));
	if (r < 0) {
		r = 0; /* no chain, or none valid: the trust set's alone */
		goto out;
	}
	if ((r = node_chain_known(n, buf, len)) != 0) {
		r = r < 0 ? r : 0;
		goto out;
	}
	for (size_t i = 0; i < ch->n && r == 0; i++)
		r = trust_write_cb(tw, TRUST_CERT, NULL, buf + ch->off[i],
				   ch->len[i]);
out:
	free(buf);
	free(ch);
	return r;
}

/* The summary's own chain, when it holds for its node now and none of it
 * is revoked: 1 with *ret its leaf. */
static int summary_leaf(struct store_txn *t, const struct summary *sum,
			struct cert *ret)
{
	struct cert_chain *ch = malloc(sizeof(*ch));
	uint8_t root[32];
	char why[200];
	int r;

	if (!ch)
		return -ENOMEM;
	if ((r = trustset_root_get(t, root)) < 0)
		goto out;
	r = 0;
	if (cert_chain_decode(sum->certs, sum->certs_len, ch) < 0 ||
	    memcmp(ch->c[0].subject, sum->node, 32) != 0 ||
	    cert_chain_check(ch, sum->network_id, root, hlc_wall_ms(), why,
			     sizeof(why)) < 0)
		goto out;
	if ((r = trustset_revoked(t, sum->node, ch, why, sizeof(why))) < 0) {
		if (r == HAMLET_EREVOKED)
			r = 0;
		goto out;
	}
	*ret = ch->c[0];
	r = 1;
out:
	free(ch);
	return r;
}

/* A trustset_cb that notes an item in *(int *)ctx and stops. */
static int any_item(void *ctx, int kind, const uint8_t id[32],
		    const uint8_t *data, size_t len)
{
	(void)kind, (void)id, (void)data, (void)len;
	*(int *)ctx = 1;
	return 1;
}

/*
 * Keep only the feeds node (the summary's, or the key sealed to) may
 * read, by the certificates of that node in our trust set valid now (and
 * the summary's own chain), which go into leaves (room for 4; *ret_nl of
 * them, 0 when none is known). With a summary, a node with none is refused;
 * sealed to a key alone, the feeds stay as they are and *ret_unknown
 * says that no certificate of it is known here (a revoked node is
 * refused either way).
 */
static int feeds_readable(struct store_txn *t, const uint8_t node[32],
			  const struct summary *sum, struct feedlist *fl,
			  struct cert *leaves, size_t *ret_nl,
			  int *ret_unknown, char *why, size_t whylen)
{
	struct scopemap *sm = NULL;
	size_t nl = 0, k = 0;
	int r, known = 0;

	*ret_unknown = 0;
	*ret_nl = 0;
	if ((r = trustset_valid_leaves(t, node, hlc_wall_ms(), leaves, 3,
				       &nl)) < 0)
		goto out;
	if (r == 1) { /* the store judges nothing: no root */
		r = 0;
		goto out;
	}
	if (sum && sum->certs_len &&
	    (r = summary_leaf(t, sum, &leaves[nl])) < 0)
		goto out;
	nl += sum && r == 1;
	if (nl == 0) {
		char hex[65], rw[200];
		hex_encode(node, 32, hex);
		r = HAMLET_ECERT;
		if (trustset_revoked(t, node, NULL, rw, sizeof(rw)) ==
		    HAMLET_EREVOKED)
			why_set(why, whylen,
				 sum ? N_("the summary's node %s is revoked here: no bundle is made for it")
				     : N_("the node %s is revoked here: no bundle is sealed to it"),
				 hex);
		else if (sum)
			why_set(why, whylen,
				 N_("the summary's node %s holds no valid certificate known here: a bundle for it would carry what it may not read"),
				 hex);
		else if ((r = trustset_each_subject(t, node, TRUST_CERT,
						    any_item, &known)) < 0)
			goto out;
		else if (known)
			/* known, but expired or under a revoked issuer: what
			 * it may read is nothing now */
			why_set(why, whylen,
				 N_("the node %s holds no certificate valid now (expired, or its issuer revoked): no bundle is sealed to it; certify it again first"),
				 hex), r = HAMLET_ECERT;
		else
			*ret_unknown = 1, r = 0;
		goto out;
	}
	/* read grants through the scope moves (scopemap.h) */
	if ((r = scopemap_load(t, &sm)) < 0)
		goto out;
	for (size_t i = 0; i < fl->n; i++) {
		int ok = 0;
		for (size_t j = 0; j < nl && !ok; j++)
			ok = scopemap_may_read(sm, &leaves[j], fl->v[i].scope);
		if (ok)
			fl->v[k++] = fl->v[i];
	}
	fl->n = k;
	*ret_nl = nl;
	r = 0;
out:
	scopemap_free(sm);
	return r;
}

/* Whom the bundle is sealed to (*ret NULL: nobody): o->seal_to, else
 * the summary's node unless o->unsealed. */
static int create_seal_to(const struct bundle_create_opts *o,
			  const struct summary *sum, const uint8_t **ret,
			  char *why, size_t whylen)
{
	*ret = NULL;
	if (o && o->seal_to) {
		if (sum && memcmp(o->seal_to, sum->node, 32) != 0) {
			char a[65], b[65];
			hex_encode(o->seal_to, 32, a);
			hex_encode(sum->node, 32, b);
			why_set(why, whylen,
				 N_("the key to seal to (%s) is not the summary's node (%s): a bundle cut for one node would be readable only by another"),
				 a, b);
			return HAMLET_EKEY;
		}
		*ret = o->seal_to;
	} else if (sum && !o->unsealed) {
		*ret = sum->node;
	}
	return 0;
}

/* The name of the node key: from our trust set, else from the chain
 * the summary carries when the key is its node's. */
static void sealed_name(struct node *n, const struct summary *sum,
			const uint8_t key[32], char *out, size_t outlen)
{
	struct cert_chain *ch;

	bundle_node_name(n, key, out, outlen);
	if (out[0] || !sum || !sum->certs_len ||
	    memcmp(sum->node, key, 32) != 0 || !(ch = malloc(sizeof(*ch))))
		return;
	if (cert_chain_decode(sum->certs, sum->certs_len, ch) == 0 &&
	    memcmp(ch->c[0].subject, key, 32) == 0)
		snprintf(out, outlen, "%s", ch->c[0].name);
	free(ch);
}

/* --- the creator's own feeds in the summary ------------------------------ */

struct own_scopes {
	struct store_txn *t;
	char (*v)[ENTRY_MAX_SCOPE + 1];
	size_t n, cap;
};

static int own_scope_add(struct own_scopes *s, const char *scope)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 16;
		void *p = realloc(s->v, nc * sizeof(*s->v));
		if (!p)
			return -ENOMEM;
		s->v = p;
		s->cap = nc;
	}
	snprintf(s->v[s->n++], sizeof(*s->v), "%s", scope);
	return 0;
}

/* heads_author_feeds(): the scope of each feed the store holds of n. */
static int own_scope_held(void *ctx, const uint8_t key[32])
{
	struct own_scopes *s = ctx;
	struct log_feed lf;
	int r = log_feed_get(s->t, key, &lf);

	if (r == HAMLET_ENOTFOUND)
		return 0;
	return r < 0 ? r : own_scope_add(s, lf.scope);
}

static int scope_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * Each of n's own feeds of which sum holds more than n's store, or
 * another entry at a seq the store holds, into res: a store put back
 * from a backup, whose next write would sign a seq the recipient holds
 * (a fork of n's feed), or has done so. n's own feeds are those its
 * store holds, its own scope's, and those own-feeds records (a feed the
 * store lost whole). A summary names feeds by key alone, so a feed in
 * none of these scopes is not found.
 */
static int own_feeds_check(struct node *n, const struct summary *sum,
			   struct bundle_create_result *res)
{
	struct own_scopes s = { 0 };
	struct node_feed_lag *rec = NULL;
	size_t nrec = 0;
	int r;

	/* before the transaction below: node_feeds_list() reads the store
	 * in one of its own */
	if ((r = node_feeds_list(n, NULL, 0, &nrec)) < 0 ||
	    (nrec && !(rec = calloc(nrec, sizeof(*rec)))) ||
	    (nrec && (r = node_feeds_list(n, rec, nrec, &nrec)) < 0)) {
		r = r < 0 ? r : -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nrec; i++)
		if ((r = own_scope_add(&s, rec[i].scope)) < 0)
			goto out;
	if (n->scope[0] && (r = own_scope_add(&s, n->scope)) < 0)
		goto out;
	if ((r = store_txn_begin(n->st, 1, &s.t)) < 0)
		goto out;
	if ((r = heads_author_feeds(s.t, n->pk, own_scope_held, &s)) < 0)
		goto out;
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), scope_cmp);
	for (size_t i = 0; i < s.n; i++) {
		const struct summary_feed *sf;
		struct bundle_own_feed o = { 0 };
		struct log_feed lf;
		uint8_t key[32];

		if (i && strcmp(s.v[i], s.v[i - 1]) == 0)
			continue; /* sorted: each scope once */
		log_feed_key(n->pk, s.v[i], key);
		if (!(sf = summary_find(sum, key)) || sf->seq == 0)
			continue;
		r = log_feed_get(s.t, key, &lf);
		if (r < 0 && r != HAMLET_ENOTFOUND)
			goto out;
		o.stored = r == 0 ? lf.seq : 0;
		o.theirs = sf->seq;
		if (sf->seq <= o.stored) {
			const uint8_t *env, *sig;
			size_t el;
			uint8_t id[32], eb[ENTRY_MAX_ENVELOPE];
			if ((r = log_entry_get(s.t, key, sf->seq, eb, &env,
					       &el, &sig)) < 0)
				goto out;
			entry_id(env, el, id);
			if (memcmp(id, sf->head, 32) == 0)
				continue; /* it holds what this store does */
			o.forked = 1;
		}
		snprintf(o.scope, sizeof(o.scope), "%s", s.v[i]);
		if (res->own_n < BUNDLE_OWN_SHOWN)
			res->own[res->own_n] = o;
		res->own_n++;
	}
	r = 0;
out:
	store_txn_abort(s.t);
	free(s.v);
	free(rec);
	return r;
}

/* The scopes the recipient's certificates read, each once, "a, b" (cut
 * at a whole scope within cap). */
static void reads_join(const struct cert *c, size_t nc, char *out,
		       size_t cap)
{
	size_t used = 0;

	out[0] = 0;
	for (size_t i = 0; i < nc; i++)
		for (size_t k = 0; k < c[i].nread; k++) {
			const char *s = c[i].read[k];
			int seen = 0, w;
			for (size_t j = 0; j <= i && !seen; j++)
				for (size_t m = 0;
				     m < (j < i ? c[j].nread : k) && !seen; m++)
					seen = strcmp(c[j].read[m], s) == 0;
			if (seen || !s[0])
				continue;
			w = snprintf(out + used, cap - used, "%s%s",
				     used ? ", " : "", s);
			if (w < 0 || (size_t)w >= cap - used) {
				out[used] = 0;
				return;
			}
			used += (size_t)w;
		}
}

int bundle_create(struct node *n, const char *path,
		  const struct bundle_create_opts *o,
		  struct bundle_create_result *ret, char *why, size_t whylen)
{
	struct bundle_header h;
	struct bundle_writer *w = NULL;
	struct summary *sum = NULL;
	struct store_txn *t = NULL;
	struct feedlist fl = { 0 };
	struct bundle_create_result res = { 0 };
	struct create_progress cp = { o ? o->progress : NULL,
				      o ? o->progress_ctx : NULL, 0,
				      o ? o->carried : NULL,
				      o ? o->carried_ctx : NULL };
	const char *prefix = o && o->scope_prefix && o->scope_prefix[0]
				     ? o->scope_prefix
				     : NULL;
	const uint8_t *seal_to = NULL;
	struct cert *leaves = NULL; /* the recipient's, nl of them */
	size_t nl = 0;
	int r;

	why[0] = 0;
	if (sodium_is_zero(n->sk, 64)) {
		why_set(why, whylen,
			 N_("this node's secret key is not available; a bundle must be signed by its creator"));
		return HAMLET_EKEY;
	}
	if (prefix && entry_scope_check(prefix) < 0) {
		why_set(why, whylen, N_("invalid scope prefix \"%s\""), prefix);
		return HAMLET_ESCOPE;
	}
	if ((r = create_header(n, o, prefix, &h, &sum, why, whylen)) < 0)
		goto out;
	if ((r = create_seal_to(o, sum, &seal_to, why, whylen)) < 0)
		goto out;
	if (sum && (r = own_feeds_check(n, sum, &res)) < 0) {
		why_set(why, whylen,
			 N_("cannot read this node's own feeds in its store: %s"),
			 why_translate(hamlet_strerror(r)));
		goto out;
	}
	if ((r = store_txn_begin(n->st, 1, &t)) < 0)
		goto out;
	fl.prefix = prefix;
	fl.map = n->smap;
	if ((r = log_feeds_each(t, feed_collect, &fl)) < 0)
		goto out;
	if (prefix && fl.n == 0) {
		/* a typo in the scope would carry a stick of certificates
		 * only: the caller says so (a bundle of the trust set alone,
		 * --scope naming no feed, is a use of its own) */
		res.scope_empty = 1;
		snprintf(res.held, sizeof(res.held), "%s", fl.held);
	}
	if (sum || seal_to) {
		size_t before = fl.n;
		if (!(leaves = malloc(4 * sizeof(*leaves)))) {
			r = -ENOMEM;
			goto out;
		}
		if ((r = feeds_readable(t, sum ? sum->node : seal_to, sum,
					&fl, leaves, &nl,
					&res.recipient_unknown, why,
					whylen)) < 0)
			goto out;
		res.feeds_left_out = before - fl.n;
		res.nothing_readable = before > 0 && fl.n == 0;
		if (res.nothing_readable)
			reads_join(leaves, nl, res.reads, sizeof(res.reads));
	}
	if ((r = bundle_writer_open_sealed(path, &h, seal_to, &w)) < 0) {
		char hex[65];
		if (r == HAMLET_EKEY) {
			hex_encode(seal_to, 32, hex);
			why_set(why, whylen,
				 N_("cannot seal to %s: it is not a valid node key"),
				 hex);
		} else if (r == -ENODEV || r == -EISDIR) {
			why_set(why, whylen,
				 N_("cannot write %s: it is a directory or a device, not a file; name the bundle's file"),
				 path);
		} else if (r == -EEXIST) {
			why_set(why, whylen,
				 N_("%s exists and is not a hamlet bundle, so it is not replaced: name another file, or move that one away first"),
				 path);
		} else {
			why_set(why, whylen, N_("cannot write %s: %s"), path,
				 why_translate(hamlet_strerror(r)));
		}
		goto out;
	}
	if ((res.sealed = seal_to != NULL)) {
		memcpy(res.sealed_to, seal_to, 32);
		sealed_name(n, sum, seal_to, res.sealed_name,
			    sizeof(res.sealed_name));
	}
	{
		/* the trust set first: it judges the entries after it */
		struct trust_write tw = { w, 0, leaves, nl, n->smap, sum, 0 };
		if ((r = trustset_each(t, 0, trust_write_cb, &tw)) < 0 ||
		    (r = own_chain_write(n, &tw)) < 0) {
			why_set(why, whylen, N_("cannot write %s: %s"), path,
				 why_translate(hamlet_strerror(r)));
			goto out;
		}
		res.trust_items = tw.n;
		res.trust_new = tw.fresh;
		res.trust_unknown = !sum;
		res.for_self = sum && memcmp(sum->node, n->pk, 32) == 0;
	}
	for (size_t i = 0; o && o->progress && i < fl.n; i++) {
		uint64_t from;
		if ((r = feed_first_seq(t, &fl.v[i], sum, &from)) < 0)
			goto out;
		cp.total += from <= fl.v[i].seq ? fl.v[i].seq - from + 1 : 0;
	}
	for (size_t i = 0; i < fl.n; i++) {
		uint64_t from;
		if ((r = feed_first_seq(t, &fl.v[i], sum, &from)) < 0 ||
		    (r = feed_write(w, t, &fl.v[i], from, path, &res, &cp, why,
				    whylen)) < 0)
			goto out;
	}
	{
		struct fork_ctx fc = { w, prefix, t, 0, n->smap,
				       sum || seal_to ? fl.v : NULL, fl.n };
		if ((r = log_forks_each(t, fork_write, &fc)) < 0)
			goto out;
		res.entries += fc.n;
	}
	store_txn_abort(t);
	t = NULL;
	res.bytes = bundle_writer_bytes(w);
	r = bundle_writer_finish(w, n->sk);
	w = NULL;
	if (r < 0) {
		why_set(why, whylen, N_("cannot finish %s: %s"), path,
			 why_translate(hamlet_strerror(r)));
		goto out;
	}
	{
		/* the file as finished: its signature and last frame too */
		struct stat sb;
		if (stat(path, &sb) == 0)
			res.bytes = (uint64_t)sb.st_size;
	}
	if (ret)
		*ret = res;
	r = 0;
out:
	bundle_writer_free(w);
	store_txn_abort(t);
	summary_free(sum);
	free(fl.v);
	free(leaves);
	return r;
}
