#!/usr/bin/env bash
# A full disk under a running sync: the receiving hamletd says the disk is
# full, keeps the batch it could not store and tries it again later,
# waiting longer each time, while the sender sends nothing again; once
# space is freed the sync completes on the same session and the store
# audits clean. While the disk is full, hamlet sync --wait on the receiver
# exits 1 naming the full disk, as status does, and status's progress
# line foretells no rate. The receiver's disk is an 8 MiB tmpfs in a private mount
# namespace (unshare) holding the node's home, filled up by a file; skipped (exit 77) where that
# cannot be made.
#   tests/scenario_diskfull_sync.sh PATH/TO/hamlet PATH/TO/hamletd
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch fullsync
mkdir -p "$T/r"
if ! unshare -rm true 2>/dev/null; then
	echo "skipped: no private mount namespace here"
	exit 77
fi
check "network created" "$H" network create fullsync --out "$T"
check "the village node" "$H" --home "$T/s" init --network "$T/fullsync.network" --name na-pai --scope bk/a/na-pai
check "the root certifies it" certify "$T/fullsync.root.key" s
{
	echo "id,person_id,full_name,birth_date,chronic_conditions"
	pad=$(printf 'hypertension %.0s' $(seq 1 60))
	for i in $(seq 1 1500); do
		printf 'HP-%05d,%012d,Nguyen Van %d,1980-01-01,%s\n' "$i" "$i" "$i" "$pad"
	done
} >"$T/profiles.csv"
check "the village imports 1,500 profiles" "$H" --home "$T/s" import health_profile --format csv "$T/profiles.csv"

# the rest runs inside the namespace, where $T/r is the small disk
cat >"$T/inner.sh" <<'INNER'
set -uo pipefail
H=$1 D=$2 T=$3 LIB=$4
mount -t tmpfs -o size=8m none "$T/r" || exit 77
. "$LIB"
bg=
trap daemons_stop EXIT
S() { "$H" --home "$T/s" "$@"; }
R() { "$H" --home "$T/r" "$@"; }
entries_out() { S status --json | grep -o '"entries_out": [0-9]*' | grep -o '[0-9]*$'; }
same_digest() { local a b; a=$(S digest) && b=$(R digest) && [ -n "$a" ] && [ "$a" = "$b" ]; }
tries() { grep -c "trying again in" "$T/r.log"; }
check "the commune node on the small disk" R init --network "$T/fullsync.network" --name commune --scope bk/a
check "the root certifies it" certify "$T/fullsync.root.key" r
avail=$(df --output=avail -k "$T/r" | tail -1)
check "a file fills the disk but for 400 KiB" dd if=/dev/zero of="$T/r/filler" bs=1k count=$((avail - 400)) status=none
launch r && PR=$PORT && ok "the commune's daemon listens" || fail "the commune's daemon listens"
launch s --peer 127.0.0.1:$PR && ok "the village's daemon dials it" || fail "the village's daemon dials it"
full=0
for _ in $(seq 1 300); do grep -q "the disk holding the store is full" "$T/r.log" && { full=1; break; }; sleep 0.1; done
[ $full = 1 ] && ok "the commune says the disk is full" || fail "the commune says the disk is full"
sed -n '/disk holding the store is full/{p;q}' "$T/r.log" | sed 's/^/    /'
sent=$(entries_out)
check "the village reports what it sent" test -n "$sent"
sleep 8
check "the village has sent nothing again in 8 s" test "$(entries_out)" = "$sent"
check "the commune tried at most three times in that time" test "$(tries)" -le 3
check "the commune's daemon still answers, with the village connected" \
	bash -c "'$H' --home '$T/r' status >'$T/rstatus' 2>&1; grep -q 'connected, NOT SYNCING: the disk is full; [0-9]* entries received wait for space' '$T/rstatus' || { cat '$T/rstatus'; exit 1; }"
check "the village's daemon still answers" S status
R sync --wait --timeout 20 >"$T/rwait.out" 2>"$T/rwait.err"
rc=$?
sed 's/^/    # /' "$T/rwait.err"
check "sync --wait on the commune does not call it in sync (exit 1)" test "$rc" = 1
check "it names the full disk, what waits, and what to do" \
	grep -qE "not in sync: the disk holding this node's store is full: [0-9,]+ entries received from s wait for space, .*Free space on that disk" "$T/rwait.err"
check "nor does --json: in_sync false, naming the full disk" bash -c "! '$H' --home '$T/r' --json sync --wait --timeout 20 >'$T/rwait.json' && python3 -c \"import json; j=json.load(open('$T/rwait.json')); assert j['in_sync'] is False and 'disk' in j['reason'] and 'full' in j['reason'], j\""
check "status --json agrees: in_sync false" bash -c "'$H' --home '$T/r' status --json | python3 -c 'import json,sys; p=json.load(sys.stdin)[\"peers\"][0]; assert p[\"in_sync\"] is False and p[\"entries_waiting_for_disk\"] > 0, p'"
R status >"$T/rstatus2" 2>&1
sed 's/^/    # /' "$T/rstatus2" | tail -2
check "status says the rest waits for disk space" grep -qE '^    receiving from s .*: [0-9,]+ / [0-9,]+ entries; the rest waits for space on the disk holding this node.s store' "$T/rstatus2"
check "and neither foretells a rate or a time left nor blames the village's byte budget" \
	bash -c "! grep -E 'receiving from .*(/s,|left|byte budget)' '$T/rstatus2'"
rm -f "$T/r/filler"
until_ok() { for _ in $(seq 1 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
check "space freed, the sync completes on the same session" until_ok same_digest
check "the commune says the store takes entries again" grep -q "the store takes entries again" "$T/r.log"
check "the village connected once" test "$(grep -c 'connected (incoming from' "$T/r.log")" = 1
check "the commune's store audits clean" R verify
check "it holds the village's last profile" R get health_profile HP-01500
tests_done
INNER
unshare -rm bash "$T/inner.sh" "$H" "$D" "$T" "$(cd "$(dirname "$0")" && pwd)/testlib.sh"
rc=$?
if [ $rc -eq 77 ]; then echo "skipped: cannot mount a tmpfs"; exit 77; fi
[ $rc -eq 0 ] && ok "the sync outlived a full disk" || fail "the sync outlived a full disk"
tests_done
