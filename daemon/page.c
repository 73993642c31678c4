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
#include "i18n.h"
#include "page_css.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
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
	M_TRIES,
	M_TRIES_ONE,
	M_UNREACHED_SINCE,
	M_NOSESSION_SINCE,
	M_WHY_REFUSED,
	M_WHY_DOWN,
	M_WHY_RESOLVE,
	M_WHY_SESSION,
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
	M_LAG_ALL_OK_ONE,
	M_LAG_SOME_ONE,
	M_STRANGERS_ONE,
	M_WAIT_SOME_ONE,
	M_HELD_ONE,
	M_PROB_COUNT_ONE,
	M_STORED_FIG,
	M_STORED_FIG_ONE,
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
	[M_NOSESSION] = { "{1}: CONNECTS, BUT NO SESSION STARTS after {2} (hamletd tries again by itself): ",
			  "{1}: KẾT NỐI ĐƯỢC NHƯNG KHÔNG BẮT ĐẦU ĐƯỢC PHIÊN sau {2} (hamletd tự thử lại): " },
	[M_STRANGERS] = { "And {1} keys that never completed a session (refused, or gone during the handshake).",
			  "Và {1} khóa chưa từng hoàn tất một phiên (bị từ chối, hoặc rời đi khi đang bắt tay)." },
	[M_ST_HELD] = { "connected, HOLDING BACK entries: the byte budget for this peer is used up",
			"đã kết nối, ĐANG GIỮ LẠI các mục: đã dùng hết hạn mức dữ liệu cho nút này" },
	[M_ALL_SCOPES] = { "all scopes", "mọi phạm vi" },
	[M_UNREACHED] = { "{1}: NOT REACHED after {2} (hamletd tries again by itself): ",
			  "{1}: CHƯA KẾT NỐI ĐƯỢC sau {2} (hamletd tự thử lại): " },
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
	[M_TRIES] = { "{1} tries", "{1} lần thử" },
	[M_TRIES_ONE] = { "1 try", "1 lần thử" },
	[M_UNREACHED_SINCE] = { "{1}: NOT REACHED since {2} ({3}; {4}; hamletd tries again by itself): ",
				"{1}: CHƯA KẾT NỐI ĐƯỢC từ {2} ({3}; {4}; hamletd tự thử lại): " },
	[M_NOSESSION_SINCE] = { "{1}: CONNECTS, BUT NO SESSION STARTS since {2} ({3}; {4}; hamletd tries again by itself): ",
				"{1}: KẾT NỐI ĐƯỢC NHƯNG KHÔNG BẮT ĐẦU ĐƯỢC PHIÊN từ {2} ({3}; {4}; hamletd tự thử lại): " },
	/* what each reason of docs/operator-guide.md means, and what to do */
	[M_WHY_REFUSED] = { "The PC there is on, but hamletd is not running on it. Ask someone there to start hamletd (or to restart that PC); this node connects by itself once it runs.",
			    "Máy tính ở đó đang bật nhưng hamletd trên máy đó không chạy. Hãy nhờ người ở đó khởi động hamletd (hoặc khởi động lại máy); nút này sẽ tự kết nối khi hamletd chạy." },
	[M_WHY_DOWN] = { "The line or the PC there is down. Check the cable, the modem or the 3G/4G signal here, and call them to check their PC and line; hamletd connects by itself when the line is back.",
			 "Đường truyền hoặc máy tính ở đó không hoạt động. Hãy kiểm tra dây mạng, modem hoặc sóng 3G/4G ở đây, và gọi điện nhờ bên đó kiểm tra máy và đường truyền; hamletd sẽ tự kết nối khi có đường truyền trở lại." },
	[M_WHY_RESOLVE] = { "The name of that PC is wrong, or this line has no DNS. Ask the administrator to give its address instead of its name (<code>hamlet peers list</code> shows them).",
			    "Tên của máy đó bị sai, hoặc đường truyền ở đây không có DNS. Hãy nhờ quản trị viên dùng địa chỉ IP thay cho tên máy (<code>hamlet peers list</code> hiển thị các địa chỉ)." },
	[M_WHY_SESSION] = { "The PC there answers, but the session ends before it begins, most often because that node refuses this one (this node's certificate missing, expired or revoked there, or another network). Call the administrator: that node's log says why.",
			    "Máy ở đó có trả lời nhưng phiên kết thúc trước khi bắt đầu, thường là do nút đó từ chối nút này (chứng chỉ của nút này thiếu, hết hạn hoặc bị thu hồi ở đó, hoặc khác mạng). Hãy báo quản trị viên: nhật ký của nút đó ghi lý do." },
	[M_WHY_OTHER] = { "Nothing to do at once: hamletd tries again by itself. If it lasts more than a day, call them or the administrator.",
			  "Chưa cần làm gì: hamletd tự thử lại. Nếu kéo dài quá một ngày, hãy gọi điện cho họ hoặc báo quản trị viên." },
	[M_DO_INSYNC] = { "Everything has been exchanged; nothing to do.",
			  "Đã trao đổi đủ dữ liệu; không cần làm gì." },
	[M_DO_SYNCING] = { "Entries are being exchanged now; nothing to do, it finishes by itself.",
			   "Đang trao đổi dữ liệu; không cần làm gì, việc này sẽ tự xong." },
	[M_FULL_WAIT] = { "{1} entries received wait for space on this PC's disk.",
			  "{1} mục nhận được đang chờ chỗ trống trên ổ đĩa của máy này." },
	[M_FULL_WAIT_ONE] = { "1 entry received waits for space on this PC's disk.",
			      "1 mục nhận được đang chờ chỗ trống trên ổ đĩa của máy này." },
	[M_DO_FULL] = { "Free space on it (old backups, downloads); the sync goes on by itself.",
			"Hãy giải phóng dung lượng ổ đĩa (bản sao lưu cũ, tệp tải về); việc đồng bộ sẽ tự tiếp tục." },
	/* as hamlet status words it (cli/cmd_status.c budget_print) */
	[M_HELD_DAY] = { "{1} entries wait for tomorrow's budget ({2} a day to {3}, {4} sent today).",
			 "{1} mục chờ hạn mức của ngày mai ({2} mỗi ngày tới {3}, đã gửi {4} hôm nay)." },
	[M_HELD_DAY_ONE] = { "1 entry waits for tomorrow's budget ({2} a day to {3}, {4} sent today).",
			     "1 mục chờ hạn mức của ngày mai ({2} mỗi ngày tới {3}, đã gửi {4} hôm nay)." },
	[M_HELD_SESSION] = { "{1} entries wait for the next session's budget ({2} a session to {3}, {4} sent in this one).",
			     "{1} mục chờ hạn mức của phiên kết nối sau ({2} mỗi phiên tới {3}, đã gửi {4} trong phiên này)." },
	[M_HELD_SESSION_ONE] = { "1 entry waits for the next session's budget ({2} a session to {3}, {4} sent in this one).",
				 "1 mục chờ hạn mức của phiên kết nối sau ({2} mỗi phiên tới {3}, đã gửi {4} trong phiên này)." },
	[M_DO_HELD] = { "Nothing is lost: they go by themselves when the budget allows. If they are needed sooner, carry them on a USB stick (<code>hamlet bundle</code>), or ask the administrator to raise the budget (<code>[budget]</code> in hamletd's configuration).",
			"Không mất dữ liệu: các mục sẽ tự được gửi khi hạn mức cho phép. Nếu cần sớm hơn, hãy mang dữ liệu bằng USB (<code>hamlet bundle</code>), hoặc nhờ quản trị viên nâng hạn mức (<code>[budget]</code> trong cấu hình hamletd)." },
	[M_DOWN_SINCE] = { "since {1}", "từ {1}" },
	[M_DOWN_LAST] = { "last in touch {1}", "liên lạc lần cuối {1}" },
	[M_DO_DOWN] = { "It connects again by itself when its PC and line are back; nothing to do here. If it stays away more than a day, call them, or carry the data on a USB stick (<code>hamlet bundle</code>).",
			"Nút đó sẽ tự kết nối lại khi máy và đường truyền bên đó hoạt động trở lại; ở đây không cần làm gì. Nếu quá một ngày vẫn chưa kết nối, hãy gọi điện cho họ, hoặc mang dữ liệu bằng USB (<code>hamlet bundle</code>)." },
	/* docs/operator-guide.md "One record id, two people" */
	[M_PROB_TWO] = { "<b>{1} {2}</b> with ONE RECORD ID FOR TWO PEOPLE: two villages gave the same id to two different residents.",
			 "<b>{1} {2}</b> có MỘT MÃ BẢN GHI CHO HAI NGƯỜI: hai thôn đã dùng cùng một mã cho hai người khác nhau." },
	[M_PROB_TWO_DO] = { "Do not resolve by choosing a value: that would give one person the other's data. On each village's node, enter its own resident again under a new id of its own (with the village's prefix), then delete the shared id once, at the commune (or any node that holds both villages' records, as this one does): the deletion reaches both villages:",
			    "Đừng xử lý bằng cách chọn một giá trị: làm vậy sẽ gán dữ liệu của người này cho người kia. Tại nút của mỗi thôn, nhập lại người của thôn mình dưới một mã mới riêng (có tiền tố của thôn), rồi xóa mã dùng chung một lần, tại xã (hoặc tại nút nào giữ bản ghi của cả hai thôn, như nút này): việc xóa sẽ đến được cả hai thôn:" },
	[M_PROB_TWO_SEE] = { "Which records: <code>hamlet conflicts</code> (WARNING: two nodes wrote different person_id values). How: docs/operator-guide.md, \"One record id, two people\".",
			     "Bản ghi nào: <code>hamlet conflicts</code> (dòng WARNING: two nodes wrote different person_id values). Cách làm: docs/operator-guide.vi.md, \"Một mã bản ghi, hai người\"." },
	[M_LAG_ALL_OK_ONE] = { "The one node known here was heard from within 24 hours.",
			       "Nút duy nhất đã biết có tin trong vòng 24 giờ." },
	[M_LAG_SOME_ONE] = { "The one node known here has not been heard from for more than 24 hours.",
			     "Nút duy nhất đã biết không có tin quá 24 giờ." },
	[M_STRANGERS_ONE] = { "And 1 key that never completed a session (refused, or gone during the handshake).",
			      "Và 1 khóa chưa từng hoàn tất một phiên (bị từ chối, hoặc rời đi khi đang bắt tay)." },
	[M_WAIT_SOME_ONE] = { "1 entry written here is waiting to go out; it leaves at the next sync with the peer (or, held back by a byte budget, when it allows).",
			      "1 mục viết tại đây đang chờ gửi đi; mục này sẽ được gửi ở lần đồng bộ kế tiếp với nút kia (hoặc, nếu bị hạn mức dữ liệu giữ lại, khi hạn mức cho phép)." },
	[M_HELD_ONE] = { "1 entry received waits for an earlier one that has not arrived yet.",
			 "1 mục nhận được đang chờ một mục trước đó chưa đến." },
	[M_PROB_COUNT_ONE] = { "1 record needs a decision.", "1 bản ghi cần xử lý." },
	[M_STORED_FIG] = { "{1} entries, {2} written here", "{1} mục, {2} mục viết tại đây" },
	[M_STORED_FIG_ONE] = { "1 entry, {2} written here", "1 mục, {2} mục viết tại đây" },
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

/* Text t (trusted markup) with {1} … {n} replaced by arg[0] … arg[n-1],
 * escaped (NULL: nothing). */
static void fillv(FILE *f, const char *t, const char *const *arg, int n)
{
	for (; *t; t++) {
		if (t[0] == '{' && t[1] >= '1' && t[1] < '1' + n && t[2] == '}') {
			esc(f, arg[t[1] - '1']);
			t += 2;
		} else {
			fputc(*t, f);
		}
	}
}

/* Text t with {1} and {2} replaced by a and b, escaped. */
static void fill(FILE *f, const char *t, const char *a, const char *b)
{
	const char *arg[2] = { a, b };
	fillv(f, t, arg, 2);
}

static void say(const struct out *o, enum msg m, const char *a, const char *b)
{
	fill(o->f, T(o, m), a, b);
}

/* m, or m_one when n is 1: the English singular (Vietnamese has the
 * same words for both, or a sentence of its own for one). */
static enum msg one_or(uint64_t n, enum msg m_one, enum msg m)
{
	return n == 1 ? m_one : m;
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
	say(o, one_or(ju64(st, "entries"), M_STORED_FIG_ONE, M_STORED_FIG), a,
	    b);
	fputs("</dd></dl></section>\n", o->f);
}

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

/* why in the page's language, into buf; and what it means (M_WHY_*). */
static enum msg why_read(const struct out *o, const char *why, int reached,
			 char *buf, size_t n)
{
	enum msg what = reached ? M_WHY_SESSION : M_WHY_OTHER;
	if (!why)
		why = "";
	if (strncmp(why, why_resolve, sizeof(why_resolve) - 1) == 0) {
		const char *rest = why + sizeof(why_resolve) - 1;
		snprintf(buf, n,
			 o->lang == PAGE_VI ? "không phân giải được tên: %s"
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
	when(o, ms, t, sizeof(t), iso, sizeof(iso));
	ago(o, ms, a, sizeof(a));
	snprintf(buf, n, "%s, %s", t, a);
}

/* What a state means and what to do: one plain line below it. */
static void advice(const struct out *o, enum msg m)
{
	fprintf(o->f, "<br><small class=\"advice\">%s</small>", T(o, m));
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
		const char *a = jstr(p, "addr");
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
		uint64_t n = ju64(p, "tries"), from = ju64(p, "since_ms");
		enum msg what = why_read(o, jstr(p, "why"), reached, why,
					 sizeof(why));
		num(buf, n);
		{
			const char *a[1] = { buf };
			FILE *f = fmemopen(tries, sizeof(tries), "w");
			if (f) {
				fillv(f, T(o, one_or(n, M_TRIES_ONE, M_TRIES)),
				      a, 1);
				fclose(f);
			} else {
				snprintf(tries, sizeof(tries), "%s", buf);
			}
		}
		fputs("<li class=\"bad\">", o->f);
		if (from) {
			char t[64], iso[40], ag[48];
			when(o, from, t, sizeof(t), iso, sizeof(iso));
			ago(o, from, ag, sizeof(ag));
			const char *a[4] = { jstr(p, "addr"), t, ag, tries };
			fillv(o->f,
			      T(o, reached ? M_NOSESSION_SINCE : M_UNREACHED_SINCE),
			      a, 4);
		} else {
			say(o, reached ? M_NOSESSION : M_UNREACHED,
			    jstr(p, "addr"), tries);
		}
		fputs("<span class=\"why\">", o->f);
		esc(o->f, why);
		fputs("</span>", o->f);
		advice(o, what);
		fputs("</li>", o->f);
	}
	fputs("</ul>", o->f);
}

/* "2.0 kB", as hamlet status writes sizes. */
static void size_text(uint64_t n, char buf[32])
{
	i18n_size(n, buf);
}

/* "1,045", as hamlet status writes counts. */
static void count_text(uint64_t n, char out[32])
{
	i18n_count(n, out);
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
		uint64_t n = ju64(p, "entries_waiting_for_disk");
		count_text(n, a);
		fputs("<br><small class=\"facts\">", o->f);
		say(o, one_or(n, M_FULL_WAIT_ONE, M_FULL_WAIT), a, NULL);
		fputs("</small>", o->f);
		advice(o, M_DO_FULL);
		break;
	}
	case M_ST_HELD: {
		const char *by = jstr(bg, "held_by");
		int session = by && strcmp(by, "session") == 0;
		uint64_t n = ju64(bg, "entries_held");
		const char *arg[4] = { a, b, label, c };
		if (!n)
			n = 1; /* held back: at least the one waiting */
		count_text(n, a);
		size_text(ju64(bg, session ? "per_session" : "per_day"), b);
		size_text(ju64(bg, session ? "sent_session" : "sent_today"), c);
		fputs("<br><small class=\"facts budget\">", o->f);
		fillv(o->f,
		      T(o, session ? one_or(n, M_HELD_SESSION_ONE, M_HELD_SESSION)
				   : one_or(n, M_HELD_DAY_ONE, M_HELD_DAY)),
		      arg, 4);
		fputs("</small>", o->f);
		advice(o, M_DO_HELD);
		break;
	}
	case M_ST_DOWN: {
		const json_t *u = unreached_find(st, jstr(p, "addr"));
		uint64_t since = ju64(u, "since_ms"), last = ju64(p, "last_sync_ms");
		enum msg what = M_DO_DOWN;
		if (u && since) {
			when_ago(o, since, t, sizeof(t));
			fputs("<br><small class=\"since\">", o->f);
			say(o, M_DOWN_SINCE, t, NULL);
			what = why_read(o, jstr(u, "why"),
					json_is_true(json_object_get(u, "reached")),
					why, sizeof(why));
			fputs(": ", o->f);
			esc(o->f, why);
			fputs("</small>", o->f);
		} else if (last) {
			when_ago(o, last, t, sizeof(t));
			fputs("<br><small class=\"since\">", o->f);
			say(o, M_DOWN_LAST, t, NULL);
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
			say(o, one_or(strangers, M_STRANGERS_ONE, M_STRANGERS),
			    buf, NULL);
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
		state_detail(o, st, p, sm, label);
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
		say(o, one_or(strangers, M_STRANGERS_ONE, M_STRANGERS), buf,
		    NULL);
		fputs("</p>", o->f);
	}
	unreached_list(o, st);
	num(buf, most);
	fprintf(o->f, "<p id=\"waiting\" data-count=\"%s\">", buf);
	if (most)
		say(o, one_or(most, M_WAIT_SOME_ONE, M_WAIT_SOME), buf, NULL);
	else
		say(o, M_WAIT_NONE, NULL, NULL);
	fputs("</p>", o->f);
	if (ju64(st, "held")) {
		num(buf, ju64(st, "held"));
		fputs("<p class=\"warn\">", o->f);
		say(o, one_or(ju64(st, "held"), M_HELD_ONE, M_HELD), buf, NULL);
		fputs("</p>", o->f);
	}
	fputs("</section>\n", o->f);
}

static void problems_section(const struct out *o, const struct page_in *in)
{
	const json_t *st = in->status;
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
	say(o, one_or(total, M_PROB_COUNT_ONE, M_PROB_COUNT), buf, NULL);
	fputs("</p><ul class=\"problems\">", o->f);
	json_object_foreach((json_t *)prob, coll, v)
	{
		uint64_t c = ju64(v, "conflicts"), d = ju64(v, "duplicates");
		/* one id holding two people: not resolved by choosing */
		uint64_t two = ju64(v, "two_people");
		if (two > c)
			two = c;
		c -= two;
		if (two) {
			/* not to be resolved by choosing: no resolve command */
			num(buf, two);
			fputs("<li class=\"conflict two-people\">", o->f);
			say(o, M_PROB_TWO, buf, coll_word(o, coll, two));
			fputs("<br>", o->f);
			say(o, M_PROB_TWO_DO, NULL, NULL);
			fputs("<code class=\"cmd\">hamlet delete ", o->f);
			esc(o->f, coll);
			fputs(" ID</code><br><small>", o->f);
			say(o, M_PROB_TWO_SEE, NULL, NULL);
			fputs("</small></li>", o->f);
		}
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
		say(o, one_or(r->n, M_LAG_SOME_ONE, M_LAG_SOME), a, b);
		fputs("</p><p>", o->f);
		say(o, M_LAG_DO, NULL, NULL);
	} else {
		say(o, one_or(r->n, M_LAG_ALL_OK_ONE, M_LAG_ALL_OK), b, NULL);
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
	problems_section(&o, in);
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

const char *page_host_refusal(int lang)
{
	return lang == PAGE_VI
		       ? "Trang này không trả lời cho tên máy được dùng trong địa chỉ (có thể là một trang web khác đang tìm cách đọc số liệu của nút). Hãy mở bằng địa chỉ IP của máy, ví dụ http://127.0.0.1:CỔNG/, hoặc http://localhost:CỔNG/. Nếu nút cần được mở bằng một tên khác, hãy nhờ quản trị viên thêm tên đó vào hosts trong mục [http] của cấu hình hamletd.\n"
		       : "This node does not answer to the host name in the address (it may be another web site trying to read the node's figures). Open it by the PC's IP address, like http://127.0.0.1:PORT/, or as http://localhost:PORT/. If the node must be opened by another name, ask the administrator to add that name to hosts under [http] in hamletd's configuration.\n";
}

int page_shows_lag(const json_t *status)
{
	const json_t *cert = json_object_get(status, "certificate");
	const char *role = jstr(cert, "role");
	return json_is_true(json_object_get(cert, "valid")) && role &&
	       (strcmp(role, "commune") == 0 || strcmp(role, "district") == 0 ||
		strcmp(role, "province") == 0);
}
