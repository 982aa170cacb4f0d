#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the seed of tests/fuzz/fuzz_lockmethods.c: a fake CPython 3.14 address space in which
sys.modules["_thread"] has LockType and RLock with their method tables, laid out as
src/lockmethods.c reads them (the unit test tests/unit/test_lockmethods.c builds the same).
    tests/fuzz/gen_lockmethods_seed.py tests/fuzz/corpus
"""

import os
import struct
import sys

INTERP_HEAD = 808  # 3.14 _PyRuntime.interpreters.head (src/pyoffsets.c)
INTERP_MODULES = 7688  # 3.14 PyInterpreterState.imports.modules (src/pyoffsets.c)
ASCII_DATA = 40  # sizeof(PyASCIIObject)

regions = []
next_addr = [0x10000]


def alloc(size):
    addr = next_addr[0]
    next_addr[0] += (size + 15) // 16 * 16 + 16
    return addr


def put(addr, data):
    regions.append(struct.pack("<QH", addr, len(data)) + data)


def pystr(s):
    addr = alloc(ASCII_DATA + len(s) + 1)
    hdr = struct.pack("<qqqqI", 1, 0, len(s), -1, (1 << 2) | (1 << 5) | (1 << 6)).ljust(ASCII_DATA, b"\0")
    put(addr, hdr + s.encode() + b"\0")
    return addr


def cstr(s):
    addr = alloc(len(s) + 1)
    put(addr, s.encode() + b"\0")
    return addr


def pydict(items):
    keys = alloc(32 + 8 + 16 * len(items))
    hdr = struct.pack("<qBBBxIqq", 1, 3, 3, 1, 0, 8 - len(items), len(items)) + bytes(8)
    put(keys, hdr + b"".join(struct.pack("<QQ", k, v) for k, v in items))
    d = alloc(48)
    put(d, struct.pack("<qqqqQQ", 1, 0, len(items), 0, keys, 0))
    return d


def pytype(names, base):
    table = alloc(32 * (len(names) + 1))
    put(table, b"".join(struct.pack("<QQiiQ", cstr(n), base + i, 0, 0, 0) for i, n in enumerate(names)) + bytes(32))
    t = alloc(240)
    put(t + 232, struct.pack("<Q", table))
    return t


lock = pytype(["acquire_lock", "acquire", "release_lock", "release", "__enter__", "__exit__"], 0x401000)
rlock = pytype(["acquire", "release"], 0x402000)
namespace = pydict([(pystr("LockType"), lock), (pystr("RLock"), rlock)])
module = alloc(48)
put(module, struct.pack("<qqQ", 1, 0, namespace))
modules = pydict([(pystr("sys"), 1), (pystr("_thread"), module)])
interp = alloc(INTERP_MODULES + 8)
put(interp + INTERP_MODULES, struct.pack("<Q", modules))
runtime = alloc(INTERP_HEAD + 8)
put(runtime + INTERP_HEAD, struct.pack("<Q", interp))

out = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus", "lockmethods")
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "fake314.bin"), "wb") as f:
    f.write(bytes([1]) + struct.pack("<Q", runtime) + b"".join(regions))
print("%s: %d regions" % (os.path.join(out, "fake314.bin"), len(regions)))
