/* Fuzz target: the bundle reader and its frame parsers. */
#include "bundle_format.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle_reader rd;
	struct bundle_frame fr;
	size_t bad;
	struct bundle_header h;
	int r, guard = 0;
	memset(&h, 0, sizeof(h));
	if (bundle_reader_init(&rd, data, size) < 0)
		return 0;
	while ((r = bundle_reader_next(&rd, &fr, &bad)) != 0 &&
	       guard++ < 100000) {
		if (r < 0)
			continue;
		struct bundle_entry e;
		struct bundle_trailer t;
		if (fr.type == BUNDLE_FRAME_HEADER)
			bundle_header_parse(fr.payload, fr.len, &h);
		else if (fr.type == BUNDLE_FRAME_ENTRY &&
			 bundle_entry_parse(fr.payload, fr.len, &e) < 0)
			bundle_reader_resync_from(&rd, fr.offset);
		else if (fr.type == BUNDLE_FRAME_TRAILER &&
			 bundle_trailer_parse(fr.payload, fr.len, &t) == 0)
			bundle_trailer_verify(&t, h.creator);
	}
	return 0;
}

size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
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
	if (bundle_writer_open(path, &h, &w) < 0)
		exit(1);
	bundle_writer_add(w, env, sizeof(env), sig, (const uint8_t *)"body", 4);
	bundle_writer_add(w, env, sizeof(env), sig, NULL, 0);
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
