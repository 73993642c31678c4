/*
 * node_feeds_recorded: what HOME/own-feeds records against what the node
 * signed (node_feeds_unrecorded(), node.h). A write of the file that
 * failed (a full disk) leaves it behind the store: the guard against
 * signing a seq twice is then off for those seqs until the file is
 * written again (hamletd tries by itself, node_feeds_retry()), and
 * status says so meanwhile rather than nothing.
 */
#include "node_internal.h"

#include "error.h"
#include "heads.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A writer commits, then writes the file: a read-only look in between
 * sees the store ahead of the file for a moment. The file is read again
 * this many times, RECHECK_MS apart, before it is said. */
#define RECHECKS 20
#define RECHECK_MS 50

struct heads {
	struct store_txn *t;
	struct node_feed *v;
	size_t n, cap;
};

/* heads_author_feeds: one of the node's own feeds, with its head. */
static int head_one(void *ctx, const uint8_t key[32])
{
	struct heads *h = ctx;
	struct log_feed lf;
	int r = log_feed_get(h->t, key, &lf);

	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	if (h->n == h->cap) {
		size_t nc = h->cap ? 2 * h->cap : 16;
		struct node_feed *p = realloc(h->v, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		h->v = p;
		h->cap = nc;
	}
	memset(&h->v[h->n], 0, sizeof(h->v[h->n]));
	snprintf(h->v[h->n].scope, sizeof(h->v[h->n].scope), "%s", lf.scope);
	h->v[h->n].seq = lf.seq;
	h->n++;
	return 0;
}

static int feed_cmp(const void *a, const void *b)
{
	return strcmp(((const struct node_feed *)a)->scope,
		      ((const struct node_feed *)b)->scope);
}

/* The seq table v (n, sorted by scope) gives scope; 0 when none. */
static uint64_t seq_of(const struct node_feed *v, size_t n, const char *scope)
{
	struct node_feed key;
	const struct node_feed *p;

	if (!n)
		return 0;
	snprintf(key.scope, sizeof(key.scope), "%s", scope);
	p = bsearch(&key, v, n, sizeof(*v), feed_cmp);
	return p ? p->seq : 0;
}

/* The heads of n's own feeds in its store, sorted by scope. */
static int heads_read(struct node *n, struct heads *h)
{
	int r;

	if ((r = store_txn_begin(n->st, 1, &h->t)) < 0)
		return r;
	r = heads_author_feeds(h->t, n->pk, head_one, h);
	store_txn_abort(h->t);
	h->t = NULL;
	if (r >= 0 && h->n)
		qsort(h->v, h->n, sizeof(*h->v), feed_cmp);
	return r;
}

/* The file's table from its text (NULL: missing, no feed); 1 when it
 * does not read (nothing is said of it here). */
static int recorded_parse(struct node *n, const char *text, size_t len,
			  struct node_feed **ret, size_t *ret_n)
{
	char why[512];

	*ret = NULL;
	*ret_n = 0;
	if (!text)
		return 0;
	return node_feeds_parse(text, len, n->pk, ret, ret_n, why,
				sizeof(why)) < 0
		       ? 1
		       : 0;
}

/* One look: signed (sv, sn) against the file (rv, rn), the store's heads
 * (h) for what it holds. */
static size_t compare(const struct node_feed *sv, size_t sn,
		      const struct node_feed *rv, size_t rn,
		      const struct heads *h, struct node_feed_lag *ret,
		      size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < sn; i++) {
		uint64_t rec = seq_of(rv, rn, sv[i].scope);
		if (rec >= sv[i].seq)
			continue;
		if (k < max) {
			memset(&ret[k], 0, sizeof(ret[k]));
			snprintf(ret[k].scope, sizeof(ret[k].scope), "%s",
				 sv[i].scope);
			ret[k].signed_seq = sv[i].seq;
			ret[k].stored = seq_of(h->v, h->n, sv[i].scope);
			ret[k].recorded = rec;
		}
		k++;
	}
	return k;
}

/* The file as it is now, parsed into *ret (NULL, 0 when missing): 0; 1
 * when it does not read (nothing is said of it here); <0 out of memory. */
static int recorded_read(struct node *n, struct node_feed **ret, size_t *ret_n)
{
	char *path = node__path_join(n->home, NODE_FEEDS_FILE), *text = NULL;
	size_t len = 0;
	int r;

	*ret = NULL;
	*ret_n = 0;
	if (!path)
		return -ENOMEM;
	r = node__feeds_file_read(path, &text, &len);
	free(path);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r == -ENOMEM ? r : 1;
	r = recorded_parse(n, text, len, ret, ret_n);
	free(text);
	return r;
}

int node_feeds_unrecorded(struct node *n, struct node_feed_lag *ret, size_t max,
			  size_t *ret_n)
{
	struct node_feed *table = NULL, *rec = NULL;
	struct heads h = { 0 };
	char *disk = NULL;
	size_t nt = 0, nrec = 0, len = 0, k = 0;
	int r, readonly = 1;

	*ret_n = 0;
	if (!n->feeds)
		return 0;
	/* the table first: what this process signed is in it before its
	 * store's heads move (node_feeds_advance()) */
	if ((r = node__feeds_copy(n->feeds, &table, &nt, &disk, &len,
				  &readonly)) != 0) {
		r = r < 0 ? r : 0; /* a file that does not read */
		goto out;
	}
	if ((r = heads_read(n, &h)) < 0)
		goto out;
	if (!readonly) {
		/* open to write: the table is what the node signed (its
		 * store's heads may be ahead of it for a moment), the
		 * file as this process last wrote it what it records */
		if ((r = recorded_parse(n, disk, len, &rec, &nrec)) == 0)
			k = compare(table, nt, rec, nrec, &h, ret, max);
		r = r < 0 ? r : 0;
		goto done;
	}
	/* read-only, another process writes: the heads as read now against
	 * the file as it is now, and again, a while, when it lags them; a
	 * writer writes the file right after its commit, so a file that
	 * only lagged for that moment catches up with these heads */
	for (int look = 0; look < RECHECKS; look++) {
		if (look) {
			struct timespec ts = { 0, RECHECK_MS * 1000000L };
			nanosleep(&ts, NULL);
		}
		free(rec);
		if ((r = recorded_read(n, &rec, &nrec)) != 0) {
			r = r < 0 ? r : 0; /* node_feeds_problem() says */
			k = 0;
			goto done;
		}
		if (!(k = compare(h.v, h.n, rec, nrec, &h, ret, max)))
			break;
	}
done:
	*ret_n = k;
out:
	free(h.v);
	free(table);
	free(rec);
	free(disk);
	return r;
}
