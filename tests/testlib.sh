# Shared by the shell tests: counters, checks and the closing line.
# The checks write into $T, the test's scratch directory.
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
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
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
