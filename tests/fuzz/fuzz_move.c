/* Fuzz target: signed scope moves (move_decode), the trust-set key of
 * one (trust_item_key), and the scope map built from what decodes. */
#include "scopemap.h"
#include "sig.h"
#include "trust.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scope_move m;
	struct scopemap *sm;
	uint8_t id[32], key[TRUST_KEY_LEN];
	char why[256], out[ENTRY_MAX_SCOPE + 1];

	if (move_decode(data, size, &m, id, why, sizeof(why)) == 0 &&
	    scopemap_build(&m, (const uint8_t(*)[32])id, 1, &sm) == 0) {
		scopemap_resolve(sm, m.from, out);
		scopemap_under(sm, m.from, m.to);
		scopemap_free(sm);
	}
	trust_item_key(TRUST_MOVE, data, size, key, why, sizeof(why));
	return 0;
}

/* The root merging a commune into another; and a village moved alone. */
size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static uint8_t *seeds[2];
	static size_t lens[2];
	static struct scope_move m;
	uint8_t seed[32], rpk[32], rsk[64];

	memset(seed, 1, 32);
	sig_keypair_from_seed(seed, rpk, rsk);
	memset(&m, 0, sizeof(m));
	memcpy(m.issuer, rpk, 32);
	strcpy(m.from, "lc/bac-ha");
	strcpy(m.to, "lc/si-ma-cai");
	m.at_ms = 1800000000000ull;
	strcpy(m.reason, "merger 2025");
	if (move_sign(&m, rsk, &seeds[0], &lens[0]) < 0)
		abort();
	strcpy(m.from, "lc/bac-ha/na-hoi");
	strcpy(m.to, "hg/x/na-hoi");
	m.reason[0] = 0;
	if (move_sign(&m, rsk, &seeds[1], &lens[1]) < 0)
		abort();
	*ret_seeds = seeds;
	*ret_lens = lens;
	return 2;
}
