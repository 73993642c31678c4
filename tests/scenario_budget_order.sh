#!/usr/bin/env bash
# What goes first under a byte budget, and what a budget counts. Commune
# m1 (bk/c1) holds 150 payments, 150 registrations, 150 health events and
# 150 health profiles, each collection in a feed (a scope) of its own, and
# sends them to province p (bk) under 12 KB a day, on their first sync:
# p asks for the four feeds one WANT at a time, yet payments go first,
# then registrations, and no health record goes while a payment or a
# registration waits (docs/hamletd.md "What goes first"). Then three
# health events with long notes, which compress well, go to commune q2
# under 1 KB a session: the budget judges an entry by what it costs on
# the wire (compressed), so they are not "larger than the whole budget".
# Then m1 sends to p under 2 KB a session, and p goes down while the
# budget holds m1's own entries back: though village v1 is connected and
# in sync, m1's status warns that what it writes waits for p, and sync
# --wait exits 1 naming p (the ACK of the budget's share dates the last
# contact after every entry held). A reload that lifts the budget while p
# is down shows no budget holding anything, and the warning stays.
#   tests/scenario_budget_order.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch budget_order
ROOT=$T/bk.root.key

network_bk p:bk m1:bk/c1 q1:bk/c4 q2:bk/c4 v1:bk/c1/v1
check "the root certifies p" issue p province bk --root-key "$ROOT" --delegate
check "the root certifies m1" issue m1 commune bk/c1 --root-key "$ROOT"
check "the root certifies q1" issue q1 commune bk/c4 --root-key "$ROOT"
check "the root certifies q2" issue q2 commune bk/c4 --root-key "$ROOT"
check "the root certifies v1" issue v1 village bk/c1/v1 --root-key "$ROOT"
python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
with open(t + "/hp.csv", "w") as f:
    f.write("id,person_id,full_name,birth_date\n")
    for i in range(150):
        f.write(f"M-HP-{i:04d},{200000000000+i:012d},Lo Van Hung {i},1980-01-11\n")
rows = {
    "ev": [{"id": f"M-EV-{i}", "person_id": f"{200000000000+i:012d}", "kind": "immunization", "date": "2026-10-01", "code": "BCG"} for i in range(150)],
    "reg": [{"id": f"M-REG-{i}", "procedure_code": "1.001", "applicant_id": f"{200000000000+i:012d}", "submitted_at": "2026-10-01", "status": "received"} for i in range(150)],
    "pay": [{"id": f"M-PAY-{i}", "program": "social_allowance", "beneficiary_id": f"{200000000000+i:012d}", "period": "2026-10", "amount_vnd": 500000, "status": "created"} for i in range(150)],
}
for name, v in rows.items():
    open(f"{t}/{name}.ndjson", "w").write("".join(json.dumps(r) + "\n" for r in v))
PY
check "m1 imports 150 profiles in bk/c1/h" N m1 import health_profile --format csv --scope bk/c1/h "$T/hp.csv"
check "m1 imports 150 health events in bk/c1/e" N m1 import health_event --format ndjson --scope bk/c1/e "$T/ev.ndjson"
check "m1 imports 150 registrations in bk/c1/r" N m1 import registration --format ndjson --scope bk/c1/r "$T/reg.ndjson"
check "m1 imports 150 payments in bk/c1/p" N m1 import payment --format ndjson --scope bk/c1/p "$T/pay.ndjson"

held() { N "$1" status --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["peers"][0]["budget"]["held_back"]'; }
count() { N p export "$1" --format ndjson | wc -l; }

start p && ok "p's daemon listens" || fail "p's daemon listens"
printf '[budget]\npeer = 127.0.0.1:%s per_day=12KB\n' "${PORTOF[p]}" >"$T/m1.conf"
start m1 --config "$T/m1.conf" --peer 127.0.0.1:${PORTOF[p]} && ok "m1 dials p with 12 KB a day" || fail "m1 dials p with 12 KB a day"
check "m1 holds entries back for the day's budget (30 s)" within 30 held m1
# what was sent is stored at p before it is acknowledged; give the last
# batch its commit
check "p has stored what m1 sent (20 s)" within 20 bash -c "[ \$('$H' --home '$T/m1' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"peers\"][0][\"entries_out\"])') = \$('$H' --home '$T/p' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"entries\"])') ]"
pay=$(count payment) reg=$(count registration) ev=$(count health_event) hp=$(count health_profile)
echo "    # at p: $pay payments, $reg registrations, $ev health events, $hp health profiles"
check "every payment went first ($pay of 150)" test "$pay" = 150
check "no health event went while registrations waited ($ev)" test "$ev" = 0 -o "$reg" = 150
check "no health profile went while registrations waited ($hp)" test "$hp" = 0 -o "$reg" = 150
check "no health profile went while health events waited ($hp)" test "$hp" = 0 -o "$ev" = 150
stop m1
stop p

# --- a session's budget holds m1's own entries back, and p goes down ---
# a figure of m1's status --json for its peer named p (v1 joins later)
mbudget() { N m1 status --json | python3 -c "import json,sys; print([p for p in json.load(sys.stdin)['peers'] if p['name'] == 'p'][0]['budget']['$1'])"; }
start p && ok "p's daemon listens again" || fail "p's daemon listens again"
printf '[budget]\npeer = 127.0.0.1:%s per_session=2KB\n' "${PORTOF[p]}" >"$T/m1s.conf"
start m1 --config "$T/m1s.conf" --peer 127.0.0.1:${PORTOF[p]} && ok "m1 dials p with 2 KB a session" || fail "m1 dials p with 2 KB a session"
check "m1 holds its own entries back for the session's budget (30 s)" within 30 bash -c "[ \"\$(N() { '$H' --home '$T/m1' \"\$@\"; }; N status --json | python3 -c 'import json,sys; b=[p for p in json.load(sys.stdin)[\"peers\"] if p[\"name\"] == \"p\"][0][\"budget\"]; print(b[\"held_by\"])')\" = session ]"
check "p has acknowledged what m1 sent in this session (20 s)" within 20 bash -c "[ \"\$('$H' --home '$T/m1' status --json | python3 -c 'import json,sys; p=[p for p in json.load(sys.stdin)[\"peers\"] if p[\"name\"] == \"p\"][0]; print(p[\"entries_unacked\"])')\" = 0 ]"
stop p
start v1 --peer 127.0.0.1:${PORTOF[m1]} && ok "v1 dials m1" || fail "v1 dials m1"
check "v1 is in sync with m1 (30 s)" N v1 sync --wait --timeout 30
check "m1 sees p gone and v1 connected (30 s)" within 30 bash -c "'$H' --home '$T/m1' --json status | python3 -c 'import json,sys; j={p[\"name\"]: p[\"connected\"] for p in json.load(sys.stdin)[\"peers\"]}; assert j == {\"p\": False, \"v1\": True}, j'"
N m1 status >"$T/m1down.txt" 2>&1
sed 's/^/    # /' "$T/m1down.txt" | grep -E 'WARNING|  p |budget'
check "m1's status warns that what it writes waits for p" grep -q "^WARNING: what this node writes waits for p (127.0.0.1:${PORTOF[p]}), which is not connected" "$T/m1down.txt"
check "and --json names p in writes_wait_for" bash -c "'$H' --home '$T/m1' --json status | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"writes_wait_for\"] == \"p (127.0.0.1:${PORTOF[p]})\"'"
refuse "m1's sync --wait exits 1, naming p, though v1 is in sync" 1 \
	"not in sync: what this node writes waits for p (127.0.0.1:${PORTOF[p]}), which is not connected" \
	N m1 sync --wait --timeout 20
# the budget lifted by a reload while p is down: none holds anything now
reloads=$(grep -c 'reloaded the byte budgets' "$T/m1.log")
printf '[budget]\npeer = 127.0.0.1:%s per_session=none\n' "${PORTOF[p]}" >"$T/m1s.conf"
kill -HUP "${PIDOF[m1]}"
check "m1 reloads the byte budgets (30 s)" within 30 bash -c "[ \$(grep -c 'reloaded the byte budgets' '$T/m1.log') -gt $reloads ]"
check "status --json: no limit, and no budget holds entries back for p" \
	test "$(mbudget per_session) $(mbudget held_back) $(mbudget held_by) $(mbudget entries_held)" = "0 False None 0"
N m1 status >"$T/m1lifted.txt" 2>&1
check "status names no budget for p any more" bash -c "! grep -q 'budget' '$T/m1lifted.txt'"
check "and still warns that what m1 writes waits for p" grep -q "^WARNING: what this node writes waits for p (127.0.0.1:${PORTOF[p]})" "$T/m1lifted.txt"
stop v1
stop m1

# compressible entries under a session's budget smaller than they are
note=$(python3 -c 'print(("benh nhan can tai kham dinh ky. " * 31)[:1000])')
for i in 1 2 3; do
	check "q1 writes health event EV$i with a 1,000-byte note" N q1 put health_event EV$i \
		"{\"person_id\":\"1\",\"kind\":\"encounter\",\"date\":\"2026-11-01\",\"note\":\"$note\"}"
done
start q2 && ok "q2's daemon listens" || fail "q2's daemon listens"
printf '[budget]\ndefault_per_session = 1KB\n' >"$T/q1.conf"
start q1 --config "$T/q1.conf" --peer 127.0.0.1:${PORTOF[q2]} && ok "q1 dials q2 with 1 KB a session" || fail "q1 dials q2 with 1 KB a session"
check "all three reach q2, compressed within the 1 KB (20 s)" within 20 bash -c "[ \$('$H' --home '$T/q2' export health_event --format ndjson | wc -l) = 3 ]"
N q1 status >"$T/q1.txt" 2>&1
check "q1's status does not call one larger than the whole budget" bash -c "! grep -q 'larger than the whole' '$T/q1.txt'"
sent=$(N q1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["peers"][0]["budget"]["sent_session"])')
check "the session's count is what went on the wire, within the budget ($sent bytes)" test "$sent" -gt 0 -a "$sent" -le 1000
tests_done
