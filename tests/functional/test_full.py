"""-m full: hold times of threading.Lock and RLock, in-kernel capture sampling and the overhead
bound, on every supported CPython found: sem_t locks (3.8-3.13.0) through libc, PyMutex locks
(3.13.1+, 3.14) through their methods' C functions."""

import json

import pytest

from conftest import clip, leaf, parse_report, show_json, supported_interpreters

ROUNDS = 20
HOLD_MS = 10
HOLD_TOLERANCE = 0.10
HOT = 100000
HOT_PCT = 10
COUNT_TOLERANCE = 0.05


def full_covered(python):
    """Every version lockprof supports: 3.8-3.14."""
    return (3, 8) <= python.version[:2] <= (3, 14)


@pytest.fixture
def full_python():
    """One interpreter -m full covers (the newest): for the tests whose subject, the duty-cycle
    controller or the pprof encoding, is the same whatever the interpreter."""
    covered = [i for i in supported_interpreters() if full_covered(i)]
    if not covered:
        pytest.skip("no interpreter here has a sem_t threading.Lock (3.8-3.13.0)")
    return max(covered, key=lambda i: i.version)


def profile(run_profiled, python, workload_args, lockprof_args):
    run = run_profiled(python, "holds.py", [str(a) for a in workload_args],
                       ["-m", "full", "-f", "json"] + [str(a) for a in lockprof_args])
    assert run.returncode == 0, "lockprof exit %d\n%s" % (run.returncode, run.describe())
    report = parse_report(run)
    whole = "workload: %s\nreport:\n%s\nstderr:\n%s" % (json.dumps(run.result), show_json(report), clip(run.stderr))
    return run.result, report, whole


def stacks_at(report, role, line):
    """[(lock, stack)] for stacks of role whose leaf is holds.py:line."""
    hits = []
    for lock in report["locks"]:
        for stack in lock["stacks"]:
            f = leaf(stack)
            if stack["role"] == role and f and f["file"].endswith("holds.py") and f["line"] == line:
                hits.append((lock, stack))
    return hits


def within(value, expected, tolerance):
    return abs(value - expected) <= tolerance * expected


def test_full_hold_times(python, run_profiled, tmp_path):
    text_path = tmp_path / "report.txt"
    res, report, whole = profile(run_profiled, python,
                                 ["--rounds", ROUNDS, "--hold-ms", HOLD_MS, "--rlock-rounds", ROUNDS,
                                  "--cond-rounds", ROUNDS],
                                 ["--capture-pct", 100, "--max-overhead", 100, "-f", "text", "-o", text_path,
                                  "--show-idle"])
    assert report["mode"] == "contention,full", whole
    full = report["full"]
    assert full and full["capture_pct"] == 100 and full["duty_cycle"] == 1.0, whole
    assert full["probe_cost_ns"] > 0, whole
    assert report["estimated"] is False, whole
    # The holder's acquisitions: every one recorded, its hold time as the workload measured it.
    held = stacks_at(report, "hold", res["hold_line"])
    assert len(held) == 1, "expected one hold stack at holds.py:%d\n%s" % (res["hold_line"], whole)
    lock, holder = held[0]
    assert holder["count"] == ROUNDS, whole
    assert within(holder["hold_ns"], res["hold_ns"], HOLD_TOLERANCE), (
        "holder held the_lock %.1f ms, the workload measured %.1f ms\n%s"
        % (holder["hold_ns"] / 1e6, res["hold_ns"] / 1e6, whole))
    # The waiter's contended acquisitions of the same lock: waits and holds exact.
    waited = stacks_at(report, "waiter", res["wait_line"])
    assert len(waited) == 1 and waited[0][0]["id"] == lock["id"], whole
    assert lock["waits"] == ROUNDS, whole
    waiter_holds = stacks_at(report, "hold", res["wait_line"])
    assert len(waiter_holds) == 1 and waiter_holds[0][0]["id"] == lock["id"], whole
    assert waiter_holds[0][1]["count"] == ROUNDS, whole
    assert lock["hold_count"] == 2 * ROUNDS, whole
    assert lock["hold_ns"] >= holder["hold_ns"], whole
    # Lock names come from creation sites only where Lock is a sem_t (sem_init is probed).
    assert lock["name"] == "the_lock" or lock["primitive"] != "sem_t", whole

    # RLock: the outer acquisition only; the re-entry inside it is no new hold.
    rheld = stacks_at(report, "hold", res["rlock_line"])
    assert len(rheld) == 1, "expected one hold stack at holds.py:%d\n%s" % (res["rlock_line"], whole)
    rlock, rstack = rheld[0]
    assert rlock["id"] != lock["id"], whole
    assert rstack["count"] == ROUNDS, whole
    assert within(rstack["hold_ns"], res["rlock_hold_ns"], HOLD_TOLERANCE), (
        "RLock held %.1f ms, the workload measured %.1f ms\n%s"
        % (rstack["hold_ns"] / 1e6, res["rlock_hold_ns"] / 1e6, whole))
    assert not stacks_at(report, "hold", res["rlock_inner_line"]), "re-entry counted\n" + whole

    # Condition.wait releases the Condition's RLock: the holds taken at `with the_cond:` (in
    # Condition.__enter__, called from that line) end when each wait begins, far short of the
    # HOLD_MS waits. (Listed with the idle waits of the same site, hence --show-idle.)
    cheld = [(lk, st) for lk in report["locks"] for st in lk["stacks"]
             if st["role"] == "hold" and len(st["frames"]) > 1 and st["frames"][0]["file"].endswith("threading.py")
             and st["frames"][1]["file"].endswith("holds.py") and st["frames"][1]["line"] == res["cond_line"]]
    assert len(cheld) == 1 and cheld[0][1]["count"] == ROUNDS, whole
    assert cheld[0][1]["hold_ns"] < 0.25 * ROUNDS * HOLD_MS * 1e6, (
        "holds at the Condition's `with` line last %.1f ms in all: the waits were counted as holds\n%s"
        % (cheld[0][1]["hold_ns"] / 1e6, whole))

    # Builds whose optimizer inlined the probed methods somewhere say their figures are lower
    # bounds (Debian's PGO builds of 3.13 and 3.14 do).
    sites = full["inlined_call_sites"]
    assert isinstance(sites, int) and sites >= 0, whole
    assert ("lower bounds" in text_path.read_text()) == (sites > 0), text_path.read_text()


def test_full_sampled_count(python, run_profiled):
    res, report, whole = profile(run_profiled, python, ["--rounds", 1, "--hot", HOT],
                                 ["--capture-pct", HOT_PCT, "--max-overhead", 100])
    assert report["estimated"] is True and report["full"]["capture_pct"] == HOT_PCT, whole
    hot = stacks_at(report, "hold", res["hot_line"])
    assert len(hot) == 1, "expected one hold stack at holds.py:%d\n%s" % (res["hot_line"], whole)
    lock, stack = hot[0]
    assert within(lock["hold_count"], HOT, COUNT_TOLERANCE), (
        "upscaled count %d, the workload acquired hot_lock %d times\n%s" % (lock["hold_count"], HOT, whole))
    assert lock["waits"] == 0, whole


def test_full_overhead_bound(full_python, run_profiled):
    """At the default bound a hot loop gets the full-mode probes only part of the time."""
    python = full_python
    # Timed, not counted: the loop must span several duty periods (1 s each) to be sure of
    # meeting an attached window, whatever this machine's probe cost makes the windows.
    res, report, whole = profile(run_profiled, python, ["--rounds", 1, "--hot-seconds", 3.5], [])
    full = report["full"]
    assert full["capture_pct"] == 1 and report["estimated"] is True, whole
    assert full["probe_cost_ns"] > 0, whole
    assert 0 < full["duty_cycle"] < 0.9, whole
    assert full["estimated_overhead_pct"] > 0, whole
    assert stacks_at(report, "hold", res["hot_line"]), whole


def test_full_pprof_hold(full_python, run_profiled, tmp_path):
    """-m full puts hold times in the pprof file as two more sample types, acquisitions and hold,
    on the acquiring stacks; `go tool pprof` still opens it on delay, as Go's mutex profiles."""
    from test_outputs import pprof_top, run_go_pprof

    path = tmp_path / "full.pb.gz"
    res, report, whole = profile(run_profiled, full_python, ["--rounds", ROUNDS, "--hold-ms", HOLD_MS],
                                 ["--capture-pct", 100, "--max-overhead", 100, "-f", "pprof", "-o", path])
    (_, holder), = stacks_at(report, "hold", res["hold_line"])
    waited = stacks_at(report, "waiter", res["wait_line"])
    assert len(waited) == 1, whole
    top = run_go_pprof(["-sample_index=hold", "-top"], path)
    rows = pprof_top(top)
    assert "Rounds.holder" in rows, top
    assert abs(rows["Rounds.holder"][0] - holder["hold_ns"]) <= 0.01 * holder["hold_ns"], (
        "pprof hold of Rounds.holder %s, JSON %d ns\n%s\n%s" % (rows["Rounds.holder"], holder["hold_ns"], top, whole))
    counts = pprof_top(run_go_pprof(["-sample_index=acquisitions", "-top"], path))
    assert counts.get("Rounds.holder", (0,))[0] == ROUNDS, counts
    # The default view is delay: the waiter's function, with the JSON's wait.
    default = run_go_pprof(["-top"], path)
    assert "Type: delay" in default, default
    rows = pprof_top(default)
    assert abs(rows["Rounds.waiter"][0] - waited[0][1]["wait_ns"]) <= 0.01 * waited[0][1]["wait_ns"], default
    assert "Rounds.holder" not in rows, "hold stacks weigh nothing in the delay view\n" + default


def test_full_intervals(full_python, run_profiled):
    """-m full with -i: each interval's report carries the holds that ended in it, upscaled by
    that interval's own duty cycle; at --capture-pct 100 and no bound they add up exactly."""
    from test_outputs import parse_json_stream

    run = run_profiled(full_python, "holds.py", ["--rounds", 1, "--hot-seconds", 2.5],
                       ["-m", "full", "-i", 1, "-f", "json", "--capture-pct", 100, "--max-overhead", 100])
    assert run.returncode == 0, run.describe()
    reports = parse_json_stream(run.stdout, run.describe())
    ctx = "workload: %s\n%s" % (json.dumps(run.result), run.describe())
    assert len(reports) >= 3, ctx
    assert [r["interval"] for r in reports] == list(range(1, len(reports) + 1)), ctx
    per_interval = []
    for r in reports:
        assert r["full"]["duty_cycle"] == 1.0 and r["estimated"] is False, ctx
        per_interval.append(sum(s["count"] for _, s in stacks_at(r, "hold", run.result["hot_line"])))
    assert sum(per_interval) == run.result["hot"], "holds per interval %s, the workload acquired %d\n%s" % (
        per_interval, run.result["hot"], ctx)
    assert sum(1 for n in per_interval if n) >= 2, "holds per interval %s\n%s" % (per_interval, ctx)
