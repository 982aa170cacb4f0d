# SPDX-License-Identifier: GPL-2.0
"""Print a line-table fixture for the running CPython (3.8+) to stdout.

Compiles sample sources chosen to stress the decoders in src/linetable.c, walks every nested
code object and records, for each, the raw table and the line CPython itself gives every
instruction, so tests/unit/test_linetable.c can check the C decoder against the interpreter.

Usage: python3 tests/unit/gen_linetable_fixture.py > tests/unit/fixtures/linetable/py3XX.txt
For the Debian interpreters in the roots of tools/make-rootfs.sh (py313-debian.txt from
trixie, py314-debian.txt from sid), copy this file into $ROOT/tmp and run it there:
    unshare --pid --fork --mount --mount-proc=$ROOT/proc chroot $ROOT \
        /usr/bin/python3.14 /tmp/gen_linetable_fixture.py > .../py314-debian.txt

Fixture format (text, one record per line, fields separated by single spaces):

    # ...                                   comment, ignored
    python <X.Y.Z>                          interpreter that wrote the file
    code <path> <format> <firstlineno> <code_len> <table_hex>
    <byte_offset> <line>                    one per code unit of co_code, in order

<path> names the code object by its nesting (e.g. "nested/<module>/Outer/method"; blanks in
names become "_"); <format>
is lnotab (3.8, 3.9: co_lnotab), 310 (3.10: co_linetable) or locations (3.11+: co_linetable);
<code_len> is len(co_code) in bytes; <table_hex> is the table in lower-case hex, or "-" when
empty. Each "<byte_offset> <line>" line that follows belongs to the latest "code" line; offsets
step by 2 through co_code, including 3.12+ CACHE entries, and <line> is -1 where CPython has
no line. Expected lines come from co_lines() on 3.10+ and from dis.findlinestarts() (the line
in effect at the offset, as PyCode_Addr2Line computes it) on 3.8/3.9.
"""

import bisect
import dis
import sys
import types


def gap_source(gap):
    """A function whose statements are `gap` blank/comment lines apart, both directions."""
    body = ["def gap_%d(a):" % gap, "    x = a"]
    body += ["    # filler"] * gap
    body += ["    y = x + 1", "    if y:"]
    body += [""] * gap
    body += ["        z = (y,", "             x)"]
    body += ["    return [z", "            for _ in ()] if a else (lambda: z)()"]
    body += ["    # tail filler"] * gap
    body += ["    w = (a", "         +" + "\n" * gap + "         x)", "    return w"]
    return "\n".join(body) + "\n"


def long_line_source():
    """Single lines compiling to far more than 256 bytes, and columns past 127."""
    return (
        "def long_lines(f, *a):\n"
        "    a0 = 0\n"
        "    t = [%s]\n"
        "    s = %s\n"
        "    u = {%s}\n"
        "    return t, s, u\n"
        "\n"
        "\n"
        "def wide(f):\n"
        "    %s = f(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20);"
        " return f(%s)\n"
    ) % (", ".join(["a0"] * 180),
         " + ".join("f(%d)" % i for i in range(60)),
         ", ".join("%d: f(%d)" % (i, i) for i in range(70)),
         "v" * 150, "v" * 150)


NEGATIVE = '''
import functools


def deco(*args):
    return lambda fn: fn


@deco
@deco(
    1,
    2,
)
@functools.lru_cache(
    maxsize=None)
def decorated(a, b):
    x = max(
        a,
        b,
    )
    while x > 0:
        x -= 1
        if x == 3:
            continue
        elif x == 7:
            break
    else:
        x = -1
    for i in range(
            a):
        x += (i
              * 2)
    return (x,
            a,
            b)


def loops(n):
    total = 0
    i = 0
    while (i <
           n):
        total += i
        i += 1
    for j in reversed(
            range(n)):
        total -= j
    return total
'''

NO_LINES = '''
import threading

lock = threading.Lock()


def with_lock(d, k):
    with lock:
        d[k] = d.get(k, 0) + 1
    with lock, open("/dev/null") as f:
        f.read()
    return d


def tries(x):
    try:
        y = 1 / x
    except ZeroDivisionError as e:
        y = str(e)
    except (TypeError, ValueError):
        raise
    else:
        y += 1
    finally:
        x = None
    try:
        return y
    finally:
        pass


async def agen(it):
    async with it as v:
        async for w in v:
            yield w
    await it


def gen(n):
    yield from range(n)
    x = yield
    return x
'''

NESTED = '''
class Outer:
    attr = [i * i for i in range(10)]

    def method(self, data):
        def inner(v):
            def innermost():
                nonlocal v
                v += 1
                return v
            return innermost
        squares = {k: v ** 2 for k, v in data.items()
                   if v}
        uniq = {x for x in data}
        lazy = (y
                for y in data
                if y)
        return inner, squares, uniq, lazy, [lambda q=q: q for q in data]

    @property
    def prop(self):
        return (self.
                attr)


def closures(a):
    b = a
    def f():
        return a + b
    return f


assert Outer, (
    "message")
x = Outer().method({1: 2}) if __name__ == "__main__" else None
one_liner = lambda: 0
'''

MATCH_310 = '''
def matcher(cmd):
    match cmd:
        case {"op": "add", "args": [a, b]}:
            return a + b
        case [x, *rest] if x:
            return rest
        case Point(x=0,
                   y=y):
            return y
        case _:
            return None
'''

EXCEPT_STAR_311 = '''
def groups():
    try:
        raise ExceptionGroup("g", [ValueError(1)])
    except* ValueError as eg:
        r = eg
    except* TypeError:
        pass
    return r
'''

TYPE_PARAMS_312 = '''
type Alias[T] = list[T]


def generic[T](x: T) -> T:
    return x


class Box[T]:
    def get(self) -> T:
        return self.v
'''


def samples():
    out = [
        ("gap100", gap_source(100)),
        ("gap200", gap_source(200)),
        ("gap300", gap_source(300)),
        ("longline", long_line_source()),
        ("negative", NEGATIVE),
        ("nolines", NO_LINES),
        ("nested", NESTED),
        # A function starting far down a file: big co_firstlineno, big module-level deltas.
        ("farline", "NEAR = 1\n" + "\n" * 70000 + "def far(a):\n    return max(a,\n" + "\n" * 40000
         + "            a)\n\n\n\nFAR = far(1)\nNEAR = 2\n"),
    ]
    if sys.version_info >= (3, 10):
        out.append(("match", MATCH_310))
    if sys.version_info >= (3, 11):
        out.append(("exceptstar", EXCEPT_STAR_311))
    if sys.version_info >= (3, 12):
        out.append(("typeparams", TYPE_PARAMS_312))
    return out


def table_format():
    if sys.version_info >= (3, 11):
        return "locations"
    if sys.version_info >= (3, 10):
        return "310"
    return "lnotab"


def raw_table(code):
    if sys.version_info >= (3, 10):
        return code.co_linetable
    return code.co_lnotab


def expected_lines(code):
    """The line CPython gives each code unit of co_code, -1 for none."""
    n = len(code.co_code)
    lines = [-1] * (n // 2)
    if sys.version_info >= (3, 10):
        for start, end, line in code.co_lines():
            for off in range(start, min(end, n), 2):
                lines[off // 2] = -1 if line is None else line
        return lines
    # findlinestarts yields (offset, line) where a new line starts; the line in effect at an
    # offset is that of the last start at or before it.
    starts = list(dis.findlinestarts(code))
    offsets = [o for o, _ in starts]
    for off in range(0, n, 2):
        k = bisect.bisect_right(offsets, off) - 1
        lines[off // 2] = starts[k][1] if k >= 0 else -1
    return lines


def walk(code, path):
    # 3.12 names such as "<generic parameters of Box>" contain spaces.
    path += "/" + "_".join(code.co_name.split())
    yield path, code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            for item in walk(const, path):
                yield item


def main():
    fmt = table_format()
    w = sys.stdout.write
    w("# lockprof line-table fixture, written by tests/unit/gen_linetable_fixture.py; format\n")
    w("# documented there. Regenerate rather than edit.\n")
    w("python %d.%d.%d\n" % sys.version_info[:3])
    for name, src in samples():
        top = compile(src, "<%s>" % name, "exec")
        for path, code in walk(top, name):
            table = raw_table(code)
            w("code %s %s %d %d %s\n" % (path, fmt, code.co_firstlineno, len(code.co_code),
                                        table.hex() if table else "-"))
            for i, line in enumerate(expected_lines(code)):
                w("%d %d\n" % (i * 2, line))


if __name__ == "__main__":
    main()
