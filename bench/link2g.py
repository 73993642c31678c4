#!/usr/bin/env python3
"""A 2G link between two hamletd, simulated in user space on loopback.

    bench/link2g.py LISTEN_PORT TARGET_PORT [--rate BYTES_PER_S] [--rtt MS]
                    [--cut P] [--seed N] [--log FILE]

Every connection to 127.0.0.1:LISTEN_PORT is forwarded to
127.0.0.1:TARGET_PORT through one shared link: each direction carries at
most --rate bytes per second (default 10,000), one byte after another, and
delivers each byte --rtt/2 ms after it was sent (default 300 ms round
trip). With probability --cut (default 0.05) a connection is cut at a
random moment within its first 5 s, as a 2G link drops. Counts bytes each
way and cuts in --log (JSON, rewritten every second).
"""
import argparse
import asyncio
import json
import random
import time

CHUNK = 512


class Direction:
    """One direction of the shared link: serialised at rate, then delayed."""

    def __init__(self, rate, delay):
        self.rate = rate
        self.delay = delay
        self.free_at = 0.0
        self.bytes = 0

    def schedule(self, n):
        """When n bytes sent now arrive at the other end."""
        now = time.monotonic()
        start = max(now, self.free_at)
        self.free_at = start + n / self.rate
        self.bytes += n
        return self.free_at + self.delay


async def pump(reader, writer, d, alive):
    try:
        while alive["on"]:
            data = await reader.read(CHUNK)
            if not data:
                break
            at = d.schedule(len(data))
            wait = at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not alive["on"]:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        alive["on"] = False
        try:
            writer.close()
        except Exception:
            pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listen", type=int)
    ap.add_argument("target", type=int)
    ap.add_argument("--rate", type=float, default=10000)
    ap.add_argument("--rtt", type=float, default=300)
    ap.add_argument("--cut", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    up = Direction(a.rate, a.rtt / 2000)
    down = Direction(a.rate, a.rtt / 2000)
    stats = {"connections": 0, "cut": 0}

    async def on_conn(cr, cw):
        stats["connections"] += 1
        try:
            tr, tw = await asyncio.open_connection("127.0.0.1", a.target)
        except OSError:
            cw.close()
            return
        alive = {"on": True}
        if rnd.random() < a.cut:
            async def cutter():
                await asyncio.sleep(rnd.uniform(0, 5))
                if alive["on"]:
                    stats["cut"] += 1
                    alive["on"] = False
                    for w in (cw, tw):
                        w.transport.abort()
            asyncio.ensure_future(cutter())
        await asyncio.gather(pump(cr, tw, up, alive), pump(tr, cw, down, alive))

    server = await asyncio.start_server(on_conn, "127.0.0.1", a.listen)
    async with server:
        for _ in range(24 * 3600):  # at most a day
            if a.log:
                with open(a.log + ".tmp", "w") as f:
                    json.dump({"up": up.bytes, "down": down.bytes, **stats}, f)
                import os
                os.replace(a.log + ".tmp", a.log)
            await asyncio.sleep(1)


asyncio.run(main())
