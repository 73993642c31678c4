/*
 * Showing a record: its fields, and its open conflicts and duplicates in
 * plain words with the command that resolves each. `get`, `conflicts`
 * and the write commands' warnings all print through here, so a conflict
 * reads the same wherever it shows up.
 */
#include "cli.h"

#include "error.h"
#include "hlc.h"
#include "i18n.h"
#include "scopemap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* --- fields for a person ----------------------------------------------- */

static const struct schema_field *field_of(const struct schema *s,
					   const char *name, size_t n)
{
	int fi = s ? schema_field_index(s, name, n) : -1;
	return fi < 0 ? NULL : &s->fields[fi];
}

/* label (marked NC_(ctx, ...)) in the reader's language; NULL where it
 * has no translation (English: the name or value reads as it is) */
static const char *label_shown(const char *ctx, const char *label)
{
	const char *t;

	if (!label || cli_global.json)
		return NULL;
	t = i18n_ctx(ctx, label);
	return t == label ? NULL : t;
}

int cli_field_head(const struct schema *s, const char *name, size_t n,
		   char out[CLI_FIELD_MAX])
{
	const struct schema_field *f = field_of(s, name, n);
	const char *l = f ? label_shown("field", f->label) : NULL;

	if (l)
		snprintf(out, CLI_FIELD_MAX, "%s (%.*s)", l, (int)n, name);
	else
		snprintf(out, CLI_FIELD_MAX, "%.*s", (int)n, name);
	return l != NULL;
}

char *cli_field_value(const struct schema *s, const char *name, size_t n,
		      const msgpack_object *o, int quote)
{
	const struct schema_field *f = field_of(s, name, n);
	const char *q = quote ? "'" : "", *l = NULL, *v;
	char day[I18N_WHEN_MAX], *out;
	int vn;

	if (o->type == MSGPACK_OBJECT_NIL)
		return strdup(_("(cleared)"));
	/* an amount as the reader writes it: "1.500.000" in Vietnamese
	 * (put and import take it so too); as stored in English */
	if (f && f->type == FT_INT && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    cli_day_first()) {
		char num[32];
		i18n_count((unsigned long long)o->via.u64, num);
		return strdup(num);
	}
	if (!f || o->type != MSGPACK_OBJECT_STR)
		return cli_value_text(o, quote);
	v = o->via.str.ptr;
	vn = (int)o->via.str.size;
	if (f->type == FT_ENUM)
		l = label_shown("enum", schema_value_label(f, v, (size_t)vn));
	/* the reader's word, then the value one types */
	if (l && asprintf(&out, "%s%s%s (%.*s)", q, l, q, vn, v) >= 0)
		return out;
	if ((f->type == FT_DATE || f->type == FT_MONTH) && cli_day_first() &&
	    i18n_ymd_as(v, (size_t)vn, 1, day, sizeof(day)) &&
	    asprintf(&out, "%s%s%s", q, day, q) >= 0)
		return out;
	return cli_value_text(o, quote);
}

int cli_fields_labelled(const struct schema *s, const msgpack_object *m)
{
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		const struct schema_field *f =
			field_of(s, k->via.str.ptr, k->via.str.size);
		if (f && label_shown("field", f->label))
			return 1;
	}
	return 0;
}

void cli_fields_print(FILE *f, const struct schema *s, const msgpack_object *m,
		      const char *lead)
{
	char head[CLI_FIELD_MAX];
	int labelled = cli_fields_labelled(s, m), w = 0;
	int lead_cols = i18n_width(lead, strlen(lead));

	/* labelled, the values start in one column: the heads vary more
	 * than the names did */
	for (uint32_t i = 0; labelled && i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		cli_field_head(s, k->via.str.ptr, k->via.str.size, head);
		if (i18n_width(head, strlen(head)) > w)
			w = i18n_width(head, strlen(head));
	}
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object_kv *kv = &m->via.map.ptr[i];
		char *val = cli_field_value(s, kv->key.via.str.ptr,
					    kv->key.via.str.size, &kv->val, 0);
		int pad;
		cli_field_head(s, kv->key.via.str.ptr, kv->key.via.str.size,
			       head);
		pad = labelled ? w - i18n_width(head, strlen(head)) : 0;
		fprintf(f, "%s%*s%s:%*s %s\n", i ? "" : lead, i ? lead_cols : 0,
			"", head, pad, "", val ? val : "?");
		free(val);
	}
}

/* --- problems ---------------------------------------------------------- */

/* The unique key's fields; for a correction record (v has reversal_of
 * set), the field naming the record it corrects too: part of its key. */
static void unique_fields(const struct schema *s, const struct record_view *v,
			  char *out, size_t n)
{
	char head[CLI_FIELD_MAX];

	/* as get shows them: the label in the reader's language, the
	 * name beside it */
	out[0] = 0;
	for (const int *u = s ? s->unique : NULL; u && *u >= 0; u++) {
		if (out[0])
			strncat(out, ", ", n - strlen(out) - 1);
		cli_field_head(s, s->fields[*u].name,
			       strlen(s->fields[*u].name), head);
		strncat(out, head, n - strlen(out) - 1);
	}
	if (out[0] && s->corrects && record_view_field(v, s->corrects)) {
		strncat(out, ", ", n - strlen(out) - 1);
		cli_field_head(s, s->corrects, strlen(s->corrects), head);
		strncat(out, head, n - strlen(out) - 1);
	}
}

/* " (by V1 (bk/c1/v1) at 2026-11-23 15:15:02 +07)" */
static void print_by(FILE *f, struct store_txn *t,
		     const struct record_cval *cv)
{
	char who[NAMES_LABEL_MAX], at[32];
	cli_who(t, cv->author, who);
	cli_hlc_text(cv->hlc, at);
	fprintf(f, _(" (by %s at %s)"), who, at);
}

/*
 * What a printed resolve command names the record by: "ID --heads P,...",
 * its heads (the first 16 hex digits of each) as shown, so that the
 * command settles what was shown or nothing (a value that arrived since
 * is not replaced unseen); the id alone for a record of more heads than
 * a put names. NULL when out of memory.
 */
static char *resolve_target(const char *qid, const struct record_view *v)
{
	const msgpack_object *h = v->heads;
	size_t n = h && h->type == MSGPACK_OBJECT_ARRAY ? h->via.array.size : 0;
	size_t len = strlen(qid) + sizeof(" --heads ") + n * 17, at;
	char *out = malloc(len);

	if (!out)
		return NULL;
	at = (size_t)snprintf(out, len, "%s", qid);
	if (!n || n > RECORD_MAX_HEADS)
		return out;
	at += (size_t)snprintf(out + at, len - at, " --heads ");
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *o = &h->via.array.ptr[i];
		if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size < 8) {
			out[strlen(qid)] = 0; /* not heads to name */
			return out;
		}
		if (i)
			out[at++] = ',';
		cli_hex((const uint8_t *)o->via.bin.ptr, 8, out + at);
		at += 16;
	}
	out[at] = 0;
	return out;
}

/* tp: the record holds two people under one id (record_view_two_people):
 * no choice is offered. */
static void print_conflict(FILE *f, struct store_txn *t,
			   const struct schema *s, const char *coll,
			   const char *id, const struct record_view *v,
			   const struct record_conflict *c, int tp,
			   const char *indent)
{
	const char *prog = cli_prog();
	char *qid = cli_sh_quote(id), head[CLI_FIELD_MAX];

	if (c->field[0] == 0) {
		char *tg = resolve_target(qid ? qid : id, v);
		const char *at = tg ? tg : qid ? qid : id;
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
		fprintf(f, _("%sCONFLICT update versus delete:"), indent);
		for (size_t i = 0; i < c->n; i++) {
			fprintf(f, "%s %s", i ? _(" vs") : "",
				strcmp(c->v[i].kind, "delete") == 0
					? _("deleted")
					: _("updated"));
			print_by(f, t, &c->v[i]);
		}
		if (tp)
			fprintf(f,
				_("; resolve with: %s conflicts resolve %s %s --delete, or see the WARNING below\n"),
				prog, coll, at);
		else if (missing[0])
			fprintf(f,
				_("; resolve with: %s conflicts resolve %s %s '%s}' to keep it (the delete cleared %s; the earlier values are in \"%s history %s %s\") or %s conflicts resolve %s %s --delete\n"),
				prog, coll, at, json, missing, prog, coll,
				qid ? qid : id, prog, coll, at);
		else
			fprintf(f,
				_("; resolve with: %s conflicts resolve %s %s (keeps the record as shown) or %s conflicts resolve %s %s --delete\n"),
				prog, coll, at, prog, coll, at);
		free(tg);
		free(qid);
		return;
	}
	cli_field_head(s, c->field, strlen(c->field), head);
	fprintf(f, _("%sCONFLICT %s"), indent, head);
	if (strcmp(c->rule, "immutable") == 0)
		fputs(_(" (set once, but written with different values)"), f);
	else if (strcmp(c->rule, "state") == 0)
		fputs(_(" (states that do not follow one another)"), f);
	fputc(':', f);
	for (size_t i = 0; i < c->n; i++) {
		char *txt = cli_field_value(s, c->field, strlen(c->field),
					    c->v[i].value, 1);
		fprintf(f, "%s %s", i ? _(" vs") : "", txt ? txt : "?");
		free(txt);
		print_by(f, t, &c->v[i]);
	}
	/* none where choosing would join two people (the WARNING says what
	 * to do); else one command for all the record's conflicting
	 * fields follows them (print_resolve_all) */
	if (c->n && tp)
		fputs(_("; do not resolve by choosing one: see the WARNING below"), f);
	fputc('\n', f);
	free(qid);
}

/*
 * One "resolve with:" line for every field conflict of v, naming each
 * field with the value shown (the first candidate: newest): one resolve
 * settles them all, so a command per field would settle the others with
 * whatever was shown and leave the next command nothing to do.
 */
static int print_resolve_all(FILE *f, const char *coll, const char *id,
			     const struct record_view *v, const char *indent)
{
	const msgpack_object *cs = v->conflicts;
	json_t *o = json_object();
	char *js = NULL, *q = NULL, *qid = cli_sh_quote(id), *tg = NULL;
	int r = 0, n = 0;

	for (uint32_t i = 0; o && i < cs->via.array.size; i++) {
		struct record_conflict c;
		if ((r = record_conflict_parse(&cs->via.array.ptr[i], &c)) < 0)
			goto out;
		if (c.field[0] && c.n) {
			json_object_set_new(o, c.field,
					    cli_mp_json(c.v[0].value));
			n++;
		}
		record_conflict_free(&c);
	}
	if (!n)
		goto out;
	js = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (js)
		q = cli_sh_quote(js);
	tg = resolve_target(qid ? qid : id, v);
	fprintf(f,
		P_("%sresolve with (the value shown; put the one you choose in its place): %s conflicts resolve %s %s %s\n",
		   "%sresolve with (every field in conflict, with the values shown; put the ones you choose in their place, all in this one command): %s conflicts resolve %s %s %s\n",
		   n),
		indent, cli_prog(), coll, tg ? tg : qid ? qid : id,
		q ? q : "'{...}'");
	r = 1;
out:
	free(tg);
	free(q);
	free(js);
	free(qid);
	json_decref(o);
	return r;
}

/* The command that deletes record id of coll: a plain delete, or, when
 * the record was deleted on one node and changed on another and that is
 * not settled yet (a plain delete of it is refused), a resolution that
 * deletes it. Into out. */
static void delete_command(char *out, size_t n, const char *coll,
			   const char *id, int in_conflict)
{
	char *q = cli_sh_quote(id);
	snprintf(out, n,
		 in_conflict ? "%s conflicts resolve %s %s --delete"
			     : "%s delete %s %s",
		 cli_prog(), coll, q ? q : id);
	free(q);
}

/* A duplicate of the record v (id) shown: both deletes, this one's
 * first (the record just written, when a put or import shows it: most
 * often the one typed twice), then the other's; other_del as
 * delete_command() takes it for the other. */
static void print_duplicate(FILE *f, const struct schema *s,
			    const struct record_view *v, const char *coll,
			    const char *id, const char *other,
			    const char *where, int other_del,
			    const char *indent)
{
	/* each a command with cli_prog() (a --home of up to PATH_MAX) */
	char fields[640], del_this[4800], del_other[4800];
	const char *prog = cli_prog();
	const char *last = record_key_correctable(s);
	char *q = cli_sh_quote(id);

	unique_fields(s, v, fields, sizeof(fields));
	delete_command(del_this, sizeof(del_this), coll, id,
		       record_view_conflict(v, "") != NULL);
	delete_command(del_other, sizeof(del_other), coll, other, other_del);
	if (!last)
		fprintf(f,
			_("%sDUPLICATE of %s/%s%s%s (same %s); resolve by deleting one of the two, this one (%s) or the other (%s): their key fields are set once and cannot be corrected\n"),
			indent, coll, other, where[0] ? _(" in ") : "", where,
			fields, del_this, del_other);
	else
		fprintf(f,
			_("%sDUPLICATE of %s/%s%s%s (same %s); resolve by deleting one of the two, this one (%s) or the other (%s), or by correcting the key fields of one (%s conflicts resolve %s %s '{\"%s\":\"...\"}')\n"),
			indent, coll, other, where[0] ? _(" in ") : "", where,
			fields, del_this, del_other, prog, coll, q ? q : id,
			last);
	free(q);
}

/*
 * Is this node a village by its certificate? A village holds only its own
 * part of an id two villages gave to two people, and sees the resident it
 * entered again under a new id as a duplicate of it; the commune deletes
 * the shared id for both (docs/operator-guide.md "One record id, two
 * people"), as a village's delete reaches only its own part.
 */
static int node_is_village(void)
{
	static int known = -1;
	struct cert_chain *ch;
	char why[1024];

	if (known >= 0 || !cli_global.node)
		return known > 0;
	known = 0;
	if (!(ch = calloc(1, sizeof(*ch))))
		return 0;
	node_cert_load(cli_global.node, hlc_wall_ms(), ch, NULL, NULL, why,
		       sizeof(why));
	known = ch->n > 0 && ch->c[0].role == CERT_VILLAGE;
	free(ch);
	return known;
}

/* Does the schema tell people apart by person_id (its unique key)? */
static int keyed_by_person(const struct schema *s)
{
	for (const int *u = s ? s->unique : NULL; u && *u >= 0; u++)
		if (strcmp(s->fields[*u].name, "person_id") == 0)
			return 1;
	return 0;
}

int cli_record_print_problems(FILE *f, struct store_txn *t, const char *coll,
			      const char *id, const struct record_view *v,
			      const char *indent)
{
	const struct schema *s = schema_find(coll);
	const msgpack_object *cs = v->conflicts;
	struct record_idvec dups;
	char two[SCHEMA_MAX_MAP_KEY + 1] = "";
	int r, lines = 0;

	/* the field two nodes gave two people's values, if any */
	record_view_two_people(s, v, two, sizeof(two));
	for (uint32_t i = 0; i < cs->via.array.size; i++) {
		struct record_conflict c;
		if ((r = record_conflict_parse(&cs->via.array.ptr[i], &c)) < 0)
			return r;
		print_conflict(f, t, s, coll, id, v, &c, two[0] != 0, indent);
		record_conflict_free(&c);
		lines++;
	}
	if (!two[0]) {
		if ((r = print_resolve_all(f, coll, id, v, indent)) < 0)
			return r;
		lines += r;
	}
	{
		struct record_fork_note fn;
		if ((r = record_forked(t, coll, id, &fn)) < 0)
			return r;
		if (r) {
			char a[17];
			cli_hex(fn.author, 8, a);
			fprintf(f,
				_("%sWARNING: changed by author %s… in feed %s past seq %llu, where that author signed two different entries (a fork): a node that received the other version first shows something else. \"%s forks\" lists the evidence; the administrator may revoke the key\n"),
				indent, a, fn.scope, (unsigned long long)fn.at,
				cli_prog());
			lines++;
		}
	}
	if (two[0]) {
		/* one village deleted its part already: a plain delete is
		 * refused (a conflict not settled), a resolution deletes */
		int one_deleted = record_view_conflict(v, "") != NULL;
		char *q = cli_sh_quote(id);
		fprintf(f,
			one_deleted
				? _("%sWARNING: two nodes wrote different %s values under this one id: most likely two different people, not one to correct. Do not resolve by choosing: on each village's node, write its own resident again under an id of its own (the village's name before it, like VILLAGE-%s) if it has not yet, then delete this one once, here. One village deleted its part already, so a plain delete is refused: delete it with a resolution, which reaches both villages (%s conflicts resolve %s %s --delete). docs/operator-guide.md, \"One record id, two people\"\n")
				: _("%sWARNING: two nodes wrote different %s values under this one id: most likely two different people, not one to correct. Do not resolve by choosing: on each village's node, write its own resident again under an id of its own (the village's name before it, like VILLAGE-%s), then delete this one once, here: the deletion reaches both villages (%s delete %s %s). docs/operator-guide.md, \"One record id, two people\"\n"),
			indent, two, id, cli_prog(), coll, q ? q : id);
		free(q);
		lines++;
	}
	if ((r = record_duplicate_ids(t, coll, id, v, &dups)) < 0)
		return r;
	for (size_t i = 0; i < dups.n; i++) {
		struct record_view ov;
		struct cli_scope sc = { .shown = "" };
		int other_del = 0;
		/* where the other one lives: across a merger, the two
		 * may have been written in two old communes */
		if ((r = record_view_load(t, coll, dups.ids[i], &ov)) == 0) {
			r = cli_record_scope(t, &ov, &sc);
			other_del = record_view_conflict(&ov, "") != NULL;
			record_view_close(&ov);
		}
		if (r < 0 && r != HAMLET_ENOTFOUND) {
			free(dups.ids);
			return r;
		}
		print_duplicate(f, s, v, coll, id, dups.ids[i], sc.shown,
				other_del, indent);
		lines++;
	}
	if (dups.n && keyed_by_person(s) && node_is_village()) {
		fprintf(f,
			_("%sbut if one of the two is an id the commune found given to two people (its hamlet conflicts warns of it), and the other this village's resident entered again under a new id, delete neither here: the commune deletes the shared id once, for both villages (a delete here would reach only this village's part). docs/operator-guide.md, \"One record id, two people\"\n"),
			indent);
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
	if ((r = scopemap_record_scope(cli_global.scopes, t, v, ret->written)) < 0)
		return r;
	if (!ret->written[0])
		return 0;
	scopemap_resolve(cli_global.scopes, ret->written, ret->effective);
	scopemap_show(cli_global.scopes, ret->written, ret->shown,
		      sizeof(ret->shown));
	return 0;
}

int cli_record_print_changed(FILE *f, struct store_txn *t,
			     const struct record_view *v, const char *indent)
{
	char who[NAMES_LABEL_MAX], at[32];
	struct entry e;
	int r = scopemap_record_newest(t, v, &e);

	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	cli_who(t, e.author, who);
	cli_hlc_text(e.hlc, at);
	fprintf(f, _("%slast changed: %s by %s\n"), indent, at, who);
	return 0;
}

void cli_record_deleted_at(struct store_txn *t, const struct record_view *v,
			   char *out, size_t n)
{
	char who[NAMES_LABEL_MAX], at[32];
	struct entry e;

	out[0] = 0;
	if (scopemap_record_newest(t, v, &e) < 0)
		return;
	cli_who(t, e.author, who);
	cli_hlc_text(e.hlc, at);
	snprintf(out, n, _("at %s by %s"), at, who);
}

int cli_record_print_scope(FILE *f, struct store_txn *t,
			   const struct record_view *v, const char *indent)
{
	struct cli_scope sc;
	int r = cli_record_scope(t, v, &sc);
	if (r == 0 && sc.shown[0])
		fprintf(f, _("%sscope: %s\n"), indent, sc.shown);
	return r;
}

void cli_record_print_fields(FILE *f, struct store_txn *txn, const char *coll,
			     const char *id, const struct record_view *v)
{
	if (v->erased) {
		char t[32], who[NAMES_LABEL_MAX];
		char *q = cli_sh_quote(id);
		cli_hlc_text(v->erase_hlc, t);
		cli_who(txn, v->erase_author, who);
		fprintf(f,
			_("%s/%s is erased: its contents were removed at %s by %s (reason: %s); who erased it and when: %s history %s %s\n"),
			coll, id, t, who, v->erase_reason, cli_prog(), coll,
			q ? q : id);
		free(q);
		return;
	}
	if (v->deleted) {
		char t[32];
		char *q = cli_sh_quote(id);
		cli_hlc_text(v->hlc, t);
		fprintf(f,
			_("%s/%s is deleted (last change at %s); its history: %s history %s %s\n"),
			coll, id, t, cli_prog(), coll, q ? q : id);
		free(q);
		return;
	}
	cli_fields_print(f, schema_find(coll), v->fields, "");
}


int cli_record_problem_count(struct store_txn *t, const char *coll,
			     const char *id, const struct record_view *v)
{
	int r = record_duplicates(t, coll, v, id, NULL, NULL);
	if (r < 0)
		return r;
	return r + (int)v->conflicts->via.array.size;
}

int cli_record_warn_txn(struct store_txn *t, const char *cmd,
			const char *coll, const char *id, int print)
{
	struct record_view v;
	int r;

	if ((r = record_view_load(t, coll, id, &v)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	r = cli_record_problem_count(t, coll, id, &v);
	if (r > 0 && print && cli_access(cmd, coll, id, NULL, 1) < 0) {
		fprintf(stderr, _("hamlet: note: %s/%s has open problems (\"%s conflicts\" shows them)\n"),
			coll, id, cli_prog());
	} else if (r > 0 && print) {
		int count = r;
		fprintf(stderr, _("hamlet: note: %s/%s has open problems:\n"),
			coll, id);
		r = cli_record_print_problems(stderr, t, coll, id, &v, "  ");
		if (r >= 0)
			r = count;
	}
	record_view_close(&v);
	return r;
}

/* After a write: a note on stderr when this node's certificate does not
 * hold now (expired, not yet valid): what it wrote is stored here, but
 * other nodes take it only once a valid certificate covers it. A node
 * not certified yet says so in status; a revoked one writes nothing. */
static void cert_warn(const struct node *n)
{
	struct cert_chain *ch = calloc(1, sizeof(*ch));
	uint64_t now = hlc_wall_ms();
	char why[512];
	const char *above = NULL;
	int early = 0;

	int r = ch ? node_cert_load(n, now, ch, NULL, NULL, why, sizeof(why))
		   : -ENOMEM;
	/* the node's own holds, one above it has ended: that one's
	 * renewal mends it, and reaches this node by itself */
	for (size_t i = 1; r == HAMLET_ECERT && !above && i < ch->n &&
			   i < CERT_MAX_CHAIN;
	     i++)
		if (ch->c[i].expires_ms && now >= ch->c[i].expires_ms &&
		    now >= ch->c[0].not_before_ms &&
		    (!ch->c[0].expires_ms || now < ch->c[0].expires_ms))
			above = ch->c[i].name;
	/* a certificate not valid yet: most often this PC's clock is
	 * behind, and setting it right is the cure, not a new one */
	for (size_t i = 0; r == HAMLET_ECERT && i < ch->n &&
			   i < CERT_MAX_CHAIN;
	     i++)
		early |= now < ch->c[i].not_before_ms;
	if (r == HAMLET_ECERT && above)
		cli_err(_("note: saved here, but the certificate of \"%s\" above this node's has ended (%s): other nodes refuse what it writes until whoever certified \"%s\" renews it; the renewal reaches this node by sync or USB bundle, and this node needs nothing new"),
			above, why, above);
	else if (r == HAMLET_ECERT && early)
		cli_err(_("note: saved here, but this node's certificate does not hold now (%s): other nodes refuse what it writes until this PC's date and time are set right"),
			why);
	else if (r == HAMLET_ECERT)
		cli_err(_("note: saved here, but this node's certificate does not hold now (%s): other nodes refuse what it writes until an administrator gives it a valid one"),
			why);
	else if (r == HAMLET_ENOTFOUND)
		cli_err(_("note: saved here, but this node has no certificate yet: other nodes refuse what it writes until an administrator certifies it (hamlet cert install FILE)"));
	free(ch);
}

int cli_record_warn(struct node *n, const char *cmd, const char *coll,
		    const char *id)
{
	struct store_txn *t = NULL;
	int r;

	cert_warn(n);
	if ((r = store_txn_begin(n->st, 1, &t)) < 0)
		return r;
	r = cli_record_warn_txn(t, cmd, coll, id, 1);
	store_txn_abort(t);
	return r;
}

struct corrected {
	const struct schema *s;
	struct store_txn *t;
	const char *id;
	struct record_idvec by;
	int err;
};

static int corrected_one(void *ctx, const char *coll, const char *id)
{
	struct corrected *c = ctx;
	struct record_view v;
	const msgpack_object *o;
	size_t il = strlen(c->id);
	char(*p)[ENTRY_MAX_RECORD_ID + 1];
	int hit;

	if (strcmp(id, c->id) == 0 ||
	    record_view_load(c->t, coll, id, &v) < 0)
		return 0;
	o = record_view_field(&v, c->s->corrects);
	hit = !v.deleted && o && o->type == MSGPACK_OBJECT_STR &&
	      o->via.str.size == il && memcmp(o->via.str.ptr, c->id, il) == 0;
	record_view_close(&v);
	if (!hit)
		return 0;
	if (!(p = realloc(c->by.ids, (c->by.n + 1) * sizeof(*p))))
		return -ENOMEM;
	c->by.ids = p;
	snprintf(p[c->by.n++], sizeof(*p), "%s", id);
	return 0;
}

int cli_record_corrected_by(struct store_txn *t, const char *coll,
			    const char *id, struct record_idvec *ret)
{
	struct corrected c = { .s = schema_find(coll), .t = t, .id = id };
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!c.s || !c.s->corrects)
		return 0;
	/* no index names what corrects a record: one pass over the
	 * collection's records, for the one record get shows */
	r = record_each(t, coll, corrected_one, &c);
	if (r < 0) {
		free(c.by.ids);
		return r;
	}
	*ret = c.by;
	return 0;
}
