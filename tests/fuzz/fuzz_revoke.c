/* Fuzz target: signed revocations (revoke_decode) and the trust-set key
 * of one (trust_item_key). */
#include "sig.h"
#include "trust.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct revocation r;
	uint8_t id[32], key[TRUST_KEY_LEN];
	char why[256];

	if (revoke_decode(data, size, &r, id) == 0)
		revoke_check_fields(&r, why, sizeof(why));
	trust_item_key(TRUST_REVOKE, data, size, key, why, sizeof(why));
	return 0;
}

/* The root revoking a village PC with two feeds and one kept
 * certificate; and an administrator's bare revocation. */
size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static uint8_t *seeds[2];
	static size_t lens[2];
	static struct revocation r;
	uint8_t seed[32], rpk[32], rsk[64], apk[32], ask[64], vpk[32], vsk[64];

	memset(seed, 1, 32);
	sig_keypair_from_seed(seed, rpk, rsk);
	memset(seed, 2, 32);
	sig_keypair_from_seed(seed, apk, ask);
	memset(seed, 3, 32);
	sig_keypair_from_seed(seed, vpk, vsk);
	memset(&r, 0, sizeof(r));
	memcpy(r.issuer, rpk, 32);
	memcpy(r.subject, vpk, 32);
	r.issued_ms = 1800000000000ull;
	strcpy(r.reason, "laptop stolen");
	strcpy(r.feeds[0].scope, "bk/qt/na-pai");
	r.feeds[0].seq = 12;
	memset(r.feeds[0].head, 0x44, 32);
	strcpy(r.feeds[1].scope, "bk/qt/na-pai/x");
	r.nfeeds = 2;
	memset(r.keep[0], 0x55, 32);
	r.nkeep = 1;
	if (revoke_sign(&r, rsk, &seeds[0], &lens[0]) < 0)
		abort();
	memset(&r, 0, sizeof(r));
	memcpy(r.issuer, apk, 32);
	memcpy(r.subject, vpk, 32);
	if (revoke_sign(&r, ask, &seeds[1], &lens[1]) < 0)
		abort();
	*ret_seeds = seeds;
	*ret_lens = lens;
	return 2;
}
