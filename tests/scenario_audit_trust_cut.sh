#!/usr/bin/env bash
# A store copy whose trust set had a revocation deleted (as a node's
# operator with LMDB's mdb_dump/mdb_load would): the revoked key's later
# entries, refused on arrival and kept as refused, say it was revoked,
# yet the copy holds no revocation of it. The auditor's report on the
# copy says so for that author instead of only "valid now and not
# revoked".
#   tests/scenario_audit_trust_cut.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
. "$(dirname "$0")/testlib.sh"
for t in mdb_dump mdb_load python3; do
	command -v "$t" >/dev/null || { echo "$t is needed (lmdb-utils, python3)"; exit 77; }
done
tests_scratch audit_trust_cut
mkdir -p "$T/tmp" && export TMPDIR="$T/tmp"
hp() { printf '{"person_id":"%012d","full_name":"Person %s","birth_date":"1980-01-01"}' "$1" "$1"; }

network_bk a:bk/qt g:bk/qt/bh
check "A certified (an administrator)" issue a commune bk/qt --root-key "$T/bk.root.key" --delegate
check "G certified by A" bash -c "'$H' cert issue --issuer-home '$T/a' --to '$(key g)' --name ban-ho --role village \
	--read bk/qt/bh --write bk/qt/bh --out '$T/g.cert' >/dev/null && '$H' --home '$T/g' cert install '$T/g.cert' >/dev/null"
check "G writes seq 1" N g put health_profile HP-1 "$(hp 1)"
check "G's bundle reaches A" bash -c "'$H' --home '$T/g' bundle create --seal-to '$(key a)' '$T/g1.bundle' >/dev/null && '$H' --home '$T/a' bundle import '$T/g1.bundle' >/dev/null"
check "A revokes G (PC stolen)" N a cert revoke "$(key g)" --issuer-home "$T/a" --reason "PC stolen"
check "the thief signs seq 2" N g put health_profile HP-2 "$(hp 2)"
check "G's next bundle reaches A: seq 2 refused, kept as refused" bash -c "'$H' --home '$T/g' bundle create --seal-to '$(key a)' '$T/g2.bundle' >/dev/null; '$H' --home '$T/a' bundle import '$T/g2.bundle' >/dev/null; test \$? = 1"

# the copy: A's store with the revocation's row and its index row deleted
check "a copy of A's store without the revocation" bash -c "mkdir -p '$T/c/store' && cp '$T/a/node.conf' '$T/a/network.conf' '$T/a/node.cert' '$T/c/' &&
	mdb_dump -a '$T/a/store' >'$T/dump' && python3 - '$T/dump' '$T/dump2' <<'PY' && mdb_load -f '$T/dump2' '$T/c/store' 2>/dev/null
import sys
lines = open(sys.argv[1]).read().split('\n')
out, db, i, n = [], None, 0, 0
while i < len(lines):
    l = lines[i]
    if l.startswith('database='):
        db = l[9:]
    out.append(l)
    i += 1
    if l == 'HEADER=END':
        while lines[i] != 'DATA=END':
            k = bytes.fromhex(lines[i][1:])
            # trust: kind (2: a revocation) + id; trustsubj: subject + kind + id
            if (db == 'trust' and k[0] == 2) or (db == 'trustsubj' and k[32] == 2):
                n += 1
            else:
                out += lines[i:i + 2]
            i += 2
open(sys.argv[2], 'w').write('\n'.join(out))
sys.exit(n != 2)
PY"
"$H" --home "$T/c" verify --report >"$T/out" 2>&1
r=$?
if [ $r = 1 ]; then ok "the report on the copy exits 1 (a refused entry)"; else fail "the report on the copy exits 1, not $r"; fi
if grep -q "^  1 entry of it was refused because its key or an issuer's was revoked, yet this store's trust set holds no such revocation: a revocation may have been removed from this copy" "$T/out"; then
	ok "the report says the revocation is missing from the copy"
else
	fail "the report says the revocation is missing from the copy"; sed 's/^/    /' "$T/out" | head -40
fi
"$H" --home "$T/a" verify --report >"$T/out" 2>&1
if grep -q "trust set holds no such revocation" "$T/out"; then fail "A's own store, which holds the revocation, is not said to lack it"; else ok "A's own store, which holds the revocation, is not said to lack it"; fi
tests_done
