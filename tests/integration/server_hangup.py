#!/usr/bin/python3
"""A client that hangs up in the middle of a long-lived HTTP response (an SSE
stream, a parked long-poll) is noticed and its connection closed by the
server. Regression test: lws 4.1 never reads such a connection, so the EOF
went unnoticed (the socket sat in CLOSE-WAIT) and the event loop spun on the
ready POLLIN until something was written to the dead socket."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import srvtest  # noqa: E402


def server_side_states(port):
    """TCP states (hex codes of /proc/net/tcp) of sockets whose local port is port."""
    states = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            cols = line.split()
            if int(cols[1].split(":")[1], 16) == port:
                states.append(cols[3])
    return states


CLOSE_WAIT = "08"


def hang_up_sse(port):
    """Opens an SSE stream, reads until the server has written everything it
    has (head and the retry: hint), then hangs up."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /sse?ch=a HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    got = b""
    while b"retry:" not in got:
        chunk = s.recv(4096)
        assert chunk, "server closed the stream"
        got += chunk
    time.sleep(0.2)  # nothing more is coming before the (distant) heartbeat
    s.close()


def wait_no_close_wait(port, what, deadline_s=5.0):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if CLOSE_WAIT not in server_side_states(port):
            return
        time.sleep(0.05)
    raise AssertionError(f"{what}: the server still holds a CLOSE-WAIT socket "
                         f"{deadline_s}s after the client hung up")


def main():
    # Heartbeats far apart, so nothing but the hang-up check can find the EOF.
    srv = srvtest.Server("--heartbeat-ms", "60000")
    try:
        hang_up_sse(srv.port)
        wait_no_close_wait(srv.port, "SSE")

        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        s.sendall(b"GET /poll?ch=b&timeout_ms=30000 HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)  # parked: nothing to answer yet
        s.close()
        wait_no_close_wait(srv.port, "parked poll")

        # The server still serves after both.
        st, _, _ = srv.request("GET", "/healthz")
        assert st == 200, st
    finally:
        assert srv.stop() == 0
    print("server_hangup: ok")


if __name__ == "__main__":
    main()
