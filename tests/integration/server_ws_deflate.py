#!/usr/bin/python3
"""server_ws_deflate — rtchaos-server --ws-deflate 1 with a client that is not
ours: python3-websockets with its default permessage-deflate offer, which
(like browsers) compresses what it sends. The extension is agreed, the
client's compressed sub is understood (lws inflates it), the server's
compressed events (context takeover, back-references ~6 KB into earlier
messages) decode, and every seq arrives in order. Without the flag the same
client gets no extension. (lws 4.1 answers a client that insists on
server_max_window_bits with a bare "permessage-deflate", which such a client
refuses: docs/server.md "Compression".)"""
import asyncio
import hashlib
import json
import os
import sys

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import srvtest  # noqa: E402

N = 60


def block(k):
    """320 hex digits that compress only against an earlier copy."""
    return "".join(hashlib.sha256(f"{k}.{j}".encode()).hexdigest() for j in range(5))


async def session(srv, deflate_expected):
    url = f"ws://127.0.0.1:{srv.port}/ws"
    async with websockets.connect(url, max_size=1 << 20) as ws:
        ext = [e.name for e in ws.extensions]
        assert ("permessage-deflate" in ext) == deflate_expected, ext
        await ws.send(json.dumps({"op": "sub", "ch": "z.1", "since": 0}))
        # message i repeats message i-8's random block, ~6 KB back: only
        # context takeover across messages compresses it
        for i in range(N):
            body = {"i": i, "new": block(i), "old": block(i - 8)}
            await asyncio.get_running_loop().run_in_executor(None, srv.publish, "z.1", body)
        seqs = []
        while len(seqs) < N:
            m = json.loads(await asyncio.wait_for(ws.recv(), 15))
            if m.get("type") == "event":
                assert m["data"]["i"] == len(seqs), m
                seqs.append(m["seq"])
        assert seqs == list(range(1, N + 1)), seqs
    return ext


def main():
    for flag, want in (("1", True), ("0", False)):
        srv = srvtest.Server("--ws-deflate", flag)
        try:
            ext = asyncio.run(session(srv, want))
        finally:
            srv.stop()
        print(f"ok --ws-deflate {flag}: extensions {ext}, {N} events in order")


if __name__ == "__main__":
    main()
