/* Fuzz target: opening a sealed bundle (proto/seal.c) with the
 * recipient's key, then the plain frames inside. The key is fixed, so
 * that mutations reach the frames. */
#include "bundle_format.h"
#include "fuzz_bundle_seed.h"
#include "seal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fixed_key(uint8_t pk[32], uint8_t sk[64])
{
	uint8_t seed[32];
	memset(seed, 0x5e, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pk[32], sk[64];
	static int ready;
	struct seal_opened o;
	struct bundle_reader rd;
	struct bundle_frame fr;
	size_t bad;
	int r, guard = 0;

	if (!ready) {
		if (sodium_init() < 0)
			exit(1);
		fixed_key(pk, sk);
		ready = 1;
	}
	if (seal_open(data, size, sk, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN, NULL,
		      NULL, &o) < 0)
		return 0;
	if (o.len > BUNDLE_MAGIC_LEN + size)
		abort(); /* opened frames only shrink */
	if (bundle_reader_init(&rd, o.plain, o.len) == 0)
		while ((r = bundle_reader_next(&rd, &fr, &bad)) != 0 &&
		       guard++ < 100000)
			;
	seal_opened_close(&o);
	return 0;
}

size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	uint8_t pk[32], sk[64];
	if (sodium_init() < 0)
		exit(1);
	fixed_key(pk, sk);
	return fuzz_bundle_seed(pk, ret_seeds, ret_lens);
}
