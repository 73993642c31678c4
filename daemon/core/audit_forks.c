/* audit: the fork evidence a store keeps, read and checked
 * (audit_forks_read): by an audit, and by hamlet forks. */
#include "audit_internal.h"
#include "trustset.h"

#include "entry.h"
#include "error.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- fork evidence ----------------------------------------------------- */

struct forks_ctx {
	struct store_txn *t;
	struct audit_forks f;
	struct problems *damage; /* may be NULL */
	uint8_t key[32];	 /* the feed of the rows being read */
	int have_key, feed_found, has_cur;
	struct log_feed feed; /* when feed_found */
	size_t cur;	      /* its group in f.v, when has_cur */
};

__attribute__((format(printf, 2, 3))) static void
broken(struct forks_ctx *c, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	c->f.broken++;
	if (!c->damage)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	problems_add(c->damage, "bad-evidence", "%s", buf);
}

static int fork_entry_add(struct audit_fork *g, const uint8_t id[32],
			  uint64_t seq, uint64_t hlc, int evidence)
{
	struct audit_fork_entry *v;

	for (size_t i = 0; i < g->n; i++)
		if (memcmp(g->entries[i].id, id, 32) == 0) {
			/* the feed's own entry, whichever row named it first */
			g->entries[i].evidence &= evidence;
			return 0;
		}
	if (!(v = realloc(g->entries, (g->n + 1) * sizeof(*v))))
		return -ENOMEM;
	g->entries = v;
	memcpy(v[g->n].id, id, 32);
	v[g->n].seq = seq;
	v[g->n].hlc = hlc;
	v[g->n].evidence = evidence;
	g->n++;
	return 0;
}

/* The group of the current feed, made on its first row that proves a
 * fork; NULL when out of memory. */
static struct audit_fork *fork_group(struct forks_ctx *c)
{
	struct audit_fork *v, *g;

	if (c->has_cur)
		return &c->f.v[c->cur];
	if (!(v = realloc(c->f.v, (c->f.n + 1) * sizeof(*v))))
		return NULL;
	c->f.v = v;
	g = &v[c->f.n];
	memset(g, 0, sizeof(*g));
	memcpy(g->feed, c->feed.key, 32);
	memcpy(g->author, c->feed.author, 32);
	snprintf(g->scope, sizeof(g->scope), "%s", c->feed.scope);
	g->seq = c->feed.fork_seq;
	c->cur = c->f.n++;
	c->has_cur = 1;
	return g;
}

/* One evidence row: does it prove that the feed's author signed two
 * different entries at one seq? */
static int fork_row(void *ctx, const struct log_fork *row)
{
	struct forks_ctx *c = ctx;
	const struct log_feed *f = &c->feed;
	struct audit_fork *g;
	struct entry e, o;
	uint8_t fk[32], id[32], oid[32];
	const uint8_t *oenv, *osig;
	uint8_t obuf[ENTRY_MAX_ENVELOPE];
	size_t olen;
	uint64_t oseq;
	char a[17], where[200];
	int r;

	if (!c->have_key || memcmp(c->key, row->feed, 32) != 0) {
		memcpy(c->key, row->feed, 32);
		c->have_key = 1;
		c->has_cur = 0;
		r = log_feed_get(c->t, row->feed, &c->feed);
		if (r < 0 && r != HAMLET_ENOTFOUND)
			return r;
		c->feed_found = r == 0;
	}
	if (!c->feed_found) {
		audit__hex8(row->feed, a);
		broken(c, "fork evidence at seq %llu of feed key %s…: the store holds no such feed",
		       (unsigned long long)row->seq, a);
		return 0;
	}
	audit__hex8(f->author, a);
	snprintf(where, sizeof(where), "fork evidence at seq %llu of feed %s by %s…",
		 (unsigned long long)row->seq, f->scope, a);
	if (!f->forked) {
		broken(c, "%s: the feed is not frozen at a fork", where);
		return 0;
	}
	if (entry_decode(row->env, row->env_len, &e, NULL) < 0 ||
	    entry_verify(row->env, row->env_len, row->sig, e.author) < 0) {
		broken(c, "%s does not verify", where);
		return 0;
	}
	log_feed_key(e.author, e.scope, fk);
	entry_id(row->env, row->env_len, id);
	if (memcmp(fk, row->feed, 32) != 0 || e.seq != row->seq ||
	    memcmp(id, row->id, 32) != 0 ||
	    memcmp(e.author, f->author, 32) != 0) {
		broken(c, "%s is filed under another feed, seq or id", where);
		return 0;
	}
	/* the feed's own entry it conflicts with: at its seq, or, one past
	 * the head, the head it does not chain to (log_apply.c record_fork()) */
	oseq = e.seq <= f->seq ? e.seq : e.seq - 1;
	if (e.seq > f->seq + 1 || oseq == 0) {
		broken(c, "%s: the feed holds no entry it could conflict with",
		       where);
		return 0;
	}
	r = log_entry_get(c->t, row->feed, oseq, obuf, &oenv, &olen, &osig);
	if (r == HAMLET_ENOTFOUND) {
		broken(c, "%s: the feed's own entry %llu is missing", where,
		       (unsigned long long)oseq);
		return 0;
	}
	if (r < 0)
		return r;
	if (entry_decode(oenv, olen, &o, NULL) < 0 ||
	    memcmp(o.author, e.author, 32) != 0 ||
	    entry_verify(oenv, olen, osig, e.author) < 0) {
		broken(c, "%s: the feed's own entry %llu does not verify",
		       where, (unsigned long long)oseq);
		return 0;
	}
	entry_id(oenv, olen, oid);
	if (oseq == e.seq ? memcmp(oid, id, 32) == 0
			  : e.has_prev && memcmp(e.prev, oid, 32) == 0) {
		broken(c, "%s does not conflict with the feed's own entry %llu",
		       where, (unsigned long long)oseq);
		return 0;
	}
	if (!(g = fork_group(c)) ||
	    (r = fork_entry_add(g, oid, oseq, o.hlc, 0)) < 0 ||
	    (r = fork_entry_add(g, id, e.seq, e.hlc, 1)) < 0)
		return -ENOMEM;
	c->f.rows++;
	return 0;
}

static int fork_entry_cmp(const void *pa, const void *pb)
{
	const struct audit_fork_entry *x = pa, *y = pb;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->evidence != y->evidence)
		return x->evidence - y->evidence;
	return memcmp(x->id, y->id, 32);
}

/* A feed frozen at a fork must keep evidence of a fork at that seq: its
 * own entry there and another one its author signed. */
static int fork_feed_check(void *ctx, const struct log_feed *f)
{
	struct forks_ctx *c = ctx;
	const struct audit_fork *g = NULL;
	char a[17];

	if (!f->forked)
		return 0;
	for (size_t i = 0; i < c->f.n && !g; i++)
		if (memcmp(c->f.v[i].feed, f->key, 32) == 0)
			g = &c->f.v[i];
	/* its own entry there kept beside evidence, or a proof of the fork
	 * there (which proves it alone) */
	for (size_t i = 0; g && i < g->n; i++)
		if (g->entries[i].seq == f->fork_seq &&
		    (!g->entries[i].evidence || g->seq == f->fork_seq))
			return 0;
	audit__hex8(f->author, a);
	broken(c, "feed %s by %s… is frozen at seq %llu, but the store keeps no evidence of a fork there",
	       f->scope, a, (unsigned long long)f->fork_seq);
	return 0;
}

/* 1 when the store holds entry id at seq of feed key as the feed's own
 * (the one it applied), 0 when not, or an error. */
static int own_entry(struct store_txn *t, const uint8_t key[32],
		     uint64_t seq, const uint8_t id[32])
{
	uint8_t buf[ENTRY_MAX_ENVELOPE], oid[32];
	const uint8_t *env, *sig;
	size_t len;
	int r = log_entry_get(t, key, seq, buf, &env, &len, &sig);

	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	entry_id(env, len, oid);
	return memcmp(oid, id, 32) == 0;
}

/*
 * A fork proof of the trust set (proto/SPEC.md section 8): two entries
 * that prove the fork by themselves, whether or not the store holds the
 * feed. It joins (or makes) its feed's group; of its two entries, one the
 * store holds as the feed's own is marked so (a node that learnt of the
 * fork from the proof alone keeps no evidence row beside it), the other
 * is evidence.
 */
static int fork_proof_row(void *ctx, int kind, const uint8_t pid[32],
			  const uint8_t *data, size_t len)
{
	struct forks_ctx *c = ctx;
	struct fork_proof *fp = malloc(sizeof(*fp));
	struct audit_fork *g = NULL, *v;
	uint8_t key[32], ida[32], idb[32];
	char a[17];
	int r = 0, own_a = 0, own_b = 0;

	(void)kind;
	if (!fp)
		return -ENOMEM;
	if (fork_proof_decode(data, len, fp, NULL) < 0) {
		audit__hex8(pid, a);
		broken(c, "fork proof %s… does not check", a);
		goto out;
	}
	log_feed_key(fp->a.author, fp->a.scope, key);
	for (size_t i = 0; i < c->f.n && !g; i++)
		if (memcmp(c->f.v[i].feed, key, 32) == 0)
			g = &c->f.v[i];
	if (!g) {
		if (!(v = realloc(c->f.v, (c->f.n + 1) * sizeof(*v)))) {
			r = -ENOMEM;
			goto out;
		}
		c->f.v = v;
		g = &v[c->f.n++];
		memset(g, 0, sizeof(*g));
		memcpy(g->feed, key, 32);
		memcpy(g->author, fp->a.author, 32);
		snprintf(g->scope, sizeof(g->scope), "%s", fp->a.scope);
		g->seq = fp->at;
	} else if (fp->at < g->seq) {
		g->seq = fp->at;
	}
	entry_id(fp->env_a, fp->env_a_len, ida);
	entry_id(fp->env_b, fp->env_b_len, idb);
	if ((own_a = own_entry(c->t, key, fp->a.seq, ida)) < 0 ||
	    (own_b = own_entry(c->t, key, fp->b.seq, idb)) < 0) {
		r = own_a < 0 ? own_a : own_b;
		goto out;
	}
	if (fork_entry_add(g, ida, fp->a.seq, fp->a.hlc, !own_a) < 0 ||
	    fork_entry_add(g, idb, fp->b.seq, fp->b.hlc, !own_b) < 0)
		r = -ENOMEM;
	else
		c->f.rows++;
out:
	free(fp);
	return r;
}

int audit_forks_read(struct store_txn *t, struct audit_forks *ret,
		     struct problems *damage)
{
	struct forks_ctx c;
	int r;

	memset(&c, 0, sizeof(c));
	c.t = t;
	c.damage = damage;
	if ((r = log_forks_each(t, fork_row, &c)) < 0 ||
	    (r = trustset_each(t, TRUST_FORK, fork_proof_row, &c)) < 0 ||
	    (r = log_feeds_each(t, fork_feed_check, &c)) < 0)
		goto out;
	for (size_t i = 0; i < c.f.n; i++)
		if (c.f.v[i].n > 1)
			qsort(c.f.v[i].entries, c.f.v[i].n,
			      sizeof(*c.f.v[i].entries), fork_entry_cmp);
	*ret = c.f;
	memset(&c.f, 0, sizeof(c.f));
	r = 0;
out:
	audit_forks_close(&c.f);
	return r;
}

void audit_forks_close(struct audit_forks *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].entries);
	free(f->v);
	memset(f, 0, sizeof(*f));
}
