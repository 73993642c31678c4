#!/usr/bin/env bash
# The main job: a small local network of daemons syncing sample records.
#   scripts/network.sh BUILD_DIR
# Three nodes on this machine's loopback: a village (Na Pai) dials its
# commune (Quang Thuan), which dials the province. Records entered at the
# village and the commune reach the province through the commune; a
# conflicting edit shows on every node and is resolved once; `hamlet
# status` shows the peers connected and in sync. The daemons stop at the end.
set -euo pipefail
B=$(cd "${1:-build}" && pwd)
H="$B/cli/hamlet"
HD="$B/daemon/hamletd"
D=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-network-XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
DNAME=NET
. "$(dirname "$0")/show.sh"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }

# the commands below name this directory $NET: set it to run them again
printf '$ NET=%s\n' "$D"
say "The province creates the network; three nodes join"
run "$H" network create bk-health --out "$D"
run "$H" --home "$D/province" init --network "$D/bk-health.network" --name bac-kan --scope bk
run "$H" --home "$D/commune" init --network "$D/bk-health.network" --name quang-thuan --scope bk/bach-thong/quang-thuan
run "$H" --home "$D/village" init --network "$D/bk-health.network" --name na-pai --scope bk/bach-thong/quang-thuan/na-pai

say "The province certifies each node's key with the root key (kept offline)"
certify() { # home name role scope [--delegate]
	local key
	key=$(sed -n 's/^public_key = //p' "$D/$1/node.conf")
	run "$H" cert issue --root-key "$D/bk-health.root.key" --to "$key" --name "$2" \
		--role "$3" --read "$4" --write "$4" ${5:-} --out "$D/$1.cert"
	run "$H" --home "$D/$1" cert install "$D/$1.cert"
}
certify province "Bac Kan provincial center" province bk --delegate
certify commune "Quang Thuan commune office" commune bk/bach-thong/quang-thuan --delegate
certify village "Na Pai village health post" village bk/bach-thong/quang-thuan/na-pai

PP=$(port); PC=$(port)
say "Daemons start: village -> commune ($PC) -> province ($PP), on 127.0.0.1"
daemon() { # home args...: start hamletd, its log in $D/home.log
	printf '$ hamletd --home $NET/%s %s 2>$NET/%s.log &\n' "$1" "${*:2}" "$1"
	"$HD" --home "$D/$1" "${@:2}" 2>"$D/$1.log" & PIDS+=($!)
}
daemon province --listen "127.0.0.1:$PP"
daemon commune --listen "127.0.0.1:$PC" --peer "127.0.0.1:$PP"
daemon village --peer "127.0.0.1:$PC"
# each daemon answers on its socket before anything is written there
# (at most 10 s each)
for n in province commune village; do
	for _ in $(seq 1 100); do
		[ -S "$D/$n/hamletd.sock" ] && "$H" --home "$D/$n" status >/dev/null 2>&1 && break
		sleep 0.1
	done
done

say "The village enters health profiles, the commune a payment"
cat >"$D/profiles.csv" <<'CSV'
id,person_id,full_name,birth_date,sex,ethnicity,village,phone
HP-001,001122330001,Lo Thi Mai,1990-04-12,female,Tay,na-pai,0912000001
HP-002,001122330002,Hoang Van Tu,1984-11-02,male,Tay,na-pai,0912000002
HP-003,001122330003,Nong Thi Hoa,2001-06-30,female,Nung,na-pai,
HP-004,001122330004,Ma Van Long,1959-01-15,male,Dao,na-pai,0912000004
CSV
run "$H" --home "$D/village" import health_profile --format csv "$D/profiles.csv"
# a payment to a Na Pai resident lives in Na Pai's scope, so the village
# holds it too (a village holds its own residents' records, nothing else)
run "$H" --home "$D/commune" put --scope bk/bach-thong/quang-thuan/na-pai payment PAY-2026-11-001 '{"program":"social_allowance","beneficiary_id":"001122330004","period":"2026-11","amount_vnd":500000,"status":"created"}'

say "Waiting for the network to agree"
for n in village commune province; do
	run "$H" --home "$D/$n" sync --wait --timeout 60
done
for n in village commune province; do run "$H" --home "$D/$n" digest; done

say "The village's link drops; meanwhile village and province edit the same phone number"
run "$H" --home "$D/village" peers remove "127.0.0.1:$PC"
run "$H" --home "$D/village" put health_profile HP-002 '{"phone":"0987111222"}'
run "$H" --home "$D/province" put health_profile HP-002 '{"phone":"0912999888"}'
say "The link comes back"
run "$H" --home "$D/village" peers add "127.0.0.1:$PC"
for n in province commune village; do "$H" --home "$D/$n" sync --wait --timeout 60 >/dev/null; done
run "$H" --home "$D/village" conflicts
run "$H" --home "$D/commune" conflicts
run "$H" --home "$D/province" conflicts
say "The commune resolves it with the command it was shown, the value it keeps in place: naming the heads shown, it settles what was shown or nothing. The decision reaches both"
HEADS=$("$H" --home "$D/commune" conflicts | sed -n 's/.* --heads \([0-9a-f,]*\) .*/\1/p' | head -1)
[ -n "$HEADS" ] || { echo "demo: the commune's conflicts printed no resolve command naming heads" >&2; exit 1; }
run "$H" --home "$D/commune" conflicts resolve health_profile HP-002 --heads "$HEADS" '{"phone":"0987111222"}'
for n in commune village province; do "$H" --home "$D/$n" sync --wait --timeout 60 >/dev/null; done
run "$H" --home "$D/province" get health_profile HP-002
run "$H" --home "$D/village" conflicts

say "Status on each node"
for n in village commune province; do run "$H" --home "$D/$n" status; echo; done
dv=$("$H" --home "$D/village" digest); dc=$("$H" --home "$D/commune" digest); dp=$("$H" --home "$D/province" digest)
echo "digests: village $dv"
echo "         commune $dc"
echo "         province $dp"
[ "$dv" = "$dc" ] && [ "$dc" = "$dp" ] || { echo "the digests differ"; exit 1; }
echo
echo "network finished: all three nodes agree (state in $D)"
