#!/usr/bin/env bash
# A village that keeps working after its certificate ends: what it saves
# meanwhile is refused by every other node until an administrator gives
# it a certificate valid from then. The renewal `cert issue` makes by
# default starts a day before it is signed; the village's status and
# cert install say which entries that leaves out and what to ask for
# (cert issue --from DATE); a commune that knows the earlier certificate
# starts its renewal where that one ended. Days pass by
# HAMLET_CLOCK_OFFSET_MS.
#   tests/scenario_cert_gap.sh PATH/TO/hamlet PATH/TO/hamletd
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
export TZ=UTC # the dates below are UTC days
tests_scratch certgap
DAY=86400000
# at DAYS COMMAND...: COMMAND with this PC's clock DAYS days off
at() { local d=$1; shift; HAMLET_CLOCK_OFFSET_MS=$((d * DAY)) "$@"; }
C() { "$H" --home "$T/c" "$@"; }
V() { "$H" --home "$T/v" "$@"; }
rec() { echo "{\"person_id\":\"00110000002$1\",\"full_name\":\"Gap $1\",\"birth_date\":\"1990-01-01\"}"; }

check "network create" "$H" network create bk --out "$T"
check "commune node" C init --network "$T/bk.network" --scope bk/c1
check "village node" V init --network "$T/bk.network" --scope bk/c1/v1
check "the root certified the commune 30 days ago" at -30 "$H" cert issue --root-key "$T/bk.root.key" \
	--to "$(key c)" --name Com --role commune --read bk/c1 --write bk/c1 --delegate --out "$T/c.cert"
check "the commune installs it" C cert install "$T/c.cert"
check "25 days ago the commune certified the village until 20 days ago" \
	at -25 C cert issue --issuer-home "$T/c" --to "$(key v)" --name V1 --role village \
	--read bk/c1/v1 --write bk/c1/v1 --expires "$(date -u -d '-20 days' +%F)" --out "$T/v1.cert"
check "the village installs it" at -25 V cert install "$T/v1.cert"
check "the village saves G-1 while it holds" at -24 V put health_profile G-1 "$(rec 1)"
check "and G-2 ten days ago, after it ended, with a note" bash -c "HAMLET_CLOCK_OFFSET_MS=$((-10 * DAY)) '$H' --home '$T/v' put health_profile G-2 '$(rec 2)' 2>&1 | grep -q 'does not hold now'"
check "status says so already, while no certificate holds" bash -c "'$H' --home '$T/v' status | grep -q 'when no certificate of it held'"

check "the root signs a renewal as by default (from a day ago)" "$H" cert issue --root-key "$T/bk.root.key" \
	--to "$(key v)" --name V1b --role village --read bk/c1/v1 --write bk/c1/v1 --out "$T/v1b.cert"
day=$(date -u -d '-10 days' +%F)
check "installing it says G-2 stays refused, with its date and the fix" bash -c "'$H' --home '$T/v' cert install '$T/v1b.cert' 2>&1 | grep -q \"warning: this certificate does not cover .*1 entry this node saved from $day .* is refused by every other node.*valid from $day (hamlet cert issue ... --from $day)\""
check "status says the same" bash -c "'$H' --home '$T/v' status | grep -q \"^WARNING: 1 entry this node saved from $day.*--from $day\""
check "status --json names it" bash -c "'$H' --home '$T/v' status --json | python3 -c 'import json,sys; l=json.load(sys.stdin)[\"lapsed\"]; assert l[\"entries\"]==1 and l[\"from\"]==\"$day\", l'"
check "the village saves G-3 under the renewal" V put health_profile G-3 "$(rec 3)"

# the commune, running, and the village syncing with it
start c || fail "the commune's daemon starts"
start v --peer 127.0.0.1:${PORTOF[c]} || fail "the village's daemon starts"
check "the village's status does not call the commune in sync: it refuses G-2" \
	within 30 bash -c "'$H' --home '$T/v' status | grep -q 'connected, NOT IN SYNC: it refuses 1 entry this node saved when no certificate of it held'"
check "--json: not in_sync" bash -c "'$H' --home '$T/v' status --json | python3 -c 'import json,sys; p=json.load(sys.stdin)[\"peers\"]; assert any(x.get(\"refuses_lapsed\")==1 and x[\"in_sync\"] is False for x in p), p'"
refuse "sync --wait does not call it in sync either, and says what to do at once" 1 "not in sync: 1 entry this node saved from $day.*--from $day" \
	V sync --wait --timeout 60
refuse "nor when asked about the commune alone" 1 "not in sync: 1 entry this node saved" \
	V sync "$(key c | cut -c1-8)" --wait --timeout 60
check "the commune holds G-1" C get health_profile G-1
check "but not G-2" bash -c "! '$H' --home '$T/c' get health_profile G-2"
# (the certificates are named in the trust set's order, V1 first or not)
check "the commune's reason for G-2 is the entry's own date, to the second, not this PC's clock" bash -c "'$H' --home '$T/c' verify --report 2>&1 | grep -q \"it is dated $day [0-9:]* UTC, when no certificate of its author held (.*\\\"V1\\\" [0-9-]* [0-9:]* - [0-9-]* [0-9:]*[;) ].*UTC, issuers. included): its author needs one valid from that date\" && ! '$H' --home '$T/c' verify --report 2>&1 | grep -q \"this PC's clock\""
check "the commune's status counts the refusal with its cause among the words" bash -c "'$H' --home '$T/c' status | grep -q 'refused since the daemon started: .*outside what their author.s certificates let it write, or dated when none of them held'"
check "nor G-3, which waits for it" bash -c "! '$H' --home '$T/c' get health_profile G-3"

check "--from takes DD/MM/YYYY and refuses a day that does not exist" bash -c "'$H' cert issue --root-key '$T/bk.root.key' --to '$(key v)' --name X --role village --read bk/c1/v1 --write bk/c1/v1 --from 31/02/2027 --out '$T/x.cert' 2>&1 | grep -q 'from \"31/02/2027\" is not a day'"
check "a --from that lies ahead is a usage error saying to issue the renewal without it" bash -c "'$H' cert issue --root-key '$T/bk.root.key' --to '$(key v)' --name X --role village --read bk/c1/v1 --write bk/c1/v1 --from \$(date -u -d '+30 days' +%F) --out '$T/ahead.cert' >'$T/ahead.out' 2>&1; [ \$? = 2 ] && grep -q 'lies ahead: a node installs a certificate only once it holds. Issue the renewal without --from' '$T/ahead.out' && [ ! -e '$T/ahead.cert' ]"
check "a day that does not exist is a usage error (exit 2), as for --expires" bash -c "'$H' cert issue --root-key '$T/bk.root.key' --to '$(key v)' --name X --role village --read bk/c1/v1 --write bk/c1/v1 --from 31/02/2027 --out '$T/x.cert' >/dev/null 2>&1; [ \$? = 2 ]"
check "the commune's renewal starts where the earlier certificate ended, by itself" bash -c "'$H' --home '$T/c' cert issue --issuer-home '$T/c' --to '$(key v)' --name V1c --role village --read bk/c1/v1 --write bk/c1/v1 --out '$T/v1c.cert' | grep -q \"valid from $(date -u -d '-19 days' +%F) 00:00:00 UTC, when the earlier certificate of this key ended\""
check "installed, it leaves no warning" bash -c "'$H' --home '$T/v' cert install '$T/v1c.cert' 2>&1 | { ! grep -q 'does not cover'; }"
check "status neither" bash -c "! '$H' --home '$T/v' status | grep -q 'when no certificate of it held'"
V sync >/dev/null 2>&1
check "the commune takes G-2" within 30 C get health_profile G-2
check "and G-3 after it" within 30 C get health_profile G-3
check "the village is in sync with it" within 30 bash -c "'$H' --home '$T/v' status | grep -q 'connected, in sync'"
check "and sync --wait says so" V sync --wait --timeout 60
check "a start given with --from is the start of that day" bash -c "'$H' cert issue --root-key '$T/bk.root.key' --to '$(key v)' --name V1d --role village --read bk/c1/v1 --write bk/c1/v1 --from $day --out '$T/v1d.cert' | grep -q 'valid from $day 00:00:00 UTC'"
daemons_stop
tests_done
