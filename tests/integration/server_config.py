#!/usr/bin/python3
"""rtchaos-server: configuration file (JSON) and flags. Settings from the file
apply, flags override the file, and a bad file (syntax, unknown key, wrong
type, out of range, missing) stops the server with exit 2 and a message that
names the problem."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import rtctest  # noqa: E402
from srvtest import Server  # noqa: E402

EXE = os.path.join(rtctest.BIN, "rtchaos-server")


def write(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    f.write(text)
    f.close()
    return f.name


def bad(text, needle):
    path = write(text)
    try:
        r = subprocess.run([EXE, "--config", path, "--port", "0"], capture_output=True, text=True,
                           timeout=10)
        assert r.returncode == 2, (text, r.returncode, r.stderr)
        assert needle in r.stderr, (text, needle, r.stderr)
        assert "listening" not in r.stdout
    finally:
        os.unlink(path)


def main():
    path = write(json.dumps({"history_max": 3, "policy": "coalesce", "port": 1,
                             "sse_retry_ms": 250, "channels": [{"pattern": "x.*", "priority": "low"}]}))
    srv = Server("--config", path, "--history-max", "4")  # --port 0 from Server overrides "port"
    try:
        for i in range(1, 11):
            srv.publish("c", i)
        ws = srv.ws()
        ws.send({"op": "sub", "ch": "c", "since": 6})
        assert ws.recv()["recovered"] is True  # 7..10 kept: the flag's 4, not the file's 3
        ws.send({"op": "sub", "ch": "c", "since": 5})
        assert ws.recv_until(lambda m: m.get("type") == "subscribed")[-1]["recovered"] is False
        sse = srv.sse("ch=c")
        sse.next_data()
        assert sse.retry == 250, sse.retry
        flags = srv.json("GET", "/admin/flags")
        assert flags["default_policy"] == "coalesce" and flags["rules"][0]["pattern"] == "x.*", flags
        ws.close()
        sse.close()
    finally:
        assert srv.stop() == 0
        os.unlink(path)
    bad("{\"history_max\": 5,,}", ":1:")
    bad("[1]", "must be a JSON object")
    bad("{\"histroy_max\": 5}", "unknown key \"histroy_max\"")
    bad("{\"history_max\": \"5\"}", "must be a number")
    bad("{\"history_max\": 0}", "--history-max")
    bad("{\"policy\": \"yolo\"}", "drop|coalesce|snapshot|disconnect")
    bad("{\"channels\": {}}", "channels")
    bad("{\"channels\": [{\"pattern\": \"a\", \"policy\": \"nope\"}]}", "policy")
    # the cost options: bounds, and deltas refused with Redis (another node
    # may have published the value a delta would be made against)
    bad("{\"batch_ms\": 5000}", "--batch-ms")
    bad("{\"delta_channels\": \"d.\", \"redis\": \"redis://127.0.0.1:1\"}", "--delta-channels cannot be used with --redis")
    r = subprocess.run([EXE, "--config", "/nonexistent/rtchaos.json"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "/nonexistent/rtchaos.json" in r.stderr, r
    print("ok")


if __name__ == "__main__":
    main()
