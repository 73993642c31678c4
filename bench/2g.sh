#!/usr/bin/env bash
# 100 new records over a simulated 2G link (bench/link2g.py: 10 KB/s each
# way, 300 ms round trip, 5% of connections cut):
#   bench/2g.sh HAMLET HAMLETD [ROUNDS] [RECORDS]
# Two daemons: a village (a) and its commune (b), b dialling a through the
# link. Each round writes RECORDS (100) health profiles on a with one
# `hamlet import` and times until the last is readable on b. Prints each
# round, the median and the worst, and the bytes the link carried per
# record beside the records' JSON. Asserts nothing (target: <= 4 s).
set -euo pipefail
H=${1:?usage: $0 HAMLET HAMLETD [ROUNDS] [RECORDS]}
D=${2:?usage: $0 HAMLET HAMLETD [ROUNDS] [RECORDS]}
ROUNDS=${3:-5}
NREC=${4:-100}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null || { echo "python3 is missing" >&2; exit 2; }
. "$HERE/../tests/testlib.sh"
tests_scratch 2g
LINK=
trap '[ -n "$LINK" ] && kill $LINK 2>/dev/null; tests_cleanup' EXIT

"$H" network create g --out "$T" >/dev/null
N a init --network "$T/g.network" --name a --scope bk/c1/a >/dev/null
N b init --network "$T/g.network" --name b --scope bk/c1 >/dev/null
certify "$T/g.root.key" a
certify "$T/g.root.key" b bk/c1 bk/c1
start a || { echo "a's daemon did not start" >&2; exit 1; }
LP=$(port)
python3 "$HERE/link2g.py" "$LP" "${PORTOF[a]}" --log "$T/link.json" &
LINK=$!
sleep 0.5
start b --peer 127.0.0.1:$LP || { echo "b's daemon did not start" >&2; exit 1; }

# has NAME ID: NAME holds health profile ID
has() { N "$1" get health_profile "$2" >/dev/null 2>&1; }
# wait_for NAME ID SECS: poll every 50 ms; prints the seconds waited
wait_for() {
	local t0 i
	t0=$(date +%s.%N)
	for i in $(seq 1 $(($3 * 20))); do
		has "$1" "$2" && { echo "$(date +%s.%N) - $t0" | bc -l; return 0; }
		sleep 0.05
	done
	return 1
}
link_bytes() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["up"] + d["down"])' "$T/link.json"; }
link_cuts() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["cut"], d["connections"])' "$T/link.json"; }

N a put health_profile WARM '{"person_id":"000000000001","full_name":"Warm Up","birth_date":"1990-01-01"}' >/dev/null
wait_for b WARM 120 >/dev/null || { echo "b never got the first record" >&2; exit 1; }
sleep 1.5

echo "2G link (bench/link2g.py): 10 KB/s each way, 300 ms round trip, 5% of connections cut"
times=()
json_bytes=0
for r in $(seq 1 "$ROUNDS"); do
	{
		echo "id,person_id,full_name,birth_date,sex,village,phone"
		for i in $(seq 1 "$NREC"); do
			printf 'R%d-%03d,%012d,Nguyễn Thị Round %d-%d,1985-0%d-1%d,female,na-pai,0912%06d\n' \
				"$r" "$i" $((r * 1000 + i)) "$r" "$i" $((i % 9 + 1)) $((i % 9)) $((r * 1000 + i))
		done
	} >"$T/r$r.csv"
	sleep 1.1 # the link's counters are written each second
	b0=$(link_bytes)
	t0=$(date +%s.%N)
	N a import health_profile --format csv "$T/r$r.csv" >/dev/null
	ti=$(echo "$(date +%s.%N) - $t0" | bc -l)
	last=$(printf 'R%d-%03d' "$r" "$NREC")
	if ! w=$(wait_for b "$last" 120); then echo "round $r: not there after 120 s" >&2; exit 1; fi
	secs=$(echo "$(date +%s.%N) - $t0" | bc -l)
	sleep 1.1
	b1=$(link_bytes)
	jb=$(N b export health_profile --format ndjson | grep "\"R$r-" | python3 -c 'import json,sys; print(sum(len(json.dumps(json.loads(l)["fields"] if "fields" in json.loads(l) else json.loads(l), ensure_ascii=False, separators=(",",":")).encode()) for l in sys.stdin))')
	printf '  round %d: import %.2f s; %d records on b %.2f s after the import began; link %d B (%.0f B/record; JSON %.0f B/record)\n' \
		"$r" "$ti" "$NREC" "$secs" $((b1 - b0)) "$(echo "($b1 - $b0) / $NREC" | bc -l)" "$(echo "$jb / $NREC" | bc -l)"
	times+=("$secs")
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(((ROUNDS + 1) / 2))p")
worst=$(echo "$sorted" | tail -n 1)
read -r cuts conns < <(link_cuts)
printf '%d records over 2G: median %.2f s, worst %.2f s (target <= 4 s); %s of %s connections cut\n' \
	"$NREC" "$median" "$worst" "$cuts" "$conns"
