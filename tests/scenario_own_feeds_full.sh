#!/usr/bin/env bash
# HOME/own-feeds on a full disk: hamletd signs and stores writes (LMDB
# reuses its free pages) but cannot write own-feeds. hamlet status and
# hamlet own-feeds (--json too) say that the file records less than the
# node signed, naming the feed and the seqs, instead of nothing; once
# space is back hamletd writes the file again by itself, with no write
# needed, and the warning goes. A clean stop on a disk still full says so
# in the log; the next start writes the file from the store. With the
# file written, a store lost afterwards does not sign those seqs again
# (the write waits, exit 7). The status page says it too. The disk is an
# 8 MiB tmpfs in a private mount namespace (unshare); skipped (exit 77)
# where that cannot be made.
#   tests/scenario_own_feeds_full.sh PATH/TO/hamlet PATH/TO/hamletd
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch ownfull
mkdir -p "$T/v"
command -v curl >/dev/null || { echo "curl is missing: skipped"; exit 77; }
if ! unshare -rm true 2>/dev/null; then
	echo "skipped: no private mount namespace here"
	exit 77
fi
check "network created" "$H" network create ownfull --out "$T"
{
	echo "id,person_id,full_name,birth_date"
	for i in $(seq 1 300); do printf 'HP-%d,%012d,Nguyen Van %d,1980-01-01\n' "$i" "$i" "$i"; done
} >"$T/a.csv"
sed 's/Nguyen Van/Tran Thi/' "$T/a.csv" >"$T/b.csv"

cat >"$T/inner.sh" <<'INNER'
set -uo pipefail
H=$1 D=$2 T=$3 LIB=$4
mount -t tmpfs -o size=8m none "$T/v" || exit 77
. "$LIB"
bg=
trap daemons_stop EXIT
V() { "$H" --home "$T/v" "$@"; }
put() { V put health_profile "$1" "{\"person_id\":\"0011223300$2\",\"full_name\":\"A B\",\"birth_date\":\"1990-01-01\"}"; }
fill() { dd if=/dev/zero of="$T/v/filler" bs=4k status=none 2>/dev/null; true; }
# the file's seq of the node's one feed (0: none)
recorded() { awk '$1 == "bk/c1/v1" { print $2; f = 1 } END { if (!f) print 0 }' "$T/v/own-feeds"; }
check "the village node on the small disk" V init --network "$T/ownfull.network" --name v --scope bk/c1/v1
# three imports of 300 rows: 900 entries, and free pages the store reuses
# (the third puts back the first's values: --overwrite)
for f in a b a; do V import health_profile --format csv --overwrite "$T/$f.csv" >/dev/null 2>&1; done
check "it holds 900 entries, own-feeds records seq 900" test "$(recorded)" = 900
start_http v && ok "hamletd runs on it, serving its page" || fail "hamletd runs on it, serving its page"
URL=http://127.0.0.1:$HP
fill
check "the disk is full" bash -c "[ \$(df --output=avail -k '$T/v' | tail -1) -eq 0 ]"
for i in 1 2 3; do put CX-$i 0$i >"$T/put$i.out" 2>&1; echo $? >"$T/put$i.rc"; done
check "the writes were stored all the same (seqs 901-903)" bash -c "[ \$(cat '$T/put3.rc') = 0 ] && grep -q 'seq 903, through hamletd' '$T/put3.out'"
check "hamletd could not write own-feeds, and said so" grep -q "cannot write $T/v/own-feeds: No space left on device" "$T/v.log"
check "the file records seq 900 still" test "$(recorded)" = 900
V status >"$T/status.txt" 2>&1
sed -n '/own-feeds records/,+1p' "$T/status.txt" | sed 's/^/    # /'
check "status warns that own-feeds records less than the node signed" \
	grep -q "^WARNING: $T/v/own-feeds records less than this node signed in 1 feed of its own: its guard against signing a seq twice is behind" "$T/status.txt"
check "naming the feed and the seqs" grep -q '^  feed bk/c1/v1: the file records up to seq 900, this node signed up to seq 903$' "$T/status.txt"
check "status --json lists it" bash -c "V() { '$H' --home '$T/v' \"\$@\"; }; V status --json | python3 -c 'import json,sys; u=json.load(sys.stdin)[\"own_feeds_unrecorded\"]; assert u == [{\"scope\": \"bk/c1/v1\", \"recorded\": 900, \"signed\": 903, \"stored\": 903}], u'"
check "the status page says it, naming the feed" bash -c "curl -s --max-time 10 '$URL/' | grep -q 'records less than this node signed (in bk/c1/v1)'"
V own-feeds >"$T/own.txt" 2>&1
check "own-feeds warns of it too" grep -q '^  feed bk/c1/v1: the file records up to seq 900, this node signed up to seq 903$' "$T/own.txt"
check "and lists the feed with what the node signed" grep -q '^  bk/c1/v1: signed up to seq 903, the store holds up to seq 903$' "$T/own.txt"
check "own-feeds --json: unrecorded" bash -c "'$H' --home '$T/v' own-feeds --json | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"unrecorded\"][0][\"recorded\"] == 900 and j[\"feeds\"][0][\"signed\"] == 903, j'"
rm -f "$T/v/filler"
check "space back, hamletd writes own-feeds again by itself (30 s)" within 30 bash -c "[ \$(awk '\$1 == \"bk/c1/v1\" { print \$2 }' '$T/v/own-feeds') = 903 ]"
check "and says so in its log" grep -q "wrote $T/v/own-feeds again: it records every seq this node signed" "$T/v.log"
check "status no longer warns" bash -c "! '$H' --home '$T/v' status | grep -q 'own-feeds records less'"

# a clean stop with the disk still full: said; the next start writes it
fill
check "another write is stored on the full disk (seq 904)" bash -c "'$H' --home '$T/v' put health_profile CX-4 '{\"person_id\":\"001122330004\",\"full_name\":\"A B\",\"birth_date\":\"1990-01-01\"}' 2>/dev/null | grep -q 'seq 904, through hamletd'"
stop v
check "the stop says own-feeds could not be written, and what to do" grep -q "cannot write $T/v/own-feeds as hamletd stops (No space left on device): it records less than this node signed" "$T/v.log"
check "with hamletd stopped, status still warns of seq 904" bash -c "'$H' --home '$T/v' status | grep -q '^  feed bk/c1/v1: the file records up to seq 903, this node signed up to seq 904$'"
rm -f "$T/v/filler"
start v && ok "hamletd starts again, with room" || fail "hamletd starts again, with room"
check "and writes own-feeds from the store" test "$(recorded)" = 904
stop v

# the store lost now: the file keeps the node from signing seq 1 again
mv "$T/v/store" "$T/v/store.lost"
refuse "a write on an empty store waits for the node's own entries (exit 7)" 7 "signed up to seq 904" put CY-1 09
tests_done
INNER
unshare -rm bash "$T/inner.sh" "$H" "$D" "$T" "$(cd "$(dirname "$0")" && pwd)/testlib.sh"
rc=$?
if [ $rc -eq 77 ]; then echo "skipped: cannot mount a tmpfs"; exit 77; fi
[ $rc -eq 0 ] && ok "own-feeds outlived a full disk" || fail "own-feeds outlived a full disk"
tests_done
