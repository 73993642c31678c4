#!/usr/bin/env bash
# Certificates at the command line, as the province and a commune's
# digital team use them: the root certifies a commune that may delegate;
# the commune certifies a village without the province; what widens a
# grant, certifies without leave, or is for another key is refused,
# naming why; an auditor checks a chain offline with the network file.
#   tests/scenario_cert.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
. "$(dirname "$0")/testlib.sh"
tests_scratch cert
C() { "$H" --home "$T/c" "$@"; }
V() { "$H" --home "$T/v" "$@"; }

check "network created" "$H" network create bk --out "$T"
check "commune node" C init --network "$T/bk.network" --scope bk/bt/qt
check "village node" V init --network "$T/bk.network" --scope bk/bt/qt/na-pai
refuse "a node without a certificate says so" 1 "has no certificate" C cert list
check "the root certifies the commune, which may delegate" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key c)" --name "Quang Thuan team" \
	--role commune --read bk/bt/qt --write bk/bt/qt --delegate --out "$T/c.cert"
check "issued with the root key and no node's home, it says revocations were not checked" bash -c \
	"'$H' cert issue --root-key '$T/bk.root.key' --to \"\$(sed -n 's/^public_key = //p' '$T/v/node.conf')\" --name V0 --role village --read bk/bt/qt/na-pai --write bk/bt/qt/na-pai --out '$T/v0.cert' 2>&1 | grep -q 'note: whether key [0-9a-f]* was revoked is not checked: no node.s home was given. Give --home DIR'"
check "with --home of a node, no such note" bash -c \
	"'$H' --home '$T/c' cert issue --root-key '$T/bk.root.key' --to \"\$(sed -n 's/^public_key = //p' '$T/v/node.conf')\" --name V00 --role village --read bk/bt/qt/na-pai --write bk/bt/qt/na-pai --out '$T/v00.cert' >'$T/v00.out' 2>&1 && ! grep -q 'was revoked is not checked' '$T/v00.out'"
refuse "issue never replaces a file" 4 "already exists" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key c)" --name x --role commune \
	--read bk --write bk --out "$T/c.cert"
refuse "a certificate for another key is not installed" 4 "another node's key" V cert install "$T/c.cert"
check "the commune installs its certificate, with no note (it writes its own scope)" bash -c "'$H' --home '$T/c' cert install '$T/c.cert' 2>'$T/inst.err' && ! grep -q note '$T/inst.err'"
# a node certified for a scope that is not its own is told at install
check "node lech, scope bk/bt/qt/lech" "$H" --home "$T/lech" init --network "$T/bk.network" --scope bk/bt/qt/lech
check "the root certifies lech for another village by mistake" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(sed -n 's/^public_key = //p' "$T/lech/node.conf")" --name "Lech" \
	--role village --read bk/bt/qt/khac --write bk/bt/qt/khac --out "$T/lech.cert"
refuse "installing it is refused: it reads nothing of the node's own scope, which it would take out" 4 \
	'lech.cert is not installed: it is for "Lech" and reads bk/bt/qt/khac, not this node.s own scope bk/bt/qt/lech: installed, it would take out what this node holds of its own scope' \
	"$H" --home "$T/lech" cert install "$T/lech.cert"
check "the node has no certificate still" bash -c "! '$H' --home '$T/lech' cert list >/dev/null 2>&1"
check "with --force it is installed, saying its puts in its own scope will be refused" bash -c "'$H' --home '$T/lech' cert install '$T/lech.cert' --force 2>&1 | grep -q 'note: this certificate lets the node write only under bk/bt/qt/khac, not in its own scope bk/bt/qt/lech'"
check "an end given as a spreadsheet writes a day (31/12/2029) is the end of that day" bash -c "'$H' cert issue --root-key '$T/bk.root.key' --to \"\$(sed -n 's/^public_key = //p' '$T/lech/node.conf')\" --name Lech2 --role village --read bk/bt/qt/lech --write bk/bt/qt/lech --expires 31/12/2029 --out '$T/lech2.cert' >'$T/lech2.out' 2>&1 && grep -q 'the end of 2029-12-31 (UTC)' '$T/lech2.out'"
check "and lists it as valid" bash -c "'$H' --home '$T/c' cert list | grep -q '^valid: the chain holds'"
check "the commune certifies a village for two collections, without the province" \
	"$H" cert issue --issuer-home "$T/c" --to "$(key v)" --name "Na Pai" --role village \
	--read bk/bt/qt/na-pai --write bk/bt/qt/na-pai --collections health_profile,payment \
	--expires 2030-06-30 --out "$T/v.cert"
cp "$T/out" "$T/issued.txt"
check "and says so when it issues" grep -q 'this node keeps it too' "$T/issued.txt"
check "one issued to end after the commune's own says it ends with the commune's" bash -c "'$H' cert issue --issuer-home '$T/c' --to \"\$(sed -n 's/^public_key = //p' '$T/lech/node.conf')\" --name Lech3 --role village --read bk/bt/qt/lech --write bk/bt/qt/lech --expires 2099-12-31 --out '$T/lech3.cert' 2>&1 | grep -q \"note: the issuer's own certificate is valid only until .*, and so is this one\""
check "the commune keeps the certificate it issued: it expects the village before it first syncs" \
	bash -c "'$H' --home '$T/c' report lag --threshold 1h | grep -q '^Na Pai (village, bk/bt/qt/na-pai): never heard from'"
check "the village installs it" V cert install "$T/v.cert"
# cert list KEY: every chain of a key the trust set holds, and what the
# key signed
check "cert list KEY at the commune shows the village's chain, valid" bash -c "'$H' --home '$T/c' cert list '$(key v)' >'$T/lk.out' && grep -q '^  \"Na Pai\" (village), key $(key v)\$' '$T/lk.out' && grep -q '^issued under:' '$T/lk.out' && grep -q '^valid: the chain holds' '$T/lk.out'"
check "and that it signed none" bash -c "sed -n '/^certificates this key signed:/,\$p' '$T/lk.out' | grep -qx '  none'"
check "cert list of the commune's key lists the village among what it signed" bash -c "'$H' --home '$T/c' cert list '$(key c)' | sed -n '/^certificates this key signed:/,\$p' | grep -q '^  \"Na Pai\" (village)'"
check "cert list KEY --json: the chain, valid, and what it signed" bash -c "'$H' --home '$T/c' --json cert list '$(key c)' | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"valid\"] and len(j[\"chains\"]) == 1 and j[\"chains\"][0][\"chain\"][0][\"name\"] == \"Quang Thuan team\" and [c[\"name\"] for c in j[\"signed\"]].count(\"Na Pai\") == 1 and j[\"unlinked\"] == [], j'"
check "cert list of the root key says it needs no certificate, and lists the commune among what it signed (exit 0)" bash -c "'$H' --home '$T/c' cert list \"\$(sed -n 's/^root_public_key = //p' '$T/bk.network')\" >'$T/lroot.out' && grep -q \"^the network's root key: it needs no certificate\" '$T/lroot.out' && grep -q '^  \"Quang Thuan team\" (commune)' '$T/lroot.out'"
refuse "cert list of a key no certificate names says so (exit 3)" 3 "no certificate of key 0*5, and none it signed, is known here" \
	C cert list "$(printf '%064d' 5)"
printf 'id,person_id,full_name,birth_date\nNP-HP-9,001190000009,Lo Van Chin,1990-01-01\n' >"$T/np.csv"
refuse "an import into a scope the village may not write blames the scope, not a row" 4 "this node may not write there; check --scope" \
	V import health_profile --format csv --scope bk/bt/qt/khuoi-ma "$T/np.csv"
check "and does not tell it to fix a row" bash -c "! grep -q 'fix row' '$T/refused'"
# the commune imports two rows into the wrong village, then the whole
# sheet into the right one: every stored row is named with the real
# cause, and the advice does not put the new row in the commune's scope
printf 'id,person_id,full_name,birth_date\nNP-HP-21,001190000021,Lo Van A,1990-01-01\nNP-HP-22,001190000022,Lo Van B,1990-01-02\n' >"$T/two.csv"
{ cat "$T/two.csv"; printf 'NP-HP-23,001190000023,Lo Van C,1990-01-03\n'; } >"$T/three.csv"
check "the commune imports two rows with --scope of the wrong village" C import health_profile --format csv --scope bk/bt/qt/khuoi-ma "$T/two.csv"
refuse "the whole sheet with --scope of the right village names the first stored row and its scope" 4 \
	"row 2: NP-HP-21 is stored in scope bk/bt/qt/khuoi-ma, not in bk/bt/qt/na-pai: --scope places new records only" \
	C import health_profile --format csv --scope bk/bt/qt/na-pai "$T/three.csv"
check "and the second, each once" bash -c "grep -c 'row 3: NP-HP-22 is stored in scope' '$T/refused' | grep -qx 1"
check "without blaming the certificate" bash -c "! grep -q 'may not write there' '$T/refused'"
check "nor telling to leave --scope out for the new row" bash -c "grep -q 'in a file of their own without --scope .*, and the new rows with --scope' '$T/refused' && ! grep -q 'leave it out' '$T/refused'"
check "and nothing was written" bash -c "! '$H' --home '$T/c' get health_profile NP-HP-23 >/dev/null 2>&1"
check "its chain has two certificates, the commune's under it" \
	bash -c "'$H' --home '$T/v' cert list --json | grep -c '\"subject\"' | grep -qx 2"
check "it expires at the end of the day given" \
	bash -c "'$H' --home '$T/v' cert list | grep -q 'until the end of 2030-06-30 (UTC)'"
check "and status says the chain's end: the commune's, which comes first" \
	bash -c "'$H' --home '$T/v' status | grep -q '^certificate: \"Na Pai\" (village), valid until [0-9-]* [0-9:]* UTC, when the certificate of \"Quang Thuan team\" above it in the chain ends; reads'"
refuse "a delegate cannot widen its grant, and is told which scope" 4 'lets its holder read bk, outside what its issuer "Quang Thuan team" may read (bk/bt/qt)' \
	"$H" cert issue --issuer-home "$T/c" --to "$(key v)" --name Wide --role village \
	--read bk --write bk --out "$T/w.cert"
refuse "a node that may not delegate cannot certify" 4 "does not let it certify others" \
	"$H" cert issue --issuer-home "$T/v" --to "$(key v)" --name x --role village \
	--read bk/bt/qt/na-pai --write '' --out "$T/x.cert"
refuse "an auditor never writes" 4 "grants no writing" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name Audit --role auditor \
	--read '*' --write bk --out "$T/a.cert"
check "an auditor's certificate reads every scope and writes none" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name Audit --role auditor \
	--read '*' --write '' --out "$T/a.cert"
check "an auditor checks a chain offline with the network file" \
	bash -c "'$H' cert show '$T/v.cert' --network '$T/bk.network' | grep -q '^valid: the chain holds'"
check "network create" "$H" network create other --out "$T/o"
refuse "a chain of another network does not hold" 1 "another network" \
	"$H" cert show "$T/v.cert" --network "$T/o/other.network"
printf 'garbage' >"$T/g.cert"
refuse "a file that is not a chain is named" 4 "not a certificate chain" "$H" cert show "$T/g.cert"
refuse "an unknown role is named, a usage error (exit 2) as a bad --expires is" 2 "use village, commune" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name x --role mayor \
	--read bk --write bk --out "$T/y.cert"
refuse "a --to that is no key is a usage error too" 2 '--to "abc" is not a node key' \
	"$H" cert issue --root-key "$T/bk.root.key" --to abc --name x --role village \
	--read bk --write bk --out "$T/y.cert"
refuse "so is a scope in none of the forms a scope takes" 2 'invalid --read "BK"' \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name x --role village \
	--read BK --write bk --out "$T/y.cert"
refuse "an --expires already past is named so, not as ending before it begins" 2 "\-\-expires 2020-01-01 is already past" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name x --role village \
	--read bk --write bk --expires 2020-01-01 --out "$T/y.cert"
refuse "the options missing are each named" 2 "missing: --read, --out" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name x --role village --write bk
refuse "a bad date is named, a usage error as token create's" 2 "not a date: there is no month 13" \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name x --role village \
	--read bk --write bk --expires 2030-13-45 --out "$T/y.cert"
refuse "a day that is none (31/02) says why, and every form taken" 2 \
	'"31/02/2027" is not a date: month 2 of 2027 has 28 days, there is no day 31; give DD/MM/YYYY, YYYY-MM-DD or a number of days such as 365d' \
	"$H" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name x --role village \
	--read bk --write bk --expires 31/02/2027 --out "$T/y.cert"
# the commune may not revoke a node the root certified: it is told to
# use the root key
refuse "the commune revoking a node the root certified is told to use the root key" 4 \
	"the root key certified this node: revoke it with the root key (hamlet cert revoke $(key lech) --root-key" \
	"$H" --home "$T/lech" cert revoke "$(key lech)" --issuer-home "$T/c"
# a key mistyped would be revoked as readily as the right one, keeping
# nothing it wrote (the root may revoke a key it has not met): refused,
# naming the key and --drop-unheld; with it, revoked with a note; the
# right key is revoked without either
refuse "the root's revocation of a key no certificate names is refused, saying that none of what it wrote is known, and what to do" 4 \
	"no certificate of key 0*7 is known here, so none of what it wrote is either: a revocation signed here keeps none of it.*add --drop-unheld" \
	"$H" --home "$T/c" cert revoke "$(printf '%064d' 7)" --root-key "$T/bk.root.key"
check "with --drop-unheld the root revokes it, with a note saying so" \
	bash -c "'$H' --home '$T/c' cert revoke $(printf '%064d' 7) --root-key '$T/bk.root.key' --drop-unheld >'$T/rev7.out' 2>'$T/rev7.err'; grep -q 'note: no certificate of key 0*7 is known here: check that it is the key to revoke' '$T/rev7.err'"
check "as new: the refused one stored nothing" grep -qx "revoked $(printf '%064d' 7)" "$T/rev7.out"
check "a key the node knows is revoked with no such note" \
	bash -c "! '$H' --home '$T/c' cert revoke '$(key lech)' --root-key '$T/bk.root.key' 2>&1 | grep -q 'no certificate of key'"
check "cert show of another node's revoked certificate, from a home, names that node's key, not this node's" bash -c \
	"'$H' --home '$T/c' cert show '$T/lech.cert' >'$T/lech.show' 2>&1; grep -q '^  the key of \"Lech\" was revoked by ' '$T/lech.show' && ! grep -q 'this node.s key was revoked' '$T/lech.show'"
# a node that holds the revocation of its own key knows it is revoked:
# status and cert list say so, and it writes nothing every peer refuses
check "the village writes while its certificate holds" V put health_profile HP-1 \
	'{"person_id":"001122334455","full_name":"Lo Thi Mai","birth_date":"1990-04-12"}'
check "the root revokes the village's key, at the village" \
	V cert revoke "$(key v)" --root-key "$T/bk.root.key" --reason "PC stolen"
refuse "cert list says the key is revoked" 1 "key is revoked" V cert list
cp "$T/refused" "$T/own-revoked.txt"
refuse "cert list KEY of the revoked key: its chain NOT VALID (exit 1)" 1 "^NOT VALID: its key is revoked" V cert list "$(key v)"
check "and who revoked it, when and why" grep -q '^  this node.s key was revoked by .* on [0-9-]* [0-9:]*.*, reason: "PC stolen"$' "$T/refused"
refuse "a certificate for the revoked key, issued with the root key where --home holds the revocation, is refused (it would write again)" 4 \
	"key $(key v) was revoked (by key .* reason: \"PC stolen\"): a certificate for it lets that key write again.*add --force" \
	"$H" --home "$T/v" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name "Na Pai" --role village --read bk/bt/qt/na-pai --write bk/bt/qt/na-pai --out "$T/v-again.cert"
check "and no file is written" test ! -e "$T/v-again.cert"
check "with --force it is issued" "$H" --home "$T/v" cert issue --root-key "$T/bk.root.key" --to "$(key v)" --name "Na Pai" --role village --read bk/bt/qt/na-pai --write bk/bt/qt/na-pai --out "$T/v-again.cert" --force
cp "$T/own-revoked.txt" "$T/refused"
check "and who revoked it, when and why (cert revoke --reason)" \
	grep -q '^  this node.s key was revoked by .* on [0-9-]* [0-9:]*.*, reason: "PC stolen"$' "$T/refused"
refuse "cert show of its file, from the home, judges it by the home's network and revocations" 1 "NOT VALID: its key is revoked" \
	V cert show "$T/v.cert"
refuse "with --network of that network too" 1 "NOT VALID: its key is revoked" \
	V cert show "$T/v.cert" --network "$T/bk.network"
V cert list --json >"$T/list.json"
check "cert list --json gives the revocation and its reason" python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))['revocations']
assert len(r) == 1 and r[0]['reason'] == 'PC stolen' and r[0]['own'], r
assert r[0]['issued'].endswith('Z'), r" "$T/list.json"
check "cert list --json: not valid" bash -c "'$H' --home '$T/v' cert list --json | grep -q '\"valid\": *false'"
check "status says REVOKED" bash -c "'$H' --home '$T/v' status | grep -q '^certificate: REVOKED: this node.s key is revoked'"
check "status --json: revoked" bash -c "'$H' --home '$T/v' status --json | grep -q '\"revoked\": *true'"
refuse "a revoked node's put is refused, naming why" 4 "key is revoked" \
	V put health_profile HP-2 '{"person_id":"001122334466","full_name":"Lo Van Binh","birth_date":"1991-04-12"}'
check "and nothing was stored" bash -c "! '$H' --home '$T/v' get health_profile HP-2 >/dev/null 2>&1"
check "what it wrote before stays" V get health_profile HP-1
check "the root revokes the commune's key, at the commune, saying that certificates it signed unseen here end with it" \
	bash -c "'$H' --home '$T/c' cert revoke '$(key c)' --root-key '$T/bk.root.key' --reason 'team disbanded' | grep -q '^  a certificate it signed that this node has not seen (issued since its last sync with it) is not kept and ends with it'"
refuse "a revoked administrator certifies nobody" 4 "key is revoked" \
	"$H" cert issue --issuer-home "$T/c" --to "$(key v)" --name "Na Pai" --role village \
	--read bk/bt/qt/na-pai --write bk/bt/qt/na-pai --out "$T/v2.cert"
check "the root revokes the village's key at the commune too" \
	C cert revoke "$(key v)" --root-key "$T/bk.root.key" --reason "PC stolen"
check "the village writes a summary" bash -c "'$H' --home '$T/v' summary --out '$T/v.sum' 2>/dev/null"
refuse "the commune makes no bundle for a revoked node, saying so" 4 "is revoked here" \
	C bundle create --for "$T/v.sum" "$T/v.bundle"
# a certificate that does not hold (here: another node's, put in place by
# hand) lets the node save, with a note that others will refuse it
check "a third node" "$H" --home "$T/x" init --network "$T/bk.network" --scope bk/bt/qt/x
cp "$T/c.cert" "$T/x/node.cert"
check "its put is saved, with a note that its certificate does not hold" \
	bash -c "'$H' --home '$T/x' put health_profile HP-9 '{\"person_id\":\"001122334499\",\"full_name\":\"Lo Van Chien\",\"birth_date\":\"1992-04-12\"}' 2>&1 | grep -q 'certificate does not hold now (the certificate is for another node.s key)'"

# a node revoked at the commune writes on, not yet told: once the
# revocation reaches it, what it wrote after it is taken out, and status
# says so, not that its store was restored
check "a village w, certified by the root" bash -c "'$H' --home '$T/w' init --network '$T/bk.network' --scope bk/bt/qt/w >/dev/null && '$H' cert issue --root-key '$T/bk.root.key' --to \"\$(sed -n 's/^public_key = //p' '$T/w/node.conf')\" --name W --role village --read bk/bt/qt/w --write bk/bt/qt/w --out '$T/w.cert' >/dev/null && '$H' --home '$T/w' cert install '$T/w.cert' >/dev/null"
check "the root revokes w's key, at the commune" C cert revoke "$(key w)" --root-key "$T/bk.root.key" --reason "PC replaced" --drop-unheld
sleep 1.1
check "w, not told, writes" N w put health_profile HP-W9 '{"person_id":"001122334498","full_name":"Lo Van Wu","birth_date":"1992-04-12"}'
check "the revocation reaches w by an unsealed bundle (none is sealed for a revoked node)" bash -c "'$H' --home '$T/c' bundle create --unsealed '$T/c-w.bundle' >/dev/null && '$H' --home '$T/w' bundle import '$T/c-w.bundle' >'$T/c-w.out'"
check "the import says it took in the revocation and took out the entry w wrote after it" bash -c \
	"grep -q '^  trust:      [1-9][0-9]* new (certificates, revocations' '$T/c-w.out' && grep -q '^  taken out:  1 entry this node held, written by a revoked key after its revocation' '$T/c-w.out'"
check "a second import of it takes nothing more out (--json: taken_out 0, trust_new 0)" bash -c "'$H' --home '$T/w' --json bundle import '$T/c-w.bundle' | python3 -c 'import json,sys; j=json.load(sys.stdin)[\"imported\"]; assert j[\"taken_out\"] == 0 and j[\"trust_new\"] == 0, j'"
N w status >"$T/w.status" 2>&1
check "w's status says its writes are refused as revoked, not waiting for a restored store" bash -c \
	"grep -q '^own writes: REFUSED: this node.s key is revoked: what it signed after the revocation took effect was taken out of its store' '$T/w.status' && ! grep -q 'restored or replaced' '$T/w.status'"
# a root key file others may read: used, with a warning naming it
cp "$T/bk.root.key" "$T/loose.root.key" && chmod 644 "$T/loose.root.key"
check "a certificate issued with a root key others may read warns, naming its mode and the fix" bash -c \
	"'$H' cert issue --root-key '$T/loose.root.key' --to \"\$(sed -n 's/^public_key = //p' '$T/w/node.conf')\" --name W2 --role village --read bk/bt/qt/w --write bk/bt/qt/w --out '$T/w2.cert' 2>&1 >/dev/null | grep -q 'WARNING: .*loose.root.key is mode 0644: .*chmod 600'"
check "a village certificate that reads its commune, beyond what it writes, is issued with a note saying whose records it will hold" bash -c \
	"'$H' cert issue --root-key '$T/bk.root.key' --to \"\$(sed -n 's/^public_key = //p' '$T/w/node.conf')\" --name W3 --role village --read bk/bt/qt --write bk/bt/qt/w --out '$T/w3.cert' 2>&1 >/dev/null | grep -q 'note: this village certificate reads bk/bt/qt, beyond what it writes (bk/bt/qt/w): its node will hold the records there, health data of other villages'"
check "the root key as network create made it gives no such warning" bash -c \
	"! '$H' cert issue --root-key '$T/bk.root.key' --to \"\$(sed -n 's/^public_key = //p' '$T/w/node.conf')\" --name W2 --role village --read bk/bt/qt/w --write bk/bt/qt/w --out '$T/w2.cert' 2>&1 >/dev/null | grep -q WARNING"
tests_done
