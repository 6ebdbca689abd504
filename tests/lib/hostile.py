"""hostile — a seeded, bounded storm of hostile HTTP/1.1 connections for the
stress tests of rtchaos-server and rtchaos-proxy's control API: malformed
request lines and headers, partial heads, pipelined mixes, chunked bodies,
oversized lengths, bodies shorter than announced, slow drips, NULs and
binary junk, each written in randomly split pieces from many connections at
once. Every session is bounded in bytes and time; run() is bounded in count
and wall time. The same seed gives the same sessions (the threads' timing
differs; the sessions do not)."""
import json
import random
import socket
import threading
import time


def _req(method, path, body=None, headers=None, version="HTTP/1.1"):
    hdrs = [("Host", "x")] + list((headers or {}).items())
    if body is not None and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in hdrs):
        hdrs.append(("Content-Length", str(len(body))))
    head = f"{method} {path} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs) + "\r\n"
    return head.encode("latin-1") + (body or b"")


class Generator:
    """Makes sessions: (chunks, gap_s, hold_s). paths: the endpoints to aim
    at as (method, path, json_body_or_None) tuples."""

    def __init__(self, seed, paths, max_body):
        self.r = random.Random(seed)
        self.paths = paths
        self.max_body = max_body

    def _valid(self):
        m, p, b = self.r.choice(self.paths)
        body = json.dumps(b).encode() if b is not None else None
        return _req(m, p, body, {"Content-Type": "application/json"} if body is not None else None)

    def _junk(self, n):
        return bytes(self.r.randrange(256) for _ in range(n))

    def _one(self):
        r = self.r
        m, p, b = r.choice(self.paths)
        kind = r.randrange(16)
        if kind == 0:   # pipelined mix of valid requests
            return b"".join(self._valid() for _ in range(r.randint(2, 6)))
        if kind == 1:   # chunked body
            body = json.dumps(b if b is not None else {"x": 1}).encode()
            return _req("POST", p, f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n",
                        {"Transfer-Encoding": r.choice(["chunked", "Chunked", "gzip, chunked", "x"])})
        if kind == 2:   # announced length far over any cap, body never sent
            return _req("POST", p, b"", {"Content-Length": str(r.choice([self.max_body + 1, 10 ** 9, 2 ** 63 - 1]))})
        if kind == 3:   # body shorter than announced
            return _req("POST", p, b"", {"Content-Length": str(r.randint(10, self.max_body))}) + b'{"da'
        if kind == 4:   # malformed request line
            return r.choice([b"GET\r\n\r\n", b"GET /\r\n\r\n", b"G\x00T / HTTP/1.1\r\n\r\n",
                             b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", b" / HTTP/1.1\r\n\r\n",
                             b"GET /" + b"a" * r.randint(1000, 20000) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                             b"\r\n\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n"])
        if kind == 5:   # malformed headers
            return r.choice([b"GET / HTTP/1.1\r\nHost x\r\n\r\n", b"GET / HTTP/1.1\r\n: v\r\n\r\n",
                             b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * r.randint(100, 2000) + b"\r\n",
                             b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"v" * r.randint(5000, 20000) + b"\r\n\r\n",
                             b"POST " + p.encode() + b" HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
                             b"POST " + p.encode() + b" HTTP/1.1\r\nContent-Length: -3\r\n\r\n{}",
                             b"POST " + p.encode() + b" HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}",
                             b"GET / HTTP/1.1\r\nHost: x\n\n", b"GET / HTTP/1.1\nHost: x\r\n\r\n"])
        if kind == 6:   # binary junk
            return self._junk(r.randint(1, 3000))
        if kind == 7:   # partial head, then nothing
            v = self._valid()
            return v[:r.randint(1, max(1, v.find(b"\r\n\r\n")))]
        if kind == 8:   # valid request then junk (pipelined garbage)
            return self._valid() + self._junk(r.randint(1, 200))
        if kind == 9:   # body on a GET / other methods
            return _req(r.choice(["GET", "HEAD", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT", "BREW"]), p,
                        r.choice([None, b"{}", b"x" * 10]))
        if kind == 10:  # encoded separators and dot segments
            q = r.choice(["/a%2F..%2Fb", "/../../etc/passwd", "/%2e%2e/x", "/a/./b", "//x", "/%00", "/%zz", "/%"])
            return _req(m, p.rstrip("/") + q, json.dumps(b).encode() if b is not None else None)
        if kind == 11:  # a streaming head with bytes behind it
            return _req("GET", r.choice(["/sse?ch=h", "/poll?ch=h&timeout_ms=300", "/events"])) + self._valid()
        if kind == 12:  # WebSocket upgrade followed by junk
            return _req("GET", r.choice(["/ws", "/"]), None,
                        {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                         "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}) + self._junk(r.randint(0, 100))
        if kind == 13:  # HTTP/1.0 and Connection: close / keep-alive games
            return _req(m, p, json.dumps(b).encode() if b is not None else None,
                        {"Connection": r.choice(["close", "keep-alive", "Upgrade", "x"])},
                        version=r.choice(["HTTP/1.0", "HTTP/1.1"]))
        if kind == 14:  # a body at the cap
            pad = b" " * max(0, self.max_body - 20)
            return _req("POST", p, b'{"data":1}' + pad[:self.max_body - 10])
        return self._valid()

    def session(self):
        r = self.r
        data = b"".join(self._one() for _ in range(r.choice([1, 1, 1, 2, 3])))[:64 * 1024]
        # split into 1..8 pieces at random points; a few sessions drip slowly
        cuts = sorted(r.sample(range(1, len(data)), min(len(data) - 1, r.randint(0, 7)))) if len(data) > 1 else []
        chunks = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
        slow = r.random() < 0.1
        gap_s = r.uniform(0.05, 0.2) if slow else r.choice([0.0, 0.0, 0.002])
        hold_s = r.choice([0.0, 0.05, 0.3]) if r.random() < 0.93 else 2.5  # a few outlast the deadline
        return chunks, gap_s, hold_s


def _play(host, port, chunks, gap_s, hold_s, stats):
    try:
        s = socket.create_connection((host, port), timeout=2.0)
    except OSError:
        stats["connect_failed"] += 1
        return
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i, c in enumerate(chunks):
            if i and gap_s:
                time.sleep(gap_s)
            s.sendall(c)
        deadline = time.monotonic() + max(hold_s, 0.05)
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            d = s.recv(65536)
            if not d:
                stats["closed_by_peer"] += 1
                break
            stats["bytes_in"] += len(d)
    except (socket.timeout, ConnectionResetError, BrokenPipeError, OSError):
        pass
    finally:
        s.close()
        stats["sessions"] += 1


def run(host, port, seed, paths, max_body, sessions=400, workers=16, budget_s=60.0):
    """Plays `sessions` hostile sessions from `workers` threads at once, for at
    most budget_s. Returns the tallies."""
    gen = Generator(seed, paths, max_body)
    todo = [gen.session() for _ in range(sessions)]
    stats = {"sessions": 0, "connect_failed": 0, "closed_by_peer": 0, "bytes_in": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + budget_s

    def worker():
        while time.monotonic() < stop_at:
            with lock:
                if not todo:
                    return
                chunks, gap_s, hold_s = todo.pop()
            local = {k: 0 for k in stats}
            _play(host, port, chunks, gap_s, hold_s, local)
            with lock:
                for k, v in local.items():
                    stats[k] += v

    ths = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(max(0.0, stop_at - time.monotonic()) + 5)
    stats["unplayed"] = len(todo)
    return stats


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
