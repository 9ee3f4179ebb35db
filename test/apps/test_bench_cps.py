#!/usr/bin/env python3
"""scripts/bench-cps (TAP): one short run, its JSON checked for shape and consistency.

Runs the script as a user does, on the build under test (TWS_BUILD): tws-gen against
tws-server over net_memif for 1 s, then the kernel's same pattern. Checks the fields and
how they relate, never a speed. Bad arguments are refused before anything runs.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from tap import case, run_cases  # noqa: E402 - after the path is set

TOP, BUILD = (os.path.abspath(a) for a in sys.argv[1:3])
SCRIPT = os.path.join(TOP, "scripts", "bench-cps")
ENV = dict(os.environ, TWS_BUILD=BUILD)


def run(*args, timeout=120):
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=timeout,
                          env=ENV)


@case
def one_second_run_writes_consistent_json():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cps.json")
        r = run("--seconds", "1", "--concurrency", "64", "--json", out)
        assert r.returncode == 0, (r.returncode, r.stdout[-1500:], r.stderr[-1500:])
        j = json.load(open(out))
    assert json.loads(r.stdout.strip().splitlines()[-1]) == j     # printed and written
    for k in ("tws_cps", "linux_cps", "ratio", "ratio_per_cpu", "tws_errors", "tw_entries_peak",
              "tw_bytes_per_entry", "tws_connections", "linux_connections", "seconds"):
        assert k in j, k
    assert j["tws_errors"] == 0 and j["tws_connections"] > 1000, j
    # The two CPUs' cache-line round trip around the run (null only on a one-CPU machine).
    for k in ("c2c_rtt_ns_before", "c2c_rtt_ns_after"):
        assert j[k] is None if os.cpu_count() < 2 else 1 < j[k] < 100000, (k, j)
    assert j["csum"] == "emulated", j                 # the default: offload, as a NIC
    # Every client connection leaves its TIME_WAIT entry (256 addresses: no tuple reused).
    assert j["tw_entries_peak"] == j["tws_connections"], j
    assert 30 < j["tw_bytes_per_entry"] < 64, j
    assert abs(j["tws_cps"] - j["tws_connections"] / j["seconds"]) <= 1 + 0.01 * j["tws_cps"], j
    if os.geteuid() == 0:          # the kernel side needs a network namespace of its own
        assert j["linux_cps"] > 0 and j["linux_connections"] > 0, j
        assert abs(j["ratio"] - j["tws_cps"] / j["linux_cps"]) < 0.01 * j["ratio"] + 0.01, j
    print(f"# tws_cps {j['tws_cps']}, linux_cps {j['linux_cps']}, ratio {j['ratio']} "
          f"(1 s, shared machine: not a measurement)")


@case
def bad_arguments_are_refused_with_the_reason():
    for args, needle in ((("--seconds", "0"), "--seconds"), (("--seconds", "x"), "--seconds"),
                         (("--bogus",), "unknown option '--bogus'"), (("--json",), "--json"),
                         (("--csum", "none"), "--csum 'none': expected port or emulate")):
        r = run(*args, timeout=30)
        assert r.returncode != 0, args
        assert needle in r.stderr, (args, r.stderr)


run_cases()
