"""Lock-order workload for -m full's inversion report (CPython 3.8+).

--order inverted: phase 1 takes a then b (with), phase 2, later, b then a; the
phases never overlap, so it never deadlocks. --order consistent: both phases
take a then b. Each phase runs --rounds short-lived threads one after another.

Protocol: prints "ready", waits for "go" on stdin, runs, prints one JSON line
{"rounds": N} and exits. Lines the tests look for end with "# NAME" markers.
"""

import argparse
import json
import sys
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--order", choices=("inverted", "consistent"), required=True)
ap.add_argument("--rounds", type=int, default=20)
args = ap.parse_args()

lock_a = threading.Lock()
lock_b = threading.Lock()


def a_then_b():
    with lock_a:  # A-THEN-B-OUTER
        with lock_b:  # A-THEN-B-INNER
            pass


def b_then_a():
    with lock_b:  # B-THEN-A-OUTER
        with lock_a:  # B-THEN-A-INNER
            pass


print("ready", flush=True)
if sys.stdin.readline().strip() != "go":
    sys.exit(1)
for phase in (a_then_b, b_then_a if args.order == "inverted" else a_then_b):
    for _ in range(args.rounds):
        t = threading.Thread(target=phase)
        t.start()
        t.join()
print(json.dumps({"rounds": args.rounds}), flush=True)
