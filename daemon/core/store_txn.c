/*
 * store_txn: transactions on the store, and what is done in them: gets,
 * puts and deletes, cursors, counts; the writer's scratch tables and
 * what it keeps between transactions. LMDB's codes become ours through
 * store__map_err().
 */
#include "store_internal.h"

#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

struct store_txn {
	struct store *st;
	MDB_txn *txn;
	int child; /* nested: the parent holds the grow lock */
	int rdonly;
	uint64_t serial; /* store_txn_serial() */
	uint64_t undone; /* a root's: its nested ones aborted so far */
	uint64_t *root_undone; /* the root's count (its own for a root) */
};

int store_txn_hold_all(const struct store_txn *t)
{
	return t->st->hold_all;
}

static _Atomic uint64_t txn_serials;

/* A read's LMDB code as ours. A read-only transaction turns bad only
 * when a read in it met a damaged page (LMDB marks it so): what it
 * reads after that is damage too, whoever ignored the first fault. */
static int read_err(const struct store_txn *t, int rc)
{
	return rc == MDB_BAD_TXN && t->rdonly ? HAMLET_ECORRUPT
					      : store__map_err(rc);
}

struct store_cursor {
	struct store_txn *t;
	MDB_cursor *c;
};

/* Begin a transaction holding the grow lock shared; released at its end. */
#define READER_CHECK_MS 100

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Clear the reader slots of processes that died reading (see struct
 * store), before a write. */
static void readers_clear(struct store *st)
{
	uint64_t now = mono_ms();
	int dead = 0;
	if (st->readonly || (st->reader_check_ms &&
			     now - st->reader_check_ms < READER_CHECK_MS))
		return;
	st->reader_check_ms = now;
	(void)mdb_reader_check(st->env, &dead);
}

/* Not an LMDB code: the environment is closed (below). */
#define TXN_NO_ENV (-1)

static int txn_begin_locked(struct store *st, unsigned flags, MDB_txn **ret)
{
	int rc;
	pthread_rwlock_rdlock(&st->grow_lock);
	/* a compaction on the writer closed it and could not open it
	 * again, after this thread looked (store_txn_begin) */
	if (!st->env)
		rc = TXN_NO_ENV;
	else if ((rc = mdb_txn_begin(st->env, NULL, flags, ret)) == 0)
		return 0;
	pthread_rwlock_unlock(&st->grow_lock);
	return rc;
}

int store_txn_begin(struct store *st, int readonly, struct store_txn **ret)
{
	struct store_txn *t;
	int rc;
	if (!__atomic_load_n(&st->env, __ATOMIC_ACQUIRE)) {
		/* a compaction's reopen failed: try once more */
		pthread_rwlock_wrlock(&st->grow_lock);
		if (!st->env)
			store__attach(st, 0);
		pthread_rwlock_unlock(&st->grow_lock);
		if (!__atomic_load_n(&st->env, __ATOMIC_ACQUIRE))
			return HAMLET_ESTORE;
	}
	if (!(t = malloc(sizeof(*t))))
		return -ENOMEM;
	t->st = st;
	t->child = 0;
	t->rdonly = readonly || st->readonly;
	t->serial = ++txn_serials;
	t->undone = 0;
	t->root_undone = &t->undone;
	rc = txn_begin_locked(st, (readonly || st->readonly) ? MDB_RDONLY : 0,
			      &t->txn);
	for (int i = 0; rc == MDB_MAP_RESIZED && i < 8; i++) {
		/* another process grew the map: adopt its size, with no
		 * transaction of ours open, as store_grow() does (again, if
		 * it grew once more meanwhile) */
		pthread_rwlock_wrlock(&st->grow_lock);
		if (st->env) {
			mdb_env_set_mapsize(st->env, 0);
			store__mapped(st); /* remapped: maybe elsewhere */
		}
		pthread_rwlock_unlock(&st->grow_lock);
		rc = txn_begin_locked(st, (readonly || st->readonly)
						  ? MDB_RDONLY : 0, &t->txn);
	}
	if (rc != 0) {
		free(t);
		return rc == TXN_NO_ENV ? HAMLET_ESTORE : store__map_err(rc);
	}
	/* the one writer: clearing dead readers is ours alone */
	if (!readonly && !st->readonly)
		readers_clear(st);
	*ret = t;
	return 0;
}

/*
 * A commit that cannot write: ENOSPC and EDQUOT say the disk is full;
 * some file systems say EIO instead, so an EIO with under 1 MiB left on
 * the store's file system is a full disk too, not a damaged one.
 */
int store__write_err(const struct store *st, int rc)
{
	struct statvfs sv;
	if (rc == ENOSPC || rc == EDQUOT)
		return HAMLET_EDISKFULL;
	if (rc == EIO && statvfs(st->dir, &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < (1u << 20))
		return HAMLET_EDISKFULL;
	return store__map_err(rc);
}

int store_txn_child(struct store_txn *parent, struct store_txn **ret)
{
	struct store_txn *t = malloc(sizeof(*t));
	int rc;
	if (!t)
		return -ENOMEM;
	t->st = parent->st;
	t->child = 1;
	t->rdonly = parent->rdonly;
	t->serial = parent->serial;
	t->undone = 0;
	t->root_undone = parent->root_undone;
	if ((rc = mdb_txn_begin(parent->st->env, parent->txn, 0, &t->txn))) {
		free(t);
		return store__map_err(rc);
	}
	*ret = t;
	return 0;
}

int store_txn_commit(struct store_txn *t)
{
	struct store *st = t->st;
	int rc = mdb_txn_commit(t->txn);
	if (rc && t->child)
		(*t->root_undone)++; /* its writes are gone, as if aborted */
	if (!t->child)
		pthread_rwlock_unlock(&st->grow_lock);
	free(t);
	return rc ? store__write_err(st, rc) : 0;
}

uint64_t store_txn_serial(const struct store_txn *t)
{
	return t->serial;
}

uint64_t store_txn_undone(const struct store_txn *t)
{
	return *t->root_undone;
}

/* memset through a pointer the compiler cannot see through: a malloc
 * followed by a memset of zeros is otherwise made a calloc again */
static void *(*volatile zero_fill)(void *, int, size_t) = memset;

void *store_memo(struct store_txn *t, unsigned i, size_t bytes, int make)
{
	struct store *st = t->st;
	if (t->rdonly || i >= STORE_MEMOS)
		return NULL;
	if (!st->memo[i] && make && (st->memo[i] = malloc(bytes)))
		/* zeroed by writing: a calloc'd table's pages are first read
		 * (the zero page), then written, which flushes every core's
		 * TLB once a page (uniqidx.c's reserve says more) */
		zero_fill(st->memo[i], 0, bytes);
	return st->memo[i];
}

void **store_writer_keep(struct store_txn *t, void (*free_fn)(void *))
{
	struct store *st = t->st;
	if (t->rdonly)
		return NULL;
	st->keep_free = free_fn;
	return &st->keep;
}

void store_txn_abort(struct store_txn *t)
{
	struct store *st;
	if (!t)
		return;
	st = t->st;
	mdb_txn_abort(t->txn);
	if (t->child)
		(*t->root_undone)++;
	if (!t->child)
		pthread_rwlock_unlock(&st->grow_lock);
	free(t);
}

int store_get(struct store_txn *t, enum store_table tab, const void *key,
	      size_t klen, const void **ret_val, size_t *ret_vlen)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc = mdb_get(t->txn, t->st->dbi[tab], &k, &v);
	if (rc != 0)
		return read_err(t, rc);
	if (ret_val)
		*ret_val = v.mv_data;
	if (ret_vlen)
		*ret_vlen = v.mv_size;
	return 0;
}

int store_get_u64(struct store_txn *t, enum store_table tab, const void *key,
		  size_t klen, uint64_t *ret)
{
	const void *v = NULL;
	size_t vl = 0;
	int r = store_get(t, tab, key, klen, &v, &vl);
	*ret = 0;
	if (r < 0)
		return r;
	if (vl != 8)
		return HAMLET_ECORRUPT;
	*ret = store_get_be64(v);
	return 0;
}

int store_meta_u64(struct store_txn *t, const char *name, uint64_t *ret)
{
	int r = store_get_u64(t, ST_META, name, strlen(name), ret);
	return r == HAMLET_ENOTFOUND ? 0 : r;
}

int store_put(struct store_txn *t, enum store_table tab, const void *key,
	      size_t klen, const void *val, size_t vlen, int flags)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	unsigned mf = 0;
	if (flags & STORE_NOOVERWRITE)
		mf |= MDB_NOOVERWRITE;
	if (flags & STORE_APPEND)
		mf |= MDB_APPEND;
	int rc = mdb_put(t->txn, t->st->dbi[tab], &k, &v, mf);
	if (rc == MDB_KEYEXIST && (flags & STORE_APPEND) &&
	    !(flags & STORE_NOOVERWRITE)) {
		/* not in order after all: fall back to a normal insert */
		rc = mdb_put(t->txn, t->st->dbi[tab], &k, &v, 0);
	}
	return store__map_err(rc);
}

int store_del(struct store_txn *t, enum store_table tab, const void *key,
	      size_t klen)
{
	MDB_val k = { klen, (void *)key };
	return store__map_err(mdb_del(t->txn, t->st->dbi[tab], &k, NULL));
}

int store_cursor_open(struct store_txn *t, enum store_table tab,
		      struct store_cursor **ret)
{
	struct store_cursor *c = malloc(sizeof(*c));
	int rc;
	if (!c)
		return -ENOMEM;
	c->t = t;
	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[tab], &c->c)) != 0) {
		free(c);
		return read_err(t, rc);
	}
	*ret = c;
	return 0;
}

void store_cursor_close(struct store_cursor *c)
{
	if (!c)
		return;
	mdb_cursor_close(c->c);
	free(c);
}

static int cursor_get(struct store_cursor *c, MDB_val *k, MDB_cursor_op op,
		      const void **ret_key, size_t *ret_klen,
		      const void **ret_val, size_t *ret_vlen)
{
	MDB_val v;
	int rc = mdb_cursor_get(c->c, k, &v, op);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return read_err(c->t, rc);
	if (ret_key)
		*ret_key = k->mv_data;
	if (ret_klen)
		*ret_klen = k->mv_size;
	if (ret_val)
		*ret_val = v.mv_data;
	if (ret_vlen)
		*ret_vlen = v.mv_size;
	return 1;
}

int store_cursor_seek(struct store_cursor *c, const void *key, size_t klen,
		      const void **ret_key, size_t *ret_klen,
		      const void **ret_val, size_t *ret_vlen)
{
	MDB_val k = { klen, (void *)key };
	return cursor_get(c, &k, key ? MDB_SET_RANGE : MDB_FIRST, ret_key,
			  ret_klen, ret_val, ret_vlen);
}

int store_cursor_next(struct store_cursor *c, const void **ret_key,
		      size_t *ret_klen, const void **ret_val,
		      size_t *ret_vlen)
{
	MDB_val k;
	return cursor_get(c, &k, MDB_NEXT, ret_key, ret_klen, ret_val,
			  ret_vlen);
}

int store_cursor_del(struct store_cursor *c)
{
	return store__map_err(mdb_cursor_del(c->c, 0));
}

/* The pair with the greatest key <= key (key NULL: the last) into k, v:
 * 1, 0 when none, <0 error. */
static int get_le(struct store_txn *t, enum store_table tab, const void *key,
		  size_t klen, MDB_val *k, MDB_val *v)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(t->txn, t->st->dbi[tab], &c);
	if (rc != 0)
		return read_err(t, rc);
	k->mv_size = klen;
	k->mv_data = (void *)key;
	rc = key ? mdb_cursor_get(c, k, v, MDB_SET_RANGE) : MDB_NOTFOUND;
	if (rc == 0 && !(k->mv_size == klen && memcmp(k->mv_data, key, klen) == 0))
		rc = mdb_cursor_get(c, k, v, MDB_PREV); /* past it */
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, k, v, MDB_LAST); /* all before it */
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc != 0 ? read_err(t, rc) : 1;
}

int store_get_le(struct store_txn *t, enum store_table tab, const void *key,
		 size_t klen, const void **ret_key, size_t *ret_klen,
		 const void **ret_val, size_t *ret_vlen)
{
	MDB_val k, v;
	int r = get_le(t, tab, key, klen, &k, &v);
	if (r == 1) {
		*ret_key = k.mv_data;
		*ret_klen = k.mv_size;
		*ret_val = v.mv_data;
		*ret_vlen = v.mv_size;
	}
	return r;
}

int store_last_key(struct store_txn *t, enum store_table tab,
		   const void **ret_key, size_t *ret_klen)
{
	MDB_val k, v;
	int r = get_le(t, tab, NULL, 0, &k, &v);
	if (r == 1) {
		*ret_key = k.mv_data;
		*ret_klen = k.mv_size;
	}
	return r;
}

int store_count(struct store_txn *t, enum store_table tab, uint64_t *ret)
{
	MDB_stat s;
	int rc = mdb_stat(t->txn, t->st->dbi[tab], &s);
	if (rc != 0)
		return read_err(t, rc);
	*ret = s.ms_entries;
	return 0;
}

int store_write(struct store *st, store_txn_fn fn, void *ctx)
{
	struct store_txn *t = NULL;
	int r;

	for (int attempt = 0;; attempt++) {
		if ((r = store_txn_begin(st, 0, &t)) < 0)
			return r;
		if ((r = fn(t, ctx)) >= 0)
			r = store_txn_commit(t);
		else
			store_txn_abort(t);
		if (r == HAMLET_EMAPFULL && attempt < 4 && store_grow(st) == 0)
			continue;
		return r;
	}
}
