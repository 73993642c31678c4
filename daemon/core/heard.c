#include "heard.h"

#include "error.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define KIND_FEED 'f'
#define KIND_PEER 'p'
#define KIND_BUDGET 'b'
#define KIND_ACKED 'a'

static void row_key(int kind, const uint8_t k[32], uint8_t out[33])
{
	out[0] = (uint8_t)kind;
	memcpy(out + 1, k, 32);
}

void heard_via_peer(struct heard_via *v, const uint8_t peer[32])
{
	memset(v, 0, sizeof(*v));
	v->kind = HEARD_PEER;
	memcpy(v->peer, peer, 32);
}

void heard_via_bundle(struct heard_via *v, const char *path)
{
	memset(v, 0, sizeof(*v));
	v->kind = HEARD_BUNDLE;
	snprintf(v->file, sizeof(v->file), "%s", path ? path : "");
}

size_t heard_row_encode(uint64_t when_ms, const struct heard_via *via,
			uint8_t out[HEARD_ROW_MAX])
{
	size_t n = 9;
	store_be64(out, when_ms);
	out[8] = (uint8_t)via->kind;
	if (via->kind == HEARD_PEER) {
		memcpy(out + n, via->peer, 32);
		n += 32;
	} else if (via->kind == HEARD_BUNDLE) {
		size_t l = strnlen(via->file, HEARD_MAX_FILE);
		memcpy(out + n, via->file, l);
		n += l;
	}
	return n;
}

int heard_row_decode(const uint8_t *v, size_t vl, struct heard_feed *ret)
{
	memset(&ret->via, 0, sizeof(ret->via));
	if (vl < 9)
		return HAMLET_ECORRUPT;
	ret->when_ms = store_get_be64(v);
	ret->via.kind = v[8];
	switch (v[8]) {
	case HEARD_LOCAL:
		return vl == 9 ? 0 : HAMLET_ECORRUPT;
	case HEARD_PEER:
		if (vl != 9 + 32)
			return HAMLET_ECORRUPT;
		memcpy(ret->via.peer, v + 9, 32);
		return 0;
	case HEARD_BUNDLE:
		if (vl - 9 > HEARD_MAX_FILE || memchr(v + 9, 0, vl - 9))
			return HAMLET_ECORRUPT;
		memcpy(ret->via.file, v + 9, vl - 9);
		ret->via.file[vl - 9] = 0;
		return 0;
	}
	return HAMLET_ECORRUPT;
}

int heard_feed_get(struct store_txn *t, const uint8_t feed[32],
		   struct heard_feed *ret)
{
	uint8_t k[33];
	const void *v;
	size_t vl;
	int r;

	row_key(KIND_FEED, feed, k);
	if ((r = store_get(t, ST_HEARD, k, 33, &v, &vl)) < 0)
		return r;
	memcpy(ret->feed, feed, 32);
	return heard_row_decode(v, vl, ret);
}

int heard_contact_get(struct store_txn *t, const uint8_t peer[32],
		      uint64_t *ret_ms)
{
	uint8_t k[33];
	const void *v;
	size_t vl;
	int r;

	row_key(KIND_PEER, peer, k);
	if ((r = store_get(t, ST_HEARD, k, 33, &v, &vl)) < 0)
		return r;
	if (vl != 8)
		return HAMLET_ECORRUPT;
	*ret_ms = store_get_be64(v);
	return 0;
}

static int count_cb(void *ctx, const uint8_t peer[32], uint64_t when_ms)
{
	size_t *n = ctx;
	(void)peer;
	(void)when_ms;
	return ++*n >= HEARD_MAX_PEERS;
}

int heard_contact_put(struct store_txn *t, const uint8_t peer[32],
		      uint64_t when_ms)
{
	uint8_t k[33], v[8];
	uint64_t old;
	size_t n = 0;
	int r = heard_contact_get(t, peer, &old);

	if (r == 0 && old >= when_ms)
		return 0;
	if (r == HAMLET_ENOTFOUND) {
		/* a new peer: only while fewer than HEARD_MAX_PEERS are kept */
		if ((r = heard_contacts_each(t, count_cb, &n)) < 0)
			return r;
		if (n >= HEARD_MAX_PEERS)
			return 0;
	} else if (r < 0 && r != HAMLET_ECORRUPT) {
		return r; /* a damaged row is replaced */
	}
	row_key(KIND_PEER, peer, k);
	store_be64(v, when_ms);
	return store_put(t, ST_HEARD, k, 33, v, 8, 0);
}

int heard_contacts_each(struct store_txn *t, heard_contact_cb cb, void *ctx)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	uint8_t from = KIND_PEER;
	int r;

	if ((r = store_cursor_open(t, ST_HEARD, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, &from, 1, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		const uint8_t *kb = k;
		if (kb[0] != KIND_PEER)
			break;
		if (kl != 33 || vl != 8) {
			r = HAMLET_ECORRUPT;
			break;
		}
		if ((r = cb(ctx, kb + 1, store_get_be64(v))) != 0)
			break;
	}
	store_cursor_close(c);
	return r < 0 ? r : 0;
}

int heard_moved(struct store_txn *t, const struct log_advances *moved,
		const struct heard_via *via, uint64_t when_ms)
{
	uint8_t k[33], v[HEARD_ROW_MAX];
	size_t vl = heard_row_encode(when_ms, via, v);
	int r;

	for (size_t i = 0; i < moved->n; i++) {
		row_key(KIND_FEED, moved->v[i].key, k);
		if ((r = store_put(t, ST_HEARD, k, 33, v, vl, 0)) < 0)
			return r;
	}
	if (via->kind == HEARD_PEER)
		return heard_contact_put(t, via->peer, when_ms);
	return 0;
}

int heard_budget_get(struct store_txn *t, const uint8_t peer[32],
		     uint32_t *ret_day, uint64_t *ret_sent)
{
	uint8_t k[33];
	const uint8_t *p;
	const void *v;
	size_t vl;
	int r;

	row_key(KIND_BUDGET, peer, k);
	if ((r = store_get(t, ST_HEARD, k, 33, &v, &vl)) < 0)
		return r;
	if (vl != 12)
		return HAMLET_ECORRUPT;
	p = v;
	*ret_day = store_get_be32(p);
	*ret_sent = store_get_be64(p + 4);
	return 0;
}

/* Budget rows kept, up to HEARD_MAX_PEERS; *ret_old the key of one
 * whose day is before day (*ret_has_old), which may give way. */
static int budgets_count(struct store_txn *t, uint32_t day, size_t *ret,
			 uint8_t ret_old[33], int *ret_has_old)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl, n = 0;
	uint8_t from = KIND_BUDGET;
	int r;

	*ret_has_old = 0;
	if ((r = store_cursor_open(t, ST_HEARD, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, &from, 1, &k, &kl, &v, &vl);
	     r == 1 && ((const uint8_t *)k)[0] == KIND_BUDGET &&
	     n < HEARD_MAX_PEERS;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		const uint8_t *p = v;
		n++;
		if (!*ret_has_old && kl == 33 &&
		    (vl != 12 || store_get_be32(p) < day)) {
			memcpy(ret_old, k, 33);
			*ret_has_old = 1;
		}
	}
	store_cursor_close(c);
	*ret = n;
	return r < 0 ? r : 0;
}

int heard_budget_put(struct store_txn *t, const uint8_t peer[32],
		     uint32_t day, uint64_t sent)
{
	uint8_t k[33], v[12];
	uint32_t oday;
	uint64_t osent;
	size_t n;
	int r = heard_budget_get(t, peer, &oday, &osent);

	if (r == 0 && oday == day && osent == sent)
		return 0;
	if (r == HAMLET_ENOTFOUND) {
		uint8_t old[33];
		int has_old;
		if ((r = budgets_count(t, day, &n, old, &has_old)) < 0)
			return r;
		/* full: a past day's count gives way (it counts for
		 * nothing now); none past, and the new one is not kept */
		if (n >= HEARD_MAX_PEERS) {
			if (!has_old)
				return 0;
			if ((r = store_del(t, ST_HEARD, old, 33)) < 0)
				return r;
		}
	} else if (r < 0 && r != HAMLET_ECORRUPT) {
		return r; /* a damaged row is replaced */
	}
	row_key(KIND_BUDGET, peer, k);
	store_be32(v, day);
	store_be64(v + 4, sent);
	return store_put(t, ST_HEARD, k, 33, v, 12, 0);
}

int heard_acked_get(struct store_txn *t, const uint8_t peer[32],
		    uint64_t *ret_version, uint64_t *ret_acked)
{
	uint8_t k[33];
	const void *v;
	size_t vl;
	int r;

	row_key(KIND_ACKED, peer, k);
	if ((r = store_get(t, ST_HEARD, k, 33, &v, &vl)) < 0)
		return r;
	if (vl != 16)
		return HAMLET_ECORRUPT;
	*ret_version = store_get_be64(v);
	*ret_acked = store_get_be64((const uint8_t *)v + 8);
	return 0;
}

int heard_acked_put(struct store_txn *t, const uint8_t peer[32],
		    uint64_t version, uint64_t acked)
{
	uint8_t k[33], v[16], from = KIND_ACKED;
	uint64_t ov, oa;
	int r = heard_acked_get(t, peer, &ov, &oa);

	if (r == 0 && ov == version && oa == acked)
		return 0;
	if (r == HAMLET_ENOTFOUND) {
		struct store_cursor *c;
		const void *ck, *cv;
		size_t kl, vl, n = 0;
		if ((r = store_cursor_open(t, ST_HEARD, &c)) < 0)
			return r;
		for (r = store_cursor_seek(c, &from, 1, &ck, &kl, &cv, &vl);
		     r == 1 && ((const uint8_t *)ck)[0] == KIND_ACKED &&
		     n < HEARD_MAX_PEERS;
		     r = store_cursor_next(c, &ck, &kl, &cv, &vl))
			n++;
		store_cursor_close(c);
		if (r < 0)
			return r;
		if (n >= HEARD_MAX_PEERS)
			return 0;
	} else if (r < 0 && r != HAMLET_ECORRUPT) {
		return r; /* a damaged row is replaced */
	}
	row_key(KIND_ACKED, peer, k);
	store_be64(v, version);
	store_be64(v + 8, acked);
	return store_put(t, ST_HEARD, k, 33, v, 16, 0);
}

struct contacts {
	const struct heard_contact *v;
	size_t n;
};

static int contacts_put(struct store_txn *t, void *ctx)
{
	const struct contacts *c = ctx;
	int r = 0;
	for (size_t i = 0; i < c->n && r >= 0; i++) {
		if (c->v[i].when_ms)
			r = heard_contact_put(t, c->v[i].peer, c->v[i].when_ms);
		if (r >= 0 && c->v[i].day)
			r = heard_budget_put(t, c->v[i].peer, c->v[i].day,
					     c->v[i].sent);
		if (r >= 0 && c->v[i].acked_set)
			r = heard_acked_put(t, c->v[i].peer,
					    c->v[i].acked_version,
					    c->v[i].acked);
	}
	return r;
}

int heard_contacts_save(struct store *st, const struct heard_contact *v,
			size_t n)
{
	struct contacts c = { v, n };
	return store_write(st, contacts_put, &c);
}
