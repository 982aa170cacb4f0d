# SPDX-License-Identifier: GPL-2.0
"""Headless Chromium on lockprof's HTML report, Python stdlib only (the tests and make bench).

check_page() copies the report, appends a checking script after the page's own (so it runs
once the page has drawn itself), loads the copy from file:// in headless Chromium with no
network (a new network namespace when we may make one: the page must need none) and returns
what the script wrote into a <pre id="lp-check"> as JSON, read from --dump-dom. The checking
script gets the page's API as `lockprof` and must set `window.lpResult`; errors thrown by the
page or the script are collected in result["errors"].
"""

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

CHECK_WRAPPER = """
<script>
window.lpErrors = window.lpErrors || [];
(function () {
  var out = {};
  try {
    (function () { %s })();
    out = window.lpResult || {};
  } catch (e) {
    window.lpErrors.push('check: ' + e + (e.stack ? ' ' + e.stack : ''));
  }
  out.errors = window.lpErrors;
  out.rendered_ms = window.lpRenderedMs;
  var pre = document.createElement('pre');
  pre.id = 'lp-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""

# Before the page's own script: errors it throws, and when it finished drawing.
ERROR_HOOK = """<script>
window.lpErrors = [];
window.addEventListener('error', function (e) { window.lpErrors.push(String(e.message)); });
</script>
"""
RENDERED_HOOK = """<script>window.lpRenderedMs = performance.now();</script>"""

RESULT_RE = re.compile(r'<pre id="lp-check">(.*?)</pre>', re.S)


def chromium():
    """The Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _offline_prefix():
    """unshare -n when we may (root): the browser then has no network at all."""
    if os.geteuid() == 0 and shutil.which("unshare"):
        return ["unshare", "-n"]
    return []


def _run(args, timeout, size=(1280, 900)):
    cmd = _offline_prefix() + [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--window-size=%d,%d" % size,
    ] + args
    with tempfile.TemporaryDirectory(prefix="lp-chromium-") as profile:
        cmd.insert(len(_offline_prefix()) + 1, "--user-data-dir=" + profile)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def instrumented_copy(report, dest, check_js):
    """Writes report with the hooks and the checking script to dest."""
    with open(report, encoding="utf-8") as f:
        page = f.read()
    head = page.index("<script")
    end = page.rindex("</body>")
    page = page[:head] + ERROR_HOOK + page[head:end] + RENDERED_HOOK + (CHECK_WRAPPER % check_js) + page[end:]
    with open(dest, "w", encoding="utf-8") as f:
        f.write(page)


def check_page(report, check_js, workdir, timeout=60):
    """(result dict, wall seconds of the browser run). Raises RuntimeError when Chromium
    printed no result."""
    copy = os.path.join(workdir, os.path.basename(report) + ".check.html")
    instrumented_copy(report, copy, check_js)
    t0 = time.monotonic()
    proc = _run(["--virtual-time-budget=5000", "--dump-dom", "file://" + os.path.abspath(copy)], timeout)
    wall = time.monotonic() - t0
    m = RESULT_RE.search(proc.stdout)
    if not m:
        raise RuntimeError(
            "chromium printed no check result (exit %s)\nstderr:\n%s\nstdout:\n%s"
            % (proc.returncode, proc.stderr[-3000:], proc.stdout[-2000:])
        )
    return json.loads(html.unescape(m.group(1))), wall


def screenshot(page, png, width=1280, height=900, timeout=60, fragment=""):
    """Saves a screenshot of page (a file, with an optional #fragment) to png."""
    url = "file://" + os.path.abspath(page) + fragment
    proc = _run(["--hide-scrollbars", "--screenshot=" + png, url], timeout, (width, height))
    if not os.path.exists(png):
        raise RuntimeError("chromium wrote no screenshot (exit %s)\n%s" % (proc.returncode, proc.stderr[-3000:]))


_SGR_RE = re.compile(r"\x1b\[([0-9;]*)m")


def terminal_png(ansi_text, png, cols=200, rows=50):
    """A screenshot of a terminal screen: tmux capture-pane -e text (bold, dim and reverse
    video kept) drawn in a <pre> by Chromium."""
    out, attrs, pos = [], set(), 0
    for m in _SGR_RE.finditer(ansi_text + "\x1b[0m"):
        text = ansi_text[pos : m.start()]
        if text:
            cls = " ".join(sorted(attrs))
            out.append('<span class="%s">%s</span>' % (cls, html.escape(text)) if cls else html.escape(text))
        pos = m.end()
        for code in (m.group(1) or "0").split(";"):
            code = int(code or 0)
            if code == 0:
                attrs.clear()
            elif code in (1, 2, 7):
                attrs.add({1: "b", 2: "d", 7: "r"}[code])
            elif code in (22, 27):
                attrs.difference_update({22: ("b", "d"), 27: ("r",)}[code])
    page = (
        "<!DOCTYPE html><meta charset=utf-8><style>body{margin:0;background:#1e1e1e}"
        "pre{margin:0;padding:8px;color:#d8d8d8;font:13px/16px monospace;white-space:pre}"
        ".b{font-weight:bold;color:#fff}.d{color:#8a8a8a}.r{background:#d8d8d8;color:#1e1e1e}</style>"
        "<pre>%s</pre>" % "".join(out)
    )
    src = png + ".html"
    with open(src, "w", encoding="utf-8") as f:
        f.write(page)
    screenshot(src, png, int(cols * 7.85) + 16, rows * 16 + 16)
    os.unlink(src)
