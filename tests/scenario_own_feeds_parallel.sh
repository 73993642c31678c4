#!/usr/bin/env bash
# Several hamlet commands writing at once with no daemon running (a
# script importing while the operator puts a record): each stores its
# entry and records it in HOME/own-feeds without tripping over the
# others' copy of the file, so none warns that it could not write it,
# and the file ends with the store's head.
#   tests/scenario_own_feeds_parallel.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
. "$(dirname "$0")/testlib.sh"
tests_scratch ownpar
check "network created" "$H" network create op --out "$T"
check "node a joins with scope op/a" N a init --network "$T/op.network" --name a --scope op/a
check "the root certifies a" certify "$T/op.root.key" a
: >"$T/err"
for round in 1 2 3 4; do
	for i in $(seq 1 30); do
		N a put health_profile "P$round-$i" \
			"{\"person_id\":\"00$round$(printf %09d "$i")\",\"full_name\":\"Lo Van $i\",\"birth_date\":\"1990-01-01\"}" \
			>/dev/null 2>>"$T/err" &
	done
	wait
done
sed 's/^/    # /' "$T/err" | sort | uniq -c | head -4
check "120 writes at once, 30 at a time: none warns about own-feeds" bash -c "! grep -q own-feeds '$T/err'"
check "the file records the store's head, seq 120" \
	grep -q '^op/a 120$' "$T/a/own-feeds"
check "no temporary file is left beside it" bash -c "! ls -A '$T/a' | grep -q tmp"
check "and every record is there" bash -c "[ \$('$H' --home '$T/a' export health_profile --format csv | wc -l) -eq 121 ]"
tests_done
