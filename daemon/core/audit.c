#include "audit.h"
#include "trustset.h"

#include "entry.h"
#include "error.h"
#include "hlc.h"
#include "log.h"
#include "record.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 4096	/* entries checked at once, across feeds */
#define SIG_GROUP 4096	/* a feed's signature findings are told by these */
#define MAX_THREADS 16

/* One stored entry, as read (pointers borrow from the read transaction)
 * and as checked by a worker. */
struct audit_item {
	uint64_t seq;
	size_t feed; /* in the batch's feeds */
	const uint8_t *env, *sig, *body;
	size_t env_len, body_len;
	int has_body; /* its body row was found */
	/* the worker's results */
	int dec_r, sig_r, body_ok;
	struct entry e;
	uint8_t id[32];
	struct bodyz_buf zb; /* its body, when the store keeps it compressed */
};

/* A feed, where the batch reaches it: its entries follow. */
struct audit_feed_mark {
	struct log_feed f;
	uint64_t wall;	/* our clock when the feed was read */
	size_t first;	/* its first item in the batch (may be none) */
	int key_ok;
};

/*
 * The workers: a fixed pool of threads (one a core, the calling thread
 * one of them) checking a batch, each every nt-th item. Signatures and
 * hashes are pure functions of the bytes, so which thread checks an
 * item changes nothing; the findings are told afterwards, in order, on
 * the calling thread.
 */
struct pool;
struct worker {
	struct pool *p;
	size_t k;
};

struct pool {
	pthread_t th[MAX_THREADS];
	struct worker w[MAX_THREADS];
	size_t nt, started;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	uint64_t gen;	 /* batches handed out */
	size_t running; /* workers still on the current one */
	int stop;
	struct audit_item *items;
	size_t n;
};

static void item_check(struct audit_item *it)
{
	if (!it->env)
		return; /* a gap */
	it->dec_r = entry_decode(it->env, it->env_len, &it->e, NULL);
	if (it->dec_r < 0)
		return;
	entry_id(it->env, it->env_len, it->id);
	if (it->e.has_body && it->has_body) {
		uint8_t h[32];
		entry_body_hash(it->body, it->body_len, h);
		it->body_ok = memcmp(h, it->e.body_hash, 32) == 0 &&
			      it->body_len == it->e.body_len;
	}
	it->sig_r = entry_verify(it->env, it->env_len, it->sig, it->e.author);
}

static void stripe(struct pool *p, size_t k)
{
	for (size_t i = k; i < p->n; i += p->nt)
		item_check(&p->items[i]);
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	uint64_t seen = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->gen == seen)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->stop)
			break;
		seen = p->gen;
		pthread_mutex_unlock(&p->mu);
		stripe(p, w->k);
		pthread_mutex_lock(&p->mu);
		if (--p->running == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void pool_start(struct pool *p)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	memset(p, 0, sizeof(*p));
	p->nt = ncpu > 1 ? (size_t)ncpu : 1;
	if (p->nt > MAX_THREADS)
		p->nt = MAX_THREADS;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	/* the calling thread is worker 0 */
	for (size_t k = 1; k < p->nt; k++) {
		p->w[k] = (struct worker){ p, k };
		if (pthread_create(&p->th[k], NULL, worker_run, &p->w[k]) != 0)
			break;
		p->started = k;
	}
	/* fewer threads than cores started: stripes are by thread */
	p->nt = p->started + 1;
}

static void pool_run(struct pool *p, struct audit_item *items, size_t n)
{
	pthread_mutex_lock(&p->mu);
	p->items = items;
	p->n = n;
	p->running = p->started;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	stripe(p, 0);
	pthread_mutex_lock(&p->mu);
	while (p->running)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

static void pool_stop(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (size_t k = 1; k <= p->started; k++)
		pthread_join(p->th[k], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
}

struct audit_ctx {
	struct store_txn *t;
	const uint8_t *network_id;
	struct audit_report *rep;
	struct pool pool;
	/* the batch being read */
	struct audit_item *items;
	size_t n;
	struct audit_feed_mark *feeds;
	size_t nfeeds;
	/* telling, in order: the feed being told */
	int have_feed;
	struct log_feed feed;
	uint8_t prev[32];
	size_t sig_n;	 /* entries since its signatures were last told */
	uint64_t *bad_seq; /* their signature failures */
	int *bad_r;
	size_t nbad;
	audit_progress_fn progress; /* NULL: none */
	void *progress_ctx;
	uint64_t total; /* entries the feeds hold */
};

static void hex8(const uint8_t *p, char out[17])
{
	static const char d[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[16] = 0;
}

/* The signature findings of the feed being told, so far. */
static void tell_sigs(struct audit_ctx *c)
{
	for (size_t i = 0; i < c->nbad; i++) {
		c->rep->bad_signatures++;
		problems_add(&c->rep->problems, "signature",
			     N_("feed %s seq %llu: %s"), c->feed.scope,
			     (unsigned long long)c->bad_seq[i],
			     hamlet_strerror(c->bad_r[i]));
	}
	c->nbad = 0;
	c->sig_n = 0;
}

static void tell_gap(struct audit_ctx *c, uint64_t seq)
{
	char a[17];
	hex8(c->feed.author, a);
	c->rep->gaps++;
	problems_add(&c->rep->problems, "gap",
		     N_("feed %s by %s…: entry %llu is missing"), c->feed.scope, a,
		     (unsigned long long)seq);
}

/* What one checked entry shows, told in the order entries are stored. */
static void tell_item(struct audit_ctx *c, const struct audit_feed_mark *fm,
		      struct audit_item *it)
{
	struct audit_report *rep = c->rep;
	const struct log_feed *f = &c->feed;
	const struct entry *e = &it->e;
	uint64_t seq = it->seq;

	rep->entries++;
	if (c->progress && rep->entries % 256 == 0)
		c->progress(c->progress_ctx, rep->entries, c->total);
	if (it->dec_r < 0) {
		rep->chain_breaks++;
		problems_add(&rep->problems, "chain",
			     N_("feed %s seq %llu: envelope does not decode (%s)"),
			     f->scope, (unsigned long long)seq,
			     hamlet_strerror(it->dec_r));
		return;
	}
	if (e->seq != seq || memcmp(e->author, f->author, 32) != 0 ||
	    strcmp(e->scope, f->scope) != 0) {
		rep->chain_breaks++;
		problems_add(&rep->problems, "chain",
			     N_("feed %s seq %llu: entry stored under the wrong feed or seq"),
			     f->scope, (unsigned long long)seq);
	}
	if (seq > 1 && (!e->has_prev || memcmp(e->prev, c->prev, 32) != 0)) {
		rep->chain_breaks++;
		problems_add(&rep->problems, "chain",
			     N_("feed %s seq %llu: prev does not name entry %llu"),
			     f->scope, (unsigned long long)seq,
			     (unsigned long long)(seq - 1));
	}
	if (memcmp(e->network_id, c->network_id, 32) != 0) {
		rep->wrong_network++;
		problems_add(&rep->problems, "network",
			     N_("feed %s seq %llu belongs to another network"),
			     f->scope, (unsigned long long)seq);
	}
	if (hlc_is_future(e->hlc, fm->wall)) {
		rep->future++;
		problems_add(&rep->problems, "future",
			     N_("feed %s seq %llu is dated in the future (author's clock ahead?)"),
			     f->scope, (unsigned long long)seq);
	}
	memcpy(c->prev, it->id, 32);
	if (e->has_body) {
		if (!it->has_body) {
			rep->bodies_missing++;
			problems_add(&rep->problems, "body",
				     N_("feed %s seq %llu: body not held (erased, or not received yet)"),
				     f->scope, (unsigned long long)seq);
		} else {
			rep->bodies++;
			if (!it->body_ok) {
				rep->chain_breaks++;
				problems_add(&rep->problems, "body",
					     N_("feed %s seq %llu: stored body does not match its signed hash"),
					     f->scope, (unsigned long long)seq);
			}
		}
	}
	if (it->sig_r < 0) {
		c->bad_seq[c->nbad] = seq;
		c->bad_r[c->nbad++] = it->sig_r;
	}
	/* signature findings are told every SIG_GROUP entries of a feed */
	if (++c->sig_n == SIG_GROUP)
		tell_sigs(c);
}

/* The feed fm begins: the one before is over. */
static void tell_feed(struct audit_ctx *c, const struct audit_feed_mark *fm)
{
	char a[17];
	if (c->have_feed)
		tell_sigs(c);
	c->feed = fm->f;
	c->have_feed = 1;
	c->rep->feeds++;
	if (!fm->key_ok) {
		hex8(fm->f.author, a);
		problems_add(&c->rep->problems, "chain",
			     N_("feed %s by %s…: its key does not match its author and scope"),
			     fm->f.scope, a);
	}
}

/* Check the batch on every core, then tell what it shows, in order. */
static void batch_flush(struct audit_ctx *c)
{
	size_t i = 0;

	if (c->n)
		pool_run(&c->pool, c->items, c->n);
	for (size_t k = 0; k < c->nfeeds; k++) {
		const struct audit_feed_mark *fm = &c->feeds[k];
		size_t end = k + 1 < c->nfeeds ? c->feeds[k + 1].first : c->n;
		if (fm->first != SIZE_MAX)
			tell_feed(c, fm);
		for (; i < end; i++) {
			struct audit_item *it = &c->items[i];
			/* gaps are told as items with no envelope */
			if (!it->env)
				tell_gap(c, it->seq);
			else
				tell_item(c, &c->feeds[it->feed], it);
		}
	}
	c->n = 0;
	c->nfeeds = 0;
}

/* A new feed mark; the batch is flushed first when full. */
static struct audit_feed_mark *mark_add(struct audit_ctx *c, int begins)
{
	struct audit_feed_mark *fm;
	if (c->nfeeds == BATCH || c->n == BATCH)
		batch_flush(c);
	fm = &c->feeds[c->nfeeds++];
	memset(fm, 0, sizeof(*fm));
	fm->first = begins ? c->n : SIZE_MAX;
	return fm;
}

static int audit_feed(void *ctx, const struct log_feed *f)
{
	struct audit_ctx *c = ctx;
	struct audit_feed_mark *fm = mark_add(c, 1);
	uint8_t fk[32];
	size_t mark = c->nfeeds - 1;
	int r;

	fm->f = *f;
	fm->wall = hlc_wall_ms();
	log_feed_key(f->author, f->scope, fk);
	fm->key_ok = memcmp(fk, f->key, 32) == 0;
	for (uint64_t seq = 1; seq <= f->seq; seq++) {
		struct audit_item *it;
		if (c->n == BATCH) {
			/* the feed goes on in the next batch, judged by the
			 * same clock */
			uint64_t wall = fm->wall;
			batch_flush(c);
			fm = mark_add(c, 0);
			fm->f = *f;
			fm->wall = wall;
			mark = 0;
		}
		it = &c->items[c->n];
		memset(it, 0, offsetof(struct audit_item, e));
		it->seq = seq;
		it->feed = mark;
		r = log_entry_get(c->t, f->key, seq, &it->env, &it->env_len,
				  &it->sig);
		if (r == HAMLET_ENOTFOUND) {
			it->env = NULL;
			c->n++;
			continue;
		}
		if (r < 0)
			return r;
		/* its body, by its id: the id is the envelope's hash, which
		 * the worker checks; here it is only where to look */
		{
			uint8_t id[32];
			const uint8_t *body;
			size_t bl;
			entry_id(it->env, it->env_len, id);
			r = log_body_get(c->t, id, &it->zb, &body, &bl);
			if (r == HAMLET_ECORRUPT) {
				/* kept compressed, and it no longer
				 * decompresses: told as a body that does not
				 * match its hash */
				body = (const uint8_t *)"";
				bl = 0;
				r = 0;
			}
			if (r == 0) {
				it->body = body;
				it->body_len = bl;
				it->has_body = 1;
			} else if (r != HAMLET_ENOTFOUND) {
				return r;
			}
		}
		c->n++;
	}
	return 0;
}

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
		if (memcmp(g->entries[i].id, id, 32) == 0)
			return 0;
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
		hex8(row->feed, a);
		broken(c, "fork evidence at seq %llu of feed key %s…: the store holds no such feed",
		       (unsigned long long)row->seq, a);
		return 0;
	}
	hex8(f->author, a);
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
	 * the head, the head it does not chain to (log.c record_fork()) */
	oseq = e.seq <= f->seq ? e.seq : e.seq - 1;
	if (e.seq > f->seq + 1 || oseq == 0) {
		broken(c, "%s: the feed holds no entry it could conflict with",
		       where);
		return 0;
	}
	r = log_entry_get(c->t, row->feed, oseq, &oenv, &olen, &osig);
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
	hex8(f->author, a);
	broken(c, "feed %s by %s… is frozen at seq %llu, but the store keeps no evidence of a fork there",
	       f->scope, a, (unsigned long long)f->fork_seq);
	return 0;
}

/*
 * A fork proof of the trust set (proto/SPEC.md section 8): two entries
 * that prove the fork by themselves, whether or not the store holds the
 * feed. It joins (or makes) its feed's group.
 */
static int fork_proof_row(void *ctx, int kind, const uint8_t pid[32],
			  const uint8_t *data, size_t len)
{
	struct forks_ctx *c = ctx;
	struct fork_proof *fp = malloc(sizeof(*fp));
	struct audit_fork *g = NULL, *v;
	uint8_t key[32], ida[32], idb[32];
	char a[17];
	int r = 0;

	(void)kind;
	if (!fp)
		return -ENOMEM;
	if (fork_proof_decode(data, len, fp, NULL) < 0) {
		hex8(pid, a);
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
	if (fork_entry_add(g, ida, fp->a.seq, fp->a.hlc, 1) < 0 ||
	    fork_entry_add(g, idb, fp->b.seq, fp->b.hlc, 1) < 0)
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
		qsort(c.f.v[i].entries, c.f.v[i].n, sizeof(*c.f.v[i].entries),
		      fork_entry_cmp);
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

/* --- records and the digest ------------------------------------------ */

/* The digest status and `hamlet digest` read is kept up to date as
 * records change; recompute it from every record and compare. */
static int audit_digest(struct audit_ctx *c)
{
	uint8_t kept[32], real[32];
	uint64_t nkept, nreal;
	int r;

	if ((r = record_digest(c->t, kept, &nkept)) < 0 &&
	    r != HAMLET_ECORRUPT)
		return r;
	if (r == 0 && (r = record_digest_recompute(c->t, real, &nreal)) < 0)
		return r;
	if (r == 0 && nkept == nreal && memcmp(kept, real, 32) == 0)
		return 0;
	c->rep->digest_mismatch++;
	if (r == 0)
		problems_add(&c->rep->problems, "digest",
			     N_("the kept state digest does not match the %llu records it stands for (it counts %llu)"),
			     (unsigned long long)nreal,
			     (unsigned long long)nkept);
	else
		problems_add(&c->rep->problems, "digest",
			     N_("the kept state digest is damaged"));
	return 0;
}

/* Each stored record row against the state its ops make, recomputed. */
static int audit_record(void *ctx, const char *coll, const char *id)
{
	struct audit_ctx *c = ctx;
	int differs = 0;
	int r = record_state_check(c->t, coll, id, &differs);
	if (r == HAMLET_ECOLLECTION || r == HAMLET_ECORRUPT)
		differs = 1;
	else if (r < 0)
		return r;
	c->rep->records++;
	if (differs) {
		c->rep->records_mismatch++;
		problems_add(&c->rep->problems, "record",
			     N_("record %s/%s: the stored state is not what its signed entries make"),
			     coll, id);
	}
	return 0;
}

/* A record with signed ops but no stored row at all. */
static int audit_record_missing(void *ctx, const char *coll, const char *id)
{
	struct audit_ctx *c = ctx;
	c->rep->records_mismatch++;
	problems_add(&c->rep->problems, "record",
		     N_("record %s/%s: its signed entries are stored but its state row is missing"),
		     coll, id);
	return 0;
}

static int count_feed(void *ctx, const struct log_feed *f)
{
	*(uint64_t *)ctx += f->seq;
	return 0;
}

int audit_store(struct store *st, const uint8_t network_id[32],
		struct audit_report *rep)
{
	return audit_store_progress(st, network_id, NULL, NULL, rep);
}

int audit_store_progress(struct store *st, const uint8_t network_id[32],
			 audit_progress_fn pfn, void *pctx,
			 struct audit_report *rep)
{
	struct audit_ctx c = { 0 };
	int r;

	memset(rep, 0, sizeof(*rep));
	c.progress = pfn;
	c.progress_ctx = pctx;
	c.network_id = network_id;
	c.rep = rep;
	c.items = calloc(BATCH, sizeof(*c.items));
	c.feeds = malloc(BATCH * sizeof(*c.feeds));
	c.bad_seq = malloc(SIG_GROUP * sizeof(*c.bad_seq));
	c.bad_r = malloc(SIG_GROUP * sizeof(*c.bad_r));
	if (!c.items || !c.feeds || !c.bad_seq || !c.bad_r) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = store_txn_begin(st, 1, &c.t)) < 0)
		goto out;
	if (pfn && (r = log_feeds_each(c.t, count_feed, &c.total)) < 0)
		goto out;
	pool_start(&c.pool);
	r = log_feeds_each(c.t, audit_feed, &c);
	if (r >= 0)
		batch_flush(&c);
	if (c.have_feed)
		tell_sigs(&c);
	pool_stop(&c.pool);
	if (r < 0)
		goto out;
	if (pfn)
		pfn(pctx, rep->entries, c.total);
	if ((r = audit_forks_read(c.t, &rep->forked, &rep->problems)) < 0)
		goto out;
	rep->forks = rep->forked.n; /* forked feeds */
	rep->bad_evidence = rep->forked.broken;
	for (size_t i = 0; i < rep->forked.n; i++) {
		const struct audit_fork *g = &rep->forked.v[i];
		char a[17];
		hex8(g->author, a);
		problems_add(&rep->problems, "fork",
			     N_("author %s… signed two different entries at seq %llu of feed %s: both kept as evidence, the feed frozen there"),
			     a, (unsigned long long)g->seq, g->scope);
	}
	if ((r = record_each(c.t, NULL, audit_record, &c)) < 0 ||
	    (r = record_unmaterialized_each(c.t, audit_record_missing, &c)) < 0)
		goto out;
	if ((r = log_held_count(c.t, &rep->held)) < 0 ||
	    (r = audit_digest(&c)) < 0)
		goto out;
	if (rep->held)
		problems_add(&rep->problems, "held",
			     N_("%llu entries are held waiting for an earlier entry of their feed"),
			     (unsigned long long)rep->held);
	r = 0;
out:
	store_txn_abort(c.t);
	for (size_t i = 0; c.items && i < BATCH; i++)
		bodyz_buf_free(&c.items[i].zb);
	free(c.items);
	free(c.feeds);
	free(c.bad_seq);
	free(c.bad_r);
	return r;
}

int audit_damaged(const struct audit_report *rep)
{
	return rep->bad_signatures || rep->chain_breaks || rep->gaps ||
	       rep->wrong_network || rep->digest_mismatch ||
	       rep->records_mismatch || rep->bad_evidence;
}

int audit_evidence(const struct audit_report *rep)
{
	return rep->forks > 0;
}

int audit_failed(const struct audit_report *rep)
{
	return audit_damaged(rep) || audit_evidence(rep);
}

void audit_report_close(struct audit_report *rep)
{
	if (!rep)
		return;
	audit_forks_close(&rep->forked);
	problems_close(&rep->problems);
}
