"""A process that is not profiled, busy on the paths lockprof probes in the profiled one
(CPython 3.8+): two threads hand two threading.Locks back and forth (contended waits and
releases, through the same libc and, for a shared build, the same libpython as the target),
and a third makes syscalls (futex wakes on a Condition nobody waits on, and writes).

Prints "ready", waits for "go" on stdin, runs --seconds, then prints one JSON line:
  {"handoffs": N, "syscalls": N}
"""

import argparse
import json
import os
import sys
import threading
import time


def ping_pong(deadline):
    """Two threads alternate through two locks: each handoff is a contended wait."""
    a, b = threading.Lock(), threading.Lock()
    a.acquire()
    b.acquire()
    count = [0]

    def other():
        while True:
            a.acquire()
            if time.monotonic() >= deadline:
                b.release()
                return
            b.release()

    t = threading.Thread(target=other)
    t.start()
    while time.monotonic() < deadline:
        a.release()
        b.acquire()
        count[0] += 1
    a.release()
    t.join()
    return count[0]


def syscalls(deadline, out):
    cond = threading.Condition()
    fd = os.open(os.devnull, os.O_WRONLY)
    n = 0
    while time.monotonic() < deadline:
        with cond:
            cond.notify()
        os.write(fd, b"x")
        n += 1
    os.close(fd)
    out.append(n)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)
    deadline = time.monotonic() + args.seconds
    out = []
    t = threading.Thread(target=syscalls, args=(deadline, out))
    t.start()
    handoffs = ping_pong(deadline)
    t.join()
    print(json.dumps({"handoffs": handoffs, "syscalls": out[0]}), flush=True)


if __name__ == "__main__":
    main()
