/*
 * Tests for negentropy: the generated reference scenarios byte for byte in
 * both roles, fingerprints, version negotiation, the Kotlin/JS transcripts,
 * malformed and mutated messages, and random sets reconciled to the end.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "error.h"
#include "negentropy.h"
#include "testlib.h"

#define ID_SIZE NEGENTROPY_ID_SIZE

/* ------------------------------------------------------------------------
 * Helpers
 */

static const char *vectors_dir(void)
{
	const char *d = getenv("HAMLET_VECTORS");

	return d && *d ? d : "../shared/vectors";
}

static json_t *load_json(const char *rel)
{
	char path[4096];
	json_error_t jerr;
	json_t *doc;

	snprintf(path, sizeof(path), "%s/%s", vectors_dir(), rel);
	doc = json_load_file(path, 0, &jerr);
	if (!doc)
		TEST_FAIL_("cannot load %s: %s", path, jerr.text);
	return doc;
}

static char *load_text(const char *rel)
{
	char path[4096];
	FILE *f;
	long sz;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", vectors_dir(), rel);
	f = fopen(path, "rb");
	if (!f)
		TEST_FAIL_("cannot open %s", path);
	ASSERT_EQ(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	ASSERT_TRUE(sz >= 0);
	rewind(f);
	buf = malloc((size_t)sz + 1);
	ASSERT_TRUE(buf);
	ASSERT_EQ(fread(buf, 1, (size_t)sz, f), sz);
	buf[sz] = '\0';
	fclose(f);
	return buf;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s)
		TEST_FAIL_("missing string \"%s\"", key);
	return s;
}

/* Hex to a new buffer (never NULL, so an empty message is still a pointer). */
static uint8_t *unhex(const char *hex, size_t *ret_len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *out = malloc(n ? n : 1);

	ASSERT_TRUE(out);
	ASSERT_EQ(strlen(hex) % 2, 0);
	ASSERT_EQ(test_unhex(hex, out, n), 0);
	*ret_len = n;
	return out;
}

static void unhex_id(const char *hex, uint8_t id[ID_SIZE])
{
	if (test_unhex(hex, id, ID_SIZE) != 0)
		TEST_FAIL_("bad id hex \"%s\"", hex);
}

static int item_cmp(const void *a, const void *b)
{
	const struct neg_item *x = a, *y = b;

	if (x->timestamp != y->timestamp)
		return x->timestamp < y->timestamp ? -1 : 1;
	return memcmp(x->id, y->id, ID_SIZE);
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, ID_SIZE);
}

/* Items from [[timestamp, idhex], ...], sorted as negentropy_new wants. */
static struct neg_item *load_items(json_t *arr, size_t *ret_n)
{
	size_t n = json_array_size(arr);
	struct neg_item *items = calloc(n ? n : 1, sizeof(*items));

	ASSERT_TRUE(json_is_array(arr));
	ASSERT_TRUE(items);
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(arr, i);

		ASSERT_TRUE(json_is_integer(json_array_get(it, 0)));
		items[i].timestamp =
			(uint64_t)json_integer_value(json_array_get(it, 0));
		unhex_id(json_string_value(json_array_get(it, 1)), items[i].id);
	}
	qsort(items, n, sizeof(*items), item_cmp);
	*ret_n = n;
	return items;
}

static void idlist_sort_unique(struct neg_idlist *l)
{
	size_t n = 0;

	if (!l->n)
		return;
	qsort(l->ids, l->n, ID_SIZE, id_cmp);
	for (size_t i = 0; i < l->n; i++)
		if (n == 0 || memcmp(l->ids[n - 1], l->ids[i], ID_SIZE) != 0)
			memmove(l->ids[n++], l->ids[i], ID_SIZE);
	l->n = n;
}

static void idlist_append(struct neg_idlist *dst, const struct neg_idlist *src)
{
	if (dst->n + src->n > dst->cap) {
		dst->cap = (dst->n + src->n) * 2;
		dst->ids = realloc(dst->ids, dst->cap * ID_SIZE);
		ASSERT_TRUE(dst->ids);
	}
	if (src->n)
		memcpy(dst->ids[dst->n], src->ids, src->n * ID_SIZE);
	dst->n += src->n;
}

/* l (sorted here, order is not significant) equals the sorted hex array. */
static void assert_ids_eq(struct neg_idlist *l, json_t *arr, const char *what)
{
	idlist_sort_unique(l);
	if (l->n != json_array_size(arr))
		TEST_FAIL_("%s: %zu ids, expected %zu", what, l->n,
			   json_array_size(arr));
	for (size_t i = 0; i < l->n; i++) {
		uint8_t id[ID_SIZE];

		unhex_id(json_string_value(json_array_get(arr, i)), id);
		if (memcmp(l->ids[i], id, ID_SIZE) != 0)
			TEST_FAIL_("%s: id %zu differs", what, i);
	}
}

static void assert_msg_eq(const uint8_t *got, size_t got_len, const char *hex,
			  const char *what)
{
	size_t want_len;
	uint8_t *want = unhex(hex, &want_len);

	for (size_t i = 0; i < got_len && i < want_len; i++)
		if (got[i] != want[i])
			TEST_FAIL_("%s: byte %zu is %02x, expected %02x", what,
				   i, got[i], want[i]);
	if (got_len != want_len)
		TEST_FAIL_("%s: %zu bytes, expected %zu", what, got_len,
			   want_len);
	free(want);
}

/* splitmix64: small, seeded, reproducible */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_fill(uint64_t *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)rng_next(s);
}

/* ------------------------------------------------------------------------
 * Generated scenarios
 */

static void run_scenario(const char *name)
{
	char rel[256], what[128];
	json_t *doc, *rounds, *side;
	struct neg_item *citems, *sitems;
	size_t cn, sn, climit, slimit, nrounds, len;
	struct negentropy *client, *server;
	struct neg_idlist have_all = { 0 }, need_all = { 0 };
	uint8_t *msg;

	snprintf(rel, sizeof(rel), "negentropy/generated/%s.json", name);
	doc = load_json(rel);
	side = json_object_get(doc, "client");
	citems = load_items(json_object_get(side, "items"), &cn);
	climit = json_integer_value(json_object_get(side, "frameSizeLimit"));
	side = json_object_get(doc, "server");
	sitems = load_items(json_object_get(side, "items"), &sn);
	slimit = json_integer_value(json_object_get(side, "frameSizeLimit"));
	rounds = json_object_get(doc, "rounds");
	nrounds = json_array_size(rounds);
	ASSERT_TRUE(nrounds > 0);

	ASSERT_OK(negentropy_new(citems, cn, climit, &client));
	ASSERT_OK(negentropy_new(sitems, sn, slimit, &server));

	ASSERT_OK(negentropy_initiate(client, &msg, &len));
	assert_msg_eq(msg, len, jstr(json_array_get(rounds, 0), "client_msg"),
		      "initiate");
	free(msg);

	for (size_t i = 0; i < nrounds; i++) {
		json_t *rd = json_array_get(rounds, i);
		struct neg_idlist have = { 0 }, need = { 0 };
		uint8_t *in, *out;
		size_t in_len, out_len;

		/* server role: answer the reference client's message */
		in = unhex(jstr(rd, "client_msg"), &in_len);
		ASSERT_OK(negentropy_reconcile(server, in, in_len, &out,
					       &out_len));
		snprintf(what, sizeof(what), "round %zu server_msg", i);
		assert_msg_eq(out, out_len, jstr(rd, "server_msg"), what);
		if (slimit)
			ASSERT_TRUE(out_len <= slimit);
		free(out);
		free(in);

		/* client role: process the reference server's message */
		in = unhex(jstr(rd, "server_msg"), &in_len);
		ASSERT_OK(negentropy_reconcile_client(client, in, in_len, &have,
						      &need, &out, &out_len));
		free(in);
		if (i + 1 < nrounds) {
			ASSERT_TRUE(out);
			snprintf(what, sizeof(what), "round %zu client_msg",
				 i + 1);
			assert_msg_eq(out, out_len,
				      jstr(json_array_get(rounds, i + 1),
					   "client_msg"),
				      what);
			if (climit)
				ASSERT_TRUE(out_len <= climit);
		} else {
			ASSERT_TRUE(out == NULL);
			ASSERT_EQ(out_len, 0);
		}
		free(out);
		idlist_append(&have_all, &have);
		idlist_append(&need_all, &need);
		snprintf(what, sizeof(what), "round %zu client_have", i);
		assert_ids_eq(&have, json_object_get(rd, "client_have"), what);
		snprintf(what, sizeof(what), "round %zu client_need", i);
		assert_ids_eq(&need, json_object_get(rd, "client_need"), what);
		negentropy_idlist_close(&have);
		negentropy_idlist_close(&need);
	}
	assert_ids_eq(&have_all, json_object_get(doc, "expected_client_have"),
		      "expected_client_have");
	assert_ids_eq(&need_all, json_object_get(doc, "expected_client_need"),
		      "expected_client_need");
	fprintf(stderr,
		"   %s: %zu+%zu items, %zu rounds, have %zu, need %zu\n", name,
		cn, sn, nrounds, have_all.n, need_all.n);

	negentropy_idlist_close(&have_all);
	negentropy_idlist_close(&need_all);
	negentropy_free(client);
	negentropy_free(server);
	free(citems);
	free(sitems);
	json_decref(doc);
}

static void test_fingerprints(void)
{
	json_t *doc = load_json("negentropy/generated/fingerprints.json");
	json_t *vecs = json_object_get(doc, "vectors");

	ASSERT_TRUE(json_array_size(vecs) > 0);
	for (size_t i = 0; i < json_array_size(vecs); i++) {
		json_t *v = json_array_get(vecs, i);
		json_t *ids = json_object_get(v, "ids");
		size_t n = json_array_size(ids);
		uint8_t(*buf)[ID_SIZE] = calloc(n ? n : 1, ID_SIZE);
		uint8_t fp[NEGENTROPY_FINGERPRINT_SIZE];
		char what[64];

		ASSERT_TRUE(buf);
		ASSERT_EQ(json_integer_value(json_object_get(v, "count")), n);
		for (size_t j = 0; j < n; j++)
			unhex_id(json_string_value(json_array_get(ids, j)),
				 buf[j]);
		ASSERT_OK(negentropy_fingerprint((const uint8_t(*)[ID_SIZE])buf,
						 n, fp));
		snprintf(what, sizeof(what), "fingerprint %zu (%zu ids)", i, n);
		assert_msg_eq(fp, sizeof(fp), jstr(v, "fingerprint"), what);
		free(buf);
	}
	fprintf(stderr, "   %zu fingerprints\n", json_array_size(vecs));
	json_decref(doc);
}

static void test_protocol_version(void)
{
	json_t *doc = load_json("negentropy/generated/protocol-version.json");
	json_t *vecs = json_object_get(doc, "vectors");

	ASSERT_TRUE(json_array_size(vecs) > 0);
	for (size_t i = 0; i < json_array_size(vecs); i++) {
		json_t *v = json_array_get(vecs, i);
		struct negentropy *server;
		struct neg_item *items;
		size_t n, in_len, out_len;
		uint8_t *in, *out;
		char what[64];

		items = load_items(json_object_get(v, "server_items"), &n);
		ASSERT_OK(negentropy_new(items, n, 0, &server));
		in = unhex(jstr(v, "client_msg"), &in_len);
		ASSERT_OK(negentropy_reconcile(server, in, in_len, &out,
					       &out_len));
		snprintf(what, sizeof(what), "protocol-version vector %zu", i);
		assert_msg_eq(out, out_len, jstr(v, "server_msg"), what);
		free(out);
		free(in);
		negentropy_free(server);
		free(items);
	}
	json_decref(doc);
}

/* ------------------------------------------------------------------------
 * Kotlin/JS transcripts: "<ms>,<node>,<command>[,args]" per line
 */

struct tnode {
	char name[32];
	struct neg_item *items;
	size_t n, cap, limit;
	struct negentropy *ng;
	bool initiator, done;
	uint8_t *out;
	size_t out_len;
	size_t msgs_in;
};

struct tevent {
	unsigned long long ms;
	size_t seq;
	char *line; /* points after "<ms>," */
};

static int tevent_cmp(const void *a, const void *b)
{
	const struct tevent *x = a, *y = b;

	if (x->ms != y->ms)
		return x->ms < y->ms ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static struct tnode *tnode_get(struct tnode *nodes, size_t *nn,
			       const char *name, size_t name_len)
{
	for (size_t i = 0; i < *nn; i++)
		if (strlen(nodes[i].name) == name_len &&
		    memcmp(nodes[i].name, name, name_len) == 0)
			return &nodes[i];
	ASSERT_TRUE(*nn < 2);
	ASSERT_TRUE(name_len < sizeof(nodes[0].name));
	memcpy(nodes[*nn].name, name, name_len);
	nodes[*nn].name[name_len] = '\0';
	return &nodes[(*nn)++];
}

static void replay_transcripts(const char *file_a, const char *file_b)
{
	const char *files[2] = { file_a, file_b };
	char *texts[2];
	struct tevent ev[512];
	struct tnode nodes[2];
	size_t nev = 0, nn = 0;

	memset(nodes, 0, sizeof(nodes));
	for (int f = 0; f < 2; f++) {
		char rel[256], *line, *save = NULL;

		snprintf(rel, sizeof(rel), "negentropy/kmp-transcripts/%s",
			 files[f]);
		texts[f] = load_text(rel);
		for (line = strtok_r(texts[f], "\r\n", &save); line;
		     line = strtok_r(NULL, "\r\n", &save)) {
			char *comma = strchr(line, ',');

			ASSERT_TRUE(comma);
			ASSERT_TRUE(nev < sizeof(ev) / sizeof(ev[0]));
			ev[nev].ms = strtoull(line, NULL, 10);
			ev[nev].seq = nev;
			ev[nev].line = comma + 1;
			nev++;
		}
	}
	qsort(ev, nev, sizeof(ev[0]), tevent_cmp);

	for (size_t e = 0; e < nev; e++) {
		char *name = ev[e].line, *cmd = strchr(name, ',');
		struct tnode *node, *other;

		ASSERT_TRUE(cmd);
		node = tnode_get(nodes, &nn, name, (size_t)(cmd - name));
		cmd++;
		if (strncmp(cmd, "create,", 7) == 0) {
			node->limit = strtoull(cmd + 7, NULL, 10);
		} else if (strncmp(cmd, "item,", 5) == 0) {
			char *idhex = strchr(cmd + 5, ',');

			ASSERT_TRUE(idhex);
			if (node->n == node->cap) {
				node->cap = node->cap ? node->cap * 2 : 32;
				node->items = realloc(
					node->items,
					node->cap * sizeof(*node->items));
				ASSERT_TRUE(node->items);
			}
			node->items[node->n].timestamp =
				strtoull(cmd + 5, NULL, 10);
			unhex_id(idhex + 1, node->items[node->n].id);
			node->n++;
		} else if (strcmp(cmd, "seal") == 0) {
			qsort(node->items, node->n, sizeof(*node->items),
			      item_cmp);
			ASSERT_OK(negentropy_new(node->items, node->n,
						 node->limit, &node->ng));
		} else if (strcmp(cmd, "initiate") == 0) {
			node->initiator = true;
			ASSERT_OK(negentropy_initiate(node->ng, &node->out,
						      &node->out_len));
		} else if (strncmp(cmd, "msg,", 4) == 0) {
			size_t in_len;
			uint8_t *in;

			ASSERT_EQ(nn, 2);
			other = node == &nodes[0] ? &nodes[1] : &nodes[0];
			/* what this node receives is what the other sent */
			ASSERT_TRUE(other->out);
			assert_msg_eq(other->out, other->out_len, cmd + 4,
				      "transcript message");
			in = unhex(cmd + 4, &in_len);
			free(node->out);
			node->out = NULL;
			if (node->initiator) {
				struct neg_idlist have = { 0 }, need = { 0 };

				ASSERT_OK(negentropy_reconcile_client(
					node->ng, in, in_len, &have, &need,
					&node->out, &node->out_len));
				/* both sides hold the same items */
				ASSERT_EQ(have.n, 0);
				ASSERT_EQ(need.n, 0);
				node->done = node->out == NULL;
			} else {
				ASSERT_OK(negentropy_reconcile(
					node->ng, in, in_len, &node->out,
					&node->out_len));
			}
			node->msgs_in++;
			free(in);
		} else {
			TEST_FAIL_("unknown transcript command \"%s\"", cmd);
		}
	}

	ASSERT_EQ(nn, 2);
	for (int i = 0; i < 2; i++) {
		ASSERT_TRUE(nodes[i].msgs_in >= 1);
		if (nodes[i].initiator)
			ASSERT_TRUE(nodes[i].done);
		negentropy_free(nodes[i].ng);
		free(nodes[i].items);
		free(nodes[i].out);
	}
	ASSERT_TRUE(nodes[0].initiator != nodes[1].initiator);
	free(texts[0]);
	free(texts[1]);
}

/* ------------------------------------------------------------------------
 * Malformed messages
 */

static struct negentropy *g_server, *g_client;
static struct neg_item g_items[40];

static void setup_pair(void)
{
	uint64_t s = 42;
	uint8_t *msg;
	size_t len;

	for (size_t i = 0; i < 40; i++) {
		g_items[i].timestamp = 1000 + i / 3;
		rng_fill(&s, g_items[i].id, ID_SIZE);
	}
	qsort(g_items, 40, sizeof(g_items[0]), item_cmp);
	ASSERT_OK(negentropy_new(g_items, 40, 0, &g_server));
	ASSERT_OK(negentropy_new(g_items, 40, 0, &g_client));
	ASSERT_OK(negentropy_initiate(g_client, &msg, &len));
	free(msg);
}

/* Feed hex to the server, and to the client, expecting rc. */
static void expect_both(const char *hex, int rc_server, int rc_client)
{
	struct neg_idlist have = { 0 }, need = { 0 };
	uint8_t *in, *out = NULL;
	size_t in_len, out_len;
	int rc;

	in = unhex(hex, &in_len);
	rc = negentropy_reconcile(g_server, in, in_len, &out, &out_len);
	if (rc != rc_server)
		TEST_FAIL_("server on %s: %s, expected %s", hex,
			   hamlet_errname(rc), hamlet_errname(rc_server));
	if (rc == 0)
		free(out);
	out = NULL;
	rc = negentropy_reconcile_client(g_client, in, in_len, &have, &need,
					 &out, &out_len);
	if (rc != rc_client)
		TEST_FAIL_("client on %s: %s, expected %s", hex,
			   hamlet_errname(rc), hamlet_errname(rc_client));
	if (rc < 0) {
		ASSERT_EQ(have.n, 0);
		ASSERT_EQ(need.n, 0);
	}
	free(out);
	negentropy_idlist_close(&have);
	negentropy_idlist_close(&need);
	free(in);
}

static void expect(const char *hex, int rc)
{
	expect_both(hex, rc, rc);
}

static char *hex_join(const char *a, const char *rep, size_t times,
		      const char *b)
{
	size_t n = strlen(a) + strlen(rep) * times + strlen(b) + 1;
	char *s = malloc(n);

	ASSERT_TRUE(s);
	strcpy(s, a);
	for (size_t i = 0; i < times; i++)
		strcat(s, rep);
	strcat(s, b);
	return s;
}

static void test_malformed(void)
{
	char *h;

	TEST_START("an empty message is malformed");
	expect("", HAMLET_EFORMAT);

	TEST_START("a first byte outside 0x60..0x6f is malformed");
	expect("00", HAMLET_EFORMAT);
	expect("ff000000", HAMLET_EFORMAT);

	TEST_START(
		"another version gets 61 from the server, EVERSION at the client");
	expect_both("62", 0, HAMLET_EVERSION);
	expect_both("60000000", 0, HAMLET_EVERSION);

	TEST_START(
		"a message of only the version byte is valid and ends the exchange");
	expect("61", 0);

	TEST_START(
		"a range cut inside its bound, mode or payload is malformed");
	expect("6100", HAMLET_EFORMAT);
	expect("610000", HAMLET_EFORMAT);
	expect("610001", HAMLET_EFORMAT);
	expect("61000002", HAMLET_EFORMAT);
	h = hex_join("61000001", "ab", 15, "");
	expect(h, HAMLET_EFORMAT);
	free(h);
	h = hex_join("6100000202", "cd", 32, "");
	expect(h, HAMLET_EFORMAT);
	free(h);
	h = hex_join("6100000202", "cd", 63, "");
	expect(h, HAMLET_EFORMAT);
	free(h);

	TEST_START(
		"an id list count past the message end is malformed, not an overflow");
	expect("61000002ffffffffffffffff7f", HAMLET_EFORMAT);
	expect("6100000281808080808080808000", HAMLET_EFORMAT);

	TEST_START(
		"varints: unterminated, non-minimal and over 64 bits are malformed");
	expect("6181", HAMLET_EFORMAT);
	expect("6180010000", HAMLET_EFORMAT);
	expect("6100800000", HAMLET_EFORMAT);
	expect("61ffffffffffffffffff7f0000", HAMLET_EFORMAT);
	/* ten digits: 2^63 fits (timestamp 2^63 - 1, a Skip), 2^64 does not */
	h = hex_join("6181", "80", 8, "000000");
	expect(h, 0);
	free(h);
	h = hex_join("6182", "80", 8, "000000");
	expect(h, HAMLET_EFORMAT);
	free(h);

	TEST_START("an id prefix of 32 bytes is valid, of 33 malformed");
	h = hex_join("610120", "00", 32, "00");
	expect(h, 0);
	free(h);
	h = hex_join("610121", "00", 33, "00");
	expect(h, HAMLET_EFORMAT);
	free(h);

	TEST_START("modes other than 0, 1, 2 are malformed");
	expect("61000003", HAMLET_EFORMAT);
	expect("6100007f", HAMLET_EFORMAT);
	expect("610000ffffffffffffffffff7f", HAMLET_EFORMAT);

	TEST_START(
		"a bound below the one before is malformed; equal is allowed");
	expect("610b01800001011000", HAMLET_EFORMAT);
	expect("610b01800001019000", 0);
	expect("610b01800001018000", 0);
	expect("610b0000010000", 0);

	TEST_START("after infinity only infinity may follow");
	expect("61000000000000", 0);
	expect("61000000010000", 0);
	expect("61000000020000", HAMLET_EFORMAT);
	expect("61000000050000", HAMLET_EFORMAT);

	TEST_START("a timestamp delta may reach infinity but not pass it");
	/* 2^63 - 1, then + 2^63 = 2^64 - 1; + (2^63 + 1) would wrap */
	h = hex_join("6181", "80", 8, "000000818080808080808080010000");
	expect(h, 0);
	free(h);
	h = hex_join("6181", "80", 8, "000000818080808080808080020000");
	expect(h, HAMLET_EFORMAT);
	free(h);

	TEST_START("trailing garbage after valid ranges is malformed");
	expect("610000000000", HAMLET_EFORMAT);
}

static void test_oversize(void)
{
	size_t big = NEGENTROPY_MSG_MAX + 1;
	uint8_t *buf = malloc(big), *out = NULL;
	struct neg_idlist have = { 0 }, need = { 0 };
	size_t out_len;

	TEST_START(
		"a message over NEGENTROPY_MSG_MAX is ETOOBIG for both roles");
	ASSERT_TRUE(buf);
	memset(buf, 0, big);
	buf[0] = NEGENTROPY_PROTOCOL_V1;
	ASSERT_EQ(negentropy_reconcile(g_server, buf, big, &out, &out_len),
		  HAMLET_ETOOBIG);
	ASSERT_EQ(negentropy_reconcile_client(g_client, buf, big, &have, &need,
					      &out, &out_len),
		  HAMLET_ETOOBIG);

	TEST_START(
		"a message of exactly NEGENTROPY_MSG_MAX bytes of Skip ranges is answered");
	/* "01 00 00": same timestamp as before, no prefix, Skip */
	for (size_t i = 1; i + 3 <= NEGENTROPY_MSG_MAX; i += 3) {
		buf[i] = 0x01;
		buf[i + 1] = 0x00;
		buf[i + 2] = 0x00;
	}
	ASSERT_EQ((NEGENTROPY_MSG_MAX - 1) % 3, 0);
	ASSERT_OK(negentropy_reconcile(g_server, buf, NEGENTROPY_MSG_MAX, &out,
				       &out_len));
	ASSERT_EQ(out_len, 1);
	free(out);
	ASSERT_OK(negentropy_reconcile_client(g_client, buf, NEGENTROPY_MSG_MAX,
					      &have, &need, &out, &out_len));
	ASSERT_TRUE(out == NULL);
	free(buf);
}

static void test_client_rollback(void)
{
	struct neg_idlist have = { 0 }, need = { 0 };
	uint8_t *in, *out = NULL;
	size_t in_len, out_len;
	uint8_t marker[ID_SIZE];
	char *h;

	TEST_START(
		"on a malformed message the client leaves have and need as they were");
	memset(marker, 0xee, sizeof(marker));
	/* one range listing an id the client lacks, then a bad mode */
	h = hex_join("6100000201", "77", 32, "000007");
	in = unhex(h, &in_len);
	ASSERT_TRUE(have.n == 0);
	have.ids = malloc(ID_SIZE);
	ASSERT_TRUE(have.ids);
	have.cap = 1;
	memcpy(have.ids[have.n++], marker, ID_SIZE);
	ASSERT_EQ(negentropy_reconcile_client(g_client, in, in_len, &have,
					      &need, &out, &out_len),
		  HAMLET_EFORMAT);
	ASSERT_EQ(have.n, 1);
	ASSERT_EQ(need.n, 0);
	ASSERT_MEMEQ(have.ids[0], marker, ID_SIZE);
	ASSERT_TRUE(out == NULL);
	free(in);
	free(h);

	TEST_START("the same range without the bad tail reports every id once");
	h = hex_join("6100000201", "77", 32, "");
	in = unhex(h, &in_len);
	ASSERT_OK(negentropy_reconcile_client(g_client, in, in_len, &have,
					      &need, &out, &out_len));
	ASSERT_EQ(have.n, 1 + 40);
	ASSERT_EQ(need.n, 1);
	ASSERT_TRUE(out == NULL);
	free(in);
	free(h);
	negentropy_idlist_close(&have);
	negentropy_idlist_close(&need);
	negentropy_idlist_close(&need);
	negentropy_idlist_close(NULL);
}

static void test_api_misuse(void)
{
	struct neg_item items[3];
	struct negentropy *ng;
	struct neg_idlist have = { 0 }, need = { 0 };
	uint8_t *out;
	size_t out_len;
	const uint8_t v1 = NEGENTROPY_PROTOCOL_V1;

	memset(items, 0, sizeof(items));
	items[0].timestamp = 1;
	items[1].timestamp = 2;
	items[2].timestamp = 2;
	items[2].id[0] = 1;

	TEST_START(
		"negentropy_new takes sorted, distinct items below infinity");
	ASSERT_OK(negentropy_new(items, 3, 0, &ng));
	negentropy_free(ng);
	ASSERT_OK(negentropy_new(NULL, 0, 0, &ng));
	negentropy_free(ng);
	negentropy_free(NULL);
	ASSERT_EQ(negentropy_new(NULL, 1, 0, &ng), -EINVAL);
	items[2].id[0] = 0;
	ASSERT_EQ(negentropy_new(items, 3, 0, &ng), -EINVAL);
	items[2].timestamp = 0;
	ASSERT_EQ(negentropy_new(items, 3, 0, &ng), -EINVAL);
	items[2].timestamp = NEGENTROPY_TIMESTAMP_INFINITY;
	ASSERT_EQ(negentropy_new(items, 3, 0, &ng), -EINVAL);
	items[2].timestamp = 3;

	TEST_START("a frame size limit is 0 or at least 4096");
	ASSERT_EQ(negentropy_new(items, 3, 1, &ng), -EINVAL);
	ASSERT_EQ(negentropy_new(items, 3, 4095, &ng), -EINVAL);
	ASSERT_OK(negentropy_new(items, 3, 4096, &ng));

	TEST_START("a client cannot answer as a server, nor initiate twice");
	ASSERT_EQ(negentropy_reconcile_client(ng, &v1, 1, &have, &need, &out,
					      &out_len),
		  -EINVAL);
	ASSERT_OK(negentropy_initiate(ng, &out, &out_len));
	free(out);
	ASSERT_EQ(negentropy_initiate(ng, &out, &out_len), -EINVAL);
	ASSERT_EQ(negentropy_reconcile(ng, &v1, 1, &out, &out_len), -EINVAL);
	ASSERT_EQ(negentropy_reconcile_client(ng, &v1, 1, &have, &have, &out,
					      &out_len),
		  -EINVAL);
	negentropy_free(ng);
}

/* ------------------------------------------------------------------------
 * Mutated messages
 */

struct seeds {
	uint8_t *msg[64];
	size_t len[64];
	size_t n;
};

static void seeds_add_rounds(struct seeds *sd, const char *name)
{
	char rel[256];
	json_t *doc, *rounds;

	snprintf(rel, sizeof(rel), "negentropy/generated/%s.json", name);
	doc = load_json(rel);
	rounds = json_object_get(doc, "rounds");
	for (size_t i = 0; i < json_array_size(rounds) && sd->n + 2 <= 64;
	     i++) {
		json_t *rd = json_array_get(rounds, i);

		sd->msg[sd->n] = unhex(jstr(rd, "client_msg"), &sd->len[sd->n]);
		sd->n++;
		sd->msg[sd->n] = unhex(jstr(rd, "server_msg"), &sd->len[sd->n]);
		sd->n++;
	}
	json_decref(doc);
}

static uint8_t *mutate(uint64_t *s, const uint8_t *src, size_t len,
		       size_t *ret_len)
{
	size_t cap = len + 64, n = len;
	uint8_t *m = malloc(cap);
	int steps = 1 + (int)(rng_next(s) % 4);

	ASSERT_TRUE(m);
	memcpy(m, src, len);
	for (int k = 0; k < steps; k++) {
		size_t pos = n ? rng_next(s) % n : 0;

		switch (rng_next(s) % 7) {
		case 0: /* flip a bit */
			if (n)
				m[pos] ^= (uint8_t)(1u << (rng_next(s) % 8));
			break;
		case 1: /* replace a byte */
			if (n)
				m[pos] = (uint8_t)rng_next(s);
			break;
		case 2: /* truncate */
			n = pos;
			break;
		case 3: /* insert a byte */
			if (n < cap) {
				memmove(m + pos + 1, m + pos, n - pos);
				m[pos] = (uint8_t)rng_next(s);
				n++;
			}
			break;
		case 4: /* delete a byte */
			if (n) {
				memmove(m + pos, m + pos + 1, n - pos - 1);
				n--;
			}
			break;
		case 5: /* a varint-looking byte with the high bit set */
			if (n)
				m[pos] |= 0x80;
			break;
		case 6: /* a small number where a count or mode may be */
			if (n)
				m[pos] = (uint8_t)(rng_next(s) % 4);
			break;
		}
	}
	*ret_len = n;
	return m;
}

static bool is_parse_error(int rc)
{
	return rc == HAMLET_EFORMAT || rc == HAMLET_ETOOBIG ||
	       rc == HAMLET_EVERSION;
}

static void test_mutations(void)
{
	struct seeds sd = { 0 };
	json_t *doc;
	struct neg_item *citems, *sitems;
	size_t cn, sn;
	struct negentropy *client, *server, *lserver, *lclient;
	uint64_t s = 7;
	uint8_t *tmp;
	size_t tmp_len, ok_server = 0, ok_client = 0;
	const size_t iterations = 20000;

	TEST_START(
		"mutated and random messages give an error or a valid answer");
	seeds_add_rounds(&sd, "client-only-small");
	seeds_add_rounds(&sd, "same-timestamp-300");
	seeds_add_rounds(&sd, "mixed-1200");
	seeds_add_rounds(&sd, "framesize-4096-3000");
	ASSERT_TRUE(sd.n > 0);

	doc = load_json("negentropy/generated/mixed-1200.json");
	citems = load_items(
		json_object_get(json_object_get(doc, "client"), "items"), &cn);
	sitems = load_items(
		json_object_get(json_object_get(doc, "server"), "items"), &sn);
	json_decref(doc);
	ASSERT_OK(negentropy_new(sitems, sn, 0, &server));
	ASSERT_OK(negentropy_new(citems, cn, 0, &client));
	ASSERT_OK(negentropy_new(sitems, sn, 4096, &lserver));
	ASSERT_OK(negentropy_new(citems, cn, 4096, &lclient));
	ASSERT_OK(negentropy_initiate(client, &tmp, &tmp_len));
	free(tmp);
	ASSERT_OK(negentropy_initiate(lclient, &tmp, &tmp_len));
	free(tmp);

	for (size_t it = 0; it < iterations; it++) {
		struct neg_idlist have = { 0 }, need = { 0 };
		size_t k = rng_next(&s) % sd.n, len, out_len, back_len;
		bool limited = it % 2;
		struct negentropy *srv = limited ? lserver : server;
		struct negentropy *cli = limited ? lclient : client;
		uint8_t *m, *out = NULL, *back = NULL;
		int rc;

		if (it % 16 == 0) {
			/* pure garbage, v1 byte first half of the time */
			len = rng_next(&s) % 300;
			m = malloc(len + 1);
			ASSERT_TRUE(m);
			rng_fill(&s, m, len);
			if (len && it % 32 == 0)
				m[0] = NEGENTROPY_PROTOCOL_V1;
		} else {
			m = mutate(&s, sd.msg[k], sd.len[k], &len);
		}

		rc = negentropy_reconcile(srv, m, len, &out, &out_len);
		if (rc < 0 && !is_parse_error(rc))
			TEST_FAIL_("server: %s at iteration %zu",
				   hamlet_errname(rc), it);
		if (rc == 0) {
			ok_server++;
			ASSERT_TRUE(out_len >= 1);
			if (limited)
				ASSERT_TRUE(out_len <= 4096);
			/* what the server says, a client must understand */
			rc = negentropy_reconcile_client(cli, out, out_len,
							 &have, &need, &back,
							 &back_len);
			if (rc < 0)
				TEST_FAIL_(
					"client rejects server output: %s at iteration %zu",
					hamlet_errname(rc), it);
			free(back);
			back = NULL;
			free(out);
		}

		have.n = need.n = 0;
		rc = negentropy_reconcile_client(cli, m, len, &have, &need,
						 &out, &out_len);
		if (rc < 0) {
			if (!is_parse_error(rc))
				TEST_FAIL_("client: %s at iteration %zu",
					   hamlet_errname(rc), it);
			ASSERT_EQ(have.n, 0);
			ASSERT_EQ(need.n, 0);
		} else {
			ok_client++;
			if (out) {
				if (limited)
					ASSERT_TRUE(out_len <= 4096);
				/* and what the client says, a server too */
				rc = negentropy_reconcile(srv, out, out_len,
							  &back, &back_len);
				if (rc < 0)
					TEST_FAIL_(
						"server rejects client output: %s at iteration %zu",
						hamlet_errname(rc), it);
				free(back);
			}
			free(out);
		}
		negentropy_idlist_close(&have);
		negentropy_idlist_close(&need);
		free(m);
	}
	fprintf(stderr, "   %zu mutations: server accepted %zu, client %zu\n",
		iterations, ok_server, ok_client);

	negentropy_free(server);
	negentropy_free(client);
	negentropy_free(lserver);
	negentropy_free(lclient);
	free(citems);
	free(sitems);
	for (size_t i = 0; i < sd.n; i++)
		free(sd.msg[i]);
}

/* ------------------------------------------------------------------------
 * Random sets reconciled to the end
 */

struct prop_case {
	const char *sentence;
	uint64_t seed;
	size_t shared, only_a, only_b;
	uint64_t ts_range;
	size_t limit_a, limit_b;
	size_t max_rounds;
};

static void sorted_ids(const struct neg_item *items, size_t n,
		       struct neg_idlist *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->ids = malloc((n ? n : 1) * ID_SIZE);
	ASSERT_TRUE(ret->ids);
	ret->cap = n;
	for (size_t i = 0; i < n; i++)
		memcpy(ret->ids[i], items[i].id, ID_SIZE);
	ret->n = n;
	idlist_sort_unique(ret);
	ASSERT_EQ(ret->n, n);
}

static void run_property(const struct prop_case *pc)
{
	size_t total = pc->shared + pc->only_a + pc->only_b;
	size_t na = pc->shared + pc->only_a, nb = pc->shared + pc->only_b;
	struct neg_item *all = calloc(total ? total : 1, sizeof(*all));
	struct neg_item *a = calloc(na ? na : 1, sizeof(*a));
	struct neg_item *b = calloc(nb ? nb : 1, sizeof(*b));
	struct neg_idlist have = { 0 }, need = { 0 }, want_have, want_need;
	struct negentropy *client, *server;
	uint64_t s = pc->seed;
	size_t rounds = 0, len, reply_len, bytes = 0;
	uint8_t *msg, *reply;

	TEST_START(pc->sentence);
	ASSERT_TRUE(all && a && b);
	for (size_t i = 0; i < total; i++) {
		all[i].timestamp = rng_next(&s) % pc->ts_range;
		rng_fill(&s, all[i].id, ID_SIZE);
	}
	/* shared first, then only A, then only B */
	memcpy(a, all, na * sizeof(*a));
	memcpy(b, all, pc->shared * sizeof(*b));
	memcpy(b + pc->shared, all + na, pc->only_b * sizeof(*b));
	sorted_ids(all + pc->shared, pc->only_a, &want_have);
	sorted_ids(all + na, pc->only_b, &want_need);
	qsort(a, na, sizeof(*a), item_cmp);
	qsort(b, nb, sizeof(*b), item_cmp);

	ASSERT_OK(negentropy_new(a, na, pc->limit_a, &client));
	ASSERT_OK(negentropy_new(b, nb, pc->limit_b, &server));
	ASSERT_OK(negentropy_initiate(client, &msg, &len));
	while (msg) {
		rounds++;
		if (rounds > pc->max_rounds)
			TEST_FAIL_("no end after %zu rounds", pc->max_rounds);
		if (pc->limit_a && rounds > 1)
			ASSERT_TRUE(len <= pc->limit_a);
		bytes += len;
		ASSERT_OK(negentropy_reconcile(server, msg, len, &reply,
					       &reply_len));
		if (pc->limit_b)
			ASSERT_TRUE(reply_len <= pc->limit_b);
		bytes += reply_len;
		free(msg);
		ASSERT_OK(negentropy_reconcile_client(
			client, reply, reply_len, &have, &need, &msg, &len));
		free(reply);
	}
	idlist_sort_unique(&have);
	idlist_sort_unique(&need);
	ASSERT_EQ(have.n, want_have.n);
	ASSERT_EQ(need.n, want_need.n);
	if (have.n)
		ASSERT_MEMEQ(have.ids, want_have.ids, have.n * ID_SIZE);
	if (need.n)
		ASSERT_MEMEQ(need.ids, want_need.ids, need.n * ID_SIZE);
	fprintf(stderr, "   %zu/%zu items, %zu rounds, %zu bytes\n", na, nb,
		rounds, bytes);

	negentropy_idlist_close(&have);
	negentropy_idlist_close(&need);
	negentropy_idlist_close(&want_have);
	negentropy_idlist_close(&want_need);
	negentropy_free(client);
	negentropy_free(server);
	free(all);
	free(a);
	free(b);
}

static const struct prop_case prop_cases[] = {
	{ "a few thousand items with a few hundred differences each way reconcile",
	  1, 3000, 200, 300, 1000000, 0, 0, 8 },
	{ "many equal timestamps: bounds carry id prefixes", 2, 3000, 500, 500,
	  50, 0, 0, 8 },
	{ "every timestamp 0, one difference each way", 3, 4000, 1, 1, 1, 0, 0,
	  8 },
	{ "a 4096-byte frame limit on both sides still reaches the set differences",
	  4, 2000, 1000, 1000, 100000, 4096, 4096, 400 },
	{ "a frame limit on the server only", 5, 3000, 300, 800, 1000, 0, 4096,
	  400 },
	{ "a frame limit on the client only", 6, 3000, 800, 300, 1000, 8192, 0,
	  400 },
	{ "an empty server: the client has everything", 7, 0, 2500, 0, 1000000,
	  0, 0, 8 },
	{ "an empty client: the client needs everything", 8, 0, 0, 2500,
	  1000000, 0, 0, 8 },
	{ "disjoint sets under a frame limit", 9, 0, 1500, 1500, 10, 4096, 4096,
	  400 },
	{ "identical sets agree in one round", 10, 5000, 0, 0, 1000000, 0, 0,
	  1 },
};

/* ------------------------------------------------------------------------
 */

int main(void)
{
	static const char *const scenarios[] = {
		"empty-both",	       "client-only-small",
		"server-only-small",   "identical-100",
		"mixed-1200",	       "same-timestamp-300",
		"framesize-4096-3000", "sparse-diff-5000",
	};
	char sentence[160];

	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		snprintf(
			sentence, sizeof(sentence),
			"scenario %s matches the reference byte for byte in both roles",
			scenarios[i]);
		TEST_START(sentence);
		run_scenario(scenarios[i]);
	}

	TEST_START("fingerprints.json: every fingerprint matches");
	test_fingerprints();

	TEST_START(
		"protocol-version.json: a v2 query gets 61, a v1 query an answer");
	test_protocol_version();

	TEST_START(
		"transcript pair 1 (Kotlin initiates, JS answers) replays byte for byte");
	replay_transcripts("lang1-js-client.txt", "lang1-kotlin-server.txt");
	TEST_START(
		"transcript pair 2 (JS initiates, Kotlin answers) replays byte for byte");
	replay_transcripts("lang2-js-server.txt", "lang2-kotlin-client.txt");

	setup_pair();
	test_malformed();
	test_oversize();
	test_client_rollback();
	negentropy_free(g_server);
	negentropy_free(g_client);
	test_api_misuse();
	test_mutations();

	for (size_t i = 0; i < sizeof(prop_cases) / sizeof(prop_cases[0]); i++)
		run_property(&prop_cases[i]);

	TEST_DONE();
}
