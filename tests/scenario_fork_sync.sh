#!/usr/bin/env bash
# A village whose key was copied to a second PC (a fork of its feed) stays
# connected to its commune, and is told. Commune C (bk/c1) is dialled by
# villages V (bk/c1/v1) and W (bk/c1/w), each copied before the daemons
# start.
#  1. V stays connected while C imports a bundle from V's copy, which
#     signed another seq 2: the fork's proof reaches V at once; V's log,
#     `hamlet forks` and `hamlet status` say that this node's key signed
#     two different entries, either because another PC uses it or
#     because its store was put back from a backup and written in before
#     it synced; V writes nothing more in that feed, and its sync --wait
#     does not call it in sync (what it writes there reaches no one).
#  2. W, stopped, writes seq 3 while C imports a bundle from W's copy,
#     which signed another seq 2: when W comes back, offering seq 3 of
#     the feed C holds frozen at seq 2, the session goes on and W hears
#     of the fork (once C dropped the session as a protocol fault, backed
#     W off and dropped it again at each try, and W never heard why).
# In both, what C then writes in the village's scope still reaches it.
#  3. X (bk/c1/x) writes seq 2 and C has it; X's copy signs another seq
#     2 offline, and dials C once X has stopped. Both sides hold the feed
#     at the same seq, with another head: sync finds the fork (it used to
#     find nothing, both saying "in sync" while holding other data, until
#     one wrote again): C's and the copy's `hamlet forks` list it.
#   tests/scenario_fork_sync.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch fork_sync
ROOT=$T/bk.root.key
profile() {
	N "$1" put health_profile "$2" "{\"person_id\":\"$3\",\"full_name\":\"Lo Van $2\",\"birth_date\":\"1990-01-01\"}"
}
# has NAME DESCRIPTION PATTERN ARGS...: hamlet ARGS on NAME prints a line
# matching the ERE PATTERN
has() {
	local n=$1 d=$2 pat=$3; shift 3
	if N "$n" "$@" >"$T/out" 2>&1 && grep -qE -- "$pat" "$T/out"; then ok "$d"
	else fail "$d (no /$pat/)"; sed 's/^/    /' "$T/out" | head -30; fi
}
# bundle_to_c FROM: C imports the bundle FROM makes of what C lacks (exit
# status of the import). A copy's bundle is still written when create
# finds the copy's own feed forked at C (exit 1, the fork named).
bundle_to_c() {
	local rc
	N C summary --out "$T/c.sum" >/dev/null || return 9
	N "$1" bundle create --for "$T/c.sum" "$T/$1.bundle" >/dev/null 2>&1
	rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || return 9
	N C bundle import "$T/$1.bundle" >"$T/import.out" 2>&1
}

check "network created" "$H" network create bk --out "$T"
for spec in C:bk/c1 V:bk/c1/v1 W:bk/c1/w X:bk/c1/x; do
	n=${spec%%:*} s=${spec#*:}
	check "$n joins with scope $s" N "$n" init --network "$T/bk.network" --name "${n,,}" --scope "$s"
done
check "the root certifies C" issue C commune bk/c1 --root-key "$ROOT" --delegate
check "the root certifies V" issue V village bk/c1/v1 --root-key "$ROOT"
check "the root certifies W" issue W village bk/c1/w --root-key "$ROOT"
check "the root certifies X" issue X village bk/c1/x --root-key "$ROOT"
check "V writes seq 1" profile V V-1 001000000001
check "W writes seq 1" profile W W-1 002000000001
check "V's home, key and all, is copied to a second PC" cp -a "$T/V" "$T/V2"
check "so is W's" cp -a "$T/W" "$T/W2"
check "X writes seq 1" profile X X-1 003000000001
check "and X's" cp -a "$T/X" "$T/X2"

start C && ok "C's daemon listens" || fail "C's daemon listens"
start V --peer 127.0.0.1:${PORTOF[C]} && ok "V dials C" || fail "V dials C"
start W --peer 127.0.0.1:${PORTOF[C]} && ok "W dials C" || fail "W dials C"
check "C is in sync with V and W (30 s)" within 30 N C sync --wait --timeout 10

# --- 1. the fork found while V is connected -------------------------------
check "V writes seq 2, through its hamletd" N V put health_profile V-1 '{"phone":"0900000001"}'
check "and C has it" N V sync --wait --timeout 10
check "the copy signs another seq 2" N V2 put health_profile V-1 '{"phone":"0900000002"}'
bundle_to_c V2
check "C imports the copy's bundle: one fork (exit 1)" test $? = 1
check "V's log names it, as this node's own key's, while connected (15 s)" \
	within 15 grep -q "this node's key signed two different entries at seq 2 of its feed bk/c1/v1: either another PC uses this key (stop that PC), or this PC's store was put back from a backup and written in before it had synced. Either way, call the administrator" "$T/V.log"
has V "V's forks lists the fork" '^1 forked feed' forks
has V "and says it is this node's key, what it means and what to do" "^  THIS NODE'S KEY: either another PC uses this key \(stop that PC\), or this PC's store was put back from a backup and written in before it had synced; either way, call the administrator \(a new key and certificate\)\$" forks
has V "forks --json marks it as this node's own" '"own": true' forks --json
# V learnt of the fork from its proof alone: of the two entries, the one
# V holds is the feed's own, the copy's the evidence
has V "V's forks marks the seq 2 V holds as the feed's own entry" "^  seq 2 .*the feed's own entry\$" forks
has V "and the copy's seq 2 as the one kept as evidence" "^  seq 2 .*kept as evidence\$" forks
has V "V's status warns of it first, naming both causes" "^WARNING: this node's key signed two different entries at seq 2 of its feed bk/c1/v1: .* Either another PC uses this key .*: stop that PC. Or this PC's store was put back from a backup" status
has V "status --json lists it in own_forks" '"scope": "bk/c1/v1"' status --json
check "V's next write in that feed is refused, naming the fork" bash -c "! '$H' --home '$T/V' put health_profile V-2 '{\"person_id\":\"001000000002\",\"full_name\":\"B\",\"birth_date\":\"1990-01-01\"}' >'$T/frozen.out' 2>&1 && grep -q 'frozen after a fork' '$T/frozen.out'"
check "and told what to do: a new key and certificate from the administrator" grep -q 'the administrator gives this node a new key and certificate' "$T/frozen.out"
check "C writes a record in V's scope" N C put health_profile C-V --scope bk/c1/v1 '{"person_id":"001000000009","full_name":"From C","birth_date":"1990-01-01"}'
check "and V receives it (15 s)" within 15 N V get health_profile C-V
check "V's sync --wait: not in sync (exit 1), its own feed frozen" bash -c "'$H' --home '$T/V' sync --wait --timeout 10 2>'$T/out'; [ \$? = 1 ] && grep -q \"this node's own feed bk/c1/v1 is frozen after a fork at seq 2\" '$T/out'"
check "V's session with C was never closed" bash -c "! grep -q 'closed:' '$T/V.log' && [ \$(grep -c 'connected (outgoing' '$T/V.log') = 1 ]"
has C "C's forks does not call it its own key" '^1 forked feed' forks
check "and says nothing of it being this node's" bash -c "! '$H' --home '$T/C' forks | grep -q \"THIS NODE'S KEY\""
check "C's status has no such warning" bash -c "! '$H' --home '$T/C' status | grep -q \"this node's key signed\""
has C "but C's status counts the village's feed frozen after a fork, and says what to do" "^forks: 1 feed of another node frozen after a fork \(its key signed two different entries at one seq: a copied key, or a store put back\): hamlet --home [^ ]+ forks shows both entries; the administrator revokes that key" status
has C "status --json counts it in other_forks" '"other_forks": 1' status --json

# --- 2. the village wrote past the fork before it knew -------------------
check "W writes seq 2, through its hamletd" N W put health_profile W-1 '{"phone":"0900000003"}'
check "and C has it" N W sync --wait --timeout 10
stop W
check "W, stopped, writes seq 3, past what will be the fork" profile W W-2 002000000002
check "the copy of W signs another seq 2" N W2 put health_profile W-1 '{"phone":"0900000004"}'
bundle_to_c W2
check "C imports the copy's bundle: one fork (exit 1)" test $? = 1
: >"$T/W.log"
start W --peer 127.0.0.1:${PORTOF[C]} && ok "W dials C again, with seq 3 to offer" || fail "W dials C again, with seq 3 to offer"
check "W's log names the fork as this node's key's (15 s)" \
	within 15 grep -q "this node's key signed two different entries at seq 2 of its feed bk/c1/w: either another PC uses this key" "$T/W.log"
has W "W's forks says it is this node's key" "^  THIS NODE'S KEY: either another PC uses this key" forks
has W "W's status warns of it" "^WARNING: this node's key signed two different entries at seq 2 of its feed bk/c1/w" status
check "C writes a record in W's scope" N C put health_profile C-W --scope bk/c1/w '{"person_id":"002000000009","full_name":"From C","birth_date":"1990-01-01"}'
check "and W receives it (15 s)" within 15 N W get health_profile C-W
check "W's sync --wait: not in sync (exit 1), as C takes nothing past the fork" bash -c "'$H' --home '$T/W' sync --wait --timeout 10 2>'$T/out'; [ \$? = 1 ] && grep -q \"this node's own feed bk/c1/w is frozen after a fork at seq 2\" '$T/out'"
has W "W's status: connected, in sync" '^  C \(bk/c1\): connected, in sync' status
check "C did not drop W for it, nor back it off" bash -c "! grep -q 'dropped:\\|backed off' '$T/C.log'"
check "W's session with C was never closed" bash -c "! grep -q 'closed:' '$T/W.log'"

# --- 3. two heads at one seq, met by sync --------------------------------
start X --peer 127.0.0.1:${PORTOF[C]} && ok "X dials C" || fail "X dials C"
check "X writes seq 2, through its hamletd" N X put health_profile X-1 '{"phone":"0900000005"}'
check "and C has it" N X sync --wait --timeout 10
stop X
check "the copy of X signs another seq 2" N X2 put health_profile X-1 '{"phone":"0900000006"}'
check "C holds no fork of X's feed yet" bash -c "! '$H' --home '$T/C' forks | grep -q 'bk/c1/x'"
start X2 --peer 127.0.0.1:${PORTOF[C]} && ok "X's copy dials C" || fail "X's copy dials C"
N X2 sync --wait --timeout 10 >/dev/null 2>&1
check "C's forks lists the fork of X's feed (15 s)" \
	within 15 bash -c "'$H' --home '$T/C' forks | grep -q 'bk/c1/x'"
check "C's sync --wait then finds the forked feed frozen, not data apart" \
	N C sync --wait --timeout 10
# C learnt of this fork from its proof: of the two entries, the one C
# applied is the feed's own, the copy's is the evidence (both used to
# read "kept as evidence")
N C forks >"$T/cforks" 2>&1
check "C's forks marks X's seq 2 that C holds as the feed's own entry" \
	grep -q "^  seq 2 .*the feed's own entry\$" "$T/cforks"
check "and the copy's seq 2 as the one kept as evidence" \
	grep -q "^  seq 2 .*kept as evidence\$" "$T/cforks"
check "the copy's log names the fork as this node's key's (15 s)" \
	within 15 grep -q "this node's key signed two different entries at seq 2 of its feed bk/c1/x" "$T/X2.log"
has X2 "the copy's forks says it is this node's key" "^  THIS NODE'S KEY: either another PC uses this key" forks

daemons_stop
tests_done
