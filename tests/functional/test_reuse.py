"""Lock identity across address reuse (tests/targets/reuse.py): a lock freed and another created
at its address are two entries, each with its own name, waits, holders and a unique JSON id.
On every interpreter found."""

from conftest import parse_report, show_json


def test_reused_address_is_two_locks(python, run_profiled):
    run = run_profiled(python, "reuse.py", [], ["-f", "json"])
    assert run.returncode == 0, run.describe()
    result, report = run.result, parse_report(run)
    assert result["reused"], "the target found no lock at the freed lock's address: %s" % result
    address = int(result["address"], 16)
    at_address = [l for l in report["locks"] if int(l["id"].split(".")[0], 16) == address]
    where = "target: %s\n%s" % (result, show_json(report, 8000))
    assert len(at_address) == 2, "expected two locks at %s\n%s" % (result["address"], where)
    ids = sorted(l["id"] for l in at_address)
    assert ids == [result["address"], result["address"] + ".1"], "ids %s\n%s" % (ids, where)
    assert len(set(l["id"] for l in report["locks"])) == len(report["locks"]), "ids not unique\n" + where
    by_name = {l["name"]: l for l in at_address}
    assert set(by_name) == {"lock_alpha", "lock_beta"}, "names %s\n%s" % (sorted(by_name), where)
    # The older lock is generation 0, the newer ".1".
    assert by_name["lock_alpha"]["id"] == result["address"], where
    for key in ("alpha", "beta"):
        name, line, blocked = "lock_" + key, result["lines"][key], result["blocked"][key]
        lock = by_name[name]
        assert lock["category"] == "contention", where
        # Every acquisition the target saw block (a loaded machine may wake it after the holder
        # let go), within one for a wait at the threshold.
        assert blocked >= result["waits"] // 2, "the target blocked only %d times\n%s" % (blocked, where)
        assert abs(lock["waits"] - blocked) <= 1, "%s: %d waits, the target blocked %d times\n%s" % (
            name,
            lock["waits"],
            blocked,
            where,
        )
        waiters = [s for s in lock["stacks"] if s["role"] == "waiter"]
        leaves = set((s["frames"][0]["file"].rsplit("/", 1)[-1], s["frames"][0]["line"]) for s in waiters if s["frames"])
        assert leaves == {("reuse.py", line)}, "%s waited at %s, expected reuse.py:%d\n%s" % (name, leaves, line, where)
        holders = sum(s["count"] for s in lock["stacks"] if s["role"] == "holder")
        assert abs(holders - lock["waits"]) <= 1, "%s: holders charged with %d of %d waits\n%s" % (
            name,
            holders,
            lock["waits"],
            where,
        )
