#!/usr/bin/env bash
# The hamlet CLI on its own nodes, without real daemons: what it prints
# and refuses. Where an answer from hamletd is needed that a real daemon
# gives only by chance, tests/tools/fakehamletd stands in on the socket.
# tests/tools/wipe_spy.so (LD_PRELOAD) reports which buffers were wiped.
#   tests/test_cli.sh PATH/TO/hamlet PATH/TO/fakehamletd PATH/TO/wipe_spy.so
set -uo pipefail
usage="usage: $0 PATH/TO/hamlet PATH/TO/fakehamletd PATH/TO/wipe_spy.so"
H=${1:?$usage}
F=${2:?$usage}
S=${3:?$usage}
T=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-cli-XXXXXX")
fake=
cleanup() {
	[ -n "$fake" ] && kill "$fake" 2>/dev/null && wait "$fake" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap "exit 1" TERM INT HUP
. "$(dirname "$0")/testlib.sh"
# fake_start HOME: fakehamletd on HOME's socket, its requests logged to HOME.fake
fake_start() {
	rm -f "$1.fake"
	"$F" "$1/hamletd.sock" "$1.fake" --max-seconds 120 2>/dev/null &
	fake=$!
	for _ in $(seq 1 100); do [ -S "$1/hamletd.sock" ] && return 0; sleep 0.05; done
	return 1
}
fake_stop() { kill "$fake" && wait "$fake" 2>/dev/null; fake=; }
A() { "$H" --home "$T/a" "$@"; }
PROFILE='{"person_id":"000000000001","full_name":"Lo Thi A","birth_date":"1980-01-01","sex":"female","village":"na-pai"}'

check "hamlet --version prints its version" bash -c "'$H' --version | grep -qx 'hamlet [0-9][0-9.]*'"
refuse "a command where no node exists says how to make one, --scope included" 3 \
	'init --network FILE --scope SCOPE' "$H" --home "$T/none" status
check "network created" "$H" network create cli --out "$T"
check "node A" A init --network "$T/cli.network" --scope bk/bach-thong/quang-thuan/na-pai
check "A writes a record" A put health_profile HP-1 "$PROFILE"

# --- status: a peer's lag ------------------------------------------------
# field NAME: the value of "NAME" in each peer object, in order
peer_field() { awk -v f="\"$1\":" '$1 == f { v = $2; sub(/,$/, "", v); print v }' "$T/status.json" | tr '\n' ' '; }
if fake_start "$T/a" && A status --json >"$T/status.json" 2>"$T/out"; then
	check "status --json lists the three peers the daemon reports" test "$(peer_field key | wc -w)" = 3
	set -- $(peer_field lag_s)
	if [ $# = 3 ] && [ "$1" = null ] && [ "$2" = 0 ] && [ "$3" -gt 0 ] && [ "$3" -lt 100000000000 ]; then
		ok "lag_s: null for a peer that never synced, 0 for one that agreed after our newest entry (even dated ahead), a count of seconds for one behind"
	else
		fail "lag_s: null, 0 and a count of seconds (got: $*)"
	fi
	check "status in words shows the peers and never an absurd age" \
		bash -c "'$H' --home '$T/a' status >'$T/status.txt' && grep -q 'last agreed never' '$T/status.txt' && grep -q 'last agreed 0 s ago' '$T/status.txt'"
else
	fail "status --json against the fake daemon"; sed 's/^/    /' "$T/out"
fi
fake_stop

# --- conflicts: a record with a field conflict and a duplicate ----------
B() { "$H" --home "$T/b" "$@"; }
# send FROM TO: what TO lacks, by bundle
send() {
	"$H" --home "$T/$2" summary --out "$T/$2.sum" >/dev/null &&
	"$H" --home "$T/$1" bundle create --for "$T/$2.sum" "$T/$1-$2.bundle" >/dev/null &&
	"$H" --home "$T/$2" bundle import "$T/$1-$2.bundle" >/dev/null
}
check "node B" B init --network "$T/cli.network" --scope bk/bach-thong/quang-thuan
check "A writes HP-2 with HP-1's person_id: a duplicate" A put health_profile HP-2 "$PROFILE"
check "B gets both" send a b
check "A and B change HP-1's phone at the same time" bash -c "'$H' --home '$T/a' put health_profile HP-1 '{\"phone\":\"0911000001\"}' && '$H' --home '$T/b' put health_profile HP-1 '{\"phone\":\"0922000002\"}'"
check "B gets A's change" send a b
check "HP-1 has both a field conflict and a duplicate on B" \
	bash -c "'$H' --home '$T/b' get health_profile HP-1 >'$T/get' && grep -q 'CONFLICT phone' '$T/get' && grep -q 'DUPLICATE of health_profile/HP-2' '$T/get'"
B conflicts >"$T/conflicts.txt" 2>&1
check "conflicts lists HP-1 once" test "$(grep -c '^health_profile/HP-1$' "$T/conflicts.txt")" = 1
check "conflicts counts two records" grep -qx '2 records with open conflicts' "$T/conflicts.txt"
check "conflicts --json counts two records" bash -c "'$H' --home '$T/b' conflicts --json | grep -q '\"count\": 2,'"
check "status counts two records" bash -c "'$H' --home '$T/b' status | grep -q '^conflicts: 2 records need a decision'"

# --- verify on a read-only copy of a node ----------------------------------
# as_reader COMMAND...: as someone who may read the copy but not write it
# (as root, the user nobody: chmod does not stop root)
if [ "$(id -u)" != 0 ]; then
	as_reader() { "$@"; }
else
	as_reader() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
fi
if [ "$(id -u)" = 0 ] && ! command -v setpriv >/dev/null; then
	echo "skipped: verify on a read-only copy (needs setpriv as root)"
else
	RO=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-ro-XXXXXX")
	chmod 755 "$RO"
	# nobody may not reach the build tree: run a copy of hamlet
	cp "$H" "$RO/hamlet" && chmod 755 "$RO/hamlet"
	cp -a "$T/a" "$RO/node" && rm -f "$RO/node/store/lock.mdb"
	chmod -R a+rX,a-w "$RO/node"
	check "the copy is read-only to the reader" bash -c "$(declare -f as_reader); ! as_reader touch '$RO/node/store/lock.mdb' 2>/dev/null"
	check "verify opens a read-only copy without a lock file and finds it clean" \
		bash -c "$(declare -f as_reader); as_reader '$RO/hamlet' --home '$RO/node' verify | grep -q '^verify: ok'"
	check "and reads its records" bash -c "$(declare -f as_reader); as_reader '$RO/hamlet' --home '$RO/node' get health_profile HP-1 | grep -q 'Lo Thi A'"
	check "without writing a lock file" test ! -e "$RO/node/store/lock.mdb"
	chmod u+w "$RO/node/store" && cp -a "$T/a/store/lock.mdb" "$RO/node/store/" && chmod a+r,a-w "$RO/node/store" "$RO/node/store/lock.mdb"
	check "verify opens a read-only copy whose lock file it may not write" \
		bash -c "$(declare -f as_reader); as_reader '$RO/hamlet' --home '$RO/node' verify | grep -q '^verify: ok'"
	chmod -R u+w "$RO" && rm -rf "$RO"
fi

# --- secrets: every copy of the network key is wiped -----------------------
# spy COMMAND...: run it with wipe_spy, which logs to $T/spy.log
spy() {
	LD_PRELOAD=$S WIPE_SPY_LOG=$T/spy.log \
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 "$@"
}
hex() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
# wiped KEY: the key (hex) and its text in hex were each passed to sodium_memzero
wiped() { grep -q "^wipe .*$1" "$T/spy.log" && grep -q "^wipe .*$(hex "$1")" "$T/spy.log"; }
rm -f "$T/spy.log"
check "network create, watched" spy "$H" network create spied --out "$T/spied"
key=$(sed -n 's/^key = //p' "$T/spied/spied.network")
check "the spy saw the network key being made" grep -qx "random $key" "$T/spy.log"
check "network create wipes the network key and its hex text" wiped "$key"
# network_create() and the command each hold a struct network_info
check "both copies of the key were wiped" test "$(grep -c "^wipe .*$key" "$T/spy.log")" -ge 2
rm -f "$T/spy.log"
mkdir -p "$T/broken/broken.network.tmp" # the network file cannot be written
refuse "network create that cannot write its file says so" 5 "cannot write" \
	spy "$H" network create broken --out "$T/broken"
key=$(sed -n 's/^random //p' "$T/spy.log")
check "the spy saw one network key being made" test "${#key}" = 64
check "a failed network create wipes them too" wiped "$key"

tests_done
