#!/usr/bin/python3
"""proxy_api — the Toxiproxy-compatible control API of rtchaos-proxy: shapes,
status codes and error bodies, --config, /version, /events, /metrics."""
import json
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import proxytest as pt  # noqa: E402
import rtctest  # noqa: E402


def main():
    up = pt.EchoServer()
    cfg = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump([{"name": "cfg_a", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{up.port}"},
               {"name": "cfg_b", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{up.port}",
                "toxics": [{"type": "latency", "attributes": {"latency": 1}}]}], cfg)
    cfg.close()
    evfile = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)
    evfile.close()
    proc, api = pt.start_proxy("--config", cfg.name, "--seed", "7", "--events", evfile.name, ready_lines=3)
    os.unlink(cfg.name)
    assert proc.lines[1].startswith("proxy cfg_a 127.0.0.1:"), proc.lines
    assert proc.lines[2].startswith("proxy cfg_b 127.0.0.1:"), proc.lines
    lst = api.ok("GET", "/proxies")
    assert set(lst) == {"cfg_a", "cfg_b"}
    assert lst["cfg_b"]["toxics"][0]["name"] == "latency_downstream"

    # create: 201 with the ephemeral port echoed; 409 when it exists
    body = {"name": "p1", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{up.port}"}
    p1 = api.ok("POST", "/proxies", body, want=201)
    assert p1["name"] == "p1" and p1["enabled"] is True and p1["toxics"] == []
    port = int(p1["listen"].rsplit(":", 1)[1])
    assert port > 0
    st, err = api.call("POST", "/proxies", body)
    assert st == 409 and err == {"error": "proxy already exists", "status": 409}, (st, err)
    st, err = api.call("POST", "/proxies", {"name": "x"})
    assert st == 400 and "upstream" in err["error"] and err["status"] == 400, err
    st, err = api.call("POST", "/proxies", raw=b"{not json")
    assert st == 400 and err["error"].startswith("bad request body"), err
    st, err = api.call("POST", "/proxies", {"name": "y", "upstream": "nohostport"})
    assert st == 400, (st, err)
    st, err = api.call("GET", "/proxies/nope")
    assert st == 404 and err["error"] == "proxy not found", err

    # traffic passes
    s = pt.connect(port)
    s.sendall(b"ping")
    assert pt.recv_exact(s, 4) == b"ping"
    s.close()

    # disable: connections refused; enable again: they work (PATCH and POST alias)
    out = api.ok("PATCH", "/proxies/p1", {"enabled": False})
    assert out["enabled"] is False
    try:
        pt.connect(port, timeout=3).close()
        raise AssertionError("disabled proxy accepted a connection")
    except (ConnectionRefusedError, socket.timeout):
        pass
    out = api.ok("POST", "/proxies/p1", {"enabled": True})
    assert out["enabled"] is True
    s = pt.connect(port)
    s.sendall(b"again")
    assert pt.recv_exact(s, 5) == b"again"
    s.close()

    # a new listen address restarts the proxy there; the old port is closed
    out = api.ok("PATCH", "/proxies/p1", {"listen": "127.0.0.1:0"})
    new_port = int(out["listen"].rsplit(":", 1)[1])
    assert new_port != port
    try:
        pt.connect(port, timeout=3).close()
        raise AssertionError("old listen port still accepts")
    except (ConnectionRefusedError, socket.timeout):
        pass
    port = new_port
    s = pt.connect(port)
    s.sendall(b"moved")
    assert pt.recv_exact(s, 5) == b"moved"
    s.close()
    st, err = api.call("PATCH", "/proxies/p1", {"upstream": "no-port-here"})
    assert st == 400, (st, err)
    st, err = api.call("PATCH", "/proxies/p1", {"enabled": "yes"})
    assert st == 400, (st, err)

    # toxics: POST answers 200 with the default name <type>_<stream>
    t = api.ok("POST", "/proxies/p1/toxics", {"type": "latency", "attributes": {"latency": 10, "jitter": 2}})
    assert t == {"attributes": {"latency": 10, "jitter": 2}, "name": "latency_downstream",
                 "type": "latency", "stream": "downstream", "toxicity": 1.0}, t
    t = api.ok("POST", "/proxies/p1/toxics", {"type": "bandwidth", "stream": "upstream", "name": "bw",
                                               "toxicity": 0.5, "attributes": {"rate": 1000}})
    assert t["name"] == "bw" and t["stream"] == "upstream" and t["toxicity"] == 0.5
    st, err = api.call("POST", "/proxies/p1/toxics", {"type": "latency"})
    assert st == 409 and err["error"] == "toxic already exists", err
    for bad in ({"type": "nonexistent"}, {"type": "latency", "stream": "both"},
                {"type": "latency", "name": "l2", "attributes": {"latency": -3}},
                {"type": "latency", "name": "l3", "attributes": {"latency": "soon"}},
                {"type": "latency", "name": "l4", "toxicity": 7},
                {"type": "slicer", "attributes": {"average_size": 0}}):
        st, err = api.call("POST", "/proxies/p1/toxics", bad)
        assert st == 400 and err["status"] == 400 and err["error"], (bad, st, err)
    st, err = api.call("POST", "/proxies/p1/toxics", raw=b"[1,2")
    assert st == 400, (st, err)
    lst = api.ok("GET", "/proxies/p1/toxics")
    assert [x["name"] for x in lst] == ["bw", "latency_downstream"], lst  # upstream first
    assert api.ok("GET", "/proxies/p1/toxics/bw")["attributes"] == {"rate": 1000}
    up_t = api.ok("PATCH", "/proxies/p1/toxics/bw", {"attributes": {"rate": 2000}})
    assert up_t["attributes"]["rate"] == 2000 and up_t["toxicity"] == 0.5
    up_t = api.ok("POST", "/proxies/p1/toxics/bw", {"toxicity": 1.0})
    assert up_t["toxicity"] == 1.0 and up_t["attributes"]["rate"] == 2000
    st, err = api.call("PATCH", "/proxies/p1/toxics/bw", {"attributes": {"rate": "fast"}})
    assert st == 400, (st, err)
    assert api.ok("GET", "/proxies/p1/toxics/bw")["attributes"]["rate"] == 2000
    api.ok("POST", "/proxies/p1/toxics", {"type": "disconnect", "name": "dc", "attributes": {"after_bytes": 100000}})
    st, err = api.call("PATCH", "/proxies/p1/toxics/dc", {"attributes": {"after_messages": 3, "mode": "explode"}})
    assert st == 400 and "mode" in err["error"], (st, err)  # all or nothing
    assert api.ok("GET", "/proxies/p1/toxics/dc")["attributes"] == {"protocol": "none", "mode": "close",
                                                                     "after_bytes": 100000}
    up_t = api.ok("PATCH", "/proxies/p1/toxics/dc", {"attributes": {"protocol": "ws", "after_messages": 3}})
    assert up_t["attributes"] == {"protocol": "ws", "mode": "close", "after_bytes": 100000,
                                  "after_messages": 3}, up_t
    st, _ = api.call("DELETE", "/proxies/p1/toxics/dc")
    assert st == 204
    st, err = api.call("GET", "/proxies/p1/toxics/zzz")
    assert st == 404 and err["error"] == "toxic not found", err
    st, _ = api.call("DELETE", "/proxies/p1/toxics/bw")
    assert st == 204
    st, _ = api.call("DELETE", "/proxies/p1/toxics/bw")
    assert st == 404

    # populate: 201 {"proxies":[...]}; same addresses keep the proxy (and its toxics)
    pop = api.ok("POST", "/populate", [{"name": "p1", "listen": f"127.0.0.1:{port}", "upstream": p1["upstream"]},
                                       {"name": "p2", "listen": "127.0.0.1:0",
                                        "upstream": f"127.0.0.1:{up.port}", "enabled": False}], want=201)
    assert [p["name"] for p in pop["proxies"]] == ["p1", "p2"]
    assert pop["proxies"][0]["toxics"], "populate replaced an unchanged proxy"
    assert pop["proxies"][1]["enabled"] is False
    st, err = api.call("POST", "/populate", [{"name": "p3"}])
    assert st == 400 and "upstream" in err["error"], (st, err)

    # reset: every proxy enabled, every toxic gone
    st, _ = api.call("POST", "/reset")
    assert st == 204
    lst = api.ok("GET", "/proxies")
    assert all(p["enabled"] and p["toxics"] == [] for p in lst.values()), lst

    st, _ = api.call("DELETE", "/proxies/p2")
    assert st == 204
    assert "p2" not in api.ok("GET", "/proxies")
    assert "version" in api.ok("GET", "/version")

    # events and metrics
    evs = api.ok("GET", "/events?since=0")
    acts = [e["action"] for e in evs["events"]]
    assert acts[0] == "start" and evs["events"][0]["seed"] == "7"
    assert "toxic_add" in acts and "toxic_remove" in acts and "reset" in acts
    assert all(e["i"] == k for k, e in enumerate(evs["events"]))
    later = api.ok("GET", f"/events?since={evs['next']}")
    assert later["events"] == [] and later["next"] == evs["next"]
    by_time = api.ok("GET", f"/events?since={evs['events'][3]['t_us']}")
    assert by_time["events"][0]["t_us"] >= evs["events"][3]["t_us"]
    st, _ = api.call("GET", "/events?since=abc")
    assert st == 400
    st, text = api.call("GET", "/metrics")
    assert st == 200 and 'rtchaos_proxy_connections_total{proxy="p1"} 3' in text, text
    # hostile API input: random paths, methods and bodies never bring it down
    import random
    rnd = random.Random(5)
    junk = [b"", b"{", b"[]", b"null", b"{\"name\":1}", b"\xff\xfe", b"{\"type\":\"latency\",\"attributes\":{\"latency\":1e309}}",
            json.dumps({"type": "ws", "attributes": {"action": "close", "code": 99999}}).encode(),
            json.dumps({"name": "x" * 5000, "upstream": "127.0.0.1:1"}).encode(),
            json.dumps([{"name": "q", "upstream": "127.0.0.1:1", "toxics": [{"type": "nope"}]}]).encode()]
    paths = ["/proxies", "/proxies/p1", "/proxies/p1/toxics", "/proxies/p1/toxics/x", "/populate", "/reset",
             "/proxies/%2e%2e", "/proxies/p1/toxics/a/b/c", "/events?since=-1", "/events?limit=0", "//", "/proxies/"]
    for _ in range(300):
        st, _ = api.call(rnd.choice(["GET", "POST", "PATCH", "DELETE", "PUT"]), rnd.choice(paths),
                         raw=rnd.choice(junk))
        assert st < 600
    assert proc.p.poll() is None
    assert api.ok("GET", "/version")

    st, _ = api.call("GET", "/nothing/here")
    assert st == 404
    st, _ = api.call("PUT", "/proxies")
    assert st == 405
    assert proc.stop() == 0
    # the events file holds the same lines as /events, one JSON object each
    with open(evfile.name) as f:
        lines = [json.loads(x) for x in f]
    os.unlink(evfile.name)
    assert [e["i"] for e in lines] == list(range(len(lines))) and len(lines) >= len(evs["events"])
    assert all({"i", "t_us", "action"} <= set(e) for e in lines)
    assert any(e["action"] == "toxic_add" and e["proxy"] == "p1" and e["toxic"] == "bw" for e in lines)
    # bad command lines and bad config files: exit 2 with a message
    for args in (["--api-port", "70000"], ["--seed", "x"], ["--bogus"]):
        r = subprocess.run([os.path.join(rtctest.BIN, "rtchaos-proxy"), *args], capture_output=True, timeout=10)
        assert r.returncode == 2 and r.stderr, (args, r)
    bad = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    bad.write('[{"name": "x"}]')
    bad.close()
    r = subprocess.run([os.path.join(rtctest.BIN, "rtchaos-proxy"), "--api-port", "0", "--config", bad.name],
                       capture_output=True, timeout=10)
    os.unlink(bad.name)
    assert r.returncode == 2 and b"upstream" in r.stderr, r
    print("proxy_api: ok")


if __name__ == "__main__":
    main()
