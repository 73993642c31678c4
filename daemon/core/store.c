#include "store_internal.h"

#include "error.h"
#include "homefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const table_names[ST__COUNT] = {
	"meta",	   "feeds",	"entries",   "seqs",  "records",
	"recops", "uniq",	"conflicts", "forks", "pending", "trust",
	"trustsubj", "erased", "refused", "heard", "changes",
	"feedver", "verfeed", "authfeeds", "peerbase", "dups", "feednums",
	"gone",
};

int store__map_err(int rc)
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
	/* a table's flags, or a tree deeper than any LMDB builds: read
	 * from a damaged page, as our tables are fixed */
	case MDB_INCOMPATIBLE:
	case MDB_CURSOR_FULL:
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

/*
 * The lock file LMDB just made for an existing store: writable by the
 * group when data.mdb is readable by it, as share_with_group() makes a
 * new store, so that operators' readers take slots in it (without,
 * they read without the lock table while hamletd writes). A data.mdb
 * the group may not read keeps its lock file the owner's.
 */
static void lock_like_data(const char *dir)
{
	char p[4096];
	struct stat ds;

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	if (stat(p, &ds) != 0 || !(ds.st_mode & S_IRGRP))
		return;
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	(void)chmod(p, 0660);
}

/* A file this process just made in the store (a compaction's copy, the
 * lock file made again): the home's user's (homefile.h). */
static void give_made(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	homefile_own(fd, path);
	close(fd);
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

/*
 * data.mdb's two header pages, checked before LMDB opens it: LMDB takes
 * the page size from the first and reads the second where that says,
 * mapping the file by it, so a page size that a damaged byte made absurd
 * is an error at best (EINVAL) and a read past the end (SIGBUS) at
 * worst. The fields read are LMDB's data format 1 (mdb.c's MDB_meta
 * after the page header: its magic, and the page size in the free
 * table's first word, past the version, address and map size; LMDB
 * checks the version itself): each page's magic and the same page
 * size, a power of two of 512 to 64 KiB, in both. 0 when they hold (or
 * the file is missing or too short to tell: LMDB says what that is),
 * MDB_CORRUPTED when not.
 */
/* the page header: pgno (a size_t), pad, flags, lower, upper */
#define LMDB_META_OFF (sizeof(size_t) + 8)
/* in the meta: magic, version, address (a pointer), map size (a size_t),
 * then the free table's first word, the page size */
#define LMDB_PSIZE_OFF (LMDB_META_OFF + 8 + sizeof(void *) + sizeof(size_t))
#define LMDB_MAGIC 0xBEEFC0DEu
static int env_check_header(const char *dir)
{
	uint8_t b[LMDB_PSIZE_OFF + 4];
	uint32_t magic, psize0 = 0, psize;
	char p[4200];
	struct stat sb;
	int fd, bad = 0;

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &sb) != 0 || sb.st_size < (off_t)sizeof(b)) {
		close(fd);
		return 0;
	}
	for (int i = 0; i < 2 && !bad; i++) {
		off_t at = (off_t)i * psize0;
		if (i == 1 && sb.st_size < at + (off_t)sizeof(b))
			break; /* cut short: the length check tells */
		if (pread(fd, b, sizeof(b), at) != (ssize_t)sizeof(b)) {
			bad = 1;
			break;
		}
		memcpy(&magic, b + LMDB_META_OFF, 4);
		memcpy(&psize, b + LMDB_PSIZE_OFF, 4);
		if (i == 0)
			psize0 = psize;
		bad = magic != LMDB_MAGIC || psize != psize0 || psize < 512 ||
		      psize > 65536 || (psize & (psize - 1)) != 0;
	}
	close(fd);
	return bad ? MDB_CORRUPTED : 0;
}

/* Create st->env and open dir with flags: 0 or an MDB code, st->env
 * left NULL on failure; MDB_CORRUPTED when its header is damaged
 * (env_check_header()). */
static int env_open(struct store *st, const char *dir, unsigned flags)
{
	MDB_env *e;
	int rc;

	if ((rc = mdb_env_create(&e)) != 0)
		return rc;
	mdb_env_set_userctx(e, st);
	mdb_env_set_assert(e, store__assert);
	mdb_env_set_maxdbs(e, ST__COUNT + 2);
	mdb_env_set_mapsize(e, st->map_size);
	if ((rc = env_check_header(dir)) == 0)
		rc = mdb_env_open(e, dir, flags, 0600);
	if (rc != 0) {
		mdb_env_close(e);
		e = NULL;
	}
	/* another thread looks without the lock (store_txn_begin) */
	__atomic_store_n(&st->env, e, __ATOMIC_RELEASE);
	return rc;
}

/* What free_pages_past() works on: the pages from have to last, and the
 * transaction and cursor it holds (released by free_pages_check()). */
struct free_walk {
	MDB_env *env;
	uint64_t have, last, free_there;
	MDB_txn *txn;
	MDB_cursor *c;
};

/* Count the pages from w->have to w->last in LMDB's free list (table 0,
 * read in a read transaction only): 0 or a hamlet code. */
static int free_pages_past(void *ctx)
{
	struct free_walk *w = ctx;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_txn_begin(w->env, NULL, MDB_RDONLY, &w->txn)) != 0) {
		w->txn = NULL;
		return store__map_err(rc);
	}
	if ((rc = mdb_cursor_open(w->txn, 0, &w->c)) != 0) {
		w->c = NULL;
		return store__map_err(rc);
	}
	for (rc = mdb_cursor_get(w->c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(w->c, &k, &v, MDB_NEXT)) {
		/* a count, then that many page numbers */
		size_t n, pg;
		if (v.mv_size < sizeof(n))
			return HAMLET_ECORRUPT;
		memcpy(&n, v.mv_data, sizeof(n));
		if (n > v.mv_size / sizeof(pg) - 1)
			return HAMLET_ECORRUPT;
		for (size_t i = 1; i <= n; i++) {
			memcpy(&pg, (const char *)v.mv_data + i * sizeof(pg),
			       sizeof(pg));
			if (pg >= w->have && pg <= w->last)
				w->free_there++;
		}
	}
	return rc == MDB_NOTFOUND ? 0 : store__map_err(rc);
}

/*
 * LMDB maps data.mdb and reads its pages wherever its header says they
 * are: a file cut short (a copy that stopped half-way, a power cut before
 * the file system kept its length) is a SIGBUS at the first read past its
 * end. Before the tables are read, the file must reach the last page the
 * header counts, but for free pages: LMDB does not write a page it took
 * and freed in one transaction, and a sound file may end before such
 * pages. So every page past the end must be in its free list, whose own
 * pages past the end are found by the SIGBUS their read is
 * (store__guarded()). 0, or HAMLET_ECORRUPT.
 */
static int env_check_length(MDB_env *env)
{
	struct free_walk w = { .env = env };
	MDB_envinfo info;
	MDB_stat ms;
	mdb_filehandle_t fd;
	struct stat sb;
	int r;

	if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &ms) != 0 ||
	    mdb_env_get_fd(env, &fd) != 0)
		return HAMLET_ESTORE;
	if (fstat(fd, &sb) != 0)
		return -errno;
	w.have = (uint64_t)sb.st_size / ms.ms_psize; /* whole pages */
	w.last = info.me_last_pgno;
	if (w.have > w.last)
		return 0;
	r = store__guarded(free_pages_past, &w);
	if (w.c)
		mdb_cursor_close(w.c);
	if (w.txn)
		mdb_txn_abort(w.txn);
	if (r < 0) /* a free list that does not read */
		return r;
	return w.free_there >= w.last + 1 - w.have ? 0 : HAMLET_ECORRUPT;
}

/* An open that failed (rc) on data.mdb of 0 bytes, a copy that stopped
 * before its first byte: LMDB takes it for a new store, which a reader
 * cannot make (a writer makes one, as when data.mdb is missing). */
static int empty_file(const char *dir)
{
	char p[4200];
	struct stat sb;
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	return stat(p, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0;
}

/* Open st->dir's environment and tables, checking the format: 0 or a
 * hamlet code, st->env NULL on failure. */
int store__attach(struct store *st, int created)
{
	const char *dir = st->dir;
	MDB_txn *txn = NULL;
	char lockp[4096];
	struct stat lst;
	int rc, r, lock_new;

	/* a store put back without its lock file (a restore copies
	 * data.mdb alone): LMDB makes one of mode 0600 */
	snprintf(lockp, sizeof(lockp), "%s/lock.mdb", dir);
	lock_new = !st->readonly && !created && stat(lockp, &lst) != 0 &&
		   errno == ENOENT;
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
		r = st->readonly && empty_file(dir) ? HAMLET_ECORRUPT
						    : store__map_err(rc);
		goto fail;
	}
	store__mapped(st); /* a read past the end from here on: told */
	if (created)
		share_with_group(dir);
	else if (lock_new)
		lock_like_data(dir);
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
		/* still resized after every try: a writer does not grow the
		 * map that often; a header whose map cannot be adopted is
		 * damaged (a reader's copy has no writer at all) */
		r = rc == MDB_MAP_RESIZED && st->readonly ? HAMLET_ECORRUPT
							  : store__map_err(rc);
		goto fail;
	}
	store__mapped(st); /* the size adopted: maybe mapped elsewhere */
	if ((r = env_check_length(st->env)) < 0)
		goto fail;
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
			r = rc == MDB_NOTFOUND ? HAMLET_ECORRUPT
					       : store__map_err(rc);
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
				r = store__map_err(rc);
				goto fail;
			}
		} else if (rc != 0) {
			r = rc == MDB_NOTFOUND ? HAMLET_ECORRUPT
					       : store__map_err(rc);
			goto fail;
		} else if (v.mv_size != 8 ||
			   store_get_be64(v.mv_data) != STORE_FORMAT_VERSION) {
			r = HAMLET_EVERSION;
			goto fail;
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		r = store__map_err(rc);
		goto fail;
	}
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	store__unmapped(st, 0);
	if (st->env)
		mdb_env_close(st->env);
	__atomic_store_n(&st->env, NULL, __ATOMIC_RELEASE);
	return r;
}

int store_open(const char *dir, const struct store_options *opt,
	       struct store **ret)
{
	struct store *st = calloc(1, sizeof(*st));
	int r, created = 0;

	store__bus_watch();
	if (!st)
		return -ENOMEM;
	pthread_rwlockattr_t ga;
	if (pthread_rwlockattr_init(&ga) != 0) {
		free(st);
		return -ENOMEM;
	}
	/* a reader never waits behind a writer that only waits (glibc's
	 * default, said here because store_internal.h relies on it) */
	pthread_rwlockattr_setkind_np(&ga, PTHREAD_RWLOCK_PREFER_READER_NP);
	r = pthread_rwlock_init(&st->grow_lock, &ga);
	pthread_rwlockattr_destroy(&ga);
	if (r != 0) {
		free(st);
		return -ENOMEM;
	}
	st->lock_ready = 1;
	st->xfd = -1;
	snprintf(st->dir, sizeof(st->dir), "%s", dir);
	st->readonly = opt && opt->readonly;
	st->hold_all = opt && opt->hold_all;
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
		st->xfd = st->readonly ? open(lp, O_RDONLY | O_CLOEXEC)
				       : homefile_open(lp, O_RDWR, 0640);
		/* waits while another process compacts the store */
		if (st->xfd >= 0)
			while (flock(st->xfd, LOCK_SH) < 0 && errno == EINTR)
				;
	}
	if ((r = store__attach(st, created)) < 0) {
		store_close(st);
		return r;
	}
	if (created) {
		static const char *const made[] = { "data.mdb", "lock.mdb",
						    "hamlet.lock" };
		homefile_own_made(dir, made, 3);
	}
	*ret = st;
	return 0;
}

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
		return store__map_err(rc);
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
	return rc ? store__write_err(st, rc) : 0;
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
	/* an earlier compaction could not open the store again: the next
	 * transaction tries (store_txn_begin), this waits for it */
	if (!__atomic_load_n(&st->env, __ATOMIC_ACQUIRE))
		return HAMLET_ESTORE;
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
	give_made(tmp);
	have_ls = stat(lock, &ls) == 0;
	/*
	 * The swap, with no other process holding the store: our
	 * environment closes, the copy takes data.mdb's name, and the old
	 * lock file goes (a new one is made for the copy).
	 */
	store__unmapped(st, 0);
	mdb_env_close(st->env);
	__atomic_store_n(&st->env, NULL, __ATOMIC_RELEASE);
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
		if (store__attach(st, 0) < 0 && i < 2)
			usleep(100000);
	if (!st->env && r == 0)
		r = HAMLET_ESTORE; /* store_txn_begin tries again */
	if (st->env && have_ls)
		chmod(lock, ls.st_mode & 07777);
	if (st->env)
		give_made(lock);
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
	store__unmapped(st, 1);
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
	if (rc == 0) {
		st->map_size = next;
		store__mapped(st); /* remapped: maybe elsewhere */
	}
	pthread_rwlock_unlock(&st->grow_lock);
	return store__map_err(rc);
}
