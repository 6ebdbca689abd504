#!/usr/bin/python3
"""harness_validate: `rtchaos validate` accepts every shipped scenario,
reports every error of a bad file as file:line:col with what was expected,
exits 2 on any error, and honours --set and --target."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import rtctest  # noqa: E402

RTCHAOS = os.path.join(rtctest.BIN, "rtchaos")
SCEN = os.path.join(rtctest.ROOT, "scenarios")


def validate(*args):
    p = subprocess.run([RTCHAOS, "validate", *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def main():
    shipped = sorted(os.path.join(SCEN, f) for f in os.listdir(SCEN) if f.endswith(".yaml"))
    assert len(shipped) >= 6, shipped
    rc, out, err = validate(*shipped)
    assert rc == 0, (rc, out, err)
    assert out.count(": ok: ") == len(shipped), out

    bad = (
        "name: bad\n"
        "duration: 10s\n"
        "chanels: 3\n"
        "clients:\n"
        "  - {count: 10, transport: websocket}\n"
        "faults:\n"
        "  - {at: 12s, toxic: latency}\n"
        "  - {at: 2s, for: 3s, server: kill}\n"
        "budgets:\n"
        "  - p95_lve_ms <= 50\n"
    )
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bad.yaml")
        with open(path, "w") as f:
            f.write(bad)
        rc, out, err = validate(path)
        assert rc == 2, (rc, err)
        lines = err.strip().split("\n")
        want = [
            f"{path}:3:1: unknown key 'chanels' in the scenario (did you mean 'channels'?)",
            f"{path}:5:28: unknown value 'websocket'; expected one of ws, sse, poll",
            f"{path}:7:10: faults[0]: starts at 12.000s, beyond the duration (10.000s): expected at < duration",
            f"{path}:10:5: unknown budget metric 'p95_lve_ms' (did you mean 'p95_live_ms'?)",
        ]
        assert lines == want, "\n".join(lines)

        # server: {nodes, redis, balance} and the node / Redis faults.
        nodes_cases = [
            ("server: {nodes: 17, redis: auto}\n", ["3:17: 17 is out of range: expected an integer from 1 to 16"]),
            ("server: {nodes: 3}\n", ["3:9: server: 'nodes' needs 'redis: auto' (the nodes share channels "
                                      "through the harness's own redis-server) or 'redis: none' (independent "
                                      "nodes, sticky routing)"]),
            # sticky nodes number events each their own way: only the publisher's record can judge them
            ("server: {nodes: 2, redis: none}\n",
             ["3:9: server: {redis: none}: independent nodes number the same event differently; the default "
              "protocol v1 judges by the server's seq, so give a protocol judged by the publisher's record "
              "(target.protocol: sse or ws-json, docs/targets.md)"]),
            ("server: {nodes: 1, redis: none}\n",
             ["3:9: server: 'redis: none' needs 'nodes' above 1 (independent nodes; one node is the plain server)",
              "3:9: server: {redis: none}: independent nodes number the same event differently; the default "
              "protocol v1 judges by the server's seq, so give a protocol judged by the publisher's record "
              "(target.protocol: sse or ws-json, docs/targets.md)"]),
            ("server: {nodes: 2, redis: none}\nfaults:\n  - {at: 2s, server: redis-kill}\n"
             "target: {protocol: ws-json, sub_path: /ws, pub_path: '/publish/{ch}', sub_message: 'sub {ch}'}\n",
             ["5:14: faults[0]: a Redis fault needs 'server: {redis: auto}'"]),
            ("server: {redis: auto, balance: leastconn}\n",
             ["3:9: server: 'balance' needs 'nodes' above 1 (it picks among the nodes)"]),
            ("server: {nodes: 1, redis: auto}\nfaults:\n  - {at: 1s, server: kill-node}\n",
             ["5:14: faults[0]: 'server: kill-node' needs 'server: {nodes: N}' with N > 1 (the other nodes keep "
              "serving)"]),
            ("server: {nodes: 2, redis: auto}\nfaults:\n  - {at: 1s, server: kill-node, node: 5}\n",
             ["5:39: faults[0]: node 5: expected 0..1 or random"]),
            ("faults:\n  - {at: 2s, for: 1s, server: redis-pause}\n",
             ["4:23: faults[0]: a Redis fault needs 'server: {redis: auto}'"]),
        ]
        for body, want_n in nodes_cases:
            npath = os.path.join(d, "nodes.yaml")
            with open(npath, "w") as f:
                f.write("name: n\nduration: 5s\n" + body + "clients: [{count: 1}]\n")
            rc, out, err = validate(npath)
            assert rc == 2, (rc, body, err)
            assert err.strip().split("\n") == [f"{npath}:{w}" for w in want_n], (body, err)
        good_nodes = os.path.join(d, "nodes.yaml")
        with open(good_nodes, "w") as f:
            f.write("name: n\nduration: 5s\nserver: {nodes: 3, redis: auto, balance: leastconn}\n"
                    "clients: [{count: 1}]\nfaults:\n  - {at: 1s, for: 1s, server: pause-node, node: random}\n"
                    "  - {at: 3s, server: redis-restart}\n  - {at: 4s, disconnect: 0.5}\n")
        rc, out, err = validate(good_nodes)
        assert rc == 0, (rc, err)  # a storm (disconnect) beside node faults is no server-process fault

        # --target refuses server-process faults; the other errors stay.
        rc, out, err = validate("--target", "http://127.0.0.1:9", path)
        assert rc == 2
        assert f"{path}:8:23: faults[1]: 'server: kill' acts on the server's process" in err, err

        # --set fixes a file; a bad --set names itself.
        good = os.path.join(SCEN, "smoke.yaml")
        rc, out, err = validate("--set", "clients.0.count=5", "--set", "duration=3s", good)
        assert rc == 0, err
        assert "smoke, 3s, 45 clients" in out, out
        rc, out, err = validate("--set", "clients.0.count=lots", good)
        assert rc == 2
        assert err.strip() == ("--set clients.0.count=lots: expected an integer from 1 to 1000000, "
                               "got 'lots'"), err

        # A missing file and a YAML syntax error.
        rc, out, err = validate(os.path.join(d, "nope.yaml"))
        assert rc == 2 and "nope.yaml: cannot open: No such file or directory" in err, err
        with open(path, "w") as f:
            f.write("duration: 5s\nclients: [\n")
        rc, out, err = validate(path)
        assert rc == 2 and err.startswith(f"{path}:3:1: invalid YAML:"), err

    # Command-line errors exit 2 too.
    rc, out, err = validate()
    assert rc == 2 and "expected at least one scenario file" in err
    p = subprocess.run([RTCHAOS, "frobnicate"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "unknown command 'frobnicate'" in p.stderr
    print("ok")


if __name__ == "__main__":
    main()
