"""daemontest — a third-party server a test starts (nginx, soketi, ...): on
free loopback ports (picked again when one is taken between the probe and
the server's bind), ready when a probe answers, under a deadline, stopped by
a signal and reaped, its exit status checked. Children are registered with
rtctest, so they are killed even when a test fails or is interrupted."""
import signal
import socket
import subprocess
import time

import rtctest


def free_port(kind=socket.SOCK_STREAM):
    """A loopback port free right now (TCP, or UDP with kind=SOCK_DGRAM)."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_open(port, host="127.0.0.1"):
    """True when a TCP connection to host:port is accepted."""
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


class Daemon:
    """A running server: .p (Popen), .info (what setup returned beside the command line)."""

    def __init__(self, what, setup, ready, log=None, cwd=None, env=None, tries=5, timeout_s=10.0, step_s=0.05):
        """setup() picks free ports, writes the config and returns (argv, info);
        ready(info) is one probe, True once the server serves. A server that
        exits before it is ready, or does not answer within timeout_s (most
        often: a port was taken meanwhile; some servers hang on it rather
        than exit), is killed and started again with a fresh setup(), up to
        `tries` times. log: a file the server's stdout and stderr go to (appended)."""
        self.what, self.log_path, self.p = what, log, None
        for _ in range(tries):
            argv, info = setup()
            out = open(log, "ab") if log else subprocess.DEVNULL
            try:
                p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
            finally:
                if log:
                    out.close()
            rtctest._children.append(p)
            deadline = time.monotonic() + timeout_s
            while p.poll() is None and time.monotonic() < deadline:
                if ready(info):
                    self.p, self.info = p, info
                    return
                time.sleep(step_s)
            if p.poll() is None:
                p.kill()
            p.wait()
        raise AssertionError(f"{what} not ready in {tries} tries ({timeout_s}s each, last rc={p.returncode}):\n"
                             f"{self.log()}")

    def log(self):
        """The tail of the server's log (or a word saying there is none)."""
        if not self.log_path:
            return "(no log)"
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return "(no log)"

    def stop(self, sig=signal.SIGTERM, timeout_s=10.0, expect=(0,)):
        """Signals the server and reaps it; fails when it takes longer than
        timeout_s (then it is killed) or exits with a status not in expect.
        Returns the exit status. Stopping a stopped server checks its status again."""
        p = self.p
        if p is None:
            return None
        if p.poll() is None:
            self.signalled = True
            p.send_signal(sig)
            try:
                p.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                raise AssertionError(f"{self.what} did not exit within {timeout_s}s of signal {sig}")
        if not getattr(self, "signalled", False) and p.returncode != 0:
            # it ended before anyone asked it to: a crash while serving,
            # whatever statuses a stop may end with
            raise AssertionError(f"{self.what} exited {p.returncode} before it was stopped:\n{self.log()}")
        if expect is not None and p.returncode not in expect:
            raise AssertionError(f"{self.what} exited {p.returncode}, expected {expect}:\n{self.log()}")
        return p.returncode
