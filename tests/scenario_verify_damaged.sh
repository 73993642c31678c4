#!/usr/bin/env bash
# verify on a store copy with one bad byte never crashes nor hangs: LMDB
# has no page checksums and follows what a damaged page says, so the
# audit runs in a watched child (cli/guard.h). A village store of 6
# records (built as the auditor's review built it) is copied, and one
# byte of the copy flipped (xor 0xff) at a time: every 29th byte of what
# LMDB's pages hold (their headers, node pointers and nodes; the free
# middle of a page and unused pages change nothing), and the offsets the
# review saw crash (40748, 39711). Each verify --json must end by itself
# with 0, 1 or 6 (4 only where the format is kept: a damaged byte there
# cannot be told from a store of another format, and is named so), never
# by a signal, and print whole JSON or none.
# In a sanitizer build (HAMLET_TEST_SANITIZED set), where each verify
# costs several times as much, the flips are those same offsets less
# three in four of those inside keys and inside each value: every flip of
# a meta page, a page header, a node pointer or a node header is kept,
# every table's page keeps one in its keys at least, and every value
# (each row of every table: a record, a feed, the store's format) one at
# least.
#   tests/scenario_verify_damaged.sh PATH/TO/hamlet
set -uo pipefail
H=${1:?usage: $0 PATH/TO/hamlet}
. "$(dirname "$0")/testlib.sh"
tests_scratch verify-damaged
V() { "$H" --home "$T/v" "$@"; }

check "network created" "$H" network create bk --out "$T/net"
check "village v" V init --network "$T/net/bk.network" --name v --scope bk/c/v
check "v certified" certify "$T/net/bk.root.key" v
for i in 1 2 3 4 5 6; do
	check "record HP-$i" V put health_profile "HP-$i" "{\"person_id\":\"00111111111$i\",\"full_name\":\"Name $i\",\"birth_date\":\"1990-04-12\"}"
done
check "the intact store verifies (exit 0)" V verify
mkdir -p "$T/c/store" && cp "$T/v/node.conf" "$T/v/network.conf" "$T/v/node.cert" "$T/c/" &&
	cp "$T/v/store/data.mdb" "$T/orig.mdb"

# the flips, one verify each; a stall is told within 20 s (the bound a
# test gives itself: 60 s by default), and a verify still running after
# 120 s is a hang the watch missed
out=$(HAMLET_VERIFY_STALL_S=20 python3 - "$H" "$T" <<'EOF'
import json, os, struct, subprocess, sys
h, t = sys.argv[1], sys.argv[2]
orig = open(f"{t}/orig.mdb", "rb").read()
ps = 4096
live = []
kind = {}  # offset: (page, what LMDB keeps there)
def mark(r, p, what):
	for o in r:
		kind[o] = (p, what)
for p in range(len(orig) // ps):
	base = p * ps
	flags, lower, upper = struct.unpack_from("<HHH", orig, base + 10)
	if flags & 0x08:  # a meta page: its header and meta
		live += range(base, base + 160)
		mark(range(base, base + 160), p, "meta")
	elif flags & 0x04:  # an overflow page: all of it
		live += range(base, base + ps)
		mark(range(base, base + ps), p, "value")
	elif flags & 0x03 and lower <= upper <= ps:  # a branch or leaf
		live += list(range(base, base + lower)) + list(range(base + upper, base + ps))
		mark(range(base, base + 16), p, "header")
		mark(range(base + 16, base + lower), p, "pointer")
		mark(range(base + upper, base + ps), p, "value")
		# each node: 8 bytes of header (its value's size, flags, its
		# key's size), its key, then (in a leaf) its value, or the
		# number of the overflow page holding it
		for i in range((lower - 16) // 2):
			n = base + struct.unpack_from("<H", orig, base + 16 + 2 * i)[0]
			if base + upper <= n <= base + ps - 8:
				lo, hi, nf, ks = struct.unpack_from("<HHHH", orig, n)
				vs = 0 if flags & 0x01 else 8 if nf & 0x01 else lo | hi << 16
				mark(range(n, n + 8), p, "node")
				mark(range(n + 8, min(n + 8 + ks, base + ps)), p, "key")
				mark(range(n + 8 + ks, min(n + 8 + ks + vs, base + ps)), (p, i), "value")
offsets = sorted(set(live[::29]) | {o for o in (40748, 39711) if o < len(orig)})
if os.environ.get("HAMLET_TEST_SANITIZED"):
	seen = {}
	kept = []
	for o in offsets:
		k = kind.get(o)
		if k and k[1] in ("key", "value"):
			seen[k] = seen.get(k, 0) + 1
			if (seen[k] - 1) % 4:
				continue
		kept.append(o)
	offsets = sorted(set(kept) | {o for o in (40748, 39711) if o < len(orig)})
bad = []
counts = {}
for off in offsets:
	b = bytearray(orig)
	b[off] ^= 0xFF
	open(f"{t}/c/store/data.mdb", "wb").write(b)
	if os.path.exists(f"{t}/c/store/lock.mdb"):
		os.unlink(f"{t}/c/store/lock.mdb")
	try:
		r = subprocess.run([h, "--home", f"{t}/c", "verify", "--json"],
				   capture_output=True, timeout=120)
	except subprocess.TimeoutExpired:
		bad.append(f"offset {off}: still running after 120 s")
		continue
	rc, err = r.returncode, r.stderr.decode(errors="replace")
	counts[rc] = counts.get(rc, 0) + 1
	if rc < 0:
		bad.append(f"offset {off}: killed by signal {-rc}: {err[:200]}")
	elif rc == 4 and "unsupported format version" in err:
		pass
	elif rc not in (0, 1, 6):
		bad.append(f"offset {off}: exit {rc}: {err[:200]}")
	if r.stdout:
		try:
			j = json.loads(r.stdout)
			if rc == 6 and not j.get("damaged"):
				bad.append(f"offset {off}: exit 6, but \"damaged\" is not true")
		except ValueError:
			bad.append(f"offset {off}: exit {rc} with output that is not whole JSON")
	# no verdict: the store's files are named damaged, and what to do
	if rc == 6 and not r.stdout and not ("DAMAGED" in err and "another copy" in err):
		bad.append(f"offset {off}: exit 6 with no JSON, nor a DAMAGED message saying what to do: {err[:200]}")
	# no verdict (the files did not read): the report reads them too
	if rc == 6 and not r.stdout:
		r = subprocess.run([h, "--home", f"{t}/c", "verify", "--report", "--json"],
				   capture_output=True, timeout=120)
		if r.returncode != 6 or (r.stdout and not r.stdout.strip().startswith(b"{")):
			bad.append(f"offset {off}: verify --report --json: exit {r.returncode}")
print(f"{len(offsets)} flips, exits {dict(sorted(counts.items()))}")
what = {}
for o in offsets:
	k = kind.get(o, (0, "free"))[1]
	what[k] = what.get(k, 0) + 1
print(f"flipped: {dict(sorted(what.items()))}")
for line in bad[:20]:
	print("BAD " + line)
EOF
)
echo "$out" | sed 's/^/    /'
check "every flip ends by itself with 0, 1 or 6, never a signal; JSON whole or none" \
	bash -c "! grep -q '^BAD ' <<<\"\$1\" && grep -q ' flips, exits ' <<<\"\$1\"" _ "$out"

# the two offsets the review saw crash, as text (what lies there
# depends on how the store was laid out): a verdict, never a signal, and
# a damaged store said so
for off in 40748 39711; do
	python3 -c "import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[$off]^=0xff; open(sys.argv[2],'wb').write(b)" "$T/orig.mdb" "$T/c/store/data.mdb"
	rm -f "$T/c/store/lock.mdb"
	"$H" --home "$T/c" verify >"$T/vout" 2>"$T/verr"
	rc=$?
	check "offset $off: exit 0, 1 or 6 (got $rc), DAMAGED said with 6" \
		bash -c "case $rc in 0|1) true ;; 6) grep -q DAMAGED '$T/vout' '$T/verr' ;; *) false ;; esac"
done

# a feed whose head seq is made huge: the audit steps over the missing
# entries at once and names them as one gap (the watch of a child that
# tells no progress is tested in test_guard)
python3 - "$T" "$(key v)" <<'EOF'
import re, sys
t, pk = sys.argv[1], bytes.fromhex(sys.argv[2])
b = bytearray(open(f"{t}/orig.mdb", "rb").read())
# a feed row ends with its author, the mark of its signatures and its
# scope; its seq (8 bytes, big endian) is 57 bytes before the author
for m in re.finditer(re.escape(pk) + b".{32}" + re.escape(b"bk/c/v"), bytes(b), re.S):
	b[m.start() - 57] ^= 0xFF
open(f"{t}/c/store/data.mdb", "wb").write(b)
EOF
rm -f "$T/c/store/lock.mdb"
HAMLET_VERIFY_STALL_S=20 "$H" --home "$T/c" verify --json >"$T/vout" 2>"$T/verr"
rc=$?
check "a feed head damaged to a huge seq: exit 6 (got $rc), the gap told once, its count positive" \
	bash -c "[ $rc = 6 ] && jq -e '.damaged == true and .gaps > 1000000 and ([.problems[] | select(.kind == \"gap\")] | length) == 1' '$T/vout' >/dev/null && grep -q 'entries 7 to [0-9]* are missing' '$T/vout'"
check "a stall bound that is no number is refused" bash -c "HAMLET_VERIFY_STALL_S=soon '$H' --home '$T/v' verify >/dev/null 2>&1; [ \$? = 4 ]"

tests_done
