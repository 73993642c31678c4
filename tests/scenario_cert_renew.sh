#!/usr/bin/env bash
# A village certified by a commune whose own certificate ends first: the
# village's chain ends with the commune's certificate, not its own.
# hamlet status (text and --json), /v1/status, /metrics and the status
# page show that end, and warn within 30 days of it; hamletd's log too.
# The root renews the commune's certificate (same key): once the renewal
# reaches the village by sync, the village's chain is judged with it,
# with no new certificate for the village, past the old end as well.
# A renewal made only after the old certificate ended reaches a village
# too: it shows its chain as installed, and the commune, holding the
# renewal, judges it by that. A renewal that does not hold is never
# taken: one narrowed so that it no longer covers the village, or one of
# a commune whose key the root revoked, each carried to the village on a
# USB bundle, leaves its chain ended or revoked. Days pass by HAMLET_CLOCK_OFFSET_MS, and a
# certificate ended for real is one issued on a clock set back.
#   tests/scenario_cert_renew.sh PATH/TO/hamlet PATH/TO/hamletd
# Every daemon listens on 127.0.0.1; every wait is bounded.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
export TZ=UTC
tests_scratch certrenew
DAY=86400000
at() { local d=$1; shift; HAMLET_CLOCK_OFFSET_MS=$((d * DAY)) "$@"; }
C() { "$H" --home "$T/c" "$@"; }
V() { "$H" --home "$T/v" "$@"; }
# py JSON-FILE EXPR: a python assertion on the JSON in the file, as j
py() { python3 -c "import json,sys; j=json.load(open('$1')); assert $2, j"; }

network_bk c:bk/c1 v:bk/c1/v1 c2:bk/c2 v2:bk/c2/v2 c3:bk/c3 v3:bk/c3/v3
END=$(date -u -d '+45 days' +%F) # the commune's certificate, the end of that day
check "the root certifies the commune (delegate) until $END" "$H" cert issue --root-key "$T/bk.root.key" \
	--to "$(key c)" --name Com --role commune --read bk/c1 --write bk/c1 --delegate --expires "$END" --out "$T/c.cert"
check "the commune installs it" C cert install "$T/c.cert"
check "the commune certifies the village for the default 3 years" C cert issue --issuer-home "$T/c" \
	--to "$(key v)" --name Vil --role village --read bk/c1/v1 --write bk/c1/v1 --out "$T/v.cert"
check "the village installs it" V cert install "$T/v.cert"

# --- the chain's end, and the warning ----------------------------------
V status >"$T/st0" 2>&1
check "status: valid until the commune's end, naming its certificate" \
	grep -q "^certificate: \"Vil\" (village), valid until the end of $END (UTC), when the certificate of \"Com\" above it in the chain ends" "$T/st0"
check "45 days before that end, no warning" bash -c "! grep -q '^WARNING: this node.s certificate' '$T/st0'"
# from here the village's clock, and the commune's, are 25 days on
export HAMLET_CLOCK_OFFSET_MS=$((25 * DAY))
V status >"$T/st" 2>&1
sed 's/^/    # /' "$T/st" | head -4
check "status warns: the date, the certificate, and who renews it" \
	grep -q "^WARNING: this node's certificate chain is valid only until the end of $END (UTC) (20 days from now), when the certificate of \"Com\" (certificate 2 of the chain, above this node's own) ends: .*Whoever certified \"Com\" renews that certificate" "$T/st"
V status --json >"$T/st.json"
end_ms=$(( $(date -u -d "$END +1 day" +%s) * 1000 ))
check "status --json: expires_ms is the chain's end, with the certificate's name" \
	py "$T/st.json" "j['certificate']['expires_ms'] == $end_ms and j['certificate']['expires_cert_name'] == 'Com' and j['certificate']['expires_cert'] == 2 and j['certificate']['expires_soon'] is True"
check "the commune, its own certificate ending, is told to ask for a renewal" \
	bash -c "'$H' --home '$T/c' status | grep -q \"^WARNING: this node's certificate is valid only until the end of $END (UTC) (20 days from now): .*Ask the administrator who issued it for a renewal\""

start c || fail "the commune's daemon starts"
start_http v --peer 127.0.0.1:${PORTOF[c]} || fail "the village's daemon starts, serving HTTP"
URL=http://127.0.0.1:$HP
check "the village's log warns that its chain ends with the commune's certificate" \
	within 10 grep -q "this node's certificate chain is valid only until the end of $END (UTC) (20 days from now), when the certificate of \"Com\" above this node's own ends" "$T/v.log"
check "once (not every minute)" test "$(grep -c "certificate chain is valid only until" "$T/v.log")" = 1
curl -s --max-time 10 "$URL/metrics" >"$T/metrics"
grep '^hamlet_certificate' "$T/metrics" | sed 's/^/    # /'
check "/metrics: hamlet_certificate_expires_seconds is about 21 days" \
	bash -c "awk '/^hamlet_certificate_expires_seconds /{ok = \$2 > 20 * 86400 && \$2 <= 21 * 86400} END{exit !ok}' '$T/metrics'"
check "/metrics: its HELP and TYPE" grep -q "^# TYPE hamlet_certificate_expires_seconds gauge" "$T/metrics"
TOK=$(V token create --name mon --role read 2>/dev/null)
curl -s --max-time 10 -H "Authorization: Bearer $TOK" "$URL/v1/status" >"$T/v1.json"
check "/v1/status: the chain's end and its certificate" \
	py "$T/v1.json" "j['certificate']['expires_ms'] == $end_ms and j['certificate']['expires_cert_name'] == 'Com' and j['certificate']['expires_soon'] is True"
check "the status page warns, in English" bash -c "curl -s --max-time 10 '$URL/?lang=en' | grep -q 'id=\"cert-soon\">ENDS SOON: the chain ends in 20 days, with the certificate of Com'"
check "and in Vietnamese" bash -c "curl -s --max-time 10 '$URL/?lang=vi' | grep -q 'id=\"cert-soon\">SẮP HẾT HẠN: chuỗi chứng chỉ hết hạn sau 20 ngày, cùng với chứng chỉ của Com'"

# --- the root renews the commune's certificate --------------------------
unset HAMLET_CLOCK_OFFSET_MS
check "the root renews the commune's certificate, same key" "$H" cert issue --root-key "$T/bk.root.key" \
	--to "$(key c)" --name Com --role commune --read bk/c1 --write bk/c1 --delegate --out "$T/c-renewed.cert"
check "the commune installs the renewal" C cert install "$T/c-renewed.cert"
check "the village syncs with the commune" V sync --wait --timeout 60
export HAMLET_CLOCK_OFFSET_MS=$((25 * DAY))
check "the renewal reached the village: its status no longer warns" \
	within 30 bash -c "V() { '$H' --home '$T/v' \"\$@\"; }; V status | grep -q '^certificate: \"Vil\" (village), valid until' && ! V status | grep -q '^WARNING: this node.s certificate'"
V status --json >"$T/st2.json"
check "status --json: the chain ends later now, and not soon" \
	py "$T/st2.json" "j['certificate']['expires_ms'] > $end_ms + 300 * $DAY and j['certificate']['expires_soon'] is False"
check "50 days on, past the old end, the village's chain holds through the renewal" \
	bash -c "HAMLET_CLOCK_OFFSET_MS=$((50 * DAY)) '$H' --home '$T/v' cert list >'$T/list' 2>&1; rc=\$?; sed 's/^/    # /' '$T/list' | grep -i valid; [ \$rc = 0 ] && ! grep -q 'NOT VALID' '$T/list'"
check "and its status calls it valid" bash -c "HAMLET_CLOCK_OFFSET_MS=$((50 * DAY)) '$H' --home '$T/v' status | grep -q '^certificate: \"Vil\" (village), valid until'"
check "the village's own node.cert is left as installed" cmp -s "$T/v.cert" "$T/v/node.cert"
curl -s --max-time 10 "$URL/metrics" >"$T/metrics2"
check "/metrics: the gauge counts to the renewed end" \
	bash -c "awk '/^hamlet_certificate_expires_seconds /{ok = \$2 > 300 * 86400} END{exit !ok}' '$T/metrics2'"
daemons_stop
unset HAMLET_CLOCK_OFFSET_MS

# --- what a renewal installed takes away is said --------------------------
# issued without --delegate: the commune can no longer certify or revoke
check "a renewal issued without --delegate" "$H" cert issue --root-key "$T/bk.root.key" \
	--to "$(key c)" --name Com --role commune --read bk/c1 --write bk/c1 --out "$T/c-nodeleg.cert"
check "installed, it says the commune can no longer certify or revoke" bash -c \
	"'$H' --home '$T/c' cert install '$T/c-nodeleg.cert' 2>&1 | grep -q 'note: the certificate this one replaces let this node certify others and revoke what it certified (--delegate); this one does not'"
refuse "the commune's revoke then names revoking, and the root key" 4 \
	"the issuer $T/c cannot revoke: its certificate (\"Com\") does not let it certify others, nor revoke what it certified" \
	C cert revoke "$(key v)" --issuer-home "$T/c" --reason test
# the older file off the stick, over its renewal
check "the first certificate installed over the renewal says it ends sooner" bash -c \
	"'$H' --home '$T/c' cert install '$T/c.cert' 2>&1 | grep -q 'note: the certificate this one replaces was valid until .*, longer than this one (until .*): was this the older file?'"
check "the renewal installed again, with no note" bash -c \
	"'$H' --home '$T/c' cert install '$T/c-renewed.cert' >'$T/again.out' 2>&1 && ! grep -q 'note: the certificate this one replaces' '$T/again.out'"
check "and the commune revokes nothing by mistake here: none was made" bash -c "! '$H' --home '$T/c' cert list 2>&1 | grep -qi 'revoked'"

# --- a renewal made after the old certificate ended ---------------------
OLD=$(date -u -d '-5 days' +%F)
check "40 days ago the root certified commune c2 until $OLD" at -40 "$H" cert issue --root-key "$T/bk.root.key" \
	--to "$(key c2)" --name Com2 --role commune --read bk/c2 --write bk/c2 --delegate --expires "$OLD" --out "$T/c2.cert"
check "c2 installed it then" at -40 N c2 cert install "$T/c2.cert"
check "30 days ago c2 certified village v2" at -30 N c2 cert issue --issuer-home "$T/c2" \
	--to "$(key v2)" --name Vil2 --role village --read bk/c2/v2 --write bk/c2/v2 --out "$T/v2.cert"
check "v2 installed it then" at -30 N v2 cert install "$T/v2.cert"
refuse "today v2's chain does not hold: c2's certificate has ended" 1 "NOT VALID: certificate 2 of the chain (\"Com2\") has expired" N v2 cert list
check "v2's status says c2's certificate is to be renewed, and that v2 needs nothing new" \
	bash -c "'$H' --home '$T/v2' status | grep -q 'peers refuse this node until that certificate is renewed: whoever certified \"Com2\" renews it for the same key .*This node needs nothing new'"
check "not that v2 needs a certificate of its own" \
	bash -c "! '$H' --home '$T/v2' status | grep -q 'ask the administrator for a new certificate'"
check "v2 saves a profile, told that c2's renewal mends it and v2 needs nothing new" \
	bash -c "'$H' --home '$T/v2' put health_profile HP-R1 '{\"person_id\":\"001085000031\",\"full_name\":\"Lo Van R\",\"birth_date\":\"1990-01-01\"}' 2>&1 | grep -q 'the certificate of \"Com2\" above this node.s has ended .*until whoever certified \"Com2\" renews it; .*this node needs nothing new'"
check "and status's warning says the same of that entry, not to ask for a certificate of its own" \
	bash -c "'$H' --home '$T/v2' status | grep 'WARNING' | grep -q 'when the certificate of \"Com2\" above its own did not hold, .*Whoever certified \"Com2\" renews its certificate from .*this node needs nothing new'"
check "the root renews c2's certificate today, same key" "$H" cert issue --root-key "$T/bk.root.key" \
	--to "$(key c2)" --name Com2 --role commune --read bk/c2 --write bk/c2 --delegate --out "$T/c2-renewed.cert"
check "c2 installs it" N c2 cert install "$T/c2-renewed.cert"
start c2 || fail "c2's daemon starts"
start v2 --peer 127.0.0.1:${PORTOF[c2]} || fail "v2's daemon starts"
check "v2 shows its chain as installed, saying why" \
	within 10 grep -q "showing it all the same, for a peer that holds a renewal of that certificate" "$T/v2.log"
check "c2 judges it by the renewal and the session starts; the renewal reaches v2" \
	within 30 N v2 cert list
check "v2's status calls its certificate valid" bash -c "'$H' --home '$T/v2' status | grep -q '^certificate: \"Vil2\" (village), valid until'"
check "and v2 is in sync with c2" N v2 sync --wait --timeout 60
daemons_stop

# --- renewals that do not hold are not taken (carried by USB bundle) ----
# to_v3 FROM: a bundle FROM makes for v3 (its trust set goes whole), imported
to_v3() {
	N v3 summary --out "$T/v3.summary" >/dev/null &&
		N "$1" bundle create --for "$T/v3.summary" "$T/to-v3.bundle" >/dev/null 2>&1 &&
		N v3 bundle import "$T/to-v3.bundle"
}
check "the root certifies commune c3 (delegate) until $END" "$H" cert issue --root-key "$T/bk.root.key" \
	--to "$(key c3)" --name Com3 --role commune --read bk/c3 --write bk/c3 --delegate --expires "$END" --out "$T/c3.cert"
check "c3 installs it" N c3 cert install "$T/c3.cert"
check "c3 certifies village v3" N c3 cert issue --issuer-home "$T/c3" \
	--to "$(key v3)" --name Vil3 --role village --read bk/c3/v3 --write bk/c3/v3 --out "$T/v3.cert"
check "v3 installs it" N v3 cert install "$T/v3.cert"
check "the root 'renews' c3 narrowed to bk/c3/x, which does not hold v3" "$H" cert issue --root-key "$T/bk.root.key" \
	--to "$(key c3)" --name Com3 --role commune --read bk/c3/x --write bk/c3/x --delegate --out "$T/c3-narrow.cert"
# frames FILE: how many frames the import in FILE read
frames() { sed -n 's/^  size: .*, \([0-9]*\) frames$/\1/p' "$1"; }
check "a bundle from c3 before: v3 holds what c3 holds" bash -c "$(declare -f N to_v3); H='$H' T='$T'; to_v3 c3 >'$T/imp0' 2>&1"
check "c3 installs that" N c3 cert install "$T/c3-narrow.cert"
to_v3 c3 >"$T/imp1" 2>&1
check "a bundle from c3 after brings v3 one more item: the narrowed certificate" \
	test "$(frames "$T/imp1")" = "$(( $(frames "$T/imp0") + 1 ))"
refuse "50 days on, past c3's first end, v3's chain does not hold through the narrowed one" 1 \
	"NOT VALID: certificate 2 of the chain (\"Com3\") has expired" at 50 N v3 cert list
check "the root renews c3 in full" "$H" cert issue --root-key "$T/bk.root.key" \
	--to "$(key c3)" --name Com3 --role commune --read bk/c3 --write bk/c3 --delegate --out "$T/c3-full.cert"
check "c3 installs it" N c3 cert install "$T/c3-full.cert"
check "a bundle from c3 brings v3 the full renewal" to_v3 c3
check "50 days on, v3's chain holds through the full renewal" at 50 N v3 cert list
# the revocation made where v3's certificate is not held (commune c's
# home), so that it keeps none of what c3 signed (a revocation keeps
# what the node that records it holds: docs/admin-guide.md)
check "the root revokes c3's key, at commune c" N c cert revoke "$(key c3)" --root-key "$T/bk.root.key" --reason "PC stolen" --drop-unheld
check "an unsealed bundle of c's (certificates and revocations) brings v3 the revocation" \
	bash -c "'$H' --home '$T/c' bundle create --unsealed '$T/from-c.bundle' >/dev/null 2>&1 && '$H' --home '$T/v3' bundle import '$T/from-c.bundle' >/dev/null"
refuse "v3's chain no longer holds, renewal or not: its issuer's key is revoked" 1 "revoked" N v3 cert list
refuse "nor 50 days on: the revoked key's renewal is not taken, and the chain as installed has ended" 1 \
	"NOT VALID: certificate 2 of the chain (\"Com3\") has expired" at 50 N v3 cert list
tests_done
