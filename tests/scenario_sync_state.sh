#!/usr/bin/env bash
# Sync state as a commune's operator sees it: province P (bk) is dialled
# by commune C (bk/c1), which village V (bk/c1/v1) dials. V holds no
# records: C's `sync --wait` is in sync with it on every call, not only
# the first. With P down, what C writes reaches no one (V does not read
# C's scope): `sync --wait` exits 1 naming P, and status warns of it.
#   tests/scenario_sync_state.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch sync_state
ROOT=$T/bk.root.key
profile() {
	N "$1" put health_profile "$2" "{\"person_id\":\"$3\",\"full_name\":\"Lo Van $2\",\"birth_date\":\"1990-01-01\"}"
}

check "network created" "$H" network create bk --out "$T"
for spec in P:bk C:bk/c1 V:bk/c1/v1; do
	n=${spec%%:*} s=${spec#*:}
	check "$n joins with scope $s" N "$n" init --network "$T/bk.network" --name "${n,,}" --scope "$s"
done
check "the root certifies P" issue P province bk --root-key "$ROOT" --delegate
check "the root certifies C" issue C commune bk/c1 --root-key "$ROOT" --delegate
check "C certifies V" issue V village bk/c1/v1 --issuer-home "$T/C"

start P && ok "P's daemon listens" || fail "P's daemon listens"
start C --peer 127.0.0.1:${PORTOF[P]} && ok "C dials P" || fail "C dials P"
start V --peer 127.0.0.1:${PORTOF[C]} && ok "V dials C" || fail "V dials C"
check "C is in sync with P and V (30 s)" within 30 N C sync --wait --timeout 10

# --- 1. a village with nothing to send is in sync on every call ---
for i in 1 2 3; do
	check "C's sync --wait with V, call $i: in sync" N C sync --wait --timeout 10
done
check "and with V by name" N C sync v --wait --timeout 10

# --- hamletd's log in Vietnamese names a peer in Vietnamese ---
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\?8'; then
	check "W joins with scope bk/c1/w" N W init --network "$T/bk.network" --name w --scope bk/c1/w
	check "C certifies W" issue W village bk/c1/w --issuer-home "$T/C"
	WP=$(port)
	LC_ALL=vi_VN.UTF-8 LANGUAGE= "$D" --home "$T/W" --listen 127.0.0.1:$WP \
		--peer 127.0.0.1:${PORTOF[C]} 2>>"$T/W.log" &
	pids+=("$!")
	check "W, under LANG=vi, logs the trust items C sends it in Vietnamese, the peer too (20 s)" \
		within 20 grep -q 'nút ngang hàng .*: [0-9]* mục tin cậy mới' "$T/W.log"
	check "with no English word for the peer" bash -c "! grep -q 'peer .*mục tin cậy mới' '$T/W.log'"
	# a node's first day: hamletd runs before its certificate comes
	check "X joins with scope bk/c1/x, no certificate yet" N X init --network "$T/bk.network" --name x --scope bk/c1/x
	XP=$(port)
	LC_ALL=vi_VN.UTF-8 LANGUAGE= "$D" --home "$T/X" --listen 127.0.0.1:$XP \
		--peer 127.0.0.1:${PORTOF[C]} 2>>"$T/X.log" &
	pids+=("$!")
	check "X, under LANG=vi, logs in Vietnamese that it has no certificate, and how to get one (15 s)" \
		within 15 grep -q 'không có chứng chỉ hợp lệ: nút này chưa có chứng chỉ (.*): quản trị viên ký' "$T/X.log"
	check "and so for the peer it dials (15 s)" \
		within 15 grep -q 'nút ngang hàng .*: nút này chưa có chứng chỉ (.*; các nút ngang hàng từ chối nút này' "$T/X.log"
	check "C certifies X, installed while X's hamletd runs" issue X village bk/c1/x --issuer-home "$T/C"
	check "X's sync --wait gets through" N X sync --wait --timeout 10
	check "X logs its own certificate joining its trust set in Vietnamese (15 s)" \
		within 15 grep -q 'chứng chỉ của nút này: [0-9]* mục tin cậy mới' "$T/X.log"
	check "with no English sentence in X's log" bash -c "! grep -E 'this node|certificate' '$T/X.log'"
else
	echo "skipped: the Vietnamese log (no vi_VN.UTF-8 locale)"
fi

# --- a certificate installed while hamletd runs is used at once ---
check "U joins with scope bk/c1/u, no certificate yet" N U init --network "$T/bk.network" --name u --scope bk/c1/u
start U --peer 127.0.0.1:${PORTOF[C]} && ok "U dials C" || fail "U dials C"
check "U's log: no session starts, as U shows no certificate (15 s)" within 15 \
	grep -q "connects, but no session starts: this node shows no valid certificate" "$T/U.log"
check "U's status says why as U knows it: it shows no valid certificate (15 s)" within 15 bash -c \
	"'$H' --home '$T/U' status | grep -q '^    that node refuses this one because this node shows no valid certificate'"
check "C certifies U, installed while U's hamletd runs" issue U village bk/c1/u --issuer-home "$T/C"
check "U's sync --wait gets through at once, C not backing U off" N U sync --wait --timeout 10
check "C does not back off a node that showed no certificate" bash -c "! grep -q 'backed off' '$T/C.log'"

# --- 2. with P down, what C writes reaches no one ---
stop P
check "C sees P gone (100 s)" within 100 bash -c "'$H' --home '$T/C' --json status | python3 -c 'import json,sys; j=json.load(sys.stdin); assert [p for p in j[\"peers\"] if p[\"name\"]==\"P\" and not p[\"connected\"]]'"
check "C writes a profile with P down" profile C HP-C1 200000000001
refuse "C's sync --wait fails, naming P, which its writes wait for" 1 \
	"not in sync: what this node writes waits for P (127.0.0.1:${PORTOF[P]}), which is not connected, and no connected peer takes it" \
	N C sync --wait --timeout 10
check "C's status warns of it" bash -c "'$H' --home '$T/C' status | grep -q '^WARNING: what this node writes waits for P (127.0.0.1:${PORTOF[P]}), which is not connected'"
check "C's status --json names P in writes_wait_for" bash -c "'$H' --home '$T/C' --json status | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"writes_wait_for\"] == \"P (127.0.0.1:${PORTOF[P]})\", j.get(\"writes_wait_for\")'"
check "V's status --json: writes_wait_for is null" bash -c "'$H' --home '$T/V' --json status | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"writes_wait_for\"] is None, j[\"writes_wait_for\"]'"
check "V's status does not (C, connected, takes what V writes)" bash -c "! '$H' --home '$T/V' status | grep -q '^WARNING'"
check "V writes a profile" profile V HP-V1 200000000002
check "V's sync --wait is in sync" N V sync --wait --timeout 10
# a province that dials its communes is not warned when one is down:
# what it writes is not theirs to take
stop C
start P --peer 127.0.0.1:${PORTOF[C]} && ok "P starts again, dialling C, which is down" || fail "P starts again"
check "P writes a profile" profile P HP-P1 200000000003
check "P's status does not warn (its every peer lies below it)" bash -c "! '$H' --home '$T/P' status | grep -q '^WARNING'"
tests_done
