#!/usr/bin/env bash
# hamlet sink postgres against a real PostgreSQL (a private server on a
# Unix socket in the scratch directory). Two villages write profiles and
# payments that reach the province P by sync; the sink follows P while the
# sink is killed with SIGKILL three times, P's daemon once, and PostgreSQL
# restarts once; then the typed tables hold exactly what `hamlet export`
# says (rows and a checksum), a conflict is in hamlet_conflicts, a deletion
# and an erasure are marked (the erasure's rewrite of P's store is not held
# up by the sink), and another run has nothing left to write; records a
# revocation takes out of P leave the tables; --resync
# writes every record once more. A database that follows P refuses another
# node, P's home restored with an empty store, and tables of a newer
# layout; a bad DSN, a refused connection and a missing permission are
# named. P's store moved aside and filled again (a bundle from P, then
# more records) past PostgreSQL's checkpoint numbers its changes under
# another epoch: the sink refuses it, at start and while it follows, and
# --resync makes PostgreSQL equal to it again; tables of layout 1 (no
# epoch) are brought up to layout 2.
#   tests/scenario_pg.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1, PostgreSQL on a
# socket only; both are stopped at exit. Exit 77 (skip) without PostgreSQL.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
. "$(dirname "$0")/pglib.sh"
command -v python3 >/dev/null || { echo "python3 is missing: skipped"; exit 77; }
tests_scratch pg
trap 'pg_stop; tests_cleanup' EXIT
pg_setup >"$T/pg.txt" 2>&1 || { cat "$T/pg.txt"; echo "no PostgreSQL server can run here: skipped"; exit 77; }
ok "a private PostgreSQL runs on $PGD"
DB=postgres sql "CREATE DATABASE other" && DB=postgres sql "CREATE ROLE clerk LOGIN" ||
	{ fail "a second database and role made"; tests_done; exit 1; }
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
refuse "a DSN with a value libpq cannot take is named (exit 2), not retried" 2 'the --dsn gives port=abc, which is no value port takes' \
	timeout 30 "$H" --home "$T/P" sink postgres --dsn "host=$PGD port=abc dbname=hamlet"
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
# P's daemon too, started again on its port (the villages dial it there)
kill -9 "${PIDOF[P]}" 2>/dev/null; wait "${PIDOF[P]}" 2>/dev/null
"$D" --home "$T/P" --listen "127.0.0.1:${PORTOF[P]}" 2>>"$T/P.log" &
PIDOF[P]=$!; pids+=("$!")
check "P's daemon, killed with SIGKILL, serves again (10 s)" within 10 N P peers list
sleep 0.5
check "PostgreSQL restarts under the running sink" pg_restart_fast
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
# an erasure: its store is rewritten although the sink follows it
check "V1 writes a profile to erase" N V1 put health_profile HP-E1 '{"person_id":"900000000001","full_name":"Lo ERASEMEzq","birth_date":"1990-01-01"}'
check "it reaches P (30 s)" within 30 N P get health_profile HP-E1
check "P erases it" N P erase health_profile HP-E1 --reason "request of the person"
check "with the sink running, the name leaves P's store files (30 s)" within 30 bash -c "! grep -rqaF ERASEMEzq '$T/P/store'"
TOTAL=$((ROUNDS * ROWS))
check "P holds every record (30 s)" within 30 bash -c "[ \$('$H' --home '$T/P' export health_profile --format csv | grep -c '^HP-') = $TOTAL ] && [ \$('$H' --home '$T/P' export payment --format csv | grep -c '^PAY-') = $((TOTAL - 1)) ]"

# same COLLECTION: PostgreSQL's live rows equal P's export, cell by cell,
# and so their checksums
# (the node's home: $T/${OF:-P})
same() { python3 "$(dirname "$0")/tools/pg_same.py" "$H" "$T/${OF:-P}" "$1" "$PGBIN/psql" -X -q -h "$PGD" -U hamlet -d hamlet; }
check "the sink catches up: health_profile equals the export (30 s)" within 30 same health_profile
# the sink writes a page of changes a transaction, in the feed's order,
# and a record changed again moves to the feed's end: payment may be
# complete a page after health_profile
check "payment equals the export (30 s)" within 30 same payment
same health_profile | sed 's/^/    # /'
same payment | sed 's/^/    # /'
check "the sink reconnected after the restart" grep -q "reconnected to PostgreSQL at" "$T/sink.log"
# a server process that dies makes PostgreSQL end every session and
# recover (an OOM kill does so): the sink's idle session is gone
# without a word, and the sink connects again rather than exit
NREC=$(grep -c "reconnected to PostgreSQL at" "$T/sink.log")
"$PGBIN/psql" -X -q -h "$PGD" -U hamlet -d hamlet -c "SELECT pg_sleep(20)" >/dev/null 2>&1 &
SLEEPER=$!
check "a PostgreSQL session is under way (10 s)" within 10 bash -c "[ -n \"\$('$PGBIN/psql' -X -At -h '$PGD' -U hamlet -d hamlet -c \"SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND pid <> pg_backend_pid()\")\" ]"
BPID=$(sql "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND pid <> pg_backend_pid()" | head -1)
check "its server process is killed (SIGKILL): PostgreSQL restarts every session" kill -9 "$BPID"
wait "$SLEEPER" 2>/dev/null
check "P writes a profile after the crash" N P put health_profile HP-CR1 '{"person_id":"900000000002","full_name":"Lo CRASHzq","birth_date":"1990-01-01"}'
check "the sink connects again (60 s)" within 60 bash -c "[ \$(grep -c 'reconnected to PostgreSQL at' '$T/sink.log') -gt $NREC ]"
check "and writes the profile (60 s)" within 60 bash -c "[ \"\$('$PGBIN/psql' -X -At -h '$PGD' -U hamlet -d hamlet -c \"SELECT count(*) FROM health_profile WHERE id = 'HP-CR1'\")\" = 1 ]"
check "HP-0101's conflict is in hamlet_conflicts (10 s)" within 10 bash -c "[ \"\$('$PGBIN/psql' -X -At -h '$PGD' -U hamlet -d hamlet -c \"SELECT rule || ' ' || jsonb_array_length(candidates) FROM hamlet_conflicts WHERE collection = 'health_profile' AND id = 'HP-0101' AND field = 'phone'\")\" = 'mv 2' ]"
check "updated_at keeps the record's milliseconds" bash -c "[ \"\$('$PGBIN/psql' -X -At -h '$PGD' -U hamlet -d hamlet -c \"SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\\\"T\\\"HH24:MI:SS.MS\\\"Z\\\"') FROM health_profile WHERE id = 'HP-0101'\")\" = \"\$('$H' --home '$T/P' --json get health_profile HP-0101 | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"updated\"])')\" ]"
check "its row is marked conflicted, with both values" test "$(sql "SELECT conflicted, conflict_values::text LIKE '%0911111111%0922222222%' OR conflict_values::text LIKE '%0922222222%0911111111%' FROM health_profile WHERE id = 'HP-0101'")" = "t|t"
check "hamlet_conflicts holds what P's conflicts holds" test "$(sql "SELECT count(DISTINCT (collection, id)) FROM hamlet_conflicts")" = "$(N P conflicts --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j if isinstance(j, list) else j["records"]))')"
check "PAY-0101 is kept, marked deleted" test "$(sql "SELECT deleted FROM payment WHERE id = 'PAY-0101'")" = t
check "HP-E1's row says erased, why, and holds no field" test "$(sql "SELECT erased, full_name IS NULL AND person_id IS NULL, erase_reason FROM health_profile WHERE id = 'HP-E1'")" = "t|t|request of the person"
ERASED_AT=$(N P get health_profile HP-E1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["erasure"]["time"])')
check "its erased_at is the erasure's time, to the millisecond as get --json gives it" \
	test "$(sql "SELECT to_char(erased_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM health_profile WHERE id = 'HP-E1'")" = "$ERASED_AT"
check "columns are typed" test "$(sql "SELECT pg_typeof(birth_date)::text || ' ' || pg_typeof(amount_vnd)::text FROM health_profile, payment LIMIT 1")" = "date bigint"
check "the amounts add up as in the export" test "$(sql "SELECT sum(amount_vnd) FROM payment WHERE NOT deleted")" = "$(N P export payment --format ndjson | python3 -c 'import json,sys; print(sum(json.loads(l)["amount_vnd"] for l in sys.stdin))')"
check "provenance: V1's rows name V1, its key and scope" test "$(sql "SELECT DISTINCT author_name || ' ' || author_key || ' ' || scope FROM health_profile WHERE id NOT IN ('HP-0101', 'HP-CR1') AND NOT erased")" = "V1 $(key V1) bk/c1/v1"
check "every row holds its own change seq, none above the checkpoint" test "$(sql "SELECT count(*) = count(DISTINCT seq) AND max(seq) <= (SELECT seq FROM hamlet_checkpoint) FROM (SELECT seq FROM health_profile UNION ALL SELECT seq FROM payment) s")" = t
check "hamlet_meta says layout version 2" test "$(sql "SELECT value FROM hamlet_meta WHERE key = 'schema_version'")" = 2
# the checkpoint's columns, as docs/center-guide.md lists them
cp_columns() { sql "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'hamlet_checkpoint'"; }
CP_COLUMNS="one boolean, node_key text, node_name text, network text, seq bigint, updated_at timestamp with time zone, epoch text"
check "hamlet_checkpoint has the columns of layout 2" test "$(cp_columns)" = "$CP_COLUMNS"
EP=$(sql "SELECT epoch FROM hamlet_checkpoint")
check "the checkpoint keeps the epoch of P's numbering, 16 hex digits" bash -c "[[ '$EP' =~ ^[0-9a-f]{16}\$ ]]"
check "the checkpoint names P" test "$(sql "SELECT node_name || ' ' || node_key FROM hamlet_checkpoint")" = "p $(key P)"

# a cron job's sink --once, stopped while the following sink holds the
# database: it must not say done
"$H" --home "$T/P" --json sink postgres --dsn "$DSN" --once >"$T/once.out" 2>"$T/once.err" &
ONCE=$!
# two more wait it out (five tries, about 30 s) and give up: a stop, not
# a connection that fails (exit 5), in words and in JSON
timeout 120 "$H" --home "$T/P" sink postgres --dsn "$DSN" --once >"$T/once2.out" 2>"$T/once2.err" &
ONCE2=$!
timeout 120 "$H" --home "$T/P" --json sink postgres --dsn "$DSN" --once >"$T/once3.out" 2>"$T/once3.err" &
ONCE3=$!
check "a sink --once beside the running one waits, saying so (20 s)" within 20 grep -q "another hamlet sink is writing to PostgreSQL at .*: waiting until it stops; trying again in 1 s" "$T/once.err"
refuse "another node's home is refused at once while P's sink holds the database, not waited for (exit 4)" 4 "follows node p" timeout 20 "$H" --home "$T/V1" sink postgres --dsn "$DSN" --once
kill -TERM "$ONCE" 2>/dev/null; wait "$ONCE"
check "stopped while it waits, it exits 1" test $? = 1
check "and says stopped, not done" python3 -c 'import json,sys; ls=open(sys.argv[1]).read().splitlines(); e=[json.loads(l)["event"] for l in ls if l.strip()]; sys.exit(0 if e and e[-1] == "stopped" and "done" not in e else 1)' "$T/once.out"
wait "$ONCE2"
check "a sink --once that gives up waiting exits 1, not 5" test $? = 1
check "saying it stops waiting" bash -c "tail -n 1 '$T/once2.err' | grep -q 'another hamlet sink is writing to PostgreSQL at .*: this run stops waiting for it\$'"
check "and that it stopped before PostgreSQL held every change" grep -q "^stopped before PostgreSQL held every change: 0 records written in this run; run it again\$" "$T/once2.out"
wait "$ONCE3"
check "with --json it exits 1 too" test $? = 1
check "its last event is stopped" python3 -c 'import json,sys; ls=open(sys.argv[1]).read().splitlines(); e=[json.loads(l)["event"] for l in ls if l.strip()]; sys.exit(0 if e == ["stopped"] else 1)' "$T/once3.out"
check "its seq is null, not 0: it never read where PostgreSQL stands" python3 -c 'import json,sys; ls=[json.loads(l) for l in open(sys.argv[1]).read().splitlines() if l.strip()]; sys.exit(0 if ls and ls[-1]["seq"] is None else 1)' "$T/once3.out"
# a second following sink (a service started twice), stopped while it
# waits: it never read the checkpoint, so it names no seq
"$H" --home "$T/P" sink postgres --dsn "$DSN" >"$T/follow2.out" 2>"$T/follow2.err" &
FOLLOW2=$!
check "a second following sink waits, saying so (20 s)" within 20 grep -q "another hamlet sink is writing to PostgreSQL at .*: waiting until it stops" "$T/follow2.err"
kill -TERM "$FOLLOW2" 2>/dev/null; wait "$FOLLOW2"
check "stopped while it waits, it exits 0" test $? = 0
check "and says it stopped before it could read where PostgreSQL stands, naming no seq" \
	grep -qx "stopped on request before it could read where PostgreSQL stands (no record written in this run); the next run goes on from PostgreSQL's checkpoint" "$T/follow2.out"
kill "$SINKPID" 2>/dev/null; wait "$SINKPID"
check "the sink stops on SIGTERM with status 0" test $? = 0
check "and its last line says it stopped on request and the seq PostgreSQL holds" \
	bash -c "tail -n 1 '$T/sink.log' | grep -q '^stopped on request: PostgreSQL holds this node.s changes up to seq [1-9][0-9]* '"
bg=
check "another run has nothing left to write" bash -c "'$H' --home '$T/P' --json sink postgres --dsn '$DSN' --once | tail -n 1 | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"event\"] == \"done\" and j[\"written\"] == 0, j'"
# --- a row PostgreSQL refuses: the sink stops (exit 4), naming the table
# and the constraint, never the row's values; fixed, it goes on ---
check "the center adds a CHECK constraint on health_profile" sql "ALTER TABLE health_profile ADD CONSTRAINT no_refuse CHECK (full_name IS NULL OR full_name <> 'Lo REFUSEMEqx')"
check "V1 writes a profile the constraint refuses" N V1 put health_profile HP-R1 '{"person_id":"900000000077","full_name":"Lo REFUSEMEqx","birth_date":"1990-01-01"}'
check "it reaches P (30 s)" within 30 N P get health_profile HP-R1
"$H" --home "$T/P" --json sink postgres --dsn "$DSN" --once >"$T/refused.out" 2>"$T/refused.err"
check "the sink stops with exit 4 (the unit does not restart it)" test $? = 4
check "its message names the table and the constraint" grep -q "refused a row while writing records (table health_profile, constraint no_refuse, SQLSTATE 23514)" "$T/refused.err"
check "and says what to do" grep -q "change the table so that the node's records fit it" "$T/refused.err"
check "without the row's values (a person's data)" bash -c "! grep -q -e REFUSEME -e 900000000077 '$T/refused.err' '$T/refused.out'"
check "its JSON ends with the stopped event" python3 -c 'import json,sys; ls=open(sys.argv[1]).read().splitlines(); e=[json.loads(l)["event"] for l in ls if l.strip()]; sys.exit(0 if e and e[-1] == "stopped" else 1)' "$T/refused.out"
check "nothing of the batch was written" test "$(sql "SELECT count(*) FROM health_profile WHERE id = 'HP-R1'")" = 0
check "the constraint dropped" sql "ALTER TABLE health_profile DROP CONSTRAINT no_refuse"
check "the sink goes on from where it stopped" bash -c "'$H' --home '$T/P' --json sink postgres --dsn '$DSN' --once | tail -n 1 | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"event\"] == \"done\" and j[\"written\"] >= 1, j'"
check "and the row is there" test "$(sql "SELECT full_name FROM health_profile WHERE id = 'HP-R1'")" = "Lo REFUSEMEqx"
# a data exception (class 22) whose message quotes the value: not shown
check "the center adds a trigger that refuses a name, quoting it" sql "CREATE FUNCTION no_name() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN IF NEW.full_name = 'Lo QUOTEMEzq' THEN RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'bad name ' || NEW.full_name; END IF; RETURN NEW; END\$\$; CREATE TRIGGER no_name BEFORE INSERT OR UPDATE ON health_profile FOR EACH ROW EXECUTE FUNCTION no_name()"
check "V1 writes a profile the trigger refuses" N V1 put health_profile HP-R2 '{"person_id":"900000000078","full_name":"Lo QUOTEMEzq","birth_date":"1990-01-01"}'
check "it reaches P (30 s)" within 30 N P get health_profile HP-R2
"$H" --home "$T/P" sink postgres --dsn "$DSN" --once >"$T/refused2.out" 2>"$T/refused2.err"
check "the sink stops with exit 4" test $? = 4
check "naming the table and the SQLSTATE, not PostgreSQL's words, which quote the value" bash -c "grep -q 'refused a row while writing records (table health_profile, SQLSTATE 22023): the database refused a value of the row' '$T/refused2.err' && ! grep -q QUOTEME '$T/refused2.err' '$T/refused2.out'"
check "the trigger dropped, the sink goes on" bash -c "psql_ok() { '$PGBIN/psql' -X -q -At -h '$PGD' -U hamlet -d hamlet -v ON_ERROR_STOP=1 -c 'DROP TRIGGER no_name ON health_profile; DROP FUNCTION no_name()'; }; psql_ok && '$H' --home '$T/P' sink postgres --dsn '$DSN' --once >/dev/null"
# a column whose type was changed: refused at start, naming it
check "the center changes payment.amount_vnd to text" sql "ALTER TABLE payment ALTER COLUMN amount_vnd TYPE text USING amount_vnd::text"
refuse "the sink refuses to start (exit 4), naming the column, both types and the ALTER that mends it" 4 \
	'column payment.amount_vnd in PostgreSQL at .* is of type text, where the sink writes bigint: .*ALTER TABLE payment ALTER COLUMN amount_vnd TYPE bigint' \
	"$H" --home "$T/P" sink postgres --dsn "$DSN" --once
check "changed back, the sink runs" bash -c "'$PGBIN/psql' -X -q -At -h '$PGD' -U hamlet -d hamlet -v ON_ERROR_STOP=1 -c 'ALTER TABLE payment ALTER COLUMN amount_vnd TYPE bigint USING amount_vnd::bigint' && '$H' --home '$T/P' sink postgres --dsn '$DSN' --once >/dev/null"
# --- records P takes out leave PostgreSQL too ---
# V3's key is revoked through V1, which holds none of its entries: the
# revocation keeps none of them, and P, when it gets it, takes V3's
# records out; the sink deletes their rows (one of two ops, one of one)
check "V3 joins with scope bk/c3/v3" N V3 init --network "$T/bk.network" --name v3 --scope bk/c3/v3
check "the root certifies V3" issue V3 village bk/c3/v3 --root-key "$ROOT"
check "V3 writes a profile" N V3 put health_profile HP-X1 '{"person_id":"900000000031","full_name":"Lo GONEzq","birth_date":"1990-01-01"}'
check "and edits it" N V3 put health_profile HP-X1 '{"phone":"0933333333"}'
check "and writes another" N V3 put health_profile HP-X2 '{"person_id":"900000000032","full_name":"Lo GONE2zq","birth_date":"1990-01-01"}'
check "P holds them, by USB" send V3 P
check "the sink copies them" N P sink postgres --dsn "$DSN" --once
xrows() { sql "SELECT count(*) FROM health_profile WHERE id IN ('HP-X1', 'HP-X2')"; }
check "PostgreSQL holds V3's two profiles" test "$(xrows)" = 2
refuse "the root's revocation of V3 through V1, which does not read V3's scope, is refused, naming the scope and --drop-unheld" 4 \
	"this node does not read bk/c3/v3, where key $(key V3) writes: .*add --drop-unheld" \
	N V1 cert revoke "$(key V3)" --root-key "$ROOT" --reason "PC stolen"
check "the root revokes V3 through V1 with --drop-unheld, keeping none of its entries" N V1 cert revoke "$(key V3)" --root-key "$ROOT" --reason "PC stolen" --drop-unheld
check "P takes V3's profiles out (30 s)" within 30 bash -c "! '$H' --home '$T/P' get health_profile HP-X1 && ! '$H' --home '$T/P' get health_profile HP-X2"
N P sink postgres --dsn "$DSN" --once >"$T/gone.out" 2>&1
check "the sink says it removed their rows, as records P no longer holds" grep -qx "2 rows removed from PostgreSQL: records this node no longer holds (2 in all)" "$T/gone.out"
check "PostgreSQL no longer holds them" test "$(xrows)" = 0
check "health_profile equals P's export again" same health_profile
check "another run has nothing left to write or remove" bash -c "'$H' --home '$T/P' --json sink postgres --dsn '$DSN' --once | tail -n 1 | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"event\"] == \"done\" and j[\"written\"] == 0 and j[\"removed\"] == 0, j'"
# in Vietnamese: the progress lines are, --json is not translated
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\{0,1\}8'; then
	VI="env -u LANGUAGE -u LC_ALL -u LC_MESSAGES LANG=vi_VN.UTF-8"
	EN="env -u LANGUAGE -u LC_ALL -u LC_MESSAGES LANG=C"
	check "in Vietnamese the sink says what it did" bash -c "$VI '$H' --home '$T/P' sink postgres --dsn '$DSN' --once | grep -q '^xong: PostgreSQL đã giữ các thay đổi của nút này đến seq [0-9]* (đã ghi 0 bản ghi)$'"
	check "sink --json is the same bytes under LANG=C and vi_VN.UTF-8" bash -c "cmp <($EN '$H' --home '$T/P' --json sink postgres --dsn '$DSN' --once) <($VI '$H' --home '$T/P' --json sink postgres --dsn '$DSN' --once)"
else
	echo "# skipped the Vietnamese checks: no vi_VN.UTF-8 locale (build.sh makes it)"
fi
ROWS_ALL=$(sql "SELECT (SELECT count(*) FROM health_profile) + (SELECT count(*) FROM payment)")
check "--resync writes every record again, once" bash -c "'$H' --home '$T/P' --json sink postgres --dsn '$DSN' --once --resync | tail -n 1 | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"written\"] == $ROWS_ALL, j'"
check "after it the tables still equal the export" same health_profile
# P's home restored with an empty store: its changes are numbered anew
check "an empty store" N R0 init --network "$T/bk.network" --name r0 --scope bk
mkdir -p "$T/R" && cp -a "$T/P/node.conf" "$T/P/node.key" "$T/P/network.conf" "$T/P/access" "$T/R0/store" "$T/R/"
refuse "P restored with an empty store: the sink stops, says why and what to do (exit 4)" 4 "its store was restored or rebuilt since; run .* sink postgres --dsn DSN --resync --once\" (DSN: the one given here)" N R sink postgres --dsn "$DSN" --once
sql "UPDATE hamlet_meta SET value = '3' WHERE key = 'schema_version'"
refuse "tables of a newer layout are refused (exit 4)" 4 "layout version 3, this hamlet writes version 2: upgrade hamlet" N P sink postgres --dsn "$DSN" --once
[ -z "${VI:-}" ] || refuse "... and say so in Vietnamese" 4 "có cấu trúc phiên bản 3, còn hamlet này ghi phiên bản 2: hãy nâng cấp hamlet" $VI "$H" --home "$T/P" sink postgres --dsn "$DSN" --once
sql "UPDATE hamlet_meta SET value = 'abc' WHERE key = 'schema_version'"
refuse "a schema_version that is no number is named as such, not as a version (exit 4)" 4 "gives schema_version \"abc\", which is not a layout version (damaged): drop the hamlet tables" N P sink postgres --dsn "$DSN" --once
sql "DELETE FROM hamlet_meta"
refuse "a hamlet_meta without its schema_version row is named as such (exit 4)" 4 "has no schema_version row, so the layout of the hamlet tables there is unknown (damaged)" N P sink postgres --dsn "$DSN" --once
sql "INSERT INTO hamlet_meta VALUES ('schema_version', '2')"
refuse "the database refuses another node's home (exit 4)" 4 "follows node p" N V1 sink postgres --dsn "$DSN" --once
check "health reads by the sink are in P's access log" bash -c "'$H' --home '$T/P' access-log | grep -q 'sink postgres'"
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\{0,1\}8'; then
	check "and in Vietnamese, the log says in Vietnamese what they copied" bash -c "LC_ALL=vi_VN.UTF-8 '$H' --home '$T/P' access-log | grep -q ' sink postgres health_profile (các thay đổi sau seq [0-9]* đến seq [0-9]*, chép vào PostgreSQL tại .*): [0-9]* bản ghi\$'"
fi

# --- P's store lost, moved aside, and filled again past the checkpoint ---
# (docs/center-guide.md, "Restoring"): Q is P's home with its store moved
# aside; a bundle of everything P holds fills it again, then as many new
# records as PostgreSQL's checkpoint seq, so that its new numbering has
# passed the old one and only the epoch tells them apart
CP=$(sql "SELECT seq FROM hamlet_checkpoint")
mkdir -p "$T/Q" && cp -a "$T/P/node.conf" "$T/P/node.key" "$T/P/node.cert" "$T/P/network.conf" "$T/P/own-feeds" "$T/P/access" "$T/Q/"
check "P writes a bundle of everything it holds, sealed to its own key" N P bundle create --seal-to "$(key P)" "$T/p.bundle"
check "P's home with its store moved aside imports it" N Q bundle import "$T/p.bundle"
{ echo "id,person_id,full_name,birth_date,village"
  for k in $(seq 1 "$CP"); do printf 'HP-Q%05d,8%011d,Ha Van %d,1980-01-01,Na Pai\n' "$k" "$k" "$k"; done
} >"$T/q.csv"
check "and writes $CP new profiles: its changes are numbered past seq $CP" N Q import health_profile --format csv "$T/q.csv"
refuse "the sink stops: the store numbers its changes under another epoch, and it says what to do (exit 4)" 4 \
	"holds this node's changes up to seq $CP numbered under epoch $EP, but the node's store now numbers its changes under epoch [0-9a-f]\{16\}: its store was restored or rebuilt since; run .* sink postgres --dsn DSN --resync --once\" (DSN: the one given here)" \
	N Q sink postgres --dsn "$DSN" --once
check "having written nothing" test "$(sql "SELECT seq || ' ' || epoch FROM hamlet_checkpoint")" = "$CP $EP"
[ -z "${VI:-}" ] || refuse "... and says so in Vietnamese" 4 "theo kỷ nguyên (epoch) $EP, nhưng kho dữ liệu của nút nay đánh số" $VI "$H" --home "$T/Q" sink postgres --dsn "$DSN" --once
check "--resync --once writes every record again" N Q sink postgres --dsn "$DSN" --resync --once
OF=Q check "then health_profile equals the refilled node's export" same health_profile
OF=Q check "and payment too" same payment
CQ=$(sql "SELECT seq FROM hamlet_checkpoint") EQ=$(sql "SELECT epoch FROM hamlet_checkpoint")
check "the checkpoint holds the new epoch" bash -c "[[ '$EQ' =~ ^[0-9a-f]{16}\$ && '$EQ' != '$EP' ]]"
check "the next run goes on from there, with nothing to write" bash -c "'$H' --home '$T/Q' --json sink postgres --dsn '$DSN' --once | tail -n 1 | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"event\"] == \"done\" and j[\"written\"] == 0, j'"
# tables of layout 1, as the hamlet before the epoch made them
sql "ALTER TABLE hamlet_checkpoint DROP COLUMN epoch; UPDATE hamlet_meta SET value = '1' WHERE key = 'schema_version'"
check "tables of layout 1 are brought up to layout 2 in place" N Q sink postgres --dsn "$DSN" --once
check "hamlet_meta says so" test "$(sql "SELECT value FROM hamlet_meta WHERE key = 'schema_version'")" = 2
check "hamlet_checkpoint has the columns of tables made at layout 2" test "$(cp_columns)" = "$CP_COLUMNS"
check "and the checkpoint takes the store's epoch" test "$(sql "SELECT seq || ' ' || epoch FROM hamlet_checkpoint")" = "$CQ $EQ"
# the store made again under a following sink: held still while its store
# is swapped for an empty one, so that it never finds none
cp -a "$T/R0/store" "$T/Q/store.empty"
"$H" --home "$T/Q" sink postgres --dsn "$DSN" >"$T/qsink.log" 2>&1 &
QSINK=$!; bg=$QSINK
check "a sink follows the refilled store" within 10 grep -q "^following node p" "$T/qsink.log"
kill -STOP "$QSINK"
mv "$T/Q/store" "$T/Q/store.refilled" && mv "$T/Q/store.empty" "$T/Q/store"
kill -CONT "$QSINK"
check "when the store is made again under it, it stops (10 s)" within 10 bash -c "! kill -0 $QSINK"
kill "$QSINK" 2>/dev/null # one that went on following
wait "$QSINK"
check "with exit 4" test $? = 4
bg=
check "saying the store now numbers its changes under another epoch" grep -q "numbered under epoch $EQ, but the node's store now numbers its changes under epoch 0000000000000000: its store was restored or rebuilt since" "$T/qsink.log"

daemons_stop
tests_done
