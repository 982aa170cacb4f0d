"""lockprof functional tests: contention accuracy, probe cost, errors, lifecycle.

Profiling tests run once per supported CPython found (see conftest.py); the
error and lifecycle tests run once.  All need root and ./lockprof.
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import (
    BANNER_RE,
    EXIT_TIMEOUT,
    LOCKPROF,
    clip,
    interpreters,
    leaf,
    parse_report,
    record_accuracy,
    show_json,
    start_lockprof,
    start_python,
    start_target,
    supported_interpreters,
    target_path,
    waiter_stacks_at,
)

WAITS = 40
HOLD_MS = 20
TEXT_WAITS = 10
WAIT_NS_TOLERANCE = 0.05
ATTEMPTS = 3
UNCONTENDED_MAX_HITS = 200
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
CAPABILITY_RE = re.compile(r"CAP_(BPF|PERFMON|SYS_ADMIN|SYS_PTRACE)")


def marked_wait_line():
    """Line number of the `# WAIT-LINE` with statement in holder_waiter.py."""
    with open(target_path("holder_waiter.py")) as f:
        hits = [n for n, line in enumerate(f, 1) if line.rstrip().endswith("# WAIT-LINE")]
    assert len(hits) == 1, "holder_waiter.py must mark exactly one line with # WAIT-LINE, found %s" % hits
    return hits[0]


def run_lockprof(args, prefix=(), timeout=EXIT_TIMEOUT):
    """Run lockprof to completion (killed after timeout); return the CompletedProcess, text."""
    argv = list(prefix) + [LOCKPROF] + [str(a) for a in args]
    try:
        return subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail("%s did not exit within %.0f s\nstderr: %s" % (" ".join(argv), timeout, e.stderr))


def assert_error(cp, code, what):
    out = cp.stdout.decode(errors="replace")
    err = cp.stderr.decode(errors="replace")
    detail = "%s: exit %d, expected %d\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
        what,
        cp.returncode,
        code,
        clip(out, 4000),
        clip(err, 4000),
    )
    assert cp.returncode == code, detail
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lockprof: "), (
        "expected exactly one stderr line starting with 'lockprof: '\n" + detail
    )
    return lines[0]


# --------------------------------------------------------------------------
# (a) contention is counted and timed exactly, at the right line


def test_contention_json(python, run_profiled):
    wait_line = marked_wait_line()
    # On a starved CPU the waiter may, rarely, find the lock already free in a
    # round; the workload counts that, and then the run is not a fair test.
    for _ in range(ATTEMPTS):
        run = run_profiled(python, "holder_waiter.py", ["--waits", WAITS, "--hold-ms", HOLD_MS], ["-f", "json"])
        res = run.result
        assert run.returncode == 0, "lockprof exit %d\n%s" % (run.returncode, run.describe())
        if res["contended_rounds"] == WAITS:
            break
    assert res["contended_rounds"] == WAITS, (
        "workload: only %d of %d rounds found the lock held, %d times running (overloaded machine?): %s"
        % (res["contended_rounds"], WAITS, ATTEMPTS, res)
    )
    assert res["wait_line"] == wait_line, "workload reports wait_line %s, file says %d" % (res, wait_line)
    report = parse_report(run)
    whole = "workload: %s\nreport:\n%s\nlockprof stderr:\n%s" % (json.dumps(res), show_json(report), clip(run.stderr, 3000))

    assert report.get("version") == 1, whole
    assert report.get("mode") == "contention", whole
    assert report.get("estimated") is False, whole
    assert report["target"]["pid"] == run.target.pid, whole
    assert report["lost"]["events"] == 0, whole
    assert report["probe_hits"] >= WAITS, whole

    hits = waiter_stacks_at(report, "holder_waiter.py", wait_line)
    found = hits[0][0] if hits else {"waits": 0, "wait_ns": 0}
    record_accuracy(python, found["waits"], WAITS, found["wait_ns"], res["wait_ns"])
    assert hits, "no lock has a waiter stack whose leaf is holder_waiter.py:%d\n%s" % (wait_line, whole)
    locks = {lock["id"] for lock, _ in hits}
    assert len(locks) == 1, "waiter stacks at holder_waiter.py:%d are spread over locks %s\n%s" % (
        wait_line,
        sorted(locks),
        whole,
    )
    lock = hits[0][0]
    stacks = [s for _, s in hits]
    ctx = "workload: %s\nlock:\n%s" % (json.dumps(res), show_json(lock))

    assert lock["category"] == "contention", ctx
    assert lock["waits"] == WAITS, "lock waits %s, expected exactly %d\n%s" % (lock["waits"], WAITS, ctx)
    assert sum(s["count"] for s in stacks) == WAITS, ctx
    assert lock["timeouts"] == 0, ctx
    assert abs(lock["wait_ns"] - res["wait_ns"]) <= WAIT_NS_TOLERANCE * res["wait_ns"], (
        "lock wait_ns %d vs workload-measured %d: off by %.1f%% (> %d%%)\n%s"
        % (
            lock["wait_ns"],
            res["wait_ns"],
            100.0 * abs(lock["wait_ns"] - res["wait_ns"]) / res["wait_ns"],
            100 * WAIT_NS_TOLERANCE,
            ctx,
        )
    )
    assert sum(s["wait_ns"] for s in stacks) <= lock["wait_ns"], ctx
    assert lock["max_wait_ns"] >= HOLD_MS * 1e6 * 0.9, ctx
    assert lock["max_wait_ns"] <= lock["wait_ns"], ctx
    assert sum(lock["hist_log2_ns"]) == lock["waits"], "histogram sums to %d, waits %d\n%s" % (
        sum(lock["hist_log2_ns"]),
        lock["waits"],
        ctx,
    )

    for stack in stacks:
        top = leaf(stack)
        assert top["function"] == res["waiter_function"], "leaf function %r, expected %r\n%s" % (
            top["function"],
            res["waiter_function"],
            ctx,
        )
        assert top["file"] == res["waiter_file"], "leaf file %r, co_filename is %r\n%s" % (
            top["file"],
            res["waiter_file"],
            ctx,
        )
        # Kernel (host) thread ids: the target reports its own, which differ in a PID namespace.
        assert stack["thread_ids"] == [run.host_tid(res["waiter_tid"])], "thread_ids %s, waiter thread is %d\n%s" % (
            stack["thread_ids"],
            run.host_tid(res["waiter_tid"]),
            ctx,
        )
        # The waiter runs under threading.Thread: the walk must get past the leaf.
        names = [f["function"] for f in stack["frames"]]
        assert any(n.endswith("_bootstrap_inner") for n in names), "stack lacks Thread._bootstrap_inner\n%s" % ctx

    # Last, so that the checks above run first: report and banner name the full X.Y.Z.
    assert report["target"]["python"] == python.version_str, "target.python %r, target runs %s\n%s" % (
        report["target"]["python"],
        python.version_str,
        show_json(report["target"]),
    )
    banner_version = BANNER_RE.match(run.banner).group(2)
    assert banner_version == python.version_str, "banner says CPython %s, target runs %s: %r" % (
        banner_version,
        python.version_str,
        run.banner,
    )


@pytest.mark.parametrize("links", ["perf", "default"])
def test_uprobe_link_kinds(any_python, run_profiled, monkeypatch, links):
    """Both ways of attaching uprobes count every wait: one uprobe_multi link per program and file
    (kernel 6.6+, the default where present) and one perf-event link per function (older kernels,
    or LOCKPROF_UPROBE_LINKS=perf); -v says which was used."""
    if links == "perf":
        monkeypatch.setenv("LOCKPROF_UPROBE_LINKS", "perf")
    for _ in range(ATTEMPTS):
        run = run_profiled(any_python, "holder_waiter.py", ["--waits", WAITS, "--hold-ms", HOLD_MS], ["-f", "json", "-v"])
        assert run.returncode == 0, "lockprof exit %d\n%s" % (run.returncode, run.describe())
        if run.result["contended_rounds"] == WAITS:
            break
    assert run.result["contended_rounds"] == WAITS, run.result
    said = [l for l in run.stderr.splitlines() if "attaching uprobes with" in l]
    assert len(said) == 1, clip(run.stderr, 3000)
    if links == "perf":
        assert "one perf-event link per function (LOCKPROF_UPROBE_LINKS=perf)" in said[0], said
    hits = waiter_stacks_at(parse_report(run), "holder_waiter.py", marked_wait_line())
    assert len(hits) == 1 and hits[0][0]["waits"] == WAITS, "%s\n%s" % (said, show_json(parse_report(run)))


def test_contention_text(python, run_profiled):
    wait_line = marked_wait_line()
    run = run_profiled(python, "holder_waiter.py", ["--waits", TEXT_WAITS, "--hold-ms", HOLD_MS])
    assert run.returncode == 0, "lockprof exit %d\n%s" % (run.returncode, run.describe())
    where = "holder_waiter.py:%d" % wait_line
    assert where in run.stdout, "text report lacks %s\n%s" % (where, run.describe())


# --------------------------------------------------------------------------
# (b) an uncontended lock costs no probe hits and shows up nowhere


def test_uncontended(python, run_profiled):
    run = run_profiled(python, "uncontended.py", lockprof_args=["-f", "json", "-v"])
    assert run.returncode == 0, "lockprof exit %d\n%s" % (run.returncode, run.describe())
    report = parse_report(run)
    whole = "workload: %s\nreport:\n%s\nlockprof stderr:\n%s" % (
        json.dumps(run.result),
        show_json(report),
        clip(run.stderr, 3000),
    )
    assert run.result["count"] == 200000, whole
    hits = waiter_stacks_at(report, "uncontended.py")
    assert not hits, "uncontended.py shows up as a waiter:\n%s" % show_json([lock for lock, _ in hits])
    assert report["probe_hits"] < UNCONTENDED_MAX_HITS, whole
    counts = re.findall(r"probe hits:\s*(\d+)", run.stderr)
    assert counts, "-v printed no 'probe hits: N' line\n%s" % whole
    assert int(counts[-1]) == report["probe_hits"], "stderr says probe hits %s, JSON says %s\n%s" % (
        counts[-1],
        report["probe_hits"],
        whole,
    )


# --------------------------------------------------------------------------
# (c) bad input: exit codes and one-line messages


def _dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def _pid_above_max():
    with open("/proc/sys/kernel/pid_max") as f:
        return int(f.read()) + 1


@pytest.mark.parametrize("make_pid", [_dead_pid, _pid_above_max], ids=["dead-child", "above-pid-max"])
def test_no_such_process(root, lockprof, make_pid):
    pid = make_pid()
    if os.path.exists("/proc/%d" % pid):
        pytest.skip("pid %d got reused" % pid)
    assert_error(run_lockprof(["-p", pid, "-d", 1]), 3, "no such process (pid %d)" % pid)


def test_not_python(root, lockprof, procs):
    p = procs.spawn(["sleep", "30"])
    assert_error(run_lockprof(["-p", p.pid, "-d", 1]), 4, "sleep process")


def _sleeping_python(procs, python):
    """An interpreter (any version, 2.7 too) that is up and idle."""
    code = "import sys, time; sys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(60)"
    return start_python(procs, python, ["-c", code])


def test_unsupported_version(root, lockprof, procs, old_python):
    p = _sleeping_python(procs, old_python)
    line = assert_error(run_lockprof(["-p", p.pid, "-d", 1]), 5, "CPython %s" % old_python.version_str)
    # The message names the target's version (X.Y.Z, or X.Y when the patch level is unknown).
    version = re.escape("%d.%d" % old_python.version[:2]) + r"(\.%d)?(?![.\d])" % old_python.version[2]
    assert re.search(r"\bCPython " + version, line), "message does not name CPython %s: %r" % (
        old_python.version_str,
        line,
    )
    assert "not supported" in line, line


def test_insufficient_privilege(root, lockprof, procs):
    found = supported_interpreters() or interpreters()
    if not found:
        pytest.skip("no CPython interpreter found to attach to")
    probe = subprocess.run(NOBODY + ["test", "-x", LOCKPROF], timeout=10)
    if probe.returncode != 0:
        pytest.skip("user nobody cannot execute %s (directory permissions)" % LOCKPROF)
    p = _sleeping_python(procs, found[-1])
    line = assert_error(run_lockprof(["-p", p.pid, "-d", 1], prefix=NOBODY), 6, "as user nobody")
    assert CAPABILITY_RE.search(line), "message names no capability: %r" % line


@pytest.mark.parametrize(
    "args",
    [
        ["--no-such-flag"],
        ["-p", "1", "-f", "xml"],
        ["-p", "not-a-pid"],
        ["-p", "1", "-d", "soon"],
        [],
    ],
    ids=["unknown-flag", "bad-format", "bad-pid", "bad-duration", "no-pid"],
)
def test_usage_error(lockprof, args):
    cp = run_lockprof(args)
    assert cp.returncode == 2, "lockprof %s: exit %d, expected 2\nstderr: %s" % (
        " ".join(args),
        cp.returncode,
        cp.stderr.decode(errors="replace"),
    )


def test_output_not_writable(root, lockprof, procs, any_python):
    p = start_target(procs, any_python, "holder_waiter.py")
    assert_error(run_lockprof(["-p", p.pid, "-d", 1, "-o", "/nonexistent-dir/x.json"]), 8, "-o into a missing dir")


# --------------------------------------------------------------------------
# (d) lifecycle: -d, SIGINT, SIGTERM; the target survives detaching


def _target_still_works(target):
    """After lockprof detached, the idle holder_waiter target must run normally."""
    assert target.alive(), "target died while profiled\n" + target.describe()
    target.send("go\n")
    target.close_stdin()
    rc = target.wait(30)
    assert rc == 0, "target failed after lockprof detached\n" + target.describe()
    res = json.loads([l for l in target.out_lines if l.strip()][-1])
    assert res["waits"] == 4 and res["contended_rounds"] == 4, res


def test_duration(root, lockprof, procs, any_python, tmp_path):
    out = tmp_path / "report.json"
    target = start_target(procs, any_python, "holder_waiter.py", ["--waits", 4, "--hold-ms", 5])
    t0 = time.monotonic()
    lp, _ = start_lockprof(procs, target.pid, ["-d", 2, "-f", "json", "-o", out])
    rc = lp.wait(10 - (time.monotonic() - t0))
    elapsed = time.monotonic() - t0
    if rc is None:
        lp.kill()
        pytest.fail("lockprof -d 2 still running after %.1f s\n%s" % (elapsed, lp.describe()))
    assert rc == 0, lp.describe()
    assert elapsed >= 1.9, "lockprof -d 2 stopped after %.2f s\n%s" % (elapsed, lp.describe())
    try:
        report = json.loads(out.read_text())
    except (OSError, ValueError) as e:
        pytest.fail("no JSON report in %s (%s)\n%s" % (out, e, lp.describe()))
    assert 1.5e9 <= report["duration_ns"] <= 10e9, show_json(report)
    assert report["target"]["pid"] == target.pid, show_json(report)
    assert isinstance(report["locks"], list), show_json(report)
    _target_still_works(target)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_signal_stops(root, lockprof, procs, any_python, sig, fmt):
    target = start_target(procs, any_python, "holder_waiter.py", ["--waits", 4, "--hold-ms", 5])
    lp, _ = start_lockprof(procs, target.pid, ["-f", fmt])
    time.sleep(0.5)
    assert lp.alive(), "lockprof exited before the signal\n" + lp.describe()
    lp.signal(sig)
    rc = lp.wait(10)
    if rc is None:
        lp.kill()
        pytest.fail("lockprof ignored %s for 10 s\n%s" % (sig.name, lp.describe()))
    assert rc == 0, lp.describe()
    if fmt == "json":
        try:
            report = json.loads(lp.stdout)
        except ValueError as e:
            pytest.fail("stdout is not a JSON report (%s)\n%s" % (e, lp.describe()))
        assert report["target"]["pid"] == target.pid, show_json(report)
        assert isinstance(report["locks"], list), show_json(report)
    else:
        assert lp.stdout.strip(), "empty text report\n" + lp.describe()
    _target_still_works(target)
