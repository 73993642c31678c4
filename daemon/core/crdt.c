#include "crdt.h"

#include "mp.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MEM_BLOCK 4096 /* a record of up to about 5 ops settles within it */

struct crdt_graph {
	const struct crdt_op *ops;
	size_t n, words;
	uint64_t *anc; /* n bitsets of words each: row i holds i's ancestors */
};

/* --- memory ------------------------------------------------------------ */

/* count * size bytes (zeroed when zero) from m's block, or on their own
 * when the block has no room; NULL when out of memory. */
static void *mem_get(struct crdt_mem *m, size_t count, size_t size, int zero)
{
	size_t n, a;
	void *p;

	if (size && count > SIZE_MAX / size)
		return NULL;
	n = count * size;
	a = (n + 15) & ~(size_t)15;
	if (m->base && n && a >= n && a <= m->cap - m->used) {
		p = m->base + m->used;
		m->used += a;
		if (zero)
			memset(p, 0, n);
		return p;
	}
	return zero ? calloc(count ? count : 1, size ? size : 1)
		    : malloc(n ? n : 1);
}

/* Free p, unless m's block holds it (the block goes as a whole). */
static void mem_put(struct crdt_mem *m, void *p)
{
	uintptr_t q = (uintptr_t)p, b = (uintptr_t)m->base;
	if (p && !(m->base && q >= b && q < b + m->cap))
		free(p);
}

static inline int bit_has(const uint64_t *set, size_t j)
{
	return (set[j / 64] >> (j % 64)) & 1;
}

static inline int anc_has(const struct crdt_graph *g, size_t i, size_t j)
{
	return bit_has(g->anc + i * g->words, j);
}

int crdt_descends(const struct crdt_record *r, size_t i, size_t j)
{
	if (!r->g || i >= r->g->n || j >= r->g->n)
		return 0;
	return anc_has(r->g, i, j);
}

int crdt_op_cmp(const struct crdt_op *a, const struct crdt_op *b)
{
	if (a->hlc != b->hlc)
		return a->hlc > b->hlc ? 1 : -1;
	int c = memcmp(a->author, b->author, ENTRY_KEY_LEN);
	if (c)
		return c;
	return memcmp(a->id, b->id, ENTRY_ID_LEN);
}

const msgpack_object *crdt_op_value(const struct crdt_op *op,
				    const char *name)
{
	size_t nl = strlen(name);
	if (op->kind != ENTRY_PUT || !op->fields)
		return NULL;
	for (size_t i = 0; i < op->nfields; i++) {
		const msgpack_object *k = &op->fields[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == nl &&
		    memcmp(k->via.str.ptr, name, nl) == 0)
			return &op->fields[i].val;
	}
	return NULL;
}

static int val_eq(const msgpack_object *a, const msgpack_object *b)
{
	if (!a || !b)
		return a == b;
	return mp_object_equal(a, b);
}

/* A nil value clears the field: shown as unset. */
static const msgpack_object *shown(const msgpack_object *v)
{
	return v && v->type == MSGPACK_OBJECT_NIL ? NULL : v;
}

/* --- the causal graph -------------------------------------------------- */

static int cmp_idx(const void *a, const void *b, void *ctx)
{
	const struct crdt_op *ops = ctx;
	return memcmp(ops[*(const size_t *)a].id, ops[*(const size_t *)b].id,
		      ENTRY_ID_LEN);
}

static long find_op(const struct crdt_op *ops, const size_t *sorted,
		    size_t n, const uint8_t id[ENTRY_ID_LEN])
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(ops[sorted[mid]].id, id, ENTRY_ID_LEN);
		if (c == 0)
			return (long)sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void graph_free(struct crdt_mem *m, struct crdt_graph *g)
{
	if (!g)
		return;
	mem_put(m, g->anc);
	mem_put(m, g);
}

/*
 * One pass: every op whose deps are all done inherits their ancestors.
 * Returns whether anything was done; *left says something still waits.
 */
static int graph_pass(struct crdt_graph *g, const long *dep, char *done,
		      int *left)
{
	int progress = 0;
	*left = 0;
	for (size_t i = 0; i < g->n; i++) {
		const long *di = dep + i * ENTRY_MAX_DEPS;
		size_t nd = g->ops[i].ndeps;
		int ready = 1;
		if (done[i])
			continue;
		for (size_t d = 0; d < nd; d++)
			if (di[d] >= 0 && (size_t)di[d] != i && !done[di[d]])
				ready = 0;
		if (!ready) {
			*left = 1;
			continue;
		}
		uint64_t *a = g->anc + i * g->words;
		for (size_t d = 0; d < nd; d++) {
			if (di[d] < 0 || (size_t)di[d] == i)
				continue;
			size_t j = (size_t)di[d];
			const uint64_t *b = g->anc + j * g->words;
			for (size_t w = 0; w < g->words; w++)
				a[w] |= b[w];
			a[j / 64] |= 1ull << (j % 64);
		}
		done[i] = 1;
		progress = 1;
	}
	return progress;
}

static int graph_build(struct crdt_mem *m, const struct crdt_op *ops,
		       size_t n, struct crdt_graph **ret)
{
	struct crdt_graph *g = mem_get(m, 1, sizeof(*g), 1);
	size_t *sorted = NULL;
	long *dep = NULL;
	char *done = NULL;
	int r = -ENOMEM, left;

	if (!g)
		return -ENOMEM;
	g->ops = ops;
	g->n = n;
	g->words = (n + 63) / 64;
	g->anc = mem_get(m, n * g->words + 1, sizeof(uint64_t), 1);
	sorted = mem_get(m, n + 1, sizeof(*sorted), 0);
	dep = mem_get(m, n * ENTRY_MAX_DEPS + 1, sizeof(*dep), 0);
	done = mem_get(m, n + 1, 1, 1);
	if (!g->anc || !sorted || !dep || !done)
		goto out;
	for (size_t i = 0; i < n; i++)
		sorted[i] = i;
	if (n > 1)
		qsort_r(sorted, n, sizeof(*sorted), cmp_idx, (void *)ops);
	for (size_t i = 0; i < n; i++)
		for (size_t d = 0; d < ops[i].ndeps; d++)
			dep[i * ENTRY_MAX_DEPS + d] =
				find_op(ops, sorted, n, ops[i].deps[d]);
	/*
	 * Ancestors, to a fixpoint. Ops usually come sorted by HLC, so one
	 * pass mostly does it; n passes always do (an op dated before its
	 * deps just waits a pass).
	 */
	for (size_t pass = 0; pass <= n; pass++)
		if (!graph_pass(g, dep, done, &left) || !left)
			break;
	*ret = g;
	g = NULL;
	r = 0;
out:
	mem_put(m, sorted);
	mem_put(m, dep);
	mem_put(m, done);
	graph_free(m, g);
	return r;
}

/* OR of the ancestor rows of the ops sel picks (all when sel is NULL)
 * into s, g->words words: the ops some selected op descends from. */
static void superseded_into(const struct crdt_graph *g, const char *sel,
			    uint64_t *s)
{
	memset(s, 0, g->words * sizeof(uint64_t));
	for (size_t i = 0; i < g->n; i++) {
		if (sel && !sel[i])
			continue;
		const uint64_t *a = g->anc + i * g->words;
		for (size_t w = 0; w < g->words; w++)
			s[w] |= a[w];
	}
}

static uint64_t *superseded(struct crdt_mem *m, const struct crdt_graph *g,
			   const char *sel)
{
	uint64_t *s = mem_get(m, g->words + 1, sizeof(uint64_t), 1);
	if (s)
		superseded_into(g, sel, s);
	return s;
}

/* --- merge rules ------------------------------------------------------- */

/* What a rule sees: the field's candidates and display winner, filled. */
struct settle {
	const struct crdt_graph *g;
	const struct schema_field *f;
	const char *writer; /* writer[i]: op i sets the field or deletes */
	struct crdt_field *fs;
	size_t cap; /* room in fs->cands */
};

static int cands_distinct(const struct crdt_field *fs)
{
	for (size_t i = 0; i < fs->ncands; i++)
		for (size_t j = 0; j < i; j++)
			if (!val_eq(fs->cands[i].val, fs->cands[j].val))
				return 1;
	return 0;
}

/* lww: the newest candidate (the display winner) silently wins. */
static void rule_lww(struct settle *x)
{
	(void)x;
}

/* mv: different concurrent values stay a conflict until resolved. */
static void rule_mv(struct settle *x)
{
	x->fs->conflict = cands_distinct(x->fs);
}

static int cand_listed(const struct crdt_field *fs, size_t op)
{
	for (size_t q = 0; q < fs->ncands; q++)
		if (fs->cands[q].op == op)
			return 1;
	return 0;
}

/* 1 when put a is one of the nearest writers before op i: no writer
 * between them. */
static int nearest_writer(const struct settle *x, size_t i, size_t a)
{
	const struct crdt_graph *g = x->g;
	if (!x->writer[a] || !anc_has(g, i, a) || g->ops[a].kind != ENTRY_PUT)
		return 0;
	for (size_t b = 0; b < g->n; b++)
		if (b != a && x->writer[b] && anc_has(g, i, b) &&
		    anc_has(g, b, a))
			return 0;
	return 1;
}

/*
 * immutable: set once. Different concurrent values conflict, and so does
 * a candidate whose value matches none of its nearest earlier writers (a
 * sequential change); those writers join the candidates. A resolution
 * that picks one of the conflicting values matches one of them.
 */
static void rule_immutable(struct settle *x)
{
	struct crdt_field *fs = x->fs;
	size_t base = fs->ncands;

	fs->conflict = cands_distinct(fs);
	for (size_t k = 0; k < base; k++) {
		size_t i = fs->cands[k].op, mark = fs->ncands;
		int nearest = 0, same = 0;
		for (size_t a = 0; a < x->g->n; a++) {
			if (!nearest_writer(x, i, a))
				continue;
			const msgpack_object *av =
				crdt_op_value(&x->g->ops[a], x->f->name);
			nearest++;
			if (val_eq(av, fs->cands[k].val)) {
				same = 1;
				continue;
			}
			if (!cand_listed(fs, a) && fs->ncands < x->cap)
				fs->cands[fs->ncands++] =
					(struct crdt_cand){ a, av };
		}
		if (nearest && !same)
			fs->conflict = 1;
		else if (fs->ncands > mark)
			fs->ncands = mark; /* agreed: not shown */
	}
}

/* 1 when another candidate's state follows candidate i's. */
static int state_dominated(const struct schema_field *f,
			   const struct crdt_field *fs, size_t i)
{
	const msgpack_object *vi = fs->cands[i].val;
	if (!vi || vi->type != MSGPACK_OBJECT_STR)
		return 0;
	for (size_t j = 0; j < fs->ncands; j++) {
		const msgpack_object *vj = fs->cands[j].val;
		if (j == i || !vj || vj->type != MSGPACK_OBJECT_STR)
			continue;
		if (schema_state_follows(f, vi->via.str.ptr, vi->via.str.size,
					 vj->via.str.ptr, vj->via.str.size))
			return 1;
	}
	return 0;
}

/*
 * state: concurrent states merge to the one that follows the others in
 * the declared order; two states neither of which follows the other
 * (confirmed, failed) conflict, showing the newest.
 */
static void rule_state(struct settle *x)
{
	struct crdt_field *fs = x->fs;
	const struct crdt_op *ops = x->g->ops;
	long first = -1, best = -1;
	int multi = 0;

	for (size_t i = 0; i < fs->ncands; i++) {
		if (state_dominated(x->f, fs, i))
			continue;
		if (best < 0 || crdt_op_cmp(&ops[fs->cands[i].op],
					    &ops[fs->cands[best].op]) > 0)
			best = (long)i;
		if (first < 0)
			first = (long)i;
		else if (!val_eq(fs->cands[first].val, fs->cands[i].val))
			multi = 1;
	}
	if (best >= 0)
		fs->value = fs->cands[best].val;
	fs->conflict = multi;
}

typedef void (*rule_fn)(struct settle *x);

static const rule_fn rules[] = {
	[MR_LWW] = rule_lww,
	[MR_MV] = rule_mv,
	[MR_IMMUTABLE] = rule_immutable,
	[MR_STATE] = rule_state,
};

static int cand_cmp_desc(const void *a, const void *b, void *ctx)
{
	const struct crdt_op *ops = ctx;
	const struct crdt_cand *x = a, *y = b;
	return -crdt_op_cmp(&ops[x->op], &ops[y->op]);
}

/*
 * Settle one field: its writers are the puts naming it and the deletes
 * (but skip[i] ones); the candidates are the writers no other writer
 * descends from; the field's rule decides among them.
 */
#define SMALL_OPS 128 /* a record of at most this many ops settles each
			* field without allocating but for its candidates */

static int settle_field(struct crdt_mem *m, const struct crdt_graph *g,
			const struct schema_field *f, const char *skip,
			struct crdt_field *fs)
{
	const struct crdt_op *ops = g->ops;
	char wbuf[SMALL_OPS];
	uint64_t supbuf[SMALL_OPS / 64];
	int small = g->n <= SMALL_OPS;
	char *w = small ? wbuf : mem_get(m, g->n + 1, 1, 1);
	uint64_t *sup = small ? supbuf : NULL;
	struct settle x = { g, f, w, fs, 2 * (g->n + 1) };
	size_t win = 0, nw = 0;
	int r = -ENOMEM;

	memset(fs, 0, sizeof(*fs));
	if (!w)
		goto out;
	for (size_t i = 0; i < g->n; i++) {
		w[i] = (ops[i].kind == ENTRY_DELETE && !skip[i]) ||
		       crdt_op_value(&ops[i], f->name) != NULL;
		nw += w[i] != 0;
	}
	r = 0;
	if (nw == 0)
		goto out; /* nobody wrote it: unset, no candidates */
	r = -ENOMEM;
	if (!(fs->cands = mem_get(m, x.cap, sizeof(*fs->cands), 0)))
		goto out;
	if (small)
		superseded_into(g, w, sup);
	else if (!(sup = superseded(m, g, w)))
		goto out;
	for (size_t i = 0; i < g->n; i++)
		if (w[i] && !bit_has(sup, i) && ops[i].kind == ENTRY_PUT)
			fs->cands[fs->ncands++] = (struct crdt_cand){
				i, crdt_op_value(&ops[i], f->name)
			};
	r = 0;
	if (fs->ncands == 0)
		goto out;
	for (size_t i = 1; i < fs->ncands; i++)
		if (crdt_op_cmp(&ops[fs->cands[i].op],
				&ops[fs->cands[win].op]) > 0)
			win = i;
	fs->value = fs->cands[win].val;
	rules[f->rule](&x);
	fs->value = shown(fs->value);
	if (fs->ncands > 1)
		qsort_r(fs->cands, fs->ncands, sizeof(*fs->cands),
			cand_cmp_desc, (void *)ops);
out:
	if (!small) {
		mem_put(m, w);
		mem_put(m, sup);
	}
	return r;
}

/* --- records ----------------------------------------------------------- */

/* The heads: ops nothing descends from, in entry id order. */
static int find_heads(struct crdt_record *r)
{
	const struct crdt_graph *g = r->g;
	uint64_t *sup = superseded(&r->mem, g, NULL);
	int rc = -ENOMEM;

	r->heads = mem_get(&r->mem, g->n + 1, sizeof(*r->heads), 0);
	if (!sup || !r->heads)
		goto out;
	for (size_t i = 0; i < g->n; i++)
		if (!bit_has(sup, i))
			r->heads[r->nheads++] = i;
	if (r->nheads > 1)
		qsort_r(r->heads, r->nheads, sizeof(*r->heads), cmp_idx,
			(void *)g->ops);
	rc = 0;
out:
	mem_put(&r->mem, sup);
	return rc;
}

/*
 * Heads of both kinds: the record is not deleted, and it is an
 * update-versus-delete conflict whose candidates are the heads. The
 * concurrent deletes erase nothing while it is open (skip marks them):
 * silent loss is worse than a question.
 */
static int removal_conflict(struct crdt_record *r, char *skip)
{
	struct crdt_field *fs = &r->removal;
	const struct crdt_op *ops = r->g->ops;

	fs->cands = mem_get(&r->mem, r->nheads + 1, sizeof(*fs->cands), 0);
	if (!fs->cands)
		return -ENOMEM;
	for (size_t i = 0; i < r->nheads; i++) {
		size_t h = r->heads[i];
		fs->cands[fs->ncands++] = (struct crdt_cand){ h, NULL };
		if (ops[h].kind == ENTRY_DELETE)
			skip[h] = 1;
	}
	qsort_r(fs->cands, fs->ncands, sizeof(*fs->cands), cand_cmp_desc,
		(void *)ops);
	fs->conflict = 1;
	r->nconflicts++;
	return 0;
}

int crdt_record_settle(const struct crdt_op *ops, size_t n,
		       const struct schema *s, struct crdt_record *ret)
{
	struct crdt_record r = { 0 };
	size_t nput = 0, ndel = 0;
	char *skip = NULL;
	int rc = -ENOMEM;

	if (!(r.mem.base = malloc(MEM_BLOCK)))
		goto out;
	r.mem.cap = MEM_BLOCK;
	if (!(skip = mem_get(&r.mem, n + 1, 1, 1)))
		goto out;
	r.nfields = s->nfields;
	if ((rc = graph_build(&r.mem, ops, n, &r.g)) < 0 ||
	    (rc = find_heads(&r)) < 0)
		goto out;
	for (size_t i = 0; i < r.nheads; i++) {
		if (ops[r.heads[i]].kind == ENTRY_DELETE)
			ndel++;
		else
			nput++;
	}
	r.deleted = nput == 0;
	if (nput && ndel && (rc = removal_conflict(&r, skip)) < 0)
		goto out;
	for (size_t fi = 0; fi < s->nfields && !r.deleted; fi++) {
		if ((rc = settle_field(&r.mem, r.g, &s->fields[fi], skip,
				       &r.fields[fi])) < 0)
			goto out;
		if (r.fields[fi].conflict)
			r.nconflicts++;
	}
	for (size_t i = 0; i < n; i++)
		if (ops[i].hlc > r.newest)
			r.newest = ops[i].hlc;
	mem_put(&r.mem, skip);
	skip = NULL;
	*ret = r;
	memset(&r, 0, sizeof(r));
	rc = 0;
out:
	mem_put(&r.mem, skip);
	crdt_record_close(&r);
	return rc;
}

void crdt_record_close(struct crdt_record *r)
{
	if (!r)
		return;
	graph_free(&r->mem, r->g);
	mem_put(&r->mem, r->heads);
	mem_put(&r->mem, r->removal.cands);
	for (size_t i = 0; i < SCHEMA_MAX_FIELDS; i++)
		mem_put(&r->mem, r->fields[i].cands);
	free(r->mem.base);
	memset(r, 0, sizeof(*r));
}
