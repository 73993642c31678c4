#!/usr/bin/env bash
# What a scope move takes out of a store, and what it must not, on two
# daemons on loopback: the province P (lc) and W, a commune office whose
# node.conf names its village (lc/cao-son/xa) and whose certificate reads
# its commune (lc/cao-son). P registers a person in another village of
# the commune; W holds the record.
#  1. W's node.cert stops reading (cut short) while its daemon runs, and a
#     move of a scope nobody writes reaches it: W takes nothing out (judged
#     by its own scope alone, it would have emptied the store of the
#     commune's records).
#  2. Its certificate back, a move of that other village out of the
#     commune reaches W: W takes the village's records out and says so.
#   tests/scenario_move_keep.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch movekeep
ROOT=$T/lc.root.key
N() { local n=$1; shift; "$H" --home "$T/$n" "$@"; }
key() { sed -n 's/^public_key = //p' "$T/$1/node.conf"; }
synced() { N "$1" sync --wait --timeout 3 >/dev/null 2>&1; true; }
holds() { synced "$1"; N "$1" get "$2" "$3" >/dev/null 2>&1; }
moved() { # NODE FROM: NODE holds the move of FROM
	synced "$1"; N "$1" scope list | grep -q "^$2 -> "
}
TAKEN="a scope move left entries outside what this node may read: taken out of its store (stored: [0-9]*, waiting: [0-9]*)"

check "network created" "$H" network create lc --out "$T"
check "P joins with scope lc" N P init --network "$T/lc.network" --name p --scope lc
check "W joins with scope lc/cao-son/xa" N W init --network "$T/lc.network" --name w --scope lc/cao-son/xa
check "P certified for lc" bash -c "'$H' cert issue --root-key '$ROOT' --to '$(key P)' --name P --role province --read lc --write lc --out '$T/P.cert' >/dev/null && '$H' --home '$T/P' cert install '$T/P.cert' >/dev/null"
check "W certified to read lc/cao-son, its commune" bash -c "'$H' cert issue --root-key '$ROOT' --to '$(key W)' --name W --role commune --read lc/cao-son --write lc/cao-son/xa --out '$T/W.cert' >/dev/null && '$H' --home '$T/W' cert install '$T/W.cert' >/dev/null"
start P && ok "P's daemon listens" || fail "P's daemon listens"
start W --peer 127.0.0.1:${PORTOF[P]} && ok "W dials P" || fail "W dials P"
check "P registers a person of lc/cao-son/ban-pho, another village of W's commune" \
	N P put health_profile HP-1 --scope lc/cao-son/ban-pho '{"person_id":"400000000001","full_name":"Hoang Van A","birth_date":"1990-01-01"}'
check "W holds the record (30 s)" within 30 holds W health_profile HP-1

# --- 1. a certificate that does not read: nothing taken out ---------------------
cp "$T/W/node.cert" "$T/W.cert.good"
head -c 200 "$T/W.cert.good" >"$T/W/node.cert"
check "W's node.cert cut short while its daemon runs" bash -c "! cmp -s '$T/W/node.cert' '$T/W.cert.good'"
check "the root moves lc/cao-son/nobody, a scope nobody writes, through P" \
	N P scope move lc/cao-son/nobody lc/cao-son/ai-do --root-key "$ROOT" --reason "renamed"
check "the move reaches W (30 s)" within 30 moved W lc/cao-son/nobody
check "W takes nothing out (5 s)" never 5 grep -q "$TAKEN" "$T/W.log"
cp "$T/W.cert.good" "$T/W/node.cert"
check "W still holds HP-1, with its certificate back" N W get health_profile HP-1

# --- 2. a village moved out of the commune: taken out ---------------------------
check "the root moves lc/cao-son/ban-pho to lc/bao-lac/ban-pho, through P" \
	N P scope move lc/cao-son/ban-pho lc/bao-lac/ban-pho --root-key "$ROOT" --reason "boundary change"
check "the move reaches W (30 s)" within 30 moved W lc/cao-son/ban-pho
check "W takes the village's entries out of its store, and says so (30 s)" within 30 grep -q "$TAKEN" "$T/W.log"
check "W no longer holds HP-1" bash -c "! '$H' --home '$T/W' get health_profile HP-1 2>/dev/null"
check "P still does" N P get health_profile HP-1

daemons_stop
for n in P W; do check "$n's store verifies" N "$n" verify; done
tests_done
