#!/usr/bin/env bash
# A node's own store damaged on disk, as a power cut or a copy that
# stopped half-way leaves it: every command and hamletd say the store is
# DAMAGED and what to do (exit 6), never crash (SIGBUS, LMDB's abort) nor
# talk of a "Bad file descriptor".
#  - data.mdb cut short: LMDB maps the file as long as its header says,
#    and a read past the end is a SIGBUS; the length is checked first;
#  - data.mdb empty (the copy stopped at 0 bytes);
#  - its header damaged (LMDB's open fails, or reads past the end);
#  - one record's body altered: readers refuse it, as not signed;
#  - pages zeroed in the middle: LMDB asserts on them and aborts; the
#    process says first what that means, and ends with exit 6.
#   tests/scenario_store_damaged.sh PATH/TO/hamlet PATH/TO/hamletd
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
D=${2:?usage: $0 PATH/TO/hamlet PATH/TO/hamletd}
. "$(dirname "$0")/testlib.sh"
tests_scratch store-damaged
V() { "$H" --home "$T/v" "$@"; }
P='{"person_id":"001122339999","full_name":"A B","birth_date":"1990-01-01"}'

check "network created" "$H" network create dmg --out "$T"
check "village v" V init --network "$T/dmg.network" --name v --scope bk/c1/v1
# two imports of 2,000 profiles: a store of about 2 MB
for k in 0 1; do
	{
		echo "id,person_id,full_name,birth_date"
		for i in $(seq 1 2000); do printf 'H%d-%d,%04d%08d,Nguyen Van %d,1980-01-01\n' $k $i $k $i $i; done
	} >"$T/p$k.csv"
	check "import $k" V import health_profile --format csv "$T/p$k.csv"
done
cp -a "$T/v" "$T/v.orig"
size=$(stat -c %s "$T/v/store/data.mdb")
check "the store is over 1 MB" test "$size" -gt 1000000

fresh() { rm -rf "$T/v" && cp -a "$T/v.orig" "$T/v"; }
# damaged_says DESC CMD...: exit 6, the store named DAMAGED with what to do
damaged_says() {
	local d=$1 rc; shift
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" = 6 ] && grep -q "the store in $T/v/store is DAMAGED" "$T/err" &&
	   grep -q "restore it from a peer or a backup (operator guide, \"Checking\")" "$T/err" &&
	   ! grep -qi "bad file descriptor\|sanitizer\|bus error" "$T/err"; then
		ok "$d"
	else
		fail "$d (exit $rc)"
		sed 's/^/    /' "$T/err" | head -5
	fi
}
# daemon_refuses DESC: hamletd on the damaged store exits 6 at start,
# logging why, and never says ready
daemon_refuses() {
	local rc
	timeout 20 "$D" --home "$T/v" --listen 127.0.0.1:$(port) >"$T/d.log" 2>&1
	rc=$?
	if [ "$rc" = 6 ] && grep -q "the store in $T/v/store is DAMAGED" "$T/d.log" &&
	   ! grep -q "ready (" "$T/d.log"; then
		ok "$1"
	else
		fail "$1 (exit $rc)"
		sed 's/^/    /' "$T/d.log" | head -5
	fi
}

# --- cut short --------------------------------------------------------
for cut in $((size / 2)) 65536 $((size - 4096)); do
	fresh
	truncate -s $cut "$T/v/store/data.mdb"
	damaged_says "data.mdb cut to $cut bytes: status says DAMAGED, exit 6" V status
	damaged_says "data.mdb cut to $cut bytes: get says so" V get health_profile H0-1
	damaged_says "data.mdb cut to $cut bytes: put says so" V put health_profile Z-1 "$P"
	damaged_says "data.mdb cut to $cut bytes: digest says so" V digest
	damaged_says "data.mdb cut to $cut bytes: verify says so" V verify
	daemon_refuses "data.mdb cut to $cut bytes: hamletd exits 6 at start, saying why"
done
check "the file cut short is left as it was (nothing written into it)" \
	test "$(stat -c %s "$T/v/store/data.mdb")" = $((size - 4096))

# --- empty ---------------------------------------------------------------
fresh
: >"$T/v/store/data.mdb"
damaged_says "an empty data.mdb: status says DAMAGED, exit 6 (not Bad file descriptor)" V status
damaged_says "an empty data.mdb: get says so" V get health_profile H0-1
damaged_says "an empty data.mdb: verify says so" V verify
damaged_says "an empty data.mdb: verify --report says so" V verify --report
if locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\?8'; then
	LC_ALL=vi_VN.UTF-8 "$H" --home "$T/v" status >/dev/null 2>"$T/vi.err"
	check "and in Vietnamese: HƯ HỎNG, not \"Bộ mô tả tập tin sai\"" \
		bash -c "grep -q 'HƯ HỎNG' '$T/vi.err' && ! grep -q 'mô tả tập tin' '$T/vi.err'"
fi

# --- its header damaged ----------------------------------------------------
# data.mdb begins with two header (meta) pages, each naming the tables'
# roots; 8 bytes of 0xff over the free-page table's figures in the first
# (LMDB finds them invalid) or the second (the open reads a page the file
# does not hold: a SIGBUS inside LMDB's open, before the store is mapped)
for off in 40 4136; do
	fresh
	printf '\xff\xff\xff\xff\xff\xff\xff\xff' |
		dd of="$T/v/store/data.mdb" bs=1 seek=$off conv=notrunc 2>/dev/null
	damaged_says "8 bytes of its header at byte $off damaged: status says DAMAGED, exit 6 (not 'Invalid argument', nor a SIGBUS)" V status
	damaged_says "header damaged at byte $off: get says so" V get health_profile H0-1
	damaged_says "header damaged at byte $off: put says so" V put health_profile Z-1 "$P"
	damaged_says "header damaged at byte $off: verify says so" V verify
	daemon_refuses "header damaged at byte $off: hamletd exits 6 at start, saying why"
done

# --- garbage in its pages: rows that do not read ---------------------------
# (40 runs of 64 random bytes, the same each run: LMDB finds them as
# pages that do not fit, not by asserting)
fresh
python3 - "$T/v/store/data.mdb" <<'PY'
import os, random, sys
random.seed(1)
n = os.path.getsize(sys.argv[1])
with open(sys.argv[1], "r+b") as f:
	for _ in range(40):
		f.seek(random.randrange(8192, n - 64))
		f.write(bytes(random.randrange(256) for _ in range(64)))
PY
# rows_damaged DESC CMD...: exit 6, the store named DAMAGED with what to do
rows_damaged() {
	local d=$1 rc; shift
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" = 6 ] && grep -q "the store in $T/v/store is DAMAGED: a page or a row of it does not read" "$T/err" &&
	   grep -q "run hamlet verify, and restore the store from a peer or a backup (operator guide, \"Checking\")" "$T/err"; then
		ok "$d"
	else
		fail "$d (exit $rc)"
		sed 's/^/    /' "$T/err" | head -5
	fi
}
rows_damaged "records that do not read: find says the store is DAMAGED, exit 6" V find "Nguyen Van 123"
rows_damaged "records that do not read: export says so" V export health_profile --format csv
check "verify calls that store damaged too (exit 6)" bash -c "'$H' --home '$T/v' verify >/dev/null 2>&1; [ \$? = 6 ]"

# --- one record's body altered on disk --------------------------------------
# one digit of a person id, in the body its author signed: the record
# reads as it is stored, so only its signed hash tells; a reader never
# shows (nor find matches, nor export writes) what its author did not sign
fresh
check "one digit of H0-1500's person id is altered in data.mdb" python3 - "$T/v/store/data.mdb" <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
assert d.count(b"000000001500") == 1, d.count(b"000000001500")
i = d.find(b"000000001500")
d[i + 11:i + 12] = b"9"
open(p, "wb").write(d)
PY
rows_damaged "a body not as signed: get says the store is DAMAGED, exit 6 (not the altered id)" V get health_profile H0-1500
rows_damaged "find does not match it as the altered id" V find 000000001509
rows_damaged "export does not write it" V export health_profile --format csv
check "nothing of the altered id was printed" bash -c "! grep -q 000000001509 '$T/out'"
check "another record still reads" V get health_profile H0-1499
check "verify calls that store damaged too (exit 6)" bash -c "'$H' --home '$T/v' verify >/dev/null 2>&1; [ \$? = 6 ]"

# --- pages zeroed in the middle -------------------------------------------
fresh
dd if=/dev/zero of="$T/v/store/data.mdb" bs=4096 seek=300 count=50 conv=notrunc status=none
V put health_profile Z-1 "$P" >"$T/out" 2>"$T/err"
rc=$?
sed 's/^/    # /' "$T/err" | cut -c1-200
check "a put on zeroed pages does not die of a signal (LMDB's abort: 134), nor succeed (exit $rc)" \
	test "$rc" -ne 0 -a "$rc" -lt 128
check "where LMDB asserted, the store is named DAMAGED, with what to do, exit 6" \
	bash -c "! grep -q 'Assertion' '$T/err' || { [ $rc = 6 ] && grep -q 'the store in $T/v/store is DAMAGED: the database library met a page' '$T/err' && grep -q 'run hamlet verify, and restore the store from a peer or a backup' '$T/err'; }"
check "verify calls it damaged (exit 6)" bash -c "'$H' --home '$T/v' verify >/dev/null 2>&1; [ \$? = 6 ]"
# through hamletd: the daemon stops at the write, saying why
fresh
dd if=/dev/zero of="$T/v/store/data.mdb" bs=4096 seek=300 count=50 conv=notrunc status=none
if launch v; then
	ok "hamletd starts on the store (its damage is deep inside)"
	V put health_profile Z-1 "$P" >/dev/null 2>&1
	for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$PID" 2>/dev/null; then
		ok "hamletd runs on (the write did not reach the zeroed pages)"
	else
		wait "$PID"
		rc=$?
		sed -n '/DAMAGED/p' "$T/v.log" | sed 's/^/    # /' | cut -c1-200
		check "hamletd, stopped by the damage, exits 6 (not LMDB's abort, 134: got $rc)" test "$rc" = 6
		check "and its log names the store DAMAGED and what to do" \
			grep -q "the store in $T/v/store is DAMAGED: the database library met a page.*hamletd stops.*Run hamlet verify, and restore the store from a peer or a backup" "$T/v.log"
	fi
else
	fail "hamletd starts on the store (its damage is deep inside)"
fi

# --- cut short under a running hamletd ------------------------------------
# not what a power cut does (it stops the daemon too), but the one way to
# read past the end after an open found the file whole: the daemon's next
# read there (a SIGBUS) stops it with the same words, exit 6
if command -v curl >/dev/null; then
	fresh
	: >"$T/v.log"
	if start_http v; then
		truncate -s 65536 "$T/v/store/data.mdb"
		curl -s --max-time 10 "http://127.0.0.1:$HP/metrics" >/dev/null 2>&1
		for _ in $(seq 1 100); do kill -0 "${PIDOF[v]}" 2>/dev/null || break; sleep 0.1; done
		wait "${PIDOF[v]}"
		rc=$?
		check "hamletd reading past the end of its store exits 6 (not SIGBUS, 135: got $rc)" test "$rc" = 6
		check "and its log names the store DAMAGED, cut short" \
			grep -q "the store in $T/v/store is DAMAGED: the database library met a page of it that is missing .*data.mdb ends before a page the store needs: the file was cut short" "$T/v.log"
	else
		fail "hamletd starts with HTTP"
	fi
fi
tests_done
