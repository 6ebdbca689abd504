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
import urllib.request

import daemontest
import npmdeps

SOKETI = os.path.join(npmdeps.SOKETI_DIR, "node_modules", "@soketi", "soketi", "bin", "server.js")

APP_ID = "rtchaos-app"
APP_KEY = "rtchaos-key"


def available():
    """Why soketi cannot run here, or None when it can."""
    if not shutil.which("node"):
        return "node is not installed (scripts/deps.sh installs nodejs)"
    return None


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
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOKETI_", "PUSHER_"))}
        path = os.path.join(self.dir, "soketi.json")

        def setup():
            port = daemontest.free_port()
            conf = {
                "host": "127.0.0.1",
                "port": port,
                "metrics.host": "127.0.0.1",
                "metrics.port": daemontest.free_port(),
                # discovery always runs: keep its UDP socket and its hellos on loopback
                "cluster.address": "127.0.0.1",
                "cluster.hostname": "127.0.0.1",
                "cluster.port": daemontest.free_port(socket.SOCK_DGRAM),
                "cluster.unicast": "127.0.0.1",
                "cluster.broadcast": "127.0.0.1",
                "appManager.array.apps": [{
                    "id": app_id, "key": key, "secret": self.secret, "maxConnections": -1,
                    "enableClientMessages": False, "enabled": True, "maxBackendEventsPerSecond": -1,
                    "maxClientEventsPerSecond": -1, "maxReadRequestsPerSecond": -1, "webhooks": [],
                }],
                "shutdownGracePeriod": 200,
            }
            with open(path, "w") as f:
                json.dump(conf, f)
            return ["node", SOKETI, "start", f"--config={path}"], port
        try:
            # node loads soketi's many modules first: on a loaded box (tests side by side, niced) that
            # has taken over 30 s; the deadline only bounds a server that never comes up
            self.d = daemontest.Daemon("soketi", setup, _serves, log=os.path.join(self.dir, "soketi.log"),
                                       cwd=self.dir, env=env, tries=3, timeout_s=60.0, step_s=0.1)
        except AssertionError:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self.proc, self.port = self.d.p, self.d.info
        self.url = f"http://127.0.0.1:{self.port}"

    def log(self):
        return self.d.log()

    def stop(self):
        """Stops soketi (SIGTERM: it must exit 0 within 10 s) and removes its folder."""
        try:
            self.d.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _serves(port):
    # the WebSocket/API server listens last (after metrics and discovery): its "OK" = ready
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


TOTALS = ("published", "delivered", "expected", "lost", "missed_by_design", "duplicated", "reordered",
          "resync_ok", "resync_failed", "reconnects", "errors", "publish_failed", "gave_up")


def totals(r):
    """The figures of a run's report the pusher tests print and compare."""
    t = r.report["totals"]
    out = {k: t.get(k) for k in TOTALS}
    out["live_p50_us"] = r.report["latency_us"]["live"].get("p50")
    out["live_p95_us"] = r.report["latency_us"]["live"].get("p95")
    return out


def credentials(s, secret=None, key=None, drop=()):
    """The environment a run reads the app's credentials from (PUSHER_APP_ID/KEY/SECRET): the
    test's own plus these; drop: names left out. Each run gets its own, so runs side by side
    may use different ones."""
    env = dict(os.environ, PUSHER_APP_ID=s.app_id, PUSHER_KEY=key or s.key, PUSHER_SECRET=secret or s.secret)
    for name in drop:
        env.pop(name, None)
    return env


def no_secret_in(d, secret):
    """Fails when any file under d holds secret."""
    for root, _, files in os.walk(d):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                assert secret.encode() not in f.read(), f"the secret is written in {os.path.join(root, name)}"
