/*
 * hamlet import COLLECTION --format csv|ndjson [--delimiter ,|;|tab]
 *               [--scope SCOPE] FILE|-
 *
 * All or nothing, as far as can be known before writing. The first pass
 * reads every row and checks it on its own (the columns, the id, each
 * value against the schema), then the file as a whole (an id given
 * twice), then each row against the record it puts to in the store, as
 * log_write() will (a new record needs its required fields, an immutable
 * field cannot change): any problem there and nothing is imported. The
 * second pass writes the rows through cli_write(), IMPORT_CHUNK
 * operations at a time. What no check can foresee (the store full, the
 * daemon gone, a record changed meanwhile) stops the import there, and
 * the message names the rows that are in the store. Once stored, the
 * records left with open problems (a person twice: two rows, or a row and
 * a stored record, with one person_id) are named as put names them.
 */
#include "cli.h"
#include "i18n.h"
#include "progress.h"
#include "stop.h"
#include "import_read.h"

#include "entry.h"
#include "error.h"
#include "schema.h"
#include "log.h"
#include "scopemap.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMPORT_CHUNK 5000

/* --- the file as a whole, and the rows against the store -------------- */

struct id_at {
	const char *id;
	size_t i; /* the row's index */
};

static int cmp_id_at(const void *a, const void *b)
{
	const struct id_at *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* By id alone, for bsearch: a file that holds an id twice is refused
 * (find_repeats()), so any row of the id found will do. */
static int cmp_id_prefix(const void *a, const void *b)
{
	const struct id_at *x = a, *y = b;
	return strcmp(x->id, y->id);
}

/*
 * Name each row whose id an earlier row has: two puts of one record in
 * one file would be merged into one record and counted twice, so the
 * file is refused and the operator merges the rows.
 */
static int find_repeats(struct importer *im)
{
	struct id_at *v = malloc((im->n ? im->n : 1) * sizeof(*v));
	size_t *first = malloc((im->n ? im->n : 1) * sizeof(*first));
	int r = -ENOMEM;

	if (!v || !first)
		goto out;
	for (size_t i = 0; i < im->n; i++) {
		v[i] = (struct id_at){ im->rows[i].id, i };
		first[i] = SIZE_MAX;
	}
	if (im->n > 1)
		qsort(v, im->n, sizeof(*v), cmp_id_at);
	for (size_t k = 1; k < im->n; k++)
		if (strcmp(v[k].id, v[k - 1].id) == 0)
			first[v[k].i] = first[v[k - 1].i] != SIZE_MAX
						? first[v[k - 1].i]
						: v[k - 1].i;
	for (size_t i = 0; i < im->n; i++)
		if (first[i] != SIZE_MAX)
			import_err(im, im->rows[i].where,
				N_("id %s again (first on %s %lu): a file may hold each record once; merge the two into one"),
				im->rows[i].id, im->unit,
				im->rows[first[i]].where);
	r = 0;
out:
	free(v);
	free(first);
	return r;
}

/* The fields of a put to an existing record that log_write() refuses:
 * a required one cleared, an immutable one changed. */
static void check_update(struct importer *im, const struct import_row *rw,
			 const msgpack_object *body,
			 const struct record_view *v)
{
	const struct schema *s = im->s;

	for (uint32_t j = 0; j < body->via.map.size; j++) {
		const msgpack_object_kv *kv = &body->via.map.ptr[j];
		int fi = schema_field_index(s, kv->key.via.str.ptr,
					    kv->key.via.str.size);
		const struct schema_field *f;
		const msgpack_object *cur;
		char *now;

		if (fi < 0)
			continue; /* cannot be: the body passed the schema */
		f = &s->fields[fi];
		cur = record_view_field(v, f->name);
		if (mp_is_nil(&kv->val) && f->required) {
			import_err(im, rw->where,
				N_("%s.%s of %s is required and cannot be cleared"),
				s->name, f->name, rw->id);
		} else if (f->rule == MR_STATE && cur &&
			   cur->type == MSGPACK_OBJECT_STR &&
			   kv->val.type == MSGPACK_OBJECT_STR &&
			   !mp_object_equal(cur, &kv->val) &&
			   !record_view_conflict(v, f->name) &&
			   !schema_state_follows(f, cur->via.str.ptr,
						 cur->via.str.size,
						 kv->val.via.str.ptr,
						 kv->val.via.str.size)) {
			/* refused before anything is written, not by the
			 * write, after the rows before it were stored */
			char order[128];
			schema_state_order(f, order, sizeof(order));
			import_err(im, rw->where,
				N_("%s.%s of %s moves forward only (%s); it is %.*s already"),
				s->name, f->name, rw->id, order,
				(int)cur->via.str.size, cur->via.str.ptr);
		} else if (f->rule == MR_IMMUTABLE && cur &&
			   !mp_object_equal(cur, &kv->val)) {
			now = cli_access("import", s->name, rw->id, NULL, 1) == 0
				      ? cli_value_text(cur, 1) : NULL;
			if (s->corrects)
				import_err(im, rw->where,
					N_("%s.%s of %s is %s already and cannot change; record a correction as a new %s record naming this one (\"%s\":\"%s\")"),
					s->name, f->name, rw->id,
					now ? now : "set", s->name,
					s->corrects, rw->id);
			else
				import_err(im, rw->where,
					N_("%s.%s of %s is %s already and cannot change; record a correction as a new record instead"),
					s->name, f->name, rw->id,
					now ? now : "set");
			free(now);
		}
	}
}

/*
 * An older sheet: a cell that differs from the record and holds a value
 * its field had before a later put gave it another (an edit, one that
 * came from another node, a value of a conflict now open): written, it
 * would undo that change unseen, or settle the conflict with a value
 * both sides had replaced. The row is refused unless --overwrite, naming
 * the fields and the newest such change, never their values. A cell
 * typed anew is not a value the field had, so only a value put back on
 * purpose reads as old, and --overwrite writes it. Rows re-creating a
 * deleted record (--recreate-deleted) are judged the same way, against
 * the puts before the deletion. A status field is not judged here: it
 * only moves forward, which the write checks and says.
 */
struct stale {
	struct store_txn *t;
	const struct schema *s;
	const msgpack_object *row[SCHEMA_MAX_FIELDS]; /* NULL: not judged */
	uint64_t had[SCHEMA_MAX_FIELDS]; /* newest put giving row's value */
	/* the first put after it giving another: the change the row
	 * would undo (a later put restating that value, as an import or a
	 * resolution does, is not who changed it) */
	uint64_t later[SCHEMA_MAX_FIELDS];
	uint8_t by[SCHEMA_MAX_FIELDS][ENTRY_KEY_LEN]; /* later's author */
	int pass; /* 0: had, 1: later */
	struct bodyz_buf zb;
};

/* A value as the record holds it: NULL (unset) is null. */
static int same_value(const msgpack_object *a, const msgpack_object *b)
{
	if (!a || mp_is_nil(a))
		return !b || mp_is_nil(b);
	return b && mp_object_equal(a, b);
}

static int stale_op(void *ctx, const struct record_op *op)
{
	struct stale *st = ctx;
	const uint8_t *b;
	size_t bl;
	struct mp_doc d;

	if (op->kind != ENTRY_PUT || !op->has_body)
		return 0;
	/* a body this node lacks or holds damaged tells nothing here;
	 * verify names it */
	if (log_body_at(st->t, op->id, op->lseq, &st->zb, &b, &bl) < 0 ||
	    mp_doc_parse(&d, b, bl, SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP) < 0)
		return 0;
	if (d.root->type == MSGPACK_OBJECT_MAP) {
		const msgpack_object_map *m = &d.root->via.map;
		for (uint32_t j = 0; j < m->size; j++) {
			const msgpack_object *k = &m->ptr[j].key;
			int fi = k->type == MSGPACK_OBJECT_STR
					 ? schema_field_index(st->s, k->via.str.ptr,
							      k->via.str.size)
					 : -1;
			if (fi < 0 || !st->row[fi])
				continue;
			if (same_value(&m->ptr[j].val, st->row[fi])) {
				if (!st->pass && op->hlc > st->had[fi])
					st->had[fi] = op->hlc;
			} else if (st->pass && st->had[fi] &&
				   op->hlc > st->had[fi] &&
				   (!st->later[fi] || op->hlc < st->later[fi])) {
				st->later[fi] = op->hlc;
				memcpy(st->by[fi], op->author, ENTRY_KEY_LEN);
			}
		}
	}
	mp_doc_close(&d);
	return 0;
}

static int check_stale(struct importer *im, struct store_txn *t,
		       const struct import_row *rw,
		       const msgpack_object *body,
		       const struct record_view *v)
{
	struct stale st;
	char names[512], at[32], who[NAMES_LABEL_MAX], head[CLI_FIELD_MAX];
	size_t nl = 0, k = 0, newest = SIZE_MAX;
	int any = 0, r;

	if (im->overwrite)
		return 0;
	memset(&st, 0, sizeof(st));
	st.t = t;
	st.s = im->s;
	for (uint32_t j = 0; j < body->via.map.size; j++) {
		const msgpack_object_kv *kv = &body->via.map.ptr[j];
		int fi = schema_field_index(im->s, kv->key.via.str.ptr,
					    kv->key.via.str.size);
		const struct schema_field *f;
		if (fi < 0)
			continue;
		f = &im->s->fields[fi];
		/* an immutable field is check_update's, a status the
		 * write's; a cell equal to what a live record shows
		 * changes nothing */
		if (f->rule == MR_IMMUTABLE || f->rule == MR_STATE ||
		    (!v->deleted &&
		     same_value(&kv->val, record_view_field(v, f->name))))
			continue;
		st.row[fi] = &kv->val;
		any = 1;
	}
	if (!any)
		return 0;
	r = record_ops_each(t, im->s->name, rw->id, stale_op, &st);
	if (r >= 0) {
		st.pass = 1;
		r = record_ops_each(t, im->s->name, rw->id, stale_op, &st);
	}
	bodyz_buf_free(&st.zb);
	if (r < 0)
		return r;
	names[0] = 0;
	for (size_t fi = 0; fi < SCHEMA_MAX_FIELDS; fi++) {
		const char *fn;
		if (!st.row[fi] || !st.had[fi] || st.later[fi] <= st.had[fi])
			continue;
		if (newest == SIZE_MAX || st.later[fi] > st.later[newest])
			/* the latest of the changes each field's cell undoes */
			newest = fi;
		fn = im->s->fields[fi].name;
		cli_field_head(im->s, fn, strlen(fn), head);
		if (nl < sizeof(names))
			nl += (size_t)snprintf(names + nl, sizeof(names) - nl,
					       "%s%s", k ? ", " : "", head);
		k++;
	}
	if (!k)
		return 0;
	cli_who(t, st.by[newest], who);
	cli_hlc_text(st.later[newest], at);
	import_err(im, rw->where,
		   k == 1 ? N_("%s/%s: the file's %s is an older value, which %s changed at %s: the file is older than that change, and importing it would undo it. Export the records again (hamlet export) and make your edit in the new file; if that older value is the one meant, import with --overwrite")
			  : N_("%s/%s: the file's %s are older values, changed since (the last by %s at %s): the file is older than those changes, and importing it would undo them. Export the records again (hamlet export) and make your edits in the new file; if those older values are the ones meant, import with --overwrite"),
		   im->s->name, rw->id, names, who, at);
	return 0;
}

/* Check one row against the record it puts to. */
/*
 * A row of a record in conflict: its fields in conflict whose value is
 * the one shown (an exported row, imported again) are left out, so that
 * importing it settles nothing; *ret_body gets the row without them
 * (NULL when none was). A person_id that two nodes wrote differently
 * (two people under one id) given another value is a problem of the
 * file. 2 when nothing is left to write.
 */
static int drop_shown_conflicts(struct importer *im,
				const struct import_row *rw,
				const msgpack_object *body,
				const struct record_view *v, uint8_t **ret_body,
				size_t *ret_len)
{
	const struct schema *s = im->s;
	char two[SCHEMA_MAX_MAP_KEY + 1] = "";
	int drop[SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP] = { 0 };
	uint32_t n = body->via.map.size, kept = 0;
	struct mp_writer w;

	*ret_body = NULL;
	record_view_two_people(s, v, two, sizeof(two));
	for (uint32_t j = 0; j < n && j < sizeof(drop) / sizeof(drop[0]); j++) {
		const msgpack_object_kv *kv = &body->via.map.ptr[j];
		int fi = schema_field_index(s, kv->key.via.str.ptr,
					    kv->key.via.str.size);
		const msgpack_object *cur;
		if (fi < 0 || !record_view_conflict(v, s->fields[fi].name)) {
			kept++;
			continue;
		}
		cur = record_view_field(v, s->fields[fi].name);
		if (mp_is_nil(&kv->val) ? !cur
					: cur && mp_object_equal(cur, &kv->val)) {
			drop[j] = 1;
			continue;
		}
		if (two[0] && strcmp(two, s->fields[fi].name) == 0)
			import_err(im, rw->where,
				N_("%s: %s is in conflict between two nodes (most likely two people under one id): leave that cell as exported, or settle it first (%s conflicts)"),
				rw->id, two, cli_prog());
		kept++;
	}
	if (kept == n)
		return 0;
	if (kept == 0)
		return 2;
	mp_writer_init(&w);
	msgpack_pack_map(&w.pk, kept);
	for (uint32_t j = 0; j < n; j++) {
		if (drop[j])
			continue;
		mp_pack_object(&w.pk, &body->via.map.ptr[j].key);
		mp_pack_object(&w.pk, &body->via.map.ptr[j].val);
	}
	*ret_body = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return *ret_body ? 1 : -ENOMEM;
}

/* The required fields body lacks, ", "-separated ("" when none), but
 * those in refused: given, and named already as wrong. */
static void missing_required(const struct schema *s,
			     const msgpack_object *body, uint32_t refused,
			     char *out, size_t n)
{
	out[0] = 0;
	for (size_t i = 0; i < s->nfields; i++) {
		const msgpack_object *o = mp_map_get(body, s->fields[i].name);
		if (!s->fields[i].required || (o && !mp_is_nil(o)) ||
		    (refused & (UINT32_C(1) << i)))
			continue;
		snprintf(out + strlen(out), n - strlen(out), "%s%s",
			 out[0] ? ", " : "", s->fields[i].name);
	}
}

/* --scope places new records only: a row of a record stored in another
 * scope is named, each one, with a way out that puts no row in the wrong
 * scope (without --scope, a new row would go to the node's own). */
static int check_scope(struct importer *im, struct store_txn *t,
		       const struct import_row *rw,
		       const struct record_view *v)
{
	struct cli_scope sc;
	int r = cli_record_scope(t, v, &sc);

	/* its old name or its new one, through a scope move: one place */
	if (r < 0 ||
	    (sc.written[0] &&
	     scopemap_same(cli_global.scopes, sc.written, im->scope)))
		return r;
	import_err(im, rw->where,
		   N_("%s is stored in scope %s, not in %s: --scope places new records only. Import the rows of records already stored in a file of their own without --scope (they stay where they are), and the new rows with --scope"),
		   rw->id, sc.written[0] ? sc.shown : _("(scopes that share no part)"),
		   im->scope);
	return 0;
}

static int check_row(struct importer *im, struct store_txn *t,
		     struct import_row *rw)
{
	struct record_view v;
	struct mp_doc d;
	char missing[256];
	uint8_t *nb = NULL;
	size_t nl = 0;
	int r, have_view;

	if (!rw->body)
		return 0; /* refused on its own already */
	if ((r = mp_doc_parse(&d, rw->body, rw->len,
			      SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP)) < 0)
		return r;
	r = record_view_load(t, im->s->name, rw->id, &v);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		goto out;
	have_view = r == 0;
	if (!have_view || v.deleted)
		rw->blanks = 0; /* a blank cell of a new record: not given */
	if (have_view && !v.erased && !v.deleted && im->scope &&
	    (r = check_scope(im, t, rw, &v)) < 0) {
		record_view_close(&v);
		goto out;
	}
	if (have_view && v.erased) {
		rw->skip = IMPORT_SKIP_ERASED;
	} else if (have_view && v.deleted && !im->recreate) {
		/* deleted on purpose, most often: a file imported again
		 * must not bring it back unseen */
		char at[128];
		rw->skip = IMPORT_SKIP_DELETED;
		cli_record_deleted_at(t, &v, at, sizeof(at));
		rw->gone = strdup(at);
	} else if (have_view && !v.deleted && record_view_conflict(&v, "")) {
		/* changed here, deleted elsewhere: any write would keep it,
		 * which is for the operator to decide */
		rw->skip = IMPORT_SKIP_UPDEL;
	} else if (have_view && !v.deleted &&
		   record_view_conflicted(im->s, d.root, &v) &&
		   record_view_shows(im->s, d.root, &v)) {
		rw->skip = IMPORT_SKIP_CONFLICT; /* the row as exported */
	} else if (have_view && !v.deleted &&
		   record_view_conflicted(im->s, d.root, &v)) {
		if ((r = drop_shown_conflicts(im, rw, d.root, &v, &nb, &nl)) <
		    0) {
			record_view_close(&v);
			goto out;
		}
		if (r == 2) {
			rw->skip = IMPORT_SKIP_CONFLICT;
		} else {
			check_update(im, rw, d.root, &v);
			if ((r = check_stale(im, t, rw, d.root, &v)) < 0) {
				record_view_close(&v);
				goto out;
			}
		}
	} else if (!have_view || v.deleted) {
		if (have_view) {
			/* --recreate-deleted: named once written */
			char at[128];
			cli_record_deleted_at(t, &v, at, sizeof(at));
			rw->gone = strdup(at);
			/* brought back as the file has it: not with values
			 * corrected before the deletion */
			if ((r = check_stale(im, t, rw, d.root, &v)) < 0) {
				record_view_close(&v);
				goto out;
			}
		}
		missing_required(im->s, d.root, rw->refused, missing,
				 sizeof(missing));
		if (missing[0])
			import_err(im, rw->where,
				N_("%s is %s and needs every required field; missing: %s"),
				rw->id, have_view ? _("deleted") : _("a new record"),
				missing);
	} else {
		check_update(im, rw, d.root, &v);
		if ((r = check_stale(im, t, rw, d.root, &v)) < 0) {
			record_view_close(&v);
			goto out;
		}
	}
	if (have_view)
		record_view_close(&v);
	r = 0;
out:
	mp_doc_close(&d);
	if (nb) {
		/* the row as written: without its fields left in conflict */
		free(rw->body);
		rw->body = nb;
		rw->len = nl;
		rw->dropped = 1;
	}
	return r;
}

/* The record a correction row names (health_event.corrects,
 * payment.reversal_of) into target; 0 when the row names none. */
static int row_corrects(const struct importer *im, const struct import_row *rw,
			char *target, size_t tl)
{
	const char *f = im->s->corrects;
	size_t fl = f ? strlen(f) : 0;
	struct mp_doc d;
	int found = 0;

	if (!fl || !rw->body ||
	    mp_doc_parse(&d, rw->body, rw->len,
			 SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP) < 0)
		return 0;
	if (d.root->type == MSGPACK_OBJECT_MAP)
		for (uint32_t j = 0; j < d.root->via.map.size && !found; j++) {
			const msgpack_object *k = &d.root->via.map.ptr[j].key,
					     *v = &d.root->via.map.ptr[j].val;
			if (k->type == MSGPACK_OBJECT_STR &&
			    k->via.str.size == fl &&
			    memcmp(k->via.str.ptr, f, fl) == 0 &&
			    v->type == MSGPACK_OBJECT_STR &&
			    v->via.str.size < tl) {
				memcpy(target, v->via.str.ptr, v->via.str.size);
				target[v->via.str.size] = 0;
				found = 1;
			}
		}
	mp_doc_close(&d);
	return found;
}

/*
 * Each correction row names a record it may correct: not itself, and one
 * the store holds or an earlier row of the file writes (the writer
 * judges each row as it comes, in the file's order). Every such problem
 * of the file is named at once, as the other checks' are, not the first
 * alone at write time.
 */
static int check_corrections(struct importer *im, struct store_txn *t)
{
	struct id_at *v = NULL, key;
	char target[SCHEMA_MAX_STR + 1];
	const char *f = im->s->corrects;
	int r = 0;

	if (!f || !im->n)
		return 0;
	if (!(v = malloc(im->n * sizeof(*v))))
		return -ENOMEM;
	for (size_t i = 0; i < im->n; i++)
		v[i] = (struct id_at){ im->rows[i].id, i };
	qsort(v, im->n, sizeof(*v), cmp_id_at);
	for (size_t i = 0; i < im->n && r >= 0; i++) {
		const struct import_row *rw = &im->rows[i];
		const struct id_at *hit;
		struct record_view tv;
		if (rw->skip || !row_corrects(im, rw, target, sizeof(target)))
			continue;
		if (strcmp(target, rw->id) == 0) {
			import_err(im, rw->where,
				N_("%s.%s names this record itself: give the id of the %s record it corrects"),
				im->s->name, f, im->s->name);
			continue;
		}
		key = (struct id_at){ target, 0 };
		hit = bsearch(&key, v, im->n, sizeof(*v), cmp_id_prefix);
		if (hit && hit->i < i)
			continue; /* written before it */
		if (hit) {
			import_err(im, rw->where,
				N_("%s.%s names %s, which comes later in this file (%s %lu): put that row above its correction"),
				im->s->name, f, target, im->unit,
				im->rows[hit->i].where);
			continue;
		}
		r = record_view_load(t, im->s->name, target, &tv);
		if (r == 0) {
			record_view_close(&tv);
		} else if (r == HAMLET_ENOTFOUND) {
			import_err(im, rw->where,
				N_("%s.%s names %s/%s, which this node does not hold: check the id; a correction is written on a node that holds the record it corrects"),
				im->s->name, f, im->s->name, target);
			r = 0;
		}
	}
	free(v);
	return r < 0 ? r : 0;
}

static int check_rows(struct importer *im, struct node *n)
{
	struct store_txn *t = NULL;
	int r;

	if ((r = cli_txn_read(n, &t)) < 0)
		return r;
	for (size_t i = 0; i < im->n; i++) {
		if ((r = check_row(im, t, &im->rows[i])) < 0) {
			cli_err(_("cannot check %s %lu against the store: %s"),
				im->unit, im->rows[i].where, cli_strerror(r));
			goto out;
		}
	}
	if ((r = check_corrections(im, t)) < 0) {
		cli_err(_("cannot check the corrections against the store: %s"),
			cli_strerror(r));
		goto out;
	}
	r = 0;
out:
	store_txn_abort(t);
	return r;
}

/* --- after writing: what the rows left open ---------------------------- */

#define IMPORT_NOTES_SHOWN 3 /* records whose problems are printed */

/*
 * Name, as put does, the imported records left with open problems: a
 * duplicate (two rows of one person, or a row and a record stored
 * before, with the same person_id) or a conflict. Neither is refused:
 * which record is wrong is for the operator to decide. The first
 * IMPORT_NOTES_SHOWN are printed, the rest counted, and hamlet conflicts
 * named. Returns how many records have them, or <0 (printed).
 */
static int note_problems(const struct importer *im, struct node *n)
{
	struct store_txn *t = NULL;
	size_t with = 0;
	int r;

	if ((r = cli_txn_read(n, &t)) < 0)
		goto out;
	for (size_t i = 0; i < im->n; i++) {
		r = cli_record_warn_txn(t, "import", im->s->name,
					im->rows[i].id,
					with < IMPORT_NOTES_SHOWN);
		if (r < 0)
			goto out;
		if (r > 0)
			with++;
	}
	if (with > IMPORT_NOTES_SHOWN)
		cli_err(_("note: and %zu more of the records imported have open problems"),
			with - IMPORT_NOTES_SHOWN);
	if (with)
		cli_err(_("note: %zu of the records imported have open problems (the same person twice, or a conflict); \"%s conflicts\" lists them all and says how to settle each"),
			with, cli_prog());
	r = with > INT_MAX ? INT_MAX : (int)with;
out:
	if (r < 0)
		cli_err(_("the rows were imported, but they could not be checked for duplicates: %s"),
			cli_strerror(r));
	store_txn_abort(t);
	return r;
}

/* --- writing ----------------------------------------------------------- */

struct outcome {
	size_t written, unchanged;
	/* skipped rows (IMPORT_SKIP_*) */
	size_t erased, left_open, deleted, updel;
	int via_daemon;
};

/* The rows not written because of what the store holds, named. */
static void note_skipped(const struct importer *im, const struct outcome *o,
			 size_t upto)
{
	char dids[200] = "";
	size_t dk = 0, dshown = 0;

	for (size_t i = 0; i < upto; i++) {
		if (!im->rows[i].dropped || im->rows[i].skip)
			continue;
		if (dk++ < 3) {
			size_t l = strlen(dids);
			snprintf(dids + l, sizeof(dids) - l, "%s%s %lu (%s)",
				 dshown++ ? ", " : "", im->unit,
				 im->rows[i].where, im->rows[i].id);
		}
	}
	if (dk)
		cli_err(_("note: %zu %s%s written without their fields in conflict, whose value was the one shown (%s%s): those conflicts stay open; \"%s conflicts\" settles each"),
			dk, im->unit, cli_plural(dk), dids, dk > 3 ? ", …" : "",
			cli_prog());
	for (int kind = IMPORT_SKIP_ERASED; kind <= IMPORT_SKIP_UPDEL;
	     kind++) {
		size_t k = kind == IMPORT_SKIP_ERASED	? o->erased
			   : kind == IMPORT_SKIP_DELETED ? o->deleted
			   : kind == IMPORT_SKIP_UPDEL	 ? o->updel
							 : o->left_open;
		char ids[400] = "";
		size_t shown = 0;
		if (!k)
			continue;
		for (size_t i = 0; i < upto && shown < 3; i++)
			if (im->rows[i].skip == kind) {
				const char *g = im->rows[i].gone;
				size_t l = strlen(ids);
				snprintf(ids + l, sizeof(ids) - l,
					 g ? _("%s%s %lu (%s, deleted %s)")
					   : "%s%s %lu (%s)%.0s",
					 shown ? ", " : "", im->unit,
					 im->rows[i].where, im->rows[i].id,
					 g ? g : "");
				shown++;
			}
		if (kind == IMPORT_SKIP_DELETED)
			cli_err(_("note: %zu %s%s of deleted records not written (%s%s): an import does not bring back a record deleted here; to re-create them, import again with --recreate-deleted"),
				k, im->unit, cli_plural(k), ids,
				k > shown ? ", …" : "");
		else if (kind == IMPORT_SKIP_ERASED)
			cli_err(_("note: %zu %s%s of erased records not written (%s%s): an erased record is never written again"),
				k, im->unit, cli_plural(k), ids,
				k > shown ? ", …" : "");
		else if (kind == IMPORT_SKIP_UPDEL)
			cli_err(_("note: %zu %s%s of records changed on one node and deleted on another not written (%s%s): whether such a record stays is settled first, with \"%s conflicts resolve\" (keep it with its fields, or --delete); then import the rows again"),
				k, im->unit, cli_plural(k), ids,
				k > shown ? ", …" : "", cli_prog());
		else
			cli_err(_("note: %zu %s%s equal to what records with open conflicts show (%s%s): nothing written, so the conflicts stay open; \"%s conflicts\" settles each"),
				k, im->unit, cli_plural(k), ids,
				k > shown ? ", …" : "", cli_prog());
	}
}

/* Say which rows, of the first `stored`, are in the store: `done`
 * records; the others were skipped on purpose (erased, or equal to
 * what a record in conflict shows). */
static void say_imported(const struct importer *im, size_t stored,
			 size_t done)
{
	const char *u = im->unit;
	struct outcome o = { 0 };

	for (size_t i = 0; i < stored; i++) {
		if (im->rows[i].skip == IMPORT_SKIP_ERASED)
			o.erased++;
		else if (im->rows[i].skip == IMPORT_SKIP_DELETED)
			o.deleted++;
		else if (im->rows[i].skip == IMPORT_SKIP_UPDEL)
			o.updel++;
		else if (im->rows[i].skip)
			o.left_open++;
	}
	note_skipped(im, &o, stored);
	if (done == stored)
		cli_err(_("%s %lu to %s %lu, the first %zu record%s, were imported"),
			u, im->rows[0].where, u, im->rows[stored - 1].where,
			stored, cli_plural(stored));
	else
		cli_err(_("%s %lu to %s %lu were imported: %zu record%s stored, %zu skipped as the notes above say"),
			u, im->rows[0].where, u, im->rows[stored - 1].where,
			done, cli_plural(done), stored - done);
}

/* The store stopped the import, not a row: why, and what was stored. */
static void say_stopped(const struct importer *im, const char *why,
			size_t stored, size_t done)
{
	cli_err("%s", why);
	if (stored) {
		say_imported(im, stored, done);
		cli_err(_("nothing after %s %lu was imported"), im->unit,
			im->rows[stored - 1].where);
	} else
		cli_err(_("nothing was imported"));
}

/* A fault no check foresaw, after end->stored of the m rows the write
 * was given (at[i]: the row of its op i; `before`: the records stored
 * by the writes before this one): say which rows are in the store. */
static void write_failed(const struct importer *im, const size_t *at,
			 size_t m, const struct cli_write_end *end, int err,
			 const char *why, size_t before)
{
	/* the rows before this one are done (written, or skipped) */
	size_t stored = end->stored < m ? at[end->stored] : at[m - 1] + 1;
	size_t done = before + (end->stored < m ? end->stored : m);
	const struct import_row *bad =
		&im->rows[at[end->failed < m ? end->failed : m - 1]];
	const char *u = im->unit;

	if (err == HAMLET_EDISKFULL || err == HAMLET_EMAPFULL) {
		/* the store is at fault, not the row */
		say_stopped(im, why, stored, done);
		cli_err(_("free space on the disk holding %s/store, then import again: rows already stored are found unchanged"),
			cli_home());
		return;
	}
	if (err == HAMLET_ECORRUPT) {
		/* the store is at fault, not the row: what to do is said
		 * with the exit code (cli_exit_code()) */
		say_stopped(im, why, stored, done);
		return;
	}
	if (err == HAMLET_EBEHIND || err == HAMLET_ECONFIG) {
		/* the node may not write now (own-feeds), whatever the row */
		say_stopped(im, why, stored, done);
		cli_err(err == HAMLET_EBEHIND
				? _("import the file again once hamlet status no longer says that own writes wait: rows already stored are found unchanged")
				: _("import the file again once own-feeds is mended: rows already stored are found unchanged"));
		return;
	}
	cli_err(_("%s %lu (id %s): %s"), u, bad->where, bad->id, why);
	if (stored == 0 && !end->unanswered &&
	    (err == HAMLET_ECERT || err == HAMLET_ESCOPE)) {
		/* where the records go, not what a row holds */
		cli_err(_("nothing was imported: this node may not write there; check --scope (or, without it, the node's own scope) against its certificate (%s cert list)"),
			cli_prog());
		return;
	}
	if (stored == 0 && !end->unanswered) {
		cli_err(_("nothing was imported; fix %s %lu and run the import again"),
			u, bad->where);
		return;
	}
	if (stored)
		say_imported(im, stored, done);
	if (end->unanswered)
		cli_err(_("from %s %lu on, see above; nothing after that request was imported. Importing the whole file again is safe: rows already stored are found unchanged"),
			u, im->rows[stored].where);
	else
		cli_err(_("nothing from %s %lu on was: fix %s %lu, then import the rows from %s %lu on"),
			u, im->rows[stored].where, u, bad->where, u,
			im->rows[stored].where);
}

/* Ctrl-C (or a SIGTERM) while the rows are written: the write under way
 * ends, and the import stops there, saying which rows are in the store
 * (stop.h). */
static void say_interrupted(const struct importer *im, size_t stored,
			    size_t done)
{
	if (stored) {
		say_imported(im, stored, done);
		cli_err(_("interrupted: nothing after %s %lu was imported. Importing the whole file again is safe: rows already stored are found unchanged"),
			im->unit, im->rows[stored - 1].where);
	} else {
		cli_err(_("interrupted: nothing was imported"));
	}
}

static int write_rows(struct importer *im, struct node *n, int through_daemon,
		      const char *scope, struct outcome *ret)
{
	struct log_op *ops = calloc(IMPORT_CHUNK, sizeof(*ops));
	struct log_out *out = calloc(IMPORT_CHUNK, sizeof(*out));
	size_t *at = calloc(IMPORT_CHUNK, sizeof(*at)); /* ops[i]'s row */
	struct cli_write_end end;
	char why[LOG_WHY_MAX];
	int via = 0, r;
	struct progress *prog = progress_new(_("importing"), _("records"),
					     im->n);

	struct stop stop;

	stop_begin(&stop);
	r = -ENOMEM;
	if (!ops || !out || !at)
		goto out;
	for (size_t start = 0; start < im->n; start += IMPORT_CHUNK) {
		size_t k = im->n - start;
		if (start > 0 && stop_asked(&stop)) {
			progress_end(prog);
			prog = NULL;
			say_interrupted(im, start,
					ret->written + ret->unchanged);
			r = CLI_EPROBLEMS;
			goto out;
		}
		if (k > IMPORT_CHUNK)
			k = IMPORT_CHUNK;
		size_t m = 0;
		for (size_t i = 0; i < k; i++) {
			const struct import_row *rw = &im->rows[start + i];
			if (rw->skip) {
				if (rw->skip == IMPORT_SKIP_ERASED)
					ret->erased++;
				else if (rw->skip == IMPORT_SKIP_DELETED)
					ret->deleted++;
				else if (rw->skip == IMPORT_SKIP_UPDEL)
					ret->updel++;
				else
					ret->left_open++;
				continue;
			}
			ops[m] = (struct log_op){ .kind = ENTRY_PUT,
						  .collection = im->s->name,
						  .record_id = rw->id,
						  .scope = scope,
						  .body = rw->body,
						  .body_len = rw->len };
			at[m++] = start + i;
		}
		if (m == 0) {
			progress_update(prog, start + k);
			continue;
		}
		why[0] = 0;
		r = cli_write(n, through_daemon, ops, m, out, &end, why,
			      sizeof(why), &via);
		ret->via_daemon |= via;
		if (r < 0) {
			progress_end(prog);
			prog = NULL;
			write_failed(im, at, m, &end, r, why,
				     ret->written + ret->unchanged);
			/* The exit code names the fault, as `hamlet import
			 * --help` and the man pages say: the store or hamletd
			 * failing stays 5 (a system error: fix it, import
			 * again) however many rows were stored before; a row
			 * hamletd refused after some were stored is 1 (a
			 * partial import), not 4 (nothing imported). */
			if ((start > 0 || end.stored > 0) &&
			    r != HAMLET_ECORRUPT &&
			    cli_exit_code(r) != CLI_EXIT_SYSTEM)
				r = CLI_EPROBLEMS;
			goto out;
		}
		for (size_t i = 0; i < m; i++) {
			if (cli_write_unchanged(&out[i]))
				ret->unchanged++;
			else
				ret->written++;
		}
		progress_update(prog, start + k);
	}
	r = 0;
out:
	progress_end(prog);
	free(ops);
	free(out);
	free(at);
	/* a signal that came during the last write, or while the import
	 * stopped, is delivered now: its default ends this process, as
	 * Ctrl-C would have without the wait */
	if (stop_asked(&stop) && r == 0)
		cli_err(_("interrupted after the last rows were stored: the whole file is imported"));
	stop_end(&stop);
	return r;
}

/* Say why nothing was imported; the problems were printed. */
static int refuse_file(const struct importer *im)
{
	if (im->nerr > IMPORT_MAX_ERRORS)
		cli_err(_("... and %lu more problems"), im->nerr - IMPORT_MAX_ERRORS);
	cli_err(_("nothing was imported: fix the %s above and run the import again"),
		im->nerr == 1 ? _("problem") : _("problems"));
	return im->nerr ? HAMLET_ESCHEMA : -ENOMEM;
}

/* With --recreate-deleted: the deleted records the rows brought back. */
static void note_recreated(const struct importer *im)
{
	char ids[400] = "";
	size_t k = 0;

	for (size_t i = 0; i < im->n; i++) {
		const struct import_row *rw = &im->rows[i];
		size_t l = strlen(ids);
		if (!rw->gone || rw->skip)
			continue;
		if (k++ < 3)
			snprintf(ids + l, sizeof(ids) - l, _("%s%s %lu (%s, deleted %s)"),
				 l ? ", " : "", im->unit, rw->where, rw->id,
				 rw->gone);
	}
	if (k)
		cli_err(_("note: %zu deleted record%s re-created (%s%s)"), k,
			cli_plural(k), ids, k > 3 ? ", …" : "");
}

/* One note for the rows written to records already stored with blank
 * cells: a blank cell leaves its field as it was, which someone who
 * emptied it in a spreadsheet would not expect. */
static void note_blanks(const struct importer *im)
{
	size_t rows = 0;
	for (size_t i = 0; i < im->n; i++)
		rows += im->rows[i].blanks > 0 && !im->rows[i].skip;
	if (rows)
		cli_err(P_("note: %zu row has blank cells for a record already stored: a blank cell leaves its field as it was, it does not clear it (to clear one: %s put %s ID '{\"FIELD\": null}')",
			   "note: %zu rows have blank cells for records already stored: a blank cell leaves its field as it was, it does not clear it (to clear one: %s put %s ID '{\"FIELD\": null}')",
			   rows),
			rows, cli_prog(), im->s->name);
}

int cmd_import(int argc, char **argv)
{
	const char *format = NULL, *scope = NULL, *delim = NULL, *path;
	struct importer im = { 0 };
	struct outcome res = { 0 };
	struct node *n = NULL;
	int through_daemon = 0;
	FILE *f = NULL;
	char *pos[2];
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--format", &format, NULL },
		{ "--scope", &scope, NULL },
		{ "--delimiter", &delim, NULL },
		{ "--recreate-deleted", NULL, &im.recreate },
		{ "--overwrite", NULL, &im.overwrite },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("import", argc, argv, opts, pos, 2, &npos)) < 0)
		goto out;
	if (npos == 1 && !schema_find(pos[0]) && access(pos[0], F_OK) == 0) {
		/* a file given, its collection forgotten */
		r = cli_usage_err("import",
				  _("name the collection before the file: hamlet import COLLECTION --format csv %s"),
				  pos[0]);
		goto out;
	}
	if (npos < 2) {
		r = cli_usage_err("import", _("missing %s"),
				  npos ? _("FILE (or - for standard input)")
				       : _("COLLECTION and FILE"));
		goto out;
	}
	if (!format) {
		r = cli_usage_err("import",
				  _("missing --format: add --format csv or --format ndjson"));
		goto out;
	}
	if (strcmp(format, "csv") != 0 && strcmp(format, "ndjson") != 0) {
		r = cli_usage_err("import",
				  _("unknown format \"%s\"; use --format csv or --format ndjson"),
				  format);
		goto out;
	}
	if (delim && (strcmp(format, "csv") != 0 ||
		      (strcmp(delim, ",") != 0 && strcmp(delim, ";") != 0 &&
		       strcmp(delim, "tab") != 0 && strcmp(delim, "\t") != 0))) {
		r = cli_usage_err("import",
				  _("--delimiter takes ',', ';' or tab (quoted: --delimiter ';'), with --format csv"));
		goto out;
	}
	if (delim)
		im.delim = strcmp(delim, "tab") == 0 ? '\t' : delim[0];
	if (!(im.s = cli_schema(pos[0]))) {
		r = HAMLET_ECOLLECTION;
		goto out;
	}
	if (scope && (r = cli_check_scope(scope, _("scope"))) < 0)
		goto out;
	im.scope = scope;
	path = pos[1];
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		r = -errno;
		cli_err(_("cannot read %s: %s"), path, strerror(errno));
		cli_path_note(path, r);
		goto out;
	}
	im.unit = strcmp(format, "csv") == 0 ? _("row") : _("line");
	if (strcmp(format, "csv") == 0)
		r = import_read_csv(&im, f, path);
	else
		r = import_read_ndjson(&im, f, path);
	if (r < 0)
		goto out;
	if (!im.fatal && (r = find_repeats(&im)) < 0)
		goto out;
	if (im.fatal) {
		r = refuse_file(&im);
		goto out;
	}
	if (im.n == 0 && !im.nerr)
		goto done;
	/* the rows that are right on their own are checked against the
	 * store even when others are not, so that one run names every
	 * problem of the file */
	if ((r = cli_node_open(0, &n, &through_daemon)) < 0 ||
	    (r = check_rows(&im, n)) < 0) {
		if (im.nerr)
			r = refuse_file(&im);
		goto out;
	}
	if (im.nerr) {
		r = refuse_file(&im);
		goto out;
	}
	if ((r = write_rows(&im, n, through_daemon, scope, &res)) < 0)
		goto out;
done:
	if (cli_global.json) {
		json_t *j = json_object();
		int open = n ? note_problems(&im, n) : 0;
		json_object_set_new(j, "collection", json_string(im.s->name));
		json_object_set_new(j, "rows", json_integer((json_int_t)im.n));
		json_object_set_new(j, "written",
				    json_integer((json_int_t)res.written));
		json_object_set_new(j, "unchanged",
				    json_integer((json_int_t)(res.unchanged +
							      res.left_open)));
		json_object_set_new(j, "left_in_conflict",
				    json_integer((json_int_t)(res.left_open +
							      res.updel)));
		json_object_set_new(j, "skipped_update_delete",
				    json_integer((json_int_t)res.updel));
		json_object_set_new(j, "skipped_erased",
				    json_integer((json_int_t)res.erased));
		json_object_set_new(j, "skipped_deleted",
				    json_integer((json_int_t)res.deleted));
		json_object_set_new(j, "imported", json_integer((json_int_t)im.n));
		json_object_set_new(j, "open_problems",
				    json_integer(open > 0 ? open : 0));
		cli_json_print(j);
	} else {
		printf(_("imported %zu %s%s into %s: %zu written, %zu unchanged%s\n"),
		       im.n, im.unit, cli_plural(im.n), im.s->name,
		       res.written, res.unchanged + res.left_open,
		       res.via_daemon ? _(", through hamletd") : "");
		fflush(stdout); /* the notes on stderr come after */
		note_skipped(&im, &res, im.n);
		note_recreated(&im);
		note_blanks(&im);
		if (n)
			note_problems(&im, n);
	}
	r = 0;
out:
	node_close(n);
	if (f && f != stdin)
		fclose(f);
	import_close(&im);
	return cli_exit_code(r);
}
