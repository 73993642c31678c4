#!/usr/bin/env bash
# A commune merger on five daemons on loopback: the province P (lc) hears
# the communes C1 (lc/bac-ha) and C2 (lc/si-ma-cai); village V1
# (lc/bac-ha/na-hoi) dials C1, V2 (lc/si-ma-cai/ban-mu) dials C2. Before
# the merger C2 holds nothing of bac-ha. The root then moves lc/bac-ha to
# lc/si-ma-cai through P's daemon: the move reaches every node, C2 takes
# bac-ha's records, export and conflicts show them under the new scope
# everywhere, the duplicate across the two old communes is found on C2,
# V1's old certificate still writes, and every store still verifies (no
# signed entry was rewritten). P's status peer lines, report lag and its
# status page (the lag table and its by-commune grouping) name nodes by
# their effective scope. Refusals: a key that is not the root's, a
# malformed scope, a cycle. A village moved alone (ban-mu) leaves C2's
# reach, and its store: C2's daemon takes out what others wrote there
# once the move reaches it; what C2 wrote there after the move, while
# offline and not
# knowing of it, is refused at P (carried on a bundle), naming the move.
#   tests/scenario_scope_move.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
command -v curl >/dev/null || { echo "curl is missing: skipped"; exit 77; }
tests_scratch scopemove
ROOT=$T/lc.root.key
N() { local n=$1; shift; "$H" --home "$T/$n" "$@"; }
key() { sed -n 's/^public_key = //p' "$T/$1/node.conf"; }
profile() { # NODE ID PERSON NAME
	N "$1" put health_profile "$2" "{\"person_id\":\"$3\",\"full_name\":\"$4\",\"birth_date\":\"1990-01-01\"}"
}
# synced NODE: one sync round of NODE with its peers (bounded)
synced() { N "$1" sync --wait --timeout 3 >/dev/null 2>&1; true; }
# holds NODE COLL ID: NODE holds the record, after asking its peers
holds() { synced "$1"; N "$1" get "$2" "$3"; }

# --- 1. five nodes, two communes --------------------------------------------
check "network created" "$H" network create lc --out "$T"
for spec in P:lc C1:lc/bac-ha C2:lc/si-ma-cai V1:lc/bac-ha/na-hoi V2:lc/si-ma-cai/ban-mu; do
	n=${spec%%:*} s=${spec#*:}
	check "$n joins with scope $s" N "$n" init --network "$T/lc.network" --name "${n,,}" --scope "$s"
done
issue() { # NAME ROLE SCOPE
	"$H" cert issue --root-key "$ROOT" --to "$(key "$1")" --name "$1" --role "$2" \
		--read "$3" --write "$3" --out "$T/$1.cert" >/dev/null &&
		N "$1" cert install "$T/$1.cert" >/dev/null
}
check "P certified for lc" issue P province lc
check "C1 certified for lc/bac-ha" issue C1 commune lc/bac-ha
check "C2 certified for lc/si-ma-cai" issue C2 commune lc/si-ma-cai
check "V1 certified for lc/bac-ha/na-hoi" issue V1 village lc/bac-ha/na-hoi
check "V2 certified for lc/si-ma-cai/ban-mu" issue V2 village lc/si-ma-cai/ban-mu

start_http P && ok "P's daemon listens, with its status page" || fail "P's daemon listens, with its status page"
URL=http://127.0.0.1:$HP
# page: P's status page; groups: its lag report counts nodes by commune
page() { curl -s --max-time 10 "$URL/?lang=en"; }
groups() { page | grep -q 'class="cards groups"'; }
start C1 --peer 127.0.0.1:${PORTOF[P]} && ok "C1 dials P" || fail "C1 dials P"
start_http C2 --peer 127.0.0.1:${PORTOF[P]} && ok "C2 dials P, serving HTTP" || fail "C2 dials P, serving HTTP"
URL2=http://127.0.0.1:$HP
start V1 --peer 127.0.0.1:${PORTOF[C1]} && ok "V1 dials C1" || fail "V1 dials C1"
start V2 --peer 127.0.0.1:${PORTOF[C2]} && ok "V2 dials C2" || fail "V2 dials C2"

check "V1 registers Lo Thi A (HP-A)" profile V1 HP-A 300000000001 "Lo Thi A"
check "V2 registers the same person again (HP-B): a duplicate across communes" profile V2 HP-B 300000000001 "Lo Thi A"
check "P holds both (30 s)" within 30 bash -c "$(declare -f N synced holds); H='$H' T='$T'; holds P health_profile HP-A && holds P health_profile HP-B"
check "C1 holds V1's record (30 s)" within 30 holds C1 health_profile HP-A
check "before the merger P's page counts bac-ha's nodes under lc/bac-ha" bash -c \
	"$(declare -f page); URL='$URL'; page | grep -q '<small>lc/bac-ha</small>'"

# a conflict on the old commune's record: V1 (offline) and C1 both change
# HP-A's phone
stop V1
check "V1, offline, changes HP-A's phone" N V1 put health_profile HP-A '{"phone":"0911000001"}'
check "C1 changes HP-A's phone at the same time" N C1 put health_profile HP-A '{"phone":"0922000002"}'
start V1 --peer 127.0.0.1:${PORTOF[C1]} && ok "V1 back online" || fail "V1 back online"
conflict_on() { synced "$1"; N "$1" conflicts | grep -q 'health_profile/HP-A'; }
for n in C1 V1 P; do check "$n sees HP-A's phone conflict (30 s)" within 30 conflict_on $n; done
check "before the merger C2 holds nothing of bac-ha" bash -c "! '$H' --home '$T/C2' get health_profile HP-A"
check "before the merger export shows HP-A in lc/bac-ha/na-hoi" bash -c "'$H' --home '$T/P' export health_profile --format csv --with-scope | grep '^HP-A,' | grep -q ',lc/bac-ha/na-hoi,lc/bac-ha/na-hoi$'"

# --- 2. refusals --------------------------------------------------------------
check "another network's root key" "$H" network create other --out "$T/other"
refuse "a move signed by a key that is not the root's is refused" 4 "not the root key" \
	N P scope move lc/bac-ha lc/si-ma-cai --root-key "$T/other/other.root.key"
refuse "a malformed scope is refused, named: a usage error (exit 2)" 2 "invalid OLD scope" \
	N P scope move LC/Bac-Ha lc/si-ma-cai --root-key "$ROOT"
refuse "a move under itself is refused" 4 "onto itself" \
	N P scope move lc/bac-ha lc/bac-ha/x --root-key "$ROOT"
check "no move is in the set yet" bash -c "'$H' --home '$T/P' scope list | grep -qx 'no scope moves'"

# --- 3. the merger --------------------------------------------------------------
check "the root moves lc/bac-ha to lc/si-ma-cai through P's daemon" \
	N P scope move lc/bac-ha lc/si-ma-cai --root-key "$ROOT" --reason "merger 2025"
grep -q "the running daemon has it" "$T/out" && ok "P's daemon took it" || fail "P's daemon took it"
refuse "moving lc/si-ma-cai back under lc/bac-ha would close a cycle: refused" 4 "cycle" \
	N P scope move lc/si-ma-cai/ban-mu lc/bac-ha/ban-mu --root-key "$ROOT"
moved() { synced "$1"; N "$1" scope list | grep -q '^lc/bac-ha -> lc/si-ma-cai  (in effect'; }
for n in P C1 C2 V1 V2; do check "$n holds the move (30 s)" within 30 moved $n; done
refuse "a certificate of the old name, issued after the move from a home that holds it, is refused, naming the new one" 4 \
	'--read lc/bac-ha/na-hoi names a scope that was moved: it is lc/si-ma-cai/na-hoi now' \
	"$H" --home "$T/P" cert issue --root-key "$ROOT" --to "$(key V1)" --name V1x --role village \
	--read lc/bac-ha/na-hoi --write lc/bac-ha/na-hoi --out "$T/V1x.cert"
check "and nothing was written" test ! -e "$T/V1x.cert"
check "C1's status shows its scope as moved" bash -c "'$H' --home '$T/C1' status | grep -q '^node c1 (lc/si-ma-cai (was lc/bac-ha))'"
# report lag, the status page's lag table and status's peer lines name
# nodes by their effective scope too, as get does
check "P's status names its peer C1 under the new scope" bash -c \
	"'$H' --home '$T/P' status | grep -q '^  C1 (lc/si-ma-cai (was lc/bac-ha)): connected'"
check "P's report lag names V1 under the new scope (10 s)" within 10 bash -c \
	"'$H' --home '$T/P' report lag --threshold 1s | grep -q '^V1 (village, lc/si-ma-cai/na-hoi (was lc/bac-ha/na-hoi)): '"
check "and V1's feed" bash -c \
	"'$H' --home '$T/P' report lag --threshold 1s | grep -q '^  feed lc/si-ma-cai/na-hoi (was lc/bac-ha/na-hoi): head seq [1-9]'"
N P report lag --threshold 1s --json >"$T/lag.json" 2>/dev/null
check "report lag --json: scope is the effective scope, scope_written the one as written" python3 -c "
import json
j = json.load(open('$T/lag.json'))
assert j['lag_version'] == 4, j['lag_version']
v = [x for x in j['behind'] if x['name'] == 'V1'][0]
assert v['scope'] == 'lc/si-ma-cai/na-hoi' and v['scope_written'] == 'lc/bac-ha/na-hoi', v
assert v['feeds'][0]['scope'] == 'lc/si-ma-cai/na-hoi' and v['feeds'][0]['scope_written'] == 'lc/bac-ha/na-hoi', v
assert all('scope_written' not in x for x in j['behind'] if x['name'] in ('C2', 'V2')), j['behind']
"
check "P's page lists V1 under the new scope" bash -c \
	"$(declare -f page); URL='$URL'; page | grep -q '>lc/si-ma-cai/na-hoi (was lc/bac-ha/na-hoi)<'"
check "and counts bac-ha's nodes under si-ma-cai: one commune, no by-commune table" \
	bash -c "$(declare -f page groups); URL='$URL'; ! groups"

check "C2 now takes the old commune's records (30 s)" within 30 holds C2 health_profile HP-A
for n in P C1 C2 V1; do
	check "$n exports HP-A under lc/si-ma-cai/na-hoi, written in lc/bac-ha/na-hoi" \
		bash -c "'$H' --home '$T/$n' export health_profile --format csv --with-scope | grep '^HP-A,' | grep -q ',lc/si-ma-cai/na-hoi,lc/bac-ha/na-hoi$'"
	check "$n's export --scope lc/si-ma-cai holds HP-A" \
		bash -c "'$H' --home '$T/$n' export health_profile --format ndjson --scope lc/si-ma-cai | grep -q '\"id\":\"HP-A\"'"
	check "$n lists HP-A's conflict under the new scope (30 s)" within 30 bash -c \
		"'$H' --home '$T/$n' conflicts | grep -A1 '^health_profile/HP-A$' | grep -qx '  scope: lc/si-ma-cai/na-hoi (was lc/bac-ha/na-hoi)'"
done
check "get --json gives the effective scope and the written one" bash -c \
	"'$H' --home '$T/C2' get health_profile HP-A --json | grep -q '\"scope_written\": \"lc/bac-ha/na-hoi\"'"
check "C2 finds the duplicate across the two old communes" bash -c \
	"'$H' --home '$T/C2' get health_profile HP-B | grep -q 'DUPLICATE of health_profile/HP-A in lc/si-ma-cai/na-hoi (was lc/bac-ha/na-hoi)'"
check "V2 (ban-mu) still holds nothing of na-hoi" bash -c "! '$H' --home '$T/V2' get health_profile HP-A"

# --- 4. old certificates keep working -------------------------------------------
check "V1, under its old certificate, registers HP-C" profile V1 HP-C 300000000003 "Ma Van C"
check "HP-C reaches C2 through the new commune's grant (30 s)" within 30 holds C2 health_profile HP-C
check "C2 (the new commune) edits HP-C, a record of the old commune" N C2 put health_profile HP-C '{"village":"Na Hoi"}'
check "the edit reaches V1 (30 s)" within 30 bash -c "$(declare -f N synced); H='$H' T='$T'; synced V1; N V1 get health_profile HP-C | grep -qx 'village: Na Hoi'"
# the record's scope named by its new name (as get shows it) is its own:
# a put, an import and a delete --scope take it as they take the old one
check "C2 puts HP-C with --scope lc/si-ma-cai/na-hoi, its scope's new name" \
	N C2 put health_profile HP-C --scope lc/si-ma-cai/na-hoi '{"phone":"0912000003"}'
printf 'id,phone\nHP-C,0912000033\n' >"$T/hpc.csv"
check "C2 imports a row of HP-C with --scope lc/si-ma-cai/na-hoi" \
	N C2 import health_profile --format csv --scope lc/si-ma-cai/na-hoi "$T/hpc.csv"
check "and the row was written" bash -c "'$H' --home '$T/C2' get health_profile HP-C | grep -qx 'phone: 0912000033'"
check "both signed under the name the record was written in" bash -c \
	"'$H' --home '$T/C2' --json history health_profile HP-C | python3 -c 'import json,sys; o=json.load(sys.stdin)[\"ops\"]; sys.exit(0 if all(x[\"scope\"] == \"lc/bac-ha/na-hoi\" for x in o) else 1)'"
check "so V1, under its old certificate, gets them (30 s)" within 30 bash -c "$(declare -f N synced); H='$H' T='$T'; synced V1; N V1 get health_profile HP-C | grep -qx 'phone: 0912000033'"
check "C2 writes HP-E in na-hoi under its old name, then deletes it by the new one" bash -c \
	"$(declare -f N); H='$H' T='$T'; N C2 put health_profile HP-E --scope lc/bac-ha/na-hoi '{\"person_id\":\"300000000005\",\"full_name\":\"Ma Van E\",\"birth_date\":\"1990-01-01\"}' && N C2 delete health_profile HP-E --scope lc/si-ma-cai/na-hoi"

# --- 4b. a village moved alone leaves its old commune's reach ------------------------
# ban-mu (V2) moves from lc/si-ma-cai to lc/muong-khuong, a commune with no
# node yet: the province takes its records straight from it; C2, whose
# certificate reads lc/si-ma-cai, no longer gets what ban-mu writes
# C2's tokens: one of every scope, one of ban-mu's, one that writes
tok() { N C2 token create --name "$1" --role "$2" ${3:+--scope "$3"} | grep -o 'hmt_[A-Za-z0-9_]*'; }
TR=$(tok t-all read); TS=$(tok t-banmu read lc/si-ma-cai/ban-mu); TW=$(tok t-w write)
get2() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$URL2/v1/records/health_profile/HP-B"; }
check "before the move, C2's token of every scope reads ban-mu's HP-B" test "$(get2 "$TR")" = 200
check "and so does its token of ban-mu" test "$(get2 "$TS")" = 200
check "V2 dials P too (its new commune has no node yet)" N V2 peers add 127.0.0.1:${PORTOF[P]}
# C2 is offline while the root moves ban-mu: not knowing of the move, it
# still writes there, dated after it; every other node refuses that
OLDC2=${PORTOF[C2]}
stop C2
check "the root moves ban-mu alone to lc/muong-khuong" \
	N P scope move lc/si-ma-cai/ban-mu lc/muong-khuong/ban-mu --root-key "$ROOT" --reason "boundary change"
check "C2, offline and not knowing of the move, edits ban-mu's HP-B after it" \
	N C2 put health_profile HP-B '{"phone":"0933000003"}'
check "C2 carries its edit on a bundle sealed to P" \
	N C2 bundle create --seal-to "$(key P)" --scope lc/si-ma-cai/ban-mu "$T/c2.bundle"
refuse "P's import refuses it, naming the move" 1 \
	"rejected: .*seq 1 of feed lc/si-ma-cai/ban-mu: the network.s root moved that scope to lc/muong-khuong/ban-mu on .*; its author.s certificate (.C2.)" \
	N P bundle import "$T/c2.bundle"
start_http C2 --peer 127.0.0.1:${PORTOF[P]} && ok "C2 back online" || fail "C2 back online"
URL2=http://127.0.0.1:$HP
check "V2 dials C2 where it listens now" bash -c "'$H' --home '$T/V2' peers remove 127.0.0.1:$OLDC2 >/dev/null && '$H' --home '$T/V2' peers add 127.0.0.1:${PORTOF[C2]} >/dev/null"
moved2() { synced "$1"; N "$1" scope list | grep -q '^lc/si-ma-cai/ban-mu -> lc/muong-khuong/ban-mu  (in effect'; }
for n in P C2 V2; do check "$n holds the village's move (30 s)" within 30 moved2 $n; done
# a node holds only what it may read (SPEC 9, "What a node keeps"): once
# the move reaches C2, its daemon takes out what others wrote in ban-mu;
# what C2 wrote itself stays (it may be held nowhere else)
check "C2's daemon takes ban-mu's entries out of its store once the move reaches it, and says so (30 s)" within 30 \
	grep -q "a scope move left entries outside what this node may read: taken out of its store (stored: [1-9][0-9]*, waiting: [0-9]*)" "$T/C2.log"
v2_op() { # NODE yes|no: its history of HP-B reads, and holds (yes) or
	# holds no (no) op V2 signed
	N "$1" --json history health_profile HP-B 2>/dev/null |
		python3 -c "import json,sys; o=json.load(sys.stdin)['ops']; assert o; sys.exit(0 if any(x['author'] == '$(key V2)' for x in o) == ('$2' == 'yes') else 1)"
}
check "P, which reads ban-mu, holds V2's registration of HP-B" v2_op P yes
check "C2 no longer does (its history of HP-B holds its own edit alone)" v2_op C2 no
check "C2 still holds its own edit of HP-B, made before it knew of the move" bash -c \
	"'$H' --home '$T/C2' --json history health_profile HP-B | grep -q 0933000003"
check "P's page counts ban-mu under its new commune lc/muong-khuong" bash -c \
	"$(declare -f page); URL='$URL'; page >'$T/page.html'; grep -q 'class=\"cards groups\"' '$T/page.html' && grep -q '<small>lc/muong-khuong</small>' '$T/page.html' && grep -q '<small>lc/si-ma-cai</small>' '$T/page.html' && ! grep -q '<small>lc/bac-ha</small>' '$T/page.html'"
# C2's node and its tokens no longer read ban-mu (docs/admin-guide.md),
# and C2 writes there no more: what it wrote it would neither keep nor send
check "C2's token of every scope gets 404 for ban-mu's HP-B" test "$(get2 "$TR")" = 404
check "and so does its token of ban-mu" test "$(get2 "$TS")" = 404
check "token list says the token of ban-mu's old scope no longer reads it there, and what to do" bash -c \
	"'$H' --home '$T/C2' token list | grep -q 'its scope lc/si-ma-cai/ban-mu was moved to lc/muong-khuong/ban-mu (hamlet scope list): it no longer reads the records moved there; for them, make a token of scope lc/muong-khuong/ban-mu on a node that holds it'"
check "token list --json: moved_to for that token alone" bash -c \
	"'$H' --home '$T/C2' --json token list | python3 -c 'import json,sys; t={x[\"name\"]: x[\"moved_to\"] for x in json.load(sys.stdin)}; assert t[\"t-banmu\"] == \"lc/muong-khuong/ban-mu\" and t[\"t-all\"] is None, t'"
check "nor lists it" bash -c "! curl -s -H 'Authorization: Bearer $TR' '$URL2/v1/records/health_profile' | grep -q HP-B"
check "nor sees it among the changes" bash -c "! curl -s -H 'Authorization: Bearer $TR' '$URL2/v1/changes' | grep -q HP-B"
refuse "C2 no longer writes ban-mu's HP-B, naming the move" 4 \
	'no longer lets it write in scope lc/si-ma-cai/ban-mu: the network.s root moved lc/si-ma-cai/ban-mu to lc/muong-khuong/ban-mu (reason: boundary change)' \
	N C2 put health_profile HP-B '{"village":"Ban Mu"}'
refuse "nor deletes it" 4 'moved lc/si-ma-cai/ban-mu to lc/muong-khuong/ban-mu' N C2 delete health_profile HP-B
check "nor through HTTP: 403 naming the move" bash -c \
	"curl -s -w ' %{http_code}' -X PUT -H 'Authorization: Bearer $TW' '$URL2/v1/records/health_profile/HP-X?scope=lc/si-ma-cai/ban-mu' -d '{\"person_id\":\"300000000009\",\"full_name\":\"Nobody\",\"birth_date\":\"2000-01-01\"}' | grep -q 'moved lc/si-ma-cai/ban-mu to lc/muong-khuong/ban-mu.* 403$'"
check "C2 still writes in its own commune" profile C2 HP-E 300000000005 "Giang Van E"
# refused_move JSON: the report (verify --report --json) lists C2's edit
# of ban-mu as refused, naming the move
refused_move() {
	python3 - "$1" <<'PY'
import json, re, sys
j = json.load(open(sys.argv[1]))
r = [x for a in j['authors'] if a.get('name') == 'C2' for x in a['refused']]
why = (r"seq 1 of feed lc/si-ma-cai/ban-mu: the network's root moved that scope"
       r" to lc/muong-khuong/ban-mu on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC;"
       r' its author\'s certificate \("C2"\) no longer lets it write there')
assert any(x['reason'] == 'not_granted' and re.fullmatch(why, x['why'])
           for x in r), r
PY
}
N P verify --report --json >"$T/refused.json" 2>/dev/null
check "P's report lists it as refused, naming the move" refused_move "$T/refused.json"
check "and does not take it: HP-B has no such phone on P" bash -c "! '$H' --home '$T/P' get health_profile HP-B | grep -q 0933000003"
check "V2 registers HP-D after its move" profile V2 HP-D 300000000004 "Vang Thi D"
check "HP-D reaches the province (30 s)" within 30 holds P health_profile HP-D
check "C2, the commune ban-mu left, does not get HP-D (10 s)" never 10 holds C2 health_profile HP-D
# a bundle of one commune's scope goes to whoever holds the file: from
# the province, the commune ban-mu left gets none of ban-mu's records in
# it, the commune it joined gets them (Q and R: scratch nodes of the
# province's scope, which keep whatever a bundle carries)
check "P writes a bundle of lc/si-ma-cai, the commune ban-mu left" bash -c "'$H' --home '$T/P' bundle create --unsealed --scope lc/si-ma-cai '$T/left.bundle' 2>/dev/null >&2"
check "and one of lc/muong-khuong, the commune it joined" bash -c "'$H' --home '$T/P' bundle create --unsealed --scope lc/muong-khuong '$T/joined.bundle' 2>/dev/null >&2"
check "Q imports the first" bash -c "'$H' --home '$T/Q' init --network '$T/lc.network' --name q --scope lc >/dev/null && '$H' --home '$T/Q' bundle import '$T/left.bundle' >/dev/null"
check "it carried the merged bac-ha's HP-A" N Q get health_profile HP-A
check "and none of ban-mu's records" bash -c "! '$H' --home '$T/Q' get health_profile HP-B 2>/dev/null && ! '$H' --home '$T/Q' get health_profile HP-D 2>/dev/null"
check "R imports the second: ban-mu's HP-B and HP-D are in it" bash -c "'$H' --home '$T/R' init --network '$T/lc.network' --name r --scope lc >/dev/null && '$H' --home '$T/R' bundle import '$T/joined.bundle' >/dev/null && '$H' --home '$T/R' get health_profile HP-B >/dev/null && '$H' --home '$T/R' get health_profile HP-D >/dev/null"
check "V2 still reads and writes its own records" N V2 put health_profile HP-D '{"village":"Ban Mu"}'
# V2 dialling only C2 again: in sync with it, yet nothing of V2's goes
# anywhere; status and sync --wait say so
check "V2 stops dialling P" N V2 peers remove 127.0.0.1:${PORTOF[P]}
check "V2's status warns that no connected peer takes what it writes (10 s)" within 10 bash -c \
	"'$H' --home '$T/V2' status | grep -q 'WARNING: no connected peer takes what this node writes (its scope lc/si-ma-cai/ban-mu)'"
refuse "and sync --wait says so, exit 1" 1 "no connected peer takes what this node writes" \
	N V2 sync --wait --timeout 20

# --- 5. nothing was rewritten -------------------------------------------------------
daemons_stop
for n in P C1 C2 V1 V2; do check "$n's store verifies: every signature holds" N "$n" verify; done
# an auditor judges a bundle by its own trust items: C2's, made now that
# it holds the move, carries its edit of ban-mu, refused the same way
check "C2, told of the move, carries its edit and the move on a bundle" \
	N C2 bundle create --seal-to "$(key P)" --scope lc/si-ma-cai/ban-mu "$T/c2b.bundle"
N P verify --report --bundle "$T/c2b.bundle" --json >"$T/c2b.json" 2>/dev/null
check "the auditor's report on it refuses the edit, naming the move" refused_move "$T/c2b.json"
# the auditor's report lists the moves the root signed, each with its fate
N P verify --report >"$T/report.txt" 2>&1
N P verify --report --json >"$T/report.json" 2>/dev/null
sed -n '/^Scope moves/,/^$/p' "$T/report.txt" | sed 's/^/    # /'
check "P's report lists the two moves the root signed" grep -q '^Scope moves signed by the root (2): entries written under FROM are read under TO$' "$T/report.txt"
check "each with its reason and whether it is in effect" grep -q '^  - lc/si-ma-cai/ban-mu -> lc/muong-khuong/ban-mu, signed .*, reason: "boundary change" (in effect)$' "$T/report.txt"
check "--json: scope_moves, from, to, reason and in_effect" python3 -c "
import json
j = json.load(open('$T/report.json'))
m = {(x['from'], x['to']): x for x in j['scope_moves']}
assert len(j['scope_moves']) == 2, j['scope_moves']
assert m[('lc/bac-ha', 'lc/si-ma-cai')]['reason'] == 'merger 2025' and m[('lc/bac-ha', 'lc/si-ma-cai')]['in_effect']
assert m[('lc/si-ma-cai/ban-mu', 'lc/muong-khuong/ban-mu')]['reason'] == 'boundary change'
assert all(len(x['id']) == 64 for x in j['scope_moves'])
"

tests_done
