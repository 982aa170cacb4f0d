"""lockprof functional tests: faults.

SIGKILL of lockprof leaves no BPF program, map, link or uprobe behind; a target
that exits or is killed mid-profile still gets its report; repeated
attach/detach cycles leave a busy target's results intact; full maps and a
full ring buffer are counted and reported.  All need root and ./lockprof.

LOCKPROF_ATTACH_CYCLES sets the number of attach/detach cycles (default 12;
`make soak` runs 100).
"""

import json
import os
import signal
import time

import pytest

from conftest import (
    EXIT_TIMEOUT,
    clip,
    parse_report,
    show_json,
    start_lockprof,
    start_target,
    waiter_stacks_at,
)

from proctools import bpf_ids, breakpoints, live_bpf_ids, wait_until

# Run alone, not beside other tests (make check-functional):
# kills and detaches under a deadline: a loaded machine slows the kernel's probe removal past it.
pytestmark = pytest.mark.serial

ATTACH_CYCLES = int(os.environ.get("LOCKPROF_ATTACH_CYCLES", "12"))
CLEANUP_TIMEOUT = 10.0  # the kernel frees links and programs after the last fd closes


def _finish_busy(target):
    """Stop the busy_checksum target and return its result; it must have stayed correct."""
    assert target.alive(), "target died\n" + target.describe()
    target.send("stop\n")
    target.close_stdin()
    rc = target.wait(30)
    assert rc is not None, "target did not stop\n" + target.describe()
    lines = [l for l in target.out_lines if l.strip()]
    try:
        res = json.loads(lines[-1])
    except (IndexError, ValueError):
        pytest.fail("target printed no result\n" + target.describe())
    assert rc == 0 and res["ok"], "the target's own checks failed: %s\n%s" % (res, target.describe())
    return res


def _no_breakpoints(pid):
    found = breakpoints(pid)
    return found if found else True


# --------------------------------------------------------------------------
# SIGKILL of lockprof


def test_sigkill_leaves_nothing(root, lockprof, procs, any_python):
    target = start_target(procs, any_python, "busy_checksum.py")
    before = breakpoints(target.pid)
    if before:
        pytest.skip("something else has uprobes in the target already: %s" % before[:5])
    lp, _ = start_lockprof(procs, target.pid, ["-f", "json"])

    # While it runs: its objects exist, and its uprobes are in the target's code.
    ids = bpf_ids(lp.pid)
    assert ids["prog"] and ids["map"] and ids["link"], "lockprof holds no BPF objects? %s" % ids
    live = live_bpf_ids()
    for kind in ids:
        assert ids[kind] <= live[kind], "bpftool does not list lockprof's %ss %s" % (kind, ids[kind] - live[kind])
    probed = breakpoints(target.pid)
    assert probed, "no uprobe breakpoint in the target while profiled: the check below would prove nothing"

    lp.signal(signal.SIGKILL)
    assert lp.wait(10) == -signal.SIGKILL, lp.describe()

    def leftovers():
        now = live_bpf_ids()
        return {kind: sorted(ids[kind] & now[kind]) for kind in ids if ids[kind] & now[kind]}

    left = wait_until(lambda: not leftovers(), CLEANUP_TIMEOUT)
    assert left, "BPF objects of the killed lockprof still listed by bpftool after %.0f s: %s" % (
        CLEANUP_TIMEOUT,
        leftovers(),
    )
    remaining = wait_until(lambda: _no_breakpoints(target.pid), CLEANUP_TIMEOUT)
    assert remaining is True, "uprobe breakpoints left in the target (%d of %d): %s" % (
        len(remaining),
        len(probed),
        remaining[:5],
    )
    _finish_busy(target)


# --------------------------------------------------------------------------
# the target ends mid-profile


@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_target_ends_mid_profile(root, lockprof, procs, any_python, how):
    waits = 6 if how == "exit" else 100000  # "sigkill": still waiting when killed
    target = start_target(procs, any_python, "holder_waiter.py", ["--waits", waits, "--hold-ms", 10])
    lp, _ = start_lockprof(procs, target.pid, ["-f", "json", "-v"])
    target.send("go\n")
    if how == "sigkill":
        # Let waits happen, then kill it mid-wait.
        time.sleep(1.0)
        target.signal(signal.SIGKILL)
    rc = lp.wait(EXIT_TIMEOUT + 10)
    if rc is None:
        lp.kill()
        pytest.fail("lockprof still running after the target ended\n" + lp.describe())
    assert rc == 0, lp.describe()
    assert "stopped: target exited" in lp.stderr, lp.describe()
    report = json.loads(lp.stdout) if lp.stdout.strip() else pytest.fail("no report\n" + lp.describe())
    hits = waiter_stacks_at(report, "holder_waiter.py")
    whole = "report:\n%s\nlockprof stderr:\n%s" % (show_json(report), clip(lp.stderr, 3000))
    assert hits, "no waiter stack in holder_waiter.py\n" + whole
    waited = sum(stack["count"] for _, stack in hits)
    if how == "exit":
        assert waited == waits, whole
    else:
        assert waited >= 5, whole
    # Symbolized while the target was alive: no frame is unknown, although it is gone now.
    assert report["lost"]["unknown_frames"] == 0, whole
    assert all(f["function"] != "<unknown>" for _, s in hits for f in s["frames"]), whole
    assert any(s["frames"][0]["function"].endswith("wait_rounds") for _, s in hits), whole


# --------------------------------------------------------------------------
# attach/detach cycles against a busy target


STOPS = ("duration", signal.SIGINT, signal.SIGTERM, signal.SIGKILL)


def test_attach_detach_cycles(root, lockprof, procs, any_python):
    target = start_target(procs, any_python, "busy_checksum.py", ["--threads", 4])
    hits = 0
    for cycle in range(ATTACH_CYCLES):
        stop = STOPS[cycle % len(STOPS)]
        args = ["-f", "json"] + (["-d", "0.2"] if stop == "duration" else [])
        lp, _ = start_lockprof(procs, target.pid, args)
        if stop != "duration":
            time.sleep(0.1)
            lp.signal(stop)
        rc = lp.wait(EXIT_TIMEOUT)
        what = "cycle %d (%s)" % (cycle, getattr(stop, "name", stop))
        if rc is None:
            lp.kill()
            pytest.fail("%s: lockprof did not stop\n%s" % (what, lp.describe()))
        if stop == signal.SIGKILL:
            assert rc == -signal.SIGKILL, "%s\n%s" % (what, lp.describe())
        else:
            assert rc == 0, "%s\n%s" % (what, lp.describe())
            hits += parse_report(lp)["probe_hits"]
        assert target.alive(), "%s: target died\n%s" % (what, target.describe())
        procs.procs.remove(lp)  # finished: keep the pool small over many cycles
    assert hits > 0, "no probe fired in %d cycles: the target was not profiled at all" % ATTACH_CYCLES
    remaining = wait_until(lambda: _no_breakpoints(target.pid), CLEANUP_TIMEOUT)
    assert remaining is True, "uprobe breakpoints left in the target: %s" % remaining[:5]
    res = _finish_busy(target)
    assert res["ops"] > 1000, res


# --------------------------------------------------------------------------
# full maps and a full ring buffer are counted


STATS_MAP_ENTRIES = 16384  # bpf/lockstats.bpf.h
RING_STACKS = 1500  # ~1 KiB events: about 990 fit the 1 MiB ring


def _command(target, line):
    target.send(line + "\n")
    reply = target.wait_line("stdout", lambda l: l.startswith("{"), 60)
    assert reply, "target did not answer %r\n%s" % (line, target.describe())
    res = json.loads(reply)
    assert res["timeouts"] == res["n"], "not every acquire timed out: %s" % res
    return res


def test_full_ring_and_maps_are_counted(root, lockprof, procs, any_python):
    locks = STATS_MAP_ENTRIES + 1500
    target = start_target(procs, any_python, "lock_flood.py")
    lp, _ = start_lockprof(procs, target.pid, ["-f", "json"])

    # Ring buffer: with lockprof stopped nobody drains it; about a third of the new stacks
    # cannot be announced.
    lp.signal(signal.SIGSTOP)
    try:
        _command(target, "stacks %d" % RING_STACKS)
    finally:
        lp.signal(signal.SIGCONT)
    time.sleep(1.0)  # let lockprof symbolize what the ring held while the target lives
    # Stats map: one entry per (lock, stack, thread); more locks than entries.
    _command(target, "locks %d" % locks)
    target.send("quit\n")
    target.close_stdin()
    assert target.wait(30) == 0, target.describe()
    rc = lp.wait(EXIT_TIMEOUT + 20)
    if rc is None:
        lp.kill()
        pytest.fail("lockprof did not stop\n" + lp.describe())
    assert rc == 0, lp.describe()
    report = parse_report(lp)
    lost = report["lost"]
    summary = "lost: %s, waits %d, idle waits %d, locks %d\nstderr: %s" % (
        lost,
        report["waits"],
        report["idle_waits"],
        len(report["locks"]),
        lp.stderr[-2000:],
    )

    # Every wait is either in the report or counted as dropped; in the report, a wait whose
    # stack could not be walked (no Python frame found) is an idle one, apart from the waits.
    assert report["waits"] + report["idle_waits"] + lost["stats"] == RING_STACKS + locks, summary
    assert lost["stats"] >= locks + RING_STACKS - STATS_MAP_ENTRIES, summary
    # Every stack was either announced (and symbolized) or counted as a lost event.
    flood_stacks = [
        s
        for lock in report["locks"]
        for s in lock["stacks"]
        if s["frames"] and s["frames"][0]["function"].startswith("flood_")
    ]
    unannounced = [s for lock in report["locks"] for s in lock["stacks"] if not s["frames"]]
    assert lost["events"] > 0, summary
    assert len(flood_stacks) + lost["events"] == RING_STACKS, "%d announced stacks\n%s" % (len(flood_stacks), summary)
    assert len(unannounced) == lost["events"], "%d stacks without frames\n%s" % (len(unannounced), summary)
    assert lost["unknown_frames"] == 0, summary
