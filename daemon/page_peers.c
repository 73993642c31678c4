/*
 * page_peers: the status page's section on the peers: each one's state,
 * what it means and what to do; the configured peers hamletd cannot
 * reach, and why, in the page's language (page_internal.h).
 */
#include "page_internal.h"

#include "cert.h"
#include "i18n.h"

#include <libintl.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* --- why a peer is not reached ------------------------------------------------ */

/* What a dial's failure means for an operator (docs/operator-guide.md,
 * "connection refused" and the rest): hamletd keeps why in English, the
 * C library's words for an errno or its own. The Vietnamese words are
 * the C library's, as hamlet status shows them; what this table lacks is
 * looked up as hamlet status does (why_gettext_vi). */
static const struct {
	const char *en, *vi;
	enum msg what;
} why_words[] = {
	{ "Connection refused", "Kết nối bị từ chối", M_WHY_REFUSED },
	{ "No route to host", "Không có đường dẫn đến máy", M_WHY_DOWN },
	{ "Network is unreachable", "Không thể kết nối mạng", M_WHY_DOWN },
	{ "Connection timed out", "Kết nối đã quá hạn", M_WHY_DOWN },
	{ "Host is down", "Máy không chạy", M_WHY_DOWN },
	{ "Connection reset by peer", "Kết nối bị đặt lại bởi ngang hàng",
	  M_WHY_OTHER },
};

static const char why_resolve[] = "cannot resolve: ";

/* Opened once, never freed: it lives as long as the process. */
static locale_t vi_locale;

static void vi_locale_open(void)
{
	vi_locale = newlocale(LC_MESSAGES_MASK | LC_CTYPE_MASK, "vi_VN.UTF-8",
			      (locale_t)0);
}

/* en in Vietnamese as hamlet status finds it: hamlet's own catalog, else
 * the C library's words for an errno; read in a vi_VN.UTF-8 locale of
 * this thread alone (uselocale), so that hamletd's other threads keep
 * theirs. NULL when neither has it, or that locale is not installed. */
static const char *why_gettext_vi(const char *en)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const char *t;
	locale_t old;

	pthread_once(&once, vi_locale_open);
	if (!vi_locale || !en || !*en)
		return NULL;
	old = uselocale(vi_locale);
	t = dgettext(HAMLET_TEXTDOMAIN, en);
	if (t == en)
		t = dgettext("libc", en);
	uselocale(old);
	return t == en ? NULL : t;
}

/* One English reason (no "cannot resolve: ") in the page's language. */
static const char *why_word(const struct out *o, const char *en)
{
	const char *t;
	for (size_t i = 0; i < sizeof(why_words) / sizeof(why_words[0]); i++)
		if (strcasecmp(why_words[i].en, en) == 0)
			return o->lang == PAGE_VI ? why_words[i].vi : en;
	if (o->lang == PAGE_VI && (t = why_gettext_vi(en)))
		return t;
	return en;
}

/* why in the page's language, into buf; and what it means (M_WHY_*):
 * for a dial that connected, by how far it got (u's "stage", conn.h).
 * Only after the handshake can the other node have refused this one. */
static enum msg why_read(const struct out *o, const json_t *u, char *buf,
			 size_t n)
{
	const char *why = page__jstr(u, "why");
	const char *stage = page__jstr(u, "stage");
	int reached = json_is_true(json_object_get(u, "reached"));
	enum msg what = reached ? M_WHY_SESSION : M_WHY_OTHER;
	/* only a close after the handshake can be a refusal of this
	 * node's certificate: before it, the other node has seen none */
	if (reached && stage &&
	    (!strcmp(stage, "handshake_timeout") || !strcmp(stage, "not_hamlet")))
		what = M_WHY_NOT_HAMLET;
	else if (reached && stage &&
		 (!strcmp(stage, "other_network") ||
		  !strcmp(stage, "handshake")))
		what = M_WHY_HANDSHAKE;
	else if (reached && stage && !strcmp(stage, "peer_certificate"))
		/* this node refused the other's chain itself */
		what = M_WHY_PEER_CERT;
	else if (reached && stage && !strcmp(stage, "hello_timeout"))
		/* a node of this network (its handshake held) that said
		 * nothing more in time: a slow line, or a busy node */
		what = M_WHY_OTHER;
	if (!why)
		why = "";
	if (strncmp(why, why_resolve, sizeof(why_resolve) - 1) == 0) {
		const char *rest = why + sizeof(why_resolve) - 1;
		snprintf(buf, n,
			 o->lang == PAGE_VI ? "không tìm được địa chỉ của tên máy: %s"
					    : "cannot resolve: %s",
			 why_word(o, rest));
		return reached ? what : M_WHY_RESOLVE;
	}
	for (size_t i = 0; !reached && i < sizeof(why_words) / sizeof(why_words[0]); i++)
		if (strcasecmp(why_words[i].en, why) == 0)
			what = why_words[i].what;
	snprintf(buf, n, "%s", why_word(o, why));
	return what;
}

/* "01/12/2025 16:55:00 +07, 5 phút trước" */
static void when_ago(const struct out *o, uint64_t ms, char *buf, size_t n)
{
	char t[64], iso[40], a[48];
	page__when(o, ms, t, sizeof(t), iso, sizeof(iso));
	page__ago(o, ms, a, sizeof(a));
	snprintf(buf, n, "%s, %s", t, a);
}

/* What a state means and what to do: one plain line below it. */
static void advice(const struct out *o, enum msg m)
{
	fprintf(o->f, "<br><small class=\"advice\">%s</small>", page__T(o, m));
}

/* The entry of status's "unreached" list for addr, or NULL. */
static const json_t *unreached_find(const json_t *st, const char *addr)
{
	const json_t *u = json_object_get(st, "unreached"), *p;
	size_t i;
	if (!addr)
		return NULL;
	json_array_foreach(u, i, p)
	{
		const char *a = page__jstr(p, "addr");
		if (a && strcmp(a, addr) == 0)
			return p;
	}
	return NULL;
}

/* The configured peers hamletd cannot reach: since when, how many tries,
 * the last reason in the page's language, and what it means. */
static void unreached_list(const struct out *o, const json_t *st)
{
	const json_t *u = json_object_get(st, "unreached"), *p;
	char buf[24], tries[48], why[300];
	size_t i;
	if (!json_array_size(u))
		return;
	fputs("<ul class=\"unreached\">", o->f);
	json_array_foreach(u, i, p)
	{
		int reached = json_is_true(json_object_get(p, "reached"));
		uint64_t n = page__ju64(p, "tries"), from = page__ju64(p, "since_ms");
		enum msg what = why_read(o, p, why, sizeof(why));
		page__num(o, buf, n);
		{
			const char *a[1] = { buf };
			FILE *f = fmemopen(tries, sizeof(tries), "w");
			if (f) {
				page__fillv(f, page__T(o, page__one_or(n, M_TRIES_ONE, M_TRIES)),
				      a, 1);
				fclose(f);
			} else {
				snprintf(tries, sizeof(tries), "%s", buf);
			}
		}
		fputs("<li class=\"bad\">", o->f);
		if (from) {
			char t[64], iso[40], ag[48];
			page__when(o, from, t, sizeof(t), iso, sizeof(iso));
			page__ago(o, from, ag, sizeof(ag));
			const char *a[4] = { page__jstr(p, "addr"), t, ag, tries };
			page__fillv(o->f,
			      page__T(o, reached ? M_NOSESSION_SINCE : M_UNREACHED_SINCE),
			      a, 4);
		} else {
			page__say(o, reached ? M_NOSESSION : M_UNREACHED,
			    page__jstr(p, "addr"), tries);
		}
		fputs("<span class=\"why\">", o->f);
		page__esc(o->f, why);
		fputs("</span>", o->f);
		advice(o, what);
		fputs("</li>", o->f);
	}
	fputs("</ul>", o->f);
}

/* "2.0 kB", as hamlet status writes sizes in the page's language ("2,0
 * kB" in Vietnamese). */
static void size_text(const struct out *o, uint64_t n, char buf[32])
{
	i18n_size_as(n, buf, o->lang == PAGE_VI);
}

/* "1,045", as hamlet status writes counts ("1.045" in Vietnamese). */
static void count_text(const struct out *o, uint64_t n, char out[32])
{
	i18n_count_as(n, out, o->lang == PAGE_VI);
}

/* Below a peer's state: what it means and what to do; for one a budget
 * holds back, what hamlet status says of it; for one not connected,
 * since when, and why when hamletd dials it and fails. */
static void state_detail(const struct out *o, const json_t *st,
			 const json_t *p, enum msg sm, const char *label)
{
	const json_t *bg = json_object_get(p, "budget");
	char a[32], b[32], c[32], t[128], why[300];

	switch (sm) {
	case M_ST_INSYNC:
		advice(o, M_DO_INSYNC);
		break;
	case M_ST_SYNCING:
		advice(o, M_DO_SYNCING);
		break;
	case M_ST_FULL: {
		uint64_t n = page__ju64(p, "entries_waiting_for_disk");
		count_text(o, n, a);
		fputs("<br><small class=\"facts\">", o->f);
		page__say(o, page__one_or(n, M_FULL_WAIT_ONE, M_FULL_WAIT), a, NULL);
		fputs("</small>", o->f);
		advice(o, M_DO_FULL);
		break;
	}
	case M_ST_AHEAD: {
		uint64_t n = page__ju64(p, "entries_refused_ahead_out");
		count_text(o, n, a);
		fputs("<br><small class=\"facts\">", o->f);
		page__say(o, page__one_or(n, M_AHEAD_OUT_ONE, M_AHEAD_OUT), a, NULL);
		fputs("</small>", o->f);
		advice(o, M_DO_AHEAD);
		break;
	}
	case M_ST_HELD: {
		const char *by = page__jstr(bg, "held_by");
		int session = by && strcmp(by, "session") == 0;
		uint64_t n = page__ju64(bg, "entries_held");
		uint64_t big = page__ju64(bg, "entry_too_big");
		const char *arg[4] = { a, b, label, c };
		if (!n)
			n = 1; /* held back: at least the one waiting */
		count_text(o, n, a);
		if (big) {
			/* no day or session to wait for */
			const char *barg[4] = { a, c, b, label };
			uint64_t day = page__ju64(bg, "per_day");
			size_text(o, big, c);
			size_text(o, day && big > day ? day
				  : page__ju64(bg, "per_session"), b);
			fputs("<br><small class=\"facts budget\">", o->f);
			page__fillv(o->f,
				    page__T(o, page__one_or(n, M_HELD_BIG_ONE,
							    M_HELD_BIG)),
				    barg, 4);
			fputs("</small>", o->f);
			advice(o, M_DO_HELD_BIG);
			break;
		}
		size_text(o, page__ju64(bg, session ? "per_session" : "per_day"), b);
		size_text(o, page__ju64(bg, session ? "sent_session" : "sent_today"), c);
		fputs("<br><small class=\"facts budget\">", o->f);
		page__fillv(o->f,
		      page__T(o, session ? page__one_or(n, M_HELD_SESSION_ONE, M_HELD_SESSION)
				   : page__one_or(n, M_HELD_DAY_ONE, M_HELD_DAY)),
		      arg, 4);
		fputs("</small>", o->f);
		advice(o, M_DO_HELD);
		break;
	}
	case M_ST_CERT_OLD:
		advice(o, M_DO_CERT_OLD);
		break;
	case M_ST_REVOKED:
		advice(o, M_DO_REVOKED);
		break;
	case M_ST_DOWN: {
		const json_t *u = unreached_find(st, page__jstr(p, "addr"));
		uint64_t since = page__ju64(u, "since_ms"), last = page__ju64(p, "last_sync_ms");
		enum msg what = M_DO_DOWN;
		if (u && since) {
			/* hamletd counts its tries from its own start: a
			 * peer last in touch before that (an office PC off
			 * overnight) is away since then, not since the
			 * restart, and the advice to call goes by that */
			when_ago(o, last && last < since ? last : since, t,
				 sizeof(t));
			fputs("<br><small class=\"since\">", o->f);
			page__say(o, M_DOWN_SINCE, t, NULL);
			what = why_read(o, u, why, sizeof(why));
			fputs(": ", o->f);
			page__esc(o->f, why);
			fputs("</small>", o->f);
		} else if (last) {
			when_ago(o, last, t, sizeof(t));
			fputs("<br><small class=\"since\">", o->f);
			page__say(o, M_DOWN_LAST, t, NULL);
			fputs("</small>", o->f);
		}
		advice(o, what);
		break;
	}
	default:
		break;
	}
}

/* A key that never completed a session, as hamletd's status calls it
 * (json "stranger"): one line for them all, as hamlet status has it. */
static int stranger(const json_t *p)
{
	return json_is_true(json_object_get(p, "stranger"));
}

void page__peers_section(const struct out *o, const json_t *st)
{
	const json_t *peers = json_object_get(st, "peers"), *p;
	uint64_t most = 0;
	char buf[24];
	size_t i;

	size_t strangers = 0;
	json_array_foreach(peers, i, p)
		strangers += stranger(p);
	fprintf(o->f, "<section id=\"peers\"><h2>%s (%zu)</h2>", page__T(o, M_PEERS),
		json_array_size(peers) - strangers);
	if (json_is_true(json_object_get(st, "own_scope_unread"))) {
		fputs("<p class=\"bad\" id=\"own-unread\">", o->f);
		page__say(o, M_OWN_UNREAD, page__jstr(st, "scope"), NULL);
		fputs("</p>", o->f);
	} else if (json_is_string(json_object_get(st, "writes_wait_for"))) {
		fputs("<p class=\"bad\" id=\"writes-wait\">", o->f);
		page__say(o, M_WRITES_WAIT, page__jstr(st, "writes_wait_for"),
			  NULL);
		fputs("</p>", o->f);
	}
	if (json_array_size(peers) == strangers) {
		if (strangers) {
			page__num(o, buf, strangers);
			fputs("<p>", o->f);
			page__say(o, page__one_or(strangers, M_STRANGERS_ONE, M_STRANGERS),
			    buf, NULL);
			fputs("</p>", o->f);
		}
		fprintf(o->f, "<p class=\"warn\">%s</p>", page__T(o, M_NO_PEERS));
		unreached_list(o, st);
		fputs("</section>\n", o->f);
		return;
	}
	fprintf(o->f,
		"<table class=\"cards\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th class=\"num\">%s</th></tr></thead><tbody>",
		page__T(o, M_COL_PEER), page__T(o, M_COL_STATE), page__T(o, M_COL_LAST),
		page__T(o, M_COL_WAIT));
	json_array_foreach(peers, i, p)
	{
		char label[CERT_MAX_NAME + 32];
		int up = json_is_true(json_object_get(p, "connected"));
		uint64_t last = page__ju64(p, "last_sync_ms");
		uint64_t wait = page__ju64(p, "waiting_out");
		const json_t *bg = json_object_get(p, "budget");
		const char *src = page__jstr(p, "name_source");
		int cert_old = src && strcmp(src, "certificate_invalid") == 0;
		int revoked = src && strcmp(src, "certificate_revoked") == 0;
		enum msg sm = !up && revoked	? M_ST_REVOKED
			      : !up && cert_old ? M_ST_CERT_OLD
			      : !up ? M_ST_DOWN
			      : page__ju64(p, "entries_waiting_for_disk") ? M_ST_FULL
			      /* in the order of status_peer_judge() */
			      : page__ju64(p, "entries_refused_ahead_out")
				      ? M_ST_AHEAD
			      : json_is_true(json_object_get(bg, "held_back"))
				      ? M_ST_HELD
			      : json_is_true(json_object_get(p, "in_sync"))
				      ? M_ST_INSYNC
				      : M_ST_SYNCING;
		if (stranger(p))
			continue;
		const char *cls = sm == M_ST_INSYNC ? "ok"
				  : sm == M_ST_SYNCING || sm == M_ST_HELD ||
						  sm == M_ST_CERT_OLD ||
						  sm == M_ST_REVOKED
					  ? "warn"
					  : "bad";
		if (wait > most)
			most = wait;
		page__node_label(o, page__jstr(p, "name"), page__jstr(p, "key"), label,
			   sizeof(label));
		fputs("<tr class=\"peer\">", o->f);
		page__td(o, NULL, M_COL_PEER);
		fputs("<span class=\"peer-name\">", o->f);
		page__esc(o->f, label);
		fputs("</span><br><small>", o->f);
		page__esc(o->f, page__role_word(o, page__jstr(p, "role")));
		fputs(" ", o->f);
		page__esc(o->f, page__jstr(p, "addr"));
		fputs("</small>", o->f);
		page__td_end(o);
		page__td(o, NULL, M_COL_STATE);
		fprintf(o->f, "<span class=\"dot %s\"></span><span class=\"state %s\">%s</span>",
			cls, cls, page__T(o, sm));
		state_detail(o, st, p, sm, label);
		page__td_end(o);
		page__td(o, NULL, M_COL_LAST);
		if (last)
			page__time_cell(o, last);
		else
			fputs(page__T(o, M_NEVER), o->f);
		page__td_end(o);
		page__num(o, buf, wait);
		page__td(o, "num", M_COL_WAIT);
		fprintf(o->f, "<span class=\"waiting\">%s</span>", buf);
		page__td_end(o);
		fputs("</tr>", o->f);
	}
	fputs("</tbody></table>", o->f);
	if (strangers) {
		page__num(o, buf, strangers);
		fputs("<p>", o->f);
		page__say(o, page__one_or(strangers, M_STRANGERS_ONE, M_STRANGERS), buf,
		    NULL);
		fputs("</p>", o->f);
	}
	unreached_list(o, st);
	page__num(o, buf, most);
	fprintf(o->f, "<p id=\"waiting\" data-count=\"%s\">", buf);
	if (most)
		page__say(o, page__one_or(most, M_WAIT_SOME_ONE, M_WAIT_SOME), buf, NULL);
	else
		page__say(o, M_WAIT_NONE, NULL, NULL);
	fputs("</p>", o->f);
	if (page__ju64(st, "held")) {
		page__num(o, buf, page__ju64(st, "held"));
		fputs("<p class=\"warn\">", o->f);
		page__say(o, page__one_or(page__ju64(st, "held"), M_HELD_ONE, M_HELD), buf, NULL);
		fputs("</p>", o->f);
	}
	fputs("</section>\n", o->f);
}
