#!/usr/bin/env bash
# What hamletd refuses is told, not only logged: a bundle carrying an entry
# dated days ahead (a PC whose clock is wrong) is imported through the
# daemon; the entry is refused and not stored, the rest is, and `hamlet
# status` counts the refusal by its reason, in words and in JSON.
#   tests/scenario_refused.sh PATH/TO/hamlet PATH/TO/hamletd
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch refused
A() { "$H" --home "$T/a" "$@"; }
F() { "$H" --home "$T/f" "$@"; }
json_refused() { A status --json | sed -n "s/^    \"$1\": \([0-9]*\),\{0,1\}$/\1/p"; }

check "network created" "$H" network create ref --out "$T"
check "commune node A" A init --network "$T/ref.network" --name quang-thuan --scope bk/bach-thong/quang-thuan
check "village node F" F init --network "$T/ref.network" --name na-pai --scope bk/bach-thong/quang-thuan/na-pai
check "A certified (its commune, F's village under it)" certify "$T/ref.root.key" a
check "F certified" certify "$T/ref.root.key" f
check "F writes a record today" F put health_profile HP-1 '{"person_id":"000000000001","full_name":"Nguyen Van A","birth_date":"1980-01-01"}'
# a clock three days fast
check "F writes a record with its clock three days ahead" \
	env HAMLET_CLOCK_OFFSET_MS=259200000 "$H" --home "$T/f" put health_profile HP-2 '{"person_id":"000000000002","full_name":"Nguyen Van B","birth_date":"1981-01-01"}'
check "F makes a bundle for A" bash -c "'$H' --home '$T/a' summary --out '$T/a.sum' && '$H' --home '$T/f' bundle create --for '$T/a.sum' '$T/f-a.bundle'"

"$D" --home "$T/a" 2>"$T/d.log" &
bg=$!
check "hamletd runs on A" ready_wait "$T/d.log" "$bg"
check "status before: nothing refused" bash -c "'$H' --home '$T/a' status | grep -qx 'refused since the daemon started: nothing'"
A bundle import "$T/f-a.bundle" >"$T/import.out" 2>&1
check "the import names the entry dated ahead" grep -q "ahead of our clock" "$T/import.out"
check "A holds HP-1" A get health_profile HP-1
check "A does not hold HP-2" bash -c "! '$H' --home '$T/a' get health_profile HP-2"
check "status counts the refusal in words" \
	bash -c "'$H' --home '$T/a' status | grep -qx 'refused since the daemon started: 1 dated too far ahead'"
check "status --json counts it under refused.too_far_ahead" test "$(json_refused too_far_ahead)" = 1
check "and nothing under any other reason" test "$(json_refused invalid)$(json_refused out_of_scope)$(json_refused held_cap)" = 000
kill "$bg" && wait "$bg"
check "hamletd stops cleanly" test $? = 0
bg=

tests_done
