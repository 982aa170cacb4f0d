"""The real-code stage (lockprof on CPython's own test suites): its shared parts.

conftest.py (hooks, fixtures) and test_real.py (the runs and checks) use these.

Interpreters
    Discovered as in tests/functional (its conftest is loaded here, so
    LOCKPROF_TEST_PYTHONS, LOCKPROF_BUILD_ROOTFS and the Debian roots work the
    same way).  LOCKPROF_REAL_SELECT picks among them:
      all    (default, make check-real) every supported interpreter;
      quick  (make check-real-quick) the newest of each plain build kind: a
             shared build (pyenv's) and a static one (Debian's LTO
             /usr/bin/python3.11).
    An interpreter needs its ``test`` package: pyenv builds ship it, Debian's
    is libpython3.X-testsuite (tools/install-deps.sh installs 3.11's).  For a
    Debian root, LOCKPROF_BUILD_ROOTFS=1 installs it into the root (apt-get in
    a chroot); otherwise such an interpreter is skipped, with the command.

Outputs
    Per interpreter, in $LOCKPROF_REAL_OUT (default .output/real/LABEL/): the
    JSON and text reports, regrtest's output and JUnit XML of each run, and
    the figures of the checks (figures.txt), for check_report.py by hand.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FUNCTIONAL = os.path.join(REPO, "tests", "functional")
sys.path.insert(0, FUNCTIONAL)


def _load_functional():
    spec = importlib.util.spec_from_file_location("lockprof_functional_conftest", os.path.join(FUNCTIONAL, "conftest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


fc = _load_functional()

SELECT = os.environ.get("LOCKPROF_REAL_SELECT", "all")
OUT = os.environ.get("LOCKPROF_REAL_OUT") or os.path.join(REPO, ".output", "real")
SUITES = ("test_threading", "test_queue", "test_logging")


def selected_interpreters():
    found = fc.supported_interpreters()
    if SELECT == "all":
        return found
    if SELECT == "quick":
        newest = {}
        for i in found:
            if i.launcher.name != "exec" or i.shared is None:
                continue
            if i.build not in newest or i.version > newest[i.build].version:
                newest[i.build] = i
        return sorted(newest.values(), key=lambda i: i.build)
    raise pytest.UsageError("LOCKPROF_REAL_SELECT=%s: use all or quick" % SELECT)


def testsuite_missing(python):
    """None when python's test package holds the suites, else why not (with the fix)."""
    host_lib = None
    try:
        cp = subprocess.run(
            python.launcher.argv(python.path, ["-I", "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"]),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        stdlib = cp.stdout.decode().strip()
        host_lib = python.launcher.host_path(stdlib) if python.launcher.name == "rootfs" else stdlib
    except (OSError, subprocess.SubprocessError) as e:
        return "cannot ask %s for its standard library: %s" % (python.path, e)
    missing = [s for s in SUITES if not os.path.isfile(os.path.join(host_lib, "test", s + ".py"))]
    if not missing:
        return None
    package = "libpython%d.%d-testsuite" % python.version[:2]
    if python.launcher.name == "rootfs":
        if os.environ.get("LOCKPROF_BUILD_ROOTFS") == "1":
            why = install_in_root(python.launcher.root, package)
            return why and "%s: %s" % (package, why)
        return "the Debian %s root has no %s (%s missing): chroot %s sh -c 'apt-get update && apt-get install %s', " \
            "or LOCKPROF_BUILD_ROOTFS=1" % (python.launcher.suite, package, ", ".join(missing), python.launcher.root, package)
    if python.path.startswith("/usr/bin/"):
        return "%s has no test package (%s missing): apt-get install %s" % (python.path, ", ".join(missing), package)
    return "%s has no test package (%s missing in %s/test)" % (python.path, ", ".join(missing), host_lib)


def install_in_root(root_dir, package):
    """apt-get install package inside a Debian root (kept small: lists and .debs removed)."""
    fc._log("lockprof real tests: installing %s into %s (one time)" % (package, root_dir))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # A root is a snapshot: sid's Release file expires within days (debootstrap does not check).
    for argv in (["chroot", root_dir, "apt-get", "-o", "Acquire::Check-Valid-Until=false", "update", "-qq"],
                 ["chroot", root_dir, "apt-get", "install", "-y", "-qq", "--no-install-recommends", package]):
        cp = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=900)
        if cp.returncode != 0:
            return "%s failed: %s" % (" ".join(argv), cp.stdout.decode(errors="replace")[-800:])
    for sub in ("var/lib/apt/lists", "var/cache/apt/archives"):
        d = os.path.join(root_dir, sub)
        for name in os.listdir(d):
            path = os.path.join(d, name)
            if os.path.isfile(path) and (sub.endswith("lists") or name.endswith(".deb")):
                os.unlink(path)
    return None


# Filled by test_real.py: label -> (Interp, figures dict, [check results], runs summary)
FIGURES = {}
