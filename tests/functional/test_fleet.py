"""Many processes (-p PID,PID... and --all): interpreters of different versions side by side,
processes picked up as they start and released as they exit, and a real prefork server
(Debian's gunicorn, 3 workers, driven by ab) profiled per worker, a killed worker's replacement
included.

--all runs inside a PID namespace of its own (unshare --pid --mount-proc, lockprof its init,
as in a pod with shareProcessNamespace): it sees only the test's processes, never the rest of
the machine. Processes join it through nsenter."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import EXIT_TIMEOUT, LOCKPROF, READY_TIMEOUT, clip, target_path

DEBIAN_PYTHON = "/usr/bin/python3.11"  # static, stripped; the one Debian's gunicorn runs with
HANDOFFS = 150
HOLD_NS = 4_000_000  # tests/targets/fleet_handoff.py's HOLD
PICKUP_S = 2.5  # --all rescans every second; attaching takes a few hundred ms more
WSGI_LOCK_LINE = 22  # `cache_lock.acquire()` in tests/targets/wsgi_lock.py

PROFILED_RE = re.compile(r"lockprof: pid (\d+) \(([^)]*)\): CPython (\S+), profiled")
EXITED_RE = re.compile(r"lockprof: pid (\d+) \(([^)]*)\) exited: its probes are released")


def newest_pyenv_python():
    try:
        out = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    versions = [v.strip() for v in out.split() if re.fullmatch(r"3\.\d+\.\d+", v.strip())]
    if not versions:
        return None
    v = max(versions, key=lambda s: tuple(int(x) for x in s.split(".")))
    root = subprocess.run(["pyenv", "prefix", v], capture_output=True, text=True, timeout=20).stdout.strip()
    path = os.path.join(root, "bin", "python3")
    return (path, v) if os.access(path, os.X_OK) else None


def ns_pid(host_pid):
    """The pid as the process's own (innermost) PID namespace numbers it."""
    with open("/proc/%d/status" % host_pid) as f:
        for line in f:
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    raise RuntimeError("no NSpid for %d" % host_pid)


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def wait_for(pred, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


def lockprof_progs(host_pid):
    """lockprof's BPF programs and links: the anon-inode fds process host_pid holds."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % host_pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (host_pid, fd))
        except OSError:
            continue
        n += target in ("anon_inode:bpf-prog", "anon_inode:bpf_link")
    return n


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Killer:
    """Teardown for a process the pool did not start: SIGKILL by pid if it still runs."""

    def __init__(self, pid):
        self.pid = pid

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Pod:
    """lockprof --all as the init of a new PID namespace, and processes started inside it. The
    namespace ends with lockprof: a failed test's teardown kills it (and unshare's death kills it
    too, --kill-child), and the kernel kills every process left inside."""

    def __init__(self, procs, args):
        self.procs = procs
        self.lp = procs.spawn(
            ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", LOCKPROF, "--all", "-v"] + args, stdin=False
        )
        if self.lp.wait_line("stderr", lambda l: "every CPython process" in l, READY_TIMEOUT) is None:
            self.lp.kill()
            pytest.fail("lockprof --all printed no banner\n%s" % self.lp.describe())
        kids = wait_for(lambda: children(self.lp.pid), 5)
        assert kids, "unshare started no lockprof"
        self.host_pid = kids[0]  # lockprof, pid 1 inside
        procs.procs.append(_Killer(self.host_pid))

    def spawn(self, argv, **kwargs):
        """argv inside the namespace; returns the Spawned (nsenter) and the process's host pid."""
        p = self.procs.spawn(["nsenter", "-t", str(self.host_pid), "-p", "--"] + argv, **kwargs)
        kids = wait_for(lambda: children(p.pid), 5)
        assert kids, "nsenter started nothing: %s" % p.describe()
        return p, kids[0]

    def wait_profiled(self, pid_ns, timeout):
        """Waits for the -v line saying the namespace pid pid_ns is profiled; its match or None."""
        line = self.lp.wait_line("stderr", lambda l: (m := PROFILED_RE.search(l)) and int(m.group(1)) == pid_ns, timeout)
        return PROFILED_RE.search(line) if line else None

    def stop(self):
        os.kill(self.host_pid, signal.SIGINT)  # unshare does not forward signals
        rc = self.lp.wait(EXIT_TIMEOUT)
        if rc is None:
            self.lp.kill()
            pytest.fail("lockprof --all did not stop on SIGINT\n%s" % self.lp.describe())
        assert rc == 0, self.lp.describe()


def start_handoff(spawn, python):
    t, host = spawn([python, target_path("fleet_handoff.py"), str(HANDOFFS)])
    if t.wait_line("stdout", lambda l: l.strip() == "ready", READY_TIMEOUT) is None:
        pytest.fail("fleet_handoff.py did not get ready\n%s" % t.describe())
    return t, host


def finish_handoff(t):
    t.send("go\n")
    t.close_stdin()
    assert t.wait(60) == 0, t.describe()
    assert "done %d" % HANDOFFS in t.stdout


def check_handoffs(proc, what):
    """The process's fleet_lock: HANDOFFS contended waits of about HOLD_NS each."""
    locks = [l for l in proc["locks"] if l["name"] == "fleet_lock"]
    assert len(locks) == 1, "%s: fleet_lock not reported once\n%s" % (what, clip(json.dumps(proc, indent=1)))
    lock = locks[0]
    assert HANDOFFS * 0.9 <= lock["waits"] <= HANDOFFS * 1.05 + 2, "%s: %d waits, expected %d" % (what, lock["waits"], HANDOFFS)
    per_wait = lock["wait_ns"] / lock["waits"]
    assert HOLD_NS * 0.5 <= per_wait <= HOLD_NS * 6, "%s: %.0f ns per wait, holds are %d ns" % (what, per_wait, HOLD_NS)
    assert lock["pid"] == proc["target"]["pid"] and lock["comm"] == proc["target"]["comm"]
    return lock


def test_pid_list_two_versions(root, lockprof, procs, tmp_path):
    """-p A,B: a static Debian 3.11 and the newest pyenv build side by side, each measured
    exactly, labelled by process in json, collapsed and pprof."""
    pyenv = newest_pyenv_python()
    if not os.access(DEBIAN_PYTHON, os.X_OK) or not pyenv:
        pytest.skip("needs %s and a pyenv interpreter" % DEBIAN_PYTHON)
    spawn = lambda argv: (lambda p: (p, p.pid))(procs.spawn(argv))
    a, a_pid = start_handoff(spawn, DEBIAN_PYTHON)
    b, b_pid = start_handoff(spawn, pyenv[0])
    out_json, out_collapsed, out_pprof = tmp_path / "l.json", tmp_path / "l.folded", tmp_path / "l.pb.gz"
    lp = procs.spawn(
        [lockprof, "-p", "%d,%d" % (a_pid, b_pid), "-f", "json", "-o", out_json, "-f", "collapsed", "-o", out_collapsed,
         "-f", "pprof", "-o", out_pprof],
        stdin=False,
    )
    assert lp.wait_line("stderr", lambda l: "2 processes" in l, 30), lp.describe()
    finish_handoff(a)
    finish_handoff(b)
    # Both exited: lockprof stops by itself.
    assert lp.wait(EXIT_TIMEOUT) == 0, lp.describe()
    report = json.loads(out_json.read_text())
    by_pid = {p["target"]["pid"]: p for p in report["processes"]}
    assert set(by_pid) == {a_pid, b_pid}, clip(json.dumps(report)[:4000])
    assert by_pid[a_pid]["target"]["python"].startswith("3.11.")
    assert by_pid[b_pid]["target"]["python"] == pyenv[1]
    for pid, what in ((a_pid, "debian 3.11"), (b_pid, "pyenv " + pyenv[1])):
        assert by_pid[pid]["target"]["exited"] is True
        check_handoffs(by_pid[pid], what)
    assert report["health"]["processes_attached"] == 2 and report["health"]["processes_exited"] == 2
    # Collapsed: each process is the root frame of its stacks.
    roots = {line.split(";", 1)[0] for line in out_collapsed.read_text().splitlines() if "lock fleet_lock" in line}
    comm_a, comm_b = by_pid[a_pid]["target"]["comm"], by_pid[b_pid]["target"]["comm"]
    assert roots == {"%s (pid %d)" % (comm_a, a_pid), "%s (pid %d)" % (comm_b, b_pid)}, roots
    # pprof: the samples carry pid and comm labels (strings in the string table).
    import gzip

    raw = gzip.decompress(out_pprof.read_bytes())
    for s in (b"pid", b"comm", str(a_pid).encode(), str(b_pid).encode(), comm_a.encode(), comm_b.encode()):
        assert s in raw, "pprof lacks %r" % s
    if shutil.which("go"):
        # As pprof itself reads them: each pid label's delay is that process's waits.
        r = subprocess.run(["go", "tool", "pprof", "-tags", "-unit=ns", str(out_pprof)], capture_output=True, text=True,
                           timeout=120, env=dict(os.environ, HOME=str(tmp_path)))
        assert r.returncode == 0, r.stderr
        section = r.stdout.split(" pid: ", 1)[1].split("\n\n", 1)[0]
        for pid in (a_pid, b_pid):
            m = re.search(r"([\d.]+)ns\s+\(\s*[\d.]+%\): " + str(pid) + r"\n", section + "\n")
            assert m, "pprof -tags shows no pid %d:\n%s" % (pid, r.stdout)
            wait_ns = sum(l["wait_ns"] for l in by_pid[pid]["locks"] if l["category"] == "contention")
            assert abs(float(m.group(1)) - wait_ns) <= 1000, "pid %d: pprof %s ns, json %d ns" % (pid, m.group(1), wait_ns)


def test_all_pickup_and_release(root, lockprof, procs, tmp_path):
    """--all: a process started later is profiled within PICKUP_S; when it exits its BPF object
    is released (lockprof's programs back to none); a second interpreter is picked up after."""
    pyenv = newest_pyenv_python()
    if not os.access(DEBIAN_PYTHON, os.X_OK) or not pyenv:
        pytest.skip("needs %s and a pyenv interpreter" % DEBIAN_PYTHON)
    out = tmp_path / "all.json"
    pod = Pod(procs, ["-f", "json", "-o", str(out)])
    assert lockprof_progs(pod.host_pid) == 0, "lockprof --all loaded programs with no process to profile"
    exited = []
    for python in (pyenv[0], DEBIAN_PYTHON):
        t, host = start_handoff(pod.spawn, python)
        ready = time.monotonic()
        m = pod.wait_profiled(ns_pid(host), 10)
        assert m, "pid %d not profiled\n%s" % (host, pod.lp.describe())
        took = time.monotonic() - ready
        assert took <= PICKUP_S, "picked up after %.2f s" % took
        progs = lockprof_progs(pod.host_pid)
        assert progs > 0, "no programs loaded for the profiled process"
        finish_handoff(t)
        assert pod.lp.wait_line("stderr", lambda l: EXITED_RE.search(l) and int(EXITED_RE.search(l).group(1)) == int(m.group(1)), 5)
        assert wait_for(lambda: lockprof_progs(pod.host_pid) == 0, 5), "programs left after the exit: %d" % lockprof_progs(pod.host_pid)
        exited.append(int(m.group(1)))
    pod.stop()
    report = json.loads(out.read_text())
    assert sorted(p["target"]["pid"] for p in report["processes"]) == sorted(exited)
    for p in report["processes"]:
        assert p["target"]["exited"]
        check_handoffs(p, "pid %d" % p["target"]["pid"])


def ab_run(port, n, concurrency=12):
    r = subprocess.run(
        ["ab", "-q", "-n", str(n), "-c", str(concurrency), "-s", "20", "http://127.0.0.1:%d/item" % port],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    failed = int(re.search(r"Failed requests:\s+(\d+)", r.stdout).group(1))
    complete = int(re.search(r"Complete requests:\s+(\d+)", r.stdout).group(1))
    return complete, failed, r.stdout


def warm_up(port, stats, workers):
    """Requests until every worker (namespace pids: the app names its file by getpid()) has
    served some: a worker imports the app after its fork, and serves only from then on."""
    for _ in range(40):
        if all((stats / str(w)).exists() for w in workers):
            return
        ab_run(port, 60)
    pytest.fail("workers %s never served a request" % [w for w in workers if not (stats / str(w)).exists()])


def test_gunicorn_workers(root, lockprof, procs, tmp_path):
    """Debian's gunicorn, 3 gthread workers, ab -n 1500 -c 12 on loopback: --all shows the
    handler's lock in every worker, labelled per worker, each worker's waits matching the
    contended requests it counted itself; a SIGKILLed worker's replacement is profiled too."""
    if not shutil.which("gunicorn") or not shutil.which("ab"):
        pytest.skip("needs Debian's gunicorn and ab (apache2-utils)")
    out = tmp_path / "gunicorn.json"
    stats = tmp_path / "stats"
    stats.mkdir()
    port = free_port()
    pod = Pod(procs, ["-f", "json", "-o", str(out), "-f", "text", "-o", str(tmp_path / "gunicorn.txt")])
    g, master = pod.spawn(
        ["gunicorn", "-w", "3", "-k", "gthread", "--threads", "4", "-b", "127.0.0.1:%d" % port,
         "--chdir", os.path.dirname(target_path("wsgi_lock.py")), "wsgi_lock:app"],
        stdin=False, env=dict(os.environ, WSGI_LOCK_STATS=str(stats)),
    )
    workers = wait_for(lambda: (lambda k: k if len(k) == 3 else None)(children(master)), 20)
    assert workers, "gunicorn started no 3 workers\n%s" % g.describe()
    ns = {w: ns_pid(w) for w in [master] + workers}
    for w in [master] + workers:
        assert pod.wait_profiled(ns[w], 15), "gunicorn pid %d not profiled\n%s" % (w, pod.lp.describe())
    warm_up(port, stats, [ns[w] for w in workers])
    complete, failed, text = ab_run(port, 1500)
    assert complete == 1500 and failed == 0, text
    # A worker killed: gunicorn respawns it, and the new worker is profiled.
    victim = workers[0]
    os.kill(victim, signal.SIGKILL)
    new = wait_for(lambda: [w for w in children(master) if w not in workers], 20)
    assert new, "gunicorn did not respawn the killed worker"
    ns[new[0]] = ns_pid(new[0])
    assert pod.wait_profiled(ns[new[0]], 15), "the respawned worker was not profiled\n%s" % pod.lp.describe()
    warm_up(port, stats, [ns[new[0]]])
    complete, failed, text = ab_run(port, 600)
    assert complete == 600 and failed == 0, text
    pod.stop()
    report = json.loads(out.read_text())
    by_pid = {p["target"]["pid"]: p for p in report["processes"]}
    seen = {}
    for w in workers + new:
        proc = by_pid.get(ns[w])
        assert proc, "worker %d missing from the report" % w
        assert proc["target"]["exited"] == (w == victim)
        locks = [l for l in proc["locks"] if l["name"] == "cache_lock" and l["site"]
                 and l["site"]["file"].endswith("wsgi_lock.py") and l["site"]["line"] == WSGI_LOCK_LINE]
        requests, contended = map(int, (stats / str(ns[w])).read_text().split())
        waits = locks[0]["waits"] if locks else 0
        seen[ns[w]] = (requests, contended, waits)
        # Every worker served requests concurrently; lockprof saw each contended request
        # that blocked (a release between the failed try and the wait spares a few).
        assert contended > 0, "worker %d: no contended request (%d requests)" % (w, requests)
        assert locks and locks[0]["pid"] == ns[w] and locks[0]["comm"] == proc["target"]["comm"], (
            "worker %d: cache_lock not reported\n%s" % (w, clip(json.dumps(proc)[:4000])))
        assert contended * 0.85 - 2 <= waits <= contended, "worker %d: %d waits, %d contended requests" % (w, waits, contended)
    print("per worker (ns pid: requests, contended, lockprof waits):", seen)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def test_all_churn_leaves_no_fds(root, lockprof, procs, tmp_path):
    """--all under churn: 20 short-lived processes started and exited over about 10 s; lockprof's
    file descriptors (BPF objects, pidfds, the targets' files) are back to their starting count
    and its report accounts for every process it attached."""
    pyenv = newest_pyenv_python()
    if not pyenv:
        pytest.skip("needs a pyenv interpreter")
    out = tmp_path / "churn.json"
    pod = Pod(procs, ["-f", "json", "-o", str(out)])
    baseline = fd_count(pod.host_pid)
    script = "import threading, time\nl = threading.Lock()\n" \
        "def w():\n    while True:\n        with l: time.sleep(0.002)\n" \
        "[threading.Thread(target=w, daemon=True).start() for _ in range(3)]\ntime.sleep(3)\n"
    started = []
    for _ in range(20):
        p, _host = pod.spawn([pyenv[0], "-c", script], stdin=False)
        started.append(p)
        time.sleep(0.5)
    for p in started:
        assert p.wait(30) == 0, p.describe()
    # Every exit seen (pidfd), every object released.
    assert wait_for(lambda: fd_count(pod.host_pid) == baseline, 5), "lockprof holds %d fds, %d at start" % (
        fd_count(pod.host_pid), baseline)
    assert lockprof_progs(pod.host_pid) == 0
    pod.stop()
    report = json.loads(out.read_text())
    health = report["health"]
    assert health["processes_live"] == 0
    assert health["processes_attached"] == health["processes_exited"] == len(report["processes"])
    # Each lives 3 s and is found within about a second, attached within another on a loaded
    # machine: most are profiled.
    assert len(report["processes"]) >= 15, health
    assert all(p["target"]["exited"] for p in report["processes"])
    # One attached in its last moments may have seen no wait yet; the rest contended throughout.
    assert sum(p["waits"] > 0 for p in report["processes"]) >= len(report["processes"]) - 1


def test_all_without_privilege(root, lockprof):
    """--all checks lockprof's own rights once, before looking at any process: exit 6, one line."""
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", lockprof, "--all", "-d", "1"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 6, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing capability CAP_BPF" in lines[0] and "lockprof --all" in lines[0], r.stderr


def test_pid_list_with_a_non_python(root, lockprof, procs):
    """-p A,B where B runs no CPython: the start fails with B's error and exit code (4), after
    A's probes were removed again."""
    a, a_pid = (lambda p: (p, p.pid))(procs.spawn([DEBIAN_PYTHON, target_path("fleet_handoff.py"), "10"]))
    assert a.wait_line("stdout", lambda l: l.strip() == "ready", READY_TIMEOUT)
    sleeper = procs.spawn(["sleep", "30"], stdin=False)
    r = subprocess.run([lockprof, "-p", "%d,%d" % (a_pid, sleeper.pid), "-d", "1"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 4, r.stderr
    assert "pid %d: not a CPython process" % sleeper.pid in r.stderr, r.stderr


PROBING_RE = re.compile(r"probing (\S+):(\S+) at file offset 0x([0-9a-f]+)")


def code_byte(pid, path, offset):
    """The byte of file path at offset as process pid's memory has it (None: not mapped)."""
    with open("/proc/%d/maps" % pid) as maps:
        for line in maps:
            parts = line.split()
            if len(parts) < 6 or parts[5] != path:
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            file_off = int(parts[2], 16)
            if file_off <= offset < file_off + end - start:
                with open("/proc/%d/mem" % pid, "rb") as mem:
                    mem.seek(start + offset - file_off)
                    return mem.read(1)[0]
    return None


def test_probes_only_in_profiled_processes(root, lockprof, procs):
    """-p A,C with B running the same libpython and libc unprofiled: every probe site is a
    breakpoint (int3) in A's and C's memory and untouched in B's; after lockprof stops, A's code
    is restored."""
    pyenv = newest_pyenv_python()
    if not os.access(DEBIAN_PYTHON, os.X_OK) or not pyenv:
        pytest.skip("needs %s and a pyenv interpreter" % DEBIAN_PYTHON)
    spawn = lambda argv: (lambda p: (p, p.pid))(procs.spawn(argv))
    (_, a), (_, b), (_, c) = (start_handoff(spawn, py) for py in (pyenv[0], pyenv[0], DEBIAN_PYTHON))
    lp = procs.spawn([lockprof, "-v", "-p", "%d,%d" % (a, c)], stdin=False)
    assert lp.wait_line("stderr", lambda l: "2 processes" in l, 30), lp.describe()
    sites = [(path, sym, int(off, 16)) for path, sym, off in PROBING_RE.findall(lp.stderr)]
    assert any("libpython" in p for p, _, _ in sites) and any("libc" in p for p, _, _ in sites), lp.stderr
    before = {}
    for path, sym, off in sites:
        for pid in (a, c):
            byte = code_byte(pid, path, off)
            assert byte in (None, 0xCC), "%s not probed in profiled pid %d (0x%x)" % (sym, pid, byte)
        byte = code_byte(b, path, off)
        assert byte != 0xCC, "%s: a breakpoint in pid %d, which is not profiled" % (sym, b)
        before[(path, off)] = byte
    lp.signal(signal.SIGINT)
    assert lp.wait(EXIT_TIMEOUT) == 0, lp.describe()
    for (path, off), byte in before.items():
        assert code_byte(a, path, off) == byte, "pid %d: %s+0x%x still probed after lockprof stopped" % (a, path, off)


def test_forked_child_probes_cleared(root, lockprof, procs):
    """A child forked by the profiled process inherits its breakpoints with the pages; lockprof
    sees the fork within about a second and clears them from the child, the parent's kept."""
    pyenv = newest_pyenv_python()
    if not pyenv:
        pytest.skip("needs a pyenv interpreter")
    parent = procs.spawn([pyenv[0], target_path("fork_child.py")])
    assert parent.wait_line("stdout", lambda l: l.strip() == "ready", READY_TIMEOUT), parent.describe()
    lp = procs.spawn([lockprof, "-v", "-p", str(parent.pid)], stdin=False)
    assert lp.wait_line("stderr", lambda l: l.startswith("lockprof: pid %d: CPython" % parent.pid), 30), lp.describe()
    sites = [(path, int(off, 16)) for path, _sym, off in PROBING_RE.findall(lp.stderr)]
    assert sites, lp.stderr
    parent.send("go\n")
    line = parent.wait_line("stdout", lambda l: l.startswith("child "), READY_TIMEOUT)
    assert line, parent.describe()
    child = int(line.split()[1])
    assert lp.wait_line("stderr", lambda l: "forked: the probes its child inherited are cleared" in l, 5), lp.describe()
    for path, off in sites:
        assert code_byte(parent.pid, path, off) == 0xCC, "the parent lost its probe at %s+0x%x" % (path, off)
        assert code_byte(child, path, off) != 0xCC, "the child still has a breakpoint at %s+0x%x" % (path, off)
    lp.signal(signal.SIGINT)
    assert lp.wait(EXIT_TIMEOUT) == 0, lp.describe()
    parent.close_stdin()
    assert parent.wait(10) == 0, parent.describe()


def test_all_max_processes(root, lockprof, procs, tmp_path):
    """--max-processes 1 with two CPython processes: the second is named in one warning and
    skipped, then profiled once the first has exited and freed its place."""
    pyenv = newest_pyenv_python()
    if not pyenv:
        pytest.skip("needs a pyenv interpreter")
    out = tmp_path / "max.json"
    pod = Pod(procs, ["--max-processes", "1", "-f", "json", "-o", str(out)])
    first, first_host = start_handoff(pod.spawn, pyenv[0])
    assert pod.wait_profiled(ns_pid(first_host), 10), pod.lp.describe()
    second, second_host = start_handoff(pod.spawn, pyenv[0])
    warning = pod.lp.wait_line("stderr", lambda l: "--max-processes 1 reached" in l, 10)
    assert warning and "pid %d" % ns_pid(second_host) in warning, pod.lp.describe()
    finish_handoff(first)
    assert pod.wait_profiled(ns_pid(second_host), 10), "not profiled after the first exited\n%s" % pod.lp.describe()
    finish_handoff(second)
    pod.stop()
    report = json.loads(out.read_text())
    assert report["health"]["processes_skipped"] == 1 and report["health"]["processes_attached"] == 2, report["health"]
    assert len([l for l in pod.lp.err_lines if "--max-processes" in l]) == 1, "the warning is given once"
    for p in report["processes"]:
        check_handoffs(p, "pid %d" % p["target"]["pid"])
