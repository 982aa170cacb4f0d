"""A real library's resource pool (CPython with SQLAlchemy, Debian's python3-sqlalchemy): 8
threads share a QueuePool of 2 connections (sqlite, max_overflow 0) and each holds a checked-out
connection --hold-ms per request. Requests that find the pool empty wait in QueuePool._do_get for
a connection to come back: resource waits, timed here around the checkout.

Prints "ready", waits for "go", prints {"checkout_wait_ns": N, "requests": N}.
"""

import argparse
import json
import sqlite3
import sys
import threading
import time

import sqlalchemy
from sqlalchemy.pool import QueuePool


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--hold-ms", type=float, default=20.0)
    args = parser.parse_args()
    pool = QueuePool(lambda: sqlite3.connect(":memory:", check_same_thread=False), pool_size=2, max_overflow=0,
                     timeout=60)
    waited = []

    def worker():
        total = 0
        for _ in range(args.rounds):
            t0 = time.perf_counter_ns()
            conn = pool.connect()  # SQLPOOL-CHECKOUT
            total += time.perf_counter_ns() - t0
            time.sleep(args.hold_ms / 1e3)
            conn.close()  # SQLPOOL-RETURN
        waited.append(total)

    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"checkout_wait_ns": sum(waited), "requests": 8 * args.rounds,
                      "sqlalchemy": sqlalchemy.__version__}), flush=True)


if __name__ == "__main__":
    main()
