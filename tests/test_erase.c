/*
 * Erasure (SPEC §1.6) through the one path of the log: an administrator
 * erases a record and its bodies are gone from the store's file, the
 * other records untouched; a village's erasure is refused, written
 * locally or arriving; the root may erase; an erasure that arrives
 * before the record's entries keeps their bodies out; held entries lose
 * theirs; the state digest stays what the records hash to.
 */
#include "bytes.h"
#include "bodyz.h"
#include "entries.h"
#include "helpers.h"

#include "hlc.h"
#include "schema.h"
#include "store.h"

#include <errno.h>

static const char *dir;

/* 1 when the file at path holds the bytes of s. */
static int file_has(const char *path, const char *s)
{
	FILE *f = fopen(path, "rb");
	size_t n = strlen(s), len = 0, cap = 0, got;
	char *buf = NULL;
	int found = 0;

	ASSERT_TRUE(f != NULL);
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = realloc(buf, cap);
			ASSERT_TRUE(buf != NULL);
		}
		if ((got = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += got;
	}
	fclose(f);
	for (size_t i = 0; i + n <= len && !found; i++)
		found = memcmp(buf + i, s, n) == 0;
	free(buf);
	return found;
}

static int store_has(struct node *n, const char *s)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/store/data.mdb", n->home);
	return file_has(p, s);
}

static int erase(struct node *n, const char *coll, const char *id,
		 const char *reason, char *why, size_t wl)
{
	struct log_author a;
	struct log_op op = { ENTRY_ERASE, coll, id, NULL, NULL, 0, 0, NULL, 0 };
	uint8_t *body;
	size_t failed;
	int r;

	ASSERT_OK(schema_erase_body(reason, &body, &op.body_len));
	op.body = body;
	node_author(n, &a);
	r = log_write(n->st, &a, &op, 1, NULL, &failed, why, wl, NULL);
	free(body);
	return r;
}

static int erased(struct node *n, const char *coll, const char *id)
{
	struct store_txn *t;
	struct record_view v;
	int r;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(record_view_load(t, coll, id, &v));
	r = v.erased;
	record_view_close(&v);
	store_txn_abort(t);
	return r;
}

/* 1 when coll/id is live and its field name holds the string val. */
static int field_is(struct node *n, const char *coll, const char *id,
		    const char *name, const char *val)
{
	struct store_txn *t;
	struct record_view v;
	int r = 0;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(record_view_load(t, coll, id, &v));
	for (uint32_t i = 0; !v.erased && v.fields &&
			     i < v.fields->via.map.size; i++) {
		const msgpack_object_kv *kv = &v.fields->via.map.ptr[i];
		if (kv->key.type == MSGPACK_OBJECT_STR &&
		    kv->val.type == MSGPACK_OBJECT_STR &&
		    kv->key.via.str.size == strlen(name) &&
		    memcmp(kv->key.via.str.ptr, name, strlen(name)) == 0 &&
		    kv->val.via.str.size == strlen(val) &&
		    memcmp(kv->val.via.str.ptr, val, strlen(val)) == 0)
			r = 1;
	}
	record_view_close(&v);
	store_txn_abort(t);
	return r;
}

/* An erasure as it travels: envelope, signature, body (malloc'd). */
struct erasure {
	uint8_t *env, sig[64], *body;
	size_t el, bl;
};

/* An erasure of coll/id in scope signed by (pk, sk), next in its feed as
 * n holds it. */
static void craft_erasure(struct node *n, const uint8_t *pk,
			  const uint8_t *sk, const char *scope,
			  const char *coll, const char *id, struct erasure *x)
{
	struct entry e;

	memset(&e, 0, sizeof(e));
	memcpy(e.network_id, n->net.id, 32);
	memcpy(e.author, pk, 32);
	snprintf(e.scope, sizeof(e.scope), "%s", scope);
	{
		struct store_txn *t;
		struct log_feed f;
		log_feed_key(pk, scope, f.key);
		ASSERT_OK(store_txn_begin(n->st, 1, &t));
		if (log_feed_get(t, f.key, &f) < 0)
			f.seq = 0;
		store_txn_abort(t);
		e.seq = f.seq + 1; /* next in its feed as n holds it */
		e.has_prev = f.seq > 0;
		if (e.has_prev)
			memcpy(e.prev, f.head, 32);
	}
	e.hlc = hlc_next(0, hlc_wall_ms());
	e.kind = ENTRY_ERASE;
	snprintf(e.collection, sizeof(e.collection), "%s", coll);
	snprintf(e.record_id, sizeof(e.record_id), "%s", id);
	ASSERT_OK(schema_erase_body("crafted", &x->body, &x->bl));
	e.has_body = 1;
	e.body_len = x->bl;
	entry_body_hash(x->body, x->bl, e.body_hash);
	ASSERT_OK(entry_encode(&e, &x->env, &x->el));
	ASSERT_OK(entry_sign(x->env, x->el, sk, x->sig));
}

/* Hand x to n as from a peer: its fate. */
static struct log_out ingest_one(struct node *n, const struct erasure *x)
{
	struct log_in in = { x->env, x->el, x->sig, x->body, x->bl, NULL, 0, NULL };
	struct log_out out;
	ASSERT_OK(log_ingest(n->st, n->net.id, &in, 1, &out, NULL, NULL));
	return out;
}

static void erasure_free(struct erasure *x)
{
	free(x->env);
	free(x->body);
}

/* x as a peer sends it without its body (sharing x's envelope). */
static struct erasure bare_of(const struct erasure *x)
{
	struct erasure b = *x;
	b.body = NULL;
	b.bl = 0;
	return b;
}

/* craft_erasure of bk/c1/v1's coll/id, signed by the root (root_key). */
static void craft_by_root(struct node *n, const char *root_key,
			  const char *id, struct erasure *x)
{
	uint8_t nid[32], rpk[32], *rsk;
	char why[512];
	ASSERT_OK(root_key_load(root_key, nid, rpk, &rsk, why, sizeof(why)));
	craft_erasure(n, rpk, rsk, "bk/c1/v1", "health_profile", id, x);
	sodium_free(rsk);
}

/* craft_erasure, handed to n at once. */
static struct log_out ingest_erasure(struct node *n, const uint8_t *pk,
				     const uint8_t *sk, const char *scope,
				     const char *coll, const char *id)
{
	struct erasure x;
	struct log_out out;
	craft_erasure(n, pk, sk, scope, coll, id, &x);
	out = ingest_one(n, &x);
	erasure_free(&x);
	return out;
}

/* The record's op rows match its records row: none when the row names
 * its one op (0x01 after the change seq), else one for each op. */
static int ops_consistent(struct node *n, const char *coll, const char *id)
{
	uint8_t pfx[RECORD_KEY_MAX + 1];
	size_t pl = record_key(coll, id, pfx), vl, kl, rows = 0;
	struct store_cursor *c = NULL;
	struct record_view view;
	struct store_txn *t;
	const void *v, *k;
	struct bytes_reader br;
	uint64_t cseq;
	int ok = 0, one;

	pfx[pl++] = 0;
	if (store_txn_begin(n->st, 1, &t) < 0)
		return 0;
	if (store_get(t, ST_RECORDS, pfx, pl - 1, &v, &vl) < 0)
		goto out;
	/* the change seq, a varint, then the state */
	bytes_reader_init(&br, v, vl);
	if (bytes_get_varint(&br, &cseq) < 0 || bytes_remaining(&br) == 0)
		goto out;
	one = ((const uint8_t *)v)[bytes_offset(&br)] == 0x01;
	if (store_cursor_open(t, ST_RECOPS, &c) < 0)
		goto out;
	for (int r = store_cursor_seek(c, pfx, pl, &k, &kl, NULL, NULL);
	     r == 1 && kl > pl && memcmp(k, pfx, pl) == 0;
	     r = store_cursor_next(c, &k, &kl, NULL, NULL))
		rows++;
	store_cursor_close(c);
	if (record_view_load(t, coll, id, &view) < 0)
		goto out;
	ok = one ? rows == 0 && view.nops == 1 : rows == view.nops && rows > 1;
	record_view_close(&view);
out:
	store_txn_abort(t);
	return ok;
}

/* Entry seq of feed (pk, scope) as n stores it: envelope, signature and
 * body (NULL when not held), copied (malloc'd). */
static void entry_copy(struct node *n, const uint8_t *pk, const char *scope,
		       uint64_t seq, struct erasure *x)
{
	struct store_txn *t;
	struct bodyz_buf zb = { 0 };
	struct log_entry_full f;
	uint8_t fk[32];

	log_feed_key(pk, scope, fk);
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(log_entry_read(t, fk, seq, &zb, &f));
	x->el = f.env_len;
	x->env = malloc(x->el);
	memcpy(x->env, f.env, x->el);
	memcpy(x->sig, f.sig, 64);
	x->body = NULL;
	x->bl = 0;
	if (f.body) {
		x->bl = f.body_len;
		x->body = malloc(x->bl);
		memcpy(x->body, f.body, x->bl);
	}
	store_txn_abort(t);
	bodyz_buf_free(&zb);
}

/* The reason coll/id is erased with on n ("" when live). */
static void erase_reason(struct node *n, const char *coll, const char *id,
			 char *out, size_t cap)
{
	struct store_txn *t;
	struct record_view v;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(record_view_load(t, coll, id, &v));
	snprintf(out, cap, "%s", v.erased ? v.erase_reason : "");
	record_view_close(&v);
	store_txn_abort(t);
}

int main(void)
{
	char why[512], root_path[4200];
	char *net;
	struct node *v, *adm, *r2, *r3;
	uint8_t nid[32], rpk[32], *rsk;

	dir = th_tmpdir();
	net = th_network(dir, "bk");
	snprintf(root_path, sizeof(root_path), "%s/bk.root.key", dir);
	v = th_node(dir, net, "v", "bk/c1/v1");
	adm = th_node_bare(dir, net, "adm", "bk/c1");
	th_certify_as(adm, net, "bk/c1", "bk/c1", 0, 1);
	node_grant_refresh(adm);
	r2 = th_node(dir, net, "r2", "bk");
	r3 = th_node(dir, net, "r3", "bk");

	TEST_START("an administrator erases a record: its bodies leave the file");
	ASSERT_OK(th_put(v, "health_profile", "HP-1",
			 "person_id=000000000001;full_name=Lo MARKERaa1;birth_date=1990-01-01"));
	ASSERT_OK(th_put(v, "health_profile", "HP-1", "allergies=MARKERaa2"));
	ASSERT_OK(th_put(v, "health_profile", "HP-2",
			 "person_id=000000000002;full_name=Ma KEEPbb1;birth_date=1990-01-01"));
	th_sync(v, adm, dir);
	ASSERT_TRUE(store_has(adm, "MARKERaa1") && store_has(adm, "MARKERaa2"));
	ASSERT_OK(erase(adm, "health_profile", "HP-1", "request of the person",
			why, sizeof(why)));
	ASSERT_TRUE(erased(adm, "health_profile", "HP-1"));
	ASSERT_TRUE(!erased(adm, "health_profile", "HP-2"));
	ASSERT_TRUE(!store_has(adm, "MARKERaa1"));
	ASSERT_TRUE(!store_has(adm, "MARKERaa2"));
	ASSERT_TRUE(store_has(adm, "KEEPbb1"));
	ASSERT_TRUE(store_has(adm, "request of the person"));
	{
		uint8_t d[32];
		th_digest(adm, d); /* kept digest = recomputed */
	}
	ASSERT_EQ(erase(adm, "health_profile", "HP-1", "again", why,
			sizeof(why)), HAMLET_EERASED);
	ASSERT_EQ(th_put(adm, "health_profile", "HP-1", "phone=0912000001"),
		  HAMLET_EERASED);

	TEST_START("a village may not erase, written here or arriving");
	ASSERT_EQ(erase(v, "health_profile", "HP-2", "no right", why,
			sizeof(why)), HAMLET_ECERT);
	ASSERT_TRUE(strstr(why, "administrator") != NULL);
	{
		struct log_out o = ingest_erasure(adm, v->pk, v->sk, "bk/c1/v1",
						  "health_profile", "HP-2");
		ASSERT_EQ(o.status, LOG_REJECTED);
		ASSERT_EQ(o.err, HAMLET_ECERT);
		ASSERT_TRUE(strstr(o.why, "erase") != NULL);
		ASSERT_TRUE(!erased(adm, "health_profile", "HP-2"));
		ASSERT_TRUE(store_has(adm, "KEEPbb1"));
	}

	TEST_START("an erasure that arrives first keeps the bodies out");
	th_sync(adm, r2, dir); /* the erasure and the entries, body-less */
	ASSERT_TRUE(erased(r2, "health_profile", "HP-1"));
	ASSERT_TRUE(!store_has(r2, "MARKERaa1"));
	th_sync(v, r2, dir); /* now the village's own copy, with bodies */
	ASSERT_TRUE(erased(r2, "health_profile", "HP-1"));
	ASSERT_TRUE(!store_has(r2, "MARKERaa1"));
	ASSERT_TRUE(!store_has(r2, "MARKERaa2"));
	ASSERT_TRUE(store_has(r2, "KEEPbb1"));
	TH_ASSERT_SAME_STATE(adm, r2);

	TEST_START("the village receives the erasure: its own bodies go");
	th_sync(adm, v, dir);
	ASSERT_TRUE(erased(v, "health_profile", "HP-1"));
	ASSERT_TRUE(!store_has(v, "MARKERaa1"));
	ASSERT_TRUE(!store_has(v, "MARKERaa2"));
	TH_ASSERT_SAME_STATE(adm, v);

	TEST_START("the root may erase");
	ASSERT_OK(root_key_load(root_path, nid, rpk, &rsk, why, sizeof(why)));
	th_sync(v, r3, dir);
	ASSERT_TRUE(store_has(r3, "KEEPbb1"));
	{
		struct log_out o = ingest_erasure(r3, rpk, rsk, "bk/c1/v1",
						  "health_profile", "HP-2");
		ASSERT_EQ(o.status, LOG_APPLIED);
		ASSERT_TRUE(erased(r3, "health_profile", "HP-2"));
		ASSERT_TRUE(!store_has(r3, "KEEPbb1"));
	}
	sodium_free(rsk);

	TEST_START("an erasure that arrives before any write of its record: one op, then the write comes and is erased");
	{
		struct node *r4 = th_node(dir, net, "r4", "bk");
		struct log_out o = ingest_erasure(r4, adm->pk, adm->sk, "bk/c1",
						  "health_profile", "HP-4");
		ASSERT_EQ(o.status, LOG_APPLIED);
		ASSERT_TRUE(ops_consistent(r4, "health_profile", "HP-4"));
		/* known by its erasure alone: erased, not a live record of
		 * no fields (SPEC §1.6) */
		ASSERT_TRUE(erased(r4, "health_profile", "HP-4"));
		ASSERT_OK(th_put(v, "health_profile", "HP-4",
				 "person_id=000000000004;full_name=MARKERdd4;birth_date=1990-01-01"));
		th_sync(v, r4, dir);
		ASSERT_TRUE(erased(r4, "health_profile", "HP-4"));
		ASSERT_TRUE(!store_has(r4, "MARKERdd4"));
		ASSERT_TRUE(ops_consistent(r4, "health_profile", "HP-4"));
		ASSERT_TRUE(ops_consistent(r4, "health_profile", "HP-1"));
		ASSERT_TRUE(ops_consistent(r2, "health_profile", "HP-1"));
		ASSERT_TRUE(ops_consistent(r2, "health_profile", "HP-2"));
		{
			struct audit_report ar;
			ASSERT_OK(audit_store(r4->st, r4->net.id, &ar));
			ASSERT_TRUE(!audit_failed(&ar));
			audit_report_close(&ar);
		}
		node_close(r4);
	}

	TEST_START("a store an earlier release filled with a record of its erasures alone is made again once, its digest summed again");
	{
		struct node *r6 = th_node(dir, net, "r6", "bk");
		struct node *r7 = th_node(dir, net, "r7", "bk");
		struct store_txn *t;
		struct audit_report ar;
		uint8_t junk[40];
		struct erasure x1, x2;
		/* two erasures of HP-6, in two scopes, and no write of it */
		craft_erasure(r6, adm->pk, adm->sk, "bk/c1", "health_profile",
			      "HP-6", &x1);
		ASSERT_EQ(ingest_one(r6, &x1).status, LOG_APPLIED);
		craft_erasure(r6, adm->pk, adm->sk, "bk/c1", "health_profile",
			      "HP-6", &x2);
		ASSERT_EQ(ingest_one(r6, &x2).status, LOG_APPLIED);
		ASSERT_EQ(ingest_one(r7, &x1).status, LOG_APPLIED);
		ASSERT_EQ(ingest_one(r7, &x2).status, LOG_APPLIED);
		ASSERT_TRUE(erased(r6, "health_profile", "HP-6"));
		/* as an earlier release left it: a digest summed under the
		 * earlier rule, and no mark of the pass */
		memset(junk, 0x5a, sizeof(junk));
		ASSERT_OK(store_txn_begin(r6->st, 0, &t));
		ASSERT_OK(store_put(t, ST_META, "digest", 6, junk, 40, 0));
		ASSERT_OK(store_del(t, ST_META, "erased_parts_v2", 15));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(audit_store(r6->st, r6->net.id, &ar));
		ASSERT_TRUE(audit_failed(&ar));
		audit_report_close(&ar);
		ASSERT_OK(log_erased_alone_upgrade(r6->st));
		ASSERT_OK(audit_store(r6->st, r6->net.id, &ar));
		ASSERT_TRUE(!audit_failed(&ar));
		audit_report_close(&ar);
		TH_ASSERT_SAME_STATE(r6, r7);
		ASSERT_TRUE(erased(r6, "health_profile", "HP-6"));
		/* once: the mark stays, and a later opening does nothing */
		ASSERT_OK(store_txn_begin(r6->st, 0, &t));
		ASSERT_OK(store_put(t, ST_META, "digest", 6, junk, 40, 0));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(log_erased_alone_upgrade(r6->st));
		ASSERT_OK(audit_store(r6->st, r6->net.id, &ar));
		ASSERT_TRUE(audit_failed(&ar));
		audit_report_close(&ar);
		erasure_free(&x1);
		erasure_free(&x2);
		node_close(r6);
		node_close(r7);
	}

	TEST_START("an erasure reaches only entries under its scope");
	{
		struct node *c2 = th_node_bare(dir, net, "c2", "bk/c2");
		th_certify_as(c2, net, "bk", "bk/c2", 0, 1);
		node_grant_refresh(c2);
		/* c2 writes its own record HP-3, then erases HP-3 from
		 * another commune's scope, which is not its to erase */
		ASSERT_OK(th_put(c2, "health_profile", "HP-3",
				 "person_id=000000000003;full_name=MARKERcc3;birth_date=1990-01-01"));
		struct log_out o = ingest_erasure(c2, adm->pk, adm->sk, "bk/c1",
						  "health_profile", "HP-3");
		/* adm may erase in bk/c1: stored, but HP-3's entries lie in
		 * bk/c2, out of its reach */
		ASSERT_EQ(o.status, LOG_APPLIED);
		ASSERT_TRUE(store_has(c2, "MARKERcc3"));
		ASSERT_TRUE(!erased(c2, "health_profile", "HP-3"));
		node_close(c2);
	}

	TEST_START("an erasure reaches the same entries whatever order they arrive in, and erases only the part written under its scope");
	{
		struct node *w = th_node(dir, net, "w", "bk/c2/v2");
		struct node *n1 = th_node(dir, net, "n1", "bk");
		struct node *n2 = th_node(dir, net, "n2", "bk");
		struct erasure x;
		/* one record written in two villages of two communes */
		ASSERT_OK(th_put(v, "health_profile", "HP-9",
				 "person_id=000000000009;full_name=MARKERp1;birth_date=1990-01-01"));
		ASSERT_OK(th_put(w, "health_profile", "HP-9",
				 "person_id=000000000009;full_name=MARKERp2;birth_date=1990-01-01"));
		th_sync(v, adm, dir);
		/* c1's administrator erases it in c1's village: reaches the
		 * entry written there, not the other commune's */
		craft_erasure(adm, adm->pk, adm->sk, "bk/c1/v1",
			      "health_profile", "HP-9", &x);
		ASSERT_EQ(ingest_one(adm, &x).status, LOG_APPLIED);
		/* n1: the other commune's entry, the erasure, then c1's */
		th_sync(w, n1, dir);
		th_sync(adm, n1, dir);
		th_sync(v, n1, dir);
		/* n2: both entries, then the erasure */
		th_sync(v, n2, dir);
		th_sync(w, n2, dir);
		th_sync(adm, n2, dir);
		/* the other commune's part is live, at every node that
		 * holds it, as at the village that wrote it */
		ASSERT_TRUE(!erased(n1, "health_profile", "HP-9"));
		ASSERT_TRUE(!erased(n2, "health_profile", "HP-9"));
		ASSERT_TRUE(field_is(n1, "health_profile", "HP-9", "full_name",
				     "MARKERp2"));
		ASSERT_TRUE(field_is(n2, "health_profile", "HP-9", "full_name",
				     "MARKERp2"));
		ASSERT_TRUE(erased(adm, "health_profile", "HP-9"));
		ASSERT_TRUE(!store_has(n1, "MARKERp1"));
		ASSERT_TRUE(!store_has(n2, "MARKERp1"));
		ASSERT_TRUE(store_has(n1, "MARKERp2"));
		ASSERT_TRUE(store_has(n2, "MARKERp2"));
		TH_ASSERT_SAME_STATE(n1, n2);
		erasure_free(&x);
		node_close(w);
		node_close(n1);
		node_close(n2);
	}

	TEST_START("a local erasure is written where it reaches every entry of the record");
	{
		struct node *prov = th_node_bare(dir, net, "prov", "bk");
		th_certify_as(prov, net, "bk", "bk", 0, 1);
		node_grant_refresh(prov);
		/* x reads the province, writes in commune c1 */
		struct node *x = th_node_bare(dir, net, "x", "bk/c1");
		th_certify_as(x, net, "bk", "bk/c1", 0, 0);
		node_grant_refresh(x);
		/* the province writes HP-7 in bk; x edits it in its own scope
		 * bk/c1 (the record's lies above it) */
		ASSERT_OK(th_put(prov, "health_profile", "HP-7",
				 "person_id=000000000007;full_name=MARKERq1;birth_date=1990-01-01"));
		th_sync(prov, x, dir);
		ASSERT_OK(th_put(x, "health_profile", "HP-7", "allergies=MARKERq2"));
		th_sync(x, prov, dir);
		ASSERT_TRUE(store_has(prov, "MARKERq2"));
		/* the newest head is x's, in bk/c1: the erasure must still be
		 * written in bk, to reach the province's own entry too */
		ASSERT_OK(erase(prov, "health_profile", "HP-7", "request",
				why, sizeof(why)));
		ASSERT_TRUE(!store_has(prov, "MARKERq1"));
		ASSERT_TRUE(!store_has(prov, "MARKERq2"));
		th_sync(prov, x, dir);
		ASSERT_TRUE(erased(x, "health_profile", "HP-7"));
		ASSERT_TRUE(!store_has(x, "MARKERq1"));
		ASSERT_TRUE(!store_has(x, "MARKERq2"));
		node_close(x);
		node_close(prov);
	}

	TEST_START("with another process's handle open, the rewrite waits, then happens");
	{
		struct node *rd;
		char w2[512];
		ASSERT_OK(th_put(v, "health_profile", "HP-5",
				 "person_id=000000000005;full_name=MARKERr5;birth_date=1990-01-01"));
		th_sync(v, adm, dir);
		/* a reader of adm's store, as the CLI is while hamletd runs */
		ASSERT_OK(node_open(adm->home, 1, &rd, w2, sizeof(w2)));
		ASSERT_OK(erase(adm, "health_profile", "HP-5", "request", why,
				sizeof(why)));
		ASSERT_TRUE(erased(adm, "health_profile", "HP-5"));
		ASSERT_TRUE(store_compact_wanted(adm->st));
		ASSERT_TRUE(store_has(adm, "MARKERr5")); /* not yet */
		ASSERT_EQ(store_compact_retry(adm->st), -EBUSY);
		node_close(rd);
		ASSERT_OK(store_compact_retry(adm->st));
		ASSERT_TRUE(!store_compact_wanted(adm->st));
		ASSERT_TRUE(!store_has(adm, "MARKERr5"));
		ASSERT_TRUE(erased(adm, "health_profile", "HP-5"));
	}

	TEST_START("an entry that came without its body gets it when it comes again with it (an erased record's does not: above)");
	{
		struct node *r4 = th_node(dir, net, "fill", "bk");
		uint8_t fk[32], *env, *body, sig[64];
		size_t el, bl;
		struct store_txn *t;
		struct entries_row row;
		struct bodyz_buf zb = { 0 };
		const void *b;
		struct log_out out;
		struct log_in in;
		struct log_feed f;
		th_sync(v, r4, dir); /* everything before it, whole */
		TH_ASSERT_SAME_STATE(v, r4);
		ASSERT_OK(th_put(v, "health_profile", "HP-7",
				 "person_id=000000000007;full_name=Lo FILLcc7;birth_date=1990-01-01"));
		log_feed_key(v->pk, "bk/c1/v1", fk);
		ASSERT_OK(store_txn_begin(v->st, 1, &t));
		ASSERT_OK(log_feed_get(t, fk, &f));
		ASSERT_OK(entries_get(t, fk, f.seq, &row));
		ASSERT_OK(entries_row_body(t, &row, &zb, &b, &bl));
		el = row.env_len;
		env = malloc(el);
		body = malloc(bl);
		memcpy(env, row.env, el);
		memcpy(sig, row.sig, 64);
		memcpy(body, b, bl);
		store_txn_abort(t);
		bodyz_buf_free(&zb);
		/* the newest entry again, as a peer sends it without its body */
		in = (struct log_in){ env, el, sig, NULL, 0, NULL, 0, NULL };
		ASSERT_OK(log_ingest(r4->st, r4->net.id, &in, 1, &out, NULL, NULL));
		ASSERT_EQ(out.status, LOG_APPLIED);
		ASSERT_TRUE(!store_has(r4, "FILLcc7"));
		/* and with it: a duplicate entry, whose body is kept now */
		in = (struct log_in){ env, el, sig, body, bl, NULL, 0, NULL };
		ASSERT_OK(log_ingest(r4->st, r4->net.id, &in, 1, &out, NULL, NULL));
		ASSERT_EQ(out.status, LOG_DUPLICATE);
		ASSERT_TRUE(store_has(r4, "FILLcc7"));
		TH_ASSERT_SAME_STATE(v, r4);
		{
			struct audit_report ar;
			ASSERT_OK(audit_store(r4->st, r4->net.id, &ar));
			ASSERT_TRUE(!audit_failed(&ar));
			audit_report_close(&ar);
		}
		free(env);
		free(body);
		node_close(r4);
	}

	TEST_START("an entry held without its body gets it when it comes again with it while still held");
	{
		struct node *r4 = th_node(dir, net, "held-fill", "bk");
		struct erasure p1, p2, bare;
		struct log_feed f;
		struct store_txn *t;
		uint8_t fk[32];
		th_sync(v, r4, dir); /* everything before them, whole */
		ASSERT_OK(th_put(v, "health_profile", "HP-8",
				 "person_id=000000000008;full_name=Lo HELDee8;birth_date=1990-01-01"));
		ASSERT_OK(th_put(v, "health_profile", "HP-8",
				 "full_name=Lo HELDff8"));
		log_feed_key(v->pk, "bk/c1/v1", fk);
		ASSERT_OK(store_txn_begin(v->st, 1, &t));
		ASSERT_OK(log_feed_get(t, fk, &f));
		store_txn_abort(t);
		entry_copy(v, v->pk, "bk/c1/v1", f.seq - 1, &p1);
		entry_copy(v, v->pk, "bk/c1/v1", f.seq, &p2);
		ASSERT_TRUE(p1.body && p2.body);
		/* the second first, without its body, then with it: held */
		bare = bare_of(&p2);
		ASSERT_EQ(ingest_one(r4, &bare).status, LOG_HELD);
		ASSERT_EQ(ingest_one(r4, &p2).status, LOG_HELD);
		/* the gap fills: the second is stored with its body */
		ASSERT_EQ(ingest_one(r4, &p1).status, LOG_APPLIED);
		ASSERT_TRUE(store_has(r4, "HELDff8"));
		ASSERT_TRUE(field_is(r4, "health_profile", "HP-8", "full_name",
				     "Lo HELDff8"));
		TH_ASSERT_SAME_STATE(v, r4);
		erasure_free(&p1);
		erasure_free(&p2);
		node_close(r4);
	}

	TEST_START("an erasure that came without its body gets it, its reason, when it comes again with it");
	{
		struct node *r5 = th_node(dir, net, "era-bare", "bk");
		struct node *r6 = th_node(dir, net, "era-whole", "bk");
		struct erasure x, bare;
		char reason[128];
		craft_by_root(r5, root_path, "HP-9", &x);
		bare = bare_of(&x);
		ASSERT_EQ(ingest_one(r5, &bare).status, LOG_APPLIED);
		ASSERT_EQ(ingest_one(r5, &x).status, LOG_DUPLICATE);
		ASSERT_EQ(ingest_one(r6, &x).status, LOG_APPLIED);
		erase_reason(r6, "health_profile", "HP-9", reason,
			     sizeof(reason));
		ASSERT_STREQ(reason, "crafted");
		erase_reason(r5, "health_profile", "HP-9", reason,
			     sizeof(reason));
		ASSERT_STREQ(reason, "crafted");
		TH_ASSERT_SAME_STATE(r5, r6);
		/* held the same way: without its body, then with it */
		{
			struct node *r7 = th_node(dir, net, "era-held", "bk");
			struct erasure y, ybare;
			struct log_in in[2];
			struct log_out out[2];
			craft_by_root(r6, root_path, "HP-10", &y);
			ASSERT_EQ(ingest_one(r6, &y).status, LOG_APPLIED);
			ybare = bare_of(&y);
			ASSERT_EQ(ingest_one(r7, &ybare).status, LOG_HELD);
			ASSERT_EQ(ingest_one(r7, &y).status, LOG_HELD);
			in[0] = (struct log_in){ x.env, x.el, x.sig, x.body,
						 x.bl, NULL, 0, NULL };
			ASSERT_OK(log_ingest(r7->st, r7->net.id, in, 1, out,
					     NULL, NULL));
			ASSERT_EQ(out[0].status, LOG_APPLIED);
			erase_reason(r7, "health_profile", "HP-10", reason,
				     sizeof(reason));
			ASSERT_STREQ(reason, "crafted");
			TH_ASSERT_SAME_STATE(r6, r7);
			erasure_free(&y);
			node_close(r7);
		}
		erasure_free(&x);
		node_close(r5);
		node_close(r6);
	}

	node_close(v);
	node_close(adm);
	node_close(r2);
	node_close(r3);
	th_rmrf(dir);
	free(net);
	free((char *)dir);
	TEST_DONE();
}
