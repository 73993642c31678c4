#!/usr/bin/env bash
# What waits to go out, on a slow link and across a USB stick. Village v1
# (bk/c1/v1) sends commune c1 (bk/c1) its entries through
# tests/tools/faultproxy at 2G speed (20 kB/s, 300 ms each way, the proxy
# holding up to 1 MiB), so that batches sit on the wire while nothing on
# the sender moves: v1's `sync --wait` does not exit 0, nor does its
# status call c1 in sync, before c1 holds every entry. When the link is
# cut mid-transfer, v1's status counts what c1 still lacks as waiting.
# Then province p (bk) goes down, and c1 imports the bundle of village w1
# (bk/c1/w1, no daemon) carrying a payment written before c1 and p last
# agreed: c1's status counts it as waiting for p (in words and --json,
# and with c1's hamletd stopped) until p is back and has it.
#   tests/scenario_slow_link.sh PATH/TO/hamlet PATH/TO/hamletd PATH/TO/faultproxy
# Every wait is bounded, none is asserted; daemons and the proxy listen on
# 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd PATH/TO/faultproxy}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd PATH/TO/faultproxy}
FP=${3:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd PATH/TO/faultproxy}
. "$(dirname "$0")/testlib.sh"
tests_scratch slow_link
ROOT=$T/bk.root.key

network_bk p:bk c1:bk/c1 v1:bk/c1/v1 w1:bk/c1/w1
check "the root certifies p" issue p province bk --root-key "$ROOT" --delegate
check "the root certifies c1" issue c1 commune bk/c1 --root-key "$ROOT" --delegate
check "c1 certifies v1" issue v1 village bk/c1/v1 --issuer-home "$T/c1"
check "c1 certifies w1" issue w1 village bk/c1/w1 --issuer-home "$T/c1"
profiles() { # FROM TO: a CSV of profiles FROM..TO
	echo "id,person_id,full_name,birth_date,sex"
	for i in $(seq "$1" "$2"); do
		printf 'HP-%05d,%012d,Lo Thi Mai %d,1990-04-12,female\n' "$i" "$((110000000000 + i))" "$i"
	done
}
profiles 1 3000 >"$T/a.csv"
profiles 3001 6000 >"$T/b.csv"
# a figure of a status --json: stored entries, or one of peer NAME's
entries() { N "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])'; }
peer() { N "$1" status --json | python3 -c "import json,sys; print([p for p in json.load(sys.stdin)['peers'] if p['name']=='$2'][0]['$3'])"; }

start p && ok "p's daemon listens" || fail "p's daemon listens"
start c1 --peer 127.0.0.1:${PORTOF[p]} && ok "c1 dials p" || fail "c1 dials p"

# the 2G link: v1 -> proxy -> c1
proxy_start "${PORTOF[c1]}" --rate 20000 --delay 300 --max-seconds 600 && ok "a 20 kB/s link with 300 ms each way stands before c1" || fail "the proxy listens"
start v1 --peer 127.0.0.1:$PX && ok "v1 dials c1 through it" || fail "v1 dials c1 through it"
check "v1 and c1 are in sync before anything is written (60 s)" within 60 N v1 sync --wait --timeout 20

# --- 1. sync --wait, and status, on the sender while batches are on the wire ---
check "v1 imports 3,000 profiles" N v1 import health_profile --format csv "$T/a.csv"
N v1 sync --wait --timeout 240 >"$T/wait.out" 2>&1
rc=$?
got=$(entries c1)
sed 's/^/    # /' "$T/wait.out"
check "v1's sync --wait exits 0 (in sync)" test "$rc" = 0
check "and only once c1 holds all 3,000 (it holds $got)" test "$got" = 3000

check "v1 imports 3,000 more" N v1 import health_profile --format csv "$T/b.csv"
: >"$T/early"
# while c1 lacks some, v1's status never calls it in sync (v1 is read
# first: c1 commits a batch before acknowledging it)
for _ in $(seq 1 600); do
	s=$(peer v1 c1 in_sync) w=$(peer v1 c1 waiting_out) n=$(entries c1)
	[ "$n" -ge 6000 ] && break
	[ "$s" = True ] && echo "in_sync while c1 holds $n, waiting_out $w" >>"$T/early"
	[ "$s" = False ] && [ "$n" -gt 3000 ] && N v1 status >"$T/sending.txt" 2>&1
	[ "$n" -ge 4000 ] && break
	sleep 0.2
done
check "v1's status does not call c1 in sync while entries are on their way" test ! -s "$T/early"
sed 's/^/    # /' "$T/early" | head -3
check "it says it is sending, and what still waits" grep -qE '^  c1 \(bk/c1\): connected, (sending|syncing), .*; [1-9][0-9,]* entr(y|ies) waiting to go out' "$T/sending.txt"
sed 's/^/    # /' "$T/sending.txt" | grep 'c1 (bk/c1)'

# --- 2. the link is cut mid-transfer ---
proxy_stop
check "v1 sees c1 gone (30 s)" within 30 bash -c "[ \$('$H' --home '$T/v1' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"peers\"][0][\"connected\"])') = False ]"
n=$(entries c1)
w=$(peer v1 c1 waiting_out)
N v1 status >"$T/cut.txt" 2>&1
sed 's/^/    # /' "$T/cut.txt" | grep 'c1 (bk/c1)'
check "c1 was cut off short of the 6,000 (it holds $n)" test "$n" -lt 6000
check "v1 counts what c1 lacks as waiting to go out ($w, c1 lacks $((6000 - n)))" test "$w" -ge $((6000 - n))
check "in words too" grep -qE '^  c1 \(bk/c1\): NOT CONNECTED, .*; [1-9][0-9,]* entries waiting to go out' "$T/cut.txt"
refuse "v1's sync --wait c1 does not say in sync" 1 "not in sync" N v1 sync c1 --wait --timeout 3
stop v1

# --- 3. a USB stick at c1 while p is down ---
check "c1 and p are in sync (60 s)" within 60 N c1 sync p --wait --timeout 20
check "w1, with no daemon, writes a payment" N w1 put payment PAY-W1 '{"program":"social_allowance","beneficiary_id":"001100000019","period":"2026-11","amount_vnd":500000,"status":"created"}'
check "c1 writes a profile" N c1 put health_profile HP-C1 '{"person_id":"120000000001","full_name":"Lo Van C","birth_date":"1980-01-01"}'
check "c1 and p agree after it (60 s)" within 60 bash -c "'$H' --home '$T/c1' sync p --wait --timeout 20 && [ \$('$H' --home '$T/c1' status --json | python3 -c \"import json,sys; print([p for p in json.load(sys.stdin)['peers'] if p['name']=='p'][0]['waiting_out'])\") = 0 ]"
stop p
check "c1 sees p gone (100 s)" within 100 bash -c "[ \$('$H' --home '$T/c1' status --json | python3 -c \"import json,sys; print([p for p in json.load(sys.stdin)['peers'] if p['name']=='p'][0]['connected'])\") = False ]"
check "c1 writes its summary" N c1 summary --out "$T/c1.summary"
check "w1 creates a bundle for c1" N w1 bundle create --for "$T/c1.summary" "$T/w1.bundle"
check "c1 imports it through hamletd" bash -c "'$H' --home '$T/c1' bundle import '$T/w1.bundle' | grep -q 'applied: *1$'"
N c1 status >"$T/stick.txt" 2>&1
grep -A1 '^  p (bk)' "$T/stick.txt" | sed 's/^/    # /'
check "c1's status: the payment waits for p, though dated before they last agreed" \
	grep -qE '^  p \(bk\): NOT CONNECTED, last agreed .*; 1 entry waiting to go out;' "$T/stick.txt"
check "status --json says the same: waiting_out 1, not in sync" bash -c "[ \"\$('$H' --home '$T/c1' status --json | python3 -c \"import json,sys; p=[p for p in json.load(sys.stdin)['peers'] if p['name']=='p'][0]; print(p['waiting_out'], p['in_sync'])\")\" = '1 False' ]"
check "the store line counts c1's own write alone as written here" grep -qE '^store: .*\(1 written here\)' "$T/stick.txt"
stop c1
N c1 status >"$T/stopped.txt" 2>&1
check "with c1's hamletd stopped, the payment still waits for p" \
	grep -qE '^  p \(bk\): last met .*; 1 entry waits to go out to it$' "$T/stopped.txt"
# p comes back where c1 dials it
"$D" --home "$T/p" --listen 127.0.0.1:${PORTOF[p]} 2>>"$T/p.log" &
pids+=("$!")
start c1 --peer 127.0.0.1:${PORTOF[p]} && ok "c1 starts again, dialling p" || fail "c1 starts again"
check "p gets the payment (60 s)" within 60 N p get payment PAY-W1
check "and c1 then counts nothing waiting for p (60 s)" within 60 bash -c "[ \"\$('$H' --home '$T/c1' status --json | python3 -c \"import json,sys; p=[p for p in json.load(sys.stdin)['peers'] if p['name']=='p'][0]; print(p['waiting_out'], p['in_sync'])\")\" = '0 True' ]"
tests_done
