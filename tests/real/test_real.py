"""lockprof on real code: CPython's test_threading, test_queue and test_logging.

For each interpreter the three suites run in one process (``python -m test``
without -j: lockprof -p profiles one process), twice: plain, and with
``lockprof -p PID -f json -o REPORT -f text -o REPORT.txt`` attached from the
start until the target exits.  lockprof must exit 0 with a report, and both
runs must fail the same tests (regrtest's JUnit XML: test cases with a
failure or error; its summary: test files that failed).  The suites are
timing-sensitive, so a mismatch runs both once more before it fails.

The report is then checked by check_report.py (one test per invariant, each
stating its figures): no Condition/Event/join wait filed as contention, no
stale frame, every lock name well formed, under 1% unknown frames.
"""

import os
import re
import shutil
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

import pytest

import check_report
import realstage as real

fc = real.fc

SEED = 1  # --randseed: the same random state in both runs (3.13+ seeds each test with it)
READY_TIMEOUT = 60.0  # interpreter start-up, chroot included
SUITE_TIMEOUT = 900.0  # the three suites take about 1 min plain; lockprof slows them a little
IGNORED_TESTS = ("test_print_exception_gh_102056",)
REGRTEST_TIMEOUT = 120  # regrtest --timeout: a hung test dumps its tracebacks and fails (the whole run takes under a minute; one run of 3.13.0 hung in a recursion test for 8 min)
EXIT_TIMEOUT = 60.0  # lockprof's exit after the target's (symbolizing, writing a few MB of JSON)
BOOT = os.path.join(real.HERE, "regrtest_boot.py")
SUMMARY_RE = re.compile(r"^(?:All )?(\d+) tests? (failed|altered the execution environment[^:]*|crashed):$")


class SuiteRun:
    """One run of the suites: exit code, output, failing tests, and lockprof's if attached."""

    def __init__(self, kind):
        self.kind = kind  # "plain" or "lockprof"
        self.returncode = None
        self.output = ""
        self.junit = None  # parsed XML root, None if not written
        self.failing = set()
        self.env_changed = set()
        self.tests_run = 0
        self.seconds = 0.0
        self.error = None  # why the run is not usable
        self.lockprof_rc = None
        self.lockprof_stderr = ""
        self.report = None  # parsed JSON
        self.report_path = None

    def describe(self):
        return "%s run: exit %s, %.0f s, %d test cases, failing %s%s" % (
            self.kind, self.returncode, self.seconds, self.tests_run, sorted(self.failing) or "none",
            ", lockprof exit %s" % self.lockprof_rc if self.kind == "lockprof" else "")


def parse_results(run, junit_path):
    """Fill run.failing: JUnit test cases with a failure/error, and test files the summary calls failed."""
    try:
        run.junit = ET.parse(junit_path).getroot()
    except (OSError, ET.ParseError):
        run.junit = None
    if run.junit is not None:
        for case in run.junit.iter("testcase"):
            run.tests_run += 1
            if any(child.tag in ("failure", "error") for child in case):
                run.failing.add(case.get("name"))
    section = None
    for line in run.output.splitlines():
        m = SUMMARY_RE.match(line.strip())
        if m:
            section = "failed" if m.group(2) in ("failed", "crashed") else "env"
            continue
        if section and line.startswith("    ") and line.strip():
            names = line.split()
            if section == "failed":
                run.failing.update("file " + n for n in names)
            else:
                run.env_changed.update(names)
            continue
        section = None


def start_suites(pool, python, workdir, junit):
    args = [python.launcher.script(BOOT)] + list(real.SUITES) + [
        "--junit-xml", junit, "--randseed", str(SEED), "--timeout", str(REGRTEST_TIMEOUT)]
    # Hangs here without lockprof (pyenv 3.13.0, twice: a thread recursing on a small stack
    # spins for minutes), which ends the whole regrtest run.
    for pattern in IGNORED_TESTS:
        args += ["--ignore", pattern]
    env = dict(os.environ)
    for var in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONDONTWRITEBYTECODE"):
        env.pop(var, None)
    t = pool.spawn(python.launcher.argv(python.path, args), cwd=workdir, env=env)
    if t.wait_line("stdout", lambda l: l.strip() == "ready", READY_TIMEOUT) is None:
        t.kill()
        return None, "the interpreter did not get ready within %.0f s\n%s" % (READY_TIMEOUT, t.describe())
    try:
        t.pid = python.launcher.python_pid(t, python.host_path)
    except RuntimeError as e:
        t.kill()
        return None, "%s\n%s" % (e, t.describe())
    return t, None


def run_suites(pool, python, outdir, tag, profiled):
    """Run the suites once (profiled or not); everything it wrote goes to outdir/tag.*."""
    run = SuiteRun("lockprof" if profiled else "plain")
    # The junit file must be visible to the interpreter: inside its root for a Debian root.
    if python.launcher.name == "rootfs":
        tmp = tempfile.mkdtemp(prefix="lockprof-real-", dir=os.path.join(python.launcher.root, "tmp"))
        os.chmod(tmp, 0o755)
        junit_arg = "/" + os.path.relpath(os.path.join(tmp, "junit.xml"), python.launcher.root)
        workdir = None
    else:
        tmp = tempfile.mkdtemp(prefix="lockprof-real-")
        junit_arg = os.path.join(tmp, "junit.xml")
        workdir = tmp
    junit_host = os.path.join(tmp, "junit.xml")
    try:
        t, why = start_suites(pool, python, workdir, junit_arg)
        if t is None:
            run.error = why
            return run
        lp = None
        if profiled:
            run.report_path = os.path.join(outdir, tag + ".json")
            for p in (run.report_path, run.report_path[:-5] + ".txt"):
                if os.path.exists(p):
                    os.unlink(p)
            lp, banner = fc.start_lockprof(
                pool, t.pid, ["-f", "json", "-o", run.report_path, "-f", "text", "-o", run.report_path[:-5] + ".txt"])
        start = time.monotonic()
        t.send("go\n")
        t.close_stdin()
        run.returncode = t.wait(SUITE_TIMEOUT)
        run.seconds = time.monotonic() - start
        run.output = t.stdout + t.stderr
        if run.returncode is None:
            t.kill()
            run.error = "the suites did not finish within %.0f s\n%s" % (SUITE_TIMEOUT, t.describe())
        if lp is not None:
            run.lockprof_rc = lp.wait(EXIT_TIMEOUT)
            run.lockprof_stderr = lp.stderr
            if run.lockprof_rc is None:
                lp.kill()
                run.error = (run.error or "") + "lockprof still running %.0f s after the target exited\n%s" % (
                    EXIT_TIMEOUT, lp.describe())
            elif os.path.exists(run.report_path):
                try:
                    reports = check_report.read_reports(run.report_path)
                    run.report = reports[-1]
                except (OSError, ValueError, check_report.CheckError) as e:
                    run.error = (run.error or "") + "lockprof's JSON report is not readable: %s" % e
        if run.returncode not in (None, 0, 2):  # regrtest: 0 all passed, 2 some failed
            run.error = (run.error or "") + "regrtest exited %s (crashed or interrupted)\n%s" % (
                run.returncode, fc.clip(run.output))
        parse_results(run, junit_host)
        if os.path.exists(junit_host):
            shutil.copyfile(junit_host, os.path.join(outdir, tag + ".junit.xml"))
        with open(os.path.join(outdir, tag + ".out"), "w") as f:
            f.write(run.output)
            if profiled:
                f.write("\n--- lockprof stderr (exit %s) ---\n%s" % (run.lockprof_rc, run.lockprof_stderr))
        return run
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Outcome:
    """What one interpreter's stage produced: the runs, and the checks on the last report."""

    def __init__(self, python):
        self.python = python
        self.runs = []  # [(plain, profiled)]
        self.error = None
        self.figures = None
        self.checks = None
        self.check_error = None
        self.wall = 0.0

    @property
    def last(self):
        return self.runs[-1] if self.runs else (None, None)

    def matched(self):
        plain, prof = self.last
        return plain is not None and prof is not None and plain.failing == prof.failing


_OUTCOMES = {}


def run_pair(pool, python, outdir, attempt):
    """The plain and the profiled run side by side: half the wall time, and both see the same
    load, so a timing-sensitive test fails in both or neither more often than run one after
    the other. An exception in either (lockprof did not start) is raised here."""
    results, errors = {}, []

    def one(profiled):
        try:
            tag = ("lockprof-%d" if profiled else "plain-%d") % attempt
            results[profiled] = run_suites(pool, python, outdir, tag, profiled=profiled)
        except BaseException as e:  # noqa: B036 -- pytest.fail's exception is not an Exception
            errors.append(e)

    threads = [threading.Thread(target=one, args=(profiled,)) for profiled in (False, True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results[False], results[True]


def outcome_for(python, pool):
    """Run (once per session) the stage for python: plain and profiled, again on a mismatch; check the report."""
    if python.label in _OUTCOMES:
        return _OUTCOMES[python.label]
    out = Outcome(python)
    _OUTCOMES[python.label] = out
    why = real.testsuite_missing(python)
    if why:
        out.error = ("skip", why)
        return out
    outdir = os.path.join(real.OUT, python.label)
    os.makedirs(outdir, exist_ok=True)
    start = time.monotonic()
    try:
        for attempt in (1, 2):
            plain, prof = run_pair(pool, python, outdir, attempt)
            out.runs.append((plain, prof))
            if plain.error or prof.error or prof.lockprof_rc != 0 or out.matched():
                break
            fc._log("lockprof real tests: %s: failing tests differ (plain %s, lockprof %s); both once more" % (
                python.label, sorted(plain.failing), sorted(prof.failing)))
        out.wall = time.monotonic() - start
        report = next((p.report for _, p in reversed(out.runs) if p and p.report is not None), None)
        if report is not None:
            try:
                out.figures, out.checks = check_report.check(
                    report, python.path, python.launcher.root if python.launcher.name == "rootfs" else None)
            except check_report.CheckError as e:
                out.check_error = str(e)
            else:
                with open(os.path.join(outdir, "figures.txt"), "w") as f:
                    path = next(p.report_path for _, p in reversed(out.runs) if p and p.report is not None)
                    f.write(check_report.format_results(path, out.figures, out.checks) + "\n")
    finally:
        # Even when lockprof did not start (start_lockprof fails the test): a row in the summary.
        plain, prof = out.last
        lp_state = "exit %s" % (prof.lockprof_rc if prof else "-")
        failing = ("same (%d)" % len(prof.failing) if out.matched() else "DIFFER" if prof else "-") + (
            " after rerun" if len(out.runs) > 1 else "")
        times = "%s/%s" % ("%.0f" % plain.seconds if plain else "-", "%.0f" % prof.seconds if prof else "-")
        real.FIGURES[python.label] = (python, out.figures, out.checks,
                                      {"lockprof": lp_state, "failing": failing, "times": times})
    return out


@pytest.fixture
def stage(root, lockprof, procs, real_python):
    out = outcome_for(real_python, procs)
    if out.error and out.error[0] == "skip":
        pytest.skip(out.error[1])
    return out


def test_suites_under_lockprof(stage):
    """lockprof exits 0 with a report, and the profiled run fails the same tests as the plain one."""
    for n, (plain, prof) in enumerate(stage.runs, 1):
        print("attempt %d: %s; %s" % (n, plain.describe(), prof.describe() if prof else "no profiled run"))
    plain, prof = stage.last
    assert prof is not None, "no profiled run"
    assert plain.error is None, "plain run of the suites failed: %s" % plain.error
    assert prof.error is None, "profiled run failed: %s\nlockprof stderr:\n%s" % (prof.error, prof.lockprof_stderr)
    assert prof.lockprof_rc == 0, "lockprof exited %s\n%s" % (prof.lockprof_rc, fc.clip(prof.lockprof_stderr))
    assert prof.report is not None, "lockprof exited 0 but wrote no JSON report at %s" % prof.report_path
    assert plain.junit is not None and prof.junit is not None, "regrtest wrote no JUnit XML"
    assert plain.tests_run > 0 and prof.tests_run > 0, "no test ran"
    assert stage.matched(), (
        "failing tests differ (after %d attempts):\n  plain only:    %s\n  lockprof only: %s\n%s\n%s"
        % (len(stage.runs), sorted(plain.failing - prof.failing), sorted(prof.failing - plain.failing),
           plain.describe(), prof.describe()))


CHECKS = ["signal waits not contention", "no stale frames", "lock names", "unknown frames"]


@pytest.mark.parametrize("check", CHECKS, ids=["signal_waits", "stale_frames", "lock_names", "unknown_frames"])
def test_report_invariant(stage, check):
    """One invariant of check_report.py on the profiled run's report; the message states its figures."""
    if stage.check_error:
        pytest.fail("check_report could not run: %s" % stage.check_error)
    if stage.checks is None:
        pytest.fail("no report to check (see test_suites_under_lockprof[%s])" % stage.python.label)
    c = next(c for c in stage.checks if c["name"] == check)
    text = "%s: %s%s" % (check, c["summary"], "".join("\n    " + e for e in c["examples"]))
    print(text)
    assert c["passed"], text
