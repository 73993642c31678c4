#!/usr/bin/env bash
# The hamlet CLI on its own nodes, without real daemons: what it prints
# and refuses. Where an answer from hamletd is needed that a real daemon
# gives only by chance, tests/tools/fakehamletd stands in on the socket.
# tests/tools/wipe_spy.so (LD_PRELOAD) reports which buffers were wiped.
#   tests/test_cli.sh PATH/TO/hamlet PATH/TO/fakehamletd PATH/TO/wipe_spy.so
set -uo pipefail
usage="usage: $0 PATH/TO/hamlet PATH/TO/fakehamletd PATH/TO/wipe_spy.so"
H=${1:?$usage}
F=${2:?$usage}
S=${3:?$usage}
. "$(dirname "$0")/testlib.sh"
tests_scratch cli
# fake_start HOME [--moving]: fakehamletd on HOME's socket, its requests
# logged to HOME.fake
fake_start() {
	rm -f "$1.fake"
	"$F" "$1/hamletd.sock" "$1.fake" --max-seconds 120 "${@:2}" 2>/dev/null &
	bg=$!
	for _ in $(seq 1 600); do [ -S "$1/hamletd.sock" ] && return 0; sleep 0.05; done
	return 1
}
fake_stop() { kill "$bg" && wait "$bg" 2>/dev/null; bg=; }
A() { "$H" --home "$T/a" "$@"; }
PROFILE='{"person_id":"000000000001","full_name":"Lo Thi A","birth_date":"1980-01-01","sex":"female","village":"na-pai"}'

check "hamlet --version prints its version" bash -c "'$H' --version | grep -qx 'hamlet [0-9][0-9.]*'"
refuse "a command where no node exists says how to make one, --scope included" 3 \
	'init --network FILE --scope SCOPE' "$H" --home "$T/none" status
echo x >"$T/afile"
printf 'id,person_id\nHP-1,1\n' >"$T/not-a-network.csv"
refuse "init given a spreadsheet as the network file says it is not one" 4 'not-a-network.csv is not a hamlet \[network\] file' \
	"$H" --home "$T/nx" init --network "$T/not-a-network.csv" --name nx --scope bk/nx
refuse "a mistyped command suggests the one meant" 2 'did you mean "hamlet status"' "$H" stauts
refuse "a command far from every other gets no suggestion" 2 'unknown command "xyzzy" (see' "$H" xyzzy
check "an error quoting what the user typed never passes a terminal escape through" bash -c \
	"out=\$('$H' \$'stat\\x1b[31mus' 2>&1); [ \$? = 2 ] && ! printf '%s' \"\$out\" | grep -q \$'\\x1b' && printf '%s' \"\$out\" | grep -qF 'stat?[31mus'"
check "nor a byte that is no part of UTF-8, which a terminal would take for part of a letter" bash -c \
	"out=\$('$H' --home '$T/none' get health_profile \$'HP-\\xff\\xfe1' 2>&1); [ \$? = 4 ] && ! printf '%s' \"\$out\" | grep -q \$'\\xff' && printf '%s' \"\$out\" | grep -qF 'HP-??1'"
refuse "--home naming a file says it is not a directory" 5 'is not a directory' "$H" --home "$T/afile" status
check "network created" "$H" network create cli --out "$T"
refuse "the root key given as the network file is named as the secret it is" 4 \
	"cli.root.key is the network's ROOT KEY, not the file asked for" "$H" --home "$T/rootmix" init --network "$T/cli.root.key" --scope bk/x
check "and no node is made of it" test ! -e "$T/rootmix/node.key"
check "init makes the directories above its home that are missing, the home private" bash -c \
	"'$H' --home '$T/deep/er/node' init --network '$T/cli.network' --scope bk/x >/dev/null && test -f '$T/deep/er/node/node.key' && [ \$(stat -c %a '$T/deep/er/node') = 700 ]"
refuse "init under a file says what is not a directory" 5 'Not a directory' \
	"$H" --home "$T/afile/node" init --network "$T/cli.network" --scope bk/x
rm -rf "$T/deep"
check "node A" A init --network "$T/cli.network" --scope bk/bach-thong/quang-thuan/na-pai
check "init says what comes next: the key to the administrator, the certificate to install" bash -c \
	"'$H' --home '$T/nextstep' init --network '$T/cli.network' --scope bk/x | grep -q '^next: give the public key above to the network.s administrator (it is also in $T/nextstep/node.conf), who issues this node.s certificate; install it with \"hamlet --home $T/nextstep cert install FILE\"'"
check "A certified" certify "$T/cli.root.key" a
cp -a "$T/a" "$T/broken"
sed -i 's/^scope = .*/scope = BAD SCOPE/' "$T/broken/node.conf"
refuse "a damaged node.conf names the setting that is wrong" 4 'scope "BAD SCOPE" is not a scope' "$H" --home "$T/broken" status
cp "$T/a/node.conf" "$T/broken/node.conf"
echo "foo = bar" >>"$T/broken/node.conf"
refuse "a node.conf with a setting it does not know names it, its section, and those it has" 4 \
	'node.conf line 5: unknown setting "foo" in \[node\] .its settings: name, scope, public_key' "$H" --home "$T/broken" status
cp "$T/a/node.conf" "$T/broken/node.conf"
sed -i 's/^name = \(.*\)$/name = \1\nname = other/' "$T/broken/node.conf"
refuse "a node.conf that gives the name twice is refused, naming both lines, rather than one of them taken" 4 \
	'node.conf line 3: name in \[node\] is given twice (first on line 2;' "$H" --home "$T/broken" status
rm "$T/broken/node.conf"
refuse "a node.key without node.conf says how to go on" 3 'restore node.conf from a backup' "$H" --home "$T/broken" status
rm -rf "$T/broken"
check "A writes a record" A put health_profile HP-1 "$PROFILE"
check "help of a subcommand shows its part: its usage, its paragraph and options, not the others'" bash -c \
	"'$H' help cert revoke >'$T/hr' && grep -q '^usage: hamlet cert revoke PUBKEY' '$T/hr' && grep -q '^  revoke withdraws a node key' '$T/hr' && grep -q -- '--reason TEXT' '$T/hr' && ! grep -q 'cert issue' '$T/hr' && ! grep -q -- '--delegate\$' '$T/hr'"
check "so does CMD SUB --help" bash -c "'$H' cert revoke --help | head -1 | grep -q '^usage: hamlet cert revoke'"
check "a word that is no subcommand gives the command's whole help" bash -c "'$H' help cert bogus | head -1 | grep -q '^usage: hamlet cert issue'"
refuse "a record not found points to find (not to a bulk export of health records)" 3 \
	'"hamlet --home .*find TEXT" finds a person' "$H" --home "$T/a" get health_profile HP-NONE
refuse "a bundle named as Windows names a file is not found, with how the stick is named here" 3 \
	'is how Windows names a file; on this machine a USB stick is a directory such as /media' "$H" --home "$T/a" bundle import 'E:\to-km.bundle'
refuse "cert show of a directory is refused as bad input, naming it" 4 \
	"$T is a directory, not a file" "$H" --home "$T/a" cert show "$T"
refuse "a certificate named by a directory is refused as bad input, not as the system's fault" 4 \
	"$T is a directory, not a file" "$H" --home "$T/a" cert install "$T"
refuse "a record's JSON from a standard input that never ends is refused past 1 MiB, not read on" 4 \
	'standard input is over 1 MiB' bash -c "head -c 3000000 /dev/zero | '$H' --home '$T/a' put health_profile HP-BIG -"
# the recovery step of the guide: the store moved aside, hamletd not yet
# started again
cp -a "$T/a" "$T/nostore" && mv "$T/nostore/store" "$T/nostore-store.old"
refuse "status with the store moved aside says there is none yet and how to fill one" 3 \
	"this node has no store yet ($T/nostore/store is missing: never made, or moved aside): start hamletd, which makes a new one and fills it from its peers, or import a bundle made for this node (hamlet bundle import FILE)" \
	"$H" --home "$T/nostore" status
refuse "and so does get, which reads it too" 3 "this node has no store yet" \
	"$H" --home "$T/nostore" get health_profile HP-1
rm -rf "$T/nostore" "$T/nostore-store.old"

# --- status: a peer's lag ------------------------------------------------
# peer_field NAME: the value of "NAME" in each peer of status.json, in order
peer_field() { awk -v f="\"$1\":" '$1 == f { v = $2; sub(/,$/, "", v); print v }' "$T/status.json" | tr '\n' ' '; }
if fake_start "$T/a" && A status --json >"$T/status.json" 2>"$T/out"; then
	check "status --json lists the three peers the daemon reports" test "$(peer_field key | wc -w)" = 3
	set -- $(peer_field lag_s)
	if [ $# = 3 ] && [ "$1" = null ] && [ "$2" = 0 ] && [ "$3" -gt 0 ] && [ "$3" -lt 100000000000 ]; then
		ok "lag_s: null for a peer that never synced, 0 for one that agreed after our newest entry (even dated ahead), a count of seconds for one behind"
	else
		fail "lag_s: null, 0 and a count of seconds (got: $*)"
	fi
	check "status in words shows the peers and never an absurd age" \
		bash -c "'$H' --home '$T/a' status >'$T/status.txt' && grep -q 'never agreed yet' '$T/status.txt' && grep -qE 'last agreed [0-9-]+ [0-9:]+ [^ ]+ \(0 s ago\)' '$T/status.txt'"
else
	fail "status --json against the fake daemon"; sed 's/^/    /' "$T/out"
fi
fake_stop

# --- sync's options, checked before anything is asked ----------------------
refuse "sync --timeout without --wait is a usage error, not ignored" 2 \
	'--timeout goes with --wait' A sync --timeout 5
refuse "sync --wait --timeout that is not a number of seconds" 2 \
	'--timeout takes seconds, 1 to 86400 (or a duration: 90s, 10m, 1h)' A sync --wait --timeout 5x
refuse "nor a duration of more than a day" 2 '--timeout takes seconds' A sync --wait --timeout 2d
refuse "a duration is taken as report lag --threshold takes it (1s: past the option check, to the daemon's absence)" 3 \
	'hamletd is not running' A sync --wait --timeout 1s

# --- sync --wait: time is up while entries still move with a peer ---------
if fake_start "$T/a" --moving; then
	refuse "sync --wait that ends while entries still move names the peer they move with" 1 \
		'not in sync.*: entries are still moving with Fake peer$' A sync --wait --timeout 1
else
	fail "fakehamletd --moving on A's socket"
fi
fake_stop

# --- conflicts: a record with a field conflict and a duplicate ----------
B() { "$H" --home "$T/b" "$@"; }
# send FROM TO: what TO lacks, by bundle
send() {
	"$H" --home "$T/$2" summary --out "$T/$2.sum" >/dev/null &&
	"$H" --home "$T/$1" bundle create --for "$T/$2.sum" "$T/$1-$2.bundle" >/dev/null &&
	"$H" --home "$T/$2" bundle import "$T/$1-$2.bundle" >/dev/null
}
check "node B" B init --network "$T/cli.network" --scope bk/bach-thong/quang-thuan
check "B certified (its commune, A's village under it)" certify "$T/cli.root.key" b
check "A writes HP-2 with HP-1's person_id: a duplicate" A put health_profile HP-2 "$PROFILE"
check "B gets both" send a b
check "A gives HP-1 a phone, which B gets" bash -c "'$H' --home '$T/a' put health_profile HP-1 '{\"phone\":\"0900000009\"}' && $(declare -f send); H='$H' T='$T' send a b"
check "A and B change HP-1's phone at the same time" bash -c "'$H' --home '$T/a' put health_profile HP-1 '{\"phone\":\"0911000001\"}' && '$H' --home '$T/b' put health_profile HP-1 '{\"phone\":\"0922000002\"}'"
check "B gets A's change" send a b
check "HP-1 has both a field conflict and a duplicate on B" \
	bash -c "'$H' --home '$T/b' get health_profile HP-1 >'$T/get' && grep -q 'CONFLICT phone' '$T/get' && grep -q 'DUPLICATE of health_profile/HP-2' '$T/get'"
check "B exports its profiles" bash -c "'$H' --home '$T/b' export health_profile --format csv >'$T/b-export.csv'"
nops0=$(B history health_profile HP-1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["ops"]))')
check "importing the export again writes nothing, saying the conflict stays open" bash -c "'$H' --home '$T/b' import health_profile --format csv '$T/b-export.csv' >'$T/imp.out' 2>'$T/imp.err' && grep -q ' 0 written' '$T/imp.out' && grep -q 'equal to what records with open conflicts show (row [0-9]* (HP-1)).*the conflicts stay open' '$T/imp.err'"
check "and HP-1's phone conflict is still open, with no new change" bash -c "'$H' --home '$T/b' get health_profile HP-1 | grep -q 'CONFLICT phone' && [ \"\$('$H' --home '$T/b' history health_profile HP-1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"ops\"]))')\" = $nops0 ]"
# a sheet older than the conflict: its phone is the one both sides
# replaced, and writing it would settle the conflict with neither's value
printf 'id,phone\nHP-1,0900000009\n' >"$T/hp1-old.csv"
refuse "a sheet with the phone from before the conflict is refused, not taken as settling it" 4 \
	"row 2: health_profile/HP-1: the file's phone is an older value, which .* changed at .*; if that older value is the one meant, import with --overwrite" \
	B import health_profile --format csv "$T/hp1-old.csv"
check "and the conflict is still open" bash -c "'$H' --home '$T/b' get health_profile HP-1 | grep -q 'CONFLICT phone'"
# a row of a record changed on one node and deleted on another: not
# written, and not called equal to anything (its value differs)
check "A writes HP-3, which B gets" bash -c "'$H' --home '$T/a' put health_profile HP-3 '{\"person_id\":\"001122330003\",\"full_name\":\"Lo Van Ba\",\"birth_date\":\"1970-10-10\"}' && $(declare -f send); H='$H' T='$T' send a b"
check "A deletes HP-3 while B changes its phone; B gets the delete" bash -c "'$H' --home '$T/a' delete health_profile HP-3 && '$H' --home '$T/b' put health_profile HP-3 '{\"phone\":\"0911000003\"}' && $(declare -f send); H='$H' T='$T' send a b"
printf 'id,person_id,full_name,birth_date,phone\nHP-3,001122330003,Lo Van Ba,1970-10-10,0911000033\n' >"$T/hp3.csv"
check "B imports a row of HP-3 with another phone: nothing written, none called unchanged" bash -c \
	"'$H' --home '$T/b' import health_profile --format csv '$T/hp3.csv' >'$T/imp3.out' 2>'$T/imp3.err' && grep -q ': 0 written, 0 unchanged' '$T/imp3.out'"
check "the note says it was changed on one node and deleted on another, and what settles it" \
	grep -q 'of records changed on one node and deleted on another not written (row 2 (HP-3)): whether such a record stays is settled first' "$T/imp3.err"
check "--json counts it left in conflict, skipped as update-versus-delete" bash -c \
	"'$H' --home '$T/b' --json import health_profile --format csv '$T/hp3.csv' 2>/dev/null | python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(0 if j[\"unchanged\"] == 0 and j[\"left_in_conflict\"] == 1 and j[\"skipped_update_delete\"] == 1 else 1)'"
# a duplicate of HP-3, deleted on one node and changed on another: the
# delete conflicts offers for HP-3 is the resolution, as a plain one is
# refused. On a copy of B
cp -r "$T/b" "$T/b4"
check "on B's copy, HP-4 takes HP-3's person_id: a duplicate of it" "$H" --home "$T/b4" put health_profile HP-4 '{"person_id":"001122330003","full_name":"Lo Van Bon","birth_date":"1974-04-04"}'
"$H" --home "$T/b4" conflicts >"$T/b4-conflicts.txt" 2>&1
check "conflicts offers to delete HP-3 by a resolution, not a plain delete" bash -c \
	"grep -q 'DUPLICATE of health_profile/HP-3 .*resolve by deleting one of the two, this one (.*delete health_profile HP-4) or the other (.*conflicts resolve health_profile HP-3 --delete)' '$T/b4-conflicts.txt' && ! grep -q ' delete health_profile HP-3)' '$T/b4-conflicts.txt'"
check "and that command deletes it" "$H" --home "$T/b4" conflicts resolve health_profile HP-3 --delete
rm -rf "$T/b4"
check "(HP-3 deleted at B too: its conflict goes)" B conflicts resolve health_profile HP-3 --delete
B conflicts >"$T/conflicts.txt" 2>&1
check "conflicts lists HP-1 once" test "$(grep -c '^health_profile/HP-1$' "$T/conflicts.txt")" = 1
check "conflicts ends HP-1's conflicts with one resolve command of its own, naming the field in conflict" \
	bash -c "grep -A6 '^health_profile/HP-1\$' '$T/conflicts.txt' | grep -c '^  resolve with (.*conflicts resolve health_profile HP-1 --heads [0-9a-f]\{16\},[0-9a-f]\{16\} .{\"phone\":\"09[0-9]*\"}.\$' | grep -qx 1 && ! grep -q 'CONFLICT phone.*resolve with' '$T/conflicts.txt'"
check "conflicts counts two records" grep -qx '2 records with open conflicts' "$T/conflicts.txt"
check "conflicts --json counts two records" bash -c "'$H' --home '$T/b' conflicts --json | grep -q '\"count\": 2,'"
check "status counts two records" bash -c "'$H' --home '$T/b' status | grep -q '^conflicts: 2 records need a decision'"
check "tells the duplicates apart, and names this home in the command to run" bash -c "'$H' --home '$T/b' status | grep -qF \"conflicts: 2 records need a decision (of them, 2 duplicates: records whose key another record holds too): hamlet --home $T/b conflicts\""
# the resolve command conflicts printed names the heads it showed: run
# after a third value arrived (A changes the phone again, not having seen
# B's), it is refused rather than replacing that value unseen. On copies
# of A and B, which the checks below do not look at
SHOWN=$(grep -A6 '^health_profile/HP-1$' "$T/conflicts.txt" | sed -n 's/.*conflicts resolve health_profile HP-1 --heads \([0-9a-f,]*\) .*/\1/p')
check "the printed resolve command names two heads" test "$(printf '%s' "$SHOWN" | tr ',' '\n' | grep -c '^[0-9a-f]\{16\}$')" = 2
cp -r "$T/a" "$T/a2" && cp -r "$T/b" "$T/b2"
check "A's copy changes HP-1's phone again, and B's copy gets it" bash -c "'$H' --home '$T/a2' put health_profile HP-1 '{\"phone\":\"0911000011\"}' && $(declare -f send); H='$H' T='$T' send a2 b2"
nops1=$("$H" --home "$T/b2" history health_profile HP-1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["ops"]))')
refuse "the resolve command printed before it is refused (exit 1), naming the change" 1 \
	'HP-1 changed since the record this resolution was made from was read' "$H" --home "$T/b2" conflicts resolve health_profile HP-1 --heads "$SHOWN" '{"phone":"0911000001"}'
check "and wrote nothing" test "$("$H" --home "$T/b2" history health_profile HP-1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["ops"]))')" = "$nops1"
rm -rf "$T/a2" "$T/b2"
# run after the conflict it was printed for was settled elsewhere, the
# printed command writes nothing and says so: a failure (exit 1), since
# the value it gives is not kept
cp -r "$T/a" "$T/a3" && cp -r "$T/b" "$T/b3"
check "on copies, A writes HP-7 and B gets it; both change its phone; B gets A's" bash -c "'$H' --home '$T/a3' put health_profile HP-7 '{\"person_id\":\"001122330007\",\"full_name\":\"Lo Van Bay\",\"birth_date\":\"1977-07-07\"}' && $(declare -f send); export H='$H' T='$T'; send a3 b3 && '$H' --home '$T/a3' put health_profile HP-7 '{\"phone\":\"0911000007\"}' && '$H' --home '$T/b3' put health_profile HP-7 '{\"phone\":\"0922000007\"}' && send a3 b3"
SHOWN7=$("$H" --home "$T/b3" conflicts 2>&1 | grep -A6 '^health_profile/HP-7$' | sed -n 's/.*conflicts resolve health_profile HP-7 --heads \([0-9a-f,]*\) .*/\1/p')
check "conflicts prints HP-7's resolve command with two heads" test "$(printf '%s' "$SHOWN7" | tr ',' '\n' | grep -c '^[0-9a-f]\{16\}$')" = 2
check "HP-7's conflict is settled (as if by another operator)" "$H" --home "$T/b3" conflicts resolve health_profile HP-7 '{"phone":"0922000007"}'
refuse "the command printed before is then refused (exit 1), saying it was settled" 1 \
	'HP-7 has no open conflict any more' "$H" --home "$T/b3" conflicts resolve health_profile HP-7 --heads "$SHOWN7" '{"phone":"0911000007"}'
check "and the phone chosen first stays" bash -c "'$H' --home '$T/b3' get health_profile HP-7 --json | grep -q '\"phone\": \"0922000007\"'"
check "the same command without --heads only says there is nothing to resolve (exit 0)" bash -c "'$H' --home '$T/b3' conflicts resolve health_profile HP-7 '{\"phone\":\"0911000007\"}' | grep -q 'HP-7 has no open conflict: nothing to resolve'"
rm -rf "$T/a3" "$T/b3"
refuse "an id given before its collection is a usage error showing the command as meant" 2 \
	"the collection comes first, then the id: hamlet --home $T/b get health_profile HP-1" B get HP-1 health_profile
refuse "an id alone says the collection is what is missing" 2 'missing COLLECTION before HP-1 (the collections are: health_profile, ' B delete HP-1
refuse "a mistyped collection is named with the one meant" 4 'unknown collection "health_profil"; did you mean "health_profile"?' B history health_profil HP-1
# a number where text is meant has no leading zeros: the quoted form
# offered gives them back
refuse "a person_id given as a number is offered quoted with its leading zero" 4 \
	'person_id: must be text; put the number in quotes ("019078001122") so that leading zeros are kept' \
	B put health_profile HP-N1 '{"person_id":19078001122,"full_name":"X","birth_date":"1990-01-01"}'
refuse "a phone given as a number is offered quoted with its leading 0" 4 \
	'phone: must be text; put the number in quotes ("0912345678")' \
	B put health_profile HP-N1 '{"person_id":"019078001122","full_name":"X","birth_date":"1990-01-01","phone":912345678}'
refuse "a collection far from every one is named with the list" 4 'unknown collection "xyz"; the collections are: health_profile, ' B put xyz HP-1 '{}'
refuse "--heads that are no entry ids is a usage error (exit 2), naming them" 2 '"xyz" is not an entry id' \
	B conflicts resolve health_profile HP-1 --heads xyz '{"phone":"0911000001"}'
# a write refused part way, after a row skipped because its record is in
# conflict: the skipped row is noted and not counted among those stored
if fake_start "$T/b"; then
	{ head -1 "$T/b-export.csv"; grep '^HP-1,' "$T/b-export.csv"
	  for i in $(seq 1 4499); do printf 'SK-%05d,%012d,Ban Hai %d,1990-02-01,female,,,na-pai,,,,,\n' "$i" $((600000 + i)) "$i"; done
	  echo "FAIL-1,000000999997,Fail,1990-01-01,male,,,na-pai,,,,,"; } >"$T/skip-mid.csv"
	refuse "a write refused after a skipped row and some stored stops the import" 1 \
		'refused FAIL-1 on purpose' B import health_profile --format csv "$T/skip-mid.csv"
	stored=$(awk '$1 == "stored" { n += $2 } END { print n + 0 }' "$T/b.fake")
	check "some requests were stored before the refusal" test "$stored" -gt 0 -a "$stored" -lt 4499
	check "the message counts the records stored apart from the row skipped" \
		grep -q "row 2 to row $((stored + 2)) were imported: $stored records stored, 1 skipped as the notes above say" "$T/refused"
	check "and the skipped row is noted" grep -q 'equal to what records with open conflicts show (row 2 (HP-1))' "$T/refused"
else
	fail "fakehamletd on B's socket"
fi
fake_stop
refuse "B resolves HP-1's phone: its field conflict is settled, its duplicate still open (exit 1)" 1 \
	'still open:' B conflicts resolve health_profile HP-1 '{"phone":"0911000001"}'
check "history marks the two phone changes concurrent with each other, and only them" bash -c "'$H' --home '$T/b' history health_profile HP-1 --json | python3 -c '
import json, sys
ops = json.load(sys.stdin)[\"ops\"]
conc = [o for o in ops if o[\"concurrent_with\"]]
assert len(ops) >= 4 and len(conc) == 2, ops
a, b = conc
assert a[\"concurrent_with\"] == [b[\"entry\"]] and b[\"concurrent_with\"] == [a[\"entry\"]], conc
assert a[\"fields\"][\"phone\"] != b[\"fields\"][\"phone\"]
'"
check "and says so in words" bash -c "'$H' --home '$T/b' history health_profile HP-1 | grep -c '^  CONCURRENT with [0-9a-f]\{8\} (written without knowing of each other' | grep -qx 2"
nops=$(B history health_profile HP-1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["ops"]))')
refuse "resolving it again, with only its duplicate open, settles nothing and is refused, naming the key" 2 \
	'HP-1 is a duplicate, and the fields given leave its key (person_id) as it is' B conflicts resolve health_profile HP-1 '{"phone":"0911000001"}'
check "and writes nothing: HP-1 has as many signed changes as before" test "$(B history health_profile HP-1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["ops"]))')" = "$nops" -a "$nops" -ge 3
PAY='"program":"social_allowance","beneficiary_id":"000000000077","period":"2026-11"'
check "B pays one beneficiary twice for one programme and month" bash -c \
	"'$H' --home '$T/b' put payment DP-1 '{$PAY,\"amount_vnd\":1}' && '$H' --home '$T/b' put payment DP-2 '{$PAY,\"amount_vnd\":2}'"
refuse "a resolve of a payment duplicate that keeps its key says to delete one, not to correct a key set once" 2 \
	'DP-2 is a duplicate, and the fields given leave its key (beneficiary_id, program, period) as it is, so it would stay one: delete one of the records (its key fields are set once)' \
	B conflicts resolve payment DP-2 '{"amount_vnd":2}'
check "and never to correct a key field" bash -c "! grep -q 'correct a key field' '$T/refused'"

# --- JSON the shell took the quotes of ---------------------------------------
refuse "put given JSON whose double quotes the shell removed says to put it in single quotes" 4 \
	"give the whole object in single quotes, like '{\"phone\":\"0912345678\"}'" \
	A put health_profile HP-1 '{phone:0912345678}'
check "after naming where the JSON breaks" grep -q "invalid JSON in the fields at line 1, column 6: string or .}. expected near .phone." "$T/refused"
refuse "so does JSON written with single quotes" 4 'give the whole object in single quotes' \
	A put health_profile HP-1 "{'phone':'0912345678'}"
refuse "and conflicts resolve" 4 'give the whole object in single quotes' \
	B conflicts resolve health_profile HP-1 '{phone:0912345678}'
refuse "JSON with its quotes but cut short gets no such advice" 4 "expected at the end of the text" \
	A put health_profile HP-1 '{"phone":"0912345678"'
check "indeed" bash -c "! grep -q 'single quotes' '$T/refused'"

# --- import: repeated ids, all or nothing, what it wrote -------------------
HDR="id,person_id,full_name,birth_date,sex,village"
# profiles FROM TO [PREFIX]: CSV rows of new profiles FROM..TO
profiles() {
	for i in $(seq "$1" "$2"); do
		printf '%s-%05d,%012d,Ban Hai %d,1990-02-0%d,female,na-pai\n' "${3:-IM}" "$i" $((500000 + i)) "$i" $((i % 9 + 1))
	done
}
{ echo "$HDR"; profiles 1 2; profiles 1 1; profiles 3 3; profiles 2 2; } >"$T/repeat.csv"
refuse "an id given twice in a CSV file refuses the file, naming both rows" 4 \
	'row 4: id IM-00001 again (first on row 2)' A import health_profile --format csv "$T/repeat.csv"
check "and names every repeat" grep -q 'row 6: id IM-00002 again (first on row 3)' "$T/refused"
refuse "a file given without its collection is named, with the order to give them in" 2 \
	"name the collection before the file: hamlet import COLLECTION --format csv $T/repeat.csv" A import --format csv "$T/repeat.csv"
{ echo "$HDR"; echo 'IM-00001,000000500001,Ban Hai 1,1990-02-31,female,na-pai'; profiles 2 2; profiles 1 1; } >"$T/repeat-bad.csv"
refuse "a repeated id is named in the same run as a bad value on its first row" 4 \
	'row 4: id IM-00001 again (first on row 2)' A import health_profile --format csv "$T/repeat-bad.csv"
check "and the bad value too" grep -q 'row 2: .*birth_date' "$T/refused"
check "and says nothing was imported" grep -q 'nothing was imported' "$T/refused"
refuse "nothing of it is in the store" 3 "not found" A get health_profile IM-00003
printf '{"id":"NJ-1","phone":"0911000001"}\n\n{"id":"NJ-1","phone":"0911000002"}\n' >"$T/repeat.ndjson"
refuse "an id given twice in an NDJSON file refuses it, naming both lines" 4 \
	'line 3: id NJ-1 again (first on line 1)' A import health_profile --format ndjson "$T/repeat.ndjson"

# a birth date after today: a typo in the year, refused in a put and a file
refuse "a put with a birth date in the future is refused, naming the field and the date" 4 \
	'health_profile.birth_date 2099-02-01 lies in the future' \
	A put health_profile FB-1 '{"person_id":"000000700001","full_name":"Lo Van Tuong","birth_date":"2099-02-01"}'
{ echo "$HDR"; profiles 1 1 FB; echo 'FB-00002,000000700002,Lo Van Tuong,01/02/2099,male,na-pai'; } >"$T/future.csv"
refuse "and a file with one, naming its row" 4 \
	'row 3: health_profile.birth_date 2099-02-01 lies in the future' A import health_profile --format csv "$T/future.csv"
refuse "of which nothing is stored" 3 "not found" A get health_profile FB-00001
{ echo "$HDR"; echo 'FB-00005,00000070005,Lo Van Nam,01/02/1990,male,na-pai'; echo 'FB-00006,000000700006,,01/02/1990,male,na-pai'; echo 'FB-00007,000000700007,Lo Van Bay,01/02/2099,male,na-pai'; } >"$T/rounds.csv"
refuse "one run names every problem of a file: a cell wrong on its own" 4 'row 2: person_id: "00000070005" has 11 digits' A import health_profile --format csv "$T/rounds.csv"
check "a new record without a required field, in the same run" grep -q 'row 3: FB-00006 is a new record and needs every required field; missing: full_name' "$T/refused"
check "and a birth date in the future, in the same run" grep -q 'row 4: health_profile.birth_date 2099-02-01 lies in the future' "$T/refused"
check "a put takes a date as dd/mm/yyyy and sex in Vietnamese, as import does" \
	A put health_profile FB-3 '{"person_id":"000000700003","full_name":"Lò Thị Hoa","birth_date":"05/03/1992","sex":"Nữ"}'
check "and stores them as the schema's values" \
	bash -c "'$H' --home '$T/a' get health_profile FB-3 | grep -qx 'birth_date: 1992-03-05' && '$H' --home '$T/a' get health_profile FB-3 | grep -qx 'sex: female'"
refuse "get of an id typed in the other case names the record that exists" 3 \
	'record health_profile/fb-3 not found: an id is exact to the letter, and health_profile/FB-3 exists' A get health_profile fb-3
refuse "a put with a date that does not exist quotes it as typed" 4 \
	'birth_date: "31/02/1992" is not a date' A put health_profile FB-3 '{"birth_date":"31/02/1992"}'
# a map past the cap of a body's containers is named as one just over it
# is: the field and its count
DETAILS=$(python3 -c 'import json; print(json.dumps({"procedure_code":"1.001","applicant_id":"000000700009","submitted_at":"2026-11-01","details":{"k%d" % i: "v" for i in range(50)}}))')
refuse "a put of registration.details with 50 entries names the field and the count" 4 \
	'registration.details has 50 entries; at most 32 are allowed' A put registration RG-50 "$DETAILS"
refuse "a \\u0000 in a value is refused in words a user can act on" 4 \
	'\\u0000 is not allowed near' A put health_profile FB-3 '{"allergies":"a\u0000b"}'
check "without the name of a JSON library's option" bash -c "! grep -q JSON_ALLOW_NUL '$T/refused'"
refuse "an empty --home is a usage error, not the default home" 2 '--home is empty' "$H" --home '' status
refuse "after the command too" 2 '--home is empty' "$H" status --home ''
check "node P, whose node.conf becomes a pipe" bash -c "'$H' --home '$T/piped' init --network '$T/cli.network' --scope bk/p >/dev/null && mv '$T/piped/node.conf' '$T/piped-node.conf' && mkfifo '$T/piped/node.conf'"
refuse "a node.conf that is a pipe is refused at once, not waited on for a writer" 4 'node.conf is not a regular file' timeout 20 "$H" --home "$T/piped" status
check "and names no other directory" bash -c "! grep -q /var/lib/hamlet '$T/refused' || grep -q 'such as --home /var/lib/hamlet' '$T/refused'"
refuse "a command taken for --home's directory is told so" 2 '"status" was taken for --home.s directory' "$H" --home status
refuse "an empty --out is a usage error naming --out" 2 'option --out is empty: give the file to write' A summary --out ''
check "help cert issue shows cert's help, issue's with it" bash -c "'$H' help cert issue | grep -q '^usage: hamlet cert issue '"
refuse "sync of an empty peer name is a usage error, not a peer named ''" 2 'the peer given is empty' A sync ''
refuse "the network file given to cert install is named, with what takes it" 4 'it is a network file, not a certificate: a new node joins the network with it: "hamlet init --network FILE"' A cert install "$T/cli.network"
refuse "token create --expires 0d asks for at least 1 day" 2 \
	'--expires "0d": give at least 1 day, such as 1d' A token create --name zero --role read --expires 0d
refuse "and names the most days taken" 2 '--expires "36501d": give at most 36500 days' \
	A token create --name far --role read --expires 36501d
refuse "cert issue --expires 0d likewise" 2 '--expires "0d": give at least 1 day' \
	"$H" cert issue --root-key "$T/cli.root.key" --to "$(key a)" --name zero --role village \
	--read bk --write bk --expires 0d --out "$T/zero.cert"
printf '{"id":"FB-4","person_id":"000000700004","full_name":"Lò Văn Bình","birth_date":"06/07/1985","sex":"nam"}\n' >"$T/vi.ndjson"
check "an NDJSON line reads its values as put does" A import health_profile --format ndjson "$T/vi.ndjson"
check "and stores the schema's values" \
	bash -c "'$H' --home '$T/a' get health_profile FB-4 | grep -qx 'birth_date: 1985-07-06' && '$H' --home '$T/a' get health_profile FB-4 | grep -qx 'sex: male'"
A bundle create --unsealed --scope bk/bach-thong/quang-thuan/na-pia "$T/typo.bundle" >"$T/typo.out" 2>"$T/typo.err"
check "a bundle of a scope this node holds nothing under says so, naming what it holds" \
	grep -q 'note: this node holds nothing under scope bk/bach-thong/quang-thuan/na-pia (it holds bk/bach-thong/quang-thuan/na-pai)' "$T/typo.err"
check "and does not claim the recipient holds everything" bash -c "! grep -q 'nothing to send' '$T/typo.out'"
check "--json says the scope matched nothing" bash -c "'$H' --home '$T/a' --json bundle create --unsealed --scope bk/none '$T/typo2.bundle' 2>/dev/null | grep -q '\"scope_matched\": false'"
mkdir -p "$T/a-dir"
refuse "a bundle created into a directory is named as such (exit 4, invalid input)" 4 \
	'is a directory or a device, not a file' A bundle create --unsealed "$T/a-dir"
# a file of another kind given as the name is never replaced
printf 'Danh sach ho dan\n' >"$T/precious.txt"
refuse "a bundle is not written over a file that is no bundle (exit 4)" 4 \
	'precious.txt exists and is not a hamlet bundle, so it is not replaced' A bundle create --unsealed "$T/precious.txt"
refuse "nor a summary over one that is no summary" 4 \
	'precious.txt exists and is not a summary, so it is not replaced' A summary --out "$T/precious.txt"
refuse "nor a workbook over one that is no workbook" 4 \
	'precious.txt exists and is not a workbook (.xlsx), so it is not replaced' A export health_profile --format xlsx --out "$T/precious.txt"
python3 -c "import zipfile; z=zipfile.ZipFile('$T/letter.docx','w'); z.writestr('word/document.xml','<w/>'); z.close()"
refuse "nor a workbook over another zip file (a .docx)" 4 'letter.docx exists and is not a workbook' A export health_profile --format xlsx --out "$T/letter.docx"
mkfifo "$T/a-fifo"
refuse "a summary is not written over a device or a pipe (exit 4)" 4 'a-fifo: it is a directory or a device, not a file' A summary --out "$T/a-fifo"
refuse "nor a bundle" 4 'it is a directory or a device, not a file' A bundle create --unsealed "$T/a-fifo"
refuse "a pipe given as the summary to read is refused at once, not waited on" 4 'a-fifo is not a file but a device, a pipe or a socket: name the summary' \
	timeout 20 "$H" --home "$T/a" bundle create --for "$T/a-fifo" "$T/from-fifo.bundle"
check "a bundle for the summary" A bundle create --unsealed "$T/for-mixup.bundle"
refuse "a bundle given where the summary goes is named a bundle, and told where it goes" 4 'for-mixup.bundle is a bundle, not a summary: import it with "hamlet bundle import' \
	A bundle create --for "$T/for-mixup.bundle" "$T/from-mixup.bundle"
check "the pipe is still one" test -p "$T/a-fifo"
check "the file is as it was" bash -c "[ \"\$(cat '$T/precious.txt')\" = 'Danh sach ho dan' ] && ! ls '$T'/precious.txt.* 2>/dev/null"
check "an earlier bundle, summary or workbook is replaced" bash -c "
	'$H' --home '$T/a' bundle create --unsealed '$T/again.bundle' >/dev/null 2>&1 &&
	'$H' --home '$T/a' bundle create --unsealed '$T/again.bundle' >/dev/null 2>&1 &&
	'$H' --home '$T/a' summary --out '$T/again.sum' >/dev/null &&
	'$H' --home '$T/a' summary --out '$T/again.sum' >/dev/null &&
	'$H' --home '$T/a' export health_profile --format xlsx --out '$T/again.xlsx' >/dev/null 2>&1 &&
	'$H' --home '$T/a' export health_profile --format xlsx --out '$T/again.xlsx' >/dev/null 2>&1"
# another of hamlet's files taken off the stick for the one asked for is
# named for what it is, with the file to give (never UTF-16 advice)
refuse "a certificate given as the network file is named" 4 \
	'a.cert is a certificate (made by hamlet cert issue), not the network file asked for: give the NAME.network file' \
	"$H" --home "$T/mix" init --network "$T/a.cert" --scope bk/x
refuse "a bundle given as the network file is named" 4 \
	'again.bundle is a bundle (made by hamlet bundle create), not the network file asked for' \
	"$H" --home "$T/mix" init --network "$T/again.bundle" --scope bk/x
refuse "a summary given as the network file is named" 4 \
	'again.sum is a summary (made by hamlet summary), not the network file asked for' \
	"$H" --home "$T/mix" init --network "$T/again.sum" --scope bk/x
refuse "a certificate given to bundle import is named, with the command that takes it" 4 \
	'a.cert is a certificate (made by hamlet cert issue), not a bundle: the node it is for installs it with "hamlet cert install FILE"' \
	A bundle import "$T/a.cert"
refuse "a bundle given to cert install is named" 4 \
	'it is a bundle (made by hamlet bundle create), not a certificate: the node it is for imports it with "hamlet bundle import FILE"' \
	A cert install "$T/again.bundle"
refuse "a certificate given to bundle create --for is named" 4 \
	'a.cert is a certificate (made by hamlet cert issue), not a summary' \
	A bundle create --for "$T/a.cert" "$T/mix.bundle"
refuse "a summary given to import is named, never as a spreadsheet in another encoding" 4 \
	'again.sum is a summary (made by hamlet summary), not a table of records (a CSV file): it goes to the node with the newer data' \
	A import health_profile --format csv "$T/again.sum"
check "with no advice about Excel" bash -c "! grep -q 'Excel' '$T/refused'"
printf '[key],full_name\nHP-9,x\n' >"$T/bracket.csv"
check "a CSV whose first cell is in brackets is read as a CSV, not named one of hamlet's files" bash -c \
	"! '$H' --home '$T/a' import health_profile --format csv '$T/bracket.csv' >'$T/bracket.out' 2>&1 && ! grep -q 'secret key' '$T/bracket.out' && grep -q 'key' '$T/bracket.out'"
refuse "the root key given to bundle import is named" 4 \
	"cli.root.key is the network's root key, not a bundle: it stays on the administrator's offline PC" \
	A bundle import "$T/cli.root.key"
refuse "a node key given as the network file is named" 4 \
	"node.key is a node's secret key (node.key), not the network file asked for" \
	"$H" --home "$T/mix" init --network "$T/a/node.key" --scope bk/x
refuse "the network file given as the root key is named, with the file to give" 4 \
	'cli.network is a network file, not the root key asked for: give NAME.root.key' \
	"$H" cert issue --root-key "$T/cli.network" --to "$(sed -n 's/^public_key = //p' "$T/a/node.conf")" \
	--name x --role village --read bk/x --write bk/x --out "$T/mix.cert"
refuse "a node key given as the root key is named" 4 \
	"node.key is a node's secret key (node.key), not the root key asked for: give NAME.root.key" \
	A scope move bk/q bk/r --root-key "$T/a/node.key"
check "and no node was made of any of them" test ! -e "$T/mix/node.key"

# a new record without its required fields on row 5501: before, the
# first 5,000 rows were written and the file was half imported
{ echo "$HDR"; profiles 1 5499; echo "IM-05500,000000505500,Ban Hai 5500,,female,na-pai"; profiles 5501 6000; } >"$T/late.csv"
refuse "a row the store would refuse after the first 5,000 refuses the whole file" 4 \
	'row 5501: IM-05500 is a new record and needs every required field; missing: birth_date' \
	A import health_profile --format csv "$T/late.csv"
check "and nothing of it is in the store" bash -c "! '$H' --home '$T/a' get health_profile IM-00001 >/dev/null 2>&1"
check "A writes a payment" A put payment PAY-1 '{"program":"social_allowance","beneficiary_id":"B1","period":"2026-10","amount_vnd":500000,"status":"created"}'
printf 'id,amount_vnd,status\nPAY-2,1,\nPAY-1,600000,approved\n' >"$T/immutable.csv"
refuse "a row that changes an immutable field of a stored record is named before anything is written" 4 \
	"row 3: payment.amount_vnd of PAY-1 is 500000 already and cannot change" \
	A import payment --format csv "$T/immutable.csv"
check "with the new record's missing fields" \
	grep -q "row 2: PAY-2 is a new record and needs every required field; missing: program, beneficiary_id, period" "$T/refused"
check "and PAY-1 is as it was" bash -c "'$H' --home '$T/a' get payment PAY-1 | grep -qx 'status: created'"

# a record for a person to read: in Vietnamese, each field's label beside
# its name (what put takes), enum values the same way, dates and months
# day first; --json and English keep the stored names and values
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\{0,1\}8'; then
	vi() { LC_ALL=vi_VN.UTF-8 LANGUAGE= "$H" --home "$T/a" "$@"; }
	vi get health_profile FB-3 >"$T/get.vi" 2>&1
	check "a Vietnamese get shows a field's label beside its name" grep -q '^Họ và tên (full_name): *Lò Thị Hoa$' "$T/get.vi"
	check "and an enum value's label beside the value" grep -q '^Giới tính (sex): *nữ (female)$' "$T/get.vi"
	check "and a date field day first, as the status page writes it" grep -q '^Ngày sinh (birth_date): *05/03/1992$' "$T/get.vi"
	check "and when it last changed day first" grep -qE '^thay đổi lần cuối: [0-3][0-9]/[01][0-9]/[0-9]{4} [0-2][0-9]:' "$T/get.vi"
	check "the values start in one column" python3 -c "
import re, sys
cols = {m.end() for l in open(sys.argv[1], encoding='utf-8') for m in [re.match(r'.* \([a-z_]+\): +', l)] if m}
assert len(cols) == 1, cols" "$T/get.vi"
	check "get --json is the same bytes in Vietnamese as in English, the stored names and values" bash -c \
		"vi() { LC_ALL=vi_VN.UTF-8 LANGUAGE= '$H' --home '$T/a' \"\$@\"; }; vi --json get health_profile FB-3 >'$T/get.vi.json' && '$H' --home '$T/a' --json get health_profile FB-3 >'$T/get.en.json' && cmp '$T/get.vi.json' '$T/get.en.json' && grep -q '\"sex\": \"female\"' '$T/get.en.json' && grep -q '\"birth_date\": \"1992-03-05\"' '$T/get.en.json'"
	check "an English get keeps name: value as stored" bash -c \
		"'$H' --home '$T/a' get health_profile FB-3 >'$T/get.en' && grep -qx 'full_name: Lò Thị Hoa' '$T/get.en' && grep -qx 'sex: female' '$T/get.en' && grep -qx 'birth_date: 1992-03-05' '$T/get.en' && grep -qE '^last changed: [0-9]{4}-[01][0-9]-[0-3][0-9] ' '$T/get.en'"
	vi get payment PAY-1 >"$T/pay.vi" 2>&1
	check "a month day first too, and a state's label" bash -c "grep -q '^Kỳ chi trả (period): *10/2026$' '$T/pay.vi' && grep -q '^Trạng thái (status): *đã lập (created)$' '$T/pay.vi'"
	vi history health_profile FB-3 >"$T/hist.vi" 2>&1
	check "history sets a field a line, labelled" bash -c "grep -q '^  đặt     Số định danh cá nhân (person_id): 000000700003$' '$T/hist.vi' && grep -q '^ *Giới tính (sex): *nữ (female)$' '$T/hist.vi' && grep -qE '^[0-3][0-9]/[01][0-9]/[0-9]{4} ' '$T/hist.vi'"
	check "and in English one line of name=value as before" bash -c "'$H' --home '$T/a' history health_profile FB-3 | grep -q \"^  set    person_id='000000700003', full_name='Lò Thị Hoa', .*sex='female'\""
	vi find hoa >"$T/find.vi" 2>&1
	check "find names the field that matched by its label and its name" grep -q '^health_profile FB-3: Họ và tên (full_name) "Lò Thị Hoa"$' "$T/find.vi"
else
	echo "note: no vi_VN.UTF-8 locale (locale -a): the checks of a record read in Vietnamese are skipped"
fi
check "a second payment with PAY-1's key is written (paid twice must be seen)" A put payment PAY-9 '{"program":"social_allowance","beneficiary_id":"B1","period":"2026-10","amount_vnd":500000}'
check "its duplicate says to delete one: a payment's key fields are set once, and no correction is offered" bash -c "'$H' --home '$T/a' get payment PAY-9 >'$T/pay9' && grep -q 'DUPLICATE of payment/PAY-1.*this one (.*delete payment PAY-9) or the other (.*delete payment PAY-1): their key fields are set once and cannot be corrected' '$T/pay9' && ! grep -q 'conflicts resolve payment' '$T/pay9'"
check "the duplicate payment is deleted" A delete payment PAY-9
refuse "a put of one field to the deleted payment says it was deleted, by whom, and how to restore it" 4 \
	"payment/PAY-9 was deleted at .* by .*; to restore it, put it again with every required field (its last values: .*history payment PAY-9)" \
	A put payment PAY-9 '{"status":"approved"}'
refuse "a reversal naming a payment this node does not hold is refused, naming the id" 4 \
	"payment.reversal_of names payment/PAY-NONE, which this node does not hold" \
	A put payment PAY-9R '{"program":"social_allowance","beneficiary_id":"B1","period":"2026-10","amount_vnd":500000,"reversal_of":"PAY-NONE"}'
check "the reversal of PAY-1 is written, and is no duplicate of it" bash -c "'$H' --home '$T/a' put payment PAY-1R '{\"program\":\"social_allowance\",\"beneficiary_id\":\"B1\",\"period\":\"2026-10\",\"amount_vnd\":500000,\"reversal_of\":\"PAY-1\"}' >/dev/null 2>'$T/rev.err' && ! grep -q DUPLICATE '$T/rev.err' && ! '$H' --home '$T/a' get payment PAY-1 | grep -q DUPLICATE"
check "get of PAY-1 says it was corrected by its reversal" bash -c "'$H' --home '$T/a' get payment PAY-1 | grep -q '^corrected by payment/PAY-1R (its reversal_of names this record)' && '$H' --home '$T/a' get payment PAY-1 --json | grep -q '\"PAY-1R\"'"
refuse "changing an immutable field names the correction field and the id to give" 4 \
	'payment.amount_vnd is immutable once set; record a correction as a new payment record naming this one ("reversal_of":"PAY-1")' \
	A put payment PAY-1 '{"amount_vnd":1}'
printf 'id;program;beneficiary_id;period;amount_vnd\nPAY-G1;social_allowance;BG1;2026-11;1.500.000\nPAY-G2;social_allowance;BG2;2026-11;2,000,000\n' >"$T/grouped.csv"
check "amounts as a spreadsheet groups them (1.500.000, 2,000,000) import as whole numbers" bash -c "'$H' --home '$T/a' import payment --format csv '$T/grouped.csv' >/dev/null && '$H' --home '$T/a' get payment PAY-G1 --json | grep -q '\"amount_vnd\": 1500000' && '$H' --home '$T/a' get payment PAY-G2 --json | grep -q '\"amount_vnd\": 2000000'"
refuse "a number grouped wrongly is still refused, naming it" 4 'amount_vnd: "1.50.000" is not a whole number' \
	A import payment --format csv /dev/stdin <<<"$(printf 'id;program;beneficiary_id;period;amount_vnd\nPAY-G3;social_allowance;BG3;2026-11;1.50.000')"
refuse "a put of an amount with decimals names it, and the forms taken (quoted and grouped among them)" 4 \
	'amount_vnd: "1,5" is not a whole number: write it like 1500000 (or "1.500.000", as a spreadsheet shows it), without decimals' \
	A put payment PAY-G4 '{"program":"social_allowance","beneficiary_id":"BG4","period":"2026-11","amount_vnd":"1,5"}'
printf 'STT;Mã bản ghi;Số CCCD;Họ và tên;Ngày sinh\n1;HP-ST1;000000008881;Lo Van Mot;01/02/1981\n2;HP-ST2;000000008882;Lo Van Hai;02/03/1982\n' >"$T/stt.csv"
check "a sheet whose first column is STT (row numbers) imports, saying that column is not imported" bash -c "'$H' --home '$T/a' import health_profile --format csv '$T/stt.csv' >'$T/stt.out' 2>'$T/stt.err' && grep -q ' 2 written' '$T/stt.out' && grep -q 'column \"STT\" holds row numbers: it is not imported' '$T/stt.err'"
check "a blood type in any case (o+) is read as O+" bash -c "'$H' --home '$T/a' put health_profile HP-BT '{\"person_id\":\"000000007777\",\"full_name\":\"Ban Thi Bay\",\"birth_date\":\"1977-07-07\",\"blood_type\":\"o+\"}' >/dev/null && '$H' --home '$T/a' get health_profile HP-BT --json | grep -q '\"blood_type\": \"O+\"'"
printf '{"id":"NJ-2","phone":"0911000001"}\n{"id":"NJ-3","phone":"0911000002"\n' >"$T/open.ndjson"
refuse "an NDJSON line whose object is not closed says so, not column 0" 4 \
	'line 2: invalid JSON: the line ends before its object does' A import health_profile --format ndjson "$T/open.ndjson"
printf '{"id":"HP-1","full_name":null}\n' >"$T/clear.ndjson"
refuse "an NDJSON line that clears a required field is named" 4 \
	'line 1: health_profile.full_name of HP-1 is required and cannot be cleared' \
	A import health_profile --format ndjson "$T/clear.ndjson"
printf '\xef\xbb\xbf{"id":"HP-1","phone":"0911000077"}\n' >"$T/bom.ndjson"
check "an NDJSON file that begins with a byte order mark imports" A import health_profile --format ndjson "$T/bom.ndjson"
check "fields given on standard input after a byte order mark are read" bash -c \
	"printf '\xef\xbb\xbf{\"phone\":\"0911000078\"}' | '$H' --home '$T/a' put health_profile HP-1 - && '$H' --home '$T/a' get health_profile HP-1 | grep -qx 'phone: 0911000078'"
{ echo "$HDR"; profiles 1 6000; } >"$T/good.csv"
check "a good file of 6,000 rows imports, and says what it wrote" \
	bash -c "'$H' --home '$T/a' import health_profile --format csv '$T/good.csv' | grep -qx 'imported 6000 rows into health_profile: 6000 written, 0 unchanged'"
check "its last row is there" A get health_profile IM-06000

# the same person twice, or a person stored before: imported (which one is
# wrong is the operator's decision), but each named as put names it, the
# first three printed, the rest counted, hamlet conflicts pointed to
check "A writes the person HP-D0" A put health_profile HP-D0 '{"person_id":"000000700000","full_name":"Ha Thi Lan","birth_date":"1999-01-15","sex":"female"}'
{ echo "$HDR"
  echo "HP-D1,000000700000,Ha Thi Lan,1999-01-15,female,na-pai"
  for i in 2 3 4 5; do echo "HP-D$i,000000700009,Lo Van Nam,1980-02-0$i,male,na-pai"; done
  echo "HP-D6,000000700006,Lo Van Sau,1980-02-06,male,na-pai"; } >"$T/dup.csv"
A import health_profile --format csv "$T/dup.csv" >"$T/dup.out" 2>"$T/dup.err"
check "rows of persons already there import (exit 0)" test $? = 0
check "the row of a person stored before is named with the record it repeats" bash -c \
	"grep -q '^hamlet: note: health_profile/HP-D1 has open problems:' '$T/dup.err' && grep -q 'DUPLICATE of health_profile/HP-D0' '$T/dup.err'"
check "the first three records with problems are printed, no more" \
	test "$(grep -c '^hamlet: note: health_profile/' "$T/dup.err")" = 3
check "the rest are counted" grep -qx 'hamlet: note: and 2 more of the records imported have open problems' "$T/dup.err"
check "and hamlet conflicts is named" grep -q "^hamlet: note: 5 of the records imported have open problems .*conflicts\" lists them all" "$T/dup.err"
check "a row of no one else is not named" bash -c "! grep -q 'HP-D6' '$T/dup.err'"
check "import --json counts them" bash -c \
	"'$H' --home '$T/a' --json import health_profile --format csv '$T/dup.csv' 2>/dev/null | tr -d ' \n' | grep -q '\"open_problems\":5'"
A import health_profile --format csv "$T/good.csv" >/dev/null 2>"$T/good.err"
check "a file with no duplicate says nothing of the kind" bash -c "! grep -q 'open problems' '$T/good.err'"

# through a daemon that stores some requests, then refuses one: the
# message names exactly the rows that are in the store
if fake_start "$T/a"; then
	{ echo "$HDR"; profiles 1 4499 MID; echo "FAIL-1,000000999999,Fail,1990-01-01,male,na-pai"; profiles 4501 6000 MID; } >"$T/mid.csv"
	refuse "a write refused after some requests were stored stops the import" 1 \
		'row 4501 (id FAIL-1): refused FAIL-1 on purpose' A import health_profile --format csv "$T/mid.csv"
	stored=$(awk '$1 == "stored" { n += $2 } END { print n + 0 }' "$T/a.fake")
	check "some requests were stored before the refusal" test "$stored" -gt 0 -a "$stored" -lt 4500
	check "the message names exactly the rows stored" \
		grep -q "row 2 to row $((stored + 1)), the first $stored records, were imported" "$T/refused"
	check "and where the rest begins" grep -q "nothing from row $((stored + 2)) on was: fix row 4501" "$T/refused"
	# hamletd stops in the middle: a system error, exit 5 however many
	# rows were stored, as import --help says (it said 1 before)
	rm -f "$T/a.fake"
	{ echo "$HDR"; profiles 1 4499 MID; echo "GONE-1,000000999998,Gone,1990-01-01,male,na-pai"; profiles 4501 6000 MID; } >"$T/gone.csv"
	refuse "hamletd stopping during an import exits 5 (a system error)" 5 \
		'Importing the whole file again is safe' A import health_profile --format csv "$T/gone.csv"
	stored=$(awk '$1 == "stored" { n += $2 } END { print n + 0 }' "$T/a.fake")
	check "after some rows were stored" test "$stored" -gt 0 -a "$stored" -lt 4500
	check "which the message names" grep -q "row 2 to row $((stored + 1)), the first $stored records, were imported" "$T/refused"
	check "import --help says the same: exit 5 when hamletd failed, even after some rows" bash -c \
		"'$H' import --help | tr '\n' ' ' | tr -s ' ' | grep -q '5 when the store or hamletd failed, even after some rows were imported'"
	fake_start "$T/a" || fail "fakehamletd again"
	# a put that changes nothing comes back with seq 0 and no entry
	{ echo "$HDR"; profiles 1 2 SAME; profiles 1 1 NEW; } >"$T/same.csv"
	check "import counts the rows the daemon found unchanged" \
		bash -c "'$H' --home '$T/a' import health_profile --format csv '$T/same.csv' | grep -qx 'imported 3 rows into health_profile: 1 written, 2 unchanged, through hamletd'"
	check "import --json counts them too" \
		bash -c "'$H' --home '$T/a' --json import health_profile --format csv '$T/same.csv' | tr -d ' \n' | grep -q '\"rows\":3,\"written\":1,\"unchanged\":2'"
	check "put says so when nothing changed" \
		bash -c "'$H' --home '$T/a' put health_profile SAME-9 '{\"phone\":\"0911000009\"}' | grep -qx 'unchanged health_profile/SAME-9: the field is already as given; nothing written (checked by hamletd)'"
	check "put --json says unchanged, with no entry" \
		bash -c "'$H' --home '$T/a' put --json health_profile SAME-9 '{\"phone\":\"0911000009\"}' | tr -d ' \n' | grep -q '\"unchanged\":true,\"entry\":null,\"seq\":0'"
	check "a put that changes something is saved as before" \
		bash -c "'$H' --home '$T/a' put health_profile NEW-9 '{\"phone\":\"0911000009\"}' | grep -q '^saved health_profile/NEW-9: 1 field (entry [0-9a-f]*, seq [1-9][0-9]*, through hamletd)'"
else
	fail "fakehamletd on A's socket"
fi
fake_stop

# --- verify on a read-only copy of a node ----------------------------------
# as_reader COMMAND...: as someone who may read the copy but not write it
# (as root, the user nobody: chmod does not stop root)
if [ "$(id -u)" != 0 ]; then
	as_reader() { "$@"; }
else
	as_reader() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
fi
if [ "$(id -u)" = 0 ] && ! command -v setpriv >/dev/null; then
	echo "skipped: verify on a read-only copy (needs setpriv as root)"
else
	RO=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-ro-XXXXXX")
	chmod 755 "$RO"
	# nobody may not reach the build tree: run a copy of hamlet
	cp "$H" "$RO/hamlet" && chmod 755 "$RO/hamlet"
	cp -a "$T/a" "$RO/node" && rm -f "$RO/node/store/lock.mdb"
	chmod -R a+rX,a-w "$RO/node"
	check "the copy is read-only to the reader" bash -c "$(declare -f as_reader); ! as_reader touch '$RO/node/store/lock.mdb' 2>/dev/null"
	check "verify opens a read-only copy without a lock file and finds it clean" \
		bash -c "$(declare -f as_reader); as_reader '$RO/hamlet' --home '$RO/node' verify | grep -q '^verify: ok'"
	check "and reads its records" bash -c "$(declare -f as_reader); as_reader '$RO/hamlet' --home '$RO/node' get payment PAY-1 | grep -q 'social_allowance'"
	check "but shows no health data, which it cannot log" bash -c "$(declare -f as_reader); as_reader '$RO/hamlet' --home '$RO/node' get health_profile HP-1 >'$RO/out' 2>&1; [ \$? = 5 ] && grep -q 'cannot open the access log' '$RO/out' && ! grep -q 'Lo Thi A' '$RO/out'"
	check "without writing a lock file" test ! -e "$RO/node/store/lock.mdb"
	chmod u+w "$RO/node/store" && cp -a "$T/a/store/lock.mdb" "$RO/node/store/" && chmod a+r,a-w "$RO/node/store" "$RO/node/store/lock.mdb"
	check "verify opens a read-only copy whose lock file it may not write" \
		bash -c "$(declare -f as_reader); as_reader '$RO/hamlet' --home '$RO/node' verify | grep -q '^verify: ok'"
	chmod -R u+w "$RO" && rm -rf "$RO"
fi

# --- a change to a record deleted on another node --------------------------
# while "changed here, deleted there" is open, a plain put would name the
# delete among its deps and keep only the fields it names: refused, with
# the resolve that keeps the record shown (it wiped the record before)
check "A writes HP-UD" A put health_profile HP-UD '{"person_id":"000000000077","full_name":"Lo Van Bay","birth_date":"1977-07-07","allergies":"penicillin"}'
check "B gets it" send a b
check "B deletes HP-UD while A changes its phone" bash -c "'$H' --home '$T/b' delete health_profile HP-UD && '$H' --home '$T/a' put health_profile HP-UD '{\"phone\":\"0911000077\"}'"
check "B gets A's change: update versus delete" send a b
# a plain delete would name both heads and settle it as --delete does,
# A's change gone unseen: refused as the put is, naming both resolves
refuse "a plain delete on it is refused (exit 2), naming the resolves that delete it or keep it" 2 \
	"to delete it: .*conflicts resolve health_profile HP-UD --delete; to keep it as shown: .*conflicts resolve health_profile HP-UD$" \
	B delete health_profile HP-UD
check "and deleted nothing: the record and its conflict are still shown" bash -c "'$H' --home '$T/b' get health_profile HP-UD >'$T/ud.get' && grep -q 'allergies: penicillin' '$T/ud.get' && '$H' --home '$T/b' conflicts | grep -q '^health_profile/HP-UD$'"
refuse "a plain put on it is refused (exit 2), naming the conflict and the way on" 2 \
	"to keep it with your change: .*conflicts resolve health_profile HP-UD .*0922000077" \
	B put health_profile HP-UD '{"phone":"0922000077"}'
check "and wrote nothing: every field is still shown" bash -c "'$H' --home '$T/b' get health_profile HP-UD >'$T/ud.get' && grep -q 'allergies: penicillin' '$T/ud.get' && grep -q 'full_name: Lo Van Bay' '$T/ud.get'"
check "the resolve it names keeps every field, with the new phone" bash -c "'$H' --home '$T/b' conflicts resolve health_profile HP-UD '{\"phone\":\"0922000077\"}' && '$H' --home '$T/b' get health_profile HP-UD >'$T/ud.get' && grep -q 'allergies: penicillin' '$T/ud.get' && grep -q 'phone: 0922000077' '$T/ud.get'"

refuse "a put with --scope on an existing record of another scope is refused, naming its scope" 4 \
	"lives in scope bk/bach-thong/quang-thuan/na-pai: a change to it names that scope or none" \
	A put health_profile HP-UD --scope bk/bach-thong/quang-thuan '{"phone":"0933000077"}'
check "and the record stays in its scope" bash -c "'$H' --home '$T/a' get health_profile HP-UD --json | grep -q '\"scope\": *\"bk/bach-thong/quang-thuan/na-pai\"'"
refuse "a delete with --scope of a scope the record was not written in is refused, naming where it was (exit 4)" 4 \
	"was written in bk/bach-thong/quang-thuan/na-pai, not in scope bk/bach-thong/quang-thuan/na-pai/x" \
	A delete health_profile HP-UD --scope bk/bach-thong/quang-thuan/na-pai/x
check "and deleted nothing" bash -c "'$H' --home '$T/a' get health_profile HP-UD --json | grep -q '\"deleted\": *false'"

# an immutable field in conflict: a resolution keeps one of its values,
# never a new one (a new one conflicted, and a second resolve let it in)
check "A writes the event HE-IM" A put health_event HE-IM '{"person_id":"000000000001","kind":"vital","date":"2026-01-01"}'
check "B gets it" send a b
check "A and B each set its code first, at the same time" bash -c "'$H' --home '$T/a' put health_event HE-IM '{\"code\":\"a\"}' && '$H' --home '$T/b' put health_event HE-IM '{\"code\":\"b\"}'"
check "B gets A's: the code is in conflict" bash -c "$(declare -f send); H='$H' T='$T'; send a b && '$H' --home '$T/b' get health_event HE-IM | grep -q 'CONFLICT code'"
nim=$(B history health_event HE-IM --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["ops"]))')
refuse "a resolve giving the code a new value is refused (exit 4)" 4 \
	"health_event.code is immutable: a resolution keeps one of the values in conflict, not a new one" \
	B conflicts resolve health_event HE-IM '{"code":"c"}'
check "and wrote nothing" test "$(B history health_event HE-IM --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["ops"]))')" = "$nim"
check "a resolve keeping one of the two settles it" bash -c "'$H' --home '$T/b' conflicts resolve health_event HE-IM '{\"code\":\"a\"}' && ! '$H' --home '$T/b' get health_event HE-IM | grep -q CONFLICT"

# a stick with no room: the file is refused by the kernel (here: a file
# size limit standing in for a full FAT32 stick), said in words
bash -c "trap '' XFSZ; ulimit -f 16; '$H' --home '$T/a' bundle create --unsealed '$T/full.bundle'" >/dev/null 2>"$T/full.err"
check "a bundle with no room on its stick fails (exit 5)" test $? = 5
check "saying what to do" grep -q "no room for $T/full.bundle: free space on the USB stick" "$T/full.err"
check "and leaving no half file under its name" test ! -e "$T/full.bundle"

# --- secrets: every copy of the network key is wiped -----------------------
# spy COMMAND...: run it with wipe_spy, which logs to $T/spy.log
spy() {
	LD_PRELOAD=$S WIPE_SPY_LOG=$T/spy.log \
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 "$@"
}
hex() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
# wiped KEY: the key (hex) and its text in hex were each passed to sodium_memzero
wiped() { grep -q "^wipe .*$1" "$T/spy.log" && grep -q "^wipe .*$(hex "$1")" "$T/spy.log"; }
rm -f "$T/spy.log"
check "network create, watched" spy "$H" network create spied --out "$T/spied"
key=$(sed -n 's/^key = //p' "$T/spied/spied.network")
check "the spy saw the network key being made" grep -qx "random $key" "$T/spy.log"
check "network create wipes the network key and its hex text" wiped "$key"
# network_create() and the command each hold a struct network_info
check "both copies of the key were wiped" test "$(grep -c "^wipe .*$key" "$T/spy.log")" -ge 2
rm -f "$T/spy.log"
mkdir -p "$T/broken/broken.network.tmp" # the network file cannot be written
refuse "network create that cannot write its file says so" 5 "cannot write" \
	spy "$H" network create broken --out "$T/broken"
key=$(sed -n 's/^random //p' "$T/spy.log")
check "the spy saw one network key being made" test "${#key}" = 64
check "a failed network create wipes them too" wiped "$key"

tests_done
