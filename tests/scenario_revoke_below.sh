#!/usr/bin/env bash
# A revocation takes out what stands no longer below the key it revokes:
# the root revokes a commune through the province, which never saw a
# village certificate that commune issued. Another province already holds
# that village's entry: when the revocation reaches it, the entry goes
# (its certificate's issuer is revoked, and the revocation keeps none of
# it), so both provinces end with the same records and digest, and the
# entry is kept as refused for the auditor (SPEC 9, "Taking out"); the
# import, through P2's hamletd, says so.
#   tests/scenario_revoke_below.sh PATH/TO/hamlet PATH/TO/hamletd
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch revoke-below
ROOT=$T/bk.root.key

check "network created" "$H" network create bk --out "$T"
for n in P P2 C V; do
	check "node $n" N $n init --network "$T/bk.network" --name ${n,,} --scope $(case $n in P|P2) echo bk;; C) echo bk/c1;; V) echo bk/c1/v;; esac)
done
check "the root certifies P" issue P province bk --root-key "$ROOT" --delegate
check "the root certifies P2" issue P2 province bk --root-key "$ROOT"
check "the root certifies the commune C, to delegate" issue C commune bk/c1 --root-key "$ROOT" --delegate
check "C certifies the village V" issue V village bk/c1/v --issuer-home "$T/C"
check "V writes a profile" N V put health_profile HP-1 '{"person_id":"001085000001","full_name":"Lo Van A","birth_date":"1990-01-01"}'
check "V's entry reaches P2, with V's certificate" send V P2
check "P2 holds it" N P2 get health_profile HP-1
check "the root revokes C through P, which never saw V's certificate" \
	N P cert revoke "$(key C)" --root-key "$ROOT" --reason "PC stolen" --drop-unheld
start P2 && ok "P2's daemon runs" || fail "P2's daemon runs"
check "the revocation reaches P2, through its daemon" send P P2
check "the import says it took out V's entry" grep -q '^  taken out:  1 entry this node held, written by a revoked key' "$T/P-P2.out"
stop P2
refuse "P2 no longer holds V's entry: its certificate's issuer is revoked" 3 "not found" \
	N P2 get health_profile HP-1
check "P2's store verifies" N P2 verify
check "P2 keeps it as refused, naming the revoked issuer" bash -c "'$H' --home '$T/P2' verify --report | grep -qi 'revoked'"
send V P
check "V's entry reaching P is refused there too" bash -c "! '$H' --home '$T/P' get health_profile HP-1 >/dev/null 2>&1"
send P2 P
send P P2
check "P and P2 agree (same digest)" bash -c "[ \"\$('$H' --home '$T/P' digest)\" = \"\$('$H' --home '$T/P2' digest)\" ]"
check "and the same entry count" bash -c "[ \"\$('$H' --home '$T/P' --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"entries\"])')\" = \"\$('$H' --home '$T/P2' --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"entries\"])')\" ]"
tests_done
