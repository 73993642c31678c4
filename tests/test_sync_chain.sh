#!/usr/bin/env bash
# Three hamletd in a chain village -> commune -> province over 127.0.0.1,
# driven through the hamlet CLI, which writes to the stores while the
# daemons run. Every wait is bounded; the daemons are stopped at the end.
#   tests/test_sync_chain.sh PATH/TO/hamlet PATH/TO/hamletd
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch chain
V() { "$H" --home "$T/v" "$@"; }
C() { "$H" --home "$T/c" "$@"; }
P() { "$H" --home "$T/p" "$@"; }
# until NAME: run a command every 0.1 s, at most 300 times (30 s)
until_ok() {
	for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
same_digest() { local a b c; a=$(V digest) && b=$(C digest) && c=$(P digest) && [ -n "$a" ] && [ "$a" = "$b" ] && [ "$b" = "$c" ]; }
check "network created" "$H" network create chain --out "$T"
check "village node" V init --network "$T/chain.network" --name na-pai --scope bk/bach-thong/quang-thuan/na-pai
check "commune node" C init --network "$T/chain.network" --name quang-thuan --scope bk/bach-thong/quang-thuan
check "province node" P init --network "$T/chain.network" --name bac-kan --scope bk
# the village may read its commune's scope: the chain replicates whole
check "the root certifies the village" certify "$T/chain.root.key" v bk/bach-thong/quang-thuan bk/bach-thong/quang-thuan/na-pai
for n in c p; do check "the root certifies $n" certify "$T/chain.root.key" $n; done

launch c && PC=$PORT && ok "the commune's daemon listens" || fail "the commune's daemon listens"
launch v --peer 127.0.0.1:$PC && ok "the village's daemon listens" || fail "the village's daemon listens"
PV=$PORT
launch p --peer 127.0.0.1:$PC && ok "the province's daemon listens" || fail "the province's daemon listens"

{
	echo "id,person_id,full_name,birth_date,sex,village"
	for i in $(seq 1 500); do
		printf 'HP-%04d,%012d,Nguyen Van %d,1980-01-0%d,male,na-pai\n' "$i" "$i" "$i" $((i % 9 + 1))
	done
} >"$T/profiles.csv"
check "the village imports 500 profiles while its daemon runs" V import health_profile --format csv "$T/profiles.csv"
check "the commune adds a payment" C put payment PAY-1 '{"program":"social_allowance","beneficiary_id":"B1","period":"2026-10","amount_vnd":500000,"status":"created"}'
check "all three digests agree" until_ok same_digest
check "the province holds a village record" P get health_profile HP-0250

check "the village's writes go through its daemon" bash -c "'$H' --home '$T/v' put health_profile HP-0009 '{\"phone\":\"0912000009\"}' | grep -q 'through hamletd'"
# the link drops (the village stops dialling) so the two edits are concurrent
check "the village's link goes down" V peers remove 127.0.0.1:$PC
check "the village edits a phone" V put health_profile HP-0007 '{"phone":"0912000001"}'
check "the province edits the same phone" P put health_profile HP-0007 '{"phone":"0987000002"}'
check "the link comes back" V peers add 127.0.0.1:$PC
check "the edits meet and all three agree" until_ok same_digest
check "the village lists the conflict" bash -c "'$H' --home '$T/v' conflicts | grep -q HP-0007"
check "the province resolves it" P conflicts resolve health_profile HP-0007 '{"phone":"0987000002"}'
check "the resolution reaches the village" until_ok bash -c "! '$H' --home '$T/v' conflicts | grep -q HP-0007"
check "all three agree again" until_ok same_digest
check "the commune accepted both peers" \
	bash -c "test \$(grep -c 'connected (incoming from' '$T/c.log') -ge 2"
check "sync --wait on the commune reports agreement" C sync --wait --timeout 60
check "status on the commune shows both peers connected and in sync" \
	bash -c "test \$('$H' --home '$T/c' status | grep -c 'connected, in sync') = 2"
check "status --json says in_sync" bash -c "'$H' --home '$T/v' status --json | grep -q '\"in_sync\": true'"
check "peers list names the village's dial target" bash -c "'$H' --home '$T/v' peers list | grep -q 127.0.0.1"
check "peers list on the commune: it dials nobody, and both nodes dialled it" \
	bash -c "'$H' --home '$T/c' peers list >'$T/pl.out' && grep -q '^this node dials no peer' '$T/pl.out' && test \$(grep -c '^dialled us: .*connected' '$T/pl.out') = 2"
check "peers list --json says the same" bash -c \
	"'$H' --home '$T/c' peers list --json | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"dials\"]==[] and len(j[\"dialled_us\"])==2 and all(p[\"connected\"] and p[\"name\"] for p in j[\"dialled_us\"]) and j[\"strangers\"]==0, j'"
# the commune dials the village too: one of the two connections stands,
# perhaps the village's; the dial is known by the key that answered there
check "the commune dials the village as well" C peers add 127.0.0.1:$PV
check "peers list --json: the village is the commune's dial, connected, not also a node that dialled it (10 s)" within 10 bash -c \
	"'$H' --home '$T/c' peers list --json | python3 -c 'import json,sys; j=json.load(sys.stdin); d=j[\"dials\"]; assert len(d)==1 and d[0][\"addr\"]==\"127.0.0.1:$PV\" and d[0][\"connected\"] and d[0][\"name\"] and len(j[\"dialled_us\"])==1, j'"
check "the commune stops dialling the village" C peers remove 127.0.0.1:$PV
# which may close the connection that stood: the village dials again,
# after its backoff (doubled by the duplicate connections before, with
# jitter; a loaded machine's sanitized daemons take longer still)
check "peers list --json on the village: its dial target, who answered there (60 s)" within 60 bash -c \
	"'$H' --home '$T/v' peers list --json | python3 -c 'import json,sys; j=json.load(sys.stdin); d=j[\"dials\"]; assert len(d)==1 and d[0][\"addr\"].startswith(\"127.0.0.1:\") and d[0][\"connected\"] and len(d[0][\"key\"])==64, j'"
check "peers add and remove change the dial list" bash -c "'$H' --home '$T/v' peers add 127.0.0.1:9 && '$H' --home '$T/v' peers list | grep -q 127.0.0.1:9 && '$H' --home '$T/v' peers add 127.0.0.1:9 | grep -qx '127.0.0.1:9 is already among the daemon.s peers: nothing changed' && '$H' --home '$T/v' peers remove 127.0.0.1:9"
# a host name longer than DNS allows: said by the CLI, and by the daemon
# to a client that sends it anyway (it is a string, not a malformed request)
cat >"$T/longpeer.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
a = b"a" * 300 + b":1"
m = b"\x92\xa8peer_add\xda" + struct.pack(">H", len(a)) + a
s.sendall(struct.pack(">I", len(m)) + m)
r = s.recv(65536)
sys.exit(0 if b"a host name has at most 253 bytes" in r else 1)
PY
check "peers add with a 300-byte host name says it is too long (253 bytes at most)" bash -c "! '$H' --home '$T/v' peers add \$(printf 'a%.0s' \$(seq 300)):7450 2>'$T/long.err' && grep -q 'too long (a host name of 300 bytes, 305 in all): a host name has at most 253 bytes' '$T/long.err'"
check "and so does the daemon, to a client that sends it anyway" python3 "$T/longpeer.py" "$T/v/hamletd.sock"
# sync PEER reconciles with that peer alone: the commune, asked to sync
# with the village, sends it FEEDS and the village answers; the province
# hears nothing. Its count of messages from the commune is no witness
# (a keepalive goes over a link idle 30 s); its last sync with the
# commune is: the province dials the commune, so the commune's sync
# would announce its heads in FEEDS, which the province, holding the
# same, answers, counting a sync. Only the province's own reconciliation
# (every 5 minutes, NEG messages) moves that figure too; then its neg_in
# moves as well and the figure witnesses nothing.
node_key() { "$H" --home "$T/$1" status --json | sed -n 's/.*"node_key": *"\([0-9a-f]*\)".*/\1/p' | head -1; }
# peer_field NODE KEY FIELD: FIELD of the peer with KEY in NODE's status
peer_field() { "$H" --home "$T/$1" status --json | awk -v k="$2" -v f="\"$3\":" '/"key":/ { on = index($0, k) > 0 } on && $1 == f { v = $2; sub(/,$/, "", v); print v; exit }'; }
VK=$(node_key v); CK=$(node_key c)
ps0=$(peer_field p "$CK" last_sync_ms); pn0=$(peer_field p "$CK" neg_in); vs0=$(peer_field v "$CK" last_sync_ms)
check "status --json gives the node's key and per-peer figures" test -n "$VK" -a -n "$CK" -a -n "$ps0" -a -n "$pn0" -a -n "$vs0"
check "sync PEER by key prefix starts a sync with that peer" bash -c "'$H' --home '$T/c' sync ${VK:0:12} | grep -q 'sync started with ${VK:0:12}'"
# the village syncs with the commune, asked by the commune alone (before
# the village is asked itself, below): its last sync with it moves (a
# keepalive would move its count of messages, not this)
village_synced() { local s; s=$(peer_field v "$CK" last_sync_ms) && [ -n "$s" ] && [ "$s" -gt "$vs0" ]; }
check "the village hears from the commune (its last sync with it moves)" until_ok village_synced
check "sync PEER by its certificate's name as typed, case aside" bash -c "'$H' --home '$T/v' sync C | grep -qx 'sync started with c'"
refuse "peers remove of an address not dialled names it" 3 "127.0.0.9:9 is not in the list of peers this node dials" V peers remove 127.0.0.9:9
# the province does not: no sync with the commune since (unless its own
# reconciliation, which moves neg_in, came in between)
province_not_synced() {
	local s n
	s=$(peer_field p "$CK" last_sync_ms) && n=$(peer_field p "$CK" neg_in) &&
		[ -n "$s" ] && [ -n "$n" ] && { [ "$s" = "$ps0" ] || [ "$n" != "$pn0" ]; }
}
check "the province does not (its last sync with the commune stays)" province_not_synced
if C sync 127.0.0.9:9 >"$T/out" 2>&1; then
	fail "sync with a peer that is not connected must fail"
elif grep -q "127.0.0.9:9 is not a connected peer" "$T/out"; then ok "sync PEER names a peer that is not connected"
else fail "sync PEER says why"; cat "$T/out"; fi
if V sync --wait --timeout 2 127.0.0.1:1 >"$T/out" 2>&1; then
	fail "sync --wait on a peer that is not there must fail"
elif grep -q "not" "$T/out"; then ok "sync --wait names why it is not in sync and exits non-zero"
else fail "sync --wait says why"; cat "$T/out"; fi

# A bundle from a node that never talks to the daemons, imported on the
# village while its daemon runs: the daemon stores it and sends it on.
X() { "$H" --home "$T/x" "$@"; }
B() { "$H" --home "$T/b" "$@"; }
check "a hamlet node without a daemon" B init --network "$T/chain.network" --name ban-hai --scope bk/bach-thong/quang-thuan/na-pai/ban-hai
check "the root certifies it" certify "$T/chain.root.key" b
{
	echo "id,person_id,full_name,birth_date,sex,village"
	for i in $(seq 1 5000); do
		printf 'BH-%05d,%012d,Ban Hai %d,1990-02-0%d,female,na-pai\n' "$i" $((700000 + i)) "$i" $((i % 9 + 1))
	done
} >"$T/banhai.csv"
check "it imports 5000 profiles itself" B import health_profile --format csv "$T/banhai.csv"
check "it writes them into a bundle" B bundle create --unsealed "$T/banhai.bundle"
check "the province does not hold them yet" bash -c "! '$H' --home '$T/p' get health_profile BH-04999"
V bundle import "$T/banhai.bundle" >"$T/imp.out" 2>&1
rc=$?
if [ $rc = 0 ]; then ok "the village imports the bundle while its daemon runs"; else fail "the village imports the bundle while its daemon runs (exit $rc)"; sed 's/^/    /' "$T/imp.out"; fi
check "the import went through the village's daemon" grep -q "^stored through hamletd" "$T/imp.out"
check "the report counts every entry as applied" bash -c "grep -q '^  entries:    5000\$' '$T/imp.out' && grep -q '^  applied:    5000\$' '$T/imp.out' && grep -q '^  rejected:   0\$' '$T/imp.out' && grep -q '^  trailer:    ok' '$T/imp.out'"
check "the imported entries reach the commune and the province; all three agree" until_ok same_digest
check "the province holds a record from the bundle" P get health_profile BH-04999
# the same bundle into a node with no daemon: the report is the same
check "a node without a daemon" X init --network "$T/chain.network" --name spare --scope bk/bach-thong/quang-thuan/na-pai
check "the root certifies it" certify "$T/chain.root.key" x
X bundle import "$T/banhai.bundle" >"$T/direct.out" 2>&1
check "importing there reports exactly what the daemon's import reported" \
	diff -u "$T/direct.out" <(grep -v '^stored through hamletd' "$T/imp.out")
check "the direct import did not claim the daemon" bash -c "! grep -q 'through hamletd' '$T/direct.out'"
check "importing again through the daemon finds every entry a duplicate" \
	bash -c "'$H' --home '$T/v' bundle import '$T/banhai.bundle' | grep -q '^  duplicate:  5000 '"
# one entry's signed record id changed: the daemon rejects that entry and
# the rest of its run (seqs 1234-1280: a run's entries after it are
# rebuilt with its id as their prev, proto/SPEC.md 1.7), 47 in all
# (inside its compressed run: tests/tools/bundle_tamper.py)
python3 "$(dirname "$0")/tools/bundle_tamper.py" "$T/banhai.bundle" "$T/tampered.bundle" BH-01234 BH-01235
check "the tampered bundle differs from the original" bash -c "! cmp -s '$T/banhai.bundle' '$T/tampered.bundle'"
V bundle import "$T/tampered.bundle" >"$T/tamp.out" 2>&1
rc=$?
if [ $rc != 0 ]; then ok "a tampered bundle's import through the daemon exits non-zero"; else fail "a tampered bundle's import through the daemon exits non-zero"; fi
check "the daemon's verdicts name the altered entry and the altered file, and claim nothing stored" \
	bash -c "! grep -q '^stored through hamletd' '$T/tamp.out' && grep -q '^  rejected:   47\$' '$T/tamp.out' && grep -q '^  duplicate:  4953 ' '$T/tamp.out' && grep -q 'signature: entry at byte .*BH-01235 (feed .* seq 1234)' '$T/tamp.out' && grep -q 'the file was altered' '$T/tamp.out'"
X bundle import "$T/tampered.bundle" >"$T/tamp-direct.out" 2>&1
check "the direct path reports the tampered bundle the same way" \
	diff -u "$T/tamp-direct.out" <(grep -v '^stored through hamletd' "$T/tamp.out")
check "all three still agree" until_ok same_digest

# The province's daemon stops after agreeing with the commune, which
# then lists it as not connected. Its lag is 0: it agreed after the
# commune's newest entry (newest - last_sync once wrapped around to
# 18446744073709282 s).
PK=$(node_key p)
peer_is() { [ "$(peer_field "$1" "$2" "$3")" = "$4" ]; }
check "sync --wait on the commune: both peers agree after the newest entry" C sync --wait --timeout 60
kill -TERM "${pids[2]}" && wait "${pids[2]}"
check "the province's daemon stops cleanly" test $? = 0
pids=("${pids[0]}" "${pids[1]}")
check "the commune sees the province disconnected" until_ok peer_is c "$PK" connected false
lag=$(peer_field c "$PK" lag_s)
if [ "$lag" = 0 ]; then ok "a disconnected peer that agreed after our newest entry has lag_s 0"; else fail "a disconnected peer that agreed after our newest entry has lag_s 0 (got $lag)"; fi
# a node that dialled us and went away holds no wait: sync --wait is about
# the connected peers and those we dial
check "sync --wait on the commune: in sync with the village, the province gone" \
	bash -c "'$H' --home '$T/c' sync --wait --timeout 20 | grep -q 'in sync with 1 connected peer'"
check "a peer the village dials and cannot reach is named when the rest are in sync" \
	bash -c "'$H' --home '$T/v' peers add 127.0.0.1:1 >/dev/null && '$H' --home '$T/v' sync --wait --timeout 20 >'$T/w.out' 2>&1 && grep -q 'note: 127.0.0.1:1, a peer this node dials, is not connected' '$T/w.out'; r=\$?; '$H' --home '$T/v' peers remove 127.0.0.1:1 >/dev/null; exit \$r"
refuse "sync --wait naming a peer that is not connected fails, naming it" 3 "is not a connected peer" \
	C sync --wait --timeout 3 "$PK"

for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
stopped=1
for p in "${pids[@]}"; do
	for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$p" 2>/dev/null; then
		stopped=0
	else
		wait "$p" || stopped=0 # exit status 0: clean, no sanitizer report
	fi
done
pids=()
if [ $stopped = 1 ]; then ok "the daemons stop cleanly on SIGTERM"; else fail "the daemons stop cleanly on SIGTERM"; fi

tests_done
