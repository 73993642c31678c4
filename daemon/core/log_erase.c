/*
 * log_erase: what an erasure (SPEC §1.6) does to the store. Part of the
 * log module: log_apply.c calls it for each erasure it stores and for
 * each put it stores, so that an erased record's bodies are gone and
 * stay gone, whichever order entries arrive in.
 */
#include "log_internal.h"

#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* collection \0 record id \0: the prefix of a record's erasures. */
static size_t erased_prefix(const char *coll, const char *id, uint8_t *out)
{
	size_t n = record_key(coll, id, out);
	out[n++] = 0;
	return n;
}

int log__erased(struct store_txn *t, const char *coll, const char *id,
		const char *scope)
{
	uint8_t pfx[RECORD_KEY_MAX + 1];
	size_t pl = erased_prefix(coll, id, pfx), kl, vl;
	struct store_cursor *c;
	const void *k, *v;
	int r, found = 0;

	if ((r = store_cursor_open(t, ST_ERASED, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, pfx, pl, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		char es[ENTRY_MAX_SCOPE + 1];
		if (kl != pl + ENTRY_ID_LEN || memcmp(k, pfx, pl) != 0)
			break;
		if (vl == 0 || vl > ENTRY_MAX_SCOPE) {
			r = HAMLET_ECORRUPT;
			break;
		}
		memcpy(es, v, vl);
		es[vl] = 0;
		if (entry_scope_under(scope, es)) {
			found = 1;
			break;
		}
	}
	store_cursor_close(c);
	return r < 0 ? r : found;
}

/* The ids of a record's puts under an erasure's scope. */
struct put_ids {
	const char *scope;
	struct put_id {
		uint8_t id[ENTRY_ID_LEN];
		uint64_t lseq;
	} *v;
	size_t n, cap;
};

static int collect_put(void *ctx, const struct record_op *op)
{
	struct put_ids *p = ctx;
	if (op->kind != ENTRY_PUT || !entry_scope_under(op->scope, p->scope))
		return 0;
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		void *q = realloc(p->v, nc * sizeof(*p->v));
		if (!q)
			return -ENOMEM;
		p->v = q;
		p->cap = nc;
	}
	memcpy(p->v[p->n].id, op->id, ENTRY_ID_LEN);
	p->v[p->n++].lseq = op->lseq;
	return 0;
}

/* Held entries of the record under scope lose their bodies too. At most
 * LOG_MAX_HELD rows to look at. */
static int drop_held_bodies(struct store_txn *t, const struct entry *er,
			    uint64_t *dropped)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl, n = 0, cap = 0;
	uint8_t(*keys)[40] = NULL;
	int r;

	if ((r = store_cursor_open(t, ST_PENDING, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		struct log__entry_row row;
		struct entry e;
		if (kl != 40 || log__row_decode(v, vl, 1, &row) < 0 ||
		    !row.body ||
		    entry_decode(row.env, row.env_len, &e, NULL) < 0)
			continue;
		/* a held erasure keeps its reason */
		if (e.kind != ENTRY_PUT ||
		    strcmp(e.collection, er->collection) != 0 ||
		    strcmp(e.record_id, er->record_id) != 0 ||
		    !entry_scope_under(e.scope, er->scope))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			void *q = realloc(keys, nc * sizeof(*keys));
			if (!q) {
				r = -ENOMEM;
				break;
			}
			keys = q;
			cap = nc;
		}
		memcpy(keys[n++], k, 40);
	}
	store_cursor_close(c);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct log__entry_row row;
		uint8_t *copy;
		size_t keep;
		if ((r = store_get(t, ST_PENDING, keys[i], 40, &v, &vl)) < 0 ||
		    (r = log__row_decode(v, vl, 1, &row)) < 0)
			break;
		/* the row without its body: everything before it */
		keep = (size_t)(row.body - (const uint8_t *)v);
		if (!(copy = malloc(keep))) {
			r = -ENOMEM;
			break;
		}
		memcpy(copy, v, keep);
		copy[2 + row.env_len + ENTRY_SIG_LEN] &= (uint8_t)~LOG__HELD_BODY;
		r = store_put(t, ST_PENDING, keys[i], 40, copy, keep, 0);
		free(copy);
		if (r == 0)
			(*dropped)++;
	}
	free(keys);
	return r < 0 ? r : 0;
}

int log__erase_apply(struct log__applier *a, const struct entry *e,
		     const uint8_t id[ENTRY_ID_LEN])
{
	uint8_t key[RECORD_KEY_MAX + 1 + ENTRY_ID_LEN];
	size_t kl = erased_prefix(e->collection, e->record_id, key);
	struct put_ids p = { e->scope, NULL, 0, 0 };
	uint64_t dropped = 0;
	int r;

	memcpy(key + kl, id, ENTRY_ID_LEN);
	kl += ENTRY_ID_LEN;
	/*
	 * Kept whatever the record holds now: the bodies an erasure reaches
	 * (those under its scope) must go whichever order entries arrive
	 * in. Whether the record reads as erased is decided from its ops
	 * when it is materialized (record_materialize.c), likewise order-free.
	 */
	if ((r = store_put(a->t, ST_ERASED, key, kl, e->scope,
			   strlen(e->scope), 0)) < 0)
		return r;
	/* the record's row may refer to a body about to go */
	if ((r = record_fields_inline(a->t, e->collection, e->record_id)) < 0)
		return r;
	r = record_ops_each(a->t, e->collection, e->record_id, collect_put,
			    &p);
	for (size_t i = 0; r >= 0 && i < p.n; i++) {
		r = entries_body_drop(a->t, p.v[i].id, p.v[i].lseq);
		if (r == 0)
			dropped++;
		else if (r == HAMLET_ENOTFOUND)
			r = 0;
	}
	free(p.v);
	if (r < 0 || (r = drop_held_bodies(a->t, e, &dropped)) < 0)
		return r;
	/* asks for the store to be rewritten, even after a crash before */
	if ((r = store_put(a->t, ST_META, "erase_pending", 13, "", 0, 0)) < 0)
		return r;
	a->erasures++;
	a->st.erased_bodies += dropped;
	return 0;
}

int log__erase_forget(struct store_txn *t, const char *coll, const char *id,
		      const uint8_t eid[ENTRY_ID_LEN])
{
	uint8_t key[RECORD_KEY_MAX + 1 + ENTRY_ID_LEN];
	size_t kl = erased_prefix(coll, id, key);
	int r;
	memcpy(key + kl, eid, ENTRY_ID_LEN);
	r = store_del(t, ST_ERASED, key, kl + ENTRY_ID_LEN);
	return r == HAMLET_ENOTFOUND ? 0 : r;
}

/* --- records an earlier release made of their erasures --------------- */

/* Meta: present once the records below were made again (a store made by
 * this release never needs it, and gets it at its first opening). v1
 * made again the records of erasures alone; v2 every record with an
 * erasure, since an erasure of one scope now erases that scope's part
 * only (an earlier release read the whole record as erased). */
#define META_ALONE "erased_parts_v2"

/* A record with an erasure. */
struct alone_rec {
	char coll[ENTRY_MAX_COLLECTION + 1];
	char id[ENTRY_MAX_RECORD_ID + 1];
};

struct alone_ops {
	uint64_t n, lseq;
};

static int alone_op(void *ctx, const struct record_op *op)
{
	struct alone_ops *o = ctx;
	o->n++;
	if (op->lseq > o->lseq)
		o->lseq = op->lseq;
	return 0;
}

/* The records ST_ERASED names (collection \0 id \0 erasure id), once
 * each. */
static int alone_collect(struct store_txn *t, struct alone_rec **ret,
			 size_t *ret_n)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl, n = 0, cap = 0;
	struct alone_rec *recs = NULL;
	int r;

	if ((r = store_cursor_open(t, ST_ERASED, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		const char *kb = k;
		size_t cl = strnlen(kb, kl), il;
		if (kl < ENTRY_ID_LEN + 3 || cl > ENTRY_MAX_COLLECTION ||
		    cl + 1 + ENTRY_ID_LEN + 1 > kl)
			continue; /* not a row this release writes */
		il = kl - ENTRY_ID_LEN - 1 - (cl + 1);
		if (il > ENTRY_MAX_RECORD_ID)
			continue;
		if (n && strcmp(recs[n - 1].coll, kb) == 0 &&
		    strlen(recs[n - 1].id) == il &&
		    memcmp(recs[n - 1].id, kb + cl + 1, il) == 0)
			continue; /* its second erasure */
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			void *q = realloc(recs, nc * sizeof(*recs));
			if (!q) {
				r = -ENOMEM;
				break;
			}
			recs = q;
			cap = nc;
		}
		memcpy(recs[n].coll, kb, cl);
		recs[n].coll[cl] = 0;
		memcpy(recs[n].id, kb + cl + 1, il);
		recs[n++].id[il] = 0;
	}
	store_cursor_close(c);
	if (r < 0) {
		free(recs);
		return r;
	}
	*ret = recs;
	*ret_n = n;
	return 0;
}

struct alone_in {
	struct log__applier a;
};

static int alone_txn(struct store_txn *t, void *ctx)
{
	struct alone_in *g = ctx;
	struct alone_rec *recs = NULL;
	struct entry *e = calloc(1, sizeof(*e));
	size_t n = 0, found = 0;
	const void *v;
	size_t vl;
	int r;

	if (!e)
		return -ENOMEM;
	r = store_get(t, ST_META, META_ALONE, strlen(META_ALONE), &v, &vl);
	if (r == 0) {
		r = LOG__NOTHING;
		goto out;
	}
	if (r != HAMLET_ENOTFOUND || (r = log__applier_begin(&g->a, t)) < 0 ||
	    (r = alone_collect(t, &recs, &n)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct alone_ops o = { 0, 0 };
		if ((r = record_ops_each(t, recs[i].coll, recs[i].id, alone_op,
					 &o)) < 0)
			goto out;
		if (!o.n)
			continue;
		snprintf(e->collection, sizeof(e->collection), "%s",
			 recs[i].coll);
		snprintf(e->record_id, sizeof(e->record_id), "%s", recs[i].id);
		if ((r = log__dirty_add(&g->a.dirty, e, o.lseq, 0)) < 0)
			goto out;
		found++;
	}
	/* made again; a record of one op was hashed in the kept digest by
	 * the earlier rule: the digest is summed again from the rows */
	if ((r = log__applier_finish(&g->a, 0)) < 0 ||
	    (found && (r = record_digest_reset(t)) < 0))
		goto out;
	r = store_put(t, ST_META, META_ALONE, strlen(META_ALONE), "", 0, 0);
out:
	free(recs);
	free(e);
	return r;
}

int log_erased_alone_upgrade(struct store *st)
{
	struct alone_in g = { 0 };
	struct store_txn *t;
	const void *v;
	size_t vl;
	int r;

	/* done already, as a rule: no need of the writer's lock */
	if ((r = store_txn_begin(st, 1, &t)) < 0)
		return r;
	r = store_get(t, ST_META, META_ALONE, strlen(META_ALONE), &v, &vl);
	store_txn_abort(t);
	if (r != HAMLET_ENOTFOUND)
		return r < 0 ? r : 0;
	g.a.held_budget0 = UINT64_MAX;
	r = log__write_txn(st, alone_txn, &g);
	log__applier_close(&g.a);
	return r;
}

int log_body_erased(struct store_txn *t, const char *coll, const char *id,
		    const char *scope)
{
	return log__erased(t, coll, id, scope);
}
