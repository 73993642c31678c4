#include "record_internal.h"

#include "changes.h"
#include "entries.h"
#include "error.h"
#include "uniqidx.h"
#include "wmemo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


size_t record_key(const char *coll, const char *id, uint8_t *out)
{
	size_t cl = strlen(coll), il = strlen(id);
	memcpy(out, coll, cl);
	out[cl] = 0;
	memcpy(out + cl + 1, id, il);
	return cl + 1 + il;
}

/* --- the op index ------------------------------------------------------ */

/*
 * An op's row is its key alone: collection \0 record id \0 hlc (be64) ||
 * entry id. Everything else about the op is in its entry's envelope,
 * read when the op is (entries.h).
 */
/*
 * The ops the writer added lately (wmemo.h), by entry id, each for the
 * transaction that added it: materializing a batch's records reads back
 * the ops the same batch just added, and finds them here rather than
 * reading their entries and decoding the envelopes again. An id names
 * its envelope, so what is remembered is what the store holds for it;
 * later transactions read the store. Ops with more deps than a slot
 * holds are not remembered.
 */
#define OPMEMO_SLOTS 16384 /* two for each op: by id and by local seq */
#define OPMEMO_DEPS 2

struct opmemo_slot {
	struct wmemo_head h;
	uint64_t hlc, lseq;
	uint64_t undone;	  /* by local seq: store_txn_undone() then */
	uint8_t eid[ENTRY_ID_LEN]; /* by local seq: the entry's id */
	uint8_t author[ENTRY_KEY_LEN];
	uint8_t body_hash[ENTRY_HASH_LEN];
	uint8_t deps[OPMEMO_DEPS][ENTRY_ID_LEN];
	uint8_t kind, ndeps, has_body;
	char scope[ENTRY_MAX_SCOPE + 1];
};

static struct opmemo_slot *opmemo_find(struct store_txn *t,
				       const uint8_t id[ENTRY_ID_LEN],
				       int want_free)
{
	return wmemo_find(t, WMEMO_OPS, OPMEMO_SLOTS,
			  sizeof(struct opmemo_slot), id, want_free);
}

/*
 * A record's one op is named by its local seq alone (its records row):
 * the same ops are remembered by local seq too, under a key no entry id
 * is (its first three bytes the local seq's last three, big-endian, so
 * consecutive ones take consecutive slots). A local seq
 * is given again after a nested transaction aborts, so what is
 * remembered by local seq holds only while none has aborted since.
 */
static void lseq_key(uint64_t lseq, uint8_t key[ENTRY_ID_LEN])
{
	memset(key, 0xa5, ENTRY_ID_LEN);
	/* wmemo_find starts at the slot of the first three bytes */
	for (size_t i = 0; i < 8; i++)
		key[i] = (uint8_t)(lseq >> (8 * ((10 - i) % 8)));
}

static void opmemo_fill(struct store_txn *t, struct opmemo_slot *s,
			const struct entry *e, const uint8_t key[ENTRY_ID_LEN],
			uint64_t lseq)
{
	s->h.txn = store_txn_serial(t);
	s->hlc = e->hlc;
	s->lseq = lseq;
	memcpy(s->h.id, key, ENTRY_ID_LEN);
	memcpy(s->author, e->author, ENTRY_KEY_LEN);
	memcpy(s->body_hash, e->body_hash, ENTRY_HASH_LEN);
	memcpy(s->deps, e->deps, e->ndeps * ENTRY_ID_LEN);
	s->kind = (uint8_t)e->kind;
	s->ndeps = (uint8_t)e->ndeps;
	s->has_body = (uint8_t)e->has_body;
	memcpy(s->scope, e->scope, sizeof(s->scope));
}

static void opmemo_put(struct store_txn *t, const struct entry *e,
		       const uint8_t id[ENTRY_ID_LEN], uint64_t lseq)
{
	uint8_t key[ENTRY_ID_LEN];
	struct opmemo_slot *s;
	if (e->ndeps > OPMEMO_DEPS)
		return; /* remembering is only a saving */
	if ((s = opmemo_find(t, id, 1)))
		opmemo_fill(t, s, e, id, lseq);
	lseq_key(lseq, key);
	if ((s = opmemo_find(t, key, 1))) {
		opmemo_fill(t, s, e, key, lseq);
		s->undone = store_txn_undone(t);
		memcpy(s->eid, id, ENTRY_ID_LEN);
	}
}

static void opmemo_take(const struct opmemo_slot *s, uint64_t lseq,
			struct record_op *op);

/* op from what the writer remembers of id in t: 1, else 0. */
static int opmemo_get(struct store_txn *t, const uint8_t id[ENTRY_ID_LEN],
		      uint64_t hlc, uint64_t lseq, struct record_op *op)
{
	struct opmemo_slot *s = opmemo_find(t, id, 0);
	if (!s || s->hlc != hlc || s->lseq != lseq)
		return 0;
	opmemo_take(s, lseq, op);
	return 1;
}

/* The op whose entry t stored at lseq, with its id, from what the writer
 * remembers: 1, else 0. */
static int opmemo_at(struct store_txn *t, uint64_t lseq,
		     struct record_op *op)
{
	uint8_t key[ENTRY_ID_LEN];
	struct opmemo_slot *s;
	lseq_key(lseq, key);
	s = opmemo_find(t, key, 0);
	if (!s || s->lseq != lseq || s->undone != store_txn_undone(t))
		return 0;
	opmemo_take(s, lseq, op);
	memcpy(op->id, s->eid, ENTRY_ID_LEN);
	return 1;
}

static void opmemo_take(const struct opmemo_slot *s, uint64_t lseq,
			struct record_op *op)
{
	op->lseq = lseq;
	op->kind = s->kind;
	op->hlc = s->hlc;
	memcpy(op->author, s->author, ENTRY_KEY_LEN);
	op->ndeps = s->ndeps;
	memcpy(op->deps, s->deps, s->ndeps * ENTRY_ID_LEN);
	op->has_body = s->has_body;
	memcpy(op->body_hash, s->body_hash, ENTRY_HASH_LEN);
	memcpy(op->scope, s->scope, sizeof(op->scope));
}

int record__row_split(const void *v, size_t vl, struct rowv *o)
{
	struct bytes_reader r;
	bytes_reader_init(&r, v, vl);
	if (bytes_get_varint(&r, &o->cseq) < 0 ||
	    (o->sl = bytes_remaining(&r)) == 0 ||
	    bytes_borrow(&r, o->sl, &o->s) < 0)
		return HAMLET_ECORRUPT;
	return 0;
}

/* 1 with *ret_lseq when the state names the record's one op. */
int record__state_one(const uint8_t *s, size_t sl, uint64_t *ret_lseq)
{
	struct bytes_reader r;
	if (sl < 2 || sl > ONE_MAX || s[0] != ONE_OP)
		return 0;
	bytes_reader_init(&r, s + 1, sl - 1);
	return bytes_get_varint(&r, ret_lseq) == 0 &&
	       bytes_remaining(&r) == 0;
}

size_t record__state_one_make(uint64_t lseq, uint8_t out[ONE_MAX])
{
	struct bytes_writer w;
	bytes_writer_init(&w, out, ONE_MAX);
	bytes_put_u8(&w, ONE_OP);
	bytes_put_varint(&w, lseq);
	return bytes_written(&w);
}

int record__row_put(struct store_txn *t, const void *key, size_t kl,
		    uint64_t cseq, const void *s, size_t sl)
{
	uint8_t small[256], *buf = small;
	struct bytes_writer w;
	int r;

	if (sl > sizeof(small) - BYTES_VARINT_MAX &&
	    !(buf = malloc(sl + BYTES_VARINT_MAX)))
		return -ENOMEM;
	bytes_writer_init(&w, buf, sl + BYTES_VARINT_MAX);
	bytes_put_varint(&w, cseq);
	bytes_put_bytes(&w, s, sl);
	r = store_put(t, ST_RECORDS, key, kl, buf, bytes_written(&w), 0);
	if (buf != small)
		free(buf);
	return r;
}

/*
 * The op whose entry is at lseq, an op of the record whose records key
 * is rk. hlc: the hlc its op row names, which op->id (set by the
 * caller) goes with; NULL: none, and op->id is computed. The entry there
 * must be one (HAMLET_ECORRUPT otherwise: the row points wrong).
 */
int record__op_read(struct store_txn *t, const uint8_t *rk, size_t rkl,
		    uint64_t lseq, const uint64_t *hlc, struct record_op *op)
{
	uint8_t ek[RECORD_KEY_MAX];
	struct entries_row row;
	struct entry e;
	int r;

	if (!hlc && opmemo_at(t, lseq, op))
		return 0;
	if ((r = entries_at(t, lseq, &row)) < 0)
		return r == HAMLET_ENOTFOUND ? HAMLET_ECORRUPT : r;
	if (entry_decode(row.env, row.env_len, &e, NULL) < 0 ||
	    (hlc && e.hlc != *hlc) ||
	    (e.kind != ENTRY_PUT && e.kind != ENTRY_DELETE &&
	     e.kind != ENTRY_ERASE) ||
	    record_key(e.collection, e.record_id, ek) != rkl ||
	    memcmp(ek, rk, rkl) != 0)
		return HAMLET_ECORRUPT;
	if (!hlc)
		entry_id(row.env, row.env_len, op->id);
	op->lseq = lseq;
	op->kind = e.kind;
	op->hlc = e.hlc;
	memcpy(op->author, e.author, ENTRY_KEY_LEN);
	op->ndeps = e.ndeps;
	memcpy(op->deps, e.deps, e.ndeps * ENTRY_ID_LEN);
	op->has_body = e.has_body;
	memcpy(op->body_hash, e.body_hash, ENTRY_HASH_LEN);
	memcpy(op->scope, e.scope, sizeof(op->scope));
	return 0;
}

int record__recop_put(struct store_txn *t, const uint8_t *rk, size_t rkl,
		      uint64_t hlc, const uint8_t id[ENTRY_ID_LEN],
		      uint64_t lseq)
{
	uint8_t key[RECORD_KEY_MAX + 1 + 8 + ENTRY_ID_LEN], lk[8];
	size_t kl = rkl;

	memcpy(key, rk, rkl);
	key[kl++] = 0;
	store_be64(key + kl, hlc);
	kl += 8;
	memcpy(key + kl, id, ENTRY_ID_LEN);
	kl += ENTRY_ID_LEN;
	store_be64(lk, lseq);
	return store_put(t, ST_RECOPS, key, kl, lk, 8, 0);
}

/* 1 when record rk has an op row in recops. */
int record__recops_any(struct store_txn *t, const uint8_t *rk, size_t rkl)
{
	uint8_t pfx[RECORD_KEY_MAX + 1];
	struct store_cursor *c = NULL;
	const void *k;
	size_t kl;
	int r;

	memcpy(pfx, rk, rkl);
	pfx[rkl] = 0;
	if ((r = store_cursor_open(t, ST_RECOPS, &c)) < 0)
		return r;
	r = store_cursor_seek(c, pfx, rkl + 1, &k, &kl, NULL, NULL);
	if (r == 1)
		r = kl > rkl + 1 && memcmp(k, pfx, rkl + 1) == 0;
	store_cursor_close(c);
	return r;
}

int record_op_add(struct store_txn *t, const struct entry *e,
		  const uint8_t id[ENTRY_ID_LEN], uint64_t lseq,
		  int *ret_fresh)
{
	uint8_t rk[RECORD_KEY_MAX], one[ONE_MAX];
	size_t rkl = record_key(e->collection, e->record_id, rk), vl;
	struct rowv rv;
	uint64_t lseq0;
	const void *v;
	int r;

	*ret_fresh = 0;
	r = store_get(t, ST_RECORDS, rk, rkl, &v, &vl);
	if (r == HAMLET_ENOTFOUND) {
		*ret_fresh = 1;
		if ((r = record__recops_any(t, rk, rkl)) < 0)
			return r;
		/* ops without a row (a damaged store): one more of them */
		r = r ? record__recop_put(t, rk, rkl, e->hlc, id, lseq)
		      : record__row_put(t, rk, rkl, 0, one,
					record__state_one_make(lseq, one));
	} else if (r == 0) {
		r = record__row_split(v, vl, &rv);
		if (r == 0 && record__state_one(rv.s, rv.sl, &lseq0))
			/* its second op: the first goes to recops, and the
			 * row holds the state the first made, which it stood
			 * for */
			r = record__one_convert(t, rk, rkl, rv.cseq, lseq0);
		/* a row that does not read, or names an entry that does not
		 * (a damaged store): dropped, so that the record is made of
		 * the ops it has rows for; verify finds the digest off */
		if (r == HAMLET_ECORRUPT) {
			r = store_del(t, ST_RECORDS, rk, rkl);
			if (r == HAMLET_ENOTFOUND)
				r = 0;
		}
		if (r == 0)
			r = record__recop_put(t, rk, rkl, e->hlc, id, lseq);
	}
	if (r < 0)
		return r;
	if (e->kind == ENTRY_PUT || e->kind == ENTRY_DELETE ||
	    e->kind == ENTRY_ERASE)
		opmemo_put(t, e, id, lseq);
	return 0;
}

/* 1 with *op when record rk's row names its one op; 0 when it has no
 * row or a row of its state (its ops are in recops). */
static int row_one_op(struct store_txn *t, const uint8_t *rk, size_t rkl,
		      struct record_op *op)
{
	struct rowv rv;
	const void *v;
	uint64_t lseq;
	size_t vl;
	int r = store_get(t, ST_RECORDS, rk, rkl, &v, &vl);

	if (r < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	if ((r = record__row_split(v, vl, &rv)) < 0)
		return r;
	if (!record__state_one(rv.s, rv.sl, &lseq))
		return 0;
	return (r = record__op_read(t, rk, rkl, lseq, NULL, op)) < 0 ? r : 1;
}

int record_op_find(struct store_txn *t, const char *coll, const char *rid,
		   const uint8_t id[ENTRY_ID_LEN], uint64_t *ret_lseq)
{
	uint8_t pfx[RECORD_KEY_MAX + 1];
	struct store_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl, pl = record_key(coll, rid, pfx);
	struct record_op op;
	int r;

	if ((r = row_one_op(t, pfx, pl, &op)) != 0) {
		if (r < 0)
			return r;
		if (memcmp(op.id, id, ENTRY_ID_LEN) != 0)
			return HAMLET_ENOTFOUND;
		*ret_lseq = op.lseq;
		return 0;
	}
	pfx[pl++] = 0;
	if ((r = store_cursor_open(t, ST_RECOPS, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, pfx, pl, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		if (kl < pl || memcmp(k, pfx, pl) != 0) {
			r = 0;
			break;
		}
		if (kl != pl + 8 + ENTRY_ID_LEN || vl != 8) {
			r = HAMLET_ECORRUPT;
			break;
		}
		if (memcmp((const uint8_t *)k + pl + 8, id, ENTRY_ID_LEN) ==
		    0) {
			*ret_lseq = store_get_be64(v);
			break;
		}
	}
	store_cursor_close(c);
	if (r < 0)
		return r;
	return r == 1 ? 0 : HAMLET_ENOTFOUND;
}

int record_ops_unlinked(struct store_txn *t, const char *coll,
			const char *id)
{
	uint8_t pfx[RECORD_KEY_MAX + 1], eid[ENTRY_ID_LEN];
	struct store_cursor *c = NULL;
	struct entries_row row;
	const void *k, *v;
	size_t kl, vl, pl = record_key(coll, id, pfx);
	int r, e, bad = 0;

	pfx[pl++] = 0;
	if ((r = store_cursor_open(t, ST_RECOPS, &c)) < 0)
		goto out;
	for (r = store_cursor_seek(c, pfx, pl, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		if (kl < pl || memcmp(k, pfx, pl) != 0)
			break;
		if (kl != pl + 8 + ENTRY_ID_LEN || vl != 8) {
			bad++;
			continue;
		}
		if ((e = entries_at(t, store_get_be64(v), &row)) ==
		    HAMLET_ENOTFOUND) {
			bad++; /* none stored where it points */
			continue;
		}
		if (e < 0) {
			r = e;
			goto out;
		}
		entry_id(row.env, row.env_len, eid);
		bad += memcmp(eid, (const uint8_t *)k + kl - ENTRY_ID_LEN,
			      ENTRY_ID_LEN) != 0;
	}
	if (r >= 0)
		r = bad;
out:
	store_cursor_close(c);
	return r;
}

static int op_parse(struct store_txn *t, const void *k, size_t kl,
		    const void *v, size_t vl, struct record_op *op)
{
	const uint8_t *kp = k;
	uint64_t hlc;

	if (kl < 1 + 8 + ENTRY_ID_LEN || vl != 8)
		return HAMLET_ECORRUPT;
	memcpy(op->id, kp + kl - ENTRY_ID_LEN, ENTRY_ID_LEN);
	op->lseq = store_get_be64(v);
	hlc = store_get_be64(kp + kl - ENTRY_ID_LEN - 8);
	if (opmemo_get(t, op->id, hlc, op->lseq, op))
		return 0;
	/* the entry there is one of this record's, at this hlc */
	return record__op_read(t, kp, kl - 1 - 8 - ENTRY_ID_LEN, op->lseq, &hlc,
			       op);
}

/* record_ops_each(); *ret_from_row 1 when the op came from a row that
 * names the record's one op. */
int record__ops_each(struct store_txn *t, const char *coll, const char *id,
		     record_op_cb cb, void *ctx, int *ret_from_row)
{
	uint8_t pfx[RECORD_KEY_MAX + 1];
	struct store_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl, pl = record_key(coll, id, pfx);
	struct record_op op;
	int r, n = 0;

	if ((r = row_one_op(t, pfx, pl, &op)) != 0) {
		if (r < 0 || (r = cb(ctx, &op)) < 0)
			return r;
		*ret_from_row = 1;
		return 1;
	}
	pfx[pl++] = 0;
	if ((r = store_cursor_open(t, ST_RECOPS, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, pfx, pl, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		if (kl < pl || memcmp(k, pfx, pl) != 0)
			break;
		if ((r = op_parse(t, k, kl, v, vl, &op)) < 0)
			goto out;
		n++;
		if ((r = cb(ctx, &op)) < 0)
			goto out;
	}
	if (r < 0)
		goto out;
	r = n;
out:
	store_cursor_close(c);
	return r;
}

int record_ops_each(struct store_txn *t, const char *coll, const char *id,
		    record_op_cb cb, void *ctx)
{
	int from_row = 0;
	return record__ops_each(t, coll, id, cb, ctx, &from_row);
}

/* --- ops taken out ------------------------------------------------------- */

int record_drop(struct store_txn *t, const char *coll, const char *id,
		struct record_digest_delta *dd)
{
	uint8_t key[RECORD_KEY_MAX], h[32];
	size_t kl = record_key(coll, id, key), vl;
	struct rowv rv;
	const void *v;
	int r = store_get(t, ST_RECORDS, key, kl, &v, &vl);

	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0 || (r = record__row_hash_at(t, key, kl, v, vl, h)) < 0)
		return r;
	/* v lives only until the next write */
	if (record__row_split(v, vl, &rv) < 0)
		rv.cseq = 0;
	if ((rv.cseq && (r = changes_drop(t, rv.cseq)) < 0) ||
	    (r = uniqidx_set(t, coll, id, NULL)) < 0 ||
	    (r = record__digest_drop(h, dd)) < 0 ||
	    (r = store_del(t, ST_RECORDS, key, kl)) < 0)
		return r;
	r = store_del(t, ST_CONFLICTS, key, kl);
	return r == HAMLET_ENOTFOUND ? 0 : r;
}

int record_op_remove(struct store_txn *t, const char *coll, const char *id,
		     const uint8_t opid[ENTRY_ID_LEN], uint64_t hlc,
		     uint64_t lseq, struct record_digest_delta *dd)
{
	uint8_t key[RECORD_KEY_MAX + 1 + 8 + ENTRY_ID_LEN];
	size_t kl = record_key(coll, id, key), vl;
	struct rowv rv;
	uint64_t one;
	const void *v;
	int r = store_get(t, ST_RECORDS, key, kl, &v, &vl);

	if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	/* the record's one op: nothing is left of it */
	if (r == 0 && record__row_split(v, vl, &rv) == 0 &&
	    record__state_one(rv.s, rv.sl, &one) && one == lseq)
		return record_drop(t, coll, id, dd);
	/* its row holds the state until the record is made again; the
	 * body it may refer to goes with the op */
	if ((r = record_fields_inline(t, coll, id)) < 0)
		return r;
	key[kl++] = 0;
	store_be64(key + kl, hlc);
	kl += 8;
	memcpy(key + kl, opid, ENTRY_ID_LEN);
	kl += ENTRY_ID_LEN;
	r = store_del(t, ST_RECOPS, key, kl);
	return r == HAMLET_ENOTFOUND ? 0 : r;
}
