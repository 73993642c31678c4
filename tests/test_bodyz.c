/*
 * bodyz: once a store holds BODYZ_TRAIN_AT entries it trains its own
 * dictionary, and bodies stored after are compressed with it; every
 * reader (records, the audit, a bundle to another node) sees the bodies
 * as written.
 */
#include "audit.h"
#include "entries.h"
#include "helpers.h"

#define N 4400

/* The stored row of feed seq: its flags byte, and the bytes after it. */
static void row_of(struct node *n, uint64_t seq, int *ret_flags,
		   size_t *ret_body_bytes)
{
	struct store_txn *t;
	struct entries_row row;
	uint8_t k[32];

	log_feed_key(n->pk, n->scope, k);
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(entries_get(t, k, seq, &row));
	*ret_flags = (row.body ? 1 : 0) | (row.compressed ? 2 : 0);
	*ret_body_bytes = row.body_len;
	store_txn_abort(t);
}

static void write_many(struct node *n, int from, int to)
{
	static struct log_op ops[500];
	static uint8_t *bodies[500];
	static char ids[500][32];
	struct log_author a;
	char why[256];
	size_t failed;

	node_author(n, &a);
	for (int i = from; i < to;) {
		int k = 0;
		for (; k < 500 && i < to; k++, i++) {
			char spec[256];
			snprintf(ids[k], sizeof(ids[k]), "HP-%d", i);
			snprintf(spec, sizeof(spec),
				 "person_id=%012d;full_name=Lo Thi %d;birth_date=1990-01-0%d;phone=09120%05d",
				 i, i, i % 9 + 1, i);
			ops[k] = (struct log_op){ ENTRY_PUT, "health_profile",
						  ids[k], NULL, NULL, 0, 0, NULL, 0 };
			bodies[k] = th_body(spec, &ops[k].body_len);
			ops[k].body = bodies[k];
		}
		ASSERT_OK(log_write(n->st, &a, ops, (size_t)k, NULL, &failed,
				    why, sizeof(why), NULL));
		for (int j = 0; j < k; j++)
			free(bodies[j]);
	}
}

int main(void)
{
	const char *dir = th_tmpdir();
	char *net = th_network(dir, "bz");
	struct node *a = th_node(dir, net, "a", "bz/c1/v1");
	struct node *b = th_node(dir, net, "b", "bz");
	uint8_t da[32], db[32];
	char buf[64];
	int flags;
	size_t zl;

	TEST_START("below the threshold bodies are stored as they are, and no dictionary is made");
	write_many(a, 0, BODYZ_TRAIN_AT - 10);
	row_of(a, 1, &flags, &zl);
	ASSERT_EQ(flags, 1);
	{
		struct store_txn *t;
		const void *v;
		size_t vl;
		ASSERT_OK(store_txn_begin(a->st, 1, &t));
		ASSERT_EQ(store_get(t, ST_META, "zdict", 5, &v, &vl),
			  HAMLET_ENOTFOUND);
		store_txn_abort(t);
	}

	TEST_START("past it the store trains a dictionary, and later bodies are stored compressed, smaller");
	write_many(a, BODYZ_TRAIN_AT - 10, N);
	{
		struct store_txn *t;
		const void *v;
		size_t vl;
		ASSERT_OK(store_txn_begin(a->st, 1, &t));
		ASSERT_OK(store_get(t, ST_META, "zdict", 5, &v, &vl));
		ASSERT_TRUE(vl > 8 && vl <= 8 + BODYZ_DICT_MAX);

		TEST_START("the dictionary holds field names and no value anyone wrote");
		ASSERT_TRUE(memmem(v, vl, "full_name", 9) != NULL);
		ASSERT_TRUE(memmem(v, vl, "Lo Thi", 6) == NULL);
		ASSERT_TRUE(memmem(v, vl, "09120", 5) == NULL);
		ASSERT_TRUE(memmem(v, vl, "1990-01", 7) == NULL);

		TEST_START("ahead of them, zstd's statistics over the bodies, so a frame needs no tables of its own");
		{
			const uint8_t *d = (const uint8_t *)v + 8;
			/* a zstd dictionary's magic number, little-endian */
			ASSERT_TRUE(d[0] == 0x37 && d[1] == 0xa4 && d[2] == 0x30 &&
				    d[3] == 0xec);
		}
		store_txn_abort(t);
	}
	TEST_START("a body that does not compress is kept as it is, and the next one compresses");
	{
		struct store_txn *t;
		uint8_t noise[300], out[300], *body;
		size_t raw, zn = 0;
		randombytes_buf(noise, sizeof(noise));
		body = th_body("person_id=000000000042;full_name=Lo Thi Mai;birth_date=1990-01-02;phone=0912000042",
			       &raw);
		ASSERT_OK(store_txn_begin(a->st, 1, &t));
		for (int i = 0; i < 3; i++) {
			ASSERT_EQ(bodyz_compress(t, noise, sizeof(noise), out,
						 &zn),
				  0);
			ASSERT_EQ(bodyz_compress(t, body, raw, out, &zn), 1);
			ASSERT_TRUE(zn < raw);
		}
		store_txn_abort(t);
		free(body);
	}
	row_of(a, 1, &flags, &zl);
	ASSERT_EQ(flags, 1); /* rows stored before stay as they were */
	row_of(a, N, &flags, &zl);
	ASSERT_EQ(flags, 3);
	{
		size_t raw;
		uint8_t *body;
		char spec[256];
		snprintf(spec, sizeof(spec),
			 "person_id=%012d;full_name=Lo Thi %d;birth_date=1990-01-0%d;phone=09120%05d",
			 N - 1, N - 1, (N - 1) % 9 + 1, N - 1);
		body = th_body(spec, &raw);
		ASSERT_TRUE(zl < raw);

		TEST_START("a compressed body reads back byte for byte, and its record's fields with it");
		struct store_txn *t;
		struct bodyz_buf zb = { 0 };
		const uint8_t *env, *sig, *got;
		size_t el, gl;
		uint8_t k[32], id[32], eb[ENTRY_MAX_ENVELOPE];
		log_feed_key(a->pk, a->scope, k);
		ASSERT_OK(store_txn_begin(a->st, 1, &t));
		ASSERT_OK(log_entry_get(t, k, N, eb, &env, &el, &sig));
		entry_id(env, el, id);
		ASSERT_OK(log_body_of(t, k, N, &zb, &got, &gl));
		ASSERT_EQ(gl, raw);
		ASSERT_MEMEQ(got, body, raw);
		store_txn_abort(t);
		bodyz_buf_free(&zb);
		free(body);
	}
	snprintf(buf, sizeof(buf), "HP-%d", N - 1);
	{
		char v[64], want[64];
		snprintf(want, sizeof(want), "Lo Thi %d", N - 1);
		ASSERT_STREQ(th_field(a, "health_profile", buf, "full_name", v,
				      sizeof(v)),
			     want);
	}

	TEST_START("the audit passes over compressed bodies, and a bundle carries them to a node that agrees");
	{
		struct audit_report ar;
		ASSERT_OK(audit_store(a->st, a->net.id, &ar));
		ASSERT_TRUE(!audit_failed(&ar));
		ASSERT_EQ(ar.bodies, N);
		audit_report_close(&ar);
	}
	th_sync(a, b, dir);
	th_digest(a, da);
	th_digest(b, db);
	ASSERT_MEMEQ(da, db, 32);
	row_of(a, N, &flags, &zl);
	ASSERT_EQ(flags, 3);

	TEST_START("a damaged compressed body is found by the audit, named");
	{
		struct store_txn *t;
		const void *v;
		size_t vl;
		uint8_t k[32], lseq[8], *copy;
		uint64_t ls;
		struct audit_report ar;
		log_feed_key(a->pk, a->scope, k);
		ASSERT_OK(store_txn_begin(a->st, 0, &t));
		ASSERT_OK(entries_lseq(t, k, N - 5, &ls));
		store_be64(lseq, ls);
		ASSERT_OK(store_get(t, ST_ENTRIES, lseq, 8, &v, &vl));
		copy = malloc(vl);
		memcpy(copy, v, vl);
		copy[vl - 3] ^= 0x55; /* inside the frame */
		ASSERT_OK(store_put(t, ST_ENTRIES, lseq, 8, copy, vl, 0));
		free(copy);
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(audit_store(a->st, a->net.id, &ar));
		ASSERT_TRUE(audit_failed(&ar));
		ASSERT_TRUE(problems_count(&ar.problems, "body") +
				    problems_count(&ar.problems, "store") >=
			    1);
		audit_report_close(&ar);
	}

	TEST_START("a local put to the record of a damaged body is refused as damage; others go on");
	{
		char id[32], why[256];
		snprintf(id, sizeof(id), "HP-%d", N - 6);
		ASSERT_EQ(th_write(a, ENTRY_PUT, "health_profile", id,
				   "phone=0999000111", 0, why, sizeof(why)),
			  HAMLET_ECORRUPT);
		ASSERT_OK(th_put(a, "health_profile", "HP-OTHER",
				 "person_id=990000000001;full_name=Vi Van A;birth_date=1991-02-03"));
	}

	TEST_START("a peer's newer put of that record still arrives, and the record reads it");
	{
		char id[32], v[64];
		snprintf(id, sizeof(id), "HP-%d", N - 6);
		ASSERT_OK(th_put(b, "health_profile", id, "phone=0999000222"));
		th_sync(b, a, dir);
		ASSERT_STREQ(th_field(a, "health_profile", id, "phone", v,
				      sizeof(v)),
			     "0999000222");
	}

	node_close(a);
	node_close(b);
	th_rmrf(dir);
	free(net);
	free((char *)dir);
	TEST_DONE();
}
