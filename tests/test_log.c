/* The ingest path: chains, holds, forks, audit, a full store. */
#include "audit.h"
#include "bundle.h"
#include "changes.h"
#include "helpers.h"
#include "heads.h"
#include "hlc.h"
#include "refused.h"
#include "scopemap.h"

/* The node's clock as stored (meta "hlc"). */
static uint64_t node_clock(struct node *n)
{
	struct store_txn *t;
	const void *v;
	size_t vl;
	uint64_t c;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(store_get(t, ST_META, "hlc", 3, &v, &vl));
	ASSERT_EQ(vl, 8);
	c = store_get_be64(v);
	store_txn_abort(t);
	return c;
}

/* The problems of ar whose text says text. */
static size_t problems_saying(const struct audit_report *ar, const char *text)
{
	size_t n = 0;
	for (size_t i = 0; i < ar->problems.n; i++)
		if (strstr(ar->problems.v[i].text, text))
			n++;
	return n;
}

/* The scope of n's own entry for record id among p's, in *e. */
static const char *own_scope(const struct th_pool *p, const struct node *n,
			     const char *id, struct entry *e)
{
	for (size_t i = 0; i < p->n; i++) {
		ASSERT_OK(entry_decode(p->in[i].env, p->in[i].env_len, e, NULL));
		if (memcmp(e->author, n->pk, 32) == 0 &&
		    strcmp(e->record_id, id) == 0)
			return e->scope;
	}
	return "(none)";
}

/* op on record id of health_profile by n, in scope (NULL: as the log
 * chooses); spec as th_body's for a put. */
static int scoped_write(struct node *n, int kind, const char *id,
			const char *spec, const char *scope, int resolve,
			char *why, size_t wl)
{
	return th_write_in(n, kind, "health_profile", id, spec, scope,
			   resolve, why, wl);
}

/* Every entry of from, ingested by to. */
static void hand_over(struct node *from, struct node *to)
{
	struct th_pool p = { 0 };
	struct log_out o[64];
	th_pool_fill(from, &p);
	ASSERT_TRUE(p.n <= 64);
	ASSERT_OK(log_ingest(to->st, to->net.id, p.in, p.n, o, NULL, NULL));
	th_pool_free(&p);
}

/* --- a revocation's cut-off, whichever came first ------------------------ */

/* The feeds of n: key, seq and head of each, in key order, into v. */
struct feeds_seen {
	struct log_feed v[16];
	size_t n;
};

static int feed_seen(void *ctx, const struct log_feed *f)
{
	struct feeds_seen *s = ctx;
	ASSERT_TRUE(s->n < 16);
	s->v[s->n++] = *f;
	return 0;
}

static void feeds_of(struct node *n, struct feeds_seen *s,
		     struct heads_totals *tot)
{
	struct store_txn *t;
	s->n = 0;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(log_feeds_each(t, feed_seen, s));
	ASSERT_OK(heads_totals_get(t, tot));
	store_txn_abort(t);
}

static int refused_revoked(void *ctx, const struct refused_row *row)
{
	uint64_t *n = ctx;
	*n += row->err == HAMLET_EREVOKED;
	return 0;
}

static void test_revoke_cut(const char *dir, const char *net)
{
	struct node *thief = th_node(dir, net, "rv-thief", "bk/rv");
	struct node *other = th_node(dir, net, "rv-other", "bk/rv");
	struct node *first = th_node(dir, net, "rev-first", "bk");
	struct node *late = th_node(dir, net, "rev-late", "bk");
	struct log_out out[16];
	struct log_stats st = { 0 };
	struct th_pool po = { 0 };
	struct trustset_item it = { TRUST_REVOKE, NULL, 0 };
	struct trustset_out to;
	struct feeds_seen f1, f2;
	struct heads_totals t1, t2;
	struct log_feed tf;
	struct store_txn *t;
	uint8_t key[32], *rv;
	uint64_t nrev;
	size_t rl;
	char v1[64], v2[64];

	TEST_START("entries a revocation cuts off go from a node that held them first, as from one that got the revocation first");
	ASSERT_OK(th_put(thief, "health_profile", "RV-1",
			 "person_id=001122334401;full_name=Kept;birth_date=1990-01-01"));
	log_feed_key(thief->pk, "bk/rv", key);
	ASSERT_OK(store_txn_begin(thief->st, 1, &t));
	ASSERT_OK(log_feed_get(t, key, &tf));
	store_txn_abort(t);
	ASSERT_EQ(tf.seq, 1);
	rv = th_revoke_by_root(net, thief, "bk/rv", 1, tf.head, &rl);
	/* after the cut-off: a new record, a change of the kept one, and a
	 * feed the revocation does not list */
	ASSERT_OK(th_put(thief, "health_profile", "RV-2",
			 "person_id=001122334402;full_name=Stolen;birth_date=1990-01-02"));
	ASSERT_OK(th_put(thief, "health_profile", "RV-1",
			 "person_id=001122334401;full_name=After Revoke;birth_date=1990-01-01"));
	{
		struct log_author au;
		struct log_op op = { ENTRY_PUT, "health_profile", "RV-3",
				     "bk/rv/x", NULL, 0, 0, NULL, 0 };
		size_t failed, bl;
		char why[256];
		uint8_t *body = th_body("person_id=001122334403;full_name=Sub;birth_date=1990-01-03", &bl);
		op.body = body;
		op.body_len = bl;
		node_author(thief, &au);
		ASSERT_OK(log_write(thief->st, &au, &op, 1, NULL, &failed, why,
				    sizeof(why), NULL));
		free(body);
	}
	/* another author builds on the thief's last change of RV-1: its
	 * deps name an entry that is cut off */
	th_pool_fill(thief, &po);
	ASSERT_OK(log_ingest(other->st, other->net.id, po.in, po.n, out, NULL,
			     NULL));
	th_pool_free(&po);
	ASSERT_OK(th_put(other, "health_profile", "RV-1",
			 "person_id=001122334401;full_name=Other's;birth_date=1990-01-01"));
	memset(&po, 0, sizeof(po));
	th_pool_fill(other, &po);
	ASSERT_EQ(po.n, 5);

	it.data = rv;
	it.len = rl;
	/* first: the revocation, then everything */
	ASSERT_OK(log_trust_ingest(first->st, first->net.id, &it, 1, &to, &st,
				   NULL));
	ASSERT_EQ(to.status, TRUSTSET_ADDED);
	ASSERT_EQ(st.taken_out, 0);
	ASSERT_OK(log_ingest(first->st, first->net.id, po.in, po.n, out, NULL,
			     NULL));
	/* late: everything, then the revocation */
	ASSERT_OK(log_ingest(late->st, late->net.id, po.in, po.n, out, NULL,
			     NULL));
	ASSERT_STREQ(th_field(late, "health_profile", "RV-2", "full_name", v1,
			      sizeof(v1)), "Stolen");
	ASSERT_OK(log_trust_ingest(late->st, late->net.id, &it, 1, &to, &st,
				   NULL));
	ASSERT_EQ(to.status, TRUSTSET_ADDED);
	ASSERT_EQ(st.taken_out, 3);
	ASSERT_EQ(st.rejected, 0);

	TH_ASSERT_SAME_STATE(first, late);
	{
		/* the feed cut short keeps the mark of the signatures it
		 * keeps: the audit checks its last one, and walks none */
		struct audit_report ar;
		ASSERT_OK(audit_store(late->st, late->net.id, &ar));
		ASSERT_TRUE(!audit_damaged(&ar));
		ASSERT_EQ(ar.signatures_checked, ar.feeds);
		audit_report_close(&ar);
	}
	ASSERT_EQ(th_records(late), 1);
	ASSERT_STREQ(th_field(late, "health_profile", "RV-2", "full_name", v1,
			      sizeof(v1)), "");
	ASSERT_STREQ(th_field(late, "health_profile", "RV-3", "full_name", v1,
			      sizeof(v1)), "");
	ASSERT_STREQ(th_field(first, "health_profile", "RV-1", "full_name", v1,
			      sizeof(v1)),
		     th_field(late, "health_profile", "RV-1", "full_name", v2,
			      sizeof(v2)));
	ASSERT_EQ(th_count_entries(late), th_count_entries(first));

	TEST_START("after the cut-off both nodes show the same heads and totals, and keep the entries taken out as refused");
	feeds_of(first, &f1, &t1);
	feeds_of(late, &f2, &t2);
	ASSERT_EQ(f1.n, f2.n);
	ASSERT_EQ(f1.n, 2); /* the thief's bk/rv, cut back to 1, and other's */
	for (size_t i = 0; i < f1.n; i++) {
		ASSERT_MEMEQ(f1.v[i].key, f2.v[i].key, 32);
		ASSERT_EQ(f1.v[i].seq, f2.v[i].seq);
		ASSERT_MEMEQ(f1.v[i].head, f2.v[i].head, 32);
		ASSERT_EQ(f1.v[i].hlc, f2.v[i].hlc);
	}
	ASSERT_EQ(t1.feeds, t2.feeds);
	ASSERT_EQ(t1.entries, t2.entries);
	ASSERT_EQ(t1.newest_hlc, t2.newest_hlc);
	ASSERT_OK(store_txn_begin(late->st, 1, &t));
	ASSERT_OK(log_feed_get(t, key, &tf));
	ASSERT_EQ(tf.seq, 1);
	nrev = 0;
	ASSERT_OK(refused_each(t, refused_revoked, &nrev));
	store_txn_abort(t);
	ASSERT_EQ(nrev, 3);
	ASSERT_OK(store_txn_begin(first->st, 1, &t));
	nrev = 0;
	ASSERT_OK(refused_each(t, refused_revoked, &nrev));
	store_txn_abort(t);
	ASSERT_EQ(nrev, 3);

	TEST_START("the revocation again, and the entries again, change nothing");
	memset(&st, 0, sizeof(st));
	ASSERT_OK(log_trust_ingest(late->st, late->net.id, &it, 1, &to, &st,
				   NULL));
	ASSERT_EQ(to.status, TRUSTSET_KNOWN);
	ASSERT_OK(log_ingest(late->st, late->net.id, po.in, po.n, out, &st,
			     NULL));
	ASSERT_EQ(st.applied, 0);
	TH_ASSERT_SAME_STATE(first, late);
	free(rv);
	th_pool_free(&po);
	node_close(thief);
	node_close(other);
	node_close(first);
	node_close(late);
}

/* 1 when the bytes of s are in n's store file (data.mdb). */
static int store_holds(struct node *n, const char *s)
{
	char path[4200];
	size_t len;
	uint8_t *b;
	int found;
	snprintf(path, sizeof(path), "%s/store/data.mdb", n->home);
	b = th_slurp(path, &len);
	found = memmem(b, len, s, strlen(s)) != NULL;
	free(b);
	return found;
}

/* 1 when n's trust set holds a fork proof. */
static int any_proof(void *ctx, int kind, const uint8_t id[32],
		     const uint8_t *data, size_t len)
{
	(void)kind, (void)id, (void)data, (void)len;
	*(int *)ctx = 1;
	return 1;
}
static int holds_proof(struct node *n)
{
	struct store_txn *t;
	int found = 0;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(trustset_each(t, TRUST_FORK, any_proof, &found));
	store_txn_abort(t);
	return found;
}

/* What a node keeps of what reaches it, before and after its
 * certificate: its own scope alone without one; what a certificate
 * installed over a store does not let it read leaves it (log_keep_reads);
 * a fork proof of a feed it does not read is neither stored nor counted
 * in the trust digest it shares. */
/* u and v2 write HP-U's phone at the same time (mine at u, theirs at v2,
 * later), and u receives v2's: a field conflict at u. */
static void phone_conflict(struct node *u, struct node *v2, const char *mine,
			   const char *theirs)
{
	struct th_pool cv = { 0 };
	struct log_out *o;
	char spec[32];
	snprintf(spec, sizeof(spec), "phone=%s", mine);
	ASSERT_OK(th_put(u, "health_profile", "HP-U", spec));
	usleep(2000);
	snprintf(spec, sizeof(spec), "phone=%s", theirs);
	ASSERT_OK(th_put(v2, "health_profile", "HP-U", spec));
	th_pool_fill(v2, &cv);
	o = calloc(cv.n ? cv.n : 1, sizeof(*o));
	ASSERT_TRUE(o != NULL);
	ASSERT_OK(log_ingest(u->st, u->net.id, cv.in, cv.n, o, NULL, NULL));
	free(o);
	th_pool_free(&cv);
	ASSERT_EQ(th_conflicts(u, "health_profile", "HP-U", NULL), 1);
}

static void test_keep_reads(const char *dir, const char *net)
{
	struct node *va = th_node(dir, net, "kr-va", "bk/k/va");
	struct node *vb = th_node(dir, net, "kr-vb", "bk/k/vb");
	struct node *ref = th_node(dir, net, "kr-ref", "bk/k/va");
	struct node *bare = th_node_bare(dir, net, "kr-bare", "bk/k/va");
	struct node *wide = th_node_bare(dir, net, "kr-wide", "bk/k");
	struct node *vbc;
	struct th_pool pa = { 0 }, pb = { 0 }, pc = { 0 };
	struct log_out out[16];
	struct log_stats st = { 0 };
	struct trustset_item it = { TRUST_FORK, NULL, 0 };
	struct trustset_out to;
	struct log_keep_result kr;
	struct cert_chain *ch = malloc(sizeof(*ch));
	struct log_reader rd;
	uint8_t *proof;
	size_t pl;
	char cmd[8400], home[4200], why[256];

	ASSERT_OK(th_put(va, "health_profile", "KA-1",
			 "person_id=002200000001;full_name=OURSmarker;birth_date=1990-01-01"));
	ASSERT_OK(th_put(vb, "health_profile", "KB-1",
			 "person_id=002200000002;full_name=THEIRSmarker;birth_date=1990-01-01"));
	/* vb's key copied to a second PC, which writes at vb's next seq */
	snprintf(cmd, sizeof(cmd), "cp -a '%s/kr-vb' '%s/kr-vbc'", dir, dir);
	ASSERT_EQ(system(cmd), 0);
	snprintf(home, sizeof(home), "%s/kr-vbc", dir);
	ASSERT_OK(node_open(home, 0, &vbc, why, sizeof(why)));
	ASSERT_OK(th_put(vb, "health_profile", "KB-2",
			 "person_id=002200000003;full_name=Two;birth_date=1990-01-01"));
	ASSERT_OK(th_put(vbc, "health_profile", "KB-3",
			 "person_id=002200000004;full_name=Three;birth_date=1990-01-01"));
	th_pool_fill(va, &pa);
	th_pool_fill(vb, &pb);
	th_pool_fill(vbc, &pc);
	ASSERT_EQ(pb.n, 2);
	ASSERT_OK(fork_proof_encode(pb.in[1].env, pb.in[1].env_len,
				    pb.in[1].sig, pc.in[1].env,
				    pc.in[1].env_len, pc.in[1].sig, &proof,
				    &pl));
	it.data = proof;
	it.len = pl;
	ASSERT_OK(log_ingest(ref->st, ref->net.id, pa.in, pa.n, out, NULL,
			     NULL));

	TEST_START("a node without a certificate keeps of a bundle its own scope alone, and no fork proof of another's");
	ASSERT_OK(bundle_ingest_local(bare, NULL, pa.in, pa.n, out, &st));
	ASSERT_EQ(out[0].status, LOG_APPLIED);
	ASSERT_OK(bundle_ingest_local(bare, NULL, pb.in, pb.n, out, &st));
	ASSERT_EQ(out[0].status, LOG_REJECTED);
	ASSERT_EQ(out[0].err, HAMLET_ESCOPE);
	ASSERT_TRUE(strstr(out[0].why, "own scope bk/k/va") != NULL);
	ASSERT_OK(bundle_trust_local(bare, &it, 1, &to, &st));
	ASSERT_EQ(to.status, TRUSTSET_REFUSED);
	ASSERT_EQ(to.err, HAMLET_ESCOPE);
	ASSERT_TRUE(!holds_proof(bare));
	ASSERT_TRUE(!store_holds(bare, "THEIRSmarker"));
	TH_ASSERT_SAME_STATE(bare, ref);

	TEST_START("a certified node stores no fork proof of a feed it does not read; one that reads it does");
	ASSERT_OK(bundle_trust_local(ref, &it, 1, &to, &st));
	ASSERT_EQ(to.status, TRUSTSET_REFUSED);
	ASSERT_EQ(to.err, HAMLET_ESCOPE);
	ASSERT_OK(bundle_trust_local(vb, &it, 1, &to, &st));
	ASSERT_EQ(to.status, TRUSTSET_ADDED);
	ASSERT_TRUE(holds_proof(vb));

	TEST_START("the trust digest two nodes share leaves out a fork proof one of them may not read");
	{
		struct store_txn *t;
		uint8_t d1[32], d2[32];
		uint64_t n1, n2;
		node_grant_refresh(vb);
		node_grant_refresh(ref);
		ASSERT_TRUE(vb->grant && ref->grant);
		ASSERT_OK(store_txn_begin(vb->st, 1, &t));
		ASSERT_OK(trustset_digest_shared(t, vb->smap, vb->grant,
						 ref->grant, d1, &n1));
		store_txn_abort(t);
		ASSERT_OK(store_txn_begin(ref->st, 1, &t));
		ASSERT_OK(trustset_digest_shared(t, ref->smap, ref->grant,
						 vb->grant, d2, &n2));
		store_txn_abort(t);
		ASSERT_EQ(n1, n2);
		ASSERT_MEMEQ(d1, d2, 32);
		ASSERT_OK(store_txn_begin(vb->st, 1, &t));
		ASSERT_OK(trustset_digest(t, d1, &n1));
		store_txn_abort(t);
		ASSERT_EQ(n1, n2 + 1);
	}

	TEST_START("a certificate installed over what it does not let the node read takes it out, keeping the node's own writing");
	/* filled before any check (an earlier version): every scope */
	ASSERT_OK(log_ingest(wide->st, wide->net.id, pa.in, pa.n, out, NULL,
			     NULL));
	ASSERT_OK(log_ingest(wide->st, wide->net.id, pb.in, pb.n, out, NULL,
			     NULL));
	ASSERT_OK(log_trust_ingest(wide->st, wide->net.id, &it, 1, &to, NULL,
				   NULL));
	ASSERT_EQ(to.status, TRUSTSET_ADDED);
	ASSERT_OK(th_put(wide, "health_profile", "KW-1",
			 "person_id=002200000009;full_name=OWNmarker;birth_date=1990-01-01"));
	ASSERT_TRUE(store_holds(wide, "THEIRSmarker"));
	/* its own scope keeps all of bk/k: nothing goes yet */
	node_reader(wide, ch, &rd);
	ASSERT_OK(log_keep_reads(wide->st, &rd, &kr));
	ASSERT_EQ(kr.entries, 0);
	th_certify(wide, net, "bk/k/va", "bk/k/va", 0);
	node_grant_refresh(wide);
	node_reader(wide, ch, &rd);
	ASSERT_TRUE(rd.grant != NULL);
	ASSERT_OK(log_keep_reads(wide->st, &rd, &kr));
	ASSERT_EQ(kr.entries, 2);
	ASSERT_EQ(kr.feeds, 1);
	ASSERT_EQ(kr.records, 2);
	ASSERT_EQ(kr.proofs, 1);
	ASSERT_TRUE(!holds_proof(wide));
	ASSERT_TRUE(!store_holds(wide, "THEIRSmarker"));
	ASSERT_TRUE(store_holds(wide, "OURSmarker"));
	ASSERT_TRUE(store_holds(wide, "OWNmarker"));
	ASSERT_EQ(th_records(wide), 2);
	{
		struct audit_report ar;
		ASSERT_OK(audit_store(wide->st, wide->net.id, &ar));
		ASSERT_TRUE(!audit_failed(&ar));
		audit_report_close(&ar);
	}

	TEST_START("and again, nothing more goes");
	ASSERT_OK(log_keep_reads(wide->st, &rd, &kr));
	ASSERT_EQ(kr.entries + kr.feeds + kr.held + kr.records + kr.proofs, 0);

	free(ch);
	free(proof);
	th_pool_free(&pa);
	th_pool_free(&pb);
	th_pool_free(&pc);
	node_close(vbc);
	node_close(va);
	node_close(vb);
	node_close(ref);
	node_close(bare);
	node_close(wide);
}

int main(void)
{
	char *dir = th_tmpdir();
	char *net = th_network(dir, "net");
	struct node *a = th_node(dir, net, "village", "bk/bt/qt/na-pai");
	struct node *b = th_node(dir, net, "commune", "bk/bt/qt");
	struct log_out out[64];
	struct log_stats st = { 0 };
	struct th_pool c = { 0 };
	char why[256];
	uint8_t da[32], db[32];

	for (int i = 0; i < 5; i++) {
		char id[16], spec[200];
		snprintf(id, sizeof(id), "HP-%d", i);
		snprintf(spec, sizeof(spec),
			 "person_id=0000000000%02d;full_name=P%d;birth_date=2000-01-01",
			 i, i);
		ASSERT_OK(th_put(a, "health_profile", id, spec));
	}
	th_pool_fill(a, &c);
	ASSERT_EQ(c.n, 5);

	TEST_START("entries arriving ahead of their predecessor are held, then released");
	{
		struct log_in rev[5];
		for (int i = 0; i < 5; i++)
			rev[i] = c.in[4 - i];
		struct log_advances adv = { 0 };
		ASSERT_OK(log_ingest(b->st, b->net.id, rev, 4, out, &st, &adv));
		ASSERT_EQ(st.held, 4);
		ASSERT_EQ(out[0].status, LOG_HELD);
		ASSERT_EQ(adv.n, 0); /* held entries move no head */
		ASSERT_OK(log_ingest(b->st, b->net.id, &rev[4], 1, out, &st, &adv));
		ASSERT_EQ(st.applied, 5); /* the one plus the four it released */
		ASSERT_EQ(st.released, 4);
		/* the commit reports the feed once, at the head it reached */
		ASSERT_EQ(adv.n, 1);
		ASSERT_EQ(adv.v[0].seq, 5);
		ASSERT_STREQ(adv.v[0].scope, "bk/bt/qt/na-pai");
		{
			uint8_t k[32];
			log_feed_key(a->pk, "bk/bt/qt/na-pai", k);
			ASSERT_MEMEQ(adv.v[0].key, k, 32);
		}
		log_advances_close(&adv);
		th_digest(a, da);
		th_digest(b, db);
		ASSERT_MEMEQ(da, db, 32);
	}

	TEST_START("a held entry whose signature was damaged while held is dropped when released, and comes again");
	{
		struct node *h = th_node(dir, net, "held-dmg", "bk/bt/qt");
		struct store_txn *t;
		struct audit_report ar;
		struct log_feed f;
		struct log_stats hs = { 0 };
		uint8_t fk[32], k[40], *row, *at;
		const void *v;
		size_t vl;

		/* seqs 2..5 arrive first and are held */
		ASSERT_OK(log_ingest(h->st, h->net.id, &c.in[1], 4, out, &hs,
				     NULL));
		ASSERT_EQ(hs.held, 4);
		memset(&hs, 0, sizeof(hs));
		log_feed_key(a->pk, "bk/bt/qt/na-pai", fk);
		memcpy(k, fk, 32);
		store_be64(k + 32, 3);
		ASSERT_OK(store_txn_begin(h->st, 0, &t));
		ASSERT_OK(store_get(t, ST_PENDING, k, 40, &v, &vl));
		row = malloc(vl);
		memcpy(row, v, vl);
		ASSERT_TRUE((at = memmem(row, vl, c.in[2].sig, 64)) != NULL);
		at[10] ^= 1;
		ASSERT_OK(store_put(t, ST_PENDING, k, 40, row, vl, 0));
		free(row);
		ASSERT_OK(store_txn_commit(t));
		/* seq 1: seq 2 is released, seq 3 is not stored */
		ASSERT_OK(log_ingest(h->st, h->net.id, &c.in[0], 1, out, &hs,
				     NULL));
		ASSERT_EQ(hs.released, 1);
		memset(&hs, 0, sizeof(hs));
		ASSERT_OK(store_txn_begin(h->st, 1, &t));
		ASSERT_OK(log_feed_get(t, fk, &f));
		store_txn_abort(t);
		ASSERT_EQ(f.seq, 2);
		ASSERT_OK(audit_store(h->st, h->net.id, &ar));
		ASSERT_TRUE(!audit_damaged(&ar));
		ASSERT_EQ(ar.bad_signatures, 0);
		audit_report_close(&ar);
		/* seq 3 comes again, whole: 4 and 5 follow */
		ASSERT_OK(log_ingest(h->st, h->net.id, &c.in[2], 1, out, &hs,
				     NULL));
		ASSERT_EQ(out[0].status, LOG_APPLIED);
		ASSERT_EQ(hs.released, 2);
		ASSERT_OK(audit_store(h->st, h->net.id, &ar));
		ASSERT_TRUE(!audit_failed(&ar));
		ASSERT_EQ(ar.entries, 5);
		audit_report_close(&ar);
		node_close(h);
	}

	TEST_START("re-ingesting changes nothing and advances no feed");
	memset(&st, 0, sizeof(st));
	{
		struct log_advances adv = { 0 };
		ASSERT_OK(log_ingest(b->st, b->net.id, c.in, c.n, out, &st, &adv));
		ASSERT_EQ(adv.n, 0);
		log_advances_close(&adv);
	}
	ASSERT_EQ(st.duplicate, 5);
	th_digest(b, db);
	ASSERT_MEMEQ(da, db, 32);

	TEST_START("a tampered body is rejected and named; the rest applies");
	{
		struct node *x = th_node(dir, net, "x", "bk/x");
		uint8_t *copy = malloc(c.in[0].body_len);
		memcpy(copy, c.in[0].body, c.in[0].body_len);
		copy[c.in[0].body_len - 1] ^= 1;
		struct log_in t = c.in[0];
		t.body = copy;
		memset(&st, 0, sizeof(st));
		ASSERT_OK(log_ingest(x->st, x->net.id, &t, 1, out, &st, NULL));
		ASSERT_EQ(out[0].status, LOG_REJECTED);
		ASSERT_EQ(out[0].err, HAMLET_EHASH);
		ASSERT_TRUE(strstr(out[0].why, "body") != NULL);
		free(copy);
		node_close(x);
	}

	TEST_START("a planted fork is kept as evidence, freezes the feed, and fails the audit");
	{
		struct audit_report ar;
		ASSERT_OK(audit_store(b->st, b->net.id, &ar));
		ASSERT_TRUE(!audit_failed(&ar));
		ASSERT_EQ(ar.entries, 5);
		audit_report_close(&ar);
		/* a clone of the village's key writes a different seq 6 */
		char cmd[8192], home[4096];
		struct node *clone;
		snprintf(cmd, sizeof(cmd), "cp -a '%s/village' '%s/clone'", dir,
			 dir);
		node_close(a);
		ASSERT_EQ(system(cmd), 0);
		snprintf(home, sizeof(home), "%s/village", dir);
		ASSERT_OK(node_open(home, 0, &a, why, sizeof(why)));
		snprintf(home, sizeof(home), "%s/clone", dir);
		ASSERT_OK(node_open(home, 0, &clone, why, sizeof(why)));
		ASSERT_OK(th_put(a, "health_profile", "HP-0", "phone=0900000001"));
		ASSERT_OK(th_put(clone, "health_profile", "HP-0", "phone=0900000002"));
		struct th_pool ca = { 0 }, cc = { 0 };
		th_pool_fill(a, &ca);
		th_pool_fill(clone, &cc);
		memset(&st, 0, sizeof(st));
		ASSERT_OK(log_ingest(b->st, b->net.id, &ca.in[5], 1, out, &st, NULL));
		ASSERT_EQ(out[0].status, LOG_APPLIED);
		ASSERT_OK(log_ingest(b->st, b->net.id, &cc.in[5], 1, out, &st, NULL));
		ASSERT_EQ(out[0].status, LOG_FORK);
		ASSERT_TRUE(strstr(out[0].why, "fork") != NULL);
		ASSERT_OK(audit_store(b->st, b->net.id, &ar));
		ASSERT_TRUE(audit_failed(&ar));
		ASSERT_EQ(ar.forks, 1);
		ASSERT_TRUE(problems_count(&ar.problems, "fork") >= 1);
		audit_report_close(&ar);
		/* past the fork the feed takes nothing more */
		ASSERT_OK(th_put(clone, "health_profile", "HP-1", "phone=0900000003"));
		th_pool_free(&cc);
		th_pool_fill(clone, &cc);
		ASSERT_OK(log_ingest(b->st, b->net.id, &cc.in[6], 1, out, &st, NULL));
		ASSERT_EQ(out[0].status, LOG_REJECTED);
		ASSERT_EQ(out[0].err, HAMLET_EFORKED);
		th_pool_free(&ca);
		th_pool_free(&cc);
		node_close(clone);
	}

	TEST_START("a local edit of a record whose head is dated days ahead keeps the node's clock within the cap, and wins");
	{
		struct node *f = th_node(dir, net, "ahead", "bk/ahead");
		struct node *h = th_node(dir, net, "here", "bk/here");
		struct th_pool cf = { 0 };
		struct audit_report ar;
		char buf[64];
		/* a village PC whose clock is 20 hours ahead: far past the
		 * clock's cap, still within LOG_MAX_AHEAD_MS */
		setenv("HAMLET_CLOCK_OFFSET_MS", "72000000", 1);
		ASSERT_OK(th_put(f, "health_profile", "HP-F",
				 "person_id=001122334477;full_name=Future;birth_date=2000-01-01;phone=0911"));
		unsetenv("HAMLET_CLOCK_OFFSET_MS");
		th_pool_fill(f, &cf);
		ASSERT_OK(log_ingest(h->st, h->net.id, cf.in, cf.n, out, NULL, NULL));
		ASSERT_EQ(out[0].status, LOG_APPLIED);
		ASSERT_OK(th_put(h, "health_profile", "HP-F", "phone=0922"));
		ASSERT_TRUE(hlc_ms(node_clock(h)) <=
			    hlc_wall_ms() + HLC_MAX_AHEAD_MS);
		/* the edit supersedes the head through deps, on both nodes */
		ASSERT_STREQ(th_field(h, "health_profile", "HP-F", "phone", buf,
				      sizeof(buf)),
			     "0922");
		ASSERT_EQ(th_conflicts(h, "health_profile", "HP-F", NULL), 0);
		th_pool_free(&cf);
		th_pool_fill(h, &cf);
		ASSERT_OK(log_ingest(f->st, f->net.id, cf.in, cf.n, out, NULL, NULL));
		ASSERT_STREQ(th_field(f, "health_profile", "HP-F", "phone", buf,
				      sizeof(buf)),
			     "0922");
		TH_ASSERT_SAME_STATE(f, h);
		/* this node signed nothing dated in the future */
		ASSERT_OK(audit_store(h->st, h->net.id, &ar));
		ASSERT_EQ(ar.future, 1);
		audit_report_close(&ar);
		th_pool_free(&cf);
		node_close(f);
		node_close(h);
	}

	TEST_START("an entry dated 100 years ahead is refused, not stored, and counted");
	{
		struct node *f = th_node(dir, net, "century", "bk/century");
		struct node *h = th_node(dir, net, "today", "bk/today");
		struct th_pool cf = { 0 };
		struct log_stats fs = { 0 };
		struct store_txn *t;
		struct log_feed feed;
		uint8_t fk[32];
		setenv("HAMLET_CLOCK_OFFSET_MS", "3155760000000", 1);
		ASSERT_OK(th_put(f, "health_profile", "HP-C",
				 "person_id=001122334466;full_name=Century;birth_date=2000-01-01"));
		unsetenv("HAMLET_CLOCK_OFFSET_MS");
		th_pool_fill(f, &cf);
		ASSERT_EQ(cf.n, 1);
		ASSERT_OK(log_ingest(h->st, h->net.id, cf.in, cf.n, out, &fs,
				     NULL));
		ASSERT_EQ(out[0].status, LOG_REJECTED);
		ASSERT_EQ(out[0].err, HAMLET_EFUTURE);
		ASSERT_TRUE(strstr(out[0].why, "ahead of our clock") != NULL);
		ASSERT_EQ(fs.rejected, 1);
		ASSERT_EQ(fs.refused_future, 1);
		ASSERT_EQ(fs.applied, 0);
		log_feed_key(f->pk, "bk/century", fk);
		ASSERT_OK(store_txn_begin(h->st, 1, &t));
		ASSERT_EQ(log_feed_get(t, fk, &feed), HAMLET_ENOTFOUND);
		store_txn_abort(t);
		th_pool_free(&cf);
		node_close(f);
		node_close(h);
	}

	TEST_START("a feed whose seq 1 never comes holds entries only up to LOG_MAX_HELD_PER_FEED past its head; the rest are refused, not stored");
	{
		enum { N = LOG_MAX_HELD_PER_FEED + 4, CHUNK = 1000 };
		struct node *w = th_node(dir, net, "many", "bk/many");
		struct node *h = th_node(dir, net, "holder", "bk/holder");
		struct th_pool cw = { 0 };
		struct log_stats hs = { 0 };
		struct log_author au;
		struct log_out *ho = calloc(N, sizeof(*ho));
		struct log_op *ops = calloc(CHUNK, sizeof(*ops));
		uint8_t **bodies = calloc(CHUNK, sizeof(*bodies));
		char (*ids)[16] = calloc(CHUNK, sizeof(*ids));
		struct store_txn *t;
		uint64_t held;
		size_t failed;
		ASSERT_TRUE(ho && ops && bodies && ids);
		node_author(w, &au);
		for (int done = 0; done < N; done += CHUNK) {
			int k = N - done < CHUNK ? N - done : CHUNK;
			for (int i = 0; i < k; i++) {
				char spec[128];
				snprintf(ids[i], sizeof(ids[i]), "HM-%d", done + i);
				snprintf(spec, sizeof(spec),
					 "person_id=%012d;full_name=M;birth_date=2000-01-01",
					 500000 + done + i);
				bodies[i] = th_body(spec, &ops[i].body_len);
				ops[i].kind = ENTRY_PUT;
				ops[i].collection = "health_profile";
				ops[i].record_id = ids[i];
				ops[i].body = bodies[i];
			}
			ASSERT_OK(log_write(w->st, &au, ops, (size_t)k, NULL,
					    &failed, why, sizeof(why), NULL));
			for (int i = 0; i < k; i++)
				free(bodies[i]);
		}
		th_pool_fill(w, &cw);
		ASSERT_EQ(cw.n, N);
		ASSERT_OK(log_ingest(h->st, h->net.id, cw.in + 1, N - 1, ho,
				     &hs, NULL));
		ASSERT_EQ(hs.held, LOG_MAX_HELD_PER_FEED - 2);
		ASSERT_EQ(hs.refused_held_cap, 5);
		ASSERT_EQ(hs.rejected, 5);
		ASSERT_EQ(ho[LOG_MAX_HELD_PER_FEED - 3].status, LOG_HELD);
		ASSERT_EQ(ho[LOG_MAX_HELD_PER_FEED - 2].status, LOG_REJECTED);
		ASSERT_EQ(ho[LOG_MAX_HELD_PER_FEED - 2].err, HAMLET_EHELDCAP);
		/* in plain words: no name of a constant */
		ASSERT_STREQ(ho[N - 2].why,
			     "too far ahead: this node holds feed bk/many up to seq 0 and keeps waiting only entries less than 4096 past that; this is seq 4100");
		ASSERT_OK(store_txn_begin(h->st, 1, &t));
		ASSERT_OK(log_held_count(t, &held));
		store_txn_abort(t);
		ASSERT_EQ(held, LOG_MAX_HELD_PER_FEED - 2);
		/* seq 1 comes: what was held is released, the rest comes again */
		ASSERT_OK(log_ingest(h->st, h->net.id, cw.in, N, ho, &hs, NULL));
		ASSERT_EQ(hs.released, LOG_MAX_HELD_PER_FEED - 2);
		ASSERT_OK(store_txn_begin(h->st, 1, &t));
		ASSERT_OK(log_held_count(t, &held));
		store_txn_abort(t);
		ASSERT_EQ(held, 0);
		TH_ASSERT_SAME_STATE(w, h);
		th_pool_free(&cw);
		free(ho);
		free(ops);
		free(bodies);
		free(ids);
		node_close(w);
		node_close(h);
	}

	TEST_START("a change to a record lives in the record's scope when that lies under the writer's; else in the writer's own");
	{
		struct node *pv = th_node(dir, net, "scoped-prov", "bk");
		struct node *vv = th_node(dir, net, "scoped-vill", "bk/qt/na");
		struct th_pool cv = { 0 }, cp = { 0 };
		struct log_out so[4]; /* at most the 3 entries of cp */
		struct log_stats ss = { 0 };
		uint8_t feed[32], eb[ENTRY_MAX_ENVELOPE];
		uint64_t seq;
		const uint8_t *env, *sig;
		size_t len;
		struct entry e;
		struct store_txn *t;
		ASSERT_OK(th_put(vv, "health_profile", "HS-1",
				 "person_id=900000000001;full_name=S;birth_date=2000-01-01"));
		th_pool_fill(vv, &cv);
		ASSERT_OK(log_ingest(pv->st, pv->net.id, cv.in, cv.n, so, &ss,
				     NULL));
		/* the province edits the village's record */
		ASSERT_OK(th_put(pv, "health_profile", "HS-1", "phone=0911000001"));
		/* and writes a record of its own */
		ASSERT_OK(th_put(pv, "health_profile", "HS-2",
				 "person_id=900000000002;full_name=P;birth_date=2000-01-01"));
		th_pool_fill(pv, &cp);
		ASSERT_EQ(cp.n, 3);
		for (size_t i = 0; i < cp.n; i++) {
			ASSERT_OK(entry_decode(cp.in[i].env, cp.in[i].env_len, &e,
					       NULL));
			if (memcmp(e.author, pv->pk, 32) != 0)
				continue;
			ASSERT_STREQ(e.scope, strcmp(e.record_id, "HS-1") == 0
						      ? "bk/qt/na"
						      : "bk");
		}
		/* the village edits the province's record: in its own scope */
		ASSERT_OK(log_ingest(vv->st, vv->net.id, cp.in, cp.n, so, &ss,
				     NULL));
		ASSERT_OK(th_put(vv, "health_profile", "HS-2", "phone=0911000002"));
		ASSERT_OK(store_txn_begin(vv->st, 1, &t));
		log_feed_key(vv->pk, "bk/qt/na", feed);
		{
			struct log_feed f;
			ASSERT_OK(log_feed_get(t, feed, &f));
			seq = f.seq;
		}
		ASSERT_OK(log_entry_get(t, feed, seq, eb, &env, &len, &sig));
		ASSERT_OK(entry_decode(env, len, &e, NULL));
		ASSERT_STREQ(e.record_id, "HS-2");
		ASSERT_STREQ(e.scope, "bk/qt/na");
		store_txn_abort(t);
		th_pool_free(&cv);
		th_pool_free(&cp);
		node_close(pv);
		node_close(vv);
	}

	TEST_START("two villages that give one id to two people: a change at the commune is written in the scope both lie under, never in one village's");
	{
		struct node *cc = th_node(dir, net, "two-comm", "bk/qt");
		struct node *va = th_node(dir, net, "two-va", "bk/qt/va");
		struct node *vb = th_node(dir, net, "two-vb", "bk/qt/vb");
		struct th_pool pa = { 0 }, pb = { 0 }, pc = { 0 };
		struct log_out so[4];
		struct log_stats ss = { 0 };
		struct entry e;
		ASSERT_OK(th_put(va, "health_profile", "HT-1",
				 "person_id=900000000011;full_name=A;birth_date=2000-01-01"));
		ASSERT_OK(th_put(vb, "health_profile", "HT-1",
				 "person_id=900000000012;full_name=B;birth_date=1970-01-01"));
		/* b's is the newer: it was the record's scope before */
		th_pool_fill(va, &pa);
		th_pool_fill(vb, &pb);
		ASSERT_OK(log_ingest(cc->st, cc->net.id, pa.in, pa.n, so, &ss,
				     NULL));
		ASSERT_OK(log_ingest(cc->st, cc->net.id, pb.in, pb.n, so, &ss,
				     NULL));
		ASSERT_OK(th_put(cc, "health_profile", "HT-1", "phone=0911000011"));
		th_pool_fill(cc, &pc);
		ASSERT_EQ(pc.n, 3);
		ASSERT_STREQ(own_scope(&pc, cc, "HT-1", &e), "bk/qt");
		/* and a record of one village alone is still changed in it */
		ASSERT_OK(th_put(va, "health_profile", "HT-2",
				 "person_id=900000000013;full_name=C;birth_date=2000-01-01"));
		th_pool_free(&pa);
		th_pool_fill(va, &pa);
		ASSERT_OK(log_ingest(cc->st, cc->net.id, pa.in, pa.n, so, &ss,
				     NULL));
		ASSERT_OK(th_put(cc, "health_profile", "HT-2", "phone=0911000013"));
		th_pool_free(&pc);
		th_pool_fill(cc, &pc);
		ASSERT_STREQ(own_scope(&pc, cc, "HT-2", &e), "bk/qt/va");
		/* heads with no scope in common: a record of no scope, which
		 * a writer changes in its own */
		{
			struct node *hx = th_node(dir, net, "two-hx", "hn/x");
			struct th_pool px = { 0 };
			struct record_view v;
			struct store_txn *t;
			char sc[ENTRY_MAX_SCOPE + 1];
			ASSERT_OK(th_put(hx, "health_profile", "HT-3",
					 "person_id=900000000014;full_name=D;birth_date=2000-01-01"));
			ASSERT_OK(th_put(va, "health_profile", "HT-3",
					 "person_id=900000000015;full_name=E;birth_date=2000-01-01"));
			th_pool_fill(hx, &px);
			th_pool_free(&pa);
			th_pool_fill(va, &pa);
			ASSERT_OK(log_ingest(cc->st, cc->net.id, px.in, px.n, so,
					     &ss, NULL));
			ASSERT_OK(log_ingest(cc->st, cc->net.id, pa.in, pa.n, so,
					     &ss, NULL));
			ASSERT_OK(store_txn_begin(cc->st, 1, &t));
			ASSERT_OK(record_view_load(t, "health_profile", "HT-3", &v));
			ASSERT_EQ(scopemap_record_scope(NULL, t, &v, sc), 1);
			ASSERT_STREQ(sc, "");
			record_view_close(&v);
			store_txn_abort(t);
			ASSERT_OK(th_put(cc, "health_profile", "HT-3",
					 "phone=0911000014"));
			th_pool_free(&pc);
			th_pool_fill(cc, &pc);
			ASSERT_STREQ(own_scope(&pc, cc, "HT-3", &e), "bk/qt");
			th_pool_free(&px);
			node_close(hx);
		}
		th_pool_free(&pa);
		th_pool_free(&pb);
		th_pool_free(&pc);
		node_close(cc);
		node_close(va);
		node_close(vb);
	}

	TEST_START("one sender holds no more than its budget: entries past it are refused, those held already are held again");
	{
		struct node *w = th_node(dir, net, "budget", "bk/budget");
		struct node *h = th_node(dir, net, "budgeted", "bk/budgeted");
		struct th_pool cw = { 0 };
		struct log_stats hs = { 0 };
		struct log_out bo[8];
		struct store_txn *t;
		uint64_t held;
		for (int i = 0; i < 7; i++) {
			char id[16], spec[128];
			snprintf(id, sizeof(id), "HB-%d", i);
			snprintf(spec, sizeof(spec),
				 "person_id=%012d;full_name=B;birth_date=2000-01-01",
				 700000 + i);
			ASSERT_OK(th_put(w, "health_profile", id, spec));
		}
		th_pool_fill(w, &cw);
		ASSERT_EQ(cw.n, 7);
		/* seq 1 withheld: seqs 2..7 wait, and the sender may hold 3 */
		ASSERT_OK(log_ingest_budget(h->st, h->net.id, cw.in + 1, 6, bo,
					    &hs, NULL, 3));
		ASSERT_EQ(hs.held, 3);
		ASSERT_EQ(hs.held_new, 3);
		ASSERT_EQ(hs.refused_held_cap, 3);
		ASSERT_EQ(bo[2].status, LOG_HELD);
		ASSERT_EQ(bo[3].status, LOG_REJECTED);
		ASSERT_EQ(bo[3].err, HAMLET_EHELDCAP);
		ASSERT_TRUE(strstr(bo[3].why, "as one sender may") != NULL);
		/* sent again with nothing left of the budget: the three held
		 * stay held, nothing more is */
		memset(&hs, 0, sizeof(hs));
		ASSERT_OK(log_ingest_budget(h->st, h->net.id, cw.in + 1, 6, bo,
					    &hs, NULL, 0));
		ASSERT_EQ(hs.held, 3);
		ASSERT_EQ(hs.held_new, 0);
		ASSERT_EQ(hs.refused_held_cap, 3);
		ASSERT_OK(store_txn_begin(h->st, 1, &t));
		ASSERT_OK(log_held_count(t, &held));
		store_txn_abort(t);
		ASSERT_EQ(held, 3);
		/* seq 1 comes: all of it is stored, whatever the budget */
		memset(&hs, 0, sizeof(hs));
		ASSERT_OK(log_ingest_budget(h->st, h->net.id, cw.in, 7, bo, &hs,
					    NULL, 0));
		ASSERT_EQ(hs.released, 3);
		TH_ASSERT_SAME_STATE(w, h);
		th_pool_free(&cw);
		node_close(w);
		node_close(h);
	}

	TEST_START("a held entry older than LOG_MAX_HELD_AGE_MS is dropped by a later ingest, and counted");
	{
		struct node *w = th_node(dir, net, "aging", "bk/aging");
		struct node *h = th_node(dir, net, "ager", "bk/ager");
		struct th_pool cw = { 0 };
		struct log_stats hs = { 0 };
		struct store_txn *t;
		uint64_t held;
		char off[32];
		ASSERT_OK(th_put(w, "health_profile", "HP-A1",
				 "person_id=001122334411;full_name=A;birth_date=2000-01-01"));
		ASSERT_OK(th_put(w, "health_profile", "HP-A2",
				 "person_id=001122334412;full_name=B;birth_date=2000-01-01"));
		th_pool_fill(w, &cw);
		ASSERT_EQ(cw.n, 2);
		ASSERT_OK(log_ingest(h->st, h->net.id, &cw.in[1], 1, out, &hs,
				     NULL));
		ASSERT_EQ(out[0].status, LOG_HELD);
		/* a day short of the age: still held */
		snprintf(off, sizeof(off), "%llu",
			 (unsigned long long)(LOG_MAX_HELD_AGE_MS - 86400000ull));
		setenv("HAMLET_CLOCK_OFFSET_MS", off, 1);
		ASSERT_OK(log_ingest(h->st, h->net.id, &cw.in[1], 1, out, &hs,
				     NULL));
		ASSERT_EQ(hs.held_expired, 0);
		snprintf(off, sizeof(off), "%llu",
			 (unsigned long long)(LOG_MAX_HELD_AGE_MS + 86400000ull));
		setenv("HAMLET_CLOCK_OFFSET_MS", off, 1);
		/* any ingest sweeps: here one of another feed */
		th_pool_free(&cw);
		ASSERT_OK(th_put(h, "health_profile", "HP-A3",
				 "person_id=001122334413;full_name=C;birth_date=2000-01-01"));
		th_pool_fill(h, &cw);
		ASSERT_OK(log_ingest(h->st, h->net.id, cw.in, cw.n, out, &hs,
				     NULL));
		unsetenv("HAMLET_CLOCK_OFFSET_MS");
		ASSERT_EQ(hs.held_expired, 1);
		ASSERT_OK(store_txn_begin(h->st, 1, &t));
		ASSERT_OK(log_held_count(t, &held));
		store_txn_abort(t);
		ASSERT_EQ(held, 0);
		th_pool_free(&cw);
		node_close(w);
		node_close(h);
	}

	TEST_START("a held row without an arrival time (an earlier version's) is stamped by the sweep, then ages");
	{
		struct node *w = th_node(dir, net, "oldrow", "bk/oldrow");
		struct node *h = th_node(dir, net, "oldheld", "bk/oldheld");
		struct th_pool cw = { 0 }, ch = { 0 };
		struct log_stats hs = { 0 };
		struct store_txn *t;
		uint8_t fk[32], key[40], *row;
		const struct log_in *x;
		const void *v;
		size_t vl, n = 0;
		char off[32];
		ASSERT_OK(th_put(w, "health_profile", "HP-O1",
				 "person_id=001122334421;full_name=A;birth_date=2000-01-01"));
		ASSERT_OK(th_put(w, "health_profile", "HP-O2",
				 "person_id=001122334422;full_name=B;birth_date=2000-01-01"));
		th_pool_fill(w, &cw);
		x = &cw.in[1];
		row = malloc(2 + x->env_len + 64 + 1 + x->body_len);
		ASSERT_TRUE(row != NULL);
		row[n++] = (uint8_t)(x->env_len >> 8);
		row[n++] = (uint8_t)x->env_len;
		memcpy(row + n, x->env, x->env_len);
		n += x->env_len;
		memcpy(row + n, x->sig, 64);
		n += 64;
		row[n++] = 1;
		memcpy(row + n, x->body, x->body_len);
		n += x->body_len;
		log_feed_key(w->pk, "bk/oldrow", fk);
		memcpy(key, fk, 32);
		store_be64(key + 32, 2);
		ASSERT_OK(store_txn_begin(h->st, 0, &t));
		ASSERT_OK(store_put(t, ST_PENDING, key, 40, row, n, 0));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(th_put(h, "health_profile", "HP-O3",
				 "person_id=001122334423;full_name=C;birth_date=2000-01-01"));
		th_pool_fill(h, &ch);
		ASSERT_OK(log_ingest(h->st, h->net.id, ch.in, ch.n, out, &hs,
				     NULL));
		ASSERT_OK(store_txn_begin(h->st, 1, &t));
		ASSERT_OK(store_get(t, ST_PENDING, key, 40, &v, &vl));
		ASSERT_EQ(vl, n + 8);
		ASSERT_EQ(((const uint8_t *)v)[2 + x->env_len + 64], 3);
		store_txn_abort(t);
		snprintf(off, sizeof(off), "%llu",
			 (unsigned long long)(LOG_MAX_HELD_AGE_MS + 86400000ull));
		setenv("HAMLET_CLOCK_OFFSET_MS", off, 1);
		ASSERT_OK(log_ingest(h->st, h->net.id, ch.in, ch.n, out, &hs,
				     NULL));
		unsetenv("HAMLET_CLOCK_OFFSET_MS");
		ASSERT_EQ(hs.held_expired, 1);
		/* seq 1 comes later: seq 2 is no longer waiting, it comes again */
		ASSERT_OK(log_ingest(h->st, h->net.id, cw.in, 1, out, &hs, NULL));
		ASSERT_EQ(hs.released, 0);
		free(row);
		th_pool_free(&cw);
		th_pool_free(&ch);
		node_close(w);
		node_close(h);
	}

	TEST_START("verify recomputes every record and names one whose stored row was rewritten");
	{
		struct node *r1 = th_node(dir, net, "rows", "bk/rows");
		struct audit_report ar;
		struct store_txn *t;
		uint8_t k1[RECORD_KEY_MAX], k2[RECORD_KEY_MAX];
		size_t l1, l2, vl;
		const void *v;
		uint8_t *copy;
		int found = 0;
		ASSERT_OK(th_put(r1, "health_profile", "HP-R1",
				 "person_id=001122334401;full_name=One;birth_date=2000-01-01"));
		ASSERT_OK(th_put(r1, "health_profile", "HP-R2",
				 "person_id=001122334402;full_name=Two;birth_date=2000-01-01"));
		ASSERT_OK(audit_store(r1->st, r1->net.id, &ar));
		ASSERT_EQ(ar.records, 2);
		ASSERT_EQ(ar.records_mismatch, 0);
		ASSERT_EQ(audit_failed(&ar), 0);
		audit_report_close(&ar);
		/* HP-R2's row now holds HP-R1's state: well formed, and wrong */
		l1 = record_key("health_profile", "HP-R1", k1);
		l2 = record_key("health_profile", "HP-R2", k2);
		ASSERT_OK(store_txn_begin(r1->st, 0, &t));
		ASSERT_OK(store_get(t, ST_RECORDS, k1, l1, &v, &vl));
		copy = malloc(vl);
		ASSERT_TRUE(copy != NULL);
		memcpy(copy, v, vl);
		ASSERT_OK(store_put(t, ST_RECORDS, k2, l2, copy, vl, 0));
		ASSERT_OK(store_txn_commit(t));
		free(copy);
		ASSERT_OK(audit_store(r1->st, r1->net.id, &ar));
		ASSERT_EQ(ar.records, 2);
		ASSERT_EQ(ar.records_mismatch, 1);
		ASSERT_EQ(audit_failed(&ar), 1);
		for (size_t i = 0; i < ar.problems.n; i++)
			if (strcmp(ar.problems.v[i].kind, "record") == 0 &&
			    strstr(ar.problems.v[i].text,
				   "health_profile/HP-R2"))
				found++;
		ASSERT_EQ(found, 1);
		audit_report_close(&ar);
		/* a row deleted outright is named too */
		ASSERT_OK(store_txn_begin(r1->st, 0, &t));
		ASSERT_OK(store_del(t, ST_RECORDS, k1, l1));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(audit_store(r1->st, r1->net.id, &ar));
		ASSERT_EQ(ar.records_mismatch, 2);
		ASSERT_EQ(problems_saying(&ar,
					  "health_profile/HP-R1: its signed entries are stored but its state row is missing"),
			  1);
		audit_report_close(&ar);
		/* a change row that names no stored entry: said, and the
		 * audit goes on to the digest */
		{
			uint8_t sk[8], lk[8];
			uint64_t last;
			ASSERT_OK(store_txn_begin(r1->st, 0, &t));
			ASSERT_OK(changes_last(t, &last));
			store_be64(sk, last);
			store_be64(lk, UINT32_MAX);
			ASSERT_OK(store_put(t, ST_CHANGES, sk, 8, lk, 8, 0));
			ASSERT_OK(store_txn_commit(t));
		}
		ASSERT_OK(audit_store(r1->st, r1->net.id, &ar));
		ASSERT_TRUE(audit_failed(&ar));
		ASSERT_EQ(ar.digest_mismatch, 1);
		ASSERT_EQ(problems_saying(&ar, "a change row does not read"), 1);
		audit_report_close(&ar);
		node_close(r1);
	}

	TEST_START("a put that changes nothing writes nothing; the other ops of the call still apply");
	{
		struct node *u = th_node(dir, net, "same", "bk/same");
		struct node *v2 = th_node(dir, net, "other", "bk/other");
		const char *specs[] = {
			"full_name=Same;phone=0911;ethnicity=~",
			"person_id=001122334499;full_name=New;birth_date=2000-01-01",
			"village=na-pai",
		};
		const char *ids[] = { "HP-U", "HP-V", "HP-U" };
		struct log_op ops[3];
		uint8_t *bodies[3], zero[32] = { 0 };
		struct log_author au;
		struct log_advances adv = { 0 };
		struct th_pool cu = { 0 };
		struct store_txn *t;
		uint64_t before, after, clock0;
		size_t failed;
		char buf[64];

		node_author(u, &au);
		ASSERT_OK(th_put(u, "health_profile", "HP-U",
				 "person_id=001122334488;full_name=Same;birth_date=2000-01-01;phone=0911"));
		for (int i = 0; i < 3; i++) {
			ops[i] = (struct log_op){ ENTRY_PUT, "health_profile",
						  ids[i], NULL, NULL, 0, 0, NULL, 0 };
			bodies[i] = th_body(specs[i], &ops[i].body_len);
			ops[i].body = bodies[i];
		}
		ASSERT_OK(store_txn_begin(u->st, 1, &t));
		ASSERT_OK(store_count(t, ST_ENTRIES, &before));
		store_txn_abort(t);
		ASSERT_OK(log_write(u->st, &au, ops, 3, out, &failed, why,
				    sizeof(why), &adv));
		ASSERT_EQ(out[0].status, LOG_DUPLICATE);
		ASSERT_EQ(out[0].seq, 0);
		ASSERT_MEMEQ(out[0].id, zero, 32);
		ASSERT_EQ(out[1].status, LOG_APPLIED);
		ASSERT_EQ(out[1].seq, 2);
		ASSERT_EQ(out[2].status, LOG_APPLIED);
		ASSERT_EQ(out[2].seq, 3);
		ASSERT_OK(store_txn_begin(u->st, 1, &t));
		ASSERT_OK(store_count(t, ST_ENTRIES, &after));
		store_txn_abort(t);
		ASSERT_EQ(after, before + 2);
		ASSERT_EQ(adv.n, 1);
		ASSERT_EQ(adv.v[0].seq, 3);
		log_advances_close(&adv);

		TEST_START("a call whose every put is unchanged commits nothing, the clock included");
		clock0 = node_clock(u);
		usleep(2000);
		ASSERT_OK(log_write(u->st, &au, ops, 3, out, &failed, why,
				    sizeof(why), &adv));
		for (int i = 0; i < 3; i++) {
			ASSERT_EQ(out[i].status, LOG_DUPLICATE);
			ASSERT_EQ(out[i].seq, 0);
		}
		ASSERT_EQ(adv.n, 0);
		ASSERT_OK(store_txn_begin(u->st, 1, &t));
		ASSERT_OK(store_count(t, ST_ENTRIES, &after));
		store_txn_abort(t);
		ASSERT_EQ(after, before + 2);
		ASSERT_EQ(node_clock(u), clock0);

		TEST_START("a resolution of a record with no open conflict (settled while it was made) is refused, and writes nothing");
		ops[0].resolve = 1;
		ASSERT_EQ(log_write(u->st, &au, ops, 1, out, &failed, why,
				    sizeof(why), NULL),
			  HAMLET_ERESOLVED);
		ASSERT_TRUE(strstr(why, "has no open conflict any more") != NULL);
		ops[0].resolve = 0;
		ASSERT_OK(store_txn_begin(u->st, 1, &t));
		ASSERT_OK(store_count(t, ST_ENTRIES, &after));
		store_txn_abort(t);
		ASSERT_EQ(after, before + 2);

		TEST_START("a put repeating the value shown for a field in conflict is written, and settles it");
		th_pool_fill(u, &cu);
		ASSERT_OK(log_ingest(v2->st, v2->net.id, cu.in, cu.n, out, NULL, NULL));
		th_pool_free(&cu);
		phone_conflict(u, v2, "0922", "0933");
		ASSERT_STREQ(th_field(u, "health_profile", "HP-U", "phone", buf,
				      sizeof(buf)),
			     "0933");
		ASSERT_OK(th_write(u, ENTRY_PUT, "health_profile", "HP-U",
				   "phone=0933", 0, why, sizeof(why)));
		ASSERT_EQ(th_conflicts(u, "health_profile", "HP-U", NULL), 0);

		TEST_START("a resolution repeating the values shown is written, and settles the conflict");
		phone_conflict(u, v2, "0944", "0955");
		ASSERT_OK(th_write(u, ENTRY_PUT, "health_profile", "HP-U",
				   "phone=0955", 1, why, sizeof(why)));
		ASSERT_EQ(th_conflicts(u, "health_profile", "HP-U", NULL), 0);

		TEST_START("a put on a deleted record is written");
		ASSERT_OK(th_write(u, ENTRY_DELETE, "health_profile", "HP-V",
				   NULL, 0, why, sizeof(why)));
		ASSERT_OK(log_write(u->st, &au, &ops[1], 1, out, &failed, why,
				    sizeof(why), NULL));
		ASSERT_EQ(out[0].status, LOG_APPLIED);
		ASSERT_STREQ(th_field(u, "health_profile", "HP-V", "full_name",
				      buf, sizeof(buf)),
			     "New");
		for (int i = 0; i < 3; i++)
			free(bodies[i]);
		node_close(u);
		node_close(v2);
	}

	TEST_START("a delete or a resolution naming a scope the record was not written in is refused: it would move the record there");
	{
		struct node *pv = th_node(dir, net, "sprov", "bk");
		struct node *v1 = th_node(dir, net, "sv1", "bk/c1/v1");
		struct node *v2 = th_node(dir, net, "sv2", "bk/c1/v2");
		struct node *hg = th_node(dir, net, "shg", "hg/c1/v1");
		const char *full =
			"person_id=001122330001;full_name=Lo Thi Mai;birth_date=1990-04-12;phone=0912000001";
		uint64_t before;
		char buf[64];

		ASSERT_OK(th_put(v1, "health_profile", "HP-S1", full));
		ASSERT_OK(th_put(v1, "health_profile", "HP-S2",
				 "person_id=001122330002;full_name=Hoang Van Tu;birth_date=1984-11-02"));
		hand_over(v1, pv);
		before = th_count_entries(pv);
		ASSERT_EQ(scoped_write(pv, ENTRY_DELETE, "HP-S2", NULL,
				       "bk/c1/v2", 0, why, sizeof(why)),
			  HAMLET_ESCOPE);
		ASSERT_TRUE(strstr(why, "was written in bk/c1/v1, not in scope bk/c1/v2") != NULL);
		ASSERT_EQ(th_count_entries(pv), before);

		TEST_START("a delete naming the scope the record was written in is written");
		ASSERT_OK(scoped_write(pv, ENTRY_DELETE, "HP-S2", NULL,
				       "bk/c1/v1", 0, why, sizeof(why)));
		ASSERT_EQ(th_count_entries(pv), before + 1);

		TEST_START("a resolution, keeping or deleting, naming another scope is refused; naming the record's is written");
		ASSERT_OK(th_put(v1, "health_profile", "HP-S1", "phone=0987111222"));
		ASSERT_OK(th_put(pv, "health_profile", "HP-S1", "phone=0912999888"));
		hand_over(v1, pv);
		ASSERT_EQ(th_conflicts(pv, "health_profile", "HP-S1", NULL), 1);
		before = th_count_entries(pv);
		ASSERT_EQ(scoped_write(pv, ENTRY_PUT, "HP-S1",
				       "full_name=Lo Thi Mai;phone=0987111222",
				       "bk/c1/v2", 1, why, sizeof(why)),
			  HAMLET_ESCOPE);
		ASSERT_TRUE(strstr(why, "lives in scope bk/c1/v1") != NULL);
		ASSERT_EQ(scoped_write(pv, ENTRY_DELETE, "HP-S1", NULL,
				       "bk/c1/v2", 1, why, sizeof(why)),
			  HAMLET_ESCOPE);
		ASSERT_TRUE(strstr(why, "not in scope bk/c1/v2") != NULL);
		ASSERT_EQ(th_count_entries(pv), before);
		ASSERT_EQ(th_conflicts(pv, "health_profile", "HP-S1", NULL), 1);
		ASSERT_OK(scoped_write(pv, ENTRY_PUT, "HP-S1",
				       "full_name=Lo Thi Mai;phone=0987111222",
				       "bk/c1/v1", 1, why, sizeof(why)));
		ASSERT_EQ(th_conflicts(pv, "health_profile", "HP-S1", NULL), 0);

		TEST_START("two villages' one id: a resolution naming one village is refused (it would hand that village the other's resident); a delete may name either village, not a scope neither wrote in");
		ASSERT_OK(th_put(v1, "health_profile", "HP-S3",
				 "person_id=001122330003;full_name=Lo Van Mot;birth_date=1970-01-01"));
		ASSERT_OK(th_put(v2, "health_profile", "HP-S3",
				 "person_id=001122330004;full_name=Lo Van Hai;birth_date=1971-01-01"));
		hand_over(v1, pv);
		hand_over(v2, pv);
		before = th_count_entries(pv);
		ASSERT_EQ(scoped_write(pv, ENTRY_PUT, "HP-S3",
				       "person_id=001122330003;full_name=Lo Van Mot;birth_date=1970-01-01",
				       "bk/c1/v1", 1, why, sizeof(why)),
			  HAMLET_ESCOPE);
		ASSERT_TRUE(strstr(why, "lives in scope bk/c1") != NULL);
		ASSERT_EQ(scoped_write(pv, ENTRY_DELETE, "HP-S3", NULL, "bk/c9",
				       1, why, sizeof(why)),
			  HAMLET_ESCOPE);
		/* both named, in no set order (the ops' order follows their ids) */
		ASSERT_TRUE(strstr(why, "bk/c1/v1") != NULL);
		ASSERT_TRUE(strstr(why, "bk/c1/v2") != NULL);
		ASSERT_EQ(th_count_entries(pv), before);
		ASSERT_OK(scoped_write(pv, ENTRY_DELETE, "HP-S3", NULL,
				       "bk/c1/v2", 1, why, sizeof(why)));
		ASSERT_EQ(th_count_entries(pv), before + 1);
		ASSERT_STREQ(th_field(pv, "health_profile", "HP-S3", "full_name",
				      buf, sizeof(buf)),
			     "(deleted)");

		TEST_START("a record whose newest changes share no scope takes no scope for a change");
		ASSERT_OK(th_put(v1, "health_profile", "HP-S4",
				 "person_id=001122330005;full_name=A;birth_date=1970-01-01"));
		ASSERT_OK(th_put(hg, "health_profile", "HP-S4",
				 "person_id=001122330005;full_name=A;birth_date=1970-01-01;phone=0911"));
		hand_over(v1, pv);
		hand_over(hg, pv);
		ASSERT_EQ(scoped_write(pv, ENTRY_PUT, "HP-S4", "phone=0922",
				       "bk/c1/v1", 0, why, sizeof(why)),
			  HAMLET_ESCOPE);
		ASSERT_TRUE(strstr(why, "share no part") != NULL);
		node_close(pv);
		node_close(v1);
		node_close(v2);
		node_close(hg);
	}

	TEST_START("writes grouped in one commit: one that fails leaves nothing, the others apply in order");
	{
		struct node *g = th_node(dir, net, "group", "bk/group");
		const char *specs[] = {
			"person_id=001122334401;full_name=First;birth_date=2000-01-01",
			"person_id=001122334402;full_name=Bad;birth_date=2000-01-01;shoe_size=42",
			"full_name=First again",
			"person_id=001122334403;full_name=Third;birth_date=2000-01-01",
		};
		const char *ids[] = { "HP-G1", "HP-G2", "HP-G1", "HP-G3" };
		struct log_op ops[4];
		uint8_t *bodies[4];
		struct log_out gout[4];
		char whys[3][300];
		struct log_write_req reqs[3];
		struct log_author au;
		struct log_advances adv = { 0 };
		uint64_t before;
		char buf[64];

		node_author(g, &au);
		for (int i = 0; i < 4; i++) {
			ops[i] = (struct log_op){ ENTRY_PUT, "health_profile",
						  ids[i], NULL, NULL, 0, 0, NULL, 0 };
			bodies[i] = th_body(specs[i], &ops[i].body_len);
			ops[i].body = bodies[i];
		}
		before = th_count_entries(g);
		/* 1: HP-G1; 2: a bad field; 3: HP-G1 changed, then HP-G3 */
		reqs[0] = (struct log_write_req){ &ops[0], 1, &gout[0], whys[0],
						  sizeof(whys[0]), 0, 0 };
		reqs[1] = (struct log_write_req){ &ops[1], 1, &gout[1], whys[1],
						  sizeof(whys[1]), 0, 0 };
		reqs[2] = (struct log_write_req){ &ops[2], 2, &gout[2], whys[2],
						  sizeof(whys[2]), 0, 0 };
		ASSERT_OK(log_write_group(g->st, &au, reqs, 3, &adv));
		ASSERT_OK(reqs[0].r);
		ASSERT_TRUE(reqs[1].r < 0);
		ASSERT_EQ(reqs[1].failed, 0);
		ASSERT_TRUE(strstr(whys[1], "shoe_size") != NULL);
		ASSERT_OK(reqs[2].r);
		ASSERT_EQ(gout[0].seq, 1);
		ASSERT_EQ(gout[2].seq, 2);
		ASSERT_EQ(gout[3].seq, 3);
		ASSERT_EQ(th_count_entries(g), before + 3);
		ASSERT_STREQ(th_field(g, "health_profile", "HP-G1", "full_name",
				      buf, sizeof(buf)),
			     "First again");
		ASSERT_STREQ(th_field(g, "health_profile", "HP-G3", "full_name",
				      buf, sizeof(buf)),
			     "Third");
		ASSERT_STREQ(th_field(g, "health_profile", "HP-G2", "full_name",
				      buf, sizeof(buf)),
			     "");
		ASSERT_EQ(adv.n, 1);
		ASSERT_EQ(adv.v[0].seq, 3);
		log_advances_close(&adv);

		TEST_START("a group in which every write fails commits nothing");
		reqs[0] = reqs[1];
		ASSERT_OK(log_write_group(g->st, &au, reqs, 1, &adv));
		ASSERT_TRUE(reqs[0].r < 0);
		ASSERT_EQ(adv.n, 0);
		ASSERT_EQ(th_count_entries(g), before + 3);
		for (int i = 0; i < 4; i++)
			free(bodies[i]);
		node_close(g);
	}

	TEST_START("a store that cannot grow refuses a batch whole; one that can grows");
	{
		char home[4096];
		struct store *small;
		struct store_options so = { .map_size = 128 << 10, .map_size_max = 128 << 10 };
		snprintf(home, sizeof(home), "%s/small", dir);
		ASSERT_OK(store_open(home, &so, &small));
		/* a big batch: entries of many records */
		struct node *w = th_node(dir, net, "writer", "bk/w");
		for (int i = 0; i < 60; i++) {
			char id[16], spec[1200], note[1001];
			memset(note, 'x', 1000);
			note[1000] = 0;
			snprintf(id, sizeof(id), "EV-%d", i);
			snprintf(spec, sizeof(spec),
				 "person_id=P;kind=vital;date=2026-01-01;value=%s;note=%s",
				 note, note);
			ASSERT_OK(th_put(w, "health_event", id, spec));
		}
		struct th_pool cw = { 0 };
		th_pool_fill(w, &cw);
		ASSERT_EQ(cw.n, 60);
		int r = log_ingest(small, w->net.id, cw.in, cw.n, out, NULL, NULL);
		ASSERT_EQ(r, HAMLET_EMAPFULL);
		struct store_txn *t;
		uint64_t cnt;
		ASSERT_OK(store_txn_begin(small, 1, &t));
		ASSERT_OK(store_count(t, ST_ENTRIES, &cnt));
		ASSERT_EQ(cnt, 0);
		ASSERT_OK(store_count(t, ST_RECORDS, &cnt));
		ASSERT_EQ(cnt, 0);
		store_txn_abort(t);
		store_close(small);
		struct store_options grow = { .map_size = 128 << 10, .map_size_max = 64 << 20 };
		ASSERT_OK(store_open(home, &grow, &small));
		memset(&st, 0, sizeof(st));
		ASSERT_OK(log_ingest(small, w->net.id, cw.in, cw.n, out, &st, NULL));
		ASSERT_EQ(st.applied, 60);
		store_close(small);
		th_pool_free(&cw);
		node_close(w);
	}

	th_pool_free(&c);
	test_revoke_cut(dir, net);
	test_keep_reads(dir, net);
	node_close(a);
	node_close(b);
	th_rmrf(dir);
	free(net);
	free(dir);
	TEST_DONE();
}
