# SPDX-License-Identifier: GPL-2.0
"""lockprof bench workloads (CPython 3.8+, stdlib only): each one measures itself.

    python workloads.py WORKLOAD [--ops N] [--wrap none|python|cython] [--cython-dir DIR]

WORKLOAD is one of:
  hotloop    one thread, one uncontended threading.Lock: ``with lock: pass``, --ops times
             (an op is one ``with lock``); also timed before "ready" and after "detach" (see
             hotloop()); ns_per_op is that of the 10th-percentile chunk of 10,000 (see
             chunk_ns_per_op())
  contended  4 threads, one lock, short pure-Python critical sections (an op is one
             acquire/release of the lock)
  logging    6 threads logging through one logging.StreamHandler to /dev/null (an op is one
             record: one acquire/release of the handler's RLock around format+write+flush)
  queue      queue.Queue pipeline, 2 producers -> Queue(maxsize=16) -> 2 consumers (an op is
             one item, put and got)
  pingpong   2 threads hand 2 threading.Locks back and forth, the worst case for a contention
             profiler: every operation is a contended handoff (an op is one round trip, two
             contended waits)
  threadpool concurrent.futures.ThreadPoolExecutor(4) mapping tiny tasks (an op is one task;
             every task's Future makes a lock, idle workers wait in SimpleQueue.get)
  probecost  not a workload but the calibration of lockprof's cost per probed call (see
             probecost())

--wrap installs an in-process reference profiler first (refwrap.py, _cylock.pyx): every
lock made through threading.Lock()/RLock() from then on is wrapped, 1 % of acquires sampled.

Protocol (the one lockprof's functional tests use): set up, print "ready", wait for a "go"
line on stdin (so that a profiler can attach first), run, print one JSON line:
  {"workload", "ops", "wall_ns", "ns_per_op", "cpu_ns_per_op", "blocked", "blocked_ns",
   "sites", "tids", ...}
cpu_ns_per_op is the process's CPU time (all threads, user and system: uprobe traps count
as system time of the thread that hit them) over the timed section, per op.
blocked/blocked_ns: how many acquires (or queue calls) blocked and for how long, measured
around the blocking call only: the code first tries without blocking (acquire(False),
put_nowait, get_nowait) and times the blocking call only when that failed, the way CPython
itself tries sem_trywait before it blocks. The blocking calls are on lines marked
"# BLOCK-SITE"; "sites" lists them so that the harness can pick, in lockprof's report, the
waits made there and nothing else (thread start-up and join waits are left out on both sides).
"""

import argparse
import ctypes
import ctypes.util
import json
import logging
import os
import queue
import sys
import threading
import time

perf_counter_ns = time.perf_counter_ns
HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = "# " + "BLOCK-SITE"  # spelled apart so that only the marked lines carry it


def block_sites():
    """[file, line] of every line marked as a timed blocking call."""
    code_file = block_sites.__code__.co_filename
    with open(__file__) as f:
        return [[code_file, n] for n, line in enumerate(f, 1) if line.rstrip().endswith(MARKER)]


def work(k):
    """A little pure-Python work, k loop iterations (about 40 ns each): holds the GIL."""
    acc = 0
    for j in range(k):
        acc = (acc + j * 7919) % 1000003
    return acc


class Tally(object):
    """One thread's count of timed blocking calls (no lock needed: one thread writes it)."""

    __slots__ = ("blocked", "blocked_ns", "tid")

    def __init__(self):
        self.blocked = 0
        self.blocked_ns = 0
        self.tid = None


def wait_go():
    """Print "ready" and wait for "go" (anything else: exit 1)."""
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)


def run_threads(targets):
    """Start one thread per (function, args), release them together, join: (wall, CPU) ns."""
    start = threading.Barrier(len(targets) + 1)
    threads = [threading.Thread(target=fn, args=(start,) + tuple(args)) for fn, args in targets]
    for t in threads:
        t.daemon = True
        t.start()
    wait_go()
    t0, c0 = perf_counter_ns(), time.process_time_ns()
    start.wait()
    for t in threads:
        t.join()
    return perf_counter_ns() - t0, time.process_time_ns() - c0


# --------------------------------------------------------------------------
# hotloop


CHUNK = 10000  # hotloop: iterations timed together


def hotloop_pass(lock, n):
    """n iterations of ``with lock: pass`` timed in chunks of CHUNK: (chunk times, CPU ns)."""
    chunks = []
    c0 = time.process_time_ns()
    for _ in range(n // CHUNK):
        t0 = perf_counter_ns()
        for _ in range(CHUNK):
            with lock:
                pass
        chunks.append(perf_counter_ns() - t0)
    return chunks, time.process_time_ns() - c0


def chunk_ns_per_op(chunks):
    """ns per iteration of the 10th-percentile chunk.

    On a shared machine a chunk (about 1-2 ms) either runs undisturbed or contains a
    preemption that makes it several times slower: a low percentile of the chunks measures
    the loop itself, where the mean of a whole pass measures mostly the other tenants."""
    return sorted(chunks)[len(chunks) // 10] / float(CHUNK)


def hotloop(ops):
    """One pass before "ready" (no profiler yet), one after "go" (the one that counts) and,
    after printing "detach", one more once a "detached" line came (the profiler has left):
    one process times the same loop unprofiled, profiled and after the profiler exited."""
    lock = threading.Lock()
    hotloop_pass(lock, ops // 10)  # warm-up
    before, _ = hotloop_pass(lock, ops)
    wait_go()
    during, cpu_ns = hotloop_pass(lock, ops)
    sys.stdout.write("detach\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "detached":
        sys.exit(1)
    after, _ = hotloop_pass(lock, ops)
    return {
        "ops": ops,
        "ns_per_op": chunk_ns_per_op(during),
        "wall_ns": sum(during),
        "cpu_ns": cpu_ns,
        "before_ns_per_op": chunk_ns_per_op(before),
        "after_ns_per_op": chunk_ns_per_op(after),
        "tallies": [],
    }


# --------------------------------------------------------------------------
# contended


def contended_worker(start, lock, n, shared, tally):
    tally.tid = threading.get_native_id()
    acquire, release = lock.acquire, lock.release
    blocked = blocked_ns = 0
    start.wait()
    for i in range(n):
        x = work(8)  # work outside the lock
        if not acquire(False):
            t0 = perf_counter_ns()
            acquire()  # BLOCK-SITE
            blocked_ns += perf_counter_ns() - t0
            blocked += 1
        # Critical section: a read-modify-write of shared state, a few bytecodes long.
        shared[i & 63] = shared.get(i & 63, 0) + x
        shared["n"] += 1
        release()
    tally.blocked, tally.blocked_ns = blocked, blocked_ns


def contended(ops, nthreads=4):
    lock = threading.Lock()
    shared = {"n": 0}
    per_thread = ops // nthreads
    tallies = [Tally() for _ in range(nthreads)]
    wall, cpu = run_threads([(contended_worker, (lock, per_thread, shared, t)) for t in tallies])
    assert shared["n"] == per_thread * nthreads, shared["n"]
    return {"ops": per_thread * nthreads, "wall_ns": wall, "cpu_ns": cpu, "tallies": tallies}


# --------------------------------------------------------------------------
# logging


class TimedHandler(logging.StreamHandler):
    """A StreamHandler whose handle() times the blocking acquire of the handler lock.

    handle() is logging.Handler.handle of CPython 3.8-3.12 (3.13 spells it ``with
    self.lock``) with the lock taken by try-then-block. The lock is the handler's own RLock
    from createLock(), so a wrapping profiler wraps it as usual.
    """

    def __init__(self, stream):
        logging.StreamHandler.__init__(self, stream)
        self.tallies = {}  # thread ident -> Tally, filled before the run

    def handle(self, record):
        rv = self.filter(record)
        if rv:
            lock = self.lock
            if not lock.acquire(False):
                t0 = perf_counter_ns()
                lock.acquire()  # BLOCK-SITE
                waited = perf_counter_ns() - t0
                tally = self.tallies[threading.get_ident()]
                tally.blocked_ns += waited
                tally.blocked += 1
            try:
                self.emit(record)
            finally:
                lock.release()
        return rv


def logging_worker(start, log, handler, n, tally):
    tally.tid = threading.get_native_id()
    handler.tallies[threading.get_ident()] = tally
    start.wait()
    for i in range(n):
        log.info("request %d served in %d us", i, work(4))


def logging_workload(ops, nthreads=6):
    stream = open(os.devnull, "w")
    handler = TimedHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    log = logging.getLogger("bench")
    log.setLevel(logging.INFO)
    log.propagate = False
    log.addHandler(handler)
    per_thread = ops // nthreads
    tallies = [Tally() for _ in range(nthreads)]
    wall, cpu = run_threads([(logging_worker, (log, handler, per_thread, t)) for t in tallies])
    stream.close()
    return {"ops": per_thread * nthreads, "wall_ns": wall, "cpu_ns": cpu, "tallies": tallies}


# --------------------------------------------------------------------------
# queue


def producer(start, q, n, tally):
    tally.tid = threading.get_native_id()
    put_nowait, put = q.put_nowait, q.put
    blocked = blocked_ns = 0
    start.wait()
    for i in range(n):
        item = (i, work(10))
        try:
            put_nowait(item)
        except queue.Full:
            t0 = perf_counter_ns()
            put(item)  # BLOCK-SITE
            blocked_ns += perf_counter_ns() - t0
            blocked += 1
    tally.blocked, tally.blocked_ns = blocked, blocked_ns


def consumer(start, q, tally, got):
    tally.tid = threading.get_native_id()
    get_nowait, get = q.get_nowait, q.get
    blocked = blocked_ns = n = 0
    start.wait()
    while True:
        try:
            item = get_nowait()
        except queue.Empty:
            t0 = perf_counter_ns()
            item = get()  # BLOCK-SITE
            blocked_ns += perf_counter_ns() - t0
            blocked += 1
        if item is None:
            break
        work(10)
        n += 1
    tally.blocked, tally.blocked_ns = blocked, blocked_ns
    got.append(n)


def queue_workload(ops, nproducers=2, nconsumers=2):
    q = queue.Queue(maxsize=16)
    per_producer = ops // nproducers
    ptallies = [Tally() for _ in range(nproducers)]
    ctallies = [Tally() for _ in range(nconsumers)]
    got = []

    def producers_then_stop(start, *tallies):
        # The producers run in their own threads; this one waits for them and then sends
        # one end-of-stream marker per consumer.
        threads = [threading.Thread(target=producer, args=(start, q, per_producer, t)) for t in tallies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for _ in range(nconsumers):
            q.put(None)

    # The barrier counts the producer threads, the consumers and the main thread; the
    # coordinating thread does not wait on it.
    start = threading.Barrier(nproducers + nconsumers + 1)
    coord = threading.Thread(target=producers_then_stop, args=(start,) + tuple(ptallies))
    consumers = [threading.Thread(target=consumer, args=(start, q, t, got)) for t in ctallies]
    for t in consumers + [coord]:
        t.daemon = True
        t.start()
    wait_go()
    t0, c0 = perf_counter_ns(), time.process_time_ns()
    start.wait()
    for t in consumers + [coord]:
        t.join()
    wall, cpu = perf_counter_ns() - t0, time.process_time_ns() - c0
    assert sum(got) == per_producer * nproducers, got
    return {"ops": per_producer * nproducers, "wall_ns": wall, "cpu_ns": cpu, "tallies": ptallies + ctallies}


# --------------------------------------------------------------------------
# pingpong


def take(lock, tally):
    """Acquire lock: try first, time the blocking acquire only when that failed."""
    if not lock.acquire(False):
        t0 = perf_counter_ns()
        lock.acquire()  # BLOCK-SITE
        tally.blocked_ns += perf_counter_ns() - t0
        tally.blocked += 1


def pingpong_opener(start, ping, pong, n, tally):
    """n round trips: give ping, take pong (which the other thread gives back)."""
    tally.tid = threading.get_native_id()
    start.wait()
    for _ in range(n):
        ping.release()
        take(pong, tally)


def pingpong_answerer(start, ping, pong, n, tally):
    tally.tid = threading.get_native_id()
    start.wait()
    for _ in range(n):
        take(ping, tally)
        pong.release()


def pingpong(ops):
    ping, pong = threading.Lock(), threading.Lock()
    ping.acquire()  # both held: each is given by one thread and taken by the other
    pong.acquire()
    tallies = [Tally(), Tally()]
    wall, cpu = run_threads([(pingpong_opener, (ping, pong, ops, tallies[0])),
                             (pingpong_answerer, (ping, pong, ops, tallies[1]))])
    return {"ops": ops, "wall_ns": wall, "cpu_ns": cpu, "tallies": tallies}


# --------------------------------------------------------------------------
# threadpool


def tiny_task(x):
    return x * 2


def threadpool(ops, workers=4, bursts=3):
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        list(ex.map(tiny_task, range(workers * 4)))  # workers started before "go"
        wait_go()
        t0, c0 = perf_counter_ns(), time.process_time_ns()
        done = 0
        for b in range(bursts):
            n = ops // bursts
            done += sum(1 for _ in ex.map(tiny_task, range(n)))
        wall, cpu = perf_counter_ns() - t0, time.process_time_ns() - c0
    return {"ops": done, "wall_ns": wall, "cpu_ns": cpu, "tallies": [Tally()]}


# --------------------------------------------------------------------------
# probecost: calibration, not a table row


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def probecost(ops):
    """Calls into the libc functions lockprof probes, through ctypes, none of which blocks,
    ops of each, timed in chunks (the 10th-percentile chunk counts, as in hotloop):

    - free: sem_post, then sem_wait, which finds the semaphore free: the entry probe sees
      that and stops, the return probe finds no wait. This is the path of every Lock and
      RLock wait (CPython calls sem_wait) minus the work of a wait that begins;
    - timed_free: sem_post, then sem_timedwait with a deadline far ahead: the same on
      sem_timedwait, the function CPython 3.8-3.10 calls for timed acquires (3.11+:
      sem_clockwait, whose probe site is alike);
    - timed_wait: sem_timedwait on a semaphore at 0 with an invalid deadline (tv_nsec -1):
      the entry finds the semaphore taken and begins a wait (stack walk, in-flight entry),
      glibc fails the call with EINVAL before any system call, the return records a
      timed-out wait.

    Each call hits one entry and one return probe. Run with and without lockprof, the
    difference per call is what the probes cost the calling thread (calibrate() in bench.py);
    timed_wait - timed_free is the work of a wait that begins, on top of the traps."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    sem = ctypes.create_string_buffer(64)  # sem_t is 32 bytes on x86-64 glibc
    if libc.sem_init(sem, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "sem_init")
    wait, post, timedwait = libc.sem_wait, libc.sem_post, libc.sem_timedwait
    ahead = ctypes.byref(Timespec(4000000000, 0))  # CLOCK_REALTIME in 2096
    invalid = ctypes.byref(Timespec(0, -1))
    chunk = 100
    phases = {"free_ns": [], "timed_free_ns": [], "timed_wait_ns": []}
    wait_go()
    for _ in range(ops // chunk):
        t0 = perf_counter_ns()
        for _ in range(chunk):
            post(sem)
            wait(sem)
        t1 = perf_counter_ns()
        for _ in range(chunk):
            post(sem)
            timedwait(sem, ahead)
        t2 = perf_counter_ns()
        for _ in range(chunk):
            timedwait(sem, invalid)
        t3 = perf_counter_ns()
        phases["free_ns"].append(t1 - t0)
        phases["timed_free_ns"].append(t2 - t1)
        phases["timed_wait_ns"].append(t3 - t2)
    res = {"ops": ops, "wall_ns": sum(sum(v) for v in phases.values()), "cpu_ns": 0, "tallies": []}
    for name, chunks in phases.items():
        res[name + "_per_call"] = sorted(chunks)[len(chunks) // 10] / float(chunk)
    return res


# --------------------------------------------------------------------------

WORKLOADS = {
    "hotloop": lambda a: hotloop(a.ops),
    "contended": lambda a: contended(a.ops),
    "logging": lambda a: logging_workload(a.ops),
    "queue": lambda a: queue_workload(a.ops),
    "pingpong": lambda a: pingpong(a.ops),
    "threadpool": lambda a: threadpool(a.ops),
    "probecost": lambda a: probecost(a.ops),
}
DEFAULT_OPS = {
    "hotloop": 1000000,
    "contended": 200000,
    "logging": 30000,
    "queue": 60000,
    "pingpong": 40000,
    "threadpool": 30000,
    "probecost": 20000,
}


def die_with_thread(args):
    """threading.excepthook: a failing worker ends the process (its peers would wait forever)."""
    sys.__excepthook__(args.exc_type, args.exc_value, args.exc_traceback)
    sys.stderr.flush()
    os._exit(1)


def main():
    threading.excepthook = die_with_thread
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workload", choices=sorted(WORKLOADS))
    ap.add_argument("--ops", type=int, help="operations in the timed run (default per workload)")
    ap.add_argument("--wrap", choices=("none", "python", "cython"), default="none")
    ap.add_argument("--cython-dir", help="directory holding the built _cylock extension")
    ap.add_argument("--capture-pct", type=float, default=1.0)
    args = ap.parse_args()
    if args.ops is None:
        args.ops = DEFAULT_OPS[args.workload]

    sys.path.insert(0, HERE)
    import refwrap

    recorder = None
    if args.wrap == "python":
        recorder = refwrap.install_python(args.capture_pct)
    elif args.wrap == "cython":
        recorder = refwrap.install_cython(args.capture_pct, args.cython_dir)

    res = WORKLOADS[args.workload](args)
    tallies = res.pop("tallies")
    res.update(
        workload=args.workload,
        ns_per_op=res.get("ns_per_op", res["wall_ns"] / float(res["ops"])),
        cpu_ns_per_op=res["cpu_ns"] / float(res["ops"]),
        blocked=sum(t.blocked for t in tallies),
        blocked_ns=sum(t.blocked_ns for t in tallies),
        tids=[t.tid for t in tallies],
        sites=block_sites(),
        wrap=args.wrap,
        samples=len(recorder.samples) if recorder else None,
        python="%d.%d.%d" % sys.version_info[:3],
    )
    sys.stdout.write(json.dumps(res) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
