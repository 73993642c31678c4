#include "heads.h"

#include "error.h"

#include <string.h>

#define META_HEADS "heads"
#define META_HEADS_LEN (sizeof(META_HEADS) - 1)

int heads_totals_get(struct store_txn *t, struct heads_totals *ret)
{
	const uint8_t *v;
	size_t vl;
	int r = store_get(t, ST_META, META_HEADS, META_HEADS_LEN,
			  (const void **)&v, &vl);
	if (r < 0)
		return r;
	if (vl != 32)
		return HAMLET_ECORRUPT;
	ret->feeds = store_get_be64(v);
	ret->entries = store_get_be64(v + 8);
	ret->newest_hlc = store_get_be64(v + 16);
	ret->version = store_get_be64(v + 24);
	return 0;
}

int heads_totals_put(struct store_txn *t, const struct heads_totals *tot)
{
	uint8_t v[32];
	store_be64(v, tot->feeds);
	store_be64(v + 8, tot->entries);
	store_be64(v + 16, tot->newest_hlc);
	store_be64(v + 24, tot->version);
	return store_put(t, ST_META, META_HEADS, META_HEADS_LEN, v, 32, 0);
}

int heads_feed_new(struct store_txn *t, const uint8_t author[32],
		   const uint8_t key[32])
{
	uint8_t k[64];
	memcpy(k, author, 32);
	memcpy(k + 32, key, 32);
	return store_put(t, ST_AUTHFEEDS, k, 64, "", 0, 0);
}

int heads_feed_gone(struct store_txn *t, const uint8_t author[32],
		    const uint8_t key[32])
{
	uint8_t k[64];
	int r;
	memcpy(k, author, 32);
	memcpy(k + 32, key, 32);
	r = store_del(t, ST_AUTHFEEDS, k, 64);
	return r == HAMLET_ENOTFOUND ? 0 : r;
}

int heads_feed_version(struct store_txn *t, const uint8_t key[32],
		       uint64_t *ret)
{
	int r = store_get_u64(t, ST_FEEDVER, key, 32, ret);
	if (r == HAMLET_ENOTFOUND) {
		*ret = 0;
		return 0;
	}
	return r;
}

int heads_feed_moved(struct store_txn *t, const uint8_t key[32],
		       uint64_t ver)
{
	uint8_t k[40], v[8];
	uint64_t old;
	int r;

	if ((r = heads_feed_version(t, key, &old)) < 0)
		return r;
	if (old == ver)
		return 0;
	if (old) {
		store_be64(k, old);
		memcpy(k + 8, key, 32);
		if ((r = store_del(t, ST_VERFEED, k, 40)) < 0 &&
		    r != HAMLET_ENOTFOUND)
			return r;
	}
	store_be64(k, ver);
	memcpy(k + 8, key, 32);
	store_be64(v, ver);
	if ((r = store_put(t, ST_VERFEED, k, 40, "", 0, 0)) < 0)
		return r;
	return store_put(t, ST_FEEDVER, key, 32, v, 8, 0);
}

int heads_commit(struct store_txn *t, struct heads_delta *d, int moved,
		 uint64_t *ret_version)
{
	struct heads_totals tot;
	int r;

	if ((r = heads_totals_get(t, &tot)) == HAMLET_ENOTFOUND) {
		memset(&tot, 0, sizeof(tot)); /* a new store */
	} else if (r < 0) {
		return r;
	}
	if (!moved && d->entries == 0 && d->entries_gone == 0) {
		*ret_version = tot.version;
		return 0;
	}
	tot.feeds += d->feeds;
	tot.entries += d->entries;
	tot.feeds -= d->feeds_gone < tot.feeds ? d->feeds_gone : tot.feeds;
	tot.entries -= d->entries_gone < tot.entries ? d->entries_gone
						      : tot.entries;
	if (d->newest_reset || d->newest_hlc > tot.newest_hlc)
		tot.newest_hlc = d->newest_hlc;
	if (moved)
		tot.version++;
	if ((r = heads_totals_put(t, &tot)) < 0)
		return r;
	memset(d, 0, sizeof(*d));
	*ret_version = tot.version;
	return 0;
}

/* Walk tab from the key seek (klen bytes) while keys begin with its
 * first plen bytes, handing the 32 bytes at off to cb. */
static int walk(struct store_txn *t, enum store_table tab, const uint8_t *seek,
		size_t klen, size_t plen, size_t off, heads_key_cb cb,
		void *ctx)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	int r;

	if ((r = store_cursor_open(t, tab, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, seek, klen, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		if (memcmp(k, seek, plen) != 0) {
			r = 0;
			break;
		}
		if (kl != off + 32) {
			r = HAMLET_ECORRUPT;
			break;
		}
		if ((r = cb(ctx, (const uint8_t *)k + off)) != 0)
			break;
	}
	store_cursor_close(c);
	return r == 1 ? 0 : r;
}

int heads_moved_since(struct store_txn *t, uint64_t since, heads_key_cb cb,
		      void *ctx)
{
	uint8_t k[8];
	if (since == UINT64_MAX)
		return 0;
	store_be64(k, since + 1);
	return walk(t, ST_VERFEED, k, 8, 0, 8, cb, ctx);
}

int heads_author_feeds(struct store_txn *t, const uint8_t author[32],
		       heads_key_cb cb, void *ctx)
{
	return walk(t, ST_AUTHFEEDS, author, 32, 32, 32, cb, ctx);
}

