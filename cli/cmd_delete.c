/*
 * hamlet delete COLLECTION ID [--scope SCOPE]
 */
#include "cli.h"

#include "error.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

/* Two people under one id (record_view_two_people()): keeping the
 * record is refused, so only the deleting resolution is offered. */
static int two_people(struct node *n, const struct schema *s, const char *id,
		      char *field, size_t len)
{
	struct store_txn *t = NULL;
	struct record_view v;
	int two = 0;

	if (store_txn_begin(n->st, 1, &t) < 0)
		return 0;
	if (record_view_load(t, s->name, id, &v) == 0) {
		two = record_view_two_people(s, &v, field, len);
		record_view_close(&v);
	}
	store_txn_abort(t);
	return two;
}

/* A delete refused as a conflict not settled yet: the resolutions that
 * settle it, the one that keeps the record only when it may */
static void refused_hint(struct node *n, const struct schema *s,
			 const char *raw)
{
	char *q = cli_sh_quote(raw), two[SCHEMA_MAX_MAP_KEY + 1];
	const char *id = q ? q : raw;

	if (two_people(n, s, raw, two, sizeof(two)))
		cli_err(_("to delete it: %s conflicts resolve %s %s --delete (keeping it as shown is refused: two nodes wrote different %s values under this one id; \"%s conflicts\" shows the warning)"),
			cli_prog(), s->name, id, two, cli_prog());
	else
		cli_err(_("to delete it: %s conflicts resolve %s %s --delete; to keep it as shown: %s conflicts resolve %s %s"),
			cli_prog(), s->name, id, cli_prog(), s->name, id);
	free(q);
}

int cmd_delete(int argc, char **argv)
{
	const char *scope = NULL;
	const struct schema *s;
	struct node *n = NULL;
	int through_daemon = 0;
	struct log_author au;
	int via = 0;
	struct log_op op;
	struct log_out out;
	char *pos[2], why[LOG_WHY_MAX] = "", eid[9];
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--scope", &scope, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("delete", argc, argv, opts, pos, 2, &npos)) < 0)
		goto out;
	if ((r = cli_coll_id("delete", pos, npos, &s)) < 0)
		goto out;
	if (scope && (r = cli_check_scope(scope, _("scope"))) < 0)
		goto out;
	if ((r = cli_node_open(0, &n, &through_daemon)) < 0)
		goto out;
	node_author(n, &au);
	memset(&op, 0, sizeof(op));
	op.kind = ENTRY_DELETE;
	op.collection = s->name;
	op.record_id = pos[1];
	op.scope = scope;
	if ((r = cli_write(n, through_daemon, &op, 1, &out, NULL, why,
			   sizeof(why), &via)) < 0) {
		if (r == HAMLET_ENOTFOUND)
			cli_err(_("%s (it was never written here, or is deleted already); check the collection and the id"),
				why);
		else
			cli_err(_("cannot delete %s/%s: %s"), s->name, pos[1], why);
		if (r == HAMLET_EDELCONFLICT)
			refused_hint(n, s, pos[1]);
		goto out;
	}
	if (cli_global.json) {
		json_t *o = json_object();
		char h[65];
		cli_hex(out.id, 32, h);
		json_object_set_new(o, "collection", json_string(s->name));
		json_object_set_new(o, "id", json_string(pos[1]));
		json_object_set_new(o, "entry", json_string(h));
		json_object_set_new(o, "seq", json_integer((json_int_t)out.seq));
		cli_json_print(o);
	} else {
		cli_hex_short(out.id, eid);
		printf(_("deleted %s/%s (entry %s, seq %llu)%s\n"), s->name, pos[1],
		       eid, (unsigned long long)out.seq, via ? _(" through hamletd") : "");
	}
	cli_record_warn(n, "delete", s->name, pos[1]);
	r = 0;
out:
	node_close(n);
	return cli_exit_code(r);
}
