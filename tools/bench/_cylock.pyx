# cython: language_level=3
# SPDX-License-Identifier: GPL-2.0
"""In-process lock profiler reference, Cython: the design the seed document recommends.

Same behaviour as refwrap.ProfiledLock (wrap every lock, sample 1 % of acquires with a
counter, time sampled acquires and their releases, record thread and Python stack), with
the hot path the seed describes ("Cython (optimized)", ../../shared/seed/): a ``cdef class``
proxy whose state is C fields, a ``cdef`` sampler with an inline ``should_capture``, the
clock read with clock_gettime, and the wrapped lock's bound methods looked up once. An
acquire that is not sampled costs one C-level counter update and one call of the wrapped
method; a release that follows one costs a C field test.

bench.py builds it with Debian's cython3 (0.29) for the interpreter under test.
"""

from libc.stdint cimport int64_t
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC

import sys
import threading

cdef int MAX_NFRAMES = 64


cdef inline int64_t monotonic_ns():
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <int64_t>ts.tv_sec * 1000000000 + ts.tv_nsec


cdef class FastCaptureSampler:
    """Counter-based sampler: should_capture() is true for capture_pct percent of the calls."""

    cdef double capture_pct
    cdef double _counter

    def __cinit__(self, double capture_pct):
        self.capture_pct = capture_pct
        self._counter = 0.0

    cdef inline bint should_capture(self):
        self._counter += self.capture_pct
        if self._counter >= 100.0:
            self._counter -= 100.0
            return True
        return False


cdef class ProfiledLock:
    cdef object _wrapped
    cdef object _inner_acquire
    cdef object _inner_release
    cdef object _inner_enter
    cdef object _inner_exit
    cdef str _init_loc
    cdef FastCaptureSampler _sampler
    cdef object _recorder
    cdef int64_t _acquired_at  # end of the sampled acquire that owns the lock now, else 0

    def __cinit__(self, wrapped, str init_loc, FastCaptureSampler sampler, recorder):
        self._wrapped = wrapped
        self._inner_acquire = wrapped.acquire
        self._inner_release = wrapped.release
        self._inner_enter = wrapped.__enter__
        self._inner_exit = wrapped.__exit__
        self._init_loc = init_loc
        self._sampler = sampler
        self._recorder = recorder
        self._acquired_at = 0

    def __getattr__(self, name):
        # Only reached for names the proxy does not define (locked, _is_owned, ...).
        return getattr(self._wrapped, name)

    cdef inline object _fast_acquire(self, inner_func, tuple args, dict kwargs):
        cdef int64_t start, end
        if not self._sampler.should_capture():
            return inner_func(*args, **kwargs) if kwargs else inner_func(*args)
        start = monotonic_ns()
        try:
            return inner_func(*args, **kwargs) if kwargs else inner_func(*args)
        finally:
            end = monotonic_ns()
            self._acquired_at = end
            self._flush_sample(start, end, True)

    cdef inline object _fast_release(self, inner_func, tuple args, dict kwargs):
        cdef int64_t start = self._acquired_at
        if start == 0:
            return inner_func(*args, **kwargs) if kwargs else inner_func(*args)
        self._acquired_at = 0
        try:
            return inner_func(*args, **kwargs) if kwargs else inner_func(*args)
        finally:
            self._flush_sample(start, monotonic_ns(), False)

    def acquire(self, *args, **kwargs):
        return self._fast_acquire(self._inner_acquire, args, kwargs)

    def release(self, *args, **kwargs):
        return self._fast_release(self._inner_release, args, kwargs)

    def __enter__(self):
        return self._fast_acquire(self._inner_enter, (), None)

    def __exit__(self, exc_type, exc, tb):
        self._fast_release(self._inner_exit, (exc_type, exc, tb), None)

    cdef _flush_sample(self, int64_t start, int64_t end, bint is_acquire):
        # Cold path (1 % of acquires). Cython functions have no Python frame, so frame 0
        # is the code that called acquire/release/__enter__/__exit__.
        thread = threading.current_thread()
        frames = []
        frame = sys._getframe(0)
        while frame is not None and len(frames) < MAX_NFRAMES:
            code = frame.f_code
            frames.append((code.co_filename, frame.f_lineno, code.co_name))
            frame = frame.f_back
        self._recorder.push(
            ("acquire" if is_acquire else "release", self._init_loc, thread.ident, thread.name, end - start, frames)
        )
