"""Stale frames: a code object freed and another created at its address. Each wait must be
named after the function that really waited, never after the code object that lived at that
address before (tests/targets/code_reuse.py). Runs on every supported CPython found."""

import json

from conftest import clip, leaf, parse_report, show_json

ROUNDS = 10
HOLD_MS = 10
TOLERANCE = 0.10  # attribution is what is tested; the times only show nothing was mixed


def test_reused_code_address(python, run_profiled):
    run = run_profiled(
        python, "code_reuse.py", ["--rounds", ROUNDS, "--hold-ms", HOLD_MS], ["-f", "json"]
    )
    assert run.returncode == 0, "lockprof exit %d\n%s" % (run.returncode, run.describe())
    res = run.result
    evidence = [l.strip() for l in run.target.out_lines if l.startswith("reuse:")]
    assert res["reused"], "the target could not reproduce the reuse: %s\n%s" % (evidence, run.describe())
    report = parse_report(run)
    whole = "%s\nworkload: %s\nreport:\n%s\nstderr:\n%s" % (
        "\n".join(evidence),
        json.dumps(res),
        show_json(report),
        clip(run.stderr),
    )
    # (function, file) of the waiting frame -> waits and time, over every lock and stack.
    seen = {}
    for lock in report["locks"]:
        for st in lock["stacks"]:
            f = leaf(st)
            if st["role"] != "waiter" or f is None:
                continue
            if f["file"] in ("fileA.py", "fileB.py") or f["function"] in ("wait_a", "wait_b"):
                waits, ns = seen.get((f["function"], f["file"]), (0, 0))
                seen[(f["function"], f["file"])] = (waits + st["count"], ns + st["wait_ns"])
    assert set(seen) == {("wait_a", "fileA.py"), ("wait_b", "fileB.py")}, "waiting frames %s\n%s" % (
        sorted(seen),
        whole,
    )
    for which in ("a", "b"):
        waits, ns = seen[("wait_" + which, "file%s.py" % which.upper())]
        assert waits == res["waits_" + which], "wait_%s: %d waits, the workload made %d\n%s" % (
            which,
            waits,
            res["waits_" + which],
            whole,
        )
        truth = res["wait_ns_" + which]
        assert abs(ns - truth) <= TOLERANCE * truth, "wait_%s: %d ns, the workload measured %d\n%s" % (
            which,
            ns,
            truth,
            whole,
        )
