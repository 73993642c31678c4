#!/usr/bin/env bash
# A commune wrote in one of its villages' scope; the village moved to
# another commune; the commune's store was lost and made again. Its own
# feed in its own scope waits for its entries to come back (its writes
# there are refused meanwhile); its feed in the moved village's scope is
# out of its reach: those entries never come back to it, nothing waits
# for them, and status says so instead of waiting forever.
#   tests/scenario_own_feeds_moved.sh PATH/TO/hamlet PATH/TO/hamletd
# No daemon runs: every step is a command on the node's home.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch ownmoved
P1='{"person_id":"001190000001","full_name":"Lo Thi A","birth_date":"1990-01-01"}'
P2='{"person_id":"001190000002","full_name":"Lo Van B","birth_date":"1991-01-01"}'
move() { N C scope move lc/a/v lc/b/v --root-key "$T/lc.root.key" --reason "boundary change"; }

check "network created" "$H" network create lc --out "$T"
check "commune C joins with scope lc/a" N C init --network "$T/lc.network" --name c --scope lc/a
check "the root certifies C to read and write lc/a" certify "$T/lc.root.key" C lc/a lc/a
check "C writes in its village v's scope" N C put health_profile X1 --scope lc/a/v "$P1"
check "and in its own" N C put health_profile X2 "$P2"
check "the root moves village v to commune lc/b" move
mv "$T/C/store" "$T/C/store.lost"
check "C's store made again learns of the move again" move
N C status >"$T/status.txt" 2>&1
sed 's/^/    # /' "$T/status.txt" | grep -i "own" | head -4
check "status: its own scope's feed waits for its entry" \
	grep -q "^own writes: WAITING for this node's own earlier entries: its store was restored or replaced and holds less than the node signed in 1 feed;" "$T/status.txt"
check "and names only that feed as waiting" bash -c "grep -q '^  feed lc/a: signed up to seq 1, the store holds up to seq 0$' '$T/status.txt' && ! grep -q '^  feed lc/a/v' '$T/status.txt'"
check "the moved village's feed: out of reach, nothing to do" \
	grep -q "^own feed lc/a/v: signed up to seq 1, the store holds up to seq 0; its scope is no longer this node's to keep (moved, or no longer in its certificate): those entries stay with the nodes that keep it, and this node writes nothing there: nothing to do$" "$T/status.txt"
check "status --json: restoring lists lc/a, own_feeds_out_of_reach lc/a/v" bash -c \
	"'$H' --home '$T/C' status --json | python3 -c 'import json,sys; j=json.load(sys.stdin); assert [f[\"scope\"] for f in j[\"restoring\"]] == [\"lc/a\"] and j[\"own_feeds_out_of_reach\"] == [{\"scope\": \"lc/a/v\", \"signed\": 1, \"stored\": 0}], j'"
check "own-feeds marks lc/a WAITING and lc/a/v out of reach" bash -c \
	"'$H' --home '$T/C' own-feeds >'$T/own.txt'; grep -q '^  lc/a: signed up to seq 1, the store holds up to seq 0: WAITING for seqs 1-1 from the peers$' '$T/own.txt' && grep -q '^  lc/a/v: signed up to seq 1, the store holds up to seq 0: out of this node.s reach' '$T/own.txt'"
check "own-feeds --json: waiting false and out_of_reach true for lc/a/v" bash -c \
	"'$H' --home '$T/C' own-feeds --json | python3 -c 'import json,sys; f={x[\"scope\"]: x for x in json.load(sys.stdin)[\"feeds\"]}; assert f[\"lc/a\"][\"waiting\"] and not f[\"lc/a\"][\"out_of_reach\"] and not f[\"lc/a/v\"][\"waiting\"] and f[\"lc/a/v\"][\"out_of_reach\"], f'"
tests_done
