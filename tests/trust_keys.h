/*
 * What the trust set's own tests share: their network id, and keys made
 * from a number (and a tag byte, so that each test has keys of its own).
 */
#ifndef HAMLET_TEST_TRUST_KEYS_H
#define HAMLET_TEST_TRUST_KEYS_H

#include "cert.h"
#include "sig.h"
#include "testlib.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const uint8_t net_id[32] = { 0x4e, 0x45, 0x54 };

struct key {
	uint8_t pk[32], sk[64];
};

static void key_tagged(uint32_t n, uint8_t tag, struct key *k)
{
	uint8_t seed[32] = { 0 };
	memcpy(seed, &n, sizeof(n));
	seed[31] = tag;
	ASSERT_OK(sig_keypair_from_seed(seed, k->pk, k->sk));
}

/* A certificate by issuer for subj, reading and writing scope, valid
 * from not_before (ms) on, for ever; its bytes (malloc'd), *ret_len. */
static uint8_t *cert_signed(const struct key *issuer, const struct key *subj,
			    const char *scope, int delegate, uint32_t serial,
			    uint64_t not_before, size_t *ret_len)
{
	struct cert c;
	uint8_t *p;
	memset(&c, 0, sizeof(c));
	memcpy(c.network_id, net_id, 32);
	memcpy(c.issuer, issuer->pk, 32);
	memcpy(c.subject, subj->pk, 32);
	snprintf(c.name, sizeof(c.name), "n");
	c.role = delegate ? CERT_COMMUNE : CERT_VILLAGE;
	snprintf(c.read[0], sizeof(c.read[0]), "%s", scope);
	snprintf(c.write[0], sizeof(c.write[0]), "%s", scope);
	c.nread = c.nwrite = 1;
	c.delegate = delegate;
	memcpy(c.serial, &serial, sizeof(serial));
	c.not_before_ms = not_before;
	ASSERT_OK(cert_sign(&c, issuer->sk, &p, ret_len));
	return p;
}

#endif
