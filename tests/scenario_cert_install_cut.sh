#!/usr/bin/env bash
# A certificate that lets the node read less, installed and then cut
# short: the power goes after node.cert is written, before what it does
# not let the node read left the store (here: the file put in place by
# hand, as that leaves it). hamletd, when it next starts, takes those
# records out and says so; a certificate that has ended takes nothing.
#   tests/scenario_cert_install_cut.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; everything listens on 127.0.0.1.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch cert-install-cut
ROOT=$T/bk.root.key
network_bk h:bk/c1 a:bk/c1/a
check "the root certifies the commune h to read bk/c1" issue h commune bk/c1 --root-key "$ROOT"
check "and the village a" issue a village bk/c1/a --root-key "$ROOT"
check "a writes a profile" N a put health_profile HP-A1 '{"person_id":"001085000001","full_name":"Lo Van A","birth_date":"1990-01-01"}'
check "h holds it, by USB" send a h
check "h reads it" N h get health_profile HP-A1
check "the root certifies h again, to read bk/c1/x only" \
	"$H" cert issue --root-key "$ROOT" --to "$(key h)" --name h --role commune \
	--read bk/c1/x --write bk/c1/x --out "$T/h-narrow.cert"
# what a power cut right after the file was written leaves
cp "$T/h-narrow.cert" "$T/h/node.cert"
check "the store still holds the village's profile" N h get health_profile HP-A1
check "hamletd starts on h" start h
refuse "once started, it no longer holds it" 3 "not found" N h get health_profile HP-A1
check "and says what it took out, and why" grep -q "took out what this node's certificate does not let it read (its installation was cut short): stored entries: 1, waiting: 0" "$T/h.log"
check "h's store verifies" N h verify
stop h
# a certificate that has ended is no grant to judge by (it would keep
# only the node's own scope): nothing goes
if ! faketime_lib; then
	echo "libfaketime is missing: the ended certificate's case is skipped"
	tests_done
	exit
fi
old_cert() {
	LD_PRELOAD=$FT FAKETIME="@2025-03-01 12:00:00" \
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		"$H" cert issue --root-key "$ROOT" --to "$(key h)" --name h --role commune \
		--read bk/c1/x --write bk/c1/x --expires 2025-06-30 --out "$T/h-old.cert"
}
check "a certificate for h that ended last year, reading bk/c1/x only" old_cert
check "the root certifies h to read bk/c1 again" \
	"$H" cert issue --root-key "$ROOT" --to "$(key h)" --name h --role commune \
	--read bk/c1 --write bk/c1 --out "$T/h-again.cert"
check "h installs it" N h cert install "$T/h-again.cert"
check "h holds a's profile again, by USB" send a h
cp "$T/h-old.cert" "$T/h/node.cert"
check "hamletd starts on h, whose certificate has ended" start h
check "it still holds a's profile" N h get health_profile HP-A1
check "and took nothing more out" bash -c "[ \"\$(grep -c 'took out' '$T/h.log')\" = 1 ]"
tests_done
