/*
 * textnorm: a local write's text is stored in Unicode NFC, whichever form
 * it was typed in ("Unicode tổ hợp", NFD, or "Unicode dựng sẵn", NFC), so
 * that one name is one value and a put of it in the other form changes
 * nothing; an entry that arrives signed with NFD text keeps it byte for
 * byte. Known bytes of both forms, ASCII untouched, a map field's keys
 * and values, text that is not UTF-8 left for the schema.
 */
#include "entries.h"
#include "error.h"
#include "helpers.h"
#include "record_json.h"
#include "schema.h"
#include "textnorm.h"

/* "Lò Thị Mai Anh" in both forms */
#define NAME_NFC "L\xc3\xb2 Th\xe1\xbb\x8b Mai Anh"
#define NAME_NFD "Lo\xcc\x80 Thi\xcc\xa3 Mai Anh"
/* "Đặng Thị Huyền": two marks on one letter, in canonical order */
#define DANG_NFC "\xc4\x90\xe1\xba\xb7ng Th\xe1\xbb\x8b Huy\xe1\xbb\x81n"
#define DANG_NFD   \
	"\xc4\x90" \
	"a\xcc\xa3\xcc\x86ng Thi\xcc\xa3 Huye\xcc\x82\xcc\x80n"

/* textnorm_body_nfc() of the body of spec (th_body()); *ret the result's
 * full_name ("" when unchanged). */
static int nfc_of(const char *spec, char *ret, size_t cap)
{
	struct mp_doc d, o;
	uint8_t *b, *nb = NULL;
	size_t bl, nl;
	int r;

	b = th_body(spec, &bl);
	ASSERT_OK(mp_doc_parse(&d, b, bl, 64));
	r = textnorm_body_nfc(d.root, &nb, &nl);
	ret[0] = 0;
	if (r == 1) {
		const msgpack_object *v;
		ASSERT_OK(mp_doc_parse(&o, nb, nl, 64));
		v = mp_map_get(o.root, "full_name");
		ASSERT_TRUE(v && v->type == MSGPACK_OBJECT_STR);
		snprintf(ret, cap, "%.*s", (int)v->via.str.size,
			 v->via.str.ptr);
		mp_doc_close(&o);
	}
	mp_doc_close(&d);
	free(nb);
	free(b);
	return r;
}

int main(void)
{
	char *dir = th_tmpdir();
	char *net = th_network(dir, "bk");
	struct node *a = th_node(dir, net, "a", "bk/na-pai");
	char got[256], why[256];

	TEST_START(
		"decomposed text (NFD) becomes precomposed (NFC), known bytes");
	ASSERT_EQ(nfc_of("full_name=" NAME_NFD ";birth_date=1990-04-12", got,
			 sizeof(got)),
		  1);
	ASSERT_STREQ(got, NAME_NFC);
	ASSERT_EQ(nfc_of("full_name=" DANG_NFD, got, sizeof(got)), 1);
	ASSERT_STREQ(got, DANG_NFC);

	TEST_START("text in NFC already, and ASCII, are left as they are "
		   "(nothing made)");
	ASSERT_EQ(nfc_of("full_name=" NAME_NFC ";person_id=001122334455", got,
			 sizeof(got)),
		  0);
	ASSERT_EQ(nfc_of("full_name=Nguyen Van A;birth_date=1990-04-12", got,
			 sizeof(got)),
		  0);

	TEST_START("text that is not UTF-8 is left for the schema to refuse");
	ASSERT_EQ(nfc_of("full_name=L\xf2 Th\xe1", got, sizeof(got)), 0);

	TEST_START("a map field's keys and values are put in NFC, other values "
		   "copied");
	{
		struct mp_writer w;
		struct mp_doc d, o;
		uint8_t *b, *nb = NULL;
		size_t bl, nl;
		const msgpack_object *m, *amt;

		mp_writer_init(&w);
		msgpack_pack_map(&w.pk, 2);
		mp_pack_str(&w.pk, "details");
		msgpack_pack_map(&w.pk, 1);
		mp_pack_str(&w.pk, "ghi chu\xcc\x81"); /* "ghi chú", NFD */
		mp_pack_str(&w.pk, "Ba\xcc\x89n Na\xcc\x80"); /* "Bản Nà" */
		mp_pack_str(&w.pk, "amount_vnd");
		msgpack_pack_int64(&w.pk, 1500000);
		b = mp_writer_take(&w, &bl);
		mp_writer_destroy(&w);
		ASSERT_OK(mp_doc_parse(&d, b, bl, 64));
		ASSERT_EQ(textnorm_body_nfc(d.root, &nb, &nl), 1);
		ASSERT_OK(mp_doc_parse(&o, nb, nl, 64));
		m = mp_map_get(o.root, "details");
		ASSERT_TRUE(m && m->type == MSGPACK_OBJECT_MAP &&
			    m->via.map.size == 1);
		ASSERT_EQ(m->via.map.ptr[0].key.via.str.size, 8);
		ASSERT_MEMEQ(m->via.map.ptr[0].key.via.str.ptr,
			     "ghi ch\xc3\xba", 8);
		ASSERT_EQ(m->via.map.ptr[0].val.via.str.size, 9);
		ASSERT_MEMEQ(m->via.map.ptr[0].val.via.str.ptr,
			     "B\xe1\xba\xa3n N\xc3\xa0", 9);
		amt = mp_map_get(o.root, "amount_vnd");
		ASSERT_TRUE(amt && amt->via.u64 == 1500000);
		mp_doc_close(&o);
		mp_doc_close(&d);
		free(nb);
		free(b);
	}

	TEST_START("a field typed in NFD is judged by its length in NFC: "
		   "a JSON body at the limit as stored is taken, in NFC");
	{
		/* "ệ" 340 times: 1,020 bytes precomposed, 1,700 decomposed */
		char nfd[340 * 5 + 1], why2[512];
		const struct schema *sc = schema_find("health_profile");
		json_t *obj = json_object();
		struct mp_doc d;
		const msgpack_object *v;
		uint8_t *body = NULL;
		size_t bl = 0;

		for (int i = 0; i < 340; i++)
			memcpy(nfd + 5 * i, "e\xcc\xa3\xcc\x82", 5);
		nfd[340 * 5] = 0;
		ASSERT_TRUE(sc != NULL);
		json_object_set_new(obj, "allergies", json_string(nfd));
		ASSERT_OK(record_json_body(sc, obj, NULL, &body, &bl, why2,
					   sizeof(why2)));
		ASSERT_OK(mp_doc_parse(&d, body, bl, 64));
		v = mp_map_get(d.root, "allergies");
		ASSERT_TRUE(v && v->type == MSGPACK_OBJECT_STR);
		ASSERT_EQ(v->via.str.size, 340 * 3);
		ASSERT_TRUE(memcmp(v->via.str.ptr, "\xe1\xbb\x87", 3) == 0);
		mp_doc_close(&d);
		free(body);
		/* and one more, past the limit in either form: refused */
		{
			char big[343 * 3 + 1];
			for (int i = 0; i < 343; i++)
				memcpy(big + 3 * i, "\xe1\xbb\x87", 3);
			big[343 * 3] = 0;
			json_object_set_new(obj, "allergies", json_string(big));
		}
		ASSERT_EQ(record_json_body(sc, obj, NULL, &body, &bl, why2,
					   sizeof(why2)),
			  HAMLET_ESCHEMA);
		ASSERT_TRUE(strstr(why2, "at most 1024 bytes") != NULL);
		json_decref(obj);
	}

	TEST_START("a put typed in NFD is stored in NFC");
	ASSERT_OK(th_put(a, "health_profile", "NP-HP-1",
			 "person_id=001122334455;full_name=" NAME_NFD
			 ";birth_date=1990-04-12"));
	ASSERT_STREQ(th_field(a, "health_profile", "NP-HP-1", "full_name", got,
			      sizeof(got)),
		     NAME_NFC);

	TEST_START("the same name put again in either form changes nothing and "
		   "signs no entry");
	{
		uint64_t n0 = th_count_entries(a);
		struct log_author au;
		struct log_out out;
		size_t failed, bl;
		uint8_t *b = th_body("full_name=" NAME_NFC, &bl);
		struct log_op op = {
			ENTRY_PUT, "health_profile", "NP-HP-1", NULL, b, bl, 0, NULL, 0};
		node_author(a, &au);
		ASSERT_OK(log_write(a->st, &au, &op, 1, &out, &failed, why,
				    sizeof(why), NULL));
		ASSERT_EQ(out.status, LOG_DUPLICATE);
		free(b);
		b = th_body("full_name=" NAME_NFD, &bl);
		op.body = b;
		op.body_len = bl;
		ASSERT_OK(log_write(a->st, &au, &op, 1, &out, &failed, why,
				    sizeof(why), NULL));
		ASSERT_EQ(out.status, LOG_DUPLICATE);
		free(b);
		ASSERT_EQ(th_count_entries(a), n0);
	}

	TEST_START("an entry that arrives signed with NFD text is stored as "
		   "signed, not altered");
	{
		struct entries_row row;
		struct store_txn *t;
		struct entry e;
		struct log_in in = {0};
		struct log_out out;
		uint8_t f[32], *env, sig[ENTRY_SIG_LEN], *b;
		size_t el, bl;

		/* a's next entry made by hand, as an older node or another
		 * program would sign it: the body as typed */
		b = th_body("person_id=001122334466;full_name=" DANG_NFD
			    ";birth_date=1999-06-12",
			    &bl);
		log_feed_key(a->pk, a->scope, f);
		ASSERT_OK(store_txn_begin(a->st, 1, &t));
		ASSERT_OK(entries_get(t, f, 1, &row));
		memset(&e, 0, sizeof(e));
		ASSERT_OK(entry_decode(row.env, row.env_len, &e, NULL));
		entry_id(row.env, row.env_len, e.prev);
		store_txn_abort(t);
		e.seq = 2;
		e.has_prev = 1;
		e.hlc += 1 << 16;
		e.ndeps = 0;
		snprintf(e.record_id, sizeof(e.record_id), "NP-HP-7");
		entry_body_hash(b, bl, e.body_hash);
		e.body_len = bl;
		ASSERT_OK(entry_encode(&e, &env, &el));
		ASSERT_OK(entry_sign(env, el, a->sk, sig));
		in.env = env;
		in.env_len = el;
		in.sig = sig;
		in.body = b;
		in.body_len = bl;
		ASSERT_OK(
			log_ingest(a->st, a->net.id, &in, 1, &out, NULL, NULL));
		ASSERT_EQ(out.status, LOG_APPLIED);
		ASSERT_STREQ(th_field(a, "health_profile", "NP-HP-7",
				      "full_name", got, sizeof(got)),
			     DANG_NFD);
		free(env);
		free(b);
	}

	th_node_close(a);
	th_rmrf(dir);
	free(net);
	free(dir);
	return testlib_failures ? 1 : 0;
}
