#include "peerbase.h"

#include "error.h"

#include <string.h>

#define VAL_OLD (8 + 32 + 32 + 8) /* a row kept before lseq was */
#define VAL_LEN (VAL_OLD + 8)

int peerbase_get(struct store_txn *t, const uint8_t peer[32],
		 struct peerbase *ret)
{
	const uint8_t *v;
	size_t vl;
	int r = store_get(t, ST_PEERBASE, peer, 32, (const void **)&v, &vl);
	if (r < 0)
		return r;
	if (vl != VAL_LEN && vl != VAL_OLD)
		return HAMLET_ECORRUPT;
	ret->version = store_get_be64(v);
	memcpy(ret->digest, v + 8, 32);
	memcpy(ret->ctx, v + 40, 32);
	ret->used_ms = store_get_be64(v + 72);
	ret->lseq_known = vl == VAL_LEN;
	ret->lseq = ret->lseq_known ? store_get_be64(v + 80) : 0;
	return 0;
}

/* Drop the least recently used basis. */
static int drop_oldest(struct store_txn *t)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	uint8_t oldest[32];
	uint64_t when = UINT64_MAX;
	int r, found = 0;

	if ((r = store_cursor_open(t, ST_PEERBASE, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		uint64_t u = vl == VAL_LEN || vl == VAL_OLD
				     ? store_get_be64((const uint8_t *)v + 72)
				     : 0; /* damaged: first to go */
		if (kl == 32 && u < when) {
			when = u;
			memcpy(oldest, k, 32);
			found = 1;
		}
	}
	store_cursor_close(c);
	if (r < 0)
		return r;
	return found ? store_del(t, ST_PEERBASE, oldest, 32) : 0;
}

int peerbase_put(struct store_txn *t, const uint8_t peer[32],
		 const struct peerbase *b)
{
	uint8_t v[VAL_LEN];
	const void *x;
	size_t xl;
	uint64_t n;
	int r = store_get(t, ST_PEERBASE, peer, 32, &x, &xl);

	if (r == HAMLET_ENOTFOUND) {
		if ((r = store_count(t, ST_PEERBASE, &n)) < 0)
			return r;
		if (n >= PEERBASE_MAX && (r = drop_oldest(t)) < 0)
			return r;
	} else if (r < 0) {
		return r;
	}
	store_be64(v, b->version);
	memcpy(v + 8, b->digest, 32);
	memcpy(v + 40, b->ctx, 32);
	store_be64(v + 72, b->used_ms);
	store_be64(v + 80, b->lseq);
	return store_put(t, ST_PEERBASE, peer, 32, v, VAL_LEN, 0);
}

int peerbase_del(struct store_txn *t, const uint8_t peer[32])
{
	int r = store_del(t, ST_PEERBASE, peer, 32);
	return r == HAMLET_ENOTFOUND ? 0 : r;
}

struct save {
	const uint8_t *peer;
	const struct peerbase *b;
};

static int save_put(struct store_txn *t, void *ctx)
{
	const struct save *sv = ctx;
	return peerbase_put(t, sv->peer, sv->b);
}

int peerbase_save(struct store *st, const uint8_t peer[32],
		  const struct peerbase *b)
{
	struct save sv = { peer, b };
	return store_write(st, save_put, &sv);
}
