/*
 * page_internal: what the status page's files share (page.c: the
 * document, the node and problems sections, choosing the language,
 * the Host; page_text.c: the texts, escaping and filling, words, times,
 * table cells; page_peers.c: the peers section; page_lag.c: the lag
 * section). Nothing outside daemon/page*.c includes it.
 */
#ifndef HAMLETD_PAGE_INTERNAL_H
#define HAMLETD_PAGE_INTERNAL_H

#include "page.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* the texts, each in English and Vietnamese (page_text.c) */

enum msg {
	M_TITLE,
	M_UPDATED,
	M_REFRESH,
	M_THIS_NODE,
	M_NAME,
	M_SCOPE,
	M_ROLE,
	M_NETWORK,
	M_CERT,
	M_CERT_OK,
	M_CERT_END,
	M_CERT_FOREVER,
	M_CERT_BAD,
	M_CERT_ABOVE,
	M_CERT_SOON,
	M_CERT_SOON_ABOVE,
	M_KEY,
	M_KEY_SHOW,
	M_KEY_HIDE,
	M_STORED,
	M_RESTORING,
	M_RESTORING_REVOKED,
	M_FEEDS_PROBLEM,
	M_UNRECORDED,
	M_OWN_FORK,
	M_OTHER_FORKS,
	M_OTHER_FORKS_ONE,
	M_PEERS,
	M_NO_PEERS,
	M_OWN_UNREAD,
	M_WRITES_WAIT,
	M_UNREACHED,
	M_STRANGERS,
	M_NOSESSION,
	M_ST_HELD,
	M_ALL_SCOPES,
	M_COL_PEER,
	M_COL_STATE,
	M_COL_LAST,
	M_COL_WAIT,
	M_ST_INSYNC,
	M_ST_SYNCING,
	M_ST_DOWN,
	M_ST_FULL,
	M_NEVER,
	M_WAIT_NONE,
	M_WAIT_SOME,
	M_HELD,
	M_PROBLEMS,
	M_PROB_NONE,
	M_PROB_COUNT,
	M_PROB_CONF,
	M_PROB_CONF_DO,
	M_PROB_DUP,
	M_PROB_DUP_DO,
	M_PROB_OTHER,
	M_ID_NOTE,
	M_LAG,
	M_LAG_NONE_KNOWN,
	M_LAG_ALL_OK,
	M_LAG_SOME,
	M_LAG_DO,
	M_COL_NODE,
	M_COL_HEARD,
	M_COL_VIA,
	M_NEVER_HEARD,
	M_BEHIND,
	M_ON_TIME,
	M_LAG_REVOKED,
	M_CHART,
	M_MORE,
	M_VIA_BUNDLE,
	M_VIA_LOCAL,
	M_VIA_DIRECT,
	M_FOOTER,
	M_KEYWORD, /* how an unnamed node is called: "key 1a2b3c4d…" */
	M_BY_COMMUNE,
	M_COL_COMMUNE,
	M_COL_BEHIND,
	M_GROUP_OF,
	M_TRIES,
	M_TRIES_ONE,
	M_UNREACHED_SINCE,
	M_NOSESSION_SINCE,
	M_WHY_REFUSED,
	M_WHY_DOWN,
	M_WHY_RESOLVE,
	M_WHY_SESSION,
	M_WHY_PEER_CERT,
	M_WHY_NOT_HAMLET,
	M_WHY_HANDSHAKE,
	M_WHY_OTHER,
	M_DO_INSYNC,
	M_DO_SYNCING,
	M_FULL_WAIT,
	M_FULL_WAIT_ONE,
	M_DO_FULL,
	M_HELD_DAY,
	M_HELD_DAY_ONE,
	M_HELD_SESSION,
	M_HELD_SESSION_ONE,
	M_DO_HELD,
	M_DOWN_SINCE,
	M_DOWN_LAST,
	M_DO_DOWN,
	M_PROB_TWO,
	M_PROB_TWO_DO,
	M_PROB_TWO_SEE,
	M_PROB_TWO_DEL,
	M_PROB_TWO_DEL_DO,
	M_LAG_ALL_OK_ONE,
	M_LAG_SOME_ONE,
	M_STRANGERS_ONE,
	M_WAIT_SOME_ONE,
	M_HELD_ONE,
	M_PROB_COUNT_ONE,
	M_STORED_FIG,
	M_STORED_FIG_ONE,
	M_ST_AHEAD,
	M_AHEAD_OUT,
	M_AHEAD_OUT_ONE,
	M_DO_AHEAD,
	M_HELD_BIG,
	M_HELD_BIG_ONE,
	M_DO_HELD_BIG,
	M_ST_CERT_OLD,
	M_DO_CERT_OLD,
	M_ST_REVOKED,
	M_DO_REVOKED,
	M_LAG_CERT_SOON,
	M_LAG_CERT_SOON_ONE,
	M_LAG_CERT_SOON_DAY,
	M__N
};

/* Where a section writes, in which language, at what time. */
struct out {
	FILE *f;
	int lang;
	uint64_t now_ms;
};

/* --- page_text.c --- */

/* Text m in o's language. */
const char *page__T(const struct out *o, enum msg m);

/* s (NULL: nothing) HTML-escaped. */
void page__esc(FILE *f, const char *s);

/* Text t (trusted markup) with {1} … {n} replaced by arg[0] … arg[n-1],
 * escaped (NULL: nothing). */
void page__fillv(FILE *f, const char *t, const char *const *arg, int n);

/* Text m with {1} and {2} replaced by a and b, escaped. */
void page__say(const struct out *o, enum msg m, const char *a, const char *b);

/* m, or m_one when n is 1. */
enum msg page__one_or(uint64_t n, enum msg m_one, enum msg m);

/* v in digits. */
void page__num(const struct out *o, char buf[24], uint64_t v);

/* j's member k, as a string (NULL when none), as a count (0 when none). */
const char *page__jstr(const json_t *j, const char *k);
uint64_t page__ju64(const json_t *j, const char *k);

/* A certificate's role in the page's language. */
const char *page__role_word(const struct out *o, const char *role);

/* "5 minutes ago" / "5 phút trước". */
void page__ago(const struct out *o, uint64_t ms, char *buf, size_t n);

/* The local time of ms for people, and as ISO 8601. */
void page__when(const struct out *o, uint64_t ms, char *buf, size_t n,
		char *iso, size_t in);

/* <time> with the local time and, below it, how long ago. */
void page__time_cell(const struct out *o, uint64_t ms);

/* A node's label: its certificate's name, else "key 1a2b3c4d…". */
void page__node_label(const struct out *o, const char *name,
		      const char *hexkey, char *buf, size_t n);

/* <td> whose content is one block; page__td_end closes it. */
void page__td(const struct out *o, const char *cls, enum msg label);
void page__td_end(const struct out *o);

/* --- page_peers.c --- */

/* The peers: each one's state and what to do, those not reached. */
void page__peers_section(const struct out *o, const json_t *st);

/* --- page_lag.c --- */

/* Which nodes are behind: by commune, a chart, a table. */
void page__lag_section(const struct out *o, const struct lag_report *r);

#endif
