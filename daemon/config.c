#include "config.h"
#include "config_internal.h"

#include "budget.h"

#include "entry.h"
#include "error.h"
#include "i18n.h"
#include "infile.h"
#include "utf8.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Keep the first fault: inih goes on past an error and reports the line
 * of the first one, which must come with its own message. */
__attribute__((format(printf, 2, 3))) static void
fault_set(struct parse_ctx *pc, const char *fmt, ...)
{
	va_list ap;
	if (pc->fault[0])
		return;
	va_start(ap, fmt);
	vsnprintf(pc->fault, sizeof(pc->fault), fmt, ap);
	va_end(ap);
	pc->fault_line = pc->line;
	pc->fault_read = pc->reads;
}

/* The keys that hold one value: given twice, which one is meant? */
static const char *const single_keys[] = {
	"node/home",		   "node/listen",	  "node/socket",
	"http/listen",		   "http/max_connections", "http/max_per_client",
	"http/request_timeout",	   "budget/default_per_day",
	"budget/default_per_session", "limits/max_peers",  "limits/batch",
	"limits/fault_backoff",
};

/* 0, or 1 (the fault set) when section/name holds one value and was
 * given before. */
static int given_twice(struct parse_ctx *pc, const char *section,
		       const char *name)
{
	char key[48];
	size_t i;

	snprintf(key, sizeof(key), "%s/%s", section, name);
	for (i = 0; i < sizeof(single_keys) / sizeof(*single_keys); i++)
		if (strcmp(key, single_keys[i]) == 0)
			break;
	if (i == sizeof(single_keys) / sizeof(*single_keys))
		return 0;
	for (i = 0; i < pc->nseen; i++)
		if (strcmp(pc->seen[i].key, key) == 0)
			break;
	if (i < pc->nseen) {
		fault_set(pc, _("%s in [%s] is given twice (first on line %d; an indented line continues the key above it): keep one"),
			  name, section, pc->seen[i].line);
		return 1;
	}
	if (pc->nseen < sizeof(pc->seen) / sizeof(*pc->seen)) {
		snprintf(pc->seen[pc->nseen].key, sizeof(pc->seen[0].key), "%s",
			 key);
		pc->seen[pc->nseen++].line = pc->line;
	}
	return 0;
}

int config_addr_split(const char *addr, char *host, size_t hostcap,
		      char *port, size_t portcap)
{
	const char *colon, *h = addr;
	size_t hl;
	char *end;
	long p;

	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');
		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = addr + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		if (!(colon = strrchr(addr, ':')))
			return -EINVAL;
		hl = (size_t)(colon - addr);
	}
	if (hl == 0 || hl >= hostcap)
		return -EINVAL;
	/* a host name or an IPv4 address, or an IPv6 one in brackets:
	 * nothing else is dialled (no spaces, controls or % scopes) */
	for (size_t i = 0; i < hl; i++) {
		char c = h[i];
		int ok = (c >= '0' && c <= '9') || c == '.' ||
			 (addr[0] == '['
				  ? (c >= 'a' && c <= 'f') ||
					    (c >= 'A' && c <= 'F') || c == ':'
				  : (c >= 'a' && c <= 'z') ||
					    (c >= 'A' && c <= 'Z') || c == '-');
		if (!ok)
			return -EINVAL;
	}
	for (const char *d = colon + 1; *d; d++)
		if (*d < '0' || *d > '9')
			return -EINVAL; /* strtol would take "+7", " 7" */
	if (colon[1] == 0)
		return -EINVAL;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end || p > 65535)
		return -ERANGE; /* the form is right, the number is not */
	if (strlen(colon + 1) >= portcap)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = 0;
	snprintf(port, portcap, "%s", colon + 1);
	return 0;
}

enum addr_fault config__addr_judge(const char *a, enum addr_use use)
{
	char h[CONFIG_MAX_ADDR], p[8];
	unsigned char ip[16];
	int r;

	if (strlen(a) >= CONFIG_MAX_ADDR)
		return ADDR_NOT_HOST_PORT;
	if ((r = config_addr_split(a, h, sizeof(h), p, sizeof(p))) == -ERANGE)
		return ADDR_BAD_PORT;
	if (r < 0)
		return ADDR_NOT_HOST_PORT;
	if (strtol(p, NULL, 10) == 0 && use != ADDR_LISTEN)
		return ADDR_BAD_PORT;
	/* found at bind time, a name would stop the daemon with exit 1 and
	 * no file or line named */
	if (use != ADDR_PEER && inet_pton(AF_INET, h, ip) != 1 &&
	    inet_pton(AF_INET6, h, ip) != 1)
		return ADDR_NOT_IP;
	return ADDR_OK;
}

/* Say in why what is wrong with the address a that setting gave
 * ("listen", "--http", ...), for ADDR_BAD_PORT and ADDR_NOT_IP; the
 * caller words ADDR_NOT_HOST_PORT for its setting. */
void config__addr_why(enum addr_fault f, const char *setting, const char *a,
		     char *why, size_t whylen)
{
	if (f == ADDR_BAD_PORT)
		snprintf(why, whylen, _("%s \"%s\": the port must be 1-65535"),
			 setting, a);
	else
		snprintf(why, whylen,
			 _("%s \"%s\" is not an IP address: give a numeric address to listen on, such as 0.0.0.0, 127.0.0.1 or [::1], not a host name"),
			 setting, a);
}

/* The same as a fault of the file's line; 1 when it was one of those. */
static int addr_fault_set(struct parse_ctx *pc, enum addr_fault f,
			  const char *setting, const char *a)
{
	char why[CONFIG_MAX_ADDR + 200];

	if (f != ADDR_BAD_PORT && f != ADDR_NOT_IP)
		return 0;
	config__addr_why(f, setting, a, why, sizeof(why));
	fault_set(pc, "%s", why);
	return 1;
}

int config__peer_add(char list[][CONFIG_MAX_ADDR], size_t *n, const char *a)
{
	if (config__addr_judge(a, ADDR_PEER) != ADDR_OK)
		return -EINVAL;
	for (size_t i = 0; i < *n; i++)
		if (strcmp(list[i], a) == 0)
			return 0;
	if (*n == CONFIG_MAX_PEERS)
		return HAMLET_ETOOBIG;
	snprintf(list[(*n)++], CONFIG_MAX_ADDR, "%s", a);
	return 0;
}

/* Split a space-separated value and call add for each word. */
static int words_each(const char *value, int (*add)(struct parse_ctx *, const char *),
		      struct parse_ctx *pc)
{
	char buf[8192], *save = NULL;
	int r;
	if (strlen(value) >= sizeof(buf))
		return HAMLET_ETOOBIG;
	snprintf(buf, sizeof(buf), "%s", value);
	for (char *w = strtok_r(buf, " \t,", &save); w;
	     w = strtok_r(NULL, " \t,", &save))
		if ((r = add(pc, w)) < 0)
			return r;
	return 0;
}

static int add_peer(struct parse_ctx *pc, const char *w)
{
	int r = config__peer_add(pc->c->peers, &pc->c->npeers, w);

	if (r == HAMLET_ETOOBIG) {
		fault_set(pc, _("peers: the list is too long: it holds at most %d addresses, and \"%s\" is one more; remove the peers this node need not dial"),
			  CONFIG_MAX_PEERS, w);
		return r;
	}
	if (r < 0) {
		if (!addr_fault_set(pc, config__addr_judge(w, ADDR_PEER), "peer", w))
			fault_set(pc, _("peer \"%s\" is not HOST:PORT"), w);
		return r;
	}
	return 0;
}

/* [http] hosts: one DNS name a request's Host may give (no port, no
 * address: those are always answered), kept in lower case. */
static int add_http_host(struct parse_ctx *pc, const char *w)
{
	struct config *c = pc->c;
	size_t n = strlen(w), used = strlen(c->http_hosts);
	int ok = n > 0 && n < 254 && w[0] != '.' && w[0] != '-';

	size_t label = 0; /* the length of the label so far */

	/* labels of 1 to 63 letters, digits and -, not at either end of
	 * one (RFC 1123 2.1), joined by single dots */
	for (size_t i = 0; ok && i < n; i++) {
		if (w[i] == '.') {
			ok = label > 0 && w[i - 1] != '-';
			label = 0;
			continue;
		}
		ok = ((w[i] >= 'a' && w[i] <= 'z') ||
		      (w[i] >= 'A' && w[i] <= 'Z') ||
		      (w[i] >= '0' && w[i] <= '9') || w[i] == '-') &&
		     ++label <= 63 && (w[i] != '-' || label > 1);
	}
	if (ok)
		ok = label > 0 && w[n - 1] != '-';
	if (!ok || used + n + 2 > sizeof(c->http_hosts)) {
		fault_set(pc, _("[http] hosts \"%s\" is not a host name (letters, digits, - and ., no port; at most %zu bytes in all)"),
			  w, sizeof(c->http_hosts) - 1);
		return -EINVAL;
	}
	snprintf(c->http_hosts + used, sizeof(c->http_hosts) - used, "%s%s",
		 used ? " " : "", w);
	for (char *p = c->http_hosts + used; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}

static int add_scope(struct parse_ctx *pc, const char *w)
{
	struct config *c = pc->c;
	if (entry_scope_check(w) < 0) {
		fault_set(pc, _("scope \"%s\" is not a scope (1-8 parts of a-z, 0-9 and '-', joined by '/')"),
			  w);
		return -EINVAL;
	}
	if (c->nscopes == CONFIG_MAX_SCOPES) {
		fault_set(pc, _("scopes: the list is too long: it holds at most %d scopes, and \"%s\" is one more; give a scope above several of them instead"),
			  CONFIG_MAX_SCOPES, w);
		return HAMLET_ETOOBIG;
	}
	if (!c->scopes_line)
		c->scopes_line = pc->line;
	snprintf(c->scopes[c->nscopes++], sizeof(c->scopes[0]), "%s", w);
	return 0;
}

static int parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *ret)
{
	char *end;
	unsigned long x;
	/* digits alone: strtoul() takes a sign and spaces before them */
	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return -EINVAL;
	*ret = (unsigned)x;
	return 0;
}

/* A [budget] size key: "none" or a size with a unit. */
static int budget_key(struct parse_ctx *pc, const char *name,
		      const char *value, uint64_t *ret)
{
	size_t n = strlen(value);
	uint64_t v;
	int r;

	if ((r = budget_size_parse(value, &v)) == -ERANGE) {
		fault_set(pc, _("[budget] %s \"%s\" is out of range: a size is more than 0 and at most 1000GB (none: no limit)"),
			  name, value);
		return r;
	}
	if (r < 0) {
		fault_set(pc, _("[budget] %s \"%s\" is not a size like 5MB, 200KB or none"),
			  name, value);
		return r;
	}
	/* budget_size_parse() takes bare digits as bytes: "5" meant as 5 MB
	 * would hold back nearly everything, so the unit is required */
	if (strcasecmp(value, "none") != 0 &&
	    (n == 0 || (value[n - 1] != 'B' && value[n - 1] != 'b'))) {
		fault_set(pc, _("[budget] %s \"%s\" has no unit: write B, KB, MB or GB after the number, like 5MB or 200KB (or none for no limit)"),
			  name, value);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

/* On a peer line, key=SIZE ends at a space: "per_day=1 KB" (digits, then
 * a unit as the next word, rest) is a unit set apart, which the defaults
 * allow and this line does not. Said, naming the peer: 1. */
static int unit_apart(struct parse_ctx *pc, const char *addr, const char *key,
		      const char *digits, const char *rest)
{
	static const char *const units[] = { "B", "KB", "MB", "GB" };
	size_t n = strspn(digits, "0123456789"), u;
	if (!n || digits[n] || !rest)
		return 0;
	rest += strspn(rest, " \t");
	u = strcspn(rest, " \t");
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++)
		if (u == strlen(units[i]) && strncasecmp(rest, units[i], u) == 0) {
			fault_set(pc, _("[budget] peer %s: %s=%s %.*s has a space before its unit: on a peer line write it without one, %s=%s%.*s"),
				  addr, key, digits, (int)u, rest, key,
				  digits, (int)u, rest);
			return 1;
		}
	return 0;
}

/* "[budget] peer = HOST:PORT per_day=SIZE per_session=SIZE": what is not
 * given is the default's (CONFIG_BUDGET_UNSET until asked). A second line
 * for one address replaces the first. */
static int budget_peer(struct parse_ctx *pc, const char *value)
{
	struct config *c = pc->c;
	struct config_peer_budget pb = {
		.b = { CONFIG_BUDGET_UNSET, CONFIG_BUDGET_UNSET }
	};
	char buf[1024], *save = NULL, *w = NULL;
	enum addr_fault f = ADDR_NOT_HOST_PORT;
	size_t i;

	if (strlen(value) < sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%s", value);
		w = strtok_r(buf, " \t", &save);
	}
	if (w)
		f = config__addr_judge(w, ADDR_PEER);
	if (f != ADDR_OK) {
		if (!addr_fault_set(pc, f, "[budget] peer", w))
			fault_set(pc, _("[budget] peer \"%s\" must start with HOST:PORT"),
				  value);
		return -EINVAL;
	}
	snprintf(pb.addr, sizeof(pb.addr), "%s", w);
	while ((w = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(w, '=');
		uint64_t *to = NULL;
		if (eq) {
			*eq = 0;
			to = strcmp(w, "per_day") == 0	   ? &pb.b.per_day
			     : strcmp(w, "per_session") == 0 ? &pb.b.per_session
							     : NULL;
		}
		if (!to) {
			if (eq)
				*eq = '='; /* named whole */
			fault_set(pc, _("[budget] peer %s: \"%s\" is not per_day=SIZE or per_session=SIZE"),
				  pb.addr, w);
			return -EINVAL;
		}
		/* which of the two was meant? */
		if (*to != CONFIG_BUDGET_UNSET) {
			fault_set(pc, _("[budget] peer %s: %s is given twice on one line: keep one"),
				  pb.addr, w);
			return -EINVAL;
		}
		if (unit_apart(pc, pb.addr, w, eq + 1, save))
			return -EINVAL;
		/* its faults name the peer, as the others of the line do */
		char nm[CONFIG_MAX_ADDR + 32];
		snprintf(nm, sizeof(nm), "peer %s %s", pb.addr, w);
		if (budget_key(pc, nm, eq + 1, to) < 0)
			return -EINVAL;
	}
	for (i = 0; i < c->nbudgets; i++)
		if (strcmp(c->budgets[i].addr, pb.addr) == 0)
			break;
	if (i == CONFIG_MAX_PEERS) {
		fault_set(pc, _("[budget] over %d peer lines"), CONFIG_MAX_PEERS);
		return -EINVAL;
	}
	c->budgets[i] = pb;
	if (i == c->nbudgets)
		c->nbudgets++;
	return 0;
}

void config_budget_for(const struct config *c, const char *addr,
		       const char *host, struct config_budget *ret)
{
	const struct config_budget *b = NULL;
	char h[CONFIG_MAX_ADDR], p[8];

	for (size_t i = 0; addr && !b && i < c->nbudgets; i++)
		if (strcmp(c->budgets[i].addr, addr) == 0)
			b = &c->budgets[i].b;
	for (size_t i = 0; host && !b && i < c->nbudgets; i++)
		if (config_addr_split(c->budgets[i].addr, h, sizeof(h), p,
				      sizeof(p)) == 0 &&
		    strcmp(h, host) == 0)
			b = &c->budgets[i].b;
	*ret = c->budget;
	if (b && b->per_day != CONFIG_BUDGET_UNSET)
		ret->per_day = b->per_day;
	if (b && b->per_session != CONFIG_BUDGET_UNSET)
		ret->per_session = b->per_session;
}

/* The sections cfg_ini_handler() reads (and the message for an unknown
 * one names). */
static int section_known(const char *section)
{
	static const char *const known[] = { "node", "http", "budget",
					     "limits" };
	for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
		if (strcmp(section, known[i]) == 0)
			return 1;
	return 0;
}

/* A line that is neither a [section], a comment, blank, nor indented (a
 * value continued) holds "=": inih takes ":" too, so that "listen
 * 127.0.0.1:7450" would be a key "listen 127.0.0.1" of value "7450". */
static void setting_line(struct parse_ctx *pc, const char *str, size_t n)
{
	const char *p = str, *end = str + n;

	if (pc->reads == 1 && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a byte order mark */
	if (p < end && (*p == ' ' || *p == '\t'))
		return;
	while (end > p && (end[-1] == '\n' || end[-1] == '\r' ||
			   end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p == end || *p == ';' || *p == '#' || *p == '[')
		return;
	if (!memchr(p, '=', (size_t)(end - p)))
		fault_set(pc, _("not a [section] or a key = value line: it has no \"=\""));
}

/* A [section] header of a section not known is a fault at its own line,
 * keys under it or none (inih calls the handler for keys only). The name
 * is what inih takes: what stands between the first [ and the next ]. */
static void section_line(struct parse_ctx *pc, const char *str, size_t n)
{
	char name[64];
	const char *p = str, *end = str + n, *close;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	/* an indented "[fe80::1]:7450" under peers = continues it */
	if (p > str && pc->key_seen)
		return;
	if (p == end || *p != '[' ||
	    !(close = memchr(p + 1, ']', (size_t)(end - p - 1))))
		return;
	pc->key_seen = 0;
	if ((size_t)(close - p - 1) >= sizeof(name)) {
		fault_set(pc, _("unknown section [%.*s…]: the sections are [node], [http], [budget] and [limits]"),
			  32, p + 1);
		return;
	}
	memcpy(name, p + 1, (size_t)(close - p - 1));
	name[close - p - 1] = 0;
	if (!section_known(name))
		fault_set(pc, _("unknown section [%s]: the sections are [node], [http], [budget] and [limits]"),
			  name);
}

/* inih handler: returning 0 makes ini_parse report this line. */
static int cfg_ini_handler(void *user, const char *section, const char *name,
		       const char *value)
{
	struct parse_ctx *pc = user;
	struct config *c = pc->c;

	pc->key_seen = 1;
	if (!section[0]) {
		fault_set(pc, _("\"%s\" stands before any [section]: put it under [node], [http], [budget] or [limits]"),
			  name);
		return 0;
	}
	if (strstr(name, "\xc2\xa0") || strstr(value, "\xc2\xa0")) {
		/* pasted from a web page or a document: it looks like a
		 * space, and the value read would hold it */
		fault_set(pc, _("%s holds a non-breaking space (U+00A0, as pasted from a web page or a document), which looks like a space but is none: type the line again"),
			  name);
		return 0;
	}
	/* inih leaves a "; comment" on a continued line (an indented
	 * peers line): cut it as inih cuts one on the key's own line */
	char vcut[256];
	const char *sc = strpbrk(value, ";");
	if (sc && sc > value && (sc[-1] == ' ' || sc[-1] == '\t') &&
	    strlen(value) < sizeof(vcut)) {
		size_t k = (size_t)(sc - value);
		memcpy(vcut, value, k);
		while (k && (vcut[k - 1] == ' ' || vcut[k - 1] == '\t'))
			k--;
		vcut[k] = '\0';
		value = vcut;
	}
	if (value[0] == '#' || strstr(value, " #") || strstr(value, "\t#")) {
		/* inih takes ';' alone for a comment after a value: the
		 * '#' and what follows would be read as part of it */
		fault_set(pc, _("%s: \"#\" starts a comment only at the start of a line; to end a line with a comment, begin it with \";\" (peers = 192.0.2.1:7450 ; the commune)"),
			  name);
		return 0;
	}
	if (given_twice(pc, section, name))
		return 0;
	if (strcmp(section, "node") == 0) {
		if (strcmp(name, "home") == 0) {
			snprintf(c->home, sizeof(c->home), "%s", value);
		} else if (strcmp(name, "listen") == 0) {
			enum addr_fault f = config__addr_judge(value, ADDR_LISTEN);
			if (f == ADDR_NOT_HOST_PORT)
				fault_set(pc, _("listen \"%s\" is not HOST:PORT"),
					  value);
			if (f != ADDR_OK) {
				addr_fault_set(pc, f, "listen", value);
				return 0;
			}
			snprintf(c->listen, sizeof(c->listen), "%s", value);
		} else if (strcmp(name, "socket") == 0) {
			snprintf(c->socket, sizeof(c->socket), "%s", value);
		} else if (strcmp(name, "peers") == 0) {
			return words_each(value, add_peer, pc) == 0;
		} else if (strcmp(name, "scopes") == 0) {
			/* like peers: several lines, or indented ones, add up */
			return words_each(value, add_scope, pc) == 0;
		} else {
			goto unknown;
		}
		return 1;
	}
	if (strcmp(section, "http") == 0) {
		if (strcmp(name, "listen") == 0) {
			enum addr_fault f = config__addr_judge(value, ADDR_HTTP);
			if (f == ADDR_NOT_HOST_PORT)
				fault_set(pc, _("[http] listen \"%s\" is not HOST:PORT"),
					  value);
			if (f != ADDR_OK) {
				addr_fault_set(pc, f, "[http] listen", value);
				return 0;
			}
			snprintf(c->http, sizeof(c->http), "%s", value);
		} else if (strcmp(name, "max_connections") == 0) {
			if (parse_uint(value, 1, 1024, &c->http_max_conns) < 0) {
				fault_set(pc, _("[http] max_connections \"%s\" must be a number 1..1024"),
					  value);
				return 0;
			}
		} else if (strcmp(name, "max_per_client") == 0) {
			if (parse_uint(value, 1, 1024, &c->http_max_per_client) < 0) {
				fault_set(pc, _("[http] max_per_client \"%s\" must be a number 1..1024"),
					  value);
				return 0;
			}
		} else if (strcmp(name, "hosts") == 0) {
			/* like peers: several lines add up */
			return words_each(value, add_http_host, pc) == 0;
		} else if (strcmp(name, "request_timeout") == 0) {
			if (parse_uint(value, 2, 3600, &c->http_request_s) < 0) {
				fault_set(pc, _("[http] request_timeout \"%s\" must be a number of seconds 2..3600"),
					  value);
				return 0;
			}
		} else {
			goto unknown;
		}
		return 1;
	}
	if (strcmp(section, "budget") == 0) {
		if (strcmp(name, "default_per_day") == 0)
			return budget_key(pc, name, value, &c->budget.per_day) == 0;
		if (strcmp(name, "default_per_session") == 0)
			return budget_key(pc, name, value,
					  &c->budget.per_session) == 0;
		if (strcmp(name, "peer") == 0)
			return budget_peer(pc, value) == 0;
		goto unknown;
	}
	if (strcmp(section, "limits") == 0) {
		if (strcmp(name, "max_peers") == 0) {
			if (parse_uint(value, 1, 1024, &c->max_peers) < 0) {
				fault_set(pc, _("max_peers \"%s\" must be a number 1..1024"),
					  value);
				return 0;
			}
		} else if (strcmp(name, "batch") == 0) {
			if (parse_uint(value, 1, 256, &c->batch) < 0) {
				fault_set(pc, _("batch \"%s\" must be a number 1..256"),
					  value);
				return 0;
			}
		} else if (strcmp(name, "fault_backoff") == 0) {
			if (parse_uint(value, 1, 3600, &c->fault_backoff) < 0) {
				fault_set(pc, _("fault_backoff \"%s\" must be a number of seconds 1..3600"),
					  value);
				return 0;
			}
		} else {
			goto unknown;
		}
		return 1;
	}
unknown:
	if (section_known(section))
		fault_set(pc, _("unknown key \"%s\" in [%s]"), name, section);
	else
		fault_set(pc, _("unknown section [%s]: the sections are [node], [http], [budget] and [limits]"),
			  section);
	return 0;
}

/*
 * inih's reader: fgets() that counts the file's lines, so that the
 * handler knows the line it is called for. inih reads at most its
 * INI_MAX_LINE - 1 bytes at a time and counts each read as a line; a
 * longer line would be cut and its rest taken for another line, so it is
 * a fault of its own.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_ctx *pc = stream;
	const char *text;
	size_t n;

	/* no NUL where fgets() writes none: the last NUL ends what it read,
	 * and one before it came from the file */
	memset(str, '\n', (size_t)num);
	if (!fgets(str, num, pc->f))
		return NULL;
	pc->reads++;
	if (pc->at_line_start)
		pc->line++;
	n = (size_t)((char *)memrchr(str, 0, (size_t)num) - str);
	/* inih would read a line only up to a NUL: a value cut short */
	if ((text = utf8_line_fault(str, n, pc->reads == 1,
				    n == (size_t)num - 1 && str[n - 1] != '\n')))
		fault_set(pc, "%s", _(text));
	if (pc->at_line_start) {
		section_line(pc, str, n);
		setting_line(pc, str, n);
	}
	pc->at_line_start = n > 0 && str[n - 1] == '\n';
	if (!pc->at_line_start) {
		/* cut: harmless when only the newline is left */
		int c = fgetc(pc->f);
		if (c != EOF)
			ungetc(c, pc->f);
		if (c != EOF && c != '\n')
			fault_set(pc, _("the line is longer than %d characters; continue a long list on indented lines below it"),
				  num - 1);
	}
	return str;
}

int config__parse_file(struct parse_ctx *pc, const char *path, char *why,
		      size_t whylen)
{
	int e;

	pc->fault[0] = 0;
	pc->line = pc->reads = 0;
	pc->at_line_start = 1;
	pc->key_seen = 0;
	{
		/* a regular file only (infile.h), of a bounded size: a
		 * reload runs on the daemon's loop */
		struct stat sb;
		int fd = infile_open(path, &sb);
		if (fd == -EISDIR) {
			snprintf(why, whylen,
				 _("cannot read config file %s: it is a directory"),
				 path);
			return HAMLET_ECONFIG;
		}
		if (fd == -ENODEV) {
			snprintf(why, whylen,
				 _("cannot read config file %s: it is not a regular file (a device, a pipe or a socket); give the path of the file itself"),
				 path);
			return HAMLET_ECONFIG;
		}
		if (fd < 0) {
			snprintf(why, whylen,
				 _("cannot open config file %s: %s"), path,
				 strerror(-fd));
			return HAMLET_ECONFIG;
		}
		if (sb.st_size > CONFIG_MAX_FILE) {
			close(fd);
			snprintf(why, whylen,
				 _("cannot read config file %s: it is %lld bytes, more than the %d a config file may have"),
				 path, (long long)sb.st_size, CONFIG_MAX_FILE);
			return HAMLET_ECONFIG;
		}
		if (!(pc->f = fdopen(fd, "r"))) {
			snprintf(why, whylen,
				 _("cannot open config file %s: %s"), path,
				 strerror(errno));
			close(fd);
			return HAMLET_ECONFIG;
		}
	}
	/* e: the first line (as inih counts) where inih or the handler
	 * found a fault, or 0 */
	e = ini_parse_stream(read_line, pc, cfg_ini_handler, pc);
	if (ferror(pc->f)) {
		fclose(pc->f);
		pc->f = NULL;
		snprintf(why, whylen, _("cannot read config file %s: %s"), path,
			 strerror(EIO));
		return HAMLET_ECONFIG;
	}
	fclose(pc->f);
	pc->f = NULL;
	if (e == 0 && !pc->fault[0])
		return 0;
	if (e == -2)
		snprintf(why, whylen, _("out of memory reading %s"), path);
	else if (pc->fault[0] && (e == 0 || pc->fault_read <= e))
		snprintf(why, whylen, _("%s line %d: %s"), path, pc->fault_line,
			 pc->fault);
	else /* before any fault of ours, no line was cut: e is the line */
		snprintf(why, whylen,
			 _("%s line %d: not a [section] or a key = value line"),
			 path, e);
	return HAMLET_ECONFIG;
}
