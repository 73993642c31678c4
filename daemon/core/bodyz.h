/*
 * bodyz: entry bodies stored compressed with the store's own zstd
 * dictionary.
 *
 * Bodies of one network are alike (the same field names in the same
 * order, the same framing), and alone each is too short for zstd to
 * find much. Once the store holds BODYZ_TRAIN_AT entries, the append
 * that follows makes a dictionary of at most BODYZ_DICT_MAX bytes: the
 * distinct *skeletons* of the first bodies as its content (their keys,
 * every value emptied: no value anyone wrote is ever in it, so an
 * erasure never has to look there), after zstd's statistics counted over
 * those bodies (how often each byte value is a literal, how long literal
 * runs, matches and offsets are: counts, no run of anyone's bytes). With
 * the statistics a frame carries no tables of its own, which for a body
 * of a few hundred bytes is most of its cost and of its size. Where zstd
 * finds no statistics (too few bodies, or all alike) the skeletons alone
 * are the dictionary, as raw content. It is kept in meta "zdict" (its
 * BLAKE2b-64 first, naming it); from then on a body is stored as one
 * zstd frame made with it (without the dictionary's id), when that is
 * smaller. The dictionary never changes after, and never leaves the
 * node: it is how this store keeps its bytes, not part of any entry.
 * Training that finds nothing to learn keeps the name alone, and bodies
 * stay as they are.
 */
#ifndef HAMLET_BODYZ_H
#define HAMLET_BODYZ_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

#define BODYZ_TRAIN_AT 4096
#define BODYZ_DICT_MAX 16384

/* Memory a body is decompressed into, reused from call to call: start
 * it zeroed, free it with bodyz_buf_free(). */
struct bodyz_buf {
	uint8_t *p;
	size_t cap;
};
void bodyz_buf_free(struct bodyz_buf *b);

/* Train the dictionary when the store has none yet and next, the local
 * seq about to be appended, is past BODYZ_TRAIN_AT. */
int bodyz_train_maybe(struct store_txn *t, uint64_t next);

/* Compress body into out (room for n bytes): 1 with *ret_len set, 0
 * when there is no dictionary or the frame would not be smaller. */
int bodyz_compress(struct store_txn *t, const uint8_t *body, size_t n,
		   uint8_t *out, size_t *ret_len);

/* Decompress a stored frame into b: *ret points into b->p. A frame that
 * does not decompress with the dictionary (or there is none, or it
 * declares more than ENTRY_MAX_BODY) is HAMLET_ECORRUPT. */
int bodyz_decompress(struct store_txn *t, const uint8_t *z, size_t zn,
		     struct bodyz_buf *b, const void **ret, size_t *ret_len);

#endif
