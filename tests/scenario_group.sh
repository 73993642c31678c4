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
check "an operator in the group reads records" bash -c "setpriv --reuid=$OP --regid=$OP --groups=$G -- '$H' --home '$T/home' get health_profile HP-1 | grep -q 'Lo Thi A'"
check "an operator verifies the store" as_op "$H" --home "$T/home" verify
refuse "without the daemon an operator cannot sign, and is told so" "only the node's user may sign" \
	as_op "$H" --home "$T/home" put health_profile HP-1 '{"phone":"0912000001"}'
refuse "someone outside the group is told why the node cannot be read" "Permission denied" \
	as_out "$H" --home "$T/home" status

# setpriv itself in the background (not a function: that would fork a
# subshell and $! would not be the daemon's pid)
setpriv --reuid=$OWNER --regid=$G --clear-groups -- \
	sh -c "umask 027; exec '$D' --home '$T/home' --listen 127.0.0.1:0" \
	</dev/null 2>"$T/d.log" &
pid=$!
for _ in $(seq 1 100); do grep -q "ready" "$T/d.log" && break; sleep 0.05; done
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

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
