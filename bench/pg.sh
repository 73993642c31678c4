#!/usr/bin/env bash
# hamlet sink postgres at province scale: three villages each import a
# third of N records (profiles, payments, profiles) while offline, then
# sync them into a province daemon P, which `hamlet sink postgres` follows
# into a private PostgreSQL (tests/pglib.sh) from the start.
#   bench/pg.sh HAMLET HAMLETD [N] [KILLS] (N = 100000, KILLS = 5 unless told)
# While the records arrive, the sink is killed with SIGKILL KILLS times
# (each time a further N/(KILLS+1) records have reached P) and started
# again, and PostgreSQL is restarted once, halfway.
# Prints how long the sync took, how long after the last record reached P
# the PostgreSQL tables held them all, the sink's rate, whether the tables
# equal `hamlet export` (rows and checksum), and the sizes on disk.
# Asserts nothing about speed; exits 1 when the tables differ.
set -uo pipefail
H=$(realpath "${1:?usage: $0 HAMLET HAMLETD [N]}")
D=$(realpath "${2:?usage: $0 HAMLET HAMLETD [N]}")
N=${3:-100000}
KILLS=${4:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/testlib.sh"
. "$HERE/../tests/pglib.sh"
tests_scratch bench-pg
SINK=
trap '[ -n "$SINK" ] && kill "$SINK" 2>/dev/null; pg_stop; tests_cleanup' EXIT
pg_setup || exit 2
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

"$H" network create bk --out "$T" >/dev/null
for spec in P:bk V1:bk/c1/v1 V2:bk/c2/v2 V3:bk/c3/v3; do
	n=${spec%%:*} s=${spec#*:}
	N "$n" init --network "$T/bk.network" --name "${n,,}" --scope "$s" >/dev/null
done
issue P province bk --root-key "$T/bk.root.key" --delegate
for v in 1 2 3; do issue V$v village bk/c$v/v$v --root-key "$T/bk.root.key"; done

third=$((N / 3)) last=$((N - 2 * third))
t=$(now)
python3 - "$T" "$third" "$last" <<'PY'
import sys
t, third, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(t + "/v1.csv", "w") as f:
    f.write("id,person_id,full_name,birth_date,village\n")
    for i in range(third):
        f.write("HP1-%06d,1%011d,Lo Van %d,19%02d-%02d-%02d,Na Pai\n" % (i, i, i, 40 + i % 60, 1 + i % 12, 1 + i % 28))
with open(t + "/v2.csv", "w") as f:
    f.write("id,program,beneficiary_id,period,amount_vnd,status\n")
    for i in range(third):
        f.write("PAY-%06d,social_allowance,2%011d,2026-%02d,%d,created\n" % (i, i, 1 + i % 12, 500000 + i % 7 * 100000))
with open(t + "/v3.csv", "w") as f:
    f.write("id,person_id,full_name,birth_date,village\n")
    for i in range(last):
        f.write("HP3-%06d,3%011d,Ha Thi %d,19%02d-%02d-%02d,Khuoi Ca\n" % (i, i, i, 40 + i % 60, 1 + i % 12, 1 + i % 28))
PY
for v in 1 3; do N V$v import health_profile --format csv "$T/v$v.csv" >/dev/null || exit 1; done
N V2 import payment --format csv "$T/v2.csv" >/dev/null || exit 1
echo "bench/pg: $N records from three villages ($third profiles, $third payments, $last profiles), $(nproc) cores"
printf '  %-44s %s s\n' "villages' imports (offline)" "$(secs "$t" "$(now)")"

start P || { echo "P's daemon does not start" >&2; exit 1; }
sink_start() { "$H" --home "$T/P" sink postgres --dsn "host=$PGD user=hamlet dbname=hamlet" >>"$T/sink.log" 2>&1 & SINK=$!; }
sink_start
t0=$(now)
for v in 1 2 3; do start V$v --peer 127.0.0.1:${PORTOF[P]} || exit 1; done
held() { N P digest --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])'; }
in_pg() { sql "SELECT (SELECT count(*) FROM health_profile) + (SELECT count(*) FROM payment)" 2>/dev/null || echo 0; }
deadline=$(( $(date +%s) + 3600 ))
t_arrived= t_pg= kills=0 restarted=0
while [ "$(date +%s)" -lt $deadline ]; do
	h=$(held)
	# SIGKILL the sink each time a further share of the records is in
	if [ "$kills" -lt "$KILLS" ] && [ "$h" -ge $(( (kills + 1) * N / (KILLS + 1) )) ]; then
		kill -9 "$SINK" 2>/dev/null; wait "$SINK" 2>/dev/null
		kills=$((kills + 1))
		if [ "$restarted" = 0 ] && [ "$kills" -ge $(( (KILLS + 1) / 2 )) ]; then
			pg_restart_fast || { echo "PostgreSQL did not restart" >&2; exit 1; }
			restarted=1
		fi
		sink_start
	fi
	if [ -z "$t_arrived" ] && [ "$h" = "$N" ]; then t_arrived=$(now); fi
	if [ -n "$t_arrived" ] && [ "$(in_pg)" = "$N" ]; then t_pg=$(now); break; fi
	sleep 0.2
done
[ -n "$t_pg" ] || { echo "PostgreSQL did not catch up within an hour" >&2; tail "$T/sink.log" >&2; exit 1; }
sync_s=$(secs "$t0" "$t_arrived")
printf '  %-44s %s s (%s records/s)\n' "sync into P (start to last arrival)" "$sync_s" \
	"$(awk -v n="$N" -v s="$sync_s" 'BEGIN { printf "%.0f", n / s }')"
printf '  %-44s %s s\n' "PostgreSQL matched after the last arrival" "$(secs "$t_arrived" "$t_pg")"
printf '  %-44s %s s (%s records/s)\n' "sink: start to all rows in PostgreSQL" "$(secs "$t0" "$t_pg")" \
	"$(awk -v n="$N" -v s="$(secs "$t0" "$t_pg")" 'BEGIN { printf "%.0f", n / s }')"
printf '  %-44s %s\n' "sink killed with SIGKILL meanwhile" "$kills times; PostgreSQL restarted $restarted time"
printf '  %-44s %s\n' "sink batches (its last run)" "$(grep -o '[0-9]* batches' "$T/sink.log" | tail -n 1)"
status=0
for c in health_profile payment; do
	python3 "$HERE/../tests/tools/pg_same.py" "$H" "$T/P" "$c" "$PGBIN/psql" -X -q -h "$PGD" -U hamlet -d hamlet |
		sed 's/^/  equal to export: /' || status=1
done
# a rebuild: the tables dropped, the sink writes every record from seq 0
kill "$SINK" 2>/dev/null; wait "$SINK" 2>/dev/null; SINK=
sql "DROP TABLE hamlet_meta, hamlet_checkpoint, hamlet_conflicts, health_profile, health_event, payment, registration"
t=$(now)
"$H" --home "$T/P" sink postgres --dsn "host=$PGD user=hamlet dbname=hamlet" --once >/dev/null || status=1
rebuild_s=$(secs "$t" "$(now)")
printf '  %-44s %s s (%s records/s)\n' "rebuild from seq 0 (--once, daemons idle)" "$rebuild_s" \
	"$(awk -v n="$N" -v s="$rebuild_s" 'BEGIN { printf "%.0f", n / s }')"
[ "$(in_pg)" = "$N" ] || { echo "  the rebuild holds $(in_pg) rows, not $N"; status=1; }
store=$(du -k "$T/P/store/data.mdb" | cut -f1)
pg=$(sql "SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['health_profile','payment','hamlet_conflicts','hamlet_checkpoint']::regclass[]) c")
printf '  %-44s %s MB (%s bytes a record)\n' "P's store (data.mdb)" "$((store / 1024))" "$((store * 1024 / N))"
printf '  %-44s %s MB (%s bytes a record)\n' "PostgreSQL tables and indexes" "$((pg / 1048576))" "$((pg / N))"
exit $status
