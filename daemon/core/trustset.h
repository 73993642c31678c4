/*
 * trustset: a node's set of certificates, revocations and fork proofs
 * (proto/SPEC.md "The trust set"), and the checks that use it.
 *
 * The set is a set: items are kept by kind and id, never in a sequence,
 * so two certificates signed independently from an offline root are two
 * members, never two versions of one thing. Items replicate to every node
 * ahead of the entries they judge.
 *
 * Tables: ST_TRUST (kind || id -> item bytes) and ST_TRUSTSUBJ (subject ||
 * kind || id -> empty: a certificate's or revocation's subject, a fork
 * proof's author). meta "root" is the network's root key; a store without
 * it (a bare store in a unit test) checks no author.
 *
 * Only the log module writes the set (log_trust_ingest; log_keep_reads
 * takes out the fork proofs of feeds a node no longer reads), so that
 * adding a certificate releases the entries that waited for it in the
 * same transaction.
 */
#ifndef HAMLET_TRUSTSET_H
#define HAMLET_TRUSTSET_H

#include "cert.h"
#include "entry.h"
#include "store.h"
#include "trust.h"

#include <stddef.h>
#include <stdint.h>

#define TRUSTSET_MAX 16384 /* items in one node's set */
/* of those, the last places only items the root signed take
 * (certificates, revocations, scope moves): a delegated administrator
 * filling the set cannot keep out the root's revocation of its key */
#define TRUSTSET_ROOT_RESERVE 1024
/* fork proofs of one key the set takes (one a feed it forked in) */
#define TRUSTSET_FORKS_PER_KEY 16
#define TRUSTSET_KEY 33	   /* kind || id */

/* The network's root key for this store (meta "root"). */
int trustset_root_set(struct store_txn *t, const uint8_t root[32]);
/* 0, or HAMLET_ENOTFOUND when the store has none (no checks). */
int trustset_root_get(struct store_txn *t, uint8_t ret[32]);

/* One item as it arrived; data borrowed. */
struct trustset_item {
	int kind; /* TRUST_CERT, TRUST_REVOKE, TRUST_FORK, TRUST_MOVE */
	const uint8_t *data;
	size_t len;
};

enum trustset_status {
	TRUSTSET_ADDED = 0,
	TRUSTSET_KNOWN,	   /* already held */
	TRUSTSET_REFUSED,  /* err and why say what is wrong */
};

struct trustset_out {
	int status;
	int err;
	char why[200];
	uint8_t key[TRUSTSET_KEY];
};

/*
 * Add n items in t. A certificate is taken when its issuer is the root or
 * holds a certificate in the set (an issuer's certificate later in the
 * same call counts: items are taken in passes); a revocation when it is
 * signed by the root or by a key in a chain of its subject; a fork proof
 * when it proves a fork in this network. The set holds at most
 * TRUSTSET_MAX items, of which the last TRUSTSET_ROOT_RESERVE only items
 * the root signed take: past that, new items are refused. <0 only when
 * the store failed.
 */
int trustset_add(struct store_txn *t, const uint8_t network_id[32],
		 const struct trustset_item *items, size_t n,
		 struct trustset_out *out);

/* Item by key: 0, or HAMLET_ENOTFOUND. The bytes borrow from t. */
int trustset_get(struct store_txn *t, const uint8_t key[TRUSTSET_KEY],
		 const uint8_t **ret, size_t *ret_len);

/* BLAKE2b-256 over every key in order, and their number: equal digests,
 * equal sets. */
int trustset_digest(struct store_txn *t, uint8_t ret[32], uint64_t *ret_n);

/*
 * trustset_digest() of the members a node certified by a shares with a
 * peer certified by b: all but the fork proofs of a feed that one of
 * them may not read (through the scope moves m), which neither keeps
 * from the other (SPEC §9). a or b NULL: not judged by it.
 */
struct scopemap;
int trustset_digest_shared(struct store_txn *t, const struct scopemap *m,
			   const struct cert *a, const struct cert *b,
			   uint8_t ret[32], uint64_t *ret_n);

/* 1 when (kind, data, len), a member, is a fork proof of a feed that c
 * may not read (through m); else 0 (c NULL: 0). */
int trustset_proof_unread(const struct scopemap *m, const struct cert *c,
			  int kind, const uint8_t *data, size_t len);

/* Take member key, whose subject (a fork proof's author) is subject, out
 * of the set: a fork proof of a feed the node no longer reads
 * (log_keep_reads()). The only way a member leaves. */
int trustset_forget(struct store_txn *t, const uint8_t key[TRUSTSET_KEY],
		    const uint8_t subject[32]);

/*
 * Up to max keys >= from (NULL: from the start), in order, into keys;
 * *ret_n of them. *ret_more is 1 when keys past the last one remain.
 */
int trustset_keys(struct store_txn *t, const uint8_t *from, size_t max,
		  uint8_t (*keys)[TRUSTSET_KEY], size_t *ret_n, int *ret_more);
/* trustset_keys() of the keys below to (NULL: no bound) only. */
int trustset_keys_range(struct store_txn *t, const uint8_t *from,
			const uint8_t *to, size_t max,
			uint8_t (*keys)[TRUSTSET_KEY], size_t *ret_n,
			int *ret_more);

typedef int (*trustset_cb)(void *ctx, int kind, const uint8_t id[32],
			   const uint8_t *data, size_t len);
/* Every item of kind (0: every kind), in key order. */
int trustset_each(struct store_txn *t, int kind, trustset_cb cb, void *ctx);

/* Items whose subject (a fork proof: author) is key, of kind. */
int trustset_each_subject(struct store_txn *t, const uint8_t key[32],
			  int kind, trustset_cb cb, void *ctx);

/*
 * Hold the index of subjects (ST_TRUSTSUBJ) to the signed items
 * (ST_TRUST), for an audit (trustset_index.c): every item must have its
 * row (subject || kind || id) and every row must name an item held
 * whose subject it is, or chains and revocations are read wrong. cb
 * (may be NULL) is told of each fault with what (below), key the item's
 * kind || id and subject the row's or item's key (either NULL when a row
 * is too damaged to say); a cb returning non-zero stops the check with
 * that value. *ret_faults: how many. <0 when the store fails.
 */
enum {
	TRUSTSET_INDEX_MISSING = 1, /* an item without its row */
	TRUSTSET_INDEX_EXTRA,	    /* a row of no item held, or of another
				     * subject than its item's */
	TRUSTSET_INDEX_UNREADABLE,  /* an item that does not decode */
};
typedef int (*trustset_index_cb)(void *ctx, int what,
				 const uint8_t *key, const uint8_t *subject);
int trustset_index_check(struct store_txn *t, trustset_index_cb cb,
			 void *ctx, uint64_t *ret_faults);

/* --- judging entries and peers ------------------------------------------ */

/* What one transaction learnt of authors, so a batch of one feed builds
 * its author's chains once. */
struct trustset_cache;
struct trustset_cache *trustset_cache_new(void);
void trustset_cache_free(struct trustset_cache *c);
/* Forget everything (the set changed). */
void trustset_cache_reset(struct trustset_cache *c);

/*
 * May entry e (id) stand? 0 when a chain of its author's certificates to
 * the root grants writing its scope and collection at its time and no
 * revocation of its author cuts it off (SPEC "Revocations": a
 * revocation keeps, per feed, entries up to a seq and that entry's id);
 * HAMLET_ECERT or HAMLET_EREVOKED with why when not; HAMLET_ENOCERT when
 * no complete chain of its author is in the set yet (hold it). 0 also
 * when the store has no root.
 */
int trustset_entry_check(struct store_txn *t, struct trustset_cache *c,
			 const struct entry *e, const uint8_t id[32],
			 char *why, size_t wl);

/*
 * For an entry past the cut-off of a revocation of its author: does the
 * set refuse it as revoked (trustset_entry_check() says EREVOKED: no
 * chain the revocations leave grants it)? 1 or 0; 1 too when the store
 * has no root, which judges nobody, or the author no chain; <0 when the
 * store failed.
 */
int trustset_entry_revoked(struct store_txn *t, struct trustset_cache *c,
			   const struct entry *e, const uint8_t id[32]);

/*
 * The leaf certificates of key's chains that hold at now_ms, unrevoked:
 * up to max into ret, *ret_n of them. 1 (and none) when the store has no
 * root and so judges nobody.
 */
int trustset_valid_leaves(struct store_txn *t, const uint8_t key[32],
			  uint64_t now_ms, struct cert *ret, size_t max,
			  size_t *ret_n);

/*
 * Every chain (up to max) from key's certificates to the root, leaf
 * first, into ret, *ret_n of them, whatever their dates (check them with
 * cert_chain_check at the time that matters); a chain cut by an issuer's
 * revocation that does not keep the certificate below it is left out,
 * and *ret_cut (may be NULL) is then 1. 0 and none when the store has no
 * root.
 */
int trustset_chains(struct store_txn *t, const uint8_t key[32],
		    struct cert_chain *ret, size_t max, size_t *ret_n,
		    int *ret_cut);
/* trustset_chains() to root (NULL: the store's): an audit judges by the
 * network's root, never by the row a copy keeps. */
int trustset_chains_under(struct store_txn *t, const uint8_t *root,
			  const uint8_t key[32], struct cert_chain *ret,
			  size_t max, size_t *ret_n, int *ret_cut);

/*
 * The chain to judge ch (leaf first: a node's installed chain, or the one
 * a peer showed) by at now_ms: of ch and of every chain the set completes
 * from ch's leaf certificate to the root, the one that holds at now_ms,
 * unrevoked, and ends last (cert_chain_span()); ch itself on a tie. So
 * an issuer's certificate renewed for the same key (a new certificate of
 * that key in the set) takes the place of the one ch carries, without a
 * new leaf. The leaf itself is never replaced. *ret is ch when none
 * holds (its check names the fault); its off and len are 0 when it is
 * not ch (re-encode from the set's bytes, trustset_get()). 1 when *ret
 * is not ch, 0 when it is, <0 when the store failed.
 */
int trustset_chain_best(struct store_txn *t, const struct cert_chain *ch,
			uint64_t now_ms, struct cert_chain *ret);

/*
 * Does revocation rv come from chain ch: did its issuer sign one of ch's
 * certificates from index from on (the root signs the last)? Only such
 * a revocation of the key at from cuts ch there; one by a key outside
 * the chain cuts nothing of it (SPEC 9).
 */
int trustset_revoke_applies(const struct revocation *rv,
			    const struct cert_chain *ch, size_t from);

/*
 * Can revocation rv cut anything of key's writing in scope: does it come
 * from a chain of key that grants scope, at rv's subject's place in it
 * (key itself, or an issuer above it)? 1 when it does, or when no chain
 * grants scope (the entry judge decides then); 0 when it cannot, and
 * nothing of key's in scope need be judged again; <0 when the store
 * failed.
 */
int trustset_revoke_reaches(struct store_txn *t, const struct revocation *rv,
			    const uint8_t key[32], const char *scope);

/*
 * Is key (whose chain ch, leaf first, may be NULL) revoked? With ch: a
 * revocation of key, or of an issuer in ch that does not keep the
 * certificate below it, that comes from ch (trustset_revoke_applies()).
 * Without: every chain of key in the set is so revoked (with none, any
 * revocation of key counts). 0, or HAMLET_EREVOKED with why.
 */
int trustset_revoked(struct store_txn *t, const uint8_t key[32],
		     const struct cert_chain *ch, char *why, size_t wl);

#endif
