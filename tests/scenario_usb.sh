#!/usr/bin/env bash
# Two nodes with no network between them sync by bundle files (USB stick):
# the core issue's acceptance scenario, end to end through the CLI.
#   tests/scenario_usb.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
T=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-scenario-XXXXXX")
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/testlib.sh"
A() { "$H" --home "$T/a" "$@"; }
B() { "$H" --home "$T/b" "$@"; }
exchange() { # from to
	"$H" --home "$T/$2" summary --out "$T/$2.sum" >/dev/null &&
	"$H" --home "$T/$1" bundle create --for "$T/$2.sum" "$T/$1-$2.bundle" >/dev/null &&
	"$H" --home "$T/$2" bundle import "$T/$1-$2.bundle" >/dev/null
}
digests_equal() { [ "$(A digest)" = "$(B digest)" ] && [ -n "$(A digest)" ]; }

check "network created" "$H" network create demo --out "$T"
check "village node A" "$H" --home "$T/a" init --network "$T/demo.network" --name na-pai --scope bk/bach-thong/quang-thuan/na-pai
check "commune node B" "$H" --home "$T/b" init --network "$T/demo.network" --name quang-thuan --scope bk/bach-thong/quang-thuan
# A reads the commune's records too (the digests must agree); B reads its
# commune, A's village under it
check "A certified to read its commune" certify "$T/demo.root.key" a bk/bach-thong/quang-thuan
check "B certified" certify "$T/demo.root.key" b

{
	echo "id,person_id,full_name,birth_date,sex,village,phone"
	for i in $(seq 1 1000); do
		printf 'HP-%04d,%012d,Nguyen Van %d,19%02d-0%d-1%d,male,na-pai,09%08d\n' \
			"$i" "$i" "$i" $((i % 90 + 10)) $((i % 9 + 1)) $((i % 9)) "$i"
	done
} >"$T/profiles.csv"
{
	echo "id,program,beneficiary_id,period,amount_vnd,status"
	for i in $(seq 1 500); do
		printf 'PAY-%04d,social_allowance,BEN-%04d,2026-10,%d,created\n' "$i" "$i" $((360000 + i))
	done
} >"$T/payments.csv"
check "A imports 1,000 health profiles" A import health_profile --format csv "$T/profiles.csv"
check "B imports 500 payments" B import payment --format csv "$T/payments.csv"
check "bundle A to B" exchange a b
check "bundle B to A" exchange b a
check "digests equal after exchange" digests_equal
check "B holds A's profiles" B get health_profile HP-0500

check "A edits HP-0007's phone" A put health_profile HP-0007 '{"phone":"0912000001"}'
check "B edits HP-0007's phone" B put health_profile HP-0007 '{"phone":"0987000002"}'
check "exchange both ways" bash -c "$(declare -f exchange A B); H='$H' T='$T'; exchange a b && exchange b a"
check "A lists the conflict" bash -c "'$H' --home '$T/a' conflicts | grep -q HP-0007"
check "B lists the conflict" bash -c "'$H' --home '$T/b' conflicts | grep -q HP-0007"
check "B resolves it" B conflicts resolve health_profile HP-0007 '{"phone":"0987000002"}'
check "one more exchange" bash -c "$(declare -f exchange); H='$H' T='$T'; exchange b a && exchange a b"
check "conflict gone on A" bash -c "! '$H' --home '$T/a' conflicts | grep -q HP-0007"
check "conflict gone on B" bash -c "! '$H' --home '$T/b' conflicts | grep -q HP-0007"
check "digests equal after resolution" digests_equal

# payments: duplicate, state conflict, state merge
check "A pays BEN-9001 for 2026-11" A put payment PAY-A1 '{"program":"forest_service","beneficiary_id":"BEN-9001","period":"2026-11","amount_vnd":500000,"status":"created"}'
check "B pays BEN-9001 for 2026-11 under another id" B put payment PAY-B1 '{"program":"forest_service","beneficiary_id":"BEN-9001","period":"2026-11","amount_vnd":500000,"status":"created"}'
check "A approves PAY-0001, B approves it too" bash -c "'$H' --home '$T/a' put payment PAY-0001 '{\"status\":\"approved\"}' && '$H' --home '$T/b' put payment PAY-0001 '{\"status\":\"approved\"}'"
check "exchange" bash -c "$(declare -f exchange); H='$H' T='$T'; exchange a b && exchange b a"
check "duplicate shows on A" bash -c "'$H' --home '$T/a' get payment PAY-A1 | grep -qi duplicate"
check "duplicate shows on B" bash -c "'$H' --home '$T/b' get payment PAY-B1 | grep -qi duplicate"
check "A confirms PAY-0002 path, B fails it" bash -c "for s in approved disbursed; do '$H' --home '$T/a' put payment PAY-0002 \"{\\\"status\\\":\\\"\$s\\\"}\" || exit 1; done; '$H' --home '$T/a' put payment PAY-0002 '{\"status\":\"confirmed\"}'"
check "B marks PAY-0002 failed concurrently" B put payment PAY-0002 '{"status":"failed"}'
check "A disburses PAY-0001 while B leaves it approved" A put payment PAY-0001 '{"status":"disbursed"}'
check "exchange" bash -c "$(declare -f exchange); H='$H' T='$T'; exchange a b && exchange b a"
check "confirmed vs failed is a conflict on A" bash -c "'$H' --home '$T/a' conflicts | grep -q PAY-0002"
check "confirmed vs failed is a conflict on B" bash -c "'$H' --home '$T/b' conflicts | grep -q PAY-0002"
check "approved vs disbursed merged to disbursed on B" bash -c "'$H' --home '$T/b' get payment PAY-0001 --json | grep -q '\"status\": *\"disbursed\"'"
check "and is no conflict" bash -c "! '$H' --home '$T/b' conflicts | grep -q PAY-0001"
check "digests equal" digests_equal

# audit: clean store passes; a planted fork fails
check "verify passes on a clean store" B verify
cp -a "$T/a" "$T/a-clone"
check "A writes seq n+1" A put health_profile HP-0001 '{"phone":"0900000011"}'
check "a copy of A's key writes another seq n+1" "$H" --home "$T/a-clone" put health_profile HP-0001 '{"phone":"0900000002"}'
check "B receives both" bash -c "$(declare -f exchange); H='$H' T='$T'; exchange a b && exchange a-clone b; true"
if B verify >"$T/out" 2>&1; then fail "verify must fail on a planted fork"; else
	if grep -qi fork "$T/out"; then ok "verify reports the fork and exits non-zero"; else fail "verify output names the fork"; cat "$T/out"; fi
fi

tests_done
