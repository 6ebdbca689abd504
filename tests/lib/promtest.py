"""promtest — a real Prometheus (Debian package `prometheus`) for the
observability tests: started on a loopback port with a generated config and
a temporary storage folder, queried through its HTTP API, always reaped.
Also: free loopback ports, a Prometheus text-format parser, promtool."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import rtctest

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def free_port():
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def promtool(*args, stdin=None):
    """Runs promtool; returns (rc, stdout+stderr)."""
    p = subprocess.run([PROMTOOL, *args], input=stdin, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def parse_text(text):
    """{'name{labels}': float} for every sample line of a Prometheus text page."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"bad exposition line: {line!r}"
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def scrape(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


class Prometheus:
    """A running Prometheus scraping `jobs` ({job: [host:port, …]}) every
    interval. .url, .query(expr), .stop()."""

    def __init__(self, jobs, interval="1s"):
        self.dir = tempfile.mkdtemp(prefix="rtchaos-prom-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = ["global:", f"  scrape_interval: {interval}", f"  scrape_timeout: {interval}",
               f"  evaluation_interval: {interval}", "scrape_configs:"]
        for job, targets in jobs.items():
            cfg += [f"  - job_name: {job}", "    static_configs:",
                    "      - targets: [" + ", ".join(f'"{t}"' for t in targets) + "]"]
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write("\n".join(cfg) + "\n")
        os.makedirs(rtctest.LOGDIR, exist_ok=True)
        self.log = os.path.join(rtctest.LOGDIR, f"prometheus-{os.getpid()}.stderr")
        self.p = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.config}", f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1h",
             "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"))
        rtctest._children.append(self.p)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.p.poll() is None, f"prometheus exited rc={self.p.returncode}: {self.stderr()[-2000:]}"
            try:
                if urllib.request.urlopen(self.url + "/-/ready", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("prometheus not ready within 30 s: " + self.stderr()[-2000:])

    def stderr(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def api(self, path, **params):
        q = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{q}", timeout=15) as r:
            d = json.load(r)
        assert d["status"] == "success", d
        return d["data"]

    def query(self, expr):
        """Instant query: [(labels dict, float)] ([] when no series)."""
        data = self.api("query", query=expr)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def value(self, expr):
        """The single value of an instant query (AssertionError if not one series)."""
        r = self.query(expr)
        assert len(r) == 1, f"{expr}: expected one series, got {r}"
        return r[0][1]

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
