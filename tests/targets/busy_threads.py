"""A busy process for `lockprof dump`: --threads threads increment a shared counter under one
Lock (and their own under an RLock) for --seconds, then check that nothing was lost.

With --seconds 0 it runs until a line on stdin. Prints "ready" once every thread runs, then
the JSON line
  {"ok": true/false, "ops": N, "threads": T}
at the end: ok is the self-check (the shared counter equals the sum of the threads' own).
"""

import argparse
import json
import sys
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=100)
ap.add_argument("--seconds", type=float, default=3.0)
args = ap.parse_args()

shared_lock = threading.Lock()
shared = [0]
own = [0] * args.threads
started = threading.Barrier(args.threads + 1)
stop = threading.Event()


def work(i):
    mine = threading.RLock()
    started.wait()
    while not stop.is_set():
        with shared_lock:
            shared[0] += 1
            with mine:
                own[i] += 1
        if own[i] % 64 == 0:
            time.sleep(0.0005)


threads = [threading.Thread(target=work, args=(i,), name="busy-%d" % i) for i in range(args.threads)]
for t in threads:
    t.start()
started.wait()
print("ready", flush=True)
if args.seconds > 0:
    time.sleep(args.seconds)
else:
    sys.stdin.readline()
stop.set()
for t in threads:
    t.join()
print(json.dumps({"ok": shared[0] == sum(own), "ops": shared[0], "threads": args.threads}), flush=True)
