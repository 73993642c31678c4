#!/usr/bin/env bash
# What a byte budget holds back, carried by USB stick while the link is
# up (as the operator guide advises): village v1 sends commune c1 under
# 20 KB a day and holds the rest back; the rest goes by bundle and is
# imported on c1 through its hamletd. The session learns of it: c1 counts
# those entries as come (its status no longer says it is receiving, and
# its sync --wait says in sync), and v1 sends them no more (nothing waits
# for tomorrow's budget, sync --wait exit 0), without a new session.
#   tests/scenario_budget_usb.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch budget-usb
ROOT=$T/bk.root.key

network_bk c1:bk/c1 v1:bk/c1/v1
check "the root certifies c1" issue c1 commune bk/c1 --root-key "$ROOT" --delegate
check "c1 certifies v1" issue v1 village bk/c1/v1 --issuer-home "$T/c1"
{
	echo "id,person_id,full_name,birth_date,sex"
	for i in $(seq 1 1000); do
		printf 'HP-V%04d,%012d,Lo Van %d,1990-01-01,male\n' "$i" "$((300000000000 + i))" "$i"
	done
} >"$T/v1.csv"
check "v1 imports 1,000 profiles" N v1 import health_profile --format csv "$T/v1.csv"
printf '[budget]\ndefault_per_day = 20KB\n' >"$T/day.conf"

held() { [ "$(N v1 status --json | python3 -c "import json,sys; print(json.load(sys.stdin)['peers'][0]['budget']['held_back'])")" = True ]; }
# c1 holds every entry v1 sent in this session (v1 saw each batch's ACK)
caught_up() { [ "$(N v1 status --json | python3 -c 'import json,sys; p=json.load(sys.stdin)["peers"][0]; print(p["connected"] and p["entries_unacked"])')" = 0 ]; }
entries() { N "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])'; }
# c1's sync from v1 under way: what it still awaits (0 when none)
to_receive() { N c1 status --json | python3 -c 'import json,sys; p=json.load(sys.stdin)["peers"][0]; print(p.get("progress", {}).get("to_receive", 0))'; }

start c1 && ok "c1's daemon listens" || fail "c1's daemon listens"
start v1 --config "$T/day.conf" --peer 127.0.0.1:${PORTOF[c1]} && ok "v1 dials c1 with 20 KB a day" || fail "v1 dials c1 with 20 KB a day"
check "v1 holds entries back for the day's budget (60 s)" within 60 held
check "c1 has stored all v1 sent before the budget held the rest (60 s)" within 60 caught_up
n1=$(entries c1)
check "c1 holds part of v1's entries ($n1 of 1,000)" test "$n1" -gt 0 -a "$n1" -lt 1000
check "c1 awaits the rest from v1 ($(to_receive))" test "$(to_receive)" = $((1000 - n1))

check "the rest goes by USB stick, imported on c1 through its hamletd" send v1 c1
check "the import says it went through hamletd" grep -q "through hamletd" "$T/v1-c1.out"
check "c1 holds all 1,000" test "$(entries c1)" = 1000
check "c1 awaits nothing more from v1 (20 s)" within 20 bash -c "[ \"\$($(declare -f N to_receive); H='$H' T='$T' to_receive)\" = 0 ]"
check "c1's status no longer says it is receiving from v1" bash -c "! '$H' --home '$T/c1' status | grep -q 'receiving from v1'"
check "v1 holds nothing back for the budget now (20 s)" within 20 bash -c "! '$H' --home '$T/v1' status | grep -q 'wait for tomorrow'"
check "v1's sync --wait says in sync (exit 0)" bash -c "'$H' --home '$T/v1' sync --wait --timeout 30 | grep -q 'in sync with 1 connected peer$'"
check "and so does c1's" N c1 sync --wait --timeout 30
check "both hold the same (digest)" test "$(N v1 digest)" = "$(N c1 digest)"
check "the session was not restarted for it" test "$(grep -c 'connected (incoming' "$T/c1.log")" = 1
stop v1
stop c1
tests_done
