#!/usr/bin/env bash
# The status page in a real browser: a commune C (bk/c1) hears the
# villages V1 and V2; V9 is certified but never comes online. V1 and V2
# enter the same person twice (a duplicate), C and an offline V1 change
# one record (a conflict), V2 stops and C writes on (entries waiting to
# go out). Headless chromium loads C's page in Vietnamese (Accept-Language)
# and in English (?lang=en), and what it shows is checked against
# `hamlet status --json`: the node's name, each peer's name and waiting
# entries, the conflict and duplicate counts, the times in the system's
# zone; the lag table names V9. A screenshot at phone width is kept in
# the build's test output directory.
#   tests/scenario_page.sh PATH/TO/hamlet PATH/TO/hamletd [OUTDIR]
# Skipped (77) only when chromium cannot be found or run; python3 and curl
# are build.sh's dependencies. Every wait is bounded; everything listens
# on 127.0.0.1.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd [OUTDIR]}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd [OUTDIR]}
OUT=${3:-$PWD}
. "$(dirname "$0")/testlib.sh"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "chromium is not installed (Debian package chromium): skipped"; exit 77; }
tests_scratch page
# browser ARGS...: headless chromium, nothing fetched but what it is told,
# a fresh profile each time, at most LIMIT seconds (30 unless set)
LIMIT=30
browser() {
	timeout "$LIMIT" "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$(mktemp -d "$T/profile-XXXXXX")" "$@" 2>>"$T/chromium.log"
}
# its first start on a busy machine (a test suite beside it) can take
# longer than a page does later: up to 60 s, twice, before it is taken
# for one that does not run
LIMIT=60
browser --dump-dom "data:text/html,<p>ok</p>" | grep -q '<p>ok</p>' ||
	browser --dump-dom "data:text/html,<p>ok</p>" | grep -q '<p>ok</p>' ||
	{ echo "chromium does not run here: skipped"; sed 's/^/    /' "$T/chromium.log" | tail -5; exit 77; }
LIMIT=30
ROOT=$T/bk.root.key
profile() {
	N "$1" put health_profile "$2" "{\"person_id\":\"$3\",\"full_name\":\"$4\",\"birth_date\":\"1990-01-01\"}"
}

check "network created" "$H" network create bk --out "$T"
for spec in C:bk/c1 V1:bk/c1/v1 V2:bk/c1/v2 V9:bk/c1/v9; do
	n=${spec%%:*} s=${spec#*:}
	check "$n joins with scope $s" N "$n" init --network "$T/bk.network" --name "${n,,}" --scope "$s"
done
# until a day: its end is midnight UTC after it, which Hanoi sees at 07:00
check "the root certifies C, a commune, until the end of 2099-12-30" issue C commune bk/c1 --root-key "$ROOT" --delegate --expires 2099-12-30
for n in V1 V2 V9; do
	check "C certifies $n" issue $n village bk/c1/${n,,} --issuer-home "$T/C"
done

export TZ=Asia/Ho_Chi_Minh # the times on the page are in this zone
start_http C && ok "C's daemon serves the page" || { fail "C's daemon serves the page"; tests_done; exit 1; }
URL=http://127.0.0.1:$HP
start V1 --peer 127.0.0.1:${PORTOF[C]} && ok "V1 dials C" || fail "V1 dials C"
start V2 --peer 127.0.0.1:${PORTOF[C]} && ok "V2 dials C" || fail "V2 dials C"
# V9 comes online once through V1, writes nothing, and stops: C gets its
# certificate, never a word from it
start V9 --peer 127.0.0.1:${PORTOF[V1]} && ok "V9 dials V1" || fail "V9 dials V1"
check "V9's certificate reaches C (20 s)" within 20 bash -c "'$H' --home '$T/C' report lag --threshold 1h | grep -q '^V9 (village, bk/c1/v9): never heard from'"
stop V9

# --- a duplicate, a conflict, entries waiting ---------------------------------
check "V1 enters Lo Van A" profile V1 HP-V1a 100000000101 "Lo Van A"
check "V2 enters the same person again" profile V2 HP-V2a 100000000101 "Lo Van A"
check "V1 enters Lo Van B" profile V1 HP-V1b 100000000102 "Lo Van B"
check "C holds all three (20 s)" within 20 bash -c "'$H' --home '$T/C' get health_profile HP-V1b && '$H' --home '$T/C' get health_profile HP-V2a"
stop V1
check "V1, offline, changes Lo Van B's phone" N V1 put health_profile HP-V1b '{"phone":"0911111111"}'
check "C changes it too" N C put health_profile HP-V1b '{"phone":"0922222222"}'
start V1 --peer 127.0.0.1:${PORTOF[C]} && ok "V1 dials C again" || fail "V1 dials C again"
conflicts_are() { test "$("$H" --home "$T/C" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["conflicts"])')" = "$1"; }
check "C sees a conflict and a duplicate (20 s)" within 20 conflicts_are 3
stop V2
check "C enters a profile for V2's village while V2 is away" N C put health_profile HP-C1 --scope bk/c1/v2 '{"person_id":"100000000103","full_name":"Lo Van C","birth_date":"1990-01-01"}'
check "and one for its own commune, which no village may read" profile C HP-C2 100000000104 "Lo Van D"

# --- the page in a browser, against hamlet status --json ----------------------
# page FILE ARGS... URL: the DOM chromium built, between two status answers
# that agree on what the page is checked for (at most 5 tries)
page() {
	local f=$1; shift
	for _ in 1 2 3 4 5; do
		N C status --json >"$f.s1"
		browser "$@" >"$f" || return 1
		N C status --json >"$f.s2"
		python3 - "$f.s1" "$f.s2" <<'EOF' && return 0
import json, sys
def key(p):
    s = json.load(open(p))
    return (s["node"], s["conflicts"], s["duplicates"], sorted((q["name"] or "", q["waiting_out"]) for q in s["peers"]))
sys.exit(0 if key(sys.argv[1]) == key(sys.argv[2]) else 1)
EOF
	done
	return 1
}
check "chromium loads the page in Vietnamese (Accept-Language: vi-VN)" page "$T/vi.html" --accept-lang=vi-VN,vi --dump-dom "$URL/"
check "chromium loads it in English (?lang=en beats Accept-Language)" page "$T/en.html" --accept-lang=vi-VN,vi --dump-dom "$URL/status?lang=en"
browser --dump-dom "$URL/" >"$T/default.html"
check "chromium's own Accept-Language (en-US) gets English" grep -q '<html lang="en"' "$T/default.html"

# shows FILE LANG: the DOM says what status --json says, in LANG
shows() {
	python3 - "$1" "$1.s2" "$2" <<'EOF'
import html.parser, json, re, sys
dom, st, lang = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), sys.argv[3]

class P(html.parser.HTMLParser):
    """The text of each element with an id, and of each class named."""
    def __init__(self):
        super().__init__()
        self.stack, self.ids, self.cls, self.attrs, self.rows = [], {}, {}, {}, []
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag in ("br", "meta", "link", "img", "input"):
            return
        self.stack.append((tag, a, []))
        if tag == "tr" and "peer" in (a.get("class") or "").split():
            self.rows.append({})
    def handle_endtag(self, tag):
        if not self.stack:
            return
        t, a, text = self.stack.pop()
        s = " ".join("".join(text).split())
        if self.stack:
            self.stack[-1][2].append("".join(text))
        if "id" in a:
            self.ids[a["id"]] = s
            self.attrs[a["id"]] = a
        for c in (a.get("class") or "").split():
            self.cls.setdefault(c, []).append(s)
            if self.rows and c in ("peer-name", "waiting"):
                self.rows[-1][c] = s
    def handle_data(self, d):
        if self.stack:
            self.stack[-1][2].append(d)

p = P()
p.feed(dom)
words = {"vi": ["Nút này", "Các nút đồng bộ trực tiếp", "bản ghi cần xử lý", "bị xung đột", "bị trùng", "chưa bao giờ có tin", "trước"],
         "en": ["This node", "Peers", "records need a decision", "in conflict", "duplicated", "never heard from", "ago"]}
assert re.search(r'<html lang="%s"' % lang, dom), "html lang is not " + lang
for w in words[lang]:
    assert w in dom, "the page does not say %r" % w
# named as its peers know it: by its certificate while one holds
own = st["certificate"]["name"] if st["certificate"].get("valid") else st["node"]
assert p.ids["node-name"] == own, (p.ids["node-name"], own)
assert p.ids["node-scope"] == st["scope"], (p.ids["node-scope"], st["scope"])
assert "node-key" not in p.ids and st["node_key"] not in dom, "the key is shown unasked"
assert len(st["peers"]) == 2, st["peers"]
want = sorted((q["name"], str(q["waiting_out"])) for q in st["peers"])
got = sorted((r["peer-name"], r["waiting"]) for r in p.rows)
assert got == want, (got, want)
# V2 (away) waits for the profile of its village, nothing else; V1 for
# nothing: the commune's own feed is not for villages
waits = {q["name"]: q["waiting_out"] for q in st["peers"]}
assert waits == {"V1": 0, "V2": 1}, waits
assert int(p.attrs["conflicts"]["data-count"]) == st["conflicts"] == 3, (p.attrs["conflicts"], st["conflicts"])
assert p.ids["conflicts"].startswith(str(st["conflicts"]) + " "), p.ids["conflicts"]
dup = st["problems"]["health_profile"]["duplicates"]
con = st["problems"]["health_profile"]["conflicts"]
assert dup == st["duplicates"] == 2 and con == 1, st["problems"]
assert p.cls["duplicate"][0].startswith(str(dup) + " "), p.cls["duplicate"]
assert p.cls["conflict"][0].startswith(str(con) + " "), p.cls["conflict"]
assert "hamlet conflicts resolve health_profile ID" in p.cls["conflict"][0]
assert "hamlet delete health_profile ID" in p.cls["duplicate"][0]
assert int(p.attrs["waiting"]["data-count"]) == max(q["waiting_out"] for q in st["peers"])
# times: local, in Asia/Ho_Chi_Minh, the zone shown
assert "Asia/Ho_Chi_Minh, UTC+07:00" in dom, "the zone is not named"
times = re.findall(r"<time[^>]*>([^<]*)</time>", dom)
assert len(times) >= 2 and all(t.endswith(" +07") for t in times), times
# the lag table: V9 never heard from, behind; V1 on time
lag = dict(zip(p.cls["lag-name"], p.cls["lag-node"]))
assert "V9" in lag and words[lang][5] in lag["V9"], lag
assert "V1" in lag and words[lang][5] not in lag["V1"], lag
assert int(p.attrs["lag-summary"]["data-behind"]) >= 1
EOF
}
check "the Vietnamese page says what status --json says" shows "$T/vi.html" vi
check "the English page says what status --json says" shows "$T/en.html" en
browser --dump-dom "$URL/?key=1" >"$T/key.html"
check "the node's key only when asked (?key=1)" grep -q "id=\"node-key\">$(key C)<" "$T/key.html"

TOK=$(N C token create --name page-check --role read 2>/dev/null)
check "GET /v1/status names the same peers and counts as the page" python3 - "$URL/v1/status" "$TOK" "$T/vi.html.s2" <<'EOF'
import json, sys, urllib.request
rq = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
api, cli = json.load(urllib.request.urlopen(rq, timeout=10)), json.load(open(sys.argv[3]))
for k in ("node", "conflicts", "duplicates", "problems"):
    assert api[k] == cli[k], (k, api[k], cli[k])
assert sorted((p["name"], p["role"], p["waiting_out"]) for p in api["peers"]) == \
       sorted((p["name"], p["role"], p["waiting_out"]) for p in cli["peers"])
EOF

# --- refusals, and a phone-sized screenshot -------------------------------------
code() { curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "$@"; }
check "?lang=fr is refused, naming what it takes (400)" bash -c "test \"\$(curl -s -o '$T/body' -w '%{http_code}' '$URL/?lang=fr')\" = 400 && grep -q 'vi (Vietnamese) or en' '$T/body'"
check "POST / is refused (405)" test "$(code -X POST "$URL/")" = 405
# a page address mistyped in a browser: told in the page's language where
# the page is, with this node's port; a program gets the API's JSON
check "a browser asking for /statu gets a 404 in Vietnamese naming the page's address" bash -c \
	"test \"\$(curl -s -o '$T/body' -w '%{http_code}' --max-time 10 -H 'Accept: text/html,application/xhtml+xml' -H 'Accept-Language: vi' '$URL/statu')\" = 404 && grep -q 'Nút này không có trang /statu' '$T/body' && grep -q 'http://127.0.0.1:$HP/' '$T/body'"
check "and in English" bash -c \
	"test \"\$(curl -s -o '$T/body' -w '%{http_code}' --max-time 10 -H 'Accept: text/html' -H 'Accept-Language: en' '$URL/statu')\" = 404 && grep -q 'This node has no page /statu. Its status page is at' '$T/body'"
check "a program asking for it gets the API's JSON (no_route)" bash -c \
	"test \"\$(curl -s -o '$T/body' -w '%{http_code}' --max-time 10 '$URL/statu')\" = 404 && grep -q '\"no_route\"' '$T/body'"
check "a host name refused (421) names this node's port, not a word for it" bash -c \
	"test \"\$(curl -s -o '$T/body' -w '%{http_code}' --max-time 10 -H 'Host: evil.example' -H 'Accept-Language: vi' '$URL/')\" = 421 && grep -q 'http://127.0.0.1:$HP/' '$T/body' && ! grep -q CỔNG '$T/body'"
check "Accept-Language: fr, vi;q=0.5 gets Vietnamese" bash -c "curl -s -H 'Accept-Language: fr, vi;q=0.5' '$URL/' | grep -q '<html lang=\"vi\"'"
check "Accept-Language: en-GB, vi;q=0.8 gets English" bash -c "curl -s -H 'Accept-Language: en-GB, vi;q=0.8' '$URL/' | grep -q '<html lang=\"en\"'"
check "the page loads nothing from elsewhere (CSP default-src 'none')" bash -c "curl -s -D - -o /dev/null '$URL/' | grep -qi \"^content-security-policy: default-src 'none'\""
check "the page has no script" bash -c "! grep -qi '<script' '$T/vi.html'"
check "the certificate ends on the day hamlet status says, not at 07:00 the day after" bash -c \
	"'$H' --home '$T/C' status | grep -q 'valid until the end of 2099-12-30 (UTC)' && curl -s -H 'Accept-Language: en' '$URL/' | grep -q 'valid until the end of 2099-12-30 (UTC)'"
check "and in Vietnamese" grep -q 'hợp lệ đến hết ngày 30/12/2099 (UTC)' "$T/vi.html"

mkdir -p "$OUT"
SHOT=$OUT/page-phone-vi.png
rm -f "$SHOT"
check "a screenshot at phone width (390x844)" browser --accept-lang=vi-VN,vi --hide-scrollbars \
	--window-size=390,844 --screenshot="$SHOT" "$URL/"
echo "# screenshot: $SHOT"
check "the screenshot is a PNG of 390x844 with more than 20 kB" python3 - "$SHOT" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", b[16:24])
assert (w, h) == (390, 844), (w, h)
assert len(b) > 20000, len(b)
EOF
# the whole page at phone width: the node, the peers, the conflicts and
# duplicates, the lag table and chart
FULL=$OUT/page-phone-vi-full.png
rm -f "$FULL"
check "the whole page at phone width (390x2600)" browser --accept-lang=vi-VN,vi --hide-scrollbars \
	--window-size=390,2600 --screenshot="$FULL" "$URL/"
echo "# screenshot: $FULL"
check "it is a PNG of 390x2600" python3 - "$FULL" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", b[16:24]) == (390, 2600)
EOF

# --- what the operator is told, and who may ask ------------------------------
# C again, with [http] hosts and a peer nobody listens on; V1 and V2,
# offline, give one record id to two different people
stop V1
check "V1 enters HP-TWO for its resident" profile V1 HP-TWO 100000000201 "Lo Thi E"
check "V2 enters HP-TWO for another" profile V2 HP-TWO 100000000202 "Vang Thi F"
stop C
printf '[http]\nhosts = center.example.vn\n' >"$T/c.conf"
DEAD=127.0.0.1:$(port) # nothing listens there: connection refused
start_http C --config "$T/c.conf" --peer "$DEAD" && ok "C serves again, dialling $DEAD in vain" || fail "C serves again"
URL=http://127.0.0.1:$HP
start V1 --peer 127.0.0.1:${PORTOF[C]} && ok "V1 dials C" || fail "V1 dials C"
start V2 --peer 127.0.0.1:${PORTOF[C]} && ok "V2 dials C" || fail "V2 dials C"
check "C warns of two people under HP-TWO (20 s)" within 20 bash -c "'$H' --home '$T/C' conflicts 2>/dev/null | grep -q 'two nodes wrote different person_id values'"
check "C tells $DEAD is not reached (20 s)" within 20 bash -c "curl -s '$URL/' | grep -q 'class=\"why\"'"
curl -s -H 'Accept-Language: vi' "$URL/" >"$T/vi2.html"
curl -s -H 'Accept-Language: en' "$URL/" >"$T/en2.html"
check "the refused dial is named in Vietnamese on the Vietnamese page, with since when" grep -q "$DEAD: CHƯA KẾT NỐI ĐƯỢC từ [0-9/]* [0-9:]* +07 (.* trước; [0-9]* lần thử; hamletd tự thử lại): <span class=\"why\">Kết nối bị từ chối</span>" "$T/vi2.html"
check "and what it means, as the operator guide says" grep -q "Máy tính ở đó đang bật nhưng hamletd trên máy đó không chạy" "$T/vi2.html"
check "the English page says it in English" grep -q "$DEAD: NOT REACHED since .*Connection refused</span><br><small class=\"advice\">The PC there is on, but hamletd is not running on it" "$T/en2.html"
check "the Vietnamese page has no English reason" bash -c "! grep -q 'Connection refused' '$T/vi2.html'"
check "each connected peer says what to do" grep -q 'class="advice">Đã trao đổi đủ dữ liệu\|class="advice">Đang trao đổi dữ liệu' "$T/vi2.html"
check "one record id, two people: the guide's advice and no resolve command for it" python3 - "$T/vi2.html" "$T/en2.html" <<'EOF2'
import re, sys
vi, en = open(sys.argv[1]).read(), open(sys.argv[2]).read()
two = re.findall(r'<li class="conflict two-people">(.*?)</li>', vi)
assert len(two) == 1, two
assert "1 hồ sơ sức khỏe</b> có MỘT MÃ BẢN GHI CHO HAI NGƯỜI" in two[0], two[0]
assert "Đừng xử lý bằng cách chọn một giá trị" in two[0] and "hamlet delete health_profile ID" in two[0], two[0]
assert "conflicts resolve" not in two[0], two[0]
# the other health_profile conflict (a phone) still has its command
other = re.findall(r'<li class="conflict">(.*?)</li>', vi)
assert len(other) == 1 and "hamlet conflicts resolve health_profile ID" in other[0], other
two = re.findall(r'<li class="conflict two-people">(.*?)</li>', en)
assert len(two) == 1 and "ONE RECORD ID FOR TWO PEOPLE" in two[0] and "resolve health_profile" not in two[0], two
EOF2
check "?lang=xx is refused in the language Accept-Language asks for" bash -c "test \"\$(curl -s -o '$T/body' -w '%{http_code}' -H 'Accept-Language: vi-VN,vi;q=0.9' '$URL/?lang=xx')\" = 400 && grep -q 'chỉ nhận vi (tiếng Việt)' '$T/body' && ! grep -q 'takes vi' '$T/body'"
check "... and as a locale names it (vi_VN)" bash -c "curl -s -H 'Accept-Language: vi_VN' '$URL/?lang=xx' | grep -q 'chỉ nhận vi'"

# Host: a name the node does not answer to is refused on every route
hcode() { curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -H "Host: $1" "${@:3}" "$URL$2"; }
for path in / /status /metrics /v1/status; do
	check "Host: evil.example is refused on $path (421)" test "$(hcode evil.example:$HP $path -H "Authorization: Bearer $TOK")" = 421
done
check "the page's refusal says what to do, in Vietnamese" bash -c "test \"\$(curl -s -o '$T/body' -w '%{http_code}' -H 'Host: evil.example' -H 'Accept-Language: vi' '$URL/')\" = 421 && grep -q 'Hãy mở bằng địa chỉ IP' '$T/body'"
check "the API's refusal is JSON naming the setting" bash -c "curl -s -H 'Host: evil.example' -H 'Authorization: Bearer $TOK' '$URL/v1/status' | python3 -c 'import json,sys; e=json.load(sys.stdin)[\"error\"]; assert e[\"code\"]==\"misdirected\" and \"[http] hosts\" in e[\"message\"]'"
check "/metrics, for programs, refuses it in JSON as the API does" bash -c "curl -s -H 'Host: evil.example' '$URL/metrics' | python3 -c 'import json,sys; e=json.load(sys.stdin)[\"error\"]; assert e[\"code\"]==\"misdirected\" and \"[http] hosts\" in e[\"message\"]'"
check "the page's refusal takes ?lang=vi as the page does" bash -c "test \"\$(curl -s -o '$T/body' -w '%{http_code}' -H 'Host: evil.example' '$URL/status?lang=vi')\" = 421 && grep -q 'Hãy mở bằng địa chỉ IP' '$T/body'"
check "... and ?lang=en over Accept-Language" bash -c "test \"\$(curl -s -o '$T/body' -w '%{http_code}' -H 'Host: evil.example' -H 'Accept-Language: vi' '$URL/?lang=en')\" = 421 && grep -q 'Open it by the PC' '$T/body'"
check "/metrics counts the 421s by their code, not as other" bash -c "curl -s '$URL/metrics' | grep -qE '^hamlet_http_requests_total\{code=\"421\"\} [1-9]'"
check "a name listed in [http] hosts is answered" test "$(hcode center.example.vn:$HP /)" = 200
check "localhost is answered" test "$(hcode localhost:$HP /)" = 200
check "an IP address is answered" test "$(hcode 127.0.0.1:$HP /metrics)" = 200
check "a bad [http] hosts value stops hamletd at start, naming it" bash -c "printf '[http]\nhosts = evil.example:80\n' >'$T/bad.conf'; ! '$D' --home '$T/V9' --config '$T/bad.conf' 2>'$T/bad.err'; grep -q 'hosts \"evil.example:80\" is not a host name' '$T/bad.err'"

daemons_stop
tests_done
