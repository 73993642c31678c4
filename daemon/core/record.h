/*
 * record: a record's rows. A record's state (collection, record id) is a
 * pure function of the set of its operations; this module indexes the
 * operations (recops), has crdt settle them, and keeps the derived
 * tables (records, conflicts, unique keys) and the state digest in step.
 *
 * Semantics (docs/records.md, crdt.h): operations form a causal graph
 * through deps. For each field, the writers that no other writer of that
 * field (or delete) descends from are its candidates; one distinct value
 * is the value, several are settled by the field's merge rule. Reads show
 * a deterministic winner (highest HLC, then author key, then entry id).
 */
#ifndef HAMLET_RECORD_H
#define HAMLET_RECORD_H

#include "bodyz.h"
#include "entry.h"
#include "mp.h"
#include "schema.h"
#include "store.h"

#define RECORD_KEY_MAX (ENTRY_MAX_COLLECTION + 1 + ENTRY_MAX_RECORD_ID)
#define RECORD_MAX_OPS 20000 /* operations one record may have */
#define RECORD_MAX_HEADS ENTRY_MAX_DEPS
/* heads a resolution may say it was made from (log_op.heads): a record
 * can have more than the 16 a put's deps name */
#define RECORD_MAX_SEEN_HEADS 256

/* collection \0 id into out (RECORD_KEY_MAX bytes); returns the length. */
size_t record_key(const char *coll, const char *id, uint8_t *out);

/* Index a newly stored put, delete or erasure under its record: entry
 * id, stored at local seq lseq (entries.h). *ret_fresh: 1 when the
 * record had no records row before (its row, if this writes one, is not
 * yet counted in the state digest: record_materialize() does that). */
int record_op_add(struct store_txn *t, const struct entry *e,
		  const uint8_t id[ENTRY_ID_LEN], uint64_t lseq,
		  int *ret_fresh);

/* The local seq of the entry id, an op of record coll/rid:
 * HAMLET_ENOTFOUND when the record has no such op. */
int record_op_find(struct store_txn *t, const char *coll, const char *rid,
		   const uint8_t id[ENTRY_ID_LEN], uint64_t *ret_lseq);

/*
 * What one transaction changes in the state digest, gathered in memory
 * and written once by record_digest_flush() before the commit: a bulk
 * batch then reads and writes the digest row once, not once a record.
 * Start zeroed.
 */
struct record_digest_delta {
	uint8_t plus[32], minus[32]; /* sums of row hashes, mod 2^256 */
	uint64_t nplus, nminus;
};

/*
 * Take op opid (dated hlc, its entry at local seq lseq, still stored) out
 * of record coll/id, before its entry goes (a revocation cut it off, SPEC
 * §9). A record whose one op it was is dropped at once (record_drop);
 * else record_materialize() it, or record_drop() it when no op is left,
 * once every op to go is out. The digest change goes to dd.
 */
int record_op_remove(struct store_txn *t, const char *coll, const char *id,
		     const uint8_t opid[ENTRY_ID_LEN], uint64_t hlc,
		     uint64_t lseq, struct record_digest_delta *dd);

/* Drop record coll/id's rows (state, unique key, conflict mark, its row
 * in changes) and its state from the digest (into dd), as if it had
 * never had an op; 0 also when it has no row. The caller, once no op of
 * it is left, notes it gone (changes_gone), so that a reader of the
 * changes learns it is no longer held. */
int record_drop(struct store_txn *t, const char *coll, const char *id,
		struct record_digest_delta *dd);

/*
 * Store coll/id's state with its fields in the row, where it refers to
 * its head's body for them (record_materialize.c): before that body is
 * dropped. The row stands for the same state either way. 0 also when
 * there is no row.
 */
int record_fields_inline(struct store_txn *t, const char *coll,
			 const char *id);

/*
 * Before a body arrives for an entry of coll/id stored without one: a
 * row that names the record's one op (and so stands for whatever its
 * body holds) is made to hold the state it stands for now, the op given
 * its own row, so that the next record_materialize() finds the state
 * changed and the digest follows. 0 also when there is no such row.
 */
int record_body_coming(struct store_txn *t, const char *coll,
		       const char *id);

/*
 * Recompute one record's state, conflicts and unique key from its ops,
 * and give its row change seq cseq (changes.h). The digest change goes
 * to dd, or straight to the store when dd is NULL. fresh: some
 * record_op_add() in this transaction said so (the row there is not
 * counted yet). Returns 1 when the record has a state (*ret_old: the
 * change seq its row had, 0 when none), 0 when it has no op.
 */
int record_materialize(struct store_txn *t, const char *coll, const char *id,
		       struct record_digest_delta *dd, int fresh,
		       uint64_t cseq, uint64_t *ret_old);

/* The change seq record coll/id's row was last given: HAMLET_ENOTFOUND
 * when it has none. */
int record_change_seq(struct store_txn *t, const char *coll, const char *id,
		      uint64_t *ret);

/*
 * Recompute one record's state from its ops, as record_materialize does,
 * into a scratch buffer, writing nothing; *ret_differs is 1 when the
 * stored row is not that state (or there is a row without ops, or ops
 * without a row). For `hamlet verify`, which trusts no derived row.
 * ret_hash (may be NULL), when the record has a row: the hash of the
 * state it stands for, as the digest counts it (record_digest_recompute),
 * set even when the ops do not build (HAMLET_ECORRUPT, ECOLLECTION).
 */
int record_state_check(struct store_txn *t, const char *coll, const char *id,
		       int *ret_differs, uint8_t ret_hash[32]);

/* Write what dd gathered into the stored digest, and zero it. */
int record_digest_flush(struct store_txn *t, struct record_digest_delta *dd);

/* A record's materialized state, parsed; objects borrow from doc. */
struct record_view {
	char coll[ENTRY_MAX_COLLECTION + 1]; /* the record */
	char id[ENTRY_MAX_RECORD_ID + 1];
	struct mp_doc doc;
	struct mp_doc fdoc; /* the head's body, when fields refers to it */
	int has_fdoc;
	struct bodyz_buf fzb; /* its bytes, when the store compressed them */
	uint8_t *own; /* the state, when built from the record's one op */
	size_t own_len;
	int deleted;
	const msgpack_object *heads;	 /* array of bin(32), sorted */
	const msgpack_object *fields;	 /* map field -> value, schema order */
	const msgpack_object *conflicts; /* array, see docs/records.md */
	uint64_t hlc;			 /* newest op */
	uint64_t nops;
	int has_uniq;
	uint8_t uniq[16];
	/* erased (SPEC §1.6): no field, no conflict; who erased it, when and
	 * why */
	int erased;
	uint8_t erase_id[ENTRY_ID_LEN];
	uint8_t erase_author[ENTRY_KEY_LEN];
	uint64_t erase_hlc;
	char erase_reason[SCHEMA_MAX_REASON + 1];
};

/* HAMLET_ENOTFOUND when no op of the record is stored. Close the view
 * before the transaction ends. */
int record_view_load(struct store_txn *t, const char *coll, const char *id,
		     struct record_view *ret);
void record_view_close(struct record_view *v);

/* 1 when v's heads are exactly the n ids of heads (any order, none
 * twice), else 0. */
int record_view_heads_are(const struct record_view *v,
			  const uint8_t (*heads)[ENTRY_ID_LEN], size_t n);

/*
 * v's heads into out (room for RECORD_MAX_SEEN_HEADS): their number, or
 * 0 when it has more than that (nothing to compare a resolution
 * against); HAMLET_ECORRUPT for a head that is no id.
 */
long record_view_heads(const struct record_view *v,
		       uint8_t (*out)[ENTRY_ID_LEN]);

/* The value of field name in v, or NULL when unset. */
const msgpack_object *record_view_field(const struct record_view *v,
					const char *name);

/*
 * 1 when every field that body (a map of schema s's fields) names shows
 * that value in v already (nil: unset), conflicts not looked at: a put of
 * it would change no value the record shows.
 */
int record_view_shows(const struct schema *s, const msgpack_object *body,
		      const struct record_view *v);

/* 1 when the record itself (update versus delete) or a field that body
 * (a map of schema s's fields) names is in conflict in v: a put of body
 * would settle it. */
int record_view_conflicted(const struct schema *s, const msgpack_object *body,
			   const struct record_view *v);

/*
 * The candidates of field name's open conflict in v (name "" for update
 * versus delete), an array of [value, author, hlc, id, kind]; NULL when
 * the field is not in conflict. Borrows from v.
 */
const msgpack_object *record_view_conflict(const struct record_view *v,
					   const char *name);

/*
 * Call cb for every other live record with the same unique key as v (a
 * duplicate). Returns the number of duplicates found, or <0.
 */
typedef int (*record_id_cb)(void *ctx, const char *coll, const char *id);
int record_duplicates(struct store_txn *t, const char *coll,
		      const struct record_view *v, const char *self_id,
		      record_id_cb cb, void *ctx);
/* 1 when v has a duplicate, else 0, or <0: looks no further than the
 * first, however many records share the key. */
int record_has_duplicate(struct store_txn *t, const char *coll,
			 const struct record_view *v, const char *self_id);

/* Call cb for every record with an open conflict (field conflicts,
 * update-versus-delete, or a duplicate unique key), in key order. */
int record_conflicts_each(struct store_txn *t, record_id_cb cb, void *ctx);

/* Call cb for every record of coll (all collections when coll is NULL). */
int record_each(struct store_txn *t, const char *coll, record_id_cb cb,
		void *ctx);

/* Call cb for every record that has ops but no stored row: those of two
 * ops or more from their op rows; those of one op (no op row) from the
 * change feed, read only when its rows are not as many as the records
 * rows (every record has one of each). */
int record_unmaterialized_each(struct store_txn *t, record_id_cb cb,
			       void *ctx);

/* One ops of a record, oldest first (by HLC), for history. */
struct record_op {
	uint8_t id[ENTRY_ID_LEN];
	uint64_t lseq; /* where its entry is stored (entries.h) */
	int kind;
	uint64_t hlc;
	uint8_t author[ENTRY_KEY_LEN];
	size_t ndeps;
	uint8_t deps[ENTRY_MAX_DEPS][ENTRY_ID_LEN];
	int has_body;
	uint8_t body_hash[ENTRY_HASH_LEN];
	char scope[ENTRY_MAX_SCOPE + 1]; /* its feed's */
};
typedef int (*record_op_cb)(void *ctx, const struct record_op *op);
/*
 * The op rows of coll/id (in recops) whose entry, at the local seq the
 * row names, is not the one whose id the row names (another, or none):
 * counted, or <0. A record whose row names its one op has none to count
 * (the op is read from its entry). For `hamlet verify`, which trusts no
 * index.
 */
int record_ops_unlinked(struct store_txn *t, const char *coll,
			const char *id);
int record_ops_each(struct store_txn *t, const char *coll, const char *id,
		    record_op_cb cb, void *ctx);

/*
 * The state digest and the number of records, as kept in the store: it
 * costs the same whatever the store's size. Equal on two nodes holding
 * the same entries, different when their records differ (definition in
 * record_digest.c and docs/records.md). record_materialize keeps it in
 * step; anything else that ever writes or removes a records row must too.
 */
int record_digest(struct store_txn *t, uint8_t ret[32], uint64_t *ret_count);

/* A sum of row hashes, as the digest keeps it; start zeroed. An audit
 * adds the hash of every row it checks (record_state_check) and so
 * recomputes the digest as record_digest_recompute does, in the same
 * pass. */
struct record_digest_sum {
	uint8_t s[32]; /* little-endian, mod 2^256 */
	uint64_t n;
};
void record_digest_sum_add(struct record_digest_sum *x, const uint8_t h[32]);
/* The digest of what x summed, as record_digest gives it. */
void record_digest_sum_final(const struct record_digest_sum *x,
			     uint8_t ret[32]);

/* The same digest computed from every records row, O(records): what an
 * audit compares the kept one with. */
int record_digest_recompute(struct store_txn *t, uint8_t ret[32],
			    uint64_t *ret_count);
/* Keep that recomputed sum as the digest: once, after a rule of making
 * records changed under rows an earlier release hashed (O(records)). */
int record_digest_reset(struct store_txn *t);

#endif
