"""Contention in batches, for lockprof serve's functional tests (CPython 3.8+).

A holder thread and a waiter thread take turns on ``served_lock``: in each
round the holder takes the lock, tells the waiter, keeps it for --hold-ms and
releases it; the waiter, told it is held, blocks in ``with served_lock:``
until then, and measures how long (perf_counter_ns around the acquire).

Protocol: prints "ready" once its threads run. Each stdin line "run N" runs N
rounds and then prints one JSON line with that batch's own truth:
  {"batch": K, "waits": N, "wait_ns": ..., "pid": ..., "wait_line": ...}
EOF closes it (exit 0).
"""

import argparse
import json
import os
import sys
import threading
import time

served_lock = threading.Lock()
MARKER = "# " + "SERVE-WAIT"


class Rounds:
    def __init__(self, hold_s):
        self.hold_s = hold_s
        self.todo = threading.Semaphore(0)  # rounds to run, released per round
        self.held = threading.Event()
        self.ack = threading.Event()
        self.arriving = False
        self.wait_ns = 0
        self.waits = 0


def holder(r):
    while True:
        r.todo.acquire()
        served_lock.acquire()
        r.arriving = False
        r.held.set()
        time.sleep(r.hold_s)
        while not r.arriving:  # starved of CPU: give the waiter time to block
            time.sleep(0.001)
        time.sleep(r.hold_s / 4)
        served_lock.release()
        r.ack.wait()
        r.ack.clear()


def waiter(r):
    while True:
        r.held.wait()
        r.held.clear()
        r.arriving = True
        t0 = time.perf_counter_ns()
        with served_lock:  # SERVE-WAIT
            t1 = time.perf_counter_ns()
        r.wait_ns += t1 - t0
        r.waits += 1
        r.ack.set()


def wait_line():
    with open(__file__) as f:
        for n, line in enumerate(f, 1):
            if MARKER in line and "MARKER" not in line:
                return n
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hold-ms", type=float, default=20)
    args = ap.parse_args()
    r = Rounds(args.hold_ms / 1000.0)
    for fn in (holder, waiter):
        threading.Thread(target=fn, args=(r,), daemon=True, name=fn.__name__).start()
    print("ready", flush=True)
    batch = 0
    for line in sys.stdin:
        words = line.split()
        if len(words) != 2 or words[0] != "run":
            continue
        n = int(words[1])
        batch += 1
        waits0, ns0 = r.waits, r.wait_ns
        for _ in range(n):
            r.todo.release()
        while r.waits < waits0 + n:
            time.sleep(0.005)
        out = {"batch": batch, "waits": r.waits - waits0, "wait_ns": r.wait_ns - ns0, "pid": os.getpid(), "wait_line": wait_line()}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
