/*
 * record_materialize: a record's state built from its ops (crdt settles
 * them) and written as its rows: the records row, its conflict mark and
 * unique key, with the state digest kept in step. record_state_check
 * builds the same state into a scratch buffer and writes nothing.
 */
#include "record_internal.h"

#include "entries.h"
#include "error.h"
#include "uniqidx.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/*
 * A state row whose fields are exactly the body of its one head (a
 * record written once, or whose last put set every field) is stored
 * with nil in their place: [version, deleted, [head], nil, ...]. The
 * row it stands for (what the state digest and every reader see) is
 * that row with the head's body, as stored in its entry, where nil is.
 * The head, a bin of 32 in an array of one, makes nil's offset fixed.
 */

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
		if (m->strict) {
			/* a reader shows no body its author did not sign */
			uint8_t h[ENTRY_HASH_LEN];
			entry_body_hash(v, vl, h);
			if (memcmp(h, o->body_hash, ENTRY_HASH_LEN) != 0)
				return HAMLET_ECORRUPT;
		}
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
 * it is unset. A correction record (a payment's reversal_of set) has
 * the record it corrects as one more part of its key: a reversal carries
 * the key of the payment it reverses and is no duplicate of it, while
 * two reversals of one payment are (docs/records.md "Correction
 * records"). A record without one hashes its key alone, as before. */
static int uniq_hash(const struct schema *s, const struct crdt_record *cr,
		     uint8_t out[16])
{
	const msgpack_object *corr = NULL;
	struct mp_writer w;
	size_t nu = 0;
	int ci;

	if (cr->deleted || !s->unique)
		return 0;
	for (const int *u = s->unique; *u >= 0; u++, nu++)
		if (!cr->fields[*u].value)
			return 0;
	ci = s->corrects ? schema_field_index(s, s->corrects,
					      strlen(s->corrects))
			 : -1;
	if (ci >= 0 && cr->fields[ci].value &&
	    cr->fields[ci].value->type != MSGPACK_OBJECT_NIL)
		corr = cr->fields[ci].value;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, nu + (corr != NULL));
	for (const int *u = s->unique; *u >= 0; u++)
		mp_pack_object(&w.pk, cr->fields[*u].value);
	if (corr)
		mp_pack_object(&w.pk, corr);
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
int record__row_is_ref(const uint8_t *p, size_t n)
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

/*
 * The body of head, the one head of record coll/rid a row refers to
 * (entries_body()): remembered when this transaction stored it, else
 * found among the record's ops. HAMLET_ENOTFOUND when that op is not
 * there (then the row does not read).
 */
int record__head_body(struct store_txn *t, const char *coll, const char *rid,
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

int record__head_body_signed(struct store_txn *t, const char *coll,
			     const char *rid, const uint8_t head[ENTRY_ID_LEN],
			     struct bodyz_buf *zb, const void **ret_body,
			     size_t *ret_len)
{
	uint8_t key[RECORD_KEY_MAX], h[ENTRY_HASH_LEN];
	size_t kl = record_key(coll, rid, key);
	struct record_op op;
	uint64_t lseq;
	int r;
	if (entries_body_remembered(t, head, zb, ret_body, ret_len))
		return 0; /* written by this very transaction */
	if ((r = record_op_find(t, coll, rid, head, &lseq)) < 0 ||
	    (r = entries_body(t, head, lseq, zb, ret_body, ret_len)) < 0 ||
	    (r = record__op_read(t, key, kl, lseq, NULL, &op)) < 0)
		return r;
	entry_body_hash(*ret_body, *ret_len, h);
	if (!op.has_body || memcmp(h, op.body_hash, ENTRY_HASH_LEN) != 0)
		return HAMLET_ECORRUPT;
	return 0;
}

/* The erasures among m's ops (their indexes, in order), *ret_n of them;
 * the caller frees *ret. */
static int erasures_list(const struct mat *m, size_t **ret, size_t *ret_n)
{
	size_t n = 0, *v;

	for (size_t i = 0; i < m->n; i++)
		n += m->ops[i].kind == ENTRY_ERASE;
	*ret = NULL;
	*ret_n = 0;
	if (!n)
		return 0;
	if (!(v = malloc(n * sizeof(*v))))
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->ops[i].kind == ENTRY_ERASE)
			v[n++] = i;
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The first of the erasures es that reaches ops[i] (it lies under the
 * erasure's scope, SPEC §1.6), or -1. */
static long op_erased_by(const struct mat *m, const size_t *es, size_t nes,
			 size_t i)
{
	for (size_t k = 0; k < nes; k++)
		if (entry_scope_under(m->scopes[i], m->scopes[es[k]]))
			return (long)es[k];
	return -1;
}

/*
 * The erasure the record reads as erased by, or -1 when it is live.
 * Erased when an erasure reaches every put and delete held (or none is
 * held: known by its erasure alone, it is no live record of no fields),
 * by the earliest erasure that reaches one of them. An erasure of one
 * scope erases that scope's part only: a record with a put or delete no
 * erasure reaches is made of those alone (mat_unerased), as on a node
 * that holds only them (the village that wrote them). Decided from the
 * ops alone, so every node that holds the same ops decides the same.
 */
static long erased_by(const struct mat *m, const size_t *es, size_t nes)
{
	long first = -1;
	int writes = 0;

	if (!nes)
		return -1;
	for (size_t i = 0; i < m->n; i++) {
		long e;
		if (m->ops[i].kind != ENTRY_PUT &&
		    m->ops[i].kind != ENTRY_DELETE)
			continue;
		writes = 1;
		if ((e = op_erased_by(m, es, nes, i)) < 0)
			return -1;
		if (first < 0 || e < first)
			first = e;
	}
	return writes ? first : (long)es[0];
}

/* Keep of m's ops the puts and deletes no erasure es reaches, in order:
 * the part of the record no erasure erased. */
static void mat_unerased(struct mat *m, const size_t *es, size_t nes)
{
	size_t k = 0;

	if (!nes)
		return;
	for (size_t i = 0; i < m->n; i++) {
		if (m->ops[i].kind == ENTRY_ERASE ||
		    op_erased_by(m, es, nes, i) >= 0)
			continue;
		if (k != i) {
			m->ops[k] = m->ops[i];
			m->mops[k] = m->mops[i];
			memcpy(m->scopes[k], m->scopes[i], sizeof(m->scopes[k]));
		}
		k++;
	}
	m->n = k;
}

/* The state b's ops (b->m) make. */
static int built_finish(struct store_txn *t, const struct schema *s,
			struct built *b)
{
	size_t foff, fend, *es = NULL, nes;
	long ei;
	int r;

	if ((r = erasures_list(&b->m, &es, &nes)) < 0)
		return r;
	ei = erased_by(&b->m, es, nes);
	if (ei < 0)
		mat_unerased(&b->m, es, nes);
	free(es);
	if (ei >= 0)
		return pack_erased(t, &b->sw.pk, b->m.ops, b->m.n, (size_t)ei,
				   b->m.mops[ei].lseq);
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
 * record__built_close frees b whatever this returns. */
static int built_make(struct store_txn *t, const struct schema *s,
		      const char *coll, const char *id, struct built *b)
{
	int r, from_row = 0;

	built_init(t, b);
	if ((r = record__ops_each(t, coll, id, mat_add, &b->m, &from_row)) < 0)
		return r;
	if (b->m.n == 0)
		return 0;
	if ((r = built_finish(t, s, b)) < 0)
		return r;
	/* one op, named by its row: the row stays so (one op found among
	 * op rows keeps a row of its state, beside them) */
	if (b->m.n == 1 && from_row)
		b->one_len = record__state_one_make(b->m.mops[0].lseq, b->one);
	return 0;
}

/* The state a row naming the record's one op, at lseq, stands for, into
 * b (its fields in b->sw; record__built_close it whatever this returns).
 * strict: its body stored but damaged is HAMLET_ECORRUPT (for a reader, who
 * must not take it for a record without fields). */
int record__built_one(struct store_txn *t, const uint8_t *key, size_t kl,
		      uint64_t lseq, int strict, struct built *b)
{
	char coll[ENTRY_MAX_COLLECTION + 1], id[ENTRY_MAX_RECORD_ID + 1];
	const struct schema *s;
	struct record_op op;
	int r;

	built_init(t, b);
	b->m.strict = strict;
	if (record__split_key(key, kl, coll, id) < 0 ||
	    !(s = schema_find(coll)))
		return HAMLET_ECORRUPT;
	if ((r = record__op_read(t, key, kl, lseq, NULL, &op)) < 0 ||
	    (r = mat_add(&b->m, &op)) < 0)
		return r;
	return built_finish(t, s, b);
}

void record__built_close(struct built *b)
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
int record__one_convert(struct store_txn *t, const uint8_t *key, size_t kl,
			uint64_t cseq, uint64_t lseq)
{
	struct record_op op;
	struct built b;
	int r;

	if ((r = record__op_read(t, key, kl, lseq, NULL, &op)) < 0)
		return r;
	r = record__built_one(t, key, kl, lseq, 0, &b);
	if (r == 0)
		r = record__row_put(t, key, kl, cseq, b.sw.sb.data,
				    b.sw.sb.size);
	record__built_close(&b);
	if (r < 0)
		return r;
	return record__recop_put(t, key, kl, op.hlc, op.id, lseq);
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
	if ((r = record__row_split(v, vl, &rv)) < 0)
		return r;
	/* a row that names the record's one op: the erasure being added
	 * is that op (a second op turns the row into a state first), and
	 * has no body it drops */
	if (record__state_one(rv.s, rv.sl, &lseq))
		return 0;
	if (!record__row_is_ref(rv.s, rv.sl))
		return 0;
	struct bodyz_buf zb = { 0 };
	if ((r = record__head_body(t, coll, id, rv.s + 6, &zb, &body,
				   &bl)) < 0) {
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
	r = record__row_put(t, key, kl, rv.cseq, row, n);
	free(row);
	return r;
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
	if (had && record__row_split(v, vl, &rv) < 0) {
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
				       : record__row_put(t, key, kl, cseq,
							 sv, sl);
		/* v lives only until the next write */
		if ((r = record__state_hash(t, key, kl, rv.s, rv.sl, oldh)) < 0)
			return r;
	}
	record__row_hash(key, kl, b->sw.sb.data, b->sw.sb.size, newh);
	if ((r = uniqidx_set(t, coll, id, newu)) < 0 ||
	    (r = record__digest_replace(t, had ? oldh : NULL, newh, dd)) < 0)
		return r;
	if ((r = record__row_put(t, key, kl, cseq, sv, sl)) < 0)
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
	if (record__row_split(v, vl, &rv) < 0 ||
	    !record__state_one(rv.s, rv.sl, &lseq))
		return 0;
	return record__one_convert(t, key, kl, rv.cseq, lseq);
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
	record__built_close(&b);
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
	    (r = record__row_split(v, vl, &rv)) < 0)
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
	} else if (br < 0 || record__row_split(v, vl, &rv) < 0) {
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
		record__built_close(&b);
	return r;
}
