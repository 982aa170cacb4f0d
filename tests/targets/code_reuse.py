"""A code object freed and another created at its address (CPython 3.8+), for lockprof's stale
frame test: function wait_a (file fileA.py) waits on a contended lock, is dropped, then wait_b
(file fileB.py) is created with its code object where wait_a's was, and waits on the same lock
from the same call site. lockprof must name each wait after the function that really waited.

As when a module's <module> code is freed after import while the module lives on, wait_a's
globals (its module's namespace) stay alive; only its function and code objects are freed.

Protocol: prints "ready", waits for a "go" line on stdin, runs, then prints one line of evidence
("reuse: ...") and one JSON line with what the workload measured itself.
"""

import argparse
import json
import marshal
import sys
import threading
import time
import types

SOURCE = "def {name}(lock):\n    with lock:  # the wait\n        pass\n"


def ns():
    return time.perf_counter_ns()


def settle(seconds, arriving):
    """Before a release: wait until the waiter is about to block, then give it the time to."""
    if not arriving.is_set():
        arriving.wait()
        time.sleep(seconds)
    arriving.clear()


def contend(lock, wait, rounds, hold_s):
    """rounds of: a holder takes the lock, then a waiter blocks on it in wait(lock)."""
    measured = [0]
    held, done, arriving = threading.Event(), threading.Event(), threading.Event()

    def waiter():
        for _ in range(rounds):
            held.wait()
            held.clear()
            arriving.set()
            t0 = ns()
            wait(lock)
            measured[0] += ns() - t0
            done.set()

    def holder():
        for _ in range(rounds):
            lock.acquire()
            held.set()
            time.sleep(hold_s)
            settle(hold_s, arriving)
            lock.release()
            done.wait()
            done.clear()

    threads = [threading.Thread(target=waiter), threading.Thread(target=holder)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return measured[0]


def function_code(module_code):
    return [c for c in module_code.co_consts if isinstance(c, types.CodeType)][0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--hold-ms", type=float, default=10.0)
    parser.add_argument("--attempts", type=int, default=20000)
    args = parser.parse_args()
    hold_s = args.hold_ms / 1e3
    lock = threading.Lock()
    # B compiled now; re-created from marshal after A is gone, which allocates little else.
    blob_b = marshal.dumps(compile(SOURCE.format(name="wait_b"), "fileB.py", "exec"))
    globals_a = {}
    module_a = compile(SOURCE.format(name="wait_a"), "fileA.py", "exec")
    exec(module_a, globals_a)
    wait_a = globals_a["wait_a"]
    code_a, function_a = id(wait_a.__code__), id(wait_a)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)

    wait_ns_a = contend(lock, wait_a, args.rounds, hold_s)
    # lockprof names a stack when it first sees it: let it read wait_a's code while it lives.
    time.sleep(0.3)
    # Freed here by reference counting; a gc.collect() would allocate and could take the block.
    del module_a, wait_a, globals_a["wait_a"]

    # Re-create B until its function's code object lands at A's address. Misses stay alive,
    # so that the allocator moves on to other free blocks, A's among them.
    misses = []
    for attempt in range(1, args.attempts + 1):
        module_b = marshal.loads(blob_b)
        if id(function_code(module_b)) == code_a:
            break
        misses.append(module_b)
    else:
        module_b = None
    reused = module_b is not None
    wait_ns_b = 0
    if reused:
        globals_b = {}
        exec(module_b, globals_b)
        wait_b = globals_b["wait_b"]
        print(
            "reuse: wait_a's code object was at 0x%x; wait_b's is at 0x%x (%s, %s), attempt %d;"
            " function object at the same address too: %s"
            % (
                code_a,
                id(wait_b.__code__),
                wait_b.__code__.co_name,
                wait_b.__code__.co_filename,
                attempt,
                "yes" if id(wait_b) == function_a else "no",
            ),
            flush=True,
        )
        wait_ns_b = contend(lock, wait_b, args.rounds, hold_s)
    else:
        print("reuse: no code object landed at 0x%x in %d attempts" % (code_a, args.attempts), flush=True)
    del misses
    print(
        json.dumps(
            {
                "reused": reused,
                "code_a": code_a,
                "attempts": attempt,
                "waits_a": args.rounds,
                "wait_ns_a": wait_ns_a,
                "waits_b": args.rounds if reused else 0,
                "wait_ns_b": wait_ns_b,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
