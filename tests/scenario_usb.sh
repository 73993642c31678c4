#!/usr/bin/env bash
# Two nodes with no network between them sync by bundle files (USB stick):
# the core issue's acceptance scenario, end to end through the CLI.
#   tests/scenario_usb.sh PATH/TO/hamlet [PATH/TO/hamletd]
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet [PATH/TO/hamletd]}
D=${2:-}
T=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-scenario-XXXXXX")
trap 'daemons_stop; rm -rf "$T"' EXIT
. "$(dirname "$0")/testlib.sh"
A() { "$H" --home "$T/a" "$@"; }
B() { "$H" --home "$T/b" "$@"; }
exchange() { # from to
	"$H" --home "$T/$2" summary --out "$T/$2.sum" >/dev/null &&
	"$H" --home "$T/$1" bundle create --for "$T/$2.sum" "$T/$1-$2.bundle" >/dev/null &&
	"$H" --home "$T/$2" bundle import "$T/$1-$2.bundle" >/dev/null
}
digests_equal() { [ "$(A digest)" = "$(B digest)" ] && [ -n "$(A digest)" ]; }

check "network created" "$H" network create demo --out "$T"
check "village node A" "$H" --home "$T/a" init --network "$T/demo.network" --name na-pai --scope bk/bach-thong/quang-thuan/na-pai
check "commune node B" "$H" --home "$T/b" init --network "$T/demo.network" --name quang-thuan --scope bk/bach-thong/quang-thuan
# A reads the commune's records too (the digests must agree); B reads its
# commune, A's village under it
check "A certified to read its commune" certify "$T/demo.root.key" a bk/bach-thong/quang-thuan
check "B certified" certify "$T/demo.root.key" b

{
	echo "id,person_id,full_name,birth_date,sex,village,phone"
	for i in $(seq 1 1000); do
		printf 'HP-%04d,%012d,Nguyen Van %d,19%02d-0%d-1%d,male,na-pai,09%08d\n' \
			"$i" "$i" "$i" $((i % 90 + 10)) $((i % 9 + 1)) $((i % 9)) "$i"
	done
} >"$T/profiles.csv"
{
	echo "id,program,beneficiary_id,period,amount_vnd,status"
	for i in $(seq 1 500); do
		printf 'PAY-%04d,social_allowance,BEN-%04d,2026-10,%d,created\n' "$i" "$i" $((360000 + i))
	done
} >"$T/payments.csv"
check "A imports 1,000 health profiles" A import health_profile --format csv "$T/profiles.csv"
check "B imports 500 payments" B import payment --format csv "$T/payments.csv"
check "bundle A to B" exchange a b
check "bundle B to A" exchange b a
check "digests equal after exchange" digests_equal
check "B holds A's profiles" B get health_profile HP-0500

# a file whose runs come in reverse order: every entry verifies, the later
# runs wait for the earlier ones and are let in by them in the same import;
# none is told as held, and the end line says nothing was left out
check "A bundles its village, unsealed" A bundle create --unsealed --scope bk/bach-thong/quang-thuan/na-pai "$T/a-all.bundle"
python3 - "$T/a-all.bundle" "$T/a-rev.bundle" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
frames, off = [], 8
while off < len(b):
    n = struct.unpack('>I', b[off + 4:off + 8])[0]
    frames.append(b[off:off + 8 + n]); off += 8 + n
runs = [f for f in frames if f[2:3] == b'C']
assert len(runs) >= 2, len(runs)
it = iter(reversed(runs))
out = b[:8] + b''.join(next(it) if f[2:3] == b'C' else f for f in frames)
open(sys.argv[2], 'wb').write(out)
PY
check "commune node R, elsewhere" "$H" --home "$T/r" init --network "$T/demo.network" --name other --scope bk/bach-thong/quang-thuan
check "R certified" certify "$T/demo.root.key" r
"$H" --home "$T/r" bundle import "$T/a-rev.bundle" >"$T/rev.out" 2>&1
check "R imports the reversed file: exit 1, as the file as a whole does not check" [ $? = 1 ]
check "all 1,000 entries applied, none held" bash -c "grep -q '^  applied:    1000' '$T/rev.out' && grep -qx '  held:       0' '$T/rev.out' && ! grep -q '^  held: entry' '$T/rev.out'"
check "the end line says every entry was imported" grep -q '^every entry the file carries verified and was imported' "$T/rev.out"
check "R holds A's last profile" "$H" --home "$T/r" get health_profile HP-1000

# the same file cut on the stick at a frame's end: before its first run,
# and just after it. Each says it is cut short and to be copied again;
# the first that nothing was imported, not that every entry verified
python3 - "$T/a-all.bundle" "$T/a-cut0.bundle" "$T/a-cut1.bundle" "$T/a-cutmid.bundle" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
ends, kinds, off = [], [], 8
while off < len(b):
    n = struct.unpack('>I', b[off + 4:off + 8])[0]
    kinds.append(b[off + 2:off + 3]); off += 8 + n; ends.append(off)
first = kinds.index(b'C')
open(sys.argv[2], 'wb').write(b[:ends[first - 1]])
open(sys.argv[3], 'wb').write(b[:ends[first]])
open(sys.argv[4], 'wb').write(b[:(ends[first - 1] + ends[first]) // 2])
PY
check "node Q, elsewhere" "$H" --home "$T/q" init --network "$T/demo.network" --name q --scope bk/bach-thong/quang-thuan
check "Q certified" certify "$T/demo.root.key" q
refuse "a file cut before its first run: exit 1, nothing imported, copy it again" 1 \
	'^the file is cut short before any entry it was to carry: nothing imported; copy it again from its sender$' \
	"$H" --home "$T/q" bundle import "$T/a-cut0.bundle"
check "and it does not say every entry verified" bash -c "! grep -q 'every entry the file carries' '$T/refused'"
refuse "a file cut inside its first run: exit 1, no entry read, nothing imported" 1 \
	'^no entry of the file could be read: nothing of it was imported (see the problems above); copy it again from its sender$' \
	"$H" --home "$T/q" bundle import "$T/a-cutmid.bundle"
check "and it does not say that what verified was imported" bash -c "! grep -q 'what verified was imported' '$T/refused'"
check "node Q2, elsewhere, new" "$H" --home "$T/q2" init --network "$T/demo.network" --name q2 --scope bk/bach-thong/quang-thuan
check "Q2 certified" certify "$T/demo.root.key" q2
refuse "the file cut inside its first run, to a node that lacks its certificates: no entry imported, but the new certificates were, and it says so" 1 \
	'^no entry of the file could be read, and none was imported; the [0-9]* new certificates* .*before them w[ae]re (see the problems above): copy the file again from its sender$' \
	"$H" --home "$T/q2" bundle import "$T/a-cutmid.bundle"
check "not that nothing of it was imported" bash -c "! grep -q 'nothing of it was imported' '$T/refused'"
refuse "a file cut after its first run: exit 1, what came before the cut is imported" 1 \
	'^the file is cut short: the entries that came before the cut verified and were imported; copy it again from its sender for the rest$' \
	"$H" --home "$T/q" bundle import "$T/a-cut1.bundle"
check "Q holds A's first profile" "$H" --home "$T/q" get health_profile HP-0001

check "A edits HP-0007's phone" A put health_profile HP-0007 '{"phone":"0912000001"}'
check "B edits HP-0007's phone" B put health_profile HP-0007 '{"phone":"0987000002"}'
check "exchange both ways" bash -c "$(declare -f exchange A B); H='$H' T='$T'; exchange a b && exchange b a"
check "A lists the conflict" bash -c "'$H' --home '$T/a' conflicts | grep -q HP-0007"
check "B lists the conflict" bash -c "'$H' --home '$T/b' conflicts | grep -q HP-0007"
check "B resolves it" B conflicts resolve health_profile HP-0007 '{"phone":"0987000002"}'
check "one more exchange" bash -c "$(declare -f exchange); H='$H' T='$T'; exchange b a && exchange a b"
check "conflict gone on A" bash -c "! '$H' --home '$T/a' conflicts | grep -q HP-0007"
check "conflict gone on B" bash -c "! '$H' --home '$T/b' conflicts | grep -q HP-0007"
check "digests equal after resolution" digests_equal

# payments: duplicate, state conflict, state merge
check "A pays BEN-9001 for 2026-11" A put payment PAY-A1 '{"program":"forest_service","beneficiary_id":"BEN-9001","period":"2026-11","amount_vnd":500000,"status":"created"}'
check "B pays BEN-9001 for 2026-11 under another id" B put payment PAY-B1 '{"program":"forest_service","beneficiary_id":"BEN-9001","period":"2026-11","amount_vnd":500000,"status":"created"}'
check "A approves PAY-0001, B approves it too" bash -c "'$H' --home '$T/a' put payment PAY-0001 '{\"status\":\"approved\"}' && '$H' --home '$T/b' put payment PAY-0001 '{\"status\":\"approved\"}'"
check "exchange" bash -c "$(declare -f exchange); H='$H' T='$T'; exchange a b && exchange b a"
check "duplicate shows on A" bash -c "'$H' --home '$T/a' get payment PAY-A1 | grep -qi duplicate"
check "duplicate shows on B" bash -c "'$H' --home '$T/b' get payment PAY-B1 | grep -qi duplicate"
check "A confirms PAY-0002 path, B fails it" bash -c "for s in approved disbursed; do '$H' --home '$T/a' put payment PAY-0002 \"{\\\"status\\\":\\\"\$s\\\"}\" || exit 1; done; '$H' --home '$T/a' put payment PAY-0002 '{\"status\":\"confirmed\"}'"
check "B marks PAY-0002 failed concurrently" B put payment PAY-0002 '{"status":"failed"}'
check "A disburses PAY-0001 while B leaves it approved" A put payment PAY-0001 '{"status":"disbursed"}'
check "exchange" bash -c "$(declare -f exchange); H='$H' T='$T'; exchange a b && exchange b a"
check "confirmed vs failed is a conflict on A" bash -c "'$H' --home '$T/a' conflicts | grep -q PAY-0002"
check "confirmed vs failed is a conflict on B" bash -c "'$H' --home '$T/b' conflicts | grep -q PAY-0002"
check "approved vs disbursed merged to disbursed on B" bash -c "'$H' --home '$T/b' get payment PAY-0001 --json | grep -q '\"status\": *\"disbursed\"'"
check "and is no conflict" bash -c "! '$H' --home '$T/b' conflicts | grep -q PAY-0001"
check "digests equal" digests_equal

# sticks out of order: a village's second trip reaches the commune first
check "village V" "$H" --home "$T/v" init --network "$T/demo.network" --name ban-v --scope bk/bach-thong/quang-thuan/ban-v
check "V certified" certify "$T/demo.root.key" v
check "commune C" "$H" --home "$T/c" init --network "$T/demo.network" --name xa-c --scope bk/bach-thong/quang-thuan
check "C certified" certify "$T/demo.root.key" c
csv() { # FROM TO: health profiles HP-V-FROM..TO-1
	echo "id,person_id,full_name,birth_date,sex"
	for i in $(seq "$1" $(($2 - 1))); do printf 'HP-V-%d,0022%08d,Lo Thi %d,1990-04-12,female\n' "$i" "$i" "$i"; done
}
trip() { # N FROM TO: V writes FROM..TO-1; the stick for what C held after trip N-1
	csv "$2" "$3" >"$T/v$1.csv" &&
	"$H" --home "$T/v" import health_profile --format csv "$T/v$1.csv" >/dev/null &&
	"$H" --home "$T/c.after" summary --out "$T/c$1.sum" >/dev/null &&
	"$H" --home "$T/v" bundle create --for "$T/c$1.sum" "$T/trip$1.bundle" >/dev/null &&
	"$H" --home "$T/c.after" bundle import "$T/trip$1.bundle" >/dev/null
}
cp -a "$T/c" "$T/c.after"
check "trip 1 carries 300 entries" trip 1 0 300
check "trip 2 carries 50 more" trip 2 300 350
cp -a "$T/c" "$T/c.empty"
check "verify --bundle of trip 2 says its feed begins past seq 1, and is ok" bash -c "'$H' --home '$T/c' verify --bundle '$T/trip2.bundle' >'$T/t2v' && grep -q '^  starts:     1 feed begins past its seq 1 (feed bk/bach-thong/quang-thuan/ban-v by [0-9a-f]*…: from seq 301): the entries before are not in this file' '$T/t2v' && grep -q '^verify: ok' '$T/t2v'"
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\?8'; then
	check "and in Vietnamese, the feed it starts with is said in Vietnamese too" bash -c \
		"LANG=vi_VN.UTF-8 LC_ALL= '$H' --home '$T/c' verify --bundle '$T/trip2.bundle' | grep -q 'chuỗi bk/bach-thong/quang-thuan/ban-v của [0-9a-f]*…: từ seq 301'"
fi
check "--json: feeds_starting_later 1" bash -c "'$H' --home '$T/c' --json verify --bundle '$T/trip2.bundle' | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"feeds_starting_later\"] == 1 else 1)'"
check "C imports trip 2 first: held" bash -c "'$H' --home '$T/c' bundle import '$T/trip2.bundle' | grep -q '^  held:       50 '"
check "then trip 1" bash -c "'$H' --home '$T/c' bundle import '$T/trip1.bundle' >'$T/imp1'"
check "applied counts the file's entries only, released those let in" bash -c "grep -q '^  entries:    300\$' '$T/imp1' && grep -q '^  applied:    300\$' '$T/imp1' && grep -q '^  released:   50 (held here before, stored now' '$T/imp1'"
check "C holds all 350" bash -c "'$H' --home '$T/c' status | grep -q 'store: 350 entries'"
# a first trip of more than 4,096 entries still on the road
rm -rf "$T/c" "$T/c.after"; cp -a "$T/c.empty" "$T/c"; cp -a "$T/c.empty" "$T/c.after"
check "trip 3 carries all 4,500 of V's entries (this C holds none)" trip 3 350 4500
check "trip 4 carries 4501..4510" trip 4 4500 4510
refuse "trip 4 imported first: exit 7, sound but too far ahead, not damaged" 7 '^10 sound entries came too far ahead of what this node holds of their feed and were not stored: import the earlier bundle first' "$H" --home "$T/c" bundle import "$T/trip4.bundle"
check "counted on their own line, none rejected" bash -c "grep -q '^  ahead:      10 (sound, but too far ahead' '$T/refused' && grep -q '^  rejected:   0\$' '$T/refused' && ! grep -q 'the rest was not' '$T/refused'"
check "each named in plain words" bash -c "grep -q '^  ahead: entry at byte [0-9]*, health_profile/HP-V-4500 (feed bk/bach-thong/quang-thuan/ban-v seq 4501): too far ahead: this node holds feed bk/bach-thong/quang-thuan/ban-v up to seq 0 and keeps waiting only entries less than 4096 past that; this is seq 4501' '$T/refused' && ! grep -q LOG_MAX '$T/refused'"
check "--json counts them, and is not ok" bash -c "'$H' --home '$T/c' --json bundle import '$T/trip4.bundle' | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d[\"imported\"][\"ahead\"] == 10 and d[\"imported\"][\"rejected\"] == 0 and not d[\"ok\"] else 1)'"
check "trip 3, then trip 4 again" bash -c "'$H' --home '$T/c' bundle import '$T/trip3.bundle' >/dev/null && '$H' --home '$T/c' bundle import '$T/trip4.bundle' | grep -q '^  applied:    10\$'"
check "C holds all 4,510" bash -c "'$H' --home '$T/c' status | grep -q 'store: 4510 entries'"
# a village certified since, with no records yet: its stick carries only
# its certificate, which C lacks, so it is worth carrying, not "nothing"
check "village W, certified, no records" bash -c "'$H' --home '$T/w' init --network '$T/demo.network' --name ban-w --scope bk/bach-thong/quang-thuan/ban-w >/dev/null"
check "W certified" certify "$T/demo.root.key" w
check "C does not know W" bash -c "! '$H' --home '$T/c' report lag | grep -q ban-w"
C() { "$H" --home "$T/c" "$@"; }
check "C's summary" C summary --out "$T/cw.sum"
"$H" --home "$T/w" bundle create --for "$T/cw.sum" "$T/w.bundle" >"$T/w.out" 2>&1
check "W's bundle for C: exit 0" [ $? = 0 ]
check "it says the file carries only certificates, 1 new to C, worth carrying" grep -q '^no entries to send: the recipient holds every one already. The file carries only certificates and revocations, 1 of them new to the recipient: carry it all the same' "$T/w.out"
check "and not that C holds everything" bash -c "! grep -q 'nothing to send' '$T/w.out'"
check "--json counts the new ones" bash -c "'$H' --home '$T/w' --json bundle create --for '$T/cw.sum' '$T/w.bundle' | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d[\"entries\"] == 0 and d[\"trust_items\"] >= 1 and d[\"trust_items_new\"] == 1 else 1)'"
check "C imports it" C bundle import "$T/w.bundle"
check "and now knows W by name" bash -c "'$H' --home '$T/c' report lag | grep -q ban-w"
# back the other way: C holds V's records, none of W's scope; W lacks
# the certificates C holds, so the stick is worth carrying (exit 0)
check "W's summary" "$H" --home "$T/w" summary --out "$T/wc.sum"
C bundle create --for "$T/wc.sum" "$T/to-w.bundle" >"$T/to-w.out" 2>&1
check "C's bundle for new W: exit 0" [ $? = 0 ]
check "it says what W reads and that C holds none of it, and to carry the file" grep -q '^no entries to send: w reads bk/bach-thong/quang-thuan/ban-w, and this node holds none there (its 1 feed is of another scope)\. The file carries only certificates and revocations, [1-9][0-9]* of them new to the recipient: carry it all the same' "$T/to-w.out"
check "W imports it and learns V's certificate" bash -c "'$H' --home '$T/w' bundle import '$T/to-w.bundle' >/dev/null"
check "C's summary again" C summary --out "$T/cw.sum"
check "now nothing to send: C holds everything" bash -c "'$H' --home '$T/w' bundle create --for '$T/cw.sum' '$T/w.bundle' | grep -q '^nothing to send: the recipient holds everything already\$'"
check "--json: none new" bash -c "'$H' --home '$T/w' --json bundle create --for '$T/cw.sum' '$T/w.bundle' | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"trust_items_new\"] == 0 else 1)'"
check "without a summary, no claim on what the recipient holds" bash -c "'$H' --home '$T/w' bundle create --unsealed '$T/wu.bundle' | grep -q '^this node holds no entries yet: the file carries only the network.s certificates and revocations ([1-9][0-9]*)\$'"

check "W's own summary" "$H" --home "$T/w" summary --out "$T/w-own.sum"
check "a bundle for the node's own summary (the wrong file off the stick): nothing to send" bash -c "'$H' --home '$T/w' bundle create --for '$T/w-own.sum' '$T/w-own.bundle' >'$T/w-own.out' 2>&1"
check "and a note says whose summary it may be, and which one to use" grep -q "^note: that summary was made with this node's own key: if it is this node's own summary, the one to use is the summary made at the node the bundle is for$" "$T/w-own.out"

# what the stick did to the files
head -c 200 "$T/c3.sum" >"$T/cut.sum"
refuse "a summary cut short on the stick is called so, and to be written again" 4 'summary .*cut.sum is cut short or damaged. Write it again at the node that made it ("hamlet summary --out FILE" there) and bring the new file' "$H" --home "$T/v" bundle create --for "$T/cut.sum" "$T/x.bundle"
# one bit flipped on the stick, in the seq C holds of V's own feed (4510,
# then 12702): refused as damaged, before anything of it is taken; V does
# not come to think C holds more of its feed than it does, and still writes
check "C's summary of V's 4,510" C summary --out "$T/cv.sum"
check "one bit of its seq of V's feed flipped" python3 - "$T/cv.sum" "$T/cv-flip.sum" <<'PY'
import re, sys
b = bytearray(open(sys.argv[1], 'rb').read())
m = [x for x in re.finditer(rb'\xc4\x20.{32}\xcd\x11\x9e', bytes(b), re.S)]
assert len(m) == 1, len(m)
b[m[0].end() - 2] ^= 0x20
open(sys.argv[2], 'wb').write(b)
PY
"$H" --home "$T/v" own-feeds >"$T/own.before" 2>&1
refuse "V's bundle for it: refused as damaged (exit 4), to be written again at C" 4 'summary .*cv-flip.sum is cut short or damaged. Write it again at the node that made it ("hamlet summary --out FILE" there) and bring the new file' "$H" --home "$T/v" bundle create --for "$T/cv-flip.sum" "$T/v-flip.bundle"
check "no own feed of V's called behind or forked" bash -c "! grep -q 'FORK\|own feed\|own-feeds' '$T/refused'"
"$H" --home "$T/v" own-feeds >"$T/own.after" 2>&1
check "V's own-feeds as it was" cmp "$T/own.before" "$T/own.after"
check "V still writes" "$H" --home "$T/v" put health_profile HP-V-1 '{"full_name":"Lo Thi Mot"}'
check "and the summary as written is taken" "$H" --home "$T/v" bundle create --for "$T/cv.sum" "$T/v-cv.bundle"
# a stick not mounted: the folder it would be is not there
refuse "summary --out into a folder that is not there names it, and the stick" 3 'the folder .*/no-stick does not exist (a USB stick not plugged in, or not mounted yet?' "$H" --home "$T/c" summary --out "$T/no-stick/c.sum"
refuse "bundle create too" 3 'the folder .*/no-stick does not exist' "$H" --home "$T/c" bundle create --unsealed "$T/no-stick/c.bundle"
check "and nothing was made there" test ! -e "$T/no-stick"
head -c 7 "$T/trip4.bundle" >"$T/cut.bundle"
refuse "a bundle cut inside its first 8 bytes is cut short, not another file" 4 'cut.bundle is cut short: only its first 7 bytes are there (copy it again from the node that made it)' "$H" --home "$T/c" bundle import "$T/cut.bundle"
refuse "verify --bundle calls it damaged, as a cut anywhere later (exit 6)" 6 'cut.bundle is cut short: only its first 7 bytes are there' "$H" --home "$T/c" verify --bundle "$T/cut.bundle"
check "its report says: damaged, no header to judge by" bash -c "'$H' --home '$T/c' --json verify --bundle '$T/cut.bundle' --report | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d[\"damaged\"] and d[\"not_judged\"][\"reason\"] == \"no_header\" else 1)'"
# a bundle create (or summary --out) stopped before it finished, by a
# power cut or a pulled stick, leaves NAME.part: called unfinished, to be
# deleted and made again, by whatever would read it
head -c 5000 "$T/trip4.bundle" >"$T/trip5.bundle.part"
refuse "bundle import of an unfinished NAME.part: exit 4, called so" 4 'trip5.bundle.part is an unfinished file, not a bundle or a summary: its name ends in .part' "$H" --home "$T/c" bundle import "$T/trip5.bundle.part"
check "and told to delete it and make the bundle again" grep -q 'Nothing was read. Delete it, and make the bundle or the summary again' "$T/refused"
check "nothing of it was imported" bash -c "'$H' --home '$T/c' status | grep -q 'store: 4510 entries'"
refuse "bundle inspect of it too" 4 'trip5.bundle.part is an unfinished file' "$H" --home "$T/c" bundle inspect "$T/trip5.bundle.part"
refuse "verify --bundle of it too" 4 'trip5.bundle.part is an unfinished file' "$H" --home "$T/c" verify --bundle "$T/trip5.bundle.part"
head -c 100 "$T/c3.sum" >"$T/c5.sum.part"
refuse "bundle create --for an unfinished summary's NAME.part too" 4 'c5.sum.part is an unfinished file' "$H" --home "$T/v" bundle create --for "$T/c5.sum.part" "$T/y.bundle"
refuse "bundle create does not write a bundle named NAME.part" 2 'z.bundle.part" ends in .part, the name of a file left unfinished' "$H" --home "$T/v" bundle create --unsealed "$T/z.bundle.part"
refuse "nor does summary --out" 2 'z.sum.part" ends in .part' "$H" --home "$T/c" summary --out "$T/z.sum.part"

# Ctrl-C (here SIGTERM: a job a script starts in the background ignores
# SIGINT) during a large bundle import: the batch under way is stored,
# the import stops there and says how many entries are in the store (and
# that importing again is safe), then exits by the signal
python3 - "$T/many.csv" <<'PY'
import sys
with open(sys.argv[1], 'w') as f:
    f.write('id,person_id,full_name,birth_date\n')
    for i in range(40000):
        f.write('HP-M%05d,%012d,Nguyen Van %d,1980-01-01\n' % (i, 800000000000 + i, i))
PY
check "A imports 40,000 more profiles" A import health_profile --format csv "$T/many.csv"
check "A bundles all it holds" bash -c "'$H' --home '$T/a' bundle create --unsealed '$T/many.bundle' >/dev/null 2>&1"
# interrupted NODE HOW: NODE (a certified commune) imports many.bundle,
# stopped by SIGTERM once some of it is stored; HOW names the way in
interrupted() {
	local n=$1 how=$2 rc said
	"$H" --home "$T/$n" bundle import "$T/many.bundle" >"$T/many-$n.out" 2>"$T/many-$n.err" &
	local pid=$!
	entries() { "$H" --home "$T/$n" status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])'; }
	some() { [ "$(entries)" -gt 0 ] 2>/dev/null; }
	within 120 some
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	sed 's/^/    # /' "$T/many-$n.err" | tail -3
	if grep -q "whole file is imported" "$T/many-$n.err" || { ! grep -q "interrupted" "$T/many-$n.err" && [ "$rc" = 0 ]; }; then
		echo "# the bundle import ended before the signal came: nothing to check"
		return
	fi
	check "$how: stopped, the bundle import exits by the signal" test "$rc" = 143
	check "$how: it says how many entries are stored, and that importing again is safe" \
		grep -qE "^hamlet: interrupted: ([0-9]+ entries of .*many.bundle were stored before it stopped \(nothing is half stored\). Importing the file again is safe|nothing of .*many.bundle was stored)" "$T/many-$n.err"
	said=$(sed -nE 's/^hamlet: interrupted: ([0-9]+) entries of .*/\1/p' "$T/many-$n.err")
	check "$how: the store holds the ${said:-0} entries it says (10 s)" within 10 test "$(entries)" = "${said:-0}"
	check "$how: importing the bundle again takes the rest" "$H" --home "$T/$n" bundle import "$T/many.bundle"
	check "$how: $n holds what A holds" bash -c "[ \"\$('$H' --home '$T/$n' digest)\" = \"\$('$H' --home '$T/a' digest)\" ]"
}
for n in e f; do
	check "commune node $n, for an interrupted bundle import" bash -c "'$H' --home '$T/$n' init --network '$T/demo.network' --name $n --scope bk/bach-thong/quang-thuan >/dev/null"
	check "$n certified" certify "$T/demo.root.key" $n
done
interrupted e "with no daemon"
# the same through a running hamletd: each batch goes in several
# requests, and is stored whole before the import stops
if [ -n "$D" ]; then
	start f && ok "f's hamletd runs" || fail "f's hamletd runs"
	interrupted f "through hamletd"
	stop f
fi

# audit: clean store passes; a planted fork fails
check "verify passes on a clean store" B verify
cp -a "$T/a" "$T/a-clone"
check "A writes seq n+1" A put health_profile HP-0001 '{"phone":"0900000011"}'
check "a copy of A's key writes another seq n+1" "$H" --home "$T/a-clone" put health_profile HP-0001 '{"phone":"0900000002"}'
check "B receives A's" bash -c "$(declare -f exchange); H='$H' T='$T'; exchange a b"
B summary --out "$T/b.sum" >/dev/null
# the copy's bundle is written all the same: it carries the evidence
refuse "the copy's bundle create names the fork and exits 1" 1 \
	"FORK: b and this node now hold different entries at seq [0-9]* of this node's own feed bk/bach-thong/quang-thuan/na-pai, a fork of that feed" \
	"$H" --home "$T/a-clone" bundle create --for "$T/b.sum" "$T/a-clone-b.bundle"
check "and tells to call the administrator" grep -q 'Call the administrator' "$T/refused"
check "B imports the copy's bundle" bash -c "'$H' --home '$T/b' bundle import '$T/a-clone-b.bundle'; true"
if B verify >"$T/out" 2>&1; then fail "verify must fail on a planted fork"; else
	if grep -qi fork "$T/out"; then ok "verify reports the fork and exits non-zero"; else fail "verify output names the fork"; cat "$T/out"; fi
fi

tests_done
