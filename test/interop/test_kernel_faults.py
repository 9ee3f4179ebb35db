#!/usr/bin/env python3
"""Interop (issue 7), faults: the Linux kernel as a misbehaving or unlucky peer of tws-server.

I-R1 (SYN and in-window RST injected into an established connection) and I-F2/F3
(the kernel's last ACK lost while tws-server is in LAST_ACK, then the kernel's SYN on
the same 4-tuple under each lastack_syn policy). Namespaces, veth and tws-server come
from test_kernel.py's helpers; the kernel side is a short Python client run in the
kernel's namespace (KCLIENT below), which reads its own sequence numbers through
TCP_REPAIR and injects segments with a raw socket. Root only; skips otherwise.
With tcpdump installed, I-F2/F3's rounds are also captured on the kernel's veth and the
exchange after the kernel's SYN is asserted segment by segment (skipped without it).
"""
import json
import os
import re
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
        # Leaving repair mode resets sk_reuse to SK_NO_REUSE: without SO_REUSEADDR again
        # the TIME_WAIT this socket leaves would refuse the next bind() to its port.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
    out(step="got", first=first, rcv_nxt=seqs(s)[1])
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
            cap = capture_start(d, procs)
            c = kclient("r1", CPORT)
            procs.append(c)
            est = step(c)
            assert est["first"] == [200, 1000], est
            go(c)
            done = step(c)
            assert done["second"] == [200, 1000], done
            # Nothing moved the kernel's sequence space but the second exchange.
            c.wait(timeout=10)
            if cap is not None:
                # On the wire: the injected SYN and RST, each answered by an ACK
                # acknowledging the kernel's SND.NXT (twstack's RCV.NXT), nothing else.
                segs = capture_stop(cap, "I-R1 a SYN and an in-window RST injected")
                nxt = est["snd_nxt"]
                for flags, seq in (("S", (nxt + 1000000) & 0xffffffff), ("R", (nxt + 1) & 0xffffffff)):
                    i = [j for j, g in enumerate(segs) if g[0] == "k" and g[1] == flags
                         and g[2] == seq]
                    assert len(i) == 1, (flags, seq, segs)
                    ans = segs[i[0] + 1]
                    assert ans[0] == "t" and ans[1] == "." and ans[3] == nxt, (flags, ans, segs)
                print(f"# the injected SYN and RST each drew an ACK {nxt} from twstack")
            s = K.stop_server(p, sj)
            assert s["challenge_acks"] == 2, s           # one for the SYN, one for the RST
            assert s["connections"] == 1 and s["requests"] == 2 and s["responses"] == 2, s
            assert s["errors"]["total"] == 0, s
        finally:
            K.teardown(procs)


def capture_start(d, procs):
    """tcpdump on the kernel's veth, the client's port only (None without tcpdump)."""
    if shutil.which("tcpdump") is None:
        return None
    return K.tcap_start(d, procs, K.NS_K, "vk", f"tcp port {CPORT}", "k")


def capture_stop(t, title=None):
    """Stop tcpdump; its segments as (from, flags, seq, ack, time): from 'k' (the kernel)
    or 't' (twstack), flags as tcpdump prints them ('S', 'S.', '.', 'F.', 'R', 'R.', 'P.'),
    seq and ack absolute (None where tcpdump prints none: seq of a bare ACK), time in s.
    With @p title and tshark installed, the exchange as tshark decodes it is printed too
    (TAP comments: what docs/time-wait.md quotes)."""
    t.send_signal(2)
    t.wait(timeout=10)
    if title is not None and shutil.which("tshark") is not None:
        K.show(title, K.sh("tshark", "-n", "-r", t.pcap, "-o",
                           "tcp.relative_sequence_numbers:FALSE", "-t", "r").stdout.splitlines())
    txt = K.sh("tcpdump", "-nn", "-S", "-tt", "-r", t.pcap).stdout
    segs = []
    for line in txt.splitlines():
        m = re.match(r"([\d.]+) IP ([\d.]+)\.\d+ > [\d.]+\.\d+: Flags \[([^\]]*)\]"
                     r"(?:, seq (\d+)(?::\d+)?)?(?:, ack (\d+))?", line)
        assert m, line
        src = "k" if m.group(2) == "198.18.0.2" else "t"
        segs.append((src, m.group(3), *(int(g) if g else None for g in m.group(4, 5)),
                     float(m.group(1))))
    return segs


def lastack_round(d, policy, procs):
    """The kernel closes first, its last ACK is dropped, then it reconnects: its result,
    twstack's counters and the wire as the kernel's veth saw it (None: no tcpdump)."""
    sh = K.sh
    p, sj = K.run_server(d, "--knob", f"lastack_syn={policy}")
    procs.append(p)
    cap = capture_start(d, procs)
    c = kclient("f2", CPORT)
    procs.append(c)
    got = step(c)
    assert got["first"][0] == 200, got
    # Drop the kernel's ACK of twstack's FIN and every repeat of it (its TIME_WAIT
    # answering our retransmitted FIN): pure ACKs acknowledging the FIN's sequence
    # number, rcv_nxt + 1. Nothing else matches, not the SYN, the RST or the new
    # connection's ACKs, so the rule stays until the round ends: twstack cannot leave
    # LAST_ACK before the kernel's SYN comes, whatever its FIN retransmissions do.
    fin_ack = (got["rcv_nxt"] + 1) & 0xffffffff
    sh("nft", "add table inet twsf", ns=K.NS_K)
    sh("nft", "add chain inet twsf out { type filter hook output priority 0 ; }", ns=K.NS_K)
    sh("nft", f"add rule inet twsf out tcp sport {CPORT} tcp flags == ack "
       f"tcp ackseq {fin_ack} counter drop", ns=K.NS_K)
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
    go(c)
    res = step(c)
    c.wait(timeout=10)
    st = K.stop_server(p, sj)
    sh("nft", "delete table inet twsf", ns=K.NS_K)
    return res, st, (capture_stop(cap, f"I-F2/F3 lastack_syn={policy}") if cap else None), \
        fin_ack


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
    for policy, (r, s, segs, fin_ack) in res.items():
        WIRE[policy] = (segs, fin_ack)
    r, s, _, _ = res["rst"]
    assert r["step"] == "reconnect_failed" and r["errno"] == 111, r     # ECONNREFUSED
    assert s["rst_sent"] == 1 and s["connections"] == 1, s
    rc, s, _, _ = res["challenge"]
    assert rc["step"] == "reconnected" and rc["second"][0] == 200, rc
    # The challenge ACK is unacceptable in SYN_SENT: the kernel resets it (ending our
    # LAST_ACK) and sends its SYN again; that second SYN connects.
    assert rc["syn_retrans"] == 1, rc
    assert s["challenge_acks"] == 1 and s["lastack_syn_accepted"] == 0, s
    assert s["connections"] == 2 and s["errors"]["total"] == 0, s
    ra, s, _, _ = res["accept"]
    assert ra["step"] == "reconnected" and ra["second"][0] == 200, ra
    assert ra["syn_retrans"] == 0, ra                   # the first SYN connected
    assert s["lastack_syn_accepted"] == 1 and s["challenge_acks"] == 0, s
    assert s["connections"] == 2 and s["errors"]["total"] == 0, s
    # (No wall-clock assertion: syn_retrans above, and the capture, say which SYN connected.)
    print(f"# connect after LAST_ACK: challenge {rc['connect_s'] * 1000:.1f} ms, "
          f"accept {ra['connect_s'] * 1000:.1f} ms")


# The captures of IF2_F3's rounds, per policy: (segments, the ACK number of twstack's FIN).
WIRE = {}


def lastack_exchange(segs, fin_ack):
    """Split a round's capture at the kernel's reconnecting SYN: (the kernel's FIN seq, what
    went before the SYN, the SYN and everything after it), after the checks every policy
    shares: the kernel closed first, twstack's FIN carried seq fin_ack - 1, and no ACK of
    that FIN reached the wire (the nft rule dropped the kernel's last ACK and its repeats)."""
    kfin = next((i for i, g in enumerate(segs) if g[0] == "k" and "F" in g[1]), None)
    assert kfin is not None, segs
    tfin = next((i for i, g in enumerate(segs) if g[0] == "t" and "F" in g[1]), None)
    assert tfin is not None and tfin > kfin and segs[tfin][2] == (fin_ack - 1) & 0xffffffff, segs
    syn = next((i for i in range(tfin, len(segs)) if segs[i][:2] == ("k", "S")), None)
    assert syn is not None, segs
    before = segs[:syn]
    assert not [g for g in before if g[0] == "k" and g[3] == fin_ack], before
    return segs[kfin][2], before, segs[syn:]


@tap.case
def IF2_F3_the_syn_meeting_last_ack_on_the_wire():
    # The same rounds as the wire at the kernel's veth saw them (tcpdump -nn -S): the
    # exchange each lastack_syn policy must produce from the kernel's SYN on.
    if shutil.which("tcpdump") is None:
        raise tap.Skip("tcpdump not installed (Debian package tcpdump): the wire is not checked")
    assert set(WIRE) == {"rst", "challenge", "accept"}, "IF2_F3's rounds did not all run"
    fl = lambda tail, n: [g[:2] for g in tail[:n]]      # noqa: E731 - (from, flags)

    segs, fin_ack = WIRE["rst"]
    kf, before, tail = lastack_exchange(segs, fin_ack)
    x = tail[0][2]
    # RST|ACK acknowledging the SYN, and nothing more on the 4-tuple.
    assert fl(tail, 9) == [("k", "S"), ("t", "R.")], tail
    assert tail[1][3] == (x + 1) & 0xffffffff and tail[1][2] == fin_ack, tail

    segs, fin_ack = WIRE["challenge"]
    kf, before, tail = lastack_exchange(segs, fin_ack)
    x = tail[0][2]
    # Kernel SYN; our challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT> (RCV.NXT: past the kernel's
    # FIN); the kernel's RST at that ACK number (it ends LAST_ACK: an exact RST); the
    # kernel's SYN again, same ISN; our SYN-ACK for it; the kernel's ACK.
    assert fl(tail, 6) == [("k", "S"), ("t", "."), ("k", "R"), ("k", "S"), ("t", "S."),
                           ("k", ".")], tail
    assert tail[1][3] == (kf + 1) & 0xffffffff, (kf, tail)
    assert tail[2][2] == tail[1][3], tail
    assert tail[3][2] == x and tail[4][3] == (x + 1) & 0xffffffff, tail
    assert tail[5][3] == (tail[4][2] + 1) & 0xffffffff != fin_ack, tail
    print(f"# challenge: the kernel's SYN again {(tail[3][4] - tail[2][4]) * 1000:.1f} ms "
          f"after its RST")

    segs, fin_ack = WIRE["accept"]
    kf, before, tail = lastack_exchange(segs, fin_ack)
    x = tail[0][2]
    # The first SYN answered by a SYN-ACK of a new ISN, then the kernel's ACK of it.
    assert fl(tail, 3) == [("k", "S"), ("t", "S."), ("k", ".")], tail
    assert tail[1][3] == (x + 1) & 0xffffffff, tail
    assert tail[2][3] == (tail[1][2] + 1) & 0xffffffff != fin_ack, tail
    assert not [g for g in tail if g[0] == "t" and g[1] == "."
                and g[3] == (kf + 1) & 0xffffffff], tail            # no challenge ACK


if __name__ == "__main__":
    tap.run_cases(skip_all=K.skip_reason(("ip", "ethtool", "nft", "ss")))
