/*
 * hamlet summary --out FILE
 */
#include "cli.h"

#include "error.h"
#include "hlc.h"
#include "summary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cmd_summary(int argc, char **argv)
{
	char name[CERT_MAX_NAME + 1];
	const char *path = NULL;
	struct node *n = NULL;
	uint64_t feeds = 0;
	uint8_t *certs = NULL;
	size_t certs_len = 0;
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
				  _("missing --out FILE: where to write the summary"));
		goto out;
	}
	if ((r = cli_part_out("summary", path)) < 0 ||
	    (r = cli_node_open(1, &n, NULL)) < 0)
		goto out;
	snprintf(name, sizeof(name), "%s", n->name);
	{
		/* our chain goes along: the bundle's maker sends only what
		 * it lets us read */
		struct cert_chain *ch = malloc(sizeof(*ch));
		char cwhy[300];
		if (!ch) {
			r = -ENOMEM;
			goto out;
		}
		if (node_cert_load(n, hlc_wall_ms(), ch, &certs, &certs_len,
				   cwhy, sizeof(cwhy)) < 0) {
			cli_err(_("note: %s; a bundle made for this summary will be refused"),
				cwhy);
			certs = NULL;
			certs_len = 0;
		} else {
			/* named as every other command names it */
			snprintf(name, sizeof(name), "%s", ch->c[0].name);
		}
		free(ch);
	}
	if ((r = summary_write(n->st, n->net.id, n->pk, certs, certs_len, path,
			       &feeds)) < 0) {
		if (r == -EEXIST)
			cli_err(_("%s exists and is not a summary, so it is not replaced: name another file, or move that one away first"),
				path);
		else if (r == -ENODEV || r == -EISDIR)
			cli_err(_("cannot write %s: it is a directory or a device, not a file; name the summary's file"),
				path);
		else
			cli_err(_("cannot write the summary to %s: %s"), path,
				cli_strerror(r));
		cli_full_note(r, path);
		if (r == -ENODEV || r == -EISDIR)
			r = -EINVAL; /* the name given is wrong, not the system */
		goto out;
	}
	if (cli_global.json) {
		json_t *j = json_object();
		json_object_set_new(j, "file", json_string(path));
		json_object_set_new(j, "feeds", json_integer((json_int_t)feeds));
		json_object_set_new(j, "node", json_string(name));
		cli_json_print(j);
	} else {
		char *q = cli_sh_quote(path);
		printf(_("wrote %s: what node %s holds, %llu feed%s\n"
		       "carry it to a node with newer data and run there: hamlet bundle create --for %s OUT\n"),
		       path, name, (unsigned long long)feeds,
		       feeds == 1 ? "" : "s", q ? q : path);
		free(q);
	}
	r = 0;
out:
	free(certs);
	node_close(n);
	return cli_exit_code(r);
}
