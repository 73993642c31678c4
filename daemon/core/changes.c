#include "changes.h"

#include "entries.h"
#include "error.h"
#include "record.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

int changes_last(struct store_txn *t, uint64_t *ret)
{
	return store_meta_u64(t, "changes_seq", ret);
}

/* The seq of coll/id's gone change (HAMLET_ENOTFOUND: it is not gone). */
static int gone_seq(struct store_txn *t, const char *coll, const char *id,
		    uint64_t *ret)
{
	uint8_t key[RECORD_KEY_MAX];
	size_t kl = record_key(coll, id, key), vl;
	const void *v;
	int r;

	if ((r = store_get(t, ST_GONE, key, kl, &v, &vl)) < 0)
		return r;
	if (vl != 8)
		return HAMLET_ECORRUPT;
	*ret = store_get_be64(v);
	return 0;
}

int changes_of(struct store_txn *t, const char *coll, const char *id,
	       uint64_t *ret)
{
	int r = record_change_seq(t, coll, id, ret);
	return r == HAMLET_ENOTFOUND ? gone_seq(t, coll, id, ret) : r;
}

int changes_next(struct store_txn *t, struct changes_batch *b,
		 uint64_t *ret)
{
	uint64_t ngone;
	int r;
	if (!b->loaded) {
		/* most stores have no record gone: then a record new to
		 * this one is not looked up among them */
		if ((r = changes_last(t, &b->last)) < 0 ||
		    (r = store_count(t, ST_GONE, &ngone)) < 0)
			return r;
		b->gone = ngone > 0;
		b->loaded = 1;
	}
	*ret = b->last + 1;
	return 0;
}

/* Drop the change row at seq, if any. */
static int row_del(struct store_txn *t, uint64_t seq)
{
	uint8_t sk[8];
	int r;
	store_be64(sk, seq);
	r = store_del(t, ST_CHANGES, sk, 8);
	return r == HAMLET_ENOTFOUND ? 0 : r;
}

/* Drop coll/id's gone row and its index, if it has one. */
static int gone_del(struct store_txn *t, const char *coll, const char *id)
{
	uint8_t key[RECORD_KEY_MAX];
	size_t kl = record_key(coll, id, key);
	uint64_t seq;
	int r = gone_seq(t, coll, id, &seq);

	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0 || (r = row_del(t, seq)) < 0)
		return r;
	return store_del(t, ST_GONE, key, kl);
}

/* Give seq, the one changes_next() gave, its row. */
static int row_put(struct store_txn *t, struct changes_batch *b, uint64_t seq,
		   const void *row, size_t rl)
{
	uint8_t sk[8];
	b->last = seq;
	b->dirty = 1;
	store_be64(sk, seq);
	return store_put(t, ST_CHANGES, sk, 8, row, rl, STORE_APPEND);
}

int changes_note(struct store_txn *t, struct changes_batch *b, uint64_t seq,
		 uint64_t old, uint64_t lseq, const char *coll, const char *id)
{
	uint8_t row[8];
	int r;

	if (!b->loaded || seq != b->last + 1)
		return -EINVAL; /* not the seq changes_next() gave */
	/* a record with a row is not gone; one without may be coming back */
	if ((old && (r = row_del(t, old)) < 0) ||
	    (!old && b->gone && (r = gone_del(t, coll, id)) < 0))
		return r;
	store_be64(row, lseq);
	return row_put(t, b, seq, row, 8);
}

int changes_gone(struct store_txn *t, struct changes_batch *b, uint64_t seq,
		 const char *coll, const char *id, const char *scope)
{
	uint8_t row[8 + RECORD_KEY_MAX + 1 + ENTRY_MAX_SCOPE], sk[8];
	size_t rl = 8, sl = strlen(scope);
	int r;

	if (!b->loaded || seq != b->last + 1)
		return -EINVAL;
	if (sl > ENTRY_MAX_SCOPE)
		return -EINVAL;
	if ((r = gone_del(t, coll, id)) < 0)
		return r;
	memset(row, 0, 8); /* no local seq is 0: no entry names it */
	rl += record_key(coll, id, row + 8);
	row[rl++] = 0;
	memcpy(row + rl, scope, sl);
	rl += sl;
	if ((r = row_put(t, b, seq, row, rl)) < 0)
		return r;
	b->gone = 1;
	store_be64(sk, seq);
	return store_put(t, ST_GONE, row + 8, rl - 8 - 1 - sl, sk, 8, 0);
}

int changes_drop(struct store_txn *t, uint64_t seq)
{
	return row_del(t, seq);
}

static int epoch_put_new(struct store_txn *t, void *ctx)
{
	uint64_t epoch, old = 0;
	uint8_t v[8];
	int r;

	(void)ctx;
	if ((r = changes_epoch(t, &old)) < 0)
		return r;
	do
		randombytes_buf(&epoch, sizeof(epoch));
	while (!epoch || epoch == old);
	store_be64(v, epoch);
	return store_put(t, ST_META, "changes_epoch", 13, v, 8, 0);
}

int changes_flush(struct store_txn *t, struct changes_batch *b)
{
	uint8_t sk[8];
	uint64_t epoch;
	int r;
	if (!b->dirty)
		return 0;
	/* the store's first change names its numbering: a store made
	 * again numbers its changes anew, under another epoch */
	if ((r = changes_epoch(t, &epoch)) < 0)
		return r;
	if (!epoch && (r = epoch_put_new(t, NULL)) < 0)
		return r;
	store_be64(sk, b->last);
	b->dirty = 0;
	return store_put(t, ST_META, "changes_seq", 11, sk, 8, 0);
}

int changes_epoch(struct store_txn *t, uint64_t *ret)
{
	return store_meta_u64(t, "changes_epoch", ret);
}

int changes_epoch_renew(struct store *st)
{
	return store_write(st, epoch_put_new, NULL);
}

static int epoch_put_if_none(struct store_txn *t, void *ctx)
{
	uint64_t epoch = 0;
	int r;

	if ((r = changes_epoch(t, &epoch)) < 0 || epoch)
		return r < 0 ? r : 0;
	return epoch_put_new(t, ctx);
}

int changes_epoch_ensure(struct store *st)
{
	struct store_txn *t;
	uint64_t epoch = 0;
	int r;

	/* read first: a store that has one (every start but the first) is
	 * not written */
	if ((r = store_txn_begin(st, 1, &t)) < 0)
		return r;
	r = changes_epoch(t, &epoch);
	store_txn_abort(t);
	if (r < 0 || epoch)
		return r < 0 ? r : 0;
	return store_write(st, epoch_put_if_none, NULL);
}

/* A gone row: 0 (be64) || collection \0 record id \0 scope. */
static int gone_decode(const uint8_t *v, size_t vl, struct change *c)
{
	const uint8_t *p = v + 8, *end = v + vl, *z1, *z2;

	if (!(z1 = memchr(p, 0, (size_t)(end - p))) ||
	    !(z2 = memchr(z1 + 1, 0, (size_t)(end - z1 - 1))) || z1 == p ||
	    z2 == z1 + 1 || (size_t)(z1 - p) > ENTRY_MAX_COLLECTION ||
	    (size_t)(z2 - z1 - 1) > ENTRY_MAX_RECORD_ID ||
	    (size_t)(end - z2 - 1) > ENTRY_MAX_SCOPE)
		return HAMLET_ECORRUPT;
	memcpy(c->collection, p, (size_t)(z1 - p) + 1);
	memcpy(c->id, z1 + 1, (size_t)(z2 - z1));
	memcpy(c->scope, z2 + 1, (size_t)(end - z2 - 1));
	c->scope[end - z2 - 1] = 0;
	memset(c->entry, 0, sizeof(c->entry));
	c->gone = 1;
	return 0;
}

/* seq -> the local seq (be64) of the entry that made the change: the
 * record is the one its envelope names; or a gone row */
static int row_decode(struct store_txn *t, const uint8_t *k, size_t kl,
		      const uint8_t *v, size_t vl, struct change *c)
{
	static const uint8_t zero[8];
	struct entries_row er;
	struct entry e;
	int r;

	if (kl != 8 || vl < 8 || (vl > 8 && memcmp(v, zero, 8) != 0))
		return HAMLET_ECORRUPT;
	c->seq = store_get_be64(k);
	if (vl > 8)
		return gone_decode(v, vl, c);
	c->gone = 0;
	c->scope[0] = 0;
	if ((r = entries_at(t, store_get_be64(v), &er)) < 0)
		return r == HAMLET_ENOTFOUND ? HAMLET_ECORRUPT : r;
	if (entry_decode(er.env, er.env_len, &e, NULL) < 0 ||
	    (e.kind != ENTRY_PUT && e.kind != ENTRY_DELETE &&
	     e.kind != ENTRY_ERASE))
		return HAMLET_ECORRUPT;
	snprintf(c->collection, sizeof(c->collection), "%s", e.collection);
	snprintf(c->id, sizeof(c->id), "%s", e.record_id);
	entry_id(er.env, er.env_len, c->entry);
	return 0;
}

int changes_each(struct store_txn *t, uint64_t since, size_t limit,
		 change_cb cb, void *ctx)
{
	struct store_cursor *cur = NULL;
	const void *k, *v;
	size_t kl, vl, n = 0;
	uint8_t sk[8];
	struct change c;
	int r;

	if (since == UINT64_MAX)
		return 0;
	if ((r = store_cursor_open(t, ST_CHANGES, &cur)) < 0)
		return r;
	store_be64(sk, since + 1);
	for (r = store_cursor_seek(cur, sk, 8, &k, &kl, &v, &vl); r > 0;
	     r = store_cursor_next(cur, &k, &kl, &v, &vl)) {
		if ((r = row_decode(t, k, kl, v, vl, &c)) < 0)
			break;
		if ((r = cb(ctx, &c)) != 0)
			break;
		if (limit && ++n >= limit) {
			r = 0;
			break;
		}
	}
	store_cursor_close(cur);
	return r; /* 0 past the end, cb's value, or a fault */
}

int changes_check(struct store_txn *t, const char *coll, const char *id)
{
	uint8_t sk[8];
	const void *v;
	size_t vl;
	struct change c;
	uint64_t seq;
	int r;

	if ((r = record_change_seq(t, coll, id, &seq)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r; /* no row: not this */
	store_be64(sk, seq);
	if ((r = store_get(t, ST_CHANGES, sk, 8, &v, &vl)) < 0)
		return r == HAMLET_ENOTFOUND ? HAMLET_ECORRUPT : r;
	if ((r = row_decode(t, sk, 8, v, vl, &c)) < 0)
		return r;
	return !c.gone && strcmp(c.collection, coll) == 0 &&
			       strcmp(c.id, id) == 0
		       ? 0
		       : HAMLET_ECORRUPT;
}
