/*
 * page: the status page, rendered into one string (page.h).
 *
 * The texts are a two-column table, English and Vietnamese, rather than
 * gettext: the language is chosen per request (Accept-Language, ?lang=),
 * not per process, and hamletd's other threads must not see a locale
 * switched under them. A text may hold markup; what it is filled with
 * ({1}, {2}) is always escaped.
 */
#include "page.h"

#include "cert.h"
#include "page_css.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* --- texts --------------------------------------------------------------- */

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
	M_CERT_FOREVER,
	M_CERT_BAD,
	M_KEY,
	M_KEY_SHOW,
	M_KEY_HIDE,
	M_STORED,
	M_PEERS,
	M_NO_PEERS,
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
	M__N
};

static const char *const texts[M__N][2] = {
	[M_TITLE] = { "hamlet: node status", "hamlet: tình trạng nút" },
	[M_UPDATED] = { "As of {1}; times in {2}.",
			"Số liệu lúc {1}; giờ theo múi {2}." },
	[M_REFRESH] = { "Refresh", "Làm mới" },
	[M_THIS_NODE] = { "This node", "Nút này" },
	[M_NAME] = { "Name", "Tên" },
	[M_SCOPE] = { "Scope", "Phạm vi" },
	[M_ROLE] = { "Role", "Vai trò" },
	[M_NETWORK] = { "Network", "Mạng" },
	[M_CERT] = { "Certificate", "Chứng chỉ" },
	[M_CERT_OK] = { "valid until {1}", "hợp lệ đến {1}" },
	[M_CERT_FOREVER] = { "valid", "hợp lệ" },
	[M_CERT_BAD] = { "NONE VALID ({1}): other nodes refuse this one until it has one; ask the administrator.",
			 "KHÔNG CÓ CHỨNG CHỈ HỢP LỆ ({1}): các nút khác từ chối nút này cho đến khi có; hãy báo quản trị viên." },
	[M_KEY] = { "Public key", "Khóa công khai" },
	[M_KEY_SHOW] = { "show", "hiện" },
	[M_KEY_HIDE] = { "hide", "ẩn" },
	[M_STORED] = { "Stored", "Đã lưu" },
	[M_PEERS] = { "Peers", "Các nút đồng bộ trực tiếp" },
	[M_NO_PEERS] = { "No peer has connected since hamletd started. Check the cable or the line, and the addresses in <code>hamlet peers list</code>.",
			 "Chưa có nút nào kết nối từ khi hamletd khởi động. Kiểm tra dây mạng, đường truyền, và các địa chỉ trong <code>hamlet peers list</code>." },
	[M_NOSESSION] = { "{1}: CONNECTS, BUT NO SESSION STARTS after {2} tries (hamletd tries again by itself): ",
			  "{1}: KẾT NỐI ĐƯỢC NHƯNG KHÔNG BẮT ĐẦU ĐƯỢC PHIÊN sau {2} lần thử (hamletd tự thử lại): " },
	[M_STRANGERS] = { "And {1} keys that never completed a session (refused, or gone during the handshake).",
			  "Và {1} khóa chưa từng hoàn tất một phiên (bị từ chối, hoặc rời đi khi đang bắt tay)." },
	[M_ST_HELD] = { "connected, HOLDING BACK entries: the byte budget for this peer is used up",
			"đã kết nối, ĐANG GIỮ LẠI các mục: đã dùng hết hạn mức dữ liệu cho nút này" },
	[M_ALL_SCOPES] = { "all scopes", "mọi phạm vi" },
	[M_UNREACHED] = { "{1}: NOT REACHED after {2} tries (hamletd tries again by itself): ",
			  "{1}: CHƯA KẾT NỐI ĐƯỢC sau {2} lần thử (hamletd tự thử lại): " },
	[M_COL_PEER] = { "Peer", "Nút" },
	[M_COL_STATE] = { "State", "Trạng thái" },
	[M_COL_LAST] = { "Last synced", "Đồng bộ lần cuối" },
	[M_COL_WAIT] = { "Waiting to go out", "Chờ gửi đi" },
	[M_ST_INSYNC] = { "connected, in sync", "đã kết nối, đã đồng bộ" },
	[M_ST_SYNCING] = { "connected, syncing", "đã kết nối, đang đồng bộ" },
	[M_ST_DOWN] = { "not connected", "mất kết nối" },
	[M_ST_FULL] = { "connected, NOT SYNCING: the disk is full",
			"đã kết nối, KHÔNG ĐỒNG BỘ ĐƯỢC: ổ đĩa đầy" },
	[M_NEVER] = { "never", "chưa bao giờ" },
	[M_WAIT_NONE] = { "Everything written here has reached every peer.",
			  "Mọi mục viết tại đây đã đến tất cả các nút." },
	[M_WAIT_SOME] = { "{1} entries written here are waiting to go out; they leave at the next sync with the peer (or, held back by a byte budget, when it allows).",
			  "{1} mục viết tại đây đang chờ gửi đi; chúng sẽ được gửi ở lần đồng bộ kế tiếp với nút kia (hoặc, nếu bị hạn mức dữ liệu giữ lại, khi hạn mức cho phép)." },
	[M_HELD] = { "{1} entries received wait for an earlier one that has not arrived yet.",
		     "{1} mục nhận được đang chờ một mục trước đó chưa đến." },
	[M_PROBLEMS] = { "Needs a decision", "Cần xử lý" },
	[M_PROB_NONE] = { "No conflicts and no duplicates: nothing to decide.",
			  "Không có xung đột, không có bản trùng: không có gì cần xử lý." },
	[M_PROB_COUNT] = { "{1} records need a decision.",
			   "{1} bản ghi cần xử lý." },
	[M_PROB_CONF] = { "<b>{1} {2}</b> in conflict: two places changed the same record before they synced, and both values are kept.",
			  "<b>{1} {2}</b> bị xung đột: hai nơi đã sửa cùng một bản ghi trước khi đồng bộ, cả hai giá trị đều được giữ." },
	[M_PROB_CONF_DO] = { "See which with <code>hamlet conflicts</code>, then keep the right value:",
			     "Xem bản ghi nào bằng <code>hamlet conflicts</code>, rồi chọn giá trị đúng:" },
	[M_PROB_DUP] = { "<b>{1} {2}</b> duplicated: the same person (or the same payment) was entered twice.",
			 "<b>{1} {2}</b> bị trùng: cùng một người (hoặc cùng một khoản chi) được nhập hai lần." },
	[M_PROB_DUP_DO] = { "See the pairs with <code>hamlet conflicts</code>, then delete the wrong one:",
			    "Xem các cặp trùng bằng <code>hamlet conflicts</code>, rồi xóa bản sai:" },
	[M_PROB_OTHER] = { "{1} more not told apart here (too many to look at): <code>hamlet conflicts</code> lists them all.",
			   "Còn {1} bản ghi chưa phân loại ở đây (quá nhiều): <code>hamlet conflicts</code> liệt kê tất cả." },
	[M_ID_NOTE] = { "ID: the record's id, as <code>hamlet conflicts</code> shows it.",
			"ID: mã bản ghi, như <code>hamlet conflicts</code> hiển thị." },
	[M_LAG] = { "Which communes and villages are behind",
		    "Xã, thôn nào đang chậm" },
	[M_LAG_NONE_KNOWN] = { "No other node is known here yet.",
			       "Chưa biết nút nào khác." },
	[M_LAG_ALL_OK] = { "All {1} nodes were heard from within 24 hours.",
			   "Tất cả {1} nút đều có tin trong vòng 24 giờ." },
	[M_LAG_SOME] = { "{1} of {2} nodes not heard from for more than 24 hours.",
			 "{1} trên {2} nút không có tin quá 24 giờ." },
	[M_LAG_DO] = { "Call them, or bring their data on a USB stick (<code>hamlet bundle</code>). Details: <code>hamlet report lag</code>.",
		       "Hãy gọi điện cho họ, hoặc mang dữ liệu bằng USB (<code>hamlet bundle</code>). Chi tiết: <code>hamlet report lag</code>." },
	[M_COL_NODE] = { "Node", "Nút" },
	[M_COL_HEARD] = { "Last heard", "Tin mới nhất" },
	[M_COL_VIA] = { "Through", "Qua" },
	[M_NEVER_HEARD] = { "never heard from", "chưa bao giờ có tin" },
	[M_BEHIND] = { "behind", "chậm" },
	[M_ON_TIME] = { "on time", "bình thường" },
	[M_CHART] = { "Time since last heard (dashed line: 24 hours)",
		      "Thời gian từ tin mới nhất (vạch đứt: 24 giờ)" },
	[M_MORE] = { "… and {1} more: <code>hamlet report lag</code> lists them.",
		     "… và {1} nút nữa: <code>hamlet report lag</code> liệt kê đầy đủ." },
	[M_VIA_BUNDLE] = { "USB stick (bundle)", "USB (bundle)" },
	[M_VIA_LOCAL] = { "this node", "nút này" },
	[M_VIA_DIRECT] = { "direct", "trực tiếp" },
	[M_FOOTER] = { "The same figures: <code>hamlet status</code>, and <code>GET /v1/status</code> with a token. This page refreshes every minute.",
		       "Cùng số liệu: <code>hamlet status</code>, và <code>GET /v1/status</code> kèm token. Trang tự làm mới mỗi phút." },
	[M_KEYWORD] = { "key", "khóa" },
	[M_BY_COMMUNE] = { "By commune: the commune and its villages",
			   "Theo xã: xã và các thôn của xã" },
	[M_COL_COMMUNE] = { "Commune", "Xã" },
	[M_COL_BEHIND] = { "Behind", "Chậm" },
	[M_GROUP_OF] = { "{1} of {2}", "{1} trên {2}" },
};

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

static const struct {
	const char *name, *vi;
} roles[] = {
	{ "village", "thôn" },	 { "commune", "xã" },
	{ "district", "huyện" }, { "province", "tỉnh" },
	{ "auditor", "kiểm tra" },
};

struct out {
	FILE *f;
	int lang;
	uint64_t now_ms;
};

static const char *T(const struct out *o, enum msg m)
{
	return texts[m][o->lang];
}

/* --- escaping and filling -------------------------------------------------- */

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* Text t (trusted markup) with {1} and {2} replaced by a and b, escaped. */
static void fill(FILE *f, const char *t, const char *a, const char *b)
{
	for (; *t; t++) {
		if (t[0] == '{' && (t[1] == '1' || t[1] == '2') && t[2] == '}') {
			esc(f, t[1] == '1' ? a : b);
			t += 2;
		} else {
			fputc(*t, f);
		}
	}
}

static void say(const struct out *o, enum msg m, const char *a, const char *b)
{
	fill(o->f, T(o, m), a, b);
}

static void num(char buf[24], uint64_t v)
{
	snprintf(buf, 24, "%llu", (unsigned long long)v);
}

/* --- JSON ------------------------------------------------------------------ */

static const char *jstr(const json_t *j, const char *k)
{
	return json_string_value(json_object_get(j, k));
}

/* This node's name: its certificate's, as its peers know it, while one
 * holds; else what node.conf calls it. */
static const char *own_name(const json_t *st)
{
	const json_t *c = json_object_get(st, "certificate");
	const char *n = jstr(c, "name");
	if (json_is_true(json_object_get(c, "valid")) && n && n[0])
		return n;
	return jstr(st, "node");
}

static uint64_t ju64(const json_t *j, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(j, k));
	return v > 0 ? (uint64_t)v : 0;
}

/* --- words ----------------------------------------------------------------- */

static const char *role_word(const struct out *o, const char *role)
{
	if (!role)
		return "";
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(roles[i].name, role) == 0)
			return o->lang == PAGE_VI ? roles[i].vi : role;
	return role;
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

/* "5 minutes ago" / "5 phút trước". */
static void ago(const struct out *o, uint64_t ms, char *buf, size_t n)
{
	static const struct {
		uint64_t s;
		const char *one, *many, *vi;
	} u[] = { { 86400, "day", "days", "ngày" },
		  { 3600, "hour", "hours", "giờ" },
		  { 60, "minute", "minutes", "phút" },
		  { 1, "second", "seconds", "giây" } };
	uint64_t s = o->now_ms > ms ? (o->now_ms - ms) / 1000 : 0;
	size_t i = 0;
	while (i < 3 && s < u[i].s)
		i++;
	uint64_t v = s / u[i].s;
	if (o->lang == PAGE_VI)
		snprintf(buf, n, "%llu %s trước", (unsigned long long)v,
			 u[i].vi);
	else
		snprintf(buf, n, "%llu %s ago", (unsigned long long)v,
			 v == 1 ? u[i].one : u[i].many);
}

/* The local time of ms for people (the date in the language's order, the
 * zone's abbreviation), and as ISO 8601 for <time datetime>. */
static void when(const struct out *o, uint64_t ms, char *buf, size_t n,
		 char *iso, size_t in)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!localtime_r(&t, &tm)) {
		snprintf(buf, n, "?");
		snprintf(iso, in, "?");
		return;
	}
	strftime(buf, n,
		 o->lang == PAGE_VI ? "%d/%m/%Y %H:%M:%S %Z" : "%Y-%m-%d %H:%M:%S %Z",
		 &tm);
	strftime(iso, in, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

/* <time> with the local time and, below it, how long ago. */
static void time_cell(const struct out *o, uint64_t ms)
{
	char t[64], iso[40], a[48];
	when(o, ms, t, sizeof(t), iso, sizeof(iso));
	ago(o, ms, a, sizeof(a));
	fputs("<time datetime=\"", o->f);
	esc(o->f, iso);
	fputs("\">", o->f);
	esc(o->f, t);
	fputs("</time><br><small class=\"ago\">", o->f);
	esc(o->f, a);
	fputs("</small>", o->f);
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

/* A node's label: its certificate's name, else "key 1a2b3c4d…". */
static void node_label(const struct out *o, const char *name,
		       const char *hexkey, char *buf, size_t n)
{
	if (name && *name)
		snprintf(buf, n, "%s", name);
	else
		snprintf(buf, n, "%s %.8s…", T(o, M_KEYWORD),
			 hexkey ? hexkey : "?");
}

/* --- sections ---------------------------------------------------------------- */

/* <td> whose content is one block (the phone layout puts its label
 * beside it); td_end closes it. */
static void td(const struct out *o, const char *cls, enum msg label)
{
	fprintf(o->f, "<td%s%s%s data-label=\"%s\"><div class=\"v\">",
		cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "",
		T(o, label));
}

static void td_end(const struct out *o)
{
	fputs("</div></td>", o->f);
}

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

static void node_section(const struct out *o, const struct page_in *in)
{
	const json_t *st = in->status, *cert = json_object_get(st, "certificate");
	const char *lc = o->lang == PAGE_VI ? "vi" : "en";
	char a[24], b[24];

	fprintf(o->f, "<section id=\"node\"><h2>%s</h2><dl>", T(o, M_THIS_NODE));
	fprintf(o->f, "<dt>%s</dt><dd id=\"node-name\">", T(o, M_NAME));
	esc(o->f, own_name(st));
	fprintf(o->f, "</dd><dt>%s</dt><dd id=\"node-scope\">", T(o, M_SCOPE));
	esc(o->f, jstr(st, "scope"));
	fputs("</dd>", o->f);
	if (json_is_true(json_object_get(cert, "valid"))) {
		fprintf(o->f, "<dt>%s</dt><dd id=\"node-role\">", T(o, M_ROLE));
		esc(o->f, role_word(o, jstr(cert, "role")));
		fputs("</dd>", o->f);
	}
	fprintf(o->f, "<dt>%s</dt><dd>", T(o, M_NETWORK));
	esc(o->f, jstr(st, "network"));
	fprintf(o->f, "</dd><dt>%s</dt><dd>", T(o, M_CERT));
	if (json_is_true(json_object_get(cert, "valid"))) {
		uint64_t exp = ju64(cert, "expires_ms");
		if (exp) {
			char t[64], iso[40];
			when(o, exp, t, sizeof(t), iso, sizeof(iso));
			fputs("<span class=\"ok\">", o->f);
			say(o, M_CERT_OK, t, NULL);
			fputs("</span>", o->f);
		} else {
			fprintf(o->f, "<span class=\"ok\">%s</span>",
				T(o, M_CERT_FOREVER));
		}
	} else {
		fputs("<span class=\"bad\">", o->f);
		say(o, M_CERT_BAD, jstr(cert, "why"), NULL);
		fputs("</span>", o->f);
	}
	fprintf(o->f, "</dd><dt>%s</dt><dd>", T(o, M_KEY));
	if (in->show_key) {
		fputs("<code id=\"node-key\">", o->f);
		esc(o->f, jstr(st, "node_key"));
		fprintf(o->f, "</code> <a href=\"?lang=%s\">%s</a>", lc,
			T(o, M_KEY_HIDE));
	} else {
		fprintf(o->f, "<a href=\"?lang=%s&amp;key=1\">%s</a>", lc,
			T(o, M_KEY_SHOW));
	}
	num(a, ju64(st, "entries"));
	num(b, ju64(st, "own_entries"));
	fprintf(o->f, "</dd><dt>%s</dt><dd>", T(o, M_STORED));
	fill(o->f, o->lang == PAGE_VI ? "{1} mục, {2} mục viết tại đây"
				      : "{1} entries, {2} written here",
	     a, b);
	fputs("</dd></dl></section>\n", o->f);
}

/* The configured peers hamletd cannot reach, and the last reason. */
static void unreached_list(const struct out *o, const json_t *st)
{
	const json_t *u = json_object_get(st, "unreached"), *p;
	char buf[24];
	size_t i;
	if (!json_array_size(u))
		return;
	fputs("<ul class=\"unreached\">", o->f);
	json_array_foreach(u, i, p)
	{
		num(buf, ju64(p, "tries"));
		fputs("<li class=\"bad\">", o->f);
		say(o, json_is_true(json_object_get(p, "reached")) ? M_NOSESSION
								  : M_UNREACHED,
		    jstr(p, "addr"), buf);
		esc(o->f, jstr(p, "why"));
		fputs("</li>", o->f);
	}
	fputs("</ul>", o->f);
}

/* A key that never completed a session, as hamletd's status calls it
 * (json "stranger"): one line for them all, as hamlet status has it. */
static int stranger(const json_t *p)
{
	return json_is_true(json_object_get(p, "stranger"));
}

static void peers_section(const struct out *o, const json_t *st)
{
	const json_t *peers = json_object_get(st, "peers"), *p;
	uint64_t most = 0;
	char buf[24];
	size_t i;

	size_t strangers = 0;
	json_array_foreach(peers, i, p)
		strangers += stranger(p);
	fprintf(o->f, "<section id=\"peers\"><h2>%s (%zu)</h2>", T(o, M_PEERS),
		json_array_size(peers) - strangers);
	if (json_array_size(peers) == strangers) {
		if (strangers) {
			num(buf, strangers);
			fputs("<p>", o->f);
			say(o, M_STRANGERS, buf, NULL);
			fputs("</p>", o->f);
		}
		fprintf(o->f, "<p class=\"warn\">%s</p>", T(o, M_NO_PEERS));
		unreached_list(o, st);
		fputs("</section>\n", o->f);
		return;
	}
	fprintf(o->f,
		"<table class=\"cards\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th class=\"num\">%s</th></tr></thead><tbody>",
		T(o, M_COL_PEER), T(o, M_COL_STATE), T(o, M_COL_LAST),
		T(o, M_COL_WAIT));
	json_array_foreach(peers, i, p)
	{
		char label[CERT_MAX_NAME + 32];
		int up = json_is_true(json_object_get(p, "connected"));
		uint64_t last = ju64(p, "last_sync_ms");
		uint64_t wait = ju64(p, "waiting_out");
		const json_t *bg = json_object_get(p, "budget");
		enum msg sm = !up ? M_ST_DOWN
			      : ju64(p, "entries_waiting_for_disk") ? M_ST_FULL
			      : json_is_true(json_object_get(bg, "held_back"))
				      ? M_ST_HELD
			      : json_is_true(json_object_get(p, "in_sync"))
				      ? M_ST_INSYNC
				      : M_ST_SYNCING;
		if (stranger(p))
			continue;
		const char *cls = sm == M_ST_INSYNC ? "ok"
				  : sm == M_ST_SYNCING || sm == M_ST_HELD
					  ? "warn"
					  : "bad";
		if (wait > most)
			most = wait;
		node_label(o, jstr(p, "name"), jstr(p, "key"), label,
			   sizeof(label));
		fputs("<tr class=\"peer\">", o->f);
		td(o, NULL, M_COL_PEER);
		fputs("<span class=\"peer-name\">", o->f);
		esc(o->f, label);
		fputs("</span><br><small>", o->f);
		esc(o->f, role_word(o, jstr(p, "role")));
		fputs(" ", o->f);
		esc(o->f, jstr(p, "addr"));
		fputs("</small>", o->f);
		td_end(o);
		td(o, NULL, M_COL_STATE);
		fprintf(o->f, "<span class=\"dot %s\"></span><span class=\"state %s\">%s</span>",
			cls, cls, T(o, sm));
		td_end(o);
		td(o, NULL, M_COL_LAST);
		if (last)
			time_cell(o, last);
		else
			fputs(T(o, M_NEVER), o->f);
		td_end(o);
		num(buf, wait);
		td(o, "num", M_COL_WAIT);
		fprintf(o->f, "<span class=\"waiting\">%s</span>", buf);
		td_end(o);
		fputs("</tr>", o->f);
	}
	fputs("</tbody></table>", o->f);
	if (strangers) {
		num(buf, strangers);
		fputs("<p>", o->f);
		say(o, M_STRANGERS, buf, NULL);
		fputs("</p>", o->f);
	}
	unreached_list(o, st);
	num(buf, most);
	fprintf(o->f, "<p id=\"waiting\" data-count=\"%s\">", buf);
	if (most)
		say(o, M_WAIT_SOME, buf, NULL);
	else
		say(o, M_WAIT_NONE, NULL, NULL);
	fputs("</p>", o->f);
	if (ju64(st, "held")) {
		num(buf, ju64(st, "held"));
		fputs("<p class=\"warn\">", o->f);
		say(o, M_HELD, buf, NULL);
		fputs("</p>", o->f);
	}
	fputs("</section>\n", o->f);
}

static void problems_section(const struct out *o, const json_t *st)
{
	const json_t *prob = json_object_get(st, "problems"), *v;
	uint64_t total = ju64(st, "conflicts"), other;
	const char *coll;
	char buf[24];

	num(buf, total);
	fprintf(o->f, "<section id=\"problems\"><h2>%s</h2><p id=\"conflicts\" data-count=\"%s\" class=\"%s\">",
		T(o, M_PROBLEMS), buf, total ? "bad" : "ok");
	if (!total) {
		say(o, M_PROB_NONE, NULL, NULL);
		fputs("</p></section>\n", o->f);
		return;
	}
	say(o, M_PROB_COUNT, buf, NULL);
	fputs("</p><ul class=\"problems\">", o->f);
	json_object_foreach((json_t *)prob, coll, v)
	{
		uint64_t c = ju64(v, "conflicts"), d = ju64(v, "duplicates");
		if (c) {
			num(buf, c);
			fputs("<li class=\"conflict\">", o->f);
			say(o, M_PROB_CONF, buf, coll_word(o, coll, c));
			fputs("<br>", o->f);
			say(o, M_PROB_CONF_DO, NULL, NULL);
			fputs("<code class=\"cmd\">hamlet conflicts resolve ", o->f);
			esc(o->f, coll);
			fputs(" ID '{\"field\":\"value\"}'</code></li>", o->f);
		}
		if (d) {
			num(buf, d);
			fputs("<li class=\"duplicate\">", o->f);
			say(o, M_PROB_DUP, buf, coll_word(o, coll, d));
			fputs("<br>", o->f);
			say(o, M_PROB_DUP_DO, NULL, NULL);
			fputs("<code class=\"cmd\">hamlet delete ", o->f);
			esc(o->f, coll);
			fputs(" ID</code></li>", o->f);
		}
	}
	if ((other = ju64(st, "problems_unclassified"))) {
		num(buf, other);
		fputs("<li>", o->f);
		say(o, M_PROB_OTHER, buf, NULL);
		fputs("</li>", o->f);
	}
	fprintf(o->f, "</ul><p><small>%s</small></p></section>\n",
		T(o, M_ID_NOTE));
}

static void lag_label(const struct out *o, const struct lag_node *x,
		      char *buf, size_t n)
{
	char hex[65];
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[x->key[i] >> 4];
		hex[2 * i + 1] = digits[x->key[i] & 15];
	}
	hex[64] = 0;
	node_label(o, x->name, hex, buf, n);
}

/* Through whom x's newest entry came. */
static void lag_via(const struct out *o, const struct lag_report *r,
		    const struct lag_node *x)
{
	char label[CERT_MAX_NAME + 32];
	if (!x->has_via) {
		fputs(x->contact_ms ? T(o, M_VIA_DIRECT) : "—", o->f);
		return;
	}
	if (x->via.via.kind == HEARD_PEER) {
		const struct lag_node *p = lag_report_find(r, x->via.via.peer);
		if (p) {
			lag_label(o, p, label, sizeof(label));
			esc(o->f, label);
		} else {
			fputs(T(o, M_COL_PEER), o->f);
		}
	} else if (x->via.via.kind == HEARD_BUNDLE) {
		fputs(T(o, M_VIA_BUNDLE), o->f);
	} else {
		fputs(T(o, M_VIA_LOCAL), o->f);
	}
}

/* A commune and its villages in the lag report. */
struct group {
	char scope[ENTRY_MAX_SCOPE + 1];
	const char *name; /* the commune's certificate's, or NULL */
	size_t n, behind;
};

/* The commune x belongs to: its own scope for a commune, the parent of a
 * village's; 0 for any other node. */
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
		if (!group_scope(x, sc))
			continue;
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
			T(o, M_BY_COMMUNE), T(o, M_COL_COMMUNE),
			T(o, M_COL_BEHIND));
		for (size_t k = 0; k < ng; k++) {
			unsigned pct = (unsigned)(g[k].behind * 100 / g[k].n);
			fprintf(o->f, "<tr class=\"group%s\">",
				g[k].behind ? " behind" : "");
			td(o, NULL, M_COL_COMMUNE);
			fputs("<span class=\"group-name\">", o->f);
			esc(o->f, g[k].name ? g[k].name : g[k].scope);
			fputs("</span><br><small>", o->f);
			esc(o->f, g[k].scope);
			fputs("</small>", o->f);
			td_end(o);
			num(a, g[k].behind);
			num(b, g[k].n);
			td(o, "num", M_COL_BEHIND);
			fprintf(o->f, "<span class=\"group-behind %s\">",
				g[k].behind ? "bad" : "ok");
			say(o, M_GROUP_OF, a, b);
			fputs("</span>", o->f);
			td_end(o);
			fprintf(o->f, "<td class=\"share\"><span class=\"bar-track\"><span class=\"bar behind\" style=\"width:%u%%\"></span></span></td></tr>",
				pct);
		}
		fputs("</tbody></table>", o->f);
	}
	free(g);
}

static void lag_section(const struct out *o, const struct lag_report *r)
{
	size_t rows = r->n < PAGE_MAX_LAG_ROWS ? r->n : PAGE_MAX_LAG_ROWS;
	uint64_t scale = 2 * r->threshold_ms;
	char a[24], b[24], label[CERT_MAX_NAME + 32];

	fprintf(o->f, "<section id=\"lag\"><h2>%s</h2>", T(o, M_LAG));
	if (!r->n) {
		fprintf(o->f, "<p>%s</p></section>\n", T(o, M_LAG_NONE_KNOWN));
		return;
	}
	num(a, r->behind);
	num(b, r->n);
	fprintf(o->f, "<p id=\"lag-summary\" data-behind=\"%s\" class=\"%s\">",
		a, r->behind ? "bad" : "ok");
	if (r->behind) {
		say(o, M_LAG_SOME, a, b);
		fputs("</p><p>", o->f);
		say(o, M_LAG_DO, NULL, NULL);
	} else {
		say(o, M_LAG_ALL_OK, b, NULL);
	}
	fputs("</p>", o->f);
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
		T(o, M_CHART), T(o, M_CHART));
	for (size_t i = 0; i < rows; i++) {
		const struct lag_node *x = &r->v[i];
		uint64_t silent = x->heard_ms && x->heard_ms < r->now_ms
					  ? r->now_ms - x->heard_ms
					  : 0;
		unsigned pct = x->heard_ms ? (unsigned)(silent * 100 / scale)
					   : 100;
		char ag[48];
		lag_label(o, x, label, sizeof(label));
		if (pct < 1)
			pct = 1;
		fputs("<div class=\"bar-row\"><span class=\"bar-label\">", o->f);
		esc(o->f, label);
		fprintf(o->f, "</span><span class=\"bar-track\"><span class=\"bar%s\" style=\"width:%u%%\"></span><span class=\"mark\" style=\"left:%u%%\"></span></span><span class=\"bar-value\">",
			!x->heard_ms ? " never" : x->behind ? " behind" : "",
			pct, (unsigned)(r->threshold_ms * 100 / scale));
		if (x->heard_ms) {
			ago(o, x->heard_ms, ag, sizeof(ag));
			esc(o->f, ag);
		} else {
			fputs(T(o, M_NEVER), o->f);
		}
		fputs("</span></div>", o->f);
	}
	fputs("</div>", o->f);

	fprintf(o->f,
		"<table class=\"cards\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
		T(o, M_COL_NODE), T(o, M_SCOPE), T(o, M_COL_HEARD),
		T(o, M_COL_VIA), T(o, M_COL_STATE));
	for (size_t i = 0; i < rows; i++) {
		const struct lag_node *x = &r->v[i];
		lag_label(o, x, label, sizeof(label));
		fprintf(o->f, "<tr class=\"lag-node%s\">",
			x->behind ? " behind" : "");
		td(o, NULL, M_COL_NODE);
		fputs("<span class=\"lag-name\">", o->f);
		esc(o->f, label);
		fputs("</span><br><small>", o->f);
		esc(o->f, role_word(o, cert_role_name(x->role)));
		fputs("</small>", o->f);
		td_end(o);
		td(o, NULL, M_SCOPE);
		esc(o->f, x->scope[0] || !x->role ? x->scope : T(o, M_ALL_SCOPES));
		td_end(o);
		td(o, NULL, M_COL_HEARD);
		if (x->heard_ms)
			time_cell(o, x->heard_ms);
		else
			fputs(T(o, M_NEVER_HEARD), o->f);
		td_end(o);
		td(o, NULL, M_COL_VIA);
		lag_via(o, r, x);
		td_end(o);
		td(o, NULL, M_COL_STATE);
		fprintf(o->f, "<span class=\"%s\">%s</span>",
			x->behind ? "bad" : "ok",
			T(o, x->behind ? M_BEHIND : M_ON_TIME));
		td_end(o);
		fputs("</tr>", o->f);
	}
	fputs("</tbody></table>", o->f);
	if (r->n > rows) {
		num(a, r->n - rows);
		fputs("<p>", o->f);
		say(o, M_MORE, a, NULL);
		fputs("</p>", o->f);
	}
	fputs("</section>\n", o->f);
}

/* --- the document ------------------------------------------------------------ */

int page_render(const struct page_in *in, char **ret, size_t *ret_len)
{
	struct out o = { NULL, in->lang == PAGE_VI, in->now_ms };
	char *buf = NULL, t[64], iso[40], zone[200];
	size_t len = 0;

	if (!(o.f = open_memstream(&buf, &len)))
		return -ENOMEM;
	when(&o, in->now_ms, t, sizeof(t), iso, sizeof(iso));
	zone_text(in->now_ms, zone, sizeof(zone));
	fprintf(o.f,
		"<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		"<meta http-equiv=\"refresh\" content=\"60\">"
		"<meta name=\"robots\" content=\"noindex\"><title>",
		o.lang == PAGE_VI ? "vi" : "en");
	esc(o.f, own_name(in->status));
	fprintf(o.f, " · %s</title><style>%s</style></head>\n<body><header><h1>",
		T(&o, M_TITLE), page_css);
	esc(o.f, own_name(in->status));
	fputs("</h1>", o.f);
	lang_links(&o, in->show_key);
	fputs("</header><main><p class=\"when\">", o.f);
	say(&o, M_UPDATED, t, zone);
	fprintf(o.f, " <a href=\"?lang=%s%s\">%s</a></p>\n",
		o.lang == PAGE_VI ? "vi" : "en", in->show_key ? "&amp;key=1" : "",
		T(&o, M_REFRESH));
	node_section(&o, in);
	peers_section(&o, in->status);
	problems_section(&o, in->status);
	if (in->lag)
		lag_section(&o, in->lag);
	fprintf(o.f, "<footer>%s</footer></main></body></html>\n",
		T(&o, M_FOOTER));
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
			    (tl == 2 || tag[2] == '-')) {
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

int page_shows_lag(const json_t *status)
{
	const json_t *cert = json_object_get(status, "certificate");
	const char *role = jstr(cert, "role");
	return json_is_true(json_object_get(cert, "valid")) && role &&
	       (strcmp(role, "commune") == 0 || strcmp(role, "district") == 0 ||
		strcmp(role, "province") == 0);
}
