/*
 * sig: the one place hamlet signs and verifies (Ed25519, libsodium). Every
 * signed format (entries, bundles) goes through here with its own
 * domain-separation prefix, so the primitive is tested once, against the
 * published vectors.
 */
#ifndef HAMLET_SIG_H
#define HAMLET_SIG_H

#include <stddef.h>
#include <stdint.h>

#define SIG_LEN 64
#define SIG_PK_LEN 32
#define SIG_SK_LEN 64

/* Key pair from a 32-byte seed (RFC 8032 secret key). */
int sig_keypair_from_seed(const uint8_t seed[32], uint8_t ret_pk[32],
			  uint8_t ret_sk[64]);
/* Sign prefix || msg (prefix may be NULL). */
int sig_sign(const void *prefix, size_t plen, const uint8_t *msg, size_t len,
	     const uint8_t sk[64], uint8_t ret_sig[64]);
/* 0 when sig is pk's signature over prefix || msg, else HAMLET_ESIG. */
int sig_verify(const void *prefix, size_t plen, const uint8_t *msg,
	       size_t len, const uint8_t sig[64], const uint8_t pk[32]);

#endif
