"""npmdeps — the Node packages the integration tests use, pinned in
tests/package.json and tests/package-lock.json, installed into
tests/node_modules by `npm ci` when one is missing. Tests run in parallel:
the install happens under a file lock, once."""
import fcntl
import os
import subprocess

TESTS = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
NODE_MODULES = os.path.join(TESTS, "node_modules")


def ensure(*packages):
    """Makes sure every package is in tests/node_modules (npm ci from the lock)."""
    def missing():
        return [p for p in packages if not os.path.isdir(os.path.join(NODE_MODULES, p))]
    if not missing():
        return
    with open(os.path.join(TESTS, ".npm-install.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not missing():
            return
        cmd = ["npm", "ci", "--no-audit", "--no-fund"] if os.path.exists(
            os.path.join(TESTS, "package-lock.json")) else ["npm", "install", "--no-audit", "--no-fund"]
        r = subprocess.run(cmd, cwd=TESTS, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout}\n{r.stderr}"
        assert not missing(), f"npm ci did not install {missing()}"
