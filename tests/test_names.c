/* names: who a key is, from the trust set's certificates, this node's
 * node.conf as a claim, or nobody; the labels and JSON fields shown. */
#include "hlc.h"
#include "log.h"
#include "names.h"
#include "helpers.h"

static struct names_who who_in(struct node *n, const uint8_t key[32],
			       uint64_t now)
{
	struct store_txn *t;
	struct names_who w;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(names_lookup(t, key, now, &w));
	store_txn_abort(t);
	return w;
}

int main(void)
{
	char *dir = th_tmpdir();
	char *net = th_network(dir, "bk");
	struct node *c = th_node(dir, net, "c1", "bk/c1");
	struct node *v = th_node_bare(dir, net, "v1", "bk/c1/v1");
	struct node *x = th_node_bare(dir, net, "x9", "bk/x9");
	uint64_t now = hlc_wall_ms();
	struct names_who w;
	char label[NAMES_LABEL_MAX], hex[65];

	th_certify(v, net, "bk/c1/v1", "bk/c1/v1", now + 86400000ull);

	TEST_START("a key with a certificate in the trust set is named by it: name and first write scope");
	w = who_in(c, v->pk, now);
	ASSERT_EQ(w.source, NAMES_CERT);
	ASSERT_STREQ(w.name, "v1");
	ASSERT_STREQ(w.scope, "bk/c1/v1");
	ASSERT_EQ(w.role, CERT_VILLAGE);
	names_label(&w, v->pk, 0, label);
	ASSERT_STREQ(label, "v1 (bk/c1/v1)");

	TEST_START("with keys, the label carries the whole key too");
	hex_encode(v->pk, 32, hex);
	names_label(&w, v->pk, 1, label);
	ASSERT_TRUE(strstr(label, hex) != NULL);
	ASSERT_TRUE(strncmp(label, "v1 (bk/c1/v1, key ", 18) == 0);

	TEST_START("once its certificate has expired, the name stays but says so");
	w = who_in(c, v->pk, now + 2 * 86400000ull);
	ASSERT_EQ(w.source, NAMES_CERT_OLD);
	ASSERT_STREQ(w.name, "v1");
	names_label(&w, v->pk, 0, label);
	ASSERT_STREQ(label, "v1 (bk/c1/v1, certificate no longer valid)");

	TEST_START("a key nobody certified is unknown, shown by 8 hex digits marked so");
	w = who_in(c, x->pk, now);
	ASSERT_EQ(w.source, NAMES_UNKNOWN);
	hex_encode(x->pk, 32, hex);
	names_label(&w, x->pk, 0, label);
	ASSERT_TRUE(strncmp(label, "unknown node ", 13) == 0);
	ASSERT_TRUE(strncmp(label + 13, hex, 8) == 0);
	ASSERT_TRUE(strstr(label, hex + 8) == NULL);
	names_label(&w, x->pk, 1, label);
	ASSERT_TRUE(strstr(label, hex) != NULL);

	TEST_START("this node without a certificate is named by its node.conf, as a claim");
	{
		struct names *nm = names_new(x->pk, x->name, x->scope);
		struct store_txn *t;
		ASSERT_TRUE(nm != NULL);
		ASSERT_OK(store_txn_begin(x->st, 1, &t));
		ASSERT_OK(names_get(nm, t, x->pk, now, &w));
		ASSERT_EQ(w.source, NAMES_CLAIM);
		names_label(&w, x->pk, 0, label);
		ASSERT_STREQ(label, "x9 (bk/x9, own claim, no certificate)");
		/* another key is not named by this node's claim */
		uint8_t other[32];
		memset(other, 0x42, 32);
		ASSERT_OK(names_get(nm, t, other, now, &w));
		ASSERT_EQ(w.source, NAMES_UNKNOWN);
		store_txn_abort(t);
		names_free(nm);
	}

	TEST_START("when node.conf and a certificate disagree, the certificate wins");
	{
		struct names *nm = names_new(v->pk, "not-v1", "bk/elsewhere");
		struct store_txn *t;
		ASSERT_OK(store_txn_begin(c->st, 1, &t));
		ASSERT_OK(names_get(nm, t, v->pk, now, &w));
		ASSERT_EQ(w.source, NAMES_CERT);
		ASSERT_STREQ(w.name, "v1");
		/* the second answer comes from the cache, the same */
		ASSERT_OK(names_get(nm, t, v->pk, now, &w));
		ASSERT_STREQ(w.name, "v1");
		store_txn_abort(t);
		names_free(nm);
	}

	TEST_START("JSON gets name, name_scope and name_source under a prefix; null when unknown");
	{
		json_t *o = json_object();
		w = who_in(c, v->pk, now);
		names_json(&w, o, "author_");
		ASSERT_STREQ(json_string_value(json_object_get(o, "author_name")), "v1");
		ASSERT_STREQ(json_string_value(json_object_get(o, "author_name_scope")), "bk/c1/v1");
		ASSERT_STREQ(json_string_value(json_object_get(o, "author_name_source")), "certificate");
		w = who_in(c, x->pk, now);
		names_json(&w, o, "author_");
		ASSERT_TRUE(json_is_null(json_object_get(o, "author_name")));
		ASSERT_STREQ(json_string_value(json_object_get(o, "author_name_source")), "unknown");
		json_decref(o);
	}

	TEST_START("once its key is revoked, the name stays and says so: key revoked, not an ended certificate");
	{
		static const uint8_t zero[32];
		struct trustset_item it = { TRUST_REVOKE, NULL, 0 };
		struct trustset_out to;
		struct log_stats st = { 0 };
		json_t *o = json_object();
		size_t rl;
		uint8_t *rv = th_revoke_by_root(net, v, "bk/c1/v1", 0, zero, &rl);
		it.data = rv;
		it.len = rl;
		ASSERT_OK(log_trust_ingest(c->st, c->net.id, &it, 1, &to, &st,
					   NULL));
		ASSERT_EQ(to.status, TRUSTSET_ADDED);
		w = who_in(c, v->pk, now);
		ASSERT_EQ(w.source, NAMES_CERT_REVOKED);
		ASSERT_STREQ(w.name, "v1");
		names_label(&w, v->pk, 0, label);
		ASSERT_STREQ(label, "v1 (bk/c1/v1, key revoked)");
		names_json(&w, o, "");
		ASSERT_STREQ(json_string_value(json_object_get(o, "name_source")), "certificate_revoked");
		json_decref(o);
		free(rv);
	}

	th_node_close(x);
	th_node_close(v);
	th_node_close(c);
	th_rmrf(dir);
	free(net);
	free(dir);
	return testlib_failures ? 1 : 0;
}
