/* Entry format: golden bytes, strict decoding, signatures (RFC 8032). */
#include "alloc_count.h"
#include "entry.h"
#include "error.h"
#include "mp.h"
#include "sig.h"
#include "testlib.h"

#include <jansson.h>
#include <sodium.h>

/* The golden entry: fixed seed, fixed fields. Its bytes and id are pinned
 * below; if either changes, the format changed and SPEC.md must say so. */
static void golden(struct entry *e, uint8_t pk[32], uint8_t sk[64])
{
	uint8_t seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	ASSERT_OK(sig_keypair_from_seed(seed, pk, sk));
	memset(e, 0, sizeof(*e));
	for (int i = 0; i < 32; i++)
		e->network_id[i] = (uint8_t)(0xa0 + i);
	memcpy(e->author, pk, 32);
	strcpy(e->scope, "bk/bach-thong/quang-thuan/na-pai");
	e->seq = 2;
	e->has_prev = 1;
	memset(e->prev, 0x11, 32);
	e->hlc = ((uint64_t)1763884800000 << 16) | 3;
	e->kind = ENTRY_PUT;
	strcpy(e->collection, "health_profile");
	strcpy(e->record_id, "HP-17");
	e->ndeps = 1;
	memset(e->deps[0], 0x22, 32);
	e->has_body = 1;
	memset(e->body_hash, 0x33, 32);
	e->body_len = 300;
}

static const char *GOLDEN_ENV =
	"9d01c420a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbd"
	"bebfc42003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531"
	"b8d920626b2f626163682d74686f6e672f7175616e672d746875616e2f6e612d706169"
	"02c4201111111111111111111111111111111111111111111111111111111111111111"
	"cf019aafba1800000301ae6865616c74685f70726f66696c65a548502d313791c420"
	"2222222222222222222222222222222222222222222222222222222222222222c420"
	"3333333333333333333333333333333333333333333333333333333333333333cd012c";

static void hex(const uint8_t *p, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, p, n);
}

static int flip_rejected(const uint8_t *env, size_t len)
{
	struct entry e;
	return entry_decode(env, len, &e, NULL) < 0;
}

int main(void)
{
	struct entry e, d;
	uint8_t pk[32], sk[64], *env, sig[64], id[32];
	size_t len;
	char h[4096];
	int field;

	if (sodium_init() < 0)
		return 1;

	TEST_START("the golden entry encodes to the pinned bytes");
	golden(&e, pk, sk);
	ASSERT_OK(entry_encode(&e, &env, &len));
	hex(env, len, h);
	if (getenv("HAMLET_PRINT_GOLDEN"))
		printf("%s\n", h);
	ASSERT_STREQ(h, GOLDEN_ENV);

	TEST_START("its id is BLAKE2b-256 of those bytes and its signature verifies");
	entry_id(env, len, id);
	uint8_t want[32];
	crypto_generichash_blake2b(want, 32, env, len, NULL, 0);
	ASSERT_MEMEQ(id, want, 32);
	hex(id, 32, h);
	if (getenv("HAMLET_PRINT_GOLDEN"))
		printf("%s\n", h);
	ASSERT_STREQ(h, "acaac7d32cc1bcc673bca85fad6fbe24d542b4a989db7b6b049772238afdf76d");
	ASSERT_OK(entry_sign(env, len, sk, sig));
	ASSERT_OK(entry_verify(env, len, sig, pk));
	hex(sig, 64, h);
	if (getenv("HAMLET_PRINT_GOLDEN"))
		printf("%s\n", h);
	ASSERT_STREQ(h, "bb43cc6d55ce3fa51c4ae8adf89332a858b4bcc0a00acb0ca73871c6ca008f41e4e2151353d33314c69c6ac25838c278a4712d0274f812e9e6f5eafc9a5f3405");

	TEST_START("decoding gives back every field");
	ASSERT_OK(entry_decode(env, len, &d, NULL));
	ASSERT_MEMEQ(&d, &e, sizeof(e));

	TEST_START("the head a feed's envelopes share is the first bytes the encoder writes, for short and long scopes");
	{
		struct entry x = e;
		uint8_t head[ENTRY_MAX_HEAD], *p;
		size_t hl, pl;
		hl = entry_head_encode(e.network_id, e.author, e.scope,
				       strlen(e.scope), head);
		ASSERT_EQ(hl, 1 + 1 + 34 + 34 + (strlen(e.scope) < 32 ? 1 : 2) +
				      strlen(e.scope));
		ASSERT_MEMEQ(head, env, hl);
		/* 32 bytes and more: a str8 header; 128, the longest */
		for (size_t n = 31; n <= ENTRY_MAX_SCOPE; n++) {
			memset(x.scope, 'a', n);
			x.scope[n] = 0;
			for (size_t i = 31; i + 1 < n; i += 32)
				x.scope[i] = '/';
			ASSERT_OK(entry_encode(&x, &p, &pl));
			hl = entry_head_encode(x.network_id, x.author, x.scope,
					       n, head);
			ASSERT_EQ(hl, 1 + 1 + 34 + 34 + (n < 32 ? 1 : 2) + n);
			ASSERT_MEMEQ(head, p, hl);
			free(p);
		}
		ASSERT_EQ(entry_head_encode(e.network_id, e.author, x.scope,
					    ENTRY_MAX_SCOPE + 1, head),
			  0);
	}

	TEST_START("a signature without the domain prefix does not verify");
	uint8_t raw[64];
	ASSERT_OK(sig_sign(NULL, 0, env, len, sk, raw));
	ASSERT_EQ(entry_verify(env, len, raw, pk), HAMLET_ESIG);

	TEST_START("every single flipped byte breaks the signature or the decoding");
	for (size_t i = 0; i < len; i++) {
		uint8_t copy[ENTRY_MAX_ENVELOPE];
		memcpy(copy, env, len);
		copy[i] ^= 0x01;
		ASSERT_TRUE(flip_rejected(copy, len) ||
			    entry_verify(copy, len, sig, pk) == HAMLET_ESIG);
	}

	TEST_START("trailing bytes, truncation, extra fields and wrong types are named errors");
	{
		uint8_t copy[ENTRY_MAX_ENVELOPE + 8];
		memcpy(copy, env, len);
		copy[len] = 0xc0;
		ASSERT_EQ(entry_decode(copy, len + 1, &d, NULL), HAMLET_ETRAILING);
		ASSERT_EQ(entry_decode(env, len - 1, &d, NULL), HAMLET_EFORMAT);
		/* 14 fields instead of 13 */
		memcpy(copy, env, len);
		copy[0] = 0x9e;
		copy[len] = 0xc0;
		ASSERT_EQ(entry_decode(copy, len + 1, &d, NULL), HAMLET_EFORMAT);
		/* seq (a positive fixint 0x02) replaced by a string "2" */
		struct mp_writer w;
		uint8_t *bad;
		size_t bl;
		struct entry x = e;
		(void)x;
		mp_writer_init(&w);
		msgpack_pack_array(&w.pk, 13);
		msgpack_pack_uint64(&w.pk, 1);
		mp_pack_bin(&w.pk, e.network_id, 32);
		mp_pack_bin(&w.pk, e.author, 32);
		mp_pack_str(&w.pk, e.scope);
		mp_pack_str(&w.pk, "2");
		mp_pack_bin(&w.pk, e.prev, 32);
		msgpack_pack_uint64(&w.pk, e.hlc);
		msgpack_pack_uint64(&w.pk, 1);
		mp_pack_str(&w.pk, e.collection);
		mp_pack_str(&w.pk, e.record_id);
		msgpack_pack_array(&w.pk, 0);
		mp_pack_bin(&w.pk, e.body_hash, 32);
		msgpack_pack_uint64(&w.pk, 300);
		bad = mp_writer_take(&w, &bl);
		mp_writer_destroy(&w);
		ASSERT_EQ(entry_decode(bad, bl, &d, &field), HAMLET_ETYPE);
		ASSERT_STREQ(entry_field_name(field), "seq");
		free(bad);
	}

	TEST_START("an envelope of 14 elements is EFORMAT and names the array, not a field (SPEC 1.3)");
	{
		uint8_t *env14, *bad;
		size_t el;
		ASSERT_OK(entry_encode(&e, &env14, &el));
		bad = malloc(el + 1);
		memcpy(bad, env14, el);
		ASSERT_EQ(bad[0], 0x9d); /* fixarray of 13 */
		bad[0] = 0x9e;
		bad[el] = 0xc0; /* a 14th element, nil */
		ASSERT_EQ(entry_decode(bad, el + 1, &d, &field), HAMLET_EFORMAT);
		ASSERT_EQ(field, ENTRY_FIELDS);
		free(bad);
		free(env14);
	}

	TEST_START("oversize fields are refused when encoding and decoding");
	{
		struct entry x = e;
		uint8_t *p;
		size_t pl;
		x.ndeps = ENTRY_MAX_DEPS + 1;
		ASSERT_EQ(entry_encode(&x, &p, &pl), HAMLET_ETOOBIG);
		x = e;
		x.body_len = ENTRY_MAX_BODY + 1;
		ASSERT_EQ(entry_encode(&x, &p, &pl), HAMLET_ETOOBIG);
		x = e;
		strcpy(x.scope, "Bad/Scope");
		ASSERT_EQ(entry_encode(&x, &p, &pl), HAMLET_ESCOPE);
		x = e;
		x.seq = 1; /* seq 1 must have no prev */
		ASSERT_EQ(entry_encode(&x, &p, &pl), HAMLET_ECHAIN);
	}

	TEST_START("a hostile container length does not allocate on its word");
	{
		/* 2^32 - 1 elements, over the cap; and a million, within
		 * it, of which the bytes hold one */
		uint8_t evil[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01 };
		uint8_t lying[] = { 0xdd, 0x00, 0x0f, 0x42, 0x40, 0x01 };
		uint8_t fine[] = { 0x92, 0x01, 0x02 };
		struct mp_doc doc, untouched;
		int r_evil, r_decode, r_lying;
		long allocs;

		memset(&doc, 0xa5, sizeof(doc));
		memcpy(&untouched, &doc, sizeof(doc));
		alloc_count_start();
		r_decode = entry_decode(evil, sizeof(evil), &d, NULL);
		r_evil = mp_doc_parse(&doc, evil, sizeof(evil), 1000000);
		r_lying = mp_doc_parse(&doc, lying, sizeof(lying), 2000000);
		allocs = alloc_count_stop();
		ASSERT_NE(r_decode, 0);
		ASSERT_EQ(r_evil, HAMLET_ETOOBIG);
		ASSERT_EQ(r_lying, HAMLET_EFORMAT);
		/* msgpack-c was never started on them: it would have set up
		 * doc's unpacker before allocating anything */
		ASSERT_MEMEQ(&doc, &untouched, sizeof(doc));
		if (allocs >= 0)
			ASSERT_EQ(allocs, 0);
		else
			fprintf(stderr, "   (allocations are not counted under a sanitizer)\n");
		/* and the count is real: parses that succeed allocate (a
		 * thread keeps a few closed documents' zones for the next
		 * ones, so many are held open at once) */
		{
			struct mp_doc many[64];
			alloc_count_start();
			for (size_t i = 0; i < 64; i++)
				ASSERT_OK(mp_doc_parse(&many[i], fine,
						       sizeof(fine), 16));
			allocs = alloc_count_stop();
			for (size_t i = 0; i < 64; i++)
				mp_doc_close(&many[i]);
		}
		if (allocs >= 0)
			ASSERT_TRUE(allocs > 0);
	}

	TEST_START("documents parsed after others closed, and open together, keep their own values");
	{
		/* a thread reuses closed documents' zones: one parsed into a
		 * reused zone, and one grown past its first chunk, read what
		 * they were given, beside the others still open */
		enum { N = 12 };
		struct mp_doc docs[N];
		uint8_t buf[N][8];
		static uint8_t big[3 + 4000 * 2];
		for (int round = 0; round < 3; round++) {
			for (int i = 0; i < N; i++) {
				buf[i][0] = 0x92; /* [i, round] */
				buf[i][1] = (uint8_t)i;
				buf[i][2] = (uint8_t)round;
				ASSERT_OK(mp_doc_parse(&docs[i], buf[i], 3, 16));
			}
			for (int i = 0; i < N; i++) {
				const msgpack_object *a;
				ASSERT_OK(mp_get_array(docs[i].root, 2, 2, &a,
						       NULL));
				ASSERT_EQ(a[0].via.u64, (uint64_t)i);
				ASSERT_EQ(a[1].via.u64, (uint64_t)round);
			}
			for (int i = 0; i < N; i += 2)
				mp_doc_close(&docs[i]);
			/* 4000 small arrays: more objects than a first chunk */
			big[0] = 0xdc;
			big[1] = 4000 >> 8;
			big[2] = 4000 & 0xff;
			for (int i = 0; i < 4000; i++) {
				big[3 + 2 * i] = 0x91;
				big[4 + 2 * i] = (uint8_t)(i & 0x7f);
			}
			struct mp_doc g;
			ASSERT_OK(mp_doc_parse(&g, big, sizeof(big), 4000));
			ASSERT_EQ(g.root->via.array.size, 4000u);
			ASSERT_EQ(g.root->via.array.ptr[3999].via.array.ptr[0]
					  .via.u64,
				  (uint64_t)(3999 & 0x7f));
			mp_doc_close(&g);
			for (int i = 1; i < N; i += 2) {
				const msgpack_object *a;
				ASSERT_OK(mp_get_array(docs[i].root, 2, 2, &a,
						       NULL));
				ASSERT_EQ(a[0].via.u64, (uint64_t)i);
				mp_doc_close(&docs[i]);
			}
		}
	}

	TEST_START("a record id is 1-64 of its alphabet, and never . or .. alone");
	ASSERT_OK(entry_record_id_check("HP-17"));
	ASSERT_OK(entry_record_id_check("a.b"));
	ASSERT_OK(entry_record_id_check("..."));
	ASSERT_OK(entry_record_id_check(".x"));
	ASSERT_EQ(entry_record_id_check("."), HAMLET_EID);
	ASSERT_EQ(entry_record_id_check(".."), HAMLET_EID);
	ASSERT_EQ(entry_record_id_check(""), HAMLET_EID);
	ASSERT_EQ(entry_record_id_check("a/b"), HAMLET_EID);
	ASSERT_EQ(entry_record_id_check("ả"), HAMLET_EID);

	TEST_START("scope prefixes match whole segments only");
	ASSERT_TRUE(entry_scope_under("bk/bach-thong/x", "bk/bach-thong"));
	ASSERT_TRUE(!entry_scope_under("bk/bach-thong-2", "bk/bach-thong"));
	ASSERT_TRUE(entry_scope_under("bk", ""));

	TEST_START("RFC 8032 section 7.1 vectors through our sign and verify");
	{
		char path[4096];
		const char *vd = getenv("HAMLET_VECTORS");
		snprintf(path, sizeof(path),
			 "%s/ed25519/rfc8032-ed25519-section7.1.json",
			 vd ? vd : "../shared/vectors");
		json_error_t jerr;
		json_t *root = json_load_file(path, 0, &jerr);
		if (!root)
			TEST_FAIL_("cannot load %s: %s (the external vectors: cmake -DHAMLET_VECTORS=DIR)",
				   path, jerr.text);
		json_t *vecs = json_object_get(root, "vectors");
		size_t i, count = 0;
		json_t *v;
		json_array_foreach(vecs, i, v)
		{
			const char *sk_hex = json_string_value(json_object_get(v, "secret_key"));
			const char *pk_hex = json_string_value(json_object_get(v, "public_key"));
			const char *msg_hex = json_string_value(json_object_get(v, "message"));
			const char *sig_hex = json_string_value(json_object_get(v, "signature"));
			uint8_t seed[32], vpk[32], vsk[64], vsig[64], mysig[64];
			size_t ml = strlen(msg_hex) / 2;
			uint8_t *msg = malloc(ml + 1);
			ASSERT_OK(test_unhex(sk_hex, seed, 32));
			ASSERT_OK(test_unhex(pk_hex, vpk, 32));
			ASSERT_OK(test_unhex(sig_hex, vsig, 64));
			ASSERT_OK(ml ? test_unhex(msg_hex, msg, ml) : 0);
			ASSERT_OK(sig_keypair_from_seed(seed, pk, vsk));
			ASSERT_MEMEQ(pk, vpk, 32);
			ASSERT_OK(sig_sign(NULL, 0, msg, ml, vsk, mysig));
			ASSERT_MEMEQ(mysig, vsig, 64);
			ASSERT_OK(sig_verify(NULL, 0, msg, ml, vsig, vpk));
			vsig[0] ^= 1;
			ASSERT_EQ(sig_verify(NULL, 0, msg, ml, vsig, vpk),
				  HAMLET_ESIG);
			free(msg);
			count++;
		}
		ASSERT_EQ(count, 5);
		json_decref(root);
	}

	free(env);
	TEST_DONE();
}
