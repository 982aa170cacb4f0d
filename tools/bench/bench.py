#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: lockprof's overhead and accuracy beside in-process references, in one table.

Runs each workload of workloads.py under every configuration in alternation (plain, Python
proxy, Cython proxy, lockprof contention, lockprof full, lockprof serve; then again), for
--rounds rounds,
and prints per workload and configuration the median and min-max over the rounds of:

  ns/op       the workload's wall time per operation (workloads.py says what an op is)
  x plain     ns/op over that of the plain run of the same round (1.00 = no cost)
  +ns/op      the same as a difference: what the configuration adds to each operation
  est +ns/op  lockprof's own estimate of its cost in the run (report "overhead": every
              probe hit at its calibrated trap cost plus the programs' measured BPF time),
              per op: the part of lockprof's cost that timing noise cannot hide
  hits/op     lockprof's probe hits (report "probe_hits") per operation
  attach      lockprof start to its banner (all probes live), ms
  RSS         lockprof's peak resident set (wait4 ru_maxrss), MiB
  CPU %       lockprof's own CPU time from its banner to its exit, over that time
  wait        lockprof's wait at the workload's timed blocking calls over the time the
              workload measured around those calls itself (1.00 = the same)

The "lockprof serve" configuration is lockprof serve -p PID (contention mode) scraped like a
fleet would: /metrics every second and /debug/pprof/mutex every 5 s while the workload runs;
its RSS and CPU % include serving them, its wait the served lockprof_lock_wait_seconds_total.

then the targets of DESIGN.md section 5, each with a mark: met, missed or n/a, and -f html at
scale (a 10,000-stack page's size and its render time in headless Chromium). It exits 0
whatever the figures are: a benchmark reports, it is not a test. Python 3.9+ stdlib only
(the workloads run on the interpreter under test, 3.8+); run as root for lockprof.

Environment: BENCH_PYTHON (interpreters under test, colon-separated, one table each; default
/usr/bin/python3), BENCH_ROUNDS, BENCH_NO_INSTALL=1 (never apt-get install cython3),
LOCKPROF (binary, default ./lockprof).
"""

import argparse
import contextlib
import json
import os
import platform
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORKLOADS_PY = os.path.join(HERE, "workloads.py")
BUILD_DIR = os.path.join(REPO, ".output", "bench")
BANNER_RE = re.compile(r"^lockprof: pid (\d+): ")
SERVING_RE = re.compile(r"serving (http://127\.0\.0\.1:\d+)/metrics")

READY_TIMEOUT = 30.0  # workload start-up until "ready"
BANNER_TIMEOUT = 20.0  # lockprof start until its banner
RUN_TIMEOUT = 60.0  # workload run after "go"
EXIT_TIMEOUT = 30.0  # lockprof exit after the target exited

MIN_ROUNDS = 5
BUDGET_S = 540.0  # stop adding rounds past MIN_ROUNDS when the next one would end later


class Workload(object):
    def __init__(self, name, label, ops, contended, phases=False):
        self.name = name
        self.label = label
        self.ops = ops
        self.contended = contended  # has timed blocking calls: wait accuracy applies
        # Also timed before "go" and after a "detach"/"detached" exchange (hotloop()).
        self.phases = phases


WORKLOADS = [
    Workload("hotloop", "hot loop 1 thread", 1000000, False, phases=True),
    Workload("contended", "4 threads 1 lock", 200000, True),
    Workload("logging", "logging 6 threads", 30000, True),
    Workload("queue", "queue 2->2 pipeline", 60000, True),
    Workload("pingpong", "lock ping-pong", 40000, True),
    Workload("threadpool", "thread pool", 30000, False),
]
PROBECOST = Workload("probecost", "probe cost calibration", 20000, False)  # see calibrate()
CALIBRATION_PAIRS = 5


class Config(object):
    """One way of running a workload; na is why it cannot run here (None: it can)."""

    def __init__(self, key, label, wrap="none", lockprof_args=None, na=None, serve=False):
        self.key = key
        self.label = label
        self.wrap = wrap
        self.lockprof_args = lockprof_args  # None: lockprof not attached
        self.na = na
        self.serve = serve  # lockprof serve, scraped over HTTP, instead of a report

    @property
    def lockprof(self):
        return self.lockprof_args is not None


# --------------------------------------------------------------------------
# Machine and interpreter


def machine_info():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_gib = int(line.split()[1]) / 1024.0 / 1024.0
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "cpu": model,
        "mem_gib": mem_gib,
        "loadavg": os.getloadavg(),
    }


# Run by the interpreter under test. "shared": whether it runs from a mapped libpython (Debian's
# /usr/bin/python3.X is a static build although its sysconfig says --enable-shared).
_PY_INFO = r"""
import json, sys, sysconfig
cfg = sysconfig.get_config_var
with open("/proc/self/maps") as f:
    shared = "/libpython" in f.read()
print(json.dumps({
    "version": "%d.%d.%d" % sys.version_info[:3],
    "version_info": list(sys.version_info[:2]),
    "tag": sys.implementation.cache_tag,
    "executable": sys.executable,
    "include": sysconfig.get_paths()["include"],
    "ext_suffix": cfg("EXT_SUFFIX"),
    "shared": shared,
    "freethreaded": bool(cfg("Py_GIL_DISABLED")),
}))
"""


def python_info(python):
    out = subprocess.run([python, "-c", _PY_INFO], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if out.returncode != 0:
        raise RuntimeError("%s: %s" % (python, out.stderr.decode(errors="replace").strip()[-300:]))
    info = json.loads(out.stdout.decode())
    if tuple(info["version_info"]) < (3, 8):
        raise RuntimeError("CPython %s: the workloads need 3.8 or later" % info["version"])
    return info


def describe_python(info):
    kind = "shared libpython" if info["shared"] else "static build"
    return "CPython %s (%s, %s)" % (info["version"], info["executable"], kind)


# --------------------------------------------------------------------------
# Cython reference: build _cylock for the interpreter under test


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def ensure_packages(packages):
    """apt-get install the Debian packages that are missing; return None or why not."""
    missing = []
    for p in packages:
        q = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if b"install ok installed" not in q.stdout:
            missing.append(p)
    if not missing:
        return None
    if os.environ.get("BENCH_NO_INSTALL"):
        return "%s not installed (BENCH_NO_INSTALL set)" % " ".join(missing)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "%s not installed (needs root and apt-get)" % " ".join(missing)
    log("installing %s for the Cython reference" % " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing
    for attempt in range(2):
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        if r.returncode == 0:
            return None
        if attempt == 0:  # the package lists may be missing or stale
            subprocess.run(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return "apt-get install %s failed: %s" % (" ".join(missing), r.stderr.decode(errors="replace").strip()[-200:])


def build_cython(info):
    """Build _cylock for the interpreter; return (build dir, None) or (None, why not)."""
    packages = ["cython3"]
    if info["include"].startswith("/usr/include/") and not os.path.exists(os.path.join(info["include"], "Python.h")):
        packages.append("python%s-dev" % ".".join(info["version"].split(".")[:2]))
    why = ensure_packages(packages) if shutil.which("dpkg-query") else None
    cython = shutil.which("cython3")
    if why or not cython:
        return None, why or "cython3 not found"
    if not os.path.exists(os.path.join(info["include"], "Python.h")):
        return None, "no Python.h in %s" % info["include"]
    pyx = os.path.join(HERE, "_cylock.pyx")
    out_dir = os.path.join(BUILD_DIR, "cython-%s-%08x" % (info["tag"], zlib.crc32(info["executable"].encode())))
    so = os.path.join(out_dir, "_cylock" + info["ext_suffix"])
    if os.path.exists(so) and os.path.getmtime(so) > os.path.getmtime(pyx):
        return out_dir, None
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        return None, "cannot create %s: %s" % (out_dir, e.strerror)
    c_file = os.path.join(out_dir, "_cylock.c")
    steps = [
        [cython, "-3", "-o", c_file, pyx],
        [os.environ.get("CC") or "cc", "-O2", "-shared", "-fPIC", "-I" + info["include"], c_file, "-o", so],
    ]
    for cmd in steps:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ, LC_ALL="C"))
        if r.returncode != 0:
            out = r.stdout.decode(errors="replace").splitlines()
            errors = [l.split(": error: ", 1)[1] for l in out if ": error: " in l] or out[-1:] or ["exit %d" % r.returncode]
            version = subprocess.run([cython, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            return None, "%s cannot build for CPython %s: %s" % (
                version.stdout.decode().strip(),
                info["version"],
                errors[0].strip()[:100],
            )
    return out_dir, None


# --------------------------------------------------------------------------
# Running one workload under one configuration


class Child(object):
    """A child process whose stdout and stderr lines are collected by two threads."""

    def __init__(self, argv, stdin):
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.pid = self.proc.pid
        self.out, self.err = [], []
        self.lines = queue.Queue()  # (stream name, line), (name, None) at EOF
        self.readers = [
            threading.Thread(target=self._drain, args=(self.proc.stdout, self.out, "out"), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, self.err, "err"), daemon=True),
        ]
        for t in self.readers:
            t.start()

    def _drain(self, stream, store, name):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            store.append(line)
            self.lines.put((name, line))
        self.lines.put((name, None))

    def wait_line(self, name, pred, timeout):
        """The first line of stream name matching pred, or None at EOF or timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                which, line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if which != name:
                continue
            if line is None:
                return None
            if pred(line):
                return line

    def send(self, text, close=True):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()
        if close:
            self.proc.stdin.close()

    def wait(self, timeout):
        """Exit code, or None after timeout; joins the readers."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        for t in self.readers:
            t.join(5)
        return rc

    def wait_rusage(self, timeout):
        """(exit code, resource usage) with wait4, or (None, None) after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                for t in self.readers:
                    t.join(5)
                return self.proc.returncode, ru
            if time.monotonic() > deadline:
                return None, None
            time.sleep(0.01)

    def kill(self):
        if self.proc.returncode is None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def tail(self):
        return ("".join(self.err) + "".join(self.out))[-600:].strip()


class RunError(Exception):
    pass


def cpu_seconds(pid):
    """User plus system CPU time a live process has used so far (clock-tick resolution)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()  # the fields after "(comm)", from state on
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


class Scraper(object):
    """Scrapes lockprof serve as a fleet would, in a thread: /metrics every second, the mutex
    profile every 5 s. stop() returns the last /metrics text (None if none came)."""

    def __init__(self, url):
        self.url = url
        self.done = threading.Event()
        self.metrics = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _get(self, path):
        import urllib.request

        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as r:
                return r.read()
        except OSError:
            return None

    def _run(self):
        n = 0
        while not self.done.wait(1.0):
            text = self._get("/metrics")
            if text is not None:
                self.metrics = text.decode(errors="replace")
            n += 1
            if n % 5 == 0:
                self._get("/debug/pprof/mutex")

    def stop(self):
        self.done.set()
        self.thread.join(15)
        text = self._get("/metrics")  # the whole run
        return text.decode(errors="replace") if text is not None else self.metrics


def served_figures(text):
    """Probe hits, waits and wait seconds summed over a /metrics text's series."""
    out = {"hits": 0.0, "waits": 0.0, "wait_s": 0.0, "cost_s": 0.0}
    names = {
        "lockprof_probe_hits_total": "hits",
        "lockprof_lock_waits_total": "waits",
        "lockprof_lock_wait_seconds_total": "wait_s",
        "lockprof_estimated_overhead_seconds_total": "cost_s",
    }
    for line in text.splitlines():
        m = re.match(r"^(\w+)\{[^}]*\} (\S+)$", line)
        if m and m.group(1) in names:
            out[names[m.group(1)]] += float(m.group(2))
    return out


def reap_lockprof(prof, m):
    """Wait for lockprof to exit; put its peak RSS and its CPU share since the banner in m;
    raise RunError unless it exited 0."""
    rc, ru = prof.wait_rusage(EXIT_TIMEOUT)
    if rc != 0:
        raise RunError("lockprof %s: %s" % ("did not exit" if rc is None else "exit %d" % rc, prof.tail()))
    m["rss_mib"] = ru.ru_maxrss / 1024.0
    cpu = ru.ru_utime + ru.ru_stime - m["lp_cpu_at_banner"]
    m["lp_cpu_pct"] = 100.0 * max(0.0, cpu) / (time.monotonic() - m["lp_banner_at"])


def run_once(python, lockprof, workload, config, cython_dir):
    """Run workload under config once; return a dict of measurements or raise RunError."""
    argv = [python, WORKLOADS_PY, workload.name, "--ops", str(workload.ops), "--wrap", config.wrap]
    if config.wrap == "cython":
        argv += ["--cython-dir", cython_dir]
    phases = workload.phases
    target = Child(argv, stdin=True)
    prof = None
    try:
        if target.wait_line("out", lambda l: l.strip() == "ready", READY_TIMEOUT) is None:
            raise RunError("workload not ready: " + target.tail())
        m = {}
        if config.lockprof:
            t0 = time.monotonic()
            if config.serve:
                argv = [lockprof, "serve", "-p", str(target.pid), "--listen", "127.0.0.1:0"]
            else:
                argv = [lockprof, "-p", str(target.pid), "-f", "json"]
            prof = Child(argv + config.lockprof_args, stdin=False)
            banner = prof.wait_line("err", lambda l: BANNER_RE.match(l) is not None, BANNER_TIMEOUT)
            if banner is None:
                raise RunError("lockprof printed no banner: " + prof.tail())
            if config.serve:
                scraper = Scraper(SERVING_RE.search(banner).group(1))
            m["lp_banner_at"] = time.monotonic()
            m["attach_ms"] = (m["lp_banner_at"] - t0) * 1e3
            try:
                m["lp_cpu_at_banner"] = cpu_seconds(prof.pid)  # start-up (BPF load, attach) left out
            except (OSError, IndexError, ValueError):
                raise RunError("cannot read lockprof's CPU time: " + prof.tail())
        if phases:
            # The timed pass, then stop lockprof (it writes its report) and let the workload
            # time the loop again once lockprof and its probes are gone.
            target.send("go\n", close=False)
            if target.wait_line("out", lambda l: l.strip() == "detach", RUN_TIMEOUT) is None:
                raise RunError("workload did not finish its timed pass: " + target.tail())
            if prof:
                if config.serve:
                    m["served"] = scraper.stop()
                prof.proc.send_signal(signal.SIGINT)
                reap_lockprof(prof, m)
            target.send("detached\n")
        else:
            target.send("go\n")
        rc = target.wait(RUN_TIMEOUT)
        if rc != 0:
            raise RunError("workload %s: %s" % ("timed out" if rc is None else "exit %d" % rc, target.tail()))
        try:
            m["result"] = json.loads([l for l in target.out if l.startswith("{")][-1])
        except (IndexError, ValueError):
            raise RunError("workload printed no result: " + target.tail())
        if prof and config.serve:
            if not phases:  # lockprof serve keeps serving after the target exits
                m["served"] = scraper.stop()
                prof.proc.send_signal(signal.SIGTERM)
                reap_lockprof(prof, m)
            if m["served"] is None:
                raise RunError("lockprof serve: no /metrics: " + prof.tail())
        elif prof:
            if not phases:  # lockprof stops when the target exits
                reap_lockprof(prof, m)
            try:
                m["report"] = json.loads("".join(prof.out))
            except ValueError:
                raise RunError("lockprof output is not JSON: " + prof.tail())
        return m
    finally:
        target.kill()
        if prof:
            prof.kill()


def site_wait_ns(report, sites):
    """lockprof's wait (ns, count) in stacks that pass through one of the workload's sites."""
    wanted = set((f, l) for f, l in sites)
    total = count = 0
    for lock in report.get("locks", []):
        for stack in lock.get("stacks", []):
            if any((fr.get("file"), fr.get("line")) in wanted for fr in stack.get("frames", [])):
                total += stack.get("wait_ns", 0)
                count += stack.get("count", 0)
    return total, count


def probe_cost_ns(report, cost):
    """What lockprof's probes cost the target in a run: lockprof's own estimate (report
    "overhead": every hit at its calibrated trap cost plus the BPF time the programs measured
    in themselves), else the hits at calibrate()'s costs per call (two hits per call)."""
    overhead = report.get("overhead")
    if overhead:
        return overhead["estimated_ns"]
    calls = report.get("probe_hits", 0) / 2.0
    waits = min(calls, report.get("waits", 0))
    return waits * cost["wait"][0] + (calls - waits) * cost["free"][0]


def figures(m, workload, cost):
    """The per-run figures of a measurement m (run_once's result); cost: calibrate()'s."""
    res = m["result"]
    f = {
        "ns_op": res["ns_per_op"],
        "cpu_ns_op": res["cpu_ns_per_op"],
        "own_blocked": res["blocked"],
        "own_blocked_ns": res["blocked_ns"],
    }
    if "before_ns_per_op" in res:
        # The same process before "go" (lockprof not attached yet), during, and after it left.
        f["in_run_ratio"] = res["ns_per_op"] / res["before_ns_per_op"]
        f["after_ratio"] = res["after_ns_per_op"] / res["before_ns_per_op"]
    if "served" in m:
        served = served_figures(m["served"])
        f["hits_op"] = served["hits"] / float(res["ops"])
        f["est_ns_op"] = served["cost_s"] * 1e9 / float(res["ops"])
        f["attach_ms"] = m["attach_ms"]
        f["rss_mib"] = m["rss_mib"]
        f["lp_cpu_pct"] = m["lp_cpu_pct"]
        f["lp_waits"] = served["waits"]
        if workload.contended and res["blocked_ns"] > 0:
            # Every lock of the process, not the workload's sites only: an upper bound.
            f["wait_ratio"] = served["wait_s"] * 1e9 / float(res["blocked_ns"])
    if "report" in m:
        rep = m["report"]
        f["hits_op"] = rep.get("probe_hits", 0) / float(res["ops"])
        if cost:
            f["est_ns_op"] = probe_cost_ns(rep, cost) / float(res["ops"])
        if rep.get("overhead"):
            # The traps alone, at their calibrated cost: the floor no BPF work can lower.
            f["trap_ns_op"] = rep["overhead"]["trap_total_ns"] / float(res["ops"])
        f["attach_ms"] = m["attach_ms"]
        f["rss_mib"] = m["rss_mib"]
        f["lp_cpu_pct"] = m["lp_cpu_pct"]
        f["lp_waits"] = rep.get("waits")
        if workload.contended:
            ns, count = site_wait_ns(rep, res["sites"])
            f["lp_site_wait_ns"], f["lp_site_waits"] = ns, count
            if res["blocked_ns"] > 0:
                f["wait_ratio"] = ns / float(res["blocked_ns"])
    return f


def calibrate(python, lockprof, configs):
    """What lockprof's probes cost the thread that hits them, in ns per probed call (one
    entry and one return hit), from the probecost workload run with and without lockprof in
    alternation (workloads.probecost):

      free:  a sem_wait call whose entry finds the semaphore free;
      wait:  a sem_wait call that begins a wait: free plus the work of a wait that begins,
             measured on sem_timedwait (timed_wait - timed_free: same probe site);
      timed: a sem_timedwait call (timed acquires), for comparison.

    Returns ({name: (median, min, max), "runs": n}, None) or (None, why not)."""
    by_key = {c.key: c for c in configs}
    if by_key["lockprof"].na:
        return None, by_key["lockprof"].na
    costs, errors = {"free": [], "wait": [], "timed": []}, []
    for _ in range(CALIBRATION_PAIRS):
        try:
            plain = run_once(python, lockprof, PROBECOST, by_key["plain"], None)["result"]
            prof = run_once(python, lockprof, PROBECOST, by_key["lockprof"], None)["result"]
        except RunError as e:
            errors.append(str(e))
            continue
        d = {k: prof[k + "_ns_per_call"] - plain[k + "_ns_per_call"] for k in ("free", "timed_free", "timed_wait")}
        costs["free"].append(d["free"])
        costs["wait"].append(d["free"] + max(0.0, d["timed_wait"] - d["timed_free"]))
        costs["timed"].append(d["timed_free"])
    if not costs["free"]:
        return None, "calibration failed: " + errors[0][:200]
    out = {k: med_range(v) for k, v in costs.items()}
    out["runs"] = len(costs["free"])
    return out, None


# --------------------------------------------------------------------------
# Statistics and the table


def med_range(values):
    """(median, min, max) of the values, or None when there are none."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def fmt_num(v, digits):
    if v is None:
        return "-"
    if digits == "auto":
        a = abs(v)
        digits = 0 if a >= 100 else (1 if a >= 10 else (2 if a >= 1 else 3))
    text = "%.*f" % (digits, v)
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # no "-0"


def fmt_mr(mr, digits):
    """'median [min-max]'."""
    if mr is None:
        return "-"
    med, lo, hi = mr
    return "%s [%s-%s]" % (fmt_num(med, digits), fmt_num(lo, digits), fmt_num(hi, digits))


def summarize(runs, workloads, configs):
    """Per (workload, config) medians and ranges; ratios pair each run with its round's plain run."""
    out = {}
    for w in workloads:
        plain = runs.get((w.name, "plain"), {})
        for c in configs:
            rs = runs.get((w.name, c.key), {})  # round -> figures or error string
            good = {r: f for r, f in rs.items() if isinstance(f, dict)}
            errors = [e for e in rs.values() if isinstance(e, str)]
            ratios, deltas, est_ratios, trap_ratios = [], [], [], []
            for r, f in good.items():
                p = plain.get(r)
                if isinstance(p, dict):
                    ratios.append(f["ns_op"] / p["ns_op"])
                    deltas.append(f["ns_op"] - p["ns_op"])
                    if "est_ns_op" in f:
                        # The plain run slowed down by nothing but the probe cost of this run.
                        est_ratios.append((p["ns_op"] + f["est_ns_op"]) / p["ns_op"])
                    if "trap_ns_op" in f:
                        trap_ratios.append((p["ns_op"] + f["trap_ns_op"]) / p["ns_op"])
            out[(w.name, c.key)] = {
                "n": len(good),
                "errors": errors,
                "ns_op": med_range([f["ns_op"] for f in good.values()]),
                "ratio": med_range(ratios),
                "est_ratio": med_range(est_ratios),
                "trap_ratio": med_range(trap_ratios),
                "delta": med_range(deltas),
                "hits_op": med_range([f.get("hits_op") for f in good.values()]),
                "est_ns_op": med_range([f.get("est_ns_op") for f in good.values()]),
                "attach_ms": med_range([f.get("attach_ms") for f in good.values()]),
                "rss_mib": med_range([f.get("rss_mib") for f in good.values()]),
                "lp_cpu_pct": med_range([f.get("lp_cpu_pct") for f in good.values()]),
                "wait_ratio": med_range([f.get("wait_ratio") for f in good.values()]),
                "in_run_ratio": med_range([f.get("in_run_ratio") for f in good.values()]),
                "after_ratio": med_range([f.get("after_ratio") for f in good.values()]),
            }
    return out


COLUMNS = [
    ("workload", 19),
    ("configuration", 19),
    ("ns/op", 20),
    ("x plain", 17),
    ("+ns/op", 7),
    ("est +ns/op", 10),
    ("hits/op", 7),
    ("attach ms", 10),
    ("RSS MiB", 7),
    ("CPU %", 5),
    ("wait lp/own", 16),
]


def table(summary, workloads, configs):
    """The main table: one row per workload and configuration."""
    lines = []
    header = "  ".join(name.ljust(width) for name, width in COLUMNS).rstrip()
    lines += [header, "-" * len(header)]
    for w in workloads:
        for i, c in enumerate(configs):
            s = summary[(w.name, c.key)]
            first = w.label if i == 0 else ""
            if c.na or s["n"] == 0:
                why = c.na or ("failed: " + (s["errors"][0] if s["errors"] else "no run"))
                cells = [first, c.label, "n/a (%s)" % why[:100]]
            else:
                is_plain = c.key == "plain"
                cells = [
                    first,
                    c.label,
                    fmt_mr(s["ns_op"], "auto"),
                    "1" if is_plain else fmt_mr(s["ratio"], 2),
                    "0" if is_plain else fmt_num(s["delta"][0], 0),
                    fmt_num(s["est_ns_op"][0], 0) if s["est_ns_op"] else "-",
                    fmt_num(s["hits_op"][0], 3) if s["hits_op"] else "-",
                    "%s (%s)" % (fmt_num(s["attach_ms"][0], 0), fmt_num(s["attach_ms"][2], 0)) if s["attach_ms"] else "-",
                    fmt_num(s["rss_mib"][2], 1) if s["rss_mib"] else "-",
                    fmt_num(s["lp_cpu_pct"][0], 1) if s["lp_cpu_pct"] else "-",
                    fmt_mr(s["wait_ratio"], 2) if (w.contended and s["wait_ratio"]) else "-",
                ]
                if s["errors"]:
                    cells[-1] += "  (%d runs failed)" % len(s["errors"])
            lines.append("  ".join(str(v).ljust(width) for v, (_, width) in zip(cells, COLUMNS)).rstrip())
        lines.append("")
    return lines


LEGEND = """\
ns/op: wall time per op, median [min-max] over the rounds. Ops: hot loop, one `with lock: pass` (1M
  timed in chunks of 10k; the 10th-percentile chunk counts); 4 threads, one acquire/release; logging,
  one record; queue, one item put and got.
x plain: ns/op / ns/op of the plain run of the same round; +ns/op: the difference (median).
est +ns/op: lockprof's own estimate of its cost (report "overhead"), per op (median).
hits/op: lockprof probe hits per op. attach ms: lockprof start to banner, median (max). RSS MiB:
  lockprof's peak resident set, max. CPU %: lockprof's own CPU time from banner to exit over that time.
wait lp/own: lockprof's wait at the workload's timed blocking calls / the workload's own timing of
  those calls, which also counts re-taking the GIL after the lock is owned (lockprof stops there)."""


def mark(ok):
    return {True: "[MET]   ", False: "[MISSED]", None: "[n/a]   "}[ok]


def targets(summary, configs, workloads):
    """DESIGN.md section 5, each target beside the measured figure (medians over the rounds)."""
    by_key = {c.key: c for c in configs}
    names = {w.name for w in workloads}
    out = []

    def add(ok, what, measured):
        out.append("%s %-62s %s" % (mark(ok), what, measured))

    def get(wname, ckey, field):
        """summary[(wname, ckey)][field], or None when that was not measured."""
        if wname not in names or by_key[ckey].na:
            return None
        return summary[(wname, ckey)][field]

    def ratio_target(mr, limit, what, note=""):
        add(None if mr is None else mr[0] <= limit, what, "n/a" if mr is None else "%.3f [%.3f-%.3f]" % mr + note)

    # The plain runs time the same passes: their ratios show how far noise alone moves them.
    floor = get("hotloop", "plain", "in_run_ratio")
    floor_note = "" if floor is None else " (plain: %.3f [%.3f-%.3f])" % floor
    ratio_target(get("hotloop", "lockprof", "in_run_ratio"), 1.01,
                 "hot loop, contention mode, same process attached/before <= 1.01", floor_note)
    ratio_target(get("hotloop", "lockprof", "ratio"), 1.01,
                 "hot loop, contention mode, lockprof run/plain run <= 1.01")
    floor = get("hotloop", "plain", "after_ratio")
    floor_note = "" if floor is None else " (plain: %.3f [%.3f-%.3f])" % floor
    ratio_target(get("hotloop", "lockprof", "after_ratio"), 1.01,
                 "hot loop at full speed after lockprof exits: after/before <= 1.01", floor_note)

    r = get("contended", "lockprof", "ratio")
    est = get("contended", "lockprof", "est_ratio")
    add(None if r is None else 1.0 / r[0] >= 0.95, "4 threads, short critical sections: throughput >= 0.95x",
        "n/a" if r is None else "%.3fx [%.3f-%.3f]%s" % (
            1.0 / r[0], 1.0 / r[2], 1.0 / r[1], "" if est is None else "; from probe cost: %.3fx" % (1.0 / est[0])))

    # Zero tax (DESIGN section 5): contended and queue-heavy code, contention mode.
    # Beside each, what the traps alone cost (every probe hit at its calibrated price): a
    # floor that no work in BPF lowers, only fewer hits.
    def trap_note(wname):
        t = get(wname, "lockprof", "trap_ratio")
        return "" if t is None else "; traps alone %.3f" % t[0]

    for wname, limit in (("pingpong", 1.10), ("queue", 1.10), ("threadpool", 1.10)):
        label = next((w.label for w in workloads if w.name == wname), wname)
        ratio_target(get(wname, "lockprof", "ratio"), limit, "%s, contention mode: lockprof/plain <= %.2f" % (label, limit),
                     trap_note(wname))
    for wname in ("contended", "logging"):
        label = next((w.label for w in workloads if w.name == wname), wname)
        ratio_target(get(wname, "lockprof", "est_ratio"), 1.05, "%s: probe-cost estimate <= 1.05" % label,
                     trap_note(wname))

    r = get("hotloop", "full", "ratio")
    add(None if r is None else r[0] <= 1.05, "full mode --max-overhead 5: hot loop ratio <= 1.05",
        ("n/a: " + (by_key["full"].na or "not run")) if r is None else "%.3f [%.3f-%.3f]" % r)

    for w in workloads:
        if w.contended:
            r = get(w.name, "lockprof", "wait_ratio")
            add(None if r is None else abs(r[0] - 1.0) <= 0.05, "wait within 5%% of the workload's own: %s" % w.label,
                "n/a" if r is None else "%.3f [%.3f-%.3f] (own timing includes GIL re-take)" % r)

    # Honest self-accounting: where the slowdown clearly exceeds the noise (every round slower
    # than the plain processes' own spread), lockprof's estimate and the measured cost agree
    # within a factor of 1.5.
    floors = [get("hotloop", "plain", f) for f in ("in_run_ratio", "after_ratio")]
    noise = max((abs(v - 1.0) for f in floors if f for v in f[1:]), default=0.02)
    for w in workloads:
        for c in configs:
            if not c.lockprof or c.na:
                continue
            s = summary[(w.name, c.key)]
            if not s["n"] or not s["ratio"] or not s["est_ns_op"]:
                continue
            label = "%s, %s: estimate vs measured cost" % (w.label, c.label)
            if s["ratio"][1] <= 1.0 + noise:
                add(None, label, "slowdown within noise (%.3f [%.3f-%.3f]; est %.0f ns/op)"
                    % (s["ratio"] + (s["est_ns_op"][0],)))
                continue
            agree = s["est_ns_op"][0] / s["delta"][0] if s["delta"][0] > 0 else float("inf")
            add(1 / 1.5 <= agree <= 1.5, label + " within 1.5x",
                "est %.0f / measured %.0f ns/op = %.2f" % (s["est_ns_op"][0], s["delta"][0], agree))

    lp_cells = [summary[(w.name, c.key)] for w in workloads for c in configs if c.lockprof and not c.na]
    attach = [s["attach_ms"] for s in lp_cells if s["attach_ms"]]
    add(None if not attach else max(a[2] for a in attach) < 300, "attach: start to banner < 300 ms (every run)",
        "n/a" if not attach else "max %.0f ms, median %.0f ms" % (
            max(a[2] for a in attach), statistics.median(a[0] for a in attach)))

    rss = [s["rss_mib"] for s in lp_cells if s["rss_mib"]]
    add(None if not rss else max(x[2] for x in rss) < 30, "lockprof peak RSS < 30 MB",
        "n/a" if not rss else "max %.1f MiB in runs of a few seconds (not a 10-minute profile)" % max(
            x[2] for x in rss))

    refs = [c.label for c in configs if c.wrap != "none" and not c.na]
    add(None if not refs else True, "in-process wrapper references in the same run", ", ".join(refs) or "n/a")

    # How far timing noise alone moves a ratio here: the plain runs' own same-process ratios.
    floors = [get("hotloop", "plain", f) for f in ("in_run_ratio", "after_ratio")]
    hits = get("hotloop", "lockprof", "hits_op")
    if None not in floors:
        spread = max(abs(v - 1.0) for f in floors for v in f[1:])
        out.append("")
        out.append("Noise: in this run the plain processes' own passes of the same loop differ by up to %.0f%%."
                   % (100 * spread))
        if spread > 0.01:
            out.append("That is more than the 1% the ratio targets allow: their marks follow the medians and are")
            out.append("no firmer than that. Exact: lockprof probe hits per hot-loop op, at most %s in any run."
                       % ("n/a" if hits is None else "%.4f" % hits[2]))
    return out


# --------------------------------------------------------------------------


def make_configs(info, lockprof):
    """The configurations, in the order they alternate; those that cannot run here say why."""
    cython_dir, cython_na = build_cython(info)
    lp_na = None
    if not os.access(lockprof, os.X_OK):
        lp_na = "no lockprof binary at %s: run make" % lockprof
    elif os.geteuid() != 0:
        lp_na = "lockprof needs root: sudo make bench"
    full_args, full_na = None, lp_na
    if not lp_na:
        helptext = subprocess.run([lockprof, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout
        if re.search(rb"\bfull\b", helptext):
            full_args = ["-m", "full"] + (["--max-overhead", "5"] if b"--max-overhead" in helptext else [])
        else:
            full_na = "this lockprof has no -m full"
    configs = [
        Config("plain", "plain"),
        Config("python", "python proxy 1%", wrap="python"),
        Config("cython", "cython proxy 1%", wrap="cython", na=cython_na),
        Config("lockprof", "lockprof contention", lockprof_args=None if lp_na else [], na=lp_na),
        Config("full", "lockprof full", lockprof_args=full_args, na=full_na),
        Config("serve", "lockprof serve", lockprof_args=None if lp_na else [], na=lp_na, serve=True),
    ]
    return configs, cython_dir


def bench_python(python, lockprof, workloads, rounds, budget_s):
    """Run the rounds for one interpreter; return (lines to print, raw results)."""
    started = time.monotonic()
    info = python_info(python)
    load_start = os.getloadavg()
    configs, cython_dir = make_configs(info, lockprof)
    runnable = [c for c in configs if not c.na]
    log("%s: %s" % (describe_python(info), "; ".join("%s n/a (%s)" % (c.label, c.na) for c in configs if c.na)))
    cost, cost_na = calibrate(python, lockprof, configs)

    runs = {}  # (workload, config key) -> {round: figures dict or error string}
    broken = {}  # config key -> first-round error that makes more runs pointless
    rounds_done, round_times = 0, []
    for rnd in range(rounds):
        if rnd >= MIN_ROUNDS and time.monotonic() - started + max(round_times) > budget_s:
            log("stopping after %d rounds to stay within %.0f s" % (rnd, budget_s))
            break
        t_round = time.monotonic()
        for w in workloads:
            for c in runnable:
                if c.key in broken:
                    continue
                try:
                    m = run_once(python, lockprof, w, c, cython_dir)
                    runs.setdefault((w.name, c.key), {})[rnd] = figures(m, w, cost)
                except RunError as e:
                    runs.setdefault((w.name, c.key), {})[rnd] = str(e)
                    log("%s / %s, round %d: %s" % (w.name, c.label, rnd + 1, e))
                    if rnd == 0 and c.lockprof:
                        broken[c.key] = str(e)  # e.g. this interpreter is not supported
        rounds_done = rnd + 1
        round_times.append(time.monotonic() - t_round)
        log("%s: round %d/%d done in %.0f s" % (info["version"], rounds_done, rounds, round_times[-1]))
    for c in configs:
        if c.key in broken:
            c.na = "failed: " + broken[c.key][:100]

    summary = summarize(runs, workloads, configs)
    elapsed = time.monotonic() - started
    lines = [
        "lockprof bench: %s" % describe_python(info),
        "%d rounds, the configurations in alternation, %.0f s; load average %.2f at start, %.2f at end"
        % (rounds_done, elapsed, load_start[0], os.getloadavg()[0]),
        "probe cost: "
        + (
            "%s us per sem_wait that begins a wait, %s us per sem_wait that finds the semaphore free"
            " (%s us per timed sem_timedwait); entry and return probe, ctypes calibration, median [min-max] of"
            " %d pairs of runs" % (
                fmt_mr([v / 1e3 for v in cost["wait"]], 1),
                fmt_mr([v / 1e3 for v in cost["free"]], 1),
                fmt_mr([v / 1e3 for v in cost["timed"]], 1),
                cost["runs"],
            )
            if cost
            else "n/a (%s)" % (cost_na or "lockprof cannot run here")
        ),
        "",
    ]
    lines += table(summary, workloads, configs)
    lines += LEGEND.splitlines()
    lines += ["", "DESIGN section 5 targets (%s):" % describe_python(info)]
    lines += [("  " + l) if l else "" for l in targets(summary, configs, workloads)]
    lines += [""] + program_costs(python, lockprof, workloads, configs, cython_dir)
    raw = {
        "python": info,
        "rounds": rounds_done,
        "elapsed_s": elapsed,
        "configs": {c.key: c.na for c in configs},
        "probe_cost_ns": cost,
        "runs": {"%s/%s" % k: v for k, v in runs.items()},
    }
    return lines, raw, any(s["n"] for s in summary.values())


BPF_STATS = "/proc/sys/kernel/bpf_stats_enabled"


@contextlib.contextmanager
def bpf_stats_on():
    """kernel.bpf_stats_enabled set to 1 for the block, then restored (OSError: cannot)."""
    with open(BPF_STATS) as f:
        before = f.read().strip()
    with open(BPF_STATS, "w") as f:
        f.write("1")
    try:
        yield
    finally:
        with open(BPF_STATS, "w") as f:
            f.write(before)


def program_costs(python, lockprof, workloads, configs, cython_dir):
    """Each workload once more under lockprof (contention mode) with kernel.bpf_stats_enabled
    set (and restored): every BPF program's runs per op and mean run time, and the BPF time
    per contended wait; lines to print."""
    lp = [c for c in configs if c.key == "lockprof" and not c.na]
    if not lp:
        return ["BPF program costs: n/a (lockprof cannot run here)"]
    lines = ["BPF programs (kernel.bpf_stats_enabled, one run per workload, contention mode): runs per op,"
             " mean ns per run; per wait: all programs' ns over the report's waits (contended and idle)"]
    try:
        with bpf_stats_on():
            for w in workloads:
                lines += program_lines(python, lockprof, w, lp[0], cython_dir)
    except OSError as e:
        return ["BPF program costs: n/a (%s: %s)" % (BPF_STATS, e)]
    return lines


def target_programs(report):
    """The report's BPF programs but lockprof's calibration ones, which run in lockprof's own
    process at start-up (timing a probe hit), never for the target or anyone else."""
    return [p for p in report.get("bpf_programs", {}).get("programs", []) if not p["name"].startswith("calibration_")]


PINGPONG_BPF_US = 1.5  # mean BPF time per contended wait in the ping-pong, blame included


def program_lines(python, lockprof, w, config, cython_dir):
    """One workload's lines of program_costs()."""
    try:
        m = run_once(python, lockprof, w, config, cython_dir)
    except RunError as e:
        return ["  %-20s n/a (%s)" % (w.label, str(e)[:100])]
    rep, ops = m["report"], float(m["result"]["ops"])
    programs = target_programs(rep)
    ran = [p for p in programs if p["runs"]]
    waits = (rep.get("waits") or 0) + (rep.get("idle_waits") or 0)
    total_ns = sum(p["run_ns"] for p in ran)
    per_wait = "%.2f us of BPF per wait (%d waits, idle ones included)" % (total_ns / 1e3 / waits, waits) if waits else "no waits"
    if w.name == "pingpong" and waits:
        # DESIGN section 5: every operation a contended handoff, blame included.
        per_wait += "; target <= %.1f us: %s" % (PINGPONG_BPF_US, mark(total_ns / 1e3 / waits <= PINGPONG_BPF_US))
    tracepoints = sum(1 for p in programs if p["type"] == "raw_tracepoint")
    lines = ["  %-20s %s; raw tracepoint programs: %d" % (w.label, per_wait, tracepoints)]
    for p in sorted(ran, key=lambda p: -p["run_ns"]):
        lines.append("      %-26s %9.4f runs/op  %7.0f ns/run" % (p["name"], p["runs"] / ops, p["run_ns"] / float(p["runs"])))
    return lines


NEIGHBOR_ROUNDS = 7
NEIGHBOR_COUNT = 2000000  # dd blocks of 64 bytes: about one syscall pair each


def neighbor(python, lockprof, rounds=NEIGHBOR_ROUNDS):
    """A syscall-bound process (dd with 64-byte blocks) beside an idle target, timed with and
    without lockprof attached to the target, in alternation; with kernel.bpf_stats_enabled on
    for the attached runs, the runs of lockprof's programs (the neighbor's share must be 0)."""
    target = Child([python, "-c", "import sys; print('ready', flush=True); sys.stdin.readline()"], stdin=True)
    dd = ["dd", "if=/dev/zero", "of=/dev/null", "bs=64", "count=%d" % NEIGHBOR_COUNT]
    times = {"off": [], "on": []}
    runs = 0
    try:
        stats = bpf_stats_on()
        stats.__enter__()
    except OSError as e:
        target.kill()
        return ["neighbor: n/a (%s: %s)" % (BPF_STATS, e)]
    try:
        if target.wait_line("out", lambda l: l.strip() == "ready", READY_TIMEOUT) is None:
            return ["neighbor: n/a (target did not start)"]
        for _ in range(rounds):
            for state in ("off", "on"):
                prof = None
                if state == "on":
                    prof = Child([lockprof, "-p", str(target.pid), "-f", "json"], stdin=False)
                    if prof.wait_line("err", lambda l: BANNER_RE.match(l) is not None, BANNER_TIMEOUT) is None:
                        prof.kill()
                        return ["neighbor: n/a (lockprof printed no banner: %s)" % prof.tail()]
                t0 = time.monotonic()
                subprocess.run(dd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                times[state].append(time.monotonic() - t0)
                if prof:
                    prof.proc.send_signal(signal.SIGINT)
                    prof.wait(EXIT_TIMEOUT)
                    try:
                        rep = json.loads("".join(prof.out))
                        runs += sum(p["runs"] for p in target_programs(rep))
                    except ValueError:
                        pass
    except (OSError, subprocess.SubprocessError) as e:
        return ["neighbor: n/a (%s)" % e]
    finally:
        stats.__exit__(None, None, None)
        target.kill()
    ratios = [on / off for on, off in zip(times["on"], times["off"])]
    return ["neighbor (dd bs=64 count=%d beside an idle profiled target, %d rounds in alternation):"
            % (NEIGHBOR_COUNT, rounds),
            "  lockprof on/off %s (off %s s); lockprof program runs while attached: %d" % (fmt_mr(med_range(ratios), 3), fmt_mr(med_range(times["off"]), 2),
                                                  runs)]


LINK_ROUNDS = 7
LINK_KINDS = (("uprobe_multi", None), ("perf", "perf"))  # LOCKPROF_UPROBE_LINKS value


def link_latency(python, lockprof, rounds=LINK_ROUNDS):
    """Start (to the banner: probes live) and stop (SIGINT to exit) of lockprof on an idle target
    with 4 threads, both ways of attaching uprobes in alternation; lines to print."""
    times = {kind: {"start": [], "stop": []} for kind, _ in LINK_KINDS}
    target = Child([python, "-c", "import sys, threading\n"
                    "for _ in range(4): threading.Thread(target=sys.stdin.readline, daemon=True).start()\n"
                    "print('ready', flush=True); sys.stdin.readline()"], stdin=True)
    try:
        if target.wait_line("out", lambda l: l.strip() == "ready", READY_TIMEOUT) is None:
            return ["attach/detach: n/a (target did not start: %s)" % target.tail()]
        for _ in range(rounds):
            for kind, env_value in LINK_KINDS:
                env = dict(os.environ)
                env.pop("LOCKPROF_UPROBE_LINKS", None)
                if env_value:
                    env["LOCKPROF_UPROBE_LINKS"] = env_value
                t0 = time.monotonic()
                prof = subprocess.Popen([lockprof, "-p", str(target.pid), "-f", "json", "-v"], env=env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                started = None
                for raw in iter(prof.stderr.readline, b""):
                    line = raw.decode(errors="replace")
                    if env_value is None and "attaching uprobes with" in line and "uprobe_multi links" not in line:
                        prof.kill()
                        prof.wait()
                        return ["attach/detach: n/a (%s)" % line.strip()]
                    if BANNER_RE.match(line):
                        started = time.monotonic()
                        break
                if started is None:
                    prof.kill()
                    prof.wait()
                    return ["attach/detach: n/a (lockprof printed no banner)"]
                prof.send_signal(signal.SIGINT)
                prof.stderr.read()
                prof.wait(EXIT_TIMEOUT)
                times[kind]["start"].append((started - t0) * 1e3)
                times[kind]["stop"].append((time.monotonic() - started) * 1e3)
    finally:
        target.kill()
    multi, perf = times["uprobe_multi"], times["perf"]
    lines = ["attach/detach (lockprof -p on an idle 4-thread target, ms, median [min-max] of %d, "
             "in alternation; stop = SIGINT to exit, report included):" % rounds]
    for kind, _ in LINK_KINDS:
        lines.append("  %-13s start %-22s stop %s" % (kind, fmt_mr(med_range(times[kind]["start"]), 0),
                                                      fmt_mr(med_range(times[kind]["stop"]), 0)))
    lines.append("  perf / uprobe_multi: start %.1fx, stop %.1fx" % (
        statistics.median(perf["start"]) / statistics.median(multi["start"]),
        statistics.median(perf["stop"]) / statistics.median(multi["stop"])))
    return lines


HTML_STACKS = 10000
HTML_ROUNDS = 5
HTML_MAX_BYTES = 5 * 1024 * 1024
HTML_MAX_S = 2.0


DUMP_THREADS = 100
DUMP_ROUNDS = 9


def dump_latency(python, lockprof, rounds=DUMP_ROUNDS):
    """`lockprof dump` of a busy process of DUMP_THREADS threads (tests/targets/busy_threads.py,
    which checks itself afterwards): wall time per dump, target < 1 s."""
    target = os.path.join(REPO, "tests", "targets", "busy_threads.py")
    proc = subprocess.Popen([python, target, "--threads", str(DUMP_THREADS), "--seconds", "0"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    times, failures = [], 0
    try:
        if proc.stdout.readline().strip() != "ready":
            return ["dump: the busy target did not start"]
        for _ in range(rounds):
            t0 = time.monotonic()
            cp = subprocess.run([lockprof, "dump", "-p", str(proc.pid), "-f", "json"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
            times.append(time.monotonic() - t0)
            failures += cp.returncode != 0
            time.sleep(0.2)
        proc.stdin.write("stop\n")
        proc.stdin.close()
        out = proc.stdout.read()
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ok = '"ok": true' in out
    return ["dump of a busy %d-thread process (%d dumps): %.0f ms median, %.0f ms max; target < 1 s: %s; "
            "failed dumps %d; the target's self-check after them: %s"
            % (DUMP_THREADS, rounds, 1000 * statistics.median(times), 1000 * max(times),
               mark(max(times) < 1.0).strip(), failures, "passed" if ok else "FAILED")]


def html_render(rounds=HTML_ROUNDS):
    """-f html at scale: the page of a synthetic 10,000-stack profile (tests/unit/gen_html_report.c),
    its size, and the time headless Chromium takes from navigation start to the page's flame graph
    drawn (performance.now() after the page's own script), median over rounds. Returns (lines, raw)."""
    sys.path.insert(0, os.path.join(REPO, "tests", "functional"))
    import browser  # noqa: E402 (the tests' Chromium driver, stdlib only)

    head = "HTML report, %s distinct stacks (synthetic, 40 locks, 8-40 frames):" % format(HTML_STACKS, ",")
    gen = os.path.join(REPO, ".output", "tests", "gen_html_report")
    if not browser.chromium():
        return [head + " n/a (chromium not installed)"], None
    if not os.access(gen, os.X_OK):
        return [head + " n/a (%s not built: make %s)" % (gen, os.path.relpath(gen, REPO))], None
    os.makedirs(BUILD_DIR, exist_ok=True)
    page = os.path.join(BUILD_DIR, "html-10k.html")
    subprocess.run([gen, str(HTML_STACKS), page], check=True)
    size = os.path.getsize(page)
    drawn, walls = [], []
    for _ in range(rounds):
        r, wall = browser.check_page(page, "window.lpResult = {drawn: lockprof.frames().length};", BUILD_DIR)
        if r.get("errors"):
            return [head + " the page failed: %s" % r["errors"]], None
        drawn.append(r["rendered_ms"] / 1000.0)
        walls.append(wall)
    mr, wr = med_range(drawn), med_range(walls)
    lines = [
        head,
        "  file        %s MB    target < %d MiB: %s" % (fmt_num(size / 1e6, 2), HTML_MAX_BYTES // 2**20, mark(size < HTML_MAX_BYTES)),
        "  rendered    %s s     target < %g s: %s  (navigation start to flame graph drawn; median [min-max] of %d: %s)"
        % (fmt_num(mr[0], 2), HTML_MAX_S, mark(mr[0] < HTML_MAX_S), rounds, fmt_mr(mr, 2)),
        "  browser     %s s     (headless Chromium start to exit, median)" % fmt_num(wr[0], 2),
    ]
    return lines, {"bytes": size, "rendered_s": drawn, "browser_s": walls}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--python",
        default=os.environ.get("BENCH_PYTHON") or "/usr/bin/python3",
        help="interpreter(s) under test, colon-separated: one table each (default /usr/bin/python3)",
    )
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS") or 11),
                    help="rounds (default 11; past %d, fewer when the time budget runs out)" % MIN_ROUNDS)
    ap.add_argument("--workloads", help="comma-separated subset of " + ",".join(w.name for w in WORKLOADS))
    ap.add_argument("--lockprof", default=os.environ.get("LOCKPROF") or os.path.join(REPO, "lockprof"))
    ap.add_argument("--json", default=os.path.join(BUILD_DIR, "results.json"), help="raw results go here")
    args = ap.parse_args()

    workloads = WORKLOADS
    if args.workloads:
        keep = args.workloads.split(",")
        workloads = [w for w in WORKLOADS if w.name in keep]
    pythons = [p for p in args.python.split(":") if p]
    started = time.monotonic()
    machine = machine_info()
    print("machine: %d CPUs, %s, %s GiB RAM, Linux %s" % (
        machine["nproc"], machine["cpu"], fmt_num(machine["mem_gib"], 1), machine["kernel"]))
    raw = {"machine": machine, "tables": []}
    measured = False
    for i, python in enumerate(pythons):
        # Share what is left of the budget between the interpreters still to run.
        budget = (BUDGET_S - (time.monotonic() - started)) / (len(pythons) - i)
        try:
            lines, one, ok = bench_python(python, args.lockprof, workloads, args.rounds, budget)
        except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as e:
            print("\nlockprof bench: %s: cannot run: %s" % (python, e))
            continue
        measured = measured or ok
        raw["tables"].append(one)
        print("")
        print("\n".join(lines))
        sys.stdout.flush()
    if pythons:
        print("")
        print("\n".join(link_latency(pythons[0], args.lockprof)))
        print("")
        print("\n".join(neighbor(pythons[0], args.lockprof)))
        print("")
        print("\n".join(dump_latency(pythons[0], args.lockprof)))
    try:
        lines, raw["html"] = html_render()
    except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as e:
        lines = ["HTML report: cannot measure: %s" % e]
    print("")
    print("\n".join(lines))
    print("\n%.0f s in all" % (time.monotonic() - started))

    try:
        os.makedirs(os.path.dirname(args.json), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)
    except OSError as e:
        log("cannot write %s: %s" % (args.json, e))
    if not measured:
        print("bench: nothing could be measured (see the messages above)")
    return 0  # a benchmark reports; it does not fail


if __name__ == "__main__":
    sys.exit(main())
