#!/usr/bin/env bash
# The peers as an operator meets them across restarts and reloads:
# village v1 dials commune c1. A reload that changes nothing says so, and
# one that changes a setting read only at start names it. With c1 down,
# v1 restarted still lists c1 (last agreed, what waits for it); `hamlet
# sync` dials c1 at once rather than after its backoff, says so, and
# `sync --wait` names c1 and why it is not reached. A peer named as typed
# is named so in a refusal. A peer removed by a reload is listed no more.
# Once its HELLO has shown its certificate, every line names a peer by it
# (its trust items too). An address that takes the connection but is no
# hamlet node (silent, sending no handshake, closing before answering)
# gets advice that fits it, not the certificate's. A reload logs one
# "removed" line for each address it drops, whatever its state, and
# nothing about trying again.
#   tests/scenario_peers.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch peers
ROOT=$T/bk.root.key

network_bk c1:bk/c1 v1:bk/c1/v1
check "the root certifies c1" issue c1 commune bk/c1 --root-key "$ROOT" --delegate
check "c1 certifies v1" issue v1 village bk/c1/v1 --issuer-home "$T/c1"
put() { N v1 put health_profile "$1" "{\"person_id\":\"$2\",\"full_name\":\"Lo Van $1\",\"birth_date\":\"1990-01-01\"}"; }
check "v1 writes a profile" put HP-1 200000000001

# relaunch NAME PORT ARGS...: NAME's daemon again on the port it had (a
# restarted commune PC keeps its address), ready within 60 s (a
# sanitized daemon on a loaded machine starts slowly) unless it exits
relaunch() {
	local n=$1 p=$2; shift 2
	: >"$T/$n.log"
	"$D" --home "$T/$n" --listen 127.0.0.1:$p "$@" 2>>"$T/$n.log" &
	PIDOF[$n]=$!
	pids+=("$!")
	within 60 bash -c "grep -q 'ready (' '$T/$n.log' || ! kill -0 ${PIDOF[$n]}"
	grep -q "ready (" "$T/$n.log"
}
# v1's status figure for its peers: python over status --json
vjson() { N v1 --json status | python3 -c "import json,sys; j=json.load(sys.stdin); $1"; }

start c1 && ok "c1's daemon listens" || fail "c1's daemon listens"
PC=${PORTOF[c1]}
printf '[node]\npeers = 127.0.0.1:%s\n' "$PC" >"$T/v1.conf"
start v1 --config "$T/v1.conf" && ok "v1 dials c1 (its config's peers)" || fail "v1 dials c1"
check "v1 is in sync with c1 (30 s)" N v1 sync --wait --timeout 30

# --- a reload says what it did, and what waits for a restart ---
kill -HUP "${PIDOF[v1]}"
check "a reload that changes nothing says the peer list is unchanged, in the singular (10 s)" \
	within 10 grep -q "reloaded the config: the peer list is unchanged (1 peer)$" "$T/v1.log"
check "and does not say it reloaded a new peer list" bash -c "! grep -q 'reloaded the peer list' '$T/v1.log'"
printf '[node]\npeers = 127.0.0.1:%s\n[limits]\nmax_peers = 7\n[http]\nmax_connections = 9\n' "$PC" >"$T/v1.conf"
kill -HUP "${PIDOF[v1]}"
check "a reload names the changed settings that wait for a restart (10 s)" within 10 \
	grep -q "reload: changed in the file, but used only from the next start (systemctl restart hamletd): \[limits\] max_peers, \[http\] max_connections$" "$T/v1.log"
printf '[node]\npeers = 127.0.0.1:%s 127.0.0.1:1\n' "$PC" >"$T/v1.conf"
kill -HUP "${PIDOF[v1]}"
check "a reload that adds a peer gives the new count (10 s)" within 10 grep -q "reloaded the peer list (2 peers)$" "$T/v1.log"
printf '[node]\npeers = 127.0.0.1:%s\n' "$PC" >"$T/v1.conf"
kill -HUP "${PIDOF[v1]}"
check "and one that removes it, in the singular (10 s)" within 10 grep -q "reloaded the peer list (1 peer)$" "$T/v1.log"

# --- a restart lists the configured peers at once ---
stop c1
check "v1 sees c1 gone (100 s)" within 100 vjson "assert not j['peers'][0]['connected']"
check "v1 writes a profile with c1 down" put HP-2 200000000002
stop v1
start v1 --config "$T/v1.conf" && ok "v1 restarts, c1 still down" || fail "v1 restarts, c1 still down"
N v1 status >"$T/restart.txt" 2>&1
sed 's/^/    # /' "$T/restart.txt" | tail -4
check "right after the restart status counts c1" grep -q '^daemon: running; 1 peer$' "$T/restart.txt"
check "and lists it not connected, with its last session and the entry waiting for it" \
	grep -qE '^  c1 \(bk/c1\): NOT CONNECTED, last agreed [0-9-]+ [0-9:]+ UTC \([^)]*\); 1 entry waiting to go out' "$T/restart.txt"
check "its failing dial is told under its line, not as a second peer (15 s)" within 15 bash -c \
	"'$H' --home '$T/v1' status >'$T/st1.txt' 2>&1; grep -A1 '^  c1 (bk/c1): NOT CONNECTED' '$T/st1.txt' | grep -q '^    at 127.0.0.1:$PC: NOT REACHED: ' && ! grep -q '^  127.0.0.1:$PC: ' '$T/st1.txt'"
check "peers list says that address is not reached now, by name" bash -c \
	"'$H' --home '$T/v1' peers list 2>&1 | grep -qx '127.0.0.1:$PC: c1 (bk/c1), NOT REACHED at this address now (hamlet status says why)'"
check "peers list --json: not connected, not reached" bash -c "'$H' --home '$T/v1' --json peers list | python3 -c 'import json,sys; d=json.load(sys.stdin)[\"dials\"][0]; assert d[\"connected\"] is False and d[\"reached\"] is False, d'"
check "status --json gives its key, name and last sync" vjson "p=j['peers'][0]; assert p['name']=='c1' and p['last_sync_ms']>0 and not p['connected'], p"

# --- hamlet sync dials a peer not connected at once, and says so ---
N v1 sync >"$T/sync.out" 2>&1
rc=$?
sed 's/^/    # /' "$T/sync.out"
check "sync with no peer connected exits 0 and says it dials c1 now" \
	bash -c "[ $rc = 0 ] && grep -qx 'no peer connected; dialling 1 peer now: 127.0.0.1:$PC (each syncs once it connects; hamlet sync --wait waits for it)' '$T/sync.out'"
check "--json: not started, dialling its address" bash -c "'$H' --home '$T/v1' --json sync | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"started\"] is False and j[\"dialling\"]==[\"127.0.0.1:$PC\"], j'"
s0=$SECONDS
N v1 sync --wait --timeout 120 >"$T/wait.out" 2>&1
rc=$?
sed 's/^/    # /' "$T/wait.out"
# it ends when the dial fails, not when its timeout runs out (120 s: far
# beyond what a dial refused takes, however loaded the machine)
check "sync --wait with c1 down fails (exit 1) once the dial failed, before its timeout ($((SECONDS - s0)) s)" \
	test "$rc" = 1 -a $((SECONDS - s0)) -lt 115
check "naming c1, its address, and why it is not reached" \
	grep -qE '^hamlet: not in sync: no peer is connected; c1 \(127\.0\.0\.1:'"$PC"'\): not reached: .*refused' "$T/wait.out"
check "and what to do about it: start hamletd there" \
	grep -q '^hamlet: The PC there is on, but hamletd is not running on it: ask someone there to start it (systemctl start hamletd)' "$T/wait.out"
# let v1's backoff grow: each dial that fails doubles it (hamlet sync
# dials at once), up to 5 minutes; without being asked v1 would try
# again only minutes later
check "v1's next try at c1 is 3 minutes off or more (60 s)" within 60 bash -c \
	"'$H' --home '$T/v1' sync >/dev/null 2>&1; '$H' --home '$T/v1' --json status | python3 -c 'import json,sys; j=json.load(sys.stdin); assert [u for u in j[\"unreached\"] if u[\"retry_in_ms\"] >= 180000]'"
check "c1 comes back at its address" relaunch c1 "$PC"
# however long c1 took to start, v1 would not try again by itself for
# over a minute: in sync within 20 s, it dialled when asked
check "v1's next try at c1 is still over a minute off" vjson \
	"assert [u for u in j['unreached'] if u['retry_in_ms'] >= 60000], j['unreached']"
check "sync --wait dials c1 now, cutting its backoff short: in sync within 20 s" \
	N v1 sync --wait --timeout 20
check "c1 holds the profile written while it was down" N c1 get health_profile HP-2

# --- a peer named as typed is named so when it is not connected ---
stop v1
check "c1 sees v1 gone (100 s)" within 100 bash -c "'$H' --home '$T/c1' --json status | python3 -c 'import json,sys; assert not json.load(sys.stdin)[\"peers\"][0][\"connected\"]'"
refuse "sync with a peer given by name that is not connected names it as typed" 3 \
	"V1 is not a connected peer" N c1 sync V1
check "not by its key" bash -c "! grep -qE '[0-9a-f]{64}' '$T/refused'"

# --- a peer removed by a reload is listed no more ---
start v1 --config "$T/v1.conf" && ok "v1 starts again" || fail "v1 starts again"
check "v1 is in sync with c1 again (30 s)" N v1 sync --wait --timeout 30
printf '[node]\n' >"$T/v1.conf"
kill -HUP "${PIDOF[v1]}"
check "a reload removes c1 from v1's peers (10 s)" within 10 grep -q "peer 127.0.0.1:$PC: removed" "$T/v1.log"
check "status no longer lists c1, nor counts it (10 s)" within 10 bash -c \
	"'$H' --home '$T/v1' status >'$T/removed.txt' 2>&1 && grep -q '^daemon: running; 0 peers$' '$T/removed.txt' && ! grep -q 'c1 (bk/c1)' '$T/removed.txt'"
sed 's/^/    # /' "$T/removed.txt" | tail -3
check "peers list does not call c1 a peer that dialled us" bash -c "'$H' --home '$T/v1' peers list >'$T/plist.txt' 2>&1; ! grep -q 'dialled us' '$T/plist.txt'"
check "nor does peers list --json" bash -c "'$H' --home '$T/v1' --json peers list | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"dialled_us\"]==[] and j[\"dials\"]==[], j'"
check "c1 still lists v1, which dialled it" bash -c "'$H' --home '$T/c1' status | grep -q '^  v1 (bk/c1/v1): '"

# --- after HELLO, a peer is named by its certificate in every line ---
# v2's certificate, from the root, is new to c1: c1 stores it from v2's
# HELLO, in a line that comes after "connected"
check "v2 joins" N v2 init --network "$T/bk.network" --name v2 --scope bk/c1/v2
check "the root certifies v2" issue v2 village bk/c1/v2 --root-key "$ROOT"
start v2 --peer 127.0.0.1:$PC && ok "v2 dials c1" || fail "v2 dials c1"
check "c1 stores v2's certificate, naming v2 by it (30 s)" within 30 \
	grep -q '^<6>hamletd: peer v2 (bk/c1/v2): 1 new trust item ' "$T/c1.log"
grep -E 'trust item|peer v2' "$T/c1.log" | sed 's/^/    # /'
check "no line after a HELLO names a peer by its address and key" bash -c \
	"! grep -hE 'peer 127\.0\.0\.1:[0-9]+ \([0-9a-f]{16}\): .*(trust item|connected)' '$T/c1.log' '$T/v2.log'"
stop v2

# --- an address that answers but is no hamlet node ---
# listeners.py MODE:PORT...: silent (takes the connection, says
# nothing), garbage (sends what no handshake is), close (reads what
# comes, then closes); each accepted connection is one line "MODE PORT"
cat >"$T/listeners.py" <<'PY'
import socket, sys, threading
held = []
lock = threading.Lock()
def say(line):
    with lock: # one write a line: the threads' lines never mix
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
def serve(mode, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    say("listening %s %d" % (mode, port))
    while True:
        c, _ = s.accept()
        say("%s %d" % (mode, port))
        try:
            if mode == "garbage":
                c.sendall(b"\xff" * (2 + 65535))
            elif mode == "close":
                c.recv(4096)
                c.close()
                continue
            elif mode == "http":
                # as a web server meets what is no request
                c.recv(4096)
                c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                c.close()
                continue
        except OSError:
            pass
        held.append(c)
for a in sys.argv[1:]:
    m, p = a.split(":")
    threading.Thread(target=serve, args=(m, int(p)), daemon=True).start()
threading.Event().wait()
PY
PS1=$(port) PS2=$(port) PG=$(port) PX=$(port) PR=$(port) PW=$(port)
"$PYTHON3" "$T/listeners.py" silent:$PS1 silent:$PS2 garbage:$PG close:$PX http:$PW >"$T/listeners.log" 2>&1 &
pids+=("$!")
check "the listeners listen (10 s)" within 10 bash -c "[ \$(grep -c '^listening' '$T/listeners.log') = 5 ]"
for a in $PS1 $PS2 $PG $PX $PW; do N v1 peers add 127.0.0.1:$a >/dev/null; done
st() { N v1 status >"$T/st.txt" 2>&1; grep -A1 "^  127.0.0.1:$1: CONNECTS, BUT NO SESSION STARTS: $2" "$T/st.txt" | tail -1 | grep -q "$3"; }
check "a silent address: the handshake timed out, and no hamlet answers there or the link is slow (40 s)" \
	within 40 st $PS1 "handshake timed out" "^    the connection is taken there, but no hamlet handshake answers in time: something other than hamletd listens at that address, or the link is too slow. Check that 127.0.0.1:$PS1 is the address and port of a hamletd"
check "an address that sends what no handshake is: not a hamlet node (40 s)" \
	within 40 st $PG "handshake failed: a message of 65535 bytes is no hamlet handshake" "^    what answers there is not a hamlet node (what it sent is no hamlet handshake): check that 127.0.0.1:$PG is the address and port of a hamletd"
check "a web server (an HTTP port given for the sync port): named, not taken for another network (40 s)" \
	within 40 st $PW "handshake failed: it answers in HTTP, as a web server does" "^    what answers there is not a hamlet node (what it sent is no hamlet handshake): check that 127.0.0.1:$PW is the address and port of a hamletd"
check "one that closes before answering: another network key (40 s)" \
	within 40 st $PX "closed during the handshake, before answering our first message" "^    that node ends the handshake before answering this node's first message: it is most likely of another network (another network key)"
sed 's/^/    # /' "$T/st.txt" | grep -A1 'CONNECTS, BUT'
check "none of them is said to refuse this node's certificate" bash -c "! grep -q 'certificate may be unknown' '$T/st.txt'"
check "status --json says how far each got" vjson "u={x['addr']: x['stage'] for x in j['unreached']}; assert u['127.0.0.1:$PS1']=='handshake_timeout' and u['127.0.0.1:$PG']=='not_hamlet' and u['127.0.0.1:$PX']=='other_network' and u['127.0.0.1:$PW']=='not_hamlet', u"

# --- a reload logs each address it drops, whatever its state ---
printf '[node]\npeers = 127.0.0.1:%s 127.0.0.1:%s\n  127.0.0.1:%s no-such-host.invalid:7450\n  127.0.0.1:%s 127.0.0.1:%s 127.0.0.1:%s\n' \
	"$PC" "$PS1" "$PS2" "$PR" "$PG" "$PX" >"$T/v1.conf"
kill -HUP "${PIDOF[v1]}"
check "v1 takes the list of the file (10 s)" within 10 grep -q "reloaded the peer list (7 peers)$" "$T/v1.log"
check "v1 is connected to c1 again (30 s)" within 30 vjson "assert [p for p in j['peers'] if p.get('name') == 'c1' and p['connected']]"
check "no-such-host.invalid is never resolved, and 127.0.0.1:$PR refuses (30 s)" within 30 bash -c \
	"grep -q 'peer no-such-host.invalid:7450: not reached: cannot resolve' '$T/v1.log' && grep -q 'peer 127.0.0.1:$PR: not reached: ' '$T/v1.log'"
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\?8'; then
	# a name not found is said in Vietnamese words whatever the
	# resolver's cause (no such name, or no name server here), none of
	# libuv's English left in it
	N v1 status >"$T/st-name.txt" 2>&1 || true
	LC_ALL=vi_VN.UTF-8 LANGUAGE= "$H" --home "$T/v1" status >"$T/st-name.vi" 2>&1 || true
	sed 's/^/    # /' "$T/st-name.txt" | grep 'no-such-host'
	check "status says the name is not found, in English and in Vietnamese" bash -c \
		"grep 'no-such-host.invalid' '$T/st-name.txt' | grep -qE 'cannot resolve: (no computer has this name|this name has no address|no name server answered)' &&
		 grep 'no-such-host.invalid' '$T/st-name.vi' | grep -q 'không tìm được địa chỉ của tên máy: ' &&
		 ! grep 'no-such-host.invalid' '$T/st-name.vi' | grep -qiE 'unknown node|or service|failure|no address|cannot'"
fi
# 127.0.0.1:$PS2 in its handshake at the reload: dialled now (hamlet
# sync), the reload sent once a connection is taken there that has not
# failed yet (each taken fails once, after 10 s of silence)
in_handshake() {
	local taken tries
	N v1 sync >/dev/null 2>&1
	taken=$(grep -c "^silent $PS2$" "$T/listeners.log")
	tries=$(vjson "print(sum(x['tries'] for x in j['unreached'] if x['addr'] == '127.0.0.1:$PS2'))")
	[ "$taken" -gt "$tries" ]
}
check "v1 is in the handshake with 127.0.0.1:$PS2 (60 s)" within 60 in_handshake
mark=$(wc -l <"$T/v1.log")
printf '[node]\npeers = 127.0.0.1:%s\n' "$PS1" >"$T/v1.conf"
kill -HUP "${PIDOF[v1]}"
check "the reload is taken (10 s)" within 10 logged_since "$mark" "reloaded the peer list (1 peer)" "$T/v1.log"
tail -n +$((mark + 1)) "$T/v1.log" | sed 's/^/    # /'
for a in 127.0.0.1:$PC 127.0.0.1:$PS2 127.0.0.1:$PR no-such-host.invalid:7450 127.0.0.1:$PG 127.0.0.1:$PX; do
	check "one line says $a is removed" test "$(tail -n +$((mark + 1)) "$T/v1.log" | grep -c "^<6>hamletd: peer $a: removed$")" = 1
done
check "c1's session closes, saying why, under its name" logged_since "$mark" "peer c1 (bk/c1): closed: removed from the peer list" "$T/v1.log"
check "nothing says a removed address is tried again (2 s)" never 2 bash -c \
	"tail -n +$((mark + 1)) '$T/v1.log' | grep -v '127.0.0.1:$PS1: ' | grep -q 'tries again by itself'"
check "status lists none of them" bash -c \
	"'$H' --home '$T/v1' status >'$T/removed2.txt' 2>&1 && ! grep -qE '127.0.0.1:($PC|$PS2|$PR|$PG|$PX)|no-such-host' '$T/removed2.txt'"

# c1 added again, then a second spelling of its address by mistake
# (127.0.01 is 127.0.0.1): the second reaches the same key, and its
# connection is the duplicate closed. Removed, it is named nowhere: c1
# is known by the address still dialled, in status and in peers.known
c1_addr() { vjson "print([p['addr'] for p in j['peers'] if p.get('name') == 'c1'][0])"; }
c1_at_first() { [ "$(c1_addr)" = "127.0.0.1:$PC" ]; }
check "v1 dials c1 again (peers add)" N v1 peers add "127.0.0.1:$PC"
check "and is connected to it (30 s)" within 30 vjson "assert [p for p in j['peers'] if p.get('name') == 'c1' and p['connected']]"
check "a second spelling of c1's address is added" N v1 peers add "127.0.01:$PC"
check "it reaches c1's key (30 s)" within 30 grep -q "^127.0.01:$PC " "$T/v1/peers.known"
check "c1 is still known by the address first dialled" c1_at_first
check "the second spelling is removed" N v1 peers remove "127.0.01:$PC"
check "c1 is known by the address still dialled (10 s)" within 10 c1_at_first
check "and peers.known no longer lists the removed spelling" bash -c "! grep -q '^127.0.01:' '$T/v1/peers.known' && grep -q '^127.0.0.1:$PC ' '$T/v1/peers.known'"
check "status names it nowhere" bash -c "'$H' --home '$T/v1' status >'$T/removed3.txt' 2>&1 && ! grep -q '127.0.01' '$T/removed3.txt'"

# anyone who reaches the port (no network key needed) and sends garbage
# gets no log line a connection: at most 10 a minute are logged, the
# rest counted (said once the minute is over); c1 serves on
mark=$(wc -l <"$T/c1.log")
python3 - "$PC" <<'PY'
import socket, sys, time
for _ in range(40):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
        s.sendall(b"\x00\x00\x00")
        s.settimeout(2)
        try:
            s.recv(16)
        except OSError:
            pass
        s.close()
    except OSError:
        time.sleep(0.05)
PY
check "40 connections of garbage give at most 10 lines in c1's log" bash -c \
	"[ \"\$(tail -n +$((mark + 1)) '$T/c1.log' | grep -cE 'peer 127\.0\.0\.1:[0-9]+: (dropped|closed):')\" -le 10 ]"
tail -n +$((mark + 1)) "$T/c1.log" | head -3 | sed 's/^/    # /'
check "c1 still answers its operator" N c1 status
check "and v1's session with c1 stands (30 s)" within 30 vjson "assert [p for p in j['peers'] if p.get('name') == 'c1' and p['connected']]"
stop c1
check "c1 says at its stop how many it did not log, with the last one's words" \
	grep -qE 'hamletd: [0-9]+ more connections? dialled in by (an )?unknown peers? ended in a fault or before (its|their) handshake within a minute, not each logged; the last: peer 127\.0\.0\.1:[0-9]+: dropped: empty frame' "$T/c1.log"
tests_done
