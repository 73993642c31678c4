#!/usr/bin/env bash
# A province restored as docs/center-guide.md says ("Restoring"): its
# store moved aside, node.key kept, hamletd started on an empty store to
# sync from its commune, while the center's applications still write. A
# write before the node has its own entries back would sign seqs its
# commune holds already, a fork of its own feed: it is refused (the CLI
# exits 7; HTTP answers 503 "restoring" with Retry-After), and status
# says why. Once the commune has sent them back, nothing was forked and
# writes go on at the next seq. Entries that no node holds (written
# while the commune was away, then the store lost) are given up with
# `hamlet own-feeds forget-lost`, through the running daemon. An
# own-feeds damaged while hamletd runs is not written over: every write
# is refused, naming the line, as when it is damaged at start; an older
# copy put back while it runs does not lower what it signed.
#   tests/scenario_restore.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
command -v curl >/dev/null || { echo "curl is missing: skipped"; exit 77; }
command -v python3 >/dev/null || { echo "python3 is missing: skipped"; exit 77; }
tests_scratch restore
ROOT=$T/bk.root.key
# pay ID: PUT payment ID in scope bk/c1 on P's API; the code printed, the
# body in $T/body, the headers in $T/headers
pay() {
	curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' -X PUT \
		-H "Authorization: Bearer $TOK" "$URL/v1/records/payment/$1?scope=bk/c1" \
		-d "{\"program\":\"social_allowance\",\"beneficiary_id\":\"00112233${1: -4}\",\"period\":\"2026-11\",\"amount_vnd\":100000,\"status\":\"created\"}"
}
# jq-like: python3 expression E over the JSON in file F holds
holds() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }
put_cli() {
	N P put payment "$1" --scope bk/c1 "{\"program\":\"social_allowance\",\"beneficiary_id\":\"00112233${1: -4}\",\"period\":\"2026-11\",\"amount_vnd\":100000,\"status\":\"created\"}"
}
# put_says ID PATTERN: put_cli ID succeeds and prints PATTERN
put_says() { put_cli "$1" >"$T/put.out" 2>&1 && grep -q "$2" "$T/put.out"; }
# put_vi ID: put_cli ID in Vietnamese
put_vi() { LC_ALL=vi_VN.UTF-8 LANGUAGE= put_cli "$@"; }

check "network created" "$H" network create bk --out "$T"
check "P joins with scope bk" N P init --network "$T/bk.network" --name p --scope bk
check "C joins with scope bk/c1" N C init --network "$T/bk.network" --name c --scope bk/c1
check "the root certifies P" issue P province bk --root-key "$ROOT" --delegate
check "the root certifies C" issue C commune bk/c1 --root-key "$ROOT" --delegate
check "P's own-feeds is made with its home" test -f "$T/P/own-feeds"
TOK=$(N P token create --name app --role write 2>/dev/null)

start_http P && ok "P's daemon serves HTTP" || { fail "P's daemon serves HTTP"; tests_done; exit 1; }
PP=${PORTOF[P]} URL=http://127.0.0.1:$HP
start C --peer 127.0.0.1:$PP && ok "C dials P" || fail "C dials P"
check "the application writes payment C1-PAY-1001 through P's API" test "$(pay C1-PAY-1001)" = 200
check "and C1-PAY-1002" test "$(pay C1-PAY-1002)" = 200
check "which is seq 2 of P's feed bk/c1" holds "$T/body" 'j["seq"] == 2'
check "P is in sync with C (30 s)" within 30 N P sync --wait --timeout 10
check "C holds both (30 s)" within 30 N C get payment C1-PAY-1002
check "P's own-feeds says it signed up to seq 2 in bk/c1" grep -qx 'bk/c1 2' "$T/P/own-feeds"

E1=$(curl -s -H "Authorization: Bearer $TOK" "$URL/v1/changes?since=0&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["epoch"])')
check "P's changes have an epoch" bash -c "[[ '$E1' =~ ^[0-9a-f]{16}\$ ]]"

# --- the store is lost: moved aside, node.key and own-feeds kept ---
stop P
stop C
check "P's store is moved aside" mv "$T/P/store" "$T/P/store.lost"
refuse "with no daemon, hamlet put on P is refused (exit 7), saying why and what to do" 7 \
	'this node signed up to seq 2 in its feed bk/c1 before its store was restored or replaced, and the store holds up to seq 0: writing now would fork its own feed' \
	put_cli C1-PAY-1003
check "the refusal says the peers hold the rest, the stick way, and what forget-lost is for" \
	grep -q 'Its peers hold the rest: let hamletd sync with them .* With no network, get a bundle from the commune .* "hamlet own-feeds forget-lost" is only for entries no node holds' "$T/refused"
check "nothing was written" bash -c "! '$H' --home '$T/P' get payment C1-PAY-1003 >/dev/null 2>&1"
start_http P && ok "P starts again on the empty store, C away" || fail "P starts again on the empty store, C away"
PP=${PORTOF[P]} URL=http://127.0.0.1:$HP
check "P's log says its own writes wait for the rest of feed bk/c1" \
	grep -q 'this node signed up to seq 2 in its feed bk/c1, and its store (restored or replaced) holds up to seq 0: own writes there are refused until its peers send the rest back' "$T/P.log"
check "P's log says its changes are numbered under a new epoch" \
	grep -q 'the store.s changes are numbered under a new epoch: readers of /v1/changes start over from 0' "$T/P.log"
check "a reader with the old epoch is told to start over (400 epoch_changed)" bash -c \
	"curl -s -H 'Authorization: Bearer $TOK' '$URL/v1/changes?since=0&epoch=$E1' | grep -q '\"code\":\"epoch_changed\"'"
check "the application's write gets 503" test "$(pay C1-PAY-1003)" = 503
check "with the code restoring, naming the seqs" holds "$T/body" \
	'j["error"]["code"] == "restoring" and "signed up to seq 2 in its feed bk/c1" in j["error"]["message"] and "holds up to seq 0" in j["error"]["message"]'
check "and Retry-After" grep -qi '^Retry-After: [1-9][0-9]*' "$T/headers"
refuse "hamlet put through the daemon is refused (exit 7)" 7 'writing now would fork its own feed' put_cli C1-PAY-1003
# a record the lost store held: a change to it is no new record missing
# fields, nor its deletion a record not found, but the same wait
refuse "a partial put of a record the lost store held is refused as the wait (exit 7), not as missing fields" 7 \
	'writing now would fork its own feed' N P put payment C1-PAY-1001 --scope bk/c1 '{"status":"approved"}'
check "through the API too (503 restoring, not 400 schema)" bash -c "test \"\$(curl -s -o '$T/b2' -w '%{http_code}' -X PUT -H 'Authorization: Bearer $TOK' '$URL/v1/records/payment/C1-PAY-1001?scope=bk/c1' -d '{\"status\":\"approved\"}')\" = 503 && grep -q '\"code\":\"restoring\"' '$T/b2'"
check "and its deletion (503 restoring, not 404)" bash -c "test \"\$(curl -s -o '$T/b3' -w '%{http_code}' -X DELETE -H 'Authorization: Bearer $TOK' '$URL/v1/records/payment/C1-PAY-1001?scope=bk/c1')\" = 503 && grep -q '\"code\":\"restoring\"' '$T/b3'"
check "a new record in another scope waits too (503 restoring): its id may be one the lost entries hold" bash -c "test \"\$(curl -s -o '$T/b4' -w '%{http_code}' -X PUT -H 'Authorization: Bearer $TOK' '$URL/v1/records/payment/C1-PAY-1001?scope=bk/c2' -d '{\"program\":\"social_allowance\",\"beneficiary_id\":\"001122331001\",\"period\":\"2026-11\",\"amount_vnd\":100000,\"status\":\"created\"}')\" = 503 && grep -q 'makes no new record, in any scope' '$T/b4'"
check "a resolve of a record the lost store held waits (503 restoring, not 404)" bash -c "test \"\$(curl -s -o '$T/b5' -w '%{http_code}' -X POST -H 'Authorization: Bearer $TOK' '$URL/v1/conflicts/payment/C1-PAY-1001/resolve' -d '{}')\" = 503 && grep -q '\"code\":\"restoring\"' '$T/b5'"
refuse "and by hamlet conflicts resolve (exit 7, not 3)" 7 'the record may be among the entries its peers send back' \
	N P conflicts resolve payment C1-PAY-1001 '{"status":"approved"}'
refuse "an erasure of a person waits too (exit 7): their records among the waiting entries would come back unerased" 7 \
	'records of the person may be among the entries its peers send back, and would come back unerased' \
	N P erase --person 001122331001 --reason "request of the person"
check "P's status says own writes wait, naming the feed and the seqs" bash -c \
	"'$H' --home '$T/P' status | grep -q '^  feed bk/c1: signed up to seq 2, the store holds up to seq 0$'"
check "and what they wait for" bash -c \
	"'$H' --home '$T/P' status | grep -q '^own writes: WAITING for this node.s own earlier entries'"
check "and status names the stick way back and what forget-lost is for" bash -c \
	"'$H' --home '$T/P' status >'$T/st' && grep -q '^  with no network: a bundle from the commune' '$T/st' && grep -q '^  only if no node holds them.*they make a fork' '$T/st'"
N P --json status >"$T/st.json"
check "status --json: restoring lists the feed" holds "$T/st.json" \
	'j["restoring"] == [{"scope": "bk/c1", "signed": 2, "stored": 0}] and j["own_feeds_problem"] is None'
check "GET /v1/status says the same" bash -c \
	"curl -s -H 'Authorization: Bearer $TOK' '$URL/v1/status' | python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(0 if j[\"restoring\"] == [{\"scope\": \"bk/c1\", \"signed\": 2, \"stored\": 0}] else 1)'"
check "the status page says so, with the USB stick's way too" bash -c "curl -s '$URL/' | grep 'id=\"restoring\"' | grep -q 'hamlet bundle import'"
check "/metrics too, for an alert: one own feed waiting, own-feeds readable" bash -c \
	"curl -s '$URL/metrics' >'$T/metrics' && grep -qx 'hamlet_own_feeds_waiting 1' '$T/metrics' && grep -qx 'hamlet_own_feeds_problem 0' '$T/metrics' && grep -q '^# TYPE hamlet_dials_unreached gauge' '$T/metrics'"
check "hamlet own-feeds marks the feed WAITING" bash -c \
	"'$H' --home '$T/P' own-feeds | grep -q '^  bk/c1: signed up to seq 2, the store holds up to seq 0: WAITING for seqs 1-2 from the peers$'"

# --- the commune comes back: P gets its own entries, and writes again ---
start C --peer 127.0.0.1:$PP && ok "C comes back" || fail "C comes back"
check "P has its entries back from C (30 s)" within 30 N P get payment C1-PAY-1002
check "P is in sync with C (30 s)" within 30 N P sync --wait --timeout 10
check "P's status no longer says own writes wait" bash -c \
	"'$H' --home '$T/P' status >'$T/st.txt' && ! grep -q 'own writes' '$T/st.txt'"
check "P keeps no fork" bash -c "'$H' --home '$T/P' forks | grep -qx 'no forks'"
check "nor does C" bash -c "'$H' --home '$T/C' forks | grep -qx 'no forks'"
check "P's store verifies (exit 0)" N P verify
check "nothing was refused on P for a frozen feed" bash -c "! grep -q 'frozen' '$T/P.log'"
check "the application's write now goes through" test "$(pay C1-PAY-1003)" = 200
check "as seq 3, the next of the feed" holds "$T/body" 'j["seq"] == 3'
check "so does hamlet put, as seq 4" put_says C1-PAY-1004 'seq 4, through hamletd'
check "C gets both (30 s)" within 30 N C get payment C1-PAY-1004
check "C keeps no fork" bash -c "'$H' --home '$T/C' forks | grep -qx 'no forks'"
check "own-feeds records seq 4" grep -qx 'bk/c1 4' "$T/P/own-feeds"

# --- entries no node holds: written while C was away, then lost ---
stop C
check "P writes C1-PAY-1005 while C is away (seq 5)" test "$(pay C1-PAY-1005)" = 200
stop P
check "P's store is lost again" mv "$T/P/store" "$T/P/store.lost2"
start_http P && ok "P starts on an empty store" || fail "P starts on an empty store"
PP=${PORTOF[P]} URL=http://127.0.0.1:$HP
start C --peer 127.0.0.1:$PP && ok "C comes back" || fail "C comes back"
check "P has seqs 1-4 back from C (30 s)" within 30 N P get payment C1-PAY-1004
check "P is in sync with C (30 s)" within 30 N P sync --wait --timeout 10
check "a write still gets 503: seq 5 is nowhere" test "$(pay C1-PAY-1006)" = 503
check "naming seq 5 and seq 4" holds "$T/body" '"signed up to seq 5 in its feed bk/c1" in j["error"]["message"] and "holds up to seq 4" in j["error"]["message"]'
check "forget-lost through the running daemon gives up seq 5, and says so" bash -c \
	"'$H' --home '$T/P' own-feeds forget-lost --scope bk/c1 | grep -qx 'gave up seqs 5-5 of feed bk/c1: this node.s next entry there is seq 5'"
check "hamletd logs it" within 10 grep -q 'gave up seqs 5-5 of this node.s feed bk/c1' "$T/P.log"
check "own-feeds records seq 4" grep -qx 'bk/c1 4' "$T/P/own-feeds"
check "a second forget-lost has nothing to give up" bash -c \
	"'$H' --home '$T/P' own-feeds forget-lost | grep -qx 'nothing to give up: the store holds everything this node signed'"
check "the write goes through at once, as seq 5" test "$(pay C1-PAY-1006)" = 200
check "(seq 5)" holds "$T/body" 'j["seq"] == 5'
check "C gets it (30 s)" within 30 N C get payment C1-PAY-1006
check "neither keeps a fork" bash -c "'$H' --home '$T/P' forks | grep -qx 'no forks' && '$H' --home '$T/C' forks | grep -qx 'no forks'"

# --- a damaged own-feeds: named, every write refused, mended by hand ---
stop P
check "own-feeds is damaged by hand" sed -i 's/^bk\/c1 5$/bk\/c1 five/' "$T/P/own-feeds"
refuse "hamlet put names the file and the line (exit 4)" 4 'own-feeds does not read (line 7: the seq is not a number' put_cli C1-PAY-1007
check "hamlet status says own writes are refused, and why" bash -c \
	"'$H' --home '$T/P' status | grep -q '^own writes: REFUSED: .*own-feeds does not read (line 7'"
start_http P && ok "P's daemon starts all the same" || fail "P's daemon starts all the same"
URL=http://127.0.0.1:$HP
check "and logs what is wrong" grep -q 'own-feeds does not read (line 7' "$T/P.log"
check "the API answers 503 own_feeds_unreadable" test "$(pay C1-PAY-1007)" = 503
check "(the code)" holds "$T/body" 'j["error"]["code"] == "own_feeds_unreadable"'
check "own-feeds is mended" sed -i 's/^bk\/c1 five$/bk\/c1 5/' "$T/P/own-feeds"
check "the next write goes through, no restart, as seq 6" test "$(pay C1-PAY-1007)" = 200
check "(seq 6)" holds "$T/body" 'j["seq"] == 6'

# --- own-feeds damaged while hamletd runs: seen, never written over ---
check "own-feeds is damaged by hand while P's daemon runs" \
	bash -c "echo 'bk/c1/x twelve' >>'$T/P/own-feeds'"
refuse "hamlet put through the daemon names the file and the line (exit 4)" 4 \
	'own-feeds does not read (line 8: the seq is not a number' put_cli C1-PAY-1008
check "the API answers 503 own_feeds_unreadable" test "$(pay C1-PAY-1008)" = 503
check "nothing was written" bash -c "! '$H' --home '$T/P' get payment C1-PAY-1008 >/dev/null 2>&1"
check "the damaged line is left as it is" grep -qx 'bk/c1/x twelve' "$T/P/own-feeds"
check "hamletd logs what is wrong, naming the line (10 s)" within 10 \
	grep -q 'own-feeds does not read (line 8: the seq is not a number' "$T/P.log"
check "hamlet status says own writes are refused, and why" bash -c \
	"'$H' --home '$T/P' status | grep -q '^own writes: REFUSED: .*own-feeds does not read (line 8'"
check "the status page says so" bash -c "curl -s '$URL/' | grep -q 'id=\"own-feeds\"'"
check "own-feeds is mended by hand" sed -i '/^bk\/c1\/x twelve$/d' "$T/P/own-feeds"
check "the next write goes through, no restart, as seq 7" test "$(pay C1-PAY-1008)" = 200
check "(seq 7)" holds "$T/body" 'j["seq"] == 7'
check "the status page no longer says so" bash -c "! curl -s '$URL/' | grep -q 'id=\"own-feeds\"'"

# --- an older own-feeds put back while hamletd runs: the higher seq kept ---
check "a copy of own-feeds is kept (bk/c1 7)" cp "$T/P/own-feeds" "$T/own-feeds.copy"
check "P writes seq 8" put_says C1-PAY-1009 'seq 8, through hamletd'
check "the older copy is put back while P's daemon runs" cp "$T/own-feeds.copy" "$T/P/own-feeds"
check "the next write goes through as seq 9" put_says C1-PAY-1010 'seq 9, through hamletd'
check "hamletd logs that the file was changed, and what it kept (10 s)" within 10 \
	grep -q 'own-feeds was changed since this node last wrote it (a copy put back from a backup?): it lists seq 7 for feed bk/c1, where this node signed up to seq 8' "$T/P.log"
check "own-feeds records seq 9" grep -qx 'bk/c1 9' "$T/P/own-feeds"

# --- in Vietnamese ---
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\?8'; then
	stop P
	mv "$T/P/store" "$T/P/store.lost3"
	refuse "the refusal in Vietnamese" 7 'nút này đã ký đến seq 9 trong chuỗi bk/c1' put_vi C1-PAY-1011
	check "status in Vietnamese" bash -c \
		"LC_ALL=vi_VN.UTF-8 LANGUAGE= '$H' --home '$T/P' status | grep -q '^  chuỗi bk/c1: đã ký đến seq 9, kho dữ liệu giữ đến seq 0$'"
else
	echo "skipped: the Vietnamese checks (no vi_VN.UTF-8 locale)"
fi

daemons_stop
tests_done
