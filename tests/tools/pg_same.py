#!/usr/bin/env python3
"""pg_same.py HAMLET HOME COLLECTION PSQL ARGS...: the live rows of
COLLECTION in PostgreSQL (as hamlet sink postgres wrote them) equal
`hamlet export COLLECTION --format csv`, cell by cell (an unset field is
an empty cell in both); prints the count and a SHA-256 over the sorted
rows, and exits 1 with what differs when they are not the same."""
import csv, hashlib, io, subprocess, sys

h, home, coll = sys.argv[1:4]
psql = sys.argv[4:]
exp = subprocess.run([h, "--home", home, "export", coll, "--format", "csv"],
                     check=True, capture_output=True, text=True).stdout
rows = list(csv.reader(io.StringIO(exp)))
cols = rows[0]
want = sorted(tuple(r) for r in rows[1:])
q = "COPY (SELECT %s FROM %s WHERE NOT deleted AND NOT erased) TO STDOUT WITH CSV" % (
    ", ".join('"%s"' % c for c in cols), coll)
out = subprocess.run(psql + ["-c", q], check=True, capture_output=True,
                     text=True).stdout
got = sorted(tuple(r) for r in csv.reader(io.StringIO(out)))


def digest(rs):
    return hashlib.sha256(repr(rs).encode()).hexdigest()[:16]


if got != want:
    print("%s: PostgreSQL %d rows (sha256 %s), export %d (sha256 %s)" % (
        coll, len(got), digest(got), len(want), digest(want)))
    print("  missing:", sorted(set(want) - set(got))[:3])
    print("  extra:  ", sorted(set(got) - set(want))[:3])
    sys.exit(1)
print("%s: %d rows, sha256 %s in both" % (coll, len(got), digest(got)))
