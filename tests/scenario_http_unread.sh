#!/usr/bin/env bash
# hamletd's HTTP API and clients that never read their answers
# (daemon/http_conns.c, docs/api.md "Limits"): a page of records or of
# changes stops at HTTP_MAX_PAGE_BYTES of JSON with a next (last_seq)
# that walks the rest, so that an answer held for a client is bounded;
# and when every connection is held by clients that pipeline requests
# and never read the answers, a newcomer still gets in (the connection
# whose answer went unread longest is closed for it), counted in
# /metrics and logged; connections closed at request_timeout are logged
# one line a minute at most, however many a client makes.
#   tests/scenario_http_unread.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; everything listens on 127.0.0.1.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
needs curl python3
tests_scratch http-unread
A() { "$H" --home "$T/a" "$@"; }

http_node hu
R=$(A token create --name reader --role read 2>/dev/null)
printf '[http]\nmax_connections = 4\nrequest_timeout = 60\n' >"$T/a.ini"
start_http a --config "$T/a.ini" && ok "a's daemon serves HTTP, four connections" ||
	{ fail "a's daemon serves HTTP, four connections"; tests_done; exit 1; }
URL=http://127.0.0.1:$HP

# 48 registrations of about 33 KB each: 1.6 MB of records
check "48 registrations of 33 KB each are written" "$PYTHON3" - "$HP" "$W" <<'PY'
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=20)
for i in range(48):
    body = json.dumps({"procedure_code": "1.001", "applicant_id": "0000007%05d" % i,
                       "submitted_at": "2026-11-01",
                       "details": {"k%d" % j: "v" * 1000 for j in range(32)}})
    c.request("PUT", "/v1/records/registration/RG-%02d" % i, body,
              {"Authorization": "Bearer " + sys.argv[2]})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY

# --- a page stops at 1 MiB of JSON; next and last_seq walk the rest ---
check "a list of limit=1000 stops at about 1 MiB with a next, and next walks all 48" "$PYTHON3" - "$HP" "$R" <<'PY'
import json, sys, urllib.request
def get(p):
    q = urllib.request.Request("http://127.0.0.1:%s%s" % (sys.argv[1], p),
                               headers={"Authorization": "Bearer " + sys.argv[2]})
    b = urllib.request.urlopen(q, timeout=20).read()
    return len(b), json.loads(b)
n, d = get("/v1/records/registration?limit=1000")
assert d["next"] and 0 < len(d["records"]) < 48 and n < (1 << 20) + 40000, (n, len(d["records"]))
seen = [r["id"] for r in d["records"]]
while d["next"]:
    n, d = get("/v1/records/registration?limit=1000&after=" + d["next"])
    assert n < (1 << 20) + 40000, n
    seen += [r["id"] for r in d["records"]]
assert sorted(seen) == ["RG-%02d" % i for i in range(48)], seen
n, d = get("/v1/changes?limit=1000")
assert 0 < len(d["results"]) < 48 and n < (1 << 20) + 40000, (n, len(d["results"]))
got = len(d["results"])
while d["results"]:
    n, d = get("/v1/changes?limit=1000&since=%d" % d["last_seq"])
    got += len(d["results"])
assert got == 48, got
PY

# --- every connection held by clients that pipeline requests and never
# read: the one whose answer went unread longest makes room ---
cat >"$T/unread.py" <<'PY'
import socket, sys, time
# 6 connections, each pipelining 8 requests of a 1 MiB page and reading
# nothing (a small receive buffer); those refused or closed are let go;
# bounded: 15 s
port, tok = int(sys.argv[1]), sys.argv[2]
req = ("GET /v1/records/registration?limit=1000 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
       "Authorization: Bearer %s\r\n\r\n" % tok).encode() * 8
socks = []
for _ in range(6):
    try:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        s.sendall(req)
        socks.append(s)
    except OSError:
        pass
time.sleep(15)
PY
"$PYTHON3" "$T/unread.py" "$HP" "$R" >/dev/null 2>&1 &
UNREAD=$!
sleep 3.5
check "with every connection held by clients that never read their answers, a plain request still answers" \
	test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $R" "$URL/v1/status")" = 200
check "the log says which was closed to make room" grep -q "all 4 connections (\[http\] max_connections) are open: 127.0.0.1's, whose answer has not been read for [0-9]* s, is closed to make room" "$T/a.log"
check "/metrics counts it" bash -c "curl -s --max-time 10 '$URL/metrics' | grep -q '^hamlet_http_connections_closed_total{reason=\"answer_unread\"} [1-9]'"
kill $UNREAD 2>/dev/null
wait $UNREAD 2>/dev/null
check "hamlet status answers through the socket" A status

# --- a client opening a connection a second and sending nothing: each
# is closed at request_timeout, counted in /metrics, and logged one line
# a minute at most (not a line a second for as long as it goes on) ---
stop a
printf '[http]\nrequest_timeout = 2\n' >"$T/a2.ini"
start_http a --config "$T/a2.ini" && ok "a's daemon serves HTTP, 2 s for a request" ||
	{ fail "a's daemon serves HTTP, 2 s for a request"; tests_done; exit 1; }
URL=http://127.0.0.1:$HP
"$PYTHON3" - "$HP" <<'PY'
import socket, sys, time
# 8 connections, one a second, each sending one byte; bounded: 12 s
socks = []
for _ in range(8):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
        s.send(b"G")
        socks.append(s)
    except OSError:
        pass
    time.sleep(1)
time.sleep(4)
PY
check "/metrics counts the 8 closed (10 s)" within 10 bash -c \
	"curl -s --max-time 5 '$URL/metrics' | grep -q '^hamlet_http_connections_closed_total{reason=\"request_timeout\"} 8\$'"
check "the log names the first" grep -q "127.0.0.1 sent no whole request within 2 s" "$T/a.log"
check "and says no more within the minute" test "$(grep -c 'sent no whole request within 2 s' "$T/a.log")" = 1
tests_done
