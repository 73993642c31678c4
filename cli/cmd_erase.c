/*
 * hamlet erase COLLECTION ID --reason TEXT [--scope SCOPE]
 *
 * A person's record erased (SPEC §1.6): a signed entry naming it, by an
 * administrator of its scope. Every node that receives it drops the
 * bodies of the record's entries, now and when they arrive later, and
 * rewrites its store so they are in none of its files; the envelopes
 * stay, so the history still verifies and shows who erased it and why.
 */
#include "cli.h"

#include "error.h"
#include "log.h"
#include "schema.h"

#include <stdlib.h>
#include <string.h>

int cmd_erase(int argc, char **argv)
{
	const char *reason = NULL, *scope = NULL;
	const struct schema *s;
	struct node *n = NULL;
	int through_daemon = 0, via = 0, npos, r;
	struct log_op op;
	struct log_out out;
	uint8_t *body = NULL;
	size_t body_len = 0;
	char *pos[2], why[512] = "", eid[9];
	const struct cli_opt opts[] = {
		{ "--reason", &reason, NULL },
		{ "--scope", &scope, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("erase", argc, argv, opts, pos, 2, &npos)) < 0)
		goto out;
	if (npos < 2) {
		r = cli_usage_err("erase", _("missing %s"),
				  npos ? "ID" : _("COLLECTION and ID"));
		goto out;
	}
	if (!reason) {
		r = cli_usage_err("erase",
				  _("--reason TEXT is required: say why (the person's request, a court order...); it is signed and kept in the history"));
		goto out;
	}
	if (!(s = cli_schema(pos[0]))) {
		r = HAMLET_ECOLLECTION;
		goto out;
	}
	if ((r = cli_check_id(pos[1])) < 0 ||
	    (scope && (r = cli_check_scope(scope, _("scope"))) < 0))
		goto out;
	if ((r = schema_erase_body(reason, &body, &body_len)) < 0) {
		if (r == HAMLET_EFORMAT)
			r = cli_usage_err("erase",
					  _("--reason: give 1-%d bytes of text without control characters"),
					  SCHEMA_MAX_REASON);
		goto out;
	}
	if ((r = cli_node_open(0, &n, &through_daemon)) < 0)
		goto out;
	memset(&op, 0, sizeof(op));
	op.kind = ENTRY_ERASE;
	op.collection = s->name;
	op.record_id = pos[1];
	op.scope = scope;
	op.body = body;
	op.body_len = body_len;
	if ((r = cli_write(n, through_daemon, &op, 1, &out, NULL, why,
			   sizeof(why), &via)) < 0) {
		if (r == HAMLET_ENOTFOUND)
			cli_err(_("%s (it was never written here); check the collection and the id"),
				why);
		else
			cli_err(_("cannot erase %s/%s: %s"), s->name, pos[1], why);
		goto out;
	}
	if (cli_global.json) {
		json_t *o = json_object();
		char h[65];
		cli_hex(out.id, 32, h);
		json_object_set_new(o, "collection", json_string(s->name));
		json_object_set_new(o, "id", json_string(pos[1]));
		json_object_set_new(o, "erased", json_true());
		json_object_set_new(o, "reason", json_string(reason));
		json_object_set_new(o, "entry", json_string(h));
		json_object_set_new(o, "seq", json_integer((json_int_t)out.seq));
		cli_json_print(o);
	} else {
		cli_hex_short(out.id, eid);
		printf(_("erased %s/%s (entry %s, seq %llu)%s\n"
		       "Its contents are gone from this node's files; each node that receives\n"
		       "the erasure removes them too. Its history still shows who erased it and why.\n"),
		       s->name, pos[1], eid, (unsigned long long)out.seq,
		       via ? _(" through hamletd") : "");
	}
	r = 0;
out:
	free(body);
	node_close(n);
	return cli_exit_code(r);
}
