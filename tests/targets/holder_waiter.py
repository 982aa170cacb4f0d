"""Contention workload for lockprof's functional tests (CPython 3.8+).

A holder thread and a waiter thread take turns on one threading.Lock,
``the_lock``.  In each of --waits rounds the holder acquires the lock, tells
the waiter, keeps the lock for --hold-ms milliseconds and releases it; the
waiter, told that the lock is held, enters ``with the_lock:`` and so blocks
until the release.  The waiter measures how long each acquire blocked
(perf_counter_ns just before the with statement and first thing inside it).
Once the waiter has released the lock again it acknowledges, and only then
does the holder start the next round, so the holder itself never blocks on
the_lock and the waiter never finds it free.

Protocol: prints "ready" on stdout once its threads are running, then waits
for a "go" line on stdin (EOF or anything else: exit 1 without contention).
At the end it prints one JSON line on stdout:
  {"waits": N, "contended_rounds": ..., "wait_ns": ..., "max_wait_ns": ...,
   "wait_line": <line of the with statement>, "waiter_function": ...,
   "waiter_file": ..., "waiter_tid": <native thread id>, "hold_ms": H, "python": "X.Y.Z"}
The with statement carries a marker comment so tests can find its line.
With --linger S the process stays alive S seconds after printing it, so that
a profiler stopped by -d ends while the target is still there.
"""

import argparse
import json
import sys
import threading
import time

the_lock = threading.Lock()
MARKER = "# " + "WAIT-LINE"  # spelled apart so only the with line carries it


class Rounds:
    """What the two threads share."""

    def __init__(self, count):
        self.count = count
        self.go = threading.Event()  # start of the run
        self.held = threading.Event()  # holder -> waiter: the lock is held
        self.ack = threading.Event()  # waiter -> holder: got and released it
        self.arriving = False  # waiter is about to run into the lock


class Holder:
    def __init__(self, rounds, hold_s):
        self.r = rounds
        self.hold_s = hold_s

    def hold_rounds(self):
        r = self.r
        r.go.wait()
        for _ in range(r.count):
            the_lock.acquire()
            r.arriving = False
            r.held.set()
            time.sleep(self.hold_s)  # lets go of the GIL: the waiter runs into the lock
            if not r.arriving:
                # The waiter has not even got there yet (starved of CPU): wait
                # for it, then give it the time to block on the lock.
                while not r.arriving:
                    time.sleep(0.001)
                time.sleep(self.hold_s)
            the_lock.release()
            # Block (off the GIL) until the waiter got and released the lock.
            r.ack.wait()
            r.ack.clear()


class Waiter:
    def __init__(self, rounds):
        self.r = rounds
        self.wait_ns = 0
        self.max_wait_ns = 0
        self.contended_rounds = 0
        self.tid = None

    def wait_rounds(self):
        r = self.r
        self.tid = threading.get_native_id()
        r.go.wait()
        for _ in range(r.count):
            r.held.wait()
            r.held.clear()
            if the_lock.locked():
                self.contended_rounds += 1
            r.arriving = True
            t0 = time.perf_counter_ns()
            with the_lock:  # WAIT-LINE
                t1 = time.perf_counter_ns()
            waited = t1 - t0
            self.wait_ns += waited
            if waited > self.max_wait_ns:
                self.max_wait_ns = waited
            r.ack.set()


def wait_line():
    with open(__file__) as f:
        for lineno, line in enumerate(f, 1):
            if line.rstrip().endswith(MARKER):
                return lineno
    raise RuntimeError("marker not found in " + __file__)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--waits", type=int, default=40)
    ap.add_argument("--hold-ms", type=float, default=20.0)
    ap.add_argument("--linger", type=float, default=0.0)
    args = ap.parse_args()

    rounds = Rounds(args.waits)
    holder = Holder(rounds, args.hold_ms / 1000.0)
    waiter = Waiter(rounds)
    threads = [
        threading.Thread(target=holder.hold_rounds, name="holder"),
        threading.Thread(target=waiter.wait_rounds, name="waiter"),
    ]
    for t in threads:
        t.daemon = True
        t.start()

    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)
    rounds.go.set()
    for t in threads:
        t.join()

    code = Waiter.wait_rounds.__code__
    result = {
        "waits": args.waits,
        "contended_rounds": waiter.contended_rounds,
        "wait_ns": waiter.wait_ns,
        "max_wait_ns": waiter.max_wait_ns,
        "wait_line": wait_line(),
        "waiter_function": getattr(code, "co_qualname", code.co_name),
        "waiter_file": code.co_filename,
        "waiter_tid": waiter.tid,
        "hold_ms": args.hold_ms,
        "python": "%d.%d.%d" % sys.version_info[:3],
    }
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    time.sleep(args.linger)


if __name__ == "__main__":
    main()
