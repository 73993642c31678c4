/*
 * store_internal: what store.c (the environment: opening, growing,
 * compacting) and store_txn.c (transactions, and the reads and writes in
 * them) share. Nothing outside the store module includes it.
 */
#ifndef HAMLET_STORE_INTERNAL_H
#define HAMLET_STORE_INTERNAL_H

#include "store.h"

#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>

struct store {
	MDB_env *env;
	MDB_dbi dbi[ST__COUNT];
	int readonly;
	int hold_all; /* store_options */
	uint64_t map_size;
	uint64_t map_size_max;
	/*
	 * Growing the map unmaps it: LMDB allows that only while no
	 * transaction of this process is open. Every transaction holds this
	 * lock shared; store_grow() takes it exclusively, so it waits for
	 * the open ones to end and no new one starts until the map is
	 * remapped (a thread-pool writer growing under an event-loop
	 * reader is safe by construction).
	 *
	 * Readers are preferred: a thread takes it shared while it waits
	 * for no exclusive holder, only for one that holds it. So a thread
	 * may take it shared while holding a lock that a transaction's
	 * holder waits for (the own-feeds table's, which "hamlet own-feeds
	 * forget-lost" holds across its read and the writer asks within
	 * its transaction): those who take it exclusively take no other
	 * lock while they hold it.
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
	/* where the kernel mapped data.mdb while the environment is open
	 * (every mapping of the file in this process; none when closed), for
	 * a SIGBUS there to be told as the store's (store_damage.c) */
	struct {
		uintptr_t lo, hi;
	} maps[4];
	char dir[4096]; /* to tell a full disk from other write faults */
	/* the writer's scratch tables (store_memo): write transactions
	 * are one at a time, so only one thread ever uses them at once */
	void *memo[STORE_MEMOS];
	/* what the writer keeps between transactions (store_writer_keep) */
	void *keep;
	void (*keep_free)(void *);
};

/* An MDB_* code (or an errno LMDB passed on) as one of ours. */
int store__map_err(int rc);

/* A write that failed with rc as one of ours: HAMLET_EDISKFULL when the
 * disk is full (store_txn.c). */
int store__write_err(const struct store *st, int rc);

/* Open st->dir's environment and tables, checking the format: 0 or a
 * hamlet code, st->env NULL on failure. */
int store__attach(struct store *st, int created);

/* LMDB's assertion function (mdb_env_set_assert) for a store's
 * environment, whose user context is the store (store_damage.c). */
void store__assert(MDB_env *env, const char *msg);
/* The SIGBUS handler of store_damage.c installed, once for the process
 * (before the first store opens). */
void store__bus_watch(void);
/* fn(ctx), on this thread: a SIGBUS in a store's map while it runs (a
 * page past the end of a file cut short) ends fn there and is
 * HAMLET_ECORRUPT. fn only reads (nothing it holds is left half-made but
 * what its ctx records, for the caller to release). */
int store__guarded(int (*fn)(void *ctx), void *ctx);
/* st's environment is open, or its map moved (grown): a SIGBUS there is
 * the store's. */
void store__mapped(struct store *st);
/* st's environment is about to close; forget: for good (store_close). */
void store__unmapped(struct store *st, int forget);

#endif
