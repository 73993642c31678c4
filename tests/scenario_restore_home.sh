#!/usr/bin/env bash
# A village's whole state directory put back from yesterday's backup, and
# written in before it synced (its commune's PC was off): the write signs
# again a seq the commune holds, a fork of the village's own feed. When
# the two meet, everything the village says names both possible causes (a
# copy of its key on another PC, or its store put back from a backup and
# written in before it synced) and what to do: hamlet status, hamlet
# forks, hamletd's log and the status page (English and Vietnamese). And
# hamlet sync --wait does not call it in sync (exit 1, --json in_sync
# false), as what the village writes in that feed reaches no one. A
# province that meets the commune later takes the feed up to the fork and
# is in sync, not waiting for what the commune holds past it.
#   tests/scenario_restore_home.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
command -v curl >/dev/null || { echo "curl is missing: skipped"; exit 77; }
tests_scratch restore_home
ROOT=$T/bk.root.key
put() { N v put health_profile "$1" "{\"person_id\":\"00112230000$2\",\"full_name\":\"A B\",\"birth_date\":\"1990-01-01\"}"; }

check "network created" "$H" network create bk --out "$T"
check "c joins with scope bk/c1" N c init --network "$T/bk.network" --name c --scope bk/c1
check "v joins with scope bk/c1/v1" N v init --network "$T/bk.network" --name v --scope bk/c1/v1
check "the root certifies c" issue c commune bk/c1 --root-key "$ROOT" --delegate
check "c certifies v" issue v village bk/c1/v1 --issuer-home "$T/c"

start c && ok "c's daemon listens" || fail "c's daemon listens"
start v --peer 127.0.0.1:${PORTOF[c]} && ok "v dials c" || fail "v dials c"
check "v writes A-1 (seq 1)" put A-1 1
check "and syncs it to c" N v sync --wait --timeout 20
stop v
check "yesterday's backup of v's whole state directory" cp -a "$T/v" "$T/vbak"
start v --peer 127.0.0.1:${PORTOF[c]} && ok "v dials c again" || fail "v dials c again"
check "v writes A-2 (seq 2)" put A-2 2
check "v writes A-4 (seq 3)" put A-4 4
check "and syncs them to c" N v sync --wait --timeout 20
stop v
stop c
check "v's disk is put back from the backup" bash -c "rm -rf '$T/v' && cp -a '$T/vbak' '$T/v'"
check "v writes A-3 before any sync, c's PC off: seq 2 again" bash -c "'$H' --home '$T/v' put health_profile A-3 '{\"person_id\":\"001122300003\",\"full_name\":\"A B\",\"birth_date\":\"1990-01-01\"}' | grep -q 'seq 2'"

start c && ok "c's PC is back" || fail "c's PC is back"
start_http v --peer 127.0.0.1:${PORTOF[c]} && ok "v dials c, serving its page" || fail "v dials c, serving its page"
URL=http://127.0.0.1:$HP
check "v learns of the fork of its own feed (30 s)" within 30 bash -c "'$H' --home '$T/v' forks | grep -q \"THIS NODE'S KEY\""

N v status >"$T/status.txt" 2>&1
grep "^WARNING: this node's key" "$T/status.txt" | sed 's/^/    # /'
check "status warns of the fork at seq 2 of v's feed" grep -q "^WARNING: this node's key signed two different entries at seq 2 of its feed bk/c1/v1" "$T/status.txt"
check "naming a copy of the key on another PC, and what to do" grep -q "Either another PC uses this key (a copy of this node's files): stop that PC" "$T/status.txt"
check "and a store put back from a backup and written in before it synced" grep -q "Or this PC's store was put back from a backup and written in before it had synced with its peers: there is nothing to stop. Either way, call the administrator: the node needs a new key and certificate" "$T/status.txt"
check "forks names both causes" bash -c "'$H' --home '$T/v' forks | grep -q \"^  THIS NODE'S KEY: either another PC uses this key (stop that PC), or this PC's store was put back from a backup and written in before it had synced; either way, call the administrator\""
# the daemon logs it once the evidence is stored, which forks reads: a
# moment after, on its loop
check "so does hamletd's log" within 10 grep -q "this node's key signed two different entries at seq 2 of its feed bk/c1/v1: either another PC uses this key (stop that PC), or this PC's store was put back from a backup and written in before it had synced" "$T/v.log"
check "and the status page" bash -c "curl -s --max-time 10 '$URL/' | grep -q 'or this PC.s store was put back from a backup and written in before it had synced\\|Or this PC.s store was put back from a backup and written in before it had synced'"
check "and the page in Vietnamese" bash -c "curl -s --max-time 10 -H 'Accept-Language: vi' '$URL/' | grep -q 'khôi phục từ bản sao lưu và được ghi thêm trước khi kịp đồng bộ'"

N v sync --wait --timeout 20 >"$T/wait.out" 2>"$T/wait.err"
rc=$?
sed 's/^/    # /' "$T/wait.err"
check "sync --wait does not call it in sync (exit 1)" test "$rc" = 1
check "it names the frozen feed and why waiting changes nothing" grep -q "not in sync: this node's own feed bk/c1/v1 is frozen after a fork at seq 2 (its key signed two different entries there): what it wrote there after that seq reaches no other node, and waiting changes nothing" "$T/wait.err"
check "nor does --json: in_sync false, naming the fork" bash -c "! '$H' --home '$T/v' --json sync --wait --timeout 20 >'$T/wait.json' && python3 -c \"import json; j=json.load(open('$T/wait.json')); assert j['in_sync'] is False and 'frozen after a fork' in j['reason'], j\""
check "c's sync --wait is not held by v's fork: in sync" N c sync --wait --timeout 20

# a province that meets c only now: c names v's feed at seq 3, and sends
# it no further than the fork (seq 2); p's sync ends there, not waiting
# for seq 3, which no node sends (it waited, "the link may be down")
check "p joins with scope bk" N p init --network "$T/bk.network" --name p --scope bk
check "the root certifies p" issue p province bk --root-key "$ROOT"
start p --peer 127.0.0.1:${PORTOF[c]} && ok "p dials c" || fail "p dials c"
check "p's sync --wait: in sync (exit 0), not waiting for what c holds past the fork" N p sync --wait --timeout 30
check "p holds what v wrote before the fork" N p get health_profile A-1
check "and awaits nothing from c" bash -c "'$H' --home '$T/p' --json status | python3 -c 'import json,sys; assert all(\"progress\" not in q for q in json.load(sys.stdin)[\"peers\"])'"
tests_done
