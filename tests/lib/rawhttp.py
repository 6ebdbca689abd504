"""rawhttp — HTTP/1.1 on a raw socket for the hostile-HTTP tests: send exact
bytes (in one write or split into several), then read and parse whatever the
peer answers (status, headers, body by Content-Length) until it closes or a
deadline passes. No HTTP library: the tests need control over every byte."""
import re
import socket
import time


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def __repr__(self):
        return f"<{self.status} {self.body[:120]!r}>"


def parse(buf):
    """Parses complete responses off the front of buf; returns (list, rest)."""
    out = []
    while True:
        i = buf.find(b"\r\n\r\n")
        if i < 0:
            return out, buf
        head = buf[:i].decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", head[0])
        assert m, f"not an HTTP response: {buf[:200]!r}"
        hdrs = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        if len(buf) < i + 4 + n:
            return out, buf
        out.append(Resp(int(m.group(1)), hdrs, buf[i + 4:i + 4 + n]))
        buf = buf[i + 4 + n:]


def exchange(port, chunks, gap_s=0.0, want=None, timeout_s=3.0, host="127.0.0.1", grace_s=0.3):
    """Sends chunks (bytes, or a list of bytes written gap_s apart), then reads
    until the peer closes, `want` responses have arrived and nothing more comes
    within grace_s, or timeout_s passes. Returns (responses, closed, leftover)."""
    if isinstance(chunks, (bytes, bytearray)):
        chunks = [bytes(chunks)]
    s = socket.create_connection((host, port), timeout=timeout_s)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf, closed = b"", False
    try:
        for k, c in enumerate(chunks):
            if k and gap_s:
                time.sleep(gap_s)
            try:
                s.sendall(c)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
        deadline = time.monotonic() + timeout_s
        while not closed and time.monotonic() < deadline:
            got, _ = parse(buf)
            wait = deadline - time.monotonic()
            if want is not None and len(got) >= want:
                wait = min(wait, grace_s)
            s.settimeout(max(0.01, wait))
            try:
                d = s.recv(65536)
            except socket.timeout:
                if want is not None and len(got) >= want:
                    break
                continue
            except ConnectionResetError:
                closed = True
                break
            if not d:
                closed = True
                break
            buf += d
    finally:
        s.close()
    resps, rest = parse(buf)
    return resps, closed, rest


def request(method, path, body=None, headers=None, host="x"):
    """The bytes of one request; a body gets a Content-Length unless headers
    already frame it."""
    hdrs = {"Host": host}
    hdrs.update(headers or {})
    if body is not None and "Content-Length" not in hdrs and "Transfer-Encoding" not in hdrs:
        hdrs["Content-Length"] = str(len(body))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    return head.encode() + (body or b"")
