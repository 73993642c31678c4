/*
 * hamlet get COLLECTION ID [--json]
 */
#include "cli.h"

#include "error.h"

#include <ctype.h>
#include <string.h>

/* The id typed all in upper case, or all in lower case, when a record
 * of coll has it (an id is exact to the letter: NP-HP-1 is not
 * np-hp-1): 1 with it in out. */
static int case_other(struct store_txn *t, const char *coll, const char *id,
		      char out[ENTRY_MAX_RECORD_ID + 1])
{
	for (int up = 1; up >= 0; up--) {
		struct record_view w;
		size_t i;
		for (i = 0; id[i] && i < ENTRY_MAX_RECORD_ID; i++)
			out[i] = (char)(up ? toupper((unsigned char)id[i])
					   : tolower((unsigned char)id[i]));
		out[i] = 0;
		if (strcmp(out, id) == 0 ||
		    record_view_load(t, coll, out, &w) < 0)
			continue;
		record_view_close(&w);
		return 1;
	}
	return 0;
}

int cmd_get(int argc, char **argv)
{
	const struct schema *s;
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct record_view v;
	struct record_idvec by = { 0 };
	int have_view = 0, npos, r;
	char *pos[2];

	if ((r = cli_parse("get", argc, argv, NULL, pos, 2, &npos)) < 0)
		goto out;
	if ((r = cli_coll_id("get", pos, npos, &s)) < 0)
		goto out;
	if ((r = cli_node_open(1, &n, NULL)) < 0 ||
	    (r = cli_txn_read(n, &t)) < 0)
		goto out;
	if ((r = record_view_load(t, s->name, pos[1], &v)) < 0) {
		char other[ENTRY_MAX_RECORD_ID + 1];
		if (r == HAMLET_ENOTFOUND && case_other(t, s->name, pos[1], other))
			/* typed in the other case: ids are exact */
			cli_err(_("record %s/%s not found: an id is exact to the letter, and %s/%s exists (\"%s get %s %s\")"),
				s->name, pos[1], s->name, other, cli_prog(),
				s->name, other);
		else if (r == HAMLET_ENOTFOUND)
			cli_err(_("record %s/%s not found; check the collection and the id (\"%s find TEXT\" finds a person's records by ID number, insurance number or name)"),
				s->name, pos[1], cli_prog());
		else
			cli_err(_("cannot read %s/%s: %s"), s->name, pos[1],
				cli_strerror(r));
		goto out;
	}
	have_view = 1;
	if ((r = cli_access("get", s->name, pos[1], NULL, 1)) < 0)
		goto out;
	if (!v.erased &&
	    (r = cli_record_corrected_by(t, s->name, pos[1], &by)) < 0)
		goto bad;
	if (cli_global.json) {
		json_t *j, *a = json_array();
		if ((r = cli_record_json(t, s->name, pos[1], &v, &j)) < 0) {
			json_decref(a);
			goto bad;
		}
		for (size_t i = 0; i < by.n; i++)
			json_array_append_new(a, json_string(by.ids[i]));
		/* only when some record names it: the record's JSON is
		 * otherwise the one GET /v1/records gives */
		if (by.n)
			json_object_set_new(j, "corrected_by", a);
		else
			json_decref(a);
		cli_json_print(j);
	} else {
		cli_record_print_fields(stdout, t, s->name, pos[1], &v);
		/* a correction record names this one: its values are not
		 * to be used (docs/records.md "Correction records") */
		for (size_t i = 0; i < by.n; i++)
			printf(_("corrected by %s/%s (its %s names this record): use that record's values\n"),
			       s->name, by.ids[i], s->corrects);
		if ((r = cli_record_print_scope(stdout, t, &v, "")) < 0 ||
		    (r = cli_record_print_changed(stdout, t, &v, "")) < 0 ||
		    (r = cli_record_print_problems(stdout, t, s->name, pos[1],
						   &v, "")) < 0)
			goto bad;
	}
	r = 0;
	goto out;
bad:
	cli_err(_("cannot read %s/%s: %s"), s->name, pos[1], cli_strerror(r));
out:
	free(by.ids);
	if (have_view)
		record_view_close(&v);
	store_txn_abort(t);
	node_close(n);
	return cli_exit_code(r);
}
