#!/usr/bin/env python3
"""Interop (issue 7), faults: the Linux kernel as a misbehaving or unlucky peer of tws-server.

I-R1 (SYN and in-window RST injected into an established connection) and I-F2/F3
(the kernel's last ACK lost while tws-server is in LAST_ACK, then the kernel's SYN on
the same 4-tuple under each lastack_syn policy). Namespaces, veth and tws-server come
from test_kernel.py's helpers; the kernel side is a short Python client run in the
kernel's namespace (KCLIENT below), which reads its own sequence numbers through
TCP_REPAIR and injects segments with a raw socket. Root only; skips otherwise.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_kernel as K  # noqa: E402 - after the path is set
import tap  # noqa: E402 - test_kernel put test/common on the path

# Importing test_kernel registered its cases too: this file runs only its own.
tap.cases.clear()
K.SERVER, K.GEN = sys.argv[1], sys.argv[2]

CPORT = 30000  # the kernel client's one source port

# The kernel-side client: one JSON line per step on stdout, steps driven by argv/stdin.
KCLIENT = r"""
import json, socket, struct, sys, time
SRC, DST = "198.18.0.2", "198.18.0.1"
TCP_REPAIR, TCP_REPAIR_QUEUE, TCP_QUEUE_SEQ = 19, 20, 21
TCP_RECV_QUEUE, TCP_SEND_QUEUE, TCP_REPAIR_OFF_NO_WP = 1, 2, -1
REQ = b"GET / HTTP/1.1\r\nHost: 198.18.0.1\r\n\r\n"

def out(**kw):
    print(json.dumps(kw), flush=True)

def sock(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(5)
    s.bind((SRC, port))
    return s

def get(s):
    # One request, its whole response (Content-Length): (status, body bytes).
    s.sendall(REQ)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise OSError("closed in the headers")
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    n = [int(l.split(":")[1]) for l in lines if l.lower().startswith("content-length:")][0]
    while len(body) < n:
        d = s.recv(4096)
        if not d:
            break
        body += d
    return int(lines[0].split()[1]), len(body)

def seqs(s):
    # The kernel's own snd_nxt (write_seq, queue empty) and rcv_nxt, via TCP_REPAIR.
    s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
    try:
        r = []
        for q in (TCP_SEND_QUEUE, TCP_RECV_QUEUE):
            s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR_QUEUE, q)
            r.append(s.getsockopt(socket.IPPROTO_TCP, TCP_QUEUE_SEQ))
    finally:
        s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF_NO_WP)
    return [v & 0xffffffff for v in r]

def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff

def inject(sport, dport, seq, ack, flags):
    # A bare 20-byte TCP header from our address; the kernel adds the IP header.
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    ph = socket.inet_aton(SRC) + socket.inet_aton(DST) + struct.pack("!BBH", 0, 6, len(h))
    h = h[:16] + struct.pack("!H", csum(ph + h)) + h[18:]
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    r.sendto(h, (DST, 0))
    r.close()

mode, port = sys.argv[1], int(sys.argv[2])
if mode == "r1":
    # Established, one response in; then a SYN and an in-window, not exact RST on the
    # 4-tuple; then a second request on the same connection.
    s = sock(port)
    s.connect((DST, 80))
    first = get(s)
    snd_nxt, rcv_nxt = seqs(s)
    out(step="established", snd_nxt=snd_nxt, rcv_nxt=rcv_nxt, first=first)
    sys.stdin.readline()
    inject(port, 80, (snd_nxt + 1000000) & 0xffffffff, 0, 0x02)        # SYN
    time.sleep(0.2)
    inject(port, 80, (snd_nxt + 1) & 0xffffffff, 0, 0x04)              # RST, seq rcv_nxt+1
    time.sleep(0.2)
    second = get(s)
    out(step="done", second=second, after=seqs(s))
    s.close()
elif mode == "f2":
    # A request, then (once the parent's nft rule is in) close first; then reconnect
    # from the same port once the kernel's TIME_WAIT lets connect() send its SYN.
    s = sock(port)
    s.connect((DST, 80))
    first = get(s)
    out(step="got", first=first)
    sys.stdin.readline()
    s.close()
    out(step="closed")
    sys.stdin.readline()
    err = None
    for _ in range(100):   # EADDRNOTAVAIL (no SYN sent) until tcp_tw_reuse_delay passed
        s = sock(port)
        t0 = time.monotonic()
        try:
            s.connect((DST, 80))
            err = None
            break
        except OSError as e:
            err = e.errno
            s.close()
            if e.errno != 99:
                break
            time.sleep(0.05)
    took = time.monotonic() - t0
    if err is None:
        # tcp_info.tcpi_total_retrans (offset 100): the SYN's retransmissions.
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        out(step="reconnected", connect_s=took, syn_retrans=struct.unpack_from("I", info, 100)[0],
            second=get(s))
        s.close()
    else:
        out(step="reconnect_failed", errno=err, connect_s=took)
"""


def kclient(*args):
    return subprocess.Popen(["ip", "netns", "exec", K.NS_K, sys.executable, "-c", KCLIENT,
                             *map(str, args)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def step(c, timeout=15):
    """The kernel client's next JSON line (its stderr on an early exit)."""
    line = c.stdout.readline()
    if not line:
        c.wait(timeout=timeout)
        raise AssertionError(f"kernel client exited {c.returncode}: {c.stderr.read()[-1500:]}")
    return json.loads(line)


def go(c):
    c.stdin.write("\n")
    c.stdin.flush()


@tap.case
def IR1_syn_and_in_window_rst_into_established_draw_challenge_acks():
    # RFC 5961 4.2 / 3.2: twstack answers both with an ACK <SEQ=SND.NXT><ACK=RCV.NXT>
    # and keeps the connection: the kernel's second request gets its whole response.
    procs = []
    with tempfile.TemporaryDirectory() as d:
        try:
            K.setup()
            p, sj = K.run_server(d, "--response-bytes", "1000")
            procs.append(p)
            c = kclient("r1", CPORT)
            procs.append(c)
            est = step(c)
            assert est["first"] == [200, 1000], est
            go(c)
            done = step(c)
            assert done["second"] == [200, 1000], done
            # Nothing moved the kernel's sequence space but the second exchange.
            c.wait(timeout=10)
            s = K.stop_server(p, sj)
            assert s["challenge_acks"] == 2, s           # one for the SYN, one for the RST
            assert s["connections"] == 1 and s["requests"] == 2 and s["responses"] == 2, s
            assert s["errors"]["total"] == 0, s
        finally:
            K.teardown(procs)


def lastack_round(d, policy, procs):
    """The kernel closes first, its last ACK is dropped, then it reconnects: its result."""
    sh = K.sh
    p, sj = K.run_server(d, "--knob", f"lastack_syn={policy}")
    procs.append(p)
    c = kclient("f2", CPORT)
    procs.append(c)
    got = step(c)
    assert got["first"][0] == 200, got
    # Only now (the handshake's and the response's ACKs are through): drop every pure
    # ACK from the client's port, i.e. the ACK of twstack's FIN and its repeats.
    sh("nft", "add table inet twsf", ns=K.NS_K)
    sh("nft", "add chain inet twsf out { type filter hook output priority 0 ; }", ns=K.NS_K)
    sh("nft", f"add rule inet twsf out tcp sport {CPORT} tcp flags == ack counter drop",
       ns=K.NS_K)
    go(c)
    assert step(c)["step"] == "closed"
    # The kernel in TIME_WAIT (got twstack's FIN), twstack in LAST_ACK (no ACK came).
    for _ in range(50):
        tw = sh("ss", "-Htan", "state", "time-wait", f"sport = :{CPORT}", ns=K.NS_K).stdout
        if tw.strip():
            break
        K.time.sleep(0.1)
    assert tw.strip(), "the kernel client never reached TIME_WAIT"
    dropped = sh("nft", "list chain inet twsf out", ns=K.NS_K).stdout
    assert "packets 0 " not in dropped, dropped      # the last ACK was dropped
    sh("nft", "delete table inet twsf", ns=K.NS_K)
    go(c)
    res = step(c)
    c.wait(timeout=10)
    return res, K.stop_server(p, sj)


@tap.case
def IF2_F3_lost_last_ack_then_syn_under_each_lastack_policy():
    # Spec section 4: a SYN meeting LAST_ACK. rst: the connect is refused; challenge:
    # challenge ACK, the kernel's RST ends LAST_ACK, its SYN retransmission connects;
    # accept: the first SYN connects.
    res = {}
    for policy in ("rst", "challenge", "accept"):
        procs = []
        with tempfile.TemporaryDirectory() as d:
            try:
                K.setup()
                # Namespace-local: connect() may reuse the kernel's own TIME_WAIT 10 ms
                # after the last segment from twstack, so its SYN goes out at once.
                K.sh("sysctl", "-q", "-w", "net.ipv4.tcp_tw_reuse=1", ns=K.NS_K)
                K.sh("sysctl", "-q", "-w", "net.ipv4.tcp_tw_reuse_delay=10", ns=K.NS_K)
                res[policy] = lastack_round(d, policy, procs)
            finally:
                K.teardown(procs)
    r, s = res["rst"]
    assert r["step"] == "reconnect_failed" and r["errno"] == 111, r     # ECONNREFUSED
    assert s["rst_sent"] == 1 and s["connections"] == 1, s
    rc, s = res["challenge"]
    assert rc["step"] == "reconnected" and rc["second"][0] == 200, rc
    # The challenge ACK is unacceptable in SYN_SENT: the kernel resets it (ending our
    # LAST_ACK) and sends its SYN again; that second SYN connects.
    assert rc["syn_retrans"] == 1, rc
    assert s["challenge_acks"] == 1 and s["lastack_syn_accepted"] == 0, s
    assert s["connections"] == 2 and s["errors"]["total"] == 0, s
    ra, s = res["accept"]
    assert ra["step"] == "reconnected" and ra["second"][0] == 200, ra
    assert ra["syn_retrans"] == 0, ra                   # the first SYN connected
    assert s["lastack_syn_accepted"] == 1 and s["challenge_acks"] == 0, s
    assert s["connections"] == 2 and s["errors"]["total"] == 0, s
    assert rc["connect_s"] > ra["connect_s"], (rc, ra)
    print(f"# connect after LAST_ACK: challenge {rc['connect_s'] * 1000:.1f} ms, "
          f"accept {ra['connect_s'] * 1000:.1f} ms")


if __name__ == "__main__":
    tap.run_cases(skip_all=K.skip_reason(("ip", "ethtool", "nft", "ss")))
