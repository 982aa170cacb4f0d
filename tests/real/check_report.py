#!/usr/bin/env python3
"""Invariants of a lockprof JSON report taken on real code.

    python3 tests/real/check_report.py REPORT.json --python PATH [--root ROOT]

PATH is the interpreter the report was taken on: its sources are parsed with
its own ``ast`` (so newer syntax parses), and ``<frozen NAME>`` files map to
its standard library.  ROOT, for an interpreter inside a Debian root
(tools/make-rootfs.sh), makes the parsing run under ``chroot ROOT PATH``, where
the report's file names are valid.

Four checks, each printing the figures it found:

1. signal waits: no ``contention`` entry has a waiter stack whose leaf frame,
   in threading.py, waits for a signal or a join: ``Condition.wait`` (where
   ``wait_for``, ``Event.wait``, ``Semaphore.acquire``, ``Barrier.wait`` and
   queue.py's get/put/join block), ``Event.wait``, ``Thread.join`` (3.13+: a C
   call on that line) or ``Thread._wait_for_tstate_lock`` (3.8-3.12's join).
   One line is left out: Condition.wait's ``_acquire_restore`` takes the
   condition's own lock back, a wait for a lock its holder will release, so
   contention by right (its figures are given apart).  On 3.8-3.10 the report
   names functions without their class; the class is taken from the source.
   Figures: entries, stacks, waits, seconds.
2. stale frames: every frame's (file, line, function) is checked against the
   source: the line exists, holds code (not blank, not only a comment), and
   lies inside a def/class/lambda/comprehension of that name (the qualified
   name ``Class.method``, ``f.<locals>.g``, or the bare name), outside the body
   of any def or class nested in it; ``<module>`` lines lie outside every
   def/class body.  A frame whose file does not exist or has line 0 is stale
   too.  ``<unknown>`` frames are left to check 4; frames of code with no
   source file (``<string>``, ``<stdin>``) are counted apart, not checked.
3. lock names: a name is a Python expression path (a Name with ``.attr`` and
   ``[subscript]`` parts, parsed with ast), ``native lock in PATH``, one of the
   report's fixed labels (``GIL`` for the GIL entry, ``interpreter-internal
   wait`` for an idle entry, ``""`` for unknown), or for an idle/resource
   entry a signal-wait label ``SITE: WAIT`` of two function names.
4. unknown frames: frames named ``<unknown>`` in the stacks, and the report's
   ``lost.unknown_frames`` counter, each at most UNKNOWN_MAX_PCT (1%) of all
   frames in the stacks.

Exit status: 0 every check passed, 1 a check failed, 2 the report or the
interpreter could not be used.
"""

import argparse
import ast
import json
import os
import re
import subprocess
import sys

UNKNOWN_MAX_PCT = 1.0
UNKNOWN = "<unknown>"
EXAMPLES = 8

# Leaf functions of threading.py that wait for a signal or a join (qualified names).
SIGNAL_WAITS = {
    "Condition.wait": "Condition wait",
    "Event.wait": "Event wait",
    "Thread.join": "join",
    "Thread._wait_for_tstate_lock": "join",
}

FIXED_LABELS = {"GIL": ("gil",), "interpreter-internal wait": ("idle",), "": None}
NATIVE_PREFIX = "native lock in "
SIGNAL_CATEGORIES = ("idle", "resource")
# One part of a qualified function name: an identifier or <locals>, <lambda>, <module>, <genexpr>...
QUALNAME_RE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|<[a-z_ ]+>)(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|<[a-z_ ]+>))*$")

# Run under the report's interpreter (3.8+): its own ast parses its sources. Reads a JSON
# list of file names on stdin, writes {file: {"path", "nlines", "blank", "scopes"} or
# {"error"}} on stdout. A scope is [kind, qualname, name, start, end, body_start, header].
EXTRACTOR = r"""
import ast, json, os, sys, sysconfig

def resolve(name):
    if name.startswith("<frozen ") and name.endswith(">"):
        mod = name[len("<frozen "):-1]
        base = os.path.join(sysconfig.get_paths()["stdlib"], *mod.split("."))
        for cand in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(cand):
                return cand
        return None
    return name if os.path.isabs(name) else None

def pseudo(name):
    # <string> (exec, -c), <stdin>, <doctest ...>: code with no source file to check
    return name.startswith("<") and name.endswith(">") and not name.startswith("<frozen ")

COMPS = {"ListComp": "<listcomp>", "SetComp": "<setcomp>", "DictComp": "<dictcomp>",
         "GeneratorExp": "<genexpr>"}

def walk(node, prefix, out):
    for child in ast.iter_child_nodes(node):
        kind = type(child).__name__
        if kind in ("FunctionDef", "AsyncFunctionDef", "ClassDef"):
            q = prefix + child.name
            start = min([d.lineno for d in child.decorator_list] + [child.lineno])
            out.append(["class" if kind == "ClassDef" else "def", q, child.name, start,
                        child.end_lineno, child.body[0].lineno, child.lineno])
            walk(child, q + (".<locals>." if kind != "ClassDef" else "."), out)
        elif kind == "Lambda":
            q = prefix + "<lambda>"
            out.append(["lambda", q, "<lambda>", child.lineno, child.end_lineno, None, child.lineno])
            walk(child, q + ".<locals>.", out)
        elif kind in COMPS:
            q = prefix + COMPS[kind]
            out.append(["comp", q, COMPS[kind], child.lineno, child.end_lineno, None, child.lineno])
            walk(child, q + ".", out)
        else:
            walk(child, prefix, out)

result = {}
for name in json.load(sys.stdin):
    if pseudo(name):
        result[name] = {"pseudo": True}
        continue
    path = resolve(name)
    if path is None:
        result[name] = {"error": "no source file (%s)" % ("not an absolute path" if not name.startswith("<") else "no such frozen module")}
        continue
    try:
        with open(path, "rb") as f:
            data = f.read()
        tree = ast.parse(data, path)
    except (OSError, SyntaxError, ValueError) as e:
        result[name] = {"error": "%s: %s" % (type(e).__name__, e)}
        continue
    lines = data.decode("utf-8", "replace").splitlines()
    blank = [i + 1 for i, l in enumerate(lines) if not l.strip() or l.strip().startswith("#")]
    scopes = []
    walk(tree, "", scopes)
    result[name] = {"path": path, "nlines": len(lines), "blank": blank, "scopes": scopes}
    if os.path.basename(path) == "threading.py":  # check 1 reads its waiting lines
        result[name]["lines"] = lines
json.dump(result, sys.stdout)
"""


class CheckError(Exception):
    """The report or the interpreter cannot be used (exit 2)."""


# --------------------------------------------------------------------------
# Sources


def load_sources(files, python=None, root=None, timeout=300):
    """{file name as in the report: its scopes} parsed by the report's interpreter."""
    python = python or sys.executable
    argv = [python, "-I", "-c", EXTRACTOR]
    if root:
        argv = ["chroot", root] + argv
    try:
        cp = subprocess.run(
            argv,
            input=json.dumps(sorted(files)).encode(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=timeout,
        )
    except (OSError, subprocess.SubprocessError) as e:
        raise CheckError("cannot run %s: %s" % (" ".join(argv[:-2]), e))
    if cp.returncode != 0:
        raise CheckError(
            "%s failed to parse the sources (exit %d): %s"
            % (" ".join(argv[:-2]), cp.returncode, cp.stderr.decode(errors="replace")[-2000:])
        )
    out = json.loads(cp.stdout.decode())
    return {name: Source(info) for name, info in out.items()}


class Source:
    """One source file's scopes, to say which functions a line can belong to."""

    def __init__(self, info):
        self.error = info.get("error")
        self.pseudo = info.get("pseudo", False)
        self.path = info.get("path")
        self.nlines = info.get("nlines", 0)
        self.blank = set(info.get("blank", ()))
        self.scopes = [tuple(s) for s in info.get("scopes", ())]
        self.lines = info.get("lines")
        self._defs = [s for s in self.scopes if s[0] in ("def", "class")]

    def _owned_by_nested(self, line, outer):
        """True when line is in the body of a def/class nested in outer (None: the module)."""
        for s in self._defs:
            if s is outer:
                continue
            if outer is not None and not (outer[3] <= s[3] and s[4] <= outer[4]):
                continue
            if s[5] <= line <= s[4] and line != s[6]:
                return True
        return False

    @staticmethod
    def _names(scope):
        kind, qual, name = scope[:3]
        names = {qual, name}
        # 3.12+ inlines list/set/dict comprehensions: what they hold is named without them.
        for comp in ("<listcomp>.", "<setcomp>.", "<dictcomp>."):
            qual = qual.replace(comp, "")
        names.add(qual)
        return names

    def scopes_named(self, function, line):
        """Scopes called function (qualified or bare name) whose own code holds line."""
        found = []
        bare = "." not in function
        for s in self.scopes:
            if not (s[3] <= line <= s[4]):
                continue
            if function not in self._names(s) or (bare and function != s[2]):
                continue
            if s[0] in ("def", "class") and self._owned_by_nested(line, s):
                continue
            found.append(s)
        return found

    def why_stale(self, function, line):
        """None when (function, line) is consistent with the source, else the reason."""
        if self.error:
            return self.error
        if not isinstance(line, int) or line < 1:
            return "no line (%r)" % (line,)
        if line > self.nlines:
            return "line %d past the end of the file (%d lines)" % (line, self.nlines)
        if line in self.blank:
            return "line %d is blank or a comment" % line
        if function == "<module>":
            return "line %d is inside a def/class body" % line if self._owned_by_nested(line, None) else None
        if self.scopes_named(function, line):
            return None
        return "line %d is not in the code of %s" % (line, function)

    def text(self, line):
        """The source line (only kept for threading.py), or None."""
        if self.lines and isinstance(line, int) and 1 <= line <= len(self.lines):
            return self.lines[line - 1].strip()
        return None

    def qualname(self, function, line):
        """The qualified name of function at line (the report may give the bare name)."""
        if "." in function:
            return function
        found = self.scopes_named(function, line)
        # the innermost: the latest start
        found.sort(key=lambda s: (s[3], -s[4]))
        return found[-1][1] if found else function


# --------------------------------------------------------------------------
# Report walking


def read_reports(path):
    """The JSON objects of a report file (one, or one per interval with -i)."""
    with open(path) as f:
        text = f.read()
    dec, pos, out = json.JSONDecoder(), 0, []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        obj, pos = dec.raw_decode(text, pos)
        out.append(obj)
    if not out:
        raise CheckError("%s holds no JSON object" % path)
    return out


def iter_stacks(report):
    for lock in report.get("locks") or []:
        for stack in lock.get("stacks") or []:
            yield lock, stack


def is_unknown(frame):
    return frame.get("function") == UNKNOWN or frame.get("file") == UNKNOWN


def frame_key(frame):
    return (frame.get("file"), frame.get("line"), frame.get("function"))


def fmt_frame(key):
    file, line, function = key
    return "%s:%s in %s" % (file, line, function)


def fmt_s(ns):
    return "%.3f s" % (ns / 1e9)


# --------------------------------------------------------------------------
# The checks: each returns {"name", "passed", "summary", "figures", "examples"}


def result(name, passed, summary, figures, examples=()):
    return {"name": name, "passed": passed, "summary": summary, "figures": figures, "examples": list(examples)}


def check_signal_waits(report, sources):
    entries, waits, wait_ns, stacks, contention = {}, 0, 0, 0, 0
    by_kind, reacquire = {}, [0, 0, 0]
    for lock in report.get("locks") or []:
        if lock.get("category") == "contention":
            contention += 1
    for lock, stack in iter_stacks(report):
        if lock.get("category") != "contention" or stack.get("role") != "waiter":
            continue
        frames = stack.get("frames") or []
        if not frames or is_unknown(frames[0]):
            continue
        leaf = frames[0]
        if os.path.basename(str(leaf.get("file"))) != "threading.py":
            continue
        src = sources.get(leaf.get("file"))
        qual = src.qualname(leaf.get("function", ""), leaf.get("line")) if src and not src.error else leaf.get("function")
        kind = SIGNAL_WAITS.get(qual)
        if kind is None:
            continue
        text = src.text(leaf.get("line")) if src else None
        if qual == "Condition.wait" and text and "_acquire_restore(" in text:
            # Taking the condition's lock back after the signal (an RLock's C _acquire_restore):
            # a wait for a lock its holder will release, contention by right.
            reacquire[0] += 1
            reacquire[1] += stack.get("count", 0)
            reacquire[2] += stack.get("wait_ns", 0)
            continue
        stacks += 1
        waits += stack.get("count", 0)
        wait_ns += stack.get("wait_ns", 0)
        by_kind[kind] = by_kind.get(kind, 0) + stack.get("count", 0)
        e = entries.setdefault(lock.get("id"), {"lock": lock, "stacks": 0, "waits": 0, "wait_ns": 0, "top": None})
        e["stacks"] += 1
        e["waits"] += stack.get("count", 0)
        e["wait_ns"] += stack.get("wait_ns", 0)
        if e["top"] is None or stack.get("wait_ns", 0) > e["top"][0]:
            e["top"] = (stack.get("wait_ns", 0), qual, frames)
    examples = []
    for e in sorted(entries.values(), key=lambda e: -e["wait_ns"])[:EXAMPLES]:
        lock, (_, qual, frames) = e["lock"], e["top"]
        examples.append(
            "%r %s: %d of its %d waits (%s of %s) in %d stacks, e.g. %s:%s <- %s"
            % (lock.get("name"), lock.get("id"), e["waits"], lock.get("waits", 0), fmt_s(e["wait_ns"]),
               fmt_s(lock.get("wait_ns", 0)), e["stacks"], qual, frames[0].get("line"),
               " <- ".join("%s:%s %s" % (os.path.basename(str(f.get("file"))), f.get("line"), f.get("function"))
                           for f in frames[1:4])))
    figures = {"entries": len(entries), "contention_entries": contention, "stacks": stacks, "waits": waits,
               "wait_ns": wait_ns, "by_kind": by_kind, "reacquire_stacks": reacquire[0],
               "reacquire_waits": reacquire[1], "reacquire_ns": reacquire[2]}
    summary = "%d of %d contention entries hold Condition/Event/join waits: %d stacks, %d waits, %s%s" % (
        len(entries), contention, stacks, waits, fmt_s(wait_ns),
        (" (" + ", ".join("%s %d" % kv for kv in sorted(by_kind.items())) + ")") if by_kind else "")
    if reacquire[1]:
        summary += "; not counted: %d waits (%s) re-taking the condition's lock in Condition.wait" % (
            reacquire[1], fmt_s(reacquire[2]))
    return result("signal waits not contention", not entries, summary, figures, examples)


def check_stale_frames(report, sources):
    total, stale, checked, pseudo = 0, 0, 0, 0
    uniq, stale_uniq = {}, {}
    for lock, stack in iter_stacks(report):
        for frame in stack.get("frames") or []:
            total += 1
            if is_unknown(frame):
                continue
            src = sources.get(frame.get("file"))
            if src is not None and src.pseudo:
                pseudo += 1
                continue
            checked += 1
            key = frame_key(frame)
            if key not in uniq:
                src = sources.get(frame.get("file"))
                uniq[key] = src.why_stale(frame.get("function", ""), frame.get("line")) if src else "no source"
            if uniq[key]:
                stale += 1
                stale_uniq[key] = stale_uniq.get(key, 0) + 1
    sites_stale = []
    for lock in report.get("locks") or []:
        for what in ("site", "created_at"):
            f = lock.get(what)
            if f and not is_unknown(f):
                src = sources.get(f.get("file"))
                if src is not None and src.pseudo:
                    continue
                why = src.why_stale(f.get("function", ""), f.get("line")) if src else "no source"
                if why:
                    sites_stale.append("%s of %r: %s: %s" % (what, lock.get("name"), fmt_frame(frame_key(f)), why))
    examples = ["%s (%dx): %s" % (fmt_frame(k), n, uniq[k])
                for k, n in sorted(stale_uniq.items(), key=lambda kv: -kv[1])[:EXAMPLES]]
    examples += sites_stale[:EXAMPLES]
    figures = {"frames": total, "checked": checked, "unique": len(uniq), "stale": stale,
               "stale_unique": len(stale_uniq), "stale_sites": len(sites_stale), "no_source_file": pseudo}
    summary = "%d stale of %d frames checked (%d of %d distinct), %d stale site/created_at%s" % (
        stale, checked, len(stale_uniq), len(uniq), len(sites_stale),
        "; %d frames in <string>-like code not checked" % pseudo if pseudo else "")
    return result("no stale frames", not stale and not sites_stale, summary, figures, examples)


def is_expression_path(text):
    """A Name with .attr and [subscript] parts: self._lock, self._locks[key], _active_limbo_lock."""
    if not text or text != text.strip():
        return False
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError):
        return False
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return isinstance(node, ast.Name)


def is_qualname(text):
    return bool(QUALNAME_RE.match(text))


def name_violation(lock):
    """None when the lock's name follows the rule, else why not."""
    name, category = lock.get("name"), lock.get("category")
    if not isinstance(name, str):
        return "not a string"
    if name in FIXED_LABELS:
        cats = FIXED_LABELS[name]
        if cats is None or category in cats:
            return None
        return "label %r on a %s entry" % (name, category)
    if category == "gil":
        return "the GIL entry is not named GIL"
    if name.startswith(NATIVE_PREFIX):
        call = name[len(NATIVE_PREFIX):]
        return None if is_expression_path(call) else "native lock in a call that is not an expression path"
    if is_expression_path(name):
        return None
    if category in SIGNAL_CATEGORIES:
        parts = name.split(": ")
        if len(parts) <= 2 and all(is_qualname(p) for p in parts):
            return None
        return "not a signal-wait label (SITE: WAIT) nor an expression path"
    return "not an expression path"


def check_lock_names(report):
    names, bad, kinds = 0, [], {}
    for lock in report.get("locks") or []:
        names += 1
        why = name_violation(lock)
        name = lock.get("name")
        kind = ("fixed" if name in FIXED_LABELS else "native" if str(name).startswith(NATIVE_PREFIX)
                else "path" if is_expression_path(name) else "label")
        kinds[kind] = kinds.get(kind, 0) + 1
        if why:
            bad.append((lock, why))
    unnamed = sum(1 for lock in report.get("locks") or [] if lock.get("name") == "")
    examples = ["%r (%s, %d waits, site %s): %s"
                % (l.get("name"), l.get("category"), l.get("waits", 0),
                   fmt_frame(frame_key(l["site"])) if l.get("site") else "-", why) for l, why in bad[:EXAMPLES]]
    figures = {"names": names, "violations": len(bad), "unnamed": unnamed, "kinds": kinds}
    summary = "%d of %d lock names break the rule (%s; %d unnamed)" % (
        len(bad), names, ", ".join("%s %d" % kv for kv in sorted(kinds.items())), unnamed)
    return result("lock names", not bad, summary, figures, examples)


def check_unknown_frames(report, max_pct=UNKNOWN_MAX_PCT):
    total = unknown = 0
    where = {}
    for lock, stack in iter_stacks(report):
        for i, frame in enumerate(stack.get("frames") or []):
            total += 1
            if is_unknown(frame):
                unknown += 1
                where[lock.get("name")] = where.get(lock.get("name"), 0) + 1
    counter = (report.get("lost") or {}).get("unknown_frames", 0) or 0
    pct = 100.0 * unknown / total if total else 0.0
    counter_pct = 100.0 * counter / total if total else (100.0 if counter else 0.0)
    passed = pct <= max_pct and counter_pct <= max_pct
    lost = report.get("lost") or {}
    figures = {"frames": total, "unknown": unknown, "pct": pct, "lost_unknown_frames": counter,
               "lost_pct": counter_pct, "max_pct": max_pct,
               "threads_not_found": lost.get("threads_not_found"), "reads": lost.get("reads"),
               "stacks_truncated": lost.get("stacks_truncated")}
    summary = "%d <unknown> of %d frames (%.2f%%), lost.unknown_frames %d (%.2f%%), threshold %.1f%%" % (
        unknown, total, pct, counter, counter_pct, max_pct)
    examples = ["%d in %r" % (n, name) for name, n in sorted(where.items(), key=lambda kv: -kv[1])[:EXAMPLES]]
    return result("unknown frames", passed, summary, figures, examples)


def check(report, python=None, root=None, max_unknown_pct=UNKNOWN_MAX_PCT):
    """Run the four checks on one report object; returns (figures, [check results])."""
    files = set()
    for lock, stack in iter_stacks(report):
        for f in stack.get("frames") or []:
            if not is_unknown(f) and isinstance(f.get("file"), str):
                files.add(f["file"])
    for lock in report.get("locks") or []:
        for what in ("site", "created_at"):
            if lock.get(what) and isinstance(lock[what].get("file"), str):
                files.add(lock[what]["file"])
    sources = load_sources(files, python, root) if files else {}
    stacks = list(iter_stacks(report))
    roles = {}
    for _, s in stacks:
        roles[s.get("role")] = roles.get(s.get("role"), 0) + 1
    cats = {}
    for lock in report.get("locks") or []:
        cats[lock.get("category")] = cats.get(lock.get("category"), 0) + 1
    target = report.get("target") or {}
    figures = {
        "python": target.get("python"),
        "pid": target.get("pid"),
        "duration_ns": report.get("duration_ns"),
        "locks": len(report.get("locks") or []),
        "categories": cats,
        "stacks": len(stacks),
        "roles": roles,
        "frames": sum(len(s.get("frames") or []) for _, s in stacks),
        "files": len(files),
        "waits": report.get("waits"),
        "wait_ns": report.get("wait_ns"),
    }
    checks = [
        check_signal_waits(report, sources),
        check_stale_frames(report, sources),
        check_lock_names(report),
        check_unknown_frames(report, max_unknown_pct),
    ]
    return figures, checks


def format_results(path, figures, checks):
    out = [
        "%s: CPython %s, pid %s, %.1f s; %d locks (%s); %d stacks (%s), %d frames in %d files"
        % (path, figures["python"], figures["pid"], (figures["duration_ns"] or 0) / 1e9, figures["locks"],
           ", ".join("%s %d" % kv for kv in sorted(figures["categories"].items())), figures["stacks"],
           ", ".join("%s %d" % kv for kv in sorted(figures["roles"].items())), figures["frames"],
           figures["files"])
    ]
    for i, c in enumerate(checks, 1):
        out.append("[%d] %-28s %s  %s" % (i, c["name"], "PASS" if c["passed"] else "FAIL", c["summary"]))
        for e in c["examples"]:
            out.append("      " + e)
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report", help="lockprof -f json output")
    ap.add_argument("--python", help="the profiled interpreter (default: this one)")
    ap.add_argument("--root", help="the root the interpreter ran in (chroot)")
    ap.add_argument("--max-unknown-pct", type=float, default=UNKNOWN_MAX_PCT)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    try:
        reports = read_reports(args.report)
        failed, outputs = False, []
        for n, report in enumerate(reports):
            figures, checks = check(report, args.python, args.root, args.max_unknown_pct)
            failed = failed or not all(c["passed"] for c in checks)
            name = args.report if len(reports) == 1 else "%s #%d" % (args.report, n + 1)
            outputs.append((name, figures, checks))
    except (OSError, ValueError, CheckError) as e:
        sys.stderr.write("check_report: %s\n" % e)
        return 2
    if args.json:
        json.dump([{"report": n, "figures": f, "checks": c} for n, f, c in outputs], sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print("\n\n".join(format_results(*o) for o in outputs))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
