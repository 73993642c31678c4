#!/usr/bin/env bash
# A day's byte budget across power cuts: village v1 sends to commune c1
# under 40 KB a day; as soon as the budget holds entries back, v1's
# hamletd is killed (kill -9, as a power cut) and started again, twice,
# each time well within the 30 s of its periodic save. The day's count
# goes on from what was sent before each cut, so c1 receives the day's
# budget once, not once a boot. Nor does v1's clock set back across
# midnight (its hamletd started again in a zone a day behind, TZ=UTC+24,
# as the day's date goes back when a clock that ran fast is set right)
# give it the earlier day's budget: the day's count carries over.
#   tests/scenario_budget_cut.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch budgetcut
export TZ=UTC0 # the day of the rounds below; the last sets it back a day
ROOT=$T/bk.root.key

network_bk c1:bk/c1 v1:bk/c1/v1
check "the root certifies c1" issue c1 commune bk/c1 --root-key "$ROOT" --delegate
check "c1 certifies v1" issue v1 village bk/c1/v1 --issuer-home "$T/c1"
{
	echo "id,person_id,full_name,birth_date,sex,village,phone"
	for i in $(seq 1 1500); do
		printf 'HP-V%04d,%012d,Lo Van %d,1990-01-01,male,v1,09%08d\n' "$i" "$((200000000000 + i))" "$i" "$i"
	done
} >"$T/v1.csv"
check "v1 imports 1,500 profiles" N v1 import health_profile --format csv "$T/v1.csv"

records() { N c1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])'; }
budget() { N v1 status --json | python3 -c "import json,sys; print(json.load(sys.stdin)['peers'][0]['budget']['$1'])"; }
held() { [ "$(budget held_back)" = True ]; }
# the day's budget spent: held, and all but the last entry's bytes sent
# (a pump may hold for a moment before it is, and go on after an ACK)
spent() { held && [ "$(budget sent_today)" -gt 35000 ]; }
# entries v1 sent c1 in its current session
sent_out() { N v1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["peers"][0]["entries_out"])'; }
# c1 holds every entry v1 sent it (c1 held none before)
caught_up() { [ "$(records)" = "$(sent_out)" ]; }
# cut NAME: kill NAME's daemon as a power cut would (no clean stop)
cut() {
	local p=${PIDOF[$1]} keep=() q
	kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null
	for q in "${pids[@]}"; do [ "$q" != "$p" ] && keep+=("$q"); done
	pids=("${keep[@]}")
	PIDOF[$1]=
}
printf '[budget]\ndefault_per_day = 40KB\n' >"$T/day.conf"

start c1 && ok "c1's daemon listens" || fail "c1's daemon listens"
start v1 --config "$T/day.conf" --peer 127.0.0.1:${PORTOF[c1]} && ok "v1 dials c1 with 40 KB a day" || fail "v1 dials c1 with 40 KB a day"
check "v1 spends the day's budget and holds the rest back (30 s)" within 30 spent
sent=$(budget sent_today)
check "at most the budget was sent, and most of it ($sent bytes)" test "$sent" -le 40000 -a "$sent" -gt 30000
check "c1 has stored all v1 sent before the budget held the rest (20 s)" within 20 caught_up
n1=$(records)
check "c1 holds about 40 KB's worth of entries ($n1)" test "$n1" -gt 100 -a "$n1" -lt 1000
# Two power cuts, then a stop while the clock is set back across
# midnight (by hand, or NTP setting a clock that ran fast right): the
# bytes sent count on, and no cut or clock gives a new day's budget; only
# passing a midnight not passed before does.
for round in 1 2 back; do
	tz=$TZ what="($round)"
	[ "$round" = back ] && tz=UTC+24 what="(its clock a day back)"
	cut v1
	ok "power cut $round: v1's hamletd killed"
	TZ=$tz start v1 --config "$T/day.conf" --peer 127.0.0.1:${PORTOF[c1]} && ok "v1 starts again $what" || fail "v1 starts again $what"
	check "it holds entries back for the day's budget (20 s)" within 20 held
	s2=$(budget sent_today)
	check "its count of today's bytes went on from before the cut ($sent -> $s2)" test "$s2" -ge "$sent" -a "$s2" -le 40000
	check "it sends c1 no entry in its new session" test "$(sent_out)" = 0
	check "none more arrive at c1 (3 s)" never 3 bash -c "[ \$('$H' --home '$T/c1' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"entries\"])') -gt $((n1 + 20)) ]"
	n2=$(records)
	check "c1 received no second day's budget ($n1 -> $n2)" test "$n2" -le $((n1 + 20))
done

# A clock days ahead, set right while the day's budget holds entries
# back (v1's hamletd under libfaketime, its clock moved while it runs):
# the count carries over to today (budget_day_roll), so the peer waits
# no more than until the next midnight, not until the day after the
# wrong date. Skipped where libfaketime is not installed.
if faketime_lib; then
	more() { [ "$(records)" -gt $((n1 + 20)) ]; }
	sed 's/^HP-V/HP-W/; s/,2000/,3000/' "$T/v1.csv" >"$T/v1b.csv"
	check "v1 enters 1,500 more profiles, for the days below" N v1 import health_profile --format csv "$T/v1b.csv"
	cut v1
	echo "+5d" >"$T/faketime"
	LD_PRELOAD=$FT FAKETIME_TIMESTAMP_FILE=$T/faketime FAKETIME_NO_CACHE=1 \
	FAKETIME_DONT_FAKE_MONOTONIC=1 ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		start v1 --config "$T/day.conf" --peer 127.0.0.1:${PORTOF[c1]} && ok "v1 starts again, its clock 5 days ahead" || fail "v1 starts again, its clock 5 days ahead"
	check "that day's budget goes, and the rest is held back (30 s)" within 30 spent
	sleep 3
	n1=$(records)
	echo "+0" >"$T/faketime"
	check "its clock set right, v1 still holds the rest back (5 s)" never 5 more
	echo "+1d" >"$T/faketime"
	check "at the next midnight of its right clock, v1 sends c1 more (20 s)" within 20 more
	# that day's budget spent again, c1 away: the next midnight lifts
	# the hold in status at once, not when c1 is back
	check "v1 spends that day's budget too (30 s)" within 30 spent
	stop c1
	check "v1 sees c1 gone (20 s)" within 20 bash -c "'$H' --home '$T/v1' status --json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"peers\"][0][\"connected\"])'"
	check "and still holds the rest for that day's budget" held
	echo "+2d" >"$T/faketime"
	check "at the next midnight, with c1 away, status no longer holds them for the day's budget (10 s)" within 10 bash -c "! '$H' --home '$T/v1' status --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"peers\"][0][\"budget\"][\"held_back\"] else 1)'"
else
	echo "skipped: a clock set right under a running hamletd (no libfaketime)"
fi
tests_done
