#!/bin/sh
# docs/hamletd.8 is written by hand; this keeps it current. It must name
#   - every long option that `hamletd --help` prints, as an entry of its
#     OPTIONS section (a line ".B --name", ".BI --name ..." or ".BR --name");
#   - every section and key that daemon/config.c accepts, each key as an
#     entry under its own ".SS [section]" (a line ".BI key ..." or ".B key");
# and groff must read it without a warning (skipped when groff is missing).
# The keys are read from cfg_ini_handler() in daemon/config.c: each
# strcmp(section, "S") opens section S, each strcmp(name, "K") after it is
# a key of S.
set -u
hamletd=${1:?hamletd program}
src=${2:?source directory}
page=$src/docs/hamletd.8
config_c=$src/daemon/config.c
unset LANGUAGE LANG LC_MESSAGES
export LC_ALL=C
fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

[ -r "$page" ] || { echo "FAIL: no $page"; exit 1; }

# the page with roff's \- as a plain -
sed 's/\\-/-/g' "$page" > "$tmp/page"

# the lines of one .SH or .SS block of the page (its heading excluded)
block() { # MACRO TITLE
	awk -v m="$1" -v t="$2" '
		$1 == ".SH" || $1 == ".SS" {
			if (on) exit
			h = $0; sub(/^\.S[HS][ \t]+/, "", h); gsub(/"/, "", h)
			if ($1 == m && h == t) on = 1
			next
		}
		on' "$tmp/page"
}

# 1. the options of --help
"$hamletd" --help > "$tmp/help" 2>&1 || {
	echo "FAIL: hamletd --help exits non-zero"
	cat "$tmp/help"
	exit 1
}
grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u > "$tmp/options"
[ -s "$tmp/options" ] || { echo "FAIL: no option found in hamletd --help"; fail=1; }
block .SH OPTIONS > "$tmp/opt_block"
[ -s "$tmp/opt_block" ] || { echo "FAIL: docs/hamletd.8 has no OPTIONS section"; fail=1; }
nopt=0
while read -r opt; do
	nopt=$((nopt + 1))
	grep -Eq -- "^\.B[IR]?[ \t]+\"?$opt([^a-z-]|\$)" "$tmp/opt_block" || {
		echo "FAIL: docs/hamletd.8 OPTIONS has no entry for $opt (hamletd --help prints it)"
		fail=1
	}
done < "$tmp/options"

# 2. the sections and keys of config.c
awk '
	/^static int cfg_ini_handler\(/ { on = 1 }
	on && /^}/ { exit }
	on {
		line = $0
		while (match(line, /strcmp\((section|name), "[a-z_]+"\)/)) {
			m = substr(line, RSTART, RLENGTH)
			line = substr(line, RSTART + RLENGTH)
			v = m; sub(/^[^"]*"/, "", v); sub(/".*$/, "", v)
			if (m ~ /^strcmp\(section/) sect = v
			else if (sect != "") print sect " " v
		}
	}' "$config_c" > "$tmp/keys"
# the extraction must see at least the keys of single_keys[], the table
# of keys that hold one value: if config.c is written another way, this
# test must be changed, not pass on an empty list
awk '
	/^static const char \*const single_keys\[\]/ { on = 1; next }
	on && /};/ { exit }
	on' "$config_c" | grep -o '"[a-z_]*/[a-z_]*"' | tr -d '"' | tr / ' ' \
	> "$tmp/single"
if [ ! -s "$tmp/keys" ] || [ ! -s "$tmp/single" ]; then
	echo "FAIL: cannot read the config keys from $config_c (cfg_ini_handler, single_keys): fix this test's reading of config.c"
	fail=1
	: > "$tmp/single"
fi
while read -r k; do
	grep -qx "$k" "$tmp/keys" || {
		echo "FAIL: single_keys[] names [${k% *}] ${k#* }, which cfg_ini_handler() was not read to accept: fix this test's reading of config.c"
		fail=1
	}
done < "$tmp/single"
nkey=0
while read -r sect key; do
	nkey=$((nkey + 1))
	block .SS "[$sect]" > "$tmp/sect"
	if [ ! -s "$tmp/sect" ]; then
		echo "FAIL: docs/hamletd.8 has no .SS [$sect] (daemon/config.c accepts $key in it)"
		fail=1
		continue
	fi
	grep -Eq "^\.B[IR]?[ \t]+\"?$key([^a-z_]|\$)" "$tmp/sect" || {
		echo "FAIL: docs/hamletd.8 [$sect] has no entry for $key (daemon/config.c accepts it)"
		fail=1
	}
done < "$tmp/keys"

# 3. groff reads it without a warning
if command -v groff >/dev/null 2>&1; then
	groff -man -ww -z "$page" > "$tmp/groff" 2>&1
	if [ -s "$tmp/groff" ]; then
		echo "FAIL: groff -man -ww -z docs/hamletd.8 warns:"
		cat "$tmp/groff"
		fail=1
	fi
else
	echo "note: groff is not installed: docs/hamletd.8 not checked for roff warnings"
fi

[ $fail -eq 0 ] && echo "docs/hamletd.8 names the $nopt options of hamletd --help and the $nkey keys of daemon/config.c"
exit $fail
