/*
 * refused: the entries this node refused, kept so that an auditor can be
 * shown them (hamlet verify --report), not only counted.
 *
 * Table ST_REFUSED: entry id (32) -> reason code, arrival time, the
 * sentence naming the fault, the envelope and the signature, as they
 * arrived (docs/architecture.md "Refused entries"). A refused entry
 * changes nothing else in the store.
 *
 * Bounded: at most REFUSED_MAX rows. Past that, a newly refused entry is
 * not kept, only counted (meta "refused_over"): the first refusals are
 * the evidence, and a flood of refusals cannot push them out.
 */
#ifndef HAMLET_REFUSED_H
#define HAMLET_REFUSED_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

#define REFUSED_MAX 65536
#define REFUSED_WHY_MAX 1024 /* bytes of the sentence kept */

/* One kept refusal; pointers borrow from the transaction. */
struct refused_row {
	uint8_t id[32];
	int err;	    /* HAMLET_ECERT, HAMLET_EREVOKED, HAMLET_ESIG, ... */
	uint64_t at_ms;	    /* our wall clock when it was refused */
	char why[REFUSED_WHY_MAX + 1];
	const uint8_t *env; /* as it arrived; env_len 0 when it was too long
			     * to keep (it could not be an envelope) */
	size_t env_len;
	const uint8_t *sig; /* 64 bytes */
};

/*
 * Keep that entry id (its envelope env and signature sig, 64 bytes) was
 * refused with err, why naming the fault. An id kept already stays as it
 * was; past REFUSED_MAX rows only meta "refused_over" grows. <0 only when
 * the store failed.
 */
int refused_put(struct store_txn *t, const uint8_t id[32], int err,
		const char *why, const uint8_t *env, size_t env_len,
		const uint8_t *sig);

typedef int (*refused_cb)(void *ctx, const struct refused_row *row);
/* Every kept refusal, in id order; a negative return from cb stops and
 * is returned. */
int refused_each(struct store_txn *t, refused_cb cb, void *ctx);

/* How many refusals were counted but not kept (past REFUSED_MAX). */
int refused_over(struct store_txn *t, uint64_t *ret);

#endif
