#!/usr/bin/env bash
# Vietnamese messages: with LANG=vi_VN.UTF-8, help, a schema error from
# put, status, conflicts and verify speak Vietnamese; in the C locale,
# English; and --json output is byte for byte the same in both.
#   tests/scenario_vi.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
. "$(dirname "$0")/testlib.sh"
if ! locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\?8'; then
	echo "skipped: the locale vi_VN.UTF-8 is not generated here (locale -a lacks vi_VN.utf8; build.sh's ensure_locale makes it)"
	exit 77
fi
tests_scratch vi
# the same command in each locale: output (stdout and stderr) in $T/vi, $T/en
vi() { LC_ALL=vi_VN.UTF-8 LANGUAGE= "$H" "$@"; }
en() { LC_ALL=C LANGUAGE= "$H" "$@"; }
both() { vi "$@" >"$T/vi" 2>&1; vi_rc=$?; en "$@" >"$T/en" 2>&1; en_rc=$?; }
# says LOCALE TEXT DESCRIPTION: $T/LOCALE holds TEXT
says() {
	if grep -qF -- "$2" "$T/$1"; then ok "$3"; else fail "$3 (no \"$2\")"; sed 's/^/    /' "$T/$1" | head -10; fi
}
same_json() { # DESCRIPTION COMMAND...: --json output identical in both locales
	local d=$1; shift
	vi --json "$@" >"$T/vi.json" 2>/dev/null
	en --json "$@" >"$T/en.json" 2>/dev/null
	if [ -s "$T/en.json" ] && cmp -s "$T/vi.json" "$T/en.json"; then ok "$d"
	else fail "$d"; diff "$T/en.json" "$T/vi.json" | head -10; fi
}
exchange() { # FROM TO
	N "$2" summary --out "$T/$2.sum" >/dev/null &&
	N "$1" bundle create --for "$T/$2.sum" "$T/$1-$2.bundle" >/dev/null &&
	N "$2" bundle import "$T/$1-$2.bundle" >/dev/null
}

# two nodes of one commune, and one record both change apart: a conflict
check "network created" en network create demo --out "$T"
# installed under another prefix than the one configured (a staging
# install, PREFIX/bin and PREFIX/share/locale): Vietnamese all the same
mkdir -p "$T/prefix/bin" "$T/prefix/share"
cp "$H" "$T/prefix/bin/hamlet" && cp -r "$(dirname "$H")/../locale" "$T/prefix/share/locale"
check "a hamlet installed under another prefix finds its catalogs in PREFIX/share/locale" bash -c \
	"env -u HAMLET_LOCALEDIR LC_ALL=vi_VN.UTF-8 LANGUAGE= '$T/prefix/bin/hamlet' --help | head -1 | grep -q 'đồng bộ bản ghi có chữ ký'"
mkdir -p "$T/copy" && cp "$H" "$T/copy/hamlet" && cp -r "$(dirname "$H")/../locale" "$T/copy/locale"
check "a copy of hamlet with its catalogs beside it (DIR/hamlet, DIR/locale) speaks Vietnamese too" bash -c \
	"env -u HAMLET_LOCALEDIR LC_ALL=vi_VN.UTF-8 LANGUAGE= '$T/copy/hamlet' --help | head -1 | grep -q 'đồng bộ bản ghi có chữ ký'"
check "node A" en --home "$T/a" init --network "$T/demo.network" --name a --scope bk/bt/qt
check "node B" en --home "$T/b" init --network "$T/demo.network" --name b --scope bk/bt/qt
check "A certified" certify "$T/demo.root.key" a
check "B certified" certify "$T/demo.root.key" b
check "A writes HP-1" N a put health_profile HP-1 '{"person_id":"001200000001","full_name":"Lò Thị Mai","birth_date":"1990-01-02","sex":"female","village":"na-pai"}'
check "A to B" exchange a b
check "A changes the phone" N a put health_profile HP-1 '{"phone":"0912000001"}'
check "B changes the phone" N b put health_profile HP-1 '{"phone":"0987000002"}'
check "B to A" exchange b a

both help
says vi "Cách dùng" "help: Vietnamese"
says en "usage:" "help: English"
# help quotes what the program prints in Vietnamese, not its English
says vi 'hiện là "nút không xác định"' "help: --keys quotes the Vietnamese label of a key without a certificate"
says vi "HAMLET_SOCKET" "help: the environment lists HAMLET_SOCKET"
# (as one line: help wraps its text)
vi help report 2>&1 | tr -s '\n ' '  ' >"$T/vi.report"
vi help access-log 2>&1 | tr -s '\n ' '  ' >"$T/vi.access"
check "help report quotes \"chưa từng nhận tin\", as report lag prints it" grep -qF '"chưa từng nhận tin"' "$T/vi.report"
check "help access-log quotes \"chuỗi băm nguyên vẹn\", as access-log prints it" grep -qF '"chuỗi băm nguyên vẹn"' "$T/vi.access"
check "and no English output is quoted in them" bash -c "! cat '$T/vi' '$T/vi.report' '$T/vi.access' | grep -qE 'unknown node|never heard from|hash chain intact|một WARNING'"

both --home "$T/a" put health_profile HP-1 '{"colour":"red"}'
[ "$vi_rc" = 4 ] && [ "$en_rc" = 4 ] && ok "put: a bad field exits 4 in both" || fail "put: exit $vi_rc / $en_rc, not 4"
says vi 'trường không xác định "colour" trong health_profile' "put: the schema error in Vietnamese"
says en 'unknown field "colour" in health_profile' "put: the schema error in English"

# an import's impossible date: the cell as typed and why, in both languages
printf 'id;ho ten;ngay sinh;gioi tinh;so cccd\r\nHP-7;Hà Thị Lan;31/02/2026;nữ;001200000007\r\n' >"$T/date.csv"
both --home "$T/a" import health_profile --format csv "$T/date.csv"
[ "$vi_rc" = 4 ] && [ "$en_rc" = 4 ] && ok "import: an impossible date exits 4 in both" || fail "import: exit $vi_rc / $en_rc, not 4"
says vi 'dòng 2: birth_date: "31/02/2026" không phải là ngày: tháng 2 năm 2026 có 28 ngày, không có ngày 31' "import: the date's problem in Vietnamese"
says en 'row 2: birth_date: "31/02/2026" is not a date: month 2 of 2026 has 28 days, there is no day 31' "import: the date's problem in English"

# malformed JSON and CSV: the parsers' reasons in the user's language too
printf '{"id":"HP-9","full_name":"A"\n{"id":"HP-10","phone": tru}\n' >"$T/bad.ndjson"
both --home "$T/a" import health_profile --format ndjson "$T/bad.ndjson"
[ "$vi_rc" = 4 ] && [ "$en_rc" = 4 ] && ok "import: malformed JSON lines exit 4 in both" || fail "import: exit $vi_rc / $en_rc, not 4"
says vi "dòng 1: JSON không hợp lệ: dòng kết thúc trước khi đối tượng kết thúc (thiếu một dấu } hoặc một dấu ngoặc kép): chỗ này cần dấu '}' ở cuối văn bản" "import: a line cut short, jansson's reason in Vietnamese"
says vi "dòng 2: JSON không hợp lệ tại cột 26: có chữ không hợp lệ (chuỗi phải nằm trong ngoặc kép), gần 'tru'" "import: a bad token, jansson's reason in Vietnamese"
says en "line 2: invalid JSON at column 26: invalid token near 'tru'" "import: the same in English"
if grep -qE "expected|invalid token|near" "$T/vi"; then fail "import: no English from jansson in Vietnamese"; sed 's/^/    /' "$T/vi"; else ok "import: no English from jansson in Vietnamese"; fi
both --home "$T/a" put health_profile HP-9 '{"full_name": "x",}'
says vi "JSON không hợp lệ trong các trường tại dòng 1, cột 19: chỗ này cần một tên trường trong ngoặc kép hoặc dấu '}', gần '}'" "put: bad fields, jansson's reason in Vietnamese"
printf 'id,ho ten\nHP-11,"ab"c\n' >"$T/quote.csv"
both --home "$T/a" import health_profile --format csv "$T/quote.csv"
says vi "CSV không hợp lệ (dấu ngoặc kép đặt sai chỗ)" "import: libcsv's reason in Vietnamese"
says en "not valid CSV (error parsing data while strict checking enabled)" "import: libcsv's reason in English"

# a file saved in Windows-1258: said so, in words, and none of its bytes
printf 'M\x61\xde b\x61\xd2n ghi;H\xd2 t\xean\r\nHP-8;A\r\n' >"$T/cp1258.csv"
both --home "$T/a" import health_profile --format csv "$T/cp1258.csv"
says vi 'cp1258.csv không phải văn bản UTF-8: tệp được lưu bằng bảng mã khác' "import: a file not in UTF-8, in Vietnamese"
says vi '"CSV UTF-8 (Comma delimited)"' "import: with how to save it as CSV UTF-8"
if python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8")' <"$T/vi"; then ok "import: no byte of it on the terminal"; else fail "import: no byte of it on the terminal"; fi

both --home "$T/a" status
says vi "xung đột: 1 bản ghi cần được quyết định" "status: Vietnamese"
says vi "dịch vụ hamletd: không chạy" "status: the daemon line in Vietnamese"
says en "conflicts: 1 record needs a decision" "status: English"

both --home "$T/a" conflicts
says vi "1 bản ghi có xung đột chưa giải quyết" "conflicts: Vietnamese"
says vi "XUNG ĐỘT Số điện thoại (phone): '0" "conflicts: the field's line in Vietnamese, its label beside its name"
says en "1 record with open conflicts" "conflicts: English"

# an amount reads as the reader writes numbers: 1.500.000 in Vietnamese
# (put takes it so), as stored in English and in --json
check "A writes a payment" N a put payment PAY-1 '{"program":"social_allowance","beneficiary_id":"001200000001","period":"12/2026","amount_vnd":1500000,"status":"created"}'
both --home "$T/a" get payment PAY-1
says vi "Số tiền (amount_vnd):" "get payment: the amount's label in Vietnamese"
says vi " 1.500.000" "get payment: the amount grouped the Vietnamese way"
says en "amount_vnd: 1500000" "get payment: the amount as stored in English"
both --home "$T/a" history payment PAY-1
says vi " 1.500.000" "history payment: the amount grouped the Vietnamese way"
same_json "get --json is the same in both locales" --home "$T/a" get payment PAY-1

both --home "$T/a" verify
says vi "verify: tốt: mọi chữ ký, chuỗi băm và seq đều đúng" "verify: Vietnamese"
says en "verify: ok: every signature, hash chain and seq checks out" "verify: English"

# a bundle altered on the way: its problems are kept in English for JSON
# and shown translated
check "A writes an unsealed bundle" N a bundle create --unsealed "$T/all.bundle"
size=$(stat -c %s "$T/all.bundle")
printf '\377\377\377\377' | dd of="$T/all.bundle" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
both --home "$T/a" verify --bundle "$T/all.bundle"
[ "$vi_rc" = 6 ] && [ "$en_rc" = 6 ] && ok "verify --bundle: damaged in both" || fail "verify --bundle: exit $vi_rc / $en_rc, not 6"
says vi "verify: HƯ HỎNG: gói dữ liệu bị hỏng" "verify --bundle: Vietnamese"
says vi "  phần kết: mã băm của phần kết không khớp" "verify --bundle: the problem's kind and sentence in Vietnamese"
says en "  trailer: trailer hash does not match" "verify --bundle: the problem in English"
same_json "verify --bundle --json is the same in both locales" --home "$T/a" verify --bundle "$T/all.bundle"

# a refused entry's reason is stored: English, even when the import that
# refused it ran in Vietnamese. C writes before it is certified, then is
# granted a sub-scope only: that first entry lies outside its grant.
check "node C" en --home "$T/c" init --network "$T/demo.network" --name c --scope bk/bt/qt
check "C writes HP-C" N c put health_profile HP-C '{"person_id":"001200000003","full_name":"Hà Văn Chung","birth_date":"1985-05-05","sex":"male","village":"na-pai"}'
check "C certified for bk/bt/qt/xa only" certify "$T/demo.root.key" c bk/bt/qt/xa bk/bt/qt/xa
check "C writes HP-C2 in its grant" N c put --scope bk/bt/qt/xa health_profile HP-C2 '{"person_id":"001200000004","full_name":"Hà Thị Hoa","birth_date":"1987-07-07","sex":"female","village":"na-pai"}'
check "C writes a bundle" N c bundle create --unsealed "$T/c.bundle"
vi --home "$T/a" bundle import "$T/c.bundle" >"$T/vi" 2>&1
says vi "  bị từ chối: mục nhập tại byte" "import in Vietnamese: C's entry refused"
en --home "$T/a" --json verify --report >"$T/en.json" 2>/dev/null
if grep -q '"not_granted"' "$T/en.json" && grep -q 'does not let it write' "$T/en.json" &&
   ! LC_ALL=C grep -q '[^ -~]' "$T/en.json"; then
	ok "the stored reason is English"
else
	fail "the stored reason is English"; grep -n 'why' "$T/en.json" | head -5
fi

# token list: the columns line up in Vietnamese too, "(mọi phạm vi)"
# padded by its letters, not its bytes
check "a token of every scope" N a token create --name wr2 --role write
check "and one of a scope" N a token create --name reconciler --role read --scope bk/bt/qt
vi --home "$T/a" token list >"$T/vi" 2>&1
check "token list: the column after the scope starts at the same place on both rows" python3 -c "
import sys
rows = [l for l in open(sys.argv[1], encoding='utf-8') if 'tạo lúc' in l]
cols = {l.index('tạo lúc') for l in rows}
assert len(rows) == 2 and len(cols) == 1, rows" "$T/vi"

# files cut short on the stick: said so, in the reader's language
N a summary --out "$T/a.sum" >/dev/null
head -c 200 "$T/a.sum" >"$T/cut.sum"
both --home "$T/b" bundle create --for "$T/cut.sum" "$T/x.bundle"
says vi "bản tóm tắt $T/cut.sum bị cắt cụt hoặc bị hỏng. Hãy ghi lại bản tóm tắt tại nút đã tạo ra nó" "a summary cut short: Vietnamese, the reason too"
says en "summary $T/cut.sum is cut short or damaged. Write it again at the node that made it" "a summary cut short: English"
head -c 7 "$T/c.bundle" >"$T/cut.bundle"
both --home "$T/a" bundle import "$T/cut.bundle"
says vi "$T/cut.bundle bị cắt cụt: chỉ còn 7 byte đầu (hãy chép lại từ nút đã tạo ra nó)" "a bundle cut inside its first bytes: Vietnamese"

# a revocation the trust set refuses: its reason in the reader's language,
# and a key no node knows named as such (from a commune that may certify)
check "commune node" en --home "$T/com" init --network "$T/demo.network" --name com --scope bk/bt
check "commune certified, may delegate" bash -c "'$H' cert issue --root-key '$T/demo.root.key' --to \"\$(sed -n 's/^public_key = //p' '$T/com/node.conf')\" --name com --role commune --read bk/bt --write bk/bt --delegate --out '$T/com.cert' >/dev/null && '$H' --home '$T/com' cert install '$T/com.cert' >/dev/null"
both --home "$T/com" cert revoke "$(printf 'ab%.0s' $(seq 32))" --issuer-home "$T/com"
[ "$vi_rc" != 0 ] && [ "$en_rc" != 0 ] && ok "revoke by a village: refused in both" || fail "revoke: exit $vi_rc / $en_rc"
says vi "lệnh thu hồi bị từ chối: việc thu hồi được ký bằng một khóa không phải khóa gốc" "revoke: the trust set's reason in Vietnamese"
says en "the revocation is refused: revocation signed by a key that is neither the root nor an administrator over its subject" "revoke: the trust set's reason in English"
says vi "ở đây không biết chứng chỉ nào của khóa abab" "revoke of an unknown key: said so, in Vietnamese"
says en "no certificate of key abab" "revoke of an unknown key: said so, in English"

# status with a certificate that has ended: its date, and what to do
HAMLET_CLOCK_OFFSET_MS=$((20 * 365 * 86400000)) both --home "$T/a" status
says vi "đã hết hạn: nó có hiệu lực đến 20" "status, expired: the end date, in Vietnamese"
says vi "hãy xin quản trị viên một chứng chỉ mới, rồi chạy hamlet cert install TỆP" "status, expired: the remedy, in Vietnamese"
says en "has expired: it held until 20" "status, expired: the end date, in English"
says en "ask the administrator for a new certificate, then hamlet cert install FILE" "status, expired: the remedy, in English"

same_json "status --json is the same in both locales" --home "$T/a" status
# a refusal of a scope move's own fields, from the trust items' checks
vi --home "$T/a" scope move bk/bt bk/bt/x --root-key "$T/demo.root.key" >"$T/move.out" 2>&1
check "a scope move onto itself is refused in Vietnamese, the reason too" \
	grep -q 'bk/bt/x nằm tại hoặc dưới bk/bt: việc chuyển sẽ ánh xạ phạm vi vào chính nó mãi mãi' "$T/move.out"
same_json "conflicts --json is the same in both locales" --home "$T/a" conflicts
same_json "verify --json is the same in both locales" --home "$T/a" verify

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
