/*
 * heads: the totals and versions kept with the feed heads match a walk
 * over every feed; "moved since" names exactly the feeds a later commit
 * moved; a format-4 store is upgraded in place and counted once.
 */
#include "heads.h"
#include "helpers.h"

struct walk {
	uint64_t feeds, entries, newest;
};

static int walk_feed(void *ctx, const struct log_feed *f)
{
	struct walk *w = ctx;
	w->feeds++;
	w->entries += f->seq;
	if (f->hlc > w->newest)
		w->newest = f->hlc;
	return 0;
}

/* The kept totals equal a walk over every feed. */
static void totals_match(struct node *n, struct heads_totals *ret)
{
	struct store_txn *t;
	struct walk w = { 0 };
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(heads_totals_get(t, ret));
	ASSERT_OK(log_feeds_each(t, walk_feed, &w));
	store_txn_abort(t);
	ASSERT_EQ(ret->feeds, w.feeds);
	ASSERT_EQ(ret->entries, w.entries);
	ASSERT_EQ(ret->newest_hlc, w.newest);
}

struct keys {
	uint8_t v[8][32];
	size_t n;
};

static int key_add(void *ctx, const uint8_t key[32])
{
	struct keys *k = ctx;
	if (k->n == 8)
		return 1;
	memcpy(k->v[k->n++], key, 32);
	return 0;
}

static void moved_since(struct node *n, uint64_t v, struct keys *ret)
{
	struct store_txn *t;
	memset(ret, 0, sizeof(*ret));
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(heads_moved_since(t, v, key_add, ret));
	store_txn_abort(t);
}

int main(void)
{
	struct node *a, *b;
	struct heads_totals ta, tb;
	struct keys k;
	uint8_t key_a[32];
	char *net, home[4200], why[256];
	uint64_t v;

	const char *dir = th_tmpdir();
	net = th_network(dir, "hd");
	a = th_node(dir, net, "a", "hd/c1/v1");
	b = th_node(dir, net, "b", "hd");
	log_feed_key(a->pk, a->scope, key_a);

	TEST_START("local writes: one feed, its entries, one version a commit");
	th_put_profiles(a, 3, "P");
	totals_match(a, &ta);
	ASSERT_EQ(ta.feeds, 1);
	ASSERT_EQ(ta.entries, 3);
	ASSERT_TRUE(ta.version >= 1);

	TEST_START("arriving entries count on the receiver, with their feeds by author");
	ASSERT_OK(th_put(b, "health_profile", "HP-B1",
			 "person_id=000000000901;full_name=Bee;birth_date=1990-01-01"));
	th_sync(a, b, dir);
	totals_match(b, &tb);
	ASSERT_EQ(tb.feeds, 2);
	ASSERT_EQ(tb.entries, 4);
	{
		struct store_txn *t;
		ASSERT_OK(store_txn_begin(b->st, 1, &t));
		memset(&k, 0, sizeof(k));
		ASSERT_OK(heads_author_feeds(t, a->pk, key_add, &k));
		store_txn_abort(t);
		ASSERT_EQ(k.n, 1);
		ASSERT_MEMEQ(k.v[0], key_a, 32);
	}

	TEST_START("moved since a version: only the feed a later commit moved");
	v = tb.version;
	moved_since(b, v, &k);
	ASSERT_EQ(k.n, 0);
	ASSERT_OK(th_put(a, "health_profile", "HP-A9",
			 "person_id=000000000909;full_name=Nine;birth_date=1990-01-01"));
	th_sync(a, b, dir);
	moved_since(b, v, &k);
	ASSERT_EQ(k.n, 1);
	ASSERT_MEMEQ(k.v[0], key_a, 32);
	moved_since(b, 0, &k);
	ASSERT_EQ(k.n, 2); /* each feed once, at its newest version */
	totals_match(b, &tb);
	ASSERT_EQ(tb.version, v + 1);
	ASSERT_EQ(th_count_rows(b, ST_VERFEED), 2);

	TEST_START("a commit that moves nothing takes no version");
	th_sync(a, b, dir);
	totals_match(b, &tb);
	ASSERT_EQ(tb.version, v + 1);

	TEST_START("a store of an earlier format is refused, read-only or not, naming the format this hamlet reads");
	snprintf(home, sizeof(home), "%s/b", dir);
	{
		struct store_txn *t;
		uint8_t eight[8];
		struct node *x;
		char want[32];
		store_be64(eight, 8); /* whole envelopes in every entry row */
		ASSERT_OK(store_txn_begin(b->st, 0, &t));
		ASSERT_OK(store_put(t, ST_META, "format", 6, eight, 8, 0));
		ASSERT_OK(store_txn_commit(t));
		node_close(b);
		snprintf(want, sizeof(want), "reads format %d",
			 STORE_FORMAT_VERSION);
		for (int ro = 0; ro < 2; ro++) {
			ASSERT_TRUE(node_open(home, ro, &x, why, sizeof(why)) <
				    0);
			ASSERT_TRUE(strstr(why, want) != NULL);
		}
		/* and left as it was: refused again, not half upgraded */
		{
			struct store *st;
			char sd[4300];
			snprintf(sd, sizeof(sd), "%s/store", home);
			ASSERT_EQ(store_open(sd, NULL, &st), HAMLET_EVERSION);
		}
	}

	TEST_START("a store of an unknown later format is refused");
	snprintf(home, sizeof(home), "%s/a", dir);
	{
		struct store_txn *t;
		uint8_t nine[8];
		struct node *x;
		store_be64(nine, 99);
		ASSERT_OK(store_txn_begin(a->st, 0, &t));
		ASSERT_OK(store_put(t, ST_META, "format", 6, nine, 8, 0));
		ASSERT_OK(store_txn_commit(t));
		node_close(a);
		ASSERT_TRUE(node_open(home, 0, &x, why, sizeof(why)) < 0);
		ASSERT_TRUE(strstr(why, "format") != NULL);
	}

	th_rmrf(dir);
	free(net);
	free((char *)dir);
	TEST_DONE();
}
