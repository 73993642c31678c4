/* The unique-key index: which records share a key, through changes,
 * aborted transactions (whole and nested) and a store opened again. */
#include "error.h"
#include "helpers.h"
#include "store.h"
#include "uniqidx.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NREC 24
#define NKEY 5
#define NCOLL 2

static const char *const colls[NCOLL] = { "health_profile", "payment" };

/* The model: each record's key (-1: none). */
static int key_of[NCOLL][NREC];

static void key_hash(int k, uint8_t h[16])
{
	memset(h, 0, 16);
	/* keys alike in their first bytes, so they meet in the table */
	h[0] = 0x5a;
	h[15] = (uint8_t)(k + 1);
}

static void rec_id(int i, char *out, size_t n)
{
	snprintf(out, n, "R-%02d", i);
}

static unsigned long long rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

struct seen {
	int member[NCOLL][NREC];
	int rows;
	int bad;
};

static int seen_cb(void *ctx, const char *coll, const char *id)
{
	struct seen *s = ctx;
	int c = -1, i;
	for (int k = 0; k < NCOLL; k++)
		if (strcmp(coll, colls[k]) == 0)
			c = k;
	if (c < 0 || sscanf(id, "R-%d", &i) != 1 || i < 0 || i >= NREC) {
		s->bad++;
		return 0;
	}
	s->member[c][i]++;
	s->rows++;
	return 0;
}

/* How many records of coll c hold key k in the model. */
static int holders(int c, int k)
{
	int n = 0;
	for (int i = 0; i < NREC; i++)
		n += key_of[c][i] == k;
	return n;
}

/* Every shared key's records, and only those, are listed. */
static void check(struct store *st, const char *when)
{
	struct store_txn *t;
	struct seen all = { 0 };
	int want_rows = 0;

	ASSERT_OK(store_txn_begin(st, 1, &t));
	ASSERT_OK(uniqidx_shared_each(t, NULL, NULL, seen_cb, &all));
	for (int c = 0; c < NCOLL; c++)
		for (int i = 0; i < NREC; i++) {
			int k = key_of[c][i];
			int want = k >= 0 && holders(c, k) >= 2;
			want_rows += want;
			if (all.member[c][i] != want) {
				fprintf(stderr,
					"   %s: %s/R-%02d listed %d times, want %d\n",
					when, colls[c], i, all.member[c][i],
					want);
				ASSERT_EQ(all.member[c][i], want);
			}
		}
	ASSERT_EQ(all.bad, 0);
	ASSERT_EQ(all.rows, want_rows);
	for (int c = 0; c < NCOLL; c++)
		for (int k = 0; k < NKEY; k++) {
			struct seen one = { 0 };
			uint8_t h[16];
			int n = holders(c, k);
			key_hash(k, h);
			ASSERT_OK(uniqidx_shared_each(t, colls[c], h, seen_cb,
						      &one));
			ASSERT_EQ(one.rows, n >= 2 ? n : 0);
		}
	store_txn_abort(t);
}

/* Keys spread over the table, as real hashes are. */
static void big_hash(int k, uint8_t h[16])
{
	uint64_t x = (uint64_t)(k + 1) * 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	memset(h, 0xb7, 16);
	memcpy(h, &x, 8);
}

struct big_seen {
	int member[3000];
	int rows, bad;
};

static int big_cb(void *ctx, const char *coll, const char *id)
{
	struct big_seen *s = ctx;
	int i;
	if (strcmp(coll, "payment") != 0 || sscanf(id, "B-%d", &i) != 1 ||
	    i < 0 || i >= 3000) {
		s->bad += strncmp(id, "R-", 2) != 0;
		return 0;
	}
	s->member[i]++;
	s->rows++;
	return 0;
}

/* One record's key, in a transaction of its own. */
static void set_one(struct store *st, const char *coll, const char *id,
		    const uint8_t *h)
{
	struct store_txn *t;
	ASSERT_OK(store_txn_begin(st, 0, &t));
	ASSERT_OK(uniqidx_set(t, coll, id, h));
	ASSERT_OK(store_txn_commit(t));
}

/* Change one record's key in t and in the model m. */
static void change(struct store_txn *t, int m[NCOLL][NREC])
{
	int c = (int)rnd(NCOLL), i = (int)rnd(NREC);
	int nk = rnd(4) == 0 ? -1 : (int)rnd(NKEY);
	uint8_t nh[16];
	char id[16];

	rec_id(i, id, sizeof(id));
	key_hash(nk, nh);
	ASSERT_OK(uniqidx_set(t, colls[c], id, nk >= 0 ? nh : NULL));
	m[c][i] = nk;
}

/*
 * Another process writes the store between two of ours: what this one
 * keeps in memory no longer holds, and its next change must tell.
 */
static void other_writer(const char *dir, int *count)
{
	int m[NCOLL][NREC], st;
	pid_t pid;

	memcpy(m, key_of, sizeof(m));
	/* the same choices in both processes */
	unsigned long long saved = rng;
	fflush(NULL);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct store *s2;
		struct store_txn *t;
		if (store_open(dir, NULL, &s2) < 0 ||
		    store_txn_begin(s2, 0, &t) < 0)
			_exit(2);
		for (int k = 0; k < 6; k++)
			change(t, m);
		_exit(store_txn_commit(t) < 0 ? 3 : 0);
	}
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* what the child did, in the model: the same draws again, here
	 * only to follow them */
	rng = saved;
	for (int k = 0; k < 6; k++) {
		int c = (int)rnd(NCOLL), i = (int)rnd(NREC);
		int nk = rnd(4) == 0 ? -1 : (int)rnd(NKEY);
		key_of[c][i] = nk;
	}
	(*count)++;
}

int main(void)
{
	char *dir = th_tmpdir();
	struct store *st;
	int commits = 0, undone = 0, shared_seen = 0;

	for (int c = 0; c < NCOLL; c++)
		for (int i = 0; i < NREC; i++)
			key_of[c][i] = -1;
	ASSERT_OK(store_open(dir, NULL, &st));

	TEST_START("random key changes, some undone whole or nested: only shared keys are listed, all of them");
	for (int round = 0; round < 400; round++) {
		int m[NCOLL][NREC], what = (int)rnd(6);
		struct store_txn *t, *child;

		memcpy(m, key_of, sizeof(m));
		ASSERT_OK(store_txn_begin(st, 0, &t));
		for (int k = 1 + (int)rnd(4); k > 0; k--)
			change(t, m);
		if (what == 0) {
			/* a nested transaction's changes undone, the rest
			 * kept */
			int keep[NCOLL][NREC];
			memcpy(keep, m, sizeof(m));
			ASSERT_OK(store_txn_child(t, &child));
			for (int k = 1 + (int)rnd(4); k > 0; k--)
				change(child, m);
			store_txn_abort(child);
			memcpy(m, keep, sizeof(m));
			undone++;
			/* and a change after it, in the same transaction */
			change(t, m);
		} else if (what == 1) {
			ASSERT_OK(store_txn_child(t, &child));
			change(child, m);
			ASSERT_OK(store_txn_commit(child));
		}
		if (what == 2) {
			store_txn_abort(t);
			undone++;
		} else {
			ASSERT_OK(store_txn_commit(t));
			memcpy(key_of, m, sizeof(m));
			commits++;
		}
		if (round == 200) {
			/* a new process: the index is built from the table */
			store_close(st);
			ASSERT_OK(store_open(dir, NULL, &st));
		}
		if (round % 50 == 25)
			other_writer(dir, &undone);
		check(st, "after a round");
		for (int c = 0; c < NCOLL; c++)
			for (int k = 0; k < NKEY; k++)
				shared_seen += holders(c, k) >= 2;
	}
	fprintf(stderr, "   %d commits, %d undone, %d shared keys seen\n",
		commits, undone, shared_seen);
	ASSERT_TRUE(commits > 200 && undone > 50 && shared_seen > 100);

	TEST_START("a key that no record holds any more leaves nothing behind");
	{
		struct store_txn *t;
		uint64_t n;
		ASSERT_OK(store_txn_begin(st, 0, &t));
		for (int c = 0; c < NCOLL; c++)
			for (int i = 0; i < NREC; i++) {
				uint8_t h[16];
				char id[16];
				if (key_of[c][i] < 0)
					continue;
				rec_id(i, id, sizeof(id));
				key_hash(key_of[c][i], h);
				ASSERT_OK(uniqidx_set(t, colls[c], id, NULL));
				key_of[c][i] = -1;
			}
		ASSERT_OK(store_txn_commit(t));
		check(st, "all removed");
		ASSERT_OK(store_txn_begin(st, 1, &t));
		ASSERT_OK(store_count(t, ST_UNIQ, &n));
		ASSERT_EQ(n, 0);
		ASSERT_OK(store_count(t, ST_DUPS, &n));
		ASSERT_EQ(n, 0);
		store_txn_abort(t);
	}
	TEST_START("thousands of keys: the table grows, and keys leave from the middle of their runs");
	{
		enum { BIG = 3000 };
		static int bk[BIG]; /* each record's key, -1: none */
		struct store_txn *t;
		struct big_seen bs = { 0 };
		for (int i = 0; i < BIG; i++) {
			char id[16];
			uint8_t h[16];
			if (i % 500 == 0) {
				if (i)
					ASSERT_OK(store_txn_commit(t));
				ASSERT_OK(store_txn_begin(st, 0, &t));
			}
			bk[i] = i / 2; /* two records a key */
			snprintf(id, sizeof(id), "B-%04d", i);
			big_hash(bk[i], h);
			ASSERT_OK(uniqidx_set(t, "payment", id, h));
		}
		ASSERT_OK(store_txn_commit(t));
		/* half of them leave, in an order of their own, a few
		 * undone first */
		for (int round = 0; round < 3; round++) {
			ASSERT_OK(store_txn_begin(st, 0, &t));
			for (int k = 0; k < 700; k++) {
				int i = (int)rnd(BIG);
				char id[16];
				snprintf(id, sizeof(id), "B-%04d", i);
				ASSERT_OK(uniqidx_set(t, "payment", id, NULL));
				if (round)
					bk[i] = -1;
			}
			if (round == 0)
				store_txn_abort(t);
			else
				ASSERT_OK(store_txn_commit(t));
		}
		ASSERT_OK(store_txn_begin(st, 1, &t));
		ASSERT_OK(uniqidx_shared_each(t, NULL, NULL, big_cb, &bs));
		store_txn_abort(t);
		for (int i = 0; i < BIG; i++) {
			int pair = i ^ 1, want = bk[i] >= 0 && bk[pair] >= 0;
			if (bs.member[i] != want) {
				fprintf(stderr, "   B-%04d listed %d times, want %d\n",
					i, bs.member[i], want);
				ASSERT_EQ(bs.member[i], want);
			}
		}
		ASSERT_EQ(bs.bad, 0);
		/* and every record left takes a key of its own: no group */
		ASSERT_OK(store_txn_begin(st, 0, &t));
		for (int i = 0; i < BIG; i++) {
			char id[16];
			uint8_t h[16];
			if (bk[i] < 0)
				continue;
			snprintf(id, sizeof(id), "B-%04d", i);
			big_hash(BIG + i, h);
			ASSERT_OK(uniqidx_set(t, "payment", id, h));
		}
		ASSERT_OK(store_txn_commit(t));
		memset(&bs, 0, sizeof(bs));
		ASSERT_OK(store_txn_begin(st, 1, &t));
		ASSERT_OK(uniqidx_shared_each(t, NULL, NULL, big_cb, &bs));
		store_txn_abort(t);
		ASSERT_EQ(bs.rows, 0);
	}

	TEST_START("golden: a uniq row by record, a dups row for each member of a shared key");
	{
		static const uint8_t want_key[] = "payment\0R-01";
		static const uint8_t want_dup[] = "payment\0"
						  "\x5a\0\0\0\0\0\0\0"
						  "\0\0\0\0\0\0\0\x03"
						  "R-02";
		struct store_txn *t;
		struct seen all = { 0 };
		const void *v;
		size_t vl;
		uint8_t h[16];
		uint64_t n;
		key_hash(2, h);
		set_one(st, "payment", "R-01", h);
		ASSERT_OK(store_txn_begin(st, 1, &t));
		ASSERT_OK(store_get(t, ST_UNIQ, want_key, sizeof(want_key) - 1,
				    &v, &vl));
		ASSERT_EQ(vl, 16);
		ASSERT_MEMEQ(v, h, 16);
		ASSERT_OK(store_count(t, ST_DUPS, &n));
		ASSERT_EQ(n, 0); /* one holder: no group */
		ASSERT_OK(store_get(t, ST_META, "uniqgen", 7, &v, &vl));
		ASSERT_EQ(vl, 8);
		store_txn_abort(t);
		set_one(st, "payment", "R-02", h);
		ASSERT_OK(store_txn_begin(st, 1, &t));
		ASSERT_OK(store_get(t, ST_DUPS, want_dup, sizeof(want_dup) - 1,
				    &v, &vl));
		ASSERT_EQ(vl, 0);
		ASSERT_OK(store_count(t, ST_DUPS, &n));
		ASSERT_EQ(n, 2);
		ASSERT_OK(uniqidx_shared_each(t, NULL, NULL, seen_cb, &all));
		ASSERT_EQ(all.rows, 2);
		ASSERT_EQ(all.member[1][1] + all.member[1][2], 2);
		store_txn_abort(t);
	}
	store_close(st);
	th_rmrf(dir);
	free(dir);
	TEST_DONE();
}
