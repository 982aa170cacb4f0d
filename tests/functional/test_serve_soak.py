"""lockprof serve for a long run with processes, threads and locks coming and going (root).

Run by `make soak-serve SOAK_SECONDS=1200` (and `make soak`); skipped unless
LOCKPROF_SOAK_SECONDS is set. lockprof serve --all and the churn workload
(tests/targets/soak_churn.py) run in a PID namespace of their own, so that
--all sees the workload's processes only. The test scrapes like a fleet would
(/metrics every 5 s, the cumulative mutex profile every 15 s, a ?seconds=5
delta every minute) and samples lockprof's RSS and open file descriptors
every 30 s. It asserts: RSS flat within 10% after the warm-up (a quarter of
the run, at most 5 minutes) while processes churn (the median of the last
third of the samples against that of the first), and no higher once they
are gone; as many descriptors at the end as at the start,
with only the parent process alive both times; no lockprof error; at most
--max-series + 1 lock series per process. Exited processes are kept 60 s
(--retain-exited 60), so that the store reaches its steady state within the
warm-up. It prints the table.
"""

import os
import re
import signal
import statistics
import subprocess
import time
import urllib.request

import pytest

from conftest import LOCKPROF, target_path
from proctools import children, wait_until
from test_serve import SERVING_RE, get, newest_python

SECONDS = float(os.environ.get("LOCKPROF_SOAK_SECONDS", "0"))
QUIET_S = 20  # the workload's parent alone, at the start and at the end
SAMPLE_S = 30
FLAT = 0.10


def metric(text, name):
    """The value of an unlabelled metric in a /metrics text."""
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def status(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children(p):
            out.append(c)
            todo.append(c)
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


@pytest.mark.skipif(not SECONDS, reason="the soak runs with make soak-serve (LOCKPROF_SOAK_SECONDS)")
def test_serve_soak(root, procs, tmp_path):
    python = newest_python()
    work_s = max(SECONDS - 2 * QUIET_S, 30)
    warmup_s = min(300.0, SECONDS / 4)
    script = (
        "%s %s --seconds %d --quiet-s %d --gen-dir %s & "
        "%s serve --all --listen 127.0.0.1:0 --retain-exited 60 -v 2>&1 | grep --line-buffered -v 'probe hits' >&2; wait"
        % (python.path, target_path("soak_churn.py"), work_s, QUIET_S, tmp_path / "gen", LOCKPROF)
    )
    ns = procs.spawn(["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "sh", "-c", script], stdin=False)
    line = ns.wait_line("stderr", lambda l: SERVING_RE.search(l) is not None, 60)
    assert line, "lockprof serve did not start\n%s" % ns.describe()
    url = SERVING_RE.search(line).group(1)
    lp = wait_until(lambda: [p for p in descendants(ns.pid) if comm(p) == "lockprof"], 10)
    assert lp, "no lockprof process under the namespace"
    lp = lp[0]
    assert ns.wait_line("stdout", lambda l: l.strip() == "ready", 60), ns.describe()

    def scrape():
        return get(url + "/metrics")[1].decode()

    def profiled_alone():
        return metric(scrape(), "lockprof_processes_profiled") == 1

    assert wait_until(profiled_alone, QUIET_S, step=0.5), "the parent alone was never profiled\n%s" % scrape()
    fds_start, rss_start = nfds(lp), status(lp, "VmRSS")
    t0 = time.monotonic()
    rows = [(0.0, rss_start, fds_start, 1, 0)]
    next_sample, next_mutex, next_delta = t0 + SAMPLE_S, t0, t0 + 60
    done = False
    while not done:
        text = scrape()
        now = time.monotonic()
        if now >= next_mutex:
            assert get(url + "/debug/pprof/mutex")[0] == 200
            next_mutex = now + 15
        if now >= next_delta:
            assert get(url + "/debug/pprof/mutex?seconds=5", timeout=20)[0] == 200
            next_delta = now + 60
        if now >= next_sample:
            rows.append(
                (
                    now - t0,
                    status(lp, "VmRSS"),
                    nfds(lp),
                    int(metric(text, "lockprof_processes_profiled") or 0),
                    int(metric(text, "lockprof_processes_attached_total") or 0),
                )
            )
            next_sample += SAMPLE_S
        done = any(l.strip() == "children done" for l in ns.out_lines)
        if not done:
            time.sleep(5)
    assert wait_until(profiled_alone, 30, step=0.5), "the children were never all dropped\n%s" % scrape()
    text = scrape()
    fds_end, rss_end = nfds(lp), status(lp, "VmRSS")
    rows.append((time.monotonic() - t0, rss_end, fds_end, 1, int(metric(text, "lockprof_processes_attached_total"))))
    os.kill(lp, signal.SIGTERM)
    assert ns.wait(30) is not None, "lockprof did not stop\n%s" % ns.describe()

    print("\nlockprof serve --all soak: %.0f s, warm-up %.0f s" % (rows[-1][0], warmup_s))
    print("%8s %10s %5s %10s %9s" % ("t (s)", "RSS (kB)", "fds", "processes", "attached"))
    for t, rss, fds, live, attached in rows:
        print("%8.0f %10d %5d %10d %9d" % (t, rss, fds, live, attached))
    # Flat while the processes churn: the median RSS of the last third of the samples after the
    # warm-up against that of the first third. One sample moves with how many processes live
    # and whether one is being attached just then (a BPF load's buffers, freed after it).
    settled = [r[1] for r in rows[:-1] if r[0] >= warmup_s]
    third = max(len(settled) // 3, 1)
    early, late = statistics.median(settled[:third]), statistics.median(settled[-third:])
    print(
        "after warm-up: RSS median %d kB (first third) -> %d kB (last third), %+.1f%%, samples "
        "%d..%d kB; at the end, the parent alone: %d kB; fds %d at the start, %d at the end"
        % (early, late, 100.0 * (late - early) / early, min(settled), max(settled), rss_end, fds_start, fds_end)
    )
    series = re.findall(r'^lockprof_lock_waits_total\{pid="(\d+)"', text, re.M)
    per_proc = max((series.count(p) for p in set(series)), default=0)
    assert rows[-1][4] >= 10, "too few processes came and went: %d" % rows[-1][4]
    assert metric(text, "lockprof_errors_total") == 0, text
    assert per_proc <= 100 + 1, "%d lock series for one process" % per_proc
    assert abs(late - early) <= FLAT * early, "RSS not flat after the warm-up: %s" % settled
    assert rss_end <= late, "RSS at the end %d kB, above the churn's %d" % (rss_end, late)
    assert fds_end <= fds_start, "file descriptors grew: %d -> %d" % (fds_start, fds_end)
