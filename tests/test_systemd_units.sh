#!/bin/sh
# The units in systemd/ agree with hamlet.tmpfiles, which makes their
# directories first (docs/systemd.md "Before the first start"): each
# StateDirectory= and ConfigurationDirectory= has its mode set, and that
# mode is the one tmpfiles gives the directory. systemd never changes an
# existing configuration directory but warns at every start when the
# modes differ. With systemd-analyze, each unit also verifies clean
# (ExecStart= pointed at /bin/true, as docs/systemd.md does).
#   tests/test_systemd_units.sh SRCDIR
set -u
src=${1:?source directory}
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# the mode tmpfiles gives the directory $1
tmpfiles_mode() {
	awk -v d="$1" '$1 == "d" && $2 == d { print $3 }' "$src/systemd/hamlet.tmpfiles"
}
# the value of the key $2 in the unit $1 ("" when not set)
unit_key() {
	sed -n "s/^$2=//p" "$1" | tail -1
}

for unit in "$src"/systemd/*.service; do
	name=$(basename "$unit")
	for kind in State:/var/lib Configuration:/etc; do
		key=${kind%%:*}Directory
		base=${kind#*:}
		dir=$(unit_key "$unit" "$key")
		[ -n "$dir" ] || continue
		want=$(tmpfiles_mode "$base/$dir")
		[ -n "$want" ] || { bad "$name: $key=$dir, but hamlet.tmpfiles makes no $base/$dir"; continue; }
		got=$(unit_key "$unit" "${key}Mode")
		if [ -z "$got" ]; then
			bad "$name: $key=$dir without ${key}Mode= (systemd's default 0755; hamlet.tmpfiles makes it $want)"
		elif [ "$got" != "$want" ]; then
			bad "$name: ${key}Mode=$got, but hamlet.tmpfiles makes $base/$dir $want"
		else
			echo "ok: $name: ${key}Mode=$got, as hamlet.tmpfiles"
		fi
	done
	if command -v systemd-analyze >/dev/null 2>&1; then
		sed 's#^ExecStart=[^ ]*#ExecStart=/bin/true#' "$unit" >"$tmp/$name"
		if out=$(systemd-analyze verify "$tmp/$name" 2>&1) && [ -z "$out" ]; then
			echo "ok: $name: systemd-analyze verify"
		else
			bad "$name: systemd-analyze verify: $out"
		fi
	fi
done
[ "$fail" = 0 ] && echo "ok: units"
exit "$fail"
