# Shared by the shell tests: counters, checks and the closing line.
# The checks write into $T, the test's scratch directory.
# Messages are matched in English: the C locale, whatever the caller's LANG.
export LC_ALL=C LANGUAGE=
# The system's python3 where there is one: a version manager's shim
# (pyenv) takes half a second to start, and the checks start python3
# hundreds of times.
# A python3 started in the background whose pid is kept (to signal or
# stop it) is started as "$PYTHON3": the function below runs in a subshell
# of its own there, and $! would be that subshell's pid, not python's.
PYTHON3=python3
if [ -x /usr/bin/python3 ]; then
	PYTHON3=/usr/bin/python3
	python3() { /usr/bin/python3 "$@"; }
	export -f python3
fi
passed=0 failed=0
# tests_scratch NAME: make $T, removed at exit (unless KEEP is set), after
# stopping the background process whose pid is in $bg, if any
tests_scratch() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-$1-XXXXXX")
	bg=
	trap tests_cleanup EXIT
	trap "exit 1" TERM INT HUP
}
tests_cleanup() {
	[ -n "$bg" ] && kill "$bg" 2>/dev/null && wait "$bg" 2>/dev/null
	daemons_stop
	[ "$failed" = 0 ] || tests_logs
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
# tests_logs: when a check failed, the last lines of each daemon's log,
# so that a failure seen only once (in CI) says what the daemons saw
tests_logs() {
	local f
	for f in "$T"/*.log; do
		[ -s "$f" ] || continue
		echo "daemon log ${f##*/}, its last 20 lines:"
		tail -n 20 "$f" | sed 's/^/    /'
	done
}

# certify ROOTKEY NAME [READ [WRITE]]: the network's root key certifies
# the node in $T/NAME to read and write its own scope (or READ, WRITE)
certify() {
	local root=$1 n=$2 scope key
	scope=$(sed -n 's/^scope = //p' "$T/$n/node.conf")
	key=$(sed -n 's/^public_key = //p' "$T/$n/node.conf")
	"$H" cert issue --root-key "$root" --to "$key" --name "$n" --role village \
		--read "${3:-$scope}" --write "${4:-$scope}" --out "$T/$n.cert" >/dev/null &&
		"$H" --home "$T/$n" cert install "$T/$n.cert" >/dev/null
}

# send FROM TO: by USB, as a courier carries it: TO's summary, FROM's
# bundle for it, imported at TO (its output in $T/FROM-TO.out)
send() {
	N "$2" summary --out "$T/$1-$2.sum" >/dev/null &&
		N "$1" bundle create --for "$T/$1-$2.sum" "$T/$1-$2.bundle" >/dev/null &&
		N "$2" bundle import "$T/$1-$2.bundle" >"$T/$1-$2.out" 2>&1
}

# faketime_lib: FT is libfaketime's path, or empty where it is not
# installed (the caller skips what needs it)
faketime_lib() {
	local f
	FT=
	for f in /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
		 /usr/lib/faketime/libfaketime.so.1 /usr/local/lib/faketime/libfaketime.so.1; do
		[ -r "$f" ] && FT=$f && return 0
	done
	return 1
}

# N NAME ARGS...: hamlet on the home $T/NAME
N() { local n=$1; shift; "$H" --home "$T/$n" "$@"; }
# key NAME: the public key of the node in $T/NAME
key() { sed -n 's/^public_key = //p' "$T/$1/node.conf"; }
# within SECS COMMAND...: the command succeeds within SECS seconds (polled
# every 0.2 s, at most SECS * 5 times; a slow command is not tried past
# SECS seconds, but at least twice)
within() {
	local s=$1 i end=$((SECONDS + $1 + 1)); shift
	for i in $(seq 1 $((s * 5))); do
		"$@" >/dev/null 2>&1 && return 0
		[ "$i" -ge 2 ] && [ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
	return 1
}
# never SECS COMMAND...: the command does not succeed for SECS seconds
never() { ! within "$@"; }
# issue NAME ROLE SCOPE ISSUER-ARGS...: certify $T/NAME to read and write
# SCOPE, signed as ISSUER-ARGS say (--root-key F or --issuer-home D, and
# --delegate...), and install it there
issue() {
	local n=$1 role=$2 s=$3; shift 3
	"$H" cert issue "$@" --to "$(key "$n")" --name "$n" --role "$role" \
		--read "$s" --write "$s" --out "$T/$n.cert" >/dev/null &&
		N "$n" cert install "$T/$n.cert" >/dev/null
}

# network_bk NAME:SCOPE...: network bk is created in $T ($T/bk.network,
# its root key $T/bk.root.key) and each NAME joins it with SCOPE
network_bk() {
	local spec n s
	check "network created" "$H" network create bk --out "$T"
	for spec; do
		n=${spec%%:*} s=${spec#*:}
		check "$n joins with scope $s" N "$n" init --network "$T/bk.network" --name "$n" --scope "$s"
	done
}

# needs COMMAND...: skip the test (77) unless every command is here
needs() {
	local c
	for c; do command -v "$c" >/dev/null || { echo "$c is missing: skipped"; exit 77; }; done
}
# http_node NETWORK: network NETWORK made in $T, its node a (scope
# bk/c1/a) certified by its root; W is a write token of a
http_node() {
	check "network created" "$H" network create "$1" --out "$T"
	check "node a" "$H" --home "$T/a" init --network "$T/$1.network" --name a --scope bk/c1/a
	check "the root certifies a" certify "$T/$1.root.key" a
	W=$("$H" --home "$T/a" token create --name writer --role write 2>/dev/null)
}

# --- daemons: $D is hamletd's path; each logs to $T/NAME.log ---
pids=()
daemons_stop() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
}
# port: a loopback port for one of this test's daemons or proxies. Under
# ctest each test has 96 of its own from $HAMLET_TEST_PORT_BASE
# (tests/CMakeLists.txt), given out in turn, so none is another test's
# and none of this test's is given twice in its first 96 (a peer still
# redialing a stopped daemon's port finds nobody there). Run alone, a
# random one. Both below the ephemeral range, which outgoing
# connections take ports from.
port() {
	local n=0
	if [ -n "${HAMLET_TEST_PORT_BASE:-}" ] && [ -d "${T:-}" ]; then
		[ -s "$T/.ports" ] && n=$(cat "$T/.ports")
		echo $((n + 1)) >"$T/.ports"
		echo $((HAMLET_TEST_PORT_BASE + n % 96))
	else
		echo $((20000 + RANDOM % 12000))
	fi
}
# logged_since N STRING FILE: STRING is on a line of FILE after its first
# N (read whole: no pipe that a grep -q closes early, which pipefail
# would count a failure)
logged_since() { awk -v n="$1" -v s="$2" 'NR > n && index($0, s) { f = 1 } END { exit !f }' "$3"; }
# ready_wait LOG PID [FROM [PORT]]: wait until the daemon PID (started by
# the caller, logging to LOG) says it is ready in a line after LOG's
# first FROM, and, with PORT, that it listens on 127.0.0.1:PORT. A
# daemon merely slow (sanitizers, a loaded machine) is waited for, up to
# 60 s. Returns 0 once ready; 1 when it exited first, or could not
# listen on PORT (taken); 2 when it runs but was not ready in time.
ready_wait() {
	local log=$1 pid=$2 from=${3:-0} port=${4:-} end=$((SECONDS + 61))
	for _ in $(seq 1 1200); do
		if logged_since "$from" "ready (" "$log" &&
		   { [ -z "$port" ] || logged_since "$from" "listening on 127.0.0.1:$port" "$log"; }; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null ||
		   { [ -n "$port" ] && logged_since "$from" "cannot listen on 127.0.0.1:$port" "$log"; }; then
			return 1
		fi
		[ "$SECONDS" -ge "$end" ] && return 2
		sleep 0.05
	done
	return 2
}
# launch NAME ARGS...: start hamletd on home $T/NAME and a fresh port and
# wait until it listens and its socket answers ("ready"); sets PORT and
# PID. Another port is tried (5 in all) only when the daemon exited or
# could not listen (the port taken); one that runs but is not ready
# within ready_wait's bound is a failure, no port's fault.
launch() {
	local n=$1 before r; shift
	for _ in 1 2 3 4 5; do
		PORT=$(port)
		: >>"$T/$n.log" # there before the daemon opens it, for the greps below
		# this start's lines alone: an earlier start's "ready" is not this one's
		before=$(wc -l <"$T/$n.log")
		"$D" --home "$T/$n" --listen 127.0.0.1:$PORT "$@" 2>>"$T/$n.log" &
		PID=$!
		ready_wait "$T/$n.log" "$PID" "$before" "$PORT" && r=0 || r=$?
		if [ "$r" = 0 ]; then
			pids+=("$PID")
			return 0
		fi
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
		[ "$r" = 1 ] || return 1
		: >"$T/$n.log" # the next try's lines alone
	done
	return 1
}
declare -A PIDOF PORTOF
# start NAME ARGS...: launch NAME's daemon, remembering its pid and port
start() {
	local n=$1
	if launch "$@"; then PIDOF[$n]=$PID; PORTOF[$n]=$PORT; return 0; fi
	return 1
}
# start_http NAME ARGS...: start NAME's daemon serving HTTP as well, on
# another fresh port (3 tries, in case that one is taken); sets HP
start_http() {
	local n=$1 _; shift
	for _ in 1 2 3; do
		HP=$(port)
		start "$n" --http 127.0.0.1:$HP "$@" && return 0
	done
	return 1
}
# stop NAME: stop NAME's daemon alone (SIGTERM); its exit status in
# STOPPED_RC
stop() {
	local n=$1 p=${PIDOF[$1]:-} keep=() q
	STOPPED_RC=
	[ -n "$p" ] || return 0
	kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; STOPPED_RC=$?
	for q in "${pids[@]}"; do [ "$q" != "$p" ] && keep+=("$q"); done
	pids=("${keep[@]}")
	PIDOF[$n]=
}
# proxy_start TO-PORT FAULTPROXY-ARGS...: $FP (tests/tools/faultproxy)
# listens on a free port $PX and forwards to TO-PORT as the arguments
# say; its pid is $PXPID, its log $T/proxy.log. Five ports are tried.
PXPID=
proxy_start() {
	local to=$1 _
	shift
	for _ in 1 2 3 4 5; do
		PX=$(port)
		: >"$T/proxy.log"
		"$FP" "$PX" "$to" "$@" >>"$T/proxy.log" 2>&1 &
		PXPID=$!
		within 5 grep -q "listening on" "$T/proxy.log" && return 0
		kill "$PXPID" 2>/dev/null; wait "$PXPID" 2>/dev/null
	done
	return 1
}
proxy_stop() { kill "$PXPID" 2>/dev/null; wait "$PXPID" 2>/dev/null; }

ok() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "FAILED - $1"; failed=$((failed + 1)); }
# check DESCRIPTION COMMAND...: the command succeeds
check() {
	local d=$1; shift
	if "$@" >"$T/out" 2>&1; then ok "$d"; else fail "$d"; sed 's/^/    /' "$T/out" | head -20; fi
}
# refuse DESCRIPTION EXIT PATTERN COMMAND...: the command exits with EXIT
# and prints PATTERN; what it printed stays in $T/refused
refuse() {
	local d=$1 code=$2 pat=$3 rc; shift 3
	"$@" >"$T/out" 2>&1
	rc=$?
	cp "$T/out" "$T/refused"
	if [ "$rc" != "$code" ]; then fail "$d (exit $rc, not $code)"; sed 's/^/    /' "$T/out" | head -20
	elif ! grep -q -- "$pat" "$T/out"; then fail "$d (no \"$pat\")"; sed 's/^/    /' "$T/out" | head -20
	else ok "$d"; fi
}
# the last line, and the exit status: 0 when nothing failed
tests_done() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}
