"""Two locks at one address, one after the other (CPython 3.8+).

lock_alpha is contended ROUNDS times, freed, and locks are then created until one
lands where lock_alpha's lock lived (the address lockprof keys locks by: the
PyThread lock, or the PyMutex inside the object on 3.13.1+); that one,
lock_beta, is contended ROUNDS times. Each phase has its own holder thread,
which holds the lock HOLD_MS per round while the main thread waits for it.

Prints "ready", waits for "go" on stdin, runs, prints one JSON line: whether the
address was reused, the address, the waits per lock and the waiting lines.
"""

import ctypes
import gc
import json
import sys
import threading
import time

ROUNDS = 20
HOLD_MS = 20
BLOCKED_S = 0.002  # an acquisition this long waited for the holder
MAX_TRIES = 100000


def key_address(lock):
    """The address lockprof keys this lock by (its BPF `lock`)."""
    v = sys.version_info
    inline_mutex = v >= (3, 14) or (v[:2] == (3, 13) and v[2] >= 1)
    if inline_mutex:
        return id(lock) + 16  # PyMutex right after the object header
    # lockobject: PyObject_HEAD, then the PyThread_type_lock (a sem_t*, or a PyMutex* on 3.13.0)
    return ctypes.c_void_p.from_address(id(lock) + 16).value


def holder(lock, taken, done):
    for _ in range(ROUNDS):
        lock.acquire()
        taken.set()
        time.sleep(HOLD_MS / 1000.0)
        lock.release()
        done.wait()
        done.clear()


def contend_alpha(lock_alpha):
    taken, done = threading.Event(), threading.Event()
    t = threading.Thread(target=holder, args=(lock_alpha, taken, done))
    t.start()
    blocked = 0
    for _ in range(ROUNDS):
        taken.wait()
        taken.clear()
        t0 = time.monotonic()
        with lock_alpha:  # WAIT-ALPHA
            blocked += time.monotonic() - t0 >= BLOCKED_S
        done.set()
    t.join()
    return blocked


def contend_beta(lock_beta):
    taken, done = threading.Event(), threading.Event()
    t = threading.Thread(target=holder, args=(lock_beta, taken, done))
    t.start()
    blocked = 0
    for _ in range(ROUNDS):
        taken.wait()
        taken.clear()
        t0 = time.monotonic()
        with lock_beta:  # WAIT-BETA
            blocked += time.monotonic() - t0 >= BLOCKED_S
        done.set()
    t.join()
    return blocked


def line_of(marker):
    with open(__file__) as f:
        for n, text in enumerate(f, 1):
            if text.rstrip().endswith("# " + marker):
                return n
    raise SystemExit("no line marked " + marker)


def main():
    print("ready", flush=True)
    sys.stdin.readline()
    lock_alpha = threading.Lock()
    address = key_address(lock_alpha)
    blocked = {"alpha": contend_alpha(lock_alpha), "beta": 0}
    del lock_alpha
    gc.collect()
    time.sleep(0.05)  # a gap between the two lifetimes
    kept = []
    lock_beta = None
    for _ in range(MAX_TRIES):
        candidate = threading.Lock()
        if key_address(candidate) == address:
            lock_beta = candidate
            break
        kept.append(candidate)  # alive, so the next one takes another address
    reused = lock_beta is not None
    if reused:
        blocked["beta"] = contend_beta(lock_beta)
    print(
        json.dumps(
            {
                "reused": reused,
                "address": "0x%x" % address,
                "tries": len(kept) + 1,
                "waits": ROUNDS,
                "blocked": blocked,
                "lines": {"alpha": line_of("WAIT-ALPHA"), "beta": line_of("WAIT-BETA")},
            }
        ),
        flush=True,
    )


main()
