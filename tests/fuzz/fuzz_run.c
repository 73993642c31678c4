/* Fuzz target: a bundle's run frame (decompression bounded, compact
 * entries rebuilt into envelopes), the decoder ENTRIES shares. */
#include "../run_fixture.h"
#include "bundle_format.h"
#include "zst.h"

#include <stdlib.h>
#include <string.h>

static struct bundle_run run;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	if (bundle_run_parse(data, size, &run, why, sizeof(why)) == 0)
		bundle_run_release(&run);
	return 0;
}

/* [codec, bin] around a run of rf's entries. */
static uint8_t *frame(const uint8_t *run_bytes, size_t n, int zip,
		      size_t *ret_len)
{
	struct mp_writer w;
	uint8_t *z = NULL, *p;
	size_t zl = 0;
	if (zip)
		zst_compress(run_bytes, n, &z, &zl);
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_uint8(&w.pk, zip ? 1 : 0);
	mp_pack_bin(&w.pk, zip ? z : run_bytes, zip ? zl : n);
	p = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	free(z);
	return p;
}

size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	/* static: the seeds stay reachable for the whole run */
	static uint8_t *seeds[3];
	static size_t lens[3];
	struct rf_feed f;
	struct run_head h;
	uint8_t *rb;
	size_t rl;

	(void)testlib_failures;
	(void)testlib_case;
	if (sodium_init() < 0)
		exit(1);
	rf_init(&f);
	f.v[1].body = NULL; /* one withheld body */
	f.v[1].body_len = 0;
	if (run_head_of(&f.v[0], &h) < 0 ||
	    run_encode(&h, f.v, f.n, &rb, &rl, NULL) < 0)
		exit(1);
	seeds[0] = frame(rb, rl, 0, &lens[0]);
	seeds[1] = frame(rb, rl, 1, &lens[1]);
	free(rb);
	/* a whole (tag 0) entry */
	h.first_seq = 3;
	h.has_prev = 1;
	if (run_encode(&h, f.v, 1, &rb, &rl, NULL) < 0)
		exit(1);
	seeds[2] = frame(rb, rl, 0, &lens[2]);
	free(rb);
	rf_free(&f);
	*ret_seeds = seeds;
	*ret_lens = lens;
	return 3;
}
