/*
 * config_args: hamletd's command line (config_from_args(): the flags, then
 * the file they name through config.c, --help and --version) and the
 * SIGHUP re-read of both (config_reload_peers()).
 */
#include "config.h"
#include "config_internal.h"

#include "error.h"
#include "i18n.h"
#include "version.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	/* the continuation lines line up under the first's options */
	const char *u = _("usage:");
	int pad = i18n_width(u, strlen(u));
	fprintf(f,
		"%s hamletd --home DIR [--config FILE] [--listen HOST:PORT]\n"
		"%*s         [--peer HOST:PORT]... [--socket PATH] [--http HOST:PORT]\n"
		"%*s         [--verbose]\n"
		"%*s hamletd --version | --help\n",
		u, pad, "", pad, "", pad, "");
}

static const struct {
	const char *flag, *text;
} help_opts[] = {
	{ "--home DIR", N_("the node's directory, made by hamlet init") },
	{ "--config FILE", N_("settings (INI, below); flags override it") },
	{ "--listen HOST:PORT", N_("accept peers here (omit: only dial out)") },
	{ "--peer HOST:PORT", N_("a peer to dial; repeat for more") },
	{ "--socket PATH", N_("the local socket (default HOME/hamletd.sock)") },
	{ "--http HOST:PORT", N_("the HTTP/JSON API (off unless set; docs/api.md)") },
	{ "--verbose", N_("log each session and batch") },
};

/* --help: the usage, then what a new operator needs to start. */
static void help(void)
{
	usage(stdout);
	fputs("\n", stdout);
	fputs(_("hamletd keeps this node's records in step with its peers: it dials\n"
		"the peers it is given, accepts the ones that dial it, and exchanges\n"
		"what each side may read. It is the node's only writer while it runs;\n"
		"the hamlet command talks to it through its socket.\n"),
	      stdout);
	fputs("\n", stdout);
	for (size_t i = 0; i < sizeof(help_opts) / sizeof(help_opts[0]); i++)
		printf("  %-18s %s\n", help_opts[i].flag, _(help_opts[i].text));
	fputs("\n", stdout);
	fputs(_("Scopes are places, province/district/commune/village, such as\n"
		"bk/bach-thong/quang-thuan. A node replicates only what its\n"
		"certificate lets it read (hamlet cert install), and, with scopes =,\n"
		"only the prefixes it names. Peers are the nodes it syncs with: a\n"
		"village dials its commune, a commune its province.\n"),
	      stdout);
	fputs("\n", stdout);
	printf(_("Example config file (%s):\n"), "/etc/hamlet/hamletd.conf");
	/* the settings themselves are never translated */
	fputs("\n"
	      "  [node]\n"
	      "  home   = /var/lib/hamlet\n"
	      "  listen = 0.0.0.0:7450\n"
	      "  peers  = commune.example:7450\n"
	      "  scopes = bk/bach-thong\n"
	      "\n"
	      "  [limits]\n"
	      "  max_peers = 64\n"
	      "\n"
	      "  [http]\n"
	      "  listen = 127.0.0.1:8080\n"
	      "\n",
	      stdout);
	fputs(_("Then: hamletd --config /etc/hamlet/hamletd.conf, or the systemd unit\n"
		"(systemd/hamletd.service). hamlet status shows its peers; docs/hamletd.md\n"
		"lists every setting.\n"),
	      stdout);
}

/*
 * The local socket's path must fit a sockaddr_un, or libuv cuts it and
 * binds somewhere nobody looks. The setting that gave it is named: the
 * default grows with --home, so a long home is the usual cause.
 */
static int socket_fits(const struct config *c, const char *flag, int from_file,
		       char *why, size_t whylen)
{
	size_t len = strlen(c->socket), max = CONFIG_MAX_SOCKET;

	if (len <= max)
		return 0;
	if (flag)
		snprintf(why, whylen,
			 _("--socket \"%s\" is %zu bytes long, over the %zu a local socket path can have; give a shorter path"),
			 flag, len, max);
	else if (from_file)
		snprintf(why, whylen,
			 _("%s: socket \"%s\" is %zu bytes long, over the %zu a local socket path can have; give a shorter path"),
			 c->config_path, c->socket, len, max);
	else
		snprintf(why, whylen,
			 _("the socket %s is %zu bytes long, over the %zu a local socket path can have, because the home directory's path is long: set a shorter path with socket = in hamletd.conf, or with --socket"),
			 c->socket, len, max);
	return -ENAMETOOLONG;
}

/* config_from_args(), for a start (quiet 0: a missing home prints the
 * usage) or a reload (quiet 1: the log says it all). */
static int config_parse(int argc, char **argv, struct config *c, int quiet,
			char *why, size_t whylen)
{
	static const struct option opts[] = {
		{ "home", required_argument, NULL, 'h' },
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "peer", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "http", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'H' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *home = NULL, *listen = NULL, *sock = NULL, *cfg = NULL;
	const char *http = NULL;
	struct parse_ctx pc = { .c = c };
	enum addr_fault f;
	int o, r, from_file;

	memset(c, 0, sizeof(*c));
	c->argc = argc;
	c->argv = argv;
	c->max_peers = 64;
	c->batch = 256;
	c->fault_backoff = 30;
	c->http_max_conns = 64;
	c->http_request_s = 60;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char **one = o == 'h'   ? &home
				   : o == 'c' ? &cfg
				   : o == 'l' ? &listen
				   : o == 's' ? &sock
				   : o == 't' ? &http
					      : NULL;
		if (one && *one) {
			/* which of the two was meant? (--peer adds up) */
			snprintf(why, whylen,
				 _("--%s is given twice (\"%s\", then \"%s\"): give it once"),
				 o == 'h'   ? "home"
				 : o == 'c' ? "config"
				 : o == 'l' ? "listen"
				 : o == 's' ? "socket"
					    : "http",
				 *one, optarg);
			return -EINVAL;
		}
		switch (o) {
		case 'h': home = optarg; break;
		case 'c': cfg = optarg; break;
		case 'l': listen = optarg; break;
		case 's': sock = optarg; break;
		case 't': http = optarg; break;
		case 'v': c->verbose = 1; break;
		case 'p':
			if ((f = config__addr_judge(optarg, ADDR_PEER)) == ADDR_OK &&
			    (r = config__peer_add(c->cli_peers, &c->ncli_peers, optarg)) < 0) {
				snprintf(why, whylen, _("too many peers (limit %d)"),
					 CONFIG_MAX_PEERS);
				return r;
			}
			if (f == ADDR_NOT_HOST_PORT) {
				snprintf(why, whylen,
					 _("--peer \"%s\" is not HOST:PORT"), optarg);
				return -EINVAL;
			}
			if (f != ADDR_OK) {
				config__addr_why(f, "--peer", optarg, why, whylen);
				return -EINVAL;
			}
			break;
		case 'H': help(); return 1;
		case 'V': printf("hamletd %s\n", HAMLET_VERSION); return 1;
		default:
			usage(stderr);
			snprintf(why, whylen, _("bad command line"));
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(why, whylen, _("unexpected argument \"%s\""), argv[optind]);
		return -EINVAL;
	}
	if (cfg) {
		snprintf(c->config_path, sizeof(c->config_path), "%s", cfg);
		if ((r = config__parse_file(&pc, cfg, why, whylen)) < 0)
			return r;
		if (c->http_max_per_client > c->http_max_conns) {
			snprintf(why, whylen,
				 _("%s: [http] max_per_client (%u) is more than max_connections (%u): one client could hold every connection; give it at most %u"),
				 cfg, c->http_max_per_client, c->http_max_conns,
				 c->http_max_conns);
			return HAMLET_ECONFIG;
		}
	}
	if (home)
		snprintf(c->home, sizeof(c->home), "%s", home);
	if (listen) {
		if ((f = config__addr_judge(listen, ADDR_LISTEN)) == ADDR_NOT_HOST_PORT) {
			snprintf(why, whylen, _("--listen \"%s\" is not HOST:PORT"),
				 listen);
			return -EINVAL;
		}
		if (f != ADDR_OK) {
			config__addr_why(f, "--listen", listen, why, whylen);
			return -EINVAL;
		}
		snprintf(c->listen, sizeof(c->listen), "%s", listen);
	}
	from_file = c->socket[0] != 0;
	if (sock)
		snprintf(c->socket, sizeof(c->socket), "%s", sock);
	if (http) {
		if ((f = config__addr_judge(http, ADDR_HTTP)) == ADDR_NOT_HOST_PORT) {
			snprintf(why, whylen, _("--http \"%s\" is not HOST:PORT"),
				 http);
			return -EINVAL;
		}
		if (f != ADDR_OK) {
			config__addr_why(f, "--http", http, why, whylen);
			return -EINVAL;
		}
		snprintf(c->http, sizeof(c->http), "%s", http);
	}
	if (!c->home[0]) {
		/* as hamlet finds it: --home, the config's home, then this */
		const char *env = getenv("HAMLET_HOME");
		if (env && env[0] && strlen(env) < sizeof(c->home))
			snprintf(c->home, sizeof(c->home), "%s", env);
	}
	if (!c->home[0]) {
		if (!quiet)
			usage(stderr);
		snprintf(why, whylen,
			 _("no home directory: give --home DIR (or home = in the config file, or HAMLET_HOME=DIR)"));
		return -EINVAL;
	}
	if (!c->socket[0])
		snprintf(c->socket, sizeof(c->socket), "%s/hamletd.sock",
			 c->home);
	if ((r = socket_fits(c, sock, from_file, why, whylen)) < 0)
		return r;
	for (size_t i = 0; i < c->ncli_peers; i++)
		if ((r = config__peer_add(c->peers, &c->npeers, c->cli_peers[i])) < 0) {
			snprintf(why, whylen, _("too many peers (limit %d)"),
				 CONFIG_MAX_PEERS);
			return r;
		}
	return 0;
}

int config_from_args(int argc, char **argv, struct config *c, char *why,
		     size_t whylen)
{
	return config_parse(argc, argv, c, 0, why, whylen);
}

static int budget_same(const struct config_budget *a,
		       const struct config_budget *b)
{
	return a->per_day == b->per_day && a->per_session == b->per_session;
}

void config_budget_strays(const struct config *c,
			  void (*cb)(void *ctx, const char *addr), void *ctx)
{
	for (size_t i = 0; i < c->nbudgets; i++) {
		int found = 0;
		for (size_t k = 0; k < c->npeers && !found; k++)
			found = strcmp(c->peers[k], c->budgets[i].addr) == 0;
		if (!found)
			cb(ctx, c->budgets[i].addr);
	}
}

static int scopes_same(const struct config *a, const struct config *b)
{
	if (a->nscopes != b->nscopes)
		return 0;
	for (size_t i = 0; i < a->nscopes; i++)
		if (strcmp(a->scopes[i], b->scopes[i]) != 0)
			return 0;
	return 1;
}

/* Name in c->reload_ignored each setting a restart alone takes that
 * differs in n, the file as read again. */
static void restart_keys(struct config *c, const struct config *n)
{
	const struct {
		const char *key;
		int same;
	} k[] = {
		{ "home", !strcmp(c->home, n->home) },
		{ "listen", !strcmp(c->listen, n->listen) },
		{ "socket", !strcmp(c->socket, n->socket) },
		{ "scopes", scopes_same(c, n) },
		{ "[limits] max_peers", c->max_peers == n->max_peers },
		{ "[limits] batch", c->batch == n->batch },
		{ "[limits] fault_backoff", c->fault_backoff == n->fault_backoff },
		{ "[http] listen", !strcmp(c->http, n->http) },
		{ "[http] max_connections", c->http_max_conns == n->http_max_conns },
		{ "[http] max_per_client",
		  c->http_max_per_client == n->http_max_per_client },
		{ "[http] request_timeout", c->http_request_s == n->http_request_s },
		{ "[http] hosts", !strcmp(c->http_hosts, n->http_hosts) },
	};
	size_t o = 0;

	c->reload_ignored[0] = 0;
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		int w;
		if (k[i].same || o >= sizeof(c->reload_ignored))
			continue;
		w = snprintf(c->reload_ignored + o, sizeof(c->reload_ignored) - o,
			     "%s%s", o ? ", " : "", k[i].key);
		if (w > 0)
			o += (size_t)w;
	}
}

int config_reload_peers(struct config *c, config_check_cb check, void *ctx,
			int *ret_budgets, char *why, size_t whylen)
{
	struct config *tmp = malloc(sizeof(*tmp));
	int r;

	*ret_budgets = 0;
	if (!tmp)
		return -ENOMEM;
	/* the whole file, checked as the next start will check it: a fault
	 * found now is one the operator can still fix before a restart */
	if ((r = config_parse(c->argc, c->argv, tmp, 1, why, whylen)) != 0) {
		if (r > 0) /* --help or --version: not in a started daemon */
			r = -EINVAL;
		goto out;
	}
	if (check && (r = check(ctx, tmp, why, whylen)) < 0)
		goto out;
	restart_keys(c, tmp);
	memcpy(c->peers, tmp->peers, sizeof(c->peers));
	c->npeers = tmp->npeers;
	/* budgets are read where each batch is sent: the next one takes
	 * the new ones */
	*ret_budgets = !budget_same(&c->budget, &tmp->budget) ||
		       c->nbudgets != tmp->nbudgets;
	for (size_t i = 0; i < c->nbudgets && !*ret_budgets; i++)
		*ret_budgets =
			strcmp(c->budgets[i].addr, tmp->budgets[i].addr) ||
			!budget_same(&c->budgets[i].b, &tmp->budgets[i].b);
	c->budget = tmp->budget;
	c->nbudgets = tmp->nbudgets;
	memcpy(c->budgets, tmp->budgets, sizeof(c->budgets));
	r = 0;
out:
	free(tmp);
	return r;
}
