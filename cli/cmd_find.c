/*
 * hamlet find TEXT... [--json]
 *
 * Words given apart are one search text, joined by a space: `hamlet find
 * nong van` is `hamlet find "nong van"`.
 *
 * A person, by ID number, insurance number or part of the name, across
 * the collections: the fields that name a person are compared with TEXT
 * diacritics- and case-insensitively (vi_fold.h), so "nong" finds
 * "Nông" and "d" matches "đ". Each match is printed with the fields that
 * matched and the command to read it. Health records shown are logged in
 * the access log first (as get does); a search that finds nothing is
 * logged with what was asked.
 */
#include "cli.h"
#include "vi_fold.h"

#include "error.h"
#include "utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FIND_MAX 100 /* matches shown; more and the search is too wide */
#define FIND_WORDS 16 /* words of TEXT given apart */

/* The fields that name a person, by collection. */
static const struct {
	const char *coll;
	const char *fields[4];
} searched[] = {
	{ "health_profile", { "person_id", "insurance_no", "full_name" } },
	{ "health_event", { "person_id" } },
	{ "payment", { "beneficiary_id" } },
	{ "registration", { "applicant_id", "subject_id" } },
};

struct match {
	const char *coll;
	char *id;
	json_t *fields; /* name → value of each field that matched */
};

struct find_ctx {
	struct store_txn *t;
	const char *coll; /* the collection searched (static) */
	const char *const *fields;
	char key[256]; /* TEXT folded */
	struct match m[FIND_MAX];
	size_t n;
	int more; /* matches beyond FIND_MAX */
};

static int find_one(void *vctx, const char *coll, const char *id)
{
	struct find_ctx *c = vctx;
	struct record_view v;
	json_t *hit = NULL;
	char folded[1024];
	int r;

	if ((r = record_view_load(c->t, coll, id, &v)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	if (v.deleted || v.erased)
		goto out;
	for (size_t i = 0; i < 4 && c->fields[i]; i++) {
		const msgpack_object *o = record_view_field(&v, c->fields[i]);
		if (!o || o->type != MSGPACK_OBJECT_STR)
			continue;
		vi_fold_name(o->via.str.ptr, o->via.str.size, folded,
			     sizeof(folded));
		if (!strstr(folded, c->key))
			continue;
		if (!hit && !(hit = json_object())) {
			r = -ENOMEM;
			goto out;
		}
		json_object_set_new(hit, c->fields[i],
				    json_stringn(o->via.str.ptr,
						 o->via.str.size));
	}
	if (!hit)
		goto out;
	if (c->n == FIND_MAX) {
		c->more = 1;
		json_decref(hit);
		goto out;
	}
	c->m[c->n] = (struct match){ .coll = c->coll, .id = strdup(id),
				     .fields = hit };
	if (!c->m[c->n++].id)
		r = -ENOMEM;
out:
	record_view_close(&v);
	return r;
}

static void print_matches(const struct find_ctx *c, const char *text)
{
	if (cli_global.json) {
		json_t *j = json_object(), *a = json_array();
		json_object_set_new(j, "query", json_string(text));
		for (size_t i = 0; i < c->n; i++) {
			json_t *m = json_object();
			json_object_set_new(m, "collection",
					    json_string(c->m[i].coll));
			json_object_set_new(m, "id", json_string(c->m[i].id));
			json_object_set(m, "fields", c->m[i].fields);
			json_object_set_new(m, "next",
				json_sprintf("%s get %s %s", cli_prog(),
					     c->m[i].coll, c->m[i].id));
			json_array_append_new(a, m);
		}
		json_object_set_new(j, "matches", a);
		json_object_set_new(j, "more", json_boolean(c->more));
		cli_json_print(j);
		return;
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct schema *s = schema_find(c->m[i].coll);
		char head[CLI_FIELD_MAX];
		const char *k;
		json_t *v;
		printf("%s %s:", c->m[i].coll, c->m[i].id);
		json_object_foreach(c->m[i].fields, k, v) {
			cli_field_head(s, k, strlen(k), head);
			printf(" %s \"%s\"", head, json_string_value(v));
		}
		printf(_("\n  next: %s get %s %s\n"), cli_prog(), c->m[i].coll,
		       c->m[i].id);
	}
	if (c->n == 0) {
		/* what was typed, cut: a pasted page is not echoed back */
		size_t tl = strlen(text), keep = utf8_cut(text, tl, 80);
		printf(_("no record matches \"%.*s%s\" (searched: person and beneficiary IDs, insurance numbers, names)\n"),
		       (int)keep, text, keep < tl ? "…" : "");
	}
	if (c->more)
		printf(_("more than %d records match: give more of the name or the whole ID\n"),
		       FIND_MAX);
}

int cmd_find(int argc, char **argv)
{
	struct find_ctx *c = calloc(1, sizeof(*c));
	struct node *n = NULL;
	char *pos[FIND_WORDS], *text = NULL;
	int npos, r;
	size_t tl = 0;

	if (!c) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = cli_parse("find", argc, argv, NULL, pos, FIND_WORDS,
			   &npos)) < 0)
		goto out;
	if (npos < 1) {
		r = cli_usage_err("find", _("missing TEXT: an ID number, an insurance number or part of a name"));
		goto out;
	}
	for (int i = 0; i < npos; i++)
		tl += strlen(pos[i]) + 1;
	if (npos > 1) { /* the words given apart, as one text */
		if (!(text = malloc(tl))) {
			r = -ENOMEM;
			goto out;
		}
		text[0] = 0;
		for (int i = 0; i < npos; i++) {
			if (i)
				strcat(text, " ");
			strcat(text, pos[i]);
		}
		pos[0] = text;
	}
	/* bytes that are not text would fold to less than was asked and
	 * match (and log as read) records nobody asked for */
	if (utf8_check(pos[0], strlen(pos[0]), 0, NULL) != UTF8_OK) {
		r = cli_usage_err("find", _("TEXT is not UTF-8 text: give an ID number, an insurance number or part of a name"));
		goto out;
	}
	if (vi_fold_name(pos[0], strlen(pos[0]), c->key, sizeof(c->key)) == 0) {
		r = cli_usage_err("find", _("TEXT is empty: give an ID number, an insurance number or part of a name"));
		goto out;
	}
	if ((r = cli_node_open(1, &n, NULL)) < 0 ||
	    (r = cli_txn_read(n, &c->t)) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(searched) / sizeof(searched[0]); i++) {
		c->coll = searched[i].coll;
		c->fields = searched[i].fields;
		if ((r = record_each(c->t, searched[i].coll, find_one, c)) < 0) {
			cli_err(_("cannot read the records of %s: %s"),
				searched[i].coll, cli_strerror(r));
			goto out;
		}
	}
	/* log the health records shown before showing any; a search that
	 * found none is logged too, with what was asked: whether a person
	 * is held here is itself something read */
	for (size_t i = 0; i < c->n; i++)
		if ((r = cli_access("find", c->m[i].coll, c->m[i].id, NULL,
				    1)) < 0)
			goto out;
	if (c->n == 0) {
		char q[300];
		snprintf(q, sizeof(q), "search \"%.256s\", nothing found",
			 pos[0]);
		if ((r = cli_access("find", "health_profile", NULL, q, 0)) < 0)
			goto out;
	}
	print_matches(c, pos[0]);
	r = 0;
out:
	if (c) {
		for (size_t i = 0; i < c->n; i++) {
			free(c->m[i].id);
			json_decref(c->m[i].fields);
		}
		store_txn_abort(c->t);
		free(c);
	}
	node_close(n);
	free(text);
	return cli_exit_code(r);
}
