"""A WSGI app whose handler contends on a lock, for the gunicorn test (gthread workers: each
worker's threads serve requests concurrently and queue on cache_lock). The line that takes the
lock is what the report names: keep `with cache_lock:` where the test expects it."""
import threading
import time

cache_lock = threading.Lock()
cache = {}


def app(environ, start_response):
    key = environ.get("PATH_INFO", "/")
    # The shared cache's refresh, held for a millisecond: concurrent requests wait here.
    with cache_lock:
        time.sleep(0.001)
        cache[key] = cache.get(key, 0) + 1
    body = b"ok\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
