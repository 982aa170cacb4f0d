"""Hold-time workload for lockprof's -m full tests (CPython 3.8+).

Four phases after "go":

1. --rounds rounds on one threading.Lock, ``the_lock``: a holder thread
   takes it in ``with the_lock:`` (HOLD-LINE), lets a waiter thread run into it, keeps it
   --hold-ms milliseconds and releases it; the waiter blocks in
   ``with the_lock:`` (WAIT-LINE) until then, so each round has one
   uncontended acquisition (the holder's) and one contended one (the
   waiter's).  The holder measures its own hold time with perf_counter_ns
   from just after it took the lock to just before it lets it go.
2. --rlock-rounds rounds on one threading.RLock, ``the_rlock``, by one thread:
   ``with the_rlock:`` (RLOCK-LINE) around a re-entry ``with the_rlock:``
   (RLOCK-INNER-LINE) that sleeps --hold-ms; measured as in phase 1.
3. --cond-rounds rounds of ``with the_cond: the_cond.wait(HOLD)`` (COND-LINE) on a
   threading.Condition, whose lock is an RLock: the wait releases it, so each hold
   taken at COND-LINE ends when the wait begins, not after it.
4. --hot uncontended acquisitions of ``hot_lock`` in a tight loop (HOT-LINE),
   by one thread; with --hot-seconds S the loop runs for S seconds instead and
   "hot" is the number of acquisitions it made (a loop of fixed length can fall
   entirely in a window where -m full's duty cycle has its probes detached).

Protocol: prints "ready", waits for "go" on stdin, then prints one JSON line:
  {"rounds": N, "hold_ns": <holder's measured total>, "hot": M,
   "rlock_rounds": R, "rlock_hold_ns": <measured total>, "cond_rounds": C,
   "hold_line": ..., "wait_line": ..., "hot_line": ..., "rlock_line": ...,
   "rlock_inner_line": ..., "cond_line": ..., "python": "X.Y.Z"}
"""

import argparse
import json
import sys
import threading
import time

the_lock = threading.Lock()
hot_lock = threading.Lock()
the_rlock = threading.RLock()
the_cond = threading.Condition()  # an RLock inside


def marked_line(marker):
    with open(__file__) as f:
        for lineno, line in enumerate(f, 1):
            if line.rstrip().endswith("# " + marker):
                return lineno
    raise RuntimeError("marker %s not found" % marker)


class Rounds:
    def __init__(self, count, hold_s):
        self.count = count
        self.hold_s = hold_s
        self.held = threading.Event()
        self.ack = threading.Event()
        self.arriving = False
        self.hold_ns = 0

    def holder(self):
        for _ in range(self.count):
            with the_lock:  # HOLD-LINE
                t0 = time.perf_counter_ns()
                self.arriving = False
                self.held.set()
                time.sleep(self.hold_s)
                while not self.arriving:  # the waiter was starved of CPU: give it time to block
                    time.sleep(0.001)
                if not the_lock.locked():
                    raise RuntimeError("the_lock should be held")
                time.sleep(0.002)
                self.hold_ns += time.perf_counter_ns() - t0
            self.ack.wait()
            self.ack.clear()

    def waiter(self):
        for _ in range(self.count):
            self.held.wait()
            self.held.clear()
            self.arriving = True
            with the_lock:  # WAIT-LINE
                pass
            self.ack.set()


def rlock_rounds(n, hold_s, total):
    for _ in range(n):
        with the_rlock:  # RLOCK-LINE
            t0 = time.perf_counter_ns()
            with the_rlock:  # RLOCK-INNER-LINE
                time.sleep(hold_s)
            total[0] += time.perf_counter_ns() - t0


def cond_rounds(n, wait_s):
    for _ in range(n):
        with the_cond:  # COND-LINE
            the_cond.wait(wait_s)


def hot(n, seconds, counter):
    """n acquisitions, or as many as fit in seconds when seconds is set."""
    deadline = time.monotonic() + seconds
    done = 0
    while done < n if not seconds else time.monotonic() < deadline:
        with hot_lock:  # HOT-LINE
            pass
        done += 1
    counter[0] = done


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--hold-ms", type=float, default=10.0)
    ap.add_argument("--hot", type=int, default=0)
    ap.add_argument("--hot-seconds", type=float, default=0.0)
    ap.add_argument("--rlock-rounds", type=int, default=0)
    ap.add_argument("--cond-rounds", type=int, default=0)
    args = ap.parse_args()

    r = Rounds(args.rounds, args.hold_ms / 1000.0)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)
    threads = [threading.Thread(target=r.holder, name="holder"),
               threading.Thread(target=r.waiter, name="waiter")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rlock_ns = [0]
    if args.rlock_rounds:
        t = threading.Thread(target=rlock_rounds, args=(args.rlock_rounds, r.hold_s, rlock_ns), name="rlock")
        t.start()
        t.join()
    if args.cond_rounds:
        t = threading.Thread(target=cond_rounds, args=(args.cond_rounds, r.hold_s), name="cond")
        t.start()
        t.join()
    hot_count = [0]
    if args.hot or args.hot_seconds:
        t = threading.Thread(target=hot, args=(args.hot, args.hot_seconds, hot_count), name="hot")
        t.start()
        t.join()
    result = {
        "rounds": args.rounds,
        "hold_ns": r.hold_ns,
        "hot": hot_count[0],
        "rlock_rounds": args.rlock_rounds,
        "rlock_hold_ns": rlock_ns[0],
        "cond_rounds": args.cond_rounds,
        "hold_line": marked_line("HOLD-LINE"),
        "wait_line": marked_line("WAIT-LINE"),
        "hot_line": marked_line("HOT-LINE"),
        "rlock_line": marked_line("RLOCK-LINE"),
        "rlock_inner_line": marked_line("RLOCK-INNER-LINE"),
        "cond_line": marked_line("COND-LINE"),
        "python": "%d.%d.%d" % sys.version_info[:3],
    }
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
