/* wire: message codec and frames. Round trips, then every way a peer can
 * get a message wrong, each with its named error. */
#include "cert.h"
#include "error.h"
#include "testlib.h"
#include "wire.h"

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

static int decode(const uint8_t *p, size_t n)
{
	struct mp_doc d;
	int r = wire_decode(p, n, &d, &m, why, sizeof(why));
	if (r == 0)
		mp_doc_close(&d);
	return r;
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
static void b_entries_big(msgpack_packer *pk)
{
	uint8_t k[32] = { 0 }, sig[64] = { 0 };
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, WIRE_ENTRIES);
	mp_pack_bin(pk, k, 32);
	msgpack_pack_array(pk, WIRE_MAX_BATCH + 1);
	for (int i = 0; i < WIRE_MAX_BATCH + 1; i++) {
		msgpack_pack_array(pk, 3);
		mp_pack_bin(pk, "e", 1);
		mp_pack_bin(pk, sig, 64);
		msgpack_pack_nil(pk);
	}
	msgpack_pack_true(pk);
}
static void b_entries_short_sig(msgpack_packer *pk)
{
	uint8_t k[32] = { 0 }, sig[63] = { 0 };
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, WIRE_ENTRIES);
	mp_pack_bin(pk, k, 32);
	msgpack_pack_array(pk, 1);
	msgpack_pack_array(pk, 3);
	mp_pack_bin(pk, "e", 1);
	mp_pack_bin(pk, sig, 63);
	msgpack_pack_nil(pk);
	msgpack_pack_true(pk);
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
	uint8_t k[32] = { 0 };
	uint8_t proof[64] = { 0 };
	msgpack_pack_array(pk, 8);
	msgpack_pack_uint8(pk, WIRE_HELLO);
	msgpack_pack_uint32(pk, WIRE_VERSION);
	mp_pack_bin(pk, k, 32);
	mp_pack_bin(pk, k, 32);
	msgpack_pack_array(pk, 1);
	mp_pack_str(pk, "Bad/Scope!");
	msgpack_pack_uint32(pk, 10);
	mp_pack_bin(pk, proof, 64);
	mp_pack_bin(pk, proof, 0);
}
static void b_ack_over(msgpack_packer *pk)
{
	uint8_t k[32] = { 0 };
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, WIRE_ACK);
	mp_pack_bin(pk, k, 32);
	msgpack_pack_uint64(pk, WIRE_MAX_BATCH + 1);
	msgpack_pack_uint64(pk, 5);
}

int main(void)
{
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

	TEST_START("HELLO (version 2) encodes to the pinned bytes");
	{
		uint8_t k1[32], n1[32], pr[64], cs[3] = { 'C', 'R', 'T' };
		const char *one[1] = { "bk" };
		char hx[1024];
		uint8_t *g;
		size_t gl;
		memset(k1, 0x11, 32);
		memset(n1, 0x22, 32);
		memset(pr, 0x33, 64);
		mp_writer_init(&w);
		ASSERT_OK(wire_put_hello(&w, k1, n1, one, 1, 64, pr, cs, 3));
		g = take(&w, &gl);
		sodium_bin2hex(hx, sizeof(hx), g, gl);
		ASSERT_STREQ(hx,
			     /* [type 1, version 2, node, network, ["bk"],
			      * credit 64, proof, certs] */
			     "98" "01" "02"
			     "c420" "1111111111111111111111111111111111111111111111111111111111111111"
			     "c420" "2222222222222222222222222222222222222222222222222222222222222222"
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
		ASSERT_OK(wire_put_hello(&w, key, net, scopes, 2, 1024, proof,
					 certs, sizeof(certs)));
		p = take(&w, &n);
		ASSERT_OK(decode(p, n));
		ASSERT_EQ(m.type, WIRE_HELLO);
		ASSERT_MEMEQ(m.hello.node, key, 32);
		ASSERT_MEMEQ(m.hello.network_id, net, 32);
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
	ASSERT_OK(wire_put_ack(&w, 1200, 4096));
	p = take(&w, &n);
	ASSERT_OK(decode(p, n));
	ASSERT_EQ(m.ack.count, 1200);
	ASSERT_EQ(m.ack.credit, 4096);
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

	TEST_START("ENTRIES round-trips with and without bodies");
	{
		uint8_t env[100], sig[64], body[300];
		struct wire_entry e[2] = { { env, 100, sig, body, 300 },
					   { env, 50, sig, NULL, 0 } };
		memset(env, 7, sizeof(env));
		memset(sig, 8, sizeof(sig));
		memset(body, 9, sizeof(body));
		mp_writer_init(&w);
		ASSERT_OK(wire_put_entries_begin(&w, key, 2));
		ASSERT_OK(wire_put_entry(&w, &e[0]));
		ASSERT_OK(wire_put_entry(&w, &e[1]));
		ASSERT_OK(wire_put_entries_end(&w, 0));
		p = take(&w, &n);
		ASSERT_OK(decode(p, n));
		ASSERT_EQ(m.entries.n, 2);
		ASSERT_EQ(m.entries.last, 0);
		ASSERT_EQ(m.entries.v[0].body_len, 300);
		ASSERT_TRUE(m.entries.v[1].body == NULL);
		ASSERT_EQ(m.entries.v[1].env_len, 50);
		/* a held message can still be made the batch's last */
		wire_entries_set_last(p, n, 1);
		ASSERT_OK(decode(p, n));
		ASSERT_EQ(m.entries.last, 1);
		ASSERT_EQ(m.entries.n, 2);
		free(p);
	}

	TEST_START("an empty ENTRIES only closes a batch");
	mp_writer_init(&w);
	ASSERT_OK(wire_put_entries_begin(&w, key, 0));
	ASSERT_OK(wire_put_entries_end(&w, 1));
	p = take(&w, &n);
	ASSERT_OK(decode(p, n));
	ASSERT_EQ(m.entries.n, 0);
	ASSERT_EQ(m.entries.last, 1);
	wire_entries_set_last(p, n, 0);
	ASSERT_EQ(decode(p, n), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "ENTRIES.batch is empty") != NULL);
	free(p);

	TEST_START("ACK and HELLO grant at least one entry");
	mp_writer_init(&w);
	ASSERT_EQ(wire_put_ack(&w, 5, 0), -EINVAL);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint8(&w.pk, WIRE_ACK);
	msgpack_pack_uint8(&w.pk, 5);
	msgpack_pack_uint8(&w.pk, 0);
	p = take(&w, &n);
	ASSERT_EQ(decode(p, n), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "ACK.credit is 0") != NULL);
	free(p);
	mp_writer_init(&w);
	ASSERT_OK(wire_put_hello(&w, key, net, scopes, 1, 0, key2x, NULL, 0));
	p = take(&w, &n);
	ASSERT_EQ(decode(p, n), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "HELLO.credit is 0") != NULL);
	free(p);

	TEST_START("encoders refuse what a receiver would refuse");
	mp_writer_init(&w);
	ASSERT_EQ(wire_put_hello(&w, key, net, scopes, WIRE_MAX_SCOPES + 1, 1,
				 key2x, NULL, 0),
		  HAMLET_ETOOBIG);
	ASSERT_EQ(wire_put_hello(&w, key, net, scopes, 1, 1, key2x, key2x,
				 CERT_CHAIN_MAX_BYTES + 1),
		  HAMLET_ETOOBIG);
	ASSERT_EQ(wire_put_entries_begin(&w, key, WIRE_MAX_BATCH + 1),
		  HAMLET_ETOOBIG);
	ASSERT_EQ(wire_put_ack(&w, WIRE_MAX_CREDIT + 1, 1), HAMLET_ETOOBIG);
	ASSERT_EQ(wire_put_ack(&w, 1, WIRE_MAX_CREDIT + 1), HAMLET_ETOOBIG);
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

	TEST_START("a batch over WIRE_MAX_BATCH is ETOOBIG naming ENTRIES.batch");
	ASSERT_EQ(decode_built(b_entries_big), HAMLET_ETOOBIG);
	ASSERT_TRUE(strstr(why, "ENTRIES.batch") != NULL);

	TEST_START("a 63-byte signature is EFORMAT naming the entry");
	ASSERT_EQ(decode_built(b_entries_short_sig), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "ENTRIES.batch[0].sig") != NULL);

	TEST_START("another protocol version is EVERSION");
	ASSERT_EQ(decode_built(b_hello_version), HAMLET_EVERSION);

	TEST_START("an invalid scope in HELLO is ESCOPE naming it");
	ASSERT_EQ(decode_built(b_hello_bad_scope), HAMLET_ESCOPE);
	ASSERT_TRUE(strstr(why, "HELLO.scopes[0]") != NULL);

	TEST_START("an ACK count over the batch limit is ETOOBIG");
	ASSERT_EQ(decode_built(b_ack_over), HAMLET_ETOOBIG);

	TEST_START("bytes that are not msgpack are EFORMAT");
	ASSERT_EQ(decode((const uint8_t *)"\xc1\xc1", 2), HAMLET_EFORMAT);
	ASSERT_EQ(decode((const uint8_t *)"", 0), HAMLET_EFORMAT);

	TEST_START("a message over WIRE_MAX_MSG is ETOOBIG before parsing");
	ASSERT_EQ(decode(key, WIRE_MAX_MSG + 1), HAMLET_ETOOBIG);

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
