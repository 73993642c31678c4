/*
 * log: the one path by which an entry enters the store.
 *
 * wire or bundle -> decode -> verify -> store (one LMDB transaction) ->
 * materialize. Local writes join the same path after signing. Everything
 * one call changes is committed in one write transaction: after a crash
 * the store holds whole batches or none.
 */
#ifndef HAMLET_LOG_H
#define HAMLET_LOG_H

#include "cert.h"
#include "entry.h"
#include "bodyz.h"
#include "store.h"
#include "trustset.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LOG_MAX_BATCH 8192 /* entries in one log_ingest() call */

/* An arriving entry dated more than this ahead of our wall clock is
 * refused, not stored: one day is far beyond any honest clock error
 * (docs/decisions.md "Clocks far ahead"). HLC_MAX_AHEAD_MS (hlc.h), much
 * smaller, is how far an accepted entry may drag our clock. */
#define LOG_MAX_AHEAD_MS (24ull * 60 * 60 * 1000)

/* Entries held waiting for an earlier one of their feed (LOG_HELD): only
 * those less than LOG_MAX_HELD_PER_FEED past their feed's head, so at most
 * that many minus one per feed, and at most LOG_MAX_HELD in the store.
 * Past either cap an entry is refused (EHELDCAP), never stored: a feed's
 * missing entry cannot make us keep everything after it. A sync sends
 * each feed in seq order, so an honest delivery holds far fewer. */
#define LOG_MAX_HELD_PER_FEED 4096
#define LOG_MAX_HELD 16384
/* A held entry is dropped once it has waited longer than this by our wall
 * clock (its arrival time is stored with it); each log_ingest() looks at
 * up to LOG_HELD_SWEEP held entries, going round the table over calls. */
#define LOG_MAX_HELD_AGE_MS (7ull * 24 * 60 * 60 * 1000)
#define LOG_HELD_SWEEP 64

/* An entry as it arrived; all pointers are borrowed for the call. */
struct log_in {
	const uint8_t *env;
	size_t env_len;
	const uint8_t *sig;  /* 64 bytes */
	const uint8_t *body; /* NULL: the body did not come along */
	size_t body_len;
	/* env's id (entry_id()) when the caller has it at hand, hashed
	 * from env itself in this process; NULL: the log hashes env */
	const uint8_t *id;
	/* 1: env's body hash was computed from body itself in this
	 * process (run_decode rebuilt env around it), so the log does not
	 * hash body again to compare them */
	int body_hashed;
	/* env's fields when the caller made env from them in this process
	 * (run_decode rebuilt it, from a peer or a bundle), exactly as
	 * entry_decode() gives them, so the log does not decode env again;
	 * NULL: the log decodes it */
	const struct entry *dec;
};

enum log_status {
	LOG_APPLIED = 0, /* stored and materialized */
	LOG_DUPLICATE,	 /* already stored; nothing changed */
	LOG_HELD,	 /* verified, waiting for an earlier entry of its feed */
	LOG_FORK,	 /* the author equivocated: kept as evidence */
	LOG_REJECTED,	 /* not stored: see err and why */
};

struct log_out {
	int status;
	int err;       /* with LOG_REJECTED and LOG_FORK */
	/* a sentence naming the fault, "" when applied: 256 bytes, as one
	 * is held for every entry of a batch in flight (a kilobyte each
	 * took the flooded daemon of daemon_flood from 45 to 66 MB) */
	char why[256];
	uint8_t id[ENTRY_ID_LEN];
	uint64_t seq;
};

/* o as nothing was done yet: its sentence emptied, not wiped whole (an
 * entry's worth of memset on the ingest path) */
static inline void log_out_clear(struct log_out *o)
{
	o->status = 0;
	o->err = 0;
	o->why[0] = 0;
	memset(o->id, 0, sizeof(o->id));
	o->seq = 0;
}

/* What one or more calls did. rejected counts every entry refused;
 * refused_future those of them dated more than LOG_MAX_AHEAD_MS ahead,
 * refused_held_cap those that would have been held past a cap;
 * held_expired counts held entries dropped after LOG_MAX_HELD_AGE_MS. */
struct log_stats {
	uint64_t applied, duplicate, held, released, forks, rejected;
	uint64_t bodies_filled; /* of duplicate: stored before without the
				 * body they brought, which is kept now */
	uint64_t refused_future, refused_held_cap, held_expired;
	uint64_t refused_grant; /* of rejected: no certificate grants it, or
				 * its author's key is revoked (ECERT,
				 * EREVOKED) */
	uint64_t held_new; /* of held, those not held before */
	uint64_t erased_bodies; /* bodies dropped by erasures (SPEC §1.6),
				 * and bodies not stored as their record
				 * is erased */
	uint64_t taken_out; /* entries held or stored before a revocation
			     * that cuts them off joined, taken out then
			     * and kept as refused (SPEC §9); not among
			     * rejected, which counts arriving entries */
};

const char *log_status_name(int status);

/*
 * When a stored erasure still asks for the store to be rewritten (meta
 * "erase_pending": the rewrite after its commit failed, or the process
 * stopped first), rewrite it now (store_compact). 0 when there was
 * nothing to do or it is done; no transaction of this process may be
 * open.
 */
int log_compact_pending(struct store *st);

/*
 * Once per store (meta "erased_parts_v2"): the records with an erasure
 * an earlier release made are made again (one of its erasures alone
 * reads as erased, and an erasure of one scope erases only the part
 * written under it, SPEC §1.6; their change is noted), and the state
 * digest is summed again from the rows. 0 when
 * done or nothing to do; on failure nothing changed and the next
 * opening for writing tries again.
 */
int log_erased_alone_upgrade(struct store *st);

/* 1 when an erasure this store keeps of coll/id reaches an entry of
 * scope (a whole record's, or one of its scope's part alone), else 0;
 * <0 on a store fault. What a body not held is put down to. */
int log_body_erased(struct store_txn *t, const char *coll, const char *id,
		    const char *scope);


/* A feed whose contiguous head a commit moved: what a daemon pushes. */
struct log_advance {
	uint8_t key[32];
	uint64_t seq; /* the new head */
	char scope[ENTRY_MAX_SCOPE + 1];
};

/* The feeds one call advanced, each once, in key order. The caller owns
 * v (log_advances_close frees it); it is filled only after the commit. */
struct log_advances {
	struct log_advance *v;
	size_t n, cap;
};
void log_advances_close(struct log_advances *a);

/*
 * Verify and store n (<= LOG_MAX_BATCH) entries from a peer or a bundle,
 * in one write transaction. Signatures are checked on all cores. Each
 * entry's fate is in out[i]; stats (may be NULL) is added to; adv (may be
 * NULL) gets the feeds whose heads the commit moved. The return is 0
 * unless the batch as a whole could not be stored (the store is full
 * past its cap, or failed): then nothing of it was applied.
 */
int log_ingest(struct store *st, const uint8_t network_id[32],
	       const struct log_in *in, size_t n, struct log_out *out,
	       struct log_stats *stats, struct log_advances *adv);

/*
 * log_ingest(), holding at most held_budget entries not held before (the
 * rest of those that would be held are refused, EHELDCAP): so that one
 * sender cannot take all of LOG_MAX_HELD.
 */
int log_ingest_budget(struct store *st, const uint8_t network_id[32],
		      const struct log_in *in, size_t n, struct log_out *out,
		      struct log_stats *stats, struct log_advances *adv,
		      uint64_t held_budget);

struct heard_via;
/*
 * log_ingest_budget() that also notes, in the same transaction, each feed
 * whose head the call moved as heard through via (heard.h: a peer, a
 * bundle, the local socket), and a peer's contact. via NULL: nothing
 * noted.
 */
int log_ingest_via(struct store *st, const uint8_t network_id[32],
		   const struct log_in *in, size_t n, struct log_out *out,
		   struct log_stats *stats, struct log_advances *adv,
		   uint64_t held_budget, const struct heard_via *via);

/*
 * A batch of arriving entries checked ahead of its write transaction:
 * log_check_start() hands the n (1..LOG_MAX_BATCH) entries to the
 * process's verify pool, which decodes them and checks signatures and
 * content at once, on its own threads, and returns; so a peer's next
 * batch is checked while the one before it commits. network_id and in[]
 * are borrowed until log_check_free(). log_ingest_checked() is log_ingest_via() of
 * those entries (the writer checks what the pool has not reached yet);
 * once per check. log_check_free() accepts NULL; a check never ingested
 * is dropped unfinished.
 */
struct log_check;
int log_check_start(const uint8_t network_id[32], const struct log_in *in,
		    size_t n, struct log_check **ret);
int log_ingest_checked(struct store *st, struct log_check *k,
		       struct log_out *out, struct log_stats *stats,
		       struct log_advances *adv, uint64_t held_budget,
		       const struct heard_via *via);
void log_check_free(struct log_check *k);

/*
 * Add n (<= LOG_MAX_BATCH) items to the trust set (certificates,
 * revocations, fork proofs: trustset_add) in one write transaction, each
 * one's fate in out[i]. A new fork proof keeps both its entries as
 * evidence and freezes their feed past the fork; a new certificate or
 * revocation judges again the entries held for their author's
 * certificate, applying those it now grants; a new revocation also takes
 * out, stored or held, the entries of its subject it cuts off (SPEC §9:
 * their feeds' heads go back, their records are made again, they are
 * kept as refused). stats and adv as for
 * log_ingest. <0 only when the store failed: then nothing was added.
 */
int log_trust_ingest(struct store *st, const uint8_t network_id[32],
		     const struct trustset_item *items, size_t n,
		     struct trustset_out *out, struct log_stats *stats,
		     struct log_advances *adv);

struct scopemap;

/*
 * The highest seq the author has signed in each of its feeds, as kept
 * outside the store (node.h, node_feeds): a store restored or replaced
 * holds less of the author's own feeds than its peers do, and an entry
 * signed at a seq it already used would fork its own feed. get gives
 * the recorded seq of the author's feed in scope (0: none recorded), or
 * <0 with why set when the record cannot be read: then every write is
 * refused with it. It may be called from the writer's thread.
 */
struct log_floors {
	int (*get)(void *ctx, const char *scope, uint64_t *ret_seq, char *why,
		   size_t whylen);
	/* 1 when a feed of the author's that it still keeps holds, in t,
	 * less than the author signed (a store restored), the first's
	 * scope in scope (ENTRY_MAX_SCOPE + 1 bytes) and seqs in *ret_signed
	 * and *ret_stored; 0 when none; <0 on a fault. May be NULL. */
	int (*behind)(void *ctx, struct store_txn *t, char *scope,
		      uint64_t *ret_signed, uint64_t *ret_stored);
	void *ctx;
};

/*
 * What a node keeps of what reaches it (scopemap_keeps()): the scope
 * moves, its certificate (NULL: none valid, so only its own scope), its
 * own scope and its key. Borrowed for a call.
 */
struct log_reader {
	const struct scopemap *map;
	const struct cert *grant;
	const char *scope;
	const uint8_t *pk; /* 32 */
};

/*
 * log_trust_ingest() of items from elsewhere (a peer, a bundle): a fork
 * proof of a feed rd keeps nothing of is not stored (out[i]:
 * TRUSTSET_REFUSED, HAMLET_ESCOPE, as an entry of that feed is refused):
 * its two entries name records of a scope the node may not read.
 */
int log_trust_ingest_read(struct store *st, const uint8_t network_id[32],
			  const struct log_reader *rd,
			  const struct trustset_item *items, size_t n,
			  struct trustset_out *out, struct log_stats *stats,
			  struct log_advances *adv);

/* What log_keep_reads() took out. */
struct log_keep_result {
	uint64_t entries; /* stored entries, out of their feeds */
	uint64_t feeds;	  /* feeds left with none */
	uint64_t held;	  /* held entries dropped */
	uint64_t records; /* records left with no op, gone */
	uint64_t proofs;  /* fork proofs and fork evidence */
};

/*
 * Make the store hold only what rd keeps (its certificate, installed or
 * replaced, reads less than it holds; or it was filled before it had
 * one), in one write transaction, as a revocation's take-out does (SPEC
 * §9): every feed of a scope rd keeps nothing of leaves the store, with
 * its records (made again from the ops left, or gone), changes, held
 * entries and fork evidence, and the trust set's fork proofs of it. Not
 * kept as refused: the node ends where one that never received them is.
 * What the node wrote itself (author rd->pk) stays: it is nowhere else.
 * When anything went, the store is rewritten after the commit so that
 * its bytes are in none of its files (as after an erasure). ret (may be
 * NULL) gets the counts. <0 only when the store failed: then nothing
 * was taken out.
 */
int log_keep_reads(struct store *st, const struct log_reader *rd,
		   struct log_keep_result *ret);

/* Who signs local writes. */
struct log_author {
	const uint8_t *pk; /* 32 */
	const uint8_t *sk; /* 64, libsodium layout */
	const uint8_t *network_id;
	const char *scope; /* the node's own scope */
	/* the node's certificate: each write must lie within its write
	 * prefixes and collections (HAMLET_ECERT). NULL: not checked (a
	 * node not yet certified writes; no peer takes its entries) */
	const struct cert *grant;
	/* why the node's key or certificate is revoked, NULL when not:
	 * every write is refused (HAMLET_EREVOKED), as every peer would
	 * refuse it */
	const char *revoked;
	/* the scope moves (scopemap.h) grants are read through; NULL:
	 * none */
	const struct scopemap *map;
	/* what the author signed before (above): a write in a feed whose
	 * head in the store lies below it is refused (HAMLET_EBEHIND) and
	 * writes nothing. NULL: not checked */
	const struct log_floors *floors;
};

struct log_op {
	int kind;		/* ENTRY_PUT or ENTRY_DELETE */
	const char *collection;
	const char *record_id;
	const char *scope;	/* NULL: the author's scope */
	const uint8_t *body;	/* put: msgpack map field -> value */
	size_t body_len;
	int resolve;		/* a conflict resolution: may set immutable fields */
	/* a resolution's heads as read when it was made (nheads of them,
	 * any order, at most RECORD_MAX_SEEN_HEADS): it is refused
	 * (HAMLET_ECHANGED) unless the record's heads at its commit are
	 * these. NULL: not compared */
	const uint8_t (*heads)[ENTRY_ID_LEN];
	size_t nheads;
};

/*
 * Sign and store n local operations in one transaction: all or none.
 * Each put is validated against its collection's schema and the record's
 * current state, the local write rules: a record's first put carries
 * every required field; immutable fields do not change outside a
 * resolution (HAMLET_EIMMUTABLE); a state field moves forward only
 * (HAMLET_ESTATE, docs/records.md). A put that would change nothing
 * (the record is live, every field it names already shows that value,
 * none of them is in conflict, and it is not a resolution) writes no
 * entry: its out[i] has status LOG_DUPLICATE, seq 0 and a zero id; the
 * other operations still apply, and when none is left nothing is
 * committed. An entry in a feed whose head in the store lies below what
 * a->floors says the author signed is refused (HAMLET_EBEHIND: a store
 * restored or replaced; the author's peers hold the rest). On failure,
 * *ret_failed is the index of the operation at fault and why says what is
 * wrong; nothing was stored. out (may be NULL) gets each new entry's id;
 * adv (may be NULL) the feeds the commit advanced.
 */
/*
 * Room for the sentence a refused write gets (why, whylen): the longest
 * reason a write can return, with the longest collection, id, scope and
 * field names and values, fits with room to spare, in English and in a
 * translation (tests/scenario_http.sh sends the two_people one with a
 * 64-byte id through hamletd to the CLI and HTTP). Every buffer a
 * reason passes through (the writer's queue, the local socket, the CLI,
 * HTTP) holds at least this much.
 */
#define LOG_WHY_MAX 2048

int log_write(struct store *st, const struct log_author *a,
	      const struct log_op *ops, size_t n, struct log_out *out,
	      size_t *ret_failed, char *why, size_t whylen,
	      struct log_advances *adv);

/*
 * Several independent log_write() calls in one transaction, one commit
 * (fsync) for all: each request is applied in order in a transaction
 * nested in the group's, so one that fails leaves nothing of itself and
 * the others still commit, exactly as if each had been a log_write() of
 * its own, in that order. Each request's r, failed and why are set as
 * log_write() sets them; a store fault or a failed commit fails every
 * request with it. Returns 0 when the group's transaction committed (or
 * had nothing to commit), else that fault. adv gets the feeds moved by
 * the requests that committed.
 */
struct log_write_req {
	const struct log_op *ops;
	size_t n;
	struct log_out *out; /* may be NULL */
	char *why;
	size_t whylen;
	/* results */
	int r;
	size_t failed;
};
int log_write_group(struct store *st, const struct log_author *a,
		    struct log_write_req *reqs, size_t n,
		    struct log_advances *adv);

/*
 * The scopes a resolution of coll/id settles values of: those the
 * candidates of its open conflicts were written in, each as a change by
 * a node of scope own goes (own itself when it lies above theirs), and
 * the candidates' entry ids (at most ENTRY_MAX_DEPS). A resolution that
 * keeps the record (--same-person) is written into each of those its
 * author may write (log_may_write_in()) when there are two or more, so
 * that it reaches every village that holds one of the values; a village
 * scope it may not write keeps its value until that village changes it.
 */
#define LOG_MAX_VALUE_SCOPES 8
struct log_value_scopes {
	uint8_t ids[ENTRY_MAX_DEPS][ENTRY_ID_LEN];
	size_t nids;
	char v[LOG_MAX_VALUE_SCOPES][ENTRY_MAX_SCOPE + 1];
	size_t n;
};
int log_value_scopes(const struct scopemap *m, struct store_txn *t,
		     const char *coll, const char *id, const char *own,
		     struct log_value_scopes *ret);

/* 1 when a's certificate lets it write coll in scope, through the scope
 * moves (not moved away out of its reach); 1 without a certificate. */
int log_may_write_in(const struct log_author *a, const char *scope,
		     const char *coll);

/* --- reading feeds ----------------------------------------------------- */

struct log_feed {
	uint8_t key[32]; /* BLAKE2b-256(author || scope) */
	uint8_t author[ENTRY_KEY_LEN];
	char scope[ENTRY_MAX_SCOPE + 1];
	uint64_t seq; /* contiguous head; 0 when nothing stored yet */
	uint8_t head[ENTRY_ID_LEN];
	uint64_t hlc;
	int forked;
	uint64_t fork_seq;
	/* the XOR of log_sig_mark() of every entry stored in it: a stored
	 * signature altered since it was checked shows (an audit's check
	 * that the bytes it does not verify are the ones verified) */
	uint8_t sigs[32];
};

/* Mix entry seq's signature into (or out of) a feed's sigs. */
void log_sig_mix(uint8_t sigs[32], uint64_t seq,
		 const uint8_t sig[ENTRY_SIG_LEN]);

void log_feed_key(const uint8_t author[ENTRY_KEY_LEN], const char *scope,
		  uint8_t ret[32]);
int log_feed_get(struct store_txn *t, const uint8_t key[32],
		 struct log_feed *ret);
typedef int (*log_feed_cb)(void *ctx, const struct log_feed *f);
int log_feeds_each(struct store_txn *t, log_feed_cb cb, void *ctx);

/* Entry seq of a feed. The signature borrows from the transaction, and
 * so does the envelope, unless the store keeps it compact (entries.h):
 * then it is rebuilt into buf, and lives as long as buf does too. */
int log_entry_get(struct store_txn *t, const uint8_t feed[32], uint64_t seq,
		  uint8_t buf[ENTRY_MAX_ENVELOPE], const uint8_t **ret_env,
		  size_t *ret_env_len, const uint8_t **ret_sig);
/* The entry at local seq lseq (a record op's, record.h; HAMLET_ECORRUPT
 * when none is stored there), or the op id of record coll/rid
 * (HAMLET_ENOTFOUND when the record has no such op). There is no
 * look-up by entry id alone (entries.h). */
int log_entry_at(struct store_txn *t, uint64_t lseq,
		 uint8_t buf[ENTRY_MAX_ENVELOPE], const uint8_t **ret_env,
		 size_t *ret_env_len, const uint8_t **ret_sig);
int log_op_entry(struct store_txn *t, const char *coll, const char *rid,
		 const uint8_t id[ENTRY_ID_LEN],
		 uint8_t buf[ENTRY_MAX_ENVELOPE], const uint8_t **ret_env,
		 size_t *ret_env_len, const uint8_t **ret_sig);
/*
 * The entry at seq of feed with its body, read together (one row): body
 * NULL when it is not held (erased, never received); a body kept
 * compressed is decompressed into b (valid until b's next use), and one
 * that no longer decompresses is body NULL with body_damaged set. An
 * envelope the store keeps compact is rebuilt into b as well.
 */
struct log_entry_full {
	const uint8_t *env, *sig, *body;
	size_t env_len, body_len;
	int body_damaged;
};
int log_entry_read(struct store_txn *t, const uint8_t feed[32], uint64_t seq,
		   struct bodyz_buf *b, struct log_entry_full *ret);
/* The first seq >= seq of feed stored here: 1 with it in *ret, 0 when
 * the feed holds none from seq on (an audit steps over a gap with it). */
int log_entry_next(struct store_txn *t, const uint8_t feed[32], uint64_t seq,
		   uint64_t *ret);

/* The body of entry id, a record op stored at local seq lseq:
 * HAMLET_ENOTFOUND when it did not come along or was erased
 * (log_erased). *ret_body borrows from the store, or from b when the
 * store keeps it compressed (bodyz.h): valid until b's next use or the
 * transaction's end, whichever comes first. */
int log_body_at(struct store_txn *t, const uint8_t id[ENTRY_ID_LEN],
		uint64_t lseq, struct bodyz_buf *b, const uint8_t **ret_body,
		size_t *ret_len);
/* The same for the entry at seq of feed (HAMLET_ENOTFOUND, too, when no
 * entry is stored there). */
int log_body_of(struct store_txn *t, const uint8_t feed[32], uint64_t seq,
		struct bodyz_buf *b, const uint8_t **ret_body,
		size_t *ret_len);

/* Fork evidence and held entries, for reports. */
struct log_fork {
	uint8_t feed[32];
	uint64_t seq;
	uint8_t id[ENTRY_ID_LEN];
	const uint8_t *env;
	size_t env_len;
	const uint8_t *sig;
};
typedef int (*log_fork_cb)(void *ctx, const struct log_fork *f);
int log_forks_each(struct store_txn *t, log_fork_cb cb, void *ctx);
/* Number of held entries (waiting for an earlier one). */
int log_held_count(struct store_txn *t, uint64_t *ret);

/* A held entry, for reports: waiting for an earlier entry of its feed,
 * or (nocert) for its author's certificate. Pointers borrow from t. */
struct log_held {
	uint8_t feed[32];
	uint64_t seq;
	const uint8_t *env, *sig;
	size_t env_len;
	int nocert;
};
typedef int (*log_held_cb)(void *ctx, const struct log_held *h);
int log_held_each(struct store_txn *t, log_held_cb cb, void *ctx);

/* Verify n envelopes' signatures on all cores: res[i] = 0 or HAMLET_ESIG
 * (or a decode error). */
void log_verify_parallel(const struct log_in *in, size_t n, int *res);

#endif
