#!/usr/bin/env bash
# Names, not keys, in local time: a commune c1 (bk/c1) hears two villages
# v1 and v2, which both change one record before they first connect; on
# c1, in Asia/Ho_Chi_Minh time, `hamlet status` names both peers and
# `hamlet conflicts` both authors by their certificates' names and scopes,
# with times in +07 and no key prefix; --keys shows the keys, --json keeps
# them and adds the names; hamletd's log names its peers. v1's
# certificate calls it "Ban Na Pai" while its node.conf says v1: the
# certificate wins, and v1's own status says its node.conf name is a
# claim.
#   tests/scenario_names.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch names
export TZ=Asia/Ho_Chi_Minh
ROOT=$T/bk.root.key

network_bk c1:bk/c1 v1:bk/c1/v1 v2:bk/c1/v2
check "the root certifies c1" issue c1 commune bk/c1 --root-key "$ROOT" --delegate
check "c1 certifies v1 as \"Ban Na Pai\"" bash -c "'$H' cert issue --issuer-home '$T/c1' --to '$(key v1)' --name 'Ban Na Pai' --role village --read bk/c1/v1 --write bk/c1/v1 --out '$T/v1.cert' >/dev/null && '$H' --home '$T/v1' cert install '$T/v1.cert' >/dev/null"
check "c1 certifies v2" issue v2 village bk/c1/v2 --issuer-home "$T/c1"
# the minute now on the wall in +07, without a zone: what an operator types
SINCE=$(date +%Y-%m-%dT%H:%M)
P='{"person_id":"100000000101","full_name":"Lo Van A","birth_date":"1990-01-01","phone":"0912000001"}'
check "v1 writes HP-1" N v1 put health_profile HP-1 "$P"
check "v2 writes HP-1 with another phone" N v2 put health_profile HP-1 "${P/0912000001/0987000002}"
check "v1 writes HP-2 for one resident" N v1 put health_profile HP-2 '{"person_id":"100000000102","full_name":"Lo Van B","birth_date":"1991-01-01"}'
check "v2 writes HP-2 for another (the same id, two people)" N v2 put health_profile HP-2 '{"person_id":"100000000202","full_name":"Trieu Thi C","birth_date":"1992-02-02"}'
{
	echo "id,person_id,full_name,birth_date,sex,village,phone"
	for i in $(seq 1 2000); do
		printf 'HP-V%04d,%012d,Lo Van %d,1990-01-01,male,v1,09%08d\n' "$i" "$((200000000000 + i))" "$i" "$i"
	done
} >"$T/v1.csv"
check "v1 imports 2,000 more profiles, for a first sync of some length" N v1 import health_profile --format csv "$T/v1.csv"

start c1 && ok "c1's daemon listens" || fail "c1's daemon listens"
start v1 --peer 127.0.0.1:${PORTOF[c1]} && ok "v1 dials c1" || fail "v1 dials c1"
start v2 --peer 127.0.0.1:${PORTOF[c1]} && ok "v2 dials c1" || fail "v2 dials c1"
check "v1's log names it by its certificate when it is ready" grep -q '^.*node "Ban Na Pai" ready (bk/c1/v1)' "$T/v1.log"
check "c1's too, its certificate's name being its node.conf name" grep -q 'node "c1" ready (bk/c1)' "$T/c1.log"
check "c1 holds the conflict (20 s)" within 20 bash -c "'$H' --home '$T/c1' conflicts | grep -q HP-1"
check "c1 holds v1's 2,000 profiles (30 s)" within 30 N c1 get health_profile HP-V2000
check "c1 is in sync with both (20 s)" within 20 bash -c "'$H' --home '$T/c1' status | grep -c 'connected, in sync' | grep -qx 2"

# key prefixes (8 hex digits) that must not show where a name is known
prefixes() { for n in c1 v1 v2; do key $n | cut -c1-8; done; }
no_keys() { ! grep -qiF -f <(prefixes) "$1"; }

N c1 status >"$T/status.txt" 2>&1
sed 's/^/    # /' "$T/status.txt"
check "status names v1 by its certificate" grep -qE '^  Ban Na Pai \(bk/c1/v1\): connected, in sync, last agreed 20[0-9-]+ [0-9:]+ \+07 ' "$T/status.txt"
check "status names v2 by its certificate" grep -qE '^  v2 \(bk/c1/v2\): connected, in sync, last agreed 20[0-9-]+ [0-9:]+ \+07 ' "$T/status.txt"
check "status dates the newest entry in +07" grep -qE '^newest entry: 20[0-9-]+ [0-9:]+ \+07$' "$T/status.txt"
check "status shows no key" no_keys "$T/status.txt"

N c1 conflicts >"$T/conflicts.txt" 2>&1
sed 's/^/    # /' "$T/conflicts.txt"
check "conflicts names v1 as author, at a +07 time" grep -qE '\(by Ban Na Pai \(bk/c1/v1\) at 20[0-9-]+ [0-9:]+ \+07\)' "$T/conflicts.txt"
check "conflicts names v2 as author, at a +07 time" grep -qE '\(by v2 \(bk/c1/v2\) at 20[0-9-]+ [0-9:]+ \+07\)' "$T/conflicts.txt"
check "conflicts shows no key" no_keys "$T/conflicts.txt"
check "two people under one id get a warning, once" bash -c "[ \$(grep -c 'WARNING: two nodes wrote different person_id values under this one id' '$T/conflicts.txt') = 1 ]"
check "under HP-2, not HP-1 (one person, two phones)" bash -c "awk '/^health_profile\\//{r=\$0} /WARNING: two nodes/{print r}' '$T/conflicts.txt' | grep -qx 'health_profile/HP-2'"
check "with --keys, conflicts shows v1's whole key" bash -c "'$H' --home '$T/c1' conflicts --keys | grep -q 'Ban Na Pai (bk/c1/v1, key $(key v1))'"
check "history names the author in +07" bash -c "'$H' --home '$T/c1' history health_profile HP-1 | grep -qE '^  author (Ban Na Pai \(bk/c1/v1\)|v2 \(bk/c1/v2\))$'"
check "get names who changed it last" bash -c "'$H' --home '$T/c1' get health_profile HP-1 | grep -qE '^last changed: 20[0-9-]+ [0-9:]+ \+07 by (Ban Na Pai|v2) '"
check "peers on v1 names who answers at c1's address" bash -c "'$H' --home '$T/v1' peers | grep -qx '127.0.0.1:${PORTOF[c1]}: c1 (bk/c1), connected'"
check "peers on c1 names the villages that dialled it" bash -c "'$H' --home '$T/c1' peers | grep -qx 'dialled us: v2 (bk/c1/v2), connected'"
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\?8'; then
	# "dialled us" is who starts the link, not whether it is up now
	check "in Vietnamese too, the one dialling c1 said so, apart from whether it is connected" bash -c \
		"LC_ALL=vi_VN.UTF-8 LANGUAGE= '$H' --home '$T/c1' peers | grep -qx 'nút ngang hàng chủ động kết nối tới nút này: v2 (bk/c1/v2), đã kết nối'"
fi

check "status --json keeps keys and UTC, adds names" bash -c "'$H' --home '$T/c1' status --json >'$T/status.json'"
check "the JSON peers carry key, name, scope and source, and no progress once in sync" python3 -c "
import json
j = json.load(open('$T/status.json'))
p = {x['key']: x for x in j['peers']}
v1 = p['$(key v1)']
assert v1['name'] == 'Ban Na Pai' and v1['scope'] == 'bk/c1/v1' and v1['name_source'] == 'certificate', v1
assert p['$(key v2)']['name'] == 'v2', p
# all that was asked for has come: nothing left counted as on its way
assert all('progress' not in x for x in j['peers']), j['peers']
"
check "conflicts --json keeps the author key, adds its name and a UTC time" bash -c "'$H' --home '$T/c1' conflicts --json | python3 -c \"
import json, sys
j = json.load(sys.stdin)
vals = [v for r in j['records'] for c in r['conflicts'] for v in c['values']]
assert {v['author_name'] for v in vals} == {'Ban Na Pai', 'v2'}, vals
assert all(len(v['author']) == 64 and v['time'].endswith('Z') for v in vals), vals
\""

check "v1's summary names it by its certificate" bash -c "'$H' --home '$T/v1' summary --out '$T/v1.sum' | grep -q '^wrote .*: what node Ban Na Pai holds'"
N v1 status >"$T/v1.txt" 2>&1
check "v1's status says its node.conf name is a claim, the certificate's is used" grep -q 'node.conf calls this node "v1", its short name from hamlet init; other nodes know it as ".*", the certificate.s name: nothing to do' "$T/v1.txt"
check "v1's status names its peer c1" grep -qE '^  c1 \(bk/c1\): connected' "$T/v1.txt"
check "c1's log names v1 by who it is, incoming" grep -qE 'peer Ban Na Pai \(bk/c1/v1\): connected \(incoming from 127\.0\.0\.1:[0-9]+, key [0-9a-f]{16}\)' "$T/c1.log"
check "v1's log names c1, outgoing" grep -qE 'peer c1 \(bk/c1\): connected \(outgoing to 127\.0\.0\.1:[0-9]+' "$T/v1.log"
check "a --since without a zone is local time (read as UTC it would be 7 h later and leave HP-1 out)" bash -c "'$H' --home '$T/c1' export health_profile --since $SINCE --format csv | grep -q HP-1"

# v2 goes away; then c1 writes in its own scope, which no village may
# read: nothing waits for v2, in the text as in the JSON
stop v2
sleep 0.5
check "c1 writes a profile in its own scope" N c1 put health_profile HP-C1 '{"person_id":"009999999999","full_name":"Commune Only","birth_date":"1990-01-01"}'
N c1 status >"$T/status2.txt" 2>&1
N c1 status --json >"$T/status2.json" 2>&1
sed 's/^/    # /' "$T/status2.txt"
check "status: nothing written here waits for v2, which may not read it" grep -qE '^  v2 \(bk/c1/v2\): NOT CONNECTED, .*; 0 entries waiting to go out' "$T/status2.txt"
check "status --json says the same" python3 -c "
import json
j = json.load(open('$T/status2.json'))
p = {x['key']: x for x in j['peers']}
assert p['$(key v2)']['waiting_out'] == 0, j['peers']
"
tests_done
