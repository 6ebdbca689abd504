#!/usr/bin/python3
"""harness_status_line: on a terminal, `rtchaos run` keeps one live status
line on stderr (rewritten in place with \\r and erase-to-end-of-line, once a
second, ended with a newline): elapsed/planned time, clients connected,
messages per second, p95, anomalies, reconnects, and the faults active at
that moment. Driven in a real pseudo-terminal; with stderr not a terminal
(or with --quiet on one) there is no such line."""
import os
import pty
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402

SCENARIO = """
name: status-line
seed: 5
duration: 5s
warmup: 1s
drain: 2s
channels: {count: 2, pattern: "st.{i}"}
publishers: {rate_per_s: 40}
clients:
  - {name: ws, count: 8, transport: ws, channels_per_client: 2}
  - {name: sse, count: 4, transport: sse, channels_per_client: 1}
faults:
  - {name: slowlink, at: 1500ms, for: 2s, toxic: latency, attributes: {latency: 30}}
budgets:
  - published > 0
"""

LINE = re.compile(r"^ *([\d.]+)s/(\d+)s  connected (\d+)/(\d+)  msgs/s (\d+)  p95 ([\d.]+)ms  "
                  r"anomalies (\d+)  reconnects (\d+)(?:  \[fault ([^\]]+)\])?\x1b\[K$")


def run_in_pty(path, *extra):
    """Runs rtchaos with stderr (and stdout) on the slave side of a pty;
    returns (exit code, everything written to the terminal)."""
    master, slave = pty.openpty()
    out = os.path.join(ht.tmpdir(), "run")
    p = subprocess.Popen([ht.RTCHAOS, "run", path, "--out", out, *extra], stdin=subprocess.DEVNULL,
                         stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    data = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last writer closed the slave side
            break
        if not chunk:
            break
        data += chunk
    os.close(master)
    return p.wait(timeout=30), data.decode(errors="replace")


def main():
    path = os.path.join(ht.tmpdir(), "status-line.yaml")
    with open(path, "w") as f:
        f.write(SCENARIO)
    # the three runs share nothing (each its own server, ports and
    # terminal): side by side, checked in order
    (rc, text), quiet, plain = ht.side_by_side([(run_in_pty, (path,), {}), (run_in_pty, (path, "--quiet"), {}),
                                                (ht.run, (path,), {})])
    assert rc == 0, text
    # the status line's frames: everything between carriage returns up to the
    # newline that ends it (the pty turns \n into \r\n, hence the split)
    body = text.split("\r", 1)[1] if "\r" in text else ""
    frames = [f for f in re.split(r"\r\n?", body) if "connected" in f]
    parsed = [LINE.match(f) for f in frames]
    assert frames and all(parsed), [f for f, m in zip(frames, parsed) if not m][:3] or text
    vals = [(float(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), m[9]) for m in parsed]
    assert len(vals) >= 4, vals  # once a second over 6 s
    assert all(v[1] == 6 and v[3] == 12 for v in vals), vals  # planned 1 s + 5 s; 12 clients
    el = [v[0] for v in vals]
    assert el == sorted(el) and el[-1] >= 5.5, el
    assert max(v[2] for v in vals) == 12, vals  # every client connected
    assert max(v[4] for v in vals) > 0, vals  # messages flowing
    faulty = [v for v in vals if v[5]]
    assert faulty and all(v[5] == "slowlink" for v in faulty), vals
    # only while the fault is on (planned 2.5 s .. 4.5 s; its removal may lag on a loaded box)
    assert all(2.4 <= v[0] <= 5.5 for v in faulty), faulty
    assert any(v[0] > 5.4 and not v[5] for v in vals), vals  # and gone after it
    assert "\x1b[K\r\n" in text, "the last status line is not ended by a newline"
    print(f"{len(vals)} status lines, fault shown in {len(faulty)}: {vals}")

    # --quiet on a terminal, and a pipe: no status line
    rc, text = quiet
    assert rc == 0 and "connected" not in text and "\x1b[K" not in text, text
    r = plain
    assert r.rc == 0 and "\x1b[K" not in r.stderr and "connected " not in r.stderr, r.stderr
    print("ok")


if __name__ == "__main__":
    main()
