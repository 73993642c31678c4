#!/usr/bin/env bash
# hamletd started on a full disk cannot write its pid and socket into
# HOME/hamletd.lock, where hamlet looks for a socket set elsewhere
# (--socket, as the systemd unit suggests for /run/hamlet): it says why
# (the disk is full) and what that means, tries again, and once space is
# back writes them, so hamlet finds the daemon without a restart. The
# home is on a 2 MiB tmpfs in a private mount namespace (unshare), filled
# up by a file; skipped (exit 77) where that cannot be made.
#   tests/scenario_diskfull_lock.sh PATH/TO/hamlet PATH/TO/hamletd
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch fulllock
mkdir -p "$T/disk" "$T/run"
if ! unshare -rm true 2>/dev/null; then
	echo "skipped: no private mount namespace here"
	exit 77
fi
check "network created" "$H" network create fulllock --out "$T"
check "the village node" "$H" --home "$T/src" init --network "$T/fulllock.network" --name v --scope bk/a/v
check "it holds a record" "$H" --home "$T/src" put health_profile HP-1 '{"person_id":"001122330001","full_name":"A B","birth_date":"1990-01-01"}'

cat >"$T/inner.sh" <<'INNER'
set -uo pipefail
H=$1 D=$2 T=$3 LIB=$4
mount -t tmpfs -o size=2m none "$T/disk" || exit 77
. "$LIB"
V() { "$H" --home "$T/disk/v" "$@"; }
cp -a "$T/src" "$T/disk/v" && rm -f "$T/disk/v/hamletd.lock"
dd if=/dev/zero of="$T/disk/filler" bs=4k status=none 2>/dev/null
check "the disk is full" bash -c "! echo x >'$T/disk/probe' 2>/dev/null || [ ! -s '$T/disk/probe' ]"
"$D" --home "$T/disk/v" --listen 127.0.0.1:$(port) --socket "$T/run/h.sock" 2>"$T/d.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
check "hamletd starts all the same" within 60 grep -q "ready (" "$T/d.log"
sed -n '/hamletd.lock/p' "$T/d.log" | sed 's/^/    # /' | cut -c1-220
check "it says it cannot write the pid and socket, and why: the disk is full" \
	grep -q "cannot write the pid and the socket into $T/disk/v/hamletd.lock: No space left on device" "$T/d.log"
check "and what that means, and that it tries again" \
	grep -q "a hamlet command may not find the daemon.*hamletd tries again every [0-9]* s" "$T/d.log"
rm -f "$T/disk/filler" "$T/disk/probe"
check "space freed, it writes them by itself" within 30 grep -q "wrote the pid and the socket into $T/disk/v/hamletd.lock" "$T/d.log"
check "hamletd.lock names the pid and the socket" \
	bash -c "[ \"\$(sed -n 1p '$T/disk/v/hamletd.lock')\" = $pid ] && [ \"\$(sed -n 2p '$T/disk/v/hamletd.lock')\" = '$T/run/h.sock' ]"
check "hamlet status finds the daemon, with no --socket" \
	bash -c "'$H' --home '$T/disk/v' status | grep -q '^daemon: running'"
check "a put goes through it" \
	bash -c "'$H' --home '$T/disk/v' put health_profile HP-2 '{\"person_id\":\"001122330002\",\"full_name\":\"A B\",\"birth_date\":\"1990-01-01\"}' 2>&1 | grep -q 'through hamletd'"
kill $pid
wait $pid
check "hamletd stops cleanly (exit 0)" test $? = 0
trap - EXIT
tests_done
INNER
unshare -rm bash "$T/inner.sh" "$H" "$D" "$T" "$(cd "$(dirname "$0")" && pwd)/testlib.sh"
rc=$?
if [ $rc -eq 77 ]; then echo "skipped: cannot mount a tmpfs"; exit 77; fi
[ $rc -eq 0 ] && ok "hamletd outlived a full disk at start" || fail "hamletd outlived a full disk at start"
tests_done
