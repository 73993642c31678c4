/*
 * hamlet erase COLLECTION ID --reason TEXT [--scope SCOPE]
 * hamlet erase --person PERSON_ID --reason TEXT
 *
 * A person's record erased (SPEC §1.6): a signed entry naming it, by an
 * administrator of its scope. Every node that receives it drops the
 * bodies of the record's entries, now and when they arrive later, and
 * rewrites its store so they are in none of its files; the envelopes
 * stay, so the history still verifies and shows who erased it and why.
 *
 * With --person, every record this node holds whose person_id is the
 * person's (each collection with that field: the profile and the health
 * events) is erased in one write, one erasure per record: all or none
 * when this process writes the store, in order through hamletd. A record
 * whose person_id is in conflict between this person and another (two
 * villages gave one id to two people) is left out and named, with the
 * scoped erasure that takes this person's part alone: erasing it whole
 * would erase the other person's data too, and that cannot be undone.
 */
#include "cli.h"

#include "error.h"
#include "log.h"
#include "schema.h"
#include "utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Records one --person erases in one run; the rest wait for the next. */
#define ERASE_PERSON_MAX 5000

/* The erasure's body, its reason; a usage error when the reason is bad. */
static int reason_body(const char *reason, uint8_t **body, size_t *len)
{
	int r = schema_erase_body(reason, body, len);

	if (r == HAMLET_EFORMAT)
		r = cli_usage_err("erase",
				  _("--reason: give 1-%d bytes of text without control characters"),
				  SCHEMA_MAX_REASON);
	return r;
}

/* --- erase --person ------------------------------------------------------ */

struct person_rec {
	const char *coll; /* the schema's name (static) */
	char *id;
	int deleted; /* deleted before: only its old bodies named the person */
	/* left out (person_id in conflict): where the person's value was
	 * written, "" when not found */
	char scope[ENTRY_MAX_SCOPE + 1];
	/* and another person's ID number was written there too (or under
	 * it): an erasure of that scope would take theirs too */
	int shared;
};

struct person_list {
	struct person_rec *v;
	size_t n, cap;
};

struct person_ctx {
	struct store_txn *t;
	const char *pid;
	size_t pid_len;
	struct person_list m;	 /* to erase */
	struct person_list left; /* person_id in conflict: left out */
	int more; /* matches beyond ERASE_PERSON_MAX */
	struct bodyz_buf zb;
	int hit; /* a body of the deleted record being read named the person,
		  * or (other_under) one under found named another */
	const uint8_t *want;		  /* the op whose scope is looked for */
	char found[ENTRY_MAX_SCOPE + 1]; /* its scope */
};

static int person_is(const struct person_ctx *c, const msgpack_object *o)
{
	return o && o->type == MSGPACK_OBJECT_STR &&
	       o->via.str.size == c->pid_len &&
	       memcmp(o->via.str.ptr, c->pid, c->pid_len) == 0;
}

/* Whose ID number op's body names, into *ret: 1 the person's, 2
 * another's, 0 none (a delete, a body not held or not ours to judge
 * here: verify does). */
static int op_person(struct person_ctx *c, const struct record_op *op,
		     int *ret)
{
	const msgpack_object *p;
	struct mp_doc d;
	const uint8_t *b;
	size_t bl;
	int r;

	*ret = 0;
	if (op->kind != ENTRY_PUT || !op->has_body)
		return 0;
	r = log_body_at(c->t, op->id, op->lseq, &c->zb, &b, &bl);
	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	if (mp_doc_parse(&d, b, bl, SCHEMA_MAX_FIELDS * 2 + 64) < 0)
		return 0;
	p = d.root->type == MSGPACK_OBJECT_MAP ? mp_map_get(d.root, "person_id")
					       : NULL;
	if (p)
		*ret = person_is(c, p) ? 1 : 2;
	mp_doc_close(&d);
	return 0;
}

/* A put of a deleted record whose body names the person. */
static int person_op(void *vctx, const struct record_op *op)
{
	struct person_ctx *c = vctx;
	int whose, r = op_person(c, op, &whose);

	if (whose == 1)
		c->hit = 1;
	return r;
}

/* The scope of the op c->want, into c->found. */
static int person_op_scope(void *vctx, const struct record_op *op)
{
	struct person_ctx *c = vctx;

	if (memcmp(op->id, c->want, ENTRY_ID_LEN) == 0)
		snprintf(c->found, sizeof(c->found), "%s", op->scope);
	return 0;
}

/* A put under c->found whose body names another person's ID number. */
static int other_under(void *vctx, const struct record_op *op)
{
	struct person_ctx *c = vctx;
	int whose, r;

	if (c->hit || !entry_scope_under(op->scope, c->found))
		return 0;
	r = op_person(c, op, &whose);
	if (whose == 2)
		c->hit = 1;
	return r;
}

static int person_add(struct person_ctx *c, struct person_list *l,
		      const char *coll, const char *id, int deleted,
		      const char *scope, int shared)
{
	struct person_rec *x;

	if (c->m.n + c->left.n == ERASE_PERSON_MAX) {
		c->more = 1;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct person_rec *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	x = &l->v[l->n];
	*x = (struct person_rec){ .coll = coll, .id = strdup(id),
				  .deleted = deleted, .shared = shared };
	if (!x->id)
		return -ENOMEM;
	snprintf(x->scope, sizeof(x->scope), "%s", scope);
	l->n++;
	return 0;
}

static void person_list_free(struct person_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].id);
	free(l->v);
}

/*
 * Is record coll/id the person's? Its person_id shown, or one of the
 * values its person_id is in conflict between (then it is left out); a
 * deleted record shows no field, so the bodies it still holds are read.
 * An erased record holds no body to tell whose it was: it is not found
 * again.
 */
static int person_one(void *vctx, const char *coll, const char *id)
{
	struct person_ctx *c = vctx;
	const struct schema *s = schema_find(coll);
	const msgpack_object *a;
	struct record_view v;
	size_t wl;
	int r;

	if (!s)
		return 0;
	if ((r = record_view_load(c->t, coll, id, &v)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	if (v.erased)
		goto out;
	if (v.deleted) {
		c->hit = 0;
		if ((r = record_ops_each(c->t, coll, id, person_op, c)) < 0)
			goto out;
		if (c->hit)
			r = person_add(c, &c->m, s->name, id, 1, "", 0);
		goto out;
	}
	/* a candidate is [value, author, hlc, entry id, kind] */
	a = record_view_conflict(&v, "person_id");
	for (uint32_t i = 0; a && a->type == MSGPACK_OBJECT_ARRAY &&
			     i < a->via.array.size;
	     i++) {
		const msgpack_object *x = &a->via.array.ptr[i];
		if (x->type != MSGPACK_OBJECT_ARRAY || x->via.array.size < 4 ||
		    !person_is(c, &x->via.array.ptr[0]))
			continue;
		c->found[0] = 0;
		if (mp_get_bin(&x->via.array.ptr[3], ENTRY_ID_LEN, &c->want,
			       &wl) == 0 && wl == ENTRY_ID_LEN &&
		    (r = record_ops_each(c->t, coll, id, person_op_scope, c)) < 0)
			goto out;
		/* an erasure of that scope takes every put under it: no
		 * part of this person's alone when another's ID number
		 * was written there too */
		c->hit = 0;
		if (c->found[0] &&
		    (r = record_ops_each(c->t, coll, id, other_under, c)) < 0)
			goto out;
		r = person_add(c, &c->left, s->name, id, 0, c->found, c->hit);
		goto out;
	}
	if (!a && person_is(c, record_view_field(&v, "person_id")))
		r = person_add(c, &c->m, s->name, id, 0, "", 0);
out:
	record_view_close(&v);
	return r;
}

static void person_print(const struct person_ctx *c, const char *reason,
			 const struct log_out *out, int via)
{
	char eid[9];

	if (cli_global.json) {
		json_t *o = json_object(), *a = json_array(), *l = json_array();
		char h[65];
		json_object_set_new(o, "person_id", json_string(c->pid));
		for (size_t i = 0; i < c->m.n; i++) {
			json_t *x = json_object();
			cli_hex(out[i].id, 32, h);
			json_object_set_new(x, "collection",
					    json_string(c->m.v[i].coll));
			json_object_set_new(x, "id", json_string(c->m.v[i].id));
			json_object_set_new(x, "entry", json_string(h));
			json_object_set_new(x, "seq",
					    json_integer((json_int_t)out[i].seq));
			json_object_set_new(x, "was_deleted",
					    json_boolean(c->m.v[i].deleted));
			json_array_append_new(a, x);
		}
		for (size_t i = 0; i < c->left.n; i++) {
			json_t *x = json_object();
			json_object_set_new(x, "collection",
					    json_string(c->left.v[i].coll));
			json_object_set_new(x, "id",
					    json_string(c->left.v[i].id));
			json_object_set_new(x, "scope",
					    c->left.v[i].scope[0] &&
							    !c->left.v[i].shared
						    ? json_string(c->left.v[i].scope)
						    : json_null());
			json_object_set_new(x, "scope_shared",
					    json_boolean(c->left.v[i].shared));
			json_array_append_new(l, x);
		}
		json_object_set_new(o, "erased", a);
		json_object_set_new(o, "count",
				    json_integer((json_int_t)c->m.n));
		json_object_set_new(o, "left_in_conflict", l);
		json_object_set_new(o, "more", json_boolean(c->more));
		json_object_set_new(o, "reason", json_string(reason));
		cli_json_print(o);
		return;
	}
	for (size_t i = 0; i < c->m.n; i++) {
		cli_hex_short(out[i].id, eid);
		printf(_("erased %s/%s (entry %s, seq %llu)"), c->m.v[i].coll,
		       c->m.v[i].id, eid, (unsigned long long)out[i].seq);
		if (c->m.v[i].deleted)
			fputs(_(" - deleted before, its contents still held"),
			      stdout);
		putchar('\n');
	}
	if (c->m.n)
		printf(_("%zu record%s of person %s erased%s.\n"
			 "Their contents are gone from this node's files; each node that receives\n"
			 "the erasures removes them too. Their history still shows who erased them and why.\n"),
		       c->m.n, cli_plural(c->m.n), c->pid,
		       via ? _(" through hamletd") : "");
}

/*
 * The records left out, on stderr (in JSON too: what to run next is for
 * a person), each with the erasure that takes the person's part alone.
 */
static void person_print_left(const struct person_ctx *c)
{
	for (size_t i = 0; i < c->left.n; i++) {
		const struct person_rec *x = &c->left.v[i];
		cli_err(_("not erased: %s/%s holds the ID number of person %s and of another person (a person_id conflict: two people under one id); erased whole, the other person's data would go too"),
			x->coll, x->id, c->pid);
		if (x->shared)
			fprintf(stderr,
				_("  no erasure takes this person's part alone: the other person's ID number was written in the same scope (%s), and an erasure there would take it too. Settle the record first (operator guide, \"One record id, two people\"): once each person has a record of their own, erase this person's\n"),
				x->scope);
		else if (x->scope[0])
			fprintf(stderr,
				_("  erase this person's part alone: %s erase %s %s --scope %s --reason TEXT\n"),
				cli_prog(), x->coll, x->id, x->scope);
		fprintf(stderr,
			_("  who wrote each value: %s history %s %s\n"),
			cli_prog(), x->coll, x->id);
	}
}

/* The reminder after either answer: this node may not hold them all. */
static void person_remind(FILE *f)
{
	fputs(_("Other nodes may hold records of this person that this node does not (a\n"
		"commune holds its villages' records, a village not its neighbours'): run\n"
		"the erasure where all of them are held, at the commune or the province.\n"),
	      f);
}

static int erase_person(const char *pid, const char *reason)
{
	struct person_ctx c = { .pid = pid, .pid_len = strlen(pid) };
	const struct schema *const *all;
	struct node *n = NULL;
	struct log_op *ops = NULL;
	struct log_out *out = NULL;
	struct cli_write_end end = { 0 };
	uint8_t *body = NULL;
	size_t body_len = 0, nall;
	char why[LOG_WHY_MAX] = "";
	int through_daemon = 0, via = 0, r;

	if (c.pid_len == 0 || c.pid_len > SCHEMA_MAX_STR ||
	    utf8_check(pid, c.pid_len, 0, NULL) != UTF8_OK) {
		r = cli_usage_err("erase",
				  _("--person: give the person's ID number (1-%d bytes of text), as the records' person_id holds it"),
				  SCHEMA_MAX_STR);
		goto out;
	}
	if ((r = reason_body(reason, &body, &body_len)) < 0)
		goto out;
	if ((r = cli_node_open(0, &n, &through_daemon)) < 0)
		goto out;
	{
		/* records of the person among the entries a restored store
		 * waits for would come back unerased: the erasure waits */
		struct node_feed_lag lag;
		size_t nb = 0;
		if (node_feeds_behind(n, &lag, 1, &nb) == 0 && nb > 0) {
			cli_err(_("cannot erase the person's records yet: this node signed up to seq %llu in its feed %s before its store was restored or replaced, and the store holds up to seq %llu: records of the person may be among the entries its peers send back, and would come back unerased. Let hamletd sync with them (hamlet status says when the node has its entries back), then erase"),
				(unsigned long long)lag.signed_seq, lag.scope,
				(unsigned long long)lag.stored);
			r = HAMLET_EBEHIND;
			goto out;
		}
	}
	if ((r = cli_txn_read(n, &c.t)) < 0)
		goto out;
	all = schema_all(&nall);
	for (size_t i = 0; i < nall; i++) {
		size_t before = c.m.n + c.left.n;
		if (schema_field_index(all[i], "person_id", 9) < 0)
			continue;
		if ((r = record_each(c.t, all[i]->name, person_one, &c)) < 0) {
			cli_err(_("cannot read the records of %s: %s"),
				all[i]->name, cli_strerror(r));
			goto out;
		}
		/* that the person's health records were read is logged, as
		 * find logs it, before anything of them is shown; by count,
		 * not by the person's ID number, which is being erased */
		if (c.m.n + c.left.n > before &&
		    (r = cli_access("erase --person", all[i]->name, NULL,
				    "person_id", c.m.n + c.left.n - before)) < 0)
			goto out;
	}
	/* the write takes a transaction of its own */
	store_txn_abort(c.t);
	c.t = NULL;
	if (c.m.n == 0 && c.left.n == 0) {
		cli_err(_("no record of person %s is held on this node: nothing left to erase (a record erased already no longer shows whose it was)"),
			pid);
		person_remind(stderr);
		r = HAMLET_ENOTFOUND;
		goto out;
	}
	r = 0;
	if (c.m.n) {
		if (!(ops = calloc(c.m.n, sizeof(*ops))) ||
		    !(out = calloc(c.m.n, sizeof(*out)))) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < c.m.n; i++) {
			ops[i].kind = ENTRY_ERASE;
			ops[i].collection = c.m.v[i].coll;
			ops[i].record_id = c.m.v[i].id;
			ops[i].body = body;
			ops[i].body_len = body_len;
		}
		r = cli_write(n, through_daemon, ops, c.m.n, out, &end, why,
			      sizeof(why), &via);
	}
	if (r < 0) {
		size_t f = end.failed < c.m.n ? end.failed : 0;
		cli_err(_("cannot erase %s/%s: %s"), c.m.v[f].coll,
			c.m.v[f].id, why);
		if (end.stored)
			cli_err(_("the erasures of the first %zu of the person's %zu records were stored; run the command again to erase the rest"),
				end.stored, c.m.n);
		else if (!end.unanswered)
			cli_err(_("nothing was erased: the person's records are erased together or not at all"));
		goto out;
	}
	person_print(&c, reason, out, via);
	fflush(stdout); /* what was erased, then what was not */
	person_print_left(&c);
	if (c.more)
		cli_err(_("only the first %d records of the person were looked at: run the command again to erase the rest"),
			ERASE_PERSON_MAX);
	if (!cli_global.json)
		person_remind(c.left.n || c.more ? stderr : stdout);
	r = c.left.n || c.more ? CLI_EPROBLEMS : 0;
out:
	free(out);
	free(ops);
	person_list_free(&c.m);
	person_list_free(&c.left);
	bodyz_buf_free(&c.zb);
	store_txn_abort(c.t);
	free(body);
	node_close(n);
	return r;
}

/* --- erase COLLECTION ID --------------------------------------------------- */

/*
 * After an erasure of one scope's part: the scopes of the record's puts
 * and deletes no erasure reaches (SPEC §1.6), from which the record
 * stays (live, or deleted with its old contents), into list ("" when the
 * record reads as erased); *deleted 1 when it reads as deleted.
 */
#define REST_MAX 8
struct rest {
	char erase[REST_MAX][ENTRY_MAX_SCOPE + 1]; /* the erasures' scopes */
	char left[REST_MAX][ENTRY_MAX_SCOPE + 1];  /* the rest's */
	size_t nerase, nleft;
	int pass; /* 0: the erasures, 1: the rest */
};

static int scope_in(char (*v)[ENTRY_MAX_SCOPE + 1], size_t n,
		    const char *scope, int under)
{
	for (size_t i = 0; i < n; i++)
		if (under ? entry_scope_under(scope, v[i])
			  : strcmp(scope, v[i]) == 0)
			return 1;
	return 0;
}

static int rest_one(void *ctx, const struct record_op *op)
{
	struct rest *c = ctx;

	if (c->pass == 0 && op->kind == ENTRY_ERASE &&
	    c->nerase < REST_MAX &&
	    !scope_in(c->erase, c->nerase, op->scope, 0))
		snprintf(c->erase[c->nerase++], ENTRY_MAX_SCOPE + 1, "%s",
			 op->scope);
	if (c->pass == 1 &&
	    (op->kind == ENTRY_PUT || op->kind == ENTRY_DELETE) &&
	    c->nleft < REST_MAX &&
	    !scope_in(c->erase, c->nerase, op->scope, 1) &&
	    !scope_in(c->left, c->nleft, op->scope, 0))
		snprintf(c->left[c->nleft++], ENTRY_MAX_SCOPE + 1, "%s",
			 op->scope);
	return 0;
}

static int erase_rest(struct node *n, const char *coll, const char *id,
		      char *list, size_t len, int *deleted)
{
	struct rest *c = calloc(1, sizeof(*c));
	struct store_txn *t = NULL;
	struct record_view v;
	int r;

	list[0] = 0;
	*deleted = 0;
	if (!c)
		return -ENOMEM;
	if ((r = store_txn_begin(n->st, 1, &t)) < 0)
		goto out;
	if ((r = record_view_load(t, coll, id, &v)) < 0)
		goto out;
	*deleted = v.deleted;
	if (!v.erased &&
	    (r = record_ops_each(t, coll, id, rest_one, c)) >= 0) {
		c->pass = 1;
		r = record_ops_each(t, coll, id, rest_one, c);
	}
	record_view_close(&v);
	for (size_t i = 0; r >= 0 && i < c->nleft; i++)
		snprintf(list + strlen(list), len - strlen(list), "%s%s",
			 i ? ", " : "", c->left[i]);
out:
	store_txn_abort(t);
	free(c);
	return r;
}

/* "a, b" as ["a", "b"] */
static json_t *scope_array(const char *list)
{
	json_t *a = json_array();
	const char *p = list, *e;

	for (; a && *p; p = *e ? e + 2 : e) {
		e = strstr(p, ", ");
		if (!e)
			e = p + strlen(p);
		json_array_append_new(a, json_stringn(p, (size_t)(e - p)));
	}
	return a;
}

/* What a scoped erasure left of the record, in plain words. */
static void erase_rest_say(const char *coll, const char *id,
			   const char *rest, int deleted)
{
	char *q = cli_sh_quote(id);
	const char *qid = q ? q : id;

	if (deleted)
		printf(_("The record is NOT erased: its part written in %s, which this erasure does not reach, keeps its earlier contents (it reads as deleted; \"%s history %s %s\" shows them). If you meant to erase the whole record, erase it in every scope: %s erase %s %s --reason TEXT\n"),
		       rest, cli_prog(), coll, qid, cli_prog(), coll, qid);
	else
		printf(_("The record is NOT erased: it stays live from its part written in %s, which this erasure does not reach (\"%s get %s %s\" shows it). If you meant to erase the whole record, erase it in every scope: %s erase %s %s --reason TEXT\n"),
		       rest, cli_prog(), coll, qid, cli_prog(), coll, qid);
	free(q);
}

int cmd_erase(int argc, char **argv)
{
	const char *reason = NULL, *scope = NULL, *person = NULL;
	const struct schema *s;
	struct node *n = NULL;
	int through_daemon = 0, via = 0, npos, r;
	struct log_op op;
	struct log_out out;
	uint8_t *body = NULL;
	size_t body_len = 0;
	char *pos[2], why[LOG_WHY_MAX] = "", eid[9], rest[400] = "";
	int deleted = 0;
	const struct cli_opt opts[] = {
		{ "--reason", &reason, NULL },
		{ "--scope", &scope, NULL },
		{ "--person", &person, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("erase", argc, argv, opts, pos, 2, &npos)) < 0)
		goto out;
	if (person && npos) {
		r = cli_usage_err("erase",
				  _("give either COLLECTION ID (one record) or --person PERSON_ID (every record of a person), not both"));
		goto out;
	}
	if (!person && npos == 0) {
		r = cli_usage_err("erase",
				  _("give COLLECTION ID (one record) or --person PERSON_ID (every record of a person)"));
		goto out;
	}
	if (!person && npos < 2) {
		r = cli_usage_err("erase", _("missing %s"), "ID");
		goto out;
	}
	if (person && scope) {
		r = cli_usage_err("erase",
				  _("--scope is for one record (erase COLLECTION ID --scope SCOPE); with --person each record is erased in every scope it was written in"));
		goto out;
	}
	if (!reason) {
		r = cli_usage_err("erase",
				  _("--reason TEXT is required: say why (the person's request, a court order...); it is signed and kept in the history"));
		goto out;
	}
	if (person) {
		r = erase_person(person, reason);
		goto out;
	}
	if (!(s = cli_schema(pos[0]))) {
		r = HAMLET_ECOLLECTION;
		goto out;
	}
	if ((r = cli_check_id(pos[1])) < 0 ||
	    (scope && (r = cli_check_scope(scope, _("scope"))) < 0))
		goto out;
	if ((r = reason_body(reason, &body, &body_len)) < 0)
		goto out;
	if ((r = cli_node_open(0, &n, &through_daemon)) < 0)
		goto out;
	memset(&op, 0, sizeof(op));
	op.kind = ENTRY_ERASE;
	op.collection = s->name;
	op.record_id = pos[1];
	op.scope = scope;
	op.body = body;
	op.body_len = body_len;
	if ((r = cli_write(n, through_daemon, &op, 1, &out, NULL, why,
			   sizeof(why), &via)) < 0) {
		if (r == HAMLET_ENOTFOUND)
			cli_err(_("%s (it was never written here); check the collection and the id"),
				why);
		else
			cli_err(_("cannot erase %s/%s: %s"), s->name, pos[1], why);
		goto out;
	}
	if (scope && erase_rest(n, s->name, pos[1], rest, sizeof(rest),
				&deleted) < 0)
		rest[0] = 0; /* what is left is not known: said as before */
	if (cli_global.json) {
		json_t *o = json_object();
		char h[65];
		cli_hex(out.id, 32, h);
		json_object_set_new(o, "collection", json_string(s->name));
		json_object_set_new(o, "id", json_string(pos[1]));
		json_object_set_new(o, "erased", json_true());
		if (scope)
			json_object_set_new(o, "record_erased",
					    json_boolean(!rest[0]));
		if (rest[0])
			json_object_set_new(o, "not_reached",
					    scope_array(rest));
		json_object_set_new(o, "reason", json_string(reason));
		json_object_set_new(o, "entry", json_string(h));
		json_object_set_new(o, "seq", json_integer((json_int_t)out.seq));
		cli_json_print(o);
	} else if (rest[0]) {
		cli_hex_short(out.id, eid);
		printf(_("erased the part of %s/%s written under scope %s (entry %s, seq %llu)%s\n"
		       "That part's contents are gone from this node's files; each node that\n"
		       "receives the erasure removes them too.\n"),
		       s->name, pos[1], scope, eid, (unsigned long long)out.seq,
		       via ? _(" through hamletd") : "");
		erase_rest_say(s->name, pos[1], rest, deleted);
	} else {
		cli_hex_short(out.id, eid);
		printf(_("erased %s/%s (entry %s, seq %llu)%s\n"
		       "Its contents are gone from this node's files; each node that receives\n"
		       "the erasure removes them too. Its history still shows who erased it and why.\n"),
		       s->name, pos[1], eid, (unsigned long long)out.seq,
		       via ? _(" through hamletd") : "");
	}
	r = 0;
out:
	free(body);
	node_close(n);
	return cli_exit_code(r);
}
