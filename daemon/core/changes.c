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

int changes_of(struct store_txn *t, const char *coll, const char *id,
	       uint64_t *ret)
{
	return record_change_seq(t, coll, id, ret);
}

int changes_next(struct store_txn *t, struct changes_batch *b,
		 uint64_t *ret)
{
	int r;
	if (!b->loaded) {
		if ((r = changes_last(t, &b->last)) < 0)
			return r;
		b->loaded = 1;
	}
	*ret = b->last + 1;
	return 0;
}

int changes_note(struct store_txn *t, struct changes_batch *b,
		 uint64_t seq, uint64_t old, uint64_t lseq)
{
	uint8_t sk[8], row[8];
	int r;

	if (!b->loaded || seq != b->last + 1)
		return -EINVAL; /* not the seq changes_next() gave */
	if (old) {
		store_be64(sk, old);
		if ((r = store_del(t, ST_CHANGES, sk, 8)) < 0 &&
		    r != HAMLET_ENOTFOUND)
			return r;
	}
	b->last = seq;
	b->dirty = 1;
	store_be64(sk, seq);
	store_be64(row, lseq);
	return store_put(t, ST_CHANGES, sk, 8, row, 8, STORE_APPEND);
}

int changes_drop(struct store_txn *t, uint64_t seq)
{
	uint8_t sk[8];
	int r;
	store_be64(sk, seq);
	r = store_del(t, ST_CHANGES, sk, 8);
	return r == HAMLET_ENOTFOUND ? 0 : r;
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

/* seq -> the local seq (be64) of the entry that made the change: the
 * record is the one its envelope names */
static int row_decode(struct store_txn *t, const uint8_t *k, size_t kl,
		      const uint8_t *v, size_t vl, struct change *c)
{
	struct entries_row er;
	struct entry e;
	int r;

	if (kl != 8 || vl != 8)
		return HAMLET_ECORRUPT;
	c->seq = store_get_be64(k);
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
