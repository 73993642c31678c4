/*
 * record_read: records read back: a record's view (its state, parsed),
 * what a put would change in it, its duplicates, and walks over the
 * records, their conflicts and those not yet materialized.
 */
#include "record_internal.h"

#include "changes.h"
#include "error.h"
#include "uniqidx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (record__row_split(v, vl, &rv) < 0)
		return HAMLET_ECORRUPT;
	if (record__state_one(rv.s, rv.sl, &lseq)) {
		/* the state its one op makes */
		struct built b;
		r = record__built_one(t, key, kl, lseq, 1, &b);
		if (r == 0)
			ret->own = mp_writer_take(&b.sw, &ret->own_len);
		record__built_close(&b);
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
	    (f[3].type != MSGPACK_OBJECT_MAP && !record__row_is_ref(v, vl)) ||
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
		r = record__head_body_signed(t, coll, id,
					     (const uint8_t *)v + 6, &ret->fzb,
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

int record_view_heads_are(const struct record_view *v,
			  const uint8_t (*heads)[ENTRY_ID_LEN], size_t n)
{
	const msgpack_object *h = v->heads;

	if (!h || h->type != MSGPACK_OBJECT_ARRAY || h->via.array.size != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *o = &h->via.array.ptr[i];
		size_t found = 0;
		if (o->type != MSGPACK_OBJECT_BIN ||
		    o->via.bin.size != ENTRY_ID_LEN)
			return 0;
		/* each of the record's heads given once: with the counts
		 * equal, no head given is another's double */
		for (size_t j = 0; j < n; j++)
			found += memcmp(heads[j], o->via.bin.ptr,
					ENTRY_ID_LEN) == 0;
		if (found != 1)
			return 0;
	}
	return 1;
}

long record_view_heads(const struct record_view *v,
		       uint8_t (*out)[ENTRY_ID_LEN])
{
	const msgpack_object *h = v->heads;

	if (!h || h->type != MSGPACK_OBJECT_ARRAY ||
	    h->via.array.size > RECORD_MAX_SEEN_HEADS)
		return 0;
	for (uint32_t i = 0; i < h->via.array.size; i++)
		if (mp_get_bin_fixed(&h->via.array.ptr[i], ENTRY_ID_LEN,
				     out[i]) < 0)
			return HAMLET_ECORRUPT;
	return (long)h->via.array.size;
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
	int n, first; /* first: stop at the first */
};

static int dup_one(void *ctx, const char *coll, const char *id)
{
	struct dup_walk *w = ctx;
	int r;
	if (strcmp(id, w->self_id) == 0)
		return 0;
	w->n++;
	if (w->first)
		return 1;
	return w->cb && (r = w->cb(w->ctx, coll, id)) < 0 ? r : 0;
}

static int dups_walk(struct store_txn *t, const char *coll,
		     const struct record_view *v, struct dup_walk *w)
{
	int r;

	if (!v->has_uniq || v->deleted)
		return 0;
	r = uniqidx_shared_each(t, coll, v->uniq, dup_one, w);
	return r < 0 ? r : w->n;
}

int record_duplicates(struct store_txn *t, const char *coll,
		      const struct record_view *v, const char *self_id,
		      record_id_cb cb, void *ctx)
{
	struct dup_walk w = { self_id, cb, ctx, 0, 0 };
	return dups_walk(t, coll, v, &w);
}

int record_has_duplicate(struct store_txn *t, const char *coll,
			 const struct record_view *v, const char *self_id)
{
	struct dup_walk w = { self_id, NULL, NULL, 0, 1 };
	return dups_walk(t, coll, v, &w);
}

int record__split_key(const void *k, size_t kl, char *coll, char *id)
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
		if ((r = record__split_key(k, kl, coll, id)) < 0 ||
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
		if ((r = record__split_key(k, kl, kc, id)) < 0)
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
		if ((r = record__split_key(seen, seenl, kc, id)) < 0 ||
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
 * multi_unmaterialized() does not name (no op row). A gone one names a
 * record that has no row, as it should. */
static int change_unmaterialized(void *ctx, const struct change *ch)
{
	struct unmat *u = ctx;
	uint8_t key[RECORD_KEY_MAX];
	size_t kl = record_key(ch->collection, ch->id, key), vl;
	const void *v;
	int r;
	if (ch->gone)
		return 0;
	r = store_get(u->t, ST_RECORDS, key, kl, &v, &vl);
	if (r != HAMLET_ENOTFOUND)
		return r < 0 ? r : 0;
	if ((r = record__recops_any(u->t, key, kl)) != 0)
		return r < 0 ? r : 0;
	r = u->cb(u->ctx, ch->collection, ch->id);
	return r < 0 ? r : 0;
}

int record_unmaterialized_each(struct store_txn *t, record_id_cb cb,
			       void *ctx)
{
	struct unmat u = { t, cb, ctx };
	uint64_t nrec, nch, ngone;
	int r;

	if ((r = multi_unmaterialized(t, cb, ctx)) < 0)
		return r;
	/* a record of one op has no op row: the change rows name every
	 * record, one row each (and each record gone), so they are read
	 * only when they are not as many as the records rows */
	if ((r = store_count(t, ST_RECORDS, &nrec)) < 0 ||
	    (r = store_count(t, ST_CHANGES, &nch)) < 0 ||
	    (r = store_count(t, ST_GONE, &ngone)) < 0)
		return r;
	if (nrec + ngone == nch)
		return 0;
	r = changes_each(t, 0, 0, change_unmaterialized, &u);
	return r < 0 ? r : 0;
}
