#!/usr/bin/env bash
# A first sync cut short. Village v1 (bk/c1/v1) holds 3,000 profiles it
# has never sent; it dials commune c1 (bk/c1) through tests/tools/
# faultproxy at 2G speed, and the link is cut while c1 holds some of
# them. v1 and c1 never agreed, so nothing but what c1 acknowledged is
# known to be there: v1's status counts the rest as waiting to go out
# (in words and --json, and with its hamletd stopped: what c1
# acknowledged is kept in the store), and when the link
# is back it never calls c1 in sync before c1 holds all 3,000, and c1's
# progress goes on from where the cut left it (the same total, not what
# was left of it, counted again from 0)
# (docs/operator-guide.md "What waits for a peer"); its sync --wait on a
# terminal shows what it sends meanwhile.
#   tests/scenario_first_cut.sh PATH/TO/hamlet PATH/TO/hamletd PATH/TO/faultproxy
# Every wait is bounded, none is asserted; daemons and the proxy listen on
# 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd PATH/TO/faultproxy}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd PATH/TO/faultproxy}
FP=${3:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd PATH/TO/faultproxy}
. "$(dirname "$0")/testlib.sh"
tests_scratch first_cut
ROOT=$T/bk.root.key

network_bk c1:bk/c1 v1:bk/c1/v1
check "the root certifies c1" issue c1 commune bk/c1 --root-key "$ROOT" --delegate
check "c1 certifies v1" issue v1 village bk/c1/v1 --issuer-home "$T/c1"
{
	echo "id,person_id,full_name,birth_date,sex"
	for i in $(seq 1 3000); do
		printf 'HP-%05d,%012d,Lo Thi Mai %d,1990-04-12,female\n' "$i" "$((110000000000 + i))" "$i"
	done
} >"$T/a.csv"
check "v1 imports 3,000 profiles" N v1 import health_profile --format csv "$T/a.csv"
entries() { N "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])'; }
peer() { N v1 status --json | python3 -c "import json,sys; p=json.load(sys.stdin)['peers']; print(p[0]['$1'] if p else '')"; }
# prog: c1's progress receiving from v1, "RECEIVED TOTAL" (empty: none)
prog() { N c1 status --json | python3 -c "import json,sys; p=json.load(sys.stdin)['peers']; g=p[0].get('progress') if p else None; print('%d %d' % (g['received'], g['total']) if g else '')"; }


start c1 && ok "c1's daemon listens" || fail "c1's daemon listens"
proxy_start "${PORTOF[c1]}" --rate 20000 --delay 150 --max-seconds 300 && ok "a 20 kB/s link stands before c1" || fail "the proxy listens"
bg=$PXPID
start v1 --peer 127.0.0.1:$PX && ok "v1 dials c1 through it" || fail "v1 dials c1 through it"
check "c1 has over 300 of v1's entries (60 s)" within 60 bash -c "[ \$('$H' --home '$T/c1' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"entries\"])') -gt 300 ]"
g0=$(prog)
proxy_stop
check "c1 showed how far the first sync had come before the cut ($g0)" test -n "$g0"
check "counting all 3,000 asked for, the first batch's among them ($g0)" test "${g0#* }" = 3000
check "v1 sees c1 gone (30 s)" within 30 bash -c "[ \$('$H' --home '$T/v1' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"peers\"][0][\"connected\"])') = False ]"
n=$(entries c1)
w=$(peer waiting_out)
N v1 status >"$T/cut.txt" 2>&1
sed 's/^/    # /' "$T/cut.txt" | grep 'c1 (bk/c1)'
check "c1 was cut off short of the 3,000 (it holds $n)" test "$n" -lt 3000
check "v1 counts what c1 lacks as waiting to go out ($w, c1 lacks $((3000 - n)))" test "$w" -ge $((3000 - n))
check "and not those c1 acknowledged" test "$w" -lt 3000
check "in words too" grep -qE '^  c1 \(bk/c1\): NOT CONNECTED, .*; [1-9][0-9,]* entries waiting to go out' "$T/cut.txt"
check "--json does not call c1 in sync" test "$(peer in_sync)" = False
stop v1
N v1 status >"$T/stopped.txt" 2>&1
sed 's/^/    # /' "$T/stopped.txt" | grep 'c1 (bk/c1)'
check "with v1's hamletd stopped, they still wait for c1" \
	grep -qE "^  c1 \(bk/c1\): last met .*; [1-9][0-9,]* entries wait to go out to it$" "$T/stopped.txt"
w2=$(grep -oE '[0-9,]+ entries wait to go out' "$T/stopped.txt" | tr -d , | cut -d' ' -f1)
check "as many as c1 lacks at least ($w2)" test "${w2:-0}" -ge $((3000 - n))
check "and as many as hamletd counted: what c1 acknowledged is kept ($w2 = $w)" test "${w2:-0}" = "$w"

# the link is back: v1 never calls c1 in sync before c1 holds them all
proxy_start "${PORTOF[c1]}" --rate 20000 --delay 150 --max-seconds 300 && ok "the link is back" || fail "the proxy listens again"
bg=$PXPID
start v1 --peer 127.0.0.1:$PX && ok "v1 starts again, dialling c1" || fail "v1 starts again"
# the sender's sync --wait on a terminal shows how far it has come: it
# waits as long as it must for the link (a sanitized daemon on a loaded
# machine starts slowly), and is stopped once it has shown it, long
# before c1 holds all 3,000, so the watch below sees the rest go
q=$(printf '%q ' "$H" --home "$T/v1" sync --wait --timeout 120)
script -qfec "$q" /dev/null >"$T/tty" 2>&1 &
sw=$!
within 90 bash -c "grep -qE 'sending: [0-9,]+ / [0-9,]+ entries, [0-9,]+/s' '$T/tty' || ! kill -0 $sw"
kill "$sw" 2>/dev/null; wait "$sw" 2>/dev/null
# c1's progress goes on from where the cut left it, not from 0 of what
# is left: the same total, and at least what had come
within 60 bash -c "[ -n \"\$($(declare -f N prog); H='$H' T='$T' prog)\" ]"
g1=$(prog)
check "after the cut, c1's progress counts on from before it ($g0 -> $g1)" \
	test -n "$g1" -a "${g1#* }" = 3000 -a "${g1% *}" -ge "${g0% *}"
check "v1's sync --wait on a terminal shows what it sends" grep -qE 'sending: [0-9,]+ / [0-9,]+ entries, [0-9,]+/s' "$T/tty"
tr '\r' '\n' <"$T/tty" | grep -E 'sending' | tail -1 | sed 's/^/    # /'
: >"$T/early"
for _ in $(seq 1 900); do
	s=$(peer in_sync) w=$(peer waiting_out) n=$(entries c1)
	[ "$s" = True ] && [ "$n" -lt 3000 ] && echo "in_sync while c1 holds $n, waiting_out $w" >>"$T/early"
	[ "$n" -ge 3000 ] && break
	sleep 0.2
done
check "v1's status never called c1 in sync before it held all 3,000" test ! -s "$T/early"
sed 's/^/    # /' "$T/early" | head -3
check "c1 holds all 3,000 in the end" test "$(entries c1)" = 3000
check "and v1 then counts nothing waiting, in sync (60 s)" within 60 bash -c "[ \"\$('$H' --home '$T/v1' status --json | python3 -c \"import json,sys; p=json.load(sys.stdin)['peers'][0]; print(p['waiting_out'], p['in_sync'])\")\" = '0 True' ]"
tests_done
