#!/usr/bin/env bash
# hamletd's [http] max_per_client (daemon/http_conns.c, docs/api.md
# "Limits"): one address other than loopback holds that many connections
# at most; one more is closed at once, without an answer, counted in
# /metrics and logged once a minute at most; loopback clients and other
# addresses are not held back by it; a client that closed its connections
# is answered again; unset, the limit is half of max_connections.
#   tests/scenario_http_clients.sh PATH/TO/hamlet PATH/TO/hamletd
# Loopback is exempt, so the clients need another address: the test makes
# two network namespaces joined by a veth pair (root, iproute2) and skips
# (77) where it cannot. hamletd runs in namespace A on 10.237.X.1; the
# clients in B, on .2 and .3; its home and socket are files, so the CLI
# works from outside. Every wait is bounded; the namespaces are deleted on
# exit, whatever happens.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
for c in ip python3 curl timeout; do
	command -v $c >/dev/null || { echo "$c is missing: skipped"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "network namespaces need root: skipped"; exit 77; }
tests_scratch http-clients

# --- two namespaces, A (the daemon) and B (the clients), and a veth ---
NA=hamlet-t-$$-a NB=hamlet-t-$$-b
X=$(($$ % 256))
IPA=10.237.$X.1 IPB=10.237.$X.2 IPB2=10.237.$X.3
made=()
# stop the clients and the daemon, then delete the namespaces (a
# namespace lives on while a process is in it)
clients_cleanup() {
	local n p
	for p in "${AGPID[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${AGPID[@]}"; do wait "$p" 2>/dev/null; done
	tests_cleanup
	for n in "${made[@]}"; do ip netns del "$n" 2>/dev/null; done
}
declare -A AGPID=() AGFD=()
trap clients_cleanup EXIT
netns_make() {
	ip netns add "$NA" && made+=("$NA") && ip netns add "$NB" && made+=("$NB") &&
		ip link add hc$$a netns "$NA" type veth peer name hc$$b netns "$NB" &&
		ip -n "$NA" addr add "$IPA/29" dev hc$$a &&
		ip -n "$NB" addr add "$IPB/29" dev hc$$b &&
		ip -n "$NB" addr add "$IPB2/29" dev hc$$b &&
		ip -n "$NA" link set lo up && ip -n "$NB" link set lo up &&
		ip -n "$NA" link set hc$$a up && ip -n "$NB" link set hc$$b up
}
if ! netns_make >"$T/netns.err" 2>&1; then
	echo "cannot make network namespaces and a veth pair: skipped"
	sed 's/^/    /' "$T/netns.err"
	exit 77
fi
# the link is up both ways (at most 5 s)
if ! within 5 ip netns exec "$NB" python3 -c "import socket; s = socket.socket(); s.settimeout(2); exit(s.connect_ex(('$IPA', 9)) not in (0, 111))"; then
	echo "the veth pair between the namespaces carries nothing: skipped"
	exit 77
fi

check "network created" "$H" network create hc --out "$T"
check "node a" N a init --network "$T/hc.network" --name a --scope bk/c1/a
check "the root certifies a" certify "$T/hc.root.key" a
R=$(N a token create --name reader --role read 2>/dev/null)
check "a read token" test -n "$R"

HP=8080
# launch_a LOG INI: hamletd on $T/a in namespace A, as INI says, logging
# to $T/LOG; waits (60 s at most: sanitizers, a loaded machine) until
# it is ready and serves HTTP
launch_a() {
	local log=$T/$1 p _
	: >"$log"
	ip netns exec "$NA" "$D" --home "$T/a" --listen 127.0.0.1:7450 --config "$2" 2>>"$log" &
	p=$!
	pids+=("$p")
	for _ in $(seq 1 1200); do
		grep -q "ready (" "$log" && grep -q "http: API on $IPA:$HP" "$log" && return 0
		kill -0 "$p" 2>/dev/null || break
		sleep 0.05
	done
	sed 's/^/    /' "$log" | head -20
	return 1
}
# lo PATH: GET http://IPA:HP/PATH from loopback inside namespace A (no
# token: loopback needs none for /metrics); the body on stdout
lo() {
	ip netns exec "$NA" curl -sf --max-time 10 --interface 127.0.0.1 "http://$IPA:$HP$1"
}
# refused_is N: /metrics counts N refusals for max_per_client
refused_is() {
	local m
	m=$(lo /metrics | grep '^hamlet_http_connections_closed_total{reason="max_per_client"} ')
	echo "metrics: ${m:-no max_per_client line} (want $1)"
	[ "${m##* }" = "$1" ]
}

# --- a client that holds connections, one a namespace and an address ---
# It reads "KEY COMMAND" lines and writes "KEY ANSWER" lines:
#   open N  open N connections at once and send nothing ("opened N")
#   held    after 1 s, which of them the daemon still holds ("held K of N");
#           the closed ones are dropped
#   ask     a GET /v1/status on each one held ("codes 200 200")
#   probe   a new connection and a GET /v1/status on it: "answered CODE",
#           "closed unanswered (eof, 0 bytes)" or "(reset, 0 bytes)",
#           "silent for 5 s", "garbled: ..."
#   close   close them all ("closed N")
cat >"$T/agent.py" <<'EOF'
import socket, sys, time
src, host, port, tok = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
REQ = ("GET /v1/status HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n\r\n"
       % (host, port, tok)).encode()
conns = []

def connect():
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    s.connect((host, port))
    return s

def alive(s):
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True  # nothing to read, not closed
    except OSError:
        return False
    finally:
        s.settimeout(5)

def answer(s):
    """send a request, read the whole answer (5 s at most)"""
    got, how = b"", None
    try:
        s.sendall(REQ)
    except OSError as e:
        how = "reset"
    end = time.monotonic() + 5
    while how is None and time.monotonic() < end:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            how = "reset"
            break
        if not b:
            how = "eof"
            break
        got += b
        head, sep, body = got.partition(b"\r\n\r\n")
        if sep:
            n = 0
            for l in head.split(b"\r\n")[1:]:
                k, _, v = l.partition(b":")
                if k.strip().lower() == b"content-length":
                    n = int(v)
            if len(body) >= n:
                break
    if not got:
        return ("closed unanswered (%s, 0 bytes)" % how) if how else "silent for 5 s"
    if got.startswith(b"HTTP/1.") and b"\r\n\r\n" in got:
        return "answered " + got.split(b" ")[1].decode()
    return "garbled: %r" % got[:80]

for line in sys.stdin:
    key, _, cmd = line.strip().partition(" ")
    try:
        if cmd.startswith("open "):
            new = [connect() for _ in range(int(cmd.split()[1]))]
            conns += new
            out = "opened %d" % len(new)
        elif cmd == "held":
            time.sleep(1)
            n = len(conns)
            for s in [s for s in conns if not alive(s)]:
                s.close()
                conns.remove(s)
            out = "held %d of %d" % (len(conns), n)
        elif cmd == "ask":
            out = "codes " + " ".join(answer(s).split()[-1] for s in conns)
        elif cmd == "probe":
            s = connect()
            out = answer(s)
            s.close()
        elif cmd == "close":
            out = "closed %d" % len(conns)
            for s in conns:
                s.close()
            conns = []
        else:
            out = "unknown command " + cmd
    except OSError as e:
        out = "error: %s" % e
    print(key, out, flush=True)
EOF
# agent NAME NS SRC: start the client NAME in namespace NS, its
# connections from address SRC (it lives 200 s at most)
agent() {
	local fd
	rm -f "$T/$1.in"
	mkfifo "$T/$1.in"
	timeout 200 ip netns exec "$2" python3 -u "$T/agent.py" "$3" "$IPA" $HP "$R" \
		<"$T/$1.in" >"$T/$1.out" 2>&1 &
	AGPID[$1]=$!
	exec {fd}>"$T/$1.in"
	AGFD[$1]=$fd
}
# agent_stop NAME: its connections close with it (killed: the other
# clients and the daemon, started later, hold its pipe open too)
agent_stop() {
	local fd=${AGFD[$1]}
	exec {fd}>&-
	kill "${AGPID[$1]}" 2>/dev/null
	wait "${AGPID[$1]}" 2>/dev/null
	unset "AGPID[$1]" "AGFD[$1]"
}
said=0
# is ANSWER NAME COMMAND: the client NAME answers COMMAND with ANSWER (a
# bash regex; 15 s at most, a probe takes 10 at most)
is() {
	local want=$1 n=$2 got='' _; shift 2
	said=$((said + 1))
	echo "$said $*" >&"${AGFD[$n]}"
	for _ in $(seq 1 75); do
		got=$(sed -n "s/^$said //p" "$T/$n.out")
		[ -n "$got" ] && break
		sleep 0.2
	done
	echo "$n, $*: ${got:-no answer} (want: $want)"
	[[ $got =~ ^($want)$ ]]
}
UNANSWERED='closed unanswered \((eof|reset), 0 bytes\)'
refused_twice() { is "$UNANSWERED" b probe && is "$UNANSWERED" b probe; }
holds_two() { is "opened 2" b open 2 && is "held 2 of 2" b held; }
# answered_again: B's slots come back as the daemon sees its connections
# closed (10 tries)
answered_again() {
	local _
	for _ in $(seq 1 10); do
		is "answered 200" b probe && return 0
		sleep 0.5
	done
	return 1
}
LINE="http: $IPB already holds 2 connections ([http] max_per_client): a new one is refused"

# --- max_per_client = 2 ---
printf '[http]\nlisten = %s:%s\nmax_connections = 8\nmax_per_client = 2\n' "$IPA" $HP >"$T/two.ini"
if launch_a a.log "$T/two.ini"; then
	ok "a's daemon serves HTTP on $IPA in its namespace"
	agent b "$NB" "$IPB"
	agent b2 "$NB" "$IPB2"
	agent lo "$NA" 127.0.0.1
	check "a client of B is answered" is "answered 200" b probe
	check "B opens two idle connections" is "opened 2" b open 2
	check "the daemon holds both" is "held 2 of 2" b held
	check "a third from B is closed without an answer" is "$UNANSWERED" b probe
	check "so is a fourth, and a fifth" refused_twice
	check "B's two held connections still answer" is "codes 200 200" b ask
	check "and are still held" is "held 2 of 2" b held
	check "another address of B is answered meanwhile" is "answered 200" b2 probe
	check "loopback in A opens three idle connections, one over the limit" is "opened 3" lo open 3
	check "the daemon holds all three: loopback is not limited per client" is "held 3 of 3" lo held
	check "a loopback request is answered meanwhile" is "answered 200" lo probe
	check "/metrics from loopback answers" lo /metrics
	check "hamlet status answers through the socket meanwhile" N a status
	check "/metrics counts the three refusals" refused_is 3
	check "the log names the client and the limit" grep -qF "$LINE" "$T/a.log"
	check "once: three refusals in a minute make one line" test "$(grep -cF "already holds" "$T/a.log")" = 1
	check "B closes its two" is "closed 2" b close
	check "B is answered again" answered_again
	check "and holds two again" holds_two
	check "and a third is refused again" is "$UNANSWERED" b probe
	check "/metrics counts four refusals" refused_is 4
	for a in b b2 lo; do agent_stop $a; done
else
	fail "a's daemon serves HTTP on $IPA in its namespace"
fi
daemons_stop

# --- unset: half of max_connections ---
printf '[http]\nlisten = %s:%s\nmax_connections = 8\n' "$IPA" $HP >"$T/half.ini"
if launch_a a2.log "$T/half.ini"; then
	ok "a's daemon restarts without max_per_client"
	agent b "$NB" "$IPB"
	check "B opens four idle connections" is "opened 4" b open 4
	check "the daemon holds all four" is "held 4 of 4" b held
	check "a fifth from B is closed without an answer" is "$UNANSWERED" b probe
	check "loopback is answered meanwhile" lo /metrics
	check "/metrics counts the refusal" refused_is 1
	check "the log says the limit is 4" grep -qF "http: $IPB already holds 4 connections ([http] max_per_client)" "$T/a2.log"
	check "B closes its four" is "closed 4" b close
	check "B is answered again" answered_again
	# the slots are taken as connections are accepted: six at once still
	# leave B four
	check "B opens six at once" is "opened 6" b open 6
	check "the daemon holds four of them" is "held 4 of 6" b held
	agent_stop b
else
	fail "a's daemon restarts without max_per_client"
fi
tests_done
