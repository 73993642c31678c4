#include "record_internal.h"

#include "crdt.h"
#include "entries.h"
#include "error.h"
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
#define OPMEMO_SLOTS 8192
#define OPMEMO_DEPS 2

struct opmemo_slot {
	struct wmemo_head h;
	uint64_t hlc, lseq;
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

static void opmemo_put(struct store_txn *t, const struct entry *e,
		       const uint8_t id[ENTRY_ID_LEN], uint64_t lseq)
{
	struct opmemo_slot *s;
	if (e->ndeps > OPMEMO_DEPS || !(s = opmemo_find(t, id, 1)))
		return; /* remembering is only a saving */
	s->h.txn = store_txn_serial(t);
	s->hlc = e->hlc;
	s->lseq = lseq;
	memcpy(s->h.id, id, ENTRY_ID_LEN);
	memcpy(s->author, e->author, ENTRY_KEY_LEN);
	memcpy(s->body_hash, e->body_hash, ENTRY_HASH_LEN);
	memcpy(s->deps, e->deps, e->ndeps * ENTRY_ID_LEN);
	s->kind = (uint8_t)e->kind;
	s->ndeps = (uint8_t)e->ndeps;
	s->has_body = (uint8_t)e->has_body;
	memcpy(s->scope, e->scope, sizeof(s->scope));
}

/* op from what the writer remembers of id in t: 1, else 0. */
static int opmemo_get(struct store_txn *t, const uint8_t id[ENTRY_ID_LEN],
		      uint64_t hlc, uint64_t lseq, struct record_op *op)
{
	struct opmemo_slot *s = opmemo_find(t, id, 0);
	if (!s || s->hlc != hlc || s->lseq != lseq)
		return 0;
	op->lseq = lseq;
	op->kind = s->kind;
	op->hlc = s->hlc;
	memcpy(op->author, s->author, ENTRY_KEY_LEN);
	op->ndeps = s->ndeps;
	memcpy(op->deps, s->deps, s->ndeps * ENTRY_ID_LEN);
	op->has_body = s->has_body;
	memcpy(op->body_hash, s->body_hash, ENTRY_HASH_LEN);
	memcpy(op->scope, s->scope, sizeof(op->scope));
	return 1;
}

int record_op_add(struct store_txn *t, const struct entry *e,
		  const uint8_t id[ENTRY_ID_LEN], uint64_t lseq)
{
	uint8_t key[RECORD_KEY_MAX + 1 + 8 + ENTRY_ID_LEN], lk[8];
	size_t kl = record_key(e->collection, e->record_id, key);
	int r;

	key[kl++] = 0;
	store_be64(key + kl, e->hlc);
	kl += 8;
	memcpy(key + kl, id, ENTRY_ID_LEN);
	kl += ENTRY_ID_LEN;
	store_be64(lk, lseq);
	if ((r = store_put(t, ST_RECOPS, key, kl, lk, 8, 0)) < 0)
		return r;
	if (e->kind == ENTRY_PUT || e->kind == ENTRY_DELETE ||
	    e->kind == ENTRY_ERASE)
		opmemo_put(t, e, id, lseq);
	return 0;
}

int record_op_find(struct store_txn *t, const char *coll, const char *rid,
		   const uint8_t id[ENTRY_ID_LEN], uint64_t *ret_lseq)
{
	uint8_t pfx[RECORD_KEY_MAX + 1];
	struct store_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl, pl = record_key(coll, rid, pfx);
	int r;

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
	struct entries_row row;
	struct entry e;
	int r;

	if (kl < 8 + ENTRY_ID_LEN || vl != 8)
		return HAMLET_ECORRUPT;
	memcpy(op->id, kp + kl - ENTRY_ID_LEN, ENTRY_ID_LEN);
	op->lseq = store_get_be64(v);
	if (opmemo_get(t, op->id, store_get_be64(kp + kl - ENTRY_ID_LEN - 8),
		       op->lseq, op))
		return 0;
	if ((r = entries_at(t, op->lseq, &row)) < 0)
		return r == HAMLET_ENOTFOUND ? HAMLET_ECORRUPT : r;
	/* the entry there is one of this record's, at this hlc */
	uint8_t rk[RECORD_KEY_MAX];
	if (entry_decode(row.env, row.env_len, &e, NULL) < 0 ||
	    e.hlc != store_get_be64(kp + kl - ENTRY_ID_LEN - 8) ||
	    (e.kind != ENTRY_PUT && e.kind != ENTRY_DELETE &&
	     e.kind != ENTRY_ERASE) ||
	    record_key(e.collection, e.record_id, rk) !=
		    kl - 1 - 8 - ENTRY_ID_LEN ||
	    memcmp(rk, kp, kl - 1 - 8 - ENTRY_ID_LEN) != 0)
		return HAMLET_ECORRUPT;
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

int record_ops_each(struct store_txn *t, const char *coll, const char *id,
		    record_op_cb cb, void *ctx)
{
	uint8_t pfx[RECORD_KEY_MAX + 1];
	struct store_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl, pl = record_key(coll, id, pfx);
	struct record_op op;
	int r, n = 0;

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
		if (r == HAMLET_ENOTFOUND || r == HAMLET_ECORRUPT)
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

static int uniq_key(const char *coll, const uint8_t h[16], const char *id,
		    uint8_t *out)
{
	size_t cl = strlen(coll), il = id ? strlen(id) : 0;
	memcpy(out, coll, cl);
	out[cl] = 0;
	memcpy(out + cl + 1, h, 16);
	if (id)
		memcpy(out + cl + 17, id, il);
	return (int)(cl + 17 + il);
}

/*
 * The shared unique keys (ST_DUPS): after coll's group of key hash h
 * changed, note it when two records or more hold it, drop the note when
 * fewer do. So listing duplicates reads the groups, not every key.
 */
static int dups_fix(struct store_txn *t, const char *coll, const uint8_t h[16],
		    int added)
{
	uint8_t pfx[RECORD_KEY_MAX + 17];
	struct store_cursor *c = NULL;
	const void *k;
	size_t kl;
	int r, n = 0, pl = uniq_key(coll, h, NULL, pfx);

	if ((r = store_cursor_open(t, ST_UNIQ, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, pfx, (size_t)pl, &k, &kl, NULL, NULL);
	     r == 1 && n < 2; r = store_cursor_next(c, &k, &kl, NULL, NULL)) {
		if (kl < (size_t)pl || memcmp(k, pfx, (size_t)pl) != 0)
			break;
		n++;
	}
	store_cursor_close(c);
	if (r < 0)
		return r;
	if (n >= 2)
		return store_put(t, ST_DUPS, pfx, (size_t)pl, "", 0, 0);
	if (added)
		return 0; /* the group was empty before: no note to drop */
	r = store_del(t, ST_DUPS, pfx, (size_t)pl);
	return r == HAMLET_ENOTFOUND ? 0 : r;
}

/* The unique-key index: drop the old key's row, add the new one's. */
/* The unique key hash a record's stored row keeps: *ret_has 0 when it
 * keeps none or there is no row. */
static int row_uniq(struct store_txn *t, const char *coll, const char *id,
		    uint8_t out[16], int *ret_has)
{
	uint8_t key[RECORD_KEY_MAX];
	size_t kl = record_key(coll, id, key), vl;
	const msgpack_object *f;
	const void *v;
	struct mp_doc d;
	int r;

	*ret_has = 0;
	if ((r = store_get(t, ST_RECORDS, key, kl, &v, &vl)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	if (mp_doc_parse(&d, v, vl, RECORD_MAX_OPS * 4) < 0)
		return HAMLET_ECORRUPT;
	r = mp_get_array(d.root, 9, 0, &f, NULL) < 0 ? HAMLET_ECORRUPT : 0;
	if (r == 0 && !mp_is_nil(&f[7])) {
		if (mp_get_bin_fixed(&f[7], 16, out) < 0)
			r = HAMLET_ECORRUPT;
		else
			*ret_has = 1;
	}
	mp_doc_close(&d);
	return r;
}

static int uniq_replace(struct store_txn *t, const char *coll,
			const char *id, int had_row, const uint8_t *newu)
{
	uint8_t ukey[RECORD_KEY_MAX + 17], oldu[16];
	int r, ul, had = 0, drop = 0;

	/* from the row alone: its fields (perhaps by reference) are not
	 * needed */
	if (had_row && (r = row_uniq(t, coll, id, oldu, &had)) < 0)
		return r;
	drop = had && (!newu || memcmp(oldu, newu, 16));
	if (drop) {
		ul = uniq_key(coll, oldu, id, ukey);
		r = store_del(t, ST_UNIQ, ukey, (size_t)ul);
		if (r < 0 && r != HAMLET_ENOTFOUND)
			return r;
		if ((r = dups_fix(t, coll, oldu, 0)) < 0)
			return r;
	}
	if (!newu)
		return 0;
	ul = uniq_key(coll, newu, id, ukey);
	if ((r = store_put(t, ST_UNIQ, ukey, (size_t)ul, "", 0, 0)) < 0)
		return r;
	return dups_fix(t, coll, newu, 1);
}

/* A record's state as its ops make it, not yet written. */
struct built {
	struct mat m;
	struct crdt_record cr;
	struct mp_writer sw; /* the state row, when m.n > 0 */
	uint8_t *ref;	     /* it as stored, by reference; NULL: as is */
	size_t ref_len;
	uint8_t newu[16];
	int has_newu;
};

/* The row as stored. */
static void built_row(const struct built *b, const void **ret,
		      size_t *ret_len)
{
	*ret = b->ref ? (const void *)b->ref : (const void *)b->sw.sb.data;
	*ret_len = b->ref ? b->ref_len : b->sw.sb.size;
}

/* 1 when a stored row holds its fields by reference. */
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

/* head_body() for the record whose records key is key. */
static int head_body_at(struct store_txn *t, const void *key, size_t kl,
			const uint8_t head[ENTRY_ID_LEN], struct bodyz_buf *zb,
			const void **ret_body, size_t *ret_len)
{
	char coll[ENTRY_MAX_COLLECTION + 1], rid[ENTRY_MAX_RECORD_ID + 1];
	if (split_key(key, kl, coll, rid) < 0)
		return HAMLET_ECORRUPT;
	return head_body(t, coll, rid, head, zb, ret_body, ret_len);
}

int record_fields_inline(struct store_txn *t, const char *coll,
			 const char *id)
{
	uint8_t key[RECORD_KEY_MAX], *row;
	size_t kl = record_key(coll, id, key), vl, bl, n;
	const void *v, *body;
	const uint8_t *p;
	int r;

	if ((r = store_get(t, ST_RECORDS, key, kl, &v, &vl)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	p = v;
	if (!row_is_ref(p, vl))
		return 0;
	struct bodyz_buf zb = { 0 };
	if ((r = head_body(t, coll, id, p + 6, &zb, &body, &bl)) < 0) {
		bodyz_buf_free(&zb);
		/* a body that no longer reads: the row stays as it is (the
		 * erasure's new state replaces it) */
		return r == HAMLET_ENOTFOUND || r == HAMLET_ECORRUPT ? 0 : r;
	}
	n = vl - 1 + bl;
	if (!(row = malloc(n))) {
		bodyz_buf_free(&zb);
		return -ENOMEM;
	}
	memcpy(row, p, REF_AT);
	memcpy(row + REF_AT, body, bl);
	memcpy(row + REF_AT + bl, p + REF_AT + 1, vl - REF_AT - 1);
	bodyz_buf_free(&zb);
	r = store_put(t, ST_RECORDS, key, kl, row, n, 0);
	free(row);
	return r;
}

int record__row_hash_at(struct store_txn *t, const void *key, size_t klen,
			const void *val, size_t vlen, uint8_t ret[32])
{
	const uint8_t *p = val;
	const void *body;
	size_t bl;
	int r;

	if (!row_is_ref(p, vlen)) {
		record__row_hash(key, klen, val, vlen, ret);
		return 0;
	}
	struct bodyz_buf zb = { 0 };
	r = head_body_at(t, key, klen, p + 6, &zb, &body, &bl);
	if (r == 0)
		record__row_hash3(key, klen, p, REF_AT, body, bl,
				  p + REF_AT + 1, vlen - REF_AT - 1, ret);
	else if (r == HAMLET_ENOTFOUND || r == HAMLET_ECORRUPT)
		/* the body it refers to is gone or damaged: the row as
		 * stored, which no kept digest matches, so verify says the
		 * digest does not add up, and writing goes on */
		record__row_hash(key, klen, val, vlen, ret);
	bodyz_buf_free(&zb);
	return r == HAMLET_ENOTFOUND || r == HAMLET_ECORRUPT ? 0 : r;
}

/* Replace a record's derived rows: unique key, state (and with it the
 * state digest), conflict mark. */
static int rows_replace(struct store_txn *t, const char *coll,
			const char *id, const struct built *b, size_t nconf,
			struct record_digest_delta *dd, int *ret_fresh)
{
	uint8_t key[RECORD_KEY_MAX], oldh[32], newh[32];
	size_t kl = record_key(coll, id, key), vl, sl;
	const uint8_t *newu = b->has_newu ? b->newu : NULL;
	const void *v, *sv;
	int r, had;

	built_row(b, &sv, &sl);
	r = store_get(t, ST_RECORDS, key, kl, &v, &vl);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	had = r == 0;
	*ret_fresh = !had;
	/* a body a row refers to never changes while the row stands (an
	 * erasure makes a new state), so equal rows stand for equal rows */
	if (had && vl == sl && memcmp(v, sv, vl) == 0)
		return 0; /* unchanged, and so is everything derived from it */
	/* v lives only until the next write */
	if (had && (r = record__row_hash_at(t, key, kl, v, vl, oldh)) < 0)
		return r;
	record__row_hash(key, kl, b->sw.sb.data, b->sw.sb.size, newh);
	if ((r = uniq_replace(t, coll, id, had, newu)) < 0 ||
	    (r = record__digest_replace(t, had ? oldh : NULL, newh, dd)) < 0)
		return r;
	if ((r = store_put(t, ST_RECORDS, key, kl, sv, sl, 0)) < 0)
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

/* Build the state of coll/id from its ops into b (b->m.n == 0: none);
 * built_close frees b whatever this returns. */
static int built_make(struct store_txn *t, const struct schema *s,
		      const char *coll, const char *id, struct built *b)
{
	size_t foff, fend;
	int r;

	memset(b, 0, sizeof(*b));
	b->m.t = t;
	mp_writer_init(&b->sw);
	if ((r = record_ops_each(t, coll, id, mat_add, &b->m)) < 0)
		return r;
	if (b->m.n == 0)
		return 0;
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

static void built_close(struct built *b)
{
	crdt_record_close(&b->cr);
	mp_writer_destroy(&b->sw);
	free(b->ref);
	mat_free(&b->m);
}

int record_materialize(struct store_txn *t, const char *coll, const char *id,
		       struct record_digest_delta *dd, int *ret_fresh)
{
	const struct schema *s = schema_find(coll);
	struct built b;
	int r, fresh = 0;

	if (!s)
		return HAMLET_ECOLLECTION;
	r = built_make(t, s, coll, id, &b);
	if (r == 0 && b.m.n > 0)
		r = rows_replace(t, coll, id, &b, b.cr.nconflicts, dd, &fresh);
	if (ret_fresh)
		*ret_fresh = fresh;
	built_close(&b);
	return r;
}

int record_state_check(struct store_txn *t, const char *coll, const char *id,
		       int *ret_differs)
{
	const struct schema *s = schema_find(coll);
	uint8_t key[RECORD_KEY_MAX];
	size_t kl, vl;
	const void *v;
	struct built b;
	int r, differs;

	if (!s)
		return HAMLET_ECOLLECTION;
	kl = record_key(coll, id, key);
	if ((r = built_make(t, s, coll, id, &b)) < 0)
		goto out;
	r = store_get(t, ST_RECORDS, key, kl, &v, &vl);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		goto out;
	if (r == HAMLET_ENOTFOUND)
		differs = b.m.n > 0;
	else {
		const void *sv;
		size_t sl;
		built_row(&b, &sv, &sl);
		differs = b.m.n == 0 || vl != sl || memcmp(v, sv, vl) != 0;
	}
	*ret_differs = differs;
	r = 0;
out:
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
	uint64_t ver;
	int r;

	if ((r = store_get(t, ST_RECORDS, key, kl, &v, &vl)) < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->coll, sizeof(ret->coll), "%s", coll);
	snprintf(ret->id, sizeof(ret->id), "%s", id);
	if ((r = mp_doc_parse(&ret->doc, v, vl, RECORD_MAX_OPS * 4)) < 0)
		return HAMLET_ECORRUPT;
	if (mp_get_array(ret->doc.root, 9, 0, &f, NULL) < 0 ||
	    mp_get_uint(&f[0], 255, &ver) < 0 || ver != STATE_VERSION ||
	    mp_get_bool(&f[1], &ret->deleted) < 0 ||
	    f[2].type != MSGPACK_OBJECT_ARRAY ||
	    (f[3].type != MSGPACK_OBJECT_MAP && !row_is_ref(v, vl)) ||
	    f[4].type != MSGPACK_OBJECT_ARRAY ||
	    mp_get_uint(&f[5], UINT64_MAX, &ret->hlc) < 0 ||
	    mp_get_uint(&f[6], UINT64_MAX, &ret->nops) < 0) {
		mp_doc_close(&ret->doc);
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

int record_duplicates(struct store_txn *t, const char *coll,
		      const struct record_view *v, const char *self_id,
		      record_id_cb cb, void *ctx)
{
	uint8_t pfx[RECORD_KEY_MAX + 17];
	struct store_cursor *c = NULL;
	const void *k;
	size_t kl;
	int r, n = 0;

	if (!v->has_uniq || v->deleted)
		return 0;
	int pl = uniq_key(coll, v->uniq, NULL, pfx);
	if ((r = store_cursor_open(t, ST_UNIQ, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, pfx, (size_t)pl, &k, &kl, NULL, NULL);
	     r == 1; r = store_cursor_next(c, &k, &kl, NULL, NULL)) {
		char other[ENTRY_MAX_RECORD_ID + 1];
		if (kl < (size_t)pl || memcmp(k, pfx, (size_t)pl) != 0)
			break;
		size_t il = kl - (size_t)pl;
		if (il > ENTRY_MAX_RECORD_ID)
			continue;
		memcpy(other, (const uint8_t *)k + pl, il);
		other[il] = 0;
		if (strcmp(other, self_id) == 0)
			continue;
		n++;
		if (cb && (r = cb(ctx, coll, other)) < 0)
			goto out;
	}
	if (r >= 0)
		r = n;
out:
	store_cursor_close(c);
	return r;
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
	/* duplicates: the groups of a shared unique key (ST_DUPS), each
	 * read from the index */
	if ((r = store_cursor_open(t, ST_DUPS, &c)) < 0)
		goto out;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, NULL, NULL); r == 1;
	     r = store_cursor_next(c, &k, &kl, NULL, NULL)) {
		const uint8_t *p = k;
		const uint8_t *z = memchr(p, 0, kl);
		struct store_cursor *u = NULL;
		const void *uk;
		size_t ukl;
		if (!z || kl != (size_t)(z - p) + 17 ||
		    (size_t)(z - p) > ENTRY_MAX_COLLECTION)
			continue;
		memcpy(coll, p, (size_t)(z - p));
		coll[z - p] = 0;
		if ((r = store_cursor_open(t, ST_UNIQ, &u)) < 0)
			goto out;
		for (r = store_cursor_seek(u, p, kl, &uk, &ukl, NULL, NULL);
		     r == 1; r = store_cursor_next(u, &uk, &ukl, NULL, NULL)) {
			size_t il = ukl - kl;
			if (ukl < kl || memcmp(uk, p, kl) != 0)
				break;
			if (il > ENTRY_MAX_RECORD_ID)
				continue;
			memcpy(id, (const uint8_t *)uk + kl, il);
			id[il] = 0;
			if ((r = idlist_add(&l, coll, id)) < 0)
				break;
		}
		store_cursor_close(u);
		if (r < 0)
			goto out;
	}
	if (r < 0)
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

int record_unmaterialized_each(struct store_txn *t, record_id_cb cb,
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
