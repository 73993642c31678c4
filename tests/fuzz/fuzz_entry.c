/* Fuzz target: envelope decoding, body checks, and msgpack parsing. */
#include "entry.h"
#include "mp.h"
#include "schema.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct entry e;
	struct mp_doc d;
	int field;
	if (entry_decode(data, size, &e, &field) == 0) {
		uint8_t *env;
		size_t len;
		/* what decodes re-encodes within limits */
		if (entry_encode(&e, &env, &len) == 0)
			free(env);
	}
	if (mp_doc_parse(&d, data, size, 64) == 0) {
		char why[256];
		size_t n;
		const struct schema *const *all = schema_all(&n);
		for (size_t i = 0; i < n; i++)
			schema_check_body(all[i], d.root, why, sizeof(why));
		mp_doc_close(&d);
	}
	return 0;
}

size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static uint8_t *seeds[3];
	static size_t lens[3];
	struct entry e;
	memset(&e, 0, sizeof(e));
	strcpy(e.scope, "bk/bt/qt");
	e.seq = 2;
	e.has_prev = 1;
	e.hlc = 123456789;
	e.kind = ENTRY_PUT;
	strcpy(e.collection, "payment");
	strcpy(e.record_id, "PAY-1");
	e.ndeps = 2;
	e.has_body = 1;
	e.body_len = 40;
	entry_encode(&e, &seeds[0], &lens[0]);
	struct mp_writer w;
	mp_writer_init(&w);
	msgpack_pack_map(&w.pk, 3);
	mp_pack_str(&w.pk, "program");
	mp_pack_str(&w.pk, "forest_service");
	mp_pack_str(&w.pk, "amount_vnd");
	msgpack_pack_int64(&w.pk, 500000);
	mp_pack_str(&w.pk, "details");
	msgpack_pack_map(&w.pk, 1);
	mp_pack_str(&w.pk, "k");
	mp_pack_str(&w.pk, "v");
	seeds[1] = mp_writer_take(&w, &lens[1]);
	mp_writer_destroy(&w);
	seeds[2] = (uint8_t *)strdup("\x93\xc0\xc2\xa1x");
	lens[2] = 5;
	*ret_seeds = seeds;
	*ret_lens = lens;
	return 3;
}
