# A private PostgreSQL for scenario_pg and bench/pg.sh: a server of the
# installed version in a temporary directory, on a Unix socket there only
# (no TCP), run as nobody when we are root (PostgreSQL refuses root).
#   pg_setup || exit 77   sets PGBIN, PGD; prints why and returns 1 when
#                         no server can run here
#   pg_stop               stops it (immediately) and removes its files
#   pg_restart_fast       a clean stop, then a start
#   sql "STATEMENT"       psql on database ${DB:-hamlet}, unaligned
pg_setup() {
	PGBIN=$(pg_config --bindir 2>/dev/null)
	[ -x "$PGBIN/initdb" ] || PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if ! [ -x "${PGBIN:-}/initdb" ] || ! [ -x "$PGBIN/pg_ctl" ] || ! [ -x "$PGBIN/psql" ]; then
		echo "PostgreSQL's initdb, pg_ctl and psql are not installed (Debian package postgresql)"
		return 1
	fi
	PGD=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-pgdata-XXXXXX")
	if [ "$(id -u)" = 0 ]; then
		if ! command -v runuser >/dev/null; then
			echo "running as root without runuser: PostgreSQL cannot run unprivileged"
			rm -rf "$PGD"; PGD=; return 1
		fi
		as_pg() { runuser -u nobody -- "$@"; }
		chown nobody "$PGD" && chmod 0755 "$PGD"
		if ! as_pg test -w "$PGD"; then
			# $TMPDIR is closed to nobody: /tmp is not
			rm -rf "$PGD"
			PGD=$(mktemp -d /tmp/hamlet-pgdata-XXXXXX)
			chown nobody "$PGD" && chmod 0755 "$PGD"
		fi
	else
		as_pg() { "$@"; }
	fi
	if ! as_pg "$PGBIN/initdb" -D "$PGD/data" -A trust -U hamlet --no-sync >"$PGD/initdb.log" 2>&1; then
		tail -5 "$PGD/initdb.log"; echo "initdb failed (above)"
		rm -rf "$PGD"; PGD=; return 1
	fi
	if ! pg_start; then
		tail -5 "$PGD/log"; echo "PostgreSQL does not start here (above)"
		pg_stop; return 1
	fi
	DB=postgres sql "CREATE DATABASE hamlet"
}
pg_start() {
	as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/log" -w -t 20 \
		-o "-k $PGD -c listen_addresses='' -c fsync=off" start >/dev/null
}
pg_stop() {
	[ -n "${PGD:-}" ] || return 0
	as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -m immediate stop >/dev/null 2>&1
	rm -rf "$PGD"; PGD=
}
pg_restart_fast() {
	as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -m fast stop >/dev/null 2>&1 || return 1
	sleep 1 # the sink finds the server gone, and waits
	pg_start
}
sql() { "$PGBIN/psql" -X -q -At -h "$PGD" -U hamlet -d "${DB:-hamlet}" -v ON_ERROR_STOP=1 -c "$1"; }
