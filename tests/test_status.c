/* status_json on hamletd's answer: a peer is judged on what waits for it,
 * a stranger (a key that never completed a session) is not judged at all,
 * however many there are. */
#include "helpers.h"
#include "mp.h"
#include "status.h"

#include <jansson.h>

/* hamletd's status answer: one known peer, then nstrangers strangers */
static void answer(struct mp_writer *w, const uint8_t known[32],
		   size_t nstrangers)
{
	mp_writer_init(w);
	msgpack_pack_map(&w->pk, 2);
	mp_pack_str(&w->pk, "digest");
	mp_pack_str(&w->pk, "0123");
	mp_pack_str(&w->pk, "peers");
	msgpack_pack_array(&w->pk, 1 + (uint32_t)nstrangers);
	msgpack_pack_map(&w->pk, 3);
	mp_pack_str(&w->pk, "key");
	mp_pack_bin(&w->pk, known, 32);
	mp_pack_str(&w->pk, "connected");
	msgpack_pack_false(&w->pk);
	mp_pack_str(&w->pk, "last_sync_ms");
	msgpack_pack_uint64(&w->pk, 0);
	for (size_t i = 0; i < nstrangers; i++) {
		uint8_t k[32];
		randombytes_buf(k, sizeof(k));
		msgpack_pack_map(&w->pk, 3);
		mp_pack_str(&w->pk, "key");
		mp_pack_bin(&w->pk, k, 32);
		mp_pack_str(&w->pk, "connected");
		msgpack_pack_false(&w->pk);
		mp_pack_str(&w->pk, "stranger");
		msgpack_pack_true(&w->pk);
	}
}

int main(void)
{
	char *dir = th_tmpdir();
	char *net = th_network(dir, "bk");
	struct node *c = th_node(dir, net, "c1", "bk/c1");
	struct node *v = th_node(dir, net, "v1", "bk/c1/v1");
	struct status_facts st;
	struct mp_writer w;
	struct mp_doc d;
	json_t *j, *peers;

	for (int i = 0; i < 20; i++) {
		char id[16];
		snprintf(id, sizeof(id), "HP-%d", i);
		ASSERT_OK(th_put(c, "health_profile", id,
				 "person_id=001000000001;full_name=A;birth_date=1990-01-01"));
	}

	TEST_START("a known peer is judged: what waits for it is counted");
	answer(&w, v->pk, 1000);
	ASSERT_TRUE(mp_doc_parse(&d, (const uint8_t *)w.sb.data, w.sb.size,
				 1 << 20) >= 0);
	memset(&st, 0, sizeof(st));
	st.n = c;
	ASSERT_OK(status_store_read(&st));
	st.running = 1;
	st.res = d.root;
	st.peers = mp_map_get(d.root, "peers");
	st.np = st.peers->via.array.size;
	j = status_json(&st);
	ASSERT_TRUE(j != NULL);
	peers = json_object_get(j, "peers");
	ASSERT_EQ(json_array_size(peers), (size_t)1001);
	ASSERT_TRUE(json_is_false(json_object_get(json_array_get(peers, 0),
						  "in_sync")));
	/* never agreed: it may lack all 20 of the commune's own */
	ASSERT_TRUE(json_is_integer(json_object_get(json_array_get(peers, 0),
						    "waiting_out")));

	TEST_START("a thousand strangers are listed, not judged: no figure for them");
	for (size_t i = 1; i < json_array_size(peers); i++) {
		json_t *p = json_array_get(peers, i);
		ASSERT_TRUE(json_is_false(json_object_get(p, "in_sync")));
		ASSERT_TRUE(json_is_null(json_object_get(p, "waiting_out")));
		ASSERT_TRUE(json_is_null(json_object_get(p, "lag_s")));
		ASSERT_TRUE(json_is_null(json_object_get(p, "name")));
		if (testlib_failures)
			break;
	}
	json_decref(j);
	mp_doc_close(&d);
	mp_writer_destroy(&w);

	th_node_close(v);
	th_node_close(c);
	th_rmrf(dir);
	free(net);
	free(dir);
	TEST_DONE();
}
