"""check_report.py's checks catch what they are for: hand-made reports on a known source.

No root, no lockprof: these run in a second and show each check can fail.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import check_report

SOURCE = textwrap.dedent(
    '''\
    import threading


    class Pool:
        """A pool."""

        def __init__(self):
            self._lock = threading.Lock()
            # a comment
            self.key = lambda x: x + 1

        def take(self):
            with self._lock:
                return [y for y in range(3)]


    def outer():
        def inner():
            return 1
        return inner()


    outer()
    '''
)

# threading.py's shape, enough for the leaf-frame rule of check 1.
THREADING = textwrap.dedent(
    '''\
    class Condition:
        def __enter__(self):
            return self._lock.__enter__()

        def wait(self, timeout=None):
            waiter = _allocate_lock()
            waiter.acquire()
            waiter.acquire()
            self._acquire_restore(saved_state)


    class Thread:
        def join(self, timeout=None):
            self._wait_for_tstate_lock()

        def _wait_for_tstate_lock(self, block=True, timeout=-1):
            lock.acquire(block, timeout)
    '''
)


@pytest.fixture
def src(tmp_path):
    mod = tmp_path / "mod.py"
    mod.write_text(SOURCE)
    thr = tmp_path / "threading.py"
    thr.write_text(THREADING)
    return str(mod), str(thr)


def frame(function, file, line):
    return {"function": function, "file": file, "line": line}


def report(locks, unknown_frames=0):
    return {"target": {"python": "3.x", "pid": 1}, "duration_ns": 10 ** 9, "lost": {"unknown_frames": unknown_frames},
            "locks": locks}


def lock(name, category, stacks, native=False, site=None):
    return {"id": "0x%x" % (id(stacks) & 0xFFFFFF), "name": name, "category": category, "native": native, "site": site,
            "created_at": None, "waits": sum(s["count"] for s in stacks), "stacks": stacks}


def stack(frames, count=1, wait_ns=1000, role="waiter"):
    return {"role": role, "count": count, "wait_ns": wait_ns, "frames": frames}


def by_name(checks):
    return {c["name"]: c for c in checks}


def run(rep):
    figures, checks = check_report.check(rep, sys.executable)
    return figures, by_name(checks)


def test_good_frames_pass(src):
    mod, _ = src
    frames = [
        frame("Pool.take", mod, 13),  # qualified (3.11+)
        frame("take", mod, 14),  # bare (3.8-3.10)
        frame("Pool.__init__", mod, 10),
        frame("Pool.__init__.<locals>.<lambda>", mod, 10),
        frame("<lambda>", mod, 10),
        frame("Pool.take.<locals>.<listcomp>", mod, 14),  # 3.8-3.11
        frame("outer.<locals>.inner", mod, 19),
        frame("outer", mod, 20),
        frame("<module>", mod, 23),
        frame("<module>", mod, 4),  # the class statement runs in the module
    ]
    _, c = run(report([lock("self._lock", "contention", [stack(frames)])]))
    assert c["no stale frames"]["passed"], c["no stale frames"]
    assert c["no stale frames"]["figures"]["checked"] == len(frames)


@pytest.mark.parametrize(
    "function,line,why",
    [
        ("Pool.take", 8, "not in the code of"),  # another method's line
        ("take", 19, "not in the code of"),
        ("Pool.take", 9, "comment"),
        ("Pool.take", 11, "blank"),
        ("outer", 19, "not in the code of"),  # inner's body, not outer's
        ("<module>", 13, "inside a def/class body"),
        ("Pool", 13, "not in the code of"),  # the class body does not run method lines
        ("Pool.take", 0, "no line"),
        ("Pool.take", 500, "past the end"),
        ("Other.take", 13, "not in the code of"),
    ],
)
def test_stale_frame_caught(src, function, line, why):
    mod, _ = src
    rep = report([lock("self._lock", "contention", [stack([frame("Pool.take", mod, 13), frame(function, mod, line)])])])
    _, c = run(rep)
    stale = c["no stale frames"]
    assert not stale["passed"]
    assert stale["figures"]["stale"] == 1 and stale["figures"]["stale_unique"] == 1
    assert why in stale["examples"][0], stale["examples"]


def test_missing_file_and_pseudo_files(src, tmp_path):
    mod, _ = src
    frames = [frame("Pool.take", mod, 13), frame("__init__", "__init__", 0), frame("f", str(tmp_path / "gone.py"), 3),
              frame("<module>", "<string>", 6)]
    _, c = run(report([lock("self._lock", "contention", [stack(frames)])]))
    stale = c["no stale frames"]
    assert stale["figures"]["stale"] == 2 and stale["figures"]["no_source_file"] == 1, stale


def test_signal_waits_as_contention(src):
    mod, thr = src
    cond_wait = [frame("Condition.wait", thr, 7), frame("Pool.take", mod, 13)]
    old_join = [frame("_wait_for_tstate_lock", thr, 17), frame("join", thr, 14), frame("outer", mod, 20)]
    bare_wait = [frame("wait", thr, 8), frame("take", mod, 13)]  # 3.8-3.10: the class comes from the source
    mutex = [frame("Condition.__enter__", thr, 3), frame("Pool.take", mod, 13)]  # real contention
    reacquire = [frame("Condition.wait", thr, 9), frame("Pool.take", mod, 13)]  # the condition's lock again
    locks = [
        lock("self._lock", "contention", [stack(cond_wait, 3, 3 * 10 ** 9), stack(mutex, 5), stack(reacquire, 4)]),
        lock("lock", "contention", [stack(old_join, 2, 10 ** 9)]),
        lock("native lock in x.y", "contention", [stack(bare_wait, 1, 10 ** 8)], native=True),
        lock("Pool.take: Condition.wait", "idle", [stack(cond_wait, 7)]),  # right category
        lock("self._lock", "contention", [stack(mutex, 9)]),
    ]
    _, c = run(report(locks))
    sig = c["signal waits not contention"]
    assert not sig["passed"]
    assert sig["figures"]["entries"] == 3 and sig["figures"]["waits"] == 6, sig
    assert sig["figures"]["wait_ns"] == 41 * 10 ** 8
    assert sig["figures"]["by_kind"] == {"Condition wait": 4, "join": 2}
    assert sig["figures"]["reacquire_waits"] == 4


@pytest.mark.parametrize(
    "name,category,ok",
    [
        ("self._lock", "contention", True),
        ("self._locks[key]", "contention", True),
        ("_active_limbo_lock", "contention", True),
        ("self._locks[self.key(x)].inner", "contention", True),
        ("native lock in fh.write", "contention", True),
        ("GIL", "gil", True),
        ("interpreter-internal wait", "idle", True),
        ("", "contention", True),
        ("Pool.take: Condition.wait", "idle", True),
        ("f.<locals>.g: Thread.join", "resource", True),
        ("q.get", "resource", True),
        ("results.append(lock", "contention", False),
        ("lock)", "contention", False),
        ("self._get_lock()", "contention", False),
        ("with self._lock:", "contention", False),
        (" self._lock", "contention", False),
        ("native lock in fh.write(", "contention", False),
        ("native lock in ", "contention", False),
        ("GIL", "contention", False),
        ("Pool.take: Condition.wait", "contention", False),
        ("take: wait(", "idle", False),
        ("interpreter-internal wait", "contention", False),
    ],
)
def test_lock_names(name, category, ok):
    assert (check_report.name_violation({"name": name, "category": category}) is None) == ok


def test_lock_names_figures(src):
    mod, _ = src
    locks = [lock(n, "contention", [stack([frame("Pool.take", mod, 13)])]) for n in ("self._lock", "results.append(lock")]
    _, c = run(report(locks))
    names = c["lock names"]
    assert not names["passed"] and names["figures"]["violations"] == 1 and "results.append(lock" in names["examples"][0]


def test_unknown_frames(src):
    mod, _ = src
    good = [frame("Pool.take", mod, 13)] * 99
    unknown = [frame("<unknown>", "<unknown>", 0)]
    _, c = run(report([lock("self._lock", "contention", [stack(good + unknown)])]))
    assert c["unknown frames"]["passed"], c["unknown frames"]  # 1 of 100: at the threshold
    _, c = run(report([lock("self._lock", "contention", [stack(good + unknown * 2)])]))
    assert not c["unknown frames"]["passed"] and c["unknown frames"]["figures"]["unknown"] == 2
    _, c = run(report([lock("self._lock", "contention", [stack(good)])], unknown_frames=5))
    assert not c["unknown frames"]["passed"], "the lost.unknown_frames counter counts too"


def test_command_line(src, tmp_path):
    mod, _ = src
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report([lock("results.append(lock", "contention", [stack([frame("Pool.take", mod, 13)])])])))
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_report.py")
    cp = subprocess.run([sys.executable, script, str(path), "--python", sys.executable], stdout=subprocess.PIPE,
                        universal_newlines=True, timeout=60)
    assert cp.returncode == 1, cp.stdout
    assert "[3] lock names" in cp.stdout and "FAIL" in cp.stdout and "1 of 1 lock names" in cp.stdout
    cp = subprocess.run([sys.executable, script, str(tmp_path / "none.json")], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, timeout=60)
    assert cp.returncode == 2


def test_signal_wait_stacks_are_valid_frames(src):
    """The frames test_signal_waits_as_contention uses are themselves consistent with the sources."""
    mod, thr = src
    frames = [frame("Condition.wait", thr, 7), frame("wait", thr, 8), frame("Condition.wait", thr, 9),
              frame("_wait_for_tstate_lock", thr, 17), frame("join", thr, 14), frame("Condition.__enter__", thr, 3),
              frame("Pool.take", mod, 13), frame("outer", mod, 20)]
    _, c = run(report([lock("x", "contention", [stack(frames)])]))
    assert c["no stale frames"]["passed"], c["no stale frames"]
