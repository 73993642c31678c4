#!/usr/bin/env bash
# Writes that come in a burst over the HTTP API, 16 at once, while a peer
# is connected: the node sends each as it is written, and the peer asks
# for what it lacks at the same time. When the burst is over the peer
# holds every record and says so: "in sync", nothing still "receiving"
# (a sync's count of what was asked for must not count twice what came
# before the asking, nor outlast an agreement of the two).
#   tests/scenario_burst.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; everything listens on 127.0.0.1.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
needs curl xargs
tests_scratch burst
ROOT=$T/bk.root.key
network_bk p:bk c:bk/c1
check "the root certifies the province p" issue p province bk --root-key "$ROOT"
check "and the commune c" issue c commune bk/c1 --root-key "$ROOT"
W=$(N p token create --name app --role write --scope bk 2>/dev/null)
check "a write token for the province's API" test -n "$W"
start_http p && ok "p serves HTTP" || { fail "p serves HTTP"; tests_done; exit 1; }
URL=http://127.0.0.1:$HP
check "c starts, p its peer" start c --peer 127.0.0.1:${PORTOF[p]}
check "c connects to p (30 s)" within 30 bash -c "'$H' --home '$T/c' status --json | grep -q '\"connected\": *true'"

# burst K: 300 events written at p, 16 requests at a time
burst() {
	seq 1 300 | xargs -P 16 -I{} curl -s -o /dev/null --max-time 30 -X PUT \
		-H "Authorization: Bearer $W" \
		"$URL/v1/records/health_event/EV-$1-{}?scope=bk/c1/v1" \
		-d '{"person_id":"001122330001","kind":"vital","date":"2026-12-04","value":"{}"}'
}
not_receiving() { ! N c status | grep -q "receiving from"; }
for k in 1 2 3; do
	burst "$k"
	check "burst $k: p holds its 300 events" bash -c "[ \"\$('$H' --home '$T/p' export health_event --format ndjson | grep -c '\"EV-$k-')\" = 300 ]"
	check "burst $k: c says it is in sync with p (60 s)" within 60 N c sync --wait --timeout 5
	check "burst $k: c holds the 300 events" bash -c "[ \"\$('$H' --home '$T/c' export health_event --format ndjson | grep -c '\"EV-$k-')\" = 300 ]"
	check "burst $k: and its status shows nothing still being received" not_receiving
done
tests_done
