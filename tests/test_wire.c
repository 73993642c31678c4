/* wire: message codec and frames. Round trips, then every way a peer can
 * get a message wrong, each with its named error. */
#include "cert.h"
#include "error.h"
#include "testlib.h"
#include "run_fixture.h"
#include "wire.h"
#include "zst.h"

#include <errno.h>
#include <sodium.h>

static struct wire_msg m;
static char why[256];

static uint8_t *take(struct mp_writer *w, size_t *n)
{
	uint8_t *p = mp_writer_take(w, n);
	mp_writer_destroy(w);
	return p;
}

/* SPEC 5.6: the digest of two shared heads, ids 01 x 32 and 02 x 32 */
#define GOLDEN_HEADS_DIGEST \
	"572f9c9f7f29be6452bc32a59160aff3a1db56879c4f3bcd6da2e1a48b6dd639"

static int decode(const uint8_t *p, size_t n)
{
	struct mp_doc d;
	int r = wire_decode(p, n, &d, &m, why, sizeof(why));
	if (r == 0)
		mp_doc_close(&d);
	return r;
}

/* Decode keeping the document open: ENTRIES' rebuilt envelopes live in
 * it. The caller mp_doc_close()s d. */
static void decode_keep(const uint8_t *p, size_t n, struct mp_doc *d)
{
	ASSERT_OK(wire_decode(p, n, d, &m, why, sizeof(why)));
}

/* Encode an arbitrary msgpack array from a writer callback. */
typedef void (*build_fn)(msgpack_packer *pk);
static int decode_built(build_fn fn)
{
	struct mp_writer w;
	size_t n;
	uint8_t *p;
	int r;
	mp_writer_init(&w);
	fn(&w.pk);
	p = take(&w, &n);
	r = decode(p, n);
	free(p);
	return r;
}

static void b_unknown(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	msgpack_pack_uint8(pk, 99);
}
static void b_want_str_key(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, WIRE_WANT);
	mp_pack_str(pk, "not a key");
	msgpack_pack_uint64(pk, 1);
}
static void b_want_extra(msgpack_packer *pk)
{
	uint8_t k[32] = { 0 };
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, WIRE_WANT);
	mp_pack_bin(pk, k, 32);
	msgpack_pack_uint64(pk, 1);
	msgpack_pack_nil(pk);
}
static void b_want_neg_seq(msgpack_packer *pk)
{
	uint8_t k[32] = { 0 };
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, WIRE_WANT);
	mp_pack_bin(pk, k, 32);
	msgpack_pack_int64(pk, -1);
}
/* ENTRIES of run bytes (codec 0 unless z). */
static void pack_entries(msgpack_packer *pk, const uint8_t *key, int codec,
			 const uint8_t *run, size_t n)
{
	msgpack_pack_array(pk, 5);
	msgpack_pack_uint8(pk, WIRE_ENTRIES);
	mp_pack_bin(pk, key, 32);
	msgpack_pack_uint8(pk, (uint8_t)codec);
	mp_pack_bin(pk, run, n);
	msgpack_pack_true(pk);
}
/* A run head of feed (0.., "bk/bt") from seq 1, then n entries. */
static void pack_run_head(msgpack_packer *pk, size_t n)
{
	uint8_t k[32] = { 0 };
	msgpack_pack_array(pk, RUN_FIELDS);
	mp_pack_bin(pk, k, 32);
	mp_pack_bin(pk, k, 32);
	mp_pack_str(pk, "bk/bt");
	msgpack_pack_uint8(pk, 1);
	msgpack_pack_nil(pk);
	msgpack_pack_array(pk, n);
}
static void b_entries_run(msgpack_packer *pk, size_t n, size_t siglen)
{
	uint8_t k[32] = { 0 }, sig[64] = { 0 };
	struct mp_writer r;
	mp_writer_init(&r);
	pack_run_head(&r.pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_array(&r.pk, 4);
		msgpack_pack_uint8(&r.pk, RUN_FULL);
		mp_pack_bin(&r.pk, "e", 1);
		mp_pack_bin(&r.pk, sig, siglen);
		msgpack_pack_nil(&r.pk);
	}
	pack_entries(pk, k, WIRE_CODEC_NONE, (const uint8_t *)r.sb.data,
		     r.sb.size);
	mp_writer_destroy(&r);
}
static void b_entries_big(msgpack_packer *pk)
{
	b_entries_run(pk, WIRE_MAX_BATCH + 1, 64);
}
static void b_entries_short_sig(msgpack_packer *pk)
{
	b_entries_run(pk, 1, 63);
}
/* a zstd frame declaring 2 MiB (of zeros) */
static void b_entries_bomb(msgpack_packer *pk)
{
	uint8_t k[32] = { 0 }, *zeros = calloc(1, 2 << 20), *z;
	size_t zl;
	ASSERT_OK(zst_compress(zeros, 2 << 20, &z, &zl));
	pack_entries(pk, k, WIRE_CODEC_ZSTD, z, zl);
	free(zeros);
	free(z);
}
/* codec 1 but the bytes are no zstd frame */
static void b_entries_not_zstd(msgpack_packer *pk)
{
	uint8_t k[32] = { 0 };
	pack_entries(pk, k, WIRE_CODEC_ZSTD, (const uint8_t *)"\x96\xc4", 2);
}
static void b_entries_codec2(msgpack_packer *pk)
{
	uint8_t k[32] = { 0 };
	pack_entries(pk, k, 2, (const uint8_t *)"\x96\xc4", 2);
}
static void b_hello_version(msgpack_packer *pk)
{
	uint8_t k[32] = { 0 };
	/* version 1's HELLO, five fields: told apart by its version */
	msgpack_pack_array(pk, 6);
	msgpack_pack_uint8(pk, WIRE_HELLO);
	msgpack_pack_uint32(pk, 1);
	mp_pack_bin(pk, k, 32);
	mp_pack_bin(pk, k, 32);
	msgpack_pack_array(pk, 0);
	msgpack_pack_uint32(pk, 10);
}
static void b_hello_bad_scope(msgpack_packer *pk)
{
	uint8_t proof[64] = { 0 };
	msgpack_pack_array(pk, 6);
	msgpack_pack_uint8(pk, WIRE_HELLO);
	msgpack_pack_uint32(pk, WIRE_VERSION);
	msgpack_pack_array(pk, 1);
	mp_pack_str(pk, "Bad/Scope!");
	msgpack_pack_uint32(pk, 10);
	mp_pack_bin(pk, proof, 64);
	mp_pack_bin(pk, proof, 0);
}
static void b_hello_v2(msgpack_packer *pk)
{
	uint8_t k[32] = { 0 }, proof[64] = { 0 };
	/* version 2's HELLO (to 5) had node and network id too */
	msgpack_pack_array(pk, 8);
	msgpack_pack_uint8(pk, WIRE_HELLO);
	msgpack_pack_uint32(pk, 2);
	mp_pack_bin(pk, k, 32);
	mp_pack_bin(pk, k, 32);
	msgpack_pack_array(pk, 0);
	msgpack_pack_uint32(pk, 10);
	mp_pack_bin(pk, proof, 64);
	mp_pack_bin(pk, proof, 0);
}
/* HELLO naming its chain by ref_n ids of ref_len bytes */
static size_t ref_n = 2, ref_len = WIRE_CHAIN_REF_LEN;
static void b_hello_ref(msgpack_packer *pk)
{
	uint8_t proof[64] = { 0 }, id[40] = { 0 };
	msgpack_pack_array(pk, 6);
	msgpack_pack_uint8(pk, WIRE_HELLO);
	msgpack_pack_uint32(pk, WIRE_VERSION);
	msgpack_pack_array(pk, 0);
	msgpack_pack_uint32(pk, 10);
	mp_pack_bin(pk, proof, 64);
	msgpack_pack_array(pk, ref_n);
	for (size_t i = 0; i < ref_n; i++)
		mp_pack_bin(pk, id, ref_len);
}
/* CERTS of certs_len bytes */
static size_t certs_len = 3;
static void b_certs(msgpack_packer *pk)
{
	static uint8_t data[CERT_CHAIN_MAX_BYTES + 1];
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint8(pk, WIRE_CERTS);
	mp_pack_bin(pk, data, certs_len);
}
/* TRUST_IDS with n keys: key i is 0x02 ... 0x02 then i+1 as a big-endian
 * u16 (ascending), from 0x0101... and to 0x0303... when their lengths
 * are not 0; from may be moved. */
static size_t tid_n = 2, tid_from_len = 0, tid_to_len = 0, tid_key_len = 33;
static int tid_descending, tid_from_fill = 0x01;
static void b_trust_ids(msgpack_packer *pk)
{
	uint8_t k[40], from[40], to[40];
	memset(from, tid_from_fill, sizeof(from));
	memset(to, 0x03, sizeof(to));
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, WIRE_TRUST_IDS);
	mp_pack_bin(pk, from, tid_from_len);
	mp_pack_bin(pk, to, tid_to_len);
	msgpack_pack_array(pk, tid_n);
	for (size_t i = 0; i < tid_n; i++) {
		size_t v = tid_descending ? tid_n - i : i + 1;
		memset(k, 0x02, sizeof(k));
		k[31] = (uint8_t)(v >> 8);
		k[32] = (uint8_t)v;
		mp_pack_bin(pk, k, tid_key_len);
	}
}
/* TRUST_ITEMS with n items of kind tit_kind (as an int, or a str when
 * tit_kind < 0) and tit_len bytes (a str when tit_str). */
static size_t tit_n = 1, tit_len = 10;
static int tit_kind = 1, tit_str;
static void b_trust_items(msgpack_packer *pk)
{
	static uint8_t data[TRUST_ITEM_MAX + 1];
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint8(pk, WIRE_TRUST_ITEMS);
	msgpack_pack_array(pk, tit_n);
	for (size_t i = 0; i < tit_n; i++) {
		msgpack_pack_array(pk, 2);
		if (tit_kind < 0)
			mp_pack_str(pk, "certificate");
		else
			msgpack_pack_uint64(pk, (uint64_t)tit_kind);
		if (tit_str)
			mp_pack_strn(pk, (const char *)data, tit_len);
		else
			mp_pack_bin(pk, data, tit_len);
	}
}
static void b_trust_have_short(msgpack_packer *pk)
{
	uint8_t k[32] = { 0 };
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, WIRE_TRUST_HAVE);
	mp_pack_bin(pk, k, 31);
	msgpack_pack_uint64(pk, 1);
}
static void b_trust_have_extra(msgpack_packer *pk)
{
	uint8_t k[32] = { 0 };
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, WIRE_TRUST_HAVE);
	mp_pack_bin(pk, k, 32);
	msgpack_pack_uint64(pk, 1);
	msgpack_pack_nil(pk);
}
static void b_trust_have_neg(msgpack_packer *pk)
{
	uint8_t k[32] = { 0 };
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, WIRE_TRUST_HAVE);
	mp_pack_bin(pk, k, 32);
	msgpack_pack_int64(pk, -1);
}
static void b_ack_over(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, WIRE_ACK);
	msgpack_pack_uint64(pk, WIRE_MAX_CREDIT + 1);
	msgpack_pack_uint64(pk, 5);
	msgpack_pack_uint64(pk, 0);
}
/* ACK of version 7: no `ahead` */
static void b_ack_v7(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, WIRE_ACK);
	msgpack_pack_uint64(pk, 5);
	msgpack_pack_uint64(pk, 64);
}
/* more refused than acknowledged */
static void b_ack_ahead_over(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, WIRE_ACK);
	msgpack_pack_uint64(pk, 5);
	msgpack_pack_uint64(pk, 64);
	msgpack_pack_uint64(pk, 6);
}

int main(void)
{
	struct mp_doc ed;
	struct mp_writer w;
	static const uint8_t key2x[64];
	uint8_t key[32], net[32], *p;
	size_t n;
	const char *scopes[2] = { "bk/bt", "hn" };

	if (sodium_init() < 0)
		return 1;
	(void)testlib_failures;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(net, sizeof(net));

	TEST_START("HELLO (version 8) encodes to the pinned bytes");
	{
		uint8_t pr[64], cs[3] = { 'C', 'R', 'T' };
		const char *one[1] = { "bk" };
		char hx[1024];
		uint8_t *g;
		size_t gl;
		memset(pr, 0x33, 64);
		mp_writer_init(&w);
		ASSERT_OK(wire_put_hello(&w, one, 1, 64, pr, cs, 3));
		g = take(&w, &gl);
		sodium_bin2hex(hx, sizeof(hx), g, gl);
		ASSERT_STREQ(hx,
			     /* [type 1, version 8, ["bk"], credit 64, proof,
			      * certs] */
			     "96" "01" "08"
			     "91a2626b" "40"
			     "c440" "33333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"
			     "c403435254");
		free(g);
	}

	TEST_START("HELLO round-trips with its scopes, credit, proof and certificates");
	{
		uint8_t proof[64], hs_hash[64], sk[64], pk[32], certs[40];
		crypto_sign_keypair(pk, sk);
		randombytes_buf(hs_hash, sizeof(hs_hash));
		randombytes_buf(certs, sizeof(certs));
		ASSERT_OK(wire_hello_prove(sk, hs_hash, proof));
		mp_writer_init(&w);
		ASSERT_OK(wire_put_hello(&w, scopes, 2, 1024, proof,
					 certs, sizeof(certs)));
		p = take(&w, &n);
		ASSERT_OK(decode(p, n));
		ASSERT_EQ(m.type, WIRE_HELLO);
		ASSERT_EQ(m.hello.nscopes, 2);
		ASSERT_STREQ(m.hello.scopes[1], "hn");
		ASSERT_EQ(m.hello.credit, 1024);
		ASSERT_EQ(m.hello.certs_len, sizeof(certs));
		ASSERT_MEMEQ(m.hello.certs, certs, sizeof(certs));
		ASSERT_OK(wire_hello_proof_check(pk, hs_hash, m.hello.proof));
		/* another session's hash, or another key: refused */
		hs_hash[0] ^= 1;
		ASSERT_EQ(wire_hello_proof_check(pk, hs_hash, m.hello.proof),
			  HAMLET_ESIG);
		hs_hash[0] ^= 1;
		ASSERT_EQ(wire_hello_proof_check(key, hs_hash, m.hello.proof),
			  HAMLET_ESIG);
	}

	TEST_START("every truncation of a message is EFORMAT, never a crash");
	for (size_t k = 0; k < n; k++)
		ASSERT_EQ(decode(p, k), HAMLET_EFORMAT);

	TEST_START("a trailing byte is ETRAILING");
	{
		uint8_t *q = malloc(n + 1);
		memcpy(q, p, n);
		q[n] = 0;
		ASSERT_EQ(decode(q, n + 1), HAMLET_ETRAILING);
		free(q);
	}
	free(p);

	TEST_START("an ERROR with empty text (93 08 fe a0) decodes to \"\"");
	{
		static const uint8_t msg[] = { 0x93, 0x08, 0xfe, 0xa0 };
		struct mp_doc d;
		struct wire_msg *em = calloc(1, sizeof(*em));
		char ewhy[200];
		ASSERT_TRUE(em != NULL);
		ASSERT_OK(wire_decode(msg, sizeof(msg), &d, em, ewhy, sizeof(ewhy)));
		ASSERT_EQ(em->type, WIRE_ERROR);
		ASSERT_EQ(em->error.code, -2);
		ASSERT_STREQ(em->error.text, "");
		mp_doc_close(&d);
		free(em);
	}

	TEST_START("empty strings and bins read as empty, never as NULL");
	{
		static const uint8_t arr[] = { 0x92, 0xa0, 0xc4, 0x00 };
		struct mp_doc d;
		const msgpack_object *a;
		const char *str;
		const uint8_t *bin;
		size_t len = 1;
		char out[4] = "x";
		uint8_t fixed[1];
		ASSERT_OK(mp_doc_parse(&d, arr, sizeof(arr), 4));
		ASSERT_OK(mp_get_array(d.root, 2, 0, &a, NULL));
		ASSERT_OK(mp_get_str(&a[0], 10, &str, &len));
		ASSERT_TRUE(str != NULL && len == 0);
		ASSERT_OK(mp_get_cstr(&a[0], out, sizeof(out)));
		ASSERT_STREQ(out, "");
		ASSERT_OK(mp_get_bin(&a[1], 10, &bin, &len));
		ASSERT_TRUE(bin != NULL && len == 0);
		ASSERT_OK(mp_get_bin_fixed(&a[1], 0, fixed));
		mp_doc_close(&d);
	}

	TEST_START("FEEDS, WANT, ACK, NEG, KEEPALIVE and ERROR round-trip");
	{
		struct wire_feed f[2] = { { { 1 }, 7 }, { { 2 }, 9 } };
		uint8_t ids[1][32] = { { 3 } };
		mp_writer_init(&w);
		ASSERT_OK(wire_put_feeds(&w, f, 2, (const uint8_t(*)[32])ids, 1));
		p = take(&w, &n);
		ASSERT_OK(decode(p, n));
		ASSERT_EQ(m.type, WIRE_FEEDS);
		ASSERT_EQ(m.feeds.nfeeds, 2);
		ASSERT_EQ(m.feeds.feeds[1].seq, 9);
		ASSERT_EQ(m.feeds.nids, 1);
		ASSERT_EQ(m.feeds.ids[0][0], 3);
		free(p);
	}
	mp_writer_init(&w);
	ASSERT_OK(wire_put_want(&w, key, 41));
	p = take(&w, &n);
	ASSERT_OK(decode(p, n));
	ASSERT_EQ(m.type, WIRE_WANT);
	ASSERT_EQ(m.want.seq, 41);
	free(p);
	mp_writer_init(&w);
	ASSERT_OK(wire_put_ack(&w, 1200, 4096, 3));
	p = take(&w, &n);
	ASSERT_OK(decode(p, n));
	ASSERT_EQ(m.ack.count, 1200);
	ASSERT_EQ(m.ack.credit, 4096);
	ASSERT_EQ(m.ack.ahead, 3);
	free(p);
	mp_writer_init(&w);
	/* the bytes: [6, 1200, 4096, 3] */
	ASSERT_OK(wire_put_ack(&w, 1200, 4096, 3));
	p = take(&w, &n);
	ASSERT_EQ(n, 9);
	ASSERT_MEMEQ(p, "\x94\x06\xcd\x04\xb0\xcd\x10\x00\x03", 9);
	free(p);
	mp_writer_init(&w);
	ASSERT_OK(wire_put_neg(&w, (const uint8_t *)"\x61", 1));
	p = take(&w, &n);
	ASSERT_OK(decode(p, n));
	ASSERT_EQ(m.neg.len, 1);
	free(p);
	mp_writer_init(&w);
	ASSERT_OK(wire_put_keepalive(&w));
	p = take(&w, &n);
	ASSERT_OK(decode(p, n));
	ASSERT_EQ(m.type, WIRE_KEEPALIVE);
	free(p);
	mp_writer_init(&w);
	ASSERT_OK(wire_put_error(&w, -1024, "bye"));
	p = take(&w, &n);
	ASSERT_OK(decode(p, n));
	ASSERT_STREQ(m.error.text, "bye");
	free(p);

	TEST_START("ENTRIES of one entry encodes to the pinned layout and run bytes");
	{
		struct rf_feed f;
		char hx[1024];
		uint8_t fk[32];
		struct run_head h;
		rf_init(&f);
		ASSERT_OK(run_head_of(&f.v[2], &h));
		run_head_feed_key(&h, fk);
		mp_writer_init(&w);
		ASSERT_OK(wire_put_entries(&w, fk, NULL, &f.v[2], 1, 0, NULL));
		p = take(&w, &n);
		/* [5, key, codec 1, run: bin8, last false]; the zstd frame
		 * itself may differ between zstd versions: pinned is what
		 * it holds */
		ASSERT_TRUE(n > 40 && n < 290);
		sodium_bin2hex(hx, sizeof(hx), p, 37);
		ASSERT_STREQ(hx, "9505c4203434f79b3e5b44b71641f5f5a21820be76e44a493d0ece0a5eeaa902d19dcf0501");
		ASSERT_EQ(p[37], 0xc4);
		ASSERT_EQ(p[38], n - 40);
		ASSERT_EQ(p[n - 1], 0xc2);
		{
			uint8_t raw[512];
			size_t rl;
			ASSERT_OK(zst_size(p + 39, n - 40, sizeof(raw), &rl));
			ASSERT_OK(zst_decompress(p + 39, n - 40, raw, rl));
			sodium_bin2hex(hx, sizeof(hx), raw, rl);
			ASSERT_STREQ(hx,
				/* [network, author, "bk/bt", first seq 3, prev, */
				"96" "c420" "2222222222222222222222222222222222222222222222222222222222222222"
				"c420" "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
				"a5626b2f6274" "03"
				"c420" "abf598c9ffa4ad8cec6cbd494adbf0392f8715f1a6ae9772c0906050780b6e01"
				/* [[1, hlc, delete, collection, "HP-2", [], sig, nil]]] */
				"91" "98" "01" "cf018bcfe56fd00000" "02"
				"ae6865616c74685f70726f66696c65" "a448502d32" "90"
				"c440" "0f3b24cdf55c4eada8a89802640ff67216bb5222933702e621c65083748c96a0"
				"e313f3983330cae44667024588c7bd7ad05c204e25bfdef8eb159679130ea403"
				"c0");
		}
		decode_keep(p, n, &ed);
		ASSERT_EQ(m.entries.codec, WIRE_CODEC_ZSTD);
		ASSERT_EQ(m.entries.n, 1);
		ASSERT_MEMEQ(m.entries.v[0].env, f.v[2].env, f.v[2].env_len);
		mp_doc_close(&ed);
		free(p);
		rf_free(&f);
	}

	TEST_START("ENTRIES round-trips compressed, with and without bodies, to the signed envelopes");
	{
		struct rf_feed f;
		struct run_stats st = { 0 };
		uint8_t fk[32];
		struct run_head h;
		rf_init(&f);
		for (int i = 0; i < 5; i++)
			rf_add(&f, ENTRY_PUT, "HP-3", "Nong Thi Hoa", 1);
		f.v[4].body = NULL; /* withheld (erased) */
		f.v[4].body_len = 0;
		ASSERT_OK(run_head_of(&f.v[0], &h));
		run_head_feed_key(&h, fk);
		mp_writer_init(&w);
		ASSERT_OK(wire_put_entries(&w, fk, NULL, f.v, f.n, 0, &st));
		ASSERT_EQ(st.compact, f.n);
		p = take(&w, &n);
		decode_keep(p, n, &ed);
		ASSERT_EQ(m.entries.codec, WIRE_CODEC_ZSTD);
		ASSERT_EQ(m.entries.n, f.n);
		ASSERT_EQ(m.entries.last, 0);
		for (size_t i = 0; i < f.n; i++) {
			ASSERT_EQ(m.entries.v[i].env_len, f.v[i].env_len);
			ASSERT_MEMEQ(m.entries.v[i].env, f.v[i].env,
				     f.v[i].env_len);
			ASSERT_MEMEQ(m.entries.v[i].sig, f.v[i].sig, 64);
			ASSERT_EQ(m.entries.v[i].body_len, f.v[i].body_len);
		}
		ASSERT_TRUE(m.entries.v[4].body == NULL);
		mp_doc_close(&ed);
		/* a held message can still be made the batch's last */
		wire_entries_set_last(p, n, 1);
		ASSERT_OK(decode(p, n));
		ASSERT_EQ(m.entries.last, 1);
		ASSERT_EQ(m.entries.n, f.n);
		free(p);

		TEST_START("ENTRIES whose run is of another feed than its key is EFORMAT");
		fk[0] ^= 1;
		mp_writer_init(&w);
		ASSERT_OK(wire_put_entries(&w, fk, NULL, f.v, 2, 1, NULL));
		p = take(&w, &n);
		ASSERT_EQ(decode(p, n), HAMLET_EFORMAT);
		ASSERT_TRUE(strstr(why, "not of ENTRIES.key") != NULL);
		free(p);
		rf_free(&f);
	}

	TEST_START("an empty ENTRIES only closes a batch");
	mp_writer_init(&w);
	ASSERT_OK(wire_put_entries(&w, key, NULL, NULL, 0, 1, NULL));
	p = take(&w, &n);
	ASSERT_OK(decode(p, n));
	ASSERT_EQ(m.entries.n, 0);
	ASSERT_EQ(m.entries.last, 1);
	wire_entries_set_last(p, n, 0);
	ASSERT_EQ(decode(p, n), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "ENTRIES.run is empty") != NULL);
	free(p);

	TEST_START("ACK and HELLO grant at least one entry");
	mp_writer_init(&w);
	ASSERT_EQ(wire_put_ack(&w, 5, 0, 0), -EINVAL);
	msgpack_pack_array(&w.pk, 4);
	msgpack_pack_uint8(&w.pk, WIRE_ACK);
	msgpack_pack_uint8(&w.pk, 5);
	msgpack_pack_uint8(&w.pk, 0);
	msgpack_pack_uint8(&w.pk, 0);
	p = take(&w, &n);
	ASSERT_EQ(decode(p, n), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "ACK.credit is 0") != NULL);
	free(p);
	mp_writer_init(&w);
	ASSERT_OK(wire_put_hello(&w, scopes, 1, 0, key2x, NULL, 0));
	p = take(&w, &n);
	ASSERT_EQ(decode(p, n), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "HELLO.credit is 0") != NULL);
	free(p);

	TEST_START("encoders refuse what a receiver would refuse");
	mp_writer_init(&w);
	ASSERT_EQ(wire_put_hello(&w, scopes, WIRE_MAX_SCOPES + 1, 1,
				 key2x, NULL, 0),
		  HAMLET_ETOOBIG);
	ASSERT_EQ(wire_put_hello(&w, scopes, 1, 1, key2x, key2x,
				 CERT_CHAIN_MAX_BYTES + 1),
		  HAMLET_ETOOBIG);
	ASSERT_EQ(wire_put_entries(&w, key, NULL, NULL, WIRE_MAX_BATCH + 1, 1,
				   NULL),
		  HAMLET_ETOOBIG);
	ASSERT_EQ(wire_put_ack(&w, WIRE_MAX_CREDIT + 1, 1, 0), HAMLET_ETOOBIG);
	ASSERT_EQ(wire_put_ack(&w, 1, WIRE_MAX_CREDIT + 1, 0), HAMLET_ETOOBIG);
	ASSERT_EQ(wire_put_ack(&w, 1, 1, 2), -EINVAL);
	mp_writer_destroy(&w);

	TEST_START("an unknown type is EPROTO");
	ASSERT_EQ(decode_built(b_unknown), HAMLET_EPROTO);
	ASSERT_TRUE(strstr(why, "unknown message type 99") != NULL);

	TEST_START("a string where a key belongs is ETYPE naming WANT.key");
	ASSERT_EQ(decode_built(b_want_str_key), HAMLET_ETYPE);
	ASSERT_TRUE(strstr(why, "WANT.key") != NULL);

	TEST_START("an extra field is ETOOBIG naming the message");
	ASSERT_EQ(decode_built(b_want_extra), HAMLET_ETOOBIG);
	ASSERT_TRUE(strstr(why, "WANT has 3 fields") != NULL);

	TEST_START("a negative seq is ETYPE naming WANT.seq");
	ASSERT_EQ(decode_built(b_want_neg_seq), HAMLET_ETYPE);
	ASSERT_TRUE(strstr(why, "WANT.seq") != NULL);

	TEST_START("a batch over WIRE_MAX_BATCH makes the run malformed (EFORMAT, SPEC 1.7), naming the run's limit");
	ASSERT_EQ(decode_built(b_entries_big), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "run.entries is not an array of at most 256") != NULL);

	TEST_START("a 63-byte signature is EFORMAT naming the entry");
	ASSERT_EQ(decode_built(b_entries_short_sig), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "run entry 0: sig") != NULL);

	TEST_START("a compressed run declaring more than WIRE_MAX_MSG is ETOOBIG, never allocated");
	ASSERT_EQ(decode_built(b_entries_bomb), HAMLET_ETOOBIG);
	ASSERT_TRUE(strstr(why, "declaring at most") != NULL);

	TEST_START("codec 1 with bytes that are no zstd frame is EFORMAT; codec 2 is ETOOBIG");
	ASSERT_EQ(decode_built(b_entries_not_zstd), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "ENTRIES.run is not one zstd frame") != NULL);
	ASSERT_EQ(decode_built(b_entries_codec2), HAMLET_ETOOBIG);
	ASSERT_TRUE(strstr(why, "ENTRIES.codec") != NULL);

	TEST_START("another protocol version is EVERSION");
	ASSERT_EQ(decode_built(b_hello_version), HAMLET_EVERSION);

	TEST_START("an invalid scope in HELLO is ESCOPE naming it");
	ASSERT_EQ(decode_built(b_hello_bad_scope), HAMLET_ESCOPE);
	ASSERT_TRUE(strstr(why, "HELLO.scopes[0]") != NULL);

	TEST_START("an ACK count over the batch limit is ETOOBIG");
	ASSERT_EQ(decode_built(b_ack_over), HAMLET_ETOOBIG);

	TEST_START("an ACK without ahead (version 7) is EFORMAT");
	ASSERT_EQ(decode_built(b_ack_v7), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "ACK has 2 fields, expected 3") != NULL);

	TEST_START("an ACK refusing more entries than it acknowledges is EFORMAT");
	ASSERT_EQ(decode_built(b_ack_ahead_over), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "ACK.ahead 6 is over ACK.count 5") != NULL);

	TEST_START("bytes that are not msgpack are EFORMAT");
	ASSERT_EQ(decode((const uint8_t *)"\xc1\xc1", 2), HAMLET_EFORMAT);
	ASSERT_EQ(decode((const uint8_t *)"", 0), HAMLET_EFORMAT);

	TEST_START("a message over WIRE_MAX_MSG is ETOOBIG before parsing");
	ASSERT_EQ(decode(key, WIRE_MAX_MSG + 1), HAMLET_ETOOBIG);

	TEST_START("version 2's HELLO is EVERSION");
	ASSERT_EQ(decode_built(b_hello_v2), HAMLET_EVERSION);
	ASSERT_TRUE(strstr(why, "HELLO.version 2, we speak 8") != NULL);

	TEST_START("SINCE and STATE encode to the pinned bytes and round-trip");
	{
		uint8_t bs[32];
		struct wire_feed fs[2];
		char hx[1024];
		uint8_t *g;
		size_t gl;
		memset(bs, 0x55, 32);
		memset(fs[0].key, 0x66, 32);
		fs[0].seq = 7;
		memset(fs[1].key, 0x77, 32);
		fs[1].seq = 300;
		mp_writer_init(&w);
		ASSERT_OK(wire_put_since(&w, bs, fs, 2));
		g = take(&w, &gl);
		sodium_bin2hex(hx, sizeof(hx), g, gl);
		ASSERT_STREQ(hx,
			     /* [type 12, basis, [[key, 7], [key, 300]]] */
			     "93" "0c"
			     "c420" "5555555555555555555555555555555555555555555555555555555555555555"
			     "92"
			     "92" "c420" "6666666666666666666666666666666666666666666666666666666666666666" "07"
			     "92" "c420" "7777777777777777777777777777777777777777777777777777777777777777" "cd012c");
		ASSERT_OK(decode(g, gl));
		ASSERT_EQ(m.type, WIRE_SINCE);
		ASSERT_EQ(m.since.has_basis, 1);
		ASSERT_MEMEQ(m.since.basis, bs, 32);
		ASSERT_EQ(m.feeds.nfeeds, 2);
		ASSERT_MEMEQ(m.feeds.feeds[1].key, fs[1].key, 32);
		ASSERT_EQ(m.feeds.feeds[1].seq, 300);
		free(g);

		mp_writer_init(&w);
		ASSERT_OK(wire_put_since(&w, NULL, NULL, 0));
		g = take(&w, &gl);
		sodium_bin2hex(hx, sizeof(hx), g, gl);
		/* [type 12, no basis, []] */
		ASSERT_STREQ(hx, "930cc40090");
		ASSERT_OK(decode(g, gl));
		ASSERT_EQ(m.since.has_basis, 0);
		ASSERT_EQ(m.feeds.nfeeds, 0);
		free(g);
		mp_writer_init(&w);
		ASSERT_EQ(wire_put_since(&w, NULL, fs, 1), -EINVAL);
		mp_writer_destroy(&w);

		mp_writer_init(&w);
		ASSERT_OK(wire_put_state(&w, bs));
		g = take(&w, &gl);
		sodium_bin2hex(hx, sizeof(hx), g, gl);
		ASSERT_STREQ(hx,
			     /* [type 13, digest] */
			     "92" "0d"
			     "c420" "5555555555555555555555555555555555555555555555555555555555555555");
		ASSERT_OK(decode(g, gl));
		ASSERT_EQ(m.type, WIRE_STATE);
		ASSERT_MEMEQ(m.state.digest, bs, 32);
		free(g);
		ASSERT_STREQ(wire_type_name(WIRE_SINCE), "SINCE");
		ASSERT_STREQ(wire_type_name(WIRE_STATE), "STATE");
		ASSERT_STREQ(wire_type_name(WIRE_TAKE), "TAKE");
	}

	TEST_START("TAKE encodes to the pinned bytes, round-trips, refuses an index past the limit");
	{
		struct wire_take tk[2] = { { 0, 1 }, { 9, 300 } };
		char hx[256];
		uint8_t *g;
		size_t gl;
		mp_writer_init(&w);
		ASSERT_OK(wire_put_take(&w, tk, 2));
		g = take(&w, &gl);
		sodium_bin2hex(hx, sizeof(hx), g, gl);
		/* [type 14, [[0, 1], [9, 300]]] */
		ASSERT_STREQ(hx, "920e" "92" "920001" "9209cd012c");
		ASSERT_OK(decode(g, gl));
		ASSERT_EQ(m.type, WIRE_TAKE);
		ASSERT_EQ(m.take.n, 2);
		ASSERT_EQ(m.take.v[1].index, 9);
		ASSERT_EQ(m.take.v[1].seq, 300);
		free(g);
		tk[0].index = WIRE_MAX_FEEDS;
		mp_writer_init(&w);
		ASSERT_EQ(wire_put_take(&w, tk, 2), -EINVAL);
		mp_writer_destroy(&w);
		ASSERT_EQ(decode((const uint8_t *)"\x92\x0e\x91\x92\xcd\x04\x00\x01",
				 8),
			  HAMLET_ETOOBIG);
		ASSERT_TRUE(strstr(why, "TAKE.items[0].index") != NULL);
	}

	TEST_START("HELLO naming its chain by ids, CERTS_WANT and CERTS encode to the pinned bytes and round-trip");
	{
		uint8_t pr[64], ref[2][32], cs[3] = { 'C', 'R', 'T' };
		char hx[1024];
		uint8_t *g;
		size_t gl;
		memset(pr, 0x33, 64);
		memset(ref[0], 0x44, 32);
		memset(ref[1], 0x55, 32);
		mp_writer_init(&w);
		ASSERT_OK(wire_put_hello_ref(&w, NULL, 0, 64, pr,
					     (const uint8_t(*)[32])ref, 2));
		g = take(&w, &gl);
		sodium_bin2hex(hx, sizeof(hx), g, gl);
		/* [type 1, version 8, [], credit 64, proof, [the leaf's id,
		 * its issuer's id: 16 bytes each]] */
		ASSERT_STREQ(hx,
			     "96" "01" "08"
			     "90" "40"
			     "c440" "33333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"
			     "92"
			     "c410" "44444444444444444444444444444444"
			     "c410" "55555555555555555555555555555555");
		ASSERT_OK(decode(g, gl));
		ASSERT_EQ(m.type, WIRE_HELLO);
		ASSERT_EQ(m.hello.nref, 2);
		ASSERT_EQ(m.hello.certs_len, 0);
		ASSERT_MEMEQ(m.hello.ref[1], ref[1], WIRE_CHAIN_REF_LEN);
		/* every truncation of it too */
		for (size_t k = 0; k < gl; k++)
			ASSERT_EQ(decode(g, k), HAMLET_EFORMAT);
		free(g);
		/* a HELLO with its chain file names no ids */
		mp_writer_init(&w);
		ASSERT_OK(wire_put_hello(&w, NULL, 0, 64, pr, cs, 3));
		g = take(&w, &gl);
		ASSERT_OK(decode(g, gl));
		ASSERT_EQ(m.hello.nref, 0);
		ASSERT_EQ(m.hello.certs_len, 3);
		free(g);

		mp_writer_init(&w);
		ASSERT_OK(wire_put_certs_want(&w));
		g = take(&w, &gl);
		sodium_bin2hex(hx, sizeof(hx), g, gl);
		ASSERT_STREQ(hx, "910f"); /* [type 15] */
		ASSERT_OK(decode(g, gl));
		ASSERT_EQ(m.type, WIRE_CERTS_WANT);
		free(g);

		mp_writer_init(&w);
		ASSERT_OK(wire_put_certs(&w, cs, 3));
		g = take(&w, &gl);
		sodium_bin2hex(hx, sizeof(hx), g, gl);
		ASSERT_STREQ(hx, "9210" "c403435254"); /* [type 16, chain] */
		ASSERT_OK(decode(g, gl));
		ASSERT_EQ(m.type, WIRE_CERTS);
		ASSERT_EQ(m.certs.len, 3);
		ASSERT_MEMEQ(m.certs.data, cs, 3);
		for (size_t k = 0; k < gl; k++)
			ASSERT_EQ(decode(g, k), HAMLET_EFORMAT);
		free(g);
		ASSERT_STREQ(wire_type_name(WIRE_CERTS_WANT), "CERTS_WANT");
		ASSERT_STREQ(wire_type_name(WIRE_CERTS), "CERTS");

		/* encoders refuse what a receiver would refuse */
		mp_writer_init(&w);
		ASSERT_EQ(wire_put_hello_ref(&w, NULL, 0, 64, pr,
					     (const uint8_t(*)[32])ref, 0),
			  -EINVAL);
		ASSERT_EQ(wire_put_hello_ref(&w, NULL, 0, 64, pr,
					     (const uint8_t(*)[32])ref,
					     WIRE_MAX_CHAIN_REF + 1),
			  -EINVAL);
		ASSERT_EQ(wire_put_certs(&w, cs, 0), -EINVAL);
		ASSERT_EQ(wire_put_certs(&w, cs, CERT_CHAIN_MAX_BYTES + 1),
			  HAMLET_ETOOBIG);
		mp_writer_destroy(&w);
	}

	TEST_START("a chain reference of no ids, of 5 ids, of a 15- or 32-byte id is refused; CERTS empty, oversize, with a field too many");
	ref_n = 0;
	ASSERT_EQ(decode_built(b_hello_ref), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "HELLO.certs is an empty array") != NULL);
	ref_n = WIRE_MAX_CHAIN_REF + 1;
	ASSERT_EQ(decode_built(b_hello_ref), HAMLET_ETOOBIG);
	ASSERT_TRUE(strstr(why, "HELLO.certs is an array of more than") != NULL);
	ref_n = 2;
	ref_len = 15;
	ASSERT_EQ(decode_built(b_hello_ref), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "HELLO.certs[0] is not a 16-byte bin") != NULL);
	ref_len = 32; /* a whole id: not the form a reference takes */
	ASSERT_EQ(decode_built(b_hello_ref), HAMLET_ETOOBIG);
	ASSERT_TRUE(strstr(why, "HELLO.certs[0] is not a 16-byte bin") != NULL);
	ref_len = WIRE_CHAIN_REF_LEN;
	ASSERT_OK(decode_built(b_hello_ref));
	certs_len = 0;
	ASSERT_EQ(decode_built(b_certs), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "CERTS.chain is empty") != NULL);
	certs_len = CERT_CHAIN_MAX_BYTES + 1;
	ASSERT_EQ(decode_built(b_certs), HAMLET_ETOOBIG);
	ASSERT_TRUE(strstr(why, "CERTS.chain") != NULL);
	ASSERT_EQ(decode((const uint8_t *)"\x93\x10\xc4\x01x\xc0", 6),
		  HAMLET_ETOOBIG);
	ASSERT_TRUE(strstr(why, "CERTS has 2 fields") != NULL);
	ASSERT_EQ(decode((const uint8_t *)"\x92\x0f\xc0", 3), HAMLET_ETOOBIG);
	ASSERT_TRUE(strstr(why, "CERTS_WANT has 1 fields") != NULL);

	TEST_START("the digest of shared heads is pinned, and depends on order and count");
	{
		struct wire_heads_digest d;
		uint8_t ids[2][32], out[32], out2[32];
		char hx[65];
		memset(ids[0], 0x01, 32);
		memset(ids[1], 0x02, 32);
		wire_heads_digest_init(&d, 2);
		wire_heads_digest_add(&d, ids[0]);
		wire_heads_digest_add(&d, ids[1]);
		wire_heads_digest_final(&d, out);
		sodium_bin2hex(hx, sizeof(hx), out, 32);
		/* BLAKE2b-256 keyed "hamlet/sync-heads/v1" over
		 * be64(2) || 01 x 32 || 02 x 32 */
		{
			crypto_generichash_blake2b_state h;
			uint8_t two[8] = { 0, 0, 0, 0, 0, 0, 0, 2 };
			crypto_generichash_blake2b_init(
				&h, (const uint8_t *)"hamlet/sync-heads/v1", 20,
				32);
			crypto_generichash_blake2b_update(&h, two, 8);
			crypto_generichash_blake2b_update(&h, ids[0], 32);
			crypto_generichash_blake2b_update(&h, ids[1], 32);
			crypto_generichash_blake2b_final(&h, out2, 32);
			ASSERT_MEMEQ(out, out2, 32);
		}
		ASSERT_STREQ(hx, GOLDEN_HEADS_DIGEST);
		wire_heads_digest_init(&d, 2);
		wire_heads_digest_add(&d, ids[1]);
		wire_heads_digest_add(&d, ids[0]);
		wire_heads_digest_final(&d, out2);
		ASSERT_TRUE(memcmp(out, out2, 32) != 0);
	}

	TEST_START("SINCE refuses a basis of another size, feeds without a basis, a short STATE");
	ASSERT_EQ(decode((const uint8_t *)"\x93\x0c\xc4\x03" "abc\x90", 8),
		  HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "SINCE.basis is 3 bytes") != NULL);
	{
		uint8_t bad[64];
		size_t k = 0;
		memcpy(bad, "\x93\x0c\xc4\x00\x91\x92\xc4\x20", 8);
		k = 8;
		memset(bad + k, 1, 32);
		k += 32;
		bad[k++] = 5;
		ASSERT_EQ(decode(bad, k), HAMLET_EFORMAT);
		ASSERT_TRUE(strstr(why, "SINCE names feeds without a basis") != NULL);
	}
	ASSERT_EQ(decode((const uint8_t *)"\x92\x0d\xc4\x02" "ab", 6),
		  HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "STATE.digest") != NULL);

	TEST_START("TRUST_HAVE, TRUST_IDS and TRUST_ITEMS encode to the pinned bytes");
	{
		uint8_t dg[32], from[33], ks[2][33];
		const uint8_t *data[2] = { (const uint8_t *)"abc",
					   (const uint8_t *)"xy" };
		const size_t lens[2] = { 3, 2 };
		const int kinds[2] = { TRUST_CERT, TRUST_FORK };
		char hx[1024];
		uint8_t *g;
		size_t gl;
		memset(dg, 0x44, 32);
		mp_writer_init(&w);
		ASSERT_OK(wire_put_trust_have(&w, dg, 300));
		g = take(&w, &gl);
		sodium_bin2hex(hx, sizeof(hx), g, gl);
		ASSERT_STREQ(hx,
			     /* [type 9, digest, count 300] */
			     "93" "09"
			     "c420" "4444444444444444444444444444444444444444444444444444444444444444"
			     "cd012c");
		ASSERT_OK(decode(g, gl));
		ASSERT_EQ(m.type, WIRE_TRUST_HAVE);
		ASSERT_MEMEQ(m.trust_have.digest, dg, 32);
		ASSERT_EQ(m.trust_have.count, 300);
		free(g);

		from[0] = TRUST_CERT;
		memset(from + 1, 0x10, 32);
		ks[0][0] = TRUST_CERT;
		memset(ks[0] + 1, 0x20, 32);
		ks[1][0] = TRUST_REVOKE;
		memset(ks[1] + 1, 0x05, 32);
		mp_writer_init(&w);
		ASSERT_OK(wire_put_trust_ids(&w, from, NULL,
					     (const uint8_t(*)[33])ks, 2));
		g = take(&w, &gl);
		sodium_bin2hex(hx, sizeof(hx), g, gl);
		ASSERT_STREQ(hx,
			     /* [type 10, from, to (none), [key, key]] */
			     "94" "0a"
			     "c421" "011010101010101010101010101010101010101010101010101010101010101010"
			     "c400"
			     "92"
			     "c421" "012020202020202020202020202020202020202020202020202020202020202020"
			     "c421" "020505050505050505050505050505050505050505050505050505050505050505");
		{
			/* the keys live as long as the parsed document */
			struct mp_doc d;
			ASSERT_OK(wire_decode(g, gl, &d, &m, why, sizeof(why)));
			ASSERT_EQ(m.type, WIRE_TRUST_IDS);
			ASSERT_TRUE(m.trust_ids.has_from && !m.trust_ids.has_to);
			ASSERT_MEMEQ(m.trust_ids.from, from, 33);
			ASSERT_EQ(m.trust_ids.n, 2);
			ASSERT_MEMEQ(wire_trust_key(&m, 0), ks[0], 33);
			ASSERT_MEMEQ(wire_trust_key(&m, 1), ks[1], 33);
			mp_doc_close(&d);
		}
		free(g);

		mp_writer_init(&w);
		ASSERT_OK(wire_put_trust_items(&w, kinds, data, lens, 2));
		g = take(&w, &gl);
		sodium_bin2hex(hx, sizeof(hx), g, gl);
		ASSERT_STREQ(hx,
			     /* [type 11, [[1, "abc"], [3, "xy"]]] */
			     "92" "0b" "92" "92" "01" "c403" "616263"
			     "92" "03" "c402" "7879");
		ASSERT_OK(decode(g, gl));
		ASSERT_EQ(m.type, WIRE_TRUST_ITEMS);
		ASSERT_EQ(m.trust_items.n, 2);
		ASSERT_EQ(m.trust_items.v[1].kind, TRUST_FORK);
		ASSERT_EQ(m.trust_items.v[1].len, 2);
		ASSERT_MEMEQ(m.trust_items.v[0].data, "abc", 3);
		free(g);
		ASSERT_STREQ(wire_type_name(WIRE_TRUST_HAVE), "TRUST_HAVE");
		ASSERT_STREQ(wire_type_name(WIRE_TRUST_IDS), "TRUST_IDS");
		ASSERT_STREQ(wire_type_name(WIRE_TRUST_ITEMS), "TRUST_ITEMS");
		ASSERT_STREQ(wire_type_name(WIRE__MAX + 1), "?");
	}

	TEST_START("TRUST_IDS round-trips with both bounds, with none, and empty");
	{
		uint8_t lo[33], hi[33], ks[3][33];
		memset(lo, 0x01, 33);
		memset(hi, 0x03, 33);
		for (int i = 0; i < 3; i++) {
			memset(ks[i], 0x02, 33);
			ks[i][32] = (uint8_t)i;
		}
		mp_writer_init(&w);
		ASSERT_OK(wire_put_trust_ids(&w, lo, hi,
					     (const uint8_t(*)[33])ks, 3));
		p = take(&w, &n);
		{
			struct mp_doc d;
			ASSERT_OK(wire_decode(p, n, &d, &m, why, sizeof(why)));
			ASSERT_TRUE(m.trust_ids.has_from && m.trust_ids.has_to);
			ASSERT_MEMEQ(m.trust_ids.to, hi, 33);
			ASSERT_EQ(m.trust_ids.n, 3);
			ASSERT_MEMEQ(wire_trust_key(&m, 2), ks[2], 33);
			mp_doc_close(&d);
		}
		free(p);
		mp_writer_init(&w);
		ASSERT_OK(wire_put_trust_ids(&w, NULL, NULL, NULL, 0));
		p = take(&w, &n);
		ASSERT_OK(decode(p, n));
		ASSERT_TRUE(!m.trust_ids.has_from && !m.trust_ids.has_to);
		ASSERT_EQ(m.trust_ids.n, 0);
		free(p);

		TEST_START("TRUST_IDS encoders refuse keys out of order, out of range, an empty range, too many");
		mp_writer_init(&w);
		ASSERT_EQ(wire_put_trust_ids(&w, hi, lo, NULL, 0), -EINVAL);
		ASSERT_EQ(wire_put_trust_ids(&w, lo, lo, NULL, 0), -EINVAL);
		ASSERT_EQ(wire_put_trust_ids(&w, ks[1], hi,
					     (const uint8_t(*)[33])ks, 3),
			  -EINVAL);
		ASSERT_EQ(wire_put_trust_ids(&w, lo, ks[2],
					     (const uint8_t(*)[33])ks, 3),
			  -EINVAL);
		memcpy(ks[2], ks[1], 33);
		ASSERT_EQ(wire_put_trust_ids(&w, NULL, NULL,
					     (const uint8_t(*)[33])ks, 3),
			  -EINVAL);
		ASSERT_EQ(wire_put_trust_ids(&w, NULL, NULL,
					     (const uint8_t(*)[33])ks,
					     WIRE_MAX_TRUST_KEYS + 1),
			  HAMLET_ETOOBIG);
		ASSERT_EQ(w.sb.size, 0);
		mp_writer_destroy(&w);
	}

	TEST_START("a TRUST_IDS of WIRE_MAX_TRUST_KEYS decodes; one more is ETOOBIG");
	tid_n = WIRE_MAX_TRUST_KEYS;
	ASSERT_OK(decode_built(b_trust_ids));
	ASSERT_EQ(m.trust_ids.n, WIRE_MAX_TRUST_KEYS);
	tid_n = WIRE_MAX_TRUST_KEYS + 1;
	ASSERT_EQ(decode_built(b_trust_ids), HAMLET_ETOOBIG);
	ASSERT_TRUE(strstr(why, "TRUST_IDS.keys") != NULL);

	TEST_START("TRUST_IDS refuses keys of 32 or 34 bytes, bounds of 5 bytes, keys out of order or range");
	tid_n = 3;
	tid_key_len = 32;
	ASSERT_EQ(decode_built(b_trust_ids), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "TRUST_IDS.keys[0]") != NULL);
	tid_key_len = 34;
	ASSERT_EQ(decode_built(b_trust_ids), HAMLET_ETOOBIG);
	tid_key_len = 33;
	tid_from_len = 5;
	ASSERT_EQ(decode_built(b_trust_ids), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "TRUST_IDS.from") != NULL);
	tid_from_len = 0;
	tid_to_len = 5;
	ASSERT_EQ(decode_built(b_trust_ids), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "TRUST_IDS.to") != NULL);
	tid_to_len = 33;
	tid_from_len = 33;
	ASSERT_OK(decode_built(b_trust_ids)); /* 0x01.. <= keys < 0x03.. */
	tid_descending = 1;
	ASSERT_EQ(decode_built(b_trust_ids), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "out of order") != NULL);
	tid_descending = 0;
	tid_from_fill = 0x03; /* from == to */
	ASSERT_EQ(decode_built(b_trust_ids), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "TRUST_IDS.from is not before .to") != NULL);
	tid_to_len = 0; /* the keys lie before from */
	ASSERT_EQ(decode_built(b_trust_ids), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "out of the range") != NULL);
	tid_from_fill = 0x01;
	tid_from_len = 0;
	tid_to_len = 33;
	tid_n = 1;
	tid_key_len = 33;
	ASSERT_OK(decode_built(b_trust_ids));
	tid_from_len = tid_to_len = 0;

	TEST_START("a TRUST_ITEMS of WIRE_MAX_TRUST_ITEMS decodes; one more is ETOOBIG");
	tit_n = WIRE_MAX_TRUST_ITEMS;
	ASSERT_OK(decode_built(b_trust_items));
	ASSERT_EQ(m.trust_items.n, WIRE_MAX_TRUST_ITEMS);
	tit_n = WIRE_MAX_TRUST_ITEMS + 1;
	ASSERT_EQ(decode_built(b_trust_items), HAMLET_ETOOBIG);
	ASSERT_TRUE(strstr(why, "TRUST_ITEMS.items") != NULL);
	tit_n = 1;

	TEST_START("TRUST_ITEMS refuses kinds 0 and 5, a str kind, str data, data over TRUST_ITEM_MAX");
	tit_kind = 0;
	ASSERT_EQ(decode_built(b_trust_items), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "TRUST_ITEMS.items[0].kind") != NULL);
	tit_kind = 5;
	ASSERT_EQ(decode_built(b_trust_items), HAMLET_ETOOBIG);
	tit_kind = -1;
	ASSERT_EQ(decode_built(b_trust_items), HAMLET_ETYPE);
	tit_kind = TRUST_REVOKE;
	tit_str = 1;
	ASSERT_EQ(decode_built(b_trust_items), HAMLET_ETYPE);
	ASSERT_TRUE(strstr(why, "TRUST_ITEMS.items[0].data") != NULL);
	tit_str = 0;
	tit_len = TRUST_ITEM_MAX;
	ASSERT_OK(decode_built(b_trust_items));
	ASSERT_EQ(m.trust_items.v[0].len, TRUST_ITEM_MAX);
	tit_len = TRUST_ITEM_MAX + 1;
	ASSERT_EQ(decode_built(b_trust_items), HAMLET_ETOOBIG);
	tit_len = 10;

	TEST_START("TRUST_HAVE refuses a short digest, an extra field, a negative count");
	ASSERT_EQ(decode_built(b_trust_have_short), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "TRUST_HAVE.digest") != NULL);
	ASSERT_EQ(decode_built(b_trust_have_extra), HAMLET_ETOOBIG);
	ASSERT_TRUE(strstr(why, "TRUST_HAVE has 3 fields") != NULL);
	ASSERT_EQ(decode_built(b_trust_have_neg), HAMLET_ETYPE);
	ASSERT_TRUE(strstr(why, "TRUST_HAVE.count") != NULL);

	TEST_START("TRUST_ITEMS encoders refuse an unknown kind, an item too big, a message over WIRE_MAX_MSG");
	{
		static uint8_t blob[TRUST_ITEM_MAX + 1];
		static const uint8_t *data[WIRE_MAX_TRUST_ITEMS + 1];
		static size_t lens[WIRE_MAX_TRUST_ITEMS + 1];
		static int kinds[WIRE_MAX_TRUST_ITEMS + 1];
		/* 31 items of TRUST_ITEM_MAX and one that fills the rest:
		 * array16 headers (3), [kind, bin16] (1 + 1 + 3) */
		size_t full = 31, last = WIRE_MAX_MSG - (1 + 1 + 3) -
					 full * (1 + 1 + 3 + TRUST_ITEM_MAX) -
					 (1 + 1 + 3);
		for (size_t i = 0; i <= WIRE_MAX_TRUST_ITEMS; i++) {
			data[i] = blob;
			lens[i] = TRUST_ITEM_MAX;
			kinds[i] = TRUST_REVOKE;
		}
		mp_writer_init(&w);
		ASSERT_EQ(wire_put_trust_items(&w, kinds, data, lens,
					       WIRE_MAX_TRUST_ITEMS + 1),
			  HAMLET_ETOOBIG);
		ASSERT_EQ(wire_put_trust_items(&w, kinds, data, lens,
					       WIRE_MAX_TRUST_ITEMS),
			  HAMLET_ETOOBIG);
		ASSERT_EQ(wire_put_trust_items(&w, kinds, data, lens, 32),
			  HAMLET_ETOOBIG);
		lens[0] = TRUST_ITEM_MAX + 1;
		ASSERT_EQ(wire_put_trust_items(&w, kinds, data, lens, 1),
			  HAMLET_ETOOBIG);
		lens[0] = 5;
		kinds[0] = 5;
		ASSERT_EQ(wire_put_trust_items(&w, kinds, data, lens, 1),
			  -EINVAL);
		kinds[0] = 0;
		ASSERT_EQ(wire_put_trust_items(&w, kinds, data, lens, 1),
			  -EINVAL);
		ASSERT_EQ(w.sb.size, 0);
		kinds[0] = TRUST_CERT;
		lens[0] = TRUST_ITEM_MAX;
		lens[full] = last + 1;
		ASSERT_EQ(wire_put_trust_items(&w, kinds, data, lens, full + 1),
			  HAMLET_ETOOBIG);
		lens[full] = last;
		ASSERT_OK(wire_put_trust_items(&w, kinds, data, lens, full + 1));
		p = take(&w, &n);
		ASSERT_EQ(n, WIRE_MAX_MSG); /* the encoder's count is exact */
		ASSERT_OK(decode(p, n));
		ASSERT_EQ(m.trust_items.n, full + 1);
		ASSERT_EQ(m.trust_items.v[full].len, last);
		free(p);
	}

	TEST_START("a large message splits into frames and reassembles; a tampered frame fails");
	{
		struct noise_cipher a = { { 0 }, 0, 1 }, b = { { 0 }, 0, 1 };
		size_t len = 200000, fl, off = 0, got = 0;
		uint8_t *msg = malloc(len), *fr, *re = malloc(len);
		int more = 1, frames = 0;
		randombytes_buf(a.k, 32);
		memcpy(b.k, a.k, 32);
		randombytes_buf(msg, len);
		ASSERT_OK(wire_frames_seal(&a, msg, len, &fr, &fl));
		while (more) {
			size_t cl = ((size_t)fr[off] << 8) | fr[off + 1];
			const uint8_t *frag;
			size_t fgl;
			ASSERT_TRUE(cl <= WIRE_FRAME_MAX);
			ASSERT_OK(wire_frame_open(&b, fr + off + 2, cl, &frag,
						  &fgl, &more));
			memcpy(re + got, frag, fgl);
			got += fgl;
			off += 2 + cl;
			frames++;
		}
		ASSERT_EQ(got, len);
		ASSERT_EQ(off, fl);
		ASSERT_EQ(frames, 4);
		ASSERT_MEMEQ(re, msg, len);
		free(fr);
		ASSERT_OK(wire_frames_seal(&a, msg, 10, &fr, &fl));
		fr[5] ^= 1;
		{
			const uint8_t *frag;
			size_t fgl;
			ASSERT_EQ(wire_frame_open(&b, fr + 2, fl - 2, &frag,
						  &fgl, &more),
				  HAMLET_EDECRYPT);
		}
		free(fr);
		ASSERT_EQ(wire_frames_seal(&a, msg, WIRE_MAX_MSG + 1, &fr, &fl),
			  HAMLET_ETOOBIG);
		free(msg);
		free(re);
	}

	TEST_START("the handshake payload is strict");
	{
		uint8_t buf[128], node[32], nid[32];
		size_t bl;
		ASSERT_OK(wire_hs_payload(key, net, buf, sizeof(buf), &bl));
		ASSERT_OK(wire_hs_payload_decode(buf, bl, node, nid));
		ASSERT_MEMEQ(node, key, 32);
		ASSERT_MEMEQ(nid, net, 32);
		ASSERT_TRUE(wire_hs_payload_decode(buf, bl - 1, node, nid) < 0);
	}
	fprintf(stderr, "all wire tests passed\n");
	return 0;
}
