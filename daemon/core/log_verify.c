/*
 * Checking arriving entries on every core while the writer applies them.
 *
 * A batch is cut into chunks of LOG__VCHUNK entries. A pool of threads,
 * started once per process (one fewer than the cores: the writer is the
 * last), claims chunks in order from an atomic counter and checks them
 * (signature, decoding, content). The writer applies entry i once its
 * chunk is done; while it waits it claims and checks chunks itself, so
 * neither core idles: on two cores one checks chunk k+1 while the other
 * applies chunk k. (A thread for every core was tried, so that a core
 * would not idle while the writer waits on the disk: it gained a
 * fraction of a percent in bulk sync and made `hamlet verify` a third
 * slower, its reader then sharing two cores with three checkers;
 * docs/decisions.md.)
 *
 * The pool takes several batches at once, oldest first: a batch may be
 * handed to it before its write transaction begins (log_check_start), so
 * that a peer's next batch is checked while the one before it commits,
 * the writer then waiting on the disk. Each batch is owned by its
 * caller, so the list is as long as the batches callers hold at once.
 */
#include "log_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define VPOOL_MAX 15

struct log__vbatch {
	log__check_fn fn;
	void *ctx;
	size_t n, nchunks;
	atomic_size_t next;	     /* the next chunk to claim */
	atomic_uchar *done;	     /* per chunk: 1 once checked */
	pthread_mutex_t mu;	     /* with cv: a chunk done */
	pthread_cond_t cv;
	int workers;		     /* pool threads inside (pool.mu) */
	int pooled;		     /* in the pool's list */
	struct log__vbatch *link;    /* the pool's list, oldest first */
};

static struct {
	pthread_once_t once;
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* a batch was added */
	pthread_cond_t left; /* a thread left a batch */
	struct log__vbatch *head, *tail;
	size_t nthreads;
} pool = { .once = PTHREAD_ONCE_INIT,
	   .mu = PTHREAD_MUTEX_INITIALIZER,
	   .cv = PTHREAD_COND_INITIALIZER,
	   .left = PTHREAD_COND_INITIALIZER };

/* Claim and check chunks until none is left; 1 when one was checked. */
static int run_chunks(struct log__vbatch *b)
{
	size_t c;
	int any = 0;
	while ((c = atomic_fetch_add(&b->next, 1)) < b->nchunks) {
		size_t end = (c + 1) * LOG__VCHUNK;
		if (end > b->n)
			end = b->n;
		for (size_t i = c * LOG__VCHUNK; i < end; i++)
			b->fn(b->ctx, i);
		atomic_store_explicit(&b->done[c], 1, memory_order_release);
		pthread_mutex_lock(&b->mu);
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
		any = 1;
	}
	return any;
}

/* The oldest batch of the list with a chunk nobody claimed (pool.mu). */
static struct log__vbatch *pool_find(void)
{
	for (struct log__vbatch *b = pool.head; b; b = b->link)
		if (atomic_load(&b->next) < b->nchunks)
			return b;
	return NULL;
}

static void *pool_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.mu);
	for (;;) {
		struct log__vbatch *b;
		while (!(b = pool_find()))
			pthread_cond_wait(&pool.cv, &pool.mu);
		b->workers++;
		pthread_mutex_unlock(&pool.mu);
		run_chunks(b);
		pthread_mutex_lock(&pool.mu);
		b->workers--;
		pthread_cond_broadcast(&pool.left);
	}
	return NULL;
}

static void pool_start(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = ncpu > 1 ? (size_t)ncpu - 1 : 0;
	pthread_attr_t at;

	if (want > VPOOL_MAX)
		want = VPOOL_MAX;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (size_t i = 0; i < want; i++) {
		pthread_t th;
		if (pthread_create(&th, &at, pool_main, NULL) != 0)
			break;
		pool.nthreads++;
	}
	pthread_attr_destroy(&at);
}

int log__vbatch_start(size_t n, log__check_fn fn, void *ctx,
		      struct log__vbatch **ret)
{
	struct log__vbatch *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->fn = fn;
	b->ctx = ctx;
	b->n = n;
	b->nchunks = (n + LOG__VCHUNK - 1) / LOG__VCHUNK;
	if (!(b->done = calloc(b->nchunks ? b->nchunks : 1,
			       sizeof(*b->done)))) {
		free(b);
		return -ENOMEM;
	}
	atomic_init(&b->next, 0);
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	if (b->nchunks > 1) {
		pthread_once(&pool.once, pool_start);
		pthread_mutex_lock(&pool.mu);
		if (pool.nthreads) {
			if (pool.tail)
				pool.tail->link = b;
			else
				pool.head = b;
			pool.tail = b;
			b->pooled = 1;
			pthread_cond_broadcast(&pool.cv);
		}
		pthread_mutex_unlock(&pool.mu);
	}
	*ret = b;
	return 0;
}

void log__vbatch_wait(struct log__vbatch *b, size_t i)
{
	size_t c = i / LOG__VCHUNK;
	if (c >= b->nchunks)
		return;
	while (!atomic_load_explicit(&b->done[c], memory_order_acquire)) {
		/* help: check what nobody has claimed yet */
		if (run_chunks(b))
			continue;
		/* every chunk is claimed: wait for the one we need */
		pthread_mutex_lock(&b->mu);
		while (!atomic_load_explicit(&b->done[c], memory_order_acquire))
			pthread_cond_wait(&b->cv, &b->mu);
		pthread_mutex_unlock(&b->mu);
	}
}

/* Take b off the pool's list and wait for its threads to leave it. */
static void pool_leave(struct log__vbatch *b)
{
	struct log__vbatch **p;
	pthread_mutex_lock(&pool.mu);
	for (p = &pool.head; *p && *p != b; p = &(*p)->link)
		;
	if (*p) {
		*p = b->link;
		if (pool.tail == b) {
			struct log__vbatch *t = pool.head;
			while (t && t->link)
				t = t->link;
			pool.tail = t;
		}
	}
	while (b->workers > 0)
		pthread_cond_wait(&pool.left, &pool.mu);
	pthread_mutex_unlock(&pool.mu);
}

void log__vbatch_end(struct log__vbatch *b, int finish)
{
	if (!b)
		return;
	if (finish) {
		/* every entry checked, as callers read every result even
		 * when the transaction failed */
		run_chunks(b);
	} else {
		/* unwanted: no chunk is claimed from now on */
		atomic_store(&b->next, b->nchunks);
	}
	if (b->pooled)
		pool_leave(b);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b->done);
	free(b);
}
