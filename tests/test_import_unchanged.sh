#!/usr/bin/env bash
# Importing a file again that changes nothing writes nothing: each row is
# reported unchanged and no entry is signed, with no daemon running and
# through hamletd. This rests on log_write() storing no entry for a put
# whose fields all equal the record's state (LOG_DUPLICATE, seq 0). A
# sheet saved in the other Unicode form (NFD or NFC) is unchanged too:
# text is stored in NFC (docs/records.md, "Text: Unicode NFC").
#   tests/test_import_unchanged.sh PATH/TO/hamlet PATH/TO/hamletd
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch unchanged
A() { "$H" --home "$T/a" "$@"; }
entries() { A status --json | sed -n 's/^  "entries": \([0-9]*\),$/\1/p'; }
# says TEXT COMMAND...: the command succeeds and prints the line TEXT
says() {
	local want=$1; shift
	"$@" >"$T/said" && grep -qxF -- "$want" "$T/said" && return 0
	cat "$T/said"
	return 1
}

check "network created" "$H" network create same --out "$T"
check "node A" A init --network "$T/same.network" --scope bk/bach-thong/quang-thuan/na-pai
check "A certified" certify "$T/same.root.key" a
{
	echo "id,person_id,full_name,birth_date,sex,village"
	for i in $(seq 1 6000); do
		printf 'HP-%05d,%012d,Nguyen Van %d,1980-01-0%d,male,na-pai\n' "$i" "$i" "$i" $((i % 9 + 1))
	done
} >"$T/profiles.csv"
check "the first import writes every row" \
	says "imported 6000 rows into health_profile: 6000 written, 0 unchanged" A import health_profile --format csv "$T/profiles.csv"
n0=$(entries)
check "importing the same file again writes nothing" \
	says "imported 6000 rows into health_profile: 0 written, 6000 unchanged" A import health_profile --format csv "$T/profiles.csv"
check "and signs no entry" test "$(entries)" = "$n0"
sed 's/^HP-00007,\(.*\),Nguyen Van 7,/HP-00007,\1,Nguyen Van Bay,/' "$T/profiles.csv" >"$T/one.csv"
check "a file with one row changed writes that row alone" \
	says "imported 6000 rows into health_profile: 1 written, 5999 unchanged" A import health_profile --format csv "$T/one.csv"
check "one entry more" test "$(entries)" = "$((n0 + 1))"
check "put of a value the record has writes nothing" \
	says "unchanged health_profile/HP-00007: the field is already as given; nothing written" A put health_profile HP-00007 '{"full_name":"Nguyen Van Bay"}'
check "and signs no entry" test "$(entries)" = "$((n0 + 1))"
# a blank cell does not clear a field: the import says so, once
printf 'id,person_id,full_name,birth_date,sex,village\nHP-00001,%012d,Nguyen Van 1,1980-01-02,,\nHP-00002,%012d,Nguyen Van 2,1980-01-03,,na-pai\n' 1 2 >"$T/blank.csv"
A import health_profile --format csv "$T/blank.csv" >"$T/blank.out" 2>"$T/blank.err"
sed 's/^/    # /' "$T/blank.err"
check "an import with blank cells for stored records notes once that they leave fields as they were" \
	bash -c "[ \$(grep -c 'note: ' '$T/blank.err') = 1 ] && grep -q 'note: 2 rows have blank cells for records already stored: a blank cell leaves its field as it was, it does not clear it (to clear one: .*put health_profile ID .{.FIELD.: null}.)' '$T/blank.err'"
check "and the field is as it was" bash -c "A() { '$H' --home '$T/a' \"\$@\"; }; A get health_profile HP-00001 | grep -q male"

# one sheet saved in the two Unicode forms of Vietnamese: NFD ("Unicode tổ
# hợp", a Mac, some web forms) and NFC ("Unicode dựng sẵn"). The text is
# stored in NFC, so the row is one value whichever form comes first
python3 - "$T" <<'P'
import sys, unicodedata
t = "Mã bản ghi;Họ và tên;Ngày sinh;Số CCCD;Bệnh mãn tính\r\nNP-HP-7;Đặng Thị Huyền;12/06/1999;001199000005;Tiểu đường\r\n"
for form in ("NFC", "NFD"):
    open(f"{sys.argv[1]}/{form.lower()}.csv", "wb").write(b"\xef\xbb\xbf" + unicodedata.normalize(form, t).encode())
P
check "a sheet in NFD (Unicode tổ hợp) is written once" \
	says "imported 1 row into health_profile: 1 written, 0 unchanged" A import health_profile --format csv "$T/nfd.csv"
check "and stored in NFC" bash -c "'$H' --home '$T/a' get health_profile NP-HP-7 --json | python3 -c 'import json,sys,unicodedata; f=json.load(sys.stdin)[\"fields\"]; sys.exit(not all(unicodedata.is_normalized(\"NFC\", v) and v != unicodedata.normalize(\"NFD\", v) for v in (f[\"full_name\"], f[\"chronic_conditions\"])))'"
n1=$(entries)
check "the same sheet in NFC (Unicode dựng sẵn) is unchanged" \
	says "imported 1 row into health_profile: 0 written, 1 unchanged" A import health_profile --format csv "$T/nfc.csv"
check "and in NFD again, unchanged too" \
	says "imported 1 row into health_profile: 0 written, 1 unchanged" A import health_profile --format csv "$T/nfd.csv"
check "no entry was signed for either" test "$(entries)" = "$n1"

# a record deleted here (as a duplicate, or by mistake) is not brought
# back by importing its sheet again: the row is skipped and named, and
# --recreate-deleted re-creates it, named too
check "NP-HP-7 deleted" A delete health_profile NP-HP-7
check "importing its sheet again writes nothing" \
	says "imported 1 row into health_profile: 0 written, 0 unchanged" A import health_profile --format csv "$T/nfc.csv"
A import health_profile --format csv "$T/nfc.csv" >/dev/null 2>"$T/del.err"
sed 's/^/    # /' "$T/del.err"
check "and names the row of the deleted record, who deleted it and the option" \
	grep -q "note: 1 row of deleted records not written (row 2 (NP-HP-7, deleted at .* by .*)): .*--recreate-deleted" "$T/del.err"
check "the record stays deleted" bash -c "'$H' --home '$T/a' get health_profile NP-HP-7 | grep -q 'is deleted'"
check "with --recreate-deleted the row is written" \
	says "imported 1 row into health_profile: 1 written, 0 unchanged" A import health_profile --format csv --recreate-deleted "$T/nfd.csv"
A delete health_profile NP-HP-7 >/dev/null
A import health_profile --format csv --recreate-deleted "$T/nfc.csv" >/dev/null 2>"$T/re.err"
check "and names the record it re-created" \
	grep -q "note: 1 deleted record re-created (row 2 (NP-HP-7, deleted at .* by .*))" "$T/re.err"
check "which is live again" bash -c "'$H' --home '$T/a' get health_profile NP-HP-7 | grep -q '^full_name: '"
n1=$(entries)

"$D" --home "$T/a" 2>"$T/d.log" &
bg=$!
check "hamletd runs on A (no listening port: its socket is enough)" ready_wait "$T/d.log" "$bg"
check "through hamletd, the same file again writes nothing" \
	says "imported 6000 rows into health_profile: 0 written, 6000 unchanged, through hamletd" A import health_profile --format csv "$T/one.csv"
check "put through hamletd of a value the record has writes nothing" \
	says "unchanged health_profile/HP-00007: the field is already as given; nothing written (checked by hamletd)" A put health_profile HP-00007 '{"full_name":"Nguyen Van Bay"}'
check "through hamletd, the sheet in the other form is unchanged too" \
	says "imported 1 row into health_profile: 0 written, 1 unchanged, through hamletd" A import health_profile --format csv "$T/nfc.csv"
check "and no entry was signed" test "$(entries)" = "$n1"
kill "$bg" && wait "$bg"
check "hamletd stops cleanly" test $? = 0
bg=

tests_done
