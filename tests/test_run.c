/* run and zst: the compact form of a feed's entries and its zstd
 * wrapping. Golden bytes, round trips to the very envelopes signed, the
 * fallback to whole envelopes, malformed runs and compression bombs. */
#include "error.h"
#include "run.h"
#include "run_fixture.h"
#include "testlib.h"
#include "zst.h"

#include <errno.h>
#include <zstd.h>

static char why[256];

static void *heap_alloc(void *ctx, size_t n)
{
	void **slot = ctx;
	free(*slot);
	*slot = malloc(n);
	return *slot;
}

/* a and b hold the same fields, to the last byte of each (a string's
 * bytes past its end too, as a reader may copy the array whole) */
static void same_entry(const struct entry *a, const struct entry *b)
{
	ASSERT_MEMEQ(a->network_id, b->network_id, sizeof(a->network_id));
	ASSERT_MEMEQ(a->author, b->author, sizeof(a->author));
	ASSERT_MEMEQ(a->scope, b->scope, sizeof(a->scope));
	ASSERT_EQ(a->seq, b->seq);
	ASSERT_EQ(a->has_prev, b->has_prev);
	ASSERT_MEMEQ(a->prev, b->prev, sizeof(a->prev));
	ASSERT_EQ(a->hlc, b->hlc);
	ASSERT_EQ(a->kind, b->kind);
	ASSERT_MEMEQ(a->collection, b->collection, sizeof(a->collection));
	ASSERT_MEMEQ(a->record_id, b->record_id, sizeof(a->record_id));
	ASSERT_EQ(a->ndeps, b->ndeps);
	ASSERT_MEMEQ(a->deps, b->deps, sizeof(a->deps));
	ASSERT_EQ(a->has_body, b->has_body);
	ASSERT_MEMEQ(a->body_hash, b->body_hash, sizeof(a->body_hash));
	ASSERT_EQ(a->body_len, b->body_len);
}

/* Decode buf and check it gives back v[0..n) exactly. */
static void roundtrip(const uint8_t *buf, size_t len,
		      const struct run_entry *v, size_t n)
{
	struct run_entry out[RF_MAX];
	struct run_head h;
	void *mem = NULL;
	size_t got;
	ASSERT_OK(run_decode(buf, len, RF_MAX, heap_alloc, &mem, &h, out, &got,
			     why, sizeof(why)));
	ASSERT_EQ(got, n);
	for (size_t i = 0; i < n; i++) {
		ASSERT_EQ(out[i].env_len, v[i].env_len);
		ASSERT_MEMEQ(out[i].env, v[i].env, v[i].env_len);
		ASSERT_MEMEQ(out[i].sig, v[i].sig, 64);
		ASSERT_EQ(out[i].body_len, v[i].body_len);
		ASSERT_TRUE((out[i].body == NULL) == (v[i].body == NULL));
		if (v[i].body)
			ASSERT_MEMEQ(out[i].body, v[i].body, v[i].body_len);
		/* the id the decoder gives is the envelope's */
		uint8_t id[ENTRY_ID_LEN];
		entry_id(v[i].env, v[i].env_len, id);
		ASSERT_MEMEQ(out[i].id, id, ENTRY_ID_LEN);
		/* an envelope that travelled whole lies in buf; one rebuilt
		 * around its body had its body hash made from that body */
		int whole = out[i].env >= buf && out[i].env < buf + len;
		ASSERT_EQ(out[i].body_hashed, out[i].body != NULL && !whole);
		/* a rebuilt one comes with the fields it was rebuilt from,
		 * byte for byte what decoding its envelope gives (a reader
		 * takes them instead); a whole one without */
		ASSERT_EQ(out[i].dec == NULL, whole);
		if (out[i].dec) {
			struct entry e;
			ASSERT_OK(entry_decode(out[i].env, out[i].env_len, &e,
					       NULL));
			same_entry(out[i].dec, &e);
		}
	}
	free(mem);
}

static int decode_only(const uint8_t *buf, size_t len, size_t max)
{
	struct run_entry out[RF_MAX];
	struct run_head h;
	void *mem = NULL;
	size_t got;
	int r = run_decode(buf, len, max, heap_alloc, &mem, &h, out, &got, why,
			   sizeof(why));
	free(mem);
	return r;
}

static uint8_t *encode(const struct rf_feed *f, const struct run_entry *v,
		       size_t n, size_t *len, struct run_stats *st)
{
	struct run_head h;
	uint8_t *p;
	ASSERT_OK(run_head_of(&f->v[0], &h));
	ASSERT_OK(run_encode(&h, v, n, &p, len, st));
	return p;
}

/* A run head of f's feed from seq 1, with prev (NULL: nil), then the
 * header of an array of n entries. */
static void pack_head(msgpack_packer *pk, const struct rf_feed *f,
		      const uint8_t *prev, size_t n)
{
	msgpack_pack_array(pk, RUN_FIELDS);
	mp_pack_bin(pk, f->net, 32);
	mp_pack_bin(pk, f->pk, 32);
	mp_pack_str(pk, "bk/bt");
	msgpack_pack_uint8(pk, 1);
	if (prev)
		mp_pack_bin(pk, prev, 32);
	else
		msgpack_pack_nil(pk);
	msgpack_pack_array(pk, n);
}

/* f's entries with entry i's body replaced: encoded, round-tripped. */
static struct run_stats body_variant(const struct rf_feed *f, size_t i,
				     const uint8_t *body, size_t len)
{
	struct run_entry v[RF_MAX];
	struct run_stats st = { 0 };
	uint8_t *p;
	size_t n;
	memcpy(v, f->v, sizeof(v));
	v[i].body = body;
	v[i].body_len = len;
	p = encode(f, v, f->n, &n, &st);
	roundtrip(p, n, v, f->n);
	free(p);
	return st;
}

int main(void)
{
	struct rf_feed f;
	struct run_stats st;
	uint8_t *p;
	size_t n;

	if (sodium_init() < 0)
		return 1;
	(void)testlib_failures;
	rf_init(&f);

	TEST_START("a run of two entries encodes to the pinned bytes");
	{
		char hx[2048];
		memset(&st, 0, sizeof(st));
		p = encode(&f, f.v, 2, &n, &st);
		ASSERT_EQ(st.compact, 2);
		ASSERT_EQ(st.full, 0);
		sodium_bin2hex(hx, sizeof(hx), p, n);
		ASSERT_STREQ(hx,
			/* [network, author, "bk/bt", first seq 1, prev nil, */
			"96" "c420" "2222222222222222222222222222222222222222222222222222222222222222"
			"c420" "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
			"a5626b2f6274" "01" "c0" "92"
			/* [1, hlc delta, put, collection, "HP-1", deps [], sig, body] */
			"98" "01" "cf018bcfe568000000" "01"
			"ae6865616c74685f70726f66696c65" "a448502d31" "90"
			"c440" "3ba51ba81087b3bde9dd80da889bb951fd78e197a8963c8e0f2bb530cce7d7b2"
			"467609c13e3b0e908db7b47cd6b8ec3f946429ecd7d61983b413fa20e256ba09"
			"c40f" "81a966756c6c5f6e616d65a3486f61"
			/* [1, +1000 ms << 16, put, ..., deps [entry 0], sig, body] */
			"98" "01" "ce03e80000" "01"
			"ae6865616c74685f70726f66696c65" "a448502d31" "9100"
			"c440" "cc0f4dbdca1ceee3cd66b36f969663b39e31d949a3bae75cb5b83c00f36a0d24"
			"ebbfc0914933887f9fd56ebe449bcef2c26b654dbe7afc73ab5f9da2a2a38e07"
			"c418" "81a966756c6c5f6e616d65ac4e6f6e672054686920486f61");
		free(p);
	}

	TEST_START("compact entries rebuild the very envelopes that were signed");
	memset(&st, 0, sizeof(st));
	p = encode(&f, f.v, f.n, &n, &st);
	ASSERT_EQ(st.compact, 3);
	ASSERT_EQ(st.full, 0);
	roundtrip(p, n, f.v, f.n);
	{
		size_t whole = 0;
		for (size_t i = 0; i < f.n; i++)
			whole += f.v[i].env_len + 64 + f.v[i].body_len;
		ASSERT_TRUE(n < whole);
	}
	free(p);

	TEST_START("an envelope that does not re-encode to its bytes travels whole");
	{
		/* the version as a uint8 (cc 01) instead of a fixint: valid,
		 * signed, but not what entry_encode() writes */
		struct run_entry v[RF_MAX];
		uint8_t odd[ENTRY_MAX_ENVELOPE], sig[64];
		size_t ol = f.v[1].env_len + 1;
		memcpy(v, f.v, sizeof(v));
		odd[0] = f.v[1].env[0];
		odd[1] = 0xcc;
		memcpy(odd + 2, f.v[1].env + 1, f.v[1].env_len - 1);
		ASSERT_OK(entry_sign(odd, ol, f.sk, sig));
		v[1] = (struct run_entry){ .env = odd,
					   .env_len = ol,
					   .sig = sig,
					   .body = f.v[1].body,
					   .body_len = f.v[1].body_len };
		memset(&st, 0, sizeof(st));
		p = encode(&f, v, 3, &n, &st);
		/* and so does entry 2: its prev is not the odd one's id */
		ASSERT_EQ(st.full, 2);
		ASSERT_EQ(st.compact, 1);
		roundtrip(p, n, v, 3);
		free(p);
	}

	TEST_START("an entry whose body is withheld keeps its body hash and length");
	st = body_variant(&f, 0, NULL, 0);
	ASSERT_EQ(st.compact, 3);

	TEST_START("a body that is not the one the envelope names travels whole");
	st = body_variant(&f, 1, f.v[0].body, f.v[0].body_len);
	ASSERT_EQ(st.full, 1);

	TEST_START("a run starting mid-feed names its first seq and prev");
	memset(&st, 0, sizeof(st));
	{
		struct run_head h;
		ASSERT_OK(run_head_of(&f.v[1], &h));
		ASSERT_EQ(h.first_seq, 2);
		ASSERT_TRUE(h.has_prev);
		ASSERT_OK(run_encode(&h, f.v + 1, 2, &p, &n, &st));
		ASSERT_EQ(st.compact, 2);
		roundtrip(p, n, f.v + 1, 2);
		free(p);
	}

	TEST_START("every truncation of a run is an error, never a crash");
	p = encode(&f, f.v, f.n, &n, NULL);
	for (size_t k = 0; k < n; k++)
		ASSERT_TRUE(decode_only(p, k, RF_MAX) < 0);

	TEST_START("a run of more entries than allowed is EFORMAT (SPEC 1.7), naming the limit");
	ASSERT_EQ(decode_only(p, n, 2), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "run.entries is not an array of at most 2") != NULL);

	TEST_START("a flipped byte is refused or rebuilds other bytes, never a crash");
	for (size_t k = 0; k < n; k++) {
		p[k] ^= 0x41;
		(void)decode_only(p, n, RF_MAX);
		p[k] ^= 0x41;
	}
	free(p);

	TEST_START("a dep index that names no earlier entry is EFORMAT naming it");
	{
		struct mp_writer w;
		uint8_t sig[64] = { 0 };
		mp_writer_init(&w);
		pack_head(&w.pk, &f, NULL, 1);
		msgpack_pack_array(&w.pk, 8);
		msgpack_pack_uint8(&w.pk, RUN_COMPACT);
		msgpack_pack_uint8(&w.pk, 5);
		msgpack_pack_uint8(&w.pk, ENTRY_PUT);
		mp_pack_str(&w.pk, "health_profile");
		mp_pack_str(&w.pk, "HP-1");
		msgpack_pack_array(&w.pk, 1);
		msgpack_pack_uint8(&w.pk, 0); /* itself */
		mp_pack_bin(&w.pk, sig, 64);
		msgpack_pack_nil(&w.pk);
		p = mp_writer_take(&w, &n);
		mp_writer_destroy(&w);
		ASSERT_EQ(decode_only(p, n, RF_MAX), HAMLET_EFORMAT);
		ASSERT_TRUE(strstr(why, "run entry 0: deps[0] names no earlier") !=
			    NULL);
		free(p);
	}

	TEST_START("a run whose prev contradicts its first seq is ECHAIN");
	{
		struct mp_writer w;
		mp_writer_init(&w);
		pack_head(&w.pk, &f, f.id[0], 0);
		p = mp_writer_take(&w, &n);
		mp_writer_destroy(&w);
		ASSERT_EQ(decode_only(p, n, RF_MAX), HAMLET_ECHAIN);
		ASSERT_TRUE(strstr(why, "run.prev") != NULL);
		free(p);
	}

	TEST_START("a tag of 3 or a collection outside its alphabet is EFORMAT naming the entry and the field");
	{
		static const struct {
			int tag;
			const char *collection, *why;
		} bad[] = {
			{ 3, "health_profile", "run entry 0: the tag is not 0, 1 or 2" },
			{ RUN_COMPACT, "Health",
			  "run entry 0: collection \"Health\" is not 1 to 32 bytes" },
		};
		for (size_t k = 0; k < sizeof(bad) / sizeof(*bad); k++) {
			struct mp_writer w;
			uint8_t sig[64] = { 0 };
			mp_writer_init(&w);
			pack_head(&w.pk, &f, NULL, 1);
			msgpack_pack_array(&w.pk, 8);
			msgpack_pack_uint8(&w.pk, (uint8_t)bad[k].tag);
			msgpack_pack_uint8(&w.pk, 5);
			msgpack_pack_uint8(&w.pk, ENTRY_PUT);
			mp_pack_str(&w.pk, bad[k].collection);
			mp_pack_str(&w.pk, "HP-1");
			msgpack_pack_array(&w.pk, 0);
			mp_pack_bin(&w.pk, sig, 64);
			msgpack_pack_nil(&w.pk);
			p = mp_writer_take(&w, &n);
			mp_writer_destroy(&w);
			ASSERT_EQ(decode_only(p, n, RF_MAX), HAMLET_EFORMAT);
			ASSERT_TRUE(strstr(why, bad[k].why) != NULL);
			free(p);
		}
	}

	TEST_START("a whole entry of another feed or at another seq than the run says makes the run EFORMAT, naming it (SPEC 1.7)");
	{
		/* entry 1 of the feed, its scope or seq changed: the envelope
		 * still decodes (its signature is not checked here) */
		static const char *const want[] = {
			"run entry 1 (whole) is of another feed (scope bk/bt/x)",
			"run entry 1 (whole) has seq 3, not first_seq + 1 = 2",
		};
		for (size_t k = 0; k < 2; k++) {
			struct mp_writer w;
			struct entry e;
			uint8_t *env;
			size_t el;
			ASSERT_OK(entry_decode(f.v[1].env, f.v[1].env_len, &e, NULL));
			if (k == 0)
				strcpy(e.scope, "bk/bt/x");
			else
				e.seq = 3;
			ASSERT_OK(entry_encode(&e, &env, &el));
			mp_writer_init(&w);
			pack_head(&w.pk, &f, NULL, 2);
			msgpack_pack_array(&w.pk, 4);
			msgpack_pack_uint8(&w.pk, RUN_FULL);
			mp_pack_bin(&w.pk, f.v[0].env, f.v[0].env_len);
			mp_pack_bin(&w.pk, f.v[0].sig, 64);
			msgpack_pack_nil(&w.pk);
			msgpack_pack_array(&w.pk, 4);
			msgpack_pack_uint8(&w.pk, RUN_FULL);
			mp_pack_bin(&w.pk, env, el);
			mp_pack_bin(&w.pk, f.v[1].sig, 64);
			msgpack_pack_nil(&w.pk);
			p = mp_writer_take(&w, &n);
			mp_writer_destroy(&w);
			ASSERT_EQ(decode_only(p, n, RF_MAX), HAMLET_EFORMAT);
			ASSERT_TRUE(strstr(why, want[k]) != NULL);
			free(p);
			free(env);
		}
		/* the same entries whole and in place decode */
		{
			struct mp_writer w;
			mp_writer_init(&w);
			pack_head(&w.pk, &f, NULL, 2);
			for (size_t i = 0; i < 2; i++) {
				msgpack_pack_array(&w.pk, 4);
				msgpack_pack_uint8(&w.pk, RUN_FULL);
				mp_pack_bin(&w.pk, f.v[i].env, f.v[i].env_len);
				mp_pack_bin(&w.pk, f.v[i].sig, 64);
				msgpack_pack_nil(&w.pk);
			}
			p = mp_writer_take(&w, &n);
			mp_writer_destroy(&w);
			ASSERT_OK(decode_only(p, n, RF_MAX));
			free(p);
		}
	}

	TEST_START("zstd round-trips and declares its size");
	{
		uint8_t *z, out[4096];
		size_t zl, sz;
		p = encode(&f, f.v, f.n, &n, NULL);
		ASSERT_OK(zst_compress(p, n, &z, &zl));
		ASSERT_OK(zst_size(z, zl, 1 << 20, &sz));
		ASSERT_EQ(sz, n);
		ASSERT_OK(zst_decompress(z, zl, out, sz));
		ASSERT_MEMEQ(out, p, n);
		TEST_START("a size over the bound is ETOOBIG before anything is allocated");
		ASSERT_EQ(zst_size(z, zl, n - 1, &sz), HAMLET_ETOOBIG);
		TEST_START("a cut frame, a trailing byte, a damaged frame are EFORMAT");
		ASSERT_EQ(zst_size(z, zl - 1, 1 << 20, &sz), HAMLET_EFORMAT);
		ASSERT_EQ(zst_size(z, 0, 1 << 20, &sz), HAMLET_EFORMAT);
		z = realloc(z, zl + 1);
		z[zl] = 0;
		ASSERT_EQ(zst_size(z, zl + 1, 1 << 20, &sz), HAMLET_EFORMAT);
		z[zl - 2] ^= 1; /* in the checksum */
		ASSERT_OK(zst_size(z, zl, 1 << 20, &sz));
		ASSERT_EQ(zst_decompress(z, zl, out, sz), HAMLET_EFORMAT);
		z[zl - 2] ^= 1;
		TEST_START("a frame whose content is not the size asked for is EFORMAT");
		ASSERT_EQ(zst_decompress(z, zl, out, sz - 1), HAMLET_EFORMAT);
		free(z);
		free(p);
	}

	TEST_START("a bomb (64 MiB of zeros in a few KiB) is ETOOBIG, unallocated");
	{
		size_t big = (size_t)64 << 20, zl, sz;
		uint8_t *zeros = calloc(1, big), *z;
		ASSERT_TRUE(zeros != NULL);
		ASSERT_OK(zst_compress(zeros, big, &z, &zl));
		free(zeros);
		ASSERT_TRUE(zl < 65536);
		ASSERT_EQ(zst_size(z, zl, (size_t)1 << 20, &sz), HAMLET_ETOOBIG);
		free(z);
	}

	TEST_START("a frame that declares no size is EFORMAT");
	{
		ZSTD_CCtx *cc = ZSTD_createCCtx();
		uint8_t in[100] = { 1 }, z[256];
		size_t zl, sz;
		ZSTD_inBuffer ib = { in, sizeof(in), 0 };
		ZSTD_outBuffer ob = { z, sizeof(z), 0 };
		/* streaming without a pledged size writes none */
		ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
		ASSERT_EQ(ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end), 0);
		zl = ob.pos;
		ZSTD_freeCCtx(cc);
		ASSERT_EQ(zst_size(z, zl, 1 << 20, &sz), HAMLET_EFORMAT);
	}

	rf_free(&f);
	TEST_DONE();
}
