"""rtctest — shared helpers for the integration tests: start the real binaries
on ephemeral loopback ports, read the address they print, and always reap
them (even when a test fails or is interrupted).

Binaries announce readiness with one machine-readable line on stdout:
  rtchaos-server:  "listening 127.0.0.1:PORT"
  rtchaos-proxy:   "api 127.0.0.1:PORT" then "proxy NAME 127.0.0.1:PORT" per proxy
Logs go to stderr, which is kept in a file under build/test-logs/.
"""
import atexit
import itertools
import os
import select
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("RTCHAOS_BIN", os.path.join(ROOT, "bin"))
LOGDIR = os.environ.get("RTCHAOS_TEST_LOGS", os.path.join(ROOT, "build", "test-logs"))

_children = []
_log_seq = itertools.count()  # unique log names, also when tests start children from threads


def _reap_all():
    for p in _children:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


atexit.register(_reap_all)


def _on_signal(signum, _frame):
    _reap_all()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)


class Proc:
    """A started child: .p (Popen), .lines (ready lines read so far),
    .log (stderr file path)."""

    def __init__(self, p, lines, log):
        self.p, self.lines, self.log = p, lines, log

    def read_line(self, timeout=10.0):
        """Reads one more stdout line (str, without newline) or None on timeout/EOF."""
        return _readline(self.p, timeout)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Signals the child and waits; returns its exit code (kills after timeout)."""
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                return self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise AssertionError(f"{self.p.args[0]} did not exit within {timeout}s of signal {sig}")
        return self.p.returncode

    def stderr_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()


def _readline(p, timeout):
    deadline = time.monotonic() + timeout
    buf = b""
    fd = p.stdout.fileno()
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        c = os.read(fd, 1)
        if not c:
            break
        if c == b"\n":
            return buf.decode()
        buf += c
    return None


def start(binary, args, ready_lines=1, timeout=10.0, env=None, name=None):
    """Starts bin/<binary> with args and waits for ready_lines stdout lines.
    Raises AssertionError (with the stderr tail) if they do not come in time."""
    os.makedirs(LOGDIR, exist_ok=True)
    tag = name or binary
    log = os.path.join(LOGDIR, f"{tag}-{os.getpid()}-{next(_log_seq)}.stderr")
    errf = open(log, "wb")
    path = binary if os.path.isabs(binary) else os.path.join(BIN, binary)
    p = subprocess.Popen([path] + list(args), stdout=subprocess.PIPE, stderr=errf,
                         stdin=subprocess.DEVNULL, env=env)
    _children.append(p)
    lines = []
    for _ in range(ready_lines):
        line = _readline(p, timeout)
        if line is None:
            p.kill()
            p.wait()
            with open(log, errors="replace") as f:
                tail = f.read()[-2000:]
            raise AssertionError(f"{binary} not ready within {timeout}s (rc={p.returncode}); stderr:\n{tail}")
        lines.append(line)
    return Proc(p, lines, log)


def addr_of(line):
    """'listening 127.0.0.1:8080' -> ('127.0.0.1', 8080)."""
    hostport = line.split()[-1]
    host, port = hostport.rsplit(":", 1)
    return host, int(port)
