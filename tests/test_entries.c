/*
 * entries: a row keeps what its feed and network do not give, and reads
 * back the very envelope signed. Entries of two feeds, with and without
 * a body, with deps, at seq 1 and after, come back byte for byte with
 * their ids; an envelope encoded otherwise than this node encodes it is
 * stored whole and comes back as it came; a compact row is smaller.
 * The entries a feed holds past a local seq are counted from its runs.
 */
#include "entries.h"
#include "error.h"
#include "helpers.h"
#include "store.h"

#include <sodium.h>

/* One entry as appended: its bytes, id and decoded fields. */
struct made {
	uint8_t env[ENTRY_MAX_ENVELOPE], sig[ENTRY_SIG_LEN], id[32];
	size_t env_len;
	struct entry e;
	const uint8_t *body;
	size_t body_len;
};

/* Entry seq of author/scope in network net, chained to prev (NULL at
 * seq 1), with body (NULL: none) and deps. */
static void make(struct made *m, const uint8_t net[32], const uint8_t pk[32],
		 const uint8_t sk[64], const char *scope, uint64_t seq,
		 const uint8_t *prev, const uint8_t *body, size_t body_len,
		 const uint8_t (*deps)[32], size_t ndeps)
{
	uint8_t *p;
	memset(m, 0, sizeof(*m));
	memcpy(m->e.network_id, net, 32);
	memcpy(m->e.author, pk, 32);
	snprintf(m->e.scope, sizeof(m->e.scope), "%s", scope);
	m->e.seq = seq;
	m->e.has_prev = prev != NULL;
	if (prev)
		memcpy(m->e.prev, prev, 32);
	m->e.hlc = ((uint64_t)1700000000000 + seq) << 16;
	m->e.kind = body ? ENTRY_PUT : ENTRY_DELETE;
	snprintf(m->e.collection, sizeof(m->e.collection), "health_profile");
	snprintf(m->e.record_id, sizeof(m->e.record_id), "HP-%llu",
		 (unsigned long long)seq);
	m->e.ndeps = ndeps;
	if (ndeps)
		memcpy(m->e.deps, deps, ndeps * 32);
	m->e.has_body = body != NULL;
	if (body)
		entry_body_hash(body, body_len, m->e.body_hash);
	m->e.body_len = body ? body_len : 0;
	ASSERT_OK(entry_encode(&m->e, &p, &m->env_len));
	memcpy(m->env, p, m->env_len);
	free(p);
	ASSERT_OK(entry_sign(m->env, m->env_len, sk, m->sig));
	entry_id(m->env, m->env_len, m->id);
	m->body = body;
	m->body_len = body_len;
}

/* The stored row of local seq lseq, and its length. */
static size_t row_len(struct store_txn *t, uint64_t lseq)
{
	uint8_t k[8];
	const void *v;
	size_t vl;
	store_be64(k, lseq);
	ASSERT_OK(store_get(t, ST_ENTRIES, k, 8, &v, &vl));
	return vl;
}

/* m reads back from t at feed's seq: the very bytes, id, signature and
 * body, compact or not as told. */
static void reads_back(struct store_txn *t, const uint8_t feed[32],
		       const struct made *m, int compact)
{
	struct entries_row row;
	struct bodyz_buf zb = { 0 };
	const void *body;
	size_t bl;
	uint8_t id[32];
	ASSERT_OK(entries_get(t, feed, m->e.seq, &row));
	ASSERT_EQ(row.compact, compact);
	ASSERT_EQ(row.env_len, m->env_len);
	ASSERT_MEMEQ(row.env, m->env, m->env_len);
	entry_id(row.env, row.env_len, id);
	ASSERT_MEMEQ(id, m->id, 32);
	ASSERT_MEMEQ(row.sig, m->sig, ENTRY_SIG_LEN);
	ASSERT_OK(entry_verify(row.env, row.env_len, row.sig, m->e.author));
	if (m->body) {
		ASSERT_OK(entries_row_body(t, &row, &zb, &body, &bl));
		ASSERT_EQ(bl, m->body_len);
		ASSERT_MEMEQ(body, m->body, bl);
	} else {
		ASSERT_TRUE(row.body == NULL);
	}
	bodyz_buf_free(&zb);
}

int main(void)
{
	char *dir = th_tmpdir();
	struct store *st;
	struct store_txn *t;
	uint8_t net[32], other[32], pk[2][32], sk[2][64], feed[2][32];
	uint8_t body[300];
	const char *scope[2] = { "bk/qt/na", "bk" };
	struct made m[6];
	uint64_t lseq[6];

	ASSERT_OK(store_open(dir, NULL, &st));
	memset(net, 0x4e, 32);
	memset(other, 0x6f, 32);
	for (int i = 0; i < 2; i++) {
		crypto_sign_keypair(pk[i], sk[i]);
		log_feed_key(pk[i], scope[i], feed[i]);
	}
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7);

	TEST_START("compact rows rebuild the very envelopes signed, and their ids");
	{
		uint8_t deps[2][32];
		/* a: seq 1 with a body, seq 2 without, seq 3 with deps;
		 * b between them, so the writer moves from feed to feed */
		make(&m[0], net, pk[0], sk[0], scope[0], 1, NULL, body, 120,
		     NULL, 0);
		make(&m[1], net, pk[1], sk[1], scope[1], 1, NULL, body, 300,
		     NULL, 0);
		make(&m[2], net, pk[0], sk[0], scope[0], 2, m[0].id, NULL, 0,
		     NULL, 0);
		memcpy(deps[0], m[0].id, 32);
		memcpy(deps[1], m[1].id, 32);
		make(&m[3], net, pk[0], sk[0], scope[0], 3, m[2].id, body, 40,
		     deps, 2);
		make(&m[4], net, pk[1], sk[1], scope[1], 2, m[1].id, body, 200,
		     deps, 1);
		ASSERT_OK(store_txn_begin(st, 0, &t));
		for (int i = 0; i < 5; i++) {
			int f = memcmp(m[i].e.author, pk[0], 32) != 0;
			ASSERT_OK(entries_append(t, feed[f], m[i].e.seq, &m[i].e,
						 m[i].id, m[i].env, m[i].env_len,
						 m[i].sig, m[i].body,
						 m[i].body_len, &lseq[i]));
		}
		/* within the writing transaction, and after its commit */
		for (int i = 0; i < 5; i++)
			reads_back(t, feed[memcmp(m[i].e.author, pk[0], 32) != 0],
				   &m[i], 1);
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(store_txn_begin(st, 1, &t));
		for (int i = 0; i < 5; i++)
			reads_back(t, feed[memcmp(m[i].e.author, pk[0], 32) != 0],
				   &m[i], 1);
		store_txn_abort(t);
	}

	TEST_START("entries stored after a local seq are counted by feed, from its runs, to a head inside a run too");
	{
		uint64_t n, last;
		uint8_t none[32];
		memset(none, 0x77, 32);
		ASSERT_OK(store_txn_begin(st, 1, &t));
		ASSERT_OK(entries_last_lseq(t, &last));
		ASSERT_EQ(last, lseq[4]);
		/* a: seq 1 at lseq[0], seqs 2 and 3 at lseq[2], lseq[3] */
		ASSERT_OK(entries_count_after(t, feed[0], 3, 0, &n));
		ASSERT_EQ(n, 3);
		ASSERT_OK(entries_count_after(t, feed[0], 3, lseq[0], &n));
		ASSERT_EQ(n, 2);
		ASSERT_OK(entries_count_after(t, feed[0], 3, lseq[1], &n));
		ASSERT_EQ(n, 2);
		ASSERT_OK(entries_count_after(t, feed[0], 3, lseq[2], &n));
		ASSERT_EQ(n, 1);
		ASSERT_OK(entries_count_after(t, feed[0], 3, lseq[3], &n));
		ASSERT_EQ(n, 0);
		ASSERT_OK(entries_count_after(t, feed[0], 2, lseq[0], &n));
		ASSERT_EQ(n, 1);
		/* b: seq 1 at lseq[1], seq 2 at lseq[4] */
		ASSERT_OK(entries_count_after(t, feed[1], 2, lseq[0], &n));
		ASSERT_EQ(n, 2);
		ASSERT_OK(entries_count_after(t, feed[1], 2, lseq[3], &n));
		ASSERT_EQ(n, 1);
		ASSERT_OK(entries_count_after(t, feed[1], 2, last, &n));
		ASSERT_EQ(n, 0);
		ASSERT_OK(entries_count_after(t, none, 5, 0, &n));
		ASSERT_EQ(n, 0);
		store_txn_abort(t);
	}

	TEST_START("a compact row is at least 60 bytes smaller than the whole one");
	{
		ASSERT_OK(store_txn_begin(st, 1, &t));
		for (int i = 0; i < 5; i++) {
			size_t whole = 1 + 2 + m[i].env_len + ENTRY_SIG_LEN +
				       (m[i].body ? m[i].body_len : 0);
			ASSERT_TRUE(row_len(t, lseq[i]) + 60 <= whole);
		}
		store_txn_abort(t);
	}

	TEST_START("a feed numbered in a nested transaction undone is numbered again, and its rows read back");
	{
		struct store_txn *c;
		uint8_t pk3[32], sk3[64], feed3[32];
		uint64_t l;
		crypto_sign_keypair(pk3, sk3);
		log_feed_key(pk3, "bk/x", feed3);
		make(&m[5], net, pk3, sk3, "bk/x", 1, NULL, body, 50, NULL, 0);
		make(&m[4], net, pk[1], sk[1], "bk/y", 1, NULL, NULL, 0, NULL,
		     0);
		log_feed_key(pk[1], "bk/y", feed[1]);
		ASSERT_OK(store_txn_begin(st, 0, &t));
		ASSERT_OK(store_txn_child(t, &c));
		ASSERT_OK(entries_append(c, feed3, 1, &m[5].e, m[5].id,
					 m[5].env, m[5].env_len, m[5].sig,
					 m[5].body, m[5].body_len, &l));
		store_txn_abort(c);
		/* the writer does not take the number it gave in the
		 * undone transaction for one the store holds */
		ASSERT_OK(entries_append(t, feed3, 1, &m[5].e, m[5].id,
					 m[5].env, m[5].env_len, m[5].sig,
					 m[5].body, m[5].body_len, &l));
		ASSERT_OK(entries_append(t, feed[1], 1, &m[4].e, m[4].id,
					 m[4].env, m[4].env_len, m[4].sig, NULL,
					 0, &l));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(store_txn_begin(st, 1, &t));
		reads_back(t, feed[1], &m[4], 1);
		reads_back(t, feed3, &m[5], 1);
		store_txn_abort(t);
	}

	TEST_START("an envelope encoded otherwise, or of another network, or not decoded, is kept whole and read back as it came");
	{
		struct made x, y;
		struct entries_row row;
		uint8_t junk[8], f[32];
		uint64_t l[3];
		/* the version as a uint8 (0xcc 0x01): valid, not minimal */
		make(&x, net, pk[0], sk[0], "bk/z", 1, NULL, body, 10, NULL, 0);
		memmove(x.env + 3, x.env + 2, x.env_len - 2);
		x.env[1] = 0xcc;
		x.env[2] = 0x01;
		x.env_len++;
		ASSERT_OK(entry_decode(x.env, x.env_len, &x.e, NULL));
		ASSERT_OK(entry_sign(x.env, x.env_len, sk[0], x.sig));
		entry_id(x.env, x.env_len, x.id);
		make(&y, other, pk[0], sk[0], "bk/z", 2, x.id, NULL, 0, NULL, 0);
		memset(junk, 0x11, sizeof(junk));
		memset(f, 0x22, sizeof(f));
		log_feed_key(pk[0], "bk/z", feed[0]);
		ASSERT_OK(store_txn_begin(st, 0, &t));
		ASSERT_OK(entries_append(t, feed[0], 1, &x.e, x.id, x.env,
					 x.env_len, x.sig, x.body, x.body_len,
					 &l[0]));
		ASSERT_OK(entries_append(t, feed[0], 2, &y.e, y.id, y.env,
					 y.env_len, y.sig, NULL, 0, &l[1]));
		ASSERT_OK(entries_append(t, f, 1, NULL, x.id, junk, 8, x.sig,
					 NULL, 0, &l[2]));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(store_txn_begin(st, 1, &t));
		reads_back(t, feed[0], &x, 0);
		reads_back(t, feed[0], &y, 0);
		ASSERT_OK(entries_get(t, f, 1, &row));
		ASSERT_EQ(row.compact, 0);
		ASSERT_EQ(row.env_len, 8);
		ASSERT_MEMEQ(row.env, junk, 8);
		store_txn_abort(t);
	}

	TEST_START("a row whose feed number names no feed is corrupt, not another feed's entry");
	{
		uint8_t k[5] = { 'n', 0, 0, 0, 0 };
		struct entries_row row;
		ASSERT_OK(store_txn_begin(st, 0, &t));
		ASSERT_OK(store_del(t, ST_FEEDNUMS, k, 5)); /* feed a's */
		ASSERT_EQ(entries_at(t, lseq[0], &row), HAMLET_ECORRUPT);
		store_txn_abort(t);
	}

	store_close(st);
	th_rmrf(dir);
	free(dir);

	TEST_START("log ingest takes an envelope encoded otherwise: kept whole, sent on as it came");
	{
		char *d2 = th_tmpdir(), *netf = th_network(d2, "en");
		struct node *a = th_node(d2, netf, "a", "bk");
		struct made x;
		struct log_in in = { 0 };
		struct log_out out;
		struct entries_row row;
		const uint8_t *env, *sig;
		uint8_t eb[ENTRY_MAX_ENVELOPE], f[32], *w;
		size_t el, bl;
		uint8_t *b = th_body("person_id=900000000001;full_name=S;birth_date=2000-01-01",
				     &bl);

		ASSERT_OK(th_put(a, "health_profile", "HP-0",
				 "person_id=900000000000;full_name=R;birth_date=2000-01-01"));
		log_feed_key(a->pk, a->scope, f);
		ASSERT_OK(store_txn_begin(a->st, 1, &t));
		ASSERT_OK(entries_get(t, f, 1, &row));
		ASSERT_EQ(row.compact, 1); /* the node's own write */
		memset(&x, 0, sizeof(x));
		ASSERT_OK(entry_decode(row.env, row.env_len, &x.e, NULL));
		entry_id(row.env, row.env_len, x.e.prev);
		store_txn_abort(t);
		x.e.seq = 2;
		x.e.has_prev = 1;
		x.e.hlc += 1 << 16;
		snprintf(x.e.record_id, sizeof(x.e.record_id), "HP-1");
		entry_body_hash(b, bl, x.e.body_hash);
		x.e.body_len = bl;
		ASSERT_OK(entry_encode(&x.e, &w, &el));
		/* the version as a uint8 (0xcc 0x01) */
		x.env[0] = w[0];
		x.env[1] = 0xcc;
		memcpy(x.env + 2, w + 1, el - 1);
		x.env_len = el + 1;
		free(w);
		ASSERT_OK(entry_sign(x.env, x.env_len, a->sk, x.sig));
		in.env = x.env;
		in.env_len = x.env_len;
		in.sig = x.sig;
		in.body = b;
		in.body_len = bl;
		ASSERT_OK(log_ingest(a->st, a->net.id, &in, 1, &out, NULL, NULL));
		ASSERT_EQ(out.status, LOG_APPLIED);
		ASSERT_OK(store_txn_begin(a->st, 1, &t));
		ASSERT_OK(entries_get(t, f, 2, &row));
		ASSERT_EQ(row.compact, 0);
		ASSERT_OK(log_entry_get(t, f, 2, eb, &env, &el, &sig));
		ASSERT_EQ(el, x.env_len);
		ASSERT_MEMEQ(env, x.env, el);
		ASSERT_MEMEQ(sig, x.sig, ENTRY_SIG_LEN);
		store_txn_abort(t);
		free(b);
		node_close(a);
		th_rmrf(d2);
		free(netf);
		free(d2);
	}
	TEST_DONE();
}
