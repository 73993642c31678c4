/* Certificates and chains: golden bytes, strict decoding, the chain rules
 * (root, delegation, no widening, dates, network), tampering. */
#include "cert.h"
#include "error.h"
#include "mp.h"
#include "sig.h"
#include "testlib.h"

#include <sodium.h>

/* 1 Jan 2027 00:00 UTC, and a day */
#define T0 1798761600000ull
#define DAY 86400000ull

static void hex(const uint8_t *p, size_t n, char *out)
{
	sodium_bin2hex(out, n * 2 + 1, p, n);
}

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

static void grant(struct cert *c, const struct key *issuer,
		  const struct key *subject, const char *name, int role,
		  const char *read, const char *write, int delegate)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->network_id, net_id, 32);
	memcpy(c->issuer, issuer->pk, 32);
	memcpy(c->subject, subject->pk, 32);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->role = role;
	if (read) {
		snprintf(c->read[0], sizeof(c->read[0]), "%s", read);
		c->nread = 1;
	}
	if (write) {
		snprintf(c->write[0], sizeof(c->write[0]), "%s", write);
		c->nwrite = 1;
	}
	c->not_before_ms = T0;
	c->expires_ms = T0 + 365 * DAY;
	c->delegate = delegate;
	memset(c->serial, name[0], 16);
}

/* Sign c by issuer and append it to the chain being built. */
static void link_(struct cert_chain *ch, uint8_t **bufs, size_t *lens,
		  const struct cert *c, const struct key *issuer)
{
	ASSERT_OK(cert_sign(c, issuer->sk, &bufs[ch->n], &lens[ch->n]));
	ASSERT_OK(cert_decode(bufs[ch->n], lens[ch->n], &ch->c[ch->n],
			      ch->id[ch->n]));
	ch->n++;
}

static int check(const struct cert_chain *ch, const struct key *root,
		 uint64_t now, char *why)
{
	int r = cert_chain_check(ch, net_id, root->pk, now, why, 200);
	if (r < 0)
		fprintf(stderr, "   refused: %s\n", why);
	return r;
}

/* A certificate body that cert_sign() would never write: the golden
 * grant's fields with one changed, signed by issuer. */
struct odd {
	const char *name;
	int role, nread, extra;
	size_t serial_len;
	uint64_t not_before, expires;
};

static uint8_t *odd_cert(const struct odd *o, const struct key *issuer,
			 const struct key *subject, size_t *ret_len)
{
	struct mp_writer b, w;
	uint8_t serial[16], sig[64], *p;

	memset(serial, 0x4e, sizeof(serial));
	mp_writer_init(&b);
	msgpack_pack_array(&b.pk, 14 + o->extra);
	msgpack_pack_uint8(&b.pk, 1);
	mp_pack_bin(&b.pk, net_id, 32);
	mp_pack_bin(&b.pk, issuer->pk, 32);
	mp_pack_bin(&b.pk, subject->pk, 32);
	mp_pack_str(&b.pk, o->name);
	msgpack_pack_uint64(&b.pk, (uint64_t)o->role);
	msgpack_pack_array(&b.pk, (size_t)o->nread);
	for (int i = 0; i < o->nread; i++)
		mp_pack_str(&b.pk, "bk");
	msgpack_pack_array(&b.pk, 0);
	msgpack_pack_array(&b.pk, 0);
	msgpack_pack_uint64(&b.pk, o->not_before);
	msgpack_pack_uint64(&b.pk, o->expires);
	msgpack_pack_false(&b.pk);
	mp_pack_bin(&b.pk, serial, o->serial_len);
	for (int i = 0; i <= o->extra; i++)
		msgpack_pack_nil(&b.pk);
	ASSERT_OK(sig_sign("hamlet cert v1", 15, (const uint8_t *)b.sb.data,
			   b.sb.size, issuer->sk, sig));
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	mp_pack_bin(&w.pk, b.sb.data, b.sb.size);
	mp_pack_bin(&w.pk, sig, 64);
	mp_writer_destroy(&b);
	p = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return p;
}

#define GOLDEN_ID "1739612caa16576852b213285f2d445566856003c1bd5b256c78a567466f1b90"
#define GOLDEN_CERT \
	"92c4f79e01c4204e455400000000000000000000000000000000000000000000" \
	"00000000000000c4208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d9412" \
	"1bf3748801b40f6f5cc420ed4928c628d1c2c6eae90338905995612959273a5c" \
	"63f93636c14614ac8737d1b14e61205061692076696c6c6167652050430191d9" \
	"20626b2f626163682d74686f6e672f7175616e672d746875616e2f6e612d7061" \
	"6991d920626b2f626163682d74686f6e672f7175616e672d746875616e2f6e61" \
	"2d70616991ae6865616c74685f70726f66696c65cf000001a2ce8bd400cf0000" \
	"01aa263d0000c2c4104e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4ec0c4405e8d173d" \
	"b0f50b2c095f921a841f5f7c7a17c544ad92cf5291f49e77491fa3995275fc2f" \
	"77075b88152aca16d1eb94d0e66e6714f5b9a49aa4be8088ba360f0f"

int main(void)
{
	struct key root, commune, village, other;
	struct cert c, d;
	struct cert_chain ch;
	uint8_t *bufs[8] = { 0 }, *file;
	size_t lens[8], flen;
	char h[8192], why[200];

	if (sodium_init() < 0)
		return 1;
	key_from(0x01, &root);
	key_from(0x02, &commune);
	key_from(0x03, &village);
	key_from(0x04, &other);

	TEST_START("the golden certificate encodes to the pinned bytes, and its id is pinned");
	grant(&c, &root, &village, "Na Pai village PC", CERT_VILLAGE,
	      "bk/bach-thong/quang-thuan/na-pai",
	      "bk/bach-thong/quang-thuan/na-pai", 0);
	snprintf(c.collections[0], sizeof(c.collections[0]), "health_profile");
	c.ncollections = 1;
	ASSERT_OK(cert_sign(&c, root.sk, &bufs[0], &lens[0]));
	hex(bufs[0], lens[0], h);
	if (getenv("HAMLET_PRINT_GOLDEN"))
		printf("%s\n", h);
	ASSERT_STREQ(h, GOLDEN_CERT);
	{
		uint8_t id[32];
		ASSERT_OK(cert_decode(bufs[0], lens[0], &d, id));
		hex(id, 32, h);
		if (getenv("HAMLET_PRINT_GOLDEN"))
			printf("%s\n", h);
		ASSERT_STREQ(h, GOLDEN_ID);
	}

	TEST_START("decoding gives back every field");
	ASSERT_MEMEQ(&d, &c, sizeof(c));

	TEST_START("each byte flipped or cut is refused, never half read");
	for (size_t i = 0; i < lens[0]; i++) {
		uint8_t t[CERT_MAX_BYTES];
		memcpy(t, bufs[0], lens[0]);
		t[i] ^= 0x01;
		ASSERT_TRUE(cert_decode(t, lens[0], &d, NULL) < 0);
		ASSERT_TRUE(cert_decode(bufs[0], i, &d, NULL) < 0);
	}
	free(bufs[0]);

	TEST_START("a root-signed chain of province, delegated commune and village holds");
	memset(&ch, 0, sizeof(ch));
	grant(&c, &commune, &village, "Na Pai", CERT_VILLAGE,
	      "bk/bt/qt/na-pai", "bk/bt/qt/na-pai", 0);
	link_(&ch, bufs, lens, &c, &commune);
	grant(&c, &root, &commune, "Quang Thuan digital team", CERT_COMMUNE,
	      "bk/bt/qt", "bk/bt/qt", 1);
	link_(&ch, bufs, lens, &c, &root);
	ASSERT_OK(check(&ch, &root, T0 + DAY, why));
	ASSERT_TRUE(cert_may_read(&ch.c[0], "bk/bt/qt/na-pai"));
	ASSERT_TRUE(!cert_may_read(&ch.c[0], "bk/bt/qt/khuoi-ma"));
	ASSERT_TRUE(cert_may_write(&ch.c[0], "bk/bt/qt/na-pai/x",
				   "health_profile"));
	ASSERT_TRUE(!cert_may_write(&ch.c[0], "bk/bt", "health_profile"));

	TEST_START("the chain file round-trips");
	ASSERT_OK(cert_chain_encode((const uint8_t *const *)bufs, lens, 2,
				    &file, &flen));
	{
		struct cert_chain back;
		ASSERT_OK(cert_chain_decode(file, flen, &back));
		ASSERT_EQ(back.n, 2);
		ASSERT_MEMEQ(&back.c[0], &ch.c[0], sizeof(back.c[0]));
		ASSERT_MEMEQ(back.id[1], ch.id[1], 32);
		file[7] = 2; /* a later version */
		ASSERT_EQ(cert_chain_decode(file, flen, &back), HAMLET_EVERSION);
		ASSERT_EQ(cert_chain_decode(file, 5, &back), HAMLET_EFORMAT);
	}
	free(file);

	TEST_START("outside its dates, on another network, or under another root, it fails, naming why");
	ASSERT_EQ(check(&ch, &root, T0 - 1, why), HAMLET_ECERT);
	ASSERT_TRUE(strstr(why, "not valid yet") != NULL);
	ASSERT_EQ(check(&ch, &root, T0 + 400 * DAY, why), HAMLET_ECERT);
	ASSERT_TRUE(strstr(why, "expired") != NULL);
	ASSERT_EQ(check(&ch, &other, T0 + DAY, why), HAMLET_ECERT);
	ASSERT_TRUE(strstr(why, "root key") != NULL);
	{
		uint8_t other_net[32] = { 9 };
		ASSERT_EQ(cert_chain_check(&ch, other_net, root.pk, T0 + DAY,
					   why, sizeof(why)),
			  HAMLET_ECERT);
		ASSERT_TRUE(strstr(why, "another network") != NULL);
	}
	free(bufs[0]);
	free(bufs[1]);

	TEST_START("a delegate that widens its issuer's grant, or an issuer that may not delegate, breaks the chain");
	memset(&ch, 0, sizeof(ch));
	grant(&c, &commune, &village, "Khuoi Ma", CERT_VILLAGE,
	      "bk/bt/other", "bk/bt/other", 0);
	link_(&ch, bufs, lens, &c, &commune);
	grant(&c, &root, &commune, "Quang Thuan", CERT_COMMUNE, "bk/bt/qt",
	      "bk/bt/qt", 1);
	link_(&ch, bufs, lens, &c, &root);
	ASSERT_EQ(check(&ch, &root, T0 + DAY, why), HAMLET_ECERT);
	/* the scope outside, and what the issuer holds, named */
	ASSERT_STREQ(why, "certificate 1 of the chain (\"Khuoi Ma\") lets its holder read bk/bt/other, outside what its issuer \"Quang Thuan\" may read (bk/bt/qt)");
	free(bufs[0]);
	free(bufs[1]);
	memset(&ch, 0, sizeof(ch));
	grant(&c, &commune, &village, "Na Pai", CERT_VILLAGE, "bk/bt/qt/na-pai",
	      "bk/bt/qt/na-pai", 0);
	link_(&ch, bufs, lens, &c, &commune);
	grant(&c, &root, &commune, "Quang Thuan", CERT_COMMUNE, "bk/bt/qt",
	      "bk/bt/qt", 0);
	link_(&ch, bufs, lens, &c, &root);
	ASSERT_EQ(check(&ch, &root, T0 + DAY, why), HAMLET_ECERT);
	ASSERT_TRUE(strstr(why, "may not certify others") != NULL);
	free(bufs[0]);
	free(bufs[1]);

	TEST_START("a chain whose links do not meet breaks");
	memset(&ch, 0, sizeof(ch));
	grant(&c, &other, &village, "Na Pai", CERT_VILLAGE, "bk/bt/qt/na-pai",
	      "bk/bt/qt/na-pai", 0);
	link_(&ch, bufs, lens, &c, &other);
	grant(&c, &root, &commune, "Quang Thuan", CERT_COMMUNE, "bk/bt/qt",
	      "bk/bt/qt", 1);
	link_(&ch, bufs, lens, &c, &root);
	ASSERT_EQ(check(&ch, &root, T0 + DAY, why), HAMLET_ECERT);
	ASSERT_TRUE(strstr(why, "next one's subject") != NULL);
	free(bufs[0]);
	free(bufs[1]);

	TEST_START("a name that is not UTF-8, or holds a tab, is never signed");
	grant(&c, &root, &other, "Evil\xff\xfe", CERT_VILLAGE, "bk", "bk", 0);
	ASSERT_EQ(cert_sign(&c, root.sk, &bufs[0], &lens[0]), HAMLET_EFORMAT);
	grant(&c, &root, &other, "Tab\there", CERT_VILLAGE, "bk", "bk", 0);
	ASSERT_EQ(cert_sign(&c, root.sk, &bufs[0], &lens[0]), HAMLET_EFORMAT);
	grant(&c, &root, &other, "Bản Nà Pài", CERT_VILLAGE, "bk", "bk", 0);
	ASSERT_OK(cert_sign(&c, root.sk, &bufs[0], &lens[0]));
	free(bufs[0]);

	TEST_START("an auditor's certificate that grants writing is never signed");
	grant(&c, &root, &other, "Provincial audit", CERT_AUDITOR, "", "bk", 0);
	ASSERT_EQ(cert_sign(&c, root.sk, &bufs[0], &lens[0]), HAMLET_EFORMAT);
	c.nwrite = 0;
	ASSERT_OK(cert_sign(&c, root.sk, &bufs[0], &lens[0]));
	ASSERT_OK(cert_decode(bufs[0], lens[0], &d, NULL));
	ASSERT_TRUE(cert_may_read(&d, "bk/bt/qt/na-pai"));
	ASSERT_TRUE(!cert_may_write(&d, "bk/bt/qt/na-pai", "health_profile"));
	free(bufs[0]);

	TEST_START("a certificate signed by a key that is not its issuer is refused");
	grant(&c, &root, &village, "Na Pai", CERT_VILLAGE, "bk", "bk", 0);
	ASSERT_TRUE(cert_sign(&c, other.sk, &bufs[0], &lens[0]) < 0);

	TEST_START("a certificate that breaks a rule names the field and its limit, with SPEC 1.3's error class");
	{
		static const struct {
			struct odd o;
			int err;
			const char *why;
		} bad[] = {
			{ { "PC", 6, 1, 0, 16, T0, T0 + DAY }, HAMLET_EFORMAT,
			  "the certificate's role 6 is not 1 (village)" },
			{ { "PC", 1, 1, 0, 15, T0, T0 + DAY }, HAMLET_EFORMAT,
			  "the certificate's serial is not a 16-byte bin" },
			{ { "", 1, 1, 0, 16, T0, T0 + DAY }, HAMLET_EFORMAT,
			  "the name must be 1 to 64 bytes" },
			{ { "PC", 1, 1, 0, 16, T0 + DAY, T0 }, HAMLET_EFORMAT,
			  "it expires before it is valid" },
			{ { "PC", 1, 17, 0, 16, T0, T0 + DAY }, HAMLET_ETOOBIG,
			  "the certificate's read is not a list of at most 16 prefixes" },
			{ { "PC", 1, 1, 1, 16, T0, T0 + DAY }, HAMLET_EFORMAT,
			  "the certificate's body has 15 fields, not 14" },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
			size_t l;
			uint8_t *p = odd_cert(&bad[i].o, &root, &village, &l);
			why[0] = 0;
			ASSERT_EQ(cert_decode_why(p, l, &d, NULL, why,
						  sizeof(why)),
				  bad[i].err);
			if (!strstr(why, bad[i].why))
				fprintf(stderr, "   got: %s\n", why);
			ASSERT_TRUE(strstr(why, bad[i].why) != NULL);
			free(p);
		}
		{
			uint8_t big[CERT_MAX_BYTES + 1] = { 0 };
			ASSERT_EQ(cert_decode_why(big, sizeof(big), &d, NULL, why,
						  sizeof(why)),
				  HAMLET_ETOOBIG);
			ASSERT_TRUE(strstr(why, "4097 bytes, over its limit of 4096") != NULL);
		}
	}

	TEST_START("a chain of 5 certificates, or one with a bad certificate, names the limit or the certificate");
	{
		struct odd ok = { "PC", 1, 1, 0, 16, T0, T0 + DAY };
		struct odd role = { "PC", 9, 1, 0, 16, T0, T0 + DAY };
		uint8_t *cs[5];
		size_t cl[5];
		const uint8_t *cp[5];
		struct mp_writer w;
		uint8_t *chain;
		size_t chl;
		for (size_t i = 0; i < 5; i++) {
			cs[i] = odd_cert(i == 1 ? &role : &ok, &root, &village,
					 &cl[i]);
			cp[i] = cs[i];
		}
		/* cert_chain_encode() writes no more than 4 */
		mp_writer_init(&w);
		msgpack_sbuffer_write(&w.sb, "HAMLETC\x01", 8);
		msgpack_pack_array(&w.pk, 5);
		for (size_t i = 0; i < 5; i++)
			mp_pack_bin(&w.pk, cs[i], cl[i]);
		chain = mp_writer_take(&w, &chl);
		mp_writer_destroy(&w);
		ASSERT_EQ(cert_chain_decode_why(chain, chl, &ch, why, sizeof(why)),
			  HAMLET_ETOOBIG);
		if (!strstr(why, "the chain holds more than 4 certificates"))
			fprintf(stderr, "   got: %s\n", why);
		ASSERT_TRUE(strstr(why, "the chain holds more than 4 certificates") != NULL);
		free(chain);
		ASSERT_OK(cert_chain_encode(cp, cl, 2, &chain, &chl));
		ASSERT_EQ(cert_chain_decode_why(chain, chl, &ch, why, sizeof(why)),
			  HAMLET_EFORMAT);
		ASSERT_TRUE(strstr(why, "certificate 2 of the chain: the certificate's role 9") != NULL);
		free(chain);
		for (size_t i = 0; i < 5; i++)
			free(cs[i]);
	}

	fprintf(stderr, "all cases passed in %s\n", __FILE__);
	return testlib_failures ? 1 : 0;
}
