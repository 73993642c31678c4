#!/usr/bin/env bash
# A delegated team that certifies another area's village key many times
# inside its own grant (certificates whose ids sort before the village's
# own), and then revokes it, hides nothing of the village's chain: the
# province still takes what the village writes, and the revocation cuts
# nothing of it (SPEC 9).
#   tests/scenario_revoke_crowd.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
. "$(dirname "$0")/testlib.sh"
tests_scratch revoke-crowd
ROOT=$T/bk.root.key
network_bk a:bk/a v:bk/b/v p:bk
check "the root certifies the team a, to delegate" issue a commune bk/a --root-key "$ROOT" --delegate
check "and the province" issue p province bk --root-key "$ROOT"
cid() { "$H" cert show "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["chain"][0]["id"])'; }
# the village's own certificate with an id from 8 on, so that ids below
# it are easy to find (at most 40 tries, each 1 in 2)
legit() {
	local i
	for i in $(seq 1 40); do
		rm -f "$T/v.cert"
		"$H" cert issue --root-key "$ROOT" --to "$(key v)" --name v --role village \
			--read bk/b/v --write bk/b/v --out "$T/v.cert" >/dev/null || return 1
		VID=$(cid "$T/v.cert")
		[[ $VID > 8 ]] && return 0
	done
	return 1
}
check "the root certifies the village v (bk/b/v)" legit
check "v installs it" N v cert install "$T/v.cert"
check "v writes a profile" N v put health_profile HP-1 '{"person_id":"001085000001","full_name":"Lo Van A","birth_date":"1990-01-01"}'
check "the province holds it" bash -c "$(declare -f send N); H='$H' T='$T'; send v p && '$H' --home '$T/p' get health_profile HP-1"
# a certifies v's key inside bk/a until 8 of its certificates sort
# before v's own (at most 64)
crowd() {
	local i low=0
	for i in $(seq 1 64); do
		rm -f "$T/other.cert"
		"$H" cert issue --issuer-home "$T/a" --to "$(key v)" --name "other$i" --role village \
			--read "bk/a/x$i" --write "bk/a/x$i" --out "$T/other.cert" >/dev/null 2>&1 || return 1
		[[ $(cid "$T/other.cert") < $VID ]] && low=$((low + 1))
		[ "$low" -ge 8 ] && return 0
	done
	return 1
}
check "a certifies v's key inside its own grant, 8 times before v's own" crowd
check "a's certificates reach the province" send a p
check "v writes a second profile" N v put health_profile HP-2 '{"person_id":"001085000002","full_name":"Lo Van B","birth_date":"1990-01-02"}'
check "which the province takes" bash -c "$(declare -f send N); H='$H' T='$T'; send v p && '$H' --home '$T/p' get health_profile HP-2"
check "a revokes v's key" N a cert revoke "$(key v)" --issuer-home "$T/a" --reason "not ours"
check "the revocation reaches the province" send a p
check "v's profiles still stand there" bash -c "'$H' --home '$T/p' get health_profile HP-1 && '$H' --home '$T/p' get health_profile HP-2"
check "and v is not revoked in the report" bash -c "'$H' --home '$T/p' verify --report | grep -A2 '^  key $(key v)\$' | grep -q 'its certificate is valid now and not revoked'"
tests_done
