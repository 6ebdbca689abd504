#!/usr/bin/python3
"""deploy/: the Grafana dashboard and the Prometheus alerting rules are
checked against what the binaries really export. The test scrapes
rtchaos-server's /metrics, a brokered rtchaos-server's (--redis, against a
real redis-server: the broker metrics exist only there) and a short harness
run's --metrics-addr endpoint, then: the dashboard has Grafana's shape (panels, grid, targets, variables);
every metric (and every label value it selects) named by a dashboard query
or an alert rule is exported; every query parses in a real Prometheus;
`promtool check rules` and `promtool test rules` pass; every alert has a
unit test where it fires and one where it does not; every alert's runbook
exists and links the alert back."""
import json
import os
import re
import subprocess
import sys
import time

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as H  # noqa: E402
import promtest as P  # noqa: E402
import rtctest  # noqa: E402
from redistest import Redis  # noqa: E402
from srvtest import Server  # noqa: E402

ROOT = rtctest.ROOT
DASH = os.path.join(ROOT, "deploy", "grafana", "rtchaos-dashboard.json")
RULES = os.path.join(ROOT, "deploy", "prometheus", "rules.yml")
RULES_TEST = os.path.join(ROOT, "deploy", "prometheus", "rules_test.yml")


def families(text):
    """{family: type} and [(name, {label: value})] samples of a Prometheus page."""
    types, samples = {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split()
            types[name] = typ
        elif line and not line.startswith("#"):
            m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ', line)
            labels = dict(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            samples.append((m.group(1), labels))
    return types, samples


def brokered():
    """(types, samples) of a brokered node (--redis): rtchaos_broker_*."""
    redis = Redis()
    node = Server("--redis", redis.url)
    try:
        node.publish("deploy.check", {"n": 1})
        text = node.request("GET", "/metrics")[2].decode()
        assert "rtchaos_broker_lag_seconds_bucket" in text, "a --redis node exports no broker lag"
        return families(text)
    finally:
        node.stop()
        redis.close()


def exported():
    """Scrapes the server, a brokered node and a short harness run; returns (types, samples)."""
    types, samples = brokered()
    srv = Server()
    try:
        t1, s1 = families(srv.request("GET", "/metrics")[2].decode())
        types.update(t1)
        samples += s1
        mport = P.free_port()
        out = os.path.join(H.tmpdir(), "run")
        p = subprocess.Popen([H.RTCHAOS, "run", os.path.join(H.SCEN, "smoke.yaml"), "--out", out, "--target",
                              f"http://127.0.0.1:{srv.port}", "--set", "duration=2s", "--set", "warmup=1s",
                              "--metrics-addr", f"127.0.0.1:{mport}", "--metrics-linger", "20s", "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        try:
            page = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and p.poll() is None:
                try:
                    page = P.scrape(f"http://127.0.0.1:{mport}/metrics")
                    if "rtchaos_harness_finished 1" in page:
                        break
                except OSError:
                    pass
                time.sleep(0.2)
            assert page and "rtchaos_harness_finished 1" in page, "no final harness page"
        finally:
            p.terminate()  # ends the linger early: the run exits 0 or 3, either way its report is written
            p.wait(timeout=30)
        t2, s2 = families(page)
        types.update(t2)
        samples += s2
        return types, samples
    finally:
        srv.stop()


SEL = re.compile(r'\b(rtchaos_[a-z0-9_]+)\b(\{[^}]*\})?')


def check_expr(expr, types, samples, where):
    """Every rtchaos_ metric of expr is exported, and every label value its
    selector matches exactly (or lists in a plain alternation) exists."""
    found = SEL.findall(expr)
    assert found, f"{where}: no rtchaos metric in {expr!r}"
    for name, sel in found:
        fam = name
        if name not in types:
            fam = re.sub(r"_(bucket|sum|count)$", "", name)
            assert types.get(fam) == "histogram", f"{where}: {name} is not exported by the binaries"
        for label, op, value in re.findall(r'([a-zA-Z_]+)\s*(=~|!=|!~|=)\s*"([^"]*)"', sel or ""):
            if op not in ("=", "=~") or "$" in value or label == "le":
                continue
            alts = value.split("|") if op == "=~" else [value]
            if op == "=~" and any(re.search(r"[.*+?()\[\]]", a) for a in alts):
                continue
            have = {lab.get(label) for n, lab in samples if n == name}
            for a in alts:
                assert a in have, f"{where}: {name}{{{label}=\"{a}\"}} is never exported (have {sorted(map(str, have))})"


def check_dashboard(types, samples, prom):
    with open(DASH) as f:
        d = json.load(f)
    for k in ("title", "uid", "schemaVersion", "panels", "templating", "time"):
        assert k in d, f"dashboard: no {k}"
    assert isinstance(d["schemaVersion"], int) and isinstance(d["panels"], list) and d["panels"]
    var_names = {v["name"] for v in d["templating"]["list"]}
    assert "datasource" in var_names
    ids, exprs = set(), []
    for p in d["panels"]:
        assert p["id"] not in ids, f"duplicate panel id {p['id']}"
        ids.add(p["id"])
        assert p["type"] in ("row", "timeseries", "stat", "gauge", "table", "text"), p["type"]
        g = p["gridPos"]
        assert all(isinstance(g[k], int) for k in "hwxy") and g["x"] + g["w"] <= 24, p["title"]
        assert p.get("title")
        if p["type"] == "row":
            continue
        assert p["datasource"]["type"] == "prometheus"
        assert p["targets"], f"panel {p['title']!r} has no query"
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), p["title"]
        for t in p["targets"]:
            assert t["expr"].strip()
            for v in re.findall(r"\$(\w+)", t["expr"]):
                assert v in var_names or v.startswith("__"), f"{p['title']}: unknown variable ${v}"
            exprs.append((p["title"], t["expr"]))
    for v in d["templating"]["list"]:
        if v["type"] == "query":
            exprs.append((f"variable {v['name']}", v["definition"]))
    for title, e in exprs:
        m = re.match(r"label_values\((\w+),\s*(\w+)\)", e)
        if m:  # a Grafana variable query: its metric must be exported
            assert m.group(1) in types, f"{title}: {m.group(1)} is not exported"
            continue
        check_expr(e, types, samples, f"dashboard panel {title!r}")
        q = e.replace("$__rate_interval", "1m").replace("$job", ".*").replace("$run", ".*")
        prom.api("query", query=q)  # raises on a parse error (status 400)
    print(f"ok dashboard: {len(d['panels'])} panels, {len(exprs)} queries, every metric exported")


def check_rules(types, samples):
    rc, out = P.promtool("check", "rules", RULES)
    assert rc == 0, out
    rc, out = P.promtool("test", "rules", RULES_TEST)
    assert rc == 0, out
    with open(RULES) as f:
        rules = yaml.safe_load(f)
    with open(RULES_TEST) as f:
        tests = yaml.safe_load(f)
    fires, quiet = set(), set()
    for t in tests["tests"]:
        for a in t.get("alert_rule_test", []):
            (fires if a.get("exp_alerts") else quiet).add(a["alertname"])
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert len(alerts) >= 6
    for r in alerts:
        name = r["alert"]
        assert name in fires, f"{name}: no unit test where it fires"
        assert name in quiet, f"{name}: no unit test where it stays quiet"
        check_expr(r["expr"], types, samples, f"alert {name}")
        rb = os.path.join(ROOT, r["annotations"]["runbook_url"])
        assert os.path.exists(rb), f"{name}: runbook {rb} does not exist"
        with open(rb) as f:
            assert name in f.read(), f"{name}: {r['annotations']['runbook_url']} does not name the alert"
    # and the other way: every runbook is where some alert sends people, and
    # says which at the top
    rb_dir = os.path.join(ROOT, "docs", "runbooks")
    sent_to = {os.path.normpath(r["annotations"]["runbook_url"]) for r in alerts}
    for name in sorted(os.listdir(rb_dir)):
        rel = os.path.join("docs", "runbooks", name)
        assert rel in sent_to, f"{rel}: no alert in rules.yml sends people to it (runbook_url)"
        with open(os.path.join(rb_dir, name)) as f:
            head = f.read(3000)
        assert "Alerts that send you here:" in head, f"{rel}: no 'Alerts that send you here:' line at the top"
    print(f"ok rules: {len(alerts)} alerts, each fires and stays quiet in promtool unit tests, runbooks link back, "
          f"every runbook has an alert")


def main():
    types, samples = exported()
    check_rules(types, samples)
    prom = P.Prometheus({"self": ["127.0.0.1:1"]})
    try:
        check_dashboard(types, samples, prom)
    finally:
        prom.stop()


if __name__ == "__main__":
    main()
