"""soketitest — starts a real soketi (a Pusher Channels protocol 7 server,
npm @soketi/soketi pinned in tests/soketi/package-lock.json, installed by
`npm ci` through npmdeps) for the integration tests, on loopback only, and
always stops it.

soketi binds three things: the WebSocket + HTTP API server (`host`/`port`),
the metrics/usage server (`metrics.host`/`metrics.port`) and, always, its
cluster discovery (node-discover: UDP on `cluster.address`/`cluster.port`,
0.0.0.0 by default, sending hellos to a broadcast address). The generated
config puts all three on 127.0.0.1 with free ports and makes discovery
unicast to 127.0.0.1, so nothing listens on another interface and no
datagram leaves the machine. The server runs in a temporary folder so that
no .env of the working directory reaches it, and with no SOKETI_* variable
of the caller's environment (they override the config file)."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import npmdeps
import rtctest

SOKETI = os.path.join(npmdeps.SOKETI_DIR, "node_modules", "@soketi", "soketi", "bin", "server.js")

APP_ID = "rtchaos-app"
APP_KEY = "rtchaos-key"


def available():
    """Why soketi cannot run here, or None when it can."""
    if not shutil.which("node"):
        return "node is not installed (scripts/deps.sh installs nodejs)"
    return None


def _free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(pid):
    """The local addresses (ip, port, 'tcp'|'udp') process pid listens on, from `ss -lunptH`."""
    r = subprocess.run(["ss", "-lunptH"], capture_output=True, text=True, timeout=10)
    out = []
    for line in r.stdout.splitlines():
        if f"pid={pid}," not in line:
            continue
        f = line.split()
        host, port = f[4].rsplit(":", 1)
        out.append((host.strip("[]"), int(port), f[0]))
    return out


class Soketi:
    """A running soketi: .url (http://127.0.0.1:PORT), .port, .app_id, .key, .secret, .proc (Popen)."""

    def __init__(self, secret=None, app_id=APP_ID, key=APP_KEY):
        npmdeps.ensure("@soketi/soketi", where=npmdeps.SOKETI_DIR)
        self.app_id, self.key = app_id, key
        # a fresh secret per server: a test that finds it in a run folder found a leak
        self.secret = secret or os.urandom(12).hex()
        self.dir = tempfile.mkdtemp(prefix="rtchaos-soketi-", dir=os.environ.get("TMPDIR", "/tmp"))
        self.proc = None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOKETI_", "PUSHER_"))}
        # free ports may be taken between the probe and soketi's bind: try a few
        for _ in range(5):
            port, mport, uport = _free_port(), _free_port(), _free_port(socket.SOCK_DGRAM)
            conf = {
                "host": "127.0.0.1",
                "port": port,
                "metrics.host": "127.0.0.1",
                "metrics.port": mport,
                # discovery always runs: keep its UDP socket and its hellos on loopback
                "cluster.address": "127.0.0.1",
                "cluster.hostname": "127.0.0.1",
                "cluster.port": uport,
                "cluster.unicast": "127.0.0.1",
                "cluster.broadcast": "127.0.0.1",
                "appManager.array.apps": [{
                    "id": app_id, "key": key, "secret": self.secret, "maxConnections": -1,
                    "enableClientMessages": False, "enabled": True, "maxBackendEventsPerSecond": -1,
                    "maxClientEventsPerSecond": -1, "maxReadRequestsPerSecond": -1, "webhooks": [],
                }],
                "shutdownGracePeriod": 200,
            }
            path = os.path.join(self.dir, "soketi.json")
            with open(path, "w") as f:
                json.dump(conf, f)
            self.log_path = os.path.join(self.dir, "soketi.log")
            with open(self.log_path, "wb") as logf:
                p = subprocess.Popen(["node", SOKETI, "start", f"--config={path}"], cwd=self.dir, env=env,
                                     stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
            rtctest._children.append(p)
            if self._ready(p, port):
                self.proc, self.port = p, port
                self.url = f"http://127.0.0.1:{port}"
                return
            if p.poll() is None:
                p.kill()
            p.wait()
        raise AssertionError("soketi did not start; its log:\n" + self.log())

    def _ready(self, p, port, timeout=30.0):
        # the WebSocket/API server listens last (after metrics and discovery): its "OK" = ready
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if p.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                    if r.status == 200:
                        return True
            except OSError:
                time.sleep(0.1)
        return False

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-3000:]
        except (OSError, AttributeError):
            return "(no log)"

    def stop(self):
        """Stops soketi (SIGTERM, then SIGKILL) and removes its folder."""
        p = self.proc
        if p and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


TOTALS = ("published", "delivered", "expected", "lost", "missed_by_design", "duplicated", "reordered",
          "resync_ok", "resync_failed", "reconnects", "errors", "publish_failed", "gave_up")


def totals(r):
    """The figures of a run's report the pusher tests print and compare."""
    t = r.report["totals"]
    out = {k: t.get(k) for k in TOTALS}
    out["live_p50_us"] = r.report["latency_us"]["live"].get("p50")
    out["live_p95_us"] = r.report["latency_us"]["live"].get("p95")
    return out


def credentials(s, secret=None, key=None):
    """Puts the app's credentials in the environment (PUSHER_APP_ID/KEY/SECRET), where runs read them."""
    os.environ["PUSHER_APP_ID"] = s.app_id
    os.environ["PUSHER_KEY"] = key or s.key
    os.environ["PUSHER_SECRET"] = secret or s.secret


def no_secret_in(d, secret):
    """Fails when any file under d holds secret."""
    for root, _, files in os.walk(d):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                assert secret.encode() not in f.read(), f"the secret is written in {os.path.join(root, name)}"
