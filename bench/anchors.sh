#!/usr/bin/env bash
# hamlet's bulk rate beside Hypercore's and PouchDB's, from one run on one
# machine, each as a ratio to one core's verify rate measured in the same run:
#   bench/anchors.sh BENCH_SYNC HAMLETD [N [PROVINCE]]
# 1. BENCH_SYNC HAMLETD N e2e, TRIALS times (ANCHORS_TRIALS, 5 unless
#    told): one core's verify rate, every core's at once (the most a
#    transfer that verifies each entry could reach on this machine), and
#    hamlet's end to end bulk rate (N entries from node A into an empty
#    node B, durable); each trial's rate is divided by its own verify
#    rate, every trial is printed, and the table takes the trial whose
#    ratio is the median (its verify rate divides every row);
#    with PROVINCE (entries, 0: skip), also bench_province (beside
#    BENCH_SYNC) PROVINCE HAMLETD 1300 N: N entries from a village into a
#    store of PROVINCE entries;
# 2. Hypercore: seed N entries of 340 bytes, serve, fetch into an empty core;
# 3. PouchDB: a server with N docs (~300 bytes), pulled into an empty DB.
# The peers' scripts are ../shared/anchors/ beside the repository (or
# $ANCHORS_DIR); they are copied to a temporary directory and their npm
# packages installed there, never globally. Everything listens on
# 127.0.0.1, on ports found free; every wait is bounded; every process
# started here is killed and every temporary directory removed on exit.
# Prints a table; asserts nothing about speed.
set -euo pipefail
usage="usage: $0 BENCH_SYNC HAMLETD [N [PROVINCE]]"
BS=${1:?$usage}
D=${2:?$usage}
N=${3:-100000}
P=${4:-0}
BP=$(dirname "$BS")/bench_province
BATCH=${ANCHORS_BATCH:-1000} # Hypercore entries per append() while seeding (untimed)
TRIALS=${ANCHORS_TRIALS:-5} # hamlet's end-to-end transfers; the median is tabled
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SRC=${ANCHORS_DIR:-$(dirname "$REPO")/shared/anchors}

die() { echo "bench/anchors: $*" >&2; exit 2; }
case $N in '' | *[!0-9]*) die "N must be a positive whole number of entries, not '$N'" ;; esac
[ "$N" -gt 0 ] || die "N must be at least 1"
case $P in '' | *[!0-9]*) die "PROVINCE must be a whole number of entries (0: none), not '$P'" ;; esac
case $TRIALS in '' | *[!0-9]*) die "ANCHORS_TRIALS must be a whole number of transfers (1 to 9), not '$TRIALS'" ;; esac
[ "$TRIALS" -ge 1 ] && [ "$TRIALS" -le 9 ] || die "ANCHORS_TRIALS must be 1 to 9, not $TRIALS"
[ "$P" -eq 0 ] || [ -x "$BP" ] || die "$BP: no bench_province binary beside $BS"
[ -x "$BS" ] || die "$BS: no bench_sync binary there (./build.sh bench anchors builds it)"
[ -x "$D" ] || die "$D: no hamletd binary there"
for f in hypercore_bench.js pouch_server.js pouch_client.js package.json; do
	[ -f "$SRC/$f" ] ||
		die "$SRC/$f is missing: the peers' scripts are expected in ../shared/anchors/ beside the repository, or set ANCHORS_DIR"
done
command -v node >/dev/null ||
	die "node is missing: install Node.js 18 or newer (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null ||
	die "npm is missing: install it (Debian: apt-get install npm)"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] || die "node $(node --version) is too old: the peers' scripts need Node.js 18 or newer"
command -v python3 >/dev/null || die "python3 is missing (it finds free ports)"

W=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-anchors-XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port: a TCP port on 127.0.0.1 that nothing listens on, and whose
# successor is free too (pouch_server.js counts bytes on PORT+1)
free_port() {
	python3 - <<'EOF'
import socket
for _ in range(50):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1))
    except OSError:
        a.close(); b.close(); continue
    a.close(); b.close(); print(p); break
else:
    raise SystemExit("no two free neighbouring ports on 127.0.0.1")
EOF
}
# wait_line LOG TEXT SECS PID: until LOG holds TEXT, at most SECS seconds,
# failing at once if PID has exited
wait_line() {
	local _
	for _ in $(seq 1 $(($3 * 10))); do
		grep -q "$2" "$1" && return 0
		kill -0 "$4" 2>/dev/null || { tail -n 20 "$1" >&2; die "the process writing $1 died"; }
		sleep 0.1
	done
	tail -n 20 "$1" >&2
	die "no '$2' in $1 after $3 s"
}
# result LOG NAME: the value of "RESULT NAME=value" in LOG
result() {
	local v
	v=$(sed -n "s/^RESULT $2=//p" "$1" | tail -n 1)
	[ -n "$v" ] || { cat "$1" >&2; die "no $2 in $1"; }
	echo "$v"
}
# run SECS LOG CMD...: CMD to its end, its output in LOG, killed after
# SECS. It runs in the background and is waited for, so that a signal to
# this script stops it at once: the trap runs and kills it (timeout
# passes the signal on to CMD's process group, bench_sync's daemons too)
run() {
	local secs=$1 log=$2; shift 2
	timeout "$secs" "$@" >"$log" 2>&1 &
	PIDS+=($!)
	wait "${PIDS[-1]}" || { tail -n 20 "$log" >&2; die "failed or timed out after $secs s: $*"; }
}

echo "bench/anchors: $N entries, one run on $(nproc) cores, 127.0.0.1 only"

# --- the peers' packages, in a private copy ---------------------------------
cp -r "$SRC" "$W/anchors"
chmod -R u+w "$W/anchors"
rm -rf "$W/anchors/node_modules"
# (the npm registry must be reachable)
run 600 "$W/npm.log" npm install --prefix "$W/anchors" --no-audit --no-fund --loglevel=error
A=$W/anchors
version() { node -p "require('$A/node_modules/$1/package.json').version"; }

# --- 1. hamlet: one core's verify rate and the end-to-end bulk rate --------
field() { # LOG LINE-PREFIX: the first number after it in bench_sync's output
	local v
	v=$(sed -n "s/^ *$2 *\([0-9.]*\).*/\1/p" "$1" | head -n 1)
	[ -n "$v" ] || { cat "$1" >&2; die "no '$2' line in bench_sync's output"; }
	echo "$v"
}
# One machine's speed drifts from minute to minute (a shared host): each
# trial divides its transfer by the verify rate measured around it, and
# the trial of median ratio is the one tabled.
: >"$W/trials"
for t in $(seq 1 "$TRIALS"); do
	echo "hamlet: $BS $D $N e2e (trial $t of $TRIALS)"
	L=$W/hamlet-$t.log
	run 3600 "$L" "$BS" "$D" "$N" e2e
	v=$(field "$L" 'verify (1 core)')
	va=$(field "$L" 'verify (every core)')
	hr=$(field "$L" 'end to end (durable)')
	ab=$(field "$L" 'wire bytes per entry')
	ba=$(sed -n '/wire bytes per entry/{n;s/^ *\([0-9.]*\) B->A.*/\1/p}' "$L")
	[ -n "$ba" ] || { cat "$L" >&2; die "no B->A wire bytes in bench_sync's output"; }
	awk -v t="$t" -v r="$hr" -v v="$v" -v va="$va" -v ab="$ab" -v ba="$ba" \
		'BEGIN { printf "%s %.6f %s %s %s %.1f\n", t, r / v, r, v, va, ab + ba }' >>"$W/trials"
	awk -v t="$t" -v r="$hr" -v v="$v" -v va="$va" \
		'BEGIN { printf "  trial %s: %.0f entries/s, %.2f of one core'"'"'s verify (%.0f/s; every core %.2fx)\n", t, r, r / v, v, va / v }'
done
# the median trial (the lower middle one of an even count)
read -r _ _ h_rate verify verify_all h_wire < <(sort -k2,2g "$W/trials" | sed -n "$(((TRIALS + 1) / 2))p")

# --- 1b. hamlet into a province's store -------------------------------------
if [ "$P" -gt 0 ]; then
	echo "hamlet: $BP $P $D 1300 $N (a store of $P entries, then $N more from a village)"
	run 7200 "$W/province.log" "$BP" "$P" "$D" 1300 "$N"
	p_rate=$(sed -n 's/^ *entries\/s  *\([0-9.]*\) \/s.*/\1/p' "$W/province.log" | head -n 1)
	[ -n "$p_rate" ] || { cat "$W/province.log" >&2; die "no entries/s line in bench_province's output"; }
fi

# --- 2. Hypercore: seed, serve, fetch into an empty core --------------------
echo "hypercore $(version hypercore): seed $N x 340 B (batches of $BATCH), serve, fetch fresh"
run 900 "$W/hc-seed.log" node "$A/hypercore_bench.js" seed "$W/hc-src" "$N" 340 "$BATCH"
HP=$(free_port)
node "$A/hypercore_bench.js" serve "$W/hc-src" "$HP" >"$W/hc-serve.log" 2>&1 &
PIDS+=($!)
wait_line "$W/hc-serve.log" "^listening $HP" 60 "${PIDS[-1]}"
run 900 "$W/hc-fetch.log" node "$A/hypercore_bench.js" fetch "$W/hc-dst" "$HP" "$W/hc-src.key" fresh
[ "$(result "$W/hc-fetch.log" entries_fetched)" = "$N" ] ||
	die "Hypercore fetched $(result "$W/hc-fetch.log" entries_fetched) entries, not $N"
hc_rate=$(result "$W/hc-fetch.log" entries_per_s)
hc_wire=$(result "$W/hc-fetch.log" wire_bytes_per_entry)
kill "${PIDS[-1]}" 2>/dev/null || true
rm -rf "$W/hc-src" "$W/hc-dst"

# --- 3. PouchDB: a server with N docs, pulled into an empty DB -------------
echo "pouchdb-node $(version pouchdb-node), express-pouchdb $(version express-pouchdb): serve $N docs, replicate.from into an empty DB"
PP=$(free_port)
node "$A/pouch_server.js" "$W/pouch-src" "$PP" "$N" >"$W/pouch-serve.log" 2>&1 &
PIDS+=($!)
wait_line "$W/pouch-serve.log" "^listening $PP" 900 "${PIDS[-1]}"
run 900 "$W/pouch-client.log" node "$A/pouch_client.js" "$W/pouch-dst" "$PP" fresh
[ "$(result "$W/pouch-client.log" docs_written)" = "$N" ] ||
	die "PouchDB wrote $(result "$W/pouch-client.log" docs_written) docs, not $N"
pd_rate=$(result "$W/pouch-client.log" docs_per_s)
pd_wire=$(result "$W/pouch-client.log" wire_bytes_per_doc)

# --- the table --------------------------------------------------------------
echo
[ "$TRIALS" -eq 1 ] || echo "hamlet's row: the trial of median ratio, whose verify rate divides every row"
printf '%-34s %10s %16s %14s\n' "$N entries, one run" "entries/s" "/ 1-core verify" "wire B/entry"
row() { awk -v s="$1" -v r="$2" -v v="$verify" -v w="$3" \
	'BEGIN { printf "%-34s %10.0f %16.2f %14.1f\n", s, r, r / v, w }'; }
row "hamlet (hamletd -> hamletd)" "$h_rate" "$h_wire"
[ "$P" -eq 0 ] || awk -v s="hamlet into a $P-entry store" -v r="$p_rate" -v v="$verify" \
	'BEGIN { printf "%-34s %10.0f %16.2f %14s\n", s, r, r / v, "" }'
row "Hypercore $(version hypercore)" "$hc_rate" "$hc_wire"
row "PouchDB $(version pouchdb-node) (express-pouchdb)" "$pd_rate" "$pd_wire"
printf '%-34s %10.0f %16s\n' "one core's verify rate (hamlet)" "$verify" "1.00"
# what no transfer that verifies each entry can pass on this machine
awk -v s="every core's verify rate, at once" -v r="$verify_all" -v v="$verify" \
	'BEGIN { printf "%-34s %10.0f %16.2f\n", s, r, r / v }'
