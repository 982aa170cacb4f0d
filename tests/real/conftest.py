"""pytest hooks and fixtures of the real-code stage (see realstage.py and test_real.py)."""

import pytest

from realstage import FIGURES, OUT, SELECT, SUITES, fc, selected_interpreters

# The functional tests' fixtures, used here the same way.
root = fc.root
lockprof = fc.lockprof
procs = fc.procs


def pytest_report_header(config):
    lines = ["lockprof real-code stage (LOCKPROF_REAL_SELECT=%s): suites %s in one process; outputs in %s"
             % (SELECT, " ".join(SUITES), OUT)]
    for i in selected_interpreters():
        lines.append("  %-20s %-8s %-14s %s" % (i.label, i.version_str, i.build, i.host_path))
    lines.extend("  not used: " + n for n in fc._NOTES)
    return lines


def pytest_generate_tests(metafunc):
    if "real_python" not in metafunc.fixturenames:
        return
    found = selected_interpreters()
    params = [pytest.param(i, id=i.label) for i in found]
    if SELECT == "all":
        params += [pytest.param(None, marks=pytest.mark.skip(reason=why), id=label) for label, why in fc._MISSING]
    if not params:
        params = [pytest.param(None, marks=pytest.mark.skip(
            reason="no supported CPython found: install one (e.g. with pyenv) or set LOCKPROF_TEST_PYTHONS"),
            id="no-supported-python")]
    metafunc.parametrize("real_python", params)


def pytest_sessionfinish(session):
    for launcher in fc._LAUNCHERS:
        launcher.cleanup()


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    tr = terminalreporter
    tr.section("lockprof on CPython's test suites (%s)" % " ".join(SUITES))
    fmt = "%-18s %-7s %-13s %-7s %-8s %6s %6s %-11s %-19s %-9s %-7s %s"
    tr.write_line(fmt % ("interpreter", "version", "build", "time s", "lockprof", "stacks", "frames", "stale",
                         "signal as content.", "names bad", "unknown", "failing tests"))
    for label, (python, figures, checks, runs) in sorted(FIGURES.items(), key=lambda kv: kv[1][0].version):
        if figures is None:
            tr.write_line(fmt % (label, python.version_str, python.build, runs.get("times", "-"),
                                 runs.get("lockprof", "?"), "-", "-", "-", "-", "-", "-", runs.get("failing", "?")))
            continue
        c = {x["name"]: x["figures"] for x in checks}
        sig, stale = c["signal waits not contention"], c["no stale frames"]
        names, unk = c["lock names"], c["unknown frames"]
        tr.write_line(fmt % (
            label, python.version_str, python.build, runs.get("times", "-"), runs.get("lockprof", "?"),
            figures["stacks"], figures["frames"], "%d (%d uniq)" % (stale["stale"], stale["stale_unique"]),
            "%d e/%d w/%.2f s" % (sig["entries"], sig["waits"], sig["wait_ns"] / 1e9),
            "%d/%d" % (names["violations"], names["names"]), "%.2f%%" % unk["pct"], runs.get("failing", "?")))
    tr.write_line("time s: plain/profiled run; signal as content.: contention entries (e) holding Condition/Event/"
                  "join waits, their waits (w) and seconds; details: %s/LABEL/figures.txt" % OUT)
