"""lockprof functional tests: the outputs other tools read.

One profile written as JSON, collapsed stacks, pprof and text (with -H) in a
single run, so that every format can be checked against the JSON of the same
profile: collapsed weights sum to the JSON totals exactly, `go tool pprof`
reads the pprof file and finds the waiting function, its delay and its count,
and the text histograms sum to the wait counts.  Then -i (interval reports
that reset), the text report's --sort/--top, --weight count and --min-wait,
and the man page and `make install`.

Profiling tests run once per supported CPython found (see conftest.py); the
others once.  Profiling tests need root and ./lockprof; pprof checks need
`go` (Debian's golang-go, installed by tools/install-deps.sh).
"""

import glob
import json
import os
import re
import shutil
import stat
import subprocess

import pytest

from conftest import (
    EXIT_TIMEOUT,
    LOCKPROF,
    REPO,
    clip,
    show_json,
    start_lockprof,
    start_target,
    supported_interpreters,
    target_path,
    waiter_stacks_at,
)

WAITS = 40
HOLD_MS = 20
ATTEMPTS = 3
PPROF_TOLERANCE = 0.05  # -top prints 3 significant digits; the issue allows 5%

INTERVAL_WAITS = 80  # ~1.8 s of contention: spans the first two of three 1 s intervals
INTERVAL_LINGER_S = 6  # the target outlives lockprof's -d 3

# Root first, frames joined by ';', the lock as the leaf frame, one space, the weight.
COLLAPSED_LINE_RE = re.compile(r"^(?P<stack>[^;\n]+(?:;[^;\n]+)*);lock (?P<lock>[^;\n]+) (?P<weight>\d+)$")
COLLAPSED_FRAME_RE = re.compile(r"^(?P<function>.+) \((?P<file>.+):(?P<line>-?\d+)\)$")
COLLAPSED_PLACEHOLDERS = ("<stack lost>", "<no Python frames>", "<truncated>")

HIST_HEADER_RE = re.compile(r"^Wait time histogram: (?P<label>.+) \((?P<waits>[\d,]+) waits?\)$")
HIST_ROW_RE = re.compile(r"^\s+(?P<range>.+?) : (?P<count>[\d,]+)\s+\|(?P<bar>[* ]*)\|$")
INTERVAL_HEADER_RE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] interval (\d+)$", re.M)

PPROF_UNITS = {"ns": 1, "us": 1e3, "\u00b5s": 1e3, "ms": 1e6, "s": 1e9, "mins": 60e9, "hrs": 3600e9}
PPROF_VALUE_RE = re.compile(r"^(?P<num>[\d.]+)(?P<unit>[a-z\u00b5]*)$")


def marked_wait_line():
    with open(target_path("holder_waiter.py")) as f:
        hits = [n for n, line in enumerate(f, 1) if line.rstrip().endswith("# WAIT-LINE")]
    assert len(hits) == 1, hits
    return hits[0]


def go_binary():
    for cand in (shutil.which("go"), "/usr/lib/go/bin/go"):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def run_go_pprof(args, path):
    go = go_binary()
    if not go:
        pytest.skip("go not found: `go tool pprof` checks need Debian's golang-go (make deps)")
    env = dict(os.environ, PPROF_TMPDIR=os.path.dirname(str(path)), HOME=os.path.dirname(str(path)))
    cp = subprocess.run(
        [go, "tool", "pprof"] + list(args) + [str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=60,
        env=env,
    )
    out = cp.stdout.decode(errors="replace")
    err = cp.stderr.decode(errors="replace")
    assert cp.returncode == 0, "go tool pprof %s: exit %d\n%s\n%s" % (" ".join(args), cp.returncode, out, err)
    return out


def pprof_value(text):
    m = PPROF_VALUE_RE.match(text)
    assert m, "not a pprof value: %r" % text
    return float(m.group("num")) * PPROF_UNITS.get(m.group("unit"), 1)


def pprof_top(out):
    """{function: (flat, cum)} from `go tool pprof -top` output."""
    rows = {}
    for line in out.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[1].endswith("%") and parts[4].endswith("%"):
            rows[parts[5].strip()] = (pprof_value(parts[0]), pprof_value(parts[3]))
    return rows


def pprof_traces(out):
    """[(labels, value, [functions leaf first])] from `go tool pprof -traces` output."""
    traces = []
    for block in out.split("-----------+")[1:]:
        labels, frames, value = {}, [], None
        for line in block.splitlines()[1:]:
            if not line.strip():
                continue
            m = re.match(r"^\s*([a-z][a-z ]*):\s+(.*)$", line)
            if m and not frames:
                labels[m.group(1)] = m.group(2).strip()
                continue
            if not frames:
                value, name = line.split(None, 1)
                frames.append(name.strip())
            else:
                frames.append(line.strip())
        traces.append((labels, value, frames))
    return traces


def the_lock(report, wait_line, ctx):
    """The workload's lock and its waiter stacks at the WAIT-LINE."""
    hits = waiter_stacks_at(report, "holder_waiter.py", wait_line)
    assert hits, "no waiter stack at holder_waiter.py:%d\n%s" % (wait_line, ctx)
    lock = hits[0][0]
    return lock, [s for _, s in hits]


def run_all_formats(run_profiled, python, tmp_path, extra=()):
    """Profile the workload once into json, collapsed and pprof files plus text on stdout."""
    files = {fmt: tmp_path / name for fmt, name in (("json", "r.json"), ("collapsed", "r.folded"), ("pprof", "r.pb.gz"))}
    args = []
    for fmt, path in files.items():
        args += ["-f", fmt, "-o", str(path)]
    args += ["-f", "text"] + list(extra)
    for _ in range(ATTEMPTS):
        for path in files.values():
            if path.exists():
                path.unlink()
        run = run_profiled(python, "holder_waiter.py", ["--waits", WAITS, "--hold-ms", HOLD_MS], args)
        assert run.returncode == 0, "lockprof exit %d\n%s" % (run.returncode, run.describe())
        if run.result["contended_rounds"] == WAITS:
            break
    assert run.result["contended_rounds"] == WAITS, "workload never contended %d times: %s" % (WAITS, run.result)
    for fmt, path in files.items():
        assert path.exists(), "-f %s -o %s: no file\n%s" % (fmt, path, run.describe())
    try:
        report = json.loads(files["json"].read_text())
    except ValueError as e:
        pytest.fail("r.json is not JSON (%s)\n%s" % (e, run.describe()))
    return run, report, files


def parse_collapsed(text, ctx):
    """[(frames root first, lock, weight)], checking every line against the grammar."""
    lines = []
    assert text.endswith("\n") or not text, "collapsed output does not end with a newline\n" + ctx
    for n, line in enumerate(text.splitlines(), 1):
        m = COLLAPSED_LINE_RE.match(line)
        assert m, "collapsed line %d breaks the grammar: %r\n%s" % (n, line, ctx)
        frames = m.group("stack").split(";")
        for fr in frames:
            assert fr in COLLAPSED_PLACEHOLDERS or COLLAPSED_FRAME_RE.match(fr), "line %d: frame %r is not 'function (file:line)'\n%s" % (
                n,
                fr,
                ctx,
            )
        lines.append((frames, m.group("lock"), int(m.group("weight"))))
    return lines


def lock_key(lock):
    return lock["name"] or lock["id"]


def carried(report, show_idle=False):
    """The locks collapsed and pprof carry: contention and GIL waits, idle ones with --show-idle."""
    return [lk for lk in report["locks"] if lk["category"] != "idle" or show_idle]


def contended(report):
    """The locks of the text report's contention table (what -H, --sort and --top apply to)."""
    return [lk for lk in report["locks"] if lk["category"] == "contention"]


def histogram_blocks(text):
    """[(label, header waits, [row counts])] from the text report's -H section."""
    blocks, current = [], None
    for line in text.splitlines():
        m = HIST_HEADER_RE.match(line)
        if m:
            current = (m.group("label"), int(m.group("waits").replace(",", "")), [])
            blocks.append(current)
            continue
        m = HIST_ROW_RE.match(line)
        if m and current:
            current[2].append(int(m.group("count").replace(",", "")))
        elif not line.strip():
            current = None
    return blocks


# --------------------------------------------------------------------------
# (a) one profile, four formats


def test_all_formats(python, run_profiled, tmp_path):
    wait_line = marked_wait_line()
    run, report, files = run_all_formats(run_profiled, python, tmp_path, ["-H"])
    res = run.result
    ctx = "workload: %s\nreport:\n%s\nlockprof stderr:\n%s" % (json.dumps(res), show_json(report), clip(run.stderr, 3000))
    lock, stacks = the_lock(report, wait_line, ctx)
    assert lock["waits"] == WAITS, ctx

    # JSON: histograms and per-thread shares add up; the waiter thread is named.
    for lk in report["locks"]:
        assert sum(lk["hist_log2_ns"]) == lk["waits"], "histogram of %s sums to %d, waits %d" % (
            lk["id"],
            sum(lk["hist_log2_ns"]),
            lk["waits"],
        )
        for st in lk["stacks"]:
            assert [t["id"] for t in st["threads"]] == st["thread_ids"], show_json(st)
            assert sum(t["count"] for t in st["threads"]) == st["count"], show_json(st)
            assert sum(t["wait_ns"] for t in st["threads"]) == st["wait_ns"], show_json(st)
    waiter = [t for s in stacks for t in s["threads"]]
    waiter_tid = run.host_tid(res["waiter_tid"])  # the workload may run in its own PID namespace
    assert [t["id"] for t in waiter] == [waiter_tid], ctx
    assert waiter[0]["name"], "waiter thread has no name\n%s" % ctx
    assert report["interval"] is None and report["start_unix_ns"] > 1.6e18, ctx

    check_collapsed(files["collapsed"].read_text(), report, lock, res, wait_line, ctx)
    check_pprof(files["pprof"], report, stacks, res, waiter_tid, ctx)
    check_text_histograms(run.stdout, report, wait_line, ctx)


def check_collapsed(text, report, lock, res, wait_line, ctx, show_idle=False):
    ctx = "collapsed:\n%s\n%s" % (clip(text, 4000), ctx)
    lines = parse_collapsed(text, ctx)
    assert lines, "empty collapsed output\n" + ctx
    # Contention waits (the JSON's wait_ns), idle waits only with --show-idle.
    want_total = report["wait_ns"] + (report["idle_wait_ns"] if show_idle else 0)
    assert sum(w for _, _, w in lines) == want_total, "collapsed weights sum to %d, JSON %d\n%s" % (
        sum(w for _, _, w in lines),
        want_total,
        ctx,
    )
    # Per lock name (two locks may share a name, e.g. two native locks in one call).
    locks = carried(report, show_idle)
    for key in set(lock_key(lk) for lk in locks):
        total = sum(w for _, name, w in lines if name == key)
        want = sum(lk["wait_ns"] for lk in locks if lock_key(lk) == key)
        assert total == want, "lock %s: collapsed %d ns, JSON %d ns\n%s" % (key, total, want, ctx)

    # The known stack, root first: Thread._bootstrap ... the waiter's function at the WAIT-LINE.
    mine = [fr for fr, name, _ in lines if name == lock_key(lock)]
    assert len(mine) == 1, "expected one collapsed line for %s\n%s" % (lock_key(lock), ctx)
    frames = [COLLAPSED_FRAME_RE.match(f) for f in mine[0]]
    assert all(frames), ctx
    leaf = frames[-1]
    assert leaf.group("function") == res["waiter_function"], ctx
    assert leaf.group("file") == res["waiter_file"] and int(leaf.group("line")) == wait_line, ctx
    names = [f.group("function") for f in frames]
    order = [next((i for i, n in enumerate(names) if n.endswith(want)), None) for want in ("_bootstrap", "_bootstrap_inner", "run")]
    assert None not in order and order == sorted(order) and order[-1] < len(names) - 1, (
        "frames not root first: %s\n%s" % (names, ctx)
    )


def check_pprof(path, report, stacks, res, waiter_tid, ctx):
    fn = res["waiter_function"]
    delay = sum(s["wait_ns"] for s in stacks)

    top = run_go_pprof(["-top"], path)
    ctx = "go tool pprof -top:\n%s\n%s" % (top, ctx)
    assert "Type: delay" in top, ctx
    rows = pprof_top(top)
    assert fn in rows, "-top does not list %s\n%s" % (fn, ctx)
    flat = rows[fn][0]
    assert abs(flat - delay) <= PPROF_TOLERANCE * delay, "-top: %s flat %.0f ns, JSON %d ns\n%s" % (fn, flat, delay, ctx)
    total = re.search(r"of ([\d.]+[a-z\u00b5]*) total", top)
    assert total and abs(pprof_value(total.group(1)) - report["wait_ns"]) <= PPROF_TOLERANCE * report["wait_ns"], ctx

    counts = run_go_pprof(["-sample_index=contentions", "-top"], path)
    rows = pprof_top(counts)
    assert fn in rows and rows[fn][0] == WAITS, "-sample_index=contentions: %s has %s, expected %d\n%s" % (
        fn,
        rows.get(fn),
        WAITS,
        counts,
    )

    traces = run_go_pprof(["-traces"], path)
    mine = [t for t in pprof_traces(traces) if t[2] and t[2][0] == fn]
    assert len(mine) == 1, "-traces: expected one trace with leaf %s\n%s" % (fn, traces)
    labels, value, frames = mine[0]
    assert labels.get("thread id") == str(waiter_tid), "labels %s\n%s" % (labels, traces)
    assert labels.get("lock name") and labels.get("thread name"), "labels %s\n%s" % (labels, traces)
    # leaf first in -traces: the waiter's function, then Thread.run, _bootstrap_inner, _bootstrap
    tail = [next((i for i, n in enumerate(frames) if n.endswith(want)), None) for want in ("run", "_bootstrap_inner", "_bootstrap")]
    assert None not in tail and tail == sorted(tail) and tail[0] > 0, "trace frames %s\n%s" % (frames, traces)
    assert abs(pprof_value(value) - delay) <= PPROF_TOLERANCE * delay, traces


def check_text_histograms(text, report, wait_line, ctx):
    ctx = "text:\n%s\n%s" % (clip(text, 6000), ctx)
    blocks = histogram_blocks(text)
    n = len(contended(report))
    assert len(blocks) == n, "-H printed %d histograms for %d contended locks\n%s" % (len(blocks), n, ctx)
    for label, waits, rows in blocks:
        assert rows, "histogram %s has no rows\n%s" % (label, ctx)
        assert sum(rows) == waits, "histogram %s: buckets sum to %d, header says %d waits\n%s" % (label, sum(rows), waits, ctx)
    mine = [waits for label, waits, _ in blocks if "holder_waiter.py:%d " % wait_line in label]
    assert mine == [WAITS], "no histogram of the workload's lock with %d waits\n%s" % (WAITS, ctx)


def test_idle_gil_holder_formats(any_python, run_profiled, tmp_path):
    """--show-idle puts the idle waits in collapsed and pprof, -m contention,gil the GIL waits (lock
    "GIL"), and --pprof-stacks holder makes the pprof samples the releasers' stacks."""
    wait_line = marked_wait_line()
    extra = ["-m", "contention,gil", "--show-idle", "--pprof-stacks", "holder"]
    run, report, files = run_all_formats(run_profiled, any_python, tmp_path, extra)
    res = run.result
    ctx = "workload: %s\nreport:\n%s\nlockprof stderr:\n%s" % (json.dumps(res), show_json(report), clip(run.stderr, 3000))
    assert report["mode"] == "contention,gil" and report["gil"] is not None, ctx
    # The handshake's Event waits are idle; the GIL lock is there when a thread waited for it.
    assert report["idle_waits"] > 0, "no idle waits in the workload's Event handshake\n" + ctx
    gil = [lk for lk in report["locks"] if lk["category"] == "gil"]
    assert len(gil) <= 1 and all(lk["name"] == "GIL" for lk in gil), ctx
    assert sum(lk["wait_ns"] for lk in gil) == report["gil"]["wait_ns"], ctx

    text = files["collapsed"].read_text()
    lines = parse_collapsed(text, ctx)
    want = report["wait_ns"] + report["idle_wait_ns"] + report["gil"]["wait_ns"]
    assert sum(w for _, _, w in lines) == want, "collapsed sums to %d, JSON contention + idle + GIL %d\n%s\n%s" % (
        sum(w for _, _, w in lines),
        want,
        clip(text, 4000),
        ctx,
    )
    assert sum(w for _, name, w in lines if name == "GIL") == report["gil"]["wait_ns"], clip(text, 4000)

    # pprof: the holder's stacks, charged with the waits their releases ended.
    lock, _ = the_lock(report, wait_line, ctx)
    holders = [s for s in lock["stacks"] if s["role"] == "holder"]
    assert holders, "no holder stack for the workload's lock\n" + ctx
    charged = sum(s["wait_ns"] for s in holders)
    traces = run_go_pprof(["-traces"], files["pprof"])
    mine = [t for t in pprof_traces(traces) if t[2] and t[2][0].endswith("hold_rounds")]
    assert mine, "-traces: no holder stack with leaf hold_rounds\n%s\n%s" % (traces, ctx)
    assert all(t[0].get("lock name") == lock_key(lock) and t[0].get("wait kind") == "contention" for t in mine), traces
    got = sum(pprof_value(t[1]) for t in mine)
    assert abs(got - charged) <= PPROF_TOLERANCE * charged, "holder delay %.0f ns, JSON %d ns\n%s" % (got, charged, traces)
    assert not any(t[2] and t[2][0] == res["waiter_function"] for t in pprof_traces(traces)), "waiter stacks in a holder profile\n" + traces


# --------------------------------------------------------------------------
# (b) -i: a report per interval, each reset


def parse_json_stream(text, ctx):
    docs, dec, i = [], json.JSONDecoder(), 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return docs
        try:
            doc, i = dec.raw_decode(text, i)
        except ValueError as e:
            pytest.fail("-i -f json: report %d is not JSON (%s)\n%s" % (len(docs) + 1, e, ctx))
        docs.append(doc)


def one_per_minor():
    """One interpreter per X.Y (pyenv's first): -i runs take 3 s each."""
    seen, out = set(), []
    for py in supported_interpreters():
        if py.version[:2] not in seen:
            seen.add(py.version[:2])
            out.append(py)
    return out


@pytest.mark.parametrize("minor_python", one_per_minor(), ids=lambda py: py.label)
def test_intervals(minor_python, root, lockprof, procs, tmp_path):
    wait_line = marked_wait_line()
    text_path = tmp_path / "r.txt"
    for _ in range(ATTEMPTS):
        target = start_target(
            procs, minor_python, "holder_waiter.py", ["--waits", INTERVAL_WAITS, "--hold-ms", HOLD_MS, "--linger", INTERVAL_LINGER_S]
        )
        lp, _ = start_lockprof(procs, target.pid, ["-i", 1, "-d", 3, "-f", "json", "-f", "text", "-o", text_path])
        target.send("go\n")
        target.close_stdin()
        rc = lp.wait(3 + EXIT_TIMEOUT)
        if rc is None:
            lp.kill()
            pytest.fail("lockprof -i 1 -d 3 still running\n" + lp.describe())
        assert rc == 0, lp.describe()
        line = target.wait_line("stdout", lambda l: l.startswith("{"), 5)
        assert line, "workload printed no result within lockprof's 3 s\n" + target.describe()
        res = json.loads(line)
        target.kill()
        if res["contended_rounds"] == INTERVAL_WAITS:
            break
    assert res["contended_rounds"] == INTERVAL_WAITS, res
    ctx = "workload: %s\n%s" % (json.dumps(res), lp.describe())

    reports = parse_json_stream(lp.stdout, ctx)
    assert [r["interval"] for r in reports] == [1, 2, 3], "expected reports for intervals 1, 2, 3\n" + ctx
    for r in reports:
        assert 0.5e9 <= r["duration_ns"] <= 2e9, "interval %d lasted %d ns\n%s" % (r["interval"], r["duration_ns"], ctx)
    assert reports[0]["start_unix_ns"] < reports[1]["start_unix_ns"] < reports[2]["start_unix_ns"], ctx
    per_interval = []
    for r in reports:
        hits = waiter_stacks_at(r, "holder_waiter.py", wait_line)
        per_interval.append(sum(s["count"] for _, s in hits))
        for lk in r["locks"]:
            assert sum(lk["hist_log2_ns"]) == lk["waits"], ctx
    assert sum(per_interval) == INTERVAL_WAITS, "waits per interval %s do not add up to %d\n%s" % (per_interval, INTERVAL_WAITS, ctx)
    # Reset really happened: the waits are split over intervals, none counted twice.
    assert sum(1 for n in per_interval if n) >= 2, "waits per interval %s\n%s" % (per_interval, ctx)

    text = text_path.read_text()
    headers = [int(n) for n in INTERVAL_HEADER_RE.findall(text)]
    assert headers == [1, 2, 3], "text report headers %s\n%s" % (headers, clip(text, 6000))


# --------------------------------------------------------------------------
# (c) text options, collapsed --weight count, --min-wait


def test_sort_top_weight(any_python, run_profiled, tmp_path):
    run, report, files = run_all_formats(run_profiled, any_python, tmp_path, ["--sort", "count", "--top", "1", "--weight", "count"])
    ctx = "report:\n%s\n%s" % (show_json(report), run.describe())
    lines = parse_collapsed(files["collapsed"].read_text(), ctx)
    assert sum(w for _, _, w in lines) == report["waits"], "--weight count: collapsed sums to %d, JSON waits %d\n%s" % (
        sum(w for _, _, w in lines),
        report["waits"],
        ctx,
    )
    most = max(contended(report), key=lambda lk: (lk["waits"], lk["wait_ns"]))
    table = run.stdout.split("\n\n")[1].splitlines()
    assert table[0].split()[:2] == ["LOCK", "WAITS"], ctx
    assert len([l for l in table[1:] if not l.startswith("(")]) == 1, "--top 1 listed more than one lock\n" + ctx
    # WAITS is right-aligned under its header; the LOCK label may hold spaces.
    waits_end = table[0].index("WAITS") + len("WAITS")
    first = table[1][:waits_end].split()[-1]
    assert first == "{:,}".format(most["waits"]), "--sort count: first row is not the lock with most waits\n" + ctx
    if len(contended(report)) > 1:
        assert "more lock" in run.stdout and "--top 1" in run.stdout, ctx


def test_min_wait(any_python, run_profiled):
    wait_line = marked_wait_line()
    run = run_profiled(any_python, "holder_waiter.py", ["--waits", WAITS, "--hold-ms", HOLD_MS], ["-f", "json", "--min-wait", "5ms"])
    assert run.returncode == 0, run.describe()
    report = json.loads(run.stdout)
    ctx = show_json(report)
    assert report["min_wait_ns"] == 5000000, ctx
    # the Condition/Event waits of the workload's handshake are far shorter
    assert report["short_waits"] > 0, ctx
    for lk in report["locks"]:
        # bucket i holds [2^i, 2^(i+1)) ns: every bucket below 2^22 ns (4.2 ms) must be empty
        assert not any(lk["hist_log2_ns"][:22]), "lock %s has waits under 5 ms\n%s" % (lk["id"], ctx)
    if run.result["contended_rounds"] == WAITS:
        lock, _ = the_lock(report, wait_line, ctx)
        assert lock["waits"] == WAITS, "the 20 ms waits must all stay\n" + ctx


# --------------------------------------------------------------------------
# (d) man page and make install


def long_options():
    out = subprocess.run([LOCKPROF, "--help"], stdout=subprocess.PIPE, timeout=10).stdout.decode()
    return sorted(set(re.findall(r"--([a-z][a-z-]+)=?", out)) - {"help", "usage", "version"})


def test_man_page_lists_every_option(lockprof):
    page = open(os.path.join(REPO, "doc", "lockprof.8")).read()
    rendered = page.replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", "")
    missing = [o for o in long_options() if "--" + o not in rendered]
    assert not missing, "doc/lockprof.8 does not document %s" % missing
    if shutil.which("groff"):
        cp = subprocess.run(
            ["groff", "-man", "-ww", "-z", os.path.join(REPO, "doc", "lockprof.8")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=30,
        )
        assert cp.returncode == 0 and not cp.stderr.strip(), "groff warnings:\n" + cp.stderr.decode()


def test_make_install(lockprof, tmp_path):
    dest = tmp_path / "dest"
    cp = subprocess.run(
        ["make", "-C", REPO, "install", "DESTDIR=%s" % dest, "PREFIX=/opt/lp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=300,
    )
    assert cp.returncode == 0, cp.stdout.decode()
    binary = dest / "opt/lp/sbin/lockprof"
    page = dest / "opt/lp/share/man/man8/lockprof.8"
    assert binary.exists() and page.exists(), sorted(glob.glob(str(dest) + "/**", recursive=True))
    assert stat.S_IMODE(binary.stat().st_mode) == 0o755
    assert stat.S_IMODE(page.stat().st_mode) == 0o644
    assert binary.read_bytes() == open(LOCKPROF, "rb").read()
