#!/usr/bin/python3
"""proxy_storm — a connection storm through rtchaos-proxy: 10,000 connections
opened as fast as the client can (256 at a time), each echoing one byte
through the proxy; every one must be served, and the proxy must end with no
connection left open. Prints the elapsed time (not asserted: shared box)."""
import asyncio
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import proxytest as pt  # noqa: E402
import rtctest  # noqa: E402

N = 10000
PARALLEL = 256

UPSTREAM = r"""
import asyncio, sys
async def echo(r, w):
    try:
        while True:
            d = await r.read(65536)
            if not d:
                break
            w.write(d)
            await w.drain()
    except ConnectionError:
        pass
    w.close()
async def main():
    s = await asyncio.start_server(echo, "127.0.0.1", 0, backlog=4096)
    print(s.sockets[0].getsockname()[1], flush=True)
    await s.serve_forever()
asyncio.run(main())
"""


async def storm(port):
    sem = asyncio.Semaphore(PARALLEL)
    ok = 0
    errors = []

    async def one(i):
        nonlocal ok
        async with sem:
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
                b = bytes([i & 0xff])
                w.write(b)
                got = await asyncio.wait_for(r.readexactly(1), 30)
                w.close()
                if got == b:
                    ok += 1
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

    await asyncio.gather(*(one(i) for i in range(N)))
    return ok, errors


async def hold_many(port, api, n):
    """Opens n connections at once and keeps them open: the proxy must show n
    active, echo on every one, then drop back to 0."""
    conns = []
    for i in range(n):
        conns.append(await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30))
    deadline = time.monotonic() + 20
    active = -1
    while time.monotonic() < deadline and active != n:
        active = metric(api, "rtchaos_proxy_connections_active", "hold")
        await asyncio.sleep(0.1)
    assert active == n, f"active {active}, wanted {n}"
    for i, (r, w) in enumerate(conns):
        w.write(b"h%05d" % i)
    for i, (r, w) in enumerate(conns):
        assert await asyncio.wait_for(r.readexactly(6), 30) == b"h%05d" % i
    for _, w in conns:
        w.close()


def metric(api, name, proxy):
    _, text = api.call("GET", "/metrics")
    for line in text.splitlines():
        if line.startswith(f'{name}{{proxy="{proxy}"}}'):
            return int(line.split()[-1])
    return None


def main():
    up = subprocess.Popen([sys.executable, "-c", UPSTREAM], stdout=subprocess.PIPE, text=True)
    rtctest._children.append(up)
    up_port = int(up.stdout.readline())
    proc, api = pt.start_proxy("--seed", "1")
    port = pt.make_proxy(api, "storm", up_port)
    t0 = time.monotonic()
    ok, errors = asyncio.run(storm(port))
    dt = time.monotonic() - t0
    print(f"storm: {ok}/{N} connections served in {dt:.2f}s ({N / dt:.0f}/s)")
    assert ok == N, (ok, errors[:5])
    deadline = time.monotonic() + 20
    active = None
    while time.monotonic() < deadline:
        _, text = api.call("GET", "/metrics")
        for line in text.splitlines():
            if line.startswith('rtchaos_proxy_connections_active{proxy="storm"}'):
                active = int(line.split()[-1])
        if active == 0:
            break
        time.sleep(0.2)
    assert active == 0, f"{active} connections still open"
    assert f'rtchaos_proxy_connections_total{{proxy="storm"}} {N}' in text

    # thousands of connections open at the same time
    hold_port = pt.make_proxy(api, "hold", up_port)
    asyncio.run(hold_many(hold_port, api, 3000))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and metric(api, "rtchaos_proxy_connections_active", "hold") != 0:
        time.sleep(0.2)
    assert metric(api, "rtchaos_proxy_connections_active", "hold") == 0
    assert proc.stop() == 0
    up.kill()
    up.wait()
    print("proxy_storm: ok")


if __name__ == "__main__":
    main()
