/*
 * hamlet peers list|add HOST:PORT|remove HOST:PORT [--socket PATH]
 *
 * The running daemon's dial list. Changes last until the daemon restarts;
 * put permanent peers in /etc/hamlet/hamletd.conf.
 */
#include "cli.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

int cmd_peers(int argc, char **argv)
{
	const char *sockopt = NULL;
	struct mp_doc doc;
	uint8_t *buf = NULL;
	const msgpack_object *res;
	char *pos[2];
	int npos, r, have_doc = 0;
	const struct cli_opt opts[] = {
		{ "--socket", &sockopt, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("peers", argc, argv, opts, pos, 2, &npos)) < 0)
		goto out;
	const char *verb = npos ? pos[0] : "list";
	const char *sock = cli_socket_path(sockopt);
	if (strcmp(verb, "list") == 0 && npos <= 1) {
		if ((r = cli_rpc(sock, "peers", NULL, 0, &doc, &buf, &res)) < 0)
			goto out;
		have_doc = 1;
		if (cli_global.json) {
			cli_json_print(cli_mp_json(res));
		} else if (res->type != MSGPACK_OBJECT_ARRAY ||
			   res->via.array.size == 0) {
			printf(_("no peers: add one with \"hamlet peers add HOST:PORT\"\n"));
		} else {
			for (uint32_t i = 0; i < res->via.array.size; i++) {
				const msgpack_object *a = &res->via.array.ptr[i];
				if (a->type == MSGPACK_OBJECT_STR)
					printf("%.*s\n", (int)a->via.str.size,
					       a->via.str.ptr);
			}
		}
		r = 0;
		goto out;
	}
	if ((strcmp(verb, "add") == 0 || strcmp(verb, "remove") == 0) &&
	    npos == 2) {
		int add = verb[0] == 'a';
		if ((r = cli_rpc(sock, add ? "peer_add" : "peer_remove", pos[1],
				 0, &doc, &buf, &res)) < 0)
			goto out;
		have_doc = 1;
		printf(_("%s %s %s the daemon's peers (until it restarts; make it permanent in hamletd.conf)\n"),
		       add ? _("added") : _("removed"), pos[1],
		       add ? _("to") : _("from"));
		if (add && res && res->type == MSGPACK_OBJECT_STR)
			printf(_("hamletd will dial %.*s\n"), (int)res->via.str.size,
			       res->via.str.ptr);
		r = 0;
		goto out;
	}
	r = cli_usage_err("peers",
			  _("expected \"peers list\", \"peers add HOST:PORT\" or \"peers remove HOST:PORT\""));
out:
	if (have_doc)
		mp_doc_close(&doc);
	free(buf);
	return cli_exit_code(r);
}
