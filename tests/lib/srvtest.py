"""srvtest — helpers for the rtchaos-server integration tests: start the real
server on an ephemeral loopback port, plain HTTP calls, a blocking SSE reader
and a small blocking WebSocket client on raw sockets (so tests control exactly
when bytes are read: slow consumers, peers that never answer pings).
"""
import base64
import http.client
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import rtctest  # noqa: E402


class Server:
    """A running rtchaos-server; .port, .proc (rtctest.Proc)."""

    def __init__(self, *args, name="server"):
        self.proc = rtctest.start("rtchaos-server", ["--port", "0"] + list(args), name=name)
        line = self.proc.lines[0]
        assert line.startswith("listening 127.0.0.1:"), line
        self.host, self.port = rtctest.addr_of(line)

    def stop(self, timeout=15.0):
        return self.proc.stop(timeout=timeout)

    # ---- HTTP ---------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=15.0):
        """Returns (status, headers dict (lower-case names), body bytes)."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, data

    def json(self, method, path, body=None, expect=200, **kw):
        st, _, data = self.request(method, path, body, **kw)
        assert st == expect, f"{method} {path}: status {st} (want {expect}): {data[:300]!r}"
        return json.loads(data) if data else None

    def publish(self, ch, data, ts=None, id=None, expect=200):
        ev = {"data": data}
        if ts is not None:
            ev["ts"] = ts
        if id is not None:
            ev["id"] = id
        return self.json("POST", f"/publish/{ch}", ev, expect=expect)

    def metrics(self):
        """Returns {'name{labels}': float} from /metrics."""
        st, hdrs, data = self.request("GET", "/metrics")
        assert st == 200, st
        out = {}
        for line in data.decode().splitlines():
            if not line or line.startswith("#"):
                continue
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
        return out

    def wait_parked_polls(self, n, timeout=15.0):
        """Waits until n long-polls are open on the server (its
        rtchaos_connections{transport="poll"} gauge): a poll that is parked
        is ready for the publish it waits for, which no sleep can promise."""
        key = 'rtchaos_connections{transport="poll"}'
        wait_until(lambda: self.metrics().get(key) == n, timeout, what=f"{n} parked polls")

    def sse(self, query, last_event_id=None, rcvbuf=None):
        return SSE(self.host, self.port, query, last_event_id, rcvbuf)

    def ws(self, path="/ws", rcvbuf=None, auto_pong=True):
        return WS(self.host, self.port, path, rcvbuf, auto_pong)


def wait_until(pred, timeout=15.0, step=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


class SSE:
    """Blocking SSE reader on a raw socket. .status, .headers after connect."""

    def __init__(self, host, port, query, last_event_id=None, rcvbuf=None, timeout=15.0):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        req = f"GET /sse?{query} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
        if last_event_id is not None:
            req += f"Last-Event-ID: {last_event_id}\r\n"
        self.sock.sendall((req + "\r\n").encode())
        self.buf = b""
        self.closed = False
        head = self._read_until(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for l in lines[1:]:
            if ":" in l:
                k, v = l.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()
        self.chunked = self.headers.get("transfer-encoding", "") == "chunked"
        self.body = b""  # de-chunked body not yet parsed into events
        self.last_id = None
        self.retry = None

    def _fill(self):
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            raise AssertionError("SSE read timed out")
        if not d:
            self.closed = True
        self.buf += d
        return bool(d)

    def _read_until(self, sep):
        while sep not in self.buf:
            if not self._fill():
                raise AssertionError(f"connection closed before {sep!r}: {self.buf[:200]!r}")
        i = self.buf.index(sep)
        out, self.buf = self.buf[:i], self.buf[i + len(sep):]
        return out

    def _more_body(self):
        """Moves more bytes into self.body; False at end of stream."""
        if not self.chunked:
            if not self.buf and not self._fill():
                return False
            self.body += self.buf
            self.buf = b""
            return True
        while b"\r\n" not in self.buf:
            if not self._fill():
                return False
        size_line, rest = self.buf.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            self.closed = True
            return False
        while len(rest) < size + 2:
            self.buf = size_line + b"\r\n" + rest
            if not self._fill():
                return False
            size_line, rest = self.buf.split(b"\r\n", 1)
        self.body += rest[:size]
        self.buf = rest[size + 2:]
        return True

    def next(self, timeout=15.0):
        """Next message: dict(id=, data=<parsed JSON or None>, comment=) or None at
        end of stream. Comments (heartbeats) come back as {'comment': text}."""
        self.sock.settimeout(timeout)
        while True:
            while b"\n\n" not in self.body:
                if not self._more_body():
                    return None
            block, self.body = self.body.split(b"\n\n", 1)
            msg = {"id": None, "data": None, "comment": None}
            data_lines = []
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    msg["comment"] = line[1:].strip()
                elif line.startswith("id:"):
                    msg["id"] = line[3:].strip()
                    self.last_id = msg["id"]
                elif line.startswith("data:"):
                    data_lines.append(line[5:].strip())
                elif line.startswith("retry:"):
                    self.retry = int(line[6:].strip())
            if data_lines:
                msg["data"] = json.loads("\n".join(data_lines))
            if msg["data"] is None and msg["comment"] is None:
                continue  # retry-only block
            return msg

    def next_data(self, timeout=15.0, skip_comments=True):
        while True:
            m = self.next(timeout)
            if m is None:
                return None
            if m["comment"] is not None and skip_comments:
                continue
            return m["data"]

    def close(self):
        self.sock.close()


class WSClosed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason}")
        self.code, self.reason = code, reason


class WS:
    """Blocking WebSocket client (RFC 6455) on a raw socket."""

    def __init__(self, host, port, path="/ws", rcvbuf=None, auto_pong=True, timeout=15.0):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            d = self.sock.recv(4096)
            if not d:
                raise AssertionError("closed during the WebSocket handshake")
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split()[1])
        if self.status != 101:
            raise AssertionError(f"WebSocket upgrade refused: {head[:200]!r}")
        self.auto_pong = auto_pong
        self.pings = 0

    def send_frame(self, opcode, payload, fin=True):
        hdr = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + masked)

    def send(self, obj):
        text = obj if isinstance(obj, (str, bytes)) else json.dumps(obj)
        self.send_frame(1, text.encode() if isinstance(text, str) else text)

    def _need(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise WSClosed(1006, "connection closed without a close frame")
            self.buf += d

    def recv_frame(self):
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(off + n)
        payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
        return b0 & 0x0F, payload

    def recv(self, timeout=15.0):
        """Next text message as parsed JSON; raises WSClosed on a close frame.
        timeout bounds the whole call: pings answered on the way do not
        extend it (a server pinging more often than the timeout once kept a
        caller here for the test's whole deadline)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout(f"no text message within {timeout:.1f} s ({self.pings} pings on the way)")
            self.sock.settimeout(left)
            op, payload = self.recv_frame()
            if op == 9:
                self.pings += 1
                if self.auto_pong:
                    self.send_frame(10, payload)
                continue
            if op == 10:
                continue
            if op == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                raise WSClosed(code, payload[2:].decode(errors="replace"))
            try:
                return json.loads(payload)
            except ValueError:
                raise AssertionError(f"bad JSON frame (op {op}, {len(payload)} bytes): {payload[:160]!r} ... {payload[-60:]!r}")

    def recv_until(self, pred, timeout=15.0):
        """Receives messages until pred(msg) is true; returns them all."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; got {got[-5:]}")
            m = self.recv(timeout=left)
            got.append(m)
            if pred(m):
                return got

    def close(self):
        try:
            self.send_frame(8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def events_of(msgs, ch=None):
    """The seqs of the event envelopes in msgs (optionally of channel ch)."""
    return [m["seq"] for m in msgs if m.get("type") == "event" and (ch is None or m["ch"] == ch)]
