"""`lockprof dump -p PID`: a snapshot of a stuck process (thread states, the lock each blocked
thread waits for and who holds it, deadlock cycles), on every supported CPython found, plus its
error exit codes and the check that it leaves nothing attached; the free-threaded builds found
(``ft_python``) run the deadlock, owner and classification checks too (test_ft_dump_*)."""

import json
import os
import re
import subprocess
import time

import pytest

from conftest import clip, ft_interpreters, show_json, start_python, start_target, target_path
from proctools import breakpoints
from test_contention import NOBODY, assert_error, run_lockprof

DUMP_TIMEOUT = 10.0


def marked(marker):
    with open(target_path("stuck.py")) as f:
        hits = [n for n, line in enumerate(f, 1) if line.rstrip().endswith("# " + marker)]
    assert len(hits) == 1, "stuck.py must mark exactly one line with # %s, found %s" % (marker, hits)
    return hits[0]


def stuck(procs, python, scenario):
    """Start stuck.py; return (Spawned, {role: host tid})."""
    t = start_target(procs, python, "stuck.py", ["--scenario", scenario])
    lines = [l for l in t.out_lines if l.strip().startswith("{")]
    assert lines, "stuck.py printed no thread ids\n%s" % t.describe()
    ids = json.loads(lines[-1])
    return t, {role: t.tids.get(tid, tid) for role, tid in ids.items()}


def dump(pid, *args):
    cp = run_lockprof(["dump", "-p", pid] + list(args), timeout=DUMP_TIMEOUT)
    out, err = cp.stdout.decode(errors="replace"), cp.stderr.decode(errors="replace")
    assert cp.returncode == 0, "lockprof dump exit %d\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
        cp.returncode,
        clip(out),
        clip(err),
    )
    return out


def dump_json(pid):
    out = dump(pid, "-f", "json")
    try:
        return json.loads(out)
    except ValueError:
        pytest.fail("dump -f json is not JSON:\n%s" % clip(out))


def by_tid(report):
    return {t["tid"]: t for t in report["threads"]}


def check_deadlock(procs, python, scenario, kind):
    t, tids = stuck(procs, python, scenario)
    report = dump_json(t.pid)
    text = dump(t.pid)
    whole = "json:\n%s\ntext:\n%s" % (show_json(report), clip(text))
    threads = by_tid(report)
    ab, ba = threads.get(tids["ab"]), threads.get(tids["ba"])
    assert ab and ba, "threads %s missing\n%s" % (tids, whole)
    lines = {m: marked(m) for m in ("AB-OUTER", "AB-INNER", "BA-OUTER", "BA-INNER")}

    # Each waits for the lock named by its inner with line, and holds the outer one.
    for th, waits, inner, holds, outer in ((ab, "b", "AB-INNER", "a", "AB-OUTER"), (ba, "a", "BA-INNER", "b", "BA-OUTER")):
        assert th["state"] == "lock", "%s\n%s" % (th["state"], whole)
        assert th["waiting_for"] and th["waiting_for"]["name"] == waits, whole
        assert [(h["name"], h["taken_at"]["line"] if h["taken_at"] else None) for h in th["holds"]] == [
            (holds, lines[outer])
        ], whole
        assert th["holds"][0]["taken_at"]["file"].endswith("stuck.py"), whole
        # The first frame of stuck.py (a Condition's wait is inside threading.py's __enter__).
        user = [f for f in th["stack"] if f["file"].endswith("stuck.py")]
        assert user and user[0]["line"] == lines[inner], whole
    locks = {l["name"]: l for l in report["locks"]}
    for name, holder in (("a", tids["ab"]), ("b", tids["ba"])):
        assert locks[name]["type"] == kind, whole
        assert locks[name]["holders"] == [holder], whole

    # One cycle, through both threads, each held by the other at its outer with line.
    assert len(report["deadlocks"]) == 1, whole
    cycle = {p["tid"]: p for p in report["deadlocks"][0]["threads"]}
    assert set(cycle) == {tids["ab"], tids["ba"]}, whole
    assert cycle[tids["ab"]]["held_by"] == tids["ba"] and cycle[tids["ab"]]["waits_for"]["name"] == "b", whole
    assert cycle[tids["ab"]]["holder_took_it_at"]["line"] == lines["BA-OUTER"], whole
    assert cycle[tids["ba"]]["held_by"] == tids["ab"] and cycle[tids["ba"]]["waits_for"]["name"] == "a", whole
    assert cycle[tids["ba"]]["holder_took_it_at"]["line"] == lines["AB-OUTER"], whole

    # The text says the same.
    assert "DEADLOCK 1: 2 threads wait for each other" in text, whole
    for waiter, inner, holder, outer, name in (
        ("ab", "AB-INNER", "ba", "BA-OUTER", "b"),
        ("ba", "BA-INNER", "ab", "AB-OUTER", "a"),
    ):
        want = r'thread %d "worker-\w+" waits for \S*stuck\.py:%d %s\n    held by thread %d "worker-\w+", which took it at \S*stuck\.py:%d\n' % (
            tids[waiter],
            lines[inner],
            name,
            tids[holder],
            lines[outer],
        )
        assert re.search(want, text), "no match for %r\n%s" % (want, whole)


def test_dump_deadlock_locks(root, lockprof, procs, python):
    check_deadlock(procs, python, "deadlock", "Lock")


def test_dump_deadlock_rlocks(root, lockprof, procs, python):
    check_deadlock(procs, python, "rlock", "RLock")


def test_dump_deadlock_conditions(root, lockprof, procs, python):
    """`with cond:` holds the Condition's Lock: found through the bound Condition.__exit__ (or,
    3.14, the function beside the Condition) and the Condition's _lock."""
    check_deadlock(procs, python, "condition", "Lock")


def test_dump_acquire_owner_unknown(root, lockprof, procs, python):
    """Locks taken by acquire() without a with block: blocked threads and locks named, owner
    unknown said as such, and no deadlock claimed without evidence."""
    t, tids = stuck(procs, python, "acquire")
    report = dump_json(t.pid)
    text = dump(t.pid)
    whole = "json:\n%s\ntext:\n%s" % (show_json(report), clip(text))
    threads = by_tid(report)
    for role, name, marker in (("ab", "lock_b", "ACQ-AB-INNER"), ("ba", "lock_a", "ACQ-BA-INNER")):
        th = threads[tids[role]]
        assert th["state"] == "lock" and th["waiting_for"]["name"] == name, whole
        assert th["stack"][0]["line"] == marked(marker), whole
        assert th["holds"] == [], whole
    assert report["deadlocks"] == [], whole
    assert all(l["holders"] == [] for l in report["locks"] if l["name"] in ("lock_a", "lock_b")), whole
    assert text.count("owner unknown") >= 2, whole
    assert "DEADLOCK" not in text, whole


def test_dump_rlock_acquire_cycle(root, lockprof, procs, python):
    """RLocks taken by acquire() without a with block: their owner field still closes the cycle,
    and the line where each was taken is said to be unknown."""
    t, tids = stuck(procs, python, "rlock-acquire")
    report = dump_json(t.pid)
    text = dump(t.pid)
    whole = "json:\n%s\ntext:\n%s" % (show_json(report), clip(text))
    threads = by_tid(report)
    for role, waits, holds in (("ab", "lock_b", "lock_a"), ("ba", "lock_a", "lock_b")):
        th = threads[tids[role]]
        assert th["state"] == "lock" and th["waiting_for"]["name"] == waits, whole
        assert [(h["name"], h["how"], h["taken_at"]) for h in th["holds"]] == [(holds, "rlock_owner", None)], whole
    assert len(report["deadlocks"]) == 1, whole
    assert {p["tid"] for p in report["deadlocks"][0]["threads"]} == {tids["ab"], tids["ba"]}, whole
    assert "took it outside a with block (line unknown)" in text, whole


def test_dump_waits_sleep_running(root, lockprof, procs, python):
    t, tids = stuck(procs, python, "waits")
    report = dump_json(t.pid)
    whole = show_json(report)
    threads = by_tid(report)
    names = {"queue": "worker-consumer", "event": "worker-event_waiter", "sleep": "worker-sleeper", "spin": "worker-spin"}
    for role, name in names.items():
        assert threads[tids[role]]["python_name"] == name, whole
    assert threads[t.pid]["python_name"] == "MainThread", whole
    for role, state in (("queue", "signal"), ("event", "signal"), ("sleep", "sleep")):
        assert threads[tids[role]]["state"] == state, "%s: %s\n%s" % (role, threads[tids[role]]["state"], whole)
        assert threads[tids[role]]["waiting_for"] is None, whole
    # The CPU-bound thread runs, or at an unlucky instant waits for the GIL the main thread took.
    assert threads[tids["spin"]]["state"] in ("running", "gil"), whole
    # In the loop: its body, or its `while` line at the back edge.
    assert threads[tids["spin"]]["stack"][0]["line"] in (marked("SPIN") - 1, marked("SPIN")), whole
    assert threads[tids["queue"]]["stack"][-1]["function"].endswith("_bootstrap"), whole
    assert any(f["line"] == marked("QUEUE-GET") for f in threads[tids["queue"]]["stack"]), whole
    assert any(f["line"] == marked("EVENT-WAIT") for f in threads[tids["event"]]["stack"]), whole
    assert report["deadlocks"] == [], whole
    text = dump(t.pid)
    assert "DEADLOCK" not in text and "blocked acquiring" not in text, text


# Free-threaded builds (ft_python): the same checks through the same helpers; their objects (a
# type's name, a lock's state, a bound __exit__, a Condition's _lock, a Thread's _name) sit past
# a 32-byte header, their code objects' fields 16 bytes further.


@pytest.mark.parametrize("scenario,kind", [("deadlock", "Lock"), ("rlock", "RLock"), ("condition", "Lock")])
def test_ft_dump_deadlock(root, lockprof, procs, ft_python, scenario, kind):
    check_deadlock(procs, ft_python, scenario, kind)


def test_ft_dump_acquire_owner_unknown(root, lockprof, procs, ft_python):
    test_dump_acquire_owner_unknown(root, lockprof, procs, ft_python)


def test_ft_dump_rlock_acquire_cycle(root, lockprof, procs, ft_python):
    test_dump_rlock_acquire_cycle(root, lockprof, procs, ft_python)


def test_ft_dump_waits_sleep_running(root, lockprof, procs, ft_python):
    test_dump_waits_sleep_running(root, lockprof, procs, ft_python)


# The robustness checks (as any_python's): on the newest free-threaded build only.
NEWEST_FT = sorted(ft_interpreters(), key=lambda i: i.version)[-1:]


@pytest.mark.parametrize("newest_ft", NEWEST_FT, ids=[i.label for i in NEWEST_FT])
def test_ft_dump_busy_process(root, lockprof, procs, newest_ft):
    test_dump_busy_process(root, lockprof, procs, newest_ft)


@pytest.mark.parametrize("newest_ft", NEWEST_FT, ids=[i.label for i in NEWEST_FT])
def test_ft_dump_threads_coming_and_going(root, lockprof, procs, newest_ft):
    test_dump_threads_coming_and_going(root, lockprof, procs, newest_ft)


@pytest.mark.parametrize("newest_ft", NEWEST_FT, ids=[i.label for i in NEWEST_FT])
def test_ft_dump_leaves_nothing(root, lockprof, procs, newest_ft):
    test_dump_leaves_nothing(root, lockprof, procs, newest_ft)


def test_dump_leaves_nothing(root, lockprof, procs, any_python):
    """No probe in the target's code after the dump, not traced, still running."""
    t, _ = stuck(procs, any_python, "waits")
    t0 = time.monotonic()
    dump(t.pid)
    elapsed = time.monotonic() - t0
    assert t.alive(), "the target died\n%s" % t.describe()
    assert breakpoints(t.pid) == [], "breakpoints left in the target's code"
    with open("/proc/%d/status" % t.pid) as f:
        assert re.search(r"^TracerPid:\s+0$", f.read(), re.M), "target left traced"
    assert elapsed < 5, "dump took %.1f s" % elapsed


def test_dump_no_such_process(root, lockprof):
    p = subprocess.Popen(["true"])
    p.wait()
    if os.path.exists("/proc/%d" % p.pid):
        pytest.skip("pid reused")
    assert_error(run_lockprof(["dump", "-p", p.pid]), 3, "dump of a dead pid")


def test_dump_zombie(root, lockprof):
    p = subprocess.Popen(["true"])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % p.pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.01)
    try:
        cp = run_lockprof(["dump", "-p", p.pid])
        assert_error(cp, 3, "dump of a zombie")
        assert b"zombie" in cp.stderr, cp.stderr
    finally:
        p.wait()


def test_dump_not_python(root, lockprof, procs):
    p = procs.spawn(["sleep", "30"])
    assert_error(run_lockprof(["dump", "-p", p.pid]), 4, "dump of sleep")


def test_dump_unsupported_version(root, lockprof, procs, old_python):
    code = "import sys, time; sys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(60)"
    p = start_python(procs, old_python, ["-c", code])
    assert_error(run_lockprof(["dump", "-p", p.pid]), 5, "dump of CPython %s" % old_python.version_str)


def test_dump_other_user(root, lockprof, procs, any_python):
    probe = subprocess.run(NOBODY + ["test", "-x", lockprof], timeout=10)
    if probe.returncode != 0:
        pytest.skip("user nobody cannot execute %s" % lockprof)
    t, _ = stuck(procs, any_python, "waits")
    assert_error(run_lockprof(["dump", "-p", t.pid], prefix=NOBODY), 6, "dump as user nobody")


def test_dump_busy_process(root, lockprof, procs, any_python):
    """Dumps of a busy 100-thread process leave it working correctly (its own self-check), and
    each sees every thread."""
    t = start_target(procs, any_python, "busy_threads.py", ["--threads", 100, "--seconds", 0])
    seen = []
    for _ in range(3):
        report = dump_json(t.pid)
        seen.append(len(report["threads"]) + report["threads_exited_during_dump"])
        time.sleep(0.3)
    t.send("stop\n")
    t.close_stdin()
    assert t.wait(30) == 0, "target failed\n%s" % t.describe()
    result = json.loads([l for l in t.out_lines if l.startswith("{")][-1])
    assert result["ok"], "the target's self-check failed after dumps: %s" % result
    assert seen == [101] * 3, "threads seen per dump: %s" % seen


def test_dump_threads_coming_and_going(root, lockprof, procs, any_python):
    """Threads that exit while they are read are left out (and counted), never a failure."""
    t = start_target(procs, any_python, "churn_threads.py", ["--workers", 4, "--seconds", 120])
    for _ in range(10):
        cp = run_lockprof(["dump", "-p", t.pid, "-f", "json"], timeout=DUMP_TIMEOUT)
        out, err = cp.stdout.decode(errors="replace"), cp.stderr.decode(errors="replace")
        assert cp.returncode == 0, "exit %d\n%s\n%s" % (cp.returncode, clip(out), clip(err))
        report = json.loads(out)
        gone = report["threads_exited_during_dump"]
        # The main thread and the four spawners live throughout: a thread that exits while the
        # list is walked makes lockprof read it again, never show part of it.
        assert len(report["threads"]) >= 5, show_json(report)
        if gone:
            assert "exited during the dump" in err, err
    t.send("stop\n")
    t.close_stdin()
    assert t.wait(30) == 0, t.describe()
