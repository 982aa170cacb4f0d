"""Floods a profiler with distinct waits, to fill its maps and ring buffer (CPython 3.8+).

Every wait here is a timed acquire of a lock the main thread already holds:
lock.acquire(timeout=1e-6) blocks in the libc semaphore wait (or the 3.13+
parking lot) and times out at once, so each call is exactly one wait, no
second thread needed.

Commands, one per line on stdin; each is answered by one JSON line on stdout:
  locks N    N waits, each on a different lock, all from one line (WAIT-LOCKS)
  stacks N   N waits on one lock, each from a different function, so each has
             its own Python stack (code objects generated and kept alive)
  quit       exit
Prints "ready" first.
"""

import json
import sys
import threading

MARKER_LOCKS = "# " + "WAIT-LOCKS"

held = []  # every lock stays alive and held: no address is reused
functions = []


def wait_on_each(locks):
    timeouts = 0
    for lock in locks:
        if not lock.acquire(timeout=1e-6):  # WAIT-LOCKS
            timeouts += 1
    return timeouts


def make_functions(n, first):
    """n distinct functions, each doing one timed acquire on the lock it is given."""
    src = "".join(
        "def flood_%d(lock):\n    return lock.acquire(timeout=1e-6)\n" % i for i in range(first, first + n)
    )
    ns = {}
    exec(compile(src, "<flood>", "exec"), ns)
    return [ns["flood_%d" % i] for i in range(first, first + n)]


def main():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        n = int(words[1])
        if words[0] == "locks":
            locks = [threading.Lock() for _ in range(n)]
            for lock in locks:
                lock.acquire()
            held.extend(locks)
            timeouts = wait_on_each(locks)
        elif words[0] == "stacks":
            fns = make_functions(n, len(functions))
            functions.extend(fns)
            lock = threading.Lock()
            lock.acquire()
            held.append(lock)
            timeouts = sum(1 for f in fns if not f(lock))
        else:
            raise SystemExit("unknown command %r" % line)
        sys.stdout.write(json.dumps({"command": words[0], "n": n, "timeouts": timeouts}) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
