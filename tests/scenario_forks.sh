#!/usr/bin/env bash
# verify tells damage from evidence, and `hamlet forks` lists the evidence.
# A village node's key is copied to a second machine; both sign a
# different entry at the same seq, and the village imports the copy's
# bundle: its store is intact but keeps the fork as evidence (verify exits
# 1 and names the feed; forks lists both entries). A store whose bytes
# were altered on disk is damaged (exit 6), also when it keeps evidence.
#   tests/scenario_forks.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
. "$(dirname "$0")/testlib.sh"
tests_scratch forks
A() { "$H" --home "$T/a" "$@"; }
# rc EXPECTED DESCRIPTION COMMAND...: the command exits with EXPECTED;
# what it printed stays in $T/out
rc() {
	local want=$1 d=$2 got; shift 2
	"$@" >"$T/out" 2>&1
	got=$?
	if [ "$got" = "$want" ]; then ok "$d"; else fail "$d (exit $got, not $want)"; sed 's/^/    /' "$T/out" | head -30; fi
}
# has DESCRIPTION PATTERN: $T/out holds a line matching the ERE PATTERN
has() {
	if grep -qE -- "$2" "$T/out"; then ok "$1"; else fail "$1 (no /$2/)"; sed 's/^/    /' "$T/out" | head -40; fi
}
# damage HOME: alter the stored bytes of a record's body behind the
# store's back (the store itself stays readable: LMDB keeps no checksums)
damage() {
	local f=$1/store/data.mdb off
	for off in $(grep -obaF Zzmarkerzz "$f" | cut -d: -f1); do
		printf q | dd of="$f" bs=1 seek=$((off + 9)) conv=notrunc status=none || return 1
	done
	! grep -qaF Zzmarkerzz "$f"
}

SCOPE=bk/bach-thong/quang-thuan/na-pai
check "network created" "$H" network create forks --out "$T"
check "village node A" A init --network "$T/forks.network" --name na-pai --scope $SCOPE
check "A certified (before its home is copied, so the copy carries it)" certify "$T/forks.root.key" a
KEY=$(sed -n 's/^public_key = //p' "$T/a/node.conf")
check "A writes two records" bash -c "'$H' --home '$T/a' put health_profile HP-1 '{\"person_id\":\"000000000001\",\"full_name\":\"Nguyen Van A\",\"birth_date\":\"1980-01-01\"}' &&
	'$H' --home '$T/a' put health_profile HP-2 '{\"person_id\":\"000000000002\",\"full_name\":\"Zzmarkerzz\",\"birth_date\":\"1981-01-01\"}'"

# --- an intact store without evidence ------------------------------------
rc 0 "verify exits 0 on an intact store" A verify
has "and says ok" '^verify: ok'
rc 0 "forks exits 0 with no forks" A forks
has "and says so" '^no forks$'
rc 0 "forks --json" A forks --json
has "lists no forks" '"forks": \[\]'
rc 0 "verify --json" A verify --json
has "ok is true" '"ok": true'
has "damaged is false" '"damaged": false'
has "evidence is false" '"evidence": false'

# --- plant a fork: A's key copied to another machine ---------------------
check "A's home is copied, key and all" cp -a "$T/a" "$T/copy"
check "A writes seq 3" A put health_profile HP-1 '{"phone":"0900000001"}'
check "the copy signs another seq 3" "$H" --home "$T/copy" put health_profile HP-1 '{"phone":"0900000002"}'
check "A writes a summary" A summary --out "$T/a.sum"
rc 1 "the copy makes a bundle of what A lacks, and exits 1" "$H" --home "$T/copy" bundle create --for "$T/a.sum" "$T/copy.bundle"
has "naming the fork of its own feed" "FORK: .* and this node now hold different entries at seq 3 of this node's own feed"
rc 1 "A imports it: one fork" A bundle import "$T/copy.bundle"
has "the import names the fork" 'fork'
rc 0 "importing it again is harmless: the evidence is held already, no new fork (exit 0)" A bundle import "$T/copy.bundle"
has "it counts as a duplicate" 'duplicate:  1'
rc 0 "get of the record the forked seq changed" A get health_profile HP-1
has "warns that it was changed past a fork, naming the feed and the seq" "WARNING: changed by author ${KEY:0:16}… in feed $SCOPE past seq 3, where that author signed two different entries"
rc 0 "get --json of it" A get health_profile HP-1 --json
has "names the fork too" "\"forked\": \\{"
check "with the author, the feed and the seq" bash -c "'$H' --home '$T/a' get health_profile HP-1 --json | python3 -c 'import json,sys; f=json.load(sys.stdin)[\"forked\"]; assert f == {\"author\": \"$KEY\", \"scope\": \"$SCOPE\", \"seq\": 3}, f'"
ID_OWN=$(A history health_profile HP-1 --json | sed -n 's/^ *"entry": "\([0-9a-f]*\)",\{0,1\}$/\1/p' | tail -1)

rc 1 "verify exits 1 on an intact store that keeps a fork" A verify
has "it names the author, feed and seq" "^verify: intact; keeps evidence: author $KEY forked feed $SCOPE at seq 3\$"
has "and says there is nothing to repair" '^verify: nothing to repair'
rc 1 "verify --json exits 1 too" A verify --json
has "ok is false" '"ok": false'
has "damaged is false" '"damaged": false'
has "evidence is true" '"evidence": true'
has "forks names the author" "\"author\": \"$KEY\""
has "forks names the scope" "\"scope\": \"$SCOPE\""
has "forks names the seq" '"seq": 3'
has "forks lists the feed's own entry" "^ *\"$ID_OWN\",?\$"
check "forks lists two entries" test "$(A verify --json | grep -cE '^ {8}"[0-9a-f]{64}",?$')" = 2

rc 0 "forks exits 0 when there are forks" A forks
has "one forked feed" '^1 forked feed'
has "the author's key" "^author $KEY\$"
has "the scope" "^  scope  $SCOPE\$"
has "where the feed is frozen" '^  frozen at seq 3'
has "the feed's own entry, by id" "^  seq 3  [0-9-]+ [0-9:]+ [^ ]+  $ID_OWN  the feed's own entry\$"
has "the entry kept as evidence" "^  seq 3  [0-9-]+ [0-9:]+ [^ ]+  [0-9a-f]{64}  kept as evidence\$"
rc 0 "forks --json" A forks --json
has "author" "\"author\": \"$KEY\""
has "scope" "\"scope\": \"$SCOPE\""
has "an entry kept as evidence" '"evidence": true'
has "the feed's own entry" "\"id\": \"$ID_OWN\""
has "times" '"time": "[0-9]{4}-'
has "no broken evidence" '"broken_evidence": 0'
if A put health_profile HP-1 '{"phone":"0900000003"}' >"$T/out" 2>&1; then
	fail "the feed is frozen: A signs nothing more in it (put succeeded)"
else
	has "the feed is frozen: A signs nothing more in it" 'frozen after a fork'
fi

# --- bundles: evidence carried vs a damaged file -------------------------
check "A bundles everything, the evidence with it" A bundle create --unsealed "$T/all.bundle"
check "village node B, elsewhere" N kma init --network "$T/forks.network" --name khuoi-ma --scope bk/bach-thong/quang-thuan/khuoi-ma
check "B certified" certify "$T/forks.root.key" kma
check "B's certificate reaches A" bash -c "'$H' --home '$T/kma' bundle create --unsealed --scope bk/none '$T/kma-trust.bundle' >/dev/null && '$H' --home '$T/a' bundle import '$T/kma-trust.bundle' >/dev/null"
# (B may read none of what A holds: create says so and exits 1)
check "sealed to B, A's bundle carries neither A's entries nor the evidence of A's forked feed" bash -c "'$H' --home '$T/a' bundle create --seal-to '$(key kma)' '$T/to-kma.bundle' >/dev/null 2>&1; [ \$? = 1 ] && '$H' --home '$T/kma' --json bundle inspect '$T/to-kma.bundle' | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"entries\"] == 0, j'"
rc 1 "verify --bundle exits 1 on an intact bundle carrying a fork" A verify --bundle "$T/all.bundle"
has "and names it" "^verify: intact; carries evidence: .*feed $SCOPE seq 3"
rc 1 "verify --bundle --json" A verify --bundle "$T/all.bundle" --json
has "damaged is false" '"damaged": false'
has "evidence is true" '"evidence": true'
cp "$T/all.bundle" "$T/bad.bundle"
# byte 300 flipped (written as a constant, it is that constant already
# in one bundle in 256)
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[300]^=0xff; open(p,"wb").write(b)' "$T/bad.bundle"
rc 6 "verify --bundle exits 6 on a damaged bundle" A verify --bundle "$T/bad.bundle"
has "and says it is damaged" '^verify: DAMAGED'

# --- a revocation that takes the forked feed out -------------------------
# B, which holds none of A's feed, revokes A's key with the root key: the
# cut-off keeps nothing, so a copy of A's store takes the whole feed out
# when the revocation arrives, the evidence with it; the fork proof stays
# in the trust set. The store is intact and keeps evidence, as one that
# got the revocation first (exit 1, not 6).
check "A's store copied, to take the revocation" cp -a "$T/a" "$T/a-rev"
check "B revokes A's key with the root key, holding none of its feed" \
	N kma cert revoke "$KEY" --root-key "$T/forks.root.key" --reason "key copied" --drop-unheld
check "the revocation reaches the copy" bash -c "'$H' --home '$T/kma' bundle create --unsealed --scope bk/none '$T/rev.bundle' >/dev/null && '$H' --home '$T/a-rev' bundle import '$T/rev.bundle' >/dev/null"
rc 1 "the copy's verify: intact, keeps evidence (exit 1), not damaged" N a-rev verify
check "and no broken evidence" bash -c "! grep -q 'bad-evidence\\|DAMAGED' '$T/out'"

# --- a damaged store -----------------------------------------------------
check "B: a copy of A before the fork" cp -a "$T/copy" "$T/b"
check "B's bytes are altered on disk" damage "$T/b"
"$H" --home "$T/b" bundle create --unsealed "$T/b-damaged.bundle" >"$T/bd.out" 2>&1
check "a bundle from the damaged store is refused, naming where and what to run, and no file is left" bash -c "[ $? != 0 ] && grep -q 'the store is damaged at feed $SCOPE seq [0-9]*: .*(run hamlet verify)' '$T/bd.out' && ! ls '$T'/b-damaged.bundle* 2>/dev/null"
rc 6 "verify exits 6 on a damaged store" "$H" --home "$T/b" verify
has "and says it is damaged" '^verify: DAMAGED'
rc 6 "verify --json exits 6" "$H" --home "$T/b" verify --json
has "damaged is true" '"damaged": true'
has "evidence is false" '"evidence": false'
check "A's store is altered too" damage "$T/a"
rc 6 "damage wins over evidence" A verify
has "it is damaged" '^verify: DAMAGED'
has "and the evidence is still named" "^verify: it also keeps evidence: author $KEY forked feed $SCOPE at seq 3\$"
rc 6 "verify --json: both" A verify --json
has "damaged is true" '"damaged": true'
has "evidence is true" '"evidence": true'

# --- the help and the man page tell the exit codes -----------------------
rc 0 "hamlet help" "$H" help
has "lists the forks command" '^  forks \[--json\]$'
has "lists exit status 6" '^  6 +the store or bundle is damaged: verify found it so'

tests_done
