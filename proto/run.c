#include "run.h"

#include "error.h"
#include "why.h"
#include "mp.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int run_head_of(const struct run_entry *e0, struct run_head *ret)
{
	struct entry e;
	int r;

	if ((r = entry_decode(e0->env, e0->env_len, &e, NULL)) < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->network_id, e.network_id, 32);
	memcpy(ret->author, e.author, ENTRY_KEY_LEN);
	memcpy(ret->scope, e.scope, sizeof(ret->scope));
	ret->first_seq = e.seq;
	ret->has_prev = e.has_prev;
	memcpy(ret->prev, e.prev, ENTRY_ID_LEN);
	return 0;
}

void run_head_feed_key(const struct run_head *h, uint8_t ret_key[32])
{
	crypto_generichash_blake2b_state s;
	crypto_generichash_blake2b_init(&s, NULL, 0, 32);
	crypto_generichash_blake2b_update(&s, h->author, ENTRY_KEY_LEN);
	crypto_generichash_blake2b_update(&s, (const uint8_t *)h->scope,
					  strlen(h->scope));
	crypto_generichash_blake2b_final(&s, ret_key, 32);
}

/* --- encoding ---------------------------------------------------------- */

/*
 * How entry i of the run travels: RUN_FULL unless its envelope decodes,
 * sits where the run says (feed, seq, prev), its body (if sent) is the
 * one it names, and re-encoding it gives the very bytes signed.
 */
static int classify(const struct run_head *h, const struct run_entry *v,
		    size_t i, uint8_t (*ids)[ENTRY_ID_LEN], struct entry *e)
{
	const struct run_entry *x = &v[i];
	uint8_t hash[ENTRY_HASH_LEN], *p;
	size_t l;
	int same;

	if (entry_decode(x->env, x->env_len, e, NULL) < 0 ||
	    memcmp(e->network_id, h->network_id, 32) != 0 ||
	    memcmp(e->author, h->author, ENTRY_KEY_LEN) != 0 ||
	    strcmp(e->scope, h->scope) != 0 || e->seq != h->first_seq + i)
		return RUN_FULL;
	if (i == 0 ? e->has_prev != h->has_prev ||
			     (e->has_prev &&
			      memcmp(e->prev, h->prev, ENTRY_ID_LEN) != 0)
		   : !e->has_prev ||
			     memcmp(e->prev, ids[i - 1], ENTRY_ID_LEN) != 0)
		return RUN_FULL;
	if (x->body) {
		if (!e->has_body || x->body_len != e->body_len)
			return RUN_FULL;
		entry_body_hash(x->body, x->body_len, hash);
		if (memcmp(hash, e->body_hash, ENTRY_HASH_LEN) != 0)
			return RUN_FULL;
	}
	if (entry_encode(e, &p, &l) < 0)
		return RUN_FULL;
	same = l == x->env_len && memcmp(p, x->env, l) == 0;
	free(p);
	if (!same)
		return RUN_FULL;
	return e->has_body && !x->body ? RUN_WITHHELD : RUN_COMPACT;
}

static void pack_body(msgpack_packer *pk, const struct run_entry *x)
{
	if (x->body)
		mp_pack_bin(pk, x->body, x->body_len);
	else
		msgpack_pack_nil(pk);
}

int run_encode(const struct run_head *h, const struct run_entry *v, size_t n,
	       uint8_t **ret, size_t *ret_len, struct run_stats *st)
{
	uint8_t(*ids)[ENTRY_ID_LEN] = malloc((n ? n : 1) * ENTRY_ID_LEN);
	struct mp_writer w;
	msgpack_packer *pk = &w.pk;
	uint64_t base = 0;
	struct entry e;

	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (v[i].env_len > ENTRY_MAX_ENVELOPE ||
		    v[i].body_len > ENTRY_MAX_BODY) {
			free(ids);
			return HAMLET_ETOOBIG;
		}
	mp_writer_init(&w);
	msgpack_pack_array(pk, RUN_FIELDS);
	mp_pack_bin(pk, h->network_id, 32);
	mp_pack_bin(pk, h->author, ENTRY_KEY_LEN);
	mp_pack_str(pk, h->scope);
	msgpack_pack_uint64(pk, h->first_seq);
	if (h->has_prev)
		mp_pack_bin(pk, h->prev, ENTRY_ID_LEN);
	else
		msgpack_pack_nil(pk);
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++) {
		const struct run_entry *x = &v[i];
		int tag;

		entry_id(x->env, x->env_len, ids[i]);
		tag = classify(h, v, i, ids, &e);
		if (st)
			tag == RUN_FULL ? st->full++ : st->compact++;
		if (tag == RUN_FULL) {
			msgpack_pack_array(pk, 4);
			msgpack_pack_uint8(pk, RUN_FULL);
			mp_pack_bin(pk, x->env, x->env_len);
			mp_pack_bin(pk, x->sig, ENTRY_SIG_LEN);
			pack_body(pk, x);
			continue;
		}
		msgpack_pack_array(pk, tag == RUN_WITHHELD ? 9 : 8);
		msgpack_pack_uint8(pk, (uint8_t)tag);
		/* two's complement: the receiver adds it back modulo 2^64 */
		msgpack_pack_int64(pk, (int64_t)(e.hlc - base));
		base = e.hlc;
		msgpack_pack_uint8(pk, (uint8_t)e.kind);
		mp_pack_str(pk, e.collection);
		mp_pack_str(pk, e.record_id);
		msgpack_pack_array(pk, e.ndeps);
		for (size_t k = 0; k < e.ndeps; k++) {
			size_t j = 0;
			while (j < i && memcmp(ids[j], e.deps[k], ENTRY_ID_LEN))
				j++;
			if (j < i)
				msgpack_pack_uint64(pk, j); /* an earlier entry */
			else
				mp_pack_bin(pk, e.deps[k], ENTRY_ID_LEN);
		}
		mp_pack_bin(pk, x->sig, ENTRY_SIG_LEN);
		if (tag == RUN_COMPACT) {
			pack_body(pk, x);
		} else {
			mp_pack_bin(pk, e.body_hash, ENTRY_HASH_LEN);
			msgpack_pack_uint64(pk, e.body_len);
		}
	}
	free(ids);
	*ret = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return *ret ? 0 : -ENOMEM;
}

/* --- decoding ---------------------------------------------------------- */

static int decode_head(const msgpack_object *f, struct run_head *h, char *why,
		       size_t whylen)
{
	int r;

	memset(h, 0, sizeof(*h));
	CHECK(mp_get_bin_fixed(&f[0], 32, h->network_id),
	      N_("run.network_id is not a 32-byte bin"));
	CHECK(mp_get_bin_fixed(&f[1], ENTRY_KEY_LEN, h->author),
	      N_("run.author is not a 32-byte bin"));
	CHECK(mp_get_cstr(&f[2], h->scope, sizeof(h->scope)),
	      N_("run.scope is not a string of at most %d bytes"),
	      ENTRY_MAX_SCOPE);
	if (entry_scope_check(h->scope) < 0)
		FAULT(HAMLET_ESCOPE, N_("run.scope is not a valid scope"));
	CHECK(mp_get_uint(&f[3], ENTRY_MAX_SEQ, &h->first_seq),
	      N_("run.first_seq is not a seq"));
	if (h->first_seq == 0)
		FAULT(HAMLET_EFORMAT, N_("run.first_seq is 0"));
	if (!mp_is_nil(&f[4])) {
		CHECK(mp_get_bin_fixed(&f[4], ENTRY_ID_LEN, h->prev),
		      N_("run.prev is not nil or a 32-byte bin"));
		h->has_prev = 1;
	}
	if ((h->first_seq == 1) != !h->has_prev)
		FAULT(HAMLET_ECHAIN, N_("run.prev must be nil exactly when run.first_seq is 1"));
	r = 0;
out:
	return r;
}

/* A signature: a bin of exactly ENTRY_SIG_LEN bytes, borrowed. */
static int get_sig(const msgpack_object *o, const uint8_t **ret)
{
	size_t n;
	int r;
	if ((r = mp_get_bin(o, ENTRY_SIG_LEN, ret, &n)) < 0)
		return r;
	return n == ENTRY_SIG_LEN ? 0 : HAMLET_EFORMAT;
}

/* The body of a tag 0 or 1 entry: nil or a bin. */
static int get_body(const msgpack_object *o, const uint8_t **ret,
		    size_t *ret_len)
{
	*ret = NULL;
	*ret_len = 0;
	if (mp_is_nil(o))
		return 0;
	return mp_get_bin(o, ENTRY_MAX_BODY, ret, ret_len);
}

/* The fields of compact entry i (tag, array x[]) into e; the body, if
 * sent, into *out. */
static int decode_compact(const msgpack_object *x, size_t nx, int tag,
			  size_t i, uint8_t (*ids)[ENTRY_ID_LEN],
			  uint64_t *base, struct entry *e,
			  struct run_entry *out, char *why, size_t whylen)
{
	const msgpack_object *deps;
	int64_t delta;
	uint64_t u;
	size_t nd;
	int r;

	if (nx != (tag == RUN_COMPACT ? 8u : 9u))
		FAULT(HAMLET_EFORMAT, N_("run entry %zu of tag %d has %zu fields"),
		      i, tag, nx);
	CHECK(mp_get_int(&x[1], &delta), N_("run entry %zu: hlc is not an integer"),
	      i);
	e->hlc = *base + (uint64_t)delta;
	*base = e->hlc;
	CHECK(mp_get_uint(&x[2], ENTRY_ERASE, &u),
	      N_("run entry %zu: kind is not 1..%d"), i, ENTRY_ERASE);
	if (u < ENTRY_PUT)
		FAULT(HAMLET_EFORMAT, N_("run entry %zu: kind is 0"), i);
	e->kind = (int)u;
	CHECK(mp_get_cstr(&x[3], e->collection, sizeof(e->collection)),
	      N_("run entry %zu: collection is not a string of at most %d bytes"),
	      i, ENTRY_MAX_COLLECTION);
	CHECK(mp_get_cstr(&x[4], e->record_id, sizeof(e->record_id)),
	      N_("run entry %zu: record_id is not a string of at most %d bytes"),
	      i, ENTRY_MAX_RECORD_ID);
	CHECK(mp_get_array(&x[5], SIZE_MAX, ENTRY_MAX_DEPS, &deps, &nd),
	      N_("run entry %zu: deps is not an array of at most %d"), i,
	      ENTRY_MAX_DEPS);
	for (size_t k = 0; k < nd; k++) {
		if (deps[k].type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			if (deps[k].via.u64 >= i)
				FAULT(HAMLET_EFORMAT,
				      N_("run entry %zu: deps[%zu] names no earlier entry of the run"),
				      i, k);
			memcpy(e->deps[k], ids[deps[k].via.u64], ENTRY_ID_LEN);
		} else {
			CHECK(mp_get_bin_fixed(&deps[k], ENTRY_ID_LEN,
					       e->deps[k]),
			      N_("run entry %zu: deps[%zu] is not a 32-byte bin or an index"),
			      i, k);
		}
	}
	e->ndeps = nd;
	CHECK(get_sig(&x[6], &out->sig), N_("run entry %zu: sig is not a 64-byte bin"),
	      i);
	if (tag == RUN_COMPACT) {
		CHECK(get_body(&x[7], &out->body, &out->body_len),
		      N_("run entry %zu: body is not nil or a bin of at most %d bytes"),
		      i, ENTRY_MAX_BODY);
		e->has_body = x[7].type != MSGPACK_OBJECT_NIL;
		e->body_len = out->body_len;
		if (e->has_body) {
			entry_body_hash(out->body ? out->body
						  : (const uint8_t *)"",
					out->body_len, e->body_hash);
			out->body_hashed = 1;
		}
	} else {
		CHECK(mp_get_bin_fixed(&x[7], ENTRY_HASH_LEN, e->body_hash),
		      N_("run entry %zu: body_hash is not a 32-byte bin"), i);
		CHECK(mp_get_uint(&x[8], ENTRY_MAX_BODY, &e->body_len),
		      N_("run entry %zu: body_len is not a length up to %d"), i,
		      ENTRY_MAX_BODY);
		e->has_body = 1;
	}
	r = 0;
out:
	return r;
}

/*
 * A whole entry (tag 0) i of the run: one whose envelope decodes must
 * lie where the run says, at its network, feed and seq (SPEC 1.7); its
 * prev is the log's to judge (another prev than entry i - 1's id is a
 * fork). One that does not decode is taken as is: the log refuses it
 * alone.
 */
static int whole_check(const struct run_head *h, const struct run_entry *o,
		       size_t i, char *why, size_t whylen)
{
	struct entry e;
	int r;

	if (entry_decode(o->env, o->env_len, &e, NULL) < 0)
		return 0;
	if (memcmp(e.network_id, h->network_id, 32) != 0)
		FAULT(HAMLET_EFORMAT,
		      N_("run entry %zu (whole) is of another network than the run"),
		      i);
	if (memcmp(e.author, h->author, ENTRY_KEY_LEN) != 0 ||
	    strcmp(e.scope, h->scope) != 0)
		FAULT(HAMLET_EFORMAT,
		      N_("run entry %zu (whole) is of another feed (scope %s) than the run's (scope %s)"),
		      i, e.scope, h->scope);
	if (e.seq != h->first_seq + i)
		FAULT(HAMLET_EFORMAT,
		      N_("run entry %zu (whole) has seq %llu, not first_seq + %zu = %llu"),
		      i, (unsigned long long)e.seq, i,
		      (unsigned long long)(h->first_seq + i));
	r = 0;
out:
	return r;
}

/* The fields of compact entry i that the run gives (e, rebuilt) within
 * the envelope's limits (SPEC 1.1), naming the one that is not. */
static int rebuilt_check(const struct entry *e, size_t i, char *why,
			 size_t whylen)
{
	int r;

	if (e->seq > ENTRY_MAX_SEQ)
		FAULT(HAMLET_EFORMAT,
		      N_("run entry %zu: its seq, first_seq + %zu, is over 2^53"),
		      i, i);
	if (entry_collection_check(e->collection) < 0)
		FAULT(HAMLET_EFORMAT,
		      N_("run entry %zu: collection \"%s\" is not 1 to %d bytes of a-z, 0-9 and _"),
		      i, e->collection, ENTRY_MAX_COLLECTION);
	if (entry_record_id_check(e->record_id) < 0)
		FAULT(HAMLET_EFORMAT,
		      N_("run entry %zu: record_id \"%s\" is not 1 to %d bytes of A-Z, a-z, 0-9 and ._:- (nor . or .. alone)"),
		      i, e->record_id, ENTRY_MAX_RECORD_ID);
	r = 0;
out:
	return r;
}

int run_decode(const uint8_t *buf, size_t len, size_t max,
	       run_alloc_fn alloc, void *ctx, struct run_head *ret_head,
	       struct run_entry *out, size_t *ret_n, char *why, size_t whylen)
{
	uint8_t(*ids)[ENTRY_ID_LEN] = NULL, *envs = NULL;
	struct entry *decs = NULL;
	const msgpack_object *f, *ev, *x;
	struct run_head h;
	struct mp_doc d;
	uint64_t base = 0, tag;
	size_t n, nx, off = 0;
	int r, parsed = 0;

	if (why && whylen)
		why[0] = 0;
	CHECK(mp_doc_parse(&d, buf, len, max > 16 ? max : 16),
	      N_("run is not one valid msgpack object of at most %zu entries"),
	      max);
	parsed = 1;
	CHECK(mp_get_array(d.root, RUN_FIELDS, 0, &f, NULL),
	      N_("run is not an array of %d fields"), RUN_FIELDS);
	if ((r = decode_head(f, &h, why, whylen)) < 0)
		goto out;
	CHECK(mp_get_array(&f[5], SIZE_MAX, max, &ev, &n),
	      N_("run.entries is not an array of at most %zu"), max);
	/* the envelopes, then the fields each was rebuilt from, aligned
	 * whatever alignment alloc gives (a msgpack zone's is a pointer's) */
	if (n && (!(ids = malloc(n * ENTRY_ID_LEN)) ||
		  !(envs = alloc(ctx, n * (ENTRY_MAX_ENVELOPE +
					   sizeof(struct entry)) +
					      _Alignof(struct entry)))))
		FAULT(-ENOMEM, N_("out of memory"));
	if (n) {
		uintptr_t at = (uintptr_t)(envs + n * ENTRY_MAX_ENVELOPE),
			  a = _Alignof(struct entry);
		decs = (struct entry *)(void *)(envs + n * ENTRY_MAX_ENVELOPE +
						(a - at % a) % a);
	}
	for (size_t i = 0; i < n; i++) {
		struct run_entry *o = &out[i];
		struct entry e;
		uint8_t *p;
		size_t pl;

		CHECK(mp_get_array(&ev[i], SIZE_MAX, 9, &x, &nx),
		      N_("run entry %zu is not an array of at most 9 fields"), i);
		if (nx < 1)
			FAULT(HAMLET_EFORMAT, N_("run entry %zu is empty"), i);
		if (x[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    x[0].via.u64 > RUN_WITHHELD)
			FAULT(HAMLET_EFORMAT,
			      N_("run entry %zu: the tag is not 0, 1 or 2"), i);
		tag = x[0].via.u64;
		memset(o, 0, sizeof(*o));
		if (tag == RUN_FULL) {
			if (nx != 4)
				FAULT(HAMLET_EFORMAT,
				      N_("run entry %zu is not [0, env, sig, body]"),
				      i);
			CHECK(mp_get_bin(&x[1], ENTRY_MAX_ENVELOPE, &o->env,
					 &o->env_len),
			      N_("run entry %zu: env is not a bin of at most %d bytes"),
			      i, ENTRY_MAX_ENVELOPE);
			CHECK(get_sig(&x[2], &o->sig),
			      N_("run entry %zu: sig is not a 64-byte bin"), i);
			CHECK(get_body(&x[3], &o->body, &o->body_len),
			      N_("run entry %zu: body is not nil or a bin of at most %d bytes"),
			      i, ENTRY_MAX_BODY);
			if ((r = whole_check(&h, o, i, why, whylen)) < 0)
				goto out;
			entry_id(o->env, o->env_len, ids[i]);
			memcpy(o->id, ids[i], ENTRY_ID_LEN);
			continue;
		}
		memset(&e, 0, sizeof(e));
		if ((r = decode_compact(x, nx, (int)tag, i, ids, &base, &e, o,
					why, whylen)) < 0)
			goto out;
		memcpy(e.network_id, h.network_id, 32);
		memcpy(e.author, h.author, ENTRY_KEY_LEN);
		memcpy(e.scope, h.scope, sizeof(e.scope));
		e.seq = h.first_seq + i;
		e.has_prev = i > 0 || h.has_prev;
		memcpy(e.prev, i > 0 ? ids[i - 1] : h.prev, ENTRY_ID_LEN);
		if ((r = rebuilt_check(&e, i, why, whylen)) < 0)
			goto out;
		if ((r = entry_encode(&e, &p, &pl)) == -ENOMEM)
			FAULT(r, N_("out of memory"));
		if (r < 0) /* the fields are checked: only its size is left */
			FAULT(HAMLET_EFORMAT,
			      N_("run entry %zu: its envelope would be over %d bytes"),
			      i, ENTRY_MAX_ENVELOPE);
		memcpy(envs + off, p, pl);
		free(p);
		o->env = envs + off;
		o->env_len = pl;
		off += pl;
		entry_id(o->env, o->env_len, ids[i]);
		memcpy(o->id, ids[i], ENTRY_ID_LEN);
		/* as entry_decode() of the envelope has them: no prev at
		 * seq 1 */
		if (!e.has_prev)
			memset(e.prev, 0, sizeof(e.prev));
		memcpy(&decs[i], &e, sizeof(e));
		o->dec = &decs[i];
	}
	*ret_head = h;
	*ret_n = n;
	r = 0;
out:
	/* SPEC 1.7: a wrong type, a count over a limit, a field out of its
	 * alphabet make the run malformed; why names which and the limit */
	if (r < 0 && r != -ENOMEM && r != HAMLET_ECHAIN)
		r = HAMLET_EFORMAT;
	free(ids);
	if (parsed)
		mp_doc_close(&d);
	return r;
}
