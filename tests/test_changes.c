/*
 * changes: every record materialized gets the next seq in its own
 * transaction, once, at its latest seq; local writes and arriving
 * entries both count; the walk resumes from any seq. A record taken out
 * (a certificate that reads less) gets a gone change in place of its
 * row, and one that comes back a change again, its gone row dropped.
 */
#include "changes.h"
#include "record.h"
#include "helpers.h"

static const char *dir;

struct seen {
	struct change v[64];
	size_t n;
};

static int collect(void *ctx, const struct change *c)
{
	struct seen *s = ctx;
	if (s->n == 64)
		return 1;
	s->v[s->n++] = *c;
	return 0;
}

static void walk(struct node *n, uint64_t since, size_t limit,
		 struct seen *s)
{
	struct store_txn *t;
	memset(s, 0, sizeof(*s));
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(changes_each(t, since, limit, collect, s));
	store_txn_abort(t);
}

static uint64_t last(struct node *n)
{
	struct store_txn *t;
	uint64_t v;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(changes_last(t, &v));
	store_txn_abort(t);
	return v;
}

/* The id of the newest entry of n's own feed. */
static void own_head(struct node *n, uint8_t out[32])
{
	struct store_txn *t;
	struct log_feed f;
	uint8_t key[32];
	log_feed_key(n->pk, n->scope, key);
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(log_feed_get(t, key, &f));
	memcpy(out, f.head, 32);
	store_txn_abort(t);
}

int main(void)
{
	struct node *a, *b;
	struct seen s;
	uint8_t head[32], none[32] = { 0 };
	char *net;

	dir = th_tmpdir();
	net = th_network(dir, "ch");
	a = th_node(dir, net, "a", "ch/c1/v1");
	b = th_node(dir, net, "b", "ch");

	TEST_START("an empty store has no change and last seq 0");
	ASSERT_EQ(last(a), 0);
	walk(a, 0, 0, &s);
	ASSERT_EQ(s.n, 0);

	TEST_START("each local write is one change naming its entry");
	ASSERT_OK(th_put(a, "health_profile", "HP-1",
			 "person_id=000000000001;full_name=One;birth_date=1990-01-01"));
	own_head(a, head);
	ASSERT_OK(th_put(a, "health_profile", "HP-2",
			 "person_id=000000000002;full_name=Two;birth_date=1990-01-01"));
	ASSERT_OK(th_put(a, "health_profile", "HP-3",
			 "person_id=000000000003;full_name=Three;birth_date=1990-01-01"));
	ASSERT_EQ(last(a), 3);
	walk(a, 0, 0, &s);
	ASSERT_EQ(s.n, 3);
	for (size_t i = 0; i < 3; i++)
		ASSERT_EQ(s.v[i].seq, i + 1);
	ASSERT_STREQ(s.v[0].collection, "health_profile");
	ASSERT_STREQ(s.v[0].id, "HP-1");
	ASSERT_STREQ(s.v[2].id, "HP-3");
	ASSERT_TRUE(memcmp(s.v[0].entry, head, 32) == 0);

	TEST_START("a record changed again moves to the end, once");
	ASSERT_OK(th_put(a, "health_profile", "HP-1", "phone=0912000001"));
	own_head(a, head);
	ASSERT_EQ(last(a), 4);
	walk(a, 0, 0, &s);
	ASSERT_EQ(s.n, 3);
	ASSERT_STREQ(s.v[0].id, "HP-2");
	ASSERT_STREQ(s.v[1].id, "HP-3");
	ASSERT_STREQ(s.v[2].id, "HP-1");
	ASSERT_EQ(s.v[2].seq, 4);
	ASSERT_TRUE(memcmp(s.v[2].entry, head, 32) == 0);
	ASSERT_EQ(th_count_rows(a, ST_CHANGES), 3);
	{
		struct store_txn *t;
		uint64_t q;
		ASSERT_OK(store_txn_begin(a->st, 1, &t));
		ASSERT_OK(changes_of(t, "health_profile", "HP-1", &q));
		ASSERT_EQ(q, 4);
		ASSERT_EQ(changes_of(t, "health_profile", "HP-9", &q),
			  HAMLET_ENOTFOUND);
		store_txn_abort(t);
	}

	TEST_START("golden: a changes row, and the seq in the records row");
	{
		struct store_txn *t;
		const void *v;
		size_t vl;
		uint8_t k[8], want[64];
		size_t wl = 0;
		uint64_t lseq, lseq2;
		store_be64(k, 4);
		ASSERT_OK(store_txn_begin(a->st, 1, &t));
		ASSERT_OK(record_op_find(t, "health_profile", "HP-1", head,
					 &lseq));
		store_be64(want, lseq);
		wl = 8;
		ASSERT_OK(store_get(t, ST_CHANGES, k, 8, &v, &vl));
		ASSERT_EQ(vl, wl);
		ASSERT_TRUE(memcmp(v, want, wl) == 0);
		/* HP-1 has two ops: its row is seq 4 (a varint) and its
		 * state */
		ASSERT_OK(store_get(t, ST_RECORDS, "health_profile\0HP-1", 19,
				    &v, &vl));
		ASSERT_TRUE(vl > 2);
		ASSERT_TRUE(memcmp(v, "\x04\x99", 2) == 0);
		/* HP-2, one op: seq 2, then ONE_OP 1 and its entry's local
		 * seq (varints) */
		store_be64(k, 2);
		ASSERT_OK(store_get(t, ST_CHANGES, k, 8, &v, &vl));
		ASSERT_EQ(vl, 8);
		lseq2 = store_get_be64(v);
		ASSERT_TRUE(lseq2 < 128);
		ASSERT_OK(store_get(t, ST_RECORDS, "health_profile\0HP-2", 19,
				    &v, &vl));
		ASSERT_EQ(vl, 3);
		ASSERT_TRUE(memcmp(v, "\x02\x01", 2) == 0);
		ASSERT_EQ(((const uint8_t *)v)[2], lseq2);
		store_be64(k, 4);
		ASSERT_OK(store_get(t, ST_META, "changes_seq", 11, &v, &vl));
		ASSERT_TRUE(vl == 8 && memcmp(v, k, 8) == 0);
		store_txn_abort(t);
	}

	TEST_START("a put that changes nothing is no change");
	ASSERT_OK(th_put(a, "health_profile", "HP-1", "phone=0912000001"));
	ASSERT_EQ(last(a), 4);

	TEST_START("the walk resumes after any seq, and stops at limit");
	walk(a, 2, 0, &s);
	ASSERT_EQ(s.n, 2);
	ASSERT_EQ(s.v[0].seq, 3);
	walk(a, 3, 0, &s);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.v[0].seq, 4);
	walk(a, 0, 1, &s);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.v[0].seq, 2);
	walk(a, 4, 0, &s);
	ASSERT_EQ(s.n, 0);
	walk(a, UINT64_MAX, 0, &s);
	ASSERT_EQ(s.n, 0);

	TEST_START("a delete is a change");
	{
		char why[256];
		ASSERT_OK(th_write(a, ENTRY_DELETE, "health_profile", "HP-2",
				   NULL, 0, why, sizeof(why)));
	}
	walk(a, 4, 0, &s);
	ASSERT_EQ(s.n, 1);
	ASSERT_STREQ(s.v[0].id, "HP-2");
	ASSERT_EQ(s.v[0].seq, 5);

	TEST_START("arriving entries are changes on the receiving node, numbered by it");
	ASSERT_OK(th_put(b, "health_profile", "HP-100",
			 "person_id=000000000100;full_name=Hundred;birth_date=1990-01-01"));
	ASSERT_EQ(last(b), 1);
	th_sync(a, b, dir);
	/* b had HP-100 at 1; a's three records arrive after it */
	ASSERT_EQ(last(b), 4);
	walk(b, 1, 0, &s);
	ASSERT_EQ(s.n, 3);
	for (size_t i = 0; i < s.n; i++) {
		ASSERT_EQ(s.v[i].seq, i + 2);
		ASSERT_STREQ(s.v[i].collection, "health_profile");
	}
	/* a second sync brings nothing new: no change */
	th_sync(a, b, dir);
	ASSERT_EQ(last(b), 4);

	TEST_START("records taken out get a gone change each, naming them, their rows dropped");
	{
		struct cert_chain *cc = malloc(sizeof(*cc));
		struct log_keep_result kr;
		struct log_reader rd;
		ASSERT_TRUE(cc != NULL);
		/* b reads ch/c2 only: a's three records (ch/c1/v1) go; HP-3
		 * had one op, HP-1 and HP-2 two */
		th_certify(b, net, "ch/c2", "ch/c2", 0);
		node_grant_refresh(b);
		node_reader(b, cc, &rd);
		ASSERT_OK(log_keep_reads(b->st, &rd, &kr));
		ASSERT_EQ(kr.records, 3);
		free(cc);
	}
	ASSERT_EQ(th_records(b), 1);
	ASSERT_EQ(last(b), 7);
	walk(b, 0, 0, &s);
	ASSERT_EQ(s.n, 4);
	ASSERT_STREQ(s.v[0].id, "HP-100");
	ASSERT_EQ(s.v[0].gone, 0);
	for (size_t i = 1; i < 4; i++) {
		char id[8];
		snprintf(id, sizeof(id), "HP-%zu", i);
		ASSERT_EQ(s.v[i].seq, i + 4);
		ASSERT_EQ(s.v[i].gone, 1);
		ASSERT_STREQ(s.v[i].collection, "health_profile");
		ASSERT_STREQ(s.v[i].id, id);
		ASSERT_STREQ(s.v[i].scope, "ch/c1/v1");
		ASSERT_TRUE(memcmp(s.v[i].entry, none, 32) == 0);
	}
	/* one row per record held or gone, and the index of those gone */
	ASSERT_EQ(th_count_rows(b, ST_CHANGES), 4);
	ASSERT_EQ(th_count_rows(b, ST_GONE), 3);
	{
		struct store_txn *t;
		const void *v;
		size_t vl;
		uint8_t k[8];
		uint64_t q;
		static const char want[] = "\0\0\0\0\0\0\0\0"
					   "health_profile\0HP-3\0ch/c1/v1";
		ASSERT_OK(store_txn_begin(b->st, 1, &t));
		ASSERT_OK(changes_of(t, "health_profile", "HP-1", &q));
		ASSERT_EQ(q, 5);
		/* golden: the gone row, and its index */
		store_be64(k, 7);
		ASSERT_OK(store_get(t, ST_CHANGES, k, 8, &v, &vl));
		ASSERT_EQ(vl, sizeof(want) - 1);
		ASSERT_TRUE(memcmp(v, want, vl) == 0);
		ASSERT_OK(store_get(t, ST_GONE, "health_profile\0HP-3", 19, &v,
				    &vl));
		ASSERT_TRUE(vl == 8 && memcmp(v, k, 8) == 0);
		ASSERT_OK(store_get(t, ST_META, "changes_seq", 11, &v, &vl));
		ASSERT_TRUE(vl == 8 && memcmp(v, k, 8) == 0);
		store_txn_abort(t);
	}
	{
		struct audit_report ar;
		ASSERT_OK(audit_store(b->st, b->net.id, &ar));
		ASSERT_TRUE(!audit_failed(&ar));
		audit_report_close(&ar);
	}

	TEST_START("a record that comes back gets a change again, and its gone row goes");
	th_certify(b, net, "ch", "ch", 0);
	node_grant_refresh(b);
	th_sync(a, b, dir);
	ASSERT_EQ(th_records(b), 4);
	ASSERT_EQ(last(b), 10);
	walk(b, 0, 0, &s);
	ASSERT_EQ(s.n, 4);
	for (size_t i = 0; i < s.n; i++)
		ASSERT_EQ(s.v[i].gone, 0);
	ASSERT_EQ(s.v[3].seq, 10);
	ASSERT_EQ(th_count_rows(b, ST_CHANGES), 4);
	ASSERT_EQ(th_count_rows(b, ST_GONE), 0);

	node_close(a);
	node_close(b);
	th_rmrf(dir);
	free(net);
	free((char *)dir);
	TEST_DONE();
}
