#!/usr/bin/env bash
# A full disk, as an operator meets it: an import into a store on a 2 MiB
# file system says the disk is full (not that a row is wrong), stores
# nothing half, and the store audits clean afterwards. The file system is
# a tmpfs in a private mount namespace (unshare); where that cannot be
# made the test is skipped (exit 77).
#   tests/scenario_diskfull.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch diskfull
mkdir -p "$T/disk"
if ! unshare -rm true 2>/dev/null; then
	echo "skipped: no private mount namespace here"
	exit 77
fi
check "network created" "$H" network create full --out "$T"
{
	echo "id,person_id,full_name,birth_date,chronic_conditions"
	pad=$(printf 'hypertension %.0s' $(seq 1 60))
	for i in $(seq 1 3000); do
		printf 'HP-%05d,%012d,Nguyen Van %d,1980-01-01,%s\n' "$i" "$i" "$i" "$pad"
	done
} >"$T/profiles.csv"
# a bundle of them, made on the big disk, for the second small disk
check "node x on the big disk imports them" bash -c "'$H' --home '$T/x' init --network '$T/full.network' --name x --scope bk/a >/dev/null && '$H' --home '$T/x' import health_profile --format csv '$T/profiles.csv' >/dev/null"
check "and writes a bundle of them" "$H" --home "$T/x" bundle create --unsealed "$T/x.bundle"
# everything that touches the small disk runs inside the namespace
unshare -rm bash -c '
	set -u
	mount -t tmpfs -o size=2m none "$2/disk" || exit 77
	"$1" --home "$2/disk/a" init --network "$2/full.network" --name a --scope bk/a >/dev/null || exit 3
	"$1" --home "$2/disk/a" import health_profile --format csv "$2/profiles.csv" >"$2/import.out" 2>&1
	echo $? >"$2/import.rc"
	# the same, as a Vietnamese operator sees it
	LC_ALL=vi_VN.UTF-8 "$1" --home "$2/disk/a" import health_profile --format csv "$2/profiles.csv" >"$2/import-vi.out" 2>&1
	"$1" --home "$2/disk/a" verify >"$2/verify.out" 2>&1
	echo $? >"$2/verify.rc"
	"$1" --home "$2/disk/a" status >"$2/status.out" 2>&1
	mkdir -p "$2/disk2"
	mount -t tmpfs -o size=2m none "$2/disk2" || exit 77
	"$1" --home "$2/disk2/b" init --network "$2/full.network" --name b --scope bk/a >/dev/null || exit 3
	"$1" --home "$2/disk2/b" bundle import "$2/x.bundle" >"$2/bimport.out" 2>&1
	echo $? >"$2/bimport.rc"
	"$1" --home "$2/disk2/b" verify >"$2/bverify.out" 2>&1
	echo $? >"$2/bverify.rc"
	mkdir -p "$2/disk3"
	mount -t tmpfs -o size=64k none "$2/disk3" || exit 77
	"$1" --home "$2/x" export health_profile --format xlsx --out "$2/disk3/p.xlsx" >"$2/xlsx.out" 2>&1
	echo $? >"$2/xlsx.rc"
	ls -A "$2/disk3" >"$2/xlsx.ls"
	# a node holding a record, its disk then filled: a read of health
	# data cannot be logged
	mkdir -p "$2/disk4"
	mount -t tmpfs -o size=4m none "$2/disk4" || exit 77
	"$1" --home "$2/disk4/c" init --network "$2/full.network" --name c --scope bk/a >/dev/null || exit 3
	"$1" --home "$2/disk4/c" put health_profile HP-LOG "{\"person_id\":\"001122334466\",\"full_name\":\"B\",\"birth_date\":\"1990-01-01\"}" >/dev/null 2>&1 || exit 3
	dd if=/dev/zero of="$2/disk4/fill" bs=4k >/dev/null 2>&1
	"$1" --home "$2/disk4/c" get health_profile HP-LOG >"$2/logfull.out" 2>&1
	echo $? >"$2/logfull.rc"
	# the first disk gone read-only, as Linux leaves one after an error
	mount -o remount,ro "$2/disk" || exit 77
	"$1" --home "$2/disk/a" put health_profile HP-RO "{\"person_id\":\"001122334455\",\"full_name\":\"A\",\"birth_date\":\"1990-01-01\"}" >"$2/ro.out" 2>&1
	echo $? >"$2/ro.rc"
	"$1" --home "$2/disk/a" status >"$2/rostatus.out" 2>&1
	echo $? >"$2/rostatus.rc"
	# hamletd on it as systemd starts it (INVOCATION_ID set): the
	# unit'"'"'s sandbox is named before a disk error
	INVOCATION_ID=test timeout 20 "$3" --home "$2/disk/a" >"$2/rod.out" 2>&1
	echo $? >"$2/rod.rc"
	timeout 20 "$3" --home "$2/disk/a" >"$2/rod2.out" 2>&1
	exit 0
' _ "$H" "$T" "$D"
rc=$?
if [ $rc -eq 77 ]; then echo "skipped: cannot mount a tmpfs"; exit 77; fi
[ $rc -eq 0 ] && ok "the import ran on a 2 MiB disk" || fail "the import ran on a 2 MiB disk (exit $rc)"
sed 's/^/    /' "$T/import.out" | head -8
[ "$(cat "$T/import.rc")" != 0 ] && ok "the import fails" || fail "the import fails"
grep -q "the disk holding the store is full" "$T/import.out" && ok "it says the disk is full" || fail "it says the disk is full"
grep -q "fix row" "$T/import.out" && fail "it does not blame a row" || ok "it does not blame a row"
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\{0,1\}8'; then
	sed 's/^/    /' "$T/import-vi.out" | head -4
	grep -q "ổ đĩa chứa kho dữ liệu đã đầy" "$T/import-vi.out" && ! grep -q "the disk holding the store is full" "$T/import-vi.out" \
		&& ok "in Vietnamese it says so in Vietnamese" || fail "in Vietnamese it says so in Vietnamese"
fi
grep -q "free space on the disk" "$T/import.out" && ok "it says what to do" || fail "it says what to do"
[ "$(cat "$T/verify.rc")" = 0 ] && ok "the store audits clean afterwards" || { fail "the store audits clean afterwards"; cat "$T/verify.out"; }
grep -q "store: 0 entries" "$T/status.out" && ok "nothing was stored half" || { fail "nothing was stored half"; cat "$T/status.out"; }
sed 's/^/    /' "$T/bimport.out" | head -8
[ "$(cat "$T/bimport.rc")" = 5 ] && ok "a bundle import that fills the disk fails (exit 5)" || fail "a bundle import that fills the disk fails (exit $(cat "$T/bimport.rc"), not 5)"
grep -q "the disk holding the store is full" "$T/bimport.out" && ok "it says the disk is full" || fail "it says the disk is full"
grep -q "entries of it were stored before the disk filled" "$T/bimport.out" && grep -q "then import the bundle again" "$T/bimport.out" \
	&& ok "it says how much was stored and what to do" || fail "it says how much was stored and what to do"
[ "$(cat "$T/bverify.rc")" = 0 ] && ok "that store audits clean afterwards" || { fail "that store audits clean afterwards"; cat "$T/bverify.out"; }
sed 's/^/    /' "$T/xlsx.out" | head -4
[ "$(cat "$T/xlsx.rc")" != 0 ] && grep -q "the disk is full; nothing was written" "$T/xlsx.out" \
	&& ok "an Excel export onto a full disk fails, saying the disk is full" || fail "an Excel export onto a full disk fails, saying the disk is full"
grep -q "ERROR\]" "$T/xlsx.out" && fail "without the library's own lines" || ok "without the library's own lines"
LC_ALL=C "$H" --home "$T/x" export health_profile --format csv >/dev/full 2>"$T/csvfull.out"
rc=$?
sed 's/^/    /' "$T/csvfull.out" | head -3
[ $rc != 0 ] && grep -q "cannot write the export: No space left on device" "$T/csvfull.out" \
	&& ok "a CSV export onto a full disk fails, saying there is no space" || fail "a CSV export onto a full disk fails, saying there is no space (exit $rc)"
[ ! -s "$T/xlsx.ls" ] && ok "and leaves no file behind" || { fail "and leaves no file behind"; cat "$T/xlsx.ls"; }
sed 's/^/    /' "$T/logfull.out" | head -3
[ "$(cat "$T/logfull.rc")" = 5 ] && grep -q "The disk holding .* is full: free space on it (old files, copies), then run the command again" "$T/logfull.out" \
	&& ok "a read the full disk leaves unlogged is refused (exit 5), saying to free space" || { fail "a read the full disk leaves unlogged is refused (exit 5), saying to free space"; cat "$T/logfull.out"; }
grep -q "001122334466" "$T/logfull.out" && fail "and shows nothing of the record" || ok "and shows nothing of the record"
[ "$(cat "$T/ro.rc")" = 5 ] && ok "a put on a read-only disk fails (exit 5)" || { fail "a put on a read-only disk fails (exit 5)"; cat "$T/ro.out"; }
grep -q "the file system holding it is read-only .*: check the disk (dmesg, fsck) and make it writable again" "$T/ro.out" && ok "it says the disk is read-only, and what to do" || { fail "it says the disk is read-only, and what to do"; cat "$T/ro.out"; }
grep -q "is read-only to hamletd: under systemd, hamletd.service lets it write only /var/lib/hamlet and /run/hamlet (ProtectSystem=strict): put the node.s home there, or let it write .* (ReadWritePaths= in a drop-in: systemctl edit hamletd)" "$T/rod.out" \
	&& ok "hamletd under systemd on a read-only home names the unit's sandbox first" || { fail "hamletd under systemd on a read-only home names the unit's sandbox first"; cat "$T/rod.out"; }
grep -q "is read-only (Linux makes it so after a disk error): check the disk" "$T/rod2.out" \
	&& ok "and by hand, a disk error" || { fail "and by hand, a disk error"; cat "$T/rod2.out"; }
[ "$(cat "$T/rostatus.rc")" = 0 ] && ok "status still reads the store on the read-only disk" || { fail "status still reads the store on the read-only disk"; cat "$T/rostatus.out"; }
tests_done
