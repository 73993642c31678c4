#!/usr/bin/env python3
"""A 2G link between two hamletd, simulated in user space on loopback.

    bench/link2g.py LISTEN_PORT TARGET_PORT [--rate BYTES_PER_S] [--rtt MS]
                    [--cut P] [--seed N] [--log FILE]

Every connection to 127.0.0.1:LISTEN_PORT is forwarded to
127.0.0.1:TARGET_PORT through one shared link: each direction carries at
most --rate bytes per second (default 10,000), one byte after another, and
delivers each byte --rtt/2 ms after it was sent (default 300 ms round
trip). With probability --cut (default 0.05) a connection is cut at a
random moment within its first 5 s, as a 2G link drops; SIGUSR1 drops
every open connection at once. --log (JSON, rewritten every 0.1 s) counts
the bytes each way, connections, cuts, and "link_s": the seconds during
which at least one connection was open (the link's time up).
"""
import argparse
import asyncio
import json
import os
import random
import signal
import time

CHUNK = 512


class Direction:
    """One direction of the shared link: serialised at rate, then delayed."""

    def __init__(self, name, rate, delay):
        self.name = name
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


TRACE = None


async def pump(reader, writer, d, alive):
    """Read as it comes; deliver each chunk when the link would."""
    q = asyncio.Queue()

    async def deliver():
        try:
            while True:
                item = await q.get()
                if item is None or not alive["on"]:
                    break
                at, data = item
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

    out = asyncio.ensure_future(deliver())
    try:
        while alive["on"]:
            data = await reader.read(CHUNK)
            if not data:
                break
            if TRACE:
                TRACE.write("%.3f %s %d\n" % (time.monotonic(), d.name, len(data)))
                TRACE.flush()
            q.put_nowait((d.schedule(len(data)), data))
    except (ConnectionError, OSError):
        pass
    q.put_nowait(None)
    await out


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listen", type=int)
    ap.add_argument("target", type=int)
    ap.add_argument("--rate", type=float, default=10000)
    ap.add_argument("--rtt", type=float, default=300)
    ap.add_argument("--cut", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log")
    ap.add_argument("--trace", help="a line per chunk: time, direction, bytes")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    up = Direction("up", a.rate, a.rtt / 2000)
    down = Direction("down", a.rate, a.rtt / 2000)
    global TRACE
    if a.trace:
        TRACE = open(a.trace, "w")
    stats = {"connections": 0, "cut": 0, "dropped": 0}
    live = {}  # id -> (alive, writer, writer)
    up_since = [None, 0.0]  # when the link came up, seconds up before

    def link_s():
        return up_since[1] + (time.monotonic() - up_since[0] if up_since[0] else 0)

    def opened(conn):
        if not live:
            up_since[0] = time.monotonic()
        live[id(conn)] = conn

    def closed(conn):
        if id(conn) in live:
            del live[id(conn)]
            if not live:
                up_since[1] += time.monotonic() - up_since[0]
                up_since[0] = None

    def drop_all():
        for conn in list(live.values()):
            conn[0]["on"] = False
            for w in conn[1:]:
                w.transport.abort()
            stats["dropped"] += 1
            closed(conn)

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, drop_all)

    async def on_conn(cr, cw):
        stats["connections"] += 1
        try:
            tr, tw = await asyncio.open_connection("127.0.0.1", a.target)
        except OSError:
            cw.close()
            return
        alive = {"on": True}
        conn = (alive, cw, tw)
        opened(conn)
        if rnd.random() < a.cut:
            async def cutter():
                await asyncio.sleep(rnd.uniform(0, 5))
                if alive["on"]:
                    stats["cut"] += 1
                    alive["on"] = False
                    for w in (cw, tw):
                        w.transport.abort()
                    closed(conn)
            asyncio.ensure_future(cutter())
        await asyncio.gather(pump(cr, tw, up, alive), pump(tr, cw, down, alive))
        closed(conn)

    server = await asyncio.start_server(on_conn, "127.0.0.1", a.listen)
    async with server:
        for _ in range(10 * 24 * 3600):  # at most a day
            if a.log:
                with open(a.log + ".tmp", "w") as f:
                    json.dump({"up": up.bytes, "down": down.bytes,
                               "link_s": link_s(), **stats}, f)
                os.replace(a.log + ".tmp", a.log)
            await asyncio.sleep(0.1)


asyncio.run(main())
