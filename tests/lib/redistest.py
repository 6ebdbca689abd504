"""redistest — a real redis-server for the brokered multi-node tests: its own
temp dir, no persistence, a free loopback port, reaped with the test
(rtctest's child list), and a tiny RESP client for the few commands a test
sends itself (CLIENT KILL, FLUSHALL, DBSIZE)."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import rtctest

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Redis:
    """A running redis-server: .port, .url; stop/kill/pause/resume/restart."""

    def __init__(self, port=None, extra=(), auth=None):
        """extra: more redis-server arguments (--requirepass P, --user …);
        auth: (user or None, password) this helper's own commands log in with."""
        self.dir = tempfile.mkdtemp(prefix="rtchaos-redis-")
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.extra = list(extra)
        self.auth = auth
        self.p = None
        self.start()

    def start(self):
        log = open(os.path.join(self.dir, "redis.log"), "wb")
        self.p = subprocess.Popen([REDIS, "--port", str(self.port), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", self.dir,
                                   "--daemonize", "no"] + self.extra,
                                  stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        rtctest._children.append(self.p)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.cmd("PING") == "PONG":
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server on port {self.port} not ready")

    def cmd(self, *args, timeout=5.0):
        """Sends one command; returns the reply (str, int, list, or None)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            out = f"*{len(args)}\r\n".encode()
            for a in args:
                b = str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(b), b)
            f = s.makefile("rb")
            if self.auth:
                s.sendall(_resp(["AUTH"] + [a for a in self.auth if a is not None]))
                _read(f)
            s.sendall(out)
            return _read(f)

    def kill(self):
        if self.p and self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def pause(self):
        self.p.send_signal(signal.SIGSTOP)

    def resume(self):
        self.p.send_signal(signal.SIGCONT)

    def restart_empty(self):
        """Kills Redis and starts a new, empty one on the same port."""
        self.kill()
        self.start()

    def close(self):
        if self.p and self.p.poll() is None:
            self.resume()
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _resp(args):
    out = f"*{len(args)}\r\n".encode()
    for a in args:
        b = str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(b), b)
    return out


def _read(f):
    line = f.readline()
    if not line:
        raise OSError("redis closed the connection")
    t, rest = line[:1], line[1:-2]
    if t == b"+":
        return rest.decode()
    if t == b"-":
        raise AssertionError("redis error: " + rest.decode())
    if t == b":":
        return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode()
    if t == b"*":
        n = int(rest)
        return None if n < 0 else [_read(f) for _ in range(n)]
    raise AssertionError(f"unexpected RESP {line!r}")
