/* Fuzz target: fork proofs (fork_proof_decode) and the trust-set key of
 * one (trust_item_key). */
#include "sig.h"
#include "trust.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fork_proof p;
	uint8_t id[32], key[TRUST_KEY_LEN];
	char why[256];

	fork_proof_decode(data, size, &p, id);
	trust_item_key(TRUST_FORK, data, size, key, why, sizeof(why));
	return 0;
}

/* One entry of feed (author, "bk/qt/na-pai"), signed. */
static void make(uint64_t seq, const uint8_t *prev, const char *rid,
		 const uint8_t pk[32], const uint8_t sk[64], uint8_t **env,
		 size_t *len, uint8_t sig[64])
{
	struct entry e;
	memset(&e, 0, sizeof(e));
	memcpy(e.author, pk, 32);
	strcpy(e.scope, "bk/qt/na-pai");
	e.seq = seq;
	if (prev) {
		e.has_prev = 1;
		memcpy(e.prev, prev, 32);
	}
	e.hlc = (1800000000000ull << 16) | seq;
	e.kind = ENTRY_DELETE;
	strcpy(e.collection, "health_profile");
	strcpy(e.record_id, rid);
	if (entry_encode(&e, env, len) < 0 ||
	    entry_sign(*env, *len, sk, sig) < 0)
		abort();
}

/* Both shapes: two entries at seq 2; and a seq 3 not after that seq 2. */
size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static uint8_t *seeds[2];
	static size_t lens[2];
	uint8_t seed[32], pk[32], sk[64], s1[64], s2a[64], s2b[64], s3[64];
	uint8_t id1[32], id2b[32], *e1, *e2a, *e2b, *e3;
	size_t l1, l2a, l2b, l3;

	memset(seed, 3, 32);
	sig_keypair_from_seed(seed, pk, sk);
	make(1, NULL, "HP-1", pk, sk, &e1, &l1, s1);
	entry_id(e1, l1, id1);
	make(2, id1, "HP-2", pk, sk, &e2a, &l2a, s2a);
	make(2, id1, "HP-2b", pk, sk, &e2b, &l2b, s2b);
	entry_id(e2b, l2b, id2b);
	make(3, id2b, "HP-3", pk, sk, &e3, &l3, s3);
	if (fork_proof_encode(e2a, l2a, s2a, e2b, l2b, s2b, &seeds[0],
			      &lens[0]) < 0 ||
	    fork_proof_encode(e3, l3, s3, e2a, l2a, s2a, &seeds[1], &lens[1]) <
		    0)
		abort();
	free(e1);
	free(e2a);
	free(e2b);
	free(e3);
	*ret_seeds = seeds;
	*ret_lens = lens;
	return 2;
}
