/* Bundles: round trip, idempotence, another network, and tampering. */
#include "summary.h"
#include "audit.h"
#include "helpers.h"
#include "hlc.h"
#include "run_fixture.h"
#include "seal.h"
#include "zst.h"

#include <errno.h>
#include <sys/stat.h>

/* A store step that counts its calls and hands the batch to a node. */
struct counting {
	struct node *n;
	int calls;
	int fail; /* return this instead of storing */
};

static int counting_ingest(void *ctx, const struct log_in *in, size_t n,
			   struct log_out *out, struct log_stats *stats,
			   char *why, size_t whylen)
{
	struct counting *c = ctx;
	c->calls++;
	if (c->fail) {
		snprintf(why, whylen, "the store step refused");
		return c->fail;
	}
	return log_ingest(c->n->st, c->n->net.id, in, n, out, stats, NULL);
}

static int counting_trust(void *ctx, const struct trustset_item *items,
			  size_t n, struct trustset_out *out,
			  struct log_stats *stats, char *why, size_t whylen)
{
	struct counting *c = ctx;
	(void)why;
	(void)whylen;
	return log_trust_ingest(c->n->st, c->n->net.id, items, n, out, stats,
				NULL);
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

/* Write rp: f's first n entries as one run (header of f's network and
 * key), then x's entry xi whole when x is given; signed by f. */
static void bundle_of(const char *rp, const struct rf_feed *f, size_t n,
		      const struct rf_feed *x, size_t xi)
{
	struct bundle_header h;
	struct bundle_writer *w;
	memset(&h, 0, sizeof(h));
	memcpy(h.network_id, f->net, 32);
	memcpy(h.creator, f->pk, 32);
	ASSERT_OK(bundle_writer_open(rp, &h, &w));
	ASSERT_OK(bundle_writer_add_run(w, &f->v[0], n, NULL));
	if (x)
		ASSERT_OK(bundle_writer_add(w, x->env[xi], x->v[xi].env_len,
					    x->sig[xi], x->body[xi],
					    x->v[xi].body_len));
	ASSERT_OK(bundle_writer_finish(w, f->sk));
}

/* Write to dst the plain bundle src with its run frames in reverse order
 * (its other frames in place): every entry still verifies, and each run
 * waits for the runs before it in its feed. */
static void reverse_runs(const char *src, const char *dst)
{
	size_t len, off = 8, nr = 0, cap = 0;
	uint8_t *b = th_slurp(src, &len), *out;
	size_t *runs = NULL;
	ASSERT_TRUE(b != NULL && len > 8);
	for (off = 8; off + 8 <= len;) {
		size_t n = (size_t)b[off + 4] << 24 | (size_t)b[off + 5] << 16 |
			   (size_t)b[off + 6] << 8 | b[off + 7];
		if (b[off + 2] == 'C') {
			if (nr == cap) {
				cap = cap ? cap * 2 : 64;
				runs = realloc(runs, cap * sizeof(*runs));
				ASSERT_TRUE(runs != NULL);
			}
			runs[nr++] = off;
		}
		off += 8 + n;
	}
	ASSERT_EQ(off, len);
	ASSERT_TRUE(nr >= 2);
	out = malloc(len);
	ASSERT_TRUE(out != NULL);
	memcpy(out, b, 8);
	size_t w = 8, k = nr;
	for (off = 8; off < len;) {
		size_t n = (size_t)b[off + 4] << 24 | (size_t)b[off + 5] << 16 |
			   (size_t)b[off + 6] << 8 | b[off + 7];
		size_t from = off, fl = 8 + n;
		if (b[off + 2] == 'C') {
			from = runs[--k];
			fl = 8 + ((size_t)b[from + 4] << 24 |
				  (size_t)b[from + 5] << 16 |
				  (size_t)b[from + 6] << 8 | b[from + 7]);
		}
		memcpy(out + w, b + from, fl);
		w += fl;
		off += 8 + n;
	}
	ASSERT_EQ(w, len);
	th_spit(dst, out, len);
	free(out);
	free(runs);
	free(b);
}

/* A summary file of version 4 (proto/SPEC.md section 3), byte for byte:
 * network 0x11.., node 0x22.., hlc 0x0102030405060708, one feed 0x33..
 * at seq 7 with head 0x44.., no certificate chain, one trust key
 * 0x01 0x55..., then the 32-byte BLAKE2b-256 of every byte before it. */
static const char summary_golden_hex[] =
	"48414d4c455453029704c4201111111111111111111111111111111111111111"
	"111111111111111111111111c420222222222222222222222222222222222222"
	"2222222222222222222222222222cf01020304050607089193c4203333333333"
	"33333333333333333333333333333333333333333333333333333307c4204444"
	"444444444444444444444444444444444444444444444444444444444444c400"
	"91c4210155555555555555555555555555555555555555555555555555555555"
	"55555555e71484cc4a339c455557851b4994d01774b8db4687fc94a71549e5ee"
	"5e1d1381";

/* Put the trailer of the summary of bl bytes at b right: the BLAKE2b-256
 * of every byte before it. */
static void summary_resum(uint8_t *b, size_t bl)
{
	crypto_generichash(b + bl - SUMMARY_SUM_LEN, SUMMARY_SUM_LEN, b,
			   bl - SUMMARY_SUM_LEN, NULL, 0);
}

/* Write n's summary as dir/name (its path into sp) and return its bytes,
 * len of them. */
static uint8_t *summary_of(struct node *n, const char *dir, const char *name,
			   char sp[4096], size_t *len)
{
	uint8_t *p;
	snprintf(sp, 4096, "%s/%s", dir, name);
	ASSERT_OK(summary_write(n->st, n->net.id, n->pk, NULL, 0, sp, NULL));
	p = th_slurp(sp, len);
	ASSERT_TRUE(p != NULL && *len > 8 + SUMMARY_SUM_LEN);
	return p;
}

static void summary_golden(const char *dir)
{
	uint8_t b[sizeof(summary_golden_hex) / 2], k[32], tk[TRUST_KEY_LEN];
	uint8_t h[32];
	char path[4096], why[256];
	struct summary *sm = NULL;
	size_t bl;

	ASSERT_OK(sodium_hex2bin(b, sizeof(b), summary_golden_hex,
				 strlen(summary_golden_hex), NULL, &bl, NULL));
	ASSERT_EQ(bl, 228);
	/* the trailer: BLAKE2b-256 (32 bytes, no key) of the 196 before */
	crypto_generichash(h, 32, b, bl - 32, NULL, 0);
	ASSERT_MEMEQ(b + bl - 32, h, 32);
	snprintf(path, sizeof(path), "%s/golden.summary", dir);
	th_spit(path, b, bl);
	ASSERT_OK(summary_read(path, &sm, why, sizeof(why)));
	memset(k, 0x11, 32);
	ASSERT_TRUE(memcmp(sm->network_id, k, 32) == 0);
	memset(k, 0x22, 32);
	ASSERT_TRUE(memcmp(sm->node, k, 32) == 0);
	ASSERT_EQ(sm->hlc, 0x0102030405060708ull);
	ASSERT_EQ(sm->n, 1);
	memset(k, 0x33, 32);
	ASSERT_EQ(summary_seq(sm, k), 7);
	memset(k, 0x44, 32);
	ASSERT_TRUE(memcmp(sm->feeds[0].head, k, 32) == 0);
	ASSERT_EQ(sm->certs_len, 0);
	ASSERT_EQ(sm->ntrust, 1);
	tk[0] = 0x01;
	memset(tk + 1, 0x55, 32);
	ASSERT_EQ(summary_has_trust(sm, tk), 1);
	tk[0] = 0x02;
	ASSERT_EQ(summary_has_trust(sm, tk), 0);
	/* the file's hash, for a bundle's header: trailer and all */
	crypto_generichash(h, 32, b, bl, NULL, 0);
	ASSERT_MEMEQ(sm->file_hash, h, 32);
	summary_free(sm);
	/* the version is the first field: another one is refused, even
	 * under a trailer that matches it */
	b[9] = 0x05;
	summary_resum(b, bl);
	th_spit(path, b, bl);
	ASSERT_EQ(summary_read(path, &sm, why, sizeof(why)), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "of another version") != NULL);
	/* and one byte changed under the old trailer is damage */
	b[9] = 0x04;
	b[bl - 1] ^= 0x01;
	th_spit(path, b, bl);
	ASSERT_EQ(summary_read(path, &sm, why, sizeof(why)), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "is cut short or damaged") != NULL);
}

int main(void)
{
	char *dir = th_tmpdir();
	char *net = th_network(dir, "net-a");
	char *net2 = th_network(dir, "net-b");
	struct node *a = th_node(dir, net, "village", "bk/bt/qt/na-pai");
	struct node *other = th_node(dir, net2, "stranger", "x");
	char bun[4096], bad[4096], why[256];
	struct bundle_report rep;
	uint8_t da[32], db[32];
	const int N = 3;

	th_put_profiles(a, N, "Person");
	snprintf(bun, sizeof(bun), "%s/all.bundle", dir);
	snprintf(bad, sizeof(bad), "%s/bad.bundle", dir);
	struct bundle_create_opts o = { NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL };
	{
		struct bundle_create_result res;
		struct stat sb;
		ASSERT_OK(bundle_create(a, bun, &o, &res, why, sizeof(why)));
		TEST_START("bundle create tells the size of the file as written");
		ASSERT_OK(stat(bun, &sb));
		ASSERT_EQ(res.bytes, (uint64_t)sb.st_size);
	}
	th_digest(a, da);

	TEST_START("a bundle checks clean and imports everything, twice harmlessly");
	ASSERT_OK(bundle_check(bun, a->net.id, &rep, why, sizeof(why)));
	ASSERT_EQ(rep.bad_entries, 0);
	ASSERT_EQ(rep.entries, N);
	ASSERT_EQ(rep.trailer, BUNDLE_TRAILER_OK);
	bundle_report_close(&rep);
	struct node *b = th_node(dir, net, "commune", "bk/bt/qt");
	ASSERT_OK(bundle_import(b, bun, &rep, why, sizeof(why)));
	ASSERT_EQ(rep.stats.applied, N);
	ASSERT_EQ(rep.problems.total, 0);
	bundle_report_close(&rep);
	ASSERT_OK(bundle_import(b, bun, &rep, why, sizeof(why)));
	ASSERT_EQ(rep.stats.applied, 0);
	ASSERT_EQ(rep.stats.duplicate, N);
	bundle_report_close(&rep);
	th_digest(b, db);
	ASSERT_MEMEQ(da, db, 32);

	TEST_START("an import with its own store step reports what log_ingest says, and its failure by name");
	{
		struct node *w = th_node(dir, net, "through", "bk/bt/qt/th");
		struct counting c = { w, 0, HAMLET_EMAPFULL };
		ASSERT_EQ(bundle_import_with(w, bun, counting_ingest, counting_trust, &c, &rep,
					     why, sizeof(why)),
			  HAMLET_EMAPFULL);
		ASSERT_EQ(c.calls, 1);
		ASSERT_TRUE(strstr(why, "the store step refused") != NULL);
		bundle_report_close(&rep);
		ASSERT_EQ(th_count_entries(w), 0);
		c.fail = 0;
		ASSERT_OK(bundle_import_with(w, bun, counting_ingest, counting_trust, &c, &rep,
					     why, sizeof(why)));
		ASSERT_EQ(c.calls, 2);
		ASSERT_EQ(rep.stats.applied, N);
		ASSERT_EQ(rep.trailer, BUNDLE_TRAILER_OK);
		ASSERT_EQ(rep.problems.total, 0);
		bundle_report_close(&rep);
		ASSERT_EQ(th_count_entries(w), N);
		node_close(w);
	}

	TEST_START("a run frame is 'hm' 'C' 0, a length, then [codec, run]: the run test_run pins");
	{
		struct rf_feed f;
		struct bundle_header h;
		struct bundle_writer *w;
		struct bundle_reader rd;
		struct bundle_frame fr;
		struct bundle_run *run = malloc(sizeof(*run));
		struct run_stats st = { 0 };
		struct run_head rh;
		char rp[4200], rwhy[200];
		uint8_t *file, *want;
		size_t fl, wl, boff, nrun = 0;
		rf_init(&f);
		memset(&h, 0, sizeof(h));
		memcpy(h.network_id, f.net, 32);
		memcpy(h.creator, f.pk, 32);
		snprintf(rp, sizeof(rp), "%s/run.bundle", dir);
		ASSERT_OK(bundle_writer_open(rp, &h, &w));
		ASSERT_OK(bundle_writer_add_run(w, f.v, 2, &st));
		ASSERT_EQ(st.compact, 2);
		ASSERT_EQ(bundle_writer_count(w), 2);
		ASSERT_OK(bundle_writer_finish(w, f.sk));
		ASSERT_OK(run_head_of(&f.v[0], &rh));
		ASSERT_OK(run_encode(&rh, f.v, 2, &want, &wl, NULL));
		file = th_slurp(rp, &fl);
		ASSERT_OK(bundle_reader_init(&rd, file, fl));
		while (bundle_reader_next(&rd, &fr, &boff) == 1) {
			if (fr.type != BUNDLE_FRAME_RUN)
				continue;
			nrun++;
			ASSERT_MEMEQ(file + fr.offset, "hmC\0", 4);
			ASSERT_EQ(fr.payload[0], 0x92);
			ASSERT_TRUE(fr.payload[1] == 0 || fr.payload[1] == 1);
			ASSERT_OK(bundle_run_parse(fr.payload, fr.len, run, rwhy,
						   sizeof(rwhy)));
			ASSERT_EQ(run->n, 2);
			for (size_t i = 0; i < 2; i++)
				ASSERT_MEMEQ(run->v[i].env, f.v[i].env,
					     f.v[i].env_len);
			if (fr.payload[1] == 1) {
				ASSERT_TRUE(run->raw != NULL);
				ASSERT_MEMEQ(run->raw, want, wl);
			}
			bundle_run_release(run);
		}
		ASSERT_EQ(nrun, 1);
		ASSERT_OK(bundle_check(rp, f.net, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.entries, 2);
		ASSERT_EQ(rep.trailer, BUNDLE_TRAILER_OK);
		bundle_report_close(&rep);
		free(file);
		free(want);

		TEST_START("a run frame declaring more than BUNDLE_MAX_RUN is refused before anything is allocated");
		{
			size_t zn = BUNDLE_MAX_RUN + 1, zl;
			uint8_t *zeros = calloc(1, zn), *z;
			struct mp_writer mw;
			ASSERT_OK(zst_compress(zeros, zn, &z, &zl));
			mp_writer_init(&mw);
			msgpack_pack_array(&mw.pk, 2);
			msgpack_pack_uint8(&mw.pk, 1);
			mp_pack_bin(&mw.pk, z, zl);
			ASSERT_EQ(bundle_run_parse((const uint8_t *)mw.sb.data,
						   mw.sb.size, run, rwhy,
						   sizeof(rwhy)),
				  HAMLET_ETOOBIG);
			ASSERT_TRUE(strstr(rwhy, "declaring at most") != NULL);
			ASSERT_TRUE(run->raw == NULL && run->envs == NULL);
			mp_writer_destroy(&mw);
			free(zeros);
			free(z);
		}
		TEST_START("a run frame of codec 2, a trust frame of kind 9 and a header of version 4 are named, with SPEC's error class");
		{
			struct mp_writer mw;
			struct bundle_header bh;
			const uint8_t *td;
			size_t tl;
			int kind;
			uint8_t b32[32] = { 0 };
			mp_writer_init(&mw);
			msgpack_pack_array(&mw.pk, 2);
			msgpack_pack_uint8(&mw.pk, 2);
			mp_pack_bin(&mw.pk, "x", 1);
			ASSERT_EQ(bundle_run_parse((const uint8_t *)mw.sb.data,
						   mw.sb.size, run, rwhy,
						   sizeof(rwhy)),
				  HAMLET_EFORMAT);
			ASSERT_TRUE(strstr(rwhy, "codec is not 0 (none) or 1 (zstd)") != NULL);
			mp_writer_destroy(&mw);

			mp_writer_init(&mw);
			msgpack_pack_array(&mw.pk, 2);
			msgpack_pack_uint8(&mw.pk, 9);
			mp_pack_bin(&mw.pk, "x", 1);
			ASSERT_EQ(bundle_trust_parse((const uint8_t *)mw.sb.data,
						     mw.sb.size, &kind, &td, &tl,
						     rwhy, sizeof(rwhy)),
				  HAMLET_EFORMAT);
			ASSERT_TRUE(strstr(rwhy, "kind 9 is not 1 (certificate)") != NULL);
			mp_writer_destroy(&mw);

			mp_writer_init(&mw);
			msgpack_pack_array(&mw.pk, 7);
			msgpack_pack_uint8(&mw.pk, 4);
			mp_pack_bin(&mw.pk, b32, 32);
			mp_pack_bin(&mw.pk, b32, 32);
			msgpack_pack_uint8(&mw.pk, 1);
			mp_pack_str(&mw.pk, "");
			msgpack_pack_nil(&mw.pk);
			msgpack_pack_nil(&mw.pk);
			ASSERT_EQ(bundle_header_parse((const uint8_t *)mw.sb.data,
						      mw.sb.size, &bh, rwhy,
						      sizeof(rwhy)),
				  HAMLET_EVERSION);
			ASSERT_TRUE(strstr(rwhy, "format version 4; this hamlet reads version 3") != NULL);
			mp_writer_destroy(&mw);
		}
		free(run);
		rf_free(&f);
	}

	TEST_START("a check tells entries repeated or out of order from fork evidence (in either order), and names the seqs a feed leaves out");
	{
		struct rf_feed f, g;
		rf_init(&f);
		rf_init(&g);
		for (int i = 3; i < RF_MAX; i++)
			rf_add(&f, ENTRY_PUT, "HP-3", "Lo Van Ba", 0);
		/* g: the same author's other fourth entry, and a fifth
		 * after it */
		rf_add(&g, ENTRY_PUT, "HP-3", "Someone else", 0);
		rf_add(&g, ENTRY_PUT, "HP-3", "Someone else again", 0);
		/* runs (first index, count); -1: g's fourth entry whole, -2
		 * its fifth */
		static const int plans[][8] = {
			{ 0, 8 },		    /* in order */
			{ 4, 4, 0, 4 },		    /* the second half first */
			{ 0, 4, 0, 4, 4, 4 },	    /* a run twice */
			{ 0, 3, 5, 3 },		    /* seqs 4 and 5 left out */
			{ 0, 8, -1, 0 },	    /* another entry at seq 4 */
			/* the other seq 4 first, then the feed from seq 4
			 * on: evidence (the fork's other branch), not a
			 * broken chain, as when it comes last */
			{ 0, 3, -1, 0, 3, 5 },
			/* seq 5 of the other branch after seqs 1 to 4 (its
			 * seq 4 not carried): its prev is not the seq 4 the
			 * bundle carries, SPEC 8 case 2: evidence, not a
			 * broken chain; and in the other order */
			{ 0, 4, -2, 0 },
			{ -2, 0, 0, 4 },
		};
		static const size_t nplan[] = { 2, 4, 6, 4, 4, 6, 4, 4 };
		for (size_t p = 0; p < 8; p++) {
			struct bundle_header h;
			struct bundle_writer *w;
			char rp[4200];
			memset(&h, 0, sizeof(h));
			memcpy(h.network_id, f.net, 32);
			memcpy(h.creator, f.pk, 32);
			snprintf(rp, sizeof(rp), "%s/order%zu.bundle", dir, p);
			ASSERT_OK(bundle_writer_open(rp, &h, &w));
			for (size_t k = 0; k < nplan[p]; k += 2) {
				if (plans[p][k] < 0) {
					int gi = 2 - plans[p][k];
					ASSERT_OK(bundle_writer_add(w, g.env[gi], g.v[gi].env_len,
								    g.sig[gi], g.body[gi],
								    g.v[gi].body_len));
				}
				else
					ASSERT_OK(bundle_writer_add_run(
						w, &f.v[plans[p][k]],
						(size_t)plans[p][k + 1], NULL));
			}
			ASSERT_OK(bundle_writer_finish(w, f.sk));
			ASSERT_OK(bundle_check(rp, f.net, &rep, why, sizeof(why)));
			ASSERT_EQ(rep.bad_entries, 0);
			ASSERT_EQ(rep.trailer, BUNDLE_TRAILER_OK);
			ASSERT_EQ(rep.feeds, 1);
			ASSERT_EQ(problems_count(&rep.problems, "chain"), 0);
			ASSERT_EQ(rep.duplicates, p == 2 ? 4 : 0);
			ASSERT_EQ(rep.gaps, p == 3 ? 2 : 0);
			ASSERT_EQ(problems_count(&rep.problems, "gap"), p == 3);
			ASSERT_EQ(problems_count(&rep.problems, "fork"),
				  p == 4 || p >= 6 ? 1 : p == 5 ? 5 : 0);
			/* every entry counted once: by its kind, or as the
			 * fork evidence or the repeat it is (the other
			 * branch's seq 5 placed first is its kind's) */
			ASSERT_EQ(rep.fork_evidence,
				  p == 4 || p == 6 ? 1 : p == 5 ? 5 : 0);
			ASSERT_EQ(rep.puts + rep.deletes + rep.erasures +
					  rep.others + rep.fork_evidence +
					  rep.duplicates,
				  rep.entries);
			ASSERT_EQ(rep.problems.total, p == 5 ? 5 : p >= 3);
			if (p >= 6)
				ASSERT_TRUE(strstr(rep.problems.v[0].text,
						   "fork evidence") != NULL);
			if (p == 3)
				ASSERT_TRUE(strstr(rep.problems.v[0].text,
						   "seq 4 to 5 missing") != NULL);
			bundle_report_close(&rep);
		}
		rf_free(&f);
		rf_free(&g);
	}

	TEST_START("an entry of another network is named whether the network is given or read from the header");
	{
		struct rf_feed f, of;
		char rp[4200];
		rf_init(&f);
		rf_init(&of);
		memset(of.net, 0x33, 32);
		rf_add(&of, ENTRY_PUT, "HP-9", "Elsewhere", 0);
		snprintf(rp, sizeof(rp), "%s/othernet.bundle", dir);
		bundle_of(rp, &f, 3, &of, 3);
		for (int given = 0; given < 2; given++) {
			ASSERT_OK(bundle_check(rp, given ? f.net : NULL, &rep,
					       why, sizeof(why)));
			ASSERT_EQ(rep.bad_entries, 1);
			ASSERT_EQ(problems_count(&rep.problems, "network"), 1);
			bundle_report_close(&rep);
		}
		rf_free(&f);
		rf_free(&of);
	}

	TEST_START("an entry signed as it is but dated more than 24 h ahead is a finding on its author's clock, not an entry that does not verify");
	{
		struct rf_feed f;
		char rp[4200];
		rf_init(&f);
		f.next_hlc = (hlc_wall_ms() + 3 * 86400000ull) << 16;
		rf_add(&f, ENTRY_PUT, "HP-9", "Clock Ahead", 0);
		snprintf(rp, sizeof(rp), "%s/ahead.bundle", dir);
		bundle_of(rp, &f, 4, NULL, 0);
		ASSERT_OK(bundle_check(rp, f.net, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.bad_entries, 0);
		ASSERT_EQ(rep.future, 1);
		ASSERT_EQ(rep.puts, 3);
		ASSERT_EQ(problems_count(&rep.problems, "future"), 1);
		ASSERT_TRUE(strstr(rep.problems.v[0].text,
				   "author's clock ahead") != NULL);
		ASSERT_EQ(rep.problems.total, 1);
		bundle_report_close(&rep);
		rf_free(&f);
	}

	TEST_START("an entry an import would refuse on its own (a put with no body) is named by the check too");
	{
		struct rf_feed f;
		char rp[4200];
		rf_init(&f);
		rf_add(&f, ENTRY_PUT, "HP-9", NULL, 0);
		snprintf(rp, sizeof(rp), "%s/schema.bundle", dir);
		bundle_of(rp, &f, 4, NULL, 0);
		ASSERT_OK(bundle_check(rp, f.net, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.bad_entries, 1);
		ASSERT_EQ(problems_count(&rep.problems, "schema"), 1);
		bundle_report_close(&rep);
		rf_free(&f);
	}

	TEST_START("an entry whose body was altered, the bundle signed again by its creator, is named in its place: not also as seqs left out");
	{
		struct rf_feed f;
		struct bundle_header h;
		struct bundle_writer *w;
		char rp[4200];
		size_t bl;
		uint8_t *alt;
		rf_init(&f);
		rf_add(&f, ENTRY_PUT, "HP-4", "Lo Van Bon", 0);
		alt = rf_body("Someone else", &bl);
		memset(&h, 0, sizeof(h));
		memcpy(h.network_id, f.net, 32);
		memcpy(h.creator, f.pk, 32);
		snprintf(rp, sizeof(rp), "%s/altered.bundle", dir);
		ASSERT_OK(bundle_writer_open(rp, &h, &w));
		ASSERT_OK(bundle_writer_add_run(w, &f.v[0], 1, NULL));
		/* seq 2 with another body than the one it signs */
		ASSERT_OK(bundle_writer_add(w, f.env[1], f.v[1].env_len,
					    f.sig[1], alt, bl));
		ASSERT_OK(bundle_writer_add_run(w, &f.v[2], 2, NULL));
		ASSERT_OK(bundle_writer_finish(w, f.sk));
		ASSERT_OK(bundle_check(rp, f.net, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.trailer, BUNDLE_TRAILER_OK);
		ASSERT_EQ(rep.bad_entries, 1);
		ASSERT_EQ(problems_count(&rep.problems, "body"), 1);
		ASSERT_TRUE(strstr(rep.problems.v[0].text,
				   "seq 2): body does not match its signed hash") != NULL);
		ASSERT_EQ(rep.gaps, 0);
		ASSERT_EQ(problems_count(&rep.problems, "gap"), 0);
		ASSERT_EQ(problems_count(&rep.problems, "chain"), 0);
		ASSERT_EQ(rep.problems.total, 1);
		bundle_report_close(&rep);
		free(alt);
		rf_free(&f);
	}

	TEST_START("a directory is neither replaced by a bundle nor read as one");
	ASSERT_EQ(bundle_create(a, dir, &o, NULL, why, sizeof(why)), -EISDIR);
	ASSERT_TRUE(strstr(why, "a directory or a device") != NULL);
	/* bad input, as a file that is no bundle: not a system error */
	ASSERT_EQ(bundle_import(b, dir, &rep, why, sizeof(why)), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "is a directory, not a bundle") != NULL);
	bundle_report_close(&rep);

	TEST_START("a summary file's bytes, version 4, read as SPEC section 3 says (golden)");
	summary_golden(dir);

	TEST_START("a summary or an empty file given as a bundle is named for what it is");
	th_spit(bad, (const uint8_t *)SUMMARY_MAGIC "and more", 16);
	ASSERT_EQ(bundle_import(b, bad, &rep, why, sizeof(why)), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "is a summary, not a bundle") != NULL);
	bundle_report_close(&rep);
	th_spit(bad, (const uint8_t *)"", 0);
	ASSERT_EQ(bundle_import(b, bad, &rep, why, sizeof(why)), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "is empty") != NULL);
	bundle_report_close(&rep);

	TEST_START("a bundle cut inside its first 8 bytes is called cut short, sealed or not");
	{
		char want[4200];
		th_spit(bad, (const uint8_t *)BUNDLE_MAGIC, 7);
		ASSERT_EQ(bundle_import(b, bad, &rep, why, sizeof(why)),
			  HAMLET_EFORMAT);
		snprintf(want, sizeof(want),
			 "%s is cut short: only its first 7 bytes are there (copy it again from the node that made it)",
			 bad);
		ASSERT_STREQ(why, want);
		bundle_report_close(&rep);
		th_spit(bad, (const uint8_t *)SEAL_MAGIC, 3);
		ASSERT_EQ(bundle_check(bad, NULL, &rep, why, sizeof(why)),
			  HAMLET_EFORMAT);
		ASSERT_TRUE(strstr(why, "is cut short: only its first 3 bytes") !=
			    NULL);
		bundle_report_close(&rep);
		/* seven bytes of something else are not */
		th_spit(bad, (const uint8_t *)"PK\x03\x04" "abc", 7);
		ASSERT_EQ(bundle_import(b, bad, &rep, why, sizeof(why)),
			  HAMLET_EFORMAT);
		ASSERT_TRUE(strstr(why, "is not a hamlet bundle") != NULL);
		bundle_report_close(&rep);
		/* a bundle, or a sealed one, of another format version is
		 * named as one, with both versions */
		for (int v = 0; v < 2; v++) {
			th_spit(bad, (const uint8_t *)(v ? "HAMLETE\x07xyz"
							 : "HAMLETB\x02xyz"), 11);
			ASSERT_EQ(v ? bundle_check(bad, NULL, &rep, why, sizeof(why))
				    : bundle_import(b, bad, &rep, why, sizeof(why)),
				  HAMLET_EFORMAT);
			ASSERT_TRUE(strstr(why, v ? "is a hamlet bundle of format version 7, and this hamlet reads version 1"
						  : "is a hamlet bundle of format version 2, and this hamlet reads version 1") != NULL);
			bundle_report_close(&rep);
		}
	}

	TEST_START("a summary cut short on the stick says so, and to write it again at its node");
	{
		char sp[4096], want[4400];
		size_t len;
		uint8_t *p;
		struct summary *sm;
		p = summary_of(b, dir, "b.summary", sp, &len);
		th_spit(bad, p, len - 20);
		ASSERT_EQ(summary_read(bad, &sm, why, sizeof(why)),
			  HAMLET_EFORMAT);
		snprintf(want, sizeof(want),
			 "summary %s is cut short or damaged. Write it again at the node that made it (\"hamlet summary --out FILE\" there) and bring the new file",
			 bad);
		ASSERT_STREQ(why, want);
		/* cut inside its magic, or empty: how much is left */
		th_spit(bad, p, 5);
		ASSERT_EQ(summary_read(bad, &sm, why, sizeof(why)),
			  HAMLET_EFORMAT);
		ASSERT_TRUE(strstr(why, "is cut short: only its first 5 bytes are there. Write it again") != NULL);
		th_spit(bad, p, 0);
		ASSERT_EQ(summary_read(bad, &sm, why, sizeof(why)),
			  HAMLET_EFORMAT);
		ASSERT_TRUE(strstr(why, "is empty. Write it again") != NULL);
		/* and something else is not a summary */
		th_spit(bad, (const uint8_t *)"PK\x03\x04" "abcdefgh", 12);
		ASSERT_EQ(summary_read(bad, &sm, why, sizeof(why)),
			  HAMLET_EFORMAT);
		ASSERT_TRUE(strstr(why, "is not a hamlet summary file") != NULL);
		/* nor is one of another format version, which says so (its
		 * checksum covers its own magic: the same bytes under this
		 * version's magic would be a damaged summary of this one) */
		p[7] = 3;
		summary_resum(p, len);
		th_spit(bad, p, len);
		ASSERT_EQ(summary_read(bad, &sm, why, sizeof(why)),
			  HAMLET_EFORMAT);
		ASSERT_TRUE(strstr(why, "is a hamlet summary of format version 3, and this hamlet reads version 2") != NULL);
		free(p);
	}

	TEST_START("a summary with any one bit flipped is refused as damaged, before anything of it is read");
	{
		char sp[4096], want[4400];
		size_t len, step, tried = 0;
		uint8_t *p;
		struct summary *sm;
		p = summary_of(b, dir, "b-flip.summary", sp, &len);
		/* as written: version 4, then the checksum of all before it */
		ASSERT_EQ(p[9], SUMMARY_VERSION);
		{
			uint8_t h[32];
			crypto_generichash(h, 32, p, len - 32, NULL, 0);
			ASSERT_MEMEQ(p + len - 32, h, 32);
		}
		snprintf(want, sizeof(want),
			 "summary %s is cut short or damaged. Write it again at the node that made it (\"hamlet summary --out FILE\" there) and bring the new file",
			 bad);
		/* every byte of a small file; at most about 2,000 of a large
		 * one */
		step = len > 4096 ? len / 2000 + 1 : 1;
		for (size_t i = 0; i < len; i += step, tried++) {
			p[i] ^= (uint8_t)(1u << (i % 8));
			th_spit(bad, p, len);
			sm = NULL;
			ASSERT_EQ(summary_read(bad, &sm, why, sizeof(why)),
				  HAMLET_EFORMAT);
			ASSERT_TRUE(sm == NULL);
			ASSERT_STREQ(why, want);
			p[i] ^= (uint8_t)(1u << (i % 8));
		}
		ASSERT_TRUE(tried >= (len < 2000 ? len : 2000));
		free(p);
	}

	TEST_START("a bundle for a summary whose seq of this node's own feed was damaged is refused; nothing of it is taken");
	{
		char sp[4096], out[4096];
		struct bundle_create_result res = { 0 };
		struct bundle_create_opts fo = { NULL, NULL, NULL, 0, NULL,
						 NULL, NULL, NULL };
		struct node_feed_lag before[16], after[16];
		size_t len, nb = 0, na = 0;
		uint8_t key[32], *p, *at;
		snprintf(out, sizeof(out), "%s/a-for-b.bundle", dir);
		p = summary_of(b, dir, "b-for-a.summary", sp, &len);
		/* the commune holds the village's feed to seq N: [key, N, head] */
		log_feed_key(a->pk, "bk/bt/qt/na-pai", key);
		ASSERT_TRUE((at = memmem(p, len, key, 32)) != NULL);
		ASSERT_EQ(at[32], N); /* a positive fixint */
		memset(before, 0, sizeof(before));
		memset(after, 0, sizeof(after));
		ASSERT_OK(node_feeds_list(a, before, 16, &nb));
		fo.for_summary = bad;
		/* up (a store put back from a backup, it would say, and hold
		 * every write) or down (a false fork): one bit each */
		for (int bit = 0; bit < 5; bit++) {
			at[32] ^= (uint8_t)(1u << bit);
			th_spit(bad, p, len);
			ASSERT_EQ(bundle_create(a, out, &fo, &res, why, sizeof(why)),
				  HAMLET_EFORMAT);
			ASSERT_TRUE(strstr(why, "is cut short or damaged") != NULL);
			at[32] ^= (uint8_t)(1u << bit);
		}
		ASSERT_OK(node_feeds_list(a, after, 16, &na));
		ASSERT_EQ(na, nb);
		ASSERT_TRUE(nb == 0 ||
			    memcmp(before, after, nb * sizeof(*before)) == 0);
		/* the summary as written: the village's feed is the commune's
		 * already, nothing of its own is behind */
		fo.for_summary = sp;
		ASSERT_OK(bundle_create(a, out, &fo, &res, why, sizeof(why)));
		ASSERT_EQ(res.own_n, 0);
		free(p);
	}

	TEST_START("a bundle of another network is refused whole, saying so");
	ASSERT_EQ(bundle_import(other, bun, &rep, why, sizeof(why)),
		  HAMLET_ENETWORK);
	ASSERT_TRUE(strstr(why, "network") != NULL);
	bundle_report_close(&rep);
	ASSERT_EQ(th_count_entries(other), 0);

	TEST_START("a summary of another network is refused, naming both networks by name and id (two may share a name)");
	{
		char sp[4096], out[4096], want[4400], lw[1024], hx[9], hy[9];
		struct bundle_create_opts fo = { NULL, NULL, NULL, 0, NULL,
						 NULL, NULL, NULL };
		snprintf(sp, sizeof(sp), "%s/stranger.summary", dir);
		snprintf(out, sizeof(out), "%s/for-stranger.bundle", dir);
		ASSERT_OK(summary_write(other->st, other->net.id, other->pk, NULL,
					0, sp, NULL));
		fo.for_summary = sp;
		ASSERT_EQ(bundle_create(a, out, &fo, NULL, lw, sizeof(lw)),
			  HAMLET_ENETWORK);
		sodium_bin2hex(hx, sizeof(hx), other->net.id, 4);
		sodium_bin2hex(hy, sizeof(hy), a->net.id, 4);
		snprintf(want, sizeof(want),
			 "summary %s is from another network (id %s…); this node is on %s (id %s…)",
			 sp, hx, a->net.name, hy);
		ASSERT_STREQ(lw, want);
	}

	TEST_START("a second header frame is a damaged frame, named by its byte");
	{
		size_t len, hl;
		uint8_t *p = th_slurp(bun, &len), *q;
		char want[64];
		int named = 0;
		ASSERT_TRUE(len > 16 && p[8] == 'h' && p[10] == 'H');
		hl = 8 + ((size_t)p[12] << 24 | (size_t)p[13] << 16 |
			  (size_t)p[14] << 8 | p[15]);
		ASSERT_TRUE(8 + hl < len);
		ASSERT_TRUE((q = malloc(len + hl)) != NULL);
		memcpy(q, p, 8 + hl);
		memcpy(q + 8 + hl, p + 8, hl); /* the header again */
		memcpy(q + 8 + 2 * hl, p + 8 + hl, len - 8 - hl);
		th_spit(bad, q, len + hl);
		ASSERT_OK(bundle_check(bad, NULL, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.damaged_frames, 1);
		snprintf(want, sizeof(want), "second header at byte %zu", 8 + hl);
		for (size_t i = 0; i < rep.problems.n; i++)
			named |= strstr(rep.problems.v[i].text, want) != NULL;
		ASSERT_TRUE(named);
		bundle_report_close(&rep);
		free(q);
		free(p);
	}

	TEST_START("a truncated bundle imports what is whole and says it was cut");
	{
		size_t len;
		size_t r0, r1;
		uint8_t *p = th_slurp(bun, &len);
		/* cut inside the trailer: the run before it is whole */
		ASSERT_TRUE(th_run_span(p, len, &r0, &r1));
		th_spit(bad, p, r1 + 10);
		struct node *c = th_node(dir, net, "cut", "bk/bt/qt");
		ASSERT_OK(bundle_import(c, bad, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.trailer, BUNDLE_TRAILER_MISSING);
		ASSERT_EQ(rep.stats.applied, N);
		/* the cut is one damaged frame, not one per remaining byte,
		 * named as a cut: the length it declares, where the file ends */
		ASSERT_EQ(rep.damaged_frames, 1);
		{
			char want[160];
			snprintf(want, sizeof(want),
				 "frame at byte %zu is cut short: after its 8-byte start it declares ", r1);
			ASSERT_TRUE(strstr(rep.problems.v[0].text, want) != NULL);
			ASSERT_TRUE(strstr(rep.problems.v[0].text,
					   "bytes, and the file holds 2 of them") != NULL);
		}
		bundle_report_close(&rep);
		/* cut inside the trailer's 8-byte start: a cut too, not
		 * "malformed data" */
		th_spit(bad, p, r1 + 5);
		ASSERT_OK(bundle_check(bad, NULL, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.trailer, BUNDLE_TRAILER_MISSING);
		ASSERT_EQ(rep.damaged_frames, 1);
		{
			char want[160];
			snprintf(want, sizeof(want),
				 "the file ends 5 bytes into the start of a frame at byte %zu (a frame's start is 8 bytes): it is cut short",
				 r1);
			ASSERT_TRUE(strstr(rep.problems.v[0].text, want) != NULL);
		}
		bundle_report_close(&rep);
		/* the trailer's length damaged, nothing cut: the last frame
		 * is named, not only a cut */
		{
			uint8_t save = p[r1 + 4];
			p[r1 + 4] ^= 0x40; /* its length's high byte: over any limit */
			th_spit(bad, p, len);
			p[r1 + 4] = save;
			ASSERT_OK(bundle_check(bad, NULL, &rep, why, sizeof(why)));
			ASSERT_EQ(rep.trailer, BUNDLE_TRAILER_MISSING);
			int named = 0;
			for (size_t i = 0; i < rep.problems.n; i++) {
				char want[120];
				snprintf(want, sizeof(want),
					 "the last frame, at byte %zu, is damaged", r1);
				named += strstr(rep.problems.v[i].text, want) != NULL;
			}
			ASSERT_EQ(named, 1);
			bundle_report_close(&rep);
		}
		/* a run's length damaged to run past the end, frames after
		 * it: damage in the middle, not a cut */
		{
			uint8_t save[4];
			uint32_t n = (uint32_t)(len - r0) + 100;
			memcpy(save, p + r0 + 4, 4);
			p[r0 + 4] = (uint8_t)(n >> 24);
			p[r0 + 5] = (uint8_t)(n >> 16);
			p[r0 + 6] = (uint8_t)(n >> 8);
			p[r0 + 7] = (uint8_t)n;
			th_spit(bad, p, len);
			memcpy(p + r0 + 4, save, 4);
			ASSERT_OK(bundle_check(bad, NULL, &rep, why, sizeof(why)));
			for (size_t i = 0; i < rep.problems.n; i++)
				ASSERT_TRUE(!strstr(rep.problems.v[i].text,
						    "is cut short"));
			ASSERT_TRUE(rep.damaged_frames >= 1);
			ASSERT_TRUE(rep.trailer != BUNDLE_TRAILER_MISSING);
			bundle_report_close(&rep);
		}
		node_close(c);
		free(p);
	}

	TEST_START("any single flipped byte is detected and named; intact entries still import; nothing stored is lost");
	{
		size_t len;
		uint8_t *p = th_slurp(bun, &len);
		struct node *c = th_node(dir, net, "victim", "bk/bt/qt");
		ASSERT_OK(th_put(c, "health_profile", "OWN-1",
				 "person_id=009988776655;full_name=Own;birth_date=1970-07-07"));
		/* before: the victim's records; after: with the bundle's too */
		uint8_t before[32], after[32], now[32];
		th_digest(c, before);
		{
			char src[4096], home[4096];
			struct node *ref;
			snprintf(src, sizeof(src), "%s/victim", dir);
			snprintf(home, sizeof(home), "%s/ref", dir);
			th_copy_tree(src, home);
			ASSERT_OK(node_open(home, 0, &ref, why, sizeof(why)));
			ASSERT_OK(bundle_import(ref, bun, &rep, why, sizeof(why)));
			bundle_report_close(&rep);
			th_digest(ref, after);
			node_close(ref);
			ASSERT_TRUE(memcmp(before, after, 32) != 0);
		}
		for (size_t i = 0; i < len; i++) {
			p[i] ^= 0x40;
			th_spit(bad, p, len);
			p[i] ^= 0x40;
			/* a fresh copy of the victim's store for each flip */
			char src[4096], home[4096];
			struct node *v;
			snprintf(src, sizeof(src), "%s/victim", dir);
			snprintf(home, sizeof(home), "%s/v2", dir);
			th_copy_tree(src, home);
			ASSERT_OK(node_open(home, 0, &v, why, sizeof(why)));
			int r = bundle_import(v, bad, &rep, why, sizeof(why));
			th_digest(v, now);
			/* detected: refused with a reason, or a finding */
			if (r < 0) {
				ASSERT_TRUE(why[0] != 0);
				/* refused whole: not a record changed */
				if (memcmp(now, before, 32) != 0)
					TEST_FAIL_("flip at byte %zu was refused, yet changed the records",
						   i);
			} else {
				if (rep.problems.total == 0)
					TEST_FAIL_("flip at byte %zu went unnoticed", i);
				/* every entry but the damaged one is stored or held */
				if (rep.stats.applied + rep.stats.held <
				    (uint64_t)N - lost_ok(p, len, i, N))
					TEST_FAIL_("flip at byte %zu lost intact entries: %llu applied, %llu held",
						   i,
						   (unsigned long long)rep.stats.applied,
						   (unsigned long long)rep.stats.held);
			}
			bundle_report_close(&rep);
			/* what the victim had is intact and the store audits clean */
			struct store_txn *t;
			struct record_view rv;
			ASSERT_OK(store_txn_begin(v->st, 1, &t));
			ASSERT_OK(record_view_load(t, "health_profile", "OWN-1", &rv));
			record_view_close(&rv);
			store_txn_abort(t);
			/* the store audits clean, and the intact bundle
			 * completes it: exactly the victim's records and the
			 * bundle's, nothing else */
			th_bundle_heals(v, bun, after, i);
			node_close(v);
		}
		node_close(c);
		free(p);
	}

	TEST_START("entries written before the node's certificate was installed travel with it, not held");
	{
		/* the peer first: it learns nothing of late's chain but by
		 * the bundle */
		struct node *late = th_node_bare(dir, net, "late", "bk/bt/qt/late");
		struct node *peer = th_node(dir, net, "late-peer", "bk/bt/qt");
		size_t fl;
		uint8_t *file;
		char lb[4096];
		ASSERT_OK(th_put(late, "health_profile", "LATE-1",
				 "person_id=001122339999;full_name=Late;birth_date=1990-04-12"));
		file = th_chain_for(late, net, "bk/bt/qt/late", "bk/bt/qt/late", 0,
				    0, &fl);
		/* what `hamlet cert install` does: the file, not the store */
		ASSERT_OK(node_cert_install(late, file, fl, hlc_wall_ms(), why,
					    sizeof(why)));
		free(file);
		snprintf(lb, sizeof(lb), "%s/late.bundle", dir);
		ASSERT_OK(bundle_create(late, lb, &o, NULL, why, sizeof(why)));
		ASSERT_OK(bundle_import(peer, lb, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.stats.applied, 1);
		ASSERT_EQ(rep.stats.held_new, 0);
		ASSERT_EQ(rep.trust_added, 1);
		ASSERT_EQ(rep.problems.total, 0);
		bundle_report_close(&rep);
		ASSERT_STREQ(th_field(peer, "health_profile", "LATE-1", "full_name",
				      lb, sizeof(lb)),
			     "Late");
		th_node_close(peer);
		th_node_close(late);
	}

	TEST_START("a bundle for a summary counts the certificates its node lacks; a summary of version 2 or 3 (an older hamlet, no checksum) is refused by name");
	{
		/* the village first, so that it learns the peer's
		 * certificate; the peer learns the village's by the stick */
		struct node *w = th_node_bare(dir, net, "nv", "bk/bt/qt/nv");
		struct node *peer = th_node(dir, net, "nv-peer", "bk/bt/qt");
		struct bundle_create_opts fo = { NULL, NULL, NULL, 0, NULL,
						 NULL, NULL, NULL };
		struct bundle_create_result res;
		struct summary *sm;
		struct mp_writer mw;
		uint8_t key[TRUST_KEY_LEN] = { TRUST_CERT }, *file, *body, *oldf;
		char sp[4096], sp2[4096], wb[4096];
		size_t fl, bl;
		file = th_chain_for(w, net, "bk/bt/qt/nv", "bk/bt/qt/nv", 0, 0,
				    &fl);
		ASSERT_OK(node_cert_install(w, file, fl, hlc_wall_ms(), why,
					    sizeof(why)));
		free(file);
		snprintf(sp, sizeof(sp), "%s/nv-peer.summary", dir);
		snprintf(sp2, sizeof(sp2), "%s/nv-peer-old.summary", dir);
		snprintf(wb, sizeof(wb), "%s/nv.bundle", dir);
		ASSERT_OK(summary_write(peer->st, peer->net.id, peer->pk, NULL, 0,
					sp, NULL));
		ASSERT_OK(summary_read(sp, &sm, why, sizeof(why)));
		ASSERT_TRUE(sm->ntrust >= 1); /* its own certificate */
		ASSERT_EQ(summary_has_trust(sm, sm->trust[0]), 1);
		ASSERT_EQ(summary_has_trust(sm, key), 0);
		summary_free(sm);
		fo.for_summary = sp;
		ASSERT_OK(bundle_create(w, wb, &fo, &res, why, sizeof(why)));
		ASSERT_EQ(res.entries, 0);
		ASSERT_EQ(res.trust_unknown, 0);
		ASSERT_EQ(res.trust_new, 1); /* the village's certificate */
		ASSERT_TRUE(res.trust_items >= 2);
		ASSERT_OK(bundle_import(peer, wb, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.trust_added, 1);
		bundle_report_close(&rep);
		ASSERT_OK(summary_write(peer->st, peer->net.id, peer->pk, NULL, 0,
					sp, NULL));
		ASSERT_OK(bundle_create(w, wb, &fo, &res, why, sizeof(why)));
		ASSERT_EQ(res.trust_new, 0);
		ASSERT_EQ(res.trust_unknown, 0);
		/* versions 2 (the same fields, without the trust set's keys)
		 * and 3 (with them), of an older hamlet, carry no checksum:
		 * refused by name, and no bundle is made for them */
		for (unsigned ver = 2; ver <= 3; ver++) {
			char want[4400], lw[1024]; /* the whole sentence */
			mp_writer_init(&mw);
			msgpack_pack_array(&mw.pk, ver == 2 ? 6 : 7);
			msgpack_pack_uint64(&mw.pk, ver);
			mp_pack_bin(&mw.pk, peer->net.id, 32);
			mp_pack_bin(&mw.pk, peer->pk, 32);
			msgpack_pack_uint64(&mw.pk,
					    hlc_wall_ms() << HLC_COUNTER_BITS);
			msgpack_pack_array(&mw.pk, 0);
			mp_pack_bin(&mw.pk, (const uint8_t *)"", 0);
			if (ver == 3)
				msgpack_pack_array(&mw.pk, 0);
			body = mp_writer_take(&mw, &bl);
			mp_writer_destroy(&mw);
			ASSERT_TRUE(body != NULL && (oldf = malloc(8 + bl)) != NULL);
			memcpy(oldf, "HAMLETS\x01", 8); /* format 1 */
			memcpy(oldf + 8, body, bl);
			th_spit(sp2, oldf, 8 + bl);
			free(oldf);
			free(body);
			ASSERT_EQ(summary_read(sp2, &sm, lw, sizeof(lw)),
				  HAMLET_EFORMAT);
			snprintf(want, sizeof(want),
				 "summary %s was made by an older hamlet (summary format 1, which carries no checksum), and this hamlet reads format 2 only: make a new summary at that node (\"hamlet summary --out FILE\" there, once it runs this hamlet) and bring the new file",
				 sp2);
			ASSERT_STREQ(lw, want);
			fo.for_summary = sp2;
			ASSERT_EQ(bundle_create(w, wb, &fo, &res, lw, sizeof(lw)),
				  HAMLET_EFORMAT);
			ASSERT_STREQ(lw, want);
		}
		th_node_close(peer);
		th_node_close(w);
	}

	TEST_START("entries held for their author's certificate are counted released when a later bundle brings it");
	{
		struct node *late = th_node_bare(dir, net, "late2", "bk/bt/qt/late2");
		struct node *peer = th_node(dir, net, "late2-peer", "bk/bt/qt");
		size_t fl;
		uint8_t *file;
		char lb[4096];
		ASSERT_OK(th_put(late, "health_profile", "LATE-2",
				 "person_id=001122339998;full_name=Late Two;birth_date=1990-04-12"));
		ASSERT_OK(th_put(late, "health_profile", "LATE-3",
				 "person_id=001122339997;full_name=Late Three;birth_date=1990-04-12"));
		snprintf(lb, sizeof(lb), "%s/late2-a.bundle", dir);
		ASSERT_OK(bundle_create(late, lb, &o, NULL, why, sizeof(why)));
		ASSERT_OK(bundle_import(peer, lb, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.stats.held_new, 2); /* no certificate yet */
		ASSERT_EQ(rep.stats.applied, 0);
		bundle_report_close(&rep);
		file = th_chain_for(late, net, "bk/bt/qt/late2", "bk/bt/qt/late2",
				    0, 0, &fl);
		ASSERT_OK(node_cert_install(late, file, fl, hlc_wall_ms(), why,
					    sizeof(why)));
		free(file);
		snprintf(lb, sizeof(lb), "%s/late2-b.bundle", dir);
		ASSERT_OK(bundle_create(late, lb, &o, NULL, why, sizeof(why)));
		ASSERT_OK(bundle_import(peer, lb, &rep, why, sizeof(why)));
		/* the certificate came first and let the two in: released,
		 * then met again as the bundle's own */
		ASSERT_EQ(rep.trust_added, 1);
		ASSERT_EQ(rep.stats.released, 2);
		/* the file's two, stored by this import: applied, not
		 * duplicates, and counted once */
		ASSERT_EQ(rep.stats.applied, 2);
		ASSERT_EQ(rep.stats.duplicate, 0);
		bundle_report_close(&rep);
		ASSERT_STREQ(th_field(peer, "health_profile", "LATE-3", "full_name",
				      lb, sizeof(lb)),
			     "Late Three");
		th_node_close(peer);
		th_node_close(late);
	}

	TEST_START("sticks imported out of order: applied counts the file's own entries, released those let in");
	{
		struct node *v = th_node(dir, net, "ban-v", "bk/bt/qt/ban-v");
		struct node *c = th_node(dir, net, "xa-c", "bk/bt/qt");
		struct node *c1 = th_node(dir, net, "xa-c1", "bk/bt/qt");
		char t1[4096], t2[4096];
		snprintf(t1, sizeof(t1), "%s/trip1.bundle", dir);
		snprintf(t2, sizeof(t2), "%s/trip2.bundle", dir);
		/* trip 1: seq 1..300; trip 2: 301..350, for a commune that
		 * holds trip 1 */
		th_put_people(v, 0, 300);
		ASSERT_OK(bundle_create(v, t1, &o, NULL, why, sizeof(why)));
		ASSERT_OK(bundle_import(c1, t1, &rep, why, sizeof(why)));
		bundle_report_close(&rep);
		th_put_people(v, 300, 50);
		{
			/* what the village sends when it knows the commune
			 * holds the first 300 */
			char sp[4096];
			struct bundle_create_opts fo = o;
			snprintf(sp, sizeof(sp), "%s/c1.summary", dir);
			ASSERT_OK(summary_write(c1->st, c1->net.id, c1->pk, NULL,
						0, sp, NULL));
			fo.for_summary = sp;
			fo.unsealed = 1; /* read at another node than c1 */
			ASSERT_OK(bundle_create(v, t2, &fo, NULL, why,
						sizeof(why)));
		}
		ASSERT_OK(bundle_import(c, t2, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.entries, 50);
		ASSERT_EQ(rep.stats.held, 50);
		ASSERT_EQ(rep.stats.applied, 0);
		bundle_report_close(&rep);
		ASSERT_OK(bundle_import(c, t1, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.entries, 300);
		ASSERT_EQ(rep.stats.applied, 300);
		ASSERT_EQ(rep.stats.released, 50);
		ASSERT_EQ(rep.stats.duplicate, 0);
		bundle_report_close(&rep);
		ASSERT_EQ(th_count_entries(c), 350);
		th_node_close(c1);
		th_node_close(c);

		TEST_START("a later trip's sound entries too far ahead are neither rejected nor stored, and come in when the file is imported again");
		c = th_node(dir, net, "xa-c2", "bk/bt/qt");
		c1 = th_node(dir, net, "xa-c3", "bk/bt/qt");
		/* trip 1 now carries seq 1..4200, trip 2 seq 4201..4210 */
		th_put_people(v, 350, 4200 - 350);
		ASSERT_OK(bundle_create(v, t1, &o, NULL, why, sizeof(why)));
		ASSERT_OK(bundle_import(c1, t1, &rep, why, sizeof(why)));
		bundle_report_close(&rep);
		th_put_people(v, 4200, 10);
		{
			char sp[4096];
			struct bundle_create_opts fo = o;
			snprintf(sp, sizeof(sp), "%s/c3.summary", dir);
			ASSERT_OK(summary_write(c1->st, c1->net.id, c1->pk, NULL,
						0, sp, NULL));
			fo.for_summary = sp;
			fo.unsealed = 1; /* read at another node than c1 */
			ASSERT_OK(bundle_create(v, t2, &fo, NULL, why,
						sizeof(why)));
		}
		ASSERT_OK(bundle_import(c, t2, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.entries, 10);
		ASSERT_EQ(rep.ahead, 10);
		ASSERT_EQ(rep.stats.rejected, 0);
		ASSERT_EQ(rep.stats.held, 0);
		ASSERT_EQ(rep.stats.applied, 0);
		ASSERT_EQ(problems_count(&rep.problems, "ahead"), 10);
		ASSERT_EQ(problems_count(&rep.problems, "rejected"), 0);
		/* in plain words: what is held here, no constant's name */
		ASSERT_TRUE(strstr(rep.problems.v[0].text,
				   "too far ahead: this node holds feed bk/bt/qt/ban-v up to seq 0 and keeps waiting only entries less than 4096 past that; this is seq 4201") != NULL);
		ASSERT_TRUE(strstr(rep.problems.v[0].text, "LOG_MAX") == NULL);
		bundle_report_close(&rep);
		ASSERT_EQ(th_count_entries(c), 0);
		ASSERT_OK(bundle_import(c, t1, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.stats.applied, 4200);
		ASSERT_EQ(rep.ahead, 0);
		bundle_report_close(&rep);
		/* imported again, the later trip comes in */
		ASSERT_OK(bundle_import(c, t2, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.stats.applied, 10);
		ASSERT_EQ(rep.ahead, 0);
		bundle_report_close(&rep);
		ASSERT_EQ(th_count_entries(c), 4210);
		th_node_close(c1);
		th_node_close(c);
		th_node_close(v);
	}

	TEST_START("a file whose runs come in reverse order, over 4,096 entries held on the way: none is told as held, all count as applied");
	{
		const char *vs[3] = { "ban-x", "ban-y", "ban-z" };
		struct node *c = th_node(dir, net, "xa-r", "bk/bt/qr");
		struct node *d = th_node(dir, net, "xa-r2", "bk/bt/qr");
		char vb[4096], all[4096], rev[4096];
		snprintf(vb, sizeof(vb), "%s/v.bundle", dir);
		snprintf(all, sizeof(all), "%s/r-all.bundle", dir);
		snprintf(rev, sizeof(rev), "%s/r-rev.bundle", dir);
		for (int i = 0; i < 3; i++) {
			char sc[64];
			snprintf(sc, sizeof(sc), "bk/bt/qr/%s", vs[i]);
			struct node *v = th_node(dir, net, vs[i], sc);
			th_put_people(v, 0, 2600);
			ASSERT_OK(bundle_create(v, vb, &o, NULL, why,
						sizeof(why)));
			ASSERT_OK(bundle_import(c, vb, &rep, why, sizeof(why)));
			bundle_report_close(&rep);
			th_node_close(v);
		}
		ASSERT_OK(bundle_create(c, all, &o, NULL, why, sizeof(why)));
		reverse_runs(all, rev);
		/* the file as a whole no longer checks: its entries do */
		(void)bundle_import(d, rev, &rep, why, sizeof(why));
		ASSERT_EQ(rep.entries, 3 * 2600);
		ASSERT_EQ(rep.stats.applied, 3 * 2600);
		ASSERT_EQ(rep.stats.held, 0);
		ASSERT_EQ(problems_count(&rep.problems, "held"), 0);
		bundle_report_close(&rep);
		ASSERT_EQ(th_count_entries(d), 3 * 2600);
		th_node_close(d);
		th_node_close(c);
	}

	TEST_START("a node importing by itself keeps only what its certificate lets it read, as hamletd does");
	{
		/* b, the commune, holds the village's N entries */
		struct node *k = th_node(dir, net, "khau", "bk/bt/qt/khau");
		struct node *twin = th_node(dir, net, "na-pai-2", "bk/bt/qt/na-pai");
		char cb[4096];
		snprintf(cb, sizeof(cb), "%s/commune.bundle", dir);
		ASSERT_OK(bundle_create(b, cb, &o, NULL, why, sizeof(why)));
		ASSERT_OK(bundle_import(k, cb, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.stats.applied, 0);
		/* not ours: counted, neither rejected nor named */
		ASSERT_EQ(rep.outside, N);
		ASSERT_EQ(rep.stats.rejected, 0);
		ASSERT_EQ(rep.problems.total, 0);
		bundle_report_close(&rep);
		ASSERT_EQ(th_count_entries(k), 0);
		ASSERT_EQ(th_records(k), 0);
		/* the village's own scope is read */
		ASSERT_OK(bundle_import(twin, cb, &rep, why, sizeof(why)));
		ASSERT_EQ(rep.stats.applied, N);
		ASSERT_EQ(rep.stats.rejected, 0);
		bundle_report_close(&rep);
		th_node_close(twin);
		th_node_close(k);
	}

	node_close(a);
	node_close(b);
	node_close(other);
	th_rmrf(dir);
	free(net);
	free(net2);
	free(dir);
	TEST_DONE();
}
