#include "record.h"

#include "error.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define STATE_VERSION 1

size_t record_key(const char *coll, const char *id, uint8_t *out)
{
	size_t cl = strlen(coll), il = strlen(id);
	memcpy(out, coll, cl);
	out[cl] = 0;
	memcpy(out + cl + 1, id, il);
	return cl + 1 + il;
}

/* --- the op index ------------------------------------------------------ */

int record_op_add(struct store_txn *t, const struct entry *e,
		  const uint8_t id[ENTRY_ID_LEN])
{
	uint8_t key[RECORD_KEY_MAX + 1 + 8 + ENTRY_ID_LEN];
	struct mp_writer w;
	size_t kl = record_key(e->collection, e->record_id, key);
	int r;

	key[kl++] = 0;
	store_be64(key + kl, e->hlc);
	kl += 8;
	memcpy(key + kl, id, ENTRY_ID_LEN);
	kl += ENTRY_ID_LEN;

	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 5);
	msgpack_pack_uint64(&w.pk, (uint64_t)e->kind);
	msgpack_pack_uint64(&w.pk, e->hlc);
	mp_pack_bin(&w.pk, e->author, ENTRY_KEY_LEN);
	msgpack_pack_array(&w.pk, e->ndeps);
	for (size_t i = 0; i < e->ndeps; i++)
		mp_pack_bin(&w.pk, e->deps[i], ENTRY_ID_LEN);
	if (e->has_body)
		mp_pack_bin(&w.pk, e->body_hash, ENTRY_HASH_LEN);
	else
		msgpack_pack_nil(&w.pk);
	r = store_put(t, ST_RECOPS, key, kl, w.sb.data, w.sb.size, 0);
	mp_writer_destroy(&w);
	return r;
}

static int op_parse(const void *k, size_t kl, const void *v, size_t vl,
		    struct record_op *op)
{
	struct mp_doc d;
	const msgpack_object *f, *deps;
	uint64_t u;
	size_t n;
	int r;

	if (kl < 8 + ENTRY_ID_LEN)
		return HAMLET_ECORRUPT;
	memcpy(op->id, (const uint8_t *)k + kl - ENTRY_ID_LEN, ENTRY_ID_LEN);
	if ((r = mp_doc_parse(&d, v, vl, ENTRY_MAX_DEPS + 5)) < 0)
		return HAMLET_ECORRUPT;
	if ((r = mp_get_array(d.root, 5, 0, &f, NULL)) < 0 ||
	    (r = mp_get_uint(&f[0], ENTRY_REDACT, &u)) < 0 ||
	    (r = mp_get_uint(&f[1], UINT64_MAX, &op->hlc)) < 0 ||
	    (r = mp_get_bin_fixed(&f[2], ENTRY_KEY_LEN, op->author)) < 0 ||
	    (r = mp_get_array(&f[3], SIZE_MAX, ENTRY_MAX_DEPS, &deps, &n)) < 0)
		goto bad;
	op->kind = (int)u;
	op->ndeps = n;
	for (size_t i = 0; i < n; i++)
		if ((r = mp_get_bin_fixed(&deps[i], ENTRY_ID_LEN,
					  op->deps[i])) < 0)
			goto bad;
	op->has_body = !mp_is_nil(&f[4]);
	if (op->has_body &&
	    (r = mp_get_bin_fixed(&f[4], ENTRY_HASH_LEN, op->body_hash)) < 0)
		goto bad;
	mp_doc_close(&d);
	return 0;
bad:
	mp_doc_close(&d);
	return HAMLET_ECORRUPT;
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
		if ((r = op_parse(k, kl, v, vl, &op)) < 0)
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

struct mop {
	struct record_op op;
	int dep_idx[ENTRY_MAX_DEPS];
	int body_ok;
	struct mp_doc body;
	const msgpack_object_kv *kv;
	size_t nkv;
};

struct mat {
	struct mop *ops;
	size_t n, cap;
	uint64_t *anc; /* n bitsets of words each */
	size_t words;
	struct store_txn *t;
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
		struct mop *p = realloc(m->ops, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		m->ops = p;
		m->cap = nc;
	}
	memset(&m->ops[m->n], 0, sizeof(m->ops[0]));
	m->ops[m->n++].op = *op;
	return 0;
}

static void mat_free(struct mat *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->ops[i].body_ok)
			mp_doc_close(&m->ops[i].body);
	free(m->ops);
	free(m->anc);
}

static inline int anc_has(const struct mat *m, size_t i, size_t j)
{
	return (m->anc[i * m->words + j / 64] >> (j % 64)) & 1;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, ENTRY_ID_LEN);
}

static int find_op(const struct mat *m, const int *sorted,
		   const uint8_t id[ENTRY_ID_LEN])
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(m->ops[sorted[mid]].op.id, id, ENTRY_ID_LEN);
		if (c == 0)
			return sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int cmp_idx(const void *a, const void *b, void *ctx)
{
	const struct mat *m = ctx;
	return cmp_id(m->ops[*(const int *)a].op.id,
		      m->ops[*(const int *)b].op.id);
}

static int mat_graph(struct mat *m)
{
	int *sorted = malloc(m->n * sizeof(int));
	char *done = calloc(m->n, 1);
	int r = 0;

	m->words = (m->n + 63) / 64;
	m->anc = calloc(m->n * m->words, sizeof(uint64_t));
	if (!sorted || !done || !m->anc) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m->n; i++)
		sorted[i] = (int)i;
	qsort_r(sorted, m->n, sizeof(int), cmp_idx, m);
	for (size_t i = 0; i < m->n; i++)
		for (size_t d = 0; d < m->ops[i].op.ndeps; d++)
			m->ops[i].dep_idx[d] =
				find_op(m, sorted, m->ops[i].op.deps[d]);
	/* ancestors, to a fixpoint; ops come sorted by HLC so one pass
	 * usually does it, and n passes always do */
	for (size_t pass = 0; pass <= m->n; pass++) {
		int progress = 0, left = 0;
		for (size_t i = 0; i < m->n; i++) {
			if (done[i])
				continue;
			int ready = 1;
			for (size_t d = 0; d < m->ops[i].op.ndeps; d++) {
				int j = m->ops[i].dep_idx[d];
				if (j >= 0 && !done[j] && (size_t)j != i)
					ready = 0;
			}
			if (!ready) {
				left = 1;
				continue;
			}
			uint64_t *a = m->anc + i * m->words;
			for (size_t d = 0; d < m->ops[i].op.ndeps; d++) {
				int j = m->ops[i].dep_idx[d];
				if (j < 0 || (size_t)j == i)
					continue;
				const uint64_t *b = m->anc + (size_t)j * m->words;
				for (size_t w = 0; w < m->words; w++)
					a[w] |= b[w];
				a[j / 64] |= 1ull << (j % 64);
			}
			done[i] = 1;
			progress = 1;
		}
		if (!left || !progress)
			break;
	}
out:
	free(sorted);
	free(done);
	return r;
}

/* (hlc, author, id): the deterministic display order; >0 when a wins */
static int op_cmp(const struct record_op *a, const struct record_op *b)
{
	if (a->hlc != b->hlc)
		return a->hlc > b->hlc ? 1 : -1;
	int c = memcmp(a->author, b->author, ENTRY_KEY_LEN);
	if (c)
		return c;
	return memcmp(a->id, b->id, ENTRY_ID_LEN);
}

static int mat_bodies(struct mat *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct mop *o = &m->ops[i];
		const void *v;
		size_t vl;
		int r;
		if (o->op.kind != ENTRY_PUT || !o->op.has_body)
			continue;
		r = store_get(m->t, ST_BODIES, o->op.body_hash, ENTRY_HASH_LEN,
			      &v, &vl);
		if (r == HAMLET_ENOTFOUND)
			continue; /* redacted or not yet received */
		if (r < 0)
			return r;
		if (mp_doc_parse(&o->body, v, vl, SCHEMA_MAX_FIELDS * 2 + 64) < 0)
			continue;
		if (o->body.root->type != MSGPACK_OBJECT_MAP) {
			mp_doc_close(&o->body);
			continue;
		}
		o->body_ok = 1;
		o->kv = o->body.root->via.map.ptr;
		o->nkv = o->body.root->via.map.size;
	}
	return 0;
}

static const msgpack_object *op_value(const struct mop *o, const char *name)
{
	size_t nl = strlen(name);
	if (!o->body_ok)
		return NULL;
	for (size_t i = 0; i < o->nkv; i++) {
		const msgpack_object *k = &o->kv[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == nl &&
		    memcmp(k->via.str.ptr, name, nl) == 0)
			return &o->kv[i].val;
	}
	return NULL;
}

struct cand {
	int op;
	const msgpack_object *val; /* NULL for a delete */
};

static int cand_cmp_desc(const void *a, const void *b, void *ctx)
{
	const struct mat *m = ctx;
	const struct cand *x = a, *y = b;
	return -op_cmp(&m->ops[x->op].op, &m->ops[y->op].op);
}

static void pack_cands(msgpack_packer *pk, const struct mat *m,
		       struct cand *c, size_t n)
{
	qsort_r(c, n, sizeof(*c), cand_cmp_desc, (void *)m);
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++) {
		const struct record_op *op = &m->ops[c[i].op].op;
		msgpack_pack_array(pk, 5);
		if (c[i].val)
			mp_pack_object(pk, c[i].val);
		else
			msgpack_pack_nil(pk);
		mp_pack_bin(pk, op->author, ENTRY_KEY_LEN);
		msgpack_pack_uint64(pk, op->hlc);
		mp_pack_bin(pk, op->id, ENTRY_ID_LEN);
		mp_pack_str(pk, entry_kind_name(op->kind));
	}
}

static int val_eq(const msgpack_object *a, const msgpack_object *b)
{
	if (!a || !b)
		return a == b;
	return mp_object_equal(a, b);
}

/*
 * Settle one field. Fills *ret_val (NULL: unset), and when the rule sees
 * a conflict appends it to the conflicts packer and bumps *nconf.
 */
static int settle_field(const struct mat *m, const struct schema_field *f,
			const char *skip, const msgpack_object **ret_val,
			msgpack_packer *cpk, size_t *nconf, int pack)
{
	size_t n = m->n;
	char *w = calloc(n, 1);
	struct cand *c = malloc((n + 1) * sizeof(*c) * 2);
	size_t nc = 0;
	int conflict = 0, r = 0;

	*ret_val = NULL;
	if (!w || !c) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((m->ops[i].op.kind == ENTRY_DELETE && !skip[i]) ||
		    (m->ops[i].op.kind == ENTRY_PUT && op_value(&m->ops[i], f->name)))
			w[i] = 1;
	/* maximal writers: no other writer descends from them */
	for (size_t i = 0; i < n; i++) {
		if (!w[i])
			continue;
		int sup = 0;
		for (size_t j = 0; j < n && !sup; j++)
			if (j != i && w[j] && anc_has(m, j, i))
				sup = 1;
		if (sup || m->ops[i].op.kind != ENTRY_PUT)
			continue;
		c[nc].op = (int)i;
		c[nc++].val = op_value(&m->ops[i], f->name);
	}
	if (nc == 0)
		goto out;
	/* winner by (hlc, author, id) */
	size_t win = 0;
	for (size_t i = 1; i < nc; i++)
		if (op_cmp(&m->ops[c[i].op].op, &m->ops[c[win].op].op) > 0)
			win = i;
	*ret_val = c[win].val;
	if (ret_val[0] && ret_val[0]->type == MSGPACK_OBJECT_NIL)
		*ret_val = NULL;

	int distinct = 0;
	for (size_t i = 0; i < nc && !distinct; i++)
		for (size_t j = 0; j < i; j++)
			if (!val_eq(c[i].val, c[j].val)) {
				distinct = 1;
				break;
			}
	switch (f->rule) {
	case MR_LWW:
		break;
	case MR_MV:
		conflict = distinct;
		break;
	case MR_IMMUTABLE: {
		conflict = distinct;
		/*
		 * Set once: a writer whose value matches none of its nearest
		 * earlier writers changed the value, which is a conflict too
		 * (and those writers join the candidates). A resolution that
		 * picks one of the conflicting values matches one of them.
		 */
		size_t base = nc;
		for (size_t k = 0; k < base; k++) {
			size_t i = (size_t)c[k].op;
			int nearest = 0, same = 0;
			size_t mark = nc;
			for (size_t a = 0; a < n; a++) {
				if (!w[a] || !anc_has(m, i, a) ||
				    m->ops[a].op.kind != ENTRY_PUT)
					continue;
				int nearer = 0;
				for (size_t b = 0; b < n && !nearer; b++)
					if (b != a && w[b] && anc_has(m, i, b) &&
					    anc_has(m, b, a))
						nearer = 1;
				if (nearer)
					continue;
				const msgpack_object *av =
					op_value(&m->ops[a], f->name);
				nearest++;
				if (val_eq(av, c[k].val)) {
					same = 1;
					continue;
				}
				int seen = 0;
				for (size_t q = 0; q < nc; q++)
					if (c[q].op == (int)a)
						seen = 1;
				if (!seen && nc < 2 * (n + 1)) {
					c[nc].op = (int)a;
					c[nc++].val = av;
				}
			}
			if (nearest && !same)
				conflict = 1;
			else
				nc = nc > mark ? mark : nc; /* not shown */
		}
		break;
	}
	case MR_STATE: {
		/* keep the values no other candidate's value follows */
		int undominated = 0, first = -1, multi = 0;
		for (size_t i = 0; i < nc; i++) {
			const msgpack_object *vi = c[i].val;
			int dom = 0;
			for (size_t j = 0; j < nc && !dom; j++) {
				const msgpack_object *vj = c[j].val;
				if (j == i || !vi || !vj ||
				    vi->type != MSGPACK_OBJECT_STR ||
				    vj->type != MSGPACK_OBJECT_STR)
					continue;
				if (schema_state_follows(f, vi->via.str.ptr,
							 vi->via.str.size,
							 vj->via.str.ptr,
							 vj->via.str.size))
					dom = 1;
			}
			if (dom)
				continue;
			undominated++;
			if (first < 0)
				first = (int)i;
			else if (!val_eq(c[first].val, vi))
				multi = 1;
			else if (op_cmp(&m->ops[c[i].op].op,
					&m->ops[c[first].op].op) > 0)
				first = (int)i;
		}
		if (!multi && first >= 0) {
			*ret_val = c[first].val;
			if (*ret_val && (*ret_val)->type == MSGPACK_OBJECT_NIL)
				*ret_val = NULL;
		} else {
			conflict = 1;
			/* show the newest of the undominated values */
			int best = -1;
			for (size_t i = 0; i < nc; i++) {
				int dom = 0;
				for (size_t j = 0; j < nc && !dom; j++)
					if (j != i && c[i].val && c[j].val &&
					    c[i].val->type == MSGPACK_OBJECT_STR &&
					    c[j].val->type == MSGPACK_OBJECT_STR &&
					    schema_state_follows(
						    f, c[i].val->via.str.ptr,
						    c[i].val->via.str.size,
						    c[j].val->via.str.ptr,
						    c[j].val->via.str.size))
						dom = 1;
				if (!dom && (best < 0 ||
					     op_cmp(&m->ops[c[i].op].op,
						    &m->ops[c[best].op].op) > 0))
					best = (int)i;
			}
			if (best >= 0)
				*ret_val = c[best].val;
		}
		(void)undominated;
		break;
	}
	}
	if (conflict) {
		(*nconf)++;
		if (pack) {
			msgpack_pack_array(cpk, 3);
			mp_pack_str(cpk, f->name);
			mp_pack_str(cpk, schema_rule_name(f->rule));
			pack_cands(cpk, m, c, nc);
		}
	}
out:
	free(w);
	free(c);
	return r;
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

int record_materialize(struct store_txn *t, const char *coll, const char *id)
{
	const struct schema *s = schema_find(coll);
	struct mat m = { .t = t };
	struct mp_writer sw, cw;
	const msgpack_object *vals[SCHEMA_MAX_FIELDS];
	uint8_t key[RECORD_KEY_MAX];
	uint8_t ukey[RECORD_KEY_MAX + 17];
	uint8_t newu[16];
	int has_newu = 0, r;
	size_t nconf = 0, kl;
	struct record_view old;
	int had_old = 0;

	if (!s)
		return HAMLET_ECOLLECTION;
	mp_writer_init(&sw);
	mp_writer_init(&cw);
	if ((r = record_ops_each(t, coll, id, mat_add, &m)) < 0)
		goto out;
	kl = record_key(coll, id, key);
	if (m.n == 0) {
		r = 0;
		goto out;
	}
	if ((r = mat_graph(&m)) < 0 || (r = mat_bodies(&m)) < 0)
		goto out;

	/* heads: ops nothing descends from */
	int *heads = malloc(m.n * sizeof(int));
	size_t nh = 0, nput = 0, ndel = 0;
	if (!heads) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m.n; i++) {
		int sup = 0;
		for (size_t j = 0; j < m.n && !sup; j++)
			if (j != i && anc_has(&m, j, i))
				sup = 1;
		if (sup)
			continue;
		heads[nh++] = (int)i;
		if (m.ops[i].op.kind == ENTRY_DELETE)
			ndel++;
		else
			nput++;
	}
	int deleted = nput == 0;

	/*
	 * A delete concurrent with a live update does not erase the fields
	 * the update left alone: until the conflict is resolved the record
	 * shows everything it had (update versus delete is never silent loss).
	 */
	char *skip = calloc(m.n, 1);
	if (!skip) {
		free(heads);
		r = -ENOMEM;
		goto out;
	}
	if (nput && ndel)
		for (size_t i = 0; i < nh; i++)
			if (m.ops[heads[i]].op.kind == ENTRY_DELETE)
				skip[heads[i]] = 1;

	/* conflicts are packed into cw first, counted in nconf */
	if (nput && ndel) {
		struct cand *hc = malloc(nh * sizeof(*hc));
		if (!hc) {
			free(heads);
			free(skip);
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < nh; i++) {
			hc[i].op = heads[i];
			hc[i].val = NULL;
		}
		msgpack_pack_array(&cw.pk, 3);
		mp_pack_str(&cw.pk, "");
		mp_pack_str(&cw.pk, "delete");
		pack_cands(&cw.pk, &m, hc, nh);
		free(hc);
		nconf++;
	}
	for (size_t fi = 0; fi < s->nfields; fi++) {
		vals[fi] = NULL;
		if (deleted)
			continue;
		if ((r = settle_field(&m, &s->fields[fi], skip, &vals[fi],
				      &cw.pk, &nconf, 1)) < 0) {
			free(heads);
			free(skip);
			goto out;
		}
	}
	free(skip);

	/* unique key */
	if (!deleted && s->unique) {
		struct mp_writer uw;
		int complete = 1;
		mp_writer_init(&uw);
		for (const int *u = s->unique; *u >= 0; u++)
			if (!vals[*u])
				complete = 0;
		if (complete) {
			size_t nu = 0;
			for (const int *u = s->unique; *u >= 0; u++)
				nu++;
			msgpack_pack_array(&uw.pk, nu);
			for (const int *u = s->unique; *u >= 0; u++)
				mp_pack_object(&uw.pk, vals[*u]);
			crypto_generichash_blake2b(newu, 16,
						   (const uint8_t *)uw.sb.data,
						   uw.sb.size, NULL, 0);
			has_newu = 1;
		}
		mp_writer_destroy(&uw);
	}

	/* the state */
	msgpack_packer *pk = &sw.pk;
	msgpack_pack_array(pk, 8);
	msgpack_pack_uint64(pk, STATE_VERSION);
	if (deleted)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	{
		uint8_t(*hid)[ENTRY_ID_LEN] = malloc(nh * ENTRY_ID_LEN + 1);
		if (!hid) {
			free(heads);
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < nh; i++)
			memcpy(hid[i], m.ops[heads[i]].op.id, ENTRY_ID_LEN);
		qsort(hid, nh, ENTRY_ID_LEN, cmp_id);
		msgpack_pack_array(pk, nh);
		for (size_t i = 0; i < nh; i++)
			mp_pack_bin(pk, hid[i], ENTRY_ID_LEN);
		free(hid);
	}
	free(heads);
	size_t nf = 0;
	for (size_t fi = 0; fi < s->nfields; fi++)
		if (vals[fi])
			nf++;
	msgpack_pack_map(pk, nf);
	for (size_t fi = 0; fi < s->nfields; fi++) {
		if (!vals[fi])
			continue;
		mp_pack_str(pk, s->fields[fi].name);
		mp_pack_object(pk, vals[fi]);
	}
	msgpack_pack_array(pk, nconf);
	/* the conflict entries were packed apart; append their bytes as is */
	msgpack_pack_str_body(pk, cw.sb.data, cw.sb.size);
	uint64_t newest = 0;
	for (size_t i = 0; i < m.n; i++)
		if (m.ops[i].op.hlc > newest)
			newest = m.ops[i].op.hlc;
	msgpack_pack_uint64(pk, newest);
	msgpack_pack_uint64(pk, m.n);
	if (has_newu)
		mp_pack_bin(pk, newu, 16);
	else
		msgpack_pack_nil(pk);

	/* replace the derived rows */
	if (record_view_load(t, coll, id, &old) == 0)
		had_old = 1;
	if (had_old && old.has_uniq &&
	    (!has_newu || memcmp(old.uniq, newu, 16) != 0)) {
		int ul = uniq_key(coll, old.uniq, id, ukey);
		r = store_del(t, ST_UNIQ, ukey, (size_t)ul);
		if (r < 0 && r != HAMLET_ENOTFOUND) {
			record_view_close(&old);
			goto out;
		}
	}
	if (had_old)
		record_view_close(&old);
	if (has_newu) {
		int ul = uniq_key(coll, newu, id, ukey);
		if ((r = store_put(t, ST_UNIQ, ukey, (size_t)ul, "", 0, 0)) < 0)
			goto out;
	}
	if ((r = store_put(t, ST_RECORDS, key, kl, sw.sb.data, sw.sb.size,
			   0)) < 0)
		goto out;
	if (nconf) {
		uint8_t one = (uint8_t)(nconf > 255 ? 255 : nconf);
		r = store_put(t, ST_CONFLICTS, key, kl, &one, 1, 0);
	} else {
		r = store_del(t, ST_CONFLICTS, key, kl);
		if (r == HAMLET_ENOTFOUND)
			r = 0;
	}
out:
	mp_writer_destroy(&sw);
	mp_writer_destroy(&cw);
	mat_free(&m);
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
	if ((r = mp_doc_parse(&ret->doc, v, vl, RECORD_MAX_OPS * 4)) < 0)
		return HAMLET_ECORRUPT;
	if (mp_get_array(ret->doc.root, 8, 0, &f, NULL) < 0 ||
	    mp_get_uint(&f[0], 255, &ver) < 0 || ver != STATE_VERSION ||
	    mp_get_bool(&f[1], &ret->deleted) < 0 ||
	    f[2].type != MSGPACK_OBJECT_ARRAY ||
	    f[3].type != MSGPACK_OBJECT_MAP ||
	    f[4].type != MSGPACK_OBJECT_ARRAY ||
	    mp_get_uint(&f[5], UINT64_MAX, &ret->hlc) < 0 ||
	    mp_get_uint(&f[6], UINT64_MAX, &ret->nops) < 0) {
		mp_doc_close(&ret->doc);
		return HAMLET_ECORRUPT;
	}
	ret->heads = &f[2];
	ret->fields = &f[3];
	ret->conflicts = &f[4];
	if (!mp_is_nil(&f[7])) {
		if (mp_get_bin_fixed(&f[7], 16, ret->uniq) < 0) {
			mp_doc_close(&ret->doc);
			return HAMLET_ECORRUPT;
		}
		ret->has_uniq = 1;
	}
	return 0;
}

void record_view_close(struct record_view *v)
{
	if (v)
		mp_doc_close(&v->doc);
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
	/* duplicates: runs of equal (collection, key hash) in the index */
	if ((r = store_cursor_open(t, ST_UNIQ, &c)) < 0)
		goto out;
	uint8_t prev[RECORD_KEY_MAX + 17];
	size_t prevl = 0;
	char prev_id[ENTRY_MAX_RECORD_ID + 1] = "";
	int prev_listed = 0;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, NULL, NULL); r == 1;
	     r = store_cursor_next(c, &k, &kl, NULL, NULL)) {
		const uint8_t *p = k;
		const uint8_t *z = memchr(p, 0, kl);
		if (!z || kl < (size_t)(z - p) + 17)
			continue;
		size_t gl = (size_t)(z - p) + 17;
		size_t il = kl - gl;
		if (il > ENTRY_MAX_RECORD_ID || gl - 17 > ENTRY_MAX_COLLECTION)
			continue;
		memcpy(coll, p, gl - 17);
		coll[gl - 17] = 0;
		memcpy(id, p + gl, il);
		id[il] = 0;
		if (prevl == gl && memcmp(prev, p, gl) == 0) {
			if (!prev_listed &&
			    (r = idlist_add(&l, coll, prev_id)) < 0)
				goto out;
			prev_listed = 1;
			if ((r = idlist_add(&l, coll, id)) < 0)
				goto out;
		} else {
			memcpy(prev, p, gl);
			prevl = gl;
			prev_listed = 0;
		}
		strcpy(prev_id, id);
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
		if ((r = cb(ctx, l.keys[i], slash + 1)) < 0)
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

int record_digest(struct store_txn *t, uint8_t ret[32], uint64_t *ret_count)
{
	crypto_generichash_blake2b_state h;
	struct store_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl;
	uint64_t n = 0;
	int r;

	crypto_generichash_blake2b_init(&h, (const uint8_t *)"hamlet/digest/v1",
					16, 32);
	if ((r = store_cursor_open(t, ST_RECORDS, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		uint8_t len[8];
		store_be64(len, kl);
		crypto_generichash_blake2b_update(&h, len, 8);
		crypto_generichash_blake2b_update(&h, k, kl);
		store_be64(len, vl);
		crypto_generichash_blake2b_update(&h, len, 8);
		crypto_generichash_blake2b_update(&h, v, vl);
		n++;
	}
	store_cursor_close(c);
	if (r < 0)
		return r;
	crypto_generichash_blake2b_final(&h, ret, 32);
	if (ret_count)
		*ret_count = n;
	return 0;
}
