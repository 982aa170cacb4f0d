"""A process that forks a child (no exec) on "go": the child inherits the parent's memory,
breakpoints included. Prints "ready", waits for a line, forks, prints "child PID", and both sleep
(the child exits when its stdin, shared with the parent, closes)."""
import os
import sys
import time

print("ready", flush=True)
sys.stdin.readline()
pid = os.fork()
if pid == 0:
    sys.stdin.read()  # until the test closes stdin
    os._exit(0)
print("child %d" % pid, flush=True)
sys.stdin.read()
os.waitpid(pid, 0)
