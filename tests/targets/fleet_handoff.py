"""Known contention for the multi-process tests: N handoffs, each one contended wait of about
HOLD seconds on `fleet_lock` (the waiter blocks while the holder sleeps holding it).

Prints "ready", waits for a line on stdin, runs, prints "done N", then exits.
"""
import sys
import threading
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100
HOLD = 0.004

fleet_lock = threading.Lock()
held = threading.Event()
turn = threading.Semaphore(0)


def holder():
    for _ in range(N):
        turn.acquire()
        with fleet_lock:
            held.set()
            time.sleep(HOLD)


def waiter():
    for _ in range(N):
        held.clear()
        turn.release()
        held.wait()
        with fleet_lock:  # blocks until the holder's sleep ends
            pass


print("ready", flush=True)
sys.stdin.readline()
t = threading.Thread(target=holder)
t.start()
waiter()
t.join()
print("done %d" % N, flush=True)
