// SPDX-License-Identifier: GPL-2.0
/* lockprof's BPF programs: thin uprobe handlers; the logic lives in the *.bpf.h helpers. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "lockprof/abi.h"

#define EEXIST 17

const volatile __u32 targ_tgid = 0;
const volatile __u64 targ_min_wait_ns = 0; /* --min-wait: shorter waits are only counted */
const volatile struct lp_py_offsets py = {};

#include "counters.bpf.h"
#include "pyframes.bpf.h"
#include "lockstats.bpf.h"

/* Entry of glibc sem_wait/sem_clockwait/sem_timedwait. 3.8-3.13 Lock and RLock block here only
 * after the non-blocking try failed, so an uncontended acquire never gets here. */
SEC("uprobe")
int BPF_KPROBE(sem_wait_enter, void *sem)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, value;
	struct lp_inflight *outer;

	if (pid_tgid >> 32 != targ_tgid)
		return 0;
	count_event(&counters.probe_hits);
	/* Inside _PySemaphore_Wait: that outer wait already measures it, against the lock. */
	outer = bpf_map_lookup_elem(&inflight, &tid);
	if (outer && outer->source == LP_WAIT_PARK)
		return 0;
	/* glibc's sem_t starts with the 32-bit count: a positive count means the call takes the
	 * semaphore without blocking (C-internal callers skip the try-first step). */
	if (bpf_probe_read_user(&value, sizeof(value), sem) < 0) {
		count_event(&counters.read_errors);
		return 0;
	}
	if (value > 0)
		return 0;
	begin_wait(tid, (__u64)sem, LP_WAIT_SEM);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(sem_wait_exit, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (pid_tgid >> 32 != targ_tgid)
		return 0;
	count_event(&counters.probe_hits);
	end_wait((__u32)pid_tgid, LP_WAIT_SEM, (int)ret == 0);
	return 0;
}

/* Entry of CPython 3.13+ _PySemaphore_Wait(sema, timeout, detach): a thread parks on a PyMutex (or
 * an event) it failed to take. sema is in the parker's stack-allocated wait_entry, right after
 * the parked-on address: lock = *(sema - 8). */
SEC("uprobe")
int BPF_KPROBE(park_wait_enter, void *sema)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 lock;

	if (pid_tgid >> 32 != targ_tgid)
		return 0;
	count_event(&counters.probe_hits);
	if (read_user_u64((__u64)sema - 8, &lock))
		return 0;
	begin_wait((__u32)pid_tgid, lock, LP_WAIT_PARK);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(park_wait_exit, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (pid_tgid >> 32 != targ_tgid)
		return 0;
	count_event(&counters.probe_hits);
	/* Py_PARK_OK is 0; TIMEOUT and INTR are negative. */
	end_wait((__u32)pid_tgid, LP_WAIT_PARK, (int)ret == 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
