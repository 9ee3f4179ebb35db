#!/usr/bin/env python3
"""tws-pair: tws-gen against tws-server in one process over a net_ring pair (TAP).

The two tools' own mains, hosted in one process: tws-server on the second lcore,
tws-gen on the first, joined by two net_ring ports back to back (addresses in
198.18.0.0/15, nothing leaves the process). The cases check what the two JSON
summaries say, never a speed. Every child is killed by its PID.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from tap import case, run_cases  # noqa: E402 - after the path is set

PAIR = os.path.abspath(sys.argv[1])


def pair(gen_args, srv_args=(), eal=(), timeout=60):
    """Run tws-pair with JSON summaries: (exit status, stdout, stderr, gen JSON, server JSON);
    a JSON is None when that tool wrote none."""
    with tempfile.TemporaryDirectory() as d:
        gj, sj = os.path.join(d, "g.json"), os.path.join(d, "s.json")
        cmd = [PAIR, *eal, "--", "--json", gj, *gen_args, "--serve", "--json", sj, *srv_args]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = p.communicate(timeout=timeout)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        load = lambda f: json.load(open(f)) if os.path.exists(f) else None  # noqa: E731
        return p.returncode, out, err, load(gj), load(sj)


@case
def ring_pair_in_one_process_every_connection_completes():
    # 64 client addresses x 28232 ports: no tuple comes round within 2 s, and
    # TIME_WAIT (60 s) outlasts the run: one entry per connection at the end.
    rc, out, err, g, s = pair(["--seconds", "2", "--addrs", "64"])
    assert rc == 0, (rc, out[-2000:], err[-2000:])
    assert g["port"]["driver"] == "net_ring" and s["port"]["driver"] == "net_ring", g["port"]
    assert g["port"]["name"] == "net_ring_pair_gen", g["port"]
    assert s["port"]["name"] == "net_ring_pair_srv", s["port"]
    assert g["errors"]["total"] == 0 and s["errors"]["total"] == 0, (g["errors"], s["errors"])
    assert g["connections"] > 1000 and g["connections"] == g["started"], g
    assert g["requests"] == g["connections"] == s["finished"] == s["connections"], (g, s)
    assert g["tw_reused"] == 0 and g["tw_overflow"] == 0, g
    assert g["tw_entries_end"] == g["connections"] == g["tw_entries_peak"], g
    assert s["tw_entries"] == 0, s
    # Nothing leaked: every mbuf back in each tool's pool; nothing dropped on the rings.
    for j in (g, s):
        assert j["port"]["mbufs_in_use"] == 0 and j["port"]["tx_dropped"] == 0, j["port"]
    # Both tools printed their own progress and summary.
    assert "tws-gen:" in out and "tws-server: listening" in out, out[:2000]
    assert "connections accepted" in out, out[-2000:]


@case
def ring_pair_time_wait_population_is_rate_times_timeout():
    # 2000 connections/s for 4 s, TIME_WAIT 1 s: at the end the entries are those of
    # the last second, 2000 (the rate times the timeout), not the 8000 made.
    rc, out, err, g, s = pair(["--seconds", "4", "--addrs", "8", "--rate", "2000",
                               "--concurrency", "64", "--knob", "tw_timeout_ms=1000"])
    assert rc == 0, (rc, out[-2000:], err[-2000:])
    assert g["errors"]["total"] == 0, g["errors"]
    assert 4000 <= g["connections"] <= 8000 + 64, g["connections"]
    assert g["connections"] == s["finished"], (g["connections"], s["finished"])
    rate = g["connections"] / g["duration_s"]
    assert 0.7 * rate <= g["tw_entries_end"] <= 1.3 * rate, (g["tw_entries_end"], rate)
    assert g["tw_entries_peak"] <= 1.3 * rate, (g["tw_entries_peak"], rate)


@case
def ring_pair_usage_errors_exit_2_with_the_reason():
    r = subprocess.run([PAIR, "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "--serve" in r.stdout and "net_ring" in r.stdout, r
    # One lcore is not enough: the server needs its own.
    r = subprocess.run([PAIR, "-l", "0", "--", "--seconds", "1"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and "exactly two" in r.stderr, (r.returncode, r.stderr)
    # A bad server option: the server's message, then tws-pair's; tws-gen never runs.
    rc, out, err, g, s = pair(["--seconds", "1"], ["--listen", "0"])
    assert rc == 2 and "--listen '0'" in err and "did not start" in err, (rc, err)
    assert g is None and s is None, (g, s)
    # A bad tws-gen option: its message; the server is stopped and still sums up.
    rc, out, err, g, s = pair(["--rate", "fast"])
    assert rc == 2 and "--rate 'fast'" in err, (rc, err)
    assert g is None and s is not None and s["connections"] == 0, (g, s)


if __name__ == "__main__":
    run_cases()
