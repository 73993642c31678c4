/*
 * trust: the signed items besides certificates that make up a network's
 * trust set (proto/SPEC.md sections 7 and 8).
 *
 * A revocation, signed by the root or an administrator, withdraws a node
 * key: it names, per feed of that key, the last entry that stays valid,
 * and the certificates the key issued that stay valid. A fork proof is
 * two entries one author signed that cannot both be in its feed; anyone
 * can check it with nothing but the two entries.
 *
 * Certificates (cert.h), revocations and fork proofs travel and are kept
 * as one set, each item named by its kind and id (trust_item_key()).
 *
 * Pure codec and checks: no store, no clock.
 */
#ifndef HAMLET_TRUST_H
#define HAMLET_TRUST_H

#include "cert.h"
#include "entry.h"

#include <stddef.h>
#include <stdint.h>

/* --- revocations ------------------------------------------------------- */

#define REVOKE_VERSION 1
#define REVOKE_MAX_FEEDS 64    /* feeds of the subject in the cut-off */
#define REVOKE_MAX_KEEP 256    /* certificates kept */
#define REVOKE_MAX_REASON 200  /* bytes of the reason */
#define REVOKE_MAX_BYTES 32768 /* one signed revocation, encoded */

/* One feed of the subject: entries up to seq (whose id is head) stay
 * valid. seq 0: none does, and head is all zero. */
struct revoke_feed {
	char scope[CERT_SCOPE_MAX + 1];
	uint64_t seq;
	uint8_t head[32];
};

struct revocation {
	uint8_t network_id[32];
	uint8_t issuer[32];  /* who signs: the root or an administrator */
	uint8_t subject[32]; /* the revoked node key */
	uint64_t issued_ms;  /* Unix ms */
	char reason[REVOKE_MAX_REASON + 1]; /* may be empty */
	/* The cut-off: per feed (scope) of the subject, the last seq kept
	 * and its entry id; a feed not listed keeps nothing. */
	size_t nfeeds;
	struct revoke_feed feeds[REVOKE_MAX_FEEDS];
	/* ids of certificates the subject issued that stay valid */
	size_t nkeep;
	uint8_t keep[REVOKE_MAX_KEEP][32];
};

/*
 * The rules a revocation's fields follow whoever signed it: at most
 * REVOKE_MAX_FEEDS feeds and REVOKE_MAX_KEEP kept ids, each feed scope
 * valid and listed once, seq at most ENTRY_MAX_SEQ and a zero head when
 * seq is 0, kept ids listed once, a reason without control characters.
 * 0 or HAMLET_EFORMAT with why.
 */
int revoke_check_fields(const struct revocation *r, char *why, size_t wl);

/*
 * Encode r and sign it with sk (the issuer's, whose public half must be
 * r->issuer, else -EINVAL): *ret (malloc'd, the caller frees) holds the
 * signed revocation. Checks r first (revoke_check_fields).
 */
int revoke_sign(const struct revocation *r, const uint8_t sk[64], uint8_t **ret,
		size_t *ret_len);

/*
 * Decode one signed revocation strictly, check its fields and verify its
 * signature by ret->issuer. ret_id (may be NULL) gets its id,
 * BLAKE2b-256 of body || signature. Errors: HAMLET_EFORMAT, HAMLET_ETYPE,
 * HAMLET_ETOOBIG, HAMLET_ETRAILING, HAMLET_EVERSION, HAMLET_ESIG; on
 * failure *ret is zeroed.
 */
int revoke_decode(const uint8_t *buf, size_t len, struct revocation *ret,
		  uint8_t ret_id[32]);

/* --- fork proofs ------------------------------------------------------- */

#define FORKPROOF_VERSION 1
#define FORKPROOF_MAX_BYTES (2 * (ENTRY_MAX_ENVELOPE + ENTRY_SIG_LEN) + 64)

/*
 * A decoded fork proof: entries a and b of one feed (same network,
 * author and scope), in canonical order, either
 *   - at one seq, with different ids, id(a) < id(b) bytewise; at = seq;
 *   - at seq s and s + 1, where b's prev is not a's id; at = s.
 * The feed is frozen past seq `at`.
 */
struct fork_proof {
	struct entry a, b;
	/* borrowed from the buffer given to fork_proof_decode(): they live
	 * as long as it does */
	const uint8_t *env_a, *sig_a, *env_b, *sig_b;
	size_t env_a_len, env_b_len;
	uint64_t at;
};

/*
 * Encode two signed entries (in either order) as a fork proof in
 * canonical order: *ret (malloc'd, the caller frees). 0, or HAMLET_ESIG
 * when a signature does not verify, HAMLET_EFORMAT (or an entry_decode()
 * error) when the two are not a fork of one feed.
 */
int fork_proof_encode(const uint8_t *env1, size_t len1, const uint8_t *sig1,
		      const uint8_t *env2, size_t len2, const uint8_t *sig2,
		      uint8_t **ret, size_t *ret_len);

/*
 * Decode and check a fork proof. Strict: a proof not in canonical order
 * is HAMLET_EFORMAT, so that one fork has one encoding. ret_id (may be
 * NULL) gets its id, BLAKE2b-256 of the whole of buf. On failure *ret is
 * zeroed.
 */
int fork_proof_decode(const uint8_t *buf, size_t len, struct fork_proof *ret,
		      uint8_t ret_id[32]);

/*
 * The scope of the feed of a fork proof that was checked before (one the
 * trust set holds): its first envelope decoded, no signature verified.
 * 0, or the error of a proof that does not decode.
 */
int fork_proof_scope(const uint8_t *buf, size_t len,
		     char scope[ENTRY_MAX_SCOPE + 1]);

/* --- scope moves ------------------------------------------------------- */

#define MOVE_VERSION 1
#define MOVE_MAX_REASON 200
#define MOVE_MAX_BYTES 1024 /* one signed scope move, encoded */

/*
 * A scope move (SPEC section 10): the root says that scope `from` (an
 * administrative unit that was merged) now reads as `to`: a scope
 * from/REST reads as to/REST. No signed entry changes; every node maps
 * scopes when it compares or shows them (daemon/core/scopemap.h).
 */
struct scope_move {
	uint8_t network_id[32];
	uint8_t issuer[32]; /* the root key */
	char from[CERT_SCOPE_MAX + 1];
	char to[CERT_SCOPE_MAX + 1];
	uint64_t at_ms; /* when it was signed (Unix ms): the later wins */
	char reason[MOVE_MAX_REASON + 1];
};

/*
 * A move's fields: both scopes valid (SPEC 1.1), different, `to` not at
 * or under `from` (it would map onto itself forever), a reason without
 * control characters. 0 or HAMLET_EFORMAT with why.
 */
int move_check_fields(const struct scope_move *m, char *why, size_t wl);

/* Encode m and sign it with sk (whose public half must be m->issuer,
 * else -EINVAL): *ret (malloc'd) holds the signed move. */
int move_sign(const struct scope_move *m, const uint8_t sk[64], uint8_t **ret,
	      size_t *ret_len);

/*
 * Decode one signed move strictly, check its fields and verify its
 * signature by ret->issuer; ret_id (may be NULL) gets BLAKE2b-256 of
 * body || signature. why (may be NULL) names the fault. Errors as
 * revoke_decode(); on failure *ret is zeroed.
 */
int move_decode(const uint8_t *buf, size_t len, struct scope_move *ret,
		uint8_t ret_id[32], char *why, size_t wl);

/* --- items of the trust set -------------------------------------------- */

enum trust_kind {
	TRUST_CERT = 1,
	TRUST_REVOKE = 2,
	TRUST_FORK = 3,
	TRUST_MOVE = 4,
};
#define TRUST_KIND_MAX TRUST_MOVE /* the highest kind this version knows */

#define TRUST_ITEM_MAX REVOKE_MAX_BYTES /* bytes of one item */
#define TRUST_KEY_LEN 33		/* kind || id */

/*
 * Decode and check one item of kind (cert_decode, revoke_decode,
 * fork_proof_decode or move_decode), giving its key: the kind byte, then its id. Keys
 * order the set (bytewise). 0, or the decoder's error, HAMLET_ETOOBIG
 * over TRUST_ITEM_MAX, HAMLET_EFORMAT for an unknown kind; why (may be
 * NULL) names the fault.
 */
int trust_item_key(int kind, const uint8_t *buf, size_t len,
		   uint8_t ret_key[TRUST_KEY_LEN], char *why, size_t wl);

/* "certificate", "revocation", "fork proof", "scope move", or "?" (English,
 * marked N_(): a program translates it where it shows it). */
const char *trust_kind_name(int kind);

#endif
