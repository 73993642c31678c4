#!/usr/bin/env bash
# The changes feed as a script written from docs/api.md follows it: it
# keeps "epoch" beside "last_seq" and sends both back. On a node whose
# store holds no change yet, the epoch it is given must be the one the
# seqs keep once changes come, so that sending it back after the first
# change is taken, not refused as a store made again (400 epoch_changed);
# a continuous feed's closing line names that epoch too. A record the
# node takes out (a certificate that reads less) is a gone change, told
# only to a token that could read it. And /metrics and
# the status page, which answer the node's own PC without a token, ask
# one of a request a proxy on that PC forwarded (X-Forwarded-For ...),
# though it connects from loopback.
#   tests/scenario_http_feed.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; everything listens on 127.0.0.1.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
needs curl python3
tests_scratch http-feed
A() { "$H" --home "$T/a" "$@"; }

http_node hf
start_http a && ok "a's daemon serves HTTP" || { fail "a's daemon serves HTTP"; tests_done; exit 1; }
URL=http://127.0.0.1:$HP
# jget PATH: the JSON answer of GET PATH (the token W)
jget() { curl -s --max-time 20 -H "Authorization: Bearer $W" "$URL$1"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# --- the epoch of a store with no change yet ---------------------------------
E0=$(jget "/v1/changes?since=0" | field epoch)
check "a store with no change yet: its changes answer names an epoch, 16 hex digits, not 0 ($E0)" \
	bash -c "[[ '$E0' =~ ^[0-9a-f]{16}\$ ]] && [ '$E0' != 0000000000000000 ]"
curl -sN --max-time 30 -H "Authorization: Bearer $W" \
	"$URL/v1/changes?feed=continuous&since=0&epoch=$E0&heartbeat=200&timeout=6000" >"$T/cont" 2>/dev/null &
CONT=$!
within 5 test -s "$T/cont" || true # a heartbeat: the feed is open
check "the first record is written" bash -c "curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Authorization: Bearer $W' \
	'$URL/v1/records/payment/PAY-1' --data-binary '{\"program\":\"social_allowance\",\"beneficiary_id\":\"001190000001\",\"period\":\"2026-11\",\"amount_vnd\":5,\"status\":\"approved\"}' | grep -qx 200"
wait $CONT
check "the continuous feed streamed it and closed naming the same epoch" python3 - "$T/cont" "$E0" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert [r["seq"] for r in rows if "seq" in r] == [1], rows
assert rows[-1] == {"last_seq": 1, "epoch": sys.argv[2]}, rows[-1]
EOF
E1=$(jget "/v1/changes?since=0" | field epoch)
check "after the first change the epoch is the one given before it ($E1)" test "$E1" = "$E0"
check "a reader sending back since=1 and that epoch is answered, not told the store was made again" bash -c \
	"curl -s -o '$T/b' -w '%{http_code}' -H 'Authorization: Bearer $W' '$URL/v1/changes?since=1&epoch=$E0' | grep -qx 200"

# --- a proxy on the node's PC is not the node's PC ----------------------------
# code PATH HEADER...: the answer's status
code() { local p=$1; shift; curl -s -o "$T/b" -w '%{http_code}' --max-time 20 "$@" "$URL$p"; }
for p in /metrics / /status; do
	check "$p answers loopback without a token" test "$(code $p)" = 200
	for hd in 'X-Forwarded-For: 203.0.113.7' 'Forwarded: for=203.0.113.7' 'X-Real-IP: 203.0.113.7'; do
		check "$p forwarded by a proxy ($hd) wants a token (401 bad_token, naming the header)" bash -c \
			"test \"\$(curl -s -o '$T/b' -w '%{http_code}' --max-time 20 -H '$hd' '$URL$p')\" = 401 &&
			 grep -q '\"bad_token\".*came through a proxy (${hd%%:*})' '$T/b'"
	done
	check "$p forwarded with a valid token is answered" \
		test "$(code $p -H 'X-Forwarded-For: 203.0.113.7' -H "Authorization: Bearer $W")" = 200
done
stop a
check "hamletd, stopped by SIGTERM, exits 0" test "$STOPPED_RC" = 0
start_http a && ok "a's daemon starts again" || fail "a's daemon starts again"
URL=http://127.0.0.1:$HP
check "a restart keeps the epoch" test "$(jget "/v1/changes?since=1&epoch=$E0" | field last_seq)" = 1

# --- a record the node no longer holds: a gone change ------------------------
# a, let read its commune, holds g's profile; a certificate that reads a's
# own village again takes it out: the feed says so as CouchDB says a
# document gone, to a token that could read it and to no other
check "node g" "$H" --home "$T/g" init --network "$T/hf.network" --name g --scope bk/c1/g
check "the root certifies g" certify "$T/hf.root.key" g
check "g writes a profile" "$H" --home "$T/g" put health_profile HP-G1 '{"person_id":"001190000009","full_name":"Lo Van G","birth_date":"1990-01-01"}'
# recert READ NAME: the root certifies a again, to read READ, and a installs it
recert() {
	"$H" cert issue --root-key "$T/hf.root.key" --to "$(key a)" --name a --role village \
		--read "$1" --write bk/c1/a --out "$T/a-$2.cert" >/dev/null && A cert install "$T/a-$2.cert" >/dev/null
}
check "the root lets a read bk/c1" recert bk/c1 wide
check "a holds g's profile, by USB" send g a
GT=$(A token create --name g-only --role read --scope bk/c1/g 2>/dev/null)
AT=$(A token create --name a-only --role read --scope bk/c1/a 2>/dev/null)
S1=$(jget "/v1/changes?since=0" | field last_seq)
check "a's feed has g's profile" bash -c "curl -s --max-time 20 -H 'Authorization: Bearer $W' '$URL/v1/changes?since=1' | grep -q '\"id\": *\"HP-G1\"'"
check "the root lets a read its own village only again" recert bk/c1/a narrow
check "a no longer holds g's profile (10 s)" within 10 bash -c "! '$H' --home '$T/a' get health_profile HP-G1"
# gone TOKEN: the changes after S1 TOKEN sees, as JSON
gone() { curl -s --max-time 20 -H "Authorization: Bearer $1" "$URL/v1/changes?since=$S1"; }
check "the feed says g's profile is gone: deleted and removed, with no record or entry" \
	python3 -c 'import json,sys; r=json.load(sys.stdin)["results"]; assert [{k: v for k, v in c.items() if k != "seq"} for c in r] == [{"collection": "health_profile", "id": "HP-G1", "entry": None, "record": None, "deleted": True, "removed": True}], r; assert r[0]["seq"] > int(sys.argv[1]), r' "$S1" < <(gone "$W")
check "a token of g's village is told" bash -c "curl -s --max-time 20 -H 'Authorization: Bearer $GT' '$URL/v1/changes?since=$S1' | grep -q '\"removed\": *true'"
check "a token of another village is not" bash -c "curl -s --max-time 20 -H 'Authorization: Bearer $AT' '$URL/v1/changes?since=$S1' | python3 -c 'import json,sys; r=json.load(sys.stdin)[\"results\"]; assert r == [], r'"
stop a
tests_done
