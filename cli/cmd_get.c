/*
 * hamlet get COLLECTION ID [--json]
 */
#include "cli.h"

#include "error.h"

int cmd_get(int argc, char **argv)
{
	const struct schema *s;
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct record_view v;
	int have_view = 0, npos, r;
	char *pos[2];

	if ((r = cli_parse("get", argc, argv, NULL, pos, 2, &npos)) < 0)
		goto out;
	if (npos < 2) {
		r = cli_usage_err("get", _("missing %s"),
				  npos ? "ID" : _("COLLECTION and ID"));
		goto out;
	}
	if (!(s = cli_schema(pos[0]))) {
		r = HAMLET_ECOLLECTION;
		goto out;
	}
	if ((r = cli_check_id(pos[1])) < 0)
		goto out;
	if ((r = cli_node_open(1, &n, NULL)) < 0 ||
	    (r = cli_txn_read(n, &t)) < 0)
		goto out;
	if ((r = record_view_load(t, s->name, pos[1], &v)) < 0) {
		if (r == HAMLET_ENOTFOUND)
			cli_err(_("record %s/%s not found; check the collection and the id (\"%s export %s --format csv\" lists its records)"),
				s->name, pos[1], cli_prog(), s->name);
		else
			cli_err(_("cannot read %s/%s: %s"), s->name, pos[1],
				cli_strerror(r));
		goto out;
	}
	have_view = 1;
	if ((r = cli_access("get", s->name, pos[1], NULL, 1)) < 0)
		goto out;
	if (cli_global.json) {
		json_t *j;
		if ((r = cli_record_json(t, s->name, pos[1], &v, &j)) < 0)
			goto bad;
		cli_json_print(j);
	} else {
		cli_record_print_fields(stdout, t, s->name, pos[1], &v);
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
	if (have_view)
		record_view_close(&v);
	store_txn_abort(t);
	node_close(n);
	return cli_exit_code(r);
}
