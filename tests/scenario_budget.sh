#!/usr/bin/env bash
# Byte budgets on a metered link: village v1 holds 1,500 profiles (and
# four payments in feeds of their own, which go first) and
# sends to commune c1 under 40 KB a day, then under 40 KB a session;
# each time c1 receives about that much and v1's status says, in words
# and in --json, what waits and for which budget. A revocation written on
# v1 while its budget is spent still reaches c1. With the budget lifted
# (a reload, SIGHUP, of a new config) the rest arrives. A bad size in [budget]
# is refused, naming its key. The day's count outlives a restart of v1.
# An entry larger than a whole budget is said to wait until the budget is
# raised, not for the next day or session.
#   tests/scenario_budget.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch budget
ROOT=$T/bk.root.key

network_bk c1:bk/c1 v1:bk/c1/v1 x:bk/c1/x
check "the root certifies c1" issue c1 commune bk/c1 --root-key "$ROOT" --delegate
check "c1 certifies v1" issue v1 village bk/c1/v1 --issuer-home "$T/c1"
{
	echo "id,person_id,full_name,birth_date,sex,village,phone"
	for i in $(seq 1 1500); do
		printf 'HP-V%04d,%012d,Lo Van %d,1990-01-01,male,v1,09%08d\n' "$i" "$((200000000000 + i))" "$i" "$i"
	done
} >"$T/v1.csv"
check "v1 imports 1,500 profiles" N v1 import health_profile --format csv "$T/v1.csv"
# four more feeds, one payment each: they go before the profiles
for i in 1 2 3 4; do
	check "v1 writes payment PAY-$i in bk/c1/v1/p$i" N v1 put --scope bk/c1/v1/p$i payment PAY-$i \
		"{\"program\":\"forest_service\",\"beneficiary_id\":\"BEN-$i\",\"period\":\"2026-11\",\"amount_vnd\":500000,\"status\":\"created\"}"
done

# how many records c1 holds (its daemon's count), and a figure of v1's
# status --json for its one peer
records() { N c1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])'; }
budget() { N v1 status --json | python3 -c "import json,sys; print(json.load(sys.stdin)['peers'][0]['budget']['$1'])"; }
held() { [ "$(budget held_back)" = True ]; }
# c1 has stored every entry v1 sent it in this session (acknowledged
# each batch): with the budget holding the rest, c1's count stands still
# from then on, not while the last batches commit
caught_up() { [ "$(N v1 status --json | python3 -c 'import json,sys; p=json.load(sys.stdin)["peers"][0]; print(p["connected"] and p["entries_unacked"])')" = 0 ]; }

printf '[budget]\ndefault_per_day = 40KB\n' >"$T/day.conf"
printf '[budget]\ndefault_per_session = 40 KB\n' >"$T/session.conf"
printf '[budget]\ndefault_per_day = 5 parsecs\n' >"$T/bad.conf"

refuse "a bad size in [budget] is refused, naming the key and value" 2 \
	'\[budget\] default_per_day "5 parsecs" is not a size' \
	"$D" --home "$T/v1" --listen 127.0.0.1:1 --config "$T/bad.conf"

start c1 && ok "c1's daemon listens" || fail "c1's daemon listens"
start v1 --config "$T/day.conf" --peer 127.0.0.1:${PORTOF[c1]} && ok "v1 dials c1 with 40 KB a day" || fail "v1 dials c1 with 40 KB a day"
check "v1 holds entries back for the day's budget (60 s)" within 60 held
N v1 status >"$T/status.txt" 2>&1
N v1 status --json >"$T/status.json" 2>&1
sed 's/^/    # /' "$T/status.txt"
check "status says what waits for tomorrow, in words" grep -qE '^    [0-9,]+ entries wait for tomorrow.s budget \(40\.0 kB a day to c1 \(bk/c1\), [0-9.]+ kB sent today\)$' "$T/status.txt"
check "status does not call c1 in sync" grep -q 'c1 (bk/c1): connected, HOLDING BACK entries: the byte budget for this peer is used up' "$T/status.txt"
check "nor does --json" python3 -c "import json; assert not json.load(open('$T/status.json'))['peers'][0]['in_sync']"
check "--json: the day's budget, held by it" bash -c "[ '$(budget per_day)' = 40000 ] && [ '$(budget held_by)' = day ] && [ '$(budget per_session)' = 0 ]"
sent=$(budget sent_today)
check "at most the budget was sent, and most of it ($sent bytes)" test "$sent" -le 40000 -a "$sent" -gt 30000
check "c1 has stored all v1 sent before the budget held the rest (60 s)" within 60 caught_up
n1=$(records)
check "c1 holds about 40 KB's worth of entries ($n1)" test "$n1" -gt 100 -a "$n1" -lt 1000
check "the payments went first: c1 holds all four" bash -c "for i in 1 2 3 4; do '$H' --home '$T/c1' get payment PAY-\$i >/dev/null || exit 1; done"
waiting=$(budget entries_held)
check "the entries held are the rest ($waiting)" test "$waiting" = $((1504 - n1))
wo=$(N v1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["peers"][0]["waiting_out"])')
check "they count as waiting to go out in the JSON ($wo)" test "$wo" -ge "$waiting"
check "and in words, not as 0" bash -c "'$H' --home '$T/v1' status | grep -E '[0-9,]+ entries waiting to go out' | grep -qv '; 0 entries waiting'"
check "sync --wait does not call it in sync: exit 1, naming the day's budget and what to do" bash -c "! '$H' --home '$T/v1' sync --wait --timeout 20 2>'$T/wait.err' && grep -qE 'not in sync: [0-9,]+ entries for c1 wait for tomorrow.s byte budget \\(or raise per_day' '$T/wait.err'"
sed 's/^/    # /' "$T/wait.err"
check "nor with --json: in_sync false, the entries held counted" bash -c "! '$H' --home '$T/v1' --json sync --wait --timeout 20 >'$T/wait.json' && python3 -c \"import json; j=json.load(open('$T/wait.json')); assert j['in_sync'] is False and j['entries_held_by_budget'] == $waiting and 'budget' in j['reason'], j\""
check "none more arrive while the budget is spent (3 s)" never 3 bash -c "[ \$('$H' --home '$T/c1' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"entries\"])') -gt $n1 ]"
check "c1's status says its sync from v1 stands still and why it may, not a rate and a time left (45 s)" \
	within 45 bash -c "'$H' --home '$T/c1' status | grep -qE '^    receiving from v1 .*: [0-9,]+ / [0-9,]+ entries; the last came [0-9]+ s ago, and none since: .*v1.*byte budget holds the rest back$'"
check "c1's sync --wait ends at once, not in sync, naming v1's byte budget beside the link" bash -c "! '$H' --home '$T/c1' sync --wait --timeout 20 2>'$T/c1wait.err' && grep -qE 'not in sync: [0-9,]+ of [0-9,]+ entries asked of v1 .*have come, and none for [0-9]+ s: the link may be down or very slow, or v1.*s byte budget holds the rest back' '$T/c1wait.err'"
sed 's/^/    # /' "$T/c1wait.err"
check "status --json gives how long nothing came" bash -c "'$H' --home '$T/c1' --json status | python3 -c 'import json,sys; p=json.load(sys.stdin)[\"peers\"][0][\"progress\"]; assert p[\"quiet_ms\"] >= 30000 and p[\"last_ms\"] > 0, p'"

trusted=$(grep -c "new trust item" "$T/c1.log")
check "v1 revokes x with the root's key, its budget spent" N v1 cert revoke "$(key x)" --root-key "$ROOT" --reason "lost" --drop-unheld
check "the revocation reaches c1 all the same (20 s)" within 20 bash -c "[ \$(grep -c 'new trust item' '$T/c1.log') -gt $trusted ]"

# the day's count outlives a restart: stopped, v1 keeps it in its store
stop v1
start v1 --config "$T/day.conf" --peer 127.0.0.1:${PORTOF[c1]} && ok "v1 restarts with the same 40 KB a day" || fail "v1 restarts with the same 40 KB a day"
check "after the restart v1 holds entries back for the day's budget still (60 s)" within 60 held
sent2=$(budget sent_today)
check "its count of today's bytes went on from before the restart ($sent -> $sent2)" test "$sent2" -ge "$sent" -a "$sent2" -le 40000
check "c1 has stored all v1 sent since the restart (60 s)" within 60 caught_up
n1b=$(records)
check "no more than the day's budget reached c1 across the restart ($n1 -> $n1b)" test "$n1b" -lt $((n1 + 50))
check "none more arrive after the restart either (3 s)" never 3 bash -c "[ \$('$H' --home '$T/c1' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"entries\"])') -gt $n1b ]"
n1=$n1b

stop v1
start v1 --config "$T/session.conf" --peer 127.0.0.1:${PORTOF[c1]} && ok "v1 restarts with 40 KB a session" || fail "v1 restarts with 40 KB a session"
check "v1 holds entries back for the session's budget (20 s)" within 20 bash -c "'$H' --home '$T/v1' status | grep -qE 'entries wait for the next session.s budget \(40.0 kB a session to c1'"
check "sync --wait names the session's budget" bash -c "'$H' --home '$T/v1' sync --wait --timeout 20 2>&1 | grep -q 'wait for the next session.s byte budget'"
check "c1 has stored all v1 sent in this session (60 s)" within 60 caught_up
n2=$(records)
check "c1 received about another 40 KB ($n1 -> $n2)" test "$n2" -gt $((n1 + 100)) -a "$n2" -lt $((n1 + 1000))

# a budget line for an address v1 does not dial is named in its log
printf '[budget]\ndefault_per_session = 40 KB\npeer = localhost:%s per_day=1KB\n' "${PORTOF[c1]}" >"$T/session.conf"
kill -HUP "${PIDOF[v1]}"
check "a reload names a [budget] peer line that limits nothing (30 s)" within 30 grep -q "\[budget\] peer localhost:${PORTOF[c1]} limits nothing" "$T/v1.log"
check "and keeps the session's budget: no more arrive (3 s)" never 3 bash -c "[ \$('$H' --home '$T/c1' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"entries\"])') -gt $n2 ]"
# the budget lifted by a reload (SIGHUP), no restart: the held go now
printf '[node]\n' >"$T/session.conf"
kill -HUP "${PIDOF[v1]}"
check "a reload that lifts the budget says so in the log, a second time (30 s)" within 30 bash -c "[ \$(grep -c 'reloaded the byte budgets' '$T/v1.log') = 2 ]"
check "the rest arrives: c1 holds all 1,504 (30 s)" within 30 bash -c "[ \$('$H' --home '$T/c1' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"entries\"])') = 1504 ]"
check "nothing waits for a budget now" bash -c "! '$H' --home '$T/v1' status | grep -q budget"
check "sync --wait now says in sync (exit 0), and so does --json" bash -c "'$H' --home '$T/v1' sync --wait --timeout 30 | grep -q 'in sync with 1 connected peer$' && '$H' --home '$T/v1' --json sync --wait --timeout 30 | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"in_sync\"] is True'"

# the day's count is kept with no budget set too: a budget a reload sets
# later that day counts what went before, across a restart, and status
# shows the budget at once, before anything more is sent
sent3=$(budget sent_today)
check "with no budget, status still counts the bytes sent today ($sent3)" test "$sent3" -gt 40000
stop v1
start v1 --config "$T/session.conf" --peer 127.0.0.1:${PORTOF[c1]} && ok "v1 restarts with no budget" || fail "v1 restarts with no budget"
check "v1 is in sync with c1 again (30 s)" N v1 sync --wait --timeout 30
reloads=$(grep -c 'reloaded the byte budgets' "$T/v1.log")
printf '[budget]\ndefault_per_day = 1KB\n' >"$T/session.conf"
kill -HUP "${PIDOF[v1]}"
check "a reload sets 1 KB a day (30 s)" within 30 bash -c "[ \$(grep -c 'reloaded the byte budgets' '$T/v1.log') -gt $reloads ]"
check "status --json shows the new budget at once, before anything is sent" test "$(budget per_day)" = 1000
sent4=$(budget sent_today)
check "and counts what was sent today before the restart, with no budget ($sent3 -> $sent4)" test "$sent4" -ge "$sent3"

# with v1's daemon stopped, status still says when it last met c1 and
# what was written since, from the store
stop v1
check "v1 writes one more record with no daemon" N v1 put health_profile HP-LATE '{"person_id":"209999999999","full_name":"Lo Van Late","birth_date":"1990-01-01"}'
N v1 status >"$T/stopped.txt" 2>&1
sed 's/^/    # /' "$T/stopped.txt" | tail -3
check "status with hamletd stopped says how to start it" grep -q '^daemon: not running; nothing syncs until it starts (systemctl start hamletd' "$T/stopped.txt"
check "and when v1 last met c1, and the one entry written since" grep -qE '^  c1 \(bk/c1\): last met [0-9-]+ [0-9:]+ UTC \([^)]*\); 1 entry waits to go out to it$' "$T/stopped.txt"

# an entry larger than a whole budget: no day or session brings it; it
# waits, with what follows it, until the budget is raised, and status and
# sync --wait say so
big=$(python3 -c 'import random,string; random.seed(1); print("".join(random.choice(string.ascii_letters) for _ in range(1000)))')
check "v1 writes a profile of over 1 kB on the wire, compressed" N v1 put health_profile HP-BIG \
	"{\"person_id\":\"209999999998\",\"full_name\":\"Lo Van Big\",\"birth_date\":\"1990-01-01\",\"allergies\":\"$big\",\"chronic_conditions\":\"$big\"}"
printf '[budget]\ndefault_per_session = 1KB\n' >"$T/big.conf"
start v1 --config "$T/big.conf" --peer 127.0.0.1:${PORTOF[c1]} && ok "v1 restarts with 1 KB a session" || fail "v1 restarts with 1 KB a session"
check "the small entry before it goes: c1 holds HP-LATE (20 s)" within 20 N c1 get health_profile HP-LATE
check "v1 holds the big one back (60 s)" within 60 held
check "--json: the entry over the whole budget, by its size on the wire" bash -c "[ '$(budget entry_too_big)' -gt 1000 ]"
N v1 status >"$T/big.txt" 2>&1
sed 's/^/    # /' "$T/big.txt" | tail -2
check "status says an entry is larger than the whole budget" grep -q 'c1 (bk/c1): connected, HOLDING BACK entries: one is larger than the whole byte budget for this peer' "$T/big.txt"
check "and that it waits until per_session is raised, in the singular" \
	grep -qE '^    1 entry waits: one of [0-9.]+ kB is larger than the whole budget \(1\.0 kB a session to c1 \(bk/c1\)\), and nothing goes after it until per_session is raised' "$T/big.txt"
check "not that it waits for the next session" bash -c "! grep -q 'next session' '$T/big.txt'"
check "sync --wait exits 1, saying the budget must be raised" bash -c "! '$H' --home '$T/v1' sync --wait --timeout 20 2>'$T/bigwait.err' && grep -qE 'not in sync: 1 entry for c1 waits, as one of [0-9.]+ kB is larger than the whole byte budget \(1\.0 kB a session\) and nothing goes past it: raise per_session' '$T/bigwait.err'"
sed 's/^/    # /' "$T/bigwait.err"
check "c1 does not hold it" bash -c "! '$H' --home '$T/c1' get health_profile HP-BIG"
tests_done
