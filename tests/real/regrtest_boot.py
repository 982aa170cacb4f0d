"""python regrtest_boot.py ARGS: `python -m test ARGS` once the profiler is attached.

Prints "ready", waits for a line on stdin (the runner sends it once lockprof's
banner says every probe is live), then runs CPython's regrtest in this process
as -m would: the current directory first on sys.path, stdin at /dev/null.
"""

import os
import runpy
import sys

sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
fd = os.open(os.devnull, os.O_RDONLY)
os.dup2(fd, 0)
os.close(fd)
sys.path[0] = os.getcwd()
runpy.run_module("test", run_name="__main__", alter_sys=True)
