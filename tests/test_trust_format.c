/* Revocations, fork proofs and trust-set item keys: golden bytes, round
 * trips, strict decoding, and every refusal (proto/trust.h). */
#include "entry.h"
#include "error.h"
#include "mp.h"
#include "sig.h"
#include "testlib.h"
#include "trust.h"

#include <errno.h>
#include <sodium.h>

/* 1 Jan 2027 00:00 UTC */
#define T0 1798761600000ull

static char h[8192];

static const char *hex(const uint8_t *p, size_t n)
{
	sodium_bin2hex(h, sizeof(h), p, n);
	return h;
}

/* Pinned bytes; HAMLET_PRINT_GOLDEN=1 prints them instead of checking,
 * for when the format changes on purpose (and SPEC.md with it). */
#define ASSERT_GOLDEN(got, want)                              \
	do {                                                  \
		if (getenv("HAMLET_PRINT_GOLDEN"))            \
			printf("%s: %s\n", #want, (got));     \
		else                                          \
			ASSERT_STREQ((got), (want));          \
	} while (0)

struct key {
	uint8_t pk[32], sk[64];
};

static void key_from(uint8_t fill, struct key *k)
{
	uint8_t seed[32];
	memset(seed, fill, 32);
	ASSERT_OK(sig_keypair_from_seed(seed, k->pk, k->sk));
}

static const uint8_t net_id[32] = { 0x4e, 0x45, 0x54 }; /* "NET" 0... */

/* --- revocations ------------------------------------------------------- */

/* The golden revocation: the root withdraws the village PC's key. */
static void golden_revocation(struct revocation *r, const struct key *root,
			      const struct key *subject)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->network_id, net_id, 32);
	memcpy(r->issuer, root->pk, 32);
	memcpy(r->subject, subject->pk, 32);
	r->issued_ms = T0;
	snprintf(r->reason, sizeof(r->reason), "laptop stolen");
	snprintf(r->feeds[0].scope, sizeof(r->feeds[0].scope),
		 "bk/bach-thong/quang-thuan/na-pai");
	r->feeds[0].seq = 12;
	memset(r->feeds[0].head, 0x44, 32);
	snprintf(r->feeds[1].scope, sizeof(r->feeds[1].scope), "bk/test");
	r->nfeeds = 2;
	memset(r->keep[0], 0x55, 32);
	memset(r->keep[1], 0x66, 32);
	r->nkeep = 2;
}

/*
 * A revocation built by hand, as SPEC.md writes it, not by trust.c:
 * version as given, nfeeds feeds (those of r, then made-up ones), the
 * reason unchecked, signed over the literal domain.
 */
static uint8_t *hand_revoke(const struct revocation *r, uint64_t version,
			    size_t nfeeds, const uint8_t sk[64], size_t *len)
{
	struct mp_writer b, w;
	uint8_t sig[64], zero[32] = { 0 }, *p;
	char scope[32];

	mp_writer_init(&b);
	msgpack_pack_array(&b.pk, 8);
	msgpack_pack_uint64(&b.pk, version);
	mp_pack_bin(&b.pk, r->network_id, 32);
	mp_pack_bin(&b.pk, r->issuer, 32);
	mp_pack_bin(&b.pk, r->subject, 32);
	msgpack_pack_uint64(&b.pk, r->issued_ms);
	mp_pack_str(&b.pk, r->reason);
	msgpack_pack_array(&b.pk, nfeeds);
	for (size_t i = 0; i < nfeeds; i++) {
		msgpack_pack_array(&b.pk, 3);
		if (i < r->nfeeds) {
			mp_pack_str(&b.pk, r->feeds[i].scope);
			msgpack_pack_uint64(&b.pk, r->feeds[i].seq);
			mp_pack_bin(&b.pk, r->feeds[i].head, 32);
		} else {
			snprintf(scope, sizeof(scope), "extra-%zu", i);
			mp_pack_str(&b.pk, scope);
			msgpack_pack_uint64(&b.pk, 0);
			mp_pack_bin(&b.pk, zero, 32);
		}
	}
	msgpack_pack_array(&b.pk, r->nkeep);
	for (size_t i = 0; i < r->nkeep; i++)
		mp_pack_bin(&b.pk, r->keep[i], 32);
	ASSERT_OK(sig_sign("hamlet revoke v1\0", 17,
			   (const uint8_t *)b.sb.data, b.sb.size, sk, sig));
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	mp_pack_bin(&w.pk, b.sb.data, b.sb.size);
	mp_pack_bin(&w.pk, sig, 64);
	mp_writer_destroy(&b);
	p = mp_writer_take(&w, len);
	mp_writer_destroy(&w);
	return p;
}

/* The golden revocation's bytes and id, and below the golden fork proofs':
 * fixed keys, fixed fields, deterministic signatures. If one changes, the
 * format changed, and SPEC.md sections 7 and 8 must say so. */
#define GOLDEN_REVOKE \
	"92c501379801c4204e4554000000000000000000000000000000000000000000" \
	"0000000000000000c4208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94" \
	"121bf3748801b40f6f5cc420ed4928c628d1c2c6eae90338905995612959273a" \
	"5c63f93636c14614ac8737d1cf000001a2ce8bd400ad6c6170746f702073746f" \
	"6c656e9293d920626b2f626163682d74686f6e672f7175616e672d746875616e" \
	"2f6e612d7061690cc42044444444444444444444444444444444444444444444" \
	"4444444444444444444493a7626b2f7465737400c42000000000000000000000" \
	"0000000000000000000000000000000000000000000092c42055555555555555" \
	"55555555555555555555555555555555555555555555555555c4206666666666" \
	"666666666666666666666666666666666666666666666666666666c4403af559" \
	"c0d365e5e5c54fa040758864376308b02a5bd9b3a0caa2eecc289796c18f5a37" \
	"24cd9386252c75969cb121b4e0d99c1c3e4e5fe64b7614b7ce485b7d03"
#define GOLDEN_REVOKE_ID "417e4c8c827335253b7fef66f039c9ce265a9d70bea36e5520f33238ba661b8a"

/* --- entries and fork proofs ------------------------------------------- */

struct signed_entry {
	struct entry e;
	uint8_t *env;
	size_t len;
	uint8_t sig[64];
	uint8_t id[32];
};

/* An entry of author's feed "bk/bt/qt/na-pai" at seq, after prev (NULL:
 * none, for seq 1), putting record rid. */
static void make_entry(struct signed_entry *s, const struct key *author,
		       uint64_t seq, const uint8_t *prev, const char *rid)
{
	struct entry *e = &s->e;
	memset(e, 0, sizeof(*e));
	memcpy(e->network_id, net_id, 32);
	memcpy(e->author, author->pk, 32);
	strcpy(e->scope, "bk/bt/qt/na-pai");
	e->seq = seq;
	if (prev) {
		e->has_prev = 1;
		memcpy(e->prev, prev, 32);
	}
	e->hlc = (T0 << 16) | seq;
	e->kind = ENTRY_PUT;
	strcpy(e->collection, "health_profile");
	snprintf(e->record_id, sizeof(e->record_id), "%s", rid);
	e->has_body = 1;
	memset(e->body_hash, 0x33, 32);
	e->body_len = 40;
	ASSERT_OK(entry_encode(e, &s->env, &s->len));
	ASSERT_OK(entry_sign(s->env, s->len, author->sk, s->sig));
	entry_id(s->env, s->len, s->id);
}

/* A fork proof built by hand: [version, env1, sig1, env2, sig2]. */
static uint8_t *hand_fork(uint64_t version, const struct signed_entry *x,
			  const struct signed_entry *y, size_t *len)
{
	struct mp_writer w;
	uint8_t *p;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 5);
	msgpack_pack_uint64(&w.pk, version);
	mp_pack_bin(&w.pk, x->env, x->len);
	mp_pack_bin(&w.pk, x->sig, 64);
	mp_pack_bin(&w.pk, y->env, y->len);
	mp_pack_bin(&w.pk, y->sig, 64);
	p = mp_writer_take(&w, len);
	mp_writer_destroy(&w);
	return p;
}

static int fork_enc(const struct signed_entry *x,
		    const struct signed_entry *y, uint8_t **p, size_t *n)
{
	return fork_proof_encode(x->env, x->len, x->sig, y->env, y->len,
				 y->sig, p, n);
}

#define GOLDEN_FORK_SAME \
	"9501c4bb9d01c4204e4554000000000000000000000000000000000000000000" \
	"0000000000000000c420ed4928c628d1c2c6eae90338905995612959273a5c63" \
	"f93636c14614ac8737d1af626b2f62742f71742f6e612d70616902c4205341f0" \
	"d7b7829e3fd0dc58ce73b52ffeba70717c6098adfe34004fac1103305ecf01a2" \
	"ce8bd400000201ae6865616c74685f70726f66696c65a448502d3290c4203333" \
	"33333333333333333333333333333333333333333333333333333333333328c4" \
	"40c0e3112e9e3ae8768c785eb23493d39f7e3a03da5afa50474fc9435ce53451" \
	"979ba47ccd5f4bd657e3875296398775afe0a6ff07abb2701154d6ff6a6dfc03" \
	"0ac4bc9d01c4204e455400000000000000000000000000000000000000000000" \
	"00000000000000c420ed4928c628d1c2c6eae90338905995612959273a5c63f9" \
	"3636c14614ac8737d1af626b2f62742f71742f6e612d70616902c4205341f0d7" \
	"b7829e3fd0dc58ce73b52ffeba70717c6098adfe34004fac1103305ecf01a2ce" \
	"8bd400000201ae6865616c74685f70726f66696c65a548502d326290c4203333" \
	"33333333333333333333333333333333333333333333333333333333333328c4" \
	"4027035543f7be36ab55e9b58bb67281d049d05495debf3094f43d0a75fd1806" \
	"73b730915c608c428b404ba4e9c98ba4d99d637b9bfeb437c645941f6e646327" \
	"0d"
#define GOLDEN_FORK_SAME_ID "871461a5f1ebe138f5d59c958091710d25387774c5f2e98408d34cc8e4c29512"
#define GOLDEN_FORK_NEXT \
	"9501c4bb9d01c4204e4554000000000000000000000000000000000000000000" \
	"0000000000000000c420ed4928c628d1c2c6eae90338905995612959273a5c63" \
	"f93636c14614ac8737d1af626b2f62742f71742f6e612d70616902c4205341f0" \
	"d7b7829e3fd0dc58ce73b52ffeba70717c6098adfe34004fac1103305ecf01a2" \
	"ce8bd400000201ae6865616c74685f70726f66696c65a448502d3290c4203333" \
	"33333333333333333333333333333333333333333333333333333333333328c4" \
	"40c0e3112e9e3ae8768c785eb23493d39f7e3a03da5afa50474fc9435ce53451" \
	"979ba47ccd5f4bd657e3875296398775afe0a6ff07abb2701154d6ff6a6dfc03" \
	"0ac4bc9d01c4204e455400000000000000000000000000000000000000000000" \
	"00000000000000c420ed4928c628d1c2c6eae90338905995612959273a5c63f9" \
	"3636c14614ac8737d1af626b2f62742f71742f6e612d70616903c4206e903b5a" \
	"7310485d578d92d2c6dfb0124d9e4ee4cfddb2a24b5724b4922c35c1cf01a2ce" \
	"8bd400000301ae6865616c74685f70726f66696c65a548502d337890c4203333" \
	"33333333333333333333333333333333333333333333333333333333333328c4" \
	"4026d14b624344c05dccd25f5ba6e5a93a427e42563c5ec959514de03511f7fe" \
	"bdb80a2b335b06314be088a60d46635201d6e29a089be75f8770e6efe1817471" \
	"04"
#define GOLDEN_FORK_NEXT_ID "e2fc0212604c9782fa6caff827320a727de086b1b8e98644b5705bc5b7986e64"

/* --- scope moves -------------------------------------------------------- */

/* The golden scope move: the root merges commune bac-ha into si-ma-cai.
 * If its bytes change, the format changed: SPEC.md section 10 too. */
#define GOLDEN_MOVE \
	"92c4759701c4204e455400000000000000000000000000000000000000000000" \
	"00000000000000c4208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d9412" \
	"1bf3748801b40f6f5ca96c632f6261632d6861ac6c632f73692d6d612d636169" \
	"cf000001a2ce8bd400ae6d6572676572206f662032303235c4408a7c28eb06bc" \
	"1f09958abad13ea003ad5ffab192fb1f135a2d56cbb2949ad45850b06c76aedc" \
	"0851e22bbc103f80ef611aa911c565a9491868fb2614e3476a0c"
#define GOLDEN_MOVE_ID "36dd4a927add407a71ef750d275ade39c5d1b0ab3a152992b13e3b1ea8fda727"

static void golden_move(struct scope_move *m, const struct key *root)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->network_id, net_id, 32);
	memcpy(m->issuer, root->pk, 32);
	snprintf(m->from, sizeof(m->from), "lc/bac-ha");
	snprintf(m->to, sizeof(m->to), "lc/si-ma-cai");
	m->at_ms = T0;
	snprintf(m->reason, sizeof(m->reason), "merger of 2025");
}

/* A signed move built by hand, field by field, as SPEC.md says:
 * [version, network, issuer, from, to, at, reason] (nfields of them). */
static uint8_t *hand_move(const struct scope_move *m, uint64_t version,
			  int nfields, const uint8_t sk[64], size_t *len)
{
	struct mp_writer b, w;
	uint8_t sig[64];
	uint8_t *p;
	mp_writer_init(&b);
	msgpack_pack_array(&b.pk, (size_t)nfields);
	msgpack_pack_uint64(&b.pk, version);
	mp_pack_bin(&b.pk, m->network_id, 32);
	mp_pack_bin(&b.pk, m->issuer, 32);
	mp_pack_str(&b.pk, m->from);
	mp_pack_str(&b.pk, m->to);
	msgpack_pack_uint64(&b.pk, m->at_ms);
	if (nfields > 6)
		mp_pack_str(&b.pk, m->reason);
	for (int i = 7; i < nfields; i++)
		msgpack_pack_nil(&b.pk);
	ASSERT_OK(sig_sign("hamlet move v1\0", 15,
			   (const uint8_t *)b.sb.data, b.sb.size, sk, sig));
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	mp_pack_bin(&w.pk, b.sb.data, b.sb.size);
	mp_pack_bin(&w.pk, sig, 64);
	p = mp_writer_take(&w, len);
	mp_writer_destroy(&w);
	mp_writer_destroy(&b);
	return p;
}

static void test_moves(const struct key *root, const struct key *other)
{
	static struct scope_move m, d;
	uint8_t *p, *q, id[32], key[TRUST_KEY_LEN];
	size_t n, qn;
	char why[256];

	TEST_START("the golden scope move encodes to the pinned bytes, and its id is pinned");
	golden_move(&m, root);
	ASSERT_OK(move_sign(&m, root->sk, &p, &n));
	ASSERT_GOLDEN(hex(p, n), GOLDEN_MOVE);
	ASSERT_OK(move_decode(p, n, &d, id, why, sizeof(why)));
	ASSERT_GOLDEN(hex(id, 32), GOLDEN_MOVE_ID);
	ASSERT_MEMEQ(&d, &m, sizeof(m));

	TEST_START("the encoding is SPEC.md's, signed over \"hamlet move v1\\0\"");
	q = hand_move(&m, MOVE_VERSION, 7, root->sk, &qn);
	ASSERT_EQ(qn, n);
	ASSERT_MEMEQ(q, p, n);
	free(q);

	TEST_START("a move is a trust item of kind 4, keyed by its id");
	ASSERT_OK(trust_item_key(TRUST_MOVE, p, n, key, why, sizeof(why)));
	ASSERT_EQ(key[0], TRUST_MOVE);
	ASSERT_MEMEQ(key + 1, id, 32);
	ASSERT_STREQ(trust_kind_name(TRUST_MOVE), "scope move");
	ASSERT_TRUE(trust_item_key(TRUST_REVOKE, p, n, key, why,
				   sizeof(why)) < 0);

	TEST_START("each byte flipped or cut is refused");
	for (size_t i = 0; i < n; i++) {
		uint8_t t[MOVE_MAX_BYTES];
		memcpy(t, p, n);
		t[i] ^= 0x01;
		ASSERT_TRUE(move_decode(t, n, &d, NULL, NULL, 0) < 0);
		ASSERT_TRUE(move_decode(p, i, &d, NULL, NULL, 0) < 0);
	}

	TEST_START("a signature by another key is ESIG; trailing bytes, other versions, other field counts are refused");
	{
		uint8_t t[MOVE_MAX_BYTES + 1];
		memcpy(t, p, n);
		t[n - 1] ^= 0x80;
		ASSERT_EQ(move_decode(t, n, &d, NULL, why, sizeof(why)),
			  HAMLET_ESIG);
		ASSERT_TRUE(strstr(why, "signature") != NULL);
		memcpy(t, p, n);
		t[n] = 0xc0;
		ASSERT_EQ(move_decode(t, n + 1, &d, NULL, NULL, 0),
			  HAMLET_ETRAILING);
		q = hand_move(&m, 2, 7, root->sk, &qn);
		ASSERT_EQ(move_decode(q, qn, &d, NULL, NULL, 0),
			  HAMLET_EVERSION);
		free(q);
		q = hand_move(&m, MOVE_VERSION, 8, root->sk, &qn);
		ASSERT_TRUE(move_decode(q, qn, &d, NULL, NULL, 0) < 0);
		free(q);
		q = hand_move(&m, MOVE_VERSION, 6, root->sk, &qn);
		ASSERT_TRUE(move_decode(q, qn, &d, NULL, NULL, 0) < 0);
		free(q);
		/* signed by a key other than the issuer it names */
		q = hand_move(&m, MOVE_VERSION, 7, other->sk, &qn);
		ASSERT_EQ(move_decode(q, qn, &d, NULL, NULL, 0), HAMLET_ESIG);
		free(q);
	}

	TEST_START("malformed scopes, a move onto itself or under itself, a control character are refused by name");
	{
		static const char *bad[][2] = {
			{ "LC/bac-ha", "lc/si-ma-cai" },
			{ "lc/bac-ha", "lc//x" },
			{ "", "lc/x" },
			{ "lc/bac-ha", "lc/bac-ha" },
			{ "lc/bac-ha", "lc/bac-ha/na-hoi" },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			golden_move(&m, root);
			snprintf(m.from, sizeof(m.from), "%s", bad[i][0]);
			snprintf(m.to, sizeof(m.to), "%s", bad[i][1]);
			ASSERT_EQ(move_check_fields(&m, why, sizeof(why)),
				  HAMLET_EFORMAT);
			ASSERT_TRUE(move_sign(&m, root->sk, &q, &qn) < 0);
			/* and a hand-signed one does not decode */
			q = hand_move(&m, MOVE_VERSION, 7, root->sk, &qn);
			ASSERT_EQ(move_decode(q, qn, &d, NULL, why,
					      sizeof(why)),
				  HAMLET_EFORMAT);
			ASSERT_TRUE(strstr(why, i < 3 ? "not a scope"
						      : "onto itself") !=
				    NULL);
			free(q);
		}
		golden_move(&m, root);
		snprintf(m.reason, sizeof(m.reason), "a\nb");
		ASSERT_EQ(move_check_fields(&m, why, sizeof(why)),
			  HAMLET_EFORMAT);
		ASSERT_TRUE(strstr(why, "control") != NULL);
		/* a move to a scope above it is a promotion, not a cycle */
		golden_move(&m, root);
		snprintf(m.from, sizeof(m.from), "lc/bac-ha/na-hoi");
		snprintf(m.to, sizeof(m.to), "lc/bac-ha");
		ASSERT_OK(move_check_fields(&m, why, sizeof(why)));
	}
	free(p);
}

int main(void)
{
	static struct revocation r, d;
	static struct fork_proof fp;
	struct key root, admin, village, other;
	uint8_t *p, *q, id[32], key[TRUST_KEY_LEN];
	size_t n, qn;
	char why[256];

	if (sodium_init() < 0)
		return 1;
	key_from(0x01, &root);
	key_from(0x02, &admin);
	key_from(0x03, &village);
	key_from(0x04, &other);

	/* --- revocations ------------------------------------------------ */

	TEST_START("the golden revocation encodes to the pinned bytes, and its id is pinned");
	golden_revocation(&r, &root, &village);
	ASSERT_OK(revoke_sign(&r, root.sk, &p, &n));
	ASSERT_GOLDEN(hex(p, n), GOLDEN_REVOKE);
	ASSERT_OK(revoke_decode(p, n, &d, id));
	ASSERT_GOLDEN(hex(id, 32), GOLDEN_REVOKE_ID);

	TEST_START("its id is BLAKE2b-256 of body || signature");
	{
		struct mp_doc doc;
		const msgpack_object *a;
		crypto_generichash_state st;
		uint8_t want[32];
		ASSERT_OK(mp_doc_parse(&doc, p, n, 4));
		ASSERT_OK(mp_get_array(doc.root, 2, 0, &a, NULL));
		crypto_generichash_init(&st, NULL, 0, 32);
		crypto_generichash_update(&st, (const uint8_t *)a[0].via.bin.ptr,
					  a[0].via.bin.size);
		crypto_generichash_update(&st, (const uint8_t *)a[1].via.bin.ptr,
					  a[1].via.bin.size);
		crypto_generichash_final(&st, want, 32);
		ASSERT_MEMEQ(id, want, 32);
		mp_doc_close(&doc);
	}

	TEST_START("decoding gives back every field");
	ASSERT_MEMEQ(&d, &r, sizeof(r));

	TEST_START("the encoding is SPEC.md's, signed over \"hamlet revoke v1\\0\"");
	q = hand_revoke(&r, REVOKE_VERSION, r.nfeeds, root.sk, &qn);
	ASSERT_EQ(qn, n);
	ASSERT_MEMEQ(q, p, n);
	free(q);

	TEST_START("each byte flipped or cut is refused, never half read");
	for (size_t i = 0; i < n; i++) {
		uint8_t t[REVOKE_MAX_BYTES];
		memcpy(t, p, n);
		t[i] ^= 0x01;
		ASSERT_TRUE(revoke_decode(t, n, &d, NULL) < 0);
		ASSERT_TRUE(revoke_decode(p, i, &d, NULL) < 0);
	}

	TEST_START("a tampered signature is ESIG, and leaves nothing decoded");
	{
		uint8_t t[REVOKE_MAX_BYTES];
		memcpy(t, p, n);
		t[n - 1] ^= 0x80;
		ASSERT_EQ(revoke_decode(t, n, &d, NULL), HAMLET_ESIG);
		ASSERT_EQ(d.nfeeds, 0);
		ASSERT_EQ(d.issued_ms, 0);
	}

	TEST_START("a trailing byte is ETRAILING");
	{
		uint8_t t[REVOKE_MAX_BYTES + 1];
		memcpy(t, p, n);
		t[n] = 0xc0;
		ASSERT_EQ(revoke_decode(t, n + 1, &d, NULL), HAMLET_ETRAILING);
	}
	free(p);

	TEST_START("an administrator's revocation with no feeds and no kept certificates round-trips");
	memset(&r, 0, sizeof(r));
	memcpy(r.network_id, net_id, 32);
	memcpy(r.issuer, admin.pk, 32);
	memcpy(r.subject, other.pk, 32);
	r.issued_ms = T0 + 1;
	ASSERT_OK(revoke_sign(&r, admin.sk, &p, &n));
	ASSERT_OK(revoke_decode(p, n, &d, NULL));
	ASSERT_MEMEQ(&d, &r, sizeof(r));
	free(p);

	TEST_START("revoke_sign refuses a key other than the issuer's");
	golden_revocation(&r, &root, &village);
	ASSERT_EQ(revoke_sign(&r, admin.sk, &p, &n), -EINVAL);

	TEST_START("another version is EVERSION, whatever follows it");
	q = hand_revoke(&r, 2, r.nfeeds, root.sk, &qn);
	ASSERT_EQ(revoke_decode(q, qn, &d, NULL), HAMLET_EVERSION);
	free(q);

	TEST_START("more than REVOKE_MAX_FEEDS feeds are refused when signing and decoding");
	r.nfeeds = REVOKE_MAX_FEEDS + 1;
	ASSERT_EQ(revoke_sign(&r, root.sk, &p, &n), HAMLET_EFORMAT);
	golden_revocation(&r, &root, &village);
	q = hand_revoke(&r, REVOKE_VERSION, REVOKE_MAX_FEEDS + 1, root.sk, &qn);
	ASSERT_EQ(revoke_decode(q, qn, &d, NULL), HAMLET_ETOOBIG);
	free(q);
	q = hand_revoke(&r, REVOKE_VERSION, REVOKE_MAX_FEEDS, root.sk, &qn);
	ASSERT_OK(revoke_decode(q, qn, &d, NULL));
	ASSERT_EQ(d.nfeeds, REVOKE_MAX_FEEDS);
	free(q);

	TEST_START("a control character in the reason is refused when signing and decoding");
	snprintf(r.reason, sizeof(r.reason), "stolen\nfrom the office");
	ASSERT_EQ(revoke_sign(&r, root.sk, &p, &n), HAMLET_EFORMAT);
	ASSERT_EQ(revoke_check_fields(&r, why, sizeof(why)), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "control character") != NULL);
	q = hand_revoke(&r, REVOKE_VERSION, r.nfeeds, root.sk, &qn);
	ASSERT_EQ(revoke_decode(q, qn, &d, NULL), HAMLET_EFORMAT);
	free(q);
	golden_revocation(&r, &root, &village);

	TEST_START("a feed listed twice, a bad scope, a head at seq 0, a seq over 2^53 are refused");
	strcpy(r.feeds[1].scope, r.feeds[0].scope);
	ASSERT_EQ(revoke_check_fields(&r, why, sizeof(why)), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "listed twice") != NULL);
	q = hand_revoke(&r, REVOKE_VERSION, r.nfeeds, root.sk, &qn);
	ASSERT_EQ(revoke_decode(q, qn, &d, NULL), HAMLET_EFORMAT);
	free(q);
	golden_revocation(&r, &root, &village);
	strcpy(r.feeds[1].scope, "Bad/Scope");
	ASSERT_EQ(revoke_sign(&r, root.sk, &p, &n), HAMLET_EFORMAT);
	q = hand_revoke(&r, REVOKE_VERSION, r.nfeeds, root.sk, &qn);
	ASSERT_EQ(revoke_decode(q, qn, &d, NULL), HAMLET_EFORMAT);
	free(q);
	golden_revocation(&r, &root, &village);
	r.feeds[1].head[31] = 1;
	ASSERT_EQ(revoke_sign(&r, root.sk, &p, &n), HAMLET_EFORMAT);
	q = hand_revoke(&r, REVOKE_VERSION, r.nfeeds, root.sk, &qn);
	ASSERT_EQ(revoke_decode(q, qn, &d, NULL), HAMLET_EFORMAT);
	free(q);
	golden_revocation(&r, &root, &village);
	r.feeds[0].seq = ENTRY_MAX_SEQ + 1;
	ASSERT_EQ(revoke_sign(&r, root.sk, &p, &n), HAMLET_EFORMAT);
	q = hand_revoke(&r, REVOKE_VERSION, r.nfeeds, root.sk, &qn);
	ASSERT_EQ(revoke_decode(q, qn, &d, NULL), HAMLET_ETOOBIG);
	free(q);

	TEST_START("a kept certificate listed twice is refused");
	golden_revocation(&r, &root, &village);
	memcpy(r.keep[1], r.keep[0], 32);
	ASSERT_EQ(revoke_sign(&r, root.sk, &p, &n), HAMLET_EFORMAT);
	q = hand_revoke(&r, REVOKE_VERSION, r.nfeeds, root.sk, &qn);
	ASSERT_EQ(revoke_decode(q, qn, &d, NULL), HAMLET_EFORMAT);
	free(q);

	TEST_START("the largest revocation fits REVOKE_MAX_BYTES");
	golden_revocation(&r, &root, &village);
	memset(r.reason, 'x', REVOKE_MAX_REASON);
	r.reason[REVOKE_MAX_REASON] = 0;
	for (size_t i = 0; i < REVOKE_MAX_FEEDS; i++) {
		/* 128-byte scopes, each its own */
		memset(r.feeds[i].scope, 'a', CERT_SCOPE_MAX);
		r.feeds[i].scope[CERT_SCOPE_MAX] = 0;
		for (size_t k = 0; k < 4; k++)
			r.feeds[i].scope[32 * k + 31] = k == 3 ? 'z' : '/';
		snprintf(r.feeds[i].scope + CERT_SCOPE_MAX - 3, 4, "%03zu", i);
		r.feeds[i].seq = ENTRY_MAX_SEQ;
		memset(r.feeds[i].head, 0x77, 32);
	}
	r.nfeeds = REVOKE_MAX_FEEDS;
	for (size_t i = 0; i < REVOKE_MAX_KEEP; i++) {
		memset(r.keep[i], 0x88, 32);
		r.keep[i][0] = (uint8_t)i;
	}
	r.nkeep = REVOKE_MAX_KEEP;
	ASSERT_OK(revoke_sign(&r, root.sk, &p, &n));
	ASSERT_TRUE(n <= REVOKE_MAX_BYTES);
	ASSERT_OK(revoke_decode(p, n, &d, NULL));
	ASSERT_MEMEQ(&d, &r, sizeof(r));
	free(p);

	/* --- fork proofs ------------------------------------------------ */

	struct signed_entry e1, e2a, e2b, e3, e3x, f2, g2;
	uint8_t p1[32];
	make_entry(&e1, &village, 1, NULL, "HP-1");
	make_entry(&e2a, &village, 2, e1.id, "HP-2");
	make_entry(&e2b, &village, 2, e1.id, "HP-2b");
	make_entry(&e3, &village, 3, e2a.id, "HP-3");
	/* seq 3 after a seq 2 other than e2a */
	make_entry(&e3x, &village, 3, e2b.id, "HP-3x");
	make_entry(&f2, &other, 2, e1.id, "HP-2"); /* another author */
	memset(p1, 0x99, 32);
	make_entry(&g2, &village, 2, p1, "HP-2"); /* seq 2 not after e1 */

	TEST_START("two entries at one seq: the golden proof, in id order whatever the order given");
	{
		const struct signed_entry *lo, *hi;
		ASSERT_OK(fork_enc(&e2a, &e2b, &p, &n));
		ASSERT_OK(fork_enc(&e2b, &e2a, &q, &qn));
		ASSERT_EQ(qn, n);
		ASSERT_MEMEQ(q, p, n);
		free(q);
		ASSERT_GOLDEN(hex(p, n), GOLDEN_FORK_SAME);
		ASSERT_OK(fork_proof_decode(p, n, &fp, id));
		ASSERT_GOLDEN(hex(id, 32), GOLDEN_FORK_SAME_ID);
		{
			uint8_t want[32];
			crypto_generichash_blake2b(want, 32, p, n, NULL, 0);
			ASSERT_MEMEQ(id, want, 32);
		}
		lo = memcmp(e2a.id, e2b.id, 32) < 0 ? &e2a : &e2b;
		hi = lo == &e2a ? &e2b : &e2a;
		ASSERT_EQ(fp.at, 2);
		ASSERT_MEMEQ(&fp.a, &lo->e, sizeof(fp.a));
		ASSERT_MEMEQ(&fp.b, &hi->e, sizeof(fp.b));
		ASSERT_EQ(fp.env_a_len, lo->len);
		ASSERT_MEMEQ(fp.env_a, lo->env, lo->len);
		ASSERT_MEMEQ(fp.sig_b, hi->sig, 64);
		ASSERT_TRUE(fp.env_a >= p && fp.sig_b + 64 <= p + n);

		TEST_START("a proof at one seq not in id order is EFORMAT");
		q = hand_fork(FORKPROOF_VERSION, hi, lo, &qn);
		ASSERT_EQ(fork_proof_decode(q, qn, &fp, NULL), HAMLET_EFORMAT);
		free(q);
		q = hand_fork(FORKPROOF_VERSION, lo, hi, &qn);
		ASSERT_EQ(qn, n);
		ASSERT_MEMEQ(q, p, n);
		free(q);
	}

	TEST_START("each byte flipped or cut is refused, never half read");
	for (size_t i = 0; i < n; i++) {
		uint8_t t[FORKPROOF_MAX_BYTES];
		memcpy(t, p, n);
		t[i] ^= 0x01;
		ASSERT_TRUE(fork_proof_decode(t, n, &fp, NULL) < 0);
		ASSERT_TRUE(fork_proof_decode(p, i, &fp, NULL) < 0);
	}

	TEST_START("a trailing byte is ETRAILING");
	{
		uint8_t t[FORKPROOF_MAX_BYTES + 1];
		memcpy(t, p, n);
		t[n] = 0xc0;
		ASSERT_EQ(fork_proof_decode(t, n + 1, &fp, NULL),
			  HAMLET_ETRAILING);
	}
	free(p);

	TEST_START("an entry whose prev is not the entry before it: the golden proof, that one first");
	ASSERT_OK(fork_enc(&e3x, &e2a, &p, &n));
	ASSERT_OK(fork_enc(&e2a, &e3x, &q, &qn));
	ASSERT_EQ(qn, n);
	ASSERT_MEMEQ(q, p, n);
	free(q);
	ASSERT_GOLDEN(hex(p, n), GOLDEN_FORK_NEXT);
	ASSERT_OK(fork_proof_decode(p, n, &fp, id));
	ASSERT_GOLDEN(hex(id, 32), GOLDEN_FORK_NEXT_ID);
	ASSERT_EQ(fp.at, 2);
	ASSERT_MEMEQ(&fp.a, &e2a.e, sizeof(fp.a));
	ASSERT_MEMEQ(&fp.b, &e3x.e, sizeof(fp.b));

	TEST_START("that proof with the later entry first is EFORMAT");
	q = hand_fork(FORKPROOF_VERSION, &e3x, &e2a, &qn);
	ASSERT_EQ(fork_proof_decode(q, qn, &fp, NULL), HAMLET_EFORMAT);
	free(q);

	TEST_START("trust_item_key names a fork proof by kind 3 and its id");
	ASSERT_OK(trust_item_key(TRUST_FORK, p, n, key, why, sizeof(why)));
	ASSERT_EQ(key[0], TRUST_FORK);
	ASSERT_MEMEQ(key + 1, id, 32);
	ASSERT_TRUE(trust_item_key(TRUST_REVOKE, p, n, key, why,
				   sizeof(why)) < 0);
	ASSERT_TRUE(trust_item_key(TRUST_CERT, p, n, key, why, sizeof(why)) <
		    0);
	free(p);

	TEST_START("seq 1 and a seq 2 that does not follow it are a proof at 1");
	ASSERT_OK(fork_enc(&g2, &e1, &p, &n));
	ASSERT_OK(fork_proof_decode(p, n, &fp, NULL));
	ASSERT_EQ(fp.at, 1);
	ASSERT_EQ(fp.a.seq, 1);
	free(p);

	TEST_START("two entries that are not a fork are refused");
	ASSERT_EQ(fork_enc(&e1, &e2a, &p, &n), HAMLET_EFORMAT); /* a chain */
	ASSERT_EQ(fork_enc(&e3, &e2a, &p, &n), HAMLET_EFORMAT);
	ASSERT_EQ(fork_enc(&e2a, &e2a, &p, &n), HAMLET_EFORMAT); /* one entry */
	ASSERT_EQ(fork_enc(&e1, &e3x, &p, &n), HAMLET_EFORMAT); /* a gap */
	q = hand_fork(FORKPROOF_VERSION, &e1, &e2a, &qn);
	ASSERT_EQ(fork_proof_decode(q, qn, &fp, NULL), HAMLET_EFORMAT);
	free(q);
	q = hand_fork(FORKPROOF_VERSION, &e2a, &e2a, &qn);
	ASSERT_EQ(fork_proof_decode(q, qn, &fp, NULL), HAMLET_EFORMAT);
	free(q);
	q = hand_fork(FORKPROOF_VERSION, &e1, &e3x, &qn);
	ASSERT_EQ(fork_proof_decode(q, qn, &fp, NULL), HAMLET_EFORMAT);
	free(q);

	TEST_START("entries of two authors are not a fork");
	ASSERT_EQ(fork_enc(&e2a, &f2, &p, &n), HAMLET_EFORMAT);
	q = hand_fork(FORKPROOF_VERSION, &e2a, &f2, &qn);
	ASSERT_EQ(fork_proof_decode(q, qn, &fp, NULL), HAMLET_EFORMAT);
	free(q);
	q = hand_fork(FORKPROOF_VERSION, &f2, &e2a, &qn);
	ASSERT_EQ(fork_proof_decode(q, qn, &fp, NULL), HAMLET_EFORMAT);
	free(q);

	TEST_START("entries of two scopes, or two networks, are not a fork");
	{
		struct signed_entry s2, n2;
		s2.e = e2b.e;
		strcpy(s2.e.scope, "bk/bt/qt/khuoi-ma");
		ASSERT_OK(entry_encode(&s2.e, &s2.env, &s2.len));
		ASSERT_OK(entry_sign(s2.env, s2.len, village.sk, s2.sig));
		ASSERT_EQ(fork_enc(&e2a, &s2, &p, &n), HAMLET_EFORMAT);
		n2.e = e2b.e;
		n2.e.network_id[31] ^= 1;
		ASSERT_OK(entry_encode(&n2.e, &n2.env, &n2.len));
		ASSERT_OK(entry_sign(n2.env, n2.len, village.sk, n2.sig));
		ASSERT_EQ(fork_enc(&e2a, &n2, &p, &n), HAMLET_EFORMAT);
		free(s2.env);
		free(n2.env);
	}

	TEST_START("a bad signature on either entry is ESIG");
	{
		struct signed_entry bad = e2b;
		bad.sig[0] ^= 1;
		ASSERT_EQ(fork_enc(&e2a, &bad, &p, &n), HAMLET_ESIG);
		ASSERT_EQ(fork_enc(&bad, &e2a, &p, &n), HAMLET_ESIG);
		q = memcmp(e2a.id, e2b.id, 32) < 0
			    ? hand_fork(FORKPROOF_VERSION, &e2a, &bad, &qn)
			    : hand_fork(FORKPROOF_VERSION, &bad, &e2a, &qn);
		ASSERT_EQ(fork_proof_decode(q, qn, &fp, NULL), HAMLET_ESIG);
		free(q);
		/* signed by another key than the author's */
		ASSERT_OK(entry_sign(bad.env, bad.len, other.sk, bad.sig));
		ASSERT_EQ(fork_enc(&e2a, &bad, &p, &n), HAMLET_ESIG);
	}

	TEST_START("another version is EVERSION");
	q = memcmp(e2a.id, e2b.id, 32) < 0
		    ? hand_fork(2, &e2a, &e2b, &qn)
		    : hand_fork(2, &e2b, &e2a, &qn);
	ASSERT_EQ(fork_proof_decode(q, qn, &fp, NULL), HAMLET_EVERSION);
	free(q);

	TEST_START("a proof over FORKPROOF_MAX_BYTES is ETOOBIG before parsing");
	{
		static uint8_t big[FORKPROOF_MAX_BYTES + 1];
		ASSERT_EQ(fork_proof_decode(big, sizeof(big), &fp, NULL),
			  HAMLET_ETOOBIG);
	}

	/* --- trust items ------------------------------------------------ */

	TEST_START("trust_item_key names a revocation and a certificate by kind and id");
	golden_revocation(&r, &root, &village);
	ASSERT_OK(revoke_sign(&r, root.sk, &p, &n));
	ASSERT_OK(revoke_decode(p, n, &d, id));
	ASSERT_OK(trust_item_key(TRUST_REVOKE, p, n, key, why, sizeof(why)));
	ASSERT_EQ(key[0], TRUST_REVOKE);
	ASSERT_MEMEQ(key + 1, id, 32);
	ASSERT_TRUE(trust_item_key(TRUST_CERT, p, n, key, why, sizeof(why)) <
		    0);
	ASSERT_TRUE(strstr(why, "certificate") != NULL);
	p[n - 1] ^= 1;
	ASSERT_EQ(trust_item_key(TRUST_REVOKE, p, n, key, why, sizeof(why)),
		  HAMLET_ESIG);
	ASSERT_TRUE(strstr(why, "signature") != NULL);
	free(p);
	{
		struct cert c;
		memset(&c, 0, sizeof(c));
		memcpy(c.network_id, net_id, 32);
		memcpy(c.issuer, root.pk, 32);
		memcpy(c.subject, village.pk, 32);
		strcpy(c.name, "Na Pai");
		c.role = CERT_VILLAGE;
		c.not_before_ms = T0;
		ASSERT_OK(cert_sign(&c, root.sk, &p, &n));
		ASSERT_OK(cert_decode(p, n, &c, id));
		ASSERT_OK(trust_item_key(TRUST_CERT, p, n, key, NULL, 0));
		ASSERT_EQ(key[0], TRUST_CERT);
		ASSERT_MEMEQ(key + 1, id, 32);
		free(p);
	}

	TEST_START("an unknown kind is EFORMAT, an item over TRUST_ITEM_MAX ETOOBIG");
	ASSERT_EQ(trust_item_key(0, (const uint8_t *)"", 0, key, why,
				 sizeof(why)),
		  HAMLET_EFORMAT);
	ASSERT_EQ(trust_item_key(5, (const uint8_t *)"", 0, key, why,
				 sizeof(why)),
		  HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "kind 5") != NULL);
	{
		static uint8_t big[TRUST_ITEM_MAX + 1];
		ASSERT_EQ(trust_item_key(TRUST_REVOKE, big, sizeof(big), key,
					 why, sizeof(why)),
			  HAMLET_ETOOBIG);
	}
	ASSERT_STREQ(trust_kind_name(TRUST_CERT), "certificate");
	ASSERT_STREQ(trust_kind_name(TRUST_REVOKE), "revocation");
	ASSERT_STREQ(trust_kind_name(TRUST_FORK), "fork proof");
	ASSERT_STREQ(trust_kind_name(9), "?");

	test_moves(&root, &other);

	free(e1.env);
	free(e2a.env);
	free(e2b.env);
	free(e3.env);
	free(e3x.env);
	free(f2.env);
	free(g2.env);
	TEST_DONE();
}
