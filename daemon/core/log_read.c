/* log: reading feeds, entries, bodies and fork evidence. */
#include "log_internal.h"

#include "bytes.h"
#include "error.h"
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* seq, head, hlc, forked, fork seq, author, sigs, scope (the rest). */
static int feed_decode(const uint8_t key[32], const uint8_t *v, size_t vl,
		       struct log_feed *f)
{
	struct bytes_reader r;
	uint8_t forked;
	size_t sl;

	if (vl < FEED_VAL_MIN || vl > FEED_VAL_MIN + ENTRY_MAX_SCOPE)
		return HAMLET_ECORRUPT;
	bytes_reader_init(&r, v, vl);
	if (bytes_get_be64(&r, &f->seq) < 0 ||
	    bytes_get_bytes(&r, f->head, 32) < 0 ||
	    bytes_get_be64(&r, &f->hlc) < 0 ||
	    bytes_get_u8(&r, &forked) < 0 ||
	    bytes_get_be64(&r, &f->fork_seq) < 0 ||
	    bytes_get_bytes(&r, f->author, 32) < 0 ||
	    bytes_get_bytes(&r, f->sigs, 32) < 0)
		return HAMLET_ECORRUPT;
	sl = bytes_remaining(&r);
	if (bytes_get_bytes(&r, f->scope, sl) < 0)
		return HAMLET_ECORRUPT;
	f->scope[sl] = 0;
	f->forked = forked;
	memcpy(f->key, key, 32);
	return 0;
}

int log_feed_get(struct store_txn *t, const uint8_t key[32],
		 struct log_feed *ret)
{
	const void *v;
	size_t vl;
	int r = store_get(t, ST_FEEDS, key, 32, &v, &vl);
	if (r < 0)
		return r;
	return feed_decode(key, v, vl, ret);
}

int log_feeds_each(struct store_txn *t, log_feed_cb cb, void *ctx)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	struct log_feed f;
	int r;
	if ((r = store_cursor_open(t, ST_FEEDS, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		if (kl != 32 || (r = feed_decode(k, v, vl, &f)) < 0) {
			r = HAMLET_ECORRUPT;
			break;
		}
		if ((r = cb(ctx, &f)) < 0)
			break;
	}
	store_cursor_close(c);
	return r < 0 ? r : 0;
}

int log__row_decode(const void *v, size_t vl, int held,
		    struct log__entry_row *ret)
{
	struct bytes_reader r;
	uint16_t el;
	uint8_t flags = 0;

	bytes_reader_init(&r, v, vl);
	if (bytes_get_be16(&r, &el) < 0 || bytes_borrow(&r, el, &ret->env) < 0 ||
	    bytes_borrow(&r, ENTRY_SIG_LEN, &ret->sig) < 0 ||
	    (held && bytes_get_u8(&r, &flags) < 0))
		return HAMLET_ECORRUPT;
	ret->env_len = el;
	ret->body = NULL;
	ret->body_len = 0;
	ret->arrived = 0;
	ret->nocert = (flags & LOG__HELD_NOCERT) != 0;
	if ((flags & LOG__HELD_ARRIVED) &&
	    bytes_get_be64(&r, &ret->arrived) < 0)
		return HAMLET_ECORRUPT;
	if (flags & LOG__HELD_BODY) {
		ret->body_len = bytes_remaining(&r);
		if (bytes_borrow(&r, ret->body_len, &ret->body) < 0)
			return HAMLET_ECORRUPT;
	}
	return bytes_remaining(&r) == 0 ? 0 : HAMLET_ECORRUPT;
}

void log__seq_key(const uint8_t feed[32], uint64_t seq, uint8_t out[40])
{
	memcpy(out, feed, 32);
	store_be64(out + 32, seq);
}

/* row's envelope, moved into buf when it was rebuilt into the row */
static void env_out(const struct entries_row *row,
		    uint8_t buf[ENTRY_MAX_ENVELOPE], const uint8_t **ret_env,
		    size_t *ret_env_len, const uint8_t **ret_sig)
{
	if (row->compact) {
		memcpy(buf, row->env, row->env_len);
		*ret_env = buf;
	} else {
		*ret_env = row->env;
	}
	*ret_env_len = row->env_len;
	*ret_sig = row->sig;
}

int log_entry_get(struct store_txn *t, const uint8_t feed[32], uint64_t seq,
		  uint8_t buf[ENTRY_MAX_ENVELOPE], const uint8_t **ret_env,
		  size_t *ret_env_len, const uint8_t **ret_sig)
{
	struct entries_row row;
	int r = entries_get(t, feed, seq, &row);
	if (r < 0)
		return r;
	env_out(&row, buf, ret_env, ret_env_len, ret_sig);
	return 0;
}

int log_entry_read(struct store_txn *t, const uint8_t feed[32], uint64_t seq,
		   struct bodyz_buf *b, struct log_entry_full *ret)
{
	struct entries_row row;
	const void *body = NULL;
	int r = entries_get(t, feed, seq, &row);
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->env = row.env;
	ret->env_len = row.env_len;
	ret->sig = row.sig;
	r = entries_row_body(t, &row, b, &body, &ret->body_len);
	if (r == HAMLET_ECORRUPT)
		ret->body_damaged = 1;
	else if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	ret->body = r == 0 ? body : NULL;
	if (!ret->body)
		ret->body_len = 0;
	if (row.compact) {
		/* the envelope rebuilt: into b too, after a body there */
		size_t at = ret->body && ret->body == b->p ? ret->body_len : 0;
		if (b->cap < at + row.env_len) {
			uint8_t *p = realloc(b->p, at + row.env_len);
			if (!p)
				return -ENOMEM;
			b->p = p;
			b->cap = at + row.env_len;
			if (at)
				ret->body = p;
		}
		memcpy(b->p + at, row.env, row.env_len);
		ret->env = b->p + at;
	}
	return 0;
}

int log_entry_next(struct store_txn *t, const uint8_t feed[32], uint64_t seq,
		   uint64_t *ret)
{
	return entries_next_seq(t, feed, seq, ret);
}

int log_entry_at(struct store_txn *t, uint64_t lseq,
		 uint8_t buf[ENTRY_MAX_ENVELOPE], const uint8_t **ret_env,
		 size_t *ret_env_len, const uint8_t **ret_sig)
{
	struct entries_row row;
	int r = entries_at(t, lseq, &row);
	if (r < 0) /* an op row names only a stored entry */
		return r == HAMLET_ENOTFOUND ? HAMLET_ECORRUPT : r;
	env_out(&row, buf, ret_env, ret_env_len, ret_sig);
	return 0;
}

int log_op_entry(struct store_txn *t, const char *coll, const char *rid,
		 const uint8_t id[ENTRY_ID_LEN],
		 uint8_t buf[ENTRY_MAX_ENVELOPE], const uint8_t **ret_env,
		 size_t *ret_env_len, const uint8_t **ret_sig)
{
	uint8_t got[ENTRY_ID_LEN];
	uint64_t lseq;
	int r = record_op_find(t, coll, rid, id, &lseq);
	if (r < 0 || (r = log_entry_at(t, lseq, buf, ret_env, ret_env_len,
				       ret_sig)) < 0)
		return r;
	/* the entry there is the one the row names */
	entry_id(*ret_env, *ret_env_len, got);
	return memcmp(got, id, ENTRY_ID_LEN) == 0 ? 0 : HAMLET_ECORRUPT;
}

int log_body_of(struct store_txn *t, const uint8_t feed[32], uint64_t seq,
		struct bodyz_buf *b, const uint8_t **ret_body,
		size_t *ret_len)
{
	struct log_entry_full x;
	int r = log_entry_read(t, feed, seq, b, &x);
	if (r < 0)
		return r;
	if (x.body_damaged)
		return HAMLET_ECORRUPT;
	if (!x.body)
		return HAMLET_ENOTFOUND;
	*ret_body = x.body;
	*ret_len = x.body_len;
	return 0;
}

int log_body_at(struct store_txn *t, const uint8_t id[ENTRY_ID_LEN],
		uint64_t lseq, struct bodyz_buf *b, const uint8_t **ret_body,
		size_t *ret_len)
{
	const void *body;
	int r = entries_body(t, id, lseq, b, &body, ret_len);
	if (r == 0)
		*ret_body = body;
	return r;
}

int log_forks_each(struct store_txn *t, log_fork_cb cb, void *ctx)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	struct log_fork f;
	int r;
	if ((r = store_cursor_open(t, ST_FORKS, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		struct bytes_reader kr;
		struct log__entry_row row;
		bytes_reader_init(&kr, k, kl);
		if (kl != 72 || bytes_get_bytes(&kr, f.feed, 32) < 0 ||
		    bytes_get_be64(&kr, &f.seq) < 0 ||
		    bytes_get_bytes(&kr, f.id, 32) < 0 ||
		    log__row_decode(v, vl, 0, &row) < 0) {
			r = HAMLET_ECORRUPT;
			break;
		}
		f.env = row.env;
		f.env_len = row.env_len;
		f.sig = row.sig;
		if ((r = cb(ctx, &f)) < 0)
			break;
	}
	store_cursor_close(c);
	return r < 0 ? r : 0;
}

int log_held_count(struct store_txn *t, uint64_t *ret)
{
	return store_count(t, ST_PENDING, ret);
}

int log_held_each(struct store_txn *t, log_held_cb cb, void *ctx)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	struct log_held h;
	int r;
	if ((r = store_cursor_open(t, ST_PENDING, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		struct log__entry_row row;
		if (kl != 40 || log__row_decode(v, vl, 1, &row) < 0) {
			r = HAMLET_ECORRUPT;
			break;
		}
		memcpy(h.feed, k, 32);
		h.seq = store_get_be64((const uint8_t *)k + 32);
		h.env = row.env;
		h.env_len = row.env_len;
		h.sig = row.sig;
		h.nocert = row.nocert;
		if ((r = cb(ctx, &h)) < 0)
			break;
	}
	store_cursor_close(c);
	return r < 0 ? r : 0;
}
