/*
 * page_text: the status page's texts and words in both languages, and
 * what every section writes with: escaping and filling, the status
 * object's fields, times, node labels, table cells (page_internal.h).
 *
 * The texts are a two-column table, English and Vietnamese, rather than
 * gettext: the language is chosen per request (Accept-Language, ?lang=),
 * not per process, and hamletd's other threads must not see a locale
 * switched under them. A text may hold markup; what it is filled with
 * ({1}, {2}) is always escaped.
 */
#include "page_internal.h"

#include "i18n.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* --- texts --------------------------------------------------------------- */

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
	/* an end at midnight UTC is the end of the day before, as hamlet
	 * cert and hamlet status say it: not a time the next morning */
	[M_CERT_END] = { "valid until the end of {1} (UTC)", "hợp lệ đến hết ngày {1} (UTC)" },
	[M_CERT_FOREVER] = { "valid", "hợp lệ" },
	[M_CERT_BAD] = { "NONE VALID ({1}): other nodes refuse this one until it has one; ask the administrator.",
			 "KHÔNG CÓ CHỨNG CHỈ HỢP LỆ ({1}): các nút khác từ chối nút này cho đến khi có; hãy báo quản trị viên." },
	[M_CERT_ABOVE] = { ", when the certificate of {1} above it in the chain ends",
			   ", khi chứng chỉ của {1} ở trên nó trong chuỗi hết hạn" },
	/* within STATUS_CERT_WARN_DAYS of the chain's end ({2}: days) */
	[M_CERT_SOON] = { "ENDS SOON: in {2} days ({1}); then every other node refuses this one. Ask the administrator who issued it for a renewal (a new certificate for the same key), then <code>hamlet cert install FILE</code>.",
			  "SẮP HẾT HẠN: còn {2} ngày ({1}); sau đó mọi nút khác từ chối nút này. Hãy đề nghị quản trị viên đã cấp chứng chỉ gia hạn (một chứng chỉ mới cho cùng khóa), rồi <code>hamlet cert install FILE</code>." },
	[M_CERT_SOON_ABOVE] = { "ENDS SOON: the chain ends in {2} days, with the certificate of {1}; then every other node refuses this one. Whoever certified {1} renews that certificate for the same key; this node needs nothing new: the renewal reaches it by sync or USB bundle.",
				"SẮP HẾT HẠN: chuỗi chứng chỉ hết hạn sau {2} ngày, cùng với chứng chỉ của {1}; sau đó mọi nút khác từ chối nút này. Người đã cấp chứng chỉ cho {1} gia hạn chứng chỉ đó cho cùng khóa; nút này không cần gì mới: bản gia hạn đến nút này qua đồng bộ hoặc gói dữ liệu USB." },
	[M_KEY] = { "Public key", "Khóa công khai" },
	[M_KEY_SHOW] = { "show", "hiện" },
	[M_KEY_HIDE] = { "hide", "ẩn" },
	[M_STORED] = { "Stored", "Đã lưu" },
	[M_RESTORING] = { "Own writes WAIT (in {1}): this node's store was restored or replaced and holds less there than the node signed. Writes there are refused until its peers send those entries back; hamletd fetches them by itself while it reaches them. With no network, a USB stick from the commune brings them (<code>hamlet summary</code> here, <code>hamlet bundle create --for</code> it there, <code>hamlet bundle import</code> here). <code>hamlet own-feeds</code> shows the seqs.",
			  "Việc ghi của nút này ĐANG CHỜ (trong {1}): kho dữ liệu của nút đã được khôi phục hoặc thay mới nên giữ ít hơn những gì nút đã ký ở đó. Việc ghi ở đó bị từ chối cho đến khi các nút ngang hàng gửi lại các mục nhập ấy; hamletd tự lấy về khi kết nối được tới chúng. Khi không có mạng, một gói dữ liệu mang bằng USB từ xã sẽ mang chúng về (<code>hamlet summary</code> tại đây, <code>hamlet bundle create --for</code> nó tại xã, <code>hamlet bundle import</code> tại đây). <code>hamlet own-feeds</code> cho biết các seq." },
	[M_RESTORING_REVOKED] = { "Own writes REFUSED: this node's key is revoked, and what it signed after the revocation took effect (in {1}) was taken out of its store. Every node refuses what it writes; nothing brings those entries back: the administrator certifies this PC anew, with a new key.",
				  "Việc ghi của nút này BỊ TỪ CHỐI: khóa của nút này đã bị thu hồi, và những gì nó ký sau khi lệnh thu hồi có hiệu lực (trong {1}) đã bị lấy ra khỏi kho dữ liệu. Mọi nút đều từ chối những gì nó ghi; không gì mang các mục nhập ấy trở lại được: người quản trị cấp chứng chỉ mới cho máy tính này, với một khóa mới." },
	[M_FEEDS_PROBLEM] = { "own-feeds: {1}", "own-feeds: {1}" },
	[M_UNRECORDED] = { "<code>own-feeds</code> records less than this node signed (in {1}): its guard against signing a seq twice is behind, and were the store lost or put back from a backup now, the node would sign those seqs again (a fork of its own feed). hamletd writes the file again by itself as soon as it can; its log says why it could not (often a full disk). <code>hamlet own-feeds</code> shows the seqs.",
			   "<code>own-feeds</code> ghi ít hơn những gì nút này đã ký (trong {1}): cơ chế chặn việc ký trùng một seq đang bị chậm, và nếu lúc này kho dữ liệu bị mất hoặc được khôi phục từ bản sao lưu thì nút sẽ ký lại các seq đó (một rẽ nhánh trong chuỗi của chính nút). hamletd sẽ tự ghi lại tập tin ngay khi có thể; nhật ký của hamletd cho biết vì sao chưa ghi được (thường là do đầy đĩa). <code>hamlet own-feeds</code> cho biết các seq." },
	[M_OWN_FORK] = { "This node's key signed two different entries at seq {2} of its feed {1}: this node writes nothing more in that feed, and what it wrote there after seq {2} reaches no other node. Either another PC uses this key (a copy of this node's files): stop that PC. Or this PC's store was put back from a backup and written in before it had synced with its peers: there is nothing to stop. Either way, call the administrator: the node needs a new key and certificate. <code>hamlet forks</code> shows both entries.",
			 "Khóa của nút này đã ký hai mục nhập khác nhau tại seq {2} của chuỗi {1}: nút này không ghi thêm gì vào chuỗi đó nữa, và những gì nút đã ghi vào đó sau seq {2} không đến được nút nào khác. Hoặc một máy tính khác đang dùng khóa này (một bản sao các tập tin của nút này): hãy dừng máy đó. Hoặc kho dữ liệu của máy này đã được khôi phục từ bản sao lưu và được ghi thêm trước khi kịp đồng bộ với các nút ngang hàng: khi đó không có máy nào cần dừng. Dù là trường hợp nào, hãy báo quản trị viên: nút cần một khóa và chứng chỉ mới. <code>hamlet forks</code> hiển thị cả hai mục nhập." },
	[M_OTHER_FORKS] = { "{1} feeds of other nodes are frozen after a fork: each one's key signed two different entries at one seq (a copied key, or a store put back from a backup). This node keeps both entries as evidence and takes nothing more those keys sign there. Call the administrator: it revokes those keys and certifies those PCs anew. <code>hamlet forks</code> shows both entries.",
			    "{1} chuỗi của các nút khác bị đóng băng sau khi rẽ nhánh: khóa của mỗi nút đó đã ký hai mục nhập khác nhau tại cùng một seq (khóa bị sao chép, hoặc kho dữ liệu được khôi phục từ bản sao lưu). Nút này giữ cả hai mục nhập làm bằng chứng và không nhận thêm gì các khóa đó ký ở đó. Hãy báo quản trị viên: quản trị viên thu hồi các khóa đó và cấp chứng chỉ mới cho các máy tính đó. <code>hamlet forks</code> hiển thị cả hai mục nhập." },
	[M_OTHER_FORKS_ONE] = { "1 feed of another node is frozen after a fork: its key signed two different entries at one seq (a copied key, or a store put back from a backup). This node keeps both entries as evidence and takes nothing more that key signs there. Call the administrator: it revokes that key and certifies that PC anew. <code>hamlet forks</code> shows both entries.",
				"1 chuỗi của một nút khác bị đóng băng sau khi rẽ nhánh: khóa của nút đó đã ký hai mục nhập khác nhau tại cùng một seq (khóa bị sao chép, hoặc kho dữ liệu được khôi phục từ bản sao lưu). Nút này giữ cả hai mục nhập làm bằng chứng và không nhận thêm gì khóa đó ký ở đó. Hãy báo quản trị viên: quản trị viên thu hồi khóa đó và cấp chứng chỉ mới cho máy tính đó. <code>hamlet forks</code> hiển thị cả hai mục nhập." },
	[M_PEERS] = { "Peers", "Các nút đồng bộ trực tiếp" },
	[M_OWN_UNREAD] = { "No connected peer takes what this node writes (its scope {1}): it stays here, though each peer is in sync with it. Point this node at a peer that reads {1} (<code>hamlet peers add HOST:PORT</code>; after a move, its new commune).",
			   "Không nút nào đang kết nối nhận những gì nút này ghi (phạm vi {1}): dữ liệu nằm lại ở đây, dù từng nút đều đã đồng bộ với nút này. Hãy trỏ nút này tới một nút đọc được {1} (<code>hamlet peers add HOST:PORT</code>; sau khi sáp nhập, là xã mới của nút)." },
	[M_WRITES_WAIT] = { "What this node writes waits for {1}, which is not connected, and no connected peer takes it: it reaches no one until that peer is back (its line below says why).",
			    "Những gì nút này ghi đang chờ {1}, nút đó hiện không kết nối, và không nút nào đang kết nối nhận chúng: dữ liệu chưa đến được ai cho đến khi nút đó kết nối lại (dòng của nút đó bên dưới cho biết lý do)." },
	[M_NO_PEERS] = { "No peer has connected since hamletd started. Check the cable or the line, and the addresses in <code>hamlet peers list</code>.",
			 "Chưa có nút nào kết nối từ khi hamletd khởi động. Kiểm tra dây mạng, đường truyền, và các địa chỉ trong <code>hamlet peers list</code>." },
	[M_NOSESSION] = { "{1}: CONNECTS, BUT NO SESSION STARTS after {2} (hamletd tries again by itself): ",
			  "{1}: KẾT NỐI ĐƯỢC NHƯNG KHÔNG BẮT ĐẦU ĐƯỢC PHIÊN sau {2} (hamletd tự thử lại): " },
	[M_STRANGERS] = { "And {1} keys that never completed a session (refused, or gone during the handshake).",
			  "Và {1} khóa chưa từng hoàn tất một phiên (bị từ chối, hoặc rời đi khi đang bắt tay)." },
	[M_ST_HELD] = { "connected, HOLDING BACK entries: the byte budget for this peer is used up",
			"đã kết nối, ĐANG GIỮ LẠI các mục: đã dùng hết hạn mức dữ liệu cho nút đó" },
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
	[M_WAIT_NONE] = { "Nothing here is waiting to go out to a peer.",
			  "Không có mục nào ở đây đang chờ gửi tới các nút." },
	[M_WAIT_SOME] = { "{1} entries are waiting to go out; they leave at the next sync with the peer (or, held back by a byte budget, when it allows).",
			  "{1} mục đang chờ gửi đi; chúng sẽ được gửi ở lần đồng bộ kế tiếp với nút kia (hoặc, nếu bị hạn mức dữ liệu giữ lại, khi hạn mức cho phép)." },
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
	[M_LAG_SOME] = { "{1} of {2} nodes not heard from for more than 24 hours, or never.",
			 "{1} trên {2} nút không có tin quá 24 giờ, hoặc chưa từng có tin." },
	[M_LAG_DO] = { "Call them, or bring their data on a USB stick (<code>hamlet bundle</code>). Details: <code>hamlet report lag</code>.",
		       "Hãy gọi điện cho họ, hoặc mang dữ liệu bằng USB (<code>hamlet bundle</code>). Chi tiết: <code>hamlet report lag</code>." },
	[M_COL_NODE] = { "Node", "Nút" },
	[M_COL_HEARD] = { "Last heard", "Tin mới nhất" },
	[M_COL_VIA] = { "Through", "Qua" },
	[M_NEVER_HEARD] = { "never heard from", "chưa bao giờ có tin" },
	[M_BEHIND] = { "behind", "chậm" },
	[M_ON_TIME] = { "on time", "bình thường" },
	[M_LAG_REVOKED] = { "revoked: not counted", "đã thu hồi: không tính" },
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
	[M_WHY_PEER_CERT] = { "The PC there answers, but this node refuses it: its certificate does not hold here (revoked, or ended). A node whose key is revoked never syncs again: ask the administrator to point this node at another peer. Otherwise that node needs a valid certificate.",
			      "Máy ở đó có trả lời nhưng nút này từ chối nó: chứng chỉ của nút đó không còn hiệu lực ở đây (bị thu hồi hoặc đã hết hạn). Nút có khóa bị thu hồi sẽ không bao giờ đồng bộ lại: hãy nhờ quản trị viên cho nút này kết nối với một nút khác. Nếu không, nút đó cần một chứng chỉ hợp lệ." },
	[M_WHY_NOT_HAMLET] = { "The PC there takes the connection, but no hamlet node answers on it (or the line is too slow): the address or port may be wrong. Call the administrator to check it.",
			       "Máy ở đó nhận kết nối nhưng không có nút hamlet nào trả lời (hoặc đường truyền quá chậm): có thể địa chỉ hoặc cổng bị sai. Hãy báo quản trị viên kiểm tra." },
	[M_WHY_HANDSHAKE] = { "The PC there runs hamlet, but the two nodes cannot start a secure session: most often that node is of another network (another network key), or the line is too slow. Call the administrator: that node's log says why.",
			      "Máy ở đó có chạy hamlet nhưng hai nút không mở được phiên an toàn: thường là do nút đó thuộc một mạng khác (khóa mạng khác), hoặc đường truyền quá chậm. Hãy báo quản trị viên: nhật ký của nút đó ghi lý do." },
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
	/* as hamlet status words it: an entry over a whole budget waits
	 * until the budget is raised, not for tomorrow */
	[M_HELD_BIG] = { "{1} entries wait: one of {2} is larger than the whole budget for {4} ({3}), and nothing goes after it until the budget is raised.",
			 "{1} mục đang chờ: có một mục {2} lớn hơn toàn bộ hạn mức cho {4} ({3}), và không mục nào sau nó được gửi cho đến khi nâng hạn mức." },
	[M_HELD_BIG_ONE] = { "1 entry waits: it is {2}, larger than the whole budget for {4} ({3}), and goes only once the budget is raised.",
			     "1 mục đang chờ: mục này {2}, lớn hơn toàn bộ hạn mức cho {4} ({3}), và chỉ được gửi khi nâng hạn mức." },
	[M_DO_HELD_BIG] = { "Waiting changes nothing. Ask the administrator to raise the budget (<code>[budget]</code> in hamletd's configuration, then <code>systemctl reload hamletd</code>), or carry the entries on a USB stick (<code>hamlet bundle</code>).",
			    "Chờ thêm cũng không thay đổi gì. Hãy nhờ quản trị viên nâng hạn mức (<code>[budget]</code> trong cấu hình hamletd, rồi <code>systemctl reload hamletd</code>), hoặc mang dữ liệu bằng USB (<code>hamlet bundle</code>)." },
	[M_ST_AHEAD] = { "connected, NOT IN SYNC: it refuses entries sent to it, dated too far ahead of its clock",
			 "đã kết nối, CHƯA ĐỒNG BỘ: nút đó từ chối các mục nhập gửi tới vì ghi ngày quá xa so với đồng hồ bên đó" },
	[M_AHEAD_OUT] = { "{1} entries sent to it were refused as dated more than 24 h ahead of its clock: they have not arrived.",
			  "{1} mục gửi tới đã bị từ chối vì ghi ngày quá 24 giờ so với đồng hồ bên đó: các mục này chưa tới nơi." },
	[M_AHEAD_OUT_ONE] = { "1 entry sent to it was refused as dated more than 24 h ahead of its clock: it has not arrived.",
			      "1 mục gửi tới đã bị từ chối vì ghi ngày quá 24 giờ so với đồng hồ bên đó: mục này chưa tới nơi." },
	[M_DO_AHEAD] = { "Check the date and time of this PC (and of that one) and set them right; what was written with the wrong date goes once the clock there is within a day of it.",
			 "Hãy kiểm tra ngày giờ của máy này (và của máy bên đó) rồi chỉnh cho đúng; những gì đã ghi với ngày sai sẽ được nhận khi đồng hồ bên đó còn cách ngày ấy chưa tới một ngày." },
	[M_ST_CERT_OLD] = { "not connected: its certificate no longer holds",
			    "không kết nối: chứng chỉ của nút đó không còn hiệu lực" },
	[M_DO_CERT_OLD] = { "Its certificate no longer holds (it has ended, or whoever issued it was revoked): every node refuses it until the administrator certifies it again, and what waits for it here goes then. Nothing to do here. If that PC should still be part of the network, tell the administrator.",
			    "Chứng chỉ của nút đó không còn hiệu lực (đã hết hạn, hoặc người cấp chứng chỉ đã bị thu hồi): mọi nút đều từ chối nó cho tới khi quản trị viên cấp lại chứng chỉ, và những gì ở đây đang chờ gửi cho nó sẽ được gửi khi đó. Ở đây không cần làm gì. Nếu máy đó vẫn cần thuộc mạng, hãy báo cho quản trị viên." },
	[M_ST_REVOKED] = { "not connected: its key is revoked",
			   "không kết nối: khóa của nút đó đã bị thu hồi" },
	[M_DO_REVOKED] = { "Its key was revoked (a PC stolen or retired, say): every node refuses it, and nothing here waits for it. What it wrote before stays. Nothing to do here, and no need to call them. If that place needs a node again, the administrator certifies the new PC's key.",
			   "Khóa của nút đó đã bị thu hồi (chẳng hạn máy bị mất cắp hoặc thôi dùng): mọi nút đều từ chối nó, và ở đây không có gì chờ nó. Những gì nó đã ghi trước đó vẫn được giữ. Ở đây không cần làm gì, cũng không cần gọi điện cho họ. Nếu nơi đó cần một nút trở lại, quản trị viên cấp chứng chỉ cho khóa của máy mới." },
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
			     "Bản ghi nào: <code>hamlet conflicts</code> (dòng CẢNH BÁO: hai nút đã ghi giá trị person_id khác nhau dưới cùng một mã này). Cách làm: docs/operator-guide.vi.md, \"Một mã bản ghi, hai người\"." },
	[M_PROB_TWO_DEL] = { "<b>{1} {2}</b> with ONE RECORD ID FOR TWO PEOPLE, one village's part deleted already: two villages gave the same id to two different residents, and one of them has deleted its part.",
			     "<b>{1} {2}</b> có MỘT MÃ BẢN GHI CHO HAI NGƯỜI, phần của một thôn đã bị xóa: hai thôn đã dùng cùng một mã cho hai người khác nhau, và một thôn đã xóa phần của mình." },
	[M_PROB_TWO_DEL_DO] = { "Do not resolve by choosing a value: that would give one person the other's data. On each village's node that has not done so yet, enter its own resident again under a new id of its own (with the village's prefix), then delete the shared id once, at the commune (or any node that holds both villages' records, as this one does). As one village deleted its part already, a plain delete is refused there: delete it with a resolution, which reaches both villages:",
				"Đừng xử lý bằng cách chọn một giá trị: làm vậy sẽ gán dữ liệu của người này cho người kia. Tại nút của thôn nào chưa làm, hãy nhập lại người của thôn mình dưới một mã mới riêng (có tiền tố của thôn), rồi xóa mã dùng chung một lần, tại xã (hoặc tại nút nào giữ bản ghi của cả hai thôn, như nút này). Vì một thôn đã xóa phần của mình, lệnh xóa thông thường sẽ bị từ chối: hãy xóa bằng một lệnh giải quyết, lệnh này đến được cả hai thôn:" },
	[M_LAG_ALL_OK_ONE] = { "The one node known here was heard from within 24 hours.",
			       "Nút duy nhất đã biết có tin trong vòng 24 giờ." },
	[M_LAG_SOME_ONE] = { "The one node known here has not been heard from for more than 24 hours, or never.",
			     "Nút duy nhất đã biết không có tin quá 24 giờ, hoặc chưa từng có tin." },
	[M_STRANGERS_ONE] = { "And 1 key that never completed a session (refused, or gone during the handshake).",
			      "Và 1 khóa chưa từng hoàn tất một phiên (bị từ chối, hoặc rời đi khi đang bắt tay)." },
	[M_WAIT_SOME_ONE] = { "1 entry is waiting to go out; it leaves at the next sync with the peer (or, held back by a byte budget, when it allows).",
			      "1 mục đang chờ gửi đi; mục này sẽ được gửi ở lần đồng bộ kế tiếp với nút kia (hoặc, nếu bị hạn mức dữ liệu giữ lại, khi hạn mức cho phép)." },
	[M_HELD_ONE] = { "1 entry received waits for an earlier one that has not arrived yet.",
			 "1 mục nhận được đang chờ một mục trước đó chưa đến." },
	[M_PROB_COUNT_ONE] = { "1 record needs a decision.", "1 bản ghi cần xử lý." },
	[M_STORED_FIG] = { "{1} entries, {2} written here", "{1} mục, {2} mục viết tại đây" },
	[M_STORED_FIG_ONE] = { "1 entry, {2} written here", "1 mục, {2} mục viết tại đây" },
	[M_LAG_CERT_SOON_ONE] = { "ENDS SOON: the certificate of {1} ends in 1 day; then every node refuses it. Whoever issued it (this office, or the one above) renews it for the same key: <code>hamlet cert issue</code>, as the administrator's guide says under \"Renew a certificate\".",
				  "SẮP HẾT HẠN: chứng chỉ của {1} hết hạn sau 1 ngày; sau đó mọi nút đều từ chối nút đó. Nơi đã cấp (văn phòng này, hoặc cấp trên) gia hạn cho cùng khóa đó: <code>hamlet cert issue</code>, như hướng dẫn quản trị nói ở mục \"Renew a certificate\"." },
	[M_LAG_CERT_SOON_DAY] = { "ENDS SOON: the certificate of {1} ends within a day; then every node refuses it. Whoever issued it (this office, or the one above) renews it for the same key: <code>hamlet cert issue</code>, as the administrator's guide says under \"Renew a certificate\".",
				  "SẮP HẾT HẠN: chứng chỉ của {1} hết hạn trong vòng một ngày; sau đó mọi nút đều từ chối nút đó. Nơi đã cấp (văn phòng này, hoặc cấp trên) gia hạn cho cùng khóa đó: <code>hamlet cert issue</code>, như hướng dẫn quản trị nói ở mục \"Renew a certificate\"." },
	[M_LAG_CERT_SOON] = { "ENDS SOON: the certificate of {1} ends in {2} days; then every node refuses it. Whoever issued it (this office, or the one above) renews it for the same key: <code>hamlet cert issue</code>, as the administrator's guide says under \"Renew a certificate\".",
			      "SẮP HẾT HẠN: chứng chỉ của {1} hết hạn sau {2} ngày; sau đó mọi nút đều từ chối nút đó. Nơi đã cấp (văn phòng này, hoặc cấp trên) gia hạn cho cùng khóa đó: <code>hamlet cert issue</code>, như hướng dẫn quản trị nói ở mục \"Renew a certificate\"." },
};

static const struct {
	const char *name, *vi;
} roles[] = {
	{ "village", "thôn" },	 { "commune", "xã" },
	{ "district", "huyện" }, { "province", "tỉnh" },
	{ "auditor", "kiểm tra" },
};

const char *page__T(const struct out *o, enum msg m)
{
	return texts[m][o->lang];
}

/* --- escaping and filling -------------------------------------------------- */

void page__esc(FILE *f, const char *s)
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
void page__fillv(FILE *f, const char *t, const char *const *arg, int n)
{
	for (; *t; t++) {
		if (t[0] == '{' && t[1] >= '1' && t[1] < '1' + n && t[2] == '}') {
			page__esc(f, arg[t[1] - '1']);
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
	page__fillv(f, t, arg, 2);
}

void page__say(const struct out *o, enum msg m, const char *a, const char *b)
{
	fill(o->f, page__T(o, m), a, b);
}

/* m, or m_one when n is 1: the English singular (Vietnamese has the
 * same words for both, or a sentence of its own for one). */
enum msg page__one_or(uint64_t n, enum msg m_one, enum msg m)
{
	return n == 1 ? m_one : m;
}

void page__num(const struct out *o, char buf[24], uint64_t v)
{
	char t[32];
	/* thousands apart as the page's language writes them: 65.000 in
	 * Vietnamese, 65,000 in English (plain digits past what fits) */
	i18n_count_as(v, t, o->lang == PAGE_VI);
	if (strlen(t) < 24)
		memcpy(buf, t, strlen(t) + 1);
	else
		snprintf(buf, 24, "%llu", (unsigned long long)v);
}

/* --- JSON ------------------------------------------------------------------ */

const char *page__jstr(const json_t *j, const char *k)
{
	return json_string_value(json_object_get(j, k));
}

uint64_t page__ju64(const json_t *j, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(j, k));
	return v > 0 ? (uint64_t)v : 0;
}

/* --- words ----------------------------------------------------------------- */

const char *page__role_word(const struct out *o, const char *role)
{
	if (!role)
		return "";
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(roles[i].name, role) == 0)
			return o->lang == PAGE_VI ? roles[i].vi : role;
	return role;
}

/* "5 minutes ago" / "5 phút trước". */
void page__ago(const struct out *o, uint64_t ms, char *buf, size_t n)
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
void page__when(const struct out *o, uint64_t ms, char *buf, size_t n,
		char *iso, size_t in)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t k;
	if (!localtime_r(&t, &tm)) {
		snprintf(buf, n, "?");
		snprintf(iso, in, "?");
		return;
	}
	k = i18n_when_as(&tm, I18N_TIME, o->lang == PAGE_VI, buf, n);
	strftime(buf + k, n - k, " %Z", &tm);
	strftime(iso, in, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

/* <time> with the local time and, below it, how long ago. */
void page__time_cell(const struct out *o, uint64_t ms)
{
	char t[64], iso[40], a[48];
	page__when(o, ms, t, sizeof(t), iso, sizeof(iso));
	page__ago(o, ms, a, sizeof(a));
	fputs("<time datetime=\"", o->f);
	page__esc(o->f, iso);
	fputs("\">", o->f);
	page__esc(o->f, t);
	fputs("</time><br><small class=\"ago\">", o->f);
	page__esc(o->f, a);
	fputs("</small>", o->f);
}

/* A node's label: its certificate's name, else "key 1a2b3c4d…". */
void page__node_label(const struct out *o, const char *name,
		      const char *hexkey, char *buf, size_t n)
{
	if (name && *name)
		snprintf(buf, n, "%s", name);
	else
		snprintf(buf, n, "%s %.8s…", page__T(o, M_KEYWORD),
			 hexkey ? hexkey : "?");
}

/* --- table cells ------------------------------------------------------------ */

/* <td> whose content is one block (the phone layout puts its label
 * beside it); td_end closes it. */
void page__td(const struct out *o, const char *cls, enum msg label)
{
	fprintf(o->f, "<td%s%s%s data-label=\"%s\"><div class=\"v\">",
		cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "",
		page__T(o, label));
}

void page__td_end(const struct out *o)
{
	fputs("</div></td>", o->f);
}
