"""Writes fuzz seeds for lockprof's readers of target memory, taken from this interpreter's own.

Run it with every CPython lockprof supports (3.8+, needs ctypes):
    for py in ...; do $py tests/fuzz/gen_seeds.py tests/fuzz/corpus; done
It dumps, exactly as lockprof would find them in a target, the memory of a few
code objects (header, type, name, qualname, filename, line table) and of str
and bytes objects, in the input formats of tests/fuzz/fuzz_symbolize.c and
tests/fuzz/fuzz_pyobj.c (regions: u64 address, u16 length, bytes).  3.13+
seeds carry the _Py_DebugOffsets at the start of _PyRuntime too.
"""

import ctypes
import os
import struct
import sys

MIN_MINOR = 8  # pyoffsets__min_minor(): selector = minor - MIN_MINOR
CODE_HDR = 256  # src/symbolize.c CODE_HDR_MAX
DEBUG_OFFSETS = 1024  # LP_DEBUG_OFFSETS_MAX

# src/pyoffsets.c: where the code object's fields are
CODE_FIELDS = {
    8: dict(filename=104, name=112, qualname=None, linetable=120, adaptive=None),
    9: dict(filename=104, name=112, qualname=None, linetable=120, adaptive=None),
    10: dict(filename=104, name=112, qualname=None, linetable=120, adaptive=None),
    11: dict(filename=112, name=120, qualname=128, linetable=136, adaptive=184),
    12: dict(filename=112, name=120, qualname=128, linetable=136, adaptive=192),
    13: dict(filename=112, name=120, qualname=128, linetable=136, adaptive=200),
    14: dict(filename=112, name=120, qualname=128, linetable=136, adaptive=208),
}

MINOR = sys.version_info[1]
TAG = "py3%d" % MINOR


def mem(addr, n):
    return ctypes.string_at(addr, n)


def region(addr, n):
    n = min(n, 0xFFFF)
    return struct.pack("<QH", addr, n) + mem(addr, n)


def obj_region(addr):
    """The whole object at addr (a PyObject* read out of a struct)."""
    obj = ctypes.cast(addr, ctypes.py_object).value
    return region(addr, sys.getsizeof(obj))


def ptr_at(addr):
    return struct.unpack("<Q", mem(addr, 8))[0]


def code_regions(code):
    fields = CODE_FIELDS[MINOR]
    base = id(code)
    out = [region(base, CODE_HDR)]
    type_addr = id(type(code))
    out.append(region(type_addr, 32))
    out.append(region(ptr_at(type_addr + 24), 5))  # tp_name: "code"
    for key in ("filename", "name", "qualname", "linetable"):
        if fields[key] is not None:
            out.append(obj_region(ptr_at(base + fields[key])))
    return out


def raw_instr(code, lasti_bytes):
    """The instruction field as BPF reads it from the frame."""
    fields = CODE_FIELDS[MINOR]
    if MINOR <= 9:
        return lasti_bytes
    if MINOR == 10:
        return lasti_bytes // 2
    return id(code) + fields["adaptive"] + lasti_bytes


def debug_region():
    if MINOR < 13:
        return 0, []
    addr = ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, "_PyRuntime"))
    return addr, [region(addr, DEBUG_OFFSETS)]


def write(outdir, kind, name, blob):
    d = os.path.join(outdir, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "%s-%s.bin" % (TAG, name)), "wb") as f:
        f.write(blob)


# Code objects of several shapes, each with the frame offset it is running at.
def plain():
    return sys._getframe()


class Holder:
    def method(self):
        return sys._getframe()


def outer():
    def inner_nested_function():
        return sys._getframe()

    return inner_nested_function()


exec("def f\u00fcnf():\n    return sys._getframe()\n", globals())  # latin-1, not ASCII
exec("def \u0444\u0443\u043d\u043a():\n    return sys._getframe()\n", globals())  # 2-byte chars
LONG = "very_long_function_name_" * 60
exec("def %s():\n    return sys._getframe()\n" % LONG, globals())


def long_body():
    x = 0
    for i in range(3):
        x += i
        if x > 100:
            break
    try:
        x += 1
    except ValueError:
        pass
    return sys._getframe()


def main():
    outdir = sys.argv[1]
    frames = {
        "plain": plain(),
        "method": Holder().method(),
        "nested": outer(),
        "latin1": globals()["f\u00fcnf"](),
        "ucs2": globals()["\u0444\u0443\u043d\u043a"](),
        "longname": globals()[LONG](),
        "loops": long_body(),
    }
    runtime, debug = debug_region()
    for name, frame in frames.items():
        code = frame.f_code
        header = struct.pack(
            "<BBQQQ", MINOR - MIN_MINOR, 1 if debug else 0, id(code), raw_instr(code, frame.f_lasti), runtime
        )
        write(outdir, "symbolize", name, header + b"".join(code_regions(code) + debug))

    samples = {
        "ascii": "lockprof_seed_name",
        "latin1": "f\u00fcnf",
        "ucs2": "\u0444\u0443\u043d\u043a",
        "ucs4": "\U0001f512lock",
        "empty": "",
        "long": "x" * 3000,
        "bytes": b"\x01\x02linetable\x00\xff",
        "bytes-empty": b"",
    }
    for name, obj in samples.items():
        header = struct.pack("<BQ", MINOR - MIN_MINOR, id(obj))
        write(outdir, "pyobj", name, header + region(id(obj), sys.getsizeof(obj)))


if __name__ == "__main__":
    main()
