"""Two contended locks at different paces, for lockprof top's tests (CPython 3.8+).

Two holder/waiter pairs as in holder_waiter.py, each on its own lock: ``fast_lock`` is held
--fast-ms (default 2) per round, ``slow_lock`` --slow-ms (default 40). The fast lock has many
short waits, the slow one few long ones, so sorting by waits/s and by average or max wait
order them differently. Every round's acquire by the waiter is contended (the holder waits
for the waiter's acknowledgement before taking the lock again).

Protocol: prints "ready" once its threads run, waits for "go" on stdin, runs --seconds, then
prints one JSON line: {"fast": {"waits": N, "seconds": S, "line": L}, "slow": {...}} with
each waiter's own count of contended waits and the time it ran; "line" is the line of the
with statement (enter_fast, enter_slow) where it waits.
"""

import argparse
import json
import sys
import threading
import time

fast_lock = threading.Lock()
slow_lock = threading.Lock()


class Pair:
    def __init__(self, lock, hold_s, stop_at):
        self.lock = lock
        self.hold_s = hold_s
        self.stop_at = stop_at
        self.held = threading.Event()
        self.ack = threading.Event()
        self.done = False
        self.waits = 0
        self.seconds = 0.0

    def hold(self):
        while not self.done:
            self.lock.acquire()
            self.held.set()
            time.sleep(self.hold_s)
            self.lock.release()
            self.ack.wait()
            self.ack.clear()

    def wait(self, enter):
        t0 = time.monotonic()
        while time.monotonic() < self.stop_at[0]:
            self.held.wait()
            self.held.clear()
            contended = self.lock.locked()
            enter()
            self.waits += contended
            self.ack.set()
        self.seconds = time.monotonic() - t0
        self.done = True
        self.ack.set()


def enter_fast():
    with fast_lock:  # FAST-LINE
        pass


def enter_slow():
    with slow_lock:  # SLOW-LINE
        pass


def wait_line(marker):
    with open(__file__) as f:
        for n, line in enumerate(f, 1):
            if line.rstrip().endswith("# " + marker):
                return n
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast-ms", type=float, default=2.0)
    ap.add_argument("--slow-ms", type=float, default=40.0)
    ap.add_argument("--seconds", type=float, default=15.0)
    args = ap.parse_args()

    stop_at = [float("inf")]
    pairs = {"fast": Pair(fast_lock, args.fast_ms / 1000, stop_at), "slow": Pair(slow_lock, args.slow_ms / 1000, stop_at)}
    go = threading.Event()
    threads = []
    enter = {"fast": enter_fast, "slow": enter_slow}
    for name, p in pairs.items():
        threads.append(threading.Thread(target=lambda p=p: (go.wait(), p.hold()), name=name + "-holder", daemon=True))
        threads.append(
            threading.Thread(target=lambda p=p, e=enter[name]: (go.wait(), p.wait(e)), name=name + "-waiter", daemon=True)
        )
    for t in threads:
        t.start()
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)
    stop_at[0] = time.monotonic() + args.seconds
    go.set()
    for t in threads[1::2]:
        t.join()
    lines = {"fast": wait_line("FAST-" + "LINE"), "slow": wait_line("SLOW-" + "LINE")}
    print(json.dumps({k: {"waits": p.waits, "seconds": p.seconds, "line": lines[k]} for k, p in pairs.items()}), flush=True)


if __name__ == "__main__":
    main()
