"""lockprof's bundled demo: a small "service" whose threads fight over locks.

Four request handlers share a connection pool whose lock is held across a slow call (the
classic mistake), and an audit log whose lock is held while formatting. Runs until killed.
"""
import sys
import threading
import time


class Pool:
    def __init__(self, size):
        self._pool_lock = threading.Lock()
        self._free = list(range(size))

    def checkout(self):
        with self._pool_lock:
            conn = self._free.pop()
            time.sleep(0.002)  # a "health check" done while holding the lock
            self._free.append(conn)
        return conn


class AuditLog:
    def __init__(self):
        self.lock = threading.Lock()
        self.lines = []

    def write(self, msg):
        with self.lock:
            self.lines.append(msg.upper())
            time.sleep(0.0002)
            if len(self.lines) > 1000:
                self.lines.clear()


pool = audit = None


def handle_request(n):
    conn = pool.checkout()
    audit.write("request %d served by connection %d" % (n, conn))


def worker():
    n = 0
    while True:
        handle_request(n)
        n += 1


# The service starts up a moment after launch: "make demo" attaches lockprof first, so it sees the
# locks being created and names them by their creation lines.
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 0)
pool = Pool(4)
audit = AuditLog()
for _ in range(4):
    threading.Thread(target=worker, daemon=True).start()
print("demo: running", flush=True)
sys.stdout.close()
while True:
    time.sleep(1)
