"""How the functional tests start a target interpreter: launchers.

A launcher turns "run this interpreter with these arguments" into an argv, makes
the target scripts visible to the interpreter, and tells which host process is
the Python to profile once it is up.

ExecLauncher     runs the interpreter directly (pyenv, /usr/bin/python3.X).
ChrootLauncher   runs a distribution interpreter inside a Debian root built by
                 tools/make-rootfs.sh, in new PID and mount namespaces:
                   unshare --pid --fork --kill-child --mount --mount-proc=ROOT/proc \\
                       chroot ROOT /usr/bin/python3.X SCRIPT...
                 Scripts are copied into ROOT/tmp/lockprof-tests-*/ (removed at
                 the end of the session).  The Python is the unshare wrapper's
                 only child (pid 1 in its namespace); lockprof profiles it by its
                 host pid.  --kill-child makes the kernel kill it if the wrapper
                 dies, and the tests also kill it by pid.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOTFS_CACHE = os.environ.get("LOCKPROF_ROOTFS_CACHE", "/var/cache/lockprof/rootfs")
# (suite, interpreter package) pairs the functional tests run in Debian roots.
ROOTFS_SUITES = (("trixie", "python3.13"), ("sid", "python3.14"))
PID_TIMEOUT = 10.0


class ExecLauncher:
    """Run the interpreter as a plain child process."""

    name = "exec"

    def argv(self, interp_path, args):
        return [interp_path] + [str(a) for a in args]

    def script(self, host_path):
        return host_path

    def host_path(self, interp_path):
        return interp_path

    def python_pid(self, spawned, host_exe):
        return spawned.proc.pid

    def cleanup(self):
        pass

    def __repr__(self):
        return "exec"


class ChrootLauncher:
    """Run the interpreter inside ROOT with its own PID and mount namespaces."""

    name = "rootfs"

    def __init__(self, suite, root):
        self.suite = suite
        self.root = root
        self._tmp = None  # host path of this session's script directory in ROOT/tmp

    def argv(self, interp_path, args):
        return [
            "unshare",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount",
            "--mount-proc=%s" % os.path.join(self.root, "proc"),
            "chroot",
            self.root,
            interp_path,
        ] + [str(a) for a in args]

    def script(self, host_path):
        """Copy a target script into ROOT/tmp; return its path as the interpreter sees it."""
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="lockprof-tests-", dir=os.path.join(self.root, "tmp"))
            os.chmod(self._tmp, 0o755)
        dest = os.path.join(self._tmp, os.path.basename(host_path))
        if not os.path.exists(dest):
            shutil.copyfile(host_path, dest)
        return "/" + os.path.relpath(dest, self.root)

    def host_path(self, interp_path):
        return os.path.join(self.root, interp_path.lstrip("/"))

    def python_pid(self, spawned, host_exe):
        """Host pid of the interpreter: the wrapper's child, once it runs the interpreter file."""
        wrapper = spawned.proc.pid
        deadline = time.monotonic() + PID_TIMEOUT
        while time.monotonic() < deadline:
            for child in children(wrapper):
                try:
                    if os.path.samefile("/proc/%d/exe" % child, host_exe):
                        return child
                except OSError:
                    pass
            if spawned.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("no child of unshare (pid %d) runs %s" % (wrapper, host_exe))

    def cleanup(self):
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __repr__(self):
        return "chroot %s" % self.root


EXEC = ExecLauncher()


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(c) for c in f.read().split()]
    except (OSError, ValueError):
        return []


def parent_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def kill_child(parent, pid):
    """SIGKILL pid if it is still parent's child (so a reused pid is never hit)."""
    if pid != parent and parent_of(pid) == parent:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def thread_ids(pid):
    """{tid in the process's own PID namespace: host tid} for every thread of pid."""
    out = {}
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for task in tasks:
        try:
            with open("/proc/%d/task/%s/status" % (pid, task)) as f:
                for line in f:
                    if line.startswith("NSpid:"):
                        ids = [int(x) for x in line.split()[1:]]
                        out[ids[-1]] = ids[0]
        except (OSError, ValueError, IndexError):
            pass
    return out


def rootfs_path(suite):
    return os.path.join(ROOTFS_CACHE, suite)


def rootfs_ready(suite, package):
    root = rootfs_path(suite)
    return os.path.isfile(os.path.join(root, ".lockprof-complete")) and os.access(
        os.path.join(root, "usr", "bin", package), os.X_OK
    )


def build_rootfs(suite, package, log):
    """tools/make-rootfs.sh SUITE PACKAGE (cached; a few minutes the first time). Returns None or why not."""
    if os.geteuid() != 0:
        return "building a root needs root"
    if not shutil.which("debootstrap"):
        return "debootstrap is not installed"
    log("lockprof tests: building the Debian %s root with %s (tools/make-rootfs.sh, one time)" % (suite, package))
    cp = subprocess.run(
        [os.path.join(REPO, "tools", "make-rootfs.sh"), suite, package],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        timeout=1800,
    )
    if cp.returncode != 0:
        return "tools/make-rootfs.sh %s %s failed: %s" % (suite, package, cp.stderr.strip()[-500:])
    return None
