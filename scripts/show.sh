# Sourced by scripts/demo.sh and scripts/network.sh: how they print the
# commands they run. $H is hamlet's path, shown as "hamlet"; $D the run's
# directory, shown as $DNAME (DEMO or NET), which each script sets first.
say() { printf '\n== %s\n' "$*"; }
# show COMMAND...: print it as it can be typed again, each argument the
# shell would split or change in single quotes ('{"phone":"…"}')
show() {
	local a out=
	for a; do
		if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+=" $a"
		else out+=" '${a//\'/\'\\\'\'}'"; fi
	done
	printf '$ %s\n' "${out# }" | sed "s#$H#hamlet#; s#$D#\$$DNAME#g"
}
run() { show "$@"; "$@"; }
