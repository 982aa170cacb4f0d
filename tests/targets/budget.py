"""Many short waits at two sites and a few long ones, on one lock, for the overhead bound (CPython 3.8+).

Every wait is a timed acquire of a lock the main thread holds: it blocks in the
libc semaphore wait (or the 3.13+ parking lot) and times out, so each call is
exactly one wait, counted here. Per round, the function `often` waits three
times and `seldom` once (short waits, timeout 1 us), so their stacks share the
waits 3:1; every LONG_EVERY_S seconds `long_wait` waits LONG_MS.

Usage: budget.py SECONDS [DEPTH]. Prints "ready", waits for "go" on stdin, runs for
SECONDS, then prints one JSON line: the waits per site and the lines. The waits
happen DEPTH calls deep, so that walking their stacks is most of what profiling
them costs (the stack budget has something to thin).
"""

import json
import sys
import threading
import time

LONG_MS = 20
LONG_EVERY_S = 0.25
DEPTH = 40

lock = threading.Lock()
lock.acquire()


def often():
    return lock.acquire(timeout=1e-6)  # SITE-OFTEN


def seldom():
    return lock.acquire(timeout=1e-6)  # SITE-SELDOM


def long_wait():
    return lock.acquire(timeout=LONG_MS / 1000.0)  # SITE-LONG


def line_of(marker):
    with open(__file__) as f:
        for n, text in enumerate(f, 1):
            if text.rstrip().endswith("# " + marker):
                return n
    raise SystemExit("no line marked " + marker)


def deep(n, seconds, counts):
    if n:
        return deep(n - 1, seconds, counts)
    run(seconds, counts)


def run(seconds, counts):
    end = time.monotonic() + seconds
    next_long = time.monotonic()
    while time.monotonic() < end:
        for _ in range(50):
            often()
            often()
            often()
            seldom()
        counts["often"] += 150
        counts["seldom"] += 50
        if time.monotonic() >= next_long:
            long_wait()
            counts["long"] += 1
            next_long += LONG_EVERY_S


def main():
    seconds = float(sys.argv[1])
    depth = int(sys.argv[2]) if len(sys.argv) > 2 else DEPTH
    counts = {"often": 0, "seldom": 0, "long": 0}
    print("ready", flush=True)
    sys.stdin.readline()
    deep(depth, seconds, counts)
    lines = {k: line_of("SITE-" + k.upper()) for k in counts}
    print(json.dumps({"waits": counts, "lines": lines}), flush=True)


main()
