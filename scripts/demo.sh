#!/usr/bin/env bash
# The main job: a small network of nodes exchanging sample records.
#   scripts/demo.sh BUILD_DIR
# A province creates a network; a village (Na Pai) and its commune
# (Quang Thuan) each record data; a USB stick carries bundles both ways;
# both nodes end with the same digest; a conflicting edit is shown and
# resolved.
set -euo pipefail
B=${1:-build}
H="$(cd "$B" && pwd)/cli/hamlet"
D=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-demo-XXXXXX")
DNAME=DEMO
. "$(dirname "$0")/show.sh"
V() { run "$H" --home "$D/na-pai" "$@"; }
C() { run "$H" --home "$D/quang-thuan" "$@"; }
usb_trip() { # from to
	run "$H" --home "$D/$2" summary --out "$D/usb/$2.summary"
	run "$H" --home "$D/$1" bundle create --for "$D/usb/$2.summary" "$D/usb/$1-to-$2.bundle"
	run "$H" --home "$D/$2" bundle import "$D/usb/$1-to-$2.bundle"
}
mkdir -p "$D/usb"

# the commands below name this directory $DEMO: set it to run them again
printf '$ DEMO=%s\n' "$D"
say "The province creates the network; the root key stays on its offline PC"
run "$H" network create bk-health --out "$D/province-offline"
run cp "$D/province-offline/bk-health.network" "$D/usb/"
say "A village node and a commune node join"
run "$H" --home "$D/na-pai" init --network "$D/usb/bk-health.network" --name na-pai --scope bk/bach-thong/quang-thuan/na-pai
run "$H" --home "$D/quang-thuan" init --network "$D/usb/bk-health.network" --name quang-thuan --scope bk/bach-thong/quang-thuan

say "The province certifies both (the village also reads its commune's scope)"
key() { sed -n 's/^public_key = //p' "$D/$1/node.conf"; }
run "$H" cert issue --root-key "$D/province-offline/bk-health.root.key" --to "$(key na-pai)" \
	--name na-pai --role village --read bk/bach-thong/quang-thuan \
	--write bk/bach-thong/quang-thuan/na-pai --out "$D/usb/na-pai.cert"
run "$H" --home "$D/na-pai" cert install "$D/usb/na-pai.cert"
run "$H" cert issue --root-key "$D/province-offline/bk-health.root.key" --to "$(key quang-thuan)" \
	--name quang-thuan --role commune --read bk/bach-thong/quang-thuan \
	--write bk/bach-thong/quang-thuan --out "$D/usb/quang-thuan.cert"
run "$H" --home "$D/quang-thuan" cert install "$D/usb/quang-thuan.cert"

say "The village enters its health profiles (from its spreadsheet)"
cat >"$D/profiles.csv" <<'CSV'
id,person_id,full_name,birth_date,sex,ethnicity,village,phone
HP-001,001122330001,Lo Thi Mai,1990-04-12,female,Tay,na-pai,0912000001
HP-002,001122330002,Hoang Van Tu,1984-11-02,male,Tay,na-pai,0912000002
HP-003,001122330003,Nong Thi Hoa,2001-06-30,female,Nung,na-pai,
HP-004,001122330004,Ma Van Long,1959-01-15,male,Dao,na-pai,0912000004
CSV
V import health_profile --format csv "$D/profiles.csv"
say "The commune records payments"
C put payment PAY-2026-11-001 '{"program":"social_allowance","beneficiary_id":"001122330004","period":"2026-11","amount_vnd":500000,"status":"created"}'
C put payment PAY-2026-11-002 '{"program":"forest_service","beneficiary_id":"001122330002","period":"2026-11","amount_vnd":1200000,"status":"approved"}'

say "A USB stick goes village -> commune, and back"
usb_trip na-pai quang-thuan
usb_trip quang-thuan na-pai
say "Both nodes hold the same data"
V digest
C digest

say "Both edit Hoang Van Tu's phone before the next trip"
V put health_profile HP-002 '{"phone":"0987111222"}'
C put health_profile HP-002 '{"phone":"0912999888"}'
usb_trip na-pai quang-thuan
usb_trip quang-thuan na-pai
say "Both nodes show the conflict"
V conflicts
C conflicts
say "The commune operator resolves it"
C conflicts resolve health_profile HP-002 '{"phone":"0987111222"}'
usb_trip quang-thuan na-pai
V conflicts
V get health_profile HP-002
say "Same digest on both nodes, and the village's store audits clean"
V digest
C digest
V verify
[ "$("$H" --home "$D/na-pai" digest)" = "$("$H" --home "$D/quang-thuan" digest)" ]
echo
echo "demo finished: state in $D"
