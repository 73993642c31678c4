#!/usr/bin/env bash
# A page of the HTTP API never names a record its token may not read
# (docs/api.md, "Scopes"): a page looks at 10,000 records at most, and
# when the last it looked at is outside the token's scope, its "next" is
# sealed ("~…"), which after takes back; the records of the token's scope
# are all reached, in order. For lists and for conflicts.
#   tests/scenario_http_cursor.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; everything listens on 127.0.0.1.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
needs curl python3
tests_scratch http-cursor
A() { "$H" --home "$T/a" "$@"; }

check "network created" "$H" network create hc --out "$T"
check "node a, of commune c1's scope" A init --network "$T/hc.network" --name a --scope bk/c1
check "the root certifies a for bk/c1" certify "$T/hc.root.key" a
# 10,002 profiles of village b, in pairs of one person (duplicates), whose
# ids sort before village a's two, which are duplicates too
"$PYTHON3" - "$T/b.csv" "$T/a.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,person_id,full_name,birth_date\n")
    for i in range(10002):
        f.write("HA-%05d,%012d,Lo Van %d,1980-01-01\n" % (i, 300000000 + i // 2, i))
with open(sys.argv[2], "w") as f:
    f.write("id,person_id,full_name,birth_date\n")
    f.write("V1-1,001190010001,Lo Thi Mai,1990-04-12\nV1-2,001190010001,Lo Thi Mai,1990-04-12\n")
PY
check "10,002 profiles of village b are imported" A import health_profile --format csv --scope bk/c1/b "$T/b.csv"
check "two of village a" A import health_profile --format csv --scope bk/c1/a "$T/a.csv"
S=$(A token create --name a-only --role read --scope bk/c1/a 2>/dev/null)
R=$(A token create --name all --role read 2>/dev/null)
start_http a && ok "a's daemon serves HTTP" || { fail "a's daemon serves HTTP"; tests_done; exit 1; }
URL=http://127.0.0.1:$HP

# walk PATH TOKEN KEY: follow next from PATH; prints the ids (or
# collection/id) in order, then the nexts one a line after "--"
walk() { "$PYTHON3" - "$URL" "$1" "$2" "$3" <<'PY'
import json, sys, urllib.parse, urllib.request
url, path, tok, key = sys.argv[1:5]
ids, nexts, after = [], [], None
for _ in range(20):
    q = path + ("&after=" + urllib.parse.quote(after, safe="") if after else "")
    d = json.load(urllib.request.urlopen(urllib.request.Request(url + q, headers={"Authorization": "Bearer " + tok}), timeout=30))
    ids += [r[key] if key == "id" else r["collection"] + "/" + r["id"] for r in d["records"]]
    after = d["next"]
    if not after:
        break
    nexts.append(after)
print("\n".join(ids + ["--"] + nexts))
PY
}
walk "/v1/records/health_profile?limit=1000" "$S" id >"$T/list-s" 2>&1
check "a token of village a walks the list to village a's two records, in order" \
	bash -c "sed -n '1,/^--\$/p' '$T/list-s' | tr '\n' ' ' | grep -qx 'V1-1 V1-2 -- '"
check "the next of a page that ended among village b's records is sealed" grep -q '^~' "$T/list-s"
check "and names none of them" bash -c "! grep -q 'HA-' '$T/list-s'"
walk "/v1/conflicts?limit=1000" "$S" coll >"$T/conf-s" 2>&1
check "the token walks the conflicts to village a's two duplicates" \
	bash -c "sed -n '1,/^--\$/p' '$T/conf-s' | tr '\n' ' ' | grep -qx 'health_profile/V1-1 health_profile/V1-2 -- '"
check "through a sealed next that names none of village b's" bash -c "grep -q '^~' '$T/conf-s' && ! grep -q 'HA-' '$T/conf-s'"
walk "/v1/records/health_profile?limit=1000" "$R" id >"$T/list-r" 2>&1
check "a token that reads every record walks all 10,004, its nexts the ids it was given" \
	bash -c "[ \$(sed -n '1,/^--\$/p' '$T/list-r' | grep -vc '^--\$') = 10004 ] && [ \$(sed -n '/^--\$/,\$p' '$T/list-r' | sed -n 2p) = HA-00999 ] && ! grep -q '^~' '$T/list-r'"
bad() { curl -s --max-time 10 -H "Authorization: Bearer $S" "$URL$1" >"$T/bad.json"; grep -q "\"code\":\"bad_after\".*is not the next of a page of" "$T/bad.json" && ! grep -q 'HA-' "$T/bad.json"; }
SEALED=$(grep -m1 '^~' "$T/list-s")
SEALEDC=$(grep -m1 '^~' "$T/conf-s")
check "a list's sealed next given to conflicts is refused, naming none of village b's" bad "/v1/conflicts?after=$SEALED"
check "conflicts' sealed next given to a list is refused" bad "/v1/records/health_profile?after=$SEALEDC"
check "a list's sealed next given to another collection's list is refused" bad "/v1/records/payment?after=$SEALED"
check "every sealed next is as long as every other (the id's length does not show)" bash -c "grep '^~' '$T/list-s' '$T/conf-s' | cut -d: -f2 | awk '{print length}' | sort -u | wc -l | grep -qx 1"
check "a sealed next altered is refused (400 bad_after)" bad "/v1/records/health_profile?after=~AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
check "and for conflicts" bad "/v1/conflicts?after=~x"
tests_done
