#!/usr/bin/env bash
# Progress lines on long work: CSV import, bundle create and import, and
# verify each draw "WHAT: DONE / TOTAL UNITS, RATE/s, ..." on stderr when
# it is a terminal (a pseudo-terminal from script(1)), ending on
# "WHAT: TOTAL UNITS in S s, RATE/s", and nothing at all
# when stderr is a file or --json is given.
#   tests/test_progress.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
. "$(dirname "$0")/testlib.sh"
tests_scratch progress
# tty NAME ARGS...: hamlet on $T/NAME under a pseudo-terminal; all it
# wrote (stdout and stderr alike) lands in $T/tty
tty() {
	local n=$1 q; shift
	q=$(printf '%q ' "$H" --home "$T/$n" "$@")
	script -qfec "$q" /dev/null >"$T/tty" 2>&1
}
# quiet NAME ARGS...: the same without a terminal; stderr in $T/err
quiet() { local n=$1; shift; "$H" --home "$T/$n" "$@" >"$T/out" 2>"$T/err"; }
has() { grep -qE "$1" "$T/tty"; }
none() { ! grep -qE "$1" "$T/err"; }

check "network created" "$H" network create pr --out "$T"
check "node a" N a init --network "$T/pr.network" --name a --scope pr/a
check "node b" N b init --network "$T/pr.network" --name b --scope pr/b
check "a certified" certify "$T/pr.root.key" a
check "b certified to read a" certify "$T/pr.root.key" b pr pr/b
{
	echo "id,person_id,full_name,birth_date,sex,village,phone"
	for i in $(seq 1 1500); do
		printf 'HP-%04d,%012d,Nguyen Van %d,1990-01-01,male,a,09%08d\n' "$i" "$i" "$i" "$i"
	done
} >"$T/p.csv"
head -501 "$T/p.csv" >"$T/p500.csv"

check "a CSV import on a terminal runs" tty a import health_profile --format csv "$T/p500.csv"
check "it shows records done of the total, a rate and the time left" has 'importing: 500 / 500 records, [0-9,]+/s, (about [0-9]+ (s|min|h) left|time left unknown)'
check "a CSV import without a terminal runs" quiet a import health_profile --format csv "$T/p.csv"
check "it prints no progress" none 'importing|records, [0-9,]+/s'
check "its stderr holds no carriage return" bash -c "! grep -q $'\r' '$T/err'"

check "bundle create on a terminal runs" tty a bundle create --unsealed "$T/a.bundle"
check "it shows entries written" has 'writing the bundle: [0-9,]+ / 1,500 entries'
check "and ends on all of them, with the time taken" has 'writing the bundle: 1,500 entries in [0-9]+\.[0-9] s, [0-9,]+/s'
check "bundle create without a terminal runs" quiet a bundle create --unsealed "$T/a2.bundle"
check "it prints no progress" none 'writing the bundle'

check "bundle import on a terminal runs" tty b bundle import "$T/a.bundle"
check "it shows bytes read of the file's size" has 'importing: [0-9.]+ [kMG]?B / [0-9.]+ [kMG]?B, '
check "bundle import with --json on a terminal runs" tty b bundle import "$T/a.bundle" --json
check "it shows no progress" bash -c "! grep -q 'importing:' '$T/tty'"

check "verify --bundle on a terminal runs" tty b verify --bundle "$T/a.bundle"
check "it shows bytes checked of the file's size" has 'verifying: [0-9.]+ [kMG]?B / [0-9.]+ [kMG]?B, '
check "verify on a terminal runs" tty b verify
check "it shows entries checked of the store's" has 'verifying: [0-9,]+ / 1,500 entries'
check "and ends on all of them, with the time taken and the rate, nothing left to guess" has 'verifying: 1,500 entries in [0-9]+\.[0-9] s, [0-9,]+/s'
check "no line left says 0/s with the time left unknown at the end" bash -c "! tr '\r' '\n' <'$T/tty' | grep -E 'verifying: 1,500 / 1,500 entries, 0/s, time left unknown'"
check "verify without a terminal runs" quiet b verify
# Vietnamese writes thousands apart with '.' and decimals with ','
vtty() { local LC_ALL=vi_VN.UTF-8; export LC_ALL; tty "$@"; }
check "verify on a terminal in Vietnamese runs" vtty b verify
check "its figures are written the Vietnamese way: 1.500, 0,3 giây" has 'đang kiểm tra: 1\.500 mục nhập trong [0-9]+,[0-9] giây, [0-9.]+/giây'
check "it prints no progress" none 'verifying'
tests_done
