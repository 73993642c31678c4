#!/usr/bin/env bash
# Certificates at the command line, as the province and a commune's
# digital team use them: the root certifies a commune that may delegate;
# the commune certifies a village without the province; what widens a
# grant, certifies without leave, or is for another key is refused,
# naming why; an auditor checks a chain offline with the network file.
#   tests/scenario_cert.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
. "$(dirname "$0")/testlib.sh"
tests_scratch cert
C() { "$H" --home "$T/c" "$@"; }
V() { "$H" --home "$T/v" "$@"; }

check "network created" "$H" network create bk --out "$T"
check "commune node" C init --network "$T/bk.network" --scope bk/bt/qt
check "village node" V init --network "$T/bk.network" --scope bk/bt/qt/na-pai
refuse "a node without a certificate says so" 1 "has no certificate" C cert list
check "the root certifies the commune, which may delegate" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key c)" --name "Quang Thuan team" \
	--role commune --read bk/bt/qt --write bk/bt/qt --delegate --out "$T/c.cert"
refuse "issue never replaces a file" 4 "already exists" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key c)" --name x --role commune \
	--read bk --write bk --out "$T/c.cert"
refuse "a certificate for another key is not installed" 4 "another node's key" V cert install "$T/c.cert"
check "the commune installs its certificate" C cert install "$T/c.cert"
check "and lists it as valid" bash -c "'$H' --home '$T/c' cert list | grep -q '^valid: the chain holds'"
check "the commune certifies a village for two collections, without the province" \
	"$H" cert issue --issuer-home "$T/c" --to "$(key v)" --name "Na Pai" --role village \
	--read bk/bt/qt/na-pai --write bk/bt/qt/na-pai --collections health_profile,payment \
	--expires 2030-06-30 --out "$T/v.cert"
check "the village installs it" V cert install "$T/v.cert"
check "its chain has two certificates, the commune's under it" \
	bash -c "'$H' --home '$T/v' cert list --json | grep -c '\"subject\"' | grep -qx 2"
check "it expires at the end of the day given" \
	bash -c "'$H' --home '$T/v' cert list | grep -q 'until 2030-07-01 00:00:00 UTC'"
refuse "a delegate cannot widen its grant" 4 "grants more than its issuer" \
	"$H" cert issue --issuer-home "$T/c" --to "$(key v)" --name Wide --role village \
	--read bk --write bk --out "$T/w.cert"
refuse "a node that may not delegate cannot certify" 4 "does not let it certify others" \
	"$H" cert issue --issuer-home "$T/v" --to "$(key v)" --name x --role village \
	--read bk/bt/qt/na-pai --write '' --out "$T/x.cert"
refuse "an auditor never writes" 4 "grants no writing" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name Audit --role auditor \
	--read '*' --write bk --out "$T/a.cert"
check "an auditor's certificate reads every scope and writes none" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name Audit --role auditor \
	--read '*' --write '' --out "$T/a.cert"
check "an auditor checks a chain offline with the network file" \
	bash -c "'$H' cert show '$T/v.cert' --network '$T/bk.network' | grep -q '^valid: the chain holds'"
check "network create" "$H" network create other --out "$T/o"
refuse "a chain of another network does not hold" 1 "another network" \
	"$H" cert show "$T/v.cert" --network "$T/o/other.network"
printf 'garbage' >"$T/g.cert"
refuse "a file that is not a chain is named" 4 "not a certificate chain" "$H" cert show "$T/g.cert"
refuse "an unknown role is named" 4 "use village, commune" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name x --role mayor \
	--read bk --write bk --out "$T/y.cert"
refuse "a bad date is named" 4 "not a date" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name x --role village \
	--read bk --write bk --expires 2030-13-45 --out "$T/y.cert"
tests_done
