/*
 * run: the compact form of a run of one feed's consecutive entries, as
 * ENTRIES messages (proto/SPEC.md §5.3) and bundle run frames (§2) carry
 * them. §1.7 "Entry runs" is the normative text; this module is its code.
 *
 * A run names its feed once (network, author, scope), its first seq and
 * the id before it; each entry then carries only what the receiver
 * cannot rebuild (hlc, kind, collection, record id, deps, signature,
 * body). The receiver rebuilds the envelope with entry_encode() and
 * verifies the signature over those bytes as over any envelope. The
 * encoder sends an entry in compact form only when re-encoding its
 * decoded envelope gives back the very bytes that were signed; any other
 * entry travels whole (its envelope as stored), tagged so.
 */
#ifndef HAMLET_RUN_H
#define HAMLET_RUN_H

#include "entry.h"

#include <stddef.h>
#include <stdint.h>

/* Tags of an entry in a run. */
enum run_tag {
	RUN_FULL = 0,	  /* [0, env, sig, body|nil] */
	RUN_COMPACT = 1,  /* [1, hlc delta, kind, collection, record id,
			     deps, sig, body|nil] */
	RUN_WITHHELD = 2, /* [2, ..., sig, body hash, body len]: a body the
			     sender does not send (erased, not held) */
};

#define RUN_FIELDS 6 /* [network, author, scope, first seq, prev, entries] */

/* The feed a run belongs to and where it starts. */
struct run_head {
	uint8_t network_id[32];
	uint8_t author[ENTRY_KEY_LEN];
	char scope[ENTRY_MAX_SCOPE + 1];
	uint64_t first_seq;
	int has_prev; /* 0 iff first_seq is 1 */
	uint8_t prev[ENTRY_ID_LEN];
};

/* One entry as stored or as rebuilt; pointers borrow. */
struct run_entry {
	const uint8_t *env;
	size_t env_len;
	const uint8_t *sig; /* ENTRY_SIG_LEN bytes */
	const uint8_t *body; /* NULL: not included */
	size_t body_len;
	uint8_t id[ENTRY_ID_LEN]; /* run_decode(): the id of env (run_encode
				   * does not read it) */
	/* run_decode(): env was rebuilt around body, its body hash made
	 * from body itself, so a reader need not hash body again to
	 * compare them (run_encode does not read it) */
	int body_hashed;
	/* run_decode(): for a compact entry, the fields env was encoded
	 * from, as entry_decode() of env gives them, so a reader need not
	 * decode env again; NULL for a whole one (run_encode does not read
	 * it) */
	const struct entry *dec;
};

/* What an encoding did, for the benchmarks and tests. */
struct run_stats {
	size_t compact; /* entries sent compact (tags 1 and 2) */
	size_t full;	/* entries sent whole */
};

/* The head of a run starting at entry e0 (decoded from its envelope). */
int run_head_of(const struct run_entry *e0, struct run_head *ret);

/* The feed key of the run: BLAKE2b-256(author || scope). */
void run_head_feed_key(const struct run_head *h, uint8_t ret_key[32]);

/*
 * Encode the run of v[0..n) (consecutive entries of h's feed from
 * h->first_seq) into a new buffer (*ret, free() it). st may be NULL.
 * Returns 0, HAMLET_ETOOBIG (an envelope or body over its limit) or
 * -ENOMEM.
 */
int run_encode(const struct run_head *h, const struct run_entry *v, size_t n,
	       uint8_t **ret, size_t *ret_len, struct run_stats *st);

/*
 * Decode a run of at most max entries. Rebuilt envelopes and the
 * fields they were rebuilt from are written to memory from alloc(ctx,
 * bytes) (called once, NULL: -ENOMEM; any alignment), which must live
 * as long as out[]; the other pointers of out[] borrow from buf.
 * Strict (SPEC 1.7): a field of the wrong type or over its limit, a
 * compact entry whose fields make no valid envelope, a whole entry whose
 * envelope decodes but lies at another network, feed or seq than the
 * run's, a dep index that is not an earlier entry, a tag other than 0,
 * 1, 2, too many entries or trailing bytes are HAMLET_EFORMAT, why
 * naming the entry, the field and its limit; a prev that contradicts
 * first_seq is HAMLET_ECHAIN. Nothing is verified here: the caller
 * verifies every entry as usual.
 */
typedef void *(*run_alloc_fn)(void *ctx, size_t bytes);
int run_decode(const uint8_t *buf, size_t len, size_t max,
	       run_alloc_fn alloc, void *ctx, struct run_head *ret_head,
	       struct run_entry *out, size_t *ret_n, char *why, size_t whylen);

#endif
