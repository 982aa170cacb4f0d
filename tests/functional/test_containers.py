"""lockprof functional tests: containers.

(a) a target in its own PID and mount namespace with its own root (a
    debootstrapped Debian root, built once by tools/make-rootfs.sh), profiled
    from the host by its host PID;
(b) a sidecar: lockprof in the target's PID namespace, given the
    namespace-local PID;
(c) a symlink in the container pointing at an absolute path resolves inside
    the container, never to the host file of that name.
All need root, ./lockprof, unshare, nsenter and chroot.
"""

import json
import os
import shutil
import subprocess
import uuid

import pytest

from conftest import (
    EXIT_TIMEOUT,
    READY_TIMEOUT,
    REPO,
    TARGET_TIMEOUT,
    clip,
    parse_report,
    show_json,
    start_lockprof,
    target_path,
    waiter_stacks_at,
)
from proctools import nspid, thread_ids_by_ns, wait_child

ROOTFS_SUITE, ROOTFS_PYTHON = "trixie", "python3.13"
WAITS = 10
HOLD_MS = 20


def _wait_line():
    with open(target_path("holder_waiter.py")) as f:
        return [n for n, line in enumerate(f, 1) if line.rstrip().endswith("# WAIT-LINE")][0]


@pytest.fixture(scope="session")
def rootfs():
    """A Debian root with a CPython in it (built on first use, ~2 minutes, then cached)."""
    for tool in ("unshare", "nsenter", "chroot"):
        if not shutil.which(tool):
            pytest.skip("%s not installed" % tool)
    if os.geteuid() != 0:
        pytest.skip("needs root")
    try:
        out = subprocess.run(
            [os.path.join(REPO, "tools", "make-rootfs.sh"), ROOTFS_SUITE, ROOTFS_PYTHON],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=900,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("building the %s root took more than 15 minutes" % ROOTFS_SUITE)
    if out.returncode != 0:
        pytest.skip("cannot build the %s root: %s" % (ROOTFS_SUITE, out.stderr.decode(errors="replace").strip()))
    root = out.stdout.decode().strip().splitlines()[-1]
    assert os.access(os.path.join(root, "usr/bin", ROOTFS_PYTHON), os.X_OK), root
    return root


@pytest.fixture
def container_dir(rootfs):
    """A fresh directory /tmp/lockprof-test-XXXX, as ("/tmp/...", host path of it in the root)."""
    inside = "/tmp/lockprof-test-%s" % uuid.uuid4().hex[:12]
    host = rootfs + inside
    os.makedirs(host)
    try:
        yield inside, host
    finally:
        shutil.rmtree(host, ignore_errors=True)


def _start_in_container(procs, rootfs, script, args=()):
    """Run script (a path inside the root) in new PID and mount namespaces chrooted to rootfs;
    return (Spawned of unshare, host pid of the interpreter)."""
    argv = [
        "unshare",
        "--pid",
        "--fork",
        "--kill-child",
        "--mount",
        "--mount-proc=%s/proc" % rootfs,
        "chroot",
        rootfs,
        "/usr/bin/" + ROOTFS_PYTHON,
        script,
    ] + [str(a) for a in args]
    t = procs.spawn(argv)
    if t.wait_line("stdout", lambda l: l.strip() == "ready", READY_TIMEOUT) is None:
        t.kill()
        pytest.fail("target in the container did not get ready\n" + t.describe())
    pid = wait_child(t.pid)
    assert pid, "unshare has no child\n" + t.describe()
    # What makes it a container: PID 1 of its own namespace, its own root.
    ids = nspid(pid)
    assert len(ids) == 2 and ids[-1] == 1, "NSpid %s: not PID 1 of a child namespace" % ids
    assert os.readlink("/proc/%d/root" % pid) == rootfs, os.readlink("/proc/%d/root" % pid)
    return t, pid


def _finish(procs, t, lp):
    """Send go, wait for target and lockprof; return (target result, report)."""
    t.send("go\n")
    t.close_stdin()
    if t.wait(TARGET_TIMEOUT) != 0:
        t.kill()
        pytest.fail("target failed or hung\n" + t.describe())
    rc = lp.wait(EXIT_TIMEOUT)
    if rc is None:
        lp.kill()
        pytest.fail("lockprof still running after the target exited\n" + lp.describe())
    assert rc == 0, lp.describe()
    res = json.loads([l for l in t.out_lines if l.strip()][-1])
    assert res["contended_rounds"] == WAITS, "workload not contended every round: %s" % res
    return res, parse_report(lp)


def _the_wait(report, file, res, lp):
    """The lock holding the waiter's stacks at file:WAIT-LINE, checked against the workload."""
    whole = "workload: %s\nreport:\n%s\nstderr:\n%s" % (json.dumps(res), show_json(report), clip(lp.stderr, 3000))
    hits = waiter_stacks_at(report, file, _wait_line())
    assert hits, "no waiter stack at %s:%d\n%s" % (file, _wait_line(), whole)
    lock = hits[0][0]
    assert all(l is lock for l, _ in hits), whole
    assert lock["waits"] == WAITS, whole
    assert abs(lock["wait_ns"] - res["wait_ns"]) <= 0.05 * res["wait_ns"], whole
    for _, stack in hits:
        top = stack["frames"][0]
        assert top["file"] == file and top["function"] == res["waiter_function"], whole
    return lock, [s for _, s in hits], whole


# --------------------------------------------------------------------------
# (a) own PID + mount namespace and root, profiled from the host


def test_container_by_host_pid(root, lockprof, procs, rootfs, container_dir):
    inside, host = container_dir
    shutil.copy(target_path("holder_waiter.py"), host)
    script = inside + "/holder_waiter.py"
    t, pid = _start_in_container(procs, rootfs, script, ["--waits", WAITS, "--hold-ms", HOLD_MS])
    host_tids = thread_ids_by_ns(pid)  # while its threads live: namespace tid -> host tid

    lp, banner = start_lockprof(procs, pid, ["-f", "json"])
    res, report = _finish(procs, t, lp)
    lock, stacks, whole = _the_wait(report, script, res, lp)

    assert report["target"]["pid"] == pid, whole
    assert report["target"]["python"] == res["python"], whole
    # From the host, threads are named by their host ids.
    assert res["waiter_tid"] in host_tids, "waiter tid %d not among %s" % (res["waiter_tid"], host_tids)
    for stack in stacks:
        assert stack["thread_ids"] == [host_tids[res["waiter_tid"]]], whole
    # The lock is named from the container's copy of the source.
    assert lock["name"] == "the_lock", whole


# --------------------------------------------------------------------------
# (b) sidecar: lockprof inside the target's PID namespace


def test_sidecar_same_pid_namespace(root, lockprof, procs, any_python):
    if any_python.launcher.name == "rootfs":
        pytest.skip("runs a host interpreter in the sidecar namespace; Debian-root interpreters "
                    "are profiled from the host by test_contention")
    # The namespace's PID 1 is a placeholder, as in a pod: when PID 1 exits, the kernel kills
    # everything else in the namespace, lockprof included.
    init = procs.spawn(["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "sleep", "300"], stdin=False)
    init_pid = wait_child(init.pid)
    assert init_pid, "unshare started nothing\n" + init.describe()
    enter = ["nsenter", "--target", str(init_pid), "--pid", "--mount"]

    t = procs.spawn(enter + [any_python.path, target_path("holder_waiter.py"), "--waits", WAITS, "--hold-ms", HOLD_MS])
    if t.wait_line("stdout", lambda l: l.strip() == "ready", READY_TIMEOUT) is None:
        pytest.fail("target did not get ready\n" + t.describe())
    host_pid = wait_child(t.pid)
    ids = nspid(host_pid)
    assert len(ids) == 2 and ids[0] == host_pid and ids[1] != host_pid, ids
    ns_pid = ids[1]

    lp, banner = start_lockprof(procs, ns_pid, ["-f", "json"], prefix=enter)
    res, report = _finish(procs, t, lp)
    lock, stacks, whole = _the_wait(report, target_path("holder_waiter.py"), res, lp)

    # Everything is in the namespace's numbers: the pid lockprof was given, the thread ids the
    # target itself sees (threading.get_native_id()).
    assert report["target"]["pid"] == ns_pid, whole
    for stack in stacks:
        assert stack["thread_ids"] == [res["waiter_tid"]], whole


def test_pid_namespace_without_its_proc(root, lockprof, procs, any_python):
    """In a PID namespace whose /proc is still the host's, PIDs would mean two things: refuse."""
    if any_python.launcher.name == "rootfs":
        pytest.skip("needs a host interpreter; the refusal does not depend on the target")
    t = procs.spawn([any_python.path, "-c", "import time; print('ready', flush=True); time.sleep(60)"])
    assert t.wait_line("stdout", lambda l: l.strip() == "ready", READY_TIMEOUT), t.describe()
    cp = subprocess.run(
        ["unshare", "--pid", "--fork", "--kill-child", lockprof, "-p", str(t.pid), "-d", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=EXIT_TIMEOUT,
    )
    err = cp.stderr.decode(errors="replace")
    assert cp.returncode == 1, "exit %d\n%s" % (cp.returncode, err)
    lines = err.splitlines()
    assert len(lines) == 1 and "--mount-proc" in lines[0], err


# --------------------------------------------------------------------------
# (c) a symlink to an absolute path resolves inside the container


def test_container_symlink_stays_inside(root, lockprof, procs, rootfs, container_dir):
    inside, host = container_dir
    with open(target_path("holder_waiter.py")) as f:
        source = f.read()
    # The container's file and a host decoy at the same absolute path, lines aligned.
    with open(os.path.join(host, "real.py"), "w") as f:
        f.write(source.replace("the_lock", "container_lock"))
    os.symlink(inside + "/real.py", os.path.join(host, "main.py"))
    os.makedirs(inside, exist_ok=False)
    try:
        with open(inside + "/real.py", "w") as f:
            f.write(source.replace("the_lock", "HOST_DECOY_lock"))
        # The premise: following the symlink through /proc/PID/root the naive way reaches
        # the host file.
        script = inside + "/main.py"
        t, pid = _start_in_container(procs, rootfs, script, ["--waits", WAITS, "--hold-ms", HOLD_MS])
        with open("/proc/%d/root%s" % (pid, script)) as f:
            assert "HOST_DECOY_lock" in f.read(), "the naive path does not reach the decoy: test proves nothing"

        lp, _ = start_lockprof(procs, pid, ["-f", "json"])
        res, report = _finish(procs, t, lp)
        lock, _, whole = _the_wait(report, script, res, lp)
        assert lock["name"] == "container_lock", whole
        assert "HOST_DECOY" not in lp.stdout, whole
    finally:
        shutil.rmtree(inside, ignore_errors=True)
