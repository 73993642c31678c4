#ifndef HAMLET_WMEMO_H
#define HAMLET_WMEMO_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/*
 * The tables are open addressing on a 32-byte id (a hash): every slot
 * begins with a wmemo_head, an id goes to the first of WMEMO_PROBES
 * slots from its own that this transaction has not filled, and a slot
 * another transaction filled counts as empty. A batch of up to half a
 * table is all remembered. A slot is never emptied within its
 * transaction (forgetting keeps its place), so a lookup meets every id
 * this transaction put before it meets a slot it did not fill.
 */
#define WMEMO_PROBES 8

struct wmemo_head {
	uint64_t txn; /* store_txn_serial(); 0: empty */
	uint8_t id[32];
};

/* The slot of id in t's table of kind (nslots slots of slot_size bytes),
 * or (want_free, which also makes the table) the first on its way that t
 * has not filled, to fill; NULL when neither. */
static inline void *wmemo_find(struct store_txn *t, enum wmemo_kind kind,
			       size_t nslots, size_t slot_size,
			       const uint8_t id[32], int want_free)
{
	uint8_t *m = wmemo_table(t, kind, nslots * slot_size, want_free);
	uint64_t txn = store_txn_serial(t);
	size_t h = (size_t)id[0] << 16 | (size_t)id[1] << 8 | id[2];
	if (!m)
		return NULL;
	for (size_t p = 0; p < WMEMO_PROBES; p++) {
		struct wmemo_head *s =
			(struct wmemo_head *)(m + (h + p) % nslots * slot_size);
		if (s->txn != txn)
			return want_free ? s : NULL;
		if (memcmp(s->id, id, 32) == 0)
			return s;
	}
	return NULL;
}

#endif
