#!/bin/sh
# The man pages are generated from the CLI's own help table: docs/hamlet.1
# (English) and docs/hamlet.vi.1 (Vietnamese, from po/vi/help.po) must be
# what `hamlet help --man` prints now. Regenerate them with
#   build/cli/hamlet help --man > docs/hamlet.1
#   LANG=vi_VN.UTF-8 build/cli/hamlet help --man > docs/hamlet.vi.1
set -u
hamlet=${1:?hamlet program}
docs=${2:?docs directory}
unset LANGUAGE LANG LC_MESSAGES
fail=0
LC_ALL=C "$hamlet" help --man | diff -u "$docs/hamlet.1" - || {
	echo "FAIL: docs/hamlet.1 is not what hamlet help --man prints"
	fail=1
}
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\{0,1\}8'; then
	LC_ALL=vi_VN.UTF-8 "$hamlet" help --man | diff -u "$docs/hamlet.vi.1" - || {
		echo "FAIL: docs/hamlet.vi.1 is not what LANG=vi_VN.UTF-8 hamlet help --man prints"
		fail=1
	}
else
	echo "note: the vi_VN.UTF-8 locale is not installed: docs/hamlet.vi.1 not compared"
fi
exit $fail
