/*
 * record_internal: what record.c (rows) and record_digest.c (the state
 * digest) share. Nothing outside the record module includes it.
 */
#ifndef HAMLET_RECORD_INTERNAL_H
#define HAMLET_RECORD_INTERNAL_H

#include "record.h"

/* BLAKE2b-256 of one records row: len(key) ‖ key ‖ len(value) ‖ value,
 * lengths as be64. */
void record__row_hash(const void *key, size_t klen, const void *val,
		      size_t vlen, uint8_t ret[32]);

/* The same over the three parts a, b and c of the value, in turn. */
void record__row_hash3(const void *key, size_t klen, const void *a,
		       size_t al, const void *b, size_t bl, const void *c,
		       size_t cl, uint8_t ret[32]);

/* record__row_hash() of the row a stored records row stands for (one
 * that holds its fields by reference, record.c, stands for the row with
 * them); of the row as stored when the body it refers to cannot be read
 * (a damaged store: no kept digest matches it). */
int record__row_hash_at(struct store_txn *t, const void *key, size_t klen,
			const void *val, size_t vlen, uint8_t ret[32]);

/*
 * In the transaction that replaces a records row: take the old row's
 * hash (old NULL: there was none) out of the stored digest and put the
 * new one's in.
 */
int record__digest_replace(struct store_txn *t, const uint8_t *old,
			   const uint8_t new_hash[32],
			   struct record_digest_delta *dd);

#endif
