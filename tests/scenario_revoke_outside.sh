#!/usr/bin/env bash
# A revocation cuts only the chains its issuer signed in (SPEC 9): a
# commune's digital team that certifies another commune's village key,
# or that commune's own key, and then revokes it, cuts nothing of the
# chains the root and the other commune signed. The village's records
# stand at the province, its status and the audit say its certificate
# holds, and its own commune's revocation still takes it out.
#   tests/scenario_revoke_outside.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
. "$(dirname "$0")/testlib.sh"
tests_scratch revoke-outside
ROOT=$T/bk.root.key
network_bk a:bk/a b:bk/b v:bk/b/v p:bk
check "the root certifies commune a, to delegate" issue a commune bk/a --root-key "$ROOT" --delegate
check "the root certifies commune b, to delegate" issue b commune bk/b --root-key "$ROOT" --delegate
check "the root certifies the province" issue p province bk --root-key "$ROOT"
check "b certifies its village v" issue v village bk/b/v --issuer-home "$T/b"
check "v writes a profile" N v put health_profile HP-1 '{"person_id":"001085000001","full_name":"Lo Van A","birth_date":"1990-01-01"}'
held() { send v p && send b p && N p get health_profile HP-1; }
check "the province holds it" held
check "a certifies v's key inside its own commune" \
	"$H" cert issue --issuer-home "$T/a" --to "$(key v)" --name other --role village \
	--read bk/a/x --write bk/a/x --out "$T/other.cert"
check "and b's key too" \
	"$H" cert issue --issuer-home "$T/a" --to "$(key b)" --name other-b --role commune \
	--read bk/a/y --write bk/a/y --delegate --out "$T/other-b.cert"
check "a revokes v's key" N a cert revoke "$(key v)" --issuer-home "$T/a" --reason "not ours"
check "and b's" N a cert revoke "$(key b)" --issuer-home "$T/a" --reason "not ours"
check "the revocations reach the province" send a p
check "a revoking v through the province is told v's key stays valid there" \
	bash -c "'$H' --home '$T/p' cert revoke '$(key v)' --issuer-home '$T/a' --reason 'again' 2>&1 | grep -q 'note: $(key v) stays valid here through certificates that keys outside this revocation signed'"
check "v's profile still stands there" N p get health_profile HP-1
check "the province's store verifies" N p verify
N p verify --report >"$T/report.txt" 2>&1
check "the report says v's certificate holds" bash -c "sed -n '/^\"v\"\$/,/^\$/p' '$T/report.txt' | grep -q 'its certificate is valid now and not revoked'"
check "and names a's revocation as cutting only a's own chains" bash -c "sed -n '/^\"v\"\$/,/^\$/p' '$T/report.txt' | grep -q 'revoked by \"a\" .*in the chains that key signed in only'"
check "and finds nothing to fix" bash -c "! grep -q 'should not stand' '$T/report.txt'"
check "v writes a second profile" N v put health_profile HP-2 '{"person_id":"001085000002","full_name":"Lo Van B","birth_date":"1990-01-02"}'
taken() { send v p && N p get health_profile HP-2; }
check "which the province takes, revocations and all" taken
check "b learns a's revocations" send p b
check "b's status is not revoked" bash -c "! '$H' --home '$T/b' status | grep -qi 'revoked'"
check "b, v's own commune, revokes v's key" N b cert revoke "$(key v)" --issuer-home "$T/b" --reason "PC stolen" --keep-none
check "that revocation reaches the province" send b p
check "what b held of v stays there (the cut-off)" bash -c "'$H' --home '$T/p' get health_profile HP-1 && '$H' --home '$T/p' get health_profile HP-2"
check "v writes a third profile" N v put health_profile HP-3 '{"person_id":"001085000003","full_name":"Lo Van C","birth_date":"1990-01-03"}'
refused_there() { ! send v p && grep -q 'revoked' "$T/v-p.out"; }
check "v's bundle reaches the province, which refuses the third as revoked" refused_there
refuse "so it does not stand there" 3 "not found" N p get health_profile HP-3
N p verify --report >"$T/report2.txt" 2>&1
check "the report now says v's key is revoked, under v's own name (not the one a gave it)" bash -c "grep -B2 -A1 '^  key $(key v)\$' '$T/report2.txt' | tr '\n' ' ' | grep -q '\"v\"   key [0-9a-f]*   its key is REVOKED'"
tests_done
