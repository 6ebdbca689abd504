#!/usr/bin/python3
"""proxy_npm_client — an existing Toxiproxy client library works against
rtchaos-proxy unchanged: the npm package toxiproxy-node-client (version
pinned in tests/package.json, installed into tests/node_modules by `npm ci`
when missing) creates, lists, updates and deletes proxies and toxics; the
test then checks the result through the API and real traffic."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import npmdeps  # noqa: E402
import proxytest as pt  # noqa: E402

TESTS = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def ensure_client():
    npmdeps.ensure("toxiproxy-node-client")


def main():
    ensure_client()
    up = pt.EchoServer()
    proc, api = pt.start_proxy("--seed", "3")
    r = subprocess.run(["node", os.path.join(TESTS, "lib", "proxy_npm_client.js"), api.base, str(up.port)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"node client failed:\n{r.stdout}\n{r.stderr}"
    out = json.loads(r.stdout.strip().splitlines()[-1])
    # the client reads /version as text: exactly what the API serves
    served = api.ok("GET", "/version")
    assert json.loads(out["version"]) == served and served["version"], (out["version"], served)
    assert out["latency_after_update"] == 80
    assert out["remaining_toxics"] == "latency_downstream"
    assert out["proxies"] == ["npm_echo"], out
    # after the client's reset: proxy enabled, no toxics, traffic is fast again
    p = api.ok("GET", "/proxies/npm_echo")
    assert p["enabled"] is True and p["toxics"] == [], p
    port = int(out["listen"].rsplit(":", 1)[1])
    s = pt.connect(port)
    t0 = time.monotonic()
    s.sendall(b"npm")
    assert pt.recv_exact(s, 3) == b"npm"
    s.close()
    assert time.monotonic() - t0 < 5
    acts = [e["action"] for e in pt.events(api)]
    assert acts.count("toxic_add") == 3 and "toxic_update" in acts and "reset" in acts, acts
    assert proc.stop() == 0
    print("proxy_npm_client: ok")


if __name__ == "__main__":
    main()
