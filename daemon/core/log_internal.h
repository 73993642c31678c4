/*
 * log_internal: what log.c (arriving entries, feeds), log_apply.c
 * (storing one checked entry), log_write.c and log_write_rules.c (local
 * writes) share. Nothing outside the log module includes it.
 */
#ifndef HAMLET_LOG_INTERNAL_H
#define HAMLET_LOG_INTERNAL_H

#include "changes.h"
#include "entries.h"
#include "heads.h"
#include "log.h"
#include "record.h"
#include "trustset.h"

/* A feed row: seq, head, hlc, forked, fork seq, author, sigs (fixed),
 * scope. */
#define FEED_VAL_MIN (8 + 32 + 8 + 1 + 8 + 32 + 32)

/* An entry row (entries, forks, pending): u16 envelope length, the
 * envelope, the signature; a held entry adds a flag byte (LOG__HELD_*),
 * its arrival time (be64 ms, with LOG__HELD_ARRIVED) and its body. */
#define LOG__HELD_BODY 1
#define LOG__HELD_ARRIVED 2 /* rows held by earlier versions lack it */
#define LOG__HELD_NOCERT 4  /* held for its author's certificate */
struct log__entry_row {
	const uint8_t *env, *sig, *body;
	size_t env_len, body_len;
	uint64_t arrived; /* held: wall clock ms at arrival; 0 not known */
	int nocert;	  /* held: for its author's certificate */
};

int log__row_decode(const void *v, size_t vl, int held,
		    struct log__entry_row *ret);

/* feed key || seq (be64): the key of entries and held entries. */
void log__seq_key(const uint8_t feed[32], uint64_t seq, uint8_t out[40]);

/* Write f's row in ST_FEEDS (its head, fork, author, scope). */
int log__feed_put(struct store_txn *t, const struct log_feed *f);

/* Write an entry row (log__entry_row) under key in tab; in ST_PENDING
 * it is held as arriving now, with body when not NULL. */
int log__put_entry_row(struct store_txn *t, enum store_table tab,
		       const uint8_t *key, size_t kl, const uint8_t *env,
		       size_t env_len, const uint8_t *sig, const uint8_t *body,
		       size_t body_len);

/* A record whose ops changed in this transaction: collection '/' id, the
 * entry that changed it, and the order of the change in the transaction
 * (the latest entry of a record is the one its change names). */
struct log__dirty_key {
	char key[RECORD_KEY_MAX + 1];
	uint64_t lseq; /* the entry's local seq */
	size_t order;
	int fresh; /* record_op_add() said so */
};

/* Records whose ops changed in this transaction, to materialize. */
struct log__dirty {
	struct log__dirty_key *keys;
	size_t n, cap;
	struct record_digest_delta dd; /* written by log__applier_finish */
	struct changes_batch ch;
};

/* One write transaction's applying of entries. */
struct log__applier {
	struct store_txn *t;
	struct log__dirty dirty;
	uint64_t max_hlc; /* newest entry applied */
	struct log_stats st;
	struct log_advances moved; /* heads moved in this transaction */
	uint64_t held_budget; /* entries this call may newly hold; reset by
			       * log__applier_begin from held_budget0 */
	uint64_t held_budget0;
	int local; /* local writes: judged by the node's own grant instead */
	struct trustset_cache *tc; /* made by log__applier_begin */
	uint64_t erasures; /* erasures stored in this transaction */
	struct heads_delta heads; /* feeds and entries added (heads.h) */
	struct log_advances cut; /* feeds a revocation took back */
};

/* Start (again) in transaction t: forget what an aborted attempt did,
 * keeping the allocations. -ENOMEM only. */
int log__applier_begin(struct log__applier *a, struct store_txn *t);
/* Free what the applier holds; the transaction is the caller's. */
void log__applier_close(struct log__applier *a);

/*
 * Store one entry whose signature, network, body hash and content were
 * checked. out tells its fate (applied, duplicate, held, fork, or
 * rejected when its feed is frozen); <0 only when the store failed.
 */
int log__apply_one(struct log__applier *a, const struct entry *e,
		   const uint8_t id[32], const uint8_t *env, size_t env_len,
		   const uint8_t *sig, const uint8_t *body, size_t body_len,
		   struct log_out *out);

/* Materialize the records touched so far, so later reads see them, and
 * note each in the changes feed (changes.h). */
int log__dirty_flush(struct store_txn *t, struct log__dirty *d);

/*
 * Before the commit: materialize what is left and move the node's clock
 * past what was applied (never more than HLC_MAX_AHEAD_MS ahead of the
 * wall clock) and past local_hlc, the last local entry's (0: none).
 */
int log__applier_finish(struct log__applier *a, uint64_t local_hlc);

/* Note feed f (its key, head and scope) in m, once per feed. */
int log__moved_add(struct log_advances *m, const struct log_feed *f);

/* After the commit: hand the moved heads to adv (may be NULL). */
void log__moved_publish(struct log_advances *m, struct log_advances *adv);

/* The node's clock (meta "hlc"); 0 when never set. */
int log__meta_hlc_get(struct store_txn *t, uint64_t *ret);

/* What a log__txn_fn returns when it changed nothing: abort, succeed. */
#define LOG__NOTHING 1
typedef int (*log__txn_fn)(struct store_txn *t, void *ctx);

/*
 * Run fn in a write transaction and commit what it did: 0, or <0 with
 * nothing of it stored. A full map is not the end: the transaction is
 * aborted, the map grown with no transaction open (store_grow) and fn
 * run again from the start, so fn must begin from scratch each time.
 */
int log__write_txn(struct store *st, log__txn_fn fn, void *ctx);

/*
 * After a commit that stored an erasure (a->erasures): rewrite the store
 * (store_compact) so the bodies it dropped are in none of its files.
 * A failure leaves meta "erase_pending" for log_compact_pending().
 */
void log__after_commit(struct store *st, const struct log__applier *a);

/* 1 when an erasure stored for coll/id reaches an entry of scope (its
 * own scope lies under the erasure's), else 0; <0 on a store fault. */
int log__erased(struct store_txn *t, const char *coll, const char *id,
		const char *scope);

/* e, an erasure, was just stored with id: note it, drop the bodies of
 * the record's entries it reaches (stored and held), and ask for the
 * store to be rewritten after the commit. */
int log__erase_apply(struct log__applier *a, const struct entry *e,
		     const uint8_t id[ENTRY_ID_LEN]);

/* Erasure eid of coll/id was taken out (a revocation cut it off): it
 * reaches nothing any more. Bodies it dropped stay dropped. */
int log__erase_forget(struct store_txn *t, const char *coll, const char *id,
		      const uint8_t eid[ENTRY_ID_LEN]);

/* Record coll/id (of e) changed in this transaction through the entry at
 * local seq lseq: materialize it at the next flush. */
int log__dirty_add(struct log__dirty *d, const struct entry *e,
		   uint64_t lseq, int fresh);

/*
 * A revocation (data, len) just joined the trust set, and a->tc was
 * reset: what of its subject's feeds it cuts off stops standing (SPEC
 * §9), stored or held, in this transaction (log_revoke.c).
 */
int log__revoke_apply(struct log__applier *a, const uint8_t *data,
		      size_t len);

/* What a local write takes from its record's current state. */
struct local_state {
	uint8_t heads[ENTRY_MAX_DEPS][ENTRY_ID_LEN]; /* the new entry's deps */
	size_t nheads;
	uint64_t hlc; /* the record's newest op */
	int unchanged; /* a put that would change nothing: write nothing */
	char scope[ENTRY_MAX_SCOPE + 1]; /* the record's, "" when new */
	int absent; /* the store holds no such record (set on failure too) */
};

struct scopemap;

/*
 * The rules only a local write is held to (log_write_rules.c), as they
 * need the record's current state: op against its record in t, with m
 * for scopes; body is the put's parsed body (NULL for a delete). Fills
 * *ls; <0 with why set when op is refused.
 */
int log__local_write_rules(const struct scopemap *m, struct store_txn *t,
			   const struct schema *s,
			   const struct log_op *op,
			   const msgpack_object *body, struct local_state *ls,
			   char *why, size_t wl);

/*
 * Checking a batch's entries on every core while the writer applies them
 * (log_verify.c). fn(ctx, i) checks entry i; it runs once per entry, on
 * any thread, entries of one chunk (LOG__VCHUNK) in order. start: 0 or
 * -ENOMEM; the pool starts on it at once. wait: returns once entry i
 * was checked, checking chunks itself meanwhile. end: with finish,
 * checks what is left (without, leaves it unchecked), returns once no
 * thread runs fn any more, and frees b (NULL accepted).
 */
#define LOG__VCHUNK 32
struct log__vbatch;
typedef void (*log__check_fn)(void *ctx, size_t i);
int log__vbatch_start(size_t n, log__check_fn fn, void *ctx,
		      struct log__vbatch **ret);
void log__vbatch_wait(struct log__vbatch *b, size_t i);
void log__vbatch_end(struct log__vbatch *b, int finish);

#endif
