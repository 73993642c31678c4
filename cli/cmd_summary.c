/*
 * hamlet summary --out FILE
 */
#include "cli.h"

#include "error.h"
#include "summary.h"

#include <stdlib.h>
#include <string.h>

int cmd_summary(int argc, char **argv)
{
	const char *path = NULL;
	struct node *n = NULL;
	uint64_t feeds = 0;
	char *pos[1];
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--out", &path, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("summary", argc, argv, opts, pos, 0, &npos)) < 0)
		goto out;
	if (!path) {
		r = cli_usage_err("summary",
				  "missing --out FILE: where to write the summary");
		goto out;
	}
	if ((r = cli_node_open(1, &n, NULL)) < 0)
		goto out;
	if ((r = summary_write(n->st, n->net.id, n->pk, path, &feeds)) < 0) {
		cli_err("cannot write the summary to %s: %s", path,
			hamlet_strerror(r));
		goto out;
	}
	if (cli_global.json) {
		json_t *j = json_object();
		json_object_set_new(j, "file", json_string(path));
		json_object_set_new(j, "feeds", json_integer((json_int_t)feeds));
		json_object_set_new(j, "node", json_string(n->name));
		cli_json_print(j);
	} else {
		char *q = cli_sh_quote(path);
		printf("wrote %s: what node %s holds, %llu feed%s\n"
		       "carry it to a node with newer data and run there: hamlet bundle create --for %s OUT\n",
		       path, n->name, (unsigned long long)feeds,
		       feeds == 1 ? "" : "s", q ? q : path);
		free(q);
	}
	r = 0;
out:
	node_close(n);
	return cli_exit_code(r);
}
