#!/usr/bin/env python3
"""Interop (issue 7), real applications: nginx, wrk and kernel clients behind SNAT.

I-S3 (tws-gen with one source port against nginx: TIME_WAIT reuse on the wire),
I-LOAD (wrk against tws-server, tws-gen against nginx, 10 s each, every response
byte checked) and I-F4 (tw_recycle and two kernel clients behind one masquerading
namespace). Namespaces, veth, tws-server and tws-gen come from test_kernel.py's
helpers. Each exchange is captured with tcpdump and decoded with tshark (field by
field for the assertions; the one-line summaries are printed as TAP comments, the
lines docs/time-wait.md quotes). Root only; a case whose tools are missing (nginx,
wrk, tshark, nft) skips with their names. Everything made here is removed on exit,
also on failure: namespaces by name, processes by PID.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_kernel as K  # noqa: E402 - after the path is set
import tap  # noqa: E402 - test_kernel put test/common on the path

# Importing test_kernel registered its cases too: this file runs only its own.
tap.cases.clear()
K.SERVER, K.GEN = sys.argv[1], sys.argv[2]
sh = K.sh

# tws-server's body (app_http_body_byte()): 'a' + i % 26, a newline every 64th byte.
def body(n):
    return bytes(10 if i % 64 == 63 else 97 + i % 26 for i in range(n))


def need(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise tap.Skip(f"not installed: {', '.join(missing)} (Debian packages; scripts/lib.sh "
                       "installs them)")


capture_start, capture_stop, show = K.tcap_start, K.tcap_stop, K.show


# --- nginx in the kernel's namespace -----------------------------------------------

NGINX_CONF = """
worker_processes 1;
user root;
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    default_type application/octet-stream;
    keepalive_requests 1000000;
    client_body_temp_path {d}/t-body;
    proxy_temp_path {d}/t-proxy;
    fastcgi_temp_path {d}/t-fcgi;
    uwsgi_temp_path {d}/t-uwsgi;
    scgi_temp_path {d}/t-scgi;
    server {{
        listen 198.18.0.2:8080;
        root {d}/www;
        location / {{ index index.html; }}
    }}
}}
"""


def start_nginx(d, procs, nbytes):
    """nginx on 198.18.0.2:8080 in the kernel's namespace, its index.html @p nbytes of
    tws-server's body pattern (which tws-gen checks byte by byte)."""
    nd = os.path.join(d, "nginx")
    os.makedirs(os.path.join(nd, "www"))
    with open(os.path.join(nd, "www", "index.html"), "wb") as f:
        f.write(body(nbytes))
    with open(os.path.join(nd, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(d=nd))
    p = subprocess.Popen(["ip", "netns", "exec", K.NS_K, "nginx", "-e", "stderr", "-p", nd,
                          "-c", os.path.join(nd, "nginx.conf")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    procs.append(p)
    for _ in range(100):
        if "8080" in sh("ss", "-Hltn", "sport = :8080", ns=K.NS_K, check=False).stdout:
            return p
        if p.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError("nginx did not start: " + (p.stderr.read() if p.poll() is not None
                                                    else "not listening after 5 s"))


# --- I-S3 --------------------------------------------------------------------------

PORT = 40000


@tap.case
def IS3_nginx_one_source_port_reused_from_time_wait_on_the_wire():
    # tws-gen with the single local port 40000, one connection per second, against
    # nginx. tw_reuse=1: each new SYN takes over the previous connection's TIME_WAIT
    # entry, with ISN = that connection's SND.NXT (after its FIN) + 65537 and a TSval
    # newer than any it sent, so the kernel (in LAST_ACK or CLOSED) accepts it: no RST.
    # tw_reuse=0: one connection, then addr_not_avail, and one SYN on the wire.
    need("nginx", "tcpdump", "tshark")
    procs = []
    with tempfile.TemporaryDirectory() as d:
        try:
            K.setup()
            start_nginx(d, procs, 100)
            one_port = ("--knob", f"port_min={PORT}", "--knob", f"port_max={PORT}",
                        "--concurrency", "1", "--rate", "1", "--linger", "0.5")
            cap = capture_start(d, procs, K.NS_K, "vk", f"tcp port {PORT}", "is3")
            r, g = K.run_gen(d, *one_port, "--seconds", "4.5", "--knob", "tw_reuse=1")
            segs, lines = capture_stop(cap)
            show("I-S3 tw_reuse=1, tws-gen 198.18.0.1:40000 against nginx 198.18.0.2:8080",
                 lines)
            e = g["errors"]
            assert e["reset"] == e["timeout"] == e["refused"] == e["data"] == 0, e
            assert g["connections"] >= 3 and g["tw_reused"] == g["connections"] - 1, g
            assert g["bytes_verified"] == 100 * g["connections"], g

            ours = [s for s in segs if s["src"] == "198.18.0.1"]
            syns = [i for i, s in enumerate(ours) if s["flags"] == "S"]
            assert len(syns) == g["connections"], (len(syns), g["connections"], lines)
            assert not [s for s in segs if "R" in s["flags"]], lines
            for a, b in zip(syns, syns[1:]):
                prev = ours[a:b]
                fin = [s for s in prev if "F" in s["flags"]]
                assert len(fin) == 1, prev
                snd_nxt = (fin[0]["seq"] + 1) & 0xffffffff
                syn = ours[b]
                assert syn["seq"] == (snd_nxt + 65537) & 0xffffffff, (snd_nxt, syn)
                newest = max(s["tsval"] for s in prev)
                assert 0 < (syn["tsval"] - newest) & 0xffffffff < 1 << 31, (newest, syn)
            # Each reuse SYN answered by nginx's SYN-ACK acknowledging exactly it.
            for i in syns:
                syn = ours[i]
                sa = [s for s in segs if s["src"] == "198.18.0.2" and s["flags"] == "SA"
                      and s["ack"] == (syn["seq"] + 1) & 0xffffffff]
                assert len(sa) == 1, (syn, lines)
            print(f"# {g['connections']} connections on one tuple, {g['tw_reused']} reused "
                  f"from TIME_WAIT, ISN = old SND.NXT + 65537 each time")

            cap = capture_start(d, procs, K.NS_K, "vk", f"tcp port {PORT}", "is3-noreuse")
            r, g = K.run_gen(d, *one_port, "--seconds", "2.5", "--knob", "tw_reuse=0")
            segs, lines = capture_stop(cap)
            assert g["connections"] == 1 and g["errors"]["addr_not_avail"] >= 1, g
            assert len([s for s in segs if s["flags"] == "S"]) == 1, lines
        finally:
            K.teardown(procs)


# --- I-LOAD ------------------------------------------------------------------------

WRK_LUA = r"""
-- Every response checked against tws-server's body: status 200 and the exact bytes.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
    good, bad = 0, 0
    local n = tonumber(args[1])
    local t = {}
    for i = 0, n - 1 do
        t[#t + 1] = (i % 64 == 63) and "\n" or string.char(97 + i % 26)
    end
    expect = table.concat(t)
end
function response(status, headers, body)
    if status == 200 and body == expect then good = good + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
    local g, b = 0, 0
    for _, t in ipairs(threads) do g = g + t:get("good"); b = b + t:get("bad") end
    io.write(string.format("verified %d bad %d requests %d errors %d %d %d %d %d\n", g, b,
        summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write,
        summary.errors.status, summary.errors.timeout))
end
"""


@tap.case
def ILOAD_wrk_against_tws_server_every_response_byte_right():
    # wrk (2 threads, 32 keep-alive connections) in the kernel's namespace for 10 s
    # against tws-server (1000-byte responses); a Lua script checks every response's
    # status and every body byte. Zero errors on both sides.
    need("wrk")
    procs = []
    with tempfile.TemporaryDirectory() as d:
        try:
            K.setup()
            lua = os.path.join(d, "check.lua")
            with open(lua, "w") as f:
                f.write(WRK_LUA)
            p, sj = K.run_server(d, "--response-bytes", "1000")
            procs.append(p)
            r = sh("wrk", "-t2", "-c32", "-d10s", "--timeout", "5s", "-s", lua,
                   "http://198.18.0.1:80/", "--", "1000", ns=K.NS_K, check=False, timeout=60)
            s = K.stop_server(p, sj)
        finally:
            K.teardown(procs)
    print("\n".join("# " + x for x in r.stdout.strip().splitlines()))
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert "Socket errors" not in r.stdout and "Non-2xx" not in r.stdout, r.stdout
    v = [x for x in r.stdout.splitlines() if x.startswith("verified ")]
    assert len(v) == 1, r.stdout
    w = v[0].split()      # verified G bad B requests R errors connect read write status timeout
    good, bad, reqs, errs = int(w[1]), int(w[3]), int(w[5]), [int(x) for x in w[7:12]]
    assert bad == 0 and sum(errs) == 0, v[0]
    assert good == reqs > 10000, v[0]
    # The server answered every request wrk completed (and those still in flight at its
    # end), each connection closed by wrk (client first), no error.
    assert s["errors"]["total"] == 0, s["errors"]
    assert s["responses"] == s["requests"] >= reqs, (s["requests"], reqs)
    assert s["connections"] >= 32 and s["finished"] == s["connections"], s
    print(f"# wrk: {reqs} responses, every byte checked; tws-server: {s['requests']} "
          f"requests on {s['connections']} connections, errors 0")


@tap.case
def ILOAD_tws_gen_against_nginx_every_response_byte_right():
    # tws-gen churns connections against nginx for 10 s (64 in flight, one request each,
    # 1000-byte responses, the client closing first): every connection completes and
    # every body byte is checked; nginx logs no error.
    need("nginx")
    procs = []
    with tempfile.TemporaryDirectory() as d:
        try:
            K.setup()
            ng = start_nginx(d, procs, 1000)
            # 128 local addresses (.16 to .143): 3,613,696 tuples, none reused within the
            # run below 360,000 connections/s (16 ran out at 60,000/s on a Xeon).
            r, g = K.run_gen(d, "--seconds", "10", "--concurrency", "64", "--addrs", "128",
                           "--linger", "0.5", addr="198.18.0.16/24")
            ng.terminate()
            ng.wait(timeout=10)
            ng_err = ng.stderr.read()
        finally:
            K.teardown(procs)
    assert r.returncode == 0, (r.returncode, r.stdout[-1000:], r.stderr[-1000:])
    assert g["errors"]["total"] == 0, g["errors"]
    assert g["connections"] == g["started"] > 5000, g
    assert g["bytes_verified"] == 1000 * g["connections"], g
    assert g["tw_reused"] == 0, g                          # no tuple came round again
    assert g["tw_entries_peak"] == g["connections"], g      # every client TIME_WAIT kept
    assert "[error]" not in ng_err and "[crit]" not in ng_err, ng_err[-2000:]
    print(f"# tws-gen: {g['connections']} connections to nginx in {g['duration_s']} s "
          f"({g['cps']:.0f}/s), {g['bytes_verified']} body bytes checked, errors 0, "
          f"retransmits {g['retransmits']}")


# --- I-F4 --------------------------------------------------------------------------

NS_N, NS_C1, NS_C2 = f"{K.TAG}n", f"{K.TAG}c1", f"{K.TAG}c2"
NAT = "198.18.0.2"
CLIENTS = {NS_C1: ("198.18.1.2", "198.18.1.1", "vn1", "vc1"),
           NS_C2: ("198.18.2.2", "198.18.2.1", "vn2", "vc2")}


def nat_setup():
    """twstack (198.18.0.1) -- vt|vn -- NAT namespace (198.18.0.2, masquerade) with two
    client namespaces behind it (198.18.1.2 and 198.18.2.2)."""
    for ns in (K.NS_T, NS_N, NS_C1, NS_C2):
        sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", "vt", "netns", K.NS_T, "type", "veth", "peer", "name", "vn",
       "netns", NS_N)
    sh("ip", "-n", NS_N, "addr", "add", NAT + "/24", "dev", "vn")
    devs = [(K.NS_T, "vt"), (NS_N, "vn"), (NS_N, "lo")]
    for ns, (ip, gw, nd, cd) in CLIENTS.items():
        sh("ip", "link", "add", nd, "netns", NS_N, "type", "veth", "peer", "name", cd,
           "netns", ns)
        sh("ip", "-n", NS_N, "addr", "add", gw + "/24", "dev", nd)
        sh("ip", "-n", ns, "addr", "add", ip + "/24", "dev", cd)
        devs += [(NS_N, nd), (ns, cd), (ns, "lo")]
    for ns, dev in devs:
        sh("ip", "-n", ns, "link", "set", dev, "up")
        if dev != "lo":
            # Whole packets with real checksums, also when forwarded through the NAT.
            sh("ethtool", "-K", dev, "rx", "off", "tx", "off", "tso", "off", "gso", "off",
               "gro", "off", ns=ns, check=False)
    for ns, (ip, gw, nd, cd) in CLIENTS.items():
        sh("ip", "-n", ns, "route", "add", "default", "via", gw)
    sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=NS_N)   # this namespace's own
    r = subprocess.run(["ip", "netns", "exec", NS_N, "nft", "-f", "-"], text=True,
                       capture_output=True, input="table ip nat {\n chain post {\n"
                       "  type nat hook postrouting priority 100; policy accept;\n"
                       '  oifname "vn" masquerade\n }\n}\n')
    assert r.returncode == 0, r.stderr


def nat_teardown(procs):
    K.teardown(procs)
    for ns in (NS_N, NS_C1, NS_C2):
        sh("ip", "netns", "del", ns, check=False)


def curl(ns, timeout):
    return sh("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--connect-timeout",
              str(timeout), "http://198.18.0.1:80/", ns=ns, check=False, timeout=timeout + 10)


def attempts(segs):
    """Each connection attempt the NAT's twstack side saw, in order: the client's
    (masqueraded) port, its SYNs' TSvals, the highest TSval it sent (the ts_recent its
    TIME_WAIT entry remembers) and whether twstack answered it at all."""
    out = {}
    for s in segs:
        port = s["sport"] if s["src"] == NAT else s["dport"]
        a = out.setdefault(port, dict(port=port, syns=[], ts_max=None, answered=False))
        if s["src"] == NAT:
            if s["flags"] == "S":
                a["syns"].append(s["tsval"])
            if s["tsval"] is not None:
                a["ts_max"] = s["tsval"] if a["ts_max"] is None else max(a["ts_max"], s["tsval"])
        else:
            a["answered"] = True
    return [a for a in out.values() if a["syns"]]


def behind(ref, tsval):
    """The peer cache's test (Linux's tcp_peer_is_proven()): more than 1 behind, mod 2^32."""
    return ref is not None and 1 < (ref - tsval) & 0xffffffff < 1 << 31


def f4_round(d, procs, recycle, until_drop, max_tries):
    """tws-server (server closes first: its TIME_WAIT entries hold the NAT's address)
    with tw_recycle=@p recycle; curl from client 1, client 2, client 1 ... through the
    NAT, one at a time, @p max_tries at most (with @p until_drop: until one is refused
    after one got through). Each attempt checked against the rule: its SYN is dropped
    exactly when its TSval is more than 1 behind the one the last TIME_WAIT entry
    remembered for the NAT's address (recycle on), never with recycle off."""
    p, sj = K.run_server(d, "--close", "server", "--knob", f"tw_recycle={recycle}")
    procs.append(p)
    cap = capture_start(d, procs, NS_N, "vn", "tcp port 80", f"f4-{recycle}")
    codes = []
    for i in range(max_tries):
        codes.append(curl((NS_C1, NS_C2)[i % 2], 1.5).stdout)
        if until_drop and "000" in codes and "200" in codes[:codes.index("000")]:
            break
        time.sleep(0.05)
    st = K.server_stats(p)
    segs, lines = capture_stop(cap)
    K.stop_server(p, sj, until=lambda st: st["conns"] == 0)
    procs.remove(p)
    att = attempts(segs)
    assert len(att) == len(codes), (codes, att, lines)
    ref, dropped_syns, rows = None, 0, []
    for n, (a, code) in enumerate(zip(att, codes)):
        late = recycle and behind(ref, a["syns"][0])
        assert a["answered"] == (not late) and code == ("000" if late else "200"), \
            (n, a, code, ref, lines)
        assert len(a["syns"]) == 1 or late, (a, lines)
        rows.append(f"client {n % 2 + 1}: SYN TSval {a['syns'][0]} "
                    f"{'>' if not behind(ref, a['syns'][0]) else '<'} {ref}: "
                    f"{'dropped x' + str(len(a['syns'])) if late else 'connected'}")
        if late:
            dropped_syns += len(a["syns"])
        else:
            ref = a["ts_max"]                      # its TIME_WAIT entry remembers this
    assert st["paws_passive_rejected"] == dropped_syns, (st["paws_passive_rejected"], rows)
    return codes, rows, lines


@tap.case
def IF4_recycle_drops_syns_behind_the_nat_addresss_last_timestamp_off_all_connect():
    # Two kernel clients, each in its own namespace, reach tws-server through one
    # masquerading namespace: twstack sees one peer address, 198.18.0.2, with several
    # timestamp clocks. (Linux since 4.10 draws a TSval offset per connection, so every
    # connection brings a clock of its own, as separate hosts behind a NAT do.)
    # Recycle off: every connection is made. Recycle on (tws-server closes first, so
    # each connection leaves a TIME_WAIT entry that remembers the peer's last TSval):
    # a later SYN from behind the NAT whose TSval is behind is dropped without an
    # answer, its retransmission too, until curl gives up (paws_passive_rejected).
    need("nft", "tcpdump", "tshark", "curl")
    procs = []
    with tempfile.TemporaryDirectory() as d:
        try:
            nat_setup()
            codes, rows, lines = f4_round(d, procs, 0, False, 6)
            assert codes == ["200"] * 6, codes
            print("# I-F4 recycle off: " + "; ".join(rows))
            codes, rows, lines = f4_round(d, procs, 1, True, 24)
            print("# I-F4 recycle on: " + "; ".join(rows))
            assert "000" in codes, codes                  # 2^-23 to see none by chance
            show("I-F4 recycle on, through the NAT (198.18.0.2)", lines, 60)
        finally:
            nat_teardown(procs)


if __name__ == "__main__":
    tap.run_cases(skip_all=K.skip_reason(("ip", "ethtool", "ss")))
