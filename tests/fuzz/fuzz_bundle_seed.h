/*
 * The seed of the bundle targets: a bundle of two entries (one with a
 * body) and a run of three, plain or sealed to seal_to, written through
 * the real writer.
 */
#ifndef HAMLET_FUZZ_BUNDLE_SEED_H
#define HAMLET_FUZZ_BUNDLE_SEED_H
#include "../run_fixture.h"
#include "bundle_format.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline size_t fuzz_bundle_seed(const uint8_t *seal_to,
				      uint8_t ***ret_seeds, size_t **ret_lens)
{
	static uint8_t *seeds[1];
	static size_t lens[1];
	char path[] = "/tmp/fuzz-bundle-XXXXXX";
	int fd = mkstemp(path);
	struct bundle_header h;
	struct bundle_writer *w;
	uint8_t pk[32], sk[64], env[40] = { 0x93 }, sig[64] = { 0 };
	if (fd < 0 || sodium_init() < 0)
		exit(1);
	close(fd);
	unlink(path);
	crypto_sign_keypair(pk, sk);
	memset(&h, 0, sizeof(h));
	memcpy(h.creator, pk, 32);
	if (bundle_writer_open_sealed(path, &h, seal_to, &w) < 0)
		exit(1);
	bundle_writer_add(w, env, sizeof(env), sig, (const uint8_t *)"body", 4);
	bundle_writer_add(w, env, sizeof(env), sig, NULL, 0);
	{
		struct rf_feed f;
		(void)testlib_failures;
		(void)testlib_case;
		rf_init(&f);
		bundle_writer_add_run(w, f.v, f.n, NULL);
		rf_free(&f);
	}
	if (bundle_writer_finish(w, sk) < 0)
		exit(1);
	FILE *f = fopen(path, "rb");
	seeds[0] = malloc(1 << 16);
	lens[0] = fread(seeds[0], 1, 1 << 16, f);
	fclose(f);
	unlink(path);
	*ret_seeds = seeds;
	*ret_lens = lens;
	return 1;
}
#endif
