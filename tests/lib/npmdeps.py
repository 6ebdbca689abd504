"""npmdeps — the Node packages the integration tests use, pinned in a
package.json + package-lock.json and installed next to them by `npm ci` when
one is missing: tests/ (the npm Toxiproxy client, socket.io) and
tests/soketi/ (soketi, a Pusher server with many dependencies of its own,
kept apart so the other tests do not install them). Tests run in parallel:
the install happens under a file lock, once."""
import fcntl
import os
import subprocess

TESTS = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
NODE_MODULES = os.path.join(TESTS, "node_modules")
SOKETI_DIR = os.path.join(TESTS, "soketi")


def ensure(*packages, where=TESTS):
    """Makes sure every package is in WHERE/node_modules (npm ci from WHERE's lock)."""
    modules = os.path.join(where, "node_modules")
    # written once npm ci has finished: a package's folder appears while npm
    # is still filling it, so a test running beside the installing one must
    # not take the folder for the package
    done = os.path.join(modules, ".rtchaos-installed")

    def missing():
        if not os.path.exists(done):
            return list(packages)
        return [p for p in packages if not os.path.isdir(os.path.join(modules, p))]
    if not missing():
        return
    with open(os.path.join(where, ".npm-install.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not missing():
            return
        cmd = ["npm", "ci", "--no-audit", "--no-fund"] if os.path.exists(
            os.path.join(where, "package-lock.json")) else ["npm", "install", "--no-audit", "--no-fund"]
        r = subprocess.run(cmd, cwd=where, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"{' '.join(cmd)} in {where} failed:\n{r.stdout}\n{r.stderr}"
        with open(done, "w") as f:
            f.write("npm ci finished\n")
        assert not missing(), f"npm ci did not install {missing()} in {where}"
