/* Fuzz target: the sync message decoder and the handshake payload. */
#include "../run_fixture.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

static struct wire_msg m;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_doc d;
	uint8_t node[32], net[32];
	char why[256];
	if (wire_decode(data, size, &d, &m, why, sizeof(why)) == 0)
		mp_doc_close(&d);
	wire_hs_payload_decode(data, size, node, net);
	return 0;
}

size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static const char *scopes[] = { "bk/bt", "" };
	/* static: the seeds stay reachable for the whole run */
	static uint8_t *seeds[10];
	static size_t lens[10];
	static const uint8_t tkeys[2][TRUST_KEY_LEN] = { { 1, 5 }, { 2, 6 } };
	static const uint8_t *tdata[2] = { (const uint8_t *)"\x92\xc4\x00",
					    (const uint8_t *)"\x95\x01" };
	static const size_t tlens[2] = { 3, 2 };
	static const int tkinds[2] = { TRUST_CERT, TRUST_FORK };
	uint8_t key[32] = { 1 }, env[60] = { 2 }, sig[64] = { 3 };
	struct wire_feed f = { { 4 }, 9 };
	struct run_entry e = {
		.env = env, .env_len = sizeof(env), .sig = sig, .body = env,
		.body_len = 20
	};
	struct mp_writer w;

	mp_writer_init(&w);
	wire_put_hello(&w, scopes, 2, 1024, sig, env, sizeof(env));
	seeds[0] = mp_writer_take(&w, &lens[0]);
	wire_put_feeds(&w, &f, 1, (const uint8_t(*)[32])key, 1);
	seeds[1] = mp_writer_take(&w, &lens[1]);
	{
		/* a run of one entry, whole (the envelope is no envelope) */
		struct run_head h = { .first_seq = 1 };
		strcpy(h.scope, "bk");
		wire_put_entries(&w, key, &h, &e, 1, 1, NULL);
	}
	seeds[2] = mp_writer_take(&w, &lens[2]);
	wire_put_ack(&w, 3, 7, 1);
	seeds[3] = mp_writer_take(&w, &lens[3]);
	wire_put_neg(&w, (const uint8_t *)"\x61\x00\x00", 3);
	seeds[4] = mp_writer_take(&w, &lens[4]);
	mp_writer_destroy(&w);
	seeds[5] = malloc(128);
	wire_hs_payload(key, key, seeds[5], 128, &lens[5]);
	mp_writer_init(&w);
	wire_put_trust_have(&w, key, 12);
	seeds[6] = mp_writer_take(&w, &lens[6]);
	wire_put_trust_ids(&w, tkeys[0], NULL, tkeys, 2);
	seeds[7] = mp_writer_take(&w, &lens[7]);
	wire_put_trust_items(&w, tkinds, tdata, tlens, 2);
	seeds[8] = mp_writer_take(&w, &lens[8]);
	{
		/* a compressed run of real entries, one body withheld */
		struct rf_feed rf;
		(void)testlib_failures;
		(void)testlib_case;
		rf_init(&rf);
		rf.v[1].body = NULL;
		rf.v[1].body_len = 0;
		wire_put_entries(&w, key, NULL, rf.v, rf.n, 0, NULL);
		seeds[9] = mp_writer_take(&w, &lens[9]);
		rf_free(&rf);
	}
	mp_writer_destroy(&w);
	*ret_seeds = seeds;
	*ret_lens = lens;
	return 10;
}
