/*
 * changes: the node's own sequence of record changes, as CouchDB's
 * _changes. Every record materialized in a write transaction gets the
 * next seq in that same transaction (log_apply.c calls changes_note where
 * it materializes, so arriving entries and local writes both count). A
 * record appears once, at its latest seq: its older row is dropped, so
 * the table holds at most one row per record.
 *
 * A record the node stops holding (a revocation, or a certificate that
 * lets it read less, took all its ops out: SPEC §9) gets a change too, a
 * gone one, naming it, so that a reader that copied it learns to drop
 * its copy: it has no entry to name it by, so its row names it itself.
 * Its gone row stays until the record comes back, when its next change
 * drops it as any older row. So the table holds at most one row for each
 * record the node holds or has held, and no more: gone rows are not cut
 * by age, since a reader behind would then keep a copy of a record the
 * node gave up, the very thing they are there to prevent
 * (docs/decisions.md).
 *
 *   changes    seq (be64) -> the local seq (be64) of the entry that
 *              caused it (entries.h), whose envelope names the record;
 *              or, a record gone, 0 (be64) || collection \0 record id
 *              \0 the scope it was written in
 *   gone       collection \0 record id -> the seq (be64) of its gone
 *              change
 *   meta "changes_seq" -> the last seq given (be64)
 *   meta "changes_epoch" -> the numbering's epoch (be64, random)
 *
 * A record's row in `records` keeps its seq (record.h), so its older
 * row here is found without an index of its own; a record gone has no
 * row there, so `gone` is that index for its gone row.
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
	uint8_t entry[ENTRY_ID_LEN]; /* the entry that caused it; zeros
				      * when gone */
	/* 1: the node no longer holds the record (changes_gone); scope is
	 * the one it was written in, for who may be told */
	int gone;
	char scope[ENTRY_MAX_SCOPE + 1];
};

/*
 * The changes one transaction notes, in turn: the last seq is read from
 * meta once, at the first, and written back once, by changes_flush().
 * Start zeroed.
 */
struct changes_batch {
	uint64_t last;
	int loaded, dirty;
	int gone; /* the store holds gone rows (read at the first) */
};

/* The seq the next change noted in b gets (meta is read at the first). */
int changes_next(struct store_txn *t, struct changes_batch *b,
		 uint64_t *ret);

/* Record coll/id, the record of the entry stored at local seq lseq,
 * changed in t because of it, and got seq, the one changes_next() gave;
 * old: the seq it had before (0: none), whose row is dropped. A record
 * with none that comes back after it was gone: its gone row is. */
int changes_note(struct store_txn *t, struct changes_batch *b, uint64_t seq,
		 uint64_t old, uint64_t lseq, const char *coll, const char *id);

/* The record whose change was seq has no op left (a revocation or a
 * narrower read grant took them out, SPEC §9): its row goes. The caller
 * notes it gone (changes_gone) in the same transaction. */
int changes_drop(struct store_txn *t, uint64_t seq);

/* Record coll/id has no op and no row left (changes_drop() dropped its
 * change's): it gets seq, the one changes_next() gave, as a gone change
 * naming it. scope: the scope it was written in ("" when its ops share
 * none), which says who may be told (HTTP: a token that could read it).
 * A gone row it had already goes. */
int changes_gone(struct store_txn *t, struct changes_batch *b, uint64_t seq,
		 const char *coll, const char *id, const char *scope);

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

/* The seq at which coll/id last changed, its gone change's when it is
 * gone: HAMLET_ENOTFOUND when never. */
int changes_of(struct store_txn *t, const char *coll, const char *id,
	       uint64_t *ret);

/* Does the change row at the seq record coll/id's row keeps name that
 * record (by the entry it points to)? 0 when it does (or the record has
 * no row: record_each() names such), HAMLET_ECORRUPT when the row is
 * missing, does not read, or names another record. For the audit. */
int changes_check(struct store_txn *t, const char *coll, const char *id);

/*
 * Call cb for each change after since, in seq order, at most limit
 * (0: no limit), gone ones among them (c->gone). cb returning non-zero
 * stops the walk and is returned; otherwise 0, or <0 on a store fault.
 */
typedef int (*change_cb)(void *ctx, const struct change *c);
int changes_each(struct store_txn *t, uint64_t since, size_t limit,
		 change_cb cb, void *ctx);

#endif
