/*
 * What trustset.c and trustset_check.c share: the chains and revocations
 * of one key, read out of the trust set. Not a public API.
 */
#ifndef HAMLET_TRUSTSET_INTERNAL_H
#define HAMLET_TRUSTSET_INTERNAL_H

#include "trustset.h"

#define CACHE_AUTHORS 4
#define CACHE_CHAINS 4	    /* chains kept per author */
#define CACHE_REVOKES 4	    /* revocations of one author looked at */

/* The revocations of one subject, decoded. */
struct revokes_of {
	size_t n;
	struct revocation *v[CACHE_REVOKES];
};

/* Chains found for one leaf subject. */
struct chains {
	size_t n;
	struct cert_chain v[CACHE_CHAINS];
	int revoked_link; /* a chain was cut by an issuer's revocation */
};

/* ro: the revocations (up to CACHE_REVOKES) of key; 0 or <0. */
int trustset__revokes_load(struct store_txn *t, const uint8_t key[32],
			   struct revokes_of *ro);
/* ro: the revocations (up to CACHE_REVOKES) of key that come from ch
 * from index from on (all of key's with ch NULL); 0 or <0. */
int trustset__revokes_from(struct store_txn *t, const uint8_t key[32],
			   const struct cert_chain *ch, size_t from,
			   struct revokes_of *ro);
void trustset__revokes_free(struct revokes_of *ro);

struct scopemap;
/* Every chain (up to CACHE_CHAINS) from subject's certificates to root,
 * each certificate of it granting writing scope through the moves of map
 * (scope NULL: any): certificates of a key made in
 * another area never hide the chains of this one. */
int trustset__chains_find(struct store_txn *t, const uint8_t root[32],
			  const uint8_t subject[32], const char *scope,
			  const struct scopemap *map, struct chains *out);

/* Hand take each chain trustset__chains_find() would find, beyond the
 * first CACHE_CHAINS too, until it returns 1 (or <0): 0 or <0. */
int trustset__chains_each(struct store_txn *t, const uint8_t root[32],
			  const uint8_t subject[32], const char *scope,
			  const struct scopemap *map,
			  int (*take)(void *ctx, const struct cert_chain *ch),
			  void *ctx);

#endif
