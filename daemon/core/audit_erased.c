/*
 * audit: bodies an erasure should have deleted. A node deletes the body
 * of every entry an erasure it holds reaches, and never stores it again
 * (proto/SPEC.md section 1.6). The auditor trusts no index: the erasures
 * are the signed erase entries the walk of the feeds met, not the
 * `erased` rows a node keeps to find them fast; each one's record is
 * looked up by its op rows, and every entry so found is read back and
 * held to the erasure's record and scope before its body is looked at.
 */
#include "audit_internal.h"

#include "entries.h"
#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int audit__erasure_add(struct audit_erasures *es, const uint8_t *env,
		       size_t env_len)
{
	struct audit_erasure *x;
	struct entry e;

	if (entry_decode(env, env_len, &e, NULL) < 0 || e.kind != ENTRY_ERASE)
		return 0; /* told as a chain break */
	if (es->n == AUDIT_MAX_ERASURES) {
		es->over = 1;
		return 0;
	}
	if (es->n == es->cap) {
		size_t nc = es->cap ? es->cap * 2 : 16;
		struct audit_erasure *nv = realloc(es->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		es->v = nv;
		es->cap = nc;
	}
	x = &es->v[es->n++];
	memcpy(x->coll, e.collection, sizeof(x->coll));
	memcpy(x->id, e.record_id, sizeof(x->id));
	memcpy(x->scope, e.scope, sizeof(x->scope));
	memcpy(x->author, e.author, sizeof(x->author));
	x->seq = e.seq;
	return 0;
}

void audit__erasures_close(struct audit_erasures *es)
{
	free(es->v);
	memset(es, 0, sizeof(*es));
}

static int erasure_cmp(const void *a, const void *b)
{
	const struct audit_erasure *x = a, *y = b;
	int c = strcmp(x->coll, y->coll);
	return c ? c : strcmp(x->id, y->id);
}

/* The erasures of one record, and what is found of it. */
struct erased_ctx {
	struct store_txn *t;
	struct audit_report *rep;
	const struct audit_erasure *v; /* of one record */
	size_t n;
};

/* One op of the record: told when an erasure reaches it and its body is
 * still stored. */
static int op_check(void *ctx, const struct record_op *op)
{
	struct erased_ctx *c = ctx;
	const struct audit_erasure *by = NULL;
	struct entries_row row;
	struct entry e;
	uint8_t id[32];
	char a[17], ea[17];
	int r;

	if (op->kind == ENTRY_ERASE || !op->has_body)
		return 0; /* an erasure keeps its own body (its reason) */
	for (size_t i = 0; i < c->n && !by; i++)
		if (entry_scope_under(op->scope, c->v[i].scope))
			by = &c->v[i];
	if (!by || (r = entries_body_held(c->t, op->lseq)) == 0)
		return 0;
	/* its row missing or damaged: told by the walk, or by the record
	 * check */
	if (r < 0)
		return r == HAMLET_ECORRUPT || r == HAMLET_ENOTFOUND ? 0 : r;
	/* the entry itself, not what the op row says of it */
	if ((r = entries_at(c->t, op->lseq, &row)) < 0)
		return r == HAMLET_ECORRUPT || r == HAMLET_ENOTFOUND ? 0 : r;
	entry_id(row.env, row.env_len, id);
	if (memcmp(id, op->id, 32) != 0 ||
	    entry_decode(row.env, row.env_len, &e, NULL) < 0 ||
	    strcmp(e.collection, by->coll) != 0 ||
	    strcmp(e.record_id, by->id) != 0 ||
	    !entry_scope_under(e.scope, by->scope))
		return 0; /* an op row that is not its entry's: the record
			   * check names it */
	c->rep->erased_bodies++;
	audit__hex8(e.author, a);
	audit__hex8(by->author, ea);
	problems_add(&c->rep->problems, "erased-body",
		     N_("feed %s by %s… seq %llu (%s/%s): its body is still stored, though the erasure by %s… (feed %s seq %llu) reaches it: a node deletes such a body and never stores it again (SPEC 1.6)"),
		     e.scope, a, (unsigned long long)e.seq, by->coll, by->id,
		     ea, by->scope, (unsigned long long)by->seq);
	return 0;
}

int audit__erased_check(struct store_txn *t, struct audit_erasures *es,
			struct audit_report *rep)
{
	struct erased_ctx c = { t, rep, NULL, 0 };
	int r = 0;

	if (es->n > 1)
		qsort(es->v, es->n, sizeof(*es->v), erasure_cmp);
	for (size_t i = 0, j; i < es->n; i = j) {
		for (j = i + 1;
		     j < es->n && erasure_cmp(&es->v[i], &es->v[j]) == 0; j++)
			;
		c.v = &es->v[i];
		c.n = j - i;
		r = record_ops_each(t, es->v[i].coll, es->v[i].id, op_check,
				    &c);
		if (r == HAMLET_ECORRUPT || r == HAMLET_ENOTFOUND)
			r = 0; /* a record the record check names */
		if (r < 0)
			return r;
	}
	if (es->over)
		problems_add(&rep->problems, "erased-body",
			     N_("more than %d erasures: the records of those past them were not checked for bodies still stored"),
			     AUDIT_MAX_ERASURES);
	return 0;
}
