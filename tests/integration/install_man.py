#!/usr/bin/python3
"""install_man: the man pages (man/, mdoc) lint clean with mandoc -Tlint, and
cannot drift from the binaries: every flag each installed binary's --help
prints appears in its page, every rtchaos subcommand and exit code is in
rtchaos(1), and every key the scenario loader knows (`rtchaos list keys`, its
own key tables) is in rtchaos-scenario(5)."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import rtctest  # noqa: E402

MAN = os.path.join(rtctest.ROOT, "man")
PAGES = {"rtchaos": "rtchaos.1", "rtchaos-server": "rtchaos-server.8", "rtchaos-proxy": "rtchaos-proxy.8"}
SCENARIO_PAGE = "rtchaos-scenario.5"
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def lint(page):
    """mandoc -Tlint at every level. A cross reference is resolved against
    the pages installed on this machine: this project's own are not (yet),
    and a system page (splice(2)) may not be; that is not the page's fault."""
    p = subprocess.run(["mandoc", "-Tlint", "-W", "style", page], capture_output=True, text=True, timeout=30)
    bad = [line for line in (p.stdout + p.stderr).splitlines()
           if line.strip() and not re.search(r"STYLE: referenced manual not found: Xr |outdated mandoc.db", line)]
    return bad


def rendered(page):
    p = subprocess.run(["mandoc", "-Tascii", page], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    # drop the overstrike (bold/underline) so the text reads plainly
    return re.sub(r".\x08", "", p.stdout.decode())


def help_of(binary):
    p = subprocess.run([os.path.join(rtctest.BIN, binary), "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, (binary, p.returncode, p.stderr)
    return p.stdout


def main():
    pages = sorted(f for f in os.listdir(MAN) if re.search(r"\.[1-8]$", f))
    assert set(PAGES.values()) | {SCENARIO_PAGE} <= set(pages), pages
    problems = []
    for f in pages:
        problems += [f"{f}: {line}" for line in lint(os.path.join(MAN, f))]

    for binary, page in PAGES.items():
        text = rendered(os.path.join(MAN, page))
        words = set(FLAG.findall(text))
        flags = sorted(set(FLAG.findall(help_of(binary))))
        assert len(flags) >= 3, (binary, flags)
        for fl in flags:
            if fl not in words:
                problems.append(f"{page}: {binary} --help shows {fl}, the man page does not "
                                f"(describe it in man/{page}, OPTIONS)")

    text = rendered(os.path.join(MAN, "rtchaos.1"))
    commands = sorted(set(re.findall(r"^\s+rtchaos (\w+)", help_of("rtchaos"), re.M)))
    assert {"run", "validate", "report", "compare", "merge", "list"} <= set(commands), commands
    cmd_section = text.split("\nCOMMANDS\n", 1)[1].split("\nSCENARIO NAMES\n", 1)[0]
    for c in commands:
        if not re.search(rf"^\s+{c}\b", cmd_section, re.M):
            problems.append(f"rtchaos.1: subcommand {c} (in --help) has no entry under COMMANDS")
    exit_section = text.split("\nEXIT STATUS\n", 1)[1].split("\nEXAMPLES\n", 1)[0]
    for code in re.findall(r"\b([0-9]) (?:pass|a verdict|invalid|the run)", help_of("rtchaos")):
        if not re.search(rf"^\s+{code}\s", exit_section, re.M):
            problems.append(f"rtchaos.1: exit code {code} (in --help) is not under EXIT STATUS")

    keys = subprocess.run([os.path.join(rtctest.BIN, "rtchaos"), "list", "keys"], capture_output=True, text=True,
                          timeout=10).stdout.split()
    assert "clients.0.count" in keys, keys
    text = rendered(os.path.join(MAN, SCENARIO_PAGE))
    for k in sorted({k.split(".")[-1] for k in keys if not k.split(".")[-1].isdigit()}):
        if not re.search(rf"(?<![\w]){re.escape(k)}(?![\w])", text):
            problems.append(f"{SCENARIO_PAGE}: scenario key '{k}' (rtchaos list keys) is not described "
                            f"(add it to man/{SCENARIO_PAGE})")

    assert not problems, "\n".join(problems)
    print(f"install_man: ok ({len(pages)} pages)")


if __name__ == "__main__":
    main()
