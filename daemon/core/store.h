/*
 * store: the node's LMDB environment, behind our own small key-value API.
 *
 * This is the only module that includes lmdb.h; MDB_* codes become
 * hamlet codes here (MDB_NOTFOUND -> HAMLET_ENOTFOUND, MDB_MAP_FULL ->
 * HAMLET_EMAPFULL, anything else -> HAMLET_ESTORE or HAMLET_ECORRUPT).
 * The tables and their key layouts are listed in docs/architecture.md.
 */
#ifndef HAMLET_STORE_H
#define HAMLET_STORE_H

#include <stddef.h>
#include <stdint.h>

enum store_table {
	ST_META,      /* name -> value */
	ST_FEEDS,     /* feed key(32) -> feed head */
	ST_ENTRIES,   /* local seq(be64) -> envelope (or what of it a
		       * feed's entries do not share), signature, body
		       * (entries.h: appended in arrival order) */
	ST_SEQS,      /* feed key(32) || first seq(be64) -> first local
		       * seq(be64) || count(be64): a run (entries.h) */
	ST_RECORDS,   /* collection \0 record id -> change seq, then the
		       * materialized state or where its one op is
		       * (record_internal.h) */
	ST_RECOPS,    /* collection \0 record id \0 hlc(be64) || id(32) ->
		       * the entry's local seq(be64), for a record of two
		       * ops or more */
	ST_UNIQ,      /* collection \0 record id -> key hash(16) (uniqidx.h) */
	ST_CONFLICTS, /* collection \0 record id -> conflicting field names */
	ST_FORKS,     /* feed key(32) || seq(be64) || id(32) -> envelope + sig */
	ST_PENDING,   /* feed key(32) || seq(be64) -> envelope + sig + body */
	ST_TRUST,     /* kind(1) || id(32) -> certificate, revocation, proof */
	ST_TRUSTSUBJ, /* subject(32) || kind(1) || id(32) -> empty */
	ST_ERASED,    /* collection \0 record id \0 erasure id(32) -> scope */
	ST_REFUSED,   /* entry id(32) -> why it was refused, envelope, sig */
	ST_HEARD,     /* 'f' || feed key(32) -> when, via; 'p' || peer key(32)
		       * -> last contact; 'b' || peer key(32) -> day,
		       * bytes sent that day (heard.h) */
	ST_CHANGES,   /* seq(be64) -> the local seq(be64) of the entry
		       * that made the change, or 0(be64) || collection \0
		       * record id \0 scope: a record gone (changes.h) */
	ST_FEEDVER,   /* feed key(32) -> version(be64) of its last advance */
	ST_VERFEED,   /* version(be64) || feed key(32) -> empty */
	ST_AUTHFEEDS, /* author(32) || feed key(32) -> empty */
	ST_PEERBASE,  /* peer key(32) -> what we held when we last agreed */
	ST_DUPS,      /* collection \0 key hash(16) || record id -> empty:
		       * each record of a unique key that two live records
		       * or more share (uniqidx.h) */
	ST_FEEDNUMS,  /* 'k' || feed key(32) -> number(be32); 'n' ||
		       * number(be32) -> author(32) || scope: the feeds
		       * the entries table names by number (entries.h) */
	ST_GONE,      /* collection \0 record id -> the seq(be64) of its
		       * gone change (changes.h) */
	ST__COUNT
};

#define STORE_FORMAT_VERSION 14 /* 3: the trust set; 4: bodies by entry
				  * id, erasures; 5: feed versions, totals
				  * and each author's feeds (heads.h), the
				  * shared unique keys (dups); 6: entries
				  * in arrival order with their bodies; 7:
				  * the bodies' dictionary with zstd's
				  * statistics (bodyz.h), the bytes sent
				  * to each peer today (heard.h); 8: no
				  * index by entry id, a record's op rows
				  * hold their entry's local seq; 9: an
				  * entry's row keeps what its feed and
				  * network do not give (feednums), a
				  * record of one op has no op row, its
				  * records row keeps its change seq (no
				  * changeidx); 10: uniq keyed by record,
				  * dups a row for each record of a shared
				  * key (uniqidx.h); 11: a reversal's
				  * unique key holds what it reverses; 12:
				  * a feed's row keeps its signatures'
				  * mark (log_feed.sigs); 13: a refused
				  * entry's sentence of up to 1,024 bytes
				  * (its length a be16); 14: a record taken
				  * out keeps a gone change (changes.h) */

struct store;
struct store_txn;
struct store_cursor;

struct store_options {
	int readonly;
	uint64_t map_size;     /* initial map size; 0 = 64 MiB */
	uint64_t map_size_max; /* growth stops here; 0 = 64 GiB (32 GiB... see docs) */
	/* a report's scratch store (report_bundle.h): every entry past a
	 * gap is held, however many and however far past it (the file
	 * judged bounds them), so that the report counts each author's
	 * sound entries whatever a damaged frame took out before them */
	int hold_all;
};

/*
 * Open (creating when writable) the store in directory dir. A store of
 * another format version is HAMLET_EVERSION. One whose files do not
 * read is HAMLET_ECORRUPT: data.mdb ending before pages its header
 * counts that are in use (cut short by a copy or a power cut), its
 * header damaged, or (opened read-only) data.mdb empty; a writer makes a
 * new store of an empty one, as of a missing one. Checking the length
 * reads the free list, which may itself be past the end: the SIGBUS
 * store_on_damaged() tells. Free with store_close().
 */
int store_open(const char *dir, const struct store_options *opt,
	       struct store **ret);
void store_close(struct store *st);

/*
 * Called when the database library meets a page of a store's files that
 * is missing (data.mdb cut short: the read past its end is a SIGBUS) or
 * not what the pages around it say (zeroed or mixed up on disk: one of
 * its assertions fails), on the thread that read it, as the process is
 * about to end: dir is the store's directory, what says which (English,
 * marked for translation, or the library's own words; borrowed for the
 * call). The process's one function, set before any store opens (it
 * installs a SIGBUS handler, which passes faults outside a store's map
 * to the one before it): it says so where the user sees it and ends the
 * process itself (_exit). When it returns, the library aborts, or the
 * signal ends the process. NULL: none.
 */
typedef void (*store_damaged_fn)(const char *dir, const char *what);
void store_on_damaged(store_damaged_fn fn);

/*
 * Grow the map (double it, up to map_size_max) after HAMLET_EMAPFULL.
 * No transaction may be open. HAMLET_EMAPFULL when already at the cap.
 */
int store_grow(struct store *st);
uint64_t store_map_size(const struct store *st);

/*
 * Rewrite the store into a new file, key by key, and put it in the old
 * one's place: what was deleted (an erased body, SPEC §1.6) is then in
 * none of the store's files, where LMDB would keep it in free pages
 * until reused. The copy is made under a read transaction (this
 * process's readers go on); the swap waits for them and blocks new ones
 * for a moment. It runs only while no other process has the store open
 * (store/hamlet.lock, held shared by each one that does): otherwise it
 * is put off, -EBUSY, and store_compact_retry() tries again. Meta
 * "erase_pending" is dropped from the copy. On failure the store is as
 * it was.
 */
int store_compact(struct store *st);
/* store_compact() again when one was put off; 0 when none was. */
int store_compact_retry(struct store *st);
/* 1 when a compaction was put off and waits for store_compact_retry(). */
int store_compact_wanted(const struct store *st);

int store_txn_begin(struct store *st, int readonly, struct store_txn **ret);
/* The store of t was opened with hold_all (store_options). */
int store_txn_hold_all(const struct store_txn *t);
/* Commit (durable when it returns 0) and free the transaction. */
int store_txn_commit(struct store_txn *t);
/*
 * A write transaction nested in parent (a write transaction): what it
 * does is seen by parent once it commits, and is gone when it aborts,
 * while parent goes on. parent may not be used until the child has
 * committed or aborted (store_txn_commit/abort end either kind).
 */
int store_txn_child(struct store_txn *parent, struct store_txn **ret);
/* Abort and free; accepts NULL. */
void store_txn_abort(struct store_txn *t);
/* A number no other transaction of this process has had (a nested one
 * has its parent's). */
uint64_t store_txn_serial(const struct store_txn *t);
/* How many nested transactions of t's outermost one were aborted so far:
 * what a thread remembers of a transaction holds while this and the
 * serial stay the same. */
uint64_t store_txn_undone(const struct store_txn *t);

/*
 * Scratch table i (< STORE_MEMOS) of the store's writer, of bytes bytes
 * (the same at every call for an i), zeroed when made (make), then kept
 * until the store closes: what a write transaction remembers between
 * its steps (wmemo.h). NULL in a read-only transaction, which never sees
 * them, and when memory runs out. Write transactions are one at a time,
 * so no lock guards them.
 */
#define STORE_MEMOS 4
void *store_memo(struct store_txn *t, unsigned i, size_t bytes, int make);
/*
 * The one object the store's writer keeps from one write transaction to
 * the next (the unique-key index, uniqidx.h): the slot, NULL until set,
 * its object freed with free_fn when the store closes. NULL in a
 * read-only transaction. What it holds may be stale (another process
 * wrote, a transaction was aborted): its user tells.
 */
void **store_writer_keep(struct store_txn *t, void (*free_fn)(void *));

typedef int (*store_txn_fn)(struct store_txn *t, void *ctx);
/*
 * Run fn in a write transaction and commit what it did (fn < 0: abort,
 * nothing stored). When the map is full the transaction is aborted, the
 * map grown (store_grow) and fn run again from the start, a few times.
 */
int store_write(struct store *st, store_txn_fn fn, void *ctx);

/*
 * Look up key. HAMLET_ENOTFOUND when absent. *ret_val borrows from the
 * map and is valid until the transaction ends or the next write in it.
 */
int store_get(struct store_txn *t, enum store_table tab, const void *key,
	      size_t klen, const void **ret_val, size_t *ret_vlen);
/* A value of 8 bytes read as a big-endian number: HAMLET_ENOTFOUND when
 * absent, HAMLET_ECORRUPT when it is not 8 bytes long. */
int store_get_u64(struct store_txn *t, enum store_table tab, const void *key,
		  size_t klen, uint64_t *ret);
/* store_get_u64() of meta name, 0 when absent. */
int store_meta_u64(struct store_txn *t, const char *name, uint64_t *ret);
/* flags: STORE_NOOVERWRITE returns HAMLET_EDUP when the key exists. */
#define STORE_NOOVERWRITE 1
#define STORE_APPEND 2 /* key sorts after every key in the table */
int store_put(struct store_txn *t, enum store_table tab, const void *key,
	      size_t klen, const void *val, size_t vlen, int flags);
/* 0, or HAMLET_ENOTFOUND when there was nothing to delete. */
int store_del(struct store_txn *t, enum store_table tab, const void *key,
	      size_t klen);

int store_cursor_open(struct store_txn *t, enum store_table tab,
		      struct store_cursor **ret);
void store_cursor_close(struct store_cursor *c);
/*
 * Position at the first key >= key (key NULL: the first key), or step to
 * the next key. 1 with key and value filled, 0 past the end, <0 error.
 * Pointers borrow as for store_get().
 */
int store_cursor_seek(struct store_cursor *c, const void *key, size_t klen,
		      const void **ret_key, size_t *ret_klen,
		      const void **ret_val, size_t *ret_vlen);
int store_cursor_next(struct store_cursor *c, const void **ret_key,
		      size_t *ret_klen, const void **ret_val,
		      size_t *ret_vlen);
/* Delete the pair under the cursor. */
int store_cursor_del(struct store_cursor *c);

/* The pair with the greatest key <= key: 1 with it filled, 0 when there
 * is none, <0 error. Pointers borrow as for store_get(). */
int store_get_le(struct store_txn *t, enum store_table tab, const void *key,
		 size_t klen, const void **ret_key, size_t *ret_klen,
		 const void **ret_val, size_t *ret_vlen);

/* The last key of a table: 1 with it filled, 0 when the table is
 * empty, <0 error. Pointers borrow as for store_get(). */
int store_last_key(struct store_txn *t, enum store_table tab,
		   const void **ret_key, size_t *ret_klen);

/* Number of keys in a table. */
int store_count(struct store_txn *t, enum store_table tab, uint64_t *ret);

/* Big-endian helpers for keys that sort by number. */
static inline void store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}
static inline uint64_t store_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}
static inline void store_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}
static inline uint32_t store_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

#endif
