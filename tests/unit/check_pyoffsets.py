# SPDX-License-Identifier: GPL-2.0
"""Checks lockprof's CPython offset tables (src/pyoffsets.c) against real CPythons.

Run by `make check-unit` (no root needed) with /usr/bin/python3:

    check_pyoffsets.py --dump .output/tests/dump_pyoffsets --work .output/tests/pyoffsets

Three kinds of check, each field comparison counting as one check:

1. headers: for every installed CPython 3.8+ whose C headers are found, compile
   tests/unit/header_pyoffsets.c against them (offsetof/sizeof/enum values of each field lockprof
   reads) and compare with lockprof's table for that minor (`dump_pyoffsets table`). Headers come
   from pyenv (`pyenv versions --bare`, $(pyenv prefix V)/include/python3.X), the system
   (/usr/include/python3.X), the Debian roots' headers cached by tools/fetch-python-headers.sh
   (/var/cache/lockprof/headers/SUITE), the free-threaded builds of tools/build-ft-python.sh
   (/var/cache/lockprof/python/3.Xt, checked as ft-3.Xt) and $LOCKPROF_PYTHON_INCLUDES (colon-separated
   include/python3.X directories).
2. debug map (3.13+ headers): the uint64_t index pyoffsets__apply_debug_offsets reads each field
   from (`dump_pyoffsets debugmap`) must be offsetof(_Py_DebugOffsets, field) / 8.
   The same program prints lockprof dump's layout (src/dump/layout.c, `dump_pyoffsets table`'s
   "dump" lines): value stacks, native thread ids, instance dicts, object fields past the header.
3. runtime (3.13+ binaries): pyoffsets__apply_debug_offsets on the .PyRuntime section of each
   3.13+ interpreter found (pyenv libpython3.X.so, the python3.13/python3.14 of the Debian roots
   built by tools/make-rootfs.sh, /usr/bin/python3.1X) must give exactly the table's values.

Sources that are absent are skipped with a printed note. With LOCKPROF_BUILD_ROOTFS=1 (as
root) the Debian roots and their headers are built/fetched first, and the free-threaded 3.13
(tools/build-ft-python.sh, whose headers and libpython3.13t are checked as ft-3.13t). Ends with
"offsets: N passed, N failed" and exits 1 on any failure.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOTFS_CACHE = os.environ.get("LOCKPROF_ROOTFS_CACHE", "/var/cache/lockprof/rootfs")
HEADERS_CACHE = os.environ.get("LOCKPROF_HEADERS_CACHE", "/var/cache/lockprof/headers")
# Debian roots the functional tests run targets in (tools/make-rootfs.sh SUITE PACKAGE).
ROOTS = (("trixie", "python3.13"), ("sid", "python3.14"))
# Free-threaded builds made by tools/build-ft-python.sh (PREFIX/3.13t, PREFIX/3.14t).
FT_CACHE = os.environ.get("LOCKPROF_PYTHON_CACHE", "/var/cache/lockprof/python")
MIN_MINOR = 8


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def compare(self, what, field, ours, theirs, mine="lockprof's table"):
        """ours: lockprof's value; theirs: what the CPython source `what` says."""
        if ours == theirs:
            self.passed += 1
            return True
        self.failed += 1
        print("  FAIL %s: %s: %s has %s, %s says %s" % (what, field, mine, ours, what, theirs))
        return False

    def check(self, what, cond, message):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("  FAIL %s: %s" % (what, message))
        return cond


def note(text):
    print("  note: " + text)


def parse_lines(text, tag):
    """{build: {field: value}} from "TAG 3.M[t] FIELD VALUE" lines; build is "3.13" or "3.13t"."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 4 or parts[0] != tag:
            continue
        out.setdefault(parts[1], {})[parts[2]] = int(parts[3], 0)
    return out


def build_minor(build):
    """13 for "3.13" and "3.13t"."""
    return int(build.split(".")[1].rstrip("t"))


def run(argv, **kwargs):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, **kwargs)


def frame_read_max():
    with open(os.path.join(REPO, "include", "lockprof", "abi.h")) as f:
        m = re.search(r"#define\s+LP_FRAME_READ_MAX\s+(\d+)", f.read())
    return int(m.group(1))


def check_read_size(c, what, t):
    """The BPF side copies frame_read_size bytes of each frame: every field it reads must fit."""
    need = max(
        t["walk.frame_previous"] + 8,
        t["walk.frame_code"] + 8,
        t["walk.frame_instr"] + t["walk.frame_instr_size"],
        t["walk.frame_owner"] + 1,
        t["walk.frame_func"] + 8,
        t["walk.frame_globals"] + 8,
    )
    size = t["walk.frame_read_size"]
    c.check(
        what,
        need <= size <= frame_read_max(),
        "walk.frame_read_size %d must cover the frame fields (%d bytes) and be <= LP_FRAME_READ_MAX (%d)"
        % (size, need, frame_read_max()),
    )


# --------------------------------------------------------------------------
# Where CPythons are


def pyenv_exe():
    exe = shutil.which("pyenv")
    if exe:
        return exe
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    exe = os.path.join(root, "bin", "pyenv")
    return exe if os.access(exe, os.X_OK) else None


def pyenv_prefixes():
    """[(version, prefix)] of the pyenv-installed CPythons, or None without pyenv."""
    exe = pyenv_exe()
    if not exe:
        return None
    out = run([exe, "versions", "--bare"], timeout=60).stdout.split()
    found = []
    for name in out:
        if not re.match(r"^\d+\.\d+\.\d+$", name):
            continue  # system, pypy, free-threaded 3.13t, virtualenvs: not default CPython builds
        prefix = run([exe, "prefix", name], timeout=60).stdout.strip()
        if prefix and os.path.isdir(prefix):
            found.append((name, prefix))
    return found


def minor_of(version):
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def header_sources(pyenv):
    """[(label, minor, [include args])] for every CPython header set found."""
    sources = []
    for version, prefix in pyenv or []:
        major, minor = minor_of(version)
        inc = os.path.join(prefix, "include", "python%d.%d" % (major, minor))
        if (major, minor) < (3, MIN_MINOR):
            continue
        if os.path.isfile(os.path.join(inc, "Python.h")):
            sources.append(("pyenv-%s" % version, "3.%d" % minor, [inc]))
        else:
            note("pyenv %s has no headers in %s" % (version, inc))
    for inc in sorted(glob.glob("/usr/include/python3.*")):
        m = re.search(r"python3\.(\d+)$", inc)
        if m and int(m.group(1)) >= MIN_MINOR and os.path.isfile(os.path.join(inc, "Python.h")):
            sources.append(("system-3.%s" % m.group(1), "3.%s" % m.group(1), [inc]))
    for suite_dir in sorted(glob.glob(os.path.join(HEADERS_CACHE, "*"))):
        for inc in sorted(glob.glob(os.path.join(suite_dir, "usr", "include", "python3.*"))):
            m = re.search(r"python3\.(\d+)$", inc)
            if m and os.path.isfile(os.path.join(inc, "Python.h")):
                # Debian puts pyconfig.h under usr/include/<multiarch>/python3.X.
                sources.append(
                    (
                        "debian-%s-3.%s" % (os.path.basename(suite_dir), m.group(1)),
                        "3.%s" % m.group(1),
                        [inc, os.path.join(suite_dir, "usr", "include")],
                    )
                )
    for suite, package in ROOTS:
        if os.path.exists(os.path.join(ROOTFS_CACHE, suite, "usr", "bin", package)) and not glob.glob(
            os.path.join(HEADERS_CACHE, suite, "usr", "include", package)
        ):
            note("Debian %s's %s headers are not cached: tools/fetch-python-headers.sh %s %s" % (
                suite, package, suite, package))
    for inc in [p for p in os.environ.get("LOCKPROF_PYTHON_INCLUDES", "").split(":") if p]:
        m = re.search(r"python3\.(\d+)/?$", inc)
        if not m:
            print("  FAIL LOCKPROF_PYTHON_INCLUDES: %s is not an include/python3.X directory" % inc)
            sys.exit(1)
        sources.append(("custom-3.%s" % m.group(1), "3.%s" % m.group(1), [inc, os.path.dirname(inc.rstrip("/"))]))
    for inc in sorted(glob.glob(os.path.join(FT_CACHE, "3.*t", "include", "python3.*t"))):
        m = re.search(r"python(3\.\d+t)$", inc)
        if m and os.path.isfile(os.path.join(inc, "Python.h")):
            sources.append(("ft-%s" % m.group(1), m.group(1), [inc]))
    return sources


def runtime_binaries(pyenv):
    """[(label, path)] of 3.13+ interpreter files (executable or libpython) to read .PyRuntime from."""
    found = []
    for version, prefix in pyenv or []:
        major, minor = minor_of(version)
        if (major, minor) < (3, 13):
            continue
        lib = os.path.join(prefix, "lib", "libpython%d.%d.so.1.0" % (major, minor))
        exe = os.path.join(prefix, "bin", "python%d.%d" % (major, minor))
        found.append(("pyenv-%s" % version, lib if os.path.exists(lib) else exe))
    for suite, package in ROOTS:
        path = os.path.join(ROOTFS_CACHE, suite, "usr", "bin", package)
        if os.path.exists(path):
            found.append(("debian-%s-%s" % (suite, package[len("python") :]), path))
        else:
            note("no Debian %s root with %s (%s): tools/make-rootfs.sh %s %s builds it" % (
                suite, package, path, suite, package))
    for path in sorted(glob.glob("/usr/bin/python3.[0-9]*")):
        m = re.search(r"python3\.(\d+)$", path)
        if m and int(m.group(1)) >= 13:
            found.append(("system-3.%s" % m.group(1), path))
    for path in sorted(glob.glob(os.path.join(FT_CACHE, "3.*t", "lib", "libpython3.*t.so.1.0"))):
        found.append(("ft-%s" % os.path.basename(os.path.dirname(os.path.dirname(path))), path))
    return found


def build_roots():
    """LOCKPROF_BUILD_ROOTFS=1: build the Debian roots and fetch their headers (cached)."""
    if os.environ.get("LOCKPROF_BUILD_ROOTFS") != "1":
        return
    if os.geteuid() != 0:
        note("LOCKPROF_BUILD_ROOTFS=1 needs root: not building the Debian roots")
        return
    for suite, package in ROOTS:
        for tool in ("make-rootfs.sh", "fetch-python-headers.sh"):
            cp = run([os.path.join(REPO, "tools", tool), suite, package], timeout=1800)
            if cp.returncode != 0:
                print("  FAIL tools/%s %s %s:\n%s" % (tool, suite, package, cp.stdout))
                sys.exit(1)
    # The free-threaded 3.13 the functional tests profile (3.14t needs a source tree).
    cp = run([os.path.join(REPO, "tools", "build-ft-python.sh"), "3.13"], timeout=3600)
    if cp.returncode != 0:
        print("  FAIL tools/build-ft-python.sh 3.13:\n%s" % cp.stdout)
        sys.exit(1)


# --------------------------------------------------------------------------
# Checks


def check_headers(c, args, table, debugmap, label, build, incs, dumplayout):
    what = "%s headers" % label
    minor = build_minor(build)
    if build not in table:
        note("%s: lockprof has no table for %s: nothing to compare" % (label, build))
        return
    exe = os.path.join(args.work, "header_pyoffsets-%s" % label)
    cflags = ["-std=gnu11", "-O0", "-w"]
    for inc in incs:
        cflags += ["-I", inc]
    cflags += ["-I", os.path.join(incs[0], "internal")]
    cp = run([args.cc] + cflags + [os.path.join(REPO, "tests", "unit", "header_pyoffsets.c"), "-o", exe])
    if not c.check(what, cp.returncode == 0, "header_pyoffsets.c does not compile:\n" + cp.stdout[-3000:]):
        return
    cp = run([exe])
    if not c.check(what, cp.returncode == 0, "header_pyoffsets failed:\n" + cp.stdout):
        return
    lines = cp.stdout.splitlines()
    if not c.check(what, lines and lines[0] == "version " + build, "headers are not %s: %r" % (build, lines[:1])):
        return
    t, n = table[build], 0
    for line in lines[1:]:
        parts = line.split()
        if parts[0] == "debug":
            field, value = parts[1], int(parts[2])
            dm = debugmap.get("3.%d" % minor)
            if not c.check(what, dm is not None, "3.%d has _Py_DebugOffsets but lockprof has no index map" % minor):
                return
            if field == "count":
                c.check(
                    what,
                    max(v for k, v in dm.items() if k != "count") < dm["count"] <= value,
                    "debug map reads %d uint64_t, _Py_DebugOffsets has %d" % (dm["count"], value),
                )
            else:
                c.compare(what, field, dm.get(field), value, "lockprof's _Py_DebugOffsets index map")
        elif parts[0].startswith("dump."):
            c.compare(what, parts[0], dumplayout.get(build, {}).get(parts[0]), int(parts[1]), "lockprof dump's layout")
        elif parts[0] == "tag_bits":
            mask = t["walk.code_mask"]
            c.check(
                what,
                mask & int(parts[1]) == 0 and (~mask & 0xFFFFFFFFFFFFFFFF) < 8,
                "walk.code_mask 0x%x must clear Py_TAG_BITS (%s) and nothing above bit 2" % (mask, parts[1]),
            )
        else:
            c.compare(what, parts[0], t.get(parts[0]), int(parts[1]))
        n += 1
    print("  %-28s %-5s %d fields compared" % (label, build, n))


def check_runtime(c, args, table, label, path):
    what = "%s .PyRuntime" % label
    cp = run([args.dump, "runtime", path])
    if not c.check(what, cp.returncode == 0, "dump_pyoffsets runtime %s:\n%s" % (path, cp.stdout)):
        return
    got = parse_lines(cp.stdout, "runtime")
    (build, t), = got.items()
    c.check(what, t.get("free_threaded") == int(build.endswith("t")), "free_threaded flag vs the table's")
    n = 0
    for field, expected in sorted(table[build].items()):
        c.compare(what, field, expected, t.get(field))  # .PyRuntime says t
        n += 1
    check_read_size(c, what, t)
    print("  %-28s %-5s %d fields compared (version 0x%08x, %s)" % (label, build, n, t["version"], path))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dump", required=True, help="the dump_pyoffsets binary")
    ap.add_argument("--work", required=True, help="directory for the compiled header programs")
    ap.add_argument("--cc", default=os.environ.get("CC") or "gcc")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    c = Checker()

    cp = run([args.dump, "table"])
    if cp.returncode != 0:
        print(cp.stdout)
        sys.exit(1)
    table = parse_lines(cp.stdout, "table")
    debugmap = parse_lines(run([args.dump, "debugmap"]).stdout, "debugmap")
    dumplayout = parse_lines(cp.stdout, "dump")
    c.check("dump layouts", set(dumplayout) == set(table),
            "lockprof dump's layouts (%s) are not for the table's builds (%s)" % (sorted(dumplayout), sorted(table)))
    for build, t in sorted(table.items()):
        has_map = "3.%d" % build_minor(build) in debugmap
        check_read_size(c, "table " + build, t)
        c.check("table " + build, has_map == bool(t["has_debug_offsets"]),
                "has_debug_offsets %d but %s index map" % (t["has_debug_offsets"], "an" if has_map else "no"))

    build_roots()
    pyenv = pyenv_prefixes()
    if pyenv is None:
        note("pyenv not found: no pyenv CPython headers or libpython to check")
    print("headers (offsetof/sizeof vs lockprof's table; 3.13+: _Py_DebugOffsets indexes):")
    sources = header_sources(pyenv)
    for label, minor, incs in sources:
        check_headers(c, args, table, debugmap, label, minor, incs, dumplayout)
    if not sources:
        note("no CPython 3.%d+ headers found" % MIN_MINOR)
    print(".PyRuntime (_Py_DebugOffsets applied by pyoffsets__apply_debug_offsets vs the table):")
    binaries = runtime_binaries(pyenv)
    for label, path in binaries:
        check_runtime(c, args, table, label, path)
    if not binaries:
        note("no CPython 3.13+ interpreter found")
    print("offsets: %d passed, %d failed" % (c.passed, c.failed))
    sys.exit(1 if c.failed else 0)


if __name__ == "__main__":
    main()
