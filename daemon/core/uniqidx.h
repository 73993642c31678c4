/*
 * uniqidx: which live records hold each unique key (a person's ID
 * number: schema.h), and which keys two records or more share.
 *
 * Two tables keep it (docs/architecture.md):
 *  - uniq: collection \0 record id -> the record's key hash (16): keyed
 *    as the records table is, so a batch of new records dirties the pages
 *    their records go to, not one page of a hash-ordered table each (a
 *    commit's cost would then grow with the store: docs/decisions.md);
 *  - dups: collection \0 key hash (16) || record id -> empty: each record
 *    of a key that two live records or more share. What status, the
 *    page, `get` and `conflicts` read.
 *
 * To tell when a second record comes to a key, the store's writer keeps
 * in memory which record holds each key (store_writer_keep): built from
 * the uniq table by the first write transaction that needs it, then
 * changed with every change. Meta "uniqgen" names the state it stands
 * for: each change writes a value no other has had. When the store's
 * value is not the one kept, the next change undoes, from a journal of
 * the present transaction's changes, those of a transaction (or a nested
 * one) that was aborted; after anything else (another process wrote the
 * store) it builds the index again from the table.
 */
#ifndef HAMLET_UNIQIDX_H
#define HAMLET_UNIQIDX_H

#include "store.h"

#include <stdint.h>

/* Record coll/id's key is now newu (NULL: it has none; a record deleted
 * or erased has none), whatever it was: the key it had is read from the
 * index. In a write transaction; on failure the caller aborts it. */
int uniqidx_set(struct store_txn *t, const char *coll, const char *id,
		const uint8_t *newu);

/* For each record of a shared key, in key order: coll NULL, every
 * shared key; else coll's key h alone. cb < 0 stops with that; > 0
 * stops, and 0 is returned. */
typedef int (*uniqidx_cb)(void *ctx, const char *coll, const char *id);
int uniqidx_shared_each(struct store_txn *t, const char *coll,
			const uint8_t h[16], uniqidx_cb cb, void *ctx);

#endif
