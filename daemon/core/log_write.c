/*
 * log_write: local writes. A put's text is put in Unicode NFC
 * (textnorm.h); then an operation passes the same content check
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
#include "textnorm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	/* floors->behind() once a transaction (a scan of every own feed):
	 * 0 not asked yet, 1 none waits, 2 bscope waits (bsig, bstored) */
	int behind;
	char bscope[ENTRY_MAX_SCOPE + 1];
	uint64_t bsig, bstored;
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
			 N_("invalid record id \"%.64s\": use 1-64 letters without accents (a-z, A-Z), digits, '.', '_', ':' or '-' (not . or .. alone)"),
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

/*
 * The author signed more of its feed in scope than the store holds (a
 * store restored from a backup, or moved aside to be filled again from
 * peers): the next entry would take a seq its peers hold already, a fork
 * of its own feed that freezes it everywhere (docs/decisions.md, "A
 * restored node's own feeds"). Once the store has its entries back up
 * to that seq, from a peer or a bundle, it writes again.
 */
static int floor_check(struct writer *w, const char *scope, uint64_t head)
{
	uint64_t seq = 0;
	int r;

	if (!w->au->floors)
		return 0;
	r = w->au->floors->get(w->au->floors->ctx, scope, &seq, w->why,
			       w->whylen);
	if (r < 0)
		return r;
	if (head >= seq)
		return 0;
	why_set(w->why, w->whylen,
		 N_("this node signed up to seq %llu in its feed %s before its store was restored or replaced, and the store holds up to seq %llu: writing now would fork its own feed. Its peers hold the rest: let hamletd sync with them (hamlet status says when the node has its entries back) and write again. With no network, get a bundle from the commune or another node that holds them (hamlet summary here, carried there, hamlet bundle create --for it there, hamlet bundle import here). \"hamlet own-feeds forget-lost\" is only for entries no node holds (the store was lost before they ever left this node): given up while a node holds them, they make a fork"),
		 (unsigned long long)seq, scope, (unsigned long long)head);
	return HAMLET_EBEHIND;
}

/* 1 when the author's feed in scope waits for its own entries back
 * (floor_check(), w->why then saying so), else 0. */
static int restoring(struct writer *w, const char *scope)
{
	struct log_feed f;
	char keep[LOG_WHY_MAX];
	int r;

	if (!w->au->floors)
		return 0;
	log_feed_key(w->au->pk, scope, f.key);
	r = log_feed_get(w->a.t, f.key, &f);
	if (r == HAMLET_ENOTFOUND)
		f.seq = 0;
	else if (r < 0)
		return 0;
	snprintf(keep, sizeof(keep), "%s", w->why);
	if (floor_check(w, scope, f.seq) == HAMLET_EBEHIND)
		return 1;
	snprintf(w->why, w->whylen, "%s", keep); /* the first fault's */
	return 0;
}

/*
 * A new record while a feed of the node's own waits for its entries
 * (restoring(): a store restored or replaced): the id may be one of a
 * record held in those entries, which would then be two records of one
 * id in two scopes once they are back. HAMLET_EBEHIND naming that feed,
 * or 0.
 */
static int creating_while_behind(struct writer *w, const char *to)
{
	char scope[ENTRY_MAX_SCOPE + 1];
	uint64_t sig, stored;
	int r;

	if (!w->au->floors || !w->au->floors->behind)
		return 0;
	if (restoring(w, to))
		return HAMLET_EBEHIND; /* its own feed: floor_check() says */
	if (!w->behind) {
		r = w->au->floors->behind(w->au->floors->ctx, w->a.t,
					  w->bscope, &w->bsig, &w->bstored);
		if (r < 0)
			return r;
		w->behind = r ? 2 : 1;
	}
	if (w->behind == 1)
		return 0;
	memcpy(scope, w->bscope, sizeof(scope));
	sig = w->bsig;
	stored = w->bstored;
	why_set(w->why, w->whylen,
		 N_("this node signed up to seq %llu in its feed %s before its store was restored or replaced, and the store holds up to seq %llu: until its peers send the rest back, it makes no new record, in any scope (the id may be one those entries hold). Its peers hold the rest: let hamletd sync with them (hamlet status says when the node has its entries back), then write again; with no network, get a bundle from the commune or another node that holds them. \"hamlet own-feeds forget-lost\" is only for entries no node holds"),
		 (unsigned long long)sig, scope, (unsigned long long)stored);
	return HAMLET_EBEHIND;
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
			 N_("this node's feed %s is frozen after a fork (its key signed two entries at one seq: copied to another machine, or this store put back from a backup and written again): nothing more is written in it; the administrator gives this node a new key and certificate (docs/admin-guide.md, \"A PC breaks or is replaced\")"),
			 scope);
		return HAMLET_EFORKED;
	}
	if ((r = floor_check(w, scope, f.seq)) < 0)
		return r;
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
			 why_translate(hamlet_strerror(r)));
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
	const struct scope_move *mv;
	struct entry e;
	struct log_out o;
	int r;

	/* a scope moved out of the grant (a village moved alone to another
	 * commune): what this node wrote there it would neither keep nor
	 * send, so it does not write there at all (docs/decisions.md,
	 * "Reads through a scope move") */
	if (w->au->grant &&
	    (mv = scopemap_moved_away(w->au->map, w->au->grant, scope,
				      op->collection))) {
		why_set(w->why, w->whylen,
			N_("this node's certificate (\"%s\") no longer lets it write in scope %s: the network's root moved %s to %s (reason: %s), out of this node's reach. The nodes that hold %s now (its own PC, and those whose certificates grant it) write its records; \"hamlet scope list\" shows the move"),
			w->au->grant->name, scope, mv->from, mv->to,
			mv->reason, mv->to);
		return HAMLET_ECERT;
	}
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

/* Whether a record's puts and deletes were written in one scope (by its
 * name then or now, through the moves). */
struct scope_find {
	const struct scopemap *m;
	const char *scope;
	int found;
};

static int find_scope(void *ctx, const struct record_op *op)
{
	struct scope_find *f = ctx;
	if ((op->kind == ENTRY_PUT || op->kind == ENTRY_DELETE) &&
	    scopemap_same(f->m, op->scope, f->scope))
		f->found = 1;
	return 0;
}

/*
 * A delete (a resolution's too) given its scope goes where the record
 * was written, or to the record's scope (two villages' common one): a
 * delete elsewhere would move the record out of the reach of the nodes
 * that hold it, and they would never learn of it (ls: the record's).
 */
static int delete_scope_reaches(struct writer *w, const struct log_op *op,
				const struct local_state *ls)
{
	struct scope_find f = { w->au->map, op->scope, 0 };
	struct scope_set set = { 0 };
	char list[400] = "";
	int r;

	if (ls->scope[0] && scopemap_same(w->au->map, op->scope, ls->scope))
		return 0;
	if ((r = record_ops_each(w->a.t, op->collection, op->record_id,
				 find_scope, &f)) < 0)
		return r;
	if (f.found)
		return 0;
	if ((r = record_ops_each(w->a.t, op->collection, op->record_id,
				 collect_scope, &set)) < 0)
		return r;
	for (size_t i = 0; i < set.n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", i ? ", " : "", set.v[i]);
	if (set.over)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 ", …");
	why_set(w->why, w->whylen,
		 N_("record %s/%s was written in %s, not in scope %s: a delete goes where the record was written; leave the scope out to delete it in every scope it was written in"),
		 op->collection, op->record_id, list, op->scope);
	return HAMLET_ESCOPE;
}

/* The scope a record's change given as op->scope was written in, when
 * that is another name of the same place (a scope move). */
struct stored_find {
	const struct scopemap *m;
	const char *scope;
	char *out;
	int found;
};

static int stored_one(void *ctx, const struct record_op *op)
{
	struct stored_find *f = ctx;

	if (f->found || (op->kind != ENTRY_PUT && op->kind != ENTRY_DELETE))
		return 0;
	if (strcmp(op->scope, f->scope) == 0) {
		f->found = -1; /* written under the name given: as it is */
		return 0;
	}
	if (scopemap_same(f->m, op->scope, f->scope)) {
		snprintf(f->out, ENTRY_MAX_SCOPE + 1, "%s", op->scope);
		f->found = 1;
	}
	return 0;
}

/* 1 with out set when op->scope names, by another name, the scope the
 * record lives in (ls) or one its changes were written in; 0 when it is
 * used as given. */
static int stored_name(struct writer *w, const struct log_op *op,
		       const struct local_state *ls,
		       char out[ENTRY_MAX_SCOPE + 1])
{
	struct stored_find f = { w->au->map, op->scope, out, 0 };
	int r;

	if (ls->scope[0] && strcmp(op->scope, ls->scope) == 0)
		return 0;
	if (ls->scope[0] && scopemap_same(w->au->map, op->scope, ls->scope)) {
		snprintf(out, ENTRY_MAX_SCOPE + 1, "%s", ls->scope);
		return 1;
	}
	if ((r = record_ops_each(w->a.t, op->collection, op->record_id,
				 stored_one, &f)) < 0)
		return r;
	return f.found == 1;
}

/* The heads of a record written in one scope (by its name then or now). */
struct scope_heads {
	const struct scopemap *m;
	const char *scope;
	struct local_state *ls;
	uint8_t keep[ENTRY_MAX_DEPS][ENTRY_ID_LEN];
	size_t n;
};

static int scope_head(void *ctx, const struct record_op *op)
{
	struct scope_heads *h = ctx;

	if (h->n == ENTRY_MAX_DEPS || !scopemap_under(h->m, op->scope, h->scope))
		return 0;
	for (size_t i = 0; i < h->ls->nheads; i++)
		if (memcmp(h->ls->heads[i], op->id, ENTRY_ID_LEN) == 0) {
			memcpy(h->keep[h->n++], op->id, ENTRY_ID_LEN);
			break;
		}
	return 0;
}

/*
 * A delete given its scope (the part of one village, of a record two
 * wrote under one id) follows the heads written there alone: following
 * the other's too, it would delete that part as well wherever both are
 * held (the commune, the province), while the other village, which never
 * receives it, keeps its record; the two would differ for ever, and no
 * conflict would say so. Following its own, it meets the other's part as
 * an update-versus-delete conflict where both are held. A scope that
 * holds every head (the record's common one) leaves them all.
 */
static int heads_in_scope(struct writer *w, const struct log_op *op,
			  struct local_state *ls)
{
	struct scope_heads h = { w->au->map, op->scope, ls, { { 0 } }, 0 };
	int r;

	if ((r = record_ops_each(w->a.t, op->collection, op->record_id,
				 scope_head, &h)) < 0)
		return r;
	if (h.n == 0 || h.n == ls->nheads)
		return 0;
	memcpy(ls->heads, h.keep, h.n * ENTRY_ID_LEN);
	ls->nheads = h.n;
	return 0;
}

/* log_value_scopes() being collected */
struct cand_scopes {
	const struct scopemap *m;
	const char *own;
	struct log_value_scopes *vs;
};

static int collect_cand_scope(void *ctx, const struct record_op *op)
{
	struct cand_scopes *c = ctx;
	struct log_value_scopes *vs = c->vs;
	const char *sc;

	for (size_t i = 0; i < vs->nids; i++)
		if (memcmp(op->id, vs->ids[i], ENTRY_ID_LEN) == 0) {
			sc = scopemap_under(c->m, op->scope, c->own) ? op->scope
								     : c->own;
			for (size_t x = 0; x < vs->n; x++)
				if (strcmp(vs->v[x], sc) == 0)
					return 0;
			if (vs->n < LOG_MAX_VALUE_SCOPES)
				snprintf(vs->v[vs->n++], ENTRY_MAX_SCOPE + 1,
					 "%s", sc);
			break;
		}
	return 0;
}

/* The entry ids of v's conflict candidates ([field, rule, [[value,
 * author, hlc, id, kind]...]] each), at most ENTRY_MAX_DEPS, into vs. */
static void cand_ids(const struct record_view *v, struct log_value_scopes *vs)
{
	const msgpack_object *cs = v->conflicts;

	for (uint32_t i = 0; cs && cs->type == MSGPACK_OBJECT_ARRAY &&
			     i < cs->via.array.size; i++) {
		const msgpack_object *k = &cs->via.array.ptr[i];
		if (k->type != MSGPACK_OBJECT_ARRAY || k->via.array.size < 3 ||
		    k->via.array.ptr[2].type != MSGPACK_OBJECT_ARRAY)
			continue;
		const msgpack_object *cands = &k->via.array.ptr[2];
		for (uint32_t j = 0; j < cands->via.array.size; j++) {
			const msgpack_object *cd = &cands->via.array.ptr[j];
			uint8_t id[ENTRY_ID_LEN];
			size_t x;
			if (cd->type != MSGPACK_OBJECT_ARRAY ||
			    cd->via.array.size < 4 ||
			    mp_get_bin_fixed(&cd->via.array.ptr[3],
					     ENTRY_ID_LEN, id) < 0)
				continue;
			for (x = 0; x < vs->nids; x++)
				if (memcmp(vs->ids[x], id, ENTRY_ID_LEN) == 0)
					break;
			if (x == vs->nids && vs->nids < ENTRY_MAX_DEPS)
				memcpy(vs->ids[vs->nids++], id, ENTRY_ID_LEN);
		}
	}
}

int log_value_scopes(const struct scopemap *m, struct store_txn *t,
		     const char *coll, const char *id, const char *own,
		     struct log_value_scopes *ret)
{
	struct cand_scopes c = { m, own, ret };
	struct record_view v;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = record_view_load(t, coll, id, &v)) < 0)
		return r;
	cand_ids(&v, ret);
	record_view_close(&v);
	if (ret->nids < 2)
		return 0;
	return record_ops_each(t, coll, id, collect_cand_scope, &c);
}

int log_may_write_in(const struct log_author *a, const char *scope,
		     const char *coll)
{
	return !a->grant ||
	       (scopemap_may_write(a->map, a->grant, scope, coll) &&
		!scopemap_moved_away(a->map, a->grant, scope, coll));
}

/*
 * A resolution that keeps a record whose values in conflict were written
 * in several scopes (two villages under one id, settled with
 * --same-person) goes to each of those scopes this writer may write, with
 * the same deps and body, so that it reaches every node that holds one
 * of those values: in the record's scope, above them, no village would
 * get it, and the one holding the value set aside would keep it for good.
 * 1 when written so; 0 when those values share one scope, or the writer
 * may write none of them (written in the record's scope, as any change;
 * the CLI names what each village left must do).
 */
static int resolve_in_value_scopes(struct writer *w, const struct log_op *op,
				   const struct local_state *ls,
				   const char *own)
{
	struct log_value_scopes *vs;
	struct local_state dl;
	int r, wrote = 0;

	if (op->kind != ENTRY_PUT || !op->resolve || op->scope || !ls->nheads)
		return 0;
	if (!(vs = calloc(1, sizeof(*vs))))
		return -ENOMEM;
	if ((r = log_value_scopes(w->au->map, w->a.t, op->collection,
				  op->record_id, own, vs)) < 0)
		goto out;
	/* deps: the heads, and the values it settles, which a village
	 * holds though not the heads above them (a dep not held is no
	 * ancestor there: its own value would stay in conflict) */
	dl = *ls;
	for (size_t i = 0; i < vs->nids && dl.nheads < ENTRY_MAX_DEPS; i++) {
		size_t x;
		for (x = 0; x < dl.nheads; x++)
			if (memcmp(dl.heads[x], vs->ids[i], ENTRY_ID_LEN) == 0)
				break;
		if (x == dl.nheads)
			memcpy(dl.heads[dl.nheads++], vs->ids[i],
			       ENTRY_ID_LEN);
	}
	for (size_t i = 0; vs->n > 1 && i < vs->n; i++) {
		if (!log_may_write_in(w->au, vs->v[i], op->collection))
			continue;
		if ((r = write_in(w, op, vs->v[i], &dl, !wrote)) < 0)
			goto out;
		wrote = 1;
	}
	r = wrote;
out:
	free(vs);
	return r;
}

static int write_op(struct writer *w, const struct log_op *op)
{
	const char *scope = op->scope ? op->scope : w->au->scope;
	char named[ENTRY_MAX_SCOPE + 1];
	struct log_op renamed;
	struct local_state ls;
	struct mp_doc d = { 0 };
	int r;

	if (w->au->revoked) {
		why_set(w->why, w->whylen, "%s", w->au->revoked);
		return HAMLET_EREVOKED;
	}
	if ((r = check_op(w, op, scope, &d)) < 0)
		return r;
	r = log__local_write_rules(w->au->map, w->a.t,
				   schema_find(op->collection), op,
				   op->kind == ENTRY_PUT ? d.root : NULL, &ls,
				   w->why, w->whylen);
	if (op->kind == ENTRY_PUT)
		mp_doc_close(&d);
	if (ls.absent && (r == HAMLET_ENOTFOUND || r == HAMLET_ESCHEMA) &&
	    (restoring(w, scope) ||
	     creating_while_behind(w, scope) == HAMLET_EBEHIND))
		/* the record may be one the restored store lost (a partial
		 * put then reads as a new record missing fields, a delete
		 * as not found), in this feed or another of the node's:
		 * while it waits for its own entries, the node says so,
		 * and the writer retries later */
		return HAMLET_EBEHIND;
	if (r < 0)
		return r;
	if (op->kind == ENTRY_PUT && !ls.nheads && !ls.unchanged &&
	    (r = creating_while_behind(w, scope)) < 0)
		return r;
	if (ls.unchanged) {
		/* no entry: status duplicate, seq 0, id zero */
		if (w->out) {
			log_out_clear(&w->out[w->i]);
			w->out[w->i].status = LOG_DUPLICATE;
		}
		return 0;
	}
	if (op->kind == ENTRY_ERASE && op->scope && ls.nheads &&
	    (r = erase_scope_reaches(w, op)) < 0)
		return r;
	if (op->kind == ENTRY_DELETE && op->scope && ls.nheads &&
	    (r = delete_scope_reaches(w, op, &ls)) < 0)
		return r;
	r = 0;
	if (op->scope && ls.nheads &&
	    (op->kind == ENTRY_PUT || op->kind == ENTRY_DELETE) &&
	    (r = stored_name(w, op, &ls, named)) < 0)
		return r;
	if (r == 1) {
		/* the scope given by its name since a move: written under
		 * the one the record's changes were written in, which every
		 * node that holds them reads (one certified for the old
		 * name reads no entry written under the new) */
		renamed = *op;
		renamed.scope = named;
		op = &renamed;
		scope = named;
	}
	if (op->kind == ENTRY_DELETE && op->scope && !op->resolve &&
	    ls.nheads > 1 && (r = heads_in_scope(w, op, &ls)) < 0)
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
	if ((r = resolve_in_value_scopes(w, op, &ls, scope)) != 0)
		return r < 0 ? r : 0;
	/* a change to a record lives in the record's scope, so that it
	 * reaches the nodes that hold the record (a province editing a
	 * village's record writes in the village's scope); a record of a
	 * scope above ours is changed in our own */
	if (!op->scope && ls.scope[0] &&
	    scopemap_under(w->au->map, ls.scope, scope))
		scope = ls.scope;
	return write_in(w, op, scope, &ls, 1);
}

/*
 * A put's text in NFC before anything judges it (textnorm.h): every
 * local write, from put, import, a resolution or the HTTP API, comes
 * here, so that one name typed in either Unicode form is one value,
 * and a put of the value a record holds, in the other form, changes
 * nothing. The rest of the operation is op's.
 */
static int write_one(struct writer *w, const struct log_op *op)
{
	struct log_op nfc;
	struct mp_doc d;
	uint8_t *nb = NULL;
	size_t nl = 0;
	int r;

	if (op->kind != ENTRY_PUT || !op->body ||
	    mp_doc_parse(&d, op->body, op->body_len,
			 SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP) < 0)
		return write_op(w, op); /* check_op() names what is wrong */
	r = textnorm_body_nfc(d.root, &nb, &nl);
	mp_doc_close(&d);
	if (r < 0)
		return r;
	if (r == 0)
		return write_op(w, op);
	nfc = *op;
	nfc.body = nb;
	nfc.body_len = nl;
	r = write_op(w, &nfc);
	free(nb);
	return r;
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
	w->behind = 0; /* asked again in each transaction */
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
			why_set(why, whylen, "%s", why_translate(hamlet_strerror(r)));
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
