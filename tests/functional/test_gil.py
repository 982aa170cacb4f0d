"""GIL mode (-m gil): which threads wait for the GIL, where, and for how long; on every
supported CPython found."""

import json

import pytest

from conftest import clip, leaf, parse_report, show_json

# Run alone, not beside other tests (make check-functional):
# GIL waits are CPU scheduling: parallel tests would be measured as GIL waits.
pytestmark = pytest.mark.serial

SECONDS = 2.0
SHARE_TOLERANCE = 0.20


def profile(run_profiled, python, workload_args, modes="gil"):
    run = run_profiled(python, "gil_busy.py", workload_args, ["-m", modes, "-f", "json"])
    assert run.returncode == 0, "lockprof exit %d\n%s" % (run.returncode, run.describe())
    report = parse_report(run)
    whole = "workload: %s\nreport:\n%s\nstderr:\n%s" % (json.dumps(run.result), show_json(report), clip(run.stderr))
    assert report["gil"] is not None, "no gil section\n" + whole
    return run, report, whole


def gil_threads(report):
    return {t["tid"]: t for t in report["gil"]["threads"]}


def test_two_busy_threads_each_wait_half(python, run_profiled):
    run, report, whole = profile(run_profiled, python, ["--busy", 2, "--seconds", SECONDS])
    res = run.result
    assert report["mode"] == "gil", whole
    threads = gil_threads(report)
    gil_locks = [l for l in report["locks"] if l["category"] == "gil"]
    assert len(gil_locks) == 1 and gil_locks[0]["name"] == "GIL", whole
    assert report["gil"]["handoffs"] and report["gil"]["handoffs"] > 10, whole
    for t in res["threads"]:
        assert t["kind"] == "busy"
        tid = run.host_tid(t["tid"])  # the workload may run in its own PID namespace
        mine = threads.get(tid)
        assert mine, "busy thread %d has no GIL waits\n%s" % (t["tid"], whole)
        # Ground truth: the time the thread was neither on a CPU nor runnable (schedstat). A GIL
        # wait ends when the thread runs again, so it also holds the time the woken thread was
        # runnable, waiting for a CPU: on a loaded machine (other jobs on the CPUs) it lies
        # between the blocked time and the blocked plus runqueue time; on an idle one, both
        # bounds meet.
        # Time the hypervisor took the VM's CPUs away (steal) looks blocked too: at most the
        # whole VM's steal during the run is not a GIL wait.
        blocked, runqueue, steal = t["blocked_ns"], t["runqueue_ns"], t.get("steal_ns", 0)
        assert (1 - SHARE_TOLERANCE) * (blocked - steal) <= mine["wait_ns"] <= (1 + SHARE_TOLERANCE) * (blocked + runqueue), (
            "thread %d waited %.0f ms for the GIL, the kernel says it was blocked %.0f ms (steal %.0f ms) and"
            " runnable %.0f ms\n%s" % (t["tid"], mine["wait_ns"] / 1e6, blocked / 1e6, steal / 1e6, runqueue / 1e6, whole)
        )
        if runqueue + steal < 0.1 * t["wall_ns"]:
            assert abs(mine["wait_ns"] - blocked) <= SHARE_TOLERANCE * blocked, (
                "thread %d waited %.0f ms for the GIL, the kernel says it was blocked %.0f ms\n%s"
                % (t["tid"], mine["wait_ns"] / 1e6, blocked / 1e6, whole)
            )
        # Two threads share one GIL: each waits about half the run, unless the machine is so
        # loaded that the threads spent much of it waiting for a CPU instead.
        half = SECONDS / 2 * 1e9
        if runqueue + steal < 0.1 * t["wall_ns"]:
            assert abs(mine["wait_ns"] - half) <= SHARE_TOLERANCE * half, (
                "thread %d waited %.0f ms for the GIL, expected about %.0f ms (half the run)\n%s"
                % (t["tid"], mine["wait_ns"] / 1e6, half / 1e6, whole)
            )
        assert sum(mine["hist_log2_ns"]) == mine["waits"], whole
        # The thread's heaviest GIL-waiting stack is in the busy loop.
        stacks = [s for s in gil_locks[0]["stacks"] if tid in s["thread_ids"]]
        top = max(stacks, key=lambda s: s["wait_ns"])
        f = leaf(top)
        assert f["file"].endswith("gil_busy.py") and f["line"] == res["busy_line"], whole
        assert f["function"] == "busy", whole


def test_busy_and_sleeping_thread_hardly_wait(python, run_profiled):
    run, report, whole = profile(run_profiled, python, ["--busy", 1, "--sleepers", 1, "--seconds", SECONDS])
    # One thread wants the GIL at a time; the sleeper needs it once, when it wakes. A wait also
    # lasts while the holder is off its CPU: runnable behind other work, or its vCPU stolen.
    total = report["gil"]["wait_ns"]
    off_cpu = sum(t["runqueue_ns"] + t.get("steal_ns", 0) for t in run.result["threads"])
    assert total < 0.05 * SECONDS * 1e9 + off_cpu, "%.1f ms of GIL waits (%.1f ms runnable or stolen)\n%s" % (
        total / 1e6,
        off_cpu / 1e6,
        whole,
    )


def test_gil_together_with_contention(python, run_profiled):
    run, report, whole = profile(run_profiled, python, ["--busy", 2, "--seconds", 1.0], "contention,gil")
    assert report["mode"] == "contention,gil", whole
    assert report["gil"]["waits"] > 0, whole
    # The workload joins its threads: contention mode ran too and saw those (idle) waits.
    assert report["idle_waits"] > 0, whole
