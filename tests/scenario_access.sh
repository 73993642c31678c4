#!/usr/bin/env bash
# Reads of health data are logged (Law 91/2025): hamlet get on a
# health_profile shows in hamlet access-log with the user and the time; a
# get of a payment does not; --since filters; a read that cannot be logged
# shows nothing; an edited log is reported; a bundle or an export counts
# the records it carries or shows, not erased ones.
#   tests/scenario_access.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
T=$(mktemp -d "${TMPDIR:-/tmp}/hamlet-access-XXXXXX")
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
. "$(dirname "$0")/testlib.sh"
A() { "$H" --home "$T/a" "$@"; }
ME=$(id -un)
# the JSON of access-log, read by python (jansson has no shell tool)
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

check "network created" "$H" network create demo --out "$T"
check "node A" "$H" --home "$T/a" init --network "$T/demo.network" --name na-pai --scope bk/na-pai
check "the log's directory is for the node's group" bash -c "stat -c %a '$T/a/access' | grep -qx 2770"
check "A writes a health profile" A put health_profile HP-1 '{"person_id":"001190012345","full_name":"Lo Thi Mai","birth_date":"1990-04-12","phone":"0912345678"}'
check "A writes a payment" A put payment PAY-1 '{"program":"forest_service","beneficiary_id":"BEN-1","period":"2026-11","amount_vnd":500000,"status":"created"}'
check "writing logs no read" test ! -e "$T/a/access/access.log"

check "get of a payment" A get payment PAY-1
check "logs nothing" bash -c "A() { '$H' --home '$T/a' \"\$@\"; }; A access-log | grep -qx 'no read of health data is logged on this node'"
before=$(date -u +%s%3N)
check "get of a health profile" bash -c "'$H' --home '$T/a' get health_profile HP-1 | grep -q 'Lo Thi Mai'"
after=$(date -u +%s%3N)
A access-log --json >"$T/log.json"
check "access-log --json has the get, with the user and the time" jq_py "
e = d['entries']; assert len(e) == 1, e; e = e[0]
assert (e['who_kind'], e['who'], e['uid']) == ('user', '$ME', $(id -u)), e
assert (e['command'], e['collection'], e['record'], e['count']) == ('get', 'health_profile', 'HP-1', 1), e
assert $before <= e['time_ms'] <= $after, e
assert e['time'].endswith('Z') and d['chain']['intact'] and d['chain']['head']
" <"$T/log.json"
check "the payment's get is not in it" bash -c "! grep -q PAY-1 '$T/log.json'"
check "the text names the user and the record" bash -c "'$H' --home '$T/a' access-log | grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC  $ME \(uid $(id -u)\)  get health_profile HP-1: 1 record$'"
check "and says the chain is intact" bash -c "'$H' --home '$T/a' access-log | grep -q '^hash chain intact'"

check "a resolve of a record that does not exist reads nothing (exit 3)" bash -c "'$H' --home '$T/a' conflicts resolve health_profile NOPE '{\"phone\":\"0900000000\"}'; [ \$? = 3 ]"
check "a resolve of a record with nothing to resolve reads nothing either" bash -c "'$H' --home '$T/a' conflicts resolve health_profile HP-1 '{\"phone\":\"0900000000\"}' | grep -q 'nothing to resolve'"
check "history, export and get --json are logged too" bash -c "
	'$H' --home '$T/a' history health_profile HP-1 >/dev/null &&
	'$H' --home '$T/a' export health_profile --format csv >/dev/null &&
	'$H' --home '$T/a' get health_profile HP-1 --json >/dev/null &&
	'$H' --home '$T/a' export payment --format csv >/dev/null"
A access-log --json >"$T/log.json"
check "as history, an export of 1 record, get" jq_py "
c = [(e['command'], e['record'], e['query'], e['count']) for e in d['entries']]
assert c == [('get', 'HP-1', None, 1), ('history', 'HP-1', None, 1), ('export', None, 'all live records', 1), ('get', 'HP-1', None, 1)], c
" <"$T/log.json"

# --since: rewrite the dates of a copy's first lines into the past is no
# use (that breaks the chain, rightly), so filter on the real times
first=$(jq_py "print(d['entries'][1]['time_ms'])" <"$T/log.json")
since=$(python3 -c "import datetime; print(datetime.datetime.fromtimestamp($first // 1000, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S'))")
check "--since a time keeps the reads from that second on" bash -c "
	n=\$('$H' --home '$T/a' access-log --json --since '$since' | python3 -c 'import json,sys; d=json.load(sys.stdin); e=d[\"entries\"]; assert all(x[\"time_ms\"] >= $first // 1000 * 1000 for x in e); print(len(e))')
	[ \"\$n\" -ge 3 ] && [ \"\$n\" -le 4 ]"
check "--since tomorrow shows none, of 4" bash -c "'$H' --home '$T/a' access-log --since $(date -u -d tomorrow +%F) | grep -q '^0 reads of health data since .*, of 4 in the log'"
check "--since yesterday (a date alone) shows all 4" bash -c "'$H' --home '$T/a' access-log --json --since $(date -u -d yesterday +%F) | grep -q '\"shown\": 4'"
check "--since with an offset" bash -c "'$H' --home '$T/a' access-log --json --since 2000-01-01T07:00+07:00 | grep -q '\"since\": \"2000-01-01T00:00:00Z\"'"
check "--since takes the day as a spreadsheet writes it, DD/MM/YYYY" bash -c "'$H' --home '$T/a' access-log --since $(date -d tomorrow +%d/%m/%Y) | grep -q '^0 reads of health data since .*, of 4 in the log'"
refuse "a bad date is named" 2 '"2026-02-30" is not a date' A access-log --since 2026-02-30
refuse "and so is 30 February written DD/MM/YYYY" 2 '"30/02/2026" is not a date' A access-log --since 30/02/2026
check "DD.MM.YYYY and DD-MM-YYYY too, as import takes them" bash -c "'$H' --home '$T/a' access-log --since $(date -d tomorrow +%d.%m.%Y) >/dev/null && '$H' --home '$T/a' access-log --since $(date -d tomorrow +%d-%m-%Y) >/dev/null"
refuse "so is a bad time" 2 '"2026-01-01T25:00" is not a date' A access-log --since 2026-01-01T25:00

# a read that cannot be logged is not done
mv "$T/a/access/access.log" "$T/a/access/saved" && mkdir "$T/a/access/access.log"
refuse "a get that cannot be logged fails, naming the log" 5 "cannot open the access log $T/a/access/access.log" A get health_profile HP-1
check "and shows nothing of the record" bash -c "! grep -q 'Lo Thi Mai' '$T/refused'"
refuse "so does an export" 5 "nothing of health_profile is shown" A export health_profile --format ndjson
check "whose output is empty" bash -c "'$H' --home '$T/a' export health_profile --format ndjson 2>/dev/null | wc -c | grep -qx 0"
check "a payment is read all the same" A get payment PAY-1
rmdir "$T/a/access/access.log" && mv "$T/a/access/saved" "$T/a/access/access.log"

# an edited log is reported
cp "$T/a/access/access.log" "$T/saved.log"
sed -i '2d' "$T/a/access/access.log"
refuse "a line removed from the middle is reported (exit 1)" 1 "WARNING: the log was altered or damaged (1 break in the hash chain, 0 damaged lines); first: access.log line 2 does not follow" A access-log
check "and in the JSON" bash -c "'$H' --home '$T/a' access-log --json | grep -q '\"intact\": false'"
check "the JSON names the line in English, in any language" bash -c "LC_ALL=\$(locale -a 2>/dev/null | grep -im1 '^vi_VN\.utf-\?8\$' || echo C) '$H' --home '$T/a' access-log --json | grep -q '\"problem\": \"access.log line 2 does not follow the line before it'"
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\?8'; then
	check "in Vietnamese, the warning names the line in Vietnamese" bash -c "LC_ALL=vi_VN.UTF-8 '$H' --home '$T/a' access-log | grep -q 'chỗ đầu tiên: access.log dòng 2 không nối tiếp dòng trước nó: một dòng đã bị xóa, thay đổi hoặc chèn vào ở đó\. Hãy giữ'"
	head -1 "$T/saved.log" >"$T/a/access/access.log" && printf 'not an entry\n' >>"$T/a/access/access.log"
	check "and so a line that is no entry" bash -c "LC_ALL=vi_VN.UTF-8 '$H' --home '$T/a' access-log | grep -q 'chỗ đầu tiên: access.log dòng 2 không phải là một mục của nhật ký truy cập (bị cắt ngắn do sự cố, hoặc đã bị sửa)\. Hãy giữ'"
fi
cp "$T/saved.log" "$T/a/access/access.log"
check "restored, the chain is intact again" A access-log

# an unsealed bundle is a file anyone can read: its health data is logged
check "an unsealed bundle is written, warning that it carries health data anyone may read" bash -c "'$H' --home '$T/a' bundle create --unsealed '$T/open.bundle' 2>'$T/open.err' >/dev/null && grep -q 'WARNING: this bundle is not sealed and carries the health data of 1 record' '$T/open.err'"
check "and logged as a read of the health profiles, naming the file" bash -c "'$H' --home '$T/a' access-log --json | python3 -c '
import json, sys
e = [x for x in json.load(sys.stdin)[\"entries\"] if x[\"command\"] == \"bundle create\"]
assert len(e) == 1 and e[0][\"collection\"] == \"health_profile\" and e[0][\"count\"] >= 1 and \"$T/open.bundle\" in e[0][\"query\"], e'"
check "one sealed to a key given by hand (an auditor's) is logged too, without the warning" bash -c "'$H' --home '$T/a' bundle create --seal-to \$(sed -n 's/^public_key *= *//p' '$T/a/node.conf') '$T/sealed.bundle' >/dev/null 2>'$T/sealed.err' && ! grep -q WARNING '$T/sealed.err' && [ \$('$H' --home '$T/a' access-log --json | grep -c '\"query\": \"bundle sealed to ') = 1 ]"
printf 'notes\n' >"$T/notes.xlsx"
refuse "an export refused for its file name" 4 'is not a workbook' A export health_profile --format xlsx --out "$T/notes.xlsx"
refuse "an unsealed bundle refused for its file name" 4 'is not a hamlet bundle' A bundle create --unsealed "$T/notes.xlsx"
check "an unsealed bundle of a scope holding no profile" A bundle create --unsealed --scope bk/elsewhere "$T/none.bundle"
check "none of the three read anything, and none is logged" bash -c "[ \$('$H' --home '$T/a' access-log --json | grep -c '\"command\": \"\(bundle create\|export\)\"') = 3 ]"
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\?8'; then
	check "in Vietnamese, what was read is said in Vietnamese" bash -c "LC_ALL=vi_VN.UTF-8 '$H' --home '$T/a' access-log | grep -q 'export health_profile (mọi bản ghi còn hiệu lực)'"
fi

# another account, outside the node's group, is refused with the reason
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 711 "$T"
	refuse "someone outside the node's group is told who may read the log" 5 \
		"The access log is for the node's user, $ME" \
		setpriv --reuid=65534 --regid=65534 --clear-groups -- "$H" --home "$T/a" access-log
	# an operator in the node's group logs their own reads as themselves
	chgrp -R 4111 "$T/a" && chmod 750 "$T/a" && chmod -R g+rX "$T/a" &&
		chmod g+w "$T/a/store/lock.mdb" "$T/a/access/access.log"
	check "an operator of the group reads a profile" setpriv --reuid=4112 --regid=4112 --groups=4111 -- "$H" --home "$T/a" get health_profile HP-1
	check "and the log names their uid" bash -c "'$H' --home '$T/a' access-log --json | grep -q '\"uid\": 4112'"
	check "and reads the log" setpriv --reuid=4112 --regid=4112 --groups=4111 -- "$H" --home "$T/a" access-log
else
	echo "skipped: the other accounts (needs root and setpriv)"
fi

# a copy on read-only media (mounted so in a namespace of our own, where
# one may): verify reads it; history of a health record is refused, as
# its read cannot be logged, and the refusal names the way around
if unshare -rm true 2>/dev/null; then
	mkdir -p "$T/ro/n/store" && cp "$T/a/node.conf" "$T/a/network.conf" "$T/ro/n/" &&
		cp "$T/a/store/data.mdb" "$T/ro/n/store/"
	ro() { unshare -rm sh -c "mount --bind '$T/ro' '$T/ro' && mount -o remount,bind,ro '$T/ro' && exec \"\$@\"" sh "$@"; }
	check "verify reads a copy on read-only media" ro "$H" --home "$T/ro/n" verify
	refuse "history of a health record there is refused, naming the way around" 5 "read-only media: copy it (its files and store/) to a disk you may write, and run the command there with --home COPY" \
		ro "$H" --home "$T/ro/n" history health_profile HP-1
	check "once, and showing nothing of the record" bash -c "! grep -q -e 'cannot read the history' -e 'Lo Thi Mai' '$T/refused'"
	check "history of a payment there is shown (not logged)" ro "$H" --home "$T/ro/n" history payment PAY-1
else
	echo "skipped: a read-only copy (needs unshare -rm)"
fi

# a search that finds no one is logged with what was asked
check "a find that matches nothing" bash -c "'$H' --home '$T/a' find 'Nobody Atall' >/dev/null"
check "is logged, with the search" bash -c "'$H' --home '$T/a' access-log | grep -q 'find health_profile (search for \"Nobody Atall\": nothing found): 0 records'"
# files that carry records in the clear are their owner's alone
check "an unsealed bundle is for its owner alone (mode 600), whatever the umask" bash -c "umask 022; rm -f '$T/open2.bundle'; '$H' --home '$T/a' bundle create --unsealed '$T/open2.bundle' 2>/dev/null >/dev/null && test \"\$(stat -c %a '$T/open2.bundle')\" = 600"
check "and so is a workbook export" bash -c "umask 022; '$H' --home '$T/a' export health_profile --format xlsx --out '$T/mode.xlsx' 2>/dev/null && test \"\$(stat -c %a '$T/mode.xlsx')\" = 600"

# an export counts the records it shows: a deleted record is not shown,
# nor is an erased one, whose contents are gone (E, an administrator of
# its scope, may erase)
E() { "$H" --home "$T/e" "$@"; }
check "node E" E init --network "$T/demo.network" --name e --scope bk/e
check "the root makes E an administrator of bk/e" issue e commune bk/e --root-key "$T/demo.root.key" --delegate
for i in 1 2 3; do
	check "E writes HP-E$i" E put health_profile "HP-E$i" "{\"person_id\":\"00119001230$i\",\"full_name\":\"Lo Van E$i\",\"birth_date\":\"1990-04-12\"}"
done
check "E deletes HP-E2" E delete health_profile HP-E2
check "E erases HP-E3" E erase health_profile HP-E3 --reason "request of the person"
check "E's export (csv) shows HP-E1 alone" bash -c "'$H' --home '$T/e' export health_profile --format csv 2>/dev/null | cut -d, -f1 | grep '^HP-' | tr '\n' ' ' | grep -qx 'HP-E1 '"
check "and is logged as a read of 1 record, not of the erased one" bash -c "'$H' --home '$T/e' access-log | grep -q 'export health_profile (all live records): 1 record\$'"
check "an export (ndjson), naming the erased record without its contents, is logged as 1 record too" bash -c "'$H' --home '$T/e' export health_profile --format ndjson >/dev/null && '$H' --home '$T/e' access-log --json | python3 -c '
import json, sys
c = [x[\"count\"] for x in json.load(sys.stdin)[\"entries\"] if x[\"command\"] == \"export\"]
assert c == [1, 1], c'"
check "an export --since after every change prints no row" bash -c "test \"\$('$H' --home '$T/e' export health_profile --format csv --since 2099-01-01 | grep -c '^HP-')\" = 0"
check "and is logged as a read of no record, naming the date" bash -c "'$H' --home '$T/e' access-log | grep 'export health_profile' | tail -1 | grep -q 'export health_profile (live records changed since 2099-01-01.*): 0 records\$'"
check "an export --scope of another scope is logged as no record, naming it" bash -c "'$H' --home '$T/e' export health_profile --format csv --scope bk/zz >/dev/null && '$H' --home '$T/e' access-log | grep 'export health_profile' | tail -1 | grep -q 'export health_profile (live records under bk/zz): 0 records\$'"
check "an export --scope of E's own is logged as the 1 record it shows" bash -c "'$H' --home '$T/e' export health_profile --format csv --scope bk/e | grep -q '^HP-E1,' && '$H' --home '$T/e' access-log | grep 'export health_profile' | tail -1 | grep -q 'export health_profile (live records under bk/e): 1 record\$'"
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\?8'; then
	check "E exports one scope since a date" bash -c "'$H' --home '$T/e' export health_profile --format csv --scope bk/e --since 2000-01-01 >/dev/null"
	check "E writes an unsealed bundle of one scope" bash -c "'$H' --home '$T/e' bundle create --unsealed --scope bk/e '$T/e-scope.bundle' 2>/dev/null >&2"
	check "and one sealed to a key, of one scope" bash -c "'$H' --home '$T/e' bundle create --seal-to \$(sed -n 's/^public_key = //p' '$T/e/node.conf') --scope bk/e '$T/e-sealed.bundle' >/dev/null"
	LC_ALL=vi_VN.UTF-8 "$H" --home "$T/e" access-log >"$T/vi.log" 2>&1
	check "in Vietnamese, an export --scope says what it read in Vietnamese" grep -q 'export health_profile (các bản ghi còn hiệu lực thuộc bk/e): 1 bản ghi$' "$T/vi.log"
	check "so does one with --since" grep -q 'export health_profile (các bản ghi còn hiệu lực thuộc bk/e thay đổi từ 2000-01-01 [0-9:]* UTC): 1 bản ghi$' "$T/vi.log"
	check "and a bundle of one scope, unsealed" grep -qF "bundle create health_profile (gói dữ liệu không niêm phong $T/e-scope.bundle, phạm vi bk/e): 3 bản ghi" "$T/vi.log"
	check "or sealed to a key" grep -q "bundle create health_profile (gói dữ liệu niêm phong cho [0-9a-f]*… $T/e-sealed.bundle, phạm vi bk/e): 3 bản ghi\$" "$T/vi.log"
fi
# a read dated by a clock of the reader's own choosing is dated by the
# machine's all the same (HAMLET_CLOCK_OFFSET_MS shifts the node's clock)
before=$(date -u +%s%3N)
check "a get with the clock set ten years back" bash -c "HAMLET_CLOCK_OFFSET_MS=-315360000000 '$H' --home '$T/a' get health_profile HP-1 >/dev/null"
after=$(date -u +%s%3N)
check "is logged at the machine's time, not ten years back" bash -c "'$H' --home '$T/a' access-log --json | python3 -c 'import json,sys; d=json.load(sys.stdin); e=d[\"entries\"][-1]; assert $before <= e[\"time_ms\"] <= $after and d[\"dated_back\"] == 0, (e, d[\"dated_back\"])'"
tests_done
