#!/usr/bin/env python3
"""tws-bench: argument handling, help, and the JSON of a small timer run (TAP).

Checks the output's shape and consistency, never a speed: speed is what the
benchmark itself reports.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from tap import Skip, case, run_cases  # noqa: E402 - after the path is set

BENCH = sys.argv[1]


def run(*args, timeout=120):
    return subprocess.run([BENCH, *args], capture_output=True, text=True, timeout=timeout)


@case
def help_lists_commands():
    r = run("--help")
    assert r.returncode == 0, r
    assert "timer" in r.stdout and "table" in r.stdout and "--no-huge" in r.stdout, r.stdout
    assert "mem" in r.stdout, r.stdout


@case
def timer_help_lists_options():
    r = run("timer", "--help")
    assert r.returncode == 0
    for opt in ("--pending", "--spread", "--json", "--no-rte"):
        assert opt in r.stdout, opt


@case
def no_command_is_usage_error():
    r = run()
    assert r.returncode == 2 and "Usage" in r.stderr, r


@case
def unknown_command_is_named():
    r = run("frobnicate")
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr, r.stderr


@case
def bad_numbers_are_refused_with_the_option_name():
    for args, opt in ((["--pending", "abc"], "--pending"), (["--pending", "5"], "--pending"),
                      (["--pending", "-3"], "--pending"), (["--spread", "10G"], "--spread"),
                      (["--pending", "200M"], "--pending")):
        r = run("timer", *args)
        assert r.returncode == 2, (args, r)
        assert opt in r.stderr, (args, r.stderr)


@case
def unknown_option_is_refused():
    r = run("timer", "--frob")
    assert r.returncode == 2, r


@case
def unwritable_json_file_fails_before_measuring():
    r = run("timer", "--json-file", "/nonexistent-dir/x.json", timeout=10)
    assert r.returncode == 2 and "/nonexistent-dir/x.json" in r.stderr, r


REQUIRED = ["pending", "tws_arm_cyc", "tws_cancel_cyc", "tws_rearm_cyc", "tws_expire_cyc",
            "rte_arm_cyc", "rte_cancel_cyc", "rte_rearm_cyc", "rte_expire_cyc",
            "tws_bytes_per_timer", "cpu", "tsc_hz"]


@case
def small_run_prints_complete_json():
    with tempfile.TemporaryDirectory() as d:
        jf = os.path.join(d, "t.json")
        r = run("timer", "--pending", "2000", "--spread", "16", "--json", "--json-file", jf)
        assert r.returncode == 0, r.stderr
        j = json.loads(r.stdout)
        assert json.load(open(jf)) == j
    for k in REQUIRED:
        assert k in j, k
    assert j["pending"] == 2000
    for k, v in j.items():
        if k.endswith("_cyc") or k.endswith("_ratio") or k.endswith("_per_timer"):
            assert isinstance(v, (int, float)) and v > 0, (k, v)
    assert j["rte_bytes_per_timer"] >= 64  # sizeof(struct rte_timer)
    assert abs(j["arm_ratio"] - j["rte_arm_cyc"] / j["tws_arm_cyc"]) < 0.01 * j["arm_ratio"] + 0.01
    assert j["tsc_hz"] > 0 and j["cpu"]


@case
def no_rte_gives_null_reference_fields():
    r = run("timer", "--pending", "1000", "--spread", "16", "--no-rte", "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["rte_arm_cyc"] is None and j["arm_ratio"] is None
    assert j["tws_arm_cyc"] > 0


@case
def table_output_names_both_implementations():
    r = run("timer", "--pending", "1000", "--spread", "16")
    assert r.returncode == 0, r.stderr
    assert "twstack wheel" in r.stdout and "rte_timer" in r.stdout, r.stdout


TABLE_FIELDS = ["entries", "tws_bytes_per_tw", "tws_insert_cyc", "tws_lookup_hit_cyc",
                "tws_lookup_miss_cyc", "tws_lookup_hit_isolated_cyc",
                "tws_lookup_miss_isolated_cyc", "tws_expire_cyc", "rte_hash_bytes_per_key",
                "rte_hash_insert_cyc", "rte_hash_lookup_hit_cyc", "rte_hash_lookup_miss_cyc",
                "cpu", "tsc_hz"]


@case
def table_small_run_prints_complete_json():
    r = run("table", "--entries", "5000", "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    for k in TABLE_FIELDS:
        assert k in j, k
    assert j["entries"] == 5000
    for k, v in j.items():
        if k.endswith("_cyc") or k.endswith("_ratio") or k.startswith("tws_bytes") \
                or k.startswith("rte_hash_bytes"):
            assert isinstance(v, (int, float)) and v > 0, (k, v)
    # The memory floor was measured over a buffer the size of the table.
    assert isinstance(j["mem_bytes"], int) and j["mem_bytes"] >= 64 * 64, j["mem_bytes"]
    # 32-byte record with 1/8 room plus the index: far below Linux's ~350 bytes.
    assert 32 < j["tws_bytes_per_tw"] < 64, j["tws_bytes_per_tw"]


@case
def table_text_output_is_one_table():
    r = run("table", "--entries", "3000")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 9, lines[:10]
    assert lines[0].startswith("tws-bench table: 3000 TIME_WAIT entries")
    rows = {l[:24].strip(): l[24:].split() for l in lines[2:8]}
    assert set(rows) == {"twstack (TIME_WAIT)", "insert one by one", "bursts not pipelined",
                         "rte_hash (key only)", "rte_hash / twstack", "memory floor"}, rows
    # one random line, two lines, and the buffer they were measured over
    assert float(rows["memory floor"][0]) > 0 and float(rows["memory floor"][1]) > 0
    # bytes, insert, hit, miss, expire: all measured, all positive.
    assert len(rows["twstack (TIME_WAIT)"]) == 5
    assert all(float(v) > 0 for v in rows["twstack (TIME_WAIT)"])
    assert len(rows["bursts not pipelined"]) == 2
    assert all(float(v) > 0 for v in rows["bursts not pipelined"])


@case
def table_bad_values_are_refused():
    for args in (["--entries", "10"], ["--entries", "1G"], ["--entries", "x"], ["--bogus"]):
        r = run("table", *args)
        assert r.returncode == 2, (args, r)


MEM_FIELDS = ["bench", "bytes", "dep_load_cyc", "dep_load_ns", "line_cyc", "two_line_cyc",
              "seq_read_gbs", "cpu", "cores", "tsc_hz"]


@case
def mem_prints_the_memory_floor_as_json():
    r = run("mem", "--mib", "64", "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert sorted(j) == sorted(MEM_FIELDS), sorted(j)
    assert j["bench"] == "mem" and j["bytes"] == 64 << 20, j
    for k in ("dep_load_cyc", "line_cyc", "two_line_cyc", "seq_read_gbs"):
        assert j[k] > 0, (k, j[k])
    # A chain of dependent misses cannot overlap; independent prefetched lines do.
    assert j["dep_load_cyc"] > j["line_cyc"], j
    # ns and cycles are the same figure at the TSC rate.
    assert abs(j["dep_load_ns"] - j["dep_load_cyc"] * 1e9 / j["tsc_hz"]) < 0.2, j


@case
def mem_text_and_bad_values():
    r = run("mem", "--mib", "64")
    assert r.returncode == 0, r.stderr
    for word in ("dependent load", "random line", "two lines", "sequential read"):
        assert word in r.stdout, (word, r.stdout)
    for args in (["--mib", "10"], ["--mib", "x"], ["--mib", "100000"], ["--bogus"], ["extra"]):
        r = run("mem", *args)
        assert r.returncode == 2, (args, r)
        assert "mem" in r.stderr, (args, r.stderr)
    r = run("mem", "--help")
    assert r.returncode == 0 and "line_cyc" in r.stdout, r


@case
def c2c_measures_a_round_trip_between_two_cpus():
    if os.cpu_count() < 2:
        raise Skip("one CPU: nothing to measure between")
    r = run("c2c", "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert sorted(j) == sorted(["bench", "cpu_a", "cpu_b", "round_trips", "rtt_ns", "rtt_cyc",
                                "cpu", "cores", "tsc_hz"]), sorted(j)
    assert j["bench"] == "c2c" and (j["cpu_a"], j["cpu_b"]) == (0, 1), j
    # A line that crosses between two cores and back takes time, and not forever.
    assert 0 < j["round_trips"] <= 1000000 and 1 < j["rtt_ns"] < 100000, j
    assert abs(j["rtt_ns"] - j["rtt_cyc"] * 1e9 / j["tsc_hz"]) < 0.2, j
    r = run("c2c", "--cpu-a", "1", "--cpu-b", "0")
    assert r.returncode == 0 and "CPUs 1 and 0" in r.stdout, r


@case
def c2c_bad_cpus_are_refused():
    r = run("c2c", "--cpu-a", "1", "--cpu-b", "1")
    assert r.returncode == 2 and "expected two CPUs" in r.stderr, r
    r = run("c2c", "--cpu-b", "x")
    assert r.returncode == 2 and "--cpu-b 'x'" in r.stderr, r
    # A CPU the machine does not have: an error naming them, not a hang.
    r = run("c2c", "--cpu-b", str(os.cpu_count() + 3))
    assert r.returncode == 1 and "cannot run on CPUs" in r.stderr, r


@case
def tcp_help_lists_options():
    r = run("tcp", "--help")
    assert r.returncode == 0
    for opt in ("--seconds", "--concurrency", "--clients", "--vs-linux", "--sw-csum", "--json"):
        assert opt in r.stdout, opt


@case
def tcp_bad_values_are_refused():
    for args, name in ((("--seconds", "0"), "--seconds"), (("--seconds", "x"), "--seconds"),
                       (("--concurrency", "0"), "--concurrency"),
                       (("--clients", "70000"), "--clients")):
        r = run("tcp", *args)
        assert r.returncode != 0, args
        assert name in r.stderr, (args, r.stderr)


@case
def tcp_short_run_completes_connections_without_errors():
    # Checks shape and consistency, not speed: 0.3 s, software checksums too.
    for extra in ((), ("--sw-csum",)):
        r = run("tcp", "--seconds", "0.3", "--concurrency", "32", "--clients", "64", "--json",
                *extra)
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        for k in ("tws_cps", "connections", "tw_entries_peak", "errors", "cycles_per_conn",
                  "cpu", "tsc_hz", "segments_per_conn"):
            assert k in d, k
        assert d["connections"] > 100, d
        assert d["errors"]["total"] == 0, d["errors"]
        # Every connection leaves a TIME_WAIT entry on the client (60 s > the run).
        assert d["tw_entries_peak"] == d["connections"], d
        # handshake 3 + request + response + FIN + FIN + ACK, minus merged ACKs = 7
        assert abs(d["segments_per_conn"] - 7) < 0.2, d
        assert abs(d["tws_cps"] - d["connections"] / d["seconds"]) <= 1 + d["tws_cps"] * 0.01
        assert d["csum"] == ("software" if extra else "offload")


@case
def tcp_tuples_running_out_are_counted_not_fatal():
    # 1 client address x 28232 ports, TIME_WAIT 60 s, no reuse before 1 s: the
    # connects past the tuples fail with addr_not_avail; the run still reports.
    r = run("tcp", "--seconds", "0.5", "--concurrency", "32", "--clients", "1", "--json")
    d = json.loads(r.stdout)
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert d["connections"] <= 28232, d
    assert d["errors"]["addr_not_avail"] > 0 or d["connections"] < 28232, d


@case
def flood_short_run_shows_what_cookies_buy():
    # Shape and consistency, not speed: 0.3 s phases. With cookies, every client
    # connection of a flooded phase completes (none failed) and most went through a
    # cookie; without them, the full queue drops the SYNs (legit and spoofed alike).
    r = run("flood", "--seconds", "0.3", "--concurrency", "32", "--clients", "64",
            "--syn-backlog", "256", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    for k in ("accept_rate_cps", "legit_cps_ratio_3x", "legit_cps_ratio_10x",
              "legit_cps_ratio_3x_nocookies", "cpu", "tsc_hz", "phases"):
        assert k in d, k
    ph = d["phases"]
    assert set(ph) == {"no_flood", "flood_3x", "flood_10x", "flood_3x_nocookies"}, ph
    assert ph["no_flood"]["syns_injected"] == 0 and ph["no_flood"]["syncookies_sent"] == 0
    assert ph["no_flood"]["legit_completed"] > 1000, ph["no_flood"]
    for name in ("flood_3x", "flood_10x"):
        p = ph[name]
        assert p["syncookies"] == "full" and p["legit_failed"] == 0, p
        assert p["legit_completed"] > 0 and p["srv_syn_rcvd_peak"] == 256, p
        assert p["syncookies_sent"] > p["syns_injected"] // 2, p
        assert p["legit_completed"] // 2 < p["syncookies_recv"] <= p["legit_started"], p
        assert p["syn_queue_dropped"] == 0 and p["syncookies_failed"] == 0, p
        assert p["synacks_discarded"] > 0, p
    n = ph["flood_3x_nocookies"]
    assert n["syncookies"] == "off" and n["syncookies_sent"] == 0, n
    assert n["syn_queue_dropped"] > n["syns_injected"] // 2, n
    assert d["legit_cps_ratio_3x_nocookies"] < d["legit_cps_ratio_3x"], d


@case
def flood_bad_values_are_refused():
    for args, name in ((("--seconds", "0"), "--seconds"), (("--syn-backlog", "0"), "--syn-backlog"),
                       (("--clients", "70000"), "--clients"), (("--bogus",), "flood --help")):
        r = run("flood", *args)
        assert r.returncode != 0, args
        assert name in r.stderr, (args, r.stderr)


@case
def linux_alone_prints_the_kernel_figures():
    r = run("linux", "--seconds", "0.5", "--concurrency", "8", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    for k in ("linux_cps", "linux_connections", "linux_errors", "linux_cpu_s", "linux_tw_peak",
              "linux_netns", "seconds"):
        assert k in d, k
    assert d["linux_connections"] > 0 and d["linux_errors"] == 0, d
    r = run("linux", "--seconds", "0")
    assert r.returncode != 0 and "--seconds" in r.stderr


run_cases()
