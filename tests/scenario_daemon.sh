#!/usr/bin/env bash
# hamletd as an operator meets it: one daemon per home, a store that grows
# while `hamlet status` is polled through a sync, and a bundle carrying a
# feed outside the node's scopes, imported through the daemon: not ours,
# not stored, and neither logged nor counted as refused.
#   tests/scenario_daemon.sh PATH/TO/hamlet PATH/TO/hamletd
# Every wait is bounded; daemons listen on 127.0.0.1 and are stopped.
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch daemon
A() { "$H" --home "$T/a" "$@"; }
B() { "$H" --home "$T/b" "$@"; }
X() { "$H" --home "$T/x" "$@"; }
# The stores start with a 1 MiB map, so this sync grows B's map several
# times (1 -> 2 -> 4 -> 8 -> 16 MiB) while status reads it.
export HAMLET_STORE_INITIAL_MAP=1048576
N=6000
check "network created" "$H" network create grow --out "$T"
# hamletd on a terminal: its lines without journald's "<N>" (script
# gives it one); with HAMLET_HOME for a home, as hamlet takes it
tty_line() { HAMLET_HOME="$T/none" LC_ALL=C script -qec "'$D'" /dev/null >"$T/tty.out" 2>&1; grep -q "^hamletd: no node in $T/none" "$T/tty.out" && ! grep -q "<[0-9]>" "$T/tty.out"; }
check "hamletd on a terminal takes HAMLET_HOME and writes its lines without a level prefix" tty_line
check "off a terminal the prefix is there, for journald" bash -c "! HAMLET_HOME='$T/none' LC_ALL=C '$D' 2>'$T/notty.out'; grep -q '^<3>hamletd: no node in $T/none' '$T/notty.out'"
check "node a" A init --network "$T/grow.network" --name a --scope bk/bt/qt/a
check "node b" B init --network "$T/grow.network" --name b --scope bk/bt/qt
check "node x of another commune" X init --network "$T/grow.network" --name x --scope bk/other/x
for n in a x; do check "the root certifies $n" certify "$T/grow.root.key" $n; done
# b's certificate reads the whole province, so that a bundle made for it
# carries x's commune too: what refuses that feed below is b's own scopes
check "the root certifies b to read bk" certify "$T/grow.root.key" b bk bk/bt/qt
{
	echo "id,person_id,full_name,birth_date,chronic_conditions"
	pad=$(printf 'hypertension %.0s' $(seq 1 60))
	for i in $(seq 1 $N); do
		printf 'HP-%05d,%012d,Nguyen Van %d,1980-01-01,%s\n' "$i" "$i" "$i" "$pad"
	done
} >"$T/profiles.csv"
check "a imports $N profiles" A import health_profile --format csv "$T/profiles.csv"
size_before=$(stat -c %s "$T/b/store/data.mdb")

launch b && PB=$PORT && ok "b's daemon listens" || fail "b's daemon listens"
BPID=$PID

# --- one daemon per home ---
# second_refused DESC PATTERN ARGS...: a second hamletd started with ARGS
# exits non-zero, its log matching PATTERN. It is refused at once, but a
# sanitized daemon on a loaded machine may take a while to get that far:
# waited for up to 60 s
second_refused() {
	local d=$1 pat=$2 second rc end; shift 2
	"$D" "$@" 2>"$T/second.log" &
	second=$!
	end=$((SECONDS + 61))
	for _ in $(seq 1 1200); do
		kill -0 $second 2>/dev/null || break
		[ "$SECONDS" -ge "$end" ] && break
		sleep 0.05
	done
	if kill -0 $second 2>/dev/null; then
		kill $second; wait $second 2>/dev/null
		fail "$d (still running)"
		return
	fi
	wait $second
	rc=$?
	if [ $rc -ne 0 ] && grep -q "$pat" "$T/second.log"; then
		ok "$d"
	else
		fail "$d (exit $rc)"
		sed 's/^/    /' "$T/second.log"
	fi
}
second_refused "a second hamletd on the same home is refused, naming the first" \
	"another hamletd (pid $BPID) already serves" \
	--home "$T/b" --listen 127.0.0.1:$(port)
# its lock file deleted under it (a clean-up, a restore): a second daemon
# with a socket of its own is refused all the same, by the home's lock
mv "$T/b/hamletd.lock" "$T/b-lock.saved"
second_refused "with the lock file deleted, a second hamletd on the home is still refused, saying so" \
	"another hamletd already serves .*its lock file .* was deleted or replaced" \
	--home "$T/b" --listen 127.0.0.1:$(port) --socket "$T/second.sock"
rm -f "$T/b/hamletd.lock"
mv "$T/b-lock.saved" "$T/b/hamletd.lock"
check "the first daemon still answers status" B status
check "the first daemon's socket is still there" test -S "$T/b/hamletd.sock"
# a local client whose framing is lost (a length of 0, or over the limit)
# is told why before it is closed, and the daemon serves on
for len in 0 4294967295; do
	check "a request framed with length $len is answered with the reason, then closed" python3 - "$T/b/hamletd.sock" "$len" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(struct.pack(">I", int(sys.argv[2])) + b"\x91\xa6status")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
n = struct.unpack(">I", data[:4])[0]
body = data[4:4 + n]
assert len(body) == n, data
# msgpack [negative code, "request of ... bytes ..."]
assert body[0] == 0x92 and b"request of" in body and b"bytes" in body, body
print(body[body.index(b"request of"):].decode(errors="replace"))
PY
done
check "and the daemon still answers status" B status

# --- the socket: never a file that is not one, never a live daemon's ---
echo keep >"$T/precious"
refuse "a home that does not exist is a setting to fix (exit 2, which systemd does not restart)" 2 \
	"no node in $T/no-such-home: the directory does not exist" "$D" --home "$T/no-such-home"
mkdir -p "$T/empty-home"
refuse "a home with no node in it yet is one too (exit 2): systemd does not restart it into the same error" 2 \
	"no node in $T/empty-home" timeout 10 "$D" --home "$T/empty-home"
refuse "a regular file at --socket is refused, named for what it is" 2 \
	"$T/precious is a regular file, not a socket: hamletd will not replace it" \
	timeout 10 "$D" --home "$T/x" --socket "$T/precious"
check "and the file is still there, unchanged" grep -qx keep "$T/precious"
mkdir "$T/adir"
refuse "a directory at --socket is refused" 2 "$T/adir is a directory, not a socket" \
	timeout 10 "$D" --home "$T/x" --socket "$T/adir"
check "and the directory is still there" test -d "$T/adir"
ln -s "$T/precious" "$T/alink"
refuse "a symbolic link at --socket is refused" 2 "$T/alink is a symbolic link, not a socket" \
	timeout 10 "$D" --home "$T/x" --socket "$T/alink"
check "and the link is still there" test -L "$T/alink"
# nor HOME/hamletd.lock through a link, or one that is no file
rm -f "$T/x/hamletd.lock"
ln -s "$T/precious" "$T/x/hamletd.lock"
refuse "a symbolic link at HOME/hamletd.lock is refused (exit 2), not written through" 2 \
	"$T/x/hamletd.lock is a symbolic link: hamletd will not write its pid through it" \
	timeout 10 "$D" --home "$T/x" --listen 127.0.0.1:$(port)
check "and the file it points to is unchanged" grep -qx keep "$T/precious"
rm "$T/x/hamletd.lock"
ln -s "$T/nothing-here" "$T/x/hamletd.lock"
refuse "a link to nothing at HOME/hamletd.lock is refused too" 2 "is a symbolic link" \
	timeout 10 "$D" --home "$T/x" --listen 127.0.0.1:$(port)
check "and it made no file where the link points" test ! -e "$T/nothing-here"
rm "$T/x/hamletd.lock"
mkfifo "$T/x/hamletd.lock"
refuse "a pipe at HOME/hamletd.lock is refused" 2 "hamletd.lock is not a regular file" \
	timeout 10 "$D" --home "$T/x" --listen 127.0.0.1:$(port)
rm "$T/x/hamletd.lock"
# with b's lock file deleted, the home's own lock still stops a second
# daemon (and b's live socket would, behind it)
mv "$T/b/hamletd.lock" "$T/b.lock.held"
refuse "with hamletd.lock deleted, a second hamletd on b is refused by the home's lock" 1 \
	"another hamletd already serves $T/b (its lock file $T/b/hamletd.lock was deleted or replaced" \
	timeout 10 "$D" --home "$T/b" --listen 127.0.0.1:$(port)
check "and the refused daemon left no pid of its own in the new lock file" test ! -s "$T/b/hamletd.lock"
mv "$T/b.lock.held" "$T/b/hamletd.lock"
check "b's daemon still answers status" B status
check "b's socket is still there" test -S "$T/b/hamletd.sock"
# a copy of b's home made while b's daemon runs carries b's hamletd.lock,
# which names b's socket; no daemon holds the copy's lock, so hamlet on
# the copy works without a daemon and leaves b's alone
cp -a "$T/b" "$T/bcopy"
C() { "$H" --home "$T/bcopy" "$@"; }
C put health_profile HP-C1 '{"person_id":"444444444444","full_name":"Copy","birth_date":"1970-01-01"}' >"$T/put.out" 2>&1
check "a put on a copy of a running node's home is saved in the copy, not through the original's daemon" \
	bash -c "grep -q 'saved health_profile/HP-C1' '$T/put.out' && ! grep -q 'through hamletd' '$T/put.out'"
check "and it names the daemon it left alone" grep -q "hamletd.lock names the socket $T/b/hamletd.sock, but the hamletd answering there does not run on $T/bcopy" "$T/put.out"
check "the copy's store holds it" C get health_profile HP-C1
if B get health_profile HP-C1 >/dev/null 2>&1; then fail "and the original's store does not"; else ok "and the original's store does not"; fi
check "status of the copy says its daemon is not running" bash -c "'$H' --home '$T/bcopy' status 2>/dev/null | grep -q '^daemon: not running'"
check "and its JSON says daemon: false" bash -c "'$H' --home '$T/bcopy' status --json 2>/dev/null | grep -q '\"daemon\": false'"
rm -rf "$T/bcopy"
# a socket nobody answers on is what a killed daemon leaves: replaced
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/stale.sock"
launch x --socket "$T/stale.sock" && ok "a stale socket at --socket is replaced" || fail "a stale socket at --socket is replaced"
check "and the daemon answers on it" "$H" --home "$T/x" status --socket "$T/stale.sock"
"$H" --home "$T/x" status --socket "$T/nosuch.sock" >"$T/wrongsock.out" 2>&1
check "status with a --socket it does not listen on: exit 1" test $? = 1
check "it says the daemon runs and this command missed its socket, naming it" bash -c \
	"grep -q '^daemon: RUNNING, but this command cannot reach its socket' '$T/wrongsock.out' && grep -q 'its socket $T/nosuch.sock cannot be reached' '$T/wrongsock.out'"
check "and does not tell to restart a daemon that runs" bash -c "! grep -q 'Restart it' '$T/wrongsock.out'"
kill "$PID"; wait "$PID" 2>/dev/null
check "and its socket goes when it stops" test ! -e "$T/stale.sock"
long="$T/$(printf 'h%.0s' $(seq 1 100))"
refuse "a home whose socket path would be too long is refused, naming the setting" 2 \
	"is 1[0-9][0-9] bytes long, over the 107 a local socket path can have, because the home directory's path is long: set a shorter path with socket = in hamletd.conf" \
	timeout 10 "$D" --home "$long"
refuse "an over-long --socket is refused, naming --socket" 2 \
	"--socket \"$long/s\" is 1[0-9][0-9] bytes long, over the 107" \
	timeout 10 "$D" --home "$T/x" --socket "$long/s"
refuse "hamlet names an over-long socket path and the limit" 5 \
	"the socket path $long/s is 1[0-9][0-9] bytes long, over the 107 a local socket path can have" \
	X sync --socket "$long/s"

# --- hamlet finds a socket set outside the home ---
mkdir "$T/run"
S() { "$H" --home "$T/s" "$@"; }
check "node s" S init --network "$T/grow.network" --name s --scope bk/bt/qt/s
check "the root certifies s" certify "$T/grow.root.key" s
launch s --socket "$T/run/s.sock" && ok "s's daemon runs with its socket outside its home" || fail "s's daemon runs with its socket outside its home"
SPID=$PID
check "hamletd.lock names the socket's full path" bash -c "sed -n 2p '$T/s/hamletd.lock' | grep -qx '$T/run/s.sock'"
S put health_profile HP-S1 '{"person_id":"555555555555","full_name":"Through","birth_date":"1970-01-01"}' >"$T/put.out" 2>&1
check "hamlet put goes through hamletd at that socket" grep -q "through hamletd" "$T/put.out"
# a resolve is a write like the others: it says so, with its seq
S put health_profile HP-S1B '{"person_id":"555555555555","full_name":"Through","birth_date":"1970-01-01"}' >/dev/null 2>&1
check "a resolve of the duplicate goes through hamletd and says so, with its seq" bash -c \
	"'$H' --home '$T/s' conflicts resolve health_profile HP-S1B '{\"person_id\":\"555555555558\"}' | grep -q '^resolved health_profile/HP-S1B (entry [0-9a-f]*, seq [1-9][0-9]*, through hamletd):$'"
check "hamlet status sees the daemon running" bash -c "'$H' --home '$T/s' status | grep -q '^daemon: running'"
# a daemon that holds the home but cannot be reached: nothing is written
mv "$T/run/s.sock" "$T/run/moved.sock"
refuse "with its socket gone, hamlet refuses to write beside the running daemon, naming it" 5 \
	"hamletd (pid $SPID) runs on $T/s, but its socket $T/run/s.sock cannot be reached" \
	S put health_profile HP-S2 '{"person_id":"555555555556","full_name":"Beside","birth_date":"1970-01-01"}'
check "put's hint names \$HAMLET_SOCKET, not --socket, which put refuses" bash -c "grep -q 'give it with \\\$HAMLET_SOCKET, set before the command (HAMLET_SOCKET=PATH hamlet --home $T/s …)' '$T/refused' && ! grep -q -- '--socket' '$T/refused'"
if S get health_profile HP-S2 >/dev/null 2>&1; then fail "and nothing was stored"; else ok "and nothing was stored"; fi
refuse "sync, which takes --socket, names it too" 5 \
	'give it with --socket or \$HAMLET_SOCKET' S sync
# the hint followed: the socket given by $HAMLET_SOCKET reaches hamletd
HAMLET_SOCKET="$T/run/moved.sock" S put health_profile HP-S2 '{"person_id":"555555555556","full_name":"Beside","birth_date":"1970-01-01"}' >"$T/put.out" 2>&1
check "with \$HAMLET_SOCKET the put goes through hamletd" grep -q "through hamletd" "$T/put.out"
check "hamlet help lists HAMLET_SOCKET under environment" bash -c "'$H' help | sed -n '/^environment:/,\$p' | grep -q '^  HAMLET_SOCKET\$'"
kill "$SPID"; wait "$SPID" 2>/dev/null
pids=("${pids[@]/$SPID}")
S put health_profile HP-S3 '{"person_id":"555555555557","full_name":"Alone","birth_date":"1970-01-01"}' >"$T/put.out" 2>&1
check "once the daemon stopped, hamlet writes the store itself" bash -c "grep -q 'saved health_profile/HP-S3' '$T/put.out' && ! grep -q 'through hamletd' '$T/put.out'"

# --- the map grows under a reader ---
launch a --peer 127.0.0.1:$PB && ok "a's daemon dials b" || fail "a's daemon dials b"
# status polled without pause, beside the sync (bounded: 3,000 polls)
(
	for _ in $(seq 1 3000); do
		if "$H" --home "$T/b" status --json >/dev/null 2>>"$T/poll.err"; then
			echo ok >>"$T/poll.ok"
		else
			echo bad >>"$T/poll.bad"
		fi
		[ -e "$T/poll.stop" ] && break
	done
) &
bg=$!
same=0
for _ in $(seq 1 1200); do # at most ~2 min
	kill -0 "$BPID" 2>/dev/null || break
	if [ "$(A digest)" = "$(B digest)" ]; then same=1; break; fi
	sleep 0.1
done
touch "$T/poll.stop"
wait "$bg"
bg=
polls=$(cat "$T/poll.ok" 2>/dev/null | wc -l)
bad=$(cat "$T/poll.bad" 2>/dev/null | wc -l)
[ $same -eq 1 ] && ok "b caught up with a's $N entries" || fail "b caught up with a's $N entries"
kill -0 "$BPID" 2>/dev/null && ok "b's daemon survived $polls status polls during the sync" || fail "b's daemon survived the status polls"
[ "$bad" -eq 0 ] && [ "$polls" -gt 0 ] && ok "every status poll was answered" || { fail "$bad status polls failed"; head -5 "$T/poll.err"; }
grew=$(stat -c %s "$T/b/store/data.mdb")
[ "$grew" -gt $((4 * 1048576)) ] && ok "b's store grew past its first map ($size_before -> $grew bytes)" || fail "b's store grew past its first map ($grew bytes)"
check "b's store audits clean" B verify

# --- the same scope check for every way in ---
kill "$BPID"; wait "$BPID" 2>/dev/null
printf '[node]\nscopes = bk/bt/qx\n' >"$T/b-typo.conf"
refuse "scopes that leave out the node's own scope stop the start (exit 2), naming both, and the file and line" 2 \
	"$T/b-typo.conf line 2: scopes = bk/bt/qx leaves out this node's own scope bk/bt/qt: what it writes would never leave it" \
	timeout 10 "$D" --home "$T/b" --config "$T/b-typo.conf"
cat >"$T/b.conf" <<EOF
[node]
scopes = bk/bt/qt
EOF
launch b --config "$T/b.conf" && ok "b restarts holding only bk/bt/qt" || fail "b restarts holding only bk/bt/qt"
check "x writes a record of its own commune" X put health_profile HP-X1 '{"person_id":"777777777777","full_name":"Outside","birth_date":"1970-01-01"}'
check "b writes a summary" B summary --out "$T/b.summary"
check "x makes a bundle for b" X bundle create --for "$T/b.summary" "$T/x.bundle"
logged=$(wc -l <"$T/b.log")
B bundle import "$T/x.bundle" >"$T/imp.out" 2>&1
rc=$?
sed 's/^/    /' "$T/imp.out"
tail -n +$((logged + 1)) "$T/b.log" >"$T/imp.log"
# an entry of another commune's scope, brought by a bundle, is not ours:
# not stored, as it should not be, and no refusal (docs/operator-guide.md)
check "the import went through b's daemon, whose journal counts the entry as not ours" \
	grep -q "import: not ours: 1 entries of scopes this node does not read, not stored, as they should not be" "$T/imp.log"
check "and does not log it as refused" bash -c "! grep -q 'import: .*refused' '$T/imp.log'"
check "b's status counts nothing refused since the daemon started" bash -c \
	"'$H' --home '$T/b' status | grep -qx 'refused since the daemon started: nothing'"
check "the import does not say hamletd stored anything and sends it on" bash -c "! grep -q 'stored through hamletd' '$T/imp.out'"
grep -qE "^  not ours: +1 " "$T/imp.out" && ok "the out-of-scope entry is counted as not this node's, not stored" || fail "the out-of-scope entry is counted as not this node's, not stored"
! grep -q "HP-X1" "$T/imp.out" && ok "without naming its record" || fail "without naming its record"
[ $rc -eq 0 ] && ok "which is no failure of the import (docs/decisions.md)" || fail "which is no failure of the import ($rc)"
if B get health_profile HP-X1 >/dev/null 2>&1; then fail "b does not hold x's record"; else ok "b does not hold x's record"; fi

# --- a reload checks the file as the next start would ---
cat >"$T/b.conf" <<EOF
[node]
scopes = bk/bt/qt
peers = 127.0.0.1:1
[limits]
max_peer = 8
EOF
kill -HUP "$PID"
check "a reload of a file a start would refuse is logged, naming file, line and key" within 30 \
	grep -q "reload: $T/b.conf line 5: unknown key \"max_peer\" in \[limits\]; nothing is changed" "$T/b.log"
check "and the daemon keeps running" B status
check "and its peers are as they were (the file's new peer is not dialled)" never 2 \
	grep -q "peer 127.0.0.1:1" "$T/b.log"
refuse "the next start would indeed refuse that file" 2 "line 5: unknown key" \
	timeout 10 "$D" --home "$T/b" --config "$T/b.conf"
# what a start checks beyond the file's own syntax, a reload checks too:
# scopes that leave out the node's own, a socket path where none can be
printf '[node]\npeers = 127.0.0.1:1\nscopes = bk/bt/qx\n' >"$T/b.conf"
kill -HUP "$PID"
check "a reload of scopes that leave out the node's own is refused, naming file and line" within 30 \
	grep -q "reload: $T/b.conf line 3: scopes = bk/bt/qx leaves out this node's own scope bk/bt/qt: .*; nothing is changed" "$T/b.log"
mkdir -p "$T/adir"
printf '[node]\nscopes = bk/bt/qt\npeers = 127.0.0.1:1\nsocket = %s\n' "$T/adir" >"$T/b.conf"
kill -HUP "$PID"
check "a reload of a socket path that names a directory is refused" within 30 \
	grep -q "reload: $T/adir is a directory, not a socket: .*; nothing is changed" "$T/b.log"
printf '[node]\nscopes = bk/bt/qt\npeers = 127.0.0.1:1\nsocket = %s\n' "$T/nodir/b.sock" >"$T/b.conf"
kill -HUP "$PID"
check "and so is one in a directory that does not exist" within 30 \
	grep -q "reload: the socket $T/nodir/b.sock cannot be made: the directory $T/nodir does not exist; .*nothing is changed" "$T/b.log"
# a config path that became a pipe (or a device) is never read: a read
# would wait on the daemon's loop for a writer that never comes
rm -f "$T/b.conf" && mkfifo "$T/b.conf"
kill -HUP "$PID"
check "a reload of a config path that became a pipe is refused, not waited on" within 30 \
	grep -q "reload: cannot read config file $T/b.conf: it is not a regular file (a device, a pipe or a socket).*; nothing is changed" "$T/b.log"
rm -f "$T/b.conf"
check "each refused reload left the peers as they were" never 2 \
	grep -q "peer 127.0.0.1:1" "$T/b.log"
check "and the daemon still answers on its socket" B status

# --- a node.cert cut short (a copy that stopped half-way): the daemon
# starts as with none, and names the file, not the store ---
check "node y" "$H" --home "$T/y" init --network "$T/grow.network" --name y --scope bk/bt/qt/y
check "the root certifies y" certify "$T/grow.root.key" y
head -c 200 "$T/y.cert" >"$T/y/node.cert"
BRUN=$PID # b's daemon, reloaded above, runs on
launch y && ok "y's daemon starts with its node.cert cut short" || { fail "y's daemon starts with its node.cert cut short"; sed 's/^/    /' "$T/y.log"; }
YPID=$PID
check "its log names node.cert, what is wrong with it and what to do" within 30 \
	grep -q "no valid certificate: $T/y/node.cert is damaged: it is not a certificate chain (.*): install this node's certificate again with \"hamlet cert install FILE\"" "$T/y.log"
check "and does not blame the store" bash -c "! grep -q 'cannot write the store' '$T/y.log'"
check "a good certificate installs over it while the daemon runs" "$H" --home "$T/y" cert install "$T/y.cert"
kill "$YPID"; wait "$YPID" 2>/dev/null
PID=$BRUN

# --- a configured peer that cannot be reached is named, with why ---
kill "${PID:-}" 2>/dev/null; wait "${PID:-}" 2>/dev/null
# port 1 of loopback: nothing listens there, the dial is refused
launch b --peer 127.0.0.1:1 && ok "b restarts with a peer nobody answers at" || fail "b restarts with a peer nobody answers at"
B2PID=$PID
check "hamlet status names the peer not reached, and why" within 15 bash -c \
	"'$H' --home '$T/b' status | grep -q '127.0.0.1:1: NOT REACHED: .*refused.*tries again in'"
check "the daemon's line counts it, so that 0 peers does not read as none set up" bash -c \
	"'$H' --home '$T/b' status | grep -q '^daemon: running; 0 peers; 1 address it dials is not connected (below)\$'"
check "status --json lists it under unreached, with its tries" bash -c \
	"'$H' --home '$T/b' --json status | python3 -c 'import json,sys; u=json.load(sys.stdin)[\"unreached\"]; assert u[0][\"addr\"]==\"127.0.0.1:1\" and u[0][\"tries\"]>=1 and u[0][\"why\"], u'"
check "the log says it once per reason, not at every try" test "$(grep -c 'peer 127.0.0.1:1: not reached' "$T/b.log")" = 1

# --- a key that never completes a session is one line, not a peer each ---
BPORT=$PORT
check "node z, with the network key but no certificate" "$H" --home "$T/z" init --network "$T/grow.network" --name z --scope bk/bt/qt/z
launch z --peer 127.0.0.1:$BPORT && ok "z dials b" || fail "z dials b"
check "z's log says, when it is ready, that it holds no certificate and what to do" within 30 \
	grep -q 'no valid certificate: this node has no certificate .*hamlet cert install FILE' "$T/z.log"
check "b's status folds z into one line (15 s)" within 15 bash -c \
	"'$H' --home '$T/b' status | grep -q '(and 1 key that never completed a session'"
check "and counts no peer for it" bash -c "'$H' --home '$T/b' status | grep -q '^daemon: running; 0 peers'"
check "z's status says b connects but starts no session, and why (15 s)" within 15 bash -c \
	"'$H' --home '$T/z' status | grep -q '127.0.0.1:$BPORT: CONNECTS, BUT NO SESSION STARTS: '"
check "and says why, as this node knows it (it shows no certificate), and what to do" bash -c \
	"'$H' --home '$T/z' status | grep -A1 'CONNECTS, BUT NO SESSION STARTS' | grep -q '^    that node refuses this one because this node shows no valid certificate .*once one is installed, hamlet sync gets through at once'"
check "status --json still lists it" bash -c \
	"'$H' --home '$T/b' --json status | python3 -c 'import json,sys; assert len(json.load(sys.stdin)[\"peers\"]) == 1'"
check "z tried more than once" within 15 bash -c "'$H' --home '$T/z' --json status | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"unreached\"][0][\"tries\"] >= 2'"
# b may refuse the first tries with its reason and later ones at once (a
# stranger that keeps trying), so z may meet two reasons: each is logged
# once, none at every try
check "z's log says each reason once, not a line at every try" \
	bash -c "n=\$(grep -c 'peer 127.0.0.1:$BPORT: connects, but no session starts' '$T/z.log'); d=\$(grep 'peer 127.0.0.1:$BPORT: connects, but no session starts' '$T/z.log' | sed 's/.*no session starts: //' | sort -u | wc -l); test \"\$n\" -ge 1 && test \"\$n\" = \"\$d\" && ! grep -q 'peer 127.0.0.1:$BPORT: closed' '$T/z.log'"

# --- a daemon that runs but does not answer (stopped): status still shows
# the store, and says so ---
kill -STOP "$B2PID"
B status >"$T/frozen.out" 2>&1
rc=$?
kill -CONT "$B2PID"
sed 's/^/    /' "$T/frozen.out" | tail -3
[ $rc = 1 ] && ok "status on a daemon that does not answer exits 1" || fail "status on a daemon that does not answer exits 1 (exit $rc)"
check "it still shows the store" grep -q '^store: ' "$T/frozen.out"
check "and says the daemon does not answer" grep -q '^daemon: DOES NOT ANSWER' "$T/frozen.out"
check "b answers again once it goes on" within 10 B status
# a write to it while it does not answer says so after 5 s rather than
# hanging silently (up to 10 min); the daemon, let go, stores it whole
kill -STOP "$B2PID"
timeout 9 "$H" --home "$T/b" put health_profile HP-STOPPED '{"person_id":"001122334499","full_name":"Lo Van Stop","birth_date":"1990-01-01"}' >"$T/stopped.out" 2>"$T/stopped.err"
kill -CONT "$B2PID"
check "a put to a stopped hamletd says after 5 s that it has not answered, and why that may be" grep -q "hamletd has not answered for 5 s: it may be storing a large batch, or be stopped" "$T/stopped.err"
check "the daemon, let go, answers again and stored the write sent before" within 10 B get health_profile HP-STOPPED

# a node.key others may read (a copy made with cp, a backup tool): said
# at status and at hamletd's start, with the chmod that mends it
check "status warns of no key while node.key is the node's user's alone" bash -c "! '$H' --home '$T/x' status | grep -q 'node.key is mode'"
chmod 644 "$T/x/node.key"
check "with node.key mode 0644, status warns, naming the chmod" bash -c "'$H' --home '$T/x' status | grep -q '^WARNING: $T/x/node.key is mode 0644: users of this PC other than the node.s own can read it.*(chmod 600 $T/x/node.key)'"
launch x && XPID=$PID && ok "x's daemon starts all the same" || fail "x's daemon starts all the same"
check "and its log says the same at the start" within 30 grep -q "node.key is mode 0644: .*chmod 600" "$T/x.log"
kill "$XPID"; wait "$XPID" 2>/dev/null
chmod 600 "$T/x/node.key"
check "once chmod 600, status warns no more" bash -c "! '$H' --home '$T/x' status | grep -q 'node.key is mode'"

tests_done
