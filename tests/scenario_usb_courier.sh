#!/usr/bin/env bash
# The motorbike courier's sticks, as they come in real life: a bundle
# whose write was stopped leaves only FILE.part; a big sealed bundle with
# a damaged frame early on, whose later entries come too far ahead of what
# the commune holds; the same in Vietnamese (each entry's reason in it
# too, whatever the length of the village's scope), and imported through
# a hamletd that logs in Vietnamese.
#   tests/scenario_usb_courier.sh PATH/TO/hamlet PATH/TO/hamletd
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch courier
have_vi=0
locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\?8' && have_vi=1
vi() { LC_ALL=vi_VN.UTF-8 LANGUAGE= "$H" "$@"; }
# u32 NUMBER at byte OFFSET of FILE, big-endian
u32() { od -An -tu1 -j "$2" -N4 "$1" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }'; }
# frame_at FILE BYTE: the offset of the sealed frame that holds BYTE
frame_at() {
	local f=$1 off=169 next
	while :; do
		next=$((off + 12 + $(u32 "$f" $((off + 8)))))
		[ "$next" -gt "$2" ] && { echo "$off"; return; }
		off=$next
	done
}
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 0x40)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# a village and its commune, with the scope names of a real province
network_bk na-pai:bk/bach-thong/quang-thuan/na-pai quang-thuan:bk/bach-thong/quang-thuan
check "na-pai certified" certify "$T/bk.root.key" na-pai
check "quang-thuan certified" certify "$T/bk.root.key" quang-thuan
python3 - "$T/hp.ndjson" <<'PY'
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(6000):
        f.write('{"id":"NAPAI-HP-%05d","person_id":"%012d","full_name":"Lo Van %d","birth_date":"1990-04-12"}\n' % (i, 100000000000 + i, i))
PY
check "na-pai enters 6,000 health profiles" N na-pai import health_profile --format ndjson "$T/hp.ndjson"
check "the commune's summary" N quang-thuan summary --out "$T/qt.sum"
check "na-pai's bundle for it" N na-pai bundle create --for "$T/qt.sum" "$T/np.bundle"
cp -a "$T/quang-thuan" "$T/qt-empty"

# --- a stick pulled out while the bundle was written: only FILE.part ---
head -c 5000 "$T/np.bundle" >"$T/cut.bundle.part"
refuse "import of FILE when only FILE.part is there: says so, not \"no such file\" (exit 3)" 3 \
	"cut.bundle is not there, only $T/cut.bundle.part: an unfinished file" \
	N quang-thuan bundle import "$T/cut.bundle"
check "and says what to do" grep -q "Delete $T/cut.bundle.part, and make the bundle or the summary again" "$T/refused"
refuse "inspect says the same" 3 "only $T/cut.bundle.part: an unfinished file" N quang-thuan bundle inspect "$T/cut.bundle"
refuse "verify --bundle says the same" 3 "only $T/cut.bundle.part: an unfinished file" N quang-thuan verify --bundle "$T/cut.bundle"
cp "$T/qt.sum" "$T/half.sum.part"
refuse "a summary that is only SUMMARY.part: bundle create --for says so" 3 \
	"half.sum is not there, only $T/half.sum.part" N na-pai bundle create --for "$T/half.sum" "$T/x.bundle"
check "and writes nothing" bash -c "[ ! -e '$T/x.bundle' ] && [ ! -e '$T/x.bundle.part' ]"
refuse "a file that is not there at all is still just not found" 3 "No such file" \
	N quang-thuan bundle import "$T/never.bundle"

# --- a byte flipped early in a big bundle: what follows comes too far ahead
size=$(stat -c %s "$T/np.bundle")
fr=$(frame_at "$T/np.bundle" $((size / 10)))
cp "$T/np.bundle" "$T/flipped.bundle"
flip "$T/flipped.bundle" $((fr + 40))
refuse "the damaged bundle imports what verifies (exit 1)" 1 "sealed frame at byte $fr does not open" \
	N quang-thuan bundle import "$T/flipped.bundle"
check "entries after the damage came too far ahead" grep -q '^  ahead:      [1-9]' "$T/refused"
check "the ahead line says a sound copy of this damaged file brings what they wait for" \
	grep -q '^  ahead:      [0-9]* (sound, but too far ahead .*: not stored; the entries before them may be in the damaged part of this file: import a sound copy of it)' "$T/refused"
check "and the last line says to copy the file again, not only to import an earlier bundle" \
	grep -q '^[0-9]* sound entries came too far ahead .*; this file is damaged (see the problems above), and the entries before them may be in its damaged part: copy the file again from its sender and import the sound copy' "$T/refused"
N quang-thuan --json bundle import "$T/flipped.bundle" >"$T/ahead.json" 2>/dev/null
check "--json: each ahead entry's sentence is whole, its seq not cut" python3 -c "
import json, re, sys
d = json.load(open('$T/ahead.json'))
a = [p['text'] for p in d['problems'] if p['kind'] == 'ahead']
assert a, 'no ahead problems'
for t in a:
    m = re.search(r'seq (\d+)\): too far ahead: .*; this is seq (\d+)$', t)
    assert m and m.group(1) == m.group(2), t
"
# the auditor's report on the damaged file (sealed to the commune: its
# home opens it) counts every one of na-pai's 6,000 entries: stored,
# waiting past the damage, or missing in the damaged frame
ROOT=$(sed -n 's/^root_public_key = //p' "$T/bk.network")
"$H" --home "$T/qt-empty" verify --bundle "$T/flipped.bundle" --root "$ROOT" --report >"$T/audit" 2>&1
check "the auditor's report counts all 6,000 of na-pai's entries, however far past the damage" python3 -c "
import re
t = open('$T/audit').read()
m = re.search(r'scope bk/bach-thong/quang-thuan/na-pai: (\d+) entr[a-z]* .*; (\d+) waiting for earlier entries not received, (\d+) seqs? missing', t)
assert m, t[-2000:]
assert sum(int(g) for g in m.groups()) == 6000, m.groups()
"
check "the sound copy brings them all" bash -c "'$H' --home '$T/quang-thuan' bundle import '$T/np.bundle' >/dev/null && '$H' --home '$T/quang-thuan' get health_profile NAPAI-HP-05999 >/dev/null"

if [ "$have_vi" = 1 ]; then
	cp -a "$T/qt-empty" "$T/qt-vi"
	vi --home "$T/qt-vi" bundle import "$T/flipped.bundle" >"$T/vi" 2>&1
	check "in Vietnamese, each ahead entry's reason is Vietnamese" \
		grep -q '^  đi trước: mục nhập tại byte [0-9]*, health_profile/NAPAI-HP-[0-9]* (chuỗi bk/bach-thong/quang-thuan/na-pai seq [0-9]*): đi trước quá xa: nút này có chuỗi bk/bach-thong/quang-thuan/na-pai đến seq' "$T/vi"
	check "with no English sentence left in it" bash -c "! grep -qE 'too far ahead|this node holds|keeps waiting' '$T/vi'"
	check "and the last line says to copy the damaged file again" grep -q 'hãy chép lại tệp từ nơi gửi rồi nhập bản còn nguyên vẹn' "$T/vi"
	# through a hamletd that logs in Vietnamese
	cp -a "$T/qt-empty" "$T/qt-d"
	P=$(port)
	LC_ALL=vi_VN.UTF-8 LANGUAGE= "$D" --home "$T/qt-d" --listen 127.0.0.1:$P 2>>"$T/qt-d.log" &
	pids+=("$!")
	check "the commune's hamletd, in Vietnamese, is ready (30 s)" within 30 grep -q 'sẵn sàng' "$T/qt-d.log"
	vi --home "$T/qt-d" bundle import "$T/flipped.bundle" >"$T/vi-d" 2>&1
	check "imported through hamletd" grep -q 'đã lưu qua hamletd' "$T/vi-d"
	check "hamletd logs the entries it turned away with their reason in Vietnamese (10 s)" \
		within 10 grep -q 'nhập: mục nhập bị từ chối: đi trước quá xa: nút này có chuỗi' "$T/qt-d.log"
	check "and no English reason" bash -c "! grep -q 'too far ahead' '$T/qt-d.log'"
	daemons_stop
else
	echo "skipped: the Vietnamese checks (no vi_VN.UTF-8 locale)"
fi

# a stick with its write-protect switch on (a read-only mount, in a mount
# namespace of our own where one may): bundle create says so, and what to do
if unshare -rm true 2>/dev/null; then
	mkdir -p "$T/stick"
	ro() { unshare -rm sh -c "mount --bind '$T/stick' '$T/stick' && mount -o remount,bind,ro '$T/stick' && exec \"\$@\"" sh "$@"; }
	refuse "bundle create onto a read-only stick names it read-only, and what to do" 5 "the USB stick or disk that holds it is read-only (its write-protect switch on" \
		ro "$H" --home "$T/na-pai" bundle create --unsealed "$T/stick/to-commune.bundle"
	check "and leaves nothing there" bash -c "[ -z \"\$(ls -A '$T/stick')\" ]"
else
	echo "skipped: a read-only stick (needs unshare -rm)"
fi
tests_done
