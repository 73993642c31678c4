/*
 * Showing a record: its fields, and its open conflicts and duplicates in
 * plain words with the command that resolves each. `get`, `conflicts`
 * and the write commands' warnings all print through here, so a conflict
 * reads the same wherever it shows up.
 */
#include "cli.h"

#include "error.h"
#include "hlc.h"
#include "scopemap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One candidate value of a conflict, as record.c packs it:
 * [value, author bin32, hlc, entry id bin32, kind str]. */
struct cval {
	const msgpack_object *value;
	uint8_t author[32];
	uint64_t hlc;
	uint8_t entry[32];
	char kind[16];
};

/* [field, rule, [cval...]]; field "" with rule "delete" is
 * update-versus-delete. */
struct conflict {
	char field[SCHEMA_MAX_MAP_KEY + 1];
	char rule[16];
	struct cval *v;
	size_t n;
};

static int conflict_parse(const msgpack_object *o, struct conflict *c)
{
	const msgpack_object *f, *vals;
	size_t n;

	memset(c, 0, sizeof(*c));
	if (mp_get_array(o, 3, 0, &f, NULL) < 0 ||
	    mp_get_cstr(&f[0], c->field, sizeof(c->field)) < 0 ||
	    mp_get_cstr(&f[1], c->rule, sizeof(c->rule)) < 0 ||
	    mp_get_array(&f[2], SIZE_MAX, RECORD_MAX_OPS * 2, &vals, &n) < 0)
		return HAMLET_ECORRUPT;
	c->v = calloc(n ? n : 1, sizeof(*c->v));
	if (!c->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *x;
		struct cval *cv = &c->v[i];
		if (mp_get_array(&vals[i], 5, 0, &x, NULL) < 0 ||
		    mp_get_bin_fixed(&x[1], 32, cv->author) < 0 ||
		    mp_get_uint(&x[2], UINT64_MAX, &cv->hlc) < 0 ||
		    mp_get_bin_fixed(&x[3], 32, cv->entry) < 0 ||
		    mp_get_cstr(&x[4], cv->kind, sizeof(cv->kind)) < 0) {
			free(c->v);
			c->v = NULL;
			return HAMLET_ECORRUPT;
		}
		cv->value = &x[0];
	}
	c->n = n;
	return 0;
}

static void conflict_free(struct conflict *c)
{
	free(c->v);
	c->v = NULL;
}

/* Other live records with the same unique key. */
struct idvec {
	char (*ids)[ENTRY_MAX_RECORD_ID + 1];
	size_t n, cap;
};

static int idvec_add(void *ctx, const char *coll, const char *id)
{
	struct idvec *v = ctx;
	(void)coll;
	if (v->n == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 4;
		void *p = realloc(v->ids, nc * sizeof(*v->ids));
		if (!p)
			return -ENOMEM;
		v->ids = p;
		v->cap = nc;
	}
	snprintf(v->ids[v->n++], sizeof(v->ids[0]), "%s", id);
	return 0;
}

static int duplicates_get(struct store_txn *t, const char *coll,
			  const char *id, const struct record_view *v,
			  struct idvec *ret)
{
	int r;
	memset(ret, 0, sizeof(*ret));
	r = record_duplicates(t, coll, v, id, idvec_add, ret);
	if (r < 0) {
		free(ret->ids);
		ret->ids = NULL;
		ret->n = 0;
	}
	return r;
}

static void unique_fields(const struct schema *s, char *out, size_t n)
{
	out[0] = 0;
	for (const int *u = s ? s->unique : NULL; u && *u >= 0; u++) {
		if (out[0])
			strncat(out, ", ", n - strlen(out) - 1);
		strncat(out, s->fields[*u].name, n - strlen(out) - 1);
	}
}

/* " (by 3fa4c2e1 at 2026-11-23T08:15:02.123Z)" */
static void print_by(FILE *f, const struct cval *cv)
{
	char a[9], t[48];
	cli_hex_short(cv->author, a);
	hlc_format(cv->hlc, t);
	fprintf(f, " (by %s at %s)", a, t);
}

static void print_conflict(FILE *f, const struct schema *s, const char *coll,
			   const char *id, const struct record_view *v,
			   const struct conflict *c, const char *indent)
{
	const char *prog = cli_prog();
	char *qid = cli_sh_quote(id);

	if (c->field[0] == 0) {
		/* update versus delete: keeping the record takes every
		 * required field, and the delete cleared those that the
		 * update did not set again */
		char missing[256] = "", json[512] = "{";
		for (size_t i = 0; s && i < s->nfields; i++) {
			const char *name = s->fields[i].name;
			if (!s->fields[i].required ||
			    record_view_field(v, name))
				continue;
			snprintf(missing + strlen(missing),
				 sizeof(missing) - strlen(missing), "%s%s",
				 missing[0] ? ", " : "", name);
			snprintf(json + strlen(json),
				 sizeof(json) - strlen(json),
				 "%s\"%s\":\"...\"", json[1] ? "," : "", name);
		}
		fprintf(f, "%sCONFLICT update versus delete:", indent);
		for (size_t i = 0; i < c->n; i++) {
			fprintf(f, "%s %s", i ? " vs" : "",
				strcmp(c->v[i].kind, "delete") == 0
					? "deleted"
					: "updated");
			print_by(f, &c->v[i]);
		}
		if (missing[0])
			fprintf(f,
				"; resolve with: %s conflicts resolve %s %s '%s}' to keep it (the delete cleared %s; the earlier values are in \"%s history %s %s\") or %s conflicts resolve %s %s --delete\n",
				prog, coll, qid ? qid : id, json, missing,
				prog, coll, qid ? qid : id, prog, coll,
				qid ? qid : id);
		else
			fprintf(f,
				"; resolve with: %s conflicts resolve %s %s (keeps the record as shown) or %s conflicts resolve %s %s --delete\n",
				prog, coll, qid ? qid : id, prog, coll,
				qid ? qid : id);
		free(qid);
		return;
	}
	fprintf(f, "%sCONFLICT %s", indent, c->field);
	if (strcmp(c->rule, "immutable") == 0)
		fputs(" (set once, but written with different values)", f);
	else if (strcmp(c->rule, "state") == 0)
		fputs(" (states that do not follow one another)", f);
	fputc(':', f);
	for (size_t i = 0; i < c->n; i++) {
		char *txt = c->v[i].value->type == MSGPACK_OBJECT_NIL
				    ? strdup("(cleared)")
				    : cli_value_text(c->v[i].value, 1);
		fprintf(f, "%s %s", i ? " vs" : "", txt ? txt : "?");
		free(txt);
		print_by(f, &c->v[i]);
	}
	/* the shown value (the first: newest) as the suggested resolution */
	if (c->n) {
		json_t *o = json_object();
		char *js = NULL, *q = NULL;
		json_object_set_new(o, c->field, cli_mp_json(c->v[0].value));
		js = json_dumps(o, JSON_COMPACT);
		if (js)
			q = cli_sh_quote(js);
		fprintf(f, "; resolve with: %s conflicts resolve %s %s %s",
			prog, coll, qid ? qid : id, q ? q : "'{...}'");
		free(q);
		free(js);
		json_decref(o);
	}
	fputc('\n', f);
	free(qid);
}

static void print_duplicate(FILE *f, const struct schema *s,
			    const char *coll, const char *other,
			    const char *where, const char *indent)
{
	char fields[256];
	const char *prog = cli_prog();
	const char *last = "...";
	char *q = cli_sh_quote(other);

	unique_fields(s, fields, sizeof(fields));
	for (const int *u = s ? s->unique : NULL; u && *u >= 0; u++)
		last = s->fields[*u].name;
	fprintf(f,
		"%sDUPLICATE of %s/%s%s%s (same %s); resolve by deleting one of the two (%s delete %s %s) or by correcting the key fields of one (%s conflicts resolve %s %s '{\"%s\":\"...\"}')\n",
		indent, coll, other, where[0] ? " in " : "", where, fields, prog, coll, q ? q : other, prog,
		coll, q ? q : other, last);
	free(q);
}

int cli_record_print_problems(FILE *f, struct store_txn *t, const char *coll,
			      const char *id, const struct record_view *v,
			      const char *indent)
{
	const struct schema *s = schema_find(coll);
	const msgpack_object *cs = v->conflicts;
	struct idvec dups;
	int r, lines = 0;

	for (uint32_t i = 0; i < cs->via.array.size; i++) {
		struct conflict c;
		if ((r = conflict_parse(&cs->via.array.ptr[i], &c)) < 0)
			return r;
		print_conflict(f, s, coll, id, v, &c, indent);
		conflict_free(&c);
		lines++;
	}
	if ((r = duplicates_get(t, coll, id, v, &dups)) < 0)
		return r;
	for (size_t i = 0; i < dups.n; i++) {
		struct record_view ov;
		struct cli_scope sc = { .shown = "" };
		/* where the other one lives: across a merger, the two
		 * may have been written in two old communes */
		if ((r = record_view_load(t, coll, dups.ids[i], &ov)) == 0) {
			r = cli_record_scope(t, &ov, &sc);
			record_view_close(&ov);
		}
		if (r < 0 && r != HAMLET_ENOTFOUND) {
			free(dups.ids);
			return r;
		}
		print_duplicate(f, s, coll, dups.ids[i], sc.shown, indent);
		lines++;
	}
	free(dups.ids);
	return lines;
}

int cli_record_scope(struct store_txn *t, const struct record_view *v,
		     struct cli_scope *ret)
{
	int r;

	ret->effective[0] = ret->shown[0] = 0;
	if ((r = scopemap_record_scope(t, v, ret->written)) < 0)
		return r;
	if (!ret->written[0])
		return 0;
	scopemap_resolve(cli_global.scopes, ret->written, ret->effective);
	scopemap_show(cli_global.scopes, ret->written, ret->shown,
		      sizeof(ret->shown));
	return 0;
}

int cli_record_print_scope(FILE *f, struct store_txn *t,
			   const struct record_view *v, const char *indent)
{
	struct cli_scope sc;
	int r = cli_record_scope(t, v, &sc);
	if (r == 0 && sc.shown[0])
		fprintf(f, "%sscope: %s\n", indent, sc.shown);
	return r;
}

void cli_record_print_fields(FILE *f, const char *coll, const char *id,
			     const struct record_view *v)
{
	if (v->erased) {
		char t[48], who[65];
		char *q = cli_sh_quote(id);
		hlc_format(v->erase_hlc, t);
		cli_hex(v->erase_author, 32, who);
		fprintf(f,
			"%s/%s is erased: its contents were removed at %s by key %.16s… (reason: %s); who erased it and when: %s history %s %s\n",
			coll, id, t, who, v->erase_reason, cli_prog(), coll,
			q ? q : id);
		free(q);
		return;
	}
	if (v->deleted) {
		char t[48];
		char *q = cli_sh_quote(id);
		hlc_format(v->hlc, t);
		fprintf(f,
			"%s/%s is deleted (last change at %s); its history: %s history %s %s\n",
			coll, id, t, cli_prog(), coll, q ? q : id);
		free(q);
		return;
	}
	for (uint32_t i = 0; i < v->fields->via.map.size; i++) {
		const msgpack_object_kv *kv = &v->fields->via.map.ptr[i];
		char *val = cli_value_text(&kv->val, 0);
		fprintf(f, "%.*s: %s\n", (int)kv->key.via.str.size,
			kv->key.via.str.ptr, val ? val : "?");
		free(val);
	}
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char h[2 * 64 + 1];
	cli_hex(p, n, h);
	return json_string(h);
}

json_t *cli_erasure_json(const struct record_view *v)
{
	json_t *o = json_object();
	char tm[48];
	hlc_format(v->erase_hlc, tm);
	json_object_set_new(o, "entry", hex_json(v->erase_id, 32));
	json_object_set_new(o, "author", hex_json(v->erase_author, 32));
	json_object_set_new(o, "hlc", json_integer((json_int_t)v->erase_hlc));
	json_object_set_new(o, "time", json_string(tm));
	json_object_set_new(o, "reason", json_string(v->erase_reason));
	return o;
}

int cli_record_json(struct store_txn *t, const char *coll, const char *id,
		    const struct record_view *v, json_t **ret)
{
	json_t *j = json_object(), *conf = json_array(), *dj = json_array(),
	       *heads = json_array();
	const msgpack_object *cs = v->conflicts;
	struct idvec dups = { 0 };
	char tm[48];
	int r;

	if (!j || !conf || !dj || !heads) {
		r = -ENOMEM;
		goto fail;
	}
	json_object_set_new(j, "collection", json_string(coll));
	json_object_set_new(j, "id", json_string(id));
	json_object_set_new(j, "deleted", json_boolean(v->deleted));
	json_object_set_new(j, "erased", json_boolean(v->erased));
	if (v->erased)
		json_object_set_new(j, "erasure", cli_erasure_json(v));
	{
		/* the effective scope; the written one when a move applies */
		struct cli_scope sc;
		if ((r = cli_record_scope(t, v, &sc)) < 0)
			goto fail;
		if (sc.written[0])
			json_object_set_new(j, "scope",
					    json_string(sc.effective));
		if (strcmp(sc.written, sc.effective) != 0)
			json_object_set_new(j, "scope_written",
					    json_string(sc.written));
	}
	json_object_set_new(j, "fields", cli_mp_json(v->fields));
	for (uint32_t i = 0; i < cs->via.array.size; i++) {
		struct conflict c;
		json_t *cj, *vals;
		if ((r = conflict_parse(&cs->via.array.ptr[i], &c)) < 0)
			goto fail;
		cj = json_object();
		vals = json_array();
		json_object_set_new(cj, "field", json_string(c.field));
		json_object_set_new(cj, "rule", json_string(c.rule));
		for (size_t k = 0; k < c.n; k++) {
			json_t *x = json_object();
			hlc_format(c.v[k].hlc, tm);
			json_object_set_new(x, "value",
					    cli_mp_json(c.v[k].value));
			json_object_set_new(x, "author",
					    hex_json(c.v[k].author, 32));
			json_object_set_new(
				x, "hlc", json_integer((json_int_t)c.v[k].hlc));
			json_object_set_new(x, "time", json_string(tm));
			json_object_set_new(x, "entry",
					    hex_json(c.v[k].entry, 32));
			json_object_set_new(x, "kind", json_string(c.v[k].kind));
			json_array_append_new(vals, x);
		}
		json_object_set_new(cj, "values", vals);
		json_array_append_new(conf, cj);
		conflict_free(&c);
	}
	json_object_set_new(j, "conflicts", conf);
	conf = NULL;
	if ((r = duplicates_get(t, coll, id, v, &dups)) < 0)
		goto fail;
	for (size_t i = 0; i < dups.n; i++)
		json_array_append_new(dj, json_string(dups.ids[i]));
	free(dups.ids);
	json_object_set_new(j, "duplicates", dj);
	dj = NULL;
	for (uint32_t i = 0; i < v->heads->via.array.size; i++) {
		const msgpack_object *h = &v->heads->via.array.ptr[i];
		json_array_append_new(heads, cli_mp_json(h));
	}
	json_object_set_new(j, "heads", heads);
	heads = NULL;
	hlc_format(v->hlc, tm);
	json_object_set_new(j, "updated", json_string(tm));
	json_object_set_new(j, "ops", json_integer((json_int_t)v->nops));
	*ret = j;
	return 0;
fail:
	json_decref(j);
	json_decref(conf);
	json_decref(dj);
	json_decref(heads);
	return r;
}

const msgpack_object *cli_body_field(const msgpack_object *body,
				     const char *name)
{
	size_t nl = strlen(name);
	for (uint32_t i = 0; body && i < body->via.map.size; i++) {
		const msgpack_object *k = &body->via.map.ptr[i].key;
		if (k->via.str.size == nl &&
		    memcmp(k->via.str.ptr, name, nl) == 0)
			return &body->via.map.ptr[i].val;
	}
	return NULL;
}

void cli_body_missing_required(const struct schema *s,
			       const msgpack_object *body, char *out,
			       size_t n)
{
	out[0] = 0;
	for (size_t i = 0; i < s->nfields; i++) {
		const msgpack_object *o = cli_body_field(body, s->fields[i].name);
		if (!s->fields[i].required || (o && !mp_is_nil(o)))
			continue;
		snprintf(out + strlen(out), n - strlen(out), "%s%s",
			 out[0] ? ", " : "", s->fields[i].name);
	}
}

struct once {
	record_id_cb cb;
	void *ctx;
	char last[RECORD_KEY_MAX + 2]; /* collection '/' id of the last call */
};

static int once_cb(void *ctx, const char *coll, const char *id)
{
	struct once *o = ctx;
	char key[sizeof(o->last)];

	snprintf(key, sizeof(key), "%s/%s", coll, id);
	/* the records come in key order, so a repeat follows its first */
	if (strcmp(key, o->last) == 0)
		return 0;
	memcpy(o->last, key, sizeof(key));
	return o->cb(o->ctx, coll, id);
}

int cli_conflicts_each(struct store_txn *t, record_id_cb cb, void *ctx)
{
	struct once o = { .cb = cb, .ctx = ctx };
	return record_conflicts_each(t, once_cb, &o);
}

int cli_record_problem_count(struct store_txn *t, const char *coll,
			     const char *id, const struct record_view *v)
{
	int r = record_duplicates(t, coll, v, id, NULL, NULL);
	if (r < 0)
		return r;
	return r + (int)v->conflicts->via.array.size;
}

int cli_record_warn(struct node *n, const char *cmd, const char *coll,
		    const char *id)
{
	struct store_txn *t = NULL;
	struct record_view v;
	int r;

	if ((r = store_txn_begin(n->st, 1, &t)) < 0)
		return r;
	if ((r = record_view_load(t, coll, id, &v)) < 0) {
		store_txn_abort(t);
		return r == HAMLET_ENOTFOUND ? 0 : r;
	}
	r = cli_record_problem_count(t, coll, id, &v);
	if (r > 0 && cli_access(cmd, coll, id, NULL, 1) < 0) {
		fprintf(stderr, "hamlet: note: %s/%s has open problems (\"%s conflicts\" shows them)\n",
			coll, id, cli_prog());
	} else if (r > 0) {
		fprintf(stderr, "hamlet: note: %s/%s has open problems:\n",
			coll, id);
		r = cli_record_print_problems(stderr, t, coll, id, &v, "  ");
	}
	record_view_close(&v);
	store_txn_abort(t);
	return r;
}
