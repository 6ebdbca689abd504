#!/usr/bin/python3
"""proxy_splice — the pass-through path picks splice(2) by traffic shape:
small messages stay in user space however many bytes they add up to, bulk
is spliced, and a spliced connection whose traffic turns small goes back to
user space (and to splice again when bulk returns); bytes stay intact
across every switch, and through the user-space relay of --no-splice, FIN
included. Checked through the /metrics counters."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import proxytest as pt  # noqa: E402


def counters(api, name):
    _, text = api.call("GET", "/metrics")
    out = {}
    for metric in ("spliced_bytes", "splice_entered", "splice_left"):
        key = f'rtchaos_proxy_{metric}_total{{proxy="{name}"}} '
        lines = [x for x in text.splitlines() if x.startswith(key)]
        assert len(lines) == 1, (key, text)
        out[metric] = int(lines[0].split()[-1])
    return out


def round_trips(s, n, size):
    for i in range(n):
        msg = (b"%08d" % i) * (size // 8)
        s.sendall(msg)
        got = pt.recv_exact(s, len(msg))
        assert got == msg, (i, got[:16])


def main():
    up = pt.EchoServer()
    proc, api = pt.start_proxy("--seed", "7")
    port = pt.make_proxy(api, "sp", up.port)

    # 1.3 MB of 512-byte round trips: more than any byte threshold, but
    # never a full read, so never spliced
    s = pt.connect(port, 30)
    round_trips(s, 2600, 512)
    c = counters(api, "sp")
    assert c == {"spliced_bytes": 0, "splice_entered": 0, "splice_left": 0}, c

    # bulk on the same connection: both directions switch to splice
    blob = os.urandom(8 << 20)
    pt.bulk_echo(s, blob)
    # (a busy box can make a direction leave and re-enter within the bulk:
    # counted as such, so the checks are on differences)
    c = counters(api, "sp")
    assert c["splice_entered"] >= 2 and c["spliced_bytes"] > 4 << 20, c

    # small messages again: both directions leave splice after a few, and
    # the ones after that are not spliced
    round_trips(s, 100, 64)
    c = counters(api, "sp")
    assert c["splice_left"] == c["splice_entered"], c
    round_trips(s, 200, 64)
    c2 = counters(api, "sp")
    assert c2 == c, (c, c2)

    # bulk once more: spliced again, bytes intact
    pt.bulk_echo(s, blob)
    c3 = counters(api, "sp")
    assert c3["splice_entered"] >= c2["splice_entered"] + 2, (c2, c3)
    assert c3["spliced_bytes"] > c2["spliced_bytes"] + (4 << 20), (c2, c3)
    s.close()

    # --no-splice: the same bulk never takes a pipe
    proc2, api2 = pt.start_proxy("--seed", "7", "--no-splice")
    port2 = pt.make_proxy(api2, "ns", up.port)
    s = pt.connect(port2, 30)
    pt.bulk_echo(s, blob)
    round_trips(s, 100, 64)
    # half-close through the user-space relay: our FIN reaches the echo
    # server, whose FIN comes back
    s.shutdown(socket.SHUT_WR)
    s.settimeout(10)
    assert s.recv(10) == b""
    s.close()
    c = counters(api2, "ns")
    assert c == {"spliced_bytes": 0, "splice_entered": 0, "splice_left": 0}, c
    print("ok")


if __name__ == "__main__":
    main()
