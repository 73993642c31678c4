#!/usr/bin/env bash
# A PC whose clock is days off, as the nodes on both sides meet it.
# Village v5's clock is two days ahead (HAMLET_CLOCK_OFFSET_MS): commune
# c1 refuses what it writes as dated too far ahead, and its ACKs say so
# (SPEC 5.7), so v5's status and sync --wait do not call it in sync but
# say that c1 refused the entry and that the clock must be checked; c1's
# log and status name v5, and c1 does not wait for the refused entry.
# Its clock set right, v5 dates what it writes from then on by it.
# Village v6's clock is two days behind: its certificate is "not valid
# yet", and status and a write say to check this PC's date and time.
#   tests/scenario_clock.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch clock
DAYS2=172800000 # two days, in ms
# hamlet on v5's home with its clock two days ahead, on v6's two behind
V5() { env HAMLET_CLOCK_OFFSET_MS=$DAYS2 "$H" --home "$T/v5" "$@"; }
V6() { env HAMLET_CLOCK_OFFSET_MS=-$DAYS2 "$H" --home "$T/v6" "$@"; }

check "network created" "$H" network create bk --out "$T"
for spec in c1:bk/c1 v5:bk/c1/v5 v6:bk/c1/v6; do
	n=${spec%%:*} s=${spec#*:}
	check "$n joins with scope $s" N "$n" init --network "$T/bk.network" --name "$n" --scope "$s"
	check "the root certifies $n" certify "$T/bk.root.key" "$n"
done
check "v5, its clock two days ahead, writes a record" \
	V5 put health_profile HP-F1 '{"person_id":"600000000001","full_name":"Future","birth_date":"1990-01-01"}'

start c1 && ok "c1's daemon listens" || fail "c1's daemon listens"
export HAMLET_CLOCK_OFFSET_MS=$DAYS2
start v5 --peer 127.0.0.1:${PORTOF[c1]} && ok "v5's daemon, two days ahead, dials c1" || fail "v5's daemon, two days ahead, dials c1"
unset HAMLET_CLOCK_OFFSET_MS

check "c1's log names v5 as the node whose entry it refused (20 s)" \
	within 20 grep -q "peer v5 (bk/c1/v5): refused 1 entry it sent, dated more than 24 h ahead of this node's clock (1 on this session): that PC's clock, or this one's, is wrong" "$T/c1.log"
check "v5's log says c1 refused it, and to check the clock (10 s)" \
	within 10 grep -q "peer c1 (bk/c1): refused 1 entry sent to it, as dated more than 24 h ahead of its clock (1 on this session): check the date and time of this PC" "$T/v5.log"
check "c1 does not hold the record" bash -c "! '$H' --home '$T/c1' get health_profile HP-F1"

V5 sync --wait --timeout 20 >"$T/wait.out" 2>"$T/wait.err"
rc=$?
sed 's/^/    # /' "$T/wait.err"
check "sync --wait on v5 does not call it in sync (exit 1)" test "$rc" = 1
check "it says c1 refused the entry as dated ahead, and to check this PC's clock" \
	grep -q "not in sync: c1 refused 1 entry sent to it as dated more than 24 h ahead of its clock: check the date and time of this PC (and of that one)" "$T/wait.err"
check "nor does --json: in_sync false, with that reason" bash -c "! env HAMLET_CLOCK_OFFSET_MS=$DAYS2 '$H' --home '$T/v5' --json sync --wait --timeout 20 >'$T/wait.json' && python3 -c \"import json; j=json.load(open('$T/wait.json')); assert j['in_sync'] is False and 'dated more than 24 h ahead' in j['reason'], j\""
V5 status >"$T/v5.status" 2>&1
sed 's/^/    # /' "$T/v5.status" | tail -2
check "v5's status does not call c1 in sync: it refuses what it is sent" \
	grep -q "c1 (bk/c1): connected, NOT IN SYNC: it refuses entries sent to it, dated too far ahead of its clock" "$T/v5.status"
check "and says the entry has not arrived, and to check the clock" \
	grep -q "^    c1 (bk/c1) refused 1 entry sent to it as dated more than 24 h ahead of its clock: it has not arrived. Check the date and time of this PC" "$T/v5.status"
check "v5's status --json: in_sync false, the refused entry counted" bash -c "V5() { env HAMLET_CLOCK_OFFSET_MS=$DAYS2 '$H' --home '$T/v5' \"\$@\"; }; V5 status --json | python3 -c 'import json,sys; p=json.load(sys.stdin)[\"peers\"][0]; assert p[\"in_sync\"] is False and p[\"entries_refused_ahead_out\"] == 1, p'"

N c1 status >"$T/c1.status" 2>&1
sed 's/^/    # /' "$T/c1.status" | tail -2
check "c1's status names v5 as the node whose entry it refused" \
	grep -q "^    refused 1 entry from v5 (bk/c1/v5) as dated more than 24 h ahead of this PC's clock: the clock there (or here) is wrong" "$T/c1.status"
check "c1's status --json counts it for v5" bash -c "'$H' --home '$T/c1' status --json | python3 -c 'import json,sys; p=json.load(sys.stdin)[\"peers\"][0]; assert p[\"entries_refused_ahead_in\"] == 1, p'"
check "c1 does not go on waiting for the refused entry (10 s)" \
	within 10 bash -c "! '$H' --home '$T/c1' status | grep -q 'receiving from v5'"
daemons_stop

# v5's clock set right: what it writes from then on carries today's
# date, not the date its clock had reached while two days ahead
check "v5, its clock set right, writes another record" \
	N v5 put health_profile HP-F2 '{"person_id":"600000000003","full_name":"Now","birth_date":"1990-01-01"}'
check "that record is dated today, not two days ahead" bash -c "'$H' --home '$T/v5' get health_profile HP-F2 --json | python3 -c 'import json,sys,datetime; u=json.load(sys.stdin)[\"updated\"]; t=datetime.datetime.fromisoformat(u.replace(\"Z\",\"+00:00\")); d=abs((t-datetime.datetime.now(datetime.timezone.utc)).total_seconds()); assert d < 3600, (u, d)'"
check "the first, written while two days ahead, keeps its date" bash -c "'$H' --home '$T/v5' get health_profile HP-F1 --json | python3 -c 'import json,sys,datetime; u=json.load(sys.stdin)[\"updated\"]; t=datetime.datetime.fromisoformat(u.replace(\"Z\",\"+00:00\")); d=(t-datetime.datetime.now(datetime.timezone.utc)).total_seconds(); assert d > 86400, (u, d)'"

# two days behind: v6's certificate is not valid yet by its clock
V6 status >"$T/v6.status" 2>&1
sed 's/^/    # /' "$T/v6.status" | sed -n 2p
check "status says the certificate is not valid yet, with both dates, and to check the clock" \
	grep -qE '^certificate: NONE VALID: certificate 1 of the chain \("v6"\) is not valid yet: it holds from [0-9-]+ [0-9:]+ UTC, and this PC.s clock says [0-9-]+ [0-9:]+ UTC; check this PC.s date and time \(or, if that start was chosen ahead with cert issue --from, install it from that day on' "$T/v6.status"
V6 put health_profile HP-P1 '{"person_id":"600000000002","full_name":"Past","birth_date":"1990-01-01"}' >"$T/v6.put" 2>&1
check "a write there says other nodes refuse it until this PC's date and time are set right" \
	grep -q "other nodes refuse what it writes until this PC's date and time are set right" "$T/v6.put"
tests_done
