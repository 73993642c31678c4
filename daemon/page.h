/*
 * page: the status page hamletd serves at / and /status
 * (docs/operator-guide.md "The status page"): one HTML document, rendered
 * on the server in Vietnamese or English from what GET /v1/status says
 * and, at a commune, district or province, from the lag report
 * (daemon/core/lag.h). No script, nothing loaded from elsewhere; its
 * stylesheet (daemon/page/style.css) is compiled in. Every text that
 * comes from the store or the network is HTML-escaped.
 *
 * It shows names and counts only, never a record's id or fields: the
 * page opens without a token on the node's own PC.
 */
#ifndef HAMLETD_PAGE_H
#define HAMLETD_PAGE_H

#include "lag.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum page_lang { PAGE_EN = 0, PAGE_VI = 1 };

#define PAGE_LAG_THRESHOLD_MS (24ull * 3600 * 1000) /* behind past this */
#define PAGE_MAX_LAG_ROWS 300 /* nodes in the lag table and chart */
#define PAGE_MAX_GROUPS 200   /* communes in the table by commune */

struct page_in {
	int lang;		      /* enum page_lang */
	const json_t *status;	      /* the object GET /v1/status answers */
	const struct lag_report *lag; /* NULL: not shown */
	uint64_t now_ms;
	int show_key; /* show the node's public key */
};

/*
 * The language an Accept-Language header (may be NULL) prefers among
 * ours: PAGE_VI when it gives Vietnamese ("vi", "vi-VN", or "vi_VN" as a
 * locale names it) a higher weight than English (or the same, listed
 * first), else PAGE_EN. Every answer of the page, a refusal of a bad
 * ?lang= included, is in this language unless ?lang= says otherwise.
 */
int page_lang_pick(const char *accept_language);

/* "vi" or "en" (?lang=): 0 and *ret, or -EINVAL. */
int page_lang_parse(const char *s, int *ret);

/*
 * Whether a request naming host (its Host header: "name", "name:port",
 * "1.2.3.4:port", "[v6]:port"; NULL when it gave none) may be answered:
 * an IP address, localhost, or one of names (space-separated DNS names,
 * as [http] hosts lists them; may be NULL). Any other name is refused:
 * a web page elsewhere whose name was rebound to this address (DNS
 * rebinding) must not read the node's names and counts in a browser on
 * its PC. 1 allowed, 0 refused.
 */
int page_host_allowed(const char *host, const char *names);

/* The text of the 421 answer to a request page_host_allowed() refused,
 * in lang, into out (n bytes): the addresses to use given with port,
 * this node's HTTP port (0: unknown, "PORT" said). */
void page_host_refusal(int lang, unsigned port, char *out, size_t n);

/* Whether status is of a node that oversees others (commune, district,
 * province certificate): the page then shows the lag report. */
int page_shows_lag(const json_t *status);

/* The document in *ret (NUL-terminated, *ret_len bytes; the caller
 * frees it), or -ENOMEM. */
int page_render(const struct page_in *in, char **ret, size_t *ret_len);

#endif
