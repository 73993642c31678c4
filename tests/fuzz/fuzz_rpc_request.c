/*
 * Fuzz target: requests on hamletd's local socket. The daemon's request
 * handling (daemon/rpc*.c) is tied to its event loop; this target feeds
 * request bytes through the same shape checks, in the same order, with the
 * same mp_doc_parse() limits and mp_get_*() readers: the outer
 * [method, string|bin], then a "write" argument's operations and an
 * "ingest" argument's entries (see rpc_client.h for the formats).
 */
#include "entry.h"
#include "mp.h"
#include "rpc_client.h"

#include <string.h>

/* rpc_jobs.c write_op_decode(): [kind, collection, id, scope|nil,
 * body|nil, resolve, heads|nil] */
static void write_ops(const uint8_t *p, size_t n)
{
	struct mp_doc d;
	const msgpack_object *ops, *f;
	size_t nops;
	if (mp_doc_parse(&d, p, n, RPC_MAX_WRITE_OPS) < 0)
		return;
	if (mp_get_array(d.root, SIZE_MAX, RPC_MAX_WRITE_OPS, &ops, &nops) == 0)
		for (size_t i = 0; i < nops; i++) {
			char coll[ENTRY_MAX_COLLECTION + 1];
			char id[ENTRY_MAX_RECORD_ID + 1];
			char scope[ENTRY_MAX_SCOPE + 1];
			const uint8_t *body;
			size_t bl;
			uint64_t kind;
			int resolve;
			const uint8_t *heads;
			size_t hl;
			size_t nf;
			if (mp_get_array(&ops[i], SIZE_MAX, 7, &f, &nf) < 0 ||
			    nf < 6 ||
			    mp_get_uint(&f[0], ENTRY_DELETE, &kind) < 0 ||
			    kind < ENTRY_PUT ||
			    mp_get_cstr(&f[1], coll, sizeof(coll)) < 0 ||
			    mp_get_cstr(&f[2], id, sizeof(id)) < 0 ||
			    (!mp_is_nil(&f[3]) &&
			     mp_get_cstr(&f[3], scope, sizeof(scope)) < 0) ||
			    mp_get_bool(&f[5], &resolve) < 0 ||
			    (!mp_is_nil(&f[4]) &&
			     mp_get_bin(&f[4], ENTRY_MAX_BODY, &body, &bl) < 0) ||
			    (nf == 7 && !mp_is_nil(&f[6]) &&
			     (mp_get_bin(&f[6], 256 * 32, &heads, &hl) < 0 ||
			      hl % 32)))
				break;
		}
	mp_doc_close(&d);
}

/* rpc_jobs.c ingest_entry_decode(): [env, sig, body|nil] */
static void ingest_entries(const uint8_t *p, size_t n)
{
	struct mp_doc d;
	const msgpack_object *ents, *f;
	size_t ne;
	if (mp_doc_parse(&d, p, n, RPC_MAX_INGEST_ENTRIES) < 0)
		return;
	if (mp_get_array(d.root, SIZE_MAX, RPC_MAX_INGEST_ENTRIES, &ents,
			 &ne) == 0)
		for (size_t i = 0; i < ne; i++) {
			const uint8_t *env, *sig, *body;
			size_t el, sl, bl;
			struct entry e;
			int field;
			if (mp_get_array(&ents[i], 3, 0, &f, NULL) < 0 ||
			    mp_get_bin(&f[0], ENTRY_MAX_ENVELOPE, &env, &el) < 0 ||
			    el == 0 ||
			    mp_get_bin(&f[1], ENTRY_SIG_LEN, &sig, &sl) < 0 ||
			    sl != ENTRY_SIG_LEN ||
			    (!mp_is_nil(&f[2]) &&
			     mp_get_bin(&f[2], ENTRY_MAX_BODY, &body, &bl) < 0))
				break;
			/* what log_ingest() does first with each entry */
			entry_decode(env, el, &e, &field);
		}
	mp_doc_close(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_doc doc;
	const msgpack_object *a;
	size_t na;
	char method[32], arg[256];

	if (size > RPC_MAX_REQUEST)
		return 0;
	if (mp_doc_parse(&doc, data, size, 8) < 0)
		return 0;
	if (mp_get_array(doc.root, SIZE_MAX, 2, &a, &na) == 0 && na == 2 &&
	    mp_get_cstr(&a[0], method, sizeof(method)) == 0 &&
	    a[1].type == MSGPACK_OBJECT_BIN) {
		const uint8_t *b = (const uint8_t *)a[1].via.bin.ptr;
		size_t bl = a[1].via.bin.size;
		if (strcmp(method, "write") == 0)
			write_ops(b, bl);
		else if (strcmp(method, "ingest") == 0)
			ingest_entries(b, bl);
	} else if (mp_get_array(doc.root, SIZE_MAX, 2, &a, &na) == 0 &&
		   na >= 1 && mp_get_cstr(&a[0], method, sizeof(method)) == 0 &&
		   na == 2) {
		mp_get_cstr(&a[1], arg, sizeof(arg));
	}
	mp_doc_close(&doc);
	return 0;
}

static uint8_t *request(const char *method, const char *sarg,
			const uint8_t *barg, size_t blen, size_t *ret_len)
{
	struct mp_writer w;
	uint8_t *p;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, sarg || barg ? 2 : 1);
	mp_pack_str(&w.pk, method);
	if (sarg)
		mp_pack_str(&w.pk, sarg);
	else if (barg)
		mp_pack_bin(&w.pk, barg, blen);
	p = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return p;
}

size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static uint8_t *seeds[4];
	static size_t lens[4];
	struct mp_writer w;
	uint8_t *arg, env[40] = { 0x93 }, sig[64] = { 0 };
	static const uint8_t heads[2][32] = { { 1 }, { 2 } };
	size_t al;

	seeds[0] = request("status", NULL, NULL, 0, &lens[0]);
	seeds[1] = request("peer_add", "10.0.0.2:7400", NULL, 0, &lens[1]);
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 3);
	rpc_pack_write_op(&w.pk, ENTRY_PUT, "payment", "PAY-1", "bk/bt",
			  (const uint8_t *)"\x81\xa1k\xa1v", 5, 0, NULL, 0);
	rpc_pack_write_op(&w.pk, ENTRY_DELETE, "payment", "PAY-2", NULL, NULL,
			  0, 1, NULL, 0);
	rpc_pack_write_op(&w.pk, ENTRY_PUT, "payment", "PAY-3", NULL,
			  (const uint8_t *)"\x81\xa1k\xa1v", 5, 1, heads, 2);
	arg = mp_writer_take(&w, &al);
	seeds[2] = request("write", NULL, arg, al, &lens[2]);
	free(arg);
	msgpack_pack_array(&w.pk, 1);
	msgpack_pack_array(&w.pk, 3);
	mp_pack_bin(&w.pk, env, sizeof(env));
	mp_pack_bin(&w.pk, sig, sizeof(sig));
	msgpack_pack_nil(&w.pk);
	arg = mp_writer_take(&w, &al);
	mp_writer_destroy(&w);
	seeds[3] = request("ingest", NULL, arg, al, &lens[3]);
	free(arg);
	*ret_seeds = seeds;
	*ret_lens = lens;
	return 4;
}
