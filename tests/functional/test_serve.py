"""lockprof serve with the real clients (root; the newest pyenv-style interpreter only).

- Debian's Prometheus, started on a free loopback port and scraping lockprof
  serve -p A,B every second: its HTTP query API gives each process's wait
  seconds for the lock within 5% of what the workload measured itself, one
  series per pid.
- go tool pprof over HTTP on /debug/pprof/mutex?seconds=N (Go's delta
  contract): the waits inside the window within 5% of the workload's own
  figure, and none of those before it.
- SIGTERM while a ?seconds=30 request waits: the request is answered 503,
  lockprof exits 0 within 5 s and leaves no BPF object or breakpoint behind;
  bad requests get 400, 404, 405.
- A --listen address in use: exit code 9 before anything is attached.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import LOCKPROF, start_target, supported_interpreters
from proctools import bpf_ids, breakpoints, live_bpf_ids, wait_until

SERVING_RE = re.compile(r"serving (http://127\.0\.0\.1:\d+)/metrics")
TOLERANCE = 0.05
STARTUP_TIMEOUT = 30.0


def newest_python():
    found = [i for i in supported_interpreters() if i.launcher.name == "exec" and not i.freethreaded]
    if not found:
        pytest.skip("no supported CPython found")
    return max(found, key=lambda i: i.version)


@pytest.fixture
def newest():
    return newest_python()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(procs, pids, args=()):
    """lockprof serve -p pids on an ephemeral loopback port; its base URL once the probes are live."""
    lp = procs.spawn(
        [LOCKPROF, "serve", "-p", ",".join(str(p) for p in pids), "--listen", "127.0.0.1:0", "-v"] + list(args),
        stdin=False,
    )
    line = lp.wait_line("stderr", lambda l: SERVING_RE.search(l) is not None, STARTUP_TIMEOUT)
    if line is None:
        lp.kill()
        pytest.fail("lockprof serve did not start\n%s" % lp.describe())
    return lp, SERVING_RE.search(line).group(1)


def run_batch(target, rounds):
    """Runs rounds of contention in the target; its own figures for them."""
    target.send("run %d\n" % rounds)
    line = target.wait_line("stdout", lambda l: l.startswith("{"), 60)
    assert line, "target gave no batch result\n%s" % target.describe()
    return json.loads(line)


def get(url, timeout=10):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def within(measured, truth):
    return abs(measured - truth) <= TOLERANCE * truth


def test_serve_prometheus_two_processes(root, procs, newest, tmp_path):
    if not shutil.which("prometheus"):
        pytest.skip("Debian's prometheus is not installed (make deps)")
    targets = [start_target(procs, newest, "serve_rounds.py") for _ in range(2)]
    lp, url = start_serve(procs, [t.pid for t in targets])
    prom_port = free_port()
    (tmp_path / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: lockprof\n    static_configs:\n"
        "      - targets: ['%s']\n" % url[len("http://") :]
    )
    prom = procs.spawn(
        [
            "prometheus",
            "--config.file=%s" % (tmp_path / "prometheus.yml"),
            "--storage.tsdb.path=%s" % (tmp_path / "data"),
            "--web.listen-address=127.0.0.1:%d" % prom_port,
            "--log.level=warn",
        ],
        stdin=False,
    )
    api = "http://127.0.0.1:%d" % prom_port
    assert wait_until(lambda: get_quiet(api + "/-/ready") == 200, 30), "prometheus not ready\n%s" % prom.describe()
    truth = {t.pid: run_batch(t, n) for t, n in zip(targets, (30, 15))}
    query = api + "/api/v1/query?query=" + urllib.request.quote('lockprof_lock_wait_seconds_total{lock="served_lock"}')

    def scraped():
        status, body = get(query)
        if status != 200:
            return None
        result = json.loads(body)["data"]["result"]
        got = {int(r["metric"]["pid"]): (r["metric"], float(r["value"][1])) for r in result}
        # Each process's counter once it holds the whole batch (scrapes trail by up to 2 s).
        if set(got) == set(truth) and all(got[p][1] >= 0.9 * truth[p]["wait_ns"] / 1e9 for p in truth):
            return got
        return None

    got = wait_until(scraped, 20, step=0.5)
    print("prometheus query %s ->" % query)
    print(json.dumps(json.loads(get(query)[1])["data"]["result"], indent=1))
    print("workload truth: %s" % {p: r["wait_ns"] / 1e9 for p, r in truth.items()})
    assert got, "prometheus never had both processes' served_lock\n%s\n%s" % (get(query), lp.describe())
    for pid, result in truth.items():
        metric, seconds = got[pid]
        assert metric["comm"] and metric["kind"] == "contention", metric
        assert within(seconds, result["wait_ns"] / 1e9), "pid %d: prometheus %.4f s, workload %.4f s" % (
            pid,
            seconds,
            result["wait_ns"] / 1e9,
        )
    status, body = get(
        api + "/api/v1/query?query=" + urllib.request.quote('lockprof_lock_waits_total{lock="served_lock"}')
    )
    waits = {int(r["metric"]["pid"]): float(r["value"][1]) for r in json.loads(body)["data"]["result"]}
    assert waits == {p: float(r["waits"]) for p, r in truth.items()}, waits


def get_quiet(url):
    try:
        return get(url, timeout=2)[0]
    except OSError:
        return None


def pprof_raw_samples(text):
    """[(contentions, delay, labels)] of go tool pprof -raw's samples."""
    samples, lines = [], text.splitlines()
    i = lines.index("Samples:") + 2 if "Samples:" in lines else len(lines)
    while i < len(lines) and lines[i].strip() and not lines[i].startswith("Locations"):
        m = re.match(r"\s+(\d+)\s+(\d+):", lines[i])
        labels = lines[i + 1] if i + 1 < len(lines) else ""
        if m:
            samples.append((int(m.group(1)), int(m.group(2)), labels))
        i += 1
    return samples


def test_serve_pprof_delta_over_http(root, procs, newest, tmp_path):
    go = shutil.which("go")
    if not go:
        pytest.skip("go (golang-go) is not installed (make deps)")
    target = start_target(procs, newest, "serve_rounds.py")
    lp, url = start_serve(procs, [target.pid])
    before = run_batch(target, 10)  # before the window: must not be in the delta
    seconds = 6
    env = dict(os.environ, HOME=str(tmp_path), PPROF_TMPDIR=str(tmp_path))
    pprof = procs.spawn([go, "tool", "pprof", "-raw", "%s/debug/pprof/mutex?seconds=%d" % (url, seconds)], env=env)
    started = lp.wait_line("stderr", lambda l: "delta profile started" in l, 20)
    assert started, "lockprof never got the ?seconds request\n%s\n%s" % (pprof.describe(), lp.describe())
    inside = run_batch(target, 20)
    assert pprof.wait(seconds + 30) == 0, pprof.describe()
    print(pprof.stdout)
    print("workload truth: before the window %s, inside %s" % (before, inside))
    samples = [s for s in pprof_raw_samples(pprof.stdout) if "lock name:[served_lock]" in s[2]]
    assert samples, "no served_lock sample\n%s" % pprof.describe()
    count, delay = sum(s[0] for s in samples), sum(s[1] for s in samples)
    assert "pid:[%d]" % target.pid in samples[0][2], samples
    assert count == inside["waits"], "%d waits in the window, the workload had %d there (and %d before)" % (
        count,
        inside["waits"],
        before["waits"],
    )
    assert within(delay, inside["wait_ns"]), "delay %d ns, workload %d ns in the window" % (delay, inside["wait_ns"])
    assert "serve_rounds.py:%d" % inside["wait_line"] in pprof.stdout, "the waiting line is not in the stacks"


def test_serve_sigterm_mid_request_and_bad_requests(root, procs, newest):
    target = start_target(procs, newest, "serve_rounds.py")
    lp, url = start_serve(procs, [target.pid])
    assert wait_until(lambda: breakpoints(target.pid), 5), "no probe in the target"
    ids = bpf_ids(lp.pid)
    assert ids["prog"], "lockprof holds no BPF program"
    # Refusals: never a state change, never a crash.
    assert get(url + "/nope")[0] == 404
    assert get(url + "/debug/pprof/mutex?seconds=abc")[0] == 400
    assert get(url + "/debug/pprof/mutex?seconds=100000")[0] == 400
    assert get(url + "/debug/pprof/lockhold")[0] == 404  # no -m full
    req = urllib.request.Request(url + "/metrics", data=b"x", method="POST")
    try:
        urllib.request.urlopen(req, timeout=5)
        assert False, "POST accepted"
    except urllib.error.HTTPError as e:
        assert e.code == 405
    status, body = get(url + "/debug/pprof/")
    assert status == 200 and b"/debug/pprof/mutex" in body
    # A delta request pending when SIGTERM comes: answered, and lockprof gone within 5 s.
    answer = {}

    def pending():
        answer["status"] = get(url + "/debug/pprof/mutex?seconds=30", timeout=40)[0]

    client = threading.Thread(target=pending)
    client.start()
    assert lp.wait_line("stderr", lambda l: "delta profile started" in l, 10), lp.describe()
    t0 = time.monotonic()
    lp.signal(signal.SIGTERM)
    rc = lp.wait(10)
    took = time.monotonic() - t0
    client.join(10)
    assert rc == 0, "lockprof exit %s\n%s" % (rc, lp.describe())
    assert took < 5, "lockprof took %.1f s to stop" % took
    assert answer.get("status") in (200, 503), answer

    def released():
        live = live_bpf_ids()
        return all(not (ids[kind] & live[kind]) for kind in ids)

    # The kernel frees a closed program after a grace period.
    assert wait_until(released, 10, step=0.2), "lockprof's BPF objects still loaded %s" % live_bpf_ids()
    assert breakpoints(target.pid) == [], "breakpoints left in the target"
    print("SIGTERM with ?seconds=30 pending: HTTP %s, lockprof exit 0 after %.2f s" % (answer["status"], took))


def test_serve_listen_in_use(root, procs, newest):
    target = start_target(procs, newest, "serve_rounds.py")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        out = subprocess.run(
            [LOCKPROF, "serve", "-p", str(target.pid), "--listen", "127.0.0.1:%d" % port],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=30,
        )
    err = out.stderr.decode()
    assert out.returncode == 9, "exit %d: %s" % (out.returncode, err)
    assert "Address already in use" in err and str(port) in err, err
    assert breakpoints(target.pid) == [], "probes attached before the address was checked"
