#include "audit_internal.h"
#include "trustset.h"

#include "entries.h"
#include "entry.h"
#include "error.h"
#include "hlc.h"
#include "log.h"
#include "record.h"
#include "refused.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * How an audit uses every core (docs/decisions.md "verify as a
 * pipeline"). Three kinds of thread share one read transaction:
 *
 * - the calling thread reads entries and their bodies into batches of
 *   BATCH, up to RING batches ahead, and tells what each checked batch
 *   shows, in store order;
 * - the workers (one a core) decode each entry and hash its body and
 *   its signature's mark, and check the signature of each feed's last
 *   entry and of every erasure: pure functions of the bytes, so which
 *   thread checks an item changes nothing;
 * - one thread checks every record row and the kept digest against what
 *   the entries make, while the batches are checked.
 *
 * LMDB lets a read transaction span threads when its use is
 * synchronised (the store opens it with MDB_NOTLS): the reader and the
 * record thread take turns with it (the token below), the reader first.
 * The workers never touch it: they read only bytes the transaction keeps
 * mapped. Findings of records are gathered apart and told after those of
 * the entries and forks, as before, so the report is the same, in the
 * same order, whatever the threads' timing.
 */
#define BATCH 4096	/* entries read and checked at once, across feeds */
#define CHUNK 256	/* entries a worker takes at once */

/*
 * Which signatures are checked (docs/decisions.md "verify: a feed's
 * signatures through its chain"). An entry's id is the hash of its
 * envelope, and each envelope names the id of the one before it: the
 * author's signature on a feed's last entry signs, through that chain,
 * every envelope before it. So when every link of a feed holds, its last
 * entry's signature verifies and the XOR of its signatures' marks is the
 * one its row keeps (log_feed.sigs: a stored signature altered since
 * the node checked it would show there), each of its entries is the
 * author's and each signature is the one that was checked on arrival.
 * A feed where anything of that fails is walked again with every
 * signature checked, so the findings name each bad one as before.
 */

/* One stored entry, as read (pointers borrow from the read transaction)
 * and as checked by a worker. */
struct audit_item {
	uint64_t seq;
	uint64_t gap_to; /* no envelope: the last seq missing from seq on */
	size_t feed; /* its mark in the batch */
	const uint8_t *env, *sig, *body;
	size_t env_len, body_len;
	uint8_t id[32]; /* the envelope's hash: where its body was looked up */
	int has_body;	/* its body row was found */
	/* the worker's results */
	int dec_r, sig_r;
	uint8_t prev[32];
	uint8_t has_prev, signs_body, body_ok, misplaced, foreign, future;
	uint8_t erase; /* an erasure: remembered when it verifies */
	uint8_t need_sig; /* the reader asks: its signature is checked */
	uint8_t sig_checked; /* sig_r says how that went */
	uint8_t mark[32]; /* its signature's mark (log_sig_mix) */
	/* last: kept from batch to batch (the reader zeroes what is above) */
	struct bodyz_buf zb; /* its body, when the store keeps it compressed */
};

/* A feed, where the batch reaches it: its entries follow. */
struct audit_feed_mark {
	struct log_feed f;
	uint64_t wall;	/* our clock when the feed was read */
	size_t first;	/* its first item in the batch (may be none) */
	int key_ok;
};

static void item_check(const struct pool *p, const struct audit_batch *b,
		       struct audit_item *it)
{
	const struct audit_feed_mark *fm;
	struct entry e;

	if (!it->env)
		return; /* a gap */
	it->dec_r = entry_decode(it->env, it->env_len, &e, NULL);
	if (it->dec_r < 0)
		return;
	fm = &b->feeds[it->feed];
	it->misplaced = e.seq != it->seq ||
			memcmp(e.author, fm->f.author, 32) != 0 ||
			strcmp(e.scope, fm->f.scope) != 0;
	it->has_prev = e.has_prev != 0;
	memcpy(it->prev, e.prev, 32);
	it->foreign = memcmp(e.network_id, p->network_id, 32) != 0;
	it->future = hlc_is_future(e.hlc, fm->wall) != 0;
	it->signs_body = e.has_body != 0;
	it->erase = e.kind == ENTRY_ERASE;
	log_sig_mix(it->mark, it->seq, it->sig);
	if (e.has_body && it->has_body) {
		uint8_t h[32];
		entry_body_hash(it->body, it->body_len, h);
		it->body_ok = memcmp(h, e.body_hash, 32) == 0 &&
			      it->body_len == e.body_len;
	}
	if (it->need_sig || it->erase) {
		it->sig_r = entry_verify(it->env, it->env_len, it->sig,
					 e.author);
		it->sig_checked = 1;
	}
}

/* Hand out the next CHUNK items of the oldest batch that has some;
 * NULL when none has. Under p->mu. */
static struct audit_batch *chunk_claim(struct pool *p, size_t *ret_from,
				       size_t *ret_to)
{
	for (; p->claim < p->tail; p->claim++) {
		struct audit_batch *b = &p->ring[p->claim % RING];
		if (b->claimed < b->n) {
			*ret_from = b->claimed;
			b->claimed = b->claimed + CHUNK < b->n ? b->claimed + CHUNK
							       : b->n;
			*ret_to = b->claimed;
			return b;
		}
	}
	return NULL;
}

/* Check items [from, to) of b, unlocked; under p->mu again after. */
static void chunk_check(struct pool *p, struct audit_batch *b, size_t from,
			size_t to)
{
	pthread_mutex_unlock(&p->mu);
	for (size_t i = from; i < to; i++)
		item_check(p, b, &b->items[i]);
	pthread_mutex_lock(&p->mu);
	b->done += to - from;
	if (b->done == b->n)
		pthread_cond_broadcast(&p->done);
}

static void *worker_run(void *arg)
{
	struct pool *p = arg;
	struct audit_batch *b;
	size_t from, to;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		if ((b = chunk_claim(p, &from, &to)))
			chunk_check(p, b, from, to);
		else
			pthread_cond_wait(&p->work, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* A batch's arrays, made on its first use. */
static int batch_make(struct audit_batch *b)
{
	if (b->items)
		return 0;
	b->items = calloc(BATCH, sizeof(*b->items));
	b->feeds = malloc(BATCH * sizeof(*b->feeds));
	if (!b->items || !b->feeds) {
		free(b->items);
		free(b->feeds);
		b->items = NULL;
		b->feeds = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int pool_start(struct pool *p, const uint8_t *network_id)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nt = ncpu > 1 ? (size_t)ncpu : 1;

	memset(p, 0, sizeof(*p));
	p->network_id = network_id;
	p->txn_owner = TXN_READER;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->inited = 1;
	/* the batches are made when the store fills them (mark_add): a
	 * small store's audit touches one batch's memory, not RING's */
	if (nt > MAX_THREADS)
		nt = MAX_THREADS;
	/* one a core: the reader and the record thread mostly wait on the
	 * store; when none starts, the reader checks the items itself */
	for (size_t k = 0; k < nt; k++) {
		if (pthread_create(&p->th[k], NULL, worker_run, p) != 0)
			break;
		p->started = k + 1;
	}
	return 0;
}

/* Stop the workers (they finish no more items) and free the ring; a
 * pool zeroed, or that pool_start() left half made, is fine. */
static void pool_stop(struct pool *p)
{
	if (p->inited) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
		for (size_t k = 0; k < p->started; k++)
			pthread_join(p->th[k], NULL);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->work);
		pthread_cond_destroy(&p->done);
	}
	for (size_t i = 0; i < RING; i++) {
		struct audit_batch *b = &p->ring[i];
		size_t upto = b->hw > b->n ? b->hw : b->n;
		for (size_t k = 0; b->items && k < upto && k < BATCH; k++)
			bodyz_buf_free(&b->items[k].zb);
		free(p->ring[i].items);
		free(p->ring[i].feeds);
	}
}

/* The transaction, for the reader (it is waited for) or, when the
 * reader does not want it, for the record thread. Under p->mu. */
void audit__txn_take(struct pool *p, int who)
{
	if (p->txn_owner == who)
		return;
	if (who == TXN_READER)
		p->reader_wants = 1;
	while (p->txn_owner != TXN_FREE ||
	       (who == TXN_RECORDS && p->reader_wants))
		pthread_cond_wait(&p->done, &p->mu);
	p->txn_owner = who;
	if (who == TXN_READER)
		p->reader_wants = 0;
}

/* Under p->mu. */
void audit__txn_give(struct pool *p, int who)
{
	if (p->txn_owner != who)
		return;
	p->txn_owner = TXN_FREE;
	pthread_cond_broadcast(&p->done);
}

struct audit_ctx {
	struct store_txn *t;
	const uint8_t *network_id;
	struct audit_report *rep;
	struct pool pool;
	struct audit_batch *b; /* the batch being read */
	/* telling, in order: the feed being told */
	int have_feed;
	struct log_feed feed;
	char author[17]; /* its author's first bytes, as problems name it */
	uint8_t prev[32];
	uint8_t sigs[32]; /* the marks of its signatures so far */
	/* its signatures must each be checked: a link, an entry or a
	 * signature checked failed, or the marks or its last entry do not
	 * show every signature as checked on arrival */
	int doubt;
	int anchored; /* no entry since its last checked signature */
	uint64_t checked; /* its signatures the workers checked */
	uint64_t last;	  /* the seq of its last entry told, 0 for none */
	audit_progress_fn progress; /* NULL: none */
	void *progress_ctx;
	uint64_t total; /* entries the feeds hold */
	struct audit_erasures erasures; /* the erase entries met */
	int r; /* a failure while telling (-ENOMEM) */
};

void audit__hex8(const uint8_t *p, char out[17])
{
	static const char d[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[16] = 0;
}

/* The read transaction, for the reader while it tells. */
static void txn_mine(struct audit_ctx *c)
{
	pthread_mutex_lock(&c->pool.mu);
	audit__txn_take(&c->pool, TXN_READER);
	pthread_mutex_unlock(&c->pool.mu);
}

/* Every signature of the feed told, checked one by one: each that
 * fails, told (and counted in *ret_bad). An entry that is not there or
 * does not decode was told already. */
static int sigs_walk(struct audit_ctx *c, uint64_t *ret_bad)
{
	const struct log_feed *f = &c->feed;
	uint8_t *eb = malloc(ENTRY_MAX_ENVELOPE);
	const char *a = c->author;
	int r = 0;

	if (!eb)
		return -ENOMEM;
	txn_mine(c);
	/* seq != 0: a damaged head of 2^64 - 1 does not wrap round */
	for (uint64_t seq = 1; seq <= f->seq && seq != 0; seq++) {
		const uint8_t *env, *sig;
		size_t env_len;
		struct entry e;
		int v;
		if (c->progress && seq % 256 == 0)
			c->progress(c->progress_ctx, c->rep->entries, c->total);
		r = log_entry_get(c->t, f->key, seq, eb, &env, &env_len, &sig);
		if (r == HAMLET_ENOTFOUND) {
			uint64_t next;
			if ((r = log_entry_next(c->t, f->key, seq, &next)) <= 0)
				break; /* none from here on */
			seq = next - 1;
			r = 0;
			continue;
		}
		if (r == HAMLET_ECORRUPT) {
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		if (entry_decode(env, env_len, &e, NULL) < 0)
			continue;
		c->rep->signatures_checked++;
		if ((v = entry_verify(env, env_len, sig, e.author)) < 0) {
			c->rep->bad_signatures++;
			(*ret_bad)++;
			problems_add(&c->rep->problems, "signature",
				     N_("feed %s by %s… seq %llu: %s"), f->scope,
				     a, (unsigned long long)seq,
				     hamlet_strerror(v));
		}
	}
	free(eb);
	return r < 0 ? r : 0;
}

/* The feed told is over: its signatures judged. */
static void feed_over(struct audit_ctx *c)
{
	int marks = memcmp(c->sigs, c->feed.sigs, 32) != 0;
	int alone = marks && !c->doubt && c->anchored;
	uint64_t bad = 0;
	char a[17];
	int r;

	if (c->last == c->feed.seq && c->feed.seq &&
	    memcmp(c->prev, c->feed.head, 32) != 0) {
		/* the row's head is not its last entry (the entries are
		 * judged as they are) */
		c->rep->chain_breaks++;
		audit__hex8(c->feed.author, a);
		problems_add(&c->rep->problems, "chain",
			     N_("feed %s by %s…: the head its row keeps is not its entry %llu"),
			     c->feed.scope, a, (unsigned long long)c->feed.seq);
	}
	if (!c->doubt && c->anchored && !marks)
		return; /* each entry signed through the chain: as checked */
	/* each is checked, and counted, once more */
	c->rep->signatures_checked -= c->checked;
	if ((r = sigs_walk(c, &bad)) < 0) {
		if (!c->r)
			c->r = r;
		return;
	}
	if (alone && bad == 0) {
		/* every signature verifies: the row's mark alone is off */
		c->rep->chain_breaks++;
		audit__hex8(c->feed.author, a);
		problems_add(&c->rep->problems, "chain",
			     N_("feed %s by %s…: the mark of its signatures its row keeps is not theirs (each signature checked: all verify)"),
			     c->feed.scope, a);
	}
}

static void tell_gap(struct audit_ctx *c, uint64_t seq, uint64_t to)
{
	char a[17];
	c->doubt = 1; /* the entries before it: no later signature */
	audit__hex8(c->feed.author, a);
	c->rep->gaps += to - seq < UINT64_MAX ? to - seq + 1 : to - seq;
	if (to == seq)
		problems_add(&c->rep->problems, "gap",
			     N_("feed %s by %s…: entry %llu is missing"),
			     c->feed.scope, a, (unsigned long long)seq);
	else
		problems_add(&c->rep->problems, "gap",
			     N_("feed %s by %s…: entries %llu to %llu are missing"),
			     c->feed.scope, a, (unsigned long long)seq,
			     (unsigned long long)to);
}

/* What one checked entry shows, told in the order entries are stored. */
/* 1 when it's record is erased here: its body went with the erasure. */
static int body_erased(struct audit_ctx *c, const struct audit_item *it)
{
	struct record_view v;
	struct entry e;
	int erased;

	if (c->t)
		txn_mine(c);
	if (!c->t || entry_decode(it->env, it->env_len, &e, NULL) < 0 ||
	    record_view_load(c->t, e.collection, e.record_id, &v) < 0)
		return 0;
	/* a whole record's erasure, or one of its scope's part alone
	 * (erase --scope: the other village's part stays) */
	erased = v.erased ||
		 log_body_erased(c->t, e.collection, e.record_id, e.scope) > 0;
	record_view_close(&v);
	return erased;
}

static void tell_item(struct audit_ctx *c, struct audit_item *it)
{
	struct audit_report *rep = c->rep;
	const struct log_feed *f = &c->feed;
	uint64_t seq = it->seq;
	const char *a = c->author;

	rep->entries++;
	if (c->progress && rep->entries % 256 == 0)
		c->progress(c->progress_ctx, rep->entries, c->total);
	if (it->dec_r < 0) {
		c->doubt = 1;
		rep->chain_breaks++;
		problems_add(&rep->problems, "chain",
			     N_("feed %s by %s… seq %llu: envelope does not decode (%s)"),
			     f->scope, a, (unsigned long long)seq,
			     hamlet_strerror(it->dec_r));
		return;
	}
	if (it->misplaced) {
		c->doubt = 1;
		rep->chain_breaks++;
		problems_add(&rep->problems, "chain",
			     N_("feed %s by %s… seq %llu: entry stored under the wrong feed or seq"),
			     f->scope, a, (unsigned long long)seq);
	}
	if (seq > 1 && (!it->has_prev || memcmp(it->prev, c->prev, 32) != 0)) {
		c->doubt = 1;
		rep->chain_breaks++;
		problems_add(&rep->problems, "chain",
			     N_("feed %s by %s… seq %llu: prev does not name entry %llu"),
			     f->scope, a, (unsigned long long)seq,
			     (unsigned long long)(seq - 1));
	}
	if (it->foreign) {
		rep->wrong_network++;
		problems_add(&rep->problems, "network",
			     N_("feed %s by %s… seq %llu belongs to another network"),
			     f->scope, a, (unsigned long long)seq);
	}
	if (it->future) {
		rep->future++;
		problems_add(&rep->problems, "future",
			     N_("feed %s by %s… seq %llu is dated in the future (author's clock ahead?)"),
			     f->scope, a, (unsigned long long)seq);
	}
	memcpy(c->prev, it->id, 32);
	for (int i = 0; i < 32; i++)
		c->sigs[i] ^= it->mark[i];
	c->anchored = it->sig_checked;
	c->last = seq;
	c->checked += it->sig_checked;
	rep->signatures_checked += it->sig_checked;
	if (it->signs_body) {
		if (!it->has_body) {
			rep->bodies_missing++;
			/* an erased record's bodies are gone by design:
			 * counted, not told as a problem */
			if (!body_erased(c, it))
				problems_add(&rep->problems, "body",
					     N_("feed %s by %s… seq %llu: body not held (not received yet, or left out by its sender)"),
					     f->scope, a, (unsigned long long)seq);
		} else {
			rep->bodies++;
			if (!it->body_ok) {
				/* its entry and chain verify: the body alone
				 * was altered */
				rep->bad_bodies++;
				problems_add(&rep->problems, "body",
					     N_("feed %s by %s… seq %llu: stored body does not match its signed hash"),
					     f->scope, a, (unsigned long long)seq);
			}
		}
	}
	if (it->sig_checked && it->sig_r < 0)
		c->doubt = 1; /* told by feed_over(), with any other */
	else if (it->sig_checked && it->erase && !it->misplaced && !c->r)
		c->r = audit__erasure_add(&c->erasures, it->env, it->env_len);
}

/* The feed fm begins: the one before is over. */
static void tell_feed(struct audit_ctx *c, const struct audit_feed_mark *fm)
{
	char a[17];
	if (c->have_feed)
		feed_over(c);
	c->feed = fm->f;
	audit__hex8(c->feed.author, c->author);
	c->have_feed = 1;
	memset(c->sigs, 0, 32);
	c->doubt = 0;
	c->anchored = 1; /* none yet */
	c->checked = 0;
	c->last = 0;
	c->rep->feeds++;
	if (!fm->key_ok) {
		audit__hex8(fm->f.author, a);
		problems_add(&c->rep->problems, "chain",
			     N_("feed %s by %s…: its key does not match its author and scope"),
			     fm->f.scope, a);
	}
}

/* What a checked batch shows, in order. */
static void tell_batch(struct audit_ctx *c, struct audit_batch *b)
{
	size_t i = 0;

	for (size_t k = 0; k < b->nfeeds; k++) {
		const struct audit_feed_mark *fm = &b->feeds[k];
		size_t end = k + 1 < b->nfeeds ? b->feeds[k + 1].first : b->n;
		if (fm->first != SIZE_MAX)
			tell_feed(c, fm);
		for (; i < end; i++) {
			/* gaps are told as items with no envelope */
			if (!b->items[i].env)
				tell_gap(c, b->items[i].seq,
					 b->items[i].gap_to);
			else
				tell_item(c, &b->items[i]);
		}
	}
}

/*
 * Tell the oldest batch handed out once it is checked, letting the
 * record thread have the transaction meanwhile (checking items itself
 * when no worker started). Under p->mu.
 */
static void ring_tell_head(struct audit_ctx *c)
{
	struct pool *p = &c->pool;
	struct audit_batch *b = &p->ring[p->head % RING], *o;
	size_t from, to;

	while (b->done < b->n) {
		audit__txn_give(p, TXN_READER);
		if (!p->started && (o = chunk_claim(p, &from, &to)))
			chunk_check(p, o, from, to);
		else
			pthread_cond_wait(&p->done, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	tell_batch(c, b);
	pthread_mutex_lock(&p->mu);
	p->head++;
}

/* Hand the batch being read to the workers and start the next one,
 * telling the oldest first when RING are out. */
static void batch_flush(struct audit_ctx *c)
{
	struct pool *p = &c->pool;

	if (c->b->n > c->b->hw)
		c->b->hw = c->b->n;
	pthread_mutex_lock(&p->mu);
	c->b->claimed = c->b->done = 0;
	p->tail++;
	pthread_cond_broadcast(&p->work);
	while (p->tail - p->head == RING)
		ring_tell_head(c);
	audit__txn_take(p, TXN_READER);
	pthread_mutex_unlock(&p->mu);
	c->b = &p->ring[p->tail % RING];
	c->b->n = c->b->nfeeds = 0;
}

/* Every batch handed out, told; the transaction left to the record
 * thread. */
static void ring_drain(struct audit_ctx *c)
{
	struct pool *p = &c->pool;

	pthread_mutex_lock(&p->mu);
	while (p->head < p->tail)
		ring_tell_head(c);
	audit__txn_give(p, TXN_READER);
	pthread_mutex_unlock(&p->mu);
}

/* A new feed mark; the batch is flushed first when full. */
static struct audit_feed_mark *mark_add(struct audit_ctx *c, int begins)
{
	struct audit_feed_mark *fm;
	if (c->b->nfeeds == BATCH || c->b->n == BATCH)
		batch_flush(c);
	/* a batch not yet used is made when it is first filled, while none
	 * of it is handed out */
	if (batch_make(c->b) < 0)
		return NULL;
	fm = &c->b->feeds[c->b->nfeeds++];
	memset(fm, 0, sizeof(*fm));
	fm->first = begins ? c->b->n : SIZE_MAX;
	return fm;
}

/* 1 when the seq index names a row for entry seq of feed that the
 * entries table does not hold: one row deleted, every page intact. */
static int row_missing(struct store_txn *t, const uint8_t feed[32],
		       uint64_t seq)
{
	struct entries_row row;
	uint64_t lseq;
	return entries_lseq(t, feed, seq, &lseq) == 0 &&
	       entries_at(t, lseq, &row) == HAMLET_ENOTFOUND;
}

static int audit_feed(void *ctx, const struct log_feed *f)
{
	struct audit_ctx *c = ctx;
	struct audit_feed_mark *fm = mark_add(c, 1);
	uint8_t fk[32];
	size_t mark;
	int r;

	if (!fm)
		return -ENOMEM;
	mark = c->b->nfeeds - 1;

	fm->f = *f;
	fm->wall = hlc_wall_ms();
	log_feed_key(f->author, f->scope, fk);
	fm->key_ok = memcmp(fk, f->key, 32) == 0;
	/* seq != 0: a damaged head of 2^64 - 1 does not wrap round */
	for (uint64_t seq = 1; seq <= f->seq && seq != 0; seq++) {
		struct audit_item *it;
		struct log_entry_full full;
		if (c->b->n == BATCH) {
			/* the feed goes on in the next batch, judged by the
			 * same clock */
			uint64_t wall = fm->wall;
			batch_flush(c);
			if (!(fm = mark_add(c, 0)))
				return -ENOMEM;
			fm->f = *f;
			fm->wall = wall;
			mark = 0;
		}
		it = &c->b->items[c->b->n];
		memset(it, 0, offsetof(struct audit_item, zb));
		it->seq = seq;
		it->feed = mark;
		it->need_sig = seq == f->seq; /* its last signs the rest */
		r = log_entry_read(c->t, f->key, seq, &it->zb, &full);
		if (r == HAMLET_ECORRUPT && row_missing(c->t, f->key, seq)) {
			/* its row deleted: the entry is missing (history
			 * removed), told as a gap as when its seq index
			 * went too; the rest is judged */
			it->env = NULL;
			it->gap_to = seq;
			c->b->n++;
			continue;
		}
		if (r == HAMLET_ENOTFOUND) {
			/* one item for the whole gap, however long: a head
			 * damaged to a huge seq is not walked seq by seq */
			uint64_t next;
			it->env = NULL;
			it->gap_to = seq;
			c->b->n++;
			if ((r = log_entry_next(c->t, f->key, seq, &next)) < 0)
				return r;
			if (r == 0 || next > f->seq) {
				it->gap_to = f->seq;
				break;
			}
			it->gap_to = next - 1;
			seq = next - 1;
			continue;
		}
		if (r < 0) {
			/* past n: pool_stop would not free it */
			bodyz_buf_free(&it->zb);
			return r;
		}
		it->env = full.env;
		it->env_len = full.env_len;
		it->sig = full.sig;
		/* its body, kept in its entry's row; the worker checks it
		 * against the hash the envelope signs */
		entry_id(it->env, it->env_len, it->id);
		if (full.body_damaged) {
			/* kept compressed, and it no longer decompresses:
			 * told as a body that does not match its hash */
			it->body = (const uint8_t *)"";
			it->body_len = 0;
			it->has_body = 1;
		} else if (full.body) {
			it->body = full.body;
			it->body_len = full.body_len;
			it->has_body = 1;
		}
		c->b->n++;
	}
	return 0;
}

static int count_held(void *ctx, const struct log_held *h)
{
	struct audit_report *rep = ctx;
	rep->held++;
	rep->held_nocert += h->nocert != 0;
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

/* Each kept refusal, counted. */
static int refused_count(void *ctx, const struct refused_row *row)
{
	(void)row;
	(*(uint64_t *)ctx)++;
	return 0;
}

int audit_store_progress(struct store *st, const uint8_t network_id[32],
			 audit_progress_fn pfn, void *pctx,
			 struct audit_report *rep)
{
	struct audit_ctx c = { 0 };
	struct audit_records rc = { 0 };
	int r;

	memset(rep, 0, sizeof(*rep));
	c.progress = pfn;
	c.progress_ctx = pctx;
	c.network_id = network_id;
	c.rep = rep;
	if ((r = store_txn_begin(st, 1, &c.t)) < 0)
		goto out;
	if (pfn && (r = log_feeds_each(c.t, count_feed, &c.total)) < 0)
		goto out;
	if ((r = pool_start(&c.pool, network_id)) < 0)
		goto out;
	c.b = &c.pool.ring[0];
	/* the records are checked beside the entries; the reader holds the
	 * transaction first */
	rc.t = c.t;
	rc.pool = &c.pool;
	rc.running = pthread_create(&rc.th, NULL, audit__records_run, &rc) == 0;
	r = log_feeds_each(c.t, audit_feed, &c);
	if (r >= 0 && c.b->nfeeds)
		batch_flush(&c);
	ring_drain(&c);
	if (r >= 0 && c.have_feed)
		feed_over(&c);
	if (r < 0)
		goto out;
	if (pfn)
		pfn(pctx, rep->entries, c.total);
	pthread_mutex_lock(&c.pool.mu);
	audit__txn_take(&c.pool, TXN_READER);
	pthread_mutex_unlock(&c.pool.mu);
	if ((r = audit_forks_read(c.t, &rep->forked, &rep->problems)) < 0)
		goto out;
	rep->forks = rep->forked.n; /* forked feeds */
	rep->bad_evidence = rep->forked.broken;
	for (size_t i = 0; i < rep->forked.n; i++) {
		const struct audit_fork *g = &rep->forked.v[i];
		char a[17];
		audit__hex8(g->author, a);
		problems_add(&rep->problems, "fork",
			     N_("author %s… signed two different entries at seq %llu of feed %s: both kept as evidence, the feed frozen there"),
			     a, (unsigned long long)g->seq, g->scope);
	}
	if ((r = audit__trust_index_check(c.t, rep)) < 0 ||
	    (r = audit__cutoff_check(c.t, network_id, rep)) < 0 ||
	    (r = c.r) < 0 ||
	    (r = audit__erased_check(c.t, &c.erasures, rep)) < 0)
		goto out;
	rc.pfn = pfn;
	rc.pctx = pctx;
	rc.entries = rep->entries;
	rc.total = c.total;
	if ((r = audit__records_tell(&rc, rep)) < 0)
		goto out;
	if ((r = log_held_count(c.t, &rep->held_counted)) < 0 ||
	    (r = refused_each(c.t, refused_count, &rep->refused)) < 0 ||
	    (r = refused_over(c.t, &rep->refused_over)) < 0)
		goto out;
	/* each held entry, and what it waits for (the pending table is
	 * bounded): counted as walked, not taken from the table's count,
	 * which status shows and which one damaged byte changes */
	rep->held = rep->held_nocert = 0;
	if ((r = log_held_each(c.t, count_held, rep)) < 0)
		goto out;
	if (rep->held_counted != rep->held) {
		rep->held_miscount = 1;
		problems_add(&rep->problems, "held",
			     N_("the store's count of its held entries says %llu, and it holds %llu: the store is damaged"),
			     (unsigned long long)rep->held_counted,
			     (unsigned long long)rep->held);
	}
	if (rep->held > rep->held_nocert)
		problems_add(&rep->problems, "held",
			     rep->held - rep->held_nocert == 1
				     ? N_("%llu entry is held waiting for an earlier entry of its feed")
				     : N_("%llu entries are held waiting for an earlier entry of their feed"),
			     (unsigned long long)(rep->held - rep->held_nocert));
	if (rep->held_nocert)
		problems_add(&rep->problems, "held",
			     rep->held_nocert == 1
				     ? N_("%llu entry is held waiting for its author's certificate")
				     : N_("%llu entries are held waiting for their author's certificate"),
			     (unsigned long long)rep->held_nocert);
	r = 0;
out:
	if (rc.running) {
		/* an error: the record thread stops at its next record */
		pthread_mutex_lock(&c.pool.mu);
		c.pool.quit = 1;
		audit__txn_give(&c.pool, TXN_READER);
		pthread_mutex_unlock(&c.pool.mu);
		pthread_join(rc.th, NULL);
	}
	problems_close(&rc.problems);
	pool_stop(&c.pool);
	store_txn_abort(c.t);
	audit__erasures_close(&c.erasures);
	return r;
}

int audit_damaged(const struct audit_report *rep)
{
	return rep->bad_signatures || rep->chain_breaks || rep->bad_bodies ||
	       rep->gaps || rep->wrong_network || rep->digest_mismatch ||
	       rep->records_mismatch || rep->bad_evidence || rep->trust_index ||
	       rep->wrong_root || rep->held_miscount;
}

int audit_evidence(const struct audit_report *rep)
{
	return rep->forks > 0;
}

int audit_findings(const struct audit_report *rep)
{
	return audit_evidence(rep) || rep->past_cutoff > 0 ||
	       rep->erased_bodies > 0;
}

int audit_failed(const struct audit_report *rep)
{
	return audit_damaged(rep) || audit_findings(rep);
}

void audit_report_close(struct audit_report *rep)
{
	if (!rep)
		return;
	audit_forks_close(&rep->forked);
	problems_close(&rep->problems);
}
