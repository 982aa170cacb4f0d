"""Zero tax for other processes: while lockprof profiles one process, another one busy on the
very paths it probes (contended locks through the same libc, futex syscalls) runs none of
lockprof's BPF programs. Read from the kernel's own per-program run counts
(kernel.bpf_stats_enabled, set for the test and restored), which lockprof reports in its JSON.
Runs on the newest interpreter of each build kind."""

import json

import pytest

from conftest import clip, show_json, start_lockprof, start_python, start_target

# Run alone, not beside other tests (make check-functional):
# the neighbor process's syscalls and timings are measured beside the target.
pytestmark = pytest.mark.serial

STATS = "/proc/sys/kernel/bpf_stats_enabled"
IDLE = "import sys, time; sys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(60)"
SECONDS = 2.0


@pytest.fixture
def bpf_stats(root):
    with open(STATS) as f:
        before = f.read().strip()
    with open(STATS, "w") as f:
        f.write("1")
    try:
        yield
    finally:
        with open(STATS, "w") as f:
            f.write(before)


def profile_during_neighbor(procs, python, target_pid):
    """lockprof -p target_pid while a neighbor process runs; (report, neighbor result)."""
    neighbor = start_target(procs, python, "neighbor.py", ["--seconds", SECONDS])
    lp, _ = start_lockprof(procs, target_pid, ["-f", "json", "-d", SECONDS + 1.5])
    neighbor.send("go\n")
    neighbor.close_stdin()
    assert neighbor.wait(SECONDS + 20) == 0, neighbor.describe()
    assert lp.wait(SECONDS + 20) == 0, lp.describe()
    result = json.loads([l for l in neighbor.out_lines if l.strip()][-1])
    return json.loads(lp.stdout), result


def runs(report):
    # calibration_*: lockprof's start-up timing of a probe hit, on functions of its own process.
    return {p["name"]: p["runs"] for p in report["bpf_programs"]["programs"] if not p["name"].startswith("calibration_")}


def test_neighbor_runs_no_program(any_python, lockprof, procs, bpf_stats):
    target = start_python(procs, any_python, ["-c", IDLE])
    report, neighbor = profile_during_neighbor(procs, any_python, target.pid)
    whole = "neighbor: %s\nreport:\n%s" % (neighbor, clip(show_json(report)))
    assert report["bpf_programs"]["stats_enabled"], whole
    assert neighbor["handoffs"] > 100 and neighbor["syscalls"] > 100, whole
    # No system-wide hook at all, and no program ran for the neighbor's events.
    assert all(p["type"] != "raw_tracepoint" for p in report["bpf_programs"]["programs"]), whole
    ran = {name: n for name, n in runs(report).items() if n}
    assert not ran, "lockprof's programs ran for another process: %s\n%s" % (ran, whole)


def test_run_counts_count(any_python, lockprof, procs, bpf_stats):
    """The control: the same neighbor workload, profiled, runs the wait and release programs."""
    neighbor = start_target(procs, any_python, "neighbor.py", ["--seconds", SECONDS])
    lp, _ = start_lockprof(procs, neighbor.pid, ["-f", "json"])
    neighbor.send("go\n")
    neighbor.close_stdin()
    assert neighbor.wait(SECONDS + 20) == 0, neighbor.describe()
    assert lp.wait(20) == 0, lp.describe()
    report = json.loads(lp.stdout)
    result = json.loads([l for l in neighbor.out_lines if l.strip()][-1])
    counts = runs(report)
    whole = "neighbor: %s\nruns: %s" % (result, counts)
    waits = counts.get("sem_wait_exit", 0) + counts.get("park_wait_exit", 0)
    wakes = counts.get("sem_post_wake", 0) + counts.get("park_wakeup_enter", 0)
    # Most round trips are two contended waits, each ended by a release that woke it (a thread
    # that comes late finds its lock free and does not wait).
    assert result["handoffs"] > 100 and waits >= 10 and wakes >= 10, whole
