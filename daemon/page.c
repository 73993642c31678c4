/*
 * page: the status page, rendered into one string (page.h): the document
 * and its sections on this node and on what needs a decision; the
 * language a request asks for, and the Host it names. The texts and the
 * helpers every section writes with are in page_text.c, the peers
 * section in page_peers.c, the lag report's in page_lag.c
 * (page_internal.h).
 */
#include "page.h"

#include "page_css.h"
#include "page_internal.h"

#include "i18n.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* --- words ----------------------------------------------------------------- */

/* Collections in words: English singular, plural; Vietnamese. */
static const struct {
	const char *name, *one, *many, *vi;
} colls[] = {
	{ "health_profile", "health profile", "health profiles",
	  "hồ sơ sức khỏe" },
	{ "health_event", "health event", "health events", "sự kiện y tế" },
	{ "payment", "payment", "payments", "khoản chi trả" },
	{ "registration", "registration", "registrations", "hồ sơ đăng ký" },
};

/* This node's name: its certificate's, as its peers know it, while one
 * holds; else what node.conf calls it. */
static const char *own_name(const json_t *st)
{
	const json_t *c = json_object_get(st, "certificate");
	const char *n = page__jstr(c, "name");
	if (json_is_true(json_object_get(c, "valid")) && n && n[0])
		return n;
	return page__jstr(st, "node");
}

static const char *coll_word(const struct out *o, const char *coll,
			     uint64_t n)
{
	for (size_t i = 0; i < sizeof(colls) / sizeof(colls[0]); i++)
		if (strcmp(colls[i].name, coll) == 0)
			return o->lang == PAGE_VI ? colls[i].vi
			       : n == 1	      ? colls[i].one
					      : colls[i].many;
	return coll;
}

/* The system's time zone: "Asia/Ho_Chi_Minh, UTC+07:00" (TZ, else
 * /etc/timezone, else where /etc/localtime points). */
static void zone_text(uint64_t now_ms, char *buf, size_t n)
{
	char name[128] = "", link[PATH_MAX];
	const char *tz = getenv("TZ");
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	long off;
	ssize_t k;

	if (tz && *tz) {
		snprintf(name, sizeof(name), "%s", tz + (*tz == ':'));
	} else {
		FILE *f = fopen("/etc/timezone", "r");
		if (f) {
			if (fgets(name, sizeof(name), f))
				name[strcspn(name, "\r\n")] = 0;
			fclose(f);
		}
		if (!name[0] && (k = readlink("/etc/localtime", link,
					      sizeof(link) - 1)) > 0) {
			const char *z;
			link[k] = 0;
			z = strstr(link, "zoneinfo/");
			snprintf(name, sizeof(name), "%s", z ? z + 9 : link);
		}
	}
	if (!localtime_r(&t, &tm)) {
		snprintf(buf, n, "%s", name[0] ? name : "UTC");
		return;
	}
	off = tm.tm_gmtoff;
	snprintf(buf, n, "%s%sUTC%c%02ld:%02ld", name, name[0] ? ", " : "",
		 off < 0 ? '-' : '+', labs(off) / 3600, labs(off) % 3600 / 60);
}

/* --- sections ---------------------------------------------------------------- */

static void lang_links(const struct out *o, int show_key)
{
	static const char *const code[2] = { "en", "vi" };
	static const char *const label[2] = { "English", "Tiếng Việt" };
	fputs("<nav class=\"lang\" aria-label=\"Language / Ngôn ngữ\">", o->f);
	for (int i = 1; i >= 0; i--) {
		fprintf(o->f, "<a href=\"?lang=%s%s\" hreflang=\"%s\" lang=\"%s\"%s>%s</a>",
			code[i], show_key ? "&amp;key=1" : "", code[i],
			code[i], o->lang == i ? " aria-current=\"true\"" : "",
			label[i]);
	}
	fputs("</nav>", o->f);
}

/* The chain ends within STATUS_CERT_WARN_DAYS: in how many days, on
 * `when` (as the line before shows it), and who renews it. */
static void cert_soon(const struct out *o, const json_t *cert, uint64_t end,
		      const char *when)
{
	const uint64_t day_ms = 86400000ull;
	char days[24];

	page__num(o, days,
		  end > o->now_ms ? (end - o->now_ms) / day_ms : 0);
	fputs("<br><span class=\"bad\" id=\"cert-soon\">", o->f);
	if (page__ju64(cert, "expires_cert") > 1)
		page__say(o, M_CERT_SOON_ABOVE,
			  page__jstr(cert, "expires_cert_name"), days);
	else
		page__say(o, M_CERT_SOON, when, days);
	fputs("</span>", o->f);
}

static void node_section(const struct out *o, const struct page_in *in)
{
	const json_t *st = in->status, *cert = json_object_get(st, "certificate");
	const char *lc = o->lang == PAGE_VI ? "vi" : "en";
	char a[24], b[24];

	fprintf(o->f, "<section id=\"node\"><h2>%s</h2><dl>", page__T(o, M_THIS_NODE));
	fprintf(o->f, "<dt>%s</dt><dd id=\"node-name\">", page__T(o, M_NAME));
	page__esc(o->f, own_name(st));
	fprintf(o->f, "</dd><dt>%s</dt><dd id=\"node-scope\">", page__T(o, M_SCOPE));
	page__esc(o->f, page__jstr(st, "scope"));
	fputs("</dd>", o->f);
	if (json_is_true(json_object_get(cert, "valid"))) {
		fprintf(o->f, "<dt>%s</dt><dd id=\"node-role\">", page__T(o, M_ROLE));
		page__esc(o->f, page__role_word(o, page__jstr(cert, "role")));
		fputs("</dd>", o->f);
	}
	fprintf(o->f, "<dt>%s</dt><dd>", page__T(o, M_NETWORK));
	page__esc(o->f, page__jstr(st, "network"));
	fprintf(o->f, "</dd><dt>%s</dt><dd>", page__T(o, M_CERT));
	if (json_is_true(json_object_get(cert, "valid"))) {
		uint64_t exp = page__ju64(cert, "expires_ms");
		if (exp) {
			const uint64_t day_ms = 86400000ull;
			char t[64], iso[40];
			fputs("<span class=\"ok\">", o->f);
			if (exp % day_ms == 0) {
				time_t d = (time_t)((exp - day_ms) / 1000);
				struct tm tm;
				gmtime_r(&d, &tm);
				i18n_when_as(&tm, I18N_DATE, o->lang == PAGE_VI,
					     t, sizeof(t));
				page__say(o, M_CERT_END, t, NULL);
			} else {
				page__when(o, exp, t, sizeof(t), iso,
					   sizeof(iso));
				page__say(o, M_CERT_OK, t, NULL);
			}
			/* the chain's end may be an issuer's */
			if (page__ju64(cert, "expires_cert") > 1)
				page__say(o, M_CERT_ABOVE,
					  page__jstr(cert, "expires_cert_name"),
					  NULL);
			fputs("</span>", o->f);
			if (json_is_true(json_object_get(cert, "expires_soon")))
				cert_soon(o, cert, exp, t);
		} else {
			fprintf(o->f, "<span class=\"ok\">%s</span>",
				page__T(o, M_CERT_FOREVER));
		}
	} else {
		fputs("<span class=\"bad\">", o->f);
		page__say(o, M_CERT_BAD, page__jstr(cert, "why"), NULL);
		fputs("</span>", o->f);
	}
	fprintf(o->f, "</dd><dt>%s</dt><dd>", page__T(o, M_KEY));
	if (in->show_key) {
		fputs("<code id=\"node-key\">", o->f);
		page__esc(o->f, page__jstr(st, "node_key"));
		fprintf(o->f, "</code> <a href=\"?lang=%s\">%s</a>", lc,
			page__T(o, M_KEY_HIDE));
	} else {
		fprintf(o->f, "<a href=\"?lang=%s&amp;key=1\">%s</a>", lc,
			page__T(o, M_KEY_SHOW));
	}
	page__num(o, a, page__ju64(st, "entries"));
	page__num(o, b, page__ju64(st, "own_entries"));
	fprintf(o->f, "</dd><dt>%s</dt><dd>", page__T(o, M_STORED));
	page__say(o, page__one_or(page__ju64(st, "entries"), M_STORED_FIG_ONE, M_STORED_FIG), a,
	    b);
	fputs("</dd></dl></section>\n", o->f);
}

/* The scopes of the feeds a (objects with "scope"), the first four and
 * "…" past them or when more (a count) are left out, into list: 0 when
 * a holds none. */
static int scope_list(const json_t *a, uint64_t more, char *list, size_t n)
{
	size_t i;
	json_t *v;

	list[0] = 0;
	if (!json_array_size(a))
		return 0;
	json_array_foreach(a, i, v)
	{
		const char *s = page__jstr(v, "scope");
		if (i == 4 || !s) {
			snprintf(list + strlen(list), n - strlen(list), ", …");
			break;
		}
		snprintf(list + strlen(list), n - strlen(list), "%s%.128s",
			 i ? ", " : "", s);
	}
	if (i < 4 && more)
		snprintf(list + strlen(list), n - strlen(list), ", …");
	return 1;
}

/* This node's own feeds a fork froze (status "own_forks"): its key
 * signed two entries at one seq, on another PC or in a store put back
 * from a backup and written in before it synced. */
static void own_forks_note(const struct out *o, const struct page_in *in)
{
	const json_t *a = json_object_get(in->status, "own_forks");
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
	{
		char seq[24];
		snprintf(seq, sizeof(seq), "%llu",
			 (unsigned long long)page__ju64(v, "seq"));
		fputs("<p class=\"bad\" id=\"own-fork\">", o->f);
		page__say(o, M_OWN_FORK, page__jstr(v, "scope"), seq);
		fputs("</p>\n", o->f);
	}
}

/* Other nodes' feeds a fork froze, kept here as evidence (status
 * "other_forks"). */
static void other_forks_note(const struct out *o, const struct page_in *in)
{
	uint64_t n = page__ju64(in->status, "other_forks");
	char buf[32];

	if (!n)
		return;
	page__num(o, buf, n);
	fputs("<p class=\"bad\" id=\"other-forks\">", o->f);
	page__say(o, page__one_or(n, M_OTHER_FORKS_ONE, M_OTHER_FORKS), buf,
		  NULL);
	fputs("</p>\n", o->f);
}

/* Own writes that wait for the node's own entries from its peers (a
 * store restored or replaced), an own-feeds file that does not read or
 * records less than the node signed: status "restoring",
 * "own_feeds_problem" and "own_feeds_unrecorded". */
static void restoring_note(const struct out *o, const struct page_in *in)
{
	const json_t *st = in->status, *a = json_object_get(st, "restoring");
	const char *why = page__jstr(st, "own_feeds_problem");
	char list[4 * (128 + 2) + 8] = "";

	if (why) {
		fputs("<p class=\"bad\" id=\"own-feeds\">", o->f);
		page__say(o, M_FEEDS_PROBLEM, why, NULL);
		fputs("</p>\n", o->f);
	}
	if (scope_list(json_object_get(st, "own_feeds_unrecorded"),
		       page__ju64(st, "own_feeds_unrecorded_more"), list,
		       sizeof(list))) {
		fputs("<p class=\"bad\" id=\"unrecorded\">", o->f);
		page__say(o, M_UNRECORDED, list, NULL);
		fputs("</p>\n", o->f);
	}
	if (!scope_list(a, page__ju64(st, "restoring_more"), list,
			sizeof(list)))
		return;
	fputs("<p class=\"bad\" id=\"restoring\">", o->f);
	/* a revoked node's later writes, taken out: not a restore, and
	 * nothing to wait for (hamlet status says so too) */
	page__say(o,
		  json_is_true(json_object_get(json_object_get(st, "certificate"),
					       "revoked"))
			  ? M_RESTORING_REVOKED
			  : M_RESTORING,
		  list, NULL);
	fputs("</p>\n", o->f);
}

/*
 * n records holding two people under one id: not to be resolved by
 * choosing, so no resolve command that keeps them. A plain delete
 * settles them, or, when one village deleted its part already (del), a
 * deleting resolution: a plain delete is refused then.
 */
static void two_people(const struct out *o, const char *coll, uint64_t n,
		       int del)
{
	char buf[24];

	if (!n)
		return;
	page__num(o, buf, n);
	fprintf(o->f, "<li class=\"conflict two-people%s\">",
		del ? " one-deleted" : "");
	page__say(o, del ? M_PROB_TWO_DEL : M_PROB_TWO, buf,
		  coll_word(o, coll, n));
	fputs("<br>", o->f);
	page__say(o, del ? M_PROB_TWO_DEL_DO : M_PROB_TWO_DO, NULL, NULL);
	fputs(del ? "<code class=\"cmd\">hamlet conflicts resolve "
		  : "<code class=\"cmd\">hamlet delete ",
	      o->f);
	page__esc(o->f, coll);
	fputs(del ? " ID --delete</code><br><small>" : " ID</code><br><small>",
	      o->f);
	page__say(o, M_PROB_TWO_SEE, NULL, NULL);
	fputs("</small></li>", o->f);
}

static void problems_section(const struct out *o, const struct page_in *in)
{
	const json_t *st = in->status;
	const json_t *prob = json_object_get(st, "problems"), *v;
	uint64_t total = page__ju64(st, "conflicts"), other;
	const char *coll;
	char buf[24];

	page__num(o, buf, total);
	fprintf(o->f, "<section id=\"problems\"><h2>%s</h2><p id=\"conflicts\" data-count=\"%s\" class=\"%s\">",
		page__T(o, M_PROBLEMS), buf, total ? "bad" : "ok");
	if (!total) {
		page__say(o, M_PROB_NONE, NULL, NULL);
		fputs("</p></section>\n", o->f);
		return;
	}
	page__say(o, page__one_or(total, M_PROB_COUNT_ONE, M_PROB_COUNT), buf, NULL);
	fputs("</p><ul class=\"problems\">", o->f);
	json_object_foreach((json_t *)prob, coll, v)
	{
		uint64_t c = page__ju64(v, "conflicts"), d = page__ju64(v, "duplicates");
		/* one id holding two people: not resolved by choosing; of
		 * them, those one village deleted its part of already */
		uint64_t two = page__ju64(v, "two_people");
		uint64_t del = page__ju64(v, "two_people_one_deleted");
		if (two > c)
			two = c;
		if (del > two)
			del = two;
		c -= two;
		two_people(o, coll, two - del, 0);
		two_people(o, coll, del, 1);
		if (c) {
			page__num(o, buf, c);
			fputs("<li class=\"conflict\">", o->f);
			page__say(o, M_PROB_CONF, buf, coll_word(o, coll, c));
			fputs("<br>", o->f);
			page__say(o, M_PROB_CONF_DO, NULL, NULL);
			fputs("<code class=\"cmd\">hamlet conflicts resolve ", o->f);
			page__esc(o->f, coll);
			fputs(" ID '{\"field\":\"value\"}'</code></li>", o->f);
		}
		if (d) {
			page__num(o, buf, d);
			fputs("<li class=\"duplicate\">", o->f);
			page__say(o, M_PROB_DUP, buf, coll_word(o, coll, d));
			fputs("<br>", o->f);
			page__say(o, M_PROB_DUP_DO, NULL, NULL);
			fputs("<code class=\"cmd\">hamlet delete ", o->f);
			page__esc(o->f, coll);
			fputs(" ID</code></li>", o->f);
		}
	}
	if ((other = page__ju64(st, "problems_unclassified"))) {
		page__num(o, buf, other);
		fputs("<li>", o->f);
		page__say(o, M_PROB_OTHER, buf, NULL);
		fputs("</li>", o->f);
	}
	fprintf(o->f, "</ul><p><small>%s</small></p></section>\n",
		page__T(o, M_ID_NOTE));
}

/* --- the document ------------------------------------------------------------ */

int page_render(const struct page_in *in, char **ret, size_t *ret_len)
{
	struct out o = { NULL, in->lang == PAGE_VI, in->now_ms };
	char *buf = NULL, t[64], iso[40], zone[200];
	size_t len = 0;

	if (!(o.f = open_memstream(&buf, &len)))
		return -ENOMEM;
	page__when(&o, in->now_ms, t, sizeof(t), iso, sizeof(iso));
	zone_text(in->now_ms, zone, sizeof(zone));
	fprintf(o.f,
		"<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		"<meta http-equiv=\"refresh\" content=\"60\">"
		"<meta name=\"robots\" content=\"noindex\"><title>",
		o.lang == PAGE_VI ? "vi" : "en");
	page__esc(o.f, own_name(in->status));
	fprintf(o.f, " · %s</title><style>%s</style></head>\n<body><header><h1>",
		page__T(&o, M_TITLE), page_css);
	page__esc(o.f, own_name(in->status));
	fputs("</h1>", o.f);
	lang_links(&o, in->show_key);
	fputs("</header><main><p class=\"when\">", o.f);
	page__say(&o, M_UPDATED, t, zone);
	fprintf(o.f, " <a href=\"?lang=%s%s\">%s</a></p>\n",
		o.lang == PAGE_VI ? "vi" : "en", in->show_key ? "&amp;key=1" : "",
		page__T(&o, M_REFRESH));
	node_section(&o, in);
	own_forks_note(&o, in);
	other_forks_note(&o, in);
	restoring_note(&o, in);
	page__peers_section(&o, in->status);
	problems_section(&o, in);
	if (in->lag)
		page__lag_section(&o, in->lag);
	fprintf(o.f, "<footer>%s</footer></main></body></html>\n",
		page__T(&o, M_FOOTER));
	if (fclose(o.f) != 0 || !buf) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* --- choosing ------------------------------------------------------------------ */

int page_lang_parse(const char *s, int *ret)
{
	if (s && strcmp(s, "vi") == 0)
		*ret = PAGE_VI;
	else if (s && strcmp(s, "en") == 0)
		*ret = PAGE_EN;
	else
		return -EINVAL;
	return 0;
}

/* The weight of one Accept-Language item's ";q=" (1 when absent, 0 when
 * unreadable), in thousandths. */
static int weight(const char *p, const char *end)
{
	int w = 1000, d = 100;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != ';')
		return 1000;
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
		return 0;
	p += 2;
	if (*p == '1')
		return 1000;
	if (*p != '0')
		return 0;
	w = 0;
	if (++p < end && *p == '.')
		for (p++; p < end && *p >= '0' && *p <= '9' && d; p++, d /= 10)
			w += (*p - '0') * d;
	return w;
}

int page_lang_pick(const char *al)
{
	int best[2] = { 0, 0 }, first = -1;
	const char *p = al;

	while (p && *p) {
		const char *end = strchr(p, ','), *tag;
		size_t tl;
		if (!end)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		tag = p;
		while (p < end && *p != ';' && *p != ' ' && *p != '\t')
			p++;
		tl = (size_t)(p - tag);
		for (int l = 0; l < 2; l++) {
			const char *c = l == PAGE_VI ? "vi" : "en";
			if (tl >= 2 && strncasecmp(tag, c, 2) == 0 &&
			    (tl == 2 || tag[2] == '-' || tag[2] == '_')) {
				int w = weight(p, end);
				if (w > best[l])
					best[l] = w;
				if (w > 0 && first < 0)
					first = l;
			}
		}
		p = *end ? end + 1 : end;
	}
	if (best[PAGE_VI] > best[PAGE_EN] ||
	    (best[PAGE_VI] > 0 && best[PAGE_VI] == best[PAGE_EN] &&
	     first == PAGE_VI))
		return PAGE_VI;
	return PAGE_EN;
}

/* --- the Host a request names ---------------------------------------------------- */

/* Whether the n bytes at name are one of the space-separated names of
 * list, case aside. */
static int name_listed(const char *name, size_t n, const char *list)
{
	while (list && *list) {
		size_t k = strcspn(list, " \t,");
		if (k == n && strncasecmp(list, name, n) == 0)
			return 1;
		list += k;
		list += strspn(list, " \t,");
	}
	return 0;
}

int page_host_allowed(const char *host, const char *names)
{
	char name[256];
	unsigned char ip[16];
	const char *port;
	size_t n;

	if (!host)
		return 1; /* HTTP/1.0: no browser leaves it out */
	if (host[0] == '[') {
		const char *rb = strchr(host, ']');
		n = rb ? (size_t)(rb - host - 1) : 0;
		if (!rb || n == 0 || n >= sizeof(name))
			return 0;
		memcpy(name, host + 1, n);
		name[n] = 0;
		port = rb + 1;
		if (inet_pton(AF_INET6, name, ip) != 1)
			return 0;
	} else {
		n = strcspn(host, ":");
		if (n == 0 || n >= sizeof(name))
			return 0;
		memcpy(name, host, n);
		name[n] = 0;
		port = host + n;
	}
	if (*port) { /* ":" and digits only */
		if (*port != ':' || !port[1] ||
		    strspn(port + 1, "0123456789") != strlen(port + 1))
			return 0;
	}
	if (host[0] == '[' || inet_pton(AF_INET, name, ip) == 1)
		return 1;
	if (n > 1 && name[n - 1] == '.') /* the root's dot: the same name */
		name[--n] = 0;
	return (n == 9 && strncasecmp(name, "localhost", 9) == 0) ||
	       name_listed(name, n, names);
}

void page_host_refusal(int lang, unsigned port, char *out, size_t n)
{
	char p[16];

	if (port)
		snprintf(p, sizeof(p), "%u", port);
	else
		snprintf(p, sizeof(p), "%s", lang == PAGE_VI ? "CỔNG" : "PORT");
	snprintf(out, n,
		 lang == PAGE_VI
			 ? "Trang này không trả lời cho tên máy được dùng trong địa chỉ (có thể là một trang web khác đang tìm cách đọc số liệu của nút). Hãy mở bằng địa chỉ IP của máy, ví dụ http://127.0.0.1:%s/, hoặc http://localhost:%s/. Nếu nút cần được mở bằng một tên khác, hãy nhờ quản trị viên thêm tên đó vào hosts trong mục [http] của cấu hình hamletd.\n"
			 : "This node does not answer to the host name in the address (it may be another web site trying to read the node's figures). Open it by the PC's IP address, like http://127.0.0.1:%s/, or as http://localhost:%s/. If the node must be opened by another name, ask the administrator to add that name to hosts under [http] in hamletd's configuration.\n",
		 p, p);
}

int page_shows_lag(const json_t *status)
{
	const json_t *cert = json_object_get(status, "certificate");
	const char *role = page__jstr(cert, "role");
	return json_is_true(json_object_get(cert, "valid")) && role &&
	       (strcmp(role, "commune") == 0 || strcmp(role, "district") == 0 ||
		strcmp(role, "province") == 0);
}
