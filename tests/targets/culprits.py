"""Workloads for lockprof's "who and what" tests (CPython 3.8+): lock names from creation
sites, holder blame, idle waits kept apart from contention, resource waits, and native locks.

Protocol: prints "ready", waits for a "go" line on stdin, runs --scenario, then prints one JSON
line with what the workload measured itself. Lines the tests look for carry marker comments
(found by reading this file), so no line number is hard-coded.
"""

import argparse
import json
import os
import queue
import sys
import tempfile
import threading
import time


def ns():
    return time.perf_counter_ns()


def settle(seconds, arriving):
    """Before a release: a waiter starved of CPU (a loaded machine) may not have reached the lock
    yet, and would then take it without blocking. Wait until it is about to block, then give it
    the time to."""
    if not arriving.is_set():
        arriving.wait()
        time.sleep(seconds)
    arriving.clear()


class Store:
    """Two locks held by one class, contended from two call sites."""

    def __init__(self):
        self._a = threading.Lock()  # CREATE-A
        self._b = threading.Lock()  # CREATE-B

    def hold_a(self, seconds, held, arriving):
        self._a.acquire()
        held.set()
        time.sleep(seconds)
        settle(seconds, arriving)
        self._a.release()  # RELEASE-A

    def wait_a(self):
        t0 = ns()
        with self._a:  # WAIT-A
            return ns() - t0

    def hold_b(self, seconds, held, arriving):
        self._b.acquire()
        held.set()
        time.sleep(seconds)
        settle(seconds, arriving)
        self._b.release()  # RELEASE-B

    def wait_b(self):
        t0 = ns()
        with self._b:  # WAIT-B
            return ns() - t0


def contend(hold, wait, rounds, hold_s):
    """rounds of: a holder takes the lock, then a waiter blocks on it until the release."""
    measured = [0]
    held, done, arriving = threading.Event(), threading.Event(), threading.Event()

    def waiter():
        for _ in range(rounds):
            held.wait()  # the holder has the lock and sleeps in it: the acquire will block
            held.clear()
            arriving.set()
            measured[0] += wait()
            done.set()

    def holder():
        for _ in range(rounds):
            hold(hold_s, held, arriving)
            done.wait()  # the waiter got and released the lock
            done.clear()

    threads = [threading.Thread(target=waiter), threading.Thread(target=holder)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return measured[0]


def scenario_locks(args):
    store = Store()
    wait_a = contend(store.hold_a, store.wait_a, args.rounds, args.hold_ms / 1e3)
    wait_b = contend(store.hold_b, store.wait_b, args.rounds, args.hold_ms / 1e3)
    return {"waits_a": args.rounds, "wait_ns_a": wait_a, "waits_b": args.rounds, "wait_ns_b": wait_b}


def scenario_queue(args):
    q = queue.Queue()  # QUEUE-CREATE
    blocked = []
    lock = threading.Lock()

    def consumer():
        total = 0
        while True:
            t0 = ns()
            item = q.get()  # QUEUE-GET
            total += ns() - t0
            if item is None:
                break
        with lock:
            blocked.append(total)

    consumers = [threading.Thread(target=consumer) for _ in range(4)]
    for t in consumers:
        t.start()
    for i in range(args.rounds):
        time.sleep(args.hold_ms / 1e3)
        q.put(i)
    for _ in consumers:
        q.put(None)
    for t in consumers:
        t.join()
    return {"idle_ns": sum(blocked), "items": args.rounds}


def scenario_events(args):
    event = threading.Event()
    cond = threading.Condition()
    waited = []

    def event_waiter():
        t0 = ns()
        event.wait()  # EVENT-WAIT
        waited.append(ns() - t0)

    def cond_waiter():
        t0 = ns()
        with cond:
            cond.wait(timeout=args.hold_ms * args.rounds / 1e3 * 4)  # COND-WAIT
        waited.append(ns() - t0)

    threads = [threading.Thread(target=event_waiter) for _ in range(2)]
    threads += [threading.Thread(target=cond_waiter) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(args.hold_ms * args.rounds / 1e3)
    event.set()
    with cond:
        cond.notify_all()
    for t in threads:
        t.join()
    return {"idle_ns": sum(waited)}


def scenario_buffered(args):
    # Writes larger than the buffer go to the OS with the BufferedWriter's lock held and the GIL
    # released, so the other writer blocks on that (C-level) lock.
    tmpdir = "/dev/shm" if os.path.isdir("/dev/shm") else None
    fd, path = tempfile.mkstemp(prefix="lockprof-buffered-", dir=tmpdir)
    os.close(fd)
    chunk = b"x" * (1 << 20)
    try:
        with open(path, "wb") as fh:  # BUFFERED-OPEN

            def writer():
                for _ in range(args.rounds):
                    fh.write(chunk)  # BUFFERED-WRITE

            threads = [threading.Thread(target=writer) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        os.unlink(path)
    return {"bytes": 2 * args.rounds * len(chunk)}


def scenario_pool(args):
    """A resource pool smaller than its users: 6 workers each take one of 2 slots mid-request
    (a threading.Semaphore, as a connection pool's limit) and hold it --hold-ms. The waits for a
    slot are resource waits, measured here around the acquire that blocked."""
    slots = threading.Semaphore(2)  # POOL-CREATE
    waited = []

    def checkout():
        if slots.acquire(blocking=False):
            return 0
        t0 = ns()
        slots.acquire()  # POOL-WAIT
        return ns() - t0

    def handle_request():
        spent = checkout()
        time.sleep(args.hold_ms / 1e3)
        slots.release()  # POOL-RELEASE
        return spent

    def worker():
        total = 0
        for _ in range(args.rounds):
            total += handle_request()
        waited.append(total)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"resource_ns": sum(waited)}


def tiny(x):
    return x + 1


def scenario_threadpool(args):
    """concurrent.futures.ThreadPoolExecutor mapping tiny tasks in bursts, idle between them: the
    workers wait for work in SimpleQueue.get, which is idle waiting, not contention."""
    import concurrent.futures

    idle_s = 0.0
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        for _ in range(3):
            sum(ex.map(tiny, range(args.rounds * 100)))
            time.sleep(args.hold_ms / 1e3)
            idle_s += args.hold_ms / 1e3
    return {"idle_s": idle_s}


SCENARIOS = {
    "pool": scenario_pool,
    "threadpool": scenario_threadpool,
    "locks": scenario_locks,
    "queue": scenario_queue,
    "events": scenario_events,
    "buffered": scenario_buffered,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--hold-ms", type=float, default=10.0)
    args = parser.parse_args()
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)
    result = SCENARIOS[args.scenario](args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
