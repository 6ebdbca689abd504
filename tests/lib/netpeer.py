"""netpeer — one end of a packet-level check, run inside a network namespace
(`ip netns exec NS python3 netpeer.py …`) by tests/integration/netns_faults.py.

  netpeer.py udp-recv ADDR PORT            counts datagrams per source address until
                                           1.5 s pass without one; prints {"src": n, …}
  netpeer.py udp-send SRC DST PORT N       N numbered datagrams from SRC, paced
  netpeer.py tcp-listen ADDR PORT          accepts one connection, then obeys commands
  netpeer.py tcp-connect SRC DST PORT      connects from SRC, then obeys commands

TCP commands, one per line on stdin, one answer line on stdout:
  send N     -> "sent N" | "error ECONNRESET"…
  recv T     -> "data N" | "eof" | "error ECONNRESET"… | "timeout" (nothing within T s)
  sendt N    -> "sent N T0": as send, T0 the wall clock (time.time()) before the first byte
  recvall N T-> "got N SECONDS END" (N bytes or what came within T s; END the wall clock at
                the last byte; namespaces share the clock, so END - T0 is the whole transfer)
  mss        -> "mss N" (TCP_MAXSEG)
  close      -> "closed"
"""
import errno
import json
import socket
import sys
import time


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def err_name(e):
    return "error " + errno.errorcode.get(e.errno or 0, str(e))


def udp_recv(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, port))
    s.settimeout(0.1)
    out("listening")
    counts, last, start = {}, time.time(), time.time()
    while time.time() - last < 1.5 and time.time() - start < 60:
        try:
            _, (src, _) = s.recvfrom(2048)
        except socket.timeout:
            continue
        counts[src] = counts.get(src, 0) + 1
        last = time.time()
    out(json.dumps(counts))


def udp_send(src, dst, port, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    for i in range(n):
        s.sendto(b"%08d" % i, (dst, port))
        if i % 50 == 49:
            time.sleep(0.01)  # paced: the receiver's buffer must never be what drops
    out("done")


def tcp_session(conn):
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        try:
            if cmd[0] in ("send", "sendt"):
                t0 = time.time()
                conn.sendall(b"x" * int(cmd[1]))
                out("sent " + cmd[1] + (" %.6f" % t0 if cmd[0] == "sendt" else ""))
            elif cmd[0] == "recv":
                conn.settimeout(float(cmd[1]))
                try:
                    d = conn.recv(65536)
                    out("data %d" % len(d) if d else "eof")
                except socket.timeout:
                    out("timeout")
            elif cmd[0] == "recvall":
                want, t0 = int(cmd[1]), time.time()
                conn.settimeout(0.5)
                got = 0
                while got < want and time.time() - t0 < float(cmd[2]):
                    try:
                        d = conn.recv(65536)
                    except socket.timeout:
                        continue
                    if not d:
                        break
                    got += len(d)
                t1 = time.time()
                out("got %d %.3f %.6f" % (got, t1 - t0, t1))
            elif cmd[0] == "mss":
                out("mss %d" % conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
            elif cmd[0] == "close":
                conn.close()
                out("closed")
                return
            else:
                out("error unknown command")
        except OSError as e:
            out(err_name(e))


def main():
    mode = sys.argv[1]
    if mode == "udp-recv":
        udp_recv(sys.argv[2], int(sys.argv[3]))
    elif mode == "udp-send":
        udp_send(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "tcp-listen":
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((sys.argv[2], int(sys.argv[3])))
        ls.listen(8)
        out("listening")
        conn, _ = ls.accept()
        out("accepted")
        tcp_session(conn)
    elif mode == "tcp-connect":
        c = socket.socket()
        c.bind((sys.argv[2], 0))
        c.settimeout(3)
        try:
            c.connect((sys.argv[3], int(sys.argv[4])))
        except OSError as e:
            out(err_name(e) if not isinstance(e, socket.timeout) else "error timeout")
            return
        out("connected")
        tcp_session(c)


if __name__ == "__main__":
    main()
