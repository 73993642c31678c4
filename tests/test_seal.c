/*
 * Sealed bundles (proto/seal.c, proto/SPEC.md "Sealed bundles"): golden
 * bytes, the layout read back by hand, round trip through nodes, the
 * wrong recipient, every single flipped byte, cuts and repeated frames.
 *
 * libsodium's random source is replaced by a seeded one before anything
 * uses it, so that crypto_box_seal's ephemeral key, and with it the whole
 * file, is the same on every run.
 */
#include "audit.h"
#include "helpers.h"
#include "seal.h"

#include <errno.h>

/* --- a seeded random source ----------------------------------------- */

static uint64_t det_counter;

static void det_buf(void *const buf, const size_t size)
{
	uint8_t seed[randombytes_SEEDBYTES];
	memset(seed, 0x44, sizeof(seed));
	for (int i = 0; i < 8; i++)
		seed[i] = (uint8_t)(det_counter >> (56 - 8 * i));
	det_counter++;
	randombytes_buf_deterministic(buf, size, seed);
}

static uint32_t det_random(void)
{
	uint32_t v;
	det_buf(&v, sizeof(v));
	return v;
}

static uint32_t det_uniform(const uint32_t upper)
{
	return upper < 2 ? 0 : det_random() % upper;
}

static const char *det_name(void)
{
	return "test-seeded";
}

static void det_stir(void)
{
}

static int det_close(void)
{
	return 0;
}

static struct randombytes_implementation det_impl = {
	det_name, det_random, det_stir, det_uniform, det_buf, det_close,
};

/* --- files ------------------------------------------------------------ */

static int has_problem(const struct bundle_report *rep, const char *needle)
{
	for (size_t i = 0; i < rep->problems.n; i++)
		if (strstr(rep->problems.v[i].text, needle))
			return 1;
	return 0;
}

/* A fresh copy of node home dir/from at dir/to, opened. */
static struct node *copy_node(const char *dir, const char *from,
			      const char *to)
{
	char src[4096], home[4096], why[256];
	struct node *n;
	snprintf(src, sizeof(src), "%s/%s", dir, from);
	snprintf(home, sizeof(home), "%s/%s", dir, to);
	th_copy_tree(src, home);
	ASSERT_OK(node_open(home, 0, &n, why, sizeof(why)));
	return n;
}

/* --- the format ------------------------------------------------------- */

/*
 * Recipient: the Ed25519 key of seed 0x11..; file key 0x22..; file id
 * 0x33..; the seeded source from counter 0 gives the ephemeral key. Two
 * frames: "hamlet sealed frame 0", then "last" flagged last.
 */
static const char golden_hex[] =
	"48414d4c4554450101d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016b"
	"af8520a332c977873733333333333333333333333333333333ab43aee4ee8403"
	"5334e563a08bc3f9cea5eca4774eefd89c43c3294029cfb87da97ef19b511f28"
	"19185c019bd4e92cda8e8c90beed9d6776c700e9830cd9e6cb91aaf102221436"
	"9d11263df88ff419b1aab28c15384788fd9f655243af8c0c5e7ec314ca0be848"
	"90647d213ffb4a35c868730000000000000000002511dec564d647b8750da27e"
	"d99cedfd7a25b428586ec705460da2a53494e7c65892a3ca76a4687301000000"
	"000100000014dd19787ae2c3ff58b1c5ae6410879e97ab460e6f";

static void golden(const char *dir)
{
	uint8_t seed[32], pk[32], sk[64], key[32], id[SEAL_FILE_ID];
	const char *f0 = "hamlet sealed frame 0", *f1 = "last";
	char path[4200];
	struct seal_writer *s;
	size_t len;
	FILE *f;

	memset(seed, 0x11, 32);
	memset(key, 0x22, 32);
	memset(id, 0x33, sizeof(id));
	crypto_sign_seed_keypair(pk, sk, seed);
	snprintf(path, sizeof(path), "%s/golden.sealed", dir);
	ASSERT_TRUE((f = fopen(path, "wb")) != NULL);
	det_counter = 0;
	ASSERT_OK(seal__writer_new_fixed(f, pk, key, id, &s));
	ASSERT_OK(seal_writer_frame(s, (const uint8_t *)f0, strlen(f0), 0));
	ASSERT_OK(seal_writer_frame(s, (const uint8_t *)f1, strlen(f1), 1));
	ASSERT_EQ(seal_writer_frame(s, (const uint8_t *)f1, 1, 0), -EINVAL);
	ASSERT_EQ(seal_writer_bytes(s),
		  SEAL_HEADER_LEN + 2 * (SEAL_FRAME_HDR + SEAL_TAG) +
			  strlen(f0) + strlen(f1));
	seal_writer_free(s);
	ASSERT_EQ(fclose(f), 0);

	uint8_t *p = th_slurp(path, &len);
	char *hex = malloc(2 * len + 1);
	sodium_bin2hex(hex, 2 * len + 1, p, len);
	if (strcmp(hex, golden_hex) != 0)
		TEST_FAIL_("sealed bytes differ from the golden vector:\n%s",
			   hex);
	free(hex);

	/* the layout of SPEC "Sealed bundles", read by hand */
	uint8_t check[32], xpk[32], xsk[32], opened[32], plain[64], nonce[24],
		ad[44];
	unsigned long long pl;
	ASSERT_MEMEQ(p, "HAMLETE\x01", 8);
	ASSERT_EQ(p[8], 1);
	ASSERT_MEMEQ(p + 9, pk, 32);
	ASSERT_MEMEQ(p + 41, id, 16);
	crypto_generichash_blake2b(check, 32, p, 137, NULL, 0);
	ASSERT_MEMEQ(p + 137, check, 32);
	ASSERT_OK(crypto_sign_ed25519_pk_to_curve25519(xpk, pk));
	ASSERT_OK(crypto_sign_ed25519_sk_to_curve25519(xsk, sk));
	ASSERT_OK(crypto_box_seal_open(opened, p + 57, 80, xpk, xsk));
	ASSERT_MEMEQ(opened, key, 32);
	const uint8_t *fr = p + 169;
	ASSERT_MEMEQ(fr, "hs\x00\x00\x00\x00\x00\x00\x00\x00\x00", 11);
	ASSERT_EQ(fr[11], strlen(f0) + 16);
	memcpy(nonce, id, 16);
	memset(nonce + 16, 0, 8);
	memcpy(ad, check, 32);
	memcpy(ad + 32, fr, 12);
	ASSERT_OK(crypto_aead_xchacha20poly1305_ietf_decrypt(
		plain, &pl, NULL, fr + 12, fr[11], ad, 44, nonce, key));
	ASSERT_EQ(pl, strlen(f0));
	ASSERT_MEMEQ(plain, f0, pl);
	fr += 12 + fr[11];
	ASSERT_EQ(fr[2], SEAL_FLAG_LAST);
	ASSERT_EQ(fr[7], 1); /* index 1 */
	nonce[23] = 1;
	memcpy(ad + 32, fr, 12);
	ASSERT_OK(crypto_aead_xchacha20poly1305_ietf_decrypt(
		plain, &pl, NULL, fr + 12, fr[11], ad, 44, nonce, key));
	ASSERT_MEMEQ(plain, f1, strlen(f1));

	/* and seal_open gives prefix || frames, whole */
	struct seal_opened o;
	ASSERT_OK(seal_open(p, len, sk, "P", 1, NULL, NULL, &o));
	ASSERT_EQ(o.len, 1 + strlen(f0) + strlen(f1));
	ASSERT_MEMEQ(o.plain, "Phamlet sealed frame 0last", o.len);
	ASSERT_EQ(o.frames, 2);
	ASSERT_EQ(o.damaged, 0);
	ASSERT_TRUE(o.complete);
	/* a byte of the plaintext is named where it lies in the file: the
	 * prefix at the header, a frame's bytes after its 12-byte head */
	{
		size_t at0 = SEAL_HEADER_LEN,
		       at1 = at0 + 12 + strlen(f0) + 16;
		ASSERT_EQ(o.nspans, 2);
		ASSERT_EQ(seal_opened_file_offset(&o, 0), 0);
		ASSERT_EQ(seal_opened_file_offset(&o, 1), at0 + 12);
		ASSERT_EQ(seal_opened_file_offset(&o, 4), at0 + 12 + 3);
		ASSERT_EQ(seal_opened_file_offset(&o, 1 + strlen(f0)),
			  at1 + 12);
		ASSERT_EQ(seal_opened_file_offset(&o, o.len - 1),
			  at1 + 12 + strlen(f1) - 1);
	}
	seal_opened_close(&o);

	/* another key: refused, nothing opened */
	uint8_t pk2[32], sk2[64];
	seed[0] ^= 1;
	crypto_sign_seed_keypair(pk2, sk2, seed);
	ASSERT_EQ(seal_open(p, len, sk2, "", 0, NULL, NULL, &o), HAMLET_EKEY);
	/* the recipient rewritten to that key, check and all: its file key
	 * does not open */
	memcpy(p + 9, pk2, 32);
	crypto_generichash_blake2b(p + 137, 32, p, 137, NULL, 0);
	ASSERT_EQ(seal_open(p, len, sk2, "", 0, NULL, NULL, &o),
		  HAMLET_EDECRYPT);
	/* a damaged header, a version to come */
	memcpy(p + 9, pk, 32);
	p[100] ^= 1;
	ASSERT_EQ(seal_open(p, len, sk, "", 0, NULL, NULL, &o), HAMLET_EFORMAT);
	p[100] ^= 1;
	p[8] = 2;
	crypto_generichash_blake2b(p + 137, 32, p, 137, NULL, 0);
	ASSERT_EQ(seal_open(p, len, sk, "", 0, NULL, NULL, &o),
		  HAMLET_EVERSION);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(xsk, sizeof(xsk));
	free(p);
}

/* The offset of each sealed frame of the file p, into offs; their count. */
static size_t frame_offsets(const uint8_t *p, size_t len, size_t *offs,
			    size_t max)
{
	size_t n = 0;
	for (size_t o = SEAL_HEADER_LEN; o + SEAL_FRAME_HDR <= len && n < max;) {
		uint32_t l = (uint32_t)p[o + 8] << 24 | (uint32_t)p[o + 9] << 16 |
			     (uint32_t)p[o + 10] << 8 | p[o + 11];
		offs[n++] = o;
		o += SEAL_FRAME_HDR + l;
	}
	return n;
}

/* Entries a flip at byte i may cost: one, or all of the run frame's
 * (here the bundle's N entries, one feed) when it hits that frame. */
static uint64_t lost_ok(const uint8_t *p, size_t len, size_t i, int n)
{
	size_t a, b;
	if (th_run_span(p, len, &a, &b) && i >= a && i < b)
		return (uint64_t)n;
	return 1;
}

int main(void)
{
	/* before libsodium is initialised: it takes its source then */
	randombytes_set_implementation(&det_impl);
	ASSERT_TRUE(sodium_init() >= 0);

	char *dir = th_tmpdir();
	char *net = th_network(dir, "net-a");
	char bun[4096], bad[4096], sum[4096], why[512];
	struct bundle_report rep;
	const int N = 3;
	size_t len;
	uint8_t *p;

	TEST_START("the sealed format matches its golden bytes and SPEC's layout, read by hand");
	golden(dir);

	struct node *a = th_node(dir, net, "village", "bk/bt/qt/na-pai");
	struct node *v = th_node(dir, net, "commune", "bk/bt/qt");
	struct node *c = th_node(dir, net, "other", "bk/bt/qt");
	th_put_profiles(a, N, "SEALMARK");
	snprintf(sum, sizeof(sum), "%s/v.sum", dir);
	snprintf(bun, sizeof(bun), "%s/v.bundle", dir);
	snprintf(bad, sizeof(bad), "%s/bad.bundle", dir);
	ASSERT_OK(summary_write(v->st, v->net.id, v->pk, NULL, 0, sum, NULL));
	/* v's copy before any import: each damaged file goes into a fresh one */
	node_close(v);
	v = copy_node(dir, "commune", "commune-orig");
	node_close(v);
	v = copy_node(dir, "commune-orig", "commune");

	TEST_START("a bundle made for a summary is sealed to its node by default, and its bytes show nothing");
	struct bundle_create_opts o = { NULL, sum, NULL, 0, NULL, NULL, NULL, NULL };
	struct bundle_create_result res;
	ASSERT_OK(bundle_create(a, bun, &o, &res, why, sizeof(why)));
	ASSERT_TRUE(res.sealed);
	ASSERT_MEMEQ(res.sealed_to, v->pk, 32);
	ASSERT_STREQ(res.sealed_name, "commune");
	p = th_slurp(bun, &len);
	p[len] = 0;
	ASSERT_TRUE(seal_is_sealed(p, len));
	ASSERT_TRUE(memmem(p, len, "SEALMARK", 8) == NULL);
	ASSERT_TRUE(memmem(p, len, "health_profile", 14) == NULL);
	ASSERT_TRUE(memmem(p, len, "bk/bt", 5) == NULL);
	free(p);

	TEST_START("another node is told it is sealed for the commune and imports nothing");
	ASSERT_EQ(bundle_import(c, bun, &rep, why, sizeof(why)), HAMLET_EKEY);
	ASSERT_TRUE(rep.sealed);
	ASSERT_MEMEQ(rep.sealed_to, v->pk, 32);
	ASSERT_TRUE(strstr(why, "sealed for another node") != NULL);
	ASSERT_TRUE(strstr(why, "\"commune\"") != NULL);
	bundle_report_close(&rep);
	ASSERT_EQ(th_count_entries(c), 0);
	ASSERT_EQ(bundle_check(bun, NULL, &rep, why, sizeof(why)), HAMLET_EKEY);
	ASSERT_TRUE(strstr(why, "sealed for node") != NULL);
	bundle_report_close(&rep);

	TEST_START("the commune opens it with its key: checked, then imported whole");
	ASSERT_OK(bundle_check_key(bun, v->net.id, v, &rep, why, sizeof(why)));
	ASSERT_TRUE(rep.sealed);
	ASSERT_EQ(rep.entries, N);
	ASSERT_EQ(rep.bad_entries, 0);
	ASSERT_EQ(rep.trailer, BUNDLE_TRAILER_OK);
	ASSERT_EQ(rep.problems.total, 0);
	bundle_report_close(&rep);
	ASSERT_OK(bundle_import(v, bun, &rep, why, sizeof(why)));
	ASSERT_TRUE(rep.sealed);
	ASSERT_EQ(rep.stats.applied, N);
	ASSERT_EQ(rep.problems.total, 0);
	ASSERT_EQ(rep.trailer, BUNDLE_TRAILER_OK);
	bundle_report_close(&rep);
	uint8_t after[32], before[32], now[32];
	th_digest(v, after);
	node_close(v);

	TEST_START("--seal-to: any node's key, and only the summary's with a summary; --unsealed writes the plain format");
	{
		char b2[4200];
		snprintf(b2, sizeof(b2), "%s/c.bundle", dir);
		struct bundle_create_opts o2 = { NULL, NULL, c->pk, 0, NULL, NULL, NULL, NULL };
		ASSERT_OK(bundle_create(a, b2, &o2, &res, why, sizeof(why)));
		ASSERT_TRUE(res.sealed);
		ASSERT_OK(bundle_import(c, b2, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.stats.applied, N);
		bundle_report_close(&rep);
		struct bundle_create_opts o3 = { NULL, sum, c->pk, 0, NULL, NULL, NULL, NULL };
		ASSERT_EQ(bundle_create(a, b2, &o3, &res, why, sizeof(why)),
			  HAMLET_EKEY);
		ASSERT_TRUE(strstr(why, "not the summary's node") != NULL);
		uint8_t nokey[32];
		memset(nokey, 0xff, 32);
		struct bundle_create_opts o4 = { NULL, NULL, nokey, 0, NULL, NULL, NULL, NULL };
		ASSERT_EQ(bundle_create(a, b2, &o4, &res, why, sizeof(why)),
			  HAMLET_EKEY);
		ASSERT_TRUE(strstr(why, "not a valid node key") != NULL);
		struct bundle_create_opts o5 = { NULL, sum, NULL, 1, NULL, NULL, NULL, NULL };
		ASSERT_OK(bundle_create(a, b2, &o5, &res, why, sizeof(why)));
		ASSERT_TRUE(!res.sealed);
		p = th_slurp(b2, &len);
		ASSERT_MEMEQ(p, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN);
		ASSERT_TRUE(memmem(p, len, "SEALMARK", 8) != NULL);
		free(p);
	}

	p = th_slurp(bun, &len);
	v = copy_node(dir, "commune-orig", "v2");
	th_digest(v, before);
	node_close(v);

	TEST_START("any single flipped byte is detected; nothing damaged is applied; intact frames import");
	for (size_t i = 0; i < len; i++) {
		p[i] ^= 0x40;
		th_spit(bad, p, len);
		p[i] ^= 0x40;
		v = copy_node(dir, "commune-orig", "v2");
		int r = bundle_import(v, bad, &rep, why, sizeof(why));
		th_digest(v, now);
		if (r < 0) {
			/* only the header: refused whole, saying so */
			if (i >= SEAL_HEADER_LEN)
				TEST_FAIL_("flip at byte %zu refused the whole bundle: %s",
					   i, why);
			if (!why[0] || memcmp(now, before, 32) != 0)
				TEST_FAIL_("flip at byte %zu refused without a reason, or changed records",
					   i);
		} else {
			if (rep.problems.total == 0 || rep.damaged_frames == 0)
				TEST_FAIL_("flip at byte %zu went unnoticed", i);
			if (rep.stats.rejected != 0)
				TEST_FAIL_("flip at byte %zu reached the store as a damaged entry",
					   i);
			if (rep.stats.applied + rep.stats.held < (uint64_t)N - lost_ok(p, len, i, N))
				TEST_FAIL_("flip at byte %zu lost intact entries: %llu applied, %llu held",
					   i,
					   (unsigned long long)rep.stats.applied,
					   (unsigned long long)rep.stats.held);
		}
		bundle_report_close(&rep);
		th_bundle_heals(v, bun, after, i);
		node_close(v);
	}

	TEST_START("a cut file imports what is whole before the cut and says it is cut short");
	{
		size_t offs[64], nf = frame_offsets(p, len, offs, 64);
		ASSERT_TRUE(nf >= 3 + (size_t)N);
		ASSERT_EQ(offs[nf - 1] < len, 1);
		size_t cuts[] = { 0, 7, 100, SEAL_HEADER_LEN, offs[1],
				  offs[nf - 1], offs[nf - 1] + 20, len - 1,
				  len * 2 / 3 };
		for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
			th_spit(bad, p, cuts[k]);
			v = copy_node(dir, "commune-orig", "v2");
			int r = bundle_import(v, bad, &rep, why, sizeof(why));
			if (cuts[k] < SEAL_HEADER_LEN) {
				ASSERT_TRUE(r < 0);
				ASSERT_TRUE(why[0] != 0);
				ASSERT_EQ(th_count_entries(v), 0);
			} else {
				ASSERT_OK(r);
				if (!has_problem(&rep, "cut short"))
					TEST_FAIL_("cut at %zu not reported as cut short",
						   cuts[k]);
				ASSERT_EQ(rep.trailer, BUNDLE_TRAILER_MISSING);
				ASSERT_EQ(rep.stats.rejected, 0);
				/* cut before the trailer: every entry is whole */
				if (cuts[k] == offs[nf - 1])
					ASSERT_EQ(rep.stats.applied, N);
				/* cut inside a frame: no count of bytes lost
				 * (what was past the cut is not known) */
				if (cuts[k] == offs[nf - 1] + 20) {
					ASSERT_TRUE(has_problem(&rep, "does not open, and no frame follows it: the file is cut short there"));
					ASSERT_TRUE(!has_problem(&rep, "bytes lost"));
				}
			}
			bundle_report_close(&rep);
			node_close(v);
		}
	}

	TEST_START("a full-length file whose last frame is damaged is not called cut short after its frames");
	{
		size_t offs[64], nf = frame_offsets(p, len, offs, 64);
		p[len - 1] ^= 0x40;
		th_spit(bad, p, len);
		p[len - 1] ^= 0x40;
		v = copy_node(dir, "commune-orig", "v2");
		ASSERT_OK(bundle_import(v, bad, &rep, why, sizeof(why)));
		ASSERT_TRUE(has_problem(&rep, "is cut short or damaged"));
		ASSERT_TRUE(!has_problem(&rep, "it is cut short after"));
		bundle_report_close(&rep);
		node_close(v);
		/* cut at a frame's end, the file is cut short, and says so */
		th_spit(bad, p, offs[nf - 1]);
		v = copy_node(dir, "commune-orig", "v2");
		ASSERT_OK(bundle_import(v, bad, &rep, why, sizeof(why)));
		ASSERT_TRUE(has_problem(&rep, "it is cut short after"));
		bundle_report_close(&rep);
		node_close(v);
	}

	TEST_START("a repeated frame and frames out of order are reported, and not applied twice");
	{
		size_t offs[64], nf = frame_offsets(p, len, offs, 64);
		size_t f1 = offs[nf - 2], n1 = offs[nf - 1] - f1;
		/* the next-to-last frame (the run of entries) twice */
		uint8_t *q = malloc(len + n1);
		memcpy(q, p, offs[nf - 1]);
		memcpy(q + offs[nf - 1], p + f1, n1);
		memcpy(q + offs[nf - 1] + n1, p + offs[nf - 1], len - offs[nf - 1]);
		th_spit(bad, q, len + n1);
		v = copy_node(dir, "commune-orig", "v2");
		ASSERT_OK(bundle_import(v, bad, &rep, why, sizeof(why)));
		ASSERT_TRUE(has_problem(&rep, "is a repeat"));
		ASSERT_EQ(rep.stats.applied, N);
		ASSERT_EQ(rep.trailer, BUNDLE_TRAILER_OK);
		bundle_report_close(&rep);
		node_close(v);
		/* the last two swapped: the trailer comes first, then the
		 * run frame (the N entries of the one feed) after the last
		 * frame is ignored */
		size_t nl = len - offs[nf - 1];
		memcpy(q, p, f1);
		memcpy(q + f1, p + offs[nf - 1], nl);
		memcpy(q + f1 + nl, p + f1, n1);
		th_spit(bad, q, len);
		v = copy_node(dir, "commune-orig", "v2");
		ASSERT_OK(bundle_import(v, bad, &rep, why, sizeof(why)));
		ASSERT_TRUE(has_problem(&rep, "missing"));
		ASSERT_TRUE(has_problem(&rep, "after the last frame"));
		ASSERT_EQ(rep.stats.applied, 0);
		ASSERT_TRUE(rep.trailer != BUNDLE_TRAILER_OK);
		bundle_report_close(&rep);
		node_close(v);
		/* two frames before the last swapped: the one that comes
		 * late is out of its place, never "a repeat" (it was not
		 * read before) */
		ASSERT_TRUE(nf >= 3);
		{
			size_t f0 = offs[nf - 3], n0 = f1 - f0;
			memcpy(q, p, f0);
			memcpy(q + f0, p + f1, n1);
			memcpy(q + f0 + n1, p + f0, n0);
			memcpy(q + f0 + n1 + n0, p + offs[nf - 1], nl);
		}
		th_spit(bad, q, len);
		v = copy_node(dir, "commune-orig", "v2");
		ASSERT_OK(bundle_import(v, bad, &rep, why, sizeof(why)));
		ASSERT_TRUE(has_problem(&rep, "missing"));
		ASSERT_TRUE(has_problem(&rep, "comes out of its place"));
		ASSERT_TRUE(!has_problem(&rep, "is a repeat"));
		bundle_report_close(&rep);
		node_close(v);
		free(q);
	}

	free(p);
	node_close(a);
	node_close(c);
	th_rmrf(dir);
	free(net);
	free(dir);
	TEST_DONE();
}
