/*
 * trustset_share: what of the trust set a node shares with a peer (SPEC
 * §9): its digest, less the fork proofs of feeds one of the two may not
 * read, and taking out a fork proof of a feed the node no longer reads.
 * Part of the trustset module.
 */
#include "trustset.h"

#include "error.h"
#include "scopemap.h"

#include <sodium.h>
#include <string.h>

int trustset_digest(struct store_txn *t, uint8_t ret[32], uint64_t *ret_n)
{
	return trustset_digest_shared(t, NULL, NULL, NULL, ret, ret_n);
}

int trustset_proof_unread(const struct scopemap *m, const struct cert *c,
			  int kind, const uint8_t *data, size_t len)
{
	char scope[ENTRY_MAX_SCOPE + 1];

	/* a member was checked when it joined: its scope is all we need,
	 * not its two signatures verified again (this runs for every proof
	 * of the set at each digest, on the daemon's loop) */
	if (!c || kind != TRUST_FORK ||
	    fork_proof_scope(data, len, scope) < 0)
		return 0;
	return !scopemap_may_read(m, c, scope);
}

int trustset_digest_shared(struct store_txn *t, const struct scopemap *m,
			   const struct cert *a, const struct cert *b,
			   uint8_t ret[32], uint64_t *ret_n)
{
	crypto_generichash_blake2b_state h;
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	uint64_t n = 0;
	int r;

	if ((r = store_cursor_open(t, ST_TRUST, &c)) < 0)
		return r;
	crypto_generichash_blake2b_init(&h, NULL, 0, 32);
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		int kind = kl ? ((const uint8_t *)k)[0] : 0;
		if (trustset_proof_unread(m, a, kind, v, vl) ||
		    trustset_proof_unread(m, b, kind, v, vl))
			continue;
		crypto_generichash_blake2b_update(&h, k, kl);
		n++;
	}
	store_cursor_close(c);
	if (r < 0)
		return r;
	crypto_generichash_blake2b_final(&h, ret, 32);
	*ret_n = n;
	return 0;
}

int trustset_forget(struct store_txn *t, const uint8_t key[TRUSTSET_KEY],
		    const uint8_t subject[32])
{
	uint8_t sk[32 + TRUSTSET_KEY];
	int r = store_del(t, ST_TRUST, key, TRUSTSET_KEY);

	if (r < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	memcpy(sk, subject, 32);
	memcpy(sk + 32, key, TRUSTSET_KEY);
	r = store_del(t, ST_TRUSTSUBJ, sk, sizeof(sk));
	return r == HAMLET_ENOTFOUND ? 0 : r;
}
