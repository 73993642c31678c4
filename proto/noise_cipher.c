/*
 * The Noise CipherState (section 5.1 of the Noise Protocol Framework,
 * revision 34): ChaChaPoly with a 64-bit counter nonce. The handshake
 * (noise.c) encrypts its payloads with it, and the pair noise_hs_split()
 * returns carries the session's frames.
 */
#include "noise_internal.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "error.h"

/* ------------------------------------------------------------------------
 * CipherState (section 5.1)
 */

void noise__cipher_init_key(struct noise_cipher *c, const uint8_t *k)
{
	memcpy(c->k, k, NOISE_KEY_LEN);
	c->n = 0;
	c->has_key = 1;
}

/* ChaChaPoly nonce: 32 zero bits, then n as 64 bits little-endian. */
static void cipher_nonce(uint8_t nonce[12], uint64_t n)
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

/*
 * EncryptWithAd with a key. 2^64-1 is reserved (section 5.1), so a cipher
 * whose nonce reached it is spent.
 */
int noise__cipher_encrypt(struct noise_cipher *c, const uint8_t *ad,
			  size_t ad_len, const uint8_t *plain, size_t len,
			  uint8_t *out)
{
	uint8_t nonce[12];

	if (c->n == UINT64_MAX)
		return -EOVERFLOW;
	cipher_nonce(nonce, c->n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, plain, len, ad,
						  ad_len, NULL, nonce, c->k);
	c->n++;
	return 0;
}

/* DecryptWithAd with a key; len includes the tag. */
int noise__cipher_decrypt(struct noise_cipher *c, const uint8_t *ad,
			  size_t ad_len, const uint8_t *cipher, size_t len,
			  uint8_t *out)
{
	uint8_t nonce[12];

	if (c->n == UINT64_MAX)
		return -EOVERFLOW;
	cipher_nonce(nonce, c->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(
		    out, NULL, NULL, cipher, len, ad, ad_len, nonce, c->k) != 0)
		return HAMLET_EDECRYPT;
	c->n++;
	return 0;
}

int noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad,
			 size_t ad_len, const uint8_t *plain, size_t len,
			 uint8_t *out)
{
	if (!c || !c->has_key || (!ad && ad_len) || (!plain && len) || !out)
		return -EINVAL;
	if (len > NOISE_MAX_MSG - NOISE_TAG_LEN)
		return HAMLET_ETOOBIG;
	return noise__cipher_encrypt(c, ad, ad_len, plain, len, out);
}

int noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad,
			 size_t ad_len, const uint8_t *cipher, size_t len,
			 uint8_t *out)
{
	if (!c || !c->has_key || (!ad && ad_len) || !cipher ||
	    (!out && len > NOISE_TAG_LEN))
		return -EINVAL;
	if (len > NOISE_MAX_MSG)
		return HAMLET_ETOOBIG;
	if (len < NOISE_TAG_LEN)
		return HAMLET_EFORMAT;
	return noise__cipher_decrypt(c, ad, ad_len, cipher, len, out);
}

void noise_cipher_wipe(struct noise_cipher *c)
{
	if (c)
		sodium_memzero(c, sizeof(*c));
}
