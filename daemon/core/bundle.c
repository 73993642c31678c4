#include "bundle.h"
#include "why.h"

#include "error.h"
#include "heard.h"
#include "hlc.h"
#include "scopemap.h"
#include "seal.h"
#include "summary.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH 4096
#define TRUST_BATCH 256

const char *bundle_trailer_state_text(int s)
{
	switch (s) {
	case BUNDLE_TRAILER_OK: return N_("signed trailer verifies");
	case BUNDLE_TRAILER_MISSING: return N_("no trailer: the file is cut short");
	case BUNDLE_TRAILER_BAD_HASH: return N_("trailer hash does not match the content: the file was altered");
	case BUNDLE_TRAILER_BAD_SIG: return N_("trailer signature does not verify");
	case BUNDLE_TRAILER_BAD_COUNT: return N_("trailer entry count does not match the entries in the file");
	default: return "?";
	}
}

void bundle_report_close(struct bundle_report *rep)
{
	if (rep)
		problems_close(&rep->problems);
}

/* --- creating ---------------------------------------------------------- */

struct feedlist {
	struct log_feed *v;
	size_t n, cap;
	const char *prefix;
	const struct scopemap *map; /* a prefix matches through scope moves */
	char held[256]; /* the prefix matches nothing: the scopes held */
};

static int feed_collect(void *ctx, const struct log_feed *f)
{
	struct feedlist *l = ctx;
	if (l->prefix && !scopemap_under(l->map, f->scope, l->prefix)) {
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
	if (c->prefix && !scopemap_under(c->map, feed.scope, c->prefix))
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
			why_set(why, whylen,
				 N_("summary %s is from another network; this node is on %s"),
				 o->for_summary, n->net.name);
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
		}
		if (r < 0) {
			why_set(why, whylen,
				 N_("the store is damaged at feed %s seq %llu: %s (run hamlet verify)"),
				 f->scope, (unsigned long long)seq,
				 hamlet_strerror(r));
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
				 hamlet_strerror(r));
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
};

static int trust_write_cb(void *ctx, int kind, const uint8_t id[32],
			  const uint8_t *data, size_t len)
{
	struct trust_write *tw = ctx;
	(void)id;
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
	char why[300];
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
 * the summary's own chain). With a summary, a node with none is refused;
 * sealed to a key alone, the feeds stay as they are and *ret_unknown
 * says that no certificate of it is known here (a revoked node is
 * refused either way).
 */
static int feeds_readable(struct store_txn *t, const uint8_t node[32],
			  const struct summary *sum, struct feedlist *fl,
			  int *ret_unknown, char *why, size_t whylen)
{
	struct cert *leaves = malloc(4 * sizeof(*leaves));
	struct scopemap *sm = NULL;
	size_t nl = 0, k = 0;
	int r, known = 0;

	*ret_unknown = 0;
	if (!leaves)
		return -ENOMEM;
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
	r = 0;
out:
	scopemap_free(sm);
	free(leaves);
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
				      o ? o->progress_ctx : NULL, 0 };
	const char *prefix = o && o->scope_prefix && o->scope_prefix[0]
				     ? o->scope_prefix
				     : NULL;
	const uint8_t *seal_to = NULL;
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
		if ((r = feeds_readable(t, sum ? sum->node : seal_to, sum,
					&fl, &res.recipient_unknown, why,
					whylen)) < 0)
			goto out;
		res.feeds_left_out = before - fl.n;
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
				 hamlet_strerror(r));
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
		struct trust_write tw = { w, 0 };
		if ((r = trustset_each(t, 0, trust_write_cb, &tw)) < 0 ||
		    (r = own_chain_write(n, &tw)) < 0) {
			why_set(why, whylen, N_("cannot write %s: %s"), path,
				 hamlet_strerror(r));
			goto out;
		}
		res.trust_items = tw.n;
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
			 hamlet_strerror(r));
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
	return r;
}

/* --- reading ----------------------------------------------------------- */

struct walk;
typedef int (*walk_batch_cb)(struct walk *wk, const struct log_in *in,
			     const size_t *offs, size_t n);
typedef int (*walk_trust_cb)(struct walk *wk,
			     const struct trustset_item *items,
			     const size_t *offs, size_t n);

struct walk {
	struct bundle_report *rep;
	const uint8_t *network_id; /* may be NULL */
	walk_batch_cb batch;
	void *ctx;
	char *why;
	size_t whylen;
	walk_trust_cb trust; /* NULL: trust frames are only checked */
	const uint8_t *sk;   /* opens a bundle sealed to it; may be NULL */
	struct node *names;  /* names nodes by its trust set; may be NULL */
	bundle_progress_fn progress; /* NULL: none */
	void *progress_ctx;
	/* a sealed file's frames as opened: offsets in its plaintext are
	 * named by where they lie in the file (walk_at); NULL: not sealed */
	const struct seal_opened *sealed;
};

/* Where the byte at off of the bundle walked lies in the file: off,
 * unless the file is sealed. Only for what is reported: the reader goes
 * on by offsets in what it reads. */
static size_t walk_at(const struct walk *wk, size_t off)
{
	return wk->sealed ? seal_opened_file_offset(wk->sealed, off) : off;
}

/* The bytes walked: the file mapped, or a sealed file's plain bundle. */
struct walk_buf {
	uint8_t *map;
	size_t map_len;
	struct seal_opened opened;
	const uint8_t *p;
	size_t len;
};

static void walk_buf_close(struct walk_buf *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	seal_opened_close(&b->opened);
}

static void short_hex(const uint8_t *p, char out[17])
{
	sodium_bin2hex(out, 17, p, 8);
}

/* 1 when the file ends in a trailer whose hash and signature by creator
 * cover everything before it: the header can then be believed. */
static int trailer_valid(const uint8_t *map, size_t len,
			 const uint8_t creator[32])
{
	struct bundle_reader rd;
	struct bundle_frame fr, last = { 0 };
	struct bundle_trailer tr;
	uint8_t hash[32];
	size_t bad;
	int r, have = 0;
	if (bundle_reader_init(&rd, map, len) < 0)
		return 0;
	while ((r = bundle_reader_next(&rd, &fr, &bad)) != 0) {
		if (r < 0)
			return 0;
		if (fr.type == BUNDLE_FRAME_TRAILER) {
			last = fr;
			have = 1;
		}
	}
	if (!have || bundle_trailer_parse(last.payload, last.len, &tr) < 0)
		return 0;
	crypto_generichash_blake2b(hash, 32, map, last.offset, NULL, 0);
	return memcmp(hash, tr.content_hash, 32) == 0 &&
	       bundle_trailer_verify(&tr, creator) == 0;
}

static int name_cb(void *ctx, int kind, const uint8_t id[32],
		   const uint8_t *data, size_t len)
{
	struct cert c;
	(void)kind;
	(void)id;
	if (cert_decode(data, len, &c, NULL) < 0)
		return 0;
	memcpy(ctx, &c, sizeof(c));
	return 1;
}

void bundle_node_name(struct node *n, const uint8_t key[32], char *out,
		      size_t outlen)
{
	struct store_txn *t;
	struct cert c;

	out[0] = 0;
	c.name[0] = 0;
	if (!n || store_txn_begin(n->st, 1, &t) < 0)
		return;
	(void)trustset_each_subject(t, key, TRUST_CERT, name_cb, &c);
	store_txn_abort(t);
	snprintf(out, outlen, "%s", c.name);
}

static void seal_problem(void *ctx, size_t offset, const char *text)
{
	(void)offset;
	problems_add(&((struct bundle_report *)ctx)->problems, "damaged",
		     "%s", text);
}

/*
 * A sealed file: the report says for whom; open it with wk->sk into
 * b->opened, the plain bundle then walked. Refused whole (why says so)
 * when it is for another node or cannot be opened at all.
 */
static int walk_unseal(const char *path, struct walk *wk, struct walk_buf *b)
{
	struct bundle_report *rep = wk->rep;
	struct seal_header h;
	char hex[65], name[80] = "", mine[65];
	int r;

	if ((r = seal_header_parse(b->map, b->map_len, &h)) < 0) {
		if (r == HAMLET_EVERSION) {
			why_set(wk->why, wk->whylen,
				 N_("%s is a sealed bundle of a version this hamlet does not read; nothing in it can be read"),
				 path);
		} else {
			/* damage, as a plain bundle's header would be */
			rep->damaged_frames++;
			why_set(wk->why, wk->whylen,
				 N_("%s is a sealed bundle whose header is damaged or cut short: it cannot be opened, and nothing in it can be read"),
				 path);
		}
		return r;
	}
	rep->sealed = 1;
	memcpy(rep->sealed_to, h.recipient, 32);
	hex_encode(h.recipient, 32, hex);
	bundle_node_name(wk->names, h.recipient, rep->sealed_name,
			 sizeof(rep->sealed_name));
	snprintf(name + 3, sizeof(name) - 5, "%s", rep->sealed_name);
	if (name[3]) {
		memcpy(name, " (\"", 3);
		strcat(name, "\")");
	}
	if (!wk->sk || sodium_is_zero(wk->sk, 64)) {
		why_set(wk->why, wk->whylen,
			 N_("%s is sealed for node %s%s; it opens only with that node's key, and none is at hand here%s"),
			 path, hex, name,
			 wk->sk ? " (this node's node.key cannot be read)" : "");
		return HAMLET_EKEY;
	}
	r = seal_open(b->map, b->map_len, wk->sk, BUNDLE_MAGIC,
		      BUNDLE_MAGIC_LEN, seal_problem, rep, &b->opened);
	if (r == HAMLET_EKEY) {
		hex_encode(wk->sk + 32, 32, mine);
		/* only an import (which hands on trust items) imports */
		if (wk->trust)
			why_set(wk->why, wk->whylen,
				 N_("%s is sealed for another node, %s%s; this node (%s) cannot read it: nothing imported. Carry it to that node"),
				 path, hex, name, mine);
		else
			why_set(wk->why, wk->whylen,
				 N_("%s is sealed for another node, %s%s; this node (%s) cannot read it. Carry it to that node"),
				 path, hex, name, mine);
		return r;
	}
	if (r < 0) {
		why_set(wk->why, wk->whylen,
			 N_("%s is sealed for this node but its file key does not open (%s): the header was altered, nothing imported"),
			 path, hamlet_strerror(r));
		return r;
	}
	rep->sealed_frames = b->opened.frames;
	rep->damaged_frames += b->opened.damaged;
	wk->sealed = &b->opened;
	b->p = b->opened.plain;
	b->len = b->opened.len;
	return 0;
}

/*
 * Map path and start reading its frames (a sealed file's once opened);
 * the caller closes b. The report has the file's size even when it turns
 * out to be no bundle.
 */
static int walk_open(const char *path, struct walk *wk,
		     struct bundle_reader *rd, struct walk_buf *b)
{
	uint8_t *map = MAP_FAILED;
	struct stat sb;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) != 0) {
		r = errno == ENOENT ? -ENOENT : -errno;
		why_set(wk->why, wk->whylen, N_("cannot read %s: %s"), path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (S_ISDIR(sb.st_mode)) {
		/* bad input, as an empty file is: not a fault of the system */
		close(fd);
		why_set(wk->why, wk->whylen,
			 N_("%s is a directory, not a bundle: name the bundle's file in it"),
			 path);
		return HAMLET_EFORMAT;
	}
	wk->rep->bytes = (uint64_t)sb.st_size;
	if (sb.st_size > 0)
		map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd,
			   0);
	close(fd);
	if (map != MAP_FAILED) {
		b->map = map;
		b->map_len = b->len = (size_t)sb.st_size;
		b->p = map;
		if (seal_is_sealed(map, b->map_len) &&
		    (r = walk_unseal(path, wk, b)) < 0)
			return r;
	}
	if (!b->p || bundle_reader_init(rd, b->p, b->len) < 0) {
		if (!b->p && wk->rep->bytes == 0)
			why_set(wk->why, wk->whylen,
				 N_("%s is empty: no hamlet bundle (copy it again from the node that made it)"),
				 path);
		else if (b->len >= 8 && memcmp(b->p, SUMMARY_MAGIC, 8) == 0)
			why_set(wk->why, wk->whylen,
				 N_("%s is a summary, not a bundle: carry it to the node that has the newer data and run there \"hamlet bundle create --for %s OUT\"; bring back OUT and import that"),
				 path, path);
		else
			why_set(wk->why, wk->whylen,
				 N_("%s is not a hamlet bundle"), path);
		return HAMLET_EFORMAT;
	}
	return 0;
}

/*
 * A header frame. Only a bundle for another network ends the walk (<0): a
 * damaged or second header is reported and the walk goes on, since every
 * entry is still checked on its own.
 */
static int walk_header(struct walk *wk, struct bundle_reader *rd,
		       const struct bundle_frame *fr, const uint8_t *map,
		       size_t len)
{
	struct bundle_report *rep = wk->rep;
	struct bundle_header h;
	int r;

	if (rep->has_header || rep->entries) {
		problems_add(&rep->problems, "damaged",
			     N_("second header at byte %zu ignored"),
			     walk_at(wk, fr->offset));
		return 0;
	}
	if ((r = bundle_header_parse(fr->payload, fr->len, &h)) < 0) {
		rep->damaged_frames++;
		problems_add(&rep->problems, "damaged",
			     N_("header is damaged (%s); each entry is still checked on its own"),
			     hamlet_strerror(r));
		bundle_reader_resync_from(rd, fr->offset);
		return 0;
	}
	rep->has_header = 1;
	rep->header = h;
	if (wk->network_id && memcmp(h.network_id, wk->network_id, 32) != 0 &&
	    !trailer_valid(map, len, h.creator)) {
		/* an altered header: every entry still carries and is
		 * checked for its own network */
		rep->damaged_frames++;
		problems_add(&rep->problems, "damaged",
			     N_("header names another network but the bundle's signature does not verify: header damaged"));
	} else if (wk->network_id &&
		   memcmp(h.network_id, wk->network_id, 32) != 0) {
		char a[17], b[17];
		short_hex(h.network_id, a);
		short_hex(wk->network_id, b);
		why_set(wk->why, wk->whylen,
			 N_("bundle is for network %s…, this node is on %s…; nothing imported"),
			 a, b);
		return HAMLET_ENETWORK;
	}
	return 0;
}

/* The trailer frame: whether it covers, signs and counts what came before. */
static void walk_trailer(struct bundle_report *rep,
			 const struct bundle_frame *fr, const uint8_t *map)
{
	struct bundle_trailer tr;
	uint8_t hash[32];
	int r;

	if ((r = bundle_trailer_parse(fr->payload, fr->len, &tr)) < 0) {
		rep->trailer = BUNDLE_TRAILER_BAD_SIG;
		problems_add(&rep->problems, "trailer",
			     N_("trailer is damaged (%s)"), hamlet_strerror(r));
		return;
	}
	rep->trailer_count = tr.count;
	crypto_generichash_blake2b(hash, 32, map, fr->offset, NULL, 0);
	if (memcmp(hash, tr.content_hash, 32) != 0)
		rep->trailer = BUNDLE_TRAILER_BAD_HASH;
	else if (!rep->has_header ||
		 bundle_trailer_verify(&tr, rep->header.creator) < 0)
		rep->trailer = BUNDLE_TRAILER_BAD_SIG;
	else if (tr.count != rep->entries)
		rep->trailer = BUNDLE_TRAILER_BAD_COUNT;
	else
		rep->trailer = BUNDLE_TRAILER_OK;
	if (rep->trailer == BUNDLE_TRAILER_BAD_COUNT)
		problems_add(&rep->problems, "trailer",
			     tr.count > rep->entries
				     ? N_("the trailer counts %llu entries, the file holds %llu, though its hash and signature check out: its creator counted wrongly, or entries it wrote could not be read here")
				     : N_("the trailer counts %llu entries, the file holds %llu, though its hash and signature check out: its creator counted wrongly"),
			     (unsigned long long)tr.count,
			     (unsigned long long)rep->entries);
	else if (rep->trailer != BUNDLE_TRAILER_OK)
		problems_add_text(&rep->problems, "trailer",
				  bundle_trailer_state_text(rep->trailer));
}

/* What the entries of a batch point into: run frames' decompressed
 * bytes and rebuilt envelopes, freed once the batch is handed over. */
struct walk_owned {
	void **v;
	size_t n, cap;
};

static int owned_add(struct walk_owned *o, void *p)
{
	if (!p)
		return 0;
	if (o->n == o->cap) {
		size_t nc = o->cap ? o->cap * 2 : 64;
		void **q = realloc(o->v, nc * sizeof(*q));
		if (!q) {
			free(p);
			return -ENOMEM;
		}
		o->v = q;
		o->cap = nc;
	}
	o->v[o->n++] = p;
	return 0;
}

static void owned_free(struct walk_owned *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->v[i]);
	o->n = 0;
}

/* Hand in[0..*nb) to the walk's batch callback, then free what they
 * pointed into. */
static int walk_flush(struct walk *wk, const struct log_in *in,
		      const size_t *offs, size_t *nb, struct walk_owned *own)
{
	int r = *nb ? wk->batch(wk, in, offs, *nb) : 0;
	*nb = 0;
	owned_free(own);
	return r;
}

/* A run frame: its entries join the batch, or it is reported damaged
 * and the reader resyncs after its start. */
static int walk_run(struct walk *wk, struct bundle_reader *rd,
		    const struct bundle_frame *fr, struct bundle_run *run,
		    struct log_in *in, size_t *offs, size_t *nb,
		    struct walk_owned *own)
{
	struct bundle_report *rep = wk->rep;
	char rwhy[200];
	int r;

	if (*nb + BUNDLE_MAX_RUN_ENTRIES > BATCH &&
	    (r = walk_flush(wk, in, offs, nb, own)) < 0)
		return r;
	if ((r = bundle_run_parse(fr->payload, fr->len, run, rwhy,
				  sizeof(rwhy))) < 0) {
		if (r == -ENOMEM)
			return r;
		rep->damaged_frames++;
		problems_add(&rep->problems, "damaged",
			     N_("run frame at byte %zu is damaged (%s: %s)"),
			     walk_at(wk, fr->offset), hamlet_strerror(r), rwhy);
		bundle_reader_resync_from(rd, fr->offset);
		return 0;
	}
	rep->entries += run->n;
	for (size_t i = 0; i < run->n; i++) {
		const struct run_entry *x = &run->v[i];
		in[*nb] = (struct log_in){ .env = x->env,
					   .env_len = x->env_len,
					   .sig = x->sig,
					   .body = x->body,
					   .body_len = x->body_len,
					   .body_hashed = x->body_hashed };
		offs[(*nb)++] = walk_at(wk, fr->offset);
	}
	r = owned_add(own, run->raw);
	if (owned_add(own, run->envs) < 0)
		r = -ENOMEM;
	run->raw = run->envs = NULL;
	if (r == 0 && *nb == BATCH)
		r = walk_flush(wk, in, offs, nb, own);
	return r;
}

static int walk_file(const char *path, struct walk *wk)
{
	struct bundle_report *rep = wk->rep;
	struct bundle_reader rd;
	struct bundle_frame fr;
	struct log_in *in = NULL;
	size_t *offs = NULL, nb = 0, bad, nt = 0;
	size_t tail_bad = 0; /* 1 + the offset of a damaged last frame */
	struct trustset_item titems[TRUST_BATCH];
	size_t toffs[TRUST_BATCH];
	struct walk_buf buf = { 0 };
	struct walk_owned own = { 0 };
	struct bundle_run *run = NULL;
	const uint8_t *map;
	size_t len;
	int r, seen_trailer = 0;

	memset(rep, 0, sizeof(*rep));
	rep->trailer = BUNDLE_TRAILER_MISSING;
	if ((r = walk_open(path, wk, &rd, &buf)) < 0)
		goto out;
	map = buf.p;
	len = buf.len;
	in = malloc(BATCH * sizeof(*in));
	offs = malloc(BATCH * sizeof(*offs));
	run = malloc(sizeof(*run));
	if (!in || !offs || !run) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		r = bundle_reader_next(&rd, &fr, &bad);
		if (wk->progress)
			wk->progress(wk->progress_ctx, r > 0 ? fr.offset : len,
				     len);
		if (r == 0)
			break;
		if (r < 0) {
			uint32_t declared;
			rep->damaged_frames++;
			if (bundle_reader_cut_at(&rd, bad, &declared)) {
				problems_add(&rep->problems, "damaged",
					     N_("frame at byte %zu is cut short: it declares %u bytes, and the file ends %zu bytes after its start"),
					     walk_at(wk, bad), (unsigned)declared,
					     len - bad);
				tail_bad = 0;
			} else {
				problems_add(&rep->problems, "damaged",
					     N_("damaged frame at byte %zu (%s); skipped to the next frame"),
					     walk_at(wk, bad), hamlet_strerror(r));
				tail_bad = walk_at(wk, bad) + 1;
			}
			continue;
		}
		tail_bad = 0;
		rep->frames++;
		if (seen_trailer) {
			rep->damaged_frames++;
			problems_add(&rep->problems, "damaged",
				     N_("frame after the trailer at byte %zu ignored"),
				     walk_at(wk, fr.offset));
			continue;
		}
		if (fr.type == BUNDLE_FRAME_HEADER) {
			if ((r = walk_header(wk, &rd, &fr, map, len)) < 0)
				goto out;
			continue;
		}
		if (fr.type == BUNDLE_FRAME_TRUST) {
			struct trustset_item *it = &titems[nt];
			uint8_t key[TRUSTSET_KEY];
			char twhy[200];
			rep->trust_items++;
			if ((r = bundle_trust_parse(fr.payload, fr.len, &it->kind,
						    &it->data, &it->len)) < 0 ||
			    (r = trust_item_key(it->kind, it->data, it->len,
						key, twhy, sizeof(twhy))) < 0) {
				rep->damaged_frames++;
				problems_add(&rep->problems, "damaged",
					     N_("trust frame at byte %zu does not check (%s)"),
					     walk_at(wk, fr.offset),
					     hamlet_strerror(r));
				continue;
			}
			toffs[nt++] = walk_at(wk, fr.offset);
			if (nt == TRUST_BATCH && wk->trust) {
				if ((r = wk->trust(wk, titems, toffs, nt)) < 0)
					goto out;
			}
			if (nt == TRUST_BATCH)
				nt = 0;
			continue;
		}
		/* the trust items before anything they judge */
		if (nt && wk->trust && (r = wk->trust(wk, titems, toffs, nt)) < 0)
			goto out;
		nt = 0;
		if (fr.type == BUNDLE_FRAME_TRAILER) {
			/* flush pending entries first: their reports come in order */
			if ((r = walk_flush(wk, in, offs, &nb, &own)) < 0)
				goto out;
			seen_trailer = 1;
			walk_trailer(rep, &fr, map);
			continue;
		}
		if (fr.type == BUNDLE_FRAME_RUN) {
			if ((r = walk_run(wk, &rd, &fr, run, in, offs, &nb,
					  &own)) < 0)
				goto out;
			continue;
		}
		/* an entry */
		struct bundle_entry be;
		rep->entries++;
		if ((r = bundle_entry_parse(fr.payload, fr.len, &be)) < 0) {
			rep->damaged_frames++;
			problems_add(&rep->problems, "damaged",
				     N_("entry frame at byte %zu is damaged (%s)"),
				     walk_at(wk, fr.offset), hamlet_strerror(r));
			/* its length may be what is damaged */
			bundle_reader_resync_from(&rd, fr.offset);
			continue;
		}
		in[nb] = (struct log_in){ .env = be.env,
					  .env_len = be.env_len,
					  .sig = be.sig,
					  .body = be.body,
					  .body_len = be.body_len };
		offs[nb++] = walk_at(wk, fr.offset);
		if (nb == BATCH && (r = walk_flush(wk, in, offs, &nb, &own)) < 0)
			goto out;
	}
	if (nt && wk->trust && (r = wk->trust(wk, titems, toffs, nt)) < 0)
		goto out;
	if ((r = walk_flush(wk, in, offs, &nb, &own)) < 0)
		goto out;
	if (!seen_trailer && tail_bad)
		/* what ends the file does not read: a damaged trailer, as
		 * likely as a cut */
		problems_add(&rep->problems, "trailer",
			     N_("no trailer read: the last frame, at byte %zu, is damaged (it may have been the trailer), or the file is cut short"),
			     tail_bad - 1);
	else if (!seen_trailer)
		problems_add_text(
			&rep->problems, "trailer",
			bundle_trailer_state_text(BUNDLE_TRAILER_MISSING));
	r = 0;
out:
	owned_free(&own);
	free(own.v);
	free(run);
	free(in);
	free(offs);
	walk_buf_close(&buf);
	return r;
}

/*
 * The slot of key in the open-addressing table *ptab of *cap elements of
 * sz bytes, each starting with its 32-byte key (a zero key: an empty
 * slot; keys here are hashes), grown (from first_cap) to keep it at most
 * half full. Returns the element holding key, or an empty one that now
 * does (*ret_new 1, *used counted); NULL when out of memory.
 */
static void *table_slot(void *ptab, size_t *cap, size_t *used, size_t sz,
			size_t first_cap, const uint8_t key[32], int *ret_new)
{
	static const uint8_t zero[32];
	uint8_t **tab = ptab, *e;
	size_t h;

	if ((*used + 1) * 2 > *cap) {
		size_t nc = *cap ? *cap * 2 : first_cap;
		uint8_t *nt = calloc(nc, sz);
		if (!nt)
			return NULL;
		for (size_t i = 0; i < *cap; i++) {
			e = *tab + i * sz;
			if (!memcmp(e, zero, 32))
				continue;
			memcpy(&h, e, sizeof(h));
			for (h %= nc; memcmp(nt + h * sz, zero, 32); h = (h + 1) % nc)
				;
			memcpy(nt + h * sz, e, sz);
		}
		free(*tab);
		*tab = nt;
		*cap = nc;
	}
	memcpy(&h, key, sizeof(h));
	for (h %= *cap; memcmp(e = *tab + h * sz, zero, 32); h = (h + 1) % *cap)
		if (!memcmp(e, key, 32)) {
			*ret_new = 0;
			return e;
		}
	memcpy(e, key, 32);
	(*used)++;
	*ret_new = 1;
	return e;
}

/* --- importing --------------------------------------------------------- */

/* A feed of the bundle: the lowest seq the import stored there itself
 * (0: none yet). In table_slot()'s table, by feed key. */
struct feed_low {
	uint8_t key[32];
	uint64_t lo;
};

struct import_ctx {
	bundle_ingest_fn fn;
	void *fn_ctx;
	struct log_out *out;
	bundle_trust_fn tfn;
	struct feed_low *lows;
	size_t lcap, lused;
};

/*
 * Keep the counts of one entry's fate apart. Storing an entry releases
 * the entries held after it (an earlier, damaged copy of the bundle
 * left them waiting): those count as applied and released. When the
 * bundle's own copy of one of them comes next, it is found stored; but
 * the node did not have it before this import, so it is no duplicate.
 * A feed's entries stand contiguous from seq 1, so any seq above the
 * lowest one this import stored in that feed was not stored before it.
 * 0, or -ENOMEM.
 */
static int import_count(struct import_ctx *c, struct bundle_report *rep,
			const struct log_in *in, const struct log_out *o)
{
	struct feed_low *fl;
	struct entry e;
	uint8_t key[32];
	int isnew;

	if ((o->status != LOG_APPLIED && o->status != LOG_DUPLICATE) ||
	    entry_decode(in->env, in->env_len, &e, NULL) < 0)
		return 0;
	log_feed_key(e.author, e.scope, key);
	if (!(fl = table_slot(&c->lows, &c->lcap, &c->lused, sizeof(*fl), 256,
			      key, &isnew)))
		return -ENOMEM;
	if (o->status == LOG_DUPLICATE) {
		/* a feed not yet met stays in the table with lo 0: no seq
		 * lies above it */
		if (!isnew && fl->lo && e.seq > fl->lo && rep->stats.duplicate)
			rep->stats.duplicate--;
		return 0;
	}
	if (isnew || !fl->lo || e.seq < fl->lo)
		fl->lo = e.seq;
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
			 sub[0] ? sub : hamlet_strerror(r));
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		if (out[i].status == TRUSTSET_ADDED)
			rep->trust_added++;
		else if (out[i].status == TRUSTSET_REFUSED) {
			rep->trust_refused++;
			problems_add(&rep->problems, "trust",
				     N_("%s at byte %zu refused: %s"),
				     trust_kind_name(items[i].kind), offs[i],
				     out[i].why);
		}
	}
	return 0;
}

static void describe(const struct log_in *in, char *buf, size_t n)
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
			 sub[0] ? sub : hamlet_strerror(r));
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
		describe(&in[i], what, sizeof(what));
		if (o->status == LOG_HELD)
			problems_add(&rep->problems, "held",
				     N_("entry at byte %zu, %s: %s"), offs[i], what,
				     why_past(o->why, "held"));
		else if (o->status == LOG_FORK)
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

static int trust_direct(void *ctx, const struct trustset_item *items,
			size_t n, struct trustset_out *out,
			struct log_stats *stats, char *why, size_t whylen)
{
	struct direct *d = ctx;
	int r = log_trust_ingest(d->n->st, d->n->net.id, items, n, out, stats,
				 NULL);
	if (r < 0)
		why_set(why, whylen, "%s", hamlet_strerror(r));
	return r;
}

/* Whether entry in may enter node n, certified by own (NULL: none): 1,
 * or 0 with out filled as refused (scopemap_keep_check(), as hamletd
 * refuses it). An envelope that does not decode is let through:
 * log_ingest refuses it, naming the fault. */
static int local_admit(const struct node *n, const struct cert *own,
		       const struct log_in *in, struct log_out *out)
{
	struct entry e;
	int r;

	memset(out, 0, sizeof(*out));
	if (!own || entry_decode(in->env, in->env_len, &e, NULL) < 0 ||
	    (r = scopemap_keep_check(n->smap, own, &e, out->why,
				     sizeof(out->why))) == 0)
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
	const struct cert *own = NULL;
	char cwhy[300];
	int r;

	if (!ch || !(ok = malloc(m * sizeof(*ok))) ||
	    !(ok_out = malloc(m * sizeof(*ok_out))) ||
	    !(idx = malloc(m * sizeof(*idx)))) {
		r = -ENOMEM;
		goto out;
	}
	/* a node without a certificate valid now reads nothing from
	 * peers; its bundles are judged as hamletd judges them. A revoked
	 * one still keeps to what its certificate let it read */
	int cr = node_cert_load(n, hlc_wall_ms(), ch, NULL, NULL, cwhy,
				sizeof(cwhy));
	if (cr == 0 || cr == HAMLET_EREVOKED)
		own = &ch->c[0];
	for (size_t i = 0; i < count; i++) {
		if (local_admit(n, own, &in[i], &out[i])) {
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
		why_set(why, whylen, "%s", hamlet_strerror(r));
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
				tfn, NULL, 0, 0 };
	struct walk wk = { rep, n->net.id, import_batch, &c, why, whylen,
			   import_trust, n->sk, n, pfn, pctx, NULL };
	int r;

	why[0] = 0;
	if (!c.out)
		return -ENOMEM;
	r = walk_file(path, &wk);
	free(c.out);
	free(c.lows);
	return r;
}

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
	struct chain_slot *sl = table_slot(&c->slots, &c->cap, &c->used,
					   sizeof(*sl), 1024, key, ret_new);
	if (sl)
		sl->used = 1;
	return sl;
}

/* Add id to the ids seen: 1 when it is new, 0 when seen before. */
static int id_add(struct check_ctx *c, const uint8_t id[32])
{
	int isnew;
	if (!table_slot(&c->ids, &c->icap, &c->iused, 32, 4096, id, &isnew))
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
			describe(&in[i], what, sizeof(what));
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
	r = walk_file(path, &wk);
	if (r >= 0)
		check_gaps(&c, rep);
	check_free(&c);
	return r;
}
