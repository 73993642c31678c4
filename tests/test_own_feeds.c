/*
 * node_feeds: HOME/own-feeds, the highest seq a node signed in each of
 * its own feeds, and the writer's refusal to sign below it. A node whose
 * store is moved aside (or restored from an older copy) must not sign
 * again the seqs its peers hold: it writes once they are back, or once
 * its operator gives them up.
 */
#include "helpers.h"

#include "why.h"

#include <errno.h>
#include <pthread.h>

/* A put in scope (NULL: the node's) through log_write, and HOME/own-feeds
 * raised after its commit as hamletd and the CLI do; the write's result,
 * its seq in *ret_seq. */
/* Write fields spec (th_body()) to health_profile id in scope (NULL:
 * n's own), as hamletd's writer does; *ret_seq the entry's seq. */
static int write_spec(struct node *n, const char *scope, const char *id,
		      const char *spec, uint64_t *ret_seq, char *why,
		      size_t wl)
{
	char fw[1024];
	struct log_author au;
	struct log_advances adv = { 0 };
	struct log_out out;
	struct log_op op = { ENTRY_PUT, "health_profile", id, scope, NULL, 0,
			     0, NULL, 0 };
	size_t failed = 0;
	uint8_t *body;
	int r;

	body = th_body(spec, &op.body_len);
	op.body = body;
	node_author(n, &au);
	memset(&out, 0, sizeof(out));
	r = log_write(n->st, &au, &op, 1, &out, &failed, why, wl, &adv);
	if (r == 0) {
		ASSERT_OK(node_feeds_advance(n, &adv, fw, sizeof(fw)));
		if (ret_seq)
			*ret_seq = out.seq;
	}
	log_advances_close(&adv);
	free(body);
	return r;
}

static int put_in(struct node *n, const char *scope, const char *id,
		  uint64_t *ret_seq, char *why, size_t wl)
{
	static int people;
	char spec[200];

	snprintf(spec, sizeof(spec),
		 "person_id=0011223%05d;full_name=Person %s;birth_date=1990-01-01",
		 ++people, id);
	return write_spec(n, scope, id, spec, ret_seq, why, wl);
}

static int put(struct node *n, const char *id, uint64_t *ret_seq,
	       char *why, size_t wl)
{
	return put_in(n, NULL, id, ret_seq, why, wl);
}

/* The head of n's own feed in scope in its store (0: none). */
static uint64_t head(struct node *n, const char *scope)
{
	struct store_txn *t;
	struct log_feed f;
	uint8_t key[32];
	int r;

	log_feed_key(n->pk, scope, key);
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	r = log_feed_get(t, key, &f);
	store_txn_abort(t);
	if (r == HAMLET_ENOTFOUND)
		return 0;
	ASSERT_OK(r);
	return f.seq;
}

/* What own-feeds records for scope (0: none). */
static uint64_t recorded(struct node *n, const char *scope)
{
	struct node_feed_lag v[16];
	size_t k;
	ASSERT_OK(node_feeds_list(n, v, 16, &k));
	for (size_t i = 0; i < k && i < 16; i++)
		if (strcmp(v[i].scope, scope) == 0)
			return v[i].signed_seq;
	return 0;
}

/* Close n, move its store aside to STORE.TAG, open it again: a store
 * lost and started again empty, node.key and own-feeds kept. */
static struct node *store_lost(struct node *n, const char *tag)
{
	char home[4096], a[4200], b[4200], why[512];
	struct node *m;

	snprintf(home, sizeof(home), "%s", n->home);
	node_close(n);
	snprintf(a, sizeof(a), "%s/store", home);
	snprintf(b, sizeof(b), "%s/store.%s", home, tag);
	ASSERT_EQ(rename(a, b), 0);
	if (node_open(home, 0, &m, why, sizeof(why)) < 0) {
		fprintf(stderr, "node_open: %s\n", why);
		exit(1);
	}
	th_live_add(m);
	return m;
}

static struct node *reopen(struct node *n, int readonly)
{
	char home[4096], why[512];
	struct node *m;

	snprintf(home, sizeof(home), "%s", n->home);
	node_close(n);
	if (node_open(home, readonly, &m, why, sizeof(why)) < 0) {
		fprintf(stderr, "node_open: %s\n", why);
		exit(1);
	}
	th_live_add(m);
	return m;
}

/* The own-feeds file of n with its text replaced by text. */
static void feeds_write(struct node *n, const char *text)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/" NODE_FEEDS_FILE, n->home);
	th_spit(p, (const uint8_t *)text, strlen(text));
}

/* node_feeds_parse() of text for n's key: its result, why in why. */
static int parse(struct node *n, const char *text, size_t *ret_n, char *why,
		 size_t wl)
{
	struct node_feed *v = NULL;
	size_t k = 0;
	int r = node_feeds_parse(text, strlen(text), n->pk, &v, &k, why, wl);
	free(v);
	if (ret_n)
		*ret_n = k;
	return r;
}

static void parser_cases(struct node *a)
{
	char key[65], t[4096], why[512];
	size_t k;

	hex_encode(a->pk, 32, key);
	TEST_START("own-feeds: comments, the key line and one line a feed parse, in scope order");
	snprintf(t, sizeof(t), "# c\n\nkey %s\nbk/c1/v2 7\n# x\nbk/c1 12\n",
		 key);
	ASSERT_OK(parse(a, t, &k, why, sizeof(why)));
	ASSERT_EQ(k, 2);

	TEST_START("own-feeds: a damaged file is refused, naming the line and what is wrong");
	{
		static const struct {
			const char *body, *says;
		} bad[] = {
			{ "bk/c1 0\n", "line 2: the seq is not a number" },
			{ "bk/c1 012\n", "line 2: the seq is not a number" },
			{ "bk/c1 18446744073709551616\n", "line 2: the seq" },
			{ "bk/c1 -1\n", "line 2: the seq" },
			{ "bk/c1  3\n", "line 2 is not \"SCOPE SEQ\"" },
			{ "bk/c1 3 \n", "line 2 is not \"SCOPE SEQ\"" },
			{ "bk/c1\n", "line 2 is not \"SCOPE SEQ\"" },
			{ "BK/c1 3\n", "line 2: the scope is not a scope" },
			{ "bk//c1 3\n", "line 2: the scope is not a scope" },
			{ "bk/c1 3\nbk/c2 4\nbk/c1 5\n",
			  "line 4: scope bk/c1 is listed on line 2 already" },
			{ "bk/c1 3", "does not end with a newline" },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(t, sizeof(t), "key %s\n%s", key, bad[i].body);
			ASSERT_TRUE(parse(a, t, NULL, why, sizeof(why)) < 0);
			if (!strstr(why, bad[i].says)) {
				fprintf(stderr, "case %zu: %s\n", i, why);
				ASSERT_TRUE(strstr(why, bad[i].says) != NULL);
			}
		}
		ASSERT_TRUE(parse(a, "", NULL, why, sizeof(why)) < 0);
		ASSERT_TRUE(strstr(why, "no \"key\" line") != NULL);
		ASSERT_TRUE(parse(a, "bk/c1 3\n", NULL, why, sizeof(why)) < 0);
		ASSERT_TRUE(strstr(why, "line 1: the file's first line") != NULL);
		snprintf(t, sizeof(t), "key %064d\nbk/c1 3\n", 7);
		ASSERT_EQ(parse(a, t, NULL, why, sizeof(why)), HAMLET_EKEY);
		ASSERT_TRUE(strstr(why, "another node's file") != NULL);
		/* a NUL inside a line */
		snprintf(t, sizeof(t), "key %s\nbk/c1 3\n", key);
		{
			size_t len = strlen(t);
			struct node_feed *v = NULL;
			t[len - 3] = 0;
			ASSERT_TRUE(node_feeds_parse(t, len, a->pk, &v, &k, why,
						     sizeof(why)) < 0);
			ASSERT_TRUE(strstr(why, "line 2") != NULL);
		}
	}

	TEST_START("own-feeds: a file over its size cap is refused before it is read line by line");
	{
		size_t len = NODE_FEEDS_MAX_BYTES + 1;
		char *big = malloc(len + 1);
		struct node_feed *v = NULL;
		ASSERT_TRUE(big != NULL);
		memset(big, '#', len);
		big[len - 1] = '\n';
		ASSERT_EQ(node_feeds_parse(big, len, a->pk, &v, &k, why,
					   sizeof(why)),
			  HAMLET_ETOOBIG);
		free(big);
	}
}

/* A put as hamletd makes it: own-feeds checked first (its writer's
 * node_feeds_refresh()), what that says into note (level in *ret_said). */
static int put_daemon(struct node *n, const char *id, uint64_t *ret_seq,
		      int *ret_said, char *note, size_t nl, char *why,
		      size_t wl)
{
	*ret_said = node_feeds_refresh(n, note, nl);
	return put(n, id, ret_seq, why, wl);
}

/* A change to record id, which n holds (its phone): not a new record,
 * so it goes on while a feed of n's waits for its entries (a new one
 * waits then: log_write.c, creating_while_behind()). */
static int change_daemon(struct node *n, const char *id, uint64_t *ret_seq,
			 int *ret_said, char *note, size_t nl, char *why,
			 size_t wl)
{
	static int calls;
	char spec[64];

	*ret_said = node_feeds_refresh(n, note, nl);
	snprintf(spec, sizeof(spec), "phone=09120000%02d", ++calls);
	return write_spec(n, NULL, id, spec, ret_seq, why, wl);
}

/* n's own-feeds holds text, byte for byte. */
static int file_is(const char *path, const char *text)
{
	size_t len;
	uint8_t *b = th_slurp(path, &len);
	int same = len == strlen(text) && memcmp(b, text, len) == 0;
	free(b);
	return same;
}

/* Own-feeds changed while the node is open to write (hamletd running):
 * never written over unseen (docs/admin-guide.md, "Own feeds"). */
static void changed_while_open(struct node *a, const char *path)
{
	char key[65], t[1024], note[1024], why[LOG_WHY_MAX];
	uint64_t seq = 0;
	int said;

	hex_encode(a->pk, 32, key);
	TEST_START("own-feeds left alone while the node writes: nothing is said, each write goes through");
	ASSERT_OK(put_daemon(a, "HP-8", &seq, &said, note, sizeof(note), why,
			     sizeof(why)));
	ASSERT_EQ(said, 0);
	ASSERT_EQ(seq, 3);
	ASSERT_EQ(put_daemon(a, "HP-9", &seq, &said, note, sizeof(note), why,
			     sizeof(why)),
		  0);
	ASSERT_EQ(said, 0);
	ASSERT_EQ(seq, 4);

	TEST_START("own-feeds damaged while the node is open to write: the next write is refused, naming the file and the line, and the file is left as it is");
	snprintf(t, sizeof(t), "key %s\nbk/c1 4\nbk/c1/x twelve\n", key);
	feeds_write(a, t);
	ASSERT_EQ(put_daemon(a, "HP-10", NULL, &said, note, sizeof(note), why,
			     sizeof(why)),
		  HAMLET_ECONFIG);
	ASSERT_EQ(said, 1); /* for the log, once */
	ASSERT_TRUE(strstr(note, NODE_FEEDS_FILE " does not read (line 3: the seq is not a number") != NULL);
	ASSERT_TRUE(strstr(why, NODE_FEEDS_FILE " does not read (line 3: the seq is not a number") != NULL);
	ASSERT_TRUE(strstr(why, "writes nothing") != NULL);
	ASSERT_EQ(node_feeds_problem(a, why, sizeof(why)), 1); /* status */
	ASSERT_TRUE(strstr(why, "line 3") != NULL);
	ASSERT_EQ(head(a, "bk/c1"), 4);
	ASSERT_TRUE(file_is(path, t));
	ASSERT_EQ(put_daemon(a, "HP-10", NULL, &said, note, sizeof(note), why,
			     sizeof(why)),
		  HAMLET_ECONFIG);
	ASSERT_EQ(said, 0); /* said already */
	ASSERT_TRUE(file_is(path, t));

	TEST_START("... mended by hand, the next write goes through, no restart");
	snprintf(t, sizeof(t), "key %s\nbk/c1 4\nbk/c1/x 12\n", key);
	feeds_write(a, t);
	/* (a change: bk/c1/x is listed past the store, so a new record
	 * would wait for it) */
	ASSERT_OK(change_daemon(a, "HP-8", &seq, &said, note, sizeof(note),
				why, sizeof(why)));
	/* an invalid change to a record held here is refused for what it
	 * is, not as the wait */
	ASSERT_EQ(write_spec(a, NULL, "HP-8", "full_name=~", NULL, why,
			     sizeof(why)),
		  HAMLET_ESCHEMA);
	ASSERT_EQ(seq, 5);
	ASSERT_EQ(node_feeds_problem(a, why, sizeof(why)), 0);
	ASSERT_EQ(recorded(a, "bk/c1/x"), 12);

	TEST_START("damaged between a commit and the file's rewrite: not written over, and said");
	{
		struct log_advances adv = { 0 };
		struct log_advance one = { .seq = 6 };
		log_feed_key(a->pk, "bk/c1", one.key);
		snprintf(one.scope, sizeof(one.scope), "bk/c1");
		adv.v = &one;
		adv.n = 1;
		snprintf(t, sizeof(t), "key %s\nbk/c1 5\nbk/c1/x 12\n", key);
		t[strlen(t) - 1] = 0; /* cut short */
		feeds_write(a, t);
		ASSERT_EQ(node_feeds_advance(a, &adv, note, sizeof(note)),
			  HAMLET_ECONFIG);
		ASSERT_TRUE(strstr(note, "does not end with a newline") != NULL);
		ASSERT_TRUE(file_is(path, t));
		ASSERT_EQ(node_feeds_problem(a, why, sizeof(why)), 1);
		/* moved aside: made again from the store and from what the
		 * node knew it signed before the file stopped reading */
		ASSERT_EQ(unlink(path), 0);
		ASSERT_EQ(node_feeds_refresh(a, note, sizeof(note)), 0);
		ASSERT_EQ(node_feeds_problem(a, why, sizeof(why)), 0);
		ASSERT_EQ(recorded(a, "bk/c1"), 5);
		ASSERT_EQ(recorded(a, "bk/c1/x"), 12);
	}

	TEST_START("an older copy put back while the node is open to write: the higher seq of each feed is kept, the file written again, and said");
	snprintf(t, sizeof(t), "key %s\nbk/c1 2\nbk/c1/y 7\n", key);
	feeds_write(a, t);
	ASSERT_EQ(node_feeds_refresh(a, note, sizeof(note)), 2);
	ASSERT_TRUE(strstr(note, "it lists seq 2 for feed bk/c1, where this node signed up to seq 5") != NULL);
	ASSERT_TRUE(strstr(note, "forget-lost") != NULL);
	ASSERT_EQ(recorded(a, "bk/c1"), 5);
	ASSERT_EQ(recorded(a, "bk/c1/x"), 12);
	ASSERT_EQ(recorded(a, "bk/c1/y"), 7); /* the copy's higher seq */
	snprintf(t, sizeof(t), "key %s\nbk/c1 5\nbk/c1/x 12\nbk/c1/y 7\n", key);
	{
		size_t len;
		uint8_t *b = th_slurp(path, &len);
		ASSERT_TRUE(len > strlen(t) &&
			    memcmp(b + len - strlen(t), t, strlen(t)) == 0);
		free(b);
	}
	ASSERT_EQ(node_feeds_refresh(a, note, sizeof(note)), 0);
	ASSERT_EQ(node_feeds_problem(a, why, sizeof(why)), 0);
	/* seq 7 of bk/c1/y is taken as signed: not signed again */
	ASSERT_EQ(put_in(a, "bk/c1/y", "HP-Y", NULL, why, sizeof(why)),
		  HAMLET_EBEHIND);
	ASSERT_EQ(put(a, "HP-11", NULL, why, sizeof(why)), HAMLET_EBEHIND);
	ASSERT_TRUE(strstr(why, "makes no new record, in any scope") != NULL);
	ASSERT_OK(change_daemon(a, "HP-9", &seq, &said, note, sizeof(note),
				why, sizeof(why)));
	ASSERT_EQ(seq, 6);

	TEST_START("a copy that lists more is taken as it is, and said");
	snprintf(t, sizeof(t), "# put back\nkey %s\nbk/c1 6\nbk/c1/x 12\nbk/c1/y 7\nbk/c1/z 4\n", key);
	feeds_write(a, t);
	ASSERT_EQ(node_feeds_refresh(a, note, sizeof(note)), 2);
	ASSERT_TRUE(strstr(note, "it lists seq 4 for feed bk/c1/z, where this node knew of seq 0") != NULL);
	ASSERT_EQ(recorded(a, "bk/c1/z"), 4);
	ASSERT_TRUE(file_is(path, t)); /* nothing to write */
	ASSERT_EQ(node_feeds_refresh(a, note, sizeof(note)), 0);
}

/* hamletd's writer reads the node's certificate again before each write
 * (node_grant_refresh) while its loop reads which own feeds are behind
 * or gone, for status and /metrics. */
struct refresher {
	struct node *n;
	int done;
	pthread_mutex_t mu;
};

static void *refresh_run(void *arg)
{
	struct refresher *w = arg;
	for (int i = 0; i < 1000; i++)
		node_grant_refresh(w->n);
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int refresher_done(struct refresher *w)
{
	int d;
	pthread_mutex_lock(&w->mu);
	d = w->done;
	pthread_mutex_unlock(&w->mu);
	return d;
}

static void grant_while_read(const char *dir, const char *net)
{
	struct node *g = th_node(dir, net, "g", "bk/c1");
	struct refresher w = { .n = g };
	struct node_feed_lag lag[16];
	char why[LOG_WHY_MAX], sc[64], id[32], home[4096], p1[4200], p2[4200];
	pthread_t th;
	unsigned long scans = 0;
	size_t k;

	TEST_START("the certificate read again on one thread while another reads the feeds behind: same answers, nothing read after its free");
	for (int s = 0; s < 8; s++) {
		snprintf(sc, sizeof(sc), "bk/c1/v%d", s);
		snprintf(id, sizeof(id), "HP-G%d", s);
		ASSERT_OK(put_in(g, sc, id, NULL, why, sizeof(why)));
	}
	/* its store moved aside: every feed is behind what it signed */
	snprintf(home, sizeof(home), "%s", g->home);
	node_close(g);
	snprintf(p1, sizeof(p1), "%s/store", home);
	snprintf(p2, sizeof(p2), "%s/store.aside", home);
	ASSERT_EQ(rename(p1, p2), 0);
	ASSERT_OK(node_open(home, 0, &g, why, sizeof(why)));
	ASSERT_TRUE(g->grant != NULL); /* certified: the grant is read */
	ASSERT_OK(node_feeds_behind(g, lag, 16, &k));
	ASSERT_EQ(k, 8);
	w.n = g;
	ASSERT_EQ(pthread_mutex_init(&w.mu, NULL), 0);
	ASSERT_EQ(pthread_create(&th, NULL, refresh_run, &w), 0);
	/* bounded by the refresher's 1,000 rounds */
	while (!refresher_done(&w)) {
		ASSERT_OK(node_feeds_behind(g, lag, 16, &k));
		ASSERT_EQ(k, 8);
		ASSERT_OK(node_feeds_gone(g, lag, 16, &k));
		ASSERT_EQ(k, 0);
		scans++;
	}
	ASSERT_EQ(pthread_join(th, NULL), 0);
	pthread_mutex_destroy(&w.mu);
	ASSERT_TRUE(scans > 0);
	ASSERT_TRUE(g->grant != NULL);
	node_close(g);
}

int main(void)
{
	char *dir = th_tmpdir();
	char *net = th_network(dir, "net");
	struct node *a = th_node(dir, net, "a", "bk/c1");
	/* a peer that holds what A writes, as A's commune or province does */
	struct node *p = th_node(dir, net, "p", "bk/c1");
	char why[LOG_WHY_MAX], path[4200];
	uint64_t seq = 0;
	size_t k;

	parser_cases(a);

	TEST_START("a new node's own-feeds is made when it opens, holding no feed yet");
	snprintf(path, sizeof(path), "%s/" NODE_FEEDS_FILE, a->home);
	ASSERT_EQ(access(path, F_OK), 0);
	ASSERT_EQ(recorded(a, "bk/c1"), 0);

	TEST_START("each write raises what own-feeds records to the feed's head");
	ASSERT_OK(put(a, "HP-1", &seq, why, sizeof(why)));
	ASSERT_OK(put(a, "HP-2", &seq, why, sizeof(why)));
	ASSERT_OK(put(a, "HP-3", &seq, why, sizeof(why)));
	ASSERT_EQ(seq, 3);
	ASSERT_EQ(recorded(a, "bk/c1"), 3);
	th_sync(a, p, dir);
	ASSERT_EQ(th_count_entries(p), 3);

	TEST_START("what own-feeds records never goes back: a lower head does not lower it");
	{
		struct log_advances adv = { 0 };
		struct log_advance one = { .seq = 1 };
		char fw[512];
		log_feed_key(a->pk, "bk/c1", one.key);
		snprintf(one.scope, sizeof(one.scope), "bk/c1");
		adv.v = &one;
		adv.n = 1;
		ASSERT_OK(node_feeds_advance(a, &adv, fw, sizeof(fw)));
		ASSERT_EQ(recorded(a, "bk/c1"), 3);
	}

	TEST_START("with its store moved aside, a write is refused (EBEHIND), says why and what to do, and writes nothing");
	a = store_lost(a, "lost1");
	ASSERT_EQ(head(a, "bk/c1"), 0);
	ASSERT_EQ(recorded(a, "bk/c1"), 3);
	ASSERT_EQ(put(a, "HP-4", NULL, why, sizeof(why)), HAMLET_EBEHIND);
	ASSERT_TRUE(strstr(why, "signed up to seq 3 in its feed bk/c1") != NULL);
	ASSERT_TRUE(strstr(why, "the store holds up to seq 0") != NULL);
	ASSERT_TRUE(strstr(why, "would fork its own feed") != NULL);
	ASSERT_TRUE(strstr(why, "hamlet own-feeds forget-lost") != NULL);
	ASSERT_EQ(head(a, "bk/c1"), 0);
	ASSERT_EQ(th_count_entries(a), 0);
	{
		struct node_feed_lag lag[4];
		ASSERT_OK(node_feeds_behind(a, lag, 4, &k));
		ASSERT_EQ(k, 1);
		ASSERT_STREQ(lag[0].scope, "bk/c1");
		ASSERT_EQ(lag[0].signed_seq, 3);
		ASSERT_EQ(lag[0].stored, 0);
	}

	TEST_START("a new record in a feed the node never wrote in waits too: its id may be one the lost entries hold");
	ASSERT_EQ(put_in(a, "bk/c1/x", "HP-SUB", NULL, why, sizeof(why)),
		  HAMLET_EBEHIND);
	ASSERT_TRUE(strstr(why, "makes no new record, in any scope") != NULL);
	ASSERT_TRUE(strstr(why, "signed up to seq 3 in its feed bk/c1") != NULL);
	ASSERT_EQ(recorded(a, "bk/c1/x"), 0);

	TEST_START("once the peer sends its own entries back, the writes go on, with the next seq");
	th_sync(p, a, dir);
	ASSERT_EQ(head(a, "bk/c1"), 3);
	ASSERT_OK(node_feeds_behind(a, NULL, 0, &k));
	ASSERT_EQ(k, 0);
	ASSERT_OK(put_in(a, "bk/c1/x", "HP-SUB", &seq, why, sizeof(why)));
	ASSERT_EQ(seq, 1);
	ASSERT_EQ(recorded(a, "bk/c1/x"), 1);
	th_sync(a, p, dir);
	ASSERT_OK(put(a, "HP-4", &seq, why, sizeof(why)));
	ASSERT_EQ(seq, 4);
	ASSERT_EQ(recorded(a, "bk/c1"), 4);

	TEST_START("a store restored from an older copy is held to what the node signed since");
	a = store_lost(a, "lost2");
	th_sync(p, a, dir); /* P holds 3 of A's 4 */
	ASSERT_EQ(head(a, "bk/c1"), 3);
	ASSERT_EQ(head(a, "bk/c1/x"), 1);
	ASSERT_EQ(put(a, "HP-5", NULL, why, sizeof(why)), HAMLET_EBEHIND);
	ASSERT_TRUE(strstr(why, "signed up to seq 4 in its feed bk/c1") != NULL);
	ASSERT_TRUE(strstr(why, "the store holds up to seq 3") != NULL);
	ASSERT_EQ(head(a, "bk/c1"), 3);

	TEST_START("forget-lost gives up what no node holds: it says what, and the next write takes the first seq given up");
	{
		struct node_feed_lag lag[4];
		ASSERT_OK(node_feeds_forget(a, "bk/other", lag, 4, &k, why,
					    sizeof(why)));
		ASSERT_EQ(k, 0); /* not a feed of it that waits */
		ASSERT_EQ(recorded(a, "bk/c1"), 4);
		ASSERT_OK(node_feeds_forget(a, NULL, lag, 4, &k, why,
					    sizeof(why)));
		ASSERT_EQ(k, 1);
		ASSERT_STREQ(lag[0].scope, "bk/c1");
		ASSERT_EQ(lag[0].signed_seq, 4);
		ASSERT_EQ(lag[0].stored, 3);
		ASSERT_EQ(recorded(a, "bk/c1"), 3);
	}
	ASSERT_OK(put(a, "HP-5", &seq, why, sizeof(why)));
	ASSERT_EQ(seq, 4);
	a = reopen(a, 0);
	ASSERT_EQ(recorded(a, "bk/c1"), 4);

	TEST_START("forget-lost with the store empty gives up the whole feed: the next write is seq 1");
	a = store_lost(a, "lost3");
	{
		struct node_feed_lag lag[4];
		ASSERT_OK(node_feeds_forget(a, "bk/c1", lag, 4, &k, why,
					    sizeof(why)));
		ASSERT_EQ(k, 1);
		ASSERT_EQ(lag[0].stored, 0);
		ASSERT_EQ(recorded(a, "bk/c1"), 0);
		/* its other feed waits too, and a new record waits for
		 * every feed of the node's: given up as well */
		ASSERT_EQ(put(a, "HP-6", NULL, why, sizeof(why)),
			  HAMLET_EBEHIND);
		ASSERT_TRUE(strstr(why, "its feed bk/c1/x") != NULL);
		ASSERT_OK(node_feeds_forget(a, "bk/c1/x", lag, 4, &k, why,
					    sizeof(why)));
		ASSERT_EQ(k, 1);
	}
	ASSERT_OK(put(a, "HP-6", &seq, why, sizeof(why)));
	ASSERT_EQ(seq, 1);

	TEST_START("a missing own-feeds (a node made by an older hamlet) is made again from the store when the node opens to write");
	ASSERT_EQ(unlink(path), 0);
	a = reopen(a, 1);
	ASSERT_EQ(access(path, F_OK), -1); /* read-only: nothing written */
	ASSERT_EQ(node_feeds_problem(a, why, sizeof(why)), 0);
	a = reopen(a, 0);
	ASSERT_EQ(access(path, F_OK), 0);
	ASSERT_EQ(recorded(a, "bk/c1"), 1);
	/* what the store lost with the file is not known any more */
	ASSERT_EQ(recorded(a, "bk/c1/x"), 0);

	TEST_START("a file that does not read: the node opens, says which line, and refuses every write until it is mended");
	{
		char key[65], t[512];
		hex_encode(a->pk, 32, key);
		snprintf(t, sizeof(t), "key %s\nbk/c1 1\nbk/c1/x one\n", key);
		feeds_write(a, t);
		a = reopen(a, 0);
		ASSERT_EQ(node_feeds_problem(a, why, sizeof(why)), 1);
		ASSERT_TRUE(strstr(why, NODE_FEEDS_FILE " does not read (line 3: the seq is not a number") != NULL);
		ASSERT_TRUE(strstr(why, "writes nothing") != NULL);
		ASSERT_EQ(put(a, "HP-7", NULL, why, sizeof(why)),
			  HAMLET_ECONFIG);
		ASSERT_TRUE(strstr(why, "line 3") != NULL);
		ASSERT_EQ(head(a, "bk/c1"), 1);
		/* nothing is written over the damaged file */
		{
			size_t len;
			uint8_t *b = th_slurp(path, &len);
			ASSERT_EQ(len, strlen(t));
			free(b);
		}
		/* mended (a feed recorded ahead of the store would hold
		 * new records back: one line less) */
		snprintf(t, sizeof(t), "key %s\nbk/c1 1\n", key);
		feeds_write(a, t);
		ASSERT_EQ(node_feeds_refresh(a, why, sizeof(why)), 0);
		ASSERT_EQ(node_feeds_problem(a, why, sizeof(why)), 0);
		ASSERT_OK(put(a, "HP-7", &seq, why, sizeof(why)));
		ASSERT_EQ(seq, 2);
	}

	TEST_START("another node's own-feeds is refused, naming both keys");
	{
		char t[512];
		feeds_write(a, "key 0000000000000000000000000000000000000000000000000000000000000000\n");
		a = reopen(a, 0);
		ASSERT_EQ(node_feeds_problem(a, why, sizeof(why)), 1);
		ASSERT_TRUE(strstr(why, "another node's file") != NULL);
		ASSERT_EQ(unlink(path), 0);
		/* moved aside: made again from the store */
		ASSERT_EQ(node_feeds_refresh(a, why, sizeof(why)), 0);
		ASSERT_EQ(node_feeds_problem(a, why, sizeof(why)), 0);
		ASSERT_EQ(recorded(a, "bk/c1"), 2);
		(void)t;
	}

	TEST_START("own-feeds behind the store (its last write failed): read-only, the feed is named with both seqs; opened to write, the file is written from the store and the warning goes");
	{
		char key[65], t[512];
		struct node_feed_lag v[8];
		size_t nu = 9, i;
		uint64_t h;
		h = head(a, "bk/c1");
		ASSERT_TRUE(h >= 2);
		/* open to write, the file as last written records it all */
		ASSERT_OK(node_feeds_unrecorded(a, v, 8, &nu));
		ASSERT_EQ(nu, 0);
		ASSERT_EQ(node_feeds_unsaved(a), 0);
		ASSERT_EQ(node_feeds_retry(a, why, sizeof(why)), 0);
		hex_encode(a->pk, 32, key);
		snprintf(t, sizeof(t), "key %s\nbk/c1 1\n", key);
		a = reopen(a, 0);
		feeds_write(a, t); /* as a write that failed leaves it */
		a = reopen(a, 1);
		ASSERT_OK(node_feeds_unrecorded(a, v, 8, &nu));
		ASSERT_TRUE(nu >= 1);
		for (i = 0; i < nu && strcmp(v[i].scope, "bk/c1") != 0; i++)
			;
		ASSERT_TRUE(i < nu);
		ASSERT_EQ(v[i].recorded, 1);
		ASSERT_EQ(v[i].signed_seq, h);
		ASSERT_EQ(v[i].stored, h);
		/* read-only: nothing written, no retry */
		ASSERT_EQ(node_feeds_unsaved(a), 0);
		a = reopen(a, 0);
		ASSERT_EQ(recorded(a, "bk/c1"), h);
		a = reopen(a, 1);
		ASSERT_OK(node_feeds_unrecorded(a, v, 8, &nu));
		ASSERT_EQ(nu, 0);
		a = reopen(a, 0);
	}

	changed_while_open(a, path);
	grant_while_read(dir, net);

	node_close(a);
	node_close(p);
	th_rmrf(dir);
	free(dir);
	free(net);
	TEST_DONE();
}
