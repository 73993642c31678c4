/*
 * hamlet network create NAME [--out DIR]
 */
#include "cli.h"

#include "error.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

static int network_create_run(const char *name, const char *dir)
{
	struct network_info ni;
	char why[512] = "", idhex[65];
	int r;

	if (node_name_check(name) < 0) {
		cli_err(_("network name \"%s\" is invalid: use 1-64 of a-z, 0-9 and '-', like bac-kan"),
			name);
		return -EINVAL;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		r = -errno;
		cli_err(_("cannot create the directory %s: %s"), dir,
			strerror(errno));
		return r;
	}
	if ((r = network_create(name, dir, &ni, why, sizeof(why))) < 0) {
		cli_err("%s", why[0] ? why : cli_strerror(r));
		goto out;
	}
	cli_hex(ni.id, 32, idhex);
	if (cli_global.json) {
		json_t *j = json_object();
		char path[4200];
		json_object_set_new(j, "name", json_string(ni.name));
		json_object_set_new(j, "id", json_string(idhex));
		snprintf(path, sizeof(path), "%s/%s.network", dir, name);
		json_object_set_new(j, "network_file", json_string(path));
		snprintf(path, sizeof(path), "%s/%s.root.key", dir, name);
		json_object_set_new(j, "root_key_file", json_string(path));
		cli_json_print(j);
	} else {
		printf(_("created network %s (id %s)\n"
		       "  %s/%s.network   give it to every member node: it holds the network key\n"
		       "  %s/%s.root.key  keep it offline: it signs certificates\n"
		       "next, on each node: hamlet init --network %s/%s.network --scope SCOPE\n"),
		       ni.name, idhex, dir, name, dir, name, dir, name);
	}
	r = 0;
out:
	/* ni holds the network key; a memset before return may be dropped
	 * as a dead store, sodium_memzero may not */
	sodium_memzero(&ni, sizeof(ni));
	return r;
}

int cmd_network(int argc, char **argv)
{
	const char *out = ".";
	char *pos[2];
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--out", &out, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("network", argc, argv, opts, pos, 2, &npos)) < 0)
		return cli_exit_code(r);
	if (npos == 0)
		return cli_exit_code(cli_usage_err(
			"network", _("missing subcommand: network create NAME")));
	if (strcmp(pos[0], "create") != 0)
		return cli_exit_code(cli_usage_err(
			"network", _("unknown subcommand \"%s\"; the only one is \"create\""),
			pos[0]));
	if (npos < 2)
		return cli_exit_code(cli_usage_err(
			"network", _("missing NAME: the network's name, like bac-kan")));
	return cli_exit_code(network_create_run(pos[1], out));
}
