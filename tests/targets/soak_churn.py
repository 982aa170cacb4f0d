"""Churn for lockprof serve's soak (tests/functional/test_serve_soak.py).

The parent runs for --seconds: after --quiet-s alone it keeps up to
--children child processes (itself with --child) that each live 4-12 s, and
once --seconds are over it lets them all exit and lingers --quiet-s more
alone, so that the soak can compare lockprof with one process at both ends.
Every process, parent included, runs rounds in which 3 fresh threads contend
on a fresh lock through one of LOCK_SITES generated modules (written to
--gen-dir), so threads, locks, stacks and lock names all come and go; there
are more lock names than lockprof serve's default --max-series.
Prints "ready" once started; takes no input.
"""

import argparse
import importlib
import os
import random
import subprocess
import sys
import threading
import time

LOCK_SITES = 160
MODULE = '''import time


def work(lock_{k}):
    for _ in range(15):
        with lock_{k}:
            time.sleep(0.0005)
'''


def write_modules(gen_dir):
    os.makedirs(gen_dir, exist_ok=True)
    for k in range(LOCK_SITES):
        path = os.path.join(gen_dir, "churn_site_%d.py" % k)
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(MODULE.format(k=k))
    sys.path.insert(0, gen_dir)


def contend(rng):
    mod = importlib.import_module("churn_site_%d" % rng.randrange(LOCK_SITES))
    lock = threading.Lock()
    threads = [threading.Thread(target=mod.work, args=(lock,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def churn(until, rng, pause):
    while time.monotonic() < until:
        contend(rng)
        time.sleep(pause)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--children", type=int, default=3)
    ap.add_argument("--quiet-s", type=float, default=10)
    ap.add_argument("--gen-dir", required=True)
    ap.add_argument("--child", type=float, default=0, help="run as a child for this many seconds")
    args = ap.parse_args()
    write_modules(args.gen_dir)
    rng = random.Random(os.getpid())
    if args.child:
        churn(time.monotonic() + args.child, rng, 0.05)
        return
    print("ready", flush=True)
    start = time.monotonic()
    churn(start + args.quiet_s, rng, 0.2)
    children = []
    end = start + args.quiet_s + args.seconds
    while time.monotonic() < end:
        children = [c for c in children if c.poll() is None]
        while len(children) < args.children:
            life = rng.uniform(4, 12)
            cmd = [sys.executable, __file__, "--gen-dir", args.gen_dir, "--child", "%.1f" % life]
            children.append(subprocess.Popen(cmd))
        contend(rng)
        time.sleep(0.2)
    for c in children:
        c.wait()
    print("children done", flush=True)
    churn(time.monotonic() + args.quiet_s, rng, 0.2)
    print("done", flush=True)


if __name__ == "__main__":
    main()
