/* The heard table (through whom each feed's newest entry came, peers'
 * last contact), its row format, its bound, and the lag report on it. */
#include "heard.h"
#include "hlc.h"
#include "lag.h"
#include "helpers.h"

/* Entries from..to of node src's own feed, as a peer would send them;
 * the pointers borrow from *t, which the caller aborts after use. */
static size_t own_entries(struct node *src, uint64_t from, uint64_t to,
			  struct store_txn **t, struct log_in *in)
{
	uint8_t feed[32];
	size_t n = 0;
	log_feed_key(src->pk, src->scope, feed);
	ASSERT_OK(store_txn_begin(src->st, 1, t));
	for (uint64_t s = from; s <= to; s++, n++) {
		uint8_t id[32];
		memset(&in[n], 0, sizeof(in[n]));
		static uint8_t eb[8][ENTRY_MAX_ENVELOPE];
		ASSERT_OK(log_entry_get(*t, feed, s, eb[n], &in[n].env,
					&in[n].env_len, &in[n].sig));
		entry_id(in[n].env, in[n].env_len, id);
		static struct bodyz_buf zb[8];
		if (log_body_of(*t, feed, s, &zb[n], &in[n].body,
				 &in[n].body_len) < 0)
			in[n].body = NULL;
	}
	return n;
}

/* Ingest src's entries from..to into dst, noted as via (NULL: not). */
static void deliver(struct node *src, uint64_t from, uint64_t to,
		    struct node *dst, const struct heard_via *via,
		    enum log_status want)
{
	struct log_in in[8] = { 0 };
	struct log_out out[8];
	struct store_txn *t;
	size_t n = own_entries(src, from, to, &t, in);
	ASSERT_OK(log_ingest_via(dst->st, dst->net.id, in, n, out, NULL, NULL,
				 UINT64_MAX, via));
	for (size_t i = 0; i < n; i++)
		ASSERT_EQ(out[i].status, want);
	store_txn_abort(t);
}

static int feed_row(struct node *n, struct node *author,
		    struct heard_feed *ret)
{
	struct store_txn *t;
	uint8_t feed[32];
	log_feed_key(author->pk, author->scope, feed);
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	int r = heard_feed_get(t, feed, ret);
	store_txn_abort(t);
	return r;
}

static uint64_t contact(struct node *n, const uint8_t peer[32])
{
	struct store_txn *t;
	uint64_t ms = 0;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	int r = heard_contact_get(t, peer, &ms);
	store_txn_abort(t);
	return r == 0 ? ms : 0;
}

static void hex_is(const uint8_t *p, size_t n, const char *want)
{
	char got[600];
	for (size_t i = 0; i < n; i++)
		snprintf(got + 2 * i, 3, "%02x", p[i]);
	ASSERT_STREQ(got, want);
}

int main(void)
{
	char *dir = th_tmpdir();
	char *net = th_network(dir, "bk");
	struct node *p = th_node(dir, net, "p", "bk");
	struct node *c = th_node(dir, net, "c1", "bk/c1");
	struct node *v = th_node(dir, net, "v1", "bk/c1/v1");
	struct node *w = th_node(dir, net, "v2", "bk/c1/v2");
	struct heard_via via;
	struct heard_feed hf;
	uint8_t row[HEARD_ROW_MAX];
	size_t rl;

	TEST_START("rows have fixed bytes: when, kind, then the peer key or the file");
	{
		uint8_t k[32];
		memset(k, 0x11, 32);
		heard_via_peer(&via, k);
		rl = heard_row_encode(0x0102030405060708ull, &via, row);
		hex_is(row, rl,
		       "010203040506070801"
		       "1111111111111111111111111111111111111111111111111111111111111111");
		ASSERT_OK(heard_row_decode(row, rl, &hf));
		ASSERT_EQ(hf.via.kind, HEARD_PEER);
		ASSERT_MEMEQ(hf.via.peer, k, 32);
		ASSERT_EQ(hf.when_ms, 0x0102030405060708ull);
		heard_via_bundle(&via, "a.b");
		rl = heard_row_encode(1, &via, row);
		hex_is(row, rl, "000000000000000102612e62");
		ASSERT_OK(heard_row_decode(row, rl, &hf));
		ASSERT_STREQ(hf.via.file, "a.b");
		memset(&via, 0, sizeof(via));
		rl = heard_row_encode(2, &via, row);
		hex_is(row, rl, "000000000000000200");
	}

	TEST_START("a damaged row is refused, not misread");
	{
		static const char *const bad[] = {
			"0000000000000001",	      /* no kind */
			"00000000000000010011",	      /* local with bytes */
			"000000000000000101aabb",     /* a peer key cut */
			"00000000000000010261006200", /* a file with NUL */
			"000000000000000107",	      /* unknown kind */
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint8_t b[64];
			size_t n = strlen(bad[i]) / 2;
			ASSERT_OK(test_unhex(bad[i], b, n));
			ASSERT_EQ(heard_row_decode(b, n, &hf), HAMLET_ECORRUPT);
		}
	}

	TEST_START("entries from a peer note the peer and its contact in the same commit");
	th_put_profiles(v, 2, "Lo");
	uint64_t t0 = hlc_wall_ms();
	heard_via_peer(&via, c->pk);
	deliver(v, 1, 2, p, &via, LOG_APPLIED);
	uint64_t t1 = hlc_wall_ms();
	ASSERT_OK(feed_row(p, v, &hf));
	ASSERT_EQ(hf.via.kind, HEARD_PEER);
	ASSERT_MEMEQ(hf.via.peer, c->pk, 32);
	ASSERT_TRUE(hf.when_ms >= t0 && hf.when_ms <= t1);
	ASSERT_EQ(contact(p, c->pk), hf.when_ms);

	TEST_START("a delivery that moves nothing (duplicates) leaves the row as it was");
	{
		struct heard_feed before = hf;
		uint8_t other[32];
		memset(other, 0x33, 32);
		heard_via_peer(&via, other);
		deliver(v, 1, 2, p, &via, LOG_DUPLICATE);
		ASSERT_OK(feed_row(p, v, &hf));
		ASSERT_MEMEQ(hf.via.peer, c->pk, 32);
		ASSERT_EQ(hf.when_ms, before.when_ms);
		ASSERT_TRUE(contact(p, other) >= before.when_ms); /* a contact */
	}

	TEST_START("a bundle that advances the feed is noted by its file; no via notes nothing");
	th_put_profiles(v, 4, "Ma"); /* HP-2, HP-3 new: seqs 3, 4 */
	heard_via_bundle(&via, "/media/usb/v1.bundle");
	deliver(v, 3, 3, p, &via, LOG_APPLIED);
	ASSERT_OK(feed_row(p, v, &hf));
	ASSERT_EQ(hf.via.kind, HEARD_BUNDLE);
	ASSERT_STREQ(hf.via.file, "/media/usb/v1.bundle");
	deliver(v, 4, 4, p, NULL, LOG_APPLIED);
	ASSERT_OK(feed_row(p, v, &hf));
	ASSERT_STREQ(hf.via.file, "/media/usb/v1.bundle");
	ASSERT_EQ(feed_row(p, w, &hf), HAMLET_ENOTFOUND);

	TEST_START("bundle_import notes the bundle's path");
	{
		struct node *q = th_node(dir, net, "q", "bk");
		struct bundle_report rep;
		struct bundle_create_opts o = { NULL, NULL, NULL, 1, NULL, NULL, NULL, NULL };
		char bun[4096], why[256];
		snprintf(bun, sizeof(bun), "%s/v1.bundle", dir);
		ASSERT_OK(bundle_create(v, bun, &o, NULL, why, sizeof(why)));
		ASSERT_OK(bundle_import(q, bun, &rep, why, sizeof(why)));
		bundle_report_close(&rep);
		ASSERT_OK(feed_row(q, v, &hf));
		ASSERT_EQ(hf.via.kind, HEARD_BUNDLE);
		ASSERT_STREQ(hf.via.file, bun);
		th_node_close(q);
	}

	TEST_START("a peer's contact keeps the latest time");
	{
		struct heard_contact hc = { .when_ms = 100 };
		memset(hc.peer, 0x22, 32);
		ASSERT_OK(heard_contacts_save(p->st, &hc, 1));
		hc.when_ms = 50;
		ASSERT_OK(heard_contacts_save(p->st, &hc, 1));
		ASSERT_EQ(contact(p, hc.peer), 100);
		hc.when_ms = 200;
		ASSERT_OK(heard_contacts_save(p->st, &hc, 1));
		ASSERT_EQ(contact(p, hc.peer), 200);
	}

	TEST_START("a peer's bytes sent today are kept with its day, replaced by a later day's");
	{
		struct heard_contact hc = { .day = 20261201, .sent = 41000 };
		struct store_txn *t;
		uint32_t day;
		uint64_t sent, ms;
		memset(hc.peer, 0x44, 32);
		ASSERT_OK(heard_contacts_save(p->st, &hc, 1));
		ASSERT_OK(store_txn_begin(p->st, 1, &t));
		ASSERT_OK(heard_budget_get(t, hc.peer, &day, &sent));
		ASSERT_EQ(day, 20261201);
		ASSERT_EQ(sent, 41000);
		/* when_ms 0: no contact is made up for it */
		ASSERT_EQ(heard_contact_get(t, hc.peer, &ms), HAMLET_ENOTFOUND);
		store_txn_abort(t);
		hc.day = 20261202;
		hc.sent = 5;
		ASSERT_OK(heard_contacts_save(p->st, &hc, 1));
		ASSERT_OK(store_txn_begin(p->st, 1, &t));
		ASSERT_OK(heard_budget_get(t, hc.peer, &day, &sent));
		ASSERT_EQ(day, 20261202);
		ASSERT_EQ(sent, 5);
		store_txn_abort(t);
	}

	TEST_START("what a peer acknowledged is kept with the version of its basis, and only when asked");
	{
		struct heard_contact hc = { .acked_set = 1, .acked_version = 0,
					    .acked = 352 };
		struct store_txn *t;
		uint32_t day;
		uint64_t ver, a, sent;
		memset(hc.peer, 0x45, 32);
		ASSERT_OK(heard_contacts_save(p->st, &hc, 1));
		ASSERT_OK(store_txn_begin(p->st, 1, &t));
		ASSERT_OK(heard_acked_get(t, hc.peer, &ver, &a));
		ASSERT_EQ(ver, 0);
		ASSERT_EQ(a, 352);
		/* day 0: no budget is made up for it */
		ASSERT_EQ(heard_budget_get(t, hc.peer, &day, &sent),
			  HAMLET_ENOTFOUND);
		store_txn_abort(t);
		hc.acked_version = 17; /* the two agreed since */
		hc.acked = 3;
		ASSERT_OK(heard_contacts_save(p->st, &hc, 1));
		hc.acked_set = 0; /* not asked: left as it is */
		hc.acked = 9;
		hc.when_ms = 1000;
		ASSERT_OK(heard_contacts_save(p->st, &hc, 1));
		ASSERT_OK(store_txn_begin(p->st, 1, &t));
		ASSERT_OK(heard_acked_get(t, hc.peer, &ver, &a));
		ASSERT_EQ(ver, 17);
		ASSERT_EQ(a, 3);
		store_txn_abort(t);
	}

	TEST_START("at most HEARD_MAX_PEERS contacts are kept; those kept still move");
	{
		static struct heard_contact hc[HEARD_MAX_PEERS];
		for (size_t i = 0; i < HEARD_MAX_PEERS; i++) {
			memset(hc[i].peer, 0x80, 32);
			hc[i].peer[0] = (uint8_t)(i >> 8);
			hc[i].peer[1] = (uint8_t)i;
			hc[i].when_ms = 7;
			hc[i].day = 20261201;
			hc[i].sent = i;
		}
		ASSERT_OK(heard_contacts_save(p->st, hc, HEARD_MAX_PEERS));
		struct heard_contact extra = { .when_ms = 9, .day = 20261201,
					       .sent = 1 };
		memset(extra.peer, 0xee, 32);
		ASSERT_OK(heard_contacts_save(p->st, &extra, 1));
		ASSERT_EQ(contact(p, extra.peer), 0);
		hc[0].when_ms = 9;
		ASSERT_OK(heard_contacts_save(p->st, hc, 1));
		ASSERT_EQ(contact(p, hc[0].peer), 9);
		struct store_txn *t;
		uint64_t rows, sent;
		uint32_t day;
		ASSERT_OK(store_txn_begin(p->st, 1, &t));
		ASSERT_OK(store_count(t, ST_HEARD, &rows));
		/* the extra peer's budget was not kept either */
		ASSERT_EQ(heard_budget_get(t, extra.peer, &day, &sent),
			  HAMLET_ENOTFOUND);
		store_txn_abort(t);
		/* HEARD_MAX_PEERS contacts (0x22's among them), as many
		 * budgets (0x44's among them), one feed row (v1's) and
		 * one of what a peer acknowledged (0x45's) */
		ASSERT_EQ(rows, 2 * HEARD_MAX_PEERS + 2);

		TEST_START("full, a new peer's budget takes the place of one counted on an earlier day");
		extra.day = 20261203;
		extra.when_ms = 0;
		ASSERT_OK(heard_contacts_save(p->st, &extra, 1));
		ASSERT_OK(store_txn_begin(p->st, 1, &t));
		ASSERT_OK(heard_budget_get(t, extra.peer, &day, &sent));
		ASSERT_EQ(day, 20261203);
		ASSERT_OK(store_count(t, ST_HEARD, &rows));
		store_txn_abort(t);
		ASSERT_EQ(rows, 2 * HEARD_MAX_PEERS + 2);
	}

	TEST_START("the lag report names who is behind, since when and through whom");
	{
		struct store_txn *t;
		struct lag_report r;
		const struct lag_node *x;
		uint64_t now = hlc_wall_ms();
		ASSERT_OK(store_txn_begin(p->st, 1, &t));
		/* within the hour: only v2, certified and never heard */
		ASSERT_OK(lag_report_build(t, p->pk, now, 3600000, NULL, 0, &r));
		ASSERT_TRUE(lag_report_find(&r, p->pk) == NULL);
		ASSERT_TRUE((x = lag_report_find(&r, w->pk)) != NULL);
		ASSERT_TRUE(x->behind && x->heard_ms == 0);
		ASSERT_STREQ(x->name, "v2");
		ASSERT_EQ(x->cert, LAG_CERT_VALID);
		/* never heard first (v2, and q, certified above), then the
		 * longest silent: the peers noted at 7 ms */
		ASSERT_EQ(r.v[0].heard_ms, 0);
		ASSERT_EQ(r.v[1].heard_ms, 0);
		ASSERT_EQ(r.v[2].heard_ms, 7);
		ASSERT_TRUE((x = lag_report_find(&r, v->pk)) != NULL);
		ASSERT_EQ(x->behind, 0);
		ASSERT_TRUE((x = lag_report_find(&r, c->pk)) != NULL);
		ASSERT_EQ(x->behind, 0); /* contact a moment ago */
		lag_report_close(&r);

		/* two hours later: v1 and c1 are behind too */
		ASSERT_OK(lag_report_build(t, p->pk, now + 7200000, 3600000,
					   NULL, 0, &r));
		ASSERT_TRUE((x = lag_report_find(&r, v->pk)) != NULL);
		ASSERT_TRUE(x->behind);
		ASSERT_STREQ(x->name, "v1");
		ASSERT_STREQ(x->scope, "bk/c1/v1");
		ASSERT_EQ(x->nfeeds, 1);
		ASSERT_EQ(x->feeds[0].seq, 4);
		ASSERT_TRUE(x->has_via);
		ASSERT_EQ(x->via.via.kind, HEARD_BUNDLE);
		ASSERT_TRUE(x->newest_ms >= t0 && x->newest_ms <= now);
		ASSERT_TRUE(lag_report_find(&r, c->pk)->behind);
		/* v1, c1, v2, q, the two other peers of the contact tests
		 * and the 4093 kept of the bound's */
		ASSERT_EQ(r.behind, 4 + 2 + HEARD_MAX_PEERS - 3);
		lag_report_close(&r);

		/* a live contact (the daemon's peer table) brings c1 back */
		struct lag_contact live = { .ms = now + 7100000 };
		memcpy(live.key, c->pk, 32);
		ASSERT_OK(lag_report_build(t, p->pk, now + 7200000, 3600000,
					   &live, 1, &r));
		ASSERT_EQ(lag_report_find(&r, c->pk)->behind, 0);
		ASSERT_EQ(lag_report_find(&r, c->pk)->contact_ms, live.ms);
		lag_report_close(&r);
		store_txn_abort(t);
	}

	TEST_START("a node whose certificate writes every scope is named with all scopes, not a scope it wrote in");
	{
		struct node *z = th_node_bare(dir, net, "z", "bk");
		struct store_txn *t;
		struct lag_report r;
		const struct lag_node *x;
		th_certify(z, net, "", "", 0);
		/* z writes in bk, and p holds it: a scope it wrote in */
		th_put_people(z, 900, 1);
		th_sync(p, z, dir);
		ASSERT_OK(store_txn_begin(p->st, 1, &t));
		ASSERT_OK(lag_report_build(t, p->pk, hlc_wall_ms(), 3600000,
					   NULL, 0, &r));
		ASSERT_TRUE((x = lag_report_find(&r, z->pk)) != NULL);
		ASSERT_STREQ(x->scope, "");
		lag_report_close(&r);
		store_txn_abort(t);
		th_node_close(z);
	}

	th_node_close(w);
	th_node_close(v);
	th_node_close(c);
	th_node_close(p);
	th_rmrf(dir);
	free(net);
	free(dir);
	return testlib_failures ? 1 : 0;
}
