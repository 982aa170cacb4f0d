"""Shared machinery for lockprof's functional tests.

Interpreter discovery
    LOCKPROF_TEST_PYTHONS (colon-separated interpreter paths) overrides
    discovery.  Otherwise every pyenv version (``pyenv versions --bare``,
    interpreter ``$(pyenv prefix V)/bin/python3``) and every distribution
    interpreter (/usr/bin/python3.X, /usr/local/bin/python3.X, python2.7) is
    used, deduplicated by real path.  Supported versions (3.8 .. 3.14) are the
    ``python`` parameter of the profiling tests; older ones (2.x, 3.0 .. 3.7)
    are the ``old_python`` parameter of the unsupported-version test.  When a
    list is empty the tests that need it are reported as skipped, with why.
    ``any_python`` (tests no issue asks for on every interpreter) is the newest
    interpreter of each build kind: shared libpython, static, free-threaded.

Rootfs interpreters
    Debian's static python3.13 (trixie) and python3.14 (sid) need a newer
    glibc than the host's: they run inside the roots tools/make-rootfs.sh
    caches in /var/cache/lockprof/rootfs/SUITE (see launch.py), with ids like
    ``debian-sid-3.14``.  A missing root makes that id's profiling tests
    skipped, with the reason; with LOCKPROF_BUILD_ROOTFS=1 (as .ci/run sets)
    the session builds missing roots first (root, debootstrap, network).
    In LOCKPROF_TEST_PYTHONS, ``rootfs=SUITE`` (trixie, sid) selects one.

Free-threaded interpreters
    ``ft_python`` (tests/functional/test_freethreaded.py) is every
    free-threaded CPython found: the builds tools/build-ft-python.sh caches in
    /var/cache/lockprof/python/3.Xt ($LOCKPROF_PYTHON_CACHE), and any
    free-threaded interpreter discovered above.  With LOCKPROF_BUILD_ROOTFS=1
    a missing 3.13t is built first (Debian's python3.13 source, about 5
    minutes); 3.14t needs a source tree given to the script, and is reported
    as skipped, with why, when absent.  They are not the ``python`` parameter.

Running
    Tests need root (BPF, uprobes): without it they are skipped.  The binary
    is ``<repo>/lockprof`` (or $LOCKPROF); when it is missing the tests fail.
    Every process a test starts is killed in teardown, and every wait has a
    timeout: a broken lockprof fails the suite, it never hangs it.
"""

import contextlib
import fcntl
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time

import pytest

from launch import EXEC, ROOTFS_SUITES, ChrootLauncher, build_rootfs, kill_child, rootfs_path, rootfs_ready, thread_ids

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGETS = os.path.join(REPO, "tests", "targets")
LOCKPROF = os.environ.get("LOCKPROF") or os.path.join(REPO, "lockprof")

SUPPORTED_MIN = (3, 8)
SUPPORTED_MAX = (3, 14)
FT_CACHE = os.environ.get("LOCKPROF_PYTHON_CACHE", "/var/cache/lockprof/python")
FT_EXPECTED = ("3.13", "3.14")  # free-threaded builds tools/build-ft-python.sh makes

# The contract says "CPython X.Y.Z"; accept X.Y here so that a banner without the micro
# version fails fast on the version check in run_profiled_in, not after the timeout.
BANNER_RE = re.compile(r"^lockprof: pid (\d+): CPython (\d+\.\d+(?:\.\d+)?)\b")
BANNER_TIMEOUT = 20.0  # lockprof start-up: find the interpreter, load BPF, attach
READY_TIMEOUT = 20.0  # target start-up until it prints "ready"
TARGET_TIMEOUT = 60.0  # target run after "go"
EXIT_TIMEOUT = 20.0  # lockprof exit after its stop condition
SHOW_MAX = 12000  # characters of output shown in a failure message
BUILD_LOCK_DIR = "/var/cache/lockprof"  # where the cached roots and interpreters are built, one at a time


def target_path(name):
    return os.path.join(TARGETS, name)


def clip(text, limit=SHOW_MAX):
    if text is None:
        return "<none>"
    if len(text) <= limit:
        return text
    return text[: limit // 2] + "\n...[%d characters cut]...\n" % (len(text) - limit) + text[-limit // 2 :]


def show_json(obj, limit=SHOW_MAX):
    return clip(json.dumps(obj, indent=1, sort_keys=True), limit)


# --------------------------------------------------------------------------
# Interpreter discovery


class Interp:
    """One CPython interpreter found on the machine."""

    def __init__(self, path, version, label, freethreaded=False, launcher=EXEC, shared=None):
        self.path = path  # as the interpreter sees it (inside the root for a chroot launcher)
        self.version = version  # (major, minor, micro)
        self.label = label
        self.freethreaded = freethreaded
        self.launcher = launcher
        self.shared = shared  # libpython mapped: True, static: False, unknown: None

    @property
    def host_path(self):
        return self.launcher.host_path(self.path)

    @property
    def build(self):
        """Build kind for reports: shared/static, and rootfs when it runs in a Debian root."""
        kind = {True: "shared", False: "static", None: "?"}[self.shared]
        return kind + (" rootfs" if self.launcher.name == "rootfs" else "")

    @property
    def version_str(self):
        return "%d.%d.%d" % self.version

    @property
    def supported(self):
        return SUPPORTED_MIN <= self.version[:2] <= SUPPORTED_MAX and not self.freethreaded

    @property
    def too_old(self):
        return self.version[:2] < SUPPORTED_MIN

    def __repr__(self):
        return "%s (%s, %s)" % (self.label, self.version_str, self.host_path)


_PROBE = (
    "import sys, platform\n"
    "ft = 0\n"
    "try:\n"
    "    import sysconfig\n"
    "    ft = int(bool(sysconfig.get_config_var('Py_GIL_DISABLED')))\n"
    "except Exception:\n"
    "    pass\n"
    "shared = -1\n"
    "try:\n"
    "    shared = int('libpython' in open('/proc/self/maps').read())\n"
    "except Exception:\n"
    "    pass\n"
    "sys.stdout.write('%s %d %d %d %d %d\\n' % ((platform.python_implementation(),)"
    " + tuple(sys.version_info[:3]) + (ft, shared)))\n"
)


def _probe(path, launcher=EXEC):
    """Return (version tuple, freethreaded, shared) for a CPython at path, or raise."""
    env = dict(os.environ)
    for var in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP"):
        env.pop(var, None)
    out = subprocess.run(
        launcher.argv(path, ["-c", _PROBE]), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=15, env=env
    )
    if out.returncode != 0:
        raise RuntimeError("exit %d: %s" % (out.returncode, out.stderr.decode(errors="replace").strip()))
    impl, major, minor, micro, ft, shared = out.stdout.decode().split()
    if impl != "CPython":
        raise RuntimeError("not CPython but " + impl)
    return (int(major), int(minor), int(micro)), ft == "1", {"1": True, "0": False}.get(shared)


def _pyenv_bin():
    exe = shutil.which("pyenv")
    if exe:
        return exe
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    exe = os.path.join(root, "bin", "pyenv")
    return exe if os.access(exe, os.X_OK) else None


def _pyenv_candidates():
    exe = _pyenv_bin()
    if not exe:
        return []
    try:
        names = subprocess.run(
            [exe, "versions", "--bare"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30
        ).stdout.decode().split()
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for name in names:
        if name == "system":
            continue
        try:
            prefix = subprocess.run(
                [exe, "prefix", name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30
            ).stdout.decode().strip()
        except (OSError, subprocess.SubprocessError):
            continue
        for exe_name in ("python3", "python", "python2"):  # 2.7 has no python3
            path = os.path.join(prefix, "bin", exe_name)
            if prefix and os.access(path, os.X_OK):
                found.append((path, "pyenv-" + name.replace("/", "-")))
                break
    return found


def _distro():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("ID="):
                    return line.split("=", 1)[1].strip().strip('"') or "distro"
    except OSError:
        pass
    return "distro"


_SYSTEM_NAME_RE = re.compile(r"^python(2\.7|3\.\d+)$")


def _system_candidates():
    found = []
    for bindir, prefix in (("/usr/bin", _distro()), ("/usr/local/bin", "local")):
        try:
            names = sorted(os.listdir(bindir))
        except OSError:
            continue
        for name in names:
            m = _SYSTEM_NAME_RE.match(name)
            path = os.path.join(bindir, name)
            if m and os.access(path, os.X_OK):
                found.append((path, "%s-%s" % (prefix, m.group(1))))
    return found


def _label_for(path, version):
    """Readable id for an interpreter named in LOCKPROF_TEST_PYTHONS."""
    for pattern, fmt in (
        (r"/\.pyenv/versions/([^/]+)/", "pyenv-%s"),
        (r"^/usr/bin/python(\d\.\d+)$", _distro() + "-%s"),
        (r"^/usr/local/bin/python(\d\.\d+)$", "local-%s"),
    ):
        m = re.search(pattern, path)
        if m:
            return fmt % m.group(1)
    return "custom-%d.%d.%d" % version


_INTERPRETERS = None
_NOTES = []  # shown in the report header: interpreters that could not be used, and why
_MISSING = []  # (label, why): expected interpreters that are absent, reported as skipped tests
_LAUNCHERS = []  # chroot launchers in use, cleaned up at the end of the session


def _log(text):
    sys.__stderr__.write(text + "\n")
    sys.__stderr__.flush()


@contextlib.contextmanager
def _build_lock():
    os.makedirs(BUILD_LOCK_DIR, exist_ok=True)
    with open(os.path.join(BUILD_LOCK_DIR, ".build.lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _rootfs_candidates(suites):
    """[(path, label, launcher)] for the Debian roots' interpreters; builds missing roots when asked."""
    found = []
    build = os.environ.get("LOCKPROF_BUILD_ROOTFS") == "1"
    for suite, package in suites:
        root = rootfs_path(suite)
        if not rootfs_ready(suite, package) and build:
            with _build_lock():  # parallel test workers: one builds, the others wait for it
                why = None if rootfs_ready(suite, package) else build_rootfs(suite, package, _log)
            if why:
                raise pytest.UsageError("LOCKPROF_BUILD_ROOTFS=1: %s" % why)
        if not rootfs_ready(suite, package):
            label = "debian-%s-%s" % (suite, package[len("python") :])
            why = "no Debian %s root at %s (tools/make-rootfs.sh %s %s, or LOCKPROF_BUILD_ROOTFS=1)" % (
                suite, root, suite, package)
            _NOTES.append("%s: %s" % (label, why))
            _MISSING.append((label, why))
            continue
        launcher = ChrootLauncher(suite, root)
        _LAUNCHERS.append(launcher)
        found.append(("/usr/bin/" + package, "debian-%s-%s" % (suite, package[len("python") :]), launcher))
    return found


def interpreters():
    """All CPython interpreters to test, discovered once per session."""
    global _INTERPRETERS
    if _INTERPRETERS is not None:
        return _INTERPRETERS
    override = os.environ.get("LOCKPROF_TEST_PYTHONS")
    result, seen, labels = [], set(), set()
    if override is not None:
        for path in [p for p in override.split(":") if p]:
            if path.startswith("rootfs="):
                suites = [s for s in ROOTFS_SUITES if s[0] == path[len("rootfs=") :]]
                if not suites:
                    raise pytest.UsageError("LOCKPROF_TEST_PYTHONS: %s: suites are %s" % (
                        path, ", ".join(s for s, _ in ROOTFS_SUITES)))
                rootfs = _rootfs_candidates(suites)
                if not rootfs:
                    raise pytest.UsageError("LOCKPROF_TEST_PYTHONS: %s: %s" % (path, _NOTES[-1]))
                (path, label, launcher), = rootfs
            else:
                label, launcher = None, EXEC
            try:
                version, ft, shared = _probe(path, launcher)
            except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as e:
                raise pytest.UsageError("LOCKPROF_TEST_PYTHONS: %s: %s" % (path, e))
            candidates = [(path, label or _label_for(path, version), version, ft, launcher, shared)]
            result.extend(_dedupe(candidates, seen, labels))
    else:
        candidates = []
        found = [(p, l, EXEC) for p, l in _pyenv_candidates() + _system_candidates()]
        for path, label, launcher in found + _rootfs_candidates(ROOTFS_SUITES):
            try:
                version, ft, shared = _probe(path, launcher)
            except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as e:
                if launcher is not EXEC:  # a root we built must work
                    raise pytest.UsageError("%s (%s): %s" % (label, launcher, e))
                continue  # broken or not CPython: not ours to test
            candidates.append((path, label, version, ft, launcher, shared))
        result.extend(_dedupe(candidates, seen, labels))
    _INTERPRETERS = result
    return result


def _dedupe(candidates, seen, labels):
    out = []
    for path, label, version, ft, launcher, shared in candidates:
        real = os.path.realpath(launcher.host_path(path))
        if real in seen:
            continue
        seen.add(real)
        if ft and not label.endswith("t"):
            label += "t"
        base, n = label, 2
        while label in labels:
            label, n = "%s-%d" % (base, n), n + 1
        labels.add(label)
        out.append(Interp(path, version, label, ft, launcher, shared))
    return out


_FT_INTERPRETERS = None
_FT_MISSING = []  # (label, why): expected free-threaded builds that are absent


def _build_ft(minor):
    """LOCKPROF_BUILD_ROOTFS=1: build (once, cached) the free-threaded CPython 3.minor; None or why not."""
    script = os.path.join(REPO, "tools", "build-ft-python.sh")
    _log("lockprof tests: building free-threaded CPython %s with %s (cached; about 5 minutes)" % (minor, script))
    try:
        cp = subprocess.run([script, minor], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=3600)
    except (OSError, subprocess.SubprocessError) as e:
        return "%s %s: %s" % (script, minor, e)
    if cp.returncode != 0:
        return "%s %s failed (exit %d): %s" % (script, minor, cp.returncode, cp.stdout.decode(errors="replace")[-2000:])
    return None


def ft_interpreters():
    """The free-threaded CPythons to test (3.13t+), discovered once per session."""
    global _FT_INTERPRETERS
    if _FT_INTERPRETERS is not None:
        return _FT_INTERPRETERS
    found = [i for i in interpreters() if i.freethreaded and i.version[:2] >= (3, 13)]
    seen = {os.path.realpath(i.host_path) for i in found}
    build = os.environ.get("LOCKPROF_BUILD_ROOTFS") == "1" and os.environ.get("LOCKPROF_TEST_PYTHONS") is None
    for minor in FT_EXPECTED:
        path = os.path.join(FT_CACHE, minor + "t", "bin", "python%st" % minor)
        label = "ft-%st" % minor
        why = None
        if not os.access(path, os.X_OK) and build and minor == "3.13":
            with _build_lock():  # parallel test workers: one builds, the others wait for it
                why = None if os.access(path, os.X_OK) else _build_ft(minor)
            if why:
                raise pytest.UsageError("LOCKPROF_BUILD_ROOTFS=1: %s" % why)
        if not os.access(path, os.X_OK):
            why = "no free-threaded CPython %s at %s (tools/build-ft-python.sh %s%s)" % (
                minor, path, minor, "" if minor == "3.13" else " SRC_DIR: needs a CPython %s source tree" % minor)
            if os.environ.get("LOCKPROF_TEST_PYTHONS") is None:
                _FT_MISSING.append((label, why))
            continue
        if os.path.realpath(path) in seen:
            continue
        try:
            version, ft, shared = _probe(path)
        except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as e:
            raise pytest.UsageError("%s: %s" % (path, e))
        if not ft:
            raise pytest.UsageError("%s is not a free-threaded build" % path)
        seen.add(os.path.realpath(path))
        found.append(Interp(path, version, label, True, EXEC, shared))
    _FT_INTERPRETERS = sorted(found, key=lambda i: i.version)
    return _FT_INTERPRETERS


def supported_interpreters():
    return [i for i in interpreters() if i.supported]


def old_interpreters():
    return [i for i in interpreters() if i.too_old]


def _range_str():
    return "%d.%d-%d.%d" % (SUPPORTED_MIN + SUPPORTED_MAX)


def pytest_report_header(config):
    lines = ["lockprof: %s (%s)" % (LOCKPROF, "present" if os.path.exists(LOCKPROF) else "MISSING")]
    src = "LOCKPROF_TEST_PYTHONS" if "LOCKPROF_TEST_PYTHONS" in os.environ else "discovered"
    lines.append("CPython interpreters (%s):" % src)
    for i in interpreters():
        kind = "profiled" if i.supported else ("unsupported-version test" if i.too_old else "not used")
        lines.append("  %-20s %-8s %-14s %-26s %s" % (i.label, i.version_str, i.build, kind, i.host_path))
    if not interpreters():
        lines.append("  none")
    lines.extend("  not used: " + n for n in _NOTES)
    lines.append("Free-threaded CPython interpreters (ft_python):")
    for i in ft_interpreters():
        lines.append("  %-20s %-8s %-14s %-26s %s" % (i.label, i.version_str, i.build, "profiled", i.host_path))
    lines.extend("  missing: %s: %s" % m for m in _FT_MISSING)
    return lines


def lifecycle_interpreters():
    """The newest supported interpreter of each build kind (shared libpython, static, and
    free-threaded), preferring one run without a Debian root among equals."""
    newest = {}
    for i in supported_interpreters():
        key = (i.shared, i.freethreaded)
        best = newest.get(key)
        if best is None or (i.version, i.launcher.name == "exec") > (best.version, best.launcher.name == "exec"):
            newest[key] = i
    return sorted(newest.values(), key=lambda i: (i.launcher.name != "exec", i.version))


def pytest_generate_tests(metafunc):
    if "python" in metafunc.fixturenames:
        found = supported_interpreters()
        if found:
            # An absent Debian root shows up as a skipped test, with the reason.
            missing = [pytest.param(None, marks=pytest.mark.skip(reason=why), id=label) for label, why in _MISSING]
            metafunc.parametrize("python", found + missing, ids=[i.label for i in found] + [m.id for m in missing])
        else:
            reason = "no supported CPython (%s) found: install one (e.g. with pyenv) or set LOCKPROF_TEST_PYTHONS" % (
                _range_str()
            )
            metafunc.parametrize(
                "python", [pytest.param(None, marks=pytest.mark.skip(reason=reason))], ids=["no-supported-python"]
            )
    if "any_python" in metafunc.fixturenames:
        found = lifecycle_interpreters()
        if found:
            metafunc.parametrize("any_python", found, ids=[i.label for i in found])
        else:
            reason = "no supported CPython (%s) found" % _range_str()
            metafunc.parametrize(
                "any_python", [pytest.param(None, marks=pytest.mark.skip(reason=reason))], ids=["no-supported-python"]
            )
    if "ft_python" in metafunc.fixturenames:
        found = ft_interpreters()
        missing = [pytest.param(None, marks=pytest.mark.skip(reason=why), id=label) for label, why in _FT_MISSING]
        if found or missing:
            metafunc.parametrize("ft_python", found + missing, ids=[i.label for i in found] + [m.id for m in missing])
        else:
            metafunc.parametrize(
                "ft_python",
                [pytest.param(None, marks=pytest.mark.skip(reason="no free-threaded CPython found"))],
                ids=["no-free-threaded-python"],
            )
    if "old_python" in metafunc.fixturenames:
        found = old_interpreters()
        if found:
            metafunc.parametrize("old_python", found, ids=[i.label for i in found])
        else:
            reason = "no unsupported CPython (2.x, 3.0-3.7) installed to check exit code 5"
            metafunc.parametrize(
                "old_python", [pytest.param(None, marks=pytest.mark.skip(reason=reason))], ids=["no-old-python"]
            )


# --------------------------------------------------------------------------
# Preconditions


@pytest.fixture
def root():
    if os.geteuid() != 0:
        pytest.skip("needs root (BPF programs and uprobes); run the suite with sudo")


@pytest.fixture
def lockprof():
    if not os.access(LOCKPROF, os.X_OK):
        pytest.fail("lockprof binary not found at %s: run `make lockprof` first" % LOCKPROF)
    return LOCKPROF


# --------------------------------------------------------------------------
# Processes


class Spawned:
    """A child process whose stdout and stderr are drained line by line by threads.

    ``pid`` is the process to profile: the child itself, or for a target started
    through a wrapper (chroot launcher) the interpreter the wrapper runs, which
    kill() ends first.  ``tids`` maps the target's own thread ids (as it reports
    them, e.g. threading.get_native_id() inside a PID namespace) to host ones."""

    def __init__(self, argv, stdin=True, **kwargs):
        self.argv = [str(a) for a in argv]
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            **kwargs,
        )
        self.pid = self.proc.pid
        self.tids = {}
        self.out_lines, self.err_lines = [], []
        self.out_q, self.err_q = queue.Queue(), queue.Queue()
        self._readers = [
            threading.Thread(target=self._drain, args=(self.proc.stdout, self.out_lines, self.out_q), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, self.err_lines, self.err_q), daemon=True),
        ]
        for t in self._readers:
            t.start()

    @staticmethod
    def _drain(stream, lines, q):
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", errors="replace")
                lines.append(line)
                q.put(line)
        except (OSError, ValueError):
            pass
        finally:
            q.put(None)  # EOF

    @property
    def stdout(self):
        return "".join(self.out_lines)

    @property
    def stderr(self):
        return "".join(self.err_lines)

    def wait_line(self, which, pred, timeout):
        """Wait for a line of stdout/stderr matching pred; return it, or None on EOF or timeout."""
        q = self.out_q if which == "stdout" else self.err_q
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = q.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                q.put(None)  # keep EOF visible for later callers
                return None
            if pred(line):
                return line

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def close_stdin(self):
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass

    def wait(self, timeout):
        """Wait for exit and for the output to be drained; return the exit code or None on timeout."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        for t in self._readers:
            t.join(timeout=5)
        return rc

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def kill(self):
        if self.alive():
            kill_child(self.proc.pid, self.pid)  # the wrapped interpreter, still the wrapper's child
            try:
                self.proc.kill()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.close_stdin()

    def describe(self):
        return "$ %s\n[exit %s]\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            " ".join(self.argv),
            self.proc.returncode,
            clip(self.stdout, SHOW_MAX // 2),
            clip(self.stderr, SHOW_MAX // 2),
        )


class ProcessPool:
    """Starts processes for one test and kills whatever is still running at teardown."""

    def __init__(self):
        self.procs = []

    def spawn(self, argv, stdin=True, **kwargs):
        p = Spawned(argv, stdin=stdin, **kwargs)
        self.procs.append(p)
        return p

    def kill_all(self):
        for p in reversed(self.procs):
            p.kill()


@pytest.fixture
def procs():
    pool = ProcessPool()
    try:
        yield pool
    finally:
        pool.kill_all()


def is_banner(line):
    return BANNER_RE.match(line) is not None


class ProfiledRun:
    """Outcome of run_profiled; unpacks as (result, stdout, stderr, returncode)."""

    def __init__(self, result, stdout, stderr, returncode, target, profiler, banner):
        self.result = result  # the target's JSON result line
        self.stdout = stdout  # lockprof's stdout
        self.stderr = stderr  # lockprof's stderr
        self.returncode = returncode  # lockprof's exit code
        self.target = target  # Spawned
        self.profiler = profiler  # Spawned
        self.banner = banner

    def __iter__(self):
        return iter((self.result, self.stdout, self.stderr, self.returncode))

    def host_tid(self, tid):
        """The host thread id of a thread id the target reported about itself."""
        return self.target.tids.get(tid, tid)

    def describe(self):
        return "lockprof:\n%s\n\ntarget:\n%s" % (self.profiler.describe(), self.target.describe())


def start_python(pool, python, args, what="python", env=None, preexec=None):
    """Start python (an Interp) with args through its launcher and wait for a "ready" line.

    The returned Spawned's pid is the interpreter's host pid, and its tids map
    the target's thread ids to host ones (taken now: the threads are up).
    env: variables added to the environment; preexec: run in the child before the interpreter."""
    kwargs = {"env": dict(os.environ, **env)} if env else {}
    if preexec:
        kwargs["preexec_fn"] = preexec
    t = pool.spawn(python.launcher.argv(python.path, args), **kwargs)
    if t.wait_line("stdout", lambda l: l.strip() == "ready", READY_TIMEOUT) is None:
        t.kill()
        pytest.fail("%s did not get ready within %.0f s\n%s" % (what, READY_TIMEOUT, t.describe()))
    try:
        t.pid = python.launcher.python_pid(t, python.host_path)
    except RuntimeError as e:
        t.kill()
        pytest.fail("%s: %s\n%s" % (what, e, t.describe()))
    t.tids = thread_ids(t.pid)
    return t


def start_target(pool, python, target, args=(), env=None, preexec=None):
    """Start a target script (tests/targets/NAME) and wait for its "ready" line."""
    script = python.launcher.script(target_path(target))
    return start_python(pool, python, [script] + list(args), "target %s" % target, env, preexec)


def start_lockprof(pool, pid, lockprof_args=(), prefix=()):
    """Start lockprof -p pid and wait for its banner; fail if it exits first or times out."""
    lp = pool.spawn(list(prefix) + [LOCKPROF, "-p", str(pid)] + list(lockprof_args), stdin=False)
    banner = lp.wait_line("stderr", is_banner, BANNER_TIMEOUT)
    if banner is None:
        rc = lp.wait(2)
        if rc is None:
            lp.kill()
            pytest.fail("lockprof printed no banner within %.0f s\n%s" % (BANNER_TIMEOUT, lp.describe()))
        pytest.fail("lockprof exited (code %s) without printing its banner\n%s" % (rc, lp.describe()))
    m = BANNER_RE.match(banner)
    assert int(m.group(1)) == pid, "banner names pid %s, expected %d: %r" % (m.group(1), pid, banner)
    return lp, banner


def run_profiled_in(pool, python, target, args=(), lockprof_args=(), timeout=TARGET_TIMEOUT, env=None,
                    preexec=None):
    """Start target, attach lockprof, wait for the banner, send go; wait for both to exit."""
    t = start_target(pool, python, target, args, env, preexec)
    lp, banner = start_lockprof(pool, t.pid, lockprof_args)
    if isinstance(python, Interp):
        # Same major.minor here; test_contention_json checks the full X.Y.Z.
        v = BANNER_RE.match(banner).group(2)
        assert v.split(".")[:2] == python.version_str.split(".")[:2], "banner says CPython %s, target runs %s: %r" % (
            v,
            python.version_str,
            banner,
        )
    t.send("go\n")
    t.close_stdin()
    if t.wait(timeout) is None:
        t.kill()
        lp.kill()
        pytest.fail("target did not finish within %.0f s after go\n%s" % (timeout, t.describe()))
    rc = lp.wait(EXIT_TIMEOUT)
    if rc is None:
        lp.kill()
        pytest.fail("lockprof still running %.0f s after the target exited\n%s" % (EXIT_TIMEOUT, lp.describe()))
    if t.proc.returncode != 0:
        pytest.fail("target failed (exit %s)\n%s" % (t.proc.returncode, t.describe()))
    lines = [l for l in t.out_lines if l.strip()]
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        pytest.fail("target printed no JSON result\n%s" % t.describe())
    return ProfiledRun(result, lp.stdout, lp.stderr, rc, t, lp, banner)


@pytest.fixture
def run_profiled(root, lockprof, procs):
    """run_profiled(python, target, args, lockprof_args) -> ProfiledRun (unpacks as 4-tuple)."""

    def run(python, target, args=(), lockprof_args=(), timeout=TARGET_TIMEOUT, env=None, preexec=None):
        return run_profiled_in(procs, python, target, args, lockprof_args, timeout, env, preexec)

    return run


# --------------------------------------------------------------------------
# Accuracy summary: one line per interpreter, printed at the end of the session


_ACCURACY = {}


def record_accuracy(python, waits, expected_waits, wait_ns, expected_ns):
    """Note what the holder/waiter test measured on python (the last run counts)."""
    err = 100.0 * abs(wait_ns - expected_ns) / expected_ns if expected_ns else float("nan")
    _ACCURACY[python.label] = (python, waits, expected_waits, err)


def _accuracy_rows():
    return [
        [list(python.version), python.launcher.name, label, python.version_str, python.build, waits, expected, err]
        for label, (python, waits, expected, err) in _ACCURACY.items()
    ]


_WORKER_ROWS = []  # under pytest-xdist, the controller's copy of what each worker measured


def pytest_sessionfinish(session):
    for launcher in _LAUNCHERS:
        launcher.cleanup()
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: hand the rows over
        session.config.workeroutput["lockprof_accuracy"] = json.dumps(_accuracy_rows())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    _WORKER_ROWS.extend(json.loads(getattr(node, "workeroutput", {}).get("lockprof_accuracy", "[]")))


def pytest_terminal_summary(terminalreporter):
    rows = _accuracy_rows() + _WORKER_ROWS
    if not rows:
        return
    tr = terminalreporter
    tr.section("lockprof accuracy (holder/waiter: test_contention_json, test_ft_lock_accuracy)")
    tr.write_line("%-20s %-8s %-14s %-12s %s" % ("interpreter", "version", "build", "waits", "wait error"))
    for _, _, label, version, build, waits, expected, err in sorted(rows):
        tr.write_line("%-20s %-8s %-14s %-12s %.2f%%" % (label, version, build, "%d/%d" % (waits, expected), err))


# --------------------------------------------------------------------------
# Report helpers


def parse_report(run):
    try:
        return json.loads(run.stdout)
    except ValueError as e:
        pytest.fail("lockprof stdout is not JSON (%s)\n%s" % (e, run.describe()))


def leaf(stack):
    frames = stack.get("frames") or []
    return frames[0] if frames else None


def waiter_stacks_at(report, file_suffix, line=None):
    """[(lock, stack)] for waiter stacks whose leaf frame is in file_suffix (at line, if given)."""
    hits = []
    for lock in report.get("locks", []):
        for stack in lock.get("stacks", []):
            f = leaf(stack)
            if stack.get("role") != "waiter" or f is None:
                continue
            if not str(f.get("file", "")).endswith(file_suffix):
                continue
            if line is not None and f.get("line") != line:
                continue
            hits.append((lock, stack))
    return hits
