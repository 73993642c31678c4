#include "entries.h"

#include "entry.h"
#include "error.h"
#include "wmemo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ROW_BODY 1  /* flags: a body follows */
#define ROW_ZBODY 2 /* compressed (bodyz.h) */

/*
 * The bodies the writer compressed lately (wmemo.h), by entry id, each
 * for the transaction that stored it, and forgotten when it drops the
 * body (entries_body_drop is the one way a stored body goes; anything
 * else that ever takes a body out of a row must forget it too). An
 * entry's id names its body (the envelope it hashes holds the body's
 * hash), so a body remembered is the one its row holds while the row
 * holds one at all. Materializing a batch's records reads back the
 * bodies the same batch just stored: from here, they are not
 * decompressed again. Later transactions read the stored frame, so a
 * frame damaged on disk is found as it is.
 */
#define MEMO_SLOTS 8192
#define MEMO_BODY 512 /* larger bodies are not remembered */

struct memo_slot {
	struct wmemo_head h;
	uint16_t len; /* 0: forgotten (the slot still holds its place) */
	uint8_t body[MEMO_BODY];
};

static struct memo_slot *memo_find(struct store_txn *t, const uint8_t id[32],
				   int want_free)
{
	return wmemo_find(t, WMEMO_BODIES, MEMO_SLOTS,
			  sizeof(struct memo_slot), id, want_free);
}

static void memo_put(struct store_txn *t, const uint8_t id[32],
		     const uint8_t *body, size_t n)
{
	struct memo_slot *s;
	if (n == 0 || n > MEMO_BODY || !(s = memo_find(t, id, 1)))
		return; /* remembering is only a saving */
	s->h.txn = store_txn_serial(t);
	memcpy(s->h.id, id, 32);
	memcpy(s->body, body, n);
	s->len = (uint16_t)n;
}

/* A body dropped (erased): not remembered any longer. */
static void memo_forget(struct store_txn *t, const uint8_t id[32])
{
	struct memo_slot *s = memo_find(t, id, 0);
	if (s)
		s->len = 0;
}

/* The body of id into b when the writer remembers it: 1, else 0. */
static int memo_get(struct store_txn *t, const uint8_t id[32],
		    struct bodyz_buf *b, const void **ret_body,
		    size_t *ret_len)
{
	struct memo_slot *s = memo_find(t, id, 0);
	if (!s || s->len == 0)
		return 0;
	if (b->cap < s->len) {
		uint8_t *p = realloc(b->p, s->len);
		if (!p)
			return 0;
		b->p = p;
		b->cap = s->len;
	}
	memcpy(b->p, s->body, s->len);
	*ret_body = b->p;
	*ret_len = s->len;
	return 1;
}

int entries_row_decode(const void *v, size_t vl, struct entries_row *ret)
{
	const uint8_t *p = v;
	size_t el, at;
	if (vl < 2)
		return HAMLET_ECORRUPT;
	el = (size_t)p[0] << 8 | p[1];
	at = 2 + el + ENTRY_SIG_LEN;
	if (el == 0 || vl < at + 1 || (p[at] & ~(ROW_BODY | ROW_ZBODY)) ||
	    (!(p[at] & ROW_BODY) && (vl != at + 1 || p[at])))
		return HAMLET_ECORRUPT;
	ret->env = p + 2;
	ret->env_len = el;
	ret->sig = p + 2 + el;
	ret->body = p[at] & ROW_BODY ? p + at + 1 : NULL;
	ret->body_len = ret->body ? vl - at - 1 : 0;
	ret->compressed = (p[at] & ROW_ZBODY) != 0;
	return 0;
}

size_t entries_row_start(uint8_t *buf, const uint8_t *env, size_t env_len,
			 const uint8_t *sig)
{
	buf[0] = (uint8_t)(env_len >> 8);
	buf[1] = (uint8_t)env_len;
	memcpy(buf + 2, env, env_len);
	memcpy(buf + 2 + env_len, sig, ENTRY_SIG_LEN);
	return 2 + env_len + ENTRY_SIG_LEN;
}

/*
 * What the last append of a transaction left (wmemo.h): the next local
 * seq, the run row it wrote, and that the dictionary was seen to. The
 * next append in the same transaction (and no nested one aborted since)
 * reads none of them back: a batch of one feed is appended in a row.
 */
struct append_memo {
	uint64_t txn, undone; /* store_txn_serial(), store_txn_undone() */
	uint64_t next;	      /* the next local seq */
	uint8_t feed[32];     /* the run last written */
	uint64_t first, lfirst, count;
	int dict_seen; /* bodyz_train_maybe() done past BODYZ_TRAIN_AT */
};

static struct append_memo *append_memo(struct store_txn *t, int make)
{
	struct append_memo *m =
		wmemo_table(t, WMEMO_APPEND, sizeof(struct append_memo), make);
	if (!m || m->txn != store_txn_serial(t) ||
	    m->undone != store_txn_undone(t))
		return NULL;
	return m;
}

static int next_lseq(struct store_txn *t, uint64_t *ret)
{
	const struct append_memo *m = append_memo(t, 0);
	const void *k;
	size_t kl;
	int r;
	if (m) {
		*ret = m->next;
		return 0;
	}
	if ((r = store_last_key(t, ST_ENTRIES, &k, &kl)) < 0)
		return r;
	if (r == 0) {
		*ret = 1;
		return 0;
	}
	if (kl != 8)
		return HAMLET_ECORRUPT;
	*ret = store_get_be64(k) + 1;
	return 0;
}

/*
 * seqs holds runs: feed ‖ first seq → first local seq ‖ count, for
 * entries first … first + count − 1 of the feed stored at local seqs
 * lfirst … lfirst + count − 1. A feed's entries that arrive together
 * (a batch from a peer, a bundle, a village's own writes between two
 * arrivals from elsewhere) are one run, one row.
 */
#define RUN_VAL 16

/* The run of feed holding seq, or (when none does) the last run of feed
 * before seq: 1 with first, lfirst and count, 0 when feed has none
 * before seq. */
static int run_le(struct store_txn *t, const uint8_t feed[32], uint64_t seq,
		  uint64_t *first, uint64_t *lfirst, uint64_t *count)
{
	uint8_t sk[40];
	const void *k, *v;
	size_t kl, vl;
	int r;
	memcpy(sk, feed, 32);
	store_be64(sk + 32, seq);
	if ((r = store_get_le(t, ST_SEQS, sk, 40, &k, &kl, &v, &vl)) <= 0)
		return r;
	if (kl != 40 || vl != RUN_VAL)
		return HAMLET_ECORRUPT;
	if (memcmp(k, feed, 32) != 0)
		return 0; /* another feed's */
	*first = store_get_be64((const uint8_t *)k + 32);
	*lfirst = store_get_be64(v);
	*count = store_get_be64((const uint8_t *)v + 8);
	if (*count == 0)
		return HAMLET_ECORRUPT;
	return 1;
}

/* Note entry seq of feed at local seq lseq: the feed's run before it
 * grows when both follow on, else a new run begins. m: the writer's
 * memo of the transaction, or NULL; the run written goes to *ret. */
static int run_add(struct store_txn *t, const struct append_memo *m,
		   const uint8_t feed[32], uint64_t seq, uint64_t lseq,
		   struct append_memo *ret)
{
	uint64_t first, lfirst, count;
	uint8_t sk[40], sv[RUN_VAL];
	int r;

	if (m && memcmp(m->feed, feed, 32) == 0 && m->first + m->count == seq &&
	    m->lfirst + m->count == lseq) {
		/* the run the writer wrote last, as it wrote it */
		first = m->first;
		lfirst = m->lfirst;
		count = m->count;
		r = 1;
	} else if (seq > 1) {
		r = run_le(t, feed, seq - 1, &first, &lfirst, &count);
	} else {
		r = 0;
	}
	if (r < 0)
		return r;
	if (r == 1 && first + count == seq && lfirst + count == lseq) {
		count++;
	} else {
		first = seq;
		lfirst = lseq;
		count = 1;
	}
	memcpy(sk, feed, 32);
	store_be64(sk + 32, first);
	store_be64(sv, lfirst);
	store_be64(sv + 8, count);
	memcpy(ret->feed, feed, 32);
	ret->first = first;
	ret->lfirst = lfirst;
	ret->count = count;
	return store_put(t, ST_SEQS, sk, 40, sv, RUN_VAL, 0);
}

int entries_lseq(struct store_txn *t, const uint8_t feed[32], uint64_t seq,
		 uint64_t *ret_lseq)
{
	uint64_t first, lfirst, count;
	int r = run_le(t, feed, seq, &first, &lfirst, &count);
	if (r < 0)
		return r;
	if (r == 0 || seq < first || seq - first >= count)
		return HAMLET_ENOTFOUND;
	*ret_lseq = lfirst + (seq - first);
	return 0;
}

int entries_append(struct store_txn *t, const uint8_t feed[32],
		   uint64_t seq, const uint8_t id[32], const uint8_t *env,
		   size_t env_len, const uint8_t *sig, const uint8_t *body,
		   size_t body_len, uint64_t *ret_lseq)
{
	uint8_t buf[2 + ENTRY_MAX_ENVELOPE + ENTRY_SIG_LEN + 1 +
		    ENTRY_MAX_BODY];
	struct append_memo *m = append_memo(t, 0), now = { 0 };
	uint8_t lk[8];
	uint64_t lseq;
	size_t n;
	int r;

	if (env_len == 0 || env_len > ENTRY_MAX_ENVELOPE ||
	    (body && body_len > ENTRY_MAX_BODY))
		return HAMLET_ETOOBIG;
	if ((r = next_lseq(t, &lseq)) < 0)
		return r;
	/* the dictionary comes at the first append past BODYZ_TRAIN_AT;
	 * once seen to, the transaction's later appends need not look */
	now.dict_seen = m && m->dict_seen;
	if (!now.dict_seen) {
		if ((r = bodyz_train_maybe(t, lseq)) < 0)
			return r;
		now.dict_seen = lseq > BODYZ_TRAIN_AT;
	}
	store_be64(lk, lseq);
	n = entries_row_start(buf, env, env_len, sig);
	buf[n++] = body ? ROW_BODY : 0;
	if (body) {
		size_t zl;
		if ((r = bodyz_compress(t, body, body_len, buf + n, &zl)) < 0)
			return r;
		if (r) {
			buf[n - 1] |= ROW_ZBODY;
			n += zl;
			memo_put(t, id, body, body_len);
		} else {
			memcpy(buf + n, body, body_len);
			n += body_len;
		}
	}
	if ((r = store_put(t, ST_ENTRIES, lk, 8, buf, n, STORE_APPEND)) < 0 ||
	    (r = run_add(t, m, feed, seq, lseq, &now)) < 0)
		return r;
	if ((m = wmemo_table(t, WMEMO_APPEND, sizeof(*m), 1))) {
		now.txn = store_txn_serial(t);
		now.undone = store_txn_undone(t);
		now.next = lseq + 1;
		*m = now;
	}
	*ret_lseq = lseq;
	return 0;
}

int entries_at(struct store_txn *t, uint64_t lseq, struct entries_row *ret)
{
	uint8_t lk[8];
	const void *v;
	size_t vl;
	int r;
	store_be64(lk, lseq);
	if ((r = store_get(t, ST_ENTRIES, lk, 8, &v, &vl)) < 0)
		return r;
	return entries_row_decode(v, vl, ret);
}

int entries_get(struct store_txn *t, const uint8_t feed[32], uint64_t seq,
		struct entries_row *ret)
{
	uint64_t lseq;
	int r = entries_lseq(t, feed, seq, &lseq);
	if (r < 0)
		return r;
	r = entries_at(t, lseq, ret);
	/* a run names only stored entries */
	return r == HAMLET_ENOTFOUND ? HAMLET_ECORRUPT : r;
}

int entries_row_body(struct store_txn *t, const struct entries_row *row,
		     struct bodyz_buf *b, const void **ret_body,
		     size_t *ret_len)
{
	if (!row->body)
		return HAMLET_ENOTFOUND;
	if (row->compressed)
		return bodyz_decompress(t, row->body, row->body_len, b,
					ret_body, ret_len);
	*ret_body = row->body;
	*ret_len = row->body_len;
	return 0;
}

int entries_body_remembered(struct store_txn *t, const uint8_t id[32],
			    struct bodyz_buf *b, const void **ret_body,
			    size_t *ret_len)
{
	return memo_get(t, id, b, ret_body, ret_len);
}

int entries_body(struct store_txn *t, const uint8_t id[32], uint64_t lseq,
		 struct bodyz_buf *b, const void **ret_body, size_t *ret_len)
{
	struct entries_row row;
	int r;
	/* stored by this transaction, and not dropped since */
	if (memo_get(t, id, b, ret_body, ret_len))
		return 0;
	if ((r = entries_at(t, lseq, &row)) < 0)
		return r == HAMLET_ENOTFOUND ? HAMLET_ECORRUPT : r;
	return entries_row_body(t, &row, b, ret_body, ret_len);
}

int entries_body_drop(struct store_txn *t, const uint8_t id[32],
		      uint64_t lseq)
{
	struct entries_row row;
	uint8_t lk[8], *copy;
	size_t keep;
	int r;

	if ((r = entries_at(t, lseq, &row)) < 0)
		return r == HAMLET_ENOTFOUND ? HAMLET_ECORRUPT : r;
	if (!row.body)
		return HAMLET_ENOTFOUND;
	memo_forget(t, id);
	keep = 2 + row.env_len + ENTRY_SIG_LEN + 1;
	if (!(copy = malloc(keep)))
		return -ENOMEM;
	memcpy(copy, row.env - 2, keep);
	copy[keep - 1] = 0;
	store_be64(lk, lseq);
	r = store_put(t, ST_ENTRIES, lk, 8, copy, keep, 0);
	free(copy);
	return r;
}
