"""lockprof functional tests: privilege and the report file.

lockprof run as an unprivileged user (nobody) holding some capabilities
(ambient, through setpriv) names the first one it lacks, in one line, exit 6;
with the ones it asks for it profiles a root-owned process.  The report file
is created 0644 whatever the umask and never written through a planted
symlink, hard link or FIFO.  All need root (to hand out capabilities) and
./lockprof.
"""

import json
import os
import re
import stat
import subprocess

import pytest

from conftest import EXIT_TIMEOUT, LOCKPROF, clip, supported_interpreters

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
CAP_RE = re.compile(r"missing capability (CAP_[A-Z_]+)")


def _as_nobody(caps):
    if not caps:
        return NOBODY
    spec = ",".join("+" + c for c in caps)
    return NOBODY + ["--inh-caps", spec, "--ambient-caps", spec]


def _run(argv, timeout=EXIT_TIMEOUT):
    try:
        return subprocess.run(
            [str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail("%s did not exit within %.0f s\nstderr: %s" % (argv, timeout, e.stderr))


def _describe(cp):
    return "exit %d\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
        cp.returncode,
        clip(cp.stdout.decode(errors="replace"), 3000),
        clip(cp.stderr.decode(errors="replace"), 3000),
    )


def _spawn_sleeper(procs, interpreter):
    p = procs.spawn([interpreter.path, "-c", "import time; print('ready', flush=True); time.sleep(120)"])
    if p.wait_line("stdout", lambda l: l.strip() == "ready", 20) is None:
        pytest.fail("python did not start\n" + p.describe())
    return p


def _host_interpreters():
    # The Debian-root ones cannot run outside their root.
    found = [i for i in supported_interpreters() if i.launcher.name != "rootfs"]
    if not found:
        pytest.skip("no supported CPython found on the host")
    return found


def _hidden_from_nobody(path):
    return _run(NOBODY + ["test", "-r", os.path.realpath(path)]).returncode != 0


@pytest.fixture
def sleeper(procs):
    """A root-owned CPython process doing nothing."""
    return _spawn_sleeper(procs, _host_interpreters()[-1])


@pytest.fixture
def hidden_sleeper(procs):
    """The same, from an interpreter user nobody cannot read (pyenv's under /root, say)."""
    hidden = [i for i in _host_interpreters() if _hidden_from_nobody(i.path)]
    if not hidden:
        pytest.skip("every host interpreter is readable by nobody: nothing to refuse")
    return _spawn_sleeper(procs, hidden[-1])


@pytest.fixture
def nobody_can_run(root, lockprof):
    if _run(NOBODY + ["test", "-x", LOCKPROF]).returncode != 0:
        pytest.skip("user nobody cannot execute %s (directory permissions)" % LOCKPROF)


# --------------------------------------------------------------------------
# missing capabilities


@pytest.mark.parametrize(
    "caps, missing",
    [
        ([], {"CAP_BPF"}),
        (["bpf"], {"CAP_PERFMON"}),
        # Perf-event uprobes want CAP_SYS_ADMIN on kernels with a 2025 fix, uprobe_multi links
        # (6.6+, what lockprof uses where it can) do not: then reading a root-owned process is
        # the next thing refused.
        (["bpf", "perfmon"], {"CAP_SYS_ADMIN", "CAP_SYS_PTRACE"}),
        # The target's libpython under /root (0700), opened through /proc/PID/root.
        (["bpf", "perfmon", "sys_ptrace"], {"CAP_SYS_ADMIN", "CAP_DAC_READ_SEARCH"}),
        (["sys_admin"], {"CAP_SYS_PTRACE"}),
    ],
    ids=["none", "bpf", "bpf+perfmon", "bpf+perfmon+sys_ptrace", "sys_admin"],
)
def test_missing_capability(nobody_can_run, request, caps, missing):
    # The refusal to open the interpreter needs one nobody cannot read; the others any.
    sleeper = request.getfixturevalue("hidden_sleeper" if "sys_ptrace" in caps else "sleeper")
    cp = _run(_as_nobody(caps) + [LOCKPROF, "-p", sleeper.pid, "-d", 1])
    detail = "as nobody with %s: %s" % (caps or "no capabilities", _describe(cp))
    assert cp.returncode == 6, detail
    lines = cp.stderr.decode(errors="replace").splitlines()
    assert len(lines) == 1 and lines[0].startswith("lockprof: "), "expected one line\n" + detail
    m = CAP_RE.search(lines[0])
    assert m and m.group(1) in missing, "names %s, expected one of %s\n%s" % (m and m.group(1), sorted(missing), detail)
    assert m.group(1).lower()[4:] not in caps, "names a capability it holds\n" + detail


LEAST_CAPS = ["bpf", "perfmon", "sys_ptrace", "dac_read_search"]


def _uprobe_multi():
    """Whether lockprof (as root) attaches with uprobe_multi links on this kernel: its -v says."""
    cp = _run([LOCKPROF, "-p", os.getpid(), "-d", 0.1, "-v"])
    text = cp.stderr.decode(errors="replace")
    return "uprobe_multi links" in text and "no uprobe_multi" not in text


def test_least_capabilities_unprivileged(nobody_can_run, hidden_sleeper):
    """Where the kernel has uprobe_multi links, nobody profiles a root-owned process without
    CAP_SYS_ADMIN; forced onto perf-event uprobes, the same user is told CAP_SYS_ADMIN is missing
    (kernels with the 2025 uprobe fix) or profiles too (kernels without it)."""
    sleeper = hidden_sleeper
    cp = _run(_as_nobody(LEAST_CAPS) + [LOCKPROF, "-p", sleeper.pid, "-d", 1, "-f", "json"])
    if cp.returncode == 6 and not _uprobe_multi():
        assert b"missing capability CAP_SYS_ADMIN" in cp.stderr, _describe(cp)
    else:
        assert cp.returncode == 0, _describe(cp)
        assert json.loads(cp.stdout)["target"]["pid"] == sleeper.pid, _describe(cp)
    forced = _run(["env", "LOCKPROF_UPROBE_LINKS=perf"] + _as_nobody(LEAST_CAPS)
                  + [LOCKPROF, "-p", sleeper.pid, "-d", 1, "-f", "json"])
    if forced.returncode != 0:
        assert forced.returncode == 6, _describe(forced)
        lines = forced.stderr.decode(errors="replace").splitlines()
        assert len(lines) == 1 and "missing capability CAP_SYS_ADMIN" in lines[0], _describe(forced)


def test_enough_capabilities_unprivileged(nobody_can_run, sleeper):
    """What lockprof asks for is enough: nobody with CAP_SYS_ADMIN and CAP_SYS_PTRACE profiles a
    root-owned process."""
    cp = _run(_as_nobody(["sys_admin", "sys_ptrace"]) + [LOCKPROF, "-p", sleeper.pid, "-d", 1, "-f", "json"])
    assert cp.returncode == 0, _describe(cp)
    report = json.loads(cp.stdout)
    assert report["target"]["pid"] == sleeper.pid, _describe(cp)


# --------------------------------------------------------------------------
# the report file


def test_output_file_mode_and_replace(root, lockprof, sleeper, tmp_path):
    new = tmp_path / "new.json"
    cp = _run(["sh", "-c", 'umask 077 && exec "$@"', "sh", LOCKPROF, "-p", sleeper.pid, "-d", 1, "-f", "json", "-o", new])
    assert cp.returncode == 0, _describe(cp)
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o644, oct(os.stat(new).st_mode)
    assert json.loads(new.read_text())["target"]["pid"] == sleeper.pid

    old = tmp_path / "old.json"
    old.write_text("x" * 100000)
    cp = _run([LOCKPROF, "-p", sleeper.pid, "-d", 1, "-f", "json", "-o", old])
    assert cp.returncode == 0, _describe(cp)
    assert json.loads(old.read_text())["target"]["pid"] == sleeper.pid, "not truncated first?"


@pytest.mark.parametrize("planted", ["symlink", "dangling-symlink", "hardlink", "fifo"])
def test_output_file_planted(root, lockprof, sleeper, tmp_path, planted):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    path = tmp_path / "report.json"
    if planted == "symlink":
        os.symlink(victim, path)
    elif planted == "dangling-symlink":
        os.symlink(tmp_path / "created-through-link", path)
    elif planted == "hardlink":
        os.link(victim, path)
    else:
        os.mkfifo(path)
    cp = _run([LOCKPROF, "-p", sleeper.pid, "-d", 1, "-o", path], timeout=10)
    assert cp.returncode == 8, _describe(cp)
    lines = cp.stderr.decode(errors="replace").splitlines()
    assert len(lines) == 1 and str(path) in lines[0], _describe(cp)
    assert victim.read_text() == "precious\n"
    assert not (tmp_path / "created-through-link").exists()
