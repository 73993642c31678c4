/*
 * log_write_rules: the rules a local write is held to beyond the content
 * check, as they look at the record's current state: a first put's
 * required fields, immutable fields, states that move forward, a
 * record's scope, erased records, a delete or two people's ids in
 * conflict (a put or a delete that would settle it unseen). Arriving entries are history, which the merge settles.
 */
#include "log_internal.h"
#include "record_json.h"
#include "why.h"

#include "error.h"
#include "hlc.h"
#include "mp.h"
#include "schema.h"
#include "scopemap.h"

#include <stdio.h>
#include <string.h>

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

/* A record's first put (or the first after a delete, which restores a
 * deleted record: deleted set) carries every required field. */
static int rule_first_put(const struct schema *s, const struct log_op *op,
			  const msgpack_object *body, int deleted, char *why,
			  size_t wl)
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
	if (deleted) {
		why_set(why, wl,
			 N_("%s/%s was deleted: a put restores it only with every required field again (the fields it does not name stay empty); missing: %s"),
			 op->collection, op->record_id, missing);
		return HAMLET_ESCHEMA;
	}
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

/*
 * A resolution is made from the record as it was read (record_resolution)
 * and written naming the heads it has at the commit: one whose conflict
 * another resolution, or a change that settles it, closed in between
 * (from a peer, as hamletd stores what arrives meanwhile) would silently
 * replace what that one chose. Refused when the record has no open
 * conflict and no duplicate left.
 */
static int rule_still_open(struct store_txn *t, const struct log_op *op,
			   const struct record_view *v, char *why, size_t wl)
{
	int nd;

	if (v->conflicts && v->conflicts->type == MSGPACK_OBJECT_ARRAY &&
	    v->conflicts->via.array.size)
		return 0;
	if ((nd = record_has_duplicate(t, op->collection, v,
				       op->record_id)) != 0)
		return nd < 0 ? nd : 0;
	why_set(why, wl,
		N_("%s/%s has no open conflict any more: it was settled while this resolution was made (another resolution or a change arrived meanwhile), and this one would replace what was chosen there unseen. Look at the record again (get), and resolve again only if it needs it"),
		op->collection, op->record_id);
	return HAMLET_ERESOLVED;
}

/*
 * A resolution made from other heads than the record has now: a value
 * that arrived meanwhile (a third one, from another node) would be
 * replaced by a choice made without it.
 */
static int rule_same_heads(const struct log_op *op,
			   const struct record_view *v, char *why, size_t wl)
{
	/* v NULL: no op of the record is left (a take-out) */
	if (!op->resolve || !op->heads ||
	    (v && record_view_heads_are(v, op->heads, op->nheads)))
		return 0;
	why_set(why, wl,
		N_("%s/%s changed since the record this resolution was made from was read: a value arrived meanwhile (from another node, or another resolution) that this one would replace unseen. Look at the record again (conflicts), and resolve again"),
		op->collection, op->record_id);
	return HAMLET_ECHANGED;
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
		    !mp_object_equal(cur, val) && s->corrects) {
			/* name the field a correction names this one by */
			why_set(why, wl,
				 N_("%s.%s is immutable once set; record a correction as a new %s record naming this one (\"%s\":\"%s\")"),
				 s->name, f->name, s->name, s->corrects,
				 op->record_id);
			return HAMLET_EIMMUTABLE;
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

/*
 * A correction record (health_event.corrects, payment.reversal_of) names
 * a record of its collection this node holds, not itself: a mistyped id
 * would correct nothing, unseen. Only the local write is judged so; held
 * is 1 when the record shows that value already (written before).
 */
static int rule_corrects(struct store_txn *t, const struct schema *s,
			 const struct log_op *op, const msgpack_object *body,
			 int held, char *why, size_t wl)
{
	size_t nl = s->corrects ? strlen(s->corrects) : 0;
	const msgpack_object *val = NULL;
	struct record_view tv;
	char target[SCHEMA_MAX_STR + 1];
	int r;

	for (uint32_t j = 0; nl && j < body->via.map.size; j++) {
		const msgpack_object *k = &body->via.map.ptr[j].key;
		if (k->via.str.size == nl &&
		    memcmp(k->via.str.ptr, s->corrects, nl) == 0)
			val = &body->via.map.ptr[j].val;
	}
	if (!val || val->type != MSGPACK_OBJECT_STR || held)
		return 0;
	snprintf(target, sizeof(target), "%.*s", (int)val->via.str.size,
		 val->via.str.ptr);
	if (strcmp(target, op->record_id) == 0) {
		why_set(why, wl,
			 N_("%s.%s names this record itself: give the id of the %s record it corrects"),
			 s->name, s->corrects, s->name);
		return HAMLET_ESCHEMA;
	}
	r = record_view_load(t, s->name, target, &tv);
	if (r == HAMLET_ENOTFOUND) {
		why_set(why, wl,
			 N_("%s.%s names %s/%s, which this node does not hold: check the id; a correction is written on a node that holds the record it corrects"),
			 s->name, s->corrects, s->name, target);
		return HAMLET_ESCHEMA;
	}
	if (r < 0)
		return r;
	record_view_close(&tv);
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
 * The rules only a local write is held to, as they need the record's
 * current state (arriving entries are history: the merge settles them).
 * body is the put's parsed body (NULL for a delete). Fills *ls.
 */
int log__local_write_rules(const struct scopemap *m, struct store_txn *t,
			   const struct schema *s,
			   const struct log_op *op,
			   const msgpack_object *body, struct local_state *ls,
			   char *why, size_t wl)
{
	struct record_view v;
	int r, live, corr_held = 0, was = 0;

	memset(ls, 0, sizeof(*ls));
	r = record_view_load(t, op->collection, op->record_id, &v);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	if (r == HAMLET_ENOTFOUND) {
		ls->absent = 1;
		/* none left: a resolution made from its heads finds none */
		if ((r = rule_same_heads(op, NULL, why, wl)) < 0)
			return r;
		r = HAMLET_ENOTFOUND;
		live = 0;
	} else if (v.erased) {
		record_view_close(&v);
		/* two whole sentences, not one with a word put in: a
		 * daemon's English reason is matched whole against the
		 * catalog to be shown in the CLI's language (why.h) */
		if (op->kind == ENTRY_ERASE)
			why_set(why, wl,
				 N_("record %s/%s is erased: it cannot be erased again"),
				 op->collection, op->record_id);
		else
			why_set(why, wl,
				 N_("record %s/%s is erased: it cannot be written again; if the person comes back, register them anew under a new record id"),
				 op->collection, op->record_id);
		return HAMLET_EERASED;
	} else {
		live = !v.deleted;
		was = v.deleted;
		r = view_heads(&v, ls);
		if (r == 0)
			r = record_scope(m, t, op, ls, ls->scope);
		if (r == 0 && op->kind == ENTRY_PUT && live && op->scope &&
		    !(ls->scope[0] && scopemap_same(m, op->scope, ls->scope))) {
			/* a change, a resolution too (it carries every
			 * field shown), lives in the record's scope: another
			 * would hand the record to whoever reads that one.
			 * A delete is judged in log_write.c, against every
			 * scope the record was written in */
			if (ls->scope[0])
				why_set(why, wl,
					 N_("record %s/%s lives in scope %s: a change to it names that scope or none (another would move it out of the reach of the nodes that hold it)"),
					 op->collection, op->record_id,
					 ls->scope);
			else
				why_set(why, wl,
					 N_("record %s/%s has its newest changes in scopes that share no part: a scope is given for a new record only; leave it out to change this one"),
					 op->collection, op->record_id);
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
		if (r == 0 && op->kind == ENTRY_DELETE && live &&
		    !op->resolve && record_view_conflict(&v, "")) {
			/* naming both heads, it would settle the conflict
			 * as a resolution does, and the change made on the
			 * other node would go without anyone looking at it.
			 * Two people under the id: keeping it is refused */
			char two[SCHEMA_MAX_MAP_KEY + 1];
			if (record_view_two_people(s, &v, two, sizeof(two)))
				why_set(why, wl,
					 N_("%s/%s was deleted on one node and changed on another, a conflict not settled yet: a plain delete would drop that change unseen. Settle it with a resolution that deletes the record (one that keeps it is refused: two nodes wrote different %s values under this one id)"),
					 op->collection, op->record_id, two);
			else
				why_set(why, wl,
					 N_("%s/%s was deleted on one node and changed on another, a conflict not settled yet: a plain delete would drop that change unseen. Settle it with a resolution: one that deletes the record, or one that keeps it as shown"),
					 op->collection, op->record_id);
			r = HAMLET_EDELCONFLICT;
		}
		if (r == 0 && op->kind == ENTRY_PUT && live && !op->resolve)
			r = two_people_put(s, op, body, &v, why, wl);
		if (r == 0 && op->kind == ENTRY_PUT && live && !op->resolve)
			ls->unchanged = put_unchanged(s, body, &v);
		if (r == 0 && op->kind == ENTRY_PUT && live && s->corrects)
			corr_held = record_view_field(&v, s->corrects) != NULL;
		/* last: a rule the resolution breaks anyway is named first */
		if (r == 0 && op->resolve)
			r = rule_still_open(t, op, &v, why, wl);
		if (r == 0 && op->resolve)
			r = rule_same_heads(op, &v, why, wl);
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
		if ((pr = schema_check_past(s, body, today, why, wl)) < 0 ||
		    (pr = rule_corrects(t, s, op, body, corr_held, why,
					wl)) < 0)
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
		return rule_first_put(s, op, body, was, why, wl);
	return 0;
}
