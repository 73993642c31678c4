#!/usr/bin/env bash
# A peer whose key the root revoked, as the commune sees it: hamlet status,
# its --json and the status page say its key is revoked (not that a
# certificate ended, which a renewal mends), and count nothing as waiting
# to go out to it, since no node will ever take from it again.
#   tests/scenario_revoked_peer.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; everything listens on 127.0.0.1.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
command -v curl >/dev/null || { echo "curl is missing: skipped"; exit 77; }
tests_scratch revoked-peer
network_bk c:bk/c1 v:bk/c1/v
check "the root certifies the commune" issue c commune bk/c1 --root-key "$T/bk.root.key"
check "and the village" issue v village bk/c1/v --root-key "$T/bk.root.key"
start_http c && ok "the commune's daemon starts, with its page" || fail "the commune's daemon starts, with its page"
start v --peer 127.0.0.1:${PORTOF[c]} && ok "the village dials it" || fail "the village dials it"
check "the village writes a record" N v put health_profile HP-1 '{"person_id":"001122334455","full_name":"Lo Thi Mai","birth_date":"1990-04-12"}'
check "the commune holds it (20 s)" within 20 N c get health_profile HP-1
check "the commune sees the village connected and in sync (20 s)" within 20 bash -c "'$H' --home '$T/c' status | grep -q '^  v (bk/c1/v): connected, in sync'"

check "the root revokes the village's key, at the commune" N c cert revoke "$(key v)" --root-key "$T/bk.root.key" --reason "PC stolen"
check "the commune writes for the village's scope" N c put health_profile HP-2 --scope bk/c1/v '{"person_id":"001122334466","full_name":"Lo Van Binh","birth_date":"1991-02-03"}'
revoked_line() { "$H" --home "$T/c" status | grep '^  v (bk/c1/v, key revoked): not connected, KEY REVOKED: every node refuses it, and nothing here waits for it'; }
check "status says its key is revoked and nothing waits for it (20 s)" within 20 revoked_line
check "and counts no entry waiting to go out to it" bash -c "'$H' --home '$T/c' status | grep 'KEY REVOKED' | grep -q '; 0 entries waiting to go out'"
check "status --json: name_source certificate_revoked, waiting_out 0, not in sync" bash -c "'$H' --home '$T/c' --json status | python3 -c 'import json,sys; p=json.load(sys.stdin)[\"peers\"][0]; assert (p[\"name_source\"], p[\"waiting_out\"], p[\"in_sync\"]) == (\"certificate_revoked\", 0, False), p'"
check "the status page says its key is revoked, with nothing to do" bash -c "curl -s --max-time 10 'http://127.0.0.1:$HP/?lang=en' | tee '$T/page.html' | grep -q 'not connected: its key is revoked' && grep -q 'nothing here waits for it' '$T/page.html'"
check "in Vietnamese too" bash -c "curl -s --max-time 10 'http://127.0.0.1:$HP/?lang=vi' | grep -q 'khóa của nút đó đã bị thu hồi'"
tests_done
