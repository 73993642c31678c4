/*
 * hamlet digest [--json]
 */
#include "cli.h"

#include "error.h"

int cmd_digest(int argc, char **argv)
{
	struct node *n = NULL;
	struct store_txn *t = NULL;
	uint8_t d[32];
	uint64_t count = 0;
	char h[65], *pos[1];
	int npos, r;

	if ((r = cli_parse("digest", argc, argv, NULL, pos, 0, &npos)) < 0)
		goto out;
	if ((r = cli_node_open(1, &n, NULL)) < 0 ||
	    (r = cli_txn_read(n, &t)) < 0)
		goto out;
	if ((r = record_digest(t, d, &count)) < 0) {
		cli_err(_("cannot compute the digest: %s"), cli_strerror(r));
		goto out;
	}
	cli_hex(d, 32, h);
	if (cli_global.json) {
		json_t *j = json_object();
		json_object_set_new(j, "digest", json_string(h));
		json_object_set_new(j, "records", json_integer((json_int_t)count));
		cli_json_print(j);
	} else {
		printf("%s\n", h);
	}
	r = 0;
out:
	store_txn_abort(t);
	node_close(n);
	return cli_exit_code(r);
}
