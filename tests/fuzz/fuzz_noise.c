/*
 * Fuzz target: Noise handshake messages (noise_hs_read_message), with
 * fixed keys so that a run is reproducible. The first byte picks the
 * state that reads the rest: bit 0-1: 0 the responder reading message 1,
 * 1 the initiator reading message 2 (after writing message 1), 2 the
 * responder reading message 3 (after a valid message 1 and its answer);
 * bit 2: Noise_XXpsk3 instead of Noise_XX.
 */
#include "noise.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t prologue[] = "hamlet-fuzz";
static const uint8_t s_i[NOISE_KEY_LEN] = { 1 }, s_r[NOISE_KEY_LEN] = { 2 };
static const uint8_t e_i[NOISE_KEY_LEN] = { 3 }, e_r[NOISE_KEY_LEN] = { 4 };
static const uint8_t psk[NOISE_PSK_LEN] = { 5 };

static struct noise_hs *hs_new(int initiator, int with_psk)
{
	struct noise_hs *hs;
	/* with the psk: Noise_XXpsk0, as hamletd runs it */
	if (noise_hs_new_psk(initiator, prologue, sizeof(prologue),
			     initiator ? s_i : s_r, with_psk ? psk : NULL, 0,
			     initiator ? e_i : e_r, &hs) < 0)
		abort();
	return hs;
}

/* Messages 1 and 2 of a valid handshake. */
static void valid_start(int with_psk, uint8_t *m1, size_t *l1, uint8_t *m2,
			size_t *l2)
{
	struct noise_hs *i = hs_new(1, with_psk), *r = hs_new(0, with_psk);
	uint8_t pl[64];
	size_t n;
	if (noise_hs_write_message(i, (const uint8_t *)"one", 3, m1, 256, l1) < 0 ||
	    noise_hs_read_message(r, m1, *l1, pl, sizeof(pl), &n) < 0 ||
	    noise_hs_write_message(r, (const uint8_t *)"two", 3, m2, 256, l2) < 0)
		abort();
	noise_hs_free(i);
	noise_hs_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t payload[NOISE_MAX_MSG];
	uint8_t m1[256], m2[256];
	size_t l1, l2, n;
	struct noise_hs *hs;
	int stage, with_psk;

	if (size < 1)
		return 0;
	stage = data[0] & 3;
	with_psk = (data[0] >> 2) & 1;
	data++;
	size--;
	if (stage == 1) {
		hs = hs_new(1, with_psk);
		if (noise_hs_write_message(hs, NULL, 0, m1, sizeof(m1), &l1) < 0)
			abort();
	} else {
		hs = hs_new(0, with_psk);
		if (stage == 2) {
			valid_start(with_psk, m1, &l1, m2, &l2);
			if (noise_hs_read_message(hs, m1, l1, payload,
						  sizeof(payload), &n) < 0 ||
			    noise_hs_write_message(hs, NULL, 0, m2, sizeof(m2),
						   &l2) < 0)
				abort();
		}
	}
	if (noise_hs_read_message(hs, data, size, payload, sizeof(payload),
				  &n) == 0 &&
	    noise_hs_is_finished(hs)) {
		struct noise_cipher tx, rx;
		if (noise_hs_split(hs, &tx, &rx) == 0) {
			noise_cipher_wipe(&tx);
			noise_cipher_wipe(&rx);
		}
	}
	noise_hs_free(hs);
	return 0;
}

/* The three messages of a valid handshake, each behind its selector. */
size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static uint8_t *seeds[6];
	static size_t lens[6];
	for (int with_psk = 0; with_psk < 2; with_psk++) {
		struct noise_hs *i = hs_new(1, with_psk), *r = hs_new(0, with_psk);
		uint8_t m[3][256], pl[64];
		size_t l[3], n;
		if (noise_hs_write_message(i, (const uint8_t *)"one", 3, m[0], 256, &l[0]) < 0 ||
		    noise_hs_read_message(r, m[0], l[0], pl, sizeof(pl), &n) < 0 ||
		    noise_hs_write_message(r, (const uint8_t *)"two", 3, m[1], 256, &l[1]) < 0 ||
		    noise_hs_read_message(i, m[1], l[1], pl, sizeof(pl), &n) < 0 ||
		    noise_hs_write_message(i, (const uint8_t *)"three", 5, m[2], 256, &l[2]) < 0)
			abort();
		for (int k = 0; k < 3; k++) {
			uint8_t *p = malloc(l[k] + 1);
			if (!p)
				abort();
			p[0] = (uint8_t)(k | with_psk << 2);
			memcpy(p + 1, m[k], l[k]);
			seeds[with_psk * 3 + k] = p;
			lens[with_psk * 3 + k] = l[k] + 1;
		}
		noise_hs_free(i);
		noise_hs_free(r);
	}
	*ret_seeds = seeds;
	*ret_lens = lens;
	return 6;
}
