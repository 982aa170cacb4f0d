"""A WSGI app whose handler contends on a lock, for the gunicorn test (gthread workers: each
worker's threads serve requests concurrently and queue on cache_lock). The line that takes the
lock is what the report names: keep `cache_lock.acquire()` where the test expects it.

Ground truth: with WSGI_LOCK_STATS=DIR each worker writes DIR/PID, "requests contended", after
every request: the requests that found the lock taken (a failed non-blocking try) and waited."""
import os
import threading
import time

cache_lock = threading.Lock()
cache = {}
stats_dir = os.environ.get("WSGI_LOCK_STATS")
counts = {"requests": 0, "contended": 0}


def app(environ, start_response):
    key = environ.get("PATH_INFO", "/")
    # The shared cache's refresh, held for a millisecond: concurrent requests wait here.
    if not cache_lock.acquire(blocking=False):
        counts["contended"] += 1
        cache_lock.acquire()
    try:
        time.sleep(0.001)
        cache[key] = cache.get(key, 0) + 1
        counts["requests"] += 1
        line = "%d %d\n" % (counts["requests"], counts["contended"])
    finally:
        cache_lock.release()
    if stats_dir:
        with open(os.path.join(stats_dir, str(os.getpid())), "w") as f:
            f.write(line)
    body = b"ok\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
