#include "entries.h"

#include "bytes.h"
#include "entry.h"
#include "error.h"
#include "wmemo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ROW_BODY 1    /* flags: a body follows */
#define ROW_ZBODY 2   /* compressed (bodyz.h) */
#define ROW_COMPACT 4 /* the envelope's tail and its feed's number */

#define META_NETWORK "network"
#define META_NETWORK_LEN 7

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

/* --- feed numbers ------------------------------------------------------ */

/*
 * The heads a thread rebuilt lately, by feed number, for the transaction
 * it read them in: a number stands for the same feed for as long as the
 * transaction (and no nested one aborted since: a number given in one
 * could be given again), and reading a store's entries, `hamlet verify`
 * above all, rebuilds the same few feeds' heads over and over.
 */
#define HEADS_CACHED 64

struct head_slot {
	uint64_t txn, undone; /* store_txn_serial(), _undone(); 0: empty */
	uint32_t no;
	uint8_t len;
	uint8_t head[ENTRY_MAX_HEAD];
};

static _Thread_local struct head_slot heads_cached[HEADS_CACHED];

/* Feed number no's head (entry_head_encode) into ret: its author and
 * scope from feednums, the network from meta. */
static int head_of(struct store_txn *t, uint32_t no, uint8_t *ret,
		   size_t *ret_len)
{
	struct head_slot *c = &heads_cached[no % HEADS_CACHED];
	uint64_t txn = store_txn_serial(t), undone = store_txn_undone(t);
	uint8_t k[5] = { 'n' };
	const void *fv, *nv;
	size_t fl, nl, hl;
	int r;

	if (c->txn == txn && c->undone == undone && c->no == no) {
		memcpy(ret, c->head, c->len);
		*ret_len = c->len;
		return 0;
	}

	store_be32(k + 1, no);
	if ((r = store_get(t, ST_FEEDNUMS, k, 5, &fv, &fl)) < 0 ||
	    (r = store_get(t, ST_META, META_NETWORK, META_NETWORK_LEN, &nv,
			   &nl)) < 0)
		return r == HAMLET_ENOTFOUND ? HAMLET_ECORRUPT : r;
	if (fl <= ENTRY_KEY_LEN || nl != 32)
		return HAMLET_ECORRUPT;
	hl = entry_head_encode(nv, fv, (const char *)fv + ENTRY_KEY_LEN,
			       fl - ENTRY_KEY_LEN, ret);
	if (hl == 0 || hl > 255)
		return HAMLET_ECORRUPT;
	*ret_len = hl;
	c->txn = txn;
	c->undone = undone;
	c->no = no;
	c->len = (uint8_t)hl;
	memcpy(c->head, ret, hl);
	return 0;
}

/* The number of feed, given now when it has none (e: an entry of it,
 * for its author and scope). */
static int feed_number(struct store_txn *t, const uint8_t feed[32],
		       const struct entry *e, uint32_t *ret)
{
	uint8_t k[33] = { 'k' }, nk[5] = { 'n' },
		v[ENTRY_KEY_LEN + ENTRY_MAX_SCOPE];
	const void *lk, *lv, *nv;
	size_t lkl, lvl, nvl, sl = strlen(e->scope);
	uint32_t no = 0;
	int r;

	memcpy(k + 1, feed, 32);
	r = store_get(t, ST_FEEDNUMS, k, 33, &nv, &nvl);
	if (r == 0) {
		if (nvl != 4)
			return HAMLET_ECORRUPT;
		*ret = store_get_be32(nv);
		return 0;
	}
	if (r != HAMLET_ENOTFOUND)
		return r;
	/* the next after the greatest given */
	memset(nk + 1, 0xff, 4);
	if ((r = store_get_le(t, ST_FEEDNUMS, nk, 5, &lk, &lkl, &lv, &lvl)) < 0)
		return r;
	if (r == 1 && lkl == 5 && ((const uint8_t *)lk)[0] == 'n') {
		no = store_get_be32((const uint8_t *)lk + 1);
		if (no == UINT32_MAX)
			return HAMLET_ETOOBIG;
		no++;
	}
	if (sl == 0 || sl > ENTRY_MAX_SCOPE)
		return HAMLET_ESCOPE;
	store_be32(nk + 1, no);
	memcpy(v, e->author, ENTRY_KEY_LEN);
	memcpy(v + ENTRY_KEY_LEN, e->scope, sl);
	if ((r = store_put(t, ST_FEEDNUMS, k, 33, nk + 1, 4, 0)) < 0 ||
	    (r = store_put(t, ST_FEEDNUMS, nk, 5, v, ENTRY_KEY_LEN + sl, 0)) < 0)
		return r;
	*ret = no;
	return 0;
}

/* 1 when the store's compact rows are of network (noted now when it has
 * none yet), 0 when they are of another. */
static int network_is(struct store_txn *t, const uint8_t network[32])
{
	const void *v;
	size_t vl;
	int r = store_get(t, ST_META, META_NETWORK, META_NETWORK_LEN, &v, &vl);
	if (r == HAMLET_ENOTFOUND) {
		r = store_put(t, ST_META, META_NETWORK, META_NETWORK_LEN,
			      network, 32, 0);
		return r < 0 ? r : 1;
	}
	if (r < 0)
		return r;
	if (vl != 32)
		return HAMLET_ECORRUPT;
	return memcmp(v, network, 32) == 0;
}

/* --- rows -------------------------------------------------------------- */

int entries_row_decode(struct store_txn *t, const void *v, size_t vl,
		       struct entries_row *ret)
{
	struct bytes_reader br;
	uint8_t flags;
	int r;

	bytes_reader_init(&br, v, vl);
	if (bytes_get_u8(&br, &flags) < 0 ||
	    (flags & ~(ROW_BODY | ROW_ZBODY | ROW_COMPACT)) ||
	    (flags & (ROW_BODY | ROW_ZBODY)) == ROW_ZBODY)
		return HAMLET_ECORRUPT;
	ret->compact = (flags & ROW_COMPACT) != 0;
	if (ret->compact) {
		uint64_t no, tl;
		const uint8_t *tail;
		size_t hl;
		if (bytes_get_varint(&br, &no) < 0 || no > UINT32_MAX ||
		    bytes_get_varint(&br, &tl) < 0 || tl == 0 ||
		    bytes_borrow(&br, tl, &tail) < 0)
			return HAMLET_ECORRUPT;
		ret->env = NULL;
		ret->env_len = 0;
		/* t NULL: the body is wanted, not the envelope */
		if (t) {
			if ((r = head_of(t, (uint32_t)no, ret->buf, &hl)) < 0)
				return r;
			if (tl > ENTRY_MAX_ENVELOPE - hl)
				return HAMLET_ECORRUPT;
			memcpy(ret->buf + hl, tail, tl);
			ret->env = ret->buf;
			ret->env_len = hl + tl;
		}
	} else {
		uint16_t el;
		if (bytes_get_be16(&br, &el) < 0 || el == 0 ||
		    bytes_borrow(&br, el, &ret->env) < 0)
			return HAMLET_ECORRUPT;
		ret->env_len = el;
	}
	if (bytes_borrow(&br, ENTRY_SIG_LEN, &ret->sig) < 0)
		return HAMLET_ECORRUPT;
	ret->body = NULL;
	ret->body_len = 0;
	if (flags & ROW_BODY) {
		ret->body_len = bytes_remaining(&br);
		bytes_borrow(&br, ret->body_len, &ret->body);
	} else if (bytes_remaining(&br)) {
		return HAMLET_ECORRUPT;
	}
	ret->compressed = (flags & ROW_ZBODY) != 0;
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
	/* the last compact row's feed, its number and network */
	int numbered;
	uint8_t nfeed[32], network[32];
	uint32_t no;
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

int entries_last_lseq(struct store_txn *t, uint64_t *ret)
{
	const void *k;
	size_t kl;
	int r = store_last_key(t, ST_ENTRIES, &k, &kl);
	if (r < 0)
		return r;
	if (r > 0 && kl != 8)
		return HAMLET_ECORRUPT;
	*ret = r > 0 ? store_get_be64(k) : 0;
	return 0;
}

int entries_count_after(struct store_txn *t, const uint8_t feed[32],
			uint64_t head, uint64_t lseq, uint64_t *ret)
{
	uint64_t n = 0, seq = head, first, lfirst, count;
	int r = 0;

	/* a feed's entries are stored in seq order: its runs from the
	 * head back, while their local seqs are past lseq */
	while (seq >= 1 &&
	       (r = run_le(t, feed, seq, &first, &lfirst, &count)) == 1) {
		uint64_t last = lfirst + count - 1;
		if (first + count - 1 > seq)
			last -= first + count - 1 - seq; /* past head: not counted */
		if (last <= lseq)
			break;
		n += last - (lfirst > lseq ? lfirst : lseq + 1) + 1;
		if (lfirst <= lseq)
			break;
		seq = first - 1;
	}
	if (r < 0)
		return r;
	*ret = n;
	return 0;
}

int entries_next_seq(struct store_txn *t, const uint8_t feed[32],
		     uint64_t seq, uint64_t *ret)
{
	struct store_cursor *c;
	uint8_t sk[40];
	const void *k, *v;
	size_t kl, vl;
	int r;

	if ((r = entries_lseq(t, feed, seq, &(uint64_t){ 0 })) !=
	    HAMLET_ENOTFOUND) {
		if (r == 0)
			*ret = seq;
		return r < 0 ? r : 1;
	}
	/* not in a run: the first run of feed that begins after seq */
	memcpy(sk, feed, 32);
	store_be64(sk + 32, seq);
	if ((r = store_cursor_open(t, ST_SEQS, &c)) < 0)
		return r;
	r = store_cursor_seek(c, sk, 40, &k, &kl, &v, &vl);
	if (r > 0 && (kl != 40 || vl != RUN_VAL))
		r = HAMLET_ECORRUPT;
	else if (r > 0 && memcmp(k, feed, 32) != 0)
		r = 0; /* another feed's */
	else if (r > 0)
		*ret = store_get_be64((const uint8_t *)k + 32);
	store_cursor_close(c);
	return r;
}

/*
 * The row's envelope into buf (after the flags): compact, and 1, when
 * env begins with the head its feed's number and the store's network
 * give back, else whole, and 0. m: the writer's memo of the
 * transaction, or NULL; the feed numbered goes to *now.
 */
static int row_envelope(struct store_txn *t, const struct append_memo *m,
			const uint8_t feed[32], const struct entry *e,
			const uint8_t *env, size_t env_len, const uint8_t *sig,
			uint8_t *buf, size_t *ret_len, struct append_memo *now)
{
	uint8_t head[ENTRY_MAX_HEAD];
	struct bytes_writer w;
	size_t hl = 0;
	uint32_t no = 0;
	int r;

	if (e)
		hl = entry_head_encode(e->network_id, e->author, e->scope,
				       strlen(e->scope), head);
	if (hl == 0 || hl >= env_len || memcmp(env, head, hl) != 0)
		goto whole;
	if (m && m->numbered && memcmp(m->nfeed, feed, 32) == 0 &&
	    memcmp(m->network, e->network_id, 32) == 0) {
		no = m->no; /* the feed of the append before */
	} else {
		if ((r = network_is(t, e->network_id)) < 0)
			return r;
		if (r == 0)
			goto whole;
		if ((r = feed_number(t, feed, e, &no)) < 0)
			return r;
	}
	now->numbered = 1;
	memcpy(now->nfeed, feed, 32);
	memcpy(now->network, e->network_id, 32);
	now->no = no;
	bytes_writer_init(&w, buf,
			  10 + 10 + ENTRY_MAX_ENVELOPE + ENTRY_SIG_LEN);
	bytes_put_varint(&w, no);
	bytes_put_varint(&w, env_len - hl);
	bytes_put_bytes(&w, env + hl, env_len - hl);
	bytes_put_bytes(&w, sig, ENTRY_SIG_LEN);
	*ret_len = bytes_written(&w);
	return 1;
whole:
	*ret_len = entries_row_start(buf, env, env_len, sig);
	return 0;
}

int entries_append(struct store_txn *t, const uint8_t feed[32],
		   uint64_t seq, const struct entry *e, const uint8_t id[32],
		   const uint8_t *env, size_t env_len, const uint8_t *sig,
		   const uint8_t *body, size_t body_len, uint64_t *ret_lseq)
{
	uint8_t buf[1 + 10 + 10 + ENTRY_MAX_ENVELOPE + ENTRY_SIG_LEN +
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
	if (m && m->numbered) {
		now.numbered = 1;
		memcpy(now.nfeed, m->nfeed, 32);
		memcpy(now.network, m->network, 32);
		now.no = m->no;
	}
	if (!now.dict_seen) {
		if ((r = bodyz_train_maybe(t, lseq)) < 0)
			return r;
		now.dict_seen = lseq > BODYZ_TRAIN_AT;
	}
	store_be64(lk, lseq);
	if ((r = row_envelope(t, m, feed, e, env, env_len, sig, buf + 1, &n,
			      &now)) < 0)
		return r;
	buf[0] = (uint8_t)((r ? ROW_COMPACT : 0) | (body ? ROW_BODY : 0));
	n++;
	if (body) {
		size_t zl;
		if ((r = bodyz_compress(t, body, body_len, buf + n, &zl)) < 0)
			return r;
		if (r) {
			buf[0] |= ROW_ZBODY;
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
	return entries_row_decode(t, v, vl, ret);
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

/* The stored row at lseq, its body found, its envelope not rebuilt;
 * *v and *vl its bytes (HAMLET_ECORRUPT when none is stored there). */
static int row_body_at(struct store_txn *t, uint64_t lseq, const void **v,
		       size_t *vl, struct entries_row *row)
{
	uint8_t lk[8];
	int r;

	store_be64(lk, lseq);
	if ((r = store_get(t, ST_ENTRIES, lk, 8, v, vl)) < 0)
		return r == HAMLET_ENOTFOUND ? HAMLET_ECORRUPT : r;
	return entries_row_decode(NULL, *v, *vl, row);
}

int entries_body(struct store_txn *t, const uint8_t id[32], uint64_t lseq,
		 struct bodyz_buf *b, const void **ret_body, size_t *ret_len)
{
	struct entries_row row;
	const void *v;
	size_t vl;
	int r;
	/* stored by this transaction, and not dropped since */
	if (memo_get(t, id, b, ret_body, ret_len))
		return 0;
	if ((r = row_body_at(t, lseq, &v, &vl, &row)) < 0)
		return r;
	return entries_row_body(t, &row, b, ret_body, ret_len);
}

int entries_body_held(struct store_txn *t, uint64_t lseq)
{
	struct entries_row row;
	const void *v;
	size_t vl;
	int r = row_body_at(t, lseq, &v, &vl, &row);
	return r < 0 ? r : row.body != NULL;
}

int entries_body_fill(struct store_txn *t, const uint8_t id[32],
		      uint64_t lseq, const uint8_t *body, size_t body_len)
{
	struct entries_row row;
	uint8_t lk[8], *copy;
	const void *v;
	size_t vl, zl;
	int r;

	if (body_len > ENTRY_MAX_BODY)
		return HAMLET_ETOOBIG;
	if ((r = row_body_at(t, lseq, &v, &vl, &row)) < 0)
		return r;
	store_be64(lk, lseq);
	if (row.body)
		return 0;
	/* the row, then the body as entries_append() writes it */
	if (!(copy = malloc(vl + body_len)))
		return -ENOMEM;
	memcpy(copy, v, vl);
	copy[0] |= ROW_BODY;
	if ((r = bodyz_compress(t, body, body_len, copy + vl, &zl)) < 0)
		goto out;
	if (r) {
		copy[0] |= ROW_ZBODY;
	} else {
		memcpy(copy + vl, body, body_len);
		zl = body_len;
	}
	memo_forget(t, id);
	r = store_put(t, ST_ENTRIES, lk, 8, copy, vl + zl, 0);
	if (r == 0)
		r = 1;
out:
	free(copy);
	return r;
}

int entries_body_drop(struct store_txn *t, const uint8_t id[32],
		      uint64_t lseq)
{
	struct entries_row row;
	uint8_t lk[8], *copy;
	const void *v;
	size_t vl, keep;
	int r;

	if ((r = row_body_at(t, lseq, &v, &vl, &row)) < 0)
		return r;
	store_be64(lk, lseq);
	if (!row.body)
		return HAMLET_ENOTFOUND;
	memo_forget(t, id);
	/* the row up to its body, which is its end */
	keep = vl - row.body_len;
	if (!(copy = malloc(keep)))
		return -ENOMEM;
	memcpy(copy, v, keep);
	copy[0] &= (uint8_t)~(ROW_BODY | ROW_ZBODY);
	r = store_put(t, ST_ENTRIES, lk, 8, copy, keep, 0);
	free(copy);
	return r;
}

/* --- taking entries out -------------------------------------------------- */

int entries_truncate(struct store_txn *t, const uint8_t feed[32],
		     uint64_t keep, uint64_t last, entries_gone_cb cb,
		     void *ctx)
{
	struct append_memo *m = append_memo(t, 0);
	uint64_t first, lfirst, count;
	uint8_t sk[40], sv[RUN_VAL], lk[8];
	int r;

	if (last <= keep)
		return 0;
	/* the writer's memo may name a run about to shrink */
	if (m)
		m->txn = 0;
	/* each entry, handed over before its row goes */
	for (uint64_t seq = last; seq > keep; seq--) {
		struct entries_row row;
		uint64_t lseq;
		if ((r = entries_lseq(t, feed, seq, &lseq)) < 0 ||
		    (r = entries_at(t, lseq, &row)) < 0)
			return r == HAMLET_ENOTFOUND ? HAMLET_ECORRUPT : r;
		if ((r = cb(ctx, seq, lseq, &row)) < 0)
			return r;
		store_be64(lk, lseq);
		if ((r = store_del(t, ST_ENTRIES, lk, 8)) < 0)
			return r;
	}
	/* then the runs: those past keep go, the one holding it shrinks */
	for (;;) {
		r = run_le(t, feed, last, &first, &lfirst, &count);
		if (r <= 0)
			return r;
		if (first + count - 1 <= keep)
			return 0;
		memcpy(sk, feed, 32);
		store_be64(sk + 32, first);
		if (first > keep) {
			if ((r = store_del(t, ST_SEQS, sk, 40)) < 0)
				return r;
			continue;
		}
		store_be64(sv, lfirst);
		store_be64(sv + 8, keep - first + 1);
		return store_put(t, ST_SEQS, sk, 40, sv, RUN_VAL, 0);
	}
}
