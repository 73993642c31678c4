/*
 * Bytes per record: the workloads whose wire and bundle bytes bench/sync
 * sets beside their size as JSON, and the in-process breakdown of what
 * the compact form, zstd and a zstd dictionary each save at 2G-sized
 * batches. Header-only, like bench_util.h.
 *
 * A record's JSON size is its body as compact JSON (field names and
 * values, as an HTTP API or an export would carry it).
 */
#ifndef HAMLET_BENCH_BYTES_H
#define HAMLET_BENCH_BYTES_H

#include "bench_util.h"
#include "run.h"
#include "zst.h"

#include <jansson.h>
#include <zdict.h>
#include <zstd.h>

/* One record to write: collection, id, body as JSON. */
struct bb_rec {
	const char *coll;
	char rid[40];
	char json[512];
};

/* A typical health profile: about 254 bytes of JSON. */
static inline void bb_profile(unsigned i, struct bb_rec *r)
{
	static const char *const given[] = { "Hoa", "Lan", "Minh", "Tuan",
					     "Mai", "Duc", "Thu", "Hung" };
	static const char *const family[] = { "Nong Thi", "Hoang Van",
					      "Be Thi", "Lo Van" };
	r->coll = "health_profile";
	snprintf(r->rid, sizeof(r->rid), "HP-%06u", i);
	snprintf(r->json, sizeof(r->json),
		 "{\"person_id\":\"0010870%05u\",\"full_name\":\"%s %s\","
		 "\"birth_date\":\"19%02u-%02u-%02u\",\"sex\":\"%s\","
		 "\"ethnicity\":\"Tay\",\"household_id\":\"HH-%06u\","
		 "\"village\":\"na-pai\",\"phone\":\"09%08u\","
		 "\"insurance_no\":\"HN40100%08u\",\"blood_type\":\"O+\","
		 "\"allergies\":\"penicillin\"}",
		 i, family[i % 4], given[i % 8], 40 + i % 60, 1 + i % 12,
		 1 + i % 28, i % 2 ? "male" : "female", i / 4,
		 (i * 7919u) % 100000000u, i);
}

/*
 * The mix, by tens: 3 profiles, 3 health events, 2 payments created,
 * then those 2 payments approved (status updates).
 */
static inline void bb_mix(unsigned i, struct bb_rec *r)
{
	unsigned k = i % 10, t = i / 10;
	static const char *const kinds[] = { "immunization", "encounter",
					     "vital" };
	static const char *const vals[] = { "MMR dose 2", "fever, 38.5 C",
					    "BP 128/84" };
	if (k < 3) {
		bb_profile(t * 3 + k, r);
	} else if (k < 6) {
		r->coll = "health_event";
		snprintf(r->rid, sizeof(r->rid), "HE-%06u", t * 3 + k - 3);
		snprintf(r->json, sizeof(r->json),
			 "{\"person_id\":\"0010870%05u\",\"kind\":\"%s\","
			 "\"date\":\"2024-%02u-%02u\",\"code\":\"Z%02u.%u\","
			 "\"value\":\"%s\"}",
			 t * 3 + k - 3, kinds[k - 3], 1 + t % 12, 1 + t % 28,
			 t % 100, k, vals[k - 3]);
	} else if (k < 8) {
		r->coll = "payment";
		snprintf(r->rid, sizeof(r->rid), "PAY-%06u", t * 2 + k - 6);
		snprintf(r->json, sizeof(r->json),
			 "{\"program\":\"social_allowance\","
			 "\"beneficiary_id\":\"0010870%05u\","
			 "\"household_id\":\"HH-%06u\",\"period\":\"2024-%02u\","
			 "\"amount_vnd\":%u,\"wallet_provider\":\"viettel-money\","
			 "\"status\":\"created\"}",
			 t * 2 + k - 6, t / 2, 1 + t % 12, 360000 + 1000 * (t % 50));
	} else {
		/* the payment created earlier in this ten moves on */
		unsigned p = t * 2 + k - 8;
		r->coll = "payment";
		snprintf(r->rid, sizeof(r->rid), "PAY-%06u", p);
		snprintf(r->json, sizeof(r->json),
			 "{\"status\":\"approved\",\"wallet_txn_ref\":\"VTM%09u\"}",
			 p * 31u);
	}
}

/* The JSON object text as a msgpack body (str, int, map of str). */
static inline uint8_t *bb_body(const char *text, size_t *ret_len)
{
	json_error_t err;
	json_t *o = json_loads(text, 0, &err), *v;
	const char *k;
	struct mp_writer w;
	uint8_t *p;
	if (!o)
		return NULL;
	mp_writer_init(&w);
	msgpack_pack_map(&w.pk, json_object_size(o));
	json_object_foreach(o, k, v) {
		mp_pack_str(&w.pk, k);
		if (json_is_integer(v))
			msgpack_pack_int64(&w.pk, json_integer_value(v));
		else
			mp_pack_str(&w.pk, json_string_value(v));
	}
	json_decref(o);
	p = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return p;
}

/* The JSON's compact size, as jansson writes it. */
static inline size_t bb_json_len(const char *text)
{
	json_t *o = json_loads(text, 0, NULL);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	size_t n = s ? strlen(s) : 0;
	free(s);
	json_decref(o);
	return n;
}

/* Write n records of gen on a, 500 a transaction; returns their JSON
 * bytes. */
static inline uint64_t bb_write(struct node *a,
				void (*gen)(unsigned, struct bb_rec *),
				unsigned n)
{
	enum { CH = 500 };
	struct log_author au;
	struct log_op *ops = calloc(CH, sizeof(*ops));
	struct bb_rec *recs = calloc(CH, sizeof(*recs));
	uint8_t **bodies = calloc(CH, sizeof(*bodies));
	uint64_t json = 0;
	char why[256];
	size_t failed;
	int r;

	if (!ops || !recs || !bodies)
		return 0;
	node_author(a, &au);
	for (unsigned done = 0; done < n;) {
		unsigned k = n - done < CH ? n - done : CH;
		for (unsigned i = 0; i < k; i++) {
			gen(done + i, &recs[i]);
			json += bb_json_len(recs[i].json);
			bodies[i] = bb_body(recs[i].json, &ops[i].body_len);
			ops[i] = (struct log_op){ ENTRY_PUT, recs[i].coll,
						  recs[i].rid, NULL, bodies[i],
						  ops[i].body_len, 0, NULL, 0 };
		}
		if ((r = log_write(a->st, &au, ops, k, NULL, &failed, why,
				   sizeof(why), NULL)) < 0) {
			fprintf(stderr, "bench: write: %s: %s\n",
				hamlet_strerror(r), why);
			exit(1);
		}
		for (unsigned i = 0; i < k; i++)
			free(bodies[i]);
		done += k;
	}
	free(ops);
	free(recs);
	free(bodies);
	return json;
}

/* Bytes of one feed's entries sent in batches of k, each way of
 * encoding them (totals over the feed). */
struct bb_enc {
	uint64_t whole, compact, zwhole, zcompact, zdict;
};

/* The v3 ENTRIES batch: [[env, sig, body], ...]. */
static inline uint8_t *bb_whole(const struct run_entry *v, size_t n,
				size_t *ret_len)
{
	struct mp_writer w;
	uint8_t *p;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_array(&w.pk, 3);
		mp_pack_bin(&w.pk, v[i].env, v[i].env_len);
		mp_pack_bin(&w.pk, v[i].sig, 64);
		if (v[i].body)
			mp_pack_bin(&w.pk, v[i].body, v[i].body_len);
		else
			msgpack_pack_nil(&w.pk);
	}
	p = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return p;
}

/*
 * Encode the feed (key, seq 1..head) of n in batches of k every way; the
 * dictionary (16 KiB, trained on the compact runs of the first half of
 * the batches) is tried on the second half only, so zdict is compared
 * with zcompact over that half: *ret_half holds zcompact for it.
 */
static inline int bb_encode(struct node *nd, const uint8_t key[32],
			    uint64_t head, size_t k, struct bb_enc *ret,
			    uint64_t *ret_half)
{
	struct store_txn *t;
	struct run_entry *v = calloc(k, sizeof(*v));
	struct bodyz_buf *zb = calloc(k, sizeof(*zb));
	uint8_t(*eb)[ENTRY_MAX_ENVELOPE] = calloc(k, ENTRY_MAX_ENVELOPE);
	size_t nb = (size_t)((head + k - 1) / k), *sizes = calloc(nb, sizeof(size_t));
	uint8_t **runs = calloc(nb, sizeof(*runs)), *dict = malloc(16384), *samples;
	size_t dl, tot = 0, off = 0, cap;
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	int r;

	memset(ret, 0, sizeof(*ret));
	*ret_half = 0;
	if ((r = store_txn_begin(nd->st, 1, &t)) < 0)
		return r;
	for (size_t b = 0; b < nb; b++) {
		size_t n = 0, wl, zl;
		uint8_t *w, *z, id[32];
		struct run_head h;
		for (uint64_t s = b * k + 1; s <= head && n < k; s++, n++) {
			struct entry e;
			if ((r = log_entry_get(t, key, s, eb[n], &v[n].env,
					       &v[n].env_len, &v[n].sig)) < 0 ||
			    (r = entry_decode(v[n].env, v[n].env_len, &e,
					      NULL)) < 0)
				return r;
			entry_id(v[n].env, v[n].env_len, id);
			v[n].body = NULL;
			v[n].body_len = 0;
			if (e.has_body)
				log_body_of(t, key, s, &zb[n], &v[n].body,
					     &v[n].body_len);
		}
		w = bb_whole(v, n, &wl);
		zst_compress(w, wl, &z, &zl);
		ret->whole += wl;
		ret->zwhole += zl;
		free(w);
		free(z);
		run_head_of(&v[0], &h);
		run_encode(&h, v, n, &runs[b], &sizes[b], NULL);
		zst_compress(runs[b], sizes[b], &z, &zl);
		ret->compact += sizes[b];
		ret->zcompact += zl;
		if (b >= nb / 2)
			*ret_half += zl;
		free(z);
		tot += sizes[b];
	}
	store_txn_abort(t);
	/* the dictionary: trained on the first half, used on the second */
	samples = malloc(tot);
	for (size_t b = 0; b < nb / 2; b++) {
		memcpy(samples + off, runs[b], sizes[b]);
		off += sizes[b];
	}
	dl = ZDICT_trainFromBuffer(dict, 16384, samples, sizes, (unsigned)(nb / 2));
	for (size_t b = nb / 2; b < nb; b++) {
		uint8_t *z = malloc(cap = ZSTD_compressBound(sizes[b]));
		size_t zl = ZDICT_isError(dl) ? 0
			: ZSTD_compress_usingDict(cc, z, cap, runs[b], sizes[b],
						  dict, dl, ZST_LEVEL);
		ret->zdict += ZSTD_isError(zl) ? 0 : zl;
		free(z);
	}
	for (size_t b = 0; b < nb; b++)
		free(runs[b]);
	ZSTD_freeCCtx(cc);
	free(samples);
	free(runs);
	free(sizes);
	free(dict);
	free(v);
	free(eb);
	for (size_t i = 0; i < k; i++)
		bodyz_buf_free(&zb[i]);
	free(zb);
	return ZDICT_isError(dl) ? -EINVAL : 0;
}

#endif
