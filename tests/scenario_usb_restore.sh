#!/usr/bin/env bash
# Villages with no network, whose state is put back from a backup, and
# their commune, carried by USB stick (no hamletd anywhere):
# - a whole state directory put back (own-feeds as old as the store):
#   bundle create --for the commune's summary sees that the commune holds
#   more of the village's own feed than its store does, says so instead
#   of "the recipient holds everything", exits 1 and records the seq in
#   own-feeds, so that writes wait (exit 7) until the commune's bundle is
#   imported; then they go on, and no node keeps a fork;
# - one written to after being put back (the commune holds another entry
#   at that seq): bundle create names the fork and says to call the
#   administrator;
# - a store put back (own-feeds kept): the write refused and own-feeds
#   name the stick way, and that forget-lost would make a fork.
#   tests/scenario_usb_restore.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
. "$(dirname "$0")/testlib.sh"
tests_scratch usb-restore
ROOT=$T/bk.root.key
P='{"person_id":"001100000001","full_name":"Lo Thi Mai","birth_date":"1990-04-12","sex":"female"}'
# put NODE ID: a health profile on NODE
put() { N "$1" put health_profile "$2" "${P/000001/0000${2: -2}}"; }
# trip FROM TO: TO's summary, FROM's bundle for it, imported at TO
trip() {
	N "$2" summary --out "$T/$2.summary" >/dev/null &&
		N "$1" bundle create --for "$T/$2.summary" "$T/$1-$2.bundle" >/dev/null &&
		N "$2" bundle import "$T/$1-$2.bundle" >/dev/null
}
# no_forks NODE: NODE keeps no fork
no_forks() { N "$1" forks | grep -qx 'no forks'; }
# create FROM TO: TO's summary, then FROM's bundle for it (output in $T/refused)
create() {
	N "$2" summary --out "$T/$2.summary" >/dev/null &&
		N "$1" bundle create --for "$T/$2.summary" "$T/$1-$2.bundle"
}

check "network created" "$H" network create bk --out "$T"
check "commune C" N C init --network "$T/bk.network" --name c --scope bk/c1
check "village V" N V init --network "$T/bk.network" --name v --scope bk/c1/v
check "village W" N W init --network "$T/bk.network" --name w --scope bk/c1/w
check "village X" N X init --network "$T/bk.network" --name x --scope bk/c1/x
check "village Y" N Y init --network "$T/bk.network" --name y --scope bk/c1/y
check "the root certifies C" issue C commune bk/c1 --root-key "$ROOT"
for v in V W X Y; do
	check "the root certifies $v" issue $v village "bk/c1/${v,,}" --root-key "$ROOT"
done

# --- V: the whole state directory put back, nothing written since ---
check "V writes HP-01 (seq 1)" put V HP-01
check "V's state directory is backed up" cp -a "$T/V" "$T/V.backup"
check "V writes HP-02 and HP-03 (seqs 2, 3)" bash -c "$(declare -f put N); H='$H' T='$T' P='$P'; put V HP-02 && put V HP-03"
check "a stick carries them to C" trip V C
check "C holds HP-03" N C get health_profile HP-03
check "V's state directory is put back from the backup" bash -c "rm -rf '$T/V' && cp -a '$T/V.backup' '$T/V'"
refuse "bundle create for C's summary exits 1, saying V's store lacks entries of its own feed that C holds" 1 \
	"this node's store lacks entries of its own feed bk/c1/v that C holds (up to seq 3 there, up to seq 1 here): was it put back from a backup?" \
	create V C
check "and not that C holds everything" bash -c "! grep -q 'holds everything' '$T/refused'"
check "it says to import a bundle from C first and to write nothing meanwhile" \
	grep -q 'import a bundle from C first (hamlet summary here, carried there, hamlet bundle create --for it there, hamlet bundle import here), and write nothing here meanwhile' "$T/refused"
check "and that it recorded seq 3 in own-feeds" \
	grep -q "own-feeds now records seq 3 in feed bk/c1/v: writes there wait (exit 7)" "$T/refused"
check "own-feeds records seq 3" grep -qx 'bk/c1/v 3' "$T/V/own-feeds"
N V --json summary --out "$T/V.summary" >/dev/null
N C --json summary --out "$T/C.summary" >/dev/null
N V --json bundle create --for "$T/C.summary" "$T/V-C.bundle" >"$T/create.json" 2>/dev/null
check "bundle create --json lists the feed" python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j['own_feeds_behind'] == [{'scope': 'bk/c1/v', 'stored': 1, 'theirs': 3, 'forked': False}] and j['own_feeds_behind_total'] == 1 else 1)" "$T/create.json"
refuse "a write at V now waits (exit 7), naming the stick way" 7 \
	'With no network, get a bundle from the commune or another node that holds them (hamlet summary here, carried there, hamlet bundle create --for it there, hamlet bundle import here)' \
	put V HP-04
check "V's own-feeds marks the feed WAITING" bash -c "'$H' --home '$T/V' own-feeds | grep -q '^  bk/c1/v: signed up to seq 3, the store holds up to seq 1: WAITING'"
check "C's bundle comes back to V" trip C V
check "V holds HP-03 again" N V get health_profile HP-03
check "V writes HP-04 as seq 4" bash -c "$(declare -f put N); H='$H' T='$T' P='$P'; put V HP-04 | grep -q 'seq 4'"
check "the next trip carries it to C" trip V C
check "C holds HP-04" N C get health_profile HP-04
check "V keeps no fork" no_forks V
check "nor does C" no_forks C

# --- W: put back, and written to before the trip ---
check "W writes HP-11 (seq 1)" put W HP-11
check "W's state directory is backed up" cp -a "$T/W" "$T/W.backup"
check "W writes HP-12 (seq 2)" put W HP-12
check "a stick carries it to C" trip W C
check "W's state directory is put back from the backup" bash -c "rm -rf '$T/W' && cp -a '$T/W.backup' '$T/W'"
check "W writes HP-13, also seq 2" bash -c "$(declare -f put N); H='$H' T='$T' P='$P'; put W HP-13 | grep -q 'seq 2'"
refuse "bundle create names the fork (exit 1)" 1 \
	"FORK: C and this node now hold different entries at seq 2 of this node's own feed bk/c1/w, a fork of that feed" \
	create W C
check "and says to call the administrator" grep -q 'Call the administrator before anything more is written here' "$T/refused"
check "and not that C holds everything" bash -c "! grep -q 'holds everything' '$T/refused'"

# --- Y: the tester's report: the commune holds more, and Y wrote since ---
check "Y writes HP-31 (seq 1)" put Y HP-31
check "Y's state directory is backed up" cp -a "$T/Y" "$T/Y.backup"
check "Y writes HP-32 and HP-33 (seqs 2, 3)" bash -c "$(declare -f put N); H='$H' T='$T' P='$P'; put Y HP-32 && put Y HP-33"
check "a stick carries them to C" trip Y C
check "Y's state directory is put back from the backup" bash -c "rm -rf '$T/Y' && cp -a '$T/Y.backup' '$T/Y'"
check "Y writes HP-34 (seq 2)" put Y HP-34
refuse "bundle create exits 1: C holds more of Y's own feed" 1 \
	"this node's store lacks entries of its own feed bk/c1/y that C holds (up to seq 3 there, up to seq 2 here)" \
	create Y C
check "and not that C holds everything" bash -c "! grep -q 'holds everything' '$T/refused'"
check "it says that if anything was written since, the import shows a fork" \
	grep -q 'If anything was written here since the store was put back, that import shows a fork: then call the administrator' "$T/refused"
refuse "the next write waits (exit 7)" 7 'this node signed up to seq 3 in its feed bk/c1/y' put Y HP-35

# --- X: only the store put back, own-feeds kept ---
check "X writes HP-21 (seq 1)" put X HP-21
check "X's store is backed up" cp -a "$T/X/store" "$T/X.store"
check "X writes HP-22 (seq 2)" put X HP-22
check "a stick carries it to C" trip X C
check "X's store is put back" bash -c "rm -rf '$T/X/store' && cp -a '$T/X.store' '$T/X/store'"
refuse "a write is refused (exit 7), naming the stick way" 7 \
	'With no network, get a bundle from the commune or another node that holds them (hamlet summary here, carried there, hamlet bundle create --for it there, hamlet bundle import here)' \
	put X HP-23
check "and that forget-lost is only for entries no node holds" \
	grep -q '"hamlet own-feeds forget-lost" is only for entries no node holds (the store was lost before they ever left this node): given up while a node holds them, they make a fork' "$T/refused"
check "own-feeds names the stick way and warns about forget-lost" bash -c \
	"'$H' --home '$T/X' own-feeds | grep -q 'with no network, get a bundle from the commune .*hamlet bundle import here). hamlet own-feeds forget-lost is only for entries no node holds: given up while a node holds them, they make a fork'"
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\?8'; then
	refuse "the refusal in Vietnamese names the stick way" 7 \
		'Khi không có mạng, hãy lấy một gói dữ liệu từ xã' \
		env LC_ALL=vi_VN.UTF-8 LANGUAGE= "$H" --home "$T/X" put health_profile HP-23 "$P"
	check "own-feeds in Vietnamese" bash -c \
		"LC_ALL=vi_VN.UTF-8 LANGUAGE= '$H' --home '$T/X' own-feeds | grep -q 'chỉ dành cho các mục nhập không nút nào giữ'"
	N C summary --out "$T/C.summary" >/dev/null
	refuse "bundle create names the fork in Vietnamese" 1 \
		'RẼ NHÁNH: C và nút này giờ giữ hai mục nhập khác nhau tại seq 2 của chuỗi bk/c1/w' \
		env LC_ALL=vi_VN.UTF-8 LANGUAGE= "$H" --home "$T/W" bundle create --for "$T/C.summary" "$T/W-C.bundle"
else
	echo "skipped: the Vietnamese checks (no vi_VN.UTF-8 locale)"
fi
check "C's bundle comes back to X" trip C X
check "X writes HP-23 as seq 3" bash -c "$(declare -f put N); H='$H' T='$T' P='$P'; put X HP-23 | grep -q 'seq 3'"
check "X keeps no fork" no_forks X

tests_done
