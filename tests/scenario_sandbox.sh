#!/usr/bin/env bash
# hamletd and hamlet under the sandbox of systemd/*.service, as far as it
# touches them: RestrictSUIDSGID=yes makes a mkdir or chmod whose mode
# holds a set-ID bit fail with EPERM, whatever the file (tests/tools/
# nosgid.c sets the same seccomp rule, with no systemd). The access log's
# directory, made 2770 by hamlet init, is there: hamletd starts with no
# warning about it, an HTTP token's read of a health record is done and
# logged, and so is a read by hamlet (as the PostgreSQL sink's unit runs
# it). A node with no access directory (made by an older hamlet) is not
# left with one that lacks its set-group-ID bit: the group's files in it
# would belong to their authors' groups, which no one else may append to.
#   tests/scenario_sandbox.sh PATH/TO/hamlet PATH/TO/hamletd PATH/TO/nosgid
# Every wait is bounded; everything listens on 127.0.0.1.
set -uo pipefail
H0=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd PATH/TO/nosgid}
D0=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd PATH/TO/nosgid}
NOSGID=${3:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd PATH/TO/nosgid}
. "$(dirname "$0")/testlib.sh"
command -v curl >/dev/null || { echo "curl is missing: skipped"; exit 77; }
"$NOSGID" true || { echo "no seccomp filter here: skipped"; exit 77; }
tests_scratch sandbox
H=$H0
network_bk a:bk/c1/a
check "the root certifies a" certify "$T/bk.root.key" a
check "a record of health data" N a put health_profile HP-1 '{"person_id":"001122334455","full_name":"Lo Thi Mai","birth_date":"1990-04-12"}'
TOK=$(N a token create --name app --role read 2>/dev/null)
check "hamlet init made the access directory 2770" test "$(stat -c %a "$T/a/access")" = 2770

# from here on, both programs as the units run them
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$NOSGID" "$D0" >"$T/hamletd"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$NOSGID" "$H0" >"$T/hamlet"
chmod +x "$T/hamletd" "$T/hamlet"
D=$T/hamletd H=$T/hamlet
if start_http a; then
	ok "a's daemon starts in the sandbox"
	check "no warning about the access log at start" bash -c "! grep 'access log' '$T/a.log'"
	code=$(curl -s -o "$T/got" -w '%{http_code}' -H "Authorization: Bearer $TOK" \
		"http://127.0.0.1:$HP/v1/records/health_profile/HP-1")
	if [ "$code" = 200 ] && grep -q 'Lo Thi Mai' "$T/got"; then
		ok "a token reads a health record through the API"
	else
		fail "a token reads a health record through the API (HTTP $code)"
		sed 's/^/    /' "$T/got" | head -5
	fi
	stop a
else
	fail "a's daemon starts in the sandbox"
	sed 's/^/    /' "$T/a.log" | tail -5
fi
check "hamlet get reads a health record in the sandbox" N a get health_profile HP-1
check "the access log holds both reads" bash -c "'$H0' --home '$T/a' access-log --json | python3 -c 'import json,sys; j=json.load(sys.stdin); assert [e[\"who_kind\"] for e in j[\"entries\"]] == [\"token\", \"user\"], j'"

# a node of an older hamlet, without the directory: hamletd cannot give
# one the set-group-ID bit in the sandbox, and leaves none (made by the
# unprivileged hamlet command or hamlet.tmpfiles instead)
rm -rf "$T/a/access"
if start a; then
	check "the start names the access directory it could not make" grep -q "cannot set the mode of the access log $T/a/access" "$T/a.log"
	stop a
fi
check "no access directory without its set-group-ID bit is left" test ! -e "$T/a/access"
check "hamlet out of the sandbox makes it 2770 at the next read" bash -c "'$H0' --home '$T/a' get health_profile HP-1 && test \"\$(stat -c %a '$T/a/access')\" = 2770"
tests_done
