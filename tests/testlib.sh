# Shared by the shell tests: counters, checks and the closing line.
# Source it once $T (the test's scratch directory) is set.
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "FAILED - $1"; failed=$((failed + 1)); }
# check DESCRIPTION COMMAND...: the command succeeds
check() {
	local d=$1; shift
	if "$@" >"$T/out" 2>&1; then ok "$d"; else fail "$d"; sed 's/^/    /' "$T/out" | head -20; fi
}
# refuse DESCRIPTION EXIT PATTERN COMMAND...: the command exits with EXIT
# and prints PATTERN
refuse() {
	local d=$1 code=$2 pat=$3 rc; shift 3
	"$@" >"$T/out" 2>&1
	rc=$?
	if [ "$rc" != "$code" ]; then fail "$d (exit $rc, not $code)"; sed 's/^/    /' "$T/out" | head -20
	elif ! grep -q -- "$pat" "$T/out"; then fail "$d (no \"$pat\")"; sed 's/^/    /' "$T/out" | head -20
	else ok "$d"; fi
}
# the last line, and the exit status: 0 when nothing failed
tests_done() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}
