/*
 * audit: the checks run on every core, and the report is told in the
 * order the entries are stored, as one thread told it: within a feed,
 * each entry's findings in seq order, and its signature findings at the
 * feed's end; feeds in key order. An intact feed has one signature
 * checked, its last entry's, which signs the rest through the chain; a
 * signature altered anywhere, or the row's mark of them, is found.
 * A feed of 5,000 entries and one of 3, with signatures and bodies
 * altered in both, give exactly that sequence, run after run. The
 * records, checked on a thread of their own while the entries are, are
 * told after them, and the kept digest last.
 */
#include "audit.h"
#include "entries.h"
#include "helpers.h"
#include "report.h"
#include "trust.h"

enum { SIG, BODY, PREV };

/* Flip the last byte of entry seq's signature, or of its body, or one
 * of the prev its envelope signs (kept in a compact row's tail), in its
 * stored row (entries.h). */
static void tamper(struct node *n, const uint8_t feed[32], uint64_t seq,
		   int what)
{
	struct store_txn *t;
	struct entries_row row;
	struct entry e;
	const void *v;
	size_t vl;
	uint8_t lseq[8], *copy, *at;
	uint64_t ls;

	ASSERT_OK(store_txn_begin(n->st, 0, &t));
	ASSERT_OK(entries_lseq(t, feed, seq, &ls));
	store_be64(lseq, ls);
	ASSERT_OK(store_get(t, ST_ENTRIES, lseq, 8, &v, &vl));
	ASSERT_OK(entries_row_decode(t, v, vl, &row));
	ASSERT_OK(entry_decode(row.env, row.env_len, &e, NULL));
	copy = malloc(vl);
	memcpy(copy, v, vl);
	if (what == BODY) {
		ASSERT_TRUE(row.body && row.body_len > 0);
		copy[vl - 1] ^= 1;
	} else if (what == SIG) {
		copy[row.sig - (const uint8_t *)v + 63] ^= 1;
	} else {
		/* the row is compact: its envelope is not there whole,
		 * but the prev it signs is */
		ASSERT_TRUE(row.compact && e.has_prev);
		ASSERT_TRUE((at = memmem(copy, vl, e.prev, 32)) != NULL);
		at[5] ^= 1;
	}
	ASSERT_OK(store_put(t, ST_ENTRIES, lseq, 8, copy, vl, 0));
	free(copy);
	ASSERT_OK(store_txn_commit(t));
}

/* Flip a bit of byte at of feed's row. A row holds seq, head, hlc,
 * forked, fork seq, author, the mark of its signatures, then its scope
 * (log_internal.h): the head at 8, the mark at 89. */
static void feed_row_flip(struct node *n, const uint8_t feed[32], size_t at)
{
	struct store_txn *t;
	const void *v;
	size_t vl;
	uint8_t *copy;

	ASSERT_OK(store_txn_begin(n->st, 0, &t));
	ASSERT_OK(store_get(t, ST_FEEDS, feed, 32, &v, &vl));
	ASSERT_TRUE(vl > 89 + 32 && at < vl);
	copy = malloc(vl);
	memcpy(copy, v, vl);
	copy[at] ^= 0x40;
	ASSERT_OK(store_put(t, ST_FEEDS, feed, 32, copy, vl, 0));
	free(copy);
	ASSERT_OK(store_txn_commit(t));
}

/* An audit of n finds its one feed's row damaged, and nothing else: one
 * "chain" finding whose text has word, no bad signature, sigs checked
 * one by one. */
static void row_damage_only(struct node *n, uint64_t sigs, const char *word)
{
	struct audit_report ar;
	int seen = 0;

	ASSERT_OK(audit_store(n->st, n->net.id, &ar));
	ASSERT_TRUE(audit_damaged(&ar));
	ASSERT_EQ(ar.bad_signatures, 0);
	ASSERT_EQ(ar.chain_breaks, 1);
	ASSERT_EQ(ar.signatures_checked, sigs);
	for (size_t i = 0; i < ar.problems.n; i++)
		seen += !strcmp(ar.problems.v[i].kind, "chain") &&
			strstr(ar.problems.v[i].text, word) != NULL;
	ASSERT_EQ(seen, 1);
	audit_report_close(&ar);
}

/* The signature and body findings of an audit of n, as "kind seq". */
static void findings(struct node *n, char out[16][48], size_t *ret_n)
{
	struct audit_report ar;
	size_t k = 0;
	ASSERT_OK(audit_store(n->st, n->net.id, &ar));
	for (size_t i = 0; i < ar.problems.n && k < 16; i++) {
		const struct problem *p = &ar.problems.v[i];
		const char *s = strstr(p->text, " seq ");
		if (strcmp(p->kind, "signature") && strcmp(p->kind, "body"))
			continue;
		ASSERT_TRUE(s != NULL);
		snprintf(out[k++], 48, "%s %llu", p->kind,
			 strtoull(s + 5, NULL, 10));
	}
	ASSERT_EQ(ar.bad_signatures, 3);
	/* an altered body is counted as such: its entry and the chain
	 * verify */
	ASSERT_EQ(ar.bad_bodies, 2);
	ASSERT_EQ(ar.chain_breaks, 0);
	ASSERT_TRUE(audit_damaged(&ar));
	audit_report_close(&ar);
	*ret_n = k;
}

/* The key of item key's row in the index of subjects (ST_TRUSTSUBJ). */
static void subj_key(const uint8_t subject[32], const uint8_t key[33],
		     uint8_t ret[65])
{
	memcpy(ret, subject, 32);
	memcpy(ret + 32, key, 33);
}

/*
 * Put in n's trust set, as a node that took it would hold it, a
 * revocation of author signed by the root key of netfile (the audit
 * checks its signature and network, whoever let it in; one by a key in
 * none of the author's chains would cut nothing of them, SPEC 9) that
 * keeps feed's entries up to seq kept. Returns its trust set key in
 * ret_key.
 */
static void revocation_put(struct node *n, const char *netfile,
			   const uint8_t author[32], const char *scope,
			   const uint8_t feed[32], uint64_t kept,
			   uint8_t ret_key[33])
{
	static struct revocation rv;
	struct store_txn *t;
	uint8_t pk[32], nid[32], eb[ENTRY_MAX_ENVELOPE], *p, sk_row[65];
	uint8_t *sk;
	const uint8_t *env, *sig;
	char path[4096], why[256];
	size_t el, len, k = strlen(netfile);

	snprintf(path, sizeof(path), "%.*s.root.key", (int)(k - 8), netfile);
	if (root_key_load(path, nid, pk, &sk, why, sizeof(why)) < 0) {
		fprintf(stderr, "revocation_put: %s\n", why);
		exit(1);
	}
	memset(&rv, 0, sizeof(rv));
	memcpy(rv.network_id, n->net.id, 32);
	memcpy(rv.issuer, pk, 32);
	memcpy(rv.subject, author, 32);
	rv.issued_ms = 1700000000000ULL;
	snprintf(rv.reason, sizeof(rv.reason), "PC stolen");
	rv.nfeeds = 1;
	snprintf(rv.feeds[0].scope, sizeof(rv.feeds[0].scope), "%s", scope);
	rv.feeds[0].seq = kept;
	ASSERT_OK(store_txn_begin(n->st, 0, &t));
	ASSERT_OK(log_entry_get(t, feed, kept, eb, &env, &el, &sig));
	entry_id(env, el, rv.feeds[0].head);
	ASSERT_OK(revoke_sign(&rv, sk, &p, &len));
	ret_key[0] = TRUST_REVOKE;
	ASSERT_OK(revoke_decode(p, len, &rv, ret_key + 1));
	ASSERT_OK(store_put(t, ST_TRUST, ret_key, 33, p, len, 0));
	/* and its row in the index of subjects, as trustset_add() writes
	 * it (an audit holds the index to the items) */
	subj_key(author, ret_key, sk_row);
	ASSERT_OK(store_put(t, ST_TRUSTSUBJ, sk_row, sizeof(sk_row), "", 0, 0));
	ASSERT_OK(store_txn_commit(t));
	free(p);
	sodium_free(sk);
}

int main(void)
{
	struct node *a, *b;
	char got[16][48], again[16][48];
	uint8_t fa[32], fb[32];
	size_t n, n2;
	char *dir, *net;

	dir = th_tmpdir();
	net = th_network(dir, "au");
	a = th_node(dir, net, "a", "au");
	b = th_node(dir, net, "b", "au");
	th_put_people(a, 0, 5000);
	th_put_people(b, 0, 3);
	th_sync(b, a, dir);
	log_feed_key(a->pk, a->scope, fa);
	log_feed_key(b->pk, b->scope, fb);

	TEST_START("an intact store of 5,003 entries audits clean on every core, one signature checked a feed");
	{
		struct audit_report ar;
		ASSERT_OK(audit_store(a->st, a->net.id, &ar));
		ASSERT_TRUE(!audit_failed(&ar));
		ASSERT_EQ(ar.entries, 5003);
		ASSERT_EQ(ar.feeds, 2);
		ASSERT_EQ(ar.signatures_checked, 2);
		audit_report_close(&ar);
	}

	TEST_START("entries stored past their author's revocation cut-off are a finding, named by feed and seqs");
	{
		/* b's seq 2 and 3 reached a before the revocation did (a
		 * node may hold them so): the auditor trusts no node */
		struct audit_report ar;
		struct report rep;
		const struct report_author *ra;
		struct store_txn *t;
		uint8_t key[33], row[65];
		int seen = 0;

		revocation_put(a, net, b->pk, b->scope, fb, 1, key);
		ASSERT_OK(audit_store(a->st, a->net.id, &ar));
		ASSERT_EQ(ar.past_cutoff, 2);
		ASSERT_TRUE(!audit_damaged(&ar));
		ASSERT_TRUE(audit_findings(&ar));
		for (size_t i = 0; i < ar.problems.n; i++)
			seen += !strcmp(ar.problems.v[i].kind, "revoked") &&
				strstr(ar.problems.v[i].text, b->scope) &&
				strstr(ar.problems.v[i].text, "seq 2 to 3");
		ASSERT_EQ(seen, 1);
		audit_report_close(&ar);
		ASSERT_OK(report_build(a->st, a->net.id, a->net.root_pk,
				       1700000000000ULL, NULL,
				       NULL, &rep));
		ASSERT_TRUE((ra = report_author_find(&rep, b->pk)) != NULL);
		ASSERT_EQ(ra->past_cutoff, 2);
		ASSERT_TRUE(report_findings(&rep));
		report_close(&rep);
		/* the store as it was, for the checks below */
		ASSERT_OK(store_txn_begin(a->st, 0, &t));
		ASSERT_OK(store_del(t, ST_TRUST, key, 33));
		subj_key(b->pk, key, row);
		ASSERT_OK(store_del(t, ST_TRUSTSUBJ, row, sizeof(row)));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(audit_store(a->st, a->net.id, &ar));
		ASSERT_EQ(ar.past_cutoff, 0);
		ASSERT_TRUE(!audit_failed(&ar));
		audit_report_close(&ar);
	}

	TEST_START("findings are told in store order, a feed's signatures after its other findings");
	tamper(a, fa, 10, SIG);
	tamper(a, fa, 20, BODY);
	tamper(a, fa, 4500, SIG);
	tamper(a, fa, 4600, BODY);
	tamper(a, fb, 2, SIG);
	findings(a, got, &n);
	{
		static const char *big[] = { "body 20", "body 4600",
					     "signature 10", "signature 4500" };
		size_t at = memcmp(fb, fa, 32) < 0; /* b's feed first? */
		ASSERT_EQ(n, 5);
		if (at)
			ASSERT_STREQ(got[0], "signature 2");
		else
			ASSERT_STREQ(got[4], "signature 2");
		for (size_t i = 0; i < 4; i++)
			ASSERT_STREQ(got[at + i], big[i]);
	}

	TEST_START("the same store gives the same report, run after run");
	for (int run = 0; run < 3; run++) {
		findings(a, again, &n2);
		ASSERT_EQ(n2, n);
		for (size_t i = 0; i < n; i++)
			ASSERT_STREQ(again[i], got[i]);
	}

	TEST_START("a record row and the digest altered are told after every entry's findings");
	{
		struct store_txn *t;
		struct store_cursor *cur;
		struct audit_report ar;
		const void *k, *v;
		size_t kl, vl, first_rec;
		uint8_t key[256], *copy;

		ASSERT_OK(store_txn_begin(a->st, 0, &t));
		ASSERT_OK(store_cursor_open(t, ST_RECORDS, &cur));
		ASSERT_EQ(store_cursor_seek(cur, NULL, 0, &k, &kl, &v, &vl), 1);
		ASSERT_TRUE(kl <= sizeof(key));
		memcpy(key, k, kl);
		copy = malloc(vl + 1);
		memcpy(copy, v, vl);
		copy[vl] = 0xc0; /* a trailing nil: not the state its ops make */
		store_cursor_close(cur);
		ASSERT_OK(store_put(t, ST_RECORDS, key, kl, copy, vl + 1, 0));
		free(copy);
		ASSERT_OK(store_txn_commit(t));
		for (int run = 0; run < 3; run++) {
			ASSERT_OK(audit_store(a->st, a->net.id, &ar));
			ASSERT_EQ(ar.records, 5000); /* b wrote to 3 of a's */
			/* the row altered, and any whose head's body was */
			ASSERT_TRUE(ar.records_mismatch >= 1);
			ASSERT_EQ(ar.digest_mismatch, 1);
			ASSERT_EQ(ar.problems.n, 5 + ar.records_mismatch + 1);
			first_rec = SIZE_MAX;
			for (size_t i = 0; i < ar.problems.n; i++)
				if (!strcmp(ar.problems.v[i].kind, "record") &&
				    first_rec == SIZE_MAX)
					first_rec = i;
			ASSERT_EQ(first_rec, 5);
			for (size_t i = 5; i < ar.problems.n - 1; i++)
				ASSERT_STREQ(ar.problems.v[i].kind, "record");
			ASSERT_STREQ(ar.problems.v[ar.problems.n - 1].kind,
				     "digest");
			audit_report_close(&ar);
		}
	}

	TEST_START("a byte of a compact row's envelope altered is a signature that no longer verifies");
	{
		struct audit_report ar;
		int seen = 0;
		tamper(a, fa, 30, PREV);
		ASSERT_OK(audit_store(a->st, a->net.id, &ar));
		ASSERT_TRUE(audit_failed(&ar));
		ASSERT_EQ(ar.bad_signatures, 4);
		for (size_t i = 0; i < ar.problems.n; i++)
			seen += !strcmp(ar.problems.v[i].kind, "signature") &&
				strstr(ar.problems.v[i].text, " seq 30") != NULL;
		ASSERT_EQ(seen, 1);
		audit_report_close(&ar);
	}

	TEST_START("a feed's last signature altered is found, and then each of its signatures is checked");
	{
		struct node *c = th_node(dir, net, "c", "au");
		struct audit_report ar;
		uint64_t entries;
		uint8_t fc[32];
		int seen = 0;

		/* c holds one feed: its entries, its last seq */
		th_put_people(c, 0, 40);
		log_feed_key(c->pk, c->scope, fc);
		ASSERT_OK(audit_store(c->st, c->net.id, &ar));
		ASSERT_TRUE(!audit_failed(&ar));
		ASSERT_EQ(ar.signatures_checked, 1);
		entries = ar.entries;
		ASSERT_TRUE(entries >= 40);
		audit_report_close(&ar);

		tamper(c, fc, entries, SIG);
		ASSERT_OK(audit_store(c->st, c->net.id, &ar));
		ASSERT_TRUE(audit_damaged(&ar));
		ASSERT_EQ(ar.bad_signatures, 1);
		ASSERT_EQ(ar.signatures_checked, entries); /* each once */
		for (size_t i = 0; i < ar.problems.n; i++)
			seen += !strcmp(ar.problems.v[i].kind, "signature");
		ASSERT_EQ(seen, 1);
		audit_report_close(&ar);
		tamper(c, fc, entries, SIG); /* flipped back */
		ASSERT_OK(audit_store(c->st, c->net.id, &ar));
		ASSERT_TRUE(!audit_failed(&ar));
		audit_report_close(&ar);

		TEST_START("the row's mark of a feed's signatures altered alone is damage, every signature verifying");
		feed_row_flip(c, fc, 89 + 7);
		row_damage_only(c, entries, "mark"); /* each checked once */

		TEST_START("the head a feed's row keeps altered is damage, the entries judged as they are");
		feed_row_flip(c, fc, 89 + 7); /* the mark as it was */
		feed_row_flip(c, fc, 8 + 3);  /* a byte of the head */
		row_damage_only(c, 1, "head");
		node_close(c);
	}

	node_close(a);
	node_close(b);
	th_rmrf(dir);
	free(net);
	free(dir);
	TEST_DONE();
}
