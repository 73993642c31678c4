/*
 * changes: the node's own sequence of record changes, as CouchDB's
 * _changes. Every record materialized in a write transaction gets the
 * next seq in that same transaction (log_apply.c calls changes_note where
 * it materializes, so arriving entries and local writes both count). A
 * record appears once, at its latest seq: its older row is dropped, so
 * the table holds at most one row per record.
 *
 *   changes    seq (be64) -> the local seq (be64) of the entry that
 *              caused it (entries.h), whose envelope names the record
 *   meta "changes_seq" -> the last seq given (be64)
 *   meta "changes_epoch" -> the numbering's epoch (be64, random)
 *
 * A record's row in `records` keeps its seq (record.h), so its older
 * row here is found without an index of its own.
 *
 * The seqs are this node's alone: another node numbers its own.
 */
#ifndef HAMLET_CHANGES_H
#define HAMLET_CHANGES_H

#include "entry.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

struct change {
	uint64_t seq;
	char collection[ENTRY_MAX_COLLECTION + 1];
	char id[ENTRY_MAX_RECORD_ID + 1];
	uint8_t entry[ENTRY_ID_LEN]; /* the entry that caused it */
};

/*
 * The changes one transaction notes, in turn: the last seq is read from
 * meta once, at the first, and written back once, by changes_flush().
 * Start zeroed.
 */
struct changes_batch {
	uint64_t last;
	int loaded, dirty;
};

/* The seq the next change noted in b gets (meta is read at the first). */
int changes_next(struct store_txn *t, struct changes_batch *b,
		 uint64_t *ret);

/* The record of the entry stored at local seq lseq changed in t because
 * of it, and got seq, the one changes_next() gave; old: the seq it had
 * before (0: none), whose row is dropped. */
int changes_note(struct store_txn *t, struct changes_batch *b,
		 uint64_t seq, uint64_t old, uint64_t lseq);

/* The record whose change was seq has no op left (a revocation took
 * them out, SPEC §9): its row goes, as it was never noted. */
int changes_drop(struct store_txn *t, uint64_t seq);

/* Write the last seq b gave to meta (nothing when it gave none). */
int changes_flush(struct store_txn *t, struct changes_batch *b);

/* The last seq given (0: none yet). */
int changes_last(struct store_txn *t, uint64_t *ret);

/* The epoch of this store's seqs: a random number the store's first
 * change gives it (meta "changes_epoch"), 0 before. A store made again
 * (moved aside, rebuilt from its peers) numbers its changes anew under
 * another: a reader that kept a seq of the old one starts over. */
int changes_epoch(struct store_txn *t, uint64_t *ret);

/* A new epoch for st's numbering, in a write transaction of its own: a
 * store put back from a backup numbers its next changes again from the
 * backup's last seq, which readers may have passed on the store it
 * replaced (hamletd does this when it finds itself restoring). */
int changes_epoch_renew(struct store *st);

/* An epoch for st's numbering when it has none yet (a store with no
 * change), in a write transaction of its own; nothing is written when it
 * has one. hamletd does this at start, so that every answer of
 * /v1/changes names the epoch its seqs will keep: one that said 0 and
 * then saw the first change get a random epoch would have its reader,
 * sending 0 back, told that the store was made again. */
int changes_epoch_ensure(struct store *st);

/* The seq at which coll/id last changed: HAMLET_ENOTFOUND when never. */
int changes_of(struct store_txn *t, const char *coll, const char *id,
	       uint64_t *ret);

/*
 * Call cb for each change after since, in seq order, at most limit
 * (0: no limit). cb returning non-zero stops the walk and is returned;
 * otherwise 0, or <0 on a store fault.
 */
typedef int (*change_cb)(void *ctx, const struct change *c);
int changes_each(struct store_txn *t, uint64_t since, size_t limit,
		 change_cb cb, void *ctx);

#endif
