#!/usr/bin/env bash
# 100 new records over a simulated 2G link (bench/link2g.py: 10 KB/s each
# way, 300 ms round trip, 5% of connections cut):
#   bench/2g.sh HAMLET HAMLETD [ROUNDS] [RECORDS]
# Two daemons: a village (a) and its commune (b), b dialling a through the
# link. Each round writes RECORDS (100) health profiles on a with one
# `hamlet import` and times until the last is readable on b, counting the
# link's time up (a dropped link's minutes are not link time). Odd rounds
# find the session up (live push); even rounds drop the link first, so b
# redials and reconciles. Prints each round, the medians and the worst,
# and the bytes the link carried per record beside the records' JSON.
# Asserts nothing (target: <= 4 s).
set -euo pipefail
H=${1:?usage: $0 HAMLET HAMLETD [ROUNDS] [RECORDS]}
D=${2:?usage: $0 HAMLET HAMLETD [ROUNDS] [RECORDS]}
ROUNDS=${3:-10}
NREC=${4:-100}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null || { echo "python3 is missing" >&2; exit 2; }
. "$HERE/../tests/testlib.sh"
tests_scratch 2g
LINK=
trap 'if [ -n "$LINK" ]; then kill "$LINK" 2>/dev/null || true; fi; tests_cleanup' EXIT

"$H" network create g --out "$T" >/dev/null
N a init --network "$T/g.network" --name a --scope bk/c1/a >/dev/null
N b init --network "$T/g.network" --name b --scope bk/c1 >/dev/null
certify "$T/g.root.key" a
certify "$T/g.root.key" b bk/c1 bk/c1
start a || { echo "a's daemon did not start" >&2; exit 1; }
LP=$(port)
"$PYTHON3" "$HERE/link2g.py" "$LP" "${PORTOF[a]}" --log "$T/link.json" ${LINK_ARGS:-} &
LINK=$!
sleep 0.5
start b --peer 127.0.0.1:$LP || { echo "b's daemon did not start" >&2; exit 1; }

# has NAME ID: NAME holds health profile ID
has() { N "$1" get health_profile "$2" >/dev/null 2>&1; }
# wait_for NAME ID SECS: poll every 50 ms until NAME holds ID
wait_for() {
	local i
	for i in $(seq 1 $(($3 * 20))); do
		has "$1" "$2" && return 0
		sleep 0.05
	done
	return 1
}
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/link.json" "$1"; }
link_bytes() { echo $(($(field up) + $(field down))); }

N a put health_profile WARM '{"person_id":"000000000001","full_name":"Warm Up","birth_date":"1990-01-01"}' >/dev/null
wait_for b WARM 120 || { echo "b never got the first record" >&2; exit 1; }
sleep 1.5

echo "2G link (bench/link2g.py): 10 KB/s each way, 300 ms round trip, 5% of connections cut"
echo "odd rounds: the session is up (live push); even rounds: the link has just dropped (b redials, reconciles)"
live=() drop=()
for r in $(seq 1 "$ROUNDS"); do
	{
		echo "id,person_id,full_name,birth_date,sex,village,phone"
		for i in $(seq 1 "$NREC"); do
			printf 'R%d-%03d,%012d,Nguyễn Thị Round %d-%d,1985-0%d-1%d,female,na-pai,0912%06d\n' \
				"$r" "$i" $((r * 1000 + i)) "$r" "$i" $((i % 9 + 1)) $((i % 9)) $((r * 1000 + i))
		done
	} >"$T/r$r.csv"
	sleep 0.3
	[ $((r % 2)) = 0 ] && kill -USR1 "$LINK" # the link drops
	sleep 0.2
	b0=$(link_bytes)
	l0=$(field link_s)
	t0=$(date +%s.%N)
	N a import health_profile --format csv "$T/r$r.csv" >/dev/null
	last=$(printf 'R%d-%03d' "$r" "$NREC")
	wait_for b "$last" 300 || { echo "round $r: not there after 300 s" >&2; exit 1; }
	wall=$(echo "$(date +%s.%N) - $t0" | bc -l)
	sleep 0.2
	l1=$(field link_s)
	link=$(echo "$l1 - $l0 - 0.2" | bc -l)
	sleep 1
	b1=$(link_bytes)
	jb=$(N b export health_profile --format ndjson | grep "\"R$r-" | python3 -c 'import json,sys; print(sum(len(json.dumps({k: v for k, v in json.loads(l).items() if k != "id"}, ensure_ascii=False, separators=(",",":")).encode()) for l in sys.stdin))')
	kind=live; [ $((r % 2)) = 0 ] && kind="after a drop"
	printf '  round %2d (%s): %.2f s of link time (%.2f s wall); %d B on the link, %.0f B/record beside %.0f B of JSON\n' \
		"$r" "$kind" "$link" "$wall" $((b1 - b0)) "$(echo "($b1 - $b0) / $NREC" | bc -l)" "$(echo "$jb / $NREC" | bc -l)"
	if [ $((r % 2)) = 0 ]; then drop+=("$link"); else live+=("$link"); fi
done
med() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
worst() { printf '%s\n' "$@" | sort -n | tail -n 1; }
printf '%d records over 2G, link time: live push median %.2f s (worst %.2f); after a drop median %.2f s (worst %.2f); target <= 4 s\n' \
	"$NREC" "$(med "${live[@]}")" "$(worst "${live[@]}")" "$(med "${drop[@]}")" "$(worst "${drop[@]}")"
echo "link: $(field connections) connections, $(field cut) cut at random, $(field dropped) dropped between rounds"
# the rounds "after a drop" measured one only if the link did drop
if [ "$ROUNDS" -ge 2 ] && [ "$(field dropped)" -lt 1 ]; then
	echo "the link never dropped between rounds: the rounds after a drop measured none" >&2
	exit 1
fi
