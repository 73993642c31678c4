#ifndef HAMLET_WMEMO_H
#define HAMLET_WMEMO_H

#include "store.h"

#include <stddef.h>

/*
 * wmemo: the tables the store's writer remembers things in between the
 * steps of one transaction (the bodies it stored, the ops it added, where
 * its appends stand: entries.c, record.c). One set a store, not a thread:
 * write transactions are one at a time whichever thread runs them, and
 * a set of a few megabytes for every thread that ever wrote would add up.
 * A read-only transaction has none. Each slot says which transaction
 * filled it (store_txn_serial), so what another left is never taken.
 */
enum wmemo_kind { WMEMO_BODIES, WMEMO_OPS, WMEMO_APPEND, WMEMO_KINDS };

/* t's table of kind, of bytes (the same at every call for a kind): made,
 * zeroed, at first use when make, else NULL until then; NULL too in a
 * read-only transaction or when memory runs out (remembering is only
 * ever a saving). */
static inline void *wmemo_table(struct store_txn *t, enum wmemo_kind kind,
				size_t bytes, int make)
{
	_Static_assert(WMEMO_KINDS <= STORE_MEMOS, "a store keeps them all");
	return store_memo(t, (unsigned)kind, bytes, make);
}

#endif
