"""GIL workload for lockprof's tests (CPython 3.8+): --busy threads spin in pure Python for
--seconds while --sleepers threads sleep in time.sleep. Each thread measures its wall time and
its CPU time: a busy thread that is not running on the GIL waits for it, so wall - CPU is its
GIL wait, once the time it spent runnable but waiting for a CPU (from the kernel's schedstat)
is taken off too.

Protocol: prints "ready", waits for "go" on stdin, runs, prints one JSON line:
{"threads": [{"tid": native id, "kind": "busy"|"sleeper", "wall_ns": .., "cpu_ns": ..,
  "runqueue_ns": .., "blocked_ns": wall - cpu - runqueue}], "busy_line": N}
"""

import argparse
import json
import os
import sys
import threading
import time

results = []
results_lock = threading.Lock()


def schedstat():
    """(ns on a CPU, ns runnable waiting for a CPU) of the calling thread."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            run, wait, _ = f.read().split()
        return int(run), int(wait)
    except OSError:
        return 0, 0


def steal_ns():
    """Time the hypervisor ran something else on this VM's CPUs (all of them, since boot).
    A thread preempted that way is neither on a CPU nor runnable in its own accounting, so it
    looks blocked: on a busy VM this is part of what wall - CPU - runqueue counts."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) * 1000000000 // os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0


go = threading.Event()


def busy(seconds):
    go.wait()
    start, cpu0, sched0, steal0 = time.perf_counter_ns(), time.thread_time_ns(), schedstat(), steal_ns()
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:  # BUSY-LINE
        n += 1
    record("busy", start, cpu0, sched0, steal0)


def sleeper(seconds):
    go.wait()
    start, cpu0, sched0, steal0 = time.perf_counter_ns(), time.thread_time_ns(), schedstat(), steal_ns()
    time.sleep(seconds)  # one long sleep: it needs the GIL once, when it wakes
    record("sleeper", start, cpu0, sched0, steal0)


def record(kind, start, cpu0, sched0, steal0):
    wall = time.perf_counter_ns() - start
    cpu = time.thread_time_ns() - cpu0
    runqueue = schedstat()[1] - sched0[1]
    entry = {
        "tid": threading.get_native_id(),
        "kind": kind,
        "wall_ns": wall,
        "cpu_ns": cpu,
        "runqueue_ns": runqueue,
        "blocked_ns": wall - cpu - runqueue,
        "steal_ns": steal_ns() - steal0,
    }
    with results_lock:
        results.append(entry)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--busy", type=int, default=2)
    parser.add_argument("--sleepers", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    # Threads exist before "ready", so a test can map their ids (PID namespaces) then.
    threads = [threading.Thread(target=busy, args=(args.seconds,)) for _ in range(args.busy)]
    threads += [threading.Thread(target=sleeper, args=(args.seconds,)) for _ in range(args.sleepers)]
    for t in threads:
        t.start()
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        go.set()
        sys.exit(1)
    go.set()
    for t in threads:
        t.join()
    with open(__file__) as f:
        busy_line = [n for n, line in enumerate(f, 1) if line.rstrip().endswith("# BUSY-LINE")][0]
    print(json.dumps({"threads": results, "busy_line": busy_line}), flush=True)


if __name__ == "__main__":
    main()
