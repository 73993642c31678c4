/*
 * The auditor's report builder (daemon/core/report.c) and the table of
 * refused entries it reads (daemon/core/refused.c): per author, its
 * certificate and chain, its entries, what was refused and why, what
 * waits for a certificate; the erasure rules; the table's cap.
 */
#include "audit.h"
#include "helpers.h"
#include "hlc.h"
#include "refused.h"
#include "report.h"
#include "trustset.h"
#include "utf8.h"

static void put(struct node *n, const char *id, const char *scope)
{
	struct log_author au;
	struct log_op op = { 0 };
	struct log_out out;
	size_t failed;
	char why[256], spec[200];
	uint8_t *body;

	snprintf(spec, sizeof(spec),
		 "person_id=%012d;full_name=Person %s;birth_date=1980-01-01",
		 (int)strlen(id) * 7 + id[strlen(id) - 1], id);
	body = th_body(spec, &op.body_len);
	node_author(n, &au);
	op.kind = ENTRY_PUT;
	op.collection = "health_profile";
	op.record_id = id;
	op.scope = scope;
	op.body = body;
	if (log_write(n->st, &au, &op, 1, &out, &failed, why, sizeof(why),
		      NULL) < 0) {
		fprintf(stderr, "put %s: %s\n", id, why);
		exit(1);
	}
	free(body);
}

/* Copy every entry of n's feed scope into to, as a bundle would carry
 * them; the outcomes into out (at most 8). */
static void carry(struct node *from, const char *scope, struct node *to,
		  struct log_out *out)
{
	struct store_txn *t;
	struct log_in in[8] = { 0 };
	struct log_feed f;
	uint8_t key[32];
	size_t n = 0;

	log_feed_key(from->pk, scope, key);
	ASSERT_OK(store_txn_begin(from->st, 1, &t));
	ASSERT_OK(log_feed_get(t, key, &f));
	for (uint64_t s = 1; s <= f.seq && n < 8; s++, n++) {
		struct entry e;
		memset(&in[n], 0, sizeof(in[n]));
		static uint8_t eb[8][ENTRY_MAX_ENVELOPE];
		ASSERT_OK(log_entry_get(t, key, s, eb[n], &in[n].env,
					&in[n].env_len, &in[n].sig));
		ASSERT_OK(entry_decode(in[n].env, in[n].env_len, &e, NULL));
		if (e.has_body) {
			uint8_t id[ENTRY_ID_LEN];
			entry_id(in[n].env, in[n].env_len, id);
			static struct bodyz_buf zb[8];
			ASSERT_OK(log_body_of(t, key, s, &zb[n], &in[n].body,
					       &in[n].body_len));
		}
	}
	ASSERT_OK(log_ingest(to->st, to->net.id, in, n, out, NULL, NULL));
	store_txn_abort(t);
}

/* An entry by n in scope (seq 1), signed with n's key, without a body. */
static void sign_delete(const struct node *n, const char *scope,
			uint8_t **env, size_t *len, uint8_t sig[64],
			struct entry *e)
{
	memset(e, 0, sizeof(*e));
	e->seq = 1;
	memcpy(e->network_id, n->net.id, 32);
	memcpy(e->author, n->pk, 32);
	snprintf(e->scope, sizeof(e->scope), "%s", scope);
	e->hlc = hlc_wall_ms() << HLC_COUNTER_BITS;
	e->kind = ENTRY_DELETE;
	snprintf(e->collection, sizeof(e->collection), "health_profile");
	snprintf(e->record_id, sizeof(e->record_id), "HP-X");
	ASSERT_OK(entry_encode(e, env, len));
	ASSERT_OK(entry_sign(*env, *len, n->sk, sig));
}

static const struct report_author *author(const struct report *rep,
					  const struct node *n)
{
	const struct report_author *a = report_author_find(rep, n->pk);
	ASSERT_TRUE(a != NULL);
	return a;
}

static void test_report(const char *dir, const char *netfile)
{
	struct node *a = th_node(dir, netfile, "a", "bk/a");
	struct node *b = th_node_bare(dir, netfile, "b", "bk/b");
	struct node *d = th_node(dir, netfile, "d", "bk/d");
	struct log_out out[8];
	struct report rep;
	struct store_txn *t;
	const struct report_author *ra, *rb;
	uint8_t *env, sig[64];
	size_t len;
	struct entry e;
	struct cert_chain ch;
	char why[200];

	TEST_START("the report names each author, its chain and its entries");
	put(a, "HP-1", NULL);
	put(a, "HP-2", NULL);
	put(b, "HP-3", NULL);
	carry(a, "bk/a", d, out);
	ASSERT_EQ(out[0].status, LOG_APPLIED);
	ASSERT_EQ(out[1].status, LOG_APPLIED);
	carry(b, "bk/b", d, out);
	ASSERT_EQ(out[0].status, LOG_HELD); /* b has no certificate */

	/* a signs outside its grant; and an altered signature */
	sign_delete(a, "bk/zz", &env, &len, sig, &e);
	{
		struct log_in in[2] = { { env, len, sig, NULL, 0, NULL, 0, NULL },
					{ env, len, sig, NULL, 0, NULL, 0, NULL } };
		uint8_t bad[64];
		uint8_t *env2;
		size_t len2;
		struct entry e2;
		sign_delete(a, "bk/yy", &env2, &len2, bad, &e2);
		bad[5] ^= 1;
		in[1] = (struct log_in){ env2, len2, bad, NULL, 0, NULL, 0, NULL };
		ASSERT_OK(log_ingest(d->st, d->net.id, in, 2, out, NULL, NULL));
		ASSERT_EQ(out[0].err, HAMLET_ECERT);
		ASSERT_EQ(out[1].err, HAMLET_ESIG);
		free(env2);
	}

	ASSERT_OK(report_build(d->st, d->net.id, d->net.root_pk, hlc_wall_ms(),
			       NULL, NULL, &rep));
	ASSERT_TRUE(rep.has_root);
	ASSERT_EQ(rep.nauthors, 3);
	ra = author(&rep, a);
	ASSERT_STREQ(ra->name, "a");
	ASSERT_EQ(ra->ncerts, 1);
	ASSERT_EQ(ra->nchains, 1);
	ASSERT_TRUE(ra->chains[0].valid_now);
	ASSERT_TRUE(!ra->chains[0].revoked);
	ASSERT_TRUE(ra->certs[0].in_chain);
	ASSERT_EQ(ra->entries, 2);
	ASSERT_EQ(ra->nfeeds, 1);
	ASSERT_STREQ(ra->feeds[0].scope, "bk/a");
	ASSERT_EQ(ra->feeds[0].puts, 2);
	ASSERT_TRUE(ra->first_hlc > 0 && ra->first_hlc <= ra->last_hlc);
	ASSERT_EQ(ra->gaps + ra->missing, 0);

	TEST_START("refused entries are kept with their reason");
	ASSERT_EQ(ra->nrefused, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct report_refused *x = &ra->refused[i];
		ASSERT_TRUE(x->decoded);
		if (!strcmp(x->scope, "bk/zz")) {
			ASSERT_EQ(x->err, HAMLET_ECERT);
			ASSERT_TRUE(x->sig_ok);
			ASSERT_STREQ(report_reason_name(x->err), "not_granted");
			ASSERT_TRUE(strstr(x->why, "does not let it write") != NULL);
		} else {
			ASSERT_STREQ(x->scope, "bk/yy");
			ASSERT_EQ(x->err, HAMLET_ESIG);
			ASSERT_TRUE(!x->sig_ok);
			ASSERT_STREQ(report_reason_name(x->err), "bad_signature");
		}
	}
	ASSERT_TRUE(report_findings(&rep));

	TEST_START("an author with no certificate: its entries wait");
	rb = author(&rep, b);
	ASSERT_EQ(rb->ncerts, 0);
	ASSERT_EQ(rb->nchains, 0);
	ASSERT_EQ(rb->held_nocert, 1);
	ASSERT_EQ(rb->entries, 0);
	/* it waits for no earlier entry: no hole in its feed */
	ASSERT_EQ(rb->feeds[0].held, 0);
	ASSERT_EQ(rb->feeds[0].gaps, 0);
	report_close(&rep);

	TEST_START("the store's audit says what the held entry waits for: a certificate, not an earlier entry");
	{
		struct audit_report ar;
		int said = 0;
		ASSERT_OK(audit_store(d->st, d->net.id, &ar));
		ASSERT_EQ(ar.held, 1);
		ASSERT_EQ(ar.held_nocert, 1);
		for (size_t i = 0; i < ar.problems.n; i++) {
			ASSERT_TRUE(!strstr(ar.problems.v[i].text, "earlier entry"));
			said += strstr(ar.problems.v[i].text,
				       "1 entry is held waiting for its author's certificate") != NULL;
		}
		ASSERT_EQ(said, 1);
		audit_report_close(&ar);
	}

	TEST_START("entries waiting for earlier ones are findings");
	{
		struct report_author ga;
		struct report gr;
		memset(&ga, 0, sizeof(ga));
		memset(&gr, 0, sizeof(gr));
		gr.authors = &ga;
		gr.nauthors = 1;
		ASSERT_TRUE(!report_findings(&gr));
		ga.gaps = 3;
		ASSERT_TRUE(report_findings(&gr));
	}

	TEST_START("the certificate that allowed an entry");
	ASSERT_OK(store_txn_begin(d->st, 1, &t));
	{
		struct entry ok = e;
		snprintf(ok.scope, sizeof(ok.scope), "bk/a");
		ASSERT_EQ(report_entry_grant(t, &ok, &ch), 0);
		ASSERT_STREQ(ch.c[0].name, "a");
		ASSERT_EQ(report_entry_grant(t, &e, &ch), HAMLET_ECERT);
	}

	TEST_START("erasures: the root may; a certificate that may not delegate may not");
	e.kind = ENTRY_ERASE;
	snprintf(e.scope, sizeof(e.scope), "bk/a");
	why[0] = 0;
	ASSERT_EQ(report_erasure_check(t, d->net.root_pk, &e, why, sizeof(why)),
		  HAMLET_ECERT);
	ASSERT_TRUE(strstr(why, "delegate") != NULL);
	memcpy(e.author, d->net.root_pk, 32);
	ASSERT_EQ(report_erasure_check(t, d->net.root_pk, &e, why, sizeof(why)), 0);
	store_txn_abort(t);
	free(env);
	node_close(a);
	node_close(b);
	node_close(d);
}

struct cut_seen {
	int rows;
	size_t len;
	char why[REFUSED_WHY_MAX + 1];
};

static int cut_row(void *ctx, const struct refused_row *row)
{
	struct cut_seen *s = ctx;
	s->rows++;
	s->len = strlen(row->why);
	memcpy(s->why, row->why, s->len + 1);
	return 0;
}

static void test_refused_cap(const char *dir)
{
	char path[4200];
	struct store *st;
	struct store_txn *t;
	uint8_t id[32], env[8] = { 1, 2, 3 }, sig[64] = { 0 };
	uint64_t n, over;

	TEST_START("the refused table keeps the first REFUSED_MAX, counts the rest");
	snprintf(path, sizeof(path), "%s/cap", dir);
	ASSERT_OK(store_open(path, NULL, &st));
	ASSERT_OK(store_txn_begin(st, 0, &t));
	memset(id, 0, 32);
	for (uint32_t i = 0; i < REFUSED_MAX + 3; i++) {
		memcpy(id, &i, sizeof(i));
		ASSERT_OK(refused_put(t, id, HAMLET_ECERT, "not granted", env,
				      sizeof(env), sig));
	}
	/* one kept already: kept as it was, not counted again */
	memset(id, 0, 32);
	ASSERT_OK(refused_put(t, id, HAMLET_ESIG, "other", env, 3, sig));
	ASSERT_OK(store_count(t, ST_REFUSED, &n));
	ASSERT_EQ(n, REFUSED_MAX);
	ASSERT_OK(refused_over(t, &over));
	ASSERT_EQ(over, 3);
	ASSERT_OK(store_txn_commit(t));
	store_close(st);

	TEST_START("a reason longer than the table keeps is cut between two characters, never inside one");
	{
		char why[REFUSED_WHY_MAX * 2];
		struct cut_seen seen = { 0 };
		size_t o = 0;

		snprintf(path, sizeof(path), "%s/cut", dir);
		ASSERT_OK(store_open(path, NULL, &st));
		/* "x" or "xx", then "ệ" (3 bytes) over and over: byte
		 * REFUSED_WHY_MAX falls inside one */
		why[o++] = 'x';
		if ((REFUSED_WHY_MAX - 1) % 3 == 0)
			why[o++] = 'x';
		while (o + 3 < sizeof(why)) {
			memcpy(why + o, "\xe1\xbb\x87", 3);
			o += 3;
		}
		why[o] = 0;
		ASSERT_OK(store_txn_begin(st, 0, &t));
		memset(id, 7, 32);
		ASSERT_OK(refused_put(t, id, HAMLET_ECERT, why, env, 3, sig));
		ASSERT_OK(refused_each(t, cut_row, &seen));
		store_txn_abort(t);
		ASSERT_EQ(seen.rows, 1);
		ASSERT_TRUE(seen.len <= REFUSED_WHY_MAX &&
			    seen.len >= REFUSED_WHY_MAX - 2);
		ASSERT_TRUE(utf8_check(seen.why, seen.len, 0, NULL) == UTF8_OK);
		store_close(st);
	}
}

int main(void)
{
	char *dir = th_tmpdir();
	char *netfile;

	if (sodium_init() < 0)
		return 1;
	netfile = th_network(dir, "rep");
	test_report(dir, netfile);
	test_refused_cap(dir);
	th_rmrf(dir);
	free(dir);
	free(netfile);
	TEST_DONE();
}
