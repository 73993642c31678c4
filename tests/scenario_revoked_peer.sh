#!/usr/bin/env bash
# A peer whose key the root revoked, as the commune sees it: hamlet status,
# its --json and the status page say its key is revoked (not that a
# certificate ended, which a renewal mends), and count nothing as waiting
# to go out to it, since no node will ever take from it again. When the
# commune dials it, what it is told is that it refuses that node itself
# (not that the other node refuses it for reasons it does not say), and
# what to do: point at another peer, take the address out.
#   tests/scenario_revoked_peer.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; everything listens on 127.0.0.1.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
command -v curl >/dev/null || { echo "curl is missing: skipped"; exit 77; }
tests_scratch revoked-peer
network_bk c:bk/c1 v:bk/c1/v w:bk/c1/w
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

check "the root certifies another village" issue w village bk/c1/w --root-key "$T/bk.root.key"
start w --peer 127.0.0.1:${PORTOF[c]} && ok "that village dials the commune" || fail "that village dials the commune"
# the revoked village dials again and is backed off as a fault first:
# the commune's own dial then meets that backoff, and must still say
# that it refuses the village's certificate
check "the commune refuses the revoked village's own dial, backing it off (40 s)" within 40 grep -q "peer v (bk/c1/v): dropped: no valid certificate: its key is revoked" "$T/c.log"
check "the commune dials the revoked village" N c peers add 127.0.0.1:${PORTOF[v]}
"$H" --home "$T/c" sync --wait --timeout 20 >"$T/sync.out" 2>"$T/sync.err"
check "sync notes that it refuses that peer's certificate, not that anything waits for it" bash -c "grep -q 'a peer this node dials, is refused here: its certificate does not hold' '$T/sync.err' && ! grep -q 'what is new here waits for it' '$T/sync.err'"
dial_line() { "$H" --home "$T/c" status | grep -q "this node refuses that node: its certificate does not hold here"; }
check "status says this node refuses it, and how to stop dialling it (20 s)" within 20 dial_line
check "and not that the other node refuses this one" bash -c "! '$H' --home '$T/c' status | grep -q 'that node closes the connection before any session'"
check "status --json: its stage is peer_certificate" bash -c "'$H' --home '$T/c' --json status | python3 -c 'import json,sys; u=json.load(sys.stdin)[\"unreached\"]; assert [x[\"stage\"] for x in u] == [\"peer_certificate\"], u'"
check "the status page says so" bash -c "curl -s --max-time 10 'http://127.0.0.1:$HP/?lang=en' | grep -q 'this node refuses it: its certificate does not hold here'"
check "in Vietnamese too" bash -c "curl -s --max-time 10 'http://127.0.0.1:$HP/?lang=vi' | grep -q 'nút này từ chối nó'"
check "status in Vietnamese too" bash -c "LC_ALL=vi_VN.UTF-8 '$H' --home '$T/c' status | grep -q 'nút này từ chối nút đó'"
tests_done
