"""Process, namespace and BPF inspection for lockprof's safety tests (root only).

Everything here reads /proc or runs bpftool; nothing changes the processes
looked at.
"""

import glob
import json
import os
import subprocess
import time

BREAKPOINT = 0xCC  # int3: what a uprobe writes over the probed instruction


def children(pid):
    """Pids of pid's children."""
    out = []
    for path in glob.glob("/proc/%d/task/*/children" % pid):
        try:
            with open(path) as f:
                out.extend(int(p) for p in f.read().split())
        except OSError:
            pass
    return out


def wait_child(pid, timeout=10.0):
    """The first child of pid, waiting for it to appear; None on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = children(pid)
        if found:
            return found[0]
        time.sleep(0.02)
    return None


def nspid(pid, tid=None):
    """The NSpid ids of a process (or one of its threads), outermost first."""
    path = "/proc/%d/task/%d/status" % (pid, tid) if tid else "/proc/%d/status" % pid
    with open(path) as f:
        for line in f:
            if line.startswith("NSpid:"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError("no NSpid line in " + path)


def thread_ids_by_ns(pid):
    """{innermost thread id: thread id in our namespace} for the threads of pid."""
    out = {}
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            out[nspid(pid, int(task))[-1]] = int(task)
        except (OSError, AssertionError):
            pass
    return out


def bpf_ids(pid):
    """{"prog": ids, "map": ids, "link": ids} of the BPF objects pid holds file descriptors to."""
    ids = {"prog": set(), "map": set(), "link": set()}
    for path in glob.glob("/proc/%d/fdinfo/*" % pid):
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(":")
            kind = {"prog_id": "prog", "map_id": "map", "link_id": "link"}.get(key.strip())
            # a link's fdinfo names its program too: count it as a link only
            if kind and not (kind == "prog" and "link_id:" in text):
                ids[kind].add(int(value))
    return ids


def live_bpf_ids():
    """Ids of every BPF program, map and link the kernel has now, from bpftool."""
    ids = {}
    for kind in ("prog", "map", "link"):
        out = subprocess.run(
            ["bpftool", "-j", kind, "show"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30
        )
        assert out.returncode == 0, "bpftool %s show failed: %s" % (kind, out.stderr.decode(errors="replace"))
        ids[kind] = {entry["id"] for entry in json.loads(out.stdout or b"[]")}
    return ids


def text_mappings(pid):
    """[(start, end, offset, path)] of pid's executable file mappings."""
    out = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) < 6 or "x" not in parts[1] or not parts[5].startswith("/"):
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            out.append((start, end, int(parts[2], 16), parts[5].strip()))
    return out


def breakpoints(pid):
    """[(path, address)] of the bytes of pid's code that differ from the mapped file: the
    breakpoints uprobes left there. Any other difference fails the caller's test."""
    found = []
    with open("/proc/%d/mem" % pid, "rb", buffering=0) as mem:
        for start, end, offset, path in text_mappings(pid):
            with open("/proc/%d/map_files/%x-%x" % (pid, start, end), "rb") as f:
                f.seek(offset)
                disk = f.read(end - start)
            mem.seek(start)
            live = mem.read(len(disk))
            if live == disk:
                continue
            for page in range(0, len(disk), 4096):
                if live[page : page + 4096] == disk[page : page + 4096]:
                    continue
                for i in range(page, min(page + 4096, len(disk))):
                    if live[i] != disk[i]:
                        assert live[i] == BREAKPOINT, "%s+0x%x: byte 0x%02x in memory, 0x%02x in the file" % (
                            path,
                            offset + i,
                            live[i],
                            disk[i],
                        )
                        found.append((path, start + i))
    return found


def wait_until(pred, timeout, step=0.05):
    """Poll pred until it returns something true; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)
