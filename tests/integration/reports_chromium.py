#!/usr/bin/python3
"""reports_chromium — renders report fixtures (failing run, zero-event run)
with the reports library, opens report.html in headless Chromium, and checks
in the browser itself that the verdict table is there and that every plot
image loaded (decoded with a non-zero size); then screenshots the report into
its run folder. A deliberately broken copy proves the image check can fail.

The page is opened from a copy with a small script appended (report.html
itself carries no script): it records what the browser saw into the DOM,
which --dump-dom prints."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("RTCHAOS_BIN", os.path.join(ROOT, "bin"))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "reports")
OUT = os.path.join(ROOT, "build", "test-runs", "reports_chromium")
CHROMIUM = "/usr/bin/chromium"
DEADLINE_S = 120

CHECK_SCRIPT = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll('img'));
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0); });
  var v = document.getElementById('verdicts');
  var d = document.createElement('div');
  d.id = 'rtchaos-check';
  d.setAttribute('data-images', String(imgs.length));
  d.setAttribute('data-loaded', String(imgs.length - bad.length));
  d.setAttribute('data-bad', bad.map(function (i) { return i.alt; }).join('|'));
  d.setAttribute('data-verdict-rows', String(v ? v.tBodies[0].rows.length : -1));
  d.setAttribute('data-result', (document.getElementById('result') || {}).textContent || '');
  document.body.appendChild(d);
});
</script>
"""


def driver():
    """The reports-tool driver next to the binaries under test (build/asan
    when RTCHAOS_BIN is build/asan/bin), else the default build's."""
    for cand in (os.path.join(os.path.dirname(os.path.abspath(BIN)), "reports-tool"),
                 os.path.join(ROOT, "build", "default", "reports-tool")):
        if os.access(cand, os.X_OK):
            return cand
    sys.exit("reports-tool not built (make build/default/reports-tool)")


def run_group(args, timeout=DEADLINE_S):
    """Runs a command in its own process group; kills the whole group (Chromium
    forks helpers) on timeout or when done. Returns (rc, stdout)."""
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, process_group=0)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise AssertionError(f"{args[0]} did not finish within {timeout}s")
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return p.returncode, out.decode(errors="replace")


def chromium(profile_parent, *extra):
    profile = tempfile.mkdtemp(prefix="profile-", dir=profile_parent)
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=" + profile] + list(extra)
    try:
        return run_group(args)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def browser_check(html_path, tmp):
    """Opens a checked copy of html_path; returns the attributes the page
    script recorded."""
    with open(html_path, encoding="utf-8") as f:
        html = f.read()
    assert "</body>" in html, html_path + ": no </body>"
    check = os.path.join(os.path.dirname(html_path), "check.html")
    with open(check, "w", encoding="utf-8") as f:
        f.write(html.replace("</body>", CHECK_SCRIPT + "</body>"))
    rc, dom = chromium(tmp, "--virtual-time-budget=10000", "--dump-dom", "file://" + check)
    os.unlink(check)
    assert rc == 0, f"chromium --dump-dom exited {rc}"
    m = re.search(r'<div id="rtchaos-check"([^>]*)>', dom)
    assert m, "the check script did not run (no #rtchaos-check in the DOM)"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', m.group(1)))


def render(fixture, run_dir):
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    shutil.copy(os.path.join(FIXTURES, fixture), os.path.join(run_dir, "report.json"))
    r = subprocess.run([driver(), "render", run_dir], capture_output=True, text=True, timeout=DEADLINE_S)
    assert r.returncode == 0, f"render {fixture}: rc={r.returncode} {r.stderr}"


def main():
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="rtchaos-chromium-")
    try:
        for fixture, verdict_rows, result in (("fail.json", 5, "FAIL"), ("empty.json", 2, "PASS")):
            run_dir = os.path.join(OUT, fixture.replace(".json", ""))
            render(fixture, run_dir)
            seen = browser_check(os.path.join(run_dir, "report.html"), tmp)
            print(fixture, seen)
            assert seen["images"] == "5", f"{fixture}: expected 5 plot images, page has {seen['images']}"
            assert seen["loaded"] == "5", f"{fixture}: plots that did not load: {seen['bad']}"
            assert seen["verdict-rows"] == str(verdict_rows), f"{fixture}: verdict table rows {seen['verdict-rows']}"
            assert seen["result"] == result, f"{fixture}: result badge {seen['result']!r}"
            shot = os.path.join(run_dir, "screenshot.png")
            rc, _ = chromium(tmp, "--window-size=1100,2600", "--hide-scrollbars", "--screenshot=" + shot,
                             "file://" + os.path.join(run_dir, "report.html"))
            assert rc == 0, f"chromium --screenshot exited {rc}"
            with open(shot, "rb") as f:
                png = f.read()
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000, f"{shot}: not a real screenshot"
            print("screenshot:", shot)

        # Negative control: one plot's data is corrupted; the check must see it.
        broken_dir = os.path.join(OUT, "broken")
        render("pass.json", broken_dir)
        page = os.path.join(broken_dir, "report.html")
        with open(page, encoding="utf-8") as f:
            html = f.read()
        html = html.replace("data:image/svg+xml;base64,", "data:image/svg+xml;base64,!!!!", 1)
        with open(page, "w", encoding="utf-8") as f:
            f.write(html)
        seen = browser_check(page, tmp)
        assert seen["images"] == "5" and seen["loaded"] == "4", f"broken image not detected: {seen}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
