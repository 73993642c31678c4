/*
 * record_internal: what the record module's files share: record.c (the
 * op index, records rows), record_materialize.c (a record's state built
 * from its ops, and written), record_read.c (views and walks) and
 * record_digest.c (the state digest). Nothing outside the record module
 * includes it.
 */
#ifndef HAMLET_RECORD_INTERNAL_H
#define HAMLET_RECORD_INTERNAL_H

#include "bytes.h"
#include "crdt.h"
#include "record.h"

#define STATE_VERSION 3 /* 2: erasure; 3: fields by reference */

/* BLAKE2b-256 of one records row: len(key) ‖ key ‖ len(value) ‖ value,
 * lengths as be64. */
void record__row_hash(const void *key, size_t klen, const void *val,
		      size_t vlen, uint8_t ret[32]);

/* The same over the three parts a, b and c of the value, in turn. */
void record__row_hash3(const void *key, size_t klen, const void *a,
		       size_t al, const void *b, size_t bl, const void *c,
		       size_t cl, uint8_t ret[32]);

/* record__row_hash() of the row a stored records row stands for (one
 * that holds its fields by reference, record_materialize.c, stands for
 * the row with them); of the row as stored when the body it refers to
 * cannot be read (a damaged store: no kept digest matches it). */
/* The hash of the state a stored state st stands for (record_digest.c). */
int record__state_hash(struct store_txn *t, const void *key, size_t kl,
		       const uint8_t *st, size_t sl, uint8_t ret[32]);
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

/* A records row whose hash was old is gone: take it out of dd. */
int record__digest_drop(const uint8_t old[32],
			struct record_digest_delta *dd);

/* --- records rows and the op index (record.c) ------------------------- */

/*
 * A records row (format 9): the change seq (changes.h) the record was
 * last given, then its state:
 *
 *   value = change seq (varint, bytes.h) || state
 *   state = ONE_OP || local seq (varint)
 *         | the state row (pack_state, pack_erased; fields perhaps by
 *           reference)
 *
 * A record with one op (the most of a store: a record written once) has
 * no op row in recops: its records row names where the op's entry is,
 * and stands for the state that op alone makes (what the state digest
 * and every reader see). From its second op on, every op of the record
 * has its row in recops and the records row holds the state itself. The
 * change seq is not part of the state: the digest does not count it.
 */
#define ONE_OP 0x01
#define ONE_MAX (1 + BYTES_VARINT_MAX)
/* where nil stands in a state stored by reference: after the array,
 * version, deleted, the array of one head and its bin header */
#define REF_AT 38 /* 1 + 1 + 1 + 1 + 2 + 32 */

struct rowv {
	uint64_t cseq;
	const uint8_t *s; /* the state */
	size_t sl;
};

/* A records row's change seq and state; HAMLET_ECORRUPT when it does not
 * read. The state borrows from v. */
int record__row_split(const void *v, size_t vl, struct rowv *o);

/* 1 with *ret_lseq when the state names the record's one op. */
int record__state_one(const uint8_t *s, size_t sl, uint64_t *ret_lseq);

/* The state that names the record's one op, at lseq, into out; returns
 * its length. */
size_t record__state_one_make(uint64_t lseq, uint8_t out[ONE_MAX]);

/* Write the records row of key: change seq cseq, then state s. */
int record__row_put(struct store_txn *t, const void *key, size_t kl,
		    uint64_t cseq, const void *s, size_t sl);

/* The op whose entry is at lseq, an op of the record whose records key is
 * rk (hlc: the one its op row names, NULL: none); HAMLET_ECORRUPT when
 * the entry there is not one. */
int record__op_read(struct store_txn *t, const uint8_t *rk, size_t rkl,
		    uint64_t lseq, const uint64_t *hlc, struct record_op *op);

/* Add the op row of entry id (at lseq, hlc) of record rk to recops. */
int record__recop_put(struct store_txn *t, const uint8_t *rk, size_t rkl,
		      uint64_t hlc, const uint8_t id[ENTRY_ID_LEN],
		      uint64_t lseq);

/* 1 when record rk has an op row in recops. */
int record__recops_any(struct store_txn *t, const uint8_t *rk, size_t rkl);

/* record_ops_each(); *ret_from_row 1 when the op came from a row that
 * names the record's one op. */
int record__ops_each(struct store_txn *t, const char *coll, const char *id,
		     record_op_cb cb, void *ctx, int *ret_from_row);

/* --- a record's state from its ops (record_materialize.c) -------------- */

struct mop; /* where an op's body is, and the body once parsed */

/* A record's operations as read from the store: ops[i] and mops[i]. */
struct mat {
	char (*scopes)[ENTRY_MAX_SCOPE + 1]; /* each op's feed scope */
	struct store_txn *t;
	struct crdt_op *ops;
	struct mop *mops;
	size_t n, cap;
	int strict; /* a body stored but damaged is HAMLET_ECORRUPT, not
		     * a body that did not come */
};

/* A record's state as its ops make it, not yet written. */
struct built {
	struct mat m;
	struct crdt_record cr;
	struct mp_writer sw; /* the state, fields in it, when m.n > 0 */
	uint8_t *ref;	     /* it as stored, by reference; NULL: as is */
	size_t ref_len;
	uint8_t one[ONE_MAX]; /* it as stored when the record has one op */
	size_t one_len;	      /* 0: not so */
	uint8_t newu[16];
	int has_newu;
};

/* The state a row naming the record's one op, at lseq, stands for, into
 * b; record__built_close() it whatever this returns. strict: a body
 * stored but damaged is HAMLET_ECORRUPT. */
int record__built_one(struct store_txn *t, const uint8_t *key, size_t kl,
		      uint64_t lseq, int strict, struct built *b);
void record__built_close(struct built *b);

/* 1 when a stored state holds its fields by reference. */
int record__row_is_ref(const uint8_t *p, size_t n);

/* The body of head, the one head of record coll/rid a row refers to;
 * HAMLET_ENOTFOUND when that op is not there. */
int record__head_body(struct store_txn *t, const char *coll, const char *rid,
		      const uint8_t head[ENTRY_ID_LEN], struct bodyz_buf *zb,
		      const void **ret_body, size_t *ret_len);
/* The same for a reader: HAMLET_ECORRUPT when the body stored is not the
 * one its author signed (its hash is not the entry's). */
int record__head_body_signed(struct store_txn *t, const char *coll,
			     const char *rid, const uint8_t head[ENTRY_ID_LEN],
			     struct bodyz_buf *zb, const void **ret_body,
			     size_t *ret_len);

/* Give a record whose row names its one op (at lseq) its ops rows, the
 * row (change seq cseq) holding the state that op made: before a second
 * op, or an erasure, is added. */
int record__one_convert(struct store_txn *t, const uint8_t *key, size_t kl,
			uint64_t cseq, uint64_t lseq);

/* --- reading (record_read.c) ------------------------------------------ */

/* A records key's collection and record id (buffers of
 * ENTRY_MAX_COLLECTION + 1 and ENTRY_MAX_RECORD_ID + 1);
 * HAMLET_ECORRUPT when they do not fit. */
int record__split_key(const void *k, size_t kl, char *coll, char *id);

#endif
