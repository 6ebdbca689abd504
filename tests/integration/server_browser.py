#!/usr/bin/python3
"""rtchaos-server in a real browser: headless Chromium loads a page (served by
the server's --static) whose EventSource and WebSocket receive events; the
server then closes both (POST /admin/kick) while more events are published;
the EventSource reconnects by itself with Last-Event-ID, the WebSocket page
code reconnects with since+epoch; the test asserts every event arrived exactly
once, in order, and that both resumes were recovered from history. Then CORS
as the browser enforces it: a JSON POST from the page's origin to a server
whose --cors-origin is that origin passes its preflight (and a cross-origin
EventSource works); to one whose --cors-origin is another, the browser never
sends the POST.
Chromium is driven over the DevTools protocol with Python `websockets`."""
import asyncio
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import rtctest  # noqa: E402
from srvtest import Server  # noqa: E402
import websockets  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PAGE_DIR = os.path.join(rtctest.ROOT, "tests", "fixtures", "server")


def start_chromium(url, profile):
    p = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                          "--no-first-run", "--disable-background-networking",
                          "--disable-component-update", "--disable-sync",
                          f"--user-data-dir={profile}", "--remote-debugging-port=0",
                          "--remote-debugging-address=127.0.0.1", url],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, process_group=0)
    deadline = time.monotonic() + 60
    buf = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stderr], [], [], 1.0)
        if r:
            chunk = os.read(p.stderr.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            m = re.search(rb"DevTools listening on (ws://127\.0\.0\.1:(\d+)/\S+)", buf)
            if m:
                return p, int(m.group(2))
    kill_group(p)
    raise AssertionError(f"chromium did not start: {buf[-1000:]!r}")


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait(timeout=10)


class Page:
    def __init__(self, ws):
        self.ws, self.n = ws, 0

    async def eval(self, expr):
        self.n += 1
        await self.ws.send(json.dumps({"id": self.n, "method": "Runtime.evaluate",
                                       "params": {"expression": expr, "returnByValue": True}}))
        while True:
            m = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
            if m.get("id") == self.n:
                return m["result"]["result"].get("value")

    async def wait(self, expr, what, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.eval(expr):
                return
            await asyncio.sleep(0.1)
        state = await self.eval("JSON.stringify(state)")
        raise AssertionError(f"browser: timed out waiting for {what}; state={state[:2000]}")


CORS_JS = """
window.cors = {};
(async () => {
  for (const [k, u] of [["allowed", %r], ["denied", %r]]) {
    try {
      const r = await fetch(u + "/publish/cors", {method: "POST",
        headers: {"content-type": "application/json"}, body: JSON.stringify({data: "x"})});
      cors[k] = "status " + r.status + " " + await r.text();
    } catch (e) { cors[k] = "error " + e.name; }
  }
  const es = new EventSource(%r + "/sse?ch=cors");
  es.onmessage = e => { cors.sse = JSON.parse(e.data).type; es.close(); };
  es.onerror = () => { cors.sse = cors.sse || "error"; };
})();
true
"""


async def drive_cors(p, allowed, denied):
    """From the page's origin, a JSON POST (which a browser sends only after
    a CORS preflight) to a server whose --cors-origin is that origin, and to
    one whose is not; and a cross-origin EventSource. Returns window.cors."""
    await p.eval(CORS_JS % (allowed, denied, allowed))
    await p.wait("cors.allowed && cors.denied && cors.sse", "the cross-origin requests", timeout=30)
    return json.loads(await p.eval("JSON.stringify(cors)"))


async def drive(srv, devtools_port, cors=None):
    page_url = None
    for _ in range(100):
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{devtools_port}/json/list", timeout=10).read())
        pages = [t for t in targets if t.get("type") == "page" and "browser.html" in t.get("url", "")]
        if pages:
            page_url = pages[0]["webSocketDebuggerUrl"]
            break
        await asyncio.sleep(0.1)
    assert page_url, "the test page did not open"
    async with websockets.connect(page_url, max_size=None) as dws:
        p = Page(dws)
        await p.wait("window.state && state.sse.length >= 1 && state.ws.length >= 1", "both subscribed")
        for i in range(1, 11):
            srv.publish("b", {"i": i})
        await p.wait("state.sse.filter(d => d.type === 'event').length === 10 && "
                     "state.ws.filter(d => d.type === 'event').length === 10", "events 1..10")
        kicked = srv.json("POST", "/admin/kick")
        assert kicked["kicked"] == 2, kicked
        for i in range(11, 21):  # published while both are disconnected (or reconnecting)
            srv.publish("b", {"i": i})
        await p.wait("state.sseOpens >= 2 && state.wsOpens >= 2", "both reconnected")
        await p.wait("state.sse.filter(d => d.type === 'event').length >= 20 && "
                     "state.ws.filter(d => d.type === 'event').length >= 20", "events 11..20")
        for i in range(21, 26):  # and live again after the resume
            srv.publish("b", {"i": i})
        await p.wait("state.sse.filter(d => d.type === 'event').length >= 25 && "
                     "state.ws.filter(d => d.type === 'event').length >= 25", "events 21..25")
        state = json.loads(await p.eval("JSON.stringify(state)"))
        if cors:
            state["cors"] = await drive_cors(p, *cors)
        return state


def main():
    static = tempfile.mkdtemp(prefix="rtchaos-static-")
    shutil.copy(os.path.join(PAGE_DIR, "browser.html"), static)
    profile = tempfile.mkdtemp(prefix="rtchaos-chromium-")
    srv = Server("--static", static, "--sse-retry-ms", "300")
    origin = f"http://127.0.0.1:{srv.port}"
    # CORS: one server that allows the page's origin, one that allows another
    ok_srv = Server("--cors-origin", origin, name="server-cors-ok")
    no_srv = Server("--cors-origin", "http://elsewhere.example", name="server-cors-no")
    chrome = None
    try:
        chrome, dport = start_chromium(f"{origin}/static/browser.html", profile)
        state = asyncio.run(asyncio.wait_for(drive(srv, dport, (f"http://127.0.0.1:{ok_srv.port}",
                                                                f"http://127.0.0.1:{no_srv.port}")), 120))
        cors = state["cors"]
        # the preflight passed and the POST was made; its answer readable by the page
        assert cors["allowed"].startswith("status 200 ") and '"seq":1' in cors["allowed"], cors
        assert cors["sse"] == "subscribed", cors
        # the preflight failed, so the browser never sent the POST at all
        assert cors["denied"] == "error TypeError", cors
        assert no_srv.json("GET", "/poll?ch=cors&since=0&timeout_ms=0") == [], "POST sent despite CORS"
        assert ok_srv.json("GET", "/poll?ch=cors&since=0&timeout_ms=0")[0]["data"] == "x"
        # what the browser was told, as a browser asks it
        st, h, _ = ok_srv.request("OPTIONS", "/publish/cors", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert st == 204 and h["access-control-allow-origin"] == origin, (st, h)
        assert "POST" in h["access-control-allow-methods"] and "content-type" in h["access-control-allow-headers"], h
        for name in ("sse", "ws"):
            msgs = state[name]
            seqs = [d["seq"] for d in msgs if d["type"] == "event"]
            assert seqs == list(range(1, 26)), f"{name}: {seqs}"
            assert [d["data"]["i"] for d in msgs if d["type"] == "event"] == list(range(1, 26))
            subs = [d for d in msgs if d["type"] == "subscribed"]
            assert len(subs) == 2 and subs[1]["recovered"] is True, f"{name}: {subs}"
            assert not [d for d in msgs if d["type"] in ("snapshot", "gap", "error")], name
        assert state["sseOpens"] == 2 and state["wsOpens"] == 2, state
        assert state["lastClose"] == 1001, state["lastClose"]
        ids = [d["_id"] for d in state["sse"] if d["type"] == "event"]
        assert all(ids) and len(set(ids)) == len(ids), "every SSE event carried its own id"
        m = srv.metrics()
        assert m['rtchaos_resyncs_total{result="recovered"}'] >= 2, m
        assert m['rtchaos_messages_out_total{transport="sse",kind="replay"}'] >= 1
    finally:
        if chrome:
            kill_group(chrome)
        assert ok_srv.stop() == 0 and no_srv.stop() == 0
        assert srv.stop() == 0
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(static, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
