#!/usr/bin/env bash
# A node keeps only what it may read, before and after its certificate:
# a new village PC that imports its commune's stick before its
# certificate is installed keeps its own scope alone; a certificate
# installed over a store that holds more (filled before any such check)
# takes the rest out and says so, with or without hamletd running; a
# fork proof of another village's feed is not stored, and an import that
# brings nothing wrong exits 0; one that brings a fork of the node's own
# feed names it.
#   tests/scenario_uncertified.sh PATH/TO/hamlet PATH/TO/hamletd
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch uncertified
# in NAME TEXT: the bytes of TEXT are in NAME's store file
held() { grep -q -a "$2" "$T/$1/store/data.mdb"; }
not_held() { ! held "$@"; }
put() { N "$1" put health_profile "$2" "{\"person_id\":\"$3\",\"full_name\":\"$4\",\"birth_date\":\"1985-01-02\"}"; }

check "network created" "$H" network create bk --out "$T"
for n in com:bk/c va:bk/c/va vb:bk/c/vb wa:bk/c wb:bk/c; do
	check "node ${n%%:*}" N "${n%%:*}" init --network "$T/bk.network" --name "${n%%:*}" --scope "${n#*:}"
done
check "the commune certified, with --delegate" issue com commune bk/c --root-key "$T/bk.root.key" --delegate
check "village vb certified by the commune" issue vb village bk/c/vb --issuer-home "$T/com"
check "vb writes a resident" put vb HP-B1 002222222222 "Nong Van THEIRSMARKER"
check "the commune imports vb's stick" bash -c "'$H' --home '$T/vb' bundle create --seal-to $(key com) '$T/vb.bundle' 2>/dev/null && '$H' --home '$T/com' bundle import '$T/vb.bundle'"
check "the commune writes one of its own" put com HP-C1 003333333333 "Ma Thi COMMUNEMARKER"

# --- a new village PC, its first stick before its certificate ---------
check "the commune seals a stick to va, whose certificate it does not know yet" \
	bash -c "'$H' --home '$T/com' bundle create --seal-to $(key va) '$T/to-va.bundle' 2>&1 | grep -q 'no certificate of the node sealed to is known here'"
check "va, with no certificate, imports it: nothing refused, exit 0" N va bundle import "$T/to-va.bundle"
cp "$T/out" "$T/last"
check "what is not of its scope is counted as not ours" grep -q '^  not ours:   2 ' "$T/last"
check "and is not in its files" not_held va THEIRSMARKER
check "nor the commune's" not_held va COMMUNEMARKER
check "va gets its certificate" issue va village bk/c/va --issuer-home "$T/com"
refuse "another village's resident is not shown there" 3 "not found" N va get health_profile HP-B1

# --- a store filled before any check: its certificate takes out the rest
check "wa (scope bk/c, no certificate) imports a stick of the commune's" \
	bash -c "'$H' --home '$T/com' bundle create --seal-to $(key wa) '$T/to-wa.bundle' 2>/dev/null && '$H' --home '$T/wa' bundle import '$T/to-wa.bundle'"
check "its scope covers the village's and the commune's records" bash -c "grep -q -a THEIRSMARKER '$T/wa/store/data.mdb' && grep -q -a COMMUNEMARKER '$T/wa/store/data.mdb'"
check "wa writes one of its own before it is certified" put wa HP-W1 004444444444 "Lo Van OWNMARKER"
"$H" cert issue --issuer-home "$T/com" --to "$(key wa)" --name wa --role village \
	--read bk/c/wa --write bk/c/wa --out "$T/wa.cert" >/dev/null 2>&1
check "wa installs a certificate that reads bk/c/wa alone" N wa cert install "$T/wa.cert"
cp "$T/out" "$T/last"
check "the install says what it took out" grep -q '^took out 2 entries that this certificate does not let the node read (records no longer held here: 2; fork proofs: 0)' "$T/last"
check "they are in none of its files" bash -c "! grep -q -a -e THEIRSMARKER -e COMMUNEMARKER '$T/wa/store/data.mdb'"
check "what it wrote itself stays" held wa OWNMARKER
refuse "the other village's record is no longer shown" 3 "not found" N wa get health_profile HP-B1
check "the store verifies" N wa verify
check "installing it again takes out nothing more" bash -c "'$H' --home '$T/wa' cert install '$T/wa.cert' | grep -c 'took out' | grep -qx 0"

# --- the same with hamletd running: it takes them out ---------------------
check "wb (scope bk/c, no certificate) imports the same stick" \
	bash -c "'$H' --home '$T/com' bundle create --seal-to $(key wb) '$T/to-wb.bundle' 2>/dev/null && '$H' --home '$T/wb' bundle import '$T/to-wb.bundle'"
check "hamletd runs on wb" start wb
"$H" cert issue --issuer-home "$T/com" --to "$(key wb)" --name wb --role village \
	--read bk/c/wb --write bk/c/wb --out "$T/wb.cert" >/dev/null 2>&1
check "wb installs its certificate while hamletd runs" N wb cert install "$T/wb.cert"
cp "$T/out" "$T/last"
check "hamletd took them out, and the install says so" grep -q '^took out 2 entries' "$T/last"
check "their bytes leave its files once no other program reads the store" \
	within 10 bash -c "! grep -q -a -e THEIRSMARKER -e COMMUNEMARKER '$T/wb/store/data.mdb'"
stop wb

# --- fork proofs: of another village's feed, not stored; of its own, named
mkdir -p "$T/vbc/store"
cp "$T/vb/node.conf" "$T/vb/node.key" "$T/vb/network.conf" "$T/vb/node.cert" "$T/vbc/"
check "vb's copy (its key on a second PC) gets vb's entries" \
	bash -c "'$H' --home '$T/vb' bundle create --seal-to $(key vb) '$T/self.bundle' 2>/dev/null && '$H' --home '$T/vbc' bundle import '$T/self.bundle'"
check "vb writes its seq 2" put vb HP-FORKA 002222222230 "Fork A"
check "its copy writes another seq 2" put vbc HP-FORKB 002222222231 "Fork B"
for s in vb vbc; do
	"$H" --home "$T/$s" bundle create --seal-to "$(key com)" "$T/$s-com.bundle" >/dev/null 2>&1
	"$H" --home "$T/com" bundle import "$T/$s-com.bundle" >/dev/null 2>&1
done
check "the commune holds the fork" bash -c "'$H' --home '$T/com' forks | grep -q 'bk/c/vb'"
# exit 1 when va may read none of the commune's feeds (it then carries
# the network's certificates only), 0 when it may read some
check "the commune seals a stick to va (certified now)" \
	bash -c "'$H' --home '$T/com' bundle create --seal-to $(key va) '$T/to-va2.bundle' 2>/dev/null; rc=\$?; [ \$rc -le 1 ] && test -s '$T/to-va2.bundle'"
check "it leaves out the fork proof of a feed va may not read" \
	bash -c "'$H' --home '$T/va' bundle inspect '$T/to-va2.bundle' >'$T/insp' 2>&1; ! grep -q 'fork proof' '$T/insp'"
check "the commune writes an unsealed stick for anyone (a public one)" \
	bash -c "'$H' --home '$T/com' bundle create --unsealed --scope bk/c/va '$T/all.bundle' 2>/dev/null"
check "va imports it: exit 0, nothing it reads is wrong" N va bundle import "$T/all.bundle"
cp "$T/out" "$T/last"
check "no 'the rest was not' without a problem listed" bash -c "! grep -q 'the rest was not' '$T/last'"
check "the fork proof of vb's feed is not ours" grep -q '^  not ours:   1 ' "$T/last"
check "and the forked records' ids are not in va's files" bash -c "! grep -q -a -e HP-FORKA -e HP-FORKB '$T/va/store/data.mdb'"
check "the commune seals a stick to vb" \
	bash -c "'$H' --home '$T/com' bundle create --seal-to $(key vb) '$T/to-vb.bundle' 2>/dev/null"
refuse "vb imports the proof of its own feed's fork: named, exit 1" 1 "fork proof at byte [0-9]*: author [0-9a-f]*… signed two different entries at seq 2 of feed bk/c/vb" \
	N vb bundle import "$T/to-vb.bundle"

# --- by sync: the village's daemon is sent no fork proof of another's feed
check "a new village vd" N vd init --network "$T/bk.network" --name vd --scope bk/c/vd
check "certified by the commune" issue vd village bk/c/vd --issuer-home "$T/com"
check "the commune's daemon runs" start com
check "vd's daemon dials it" start vd --peer "127.0.0.1:${PORTOF[com]}"
check "vd syncs with the commune" N vd sync --wait --timeout 30
check "vd holds vb's certificate: the commune's trust set came" \
	within 10 grep -q -a 'bk/c/vb' "$T/vd/store/data.mdb"
check "but no fork proof of vb's feed, nor the forked records' ids" bash -c "! grep -q -a -e HP-FORKA -e HP-FORKB '$T/vd/store/data.mdb'"
check "vd syncs again, in sync" N vd sync --wait --timeout 30
check "and neither side logged a trust item refused" bash -c "! grep -q 'refused' '$T/vd.log' '$T/com.log'"
daemons_stop

tests_done
