#!/usr/bin/python3
"""server_batch_delta — rtchaos-server's cost options against raw clients.

Batching window (--batch-ms, --batch-channels): the same single publishes
reach a WebSocket client that asked for batch messages ("batch":true in its
sub), one that did not, and an SSE stream. All three see every seq once and
in order; the opted-in client gets JSON arrays (fewer messages than events),
the old client only one envelope per message, as without the option; the
server's own counters say the window made fewer writes than the same
publishes without it (a 1 s window so that a slow box still fits many
publishes in one window).

Delta payloads (--delta-channels): a client that asked ("delta":true,
?delta=1) rebuilds every published value by applying each merge patch
(RFC 7396) to the value before it; the first event after "subscribed" is
whole, replays are whole, a snapshot is whole and the live deltas after it
apply to it; an old client gets whole events only. --delta-break-every
makes the rebuilt value wrong, and this client notices.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import srvtest  # noqa: E402

N = 20


def flatten(msgs):
    """Envelopes of messages that are an envelope or a batch (a JSON array)."""
    out = []
    for m in msgs:
        out.extend(m if isinstance(m, list) else [m])
    return out


def recv_events(ws, n, timeout=20.0):
    """Receives until n event envelopes came; returns (messages, envelopes)."""
    msgs, envs = [], []
    deadline = time.monotonic() + timeout
    while sum(1 for e in envs if e.get("type") == "event") < n:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out: {len(envs)} envelopes {envs[-3:]}"
        m = ws.recv(timeout=left)
        msgs.append(m)
        envs.extend(flatten([m]))
    return msgs, envs


def writes(srv, tr):
    return srv.metrics().get(f'rtchaos_stream_writes_total{{transport="{tr}"}}', 0)


def batching_run(batch_ms):
    args = ["--batch-ms", str(batch_ms), "--batch-channels", "b."] if batch_ms else []
    srv = srvtest.Server(*args)
    try:
        new = srv.ws()
        new.send({"op": "sub", "ch": "b.1", "batch": True})
        old = srv.ws()
        old.send({"op": "sub", "ch": "b.1"})
        for w in (new, old):
            w.recv_until(lambda m: isinstance(m, dict) and m.get("type") == "subscribed")
        sse = srv.sse("ch=b.1")
        first = sse.next_data()
        assert first["type"] == "subscribed", first
        w0 = {t: writes(srv, t) for t in ("ws", "sse")}
        for i in range(N):
            srv.publish("b.1", {"i": i})
        new_msgs, new_envs = recv_events(new, N)
        old_msgs, old_envs = recv_events(old, N)
        sse_seqs = []
        while len(sse_seqs) < N:
            d = sse.next_data(timeout=20)
            if d["type"] == "event":
                sse_seqs.append(d["seq"])
        want = list(range(1, N + 1))
        assert srvtest.events_of(new_envs) == want, new_envs
        assert srvtest.events_of(old_envs) == want, old_envs
        assert sse_seqs == want, sse_seqs
        assert all(isinstance(m, dict) for m in old_msgs), "a client that did not ask got a batch message"
        m = srv.metrics()
        w = {t: writes(srv, t) - w0[t] for t in ("ws", "sse")}
        new.close()
        old.close()
        sse.close()
        return {"new_msgs": len(new_msgs), "old_msgs": len(old_msgs), "writes": w,
                "batch_msgs": m["rtchaos_ws_batch_messages_total"],
                "batch_events": m["rtchaos_ws_batch_events_total"]}
    finally:
        srv.stop()


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def value(i):
    """Field fK changes every 2^K events: most of the value stays the same."""
    v = {"n": i, "tags": ["x", i % 3]}
    for k in range(6):
        v[f"f{k}"] = f"{'y' * 40}-{i >> k}"
    if i % 4 == 0:
        v["sometimes"] = {"deep": i, "keep": "same"}
    return v


class Rebuilder:
    """A delta-aware client's view of one channel: value as of seq."""

    def __init__(self):
        self.val, self.seq, self.deltas, self.wholes = None, None, 0, 0

    def take(self, env):
        t = env.get("type")
        if t == "snapshot":
            self.val, self.seq = env["data"], env["seq"]
        elif t == "gap":
            self.val = self.seq = None
        elif t == "event":
            if env.get("delta") == "merge-patch":
                assert self.seq is not None and self.seq + 1 == env["seq"], \
                    f"delta at seq {env['seq']} without its base (have {self.seq})"
                self.val = merge_patch(self.val, env["data"])
                self.deltas += 1
            else:
                assert "delta" not in env, env
                self.val = env["data"]
                self.wholes += 1
            self.seq = env["seq"]
            return self.val
        return None


def ws_deltas(ws, n, rb, published, timeout=20.0):
    """Reads n events through rb, checking each rebuilt value."""
    got = 0
    deadline = time.monotonic() + timeout
    while got < n:
        m = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        for env in flatten([m]):
            v = rb.take(env)
            if env.get("type") == "event":
                assert v == published[env["seq"]], f"seq {env['seq']}: rebuilt {v} != published {published[env['seq']]}"
                got += 1
    return got


def delta_run():
    srv = srvtest.Server("--delta-channels", "d.", "--history-max", "8")
    published = {}
    try:
        new = srv.ws()
        new.send({"op": "sub", "ch": "d.1", "delta": True})
        old = srv.ws()
        old.send({"op": "sub", "ch": "d.1"})
        for w in (new, old):
            w.recv_until(lambda m: m.get("type") == "subscribed")
        sse = srv.sse("ch=d.1&delta=1")
        assert sse.next_data()["type"] == "subscribed"
        for i in range(1, N + 1):
            published[srv.publish("d.1", value(i))["seq"]] = value(i)
        rb_new, rb_old = Rebuilder(), Rebuilder()
        ws_deltas(new, N, rb_new, published)
        ws_deltas(old, N, rb_old, published)
        assert rb_new.wholes == 1 and rb_new.deltas == N - 1, (rb_new.wholes, rb_new.deltas)
        assert rb_old.deltas == 0, "a client that did not ask got deltas"
        rb_sse, got = Rebuilder(), 0
        while got < N:
            env = sse.next_data(timeout=20)
            v = rb_sse.take(env)
            if env["type"] == "event":
                assert v == published[env["seq"]], (env, v)
                got += 1
        assert rb_sse.deltas == N - 1, rb_sse.deltas
        last_sse_id = sse.last_id
        sse.close()

        # resume within history: the replay is whole, the live deltas after it apply
        res = srv.ws()
        res.send({"op": "sub", "ch": "d.1", "since": N - 3, "delta": True})
        sub = res.recv_until(lambda m: m.get("type") == "subscribed")[-1]
        assert sub["recovered"] is True, sub
        # a fresh subscriber holds no value yet: its first event is whole
        fresh = srv.ws()
        fresh.send({"op": "sub", "ch": "d.1", "delta": True})
        fresh.recv_until(lambda m: m.get("type") == "subscribed")
        rb_res, rb_fresh = Rebuilder(), Rebuilder()
        for i in range(N + 1, N + 5):
            published[srv.publish("d.1", value(i))["seq"]] = value(i)
        ws_deltas(res, 3 + 4, rb_res, published)
        ws_deltas(fresh, 4, rb_fresh, published)
        assert rb_fresh.wholes == 1 and rb_fresh.deltas == 3, (rb_fresh.wholes, rb_fresh.deltas)
        fresh.close()
        # (3 replayed; an event published while the replay was still being
        # written is replayed too, whole)
        assert rb_res.wholes >= 3 and rb_res.deltas >= 1 and rb_res.wholes + rb_res.deltas == 7, \
            (rb_res.wholes, rb_res.deltas)

        # resume beyond history (8 kept): a snapshot, whole; the deltas after it apply to it
        snap = srv.ws()
        snap.send({"op": "sub", "ch": "d.1", "since": 1, "delta": True})
        msgs = snap.recv_until(lambda m: m.get("type") == "snapshot")
        assert msgs[-1]["data"] == published[msgs[-1]["seq"]], msgs[-1]
        rb_snap = Rebuilder()
        rb_snap.take(msgs[-1])
        head = msgs[-1]["seq"]
        for i in range(head + 1, head + 4):
            published[srv.publish("d.1", value(i))["seq"]] = value(i)
        ws_deltas(snap, 3, rb_snap, published)
        assert rb_snap.deltas == 3, rb_snap.deltas

        # SSE resume by Last-Event-ID: replayed events whole, then deltas
        sse2 = srv.sse("ch=d.1&delta=1", last_event_id=last_sse_id)
        rb2, got = Rebuilder(), 0
        more = len(published) - N
        while got < more:
            env = sse2.next_data(timeout=20)
            v = rb2.take(env)
            if env["type"] == "event":
                assert v == published[env["seq"]], (env, v)
                got += 1
        assert rb2.deltas == 0, "a replay carried deltas"
        sse2.close()

        m = srv.metrics()
        assert m['rtchaos_delta_sent_total{transport="ws"}'] >= N - 1 + 1 + 3, m
        assert m['rtchaos_delta_sent_total{transport="sse"}'] >= N - 1, m
        assert m["rtchaos_delta_bytes_saved_total"] > 0, m
        for w in (new, old, res, snap):
            w.close()
        return m
    finally:
        srv.stop()


def broken_run():
    srv = srvtest.Server("--delta-channels", "d.", "--delta-break-every", "3")
    try:
        ws = srv.ws()
        ws.send({"op": "sub", "ch": "d.1", "delta": True})
        ws.recv_until(lambda m: m.get("type") == "subscribed")
        published = {}
        for i in range(1, 10):
            published[srv.publish("d.1", value(i))["seq"]] = value(i)
        try:
            ws_deltas(ws, 9, Rebuilder(), published)
        except AssertionError as e:
            assert "rebuilt" in str(e), e
            ws.close()
            return str(e)
        raise AssertionError("--delta-break-every 3: every rebuilt value still matched")
    finally:
        srv.stop()


def main():
    off = batching_run(0)
    on = batching_run(1000)
    print(f"batching off: {off}")
    print(f"batching on:  {on}")
    assert off["batch_msgs"] == 0 and off["new_msgs"] == N, off
    assert on["new_msgs"] < N and on["batch_msgs"] >= 1, on
    assert on["batch_events"] / on["batch_msgs"] > 1, on
    assert on["old_msgs"] == N, on
    # 20 publishes within 1 s windows: a few writes instead of one per event
    assert on["writes"]["ws"] * 4 <= off["writes"]["ws"], (on["writes"], off["writes"])
    assert on["writes"]["sse"] * 4 <= off["writes"]["sse"], (on["writes"], off["writes"])
    m = delta_run()
    ws_n, sse_n = (m['rtchaos_delta_sent_total{transport="%s"}' % t] for t in ("ws", "sse"))
    print(f"deltas: ws {ws_n:.0f} sse {sse_n:.0f} saved {m['rtchaos_delta_bytes_saved_total']:.0f} bytes")
    print(f"broken deltas noticed: {broken_run()[:160]}")


if __name__ == "__main__":
    main()
