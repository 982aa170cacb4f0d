# SPDX-License-Identifier: GPL-2.0
"""lockprof top: the live view in a real terminal (tmux) and as plain tables.

(a) Under tmux on two_locks.py (a fast lock with many short waits, a slow one with few long
    ones): both locks appear within 10 s, the fast lock's waits/s is within 20% of the rate the
    workload counted itself, 'p' pauses, 's' changes the sort and with it the order, Enter
    expands a lock to its stacks, and q, Ctrl-C, SIGTERM and the target's exit each leave the
    terminal as it was (alternate screen off, the shell's lines back) with exit code 0. A screen capture is kept as an
    artifact (.output/artifacts/).
(b) stdout not a terminal: one plain table per second, no escape sequences, and lockprof
    exits 0 when the target exits.
"""

import os
import re
import shutil
import signal
import statistics
import subprocess
import time

import pytest

import browser
from conftest import EXIT_TIMEOUT, LOCKPROF, REPO, start_target

ARTIFACTS = os.path.join(REPO, ".output", "artifacts")
APPEAR_TIMEOUT = 10.0
# A lock's row: waits/s, wait %, avg, max, then the lock ("NAME (file:line)") and the rest.
ROW_RE = re.compile(r"^[ +-]\s*(?P<rate>\d+\.\d)\s+(?P<share>\d+\.\d)%\s+\S+ \S+\s+\S+ \S+\s+(?P<label>\S.*)$")


class Tmux:
    """A tmux server of our own (its own socket), one 200x50 session running a plain bash."""

    def __init__(self, name):
        self.sock = "lockprof-test-%d-%s" % (os.getpid(), name)
        self.run("new-session", "-d", "-s", "t", "-x", "200", "-y", "50", "env PS1='$ ' bash --norc --noprofile")
        self.path = self.run("display-message", "-p", "#{socket_path}").strip()

    def run(self, *args):
        return subprocess.run(["tmux", "-L", self.sock] + list(args), check=True, capture_output=True, text=True).stdout

    def keys(self, *keys):
        self.run("send-keys", "-t", "t", *keys)

    def screen(self, escapes=False):
        return self.run("capture-pane", "-p", "-t", "t", *(["-e"] if escapes else []))

    def alternate(self):
        return self.run("display-message", "-p", "-t", "t", "#{alternate_on}").strip() == "1"

    def wait_for(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.screen()
            if pred(s):
                return s
            time.sleep(0.2)
        pytest.fail("tmux: %s not seen within %.0f s; screen:\n%s" % (what, timeout, self.screen()))

    def kill(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)
        if self.path and os.path.exists(self.path):  # kill-server leaves the socket file
            os.unlink(self.path)


@pytest.fixture
def tmux(request):
    if not shutil.which("tmux"):
        pytest.skip("tmux not installed (tools/install-deps.sh installs it)")
    t = Tmux(request.node.name[-20:].replace("[", "").replace("]", ""))
    yield t
    t.kill()


def rows(screen):
    """[(label, waits/s)] of the lock table, in screen order."""
    out = []
    for line in screen.splitlines():
        m = ROW_RE.match(line)
        if m:
            out.append((m.group("label"), float(m.group("rate"))))
    return out


def index_of(table, name):
    for i, (label, _) in enumerate(table):
        if label.startswith(name + " "):
            return i
    return None


def start_top(tmux, pid, n):
    """Runs lockprof top in the tmux shell; returns once its screen is up."""
    tmux.keys("clear; echo BEFORE-TOP-%d" % n, "Enter")
    tmux.keys("%s top -p %d; echo TOP-EXIT-%d=$?" % (LOCKPROF, pid, n), "Enter")
    tmux.wait_for(lambda s: "lockprof top:" in s and "q quit" in s, 30, "lockprof top's screen (run %d)" % n)
    assert tmux.alternate(), "top does not use the alternate screen"


def check_restored(tmux, n, how):
    done = re.compile(r"^TOP-EXIT-%d=\d+$" % n, re.M)  # the echo's output, not its command line
    s = tmux.wait_for(lambda s: done.search(s), EXIT_TIMEOUT, "lockprof top's exit after %s" % how)
    assert "TOP-EXIT-%d=0" % n in s, "exit code after %s:\n%s" % (how, s)
    assert not tmux.alternate(), "alternate screen still on after %s" % how
    assert "BEFORE-TOP-%d" % n in s and "WAITS/S" not in s, "terminal not restored after %s:\n%s" % (how, s)


def test_top_in_tmux(any_python, root, procs, tmux):
    # The terminal side (drawing, keys, restoring) does not depend on the interpreter, and the
    # test waits out a 30-second target: the host's newest interpreter only (make test's budget).
    if any_python.launcher.name == "rootfs":
        pytest.skip("top's terminal handling is interpreter-independent: run on the host's newest interpreter")
    t = start_target(procs, any_python, "two_locks.py", ["--seconds", "30"])
    start_top(tmux, t.pid, 1)
    t.send("go\n")
    t.close_stdin()

    # Both locks within 10 s; then the fast lock's rate over a few refreshes.
    s = tmux.wait_for(
        lambda s: index_of(rows(s), "fast_lock") is not None and index_of(rows(s), "slow_lock") is not None,
        APPEAR_TIMEOUT,
        "fast_lock and slow_lock rows",
    )
    assert "sort: waits/s" in s, s
    rates, orders = [], []
    for _ in range(4):
        time.sleep(1.0)
        table = rows(tmux.screen())
        f, sl = index_of(table, "fast_lock"), index_of(table, "slow_lock")
        if f is not None and sl is not None:
            rates.append(table[f][1])
            orders.append(f < sl)
    assert rates and all(orders), "by waits/s the fast lock is first: %s\n%s" % (orders, tmux.screen())

    # p pauses the display, p again resumes it.
    tmux.keys("p")
    tmux.wait_for(lambda s: "[PAUSED]" in s, 5, "[PAUSED]")
    tmux.keys("p")
    tmux.wait_for(lambda s: "[PAUSED]" not in s, 5, "the display resumed")

    # s, s: sorted by average wait, the slow lock comes first.
    tmux.keys("s")
    tmux.wait_for(lambda s: "sort: wait %" in s, 5, "sort: wait %")
    tmux.keys("s")
    s = tmux.wait_for(lambda s: "sort: avg" in s, 5, "sort: avg")
    table = rows(s)
    assert index_of(table, "slow_lock") < index_of(table, "fast_lock"), "sort avg: slow first\n%s" % s

    # Enter expands the selected (first) lock to its stacks.
    tmux.keys("Enter")
    s = tmux.wait_for(lambda s: "enter_slow" in s and "waiting," in s, 5, "the slow lock's stacks")
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, "top-%s.txt" % any_python.label), "w") as f:
        f.write(s)
    if browser.chromium():
        browser.terminal_png(tmux.screen(escapes=True), os.path.join(ARTIFACTS, "top-%s.png" % any_python.label), 200, 30)

    tmux.keys("q")
    check_restored(tmux, 1, "q")

    # Ctrl-C and SIGTERM end it as cleanly.
    start_top(tmux, t.pid, 2)
    tmux.keys("C-c")
    check_restored(tmux, 2, "Ctrl-C")
    start_top(tmux, t.pid, 3)
    out = subprocess.run(["pgrep", "-f", "^%s top -p %d$" % (re.escape(LOCKPROF), t.pid)], capture_output=True, text=True)
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 1, "lockprof top's pid: %r" % out.stdout
    os.kill(pids[0], signal.SIGTERM)
    check_restored(tmux, 3, "SIGTERM")

    # And the target's exit ends it the same way.
    assert t.alive(), "two_locks.py ended before the last run of top\n%s" % t.describe()
    start_top(tmux, t.pid, 4)
    done = re.compile(r"^TOP-EXIT-4=\d+$", re.M)
    tmux.wait_for(lambda s: done.search(s), 60, "lockprof top's exit when the target exits")
    check_restored(tmux, 4, "the target's exit")

    if t.wait(60) is None:
        pytest.fail("two_locks.py did not finish\n%s" % t.describe())
    import json

    result = json.loads([l for l in t.out_lines if l.strip()][-1])
    expected = result["fast"]["waits"] / result["fast"]["seconds"]
    got = statistics.median(rates)
    assert abs(got - expected) <= 0.2 * expected, "fast_lock: top showed %s waits/s (median %.1f), the workload %.1f/s" % (
        rates,
        got,
        expected,
    )


def test_top_plain_tables(any_python, root, procs):
    t = start_target(procs, any_python, "holder_waiter.py", ["--waits", "150", "--hold-ms", "10"])
    lp = procs.spawn([LOCKPROF, "top", "-p", str(t.pid)], stdin=False)
    assert lp.wait_line("stderr", lambda l: l.startswith("lockprof: pid"), 30), lp.describe()
    t.send("go\n")
    t.close_stdin()
    assert t.wait(60) is not None, t.describe()
    rc = lp.wait(EXIT_TIMEOUT)
    assert rc == 0, "lockprof top after the target exited: %s\n%s" % (rc, lp.describe())
    out = lp.stdout
    assert "\x1b" not in out, "escape sequences in plain output\n%r" % out[:2000]
    tables = [b for b in out.split("\n\n") if "WAITS/S" in b]
    assert len(tables) >= 1, lp.describe()
    assert any(index_of(rows(b), "the_lock") is not None for b in tables), lp.describe()
    assert "exited" in lp.stderr, lp.describe()


def test_top_gil_line(any_python, root, procs):
    """-m contention,gil: the GIL's line over the table, and the GIL's row in it."""
    t = start_target(procs, any_python, "gil_busy.py", ["--seconds", "4"])
    lp = procs.spawn([LOCKPROF, "top", "-p", str(t.pid), "-m", "contention,gil"], stdin=False)
    assert lp.wait_line("stderr", lambda l: l.startswith("lockprof: pid"), 30), lp.describe()
    t.send("go\n")
    t.close_stdin()
    assert t.wait(60) is not None, t.describe()
    assert lp.wait(EXIT_TIMEOUT) == 0, lp.describe()
    tables = [b for b in lp.stdout.split("\n\n") if "WAITS/S" in b]
    gil = [l for b in tables for l in b.splitlines() if l.startswith("GIL: ") and "waits/s" in l]
    assert gil, lp.describe()
    assert any(index_of(rows(b), "GIL") is not None for b in tables), lp.describe()
