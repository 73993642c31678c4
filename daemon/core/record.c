#include "record_internal.h"

#include "bytes.h"
#include "changes.h"
#include "crdt.h"
#include "entries.h"
#include "error.h"
#include "uniqidx.h"
#include "wmemo.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_VERSION 3 /* 2: erasure; 3: fields by reference */

/*
 * A state row whose fields are exactly the body of its one head (a
 * record written once, or whose last put set every field) is stored
 * with nil in their place: [version, deleted, [head], nil, ...]. The
 * row it stands for (what the state digest and every reader see) is
 * that row with the head's body, as stored in its entry, where nil is.
 * The head, a bin of 32 in an array of one, makes nil's offset fixed.
 */
#define REF_AT 38 /* 1 + 1 + 1 + 1 + 2 + 32 */

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

/*
 * A records row (format 9): the change seq (changes.h) the record was
 * last given, then its state:
 *
 *   value = change seq (varint, bytes.h) || state
 *   state = ONE_OP || local seq (varint)
 *         | the state row (pack_state, pack_erased; fields perhaps by
 *           reference)
 *
 * A record with one op (the most of a store: a record written once) has
 * no op row in recops: its records row names where the op's entry is,
 * and stands for the state that op alone makes (what the state digest
 * and every reader see). From its second op on, every op of the record
 * has its row in recops and the records row holds the state itself. The
 * change seq is not part of the state: the digest does not count it.
 */
#define ONE_OP 0x01
#define ONE_MAX (1 + BYTES_VARINT_MAX)

struct rowv {
	uint64_t cseq;
	const uint8_t *s; /* the state */
	size_t sl;
};

static int row_split(const void *v, size_t vl, struct rowv *o)
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
static int state_one(const uint8_t *s, size_t sl, uint64_t *ret_lseq)
{
	struct bytes_reader r;
	if (sl < 2 || sl > ONE_MAX || s[0] != ONE_OP)
		return 0;
	bytes_reader_init(&r, s + 1, sl - 1);
	return bytes_get_varint(&r, ret_lseq) == 0 &&
	       bytes_remaining(&r) == 0;
}

static size_t state_one_make(uint64_t lseq, uint8_t out[ONE_MAX])
{
	struct bytes_writer w;
	bytes_writer_init(&w, out, ONE_MAX);
	bytes_put_u8(&w, ONE_OP);
	bytes_put_varint(&w, lseq);
	return bytes_written(&w);
}

static int row_put(struct store_txn *t, const void *key, size_t kl,
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
static int op_read(struct store_txn *t, const uint8_t *rk, size_t rkl,
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

static int recop_put(struct store_txn *t, const uint8_t *rk, size_t rkl,
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
static int recops_any(struct store_txn *t, const uint8_t *rk, size_t rkl)
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

struct built;
static int built_one(struct store_txn *t, const uint8_t *key, size_t kl,
		     uint64_t lseq, int strict, struct built *b);
static int one_convert(struct store_txn *t, const uint8_t *key, size_t kl,
		       uint64_t cseq, uint64_t lseq);

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
		if ((r = recops_any(t, rk, rkl)) < 0)
			return r;
		/* ops without a row (a damaged store): one more of them */
		r = r ? recop_put(t, rk, rkl, e->hlc, id, lseq)
		      : row_put(t, rk, rkl, 0, one,
				state_one_make(lseq, one));
	} else if (r == 0) {
		r = row_split(v, vl, &rv);
		if (r == 0 && state_one(rv.s, rv.sl, &lseq0))
			/* its second op: the first goes to recops, and the
			 * row holds the state the first made, which it stood
			 * for */
			r = one_convert(t, rk, rkl, rv.cseq, lseq0);
		/* a row that does not read, or names an entry that does not
		 * (a damaged store): dropped, so that the record is made of
		 * the ops it has rows for; verify finds the digest off */
		if (r == HAMLET_ECORRUPT) {
			r = store_del(t, ST_RECORDS, rk, rkl);
			if (r == HAMLET_ENOTFOUND)
				r = 0;
		}
		if (r == 0)
			r = recop_put(t, rk, rkl, e->hlc, id, lseq);
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
	if ((r = row_split(v, vl, &rv)) < 0)
		return r;
	if (!state_one(rv.s, rv.sl, &lseq))
		return 0;
	return (r = op_read(t, rk, rkl, lseq, NULL, op)) < 0 ? r : 1;
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
	return op_read(t, kp, kl - 1 - 8 - ENTRY_ID_LEN, op->lseq, &hlc, op);
}

/* record_ops_each(); *ret_from_row 1 when the op came from a row that
 * names the record's one op. */
static int ops_each(struct store_txn *t, const char *coll, const char *id,
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
	return ops_each(t, coll, id, cb, ctx, &from_row);
}

/* --- materializing ----------------------------------------------------- */

/* Where an op's body is, and the body once parsed. */
struct mop {
	uint64_t lseq; /* its entry's local seq */
	int has_body, body_ok;
	uint8_t body_hash[ENTRY_HASH_LEN];
	struct mp_doc body;
	const void *raw; /* the body's bytes, as stored */
	size_t raw_len;
	struct bodyz_buf zb; /* them, when the store keeps them compressed */
};

/* A record's operations as read from the store: ops[i] and mops[i]. */
struct mat {
	char (*scopes)[ENTRY_MAX_SCOPE + 1]; /* each op's feed scope */
	struct store_txn *t;
	struct crdt_op *ops;
	struct mop *mops;
	size_t n, cap;
	int strict; /* a body stored but damaged is HAMLET_ECORRUPT, not
		     * a body that did not come */
};

static int mat_add(void *ctx, const struct record_op *op)
{
	struct mat *m = ctx;
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 8;
		if (nc > RECORD_MAX_OPS)
			nc = RECORD_MAX_OPS;
		if (m->n >= nc)
			return HAMLET_ETOOBIG;
		struct crdt_op *p = realloc(m->ops, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		m->ops = p;
		struct mop *q = realloc(m->mops, nc * sizeof(*q));
		if (!q)
			return -ENOMEM;
		m->mops = q;
		void *sc = realloc(m->scopes, nc * sizeof(*m->scopes));
		if (!sc)
			return -ENOMEM;
		m->scopes = sc;
		m->cap = nc;
	}
	struct crdt_op *c = &m->ops[m->n];
	struct mop *o = &m->mops[m->n++];
	memset(c, 0, sizeof(*c));
	memset(o, 0, sizeof(*o));
	memcpy(m->scopes[m->n - 1], op->scope, sizeof(op->scope));
	memcpy(c->id, op->id, ENTRY_ID_LEN);
	memcpy(c->author, op->author, ENTRY_KEY_LEN);
	c->hlc = op->hlc;
	c->kind = op->kind;
	c->ndeps = op->ndeps;
	memcpy(c->deps, op->deps, op->ndeps * ENTRY_ID_LEN);
	o->has_body = op->has_body;
	o->lseq = op->lseq;
	memcpy(o->body_hash, op->body_hash, ENTRY_HASH_LEN);
	return 0;
}

static void mat_free(struct mat *m)
{
	for (size_t i = 0; i < m->n; i++) {
		if (m->mops[i].body_ok)
			mp_doc_close(&m->mops[i].body);
		bodyz_buf_free(&m->mops[i].zb);
	}
	free(m->ops);
	free(m->mops);
	free(m->scopes);
}

/* Parse each put's body; one not held (erased, not yet received) or
 * not a map writes no field. */
static int mat_bodies(struct mat *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct mop *o = &m->mops[i];
		const void *v;
		size_t vl;
		int r;
		if (m->ops[i].kind != ENTRY_PUT || !o->has_body)
			continue;
		r = entries_body(m->t, m->ops[i].id, o->lseq, &o->zb, &v, &vl);
		/* not held, or kept compressed and damaged (verify names
		 * it): no field, as for a body that did not come */
		if (r == HAMLET_ENOTFOUND ||
		    (r == HAMLET_ECORRUPT && !m->strict))
			continue;
		if (r < 0)
			return r;
		if (mp_doc_parse(&o->body, v, vl, SCHEMA_MAX_FIELDS * 2 + 64) < 0)
			continue;
		o->raw = v;
		o->raw_len = vl;
		if (o->body.root->type != MSGPACK_OBJECT_MAP) {
			mp_doc_close(&o->body);
			continue;
		}
		o->body_ok = 1;
		m->ops[i].fields = o->body.root->via.map.ptr;
		m->ops[i].nfields = o->body.root->via.map.size;
	}
	return 0;
}

/* [value, author, hlc, id, kind] for each candidate, newest first. */
static void pack_cands(msgpack_packer *pk, const struct crdt_op *ops,
		       const struct crdt_field *fs)
{
	msgpack_pack_array(pk, fs->ncands);
	for (size_t i = 0; i < fs->ncands; i++) {
		const struct crdt_op *op = &ops[fs->cands[i].op];
		msgpack_pack_array(pk, 5);
		if (fs->cands[i].val)
			mp_pack_object(pk, fs->cands[i].val);
		else
			msgpack_pack_nil(pk);
		mp_pack_bin(pk, op->author, ENTRY_KEY_LEN);
		msgpack_pack_uint64(pk, op->hlc);
		mp_pack_bin(pk, op->id, ENTRY_ID_LEN);
		mp_pack_str(pk, entry_kind_name(op->kind));
	}
}

/* [field, rule, candidates] per conflict; update versus delete first,
 * as ["", "delete", heads]. */
static void pack_conflicts(msgpack_packer *pk, const struct schema *s,
			   const struct crdt_op *ops,
			   const struct crdt_record *cr)
{
	msgpack_pack_array(pk, cr->nconflicts);
	if (cr->removal.conflict) {
		msgpack_pack_array(pk, 3);
		mp_pack_str(pk, "");
		mp_pack_str(pk, "delete");
		pack_cands(pk, ops, &cr->removal);
	}
	for (size_t fi = 0; fi < cr->nfields; fi++) {
		if (!cr->fields[fi].conflict)
			continue;
		msgpack_pack_array(pk, 3);
		mp_pack_str(pk, s->fields[fi].name);
		mp_pack_str(pk, schema_rule_name(s->fields[fi].rule));
		pack_cands(pk, ops, &cr->fields[fi]);
	}
}

/* The unique key's hash; 0 when the collection has none or a part of
 * it is unset. */
static int uniq_hash(const struct schema *s, const struct crdt_record *cr,
		     uint8_t out[16])
{
	struct mp_writer w;
	size_t nu = 0;

	if (cr->deleted || !s->unique)
		return 0;
	for (const int *u = s->unique; *u >= 0; u++, nu++)
		if (!cr->fields[*u].value)
			return 0;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, nu);
	for (const int *u = s->unique; *u >= 0; u++)
		mp_pack_object(&w.pk, cr->fields[*u].value);
	crypto_generichash_blake2b(out, 16, (const uint8_t *)w.sb.data,
				   w.sb.size, NULL, 0);
	mp_writer_destroy(&w);
	return 1;
}

/*
 * The materialized state, read back by record_view_load: [version,
 * deleted, heads, fields, conflicts, newest hlc, op count, unique key,
 * erasure (nil)].
 */
static void pack_state(struct mp_writer *w, const struct schema *s,
		       const struct crdt_op *ops, size_t nops,
		       const struct crdt_record *cr, const uint8_t *uniq,
		       size_t *ret_foff, size_t *ret_fend)
{
	msgpack_packer *pk = &w->pk;
	size_t nf = 0;

	msgpack_pack_array(pk, 9);
	msgpack_pack_uint64(pk, STATE_VERSION);
	if (cr->deleted)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	msgpack_pack_array(pk, cr->nheads);
	for (size_t i = 0; i < cr->nheads; i++)
		mp_pack_bin(pk, ops[cr->heads[i]].id, ENTRY_ID_LEN);
	for (size_t fi = 0; fi < cr->nfields; fi++)
		if (cr->fields[fi].value)
			nf++;
	*ret_foff = w->sb.size;
	msgpack_pack_map(pk, nf);
	for (size_t fi = 0; fi < cr->nfields; fi++) {
		if (!cr->fields[fi].value)
			continue;
		mp_pack_str(pk, s->fields[fi].name);
		mp_pack_object(pk, cr->fields[fi].value);
	}
	*ret_fend = w->sb.size;
	pack_conflicts(pk, s, ops, cr);
	msgpack_pack_uint64(pk, cr->newest);
	msgpack_pack_uint64(pk, nops);
	if (uniq)
		mp_pack_bin(pk, uniq, 16);
	else
		msgpack_pack_nil(pk);
	msgpack_pack_nil(pk);
}

/*
 * An erased record's state: no field, no conflict, no unique key; its
 * head the erasure (ops[ei]), and [id, author, hlc, reason] of it.
 */
static int pack_erased(struct store_txn *t, msgpack_packer *pk,
		       const struct crdt_op *ops, size_t nops, size_t ei,
		       uint64_t elseq)
{
	const struct crdt_op *e = &ops[ei];
	char reason[SCHEMA_MAX_REASON + 1] = "", why[8];
	uint64_t newest = 0;
	const void *v;
	size_t vl;
	int r;

	struct bodyz_buf zb = { 0 };

	r = entries_body(t, e->id, elseq, &zb, &v, &vl);
	if (r == 0)
		schema_erase_reason(v, vl, reason, sizeof(reason), why,
				    sizeof(why));
	bodyz_buf_free(&zb);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	for (size_t i = 0; i < nops; i++)
		if (ops[i].hlc > newest)
			newest = ops[i].hlc;
	msgpack_pack_array(pk, 9);
	msgpack_pack_uint64(pk, STATE_VERSION);
	msgpack_pack_false(pk);
	msgpack_pack_array(pk, 1);
	mp_pack_bin(pk, e->id, ENTRY_ID_LEN);
	msgpack_pack_map(pk, 0);
	msgpack_pack_array(pk, 0);
	msgpack_pack_uint64(pk, newest);
	msgpack_pack_uint64(pk, nops);
	msgpack_pack_nil(pk);
	msgpack_pack_array(pk, 4);
	mp_pack_bin(pk, e->id, ENTRY_ID_LEN);
	mp_pack_bin(pk, e->author, ENTRY_KEY_LEN);
	msgpack_pack_uint64(pk, e->hlc);
	mp_pack_str(pk, reason);
	return 0;
}

/* A record's state as its ops make it, not yet written. */
struct built {
	struct mat m;
	struct crdt_record cr;
	struct mp_writer sw; /* the state, fields in it, when m.n > 0 */
	uint8_t *ref;	     /* it as stored, by reference; NULL: as is */
	size_t ref_len;
	uint8_t one[ONE_MAX]; /* it as stored when the record has one op */
	size_t one_len;	      /* 0: not so */
	uint8_t newu[16];
	int has_newu;
};

/* The state as stored. */
static void built_row(const struct built *b, const void **ret,
		      size_t *ret_len)
{
	if (b->one_len) {
		*ret = b->one;
		*ret_len = b->one_len;
		return;
	}
	*ret = b->ref ? (const void *)b->ref : (const void *)b->sw.sb.data;
	*ret_len = b->ref ? b->ref_len : b->sw.sb.size;
}

/* 1 when a stored state holds its fields by reference. */
static int row_is_ref(const uint8_t *p, size_t n)
{
	return n > REF_AT && p[0] == 0x99 && p[1] == STATE_VERSION &&
	       (p[2] == 0xc2 || p[2] == 0xc3) && p[3] == 0x91 &&
	       p[4] == 0xc4 && p[5] == ENTRY_ID_LEN && p[REF_AT] == 0xc0;
}

/* Store b's row by reference when its fields (sw[foff, fend)) are the
 * bytes of its one head's body. */
static int ref_make(struct built *b, size_t foff, size_t fend)
{
	const uint8_t *sw = (const uint8_t *)b->sw.sb.data;
	size_t h, size = b->sw.sb.size;
	const struct mop *o;

	if (b->cr.nheads != 1 || b->cr.deleted || foff != REF_AT)
		return 0;
	h = b->cr.heads[0];
	o = &b->m.mops[h];
	if (b->m.ops[h].kind != ENTRY_PUT || !o->body_ok ||
	    o->raw_len != fend - foff || memcmp(sw + foff, o->raw, o->raw_len))
		return 0;
	b->ref_len = size - (fend - foff) + 1;
	if (!(b->ref = malloc(b->ref_len)))
		return -ENOMEM;
	memcpy(b->ref, sw, foff);
	b->ref[foff] = 0xc0;
	memcpy(b->ref + foff + 1, sw + fend, size - fend);
	return 0;
}

static int split_key(const void *k, size_t kl, char *coll, char *id);

/*
 * The body of head, the one head of record coll/rid a row refers to
 * (entries_body()): remembered when this transaction stored it, else
 * found among the record's ops. HAMLET_ENOTFOUND when that op is not
 * there (then the row does not read).
 */
static int head_body(struct store_txn *t, const char *coll, const char *rid,
		     const uint8_t head[ENTRY_ID_LEN], struct bodyz_buf *zb,
		     const void **ret_body, size_t *ret_len)
{
	uint64_t lseq;
	int r;
	if (entries_body_remembered(t, head, zb, ret_body, ret_len))
		return 0;
	if ((r = record_op_find(t, coll, rid, head, &lseq)) < 0)
		return r;
	return entries_body(t, head, lseq, zb, ret_body, ret_len);
}

/* 1 when erasure ops[ei] reaches the record: one of its puts or deletes
 * lies under the erasure's scope (SPEC §1.6). Decided from the ops alone,
 * so every node that holds the same ops decides the same. */
static int erasure_reaches(const struct mat *m, size_t ei)
{
	for (size_t i = 0; i < m->n; i++)
		if ((m->ops[i].kind == ENTRY_PUT ||
		     m->ops[i].kind == ENTRY_DELETE) &&
		    entry_scope_under(m->scopes[i], m->scopes[ei]))
			return 1;
	return 0;
}

/* The state b's ops (b->m) make. */
static int built_finish(struct store_txn *t, const struct schema *s,
			struct built *b)
{
	size_t foff, fend;
	int r;

	for (size_t i = 0; i < b->m.n; i++) {
		if (b->m.ops[i].kind != ENTRY_ERASE)
			continue;
		/* the earliest that reaches the record */
		if (erasure_reaches(&b->m, i))
			return pack_erased(t, &b->sw.pk, b->m.ops, b->m.n, i,
					   b->m.mops[i].lseq);
	}
	if ((r = mat_bodies(&b->m)) < 0 ||
	    (r = crdt_record_settle(b->m.ops, b->m.n, s, &b->cr)) < 0)
		return r;
	b->has_newu = uniq_hash(s, &b->cr, b->newu);
	pack_state(&b->sw, s, b->m.ops, b->m.n, &b->cr,
		   b->has_newu ? b->newu : NULL, &foff, &fend);
	return ref_make(b, foff, fend);
}

static void built_init(struct store_txn *t, struct built *b)
{
	memset(b, 0, sizeof(*b));
	b->m.t = t;
	mp_writer_init(&b->sw);
}

/* Build the state of coll/id from its ops into b (b->m.n == 0: none);
 * built_close frees b whatever this returns. */
static int built_make(struct store_txn *t, const struct schema *s,
		      const char *coll, const char *id, struct built *b)
{
	int r, from_row = 0;

	built_init(t, b);
	if ((r = ops_each(t, coll, id, mat_add, &b->m, &from_row)) < 0)
		return r;
	if (b->m.n == 0)
		return 0;
	if ((r = built_finish(t, s, b)) < 0)
		return r;
	/* one op, named by its row: the row stays so (one op found among
	 * op rows keeps a row of its state, beside them) */
	if (b->m.n == 1 && from_row)
		b->one_len = state_one_make(b->m.mops[0].lseq, b->one);
	return 0;
}

/* The state a row naming the record's one op, at lseq, stands for, into
 * b (its fields in b->sw; built_close it whatever this returns). strict:
 * its body stored but damaged is HAMLET_ECORRUPT (for a reader, who must
 * not take it for a record without fields). */
static int built_one(struct store_txn *t, const uint8_t *key, size_t kl,
		     uint64_t lseq, int strict, struct built *b)
{
	char coll[ENTRY_MAX_COLLECTION + 1], id[ENTRY_MAX_RECORD_ID + 1];
	const struct schema *s;
	struct record_op op;
	int r;

	built_init(t, b);
	b->m.strict = strict;
	if (split_key(key, kl, coll, id) < 0 || !(s = schema_find(coll)))
		return HAMLET_ECORRUPT;
	if ((r = op_read(t, key, kl, lseq, NULL, &op)) < 0 ||
	    (r = mat_add(&b->m, &op)) < 0)
		return r;
	return built_finish(t, s, b);
}

static void built_close(struct built *b)
{
	crdt_record_close(&b->cr);
	mp_writer_destroy(&b->sw);
	free(b->ref);
	mat_free(&b->m);
}

/*
 * A record whose row names its one op (at lseq) is given ops rows: that
 * op's goes to recops, and the row (change seq cseq) holds the state the
 * op made, which it stood for, fields and all (so it reads the same
 * after the op's body is dropped). Before a second op, or an erasure,
 * is added.
 */
static int one_convert(struct store_txn *t, const uint8_t *key, size_t kl,
		       uint64_t cseq, uint64_t lseq)
{
	struct record_op op;
	struct built b;
	int r;

	if ((r = op_read(t, key, kl, lseq, NULL, &op)) < 0)
		return r;
	r = built_one(t, key, kl, lseq, 0, &b);
	if (r == 0)
		r = row_put(t, key, kl, cseq, b.sw.sb.data, b.sw.sb.size);
	built_close(&b);
	if (r < 0)
		return r;
	return recop_put(t, key, kl, op.hlc, op.id, lseq);
}

int record_fields_inline(struct store_txn *t, const char *coll,
			 const char *id)
{
	uint8_t key[RECORD_KEY_MAX], *row;
	size_t kl = record_key(coll, id, key), vl, bl, n;
	const void *v, *body;
	struct rowv rv;
	uint64_t lseq;
	int r;

	if ((r = store_get(t, ST_RECORDS, key, kl, &v, &vl)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	if ((r = row_split(v, vl, &rv)) < 0)
		return r;
	/* a row that names the record's one op: the erasure being added
	 * is that op (a second op turns the row into a state first), and
	 * has no body it drops */
	if (state_one(rv.s, rv.sl, &lseq))
		return 0;
	if (!row_is_ref(rv.s, rv.sl))
		return 0;
	struct bodyz_buf zb = { 0 };
	if ((r = head_body(t, coll, id, rv.s + 6, &zb, &body, &bl)) < 0) {
		bodyz_buf_free(&zb);
		/* a body that no longer reads: the row stays as it is (the
		 * erasure's new state replaces it) */
		return r == HAMLET_ENOTFOUND || r == HAMLET_ECORRUPT ? 0 : r;
	}
	n = rv.sl - 1 + bl;
	if (!(row = malloc(n))) {
		bodyz_buf_free(&zb);
		return -ENOMEM;
	}
	memcpy(row, rv.s, REF_AT);
	memcpy(row + REF_AT, body, bl);
	memcpy(row + REF_AT + bl, rv.s + REF_AT + 1, rv.sl - REF_AT - 1);
	bodyz_buf_free(&zb);
	r = row_put(t, key, kl, rv.cseq, row, n);
	free(row);
	return r;
}

/*
 * The hash (record__row_hash) of the state a stored state st stands for.
 * When
 * what it refers to cannot be read (a damaged store), the hash of the
 * state as stored, which no kept digest matches: verify says the digest
 * does not add up, and writing goes on.
 */
static int state_hash(struct store_txn *t, const void *key, size_t kl,
		      const uint8_t *st, size_t sl, uint8_t ret[32])
{
	uint64_t lseq;
	int r = 0;

	if (state_one(st, sl, &lseq)) {
		struct built b;
		r = built_one(t, key, kl, lseq, 0, &b);
		if (r == 0)
			record__row_hash(key, kl, b.sw.sb.data, b.sw.sb.size,
					 ret);
		built_close(&b);
	} else if (row_is_ref(st, sl)) {
		char coll[ENTRY_MAX_COLLECTION + 1];
		char rid[ENTRY_MAX_RECORD_ID + 1];
		struct bodyz_buf zb = { 0 };
		const void *body;
		size_t bl;
		r = split_key(key, kl, coll, rid) < 0
			    ? HAMLET_ECORRUPT
			    : head_body(t, coll, rid, st + 6, &zb, &body, &bl);
		if (r == 0)
			record__row_hash3(key, kl, st, REF_AT, body, bl,
					  st + REF_AT + 1, sl - REF_AT - 1,
					  ret);
		bodyz_buf_free(&zb);
	} else {
		record__row_hash(key, kl, st, sl, ret);
	}
	if (r == HAMLET_ENOTFOUND || r == HAMLET_ECORRUPT) {
		record__row_hash(key, kl, st, sl, ret);
		return 0;
	}
	return r < 0 ? r : 0;
}

int record__row_hash_at(struct store_txn *t, const void *key, size_t klen,
			const void *val, size_t vlen, uint8_t ret[32])
{
	struct rowv rv;
	if (row_split(val, vlen, &rv) < 0) {
		record__row_hash(key, klen, val, vlen, ret);
		return 0;
	}
	return state_hash(t, key, klen, rv.s, rv.sl, ret);
}

/* Replace a record's derived rows: unique key, state (and with it the
 * state digest), conflict mark; the row gets change seq cseq. fresh: its
 * row, if any, was first written in this transaction and not counted
 * yet. *ret_old: the change seq the row had (0: none). */
static int rows_replace(struct store_txn *t, const char *coll,
			const char *id, const struct built *b, size_t nconf,
			struct record_digest_delta *dd, int fresh,
			uint64_t cseq, uint64_t *ret_old)
{
	uint8_t key[RECORD_KEY_MAX], oldh[32], newh[32];
	size_t kl = record_key(coll, id, key), vl, sl;
	const uint8_t *newu = b->has_newu ? b->newu : NULL;
	const void *v, *sv;
	struct rowv rv;
	int r, had;

	*ret_old = 0;
	built_row(b, &sv, &sl);
	/* fresh: a row there is this transaction's, not counted yet */
	r = fresh ? HAMLET_ENOTFOUND : store_get(t, ST_RECORDS, key, kl, &v, &vl);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	had = r == 0;
	if (had && row_split(v, vl, &rv) < 0) {
		/* a row that does not read (a damaged store): it goes,
		 * hashed as stored */
		record__row_hash(key, kl, v, vl, oldh);
	} else if (had) {
		*ret_old = rv.cseq;
		/* what a row refers to never changes while the row stands
		 * (an erasure makes a new state), so equal rows stand for
		 * equal rows */
		if (rv.sl == sl && memcmp(rv.s, sv, sl) == 0)
			return rv.cseq == cseq
				       ? 0
				       : row_put(t, key, kl, cseq, sv, sl);
		/* v lives only until the next write */
		if ((r = state_hash(t, key, kl, rv.s, rv.sl, oldh)) < 0)
			return r;
	}
	record__row_hash(key, kl, b->sw.sb.data, b->sw.sb.size, newh);
	if ((r = uniqidx_set(t, coll, id, newu)) < 0 ||
	    (r = record__digest_replace(t, had ? oldh : NULL, newh, dd)) < 0)
		return r;
	if ((r = row_put(t, key, kl, cseq, sv, sl)) < 0)
		return r;
	if (nconf) {
		uint8_t one = (uint8_t)(nconf > 255 ? 255 : nconf);
		return store_put(t, ST_CONFLICTS, key, kl, &one, 1, 0);
	}
	if (!had)
		return 0; /* a conflict mark stands beside a state row only */
	r = store_del(t, ST_CONFLICTS, key, kl);
	return r == HAMLET_ENOTFOUND ? 0 : r;
}

int record_body_coming(struct store_txn *t, const char *coll,
		       const char *id)
{
	uint8_t key[RECORD_KEY_MAX];
	size_t kl = record_key(coll, id, key), vl;
	const void *v;
	struct rowv rv;
	uint64_t lseq;
	int r = store_get(t, ST_RECORDS, key, kl, &v, &vl);

	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	if (row_split(v, vl, &rv) < 0 || !state_one(rv.s, rv.sl, &lseq))
		return 0;
	return one_convert(t, key, kl, rv.cseq, lseq);
}

int record_materialize(struct store_txn *t, const char *coll, const char *id,
		       struct record_digest_delta *dd, int fresh,
		       uint64_t cseq, uint64_t *ret_old)
{
	const struct schema *s = schema_find(coll);
	struct built b;
	int r;

	*ret_old = 0;
	if (!s)
		return HAMLET_ECOLLECTION;
	r = built_make(t, s, coll, id, &b);
	if (r == 0 && b.m.n > 0 &&
	    (r = rows_replace(t, coll, id, &b, b.cr.nconflicts, dd, fresh,
			      cseq, ret_old)) == 0)
		r = 1;
	built_close(&b);
	return r;
}

int record_change_seq(struct store_txn *t, const char *coll, const char *id,
		      uint64_t *ret)
{
	uint8_t key[RECORD_KEY_MAX];
	size_t kl = record_key(coll, id, key), vl;
	struct rowv rv;
	const void *v;
	int r;

	if ((r = store_get(t, ST_RECORDS, key, kl, &v, &vl)) < 0 ||
	    (r = row_split(v, vl, &rv)) < 0)
		return r;
	if (rv.cseq == 0)
		return HAMLET_ENOTFOUND;
	*ret = rv.cseq;
	return 0;
}

int record_state_check(struct store_txn *t, const char *coll, const char *id,
		       int *ret_differs, uint8_t ret_hash[32])
{
	const struct schema *s = schema_find(coll);
	uint8_t key[RECORD_KEY_MAX];
	size_t kl, vl, sl;
	const void *v, *sv;
	struct built b;
	struct rowv rv;
	int r, br, differs;

	kl = record_key(coll, id, key);
	br = s ? built_make(t, s, coll, id, &b) : HAMLET_ECOLLECTION;
	r = store_get(t, ST_RECORDS, key, kl, &v, &vl);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		goto out;
	if (r == HAMLET_ENOTFOUND) {
		differs = br == 0 && b.m.n > 0;
	} else if (br < 0 || row_split(v, vl, &rv) < 0) {
		differs = 1;
	} else {
		built_row(&b, &sv, &sl);
		differs = b.m.n == 0 || rv.sl != sl ||
			  memcmp(rv.s, sv, sl) != 0;
	}
	if (r == 0 && ret_hash) {
		/* the row stands for what its ops make when it is theirs */
		if (!differs)
			record__row_hash(key, kl, b.sw.sb.data, b.sw.sb.size,
					 ret_hash);
		else if ((r = record__row_hash_at(t, key, kl, v, vl,
						  ret_hash)) < 0)
			goto out;
	}
	r = br;
	if (r == 0)
		*ret_differs = differs;
out:
	if (s)
		built_close(&b);
	return r;
}

/* --- reading ----------------------------------------------------------- */

int record_view_load(struct store_txn *t, const char *coll, const char *id,
		     struct record_view *ret)
{
	uint8_t key[RECORD_KEY_MAX];
	const void *v;
	size_t vl, kl = record_key(coll, id, key);
	const msgpack_object *f;
	struct rowv rv;
	uint64_t ver, lseq;
	int r;

	if ((r = store_get(t, ST_RECORDS, key, kl, &v, &vl)) < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->coll, sizeof(ret->coll), "%s", coll);
	snprintf(ret->id, sizeof(ret->id), "%s", id);
	if (row_split(v, vl, &rv) < 0)
		return HAMLET_ECORRUPT;
	if (state_one(rv.s, rv.sl, &lseq)) {
		/* the state its one op makes */
		struct built b;
		r = built_one(t, key, kl, lseq, 1, &b);
		if (r == 0)
			ret->own = mp_writer_take(&b.sw, &ret->own_len);
		built_close(&b);
		if (r < 0)
			return r == -ENOMEM ? r : HAMLET_ECORRUPT;
		if (!ret->own)
			return -ENOMEM;
		rv.s = ret->own;
		rv.sl = ret->own_len;
	}
	v = rv.s;
	vl = rv.sl;
	if ((r = mp_doc_parse(&ret->doc, v, vl, RECORD_MAX_OPS * 4)) < 0) {
		free(ret->own);
		ret->own = NULL;
		return HAMLET_ECORRUPT;
	}
	if (mp_get_array(ret->doc.root, 9, 0, &f, NULL) < 0 ||
	    mp_get_uint(&f[0], 255, &ver) < 0 || ver != STATE_VERSION ||
	    mp_get_bool(&f[1], &ret->deleted) < 0 ||
	    f[2].type != MSGPACK_OBJECT_ARRAY ||
	    (f[3].type != MSGPACK_OBJECT_MAP && !row_is_ref(v, vl)) ||
	    f[4].type != MSGPACK_OBJECT_ARRAY ||
	    mp_get_uint(&f[5], UINT64_MAX, &ret->hlc) < 0 ||
	    mp_get_uint(&f[6], UINT64_MAX, &ret->nops) < 0) {
		record_view_close(ret);
		return HAMLET_ECORRUPT;
	}
	ret->heads = &f[2];
	ret->fields = &f[3];
	ret->conflicts = &f[4];
	if (f[3].type != MSGPACK_OBJECT_MAP) {
		/* by reference: the fields are the head's body */
		const void *body;
		size_t bl;
		r = head_body(t, coll, id, (const uint8_t *)v + 6, &ret->fzb,
			      &body, &bl);
		if (r == 0 && (r = mp_doc_parse(&ret->fdoc, body, bl,
						SCHEMA_MAX_FIELDS * 2 + 64)) ==
				      0) {
			ret->has_fdoc = 1;
			if (ret->fdoc.root->type != MSGPACK_OBJECT_MAP)
				r = HAMLET_ECORRUPT;
		}
		if (r < 0) {
			record_view_close(ret);
			return r == -ENOMEM ? r : HAMLET_ECORRUPT;
		}
		ret->fields = ret->fdoc.root;
	}
	if (!mp_is_nil(&f[7])) {
		if (mp_get_bin_fixed(&f[7], 16, ret->uniq) < 0) {
			record_view_close(ret);
			return HAMLET_ECORRUPT;
		}
		ret->has_uniq = 1;
	}
	if (!mp_is_nil(&f[8])) {
		const msgpack_object *x;
		if (mp_get_array(&f[8], 4, 0, &x, NULL) < 0 ||
		    mp_get_bin_fixed(&x[0], ENTRY_ID_LEN, ret->erase_id) < 0 ||
		    mp_get_bin_fixed(&x[1], ENTRY_KEY_LEN,
				     ret->erase_author) < 0 ||
		    mp_get_uint(&x[2], UINT64_MAX, &ret->erase_hlc) < 0 ||
		    mp_get_cstr(&x[3], ret->erase_reason,
				sizeof(ret->erase_reason)) < 0) {
			record_view_close(ret);
			return HAMLET_ECORRUPT;
		}
		ret->erased = 1;
	}
	return 0;
}

void record_view_close(struct record_view *v)
{
	if (!v)
		return;
	mp_doc_close(&v->doc);
	if (v->has_fdoc)
		mp_doc_close(&v->fdoc);
	v->has_fdoc = 0;
	bodyz_buf_free(&v->fzb);
	free(v->own);
	v->own = NULL;
}

const msgpack_object *record_view_field(const struct record_view *v,
					const char *name)
{
	size_t nl = strlen(name);
	for (uint32_t i = 0; i < v->fields->via.map.size; i++) {
		const msgpack_object *k = &v->fields->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == nl &&
		    memcmp(k->via.str.ptr, name, nl) == 0)
			return &v->fields->via.map.ptr[i].val;
	}
	return NULL;
}

int record_view_shows(const struct schema *s, const msgpack_object *body,
		      const struct record_view *v)
{
	for (uint32_t j = 0; j < body->via.map.size; j++) {
		const msgpack_object *k = &body->via.map.ptr[j].key;
		const msgpack_object *val = &body->via.map.ptr[j].val;
		int fi = k->type == MSGPACK_OBJECT_STR
				 ? schema_field_index(s, k->via.str.ptr,
						      k->via.str.size)
				 : -1;
		const msgpack_object *cur;
		if (fi < 0)
			return 0;
		cur = record_view_field(v, s->fields[fi].name);
		if (val->type == MSGPACK_OBJECT_NIL) {
			if (cur)
				return 0;
		} else if (!cur || !mp_object_equal(cur, val)) {
			return 0;
		}
	}
	return 1;
}

int record_view_conflicted(const struct schema *s, const msgpack_object *body,
			   const struct record_view *v)
{
	if (record_view_conflict(v, ""))
		return 1;
	for (uint32_t j = 0; j < body->via.map.size; j++) {
		const msgpack_object *k = &body->via.map.ptr[j].key;
		int fi = k->type == MSGPACK_OBJECT_STR
				 ? schema_field_index(s, k->via.str.ptr,
						      k->via.str.size)
				 : -1;
		if (fi >= 0 && record_view_conflict(v, s->fields[fi].name))
			return 1;
	}
	return 0;
}

const msgpack_object *record_view_conflict(const struct record_view *v,
					   const char *name)
{
	size_t nl = strlen(name);
	for (uint32_t i = 0; i < v->conflicts->via.array.size; i++) {
		const msgpack_object *c = &v->conflicts->via.array.ptr[i];
		if (c->type != MSGPACK_OBJECT_ARRAY || c->via.array.size != 3)
			continue;
		const msgpack_object *k = &c->via.array.ptr[0];
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == nl &&
		    memcmp(k->via.str.ptr, name, nl) == 0 &&
		    c->via.array.ptr[2].type == MSGPACK_OBJECT_ARRAY)
			return &c->via.array.ptr[2];
	}
	return NULL;
}

struct dup_walk {
	const char *self_id;
	record_id_cb cb;
	void *ctx;
	int n;
};

static int dup_one(void *ctx, const char *coll, const char *id)
{
	struct dup_walk *w = ctx;
	int r;
	if (strcmp(id, w->self_id) == 0)
		return 0;
	w->n++;
	return w->cb && (r = w->cb(w->ctx, coll, id)) < 0 ? r : 0;
}

int record_duplicates(struct store_txn *t, const char *coll,
		      const struct record_view *v, const char *self_id,
		      record_id_cb cb, void *ctx)
{
	struct dup_walk w = { self_id, cb, ctx, 0 };
	int r;

	if (!v->has_uniq || v->deleted)
		return 0;
	r = uniqidx_shared_each(t, coll, v->uniq, dup_one, &w);
	return r < 0 ? r : w.n;
}

static int split_key(const void *k, size_t kl, char *coll, char *id)
{
	const uint8_t *p = k;
	const uint8_t *z = memchr(p, 0, kl);
	if (!z || (size_t)(z - p) > ENTRY_MAX_COLLECTION ||
	    kl - (size_t)(z - p) - 1 > ENTRY_MAX_RECORD_ID)
		return HAMLET_ECORRUPT;
	memcpy(coll, p, (size_t)(z - p));
	coll[z - p] = 0;
	size_t il = kl - (size_t)(z - p) - 1;
	memcpy(id, z + 1, il);
	id[il] = 0;
	return 0;
}

struct idlist {
	char (*keys)[RECORD_KEY_MAX + 1];
	size_t n, cap;
};

static int idlist_add(struct idlist *l, const char *coll, const char *id)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->keys, nc * sizeof(*l->keys));
		if (!p)
			return -ENOMEM;
		l->keys = p;
		l->cap = nc;
	}
	snprintf(l->keys[l->n++], RECORD_KEY_MAX + 1, "%s/%s", coll, id);
	return 0;
}

static int idlist_cb(void *ctx, const char *coll, const char *id)
{
	return idlist_add(ctx, coll, id);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

int record_conflicts_each(struct store_txn *t, record_id_cb cb, void *ctx)
{
	struct store_cursor *c = NULL;
	struct idlist l = { 0 };
	const void *k;
	size_t kl;
	char coll[ENTRY_MAX_COLLECTION + 1], id[ENTRY_MAX_RECORD_ID + 1];
	int r;

	/* field conflicts and update-versus-delete */
	if ((r = store_cursor_open(t, ST_CONFLICTS, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, NULL, NULL); r == 1;
	     r = store_cursor_next(c, &k, &kl, NULL, NULL)) {
		if ((r = split_key(k, kl, coll, id)) < 0 ||
		    (r = idlist_add(&l, coll, id)) < 0)
			goto out;
	}
	store_cursor_close(c);
	c = NULL;
	if (r < 0)
		goto out;
	/* duplicates: every record of a shared unique key */
	if ((r = uniqidx_shared_each(t, NULL, NULL, idlist_cb, &l)) < 0)
		goto out;
	if (l.n)
		qsort(l.keys, l.n, sizeof(*l.keys), cmp_str);
	for (size_t i = 0; i < l.n; i++) {
		if (i && strcmp(l.keys[i], l.keys[i - 1]) == 0)
			continue;
		char *slash = strchr(l.keys[i], '/');
		*slash = 0;
		r = cb(ctx, l.keys[i], slash + 1);
		*slash = '/'; /* the next key is compared with this one */
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	store_cursor_close(c);
	free(l.keys);
	return r;
}

int record_each(struct store_txn *t, const char *coll, record_id_cb cb,
		void *ctx)
{
	struct store_cursor *c = NULL;
	const void *k;
	size_t kl, pl = coll ? strlen(coll) + 1 : 0;
	char kc[ENTRY_MAX_COLLECTION + 1], id[ENTRY_MAX_RECORD_ID + 1];
	uint8_t pfx[ENTRY_MAX_COLLECTION + 1];
	int r;

	if (coll) {
		memcpy(pfx, coll, pl - 1);
		pfx[pl - 1] = 0;
	}
	if ((r = store_cursor_open(t, ST_RECORDS, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, coll ? pfx : NULL, pl, &k, &kl, NULL,
				   NULL);
	     r == 1; r = store_cursor_next(c, &k, &kl, NULL, NULL)) {
		if (coll && (kl < pl || memcmp(k, pfx, pl) != 0))
			break;
		if ((r = split_key(k, kl, kc, id)) < 0)
			break;
		if ((r = cb(ctx, kc, id)) < 0)
			break;
	}
	store_cursor_close(c);
	return r < 0 ? r : 0;
}

static int multi_unmaterialized(struct store_txn *t, record_id_cb cb,
				void *ctx)
{
	struct store_cursor *c = NULL;
	uint8_t seen[RECORD_KEY_MAX];
	size_t seenl = 0, kl, rl, vl;
	char kc[ENTRY_MAX_COLLECTION + 1], id[ENTRY_MAX_RECORD_ID + 1];
	const void *k, *v;
	int r;

	if ((r = store_cursor_open(t, ST_RECOPS, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, NULL, NULL); r == 1;
	     r = store_cursor_next(c, &k, &kl, NULL, NULL)) {
		/* collection \0 record id \0 hlc || id: the record's key is
		 * everything before the second \0 */
		const uint8_t *z = memchr(k, 0, kl);
		const uint8_t *z2 = z ? memchr(z + 1, 0,
					     kl - (size_t)(z + 1 - (const uint8_t *)k))
				      : NULL;
		if (!z2) {
			r = HAMLET_ECORRUPT;
			break;
		}
		rl = (size_t)(z2 - (const uint8_t *)k);
		if (rl > RECORD_KEY_MAX) {
			r = HAMLET_ECORRUPT;
			break;
		}
		if (rl == seenl && memcmp(seen, k, rl) == 0)
			continue;
		memcpy(seen, k, rl);
		seenl = rl;
		r = store_get(t, ST_RECORDS, seen, seenl, &v, &vl);
		if (r == 0)
			continue;
		if (r != HAMLET_ENOTFOUND)
			break;
		if ((r = split_key(seen, seenl, kc, id)) < 0 ||
		    (r = cb(ctx, kc, id)) < 0)
			break;
	}
	store_cursor_close(c);
	return r < 0 ? r : 0;
}

struct unmat {
	struct store_txn *t;
	record_id_cb cb;
	void *ctx;
};

/* A change row names a record: those whose row is missing, and that
 * multi_unmaterialized() does not name (no op row). */
static int change_unmaterialized(void *ctx, const struct change *ch)
{
	struct unmat *u = ctx;
	uint8_t key[RECORD_KEY_MAX];
	size_t kl = record_key(ch->collection, ch->id, key), vl;
	const void *v;
	int r = store_get(u->t, ST_RECORDS, key, kl, &v, &vl);
	if (r != HAMLET_ENOTFOUND)
		return r < 0 ? r : 0;
	if ((r = recops_any(u->t, key, kl)) != 0)
		return r < 0 ? r : 0;
	r = u->cb(u->ctx, ch->collection, ch->id);
	return r < 0 ? r : 0;
}

int record_unmaterialized_each(struct store_txn *t, record_id_cb cb,
			       void *ctx)
{
	struct unmat u = { t, cb, ctx };
	uint64_t nrec, nch;
	int r;

	if ((r = multi_unmaterialized(t, cb, ctx)) < 0)
		return r;
	/* a record of one op has no op row: the change rows name every
	 * record, one row each, so they are read only when they are not
	 * as many as the records rows */
	if ((r = store_count(t, ST_RECORDS, &nrec)) < 0 ||
	    (r = store_count(t, ST_CHANGES, &nch)) < 0)
		return r;
	if (nrec == nch)
		return 0;
	r = changes_each(t, 0, 0, change_unmaterialized, &u);
	return r < 0 ? r : 0;
}
