#!/usr/bin/env bash
# Two villages give one record id to two different people (each numbers
# its residents HP-1, HP-2, ...). At the commune the two meet as one
# record in conflict; whatever the commune writes to it, and however it
# resolves it, neither village is ever handed the other's resident
# (personal data law: a village holds its own residents' records only),
# unless the commune checked that both are one person (--same-person):
# then both villages get the values it settled on.
#   tests/scenario_one_id.sh PATH/TO/hamlet PATH/TO/hamletd
# (hamletd serves the commune's HTTP API once, on 127.0.0.1)
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch one-id
# exchange FROM TO: FROM's bundle for TO's summary, imported at TO
exchange() {
	N "$2" summary --out "$T/$2.sum" >/dev/null &&
		N "$1" bundle create --for "$T/$2.sum" "$T/$1-$2.bundle" >/dev/null &&
		N "$2" bundle import "$T/$1-$2.bundle" >/dev/null
}

check "network created" "$H" network create bk --out "$T"
for n in c1:bk/c1 v1:bk/c1/v1 v2:bk/c1/v2; do
	check "node ${n%%:*}" N "${n%%:*}" init --network "$T/bk.network" --name "${n%%:*}" --scope "${n#*:}"
	check "node ${n%%:*} certified for its own scope" certify "$T/bk.root.key" "${n%%:*}"
done
check "v2's resident HP-20" N v2 put health_profile HP-20 '{"person_id":"009988776655","full_name":"Ha Van Ba","birth_date":"1970-04-12"}'
check "v1's resident, also HP-20: the newer of the two" N v1 put health_profile HP-20 '{"person_id":"001122300020","full_name":"Lo Thi Mai","birth_date":"1990-01-01"}'
check "v1 to the commune" exchange v1 c1
check "v2 to the commune" exchange v2 c1
check "the commune shows one record in conflict" bash -c "'$H' --home '$T/c1' conflicts | grep -q HP-20"
check "its scope is the commune's, the one both villages lie under" \
	bash -c "'$H' --home '$T/c1' get health_profile HP-20 --json | grep -q '\"scope\": *\"bk/c1\"'"
check "the commune adds a phone" N c1 put health_profile HP-20 '{"phone":"0911000020"}'
refuse "a put that sets the person_id in conflict is refused as a resolve by choosing is (exit 2)" 2 'most likely two different people; setting it would make them one' \
	N c1 put health_profile HP-20 '{"person_id":"001122300020"}'
check "the commune exports its profiles" bash -c "'$H' --home '$T/c1' export health_profile --format csv >'$T/c1.csv'"
sed 's/^\(HP-20,.*\)$/\1/' "$T/c1.csv" >"$T/c1-again.csv"
check "importing the export again writes nothing of the conflict" bash -c "'$H' --home '$T/c1' import health_profile --format csv '$T/c1-again.csv' 2>'$T/imp.err' >/dev/null && '$H' --home '$T/c1' conflicts | grep -q 'WARNING: two nodes wrote different person_id'"
python3 - "$T/c1.csv" "$T/c1-edit.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
h = rows[0]
for r in rows[1:]:
    if r[0] == "HP-20":
        r[h.index("village")] = "khuoi-ma"
csv.writer(open(sys.argv[2], "w", newline="")).writerows(rows)
PY
check "a row of it edited elsewhere (village) is written without the person_id, saying so, and the conflict stays" bash -c "'$H' --home '$T/c1' import health_profile --format csv '$T/c1-edit.csv' 2>'$T/imp2.err' >/dev/null && grep -q 'written without their fields in conflict' '$T/imp2.err' && '$H' --home '$T/c1' conflicts | grep -q 'WARNING: two nodes wrote different person_id' && '$H' --home '$T/c1' get health_profile HP-20 | grep -q 'khuoi-ma'"
check "conflicts gives no command that chooses one person_id, pointing at the warning" bash -c "'$H' --home '$T/c1' conflicts >'$T/c1.conf' && grep -q 'CONFLICT person_id.*do not resolve by choosing one: see the WARNING below' '$T/c1.conf' && ! grep -q 'resolve with: .*person_id' '$T/c1.conf' && grep -q 'WARNING: two nodes wrote different person_id values' '$T/c1.conf'"
refuse "choosing one is refused (exit 2), saying why and how to go on" 2 'most likely two different people.*--same-person' \
	N c1 conflicts resolve health_profile HP-20 '{"full_name":"Ha Van Ba","person_id":"009988776655","birth_date":"1970-04-12"}'
check "and wrote nothing: the conflict is open" bash -c "'$H' --home '$T/c1' conflicts | grep -q HP-20"
check "the commune, having checked, resolves it with v2's resident (--same-person)" N c1 conflicts resolve health_profile HP-20 \
	'{"full_name":"Ha Van Ba","person_id":"009988776655","birth_date":"1970-04-12"}' --same-person
check "the commune to v1" exchange c1 v1
check "the commune to v2" exchange c1 v2
# having checked that the two are one person, the commune's resolution
# reaches both villages: it is written in each scope that wrote a value
# (in the commune's, which no village reads, v1 kept the other number)
check "v1 gets the one person's values the commune settled on" \
	bash -c "'$H' --home '$T/v1' get health_profile HP-20 --json | grep -q '009988776655'"
check "v1 shows no conflict and finds the person by the right number" \
	bash -c "! '$H' --home '$T/v1' conflicts | grep -q HP-20 && '$H' --home '$T/v1' find 009988776655 | grep -q HP-20"
check "v2 holds nothing of the value set aside" \
	bash -c "! grep -rq 'Lo Thi Mai\|001122300020' <('$H' --home '$T/v2' get health_profile HP-20 --json) <('$H' --home '$T/v2' export health_profile 2>&1)"
check "the resolution was written in each village's scope" bash -c "'$H' --home '$T/c1' history health_profile HP-20 --json | python3 -c '
import json, sys
ops = json.load(sys.stdin)[\"ops\"]
s = sorted(o[\"scope\"] for o in ops if o.get(\"resolve\") or o[\"seq\"] and o[\"scope\"] in (\"bk/c1/v1\", \"bk/c1/v2\") and o[\"kind\"] == \"put\")
sys.exit(0 if s.count(\"bk/c1/v1\") == 2 and s.count(\"bk/c1/v2\") == 2 else 1)'"
check "every node shows the same person_id" bash -c "for n in c1 v1 v2; do '$H' --home '$T/'\$n get health_profile HP-20 --json | grep -q '\"person_id\": *\"009988776655\"' || exit 1; done"
check "v1's store verifies" N v1 verify
check "v2's store verifies" N v2 verify
# a record of one village alone is still changed in that village's scope
check "v1's resident HP-21" N v1 put health_profile HP-21 '{"person_id":"001122300021","full_name":"Lo Van Binh","birth_date":"1991-01-01"}'
check "v1 to the commune" exchange v1 c1
check "the commune adds HP-21's phone" N c1 put health_profile HP-21 '{"phone":"0911000021"}'
check "the commune to v1" exchange c1 v1
check "v1 has the phone the commune added" \
	bash -c "'$H' --home '$T/v1' get health_profile HP-21 --json | grep -q 0911000021"
# the guide's way out: each village enters its resident under its own
# id, then the shared id is deleted once at the commune; the delete goes
# into each village's scope, so it reaches both (it went into the
# commune's, which no village reads, and both kept HP-30 for good)
check "v1's resident HP-30" N v1 put health_profile HP-30 '{"person_id":"001122300030","full_name":"Lo Thi Ba","birth_date":"1990-03-03"}'
check "v2's resident, also HP-30" N v2 put health_profile HP-30 '{"person_id":"009988770030","full_name":"Ha Van Nam","birth_date":"1971-03-03"}'
check "v1 to the commune" exchange v1 c1
check "v2 to the commune" exchange v2 c1
check "v1 enters its resident again as V1-HP-30" N v1 put health_profile V1-HP-30 '{"person_id":"001122300030","full_name":"Lo Thi Ba","birth_date":"1990-03-03"}'
check "v2 enters its resident again as V2-HP-30" N v2 put health_profile V2-HP-30 '{"person_id":"009988770030","full_name":"Ha Van Nam","birth_date":"1971-03-03"}'
# a village sees its new id as a duplicate of its part of the shared one:
# its hint gives the guide's way, not a delete of the shared id there
check "at v1, V1-HP-30 is a duplicate of HP-30, and the hint says the commune deletes the shared id, not v1" bash -c "'$H' --home '$T/v1' conflicts >'$T/v1.conf' && grep -q 'DUPLICATE of health_profile/HP-30' '$T/v1.conf' && grep -q 'but if one of the two is an id the commune found given to two people .*delete neither here: the commune deletes the shared id once, for both villages' '$T/v1.conf'"
check "the commune deletes HP-30 once" N c1 delete health_profile HP-30
check "its history shows a delete in each village's scope" bash -c "'$H' --home '$T/c1' history health_profile HP-30 --json | python3 -c '
import json, sys
ops = json.load(sys.stdin)[\"ops\"]
s = sorted(o[\"scope\"] for o in ops if o[\"kind\"] == \"delete\")
sys.exit(0 if s == [\"bk/c1/v1\", \"bk/c1/v2\"] else 1)'"
check "the commune to v1" exchange c1 v1
check "the commune to v2" exchange c1 v2
check "v1 shows HP-30 deleted" bash -c "'$H' --home '$T/v1' get health_profile HP-30 | grep -q '^health_profile/HP-30 is deleted'"
check "and so does v2" bash -c "'$H' --home '$T/v2' get health_profile HP-30 | grep -q '^health_profile/HP-30 is deleted'"
check "v1's resident lives on under its new id" N v1 get health_profile V1-HP-30
check "and neither village shows a conflict" bash -c "! '$H' --home '$T/v1' conflicts | grep -q HP-30 && ! '$H' --home '$T/v2' conflicts | grep -q HP-30"

# a village deletes its part of a shared id before the commune does: the
# commune's plain delete is refused then (a conflict not settled), and
# the resolve that keeps the record is refused too (two people): the
# warning, the refusal and status name the deleting resolution instead
check "v1's resident HP-40" N v1 put health_profile HP-40 '{"person_id":"001122300040","full_name":"Lo Thi Nam","birth_date":"1990-05-05"}'
check "v2's resident, also HP-40" N v2 put health_profile HP-40 '{"person_id":"009988770040","full_name":"Ha Van Bay","birth_date":"1971-05-05"}'
check "v1 to the commune" exchange v1 c1
check "v2 to the commune" exchange v2 c1
check "v1 enters its resident again as V1-HP-40" N v1 put health_profile V1-HP-40 '{"person_id":"001122300040","full_name":"Lo Thi Nam","birth_date":"1990-05-05"}'
check "v1 deletes its part of HP-40 itself" N v1 delete health_profile HP-40
check "v1 to the commune" exchange v1 c1
check "the commune's warning names the deleting resolution, not a plain delete" bash -c "'$H' --home '$T/c1' conflicts >'$T/c40.conf'; grep 'WARNING: two nodes' '$T/c40.conf' | grep -q 'One village deleted its part already, so a plain delete is refused: delete it with a resolution, which reaches both villages (.* conflicts resolve health_profile HP-40 --delete)' && ! grep -q 'delete health_profile HP-40)' '$T/c40.conf'"
refuse "the commune's plain delete is refused (exit 2), offering the deleting resolution" 2 \
	'to delete it: .* conflicts resolve health_profile HP-40 --delete (keeping it as shown is refused: two nodes wrote different person_id values' \
	N c1 delete health_profile HP-40
check "and not the resolve that keeps it, which is refused" bash -c "! grep -q 'to keep it as shown\|one that keeps it as shown' '$T/refused'"
check "status counts it apart: one village's part deleted already" bash -c "'$H' --home '$T/c1' status --json | python3 -c 'import json,sys; p=json.load(sys.stdin)[\"problems\"][\"health_profile\"]; sys.exit(0 if p[\"two_people\"] == 1 and p[\"two_people_one_deleted\"] == 1 else 1)'"
# the HTTP API says the same to a script
start_http c1 && ok "the commune serves HTTP" || fail "the commune serves HTTP"
TW=$(N c1 token create --name w40 --role write | grep -o 'hmt_[A-Za-z0-9_]*')
check "an HTTP DELETE of HP-40 is 409 delete_conflict, naming the deleting resolution and not the keeping one" bash -c \
	"curl -s -w ' %{http_code}' -X DELETE -H 'Authorization: Bearer $TW' 'http://127.0.0.1:$HP/v1/records/health_profile/HP-40' >'$T/d40.http'; grep -q 'delete_conflict' '$T/d40.http' && grep -q 'resolve with {.\\{0,1\\}\"delete.\\{0,1\\}\":true}' '$T/d40.http' && ! grep -q 'empty body to keep' '$T/d40.http' && grep -q ' 409\$' '$T/d40.http'"
stop c1
check "the deleting resolution the warning names works" N c1 conflicts resolve health_profile HP-40 --delete
check "the commune to v2" exchange c1 v2
check "v2 shows HP-40 deleted" bash -c "'$H' --home '$T/v2' get health_profile HP-40 | grep -q '^health_profile/HP-40 is deleted'"
check "and the commune shows no conflict" bash -c "! '$H' --home '$T/c1' conflicts | grep -q HP-40"

# a node that reads both villages but may write only v1's scope settles
# a --same-person conflict: its resolution reaches v1 alone, and it says
# that v2 must correct its own copy, with the put to run there
check "node cw (bk/c1)" N cw init --network "$T/bk.network" --name cw --scope bk/c1
check "cw reads bk/c1, writes bk/c1/v1 only" certify "$T/bk.root.key" cw bk/c1 bk/c1/v1
check "v1's resident HP-41" N v1 put health_profile HP-41 '{"person_id":"001122300041","full_name":"Lo Van Tam","birth_date":"1990-06-06"}'
check "v2 types the same person's number wrong" N v2 put health_profile HP-41 '{"person_id":"001122300014","full_name":"Lo Van Tam","birth_date":"1990-06-06"}'
check "v1 to cw" exchange v1 cw
check "v2 to cw" exchange v2 cw
check "cw resolves it --same-person, naming v2's scope it does not reach and the put to run there" bash -c "'$H' --home '$T/cw' conflicts resolve health_profile HP-41 '{\"person_id\":\"001122300041\"}' --same-person 2>'$T/cw.err' >/dev/null && grep -q '^hamlet: note: this node may not write in scope bk/c1/v2, so the resolution does not reach that village: .* That village must correct its own copy; on its node, run: hamlet put health_profile HP-41 '\\''{\"person_id\":\"001122300041\"}'\\''\$' '$T/cw.err' && ! grep -q 'bk/c1/v1' '$T/cw.err'"
check "v2 runs the put it was given" N v2 put health_profile HP-41 '{"person_id":"001122300041"}'
check "v2 to cw" exchange v2 cw
check "cw shows no conflict, and the one number" bash -c "! '$H' --home '$T/cw' conflicts | grep -q HP-41 && '$H' --home '$T/cw' get health_profile HP-41 --json | grep -q '\"person_id\": *\"001122300041\"'"

# an erasure at the commune reaches both villages the same way; with
# --scope, only the village named
cert=$("$H" cert issue --root-key "$T/bk.root.key" --to "$(key c1)" --name c1 --role commune \
	--read bk/c1 --write bk/c1 --delegate --out "$T/c1-admin.cert" >/dev/null &&
	"$H" --home "$T/c1" cert install "$T/c1-admin.cert" >/dev/null && echo ok)
check "the commune becomes an administrator of bk/c1" test "$cert" = ok
for id in HP-31 HP-32 HP-33; do
	check "v1's resident $id" N v1 put health_profile $id '{"person_id":"001122300031","full_name":"Lo Thi Bon","birth_date":"1990-04-04"}'
	check "v2's resident, also $id" N v2 put health_profile $id '{"person_id":"009988770031","full_name":"Ha Van Sau","birth_date":"1971-04-04"}'
done
check "v1 to the commune" exchange v1 c1
check "v2 to the commune" exchange v2 c1
check "the commune erases HP-31" N c1 erase health_profile HP-31 --reason "two people's request"
check "the commune erases v1's part of HP-32 only, saying the record stays live from v2's part and how to erase it whole" bash -c "'$H' --home '$T/c1' erase health_profile HP-32 --scope bk/c1/v1 --reason \"v1's resident's request\" >'$T/e32.out' && grep -q '^erased the part of health_profile/HP-32 written under scope bk/c1/v1 ' '$T/e32.out' && grep -q '^The record is NOT erased: it stays live from its part written in bk/c1/v2, which this erasure does not reach .* erase health_profile HP-32 --reason TEXT\$' '$T/e32.out' && ! grep -q '^Its contents are gone' '$T/e32.out'"
check "--json says so too: the record not erased, v2's part not reached" bash -c "'$H' --home '$T/c1' --json erase health_profile HP-33 --scope bk/c1/v1 --reason 'a request' | python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(0 if j[\"record_erased\"] is False and j[\"not_reached\"] == [\"bk/c1/v2\"] else 1)'"
check "HP-33 stays live at the commune, from v2's part" bash -c "'$H' --home '$T/c1' get health_profile HP-33 | grep -q 'Ha Van Sau'"
refuse "an erasure under a scope the record has nothing in is refused, naming where it was written" 4 \
	"record health_profile/HP-20 has nothing written under scope bk/c1/v9 (it was written in " \
	N c1 erase health_profile HP-20 --scope bk/c1/v9 --reason "a typo"
check "and HP-20 is not erased" bash -c "! '$H' --home '$T/c1' get health_profile HP-20 | grep -q 'is erased'"
check "the commune to v1" exchange c1 v1
check "the commune to v2" exchange c1 v2
for v in v1 v2; do
	check "$v shows HP-31 erased" bash -c "'$H' --home '$T/$v' get health_profile HP-31 | grep -q '^health_profile/HP-31 is erased'"
done
check "v1 shows HP-32 erased" bash -c "'$H' --home '$T/v1' get health_profile HP-32 | grep -q '^health_profile/HP-32 is erased'"
check "v2 keeps its own HP-32" bash -c "'$H' --home '$T/v2' get health_profile HP-32 | grep -q 'Ha Van Sau'"
check "no village store holds the erased names" bash -c "! grep -aq 'Lo Thi Bon' '$T/v1/store/data.mdb' && ! grep -aq 'Ha Van Sau' <('$H' --home '$T/v2' export health_profile 2>/dev/null | grep HP-31)"
check "v1's store verifies" N v1 verify
check "v2's store verifies" N v2 verify
# a commune's whole scope, unsealed, imported at a village: the other
# village's entries are counted as not ours, never named, and the import
# is no failure (it exited 1 naming them one by one)
check "the commune writes its whole scope to an unsealed bundle" bash -c "'$H' --home '$T/c1' bundle create --unsealed '$T/c1-all.bundle' >/dev/null 2>&1"
N v1 bundle import "$T/c1-all.bundle" >"$T/all.out" 2>&1
check "v1 imports it (exit 0)" test $? = 0
check "counting v2's entries as not its own" grep -qE '^  not ours: +[1-9]' "$T/all.out"
check "without naming any of v2's records" bash -c "! grep -q 'V2-HP-30' '$T/all.out'"
check "and --json counts them" bash -c "'$H' --home '$T/v1' --json bundle import '$T/c1-all.bundle' 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d[\"imported\"][\"outside_scope\"] > 0 and d[\"imported\"][\"rejected\"] == 0 else 1)'"
# a delete of one village's part (--scope) at the commune, which holds
# both: the other village's resident stays, at the commune as at v2
check "v1's HP-50" N v1 put health_profile HP-50 '{"person_id":"001122300050","full_name":"Lo Van Bon","birth_date":"1980-01-01"}'
check "v2's HP-50, another person" N v2 put health_profile HP-50 '{"person_id":"009988770050","full_name":"Ha Thi Nam","birth_date":"1981-01-01"}'
check "both to the commune" bash -c "$(declare -f N exchange); H='$H' T='$T'; exchange v1 c1 && exchange v2 c1"
check "the commune deletes v1's part alone (--scope bk/c1/v1)" N c1 delete health_profile HP-50 --scope bk/c1/v1
N c1 get health_profile HP-50 >"$T/hp50.txt" 2>&1
sed 's/^/    # /' "$T/hp50.txt"
check "the commune still shows v2's resident, not a deleted record" bash -c "! grep -q 'is deleted' '$T/hp50.txt' && grep -q 'Ha Thi Nam' '$T/hp50.txt'"
daemons_stop
tests_done
