#!/usr/bin/env python3
"""tws-memcost: argument handling, JSON shape and consistency, the non-root path, and
the kernel figure against an independent slab measurement made here (TAP).

Checks shape and consistency, never a speed. Cases that need root (the kernel side:
/proc/slabinfo, a network namespace of our own) skip with a reason when not root.
"""
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from tap import Skip, case, run_cases  # noqa: E402 - after the path is set

MEMCOST = os.path.abspath(sys.argv[1])
ROOT = os.geteuid() == 0
SMALL = 100000          # entries of the small runs: a few seconds each side


def run(*args, timeout=120, user=None):
    cmd = [MEMCOST, *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={pwd.getpwnam(user).pw_gid}",
               "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/")


_small = {}


def small_run():
    """One run with --entries 100000 shared by the cases that read its output."""
    if not _small:
        with tempfile.TemporaryDirectory() as d:
            jf = os.path.join(d, "m.json")
            r = run("--entries", str(SMALL), "--linux-entries", str(SMALL), "--json", jf)
            assert r.returncode == 0, (r.returncode, r.stderr)
            _small["r"] = r
            _small["j"] = json.load(open(jf))
    return _small["r"], _small["j"]


@case
def help_lists_every_option():
    r = run("--help")
    assert r.returncode == 0, r
    for opt in ("--entries", "--linux-entries", "--no-linux", "--layout", "--rate",
                "--tw-seconds", "--json", "--plot"):
        assert opt in r.stdout, opt


@case
def bad_values_name_the_option_and_its_range():
    for args, name, rng in ((["--entries", "5"], "--entries", "1000 to 100000000"),
                            (["--entries", "200M"], "--entries", "1000 to 100000000"),
                            (["--entries", "abc"], "--entries", "1000 to 100000000"),
                            (["--entries", "-3"], "--entries", "1000 to 100000000"),
                            (["--linux-entries", "10"], "--linux-entries", "1000 to 2000000"),
                            (["--linux-entries", "3M"], "--linux-entries", "1000 to 2000000"),
                            (["--rate", "0"], "--rate", "1 to 1000000000"),
                            (["--tw-seconds", "0"], "--tw-seconds", "1 to 3600"),
                            (["--tw-seconds", "4000"], "--tw-seconds", "1 to 3600"),
                            (["--layout", "both"], "--layout", "clients or servers")):
        r = run(*args, timeout=10)
        assert r.returncode == 2, (args, r)
        assert name in r.stderr and rng in r.stderr, (args, r.stderr)


@case
def unknown_options_missing_values_and_extra_arguments_are_usage_errors():
    for args, word in ((["--frob"], "--frob"), (["--entries"], "--entries"),
                       (["--json"], "--json"), (["stray"], "stray")):
        r = run(*args, timeout=10)
        assert r.returncode == 2 and word in r.stderr, (args, r)


@case
def unwritable_output_files_fail_before_measuring():
    for opt in ("--json", "--plot"):
        r = run("--entries", "1000", opt, "/nonexistent-dir/x", timeout=10)
        assert r.returncode == 2 and opt in r.stderr and "/nonexistent-dir/x" in r.stderr, r


TWS_KEYS = ["entries", "layout", "tws_bytes_per_tw", "tws_heap_bytes_per_tw",
            "tws_rss_bytes_per_tw", "tws_table_bytes_per_tw", "tws_log_bytes_per_tw",
            "tws_index_bytes_per_tw", "tws_entries", "tws_fill_connections",
            "linux_bytes_per_tw", "linux_entries", "linux_sunreclaim_bytes_per_tw",
            "linux_skipped", "linux_note", "ratio", "host_tcp_max_tw_buckets", "projection",
            "cpu", "kernel"]
PROJ_KEYS = ["rate", "tw_seconds", "entries", "tws_bytes", "linux_bytes_needed",
             "linux_bytes_kept", "linux_cap", "linux_entries_kept", "linux_cap_rate",
             "linux_no_tw_rate"]


def near(a, b, rel=0.01, eps=0.02):
    return abs(a - b) <= rel * abs(b) + eps


@case
def small_run_json_is_complete_and_consistent():
    _, j = small_run()
    for k in TWS_KEYS:
        assert k in j, k
    for k in PROJ_KEYS:
        assert k in j["projection"], k
    assert j["entries"] == SMALL and j["tws_entries"] == SMALL, j
    assert j["tws_fill_connections"] == SMALL and j["tws_errors"] == 0, j
    assert 20 < j["tws_bytes_per_tw"] < 100, j["tws_bytes_per_tw"]
    # The headline is the larger of the two measurements, and they agree.
    assert j["tws_bytes_per_tw"] == max(j["tws_heap_bytes_per_tw"], j["tws_rss_bytes_per_tw"])
    assert near(j["tws_rss_bytes_per_tw"], j["tws_heap_bytes_per_tw"], rel=0.1), j
    assert near(j["tws_table_bytes_per_tw"],
                j["tws_log_bytes_per_tw"] + j["tws_index_bytes_per_tw"]), j
    p = j["projection"]
    assert p["entries"] == p["rate"] * p["tw_seconds"] == 60000000, p
    assert near(p["tws_bytes"], p["entries"] * j["tws_bytes_per_tw"]), p
    assert p["linux_cap"] == j["host_tcp_max_tw_buckets"]
    assert p["linux_entries_kept"] == min(p["entries"], p["linux_cap"]), p
    if not ROOT:
        return
    assert j["linux_skipped"] is False and j["linux_entries"] == SMALL, j
    assert j["linux_tw_count"] == SMALL, j
    # A 256-byte tw_sock_TCP object per entry at least; the ratio is what the fields say.
    assert 256 <= j["linux_bytes_per_tw"] < 1000, j["linux_bytes_per_tw"]
    assert near(j["linux_bytes_per_tw"],
                j["linux_tw_sock_bytes_per_tw"] + j["linux_bind_bytes_per_tw"]), j
    assert near(j["ratio"], j["linux_bytes_per_tw"] / j["tws_bytes_per_tw"]), j
    assert near(p["linux_bytes_needed"], p["entries"] * j["linux_bytes_per_tw"]), p
    samples = j["linux_samples"]
    assert samples[0] == [0, 0] and samples[-1][0] == SMALL, samples
    assert all(a[0] < b[0] and a[1] <= b[1] for a, b in zip(samples, samples[1:])), samples


@case
def text_output_has_the_table_and_the_projection():
    r, _ = small_run()
    for word in ("twstack, process RSS", "twstack, DPDK heap", "Projection:",
                 "tcp_max_tw_buckets"):
        assert word in r.stdout, (word, r.stdout)
    assert ("ratio:" in r.stdout) == ROOT, r.stdout


@case
def projection_follows_rate_and_tw_seconds():
    with tempfile.TemporaryDirectory() as d:
        jf = os.path.join(d, "p.json")
        r = run("--entries", "1000", "--no-linux", "--rate", "5000", "--tw-seconds", "10",
                "--json", jf)
        assert r.returncode == 0, r.stderr
        j = json.load(open(jf))
    p = j["projection"]
    assert p["entries"] == 50000 and p["rate"] == 5000 and p["tw_seconds"] == 10, p
    cap = j["host_tcp_max_tw_buckets"]
    assert near(p["linux_cap_rate"], cap / 10, eps=1), p
    assert near(p["linux_no_tw_rate"], max(0, 5000 - cap / 10), eps=1), p
    assert j["linux_skipped"] is True and j["linux_bytes_per_tw"] is None
    assert j["ratio"] is None and p["linux_bytes_needed"] is None, j
    assert "skipped: --no-linux" in r.stdout, r.stdout


@case
def servers_layout_fills_through_several_server_addresses():
    with tempfile.TemporaryDirectory() as d:
        jf = os.path.join(d, "s.json")
        r = run("--entries", "30000", "--no-linux", "--layout", "servers", "--json", jf)
        assert r.returncode == 0, r.stderr
        j = json.load(open(jf))
    # 28232 ports per (client, server) pair: 30000 entries need a second server address.
    assert j["layout"] == "servers" and j["tws_addresses"] == 2, j
    assert j["tws_entries"] == 30000 and j["tws_errors"] == 0, j
    assert "one client address, many servers" in r.stdout, r.stdout


@case
def without_root_the_kernel_side_is_skipped_and_says_why():
    user = None
    if ROOT:
        if shutil.which("setpriv") is None:
            raise Skip("root, and no setpriv to drop privileges")
        try:
            pwd.getpwnam("nobody")
        except KeyError:
            raise Skip("root, and no user nobody to run as")
        user = "nobody"
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        jf = os.path.join(d, "n.json")
        r = run("--entries", "10000", "--json", jf, user=user)
        assert r.returncode == 0, (r.returncode, r.stderr)
        j = json.load(open(jf))
    assert "Linux kernel side skipped: not root" in r.stdout, r.stdout
    assert j["linux_skipped"] is True and "not root" in j["linux_note"], j
    for k in ("linux_bytes_per_tw", "linux_entries", "ratio", "linux_sunreclaim_bytes_per_tw"):
        assert j[k] is None, k
    assert j["projection"]["linux_bytes_needed"] is None
    assert 20 < j["tws_bytes_per_tw"] < 100 and j["tws_entries"] == 10000, j


# The independent measurement: a child python in a network namespace of its own makes
# L TIME_WAIT sockets the way a client would (several client addresses, one server, the
# client closes first) and reports how much the whole slab grew, every cache summed, from
# its own reads of /proc/slabinfo. Sysctls are written only once the namespace is ours.
CHILD = r"""
import ctypes, fcntl, json, os, socket, struct, sys
L, host_ns = int(sys.argv[1]), int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x40000000) != 0:                # CLONE_NEWNET
    sys.exit("unshare: " + os.strerror(ctypes.get_errno()))
assert os.stat("/proc/self/ns/net").st_ino != host_ns, "still in the host namespace"
for k, v in (("tcp_max_tw_buckets", str(2 * L)), ("tcp_tw_reuse", "0"),
             ("ip_local_port_range", "1024 65535")):
    with open("/proc/sys/net/ipv4/" + k, "w") as f:
        f.write(v)
SIOCSIFFLAGS, IFF_UP, IFF_LOOPBACK = 0x8914, 0x1, 0x8
fcntl.ioctl(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), SIOCSIFFLAGS,
            struct.pack("16sH22x", b"lo", IFF_UP | IFF_LOOPBACK))   # struct ifreq: lo up
def slab_total():
    total = 0
    for line in open("/proc/slabinfo"):
        f = line.split()
        if len(f) >= 16 and f[0] not in ("slabinfo", "#"):
            total += int(f[14]) * int(f[5]) * os.sysconf("SC_PAGESIZE")
    return total
def tw_count():
    for line in open("/proc/net/sockstat"):
        if line.startswith("TCP:"):
            f = line.split()
            return int(f[f.index("tw") + 1])
srv = socket.socket()
srv.bind(("127.77.0.1", 80))
srv.listen(64)
addrs = L // 20000 + 1
before = slab_total()
for i in range(L):
    c = socket.socket()
    c.setsockopt(socket.IPPROTO_IP, 24, 1)         # IP_BIND_ADDRESS_NO_PORT
    c.bind(("127.78.0.%d" % (1 + i % addrs), 0))
    c.connect(("127.77.0.1", 80))
    a, _ = srv.accept()
    c.close()
    a.close()
after = slab_total()
print(json.dumps({"tw": tw_count(), "bytes_per_tw": (after - before) / L}))
"""


@case
def kernel_figure_agrees_with_an_independent_slab_measurement():
    if not ROOT:
        raise Skip("not root: /proc/slabinfo and a network namespace need root")
    _, j = small_run()
    host_ns = os.stat("/proc/self/ns/net").st_ino
    r = subprocess.run([sys.executable, "-c", CHILD, str(SMALL), str(host_ns)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    mine = json.loads(r.stdout)
    assert mine["tw"] == SMALL, mine
    tool = j["linux_bytes_per_tw"]
    print(f"# tool {tool:.1f} bytes per entry, independent whole-slab {mine['bytes_per_tw']:.1f}")
    assert abs(tool - mine["bytes_per_tw"]) <= 0.2 * mine["bytes_per_tw"], (tool, mine)


@case
def plot_is_made_or_skipped_with_a_message():
    with tempfile.TemporaryDirectory() as d:
        png = os.path.join(d, "m.png")
        r = run("--entries", "1000", "--no-linux", "--plot", png)
        assert r.returncode == 0, r.stderr
        if shutil.which("gnuplot") is None:
            assert "gnuplot is not installed" in r.stderr, r.stderr
        else:
            with open(png, "rb") as f:
                assert f.read(8) == b"\x89PNG\r\n\x1a\n", "not a PNG"
        # Without gnuplot in $PATH: a message naming the package, the run still succeeds.
        r = subprocess.run([MEMCOST, "--entries", "1000", "--no-linux", "--plot", png],
                           capture_output=True, text=True, timeout=60, cwd="/",
                           env={**os.environ, "PATH": "/nonexistent"})
        assert r.returncode == 0, r.stderr
        assert "gnuplot is not installed" in r.stderr and "gnuplot-nox" in r.stderr, r.stderr


run_cases()
