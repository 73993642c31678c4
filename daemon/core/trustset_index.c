/*
 * trustset: the index of subjects (ST_TRUSTSUBJ) held to the signed
 * items it indexes (ST_TRUST), for an audit. Chains and revocations are
 * found through the index, so a row missing makes a valid certificate
 * look absent, and a row too many lends a key an item that is not its.
 */
#include "trustset.h"

#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The subject item (kind, data, len) is indexed under, as add_one()
 * indexes it: 0, or the decoder's error when it does not decode. */
static int item_subject(int kind, const uint8_t *data, size_t len,
			uint8_t ret[32])
{
	union {
		struct cert c;
		struct revocation rv;
		struct scope_move mv;
		struct fork_proof fp;
	} *u = malloc(sizeof(*u));
	int r;

	if (!u)
		return -ENOMEM;
	switch (kind) {
	case TRUST_CERT:
		if ((r = cert_decode(data, len, &u->c, NULL)) == 0)
			memcpy(ret, u->c.subject, 32);
		break;
	case TRUST_REVOKE:
		if ((r = revoke_decode(data, len, &u->rv, NULL)) == 0)
			memcpy(ret, u->rv.subject, 32);
		break;
	case TRUST_MOVE:
		if ((r = move_decode(data, len, &u->mv, NULL, NULL, 0)) == 0)
			memcpy(ret, u->mv.issuer, 32);
		break;
	case TRUST_FORK:
		if ((r = fork_proof_decode(data, len, &u->fp, NULL)) == 0)
			memcpy(ret, u->fp.a.author, 32);
		break;
	default:
		r = HAMLET_EFORMAT;
	}
	free(u);
	return r;
}

struct index_ctx {
	struct store_txn *t;
	trustset_index_cb cb;
	void *ctx;
	uint64_t faults;
	uint64_t found; /* items whose row is there */
};

/* Tell cb of one fault (counted). */
static int fault(struct index_ctx *c, int what, const uint8_t *key,
		 const uint8_t *subject)
{
	c->faults++;
	return c->cb ? c->cb(c->ctx, what, key, subject) : 0;
}

/* One item: its row is in the index. */
static int item_cb(void *ctx, int kind, const uint8_t id[32],
		   const uint8_t *data, size_t len)
{
	struct index_ctx *c = ctx;
	uint8_t sk[32 + TRUSTSET_KEY];
	const void *v;
	size_t vl;
	int r;

	sk[32] = (uint8_t)kind;
	memcpy(sk + 33, id, 32);
	if ((r = item_subject(kind, data, len, sk)) == -ENOMEM)
		return r;
	if (r < 0) /* a signed item that does not read */
		return fault(c, TRUSTSET_INDEX_UNREADABLE, sk + 32, NULL);
	r = store_get(c->t, ST_TRUSTSUBJ, sk, sizeof(sk), &v, &vl);
	if (r == HAMLET_ENOTFOUND)
		return fault(c, TRUSTSET_INDEX_MISSING, sk + 32, sk);
	c->found += r == 0;
	return r < 0 ? r : 0;
}

/* One row of the index: it names an item held, whose subject it is
 * (an item that does not read was told as such). */
static int row_check(struct index_ctx *c, const uint8_t *k, size_t kl)
{
	const uint8_t *item;
	uint8_t subject[32];
	size_t il;
	int r;

	if (kl != 32 + TRUSTSET_KEY)
		return fault(c, TRUSTSET_INDEX_EXTRA, NULL, NULL);
	if ((r = trustset_get(c->t, k + 32, &item, &il)) < 0 &&
	    r != HAMLET_ENOTFOUND)
		return r;
	if (r == 0 && (r = item_subject(k[32], item, il, subject)) < 0)
		return r == -ENOMEM ? r : 0;
	if (r == 0 && memcmp(subject, k, 32) == 0)
		return 0;
	return fault(c, TRUSTSET_INDEX_EXTRA, k + 32, k);
}

int trustset_index_check(struct store_txn *t, trustset_index_cb cb,
			 void *ctx, uint64_t *ret_faults)
{
	struct index_ctx c = { t, cb, ctx, 0, 0 };
	struct store_cursor *cur;
	const void *k, *v;
	size_t kl, vl;
	uint64_t rows;
	int r;

	if ((r = trustset_each(t, 0, item_cb, &c)) < 0 ||
	    (r = store_count(t, ST_TRUSTSUBJ, &rows)) < 0)
		return r;
	/* every row names an item held, whose subject it is: each row an
	 * item found is its own, so only more rows than that need reading */
	if (rows == c.found) {
		*ret_faults = c.faults;
		return 0;
	}
	if ((r = store_cursor_open(t, ST_TRUSTSUBJ, &cur)) < 0)
		return r;
	for (r = store_cursor_seek(cur, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(cur, &k, &kl, &v, &vl))
		if ((r = row_check(&c, k, kl)) != 0)
			break;
	store_cursor_close(cur);
	if (r < 0)
		return r;
	*ret_faults = c.faults;
	return 0;
}
