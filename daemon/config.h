/*
 * config: hamletd's settings, from an INI file and the command line.
 *
 *   [node]   home, listen (IP:PORT; port 0: any free one), peers
 *            (space-separated HOST:PORT, port 1-65535), scopes
 *            (space-separated scope prefixes), socket (PATH)
 *   [limits] max_peers, batch, fault_backoff
 *   [http]   listen (IP:PORT: the HTTP/JSON API, off unless set),
 *            max_connections
 *   [budget] default_per_day, default_per_session (sizes with a unit:
 *            5MB, 200KB; or none), peer (HOST:PORT per_day=SIZE
 *            per_session=SIZE; one per line)
 *
 * Flags given on the command line override the file.
 */
#ifndef HAMLETD_CONFIG_H
#define HAMLETD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_PEERS 256	/* addresses in the peer list */
#define CONFIG_MAX_SCOPES 16
#define CONFIG_MAX_ADDR 256	/* bytes of one HOST:PORT */
#define CONFIG_MAX_PATH 4096
/* bytes of the socket's path: sizeof(sockaddr_un.sun_path) less its NUL */
#define CONFIG_MAX_SOCKET 107
#define CONFIG_MAX_HTTP_HOSTS 1024 /* bytes of [http] hosts, all names */

/* Bytes of entries we may send to a peer; 0 = no limit. */
struct config_budget {
	uint64_t per_day;     /* in one local calendar day (TZ) */
	uint64_t per_session; /* in one connection */
};

#define CONFIG_BUDGET_UNSET UINT64_MAX /* a peer line left it to the default */

struct config_peer_budget {
	char addr[CONFIG_MAX_ADDR]; /* HOST:PORT */
	struct config_budget b;
};

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
	int scopes_line;    /* the file's first scopes line (0: none) */
	unsigned max_peers; /* sessions, in and out, and our dials */
	unsigned batch;	    /* entries per ENTRIES message */
	unsigned fault_backoff; /* seconds refused after a first fault */
	char http[CONFIG_MAX_ADDR]; /* the HTTP API's HOST:PORT; "" = off */
	unsigned http_max_conns;    /* HTTP connections at once */
	/* connections at once from one address other than loopback; 0: half
	 * of http_max_conns */
	unsigned http_max_per_client;
	unsigned http_request_s; /* a request must arrive whole within this */
	/* [http] hosts: the DNS names, besides localhost, a request's Host
	 * may name (page_host_allowed()); space-separated, lower case */
	char http_hosts[CONFIG_MAX_HTTP_HOSTS];
	struct config_budget budget; /* for peers not named below */
	size_t nbudgets;
	struct config_peer_budget budgets[CONFIG_MAX_PEERS];
	int verbose;
	/* after config_reload_peers(): the keys whose new value waits for a
	 * restart ("listen, [limits] max_peers"), "" when none changed */
	char reload_ignored[512];
	/* the command line, read again on reload: borrowed from main(), it
	 * must outlive the config */
	int argc;
	char **argv;
};

/*
 * Parse argv into c (defaults first, then the file named by --config, then
 * the flags). On failure why names the problem (the file and line for a
 * bad or unknown key; the setting behind a socket path over
 * CONFIG_MAX_SOCKET bytes) and the return is HAMLET_ECONFIG, -EINVAL or
 * -ENAMETOOLONG. A return of 1 means --help or --version was printed (on
 * stdout). c keeps argv (for config_reload_peers()): it must outlive c.
 */
int config_from_args(int argc, char **argv, struct config *c, char *why,
		     size_t whylen);

/*
 * What a start checks of a config beyond the file and the flags, where
 * the daemon knows more than the config module (the node's own scope,
 * what lies at the socket's path): 0, or a negative code with why.
 */
typedef int (*config_check_cb)(void *ctx, const struct config *c, char *why,
			       size_t whylen);

/*
 * Re-read the config file (SIGHUP) with c's command line, checked whole
 * as a start would check it: the file and the flags, then check (may be
 * NULL), the start's own check, on what was read. Then c->peers becomes
 * the file's peers plus those given with --peer, and the byte budgets
 * ([budget]) the file's (*ret_budgets 1 when they changed). Other
 * settings take effect at the next start: those whose value changed are
 * named in c->reload_ignored. On failure (any fault a start would
 * refuse) why says what and where, and c is unchanged.
 */
int config_reload_peers(struct config *c, config_check_cb check, void *ctx,
			int *ret_budgets, char *why, size_t whylen);

/* The [budget] peer lines whose HOST:PORT is none of c's peers (so they
 * apply only to a peer that dials in from that host), each called with
 * its address. */
void config_budget_strays(const struct config *c,
			  void (*cb)(void *ctx, const char *addr), void *ctx);

/*
 * The budget for a peer: the [budget] peer line whose HOST:PORT is addr
 * (the address we dialled, or NULL), else the first whose HOST is host
 * (where an incoming connection came from, or NULL); what that line does
 * not set, and every peer without a line, gets the defaults.
 */
void config_budget_for(const struct config *c, const char *addr,
		       const char *host, struct config_budget *ret);

/* Split "host:port" or "[v6]:port" into host and port (0-65535: the
 * caller decides whether 0 will do). -ERANGE when only the port is out
 * of range, -EINVAL when addr is not of that form. */
int config_addr_split(const char *addr, char *host, size_t hostcap,
		      char *port, size_t portcap);

#endif
