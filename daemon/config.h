/*
 * config: hamletd's settings, from an INI file and the command line.
 *
 *   [node]   home, listen (HOST:PORT), peers (space-separated HOST:PORT),
 *            scopes (space-separated scope prefixes), socket (PATH)
 *   [limits] max_peers, batch, fault_backoff
 *   [http]   listen (HOST:PORT: the HTTP/JSON API, off unless set),
 *            max_connections
 *
 * Flags given on the command line override the file.
 */
#ifndef HAMLETD_CONFIG_H
#define HAMLETD_CONFIG_H

#include <stddef.h>

#define CONFIG_MAX_PEERS 256	/* addresses in the peer list */
#define CONFIG_MAX_SCOPES 16
#define CONFIG_MAX_ADDR 256	/* bytes of one HOST:PORT */
#define CONFIG_MAX_PATH 4096

struct config {
	char home[CONFIG_MAX_PATH];
	char config_path[CONFIG_MAX_PATH];
	char listen[CONFIG_MAX_ADDR];
	char socket[CONFIG_MAX_PATH];
	size_t npeers;
	char peers[CONFIG_MAX_PEERS][CONFIG_MAX_ADDR];
	size_t ncli_peers; /* peers given with --peer, kept on reload */
	char cli_peers[CONFIG_MAX_PEERS][CONFIG_MAX_ADDR];
	size_t nscopes;
	char scopes[CONFIG_MAX_SCOPES][129];
	unsigned max_peers; /* sessions, in and out, and our dials */
	unsigned batch;	    /* entries per ENTRIES message */
	unsigned fault_backoff; /* seconds refused after a first fault */
	char http[CONFIG_MAX_ADDR]; /* the HTTP API's HOST:PORT; "" = off */
	unsigned http_max_conns;    /* HTTP connections at once */
	int verbose;
};

/*
 * Parse argv into c (defaults first, then the file named by --config, then
 * the flags). On failure why names the problem (the file and line for a
 * bad or unknown key) and the return is HAMLET_ECONFIG or -EINVAL.
 * A return of 1 means --help or --version was printed (on stdout).
 */
int config_from_args(int argc, char **argv, struct config *c, char *why,
		     size_t whylen);

/*
 * Re-read the peer list from the config file (SIGHUP): c->peers becomes
 * the file's peers plus those given with --peer. Other keys are ignored
 * on reload. On failure c is unchanged.
 */
int config_reload_peers(struct config *c, char *why, size_t whylen);

/* Split "host:port" or "[v6]:port" into host and port. */
int config_addr_split(const char *addr, char *host, size_t hostcap,
		      char *port, size_t portcap);

#endif
