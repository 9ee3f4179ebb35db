#!/usr/bin/env python3
"""docs/ stays true: every knob, counter and reject reason of the engine is documented (TAP)."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from tap import case, run_cases  # noqa: E402 - after the path is set

top = sys.argv[1]
hdr = open(f"{top}/include/tws_tcp.h").read()
conf = open(f"{top}/docs/configuration.md").read()
tw = open(f"{top}/docs/time-wait.md").read()


def xlist(macro, text=hdr):
    m = re.search(r"#define %s\(X\) \\\n(.*?)\n\n" % macro, text, re.S)
    assert m, macro
    return re.findall(r"X\((\w+)", m.group(1))


@case
def every_knob_is_in_the_configuration_reference():
    knobs = xlist("TWS_TCP_KNOBS")
    assert len(knobs) >= 20, knobs
    missing = [k for k in knobs if f"`{k}`" not in conf]
    assert not missing, missing


@case
def every_spec_knob_is_explained_in_time_wait_md():
    spec = ["tw_timeout_ms", "max_tw", "timestamps", "tw_reuse", "tw_reuse_delay_ms",
            "tw_recycle", "rfc1337", "tw_syn_reject", "lastack_syn", "oow_ack_interval_ms"]
    missing = [k for k in spec if f"`{k}`" not in tw]
    assert not missing, missing


@case
def every_reject_reason_is_in_the_configuration_reference():
    missing = [r for r in xlist("TWS_RX_REJECTS") if f"`{r}`" not in conf]
    assert not missing, missing


@case
def every_net_counter_and_drop_reason_is_in_the_configuration_reference():
    net = open(f"{top}/include/tws_net.h").read()
    names = xlist("TWS_NET_STATS", net) + xlist("TWS_NET_DROPS", net)
    assert len(names) >= 30, names
    missing = [n for n in names if f"`{n}`" not in conf]
    assert not missing, missing


@case
def every_scenario_is_described():
    ids = ["S1", "S2", "S3", "F1", "F2", "F3", "F4"] + [f"T{i}" for i in range(1, 9)] + ["R1"]
    missing = [i for i in ids if not re.search(r"\b%s\b" % i, tw)]
    assert not missing, missing


run_cases()
