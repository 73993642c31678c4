/*
 * log_write: local writes. An operation passes the same content check
 * as an arriving entry (schema_check_op), then the local write rules,
 * which look at the record's current state; then it is signed and
 * stored through the same log__apply_one as arriving entries.
 */
#include "log_internal.h"
#include "record_json.h"
#include "why.h"

#include "error.h"
#include "hlc.h"
#include "mp.h"
#include "schema.h"
#include "scopemap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a local write takes from its record's current state. */
struct local_state {
	uint8_t heads[ENTRY_MAX_DEPS][ENTRY_ID_LEN]; /* the new entry's deps */
	size_t nheads;
	uint64_t hlc; /* the record's newest op */
	int unchanged; /* a put that would change nothing: write nothing */
	char scope[ENTRY_MAX_SCOPE + 1]; /* the record's, "" when new */
};

/* --- local write rules ------------------------------------------------- */

static int body_sets(const msgpack_object *body, const char *name)
{
	size_t nl = strlen(name);
	for (uint32_t j = 0; j < body->via.map.size; j++) {
		const msgpack_object *k = &body->via.map.ptr[j].key;
		if (k->via.str.size == nl &&
		    memcmp(k->via.str.ptr, name, nl) == 0)
			return body->via.map.ptr[j].val.type !=
			       MSGPACK_OBJECT_NIL;
	}
	return 0;
}

/* A record's first put (or the first after a delete) carries every
 * required field. */
static int rule_first_put(const struct schema *s, const msgpack_object *body,
			  char *why, size_t wl)
{
	char missing[256] = "";

	for (size_t i = 0; i < s->nfields; i++) {
		const struct schema_field *f = &s->fields[i];
		if (!f->required || body_sets(body, f->name))
			continue;
		if (missing[0])
			strncat(missing, ", ", sizeof(missing) - strlen(missing) - 1);
		strncat(missing, f->name, sizeof(missing) - strlen(missing) - 1);
	}
	if (!missing[0])
		return 0;
	why_set(why, wl,
		 N_("a new %s record needs every required field; missing: %s"),
		 s->name, missing);
	return HAMLET_ESCHEMA;
}

/* 1 when a state field may go from `from` to `to`: it stays, it was
 * unset, or `to` follows in the declared order. */
static int state_reachable(const struct schema_field *f,
			   const msgpack_object *from, const msgpack_object *to)
{
	if (!from || from->type == MSGPACK_OBJECT_NIL)
		return 1;
	if (mp_object_equal(from, to))
		return 1;
	return from->type == MSGPACK_OBJECT_STR &&
	       to->type == MSGPACK_OBJECT_STR &&
	       schema_state_follows(f, from->via.str.ptr, from->via.str.size,
				    to->via.str.ptr, to->via.str.size);
}

static size_t state_append(char *out, size_t len, size_t cap,
			   const msgpack_object *v)
{
	if (v->type != MSGPACK_OBJECT_STR || len >= cap)
		return len;
	return len + (size_t)snprintf(out + len, cap - len, "%s%.*s",
				      len ? " or " : "", (int)v->via.str.size,
				      v->via.str.ptr);
}

/* "confirmed", or "confirmed or failed" for a state in conflict. */
static void state_now(const msgpack_object *cur, const msgpack_object *cands,
		      char *out, size_t cap)
{
	size_t len = 0;

	out[0] = 0;
	if (!cands) {
		if (cur)
			state_append(out, 0, cap, cur);
		return;
	}
	for (uint32_t i = 0; i < cands->via.array.size; i++) {
		const msgpack_object *c = &cands->via.array.ptr[i];
		if (c->type == MSGPACK_OBJECT_ARRAY && c->via.array.size)
			len = state_append(out, len, cap, &c->via.array.ptr[0]);
	}
}

/*
 * A state field moves forward only: the new value is the one shown, or
 * follows it in the declared order. While the field is in conflict,
 * following (or being) any one of the conflicting states will do: that
 * is how the conflict is settled.
 */
static int rule_state_forward(const struct schema *s,
			      const struct schema_field *f,
			      const msgpack_object *val,
			      const struct record_view *v, char *why,
			      size_t wl)
{
	const msgpack_object *cur = record_view_field(v, f->name);
	const msgpack_object *cands = record_view_conflict(v, f->name);
	char order[128], now[128];

	if (!cands && state_reachable(f, cur, val))
		return 0;
	for (uint32_t i = 0; cands && i < cands->via.array.size; i++) {
		const msgpack_object *c = &cands->via.array.ptr[i];
		if (c->type == MSGPACK_OBJECT_ARRAY && c->via.array.size &&
		    state_reachable(f, &c->via.array.ptr[0], val))
			return 0;
	}
	schema_state_order(f, order, sizeof(order));
	state_now(cur, cands, now, sizeof(now));
	why_set(why, wl, N_("%s.%s moves forward only (%s); it is %s"), s->name,
		 f->name, order, now);
	return HAMLET_ESTATE;
}

/*
 * A resolution of an immutable field keeps one of the values in its
 * conflict, or the value shown when it is in none: never a new one (it
 * would conflict with the values before it, and a second resolution
 * would then let any value in). A correction is a new record.
 */
static int rule_immutable_resolve(const struct schema *s,
				  const struct schema_field *f,
				  const msgpack_object *val,
				  const struct record_view *v, char *why,
				  size_t wl)
{
	const msgpack_object *cur = record_view_field(v, f->name);
	const msgpack_object *cands = record_view_conflict(v, f->name);

	if (!cands) {
		if (!cur || mp_object_equal(cur, val))
			return 0;
		why_set(why, wl,
			 N_("%s.%s is immutable once set, and it is in no conflict: a resolution keeps its value; record a correction as a new record instead"),
			 s->name, f->name);
		return HAMLET_EIMMUTABLE;
	}
	for (uint32_t i = 0; i < cands->via.array.size; i++) {
		const msgpack_object *c = &cands->via.array.ptr[i];
		if (c->type == MSGPACK_OBJECT_ARRAY && c->via.array.size &&
		    mp_object_equal(&c->via.array.ptr[0], val))
			return 0;
	}
	why_set(why, wl,
		 N_("%s.%s is immutable: a resolution keeps one of the values in conflict, not a new one; record a correction as a new record instead"),
		 s->name, f->name);
	return HAMLET_EIMMUTABLE;
}

/* A later put: required fields stay set, immutable ones do not change
 * outside a resolution, states move forward. */
static int rule_update(const struct schema *s, const struct log_op *op,
		       const msgpack_object *body, const struct record_view *v,
		       char *why, size_t wl)
{
	for (uint32_t j = 0; j < body->via.map.size; j++) {
		const msgpack_object *k = &body->via.map.ptr[j].key;
		const msgpack_object *val = &body->via.map.ptr[j].val;
		int fi = schema_field_index(s, k->via.str.ptr, k->via.str.size);
		const struct schema_field *f = &s->fields[fi];
		const msgpack_object *cur = record_view_field(v, f->name);
		if (val->type == MSGPACK_OBJECT_NIL && f->required) {
			why_set(why, wl,
				 N_("%s.%s is required and cannot be cleared"),
				 s->name, f->name);
			return HAMLET_ESCHEMA;
		}
		if (f->rule == MR_IMMUTABLE && cur && !op->resolve &&
		    !mp_object_equal(cur, val)) {
			why_set(why, wl,
				 N_("%s.%s is immutable once set; record a correction as a new record instead"),
				 s->name, f->name);
			return HAMLET_EIMMUTABLE;
		}
		if (f->rule == MR_IMMUTABLE && op->resolve &&
		    rule_immutable_resolve(s, f, val, v, why, wl) < 0)
			return HAMLET_EIMMUTABLE;
		if (f->rule == MR_STATE &&
		    rule_state_forward(s, f, val, v, why, wl) < 0)
			return HAMLET_ESTATE;
	}
	return 0;
}

/*
 * 1 when a put would change nothing the record shows: every field it
 * names holds that value already (nil: unset) and none of them, nor the
 * record, is in conflict (a put naming the heads would settle that).
 */
static int put_unchanged(const struct schema *s, const msgpack_object *body,
			 const struct record_view *v)
{
	return !record_view_conflicted(s, body, v) &&
	       record_view_shows(s, body, v);
}

/*
 * A put that sets the person_id two nodes wrote differently under this
 * record's one id (record_view_two_people()) would settle it as one
 * person: only a resolution may, once someone has checked
 * (HAMLET_ETWOPEOPLE otherwise).
 */
static int two_people_put(const struct schema *s, const struct log_op *op,
			  const msgpack_object *body,
			  const struct record_view *v, char *why, size_t wl)
{
	char two[SCHEMA_MAX_MAP_KEY + 1];
	size_t tl;

	if (!record_view_two_people(s, v, two, sizeof(two)))
		return 0;
	tl = strlen(two);
	for (uint32_t j = 0; j < body->via.map.size; j++) {
		const msgpack_object *k = &body->via.map.ptr[j].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == tl &&
		    memcmp(k->via.str.ptr, two, tl) == 0) {
			why_set(why, wl,
				 N_("%s/%s: two nodes wrote different %s values under this one id, most likely two different people; setting it would make them one. Write each person under an id of their own and delete this one, or, when you have checked that both values are one person's, resolve with --same-person"),
				 op->collection, op->record_id, two);
			return HAMLET_ETWOPEOPLE;
		}
	}
	return 0;
}

static int view_heads(const struct record_view *v, struct local_state *ls)
{
	size_t nh = v->heads->via.array.size;

	if (nh > ENTRY_MAX_DEPS)
		nh = ENTRY_MAX_DEPS; /* see docs/records.md "deps" */
	for (size_t i = 0; i < nh; i++)
		if (mp_get_bin_fixed(&v->heads->via.array.ptr[i], ENTRY_ID_LEN,
				     ls->heads[i]) < 0)
			return HAMLET_ECORRUPT;
	ls->nheads = nh;
	ls->hlc = v->hlc;
	return 0;
}

/* The record's scope (scopemap_heads_scope()): its heads' shared one. */
static int record_scope(const struct scopemap *m, struct store_txn *t,
			const struct log_op *op, const struct local_state *ls,
			char *out)
{
	/* heads of no common scope (1): as a record above ours, changed in
	 * the writer's own scope */
	int r = scopemap_heads_scope(m, t, op->collection, op->record_id,
				     (const uint8_t(*)[32])ls->heads,
				     ls->nheads, out);
	return r == 1 ? 0 : r;
}

/*
 * The distinct scopes a record's puts and deletes were written in, as
 * written (an erasure reaches the entries under its scope by their
 * written names, SPEC §1.6). At most LOG_MAX_WRITE_SCOPES; over says
 * there were more.
 */
#define LOG_MAX_WRITE_SCOPES 8
struct scope_set {
	char v[LOG_MAX_WRITE_SCOPES][ENTRY_MAX_SCOPE + 1];
	size_t n;
	int over;
};

static void scope_set_add(struct scope_set *set, const char *scope)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i], scope) == 0)
			return;
	if (set->n == LOG_MAX_WRITE_SCOPES) {
		set->over = 1;
		return;
	}
	snprintf(set->v[set->n++], ENTRY_MAX_SCOPE + 1, "%s", scope);
}

static int collect_scope(void *ctx, const struct record_op *op)
{
	if (op->kind == ENTRY_PUT || op->kind == ENTRY_DELETE)
		scope_set_add(ctx, op->scope);
	return 0;
}

/*
 * The rules only a local write is held to, as they need the record's
 * current state (arriving entries are history: the merge settles them).
 * body is the put's parsed body (NULL for a delete). Fills *ls.
 */
static int local_write_rules(const struct scopemap *m, struct store_txn *t,
			     const struct schema *s,
			     const struct log_op *op,
			     const msgpack_object *body, struct local_state *ls,
			     char *why, size_t wl)
{
	struct record_view v;
	int r, live;

	memset(ls, 0, sizeof(*ls));
	r = record_view_load(t, op->collection, op->record_id, &v);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	if (r == HAMLET_ENOTFOUND) {
		live = 0;
	} else if (v.erased) {
		record_view_close(&v);
		why_set(why, wl,
			 N_("record %s/%s is erased: it cannot be %s"), op->collection,
			 op->record_id,
			 why_translate(op->kind == ENTRY_ERASE ? N_("erased again")
							  : N_("written")));
		return HAMLET_EERASED;
	} else {
		live = !v.deleted;
		r = view_heads(&v, ls);
		if (r == 0)
			r = record_scope(m, t, op, ls, ls->scope);
		if (r == 0 && op->kind == ENTRY_PUT && live && !op->resolve &&
		    op->scope && ls->scope[0] && strcmp(op->scope, ls->scope)) {
			/* a change lives in the record's scope: another
			 * would hand the record to whoever reads that one */
			why_set(why, wl,
				 N_("record %s/%s lives in scope %s: a scope is given for a new record only; leave it out to change this one"),
				 op->collection, op->record_id, ls->scope);
			r = HAMLET_ESCOPE;
		}
		if (r == 0 && op->kind == ENTRY_PUT && live)
			r = rule_update(s, op, body, &v, why, wl);
		if (r == 0 && op->kind == ENTRY_PUT && live && !op->resolve &&
		    record_view_conflict(&v, "")) {
			/* the put would name the delete among its deps, so
			 * the fields it does not name would go with it */
			why_set(why, wl,
				 N_("%s/%s was deleted on one node and changed on another, a conflict not settled yet: a change now would keep only the fields it names. Settle it first: resolve it to keep the record as shown (with the values you give), or to delete it"),
				 op->collection, op->record_id);
			r = HAMLET_EDELCONFLICT;
		}
		if (r == 0 && op->kind == ENTRY_PUT && live && !op->resolve)
			r = two_people_put(s, op, body, &v, why, wl);
		if (r == 0 && op->kind == ENTRY_PUT && live && !op->resolve)
			ls->unchanged = put_unchanged(s, body, &v);
		record_view_close(&v);
		if (r < 0)
			return r;
	}
	/* a date this write gives, judged against today; a resolution
	 * carries the values of peers' entries, which are not judged so */
	if (op->kind == ENTRY_PUT && body && !op->resolve) {
		char today[11];
		int pr;
		schema_today((int64_t)hlc_wall_ms(), today);
		if ((pr = schema_check_past(s, body, today, why, wl)) < 0)
			return pr;
	}
	if (op->kind == ENTRY_ERASE && r == HAMLET_ENOTFOUND) {
		why_set(why, wl, N_("record %s/%s not found"), op->collection,
			 op->record_id);
		return HAMLET_ENOTFOUND;
	}
	if (op->kind == ENTRY_DELETE && !live && !op->resolve) {
		why_set(why, wl, N_("record %s/%s not found"), op->collection,
			 op->record_id);
		return HAMLET_ENOTFOUND;
	}
	if (op->kind == ENTRY_PUT && !live)
		return rule_first_put(s, body, why, wl);
	return 0;
}

/* --- signing and storing ----------------------------------------------- */

/* One log_write call. */
struct writer {
	struct log__applier a;
	const struct log_author *au;
	const struct log_op *ops;
	size_t n, i; /* i: the op being written, the one at fault on failure */
	size_t applied; /* entries written in this attempt */
	struct log_out *out;
	char *why;
	size_t whylen;
	uint64_t hlc; /* the node's clock */
};

/* The operation's own checks: kind, collection and body, id, scope. On
 * success a put's parsed body is in *ret_doc. */
static int check_op(struct writer *w, const struct log_op *op,
		    const char *scope, struct mp_doc *ret_doc)
{
	const uint8_t *body = op->body ? op->body : (const uint8_t *)"";

	if (op->kind != ENTRY_PUT && op->kind != ENTRY_DELETE &&
	    op->kind != ENTRY_ERASE) {
		why_set(w->why, w->whylen,
			 N_("an operation is a put, a delete or an erasure"));
		return -EINVAL;
	}
	if (entry_record_id_check(op->record_id) < 0) {
		why_set(w->why, w->whylen,
			 N_("invalid record id \"%.64s\": use 1-64 letters, digits, '.', '_', ':' or '-' (not . or .. alone)"),
			 op->record_id);
		return HAMLET_EID;
	}
	if (entry_scope_check(scope) < 0) {
		why_set(w->why, w->whylen,
			 N_("invalid scope \"%.128s\": use lower-case segments like province/district/commune/village"),
			 scope);
		return HAMLET_ESCOPE;
	}
	return schema_check_op(op->collection, op->kind,
			       op->kind != ENTRY_DELETE, body, op->body_len,
			       op->kind == ENTRY_PUT ? ret_doc : NULL, w->why,
			       w->whylen);
}

/* The entry for op: next in the author's feed for scope, deps the
 * record's heads. */
static int entry_for_op(struct writer *w, const struct log_op *op,
			const char *scope, const struct local_state *ls,
			struct entry *e)
{
	struct log_feed f;
	uint64_t wall;
	int r;

	memset(e, 0, sizeof(*e));
	memcpy(e->network_id, w->au->network_id, 32);
	memcpy(e->author, w->au->pk, 32);
	strcpy(e->scope, scope);
	log_feed_key(w->au->pk, scope, f.key);
	r = log_feed_get(w->a.t, f.key, &f);
	if (r == HAMLET_ENOTFOUND) {
		f.seq = 0;
		f.forked = 0;
	} else if (r < 0) {
		return r;
	}
	if (f.forked) {
		why_set(w->why, w->whylen,
			 N_("this node's feed %s is frozen after a fork (was this node's key copied to another machine?)"),
			 scope);
		return HAMLET_EFORKED;
	}
	e->seq = f.seq + 1;
	e->has_prev = f.seq > 0;
	if (e->has_prev)
		memcpy(e->prev, f.head, 32);
	/*
	 * deps order the entry after the record's heads. Its timestamp passes
	 * theirs too when they are near: the clock observes the record's
	 * newest op as it would an arriving entry, capped HLC_MAX_AHEAD_MS
	 * past the wall clock, so a head dated days ahead cannot drag our
	 * clock there (docs/decisions.md). The merge asks deps, not HLCs,
	 * what supersedes what, so an edit dated before such a head still
	 * wins over it on every node.
	 */
	wall = hlc_wall_ms();
	w->hlc = hlc_next(hlc_observe(w->hlc, ls->hlc, wall), wall);
	e->hlc = w->hlc;
	e->kind = op->kind;
	strcpy(e->collection, op->collection);
	strcpy(e->record_id, op->record_id);
	e->ndeps = ls->nheads;
	memcpy(e->deps, ls->heads, ls->nheads * ENTRY_ID_LEN);
	if (op->kind != ENTRY_DELETE) {
		e->has_body = 1;
		e->body_len = op->body_len;
		entry_body_hash(op->body, op->body_len, e->body_hash);
	}
	return 0;
}

static int sign_and_apply(struct writer *w, const struct log_op *op,
			  const struct entry *e, struct log_out *o)
{
	uint8_t *env = NULL, sig[ENTRY_SIG_LEN], id[ENTRY_ID_LEN];
	size_t env_len;
	int r;

	if ((r = entry_encode(e, &env, &env_len)) < 0) {
		why_set(w->why, w->whylen, N_("cannot encode entry: %s"),
			 hamlet_strerror(r));
		return r;
	}
	if ((r = entry_sign(env, env_len, w->au->sk, sig)) < 0)
		goto out;
	entry_id(env, env_len, id);
	r = log__apply_one(&w->a, e, id, env, env_len, sig,
			   op->kind != ENTRY_DELETE ? op->body : NULL,
			   op->body_len, o);
	if (r == 0 && o->status != LOG_APPLIED) {
		why_set(w->why, w->whylen, "%s", o->why);
		r = HAMLET_ECHAIN;
	}
out:
	free(env);
	return r;
}

/* The checks of the writer's certificate for an entry of op in scope,
 * then the entry, signed and applied; out[i] takes the first. */
static int write_in(struct writer *w, const struct log_op *op,
		    const char *scope, const struct local_state *ls,
		    int first)
{
	struct entry e;
	struct log_out o;
	int r;

	if (w->au->grant &&
	    (!scopemap_may_write(w->au->map, w->au->grant, scope,
				 op->collection) ||
	     (op->kind == ENTRY_ERASE && !w->au->grant->delegate))) {
		if (op->kind == ENTRY_ERASE &&
		    scopemap_may_write(w->au->map, w->au->grant, scope,
				       op->collection))
			why_set(w->why, w->whylen,
				 N_("this node's certificate (\"%s\") does not let it erase: only an administrator of scope %s (a certificate that may certify others) or the network's root may"),
				 w->au->grant->name, scope);
		else
			why_set(w->why, w->whylen,
				 op->kind == ENTRY_ERASE
					 ? N_("this node's certificate (\"%s\") does not let it erase %s in scope %s")
					 : N_("this node's certificate (\"%s\") does not let it write %s in scope %s"),
				 w->au->grant->name, op->collection, scope);
		return HAMLET_ECERT;
	}
	if (!w->au->grant && op->kind == ENTRY_ERASE) {
		why_set(w->why, w->whylen,
			 N_("this node has no valid certificate: only an administrator of scope %s or the network's root may erase"),
			 scope);
		return HAMLET_ECERT;
	}
	if (!w->au->grant && !entry_scope_under(scope, w->au->scope)) {
		/* not certified (yet, or any more): its own scope only, which
		 * its certificate is expected to grant */
		why_set(w->why, w->whylen,
			 N_("this node has no valid certificate, so it writes only in its own scope %s, not %s"),
			 w->au->scope, scope);
		return HAMLET_ECERT;
	}
	if ((r = entry_for_op(w, op, scope, ls, &e)) < 0 ||
	    (r = sign_and_apply(w, op, &e, &o)) < 0)
		return r;
	if (w->out && first)
		w->out[w->i] = o;
	w->applied++;
	/* later entries in this call must see this one */
	return log__dirty_flush(w->a.t, &w->a.dirty);
}

/*
 * Where a delete or an erasure of a record goes: every scope the
 * record's puts and deletes were written in (a delete: each as a change
 * would go, in the writer's own scope when the record's is above it),
 * so that it reaches every node holding any of them. One scope, as a
 * rule; two villages that gave one id to two people, or a village
 * changing a commune's record, give more (SPEC §1.6, docs/records.md).
 * Fills to; 0, or an error with why set.
 */
static int removal_scopes(struct writer *w, const struct log_op *op,
			  const char *own, struct scope_set *to)
{
	struct scope_set set = { 0 };
	int r;

	memset(to, 0, sizeof(*to));
	r = record_ops_each(w->a.t, op->collection, op->record_id,
			    collect_scope, &set);
	if (r < 0)
		return r;
	if (set.over) {
		why_set(w->why, w->whylen,
			 N_("record %s/%s was written in more than %d scopes: give --scope to %s it in one scope at a time"),
			 op->collection, op->record_id, LOG_MAX_WRITE_SCOPES,
			 why_translate(op->kind == ENTRY_ERASE ? N_("erase")
							  : N_("delete")));
		return HAMLET_ESCOPE;
	}
	for (size_t i = 0; i < set.n; i++)
		scope_set_add(to, op->kind == ENTRY_ERASE ||
					  scopemap_under(w->au->map, set.v[i],
							 own)
					  ? set.v[i]
					  : own);
	return 0;
}

/* An erasure given its scope reaches something of the record there:
 * else it would erase nothing here and say it had. */
static int erase_scope_reaches(struct writer *w, const struct log_op *op)
{
	struct scope_set set = { 0 };
	char list[160] = "";
	int r;

	r = record_ops_each(w->a.t, op->collection, op->record_id,
			    collect_scope, &set);
	if (r < 0)
		return r;
	for (size_t i = 0; i < set.n; i++) {
		if (entry_scope_under(set.v[i], op->scope))
			return 0;
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", i ? ", " : "", set.v[i]);
	}
	why_set(w->why, w->whylen,
		 N_("record %s/%s has nothing written under scope %s (it was written in %s): an erasure there would erase nothing"),
		 op->collection, op->record_id, op->scope, list);
	return HAMLET_ESCOPE;
}

static int write_one(struct writer *w, const struct log_op *op)
{
	const char *scope = op->scope ? op->scope : w->au->scope;
	struct local_state ls;
	struct mp_doc d = { 0 };
	int r;

	if (w->au->revoked) {
		why_set(w->why, w->whylen, "%s", w->au->revoked);
		return HAMLET_EREVOKED;
	}
	if ((r = check_op(w, op, scope, &d)) < 0)
		return r;
	r = local_write_rules(w->au->map, w->a.t, schema_find(op->collection), op,
			      op->kind == ENTRY_PUT ? d.root : NULL, &ls,
			      w->why, w->whylen);
	if (op->kind == ENTRY_PUT)
		mp_doc_close(&d);
	if (r < 0)
		return r;
	if (ls.unchanged) {
		/* no entry: status duplicate, seq 0, id zero */
		if (w->out) {
			memset(&w->out[w->i], 0, sizeof(w->out[w->i]));
			w->out[w->i].status = LOG_DUPLICATE;
		}
		return 0;
	}
	if (op->kind == ENTRY_ERASE && op->scope && ls.nheads &&
	    (r = erase_scope_reaches(w, op)) < 0)
		return r;
	if ((op->kind == ENTRY_DELETE || op->kind == ENTRY_ERASE) &&
	    !op->scope && ls.nheads) {
		struct scope_set to;
		if ((r = removal_scopes(w, op, scope, &to)) < 0)
			return r;
		if (to.n > 1) {
			for (size_t i = 0; i < to.n; i++)
				if ((r = write_in(w, op, to.v[i], &ls,
						  i == 0)) < 0)
					return r;
			return 0;
		}
		if (op->kind == ENTRY_ERASE && to.n == 1)
			return write_in(w, op, to.v[0], &ls, 1);
	}
	/* a change to a record lives in the record's scope, so that it
	 * reaches the nodes that hold the record (a province editing a
	 * village's record writes in the village's scope); a record of a
	 * scope above ours is changed in our own */
	if (!op->scope && ls.scope[0] &&
	    scopemap_under(w->au->map, ls.scope, scope))
		scope = ls.scope;
	return write_in(w, op, scope, &ls, 1);
}

static int write_txn(struct store_txn *t, void *ctx)
{
	struct writer *w = ctx;
	int r;

	if ((r = log__applier_begin(&w->a, t)) < 0)
		return r;
	w->a.local = 1;
	w->why[0] = 0;
	w->i = 0;
	w->applied = 0;
	if ((r = log__meta_hlc_get(t, &w->hlc)) < 0)
		return r;
	for (; w->i < w->n; w->i++)
		if ((r = write_one(w, &w->ops[w->i])) < 0)
			return r;
	if (w->applied == 0)
		return LOG__NOTHING; /* every put was unchanged */
	return log__applier_finish(&w->a, w->hlc);
}

int log_write(struct store *st, const struct log_author *au,
	      const struct log_op *ops, size_t n, struct log_out *out,
	      size_t *ret_failed, char *why, size_t whylen,
	      struct log_advances *adv)
{
	struct writer w = { .au = au, .ops = ops, .n = n, .out = out,
			    .why = why, .whylen = whylen };
	int r;

	w.a.held_budget0 = UINT64_MAX; /* our own entries are never held */
	why[0] = 0;
	r = log__write_txn(st, write_txn, &w);
	if (r == 0)
		log__after_commit(st, &w.a);
	if (r < 0) {
		if (ret_failed)
			*ret_failed = w.i < n ? w.i : n;
		if (!why[0])
			why_set(why, whylen, "%s", hamlet_strerror(r));
	} else {
		log__moved_publish(&w.a.moved, adv);
	}
	log__applier_close(&w.a);
	return r;
}

/* --- many writes, one commit --------------------------------------------- */

struct group {
	struct log_write_req *reqs;
	struct writer *w;
	size_t n;
};

/* The failures that are the store's, not one request's content: they end
 * the whole group (a full map: grown, then the group is run again). */
static int store_fault(int r)
{
	return r == HAMLET_EMAPFULL || r == HAMLET_ESTORE || r == -ENOMEM ||
	       r == -EIO || r == -ENOSPC || r == HAMLET_EDISKFULL;
}

static int group_txn(struct store_txn *t, void *ctx)
{
	struct group *g = ctx;
	size_t ok = 0;
	int r;

	for (size_t i = 0; i < g->n; i++) {
		struct store_txn *c;
		if ((r = store_txn_child(t, &c)) < 0)
			return r;
		r = write_txn(c, &g->w[i]);
		if (r == 0) {
			r = store_txn_commit(c);
			ok += r == 0;
		} else {
			store_txn_abort(c);
		}
		if (r == LOG__NOTHING)
			r = 0;
		g->reqs[i].r = r;
		if (r < 0 && store_fault(r))
			return r;
	}
	return ok ? 0 : LOG__NOTHING;
}

int log_write_group(struct store *st, const struct log_author *au,
		    struct log_write_req *reqs, size_t n,
		    struct log_advances *adv)
{
	struct group g = { reqs, calloc(n ? n : 1, sizeof(*g.w)), n };
	struct log_advances acc = { 0 };
	int r;

	if (!g.w)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		g.w[i] = (struct writer){ .au = au, .ops = reqs[i].ops,
					  .n = reqs[i].n, .out = reqs[i].out,
					  .why = reqs[i].why,
					  .whylen = reqs[i].whylen };
		g.w[i].a.held_budget0 = UINT64_MAX;
		reqs[i].why[0] = 0;
		reqs[i].r = 0;
	}
	r = log__write_txn(st, group_txn, &g);
	for (size_t i = 0; i < n; i++) {
		struct writer *w = &g.w[i];
		if (r < 0)
			reqs[i].r = r; /* nothing of the group was stored */
		if (reqs[i].r < 0) {
			reqs[i].failed = w->i < w->n ? w->i : w->n;
			if (!reqs[i].why[0])
				snprintf(reqs[i].why, reqs[i].whylen, "%s",
					 hamlet_strerror(reqs[i].r));
		} else {
			if (w->a.erasures)
				g.w[0].a.erasures += w->a.erasures;
			log__moved_publish(&w->a.moved, &acc);
		}
	}
	if (r == 0 && n) {
		log__after_commit(st, &g.w[0].a);
		log__moved_publish(&acc, adv);
	}
	log_advances_close(&acc);
	for (size_t i = 0; i < n; i++)
		log__applier_close(&g.w[i].a);
	free(g.w);
	return r;
}
