"""proxytest — helpers for the rtchaos-proxy integration tests: a loopback
echo upstream, a small JSON client for the control API, and a started proxy.
Everything runs on 127.0.0.1 with ephemeral ports and is reaped at exit."""
import asyncio
import json
import os
import socket
import sys
import threading
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import rtctest  # noqa: E402


class EchoServer:
    """Threaded TCP echo server on an ephemeral loopback port (.port)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    @staticmethod
    def _echo(c):
        try:
            c.settimeout(60)
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()


class LoopServers:
    """Base of the asyncio upstream servers of the WS/SSE tests: runs one
    event loop in a daemon thread and awaits the subclass's _start() (which
    opens the listening sockets) before the constructor returns."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        assert self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self):
        raise NotImplementedError


class Api:
    """Minimal JSON client of the control API: call() returns (status, body)."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method, path, body=None, raw=None, timeout=10):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                text = r.read().decode()
                status = r.status
                ctype = r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            status = e.code
            ctype = e.headers.get("Content-Type", "")
        if text and "json" in ctype:
            return status, json.loads(text)
        return status, text

    def ok(self, method, path, body=None, want=200):
        status, out = self.call(method, path, body)
        assert status == want, f"{method} {path} -> {status} {out!r} (wanted {want})"
        return out


def start_proxy(*extra, ready_lines=1):
    """Starts rtchaos-proxy on an ephemeral API port; returns (proc, Api)."""
    p = rtctest.start("rtchaos-proxy", ["--api-port", "0", *extra], ready_lines=ready_lines)
    _, port = rtctest.addr_of(p.lines[0])
    assert p.lines[0].startswith("api "), p.lines
    return p, Api(port)


def make_proxy(api, name, upstream_port):
    """Creates a proxy to 127.0.0.1:upstream_port; returns its listen port."""
    out = api.ok("POST", "/proxies", {"name": name, "listen": "127.0.0.1:0",
                                      "upstream": f"127.0.0.1:{upstream_port}"}, want=201)
    return int(out["listen"].rsplit(":", 1)[1])


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            break
        buf += d
    return buf


def bulk_echo(s, blob):
    """Sends blob on s from a thread while reading its echo; asserts it comes
    back whole and in order."""
    th = threading.Thread(target=lambda: s.sendall(blob))
    th.start()
    got = bytearray()
    while len(got) < len(blob):
        d = s.recv(1 << 20)
        assert d, "proxy closed during bulk transfer"
        got += d
    th.join()
    assert bytes(got) == blob


def events(api, since=0):
    return api.ok("GET", f"/events?since={since}")["events"]
