#include "store.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static const char *const table_names[ST__COUNT] = {
	"meta",	   "feeds",	"entries",   "seqs",  "records",
	"recops", "uniq",	"conflicts", "forks", "pending", "trust",
	"trustsubj", "erased", "refused", "heard", "changes",
	"feedver", "verfeed", "authfeeds", "peerbase", "dups", "feednums",
};

struct store {
	MDB_env *env;
	MDB_dbi dbi[ST__COUNT];
	int readonly;
	uint64_t map_size;
	uint64_t map_size_max;
	/*
	 * Growing the map unmaps it: LMDB allows that only while no
	 * transaction of this process is open. Every transaction holds this
	 * lock shared; store_grow() takes it exclusively, so it waits for
	 * the open ones to end and no new one starts until the map is
	 * remapped (a thread-pool writer growing under an event-loop
	 * reader is safe by construction).
	 */
	pthread_rwlock_t grow_lock;
	int lock_ready;
	/*
	 * store/hamlet.lock, held shared by every process that has the store
	 * open (flock): store_compact() swaps the files only while it alone
	 * holds it (exclusive), so no other process reads or writes the old
	 * file after the swap. -1 when it could not be opened (a reader of a
	 * copy it may not write).
	 */
	int xfd;
	int compact_pending; /* a compaction was put off: retry */
	/*
	 * A process killed while it read (kill -9, a crash) leaves its slot
	 * in the lock file's reader table, and LMDB keeps every page that
	 * reader could see: the file would grow on every write until the
	 * slot is cleared. Writers clear dead readers' slots
	 * (mdb_reader_check), at most once every READER_CHECK_MS (100 ms).
	 */
	uint64_t reader_check_ms;
	char dir[4096]; /* to tell a full disk from other write faults */
	/* the writer's scratch tables (store_memo): write transactions
	 * are one at a time, so only one thread ever uses them at once */
	void *memo[STORE_MEMOS];
	/* what the writer keeps between transactions (store_writer_keep) */
	void *keep;
	void (*keep_free)(void *);
};

struct store_txn {
	struct store *st;
	MDB_txn *txn;
	int child; /* nested: the parent holds the grow lock */
	int rdonly;
	uint64_t serial; /* store_txn_serial() */
	uint64_t undone; /* a root's: its nested ones aborted so far */
	uint64_t *root_undone; /* the root's count (its own for a root) */
};

static _Atomic uint64_t txn_serials;

struct store_cursor {
	struct store_txn *t;
	MDB_cursor *c;
};

static int map_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return HAMLET_ENOTFOUND;
	case MDB_KEYEXIST:
		return HAMLET_EDUP;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		return HAMLET_EMAPFULL;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
		return HAMLET_ECORRUPT;
	case MDB_VERSION_MISMATCH:
		return HAMLET_EVERSION;
	case MDB_MAP_RESIZED:
		return -EAGAIN;
	default:
		if (rc > 0)
			return -rc; /* an errno */
		return HAMLET_ESTORE;
	}
}

/*
 * A new store is readable by the node's group (operators), whatever the
 * umask: LMDB readers must write the lock file (0660); the data file they
 * only read (0640).
 * The home directory decides who reaches the store (docs/systemd.md);
 * modes are set once, at creation, so an administrator's choice stays.
 */
static void share_with_group(const char *dir)
{
	/* a reader opens data.mdb read-only but must take slots in
	 * lock.mdb: only the lock file is group-writable */
	static const struct {
		const char *name;
		mode_t mode;
	} files[] = { { "data.mdb", 0640 }, { "lock.mdb", 0660 } };
	char p[4096];
	/* on failure the owner still has the store: nothing to undo */
	if (chmod(dir, 0750) != 0)
		return;
	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i].name);
		if (chmod(p, files[i].mode) != 0)
			return;
	}
}

/* 64 MiB, or HAMLET_STORE_INITIAL_MAP bytes (at least 1 MiB), which is
 * how tests make a store grow early and often. */
static uint64_t initial_map(void)
{
	const char *e = getenv("HAMLET_STORE_INITIAL_MAP");
	char *end;
	unsigned long long v;
	if (e && *e) {
		v = strtoull(e, &end, 10);
		if (*end == 0 && v >= (1ull << 20))
			return v;
	}
	return 64ull << 20;
}

/* Create st->env and open dir with flags: 0 or an MDB code, st->env
 * left NULL on failure. */
static int env_open(struct store *st, const char *dir, unsigned flags)
{
	int rc;

	if ((rc = mdb_env_create(&st->env)) != 0)
		return rc;
	mdb_env_set_maxdbs(st->env, ST__COUNT + 2);
	mdb_env_set_mapsize(st->env, st->map_size);
	if ((rc = mdb_env_open(st->env, dir, flags, 0600)) != 0) {
		mdb_env_close(st->env);
		st->env = NULL;
	}
	return rc;
}

/* Open st->dir's environment and tables, checking the format: 0 or a
 * hamlet code, st->env NULL on failure. */
static int attach(struct store *st, int created)
{
	const char *dir = st->dir;
	MDB_txn *txn = NULL;
	int rc, r;

	rc = env_open(st, dir,
		      (st->readonly ? MDB_RDONLY : 0) | MDB_NOTLS | MDB_NORDAHEAD);
	/*
	 * LMDB readers write the lock file too. Where they cannot (a copy
	 * on read-only media, or in a directory the reader may not write),
	 * a reader opens without the lock table. That is sound only while
	 * no writer works on the store, as none can on such a copy: a
	 * writer would reuse pages under a reader it cannot see.
	 */
	if (st->readonly && (rc == EACCES || rc == EROFS))
		rc = env_open(st, dir,
			      MDB_RDONLY | MDB_NOTLS | MDB_NOLOCK | MDB_NORDAHEAD);
	if (rc != 0) {
		r = map_err(rc);
		goto fail;
	}
	if (created)
		share_with_group(dir);
	/* another process may have grown the map: adopt its size */
	mdb_env_set_mapsize(st->env, 0);
	{
		MDB_envinfo info;
		mdb_env_info(st->env, &info);
		if (info.me_mapsize > st->map_size)
			st->map_size = info.me_mapsize;
	}
	rc = mdb_txn_begin(st->env, NULL, st->readonly ? MDB_RDONLY : 0, &txn);
	/* the writer may grow the map again between the two: adopt the new
	 * size and try again (a few times; the writer grows it by doubling) */
	for (int i = 0; rc == MDB_MAP_RESIZED && i < 8; i++) {
		MDB_envinfo info;
		mdb_env_set_mapsize(st->env, 0);
		mdb_env_info(st->env, &info);
		if (info.me_mapsize > st->map_size)
			st->map_size = info.me_mapsize;
		rc = mdb_txn_begin(st->env, NULL, st->readonly ? MDB_RDONLY : 0,
				   &txn);
	}
	if (rc != 0) {
		txn = NULL;
		r = map_err(rc);
		goto fail;
	}
	for (int i = 0; i < ST__COUNT; i++) {
		rc = mdb_dbi_open(txn, table_names[i],
				  st->readonly ? 0 : MDB_CREATE, &st->dbi[i]);
		if (rc == MDB_NOTFOUND && i > ST_META) {
			/* a table a later format added: an older store,
			 * opened read-only so it cannot be upgraded */
			MDB_val k = { 6, "format" }, v;
			r = mdb_get(txn, st->dbi[ST_META], &k, &v) == 0 &&
					    v.mv_size == 8 &&
					    store_get_be64(v.mv_data) <
						    STORE_FORMAT_VERSION
				    ? HAMLET_EVERSION
				    : HAMLET_ECORRUPT;
			goto fail;
		}
		if (rc != 0) {
			r = rc == MDB_NOTFOUND ? HAMLET_ECORRUPT : map_err(rc);
			goto fail;
		}
	}
	{
		MDB_val k = { 6, "format" }, v;
		rc = mdb_get(txn, st->dbi[ST_META], &k, &v);
		if (rc == MDB_NOTFOUND && !st->readonly) {
			uint8_t ver[8];
			store_be64(ver, STORE_FORMAT_VERSION);
			MDB_val nv = { 8, ver };
			if ((rc = mdb_put(txn, st->dbi[ST_META], &k, &nv, 0)) != 0) {
				r = map_err(rc);
				goto fail;
			}
		} else if (rc != 0) {
			r = rc == MDB_NOTFOUND ? HAMLET_ECORRUPT : map_err(rc);
			goto fail;
		} else if (v.mv_size != 8 ||
			   store_get_be64(v.mv_data) != STORE_FORMAT_VERSION) {
			r = HAMLET_EVERSION;
			goto fail;
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		r = map_err(rc);
		goto fail;
	}
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	if (st->env)
		mdb_env_close(st->env);
	st->env = NULL;
	return r;
}

int store_open(const char *dir, const struct store_options *opt,
	       struct store **ret)
{
	struct store *st = calloc(1, sizeof(*st));
	int r, created = 0;

	if (!st)
		return -ENOMEM;
	if (pthread_rwlock_init(&st->grow_lock, NULL) != 0) {
		free(st);
		return -ENOMEM;
	}
	st->lock_ready = 1;
	st->xfd = -1;
	snprintf(st->dir, sizeof(st->dir), "%s", dir);
	st->readonly = opt && opt->readonly;
	st->map_size = opt && opt->map_size ? opt->map_size : initial_map();
	st->map_size_max = opt && opt->map_size_max ? opt->map_size_max
		: (sizeof(void *) == 4 ? (1ull << 30) : (64ull << 30));
	if (!st->readonly) {
		if (mkdir(dir, 0750) == 0)
			created = 1;
		else if (errno != EEXIST) {
			store_close(st);
			return -errno;
		}
	}
	{
		char lp[4200];
		snprintf(lp, sizeof(lp), "%s/hamlet.lock", dir);
		st->xfd = open(lp, st->readonly ? O_RDONLY | O_CLOEXEC
						: O_RDWR | O_CREAT | O_CLOEXEC,
			       0640);
		/* waits while another process compacts the store */
		if (st->xfd >= 0)
			while (flock(st->xfd, LOCK_SH) < 0 && errno == EINTR)
				;
	}
	if ((r = attach(st, created)) < 0) {
		store_close(st);
		return r;
	}
	*ret = st;
	return 0;
}

static int write_err(const struct store *st, int rc);

/* Copy every table of the open environment into a new one at path
 * (a file: MDB_NOSUBDIR), key by key in order; *ret_txnid is the
 * transaction copied. */
static int copy_tables(struct store *st, const char *path,
		       size_t *ret_txnid)
{
	MDB_env *ne = NULL;
	MDB_txn *rt = NULL, *wt = NULL;
	int rc;

	if ((rc = mdb_env_create(&ne)) != 0)
		return map_err(rc);
	mdb_env_set_maxdbs(ne, ST__COUNT + 2);
	mdb_env_set_mapsize(ne, st->map_size);
	if ((rc = mdb_env_open(ne, path, MDB_NOSUBDIR | MDB_NOLOCK, 0600)) ||
	    (rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rt)) ||
	    (rc = mdb_txn_begin(ne, NULL, 0, &wt)))
		goto out;
	*ret_txnid = mdb_txn_id(rt);
	for (int i = 0; i < ST__COUNT && rc == 0; i++) {
		MDB_dbi nd;
		MDB_cursor *c;
		MDB_val k, v;
		unsigned fl = 0;
		if ((rc = mdb_dbi_flags(rt, st->dbi[i], &fl)) ||
		    (rc = mdb_dbi_open(wt, table_names[i], MDB_CREATE | fl,
				       &nd)) ||
		    (rc = mdb_cursor_open(rt, st->dbi[i], &c)))
			break;
		for (int g = mdb_cursor_get(c, &k, &v, MDB_FIRST); g == 0;
		     g = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if (i == ST_META && k.mv_size == 13 &&
			    memcmp(k.mv_data, "erase_pending", 13) == 0)
				continue; /* this copy is what it asked */
			if ((rc = mdb_put(wt, nd, &k, &v,
					  (fl & MDB_DUPSORT) ? MDB_APPENDDUP
							     : MDB_APPEND)))
				break;
		}
		mdb_cursor_close(c);
	}
	if (rc == 0) {
		rc = mdb_txn_commit(wt);
		wt = NULL;
	}
	if (rc == 0)
		rc = mdb_env_sync(ne, 1);
out:
	if (wt)
		mdb_txn_abort(wt);
	if (rt)
		mdb_txn_abort(rt);
	mdb_env_close(ne);
	return rc ? write_err(st, rc) : 0;
}

/* Back to holding the cross-process lock shared. */
static void xlock_shared(struct store *st)
{
	while (st->xfd >= 0 && flock(st->xfd, LOCK_SH) < 0 && errno == EINTR)
		;
}

int store_compact(struct store *st)
{
	char tmp[4200], data[4200], lock[4200];
	struct stat ds, ls;
	size_t copied = 0;
	MDB_envinfo info;
	int r, have_ls;

	if (st->readonly)
		return -EROFS;
	/* alone, or later: another process has the store open */
	if (st->xfd < 0 || flock(st->xfd, LOCK_EX | LOCK_NB) < 0) {
		xlock_shared(st);
		__atomic_store_n(&st->compact_pending, 1, __ATOMIC_RELAXED);
		return -EBUSY;
	}
	snprintf(tmp, sizeof(tmp), "%s/compact.mdb", st->dir);
	snprintf(data, sizeof(data), "%s/data.mdb", st->dir);
	snprintf(lock, sizeof(lock), "%s/lock.mdb", st->dir);
	unlink(tmp);
	/* the copy under a read transaction: this process's readers go on */
	pthread_rwlock_rdlock(&st->grow_lock);
	r = copy_tables(st, tmp, &copied);
	pthread_rwlock_unlock(&st->grow_lock);
	if (r < 0)
		goto fail;
	pthread_rwlock_wrlock(&st->grow_lock);
	/* a write since the copy (none is expected: the caller is the
	 * writer) would be lost by the swap: try again later */
	mdb_env_info(st->env, &info);
	if (info.me_last_txnid != copied) {
		pthread_rwlock_unlock(&st->grow_lock);
		r = -EAGAIN;
		goto fail;
	}
	if (stat(data, &ds) == 0)
		chmod(tmp, ds.st_mode & 07777);
	have_ls = stat(lock, &ls) == 0;
	/*
	 * The swap, with no other process holding the store: our
	 * environment closes, the copy takes data.mdb's name, and the old
	 * lock file goes (a new one is made for the copy).
	 */
	mdb_env_close(st->env);
	st->env = NULL;
	if (rename(tmp, data) != 0) {
		r = -errno;
		unlink(tmp);
	} else {
		unlink(lock);
		r = 0;
	}
	{
		int dfd = open(st->dir, O_RDONLY | O_DIRECTORY);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	for (int i = 0; i < 3 && !st->env; i++)
		if (attach(st, 0) < 0 && i < 2)
			usleep(100000);
	if (!st->env && r == 0)
		r = HAMLET_ESTORE; /* store_txn_begin tries again */
	if (st->env && have_ls)
		chmod(lock, ls.st_mode & 07777);
	pthread_rwlock_unlock(&st->grow_lock);
	if (r == 0)
		__atomic_store_n(&st->compact_pending, 0, __ATOMIC_RELAXED);
	xlock_shared(st);
	return r;
fail:
	unlink(tmp);
	__atomic_store_n(&st->compact_pending, 1, __ATOMIC_RELAXED);
	xlock_shared(st);
	return r;
}

int store_compact_wanted(const struct store *st)
{
	return __atomic_load_n(&st->compact_pending, __ATOMIC_RELAXED);
}

int store_compact_retry(struct store *st)
{
	return store_compact_wanted(st) ? store_compact(st) : 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->env)
		mdb_env_close(st->env);
	if (st->xfd >= 0)
		close(st->xfd); /* drops the shared lock */
	if (st->lock_ready)
		pthread_rwlock_destroy(&st->grow_lock);
	for (int i = 0; i < STORE_MEMOS; i++)
		free(st->memo[i]);
	if (st->keep && st->keep_free)
		st->keep_free(st->keep);
	free(st);
}

uint64_t store_map_size(const struct store *st)
{
	return st->map_size;
}

int store_grow(struct store *st)
{
	uint64_t next;
	int rc;
	pthread_rwlock_wrlock(&st->grow_lock);
	if (st->map_size >= st->map_size_max) {
		pthread_rwlock_unlock(&st->grow_lock);
		return HAMLET_EMAPFULL;
	}
	next = st->map_size * 2;
	if (next > st->map_size_max)
		next = st->map_size_max;
	rc = mdb_env_set_mapsize(st->env, next);
	if (rc == 0)
		st->map_size = next;
	pthread_rwlock_unlock(&st->grow_lock);
	return map_err(rc);
}

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

static int txn_begin_locked(struct store *st, unsigned flags, MDB_txn **ret)
{
	int rc;
	pthread_rwlock_rdlock(&st->grow_lock);
	if ((rc = mdb_txn_begin(st->env, NULL, flags, ret)) != 0)
		pthread_rwlock_unlock(&st->grow_lock);
	return rc;
}

int store_txn_begin(struct store *st, int readonly, struct store_txn **ret)
{
	struct store_txn *t;
	int rc;
	if (!st->env) {
		/* a compaction's reopen failed: try once more */
		pthread_rwlock_wrlock(&st->grow_lock);
		if (!st->env)
			attach(st, 0);
		pthread_rwlock_unlock(&st->grow_lock);
		if (!st->env)
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
		mdb_env_set_mapsize(st->env, 0);
		pthread_rwlock_unlock(&st->grow_lock);
		rc = txn_begin_locked(st, (readonly || st->readonly)
						  ? MDB_RDONLY : 0, &t->txn);
	}
	if (rc != 0) {
		free(t);
		return map_err(rc);
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
static int write_err(const struct store *st, int rc)
{
	struct statvfs sv;
	if (rc == ENOSPC || rc == EDQUOT)
		return HAMLET_EDISKFULL;
	if (rc == EIO && statvfs(st->dir, &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < (1u << 20))
		return HAMLET_EDISKFULL;
	return map_err(rc);
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
		return map_err(rc);
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
	return rc ? write_err(st, rc) : 0;
}

uint64_t store_txn_serial(const struct store_txn *t)
{
	return t->serial;
}

uint64_t store_txn_undone(const struct store_txn *t)
{
	return *t->root_undone;
}

void *store_memo(struct store_txn *t, unsigned i, size_t bytes, int make)
{
	struct store *st = t->st;
	if (t->rdonly || i >= STORE_MEMOS)
		return NULL;
	if (!st->memo[i] && make)
		st->memo[i] = calloc(1, bytes);
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
		return map_err(rc);
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
	return map_err(rc);
}

int store_del(struct store_txn *t, enum store_table tab, const void *key,
	      size_t klen)
{
	MDB_val k = { klen, (void *)key };
	return map_err(mdb_del(t->txn, t->st->dbi[tab], &k, NULL));
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
		return map_err(rc);
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
		return map_err(rc);
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
	return map_err(mdb_cursor_del(c->c, 0));
}

/* The pair with the greatest key <= key (key NULL: the last) into k, v:
 * 1, 0 when none, <0 error. */
static int get_le(struct store_txn *t, enum store_table tab, const void *key,
		  size_t klen, MDB_val *k, MDB_val *v)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(t->txn, t->st->dbi[tab], &c);
	if (rc != 0)
		return map_err(rc);
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
	return rc != 0 ? map_err(rc) : 1;
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
		return map_err(rc);
	*ret = s.ms_entries;
	return 0;
}

int store_write(struct store *st, store_txn_fn fn, void *ctx)
{
	struct store_txn *t;
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
