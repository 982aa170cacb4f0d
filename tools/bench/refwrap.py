# SPDX-License-Identifier: GPL-2.0
"""In-process lock profiler reference, pure Python (runs on CPython 3.8+, stdlib only).

A stand-in for the design lockprof is compared with: dd-trace-py's lock collector as
../../shared/seed/native-code-options-for-lock-profiling.md describes it ("Current (Python)").
Every lock the program creates through ``threading.Lock()`` / ``threading.RLock()`` is
wrapped in a proxy; every acquire asks a counter-based capture sampler whether to sample
(1 % of acquires by default); a sampled acquire is timed, its release is timed too (hold
time), and each sampled event records the thread and the Python stack.

What it mimics, on purpose, because it is where the time goes:
- the proxy is a Python object: ``with lock`` runs two Python-level methods (``__enter__``,
  ``__exit__``), each calling a generic ``_acquire``/``_release`` with ``*args, **kwargs``;
- the sampler is an object with a ``capture()`` method (one more Python call per acquire);
- ``_release`` looks for ``_self_acquired_at`` with ``getattr`` and clears it with ``del``, which
  raises and catches AttributeError on every release that was not sampled.
What it leaves out: wrapt (not in the stdlib: the proxy here is a ``__slots__`` class with a
``__getattr__`` fallback) and the upload of samples (they are appended to a bounded list).
"""

import os
import sys
import threading
import time

MAX_NFRAMES = 64  # dd-trace-py's default max_nframes
MAX_SAMPLES = 100000  # bounded, like a profiler's recorder between two uploads


class CaptureSampler(object):
    """Counter-based sampler: capture() is true for capture_pct percent of the calls."""

    def __init__(self, capture_pct):
        self.capture_pct = capture_pct
        self._counter = 0

    def capture(self):
        self._counter += self.capture_pct
        if self._counter >= 100:
            self._counter -= 100
            return True
        return False


class Recorder(object):
    """Where sampled events go: a bounded list of (kind, lock, thread, ns, frames)."""

    def __init__(self):
        self.samples = []
        self.dropped = 0

    def push(self, sample):
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(sample)
        else:
            self.dropped += 1


def capture_frames(frame, max_nframes):
    """The stack from frame outwards as (file, line, function) tuples, leaf first."""
    frames = []
    while frame is not None and len(frames) < max_nframes:
        code = frame.f_code
        frames.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return frames


class ProfiledLock(object):
    __slots__ = (
        "__wrapped__",
        "_self_capture_sampler",
        "_self_recorder",
        "_self_max_nframes",
        "_self_init_loc",
        "_self_acquired_at",
    )

    def __init__(self, wrapped, init_loc, capture_sampler, recorder, max_nframes=MAX_NFRAMES):
        self.__wrapped__ = wrapped
        self._self_init_loc = init_loc
        self._self_capture_sampler = capture_sampler
        self._self_recorder = recorder
        self._self_max_nframes = max_nframes

    def __getattr__(self, name):
        # Only reached for names the proxy does not define (locked, _is_owned, ...).
        return getattr(self.__wrapped__, name)

    def _acquire(self, inner_func, *args, **kwargs):
        if not self._self_capture_sampler.capture():
            return inner_func(*args, **kwargs)
        start = time.monotonic_ns()
        try:
            return inner_func(*args, **kwargs)
        finally:
            end = self._self_acquired_at = time.monotonic_ns()
            self._flush_sample(start, end, True)

    def acquire(self, *args, **kwargs):
        return self._acquire(self.__wrapped__.acquire, *args, **kwargs)

    def __enter__(self, *args, **kwargs):
        return self._acquire(self.__wrapped__.__enter__, *args, **kwargs)

    def _release(self, inner_func, *args, **kwargs):
        start = getattr(self, "_self_acquired_at", None)
        try:
            del self._self_acquired_at
        except AttributeError:
            pass  # this acquire was not sampled
        try:
            return inner_func(*args, **kwargs)
        finally:
            if start is not None:
                self._flush_sample(start, time.monotonic_ns(), False)

    def release(self, *args, **kwargs):
        return self._release(self.__wrapped__.release, *args, **kwargs)

    def __exit__(self, *args, **kwargs):
        self._release(self.__wrapped__.__exit__, *args, **kwargs)

    acquire_lock = acquire
    release_lock = release

    def _flush_sample(self, start, end, is_acquire):
        thread = threading.current_thread()
        frames = capture_frames(sys._getframe(3), self._self_max_nframes)
        self._self_recorder.push(
            ("acquire" if is_acquire else "release", self._self_init_loc, thread.ident, thread.name, end - start, frames)
        )


def creation_site(frame):
    """'file.py:LINE' of a frame: how the profiler names a lock (where it was created)."""
    return "%s:%d" % (os.path.basename(frame.f_code.co_filename), frame.f_lineno)


def install(make_proxy):
    """Patch threading.Lock and threading.RLock: a new lock is make_proxy(lock, creation site).

    Locks created before the call (the interpreter's own) stay plain, as with a profiler
    that is loaded at start-up. Returns a function that undoes the patch.
    """
    orig_lock, orig_rlock = threading.Lock, threading.RLock

    def Lock(*args, **kwargs):
        return make_proxy(orig_lock(*args, **kwargs), creation_site(sys._getframe(1)))

    def RLock(*args, **kwargs):
        return make_proxy(orig_rlock(*args, **kwargs), creation_site(sys._getframe(1)))

    threading.Lock, threading.RLock = Lock, RLock

    def uninstall():
        threading.Lock, threading.RLock = orig_lock, orig_rlock

    return uninstall


def install_python(capture_pct):
    """Wrap every new lock in ProfiledLock with one shared CaptureSampler; return the recorder."""
    sampler, recorder = CaptureSampler(capture_pct), Recorder()
    install(lambda lock, site: ProfiledLock(lock, site, sampler, recorder))
    return recorder


def install_cython(capture_pct, build_dir):
    """Same as install_python with the Cython module _cylock built in build_dir."""
    sys.path.insert(0, build_dir)
    import _cylock  # noqa: E402 (built by bench.py for this interpreter)

    sampler, recorder = _cylock.FastCaptureSampler(capture_pct), Recorder()
    install(lambda lock, site: _cylock.ProfiledLock(lock, site, sampler, recorder))
    return recorder
