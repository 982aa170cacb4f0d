"""--max-overhead in contention mode: the stack budget and the timing probes' duty cycle.

tests/targets/budget.py counts its own waits (each timed acquire is exactly one wait) at
three sites of one lock: `often` (3 per round), `seldom` (1 per round), both short, and
`long_wait` (20 ms, a few per second). Under a bound that only the stack walks exceed,
lockprof must thin stack capture and keep every total exact: the lock's waits equal the
target's count, the stacks' shares are upscaled to those totals (often:seldom stays 3:1),
and long waits keep their stacks. Under the default bound the walks alone are over their own
share of it (1/25), and the same must hold. Under a bound the timing probes alone exceed, they are
attached part of the time and the totals are upscaled estimates, which the report says.
Runs on the newest interpreter of each build kind."""

import json

import pytest

from conftest import parse_report, show_json

# Run alone, not beside other tests (make check-functional):
# the overhead bound is a share of CPU time: parallel tests change what the probes cost.
pytestmark = pytest.mark.serial

SECONDS = 4
EXACT_TOLERANCE = 0.02  # lock totals under stack sampling: exact but for the run's edges
SHARE_TOLERANCE = 0.25  # often/seldom = 3 from sampled, upscaled stacks
DUTY_TOLERANCE = 0.40  # totals upscaled by the duty cycle
WALK_SHARE_TOLERANCE = 1.5  # walks' CPU share against their 2% under the default bound


def waiter_counts_by_function(lock):
    counts = {}
    for s in lock["stacks"]:
        if s["role"] != "waiter" or not s.get("frames"):
            continue
        fn = s["frames"][0]["function"]
        counts[fn] = counts.get(fn, 0) + s["count"]
    return counts


def the_lock(report, result):
    """The one lock budget.py waits on: the lock whose waiter stacks end at its sites."""
    lines = set(result["lines"].values())
    for lock in report["locks"]:
        for s in lock["stacks"]:
            if s["role"] == "waiter" and s.get("frames"):
                leaf = s["frames"][0]
                if leaf["file"].endswith("budget.py") and leaf["line"] in lines:
                    return lock
    pytest.fail("no lock waited on at budget.py's sites %s\n%s" % (sorted(lines), show_json(report)))


def run_budget(run_profiled, python, bound):
    run = run_profiled(python, "budget.py", [SECONDS], ["-f", "json", "--max-overhead", str(bound)])
    assert run.returncode == 0, run.describe()
    report = parse_report(run)
    return report, run.result


def test_stack_budget_keeps_totals_exact(any_python, run_profiled):
    # Unbounded first: what the walks and the rest cost on this machine decides the bound
    # that thins stacks without detaching the timing probes.
    report, _ = run_budget(run_profiled, any_python, 100)
    o = report["overhead"]
    assert o["timing_duty"] == 1 and not report["stack_sampling"]["stacks_upscaled"], show_json(o)
    assert o["stack_walks"] > 0 and o["walk_ns"] > 0, show_json(o)
    walk_pct = o["estimated_pct"] * o["walk_ns"] / o["estimated_ns"]
    bound = o["estimated_pct"] - walk_pct * 0.5
    for attempt in range(4):
        report, result = run_budget(run_profiled, any_python, "%.4f" % bound)
        if report["overhead"]["timing_duty"] < 1:
            bound *= 1.3  # the rest cost more this time: leave it more room
        elif not report["stack_sampling"]["stacks_upscaled"]:
            bound *= 0.8  # everything cost less this time: tighten
        else:
            break
    check_sampled_exact(report, result, "bound %.3f%%\n%s" % (bound, show_json(report, 6000)))


def test_default_bound_thins_frequent_deep_stacks(any_python, run_profiled):
    # No --max-overhead: the default bound (50% of a CPU) leaves the timing probes alone, but
    # walking 40-deep stacks at every one of budget.py's ~10,000 waits a second would take
    # their own share of it (1/25: 2% of a CPU) several times over.
    run = run_profiled(any_python, "budget.py", [SECONDS], ["-f", "json"])
    assert run.returncode == 0, run.describe()
    report, result = parse_report(run), run.result
    o = report["overhead"]
    where = show_json(report, 6000)
    assert o["max_pct"] == 50, where
    walk_pct = 100.0 * o["walk_ns"] / report["duration_ns"]
    # The first 200 ms walk every stack, before the first decision.
    assert walk_pct <= 2 * WALK_SHARE_TOLERANCE, "walks took %.2f%% of a CPU\n%s" % (walk_pct, where)
    check_sampled_exact(report, result, where)


def check_sampled_exact(report, result, where):
    """Stacks sampled, totals exact: the lock's waits are the target's count, its stacks add up to
    them, often:seldom is 3:1 from the weighted sample, and every long wait kept its stack."""
    o, ss = report["overhead"], report["stack_sampling"]
    assert o["timing_duty"] == 1 and not o["totals_upscaled"], where
    assert ss["stacks_upscaled"] and ss["captured"] < ss["waits"], where
    assert ss["threshold_ns"] > 0, where

    lock = the_lock(report, result)
    truth = sum(result["waits"].values())
    assert abs(lock["waits"] - truth) <= EXACT_TOLERANCE * truth, "lock waits %d, target counted %d\n%s" % (
        lock["waits"],
        truth,
        where,
    )
    by_fn = waiter_counts_by_function(lock)
    stacked = sum(by_fn.values())
    assert abs(stacked - lock["waits"]) <= 0.01 * lock["waits"] + 5, "stacks add up to %d of %d waits\n%s" % (
        stacked,
        lock["waits"],
        where,
    )
    ratio = by_fn.get("often", 0) / float(max(1, by_fn.get("seldom", 0)))
    assert abs(ratio - 3) <= 3 * SHARE_TOLERANCE, "often/seldom = %.2f, expected 3 (%s)\n%s" % (ratio, by_fn, where)
    # Waits of 20 ms are longer than any threshold: every one keeps its stack.
    longs = by_fn.get("long_wait", 0)
    assert abs(longs - result["waits"]["long"]) <= max(2, 0.25 * result["waits"]["long"]), "%s vs %s\n%s" % (
        by_fn,
        result["waits"],
        where,
    )


def test_duty_cycle_upscales_totals(any_python, run_profiled, tmp_path):
    text = tmp_path / "report.txt"
    run = run_profiled(
        any_python,
        "budget.py",
        # Shallow stacks: the upscaling assumes the target waits at the same rate with the probes
        # attached as without, which deep stack walks (slower while attached) would bias low.
        [SECONDS, 0],
        # 1% of a CPU: the probes attached about a tenth of the time here. At 0.3% (2-5%
        # attached, two or three 50 ms windows in 4 s) the upscaled count ranged 0.59-0.96 of
        # the target's over ten runs, before and after session 7's changes alike; at 1%,
        # 0.71-0.95.
        ["--max-overhead", "1", "-f", "json", "-f", "text", "-o", str(text)],
    )
    assert run.returncode == 0, run.describe()
    report, result = parse_report(run), run.result
    o = report["overhead"]
    where = show_json(report, 6000)
    assert 0 < o["timing_duty"] < 0.9 and o["totals_upscaled"] and report["estimated"], where
    assert o["max_pct"] == 1, where
    lock = the_lock(report, result)
    truth = sum(result["waits"].values())
    assert abs(lock["waits"] - truth) <= DUTY_TOLERANCE * truth, "upscaled %d waits, target counted %d\n%s" % (
        lock["waits"],
        truth,
        where,
    )
    body = text.read_text()
    assert "Timing probes attached" in body and "upscaled" in body, body[:3000]
