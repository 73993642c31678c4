/*
 * page_lag: the status page's section on the lag report, at a commune,
 * district or province: which nodes are behind, by commune, in a chart
 * and a table (page_internal.h).
 */
#include "page_internal.h"

#include "cert.h"
#include "scopemap.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* x's name, or its key's start without one; with its key's start too
 * when another node of r goes by the same name (a PC replaced, say). */
static void lag_label(const struct out *o, const struct lag_report *r,
		      const struct lag_node *x, char *buf, size_t n)
{
	char hex[65];
	static const char digits[] = "0123456789abcdef";
	size_t l;
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[x->key[i] >> 4];
		hex[2 * i + 1] = digits[x->key[i] & 15];
	}
	hex[64] = 0;
	page__node_label(o, x->name, hex, buf, n);
	if (!x->name[0])
		return;
	for (size_t i = 0; i < r->n; i++)
		if (&r->v[i] != x && strcmp(r->v[i].name, x->name) == 0) {
			l = strlen(buf);
			snprintf(buf + l, n - l, " (%s %.8s…)",
				 page__T(o, M_KEYWORD), hex);
			break;
		}
}

/* Through whom x's newest entry came. */
static void lag_via(const struct out *o, const struct lag_report *r,
		    const struct lag_node *x)
{
	char label[CERT_MAX_NAME + 32];
	if (!x->has_via) {
		fputs(x->contact_ms ? page__T(o, M_VIA_DIRECT) : "—", o->f);
		return;
	}
	if (x->via.via.kind == HEARD_PEER) {
		const struct lag_node *p = lag_report_find(r, x->via.via.peer);
		if (p) {
			lag_label(o, r, p, label, sizeof(label));
			page__esc(o->f, label);
		} else {
			fputs(page__T(o, M_COL_PEER), o->f);
		}
	} else if (x->via.via.kind == HEARD_BUNDLE) {
		fputs(page__T(o, M_VIA_BUNDLE), o->f);
	} else {
		fputs(page__T(o, M_VIA_LOCAL), o->f);
	}
}

/* A commune and its villages in the lag report. */
struct group {
	char scope[ENTRY_MAX_SCOPE + 1];
	const char *name; /* the commune's certificate's, or NULL */
	size_t n, behind;
};

/* The commune x belongs to: its own scope for a commune, the parent of a
 * village's (effective: after a merger, the commune it was merged into);
 * 0 for any other node. */
static int group_scope(const struct lag_node *x, char out[ENTRY_MAX_SCOPE + 1])
{
	char *slash;
	if (x->role != CERT_COMMUNE && x->role != CERT_VILLAGE)
		return 0;
	snprintf(out, ENTRY_MAX_SCOPE + 1, "%s", x->scope);
	if (x->role == CERT_VILLAGE) {
		if (!(slash = strrchr(out, '/')))
			return 0;
		*slash = 0;
	}
	return out[0] != 0;
}

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	/* the most nodes behind, then the largest share of its nodes */
	if (x->behind != y->behind)
		return x->behind > y->behind ? -1 : 1;
	if (x->behind * y->n != y->behind * x->n)
		return x->behind * y->n > y->behind * x->n ? -1 : 1;
	return strcmp(x->scope, y->scope);
}

/* At a district or province: per commune, how many of its nodes are
 * behind, most first (at most PAGE_MAX_GROUPS communes; more are left
 * to `hamlet report lag`). Nothing when fewer than two communes. */
static void groups_table(const struct out *o, const struct lag_report *r)
{
	struct group *g = calloc(PAGE_MAX_GROUPS, sizeof(*g));
	size_t ng = 0;
	char a[24], b[24];

	if (!g)
		return;
	for (size_t i = 0; i < r->n; i++) {
		const struct lag_node *x = &r->v[i];
		char sc[ENTRY_MAX_SCOPE + 1];
		size_t k = 0;
		if (x->revoked || !group_scope(x, sc))
			continue; /* not expected to report again */
		while (k < ng && strcmp(g[k].scope, sc) != 0)
			k++;
		if (k == ng) {
			if (ng == PAGE_MAX_GROUPS)
				continue;
			memcpy(g[ng++].scope, sc, sizeof(sc));
		}
		if (x->role == CERT_COMMUNE && x->name[0])
			g[k].name = x->name;
		g[k].n++;
		g[k].behind += x->behind != 0;
	}
	if (ng >= 2) {
		qsort(g, ng, sizeof(*g), group_cmp);
		fprintf(o->f, "<h3>%s</h3><table class=\"cards groups\"><thead><tr><th>%s</th><th>%s</th><th></th></tr></thead><tbody>",
			page__T(o, M_BY_COMMUNE), page__T(o, M_COL_COMMUNE),
			page__T(o, M_COL_BEHIND));
		for (size_t k = 0; k < ng; k++) {
			unsigned pct = (unsigned)(g[k].behind * 100 / g[k].n);
			fprintf(o->f, "<tr class=\"group%s\">",
				g[k].behind ? " behind" : "");
			page__td(o, NULL, M_COL_COMMUNE);
			fputs("<span class=\"group-name\">", o->f);
			page__esc(o->f, g[k].name ? g[k].name : g[k].scope);
			fputs("</span><br><small>", o->f);
			page__esc(o->f, g[k].scope);
			fputs("</small>", o->f);
			page__td_end(o);
			page__num(o, a, g[k].behind);
			page__num(o, b, g[k].n);
			page__td(o, "num", M_COL_BEHIND);
			fprintf(o->f, "<span class=\"group-behind %s\">",
				g[k].behind ? "bad" : "ok");
			page__say(o, M_GROUP_OF, a, b);
			fputs("</span>", o->f);
			page__td_end(o);
			fprintf(o->f, "<td class=\"share\"><span class=\"bar-track\"><span class=\"bar behind\" style=\"width:%u%%\"></span></span></td></tr>",
				pct);
		}
		fputs("</tbody></table>", o->f);
	}
	free(g);
}

/* The nodes whose certificates end within STATUS_CERT_WARN_DAYS: at a
 * commune, villages whose renewal is its office's to make (at most
 * PAGE_MAX_LAG_ROWS named). */
static void cert_soon(const struct out *o, const struct lag_report *r)
{
	const uint64_t day_ms = 86400000ull,
		       within = (uint64_t)STATUS_CERT_WARN_DAYS * day_ms;
	size_t shown = 0;
	for (size_t i = 0; i < r->n && shown < PAGE_MAX_LAG_ROWS; i++) {
		const struct lag_node *x = &r->v[i];
		char label[CERT_MAX_NAME + 32], days[24];
		if (x->revoked || x->cert != LAG_CERT_VALID ||
		    !x->cert_expires_ms || x->cert_expires_ms <= r->now_ms ||
		    x->cert_expires_ms - r->now_ms > within)
			continue;
		lag_label(o, r, x, label, sizeof(label));
		uint64_t left = (x->cert_expires_ms - r->now_ms) / day_ms;
		page__num(o, days, left);
		fputs("<p class=\"bad lag-cert-soon\">", o->f);
		page__say(o, left == 0   ? M_LAG_CERT_SOON_DAY
			     : left == 1 ? M_LAG_CERT_SOON_ONE
					 : M_LAG_CERT_SOON,
			  label, days);
		fputs("</p>", o->f);
		shown++;
	}
}

void page__lag_section(const struct out *o, const struct lag_report *r)
{
	size_t rows = r->n < PAGE_MAX_LAG_ROWS ? r->n : PAGE_MAX_LAG_ROWS;
	uint64_t scale = 2 * r->threshold_ms;
	char a[24], b[24], label[CERT_MAX_NAME + 32], shown[SCOPEMAP_SHOW_MAX];

	fprintf(o->f, "<section id=\"lag\"><h2>%s</h2>", page__T(o, M_LAG));
	if (!r->n) {
		fprintf(o->f, "<p>%s</p></section>\n", page__T(o, M_LAG_NONE_KNOWN));
		return;
	}
	page__num(o, a, r->behind);
	page__num(o, b, r->n - r->revoked); /* the revoked are not counted */
	fprintf(o->f, "<p id=\"lag-summary\" data-behind=\"%s\" class=\"%s\">",
		a, r->behind ? "bad" : "ok");
	if (r->behind) {
		page__say(o, page__one_or(r->n - r->revoked, M_LAG_SOME_ONE,
					  M_LAG_SOME),
			  a, b);
		fputs("</p><p>", o->f);
		page__say(o, M_LAG_DO, NULL, NULL);
	} else {
		page__say(o, page__one_or(r->n - r->revoked, M_LAG_ALL_OK_ONE,
					  M_LAG_ALL_OK),
			  b, NULL);
	}
	fputs("</p>", o->f);
	cert_soon(o, r);
	groups_table(o, r);

	/* the chart: one bar per node, its silence on a scale of at least
	 * twice the threshold, so the dashed line sits mid-way or left */
	for (size_t i = 0; i < rows; i++) {
		const struct lag_node *x = &r->v[i];
		if (x->heard_ms && x->heard_ms < r->now_ms &&
		    r->now_ms - x->heard_ms > scale)
			scale = r->now_ms - x->heard_ms;
	}
	fprintf(o->f, "<div class=\"chart\" role=\"img\" aria-label=\"%s\"><p><small>%s</small></p>",
		page__T(o, M_CHART), page__T(o, M_CHART));
	for (size_t i = 0; i < rows; i++) {
		const struct lag_node *x = &r->v[i];
		uint64_t silent = x->heard_ms && x->heard_ms < r->now_ms
					  ? r->now_ms - x->heard_ms
					  : 0;
		unsigned pct = x->heard_ms ? (unsigned)(silent * 100 / scale)
					   : 100;
		char ag[48];
		lag_label(o, r, x, label, sizeof(label));
		if (pct < 1)
			pct = 1;
		fputs("<div class=\"bar-row\"><span class=\"bar-label\">", o->f);
		page__esc(o->f, label);
		fprintf(o->f, "</span><span class=\"bar-track\"><span class=\"bar%s\" style=\"width:%u%%\"></span><span class=\"mark\" style=\"left:%u%%\"></span></span><span class=\"bar-value\">",
			!x->heard_ms ? " never" : x->behind ? " behind" : "",
			pct, (unsigned)(r->threshold_ms * 100 / scale));
		if (x->heard_ms) {
			page__ago(o, x->heard_ms, ag, sizeof(ag));
			page__esc(o->f, ag);
		} else {
			fputs(page__T(o, M_NEVER), o->f);
		}
		fputs("</span></div>", o->f);
	}
	fputs("</div>", o->f);

	fprintf(o->f,
		"<table class=\"cards\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
		page__T(o, M_COL_NODE), page__T(o, M_SCOPE), page__T(o, M_COL_HEARD),
		page__T(o, M_COL_VIA), page__T(o, M_COL_STATE));
	for (size_t i = 0; i < rows; i++) {
		const struct lag_node *x = &r->v[i];
		lag_label(o, r, x, label, sizeof(label));
		fprintf(o->f, "<tr class=\"lag-node%s\">",
			x->behind ? " behind" : x->revoked ? " revoked" : "");
		page__td(o, NULL, M_COL_NODE);
		fputs("<span class=\"lag-name\">", o->f);
		page__esc(o->f, label);
		fputs("</span><br><small>", o->f);
		page__esc(o->f, page__role_word(o, cert_role_name(x->role)));
		fputs("</small>", o->f);
		page__td_end(o);
		page__td(o, NULL, M_SCOPE);
		/* effective, with the scope as written after a move, as
		 * get shows a record's */
		page__esc(o->f, x->scope[0] || !x->role
					? scopemap_show_resolved(x->scope, x->written,
								 shown, sizeof(shown))
					: page__T(o, M_ALL_SCOPES));
		page__td_end(o);
		page__td(o, NULL, M_COL_HEARD);
		if (x->heard_ms)
			page__time_cell(o, x->heard_ms);
		else
			fputs(page__T(o, M_NEVER_HEARD), o->f);
		page__td_end(o);
		page__td(o, NULL, M_COL_VIA);
		lag_via(o, r, x);
		page__td_end(o);
		page__td(o, NULL, M_COL_STATE);
		fprintf(o->f, "<span class=\"%s\">%s</span>",
			x->behind ? "bad" : x->revoked ? "revoked" : "ok",
			page__T(o, x->behind    ? M_BEHIND
				   : x->revoked ? M_LAG_REVOKED
						: M_ON_TIME));
		page__td_end(o);
		fputs("</tr>", o->f);
	}
	fputs("</tbody></table>", o->f);
	if (r->n > rows) {
		page__num(o, a, r->n - rows);
		fputs("<p>", o->f);
		page__say(o, M_MORE, a, NULL);
		fputs("</p>", o->f);
	}
	fputs("</section>\n", o->f);
}
