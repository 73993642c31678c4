#!/usr/bin/env bash
# Erasure on five daemons on loopback: the province P (bk) hears its
# communes C1 (bk/c1) and C2 (bk/c2); villages V1 and V2 dial C1. V1
# writes a health profile with a unique marker; P erases it. Within one
# sync round the marker's bytes are in no file of any node's state, in no
# bundle made afterwards, in no export; every node's verify still passes;
# history shows the erasure with its author and reason. A village cannot
# erase; a bundle made before the erasure brings no body back.
#   tests/scenario_erase.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch erase
ROOT=$T/bk.root.key
# in_state NODE MARKER: the marker's bytes are in some file of NODE's home
in_state() { grep -rqaF -- "$2" "$T/$1"; }
not_in_state() { ! in_state "$@"; }
profile() { # NODE ID PERSON NAME
	N "$1" put health_profile "$2" "{\"person_id\":\"$3\",\"full_name\":\"$4\",\"birth_date\":\"1990-01-01\"}"
}
NODES="P C1 C2 V1 V2"

check "network created" "$H" network create bk --out "$T"
for spec in P:bk C1:bk/c1 C2:bk/c2 V1:bk/c1/v1 V2:bk/c1/v2; do
	n=${spec%%:*} s=${spec#*:}
	check "$n joins with scope $s" N "$n" init --network "$T/bk.network" --name "${n,,}" --scope "$s"
done
check "the root certifies P (province, may delegate)" issue P province bk --root-key "$ROOT" --delegate
check "the root certifies C1 (commune, may delegate)" issue C1 commune bk/c1 --root-key "$ROOT" --delegate
check "the root certifies C2 (commune, may delegate)" issue C2 commune bk/c2 --root-key "$ROOT" --delegate
check "C1 certifies V1 (village)" issue V1 village bk/c1/v1 --issuer-home "$T/C1"
check "C1 certifies V2 (village)" issue V2 village bk/c1/v2 --issuer-home "$T/C1"

HP=$(port)
launch P --http 127.0.0.1:$HP && PP=$PORT && ok "P listens (and serves HTTP)" || fail "P listens"
launch C1 --peer 127.0.0.1:$PP && PC1=$PORT && ok "C1 dials P" || fail "C1 dials P"
launch C2 --peer 127.0.0.1:$PP && ok "C2 dials P" || fail "C2 dials P"
launch V1 --peer 127.0.0.1:$PC1 && ok "V1 dials C1" || fail "V1 dials C1"
launch V2 --peer 127.0.0.1:$PC1 && ok "V2 dials C1" || fail "V2 dials C1"

check "V1 writes the profile to erase" profile V1 HP-E1 100000000101 "Lo ERASEMEzq"
check "V1 edits it (a second body with the marker)" N V1 put health_profile HP-E1 '{"phone":"0912000001","allergies":"ERASEMEzq2"}'
check "V1 writes a profile to keep" profile V1 HP-K1 100000000102 "Ma KEEPMEzq"
settled() { N P get health_profile HP-E1 --json | grep -q ERASEMEzq2 && N C1 get health_profile HP-K1; }
check "the profile reaches C1 and P (30 s)" within 30 settled
for n in V1 C1 P; do check "the marker is in $n's state" in_state $n ERASEMEzq; done
# a bundle made before the erasure, kept on a stick, for X: a node of the
# province that syncs only by USB stick
check "X joins (province scope, no daemon)" N X init --network "$T/bk.network" --name x --scope bk
check "the root certifies X" issue X province bk --root-key "$ROOT"
check "X writes a summary" N X summary --out "$T/X.sum"
check "V1 makes a bundle for X before the erasure" N V1 bundle create --for "$T/X.sum" "$T/before.bundle"
check "it is sealed to X: the marker is not in its bytes" bash -c "! grep -qaF ERASEMEzq '$T/before.bundle'"
check "V1 makes a bundle for P too, before the erasure" N V1 bundle create --seal-to "$(key P)" "$T/before-p.bundle"

# --- who may erase ---------------------------------------------------------
refuse "V1 (a village, no administrator) may not erase" 4 "only an administrator" \
	N V1 erase health_profile HP-E1 --reason "test"
refuse "an erasure without a reason is refused" 2 "reason" \
	N P erase health_profile HP-E1
refuse "erasing a record that does not exist names it" 3 "not found" \
	N P erase health_profile HP-NOPE --reason "request of the person"

# --- the erasure -----------------------------------------------------------
check "P erases HP-E1" N P erase health_profile HP-E1 --reason "request of the person, form 12/2026"
gone() { for n in $NODES; do not_in_state $n ERASEMEzq || return 1; done; }
check "within one sync round the marker is in no node's state files (30 s)" within 30 gone

for n in $NODES; do check "the marker is not in $n's state" not_in_state $n ERASEMEzq; done
for n in V1 C1 P; do check "the profile to keep is still in $n's state" in_state $n KEEPMEzq; done
for n in V1 C1 P; do
	check "$n: get says HP-E1 is erased, with the reason" bash -c "'$H' --home '$T/$n' get health_profile HP-E1 | grep -q 'is erased.*request of the person'"
	check "$n: get --json says erased" bash -c "'$H' --home '$T/$n' get health_profile HP-E1 --json | grep -q '\"erased\": true'"
	check "$n: export (csv) lacks the marker" bash -c "! '$H' --home '$T/$n' export health_profile --format csv 2>/dev/null | grep -q ERASEME"
	check "$n: export (ndjson) shows HP-E1 as erased" bash -c "'$H' --home '$T/$n' export health_profile --format ndjson | grep HP-E1 | grep -q '\"erased\":true'"
	check "$n: history shows the erasure, its author (P) and reason" bash -c "'$H' --home '$T/$n' history --keys health_profile HP-E1 | grep -A4 '^.* erase ' | grep -q '$(key P)' && '$H' --home '$T/$n' history health_profile HP-E1 | grep -q 'reason: request of the person'"
done
for n in $NODES; do check "$n: verify exits 0" N $n verify; done
for n in P C1 V1; do # the nodes that held the record
	check "$n: verify counts the erased bodies missing without telling them as problems" \
		bash -c "'$H' --home '$T/$n' verify >'$T/$n.verify' && grep -qE '^  bodies: .*\([1-9][0-9]* missing' '$T/$n.verify' && ! grep -q 'body not held' '$T/$n.verify'"
done
# the file the profile came from, imported again at the village: the erased
# row is named and not written, the others import
printf 'id,person_id,full_name,birth_date\nHP-E1,100000000101,Lo ERASEMEzq,1990-01-01\nHP-K2,100000000103,Ma Hai,1991-02-02\n' >"$T/again.csv"
check "V1 imports a file holding the erased record again: exit 0, the other row written" bash -c "'$H' --home '$T/V1' import health_profile --format csv '$T/again.csv' >'$T/again.out' 2>'$T/again.err' && grep -q ' 1 written' '$T/again.out'"
check "the erased row is named, not written" grep -q 'note: 1 row of erased records not written (row 2 (HP-E1)): an erased record is never written again' "$T/again.err"
check "and HP-E1 stays erased" bash -c "'$H' --home '$T/V1' get health_profile HP-E1 | grep -q 'is erased'"
check "without the marker in V1's state" not_in_state V1 ERASEMEzq
refuse "HP-E1 cannot be written again" 4 "erased" \
	N V1 put health_profile HP-E1 '{"phone":"0912000009"}'
TK=$(N P token create --name clerk --role write 2>/dev/null)
# api CODE STABLE METHOD [BODY]: HP-E1 over P's HTTP API answers CODE, error STABLE
api() {
	local got
	got=$(curl -s -o "$T/api.json" -w '%{http_code}' --max-time 20 -X "$3" \
		-H "Authorization: Bearer $TK" ${4:+--data-binary "$4"} \
		"http://127.0.0.1:$HP/v1/records/health_profile/HP-E1")
	[ "$got" = "$1" ] && python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["error"]["code"] == sys.argv[2] else 1)' "$T/api.json" "$2"
}
check "over HTTP, a PUT to it is refused as erased (409)" api 409 erased PUT '{"phone":"0912000009"}'
check "and a DELETE too, not answered as not found" api 409 erased DELETE

# --- bundles after the erasure ---------------------------------------------
check "C1 makes a bundle for X after the erasure" N C1 bundle create --for "$T/X.sum" "$T/after.bundle"
# what a bundle made now carries, read back by a node that never held
# anything (bundles are compressed: their raw bytes prove nothing)
check "Y joins (province scope, no daemon)" N Y init --network "$T/bk.network" --name y --scope bk
check "the root certifies Y" issue Y province bk --root-key "$ROOT"
check "Y writes a summary" N Y summary --out "$T/Y.sum"
check "C1 makes a bundle for Y after the erasure" N C1 bundle create --for "$T/Y.sum" "$T/after-y.bundle"
check "Y imports it" N Y bundle import "$T/after-y.bundle"
check "it carried no erased body: the marker is in none of Y's files" not_in_state Y ERASEMEzq
check "it carried the profile to keep" bash -c "'$H' --home '$T/Y' get health_profile HP-K1 | grep -q KEEPMEzq"
check "and the erasure: Y shows HP-E1 erased" bash -c "'$H' --home '$T/Y' get health_profile HP-E1 | grep -q 'is erased'"
check "the old bundle (made before) imports into P" N P bundle import "$T/before-p.bundle"
check "and brings no erased body back into P's state" not_in_state P ERASEMEzq
check "P: HP-E1 is still erased" bash -c "'$H' --home '$T/P' get health_profile HP-E1 --json | grep -q '\"erased\": true'"
check "X imports the old bundle: it holds the marker" bash -c "'$H' --home '$T/X' bundle import '$T/before.bundle' >/dev/null && grep -rqaF ERASEMEzq '$T/X'"
check "X imports the new bundle" N X bundle import "$T/after.bundle"
check "the erasure reached X: the marker is in none of its files" not_in_state X ERASEMEzq
check "X: HP-E1 is erased, HP-K1 kept" bash -c "'$H' --home '$T/X' get health_profile HP-E1 | grep -q 'is erased' && '$H' --home '$T/X' get health_profile HP-K1 | grep -q KEEPMEzq"
check "X: verify exits 0" N X verify

daemons_stop
check "offline, the same holds: P's verify exits 0" N P verify
tests_done
