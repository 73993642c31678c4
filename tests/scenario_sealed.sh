#!/usr/bin/env bash
# Sealed bundles through the CLI, with real homes: a bundle made for the
# commune is sealed to its key (a health record's marker is not in the
# file's bytes), the commune imports it, another village is told the
# bundle is sealed for the commune and imports nothing, a flipped byte is
# reported and costs the run of entries it hit, a cut file says it is cut short, and an
# auditor gets a bundle sealed to its own key.
#   tests/scenario_sealed.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
. "$(dirname "$0")/testlib.sh"
tests_scratch sealed
N() { local n=$1; shift; "$H" --home "$T/$n" "$@"; }
key() { sed -n 's/^public_key = //p' "$T/$1/node.conf"; }
# u32 NUMBER at byte OFFSET of FILE, big-endian
u32() { od -An -tu1 -j "$2" -N4 "$1" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }'; }
# frames FILE: the offset of each sealed frame, one a line
frames() {
	local f=$1 off=169 size
	size=$(stat -c %s "$f")
	while [ $((off + 12)) -le "$size" ]; do
		echo "$off"
		off=$((off + 12 + $(u32 "$f" $((off + 8)))))
	done
}
# flip FILE OFFSET: change one byte of FILE in place
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 0x40)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# reads NODE: how many reads of health data NODE's access log holds
reads() { N "$1" access-log --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)['entries']))"; }
# logged NODE K WANT: the reads NODE logged past its first K are WANT, as
# COLLECTION:COUNT words ("" for none)
logged() {
	local got
	got=$(N "$1" access-log --json | python3 -c "import json,sys; print(' '.join('%s:%d' % (e['collection'], e['count']) for e in json.load(sys.stdin)['entries'][$2:]))")
	[ "$got" = "$3" ] || { echo "logged: \"$got\", not \"$3\""; return 1; }
}
# to_commune NODE: what NODE holds reaches the commune, in a bundle made
# for the commune's summary
to_commune() {
	N quang-thuan summary --out "$T/qt.sum" >/dev/null &&
		N "$1" bundle create --for "$T/qt.sum" "$T/$1-qt.bundle" >/dev/null 2>&1 &&
		N quang-thuan bundle import "$T/$1-qt.bundle" >/dev/null
}

MARK="SEALMARK-$$-$RANDOM"
check "network created" "$H" network create bk --out "$T"
check "village na-pai" N na-pai init --network "$T/bk.network" --name na-pai --scope bk/qt/na-pai
check "commune quang-thuan" N quang-thuan init --network "$T/bk.network" --name quang-thuan --scope bk/qt
check "village khuoi-tat" N khuoi-tat init --network "$T/bk.network" --name khuoi-tat --scope bk/qt/khuoi-tat
check "the auditor's home" N auditor init --network "$T/bk.network" --name auditor --scope bk
check "na-pai certified" certify "$T/bk.root.key" na-pai
check "the commune certified" certify "$T/bk.root.key" quang-thuan
check "khuoi-tat certified" certify "$T/bk.root.key" khuoi-tat
check "the auditor certified" bash -c "'$H' cert issue --root-key '$T/bk.root.key' --to '$(key auditor)' --name provincial-auditor --role auditor --read bk --write '' --out '$T/d.cert' && '$H' --home '$T/auditor' cert install '$T/d.cert'"
for i in 1 2 3; do
	check "na-pai records HP-$i" N na-pai put health_profile "HP-$i" "{\"person_id\":\"00112233440$i\",\"full_name\":\"$MARK $i\",\"birth_date\":\"1990-01-0$i\"}"
done
check "the commune's summary" N quang-thuan summary --out "$T/b.sum"

# --- create ------------------------------------------------------------
N na-pai bundle create --for "$T/b.sum" "$T/b.bundle" >"$T/create.out" 2>&1
if grep -q "^sealed for node $(key quang-thuan) (quang-thuan): only that node can read it" "$T/create.out"; then
	ok "create --for says it is sealed, and to whom"
else fail "create --for says it is sealed, and to whom"; sed 's/^/    /' "$T/create.out"; fi
check "the marker is not in the sealed file's bytes" bash -c "[ \"\$(grep -ac -- '$MARK' '$T/b.bundle')\" = 0 ]"
check "nor is the collection's name" bash -c "[ \"\$(grep -ac health_profile '$T/b.bundle')\" = 0 ]"
check "an --unsealed bundle for the same summary says it is not sealed" \
	bash -c "'$H' --home '$T/na-pai' bundle create --for '$T/b.sum' --unsealed '$T/plain.bundle' 2>'$T/plain.err' | grep -q '^NOT sealed'"
check "and warns of the 3 records of health data it carries, saying to leave out --unsealed" \
	grep -q 'WARNING: this bundle is not sealed and carries the health data of 3 records: whoever finds the file reads them. Leave out --unsealed, and --for seals it' "$T/plain.err"
# Its frames are compressed, so the marker need not be in its bytes as
# such; another node than the one it is for reads the record from it.
check "the auditor, not the node it is for, imports the unsealed bundle" \
	bash -c "'$H' --home '$T/auditor' bundle import '$T/plain.bundle' | grep -q '^  applied:    3'"
check "and reads the marker from it" bash -c "'$H' --home '$T/auditor' get health_profile HP-1 | grep -q -- '^full_name: $MARK 1'"
refuse "a bundle for nobody is refused, saying why" 2 "say whom the bundle is for" \
	N na-pai bundle create "$T/nobody.bundle"
check "and nothing is written" test ! -e "$T/nobody.bundle"
refuse "--seal-to wants a key" 2 "64 hex digits" N na-pai bundle create --seal-to abc "$T/x.bundle"
refuse "--seal-to and --unsealed contradict" 2 "contradict" N na-pai bundle create --seal-to "$(key auditor)" --unsealed "$T/x.bundle"

# --- the commune ---------------------------------------------------------
N quang-thuan bundle inspect "$T/b.bundle" >"$T/inspect.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "^  sealed:     yes, for node $(key quang-thuan)" "$T/inspect.out"; then
	ok "the commune inspects it: sealed for itself"
else fail "the commune inspects it: sealed for itself (exit $rc)"; sed 's/^/    /' "$T/inspect.out"; fi
cp -a "$T/quang-thuan" "$T/b-before"
check "the commune imports it" N quang-thuan bundle import "$T/b.bundle"
check "the commune holds the records" bash -c "'$H' --home '$T/quang-thuan' get health_profile HP-3 | grep -q -- '$MARK 3'"
check "an unsealed bundle says so on import" bash -c "'$H' --home '$T/quang-thuan' bundle import '$T/plain.bundle' | grep -q '^  sealed:     NO'"

# --- another node ------------------------------------------------------
# khuoi-tat learns the commune's certificate from a bundle of certificates
# alone (the commune's own joined its trust set when it first wrote)
check "the commune's certificates reach khuoi-tat" bash -c "'$H' --home '$T/quang-thuan' bundle create --unsealed --scope bk/none '$T/trust.bundle' >/dev/null && '$H' --home '$T/khuoi-tat' bundle import '$T/trust.bundle' >/dev/null"
refuse "khuoi-tat is told the bundle is sealed for another node" 4 "sealed for another node, $(key quang-thuan) (\"quang-thuan\")" \
	N khuoi-tat bundle import "$T/b.bundle"
check "and that it cannot read it" grep -q "this node ($(key khuoi-tat)) cannot read it: nothing imported" "$T/refused"
refuse "inspect on khuoi-tat refuses it the same way, naming the node it is for" 4 "sealed for another node, $(key quang-thuan) (\"quang-thuan\")" \
	N khuoi-tat bundle inspect "$T/b.bundle"
check "and does not speak of an import" bash -c "! grep -q 'nothing imported' '$T/refused'"
mkdir -p "$T/a-directory"
refuse "a directory is bad input (exit 4), not a system error" 4 "is a directory, not a bundle" \
	N khuoi-tat bundle import "$T/a-directory"
mkfifo "$T/a-pipe.bundle"
refuse "a pipe is refused at once (exit 4), not waited on for a writer" 4 "is not a file but a device, a pipe or a socket" \
	timeout 20 "$H" --home "$T/khuoi-tat" bundle import "$T/a-pipe.bundle"
refuse "and a device is not called an empty file" 4 "/dev/zero is not a file but a device" \
	N khuoi-tat verify --bundle /dev/zero
check "na-pai's status counts its one feed in the singular" bash -c "'$H' --home '$T/na-pai' status | grep -q '^store: 3 entries in 1 feed (3 written here)'"
check "khuoi-tat imported nothing" bash -c "! '$H' --home '$T/khuoi-tat' get health_profile HP-1 >/dev/null 2>&1"

# --- sealed to a key: only what that node may read ------------------------
# a bundle sealed to a key given by hand is logged as a read of the health
# records the file carries: none of those left out for the recipient
K=$(reads quang-thuan)
check "sealed to a node of which no certificate is known here, nothing is left out, and it says so" \
	bash -c "'$H' --home '$T/quang-thuan' bundle create --seal-to '$(key khuoi-tat)' '$T/kt0.bundle' 2>&1 | grep -q 'no certificate of the node sealed to is known here, so nothing was left out'"
check "and it is logged as a read of the 3 profiles it carries" logged quang-thuan "$K" "health_profile:3"
check "khuoi-tat's certificate reaches the commune" bash -c "'$H' --home '$T/khuoi-tat' bundle create --unsealed --scope bk/none '$T/kt-trust.bundle' >/dev/null && '$H' --home '$T/quang-thuan' bundle import '$T/kt-trust.bundle' >/dev/null"
K=$(reads quang-thuan)
check "sealed to khuoi-tat now, the commune leaves out na-pai's records, saying so" \
	bash -c "'$H' --home '$T/quang-thuan' bundle create --seal-to '$(key khuoi-tat)' '$T/kt.bundle' | grep -qE '^left out [0-9]+ feeds? that khuoi-tat may not read'"
check "and logs no read of them: the file carries none" logged quang-thuan "$K" ""
refuse "sealed to khuoi-tat with a scope it may read none of: nothing is sent, said so, and exit 1" 1 \
	"nothing to send: khuoi-tat reads bk/qt/khuoi-tat, and \(the 1 feed this node holds under scope bk/qt/na-pai is not there\|none of the [0-9]* feeds this node holds under scope bk/qt/na-pai is there\) (give --scope with what it reads), so the bundle carries the network's certificates only" \
	N quang-thuan bundle create --seal-to "$(key khuoi-tat)" --scope bk/qt/na-pai "$T/kt-none.bundle"
# khuoi-tat, with no records and every certificate already, sends its
# summary: nothing of the commune's is for it, which is no fault (exit 0)
check "khuoi-tat's summary" N khuoi-tat summary --out "$T/kt.sum"
"$H" --home "$T/quang-thuan" bundle create --for "$T/kt.sum" "$T/kt-for.bundle" >"$T/kt-for.out" 2>&1
check "the commune's bundle for it: exit 0" [ $? = 0 ]
check "it says what khuoi-tat reads, that nothing is held there, and that the stick can stay home" \
	grep -q "^no entries to send: khuoi-tat reads bk/qt/khuoi-tat, and this node holds none there (its [0-9]* feeds\? \(is of another scope\|are of other scopes\))\. The recipient holds every certificate and revocation already: the stick can stay home" "$T/kt-for.out"
check "and does not send the operator to widen a certificate" bash -c "! grep -q 'widen' '$T/kt-for.out'"
check "and it does not say khuoi-tat holds everything already" bash -c "! grep -q 'holds everything' '$T/refused'"
check "nor logs a read" logged quang-thuan "$K" ""
refuse "four years on, khuoi-tat's certificate has expired: nothing is sealed to it" 4 "holds no certificate valid now (expired, or its issuer revoked)" \
	env HAMLET_CLOCK_OFFSET_MS=$((4 * 365 * 86400000)) "$H" --home "$T/quang-thuan" bundle create --seal-to "$(key khuoi-tat)" "$T/kt-late.bundle"
check "and no file is left" test ! -e "$T/kt-late.bundle"
check "nor a read logged" logged quang-thuan "$K" ""
check "the bundle holds none of na-pai's entries" bash -c "'$H' --home '$T/khuoi-tat' --json bundle inspect '$T/kt.bundle' | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"entries\"] == 0, j'"
check "and khuoi-tat imports it" N khuoi-tat bundle import "$T/kt.bundle"
cp "$T/out" "$T/kt.out"
check "with nothing refused" bash -c "! grep -qE 'rejected: *[1-9]' '$T/kt.out'"

# the commune holds na-pai's profiles and event and khuoi-tat's profile:
# sealed to khuoi-tat, only khuoi-tat's profile goes in, and only it is
# logged; a bundle for a node that holds all it may read carries nothing,
# logs nothing, and warns of no health data
check "na-pai records an event" N na-pai put health_event EV-1 '{"person_id":"001122334401","kind":"immunization","date":"2026-03-01"}'
check "khuoi-tat records a profile" N khuoi-tat put health_profile KT-1 '{"person_id":"001122334409","full_name":"Hoang Van Kt","birth_date":"1990-02-02"}'
check "na-pai's event reaches the commune" to_commune na-pai
check "khuoi-tat's profile reaches the commune" to_commune khuoi-tat
K=$(reads quang-thuan)
check "sealed to khuoi-tat, the commune's bundle carries khuoi-tat's 1 entry" bash -c "'$H' --home '$T/quang-thuan' bundle create --seal-to '$(key khuoi-tat)' '$T/kt2.bundle' >/dev/null 2>&1 && '$H' --home '$T/khuoi-tat' --json bundle inspect '$T/kt2.bundle' | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"entries\"] == 1, j'"
check "and logs the read of that 1 profile, not of na-pai's 3 profiles and event left out" logged quang-thuan "$K" "health_profile:1"
K=$(reads quang-thuan)
refuse "sealed to khuoi-tat, of na-pai's scope: nothing to send (exit 1)" 1 "nothing to send: khuoi-tat reads bk/qt/khuoi-tat, and " \
	N quang-thuan bundle create --seal-to "$(key khuoi-tat)" --scope bk/qt/na-pai "$T/kt3.bundle"
check "and no read is logged" logged quang-thuan "$K" ""
check "khuoi-tat imports the bundle" N khuoi-tat bundle import "$T/kt2.bundle"
check "and writes its summary" N khuoi-tat summary --out "$T/kt.sum"
K=$(reads quang-thuan)
check "an unsealed bundle for khuoi-tat's summary carries nothing: it holds all it may read" bash -c "'$H' --home '$T/quang-thuan' bundle create --for '$T/kt.sum' --unsealed '$T/kt4.bundle' >'$T/kt4.out' 2>'$T/kt4.err' && grep -q '^nothing to send: the recipient holds everything already' '$T/kt4.out'"
check "and does not warn that it carries health data" bash -c "! grep -q 'carries the health data' '$T/kt4.err'"
check "nor logs a read" logged quang-thuan "$K" ""

# --- damage --------------------------------------------------------------
mapfile -t offs < <(frames "$T/b.bundle")
last=${offs[${#offs[@]} - 1]}
prev=${offs[${#offs[@]} - 2]}
cp "$T/b.bundle" "$T/flipped.bundle"
flip "$T/flipped.bundle" $((prev + 40))
cp -a "$T/b-before" "$T/b2"
# (refuse: exits 1, naming the damage). The frame before the trailer is
# the run of the feed's entries: they are lost together, and nothing of
# them is applied.
refuse "a flipped byte is reported by the frame it hit" 1 "sealed frame at byte $prev does not open" \
	N b2 bundle import "$T/flipped.bundle"
check "the damaged run's entries do not import" bash -c "! '$H' --home '$T/b2' get health_profile HP-1 >/dev/null 2>&1 && ! '$H' --home '$T/b2' get health_profile HP-3 >/dev/null 2>&1"
check "the intact bundle completes it" bash -c "'$H' --home '$T/b2' bundle import '$T/b.bundle' >/dev/null && '$H' --home '$T/b2' get health_profile HP-3 >/dev/null"
head -c "$last" "$T/b.bundle" >"$T/cut.bundle"
cp -a "$T/b-before" "$T/b3"
refuse "a cut file is reported cut short" 1 "cut short" N b3 bundle import "$T/cut.bundle"
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\?8'; then
	cp -a "$T/b-before" "$T/b4"
	refuse "in Vietnamese, a cut file is said to be cut short, with what to do" 1 \
		"bị cắt cụt sau .* khung; hãy chép lại" env LANG=vi_VN.UTF-8 LC_ALL= "$H" --home "$T/b4" bundle import "$T/cut.bundle"
fi
check "what came before the cut imports" N b3 get health_profile HP-3
# a stick pulled out just after the write began: the sealed header itself
# is cut short; said so, with what to do, as for a file cut in its first
# 8 bytes. A header whole but damaged says what to do too.
head -c 100 "$T/b.bundle" >"$T/cut-head.bundle"
refuse "a file cut inside its sealed header is called cut short, with its length" 4 \
	"cut-head.bundle is cut short: only its first 100 bytes are there (copy it again from the node that made it)" \
	N b3 bundle import "$T/cut-head.bundle"
refuse "verify --bundle says the same, and calls it damaged (exit 6)" 6 \
	"is cut short: only its first 100 bytes are there" N b3 verify --bundle "$T/cut-head.bundle"
cp "$T/b.bundle" "$T/head-flipped.bundle"
flip "$T/head-flipped.bundle" 60
refuse "a damaged sealed header says to copy the file again" 4 \
	"whose header is damaged or cut short: it cannot be opened, and nothing in it can be read (copy it again from the node that made it)" \
	N b3 bundle import "$T/head-flipped.bundle"

# --- the auditor ---------------------------------------------------------
check "na-pai seals a bundle to the auditor's key" \
	bash -c "'$H' --home '$T/na-pai' bundle create --seal-to '$(key auditor)' '$T/d.bundle' | grep -q '^sealed for node $(key auditor)'"
check "the auditor inspects it" bash -c "'$H' --home '$T/auditor' bundle inspect '$T/d.bundle' | grep -q '^  sealed:     yes, for node $(key auditor)'"
refuse "the commune cannot read the auditor's bundle" 4 "sealed for another node" N quang-thuan bundle inspect "$T/d.bundle"

# --- a damaged frame in the middle: what follows it is held, and the
# file, not an earlier stick, is named as where the missing entries were
{ echo "id,person_id,full_name,birth_date"
  for i in $(seq 1 400); do printf 'MID-%03d,%012d,Mid %d,1990-01-01\n' "$i" $((880000000000 + i)) "$i"; done; } >"$T/mid.csv"
check "na-pai writes 400 records more" N na-pai import health_profile --format csv "$T/mid.csv"
cp -a "$T/quang-thuan" "$T/qt-mid"
check "a bundle of them for the commune" bash -c "'$H' --home '$T/qt-mid' summary --out '$T/qtm.sum' >/dev/null && '$H' --home '$T/na-pai' bundle create --for '$T/qtm.sum' '$T/mid.bundle' >/dev/null"
mapfile -t mo < <(frames "$T/mid.bundle")
check "it has frames enough to damage one in the middle (${#mo[@]})" test "${#mo[@]}" -ge 5
cp "$T/mid.bundle" "$T/mid-flipped.bundle"
flip "$T/mid-flipped.bundle" $((${mo[2]} + 40))
refuse "a frame damaged in the middle: the entries after it are held, and the file is named as where the rest was" 1 \
	"entries are held, waiting for the entries before them; this file is damaged (see the problems above), and those entries were most likely in its damaged part: copy the file again from its sender" \
	N qt-mid bundle import "$T/mid-flipped.bundle"
check "the sound copy completes it" bash -c "'$H' --home '$T/qt-mid' bundle import '$T/mid.bundle' >/dev/null && '$H' --home '$T/qt-mid' get health_profile MID-400 >/dev/null"
tests_done
