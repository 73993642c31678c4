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
	ASSERT_TRUE(has(html, "7 mục viết tại đây đang chờ gửi đi"));
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

	TEST_DONE();
}
