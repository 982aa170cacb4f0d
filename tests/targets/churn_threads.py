"""Threads that come and go for `lockprof dump`: --workers threads each start short-lived
threads one after another (each takes a lock, sleeps a little, exits) until a line
("stop") or the end of stdin, or --seconds at most.

Prints "ready" once started; at the end one JSON line {"started": N}.
"""

import argparse
import json
import sys
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--workers", type=int, default=4)
ap.add_argument("--seconds", type=float, default=4.0)
args = ap.parse_args()

lock = threading.Lock()
started = [0]
stop = threading.Event()


def short():
    with lock:
        started[0] += 1
    time.sleep(0.001)


def spawner():
    while not stop.is_set():
        t = threading.Thread(target=short)
        t.start()
        t.join()


workers = [threading.Thread(target=spawner) for _ in range(args.workers)]
for w in workers:
    w.start()
print("ready", flush=True)
# Until told: a test's dumps on a loaded machine may take longer than any fixed run.
def read_stop():
    sys.stdin.readline()
    stop.set()


threading.Thread(target=read_stop, daemon=True).start()
stop.wait(args.seconds)
stop.set()
for w in workers:
    w.join()
print(json.dumps({"started": started[0]}), flush=True)
