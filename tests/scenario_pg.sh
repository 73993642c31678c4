#!/usr/bin/env bash
# hamlet sink postgres against a real PostgreSQL (a private server on a
# Unix socket in the scratch directory). Two villages write profiles and
# payments that reach the province P by sync; the sink follows P while the
# sink is killed with SIGKILL three times and PostgreSQL restarts once; then
# the typed tables hold exactly what `hamlet export` says (rows and a
# checksum), a conflict is in hamlet_conflicts, a deletion is marked, and
# another run has nothing left to write. A database that follows P refuses
# another node; a bad DSN, a refused connection and a missing permission
# are named.
#   tests/scenario_pg.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1, PostgreSQL on a
# socket only; both are stopped at exit. Exit 77 (skip) without PostgreSQL.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
PGBIN=$(pg_config --bindir 2>/dev/null)
[ -x "$PGBIN/initdb" ] || PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "${PGBIN:-}/initdb" ] && [ -x "$PGBIN/pg_ctl" ] && [ -x "$PGBIN/psql" ] ||
	{ echo "PostgreSQL's initdb, pg_ctl and psql are not installed (Debian package postgresql): skipped"; exit 77; }
command -v python3 >/dev/null || { echo "python3 is missing: skipped"; exit 77; }
tests_scratch pg

# --- a private PostgreSQL, as an unprivileged user when run as root ---
PGD=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-pgdata-XXXXXX")
as_pg() { "$@"; }
if [ "$(id -u)" = 0 ]; then
	command -v runuser >/dev/null || { rm -rf "$PGD"; echo "root without runuser: cannot run PostgreSQL unprivileged: skipped"; exit 77; }
	chown nobody "$PGD" && chmod 0755 "$PGD"
	as_pg() { runuser -u nobody -- "$@"; }
fi
pg_stop() { as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -m immediate stop >/dev/null 2>&1; rm -rf "$PGD"; }
trap 'pg_stop; tests_cleanup' EXIT
if ! as_pg "$PGBIN/initdb" -D "$PGD/data" -A trust -U hamlet --no-sync >"$T/initdb.log" 2>&1; then
	sed 's/^/    /' "$T/initdb.log" | tail -5
	echo "initdb failed (above): skipped"; exit 77
fi
pg_start() { as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/log" -w -t 20 \
	-o "-k $PGD -c listen_addresses='' -c fsync=off" start >/dev/null; }
pg_start || { tail -5 "$PGD/log"; echo "PostgreSQL does not start here (above): skipped"; exit 77; }
ok "a private PostgreSQL runs on $PGD"
sql() { "$PGBIN/psql" -X -q -At -h "$PGD" -U hamlet -d "${DB:-hamlet}" -v ON_ERROR_STOP=1 -c "$1"; }
DB=postgres sql "CREATE DATABASE hamlet" && DB=postgres sql "CREATE DATABASE other" &&
	DB=postgres sql "CREATE ROLE clerk LOGIN" || { fail "databases made"; tests_done; exit 1; }
DSN="host=$PGD user=hamlet dbname=hamlet"

# --- a province and two villages ---
ROOT=$T/bk.root.key
check "network created" "$H" network create bk --out "$T"
for spec in P:bk V1:bk/c1/v1 V2:bk/c2/v2; do
	n=${spec%%:*} s=${spec#*:}
	check "$n joins with scope $s" N "$n" init --network "$T/bk.network" --name "${n,,}" --scope "$s"
done
check "the root certifies P" issue P province bk --root-key "$ROOT" --delegate
check "the root certifies V1" issue V1 village bk/c1/v1 --root-key "$ROOT"
check "the root certifies V2" issue V2 village bk/c2/v2 --root-key "$ROOT"
start P && ok "P's daemon listens" || fail "P's daemon listens"
start V1 --peer 127.0.0.1:${PORTOF[P]} && ok "V1 dials P" || fail "V1 dials P"
start V2 --peer 127.0.0.1:${PORTOF[P]} && ok "V2 dials P" || fail "V2 dials P"

refuse "a DSN that does not parse is named (exit 2)" 2 "not a PostgreSQL connection string" N P sink postgres --dsn "host=$PGD nonsense" --once
refuse "a refused connection is named (exit 5)" 5 "cannot connect to PostgreSQL at $T/nowhere" N P sink postgres --dsn "host=$T/nowhere dbname=hamlet" --once
refuse "a role that may not create the tables is named (exit 5)" 5 "permission denied for schema public" N P sink postgres --dsn "host=$PGD user=clerk dbname=other" --once

# --- records arrive while the sink is killed and PostgreSQL restarts ---
SINKPID=
# the sink itself in the background (not a function's subshell), so that
# its pid is the one killed; tests_cleanup stops the last one
sink_start() { "$H" --home "$T/P" sink postgres --dsn "$DSN" >>"$T/sink.log" 2>&1 & SINKPID=$!; bg=$SINKPID; }
sink_start
ROUNDS=6 ROWS=100
(
	for r in $(seq 1 $ROUNDS); do
		{ echo "id,person_id,full_name,birth_date,village"
		  for i in $(seq 1 $ROWS); do k=$((r * 100 + i))
			printf 'HP-%04d,%012d,Lo Van %d,19%02d-0%d-1%d,Na Pai\n' $k $k $k $((k % 90 + 10)) $((k % 9 + 1)) $((k % 9)); done
		} >"$T/v1-$r.csv"
		N V1 import health_profile --format csv "$T/v1-$r.csv" >/dev/null 2>&1 || echo "V1 import $r failed"
		{ echo "id,program,beneficiary_id,period,amount_vnd,status"
		  for i in $(seq 1 $ROWS); do k=$((r * 100 + i))
			printf 'PAY-%04d,social_allowance,%012d,2026-0%d,%d,created\n' $k $k $((r % 9 + 1)) $((k * 1000)); done
		} >"$T/v2-$r.csv"
		N V2 import payment --format csv "$T/v2-$r.csv" >/dev/null 2>&1 || echo "V2 import $r failed"
		sleep 0.4
	done
) >"$T/writers.log" 2>&1 &
WRITERS=$!
for k in 1 2 3; do
	sleep 0.$((3 + k * 2))
	kill -9 "$SINKPID" 2>/dev/null; wait "$SINKPID" 2>/dev/null
	sink_start
done
ok "the sink was killed with SIGKILL 3 times while records arrived"
sleep 0.5
if as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -m fast stop >/dev/null 2>&1; then
	sleep 1 # the sink finds the server gone, and waits
	pg_start && ok "PostgreSQL restarted under the running sink" || fail "PostgreSQL restarted"
else
	fail "PostgreSQL stopped"
fi
wait "$WRITERS"
check "the villages wrote every batch" test ! -s "$T/writers.log"

# --- a conflict: V1, offline, and P edit one profile ---
check "P holds V1's profile HP-0101 (30 s)" within 30 N P get health_profile HP-0101
stop V1
check "V1, offline, edits HP-0101's phone" N V1 put health_profile HP-0101 '{"phone":"0911111111"}'
check "P edits it meanwhile" N P put health_profile HP-0101 '{"phone":"0922222222"}'
start V1 --peer 127.0.0.1:${PORTOF[P]} && ok "V1 dials P again" || fail "V1 dials P again"
check "P sees the conflict (30 s)" within 30 bash -c "'$H' --home '$T/P' conflicts | grep -q HP-0101"
check "P deletes payment PAY-0101" N P delete payment PAY-0101
TOTAL=$((ROUNDS * ROWS))
check "P holds every record (30 s)" within 30 bash -c "[ \$('$H' --home '$T/P' export health_profile --format csv | grep -c '^HP-') = $TOTAL ] && [ \$('$H' --home '$T/P' export payment --format csv | grep -c '^PAY-') = $((TOTAL - 1)) ]"

# same COLLECTION: PostgreSQL's live rows equal P's export, cell by cell
# (an unset field is an empty cell in both), and so their checksums
cat >"$T/same.py" <<'EOF'
import csv, hashlib, io, subprocess, sys
h, home, coll = sys.argv[1:4]
psql = sys.argv[4:]
exp = subprocess.run([h, "--home", home, "export", coll, "--format", "csv"],
                     check=True, capture_output=True, text=True).stdout
rows = list(csv.reader(io.StringIO(exp)))
cols = rows[0]
want = sorted(tuple(r) for r in rows[1:])
q = "COPY (SELECT %s FROM %s WHERE NOT deleted AND NOT erased) TO STDOUT WITH CSV" % (
    ", ".join('"%s"' % c for c in cols), coll)
got = sorted(tuple(r) for r in csv.reader(io.StringIO(subprocess.run(
    psql + ["-c", q], check=True, capture_output=True, text=True).stdout)))
digest = lambda rs: hashlib.sha256(repr(rs).encode()).hexdigest()
if got != want:
    print("%s: PostgreSQL %d rows (sha256 %s), export %d (sha256 %s)" % (
        coll, len(got), digest(got)[:16], len(want), digest(want)[:16]))
    print("  missing:", sorted(set(want) - set(got))[:3])
    print("  extra:  ", sorted(set(got) - set(want))[:3])
    sys.exit(1)
print("%s: %d rows, sha256 %s in both" % (coll, len(got), digest(got)[:16]))
EOF
same() { python3 "$T/same.py" "$H" "$T/P" "$1" "$PGBIN/psql" -X -q -h "$PGD" -U hamlet -d hamlet; }
check "the sink catches up: health_profile equals the export (30 s)" within 30 same health_profile
check "payment equals the export" same payment
same health_profile | sed 's/^/    # /'
same payment | sed 's/^/    # /'
check "the sink reconnected after the restart" grep -q "reconnected to PostgreSQL at" "$T/sink.log"
check "HP-0101's conflict is in hamlet_conflicts (10 s)" within 10 bash -c "[ \"\$('$PGBIN/psql' -X -At -h '$PGD' -U hamlet -d hamlet -c \"SELECT rule || ' ' || jsonb_array_length(candidates) FROM hamlet_conflicts WHERE collection = 'health_profile' AND id = 'HP-0101' AND field = 'phone'\")\" = 'mv 2' ]"
check "its row is marked conflicted, with both values" test "$(sql "SELECT conflicted, conflict_values::text LIKE '%0911111111%0922222222%' OR conflict_values::text LIKE '%0922222222%0911111111%' FROM health_profile WHERE id = 'HP-0101'")" = "t|t"
check "hamlet_conflicts holds what P's conflicts holds" test "$(sql "SELECT count(DISTINCT (collection, id)) FROM hamlet_conflicts")" = "$(N P conflicts --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j if isinstance(j, list) else j["records"]))')"
check "PAY-0101 is kept, marked deleted" test "$(sql "SELECT deleted FROM payment WHERE id = 'PAY-0101'")" = t
check "columns are typed" test "$(sql "SELECT pg_typeof(birth_date)::text || ' ' || pg_typeof(amount_vnd)::text FROM health_profile, payment LIMIT 1")" = "date bigint"
check "the amounts add up as in the export" test "$(sql "SELECT sum(amount_vnd) FROM payment WHERE NOT deleted")" = "$(N P export payment --format ndjson | python3 -c 'import json,sys; print(sum(json.loads(l)["amount_vnd"] for l in sys.stdin))')"
check "provenance: V1's rows name V1, its key and scope" test "$(sql "SELECT DISTINCT author_name || ' ' || author_key || ' ' || scope FROM health_profile WHERE id <> 'HP-0101'")" = "V1 $(key V1) bk/c1/v1"
check "every row holds its own change seq, none above the checkpoint" test "$(sql "SELECT count(*) = count(DISTINCT seq) AND max(seq) <= (SELECT seq FROM hamlet_checkpoint) FROM (SELECT seq FROM health_profile UNION ALL SELECT seq FROM payment) s")" = t
check "hamlet_meta says layout version 1" test "$(sql "SELECT value FROM hamlet_meta WHERE key = 'schema_version'")" = 1
check "the checkpoint names P" test "$(sql "SELECT node_name || ' ' || node_key FROM hamlet_checkpoint")" = "p $(key P)"

kill "$SINKPID" 2>/dev/null; wait "$SINKPID"
check "the sink stops on SIGTERM with status 0" test $? = 0
bg=
check "another run has nothing left to write" bash -c "'$H' --home '$T/P' --json sink postgres --dsn '$DSN' --once | tail -n 1 | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"event\"] == \"done\" and j[\"written\"] == 0, j'"
refuse "the database refuses another node's home (exit 4)" 4 "follows node p" N V1 sink postgres --dsn "$DSN" --once
check "health reads by the sink are in P's access log" bash -c "'$H' --home '$T/P' access-log | grep -q 'sink postgres'"

daemons_stop
tests_done
