"""Busy multi-threaded workload that checks its own results (CPython 3.8+).

--threads workers hammer shared state under a threading.Lock and an RLock,
and hand items through a queue.Queue (Condition waits), from the moment the
script starts until it reads a line on stdin (or EOF).  Inside the critical
sections a worker reads, yields the GIL (time.sleep(0)) and writes back, so a
lock that failed to exclude would lose updates, and the threads really block
on each other.  Each worker also keeps, outside any lock, what it added: at the
end the shared totals must equal the sum of the workers' own.

Protocol: prints "ready" once every worker has done some work, then runs until
a line (or EOF) on stdin, then prints one JSON line:
  {"ok": bool, "ops": N, "total": T, "expected": E, "queue_items": Q,
   "queue_expected": QE, "seconds": S, "python": "X.Y.Z"}
"""

import argparse
import json
import platform
import queue
import sys
import threading
import time

MOD = 1000000007


class Shared:
    def __init__(self):
        self.lock = threading.Lock()
        self.rlock = threading.RLock()
        self.total = 0
        self.count = 0
        self.rtotal = 0
        self.stop = False
        self.q = queue.Queue(maxsize=8)
        self.consumed = 0


def worker(s, index, mine, started):
    added = count = radded = 0
    k = 0
    while not s.stop:
        k += 1
        x = (index * 1000003 + k * 7919) % MOD
        with s.lock:
            v = s.total
            if k % 4 == 0:
                time.sleep(0)  # hand the GIL over inside the critical section
            s.total = (v + x) % MOD
            s.count += 1
        added = (added + x) % MOD
        count += 1
        if k % 3 == 0:
            with s.rlock:
                with s.rlock:  # re-entry
                    r = s.rtotal
                    time.sleep(0)
                    s.rtotal = r + 1
            radded += 1
        if k == 50:
            started.release()
    mine[index] = (added, count, radded)


def producer(s, produced):
    n = 0
    while not s.stop:
        try:
            s.q.put(n, timeout=0.05)
        except queue.Full:
            continue
        n += 1
    produced.append(n)


def consumer(s):
    while True:
        item = s.q.get()
        if item is None:
            return
        s.consumed += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()

    s = Shared()
    mine = {}
    produced = []
    started = threading.Semaphore(0)
    workers = [threading.Thread(target=worker, args=(s, i, mine, started)) for i in range(args.threads)]
    prod = threading.Thread(target=producer, args=(s, produced))
    cons = threading.Thread(target=consumer, args=(s,))
    t0 = time.perf_counter()
    for t in workers + [prod, cons]:
        t.start()
    for _ in workers:
        started.acquire()
    sys.stdout.write("ready\n")
    sys.stdout.flush()

    sys.stdin.readline()
    s.stop = True
    for t in workers + [prod]:
        t.join()
    s.q.put(None)
    cons.join()
    seconds = time.perf_counter() - t0

    expected = sum(a for a, _, _ in mine.values()) % MOD
    count = sum(c for _, c, _ in mine.values())
    rexpected = sum(r for _, _, r in mine.values())
    ok = (
        len(mine) == args.threads
        and s.total == expected
        and s.count == count
        and s.rtotal == rexpected
        and s.consumed == produced[0]
    )
    sys.stdout.write(
        json.dumps(
            {
                "ok": ok,
                "ops": count,
                "total": s.total,
                "expected": expected,
                "count": s.count,
                "rtotal": s.rtotal,
                "rexpected": rexpected,
                "queue_items": s.consumed,
                "queue_expected": produced[0],
                "seconds": seconds,
                "python": platform.python_version(),
            }
        )
        + "\n"
    )
    sys.stdout.flush()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
