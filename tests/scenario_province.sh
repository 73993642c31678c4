#!/usr/bin/env bash
# A province of six daemons on loopback, as the certificates draw it: the
# province P (bk) hears its communes C1 (bk/c1) and C2 (bk/c2); villages V1
# and V2 dial C1, V3 dials C2. Each village's records reach its commune and
# the province, and no other village or commune. What a key writes outside
# its grant is refused, by the daemon's socket and in a bundle; a node with
# no certificate, or an expired one, is dropped; a commune certifies a new
# village while the province is down; a revoked village is cut off at
# once; a fork planted on a village reaches as a proof every node that
# reads the village's feed, and no other (its entries name the village's
# records).
#   tests/scenario_province.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch province
ROOT=$T/bk.root.key
mdb() { echo "$T/$1/store/data.mdb"; }
# has NODE MARKER / lacks NODE MARKER: the marker's bytes are (not) in
# NODE's LMDB file
has() { grep -qaF -- "$2" "$(mdb "$1")"; }
lacks() { ! grep -qaF -- "$2" "$(mdb "$1")"; }
# restart_on NAME PORT ARGS...: NAME's daemon again on the port it had,
# so the peers that dial it find it: ready within 60 s (a sanitized
# daemon on a loaded machine starts slowly); tried again (10 tries in
# all) only when it exited, the port not free yet
restart_on() {
	local n=$1 port=$2 before r; shift 2
	: >>"$T/$n.log"
	for _ in $(seq 1 10); do
		before=$(wc -l <"$T/$n.log")
		"$D" --home "$T/$n" --listen 127.0.0.1:$port "$@" 2>>"$T/$n.log" &
		PID=$!
		ready_wait "$T/$n.log" "$PID" "$before" && r=0 || r=$?
		if [ "$r" = 0 ]; then
			pids+=("$PID"); PIDOF[$n]=$PID; return 0
		fi
		kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
		[ "$r" = 1 ] || return 1 # running, never ready
		sleep 0.4
	done
	return 1
}
# profile NODE ID PERSON NAME: the first put of a health profile
profile() {
	N "$1" put health_profile "$2" "{\"person_id\":\"$3\",\"full_name\":\"$4\",\"birth_date\":\"1990-01-01\"}"
}
# refused_json NODE REASON: NODE's daemon's count of refusals for REASON
refused_json() {
	N "$1" status --json | awk -v r="\"$2\":" '/"refused"/ { on = 1 } on && index($0, r) { gsub(/[^0-9]/, ""); print; exit }'
}
# connected NODE KEY: NODE's status says the peer with KEY is connected
connected() {
	N "$1" status --json | awk -v k="$2" '/"key":/ { on = index($0, k) > 0 } on && /"connected":/ { print ($0 ~ /true/) ? "yes" : "no"; exit }' | grep -qx yes
}

# --- 1. six nodes: each village's records stay in its own branch ----------
check "network created" "$H" network create bk --out "$T"
for spec in P:bk C1:bk/c1 C2:bk/c2 V1:bk/c1/v1 V2:bk/c1/v2 V3:bk/c2/v3; do
	n=${spec%%:*} s=${spec#*:}
	check "$n joins with scope $s" N "$n" init --network "$T/bk.network" --name "${n,,}" --scope "$s"
done
check "the root certifies P (province, bk, may delegate)" issue P province bk --root-key "$ROOT" --delegate
check "the root certifies C1 (commune, bk/c1, may delegate)" issue C1 commune bk/c1 --root-key "$ROOT" --delegate
check "the root certifies C2 (commune, bk/c2, may delegate)" issue C2 commune bk/c2 --root-key "$ROOT" --delegate
check "C1 certifies V1 for health profiles only" issue V1 village bk/c1/v1 --issuer-home "$T/C1" --collections health_profile
check "C1 certifies V2" issue V2 village bk/c1/v2 --issuer-home "$T/C1"
check "the root certifies V3" issue V3 village bk/c2/v3 --root-key "$ROOT"
K_V1=$(key V1) K_V2=$(key V2) K_V3=$(key V3)

start P && ok "P's daemon listens" || fail "P's daemon listens"
PP=${PORTOF[P]}
start C1 --peer 127.0.0.1:$PP && ok "C1's daemon dials P" || fail "C1's daemon dials P"
start C2 --peer 127.0.0.1:$PP && ok "C2's daemon dials P" || fail "C2's daemon dials P"
PC1=${PORTOF[C1]} PC2=${PORTOF[C2]}
start V1 --peer 127.0.0.1:$PC1 && ok "V1's daemon dials C1" || fail "V1's daemon dials C1"
start V2 --peer 127.0.0.1:$PC1 && ok "V2's daemon dials C1" || fail "V2's daemon dials C1"
start V3 --peer 127.0.0.1:$PC2 && ok "V3's daemon dials C2" || fail "V3's daemon dials C2"

check "P writes a profile" profile P HP-P1 100000000001 "Province MARKERPzq"
check "C1 writes a profile" profile C1 HP-C1 100000000011 "Commune MARKERC1zq"
check "C2 writes a profile" profile C2 HP-C2 100000000021 "Commune MARKERC2zq"
check "V1 writes two profiles" bash -c "$(declare -f N profile); H='$H' T='$T'; profile V1 HP-V1a 100000000101 'Lo MARKERV1zq' && profile V1 HP-V1b 100000000102 'Ma MARKERV1zq'"
check "V2 writes two profiles" bash -c "$(declare -f N profile); H='$H' T='$T'; profile V2 HP-V2a 100000000201 'Lo MARKERV2zq' && profile V2 HP-V2b 100000000202 'Ma MARKERV2zq'"
check "V3 writes two profiles" bash -c "$(declare -f N profile); H='$H' T='$T'; profile V3 HP-V3a 100000000301 'Lo MARKERV3zq' && profile V3 HP-V3b 100000000302 'Ma MARKERV3zq'"

# settled: every node holds what its branch should (at most 30 s)
settled() {
	N C1 get health_profile HP-V1b && N C1 get health_profile HP-V2b &&
		N C2 get health_profile HP-V3b &&
		N P get health_profile HP-V1b && N P get health_profile HP-V2b &&
		N P get health_profile HP-V3b && N P get health_profile HP-C1 &&
		N P get health_profile HP-C2
}
check "the network settles: C1, C2 and P hold their branches' records (30 s)" within 30 settled
check "C1, C2 and P report their peers in sync" within 60 bash -c "for n in C1 C2 P; do '$H' --home '$T/'\$n sync --wait --timeout 30 >/dev/null || exit 1; done"
check "V1's marker is in C1's store" has C1 MARKERV1zq
check "V1's marker is in P's store" has P MARKERV1zq
for n in V2 V3 C2; do check "V1's marker is not in $n's store" lacks $n MARKERV1zq; done
check "V3's marker is in C2's store" has C2 MARKERV3zq
check "V3's marker is in P's store" has P MARKERV3zq
for n in C1 V1 V2; do check "V3's marker is not in $n's store" lacks $n MARKERV3zq; done
check "V2's marker is not in V1's store" lacks V1 MARKERV2zq
check "C1's own record is not in C2's store" lacks C2 MARKERC1zq
check "P's own record stays on P (no commune reads bk)" bash -c "! grep -qaF MARKERPzq '$(mdb C1)' '$(mdb C2)' '$(mdb V1)'"

# --- 2. a village key writing outside its grant ----------------------------
refuse "V1 writing into C2's scope is refused through its daemon" 4 "grant\|certificate" \
	N V1 put health_profile HP-X1 --scope bk/c2/v1x '{"person_id":"100000000901","full_name":"Out MARKERX1zq","birth_date":"1990-01-01"}'
sed 's/^/    # /' "$T/refused" | head -3
refuse "V1 writing a payment (not in its collections) is refused" 4 "payment\|collection" \
	N V1 put payment PAY-X1 '{"program":"social_allowance","beneficiary_id":"B1","period":"2026-10","amount_vnd":1,"status":"created"}'
sed 's/^/    # /' "$T/refused" | head -3
check "V1 holds neither" bash -c "! '$H' --home '$T/V1' get health_profile HP-X1 && ! '$H' --home '$T/V1' get payment PAY-X1"

# (b) the same key signs outside its grant on a copy without a certificate
check "V1's home is copied (key and all) to X" cp -a "$T/V1" "$T/X"
rm -f "$T/X/node.cert" "$T/X/hamletd.sock" "$T/X/hamletd.lock"
sed -i 's|^scope = .*|scope = bk/c2/v1x|' "$T/X/node.conf"
check "X (V1's key, no certificate) writes in bk/c2/v1x" profile X HP-X2 100000000902 "Smuggled MARKERX2zq"
check "C2 writes a summary" N C2 summary --out "$T/C2.sum"
check "X makes a bundle of bk/c2 for C2" N X bundle create --for "$T/C2.sum" --scope bk/c2 "$T/X.bundle"
nb0=$(refused_json C2 not_granted)
N C2 bundle import "$T/X.bundle" >"$T/ximp.out" 2>&1
rc=$?
sed 's/^/    # /' "$T/ximp.out" | head -12
[ $rc -ne 0 ] && ok "the import into C2 exits non-zero" || fail "the import into C2 exits non-zero"
check "the import does not claim C2's daemon stored anything" bash -c "! grep -q 'stored through hamletd' '$T/ximp.out'"
check "the report counts the entry rejected" grep -qE '^  rejected: +[1-9]' "$T/ximp.out"
check "the report names the certificate as the reason" grep -qi "certif\|grant" "$T/ximp.out"
nb1=$(refused_json C2 not_granted)
[ "${nb1:-0}" -gt "${nb0:-0}" ] && ok "C2's status --json counts it under refused.not_granted ($nb0 -> $nb1)" ||
	fail "C2's status --json counts it under refused.not_granted ($nb0 -> $nb1)"
# the line must name the reason, not merely mention certificates
check "C2's log names the reason (the certificate does not let it write)" \
	grep -qE "HP-X2|v1x.*(certificate|grant)|(certificate|grant).*v1x|does not let it write" "$T/C2.log"
check "C2 does not hold the smuggled record" lacks C2 MARKERX2zq
check "nor does P" never 2 has P MARKERX2zq

# --- 4. a commune certifies a village while the province is down ----------
stop P
ok "P's daemon is stopped"
check "V4 joins with scope bk/c1/v4" N V4 init --network "$T/bk.network" --name v4 --scope bk/c1/v4
check "C1's administrator certifies V4 without the province" issue V4 village bk/c1/v4 --issuer-home "$T/C1"
check "C1's running daemon keeps V4's certificate: C1 expects V4 before it first syncs" \
	bash -c "'$H' --home '$T/C1' report lag --threshold 1h | grep -q '^V4 (village, bk/c1/v4): never heard from'"
start V4 --peer 127.0.0.1:$PC1 && ok "V4's daemon dials C1" || fail "V4's daemon dials C1"
check "V4 writes a profile" profile V4 HP-V4a 100000000401 "New MARKERV4zq"
check "V4's record reaches C1 (60 s)" within 60 N C1 get health_profile HP-V4a
check "P does not hold it while down" lacks P MARKERV4zq
restart_on P $PP && ok "P's daemon is back on its port" || fail "P's daemon is back on its port"
# C1 would dial P again only after its backoff, grown while P was down:
# asked to sync, it dials at once
check "C1 is asked to sync, and dials P now" N C1 sync
check "P ends up holding V4's record (60 s)" within 60 N P get health_profile HP-V4a
check "V4's marker is in P's store" has P MARKERV4zq
check "and not in C2's" lacks C2 MARKERV4zq

# --- 5. a connected village is revoked --------------------------------------
check "V2 is connected to C1 before" within 60 connected C1 "$K_V2"
check "C1 revokes V2 (issuer: C1)" N C1 cert revoke "$K_V2" --issuer-home "$T/C1" --reason "PC stolen"
sed 's/^/    # /' "$T/out" | head -4
check "C1 no longer shows V2 connected (30 s)" within 30 bash -c "$(declare -f N connected); H='$H' T='$T'; ! connected C1 $K_V2"
check "C1's log says V2's session closed, revoked (V2 named by its certificate) (30 s)" within 30 grep -qE "peer V2 \(bk/c1/v2\): .*revoked.*session closed" "$T/C1.log"
grep -E "peer V2 .*revoked" "$T/C1.log" | head -2 | sed 's/^/    # /'
check "V2 writes a new record" profile V2 HP-V2c 100000000203 "Late MARKERV2late"
check "it never reaches C1 (5 s)" never 5 has C1 MARKERV2late
check "nor P" lacks P MARKERV2late
check "C1 writes a summary" N C1 summary --out "$T/C1.sum"
check "V2 makes a bundle for C1" N V2 bundle create --for "$T/C1.sum" --scope bk/c1/v2 "$T/V2.bundle"
N C1 bundle import "$T/V2.bundle" >"$T/v2imp.out" 2>&1
rc=$?
sed 's/^/    # /' "$T/v2imp.out" | head -12
[ $rc -ne 0 ] && ok "the import of V2's bundle into C1 exits non-zero" || fail "the import of V2's bundle into C1 exits non-zero"
check "the report counts it rejected" grep -qE '^  rejected: +[1-9]' "$T/v2imp.out"
check "the report says revoked" grep -qi "revoked" "$T/v2imp.out"
check "C1 still does not hold it" lacks C1 MARKERV2late
check "V2's earlier records stay on C1" N C1 get health_profile HP-V2b
check "and on P" N P get health_profile HP-V2b
stop V2

# --- 3. no certificate, or an expired one: dropped at HELLO ----------------
check "NC joins (network key, no certificate)" N NC init --network "$T/bk.network" --name nc --scope bk/c1/nc
check "NC writes a profile" profile NC HP-NC 100000000501 "Nocert MARKERNCzq"
check "EX joins" N EX init --network "$T/bk.network" --name ex --scope bk/c1/ex
# issued and installed three days ago, expired at the end of the day before yesterday
check "the root certifies EX until two days ago (issued with the clock 3 days back)" \
	env HAMLET_CLOCK_OFFSET_MS=-259200000 bash -c "$(declare -f N issue key); H='$H' T='$T'; issue EX village bk/c1/ex --root-key '$ROOT' --expires $(date -u -d '2 days ago' +%F)"
check "EX's certificate is expired now" bash -c "'$H' --home '$T/EX' cert list | grep -q expired"
check "EX writes a profile" profile EX HP-EX 100000000601 "Expired MARKEREXzq"
start NC --peer 127.0.0.1:$PC1 && ok "NC's daemon dials C1" || fail "NC's daemon dials C1"
start EX --peer 127.0.0.1:$PC1 && ok "EX's daemon dials C1" || fail "EX's daemon dials C1"
K_NC=$(key NC) K_EX=$(key EX)
check "C1's log drops NC: no valid certificate (30 s)" within 30 grep -qE "\(${K_NC:0:16}\).*no valid certificate" "$T/C1.log"
grep -E "${K_NC:0:16}" "$T/C1.log" | head -2 | sed 's/^/    # /'
check "C1's log drops EX: no valid certificate (30 s)" within 30 grep -qE "\(${K_EX:0:16}\).*no valid certificate" "$T/C1.log"
grep -E "${K_EX:0:16}" "$T/C1.log" | head -2 | sed 's/^/    # /'
# EX's daemon withholds its expired certificate, so C1 sees none; EX's own
# log names the expiry
check "EX's own log names its expired certificate" grep -q 'has expired: it held until 20[0-9-]* [0-9:]* UTC; peers refuse this node' "$T/EX.log"
sleep 2
for n in NC EX; do
	check "$n's record never reaches C1" lacks C1 MARKER${n}zq
	check "C1's data never reaches $n" bash -c "! grep -qaE 'MARKER(C1|V1|V4)zq' '$(mdb $n)'"
	check "$n is not shown connected on C1" bash -c "$(declare -f N connected); H='$H' T='$T'; ! connected C1 $(key $n)"
done
stop NC; stop EX

# --- 6. a fork planted on V3 reaches as a proof the nodes that read V3 -----
stop V3
check "V3's home is copied, key and all" cp -a "$T/V3" "$T/V3copy"
rm -f "$T/V3copy/hamletd.sock" "$T/V3copy/hamletd.lock"
check "V3 signs a change" N V3 put health_profile HP-V3a '{"phone":"0900000001"}'
check "the copy signs another at the same seq" N V3copy put health_profile HP-V3a '{"phone":"0900000002"}'
check "V3 writes a summary" N V3 summary --out "$T/V3.sum"
# written all the same: it carries the copy's entry, the evidence
refuse "the copy bundles what V3 lacks, naming the fork (exit 1)" 1 \
	"FORK: V3 and this node now hold different entries at seq [0-9]* of this node's own feed bk/c2/v3" \
	N V3copy bundle create --for "$T/V3.sum" "$T/V3copy.bundle"
N V3 bundle import "$T/V3copy.bundle" >"$T/out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q fork "$T/out" && ok "V3 imports it: one fork" || { fail "V3 imports it: one fork (exit $rc)"; sed 's/^/    /' "$T/out" | head; }
start V3 --peer 127.0.0.1:$PC2 && ok "V3's daemon is back, dialing C2" || fail "V3's daemon is back, dialing C2"
names_fork() { "$H" --home "$T/$1" forks | grep -qx "author $K_V3"; }
for n in V3 C2 P; do
	if within 20 names_fork $n; then ok "forks on $n names V3's key (20 s)"
	else fail "forks on $n names V3's key (20 s)"; N $n forks 2>&1 | head -4 | sed 's/^/    /'; fi
done
for n in V3 C2 P; do
	N $n verify >"$T/out" 2>&1
	rc=$?
	[ $rc = 1 ] && ok "verify exits 1 on $n" || { fail "verify exits 1 on $n (exit $rc)"; sed -n '/^problems/,$p' "$T/out" | sed 's/^/    /' | head -6; }
done
# the others do not read V3's feed: the proof, which names its records,
# is not theirs to hold
for n in C1 V1 V4; do
	check "$n syncs after P holds the proof" N $n sync --wait --timeout 30
done
for n in C1 V1 V4; do
	check "forks on $n names no fork of V3's" bash -c "! '$H' --home '$T/$n' forks | grep -qx 'author $K_V3'"
	check "V3's record ids are not in $n's store" lacks $n HP-V3a
	check "verify exits 0 on $n" N $n verify
done
echo "# V2 is revoked and stopped: not checked for the proof"

daemons_stop
tests_done
