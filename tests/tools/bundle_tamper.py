#!/usr/bin/env python3
"""Alter a plain bundle (version 3) as an attacker with a hex editor
would, inside its compressed run frames: replace OLD by NEW (bytes of the
same length) in each run's bytes, compressing it again with the zstd
command and fixing the frame's length, so that the frames still parse and
the entries they carry are what was altered (the trailer then no longer
matches).

    bundle_tamper.py IN OUT OLD NEW
"""
import subprocess
import sys


def bin_header(n):
    if n < 256:
        return bytes([0xc4, n])
    if n < 65536:
        return bytes([0xc5]) + n.to_bytes(2, "big")
    return bytes([0xc6]) + n.to_bytes(4, "big")


def read_bin(b, i):
    t = b[i]
    w = {0xc4: 1, 0xc5: 2, 0xc6: 4}[t]
    n = int.from_bytes(b[i + 1:i + 1 + w], "big")
    return b[i + 1 + w:i + 1 + w + n]


def zstd(args, data):
    return subprocess.run(["zstd", "-q", "-c"] + args, input=data,
                          stdout=subprocess.PIPE, check=True).stdout


def main():
    src, dst, old, new = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4].encode()
    assert len(old) == len(new)
    b = open(src, "rb").read()
    out, off, hits = bytearray(b[:8]), 8, 0
    while off + 8 <= len(b):
        typ, n = b[off + 2], int.from_bytes(b[off + 4:off + 8], "big")
        payload = b[off + 8:off + 8 + n]
        if typ == ord("C") and payload[0] == 0x92:
            codec, data = payload[1], read_bin(payload, 2)
            raw = zstd(["-d"], data) if codec == 1 else data
            if old in raw:
                hits += raw.count(old)
                raw = raw.replace(old, new)
                # the size given, so that the frame declares it
                data = zstd(["-3", "--stream-size=%d" % len(raw)], raw) if codec == 1 else raw
                payload = bytes([0x92, codec]) + bin_header(len(data)) + data
        out += b[off:off + 4] + len(payload).to_bytes(4, "big") + payload
        off += 8 + n
    out += b[off:]
    open(dst, "wb").write(out)
    if not hits:
        sys.exit("%s: %s not found in any run" % (src, old.decode()))


main()
