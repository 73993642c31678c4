/*
 * record_digest: the state digest, kept up to date in ST_META so that
 * reading it costs the same for ten records as for a million.
 *
 * Each records row hashes to h = BLAKE2b-256(len(key) ‖ key ‖ len(value)
 * ‖ value); the meta row "digest" holds S, the sum of every h read as a
 * little-endian 256-bit integer (mod 2^256), and the number of rows, N.
 * record_materialize replaces a row and the digest in one transaction:
 * S - h(old) + h(new). A sum does not depend on the order rows were
 * written in, and rows are a pure function of the entries held, so two
 * nodes holding the same entries hold the same S and N. The digest shown
 * is BLAKE2b-256 keyed "hamlet/digest/v2" over S ‖ be64(N).
 */
#include "record_internal.h"

#include "error.h"

#include <sodium.h>
#include <string.h>

#define META_DIGEST "digest"
#define META_DIGEST_LEN (sizeof(META_DIGEST) - 1)
#define DIGEST_KEY "hamlet/digest/v2"

static void add256(uint8_t s[32], const uint8_t h[32]);

static void sum_add(struct record_digest_sum *x, const uint8_t h[32])
{
	add256(x->s, h);
	x->n++;
}

static void sum_sub(struct record_digest_sum *x, const uint8_t h[32])
{
	int borrow = 0;
	for (int i = 0; i < 32; i++) {
		int d = (int)x->s[i] - h[i] - borrow;
		borrow = d < 0;
		x->s[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
	x->n--;
}

void record_digest_sum_add(struct record_digest_sum *x, const uint8_t h[32])
{
	sum_add(x, h);
}

void record_digest_sum_final(const struct record_digest_sum *x,
			     uint8_t ret[32])
{
	crypto_generichash_blake2b_state h;
	uint8_t n[8];

	store_be64(n, x->n);
	crypto_generichash_blake2b_init(&h, (const uint8_t *)DIGEST_KEY,
					sizeof(DIGEST_KEY) - 1, 32);
	crypto_generichash_blake2b_update(&h, x->s, 32);
	crypto_generichash_blake2b_update(&h, n, 8);
	crypto_generichash_blake2b_final(&h, ret, 32);
}

/* A store without the row holds no records yet. */
static int sum_get(struct store_txn *t, struct record_digest_sum *x)
{
	const void *v;
	size_t vl;
	int r = store_get(t, ST_META, META_DIGEST, META_DIGEST_LEN, &v, &vl);

	memset(x, 0, sizeof(*x));
	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	if (vl != 40)
		return HAMLET_ECORRUPT;
	memcpy(x->s, v, 32);
	x->n = store_get_be64((const uint8_t *)v + 32);
	return 0;
}

void record__row_hash3(const void *key, size_t klen, const void *a,
		       size_t al, const void *b, size_t bl, const void *c,
		       size_t cl, uint8_t ret[32])
{
	crypto_generichash_blake2b_state h;
	uint8_t len[8];

	crypto_generichash_blake2b_init(&h, NULL, 0, 32);
	store_be64(len, klen);
	crypto_generichash_blake2b_update(&h, len, 8);
	crypto_generichash_blake2b_update(&h, key, klen);
	store_be64(len, al + bl + cl);
	crypto_generichash_blake2b_update(&h, len, 8);
	crypto_generichash_blake2b_update(&h, a, al);
	crypto_generichash_blake2b_update(&h, b, bl);
	crypto_generichash_blake2b_update(&h, c, cl);
	crypto_generichash_blake2b_final(&h, ret, 32);
}

void record__row_hash(const void *key, size_t klen, const void *val,
		      size_t vlen, uint8_t ret[32])
{
	record__row_hash3(key, klen, val, vlen, NULL, 0, NULL, 0, ret);
}

/* Add h to the 256-bit little-endian sum s, mod 2^256. */
static void add256(uint8_t s[32], const uint8_t h[32])
{
	unsigned carry = 0;
	for (int i = 0; i < 32; i++) {
		carry += (unsigned)s[i] + h[i];
		s[i] = (uint8_t)carry;
		carry >>= 8;
	}
}

int record_digest_flush(struct store_txn *t, struct record_digest_delta *dd)
{
	struct record_digest_sum x;
	uint8_t v[40];
	int r;

	if (dd->nplus == 0 && dd->nminus == 0)
		return 0;
	if ((r = sum_get(t, &x)) < 0)
		return r;
	sum_add(&x, dd->plus);
	x.n += dd->nplus - 1; /* sum_add counted one */
	sum_sub(&x, dd->minus);
	x.n -= dd->nminus - 1; /* sum_sub took one */
	memcpy(v, x.s, 32);
	store_be64(v + 32, x.n);
	memset(dd, 0, sizeof(*dd));
	return store_put(t, ST_META, META_DIGEST, META_DIGEST_LEN, v, 40, 0);
}

int record__digest_replace(struct store_txn *t, const uint8_t *old,
			   const uint8_t new_hash[32],
			   struct record_digest_delta *dd)
{
	struct record_digest_delta one = { 0 };
	struct record_digest_delta *d = dd ? dd : &one;

	if (old) {
		add256(d->minus, old);
		d->nminus++;
	}
	add256(d->plus, new_hash);
	d->nplus++;
	return dd ? 0 : record_digest_flush(t, &one);
}

int record__digest_drop(const uint8_t old[32],
			struct record_digest_delta *dd)
{
	add256(dd->minus, old);
	dd->nminus++;
	return 0;
}

int record_digest(struct store_txn *t, uint8_t ret[32], uint64_t *ret_count)
{
	struct record_digest_sum x;
	int r;

	if ((r = sum_get(t, &x)) < 0)
		return r;
	record_digest_sum_final(&x, ret);
	if (ret_count)
		*ret_count = x.n;
	return 0;
}

/* Every records row's hash, summed: what the kept digest stands for. */
static int sum_rows(struct store_txn *t, struct record_digest_sum *x)
{
	struct store_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl;
	uint8_t h[32];
	int r;

	memset(x, 0, sizeof(*x));
	if ((r = store_cursor_open(t, ST_RECORDS, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		if ((r = record__row_hash_at(t, k, kl, v, vl, h)) < 0)
			break;
		sum_add(x, h);
	}
	store_cursor_close(c);
	return r < 0 ? r : 0;
}

int record_digest_reset(struct store_txn *t)
{
	struct record_digest_sum x;
	uint8_t v[40];
	int r;

	if ((r = sum_rows(t, &x)) < 0)
		return r;
	memcpy(v, x.s, 32);
	store_be64(v + 32, x.n);
	return store_put(t, ST_META, META_DIGEST, META_DIGEST_LEN, v, 40, 0);
}

int record_digest_recompute(struct store_txn *t, uint8_t ret[32],
			    uint64_t *ret_count)
{
	struct record_digest_sum x;
	int r;

	if ((r = sum_rows(t, &x)) < 0)
		return r;
	record_digest_sum_final(&x, ret);
	if (ret_count)
		*ret_count = x.n;
	return 0;
}

/*
 * The hash (record__row_hash) of the state a stored state st stands for.
 * When
 * what it refers to cannot be read (a damaged store), the hash of the
 * state as stored, which no kept digest matches: verify says the digest
 * does not add up, and writing goes on.
 */
int record__state_hash(struct store_txn *t, const void *key, size_t kl,
		      const uint8_t *st, size_t sl, uint8_t ret[32])
{
	uint64_t lseq;
	int r = 0;

	if (record__state_one(st, sl, &lseq)) {
		struct built b;
		r = record__built_one(t, key, kl, lseq, 0, &b);
		if (r == 0)
			record__row_hash(key, kl, b.sw.sb.data, b.sw.sb.size,
					 ret);
		record__built_close(&b);
	} else if (record__row_is_ref(st, sl)) {
		char coll[ENTRY_MAX_COLLECTION + 1];
		char rid[ENTRY_MAX_RECORD_ID + 1];
		struct bodyz_buf zb = { 0 };
		const void *body;
		size_t bl;
		r = record__split_key(key, kl, coll, rid) < 0
			    ? HAMLET_ECORRUPT
			    : record__head_body(t, coll, rid, st + 6, &zb,
						&body, &bl);
		if (r == 0)
			record__row_hash3(key, kl, st, REF_AT, body, bl,
					  st + REF_AT + 1, sl - REF_AT - 1,
					  ret);
		bodyz_buf_free(&zb);
	} else {
		record__row_hash(key, kl, st, sl, ret);
	}
	if (r == HAMLET_ENOTFOUND || r == HAMLET_ECORRUPT) {
		record__row_hash(key, kl, st, sl, ret);
		return 0;
	}
	return r < 0 ? r : 0;
}

int record__row_hash_at(struct store_txn *t, const void *key, size_t klen,
			const void *val, size_t vlen, uint8_t ret[32])
{
	struct rowv rv;
	if (record__row_split(val, vlen, &rv) < 0) {
		record__row_hash(key, klen, val, vlen, ret);
		return 0;
	}
	return record__state_hash(t, key, klen, rv.s, rv.sl, ret);
}
