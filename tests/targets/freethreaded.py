"""Free-threaded CPython workload for lockprof's functional tests (3.13t, 3.14t).

--mode objects (one run checks several facts):
  * a known object hold: the "sorter" thread sorts the shared list ``shared``
    with a key function that burns CPU for --key-ms per call, so it holds the
    list's critical section (list.sort takes it, and pure Python code never
    detaches the thread) for about len(shared) * --key-ms; the "appender"
    thread, told the sort has begun, appends to ``shared`` and times the
    append itself (perf_counter_ns around it): it waits for the sort to end.
    --rounds such rounds.
  * first, four "private" threads update dicts of their own (no object
    contention) while the main thread calls gc.collect() --collections times:
    stop-the-world pauses, initiated at the COLLECT line.
--mode hot: one thread, --count uncontended Lock acquisitions and --count
  updates of a dict (no other thread): no slow path is ever taken.

Protocol: prints "ready" on stdout, waits for a "go" line on stdin (EOF or
anything else: exit 1), runs, prints one JSON line on stdout, then stays
--linger seconds.  Marked lines carry a "# NAME-LINE" comment.
"""

import argparse
import gc
import json
import sys
import threading
import time

shared = []
PRIVATE_THREADS = 4


def burn(ms):
    end = time.perf_counter() + ms / 1000.0
    while time.perf_counter() < end:
        pass


class Objects:
    def __init__(self, args):
        self.args = args
        self.sorting = threading.Event()
        self.round_done = threading.Event()
        self.appended = threading.Event()
        self.stop = threading.Event()
        self.append_ns = []
        self.sort_ns = []
        self.appender_tid = None
        self.private_ops = 0

    def key(self, x):
        # Nothing here may block or wait (that would detach the thread, which suspends the
        # critical section): CPU only.
        burn(self.args.key_ms)
        return -x

    def sorter(self):
        for _ in range(self.args.rounds):
            shared[:] = range(self.args.items)
            t0 = time.perf_counter_ns()
            self.sorting.set()  # the appender clears it: it may start late
            shared.sort(key=self.key)  # SORT-LINE
            self.sort_ns.append(time.perf_counter_ns() - t0)
            self.appended.wait()
            self.appended.clear()
            self.round_done.set()

    def appender(self):
        self.appender_tid = threading.get_native_id()
        for i in range(self.args.rounds):
            self.sorting.wait()
            self.sorting.clear()
            time.sleep(self.args.key_ms * 5 / 1000.0)  # well inside the sort
            t0 = time.perf_counter_ns()
            shared.append(i)  # APPEND-LINE
            self.append_ns.append(time.perf_counter_ns() - t0)
            self.appended.set()
            self.round_done.wait()
            self.round_done.clear()

    def private(self):
        mine = {}
        n = 0
        while not self.stop.is_set():
            for k in range(1000):
                mine[k] = n  # PRIVATE-LINE
            n += 1
        self.private_ops += n * 1000


def run_objects(args):
    o = Objects(args)
    sorter = threading.Thread(target=o.sorter, name="sorter")
    appender = threading.Thread(target=o.appender, name="appender")
    private = [threading.Thread(target=o.private, name="private-%d" % i) for i in range(PRIVATE_THREADS)]
    go()
    for t in private:
        t.start()
    # The collections first: a stop-the-world pause detaches every thread, which suspends the
    # critical section the sorter holds.
    collections = 0
    for _ in range(args.collections):
        time.sleep(0.02)
        gc.collect()  # COLLECT-LINE
        collections += 1
    o.stop.set()
    for t in private:
        t.join()
    sorter.start()
    appender.start()
    sorter.join()
    appender.join()
    return {
        "append_ns": o.append_ns,
        "sort_ns": o.sort_ns,
        "appender_tid": o.appender_tid,
        "collections": collections,
        "private_ops": o.private_ops,
    }


def run_hot(args):
    lock = threading.Lock()
    d = {}
    go()
    t0 = time.perf_counter_ns()
    for i in range(args.count):
        with lock:
            pass
    for i in range(args.count):
        d[i & 1023] = i
    return {"count": args.count, "elapsed_ns": time.perf_counter_ns() - t0}


def go():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)


def marked_lines():
    lines = {}
    with open(__file__) as f:
        for lineno, line in enumerate(f, 1):
            if line.rstrip().endswith("-LINE") and "# " in line:
                lines[line.rstrip().rsplit("# ", 1)[1]] = lineno
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("objects", "hot"), required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--items", type=int, default=60)
    ap.add_argument("--key-ms", type=float, default=2.0)
    ap.add_argument("--collections", type=int, default=10)
    ap.add_argument("--count", type=int, default=200000)
    ap.add_argument("--linger", type=float, default=0.0)
    args = ap.parse_args()
    result = run_objects(args) if args.mode == "objects" else run_hot(args)
    result["lines"] = marked_lines()
    result["python"] = "%d.%d.%d" % sys.version_info[:3]
    result["gil_enabled"] = getattr(sys, "_is_gil_enabled", lambda: True)()
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    time.sleep(args.linger)


if __name__ == "__main__":
    main()
