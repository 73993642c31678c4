#!/bin/bash
# A node's operators share it through its group, as under systemd: the
# node's user (the daemon) owns the directory; an operator in its group
# reads the store, and writes through the daemon; anyone else is told
# why not. Needs root to act as other users (setpriv); skipped otherwise.
#   tests/scenario_group.sh PATH/TO/hamlet PATH/TO/hamletd
set -u
H=$1 D=$2
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "skipped: needs root and setpriv to act as other users"
	exit 77
fi
OWNER=4101 OP=4102 OUT=4103 G=4101
T=$(mktemp -d /tmp/hamlet-group.XXXXXX)
chmod 755 "$T"
# the other users may not reach the build tree (a clone in a 0700
# directory): run copies from here
cp "$H" "$T/hamlet" && cp "$D" "$T/hamletd" && chmod 755 "$T/hamlet" "$T/hamletd"
H=$T/hamlet D=$T/hamletd
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "FAILED - $1"; failed=$((failed + 1)); }
check() { local d=$1; shift; if "$@" >"$T/out" 2>&1; then ok "$d"; else fail "$d"; sed 's/^/    /' "$T/out" | head -10; fi; }
refuse() { # description, pattern, command...: fails, naming why
	local d=$1 pat=$2; shift 2
	if "$@" >"$T/out" 2>&1; then fail "$d (it succeeded)"
	elif grep -q "$pat" "$T/out"; then ok "$d"
	else fail "$d"; sed 's/^/    /' "$T/out" | head -10; fi
}
as_owner() { setpriv --reuid=$OWNER --regid=$G --clear-groups -- "$@"; }
as_op() { setpriv --reuid=$OP --regid=$OP --groups=$G -- "$@"; }
as_out() { setpriv --reuid=$OUT --regid=$OUT --clear-groups -- "$@"; }
PROFILE='{"person_id":"000000000001","full_name":"Lo Thi A","birth_date":"1980-01-01","sex":"female","village":"na-pai"}'

"$H" network create grp --out "$T" >/dev/null && chmod 644 "$T/grp.network"
install -d -o $OWNER -g $G -m 0750 "$T/home"
check "the node's user sets up the node" as_owner sh -c "umask 022; '$H' --home '$T/home' init --network '$T/grp.network' --name na-pai --scope bk/na-pai"
# the root certifies it (as the province would, elsewhere); its user installs it
check "the root certifies the node" "$H" cert issue --root-key "$T/grp.root.key" \
	--to "$(sed -n 's/^public_key = //p' "$T/home/node.conf")" --name na-pai --role village \
	--read bk/na-pai --write bk/na-pai --out "$T/na-pai.cert"
chmod 644 "$T/na-pai.cert"
check "the node's user installs its certificate" as_owner sh -c "umask 022; '$H' --home '$T/home' cert install '$T/na-pai.cert'"
check "the node's user writes a record" as_owner "$H" --home "$T/home" put health_profile HP-1 "$PROFILE"
check "the store is readable by the group, its lock file writable, the key is not" bash -c "stat -c '%a' '$T/home/store/data.mdb' '$T/home/store/lock.mdb' '$T/home/node.key' | tr '\n' ' ' | grep -qx '640 660 600 '"
# a store put back without its lock file (a restore copies data.mdb
# alone): the lock file the node's user's writer makes is the group's too
check "the lock file is gone (a store restored from data.mdb alone)" rm "$T/home/store/lock.mdb"
check "the node's user writes again" as_owner "$H" --home "$T/home" put health_profile HP-1 '{"phone":"0912000002"}'
check "the new lock file is writable by the group, as data.mdb is readable by it" bash -c "stat -c '%a' '$T/home/store/lock.mdb' | grep -qx 660"
check "an operator in the group reads records" bash -c "setpriv --reuid=$OP --regid=$OP --groups=$G -- '$H' --home '$T/home' get health_profile HP-1 | grep -q 'Lo Thi A'"
check "an operator verifies the store" as_op "$H" --home "$T/home" verify
refuse "without the daemon an operator cannot sign, and is told so" "only the node's user may sign" \
	as_op "$H" --home "$T/home" put health_profile HP-1 '{"phone":"0912000001"}'
refuse "someone outside the group is told why the node cannot be read" "Permission denied" \
	as_out "$H" --home "$T/home" status

# owner_daemon LOG [ARGS]: hamletd as the node's user, in the
# background, until it is ready (60 s at most: a sanitized daemon on a
# loaded machine starts slowly; not once it exited); its pid in $pid.
# setpriv itself goes to the background (not a subshell: $! is the
# daemon's pid)
owner_daemon() {
	local log=$1; shift
	setpriv --reuid=$OWNER --regid=$G --clear-groups -- \
		sh -c "umask 027; exec '$D' --home '$T/home' --listen 127.0.0.1:0 $*" \
		</dev/null 2>"$log" &
	pid=$!
	local end=$((SECONDS + 61))
	for _ in $(seq 1 1200); do
		grep -q "ready (" "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		[ "$SECONDS" -ge "$end" ] && break
		sleep 0.05
	done
}
owner_daemon "$T/d.log"
check "the daemon runs as the node's user" grep -q "ready" "$T/d.log"
check "its socket is for the group" bash -c "stat -c '%a' '$T/home/hamletd.sock' | grep -qx 660"
check "an operator writes through the daemon" bash -c "setpriv --reuid=$OP --regid=$OP --groups=$G -- '$H' --home '$T/home' put health_profile HP-1 '{\"phone\":\"0912000001\"}' | grep -q 'through hamletd'"
check "and reads the change" bash -c "setpriv --reuid=$OP --regid=$OP --groups=$G -- '$H' --home '$T/home' get health_profile HP-1 | grep -q 0912000001"
check "an operator sees the daemon's status" bash -c "setpriv --reuid=$OP --regid=$OP --groups=$G -- '$H' --home '$T/home' status | grep -q 'daemon: running'"
refuse "someone outside the group still cannot" "Permission denied" \
	as_out "$H" --home "$T/home" put health_profile HP-1 '{"phone":"0912000002"}'
check "the daemon stops on SIGTERM" bash -c "kill $pid && for _ in \$(seq 1 100); do kill -0 $pid 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
wait "$pid" 2>/dev/null; pid=
check "the store audits clean afterwards" as_owner "$H" --home "$T/home" verify

# the node's directory made unwritable by its own user (a chmod gone
# wrong): hamletd, run as that user, is told to give it write permission
# back, not to run as the user it runs as
rm -f "$T/home/hamletd.lock" "$T/home/hamletd.sock"
chmod 0550 "$T/home"
refuse "hamletd in a home its user may not write names the mode and the chmod that mends it" \
	"hamletd.lock: permission denied: this user owns $T/home, but may not write in it (its mode is 0550): give it write permission again (chmod u+rwx $T/home)" \
	as_owner timeout 10 "$D" --home "$T/home" --listen 127.0.0.1:0
check "and does not tell the node's user to run it as the node's user" bash -c "! grep -q 'run hamletd as the user' '$T/out'"
refuse "run as another user, it names the owner's user id and its own" \
	"permission denied: $T/home belongs to user id $OWNER, not to user id $OUT, the one hamletd runs as" \
	as_out timeout 10 "$D" --home "$T/home" --listen 127.0.0.1:0
# its lock file there from before: the socket is what it cannot make
chmod 0750 "$T/home"
as_owner touch "$T/home/hamletd.lock"
chmod 0550 "$T/home"
refuse "a socket it cannot make there is named with the same advice" \
	"cannot listen on $T/home/hamletd.sock: permission denied: this user owns $T/home, but may not write in it (its mode is 0550)" \
	as_owner timeout 10 "$D" --home "$T/home" --listen 127.0.0.1:0
chmod 0750 "$T/home"
# a lock file root left (hamletd run with sudo): the directory is fine,
# the file is named with its owner and the chown that gives it back
rm -f "$T/home/hamletd.lock" && touch "$T/home/hamletd.lock" && chmod 0640 "$T/home/hamletd.lock"
refuse "a lock file left root's is named with its owner and the chown that gives it back" \
	"hamletd.lock belongs to user id 0, not to user id $OWNER, the one hamletd runs as .*chown --reference=$T/home $T/home/hamletd.lock" \
	as_owner timeout 10 "$D" --home "$T/home" --listen 127.0.0.1:0
check "and the directory's mode is not blamed" bash -c "! grep -q 'may not write in it' '$T/out'"
rm -f "$T/home/hamletd.lock"

# An administrator runs hamlet as root on the node (sudo hamlet ...):
# what it makes there stays the node's user's, or that user's hamletd
# could not read it after
# links the home's user left for root to write through or hand over:
# each is left alone, and what it names stays root's and as it was
echo keep >"$T/secret" && echo keep >"$T/secret2" && chmod 600 "$T/secret" "$T/secret2"
ln -s "$T/secret" "$T/home/tokens.new"
ln -s "$T/secret" "$T/home/own-feeds.tmp"
rm -f "$T/home/tokens.lock" && ln "$T/secret2" "$T/home/tokens.lock"
TOKEN=$("$H" --home "$T/home" token create --name root-made --role read 2>/dev/null | head -1)
check "root makes an HTTP token for the node" test -n "$TOKEN"
check "root writes a record, hamletd stopped" "$H" --home "$T/home" put health_profile HP-2 "$PROFILE"
mv "$T/home/store/hamlet.lock" "$T/hamlet.lock.kept"
ln -s "$T/secret" "$T/home/store/hamlet.lock"
mkdir -p "$T/home/access" && rm -f "$T/home/access/access.log" && ln -s "$T/secret2" "$T/home/access/access.log"
"$H" --home "$T/home" get health_profile HP-1 >/dev/null 2>&1
"$H" --home "$T/home" put health_profile HP-3 "$PROFILE" >/dev/null 2>&1
rm -f "$T/home/store/hamlet.lock" "$T/home/access/access.log" && mv "$T/hamlet.lock.kept" "$T/home/store/hamlet.lock"
check "a file a link in the home names is neither written nor handed over" bash -c "[ \"\$(stat -c '%u %s' '$T/secret' '$T/secret2' | sort -u)\" = '0 5' ] && grep -qx keep '$T/secret' && grep -qx keep '$T/secret2'"
rm -f "$T/home/tokens.lock" # the link; the node's user makes it again
check "the files root made or replaced are the node's user's" bash -c "set -o pipefail; stat -c '%u:%g' '$T/home/tokens' '$T/home/own-feeds' '$T/home/store' '$T/home/store/data.mdb' '$T/home/store/lock.mdb' | sort -u | tr '\\n' ' ' | grep -qx '$OWNER:$G '"
check "the node's user reads the tokens root made" bash -c "as_owner() { setpriv --reuid=$OWNER --regid=$G --clear-groups -- \"\$@\"; }; as_owner '$H' --home '$T/home' token list | grep -q root-made"
check "and writes again" as_owner "$H" --home "$T/home" put health_profile HP-2 '{"phone":"0912000003"}'
refuse "hamletd run as root on the user's node refuses, naming the user to run it as" "belongs to user id $OWNER\|belongs to the user" \
	timeout 10 "$D" --home "$T/home" --listen 127.0.0.1:0
"$D" --home "$T/home" --listen 127.0.0.1:0 >/dev/null 2>&1; rc=$?
check "with exit 2, which systemd does not restart" test "$rc" = 2
# a store copied back as root: named, with the command that mends it
chown 0:0 "$T/home/store/data.mdb"
refuse "a store file left root's is named, with the chown that gives it back" "data.mdb belongs to user id 0, not to user id $OWNER" \
	as_owner "$H" --home "$T/home" status
chown --reference="$T/home" "$T/home/store/data.mdb"
# the node's user's own store made read-only (a copy tool, a chmod): the
# mode is named, with the chmod that mends it, not "run as the user"
chmod 0440 "$T/home/store/data.mdb"
refuse "a store file its own user may not write is named with its mode and the chmod that gives it back" "data.mdb belongs to this user, but its mode (0440) does not let it read and write it: give the mode back (chmod u+rw $T/home/store/data.mdb)" \
	as_owner "$H" --home "$T/home" put health_profile HP-2 '{"phone":"0912000004"}'
chmod 0640 "$T/home/store/data.mdb"
# own-feeds left root's, mode 0600: the node's user cannot read it; a
# write says so and exits 5 (the system's), not 4 (bad input)
chown 0:0 "$T/home/own-feeds" && chmod 0600 "$T/home/own-feeds"
as_owner "$H" --home "$T/home" put health_profile HP-2 '{"phone":"0912000005"}' >"$T/feeds.out" 2>&1
rc=$?
check "an own-feeds the node's user cannot read stops a write with exit 5 ($rc), naming the file" \
	bash -c "[ $rc = 5 ] && grep -q 'cannot read $T/home/own-feeds (Permission denied)' '$T/feeds.out'"
chown --reference="$T/home" "$T/home/own-feeds" && chmod 0640 "$T/home/own-feeds"
# a key copied back as root: hamletd, the node's user, is told whose file
# it is and how to give it back, not to write through hamletd
chown 0:0 "$T/home/node.key"
refuse "a node.key left root's stops hamletd, named, with the chown that gives it back" "node.key: permission denied: it belongs to user id 0, not to user id $OWNER.*chown --reference=$T/home $T/home/node.key" \
	as_owner timeout 10 "$D" --home "$T/home" --listen 127.0.0.1:0
refuse "and a write by the node's user says the same" "node.key: permission denied: it belongs to user id 0" \
	as_owner "$H" --home "$T/home" put health_profile HP-2 '{"phone":"0912000004"}'
refuse "an operator's write with hamletd stopped is still told to write as the node's user" "only the node's user may sign" \
	as_op "$H" --home "$T/home" put health_profile HP-2 '{"phone":"0912000004"}'
chown --reference="$T/home" "$T/home/node.key"
# a tokens file left root's: hamletd says why it cannot read it, and
# reads it as soon as it is given back (a chown changes no content)
HTTP_PORT=$((20000 + RANDOM % 20000))
chown 0:0 "$T/home/tokens" && chmod 600 "$T/home/tokens"
owner_daemon "$T/d2.log" --http 127.0.0.1:$HTTP_PORT
check "the daemon runs again as the node's user" grep -q "ready" "$T/d2.log"
check "a tokens file it cannot read: every token refused (503)" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/status)\" = 503 ]"
check "and its log says why: the file cannot be read, and how to give it back" grep -q "cannot read $T/home/tokens: Permission denied: the node's user, who runs hamletd, must read it" "$T/d2.log"
chown --reference="$T/home" "$T/home/tokens" && chmod 640 "$T/home/tokens"
check "given back with chown alone, it is read at the next request (200)" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/v1/status)\" = 200 ]"
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=

# a token made by an account that may not: the refusal names the node's
# user (root's node here, "nobody" the one who tries: both named in
# /etc/passwd, as the node's user and an operator are)
"$H" --home "$T/rootnode" init --network "$T/grp.network" --name r --scope bk/r >/dev/null && chmod -R o+rX "$T/rootnode"
refuse "a token create by another account names the node's user and the command to run" \
	'the node.s user, root (the owner of .*/rootnode), makes and revokes tokens: run "sudo -u root hamlet ..."' \
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$H" --home "$T/rootnode" token create --name x --role read

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
