/* Fuzz target: summary files (summary_read). */
#include "fuzz_memfile.h"
#include "mp.h"
#include "summary.h"

#include <sodium.h>
#include <string.h>

static void read_one(const uint8_t *data, size_t size)
{
	char path[64], why[512];
	struct summary *s;
	int fd = fuzz_memfile(data, size, path, sizeof(path));
	if (summary_read(path, &s, why, sizeof(why)) == 0) {
		uint8_t key[32] = { 0 };
		summary_seq(s, key);
		if (s->n)
			summary_find(s, s->feeds[0].key);
		if (s->ntrust)
			summary_has_trust(s, s->trust[s->ntrust - 1]);
		summary_free(s);
	}
	close(fd);
}

/* The input as it is (its checksum almost never matches a mutation),
 * then with its last 32 bytes made its checksum, so that the parser
 * behind it meets the mutations too. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;

	read_one(data, size);
	if (size < 8 + SUMMARY_SUM_LEN || !(fixed = malloc(size)))
		return 0;
	memcpy(fixed, data, size);
	crypto_generichash(fixed + size - SUMMARY_SUM_LEN, SUMMARY_SUM_LEN,
			   fixed, size - SUMMARY_SUM_LEN, NULL, 0);
	read_one(fixed, size);
	free(fixed);
	return 0;
}

/* Summaries of no feed and of two, as summary_write() lays them out
 * (checksum and all), and one of version 3 (no checksum) as an older
 * hamlet did. */
size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static uint8_t *seeds[3];
	static size_t lens[3];
	uint8_t id[32] = { 7 }, node[32] = { 8 }, k[32] = { 1 }, h[32] = { 9 };
	uint8_t tk[TRUST_KEY_LEN] = { 1, 5 };
	for (int i = 0; i < 3; i++) {
		struct mp_writer w;
		size_t len;
		uint8_t *body;
		int old = i == 2;
		mp_writer_init(&w);
		msgpack_pack_array(&w.pk, 7);
		msgpack_pack_uint64(&w.pk, old ? 3 : SUMMARY_VERSION);
		mp_pack_bin(&w.pk, id, 32);
		mp_pack_bin(&w.pk, node, 32);
		msgpack_pack_uint64(&w.pk, 1234567);
		msgpack_pack_array(&w.pk, (size_t)i * 2);
		for (int f = 0; f < i * 2; f++) {
			k[0] = (uint8_t)(f + 1);
			msgpack_pack_array(&w.pk, 3);
			mp_pack_bin(&w.pk, k, 32);
			msgpack_pack_uint64(&w.pk, (uint64_t)f + 3);
			mp_pack_bin(&w.pk, h, 32);
		}
		mp_pack_bin(&w.pk, h, (size_t)i * 16); /* a chain, or none */
		msgpack_pack_array(&w.pk, (size_t)i * 2);
		for (int t = 0; t < i * 2; t++) {
			tk[1] = (uint8_t)(9 - t); /* out of order */
			mp_pack_bin(&w.pk, tk, sizeof(tk));
		}
		body = mp_writer_take(&w, &len);
		mp_writer_destroy(&w);
		if (!body || !(seeds[i] = malloc(8 + len + SUMMARY_SUM_LEN)))
			abort();
		/* the older seed in format 1, as an older hamlet wrote it */
		memcpy(seeds[i], old ? "HAMLETS\x01" : SUMMARY_MAGIC, 8);
		memcpy(seeds[i] + 8, body, len);
		lens[i] = 8 + len;
		if (!old) {
			crypto_generichash(seeds[i] + lens[i], SUMMARY_SUM_LEN,
					   seeds[i], lens[i], NULL, 0);
			lens[i] += SUMMARY_SUM_LEN;
		}
		free(body);
	}
	*ret_seeds = seeds;
	*ret_lens = lens;
	return 3;
}
