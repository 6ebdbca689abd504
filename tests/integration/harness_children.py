#!/usr/bin/python3
"""harness_children: what the harness starts is judged too. At the end of a
run the server (and proxy) it started must have ended cleanly: a non-zero
exit, a death by a signal other than the SIGTERM that stopped it, or a
sanitizer's report in its log (ASan, LeakSanitizer, UBSan's "runtime
error:") breaks the run: exit 3, report.json's "error" and "children" name
the child and why, and the summary says so. The failing children are a
small wrapper, used as `server.bin` / `proxy.bin`, that runs the real binary
and then misbehaves in one chosen way; the same wrapper behaving passes."""
import os
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402
import rtctest  # noqa: E402

SHORT = ["--set", "duration=2s", "--set", "warmup=1s", "--set", "drain=2s",
         "--set", "clients.0.count=4", "--set", "clients.1.count=2", "--set", "clients.2.count=1",
         "--set", "budgets=[lost == 0, published > 0]"]

WRAPPER = r'''#!/usr/bin/python3
# Runs the real binary with our arguments (same stdout/stderr, same process
# group: the harness's SIGTERM reaches it), then ends as MODE says.
import os, signal, subprocess, sys
MODE, REAL = %r, %r
p = subprocess.Popen([REAL] + sys.argv[1:])
signal.signal(signal.SIGTERM, lambda s, f: None)  # the real binary gets it from the group
rc = p.wait()
sys.stderr.flush()
if MODE == "exit1":
    sys.exit(1)
if MODE == "abort":
    os.abort()
if MODE == "asan":
    sys.stderr.write("=================================================================\n"
                     "==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010\n")
    sys.exit(0)
if MODE == "ubsan":
    sys.stderr.write("reference-server/x.c:12:7: runtime error: signed integer overflow\n")
    sys.exit(0)
if MODE == "leak":
    sys.stderr.write("==4242==ERROR: LeakSanitizer: detected memory leaks\n")
    sys.exit(0)
sys.exit(0 if rc in (0, -signal.SIGTERM) else rc)
'''


def wrapper(d, mode, real):
    path = os.path.join(d, f"wrap-{os.path.basename(real)}-{mode}")
    with open(path, "w") as f:
        f.write(WRAPPER % (mode, real))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


CASES = [
    ("exit1", "exited with code 1"),
    ("abort", "killed by signal 6"),
    ("asan", "sanitizer report: ==4242==ERROR: AddressSanitizer: heap-use-after-free"),
    ("ubsan", "sanitizer report: reference-server/x.c:12:7: runtime error: signed integer overflow"),
    ("leak", "sanitizer report: ==4242==ERROR: LeakSanitizer: detected memory leaks"),
]


def main():
    d = ht.tmpdir()
    server = os.path.join(rtctest.BIN, "rtchaos-server")
    proxy = os.path.join(rtctest.BIN, "rtchaos-proxy")
    # the runs share nothing (each its own server, proxy and ports) and are
    # short: they run side by side, checked below in this order
    calls = [(ht.run, ("smoke.yaml", *SHORT, "--set", f"server.bin={wrapper(d, 'ok', server)}", "--quiet"), {})]
    calls += [(ht.run, ("smoke.yaml", *SHORT, "--set", f"server.bin={wrapper(d, mode, server)}"), {})
              for mode, _ in CASES]
    calls += [(ht.run, ("smoke.yaml", *SHORT, "--set", "proxy.enabled=true",
                        "--set", f"proxy.bin={wrapper(d, 'exit1', proxy)}", "--quiet"), {})]
    runs = ht.side_by_side(calls, jobs=4)

    # The wrapper itself is harmless: behaving, the run passes and says so.
    r = runs[0]
    assert r.rc == 0, r.explain()
    ch = r.report["children"]["server"]
    assert ch["clean"] is True and ch["problems"] == [] and ch["exit"] == "exited with code 0", ch
    ht.assert_all_gone(r.child_pids())

    for (mode, why), r in zip(CASES, runs[1:]):
        assert r.rc == 3, (mode, r.explain())
        rep = r.report
        assert rep["exit_code"] == 3 and rep["pass"] is False, (mode, rep.get("error"))
        # the verdicts themselves held: only the child's end broke the run
        assert all(v["pass"] for v in rep["verdicts"]), (mode, rep["verdicts"])
        assert rep["error"].startswith("rtchaos-server " + why), (mode, rep["error"])
        assert "server.log" in rep["error"], rep["error"]
        ch = rep["children"]["server"]
        assert ch["clean"] is False and any(p.startswith(why) for p in ch["problems"]), (mode, ch)
        # the summary (stdout) and the one-line result name it too
        assert "BROKEN" in r.stdout and "run broke: rtchaos-server " + why in r.stdout, (mode, r.stdout)
        ht.assert_all_gone(r.child_pids())

    # The proxy is judged the same way.
    r = runs[-1]
    assert r.rc == 3, r.explain()
    assert r.report["error"].startswith("rtchaos-proxy exited with code 1"), r.report["error"]
    assert r.report["children"]["proxy"]["clean"] is False, r.report["children"]
    assert r.report["children"]["server"]["clean"] is True, r.report["children"]
    ht.assert_all_gone(r.child_pids())
    print("ok")


if __name__ == "__main__":
    main()
