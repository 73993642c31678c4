/*
 * noise_internal: what noise.c (the handshake) and noise_cipher.c (the
 * CipherState) share. Nothing outside the Noise code includes it.
 */
#ifndef HAMLET_NOISE_INTERNAL_H
#define HAMLET_NOISE_INTERNAL_H

#include "noise.h"

#include <stddef.h>
#include <stdint.h>

/* InitializeKey(k): k is NOISE_KEY_LEN bytes; the nonce starts at 0. */
void noise__cipher_init_key(struct noise_cipher *c, const uint8_t *k);

/* EncryptWithAd with a key, the arguments unchecked: out takes len +
 * NOISE_TAG_LEN bytes. -EOVERFLOW once the nonce is spent. */
int noise__cipher_encrypt(struct noise_cipher *c, const uint8_t *ad,
			  size_t ad_len, const uint8_t *plain, size_t len,
			  uint8_t *out);

/* DecryptWithAd with a key, the arguments unchecked; len includes the
 * tag. HAMLET_EDECRYPT when it does not authenticate. */
int noise__cipher_decrypt(struct noise_cipher *c, const uint8_t *ad,
			  size_t ad_len, const uint8_t *cipher, size_t len,
			  uint8_t *out);

#endif
