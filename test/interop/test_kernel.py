#!/usr/bin/env python3
"""Interop (issue 7): the Linux kernel as the peer of tws-server and tws-gen.

Two network namespaces of our own joined by a veth pair (198.18.0.0/24);
tws-server attaches to one end with net_af_packet, curl runs in the other.
Needs root, ip, ethtool and curl; skips (TAP) otherwise. Everything made here is
removed on exit, also on failure, by name (namespaces) and PID (the server).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from tap import Skip, case, run_cases  # noqa: E402 - after the path is set

# The programs under test: argv when run as the script; a module importing these
# helpers (test_kernel_faults.py) sets them itself.
SERVER = sys.argv[1] if __name__ == "__main__" else None
GEN = sys.argv[2] if __name__ == "__main__" else None
TAG = f"tws{os.getpid()}"
NS_T, NS_K = f"{TAG}t", f"{TAG}k"       # twstack side, kernel side


def sh(*cmd, check=True, ns=None, timeout=20):
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=timeout)


def setup():
    sh("ip", "netns", "add", NS_T)
    sh("ip", "netns", "add", NS_K)
    sh("ip", "link", "add", "vt", "netns", NS_T, "type", "veth", "peer", "name", "vk",
       "netns", NS_K)
    sh("ip", "-n", NS_K, "addr", "add", "198.18.0.2/24", "dev", "vk")
    for ns, dev in ((NS_T, "vt"), (NS_K, "vk"), (NS_K, "lo")):
        sh("ip", "-n", ns, "link", "set", dev, "up")
    # The kernel must hand the DPDK side whole packets with real checksums.
    sh("ethtool", "-K", "vk", "tx", "off", "tso", "off", "gso", "off", ns=NS_K, check=False)
    sh("ethtool", "-K", "vt", "rx", "off", "tx", "off", "tso", "off", "gso", "off", ns=NS_T,
       check=False)


def teardown(procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    for ns in (NS_T, NS_K):
        sh("ip", "netns", "del", ns, check=False)


def run_server(d, *args):
    """tws-server in the twstack namespace; returns (process, path of its JSON).

    Its telemetry socket is on (a file prefix of our own): stop_server() reads the
    stack's live counters through it to stop the server only once it is idle.
    """
    sj = os.path.join(d, "server.json")
    prefix = f"{TAG}-{time.monotonic_ns()}"
    p = subprocess.Popen(["ip", "netns", "exec", NS_T, SERVER, "--vdev=net_af_packet0,iface=vt",
                          "--telemetry", "--file-prefix", prefix,
                          "--", "--port", "net_af_packet0", "--addr", "198.18.0.1/24",
                          "--listen", "80", "--seconds", "30", "--json", sj, *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.telemetry = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if "listening" in line or line == "":
            break
    return p, sj


def server_stats(p):
    """The running tws-server's stack counters (/tws/stats over DPDK telemetry)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(5)
        s.connect(p.telemetry)
        s.recv(16384)                       # the greeting: version, pid, max_output_len
        s.send(b"/tws/stats")
        return json.loads(s.recv(65536))["/tws/stats"]


def wait_server(p, until, timeout=10):
    """Poll the server's counters until until(stats) holds; the last stats either way."""
    deadline = time.monotonic() + timeout
    while True:
        st = server_stats(p)
        if until(st) or time.monotonic() > deadline:
            return st
        time.sleep(0.02)


def stop_server(p, sj, until=lambda st: st["conns"] == 0):
    """SIGINT tws-server once until(its live counters) holds (by default: no connection is
    left, i.e. every last FIN/ACK on the wire has been processed), or after 10 s anyway
    (the caller's assertions on the JSON then say what was missing); its JSON summary."""
    if until is not None and p.poll() is None:
        try:
            wait_server(p, until)
        except OSError:
            pass                            # no telemetry: the JSON still tells
    p.send_signal(2)
    p.wait(timeout=15)
    return json.load(open(sj))


# --- captures: tcpdump records, tshark decodes -------------------------------------

def need(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise Skip(f"not installed: {', '.join(missing)} (Debian packages; scripts/lib.sh "
                   "installs them)")


def tcap_start(d, procs, ns, dev, filt, name):
    """tcpdump on @p dev of namespace @p ns, written to <d>/<name>.pcap."""
    pcap = os.path.join(d, name + ".pcap")
    t = subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-i", dev, "-nn", "-U",
                          "--immediate-mode", "-Z", "root", "-w", pcap, filt],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    procs.append(t)
    line = t.stderr.readline()             # "listening on ..." once the capture is live
    assert "listening on" in line, line + t.stderr.read()[-500:]
    t.pcap = pcap
    return t


FIELDS = ("frame.time_relative", "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport", "tcp.flags",
          "tcp.seq_raw", "tcp.ack_raw", "tcp.len", "tcp.options.timestamp.tsval",
          "tcp.options.timestamp.tsecr")
FLAG_BITS = (("F", 0x01), ("S", 0x02), ("R", 0x04), ("P", 0x08), ("A", 0x10))


def tcap_stop(t):
    """Stop tcpdump; (segments, summary lines). A segment is a dict: t (s from the first
    frame), src, sport, dst, dport, flags ('SA', 'A', 'FA', 'R'... from the flag bits),
    seq, ack, len, tsval, tsecr (None without timestamps), all decoded by tshark."""
    t.send_signal(2)
    t.wait(timeout=10)
    cmd = ["tshark", "-n", "-r", t.pcap, "-o", "tcp.relative_sequence_numbers:FALSE"]
    txt = sh(*cmd, "-T", "fields", *sum((["-e", f] for f in FIELDS), []), "-E",
             "separator=|").stdout
    segs = []
    for line in txt.splitlines():
        v = line.split("|")
        fl = int(v[5], 16)
        segs.append(dict(t=float(v[0]), src=v[1], sport=int(v[2]), dst=v[3], dport=int(v[4]),
                         flags="".join(c for c, b in FLAG_BITS if fl & b), seq=int(v[6]),
                         ack=int(v[7]), len=int(v[8]),
                         tsval=int(v[9]) if v[9] else None, tsecr=int(v[10]) if v[10] else None))
    lines = sh(*cmd, "-t", "r").stdout.splitlines()
    return segs, lines


def show(title, lines, limit=40):
    """The decoded exchange as TAP comments (what docs/time-wait.md quotes)."""
    print(f"# {title}:")
    for line in lines[:limit]:
        print("#   " + " ".join(line.split()))
    if len(lines) > limit:
        print(f"#   ... {len(lines) - limit} more")


@case
def curl_gets_every_response_from_tws_server():
    procs = []
    with tempfile.TemporaryDirectory() as d:
        try:
            setup()
            p, sj = run_server(d, "--response-bytes", "1000")
            procs.append(p)
            n = 20
            codes = [sh("curl", "-s", "-m", "5", "-o", "/dev/null", "-w",
                        "%{http_code} %{size_download}", "http://198.18.0.1/", ns=NS_K,
                        check=False).stdout for _ in range(n)]
            assert codes == ["200 1000"] * n, codes
            s = stop_server(p, sj)
            assert s["connections"] == n and s["finished"] == n, s
            assert s["errors"]["total"] == 0, s
            # curl closes first: the TIME_WAIT entries are the kernel's, none here.
            assert s["tw_entries"] == 0, s
        finally:
            teardown(procs)


@case
def IS1_kernel_client_port_exhaustion_while_its_time_wait_lives():
    # The seed's Shell 1: a Linux client with one local port and tcp_tw_reuse=0 holds
    # TIME_WAIT after the first request, so its second connect cannot get a port.
    need("tcpdump", "tshark")
    procs = []
    with tempfile.TemporaryDirectory() as d:
        try:
            setup()
            # Sysctls of the kernel's namespace of our own, never the host's.
            sh("sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=30000 30000", ns=NS_K)
            sh("sysctl", "-q", "-w", "net.ipv4.tcp_tw_reuse=0", ns=NS_K)
            p, sj = run_server(d)
            procs.append(p)
            cap = tcap_start(d, procs, NS_K, "vk", "tcp port 30000", "is1")
            first = sh("curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                       "http://198.18.0.1/", ns=NS_K, check=False)
            second = sh("curl", "-s", "-S", "-m", "5", "-o", "/dev/null", "-w",
                        "%{http_code}", "http://198.18.0.1/", ns=NS_K, check=False)
            time.sleep(0.2)
            segs, lines = tcap_stop(cap)
            show("I-S1 the kernel client 198.18.0.2:30000, tcp_tw_reuse=0", lines)
            assert first.stdout == "200", (first.stdout, first.stderr)
            assert second.returncode != 0 and second.stdout == "000", (second.returncode,
                                                                       second.stdout)
            assert "connect" in second.stderr.lower(), second.stderr
            tw = sh("ss", "-Htan", "state", "time-wait", ns=NS_K).stdout
            assert ":30000" in tw, tw  # the kernel client's own TIME_WAIT holds the port
            # On the wire: one connection, the kernel's FIN first (curl closes first, so
            # the TIME_WAIT is the kernel's), then no second SYN at all: the connect
            # failed inside the kernel (EADDRNOTAVAIL) before anything was sent.
            k = [g for g in segs if g["src"] == "198.18.0.2"]
            t = [g for g in segs if g["src"] == "198.18.0.1"]
            assert [g["flags"] for g in k].count("S") == 1, lines
            kfin = [g["t"] for g in k if "F" in g["flags"]]
            tfin = [g["t"] for g in t if "F" in g["flags"]]
            assert len(kfin) == len(tfin) == 1 and kfin[0] < tfin[0], lines
            assert "A" == k[-1]["flags"] and k[-1]["ack"] == (t[-1]["seq"] + 1) & 0xffffffff, \
                lines                                 # the kernel's last ACK: TIME_WAIT
            assert not [g for g in segs if "R" in g["flags"]], lines
            s = stop_server(p, sj)
            assert s["connections"] == 1 and s["errors"]["total"] == 0, s
        finally:
            teardown(procs)


@case
def IS2_server_time_wait_replaced_by_the_kernels_next_syn():
    # The server closes first and holds TIME_WAIT; the Linux client reconnects from the
    # same port at once: its SYN (newer timestamp) replaces the entry (spec 3 rule 2).
    need("tcpdump", "tshark")
    procs = []
    with tempfile.TemporaryDirectory() as d:
        try:
            setup()
            p, sj = run_server(d, "--close", "server")
            procs.append(p)
            cap = tcap_start(d, procs, NS_K, "vk", "tcp port 30000", "is2")
            codes = [sh("curl", "-s", "-m", "5", "--local-port", "30000", "-o", "/dev/null",
                        "-w", "%{http_code}", "http://198.18.0.1/", ns=NS_K,
                        check=False).stdout for _ in range(2)]
            assert codes == ["200", "200"], codes
            time.sleep(0.2)
            segs, lines = tcap_stop(cap)
            show("I-S2 tws-server closes first; the kernel reconnects from port 30000", lines)
            # On the wire: twstack's FIN first (its TIME_WAIT), then the kernel's SYN on
            # the same 4-tuple with a newer TSval, answered by a SYN-ACK: no RST, no ACK
            # of the old connection in between.
            syns = [i for i, g in enumerate(segs) if g["flags"] == "S"]
            assert len(syns) == 2, lines
            old_c, syn = segs[:syns[1]], segs[syns[1]]
            fins = [g for g in old_c if "F" in g["flags"]]
            assert [g["src"] for g in fins] == ["198.18.0.1", "198.18.0.2"], lines
            assert 0 < (syn["tsval"] - max(g["tsval"] for g in old_c if g["src"] ==
                                           "198.18.0.2")) & 0xffffffff < 1 << 31, lines
            nxt = segs[syns[1] + 1]
            assert nxt["src"] == "198.18.0.1" and nxt["flags"] == "SA" and \
                nxt["ack"] == (syn["seq"] + 1) & 0xffffffff, lines
            assert not [g for g in segs if "R" in g["flags"]], lines
            s = stop_server(p, sj)
            assert s["connections"] == 2 and s["finished"] == 2, s
            assert s["tw_syn_accepted"] == 1, s      # the second SYN took the entry over
            assert s["tw_entries"] == 1, s           # the second connection's own entry
            assert s["errors"]["total"] == 0, s
        finally:
            teardown(procs)


# An HTTP/1.1 keep-alive server for the kernel side: it never closes first. Its body is
# tws-server's pattern (app_http_body_byte(): 'a' + i % 26, a newline every 64th byte),
# which tws-gen checks byte by byte.
KERNEL_SERVER = r"""
import http.server, socketserver
BODY = bytes(10 if i % 64 == 63 else 97 + i % 26 for i in range(100))
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = BODY
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
S(("198.18.0.2", 8080), H).serve_forever()
"""


def start_kernel_server(procs):
    k = subprocess.Popen(["ip", "netns", "exec", NS_K, sys.executable, "-c", KERNEL_SERVER],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    procs.append(k)
    for _ in range(50):
        if "8080" in sh("ss", "-Hltn", "sport = :8080", ns=NS_K, check=False).stdout:
            return
        time.sleep(0.1)
    raise AssertionError("the kernel's HTTP server did not start")


def run_gen(d, *args, timeout=60, addr="198.18.0.1/24"):
    """tws-gen in the twstack namespace against 198.18.0.2:8080: (its result, its JSON)."""
    gj = os.path.join(d, "gen.json")
    r = sh(GEN, "--vdev=net_af_packet0,iface=vt", "--", "--port", "net_af_packet0",
           "--addr", addr, "--server", "198.18.0.2:8080", "--json", gj, *args,
           ns=NS_T, check=False, timeout=timeout)
    try:
        return r, json.load(open(gj))
    except (OSError, ValueError):
        raise AssertionError(("tws-gen wrote no summary", r.returncode, r.stderr[-2000:])) \
            from None


@case
def IS3_one_source_port_reused_from_time_wait_only_with_tw_reuse():
    # tws-gen with a single local port, one connection per second to a kernel server:
    # with tw_reuse=1 each new connection takes over the previous TIME_WAIT entry once it
    # is tw_reuse_delay_ms (1 s) old; with tw_reuse=0 the connects fail (addr_not_avail).
    procs = []
    with tempfile.TemporaryDirectory() as d:
        try:
            setup()
            start_kernel_server(procs)
            one_port = ("--knob", "port_min=40000", "--knob", "port_max=40000",
                        "--concurrency", "1", "--rate", "1")
            r, g = run_gen(d, *one_port, "--seconds", "6", "--knob", "tw_reuse=1")
            # A connect that comes while the entry is younger than the delay is refused
            # (counted addr_not_avail, spec 5); every connection after the first reuses.
            e = g["errors"]
            assert e["reset"] == e["timeout"] == e["refused"] == e["data"] == 0, e
            assert g["tw_reused"] >= 2 and g["tw_reused"] == g["connections"] - 1, g
            r, g = run_gen(d, *one_port, "--seconds", "2", "--knob", "tw_reuse=0")
            assert g["connections"] == 1, g
            assert g["errors"]["addr_not_avail"] >= 1, g["errors"]
        finally:
            teardown(procs)


@case
def IT6_linger0_close_leaves_no_time_wait_anywhere():
    # tws-gen aborts each connection after its response (--close rst): the kernel
    # server gets RST|ACK, and neither side keeps a TIME_WAIT entry (spec 2, T6).
    need("tcpdump", "tshark")
    procs = []
    with tempfile.TemporaryDirectory() as d:
        try:
            setup()
            start_kernel_server(procs)
            cap = tcap_start(d, procs, NS_K, "vk", "tcp port 8080", "it6")
            r, g = run_gen(d, "--rate", "100", "--concurrency", "4", "--seconds", "2",
                           "--close", "rst")
            segs, lines = tcap_stop(cap)
            show("I-T6 tws-gen --close rst against a kernel server (one connection)",
                 lines[:8])
            assert r.returncode == 0, (r.returncode, r.stdout[-500:], r.stderr[-500:])
            # On the wire: every connection ends with twstack's RST|ACK, no FIN either way.
            ours = [x for x in segs if x["src"] == "198.18.0.1"]
            assert not [x for x in segs if "F" in x["flags"]], lines[:40]
            rsts = [x for x in ours if "R" in x["flags"]]
            assert all(x["flags"] == "RA" for x in rsts), rsts[:5]
            assert len(rsts) == len([x for x in ours if x["flags"] == "S"]) == \
                g["connections"], (len(rsts), g["connections"])
            assert g["connections"] >= 100 and g["errors"]["total"] == 0, g
            assert g["tw_entries_end"] == 0 and g["tw_entries_peak"] == 0, g
            tw = sh("ss", "-Htan", "state", "time-wait", ns=NS_K).stdout.strip()
            assert tw == "", tw
        finally:
            teardown(procs)


def skip_reason(tools=("ip", "ethtool", "curl")):
    """Why the interop cases cannot run here (None: they can)."""
    missing = [t for t in tools if shutil.which(t) is None]
    return ("not root: network namespaces need CAP_NET_ADMIN" if os.geteuid() != 0 else
            f"missing tools: {', '.join(missing)}" if missing else None)


if __name__ == "__main__":
    run_cases(skip_all=skip_reason())
