/* SPDX-License-Identifier: GPL-2.0 */
/* Every global variable of the BPF object, defined here and nowhere else: the settings user space
 * writes before load (.rodata, skel->rodata) and the counters and switches it shares with the
 * programs at run time (.bss, skel->bss). The object is one translation unit (lockprof.bpf.c), so
 * the helper headers include this file rather than declaring what they use. Names are the
 * skeleton's member names: src/ uses them. */
#ifndef LOCKPROF_GLOBALS_BPF_H
#define LOCKPROF_GLOBALS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lockprof/abi.h"

/* .rodata: const volatile, so the verifier sees the values user space set before load. */
const volatile __u64 targ_min_wait_ns = 0;   /* --min-wait: shorter waits are only counted */
const volatile struct lp_py_offsets py = {}; /* CPython offsets of the thread and frame walks */
const volatile struct lp_gil_config gil_cfg = {};   /* -m gil: interpreter text, gap, GIL key */
const volatile struct lp_full_config full_cfg = {}; /* -m full: interpreter text, capture rate */
const volatile __u32 targ_tgid = 0; /* the target's tgid, in its pid namespace when ino is set */
const volatile __u64 targ_pidns_dev = 0; /* the target's pid namespace: device, with ino */
const volatile __u64 targ_pidns_ino = 0; /* the target's pid namespace: inode; 0: the host's ids */
const volatile __u32 targ_creation_sites = 0; /* lock creation probed: lock_created is filled */
/* Where a Lock object's PyMutex is: sizeof(PyObject), 32 on free-threaded builds. */
const volatile __u32 targ_lock_mutex_off = 16;
/* Free-threaded: PyObject.ob_mutex and ob_type, PyTypeObject.tp_name (object contention). */
const volatile __u32 targ_object_mutex = 10;
const volatile __u32 targ_object_type = 24;
const volatile __u32 targ_type_name = 40;

/* .bss: zeroed at load, then read (and for full_on/full_epoch written) by user space. */
struct lp_counters counters = {}; /* loss and error counters, printed by the report */
__u32 full_on = 0;    /* -m full: 1 while the duty-cycled full-mode probes are attached */
__u32 full_epoch = 0; /* -m full: grows at each attach; holds of older epochs are dropped */
/* The stack budget (src/probes/budget.c): a wait shorter than this gets its stack captured with
 * probability wait / stack_sample_ns, a longer one always; 0: every stack (< 2^32). */
__u64 stack_sample_ns = 0;
/* The contention probes' duty cycle: grows at each re-attach, so that a wait whose return was
 * missed while they were detached is not measured from its stale entry. */
__u32 timing_epoch = 0;
/* Free-threaded: stop-the-world pauses in progress. A thread paused by one parks until it ends,
 * which is the pause, not a lock wait (and no lock wait begins while the others are paused). */
__s64 stw_active = 0;

/* license section: GPL, which the helpers the programs call (bpf_probe_read_user...) require. */
char LICENSE[] SEC("license") = "GPL";

#endif
