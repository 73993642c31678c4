/*
 * The status page's renderer (daemon/page.c): the language an
 * Accept-Language header picks, ?lang=, escaping of every name that comes
 * from the network, the key only on request, times in the system's zone
 * with "5 phút trước", the lag table's cap; bad values refused.
 */
#include "error.h"
#include "page.h"
#include "testlib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOW_MS 1764583200000ull /* 2025-12-01 10:00:00 UTC */
#define KEY "89192312d5ed12521ef2eb68ea331e5f9441dc205a1224190f19dccd09d64015"

static json_t *status(const char *node, const char *role, const char *peer)
{
	json_t *st = json_pack(
		"{s:s, s:s, s:s, s:s, s:{s:b, s:s, s:s, s:I}, s:I, s:I, s:I,"
		" s:I, s:I, s:{s:{s:I, s:I}}, s:[{s:s, s:s, s:s, s:s, s:b, s:b,"
		" s:I, s:I, s:I}]}",
		"node", node, "node_key", KEY, "scope", "bk/c1", "network", "bk",
		"certificate", "valid", 1, "name", node, "role", role,
		"expires_ms", (json_int_t)(NOW_MS + 86400000ull * 365), "entries",
		(json_int_t)12, "own_entries", (json_int_t)5, "held",
		(json_int_t)0, "conflicts", (json_int_t)3, "duplicates",
		(json_int_t)2, "problems", "payment", "conflicts", (json_int_t)1,
		"duplicates", (json_int_t)2, "peers", "key", KEY, "addr",
		"127.0.0.1:4100", "name", peer, "role", "village", "connected", 1,
		"in_sync", 0, "last_sync_ms", (json_int_t)(NOW_MS - 300000),
		"waiting_out", (json_int_t)7, "entries_waiting_for_disk",
		(json_int_t)0);
	ASSERT_TRUE(st != NULL);
	return st;
}

static char *render(const json_t *st, const struct lag_report *lag, int lang,
		    int show_key)
{
	struct page_in in = { lang, st, lag, NOW_MS, show_key };
	char *html = NULL;
	size_t len = 0;
	ASSERT_OK(page_render(&in, &html, &len));
	ASSERT_EQ(len, strlen(html));
	return html;
}

static int has(const char *html, const char *s)
{
	return strstr(html, s) != NULL;
}

/* st's page in lang says yes, and not no (when given). */
static void says(const json_t *st, int lang, const char *yes, const char *no)
{
	char *html = render(st, NULL, lang, 0);
	ASSERT_TRUE(has(html, yes));
	ASSERT_TRUE(!no || !has(html, no));
	free(html);
}

int main(void)
{
	char *html;
	json_t *st;
	int lang = -1;

	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	tzset();

	TEST_START("Accept-Language picks Vietnamese only when it prefers it to English");
	{
		static const struct {
			const char *al;
			int want;
		} v[] = {
			{ NULL, PAGE_EN },
			{ "", PAGE_EN },
			{ "vi", PAGE_VI },
			{ "VI-vn", PAGE_VI },
			{ "vi-VN,vi;q=0.9,en;q=0.8", PAGE_VI },
			{ "en-US,en;q=0.9", PAGE_EN },
			{ "fr, vi;q=0.5", PAGE_VI },
			{ "en-GB, vi;q=0.8", PAGE_EN },
			{ "vi;q=0, en", PAGE_EN },
			{ "vi;q=0", PAGE_EN },
			{ "en;q=0.5, vi;q=0.5", PAGE_EN },
			{ "vi;q=0.5, en;q=0.5", PAGE_VI },
			{ "en;q=0.3,vi;q=0.35", PAGE_VI },
			{ "vie, vietnamese", PAGE_EN },
			{ "vi;q=banana", PAGE_EN },
			{ "de, fr;q=0.9", PAGE_EN },
			{ ",,;;q=,vi-", PAGE_VI },
		};
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			if (page_lang_pick(v[i].al) != v[i].want)
				fprintf(stderr, "  Accept-Language: %s\n",
					v[i].al ? v[i].al : "(none)");
			ASSERT_EQ(page_lang_pick(v[i].al), v[i].want);
		}
	}

	TEST_START("?lang= takes vi or en and refuses anything else");
	ASSERT_OK(page_lang_parse("vi", &lang));
	ASSERT_EQ(lang, PAGE_VI);
	ASSERT_OK(page_lang_parse("en", &lang));
	ASSERT_EQ(lang, PAGE_EN);
	ASSERT_EQ(page_lang_parse("fr", &lang), -EINVAL);
	ASSERT_EQ(page_lang_parse("", &lang), -EINVAL);
	ASSERT_EQ(page_lang_parse("VI", &lang), -EINVAL);
	ASSERT_EQ(page_lang_parse(NULL, &lang), -EINVAL);
	ASSERT_EQ(lang, PAGE_EN);

	TEST_START("names from the network are escaped, never markup");
	st = status("c1", "commune", "<script>alert('x')</script>\"&");
	html = render(st, NULL, PAGE_EN, 0);
	ASSERT_TRUE(!has(html, "<script"));
	ASSERT_TRUE(has(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"));
	free(html);
	json_decref(st);

	TEST_START("own writes waiting for a restored store, or refused for a revoked key, each said so");
	st = status("v1", "village", "C1");
	json_object_set_new(st, "restoring",
			    json_pack("[{s:s, s:I, s:I}]", "scope", "bk/c1/v1",
				      "signed", (json_int_t)3, "held",
				      (json_int_t)2));
	says(st, PAGE_EN, "this node's store was restored or replaced", "key is revoked");
	json_object_set_new(json_object_get(st, "certificate"), "revoked",
			    json_true());
	says(st, PAGE_EN, "Own writes REFUSED: this node's key is revoked, and what it signed after the revocation took effect (in bk/c1/v1)",
	     "restored or replaced");
	says(st, PAGE_VI, "khóa của nút này đã bị thu hồi", NULL);
	json_decref(st);

	TEST_START("the node is named by its certificate while one holds, else by node.conf");
	st = status("c1", "commune", "V1");
	json_object_set_new(json_object_get(st, "certificate"), "name",
			    json_string("Xa Quang Thuan"));
	html = render(st, NULL, PAGE_EN, 0);
	ASSERT_TRUE(has(html, "<dd id=\"node-name\">Xa Quang Thuan</dd>"));
	ASSERT_TRUE(has(html, "<h1>Xa Quang Thuan</h1>"));
	free(html);
	json_object_set_new(json_object_get(st, "certificate"), "valid",
			    json_false());
	html = render(st, NULL, PAGE_EN, 0);
	ASSERT_TRUE(has(html, "<dd id=\"node-name\">c1</dd>"));
	free(html);
	json_decref(st);

	TEST_START("Vietnamese: node, peer, waiting, conflicts and duplicates in words, times in +07");
	st = status("c1", "commune", "V1");
	html = render(st, NULL, PAGE_VI, 0);
	ASSERT_TRUE(has(html, "<html lang=\"vi\">"));
	ASSERT_TRUE(has(html, "name=\"viewport\""));
	ASSERT_TRUE(has(html, "<dd id=\"node-name\">c1</dd>"));
	ASSERT_TRUE(has(html, "<span class=\"peer-name\">V1</span>"));
	ASSERT_TRUE(has(html, "<span class=\"waiting\">7</span>"));
	ASSERT_TRUE(has(html, "7 mục đang chờ gửi đi"));
	ASSERT_TRUE(has(html, "5 phút trước"));
	ASSERT_TRUE(has(html, "01/12/2025 16:55:00 +07"));
	ASSERT_TRUE(has(html, "Asia/Ho_Chi_Minh, UTC+07:00"));
	ASSERT_TRUE(has(html, "3 bản ghi cần xử lý"));
	ASSERT_TRUE(has(html, "<b>1 khoản chi trả</b> bị xung đột"));
	ASSERT_TRUE(has(html, "<b>2 khoản chi trả</b> bị trùng"));
	ASSERT_TRUE(has(html, "hamlet delete payment ID"));
	ASSERT_TRUE(!has(html, "id=\"lag\""));
	ASSERT_TRUE(!has(html, KEY));
	ASSERT_TRUE(!has(html, "<script"));
	free(html);

	TEST_START("English: the same figures, an English plural and \"minutes ago\"");
	html = render(st, NULL, PAGE_EN, 0);
	ASSERT_TRUE(has(html, "<html lang=\"en\">"));
	ASSERT_TRUE(has(html, "5 minutes ago"));
	ASSERT_TRUE(has(html, "2025-12-01 16:55:00 +07"));
	ASSERT_TRUE(has(html, "<b>1 payment</b> in conflict"));
	ASSERT_TRUE(has(html, "<b>2 payments</b> duplicated"));
	ASSERT_TRUE(has(html, "hamlet conflicts resolve payment ID"));
	free(html);

	TEST_START("a configured peer not reached is named with why, escaped, in both languages");
	json_object_set_new(
		st, "unreached",
		json_pack("[{s:s, s:s, s:I}]", "addr", "10.0.0.9:7450", "why",
			  "Connection refused <b>", "tries", (json_int_t)4));
	html = render(st, NULL, PAGE_EN, 0);
	ASSERT_TRUE(has(html, "10.0.0.9:7450: NOT REACHED after 4 tries"));
	ASSERT_TRUE(has(html, "Connection refused &lt;b&gt;"));
	free(html);
	html = render(st, NULL, PAGE_VI, 0);
	ASSERT_TRUE(has(html, "10.0.0.9:7450: CHƯA KẾT NỐI ĐƯỢC sau 4 lần thử"));
	free(html);
	json_object_del(st, "unreached");

	TEST_START("keys that never completed a session are one line; a peer a budget holds back says so");
	{
		json_t *peers = json_object_get(st, "peers");
		json_t *held = json_deep_copy(json_array_get(peers, 0));
		json_object_set_new(held, "name", json_string("Held village"));
		json_object_set_new(held, "in_sync", json_false());
		json_object_set_new(held, "budget",
				    json_pack("{s:b}", "held_back", 1));
		json_array_append_new(peers, held);
		for (int k = 0; k < 2; k++)
			json_array_append_new(
				peers, json_pack("{s:s, s:s, s:b, s:I, s:b}",
						 "key", KEY, "addr",
						 "127.0.0.1:5", "connected", 0,
						 "last_sync_ms", (json_int_t)0,
						 "stranger", 1));
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "Peers (2)"));
		ASSERT_TRUE(has(html, "And 2 keys that never completed a session"));
		ASSERT_TRUE(has(html, "connected, HOLDING BACK entries: the byte budget for this peer is used up"));
		free(html);
		html = render(st, NULL, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "Và 2 khóa chưa từng hoàn tất một phiên"));
		free(html);
		while (json_array_size(peers) > 1)
			json_array_remove(peers, json_array_size(peers) - 1);
	}

	TEST_START("the node's key is shown only on request");
	html = render(st, NULL, PAGE_EN, 1);
	ASSERT_TRUE(has(html, "<code id=\"node-key\">" KEY "</code>"));
	free(html);

	TEST_START("the lag report is for nodes that oversee others");
	ASSERT_TRUE(page_shows_lag(st));
	json_decref(st);
	st = status("v1", "village", "C1");
	ASSERT_TRUE(!page_shows_lag(st));
	json_object_set_new(json_object_get(st, "certificate"), "role",
			    json_string("province"));
	ASSERT_TRUE(page_shows_lag(st));
	json_object_set_new(json_object_get(st, "certificate"), "valid",
			    json_false());
	ASSERT_TRUE(!page_shows_lag(st));
	json_decref(st);

	TEST_START("the lag table: never heard, behind, escaped names, at most PAGE_MAX_LAG_ROWS rows");
	{
		size_t n = PAGE_MAX_LAG_ROWS + 5;
		struct lag_report rep = { 0 };
		rep.now_ms = NOW_MS;
		rep.threshold_ms = PAGE_LAG_THRESHOLD_MS;
		rep.v = calloc(n, sizeof(*rep.v));
		ASSERT_TRUE(rep.v != NULL);
		rep.n = rep.cap = n;
		for (size_t i = 0; i < n; i++) {
			struct lag_node *x = &rep.v[i];
			x->key[0] = (uint8_t)i;
			x->key[1] = (uint8_t)(i >> 8);
			x->role = CERT_VILLAGE;
			snprintf(x->name, sizeof(x->name), "v%zu", i);
			snprintf(x->scope, sizeof(x->scope), "bk/c1/v%zu", i);
			x->heard_ms = x->newest_ms = NOW_MS - 60000;
		}
		snprintf(rep.v[0].name, sizeof(rep.v[0].name), "<b>na-pai</b>");
		rep.v[0].heard_ms = rep.v[0].newest_ms = 0;
		rep.v[0].behind = 1;
		rep.v[1].heard_ms = rep.v[1].newest_ms = NOW_MS - 3 * 86400000ull;
		rep.v[1].behind = 1;
		rep.behind = 2;
		st = status("c1", "commune", "V1");
		html = render(st, &rep, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "<span class=\"lag-name\">&lt;b&gt;na-pai&lt;/b&gt;</span>"));
		ASSERT_TRUE(has(html, "chưa bao giờ có tin"));
		ASSERT_TRUE(has(html, "3 ngày trước"));
		ASSERT_TRUE(has(html, "2 trên 305 nút không có tin quá 24 giờ"));
		ASSERT_TRUE(has(html, "thôn"));
		/* v1, 3 days silent, sets the scale: a full bar, the 24 h mark at a third */
		ASSERT_TRUE(has(html, "<span class=\"bar behind\" style=\"width:100%\"></span><span class=\"mark\" style=\"left:33%\">"));
		ASSERT_TRUE(has(html, "<span class=\"lag-name\">v299</span>"));
		ASSERT_TRUE(!has(html, "<span class=\"lag-name\">v300</span>"));
		ASSERT_TRUE(has(html, "… và 5 nút nữa"));
		free(html);
		json_decref(st);
		free(rep.v);
	}

	TEST_START("a node whose certificate ends within 30 days is named, with who renews it; one ending later is not");
	{
		struct lag_report rep = { 0 };
		struct lag_node x[3];
		memset(x, 0, sizeof(x));
		for (size_t i = 0; i < 3; i++) {
			x[i].key[0] = (uint8_t)(i + 1);
			x[i].role = CERT_VILLAGE;
			x[i].cert = LAG_CERT_VALID;
			snprintf(x[i].name, sizeof(x[i].name), "khuoi-%zu", i);
			snprintf(x[i].scope, sizeof(x[i].scope), "bk/c1/v%zu", i);
			x[i].heard_ms = x[i].newest_ms = NOW_MS - 60000;
		}
		/* 10 days and 6 hours: 10 whole days left */
		x[0].cert_expires_ms = NOW_MS + 10 * 86400000ull + 6 * 3600000ull;
		x[1].cert_expires_ms = NOW_MS + 40 * 86400000ull;
		x[2].cert_expires_ms = 0; /* never ends */
		rep.now_ms = NOW_MS;
		rep.threshold_ms = PAGE_LAG_THRESHOLD_MS;
		rep.v = x;
		rep.n = rep.cap = 3;
		st = status("c1", "commune", "C1");
		html = render(st, &rep, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "ENDS SOON: the certificate of khuoi-0 ends in 10 days; then every node refuses it. Whoever issued it"));
		ASSERT_TRUE(!has(html, "the certificate of khuoi-1 ends"));
		ASSERT_TRUE(!has(html, "the certificate of khuoi-2 ends"));
		free(html);
		/* a day and some hours, then hours: one day, then within one */
		x[0].cert_expires_ms = NOW_MS + 86400000ull + 3600000ull;
		html = render(st, &rep, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "the certificate of khuoi-0 ends in 1 day;"));
		free(html);
		x[0].cert_expires_ms = NOW_MS + 3600000ull;
		html = render(st, &rep, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "the certificate of khuoi-0 ends within a day;"));
		free(html);
		x[0].cert_expires_ms = NOW_MS + 10 * 86400000ull + 6 * 3600000ull;
		html = render(st, &rep, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "SẮP HẾT HẠN: chứng chỉ của khuoi-0 hết hạn sau 10 ngày"));
		free(html);
		json_decref(st);
	}

	TEST_START("by commune: its villages counted under it, the most behind first, only with two communes or more");
	{
		static const struct {
			const char *name, *scope;
			int role, behind;
		} v[] = {
			{ "ha-giang", "hg", CERT_PROVINCE, 1 },
			{ "", "bk/c2/v3", CERT_VILLAGE, 0 },
			{ "C1", "bk/c1", CERT_COMMUNE, 0 },
			{ "V1", "bk/c1/v1", CERT_VILLAGE, 1 },
			{ "V2", "bk/c1/v2", CERT_VILLAGE, 0 },
		};
		struct lag_report rep = { 0 };
		struct lag_node x[5];
		memset(x, 0, sizeof(x));
		for (size_t i = 0; i < 5; i++) {
			x[i].key[0] = (uint8_t)(i + 1);
			snprintf(x[i].name, sizeof(x[i].name), "%s", v[i].name);
			snprintf(x[i].scope, sizeof(x[i].scope), "%s", v[i].scope);
			x[i].role = v[i].role;
			x[i].behind = v[i].behind;
			x[i].heard_ms = NOW_MS - 1000;
		}
		rep.now_ms = NOW_MS;
		rep.threshold_ms = PAGE_LAG_THRESHOLD_MS;
		rep.v = x;
		rep.n = 5;
		rep.behind = 2;
		st = status("p", "province", "C1");
		html = render(st, &rep, PAGE_VI, 0);
		{
			const char *c1 = strstr(html, "<span class=\"group-name\">C1</span><br><small>bk/c1</small>");
			const char *c2 = strstr(html, "<span class=\"group-name\">bk/c2</span>");
			ASSERT_TRUE(c1 && c2 && c1 < c2);
			ASSERT_TRUE(has(c1, "1 trên 3"));
			ASSERT_TRUE(has(c2, "0 trên 1"));
			ASSERT_TRUE(!has(html, "group-name\">ha-giang"));
			ASSERT_TRUE(!has(html, "group-name\">hg"));
		}
		free(html);
		rep.n = 3; /* the province, bk/c2/v3, C1: still two communes */
		html = render(st, &rep, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "By commune"));
		free(html);
		rep.v = x + 2; /* C1 and its villages alone: no table */
		html = render(st, &rep, PAGE_EN, 0);
		ASSERT_TRUE(!has(html, "By commune"));
		free(html);
		json_decref(st);
	}

	TEST_START("an unreached peer: since when, the reason in the page's language, what it means");
	{
		static const struct {
			const char *why;
			int reached;
			const char *vi, *vi_do, *en_do;
		} v[] = {
			{ "Connection refused", 0, "Kết nối bị từ chối",
			  "hamletd trên máy đó không chạy",
			  "hamletd is not running on it" },
			{ "No route to host", 0, "Không có đường dẫn đến máy",
			  "Đường truyền hoặc máy tính ở đó không hoạt động",
			  "The line or the PC there is down" },
			{ "Connection timed out", 0, "Kết nối đã quá hạn",
			  "Đường truyền hoặc máy tính ở đó không hoạt động",
			  "The line or the PC there is down" },
			{ "cannot resolve: unknown node or service", 0,
			  "không tìm được địa chỉ của tên máy: ",
			  "không có DNS", "this line has no DNS" },
			{ "the session ended", 1, "the session ended",
			  "nút đó từ chối nút này",
			  "that node refuses this one" },
		};
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			st = status("c1", "commune", "V1");
			json_object_set_new(
				st, "unreached",
				json_pack("[{s:s, s:s, s:b, s:I, s:I}]", "addr",
					  "127.0.0.1:18403", "why", v[i].why,
					  "reached", v[i].reached, "tries",
					  (json_int_t)4, "since_ms",
					  (json_int_t)(NOW_MS - 7200000)));
			html = render(st, NULL, PAGE_VI, 0);
			if (!has(html, v[i].vi) || !has(html, v[i].vi_do))
				fprintf(stderr, "  why: %s\n", v[i].why);
			ASSERT_TRUE(has(html, v[i].vi));
			ASSERT_TRUE(has(html, v[i].vi_do));
			ASSERT_TRUE(has(html, "từ 01/12/2025 15:00:00 +07 (2 giờ trước; 4 lần thử; hamletd tự thử lại)"));
			if (!v[i].reached)
				ASSERT_TRUE(!has(html, v[i].why) ||
					    strcmp(v[i].why, v[i].vi) == 0 ||
					    !strncmp(v[i].why, "cannot", 6));
			free(html);
			html = render(st, NULL, PAGE_EN, 0);
			ASSERT_TRUE(has(html, "since 2025-12-01 15:00:00 +07 (2 hours ago; 4 tries; hamletd tries again by itself)"));
			ASSERT_TRUE(has(html, v[i].why));
			ASSERT_TRUE(has(html, v[i].en_do));
			free(html);
			json_decref(st);
		}
		/* connected, but no session: no refusal of this node's
		 * certificate, which only a node that took the handshake
		 * could make; advice by how far the dial got */
		static const struct {
			const char *stage, *en, *vi;
		} early[] = {
			{ "handshake_timeout", "no hamlet node answers on it",
			  "không có nút hamlet nào trả lời" },
			{ "not_hamlet", "no hamlet node answers on it",
			  "không có nút hamlet nào trả lời" },
			{ "other_network", "cannot start a secure session",
			  "không mở được phiên an toàn" },
			{ "handshake", "cannot start a secure session",
			  "không mở được phiên an toàn" },
			{ "hello_timeout", "hamletd tries again by itself",
			  "hamletd tự thử lại" },
		};
		for (size_t i = 0; i < sizeof(early) / sizeof(early[0]); i++) {
			st = status("c1", "commune", "V1");
			json_object_set_new(
				st, "unreached",
				json_pack("[{s:s, s:s, s:b, s:s, s:I, s:I}]",
					  "addr", "127.0.0.1:18403", "why",
					  "handshake timed out", "reached", 1,
					  "stage", early[i].stage, "tries",
					  (json_int_t)4, "since_ms",
					  (json_int_t)(NOW_MS - 7200000)));
			html = render(st, NULL, PAGE_EN, 0);
			ASSERT_TRUE(has(html, early[i].en));
			ASSERT_TRUE(!has(html, "that node refuses this one"));
			free(html);
			html = render(st, NULL, PAGE_VI, 0);
			ASSERT_TRUE(has(html, early[i].vi));
			ASSERT_TRUE(!has(html, "nút đó từ chối nút này"));
			free(html);
			json_decref(st);
		}
		st = status("c1", "commune", "V1");
		json_object_set_new(
			st, "unreached",
			json_pack("[{s:s, s:s, s:I, s:I}]", "addr", "10.0.0.9:7450",
				  "why", "Connection refused", "tries",
				  (json_int_t)1, "since_ms",
				  (json_int_t)(NOW_MS - 60000)));
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "(1 minute ago; 1 try;"));
		free(html);
		json_decref(st);
	}

	TEST_START("what this node writes reaching no one is said above the peers, in both languages");
	{
		st = status("c1", "commune", "V1");
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(!has(html, "id=\"writes-wait\""));
		ASSERT_TRUE(!has(html, "id=\"own-unread\""));
		free(html);
		json_object_set_new(st, "writes_wait_for",
				    json_string("P (127.0.0.1:18401)"));
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "What this node writes waits for P (127.0.0.1:18401), which is not connected"));
		free(html);
		html = render(st, NULL, PAGE_VI, 0);
		/* the peer is down, not this node */
		ASSERT_TRUE(has(html, "Những gì nút này ghi đang chờ P (127.0.0.1:18401), nút đó hiện không kết nối"));
		ASSERT_TRUE(!has(html, "nút này hiện không kết nối"));
		free(html);
		json_object_set_new(st, "own_scope_unread", json_true());
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "id=\"own-unread\""));
		ASSERT_TRUE(has(html, "No connected peer takes what this node writes"));
		free(html);
		json_decref(st);
	}

	TEST_START("every peer state says what it means and what to do, in both languages");
	{
		json_t *p;
		st = status("c1", "commune", "V1");
		p = json_array_get(json_object_get(st, "peers"), 0);
		json_object_set_new(p, "in_sync", json_true());
		html = render(st, NULL, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "Đã trao đổi đủ dữ liệu; không cần làm gì."));
		free(html);
		json_object_set_new(p, "in_sync", json_false());
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "Entries are being exchanged now; nothing to do"));
		free(html);
		json_object_set_new(p, "entries_waiting_for_disk",
				    json_integer(12));
		html = render(st, NULL, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "12 mục nhận được đang chờ chỗ trống trên ổ đĩa của máy này."));
		ASSERT_TRUE(has(html, "Hãy giải phóng dung lượng ổ đĩa"));
		free(html);
		json_object_set_new(p, "entries_waiting_for_disk",
				    json_integer(0));

		/* lost, dialling in: when it was last in touch */
		json_object_set_new(p, "connected", json_false());
		html = render(st, NULL, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "mất kết nối"));
		ASSERT_TRUE(has(html, "liên lạc lần cuối 01/12/2025 16:55:00 +07, 5 phút trước"));
		ASSERT_TRUE(has(html, "Nút đó sẽ tự kết nối lại khi máy và đường truyền bên đó hoạt động trở lại"));
		free(html);
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "last in touch 2025-12-01 16:55:00 +07, 5 minutes ago"));
		ASSERT_TRUE(has(html, "It connects again by itself"));
		free(html);
		/* its certificate ended: no outage to call about, and what
		 * waits for it goes once it is certified again; its key
		 * revoked: never again, and nothing waits for it */
		{
			static const char *const cert[][6] = {
				{ "certificate_invalid",
				  "not connected: its certificate no longer holds",
				  "every node refuses it until the administrator certifies it again, and what waits for it here goes then. Nothing to do here.",
				  "nothing here waits for it",
				  "chứng chỉ của nút đó không còn hiệu lực" },
				{ "certificate_revoked",
				  "not connected: its key is revoked",
				  "every node refuses it, and nothing here waits for it. What it wrote before stays. Nothing to do here, and no need to call them.",
				  "certifies it again",
				  "khóa của nút đó đã bị thu hồi" },
			};
			for (size_t k = 0; k < 2; k++) {
				json_object_set_new(p, "name_source",
						    json_string(cert[k][0]));
				says(st, PAGE_EN, cert[k][1],
				     "It connects again by itself");
				says(st, PAGE_EN, cert[k][2], cert[k][3]);
				says(st, PAGE_VI, cert[k][4],
				     "hãy gọi điện cho họ");
			}
		}
		json_object_del(p, "name_source");
		/* lost, and dialled here in vain: since then, and why */
		json_object_set_new(
			st, "unreached",
			json_pack("[{s:s, s:s, s:b, s:I, s:I}]", "addr",
				  "127.0.0.1:4100", "why", "Connection refused",
				  "reached", 0, "tries", (json_int_t)3,
				  "since_ms", (json_int_t)(NOW_MS - 180000)));
		/* ... counted from its last touch, 5 minutes ago, which was
		 * before the tries of this start of hamletd (3 minutes) */
		html = render(st, NULL, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "từ 01/12/2025 16:55:00 +07, 5 phút trước: Kết nối bị từ chối"));
		ASSERT_TRUE(!has(html, "Connection refused"));
		free(html);
		/* never in touch: from the first try */
		json_object_set_new(p, "last_sync_ms", json_integer(0));
		html = render(st, NULL, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "từ 01/12/2025 16:57:00 +07, 3 phút trước: Kết nối bị từ chối"));
		free(html);
		json_decref(st);
	}

	TEST_START("a byte budget holding entries back: the figures hamlet status gives, and what to do");
	{
		json_t *p;
		st = status("c1", "commune", "V1");
		p = json_array_get(json_object_get(st, "peers"), 0);
		json_object_set_new(
			p, "budget",
			json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:I}",
				  "held_back", 1, "held_by", "day", "per_day",
				  (json_int_t)2000, "per_session", (json_int_t)0,
				  "sent_today", (json_int_t)1990,
				  "sent_session", (json_int_t)1990,
				  "entries_held", (json_int_t)1019));
		html = render(st, NULL, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "ĐANG GIỮ LẠI các mục"));
		/* the budget of that peer, not of this node */
		ASSERT_TRUE(has(html, "đã dùng hết hạn mức dữ liệu cho nút đó"));
		ASSERT_TRUE(!has(html, "hạn mức dữ liệu cho nút này"));
		ASSERT_TRUE(has(html, "1.019 mục chờ hạn mức của ngày mai (2,0 kB mỗi ngày tới V1, đã gửi 2,0 kB hôm nay)."));
		ASSERT_TRUE(has(html, "mang dữ liệu bằng USB"));
		ASSERT_TRUE(has(html, "nhờ quản trị viên nâng hạn mức"));
		free(html);
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "1,019 entries wait for tomorrow's budget (2.0 kB a day to V1, 2.0 kB sent today)."));
		ASSERT_TRUE(has(html, "carry them on a USB stick"));
		ASSERT_TRUE(has(html, "ask the administrator to raise the budget"));
		free(html);
		json_object_set_new(json_object_get(p, "budget"), "held_by",
				    json_string("session"));
		json_object_set_new(json_object_get(p, "budget"), "per_session",
				    json_integer(500000));
		json_object_set_new(json_object_get(p, "budget"), "entries_held",
				    json_integer(1));
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "1 entry waits for the next session's budget (500.0 kB a session to V1, 2.0 kB sent in this one)."));
		free(html);
		/* one entry larger than the whole budget: not "next session" */
		json_object_set_new(json_object_get(p, "budget"), "held_by",
				    json_string("day"));
		json_object_set_new(json_object_get(p, "budget"), "entry_too_big",
				    json_integer(2300));
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "1 entry waits: it is 2.3 kB, larger than the whole budget for V1 (2.0 kB), and goes only once the budget is raised."));
		ASSERT_TRUE(has(html, "Waiting changes nothing."));
		ASSERT_TRUE(!has(html, "tomorrow"));
		free(html);
		json_object_set_new(json_object_get(p, "budget"), "entries_held",
				    json_integer(3));
		html = render(st, NULL, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "3 mục đang chờ: có một mục 2,3 kB lớn hơn toàn bộ hạn mức cho V1 (2,0 kB)"));
		free(html);
		json_decref(st);
	}

	TEST_START("a peer that refuses what it is sent as dated too far ahead: said, with the clock to check");
	{
		json_t *p;
		st = status("c1", "commune", "V1");
		p = json_array_get(json_object_get(st, "peers"), 0);
		json_object_set_new(p, "in_sync", json_false());
		json_object_set_new(p, "entries_refused_ahead_out",
				    json_integer(2));
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "connected, NOT IN SYNC: it refuses entries sent to it, dated too far ahead of its clock"));
		ASSERT_TRUE(has(html, "2 entries sent to it were refused as dated more than 24 h ahead of its clock: they have not arrived."));
		ASSERT_TRUE(has(html, "Check the date and time of this PC"));
		free(html);
		html = render(st, NULL, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "CHƯA ĐỒNG BỘ"));
		ASSERT_TRUE(has(html, "hãy kiểm tra ngày giờ của máy này") ||
			    has(html, "Hãy kiểm tra ngày giờ của máy này"));
		free(html);
		json_decref(st);
	}

	TEST_START("one record id for two people: the guide's advice, never a resolve command");
	{
		st = status("c1", "commune", "V1");
		json_object_set_new(json_object_get(st, "problems"),
				    "health_profile",
				    json_pack("{s:I, s:I, s:I}", "conflicts",
					      (json_int_t)1, "duplicates",
					      (json_int_t)0, "two_people",
					      (json_int_t)1));
		html = render(st, NULL, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "<b>1 hồ sơ sức khỏe</b> có MỘT MÃ BẢN GHI CHO HAI NGƯỜI"));
		ASSERT_TRUE(has(html, "Đừng xử lý bằng cách chọn một giá trị"));
		ASSERT_TRUE(has(html, "hamlet delete health_profile ID"));
		ASSERT_TRUE(!has(html, "conflicts resolve health_profile"));
		ASSERT_TRUE(has(html, "hamlet conflicts resolve payment ID"));
		/* the line hamlet conflicts prints in Vietnamese */
		ASSERT_TRUE(has(html, "(dòng CẢNH BÁO: hai nút đã ghi giá trị person_id khác nhau dưới cùng một mã này)"));
		ASSERT_TRUE(!has(html, "WARNING"));
		free(html);
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "<b>1 health profile</b> with ONE RECORD ID FOR TWO PEOPLE"));
		ASSERT_TRUE(has(html, "Do not resolve by choosing a value"));
		ASSERT_TRUE(has(html, "One record id, two people"));
		ASSERT_TRUE(!has(html, "conflicts resolve health_profile"));
		free(html);
		/* one of two: the other still gets its resolve command */
		json_object_set_new(json_object_get(json_object_get(st, "problems"),
						    "health_profile"),
				    "conflicts", json_integer(2));
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "ONE RECORD ID FOR TWO PEOPLE"));
		ASSERT_TRUE(has(html, "<b>1 health profile</b> in conflict"));
		ASSERT_TRUE(has(html, "hamlet conflicts resolve health_profile ID"));
		free(html);
		json_decref(st);
	}

	TEST_START("one record id for two people, one village's part deleted: the deleting resolution, not a plain delete");
	{
		st = status("c1", "commune", "V1");
		json_object_set_new(json_object_get(st, "problems"),
				    "health_profile",
				    json_pack("{s:I, s:I, s:I, s:I}", "conflicts",
					      (json_int_t)3, "duplicates",
					      (json_int_t)0, "two_people",
					      (json_int_t)3,
					      "two_people_one_deleted",
					      (json_int_t)1));
		html = render(st, NULL, PAGE_EN, 0);
		/* the two whose parts both live: a plain delete */
		ASSERT_TRUE(has(html, "<b>2 health profiles</b> with ONE RECORD ID FOR TWO PEOPLE:"));
		ASSERT_TRUE(has(html, "hamlet delete health_profile ID"));
		/* the one a village deleted its part of: a plain delete is
		 * refused there, the deleting resolution works */
		ASSERT_TRUE(has(html, "<b>1 health profile</b> with ONE RECORD ID FOR TWO PEOPLE, one village's part deleted already"));
		ASSERT_TRUE(has(html, "a plain delete is refused there"));
		ASSERT_TRUE(has(html, "hamlet conflicts resolve health_profile ID --delete</code>"));
		/* never a resolve that keeps it */
		ASSERT_TRUE(!has(html, "hamlet conflicts resolve health_profile ID</code>"));
		ASSERT_TRUE(!has(html, "health_profile ID '{"));
		free(html);
		html = render(st, NULL, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "<b>1 hồ sơ sức khỏe</b> có MỘT MÃ BẢN GHI CHO HAI NGƯỜI, phần của một thôn đã bị xóa"));
		ASSERT_TRUE(has(html, "lệnh xóa thông thường sẽ bị từ chối"));
		ASSERT_TRUE(has(html, "hamlet conflicts resolve health_profile ID --delete</code>"));
		free(html);
		json_decref(st);
	}

	TEST_START("counts of one are worded as one, in both languages");
	{
		struct lag_report rep = { 0 };
		struct lag_node x;
		memset(&x, 0, sizeof(x));
		snprintf(x.name, sizeof(x.name), "V1");
		x.role = CERT_VILLAGE;
		x.heard_ms = NOW_MS - 1000;
		rep.now_ms = NOW_MS;
		rep.threshold_ms = PAGE_LAG_THRESHOLD_MS;
		rep.v = &x;
		rep.n = 1;
		st = status("c1", "commune", "V1");
		json_object_set_new(st, "conflicts", json_integer(1));
		json_object_set_new(st, "entries", json_integer(1));
		json_object_set_new(st, "held", json_integer(1));
		json_object_set_new(json_array_get(json_object_get(st, "peers"), 0),
				    "waiting_out", json_integer(1));
		html = render(st, &rep, PAGE_EN, 0);
		ASSERT_TRUE(!has(html, "All 1 nodes"));
		ASSERT_TRUE(has(html, "The one node known here was heard from within 24 hours."));
		ASSERT_TRUE(has(html, "1 record needs a decision."));
		ASSERT_TRUE(has(html, "1 entry is waiting to go out"));
		ASSERT_TRUE(has(html, "1 entry received waits for an earlier one"));
		ASSERT_TRUE(has(html, "1 entry, 5 written here"));
		free(html);
		html = render(st, &rep, PAGE_VI, 0);
		ASSERT_TRUE(!has(html, "Tất cả 1 nút"));
		ASSERT_TRUE(has(html, "Nút duy nhất đã biết có tin trong vòng 24 giờ."));
		free(html);
		x.behind = 1;
		rep.behind = 1;
		html = render(st, &rep, PAGE_EN, 0);
		ASSERT_TRUE(!has(html, "1 of 1 nodes"));
		ASSERT_TRUE(has(html, "The one node known here has not been heard from for more than 24 hours, or never."));
		free(html);
		rep.n = 2; /* two: the plural stays */
		{
			struct lag_node y[2];
			y[0] = x;
			y[1] = x;
			y[1].behind = 0;
			rep.v = y;
			html = render(st, &rep, PAGE_VI, 0);
			ASSERT_TRUE(has(html, "1 trên 2 nút không có tin quá 24 giờ, hoặc chưa từng có tin."));
			free(html);
		}
		json_decref(st);
	}

	TEST_START("other nodes' feeds frozen after a fork are said, with what to do, in both languages");
	{
		st = status("c1", "commune", "V1");
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(!has(html, "id=\"other-forks\""));
		free(html);
		json_object_set_new(st, "other_forks", json_integer(1));
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "1 feed of another node is frozen after a fork"));
		ASSERT_TRUE(has(html, "it revokes that key and certifies that PC anew"));
		free(html);
		json_object_set_new(st, "other_forks", json_integer(2));
		html = render(st, NULL, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "2 chuỗi của các nút khác bị đóng băng sau khi rẽ nhánh"));
		free(html);
		/* counts as each language writes them */
		json_object_set_new(st, "other_forks", json_integer(1200));
		html = render(st, NULL, PAGE_VI, 0);
		ASSERT_TRUE(has(html, "1.200 chuỗi của các nút khác"));
		free(html);
		html = render(st, NULL, PAGE_EN, 0);
		ASSERT_TRUE(has(html, "1,200 feeds of other nodes"));
		free(html);
		json_decref(st);
	}

	TEST_START("Accept-Language vi_VN, as a locale names it, is Vietnamese too");
	ASSERT_EQ(page_lang_pick("vi_VN"), PAGE_VI);
	ASSERT_EQ(page_lang_pick("vi_VN.UTF-8"), PAGE_VI);
	ASSERT_EQ(page_lang_pick("en_US, vi_VN;q=0.5"), PAGE_EN);

	TEST_START("Host: an IP address, localhost or a listed name is answered; any other name is not");
	{
		static const struct {
			const char *host, *names;
			int want;
		} v[] = {
			{ NULL, NULL, 1 },
			{ "127.0.0.1:18480", NULL, 1 },
			{ "127.0.0.1", NULL, 1 },
			{ "10.1.2.3:80", NULL, 1 },
			{ "[::1]:18480", NULL, 1 },
			{ "[::1]", NULL, 1 },
			{ "[fe80::1%eth0]:80", NULL, 0 },
			{ "localhost:18480", NULL, 1 },
			{ "LocalHost", NULL, 1 },
			{ "localhost.:18480", NULL, 1 },
			{ "evil.example:18480", NULL, 0 },
			{ "evil.example", "", 0 },
			{ "localhost.evil.example", NULL, 0 },
			{ "127.0.0.1.evil.example", NULL, 0 },
			{ "center.example.vn:8080", "center.example.vn other.vn", 1 },
			{ "CENTER.example.vn", "center.example.vn", 1 },
			{ "other.vn", "center.example.vn other.vn", 1 },
			{ "center.example", "center.example.vn", 0 },
			{ "x.center.example.vn", "center.example.vn", 0 },
			{ "localhost:80x", NULL, 0 },
			{ "localhost:", NULL, 0 },
			{ "", NULL, 0 },
			{ ":80", NULL, 0 },
			{ "[::1", NULL, 0 },
			{ "[evil.example]:80", NULL, 0 },
			{ "127.0.0.1:80:80", NULL, 0 },
		};
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			if (page_host_allowed(v[i].host, v[i].names) != v[i].want)
				fprintf(stderr, "  Host: %s (names: %s)\n",
					v[i].host ? v[i].host : "(none)",
					v[i].names ? v[i].names : "(none)");
			ASSERT_EQ(page_host_allowed(v[i].host, v[i].names),
				  v[i].want);
		}
		char t[1024];
		page_host_refusal(PAGE_VI, 18080, t, sizeof(t));
		ASSERT_TRUE(strstr(t, "[http]") != NULL);
		ASSERT_TRUE(strstr(t, "Hãy mở bằng địa chỉ IP") != NULL);
		/* the node's own port, not a word standing for it */
		ASSERT_TRUE(strstr(t, "http://127.0.0.1:18080/") != NULL);
		ASSERT_TRUE(strstr(t, "CỔNG") == NULL);
		page_host_refusal(PAGE_EN, 18080, t, sizeof(t));
		ASSERT_TRUE(strstr(t, "Open it by the PC's IP address") != NULL);
		ASSERT_TRUE(strstr(t, "http://localhost:18080/") != NULL);
	}

	TEST_DONE();
}
