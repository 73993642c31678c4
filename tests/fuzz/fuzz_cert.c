/* Fuzz target: certificate chain files and single certificates
 * (cert_chain_decode, cert_decode), and the chain check on what decodes. */
#include "cert.h"
#include "sig.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t net[32], root[32];
	struct cert_chain ch;
	struct cert c;
	char why[256];

	if (cert_chain_decode(data, size, &ch) == 0) {
		cert_chain_check(&ch, net, root, 1800000000000ull, why,
				 sizeof(why));
		cert_may_read(&ch.c[0], "bk/a");
		cert_may_write(&ch.c[0], "bk/a", "payment");
	}
	cert_decode(data, size, &c, NULL);
	return 0;
}

/* A chain of two, village under a delegated commune, as the CLI writes
 * it; and the village's certificate alone. */
size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static uint8_t *seeds[2];
	static size_t lens[2];
	uint8_t seed[32], rpk[32], rsk[64], cpk[32], csk[64], vpk[32], vsk[64];
	uint8_t *certs[2];
	size_t cl[2];
	struct cert c;

	memset(seed, 1, 32);
	sig_keypair_from_seed(seed, rpk, rsk);
	memset(seed, 2, 32);
	sig_keypair_from_seed(seed, cpk, csk);
	memset(seed, 3, 32);
	sig_keypair_from_seed(seed, vpk, vsk);
	for (int i = 0; i < 2; i++) {
		memset(&c, 0, sizeof(c));
		memcpy(c.issuer, i ? rpk : cpk, 32);
		memcpy(c.subject, i ? cpk : vpk, 32);
		strcpy(c.name, i ? "Quang Thuan" : "Na Pai");
		c.role = i ? CERT_COMMUNE : CERT_VILLAGE;
		strcpy(c.read[0], i ? "bk/qt" : "bk/qt/na-pai");
		strcpy(c.write[0], c.read[0]);
		c.nread = c.nwrite = 1;
		strcpy(c.collections[0], "health_profile");
		c.ncollections = (size_t)(i == 0);
		c.not_before_ms = 1700000000000ull;
		c.expires_ms = i ? 0 : 1900000000000ull;
		c.delegate = i;
		if (cert_sign(&c, i ? rsk : csk, &certs[i], &cl[i]) < 0)
			abort();
	}
	if (cert_chain_encode((const uint8_t *const *)certs, cl, 2, &seeds[0],
			      &lens[0]) < 0)
		abort();
	seeds[1] = certs[0];
	lens[1] = cl[0];
	free(certs[1]);
	*ret_seeds = seeds;
	*ret_lens = lens;
	return 2;
}
