/*
 * hamlet init --network FILE --scope SCOPE [--name NAME]
 */
#include "cli.h"

#include "access.h"

#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The last segment of the scope; failing that, the host name squeezed
 * into [a-z0-9-]. */
static int default_name(const char *scope, char *out, size_t n)
{
	const char *last = strrchr(scope, '/');
	char host[256] = "";
	size_t k = 0;

	snprintf(out, n, "%s", last ? last + 1 : scope);
	if (node_name_check(out) == 0)
		return 0;
	if (gethostname(host, sizeof(host) - 1) != 0)
		return -1;
	for (const char *p = host; *p && *p != '.' && k + 1 < n &&
				   k < NODE_MAX_NAME;
	     p++) {
		char c = (char)tolower((unsigned char)*p);
		out[k++] = (isalnum((unsigned char)c) && !(c & 0x80)) ? c : '-';
	}
	out[k] = 0;
	return node_name_check(out) == 0 ? 0 : -1;
}

int cmd_init(int argc, char **argv)
{
	const char *network = NULL, *scope = NULL, *name = NULL;
	const char *home;
	char namebuf[NODE_MAX_NAME + 1], why[512] = "", pkhex[65], idhex[65];
	struct node *n = NULL;
	char *pos[1];
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--network", &network, NULL },
		{ "--scope", &scope, NULL },
		{ "--name", &name, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("init", argc, argv, opts, pos, 0, &npos)) < 0)
		goto out;
	if (!network) {
		r = cli_usage_err("init",
				  _("missing --network FILE: the NAME.network file from the network's administrator"));
		goto out;
	}
	if (!scope) {
		r = cli_usage_err("init",
				  _("missing --scope: where this node sits cannot be guessed; give it as province/district/commune/village, like --scope bk/bach-thong/quang-thuan/na-pai"));
		goto out;
	}
	if ((r = cli_check_scope(scope, _("scope"))) < 0)
		goto out;
	if (!name) {
		if (default_name(scope, namebuf, sizeof(namebuf)) < 0) {
			r = cli_usage_err("init",
					  _("cannot make a node name from the scope or the host name; give one with --name NAME (1-64 of a-z, 0-9 and '-')"));
			goto out;
		}
		name = namebuf;
	} else if (node_name_check(name) < 0) {
		cli_err(_("node name \"%s\" is invalid: use 1-64 of a-z, 0-9 and '-'"),
			name);
		r = -EINVAL;
		goto out;
	}
	home = cli_home();
	if ((r = node_init(home, network, name, scope, why, sizeof(why))) < 0 ||
	    (r = access_dir_create(home, why, sizeof(why))) < 0) {
		cli_err("%s", why[0] ? why : cli_strerror(r));
		goto out;
	}
	if ((r = cli_node_open(1, &n, NULL)) < 0)
		goto out;
	cli_hex(n->pk, 32, pkhex);
	cli_hex(n->net.id, 32, idhex);
	if (cli_global.json) {
		json_t *j = json_object();
		json_object_set_new(j, "home", json_string(home));
		json_object_set_new(j, "name", json_string(n->name));
		json_object_set_new(j, "scope", json_string(n->scope));
		json_object_set_new(j, "public_key", json_string(pkhex));
		json_object_set_new(j, "network", json_string(n->net.name));
		json_object_set_new(j, "network_id", json_string(idhex));
		cli_json_print(j);
	} else {
		printf(_("created node %s in %s\n"
		       "  scope:      %s\n"
		       "  public key: %s\n"
		       "  network:    %s (id %s)\n"),
		       n->name, home, n->scope, pkhex, n->net.name, idhex);
		/* what the operator does next, before the node can sync */
		printf(_("next: give the public key above to the network's administrator (it is also in %s/node.conf), who issues this node's certificate; install it with \"%s cert install FILE\", then start hamletd\n"),
		       home, cli_prog());
	}
	r = 0;
out:
	node_close(n);
	return cli_exit_code(r);
}
