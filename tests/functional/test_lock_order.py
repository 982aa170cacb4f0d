"""-m full's lock-order inversions: two orders of two locks taken in phases that never overlap
(so nothing deadlocks) are reported with both stacks; a consistent order is not. Every
supported CPython found."""

import json

from conftest import clip, parse_report, show_json, target_path

FULL = ["-m", "full", "--capture-pct", "100", "--max-overhead", "100"]


def marked(marker):
    with open(target_path("lock_order.py")) as f:
        hits = [n for n, line in enumerate(f, 1) if line.rstrip().endswith("# " + marker)]
    assert len(hits) == 1, "lock_order.py must mark exactly one line with # %s" % marker
    return hits[0]


def run(run_profiled, python, order, fmt):
    r = run_profiled(python, "lock_order.py", ["--order", order], FULL + ["-f", fmt])
    assert r.returncode == 0, "lockprof exit %d\n%s" % (r.returncode, r.describe())
    return r


def leaf(step):
    return step["frames"][0] if step["frames"] else {}


def test_inversion_reported(run_profiled, python):
    r = run(run_profiled, python, "inverted", "json")
    report = parse_report(r)
    whole = "report:\n%s\nstderr:\n%s" % (show_json(report.get("lock_order")), clip(r.stderr))
    inv = report["lock_order"]["inversions"]
    assert len(inv) == 1, whole
    steps = inv[0]["steps"]
    assert len(steps) == 2, whole
    got = {(s["held"]["name"], s["taken"]["name"]): leaf(s) for s in steps}
    assert set(got) == {("lock_a", "lock_b"), ("lock_b", "lock_a")}, whole
    for (held, taken), marker in (
        (("lock_a", "lock_b"), "A-THEN-B-INNER"),
        (("lock_b", "lock_a"), "B-THEN-A-INNER"),
    ):
        fr = got[(held, taken)]
        assert fr.get("file", "").endswith("lock_order.py") and fr.get("line") == marked(marker), whole
    assert report["lock_order"]["coverage"] > 0.99, whole


def test_inversion_text(run_profiled, python):
    r = run(run_profiled, python, "inverted", "text")
    assert "1 inversion (potential deadlock)" in r.stdout, clip(r.stdout)
    for marker in ("A-THEN-B-INNER", "B-THEN-A-INNER"):
        assert "lock_order.py:%d" % marked(marker) in r.stdout, clip(r.stdout)


def test_consistent_order_not_reported(run_profiled, python):
    r = run(run_profiled, python, "consistent", "json")
    report = parse_report(r)
    lo = report["lock_order"]
    assert lo["inversions"] == [], show_json(lo)
    assert lo["orders"] >= 1, "the a -> b order itself was not seen: %s" % json.dumps(lo)
