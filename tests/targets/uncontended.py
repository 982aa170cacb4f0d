"""Uncontended workload for lockprof's functional tests (CPython 3.8+).

One thread (the main thread) takes and releases one threading.Lock 200,000
times.  Nothing else competes for it, so no acquire should ever reach the
libc semaphore slow path that lockprof probes.

Protocol: prints "ready" on stdout, waits for a "go" line on stdin (EOF or
anything else: exit 1), runs, then prints one JSON line on stdout:
  {"count": 200000, "elapsed_ns": ..., "python": "X.Y.Z"}
"""

import json
import sys
import threading
import time

COUNT = 200000


def spin(lock, count):
    for _ in range(count):
        with lock:
            pass


def main():
    lock = threading.Lock()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)
    t0 = time.perf_counter_ns()
    spin(lock, COUNT)
    elapsed = time.perf_counter_ns() - t0
    result = {"count": COUNT, "elapsed_ns": elapsed, "python": "%d.%d.%d" % sys.version_info[:3]}
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
