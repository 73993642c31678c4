#!/usr/bin/env bash
# The auditor's report on a bundle, given only the network's root public
# key: `verify --bundle FILE --root PUBKEY --report --json` judges every
# entry itself and names, per author, a planted fork, an entry outside its
# author's grant, and a revoked key's later entry.
#
# Village node F signs a record while not yet certified (it writes its
# own scope), and is then certified to write only a sub-scope: that first
# entry lies outside its grant. F's key is then copied to a second
# machine, and both sign a seq 2 in the sub-scope (a fork). Village G
# writes two records; commune A holds them and revokes G (cut-off: seq
# 2); G, not yet told, signs seq 3, which reaches F before the
# revocation does; F takes it out when the revocation comes (SPEC 9) and
# keeps it as refused. F's bundle of everything then carries the fork and
# the entry outside the grant; F's store report names the revoked one.
# Bundles no node sends (a forged certificate, entries left out, an
# erased body sent again) are written by tests/tools/bundle_craft.c.
#   tests/scenario_audit.sh PATH/TO/hamlet PATH/TO/bundle_craft
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/bundle_craft}
CRAFT=${2:?usage: $0 PATH/TO/hamlet PATH/TO/bundle_craft}
. "$(dirname "$0")/testlib.sh"
tests_scratch audit
# verify --report makes its scratch stores here, so that what it leaves
# behind is this run's alone
mkdir -p "$T/tmp" && export TMPDIR="$T/tmp"
A() { "$H" --home "$T/a" "$@"; }
F() { "$H" --home "$T/f" "$@"; }
G() { "$H" --home "$T/g" "$@"; }
# rc EXPECTED DESCRIPTION COMMAND...: exits EXPECTED; output in $T/out
rc() {
	local want=$1 d=$2 got; shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" = "$want" ]; then ok "$d"; else fail "$d (exit $got, not $want)"; sed 's/^/    /' "$T/err" "$T/out" | head -40; fi
}
# jq_ok DESCRIPTION FILTER: the JSON in $T/out makes FILTER true
jq_ok() {
	if [ -s "$T/out" ] && jq -e "$2" "$T/out" >/dev/null; then ok "$1"; else fail "$1 (jq: $2)"; fi
}
# has DESCRIPTION PATTERN: $T/out holds a line matching the ERE PATTERN
has() {
	if grep -qE -- "$2" "$T/out"; then ok "$1"; else fail "$1 (no /$2/)"; sed 's/^/    /' "$T/out" | head -60; fi
}
command -v jq >/dev/null || { echo "jq is needed"; exit 77; }
hp() { printf '{"person_id":"%012d","full_name":"Person %s","birth_date":"1980-01-01"}' "$1" "$1"; }

check "network created" "$H" network create aud --out "$T"
ROOT=$(sed -n 's/^root_public_key = //p' "$T/aud.network")
check "commune A" A init --network "$T/aud.network" --name quang-thuan --scope bk/qt
check "village F" F init --network "$T/aud.network" --name na-pai --scope bk/qt/na-pai
check "village G" G init --network "$T/aud.network" --name ban-ho --scope bk/qt/ban-ho
check "A certified (the commune's administrator: it may erase)" issue a commune bk/qt --root-key "$T/aud.root.key" --delegate
KG=$(sed -n 's/^public_key = //p' "$T/g/node.conf")
KF=$(sed -n 's/^public_key = //p' "$T/f/node.conf")

# --- an entry outside its author's grant ------------------------------
check "F, not yet certified, signs a record in its own scope" F put health_profile HP-F0 "$(hp 100)"
check "F is certified to read the commune (G's entries reach it) and write only bk/qt/na-pai/clinic" certify "$T/aud.root.key" f bk/qt bk/qt/na-pai/clinic
check "G certified" certify "$T/aud.root.key" g

# --- a fork ----------------------------------------------------------------
check "F writes seq 1 in bk/qt/na-pai/clinic" F put --scope bk/qt/na-pai/clinic health_profile HP-F1 "$(hp 101)"
check "F's home is copied, key and all" cp -a "$T/f" "$T/f2"
check "F writes seq 2" F put --scope bk/qt/na-pai/clinic health_profile HP-F2 "$(hp 102)"
check "the copy signs another seq 2" "$H" --home "$T/f2" put --scope bk/qt/na-pai/clinic health_profile HP-F3 "$(hp 103)"
check "the copy's bundle reaches F" bash -c "'$H' --home '$T/f2' bundle create --seal-to '$KF' '$T/f2.bundle' >/dev/null &&
	{ '$H' --home '$T/f' bundle import '$T/f2.bundle' >/dev/null; test \$? = 1; }"
# the copy's bundle shows one history only: judged from F's home, which
# keeps the fork's proof, the fork is named all the same (a finding)
rc 1 "F judges the copy's bundle from its home, which keeps the fork: exit 1" "$H" --home "$T/f" verify --bundle "$T/f2.bundle" --report --json
jq_ok "the home's proof of F's fork is counted" ".findings == true and (.authors[] | select(.key == \"$KF\") | .forks == 0 and .home_forks == 1)"
rc 1 "the text report names the feed and seq" "$H" --home "$T/f" verify --bundle "$T/f2.bundle" --report
has "the home's fork evidence" "this home keeps evidence that it signed two different entries at seq 2 of its feed bk/qt/na-pai/clinic \\(hamlet forks shows both\\)"
has "the creator is named by the certificate the bundle brought, not shown as a bare key" '^  creator:    f \(bk/qt/na-pai/clinic\)$'
# a bundle that carries the fork only as a proof among its trust items
check "F bundles all it holds, unsealed" F bundle create --unsealed "$T/fu.bundle"
check "a bundle of F's trust items alone: the fork proof, no entry" "$CRAFT" "$T/f" "$T/fp.bundle" --no-entries "$T/fu.bundle"
rc 1 "verify --bundle: the fork proof is evidence (exit 1), as --report says" "$H" verify --bundle "$T/fp.bundle" --network "$T/aud.network" --json
jq_ok "evidence, not ok, not damaged; the proof named" '.evidence == true and .ok == false and .damaged == false and .entries == 0 and (.problems | map(select(.kind == "fork")) | .[0].text | test("^fork proof at byte [0-9]+: author .* signed two different entries at seq 2 of feed bk/qt/na-pai/clinic"))'

# --- a revoked key's later entry ---------------------------------------
check "G writes seq 1 and 2" bash -c "'$H' --home '$T/g' put health_profile HP-G1 '$(hp 201)' &&
	'$H' --home '$T/g' put health_profile HP-G2 '$(hp 202)'"
KA=$(key a)
check "G's bundle reaches A" bash -c "'$H' --home '$T/g' bundle create --seal-to '$KA' '$T/g1.bundle' >/dev/null && '$H' --home '$T/a' bundle import '$T/g1.bundle' >/dev/null"
check "A holds G's seq 2" A get health_profile HP-G2
check "A revokes G (the root's key; cut-off: what A holds)" A cert revoke "$KG" --root-key "$T/aud.root.key" --reason "PC stolen"
check "G, not yet told, signs seq 3" G put health_profile HP-G3 "$(hp 203)"
check "G's seq 3 reaches F before the revocation" bash -c "'$H' --home '$T/g' bundle create --seal-to '$KF' '$T/g2.bundle' >/dev/null && '$H' --home '$T/f' bundle import '$T/g2.bundle' >/dev/null"
check "A erases HP-G1 at the person's request" A erase health_profile HP-G1 --reason "request of the person"

# --- bundles no node sends ------------------------------------------------
# an erased body sent again along with its erasure (SPEC 1.6)
check "G bundles all it holds, unsealed: HP-G1's body too (the erasure has not reached G)" G bundle create --unsealed "$T/gu.bundle"
check "A bundles all it holds, unsealed: the erasure, without HP-G1's body" A bundle create --unsealed "$T/au.bundle"
rc 0 "verify --bundle on A's bundle: ok" "$H" verify --bundle "$T/au.bundle" --network "$T/aud.network" --json
jq_ok "the erased body counted missing" '.ok == true and .bodies_missing == 1 and .bodies_erased_sent == 0'
refuse "verify --bundle where no node is: the auditor is told to name the network's file" 3 \
	"to check a bundle without a node, name its network's file: .* verify --bundle FILE --network NETFILE" \
	"$H" --home "$T/no-node-here" verify --bundle "$T/au.bundle"
check "a bundle of both, signed by G" "$CRAFT" "$T/g" "$T/erased.bundle" "$T/gu.bundle" "$T/au.bundle"
rc 1 "verify --bundle: HP-G1's body sent with the erasure that erased it is a finding (exit 1)" "$H" verify --bundle "$T/erased.bundle" --network "$T/aud.network"
has "naming the entry and the erasure" '^verify: intact; sends an erased body again: entry at byte [0-9]+ \(feed bk/qt/ban-ho seq 1\) carries the body that the erasure at byte [0-9]+ names: an erased body is never sent again \(SPEC 1.6\); whether its signer may erase is judged with --report'
rc 1 "and --json" "$H" verify --bundle "$T/erased.bundle" --network "$T/aud.network" --json
jq_ok "not ok, no fork" '.ok == false and .evidence == false and .damaged == false and .erased_bodies_sent == true and .bodies_erased_sent == 1'
check "the same two, the erasure and the body-less copy first" "$CRAFT" "$T/g" "$T/erased2.bundle" "$T/au.bundle" "$T/gu.bundle"
rc 1 "verify --bundle: the body in the repeat that follows is a finding all the same (exit 1)" "$H" verify --bundle "$T/erased2.bundle" --network "$T/aud.network" --json
jq_ok "a repeat, and the body it carries counted sent again" '.ok == false and .damaged == false and .duplicates >= 1 and .bodies_erased_sent == 1'
# certificates no administrator signed: village S, never certified
S() { "$H" --home "$T/s" "$@"; }
check "village S, never certified, writes a record" bash -c "'$H' --home '$T/s' init --network '$T/aud.network' --name s --scope bk/qt/s >/dev/null && '$H' --home '$T/s' put health_profile HP-S1 '$(hp 901)' 2>/dev/null"
KS=$(key s)
check "S bundles it" S bundle create --unsealed "$T/su.bundle"
check "a bundle whose only certificate S signed itself" "$CRAFT" "$T/s" "$T/self.bundle" --no-trust --self-cert "$T/su.bundle"
rc 1 "judged against the network's file, whose network the header names: judged (exit 1), not \"another network\" (4)" \
	"$H" verify --bundle "$T/self.bundle" --network "$T/aud.network" --report
has "the certificate refused, named by subject, issuer and why" "^  trust: certificate \"self-signed\" at byte [0-9]+ \(for key ${KS:0:16}.*, issued by key ${KS:0:16}.*\) refused: certificate whose issuer holds no certificate that leads to the root$"
has "S's entry is not accepted: it waits for a certificate" 'entry of it waits for a certificate that has not arrived: not accepted'
rc 1 "and --json" "$H" verify --bundle "$T/self.bundle" --network "$T/aud.network" --report --json
jq_ok "judged, a finding: S's entry held for a certificate" ".not_judged == null and .findings == true and .ok == false and (.authors[] | select(.key == \"$KS\") | .held_for_certificate == 1) and .trust_items_refused == 1"
check "a bundle of S's entry under a certificate A signed granting all of bk (A holds bk/qt)" "$CRAFT" "$T/s" "$T/wide.bundle" --no-trust --widen "$T/a" bk "$T/su.bundle"
rc 1 "the report on it exits 1" "$H" verify --bundle "$T/wide.bundle" --network "$T/aud.network" --report
has "S's certificate leads nowhere, for the real reason: it never held" '^  its certificates do NOT lead to the network.s root key: certificate 1 of the chain \("widened"\) lets its holder (read|write) bk, outside what its issuer "a" may (read|write) \(bk/qt\)$'
has "its chain was valid at no date" '^  chain to the root: "widened" ← "a" ← the root key: NEVER valid \(certificate 1 of the chain'
check "not that it expired, nor that it is not valid now" bash -c "! grep -qE 'expired, or not yet valid|its certificate is NOT valid now' '$T/out'"
rc 1 "--json" "$H" verify --bundle "$T/wide.bundle" --network "$T/aud.network" --report --json
jq_ok "status no_chain_to_root, the chain never valid" ".authors[] | select(.key == \"$KS\") | .status == \"no_chain_to_root\" and .chains[0].never_valid and (.chains[0].valid_now | not)"
# a certificate for S signed by village G, which may certify no one and
# is revoked: the forgery is named, not hidden behind the revocation
check "a bundle of S's entry under a certificate village G signed, with G's revocation" "$CRAFT" "$T/s" "$T/forged.bundle" --widen "$T/g" bk/qt/s "$T/su.bundle" "$T/au.bundle"
rc 1 "the report on it exits 1" "$H" verify --bundle "$T/forged.bundle" --network "$T/aud.network" --report --json
jq_ok "S: no chain to the root (not issuer_revoked), its entry refused as not granted, naming G" ".authors[] | select(.key == \"$KS\") | .status == \"no_chain_to_root\" and .chain_cut_by_revocation == false and .chains[0].never_valid and (.chains[0].invalid_why | test(\"signed by .g., which may not certify others\")) and .refused[0].reason == \"not_granted\""
rc 1 "the text report" "$H" verify --bundle "$T/forged.bundle" --network "$T/aud.network" --report
has "says so" '^  its certificates do NOT lead to the network.s root key: certificate 1 of the chain \("widened"\) is signed by "g", which may not certify others$'
check "and not that an administrator's key was revoked" bash -c "! grep -qE 'signed by an administrator (whose key is|since) revoked' '$T/out'"
check "the same bundle without G's revocation" "$CRAFT" "$T/s" "$T/forged2.bundle" --widen "$T/g" bk/qt/s "$T/su.bundle"
rc 1 "the report on it: the same status" "$H" verify --bundle "$T/forged2.bundle" --network "$T/aud.network" --report --json
jq_ok "no_chain_to_root, not not_valid_now" ".authors[] | select(.key == \"$KS\") | .status == \"no_chain_to_root\" and .refused[0].reason == \"not_granted\""
check "then A's bundle (with the revocation and the erasure) reaches F" bash -c "'$H' --home '$T/a' bundle create --seal-to '$KF' '$T/a.bundle' >/dev/null && '$H' --home '$T/f' bundle import '$T/a.bundle' >/dev/null"
check "the auditor U has a home of its own (its key)" "$H" --home "$T/u" init --network "$T/aud.network" --name auditor --scope bk
KU=$(key u)
check "F bundles everything it holds, sealed to the auditor" F bundle create --seal-to "$KU" "$T/f.bundle"
check "the sealed bundle's bytes lack HP-G2's name" bash -c "! grep -qaF 'Person 202' '$T/f.bundle'"
rc 4 "without the auditor's key the bundle cannot be judged, and says so" \
	env HAMLET_HOME="$T/nowhere" "$H" verify --bundle "$T/f.bundle" --root "$ROOT" --report --json
check "it names the key it is sealed to, and how to open it" bash -c "grep -q 'sealed for .*$KU' '$T/err' && grep -q -- '--home' '$T/err'"

# --- the report, given only the root public key ---------------------------
export HAMLET_HOME="$T/u" # the auditor's home: its key opens the bundle
rc 1 "verify --bundle --root --report --json exits 1 (findings)" \
	"$H" verify --bundle "$T/f.bundle" --root "$ROOT" --report --json
jq_ok "it is a version 4 report" '.report_version == 4'
jq_ok "on the bundle" '.source.kind == "bundle"'
jq_ok "its creation time is a UTC time, with the HLC beside it" '(.source.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z")) and (.source.created_hlc | type == "number")'
jq_ok "it was judged" '.not_judged == null'
jq_ok "judged against the root given" ".root == \"$ROOT\""
jq_ok "not damaged" '.damaged == false'
jq_ok "evidence" '.evidence == true'
jq_ok "F is named by its certificate" ".authors[] | select(.key == \"$KF\") | .name == \"f\""
jq_ok "F's certificate grants writing bk/qt/na-pai/clinic" ".authors[] | select(.key == \"$KF\") | .certificates[0].write == [\"bk/qt/na-pai/clinic\"] and .certificates[0].issuer_is_root"
jq_ok "F's chain is valid and leads to the root" ".authors[] | select(.key == \"$KF\") | .chains[0].valid_now and (.chains[0].certificates[-1].issuer == \"$ROOT\")"
jq_ok "the fork: F's feed bk/qt/na-pai/clinic is forked at seq 2" ".authors[] | select(.key == \"$KF\") | .forks >= 1 and (.feeds[] | select(.scope == \"bk/qt/na-pai/clinic\") | .forked and .fork_seq == 2)"
jq_ok "G is revoked" ".authors[] | select(.key == \"$KG\") | .status == \"revoked\""
jq_ok "the revocation's cut-off: bk/qt/ban-ho up to seq 2" ".authors[] | select(.key == \"$KG\") | .revocations[0].cut_off[] | select(.scope == \"bk/qt/ban-ho\") | .kept_through == 2"
jq_ok "with its reason" ".authors[] | select(.key == \"$KG\") | .revocations[0].reason == \"PC stolen\""
jq_ok "the unauthorised entry: F's seq 1 in bk/qt/na-pai, refused as not granted" \
	".authors[] | select(.key == \"$KF\") | .refused[] | select(.scope == \"bk/qt/na-pai\" and .seq == 1) | .reason == \"not_granted\" and .signature_ok and .record_id == \"HP-F0\" and (.why | test(\"does not let it write\"))"
# F took G's seq 3 out when the revocation came (SPEC 9): not in its bundle
jq_ok "the revoked key's later entry is not in F's bundle (F took it out)" \
	"[.authors[].refused[] | select(.record_id == \"HP-G3\")] | length == 0"
jq_ok "G's entries up to the cut-off stand" ".authors[] | select(.key == \"$KG\") | .feeds[] | select(.scope == \"bk/qt/ban-ho\") | .entries == 2"
jq_ok "nothing else is refused" "[.authors[].refused[]] | length == 1"
jq_ok "times are UTC" ".authors[] | select(.key == \"$KG\") | .first | test(\"Z\")"
jq_ok "the erasure: A erased HP-G1, allowed, with its reason" \
	".erasures[] | select(.record_id == \"HP-G1\") | .author == \"$KA\" and .allowed and .reason == \"request of the person\" and .collection == \"health_profile\" and (.time | test(\"Z\"))"
jq_ok "it reached G's entry" ".erasures[] | select(.record_id == \"HP-G1\") | .entries_reached == 1"
jq_ok "A made one erasure; one of G's entries was erased" ".authors[] | select(.key == \"$KA\") | .erasures_made == 1"
jq_ok "G's entries erased: 1" ".authors[] | select(.key == \"$KG\") | .entries_erased == 1"
check "the bundle's bytes lack HP-G1's name" bash -c "! grep -qaF 'Person 201' '$T/f.bundle'"

rc 1 "the text report (exit 1)" "$H" verify --bundle "$T/f.bundle" --root "$ROOT" --report
has "names F and G by their certificates" '^"g"$'
has "says G is revoked" 'its key is REVOKED'
has "names the fork" 'FORKED at seq 2'
has "names the refused entry outside the grant" 'refused \(not_granted\): .*does not let it write'
has "times marked UTC" 'All times are UTC'
has "names the erasure and its reason" 'HP-G1.*request of the person|request of the person.*HP-G1'

rc 2 "--root needs --report" "$H" verify --bundle "$T/f.bundle" --root "$ROOT"
rc 2 "--root must be a key: a usage error (exit 2), as --seal-to's" "$H" verify --bundle "$T/f.bundle" --root 1234 --report
rc 4 "another root: nothing in the bundle chains to it (exit 4)" "$H" verify --bundle "$T/f.bundle" --root "$KF" --report --json
jq_ok "the report says it was not judged: another network" '.not_judged.reason == "another_network" and (.authors | length == 0) and .ok == false'
check "and says so on standard error, naming the root" grep -q "(its header names network [0-9a-f]*) holds nothing that chains to root $KF: it is of another network" "$T/err"
check "another network's root" "$H" network create other --out "$T"
OROOT=$(sed -n 's/^root_public_key = //p' "$T/other.network")
rc 4 "the root of another network: exit 4" "$H" verify --bundle "$T/f.bundle" --root "$OROOT" --report
check "it says the bundle is of another network, not that it is intact" bash -c "grep -q '(its header names network .*) holds nothing that chains to root $OROOT: it is of another network' '$T/err' && ! grep -q intact '$T/out' '$T/err'"
rc 4 "against another network's file: exit 4" "$H" verify --bundle "$T/f.bundle" --network "$T/other.network" --report
check "it names both networks, and speaks of no node or import" bash -c "grep -q 'is of network [0-9a-f]*, not other of $T/other.network' '$T/err' && ! grep -q 'nothing imported\\|this node is on' '$T/err'"
check "no scratch directory is left behind" test -z "$(ls -d "${TMPDIR:-/tmp}"/hamlet-verify-* 2>/dev/null | head -1)"

# --- the scratch directory holds a clear copy: gone on Ctrl-C too ------------
# a bundle big enough that its report is caught while it runs: stopped
# (SIGSTOP) as soon as its scratch store exists, then interrupted
"$H" network create big --out "$T" >/dev/null
"$H" --home "$T/big" init --network "$T/big.network" --name big --scope bk >/dev/null
"$H" cert issue --root-key "$T/big.root.key" --to "$(sed -n 's/^public_key = //p' "$T/big/node.conf")" \
	--name big --role province --read bk --write bk --out "$T/big.cert" >/dev/null
"$H" --home "$T/big" cert install "$T/big.cert" >/dev/null
python3 -c "
print('id,person_id,full_name,birth_date')
for i in range(10000): print(f'B{i},{200000000000 + i},Secretname B{i},1990-01-01')" >"$T/big.csv"
"$H" --home "$T/big" import health_profile --format csv "$T/big.csv" >/dev/null
"$H" --home "$T/big" bundle create --unsealed "$T/big.bundle" >/dev/null 2>&1
BROOT=$(sed -n 's/^root_public_key = //p' "$T/big.network")
for sig in INT TERM; do
	"$H" verify --bundle "$T/big.bundle" --root "$BROOT" --report >/dev/null 2>&1 &
	VP=$!
	caught=0
	while kill -0 "$VP" 2>/dev/null; do
		if ls "$TMPDIR"/hamlet-verify-*/store/data.mdb >/dev/null 2>&1; then
			kill -STOP "$VP" && ls "$TMPDIR"/hamlet-verify-*/store/data.mdb >/dev/null 2>&1 && caught=1
			kill -"$sig" "$VP"; kill -CONT "$VP"
			break
		fi
		sleep 0.01
	done
	wait "$VP"
	vrc=$?
	if [ "$caught" = 1 ]; then
		check "SIG$sig during a report on a bundle ends it (exit $vrc)" test "$vrc" -gt 128
		check "and removes its scratch directory, the bundle's clear copy" \
			test -z "$(ls -d "$TMPDIR"/hamlet-verify-* 2>/dev/null | head -1)"
	else
		echo "# SIG$sig: the report ended before its scratch store was seen; not checked"
	fi
done
# one a SIGKILL left (its process is gone) is removed by the next report;
# one of no known process is named
sh -c 'exit 0' & DEAD=$!; wait "$DEAD"
mkdir -p "$TMPDIR/hamlet-verify-$DEAD-Ab1234/store" "$TMPDIR/hamlet-verify-oldrun" &&
	echo Secretname >"$TMPDIR/hamlet-verify-$DEAD-Ab1234/store/data.mdb"
rc 1 "a report after a killed one" "$H" verify --bundle "$T/f.bundle" --root "$ROOT" --report
check "removes the scratch directory the killed one left, and says so" bash -c \
	"! test -e '$TMPDIR/hamlet-verify-$DEAD-Ab1234' && grep -q 'removed $TMPDIR/hamlet-verify-$DEAD-Ab1234, left by an earlier report' '$T/err'"
check "names one it cannot tell is left over, and leaves it" bash -c \
	"test -d '$TMPDIR/hamlet-verify-oldrun' && grep -q 'WARNING: $TMPDIR/hamlet-verify-oldrun was left by an earlier report on a bundle and holds a clear copy' '$T/err'"
rmdir "$TMPDIR/hamlet-verify-oldrun"
unset HAMLET_HOME

# --- the store's own report: A kept what it refused ----------------------
F bundle create --seal-to "$KA" "$T/fa.bundle" >/dev/null 2>&1
A bundle import "$T/fa.bundle" >/dev/null 2>&1
rc 1 "A's store report --json exits 1 (refused entries, the fork)" A verify --report --json
jq_ok "on the store" '.source.kind == "store"'
jq_ok "A kept F's entry outside its grant" ".authors[] | select(.key == \"$KF\") | .refused[] | select(.scope == \"bk/qt/na-pai\") | .reason == \"not_granted\""
rc 1 "F's store report --json exits 1" F verify --report --json
jq_ok "F kept G's entry past its cut-off, taken out when the revocation came" ".authors[] | select(.key == \"$KG\") | .refused[] | select(.seq == 3) | .reason == \"revoked\" and .record_id == \"HP-G3\""
# plain verify counts what the node refused, beside what it stores
A verify >"$T/out" 2>&1
has "A's plain verify counts the entries it refused, pointing at --report" '^  refused: +[1-9][0-9]* \(entries this node refused when they came: .*verify --report names each\)$'
# --- history names the certificate that allowed each change ---------------
rc 0 "history of HP-G2 on A" A history health_profile HP-G2
has "names the certificate" '^  allowed by certificate "g" \(village\), issued by the network.s root key, id [0-9a-f]{8}'
rc 0 "history --json" A history health_profile HP-G2 --json
jq_ok "with its name, role, issuer and id" '.ops[0].certificate.name == "g" and .ops[0].certificate.role == "village" and (.ops[0].certificate.id | length == 64)'

# --- a bundle with a damaged run: the later entries wait ------------------
# Village H writes 70 records: one run of 64 entries and one of 6. A byte
# flipped in the first run loses it; a node that imports the rest holds
# seqs 65 to 70 until 1 to 64 come.
# u32 OFFSET FILE: the big-endian u32 at byte OFFSET of FILE
u32() { od -An -tu1 -j "$1" -N4 "$2" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }'; }
# frames_of TYPE FILE: the offset of each frame of TYPE ('C' a run, 'R'
# a trust item) of a plain bundle, one a line
frames_of() {
	local f=$2 off=8 size
	size=$(stat -c %s "$f")
	while [ $((off + 8)) -le "$size" ]; do
		[ "$(dd if="$f" bs=1 skip=$((off + 2)) count=1 status=none)" = "$1" ] && echo "$off"
		off=$((off + 8 + $(u32 $((off + 4)) "$f")))
	done
}
run_frame() { frames_of C "$1" | head -1; }
# sealed_frames FILE: the offset of each sealed frame, one a line (the
# header's first, then the trust items' in the order of a plain bundle)
sealed_frames() {
	local f=$1 off=169 size
	size=$(stat -c %s "$f")
	while [ $((off + 12)) -le "$size" ]; do
		echo "$off"
		off=$((off + 12 + $(u32 $((off + 8)) "$f")))
	done
}
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 0x40)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
check "village H" "$H" --home "$T/h" init --network "$T/aud.network" --name khuoi-tat --scope bk/qt/khuoi-tat
check "H certified" certify "$T/aud.root.key" h
{
	echo "id,person_id,full_name,birth_date"
	for i in $(seq 1 70); do printf 'HP-H%02d,%012d,Person %d,1980-01-01\n' "$i" $((300 + i)) "$i"; done
} >"$T/h.csv"
check "H writes 70 records" "$H" --home "$T/h" import health_profile --format csv "$T/h.csv"
check "H bundles them, unsealed" "$H" --home "$T/h" bundle create --unsealed "$T/h.bundle"
head -c 8 "$T/h.bundle" >"$T/cut8.bundle"
head -c 20 "$T/h.bundle" >"$T/cut20.bundle"
rc 6 "a bundle cut to its magic: the report exits 6" "$H" verify --bundle "$T/cut8.bundle" --root "$ROOT" --report --json
jq_ok "and says in JSON that its header is unreadable" '.not_judged.reason == "no_header" and .damaged == true and .network_id == null and .source.created == null'
rc 6 "a bundle cut inside its first frame: the report exits 6" "$H" verify --bundle "$T/cut20.bundle" --root "$ROOT" --report --json
jq_ok "and says so in JSON too" '.not_judged.reason == "no_header" and (.not_judged.text | test("no readable header"))'
# a bit of the header's network id flipped: the header is damaged, the
# entries (each naming its network, signed) are judged as they are
cp "$T/h.bundle" "$T/h-net.bundle"
flip "$T/h-net.bundle" 30
rc 6 "a bundle whose header names a damaged network id: the report exits 6, not 4 (another network)" "$H" verify --bundle "$T/h-net.bundle" --root "$ROOT" --report --json
jq_ok "it is judged: H's 70 entries stand, the header is called damaged" '.not_judged == null and .damaged == true and (.authors[] | select(.name == "h") | .feeds[0].entries == 70) and (.bundle_check.problems | map(.text) | any(test("header damaged")))'
rc 6 "and so against the network's file" "$H" verify --bundle "$T/h-net.bundle" --network "$T/aud.network" --report --json
jq_ok "the same judgement" '.not_judged == null and .damaged == true and (.authors[] | select(.name == "h") | .feeds[0].entries == 70)'
# the trailer's entry count (its second byte: 70 fits one byte) changed:
# the file holds entries the creator did not count, or lacks some
cp "$T/h.bundle" "$T/h-count.bundle"
CNT=$(($(stat -c %s "$T/h.bundle") - 101))
flip "$T/h-count.bundle" $CNT
rc 6 "a trailer counting 6 entries of 70: verify exits 6" "$H" verify --bundle "$T/h-count.bundle" --network "$T/aud.network"
has "naming both counts, and that the creator counted wrongly" 'trailer: the trailer counts 6 entries, the file holds 70, though its hash and signature check out: its creator counted wrongly$'
printf '\107' | dd of="$T/h-count.bundle" bs=1 seek=$CNT conv=notrunc status=none
rc 6 "a trailer counting 71 entries of 70: verify exits 6" "$H" verify --bundle "$T/h-count.bundle" --network "$T/aud.network"
has "naming both counts, and what may explain it" 'trailer: the trailer counts 71 entries, the file holds 70, though its hash and signature check out: its creator counted wrongly, or entries it wrote could not be read here'
rc 0 "verify of the bundle as made: ok, saying certificates are judged with --report" "$H" verify --bundle "$T/h.bundle" --network "$T/aud.network"
has "it says so" 'verify: ok: every entry, hash chain and the trailer check out \(who may write what is not judged here: certificates and revocations are, with --report\)'
# seq 2 left out, the rest signed again by H: intact, with a gap
check "H's bundle without seq 2, signed by H" "$CRAFT" "$T/h" "$T/h-gap.bundle" --drop-seq 2 "$T/h.bundle"
rc 1 "verify --bundle --json on a bundle with a gap exits 1" "$H" verify --bundle "$T/h-gap.bundle" --network "$T/aud.network" --json
jq_ok "and says it is not ok" '.ok == false and .incomplete == true and .gaps == 1 and .evidence == false and .damaged == false'
rc 1 "its report exits 1" "$H" verify --bundle "$T/h-gap.bundle" --root "$ROOT" --report --json
jq_ok "the bundle's check says not ok either; no fork" '.ok == false and .findings == true and .evidence == false and .bundle_check.ok == false'
# seq 2 carried with a signature that does not verify: damage, named
# once, and not also a seq "missing" (it is there)
check "H's bundle with seq 2's signature altered, signed by H" "$CRAFT" "$T/h" "$T/h-sig.bundle" --bad-sig-seq 2 "$T/h.bundle"
rc 6 "verify --bundle on it exits 6" "$H" verify --bundle "$T/h-sig.bundle" --network "$T/aud.network" --json
jq_ok "damaged, one bad entry, no gap" '.damaged == true and .gaps == 0 and .incomplete == false'
rc 6 "the text names the bad signature" "$H" verify --bundle "$T/h-sig.bundle" --network "$T/aud.network"
has "a signature line" '^  signature: entry at byte [0-9]+'
check "and no line of seqs left out" bash -c "! grep -q 'leaves entries out\|missing between entries' '$T/out'"
rc 0 "the report on the bundle as made: nothing to report" "$H" verify --bundle "$T/h.bundle" --root "$ROOT" --report --json
jq_ok "its check ok" '.ok == true and .bundle_check.ok == true'
# damage to the certificate the root issued: damage (6), though what is
# left does not chain to the root (another network, 4, were it intact).
# Village V is certified by A, whose certificate the root issued: V's
# bundle carries V's certificate, then A's.
check "village V" "$H" --home "$T/v" init --network "$T/aud.network" --name ban-vang --scope bk/qt/ban-vang
check "V certified by A" issue v village bk/qt/ban-vang --issuer-home "$T/a"
check "V writes a record" "$H" --home "$T/v" put health_profile HP-V1 "$(hp 911)"
check "V bundles it, unsealed" "$H" --home "$T/v" bundle create --unsealed "$T/v.bundle"
mapfile -t ROFFS < <(frames_of R "$T/v.bundle")
check "it carries two certificates" test "${#ROFFS[@]}" = 2
# the one signed by the root (its key in the clear, as the issuer)
RI=0
dd if="$T/v.bundle" bs=1 skip="${ROFFS[1]}" count=240 status=none | od -An -tx1 -v | tr -d ' \n' | grep -q "$ROOT" && RI=1
cp "$T/v.bundle" "$T/v-cert.bundle"
flip "$T/v-cert.bundle" $((ROFFS[RI] + 40))
rc 6 "a byte flipped in A's certificate: the report exits 6, not 4" "$H" verify --bundle "$T/v-cert.bundle" --root "$ROOT" --report --json
jq_ok "judged, and damaged" '.not_judged == null and .damaged == true and .ok == false'
KU=$(key u)
check "V's bundle sealed to the auditor" bash -c "'$H' --home '$T/v' bundle create --seal-to '$KU' '$T/vs.bundle' >/dev/null 2>&1"
mapfile -t SOFFS < <(sealed_frames "$T/vs.bundle")
cp "$T/vs.bundle" "$T/vs-cert.bundle"
flip "$T/vs-cert.bundle" $((SOFFS[RI + 1] + 40))
rc 6 "sealed, its frame holding A's certificate damaged: the report exits 6, not 4" "$H" --home "$T/u" verify --bundle "$T/vs-cert.bundle" --root "$ROOT" --report --json
jq_ok "judged, and damaged" '.not_judged == null and .damaged == true'
cp "$T/vs.bundle" "$T/hs-head.bundle"
flip "$T/hs-head.bundle" 100
rc 6 "sealed, its header damaged: the report exits 6" "$H" --home "$T/u" verify --bundle "$T/hs-head.bundle" --root "$ROOT" --report
check "saying so" grep -q "is a sealed bundle whose header is damaged or cut short" "$T/err"
# a byte of a stored body altered: the store report says what verify finds
cp -a "$T/h" "$T/hd"
for off in $(grep -obaF "Person 42" "$T/hd/store/data.mdb" | cut -d: -f1); do
	printf 5 | dd of="$T/hd/store/data.mdb" bs=1 seek=$((off + 7)) conv=notrunc status=none
done
# an auditor brings the network's root key from its administrator: a
# copy whose network file names that root is judged; another is not
rc 0 "verify --root ROOT on H's store, its network's root: judged, ok" "$H" --home "$T/h" verify --root "$ROOT"
rc 0 "and verify --report --root ROOT" "$H" --home "$T/h" verify --report --root "$ROOT"
check "another network" "$H" network create aud2 --out "$T/other"
ROOT2=$(sed -n 's/^root_public_key = //p' "$T/other/aud2.network")
rc 4 "verify --root of another network's root: not judged (exit 4)" "$H" --home "$T/h" verify --root "$ROOT2"
check "saying which root the copy's network file names" grep -q "names root key $ROOT, not $ROOT2" "$T/err"
KH8=$(key h | cut -c1-16)
rc 6 "verify on H's store with a body altered exits 6" "$H" --home "$T/hd" verify
has "naming the entry, by its feed's scope and author" "^  body: feed bk/qt/khuoi-tat by $KH8… seq 42: stored body does not match its signed hash\$"
has "counting it a bad body" '^  bad bodies:        1 \(not matching the hash their entry signs\)$'
has "not a chain break" '^  chain breaks:      0$'
has "the digest line saying what differs" '^  digest: the kept state digest does not match the stored records: they are as many as it counts \([0-9]+\), but what some of them hold is not what it was kept for'
rc 6 "verify --json" "$H" --home "$T/hd" verify --json
jq_ok "counts a bad body, no chain break" '.damaged == true and .bad_bodies == 1 and .chain_breaks == 0'
rc 6 "so does verify --report" "$H" --home "$T/hd" verify --report
has "listing what verify finds" '^what verify finds in the store of node khuoi-tat:$'
has "the entry" "^  body: feed bk/qt/khuoi-tat by $KH8… seq 42: stored body does not match its signed hash\$"
rc 6 "verify --report --json" "$H" --home "$T/hd" verify --report --json
jq_ok "its problems are verify's" ".damaged == true and (.problems | map(select(.kind == \"body\")) | .[0].text == \"feed bk/qt/khuoi-tat by $KH8… seq 42: stored body does not match its signed hash\")"
cp "$T/h.bundle" "$T/h-damaged.bundle"
RUN=$(run_frame "$T/h.bundle")
check "the bundle has a run frame" test -n "$RUN"
flip "$T/h-damaged.bundle" $((RUN + 100))
rc 6 "the report on the damaged bundle exits 6" "$H" verify --bundle "$T/h-damaged.bundle" --root "$ROOT" --report --json
jq_ok "H's feed: 6 entries wait for 64 missing seqs" ".authors[] | select(.name == \"h\") | .feeds[0].held == 6 and .feeds[0].gaps == 64"
jq_ok "the gaps are findings, as verify --bundle counts them; evidence is a fork only" '.findings == true and .evidence == false and .ok == false'
check "commune K" "$H" --home "$T/k" init --network "$T/aud.network" --name khau-ban --scope bk/qt
check "K certified" certify "$T/aud.root.key" k
rc 1 "K imports the damaged bundle (exit 1: a damaged frame)" "$H" --home "$T/k" bundle import "$T/h-damaged.bundle"
has "the entries after the hole are held, said once" '^  held: entry at byte [0-9]+, health_profile/HP-H65 \(feed bk/qt/khuoi-tat seq 65\): feed bk/qt/khuoi-tat by [0-9a-f]{16}… is held here up to seq 0, this is 65: it waits for the entries between \(an earlier stick, or a sync, brings them\)$'
rc 1 "K's store report exits 1: entries wait for earlier ones" "$H" --home "$T/k" verify --report --json
jq_ok "K's report counts them as findings" ".findings == true and (.authors[] | select(.name == \"h\") | .feeds[0].held == 6)"
rc 1 "the text report on K's store (exit 1)" "$H" --home "$T/k" verify --report
has "names the entries waiting and the seqs missing" 'scope bk/qt/khuoi-tat: 0 entries .*; 6 waiting for earlier entries not received, 64 seqs missing below the last entry held'
rc 0 "K imports the intact bundle" "$H" --home "$T/k" bundle import "$T/h.bundle" --json
jq_ok "the entries held are released, not also counted as duplicates" '.imported.applied == 70 and .imported.released == 6 and .imported.duplicate == 0 and .imported.held == 0'
rc 0 "K imports it again" "$H" --home "$T/k" bundle import "$T/h.bundle" --json
jq_ok "then every entry is a duplicate" '.imported.applied == 0 and .imported.duplicate == 70 and .imported.released == 0'

# --- a bundle judged from a home that holds a revocation it lacks -------
rc 1 "A judges G's first bundle (sealed to A), made before A revoked G: exit 1" "$H" --home "$T/a" verify --bundle "$T/g1.bundle" --report --json
jq_ok "G's status is judged by the bundle alone, and A's revocation of G is named" ".findings == true and .evidence == false and (.authors[] | select(.key == \"$KG\") | .status == \"valid\" and .home_revocations == 1)"
rc 1 "the text report says so, not \"not revoked\"" "$H" --home "$T/a" verify --bundle "$T/g1.bundle" --report
has "no revocation in the bundle" 'its certificate is valid now; no revocation of it is in the bundle'
has "the home's revocation" "this home's trust set holds 1 revocation of it \\(by the network's root key on .*\\) that the bundle does not carry"
rc 0 "verify --bundle counts the bodies the entries sign" "$H" verify --bundle "$T/h.bundle" --network "$T/aud.network" --json
jq_ok "70 bodies, none missing, ok" '.bodies == 70 and .bodies_missing == 0 and .ok == true'

# --- an honest bundle carrying a fork whose evidence does not chain ------
# Village W's key is copied to W2 after seq 1; W writes seq 2, W2 its own
# seq 2 and 3. A holds W's seqs 1 and 2 when W2's seq 3 reaches it alone
# (W2's seq 2 left out: any node may forward entries): its prev is not
# the seq 2 A holds, a fork (SPEC 1.5, 8 case 2). A's bundle then carries
# seq 3 as evidence: the bundle is intact and carries evidence, as the
# import and A's store say, not damaged.
check "village W" "$H" --home "$T/w" init --network "$T/aud.network" --name ban-wa --scope bk/qt/ban-wa
check "W certified" certify "$T/aud.root.key" w
check "W writes seq 1" "$H" --home "$T/w" put health_profile HP-W1 "$(hp 501)"
check "W's home is copied, key and all" cp -a "$T/w" "$T/w2"
check "W writes seq 2" "$H" --home "$T/w" put health_profile HP-W2 "$(hp 502)"
check "the copy writes its own seq 2 and 3" bash -c "'$H' --home '$T/w2' put health_profile HP-W3 '$(hp 503)' && '$H' --home '$T/w2' put health_profile HP-W4 '$(hp 504)'"
check "W's bundle reaches A" bash -c "'$H' --home '$T/w' bundle create --seal-to '$KA' '$T/w.bundle' >/dev/null 2>&1 && '$H' --home '$T/a' bundle import '$T/w.bundle' >/dev/null"
check "the copy's bundle without its seq 2" bash -c "'$H' --home '$T/w2' bundle create --unsealed '$T/w2u.bundle' >/dev/null 2>&1 && '$CRAFT' '$T/w2' '$T/w2-3.bundle' --drop-seq 2 '$T/w2u.bundle'"
rc 1 "A imports it: a fork (exit 1)" "$H" --home "$T/a" bundle import "$T/w2-3.bundle"
has "seq 3 kept as evidence" '^  fork: .*HP-W4 \(feed bk/qt/ban-wa seq 3\): author signed two different entries at seq 2 of feed bk/qt/ban-wa; both kept as evidence'
check "A bundles all it holds, unsealed" A bundle create --unsealed "$T/aw.bundle"
rc 1 "verify --bundle on it: intact, carries evidence (exit 1), not damaged" "$H" verify --bundle "$T/aw.bundle" --network "$T/aud.network"
has "seq 3 named as evidence" '^verify: intact; carries evidence: entry at byte [0-9]+, health_profile/HP-W4 \(feed bk/qt/ban-wa seq 3\): it names as the entry before it another entry than the one the bundle carries at that seq \(fork evidence\)$'
check "nothing called damaged or a broken chain" bash -c "! grep -qE 'DAMAGED|^  chain:' '$T/out'"
rc 1 "--json" "$H" verify --bundle "$T/aw.bundle" --network "$T/aud.network" --json
jq_ok "evidence, not damaged, no bad entry" '.evidence == true and .damaged == false and .bad_entries == 0'
rc 1 "its report exits 1, not 6" "$H" verify --bundle "$T/aw.bundle" --root "$ROOT" --report --json
jq_ok "evidence, not damaged" '.evidence == true and .damaged == false and .bundle_check.damaged == false'

# --- an entry dated ahead: its author's clock, not damage ----------------
check "village X" "$H" --home "$T/x" init --network "$T/aud.network" --name ban-xa --scope bk/qt/ban-xa
check "X certified" certify "$T/aud.root.key" x
check "X, its clock three days ahead, writes a record" env HAMLET_CLOCK_OFFSET_MS=259200000 "$H" --home "$T/x" put health_profile HP-X1 "$(hp 601)"
check "X bundles it" bash -c "HAMLET_CLOCK_OFFSET_MS=259200000 '$H' --home '$T/x' bundle create --unsealed '$T/x.bundle' >/dev/null 2>&1"
rc 1 "verify --bundle here: a finding on X's clock (exit 1), not damage (6)" "$H" verify --bundle "$T/x.bundle" --network "$T/aud.network"
has "named, with the author's clock" '^verify: intact; carries an entry dated ahead: entry at byte [0-9]+, health_profile/HP-X1 \(feed bk/qt/ban-xa seq 1\): dated more than 24 h ahead of this machine.s clock \(its author.s clock ahead'
has "counted" '^  future:     1 '
has "no entry called bad" '^  bad:        0 entries$'
rc 1 "--json" "$H" verify --bundle "$T/x.bundle" --network "$T/aud.network" --json
jq_ok "dated ahead, not damaged" '.dated_ahead == true and .damaged == false and .future == 1 and .ok == false'

tests_done
