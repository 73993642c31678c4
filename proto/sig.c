#include "sig.h"

#include "error.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define STACK_MSG 2048

int sig_keypair_from_seed(const uint8_t seed[32], uint8_t ret_pk[32],
			  uint8_t ret_sk[64])
{
	return crypto_sign_ed25519_seed_keypair(ret_pk, ret_sk, seed) == 0
		       ? 0
		       : -EINVAL;
}

/* libsodium signs one contiguous message: join prefix and message, on the
 * stack when small (every entry is), else on the heap. */
static uint8_t *join(const void *prefix, size_t plen, const uint8_t *msg,
		     size_t len, uint8_t *stack)
{
	uint8_t *p = plen + len <= STACK_MSG ? stack : malloc(plen + len);
	if (!p)
		return NULL;
	if (plen)
		memcpy(p, prefix, plen);
	if (len)
		memcpy(p + plen, msg, len);
	return p;
}

int sig_sign(const void *prefix, size_t plen, const uint8_t *msg, size_t len,
	     const uint8_t sk[64], uint8_t ret_sig[64])
{
	uint8_t stack[STACK_MSG], *p = join(prefix, plen, msg, len, stack);
	int r;
	if (!p)
		return -ENOMEM;
	r = crypto_sign_ed25519_detached(ret_sig, NULL, p, plen + len, sk) == 0
		    ? 0
		    : HAMLET_ESIG;
	if (p != stack)
		free(p);
	return r;
}

int sig_verify(const void *prefix, size_t plen, const uint8_t *msg,
	       size_t len, const uint8_t sig[64], const uint8_t pk[32])
{
	uint8_t stack[STACK_MSG], *p = join(prefix, plen, msg, len, stack);
	int r;
	if (!p)
		return -ENOMEM;
	r = crypto_sign_ed25519_verify_detached(sig, p, plen + len, pk) == 0
		    ? 0
		    : HAMLET_ESIG;
	if (p != stack)
		free(p);
	return r;
}
