#!/usr/bin/env bash
# The HTTP/JSON API's throughput on loopback, beside the CLI's:
#   bench/http.sh HAMLET HAMLETD [SECONDS]
# Prints API reads/s (GET of one record) and writes/s (PUTs of new
# records, each a signed entry committed by the daemon's one writer) with
# wrk (Debian's wrk), and the same through `hamlet get` / `hamlet put`.
# Asserts nothing about speed (targets: 5,000 reads/s, 1,000 writes/s).
set -euo pipefail
H=${1:?usage: $0 HAMLET HAMLETD [SECONDS]}
D=${2:?usage: $0 HAMLET HAMLETD [SECONDS]}
SECS=${3:-5}
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-bench-http-XXXXXX")
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
A() { "$H" --home "$T/a" "$@"; }
"$H" network create bench --out "$T" >/dev/null
A init --network "$T/bench.network" --name a --scope bk/c1/a >/dev/null
key=$(sed -n 's/^public_key = //p' "$T/a/node.conf")
"$H" cert issue --root-key "$T/bench.root.key" --to "$key" --name a --role village \
	--read bk/c1/a --write bk/c1/a --out "$T/a.cert" >/dev/null
A cert install "$T/a.cert" >/dev/null
{
	echo "id,person_id,full_name,birth_date"
	for i in $(seq 1 1000); do printf 'HP-%05d,%012d,Bench %d,1980-01-01\n' $i $i $i; done
} >"$T/p.csv"
A import health_profile --format csv "$T/p.csv" >/dev/null
A put payment PAY-1 '{"program":"social_allowance","beneficiary_id":"000000000001","period":"2026-03","amount_vnd":1500000}' >/dev/null
TOKEN=$(A token create --name bench --role write 2>/dev/null)
for _ in 1 2 3 4 5; do
	HP=$((20000 + RANDOM % 12000))
	"$D" --home "$T/a" --http 127.0.0.1:$HP 2>>"$T/a.log" &
	PID=$!
	for _ in $(seq 1 100); do
		grep -q "ready (" "$T/a.log" && break
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	grep -q "ready (" "$T/a.log" && break
	wait "$PID" 2>/dev/null || true
	PID=
	: >"$T/a.log"
done
[ -n "$PID" ] || { echo "hamletd did not start" >&2; exit 1; }
URL=http://127.0.0.1:$HP
cat >"$T/put.lua" <<'LUA'
local n = 0
local base = 0
function init(args) base = math.random(1, 1000000) * 1000000 end
function request()
	n = n + 1
	local id = base + n
	return wrk.format("PUT", "/v1/records/health_profile/W-" .. id, nil,
		string.format('{"person_id":"%012d","full_name":"Bench %d","birth_date":"1990-01-01"}', id % 1000000000000, id))
end
LUA
rate() { sed -n 's/^Requests\/sec: *//p'; }
errors() { grep -E "Non-2xx|Socket errors" || true; }
echo "hamletd HTTP API on loopback, ${SECS} s each, 2 threads, 8 connections:"
wrk -t2 -c8 -d"${SECS}s" -H "Authorization: Bearer $TOKEN" "$URL/v1/records/payment/PAY-1" >"$T/r.out"
printf '  API reads:   %10.0f /s (a payment; target 5,000)\n' "$(rate <"$T/r.out")"
errors <"$T/r.out"
wrk -t2 -c8 -d"${SECS}s" -H "Authorization: Bearer $TOKEN" "$URL/v1/records/health_profile/HP-00500" >"$T/h.out"
printf '  API reads:   %10.0f /s (a health profile: each read is logged, with fdatasync)\n' "$(rate <"$T/h.out")"
errors <"$T/h.out"
wrk -t2 -c8 -d"${SECS}s" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
	-s "$T/put.lua" "$URL" >"$T/w.out"
printf '  API writes:  %10.0f /s (target 1,000)\n' "$(rate <"$T/w.out")"
errors <"$T/w.out"
n=200
t0=$(date +%s.%N)
for i in $(seq 1 $n); do A get payment PAY-1 >/dev/null; done
t1=$(date +%s.%N)
for i in $(seq 1 $n); do
	A put health_profile "C-$i" "{\"person_id\":\"$(printf %012d $((900000 + i)))\",\"full_name\":\"Cli $i\",\"birth_date\":\"1990-01-01\"}" >/dev/null
done
t2=$(date +%s.%N)
printf '  CLI reads:   %10.0f /s (hamlet get of a payment, a process each)\n' "$(echo "$n / ($t1 - $t0)" | bc -l)"
printf '  CLI writes:  %10.0f /s (hamlet put through hamletd, a process each)\n' "$(echo "$n / ($t2 - $t1)" | bc -l)"
