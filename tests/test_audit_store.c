/*
 * audit: a store copy whose indexes were damaged or edited, every signed
 * row intact. The auditor trusts no index: an erasure the store holds is
 * found from its signed entry, so a body it reaches that is stored again
 * is named (SPEC 1.6); the trust set's index of subjects is held to the
 * signed items; an entry whose row alone was deleted is a gap, named by
 * feed and seq, and the rest is judged.
 */
#include "audit.h"
#include "changes.h"
#include "entries.h"
#include "helpers.h"
#include "report.h"
#include "schema.h"
#include "trustset.h"

/* Erase coll/id as n, writing the entry. */
static void erase(struct node *n, const char *coll, const char *id)
{
	struct log_author a;
	struct log_op op = { ENTRY_ERASE, coll, id, NULL, NULL, 0, 0, NULL, 0 };
	uint8_t *body;
	size_t failed;
	char why[256];

	ASSERT_OK(schema_erase_body("request of the person", &body,
				    &op.body_len));
	op.body = body;
	node_author(n, &a);
	ASSERT_OK(log_write(n->st, &a, &op, 1, NULL, &failed, why, sizeof(why),
			    NULL));
	free(body);
}

/* Delete every row of table tab in n's store. */
static void table_clear(struct node *n, enum store_table tab)
{
	struct store_txn *t;
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	uint8_t keys[64][128];
	size_t kls[64], nk = 0;
	int r;

	ASSERT_OK(store_txn_begin(n->st, 0, &t));
	ASSERT_OK(store_cursor_open(t, tab, &c));
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		ASSERT_TRUE(nk < 64 && kl <= 128);
		memcpy(keys[nk], k, kl);
		kls[nk++] = kl;
	}
	ASSERT_OK(r);
	store_cursor_close(c);
	ASSERT_TRUE(nk > 0);
	for (size_t i = 0; i < nk; i++)
		ASSERT_OK(store_del(t, tab, keys[i], kls[i]));
	ASSERT_OK(store_txn_commit(t));
}

/* How many problems of kind rep names whose text holds s. */
static int named(const struct problems *p, const char *kind, const char *s)
{
	int n = 0;
	for (size_t i = 0; i < p->n; i++)
		n += !strcmp(p->v[i].kind, kind) && strstr(p->v[i].text, s);
	return n;
}

int main(void)
{
	struct node *v, *adm;
	struct bundle_report brep;
	char *dir, *net, why[256], old[4200];

	dir = th_tmpdir();
	net = th_network(dir, "bk");
	v = th_node(dir, net, "v", "bk/c1/v1");
	adm = th_node_bare(dir, net, "adm", "bk/c1");
	th_certify_as(adm, net, "bk/c1", "bk/c1", 0, 1);
	node_grant_refresh(adm);
	ASSERT_OK(th_put(v, "health_profile", "HP-1",
			 "person_id=000000000001;full_name=Lo Van Mot;birth_date=1990-01-01"));
	ASSERT_OK(th_put(v, "health_profile", "HP-1", "allergies=none"));
	ASSERT_OK(th_put(v, "health_profile", "HP-2",
			 "person_id=000000000002;full_name=Ma Thi Hai;birth_date=1990-01-01"));
	th_sync(v, adm, dir);
	/* the bundle v made, as an old stick holds it */
	snprintf(old, sizeof(old), "%s/bundle-v-adm", dir);

	TEST_START("an erasure's bodies stored again behind a damaged index of erasures are named from the signed erasure: a finding, not ok");
	{
		struct audit_report ar;
		erase(adm, "health_profile", "HP-1");
		ASSERT_OK(audit_store(adm->st, adm->net.id, &ar));
		ASSERT_TRUE(!audit_failed(&ar));
		ASSERT_EQ(ar.erased_bodies, 0);
		audit_report_close(&ar);
		/* the index of erasures lost; the old stick imported again
		 * brings the bodies back as duplicates */
		table_clear(adm, ST_ERASED);
		ASSERT_OK(bundle_import(adm, old, &brep, why, sizeof(why)));
		bundle_report_close(&brep);
		ASSERT_OK(audit_store(adm->st, adm->net.id, &ar));
		ASSERT_EQ(ar.erased_bodies, 2);
		ASSERT_TRUE(!audit_damaged(&ar));
		ASSERT_TRUE(audit_findings(&ar));
		ASSERT_EQ(named(&ar.problems, "erased-body",
				"seq 1 (health_profile/HP-1): its body is still stored"),
			  1);
		ASSERT_EQ(named(&ar.problems, "erased-body",
				"seq 2 (health_profile/HP-1): its body is still stored"),
			  1);
		ASSERT_EQ(named(&ar.problems, "erased-body", "HP-2"), 0);
		audit_report_close(&ar);
	}

	TEST_START("the report on that store holds findings too");
	{
		struct report rep;
		ASSERT_OK(report_build(adm->st, adm->net.id, adm->net.root_pk,
				       hlc_wall_ms(), NULL,
				       NULL, &rep));
		ASSERT_EQ(rep.audit.erased_bodies, 2);
		ASSERT_TRUE(report_findings(&rep));
		report_close(&rep);
	}

	TEST_START("the trust set's index of subjects with rows missing, or one too many, is damage named item by item");
	{
		struct audit_report ar;
		struct report rep;
		struct store_txn *t;
		uint64_t items = th_count_rows(adm, ST_TRUST);
		uint8_t row[65];

		ASSERT_TRUE(items >= 2);
		table_clear(adm, ST_TRUSTSUBJ);
		ASSERT_OK(audit_store(adm->st, adm->net.id, &ar));
		ASSERT_EQ(ar.trust_index, items);
		ASSERT_TRUE(audit_damaged(&ar));
		ASSERT_EQ(named(&ar.problems, "trust",
				"has no row in the set's index of subjects"),
			  (int)items);
		audit_report_close(&ar);
		/* a row lending a key no item is about an item */
		ASSERT_OK(store_txn_begin(adm->st, 0, &t));
		{
			struct store_cursor *c;
			const void *k, *val;
			size_t kl, vl;
			ASSERT_OK(store_cursor_open(t, ST_TRUST, &c));
			ASSERT_EQ(store_cursor_seek(c, NULL, 0, &k, &kl, &val,
						    &vl), 1);
			ASSERT_EQ(kl, 33);
			memset(row, 0x5a, 32);
			memcpy(row + 32, k, 33);
			store_cursor_close(c);
		}
		ASSERT_OK(store_put(t, ST_TRUSTSUBJ, row, sizeof(row), "", 0, 0));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(audit_store(adm->st, adm->net.id, &ar));
		ASSERT_EQ(ar.trust_index, items + 1);
		ASSERT_EQ(named(&ar.problems, "trust",
				"and the set holds no such item about that key"),
			  1);
		audit_report_close(&ar);
		/* the report on it is damaged: its accusations rest on it */
		ASSERT_OK(report_build(adm->st, adm->net.id, adm->net.root_pk,
				       hlc_wall_ms(), NULL,
				       NULL, &rep));
		ASSERT_TRUE(audit_damaged(&rep.audit));
		report_close(&rep);
	}

	TEST_START("a store whose root row names another key is damage, and its report judges by the network's root");
	{
		struct audit_report ar;
		struct report rep;
		struct store_txn *t;
		uint8_t forged[32];

		memset(forged, 0x77, sizeof(forged));
		ASSERT_OK(audit_store(v->st, v->net.id, &ar));
		ASSERT_OK(audit_root_check(v->st, v->net.root_pk, &ar));
		ASSERT_EQ(ar.wrong_root, 0);
		ASSERT_TRUE(!audit_damaged(&ar));
		audit_report_close(&ar);
		ASSERT_OK(store_txn_begin(v->st, 0, &t));
		ASSERT_OK(trustset_root_set(t, forged));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(audit_store(v->st, v->net.id, &ar));
		ASSERT_OK(audit_root_check(v->st, v->net.root_pk, &ar));
		ASSERT_EQ(ar.wrong_root, 1);
		ASSERT_TRUE(audit_damaged(&ar));
		ASSERT_EQ(named(&ar.problems, "trust",
				"the store judges certificates by root key 7777777777777777…, not by the network's"),
			  1);
		audit_report_close(&ar);
		ASSERT_OK(report_build(v->st, v->net.id, v->net.root_pk,
				       hlc_wall_ms(), NULL, NULL, &rep));
		ASSERT_TRUE(rep.has_root);
		ASSERT_TRUE(memcmp(rep.root, v->net.root_pk, 32) == 0);
		ASSERT_TRUE(audit_damaged(&rep.audit));
		/* the honest author's chain found, and valid, to the
		 * network's root, whatever root the row names */
		{
			const struct report_author *ra =
				report_author_find(&rep, v->pk);
			ASSERT_TRUE(ra != NULL);
			ASSERT_TRUE(ra->nchains >= 1);
			ASSERT_TRUE(ra->chains[0].valid_now);
		}
		report_close(&rep);
		/* a scratch store's report (root NULL) reads the row */
		ASSERT_OK(report_build(v->st, v->net.id, NULL, hlc_wall_ms(),
				       NULL, NULL, &rep));
		ASSERT_TRUE(memcmp(rep.root, forged, 32) == 0);
		ASSERT_TRUE(!audit_damaged(&rep.audit));
		report_close(&rep);
		ASSERT_OK(store_txn_begin(v->st, 0, &t));
		ASSERT_OK(trustset_root_set(t, v->net.root_pk));
		ASSERT_OK(store_txn_commit(t));
	}

	TEST_START("an erased record's op row naming another entry than the one stored where it points is damage, named by record");
	{
		struct node *w = th_node_bare(dir, net, "w", "bk/c1/w1");
		struct audit_report ar;
		struct store_txn *t;
		struct store_cursor *c;
		const void *k, *val;
		size_t kl, vl, pl;
		uint8_t key[128], row[512], pfx[] = "health_profile\0HP-W\0";
		size_t rl;

		pl = sizeof(pfx) - 1;
		/* an administrator's node: it may erase */
		th_certify_as(w, net, "bk/c1/w1", "bk/c1/w1", 0, 1);
		node_grant_refresh(w);
		ASSERT_OK(th_put(w, "health_profile", "HP-W",
				 "person_id=000000000009;full_name=Lo Van Chin;birth_date=1990-01-01"));
		ASSERT_OK(th_put(w, "health_profile", "HP-W", "allergies=none"));
		erase(w, "health_profile", "HP-W");
		ASSERT_OK(audit_store(w->st, w->net.id, &ar));
		ASSERT_TRUE(!audit_failed(&ar));
		audit_report_close(&ar);
		/* the first op row's entry id, one bit flipped */
		ASSERT_OK(store_txn_begin(w->st, 0, &t));
		ASSERT_OK(store_cursor_open(t, ST_RECOPS, &c));
		ASSERT_EQ(store_cursor_seek(c, pfx, pl, &k, &kl, &val, &vl), 1);
		ASSERT_TRUE(kl > pl && kl <= sizeof(key) && !memcmp(k, pfx, pl) &&
			    vl <= sizeof(row));
		memcpy(key, k, kl);
		memcpy(row, val, vl);
		rl = vl;
		store_cursor_close(c);
		ASSERT_OK(store_del(t, ST_RECOPS, key, kl));
		key[kl - 1] ^= 1;
		ASSERT_OK(store_put(t, ST_RECOPS, key, kl, row, rl, 0));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(audit_store(w->st, w->net.id, &ar));
		ASSERT_TRUE(audit_damaged(&ar));
		ASSERT_EQ(named(&ar.problems, "record",
				"record health_profile/HP-W: an op row names an entry that is not the one stored where it points"),
			  1);
		audit_report_close(&ar);
		node_close(w);
	}

	TEST_START("a change row pointing at another entry than its record's is damage, named by record (the HTTP changes feed and the sink stop there)");
	{
		struct node *x = th_node_bare(dir, net, "x", "bk/c1/x1");
		struct audit_report ar;
		struct store_txn *t;
		uint8_t sk[8], val[8];
		uint64_t seq;

		ASSERT_OK(th_put(x, "health_profile", "HP-X1",
				 "person_id=000000000011;full_name=Lo Van Mot;birth_date=1990-01-01"));
		ASSERT_OK(th_put(x, "health_profile", "HP-X2",
				 "person_id=000000000012;full_name=Lo Van Hai;birth_date=1990-01-01"));
		ASSERT_OK(audit_store(x->st, x->net.id, &ar));
		ASSERT_TRUE(!audit_failed(&ar));
		audit_report_close(&ar);
		/* HP-X1's change row made to point at HP-X2's entry, as a
		 * flipped byte in its value would */
		ASSERT_OK(store_txn_begin(x->st, 0, &t));
		ASSERT_OK(changes_of(t, "health_profile", "HP-X1", &seq));
		{
			const void *v2;
			size_t l2;
			uint64_t seq2;
			uint8_t sk2[8];
			ASSERT_OK(changes_of(t, "health_profile", "HP-X2", &seq2));
			store_be64(sk2, seq2);
			ASSERT_OK(store_get(t, ST_CHANGES, sk2, 8, &v2, &l2));
			ASSERT_EQ(l2, 8);
			memcpy(val, v2, 8);
		}
		store_be64(sk, seq);
		ASSERT_OK(store_put(t, ST_CHANGES, sk, 8, val, 8, 0));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(audit_store(x->st, x->net.id, &ar));
		ASSERT_TRUE(audit_damaged(&ar));
		ASSERT_EQ(named(&ar.problems, "record",
				"record health_profile/HP-X1: its row in the changes table"),
			  1);
		ASSERT_EQ(named(&ar.problems, "record", "HP-X2"), 0);
		audit_report_close(&ar);
		/* and one that points at no entry at all */
		ASSERT_OK(store_txn_begin(x->st, 0, &t));
		memset(val, 0xff, 4);
		ASSERT_OK(store_put(t, ST_CHANGES, sk, 8, val, 8, 0));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(audit_store(x->st, x->net.id, &ar));
		ASSERT_TRUE(audit_damaged(&ar));
		ASSERT_EQ(named(&ar.problems, "record",
				"record health_profile/HP-X1: its row in the changes table"),
			  1);
		audit_report_close(&ar);
		node_close(x);
	}

	TEST_START("one entry row deleted, every page intact: a gap named by feed and seq, and the rest judged");
	{
		struct audit_report ar;
		struct report rep;
		struct store_txn *t;
		uint8_t feed[32], lk[8];
		uint64_t lseq;
		const struct report_author *ra;

		log_feed_key(v->pk, v->scope, feed);
		ASSERT_OK(store_txn_begin(v->st, 0, &t));
		ASSERT_OK(entries_lseq(t, feed, 2, &lseq));
		store_be64(lk, lseq);
		ASSERT_OK(store_del(t, ST_ENTRIES, lk, 8));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(audit_store(v->st, v->net.id, &ar));
		ASSERT_EQ(ar.entries, 2);
		ASSERT_EQ(ar.gaps, 1);
		ASSERT_TRUE(audit_damaged(&ar));
		ASSERT_EQ(named(&ar.problems, "gap", "bk/c1/v1 by "), 1);
		ASSERT_EQ(named(&ar.problems, "gap", "entry 2 is missing"), 1);
		/* the record it was an op of, judged too */
		ASSERT_EQ(named(&ar.problems, "record", "health_profile/HP-1"),
			  1);
		audit_report_close(&ar);
		ASSERT_OK(report_build(v->st, v->net.id, v->net.root_pk,
				       hlc_wall_ms(), NULL,
				       NULL, &rep));
		ASSERT_TRUE((ra = report_author_find(&rep, v->pk)) != NULL);
		ASSERT_EQ(ra->nfeeds, 1);
		ASSERT_EQ(ra->feeds[0].entries, 2);
		ASSERT_EQ(ra->feeds[0].missing, 1);
		report_close(&rep);
	}

	TEST_START("held entries are counted as walked: a count of the table altered on disk is damage, not a figure taken");
	{
		struct node *src = th_node(dir, net, "src", "bk/c1/v2");
		struct node *h = th_node(dir, net, "h", "bk/c1");
		struct audit_report ar;
		struct th_pool c = { 0 };
		struct log_out out[2];
		struct log_stats st;
		struct log_advances adv = { 0 };
		struct log_in in[2];
		char path[4200];
		uint8_t *b;
		size_t bl, patched = 0;
		/* a named table's row in LMDB's main table: node header
		 * (data size 48, F_SUBDATA, key size 7), "pending", then
		 * its MDB_db, whose md_entries is 32 bytes in */
		static const uint8_t row[] = { 48, 0, 0, 0, 2, 0, 7, 0,
					       'p', 'e', 'n', 'd', 'i', 'n', 'g' };

		for (int i = 1; i <= 3; i++) {
			char id[16], spec[128];
			snprintf(id, sizeof(id), "HP-H%d", i);
			snprintf(spec, sizeof(spec),
				 "person_id=00000000009%d;full_name=H%d;birth_date=2000-01-01",
				 i, i);
			ASSERT_OK(th_put(src, "health_profile", id, spec));
		}
		th_pool_fill(src, &c);
		ASSERT_EQ(c.n, 3);
		in[0] = c.in[1];
		in[1] = c.in[2];
		ASSERT_OK(log_ingest(h->st, h->net.id, in, 2, out, &st, &adv));
		log_advances_close(&adv);
		ASSERT_EQ(st.held, 2);
		ASSERT_OK(audit_store(h->st, h->net.id, &ar));
		ASSERT_EQ(ar.held, 2);
		ASSERT_TRUE(!audit_damaged(&ar));
		audit_report_close(&ar);
		node_close(h);

		snprintf(path, sizeof(path), "%s/h/store/data.mdb", dir);
		b = th_slurp(path, &bl);
		for (size_t i = 0; i + sizeof(row) + 48 <= bl; i++) {
			uint64_t e;
			if (memcmp(b + i, row, sizeof(row)) != 0)
				continue;
			memcpy(&e, b + i + sizeof(row) + 32, 8);
			if (e != 2)
				continue;
			e = 7;
			memcpy(b + i + sizeof(row) + 32, &e, 8);
			patched++;
		}
		ASSERT_TRUE(patched > 0);
		th_spit(path, b, bl);
		free(b);
		snprintf(path, sizeof(path), "%s/h", dir);
		ASSERT_OK(node_open(path, 1, &h, why, sizeof(why)));
		ASSERT_OK(audit_store(h->st, h->net.id, &ar));
		ASSERT_EQ(ar.held, 2);
		ASSERT_EQ(ar.held_counted, 7);
		ASSERT_TRUE(audit_damaged(&ar));
		ASSERT_EQ(named(&ar.problems, "held",
				"count of its held entries says 7, and it holds 2"),
			  1);
		audit_report_close(&ar);
		node_close(h);
		node_close(src);
		th_pool_free(&c);
	}

	node_close(v);
	node_close(adm);
	th_rmrf(dir);
	free(net);
	free(dir);
	TEST_DONE();
}
