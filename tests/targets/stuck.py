"""Stuck processes for `lockprof dump`'s functional tests (CPython 3.8+).

--scenario picks what the threads do; each prints "ready" on stdout once every
thread has reached the state the test dumps, then the process stays until killed.

  deadlock   two threads take two Locks in opposite orders through `with`
  rlock      the same with RLocks
  acquire    the same, the first lock of each thread taken by acquire() (no with)
  rlock-acquire  the same with RLocks (their owner field still shows the cycle)
  condition  deadlock: the first "lock" of each thread is a Condition on a Lock
  waits      one thread in queue.get(), one in Event.wait(), one in time.sleep()
             (its Thread's attributes in a dict of its own), one CPU-bound; no deadlock

Lines the tests look for carry a marker comment ("# NAME") at their end. A JSON
line before "ready" gives the native thread ids: {"ab": tid, "ba": tid, ...}.
"""

import argparse
import json
import queue
import sys
import threading
import time

both_hold = threading.Barrier(3)
tids = {}


def record(name):
    tids[name] = threading.get_native_id()


def deadlock(a, b):
    def ab():
        record("ab")
        with a:  # AB-OUTER
            both_hold.wait()
            with b:  # AB-INNER
                pass

    def ba():
        record("ba")
        with b:  # BA-OUTER
            both_hold.wait()
            with a:  # BA-INNER
                pass

    return ab, ba


def acquire_deadlock(lock_a, lock_b):
    def ab():
        record("ab")
        lock_a.acquire()  # ACQ-AB-OUTER
        both_hold.wait()
        with lock_b:  # ACQ-AB-INNER
            pass

    def ba():
        record("ba")
        lock_b.acquire()  # ACQ-BA-OUTER
        both_hold.wait()
        with lock_a:  # ACQ-BA-INNER
            pass

    return ab, ba


def blocked(tid_names, timeout=10.0):
    """True once every named thread sleeps in a futex wait (syscall 202)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ok = True
        for name in tid_names:
            try:
                with open("/proc/self/task/%d/syscall" % tids[name]) as f:
                    ok = ok and f.read().split()[0] == "202"
            except (OSError, KeyError, IndexError):
                ok = False
        if ok:
            return True
        time.sleep(0.02)
    return False


def spin():
    record("spin")
    x = 0
    while True:
        x += 1  # SPIN


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", required=True)
    args = ap.parse_args()
    wait_for = ["ab", "ba"]
    if args.scenario == "deadlock":
        a, b = threading.Lock(), threading.Lock()
        fns = deadlock(a, b)
    elif args.scenario == "rlock":
        a, b = threading.RLock(), threading.RLock()
        fns = deadlock(a, b)
    elif args.scenario == "acquire":
        lock_a, lock_b = threading.Lock(), threading.Lock()
        fns = acquire_deadlock(lock_a, lock_b)
    elif args.scenario == "condition":
        a, b = threading.Condition(threading.Lock()), threading.Condition(threading.Lock())
        fns = deadlock(a, b)
    elif args.scenario == "rlock-acquire":
        lock_a, lock_b = threading.RLock(), threading.RLock()
        fns = acquire_deadlock(lock_a, lock_b)
    elif args.scenario == "waits":
        q = queue.Queue()
        ev = threading.Event()

        def consumer():
            record("queue")
            q.get()  # QUEUE-GET

        def event_waiter():
            record("event")
            ev.wait()  # EVENT-WAIT

        def sleeper():
            record("sleep")
            time.sleep(3600)  # SLEEP

        fns = (consumer, event_waiter, sleeper, spin)
        wait_for = ["queue", "event"]
    else:
        sys.exit("unknown scenario " + args.scenario)
    threads = [threading.Thread(target=fn, name="worker-" + fn.__name__, daemon=True) for fn in fns]
    if args.scenario == "waits":
        # The sleeper's Thread keeps its attributes in a dict of its own, not the instance's
        # inline values: its name is found through the instance dict (3.11+: the managed one).
        threads[2].__dict__ = dict(vars(threads[2]))
    for t in threads:
        t.start()
    if args.scenario != "waits":
        both_hold.wait()
    time.sleep(0.2)
    if not blocked(wait_for):
        sys.exit("threads did not block")
    print(json.dumps(tids), flush=True)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
