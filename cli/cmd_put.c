/*
 * hamlet put COLLECTION ID [--scope SCOPE] [JSON|-]
 */
#include "cli.h"
#include "import_map.h"

#include "error.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A put refused on a deleted record: who deleted it and when, and where
 * its last values are (docs/operator-guide.md "A record deleted by
 * mistake"). Nothing when the record is not deleted. */
static void deleted_hint(struct node *n, const char *coll, const char *id)
{
	struct store_txn *t = NULL;
	struct record_view v;
	char at[128];
	char *q;

	if (store_txn_begin(n->st, 1, &t) < 0)
		return;
	if (record_view_load(t, coll, id, &v) == 0) {
		if (v.deleted && !v.erased) {
			q = cli_sh_quote(id);
			cli_record_deleted_at(t, &v, at, sizeof(at));
			cli_err(_("%s/%s was deleted %s; to restore it, put it again with every required field (its last values: %s history %s %s)"),
				coll, id, at, cli_prog(), coll, q ? q : id);
			free(q);
		}
		record_view_close(&v);
	}
	store_txn_abort(t);
}

int cmd_put(int argc, char **argv)
{
	const char *scope = NULL, *src;
	const struct schema *s;
	char *pos[3], *text = NULL, why[LOG_WHY_MAX] = "", eid[9];
	size_t len;
	uint8_t *body = NULL;
	size_t blen = 0;
	json_t *j = NULL;
	struct node *n = NULL;
	int through_daemon = 0;
	struct log_author au;
	int via = 0;
	struct log_op op;
	struct log_out out;
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--scope", &scope, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("put", argc, argv, opts, pos, 3, &npos)) < 0)
		goto out;
	if ((r = cli_coll_id("put", pos, npos, &s)) < 0)
		goto out;
	if (scope && (r = cli_check_scope(scope, _("scope"))) < 0)
		goto out;
	src = npos == 3 ? pos[2] : "-";
	if (strcmp(src, "-") == 0) {
		if (npos == 2 && isatty(0)) {
			r = cli_usage_err("put",
					  _("missing JSON: give the fields as a JSON object, like '{\"phone\":\"0912345678\"}', or - to read them from standard input"));
			goto out;
		}
		if ((r = cli_read_all("-", &text, &len)) < 0)
			goto out;
		r = cli_json_parse(text, len, _("the fields (standard input)"), &j);
	} else {
		if ((r = cli_json_parse(src, strlen(src), _("the fields"), &j)) < 0)
			cli_json_arg_hint(src);
	}
	if (r < 0)
		goto out;
	if (json_is_object(j) && json_object_size(j) == 0) {
		cli_err(_("no field given: name at least one, like '{\"phone\":\"0912345678\"}'"));
		r = HAMLET_ESCHEMA;
		goto out;
	}
	r = import_map_fields(s, j, why, sizeof(why), NULL, 0);
	if (r == 0)
		r = cli_json_body(s, j, NULL, &body, &blen, why, sizeof(why));
	if (r < 0) {
		cli_err("%s", why);
		goto out;
	}
	if ((r = cli_node_open(0, &n, &through_daemon)) < 0)
		goto out;
	node_author(n, &au);
	memset(&op, 0, sizeof(op));
	op.kind = ENTRY_PUT;
	op.collection = s->name;
	op.record_id = pos[1];
	op.scope = scope;
	op.body = body;
	op.body_len = blen;
	if ((r = cli_write(n, through_daemon, &op, 1, &out, NULL, why,
			   sizeof(why), &via)) < 0) {
		cli_err(_("cannot save %s/%s: %s"), s->name, pos[1], why);
		if (r == HAMLET_EDELCONFLICT) {
			char *q = cli_sh_quote(pos[1]);
			char *b = strcmp(src, "-") ? cli_sh_quote(src) : NULL;
			cli_err(_("to keep it with your change: %s conflicts resolve %s %s %s; to delete it: %s conflicts resolve %s %s --delete"),
				cli_prog(), s->name, q ? q : pos[1],
				b ? b : "JSON", cli_prog(), s->name,
				q ? q : pos[1]);
			free(q);
			free(b);
		}
		if (r == HAMLET_ESCHEMA)
			deleted_hint(n, s->name, pos[1]);
		goto out;
	}
	if (cli_global.json) {
		json_t *o = json_object();
		char h[65];
		cli_hex(out.id, 32, h);
		json_object_set_new(o, "collection", json_string(s->name));
		json_object_set_new(o, "id", json_string(pos[1]));
		json_object_set_new(o, "unchanged",
				    json_boolean(cli_write_unchanged(&out)));
		/* an unchanged put wrote no entry */
		json_object_set_new(o, "entry", cli_write_unchanged(&out)
							? json_null()
							: json_string(h));
		json_object_set_new(o, "seq", json_integer((json_int_t)out.seq));
		cli_json_print(o);
	} else if (cli_write_unchanged(&out)) {
		printf(_("unchanged %s/%s: %s already as given; nothing written%s\n"),
		       s->name, pos[1],
		       json_object_size(j) == 1 ? _("the field is") : _("the fields are"),
		       via ? _(" (checked by hamletd)") : "");
	} else {
		cli_hex_short(out.id, eid);
		printf(P_("saved %s/%s: %zu field (entry %s, seq %llu%s)\n",
			  "saved %s/%s: %zu fields (entry %s, seq %llu%s)\n",
			  json_object_size(j)),
		       s->name, pos[1], json_object_size(j), eid,
		       (unsigned long long)out.seq,
		       via ? _(", through hamletd") : "");
	}
	cli_record_warn(n, "put", s->name, pos[1]);
	r = 0;
out:
	node_close(n);
	json_decref(j);
	free(body);
	free(text);
	return cli_exit_code(r);
}
