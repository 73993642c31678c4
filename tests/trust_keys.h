/*
 * What the trust set's own tests share: their network id, and keys made
 * from a number (and a tag byte, so that each test has keys of its own).
 */
#ifndef HAMLET_TEST_TRUST_KEYS_H
#define HAMLET_TEST_TRUST_KEYS_H

#include "cert.h"
#include "entry.h"
#include "sig.h"
#include "store.h"
#include "testlib.h"
#include "trust.h"
#include "trustset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t net_id[32] = { 0x4e, 0x45, 0x54 };

struct key {
	uint8_t pk[32], sk[64];
};

static inline void key_tagged(uint32_t n, uint8_t tag, struct key *k)
{
	uint8_t seed[32] = { 0 };
	memcpy(seed, &n, sizeof(n));
	seed[31] = tag;
	ASSERT_OK(sig_keypair_from_seed(seed, k->pk, k->sk));
}

/* A certificate by issuer for subj, reading and writing scope (and
 * writing also, when not NULL), valid from not_before until expires (ms;
 * 0: for ever); its bytes (malloc'd), *ret_len. */
static inline uint8_t *cert_make(const struct key *issuer, const struct key *subj,
			  const char *scope, const char *also, int delegate,
			  uint32_t serial, uint64_t not_before,
			  uint64_t expires, size_t *ret_len)
{
	struct cert c;
	uint8_t *p;
	memset(&c, 0, sizeof(c));
	memcpy(c.network_id, net_id, 32);
	memcpy(c.issuer, issuer->pk, 32);
	memcpy(c.subject, subj->pk, 32);
	snprintf(c.name, sizeof(c.name), "n");
	c.role = delegate ? CERT_COMMUNE : CERT_VILLAGE;
	snprintf(c.read[0], sizeof(c.read[0]), "%s", scope);
	snprintf(c.write[0], sizeof(c.write[0]), "%s", scope);
	c.nread = c.nwrite = 1;
	if (also) {
		snprintf(c.write[1], sizeof(c.write[1]), "%s", also);
		c.nwrite = 2;
	}
	c.delegate = delegate;
	memcpy(c.serial, &serial, sizeof(serial));
	c.not_before_ms = not_before;
	c.expires_ms = expires;
	ASSERT_OK(cert_sign(&c, issuer->sk, &p, ret_len));
	return p;
}

/* cert_make() of one scope, for ever. */
static inline uint8_t *cert_signed(const struct key *issuer,
				   const struct key *subj, const char *scope,
				   int delegate, uint32_t serial,
				   uint64_t not_before, size_t *ret_len)
{
	return cert_make(issuer, subj, scope, NULL, delegate, serial,
			 not_before, 0, ret_len);
}

/* A revocation by issuer of subj at issued (ms) that keeps nothing. */
static inline uint8_t *revoke_signed(const struct key *issuer,
				     const struct key *subj, uint64_t issued,
				     size_t *ret_len)
{
	struct revocation *rv = calloc(1, sizeof(*rv));
	uint8_t *p;
	ASSERT_TRUE(rv != NULL);
	memcpy(rv->network_id, net_id, 32);
	memcpy(rv->issuer, issuer->pk, 32);
	memcpy(rv->subject, subj->pk, 32);
	rv->issued_ms = issued;
	ASSERT_OK(revoke_sign(rv, issuer->sk, &p, ret_len));
	free(rv);
	return p;
}

/* Add item p (len bytes, freed) of kind in its own transaction: its
 * status in *out; a refusal's reason on stderr. */
static inline int trust_add1(struct store *st, int kind, uint8_t *p,
			     size_t len, struct trustset_out *out)
{
	struct trustset_item it = { kind, p, len };
	struct store_txn *t;
	ASSERT_OK(store_txn_begin(st, 0, &t));
	ASSERT_OK(trustset_add(t, net_id, &it, 1, out));
	ASSERT_OK(store_txn_commit(t));
	free(p);
	if (out->status != TRUSTSET_ADDED)
		fprintf(stderr, "refused: %s\n", out->why);
	return out->status;
}

/* trustset_entry_check(), with a cache of its own, of a put of coll by
 * author in scope dated at (ms); the reason of a refusal in why. */
static inline int trust_judge(struct store *st, const struct key *author,
			      const char *scope, const char *coll,
			      uint64_t at, char *why, size_t wl)
{
	struct trustset_cache *c = trustset_cache_new();
	struct entry e;
	struct store_txn *t;
	uint8_t id[32] = { 1 };
	int r;
	ASSERT_TRUE(c != NULL);
	memset(&e, 0, sizeof(e));
	memcpy(e.network_id, net_id, 32);
	memcpy(e.author, author->pk, 32);
	snprintf(e.scope, sizeof(e.scope), "%s", scope);
	snprintf(e.collection, sizeof(e.collection), "%s", coll);
	e.seq = 1;
	e.hlc = at << 16;
	e.kind = ENTRY_PUT;
	ASSERT_OK(store_txn_begin(st, 1, &t));
	r = trustset_entry_check(t, c, &e, id, why, wl);
	store_txn_abort(t);
	trustset_cache_free(c);
	return r;
}

#endif
