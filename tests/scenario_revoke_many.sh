#!/usr/bin/env bash
# A commune's digital team that certified more nodes than one revocation
# can keep valid (256): revoking its key is refused, naming the count and
# --keep-none; with --keep-none every certificate it signed ends with it,
# and the entries of the nodes it certified stop standing (SPEC 9).
#   tests/scenario_revoke_many.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
. "$(dirname "$0")/testlib.sh"
tests_scratch revoke-many
ROOT=$T/bk.root.key
network_bk c:bk/c1 v:bk/c1/v
check "the root certifies the commune C, to delegate" issue c commune bk/c1 --root-key "$ROOT" --delegate
check "C certifies the village V" issue v village bk/c1/v --issuer-home "$T/c"
check "V writes a profile" N v put health_profile HP-1 '{"person_id":"001085000001","full_name":"Lo Van A","birth_date":"1990-01-01"}'
check "C holds it, by USB" bash -c "'$H' --home '$T/c' summary --out '$T/c.sum' >/dev/null && '$H' --home '$T/v' bundle create --for '$T/c.sum' '$T/v.bundle' >/dev/null && '$H' --home '$T/c' bundle import '$T/v.bundle' >/dev/null && '$H' --home '$T/c' get health_profile HP-1"
many() {
	local i
	for i in $(seq 1 256); do
		"$H" cert issue --issuer-home "$T/c" --to "$(printf '%064x' "$i")" \
			--name "v$i" --role village --read "bk/c1/v$i" \
			--write "bk/c1/v$i" --out "$T/v$i.cert" >/dev/null || return 1
	done
}
check "C certifies 256 more nodes" many
refuse "revoking C is refused: 257 certificates are more than one revocation keeps" 4 \
	"the key signed 257 certificates, more than the 256 one revocation can keep valid: with --keep-none" \
	N c cert revoke "$(key c)" --root-key "$ROOT" --reason "team disbanded"
check "and nothing changed: C still holds V's profile" N c get health_profile HP-1
check "with --keep-none the root revokes C" bash -c "'$H' --home '$T/c' --json cert revoke '$(key c)' --root-key '$ROOT' --keep-none --reason 'team disbanded' >'$T/rv.json'"
check "it says it ended 257 certificates and kept none" python3 -c "
import json,sys
j=json.load(open('$T/rv.json'))
sys.exit(not (j['certificates_ended']==257 and j['certificates_kept']==0))"
refuse "V's certificate no longer holds at C" 1 "NOT VALID" N c cert show "$T/v.cert"
refuse "C no longer holds V's profile" 3 "not found" N c get health_profile HP-1
check "C's store verifies" N c verify
tests_done
