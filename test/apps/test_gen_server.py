#!/usr/bin/env python3
"""tws-gen and tws-server: options, .ini files, ports, and the pair over memif (TAP).

Argument and configuration errors exit 2 naming the option (or the file, section
and key); a port that does not exist lists those that do. The end-to-end cases run
tws-server and tws-gen as two processes joined by net_memif (a socket in a
temporary directory, addresses in 198.18.0.0/15, nothing leaves the machine) and
check what the JSON summaries say, never a speed. Every child is killed by its
PID in a finally block.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from tap import case, run_cases  # noqa: E402 - after the path is set

GEN, SERVER, TOP = (os.path.abspath(a) for a in sys.argv[1:4])
CHILDREN = []


def run(prog, *args, timeout=30):
    return subprocess.run([prog, *args], capture_output=True, text=True, timeout=timeout)


def usage_error(prog, args, *needles):
    r = run(prog, *args)
    assert r.returncode == 2, (args, r.returncode, r.stdout, r.stderr)
    for n in needles:
        assert n in r.stderr, (args, n, r.stderr)
    return r


GEN_ARGS = ["--port", "net_null0", "--addr", "198.18.0.10/24", "--server", "198.18.0.1:80"]
SRV_ARGS = ["--port", "net_null0", "--addr", "198.18.0.1/24", "--listen", "80"]


@case
def help_lists_every_option():
    for prog, opts in ((GEN, ["--port", "--addr", "--addrs", "--server", "--rate",
                              "--concurrency", "--seconds", "--requests-per-conn",
                              "--request-bytes", "--close", "--knob", "--config", "--json",
                              "--csv"]),
                       (SERVER, ["--port", "--addr", "--addrs", "--listen", "--response-bytes",
                                 "--close", "--max-conns", "--seconds", "--knob", "--config",
                                 "--json"])):
        r = run(prog, "--help")
        assert r.returncode == 0, r
        for o in opts + ["tw_timeout_ms", "tw_reuse", "--no-huge"]:
            assert o in r.stdout, (prog, o)
        assert max(len(line) for line in r.stdout.splitlines()) < 100


@case
def bad_values_name_the_option_and_what_is_accepted():
    for args, needles in (
            (["--rate", "fast"], ["--rate 'fast'", "0 to 100000000"]),
            (["--concurrency", "0"], ["--concurrency", "1 to"]),
            (["--seconds", "0"], ["--seconds '0'", "0.1 to 86400"]),
            (["--link-wait", "0"], ["--link-wait '0'", "0.1 to 3600"]),
            (["--request-bytes", "10"], ["--request-bytes", "64 to"]),
            (["--close", "later"], ["--close 'later'", "fin or rst"]),
            (["--server", "198.18.0.1"], ["--server '198.18.0.1'", "IP:PORT"]),
            (["--server", "198.18.0.1:0"], ["--server", "IP:PORT"]),
            (["--addr", "198.18.0.300"], ["--addr '198.18.0.300'", "IPv4"]),
            (["--addr", "198.18.0.10/40"], ["--addr", "8 to 32"]),
            (["--addrs", "300"], ["--addrs", "inside 198.18.0.0/24"]),
            (["--server", "198.18.5.1:80"], ["--server 198.18.5.1", "subnet"]),
            (["--knob", "rto_min_ms=0"], ["--knob", "rto_min_ms", "1..60000"]),
            (["--knob", "tw_syn_reject=maybe"], ["tw_syn_reject", "ack, drop"]),
            (["--knob", "nonsense=1"], ["no TCP knob 'nonsense'", "tw_timeout_ms"]),
            (["--knob", "rto_min_ms"], ["--knob 'rto_min_ms'", "name=value"]),
            (["--frobnicate", "1"], ["unknown option '--frobnicate'"]),
            (["--rate"], ["'--rate' needs a value"]),
            (["stray"], ["unexpected argument 'stray'"])):
        usage_error(GEN, GEN_ARGS + args, *needles)
    for args, needles in (
            (["--listen", "80,0"], ["--listen '80,0'", "1..65535"]),
            (["--close", "both"], ["--close 'both'", "client or server"]),
            (["--response-bytes", "-1"], ["--response-bytes"]),
            (["--max-conns", "1"], ["--max-conns", "16 to"])):
        usage_error(SERVER, SRV_ARGS + args, *needles)


@case
def missing_required_options_are_named():
    usage_error(GEN, ["--addr", "198.18.0.10", "--server", "198.18.0.1:80"],
                "--port is required")
    usage_error(GEN, ["--port", "x", "--addr", "198.18.0.10"], "--server is required")
    usage_error(SERVER, ["--port", "x", "--addr", "198.18.0.1"], "--listen is required")


@case
def unknown_port_lists_the_available_ports():
    for prog, args in ((GEN, GEN_ARGS), (SERVER, SRV_ARGS)):
        a = list(args)
        a[1] = "net_nope7"
        r = usage_error(prog, ["--vdev=net_null0", "--vdev=net_null1", "--"] + a,
                        "no port 'net_nope7'", "net_null0", "net_null1")
        assert "available" in r.stderr, r.stderr
    usage_error(GEN, ["--port", "nope"] + GEN_ARGS[2:], "no ports at all", "--vdev")


def write(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


@case
def config_errors_name_file_section_and_key():
    with tempfile.TemporaryDirectory() as d:
        for text, needles in (
                ("[gen]\nrate = fast\n", ["[gen] rate 'fast'", "0 to 100000000"]),
                ("[gen]\nrat = 5\n", ["[gen] rat", "no such option"]),
                ("[tcp]\ntw_timeout_ms = 0\n", ["[tcp]", "tw_timeout_ms", "1..1073741823"]),
                ("[tcp]\ntw_timeout = 5\n", ["[tcp]", "no TCP knob 'tw_timeout'"]),
                ("[client]\nrate = 5\n", ["unknown section [client]", "[gen]", "[tcp]"]),
                ("[gen]\nrate 5\n", ["line 2", "'rate 5'", "name = value"])):
            path = write(d, "bad.ini", text)
            usage_error(GEN, GEN_ARGS + ["--config", path], path, *needles)
        usage_error(GEN, GEN_ARGS + ["--config", os.path.join(d, "none.ini")],
                    "none.ini", "cannot read")
        usage_error(GEN, GEN_ARGS + ["--config"], "'--config' needs a value")
        path = write(d, "s.ini", "[server]\nclose = sometimes\n")
        usage_error(SERVER, SRV_ARGS + ["--config", path], "[server] close 'sometimes'",
                    "client or server")


@case
def config_supplies_options_and_the_command_line_overrides():
    with tempfile.TemporaryDirectory() as d:
        path = write(d, "g.ini", "; a comment\n[gen]\nport = net_from_file\naddr = 198.18.0.10\n"
                     "server = 198.18.0.1:80\n[tcp]\ntw_timeout_ms = 5000\n")
        usage_error(GEN, ["--vdev=net_null0", "--", "--config", path], "no port 'net_from_file'")
        usage_error(GEN, ["--vdev=net_null0", "--", "--config", path, "--port", "net_cli"],
                    "no port 'net_cli'")
        # A bad command-line value is named even when the file had a good one.
        usage_error(GEN, ["--config", path, "--knob", "tw_timeout_ms=0"], "--knob")


@case
def shipped_config_files_parse():
    for prog, ini in ((GEN, "tws-gen.ini"), (SERVER, "tws-server.ini")):
        path = os.path.join(TOP, "config", ini)
        # Everything in the file is accepted; only the port is missing from this EAL.
        usage_error(prog, ["--vdev=net_null0", "--", "--config", path], "no port 'net_memif0'",
                    "net_null0")


def start_server(sock, *args, eal=(), lcores="0"):
    cmd = [SERVER, "-l", lcores, f"--vdev=net_memif0,role=server,socket={sock},socket-abstract=no",
           *eal, "--", "--port", "net_memif0", "--addr", "198.18.0.1/16", "--listen", "80", *args]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    CHILDREN.append(p)
    # It prints "listening" once the port (and the memif socket) is up.
    deadline = time.monotonic() + 20
    line = ""
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if "listening" in line or line == "":
            break
    assert "listening" in line, (line, p.poll())
    return p


def run_gen(sock, *args, timeout=40, lcores="1"):
    cmd = [GEN, "-l", lcores, f"--vdev=net_memif0,role=client,socket={sock},socket-abstract=no",
           "--", "--port", "net_memif0", "--addr", "198.18.1.1/16", "--server", "198.18.0.1:80",
           *args]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    CHILDREN.append(p)
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def stop_server(p):
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=15)
    return p.returncode, out, err


def kill_children():
    for p in CHILDREN:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            # A killed tool cannot remove its (empty, --no-shconf) runtime directory.
            name = os.path.basename(p.args[0])
            try:
                os.rmdir(f"/var/run/dpdk/{name}-{p.pid}")
            except OSError:
                pass
    CHILDREN.clear()


GEN_KEYS = ["cps", "connections", "errors", "latency_us", "tw_entries_peak",
            "tw_bytes_per_entry", "retransmits", "duration_s"]


def pair(server_args, gen_args, server_eal=(), timeout=40, idle=False, lcores=("0", "1")):
    """tws-server and tws-gen over memif, both with JSON summaries, tws-gen with a CSV:
    (gen's exit status, stdout, stderr, JSON, CSV lines, server's exit status, stderr,
    JSON, and with @p idle its live stats once it holds no connection: it then runs with
    telemetry and is stopped only when idle; else None)."""
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "memif.sock")
        sj, gj, gc = (os.path.join(d, n) for n in ("s.json", "g.json", "g.csv"))
        try:
            srv = start_server(sock, "--json", sj, *server_args,
                               eal=tuple(server_eal) + (("--telemetry",) if idle else ()),
                               lcores=lcores[0])
            rc, out, err = run_gen(sock, "--json", gj, "--csv", gc, *gen_args, timeout=timeout,
                                   lcores=lcores[1])
            st = wait_server_idle(srv) if idle else None
            src, sout, serr = stop_server(srv)
            try:
                return (rc, out, err, json.load(open(gj)), open(gc).read().splitlines(),
                        src, serr, json.load(open(sj)), st)
            except ValueError as e:  # a tool that failed wrote no summary: say why
                raise AssertionError(("no JSON summary", e, rc, err[-2000:], src,
                                      serr[-2000:])) from None
        finally:
            kill_children()


@case
def memif_pair_client_closes_first():
    # 256 client addresses x 28232 ports: no tuple is reused within the run, so every
    # connection leaves its own TIME_WAIT entry (60 s, longer than the run).
    rc, out, err, g, csv, src, serr, s, _ = pair([], ["--seconds", "3", "--addrs", "256"])
    assert rc == 0, (rc, out, err)
    for k in GEN_KEYS:
        assert k in g, k
    for k in ("addr_not_avail", "reset", "timeout", "refused", "data"):
        assert g["errors"][k] == 0, g["errors"]
    for k in ("connect", "request"):
        lat = g["latency_us"][k]
        assert 0 < lat["p50"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat
        assert lat["samples"] == g["connections"], (lat, g["connections"])
    assert g["connections"] > 1000 and g["connections"] == g["started"], g
    assert g["tw_entries_end"] == g["connections"] == g["tw_entries_peak"], g
    assert g["tw_overflow"] == 0 and g["tw_reused"] == 0, g
    assert 30 < g["tw_bytes_per_entry"] < 64, g
    assert 2.9 < g["duration_s"] < 6, g
    assert abs(g["cps"] - g["connections"] / g["duration_s"]) <= 1 + g["cps"] * 0.01, g
    # One progress line per second, the same in the CSV.
    assert csv[0].startswith("time_s,connections,cps,open,tw_entries"), csv
    assert 3 <= len(csv) - 1 <= 5, csv
    assert out.count("conn/s") >= 3, out
    # The server saw every connection finish and made no TIME_WAIT of its own.
    assert src == 0, (src, serr)
    assert s["finished"] == s["connections"] == g["connections"], (s, g["connections"])
    assert s["errors"]["total"] == 0 and s["tw_entries"] == 0, s
    # tws-gen said goodbye before it went, and the server answered (memif hand-off).
    assert g["port"]["handoffs"] == 1 and s["port"]["handoffs"] == 1, (g["port"], s["port"])


@case
def memif_pair_two_lanes_each_share_the_work():
    # Two lanes (lcores) on each side, on this machine's two cores: each gen lane has
    # its own memif queue pair, connection table and half of the concurrency, the rate
    # and the local ports; the server's lane q answers queue q. A low rate: four
    # busy-polling threads share two cores.
    rc, out, err, g, csv, src, serr, s, st = pair(
        [], ["--seconds", "3", "--addrs", "64", "--rate", "2000", "--concurrency", "64",
             # Frames still in the memif rings when tws-gen exits are lost with the link;
             # with four threads on two cores the server may be that late with the last ACKs.
             "--linger", "1"],
        lcores=("0-1", "0-1"), timeout=60, idle=True)
    # Telemetry sums the lanes: the server is stopped once both have closed everything.
    assert st["conns"] == 0, st
    assert rc == 0, (rc, out[-2000:], err[-2000:])
    assert "2 lanes" in out, out[:2000]
    assert g["config"]["lanes"] == 2 and g["port"]["lanes"] == 2, (g["config"], g["port"])
    assert s["port"]["lanes"] == 2, s["port"]
    assert g["errors"]["total"] == 0, g["errors"]
    # The lanes together keep to the rate (2000/s for 3 s; each has 1000/s). How close
    # they come to it depends on how the four threads get the two cores: only a floor.
    assert 1000 <= g["connections"] <= 2000 * g["duration_s"] + 64, g["connections"]
    assert g["connections"] == g["started"] == s["finished"] == s["connections"], (g, s)
    # Every client TIME_WAIT entry kept, in the tables of both lanes.
    assert g["tw_entries_end"] == g["connections"], g
    lanes = g["per_lane"]
    assert sorted(lanes) == ["0", "1"], lanes
    assert sum(l["connections"] for l in lanes.values()) == g["connections"], lanes
    assert sum(l["tw_entries"] for l in lanes.values()) == g["tw_entries_end"], lanes
    # Each lane did its share (the scheduler may favour one for a while).
    for l in lanes.values():
        assert l["connections"] >= g["connections"] / 4, lanes
    # memif pairs queue q with queue q: server lane q served gen lane q's connections.
    srv_lanes = s["per_lane"]
    assert sorted(srv_lanes) == ["0", "1"], srv_lanes
    for q in ("0", "1"):
        assert srv_lanes[q]["connections"] == lanes[q]["connections"], (srv_lanes, lanes)
    assert src == 0 and s["errors"]["total"] == 0, (src, serr[-2000:], s["errors"])
    # Each lane said goodbye on its own queue pair and heard the answer: both of the
    # server's lanes parked before the link went.
    assert g["port"]["handoffs"] == 2 and s["port"]["handoffs"] == 2, (g["port"], s["port"])


@case
def lanes_beyond_what_the_tools_run_are_refused():
    # More lcores than --concurrency (tws-gen), or than the 16 lanes either tool runs:
    # exit 2 with the reason, before any port is touched. 17 lcores on one CPU: --lcores.
    usage_error(GEN, ["-l", "0-1", "--vdev=net_null0", "--", *GEN_ARGS, "--concurrency", "1"],
                "2 lcores", "--concurrency (1)")
    many = "--lcores=(0-16)@0"
    usage_error(GEN, [many, "--vdev=net_null0", "--", *GEN_ARGS], "17 lcores", "16")
    usage_error(SERVER, [many, "--vdev=net_null0", "--", *SRV_ARGS], "17 lcores", "16")


@case
def plot_of_the_run_is_drawn_or_skipped_with_a_message():
    import shutil
    with tempfile.TemporaryDirectory() as d:
        png = os.path.join(d, "run.png")
        rc, out, err, g, csv, src, serr, s, _ = pair([], ["--seconds", "2", "--addrs", "64",
                                                      "--plot", png])
        assert rc == 0, (rc, out, err)
        if shutil.which("gnuplot"):
            assert os.path.getsize(png) > 1000, out
            assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
            assert "plot of the run" in out, out
        else:
            assert "gnuplot is not installed" in err, err
    # No data file of the plot's own is left behind.
    assert not [f for f in os.listdir("/tmp") if f.startswith("tws-gen-plot.")]


@case
def telemetry_endpoints_answer_while_running():
    import glob, socket
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "memif.sock")
        try:
            srv = start_server(sock, eal=("--telemetry",))
            path = f"/var/run/dpdk/tws-server-{srv.pid}/dpdk_telemetry.v2"
            for _ in range(50):
                if os.path.exists(path):
                    break
                time.sleep(0.1)
            t = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            t.settimeout(5)
            t.connect(path)
            json.loads(t.recv(4096))
            got = {}
            for cmd in ("/tws/stats", "/tws/tw", "/tws/config"):
                t.send(cmd.encode())
                got[cmd] = json.loads(t.recv(65536))[cmd]
            t.close()
            assert "rx_segs" in got["/tws/stats"] and "tw_entries" in got["/tws/stats"], got
            assert got["/tws/tw"]["entries"] == 0 and got["/tws/tw"]["capacity"] > 0, got
            assert got["/tws/config"]["lastack_syn"] == "accept", got
            assert got["/tws/config"]["port"] == "net_memif0", got
            src, sout, serr = stop_server(srv)
            assert src == 0, (src, serr)
            assert not os.path.exists(os.path.dirname(path)), "runtime directory left"
        finally:
            kill_children()


@case
def memif_pair_server_closes_first():
    rc, out, err, g, csv, src, serr, s, _ = pair(["--close", "server"],
                                              ["--seconds", "1", "--addrs", "128"])
    assert rc == 0, (rc, out, err)
    assert g["errors"]["total"] == 0 and g["connections"] > 100, g
    assert g["tw_entries_end"] == 0, g  # the client closed second: no TIME_WAIT here
    assert s["tw_entries"] == s["finished"] == g["connections"], (s, g["connections"])


@case
def memif_pair_rst_close_and_several_requests():
    rc, out, err, g, csv, src, serr, s, _ = pair(
        ["--response-bytes", "3000"],
        ["--seconds", "1", "--addrs", "16", "--close", "rst", "--requests-per-conn", "3",
         "--request-bytes", "2000", "--concurrency", "32"])
    assert rc == 0, (rc, out, err)
    assert g["errors"]["total"] == 0 and g["connections"] > 100, g
    assert g["requests"] == 3 * g["connections"], g
    assert g["tw_entries_end"] == 0, g  # RST leaves no TIME_WAIT
    assert s["aborted_by_client"] == g["connections"] and s["errors"]["total"] == 0, s
    assert s["requests"] == s["responses"] == g["requests"], s


def server_stats(srv):
    """The running server's /tws/stats over DPDK telemetry (started with --telemetry)."""
    import socket
    path = f"/var/run/dpdk/tws-server-{srv.pid}/dpdk_telemetry.v2"
    for attempt in range(50):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as t:
                t.settimeout(5)
                t.connect(path)
                t.recv(4096)
                t.send(b"/tws/stats")
                return json.loads(t.recv(65536))["/tws/stats"]
        except ConnectionRefusedError:
            # The telemetry thread accepts one client at a time; with both cores
            # polling it may not have taken the last one yet.
            assert srv.poll() is None, ("tws-server exited", srv.returncode)
            time.sleep(0.1)
    raise AssertionError("telemetry refused 50 connections in a row")


def wait_server_idle(srv, timeout=30):
    """Until the server holds no connection (its last FINs acknowledged), polled."""
    deadline = time.monotonic() + timeout
    st = {}
    while time.monotonic() < deadline:
        st = server_stats(srv)
        if st["conns"] == 0:
            break
        time.sleep(0.05)
    return st


FAULT = "loss=5,reorder=5"


@case
def memif_pair_under_5pct_loss_and_reordering_every_byte_verified():
    # Both tools send through a fault link (5 % of frames dropped, 5 % held back behind
    # the next): every connection completes, every payload byte is checked against its
    # pattern on both sides (20000-byte responses, 3000-byte requests), and the
    # retransmission counters show the repairs. Retransmission timeouts back off, so
    # the run gets a long drain; it ends as soon as nothing is in flight.
    rc, out, err, g, _, src, serr, s, idle = pair(
        ["--response-bytes", "20000", "--fault", FAULT + ",seed=5"],
        ["--seconds", "6", "--drain", "60", "--addrs", "16", "--concurrency", "64",
         "--request-bytes", "3000", "--fault", FAULT + ",seed=9",
         # A last ACK lost near the end leaves the server in LAST_ACK retransmitting its
         # FIN: our TIME_WAIT entries must still be there to answer it.
         "--linger", "3"], timeout=120, idle=True)
    assert rc == 0 and src == 0, (rc, err, src, serr)
    assert g["errors"]["total"] == 0 and s["errors"]["total"] == 0, (g["errors"], s["errors"])
    assert g["connections"] == g["started"] > 200, g
    assert idle["conns"] == 0 and s["finished"] == s["connections"] == g["connections"], (idle, s)
    # Every byte checked: the bodies on the client, the X-Pad values on the server.
    assert g["bytes_verified"] == 20000 * g["connections"], g
    pad = 3000 - len("GET / HTTP/1.1\r\nHost: 198.18.0.1\r\nX-Pad: ") - 4
    assert s["bytes_verified"] == pad * s["requests"] and s["requests"] == g["requests"], s
    # The faults happened at about their rates, both ways, and were repaired.
    for j in (g, s):
        f = j["fault"]
        assert 0.03 < f["dropped"] / f["frames"] < 0.07, f
        assert 0.03 < f["reordered"] / f["frames"] < 0.07, f
        assert f["duplicated"] == 0 and f["delayed"] == 0, f
    assert g["retransmits"] > 0 and s["retransmits"] > 0, (g["retransmits"], s["retransmits"])
    lost = g["fault"]["dropped"] + s["fault"]["dropped"]
    assert g["retransmits"] + s["retransmits"] <= 4 * lost, (g["retransmits"], s["retransmits"], lost)


@case
def memif_pair_with_checksum_offload_emulated():
    # --csum emulate on both ends of the memif link: no checksum is computed or checked
    # (as a NIC with offload would do it), every connection still completes and every
    # payload byte is checked end to end. The default on memif (no offload) is software.
    rc, out, err, g, _, src, serr, s, _ = pair(["--csum", "emulate"],
                                                ["--seconds", "1", "--addrs", "64",
                                                 "--csum", "emulate"])
    assert rc == 0 and src == 0, (rc, err, src, serr)
    assert g["port"]["csum"] == s["port"]["csum"] == "emulated", (g["port"], s["port"])
    assert g["errors"]["total"] == 0 and g["connections"] == g["started"] > 1000, g
    assert g["bytes_verified"] == 100 * g["connections"], g
    assert s["finished"] == s["connections"] == g["connections"], s
    rc, out, err, g, _, src, serr, s, _ = pair([], ["--seconds", "0.5", "--addrs", "16"])
    assert g["port"]["csum"] == s["port"]["csum"] == "software", (g["port"], s["port"])


@case
def csum_emulate_on_a_port_that_is_not_virtual_warns():
    with tempfile.TemporaryDirectory() as d:
        r = run(GEN, "--vdev=net_null0", "--", *GEN_ARGS, "--seconds", "0.2", "--drain", "0.1",
                "--csum", "emulate", "--json", os.path.join(d, "g.json"))
    assert "warning: --csum emulate on net_null0 (net_null)" in r.stderr, r.stderr
    usage_error(GEN, GEN_ARGS + ["--csum", "none"], "--csum", "port", "emulate")


@case
def fault_spec_errors_name_what_is_wrong():
    for spec, needle in (("loss=200", "loss: bad value '200'"), ("drop=5", "unknown fault 'drop'"),
                         ("delay=5", "P:T"), ("delay=5:3h", "P:T"), ("loss", "name=value"),
                         ("reorder=60,delay=50:1ms", "above 100%"), ("seed=x", "whole number")):
        usage_error(GEN, GEN_ARGS + ["--fault", spec], f"--fault '{spec}'", needle)
        usage_error(SERVER, SRV_ARGS + ["--fault", spec], f"--fault '{spec}'", needle)


@case
def memif_pair_syn_flood_legit_connections_complete_through_cookies():
    # tws-gen floods the server with spoofed SYNs (16 sources nobody answers for) at
    # 20 times the rate of its own connections; the server's SYN queue is 64, so it
    # is full within milliseconds and stays full of the flood's half-open entries.
    # Every legitimate connection completes (most through a SYN cookie), none fails.
    rc, out, err, g, _, src, serr, s, _ = pair(
        ["--knob", "syn_backlog=64"],
        ["--seconds", "3", "--addrs", "64", "--concurrency", "32", "--rate", "4000",
         "--syn-flood", "80000", "--flood-from", "198.18.2.0/200"])
    assert rc == 0 and src == 0, (rc, err, src, serr)
    fl = g["syn_flood"]
    assert fl["rate"] == 80000 and fl["from"] == "198.18.2.0" and fl["addresses"] == 200, fl
    assert "spoofed SYNs sent from 198.18.2.0 to 198.18.2.199" in out, out
    assert g["errors"]["total"] == 0 and g["connections"] == g["started"] > 5000, g
    # The flood was sent at 20 times the legitimate rate, give or take the warm-up.
    # (A frame the port's ring had no room for is counted as dropped, not sent.)
    assert fl["sent"] > 15 * g["connections"] and fl["dropped"] < fl["sent"] // 20, (fl, g)
    assert s["finished"] == s["connections"] == g["connections"], s
    assert s["errors"]["total"] == 0, s["errors"]
    # The queue stayed full (the flood's SYN_RCVD entries), cookies went out for the
    # rest, and the legitimate ones came back: no SYN was dropped without a cookie.
    assert s["syn_rcvd"] == 64, s
    assert s["syn_queue_full"] == s["syncookies_sent"] > fl["sent"] // 2, s
    assert s["syn_queue_dropped"] == 0 and s["syncookies_failed"] == 0, s
    assert g["connections"] // 2 < s["syncookies_recv"] <= g["connections"], s


@case
def memif_pair_syn_flood_without_cookies_starves_legit_connections():
    # The reference: syncookies=off, the same flood fills the queue and the server
    # drops every SYN past it, legitimate or not. Few connections get through (a SYN
    # that finds a slot freed by a timed-out half-open entry); tws-gen counts the
    # rest as timeouts.
    rc, out, err, g, _, src, serr, s, _ = pair(
        ["--knob", "syn_backlog=64", "--knob", "syncookies=off"],
        ["--seconds", "3", "--addrs", "64", "--concurrency", "32", "--rate", "4000",
         "--syn-flood", "80000", "--drain", "1"])
    assert rc == 3 and src == 0, (rc, err, src, serr)
    # 12000 connections asked for, 32 at a time: those stall behind the full queue
    # (SYN retransmissions dropped too) and are given up at the end.
    assert g["connections"] < 12000 // 20 and g["errors"]["timeout"] > 0, g
    assert g["errors"]["total"] == g["errors"]["timeout"] == g["started"] - g["connections"], g
    assert s["syncookies_sent"] == 0 and s["syn_queue_dropped"] > g["syn_flood"]["sent"] // 2, s


@case
def memif_server_outlives_clients_that_leave_under_load():
    # DPDK's memif unmaps the shared rings from its interrupt thread when the peer
    # goes, while the lcore may be inside a burst on them: tws-server died of SIGSEGV
    # about once in 100 exits of a flooding tws-gen. Now the two say goodbye first
    # (tws_node_bye: BYE, ACK, both park, then tws-gen stops its port). One server,
    # tws-gen leaving it four times while its SYN flood keeps the server busy.
    with tempfile.TemporaryDirectory() as d:
        sock, sj = os.path.join(d, "memif.sock"), os.path.join(d, "s.json")
        try:
            srv = start_server(sock, "--json", sj)
            total = 0
            for i in range(4):
                gj = os.path.join(d, f"g{i}.json")
                rc, out, err = run_gen(sock, "--json", gj, "--seconds", "0.5", "--drain",
                                       "0.5", "--addrs", "16", "--rate", "20000",
                                       "--syn-flood", "50000", "--flood-from",
                                       "198.18.2.0/200")
                g = json.load(open(gj))
                assert rc == 0 and g["errors"]["total"] == 0, (i, rc, err[-2000:], g)
                # Said goodbye and heard the answer (the server's lane parked).
                assert g["port"]["handoffs"] == 1, (i, g["port"])
                assert srv.poll() is None, (i, srv.returncode, srv.stderr.read()[-2000:])
                total += g["connections"]
            src, sout, serr = stop_server(srv)
            s = json.load(open(sj))
        finally:
            kill_children()
    assert src == 0, (src, serr[-2000:])
    # Each goodbye parked the server's lane; each new tws-gen's link brought it back.
    assert s["port"]["handoffs"] == 4, s["port"]
    assert s["finished"] >= total > 4 * 1000, (s["finished"], total)


@case
def large_tables_fit_in_the_default_memory():
    # Without hugepages DPDK kept each mbuf inside one 4 KiB page: 2.3 KiB mbufs took
    # 4 KiB, the default -m fell short and tws-server refused --max-conns 100000
    # ("cannot create 216384 mbufs"). On a virtual port the objects may cross pages.
    with tempfile.TemporaryDirectory() as d:
        sj, gj = os.path.join(d, "s.json"), os.path.join(d, "g.json")
        r = run(SERVER, "--vdev=net_null0", "--", *SRV_ARGS, "--max-conns", "1000000",
                "--seconds", "0.3", "--json", sj, timeout=60)
        assert r.returncode == 0 and "listening" in r.stdout, (r.returncode, r.stderr[-2000:])
        assert json.load(open(sj))["port"]["mbufs"] == 2 * 1000000 + 16384
        # tws-gen's pool is --concurrency x 8 mbufs: 816,384 here (net_null answers
        # nothing: the connections time out, exit status 3).
        r = run(GEN, "--vdev=net_null0", "--", *GEN_ARGS, "--concurrency", "100000",
                "--seconds", "0.2", "--drain", "0.1", "--json", gj, timeout=60)
        assert r.returncode == 3 and "cannot create" not in r.stderr, (r.returncode, r.stderr)
        assert json.load(open(gj))["port"]["mbufs"] == 8 * 100000 + 16384


@case
def memif_client_that_connects_before_the_server_port_is_up_gets_its_link():
    # The memif socket exists from the server's EAL start, its port is up only after
    # the pool and tables are made (1M connections: a second or two). A client that
    # connects in between got no link, ever (the scripts waited for the socket file):
    # tws-gen now starts its port again until the link comes up.
    with tempfile.TemporaryDirectory() as d:
        sock, gj = os.path.join(d, "memif.sock"), os.path.join(d, "g.json")
        try:
            srv = subprocess.Popen(
                [SERVER, "-l", "0", f"--vdev=net_memif0,role=server,socket={sock},"
                 "socket-abstract=no", "--", "--port", "net_memif0", "--addr",
                 "198.18.0.1/16", "--listen", "80", "--max-conns", "1000000"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            CHILDREN.append(srv)
            deadline = time.monotonic() + 20
            while not os.path.exists(sock) and time.monotonic() < deadline:
                time.sleep(0.005)
            # The server's start takes 1-2 s on some hosts, 16 s on one that faults its
            # 5 GB in slowly: the generator's link wait covers either.
            rc, out, err = run_gen(sock, "--json", gj, "--seconds", "0.5", "--addrs", "64",
                                   "--link-wait", "90", timeout=120)
            g = json.load(open(gj))
            src, sout, serr = stop_server(srv)
        finally:
            kill_children()
    assert "listening" in sout, (src, serr[-2000:])
    assert rc == 0 and "still down" not in err, (rc, err[-2000:])
    assert g["connections"] > 1000 and g["errors"]["total"] == 0, g
    print(f"# restarts of the port before the link came up: "
          f"{'none' if 'restart' not in err else err.split('after ')[1].split(' restart')[0]}")


@case
def syn_flood_sources_are_checked():
    usage_error(GEN, GEN_ARGS + ["--syn-flood", "1000", "--flood-from", "198.18.0.0"],
                "--flood-from '198.18.0.0'", "expected A/N")
    usage_error(GEN, GEN_ARGS + ["--syn-flood", "1000", "--flood-from", "198.18.0.200/100"],
                "--flood-from", "198.18.0.0/24", "without its network and broadcast")
    usage_error(GEN, GEN_ARGS + ["--syn-flood", "1000", "--flood-from", "198.18.0.1/4"],
                "--flood-from", "198.18.0.1 is not")
    usage_error(GEN, GEN_ARGS + ["--syn-flood", "20000000"], "--syn-flood")


@case
def unreachable_server_times_out_counted_without_hanging():
    # net_null answers nothing, ARP included: the connections are given up and
    # counted when the run ends (1 s + the 2 s drain), exit status 3.
    with tempfile.TemporaryDirectory() as d:
        gj = os.path.join(d, "g.json")
        t0 = time.monotonic()
        r = run(GEN, "--vdev=net_null0", "--", *GEN_ARGS, "--seconds", "1", "--json", gj,
                timeout=30)
        took = time.monotonic() - t0
        g = json.load(open(gj))
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    assert g["connections"] == 0 and g["errors"]["timeout"] >= 1, g
    assert g["errors"]["total"] == g["errors"]["timeout"], g
    assert took < 15, took


if __name__ == "__main__":
    run_cases(after_each=kill_children)
